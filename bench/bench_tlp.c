/* TLP encode+decode throughput on a realistic DMA mix: MWr64 with a 128-byte
 * payload, MRd (3 DW, 512 bytes), CplD (32 DW). One operation = encode one
 * TLP into a buffer and decode it back (all well-formedness rules checked). */
#include "bench.h"

#include <string.h>

#include "pcie/tlp.h"

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
    const long iters = 20 * 1000 * 1000;
    unsigned long sink = 0;
    double t0 = bench_seconds();
    unsigned k = 0;
    for (long i = 0; i < iters; i++, k = k == 2 ? 0 : k + 1) {
        int n = pcie_tlp_encode(&mix[k], buf[k], sizeof buf[k], NULL);
        struct pcie_tlp d;
        if (pcie_tlp_decode(buf[k], (size_t)n, &d, NULL) == 0)
            sink += d.length + d.tag;
        mix[k].tag = (uint16_t)((mix[k].tag + 1) & 0xff);
    }
    double dt = bench_seconds() - t0;
    if (sink == 0) /* keep the work observable */
        dt = 1e9;
    bench_figure(r, "tlp encode+decode (MWr64 128B / MRd / CplD)", iters / dt / 1e6, "M/s", 50,
                 BENCH_AT_LEAST, 0);
}
