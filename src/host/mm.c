/* The host kernel's direct map and kmalloc (mm.h). */
#include "host/mm.h"

#include <stdlib.h>
#include <string.h>

enum view_kind { VIEW_PAGES, VIEW_SLAB, VIEW_LARGE };

struct view {
    uintptr_t virt;
    uint64_t pa;
    uint64_t len;
    unsigned order;
    enum view_kind kind;
    int cache;                   /* VIEW_SLAB: size class index */
    uint32_t *free;              /* VIEW_SLAB: free object stack */
    unsigned nfree, nobj;
    size_t *req;                 /* VIEW_SLAB: requested size per object (0 = free) */
    size_t large_req;            /* VIEW_LARGE: requested size */
};

/* SLUB's kmalloc caches on x86-64 (mm/slab_common.c kmalloc_info). */
static const unsigned class_size[] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048,
                                      4096, 8192};
#define NCLASS (sizeof class_size / sizeof class_size[0])

struct host_mm {
    struct view *v;              /* sorted by virt */
    size_t n, cap;
    unsigned slab_order[NCLASS];
};

static struct host_mm *mm_of(struct host_kernel *k)
{
    return k->mm;
}

int host_mm_init(struct host_kernel *k, struct pcilab_err *err)
{
    struct host_mm *mm = calloc(1, sizeof *mm);
    if (!mm)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the direct map");
    /* calculate_order (mm/slub.c): at least slub_min_objects = 4 * (fls(nr_cpus) + 1)
     * objects per slab, at most order 3 (PAGE_ALLOC_COSTLY_ORDER). */
    unsigned fls = 0;
    for (unsigned c = k->ncpus; c; c >>= 1)
        fls++;
    unsigned min_objects = 4 * (fls + 1);
    for (unsigned i = 0; i < NCLASS; i++) {
        unsigned order = 0;
        while (order < 3 && ((HOST_PAGE_SIZE << order) / class_size[i]) < min_objects)
            order++;
        mm->slab_order[i] = order;
    }
    k->mm = mm;
    return 0;
}

void host_mm_destroy(struct host_kernel *k)
{
    struct host_mm *mm = k->mm;
    if (!mm)
        return;
    for (size_t i = 0; i < mm->n; i++) {
        free(mm->v[i].free);
        free(mm->v[i].req);
    }
    free(mm->v);
    free(mm);
    k->mm = NULL;
}

/* Index of the view containing virt, or SIZE_MAX. */
static size_t find_virt(const struct host_mm *mm, uintptr_t virt)
{
    size_t lo = 0, hi = mm->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (mm->v[mid].virt + mm->v[mid].len <= virt)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < mm->n && virt >= mm->v[lo].virt)
        return lo;
    return SIZE_MAX;
}

static struct view *add_view(struct host_mm *mm, const struct view *nv)
{
    if (mm->n == mm->cap) {
        size_t cap = mm->cap ? mm->cap * 2 : 64;
        struct view *v = realloc(mm->v, cap * sizeof *v);
        if (!v)
            return NULL;
        mm->v = v;
        mm->cap = cap;
    }
    size_t i = mm->n;
    while (i > 0 && mm->v[i - 1].virt > nv->virt) {
        mm->v[i] = mm->v[i - 1];
        i--;
    }
    mm->v[i] = *nv;
    mm->n++;
    return &mm->v[i];
}

static void remove_view(struct host_mm *mm, size_t i)
{
    free(mm->v[i].free);
    free(mm->v[i].req);
    memmove(mm->v + i, mm->v + i + 1, (mm->n - i - 1) * sizeof *mm->v);
    mm->n--;
}

static enum host_zone zone_of(gfp_t gfp)
{
    if (gfp & GFP_DMA)
        return HOST_ZONE_DMA;
    if (gfp & GFP_DMA32)
        return HOST_ZONE_DMA32;
    return HOST_ZONE_NORMAL;
}

static void *map_block(struct host_kernel *k, uint64_t pa, unsigned order, enum view_kind kind,
                       struct view **out, bool *fresh)
{
    uint8_t *host;
    bool f;
    if (mem_phys_contiguous_fresh(k->ram, pa, 1ull << order, &host, fresh ? fresh : &f, NULL) < 0)
        return NULL;
    struct view nv = {.virt = (uintptr_t)host, .pa = pa, .len = HOST_PAGE_SIZE << order,
                      .order = order, .kind = kind, .cache = -1};
    struct view *v = add_view(mm_of(k), &nv);
    if (!v)
        return NULL;
    if (out)
        *out = v;
    return host;
}

/* Maps a block the page allocator gave (p, UINT64_MAX when it gave none). */
static void *map_pages(struct host_kernel *k, uint64_t p, unsigned order, bool zero, uint64_t *pa)
{
    if (p == UINT64_MAX)
        return NULL;
    bool fresh;
    void *virt = map_block(k, p, order, VIEW_PAGES, NULL, &fresh);
    if (!virt) {
        host_pages_free(k->pages, p, order, NULL);
        return NULL;
    }
    /* __GFP_ZERO: memory never written is zero already (its host pages not
     * even touched: a first write costs 5-40 us here) */
    if (zero && !fresh)
        memset(virt, 0, HOST_PAGE_SIZE << order);
    if (pa)
        *pa = p;
    return virt;
}

void *host_alloc_pages(struct host_kernel *k, gfp_t gfp, unsigned order, uint64_t *pa)
{
    return map_pages(k, host_pages_alloc(k->pages, order, zone_of(gfp)), order,
                     gfp & __GFP_ZERO, pa);
}

void *host_alloc_pages_range(struct host_kernel *k, unsigned order, uint64_t lo, uint64_t hi,
                             uint64_t *pa)
{
    return map_pages(k, host_pages_alloc_range(k->pages, order, lo, hi), order, false, pa);
}

void host_free_pages(struct host_kernel *k, void *virt, unsigned order)
{
    struct host_mm *mm = mm_of(k);
    size_t i = find_virt(mm, (uintptr_t)virt);
    if (i == SIZE_MAX || mm->v[i].virt != (uintptr_t)virt || mm->v[i].kind != VIEW_PAGES ||
        mm->v[i].order != order) {
        host_printk(k, KERN_ERR "pcilab: free_pages of %p (order %u): not an allocation of "
                    "that order\n", virt, order);
        return;
    }
    uint64_t pa = mm->v[i].pa;
    remove_view(mm, i);
    host_pages_free(k->pages, pa, order, NULL);
}

uint64_t host_virt_to_phys(struct host_kernel *k, const void *virt)
{
    struct host_mm *mm = mm_of(k);
    size_t i = find_virt(mm, (uintptr_t)virt);
    if (i == SIZE_MAX)
        return UINT64_MAX;
    return mm->v[i].pa + ((uintptr_t)virt - mm->v[i].virt);
}

void *host_phys_to_virt(struct host_kernel *k, uint64_t pa)
{
    struct host_mm *mm = mm_of(k);
    for (size_t i = 0; i < mm->n; i++)
        if (pa >= mm->v[i].pa && pa - mm->v[i].pa < mm->v[i].len)
            return (void *)(mm->v[i].virt + (uintptr_t)(pa - mm->v[i].pa));
    return NULL;
}

/* ---- kmalloc ---- */

static int class_of(size_t size)
{
    for (unsigned i = 0; i < NCLASS; i++)
        if (size <= class_size[i])
            return (int)i;
    return -1;
}

static struct host_kernel *cur(void)
{
    struct host_kernel *k = host_current();
    if (!k)
        abort(); /* kernel API called outside a running kernel: a pcilab bug */
    return k;
}

static void *slab_alloc(struct host_kernel *k, int c, size_t size, gfp_t gfp)
{
    struct host_mm *mm = mm_of(k);
    /* the most recently created slab with a free object, as the per-CPU
     * slab is the newest one */
    struct view *s = NULL;
    for (size_t i = mm->n; i-- > 0;)
        if (mm->v[i].kind == VIEW_SLAB && mm->v[i].cache == c && mm->v[i].nfree) {
            if (!s || mm->v[i].pa > s->pa)
                s = &mm->v[i];
        }
    if (!s) {
        unsigned order = mm->slab_order[c];
        uint64_t pa = host_pages_alloc(k->pages, order, zone_of(gfp));
        if (pa == UINT64_MAX)
            return NULL;
        unsigned nobj = (unsigned)((HOST_PAGE_SIZE << order) / class_size[c]);
        uint32_t *fr = malloc(nobj * sizeof *fr);
        size_t *req = calloc(nobj, sizeof *req);
        struct view *v = NULL;
        if (!fr || !req || !map_block(k, pa, order, VIEW_SLAB, &v, NULL)) {
            free(fr);
            free(req);
            host_pages_free(k->pages, pa, order, NULL);
            return NULL;
        }
        /* a new slab hands out objects in address order */
        for (unsigned i = 0; i < nobj; i++)
            fr[i] = nobj - 1 - i;
        v->cache = c;
        v->free = fr;
        v->req = req;
        v->nfree = v->nobj = nobj;
        s = v;
    }
    uint32_t idx = s->free[--s->nfree];
    s->req[idx] = size ? size : 1;
    uint8_t *obj = (uint8_t *)s->virt + (size_t)idx * class_size[c];
    if (gfp & __GFP_ZERO)
        memset(obj, 0, class_size[c]);
    return obj;
}

void *kmalloc(size_t size, gfp_t flags)
{
    struct host_kernel *k = cur();
    if (size == 0)
        return NULL; /* ZERO_SIZE_PTR in Linux: never dereferenceable */
    int c = class_of(size);
    if (c >= 0)
        return slab_alloc(k, c, size, flags);
    unsigned order = host_get_order(size);
    uint64_t pa = host_pages_alloc(k->pages, order, zone_of(flags));
    if (pa == UINT64_MAX)
        return NULL;
    struct view *v = NULL;
    void *p = map_block(k, pa, order, VIEW_LARGE, &v, NULL);
    if (!p) {
        host_pages_free(k->pages, pa, order, NULL);
        return NULL;
    }
    v->large_req = size;
    if (flags & __GFP_ZERO)
        memset(p, 0, size);
    return p;
}

void *kzalloc(size_t size, gfp_t flags)
{
    return kmalloc(size, flags | __GFP_ZERO);
}

/* The view and object index of p, for kfree / ksize. */
static struct view *object_of(struct host_kernel *k, const void *p, size_t *vi, uint32_t *idx)
{
    struct host_mm *mm = mm_of(k);
    size_t i = find_virt(mm, (uintptr_t)p);
    if (i == SIZE_MAX)
        return NULL;
    struct view *v = &mm->v[i];
    uintptr_t off = (uintptr_t)p - v->virt;
    if (v->kind == VIEW_LARGE && off == 0) {
        *vi = i;
        return v;
    }
    if (v->kind != VIEW_SLAB || off % class_size[v->cache])
        return NULL;
    *idx = (uint32_t)(off / class_size[v->cache]);
    if (!v->req[*idx])
        return NULL;
    *vi = i;
    return v;
}

void kfree(const void *p)
{
    if (!p)
        return;
    struct host_kernel *k = cur();
    size_t vi;
    uint32_t idx = 0;
    struct view *v = object_of(k, p, &vi, &idx);
    if (!v) {
        host_printk(k, KERN_ERR "pcilab: kfree of %p, which kmalloc did not return or was "
                    "freed already\n", p);
        return;
    }
    if (v->kind == VIEW_LARGE) {
        uint64_t pa = v->pa;
        unsigned order = v->order;
        remove_view(mm_of(k), vi);
        host_pages_free(k->pages, pa, order, NULL);
        return;
    }
    v->req[idx] = 0;
    v->free[v->nfree++] = idx;
    /* SLUB keeps empty slabs on the partial list (min_partial): so do we */
}

size_t ksize(const void *p)
{
    if (!p)
        return 0;
    struct host_kernel *k = cur();
    size_t vi;
    uint32_t idx = 0;
    struct view *v = object_of(k, p, &vi, &idx);
    if (!v)
        return 0;
    return v->kind == VIEW_LARGE ? v->len : class_size[v->cache];
}

uint64_t virt_to_phys(const void *p)
{
    return host_virt_to_phys(cur(), p);
}

void *phys_to_virt(uint64_t pa)
{
    return host_phys_to_virt(cur(), pa);
}

/* ---- I/O page-table pages (struct host_iopt) ---- */

struct host_iopt *host_iopt_alloc(struct host_kernel *k, bool directory)
{
    struct host_iopt *pt = calloc(1, sizeof *pt);
    if (!pt)
        return NULL;
    pt->cpu = host_alloc_pages(k, GFP_KERNEL | __GFP_ZERO, 0, &pt->pa);
    if (pt->cpu && directory)
        pt->child = calloc(512, sizeof *pt->child);
    if (!pt->cpu || (directory && !pt->child)) {
        if (pt->cpu)
            host_free_pages(k, pt->cpu, 0);
        free(pt);
        return NULL;
    }
    return pt;
}

void host_iopt_free(struct host_kernel *k, struct host_iopt *pt)
{
    if (!pt)
        return;
    if (pt->child) {
        for (unsigned i = 0; i < 512; i++)
            host_iopt_free(k, pt->child[i]);
        free(pt->child);
    }
    host_free_pages(k, pt->cpu, 0);
    free(pt);
}
