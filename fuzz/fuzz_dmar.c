/* libFuzzer target: parse arbitrary bytes as an ACPI DMAR table; the round
 * trip of fuzz_table.h (parse, encode to the same bytes, parse again). */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_table.h"
#include "host/dmar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out1[1 << 17], out2[1 << 17];

static int parse(const uint8_t *bytes, size_t len, void **out, struct pcilab_err *err)
{
    struct host_dmar *t = NULL;
    int r = host_dmar_parse(bytes, len, &t, err);
    *out = t;
    return r;
}
static long encode(const void *t, uint8_t *buf, size_t cap, struct pcilab_err *err)
{
    return host_dmar_encode(t, buf, cap, err);
}
static void destroy(void *t) { host_dmar_destroy(t); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_table_ops ops = {parse, encode, destroy};
    long n;
    host_dmar_destroy(fuzz_table_round_trip(&ops, data, size, out1, out2, sizeof out1, &n));
    return 0;
}
