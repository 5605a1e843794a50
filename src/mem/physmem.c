#include "mem/physmem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/table.h"

#define RECENT_SLOTS 8

/* Open-addressing table: slot i holds (pfn[i], page[i]); page[i] == NULL marks
 * an empty slot. Capacity is a power of two, kept at most half full. Pages are
 * never removed, so linear probing needs no tombstones. */
struct mem_phys {
    uint64_t *pfn;
    uint8_t **page;
    size_t cap;   /* slots, power of two (0 before the first write) */
    unsigned bits; /* log2(cap) */
    size_t count; /* materialised pages */

    /* Blocks from mem_phys_contiguous: their pages are not freed one by one.
     * owned[i] is false for a page inside a block. */
    bool *owned;
    uint8_t **blocks;
    uint64_t *block_pages;  /* pages of each block (sim/table.h needs the size) */
    size_t nblocks, blocks_cap;

    /* pages found lately (reads and writes), direct-mapped by the low bits
     * of the page number: a page-table walk touches one page per level, and
     * each level's page stays in its slot. Slot i is valid when page[i]. */
    uint64_t recent_pfn[RECENT_SLOTS];
    uint8_t *recent_page[RECENT_SLOTS];

    uint64_t moves; /* mem_phys_moves_ptr: +1 each time pages move */

    struct mem_phys_stats st;
};

#define INITIAL_CAP 64

/* Fibonacci hashing: multiply by 2^64/phi and keep the top bits. Fixed, so the
 * table layout depends only on the sequence of addresses written. */
static size_t slot_of(uint64_t pfn, unsigned bits)
{
    return (size_t)((pfn * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - bits));
}

static unsigned log2_of(size_t cap)
{
    unsigned bits = 0;
    while (((size_t)1 << bits) < cap)
        bits++;
    return bits;
}

struct mem_phys *mem_phys_create(void)
{
    return calloc(1, sizeof(struct mem_phys));
}

void mem_phys_destroy(struct mem_phys *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        if (!m->owned || m->owned[i])
            free(m->page[i]);
    for (size_t i = 0; i < m->nblocks; i++)
        sim_table_free(m->blocks[i], m->block_pages[i] * MEM_PAGE_SIZE);
    free(m->blocks);
    free(m->block_pages);
    free(m->owned);
    free(m->pfn);
    free(m->page);
    free(m);
}

static uint8_t *find_page(const struct mem_phys *m, uint64_t pfn)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = slot_of(pfn, m->bits);; i = (i + 1) & mask) {
        if (!m->page[i])
            return NULL;
        if (m->pfn[i] == pfn)
            return m->page[i];
    }
}

/* Lookup through the last-page cache; updates the cache on a hit. */
static uint8_t *lookup(struct mem_phys *m, uint64_t pfn)
{
    unsigned r = (unsigned)pfn & (RECENT_SLOTS - 1);
    if (m->recent_page[r] && m->recent_pfn[r] == pfn)
        return m->recent_page[r];
    uint8_t *p = find_page(m, pfn);
    if (p) {
        m->recent_pfn[r] = pfn;
        m->recent_page[r] = p;
    }
    return p;
}

static size_t insert_slot(uint64_t *pfns, uint8_t **pages, unsigned bits, uint64_t pfn,
                          uint8_t *p)
{
    size_t mask = ((size_t)1 << bits) - 1;
    size_t i = slot_of(pfn, bits);
    while (pages[i])
        i = (i + 1) & mask;
    pfns[i] = pfn;
    pages[i] = p;
    return i;
}

static int grow(struct mem_phys *m)
{
    size_t ncap = m->cap ? m->cap * 2 : INITIAL_CAP;
    unsigned nbits = log2_of(ncap);
    uint64_t *npfn = calloc(ncap, sizeof *npfn);
    uint8_t **npage = calloc(ncap, sizeof *npage);
    bool *nowned = m->owned ? calloc(ncap, sizeof *nowned) : NULL;
    if (!npfn || !npage || (m->owned && !nowned)) {
        free(npfn);
        free(npage);
        free(nowned);
        return -PCILAB_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->page[i]) {
            size_t j = insert_slot(npfn, npage, nbits, m->pfn[i], m->page[i]);
            if (nowned)
                nowned[j] = m->owned[i];
        }
    free(m->pfn);
    free(m->page);
    free(m->owned);
    m->pfn = npfn;
    m->page = npage;
    m->owned = nowned;
    m->cap = ncap;
    m->bits = nbits;
    return 0;
}

/* Page for pfn, created zero-filled when missing. NULL when out of memory. */
static uint8_t *materialise(struct mem_phys *m, uint64_t pfn)
{
    uint8_t *p = lookup(m, pfn);
    if (p)
        return p;
    if ((m->count + 1) * 2 > m->cap && grow(m) < 0)
        return NULL;
    p = calloc(1, MEM_PAGE_SIZE);
    if (!p)
        return NULL;
    size_t slot = insert_slot(m->pfn, m->page, m->bits, pfn, p);
    if (m->owned)
        m->owned[slot] = true;
    m->count++;
    m->st.pages = m->count;
    m->st.bytes = m->count * MEM_PAGE_SIZE;
    m->recent_pfn[pfn & (RECENT_SLOTS - 1)] = pfn;
    m->recent_page[pfn & (RECENT_SLOTS - 1)] = p;
    return p;
}

/* [pa, pa+len) must not run past the top of the 64-bit space. */
static int check_range(uint64_t pa, uint64_t len, struct pcilab_err *err)
{
    if (len && pa + (len - 1) < pa)
        return pcilab_errf(err, PCILAB_ERANGE,
                           "physical access at 0x%016llx of %llu bytes wraps past 2^64",
                           (unsigned long long)pa, (unsigned long long)len);
    return 0;
}

int mem_phys_read(struct mem_phys *m, uint64_t pa, void *buf, size_t len,
                  struct pcilab_err *err)
{
    int r = check_range(pa, len, err);
    if (r)
        return r;
    uint8_t *out = buf;
    m->st.reads++;
    m->st.bytes_read += len;
    while (len) {
        uint64_t off = pa & MEM_PAGE_MASK;
        size_t n = (size_t)(MEM_PAGE_SIZE - off);
        if (n > len)
            n = len;
        const uint8_t *p = lookup(m, pa >> MEM_PAGE_SHIFT);
        if (p) {
            memcpy(out, p + off, n);
        } else {
            memset(out, 0, n);
            m->st.zero_reads += n;
        }
        out += n;
        len -= n;
        pa += n; /* may become 0 after the last byte of the space; len is 0 then */
    }
    return 0;
}

/* Materialises every page of [pa, pa+len) first, so a failed allocation leaves
 * memory unchanged. */
static int materialise_range(struct mem_phys *m, uint64_t pa, uint64_t len,
                             struct pcilab_err *err)
{
    uint64_t first = pa >> MEM_PAGE_SHIFT, last = (pa + (len - 1)) >> MEM_PAGE_SHIFT;
    for (uint64_t pfn = first;; pfn++) {
        if (!materialise(m, pfn))
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory materialising page 0x%llx",
                               (unsigned long long)(pfn << MEM_PAGE_SHIFT));
        if (pfn == last)
            break;
    }
    return 0;
}

int mem_phys_write(struct mem_phys *m, uint64_t pa, const void *buf, size_t len,
                   struct pcilab_err *err)
{
    int r = check_range(pa, len, err);
    if (r)
        return r;
    m->st.writes++;
    if (!len)
        return 0;
    /* Fast path: the whole access inside one page that exists. */
    uint64_t off = pa & MEM_PAGE_MASK;
    if (off + len <= MEM_PAGE_SIZE) {
        uint8_t *p = materialise(m, pa >> MEM_PAGE_SHIFT);
        if (!p)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory materialising page 0x%llx",
                               (unsigned long long)(pa & ~MEM_PAGE_MASK));
        memcpy(p + off, buf, len);
        m->st.bytes_written += len;
        return 0;
    }
    r = materialise_range(m, pa, len, err);
    if (r)
        return r;
    const uint8_t *in = buf;
    m->st.bytes_written += len;
    while (len) {
        off = pa & MEM_PAGE_MASK;
        size_t n = (size_t)(MEM_PAGE_SIZE - off);
        if (n > len)
            n = len;
        memcpy(lookup(m, pa >> MEM_PAGE_SHIFT) + off, in, n);
        in += n;
        len -= n;
        pa += n;
    }
    return 0;
}

int mem_phys_fill(struct mem_phys *m, uint64_t pa, uint8_t byte, uint64_t len,
                  struct pcilab_err *err)
{
    int r = check_range(pa, len, err);
    if (r)
        return r;
    m->st.writes++;
    if (!len)
        return 0;
    if (byte) {
        r = materialise_range(m, pa, len, err);
        if (r)
            return r;
    }
    m->st.bytes_written += len;
    while (len) {
        uint64_t off = pa & MEM_PAGE_MASK;
        uint64_t n = MEM_PAGE_SIZE - off;
        if (n > len)
            n = len;
        uint8_t *p = lookup(m, pa >> MEM_PAGE_SHIFT);
        if (p) /* absent pages already read as zero when byte == 0 */
            memset(p + off, byte, (size_t)n);
        len -= n;
        pa += n;
    }
    return 0;
}

/* Slot of pfn, or SIZE_MAX. */
static size_t slot_find(const struct mem_phys *m, uint64_t pfn)
{
    if (!m->cap)
        return SIZE_MAX;
    size_t mask = m->cap - 1;
    for (size_t i = slot_of(pfn, m->bits);; i = (i + 1) & mask) {
        if (!m->page[i])
            return SIZE_MAX;
        if (m->pfn[i] == pfn)
            return i;
    }
}

int mem_phys_contiguous(struct mem_phys *m, uint64_t pa, uint64_t npages, uint8_t **host,
                        struct pcilab_err *err)
{
    bool fresh;
    return mem_phys_contiguous_fresh(m, pa, npages, host, &fresh, err);
}

int mem_phys_contiguous_fresh(struct mem_phys *m, uint64_t pa, uint64_t npages, uint8_t **host,
                              bool *fresh, struct pcilab_err *err)
{
    *fresh = false;
    if (!npages || (pa & MEM_PAGE_MASK))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "contiguous view of %llu pages at 0x%llx: needs whole, aligned pages",
                           (unsigned long long)npages, (unsigned long long)pa);
    if (npages > (UINT64_MAX >> MEM_PAGE_SHIFT))
        return pcilab_errf(err, PCILAB_ERANGE, "contiguous view at 0x%llx runs past 2^64",
                           (unsigned long long)pa);
    int rc = check_range(pa, npages << MEM_PAGE_SHIFT, err);
    if (rc < 0)
        return rc;
    uint64_t pfn0 = pa >> MEM_PAGE_SHIFT;
    /* Already host-contiguous (pages of blocks only: a page materialised on
     * its own may happen to sit next to another in host memory, but it is
     * freed on its own, so it is never handed out as part of a view)? */
    uint8_t *first = find_page(m, pfn0);
    bool same = first && m->owned && !m->owned[slot_find(m, pfn0)];
    for (uint64_t i = 1; same && i < npages; i++) {
        size_t s = slot_find(m, pfn0 + i);
        same = s != SIZE_MAX && !m->owned[s] && m->page[s] == first + i * MEM_PAGE_SIZE;
    }
    if (same) {
        *host = first;
        return 0;
    }
    if (!m->owned) {
        m->owned = malloc((m->cap ? m->cap : 1) * sizeof *m->owned);
        if (!m->owned)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
        for (size_t i = 0; i < m->cap; i++)
            m->owned[i] = true;
    }
    if (m->nblocks == m->blocks_cap) {
        size_t cap = m->blocks_cap ? m->blocks_cap * 2 : 16;
        uint8_t **b = realloc(m->blocks, cap * sizeof *b);
        if (!b)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
        m->blocks = b;
        uint64_t *bp = realloc(m->block_pages, cap * sizeof *bp);
        if (!bp)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
        m->block_pages = bp;
        m->blocks_cap = cap;
    }
    while ((m->count + npages) * 2 > m->cap)
        if (grow(m) < 0)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
    /* zeroed, page aligned, its pages present: a contiguous view is made to
     * be written (a device table, a DMA buffer) */
    uint8_t *block = npages > SIZE_MAX / MEM_PAGE_SIZE
                         ? NULL
                         : sim_table_alloc((size_t)npages * MEM_PAGE_SIZE);
    if (!block)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for %llu contiguous pages",
                           (unsigned long long)npages);
    m->block_pages[m->nblocks] = npages;
    m->blocks[m->nblocks++] = block;
    bool untouched = true;
    for (uint64_t i = 0; i < npages; i++) {
        uint8_t *dst = block + i * MEM_PAGE_SIZE;
        size_t s = slot_find(m, pfn0 + i);
        if (s != SIZE_MAX) {
            untouched = false;
            memcpy(dst, m->page[s], MEM_PAGE_SIZE);
            if (m->owned[s])
                free(m->page[s]);
            m->page[s] = dst;
            m->owned[s] = false;
        } else {
            s = insert_slot(m->pfn, m->page, m->bits, pfn0 + i, dst);
            m->owned[s] = false;
            m->count++;
        }
    }
    m->st.pages = m->count;
    m->st.bytes = m->count * MEM_PAGE_SIZE;
    memset(m->recent_page, 0, sizeof m->recent_page); /* pages moved */
    m->moves++;
    *host = block;
    *fresh = untouched;
    return 0;
}

const uint8_t *mem_phys_peek(struct mem_phys *m, uint64_t pa)
{
    return lookup(m, pa >> MEM_PAGE_SHIFT);
}

const uint64_t *mem_phys_moves_ptr(const struct mem_phys *m)
{
    return &m->moves;
}

int mem_phys_page_present(const struct mem_phys *m, uint64_t pa)
{
    return find_page(m, pa >> MEM_PAGE_SHIFT) != NULL;
}

void mem_phys_get_stats(const struct mem_phys *m, struct mem_phys_stats *st)
{
    *st = m->st;
}

/* Little-endian accessors (PCIe and IOMMU structures are little-endian). */
static uint64_t le_get(const uint8_t *b, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void le_put(uint8_t *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

#define ACCESSORS(bits, type)                                                              \
    int mem_phys_read##bits(struct mem_phys *m, uint64_t pa, type *v, struct pcilab_err *err) \
    {                                                                                      \
        uint8_t b[bits / 8];                                                               \
        int r = mem_phys_read(m, pa, b, sizeof b, err);                                    \
        if (r)                                                                             \
            return r;                                                                      \
        *v = (type)le_get(b, sizeof b);                                                    \
        return 0;                                                                          \
    }                                                                                      \
    int mem_phys_write##bits(struct mem_phys *m, uint64_t pa, type v, struct pcilab_err *err) \
    {                                                                                      \
        uint8_t b[bits / 8];                                                               \
        le_put(b, v, sizeof b);                                                            \
        return mem_phys_write(m, pa, b, sizeof b, err);                                    \
    }

ACCESSORS(8, uint8_t)
ACCESSORS(16, uint16_t)
ACCESSORS(32, uint32_t)
ACCESSORS(64, uint64_t)

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int mem_phys_for_each_page(const struct mem_phys *m, mem_phys_page_fn fn, void *ctx,
                           struct pcilab_err *err)
{
    if (!m->count)
        return 0;
    uint64_t *order = malloc(m->count * sizeof *order);
    if (!order)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory listing %zu pages", m->count);
    size_t n = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->page[i])
            order[n++] = m->pfn[i];
    qsort(order, n, sizeof *order, cmp_u64);
    int r = 0;
    for (size_t i = 0; i < n && !r; i++)
        r = fn(ctx, order[i] << MEM_PAGE_SHIFT, find_page(m, order[i]));
    free(order);
    return r;
}
