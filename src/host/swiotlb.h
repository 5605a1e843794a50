/* The software IO TLB (bounce buffers), as the modelled Linux has it.
 *
 * A pool of nslabs slots of 2 KiB (IO_TLB_SHIFT 11) in physical memory below
 * 4 GiB. A mapping takes up to IO_TLB_SEGSIZE (128) contiguous slots inside one
 * 128-slot segment, so at most 256 KiB. The pool's bytes live in a struct
 * mem_phys at the base the caller chose (host_swiotlb_pick_base() finds the one
 * Linux's memblock_alloc_low would pick). Every version's slot search, copy
 * directions and messages are in swiotlb.c with the derivations; the version
 * differences come from struct host_kver (swiotlb, swiotlb_info, swiotlb_full,
 * swiotlb_out_of_space_msg, swiotlb_has_nareas, swiotlb_map_bounces_always).
 *
 * The pool is an object: no globals, deterministic. Linux's spinlocks are not
 * modelled (the simulation has one caller context). */
#ifndef PCILAB_HOST_SWIOTLB_H
#define PCILAB_HOST_SWIOTLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/kver.h"
#include "mem/physmem.h"
#include "sim/err.h"
#include "sim/time.h"

/* include/linux/swiotlb.h */
#define HOST_IO_TLB_SHIFT 11
#define HOST_IO_TLB_SIZE ((uint64_t)1 << HOST_IO_TLB_SHIFT)
#define HOST_IO_TLB_SEGSIZE 128
#define HOST_IO_TLB_DEFAULT_SIZE ((uint64_t)64 << 20)
/* The largest mapping: one whole segment (swiotlb_max_mapping_size). */
#define HOST_SWIOTLB_MAX_MAPPING (HOST_IO_TLB_SIZE * HOST_IO_TLB_SEGSIZE)
/* lib/swiotlb.c 4.9: io_tlb_overflow, the emergency buffer's size. */
#define HOST_IO_TLB_OVERFLOW (32 * 1024)
/* x86 ARCH_LOW_ADDRESS_LIMIT: memblock_alloc_low's upper bound. */
#define HOST_ARCH_LOW_ADDRESS_LIMIT 0xffffffffull

/* enum dma_data_direction (include/linux/dma-direction.h), same values. */
enum host_dma_dir {
    HOST_DMA_BIDIRECTIONAL = 0,
    HOST_DMA_TO_DEVICE = 1,
    HOST_DMA_FROM_DEVICE = 2,
    HOST_DMA_NONE = 3,
};

/* DMA_ATTR_* (include/linux/dma-mapping.h) that swiotlb reads. */
#define HOST_DMA_ATTR_SKIP_CPU_SYNC (1ul << 5)
#define HOST_DMA_ATTR_NO_WARN (1ul << 8)

/* What swiotlb reads of a struct device. */
struct host_swiotlb_dev {
    const char *driver;         /* dev_driver_string(): "ecp5_dma", or the bus
                                   name "pci" when no driver is bound */
    const char *name;           /* dev_name(): "0000:01:00.0" */
    uint64_t seg_boundary_mask; /* dma_get_seg_boundary(); 0 means the PCI
                                   default 0xffffffff */
    unsigned min_align_mask;    /* dma_get_min_align_mask() (5.12+); usually 0 */
    unsigned alloc_align_mask;  /* swiotlb_tbl_map_single's alloc_align_mask */
    unsigned cpu;               /* raw_smp_processor_id() of the caller (6.1
                                   picks the first area from it) */
};

struct host_swiotlb_config {
    const struct host_kver *kv;
    struct mem_phys *mem;
    uint64_t start;         /* physical base, page aligned */
    unsigned long nslabs;   /* number of slots; 0 means the default (64 MiB) */
    unsigned nareas;        /* 6.1: areas from swiotlb=<n>,<areas>; 0 means
                               swiotlb_init's swiotlb_adjust_nareas(ncpus) */
    unsigned ncpus;         /* num_possible_cpus(); 0 counts as 1 */
    uint64_t page_offset;   /* 4.9 prints virtual addresses with %p:
                               PAGE_OFFSET + phys; 0 means 0xffff880000000000
                               (x86_64 without memory randomisation) */
    struct host_log_sink log;
};

struct host_swiotlb;

/* swiotlb_init: lays the pool over [start, start + nslabs * 2 KiB) (zeroed),
 * all slots free. 6.1 prints "software IO TLB: area num %d." here when the
 * areas were not given on the command line. NULL with err on a bad config. */
struct host_swiotlb *host_swiotlb_create(const struct host_swiotlb_config *cfg,
                                         struct pcilab_err *err);
void host_swiotlb_destroy(struct host_swiotlb *p);

/* swiotlb_print_info(): the boot line of the version, to the pool's sink. */
void host_swiotlb_print_info(const struct host_swiotlb *p);

struct host_swiotlb_mapping {
    uint64_t tlb_addr;   /* bounce address (physical) */
    const char *panic;   /* 4.9 swiotlb_map_page: the panic() Linux raises when
                            the pool is full and the mapping is larger than the
                            overflow buffer, else NULL */
};

/* swiotlb_tbl_map_single (+ swiotlb_map_page's swiotlb_full in 4.9): finds
 * slots for [orig, orig + size) and copies the original into the bounce slots
 * for TO_DEVICE and BIDIRECTIONAL (every direction where
 * swiotlb_map_bounces_always). now is the simulated time, for the ratelimit of
 * the "buffer is full" warning. When no slots are free: the version's warning
 * lines go to the sink and -PCILAB_ENOMEM is returned (out->panic set as
 * above). -PCILAB_EINVAL for size 0 or dir NONE. */
int host_swiotlb_map(struct host_swiotlb *p, const struct host_swiotlb_dev *dev,
                     uint64_t orig, size_t size, enum host_dma_dir dir,
                     unsigned long attrs, sim_time_t now,
                     struct host_swiotlb_mapping *out, struct pcilab_err *err);
/* swiotlb_tbl_unmap_single: copies back for FROM_DEVICE and BIDIRECTIONAL
 * (unless SKIP_CPU_SYNC) and frees the slots. -PCILAB_ERANGE when tlb_addr is
 * not a mapped slot of this pool. */
int host_swiotlb_unmap(struct host_swiotlb *p, const struct host_swiotlb_dev *dev,
                       uint64_t tlb_addr, size_t size, enum host_dma_dir dir,
                       unsigned long attrs, struct pcilab_err *err);
/* swiotlb_tbl_sync_single / swiotlb_sync_single_for_{cpu,device}:
 * for_cpu copies bounce -> original for FROM_DEVICE/BIDIRECTIONAL,
 * for_device copies original -> bounce for TO_DEVICE/BIDIRECTIONAL. The
 * direction Linux would BUG_ON() is -PCILAB_EINVAL here. */
int host_swiotlb_sync_for_cpu(struct host_swiotlb *p, const struct host_swiotlb_dev *dev,
                              uint64_t tlb_addr, size_t size, enum host_dma_dir dir,
                              struct pcilab_err *err);
int host_swiotlb_sync_for_device(struct host_swiotlb *p,
                                 const struct host_swiotlb_dev *dev, uint64_t tlb_addr,
                                 size_t size, enum host_dma_dir dir,
                                 struct pcilab_err *err);

/* is_swiotlb_buffer() */
bool host_swiotlb_owns(const struct host_swiotlb *p, uint64_t pa);
uint64_t host_swiotlb_start(const struct host_swiotlb *p);
uint64_t host_swiotlb_end(const struct host_swiotlb *p); /* exclusive */
unsigned long host_swiotlb_nslabs(const struct host_swiotlb *p);
unsigned long host_swiotlb_used(const struct host_swiotlb *p);
unsigned host_swiotlb_nareas(const struct host_swiotlb *p);
/* io_tlb_list[i] / slots[i].list: free slots from i to the segment's end that
 * are contiguous (0 when slot i is taken). */
unsigned host_swiotlb_slot_list(const struct host_swiotlb *p, unsigned long i);
/* io_tlb_index, or the index of area a (6.1). */
unsigned long host_swiotlb_next_index(const struct host_swiotlb *p, unsigned a);

/* 6.1 swiotlb_adjust_nareas() + round_up_default_nslabs(): nareas 0 -> 1,
 * rounded up to a power of two; prints "software IO TLB: area num %d." and,
 * when the pool grows, "software IO TLB: SWIOTLB bounce buffer size roundup to
 * %luMB". Updates *nslabs and *nareas. Used by swiotlb= and by swiotlb_init. */
void host_swiotlb_adjust_nareas(unsigned long *nslabs, unsigned *nareas,
                                unsigned want, const struct host_log_sink *log);

/* A range of physical memory. */
struct host_mem_range {
    uint64_t base, size;
};

/* Where memblock_alloc_low(bytes, PAGE_SIZE) puts the pool (every modelled
 * version): memblock allocates top-down (x86 does not set bottom_up unless
 * movable_node), in the highest free RAM below ARCH_LOW_ADDRESS_LIMIT
 * (0xffffffff, used as an exclusive end, as __memblock_find_range_top_down
 * does), page aligned. Free RAM is ram minus reserved (the kernel image, the
 * first MiB, earlier memblock allocations: the caller lists what it models).
 * -PCILAB_ENOMEM when nothing fits (Linux: "Cannot allocate buffer"). */
int host_swiotlb_pick_base(const struct host_mem_range *ram, size_t nram,
                           const struct host_mem_range *reserved, size_t nreserved,
                           uint64_t bytes, uint64_t *base, struct pcilab_err *err);

#endif
