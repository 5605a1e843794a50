/* The AMD-Vi model through iommu_translate(): IOTLB hits, 3-level walks with
 * the tables in simulated memory and the IOTLB missing every time, and
 * faulting translations that write an IO_PAGE_FAULT event (the log drained
 * by writing the head register, as the host driver does). Best of 3 runs. */
#include "bench_iommu_rig.h"

#include "iommu/amdvi.h"
#include "sim/sim.h"

#define MMIO    0xfeb80000ull
#define DEV_TAB 0x00100000ull
#define EVT_LOG 0x00400000ull
#define TABLES  0x01000000ull
#define RID     0x0100
#define PAGES   4096 /* 16 MiB mapped: 64x the default IOTLB's reach */

static int rig_up(struct bench_iommu_rig *g)
{
    if (bench_rig_up(g, MMIO, RID, TABLES) < 0)
        return -1;
    struct amdvi_config c;
    amdvi_config_default(&c);
    c.mmio_base = MMIO;
    struct amdvi *a = amdvi_create(g->sim, g->ram, g->map, &c, NULL);
    if (!a)
        return -1;
    g->io = amdvi_iommu(a);
    /* Mode 3 domain 1 for RID: PAGES 4 KiB pages at IOVA 0 -> 0x40000000. */
    uint64_t l3 = bench_rig_table(g), l2 = bench_rig_table(g);
    struct amdvi_pte p = {.pr = true, .next_level = 2, .addr = l2, .ir = true, .iw = true};
    mem_phys_write64(g->ram, l3, amdvi_pte_encode(&p), NULL);
    for (unsigned i = 0; i < PAGES; i++) {
        uint64_t iova = (uint64_t)i << 12;
        uint64_t l2e = l2 + ((iova >> 21) & 0x1ff) * 8, e;
        mem_phys_read64(g->ram, l2e, &e, NULL);
        if (!(e & 1)) {
            p = (struct amdvi_pte){.pr = true, .next_level = 1, .addr = bench_rig_table(g), .ir = true,
                                   .iw = true};
            e = amdvi_pte_encode(&p);
            mem_phys_write64(g->ram, l2e, e, NULL);
        }
        p = (struct amdvi_pte){.pr = true, .addr = BENCH_RIG_PA_BASE + iova, .ir = true, .iw = true};
        mem_phys_write64(g->ram, (e & AMDVI_BASE_ADDR_MASK) + ((iova >> 12) & 0x1ff) * 8,
                         amdvi_pte_encode(&p), NULL);
    }
    /* The next 2 MiB region has its level-1 table but no pages: faults read
     * all three levels. */
    p = (struct amdvi_pte){.pr = true, .next_level = 1, .addr = bench_rig_table(g), .ir = true, .iw = true};
    mem_phys_write64(g->ram, l2 + (((uint64_t)PAGES << 12) >> 21) * 8, amdvi_pte_encode(&p), NULL);
    struct amdvi_dte d = {.v = true, .tv = true, .mode = 3, .pt_root = l3, .ir = true,
                          .iw = true, .domain_id = 1};
    uint8_t raw[AMDVI_DTE_SIZE];
    amdvi_dte_encode(&d, raw);
    mem_phys_write(g->ram, DEV_TAB + RID * 32ull, raw, sizeof raw, NULL);
    bench_rig_w64(g, AMDVI_REG_DEV_TAB_BASE, amdvi_dev_tab_base(DEV_TAB, 0x1ff));
    bench_rig_w64(g, AMDVI_REG_EVT_LOG_BASE, amdvi_ring_base(EVT_LOG, 8));
    bench_rig_w64(g, AMDVI_REG_CONTROL, AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVENT_LOG_EN);
    return 0;
}

enum mode { HIT, WALK, FAULT };

/* Translations per second; *bad counts answers that were not as expected. */
static double run(struct bench_iommu_rig *g, int m, uint64_t n, uint64_t *bad)
{
    if (m != FAULT)
        return bench_rig_translate_rate(g, m == HIT ? 16 : PAGES, m == HIT, n, bad);
    /* the 2 MiB region after the pages: 512 pages, none present */
    struct iommu_req q = {.rid = RID, .size = 64, .access = IOMMU_PERM_W};
    struct iommu_result r;
    double t0 = bench_seconds();
    for (uint64_t i = 0; i < n; i++) {
        q.addr = ((uint64_t)PAGES << 12) + ((uint64_t)(i & 511) << 12) + 0x40;
        iommu_translate(g->io, &q, &r);
        *bad += r.ok || !r.logged;
        if ((i & 127) == 127) /* the driver consumes the log */
            bench_rig_w64(g, AMDVI_REG_EVT_HEAD, bench_rig_r64(g, AMDVI_REG_EVT_TAIL));
    }
    return (double)n / (bench_seconds() - t0);
}

static void warm(struct bench_iommu_rig *g, int m)
{
    if (m == HIT) /* the IOTLB */
        bench_rig_touch(g, 0, 16);
}

void bench_amdvi(struct bench_report *rep)
{
    static const struct bench_rig_fig figs[] = {
        {"amdvi.iotlb_hit_per_s", HIT, 20000000, 100e6},
        {"amdvi.walk3_per_s", WALK, 5000000, 15e6},
        {"amdvi.fault_per_s", FAULT, 5000000, 10e6},
    };
    static const struct bench_rig_ops ops = {"bench_amdvi", rig_up, warm, run};
    bench_rig_figures(rep, &ops, figs, sizeof figs / sizeof figs[0]);
}
