/* The DMA API with Linux's names (include/linux/dma-mapping.h,
 * kernel/dma/, arch/x86/kernel/pci-dma.c): masks, coherent allocations,
 * streaming mappings, scatter-gather and syncs, dispatched to the device's
 * DMA operations as Linux does:
 *   - direct: the DMA address is the physical address (x86 has no offset);
 *     an address beyond the device's mask cannot be used (with a bounce
 *     buffer pool, swiotlb takes over);
 *   - swiotlb: bounce buffers in low memory (swiotlb.h);
 *   - IOMMU: the IOMMU driver's ops map through the device's domain.
 * Which one a device gets is decided at boot by the kernel from the command
 * line and the IOMMUs found, per device (host_dma_set_ops).
 *
 * With DMA API debugging built in and on (dma_debug.h), every call is also
 * checked and recorded the way Linux's dma-debug does, at the point of the
 * call where Linux calls its debug_dma_* hook; without it, the one test of
 * k->dma_debug is all the cost. */
#ifndef PCILAB_HOST_DMA_H
#define PCILAB_HOST_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/mm.h"
#include "host/pci.h"

typedef uint64_t dma_addr_t;

enum dma_data_direction {
    DMA_BIDIRECTIONAL = 0,
    DMA_TO_DEVICE = 1,
    DMA_FROM_DEVICE = 2,
    DMA_NONE = 3,
};

#define DMA_BIT_MASK(n) (((n) == 64) ? ~0ULL : ((1ULL << (n)) - 1))

/* What a failed mapping returns: DMA_MAPPING_ERROR (all ones) in 5.x and on
 * 4.20's direct path; 0 on x86's 4.9 paths (DMA_ERROR_CODE) and from the AMD
 * driver's own ops in 4.9 and 4.20. host_dma_error_code gives the value for
 * the device's kernel and ops; dma_mapping_error compares with it. */
#define DMA_MAPPING_ERROR (~(dma_addr_t)0)

struct scatterlist;

struct host_dma_ops {
    const char *name;            /* "direct", "swiotlb", "amd_iommu", "iommu-dma" */
    void *(*alloc)(struct device *dev, size_t size, dma_addr_t *handle, gfp_t gfp);
    void (*free)(struct device *dev, size_t size, void *cpu_addr, dma_addr_t handle);
    dma_addr_t (*map_phys)(struct device *dev, uint64_t phys, size_t size,
                           enum dma_data_direction dir);
    void (*unmap)(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir);
    void (*sync_for_cpu)(struct device *dev, dma_addr_t addr, size_t size,
                         enum dma_data_direction dir);
    void (*sync_for_device)(struct device *dev, dma_addr_t addr, size_t size,
                            enum dma_data_direction dir);
    /* Optional: the whole list at once (an IOMMU puts it in one IOVA
     * range); without it each entry is mapped alone. Returns the number of
     * DMA segments, 0 on failure. */
    int (*map_sg)(struct device *dev, struct scatterlist *sg, int nents,
                  enum dma_data_direction dir);
    void (*unmap_sg)(struct device *dev, struct scatterlist *sg, int nents,
                     enum dma_data_direction dir);
    /* What a failed mapping returns, when it is not the version's direct
     * path value (host_dma_error_code); NULL: that value. */
    dma_addr_t (*error_code)(const struct device *dev);
    /* Can the device use a mask this small? */
    bool (*supported)(struct device *dev, uint64_t mask);
    void *ctx;                   /* the back-end's own state */
};

/* The direct back-end (no IOMMU, no bounce buffers): nommu in 4.9,
 * dma-direct without swiotlb in 5.x. */
extern const struct host_dma_ops host_dma_direct_ops;

/* The swiotlb back-end over the kernel's pool (k->swiotlb): direct when the
 * buffer is within the device's mask, bounced through the pool when it is
 * not or when swiotlb=force; coherent allocations as direct, from the pool
 * as the last resort (4.9 x86_swiotlb_alloc_coherent). */
extern const struct host_dma_ops host_dma_swiotlb_ops;

/* swiotlb_init: places the pool where memblock would (the highest free RAM
 * below 4 GiB), takes it out of the page allocator, and prints the version's
 * lines. nslabs 0: the command line's swiotlb= or the 64 MiB default. */
int host_dma_swiotlb_init(struct host_kernel *k, struct pcilab_err *err);

void host_dma_set_ops(struct device *dev, const struct host_dma_ops *ops);
const struct host_dma_ops *host_dma_get_ops(const struct device *dev);
dma_addr_t host_dma_error_code(const struct device *dev);

/* An observer of the DMA API, for pcilab's diagnosis (diag/dma_watch.h), not
 * a Linux interface: told of every mapping a device may use from now on (a
 * streaming mapping, a scatter-gather entry, a coherent allocation:
 * coherent true, dir DMA_BIDIRECTIONAL) with its DMA address, its size and
 * the physical address of its first byte, and of every unmapping and free.
 * Failed mappings are not reported. The callbacks must not call the DMA
 * API. */
struct host_dma_watch {
    void (*map)(void *ctx, struct device *dev, uint64_t phys, dma_addr_t dma, size_t size,
                enum dma_data_direction dir, bool coherent);
    void (*unmap)(void *ctx, struct device *dev, dma_addr_t dma, size_t size,
                  enum dma_data_direction dir, bool coherent);
};
/* Installs w (NULL removes it); one at a time. */
void host_dma_set_watch(struct host_kernel *k, const struct host_dma_watch *w, void *ctx);

/* ---- Linux's API ---- */
int dma_set_mask(struct device *dev, uint64_t mask);
int dma_set_coherent_mask(struct device *dev, uint64_t mask);
int dma_set_mask_and_coherent(struct device *dev, uint64_t mask);
int dma_supported(struct device *dev, uint64_t mask);
uint64_t dma_get_mask(const struct device *dev);

void *dma_alloc_coherent(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp);
void dma_free_coherent(struct device *dev, size_t size, void *cpu_addr, dma_addr_t dma_handle);
void *dma_zalloc_coherent(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp);

dma_addr_t dma_map_single(struct device *dev, void *ptr, size_t size,
                          enum dma_data_direction dir);
void dma_unmap_single(struct device *dev, dma_addr_t addr, size_t size,
                      enum dma_data_direction dir);
int dma_mapping_error(struct device *dev, dma_addr_t dma_addr);
void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr, size_t size,
                             enum dma_data_direction dir);
void dma_sync_single_for_device(struct device *dev, dma_addr_t addr, size_t size,
                                enum dma_data_direction dir);
/* A part of a mapping: offset bytes into it, size bytes. */
void dma_sync_single_range_for_cpu(struct device *dev, dma_addr_t addr, unsigned long offset,
                                   size_t size, enum dma_data_direction dir);
void dma_sync_single_range_for_device(struct device *dev, dma_addr_t addr, unsigned long offset,
                                      size_t size, enum dma_data_direction dir);

/* Pages. pcilab has no array of struct page: a struct page * is the CPU
 * address of the page's first byte (the page holding a kernel allocation's
 * byte is itself mapped, mm.h), which virt_to_page and page_address convert.
 * They use the current kernel (kernel.h); virt_to_page of memory the kernel
 * did not allocate is NULL. (They belong to mm.h once it models pages.) */
struct page;
struct page *virt_to_page(const void *addr);
void *page_address(const struct page *page);
/* dma_map_page / dma_unmap_page: as dma_map_single of page_address(page) +
 * offset, but recorded by DMA API debugging as a page mapping (4.x). */
dma_addr_t dma_map_page(struct device *dev, struct page *page, size_t offset, size_t size,
                        enum dma_data_direction dir);
void dma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
                    enum dma_data_direction dir);

/* include/linux/scatterlist.h, the part pcilab models: each entry names a
 * kernel buffer (CPU address) and length; dma_map_sg fills the DMA side. */
struct scatterlist {
    void *buf;
    unsigned int length;
    dma_addr_t dma_address;
    unsigned int dma_length;
    bool last;
};
void sg_init_table(struct scatterlist *sgl, unsigned int nents);
void sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int buflen);
void sg_init_one(struct scatterlist *sg, const void *buf, unsigned int buflen);
struct scatterlist *sg_next(struct scatterlist *sg);
#define sg_dma_address(sg) ((sg)->dma_address)
#define sg_dma_len(sg) ((sg)->dma_length)
#define for_each_sg(sglist, sg, nr, i) \
    for ((i) = 0, (sg) = (sglist); (i) < (nr); (i)++, (sg) = sg_next(sg))

int dma_map_sg(struct device *dev, struct scatterlist *sg, int nents,
               enum dma_data_direction dir);
void dma_unmap_sg(struct device *dev, struct scatterlist *sg, int nents,
                  enum dma_data_direction dir);
void dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg, int nents,
                         enum dma_data_direction dir);
void dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg, int nents,
                            enum dma_data_direction dir);

#endif
