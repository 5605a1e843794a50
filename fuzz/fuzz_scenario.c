/* libFuzzer target: arbitrary bytes loaded as a scenario. Must never crash,
 * leak or read out of bounds; every rejection must carry a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/build.h"
#include "scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libfyaml 0.7.12 loses one 4 KiB buffer on some syntax errors inside flow
 * collections (allocated and lost inside libfyaml, every frame its own). Only
 * allocations made from within libfyaml are excused: a leak of ours has no
 * libfyaml frame in its allocation stack and is still reported. */
const char *__lsan_default_suppressions(void)
{
    return "leak:libfyaml.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scn_machine m;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    int rc = scn_load_string("fuzz.yaml", (const char *)data, size, &m, &err);
    if (rc) {
        if (err.code == 0 || err.msg[0] == '\0' || rc != -err.code)
            abort(); /* an error without a message */
        return 0;
    }
    /* What loaded must be self-consistent. */
    for (unsigned i = 0; i < m.nfuncs; i++) {
        const struct scn_func *f = &m.funcs[i];
        if (f->parent >= (int)i || f->dev > 31 || f->fn > 7 || f->ncaps > SCN_CAP_COUNT)
            abort();
        if (f->msi.vectors > 32)
            abort();
    }
    struct scn_machine again;
    if (scn_load_string("fuzz.yaml", (const char *)data, size, &again, &err) ||
        !scn_machine_equal(&m, &again))
        abort(); /* loading is deterministic */
    scn_free(&again);
    /* What loads must build (or be refused with a message), and enumerate. */
    struct pcilab_sim *sim = sim_create(m.seed);
    if (sim) {
        struct scn_system *sys = NULL;
        pcilab_err_clear(&err);
        rc = scn_build(&m, sim, &sys, &err);
        if (rc && (err.code == 0 || err.msg[0] == '\0'))
            abort();
        if (!rc && scn_enumerate(sys, NULL, &err) != 0 && err.msg[0] == '\0')
            abort();
        sim_destroy(sim);
    }
    scn_free(&m);
    return 0;
}
