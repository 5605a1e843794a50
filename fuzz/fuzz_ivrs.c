/* libFuzzer target: parse arbitrary bytes as an ACPI IVRS table; the round
 * trip of fuzz_table.h (parse, encode to the same bytes, parse again), and
 * every Linux version's reading of it must run without crashing. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_table.h"
#include "host/ivrs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out1[1 << 17], out2[1 << 17];

static int parse(const uint8_t *bytes, size_t len, void **out, struct pcilab_err *err)
{
    struct host_ivrs *t = NULL;
    int r = host_ivrs_parse(bytes, len, &t, err);
    *out = t;
    return r;
}
static long encode(const void *t, uint8_t *buf, size_t cap, struct pcilab_err *err)
{
    return host_ivrs_encode(t, buf, cap, err);
}
static void destroy(void *t) { host_ivrs_destroy(t); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_table_ops ops = {parse, encode, destroy};
    static struct host_ivrs_linux *lx;
    struct pcilab_err err = {0};
    long n1;
    struct host_ivrs *u = fuzz_table_round_trip(&ops, data, size, out1, out2, sizeof out1, &n1);
    if (!u)
        return 0;
    if (!lx)
        lx = host_ivrs_linux_create();
    if (lx) {
        for (size_t k = 0; k < host_kver_count(); k++) {
            if (host_ivrs_linux_run(lx, out1, (size_t)n1, u, host_kver_at(k), &err) != 0)
                abort();
            if (lx->n_log > HOST_IVRS_MAX_LOG || lx->n_iommus > HOST_IVRS_MAX_IOMMUS)
                abort();
            uint8_t ids[2] = {4, 5};
            host_ivrs_linux_check_ioapics(lx, ids, 2);
        }
    }
    host_ivrs_destroy(u);
    return 0;
}
