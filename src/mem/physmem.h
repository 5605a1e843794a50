/* Sparse 64-bit physical memory.
 *
 * The whole 2^64-byte physical address space, stored as 4 KiB pages that are
 * materialised (allocated, zero-filled) on the first write that touches them.
 * Reads of memory never written return zeros and allocate nothing, so a model
 * may read a page table or a descriptor ring anywhere without growing memory.
 *
 * Pages are found through an open-addressing hash table keyed by page frame
 * number (linear probing, a fixed multiplicative hash, so layout and growth are
 * deterministic) with a one-entry last-page cache in front of it. Once a page
 * exists, reads and writes to it allocate nothing.
 *
 * Every access is [pa, pa + len). An access whose last byte would lie beyond
 * 0xffff_ffff_ffff_ffff (it would wrap to address 0) is refused with
 * PCILAB_ERANGE; an access ending exactly at 2^64 is fine. Multi-byte
 * accessors are little-endian, as PCIe and the IOMMU table formats are. */
#ifndef PCILAB_MEM_PHYSMEM_H
#define PCILAB_MEM_PHYSMEM_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/err.h"

#define MEM_PAGE_SHIFT 12
#define MEM_PAGE_SIZE ((uint64_t)1 << MEM_PAGE_SHIFT)
#define MEM_PAGE_MASK (MEM_PAGE_SIZE - 1)

struct mem_phys;

struct mem_phys_stats {
    uint64_t pages;           /* pages materialised now */
    uint64_t bytes;           /* pages * MEM_PAGE_SIZE: host memory backing them */
    uint64_t reads, writes;   /* calls of the read / write (and fill) families */
    uint64_t bytes_read;      /* bytes returned by reads (including zero reads) */
    uint64_t bytes_written;   /* bytes stored by writes and fills */
    uint64_t zero_reads;      /* bytes read from pages never materialised */
};

struct mem_phys *mem_phys_create(void);
void mem_phys_destroy(struct mem_phys *m);

/* Copies [pa, pa+len) into buf. Never allocates. 0 or -PCILAB_ERANGE (wrap).
 * err may be NULL. */
int mem_phys_read(struct mem_phys *m, uint64_t pa, void *buf, size_t len,
                  struct pcilab_err *err);
/* Stores buf at [pa, pa+len), materialising pages as needed. 0, -PCILAB_ERANGE
 * or -PCILAB_ENOMEM; on an error nothing has been written. */
int mem_phys_write(struct mem_phys *m, uint64_t pa, const void *buf, size_t len,
                   struct pcilab_err *err);
/* Sets [pa, pa+len) to byte. Filling with 0 does not materialise pages that do
 * not exist yet (they read as zero already). Same errors as mem_phys_write. */
int mem_phys_fill(struct mem_phys *m, uint64_t pa, uint8_t byte, uint64_t len,
                  struct pcilab_err *err);

/* Little-endian accessors; same rules and errors as read/write. */
int mem_phys_read8(struct mem_phys *m, uint64_t pa, uint8_t *v, struct pcilab_err *err);
int mem_phys_read16(struct mem_phys *m, uint64_t pa, uint16_t *v, struct pcilab_err *err);
int mem_phys_read32(struct mem_phys *m, uint64_t pa, uint32_t *v, struct pcilab_err *err);
int mem_phys_read64(struct mem_phys *m, uint64_t pa, uint64_t *v, struct pcilab_err *err);
int mem_phys_write8(struct mem_phys *m, uint64_t pa, uint8_t v, struct pcilab_err *err);
int mem_phys_write16(struct mem_phys *m, uint64_t pa, uint16_t v, struct pcilab_err *err);
int mem_phys_write32(struct mem_phys *m, uint64_t pa, uint32_t v, struct pcilab_err *err);
int mem_phys_write64(struct mem_phys *m, uint64_t pa, uint64_t v, struct pcilab_err *err);

/* The host CPU's view of simulated memory. Makes the npages pages from the
 * page-aligned pa one contiguous block of host memory (materialising missing
 * pages zero-filled, moving the bytes of existing ones) and returns its
 * address in *host: loads and stores through it and the read/write calls
 * above see the same bytes, so a driver's pointer from dma_alloc_coherent
 * reads what a device wrote. The block stays valid until the memory is
 * destroyed, even if a later call re-blocks some of its pages (then those
 * pages move to the new block and the old pointer no longer aliases them).
 * Pages already contiguous in one block are returned as they are, without a
 * copy. Slow path (allocates). Errors: -PCILAB_EINVAL (unaligned, 0 pages),
 * -PCILAB_ERANGE, -PCILAB_ENOMEM. */
int mem_phys_contiguous(struct mem_phys *m, uint64_t pa, uint64_t npages, uint8_t **host,
                        struct pcilab_err *err);
/* The same; *fresh is true when the block was made now out of pages that had
 * never been written (so it is all zeros and its host pages untouched: a
 * caller that must zero it need not, and spares the first writes). */
int mem_phys_contiguous_fresh(struct mem_phys *m, uint64_t pa, uint64_t npages, uint8_t **host,
                              bool *fresh, struct pcilab_err *err);

/* The bytes of the page holding pa (MEM_PAGE_SIZE of them, the page base
 * first), or NULL when the page was never written (it reads as zeros). For
 * table walkers that read a few bytes at a time: no allocation, and the
 * access is not counted in the statistics. The pointer stays valid until
 * mem_phys_contiguous moves the page or the memory is destroyed. */
const uint8_t *mem_phys_peek(struct mem_phys *m, uint64_t pa);
/* A counter that changes whenever mem_phys_contiguous moves pages (and so
 * invalidates pointers from mem_phys_peek): a reader that keeps such a
 * pointer keeps the counter's value with it and compares. */
const uint64_t *mem_phys_moves_ptr(const struct mem_phys *m);

/* True when the page holding pa has been materialised. */
int mem_phys_page_present(const struct mem_phys *m, uint64_t pa);

void mem_phys_get_stats(const struct mem_phys *m, struct mem_phys_stats *st);

/* Calls fn for every materialised page in ascending address order with the
 * page's base address and its MEM_PAGE_SIZE bytes. A non-zero return from fn
 * stops the walk and is returned. Allocates a temporary index (-PCILAB_ENOMEM
 * when that fails, with err filled). Not a fast path: for dumps and tests. */
typedef int (*mem_phys_page_fn)(void *ctx, uint64_t page_pa, const uint8_t *data);
int mem_phys_for_each_page(const struct mem_phys *m, mem_phys_page_fn fn, void *ctx,
                           struct pcilab_err *err);

#endif
