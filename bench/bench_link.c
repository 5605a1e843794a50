/* Modelled link throughput: long streams of MPS-sized 64-bit-address memory
 * writes through the event-driven link (credits, Ack/UpdateFC DLLPs and SKP
 * scheduling as in src/pcie/link.c), payload bytes delivered per simulated
 * second. The targeted figures stream writes in both directions at once (a DMA
 * engine writing to the host while the host writes to the device), so each
 * direction carries the other's Ack and UpdateFC DLLPs as well as its own
 * TLPs and SKPs; a one-way stream is faster because its DLLPs travel on the
 * idle reverse direction. docs/link-throughput.md derives both. */
#include "bench.h"

#include <stdbool.h>
#include <stdio.h>

#include "pcie/link.h"
#include "sim/sim.h"

struct sink {
    uint64_t bytes;
    sim_time_t first, last;
    uint64_t n;
};

static void delivered(void *ctx, const struct pcie_link_tlp *tlp, sim_time_t t)
{
    struct sink *s = ctx;
    if (!s->n)
        s->first = t;
    s->n++;
    s->bytes += tlp->payload;
    s->last = t;
}

/* MB/s (10^6 bytes per second) of payload, measured from the first byte on
 * the wire (t = 0) to the last delivery. */
static double run(unsigned gen, unsigned width, unsigned mps, uint64_t total, bool duplex,
                  unsigned ack_every, struct pcie_link_stats *up, struct pcie_link_stats *down)
{
    struct pcilab_sim *sim = sim_create(1);
    if (!sim)
        return 0;
    struct pcie_link_cfg cfg;
    pcie_link_cfg_default(&cfg);
    cfg.name = "bench";
    cfg.gen = gen;
    cfg.width = width;
    cfg.mps = mps;
    /* a root port with a realistic posted buffer: 64 headers, 64 x MPS data */
    cfg.credits[PCIE_LINK_UP][PCIE_FC_P][0] = 64;
    cfg.credits[PCIE_LINK_UP][PCIE_FC_P][1] = 64 * mps / 16 > 2047 ? 2047 : 64 * mps / 16;
    /* and a device with the same buffer for the host's writes */
    cfg.credits[PCIE_LINK_DOWN][PCIE_FC_P][0] = cfg.credits[PCIE_LINK_UP][PCIE_FC_P][0];
    cfg.credits[PCIE_LINK_DOWN][PCIE_FC_P][1] = cfg.credits[PCIE_LINK_UP][PCIE_FC_P][1];
    cfg.latency = 20 * SIM_NS;      /* PHY/serdes pipeline each way */
    cfg.rx_process = 50 * SIM_NS;   /* root port drains a TLP in 50 ns */
    cfg.ack_every = ack_every;
    struct pcie_link *l = NULL;
    struct sink s = {0}, rev = {0};
    double mbps = 0;
    if (pcie_link_create(sim, &cfg, &l, NULL) == 0) {
        uint64_t n = total / mps;
        for (uint64_t i = 0; i < n; i++) {
            struct pcie_link_tlp t = {.hdr_dw = 4, .payload = mps, .fc = PCIE_FC_P,
                                      .deliver = delivered, .ctx = &s};
            if (pcie_link_send(l, PCIE_LINK_UP, &t, NULL) < 0)
                break;
            if (duplex) {
                t.ctx = &rev;
                if (pcie_link_send(l, PCIE_LINK_DOWN, &t, NULL) < 0)
                    break;
            }
        }
        sim_run(sim, 0);
        /* stats at the moment of the last delivery (the queue drains further
         * with Ack/UpdateFC timers and idle SKPs) */
        if (s.last)
            mbps = (double)s.bytes / ((double)(s.last - cfg.latency) * 1e-12) / 1e6;
        pcie_link_get_stats(l, PCIE_LINK_UP, up);
        pcie_link_get_stats(l, PCIE_LINK_DOWN, down);
    }
    sim_destroy(sim);
    return mbps;
}

/* Payload rate a spec-exact link gives for back-to-back TLPs of mps bytes
 * with a 4 DW header: raw * mps / (mps + 24) less the SKP share. */
static double analytic(unsigned gen, unsigned width, unsigned mps)
{
    double raw = pcie_link_raw_bytes_per_s(gen, width) / 1e6;
    double skp = gen <= 2 ? 1180.0 / 1184.0 : 370.0 / 371.0;
    return raw * mps / (mps + 24.0) * skp;
}

void bench_link(struct bench_report *r)
{
    struct pcie_link_stats up, down;
    char name[64];
    /* The two targeted figures (4 MiB each). */
    static const unsigned mpss[2] = {128, 256};
    static const double targets[2] = {397, 440};
    for (int i = 0; i < 2; i++) {
        /* Writes in both directions, receivers that Ack every TLP: each
         * direction carries one Ack DLLP per TLP of the other, the case the
         * targets derive (docs/link-throughput.md). */
        double t0 = bench_seconds();
        double v = run(2, 1, mpss[i], 4u << 20, true, 1, &up, &down);
        double wall = bench_seconds() - t0;
        snprintf(name, sizeof name, "Gen2 x1 MWr64 throughput MPS %u", mpss[i]);
        bench_figure(r, name, v, "MB/s", targets[i], BENCH_WITHIN, 2.0);
        bench_note(r, "    per direction: %llu TLPs, %llu Acks, %llu UpdateFCs, %llu SKPs; "
               "credit stalls %llu; model %.2f M TLP/s wall\n",
               (unsigned long long)up.tlps, (unsigned long long)up.acks,
               (unsigned long long)up.update_fcs, (unsigned long long)up.skps,
               (unsigned long long)up.credit_stalls,
               wall > 0 ? (double)(up.tlps + down.tlps) / wall / 1e6 : 0.0);
        /* The same with Acks coalesced up to the AckNak latency timer limit
         * (information: the fewest Acks the spec allows). */
        v = run(2, 1, mpss[i], 4u << 20, true, 0, &up, &down);
        snprintf(name, sizeof name, "  both ways, Acks per latency timer, MPS %u", mpss[i]);
        bench_note(r, "%-46s %12.4g MB/s     (%llu Acks for %llu TLPs; information)\n", name, v,
               (unsigned long long)up.acks, (unsigned long long)down.tlps);
        /* One-way stream: the DLLPs go on the idle reverse direction, so only
         * TLP framing and SKPs cost bandwidth (against the spec-exact value). */
        v = run(2, 1, mpss[i], 4u << 20, false, 1, &up, &down);
        snprintf(name, sizeof name, "  one-way stream, MPS %u", mpss[i]);
        bench_figure(r, name, v, "MB/s", analytic(2, 1, mpss[i]), BENCH_WITHIN, 0.5);
    }
    /* Information: every rate at x1 and x16, MPS 256, against the analytic
     * value (1 MiB per x1 run, 16 MiB per x16 run). */
    for (unsigned gen = 1; gen <= 5; gen++)
        for (unsigned w = 1; w <= 16; w += 15) {
            double v = run(gen, w, 256, (w == 1 ? 1u : 16u) << 20, false, 0, &up, &down);
            snprintf(name, sizeof name, "Gen%u x%u MWr64 MPS 256 (info)", gen, w);
            bench_figure(r, name, v, "MB/s", analytic(gen, w, 256), BENCH_WITHIN, 1.0);
        }
}
