/* The host kernel's page allocator (pages.h). */
#include "host/pages.h"

#include <stdlib.h>
#include <string.h>

#include "sim/table.h"

static const uint64_t zone_lo[HOST_NR_ZONES] = {0, 16ull << 20, 4ull << 30};
static const uint64_t zone_hi[HOST_NR_ZONES] = {16ull << 20, 4ull << 30, UINT64_MAX};

struct block {
    uint64_t pfn;
    unsigned order;
};

struct host_pages {
    uint64_t npages;            /* pfns 0 .. npages-1 are covered */
    size_t words;               /* 64-bit words of each bitmap */
    uint64_t *used;             /* bit set: not RAM, reserved or allocated */
    uint64_t *ram;              /* bit set: RAM managed by the allocator */
    struct block *blocks;       /* allocated blocks, sorted by pfn */
    size_t nblocks, cap;
};

const char *host_zone_name(enum host_zone z)
{
    switch (z) {
    case HOST_ZONE_DMA: return "DMA";
    case HOST_ZONE_DMA32: return "DMA32";
    case HOST_ZONE_NORMAL: return "Normal";
    case HOST_NR_ZONES: break;
    }
    return "?";
}

static inline bool bit(const uint64_t *b, uint64_t i)
{
    return b[i >> 6] >> (i & 63) & 1;
}

static void set_range(uint64_t *b, uint64_t lo, uint64_t hi, bool v)
{
    for (uint64_t i = lo; i < hi;) {
        if ((i & 63) == 0 && hi - i >= 64) {
            b[i >> 6] = v ? ~0ull : 0;
            i += 64;
            continue;
        }
        if (v)
            b[i >> 6] |= 1ull << (i & 63);
        else
            b[i >> 6] &= ~(1ull << (i & 63));
        i++;
    }
}

struct host_pages *host_pages_create(const struct mem_addrmap *map, uint64_t mem_limit,
                                     struct pcilab_err *err)
{
    uint64_t end = 0;
    for (size_t i = 0; i < mem_addrmap_count(map); i++) {
        const struct mem_region *r = mem_addrmap_at(map, i);
        if (r->kind == MEM_REGION_RAM && mem_region_last(r) + 1 > end)
            end = mem_region_last(r) + 1;
    }
    if (mem_limit && end > mem_limit)
        end = mem_limit;
    end &= ~(HOST_PAGE_SIZE - 1);
    if (end == 0) {
        pcilab_errf(err, PCILAB_EINVAL, "no RAM for the host kernel's page allocator");
        return NULL;
    }
    if (end > (1ull << 46)) {
        pcilab_errf(err, PCILAB_EUNSUPPORTED,
                    "RAM up to 0x%llx: the page allocator covers at most 64 TiB",
                    (unsigned long long)end);
        return NULL;
    }
    struct host_pages *p = calloc(1, sizeof *p);
    uint64_t words = ((end >> HOST_PAGE_SHIFT) + 63) / 64;
    if (p) {
        p->npages = end >> HOST_PAGE_SHIFT;
        p->words = (size_t)words;
        /* both written all over right below: tables with their pages present */
        p->used = sim_table_alloc(p->words * 8);
        p->ram = sim_table_alloc(p->words * 8);
    }
    if (!p || !p->used || !p->ram) {
        host_pages_destroy(p);
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the page allocator's bitmaps");
        return NULL;
    }
    memset(p->used, 0xff, words * 8);
    for (size_t i = 0; i < mem_addrmap_count(map); i++) {
        const struct mem_region *r = mem_addrmap_at(map, i);
        if (r->kind != MEM_REGION_RAM)
            continue;
        /* whole pages only */
        uint64_t lo = (r->base + HOST_PAGE_SIZE - 1) >> HOST_PAGE_SHIFT;
        uint64_t hi = (mem_region_last(r) + 1) >> HOST_PAGE_SHIFT;
        if (mem_region_last(r) == UINT64_MAX)
            hi = p->npages;
        if (hi > p->npages)
            hi = p->npages;
        if (lo < hi) {
            set_range(p->used, lo, hi, false);
            set_range(p->ram, lo, hi, true);
        }
    }
    return p;
}

void host_pages_destroy(struct host_pages *p)
{
    if (!p)
        return;
    sim_table_free(p->used, p->words * 8);
    sim_table_free(p->ram, p->words * 8);
    free(p->blocks);
    free(p);
}

/* Every page touched by [base, base + size) leaves (reserve) or joins the
 * managed RAM. */
static void mark_reserved(struct host_pages *p, uint64_t base, uint64_t size, bool reserve)
{
    if (!size || base >= p->npages << HOST_PAGE_SHIFT)
        return;
    uint64_t lo = base >> HOST_PAGE_SHIFT;
    uint64_t last = size - 1 > UINT64_MAX - base ? UINT64_MAX : base + size - 1;
    uint64_t hi = (last >> HOST_PAGE_SHIFT) + 1;
    if (hi > p->npages)
        hi = p->npages;
    set_range(p->used, lo, hi, reserve);
    set_range(p->ram, lo, hi, !reserve);
}

void host_pages_reserve(struct host_pages *p, uint64_t base, uint64_t size)
{
    mark_reserved(p, base, size, true);
}

void host_pages_unreserve(struct host_pages *p, uint64_t base, uint64_t size)
{
    mark_reserved(p, base, size, false);
}

/* Highest used pfn in [lo, hi), or UINT64_MAX when all are free. */
static uint64_t highest_used(const struct host_pages *p, uint64_t lo, uint64_t hi)
{
    uint64_t i = hi;
    while (i > lo) {
        uint64_t w = (i - 1) >> 6;
        uint64_t base = w << 6;
        uint64_t word = p->used[w];
        unsigned top = (unsigned)((i - 1) & 63);
        if (top < 63)
            word &= (2ull << top) - 1;
        if (base < lo)
            word &= ~((1ull << (lo - base)) - 1);
        if (word)
            return base + 63 - (uint64_t)__builtin_clzll(word);
        i = base;
    }
    return UINT64_MAX;
}

/* Highest free pfn in [lo, hi), or UINT64_MAX. */
static uint64_t highest_free(const struct host_pages *p, uint64_t lo, uint64_t hi)
{
    uint64_t i = hi;
    while (i > lo) {
        uint64_t w = (i - 1) >> 6;
        uint64_t base = w << 6;
        uint64_t word = ~p->used[w];
        unsigned top = (unsigned)((i - 1) & 63);
        if (top < 63)
            word &= (2ull << top) - 1;
        if (base < lo)
            word &= ~((1ull << (lo - base)) - 1);
        if (word)
            return base + 63 - (uint64_t)__builtin_clzll(word);
        i = base;
    }
    return UINT64_MAX;
}

static int add_block(struct host_pages *p, uint64_t pfn, unsigned order)
{
    if (p->nblocks == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct block *b = realloc(p->blocks, cap * sizeof *b);
        if (!b)
            return -1;
        p->blocks = b;
        p->cap = cap;
    }
    size_t lo = 0, hi = p->nblocks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->blocks[mid].pfn < pfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(p->blocks + lo + 1, p->blocks + lo, (p->nblocks - lo) * sizeof *p->blocks);
    p->blocks[lo] = (struct block){pfn, order};
    p->nblocks++;
    return 0;
}

uint64_t host_pages_alloc_range(struct host_pages *p, unsigned order, uint64_t lo, uint64_t hi)
{
    if (order >= HOST_MAX_ORDER)
        return UINT64_MAX;
    uint64_t n = 1ull << order;
    uint64_t plo = (lo + HOST_PAGE_SIZE - 1) >> HOST_PAGE_SHIFT;
    uint64_t phi = hi >> HOST_PAGE_SHIFT;
    if (hi == UINT64_MAX || phi > p->npages)
        phi = p->npages;
    if (phi < plo + n)
        return UINT64_MAX;
    uint64_t c = (phi - n) & ~(n - 1);
    while (c >= plo) {
        if (highest_used(p, c, c + n) == UINT64_MAX) {
            if (add_block(p, c, order) < 0)
                return UINT64_MAX;
            set_range(p->used, c, c + n, true);
            return c << HOST_PAGE_SHIFT;
        }
        /* every window between here and the highest free page below c holds
         * a used page: continue at the window containing that page */
        uint64_t f = highest_free(p, plo, c);
        if (f == UINT64_MAX)
            break;
        c = f & ~(n - 1);
        if (c + n > phi) {
            if (c < n)
                break;
            c -= n;
        }
    }
    return UINT64_MAX;
}

uint64_t host_pages_alloc(struct host_pages *p, unsigned order, enum host_zone highest)
{
    for (int z = (int)highest; z >= 0; z--) {
        uint64_t pa = host_pages_alloc_range(p, order, zone_lo[z], zone_hi[z]);
        if (pa != UINT64_MAX)
            return pa;
    }
    return UINT64_MAX;
}

int host_pages_free(struct host_pages *p, uint64_t pa, unsigned order, struct pcilab_err *err)
{
    uint64_t pfn = pa >> HOST_PAGE_SHIFT;
    size_t lo = 0, hi = p->nblocks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->blocks[mid].pfn < pfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    if ((pa & (HOST_PAGE_SIZE - 1)) || lo == p->nblocks || p->blocks[lo].pfn != pfn ||
        p->blocks[lo].order != order)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "freeing pages at 0x%llx (order %u) that were not allocated so",
                           (unsigned long long)pa, order);
    set_range(p->used, pfn, pfn + (1ull << order), false);
    memmove(p->blocks + lo, p->blocks + lo + 1, (p->nblocks - lo - 1) * sizeof *p->blocks);
    p->nblocks--;
    return 0;
}

unsigned host_get_order(uint64_t size)
{
    unsigned order = 0;
    if (size == 0)
        return 0;
    size = (size - 1) >> HOST_PAGE_SHIFT;
    while (size) {
        order++;
        size >>= 1;
    }
    return order;
}

static uint64_t count(const uint64_t *b, bool want, const struct host_pages *p, enum host_zone z)
{
    uint64_t lo = z == HOST_NR_ZONES ? 0 : zone_lo[z] >> HOST_PAGE_SHIFT;
    uint64_t hi = z == HOST_NR_ZONES ? p->npages : zone_hi[z] >> HOST_PAGE_SHIFT;
    if (z == HOST_ZONE_NORMAL || hi > p->npages)
        hi = p->npages;
    uint64_t n = 0;
    for (uint64_t i = lo; i < hi; i++)
        if (bit(b, i) == want && (want || bit(p->ram, i)))
            n++;
    return n;
}

uint64_t host_pages_managed(const struct host_pages *p, enum host_zone z)
{
    return count(p->ram, true, p, z);
}

uint64_t host_pages_free_count(const struct host_pages *p, enum host_zone z)
{
    return count(p->used, false, p, z);
}

uint64_t host_pages_end(const struct host_pages *p)
{
    return p->npages << HOST_PAGE_SHIFT;
}
