/* DMA API debugging: Linux's CONFIG_DMA_API_DEBUG (lib/dma-debug.c in 4.9,
 * kernel/dma/debug.c from 4.20), as an option built into the host kernel
 * (host_kernel_config.dma_debug, scenario `kernel: dma_debug: true`).
 *
 * What it does, as Linux does it (docs/linux/dma-debug.md has the facts and
 * their sources per version):
 *   - every streaming mapping, scatter-gather entry and coherent allocation
 *     that succeeds becomes a struct dma_debug_entry in a hash keyed by DMA
 *     address (bucket (dev_addr >> 13) & (HASH_SIZE - 1), entries appended),
 *     from a pool of preallocated entries (4.x: fixed, 65536 by default; 5.x:
 *     pages of 32 that grow when the pool is empty);
 *   - unmaps, frees and syncs look their entry up (exact or containing match,
 *     best fit among several) and report misuse with err_printk: a WARN whose
 *     text is "<driver> <device>: DMA-API: <text>" (4.x) or "DMA-API: <driver>
 *     <device>: <text>" (5.x), followed by "Mapped at:" when an entry is
 *     known;
 *   - only show_num_errors (1) errors are shown per boot, for the whole
 *     system, unless all_errors is set (debugfs dma-api/all_errors and
 *     num_errors: host_dma_debug_set_*); error_count counts them all;
 *   - the first cache line of every mapping a device may write is tracked;
 *     5.x reports a second such mapping of the same line;
 *   - when a driver is unbound, a device with entries left gets "device driver
 *     has pending DMA allocations while released from device" and one of them.
 *
 * The WARN: Linux prints "------------[ cut here ]------------", a "WARNING:
 * CPU: %d PID: %d at <file>:<line> <function>+<offset>/<size>" line (before
 * the message in 4.9, after it from 4.20), the modules, registers, a
 * backtrace and "---[ end trace <id> ]---". pcilab prints the lines whose
 * text it can know: the cut-here line and the message (then "Mapped at:" for
 * an entry, without the saved stack trace). A message whose format has no
 * final newline (Linux's "failed to check map error" and "different CPU
 * address") is closed by the WARN's next line in Linux; here it is stored as
 * a complete line.
 *
 * Pointers (%p) in messages: 4.9 prints the raw kernel address, 4.20+ a hash
 * of it with a key drawn at boot; neither can be known for memory pcilab's
 * kernel did not allocate, so the text "(____ptrval____)" stands in (Linux's
 * own text for a pointer it withholds).
 *
 * The API hooks (debug_dma_*) are called by dma.c only when k->dma_debug is
 * set: with debugging not built in, or switched off by dma_debug=off, the
 * cost of the DMA API is that one test and nothing is allocated. */
#ifndef PCILAB_HOST_DMA_DEBUG_H
#define PCILAB_HOST_DMA_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/dma.h"
#include "host/kernel.h"

/* PREALLOC_DMA_DEBUG_ENTRIES: arch/x86/kernel/pci-dma.c 4.9 (65536),
 * kernel/dma/debug.c 4.20+ (1 << 16). */
#define HOST_DMA_DEBUG_PREALLOC 65536u

/* dma_debug_init at its place in boot (host_boot calls it where the version
 * does, kver.h dma_debug_init_at): allocates the hash and prints
 *   DMA-API: preallocated <n> debug entries
 *   DMA-API: debugging enabled by kernel config
 * Does nothing when debugging is not built in, dma_debug=off was given, or it
 * already ran. 0, or -PCILAB_ENOMEM with err filled. */
int host_dma_debug_init(struct host_kernel *k, struct pcilab_err *err);

/* True when pcilab's kernel reports p as vmalloc memory: the only vmalloc
 * memory a driver can name is its own stack (CONFIG_VMAP_STACK=y, the
 * default of arch/Kconfig in every modelled version), so this is "p lies in
 * the stack of the thread running the kernel's code". */
bool host_is_vmalloc_addr(const void *p);

/* ---- Hooks, with Linux's names and arguments as pcilab has them (a page is
 * its physical address). dma.c calls them in Linux's order. ---- */
void debug_dma_map_single(struct device *dev, const void *addr, unsigned long len);
void debug_dma_map_page(struct device *dev, uint64_t phys, size_t size, int direction,
                        dma_addr_t dma_addr, bool map_single);
void debug_dma_unmap_page(struct device *dev, dma_addr_t addr, size_t size, int direction,
                          bool map_single);
void debug_dma_mapping_error(struct device *dev, dma_addr_t dma_addr);
void debug_dma_map_sg(struct device *dev, struct scatterlist *sg, int nents, int mapped_ents,
                      int direction);
void debug_dma_unmap_sg(struct device *dev, struct scatterlist *sglist, int nelems, int dir);
void debug_dma_alloc_coherent(struct device *dev, size_t size, dma_addr_t dma_addr, void *virt);
void debug_dma_free_coherent(struct device *dev, size_t size, void *virt, dma_addr_t addr);
void debug_dma_sync_single_for_cpu(struct device *dev, dma_addr_t dma_handle, size_t size,
                                   int direction);
void debug_dma_sync_single_for_device(struct device *dev, dma_addr_t dma_handle, size_t size,
                                      int direction);
void debug_dma_sync_single_range_for_cpu(struct device *dev, dma_addr_t dma_handle,
                                         unsigned long offset, size_t size, int direction);
void debug_dma_sync_single_range_for_device(struct device *dev, dma_addr_t dma_handle,
                                            unsigned long offset, size_t size, int direction);
void debug_dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg, int nelems,
                               int direction);
void debug_dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg, int nelems,
                                  int direction);

/* debug_dma_dump_mappings (exported by Linux; dev NULL: every device): one
 * dev_info line per entry, in hash order:
 *   "<type> idx <bucket> P=<phys> N=<pfn> D=<dev_addr> L=<size> <dir> <map err>" */
void debug_dma_dump_mappings(struct device *dev);

/* The bus notifier's BUS_NOTIFY_UNBOUND_DRIVER (dma_debug_device_change): the
 * driver core calls it after a driver's remove. With entries of dev left:
 * the "pending DMA allocations" error naming the last one in hash order. */
void host_dma_debug_unbound(struct device *dev);

/* Entries of dev (device_dma_allocations' count); 0 when debugging is off. */
unsigned host_dma_debug_count(const struct device *dev);

/* debugfs dma-api/: what Linux shows there. */
struct host_dma_debug_stats {
    bool disabled;               /* global_disable */
    uint32_t error_count;
    uint32_t all_errors;         /* show_all_errors */
    uint32_t num_errors;         /* show_num_errors: errors still to be shown */
    uint32_t num_free_entries, min_free_entries, nr_total_entries;
};
/* 0, or -PCILAB_ENOENT when the kernel has no dma-debug. */
int host_dma_debug_get_stats(const struct host_kernel *k, struct host_dma_debug_stats *out);
/* Writes to dma-api/all_errors and dma-api/num_errors. */
void host_dma_debug_set_all_errors(struct host_kernel *k, uint32_t v);
void host_dma_debug_set_num_errors(struct host_kernel *k, uint32_t v);
/* A write to dma-api/driver_filter (filter_write): the first word, or off
 * when name does not start with a letter or digit; prints what Linux does. */
void host_dma_debug_set_driver_filter(struct host_kernel *k, const char *name);

#endif
