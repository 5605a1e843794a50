/* The software IO TLB, per version. Read (trees in kver.c):
 *  4.9.80  lib/swiotlb.c: swiotlb_tbl_map_single, swiotlb_tbl_unmap_single,
 *          swiotlb_tbl_sync_single, swiotlb_full, swiotlb_map_page,
 *          swiotlb_print_info; include/linux/swiotlb.h
 *  4.20    kernel/dma/swiotlb.c: the same slot search; swiotlb_full and the
 *          overflow buffer are gone; pr_fmt "software IO TLB: "
 *  5.15    kernel/dma/swiotlb.c: swiotlb_find_slots (stride from
 *          min_align_mask / alloc_align_mask, the used count), slots[].alloc_size,
 *          swiotlb_bounce's bounds checks, swiotlb_release_slots
 *  6.1     kernel/dma/swiotlb.c: swiotlb_do_find_slots per io_tlb_area,
 *          swiotlb_find_slots from raw_smp_processor_id() & (nareas - 1),
 *          swiotlb_adjust_nareas, unconditional bounce on map
 *  lib/ratelimit.c ___ratelimit, include/linux/ratelimit.h (5 * HZ, burst 10),
 *  kernel/printk/printk.c printk_ratelimit_state (5 * HZ, 10),
 *  lib/iommu-helper.c iommu_is_span_boundary, lib/vsprintf.c (%p, %pa).
 *
 * The slot search, all versions: list[i] is the number of free slots from i
 * to the end of i's 128-slot segment, if they are all free (0 when i is
 * taken). A request of nslots = ceil(size / 2 KiB) fits at i when
 * list[i] >= nslots. The search starts at the index after the previous
 * allocation (io_tlb_index, mem->index, area->index), rounded up to the
 * stride, and walks by stride, wrapping once around the pool (area). stride is
 * 1 slot, or 2 slots (one 4 KiB page) for sizes >= PAGE_SIZE; 5.15+ also make
 * it (min_align_mask above 2 KiB >> 11) + 1 and (alloc_align_mask >> 11) + 1.
 * On allocation the free slots just before it in the same segment get their
 * counts lowered to end at the allocation; on release the freed slots and the
 * free run before them are renumbered, merging with the free run after them
 * when it is in the same segment. */
#include "host/swiotlb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/log.h"

#define PAGE_SIZE_ 4096u
#define INVALID_PHYS_ADDR (~(uint64_t)0)
#define DEFAULT_PAGE_OFFSET 0xffff880000000000ull

/* A slot as Linux keeps it (orig_addr, alloc_size, list), stored so that
 * all-zero bytes are the state swiotlb_init leaves it in (orig_addr
 * INVALID_PHYS_ADDR, list counting down to the end of its segment): the
 * table comes zeroed from calloc and its pages are touched only when slots
 * are used (the 64 MiB pool has 32,768 slots). Read and write the fields
 * through slot_list / set_list and slot_orig / set_orig. */
struct slot {
    uint64_t orig_x;   /* orig_addr ^ INVALID_PHYS_ADDR */
    size_t alloc_size; /* 5.15+ */
    unsigned list_x;   /* list ^ initial_list(i) */
};

static unsigned initial_list(unsigned long i)
{
    return HOST_IO_TLB_SEGSIZE - (unsigned)(i & (HOST_IO_TLB_SEGSIZE - 1));
}

struct area {
    unsigned long used;
    unsigned long index;
};

/* struct ratelimit_state */
struct ratelimit {
    bool begun;
    uint64_t begin; /* jiffies */
    unsigned printed, missed;
};

struct host_swiotlb {
    const struct host_kver *kv;
    struct mem_phys *mem;
    uint64_t start, end;
    unsigned long nslabs;
    struct slot *slots;
    unsigned nareas;          /* 1 before 6.1 */
    unsigned long area_nslabs;
    struct area *areas;       /* areas[0] is io_tlb_index / mem->index before 6.1 */
    uint64_t page_offset;
    struct host_log_sink log;
    struct ratelimit full_rl;
    bool warned_bounds;       /* dev_WARN_ONCE in swiotlb_bounce */
    uint8_t *bounce_buf;      /* HOST_SWIOTLB_MAX_MAPPING bytes of scratch */
};

static unsigned slot_list(const struct host_swiotlb *p, unsigned long i)
{
    return p->slots[i].list_x ^ initial_list(i);
}

static void set_list(struct host_swiotlb *p, unsigned long i, unsigned list)
{
    p->slots[i].list_x = list ^ initial_list(i);
}

static uint64_t slot_orig(const struct host_swiotlb *p, unsigned long i)
{
    return p->slots[i].orig_x ^ INVALID_PHYS_ADDR;
}

static void set_orig(struct host_swiotlb *p, unsigned long i, uint64_t orig)
{
    p->slots[i].orig_x = orig ^ INVALID_PHYS_ADDR;
}

static bool is_pow2(unsigned long v)
{
    return v && !(v & (v - 1));
}

static unsigned long roundup_pow2(unsigned long v)
{
    unsigned long p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

void host_swiotlb_adjust_nareas(unsigned long *nslabs, unsigned *nareas, unsigned want,
                                const struct host_log_sink *log)
{
    if (!want)
        want = 1;
    else if (!is_pow2(want))
        want = (unsigned)roundup_pow2(want);
    *nareas = want;
    host_logf(log, SIM_LOG_INFO, "software IO TLB: area num %u.", want);
    /* round_up_default_nslabs() */
    if (*nslabs < (unsigned long)HOST_IO_TLB_SEGSIZE * want)
        *nslabs = (unsigned long)HOST_IO_TLB_SEGSIZE * want;
    else if (is_pow2(*nslabs))
        return;
    *nslabs = roundup_pow2(*nslabs);
    host_logf(log, SIM_LOG_INFO, "software IO TLB: SWIOTLB bounce buffer size roundup to %luMB",
              (unsigned long)((*nslabs << HOST_IO_TLB_SHIFT) >> 20));
}

struct host_swiotlb *host_swiotlb_create(const struct host_swiotlb_config *cfg,
                                         struct pcilab_err *err)
{
    if (!cfg || !cfg->kv || !cfg->mem) {
        pcilab_errf(err, PCILAB_EINVAL, "swiotlb: no kernel version or no memory");
        return NULL;
    }
    const struct host_kver *kv = cfg->kv;
    unsigned long nslabs = cfg->nslabs;
    if (!nslabs)
        nslabs = (unsigned long)(HOST_IO_TLB_DEFAULT_SIZE >> HOST_IO_TLB_SHIFT);
    unsigned nareas = 1;
    if (kv->swiotlb_has_nareas) {
        nareas = cfg->nareas;
        if (!nareas)
            host_swiotlb_adjust_nareas(&nslabs, &nareas, cfg->ncpus ? cfg->ncpus : 1,
                                       &cfg->log);
        else if (!is_pow2(nareas))
            return pcilab_errf(err, PCILAB_EINVAL,
                               "swiotlb: %u areas is not a power of two", nareas),
                   NULL;
    }
    if (cfg->start & (PAGE_SIZE_ - 1)) {
        pcilab_errf(err, PCILAB_EINVAL, "swiotlb: base 0x%llx is not page aligned",
                    (unsigned long long)cfg->start);
        return NULL;
    }
    uint64_t bytes = (uint64_t)nslabs << HOST_IO_TLB_SHIFT;
    if (nslabs > (1ul << 30) || cfg->start + bytes < cfg->start) {
        pcilab_errf(err, PCILAB_ERANGE, "swiotlb: %lu slots at 0x%llx do not fit", nslabs,
                    (unsigned long long)cfg->start);
        return NULL;
    }
    struct host_swiotlb *p = calloc(1, sizeof *p);
    if (p) {
        p->slots = calloc(nslabs, sizeof *p->slots);
        p->areas = calloc(nareas, sizeof *p->areas);
        p->bounce_buf = malloc(HOST_SWIOTLB_MAX_MAPPING);
    }
    if (!p || !p->slots || !p->areas || !p->bounce_buf) {
        host_swiotlb_destroy(p);
        pcilab_errf(err, PCILAB_ENOMEM, "swiotlb: no memory for %lu slots", nslabs);
        return NULL;
    }
    p->kv = kv;
    p->mem = cfg->mem;
    p->start = cfg->start;
    p->end = cfg->start + bytes;
    p->nslabs = nslabs;
    p->nareas = nareas;
    p->area_nslabs = nslabs / nareas;
    p->page_offset = cfg->page_offset ? cfg->page_offset : DEFAULT_PAGE_OFFSET;
    p->log = cfg->log;
    /* every slot free, no original address: the zeroed table (struct slot) */
    /* swiotlb_init_io_tlb_mem: memset(vaddr, 0, bytes) (4.x: memblock memory,
     * zero too). Filling with 0 materialises nothing. */
    if (mem_phys_fill(p->mem, p->start, 0, bytes, err) != 0) {
        host_swiotlb_destroy(p);
        return NULL;
    }
    return p;
}

void host_swiotlb_destroy(struct host_swiotlb *p)
{
    if (!p)
        return;
    free(p->slots);
    free(p->areas);
    free(p->bounce_buf);
    free(p);
}

void host_swiotlb_print_info(const struct host_swiotlb *p)
{
    unsigned long mb = (unsigned long)(((uint64_t)p->nslabs << HOST_IO_TLB_SHIFT) >> 20);
    unsigned long long s = p->start, e = p->end;
    switch (p->kv->swiotlb_info) {
    case HOST_SWIOTLB_INFO_4_9:
        /* %#010llx and %p (4.9: the raw pointer, 16 hex digits, no 0x) of
         * phys_to_virt(start) and phys_to_virt(end) - 1 */
        host_logf(&p->log, SIM_LOG_INFO,
                  "software IO TLB [mem 0x%08llx-0x%08llx] (%luMB) mapped at [%016llx-%016llx]",
                  s, e, mb, (unsigned long long)(p->page_offset + s),
                  (unsigned long long)(p->page_offset + e - 1));
        break;
    case HOST_SWIOTLB_INFO_4_20:
        host_logf(&p->log, SIM_LOG_INFO,
                  "software IO TLB: mapped [mem 0x%08llx-0x%08llx] (%luMB)", s, e, mb);
        break;
    case HOST_SWIOTLB_INFO_PA:
        host_logf(&p->log, SIM_LOG_INFO,
                  "software IO TLB: mapped [mem 0x%016llx-0x%016llx] (%luMB)", s, e, mb);
        break;
    }
}

/* ---- helpers ---------------------------------------------------------- */

static unsigned long nr_slots(uint64_t v)
{
    return (unsigned long)((v + HOST_IO_TLB_SIZE - 1) >> HOST_IO_TLB_SHIFT);
}

static unsigned io_tlb_offset(long i)
{
    return (unsigned)((unsigned long)i & (HOST_IO_TLB_SEGSIZE - 1));
}

static unsigned long align_up(unsigned long v, unsigned long a)
{
    return (v + a - 1) / a * a;
}

static uint64_t seg_boundary(const struct host_swiotlb_dev *dev)
{
    return dev->seg_boundary_mask ? dev->seg_boundary_mask : 0xffffffffull;
}

/* lib/iommu-helper.c: true when [index, index + nr) crosses a boundary of
 * boundary_size slots, counted from shift. */
static bool iommu_is_span_boundary(unsigned long index, unsigned long nr,
                                   unsigned long shift, unsigned long boundary_size)
{
    shift = (index + shift) & (boundary_size - 1);
    return shift + nr > boundary_size;
}

static unsigned long get_max_slots(uint64_t mask)
{
    if (mask == ~(uint64_t)0)
        return 1ul << (64 - HOST_IO_TLB_SHIFT);
    return nr_slots(mask + 1);
}

/* swiotlb_align_offset (5.15+) */
static unsigned align_offset(const struct host_swiotlb *p, const struct host_swiotlb_dev *dev,
                             uint64_t addr)
{
    if (p->kv->swiotlb < HOST_SWIOTLB_5_15)
        return 0;
    return (unsigned)(addr & dev->min_align_mask & (HOST_IO_TLB_SIZE - 1));
}

static int copy_phys(struct host_swiotlb *p, uint64_t dst, uint64_t src, size_t size,
                     struct pcilab_err *err)
{
    while (size) {
        size_t n = size < HOST_SWIOTLB_MAX_MAPPING ? size : HOST_SWIOTLB_MAX_MAPPING;
        int r = mem_phys_read(p->mem, src, p->bounce_buf, n, err);
        if (!r)
            r = mem_phys_write(p->mem, dst, p->bounce_buf, n, err);
        if (r)
            return r;
        dst += n;
        src += n;
        size -= n;
    }
    return 0;
}

/* swiotlb_bounce. 4.x: the caller passes the original address; 5.15+: taken
 * from the slot, with its bounds checks (dev_WARN_ONCE; the message is sent
 * once per pool). to_device copies original -> bounce. */
static int bounce(struct host_swiotlb *p, const struct host_swiotlb_dev *dev,
                  uint64_t orig_4x, uint64_t tlb_addr, size_t size, bool to_device,
                  struct pcilab_err *err)
{
    uint64_t orig = orig_4x;
    if (p->kv->swiotlb >= HOST_SWIOTLB_5_15) {
        unsigned long index = (unsigned long)((tlb_addr - p->start) >> HOST_IO_TLB_SHIFT);
        orig = slot_orig(p, index);
        size_t alloc_size = p->slots[index].alloc_size;
        if (orig == INVALID_PHYS_ADDR)
            return 0;
        unsigned tlb_offset = (unsigned)(tlb_addr & (HOST_IO_TLB_SIZE - 1));
        unsigned orig_off = align_offset(p, dev, orig);
        if (tlb_offset < orig_off) {
            if (!p->warned_bounds) {
                p->warned_bounds = true;
                host_logf(&p->log, SIM_LOG_WARNING,
                          "%s %s: Access before mapping start detected. orig offset %u, "
                          "requested offset %u.", dev->driver, dev->name, orig_off,
                          tlb_offset);
            }
            return 0;
        }
        tlb_offset -= orig_off;
        if (tlb_offset > alloc_size) {
            if (!p->warned_bounds) {
                p->warned_bounds = true;
                host_logf(&p->log, SIM_LOG_WARNING,
                          "%s %s: Buffer overflow detected. Allocation size: %zu. "
                          "Mapping size: %zu+%u.", dev->driver, dev->name, alloc_size,
                          size, tlb_offset);
            }
            return 0;
        }
        orig += tlb_offset;
        alloc_size -= tlb_offset;
        if (size > alloc_size) {
            if (!p->warned_bounds) {
                p->warned_bounds = true;
                host_logf(&p->log, SIM_LOG_WARNING,
                          "%s %s: Buffer overflow detected. Allocation size: %zu. "
                          "Mapping size: %zu.", dev->driver, dev->name, alloc_size, size);
            }
            size = alloc_size;
        }
    }
    return to_device ? copy_phys(p, tlb_addr, orig, size, err)
                     : copy_phys(p, orig, tlb_addr, size, err);
}

/* Marks [index, index + nslots) taken and renumbers the free run before it. */
static void take_slots(struct host_swiotlb *p, unsigned long index, unsigned long nslots)
{
    unsigned count = 0;
    for (unsigned long i = index; i < index + nslots; i++)
        set_list(p, i, 0);
    for (long i = (long)index - 1;
         i >= 0 && io_tlb_offset(i) != HOST_IO_TLB_SEGSIZE - 1 && slot_list(p, i); i--)
        set_list(p, i, ++count);
}

/* 4.9 / 4.20 swiotlb_tbl_map_single's search (io_tlb_index in areas[0]). */
static long find_slots_4x(struct host_swiotlb *p, const struct host_swiotlb_dev *dev,
                          size_t size)
{
    uint64_t mask = seg_boundary(dev);
    uint64_t tbl_dma_addr = p->start & mask;
    unsigned long offset_slots = nr_slots(tbl_dma_addr);
    unsigned long max_slots = get_max_slots(mask);
    unsigned long nslots = nr_slots(size);
    unsigned long stride = size >= PAGE_SIZE_ ? PAGE_SIZE_ >> HOST_IO_TLB_SHIFT : 1;
    unsigned long index = align_up(p->areas[0].index, stride);
    if (index >= p->nslabs)
        index = 0;
    unsigned long wrap = index;
    do {
        while (iommu_is_span_boundary(index, nslots, offset_slots, max_slots)) {
            index += stride;
            if (index >= p->nslabs)
                index = 0;
            if (index == wrap)
                return -1;
        }
        if (slot_list(p, index) >= nslots) {
            take_slots(p, index, nslots);
            p->areas[0].index = index + nslots < p->nslabs ? index + nslots : 0;
            p->areas[0].used += nslots;
            return (long)index;
        }
        index += stride;
        if (index >= p->nslabs)
            index = 0;
    } while (index != wrap);
    return -1;
}

/* 5.15 swiotlb_find_slots, and 6.1 swiotlb_do_find_slots for one area (5.15 is
 * the case of one area covering the pool). alloc_size includes the offset. */
static long find_slots_area(struct host_swiotlb *p, const struct host_swiotlb_dev *dev,
                            unsigned a, uint64_t orig, size_t alloc_size, unsigned offset)
{
    struct area *area = &p->areas[a];
    uint64_t mask = seg_boundary(dev);
    uint64_t tbl_dma_addr = p->start & mask;
    unsigned long max_slots = get_max_slots(mask);
    uint64_t iotlb_align_mask = dev->min_align_mask & ~(uint64_t)(HOST_IO_TLB_SIZE - 1);
    unsigned long nslots = nr_slots(alloc_size);
    unsigned long stride = (unsigned long)(iotlb_align_mask >> HOST_IO_TLB_SHIFT) + 1;
    if (alloc_size >= PAGE_SIZE_) {
        unsigned long s2 = stride << (12 - HOST_IO_TLB_SHIFT);
        stride = stride > s2 ? stride : s2;
    }
    unsigned long s3 = (dev->alloc_align_mask >> HOST_IO_TLB_SHIFT) + 1;
    stride = stride > s3 ? stride : s3;

    if (nslots > p->area_nslabs - area->used)
        return -1;
    unsigned long base = (unsigned long)a * p->area_nslabs;
    unsigned long index = align_up(area->index, stride);
    if (index >= p->area_nslabs)
        index = 0;
    unsigned long wrap = index, slot_index;
    do {
        slot_index = base + index;
        if (orig && ((tbl_dma_addr + ((uint64_t)slot_index << HOST_IO_TLB_SHIFT)) &
                     iotlb_align_mask) != (orig & iotlb_align_mask)) {
            index = index + 1 >= p->area_nslabs ? 0 : index + 1;
            continue;
        }
        if (!iommu_is_span_boundary(slot_index, nslots, nr_slots(tbl_dma_addr), max_slots) &&
            slot_list(p, slot_index) >= nslots) {
            take_slots(p, slot_index, nslots);
            for (unsigned long i = slot_index; i < slot_index + nslots; i++)
                p->slots[i].alloc_size =
                    alloc_size - (offset + ((i - slot_index) << HOST_IO_TLB_SHIFT));
            area->index = index + nslots < p->area_nslabs ? index + nslots : 0;
            area->used += nslots;
            return (long)slot_index;
        }
        index = index + stride >= p->area_nslabs ? 0 : index + stride;
    } while (index != wrap);
    return -1;
}

static unsigned long jiffies(const struct host_swiotlb *p, sim_time_t now)
{
    return (unsigned long)(now / (SIM_S / p->kv->hz));
}

/* ___ratelimit with interval 5 * HZ and burst 10. The caller's function name
 * is swiotlb_tbl_map_single in every version. */
static bool ratelimit(struct host_swiotlb *p, sim_time_t now)
{
    struct ratelimit *rs = &p->full_rl;
    unsigned long j = jiffies(p, now);
    unsigned long interval = 5ul * p->kv->hz;
    if (!rs->begun) {
        rs->begun = true;
        rs->begin = j;
    }
    if (j > rs->begin + interval) { /* time_is_before_jiffies(begin + interval) */
        if (rs->missed) {
            host_logf(&p->log, SIM_LOG_WARNING, "swiotlb_tbl_map_single: %u callbacks suppressed",
                      rs->missed);
            rs->missed = 0;
        }
        rs->begin = j;
        rs->printed = 0;
    }
    if (rs->printed < 10) {
        rs->printed++;
        return true;
    }
    rs->missed++;
    return false;
}

static unsigned long used_slots(const struct host_swiotlb *p)
{
    unsigned long u = 0;
    for (unsigned a = 0; a < p->nareas; a++)
        u += p->areas[a].used;
    return u;
}

int host_swiotlb_map(struct host_swiotlb *p, const struct host_swiotlb_dev *dev,
                     uint64_t orig, size_t size, enum host_dma_dir dir,
                     unsigned long attrs, sim_time_t now,
                     struct host_swiotlb_mapping *out, struct pcilab_err *err)
{
    if (!p || !dev || !out)
        return pcilab_errf(err, PCILAB_EINVAL, "swiotlb map: missing argument");
    out->tlb_addr = 0;
    out->panic = NULL;
    if (size == 0 || dir == HOST_DMA_NONE || (unsigned)dir > HOST_DMA_NONE)
        return pcilab_errf(err, PCILAB_EINVAL, "swiotlb map: size %zu, direction %d", size,
                           (int)dir); /* Linux: BUG_ON(!nslots) / BUG_ON(dir == DMA_NONE) */
    const struct host_kver *kv = p->kv;
    unsigned offset = align_offset(p, dev, orig);
    long index = -1;
    if (kv->swiotlb <= HOST_SWIOTLB_4_20) {
        index = find_slots_4x(p, dev, size);
    } else {
        /* 6.1: start at the caller's CPU's area and try every area once */
        unsigned start = kv->swiotlb == HOST_SWIOTLB_6_1 ? dev->cpu & (p->nareas - 1) : 0;
        unsigned a = start;
        do {
            index = find_slots_area(p, dev, a, orig, size + offset, offset);
            if (index >= 0)
                break;
            if (++a >= p->nareas)
                a = 0;
        } while (a != start);
    }

    if (index < 0) {
        bool warn = kv->swiotlb == HOST_SWIOTLB_4_9 || !(attrs & HOST_DMA_ATTR_NO_WARN);
        if (warn && ratelimit(p, now)) {
            if (kv->swiotlb_full == HOST_SWIOTLB_FULL_SZ)
                host_logf(&p->log, SIM_LOG_WARNING,
                          "%s %s: swiotlb buffer is full (sz: %zu bytes)", dev->driver,
                          dev->name, size);
            else
                host_logf(&p->log, SIM_LOG_WARNING,
                          "%s %s: swiotlb buffer is full (sz: %zu bytes), total %lu (slots), "
                          "used %lu (slots)", dev->driver, dev->name, size, p->nslabs,
                          used_slots(p));
        }
        if (kv->swiotlb_out_of_space_msg) {
            /* 4.9 swiotlb_map_page -> swiotlb_full(dev, size, dir, 1) */
            host_logf(&p->log, SIM_LOG_ERR, "DMA: Out of SW-IOMMU space for %zu bytes at device %s",
                      size, dev->name);
            if (size > HOST_IO_TLB_OVERFLOW) {
                if (dir == HOST_DMA_BIDIRECTIONAL)
                    out->panic = "DMA: Random memory could be DMA accessed";
                else if (dir == HOST_DMA_FROM_DEVICE)
                    out->panic = "DMA: Random memory could be DMA written";
                else
                    out->panic = "DMA: Random memory could be DMA read";
            }
        }
        return pcilab_errf(err, PCILAB_ENOMEM,
                           "swiotlb buffer is full (sz: %zu bytes), total %lu (slots), used "
                           "%lu (slots)", size, p->nslabs, used_slots(p));
    }

    unsigned long n = kv->swiotlb <= HOST_SWIOTLB_4_20 ? nr_slots(size) : nr_slots(size + offset);
    for (unsigned long i = 0; i < n; i++)
        set_orig(p, index + (long)i, orig + ((uint64_t)i << HOST_IO_TLB_SHIFT));
    uint64_t tlb_addr = p->start + ((uint64_t)index << HOST_IO_TLB_SHIFT) + offset;
    bool copy;
    if (kv->swiotlb_map_bounces_always)
        copy = true;
    else if (kv->swiotlb == HOST_SWIOTLB_4_9)
        copy = dir == HOST_DMA_TO_DEVICE || dir == HOST_DMA_BIDIRECTIONAL;
    else
        copy = !(attrs & HOST_DMA_ATTR_SKIP_CPU_SYNC) &&
               (dir == HOST_DMA_TO_DEVICE || dir == HOST_DMA_BIDIRECTIONAL);
    if (copy) {
        int r = bounce(p, dev, orig, tlb_addr, size, true, err);
        if (r)
            return r;
    }
    out->tlb_addr = tlb_addr;
    return 0;
}

/* The slot index of a mapped tlb_addr, or -1. */
static long mapped_index(const struct host_swiotlb *p, uint64_t tlb_addr)
{
    if (tlb_addr < p->start || tlb_addr >= p->end)
        return -1;
    long index = (long)((tlb_addr - p->start) >> HOST_IO_TLB_SHIFT);
    if (slot_orig(p, index) == INVALID_PHYS_ADDR)
        return -1;
    return index;
}

int host_swiotlb_unmap(struct host_swiotlb *p, const struct host_swiotlb_dev *dev,
                       uint64_t tlb_addr, size_t size, enum host_dma_dir dir,
                       unsigned long attrs, struct pcilab_err *err)
{
    if (!p || !dev)
        return pcilab_errf(err, PCILAB_EINVAL, "swiotlb unmap: missing argument");
    if (dir == HOST_DMA_NONE || (unsigned)dir > HOST_DMA_NONE)
        return pcilab_errf(err, PCILAB_EINVAL, "swiotlb unmap: direction %d", (int)dir);
    const struct host_kver *kv = p->kv;
    long index = mapped_index(p, tlb_addr);
    if (index < 0)
        return pcilab_errf(err, PCILAB_ERANGE,
                           "swiotlb unmap: 0x%llx is not a mapped bounce buffer",
                           (unsigned long long)tlb_addr);
    bool back = (dir == HOST_DMA_FROM_DEVICE || dir == HOST_DMA_BIDIRECTIONAL) &&
                (kv->swiotlb == HOST_SWIOTLB_4_9 || !(attrs & HOST_DMA_ATTR_SKIP_CPU_SYNC));
    unsigned long nslots;
    if (kv->swiotlb <= HOST_SWIOTLB_4_20) {
        /* 4.x: the original of the slot holding tlb_addr, not offset; the
         * count from the size the caller passes */
        if (back) {
            int r = bounce(p, dev, slot_orig(p, index), tlb_addr, size, false, err);
            if (r)
                return r;
        }
        nslots = nr_slots(size);
    } else {
        if (back) {
            int r = bounce(p, dev, 0, tlb_addr, size, false, err);
            if (r)
                return r;
        }
        /* swiotlb_release_slots: the count from the slot's alloc_size */
        unsigned offset = align_offset(p, dev, tlb_addr);
        index = (long)((tlb_addr - offset - p->start) >> HOST_IO_TLB_SHIFT);
        nslots = nr_slots(p->slots[index].alloc_size + offset);
    }
    if (nslots == 0 || (unsigned long)index + nslots > p->nslabs)
        return pcilab_errf(err, PCILAB_ERANGE, "swiotlb unmap: %lu slots at slot %ld", nslots,
                           index);
    unsigned count = 0;
    unsigned long next = (unsigned long)index + nslots;
    if (next < align_up((unsigned long)index + 1, HOST_IO_TLB_SEGSIZE))
        count = slot_list(p, next);
    for (long i = index + (long)nslots - 1; i >= index; i--) {
        set_list(p, i, ++count);
        set_orig(p, i, INVALID_PHYS_ADDR);
        p->slots[i].alloc_size = 0;
    }
    for (long i = index - 1;
         i >= 0 && io_tlb_offset(i) != HOST_IO_TLB_SEGSIZE - 1 && slot_list(p, i); i--)
        set_list(p, i, ++count);
    unsigned a = (unsigned)((unsigned long)index / p->area_nslabs);
    if (a >= p->nareas)
        a = p->nareas - 1;
    p->areas[a].used -= nslots;
    return 0;
}

static int sync(struct host_swiotlb *p, const struct host_swiotlb_dev *dev, uint64_t tlb_addr,
                size_t size, enum host_dma_dir dir, bool for_cpu, struct pcilab_err *err)
{
    if (!p || !dev)
        return pcilab_errf(err, PCILAB_EINVAL, "swiotlb sync: missing argument");
    long index = mapped_index(p, tlb_addr);
    if (index < 0)
        return pcilab_errf(err, PCILAB_ERANGE,
                           "swiotlb sync: 0x%llx is not a mapped bounce buffer",
                           (unsigned long long)tlb_addr);
    enum host_dma_dir copy_dir = for_cpu ? HOST_DMA_FROM_DEVICE : HOST_DMA_TO_DEVICE;
    enum host_dma_dir other = for_cpu ? HOST_DMA_TO_DEVICE : HOST_DMA_FROM_DEVICE;
    if (dir != copy_dir && dir != HOST_DMA_BIDIRECTIONAL) {
        if (dir == other)
            return 0;
        return pcilab_errf(err, PCILAB_EINVAL,
                           "swiotlb sync for %s with direction %d: Linux would BUG()",
                           for_cpu ? "cpu" : "device", (int)dir);
    }
    uint64_t orig = 0;
    if (p->kv->swiotlb <= HOST_SWIOTLB_4_20)
        orig = slot_orig(p, index) + (tlb_addr & (HOST_IO_TLB_SIZE - 1));
    return bounce(p, dev, orig, tlb_addr, size, !for_cpu, err);
}

int host_swiotlb_sync_for_cpu(struct host_swiotlb *p, const struct host_swiotlb_dev *dev,
                              uint64_t tlb_addr, size_t size, enum host_dma_dir dir,
                              struct pcilab_err *err)
{
    return sync(p, dev, tlb_addr, size, dir, true, err);
}

int host_swiotlb_sync_for_device(struct host_swiotlb *p,
                                 const struct host_swiotlb_dev *dev, uint64_t tlb_addr,
                                 size_t size, enum host_dma_dir dir,
                                 struct pcilab_err *err)
{
    return sync(p, dev, tlb_addr, size, dir, false, err);
}

bool host_swiotlb_owns(const struct host_swiotlb *p, uint64_t pa)
{
    return pa >= p->start && pa < p->end;
}

uint64_t host_swiotlb_start(const struct host_swiotlb *p) { return p->start; }
uint64_t host_swiotlb_end(const struct host_swiotlb *p) { return p->end; }
unsigned long host_swiotlb_nslabs(const struct host_swiotlb *p) { return p->nslabs; }
unsigned long host_swiotlb_used(const struct host_swiotlb *p) { return used_slots(p); }
unsigned host_swiotlb_nareas(const struct host_swiotlb *p) { return p->nareas; }

unsigned host_swiotlb_slot_list(const struct host_swiotlb *p, unsigned long i)
{
    return i < p->nslabs ? slot_list(p, i) : 0;
}

unsigned long host_swiotlb_next_index(const struct host_swiotlb *p, unsigned a)
{
    return a < p->nareas ? p->areas[a].index : 0;
}

int host_swiotlb_pick_base(const struct host_mem_range *ram, size_t nram,
                           const struct host_mem_range *reserved, size_t nreserved,
                           uint64_t bytes, uint64_t *base, struct pcilab_err *err)
{
    /* PAGE_ALIGN(bytes), as swiotlb_init asks */
    bytes = (bytes + PAGE_SIZE_ - 1) & ~(uint64_t)(PAGE_SIZE_ - 1);
    bool found = false;
    uint64_t best = 0;
    /* Every free stretch: a RAM range cut by the reserved ranges. The
     * candidate of a stretch [s, e) is round_down(min(e, limit) - bytes,
     * PAGE_SIZE) when it is >= s; top-down keeps the highest. */
    for (size_t r = 0; r < nram; r++) {
        uint64_t s = ram[r].base, e = ram[r].base + ram[r].size;
        /* walk the stretch from the top, stepping below each reserved range
         * that overlaps it */
        uint64_t top = e;
        while (top > s) {
            uint64_t lo = s;
            /* the highest reserved range overlapping [s, top) */
            bool cut = false;
            uint64_t cut_lo = 0, cut_hi = 0;
            for (size_t k = 0; k < nreserved; k++) {
                uint64_t rs = reserved[k].base, re = reserved[k].base + reserved[k].size;
                if (re > s && rs < top && (!cut || re > cut_hi)) {
                    cut = true;
                    cut_lo = rs;
                    cut_hi = re;
                }
            }
            if (cut) {
                if (cut_hi >= top) { /* the top itself is reserved */
                    top = cut_lo > s ? cut_lo : s;
                    continue;
                }
                lo = cut_hi;
            }
            uint64_t end = top < HOST_ARCH_LOW_ADDRESS_LIMIT ? top : HOST_ARCH_LOW_ADDRESS_LIMIT;
            if (end > lo && end - lo >= bytes) {
                uint64_t cand = (end - bytes) & ~(uint64_t)(PAGE_SIZE_ - 1);
                if (cand >= lo && (!found || cand > best)) {
                    found = true;
                    best = cand;
                }
            }
            if (!cut)
                break;
            top = cut_lo > s ? cut_lo : s;
        }
    }
    if (!found)
        return pcilab_errf(err, PCILAB_ENOMEM,
                           "swiotlb: no free %llu bytes of RAM below 4 GiB for the pool",
                           (unsigned long long)bytes);
    *base = best;
    return 0;
}
