/* The DMA API (dma.h). */
#include "host/dma.h"

#include <errno.h>
#include <string.h>

#include "host/dma_debug.h"
#include "host/swiotlb.h"

/* ---- The direct back-end ---- */

/* dma_alloc_coherent_gfp_flags (arch/x86, 4.9) / dma_direct_optimal_gfp_mask
 * (5.x): the zone the mask can reach. */
static gfp_t zone_for_mask(uint64_t mask, gfp_t gfp)
{
    gfp &= ~(GFP_DMA | GFP_DMA32);
    if (mask <= DMA_BIT_MASK(24))
        return gfp | GFP_DMA;
    if (mask <= DMA_BIT_MASK(32))
        return gfp | GFP_DMA32;
    return gfp;
}

static void *direct_alloc(struct device *dev, size_t size, dma_addr_t *handle, gfp_t gfp)
{
    struct host_kernel *k = dev->kernel;
    uint64_t mask = dev->coherent_dma_mask;
    unsigned order = host_get_order(size);
    gfp = zone_for_mask(mask, gfp);
    for (;;) {
        uint64_t pa;
        void *p = host_alloc_pages(k, gfp | __GFP_ZERO, order, &pa);
        if (!p)
            return NULL;
        if (pa + size - 1 <= mask) {
            *handle = pa;
            return p;
        }
        host_free_pages(k, p, order);
        /* dma_generic_alloc_coherent: below 32 bits, try ZONE_DMA once */
        if (mask < DMA_BIT_MASK(32) && !(gfp & GFP_DMA)) {
            gfp = (gfp & ~GFP_DMA32) | GFP_DMA;
            continue;
        }
        return NULL;
    }
}

static void direct_free(struct device *dev, size_t size, void *cpu_addr, dma_addr_t handle)
{
    (void)handle;
    host_free_pages(dev->kernel, cpu_addr, host_get_order(size));
}

/* %pad: dma_addr_t as 0x and 16 hex digits (lib/vsprintf.c special_hex_number). */
#define PAD_FMT "0x%016llx"

/* A streaming mapping the device's mask cannot reach, on the direct path:
 * what each version prints and returns (kver.h enum host_dma_overflow). */
static dma_addr_t direct_overflow(struct device *dev, uint64_t phys, size_t size,
                                  const char *caller)
{
    struct host_kernel *k = dev->kernel;
    uint64_t mask = dev->dma_mask ? *dev->dma_mask : 0;
    switch (k->kver->dma_overflow) {
    case HOST_DMA_OVF_NOMMU:
        /* pci-nommu.c check_addr: only for masks of 32 bits and more */
        if (mask >= DMA_BIT_MASK(32))
            host_printk(k, KERN_ERR "nommu_%s: overflow %llx+%zu of device mask %llx\n",
                        caller, (unsigned long long)phys, size, (unsigned long long)mask);
        break;
    case HOST_DMA_OVF_DIRECT:
        /* direct.c check_addr: the caller is the DMA API function; no bus mask */
        if (mask >= DMA_BIT_MASK(32))
            host_dev_printk(KERN_ERR, dev,
                            "dma_direct_%s: overflow " PAD_FMT "+%zu of device mask %llx bus "
                            "mask %llx\n", strcmp(caller, "map_sg") ? "map_page" : "map_sg",
                            (unsigned long long)phys, size, (unsigned long long)mask, 0ull);
        break;
    case HOST_DMA_OVF_SWIOTLB:
        if (k->bootparams.swiotlb_force != HOST_SWIOTLB_NO_FORCE) {
            /* swiotlb_map with the empty default pool: swiotlb_find_slots
             * finds no slot (dev_warn_ratelimited) */
            host_dev_printk(KERN_WARNING, dev,
                            "swiotlb buffer is full (sz: %zu bytes), total 0 (slots), used 0 "
                            "(slots)\n", size);
            break;
        }
        /* fall through: swiotlb=noforce reaches the warning */
        /* FALLTHROUGH */
    case HOST_DMA_OVF_WARN:
        /* dev_WARN_ONCE: once per boot, the message inside a WARNING */
        if (!k->dma_overflow_warned) {
            k->dma_overflow_warned = true;
            host_printk(k, KERN_WARNING "------------[ cut here ]------------\n");
            host_printk(k, KERN_WARNING "%s %s: DMA addr " PAD_FMT "+%zu overflow (mask %llx, "
                        "bus limit %llx).\n", dev->driver_name ? dev->driver_name : dev->bus_name,
                        dev->name, (unsigned long long)phys, size, (unsigned long long)mask, 0ull);
        }
        break;
    }
    return host_dma_error_code(dev);
}

static dma_addr_t direct_map(struct device *dev, uint64_t phys, size_t size,
                             enum dma_data_direction dir)
{
    (void)dir;
    uint64_t mask = dev->dma_mask ? *dev->dma_mask : 0;
    if (size && phys + size - 1 > mask)
        return direct_overflow(dev, phys, size, "map_single");
    return phys;
}

static bool direct_supported(struct device *dev, uint64_t mask)
{
    (void)dev;
    /* x86_dma_supported (4.9), dma_direct_supported (5.x): 24 bits at least,
     * ZONE_DMA's reach */
    return mask >= DMA_BIT_MASK(24);
}

const struct host_dma_ops host_dma_direct_ops = {
    .name = "direct",
    .alloc = direct_alloc,
    .free = direct_free,
    .map_phys = direct_map,
    .supported = direct_supported,
};

void host_dma_set_ops(struct device *dev, const struct host_dma_ops *ops)
{
    dev->dma_ops = ops;
}

const struct host_dma_ops *host_dma_get_ops(const struct device *dev)
{
    return dev->dma_ops ? dev->dma_ops : &host_dma_direct_ops;
}

dma_addr_t host_dma_error_code(const struct device *dev)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (ops->error_code)
        return ops->error_code(dev);
    /* DMA_ERROR_CODE 0 (x86, 4.9); DIRECT_MAPPING_ERROR / DMA_MAPPING_ERROR ~0 */
    return dev->kernel->kver->dma_direct_error_zero ? 0 : DMA_MAPPING_ERROR;
}

/* ---- Masks ---- */

int dma_supported(struct device *dev, uint64_t mask)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    return ops->supported ? ops->supported(dev, mask) : 1;
}

int dma_set_mask(struct device *dev, uint64_t mask)
{
    if (!dev->dma_mask || !dma_supported(dev, mask))
        return -EIO;
    *dev->dma_mask = mask;
    return 0;
}

int dma_set_coherent_mask(struct device *dev, uint64_t mask)
{
    if (!dma_supported(dev, mask))
        return -EIO;
    dev->coherent_dma_mask = mask;
    return 0;
}

int dma_set_mask_and_coherent(struct device *dev, uint64_t mask)
{
    int r = dma_set_mask(dev, mask);
    if (r == 0)
        dma_set_coherent_mask(dev, mask);
    return r;
}

uint64_t dma_get_mask(const struct device *dev)
{
    if (dev->dma_mask && *dev->dma_mask)
        return *dev->dma_mask;
    return DMA_BIT_MASK(32);
}

/* ---- The watch (dma.h): one test when none is installed ---- */

void host_dma_set_watch(struct host_kernel *k, const struct host_dma_watch *w, void *ctx)
{
    k->dma_watch = w;
    k->dma_watch_ctx = w ? ctx : NULL;
}

static void watch_map(struct device *dev, uint64_t phys, dma_addr_t a, size_t size,
                      enum dma_data_direction dir, bool coherent)
{
    struct host_kernel *k = dev->kernel;
    if (k->dma_watch && a != host_dma_error_code(dev))
        k->dma_watch->map(k->dma_watch_ctx, dev, phys, a, size, dir, coherent);
}

static void watch_unmap(struct device *dev, dma_addr_t a, size_t size,
                        enum dma_data_direction dir, bool coherent)
{
    struct host_kernel *k = dev->kernel;
    if (k->dma_watch)
        k->dma_watch->unmap(k->dma_watch_ctx, dev, a, size, dir, coherent);
}

/* ---- Coherent ---- */

void *dma_alloc_coherent(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp)
{
    if (!size) {
        *dma_handle = host_dma_error_code(dev);
        return NULL;
    }
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    void *p = ops->alloc(dev, size, dma_handle, gfp);
    if (!p)
        *dma_handle = host_dma_error_code(dev);
    else if (dev->kernel->dma_watch)
        watch_map(dev, host_virt_to_phys(dev->kernel, p), *dma_handle, size, DMA_BIDIRECTIONAL,
                  true);
    if (dev->kernel->dma_debug)
        debug_dma_alloc_coherent(dev, size, *dma_handle, p);
    return p;
}

void *dma_zalloc_coherent(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp)
{
    return dma_alloc_coherent(dev, size, dma_handle, gfp | __GFP_ZERO);
}

void dma_free_coherent(struct device *dev, size_t size, void *cpu_addr, dma_addr_t dma_handle)
{
    if (!cpu_addr)
        return;
    if (dev->kernel->dma_debug)
        debug_dma_free_coherent(dev, size, cpu_addr, dma_handle);
    watch_unmap(dev, dma_handle, size, DMA_BIDIRECTIONAL, true);
    host_dma_get_ops(dev)->free(dev, size, cpu_addr, dma_handle);
}

/* ---- Streaming ---- */

static bool valid_dir(enum dma_data_direction dir)
{
    return dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE || dir == DMA_FROM_DEVICE;
}

/* Memory the kernel did not allocate: Linux maps whatever page virt_to_page
 * makes of it (a wrong one); pcilab cannot, and refuses with a line of its
 * own. A driver's stack is vmalloc memory (CONFIG_VMAP_STACK): 5.10+ rejects
 * it first with a dev_WARN_ONCE (include/linux/dma-mapping.h
 * dma_map_single_attrs), debugging or not; otherwise debugging (4.20+)
 * reports the area before the mapping. */
static dma_addr_t map_foreign(struct device *dev, void *ptr, size_t size)
{
    struct host_kernel *k = dev->kernel;
    if (k->kver->dma_map_single_rejects_vmalloc && host_is_vmalloc_addr(ptr)) {
        if (!k->dma_vmalloc_warned) {
            k->dma_vmalloc_warned = true;
            host_printk(k, KERN_WARNING "------------[ cut here ]------------\n");
            host_printk(k, "%s %s: rejecting DMA map of vmalloc memory\n",
                        dev->driver_name ? dev->driver_name : dev->bus_name, dev->name);
        }
        return DMA_MAPPING_ERROR;
    }
    if (k->dma_debug)
        debug_dma_map_single(dev, ptr, size);
    host_dev_printk(KERN_ERR, dev,
                    "dma_map_single: %p is not memory the kernel allocated (stack or "
                    "static data?)\n", ptr);
    return host_dma_error_code(dev);
}

dma_addr_t dma_map_single(struct device *dev, void *ptr, size_t size,
                          enum dma_data_direction dir)
{
    if (!valid_dir(dir)) {
        host_dev_printk(KERN_ERR, dev, "dma_map_single: invalid direction %d\n", (int)dir);
        return host_dma_error_code(dev);
    }
    uint64_t phys = host_virt_to_phys(dev->kernel, ptr);
    if (phys == UINT64_MAX)
        return map_foreign(dev, ptr, size);
    if (dev->kernel->dma_debug)
        debug_dma_map_single(dev, ptr, size);
    dma_addr_t a = host_dma_get_ops(dev)->map_phys(dev, phys, size, dir);
    watch_map(dev, phys, a, size, dir, false);
    if (dev->kernel->dma_debug)
        debug_dma_map_page(dev, phys, size, dir, a, true);
    return a;
}

void dma_unmap_single(struct device *dev, dma_addr_t addr, size_t size,
                      enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (ops->unmap)
        ops->unmap(dev, addr, size, dir);
    watch_unmap(dev, addr, size, dir, false);
    if (dev->kernel->dma_debug)
        debug_dma_unmap_page(dev, addr, size, dir, true);
}

struct page *virt_to_page(const void *addr)
{
    struct host_kernel *k = host_current();
    uint64_t pa = k ? host_virt_to_phys(k, addr) : UINT64_MAX;
    if (pa == UINT64_MAX)
        return NULL;
    return host_phys_to_virt(k, pa & ~(HOST_PAGE_SIZE - 1));
}

void *page_address(const struct page *page)
{
    return (void *)(uintptr_t)page;
}

dma_addr_t dma_map_page(struct device *dev, struct page *page, size_t offset, size_t size,
                        enum dma_data_direction dir)
{
    if (!valid_dir(dir)) {
        host_dev_printk(KERN_ERR, dev, "dma_map_page: invalid direction %d\n", (int)dir);
        return host_dma_error_code(dev);
    }
    uint64_t phys = page ? host_virt_to_phys(dev->kernel, page) : UINT64_MAX;
    if (phys == UINT64_MAX) {
        host_dev_printk(KERN_ERR, dev, "dma_map_page: %p is not a page of the kernel\n",
                        (void *)page);
        return host_dma_error_code(dev);
    }
    phys += offset;
    dma_addr_t a = host_dma_get_ops(dev)->map_phys(dev, phys, size, dir);
    watch_map(dev, phys, a, size, dir, false);
    if (dev->kernel->dma_debug)
        debug_dma_map_page(dev, phys, size, dir, a, false);
    return a;
}

void dma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
                    enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (ops->unmap)
        ops->unmap(dev, addr, size, dir);
    watch_unmap(dev, addr, size, dir, false);
    if (dev->kernel->dma_debug)
        debug_dma_unmap_page(dev, addr, size, dir, false);
}

int dma_mapping_error(struct device *dev, dma_addr_t dma_addr)
{
    if (dev->kernel->dma_debug)
        debug_dma_mapping_error(dev, dma_addr);
    return dma_addr == host_dma_error_code(dev);
}

static void sync_for_cpu(struct device *dev, dma_addr_t addr, size_t size,
                         enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (ops->sync_for_cpu)
        ops->sync_for_cpu(dev, addr, size, dir);
}

static void sync_for_device(struct device *dev, dma_addr_t addr, size_t size,
                            enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (ops->sync_for_device)
        ops->sync_for_device(dev, addr, size, dir);
}

void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr, size_t size,
                             enum dma_data_direction dir)
{
    sync_for_cpu(dev, addr, size, dir);
    if (dev->kernel->dma_debug)
        debug_dma_sync_single_for_cpu(dev, addr, size, dir);
}

void dma_sync_single_for_device(struct device *dev, dma_addr_t addr, size_t size,
                                enum dma_data_direction dir)
{
    sync_for_device(dev, addr, size, dir);
    if (dev->kernel->dma_debug)
        debug_dma_sync_single_for_device(dev, addr, size, dir);
}

/* 5.x: dma_sync_single_for_*(addr + offset, size); 4.x: the ops sync that,
 * debugging checks [addr, addr + offset + size) (kver.h) */
void dma_sync_single_range_for_cpu(struct device *dev, dma_addr_t addr, unsigned long offset,
                                   size_t size, enum dma_data_direction dir)
{
    if (dev->kernel->kver->dma_sync_range_is_single) {
        dma_sync_single_for_cpu(dev, addr + offset, size, dir);
        return;
    }
    sync_for_cpu(dev, addr + offset, size, dir);
    if (dev->kernel->dma_debug)
        debug_dma_sync_single_range_for_cpu(dev, addr, offset, size, dir);
}

void dma_sync_single_range_for_device(struct device *dev, dma_addr_t addr, unsigned long offset,
                                      size_t size, enum dma_data_direction dir)
{
    if (dev->kernel->kver->dma_sync_range_is_single) {
        dma_sync_single_for_device(dev, addr + offset, size, dir);
        return;
    }
    sync_for_device(dev, addr + offset, size, dir);
    if (dev->kernel->dma_debug)
        debug_dma_sync_single_range_for_device(dev, addr, offset, size, dir);
}

/* ---- Scatter-gather ---- */

void sg_init_table(struct scatterlist *sgl, unsigned int nents)
{
    memset(sgl, 0, sizeof *sgl * nents);
    if (nents)
        sgl[nents - 1].last = true;
}

void sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int buflen)
{
    sg->buf = (void *)(uintptr_t)buf;
    sg->length = buflen;
}

void sg_init_one(struct scatterlist *sg, const void *buf, unsigned int buflen)
{
    sg_init_table(sg, 1);
    sg_set_buf(sg, buf, buflen);
}

struct scatterlist *sg_next(struct scatterlist *sg)
{
    return sg->last ? NULL : sg + 1;
}

static int map_sg(struct device *dev, struct scatterlist *sg, int nents,
                  enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (ops->map_sg)
        return ops->map_sg(dev, sg, nents, dir);
    struct scatterlist *s = sg;
    for (int i = 0; i < nents; i++, s = sg_next(s)) {
        uint64_t phys = host_virt_to_phys(dev->kernel, s->buf);
        dma_addr_t a = phys == UINT64_MAX ? host_dma_error_code(dev)
                                          : ops->map_phys(dev, phys, s->length, dir);
        if (a == host_dma_error_code(dev)) {
            /* undo what was mapped: dma_map_sg maps all or nothing */
            struct scatterlist *u = sg;
            for (int j = 0; j < i; j++, u = sg_next(u))
                if (ops->unmap)
                    ops->unmap(dev, u->dma_address, u->dma_length, dir);
            return 0;
        }
        s->dma_address = a;
        s->dma_length = s->length;
    }
    return nents;
}

int dma_map_sg(struct device *dev, struct scatterlist *sg, int nents,
               enum dma_data_direction dir)
{
    if (nents <= 0 || !valid_dir(dir))
        return 0;
    int ents = map_sg(dev, sg, nents, dir);
    if (dev->kernel->dma_watch && ents > 0) {
        struct scatterlist *s = sg;
        for (int i = 0; i < ents && s; i++, s = sg_next(s))
            watch_map(dev, host_virt_to_phys(dev->kernel, s->buf), s->dma_address,
                      s->dma_length, dir, false);
    }
    if (dev->kernel->dma_debug && (ents > 0 || !dev->kernel->kver->dma_debug_sg_needs_ents))
        debug_dma_map_sg(dev, sg, nents, ents, dir);
    return ents;
}

void dma_unmap_sg(struct device *dev, struct scatterlist *sg, int nents,
                  enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (dev->kernel->dma_debug)
        debug_dma_unmap_sg(dev, sg, nents, dir);
    if (dev->kernel->dma_watch) {
        struct scatterlist *s = sg;
        for (int i = 0; i < nents && s; i++, s = sg_next(s))
            watch_unmap(dev, s->dma_address, s->dma_length, dir, false);
    }
    if (ops->unmap_sg) {
        ops->unmap_sg(dev, sg, nents, dir);
        return;
    }
    struct scatterlist *s = sg;
    for (int i = 0; i < nents && s; i++, s = sg_next(s))
        if (ops->unmap)
            ops->unmap(dev, s->dma_address, s->dma_length, dir);
}

void dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg, int nents,
                         enum dma_data_direction dir)
{
    struct scatterlist *s = sg;
    for (int i = 0; i < nents && s; i++, s = sg_next(s))
        sync_for_cpu(dev, s->dma_address, s->dma_length, dir);
    if (dev->kernel->dma_debug)
        debug_dma_sync_sg_for_cpu(dev, sg, nents, dir);
}

void dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg, int nents,
                            enum dma_data_direction dir)
{
    struct scatterlist *s = sg;
    for (int i = 0; i < nents && s; i++, s = sg_next(s))
        sync_for_device(dev, s->dma_address, s->dma_length, dir);
    if (dev->kernel->dma_debug)
        debug_dma_sync_sg_for_device(dev, sg, nents, dir);
}

/* ---- The swiotlb back-end ---- */

static void swiotlb_log(void *ctx, int level, const char *text)
{
    host_printk(ctx, "\001%c%s\n", '0' + (level & 7), text);
}

static struct host_swiotlb_dev swiotlb_dev_of(const struct device *dev)
{
    struct host_swiotlb_dev d = {
        .driver = dev->driver_name ? dev->driver_name : dev->bus_name,
        .name = dev->name,
        .cpu = dev->kernel->cpu,
    };
    return d;
}

int host_dma_swiotlb_init(struct host_kernel *k, struct pcilab_err *err)
{
    if (k->swiotlb)
        return 0;
    struct host_mem_range ram[64], reserved[1] = {{0, 1ull << 20}};
    size_t nram = 0;
    for (size_t i = 0; i < mem_addrmap_count(k->map) && nram < 64; i++) {
        const struct mem_region *r = mem_addrmap_at(k->map, i);
        if (r->kind == MEM_REGION_RAM)
            ram[nram++] = (struct host_mem_range){r->base, r->size};
    }
    unsigned long nslabs = k->bootparams.swiotlb_nslabs;
    if (!nslabs)
        nslabs = (unsigned long)(HOST_IO_TLB_DEFAULT_SIZE >> HOST_IO_TLB_SHIFT);
    /* io_tlb_nslabs = ALIGN(nslabs, IO_TLB_SEGSIZE) */
    nslabs = (nslabs + HOST_IO_TLB_SEGSIZE - 1) / HOST_IO_TLB_SEGSIZE * HOST_IO_TLB_SEGSIZE;
    uint64_t bytes = (uint64_t)nslabs << HOST_IO_TLB_SHIFT, base;
    int r = host_swiotlb_pick_base(ram, nram, reserved, 1, bytes, &base, err);
    if (r < 0)
        return r;
    struct host_swiotlb_config c = {
        .kv = k->kver,
        .mem = k->ram,
        .start = base,
        .nslabs = nslabs,
        .nareas = k->bootparams.swiotlb_nareas,
        .ncpus = k->ncpus,
        .log = {swiotlb_log, k},
    };
    k->swiotlb = host_swiotlb_create(&c, err);
    if (!k->swiotlb)
        return -PCILAB_ENOMEM;
    host_pages_reserve(k->pages, base, bytes);
    host_swiotlb_print_info(k->swiotlb);
    return 0;
}

static bool needs_bounce(const struct device *dev, uint64_t phys, size_t size)
{
    if (dev->kernel->bootparams.swiotlb_force == HOST_SWIOTLB_FORCE)
        return true;
    uint64_t mask = dev->dma_mask ? *dev->dma_mask : 0;
    return size && phys + size - 1 > mask;
}

static dma_addr_t swiotlb_map(struct device *dev, uint64_t phys, size_t size,
                              enum dma_data_direction dir)
{
    struct host_kernel *k = dev->kernel;
    if (!needs_bounce(dev, phys, size))
        return phys;
    if (!k->swiotlb || k->bootparams.swiotlb_force == HOST_SWIOTLB_NO_FORCE)
        return direct_map(dev, phys, size, dir);
    struct host_swiotlb_dev sd = swiotlb_dev_of(dev);
    struct host_swiotlb_mapping m = {0, NULL};
    if (host_swiotlb_map(k->swiotlb, &sd, phys, size, (enum host_dma_dir)dir, 0, sim_now(k->sim),
                         &m, NULL) < 0) {
        if (m.panic)
            host_printk(k, KERN_EMERG "Kernel panic - not syncing: %s\n", m.panic);
        return host_dma_error_code(dev);
    }
    /* the bounce slot itself must be reachable (swiotlb_map_page) */
    uint64_t mask = dev->dma_mask ? *dev->dma_mask : 0;
    if (m.tlb_addr + size - 1 > mask) {
        host_swiotlb_unmap(k->swiotlb, &sd, m.tlb_addr, size, (enum host_dma_dir)dir, 0, NULL);
        host_dev_printk(KERN_ERR, dev, "swiotlb addr 0x%016llx+%zu overflow (mask %llx)\n",
                        (unsigned long long)m.tlb_addr, size, (unsigned long long)mask);
        return host_dma_error_code(dev);
    }
    return m.tlb_addr;
}

static void swiotlb_unmap(struct device *dev, dma_addr_t addr, size_t size,
                          enum dma_data_direction dir)
{
    struct host_kernel *k = dev->kernel;
    if (!k->swiotlb || !host_swiotlb_owns(k->swiotlb, addr))
        return;
    struct host_swiotlb_dev sd = swiotlb_dev_of(dev);
    host_swiotlb_unmap(k->swiotlb, &sd, addr, size, (enum host_dma_dir)dir, 0, NULL);
}

static void swiotlb_sync_cpu(struct device *dev, dma_addr_t addr, size_t size,
                             enum dma_data_direction dir)
{
    struct host_kernel *k = dev->kernel;
    if (!k->swiotlb || !host_swiotlb_owns(k->swiotlb, addr))
        return;
    struct host_swiotlb_dev sd = swiotlb_dev_of(dev);
    host_swiotlb_sync_for_cpu(k->swiotlb, &sd, addr, size, (enum host_dma_dir)dir, NULL);
}

static void swiotlb_sync_dev(struct device *dev, dma_addr_t addr, size_t size,
                             enum dma_data_direction dir)
{
    struct host_kernel *k = dev->kernel;
    if (!k->swiotlb || !host_swiotlb_owns(k->swiotlb, addr))
        return;
    struct host_swiotlb_dev sd = swiotlb_dev_of(dev);
    host_swiotlb_sync_for_device(k->swiotlb, &sd, addr, size, (enum host_dma_dir)dir, NULL);
}

static bool swiotlb_supported(struct device *dev, uint64_t mask)
{
    /* swiotlb_dma_supported: the pool's last byte must be reachable */
    struct host_kernel *k = dev->kernel;
    if (k->swiotlb && host_swiotlb_end(k->swiotlb) - 1 > mask)
        return false;
    return direct_supported(dev, mask);
}

const struct host_dma_ops host_dma_swiotlb_ops = {
    .name = "swiotlb",
    .alloc = direct_alloc,
    .free = direct_free,
    .map_phys = swiotlb_map,
    .unmap = swiotlb_unmap,
    .sync_for_cpu = swiotlb_sync_cpu,
    .sync_for_device = swiotlb_sync_dev,
    .supported = swiotlb_supported,
};
