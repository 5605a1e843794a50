/* TLP encode/decode: golden encodings derived by hand from the bit layouts of
 * the PCI Express Base Specification 5.0, round trips for every kind and
 * field, every malformed-TLP rule, 10-bit tags, ECRC. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pcie/crc.h"
#include "pcie/tlp.h"

static size_t hex(const char *s, uint8_t *buf, size_t cap)
{
    struct pcilab_err e;
    int n = pcie_hex_parse(s, buf, cap, &e);
    assert_true(n > 0);
    return (size_t)n;
}

/* Decode, check the result, re-encode and compare byte for byte. */
static void decode_ok(const uint8_t *b, size_t n, struct pcie_tlp *t)
{
    struct pcilab_err e;
    pcilab_err_clear(&e);
    int rc = pcie_tlp_decode(b, n, t, &e);
    if (rc)
        fail_msg("decode failed: %s", e.msg);
    uint8_t out[4200];
    int m = pcie_tlp_encode(t, out, sizeof out, &e);
    if (m < 0)
        fail_msg("encode failed: %s", e.msg);
    assert_int_equal((size_t)m, n);
    assert_memory_equal(out, b, n);
}

static void expect_rule(const char *hx, unsigned flags, enum pcie_tlp_error want, int code,
                        const char *needle)
{
    uint8_t b[4200];
    size_t n = hex(hx, b, sizeof b);
    struct pcie_tlp t;
    struct pcilab_err e;
    enum pcie_tlp_error k;
    pcilab_err_clear(&e);
    int rc = pcie_tlp_decode_ex(b, n, flags, &t, &k, &e);
    if (rc != -code || k != want)
        fail_msg("%s: got rc %d kind %s (%s), want kind %s", hx, rc, pcie_tlp_error_name(k),
                 e.msg, pcie_tlp_error_name(want));
    if (needle && !strstr(e.msg, needle))
        fail_msg("message '%s' does not mention '%s'", e.msg, needle);
}

#define MALFORMED(hx, kind, needle) expect_rule(hx, 0, kind, PCILAB_EMALFORMED, needle)

/* ---- golden encodings ---- */

/* The seed's write: MWr, 3 DW header, 32 DW, requester 00:00.0, tag 1, BE f/f,
 * address ffbf8000.
 *   byte 0: Fmt 010b (3 DW, data) Type 00000b (memory)          -> 0x40
 *   byte 1: T9 0, TC 000, T8 0, Attr[2] 0, LN 0, TH 0            -> 0x00
 *   byte 2: TD 0, EP 0, Attr[1:0] 00, AT 00, Length[9:8] 00      -> 0x00
 *   byte 3: Length[7:0] = 32                                     -> 0x20
 *   DW1: Requester ID 0000h, Tag 01h, Last BE 1111b First BE 1111b -> 00 00 01 ff
 *   DW2: Address[31:2] ffbf8000 with PH 00b                      -> ff bf 80 00 */
static void test_golden_seed_mwr(void **state)
{
    (void)state;
    uint8_t payload[128];
    for (int i = 0; i < 128; i++)
        payload[i] = (uint8_t)i;
    struct pcie_tlp t;
    assert_int_equal(pcie_tlp_mem_write(&t, pcie_bdf(0, 0, 0), 0xffbf8000, payload, 128, NULL), 0);
    t.tag = 1;
    uint8_t out[256];
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, NULL), 12 + 128);
    const uint8_t want[12] = {0x40, 0x00, 0x00, 0x20, 0x00, 0x00, 0x01, 0xff,
                              0xff, 0xbf, 0x80, 0x00};
    assert_memory_equal(out, want, 12);
    assert_memory_equal(out + 12, payload, 128);
    struct pcie_tlp d;
    decode_ok(out, 140, &d);
    assert_int_equal(d.kind, PCIE_TLP_MWR);
    assert_int_equal(pcie_tlp_header_dw(&d), 3);
    assert_int_equal(d.length, 32);
    assert_int_equal(d.requester_id, 0);
    assert_int_equal(d.tag, 1);
    assert_int_equal(d.addr, 0xffbf8000u);
    assert_int_equal(pcie_tlp_wire_bytes(&d), 140);
    assert_true(pcie_tlp_is_posted(&d));
    assert_false(pcie_tlp_is_nonposted(&d));
}

/* MRd, 4 DW header, 16 DW, requester 01:00.0, 10-bit tag 2A5h, TC2, RO+IDO,
 * address 00000012_34567800.
 *   byte 0: Fmt 001b Type 00000b                                  -> 0x20
 *   byte 1: T9=1 (bit 7), TC=010b (bits 6:4), T8=0 (bit 3),
 *           Attr[2]=1 IDO (bit 2), LN 0, TH 0                     -> 0x80|0x20|0x04 = 0xa4
 *   byte 2: TD 0, EP 0, Attr[1:0]=10b RO (bits 5:4), AT 00, Len[9:8] 00 -> 0x20
 *   byte 3: 16                                                    -> 0x10
 *   DW1: 0100h, Tag[7:0] a5h, BE ff                               -> 01 00 a5 ff
 *   DW2: Address[63:32]                                           -> 00 00 00 12
 *   DW3: Address[31:2], PH 00                                     -> 34 56 78 00 */
static void test_golden_mrd64_10bit_tag(void **state)
{
    (void)state;
    struct pcie_tlp t;
    assert_int_equal(pcie_tlp_mem_read(&t, pcie_bdf(1, 0, 0), 0x2a5, 0x1234567800ull, 64, NULL), 0);
    t.tc = 2;
    t.attr = PCIE_ATTR_RO | PCIE_ATTR_IDO;
    uint8_t out[32];
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, NULL), 16);
    const uint8_t want[16] = {0x20, 0xa4, 0x20, 0x10, 0x01, 0x00, 0xa5, 0xff,
                              0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x00};
    assert_memory_equal(out, want, 16);
    struct pcie_tlp d;
    decode_ok(out, 16, &d);
    assert_int_equal(d.tag, 0x2a5);
    assert_int_equal(d.tc, 2);
    assert_int_equal(d.attr, PCIE_ATTR_RO | PCIE_ATTR_IDO);
    assert_int_equal(d.addr, 0x1234567800ull);
    assert_true(pcie_tlp_is_nonposted(&d));
    /* T8 alone: tag 0x100 sets byte 1 bit 3 only */
    t.tag = 0x100;
    t.tc = 0;
    t.attr = 0;
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, NULL), 16);
    assert_int_equal(out[1], 0x08);
    assert_int_equal(out[6], 0x00);
}

/* CplD: completer 00:00.0, SC, Byte Count 4, requester 01:00.0, tag 05h,
 * Lower Address 0, 1 DW.
 *   byte 0: Fmt 010b Type 01010b                      -> 0x4a
 *   DW0: 4a 00 00 01
 *   DW1: Completer ID 0000h, Status 000b, BCM 0, Byte Count 004h -> 00 00 00 04
 *   DW2: Requester ID 0100h, Tag 05h, R 0, Lower Address 00h     -> 01 00 05 00 */
static void test_golden_cpld(void **state)
{
    (void)state;
    const uint8_t data[4] = {0xde, 0xad, 0xbe, 0xef};
    struct pcie_tlp t;
    assert_int_equal(pcie_tlp_completion(&t, 0, PCIE_CPL_SC, pcie_bdf(1, 0, 0), 5, 0, 4, data, 1,
                                         NULL),
                     0);
    uint8_t out[32];
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, NULL), 16);
    const uint8_t want[16] = {0x4a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04,
                              0x01, 0x00, 0x05, 0x00, 0xde, 0xad, 0xbe, 0xef};
    assert_memory_equal(out, want, 16);
    struct pcie_tlp d;
    decode_ok(out, 16, &d);
    assert_true(pcie_tlp_is_completion(&d));
    /* Byte Count 4096 is encoded as 000h (2.2.9) */
    uint8_t big[4096 + 12];
    memset(big, 0, sizeof big);
    assert_int_equal(pcie_tlp_completion(&t, 0, PCIE_CPL_SC, 0x100, 5, 0, 4096, big + 12, 1024,
                                         NULL),
                     0);
    static uint8_t buf[4200];
    assert_int_equal(pcie_tlp_encode(&t, buf, sizeof buf, NULL), 12 + 4096);
    assert_int_equal(buf[3], 0x00); /* Length 1024 -> 0 */
    assert_int_equal(buf[2] & 3, 0);
    assert_int_equal(buf[6] & 0x0f, 0);
    assert_int_equal(buf[7], 0);
    decode_ok(buf, 12 + 4096, &d);
    assert_int_equal(d.byte_count, 4096);
    assert_int_equal(d.length, 1024);
}

/* CfgRd0 from 00:00.0 tag 07h to 03:00.0, offset 104h (extended register 1,
 * register 1), BE 1111b.
 *   byte 0: Fmt 000b Type 00100b -> 0x04; DW0 04 00 00 01
 *   DW1: 0000h, 07h, Last BE 0000b, First BE 1111b -> 00 00 07 0f
 *   DW2: Bus 03h; Device 0 Function 0 -> 00; byte 10: Ext Reg 1 -> 01;
 *        byte 11: Register 1 << 2 -> 04                -> 03 00 01 04 */
static void test_golden_cfgrd0(void **state)
{
    (void)state;
    struct pcie_tlp t;
    assert_int_equal(pcie_tlp_cfg(&t, false, 0, 0, 7, pcie_bdf(3, 0, 0), 0x104, 0xf, NULL, NULL),
                     0);
    uint8_t out[16];
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, NULL), 12);
    const uint8_t want[12] = {0x04, 0x00, 0x00, 0x01, 0x00, 0x00, 0x07, 0x0f,
                              0x03, 0x00, 0x01, 0x04};
    assert_memory_equal(out, want, 12);
    struct pcie_tlp d;
    decode_ok(out, 12, &d);
    assert_int_equal(d.target_id, pcie_bdf(3, 0, 0));
    assert_int_equal(d.cfg_reg * 4, 0x104);
    /* CfgWr1 to 05:1f.7 offset 0xffc: byte 9 = device 11111b function 111b = ff,
     * Ext Reg fh, Register 3fh << 2 = fc */
    const uint8_t v[4] = {1, 2, 3, 4};
    assert_int_equal(pcie_tlp_cfg(&t, true, 1, 0, 0, pcie_bdf(5, 0x1f, 7), 0xffc, 0x3, v, NULL),
                     0);
    uint8_t o2[16];
    assert_int_equal(pcie_tlp_encode(&t, o2, sizeof o2, NULL), 16);
    const uint8_t w2[16] = {0x45, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03,
                            0x05, 0xff, 0x0f, 0xfc, 1, 2, 3, 4};
    assert_memory_equal(o2, w2, 16);
    decode_ok(o2, 16, &d);
    assert_int_equal(d.kind, PCIE_TLP_CFGWR1);
}

/* Messages. Assert_INTA from 01:00.0: Fmt 001b Type 10100b (local) -> 0x34;
 * DW1: 0100h, tag 00, code 20h. Set_Slot_Power_Limit: Fmt 011b Type 10100b
 * -> 0x74, Length 1, code 50h, 1 DW data. Vendor_Defined Type 1 routed by
 * ID (10010b -> 0x32 / 0x72 with data) to 02:00.0, Vendor ID 1234h in DW2. */
static void test_golden_messages(void **state)
{
    (void)state;
    struct pcie_tlp t;
    uint8_t out[64];
    assert_int_equal(pcie_tlp_message(&t, PCIE_MSG_ASSERT_INTA, PCIE_MSG_LOCAL, 0x100, 0, 0, NULL,
                                      0, NULL),
                     0);
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, NULL), 16);
    const uint8_t w1[16] = {0x34, 0, 0, 0, 0x01, 0x00, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(out, w1, 16);
    struct pcie_tlp d;
    decode_ok(out, 16, &d);
    assert_int_equal(d.msg_code, PCIE_MSG_ASSERT_INTA);
    assert_string_equal(pcie_msg_code_name(d.msg_code), "Assert_INTA");
    assert_true(pcie_tlp_is_posted(&d));

    const uint8_t spl[4] = {0x00, 0x00, 0x00, 0x19};
    assert_int_equal(pcie_tlp_message(&t, PCIE_MSG_SET_SLOT_POWER_LIMIT, PCIE_MSG_LOCAL, 0, 0, 0,
                                      spl, 1, NULL),
                     0);
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, NULL), 20);
    const uint8_t w2[20] = {0x74, 0, 0, 0x01, 0, 0, 0, 0x50, 0, 0, 0, 0, 0, 0, 0, 0,
                            0, 0, 0, 0x19};
    assert_memory_equal(out, w2, 20);
    decode_ok(out, 20, &d);

    assert_int_equal(pcie_tlp_message(&t, PCIE_MSG_VENDOR_TYPE1, PCIE_MSG_BY_ID, 0x100,
                                      (uint32_t)pcie_bdf(2, 0, 0) << 16 | 0x1234, 0xcafef00d,
                                      NULL, 0, NULL),
                     0);
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, NULL), 16);
    const uint8_t w3[16] = {0x32, 0, 0, 0, 0x01, 0x00, 0x00, 0x7f,
                            0x02, 0x00, 0x12, 0x34, 0xca, 0xfe, 0xf0, 0x0d};
    assert_memory_equal(out, w3, 16);
    decode_ok(out, 16, &d);
    assert_int_equal(pcie_msg_target_id(&d), pcie_bdf(2, 0, 0));
    assert_int_equal(pcie_msg_vendor_id(&d), 0x1234);

    /* every standard name */
    static const struct { uint8_t c; const char *n; } names[] = {
        {0x00, "Unlock"}, {0x10, "LTR"}, {0x12, "OBFF"}, {0x14, "PM_Active_State_Nak"},
        {0x18, "PM_PME"}, {0x19, "PME_Turn_Off"}, {0x1b, "PME_TO_Ack"},
        {0x23, "Assert_INTD"}, {0x24, "Deassert_INTA"}, {0x30, "ERR_COR"},
        {0x31, "ERR_NONFATAL"}, {0x33, "ERR_FATAL"}, {0x50, "Set_Slot_Power_Limit"},
        {0x52, "PTM_Request"}, {0x53, "PTM_Response"}, {0x7e, "Vendor_Defined_Type_0"},
        {0x7f, "Vendor_Defined_Type_1"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_string_equal(pcie_msg_code_name(names[i].c), names[i].n);
    assert_null(pcie_msg_code_name(0x99));
    /* DRS/FRS are Vendor_Defined Type 1 messages (2.2.8.6.3-4), not codes of their own */
    assert_null(pcie_msg_code_name(0xf0));
    assert_null(pcie_msg_code_name(0xf1));
}

/* IOWr to port 3f8h, First BE 0001b, requester 01:00.0 tag 3:
 * Fmt 010b Type 00010b -> 0x42; DW1 01 00 03 01; DW2 00 00 03 f8. */
static void test_golden_io_and_atomic(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = hex("42000001 01000301 000003f8 00000041", b, sizeof b);
    struct pcie_tlp d;
    decode_ok(b, n, &d);
    assert_int_equal(d.kind, PCIE_TLP_IOWR);
    assert_int_equal(d.addr, 0x3f8);
    assert_int_equal(d.first_be, 1);
    assert_int_equal(pcie_tlp_first_byte_addr(&d), 0x3f8);
    assert_int_equal(pcie_tlp_byte_span(&d), 1);
    /* FetchAdd, 4 DW, 64-bit operand at 1_00000008: Fmt 011b Type 01100b -> 0x6c, Length 2 */
    n = hex("6c000002 01000900 00000001 00000008 00000000 00000001", b, sizeof b);
    decode_ok(b, n, &d);
    assert_int_equal(d.kind, PCIE_TLP_FETCHADD);
    assert_int_equal(d.addr, 0x100000008ull);
    /* CAS 3 DW with two 32-bit operands: 0x4e, Length 2 */
    n = hex("4e000002 01000a00 00002000 11111111 22222222", b, sizeof b);
    decode_ok(b, n, &d);
    assert_int_equal(d.kind, PCIE_TLP_CAS);
    /* Swap 3 DW 32-bit: 0x4d */
    n = hex("4d000001 01000b00 00002004 33333333", b, sizeof b);
    decode_ok(b, n, &d);
    assert_int_equal(d.kind, PCIE_TLP_SWAP);
    assert_true(pcie_tlp_is_nonposted(&d));
}

/* TPH (2.2.7.1): MWr with TH=1 carries ST[7:0] in the Tag byte and PH in
 * address bits [1:0]; MRd with TH=1 carries ST[7:0] in byte 7 and the BEs
 * are implied (2.2.5). */
static void test_tph(void **state)
{
    (void)state;
    uint8_t b[64];
    /* byte 1 = 01h (TH), tag byte 5ah = ST, address ...1001b: PH 01b */
    size_t n = hex("40010001 01005a0f 00001001 aabbccdd", b, sizeof b);
    struct pcie_tlp d;
    decode_ok(b, n, &d);
    assert_true(d.th);
    assert_int_equal(d.ph, 1);
    assert_int_equal(d.addr, 0x1000);
    assert_int_equal(pcie_tlp_steering_tag(&d), 0x5a);
    /* MRd, Length 4, TH=1, byte 7 = ST 00h: BEs implied 1111b/1111b, no BE error */
    n = hex("00010004 01000700 00002002", b, sizeof b);
    decode_ok(b, n, &d);
    uint8_t fb, lb;
    pcie_tlp_effective_be(&d, &fb, &lb);
    assert_int_equal(fb, 0xf);
    assert_int_equal(lb, 0xf);
    assert_int_equal(pcie_tlp_steering_tag(&d), 0);
    assert_int_equal(pcie_tlp_byte_span(&d), 16);
}

/* ---- round trips ---- */

static void roundtrip(struct pcie_tlp *t)
{
    uint8_t out[4200];
    struct pcilab_err e;
    int n = pcie_tlp_encode(t, out, sizeof out, &e);
    if (n < 0)
        fail_msg("encode: %s", e.msg);
    struct pcie_tlp d;
    decode_ok(out, (size_t)n, &d);
    assert_int_equal(d.kind, t->kind);
    assert_int_equal(d.fmt, t->fmt);
    assert_int_equal(d.type, t->type);
    assert_int_equal(d.tc, t->tc);
    assert_int_equal(d.attr, t->attr);
    assert_int_equal(d.ln, t->ln);
    assert_int_equal(d.th, t->th);
    assert_int_equal(d.td, t->td);
    assert_int_equal(d.ep, t->ep);
    assert_int_equal(d.at, t->at);
    assert_int_equal(d.length, t->length);
    assert_int_equal(d.requester_id, t->requester_id);
    assert_int_equal(d.tag, t->tag);
    assert_int_equal(d.first_be, t->first_be);
    assert_int_equal(d.last_be, t->last_be);
    assert_int_equal(d.addr, t->addr);
    assert_int_equal(d.ph, t->ph);
    assert_int_equal(d.target_id, t->target_id);
    assert_int_equal(d.cfg_reg, t->cfg_reg);
    assert_int_equal(d.msg_code, t->msg_code);
    assert_int_equal(d.msg_routing, t->msg_routing);
    assert_int_equal(d.msg_dw[0], t->msg_dw[0]);
    assert_int_equal(d.msg_dw[1], t->msg_dw[1]);
    assert_int_equal(d.completer_id, t->completer_id);
    assert_int_equal(d.cpl_status, t->cpl_status);
    assert_int_equal(d.bcm, t->bcm);
    assert_int_equal(d.byte_count, t->byte_count);
    assert_int_equal(d.lower_addr, t->lower_addr);
    assert_int_equal(d.payload_len, t->payload_len);
    if (t->payload_len)
        assert_memory_equal(d.payload, t->payload, t->payload_len);
}

static void test_roundtrip_every_kind(void **state)
{
    (void)state;
    static uint8_t data[4096];
    for (int i = 0; i < 4096; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    struct pcie_tlp t;
    for (unsigned tag = 0; tag < 1024; tag += 0x155) {
        for (int td = 0; td < 2; td++) {
            /* memory, 3 and 4 DW, every TC, attr, AT 0..2, EP, TH/PH */
            for (unsigned tc = 0; tc < 8; tc++) {
                uint64_t addr = tc & 1 ? 0xabcd00000100ull : 0xfee00040u;
                assert_int_equal(pcie_tlp_mem_write(&t, pcie_bdf(0x12, 3, 4), addr, data, 256, NULL), 0);
                t.tag = (uint16_t)tag;
                t.tc = (uint8_t)tc;
                t.attr = (uint8_t)(tc & 7);
                t.at = (uint8_t)(tc % 3);
                t.ep = tc & 2;
                t.td = td;
                t.ln = tc & 4;
                t.th = tc & 1;
                t.ph = t.th ? (uint8_t)(tc >> 1 & 3) : 0;
                roundtrip(&t);
                assert_int_equal(pcie_tlp_mem_read(&t, 0x0800, (uint16_t)tag, (addr & ~0xfffull) + 4, 4092, NULL), 0);
                t.tc = (uint8_t)tc;
                t.td = td;
                roundtrip(&t);
                t.kind = PCIE_TLP_MRDLK;
                pcie_tlp_set_kind(&t, PCIE_TLP_MRDLK, addr >> 32, 0);
                roundtrip(&t);
            }
            assert_int_equal(pcie_tlp_mem_read(&t, 1, (uint16_t)tag, 0x1000, 4096, NULL), 0);
            t.td = td;
            roundtrip(&t); /* Length 1024 encoded as 0 */
            /* config, IO */
            for (int k = 0; k < 4; k++) {
                assert_int_equal(pcie_tlp_cfg(&t, k & 1, k >> 1, 0x0100, (uint16_t)tag,
                                              pcie_bdf((unsigned)k, 31, 7), (uint16_t)(k * 0x3fc),
                                              0xf, data, NULL),
                                 0);
                t.td = td;
                roundtrip(&t);
            }
            pcie_tlp_set_kind(&t, PCIE_TLP_IORD, false, 0);
            t.length = 1;
            t.addr = 0xcf8;
            t.target_id = 0;
            t.cfg_reg = 0;
            t.first_be = 0xf;
            t.payload = NULL;
            t.payload_len = 0;
            roundtrip(&t);
            pcie_tlp_set_kind(&t, PCIE_TLP_IOWR, false, 0);
            t.payload = data;
            t.payload_len = 4;
            roundtrip(&t);
            /* messages: all routings */
            for (unsigned r = 0; r < 8; r++) {
                assert_int_equal(pcie_tlp_message(&t, 0x7e, (enum pcie_msg_routing)r, 0x0208,
                                                  0x12345678, 0x9abcdef0, r & 1 ? data : NULL,
                                                  r & 1 ? 16 : 0, NULL),
                                 0);
                t.tag = (uint16_t)tag;
                t.td = td;
                t.tc = (uint8_t)r;
                roundtrip(&t);
            }
            /* completions: all statuses, with/without data, locked */
            for (unsigned st = 0; st < 8; st++) {
                bool withdata = st == 0;
                assert_int_equal(pcie_tlp_completion(&t, 0x0300, (enum pcie_cpl_status)st, 0x0100,
                                                     (uint16_t)tag, 0x7c, 2048,
                                                     withdata ? data : NULL, withdata ? 32 : 0,
                                                     NULL),
                                 0);
                t.bcm = st & 1;
                t.td = td;
                roundtrip(&t);
                if (!withdata) {
                    pcie_tlp_set_kind(&t, PCIE_TLP_CPLLK, false, 0);
                    roundtrip(&t);
                } else {
                    pcie_tlp_set_kind(&t, PCIE_TLP_CPLDLK, false, 0);
                    roundtrip(&t);
                }
            }
            /* atomics, 3 and 4 DW */
            for (int four = 0; four < 2; four++) {
                enum pcie_tlp_kind ks[3] = {PCIE_TLP_FETCHADD, PCIE_TLP_SWAP, PCIE_TLP_CAS};
                for (int a = 0; a < 3; a++) {
                    memset(&t, 0, sizeof t);
                    pcie_tlp_set_kind(&t, ks[a], four, 0);
                    t.length = a == 2 ? 8 : 2;
                    t.addr = four ? 0x200000040ull : 0x40;
                    t.requester_id = 0x0100;
                    t.tag = (uint16_t)tag;
                    t.td = td;
                    t.payload = data;
                    t.payload_len = 4u * t.length;
                    roundtrip(&t);
                }
            }
        }
    }
}

/* Reserved bits set (receivers ignore them) still decode, are reported as a
 * warning, and re-encode to the same bytes. */
static void test_reserved_bits_roundtrip(void **state)
{
    (void)state;
    uint8_t b[64];
    /* CfgRd0 with byte 10 bits 7:4 = 1010b and byte 11 bits 1:0 = 11b */
    size_t n = hex("04000001 0000070f 0300a107", b, sizeof b);
    struct pcie_tlp d;
    decode_ok(b, n, &d);
    assert_int_equal(d.rsvd[2], 0xa003);
    assert_int_equal(d.cfg_reg, 1 << 6 | 1);
    assert_true(pcie_tlp_warnings(&d) & PCIE_TLP_WARN_RESERVED_BITS);
    /* Cpl with reserved status 011b and reserved bit in byte 11 */
    n = hex("0a000000 00006004 01000580", b, sizeof b);
    decode_ok(b, n, &d);
    assert_int_equal(d.cpl_status, 3);
    assert_true(pcie_tlp_warnings(&d) & PCIE_TLP_WARN_CPL_STATUS);
    assert_true(pcie_tlp_warnings(&d) & PCIE_TLP_WARN_RESERVED_BITS);
    assert_string_equal(pcie_cpl_status_name(3), "reserved");
    /* Message routing 110b is reserved (terminate at receiver): decodes */
    n = hex("36000000 01000099 00000000 00000000", b, sizeof b);
    decode_ok(b, n, &d);
    assert_true(pcie_tlp_warnings(&d) & PCIE_TLP_WARN_MSG_ROUTING);
    assert_true(pcie_tlp_warnings(&d) & PCIE_TLP_WARN_UNKNOWN_MSG);
}

/* ---- malformed: every rule ---- */

static void test_malformed_structure(void **state)
{
    (void)state;
    MALFORMED("40 00 00", PCIE_TLP_E_TRUNCATED, "shorter");
    MALFORMED("40000020 000001ff", PCIE_TLP_E_TRUNCATED, "3 DW header");
    MALFORMED("60000001 000001ff 00000001", PCIE_TLP_E_TRUNCATED, "4 DW header");
    /* Fmt 101b, 110b, 111b reserved (2.2.1, Table 2-2) */
    MALFORMED("a0000001 0000000f 00001000", PCIE_TLP_E_FMT_TYPE, "Fmt=101b");
    MALFORMED("e0000001 0000000f 00001000", PCIE_TLP_E_FMT_TYPE, "Fmt=111b");
    /* Type 00011b unassigned */
    MALFORMED("03000001 0000000f 00001000", PCIE_TLP_E_FMT_TYPE, "Type=00011b");
    /* a message with a 3 DW header, an MRdLk with data, a 4 DW completion */
    MALFORMED("14000000 01000020 00000000", PCIE_TLP_E_FMT_TYPE, "4 DW header");
    MALFORMED("41000001 0000000f 00001000 00000000", PCIE_TLP_E_FMT_TYPE, "MRdLk");
    MALFORMED("2a000000 00000004 01000500 00000000", PCIE_TLP_E_FMT_TYPE, "completions");
    MALFORMED("22000001 0000000f 00000000 00000cf8", PCIE_TLP_E_FMT_TYPE, "I/O");
    /* prefixes, TCfgRd, DMWr: recognised but not modelled */
    expect_rule("90000001 40000001 0000000f 00001000 00000000", 0, PCIE_TLP_E_UNSUPPORTED,
                PCILAB_EUNSUPPORTED, "prefix");
    expect_rule("1b000001 0000000f 01000000", 0, PCIE_TLP_E_UNSUPPORTED, PCILAB_EUNSUPPORTED,
                "TCfgRd");
    expect_rule("5b000001 0000000f 00001000 00000000", 0, PCIE_TLP_E_UNSUPPORTED,
                PCILAB_EUNSUPPORTED, "DMWr");
}

static void test_malformed_length(void **state)
{
    (void)state;
    /* Length 2 but one DW of data; trailing bytes; TD=1 without the ECRC */
    MALFORMED("40000002 000001ff 00001000 00000000", PCIE_TLP_E_LENGTH, "Length=2");
    MALFORMED("40000001 0000000f 00001000 00000000 00000000", PCIE_TLP_E_LENGTH, "trailing");
    MALFORMED("40008001 0000000f 00001000 00000000", PCIE_TLP_E_LENGTH, "ECRC");
    MALFORMED("00000001 0000000f 00001000 00000000", PCIE_TLP_E_LENGTH, "no data");
    /* header only: an error unless the caller allows it */
    MALFORMED("40000020 000001ff ffbf8000", PCIE_TLP_E_LENGTH, "32 DW data");
    uint8_t b[16];
    size_t n = hex("40000020 000001ff ffbf8000", b, sizeof b);
    struct pcie_tlp t;
    enum pcie_tlp_error k;
    assert_int_equal(pcie_tlp_decode_ex(b, n, PCIE_TLP_DECODE_HEADER_ONLY, &t, &k, NULL), 0);
    assert_true(t.payload_absent);
    assert_null(t.payload);
    assert_int_equal(pcie_tlp_wire_bytes(&t), 140);
}

static void test_malformed_byte_enables(void **state)
{
    (void)state;
    /* Length 1 with Last BE != 0 */
    MALFORMED("00000001 000000ff 00001000", PCIE_TLP_E_BYTE_ENABLES, "Last DW BE=1111b");
    /* Length > 1 with First BE 0 / Last BE 0 */
    MALFORMED("00000002 000000f0 00001000", PCIE_TLP_E_BYTE_ENABLES, "First DW BE=0000b");
    MALFORMED("00000002 0000000f 00001000", PCIE_TLP_E_BYTE_ENABLES, "Last DW BE=0000b");
    /* non-contiguous with Length 3, and Length 2 not QW aligned */
    MALFORMED("00000003 000000f5 00001000", PCIE_TLP_E_BYTE_ENABLES, "non-contiguous");
    MALFORMED("00000002 000000a5 00001004", PCIE_TLP_E_BYTE_ENABLES, "non-contiguous");
    MALFORMED("00000003 000000ef 00001000", PCIE_TLP_E_BYTE_ENABLES, "non-contiguous");
    /* allowed: Length 1 any pattern, QW-aligned Length 2 any pattern, zero-length read */
    uint8_t b[32];
    struct pcie_tlp t;
    size_t n = hex("00000001 00000005 00001000", b, sizeof b);
    decode_ok(b, n, &t);
    n = hex("00000002 000000a5 00001008", b, sizeof b);
    decode_ok(b, n, &t);
    n = hex("00000001 00000000 00001000", b, sizeof b);
    decode_ok(b, n, &t);
    assert_int_equal(pcie_tlp_byte_span(&t), 0);
    n = hex("00000003 0000033c 00001000", b, sizeof b); /* 1100b ... 0011b contiguous */
    decode_ok(b, n, &t);
    assert_int_equal(pcie_tlp_byte_span(&t), 2 + 4 + 2);
    assert_int_equal(pcie_tlp_first_byte_addr(&t), 0x1002);
}

static void test_malformed_address(void **state)
{
    (void)state;
    /* 4 KiB crossing (2.2.7): 2 DW at ...ffc */
    MALFORMED("00000002 000000ff 00001ffc", PCIE_TLP_E_4K_CROSSING, "4 KiB");
    MALFORMED("40000400 000000ff 00000004", PCIE_TLP_E_LENGTH, NULL);
    /* 4 DW header below 4 GiB: distinct kind, TLP fully decoded */
    uint8_t b[32];
    size_t n = hex("20000001 0100010f 00000000 ffbf8000", b, sizeof b);
    struct pcie_tlp t;
    enum pcie_tlp_error k;
    struct pcilab_err e;
    assert_int_equal(pcie_tlp_decode_ex(b, n, 0, &t, &k, &e), -PCILAB_EMALFORMED);
    assert_int_equal(k, PCIE_TLP_E_4DW_LOW_ADDR);
    assert_non_null(strstr(e.msg, "2.2.4.1"));
    assert_int_equal(t.kind, PCIE_TLP_MRD);
    assert_int_equal(t.addr, 0xffbf8000u);
    assert_int_equal(t.requester_id, 0x0100);
    /* it still re-encodes exactly (a device model may send this) */
    uint8_t out[32];
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, NULL), 16);
    assert_memory_equal(out, b, 16);
    /* AT = 11b reserved */
    MALFORMED("00000c01 0000000f 00001000", PCIE_TLP_E_RESERVED_VALUE, "AT=11b");
}

static void test_malformed_cfg_io(void **state)
{
    (void)state;
    MALFORMED("04000002 000000ff 01000010", PCIE_TLP_E_CFG, "Length=1");
    MALFORMED("04100001 0000000f 01000010", PCIE_TLP_E_CFG, "TC0");
    MALFORMED("04001001 0000000f 01000010", PCIE_TLP_E_CFG, "Attr");
    MALFORMED("04000401 0000000f 01000010", PCIE_TLP_E_CFG, "AT");
    MALFORMED("04000001 000000ff 01000010", PCIE_TLP_E_BYTE_ENABLES, "Last DW BE");
    MALFORMED("42000002 000000ff 00000cf8 00000000 00000000", PCIE_TLP_E_IO, "Length=1");
    MALFORMED("02200001 0000000f 00000cf8", PCIE_TLP_E_IO, "TC0");
    MALFORMED("02002001 0000000f 00000cf8", PCIE_TLP_E_IO, "Attr");
}

static void test_malformed_atomic_msg_cpl(void **state)
{
    (void)state;
    MALFORMED("4c000003 01000000 00001000 00000000 00000000 00000000", PCIE_TLP_E_ATOMIC,
              "Length=3");
    /* Swap with Length 4 (only 32/64-bit operands) */
    MALFORMED("4d000004 01000000 00001000 00000000 00000000 00000000 00000000",
              PCIE_TLP_E_ATOMIC, "1 or 2");
}

static void test_malformed_atomic_msg_cpl2(void **state)
{
    (void)state;
    /* CAS with 64-bit operands (Length 4) at an address aligned only to 4 */
    MALFORMED("4e000004 01000000 00001004 00000000 00000000 00000000 00000000",
              PCIE_TLP_E_ATOMIC, "aligned");
    /* Assert_INTA routed to RC instead of local */
    MALFORMED("30000000 01000020 00000000 00000000", PCIE_TLP_E_MSG, "Assert_INTA");
    /* Set_Slot_Power_Limit without data */
    MALFORMED("34000000 00000050 00000000 00000000", PCIE_TLP_E_MSG, "MsgD");
    /* ERR_FATAL on TC1 */
    MALFORMED("30100000 01000033 00000000 00000000", PCIE_TLP_E_MSG, "TC0");
    /* PTM ResponseD: Master Time in DW2-3, one DW of data, Propagation Delay (2.2.8.10) */
    MALFORMED("74000002 00000053 00000001 00000002 00000000 00000010", PCIE_TLP_E_MSG,
              "carries 1 DW");
    {
        uint8_t b[32];
        struct pcie_tlp d;
        decode_ok(b, hex("74000001 00000053 00000001 00000002 00000010", b, sizeof b), &d);
        assert_int_equal(d.kind, PCIE_TLP_MSGD);
        assert_int_equal(d.msg_code, PCIE_MSG_PTM_RESPONSE);
    }
    /* CplD carrying data with UR; CplLk with SC; CplD longer than Byte Count allows */
    MALFORMED("4a000001 00002004 01000500 00000000", PCIE_TLP_E_CPL, "UR");
    MALFORMED("0b000000 00000004 01000500", PCIE_TLP_E_CPL, "CplLk");
    MALFORMED("4a000002 00000004 01000500 00000000 00000000", PCIE_TLP_E_CPL, "Byte Count=4");
    /* legal: a UR completion without data, a partial CplD */
    uint8_t b[32];
    struct pcie_tlp t;
    size_t n = hex("0a000000 00002004 01000500", b, sizeof b);
    decode_ok(b, n, &t);
    n = hex("4a000001 00000008 01000504 00000000", b, sizeof b);
    decode_ok(b, n, &t);
}

static void test_mps(void **state)
{
    (void)state;
    static uint8_t data[512];
    struct pcie_tlp t;
    assert_int_equal(pcie_tlp_mem_write(&t, 0x100, 0x10000, data, 256, NULL), 0);
    struct pcilab_err e;
    assert_int_equal(pcie_tlp_check_mps(&t, 256, &e), 0);
    assert_int_equal(pcie_tlp_check_mps(&t, 128, &e), -PCILAB_EMALFORMED);
    assert_non_null(strstr(e.msg, "Max_Payload_Size 128"));
    assert_int_equal(pcie_tlp_check_mps(&t, 100, &e), -PCILAB_EINVAL);
    /* reads carry no payload: never above MPS */
    assert_int_equal(pcie_tlp_mem_read(&t, 0x100, 1, 0x10000, 4096, NULL), 0);
    assert_int_equal(pcie_tlp_check_mps(&t, 128, &e), 0);
}

/* ECRC (2.7.1). Goldens computed independently (Python zlib.crc32 over the
 * bytes with Type[0] and EP forced to 1, sent least significant byte first,
 * see crc.c for why that is the spec's CRC) and checked against the
 * bit-serial model in test_tlp_crc.c:
 *   MRd32 TD=1, 00008001 01000a0f f7c00010 -> ECRC f18c7cf7
 *   CplD  TD=1, 4a008001 00000004 01000500 deadbeef -> ECRC e3eb111b */
static void test_ecrc(void **state)
{
    (void)state;
    uint8_t b[64];
    struct pcie_tlp t;
    size_t n = hex("00008001 01000a0f f7c00010 f18c7cf7", b, sizeof b);
    decode_ok(b, n, &t);
    assert_true(t.td);
    assert_int_equal(t.ecrc, 0xf18c7cf7u);
    n = hex("4a008001 00000004 01000500 deadbeef e3eb111b", b, sizeof b);
    decode_ok(b, n, &t);
    /* EP is variant: poisoning in flight keeps the ECRC valid */
    b[2] |= 0x40;
    decode_ok(b, n, &t);
    assert_true(t.ep);
    /* any other bit flipped: ECRC mismatch */
    MALFORMED("4a008001 00000004 01000500 deadbeee e3eb111b", PCIE_TLP_E_ECRC, "2.7.1");
    MALFORMED("4a008001 00000004 01000500 deadbeef e3eb111c", PCIE_TLP_E_ECRC, "e3eb111c");
    expect_rule("4a008001 00000004 01000500 deadbeef 00000000", PCIE_TLP_DECODE_NO_ECRC_CHECK,
                PCIE_TLP_OK, 0, NULL);
    /* Type[0] is variant too: CfgRd1 and CfgRd0 of the same bytes share the ECRC */
    uint8_t c0[12], c1[12];
    hex("04000001 0000000f 01000010", c0, sizeof c0);
    hex("05000001 0000000f 01000010", c1, sizeof c1);
    assert_int_equal(pcie_ecrc(c0, 12), pcie_ecrc(c1, 12));
    /* the encoder appends the ECRC */
    assert_int_equal(pcie_tlp_mem_read(&t, 0x0100, 0x0a, 0xf7c00010u, 4, NULL), 0);
    t.td = true;
    uint8_t out[16];
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, NULL), 16);
    hex("00008001 01000a0f f7c00010 f18c7cf7", b, sizeof b);
    assert_memory_equal(out, b, 16);
}

static void test_encode_errors(void **state)
{
    (void)state;
    struct pcie_tlp t;
    uint8_t data[8] = {0};
    uint8_t out[64];
    struct pcilab_err e;
    assert_int_equal(pcie_tlp_mem_write(&t, 0, 0x1000, data, 8, NULL), 0);
    t.tc = 8;
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, &e), -PCILAB_EINVAL);
    assert_non_null(strstr(e.msg, "TC"));
    t.tc = 0;
    t.kind = PCIE_TLP_MRD; /* disagrees with Fmt/Type */
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, &e), -PCILAB_EINVAL);
    t.kind = PCIE_TLP_MWR;
    assert_int_equal(pcie_tlp_encode(&t, out, 12, &e), -PCILAB_ERANGE);
    t.payload_len = 4;
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, &e), -PCILAB_EINVAL);
    t.payload_len = 8;
    t.addr = 0x100000000ull; /* 64-bit address in a 3 DW header */
    assert_int_equal(pcie_tlp_encode(&t, out, sizeof out, &e), -PCILAB_EINVAL);
    assert_int_equal(pcie_tlp_mem_write(&t, 0, 0, data, 0, &e), -PCILAB_EINVAL);
    /* builder byte enables for an unaligned write: 5 bytes at ...2 -> BE 1100b / 0111b */
    assert_int_equal(pcie_tlp_mem_write(&t, 0, 0x1002, data, 5, NULL), 0);
    assert_int_equal(t.length, 2);
    assert_int_equal(t.first_be, 0xc);
    assert_int_equal(t.last_be, 0x7);
    assert_int_equal(pcie_tlp_byte_span(&t), 5);
    /* 2 bytes inside one DW at ...1 -> BE 0110b */
    assert_int_equal(pcie_tlp_mem_write(&t, 0, 0x1001, data, 2, NULL), 0);
    assert_int_equal(t.length, 1);
    assert_int_equal(t.first_be, 0x6);
    assert_int_equal(t.last_be, 0);
}

static void test_bdf(void **state)
{
    (void)state;
    char b[PCIE_BDF_STRLEN];
    assert_int_equal(pcie_bdf(0x12, 0x1f, 7), 0x12ff);
    assert_string_equal(pcie_bdf_str(0x12ff, b), "12:1f.7");
    assert_string_equal(pcie_bdf_str(0, b), "00:00.0");
    uint16_t v;
    assert_int_equal(pcie_bdf_parse("03:00.1", &v, NULL), 0);
    assert_int_equal(v, pcie_bdf(3, 0, 1));
    assert_int_equal(pcie_bdf_parse("03:20.1", &v, NULL), -PCILAB_EINVAL);
    assert_int_equal(pcie_bdf_parse("03:00.8", &v, NULL), -PCILAB_EINVAL);
    assert_int_equal(pcie_bdf_parse("3:0", &v, NULL), -PCILAB_EINVAL);
}

/* Every value of byte 0 (Fmt/Type, Table 2-3): the 38 valid encodings decode
 * to a kind whose own Fmt/Type (pcie_tlp_set_kind) is that byte, with the
 * header size and data flag Fmt gives; all others are rejected as reserved or
 * unsupported. Guards the byte-0 table of the fast paths against kinds[]. */
static void test_every_byte0(void **state)
{
    (void)state;
    int valid = 0;
    for (unsigned b0 = 0; b0 < 256; b0++) {
        uint8_t b[16] = {(uint8_t)b0, 0, 0, 1, 0, 0, 0, 0x0f, 0x80, 0, 0, 0, 0, 0, 0, 0};
        unsigned fmt = b0 >> 5, type = b0 & 0x1f;
        size_t hdr = fmt & 1 ? 16 : 12;
        struct pcie_tlp t;
        enum pcie_tlp_error k;
        struct pcilab_err e;
        pcilab_err_clear(&e);
        int rc = pcie_tlp_decode_ex(b, hdr, PCIE_TLP_DECODE_HEADER_ONLY, &t, &k, &e);
        assert_int_equal(t.fmt, fmt);
        assert_int_equal(t.type, type);
        if (t.kind == PCIE_TLP_UNKNOWN) {
            assert_true(rc < 0);
            if (k != PCIE_TLP_E_FMT_TYPE && k != PCIE_TLP_E_UNSUPPORTED)
                fail_msg("byte 0 %02x: error kind %s (%s)", b0, pcie_tlp_error_name(k), e.msg);
            continue;
        }
        valid++;
        if (k == PCIE_TLP_E_LENGTH || k == PCIE_TLP_E_TRUNCATED || k == PCIE_TLP_E_FMT_TYPE ||
            k == PCIE_TLP_E_UNSUPPORTED)
            fail_msg("byte 0 %02x (%s): %s", b0, pcie_tlp_kind_name(t.kind), e.msg);
        struct pcie_tlp s;
        memset(&s, 0, sizeof s);
        assert_int_equal(pcie_tlp_set_kind(&s, t.kind, fmt & 1, type & 7), 0);
        if (s.fmt != fmt || s.type != type)
            fail_msg("byte 0 %02x decodes as %s, which encodes as Fmt %u Type %02x", b0,
                     pcie_tlp_kind_name(t.kind), s.fmt, s.type);
        assert_int_equal(pcie_tlp_header_dw(&t), fmt & 1 ? 4 : 3);
        assert_int_equal(pcie_tlp_has_data(&t), (fmt & 2) != 0);
        assert_int_equal(t.payload_absent, (fmt & 2) != 0);
    }
    assert_int_equal(valid, 38);
}

/* Deterministic random bytes: whenever decode accepts, encode reproduces them. */
static void test_random_roundtrip(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint8_t b[64], out[64];
    int accepted = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t y = x * 0x2545f4914f6cdd1dull;
        for (int j = 0; j < 64; j++)
            b[j] = (uint8_t)(y >> ((j % 8) * 8)) ^ (uint8_t)(j * 29 + i);
        /* bias towards plausible TLPs: small lengths, no TD most of the time */
        b[2] &= 0x7c;
        b[3] &= 0x03;
        size_t n = 12 + 4 * (size_t)(y % 4);
        struct pcie_tlp t;
        if (pcie_tlp_decode(b, n, &t, NULL) == 0) {
            accepted++;
            int m = pcie_tlp_encode(&t, out, sizeof out, NULL);
            assert_int_equal(m, (int)n);
            assert_memory_equal(out, b, n);
        }
    }
    assert_true(accepted > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_seed_mwr),
        cmocka_unit_test(test_golden_mrd64_10bit_tag),
        cmocka_unit_test(test_golden_cpld),
        cmocka_unit_test(test_golden_cfgrd0),
        cmocka_unit_test(test_golden_messages),
        cmocka_unit_test(test_golden_io_and_atomic),
        cmocka_unit_test(test_tph),
        cmocka_unit_test(test_roundtrip_every_kind),
        cmocka_unit_test(test_reserved_bits_roundtrip),
        cmocka_unit_test(test_malformed_structure),
        cmocka_unit_test(test_malformed_length),
        cmocka_unit_test(test_malformed_byte_enables),
        cmocka_unit_test(test_malformed_address),
        cmocka_unit_test(test_malformed_cfg_io),
        cmocka_unit_test(test_malformed_atomic_msg_cpl),
        cmocka_unit_test(test_malformed_atomic_msg_cpl2),
        cmocka_unit_test(test_mps),
        cmocka_unit_test(test_ecrc),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_bdf),
        cmocka_unit_test(test_every_byte0),
        cmocka_unit_test(test_random_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
