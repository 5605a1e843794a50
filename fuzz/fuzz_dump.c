/* libFuzzer target for the pciutils dump reader (src/pcie/cfgdump.c): any input
 * either parses or fails with a positioned error; never a crash or a leak. A
 * successful parse must round-trip through the writer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcie/cfgdump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pcie_dump d;
    struct pcilab_err err;
    pcie_dump_init(&d);
    pcilab_err_clear(&err);
    int r = pcie_dump_parse(&d, (const char *)data, size, "fuzz", &err);
    if (r < 0) {
        /* an error always says where */
        if (err.code == 0 || err.msg[0] == '\0' || err.line == 0)
            abort();
    } else {
        if (d.count == 0)
            abort();
        for (size_t i = 0; i < d.count; i++) {
            const struct pcie_dump_func *f = &d.funcs[i];
            if (f->len > PCIE_CFG_SPACE_SIZE || f->present > f->len || f->dev > 31 || f->fn > 7)
                abort();
        }
        /* what we read, we can write and read back identically */
        struct pcie_dump_entry *e = calloc(d.count, sizeof *e);
        if (!e)
            abort();
        for (size_t i = 0; i < d.count; i++)
            e[i] = (struct pcie_dump_entry){.domain = d.funcs[i].domain, .bus = d.funcs[i].bus,
                                            .dev = d.funcs[i].dev, .fn = d.funcs[i].fn,
                                            .bytes = d.funcs[i].bytes,
                                            .len = PCIE_CFG_SPACE_SIZE};
        char *out;
        size_t len;
        if (pcie_dump_format(e, d.count, 4096, 0, &out, &len, &err) != 0)
            abort();
        struct pcie_dump back;
        pcie_dump_init(&back);
        if (pcie_dump_parse(&back, out, len, "again", &err) != 0 || back.count != d.count)
            abort();
        for (size_t i = 0; i < d.count; i++)
            if (memcmp(back.funcs[i].bytes, d.funcs[i].bytes, PCIE_CFG_SPACE_SIZE) != 0 ||
                back.funcs[i].domain != d.funcs[i].domain || back.funcs[i].bus != d.funcs[i].bus)
                abort();
        pcie_dump_free(&back);
        free(out);
        free(e);
    }
    pcie_dump_free(&d);
    return 0;
}
