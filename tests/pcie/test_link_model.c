/* The event-driven link: delivery times, DLLPs, SKPs and credits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pcie/link.h"

struct log {
    sim_time_t t[4096];
    uint64_t arg[4096];
    size_t n;
};

static void on_deliver(void *ctx, const struct pcie_link_tlp *tlp, sim_time_t arrived)
{
    struct log *lg = ctx;
    if (lg->n < 4096) {
        lg->t[lg->n] = arrived;
        lg->arg[lg->n] = tlp->arg;
        lg->n++;
    }
}

static struct pcie_link_tlp mwr(struct log *lg, unsigned hdr_dw, uint32_t payload, uint64_t arg)
{
    return (struct pcie_link_tlp){.hdr_dw = hdr_dw, .payload = payload, .fc = PCIE_FC_P,
                                  .deliver = on_deliver, .ctx = lg, .arg = arg};
}

static struct pcie_link *make(struct pcilab_sim *sim, unsigned gen, unsigned width,
                              sim_time_t latency)
{
    struct pcie_link_cfg cfg;
    pcie_link_cfg_default(&cfg);
    cfg.gen = gen;
    cfg.width = width;
    cfg.latency = latency;
    struct pcie_link *l = NULL;
    struct pcilab_err e = {0};
    assert_int_equal(pcie_link_create(sim, &cfg, &l, &e), 0);
    return l;
}

static void single_tlp_times(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct log lg = {.n = 0};
    struct pcie_link *l = make(sim, 2, 1, 0);
    /* 64-byte MWr with a 4 DW header: 88 bytes, 176 ns at Gen2 x1 */
    struct pcie_link_tlp t = mwr(&lg, 4, 64, 7);
    assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    sim_run(sim, 0);
    assert_int_equal(lg.n, 1);
    assert_int_equal(lg.t[0], 176000);
    assert_int_equal(lg.arg[0], 7);
    struct pcie_link_stats st;
    pcie_link_get_stats(l, PCIE_LINK_UP, &st);
    assert_int_equal(st.tlps, 1);
    /* SKP OSs kept going while the link idled until now (Ack, UpdateFC timers) */
    assert_true(st.skps >= sim_now(sim) / (1180 * 2000) - 1);
    assert_int_equal(st.wire_bytes, 88 + st.skps * 4);
    assert_int_equal(st.payload_bytes, 64);
    assert_int_equal(st.busy, 176000 + st.skps * 8000);
    /* the receiver (root port) acked it on the downstream direction after the
     * Ack latency: 288 Symbol times (Gen2 x1 MPS 128) = 576 ns after arrival */
    pcie_link_get_stats(l, PCIE_LINK_DOWN, &st);
    assert_int_equal(st.acks, 1);
    assert_int_equal(st.dllps, 1 + st.update_fcs);
    assert_int_equal(st.tlps, 0);
    sim_destroy(sim);

    /* with a fixed latency and from an odd start time */
    sim = sim_create(1);
    lg.n = 0;
    l = make(sim, 2, 1, 100 * SIM_NS);
    sim_run_until(sim, 1001); /* the next Symbol boundary is 2000 ps */
    t = mwr(&lg, 4, 64, 1);
    assert_int_equal(pcie_link_send(l, PCIE_LINK_DOWN, &t, NULL), 0);
    t.arg = 2;
    assert_int_equal(pcie_link_send(l, PCIE_LINK_DOWN, &t, NULL), 0);
    sim_run(sim, 0);
    assert_int_equal(lg.n, 2);
    assert_int_equal(lg.t[0], 2000 + 176000 + 100000);
    assert_int_equal(lg.t[1], 2000 + 2 * 176000 + 100000); /* back to back */
    sim_destroy(sim);
}

static void gen3_and_wide_links(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct log lg = {.n = 0};
    /* Gen3 x1: 88 bytes from Block start: 5 full Blocks (80 Symbols, 650 UI)
     * + Sync Header (2 UI) + 8 Symbols (64 UI) = 716 UI x 125 ps = 89500 ps */
    struct pcie_link *l = make(sim, 3, 1, 0);
    struct pcie_link_tlp t = mwr(&lg, 4, 64, 0);
    assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    sim_run(sim, 0);
    assert_int_equal(lg.t[0], 89500);
    sim_destroy(sim);

    /* Gen2 x8: 84-byte packets (3 DW header, 64 B) end on Lane 3 of their
     * 11th Symbol time; the next starts on Lane 4 of it (4.2.1.1), so two
     * take ceil(168 / 8) = 21 Symbol times = 42 ns, not 22 */
    sim = sim_create(1);
    lg.n = 0;
    l = make(sim, 2, 8, 0);
    t = mwr(&lg, 3, 64, 0);
    assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    sim_run(sim, 0);
    assert_int_equal(lg.n, 2);
    assert_int_equal(lg.t[0], 22000);
    assert_int_equal(lg.t[1], 42000);
    sim_destroy(sim);
}

static void skp_counts_over_a_long_transfer(void **state)
{
    (void)state;
    for (unsigned gen = 1; gen <= 3; gen++) {
        struct pcilab_sim *sim = sim_create(1);
        struct log lg = {.n = 0};
        struct pcie_link *l = make(sim, gen, 1, 0);
        struct pcie_link_cfg const *cfg = pcie_link_get_cfg(l);
        (void)cfg;
        /* 2000 back-to-back 128-byte MWr (152 wire bytes each) */
        for (int i = 0; i < 2000; i++) {
            struct pcie_link_tlp t = mwr(&lg, 4, 128, (uint64_t)i);
            assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
        }
        sim_run(sim, 0);
        assert_int_equal(lg.n, 2000);
        struct pcie_link_stats st;
        pcie_link_get_stats(l, PCIE_LINK_UP, &st);
        assert_int_equal(st.tlps, 2000);
        /* SKPs are scheduled on a fixed grid: every 1180 Symbol times at
         * 8b/10b, every 370 Blocks at 128b/130b, and all scheduled so far have
         * gone out (the link is idle now) */
        uint64_t num, den;
        pcie_link_ps_per_byte(gen, &num, &den);
        uint64_t grid_ps = gen <= 2 ? 1180 * pcie_link_symbol_time(gen) : 370 * 16 * num / den;
        uint64_t want = sim_now(sim) / grid_ps;
        assert_true(st.skps >= want - 1 && st.skps <= want + 1);
        /* during the stream of 2000 * 152 Symbol times, k SKPs were inserted
         * (4 Symbols each at 8b/10b; at 128b/130b a Block plus padding to it) */
        uint64_t slots = 2000 * 152, k = 0;
        uint64_t skp_sym = gen <= 2 ? 4 : 16, grid = gen <= 2 ? 1180 : 370 * 16;
        while ((slots + (k + 1) * skp_sym) / grid > k)
            k++;
        double expect = (double)(slots + k * skp_sym) * (double)num / (double)den;
        double got = (double)lg.t[1999];
        double slack = gen <= 2 ? 1.0 : (double)k * 20.0 * (double)num / (double)den + 1;
        assert_true(got >= expect - 2 && got <= expect + slack);
        /* deliveries in order, spaced by at least one TLP's time */
        for (int i = 1; i < 2000; i++) {
            assert_int_equal(lg.arg[i], (uint64_t)i);
            assert_true(lg.t[i] - lg.t[i - 1] >= 152 * pcie_link_symbol_time(gen));
        }
        /* SKPs also go out while idle: 1 ms later */
        sim_run_until(sim, sim_now(sim) + SIM_MS);
        struct pcie_link_stats st2;
        pcie_link_get_stats(l, PCIE_LINK_UP, &st2);
        double idle_skps = gen <= 2 ? 1e9 / (1180.0 * (double)pcie_link_symbol_time(gen))
                                    : 1e9 / (370.0 * 16 * (double)num / (double)den);
        assert_true((double)(st2.skps - st.skps) >= idle_skps - 2 &&
                    (double)(st2.skps - st.skps) <= idle_skps + 2);
        sim_destroy(sim);
    }
}

static void acks_coalesce(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct log lg = {.n = 0};
    struct pcie_link *l = make(sim, 2, 1, 0);
    /* 100 x 128-byte MWr take 100 x 304 ns = 30.4 us; Ack latency at Gen2 x1
     * MPS 128 is 288 Symbols = 576 ns, so each Ack covers about 2 TLPs */
    for (int i = 0; i < 100; i++) {
        struct pcie_link_tlp t = mwr(&lg, 4, 128, 0);
        assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    }
    sim_run(sim, 0);
    struct pcie_link_stats st;
    pcie_link_get_stats(l, PCIE_LINK_DOWN, &st);
    assert_true(st.acks >= 45 && st.acks <= 55);
    assert_true(st.acks < 100);
    sim_destroy(sim);
}

/* ack_every = 1: the receiver Acks each TLP as it arrives, without waiting
 * for the latency timer, and a timer armed before an early Ack never fires a
 * second Ack for the same TLPs. */
static void acks_every_tlp(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct log lg = {.n = 0};
    struct pcie_link_cfg cfg;
    pcie_link_cfg_default(&cfg);
    cfg.ack_every = 1;
    struct pcie_link *l = NULL;
    assert_int_equal(pcie_link_create(sim, &cfg, &l, NULL), 0);
    for (int i = 0; i < 100; i++) {
        struct pcie_link_tlp t = mwr(&lg, 4, 128, 0);
        assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    }
    sim_run(sim, 0);
    struct pcie_link_stats st;
    pcie_link_get_stats(l, PCIE_LINK_DOWN, &st);
    assert_int_equal(st.acks, 100);
    sim_destroy(sim);

    /* ack_every = 4 with a timer (10 us) longer than 4 TLPs (1.2 us): one Ack
     * per 4 TLPs, and 100 % 4 = 0 leaves nothing for the timer: exactly 25.
     * (With the spec's 576 ns timer, the timer would win after 2 TLPs.) */
    sim = sim_create(1);
    cfg.ack_every = 4;
    cfg.ack_latency = 10 * SIM_US;
    assert_int_equal(pcie_link_create(sim, &cfg, &l, NULL), 0);
    for (int i = 0; i < 100; i++) {
        struct pcie_link_tlp t = mwr(&lg, 4, 128, 0);
        assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    }
    sim_run(sim, 0);
    pcie_link_get_stats(l, PCIE_LINK_DOWN, &st);
    assert_int_equal(st.acks, 25);
    sim_destroy(sim);
}

/* A Gen2 x4 link retrained to Gen1 x1 times TLPs at the new rate; retraining
 * with a TLP on the wire is refused. */
static void retrain_changes_timing(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct log lg = {.n = 0};
    struct pcie_link *l = make(sim, 2, 4, 0);
    struct pcilab_err e;
    assert_int_equal(pcie_link_retrain(l, 1, 1, &e), 0);
    assert_int_equal(pcie_link_gen(l), 1);
    assert_int_equal(pcie_link_width(l), 1);
    /* 64-byte MWr64: 88 bytes at 2.5 GT/s x1, 4 ns a byte: 352 ns */
    struct pcie_link_tlp t = mwr(&lg, 4, 64, 1);
    assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    assert_int_equal(pcie_link_retrain(l, 2, 1, &e), -PCILAB_EINVAL);
    assert_non_null(strstr(e.msg, "cannot retrain"));
    sim_run(sim, 0);
    assert_int_equal(lg.n, 1);
    assert_int_equal(lg.t[0], 352000);
    /* idle again: back to Gen2 x1, 176 ns from the retraining on */
    assert_int_equal(pcie_link_retrain(l, 2, 1, &e), 0);
    sim_time_t t0 = sim_now(sim);
    t.arg = 2;
    assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    sim_run(sim, 0);
    assert_int_equal(lg.n, 2);
    assert_int_equal(lg.t[1] - t0, 176000);
    assert_int_equal(pcie_link_retrain(l, 6, 1, &e), -PCILAB_EINVAL);
    assert_int_equal(pcie_link_retrain(l, 2, 3, &e), -PCILAB_EINVAL);
    sim_destroy(sim);
}

static void credits_block_and_resume(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct log lg = {.n = 0};
    struct pcie_link_cfg cfg;
    pcie_link_cfg_default(&cfg);
    /* the root port has room for 2 posted TLPs of 128 bytes and frees each
     * 2 us after it arrives */
    cfg.credits[PCIE_LINK_UP][PCIE_FC_P][0] = 2;
    cfg.credits[PCIE_LINK_UP][PCIE_FC_P][1] = 16;
    cfg.rx_process = 2 * SIM_US;
    struct pcie_link *l = NULL;
    assert_int_equal(pcie_link_create(sim, &cfg, &l, NULL), 0);
    for (int i = 0; i < 10; i++) {
        struct pcie_link_tlp t = mwr(&lg, 4, 128, (uint64_t)i);
        assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    }
    /* the first went out at once; the transmitter decides on the next at its end */
    assert_int_equal(pcie_link_credits_available(l, PCIE_LINK_UP, PCIE_FC_P, 0), 1);
    assert_int_equal(pcie_link_queued(l, PCIE_LINK_UP), 9);
    sim_run(sim, 0);
    assert_int_equal(lg.n, 10);
    struct pcie_link_stats st;
    pcie_link_get_stats(l, PCIE_LINK_UP, &st);
    assert_true(st.credit_stalls >= 4);
    assert_true(st.credit_stall > 5 * SIM_US);
    /* TLP 2 waits for TLP 0's credits: arrival 304 ns + 2 us, then the
     * urgent UpdateFC (8 bytes, 16 ns) -> starts at >= 2320 ns */
    assert_true(lg.t[2] >= 304000 + 2 * SIM_US + 16000 + 304000);
    struct pcie_link_stats dn;
    pcie_link_get_stats(l, PCIE_LINK_DOWN, &dn);
    assert_true(dn.update_fcs >= 8);
    /* a TLP bigger than the receiver's whole buffer is refused */
    struct pcie_link_tlp big = mwr(&lg, 4, 512, 0);
    struct pcilab_err e = {0};
    assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &big, &e), -PCILAB_EINVAL);
    sim_destroy(sim);
}

static void tlp_bytes_are_classified(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct log lg = {.n = 0};
    struct pcie_link *l = make(sim, 1, 1, 0);
    /* MRd 3 DW (no data): 0x00 Fmt 000b Type 00000b, Length 1 */
    uint8_t mrd[12] = {0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x0f, 0xff, 0xbf, 0x80, 0x00};
    struct pcie_link_tlp t = {.bytes = mrd, .len = 12, .deliver = on_deliver, .ctx = &lg};
    assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    /* wrong length for the header's Length field */
    t.len = 11;
    assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), -PCILAB_EINVAL);
    sim_run(sim, 0);
    assert_int_equal(lg.n, 1);
    assert_int_equal(lg.t[0], 20 * 4000); /* 12 + 8 bytes at 4 ns */
    assert_int_equal(pcie_link_credits_available(l, PCIE_LINK_UP, PCIE_FC_NP, 0), 32);
    struct pcie_link_cfg bad;
    pcie_link_cfg_default(&bad);
    bad.skp_interval = 1000;
    struct pcie_link *l2;
    assert_int_equal(pcie_link_create(sim, &bad, &l2, NULL), -PCILAB_EINVAL);
    bad.skp_interval = 0;
    bad.width = 3;
    assert_int_equal(pcie_link_create(sim, &bad, &l2, NULL), -PCILAB_EINVAL);
    sim_destroy(sim);
}

static void trace_records_and_signals(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct log lg = {.n = 0};
    FILE *js = tmpfile(), *vcd = tmpfile();
    assert_non_null(js);
    assert_non_null(vcd);
    assert_int_equal(sim_trace_open_stream(sim_trace(sim), js, SIM_TRACE_JSONL, NULL), 0);
    assert_int_equal(sim_trace_open_stream(sim_trace(sim), vcd, SIM_TRACE_VCD, NULL), 0);
    struct pcie_link *l = make(sim, 2, 1, 0);
    struct pcie_link_tlp t = mwr(&lg, 4, 64, 0);
    assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &t, NULL), 0);
    sim_run(sim, 0);
    assert_int_equal(sim_trace_close(sim_trace(sim), NULL), 0);
    char buf[8192];
    rewind(js);
    size_t n = fread(buf, 1, sizeof buf - 1, js);
    buf[n] = 0;
    assert_non_null(strstr(buf, "TLP seq 0x000 P 80 B (payload 64 B)"));
    assert_non_null(strstr(buf, "Ack seq 0x000"));
    assert_non_null(strstr(buf, "\"payload\":64"));
    rewind(vcd);
    n = fread(buf, 1, sizeof buf - 1, vcd);
    buf[n] = 0;
    assert_non_null(strstr(buf, "up_busy"));
    assert_non_null(strstr(buf, "down_kind"));
    fclose(js);
    fclose(vcd);
    sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_tlp_times),
        cmocka_unit_test(gen3_and_wide_links),
        cmocka_unit_test(skp_counts_over_a_long_transfer),
        cmocka_unit_test(acks_coalesce),
        cmocka_unit_test(acks_every_tlp),
        cmocka_unit_test(retrain_changes_timing),
        cmocka_unit_test(credits_block_and_resume),
        cmocka_unit_test(tlp_bytes_are_classified),
        cmocka_unit_test(trace_records_and_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
