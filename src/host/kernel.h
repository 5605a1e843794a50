/* The Linux-like host kernel: one struct host_kernel per simulated machine,
 * holding what Linux keeps in its globals (the PCI device list, the page
 * allocator, the IRQ descriptors, the DMA and IOMMU state), owned by the
 * struct pcilab_sim it runs on.
 *
 * The kernel reaches the hardware only as the CPU does: configuration
 * requests and MMIO through the fabric's root complex (pcie/route.h), and
 * loads and stores to simulated memory. It never reads a device model's C
 * state.
 *
 * The current kernel. Drivers call Linux's API (printk, ioread32 ...) with no
 * handle on the machine, exactly as in Linux, where the answer is implicit in
 * the CPU running the code. pcilab keeps the kernel whose code is running in
 * one thread-local pointer, set while that kernel runs driver code (boot,
 * probe, interrupt handlers, tasks) and restored after: the one piece of
 * state outside struct pcilab_sim, and it holds no model state. Two
 * simulations in one process (or one thread) stay independent because each
 * sets it only while its own code runs. */
#ifndef PCILAB_HOST_KERNEL_H
#define PCILAB_HOST_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/cmdline.h"
#include "host/kver.h"
#include "mem/addrmap.h"
#include "mem/physmem.h"
#include "pcie/topology.h"
#include "sim/err.h"
#include "sim/sim.h"

struct host_pages;
struct pci_dev;
struct host_iomap;
struct host_irq;
struct host_mm;
struct host_swiotlb;
struct host_amd_iommu;
struct host_intel_iommu;
struct host_dma_debug;
struct host_dma_watch;
struct host_modules;

struct host_kernel {
    const struct host_kver *kver;    /* the version modelled (kver.h) */
    struct host_bootparams bootparams; /* the command line, parsed (cmdline.h) */
    char cmdline[1024];
    struct pcilab_sim *sim;
    struct pcie_fabric *fabric;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct host_pages *pages;

    unsigned ncpus;              /* possible CPUs */
    unsigned cpu;                /* the CPU the current code runs on */

    /* The bounce-buffer pool, NULL when the kernel has none (dma.h). */
    struct host_swiotlb *swiotlb;

    /* dev_WARN_ONCE of the direct DMA path fired (dma.c). */
    bool dma_overflow_warned;
    /* dev_WARN_ONCE "rejecting DMA map of vmalloc memory" fired (dma.c, 5.x). */
    bool dma_vmalloc_warned;

    /* CONFIG_DMA_API_DEBUG is built in (host_kernel_config.dma_debug). */
    bool dma_debug_built;
    /* DMA API debugging (dma_debug.h): NULL until dma_debug_init has run,
     * and for good when it is not built in or dma_debug=off; the DMA API
     * tests this one pointer and does nothing more when it is NULL. */
    struct host_dma_debug *dma_debug;
    /* An observer of every DMA mapping made and undone (dma.h,
     * host_dma_set_watch; the diagnosis's DMA watch). NULL: none. */
    const struct host_dma_watch *dma_watch;
    void *dma_watch_ctx;

    /* The PCI device list (pci.h), in BDF order. */
    struct pci_dev **pdevs;
    size_t npdevs;

    /* The direct map and kmalloc (mm.h). */
    struct host_mm *mm;

    /* Interrupts (irq.h). */
    struct host_irq *irq;

    /* The AMD IOMMU driver (amd_iommu.h), NULL when none is in use. */
    struct host_amd_iommu *amd_iommu;
    /* The Intel IOMMU driver (intel_iommu.h), NULL when the kernel read no DMAR. */
    struct host_intel_iommu *intel_iommu;

    /* Loaded modules and registered PCI drivers (module.h), NULL until the
     * first insmod; owned by sim. */
    struct host_modules *modules;

    /* pci_iomap cookies (pci.h), sorted by cookie address. */
    struct host_iomap *iomaps;
    size_t niomaps, iomap_cap;
};

struct host_kernel_config {
    const char *version;         /* "4.9.80", "5.15" ...; NULL: HOST_KERNEL_DEFAULT_VERSION */
    const char *cmdline;         /* the kernel command line; NULL: "" */
    unsigned ncpus;              /* 0: 4 */
    bool dma_debug;              /* CONFIG_DMA_API_DEBUG=y (dma_debug.h); Debian
                                    builds it off, as is the default here */
};

#define HOST_KERNEL_DEFAULT_VERSION "6.1"
#define HOST_KERNEL_CMDLINE_MAX 1023

/* Creates the kernel on a machine (fabric, RAM and its address map, all owned
 * elsewhere; the kernel is owned by sim): picks the version's table entry,
 * configures the printk ring for it and parses the command line (its lines
 * go to the ring, as early boot prints them). NULL with err filled on failure:
 * an unknown version (the message lists the modelled ones), a command line
 * longer than COMMAND_LINE_SIZE - 1, no RAM. */
struct host_kernel *host_kernel_create(struct pcilab_sim *sim, struct pcie_fabric *fabric,
                                       struct mem_phys *ram, struct mem_addrmap *map,
                                       const struct host_kernel_config *cfg,
                                       struct pcilab_err *err);

/* The kernel whose code runs now, or NULL. */
struct host_kernel *host_current(void);
/* Makes k current; returns the previous one, to give back to host_leave. */
struct host_kernel *host_enter(struct host_kernel *k);
void host_leave(struct host_kernel *prev);

/* printk on the kernel's ring at the current simulated time. */
int host_printk(struct host_kernel *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int host_vprintk(struct host_kernel *k, const char *fmt, va_list ap);

#endif
