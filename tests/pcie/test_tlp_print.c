/* TLP formatting (summary, dump, JSON) and the hex input parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pcie/tlp.h"
#include "pcie/tlp_print.h"

static void decode_hex(const char *s, uint8_t *b, struct pcie_tlp *t, unsigned flags)
{
    struct pcilab_err e;
    int n = pcie_hex_parse(s, b, 4200, &e);
    assert_true(n > 0);
    if (pcie_tlp_decode_ex(b, (size_t)n, flags, t, NULL, &e))
        fail_msg("%s", e.msg);
}

static void test_summary(void **state)
{
    (void)state;
    uint8_t b[4200];
    struct pcie_tlp t;
    char s[256];
    decode_hex("40000020 000001ff ffbf8000", b, &t, PCIE_TLP_DECODE_HEADER_ONLY);
    pcie_tlp_summary(&t, s, sizeof s);
    assert_string_equal(s, "MWr32 len=32 RID=00:00.0 tag=0x01 BE=f/f addr=0xffbf8000 "
                           "(payload absent)");
    decode_hex("20002010 0100a5ff 00000012 34567800", b, &t, 0);
    pcie_tlp_summary(&t, s, sizeof s);
    assert_string_equal(s, "MRd64 len=16 RID=01:00.0 tag=0xa5 BE=f/f addr=0x1234567800 attr=RO");
    decode_hex("4a000001 00000004 01000500 deadbeef", b, &t, 0);
    pcie_tlp_summary(&t, s, sizeof s);
    assert_string_equal(s, "CplD len=1 CID=00:00.0 SC BC=4 RID=01:00.0 tag=0x05 LA=0x00");
    decode_hex("04000001 0000070f 03000104", b, &t, 0);
    pcie_tlp_summary(&t, s, sizeof s);
    assert_string_equal(s, "CfgRd0 RID=00:00.0 tag=0x07 BE=f dst=03:00.0 reg=0x104");
    decode_hex("34000000 01000020 00000000 00000000", b, &t, 0);
    pcie_tlp_summary(&t, s, sizeof s);
    assert_string_equal(s, "Msg Assert_INTA r=100 RID=01:00.0 tag=0x00");
    /* truncation keeps snprintf semantics */
    size_t need = pcie_tlp_summary(&t, s, 8);
    assert_int_equal(need, strlen("Msg Assert_INTA r=100 RID=01:00.0 tag=0x00"));
    assert_string_equal(s, "Msg Ass");
}

static void test_dump(void **state)
{
    (void)state;
    uint8_t b[4200];
    struct pcie_tlp t;
    decode_hex("40000020 000001ff ffbf8000", b, &t, PCIE_TLP_DECODE_HEADER_ONLY);
    size_t need = pcie_tlp_dump(&t, b, 12, NULL, 0);
    char *s = malloc(need + 1);
    assert_non_null(s);
    assert_int_equal(pcie_tlp_dump(&t, b, 12, s, need + 1), need);
    assert_non_null(strstr(s, "MWr32: Memory Write Request (posted), 3 DW header, 32 DW (128 bytes)"));
    assert_non_null(strstr(s, "  Fmt                010b             3 DW header, with data (2.2.1)\n"));
    assert_non_null(strstr(s, "  Length             00 0010 0000b    32 DW = 128 bytes (2.2.2)\n"));
    assert_non_null(strstr(s, "Requester ID       0000h            00:00.0"));
    assert_non_null(strstr(s, "payload absent (header only)"));
    assert_non_null(strstr(s, "host bridge"));
    free(s);
    /* payload hex and ECRC row */
    decode_hex("4a008001 00000004 01000500 deadbeef e3eb111b", b, &t, 0);
    char d[4096];
    pcie_tlp_dump(&t, b, 20, d, sizeof d);
    assert_non_null(strstr(d, "    0000: deadbeef\n"));
    assert_non_null(strstr(d, "e3eb111bh        matches the header and data (2.7.1)"));
    /* a wrong ECRC is shown as such (the dump is printed for malformed TLPs too) */
    b[15] ^= 1; /* the payload (t.payload points at it), not the ECRC */
    pcie_tlp_dump(&t, b, 20, d, sizeof d);
    assert_non_null(strstr(d, "e3eb111bh        does NOT match "));
    /* without the raw bytes nothing can be checked */
    pcie_tlp_dump(&t, NULL, 0, d, sizeof d);
    assert_non_null(strstr(d, "as received, not checked"));
    assert_null(strstr(d, "host bridge")); /* completions: no requester-ID hint */
}

static void test_json(void **state)
{
    (void)state;
    uint8_t b[4200];
    struct pcie_tlp t;
    decode_hex("40000001 0100010f 00001000 01020304", b, &t, 0);
    json_t *j = pcie_tlp_to_json(&t);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "MWr");
    assert_string_equal(json_string_value(json_object_get(j, "label")), "MWr32");
    assert_string_equal(json_string_value(json_object_get(j, "requester_id")), "01:00.0");
    assert_string_equal(json_string_value(json_object_get(j, "address")), "0x1000");
    assert_string_equal(json_string_value(json_object_get(j, "payload")), "01020304");
    assert_int_equal(json_integer_value(json_object_get(j, "length")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
    json_decref(j);
}

static void test_hex_parse(void **state)
{
    (void)state;
    uint8_t b[64];
    struct pcilab_err e;
    assert_int_equal(pcie_hex_parse("40000020 000001ff\nffbf8000", b, sizeof b, &e), 12);
    assert_int_equal(b[0], 0x40);
    assert_int_equal(b[11], 0x00);
    assert_int_equal(b[8], 0xff);
    assert_int_equal(pcie_hex_parse("0x40,0x00, 0x00 ,0x20", b, sizeof b, &e), 4);
    assert_int_equal(b[3], 0x20);
    assert_int_equal(pcie_hex_parse("0x40000020,0x000001FF", b, sizeof b, &e), 8);
    assert_int_equal(b[7], 0xff);
    /* mixed widths: names the token and its position */
    pcilab_err_clear(&e);
    assert_int_equal(pcie_hex_parse("40 00 00 20\n000001ff", b, sizeof b, &e), -PCILAB_EINVAL);
    assert_non_null(strstr(e.msg, "token 5 '000001ff'"));
    assert_int_equal(e.line, 2);
    assert_int_equal(e.col, 1);
    assert_int_equal(pcie_hex_parse("40000020 0001ff", b, sizeof b, &e), -PCILAB_EINVAL);
    assert_non_null(strstr(e.msg, "token 2 '0001ff': 6 hex digits"));
    assert_int_equal(e.col, 10);
    assert_int_equal(pcie_hex_parse("4000002g", b, sizeof b, &e), -PCILAB_EINVAL);
    assert_non_null(strstr(e.msg, "'g'"));
    assert_int_equal(pcie_hex_parse("  \n ", b, sizeof b, &e), -PCILAB_EINVAL);
    assert_int_equal(pcie_hex_parse("00000000 00000000", b, 4, &e), -PCILAB_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_hex_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
