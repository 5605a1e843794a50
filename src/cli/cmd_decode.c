/* pcilab decode: one TLP given as hex dwords or bytes, printed field by field
 * (PCI Express Base Specification 5.0 section beside each field), or as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "pcie/tlp.h"
#include "pcie/tlp_print.h"

/* Largest TLP: 4 DW header + 1024 DW data + ECRC. */
#define DECODE_MAX_BYTES (4 * (4 + 1024 + 1))

static void decode_usage(FILE *f)
{
    fprintf(f,
            "usage: pcilab decode [--json] [--mps BYTES] HEX...\n"
            "       pcilab decode [--json] [--mps BYTES] -      (read the hex from stdin)\n"
            "\n"
            "Decodes one PCIe TLP (PCI Express Base Specification 5.0, non-Flit mode) and\n"
            "prints every header field with its raw bits, its meaning and the spec section.\n"
            "\n"
            "HEX is the TLP as on the wire, either as dwords, most significant byte first,\n"
            "as analysers and ILA captures show them:\n"
            "    pcilab decode 40000020 000001ff ffbf8000\n"
            "or as bytes:\n"
            "    pcilab decode 40 00 00 20 00 00 01 ff ff bf 80 00\n"
            "0x prefixes, commas and newlines are accepted; do not mix dwords and bytes.\n"
            "A header without its payload is decoded and the payload reported absent.\n"
            "\n"
            "options:\n"
            "  --json         print the fields as a JSON object\n"
            "  --mps BYTES    also check the payload against this Max_Payload_Size\n"
            "  -h, --help     show this help\n"
            "\n"
            "exit status: 0 decoded (warnings allowed), 1 malformed TLP or bad hex, 2 usage\n");
}

static char *read_stream(FILE *f)
{
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t r;
    while ((r = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            if (cap > (1u << 24)) { /* 16 MiB of hex is not one TLP */
                free(s);
                return NULL;
            }
            char *t = realloc(s, cap * 2);
            if (!t) {
                free(s);
                return NULL;
            }
            s = t;
            cap *= 2;
        }
    }
    s[n] = '\0';
    return s;
}

int cmd_decode(int argc, char **argv)
{
    int json = 0, from_stdin = 0;
    unsigned mps = 0;
    size_t textlen = 1;
    int nhex = 0;
    char **hex = calloc((size_t)argc + 1, sizeof *hex);
    if (!hex) {
        fprintf(stderr, "pcilab decode: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            decode_usage(stdout);
            free(hex);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--mps")) {
            char *end = NULL;
            if (i + 1 >= argc || !(mps = (unsigned)strtoul(argv[i + 1], &end, 0)) || *end) {
                fprintf(stderr, "pcilab decode: --mps needs a size in bytes (128..4096)\n");
                free(hex);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "-")) {
            from_stdin = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "pcilab decode: unknown option '%s' (try 'pcilab decode --help')\n", a);
            free(hex);
            return 2;
        } else {
            hex[nhex++] = argv[i];
            textlen += strlen(a) + 1;
        }
    }
    if ((!nhex && !from_stdin) || (nhex && from_stdin)) {
        fprintf(stderr, nhex ? "pcilab decode: give the hex as arguments or '-', not both\n"
                             : "pcilab decode: no TLP given\n");
        decode_usage(stderr);
        free(hex);
        return 2;
    }
    char *text;
    if (from_stdin) {
        text = read_stream(stdin);
    } else {
        text = malloc(textlen);
        if (text) {
            text[0] = '\0';
            for (int i = 0; i < nhex; i++) {
                strcat(text, hex[i]);
                strcat(text, " ");
            }
        }
    }
    free(hex);
    if (!text) {
        fprintf(stderr, "pcilab decode: cannot read the input (out of memory or too long)\n");
        return 1;
    }

    uint8_t bytes[DECODE_MAX_BYTES];
    struct pcilab_err err;
    pcilab_err_clear(&err);
    int n = pcie_hex_parse(text, bytes, sizeof bytes, &err);
    free(text);
    if (n < 0) {
        if (from_stdin && err.line)
            fprintf(stderr, "pcilab decode: <stdin>:%u:%u: %s\n", err.line, err.col, err.msg);
        else
            fprintf(stderr, "pcilab decode: %s\n", err.msg);
        return 1;
    }

    struct pcie_tlp tlp;
    enum pcie_tlp_error kind = PCIE_TLP_OK;
    int rc = pcie_tlp_decode_ex(bytes, (size_t)n, PCIE_TLP_DECODE_HEADER_ONLY, &tlp, &kind, &err);
    int warning = rc < 0 && kind == PCIE_TLP_E_4DW_LOW_ADDR;
    int header_parsed = tlp.kind != PCIE_TLP_UNKNOWN && kind != PCIE_TLP_E_TRUNCATED;
    int status = rc < 0 && !warning ? 1 : 0;

    char mps_msg[512] = "";
    if (rc == 0 || warning) {
        struct pcilab_err merr;
        pcilab_err_clear(&merr);
        if (mps && pcie_tlp_check_mps(&tlp, mps, &merr) < 0) {
            snprintf(mps_msg, sizeof mps_msg, "%s", merr.msg);
            status = merr.code == PCILAB_EINVAL ? 2 : 1;
        }
    }

    if (json) {
        json_t *j = header_parsed ? pcie_tlp_to_json(&tlp) : json_object();
        if (!j) {
            fprintf(stderr, "pcilab decode: out of memory\n");
            return 1;
        }
        if (rc < 0) {
            json_object_set_new(j, warning ? "warning" : "error",
                                json_pack("{s:s,s:s}", "rule", pcie_tlp_error_name(kind),
                                          "message", err.msg));
        }
        if (mps_msg[0])
            json_object_set_new(j, "mps_error", json_string(mps_msg));
        json_object_set_new(j, "valid", json_boolean(status == 0));
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (s) {
            printf("%s\n", s);
            free(s);
        }
    } else if (header_parsed) {
        size_t need = pcie_tlp_dump(&tlp, bytes, (size_t)n, NULL, 0) + 1;
        char *out = malloc(need);
        if (!out) {
            fprintf(stderr, "pcilab decode: out of memory\n");
            return 1;
        }
        pcie_tlp_dump(&tlp, bytes, (size_t)n, out, need);
        char line[512];
        pcie_tlp_summary(&tlp, line, sizeof line);
        printf("%s\n\n%s", line, out);
        free(out);
    }
    if (rc < 0)
        fprintf(stderr, "pcilab decode: %s: %s\n",
                warning ? "warning" : "malformed TLP", err.msg);
    if (mps_msg[0])
        fprintf(stderr, "pcilab decode: %s\n", mps_msg);
    return status;
}
