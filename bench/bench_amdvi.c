/* The AMD-Vi model through iommu_translate(): IOTLB hits, 3-level walks with
 * the tables in simulated memory and the IOTLB missing every time, and
 * faulting translations that write an IO_PAGE_FAULT event (the log drained
 * by writing the head register, as the host driver does). Best of 3 runs. */
#include "bench.h"

#include <stdio.h>

#include "iommu/amdvi.h"
#include "sim/sim.h"

#define MMIO    0xfeb80000ull
#define DEV_TAB 0x00100000ull
#define EVT_LOG 0x00400000ull
#define TABLES  0x01000000ull
#define RID     0x0100
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

static uint64_t r64(struct rig *g, uint64_t off)
{
    uint8_t b[8];
    mem_addrmap_read(g->map, MMIO + off, b, 8, NULL);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
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
    struct amdvi_config c;
    amdvi_config_default(&c);
    c.mmio_base = MMIO;
    struct amdvi *a = amdvi_create(g->sim, g->ram, g->map, &c, NULL);
    if (!a)
        return -1;
    g->io = amdvi_iommu(a);
    /* Mode 3 domain 1 for RID: PAGES 4 KiB pages at IOVA 0 -> 0x40000000. */
    uint64_t l3 = table(g), l2 = table(g);
    struct amdvi_pte p = {.pr = true, .next_level = 2, .addr = l2, .ir = true, .iw = true};
    mem_phys_write64(g->ram, l3, amdvi_pte_encode(&p), NULL);
    for (unsigned i = 0; i < PAGES; i++) {
        uint64_t iova = (uint64_t)i << 12;
        uint64_t l2e = l2 + ((iova >> 21) & 0x1ff) * 8, e;
        mem_phys_read64(g->ram, l2e, &e, NULL);
        if (!(e & 1)) {
            p = (struct amdvi_pte){.pr = true, .next_level = 1, .addr = table(g), .ir = true,
                                   .iw = true};
            e = amdvi_pte_encode(&p);
            mem_phys_write64(g->ram, l2e, e, NULL);
        }
        p = (struct amdvi_pte){.pr = true, .addr = 0x40000000ull + iova, .ir = true, .iw = true};
        mem_phys_write64(g->ram, (e & AMDVI_BASE_ADDR_MASK) + ((iova >> 12) & 0x1ff) * 8,
                         amdvi_pte_encode(&p), NULL);
    }
    /* The next 2 MiB region has its level-1 table but no pages: faults read
     * all three levels. */
    p = (struct amdvi_pte){.pr = true, .next_level = 1, .addr = table(g), .ir = true, .iw = true};
    mem_phys_write64(g->ram, l2 + (((uint64_t)PAGES << 12) >> 21) * 8, amdvi_pte_encode(&p), NULL);
    struct amdvi_dte d = {.v = true, .tv = true, .mode = 3, .pt_root = l3, .ir = true,
                          .iw = true, .domain_id = 1};
    uint8_t raw[AMDVI_DTE_SIZE];
    amdvi_dte_encode(&d, raw);
    mem_phys_write(g->ram, DEV_TAB + RID * 32ull, raw, sizeof raw, NULL);
    w64(g, AMDVI_REG_DEV_TAB_BASE, amdvi_dev_tab_base(DEV_TAB, 0x1ff));
    w64(g, AMDVI_REG_EVT_LOG_BASE, amdvi_ring_base(EVT_LOG, 8));
    w64(g, AMDVI_REG_CONTROL, AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVENT_LOG_EN);
    return 0;
}

static void rig_down(struct rig *g)
{
    sim_destroy(g->sim);
    mem_addrmap_destroy(g->map);
    mem_phys_destroy(g->ram);
}

enum mode { HIT, WALK, FAULT };

/* Translations per second; *bad counts answers that were not as expected. */
static double run(struct rig *g, enum mode m, uint64_t n, uint64_t *bad)
{
    struct iommu_req q = {.rid = RID, .size = 64, .access = IOMMU_PERM_W};
    struct iommu_result r;
    uint64_t base = m == FAULT ? (uint64_t)PAGES << 12 : 0;
    unsigned span = m == HIT ? 16 : (m == WALK ? PAGES : 512);
    double t0 = bench_seconds();
    for (uint64_t i = 0; i < n; i++) {
        q.addr = base + ((uint64_t)(i % span) << 12) + 0x40;
        iommu_translate(g->io, &q, &r);
        if (m == FAULT) {
            *bad += r.ok || !r.logged;
            if ((i & 127) == 127) /* the driver consumes the log */
                w64(g, AMDVI_REG_EVT_HEAD, r64(g, AMDVI_REG_EVT_TAIL));
        } else {
            *bad += !r.ok || r.iotlb_hit != (m == HIT);
        }
    }
    return (double)n / (bench_seconds() - t0);
}

void bench_amdvi(struct bench_report *rep)
{
    static const struct {
        const char *name;
        enum mode m;
        uint64_t n;
        double target;
    } figs[] = {
        {"amdvi.iotlb_hit_per_s", HIT, 20000000, 100e6},
        {"amdvi.walk3_per_s", WALK, 5000000, 15e6},
        {"amdvi.fault_per_s", FAULT, 5000000, 10e6},
    };
    for (size_t k = 0; k < sizeof figs / sizeof figs[0]; k++) {
        double best = 0;
        uint64_t bad = 0;
        for (int rep_i = 0; rep_i < 3; rep_i++) {
            struct rig g = {0};
            if (rig_up(&g) < 0) {
                fprintf(stderr, "bench_amdvi: setup failed\n");
                rig_down(&g);
                return;
            }
            if (figs[k].m == HIT) { /* warm the IOTLB */
                uint64_t warm = 0;
                run(&g, WALK, 16, &warm);
            }
            double v = run(&g, figs[k].m, figs[k].n, &bad);
            if (v > best)
                best = v;
            rig_down(&g);
        }
        if (bad)
            fprintf(stderr, "bench_amdvi: %s: %llu unexpected answers\n", figs[k].name,
                    (unsigned long long)bad);
        bench_figure(rep, figs[k].name, bad ? 0 : best, "1/s", figs[k].target, BENCH_AT_LEAST, 0);
    }
}
