/* The AMD IOMMU driver's streaming path: dma_map_single + dma_unmap_single of
 * a 4 KiB kmalloc buffer for a device behind AMD-Vi, through the page table
 * in simulated memory and the lazy flush queue (the default), on the test
 * machine of tests/host/amd_machine.h. Each version is measured; the figure
 * is the slowest version's best of 3 runs. The flush queue fills every 256
 * (4.9) / 255 (4.20+) unmaps, which costs an INVALIDATE_IOMMU_PAGES and a
 * COMPLETION_WAIT through the model's registers, amortised in the figure. */
#include "bench.h"

#include <stdio.h>

#include "../tests/host/amd_machine.h"
#include "host/mm.h"

#define PAIRS 2000000u

static double run(const char *ver)
{
    struct amd_machine m;
    struct amd_machine_opts o = {.version = ver};
    amd_machine_build(&m, &o);
    if (m.init_rc < 0 || !m.drv)
        abort();
    void *buf = kmalloc(4096, GFP_KERNEL);
    struct device *dev = &m.pdev->dev;
    volatile uint64_t sink = 0;
    for (unsigned i = 0; i < 1024; i++) {
        dma_addr_t a = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
        dma_unmap_single(dev, a, 4096, DMA_TO_DEVICE);
    }
    double t0 = bench_seconds();
    for (unsigned i = 0; i < PAIRS; i++) {
        dma_addr_t a = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
        dma_unmap_single(dev, a, 4096, DMA_TO_DEVICE);
        sink += a;
    }
    double dt = bench_seconds() - t0;
    (void)sink;
    amd_machine_free(&m);
    return PAIRS / dt;
}

void bench_amd_dma(struct bench_report *r)
{
    static const char *const vers[] = {"4.9.80", "4.20.17", "5.15", "6.1"};
    double worst = 0;
    for (size_t v = 0; v < 4; v++) {
        double best = 0;
        for (int k = 0; k < 3; k++) {
            double x = run(vers[v]);
            if (x > best)
                best = x;
        }
        bench_note(r, "  amdvi.dma_map_unmap_4k %-8s %.3g pairs/s\n", vers[v], best);
        if (v == 0 || best < worst)
            worst = best;
    }
    bench_figure(r, "amdvi.dma_map_unmap_4k_per_s", worst, "pairs/s", 5e6, BENCH_AT_LEAST, 0);
}
