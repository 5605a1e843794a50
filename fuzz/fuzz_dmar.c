/* libFuzzer target: parse arbitrary bytes as an ACPI DMAR table. Parsing must
 * never crash; whenever it accepts, encoding the description must give back
 * the table's bytes exactly (up to its Length field), and parsing those again
 * must succeed and encode to the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dmar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out1[1 << 17], out2[1 << 17];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pcilab_err err = {0};
    struct host_dmar *t = NULL, *u = NULL;
    if (host_dmar_parse(data, size, &t, &err) != 0) {
        if (t || err.msg[0] == 0)
            abort(); /* a refusal says why and leaves nothing behind */
        return 0;
    }
    size_t tlen = (size_t)data[4] | (size_t)data[5] << 8 | (size_t)data[6] << 16 |
                  (size_t)data[7] << 24;
    long n1 = host_dmar_encode(t, out1, sizeof out1, &err);
    if (n1 < 0) {
        if (tlen <= sizeof out1) {
            fprintf(stderr, "encode refused a parsed table: %s\n", err.msg);
            abort();
        }
        host_dmar_destroy(t);
        return 0;
    }
    if ((size_t)n1 != tlen || memcmp(out1, data, tlen) != 0) {
        fprintf(stderr, "decode->encode changed the bytes (%zu -> %ld)\n", tlen, n1);
        abort();
    }
    if (host_dmar_parse(out1, (size_t)n1, &u, &err) != 0) {
        fprintf(stderr, "re-parse failed: %s\n", err.msg);
        abort();
    }
    long n2 = host_dmar_encode(u, out2, sizeof out2, &err);
    if (n2 != n1 || memcmp(out1, out2, (size_t)n1) != 0)
        abort();
    host_dmar_destroy(u);
    host_dmar_destroy(t);
    return 0;
}
