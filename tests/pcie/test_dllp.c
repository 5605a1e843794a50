#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pcie/dllp.h"

/* The spec's DLLP CRC written out literally (3.5.2): an MSB-first 16-bit shift
 * register, polynomial 100Bh, seed FFFFh, fed bit 0 of byte 0 first; the
 * remainder complemented and mapped into the CRC field by the table "Mapping of
 * Bits into CRC Field": result bit i (0..7) -> field bit 7-i, result bit 8+j ->
 * field bit 15-j; field bits 15:8 are byte 4 and 7:0 byte 5. */
static void spec_crc(const uint8_t c[4], uint8_t *b4, uint8_t *b5)
{
    unsigned r = 0xffff;
    for (int i = 0; i < 4; i++)
        for (int bit = 0; bit < 8; bit++) {
            unsigned in = (c[i] >> bit) & 1, fb = ((r >> 15) & 1) ^ in;
            r = (r << 1) & 0xffff;
            if (fb)
                r ^= 0x100b;
        }
    r = ~r & 0xffff;
    unsigned field = 0;
    for (int i = 0; i < 8; i++) {
        field |= ((r >> i) & 1) << (7 - i);
        field |= ((r >> (8 + i)) & 1) << (15 - i);
    }
    *b4 = (uint8_t)(field >> 8);
    *b5 = (uint8_t)field;
}

static void crc_matches_spec_register(void **state)
{
    (void)state;
    uint8_t c[4];
    uint32_t x = 12345;
    for (int n = 0; n < 2000; n++) {
        for (int i = 0; i < 4; i++) {
            x = x * 1103515245u + 12345u; /* fixed LCG: deterministic inputs */
            c[i] = (uint8_t)(x >> 16);
        }
        uint8_t b4, b5;
        spec_crc(c, &b4, &b5);
        uint16_t v = pcie_dllp_crc16(c);
        assert_int_equal(v & 0xff, b4);
        assert_int_equal(v >> 8, b5);
    }
}

static void golden(const struct pcie_dllp *d, const char *hex6)
{
    uint8_t out[6], want[6];
    for (int i = 0; i < 6; i++) {
        unsigned b;
        sscanf(hex6 + 3 * i, "%2x", &b);
        want[i] = (uint8_t)b;
    }
    assert_int_equal(pcie_dllp_encode(d, out, NULL), 0);
    assert_memory_equal(out, want, 6);
    struct pcie_dllp back;
    assert_int_equal(pcie_dllp_decode(out, &back, NULL), 0);
    assert_int_equal(back.type, d->type);
    assert_int_equal(back.seq, d->seq);
    assert_int_equal(back.hdr_fc, d->hdr_fc);
    assert_int_equal(back.data_fc, d->data_fc);
    assert_int_equal(back.vc, d->vc);
}

static void golden_encodings(void **state)
{
    (void)state;
    /* Expected bytes derived by hand from Figures 3-10/3-11 and the CRC rule
     * above (checked against the literal spec register in the test above). */
    /* Ack, seq 123h: 00 | reserved 00 | seq[11:8] 1 | seq[7:0] 23 */
    struct pcie_dllp a = pcie_dllp_ack(0x123);
    golden(&a, "00 00 01 23 e2 85");
    /* Nak, seq FFFh */
    struct pcie_dllp n = pcie_dllp_nak(0xfff);
    golden(&n, "10 00 0f ff ce cf");
    /* UpdateFC-P VC0, HdrFC 32 (20h), DataFC 512 (200h):
     * byte 1 = HdrScale 00 | HdrFC[7:2] = 001000b -> 08
     * byte 2 = HdrFC[1:0] 00 | DataScale 00 | DataFC[11:8] 2 -> 02; byte 3 = 00 */
    struct pcie_dllp u = pcie_dllp_fc(PCIE_FC_UPDATE, PCIE_FC_P, 0, 32, 512, 0, 0);
    golden(&u, "80 08 02 00 4d 95");
    /* A real capture (RK3399 root port, quoted by the ecp5-pcie project):
     * InitFC1-Cpl VC0 with infinite credits, CRC remainder 92D8h -> D8 92 */
    struct pcie_dllp i1 = pcie_dllp_fc(PCIE_FC_INIT1, PCIE_FC_CPL, 0, 0, 0, 0, 0);
    golden(&i1, "60 00 00 00 d8 92");
    /* InitFC1-NP VC0, 32 header / 32 data credits (same capture) */
    struct pcie_dllp i2 = pcie_dllp_fc(PCIE_FC_INIT1, PCIE_FC_NP, 0, 32, 32, 0, 0);
    golden(&i2, "50 08 00 20 12 d9");
    /* PM_Enter_L1: bytes 1-3 reserved */
    struct pcie_dllp pm = {.type = PCIE_DLLP_PM_ENTER_L1};
    golden(&pm, "20 00 00 00 65 ad");
}

static void fields_and_scale(void **state)
{
    (void)state;
    /* HdrFC 0xff spans bytes 1 and 2; scales in their bit positions */
    struct pcie_dllp u = pcie_dllp_fc(PCIE_FC_INIT2, PCIE_FC_CPL, 5, 0xff, 0xabc, 3, 2);
    uint8_t out[6];
    assert_int_equal(pcie_dllp_encode(&u, out, NULL), 0);
    assert_int_equal(out[0], 0xe5);
    assert_int_equal(out[1], 0xc0 | 0x3f);
    assert_int_equal(out[2], 0xc0 | 0x20 | 0x0a);
    assert_int_equal(out[3], 0xbc);
    struct pcie_dllp d;
    assert_int_equal(pcie_dllp_decode(out, &d, NULL), 0);
    assert_int_equal(d.type, PCIE_DLLP_INITFC2_CPL);
    assert_int_equal(d.vc, 5);
    assert_int_equal(d.hdr_scale, 3);
    assert_int_equal(d.data_scale, 2);
    assert_int_equal(d.hdr_fc, 0xff);
    assert_int_equal(d.data_fc, 0xabc);
    enum pcie_fc_phase ph;
    enum pcie_fc_class c;
    assert_true(pcie_dllp_fc_kind(out[0], &ph, &c));
    assert_int_equal(ph, PCIE_FC_INIT2);
    assert_int_equal(c, PCIE_FC_CPL);
    assert_false(pcie_dllp_fc_kind(0x00, NULL, NULL));
    assert_false(pcie_dllp_fc_kind(0x70, NULL, NULL)); /* MRInitFC1 */
    char s[80];
    assert_string_equal(pcie_dllp_str(&d, s, sizeof s), "InitFC2-Cpl VC5 Hdr 255 Data 2748 (scaled)");
    struct pcie_dllp a = pcie_dllp_ack(0x7);
    assert_string_equal(pcie_dllp_str(&a, s, sizeof s), "Ack seq 0x007");
    assert_string_equal(pcie_dllp_type_name(0x23), "PM_Active_State_Request_L1");
    assert_string_equal(pcie_dllp_type_name(0x91), "UpdateFC-NP");
}

static void decode_errors(void **state)
{
    (void)state;
    uint8_t b[6] = {0x00, 0x00, 0x01, 0x23, 0xe2, 0x85};
    struct pcie_dllp d;
    struct pcilab_err e = {0};
    assert_int_equal(pcie_dllp_decode(b, &d, &e), 0);
    b[3] ^= 0x01; /* one bit flipped: CRC error */
    assert_int_equal(pcie_dllp_decode(b, &d, &e), -PCILAB_EMALFORMED);
    assert_non_null(strstr(e.msg, "CRC"));
    /* reserved type with a valid CRC */
    uint8_t r[6] = {0x05, 0, 0, 0};
    uint16_t crc = pcie_dllp_crc16(r);
    r[4] = (uint8_t)crc;
    r[5] = (uint8_t)(crc >> 8);
    assert_int_equal(pcie_dllp_decode(r, &d, &e), -PCILAB_EMALFORMED);
    assert_non_null(strstr(e.msg, "reserved"));
    /* encode range checks */
    struct pcie_dllp bad = pcie_dllp_ack(0);
    bad.seq = 0x1000;
    assert_int_equal(pcie_dllp_encode(&bad, b, NULL), -PCILAB_EINVAL);
    struct pcie_dllp badfc = pcie_dllp_fc(PCIE_FC_UPDATE, PCIE_FC_P, 0, 1, 0x1000, 0, 0);
    assert_int_equal(pcie_dllp_encode(&badfc, b, NULL), -PCILAB_EINVAL);
    badfc = pcie_dllp_fc(PCIE_FC_UPDATE, PCIE_FC_P, 8, 1, 1, 0, 0);
    assert_int_equal(pcie_dllp_encode(&badfc, b, NULL), -PCILAB_EINVAL);
}

static void lcrc(void **state)
{
    (void)state;
    /* Sequence number 001h then a 3 DW MWr of one DW (40000001 0000000f
     * 00010000, data 12345678): the LCRC is the IEEE 802.3 CRC-32 of
     * 00 01 40 00 00 01 ... 78 sent least significant byte first (3.6.2.1;
     * the same computation as zlib's crc32 of those 18 bytes = 01d63e90h). */
    static const uint8_t tlp[16] = {0x40, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0f,
                                    0x00, 0x01, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78};
    uint8_t out[4];
    pcie_lcrc(0x001, tlp, sizeof tlp, out);
    static const uint8_t want[4] = {0x90, 0x3e, 0xd6, 0x01};
    assert_memory_equal(out, want, 4);
    /* the reserved bits of the sequence number field are sent as 0 */
    uint8_t out2[4];
    pcie_lcrc(0xf001, tlp, sizeof tlp, out2);
    assert_memory_equal(out2, want, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc_matches_spec_register),
        cmocka_unit_test(golden_encodings),
        cmocka_unit_test(fields_and_scale),
        cmocka_unit_test(decode_errors),
        cmocka_unit_test(lcrc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
