/* The round trip the ACPI table fuzz targets check (fuzz_dmar.c,
 * fuzz_ivrs.c): parsing arbitrary bytes must never crash, a refusal says why
 * and leaves nothing behind; whenever it accepts, encoding the description
 * must give back the table's bytes exactly (up to its Length field, ACPI 6.4
 * 5.2.6 bytes 4..7), and parsing those again must succeed and encode to the
 * same bytes. Any breach aborts. */
#ifndef PCILAB_FUZZ_TABLE_H
#define PCILAB_FUZZ_TABLE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/err.h"

/* One table kind's functions, over its description as void *. */
struct fuzz_table_ops {
    int (*parse)(const uint8_t *bytes, size_t len, void **out, struct pcilab_err *err);
    long (*encode)(const void *t, uint8_t *buf, size_t cap, struct pcilab_err *err);
    void (*destroy)(void *t);
};

/* Checks the round trip of data into out1/out2 (cap bytes each). Returns the
 * re-parsed description of the bytes now in out1[0..*n) for more checks (the
 * caller destroys it), or NULL when there is nothing more to check. */
static inline void *fuzz_table_round_trip(const struct fuzz_table_ops *ops, const uint8_t *data,
                                          size_t size, uint8_t *out1, uint8_t *out2,
                                          size_t cap, long *n)
{
    struct pcilab_err err = {0};
    void *t = NULL, *u = NULL;
    if (ops->parse(data, size, &t, &err) != 0) {
        if (t || err.msg[0] == 0)
            abort(); /* a refusal says why and leaves nothing behind */
        return NULL;
    }
    size_t tlen = (size_t)data[4] | (size_t)data[5] << 8 | (size_t)data[6] << 16 |
                  (size_t)data[7] << 24;
    long n1 = ops->encode(t, out1, cap, &err);
    if (n1 < 0) {
        if (tlen <= cap) {
            fprintf(stderr, "encode refused a parsed table: %s\n", err.msg);
            abort();
        }
        ops->destroy(t);
        return NULL;
    }
    if ((size_t)n1 != tlen || memcmp(out1, data, tlen) != 0) {
        fprintf(stderr, "decode->encode changed the bytes (%zu -> %ld)\n", tlen, n1);
        abort();
    }
    if (ops->parse(out1, (size_t)n1, &u, &err) != 0) {
        fprintf(stderr, "re-parse failed: %s\n", err.msg);
        abort();
    }
    long n2 = ops->encode(u, out2, cap, &err);
    if (n2 != n1 || memcmp(out1, out2, (size_t)n1) != 0)
        abort();
    ops->destroy(t);
    *n = n1;
    return u;
}

#endif
