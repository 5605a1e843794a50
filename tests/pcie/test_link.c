/* Link timing arithmetic, credits and tags (pure computations). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pcie/fc.h"
#include "pcie/link.h"

static void wire_bytes_and_time(void **state)
{
    (void)state;
    /* The required case: 64-byte MWr, 4 DW header, Gen2 x1 = 16 + 64 + 8 =
     * 88 bytes; 5 GT/s 8b/10b = 2 ns per byte per lane -> 176 ns */
    size_t tlp = pcie_link_tlp_bytes(4, 64, false);
    assert_int_equal(tlp, 80);
    assert_int_equal(pcie_link_tlp_wire_bytes(2, tlp), 88);
    assert_int_equal(pcie_link_wire_time(2, 1, 88), 176000);
    /* Gen1 x1: 4 ns per byte */
    assert_int_equal(pcie_link_wire_time(1, 1, 88), 352000);
    /* Gen2 x4: 88 / 4 = 22 Symbol times */
    assert_int_equal(pcie_link_wire_time(2, 4, 88), 44000);
    /* Gen2 x8: ceil(88 / 8) = 11 Symbol times (last one half PAD) */
    assert_int_equal(pcie_link_packet_slots(8, 88), 11);
    assert_int_equal(pcie_link_wire_time(2, 8, 88), 22000);
    /* x12: ceil(88/12) = 8 */
    assert_int_equal(pcie_link_wire_time(1, 12, 88), 8 * 4000);
    /* Gen3 x1: 130/16 UI of 125 ps per byte = 1015.625 ps; 88 bytes = 89375 ps */
    assert_int_equal(pcie_link_wire_time(3, 1, 88), 89375);
    /* Gen4 x16, 4 KiB MWr with 3 DW header + ECRC: 4096+12+4+8 = 4120 B,
     * ceil(4120/16) = 258 Symbol times of 507.8125 ps = 131015.625 -> 131016 */
    assert_int_equal(pcie_link_tlp_wire_bytes(4, pcie_link_tlp_bytes(3, 4096, true)), 4120);
    assert_int_equal(pcie_link_wire_time(4, 16, 4120), 131016);
    /* Gen5 x1 DLLP: 8 bytes x 253.90625 ps = 2031.25 -> 2031 */
    assert_int_equal(pcie_link_wire_time(5, 1, PCIE_DLLP_WIRE_BYTES), 2031);

    uint64_t num, den;
    pcie_link_ps_per_byte(2, &num, &den);
    assert_true(num == 2000 && den == 1);
    pcie_link_ps_per_byte(3, &num, &den);
    assert_true(num == 8125 && den == 8); /* 1015.625 */
    pcie_link_ps_per_byte(5, &num, &den);
    assert_true(num * 1000 / den == 253906);
    assert_true(pcie_link_raw_bytes_per_s(2, 1) == 500e6);
    assert_true(pcie_link_raw_bytes_per_s(1, 16) == 4e9);
    assert_int_equal(pcie_link_mts(4), 16000);
    assert_true(pcie_link_is_8b10b(2));
    assert_false(pcie_link_is_8b10b(3));
    assert_int_equal(pcie_link_symbol_time(1), 4000);
    assert_int_equal(pcie_link_symbol_time(3), 1000);

    struct pcilab_err e = {0};
    assert_int_equal(pcie_link_check(6, 1, &e), -PCILAB_EINVAL);
    assert_int_equal(pcie_link_check(2, 3, &e), -PCILAB_EINVAL);
    assert_int_equal(pcie_link_check(0, 1, &e), -PCILAB_EINVAL);
    assert_int_equal(pcie_link_check(5, 32, &e), 0);
}

static void ack_latency_tables(void **state)
{
    (void)state;
    /* 2.5 GT/s table entries */
    static const unsigned w[7] = {1, 2, 4, 8, 12, 16, 32};
    static const unsigned g1_128[7] = {237, 128, 73, 67, 58, 48, 33};
    static const unsigned g1_256[7] = {416, 217, 118, 107, 90, 72, 45};
    static const unsigned g1_512[7] = {559, 289, 154, 86, 109, 86, 52};
    static const unsigned g1_4096[7] = {4143, 2081, 1050, 534, 706, 534, 276};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(pcie_link_ack_latency_symbols(1, w[i], 128), g1_128[i]);
        assert_int_equal(pcie_link_ack_latency_symbols(1, w[i], 256), g1_256[i]);
        assert_int_equal(pcie_link_ack_latency_symbols(1, w[i], 512), g1_512[i]);
        assert_int_equal(pcie_link_ack_latency_symbols(1, w[i], 4096), g1_4096[i]);
    }
    /* 5.0 GT/s: InternalDelay 70 */
    static const unsigned g2_128[7] = {288, 179, 124, 118, 109, 99, 84};
    for (int i = 0; i < 7; i++)
        assert_int_equal(pcie_link_ack_latency_symbols(2, w[i], 128), g2_128[i]);
    assert_int_equal(pcie_link_ack_latency_symbols(2, 1, 256), 467);
    /* 8.0 GT/s x1 MPS 128: 333 */
    assert_int_equal(pcie_link_ack_latency_symbols(3, 1, 128), 333);
}

static void credit_gating(void **state)
{
    (void)state;
    struct pcie_fc_tx c;
    /* 8-bit header counter with 10 credits */
    assert_int_equal(pcie_fc_tx_init(&c, true, 0, 10, NULL), 0);
    for (int i = 0; i < 10; i++) {
        assert_true(pcie_fc_tx_can_send(&c, 1));
        pcie_fc_tx_consume(&c, 1);
    }
    assert_false(pcie_fc_tx_can_send(&c, 1));
    assert_int_equal(pcie_fc_tx_available(&c), 0);
    /* UpdateFC raising the limit to 15: 5 more */
    pcie_fc_tx_update(&c, 15);
    assert_int_equal(pcie_fc_tx_available(&c), 5);
    assert_true(pcie_fc_tx_can_send(&c, 5));
    assert_false(pcie_fc_tx_can_send(&c, 6));

    /* wraparound: run the 8-bit counters through 0 many times */
    struct pcie_fc_rx r;
    assert_int_equal(pcie_fc_tx_init(&c, true, 0, 100, NULL), 0);
    assert_int_equal(pcie_fc_rx_init(&r, true, 0, 100, NULL), 0);
    unsigned sent = 0;
    for (int round = 0; round < 2000; round++) {
        while (pcie_fc_tx_can_send(&c, 3)) {
            pcie_fc_tx_consume(&c, 3);
            assert_true(pcie_fc_rx_receive(&r, 3));
            sent += 3;
        }
        /* never more than 100 outstanding */
        assert_true(((r.allocated - r.received) & 0xff) <= 2);
        pcie_fc_rx_release(&r, 99); /* return most of them */
        pcie_fc_tx_update(&c, pcie_fc_rx_field(&r));
    }
    assert_true(sent > 2000 * 90);
    assert_true(c.consumed < 256 && c.limit < 256);

    /* the gate at the half-way point of a 12-bit data counter: CL - CC = 2048
     * is "2^FS/2" -> allowed for CR = 0 only; formula with CR */
    struct pcie_fc_tx d = {.bits = 12, .limit = 0x010, .consumed = 0xff0};
    assert_true(pcie_fc_tx_can_send(&d, 0x20));  /* exactly all 32 available, across 0 */
    assert_false(pcie_fc_tx_can_send(&d, 0x21));
    d.limit = 0x7ff; d.consumed = 0;
    assert_true(pcie_fc_tx_can_send(&d, 0x7ff));
    assert_false(pcie_fc_tx_can_send(&d, 0x800));

    /* infinite: advertised 0 */
    assert_int_equal(pcie_fc_tx_init(&c, false, 0, 0, NULL), 0);
    assert_true(pcie_fc_tx_can_send(&c, 4000));
    pcie_fc_tx_consume(&c, 4000);
    pcie_fc_tx_update(&c, 5); /* ignored */
    assert_true(pcie_fc_tx_can_send(&c, 4000));
    assert_int_equal(pcie_fc_tx_available(&c), UINT32_MAX);

    /* advertisement limits: 127 headers / 2047 data unscaled */
    assert_int_equal(pcie_fc_tx_init(&c, true, 0, 127, NULL), 0);
    assert_int_equal(pcie_fc_tx_init(&c, true, 0, 128, NULL), -PCILAB_EINVAL);
    assert_int_equal(pcie_fc_tx_init(&c, false, 0, 2047, NULL), 0);
    assert_int_equal(pcie_fc_tx_init(&c, false, 0, 2048, NULL), -PCILAB_EINVAL);

    /* scaled FC (3.4.2): scale 16 on data: 16-bit counter, field = CA / 16 */
    assert_int_equal(pcie_fc_field_bits(false, 3), 16);
    assert_int_equal(pcie_fc_field_bits(true, 2), 10);
    assert_int_equal(pcie_fc_scale_factor(3), 16);
    assert_int_equal(pcie_fc_rx_init(&r, false, 3, 16 * 200, NULL), 0);
    assert_int_equal(pcie_fc_rx_field(&r), 200);
    assert_int_equal(pcie_fc_tx_init(&c, false, 3, 16 * 200, NULL), 0);
    pcie_fc_tx_consume(&c, 3000);
    assert_true(pcie_fc_tx_can_send(&c, 200));
    assert_false(pcie_fc_tx_can_send(&c, 201));
    pcie_fc_rx_release(&r, 16 * 10);
    pcie_fc_tx_update(&c, pcie_fc_rx_field(&r));
    assert_true(pcie_fc_tx_can_send(&c, 360));
    assert_false(pcie_fc_tx_can_send(&c, 361));
    assert_int_equal(pcie_fc_rx_init(&r, false, 3, 100, NULL), -PCILAB_EINVAL); /* not x16 */

    /* receiver overflow detection */
    assert_int_equal(pcie_fc_rx_init(&r, true, 0, 4, NULL), 0);
    assert_true(pcie_fc_rx_receive(&r, 4));
    assert_false(pcie_fc_rx_receive(&r, 1));
    assert_int_equal(pcie_fc_data_credits(1), 1);
    assert_int_equal(pcie_fc_data_credits(16), 1);
    assert_int_equal(pcie_fc_data_credits(17), 2);
    assert_int_equal(pcie_fc_data_credits(4096), 256);
}

static void tags(void **state)
{
    (void)state;
    struct pcie_tags t;
    static const enum pcie_tag_mode modes[3] = {PCIE_TAG_5BIT, PCIE_TAG_8BIT, PCIE_TAG_10BIT};
    static const unsigned caps[3] = {32, 256, 768};
    for (int m = 0; m < 3; m++) {
        assert_int_equal(pcie_tags_init(&t, modes[m], 0, NULL), 0);
        unsigned seen[1024] = {0};
        for (unsigned i = 0; i < caps[m]; i++) {
            int tag = pcie_tags_alloc(&t);
            assert_true(tag >= 0 && tag < 1024);
            if (modes[m] == PCIE_TAG_10BIT)
                assert_true(tag >= 256); /* Tag[9:8] != 00b */
            else
                assert_true((unsigned)tag < caps[m]);
            assert_int_equal(seen[tag], 0);
            seen[tag] = 1;
        }
        assert_int_equal(pcie_tags_alloc(&t), -1);
        assert_int_equal(t.outstanding, caps[m]);
        /* free one in the middle: it is the next one given out */
        unsigned mid = modes[m] == PCIE_TAG_10BIT ? 700 : caps[m] / 2;
        assert_int_equal(pcie_tags_free(&t, mid, NULL), 0);
        assert_false(pcie_tags_is_outstanding(&t, mid));
        assert_int_equal(pcie_tags_alloc(&t), (int)mid);
        assert_int_equal(pcie_tags_free(&t, mid, NULL), 0);
        assert_int_equal(pcie_tags_free(&t, mid, NULL), -PCILAB_EINVAL); /* twice */
    }
    /* 10-bit: tag 5 is never valid */
    assert_int_equal(pcie_tags_free(&t, 5, NULL), -PCILAB_EINVAL);
    /* limit below capacity; round-robin order */
    assert_int_equal(pcie_tags_init(&t, PCIE_TAG_8BIT, 4, NULL), 0);
    assert_int_equal(pcie_tags_alloc(&t), 0);
    assert_int_equal(pcie_tags_alloc(&t), 1);
    assert_int_equal(pcie_tags_alloc(&t), 2);
    assert_int_equal(pcie_tags_alloc(&t), 3);
    assert_int_equal(pcie_tags_alloc(&t), -1);
    assert_int_equal(pcie_tags_free(&t, 1, NULL), 0);
    assert_int_equal(pcie_tags_alloc(&t), 4); /* round robin continues */
    assert_int_equal(pcie_tags_init(&t, PCIE_TAG_5BIT, 33, NULL), -PCILAB_EINVAL);
    /* long churn: 10-bit, 768 outstanding, free/alloc in a rolling window */
    assert_int_equal(pcie_tags_init(&t, PCIE_TAG_10BIT, 0, NULL), 0);
    int ring[768];
    for (int i = 0; i < 768; i++)
        ring[i] = pcie_tags_alloc(&t);
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(pcie_tags_free(&t, (unsigned)ring[i % 768], NULL), 0);
        ring[i % 768] = pcie_tags_alloc(&t);
        assert_true(ring[i % 768] >= 256);
    }
    assert_int_equal(t.outstanding, 768);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wire_bytes_and_time),
        cmocka_unit_test(ack_latency_tables),
        cmocka_unit_test(credit_gating),
        cmocka_unit_test(tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
