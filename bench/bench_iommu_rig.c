/* The IOMMU benchmarks' shared rig and measuring loops (bench_iommu_rig.h). */
#include "bench_iommu_rig.h"

#include <stdio.h>

int bench_rig_up(struct bench_iommu_rig *g, uint64_t mmio, uint16_t rid, uint64_t tables)
{
    g->sim = sim_create(1);
    g->ram = mem_phys_create();
    g->map = mem_addrmap_create(g->ram);
    g->mmio = mmio;
    g->rid = rid;
    g->next = tables;
    if (!g->sim || !g->ram || !g->map ||
        mem_addrmap_add_ram(g->map, 0, BENCH_RIG_RAM_SIZE, "System RAM", NULL) < 0)
        return -1;
    return 0;
}

void bench_rig_down(struct bench_iommu_rig *g)
{
    sim_destroy(g->sim);
    mem_addrmap_destroy(g->map);
    mem_phys_destroy(g->ram);
}

uint64_t bench_rig_table(struct bench_iommu_rig *g)
{
    uint64_t t = g->next;
    g->next += 0x1000;
    mem_phys_fill(g->ram, t, 0, 0x1000, NULL);
    return t;
}

void bench_rig_w64(struct bench_iommu_rig *g, uint64_t off, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    mem_addrmap_write(g->map, g->mmio + off, b, 8, NULL);
}

uint64_t bench_rig_r64(struct bench_iommu_rig *g, uint64_t off)
{
    uint8_t b[8];
    mem_addrmap_read(g->map, g->mmio + off, b, 8, NULL);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

double bench_rig_translate_rate(struct bench_iommu_rig *g, unsigned span, bool hit, uint64_t n,
                                uint64_t *bad)
{
    struct iommu_req q = {.rid = g->rid, .size = 64, .access = IOMMU_PERM_W};
    struct iommu_result r;
    double t0 = bench_seconds();
    for (uint64_t i = 0; i < n; i++) {
        q.addr = ((uint64_t)(i & (span - 1)) << 12) + 0x40; /* span: a power of two */
        iommu_translate(g->io, &q, &r);
        *bad += !r.ok || r.iotlb_hit != hit || r.pa != BENCH_RIG_PA_BASE + q.addr;
    }
    return (double)n / (bench_seconds() - t0);
}

void bench_rig_touch(struct bench_iommu_rig *g, uint64_t first, unsigned count)
{
    struct iommu_req q = {.rid = g->rid, .size = 64, .access = IOMMU_PERM_W};
    struct iommu_result r;
    for (unsigned i = 0; i < count; i++) {
        q.addr = (first + i) << 12;
        iommu_translate(g->io, &q, &r);
    }
}

void bench_rig_figures(struct bench_report *rep, const struct bench_rig_ops *ops,
                       const struct bench_rig_fig *figs, size_t n_figs)
{
    for (size_t k = 0; k < n_figs; k++) {
        double best = 0;
        uint64_t bad = 0;
        for (int rep_i = 0; rep_i < 3; rep_i++) {
            struct bench_iommu_rig g = {0};
            if (ops->up(&g) < 0) {
                fprintf(stderr, "%s: setup failed\n", ops->who);
                bench_rig_down(&g);
                return;
            }
            if (ops->warm)
                ops->warm(&g, figs[k].mode);
            double v = ops->run(&g, figs[k].mode, figs[k].n, &bad);
            if (v > best)
                best = v;
            bench_rig_down(&g);
        }
        if (bad)
            fprintf(stderr, "%s: %s: %llu unexpected answers\n", ops->who, figs[k].name,
                    (unsigned long long)bad);
        bench_figure(rep, figs[k].name, bad ? 0 : best, "1/s", figs[k].target, BENCH_AT_LEAST, 0);
    }
}
