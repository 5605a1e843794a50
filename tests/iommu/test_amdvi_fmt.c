/* AMD-Vi formats: every field round-trips, known byte patterns computed by
 * hand from the spec's figures (and two entries Linux documents in
 * Documentation/ABI/testing/debugfs-amd-iommu), reserved-bit detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "iommu/amdvi_fmt.h"

/* Field-by-field comparisons (structs have padding, so no memcmp). */
#define EQ(a, b, f) assert_int_equal((a)->f, (b)->f)

static void dte_eq(const struct amdvi_dte *a, const struct amdvi_dte *b)
{
    EQ(a, b, v); EQ(a, b, tv); EQ(a, b, had); EQ(a, b, mode); EQ(a, b, pt_root);
    EQ(a, b, ppr); EQ(a, b, gprp); EQ(a, b, giov); EQ(a, b, gv); EQ(a, b, glx);
    EQ(a, b, gcr3_root); EQ(a, b, ir); EQ(a, b, iw); EQ(a, b, domain_id); EQ(a, b, i);
    EQ(a, b, se); EQ(a, b, sa); EQ(a, b, ioctl); EQ(a, b, cache); EQ(a, b, sd);
    EQ(a, b, ex); EQ(a, b, sysmgt); EQ(a, b, iv); EQ(a, b, int_tab_len); EQ(a, b, ig);
    EQ(a, b, int_root); EQ(a, b, init_pass); EQ(a, b, eint_pass); EQ(a, b, nmi_pass);
    EQ(a, b, int_ctl); EQ(a, b, lint0_pass); EQ(a, b, lint1_pass); EQ(a, b, attr_v);
    EQ(a, b, mode0_fc); EQ(a, b, snoop_attr);
}

static void pte_eq(const struct amdvi_pte *a, const struct amdvi_pte *b)
{
    EQ(a, b, pr); EQ(a, b, a); EQ(a, b, d); EQ(a, b, next_level); EQ(a, b, addr);
    EQ(a, b, u); EQ(a, b, fc); EQ(a, b, ir); EQ(a, b, iw);
}

static void event_eq(const struct amdvi_event *a, const struct amdvi_event *b)
{
    EQ(a, b, code); EQ(a, b, devid); EQ(a, b, pasid); EQ(a, b, domain); EQ(a, b, flags);
    EQ(a, b, type); EQ(a, b, addr); EQ(a, b, counter); EQ(a, b, op1);
}

static void cmd_eq(const struct amdvi_cmd *a, const struct amdvi_cmd *b)
{
    EQ(a, b, opcode); EQ(a, b, devid); EQ(a, b, domain); EQ(a, b, pasid); EQ(a, b, s);
    EQ(a, b, i); EQ(a, b, f); EQ(a, b, pde); EQ(a, b, gn); EQ(a, b, inval); EQ(a, b, addr);
    EQ(a, b, data); EQ(a, b, maxpend); EQ(a, b, queueid); EQ(a, b, type); EQ(a, b, pfcount);
    EQ(a, b, tag);
}

static void irte_eq(const struct amdvi_irte *a, const struct amdvi_irte *b)
{
    EQ(a, b, remap_en); EQ(a, b, sup_iopf); EQ(a, b, int_type); EQ(a, b, rq_eoi);
    EQ(a, b, dm); EQ(a, b, guest_mode); EQ(a, b, destination); EQ(a, b, vector);
    EQ(a, b, ga_log_intr); EQ(a, b, is_run); EQ(a, b, ga_tag); EQ(a, b, ga_root);
}

static void dte_round_trip_every_field(void **state)
{
    (void)state;
    struct amdvi_dte d = {
        .v = true, .tv = true, .had = 2, .mode = 5, .pt_root = 0x000fedcba9876000ull,
        .ppr = true, .gprp = true, .giov = true, .gv = true, .glx = 3,
        .gcr3_root = 0x000abcdef1234000ull, .ir = true, .iw = true, .domain_id = 0xbeef,
        .i = true, .se = true, .sa = true, .ioctl = 2, .cache = true, .sd = true, .ex = true,
        .sysmgt = 3, .iv = true, .int_tab_len = 11, .ig = true,
        .int_root = 0x000123456789ab40ull, .init_pass = true, .eint_pass = true,
        .nmi_pass = true, .int_ctl = 2, .lint0_pass = true, .lint1_pass = true,
        .attr_v = true, .mode0_fc = true, .snoop_attr = 0xa5,
    };
    uint8_t raw[32];
    struct amdvi_dte e;
    amdvi_dte_encode(&d, raw);
    amdvi_dte_decode(raw, &e);
    dte_eq(&d, &e);
    /* Each field alone lands where the spec puts it: flip one at a time. */
    struct amdvi_dte z = {0};
    z.domain_id = 0x8001;
    amdvi_dte_encode(&z, raw);
    assert_int_equal(raw[8], 0x01);
    assert_int_equal(raw[9], 0x80);
    z = (struct amdvi_dte){0};
    z.int_ctl = 2; /* bits 189:188 -> byte 23 bits 5:4 */
    amdvi_dte_encode(&z, raw);
    assert_int_equal(raw[23], 0x20);
    z = (struct amdvi_dte){0};
    z.mode0_fc = true; /* bit 247 -> byte 30 bit 7 */
    amdvi_dte_encode(&z, raw);
    assert_int_equal(raw[30], 0x80);
    z = (struct amdvi_dte){0};
    z.gcr3_root = 0x000fffffffffffffull & ~0xfffull;
    amdvi_dte_encode(&z, raw);
    amdvi_dte_decode(raw, &e);
    assert_int_equal(e.gcr3_root, 0x000ffffffffff000ull);
}

static void dte_known_bytes(void **state)
{
    (void)state;
    /* V=1 TV=1 Mode=3 root 0x123456000 IR=IW=1 DomainID 0x1234: q0 =
     * 0x6000000123456603 (bits 0, 1, 11:9 = 3, 51:12, 61, 62). */
    struct amdvi_dte d = {.v = true, .tv = true, .mode = 3, .pt_root = 0x123456000ull,
                          .ir = true, .iw = true, .domain_id = 0x1234};
    static const uint8_t want[32] = {0x03, 0x66, 0x45, 0x23, 0x01, 0x00, 0x00, 0x60,
                                     0x34, 0x12};
    uint8_t raw[32];
    amdvi_dte_encode(&d, raw);
    assert_memory_equal(raw, want, 32);
    /* Linux's blocked entry (clear_dte_entry, v4.9.80: IOMMU_PTE_P | IOMMU_PTE_TV):
     * V=1 TV=1 Mode 0, IR=IW=0, DomainID 0. */
    static const uint8_t blocked[32] = {0x03};
    struct amdvi_dte b;
    amdvi_dte_decode(blocked, &b);
    assert_true(b.v && b.tv);
    assert_int_equal(b.mode, 0);
    assert_false(b.ir || b.iw);
    assert_int_equal(b.domain_id, 0);
    /* Interrupt part: IV=1 IntTabLen=8 root 0x12340000 IntCtl=2: q2 =
     * 1 | 8 << 1 | 0x12340000 | 2 << 60. */
    struct amdvi_dte i = {.iv = true, .int_tab_len = 8, .int_root = 0x12340000, .int_ctl = 2};
    amdvi_dte_encode(&i, raw);
    static const uint8_t q2[8] = {0x11, 0x00, 0x34, 0x12, 0x00, 0x00, 0x00, 0x20};
    assert_memory_equal(raw + 16, q2, 8);
}

static void dte_reserved_bits(void **state)
{
    (void)state;
    uint8_t raw[32] = {0};
    uint64_t r[4];
    raw[0] = 0x03;
    assert_false(amdvi_dte_check(raw, 0, r));
    raw[0] = 0x07; /* bit 2 */
    assert_true(amdvi_dte_check(raw, 0, r));
    assert_int_equal(r[0], 0x4);
    raw[0] = 0x03;
    raw[7] = 0x80; /* bit 63 */
    assert_true(amdvi_dte_check(raw, 0, r));
    assert_int_equal(r[0], 1ull << 63);
    raw[7] = 0;
    raw[13] = 0x04; /* bit 106 */
    assert_true(amdvi_dte_check(raw, 0, r));
    assert_int_equal(r[1], 1ull << 42);
    raw[13] = 0;
    raw[23] = 0x08; /* bit 187 */
    assert_true(amdvi_dte_check(raw, 0, r));
    assert_int_equal(r[2], 1ull << 59);
    raw[23] = 0;
    raw[24] = 0x01; /* bit 192 */
    assert_true(amdvi_dte_check(raw, 0, r));
    assert_int_equal(r[3], 1);
    raw[24] = 0;
    /* GV (bit 55) is reserved without GTSup and legal with it. */
    raw[6] = 0x80;
    assert_true(amdvi_dte_check(raw, 0, r));
    assert_false(amdvi_dte_check(raw, AMDVI_EFR_GT_SUP, r));
    raw[6] = 0;
    /* HAD (8:7) needs HASup. */
    raw[1] = 0x01;
    assert_true(amdvi_dte_check(raw, 0, r));
    assert_false(amdvi_dte_check(raw, AMDVI_EFR_HA_SUP, r));
    /* Reserved encodings. */
    struct amdvi_dte d = {.v = true, .mode = 7, .ioctl = 3, .int_ctl = 3, .int_tab_len = 12};
    assert_int_equal(amdvi_dte_bad_encoding(&d), AMDVI_DTE_BAD_MODE | AMDVI_DTE_BAD_IOCTL |
                                                     AMDVI_DTE_BAD_INTCTL |
                                                     AMDVI_DTE_BAD_INTTABLEN);
    d = (struct amdvi_dte){.mode = 6, .int_tab_len = 11, .int_ctl = 2, .ioctl = 2};
    assert_int_equal(amdvi_dte_bad_encoding(&d), 0);
}

static void pte_round_trip_and_bytes(void **state)
{
    (void)state;
    struct amdvi_pte p = {.pr = true, .a = true, .d = true, .next_level = 0,
                          .addr = 0x000ffffffffff000ull, .u = true, .fc = true,
                          .ir = true, .iw = true};
    struct amdvi_pte q;
    amdvi_pte_decode(amdvi_pte_encode(&p), &q);
    pte_eq(&p, &q);
    p = (struct amdvi_pte){.pr = true, .addr = 0xabcde000, .ir = true, .iw = true};
    assert_int_equal(amdvi_pte_encode(&p), 0x60000000abcde001ull);
    p = (struct amdvi_pte){.pr = true, .next_level = 2, .addr = 0x5000, .ir = true};
    assert_int_equal(amdvi_pte_encode(&p), 0x2000000000005401ull);
    /* Reserved: a PDE may not set 60:52 (so not U or FC), a PTE 58:52. */
    assert_int_equal(amdvi_pte_reserved(0x2000000000005401ull), 0);
    assert_int_equal(amdvi_pte_reserved(0x2000000000005401ull | 1ull << 59), 1ull << 59);
    assert_int_equal(amdvi_pte_reserved(0x6000000000005001ull | 1ull << 59), 0);
    assert_int_equal(amdvi_pte_reserved(0x6000000000005001ull | 1ull << 52), 1ull << 52);
    /* Ignored bits are not reserved. */
    assert_int_equal(amdvi_pte_reserved(0x600000000000519full | 1ull << 63), 0);
}

static void pte_large_page_encoding(void **state)
{
    (void)state;
    /* 2.2.3 example page sizes: ..0 -> 8 KiB, ..01 -> 16 KiB, ..011 -> 32 KiB. */
    assert_int_equal(amdvi_pte_large_shift(0x10000000), 13);
    assert_int_equal(amdvi_pte_large_shift(0x10001000), 14);
    assert_int_equal(amdvi_pte_large_shift(0x10003000), 15);
    for (unsigned s = 13; s <= 51; s++) {
        uint64_t base = (0x000fffffffffffffull >> s) << s & 0x000ffffffffff000ull;
        base &= ~((1ull << s) - 1);
        uint64_t a = amdvi_pte_large_addr(base, s);
        assert_int_equal(amdvi_pte_large_shift(a), s);
        assert_int_equal(a & ~((1ull << s) - 1), base);
    }
    assert_int_equal(amdvi_pte_large_shift(0x000ffffffffff000ull), 64);
    assert_int_equal(amdvi_pte_large_addr(0x40000000, 30), 0x40000000 | 0x1ffff000);
}

static void event_round_trip_every_type(void **state)
{
    (void)state;
    static const uint8_t codes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xd, 0xe};
    for (size_t i = 0; i < sizeof codes; i++) {
        struct amdvi_event e = {.code = codes[i]}, f;
        uint8_t raw[16];
        switch (codes[i]) {
        case 1: e.devid = 0x1234; e.pasid = 0xabcde; e.flags = 0x1a9; e.addr = 0xfff0; break;
        case 2: e.devid = 0x0100; e.domain = 0x42; e.flags = 0x1fe; e.addr = 0xffbf8123; break;
        case 3: e.devid = 7; e.flags = AMDVI_EVF_I | AMDVI_EVF_RW | AMDVI_EVF_TR; e.type = 2;
            e.addr = 0x1000020; break;
        case 4: e.devid = 8; e.domain = 9; e.flags = AMDVI_EVF_RW; e.type = 1;
            e.addr = 0x5008; break;
        case 5: e.addr = 0x7000; break;
        case 6: e.type = 3; e.addr = 0x12345678; break;
        case 7: e.devid = 0x55; e.addr = 0x8010; break;
        case 8: e.devid = 0x99; e.pasid = 0xfffff; e.flags = AMDVI_EVF_GN | AMDVI_EVF_US |
            AMDVI_EVF_TR; e.type = 7; e.addr = 0xfee00000; break;
        case 9: e.devid = 3; e.pasid = 1; e.type = 1; e.addr = 0x1000; break;
        case 0xa: e.counter = 0x000fffff12345678ull; break;
        default: e.op1 = 0x0123456789abcdefull & ((1ull << 60) - 1); e.addr = ~0ull; break;
        }
        amdvi_event_encode(&e, raw);
        amdvi_event_decode(raw, &f);
        event_eq(&e, &f);
        assert_int_equal(raw[7] >> 4, codes[i]);
    }
    /* IO_PAGE_FAULT with GN: the D/P field carries PASID[15:0]. */
    struct amdvi_event e = {.code = 2, .devid = 1, .pasid = 0x5abcd,
                            .flags = AMDVI_EVF_GN | AMDVI_EVF_US}, f;
    uint8_t raw[16];
    amdvi_event_encode(&e, raw);
    amdvi_event_decode(raw, &f);
    assert_int_equal(f.pasid, 0x5abcd);
    assert_int_equal(raw[2], 0x05);
    assert_int_equal(raw[4], 0xcd);
    assert_int_equal(raw[5], 0xab);
}

static void event_known_bytes_seed(void **state)
{
    (void)state;
    /* The seed's line "IO_PAGE_FAULT device=01:00.0 domain=0x0000
     * address=0x00000000ffbf8000 flags=0x0070": code 2 at 63:60, DeviceID
     * 0x0100, PR|RW|PE at bits 52, 53, 54. */
    struct amdvi_event e = {.code = AMDVI_EV_IO_PAGE_FAULT, .devid = 0x0100,
                            .flags = AMDVI_EVF_PR | AMDVI_EVF_RW | AMDVI_EVF_PE,
                            .addr = 0xffbf8000};
    static const uint8_t want[16] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x70, 0x20,
                                     0x00, 0x80, 0xbf, 0xff, 0x00, 0x00, 0x00, 0x00};
    uint8_t raw[16];
    amdvi_event_encode(&e, raw);
    assert_memory_equal(raw, want, 16);
    assert_int_equal(amdvi_event_linux_flags(raw), 0x070);
    assert_string_equal(amdvi_event_name(raw[7] >> 4), "IO_PAGE_FAULT");
    /* ILLEGAL_COMMAND_ERROR: only the code and the command's address. */
    e = (struct amdvi_event){.code = 5, .devid = 0xffff, .flags = 0x1ff, .addr = 0x12340};
    amdvi_event_encode(&e, raw);
    static const uint8_t ill[16] = {0, 0, 0, 0, 0, 0, 0, 0x50, 0x40, 0x23, 0x01};
    assert_memory_equal(raw, ill, 16);
}

static void cmd_round_trip_every_opcode(void **state)
{
    (void)state;
    struct amdvi_cmd cmds[] = {
        {.opcode = 1, .s = true, .i = true, .f = true, .addr = 0x000ffffffffffff8ull,
         .data = 0x1122334455667788ull},
        {.opcode = 2, .devid = 0xabcd},
        {.opcode = 3, .pasid = 0xfffff, .domain = 0x1234, .s = true, .pde = true, .gn = true,
         .addr = 0xfffffffffffff000ull},
        {.opcode = 4, .devid = 0x10, .pasid = 0xabcde, .maxpend = 0x20, .queueid = 0x3344,
         .s = true, .gn = true, .type = 3, .addr = 0x12345000},
        {.opcode = 5, .devid = 0xfff},
        {.opcode = 6, .devid = 0x11, .pfcount = 7, .pasid = 0x12345, .s = true, .gn = true,
         .inval = true, .addr = 0x9000},
        {.opcode = 7, .devid = 0x22, .pasid = 0x54321, .gn = true, .tag = 0xbeef},
        {.opcode = 8},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        uint8_t raw[16];
        uint64_t r[2];
        struct amdvi_cmd d;
        amdvi_cmd_encode(&cmds[i], raw);
        assert_false(amdvi_cmd_decode(raw, &d)); /* legal */
        cmd_eq(&cmds[i], &d);
        assert_false(amdvi_cmd_check(raw, r));
    }
}

/* Random entries of every opcode, through the decoder and the encoder the
 * model and the host driver inline (amdvi_fmt.h): decode says illegal
 * exactly when amdvi_cmd_check does, and a legal entry encodes back to its
 * own 16 bytes (every bit that is not reserved is a field), whatever the
 * opcode the previous entry had. */
static void cmd_random_entries_round_trip(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    unsigned legal = 0;
    for (unsigned n = 0; n < 200000; n++) {
        uint8_t raw[16], back[16];
        for (int w = 0; w < 2; w++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            uint64_t v = x;
            if (n & 1) /* half of them without reserved bits: legal when known */
                v &= ~amdvi_cmd_rsvd[(n >> 1) & 15][w];
            if (w == 0)
                v = (v & ~(0xfull << 60)) | (uint64_t)((n >> 1) & 15) << 60;
            for (int i = 0; i < 8; i++)
                raw[8 * w + i] = (uint8_t)(v >> (8 * i));
        }
        struct amdvi_cmd d;
        uint64_t r[2];
        bool bad = amdvi_cmd_decode(raw, &d);
        assert_int_equal(bad, amdvi_cmd_check(raw, r));
        assert_int_equal(d.opcode, (n >> 1) & 15);
        if (bad)
            continue;
        legal++;
        amdvi_cmd_encode(&d, back);
        assert_memory_equal(back, raw, 16);
    }
    assert_true(legal > 40000); /* the 8 known opcodes' cleared half, about 50,000 */
}

static void cmd_known_bytes_linux_debugfs(void **state)
{
    (void)state;
    /* Documentation/ABI/testing/debugfs-amd-iommu shows a Linux command buffer:
     * "00835001 10000001 00003c00 00000000" (COMPLETION_WAIT, store 0x3c00 at
     * 0x100835000) and "00000000 30000005 fffff003 7fffffff"
     * (INVALIDATE_IOMMU_PAGES, domain 5, everything, S and PDE). */
    struct amdvi_cmd cw = {.opcode = 1, .s = true, .addr = 0x100835000ull, .data = 0x3c00};
    struct amdvi_cmd inv = {.opcode = 3, .domain = 5, .s = true, .pde = true,
                            .addr = AMDVI_INV_ALL_ADDR};
    static const uint8_t want_cw[16] = {0x01, 0x50, 0x83, 0x00, 0x01, 0x00, 0x00, 0x10,
                                        0x00, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t want_inv[16] = {0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x30,
                                         0x03, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    uint8_t raw[16];
    amdvi_cmd_encode(&cw, raw);
    assert_memory_equal(raw, want_cw, 16);
    amdvi_cmd_encode(&inv, raw);
    assert_memory_equal(raw, want_inv, 16);
    uint64_t base, size;
    amdvi_inv_range(inv.addr, inv.s, &base, &size);
    assert_int_equal(base, 0);
    assert_int_equal(size, 0); /* everything */
}

static void cmd_reserved_bits(void **state)
{
    (void)state;
    uint8_t raw[16];
    uint64_t r[2];
    struct amdvi_cmd d; /* amdvi_cmd_decode says what amdvi_cmd_check says */
    struct amdvi_cmd c = {.opcode = 2, .devid = 1};
    amdvi_cmd_encode(&c, raw);
    raw[2] = 1; /* bit 16 */
    assert_true(amdvi_cmd_check(raw, r));
    assert_true(amdvi_cmd_decode(raw, &d));
    assert_int_equal(r[0], 1ull << 16);
    c = (struct amdvi_cmd){.opcode = 1, .s = true, .addr = 0x1000};
    amdvi_cmd_encode(&c, raw);
    raw[6] = 0x10; /* bit 52 */
    assert_true(amdvi_cmd_check(raw, r));
    assert_true(amdvi_cmd_decode(raw, &d));
    c = (struct amdvi_cmd){.opcode = 3, .domain = 1};
    amdvi_cmd_encode(&c, raw);
    raw[8] |= 0x08; /* bit 67 */
    assert_true(amdvi_cmd_check(raw, r));
    assert_true(amdvi_cmd_decode(raw, &d));
    assert_int_equal(r[1], 0x8);
    c = (struct amdvi_cmd){.opcode = 8};
    amdvi_cmd_encode(&c, raw);
    assert_false(amdvi_cmd_check(raw, r));
    assert_false(amdvi_cmd_decode(raw, &d));
    raw[15] = 1;
    assert_true(amdvi_cmd_check(raw, r));
    assert_true(amdvi_cmd_decode(raw, &d));
    memset(raw, 0, 16); /* opcode 0 */
    assert_true(amdvi_cmd_check(raw, r));
    assert_true(amdvi_cmd_decode(raw, &d));
    raw[7] = 0x90; /* opcode 9 */
    assert_true(amdvi_cmd_check(raw, r));
    assert_true(amdvi_cmd_decode(raw, &d));
}

static void inv_range_encoding(void **state)
{
    (void)state;
    uint64_t base, size;
    amdvi_inv_range(0x12345000, false, &base, &size);
    assert_int_equal(base, 0x12345000);
    assert_int_equal(size, 0x1000);
    amdvi_inv_range(0x12344000, true, &base, &size); /* bit 12 clear: 8 KiB */
    assert_int_equal(base, 0x12344000);
    assert_int_equal(size, 0x2000);
    amdvi_inv_range(0x200ff000, true, &base, &size); /* bits 19:12 set, 20 clear: 2 MiB */
    assert_int_equal(base, 0x20000000);
    assert_int_equal(size, 0x200000);
    for (unsigned s = 12; s < 63; s++) {
        bool sb;
        uint64_t b = (0x123456789abcdef0ull >> s) << s;
        uint64_t a = amdvi_inv_addr(b, s, &sb);
        amdvi_inv_range(a, sb, &base, &size);
        assert_int_equal(base, b);
        assert_int_equal(size, 1ull << s);
    }
}

static void irte_formats(void **state)
{
    (void)state;
    struct amdvi_irte e = {.remap_en = true, .sup_iopf = true, .int_type = 1, .rq_eoi = true,
                           .dm = true, .destination = 0xab, .vector = 0xcd}, f;
    uint32_t w = amdvi_irte32_encode(&e);
    assert_int_equal(w, 0x00cdab67); /* 1 | 2 | 1 << 2 | 1 << 5 | 1 << 6 */
    assert_int_equal(amdvi_irte32_decode(w, &f), 0);
    irte_eq(&e, &f);
    assert_int_equal(amdvi_irte32_decode(w | 0x01000000, &f), 0x01000000);
    /* Linux's legacy entry for vector 0x41 to APIC 3, fixed, physical. */
    e = (struct amdvi_irte){.remap_en = true, .destination = 3, .vector = 0x41};
    assert_int_equal(amdvi_irte32_encode(&e), 0x00410301);

    uint8_t raw[16];
    uint64_t r[2];
    e = (struct amdvi_irte){.remap_en = true, .int_type = 1, .dm = true,
                            .destination = 0x12345678, .vector = 0x99, .ga_tag = 0xdeadbeef,
                            .ga_root = 0x000ffffffffff000ull};
    amdvi_irte128_encode(&e, raw);
    assert_false(amdvi_irte128_decode(raw, &f, r));
    irte_eq(&e, &f);
    assert_int_equal(raw[1], 0x78);
    assert_int_equal(raw[15], 0x12);
    e = (struct amdvi_irte){.remap_en = true, .guest_mode = true, .ga_log_intr = true,
                            .is_run = true, .destination = 5, .vector = 0x20, .ga_tag = 7,
                            .ga_root = 0x5000};
    amdvi_irte128_encode(&e, raw);
    assert_false(amdvi_irte128_decode(raw, &f, r));
    irte_eq(&e, &f);
    raw[9] |= 0x01; /* bit 72 */
    assert_true(amdvi_irte128_decode(raw, &f, r));
    assert_int_equal(r[1], 0x100);
    /* The index comes from MSI data bits 10:0; the compatibility output. */
    assert_int_equal(amdvi_msi_index(0xffff), 0x7ff);
    assert_int_equal(amdvi_int_tab_entries(8), 256);
    assert_int_equal(amdvi_msi_addr(3, true), 0xfee03004);
    assert_int_equal(amdvi_msi_data(0x41, AMDVI_DM_ARB), 0x141);
}

static void register_encoders(void **state)
{
    (void)state;
    assert_int_equal(amdvi_dev_tab_base(0x12340000, 0x1ff), 0x123401ff);
    assert_int_equal(amdvi_ring_base(0x80000, 9), 0x0900000000080000ull);
    assert_int_equal(AMDVI_CTL_CMD_BUF_EN, 0x1000);
    assert_int_equal(AMDVI_CTL_GA_EN, 0x20000);
    assert_int_equal(AMDVI_CTL_XT_EN, 1ull << 50);
    assert_int_equal(AMDVI_ST_RW1C & AMDVI_ST_EVENT_LOG_RUN, 0);
    assert_int_equal(AMDVI_ST_RW1C & AMDVI_ST_EVENT_OVERFLOW, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dte_round_trip_every_field),
        cmocka_unit_test(dte_known_bytes),
        cmocka_unit_test(dte_reserved_bits),
        cmocka_unit_test(pte_round_trip_and_bytes),
        cmocka_unit_test(pte_large_page_encoding),
        cmocka_unit_test(event_round_trip_every_type),
        cmocka_unit_test(event_known_bytes_seed),
        cmocka_unit_test(cmd_round_trip_every_opcode),
        cmocka_unit_test(cmd_known_bytes_linux_debugfs),
        cmocka_unit_test(cmd_random_entries_round_trip),
        cmocka_unit_test(cmd_reserved_bits),
        cmocka_unit_test(inv_range_encoding),
        cmocka_unit_test(irte_formats),
        cmocka_unit_test(register_encoders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
