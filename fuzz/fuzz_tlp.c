/* libFuzzer target: decode arbitrary bytes as a TLP (with and without the
 * header-only allowance); whenever decode accepts, encode must reproduce the
 * input byte for byte, and the formatters must not crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcie/tlp.h"
#include "pcie/tlp_print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[4 * (4 + 1024 + 1)];
    struct pcie_tlp t;
    struct pcilab_err err;
    enum pcie_tlp_error kind;
    int rc = pcie_tlp_decode_ex(data, size, 0, &t, &kind, &err);
    if (rc == 0 || kind == PCIE_TLP_E_4DW_LOW_ADDR) {
        int n = pcie_tlp_encode(&t, out, sizeof out, &err);
        if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0) {
            fprintf(stderr, "round trip mismatch: decode %zu bytes, encode %d (%s)\n", size, n,
                    n < 0 ? err.msg : "bytes differ");
            abort();
        }
        if (pcie_tlp_wire_bytes(&t) != size)
            abort();
        /* a clean decode must pass the rule check on its own */
        if (rc == 0 && pcie_tlp_check(&t, NULL, NULL) != 0)
            abort();
    }
    /* header-only decode and the formatters */
    rc = pcie_tlp_decode_ex(data, size, PCIE_TLP_DECODE_HEADER_ONLY, &t, &kind, &err);
    if (t.kind != PCIE_TLP_UNKNOWN && kind != PCIE_TLP_E_TRUNCATED) {
        char line[512];
        static char dump[32768];
        pcie_tlp_summary(&t, line, sizeof line);
        size_t need = pcie_tlp_dump(&t, data, size, dump, sizeof dump);
        if (need < sizeof dump && strlen(dump) != need)
            abort();
        json_t *j = pcie_tlp_to_json(&t);
        json_decref(j);
    }
    return 0;
}
