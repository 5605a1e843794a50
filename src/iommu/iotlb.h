/* The IOTLB: a set-associative cache of translations, tagged by domain ID
 * (and PASID, when requests carry one) and page, shared by every IOMMU
 * architecture.
 *
 * Geometry: `entries` entries in sets of `ways` (entries == ways is fully
 * associative). A translation of 2^page_shift bytes (4 KiB, 2 MiB, 1 GiB, or
 * any size an AMD-Vi skip-level / Next Level 7 entry gives) is stored once,
 * in the set its page number (addr >> page_shift) selects; lookups probe one
 * set per page size currently cached, 4 KiB first.
 *
 * Replacement within a set: least recently used, first in first out, or a
 * seeded pseudo-random way (xorshift, deterministic).
 *
 * Invalidation: by page range within a domain (any entry that overlaps the
 * range), by domain, or everything. Entries stay valid until invalidated:
 * an IOMMU whose driver forgets to invalidate really uses the stale
 * translation, as hardware does.
 *
 * Timing (optional, used by the models): a hit costs hit_latency; a miss
 * costs the model's walk (walk_latency per table read) on top. Defaults: 64
 * entries, 8 ways (256 KiB of reach in 4 KiB pages), LRU, 2 ns hit, 80 ns per
 * table read: the three-level walk Linux's DMA domains use then adds 240 ns,
 * inside the 230-290 ns a real IOTLB miss adds to a DMA read (a device table
 * entry that is not cached adds one more read).
 *
 * Fast path: lookup and insert allocate nothing.
 */
#ifndef PCILAB_IOMMU_IOTLB_H
#define PCILAB_IOMMU_IOTLB_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/err.h"
#include "sim/time.h"

enum iommu_iotlb_policy {
    IOMMU_IOTLB_LRU,
    IOMMU_IOTLB_FIFO,
    IOMMU_IOTLB_RANDOM,
};

struct iommu_iotlb_config {
    unsigned entries;            /* power of two, 1 .. 65536 */
    unsigned ways;               /* power of two, 1 .. entries */
    enum iommu_iotlb_policy policy;
    uint64_t seed;               /* RANDOM policy */
    sim_time_t hit_latency;
    sim_time_t walk_latency;     /* per table read on a miss */
};
void iommu_iotlb_config_default(struct iommu_iotlb_config *c);

struct iommu_iotlb_entry {
    uint64_t vpn;                /* addr >> page_shift */
    uint64_t tag;                /* domain | page_shift << 16 | pasid << 32; 0 when
                                    invalid (the compare key of the fast path) */
    uint64_t pa;                 /* physical base of the page */
    uint32_t pasid;              /* IOMMU_IOTLB_NO_PASID when untagged */
    uint16_t domain;
    uint8_t page_shift;          /* 12 .. 63 */
    uint8_t perm;                /* IOMMU_PERM_* */
    bool valid;
    uint64_t stamp;              /* LRU: last use; FIFO: insertion */
};

#define IOMMU_IOTLB_NO_PASID 0xffffffffu

struct iommu_iotlb_stats {
    uint64_t hits, misses, inserts, evictions, invalidated;
    uint64_t flush_range, flush_domain, flush_all;
};

struct iommu_iotlb;

/* NULL with err filled on bad geometry or no memory. */
struct iommu_iotlb *iommu_iotlb_create(const struct iommu_iotlb_config *c,
                                       struct pcilab_err *err);
void iommu_iotlb_destroy(struct iommu_iotlb *t);
const struct iommu_iotlb_config *iommu_iotlb_config(const struct iommu_iotlb *t);

/* The entry translating addr in (domain, pasid), or NULL (a miss). Counts a
 * hit or a miss. The pointer is valid until the next insert or flush. */
const struct iommu_iotlb_entry *iommu_iotlb_lookup(struct iommu_iotlb *t, uint16_t domain,
                                                   uint32_t pasid, uint64_t addr);
/* Caches a translation of the 2^page_shift page holding addr to pa (page base
 * or any address inside it: the low bits are dropped). Replaces an entry for
 * the same page if present, else the set's victim. */
void iommu_iotlb_insert(struct iommu_iotlb *t, uint16_t domain, uint32_t pasid, uint64_t addr,
                        uint64_t pa, unsigned page_shift, uint8_t perm);

/* The same, right after iommu_iotlb_lookup missed for (domain, pasid, addr)
 * with no insert or flush in between: no entry can cover the page, so the
 * search for one is skipped (the walk after a miss). */
void iommu_iotlb_insert_missed(struct iommu_iotlb *t, uint16_t domain, uint32_t pasid,
                               uint64_t addr, uint64_t pa, unsigned page_shift, uint8_t perm);

/* Invalidates every entry of `domain` (any PASID when pasid is
 * IOMMU_IOTLB_NO_PASID) overlapping [addr, addr + size). size 0 or a range
 * reaching past 2^64 means up to the end of the address space. Returns the
 * number of entries invalidated. */
unsigned iommu_iotlb_flush_range(struct iommu_iotlb *t, uint16_t domain, uint32_t pasid,
                                 uint64_t addr, uint64_t size);
unsigned iommu_iotlb_flush_domain(struct iommu_iotlb *t, uint16_t domain);
unsigned iommu_iotlb_flush_all(struct iommu_iotlb *t);

/* Valid entries now. */
unsigned iommu_iotlb_count(const struct iommu_iotlb *t);
void iommu_iotlb_get_stats(const struct iommu_iotlb *t, struct iommu_iotlb_stats *st);

#endif
