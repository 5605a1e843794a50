/* The IOTLB (iotlb.h): a set-associative translation cache. */
#include "iommu/iotlb.h"

#include <stdlib.h>
#include <string.h>

struct iommu_iotlb {
    struct iommu_iotlb_config cfg;
    unsigned sets, set_mask, ways;
    uint64_t shifts;             /* bit s set: entries of page_shift s may be cached */
    uint64_t clock;              /* stamp source */
    uint64_t rng;                /* RANDOM policy state (xorshift64) */
    unsigned valid;
    struct iommu_iotlb_stats st;
    struct iommu_iotlb_entry *e; /* sets * ways, set-major */
};

void iommu_iotlb_config_default(struct iommu_iotlb_config *c)
{
    memset(c, 0, sizeof *c);
    c->entries = 64;
    c->ways = 8;
    c->policy = IOMMU_IOTLB_LRU;
    c->seed = 1;
    c->hit_latency = 2 * SIM_NS;
    c->walk_latency = 80 * SIM_NS;
}

static bool pow2(unsigned v)
{
    return v && !(v & (v - 1));
}

struct iommu_iotlb *iommu_iotlb_create(const struct iommu_iotlb_config *c,
                                       struct pcilab_err *err)
{
    if (!pow2(c->entries) || c->entries > 65536) {
        pcilab_errf(err, PCILAB_EINVAL, "IOTLB entries %u: a power of two from 1 to 65536",
                    c->entries);
        return NULL;
    }
    if (!pow2(c->ways) || c->ways > c->entries) {
        pcilab_errf(err, PCILAB_EINVAL, "IOTLB ways %u: a power of two from 1 to %u (entries)",
                    c->ways, c->entries);
        return NULL;
    }
    if (c->policy > IOMMU_IOTLB_RANDOM) {
        pcilab_errf(err, PCILAB_EINVAL, "IOTLB replacement policy %d unknown", (int)c->policy);
        return NULL;
    }
    struct iommu_iotlb *t = calloc(1, sizeof *t);
    if (t)
        t->e = calloc(c->entries, sizeof *t->e);
    if (!t || !t->e) {
        free(t);
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for an IOTLB of %u entries", c->entries);
        return NULL;
    }
    t->cfg = *c;
    t->ways = c->ways;
    t->sets = c->entries / c->ways;
    t->set_mask = t->sets - 1;
    t->rng = c->seed ? c->seed : 0x9e3779b97f4a7c15ull;
    return t;
}

void iommu_iotlb_destroy(struct iommu_iotlb *t)
{
    if (!t)
        return;
    free(t->e);
    free(t);
}

const struct iommu_iotlb_config *iommu_iotlb_config(const struct iommu_iotlb *t)
{
    return &t->cfg;
}

/* The set a page of one size falls in: the page number's low bits, mixed with
 * the domain so that two domains using the same IOVAs (every DMA domain
 * allocates top-down from the same limit) do not fight over one set. */
static inline struct iommu_iotlb_entry *set_of(struct iommu_iotlb *t, uint16_t domain,
                                               uint64_t vpn)
{
    unsigned s = (unsigned)(vpn ^ ((uint64_t)domain * 0x9e5u)) & t->set_mask;
    return t->e + (size_t)s * t->ways;
}

/* The entry's compare key besides the page number; never 0 for a valid
 * entry (page_shift >= 12). */
static inline uint64_t tag_of(uint16_t domain, uint32_t pasid, unsigned shift)
{
    return (uint64_t)domain | (uint64_t)shift << 16 | (uint64_t)pasid << 32;
}

const struct iommu_iotlb_entry *iommu_iotlb_lookup(struct iommu_iotlb *t, uint16_t domain,
                                                   uint32_t pasid, uint64_t addr)
{
    uint64_t shifts = t->shifts;
    const uint64_t tag0 = tag_of(domain, pasid, 0);
    while (shifts) {
        unsigned shift = (unsigned)__builtin_ctzll(shifts);
        shifts &= shifts - 1;
        uint64_t vpn = addr >> shift, tag = tag0 | (uint64_t)shift << 16;
        struct iommu_iotlb_entry *s = set_of(t, domain, vpn);
        for (unsigned w = 0; w < t->ways; w++)
            if (s[w].vpn == vpn && s[w].tag == tag) {
                if (t->cfg.policy == IOMMU_IOTLB_LRU)
                    s[w].stamp = ++t->clock;
                t->st.hits++;
                return &s[w];
            }
    }
    t->st.misses++;
    return NULL;
}

static unsigned victim(struct iommu_iotlb *t, const struct iommu_iotlb_entry *s)
{
    for (unsigned w = 0; w < t->ways; w++)
        if (!s[w].valid)
            return w;
    if (t->cfg.policy == IOMMU_IOTLB_RANDOM) {
        uint64_t x = t->rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t->rng = x;
        return (unsigned)(x >> 32) & (t->ways - 1);
    }
    unsigned v = 0;
    for (unsigned w = 1; w < t->ways; w++)
        if (s[w].stamp < s[v].stamp)
            v = w;
    return v;
}

static void fill(struct iommu_iotlb *t, struct iommu_iotlb_entry *e, uint16_t domain,
                 uint32_t pasid, uint64_t vpn, uint64_t pa, unsigned page_shift, uint8_t perm)
{
    e->vpn = vpn;
    e->pa = pa & ~((UINT64_C(1) << page_shift) - 1);
    e->pasid = pasid;
    e->domain = domain;
    e->page_shift = (uint8_t)page_shift;
    e->perm = perm;
    e->valid = true;
    e->tag = tag_of(domain, pasid, page_shift);
    e->stamp = ++t->clock;
    t->shifts |= UINT64_C(1) << page_shift;
    t->st.inserts++;
}

void iommu_iotlb_insert(struct iommu_iotlb *t, uint16_t domain, uint32_t pasid, uint64_t addr,
                        uint64_t pa, unsigned page_shift, uint8_t perm)
{
    if (page_shift < 12 || page_shift > 63)
        return;
    uint64_t vpn = addr >> page_shift, tag = tag_of(domain, pasid, page_shift);
    struct iommu_iotlb_entry *s = set_of(t, domain, vpn);
    /* one pass: the same page (replaced), else the first free way, else the
     * policy's victim (oldest stamp for LRU and FIFO) */
    unsigned w, free_w = t->ways, old_w = 0;
    for (w = 0; w < t->ways; w++) {
        if (s[w].vpn == vpn && s[w].tag == tag)
            break;
        if (!s[w].valid) {
            if (free_w == t->ways)
                free_w = w;
        } else if (s[w].stamp < s[old_w].stamp || !s[old_w].valid) {
            old_w = w;
        }
    }
    if (w == t->ways) {
        if (free_w < t->ways) {
            w = free_w;
            t->valid++;
        } else {
            w = t->cfg.policy == IOMMU_IOTLB_RANDOM ? victim(t, s) : old_w;
            t->st.evictions++;
        }
    }
    fill(t, &s[w], domain, pasid, vpn, pa, page_shift, perm);
}

void iommu_iotlb_insert_missed(struct iommu_iotlb *t, uint16_t domain, uint32_t pasid,
                               uint64_t addr, uint64_t pa, unsigned page_shift, uint8_t perm)
{
    if (page_shift < 12 || page_shift > 63)
        return;
    uint64_t vpn = addr >> page_shift;
    struct iommu_iotlb_entry *s = set_of(t, domain, vpn);
    unsigned w;
    if (t->valid < t->cfg.entries || t->cfg.policy == IOMMU_IOTLB_RANDOM) {
        w = victim(t, s);
        if (s[w].valid)
            t->st.evictions++;
        else
            t->valid++;
    } else {
        /* every way is valid: the oldest stamp (LRU and FIFO) */
        w = 0;
        for (unsigned i = 1; i < t->ways; i++)
            if (s[i].stamp < s[w].stamp)
                w = i;
        t->st.evictions++;
    }
    fill(t, &s[w], domain, pasid, vpn, pa, page_shift, perm);
}

static inline void drop(struct iommu_iotlb *t, struct iommu_iotlb_entry *e)
{
    e->valid = false;
    e->tag = 0;
    t->valid--;
    t->st.invalidated++;
}

/* [first, last] inclusive overlaps the entry's page? */
static inline bool overlaps(const struct iommu_iotlb_entry *e, uint64_t first, uint64_t last)
{
    uint64_t base = e->vpn << e->page_shift;
    uint64_t end = base + ((UINT64_C(1) << e->page_shift) - 1);
    return base <= last && end >= first;
}

/* iommu_iotlb_flush_range with something cached: out of line, so that a
 * flush of an empty IOTLB (the 65,536 INVALIDATE_IOMMU_PAGES of a 4.x boot's
 * early flush) is a count, a test and a return. */
static __attribute__((noinline)) unsigned flush_range_some(struct iommu_iotlb *t, uint16_t domain,
                                                           uint32_t pasid, uint64_t addr,
                                                           uint64_t size)
{
    uint64_t last = (size == 0 || size - 1 > UINT64_MAX - addr) ? UINT64_MAX : addr + size - 1;
    bool any_pasid = pasid == IOMMU_IOTLB_NO_PASID;
    unsigned n = 0;
    /* Probe the sets the range can occupy when that is fewer than all sets;
     * else look at every entry. */
    uint64_t probes = 0;
    for (uint64_t sh = t->shifts; sh; sh &= sh - 1) {
        unsigned shift = (unsigned)__builtin_ctzll(sh);
        probes += ((last >> shift) - (addr >> shift)) + 1;
        if (probes >= t->sets || probes == 0)
            break;
    }
    if (probes == 0 || probes >= t->sets) {
        for (unsigned i = 0; i < t->cfg.entries; i++) {
            struct iommu_iotlb_entry *e = &t->e[i];
            if (e->valid && e->domain == domain && (any_pasid || e->pasid == pasid) &&
                overlaps(e, addr, last)) {
                drop(t, e);
                n++;
            }
        }
        return n;
    }
    for (uint64_t sh = t->shifts; sh; sh &= sh - 1) {
        unsigned shift = (unsigned)__builtin_ctzll(sh);
        for (uint64_t vpn = addr >> shift;; vpn++) {
            struct iommu_iotlb_entry *s = set_of(t, domain, vpn);
            for (unsigned w = 0; w < t->ways; w++)
                if (s[w].valid && s[w].vpn == vpn && s[w].domain == domain &&
                    s[w].page_shift == shift && (any_pasid || s[w].pasid == pasid)) {
                    drop(t, &s[w]);
                    n++;
                }
            if (vpn == last >> shift)
                break;
        }
    }
    return n;
}

unsigned iommu_iotlb_flush_range(struct iommu_iotlb *t, uint16_t domain, uint32_t pasid,
                                 uint64_t addr, uint64_t size)
{
    t->st.flush_range++;
    if (!t->valid)
        return 0;
    return flush_range_some(t, domain, pasid, addr, size);
}

unsigned iommu_iotlb_flush_domain(struct iommu_iotlb *t, uint16_t domain)
{
    t->st.flush_domain++;
    unsigned n = 0;
    for (unsigned i = 0; i < t->cfg.entries; i++)
        if (t->e[i].valid && t->e[i].domain == domain) {
            drop(t, &t->e[i]);
            n++;
        }
    return n;
}

unsigned iommu_iotlb_flush_all(struct iommu_iotlb *t)
{
    t->st.flush_all++;
    unsigned n = 0;
    for (unsigned i = 0; i < t->cfg.entries; i++)
        if (t->e[i].valid) {
            drop(t, &t->e[i]);
            n++;
        }
    t->shifts = 0;
    return n;
}

unsigned iommu_iotlb_count(const struct iommu_iotlb *t)
{
    return t->valid;
}

void iommu_iotlb_get_stats(const struct iommu_iotlb *t, struct iommu_iotlb_stats *st)
{
    *st = t->st;
}
