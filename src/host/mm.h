/* The host kernel's memory as its code sees it: page allocations with a CPU
 * address (the direct map), kmalloc, and the translations between CPU
 * addresses and physical addresses (virt_to_phys, phys_to_virt).
 *
 * A CPU address is a real pointer into a contiguous host view of the
 * simulated pages (mem_phys_contiguous): a store through it is a store to
 * simulated memory, which a device's DMA then reads, and a device's write is
 * what a load through it returns. Linux's direct map covers all RAM at a
 * fixed offset; pcilab maps what is allocated, which is all that kernel code
 * may touch.
 *
 * kmalloc follows the SLUB size classes of x86-64 (kmalloc-8 .. kmalloc-8192,
 * plus kmalloc-96 and kmalloc-192; larger requests are whole page blocks,
 * kmalloc_large): objects of one class are packed in slab pages of one
 * page allocation, so a kmalloc'd buffer has the page offsets a real one
 * has, which matters to dma_map_single and to buffers that cross pages.
 * Freed objects are reused last-freed-first, as SLUB's per-CPU freelist does. */
#ifndef PCILAB_HOST_MM_H
#define PCILAB_HOST_MM_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/kernel.h"
#include "host/pages.h"

/* include/linux/gfp.h, the bits that choose the zone and zeroing. */
typedef unsigned int gfp_t;
#define GFP_DMA        0x01u
#define GFP_DMA32      0x04u
#define __GFP_ZERO     0x8000u
#define GFP_ATOMIC     0x480000u
#define GFP_KERNEL     0x6000c0u
#define GFP_NOWAIT     0x400000u

struct host_mm;

int host_mm_init(struct host_kernel *k, struct pcilab_err *err);
void host_mm_destroy(struct host_kernel *k);

/* 2^order pages from the zone gfp names (GFP_DMA, GFP_DMA32, else Normal);
 * returns the CPU address and *pa, or NULL. Zeroed with __GFP_ZERO. */
void *host_alloc_pages(struct host_kernel *k, gfp_t gfp, unsigned order, uint64_t *pa);

/* One page of an IOMMU's I/O page table as the host's IOMMU drivers keep it
 * (AMD: amd_iommu.c alloc_pte's get_zeroed_page; Intel: alloc_pgtable_page):
 * the zeroed page, its physical address and, at a directory level, the 512
 * tables below it (NULL at the leaf level). */
struct host_iopt {
    uint64_t *cpu;
    uint64_t pa;
    struct host_iopt **child;
};
/* NULL when out of memory. */
struct host_iopt *host_iopt_alloc(struct host_kernel *k, bool directory);
/* Frees pt and every table below it (pt may be NULL). */
void host_iopt_free(struct host_kernel *k, struct host_iopt *pt);
/* As above, in [lo, hi) only (swiotlb's low pool, memblock allocations). */
void *host_alloc_pages_range(struct host_kernel *k, unsigned order, uint64_t lo, uint64_t hi,
                             uint64_t *pa);
void host_free_pages(struct host_kernel *k, void *virt, unsigned order);

/* The physical address of a CPU address the kernel handed out (page
 * allocations and kmalloc objects, any byte inside); UINT64_MAX for a pointer
 * the kernel does not know (a driver's stack or static buffer: DMA from
 * those is a bug Linux's dma-debug reports). */
uint64_t host_virt_to_phys(struct host_kernel *k, const void *virt);
/* The CPU address of pa when it lies in a mapped allocation, else NULL. */
void *host_phys_to_virt(struct host_kernel *k, uint64_t pa);

/* Linux's names; they use the current kernel (kernel.h). */
void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void kfree(const void *p);
size_t ksize(const void *p);
uint64_t virt_to_phys(const void *p);
void *phys_to_virt(uint64_t pa);

#endif
