/* DMA API debugging (dma_debug.h).
 *
 * Read, not copied (trees named in kver.c): lib/dma-debug.c 4.9.80,
 * kernel/dma/debug.c 4.20, 5.15, 6.1 (-rc7): err_printk, hash_fn,
 * __hash_bucket_find, bucket_find_contain, check_unmap, check_sync,
 * debug_dma_*, dma_entry_alloc / dma_debug_create_entries /
 * __dma_entry_alloc_check_leak, active_cacheline_*, dma_debug_init,
 * dma_debug_device_change, device_dma_allocations, debug_dma_dump_mappings,
 * filter_write, driver_filter; kernel/panic.c (__warn, __warn_printk,
 * CUT_HERE); include/asm-generic/bug.h (WARN on x86: warn_slowpath_fmt in
 * 4.9, __warn_printk + ud2 from 4.20). */
#define _GNU_SOURCE /* pthread_getattr_np */
#include "host/dma_debug.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/mm.h"
#include "host/pages.h"

enum dd_type {
    dma_debug_single,
    dma_debug_page,   /* 4.x only; 5.x types map_page "single" */
    dma_debug_sg,
    dma_debug_coherent,
    dma_debug_resource,
};

enum map_err_types {
    MAP_ERR_CHECK_NOT_APPLICABLE,
    MAP_ERR_NOT_CHECKED,
    MAP_ERR_CHECKED,
};

static const char *const type2name[] = {"single", "page", "scather-gather", "coherent",
                                        "resource"};
static const char *const dir2name[] = {"DMA_BIDIRECTIONAL", "DMA_TO_DEVICE",
                                       "DMA_FROM_DEVICE", "DMA_NONE"};
static const char *const maperr2str[] = {"dma map error check not applicable",
                                         "dma map error not checked",
                                         "dma map error checked"};

#define HASH_FN_SHIFT 13
/* L1_CACHE_SHIFT 6 on x86; PAGE_SHIFT 12 */
#define CACHELINE_PER_PAGE_SHIFT (HOST_PAGE_SHIFT - 6)
/* (1 << RADIX_TREE_MAX_TAGS) - 1, RADIX_TREE_MAX_TAGS 3 */
#define ACTIVE_CACHELINE_MAX_OVERLAP 7
/* dma_get_max_seg_size of a PCI device: pci_device_add sets 64 KiB */
#define PCI_MAX_SEG_SIZE 65536u
/* NAME_MAX_LEN */
#define NAME_MAX_LEN 64
#define CUT_HERE "------------[ cut here ]------------\n"
#define PTR_STANDIN "(____ptrval____)"

struct dd_entry {
    struct dd_entry *prev, *next;    /* bucket list (or the free list: next) */
    struct device *dev;
    int type;
    uint64_t pfn;
    uint64_t offset;
    uint64_t dev_addr;
    uint64_t size;
    int direction;
    int sg_call_ents;
    int sg_mapped_ents;
    int map_err_type;
};

struct dd_bucket {
    struct dd_entry *head, *tail;
};

/* The active cache lines (Linux's radix tree dma_active_cacheline with
 * its three tags as an overlap count): open addressing, linear probing. */
struct cl_slot {
    uint64_t cln;
    int overlap;                     /* -1: empty */
};

#define CHUNK_ENTRIES 256
struct dd_chunk {
    struct dd_chunk *next;
    struct dd_entry e[CHUNK_ENTRIES];
};

struct host_dma_debug {
    struct host_kernel *k;
    const struct host_kver *kv;
    unsigned hash_size;
    struct dd_bucket *hash;
    /* entries: the pool is counted as Linux counts it; the memory behind it
     * is allocated when first used and recycled through `spare`. */
    struct dd_entry *spare;
    struct dd_chunk *chunks;
    size_t chunk_used;
    uint32_t num_free_entries, min_free_entries, nr_total_entries, nr_prealloc_entries;
    bool global_disable;
    uint32_t error_count, show_all_errors, show_num_errors;
    char current_driver_name[NAME_MAX_LEN];
    bool overlap_warned;             /* WARN_ONCE of the overlap counter */
    struct cl_slot *cl;
    size_t cl_cap, cl_n;
};

/* ---- Printing ---- */

static const char *dev_driver_string(const struct device *dev)
{
    if (dev->driver_name)
        return dev->driver_name;
    return dev->bus_name ? dev->bus_name : "";
}

static struct host_dma_debug *dd_of(const struct device *dev)
{
    struct host_dma_debug *dd = dev->kernel->dma_debug;
    return dd && !dd->global_disable ? dd : NULL;
}

/* driver_filter: no filter, or the device's driver has the filter's name. */
static bool driver_filter(const struct host_dma_debug *dd, const struct device *dev)
{
    if (!dd->current_driver_name[0])
        return true;
    if (!dev || !dev->driver_name)
        return false;
    return strncmp(dd->current_driver_name, dev->driver_name, NAME_MAX_LEN - 1) == 0;
}

/* WARN(1, fmt, ...) as far as its text can be known: the cut-here line and
 * the message (at the default level: vprintk of the format without a level).
 * A message without its final newline is stored as a whole line, as the
 * WARN's next printk would close it. */
static void warn_text(struct host_kernel *k, const char *text)
{
    size_t n = strlen(text);
    host_printk(k, KERN_WARNING CUT_HERE);
    host_printk(k, "%s%s", text, n && text[n - 1] == '\n' ? "" : "\n");
}

/* dump_entry_trace (CONFIG_STACKTRACE, on in Debian): pr_warn("Mapped at:\n")
 * then the saved backtrace, which pcilab does not have. */
static void dump_entry_trace(const struct host_dma_debug *dd, const struct dd_entry *entry)
{
    if (entry)
        host_printk(dd->k, KERN_WARNING "%sMapped at:\n", dd->kv->dma_debug_pr_fmt ? "DMA-API: " : "");
}

/* err_printk: every error is counted; it is shown while show_num_errors
 * lasts (1 per boot by default, for every driver together) or always with
 * all_errors; show_num_errors goes down even for an error the driver filter
 * hides. */
static void err_printk(struct host_dma_debug *dd, struct device *dev,
                       const struct dd_entry *entry, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err_printk(struct host_dma_debug *dd, struct device *dev,
                       const struct dd_entry *entry, const char *fmt, ...)
{
    dd->error_count += 1;
    if (driver_filter(dd, dev) && (dd->show_all_errors || dd->show_num_errors > 0)) {
        char text[SIM_LOG_LINE_MAX + 1], msg[SIM_LOG_LINE_MAX + 128];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        const char *drv = dev ? dev_driver_string(dev) : "NULL";
        const char *name = dev ? dev->name : "NULL";
        if (dd->kv->dma_debug_pr_fmt) /* WARN(1, pr_fmt("%s %s: ") format, ...) */
            snprintf(msg, sizeof msg, "DMA-API: %s %s: %s", drv, name, text);
        else                          /* WARN(1, "%s %s: " "DMA-API: ..." ...) */
            snprintf(msg, sizeof msg, "%s %s: DMA-API: %s", drv, name, text);
        warn_text(dd->k, msg);
        dump_entry_trace(dd, entry);
    }
    if (!dd->show_all_errors && dd->show_num_errors > 0)
        dd->show_num_errors -= 1;
}

/* pr_info / pr_err / pr_warn of dma-debug: the same text in every version
 * ("DMA-API: " in the format in 4.x, from pr_fmt in 5.x). */
#define DD_LOG(dd, lvl, fmt, ...) host_printk((dd)->k, lvl "DMA-API: " fmt, ##__VA_ARGS__)

/* ---- The hash ---- */

static struct dd_bucket *bucket_of(struct host_dma_debug *dd, uint64_t dev_addr)
{
    return &dd->hash[(dev_addr >> HASH_FN_SHIFT) & (dd->hash_size - 1)];
}

static void hash_bucket_add(struct dd_bucket *b, struct dd_entry *e)
{
    e->next = NULL;
    e->prev = b->tail;
    if (b->tail)
        b->tail->next = e;
    else
        b->head = e;
    b->tail = e;
}

static void hash_bucket_del(struct dd_bucket *b, struct dd_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        b->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        b->tail = e->prev;
    e->prev = e->next = NULL;
}

static bool exact_match(const struct dd_entry *a, const struct dd_entry *b)
{
    return a->dev_addr == b->dev_addr && a->dev == b->dev;
}

static bool containing_match(const struct dd_entry *a, const struct dd_entry *b)
{
    if (a->dev != b->dev)
        return false;
    return b->dev_addr <= a->dev_addr && b->dev_addr + b->size >= a->dev_addr + a->size;
}

/* __hash_bucket_find: a perfect fit (size, type, direction, sg count) at
 * once; otherwise the best fit, but only when it was the only match. */
static struct dd_entry *hash_bucket_find(struct dd_bucket *b, const struct dd_entry *ref,
                                         bool (*match)(const struct dd_entry *,
                                                       const struct dd_entry *))
{
    struct dd_entry *ret = NULL;
    int matches = 0, last_lvl = -1;
    for (struct dd_entry *e = b->head; e; e = e->next) {
        if (!match(ref, e))
            continue;
        matches += 1;
        int lvl = (e->size == ref->size) + (e->type == ref->type) +
                  (e->direction == ref->direction) + (e->sg_call_ents == ref->sg_call_ents);
        if (lvl == 4)
            return e;
        if (lvl > last_lvl) {
            last_lvl = lvl;
            ret = e;
        }
    }
    return matches == 1 ? ret : NULL;
}

/* bucket_find_contain: the bucket of the address, then the ones before it:
 * over a max-segment-size range (4.x, 5.15) or down to address 0 (6.1). */
static struct dd_entry *bucket_find_contain(struct host_dma_debug *dd, const struct dd_entry *ref)
{
    uint64_t index = ref->dev_addr;
    if (dd->kv->dma_debug_contain_walk_addr) {
        uint64_t limit = (index >> HASH_FN_SHIFT) + 1;
        if (limit > dd->hash_size)
            limit = dd->hash_size;
        for (uint64_t i = 0; i < limit; i++) {
            struct dd_entry *e = hash_bucket_find(bucket_of(dd, index), ref, containing_match);
            if (e)
                return e;
            index -= 1u << HASH_FN_SHIFT;
        }
        return NULL;
    }
    for (unsigned range = 0; range <= PCI_MAX_SEG_SIZE; range += 1u << HASH_FN_SHIFT) {
        struct dd_entry *e = hash_bucket_find(bucket_of(dd, index), ref, containing_match);
        if (e)
            return e;
        index -= 1u << HASH_FN_SHIFT;
    }
    return NULL;
}

static uint64_t phys_addr(const struct dd_entry *e)
{
    return (e->pfn << HOST_PAGE_SHIFT) + e->offset;
}

/* ---- Active cache lines ---- */

static uint64_t to_cacheline_number(const struct dd_entry *e)
{
    return (e->pfn << CACHELINE_PER_PAGE_SHIFT) + (e->offset >> 6);
}

static size_t cl_hash(uint64_t cln, size_t cap)
{
    cln *= 0x9e3779b97f4a7c15ull;
    return (size_t)(cln >> 20) & (cap - 1);
}

static struct cl_slot *cl_find(struct host_dma_debug *dd, uint64_t cln)
{
    if (!dd->cl_cap)
        return NULL;
    for (size_t i = cl_hash(cln, dd->cl_cap);; i = (i + 1) & (dd->cl_cap - 1)) {
        if (dd->cl[i].overlap < 0)
            return NULL;
        if (dd->cl[i].cln == cln)
            return &dd->cl[i];
    }
}

static int cl_grow(struct host_dma_debug *dd)
{
    size_t cap = dd->cl_cap ? dd->cl_cap * 2 : 1024;
    struct cl_slot *n = malloc(cap * sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < cap; i++)
        n[i].overlap = -1;
    for (size_t j = 0; j < dd->cl_cap; j++) {
        if (dd->cl[j].overlap < 0)
            continue;
        size_t i = cl_hash(dd->cl[j].cln, cap);
        while (n[i].overlap >= 0)
            i = (i + 1) & (cap - 1);
        n[i] = dd->cl[j];
    }
    free(dd->cl);
    dd->cl = n;
    dd->cl_cap = cap;
    return 0;
}

/* radix_tree_insert: 0, 1 (-EEXIST: the overlap count goes up), -1 no memory */
static int cl_insert(struct host_dma_debug *dd, uint64_t cln)
{
    struct cl_slot *s = cl_find(dd, cln);
    if (s) {
        /* active_cacheline_inc_overlap: the count saturates at 7 */
        int overlap = s->overlap + 1;
        if (overlap <= ACTIVE_CACHELINE_MAX_OVERLAP)
            s->overlap = overlap;
        if (overlap > ACTIVE_CACHELINE_MAX_OVERLAP && !dd->overlap_warned) {
            /* WARN_ONCE("DMA-API: exceeded %d overlapping mappings of cacheline %pa\n") */
            dd->overlap_warned = true;
            char msg[128];
            snprintf(msg, sizeof msg,
                     "DMA-API: exceeded %d overlapping mappings of cacheline 0x%016llx\n",
                     ACTIVE_CACHELINE_MAX_OVERLAP, (unsigned long long)cln);
            warn_text(dd->k, msg);
        }
        return 1;
    }
    if ((dd->cl_n + 1) * 2 > dd->cl_cap && cl_grow(dd) < 0)
        return -1;
    size_t i = cl_hash(cln, dd->cl_cap);
    while (dd->cl[i].overlap >= 0)
        i = (i + 1) & (dd->cl_cap - 1);
    dd->cl[i].cln = cln;
    dd->cl[i].overlap = 0;
    dd->cl_n++;
    return 0;
}

/* Deletion with backward shift, so lookups never need tombstones. */
static void cl_delete(struct host_dma_debug *dd, struct cl_slot *s)
{
    size_t mask = dd->cl_cap - 1, i = (size_t)(s - dd->cl), j = i;
    dd->cl[i].overlap = -1;
    for (;;) {
        j = (j + 1) & mask;
        if (dd->cl[j].overlap < 0)
            break;
        size_t h = cl_hash(dd->cl[j].cln, dd->cl_cap);
        /* move j to i when its home h is not within (i, j] cyclically */
        bool in = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!in) {
            dd->cl[i] = dd->cl[j];
            dd->cl[j].overlap = -1;
            i = j;
        }
    }
    dd->cl_n--;
}

static int active_cacheline_insert(struct host_dma_debug *dd, const struct dd_entry *e)
{
    /* a device that only reads cannot leave the CPU stale data */
    if (e->direction == DMA_TO_DEVICE)
        return 0;
    return cl_insert(dd, to_cacheline_number(e));
}

static void active_cacheline_remove(struct host_dma_debug *dd, const struct dd_entry *e)
{
    if (e->direction == DMA_TO_DEVICE)
        return;
    struct cl_slot *s = cl_find(dd, to_cacheline_number(e));
    if (!s)
        return;
    /* active_cacheline_dec_overlap: below 0 the line is idle */
    if (s->overlap - 1 < 0)
        cl_delete(dd, s);
    else
        s->overlap -= 1;
}

/* ---- Entries ---- */

static void add_dma_entry(struct host_dma_debug *dd, struct dd_entry *e)
{
    hash_bucket_add(bucket_of(dd, e->dev_addr), e);
    int rc = active_cacheline_insert(dd, e);
    if (rc < 0) {
        DD_LOG(dd, KERN_ERR, "cacheline tracking ENOMEM, dma-debug disabled\n");
        dd->global_disable = true;
    } else if (rc == 1 && dd->kv->dma_debug_overlap_err) {
        err_printk(dd, e->dev, e,
                   "cacheline tracking EEXIST, overlapping mappings aren't supported\n");
    }
}

/* 5.x __dma_entry_alloc_check_leak: a line each time the pool passes a
 * multiple of its first size. (With dma_debug_entries=0 Linux divides by
 * zero here; pcilab prints nothing.) */
static void check_leak(struct host_dma_debug *dd)
{
    if (!dd->nr_prealloc_entries)
        return;
    uint32_t tmp = dd->nr_total_entries % dd->nr_prealloc_entries;
    if (tmp < dd->kv->dma_debug_entries_per_page)
        DD_LOG(dd, KERN_INFO, "dma_debug_entry pool grown to %u (%u00%%)\n",
               dd->nr_total_entries, dd->nr_total_entries / dd->nr_prealloc_entries);
}

static struct dd_entry *entry_memory(struct host_dma_debug *dd)
{
    if (dd->spare) {
        struct dd_entry *e = dd->spare;
        dd->spare = e->next;
        return e;
    }
    if (!dd->chunks || dd->chunk_used == CHUNK_ENTRIES) {
        struct dd_chunk *c = malloc(sizeof *c);
        if (!c)
            return NULL;
        c->next = dd->chunks;
        dd->chunks = c;
        dd->chunk_used = 0;
    }
    return &dd->chunks->e[dd->chunk_used++];
}

/* dma_entry_alloc */
static struct dd_entry *dma_entry_alloc(struct host_dma_debug *dd)
{
    if (dd->num_free_entries == 0) {
        if (!dd->kv->dma_debug_entries_per_page) {
            dd->global_disable = true;
            DD_LOG(dd, KERN_ERR, "debugging out of memory - disabling\n");
            return NULL;
        }
        /* dma_debug_create_entries(GFP_ATOMIC): one more page of entries */
        dd->num_free_entries += dd->kv->dma_debug_entries_per_page;
        dd->nr_total_entries += dd->kv->dma_debug_entries_per_page;
        check_leak(dd);
    }
    struct dd_entry *e = entry_memory(dd);
    if (!e) {
        dd->global_disable = true;
        DD_LOG(dd, KERN_ERR, "debugging out of memory - disabling\n");
        return NULL;
    }
    memset(e, 0, sizeof *e);
    dd->num_free_entries -= 1;
    if (dd->num_free_entries < dd->min_free_entries)
        dd->min_free_entries = dd->num_free_entries;
    return e;
}

static void dma_entry_free(struct host_dma_debug *dd, struct dd_entry *e)
{
    active_cacheline_remove(dd, e);
    e->next = dd->spare;
    dd->spare = e;
    dd->num_free_entries += 1;
}

/* ---- Init and teardown ---- */

static void dd_destroy(void *obj)
{
    struct host_dma_debug *dd = obj;
    if (dd->k->dma_debug == dd)
        dd->k->dma_debug = NULL;
    while (dd->chunks) {
        struct dd_chunk *c = dd->chunks;
        dd->chunks = c->next;
        free(c);
    }
    free(dd->cl);
    free(dd->hash);
    free(dd);
}

int host_dma_debug_init(struct host_kernel *k, struct pcilab_err *err)
{
    const struct host_bootparams *bp = &k->bootparams;
    if (!k->dma_debug_built || bp->dma_debug_off || k->dma_debug)
        return 0;
    const struct host_kver *kv = k->kver;
    struct host_dma_debug *dd = calloc(1, sizeof *dd);
    if (dd)
        dd->hash = calloc(kv->dma_debug_hash_size, sizeof *dd->hash);
    if (!dd || !dd->hash) {
        free(dd);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the DMA-API debug hash");
    }
    dd->k = k;
    dd->kv = kv;
    dd->hash_size = kv->dma_debug_hash_size;
    dd->show_num_errors = 1;
    snprintf(dd->current_driver_name, sizeof dd->current_driver_name, "%s",
             bp->dma_debug_driver);
    /* dma_debug_entries=: 4.9 uses the arch's count when req_entries is 0 */
    uint32_t n = HOST_DMA_DEBUG_PREALLOC;
    if (bp->dma_debug_entries_given && (bp->dma_debug_entries || !kv->dma_debug_entries_zero_default))
        n = bp->dma_debug_entries;
    dd->nr_prealloc_entries = n;
    if (kv->dma_debug_entries_per_page) {
        /* DIV_ROUND_UP(nr_prealloc_entries, DMA_DEBUG_DYNAMIC_ENTRIES) pages */
        uint32_t per = kv->dma_debug_entries_per_page;
        uint64_t pages = ((uint64_t)n + per - 1) / per;
        dd->nr_total_entries = (uint32_t)(pages * per);
    } else {
        dd->nr_total_entries = n;
    }
    dd->num_free_entries = dd->min_free_entries = dd->nr_total_entries;
    if (sim_own(k->sim, dd, dd_destroy) < 0) {
        free(dd->hash);
        free(dd);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory registering DMA-API debugging");
    }
    DD_LOG(dd, KERN_INFO, "preallocated %u debug entries\n", dd->nr_total_entries);
    DD_LOG(dd, KERN_INFO, "debugging enabled by kernel config\n");
    k->dma_debug = dd;
    return 0;
}

/* ---- The stack ---- */

bool host_is_vmalloc_addr(const void *p)
{
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return false;
    void *base = NULL;
    size_t size = 0;
    bool on = false;
    if (pthread_attr_getstack(&attr, &base, &size) == 0) {
        uintptr_t a = (uintptr_t)p, lo = (uintptr_t)base;
        on = a >= lo && a - lo < size;
    }
    pthread_attr_destroy(&attr);
    return on;
}

/* ---- The hooks ---- */

static bool mapping_error(struct device *dev, dma_addr_t a)
{
    return a == host_dma_error_code(dev);
}

void debug_dma_map_single(struct device *dev, const void *addr, unsigned long len)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd || !dd->kv->dma_debug_map_single_check)
        return;
    /* virt_addr_valid: the direct map, which is what the kernel allocated;
     * such memory is never vmalloc memory */
    if (host_virt_to_phys(dev->kernel, addr) != UINT64_MAX)
        return;
    err_printk(dd, dev, NULL,
               "device driver maps memory from invalid area [addr=" PTR_STANDIN
               "] [len=%lu]\n", len);
    if (host_is_vmalloc_addr(addr))
        err_printk(dd, dev, NULL,
                   "device driver maps memory from vmalloc area [addr=" PTR_STANDIN
                   "] [len=%lu]\n", len);
}

void debug_dma_map_page(struct device *dev, uint64_t phys, size_t size, int direction,
                        dma_addr_t dma_addr, bool map_single)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd || mapping_error(dev, dma_addr))
        return;
    struct dd_entry *e = dma_entry_alloc(dd);
    if (!e)
        return;
    e->dev = dev;
    e->type = map_single || !dd->kv->dma_debug_page_type ? dma_debug_single : dma_debug_page;
    e->pfn = phys >> HOST_PAGE_SHIFT;
    e->offset = phys & (HOST_PAGE_SIZE - 1);
    e->dev_addr = dma_addr;
    e->size = size;
    e->direction = direction;
    e->map_err_type = MAP_ERR_NOT_CHECKED;
    /* check_for_stack / check_for_illegal_area: the page is the kernel's own
     * memory here (pcilab maps nothing else), never a stack or text page */
    add_dma_entry(dd, e);
}

void debug_dma_mapping_error(struct device *dev, dma_addr_t dma_addr)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd)
        return;
    struct dd_entry ref = {.dev = dev, .dev_addr = dma_addr};
    for (struct dd_entry *e = bucket_of(dd, dma_addr)->head; e; e = e->next) {
        if (!exact_match(&ref, e))
            continue;
        /* the first one not yet checked */
        if (e->map_err_type == MAP_ERR_NOT_CHECKED) {
            e->map_err_type = MAP_ERR_CHECKED;
            break;
        }
    }
}

static void check_unmap(struct host_dma_debug *dd, struct dd_entry *ref, bool ref_phys_known)
{
    struct device *dev = ref->dev;
    struct dd_bucket *b = bucket_of(dd, ref->dev_addr);
    struct dd_entry *entry = hash_bucket_find(b, ref, exact_match);
    unsigned long long addr = ref->dev_addr, size = ref->size;
    if (!entry) {
        if (mapping_error(dev, ref->dev_addr))
            err_printk(dd, dev, NULL, "device driver tries to free an invalid DMA memory "
                                      "address\n");
        else
            err_printk(dd, dev, NULL, "device driver tries to free DMA memory it has not "
                                      "allocated [device address=0x%016llx] [size=%llu bytes]\n",
                       addr, size);
        return;
    }
    if (ref->size != entry->size)
        err_printk(dd, dev, entry, "device driver frees DMA memory with different size "
                                   "[device address=0x%016llx] [map size=%llu bytes] "
                                   "[unmap size=%llu bytes]\n",
                   addr, (unsigned long long)entry->size, size);
    if (ref->type != entry->type)
        err_printk(dd, dev, entry, "device driver frees DMA memory with wrong function "
                                   "[device address=0x%016llx] [size=%llu bytes] "
                                   "[mapped as %s] [unmapped as %s]\n",
                   addr, size, type2name[entry->type], type2name[ref->type]);
    else if (entry->type == dma_debug_coherent && ref_phys_known &&
             phys_addr(ref) != phys_addr(entry))
        err_printk(dd, dev, entry, "device driver frees DMA memory with different CPU address "
                                   "[device address=0x%016llx] [size=%llu bytes] "
                                   "[cpu alloc address=0x%016llx] [cpu free address=0x%016llx]",
                   addr, size, (unsigned long long)phys_addr(entry),
                   (unsigned long long)phys_addr(ref));
    if (ref->sg_call_ents && ref->type == dma_debug_sg &&
        ref->sg_call_ents != entry->sg_call_ents)
        err_printk(dd, dev, entry, "device driver frees DMA sg list with different entry count "
                                   "[map count=%d] [unmap count=%d]\n",
                   entry->sg_call_ents, ref->sg_call_ents);
    if (ref->direction != entry->direction)
        err_printk(dd, dev, entry, "device driver frees DMA memory with different direction "
                                   "[device address=0x%016llx] [size=%llu bytes] "
                                   "[mapped with %s] [unmapped with %s]\n",
                   addr, size, dir2name[entry->direction & 3], dir2name[ref->direction & 3]);
    /* the missing space before '[' and the missing newline are Linux's */
    if (entry->map_err_type == MAP_ERR_NOT_CHECKED)
        err_printk(dd, dev, entry, "device driver failed to check map error"
                                   "[device address=0x%016llx] [size=%llu bytes] "
                                   "[mapped as %s]",
                   addr, size, type2name[entry->type]);
    hash_bucket_del(b, entry);
    dma_entry_free(dd, entry);
}

void debug_dma_unmap_page(struct device *dev, dma_addr_t addr, size_t size, int direction,
                          bool map_single)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd)
        return;
    struct dd_entry ref = {
        .type = map_single || !dd->kv->dma_debug_page_type ? dma_debug_single : dma_debug_page,
        .dev = dev,
        .dev_addr = addr,
        .size = size,
        .direction = direction,
    };
    check_unmap(dd, &ref, false);
}

static uint64_t sg_phys(struct device *dev, const struct scatterlist *s)
{
    uint64_t pa = host_virt_to_phys(dev->kernel, s->buf);
    return pa == UINT64_MAX ? 0 : pa;
}

void debug_dma_map_sg(struct device *dev, struct scatterlist *sg, int nents, int mapped_ents,
                      int direction)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd)
        return;
    struct scatterlist *s = sg;
    for (int i = 0; i < mapped_ents && s; i++, s = sg_next(s)) {
        struct dd_entry *e = dma_entry_alloc(dd);
        if (!e)
            return;
        uint64_t pa = sg_phys(dev, s);
        e->type = dma_debug_sg;
        e->dev = dev;
        e->pfn = pa >> HOST_PAGE_SHIFT;
        e->offset = pa & (HOST_PAGE_SIZE - 1);
        e->size = sg_dma_len(s);
        e->dev_addr = sg_dma_address(s);
        e->direction = direction;
        e->sg_call_ents = nents;
        e->sg_mapped_ents = mapped_ents;
        add_dma_entry(dd, e);
    }
}

static int get_nr_mapped_entries(struct host_dma_debug *dd, const struct dd_entry *ref)
{
    struct dd_entry *e = hash_bucket_find(bucket_of(dd, ref->dev_addr), ref, exact_match);
    return e ? e->sg_mapped_ents : 0;
}

static struct dd_entry sg_ref(struct device *dev, struct scatterlist *s, int dir, int nelems)
{
    uint64_t pa = sg_phys(dev, s);
    struct dd_entry ref = {
        .type = dma_debug_sg,
        .dev = dev,
        .pfn = pa >> HOST_PAGE_SHIFT,
        .offset = pa & (HOST_PAGE_SIZE - 1),
        .dev_addr = sg_dma_address(s),
        .size = sg_dma_len(s),
        .direction = dir,
        .sg_call_ents = nelems,
    };
    return ref;
}

void debug_dma_unmap_sg(struct device *dev, struct scatterlist *sglist, int nelems, int dir)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd)
        return;
    int mapped_ents = 0;
    struct scatterlist *s = sglist;
    for (int i = 0; i < nelems && s; i++, s = sg_next(s)) {
        struct dd_entry ref = sg_ref(dev, s, dir, nelems);
        if (mapped_ents && i >= mapped_ents)
            break;
        if (!i)
            mapped_ents = get_nr_mapped_entries(dd, &ref);
        check_unmap(dd, &ref, true);
    }
}

void debug_dma_alloc_coherent(struct device *dev, size_t size, dma_addr_t dma_addr, void *virt)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd || !virt)
        return;
    uint64_t pa = host_virt_to_phys(dev->kernel, virt);
    if (pa == UINT64_MAX)
        return;
    struct dd_entry *e = dma_entry_alloc(dd);
    if (!e)
        return;
    e->type = dma_debug_coherent;
    e->dev = dev;
    e->pfn = pa >> HOST_PAGE_SHIFT;
    e->offset = pa & (HOST_PAGE_SIZE - 1);
    e->size = size;
    e->dev_addr = dma_addr;
    e->direction = DMA_BIDIRECTIONAL;
    add_dma_entry(dd, e);
}

void debug_dma_free_coherent(struct device *dev, size_t size, void *virt, dma_addr_t addr)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd)
        return;
    /* 4.20+: "handle vmalloc and linear addresses", anything else is not
     * checked; 4.9 would compare a bogus page, which pcilab cannot name */
    uint64_t pa = host_virt_to_phys(dev->kernel, virt);
    if (pa == UINT64_MAX)
        return;
    struct dd_entry ref = {
        .type = dma_debug_coherent,
        .dev = dev,
        .pfn = pa >> HOST_PAGE_SHIFT,
        .offset = pa & (HOST_PAGE_SIZE - 1),
        .dev_addr = addr,
        .size = size,
        .direction = DMA_BIDIRECTIONAL,
    };
    check_unmap(dd, &ref, true);
}

static void check_sync(struct host_dma_debug *dd, struct device *dev, struct dd_entry *ref,
                       bool to_cpu)
{
    struct dd_entry *entry = bucket_find_contain(dd, ref);
    if (!entry) {
        err_printk(dd, dev, NULL, "device driver tries to sync DMA memory it has not allocated "
                                  "[device address=0x%016llx] [size=%llu bytes]\n",
                   (unsigned long long)ref->dev_addr, (unsigned long long)ref->size);
        return;
    }
    unsigned long long esize = entry->size;
    if (ref->size > entry->size)
        err_printk(dd, dev, entry, "device driver syncs DMA memory outside allocated range "
                                   "[device address=0x%016llx] [allocation size=%llu bytes] "
                                   "[sync offset+size=%llu]\n",
                   (unsigned long long)entry->dev_addr, esize, (unsigned long long)ref->size);
    if (entry->direction == DMA_BIDIRECTIONAL)
        return;
    const char *md = dir2name[entry->direction & 3], *sd = dir2name[ref->direction & 3];
    unsigned long long addr = ref->dev_addr;
    if (ref->direction != entry->direction)
        err_printk(dd, dev, entry, "device driver syncs DMA memory with different direction "
                                   "[device address=0x%016llx] [size=%llu bytes] "
                                   "[mapped with %s] [synced with %s]\n",
                   addr, esize, md, sd);
    if (to_cpu && entry->direction != DMA_FROM_DEVICE && ref->direction != DMA_TO_DEVICE)
        err_printk(dd, dev, entry, "device driver syncs device read-only DMA memory for cpu "
                                   "[device address=0x%016llx] [size=%llu bytes] "
                                   "[mapped with %s] [synced with %s]\n",
                   addr, esize, md, sd);
    if (!to_cpu && entry->direction != DMA_TO_DEVICE && ref->direction != DMA_FROM_DEVICE)
        err_printk(dd, dev, entry, "device driver syncs device write-only DMA memory to device "
                                   "[device address=0x%016llx] [size=%llu bytes] "
                                   "[mapped with %s] [synced with %s]\n",
                   addr, esize, md, sd);
    if (ref->sg_call_ents && ref->type == dma_debug_sg &&
        ref->sg_call_ents != entry->sg_call_ents)
        err_printk(dd, ref->dev, entry, "device driver syncs DMA sg list with different entry "
                                        "count [map count=%d] [sync count=%d]\n",
                   entry->sg_call_ents, ref->sg_call_ents);
}

static void sync_single(struct device *dev, dma_addr_t addr, uint64_t size, int dir, bool to_cpu)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd)
        return;
    struct dd_entry ref = {
        .type = dma_debug_single, .dev = dev, .dev_addr = addr, .size = size, .direction = dir,
    };
    check_sync(dd, dev, &ref, to_cpu);
}

void debug_dma_sync_single_for_cpu(struct device *dev, dma_addr_t dma_handle, size_t size,
                                   int direction)
{
    sync_single(dev, dma_handle, size, direction, true);
}

void debug_dma_sync_single_for_device(struct device *dev, dma_addr_t dma_handle, size_t size,
                                      int direction)
{
    sync_single(dev, dma_handle, size, direction, false);
}

/* 4.x: the reference is [handle, handle + offset + size) */
void debug_dma_sync_single_range_for_cpu(struct device *dev, dma_addr_t dma_handle,
                                         unsigned long offset, size_t size, int direction)
{
    sync_single(dev, dma_handle, (uint64_t)offset + size, direction, true);
}

void debug_dma_sync_single_range_for_device(struct device *dev, dma_addr_t dma_handle,
                                            unsigned long offset, size_t size, int direction)
{
    sync_single(dev, dma_handle, (uint64_t)offset + size, direction, false);
}

static void sync_sg(struct device *dev, struct scatterlist *sg, int nelems, int dir, bool to_cpu)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd)
        return;
    int mapped_ents = 0;
    struct scatterlist *s = sg;
    for (int i = 0; i < nelems && s; i++, s = sg_next(s)) {
        struct dd_entry ref = sg_ref(dev, s, dir, nelems);
        if (!i)
            mapped_ents = get_nr_mapped_entries(dd, &ref);
        if (i >= mapped_ents)
            break;
        check_sync(dd, dev, &ref, to_cpu);
    }
}

void debug_dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg, int nelems,
                               int direction)
{
    sync_sg(dev, sg, nelems, direction, true);
}

void debug_dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg, int nelems,
                                  int direction)
{
    sync_sg(dev, sg, nelems, direction, false);
}

/* ---- Whole-device views ---- */

void debug_dma_dump_mappings(struct device *dev)
{
    struct host_dma_debug *dd = dev ? dev->kernel->dma_debug : NULL;
    if (!dd)
        return;
    for (unsigned idx = 0; idx < dd->hash_size; idx++) {
        for (struct dd_entry *e = dd->hash[idx].head; e; e = e->next) {
            if (dev && dev != e->dev)
                continue;
            host_dev_printk(KERN_INFO, e->dev, "%s idx %u P=%llx N=%llx D=%llx L=%llx %s %s\n",
                            type2name[e->type], idx, (unsigned long long)phys_addr(e),
                            (unsigned long long)e->pfn, (unsigned long long)e->dev_addr,
                            (unsigned long long)e->size, dir2name[e->direction & 3],
                            maperr2str[e->map_err_type]);
        }
    }
}

/* device_dma_allocations: the count and the last entry in hash order */
static unsigned device_dma_allocations(const struct host_dma_debug *dd, const struct device *dev,
                                       const struct dd_entry **out)
{
    unsigned count = 0;
    for (unsigned i = 0; i < dd->hash_size; i++)
        for (const struct dd_entry *e = dd->hash[i].head; e; e = e->next)
            if (e->dev == dev) {
                count += 1;
                *out = e;
            }
    return count;
}

unsigned host_dma_debug_count(const struct device *dev)
{
    const struct host_dma_debug *dd = dev->kernel->dma_debug;
    const struct dd_entry *e = NULL;
    return dd ? device_dma_allocations(dd, dev, &e) : 0;
}

void host_dma_debug_unbound(struct device *dev)
{
    struct host_dma_debug *dd = dd_of(dev);
    if (!dd)
        return;
    const struct dd_entry *e = NULL;
    unsigned count = device_dma_allocations(dd, dev, &e);
    if (!count)
        return;
    err_printk(dd, dev, e,
               "device driver has pending DMA allocations while released from device "
               "[count=%u]\nOne of leaked entries details: [device address=0x%016llx] "
               "[size=%llu bytes] [mapped with %s] [mapped as %s]\n",
               count, (unsigned long long)e->dev_addr, (unsigned long long)e->size,
               dir2name[e->direction & 3], type2name[e->type]);
}

int host_dma_debug_get_stats(const struct host_kernel *k, struct host_dma_debug_stats *out)
{
    const struct host_dma_debug *dd = k->dma_debug;
    if (!dd)
        return -PCILAB_ENOENT;
    out->disabled = dd->global_disable;
    out->error_count = dd->error_count;
    out->all_errors = dd->show_all_errors;
    out->num_errors = dd->show_num_errors;
    out->num_free_entries = dd->num_free_entries;
    out->min_free_entries = dd->min_free_entries;
    out->nr_total_entries = dd->nr_total_entries;
    return 0;
}

void host_dma_debug_set_all_errors(struct host_kernel *k, uint32_t v)
{
    if (k->dma_debug)
        k->dma_debug->show_all_errors = v;
}

void host_dma_debug_set_num_errors(struct host_kernel *k, uint32_t v)
{
    if (k->dma_debug)
        k->dma_debug->show_num_errors = v;
}

static bool k_isalnum(char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static bool k_isspace(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

void host_dma_debug_set_driver_filter(struct host_kernel *k, const char *name)
{
    struct host_dma_debug *dd = k->dma_debug;
    if (!dd)
        return;
    /* filter_write: at most NAME_MAX_LEN - 1 bytes of the write */
    char buf[NAME_MAX_LEN];
    snprintf(buf, sizeof buf, "%s", name ? name : "");
    if (!k_isalnum(buf[0])) {
        if (dd->current_driver_name[0])
            DD_LOG(dd, KERN_INFO, "switching off dma-debug driver filter\n");
        dd->current_driver_name[0] = '\0';
        return;
    }
    int i;
    for (i = 0; i < NAME_MAX_LEN - 1; ++i) {
        dd->current_driver_name[i] = buf[i];
        if (k_isspace(buf[i]) || buf[i] == '\0')
            break;
    }
    dd->current_driver_name[i] = '\0';
    DD_LOG(dd, KERN_INFO, "enable driver filter for driver [%s]\n", dd->current_driver_name);
}
