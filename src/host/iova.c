/* The Linux IOVA allocator, per kernel version. Every rule below is read from
 * drivers/iommu/iova.c and include/linux/iova.h of the version named beside
 * it (v4.9.80, v4.20(.17), v5.15, v6.1); docs/iova.md lists the sources.
 * None of Linux's code is copied: the behaviour is re-expressed here.
 *
 * The ordered set of ranges is an AVL tree of our own, not a red-black tree.
 * What Linux's allocator observes of its rbtree is only the order of the
 * nodes (rb_prev/rb_next walks from a cached node, rb_first/rb_last), plus,
 * in 5.15/6.1, iova_find_limit's descent from the root; docs/iova.md shows
 * why the node that descent returns gives the same result as the lower bound
 * used here. So the addresses handed out do not depend on the tree's shape. */
#include "host/iova.h"

#include <stdlib.h>
#include <string.h>

/* 4.20+ iova.c: "The anchor node sits above the top of the usable address
 * space", IOVA_ANCHOR ~0UL. */
#define IOVA_ANCHOR UINT64_MAX
#define MAG_SIZE_MAX 128 /* IOVA_MAG_SIZE: 128 up to 5.15, 127 in 6.1 */
#define NODE_SLAB 512

struct iova_node {
    struct iova_node *left, *right, *parent;
    uint64_t pfn_lo, pfn_hi;
    int height;
};

struct iova_mag {
    uint64_t size;
    struct iova_mag *next; /* the domain's free list of magazines */
    uint64_t pfns[MAG_SIZE_MAX];
};

struct iova_cpu_rcache {
    struct iova_mag *loaded, *prev;
};

struct iova_rcache {
    unsigned depot_size;
    struct iova_mag *depot[HOST_IOVA_MAX_GLOBAL_MAGS];
    struct iova_cpu_rcache *cpu; /* [ncpus] */
};

struct node_slab {
    struct node_slab *next;
    struct iova_node nodes[NODE_SLAB];
};

struct host_iova_domain {
    enum host_iova_flavour flavour;
    unsigned shift, ncpus, mag_size;
    bool forcedac;
    uint64_t granule, start_pfn, dma_32bit_pfn, max32_alloc_size;
    struct iova_node *root;
    struct iova_node anchor; /* in the tree from 4.20 on */
    struct iova_node *cached_node, *cached32_node;
    uint64_t nodes, stale_cached32, mallocs;
    struct iova_node *free_nodes; /* chained through ->left */
    struct node_slab *slabs;
    struct iova_mag *free_mags;
    struct iova_rcache rcaches[HOST_IOVA_RANGE_CACHE_MAX_SIZE];
};

/* ---- bit helpers, as include/linux/bitops.h / log2.h define them ---- */

/* fls_long: 1-based index of the highest set bit, 0 for 0. */
static unsigned fls_long(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
}

/* 1UL << n as x86-64 computes it: the shift count is taken modulo 64. */
static uint64_t shl64(uint64_t v, unsigned n)
{
    return v << (n & 63);
}

/* __roundup_pow_of_two(n) = 1UL << fls_long(n - 1) */
static uint64_t roundup_pow_of_two(uint64_t n)
{
    return shl64(1, fls_long(n - 1));
}

/* order_base_2(n): 0 for n <= 1, else ilog2(n - 1) + 1 */
static unsigned order_base_2(uint64_t n)
{
    return n > 1 ? fls_long(n - 1) : 0;
}

static bool after_4_9(const struct host_iova_domain *d)
{
    return d->flavour != HOST_IOVA_V4_9;
}

static bool from_5_15(const struct host_iova_domain *d)
{
    return d->flavour == HOST_IOVA_V5_15 || d->flavour == HOST_IOVA_V6_1;
}

/* ---- the ordered set: an AVL tree with parent links ---- */

static int height(const struct iova_node *n)
{
    return n ? n->height : 0;
}

static void fix_height(struct iova_node *n)
{
    int l = height(n->left), r = height(n->right);
    n->height = (l > r ? l : r) + 1;
}

static void replace_child(struct host_iova_domain *d, struct iova_node *old,
                          struct iova_node *new, struct iova_node *parent)
{
    if (!parent)
        d->root = new;
    else if (parent->left == old)
        parent->left = new;
    else
        parent->right = new;
}

static struct iova_node *rotate_left(struct host_iova_domain *d, struct iova_node *x)
{
    struct iova_node *y = x->right;
    x->right = y->left;
    if (y->left)
        y->left->parent = x;
    y->parent = x->parent;
    replace_child(d, x, y, x->parent);
    y->left = x;
    x->parent = y;
    fix_height(x);
    fix_height(y);
    return y;
}

static struct iova_node *rotate_right(struct host_iova_domain *d, struct iova_node *x)
{
    struct iova_node *y = x->left;
    x->left = y->right;
    if (y->right)
        y->right->parent = x;
    y->parent = x->parent;
    replace_child(d, x, y, x->parent);
    y->right = x;
    x->parent = y;
    fix_height(x);
    fix_height(y);
    return y;
}

/* Restores the AVL balance from n up to the root. */
static void rebalance(struct host_iova_domain *d, struct iova_node *n)
{
    while (n) {
        int bf = height(n->left) - height(n->right);
        if (bf > 1) {
            if (height(n->left->left) < height(n->left->right))
                rotate_left(d, n->left);
            n = rotate_right(d, n);
        } else if (bf < -1) {
            if (height(n->right->right) < height(n->right->left))
                rotate_right(d, n->right);
            n = rotate_left(d, n);
        } else {
            fix_height(n);
        }
        n = n->parent;
    }
}

static void tree_insert(struct host_iova_domain *d, struct iova_node *n)
{
    struct iova_node **link = &d->root, *parent = NULL;
    while (*link) {
        parent = *link;
        link = n->pfn_lo < parent->pfn_lo ? &parent->left : &parent->right;
    }
    n->left = n->right = NULL;
    n->parent = parent;
    n->height = 1;
    *link = n;
    rebalance(d, parent);
    d->nodes++;
}

static struct iova_node *tree_min(struct iova_node *n)
{
    while (n && n->left)
        n = n->left;
    return n;
}

static struct iova_node *tree_max(struct iova_node *n)
{
    while (n && n->right)
        n = n->right;
    return n;
}

/* rb_next / rb_prev */
static struct iova_node *tree_next(struct iova_node *n)
{
    if (n->right)
        return tree_min(n->right);
    while (n->parent && n == n->parent->right)
        n = n->parent;
    return n->parent;
}

static struct iova_node *tree_prev(struct iova_node *n)
{
    if (n->left)
        return tree_max(n->left);
    while (n->parent && n == n->parent->left)
        n = n->parent;
    return n->parent;
}

/* Unlinks z; every other node keeps its identity (cached pointers stay good). */
static void tree_erase(struct host_iova_domain *d, struct iova_node *z)
{
    struct iova_node *start;
    if (!z->left || !z->right) {
        struct iova_node *child = z->left ? z->left : z->right;
        replace_child(d, z, child, z->parent);
        if (child)
            child->parent = z->parent;
        start = z->parent;
    } else {
        struct iova_node *y = tree_min(z->right);
        if (y->parent != z) {
            start = y->parent;
            y->parent->left = y->right;
            if (y->right)
                y->right->parent = y->parent;
            y->right = z->right;
            z->right->parent = y;
        } else {
            start = y;
        }
        replace_child(d, z, y, z->parent);
        y->parent = z->parent;
        y->left = z->left;
        z->left->parent = y;
        y->height = z->height;
    }
    rebalance(d, start);
    d->nodes--;
}

/* private_find_iova: the node whose range holds pfn. */
static struct iova_node *tree_find(const struct host_iova_domain *d, uint64_t pfn)
{
    struct iova_node *n = d->root;
    while (n) {
        if (pfn < n->pfn_lo)
            n = n->left;
        else if (pfn > n->pfn_hi)
            n = n->right;
        else
            return n;
    }
    return NULL;
}

/* The lowest node with pfn_hi >= pfn (ranges are disjoint, so pfn_hi is in
 * the same order as pfn_lo). */
static struct iova_node *tree_lower_bound_hi(const struct host_iova_domain *d, uint64_t pfn)
{
    struct iova_node *n = d->root, *best = NULL;
    while (n) {
        if (n->pfn_hi >= pfn) {
            best = n;
            n = n->left;
        } else {
            n = n->right;
        }
    }
    return best;
}

/* ---- node and magazine memory: recycled, so a warm domain never mallocs ---- */

static struct iova_node *node_get(struct host_iova_domain *d)
{
    if (!d->free_nodes) {
        struct node_slab *s = malloc(sizeof *s);
        if (!s)
            return NULL;
        d->mallocs++;
        s->next = d->slabs;
        d->slabs = s;
        for (size_t i = 0; i < NODE_SLAB; i++) {
            s->nodes[i].left = d->free_nodes;
            d->free_nodes = &s->nodes[i];
        }
    }
    struct iova_node *n = d->free_nodes;
    d->free_nodes = n->left;
    return n;
}

static void node_put(struct host_iova_domain *d, struct iova_node *n)
{
    if (n == &d->anchor) /* free_iova_mem: "if (iova->pfn_lo != IOVA_ANCHOR)" */
        return;
    n->left = d->free_nodes;
    d->free_nodes = n;
}

/* iova_magazine_alloc (kzalloc: size 0) */
static struct iova_mag *mag_get(struct host_iova_domain *d)
{
    struct iova_mag *m = d->free_mags;
    if (m) {
        d->free_mags = m->next;
    } else {
        m = malloc(sizeof *m);
        if (!m)
            return NULL;
        d->mallocs++;
    }
    m->size = 0;
    m->next = NULL;
    return m;
}

static void mag_put(struct host_iova_domain *d, struct iova_mag *m)
{
    if (!m)
        return;
    m->next = d->free_mags;
    d->free_mags = m;
}

/* ---- the cached nodes ---- */

/* __cached_rbnode_delete_update, called with free still in the tree. */
static void cached_delete_update(struct host_iova_domain *d, struct iova_node *free)
{
    if (d->flavour == HOST_IOVA_V4_9) {
        /* 4.9: only cached32_node, NULL when unset; moved to the next node
         * when that lies below dma_32bit_pfn, else cleared. */
        if (!d->cached32_node)
            return;
        if (free->pfn_lo >= d->cached32_node->pfn_lo) {
            struct iova_node *next = tree_next(free);
            d->cached32_node = next && next->pfn_lo < d->dma_32bit_pfn ? next : NULL;
        }
        return;
    }

    struct iova_node *c32 = d->cached32_node;
    bool below = free->pfn_hi < d->dma_32bit_pfn && free->pfn_lo >= c32->pfn_lo;
    if (d->flavour == HOST_IOVA_V4_20) {
        /* 4.20: no "free == cached" case. */
        if (below) {
            d->cached32_node = tree_next(free);
            d->max32_alloc_size = d->dma_32bit_pfn;
        } else if (free == c32) {
            /* Linux keeps a pointer to the freed node here (use after free,
             * fixed by "iommu/iova: Remove stale cached32_node", 5.3). We
             * move on as 5.x does, and count it. */
            d->stale_cached32++;
            d->cached32_node = tree_next(free);
        }
    } else if (d->flavour == HOST_IOVA_V5_15) {
        if (free == c32 || below) {
            d->cached32_node = tree_next(free);
            d->max32_alloc_size = d->dma_32bit_pfn;
        }
    } else { /* 6.1: max32_alloc_size reset by any free below 4 GiB */
        if (free == c32 || below)
            d->cached32_node = tree_next(free);
        if (free->pfn_lo < d->dma_32bit_pfn)
            d->max32_alloc_size = d->dma_32bit_pfn;
    }

    if (free->pfn_lo >= d->cached_node->pfn_lo)
        d->cached_node = tree_next(free);
}

/* remove_iova (private_free_iova before 5.15) + free_iova_mem */
static void remove_iova(struct host_iova_domain *d, struct iova_node *n)
{
    cached_delete_update(d, n);
    tree_erase(d, n);
    node_put(d, n);
}

/* ---- __alloc_and_insert_iova_range ---- */

/* 4.9 iova_get_pad_size(unsigned int size, unsigned int limit_pfn):
 * (limit_pfn + 1 - size) & (__roundup_pow_of_two(size) - 1), in 32 bits. */
static uint64_t pad_size_v49(uint64_t size, uint64_t limit_pfn)
{
    uint32_t s = (uint32_t)size, l = (uint32_t)limit_pfn;
    return (uint32_t)((uint64_t)(uint32_t)(l + 1u - s) & (roundup_pow_of_two(s) - 1));
}

/* 4.9: limit_pfn inclusive; the walk starts below cached32_node only when
 * limit_pfn is exactly dma_32bit_pfn, else at rb_last. */
static bool alloc_range_v49(struct host_iova_domain *d, uint64_t size, uint64_t limit_pfn,
                            bool size_aligned, struct iova_node *new)
{
    uint64_t saved_pfn = limit_pfn, pad = 0;
    struct iova_node *curr;

    if (limit_pfn != d->dma_32bit_pfn || !d->cached32_node) {
        curr = tree_max(d->root);
    } else {
        curr = tree_prev(d->cached32_node);
        limit_pfn = d->cached32_node->pfn_lo - 1;
    }
    while (curr) {
        if (limit_pfn < curr->pfn_lo)
            goto move_left;
        if (limit_pfn >= curr->pfn_hi) {
            if (size_aligned)
                pad = pad_size_v49(size, limit_pfn);
            if (curr->pfn_hi + size + pad <= limit_pfn)
                break; /* found a free slot */
        }
        limit_pfn = curr->pfn_lo - 1; /* adjust_limit_pfn */
    move_left:
        curr = tree_prev(curr);
    }
    if (!curr) {
        if (size_aligned)
            pad = pad_size_v49(size, limit_pfn);
        /* note: refuses pfn_lo == start_pfn itself, as 4.9 does */
        if (d->start_pfn + size + pad > limit_pfn)
            return false;
    }
    new->pfn_lo = limit_pfn - (size + pad) + 1;
    new->pfn_hi = new->pfn_lo + size - 1;
    tree_insert(d, new);
    if (saved_pfn == d->dma_32bit_pfn) /* __cached_rbnode_insert_update */
        d->cached32_node = new;
    return true;
}

/* iova_find_limit (5.15+): where the retry walk starts. See the file's head
 * comment and docs/iova.md for why the lower bound is equivalent. */
static struct iova_node *find_limit(struct host_iova_domain *d, uint64_t limit_pfn)
{
    if (limit_pfn > d->dma_32bit_pfn)
        return &d->anchor;
    return tree_lower_bound_hi(d, limit_pfn); /* never NULL: the anchor is there */
}

/* 4.20, 5.15, 6.1: limit_pfn exclusive (alloc_iova passes limit_pfn + 1). */
static bool alloc_range_v420(struct host_iova_domain *d, uint64_t size, uint64_t limit_pfn,
                             bool size_aligned, struct iova_node *new)
{
    uint64_t align_mask = ~(uint64_t)0, new_pfn, retry_pfn;
    uint64_t high_pfn = limit_pfn, low_pfn = d->start_pfn;
    bool v5 = from_5_15(d);
    struct iova_node *curr;

    if (size_aligned)
        align_mask = shl64(align_mask, fls_long(size - 1));

    if (limit_pfn <= d->dma_32bit_pfn && size >= d->max32_alloc_size) {
        if (!v5) /* 4.20 sets max32_alloc_size at its iova32_full label */
            d->max32_alloc_size = size;
        return false;
    }

    curr = limit_pfn <= d->dma_32bit_pfn ? d->cached32_node : d->cached_node;
    /* 5.15+: anchor->pfn_hi + 1 wraps to 0 (fixed after 6.1 by "iommu/iova:
     * Fix alloc iova overflows issue"): the retry then runs with low_pfn 0. */
    retry_pfn = curr->pfn_hi + 1;
retry:
    do {
        if (curr->pfn_lo < high_pfn)
            high_pfn = curr->pfn_lo;
        new_pfn = (high_pfn - size) & align_mask;
        curr = tree_prev(curr);
    } while (curr && new_pfn <= curr->pfn_hi && (!v5 || new_pfn >= low_pfn));

    if (high_pfn < size || new_pfn < low_pfn) {
        if (v5 && low_pfn == d->start_pfn && retry_pfn < limit_pfn) {
            high_pfn = limit_pfn;
            low_pfn = retry_pfn;
            curr = find_limit(d, limit_pfn);
            goto retry;
        }
        /* every failure sets it, 64-bit limits included */
        d->max32_alloc_size = size;
        return false;
    }

    new->pfn_lo = new_pfn;
    new->pfn_hi = new_pfn + size - 1;
    tree_insert(d, new);
    if (new->pfn_hi < d->dma_32bit_pfn) /* __cached_rbnode_insert_update */
        d->cached32_node = new;
    else
        d->cached_node = new;
    return true;
}

/* alloc_iova: 0, 1 (no room) or -PCILAB_ENOMEM. */
static int alloc_iova(struct host_iova_domain *d, uint64_t size, uint64_t limit_pfn,
                      bool size_aligned, struct iova_node **out, struct pcilab_err *err)
{
    struct iova_node *n = node_get(d); /* alloc_iova_mem comes first in Linux too */
    if (!n)
        return pcilab_errf(err, PCILAB_ENOMEM, "iova: no memory for a range node");
    bool ok = after_4_9(d) ? alloc_range_v420(d, size, limit_pfn + 1, size_aligned, n)
                           : alloc_range_v49(d, size, limit_pfn, size_aligned, n);
    if (!ok) {
        node_put(d, n);
        return 1;
    }
    *out = n;
    return 0;
}

/* ---- the rcaches ---- */

/* iova_magazine_free_pfns: each pfn back to the tree, in magazine order. */
static void mag_free_pfns(struct host_iova_domain *d, struct iova_mag *m)
{
    if (!m)
        return;
    for (uint64_t i = 0; i < m->size; i++) {
        struct iova_node *n = tree_find(d, m->pfns[i]);
        if (n && n != &d->anchor) /* 4.9/4.20 BUG_ON, 5.15+ WARN_ON + continue */
            remove_iova(d, n);
    }
    m->size = 0;
}

/* iova_magazine_pop. 4.9: only the top pfn, refused when >= limit_pfn.
 * 4.20+: the topmost pfn <= limit_pfn, swapped out with the last one. */
static uint64_t mag_pop(const struct host_iova_domain *d, struct iova_mag *m, uint64_t limit_pfn)
{
    if (!after_4_9(d)) {
        if (m->pfns[m->size - 1] >= limit_pfn)
            return 0;
        return m->pfns[--m->size];
    }
    uint64_t i = m->size - 1;
    while (m->pfns[i] > limit_pfn) {
        if (i == 0)
            return 0;
        i--;
    }
    uint64_t pfn = m->pfns[i];
    m->pfns[i] = m->pfns[--m->size];
    return pfn;
}

/* iova_rcache_get + __iova_rcache_get. limit is what iova_rcache_get gets:
 * 4.9 the inclusive limit_pfn; 4.20+ limit_pfn + 1, less size inside. */
static uint64_t rcache_get(struct host_iova_domain *d, uint64_t size, uint64_t limit,
                           unsigned cpu)
{
    unsigned log_size = order_base_2(size);
    if (log_size >= HOST_IOVA_RANGE_CACHE_MAX_SIZE)
        return 0;
    struct iova_rcache *rc = &d->rcaches[log_size];
    struct iova_cpu_rcache *c = &rc->cpu[cpu];
    if (after_4_9(d))
        limit -= size;

    if (c->loaded->size == 0) {
        if (c->prev->size != 0) {
            struct iova_mag *t = c->prev;
            c->prev = c->loaded;
            c->loaded = t;
        } else if (rc->depot_size > 0) {
            mag_put(d, c->loaded);
            c->loaded = rc->depot[--rc->depot_size];
        } else {
            return 0;
        }
    }
    return mag_pop(d, c->loaded, limit);
}

/* iova_rcache_insert + __iova_rcache_insert */
static bool rcache_insert(struct host_iova_domain *d, uint64_t pfn, uint64_t size, unsigned cpu)
{
    unsigned log_size = order_base_2(size);
    if (log_size >= HOST_IOVA_RANGE_CACHE_MAX_SIZE)
        return false;
    struct iova_rcache *rc = &d->rcaches[log_size];
    struct iova_cpu_rcache *c = &rc->cpu[cpu];
    struct iova_mag *to_free = NULL;

    if (c->loaded->size == d->mag_size) {
        if (c->prev->size != d->mag_size) {
            struct iova_mag *t = c->prev;
            c->prev = c->loaded;
            c->loaded = t;
        } else {
            struct iova_mag *m = mag_get(d); /* GFP_ATOMIC may fail in Linux too */
            if (!m)
                return false;
            if (rc->depot_size < HOST_IOVA_MAX_GLOBAL_MAGS)
                rc->depot[rc->depot_size++] = c->loaded;
            else
                to_free = c->loaded;
            c->loaded = m;
        }
    }
    c->loaded->pfns[c->loaded->size++] = pfn;
    if (to_free) {
        mag_free_pfns(d, to_free);
        mag_put(d, to_free);
    }
    return true;
}

void host_free_cpu_cached_iovas(struct host_iova_domain *d, unsigned cpu)
{
    if (cpu >= d->ncpus)
        return;
    for (unsigned i = 0; i < HOST_IOVA_RANGE_CACHE_MAX_SIZE; i++) {
        struct iova_cpu_rcache *c = &d->rcaches[i].cpu[cpu];
        mag_free_pfns(d, c->loaded);
        mag_free_pfns(d, c->prev);
    }
}

/* free_global_cached_iovas, 5.15+ */
static void free_global_cached_iovas(struct host_iova_domain *d)
{
    for (unsigned i = 0; i < HOST_IOVA_RANGE_CACHE_MAX_SIZE; i++) {
        struct iova_rcache *rc = &d->rcaches[i];
        for (unsigned j = 0; j < rc->depot_size; j++) {
            mag_free_pfns(d, rc->depot[j]);
            mag_put(d, rc->depot[j]);
        }
        rc->depot_size = 0;
    }
}

/* ---- the exported functions ---- */

struct host_iova_domain *host_iova_create(const struct host_iova_params *p,
                                          struct pcilab_err *err)
{
    if (p->flavour > HOST_IOVA_V6_1) {
        pcilab_errf(err, PCILAB_EINVAL, "iova: unknown flavour %d", (int)p->flavour);
        return NULL;
    }
    if (!p->granule || (p->granule & (p->granule - 1)) || p->granule > 65536) {
        pcilab_errf(err, PCILAB_EINVAL,
                    "iova: granule %#llx is not a power of two up to 64 KiB",
                    (unsigned long long)p->granule);
        return NULL;
    }
    if (!p->ncpus || p->ncpus > HOST_IOVA_MAX_CPUS) {
        pcilab_errf(err, PCILAB_EINVAL, "iova: %u CPUs (1 to %u)", p->ncpus,
                    HOST_IOVA_MAX_CPUS);
        return NULL;
    }
    struct host_iova_domain *d = calloc(1, sizeof *d);
    if (!d) {
        pcilab_errf(err, PCILAB_ENOMEM, "iova: no memory for a domain");
        return NULL;
    }
    d->flavour = p->flavour;
    d->granule = p->granule;
    d->shift = (unsigned)__builtin_ctzll(p->granule); /* iova_shift = __ffs(granule) */
    d->start_pfn = p->start_pfn;
    d->ncpus = p->ncpus;
    d->forcedac = p->forcedac;
    d->mag_size = p->flavour == HOST_IOVA_V6_1 ? 127 : 128;

    if (p->flavour == HOST_IOVA_V4_9) {
        /* 4.9 init_iova_domain(iovad, granule, start_pfn, pfn_32bit) */
        d->dma_32bit_pfn = p->pfn_32bit ? p->pfn_32bit : 0xffffffffull >> d->shift;
        d->cached32_node = NULL;
    } else {
        /* 4.20+: dma_32bit_pfn = 1UL << (32 - iova_shift), max32_alloc_size
         * = dma_32bit_pfn, both caches at the anchor. */
        d->dma_32bit_pfn = 1ull << (32 - d->shift);
        d->max32_alloc_size = d->dma_32bit_pfn;
        d->anchor.pfn_lo = d->anchor.pfn_hi = IOVA_ANCHOR;
        tree_insert(d, &d->anchor);
        d->nodes = 0; /* the anchor is not counted */
        d->cached_node = d->cached32_node = &d->anchor;
    }

    for (unsigned i = 0; i < HOST_IOVA_RANGE_CACHE_MAX_SIZE; i++) {
        struct iova_rcache *rc = &d->rcaches[i];
        rc->cpu = calloc(p->ncpus, sizeof *rc->cpu);
        if (!rc->cpu)
            goto nomem;
        for (unsigned c = 0; c < p->ncpus; c++) {
            rc->cpu[c].loaded = mag_get(d);
            rc->cpu[c].prev = mag_get(d);
            if (!rc->cpu[c].loaded || !rc->cpu[c].prev)
                goto nomem;
        }
    }
    return d;
nomem:
    host_iova_destroy(d);
    pcilab_errf(err, PCILAB_ENOMEM, "iova: no memory for the rcaches");
    return NULL;
}

void host_iova_destroy(struct host_iova_domain *d)
{
    if (!d)
        return;
    for (unsigned i = 0; i < HOST_IOVA_RANGE_CACHE_MAX_SIZE; i++) {
        struct iova_rcache *rc = &d->rcaches[i];
        if (rc->cpu)
            for (unsigned c = 0; c < d->ncpus; c++) {
                free(rc->cpu[c].loaded);
                free(rc->cpu[c].prev);
            }
        free(rc->cpu);
        for (unsigned j = 0; j < rc->depot_size; j++)
            free(rc->depot[j]);
    }
    while (d->free_mags) {
        struct iova_mag *m = d->free_mags;
        d->free_mags = m->next;
        free(m);
    }
    while (d->slabs) {
        struct node_slab *s = d->slabs;
        d->slabs = s->next;
        free(s);
    }
    free(d);
}

enum host_iova_flavour host_iova_flavour(const struct host_iova_domain *d)
{
    return d->flavour;
}

unsigned host_iova_shift(const struct host_iova_domain *d)
{
    return d->shift;
}

int host_alloc_iova(struct host_iova_domain *d, uint64_t size, uint64_t limit_pfn,
                    bool size_aligned, struct host_iova *out, struct pcilab_err *err)
{
    struct iova_node *n;
    if (!size)
        return pcilab_errf(err, PCILAB_EINVAL, "iova: allocation of 0 pages");
    int rc = alloc_iova(d, size, limit_pfn, size_aligned, &n, err);
    if (rc < 0)
        return rc;
    if (rc > 0)
        return pcilab_errf(err, PCILAB_ERANGE,
                           "iova: no room for %llu pages at or below pfn %#llx",
                           (unsigned long long)size, (unsigned long long)limit_pfn);
    if (out)
        *out = (struct host_iova){n->pfn_lo, n->pfn_hi};
    return 0;
}

bool host_find_iova(const struct host_iova_domain *d, uint64_t pfn, struct host_iova *out)
{
    struct iova_node *n = tree_find(d, pfn);
    if (!n)
        return false;
    if (out)
        *out = (struct host_iova){n->pfn_lo, n->pfn_hi};
    return true;
}

bool host_free_iova(struct host_iova_domain *d, uint64_t pfn)
{
    struct iova_node *n = tree_find(d, pfn);
    if (!n || n == &d->anchor)
        return false;
    remove_iova(d, n);
    return true;
}

int host_reserve_iova(struct host_iova_domain *d, uint64_t pfn_lo, uint64_t pfn_hi,
                      struct host_iova *out, struct pcilab_err *err)
{
    /* 4.20+: "Don't allow nonsensical pfns" */
    if (after_4_9(d) && (pfn_hi | pfn_lo) > (UINT64_MAX >> d->shift))
        return pcilab_errf(err, PCILAB_ERANGE, "iova: reserve of pfns %#llx-%#llx out of range",
                           (unsigned long long)pfn_lo, (unsigned long long)pfn_hi);
    bool overlap = false;
    struct iova_node *n, *res = NULL;
    for (n = tree_min(d->root); n; n = tree_next(n)) {
        if (pfn_lo <= n->pfn_hi && pfn_hi >= n->pfn_lo) { /* __is_range_overlap */
            /* __adjust_overlap_range: the node grows down to pfn_lo; what is
             * left above it goes on. */
            if (pfn_lo < n->pfn_lo)
                n->pfn_lo = pfn_lo;
            if (pfn_hi > n->pfn_hi)
                pfn_lo = n->pfn_hi + 1;
            if (pfn_lo >= n->pfn_lo && pfn_hi <= n->pfn_hi) {
                res = n;
                goto finish;
            }
            overlap = true;
        } else if (overlap) {
            break;
        }
    }
    res = node_get(d); /* __insert_new_range */
    if (!res)
        return pcilab_errf(err, PCILAB_ENOMEM, "iova: no memory for a range node");
    res->pfn_lo = pfn_lo;
    res->pfn_hi = pfn_hi;
    tree_insert(d, res);
finish:
    if (out)
        *out = (struct host_iova){res->pfn_lo, res->pfn_hi};
    return 0;
}

int host_alloc_iova_fast(struct host_iova_domain *d, uint64_t size, uint64_t limit_pfn,
                         bool flush_rcache, unsigned cpu, uint64_t *pfn,
                         struct pcilab_err *err)
{
    *pfn = 0;
    if (cpu >= d->ncpus || !size)
        return pcilab_errf(err, PCILAB_EINVAL, "iova: alloc_iova_fast of %llu pages on CPU %u",
                           (unsigned long long)size, cpu);
    /* 6.1: "Freeing non-power-of-two-sized allocations back into the IOVA
     * caches will come back to bite us badly" - moved here from dma-iommu */
    if (d->flavour == HOST_IOVA_V6_1 && size < (1u << (HOST_IOVA_RANGE_CACHE_MAX_SIZE - 1)))
        size = roundup_pow_of_two(size);

    uint64_t got = rcache_get(d, size, after_4_9(d) ? limit_pfn + 1 : limit_pfn, cpu);
    if (got) {
        *pfn = got;
        return 0;
    }
    if (!after_4_9(d))
        flush_rcache = true; /* 4.9: flushes and retries once, always */
    for (;;) {
        struct iova_node *n;
        int rc = alloc_iova(d, size, limit_pfn, true, &n, err);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            *pfn = n->pfn_lo;
            return 0;
        }
        if (!flush_rcache)
            return 0;
        /* "Try replenishing IOVAs by flushing rcache." */
        flush_rcache = false;
        for (unsigned c = 0; c < d->ncpus; c++)
            host_free_cpu_cached_iovas(d, c);
        if (from_5_15(d))
            free_global_cached_iovas(d);
    }
}

int host_free_iova_fast(struct host_iova_domain *d, uint64_t pfn, uint64_t size,
                        unsigned cpu, struct pcilab_err *err)
{
    if (cpu >= d->ncpus || !size)
        return pcilab_errf(err, PCILAB_EINVAL, "iova: free_iova_fast of %llu pages on CPU %u",
                           (unsigned long long)size, cpu);
    if (!rcache_insert(d, pfn, size, cpu))
        host_free_iova(d, pfn);
    return 0;
}

/* iova_align(size) >> shift */
static uint64_t dma_pages(const struct host_iova_domain *d, uint64_t size_bytes)
{
    return (size_bytes >> d->shift) + ((size_bytes & (d->granule - 1)) != 0);
}

#define DMA_BIT_MASK_32 0xffffffffull

int host_iova_dma_alloc(struct host_iova_domain *d, uint64_t dma_mask, bool is_pci,
                        uint64_t size_bytes, unsigned cpu, uint64_t *dma_addr,
                        struct pcilab_err *err)
{
    uint64_t pages = dma_pages(d, size_bytes), pfn = 0;
    bool try32;
    int rc;

    *dma_addr = 0;
    if (!pages)
        return pcilab_errf(err, PCILAB_EINVAL, "iova: DMA mapping of 0 bytes");
    switch (d->flavour) {
    case HOST_IOVA_V4_9:
    case HOST_IOVA_V4_20:
        /* amd_iommu.c dma_ops_alloc_iova: pages = __roundup_pow_of_two(pages);
         * if (dma_mask > DMA_BIT_MASK(32)) first IOVA_PFN(DMA_BIT_MASK(32)) */
        pages = roundup_pow_of_two(pages);
        try32 = dma_mask > DMA_BIT_MASK_32;
        break;
    case HOST_IOVA_V5_15:
        /* dma-iommu.c iommu_dma_alloc_iova: round up below 1 << (6 - 1) */
        if (pages < (1u << (HOST_IOVA_RANGE_CACHE_MAX_SIZE - 1)))
            pages = roundup_pow_of_two(pages);
        /* fall through */
    default:
        /* "Try to get PCI devices a SAC address" */
        try32 = dma_mask > DMA_BIT_MASK_32 && !d->forcedac && is_pci;
        break;
    }
    if (try32) {
        rc = host_alloc_iova_fast(d, pages, DMA_BIT_MASK_32 >> d->shift, false, cpu, &pfn, err);
        if (rc < 0)
            return rc;
    }
    if (!pfn) {
        rc = host_alloc_iova_fast(d, pages, dma_mask >> d->shift, true, cpu, &pfn, err);
        if (rc < 0)
            return rc;
    }
    if (!pfn)
        return pcilab_errf(err, PCILAB_ERANGE,
                           "iova: no IOVA space for %llu pages under DMA mask %#llx",
                           (unsigned long long)pages, (unsigned long long)dma_mask);
    *dma_addr = pfn << d->shift;
    return 0;
}

int host_iova_dma_free(struct host_iova_domain *d, uint64_t dma_addr, uint64_t size_bytes,
                       unsigned cpu, struct pcilab_err *err)
{
    uint64_t pages = dma_pages(d, size_bytes);
    if (!pages)
        return pcilab_errf(err, PCILAB_EINVAL, "iova: DMA unmapping of 0 bytes");
    if (d->flavour == HOST_IOVA_V4_9 || d->flavour == HOST_IOVA_V4_20)
        pages = roundup_pow_of_two(pages); /* dma_ops_free_iova */
    return host_free_iova_fast(d, dma_addr >> d->shift, pages, cpu, err);
}

void host_iova_get_state(const struct host_iova_domain *d, struct host_iova_state *s)
{
    memset(s, 0, sizeof *s);
    s->dma_32bit_pfn = d->dma_32bit_pfn;
    s->cached_pfn_lo = d->cached_node ? d->cached_node->pfn_lo : IOVA_ANCHOR;
    s->cached32_valid = d->cached32_node != NULL;
    s->cached32_pfn_lo = d->cached32_node ? d->cached32_node->pfn_lo : 0;
    s->max32_alloc_size = d->max32_alloc_size;
    s->nodes = d->nodes;
    s->stale_cached32 = d->stale_cached32;
    s->mallocs = d->mallocs;
}

uint64_t host_iova_list(const struct host_iova_domain *d, struct host_iova *out, uint64_t max)
{
    uint64_t i = 0;
    for (struct iova_node *n = tree_min(d->root); n; n = tree_next(n)) {
        if (n == &d->anchor)
            continue;
        if (i < max)
            out[i] = (struct host_iova){n->pfn_lo, n->pfn_hi};
        i++;
    }
    return i;
}

void host_iova_rcache_state(const struct host_iova_domain *d, unsigned order, unsigned cpu,
                            struct host_iova_rcache_state *s)
{
    memset(s, 0, sizeof *s);
    if (order >= HOST_IOVA_RANGE_CACHE_MAX_SIZE || cpu >= d->ncpus)
        return;
    const struct iova_rcache *rc = &d->rcaches[order];
    s->loaded = (unsigned)rc->cpu[cpu].loaded->size;
    s->prev = (unsigned)rc->cpu[cpu].prev->size;
    s->depot_mags = rc->depot_size;
    for (unsigned j = 0; j < rc->depot_size; j++)
        s->depot_pfns += (unsigned)rc->depot[j]->size;
}
