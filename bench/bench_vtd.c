/* The VT-d model through iommu_translate(): IOTLB hits, and 3-level
 * second-level walks with the tables in simulated memory and the IOTLB
 * missing every time (the context cached, as it is after the first DMA).
 * QEMU's q35 unit (vtd_config_qemu). Best of 3 runs; the same targets as
 * AMD-Vi (bench_amdvi.c). */
#include "bench.h"

#include <stdio.h>

#include "iommu/vtd.h"
#include "sim/sim.h"

#define MMIO    0xfed90000ull
#define ROOT    0x00100000ull
#define CTX     0x00200000ull
#define TABLES  0x01000000ull
#define RID     0x0018
#define PAGES   4096 /* 16 MiB mapped: 64x the default IOTLB's reach */

struct rig {
    struct pcilab_sim *sim;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct iommu *io;
    uint64_t next;
};

static void w64(struct rig *g, uint64_t off, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    mem_addrmap_write(g->map, MMIO + off, b, 8, NULL);
}

static uint64_t table(struct rig *g)
{
    uint64_t t = g->next;
    g->next += 0x1000;
    mem_phys_fill(g->ram, t, 0, 0x1000, NULL);
    return t;
}

static int rig_up(struct rig *g)
{
    g->sim = sim_create(1);
    g->ram = mem_phys_create();
    g->map = mem_addrmap_create(g->ram);
    g->next = TABLES;
    if (!g->sim || !g->ram || !g->map ||
        mem_addrmap_add_ram(g->map, 0, 0x80000000ull, "System RAM", NULL) < 0)
        return -1;
    struct vtd_config c;
    vtd_config_qemu(&c);
    c.mmio_base = MMIO;
    struct vtd *v = vtd_create(g->sim, g->ram, g->map, &c, NULL);
    if (!v)
        return -1;
    g->io = vtd_iommu(v);
    /* AW 39 (3 levels), domain 1 for RID: PAGES 4 KiB pages at IOVA 0 -> 0x40000000. */
    uint64_t l3 = table(g), l2 = table(g);
    struct vtd_sl_pte p = {.r = true, .w = true, .addr = l2};
    mem_phys_write64(g->ram, l3, vtd_sl_pte_encode(&p), NULL);
    for (unsigned i = 0; i < PAGES; i++) {
        uint64_t iova = (uint64_t)i << 12;
        uint64_t l2e = l2 + ((iova >> 21) & 0x1ff) * 8, e;
        mem_phys_read64(g->ram, l2e, &e, NULL);
        if (!(e & 3)) {
            p = (struct vtd_sl_pte){.r = true, .w = true, .addr = table(g)};
            e = vtd_sl_pte_encode(&p);
            mem_phys_write64(g->ram, l2e, e, NULL);
        }
        p = (struct vtd_sl_pte){.r = true, .w = true, .addr = 0x40000000ull + iova};
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
    w64(g, VTD_REG_RTADDR, ROOT);
    uint8_t b[4] = {0, 0, 0, 0x40}; /* GCMD.SRTP */
    mem_addrmap_write(g->map, MMIO + VTD_REG_GCMD, b, 4, NULL);
    b[3] = 0x80; /* GCMD.TE */
    mem_addrmap_write(g->map, MMIO + VTD_REG_GCMD, b, 4, NULL);
    return 0;
}

static void rig_down(struct rig *g)
{
    sim_destroy(g->sim);
    mem_addrmap_destroy(g->map);
    mem_phys_destroy(g->ram);
}

enum mode { HIT, WALK };

/* Translations per second; *bad counts answers that were not as expected. */
static double run(struct rig *g, enum mode m, uint64_t n, uint64_t *bad)
{
    struct iommu_req q = {.rid = RID, .size = 64, .access = IOMMU_PERM_W};
    struct iommu_result r;
    unsigned span = m == HIT ? 16 : PAGES;
    double t0 = bench_seconds();
    for (uint64_t i = 0; i < n; i++) {
        q.addr = ((uint64_t)(i & (span - 1)) << 12) + 0x40; /* span: a power of two */
        iommu_translate(g->io, &q, &r);
        *bad += !r.ok || r.iotlb_hit != (m == HIT) ||
                r.pa != 0x40000000ull + q.addr;
    }
    return (double)n / (bench_seconds() - t0);
}

/* Caches the context (and for HIT the 16 pages it hits): one walk each,
 * of pages a WALK run reaches only after the IOTLB has forgotten them. */
static void warm(struct rig *g, enum mode m)
{
    struct iommu_req q = {.rid = RID, .size = 64, .access = IOMMU_PERM_W};
    struct iommu_result r;
    for (unsigned i = 0; i < 16; i++) {
        q.addr = (uint64_t)(m == HIT ? i : PAGES - 1 - i) << 12;
        iommu_translate(g->io, &q, &r);
    }
}

void bench_vtd(struct bench_report *rep)
{
    static const struct {
        const char *name;
        enum mode m;
        uint64_t n;
        double target;
    } figs[] = {
        {"vtd.iotlb_hit_per_s", HIT, 20000000, 100e6},
        {"vtd.walk3_per_s", WALK, 5000000, 15e6},
    };
    for (size_t k = 0; k < sizeof figs / sizeof figs[0]; k++) {
        double best = 0;
        uint64_t bad = 0;
        for (int rep_i = 0; rep_i < 3; rep_i++) {
            struct rig g = {0};
            if (rig_up(&g) < 0) {
                fprintf(stderr, "bench_vtd: setup failed\n");
                rig_down(&g);
                return;
            }
            warm(&g, figs[k].m);
            double v = run(&g, figs[k].m, figs[k].n, &bad);
            if (v > best)
                best = v;
            rig_down(&g);
        }
        if (bad)
            fprintf(stderr, "bench_vtd: %s: %llu unexpected answers\n", figs[k].name,
                    (unsigned long long)bad);
        bench_figure(rep, figs[k].name, bad ? 0 : best, "1/s", figs[k].target, BENCH_AT_LEAST, 0);
    }
}
