/* The Linux IOVA allocator (drivers/iommu/iova.c) as each modelled kernel
 * version behaves, so that a fresh domain hands out exactly the addresses the
 * real kernel would. docs/iova.md explains the model version by version, with
 * the source lines it follows.
 *
 * Units are those of Linux: page frame numbers ("pfn") of the domain's
 * granule, and "unsigned long" is uint64_t (a 64-bit kernel). limit_pfn
 * arguments are inclusive, as in the kernel's exported functions.
 *
 * The per-CPU range caches ("rcaches") are modelled for ncpus CPUs; every call
 * that touches them takes the CPU it runs on, so a simulation stays
 * deterministic. */
#ifndef PCILAB_HOST_IOVA_H
#define PCILAB_HOST_IOVA_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/err.h"

/* Which drivers/iommu/iova.c (and DMA-layer policy) the domain follows. The
 * kernel-version table (kver.c) says which flavour each version uses. */
enum host_iova_flavour {
    /* v4.9.80: one cached32_node (NULL when unset), dma_32bit_pfn given to
     * init_iova_domain (inclusive), padding-based alignment, inclusive limit,
     * magazines of 128, flush-and-retry always on, depot never flushed.
     * DMA layer: the AMD IOMMU driver's dma_ops_alloc_iova. */
    HOST_IOVA_V4_9,
    /* v4.20.17: anchor node, cached_node + cached32_node, max32_alloc_size
     * (set on every failure), mask-based alignment, exclusive limit inside,
     * magazine pop scans for a fitting pfn. DMA layer: AMD dma_ops_alloc_iova. */
    HOST_IOVA_V4_20,
    /* v5.15: as 4.20, plus the retry from the last allocated node
     * (iova_find_limit), cached32 removal when the cached node itself is
     * freed, max32_alloc_size set only when the tree walk fails, the depot
     * flushed on retry. DMA layer: dma-iommu.c iommu_dma_alloc_iova. */
    HOST_IOVA_V5_15,
    /* v6.1: as 5.15, with magazines of 127, the power-of-two rounding of
     * small sizes inside alloc_iova_fast, and max32_alloc_size reset by any
     * free below the 32-bit boundary. DMA layer: iommu_dma_alloc_iova. */
    HOST_IOVA_V6_1,
};

#define HOST_IOVA_RANGE_CACHE_MAX_SIZE 6 /* IOVA_RANGE_CACHE_MAX_SIZE, all versions */
#define HOST_IOVA_MAX_GLOBAL_MAGS 32     /* MAX_GLOBAL_MAGS, all versions */
#define HOST_IOVA_MAX_CPUS 1024

struct host_iova_params {
    enum host_iova_flavour flavour;
    uint64_t granule;   /* bytes, a power of two, 1 .. 64 KiB (4096 on x86) */
    uint64_t start_pfn; /* init_iova_domain's start_pfn (AMD: IOVA_START_PFN = 1) */
    /* 4.9 only: init_iova_domain's pfn_32bit. 0 means what the AMD driver
     * passes, DMA_32BIT_PFN = DMA_BIT_MASK(32) >> shift. Later versions derive
     * dma_32bit_pfn = 1 << (32 - shift) themselves and ignore this. */
    uint64_t pfn_32bit;
    unsigned ncpus;     /* CPUs with rcaches (possible = online), 1 .. HOST_IOVA_MAX_CPUS */
    /* 5.15/6.1: iommu.forcedac=1, no 32-bit-first attempt for PCI devices. */
    bool forcedac;
};

/* One allocated or reserved range, [pfn_lo, pfn_hi]. */
struct host_iova {
    uint64_t pfn_lo, pfn_hi;
};

struct host_iova_domain;

/* init_iova_domain (+ the rcaches). */
struct host_iova_domain *host_iova_create(const struct host_iova_params *p,
                                          struct pcilab_err *err);
/* put_iova_domain. NULL is allowed. */
void host_iova_destroy(struct host_iova_domain *d);
enum host_iova_flavour host_iova_flavour(const struct host_iova_domain *d);
unsigned host_iova_shift(const struct host_iova_domain *d); /* iova_shift */

/* alloc_iova: a range of size pages at or below limit_pfn, top-down. 0 and
 * *out on success; -PCILAB_ERANGE where Linux returns NULL (no room);
 * -PCILAB_EINVAL for size 0; -PCILAB_ENOMEM when the model cannot allocate. */
int host_alloc_iova(struct host_iova_domain *d, uint64_t size, uint64_t limit_pfn,
                    bool size_aligned, struct host_iova *out, struct pcilab_err *err);
/* find_iova: the range holding pfn. */
bool host_find_iova(const struct host_iova_domain *d, uint64_t pfn, struct host_iova *out);
/* free_iova: frees the range holding pfn (nothing when none). Returns whether
 * one was freed. The anchor node (4.20+) is never freed. */
bool host_free_iova(struct host_iova_domain *d, uint64_t pfn);
/* reserve_iova: merges with and extends overlapping ranges as Linux does.
 * *out (may be NULL) is the node Linux returns. -PCILAB_ERANGE where Linux
 * returns NULL (4.20+: pfns beyond ULLONG_MAX >> shift). */
int host_reserve_iova(struct host_iova_domain *d, uint64_t pfn_lo, uint64_t pfn_hi,
                      struct host_iova *out, struct pcilab_err *err);

/* alloc_iova_fast on CPU cpu: *pfn is what Linux returns, 0 meaning failure
 * (note that 5.15/6.1 can place a range at pfn 0 and then report failure,
 * leaking it, as Linux does). flush_rcache is ignored by 4.9, which always
 * flushes and retries once. Returns 0, or -PCILAB_EINVAL (size 0, bad cpu),
 * -PCILAB_ENOMEM (the model could not allocate). */
int host_alloc_iova_fast(struct host_iova_domain *d, uint64_t size, uint64_t limit_pfn,
                         bool flush_rcache, unsigned cpu, uint64_t *pfn,
                         struct pcilab_err *err);
/* free_iova_fast on CPU cpu: into the CPU's rcache, else into the tree. */
int host_free_iova_fast(struct host_iova_domain *d, uint64_t pfn, uint64_t size,
                        unsigned cpu, struct pcilab_err *err);
/* free_cpu_cached_iovas (CPU unplug, or the retry path). */
void host_free_cpu_cached_iovas(struct host_iova_domain *d, unsigned cpu);

/* The DMA layer's use of the allocator for one mapping of size_bytes (the
 * length with the in-page offset added, as iova_align(size + iova_off) or
 * iommu_num_pages give it), for a device with dma_mask, on CPU cpu:
 *   4.9, 4.20: amd_iommu.c dma_ops_alloc_iova: pages rounded up to a power
 *     of two; if the mask is wider than 32 bits, first below 4 GiB (no
 *     flush), then below the mask (flush and retry). is_pci is not looked at:
 *     the AMD driver only serves PCI devices.
 *   5.15: dma-iommu.c iommu_dma_alloc_iova: pages < 32 rounded up to a power
 *     of two; 32-bit first only for PCI devices without forcedac.
 *   6.1: the same, the rounding being done inside alloc_iova_fast.
 * 0 and *dma_addr on success; -PCILAB_ERANGE with *dma_addr = 0 where Linux
 * fails the mapping; -PCILAB_EINVAL, -PCILAB_ENOMEM as above. */
int host_iova_dma_alloc(struct host_iova_domain *d, uint64_t dma_mask, bool is_pci,
                        uint64_t size_bytes, unsigned cpu, uint64_t *dma_addr,
                        struct pcilab_err *err);
/* The matching unmap: 4.9/4.20 dma_ops_free_iova (pages rounded up to a
 * power of two), 5.15/6.1 iommu_dma_free_iova in strict mode (size as
 * mapped); both end in free_iova_fast. The flush queue (lazy mode) is not
 * modelled here: a caller models it by delaying this call. */
int host_iova_dma_free(struct host_iova_domain *d, uint64_t dma_addr, uint64_t size_bytes,
                       unsigned cpu, struct pcilab_err *err);

/* Inspection, for tests and diagnosis. */
struct host_iova_state {
    uint64_t dma_32bit_pfn;
    /* pfn_lo of the node cached_node / cached32_node point at; 4.20+: the
     * anchor is ~0. 4.9 has no cached_node (always reported ~0) and its
     * cached32_node may be NULL (cached32_valid false). */
    uint64_t cached_pfn_lo, cached32_pfn_lo;
    bool cached32_valid;
    uint64_t max32_alloc_size;   /* 4.20+ */
    uint64_t nodes;              /* ranges in the tree, the anchor not counted */
    /* 4.20.17 only: times a free left cached32_node pointing at the freed node
     * (fixed in 5.3 by "iommu/iova: Remove stale cached32_node"). Linux then
     * reads freed memory; the model moves the cache as 5.x does and counts. */
    uint64_t stale_cached32;
    uint64_t mallocs;            /* host allocations made so far (nodes and magazines) */
};
void host_iova_get_state(const struct host_iova_domain *d, struct host_iova_state *s);
/* The ranges in ascending order (the anchor left out): fills up to max, returns
 * how many there are. */
uint64_t host_iova_list(const struct host_iova_domain *d, struct host_iova *out, uint64_t max);
/* rcache contents of one order on one CPU: pfns in the loaded and prev
 * magazines, and pfns in the depot of that order (shared by all CPUs). */
struct host_iova_rcache_state {
    unsigned loaded, prev, depot_mags, depot_pfns;
};
void host_iova_rcache_state(const struct host_iova_domain *d, unsigned order, unsigned cpu,
                            struct host_iova_rcache_state *s);

#endif
