/* The host kernel's physical page allocator: where dma_alloc_coherent's
 * buffers, the IOMMU driver's tables and the swiotlb pool live.
 *
 * Linux's buddy allocator (mm/page_alloc.c) hands out blocks of 2^order pages
 * from zones: ZONE_DMA below 16 MiB, ZONE_DMA32 below 4 GiB, ZONE_NORMAL
 * above (x86-64). A request names the highest zone it may use (GFP_DMA,
 * GFP_DMA32, or none) and falls back to lower zones when that one is full
 * (the zonelist order NORMAL -> DMA32 -> DMA).
 *
 * Which exact page a real buddy allocator returns depends on everything the
 * machine did since boot; it is not reproducible. The model is deterministic
 * instead: within a zone a block is the highest free, naturally aligned run
 * of 2^order pages (Linux's free lists are filled top-down at boot, so fresh
 * allocations come from the top of each zone too), and a freed block is
 * available again at once. Ranges not backed by RAM in the address map, and
 * ranges reserved by the caller (firmware, the kernel image), are never
 * handed out.
 *
 * Pages are not cleared here: simulated memory reads zeros until written, and
 * callers that must clear a reused block do so (as __GFP_ZERO does). */
#ifndef PCILAB_HOST_PAGES_H
#define PCILAB_HOST_PAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/addrmap.h"
#include "sim/err.h"

#define HOST_PAGE_SHIFT 12
#define HOST_PAGE_SIZE  ((uint64_t)1 << HOST_PAGE_SHIFT)
#define HOST_MAX_ORDER  11   /* MAX_ORDER: blocks of up to 2^10 pages (4 MiB) */

enum host_zone {
    HOST_ZONE_DMA,     /* [0, 16 MiB) */
    HOST_ZONE_DMA32,   /* [16 MiB, 4 GiB) */
    HOST_ZONE_NORMAL,  /* [4 GiB, ...) */
    HOST_NR_ZONES,
};
/* "DMA", "DMA32", "Normal" as /proc/zoneinfo names them. */
const char *host_zone_name(enum host_zone z);

struct host_pages;

/* Covers every RAM region of map (up to mem_limit bytes of address when
 * mem_limit != 0: the mem= boot parameter). NULL with err filled when there
 * is no RAM or no memory for the bitmaps. */
struct host_pages *host_pages_create(const struct mem_addrmap *map, uint64_t mem_limit,
                                     struct pcilab_err *err);
void host_pages_destroy(struct host_pages *p);

/* Takes [base, base + size) out of the allocator (memblock_reserve). */
void host_pages_reserve(struct host_pages *p, uint64_t base, uint64_t size);

/* Gives back [base, base + size) taken with host_pages_reserve (memblock
 * memory freed to the buddy allocator, e.g. an unused swiotlb pool). */
void host_pages_unreserve(struct host_pages *p, uint64_t base, uint64_t size);

/* A block of 2^order pages from zone `highest` or a lower one. Returns its
 * physical address, or UINT64_MAX when nothing fits. */
uint64_t host_pages_alloc(struct host_pages *p, unsigned order, enum host_zone highest);
/* As above but only from [lo, hi) (hi exclusive), highest first. */
uint64_t host_pages_alloc_range(struct host_pages *p, unsigned order, uint64_t lo, uint64_t hi);
/* Returns a block given by host_pages_alloc. -PCILAB_EINVAL when it was not
 * allocated as such (a double free). */
int host_pages_free(struct host_pages *p, uint64_t pa, unsigned order, struct pcilab_err *err);

/* get_order(size): smallest order whose block holds size bytes. */
unsigned host_get_order(uint64_t size);

/* Pages managed (RAM below the limit, minus reservations) and free now, per
 * zone or for all zones (HOST_NR_ZONES). */
uint64_t host_pages_managed(const struct host_pages *p, enum host_zone z);
uint64_t host_pages_free_count(const struct host_pages *p, enum host_zone z);
/* Highest RAM address + 1 the allocator covers (max_pfn << PAGE_SHIFT). */
uint64_t host_pages_end(const struct host_pages *p);

#endif
