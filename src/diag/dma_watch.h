/* The DMA watch: which memory a device reached that no DMA mapping of its
 * driver covered, during a simulation run, whether or not an IOMMU stopped it.
 *
 * With the IOMMU translating, a device's access outside its mappings faults
 * and the kernel says so. With `iommu=pt`, `iommu=off`, `amd_iommu=off` or
 * no IOMMU at all the same access lands: memory is corrupted (a write) or
 * the device reads data it was never given (a read), and the kernel prints
 * nothing (docs/linux/real-dma-bugs.md, tests/linux/captured/edu-vtd-pt-*).
 * The watch names those accesses, for every device model, from two
 * observations:
 *   - the DMA API (host_dma_set_watch, host/dma.h): every mapping a driver
 *     makes -- its device, DMA address, size, direction and physical address
 *     -- and every unmapping, kept with the time (unmapped ones as history);
 *   - the root complex: every memory request that came up through the fabric
 *     and completed successfully (it wraps the fabric's upstream sink and,
 *     when the machine has an IOMMU, its observer, chaining the one installed
 *     before, so the physical address of a translated request is known; an
 *     untranslated one is its own physical address).
 * Each such request is checked at the time it lands against the live
 * mappings of the device its requester ID names (and of the functions below
 * the root port it came through: a device with a wrong requester ID still
 * writes its own buffer). Bytes outside them are "outside" findings; bytes
 * inside a mapping the device may not use that way (a write into a
 * DMA_TO_DEVICE mapping, a read of a DMA_FROM_DEVICE one: Linux 6.1
 * dma_info_to_prot, drivers/iommu/dma-iommu.c) are "direction" findings.
 * Each finding is grouped by (requester ID, read or write, kind, physical
 * page) and says whose the page was at the first access: another device's
 * live mapping, a mapping unmapped earlier (with when), kernel memory in use
 * that nobody mapped for DMA, or memory the kernel has not allocated.
 *
 * The requests of the IOMMU itself (its own requester ID) and interrupt
 * messages are not checked. The watch allocates when a mapping is made, not
 * per request; findings beyond DIAG_DMA_WATCH_MAX are counted, not kept. */
#ifndef PCILAB_DIAG_DMA_WATCH_H
#define PCILAB_DIAG_DMA_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/dma.h"
#include "sim/time.h"

struct host_kernel;
struct pcie_fabric;
struct iommu;

#define DIAG_DMA_WATCH_MAX 32

enum diag_dma_stray_kind {
    DIAG_STRAY_OUTSIDE = 0, /* no mapping of the device covers the bytes */
    DIAG_STRAY_DIRECTION,   /* a mapping covers them for the other direction */
};

struct diag_dma_stray {
    uint16_t rid;             /* requester ID of the requests */
    bool write;
    enum diag_dma_stray_kind kind;
    uint64_t page;            /* physical page (address >> 12) */
    uint64_t bytes, tlps;     /* bytes of this kind in the page, requests that had some */
    sim_time_t first, last;
    uint64_t first_bus;       /* first such byte: the address the device used */
    uint64_t first_pa;        /* and where it landed */
    uint64_t last_pa;         /* last byte (highest) that landed in the page */
    char device[64];          /* "00:03.0 (edu)": the requester and its driver, or "00:00.0 (no driver)" */
    char owner[192];          /* whose the page was at the first access, in words */
    char near[192];           /* the nearest DMA buffer by physical address, "" none */
    char mappings[192];       /* the device's live mappings then, in words */
};

struct diag_dma_watch;

/* Attaches to k's DMA API and to f's upstream path (and to io's observer
 * when io is non-NULL and sits on f). NULL when out of memory. */
struct diag_dma_watch *diag_dma_watch_create(struct host_kernel *k, struct pcie_fabric *f,
                                             struct iommu *io);
/* One more IOMMU on f's upstream path (a machine with several VT-d units,
 * iommu/router.h): its translations are observed too. Ignored (0) when io is
 * NULL or not on f; -1 when 8 are observed already. */
int diag_dma_watch_add_iommu(struct diag_dma_watch *w, struct iommu *io);
/* Detaches (restoring what was installed before it, where it still is) and
 * frees. NULL is fine. */
void diag_dma_watch_destroy(struct diag_dma_watch *w);

size_t diag_dma_watch_count(const struct diag_dma_watch *w);
/* In order of first occurrence. */
const struct diag_dma_stray *diag_dma_watch_at(const struct diag_dma_watch *w, size_t i);

struct diag_dma_watch_totals {
    uint64_t writes, reads;          /* requests checked */
    uint64_t write_bytes_outside;    /* bytes of write findings (both kinds) */
    uint64_t read_bytes_outside;     /* bytes of read findings */
    uint64_t maps, unmaps;           /* DMA API calls seen */
    uint64_t dropped;                /* findings that did not fit */
};
void diag_dma_watch_totals(const struct diag_dma_watch *w, struct diag_dma_watch_totals *out);

/* The DMA API mappings the watch saw, in order of mapping: the live ones
 * and the unmapped ones it still remembers (the newest 1024), each with the
 * times it was mapped and unmapped. The diagnosis of an IOMMU fault reads
 * them to say what the faulting address was AT THE TIME of the fault (the
 * page tables after the run no longer hold an unmapped buffer). */
struct diag_dma_map {
    uint16_t rid;                /* the device's BDF when mapped, 0xffff: not PCI */
    uint64_t dma, size, phys;    /* DMA address, bytes, physical address */
    enum dma_data_direction dir;
    bool coherent;               /* dma_alloc_coherent (dir is then BIDIRECTIONAL) */
    bool live;                   /* still mapped */
    sim_time_t mapped, unmapped; /* unmapped: meaningful when !live */
    const char *driver;          /* the driver bound then, "" when none */
    const char *device;          /* "0000:00:03.0" */
};
size_t diag_dma_watch_map_count(const struct diag_dma_watch *w);
/* false past the end. */
bool diag_dma_watch_map_at(const struct diag_dma_watch *w, size_t i, struct diag_dma_map *out);
/* "DMA_TO_DEVICE", "DMA_FROM_DEVICE", "DMA_BIDIRECTIONAL", "DMA_NONE". */
const char *diag_dma_dir_name(enum dma_data_direction d);

/* The findings as text for people, one line per call of `line` (no newline
 * in text); nothing when there are none. */
void diag_dma_watch_report(const struct diag_dma_watch *w,
                           void (*line)(void *ctx, const char *text), void *ctx);

#endif
