/* The VT-d model through iommu_translate(): IOTLB hits, and 3-level
 * second-level walks with the tables in simulated memory and the IOTLB
 * missing every time (the context cached, as it is after the first DMA).
 * QEMU's q35 unit (vtd_config_qemu). Best of 3 runs; the same targets as
 * AMD-Vi (bench_amdvi.c). */
#include "bench_iommu_rig.h"

#include "iommu/vtd.h"
#include "sim/sim.h"

#define MMIO    0xfed90000ull
#define ROOT    0x00100000ull
#define CTX     0x00200000ull
#define TABLES  0x01000000ull
#define RID     0x0018
#define PAGES   4096 /* 16 MiB mapped: 64x the default IOTLB's reach */

static int rig_up(struct bench_iommu_rig *g)
{
    if (bench_rig_up(g, MMIO, RID, TABLES) < 0)
        return -1;
    struct vtd_config c;
    vtd_config_qemu(&c);
    c.mmio_base = MMIO;
    struct vtd *v = vtd_create(g->sim, g->ram, g->map, &c, NULL);
    if (!v)
        return -1;
    g->io = vtd_iommu(v);
    /* AW 39 (3 levels), domain 1 for RID: PAGES 4 KiB pages at IOVA 0 -> 0x40000000. */
    uint64_t l3 = bench_rig_table(g), l2 = bench_rig_table(g);
    struct vtd_sl_pte p = {.r = true, .w = true, .addr = l2};
    mem_phys_write64(g->ram, l3, vtd_sl_pte_encode(&p), NULL);
    for (unsigned i = 0; i < PAGES; i++) {
        uint64_t iova = (uint64_t)i << 12;
        uint64_t l2e = l2 + ((iova >> 21) & 0x1ff) * 8, e;
        mem_phys_read64(g->ram, l2e, &e, NULL);
        if (!(e & 3)) {
            p = (struct vtd_sl_pte){.r = true, .w = true, .addr = bench_rig_table(g)};
            e = vtd_sl_pte_encode(&p);
            mem_phys_write64(g->ram, l2e, e, NULL);
        }
        p = (struct vtd_sl_pte){.r = true, .w = true, .addr = BENCH_RIG_PA_BASE + iova};
        mem_phys_write64(g->ram, (e & 0x000ffffffffff000ull) + ((iova >> 12) & 0x1ff) * 8,
                         vtd_sl_pte_encode(&p), NULL);
    }
    uint8_t raw[16];
    struct vtd_root_entry re = {.p = true, .ctp = CTX};
    vtd_root_entry_encode(&re, raw);
    mem_phys_write(g->ram, ROOT + (RID >> 8) * 16ull, raw, 16, NULL);
    struct vtd_context_entry ce = {.p = true, .tt = VTD_TT_SLT, .slptptr = l3, .aw = VTD_AW_39,
                                   .did = 1};
    vtd_context_entry_encode(&ce, raw);
    mem_phys_write(g->ram, CTX + (RID & 0xff) * 16ull, raw, 16, NULL);
    bench_rig_w64(g, VTD_REG_RTADDR, ROOT);
    uint8_t b[4] = {0, 0, 0, 0x40}; /* GCMD.SRTP */
    mem_addrmap_write(g->map, MMIO + VTD_REG_GCMD, b, 4, NULL);
    b[3] = 0x80; /* GCMD.TE */
    mem_addrmap_write(g->map, MMIO + VTD_REG_GCMD, b, 4, NULL);
    return 0;
}

enum mode { HIT, WALK };

static double run(struct bench_iommu_rig *g, int m, uint64_t n, uint64_t *bad)
{
    return bench_rig_translate_rate(g, m == HIT ? 16 : PAGES, m == HIT, n, bad);
}

/* Caches the context (and for HIT the 16 pages it hits): one walk each,
 * of pages a WALK run reaches only after the IOTLB has forgotten them. */
static void warm(struct bench_iommu_rig *g, int m)
{
    bench_rig_touch(g, m == HIT ? 0 : PAGES - 16, 16);
}

void bench_vtd(struct bench_report *rep)
{
    static const struct bench_rig_fig figs[] = {
        {"vtd.iotlb_hit_per_s", HIT, 20000000, 100e6},
        {"vtd.walk3_per_s", WALK, 5000000, 15e6},
    };
    static const struct bench_rig_ops ops = {"bench_vtd", rig_up, warm, run};
    bench_rig_figures(rep, &ops, figs, sizeof figs / sizeof figs[0]);
}
