/* The rig the IOMMU model benchmarks share (bench_vtd.c, bench_amdvi.c): a
 * simulation with 2 GiB of RAM, one IOMMU behind the common struct iommu
 * interface, page-table pages handed out from simulated memory, and the
 * measuring loops, which go through iommu_translate() only and so are the
 * same for every IOMMU model. Each benchmark builds its own unit and tables. */
#ifndef PCILAB_BENCH_IOMMU_RIG_H
#define PCILAB_BENCH_IOMMU_RIG_H

#include <stdbool.h>
#include <stdint.h>

#include "bench.h"
#include "iommu/iommu.h"
#include "mem/addrmap.h"
#include "mem/physmem.h"
#include "sim/sim.h"

#define BENCH_RIG_RAM_SIZE 0x80000000ull /* "System RAM" at 0 */
#define BENCH_RIG_PA_BASE  0x40000000ull /* the pages' IOVA 0 maps here */

struct bench_iommu_rig {
    struct pcilab_sim *sim;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct iommu *io;   /* the unit's, set by the benchmark's own set-up */
    uint64_t mmio;      /* the unit's register base */
    uint16_t rid;       /* the requester the tables map */
    uint64_t next;      /* the next page-table page */
};

/* The simulation and its memory; page-table pages from `tables` on. 0, or -1
 * (bench_rig_down frees what there is). */
int bench_rig_up(struct bench_iommu_rig *g, uint64_t mmio, uint16_t rid, uint64_t tables);
void bench_rig_down(struct bench_iommu_rig *g);
/* A zeroed 4 KiB page for a table. */
uint64_t bench_rig_table(struct bench_iommu_rig *g);
/* 64-bit accesses to the unit's register at mmio + off, through the address map. */
void bench_rig_w64(struct bench_iommu_rig *g, uint64_t off, uint64_t v);
uint64_t bench_rig_r64(struct bench_iommu_rig *g, uint64_t off);

/* n DWORD-offset writes of 64 bytes to pages 0 .. span-1 (span a power of
 * two) of the mapping IOVA 0 -> BENCH_RIG_PA_BASE, in turn; translations per
 * second. *bad counts answers that failed, came from the IOTLB when `hit` is
 * false (or not when true), or gave another address. */
double bench_rig_translate_rate(struct bench_iommu_rig *g, unsigned span, bool hit, uint64_t n,
                                uint64_t *bad);
/* One translation each of pages first .. first+count-1: caches what a walk
 * of them caches. */
void bench_rig_touch(struct bench_iommu_rig *g, uint64_t first, unsigned count);

/* One figure of a benchmark: `mode` is the benchmark's own. */
struct bench_rig_fig {
    const char *name;
    int mode;
    uint64_t n;
    double target;
};
struct bench_rig_ops {
    const char *who; /* "bench_vtd": for the messages */
    int (*up)(struct bench_iommu_rig *g);                       /* 0 or -1 */
    void (*warm)(struct bench_iommu_rig *g, int mode);          /* before timing, or NULL */
    double (*run)(struct bench_iommu_rig *g, int mode, uint64_t n, uint64_t *bad);
};
/* Each figure: the best of 3 runs, each on a fresh rig; 0 when any answer
 * was unexpected. */
void bench_rig_figures(struct bench_report *rep, const struct bench_rig_ops *ops,
                       const struct bench_rig_fig *figs, size_t n_figs);

#endif
