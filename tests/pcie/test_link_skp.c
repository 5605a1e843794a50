/* SKP Ordered Sets on idle stretches: the link places the SKPs of an idle
 * transmitter in closed form when it is not traced, one by one when it is.
 * Both must give the same counters (busy time, SKPs, wire bytes) and the same
 * delivery times, at every rate, width and SKP interval, whatever the
 * traffic. The same random traffic is run on two links, one with a trace
 * sink open (to a scratch file), and every counter is compared. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pcie/link.h"
#include "sim/rng.h"
#include "sim/trace.h"

#define SENDS 300

struct delivered {
    sim_time_t t[2 * SENDS];
    size_t n;
};

static void on_deliver(void *ctx, const struct pcie_link_tlp *tlp, sim_time_t arrived)
{
    (void)tlp;
    struct delivered *d = ctx;
    if (d->n < 2 * SENDS)
        d->t[d->n++] = arrived;
}

struct step {
    sim_time_t gap;       /* idle time before the send */
    unsigned dir, hdr_dw;
    uint32_t payload;
};

/* One run; the stats of both directions after every step into st[]. */
static void run(unsigned gen, unsigned width, unsigned skp, const struct step *steps, size_t n,
                bool traced, struct pcie_link_stats (*st)[2], struct delivered *dv)
{
    struct pcilab_sim *sim = sim_create(7);
    assert_non_null(sim);
    FILE *f = NULL;
    if (traced) {
        f = tmpfile();
        assert_non_null(f);
        assert_int_equal(sim_trace_open_stream(sim_trace(sim), f, SIM_TRACE_TEXT, NULL), 0);
        assert_true(sim_trace_enabled(sim_trace(sim)));
    }
    struct pcie_link_cfg cfg;
    pcie_link_cfg_default(&cfg);
    cfg.gen = gen;
    cfg.width = width;
    cfg.mps = 512;
    cfg.skp_interval = skp;
    cfg.latency = 20000;
    struct pcie_link *l = NULL;
    assert_int_equal(pcie_link_create(sim, &cfg, &l, NULL), 0);
    dv->n = 0;
    sim_time_t t = 0;
    for (size_t i = 0; i < n; i++) {
        t += steps[i].gap;
        sim_run_until(sim, t);
        struct pcie_link_tlp tlp = {.hdr_dw = steps[i].hdr_dw, .payload = steps[i].payload,
                                    .fc = PCIE_FC_P, .deliver = on_deliver, .ctx = dv};
        assert_int_equal(pcie_link_send(l, (enum pcie_link_dir)steps[i].dir, &tlp, NULL), 0);
        pcie_link_get_stats(l, PCIE_LINK_UP, &st[i][0]);
        pcie_link_get_stats(l, PCIE_LINK_DOWN, &st[i][1]);
    }
    sim_run_until(sim, t + 50 * SIM_US);
    pcie_link_get_stats(l, PCIE_LINK_UP, &st[n][0]);
    pcie_link_get_stats(l, PCIE_LINK_DOWN, &st[n][1]);
    if (traced)
        assert_int_equal(sim_trace_close(sim_trace(sim), NULL), 0);
    sim_destroy(sim);
    if (f)
        fclose(f);
}

static void same_counters_traced_or_not(void **state)
{
    (void)state;
    static const unsigned widths[] = {1, 2, 4, 8, 16};
    static struct step steps[SENDS];
    static struct pcie_link_stats a[SENDS + 1][2], b[SENDS + 1][2];
    static struct delivered da, db;
    struct sim_rng rngs, *rng = &rngs;
    sim_rng_seed(rng, 12345);
    uint64_t idle_skps = 0;
    for (unsigned gen = 1; gen <= 5; gen++) {
        for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
            /* the interval's range for the encoding (4.2.7), both ends and inside */
            unsigned lo = gen <= 2 ? 1180 : 370, hi = gen <= 2 ? 1538 : 375;
            unsigned skps[] = {0, lo, hi, lo + 1 + (unsigned)(sim_rng_next(rng) % (hi - lo - 1))};
            for (size_t s = 0; s < 4; s++) {
                for (size_t i = 0; i < SENDS; i++) {
                    uint64_t r = sim_rng_next(rng);
                    /* back to back, a little idle, or long idle stretches */
                    sim_time_t gap = r % 3 == 0   ? 0
                                     : r % 3 == 1 ? (sim_time_t)(r >> 8) % (5 * SIM_US)
                                                  : (sim_time_t)(r >> 8) % (400 * SIM_US);
                    steps[i] = (struct step){.gap = gap, .dir = (unsigned)(r >> 40) & 1,
                                             .hdr_dw = (r >> 41) & 1 ? 4 : 3,
                                             .payload = 4 * (uint32_t)((r >> 42) % 129)};
                }
                run(gen, widths[w], skps[s], steps, SENDS, false, a, &da);
                run(gen, widths[w], skps[s], steps, SENDS, true, b, &db);
                for (size_t i = 0; i <= SENDS; i++)
                    for (int d = 0; d < 2; d++) {
                        if (memcmp(&a[i][d], &b[i][d], sizeof a[i][d]) != 0)
                            fail_msg("gen %u x%u skp %u step %zu dir %d: skps %llu/%llu busy "
                                     "%lld/%lld wire %llu/%llu",
                                     gen, widths[w], skps[s], i, d,
                                     (unsigned long long)a[i][d].skps,
                                     (unsigned long long)b[i][d].skps, (long long)a[i][d].busy,
                                     (long long)b[i][d].busy,
                                     (unsigned long long)a[i][d].wire_bytes,
                                     (unsigned long long)b[i][d].wire_bytes);
                    }
                assert_int_equal(da.n, db.n);
                assert_memory_equal(da.t, db.t, da.n * sizeof da.t[0]);
                idle_skps += a[SENDS][0].skps + a[SENDS][1].skps;
            }
        }
    }
    /* the runs were long enough to have many idle SKPs to compare */
    assert_true(idle_skps > 1000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_counters_traced_or_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
