/* The DMA API (dma.h). */
#include "host/dma.h"

#include <errno.h>
#include <string.h>

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

static dma_addr_t direct_map(struct device *dev, uint64_t phys, size_t size,
                             enum dma_data_direction dir)
{
    (void)dir;
    uint64_t mask = dev->dma_mask ? *dev->dma_mask : 0;
    if (size && phys + size - 1 > mask) {
        /* dma_direct_map_page (5.x); nommu's check_addr prints the same
         * facts in 4.9 */
        host_dev_printk(KERN_ERR, dev,
                        "DMA addr 0x%016llx+%zu overflow (mask %llx, bus limit %llx).\n",
                        (unsigned long long)phys, size, (unsigned long long)mask, 0ull);
        return host_dma_error_code(dev);
    }
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
    return dev->kernel->dma_error_code;
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
    host_dma_get_ops(dev)->free(dev, size, cpu_addr, dma_handle);
}

/* ---- Streaming ---- */

static bool valid_dir(enum dma_data_direction dir)
{
    return dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE || dir == DMA_FROM_DEVICE;
}

dma_addr_t dma_map_single(struct device *dev, void *ptr, size_t size,
                          enum dma_data_direction dir)
{
    if (!valid_dir(dir)) {
        host_dev_printk(KERN_ERR, dev, "dma_map_single: invalid direction %d\n", (int)dir);
        return host_dma_error_code(dev);
    }
    uint64_t phys = host_virt_to_phys(dev->kernel, ptr);
    if (phys == UINT64_MAX) {
        host_dev_printk(KERN_ERR, dev,
                        "dma_map_single: %p is not memory the kernel allocated (stack or "
                        "static data?)\n", ptr);
        return host_dma_error_code(dev);
    }
    return host_dma_get_ops(dev)->map_phys(dev, phys, size, dir);
}

void dma_unmap_single(struct device *dev, dma_addr_t addr, size_t size,
                      enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (ops->unmap)
        ops->unmap(dev, addr, size, dir);
}

int dma_mapping_error(struct device *dev, dma_addr_t dma_addr)
{
    return dma_addr == host_dma_error_code(dev);
}

void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr, size_t size,
                             enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (ops->sync_for_cpu)
        ops->sync_for_cpu(dev, addr, size, dir);
}

void dma_sync_single_for_device(struct device *dev, dma_addr_t addr, size_t size,
                                enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (ops->sync_for_device)
        ops->sync_for_device(dev, addr, size, dir);
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

int dma_map_sg(struct device *dev, struct scatterlist *sg, int nents,
               enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
    if (nents <= 0 || !valid_dir(dir))
        return 0;
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

void dma_unmap_sg(struct device *dev, struct scatterlist *sg, int nents,
                  enum dma_data_direction dir)
{
    const struct host_dma_ops *ops = host_dma_get_ops(dev);
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
        dma_sync_single_for_cpu(dev, s->dma_address, s->dma_length, dir);
}

void dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg, int nents,
                            enum dma_data_direction dir)
{
    struct scatterlist *s = sg;
    for (int i = 0; i < nents && s; i++, s = sg_next(s))
        dma_sync_single_for_device(dev, s->dma_address, s->dma_length, dir);
}
