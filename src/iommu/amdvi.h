/* The AMD-Vi IOMMU hardware model (AMD I/O Virtualization Technology (IOMMU)
 * Specification, pub. 48882, rev 3.0x; formats in amdvi_fmt.h).
 *
 * The model owns nothing software could hand it as C data: the host programs
 * its 16 KiB MMIO register block (3.4) through the physical address map, and
 * the model reads the device table, I/O page tables and interrupt remapping
 * tables from simulated memory and writes the event log and COMPLETION_WAIT
 * stores there itself. It plugs into the common interface (iommu.h) through
 * amdvi_iommu().
 *
 * What it does (section of the spec in brackets):
 * - Control (3.4.4): IommuEn = 0 passes every request and interrupt through
 *   untouched. CmdBufRun / EventLogRun follow CmdBufEn / EventLogEn (with
 *   IommuEn) on a 0 -> 1 transition and stop on errors and overflow.
 * - Base registers (3.4.1-3.4.3) ignore writes while the structure they
 *   describe is in use (device table: IommuEn; command buffer: CmdBufRun;
 *   event log: EventLogRun). Head and tail pointers wrap modulo the buffer
 *   size; Status has RW1C and read-only bits (3.4.11).
 * - Translation (2.2, 2.3): requester ID -> DTE from the device table (a
 *   direct-mapped DTE cache keeps stale entries until INVALIDATE_DEVTAB_ENTRY
 *   or eviction), V = 0 untranslated, reserved bits -> ILLEGAL_DEV_TABLE_ENTRY,
 *   Mode 0 (and TV = 0, see below) untranslated but gated by IR/IW, Mode 1-6
 *   walks with permission AND-ing, Next Level 7 pages, skipped levels,
 *   IOTLB (iotlb.h) tagged by DomainID whose stale entries are used until an
 *   INVALIDATE_IOMMU_PAGES / INVALIDATE_IOMMU_ALL covers them.
 * - Events (2.5) are written at the event log tail; a full log (tail + 16 ==
 *   head) sets EventOverflow, clears EventLogRun and drops the event, as
 *   Linux's restart_event_logging expects (software toggles EventLogEn).
 *   EventLogInt is set per event written; with EventIntEn the model calls
 *   cfg.msi (also on overflow); ComWaitInt with ComWaitIntEn likewise.
 * - Commands (2.4) run synchronously: a write to the tail register (or the
 *   CmdBufEn 0 -> 1 transition) processes every command up to the tail
 *   before the MMIO write returns, so a COMPLETION_WAIT store is visible
 *   when the driver polls. cmd_latency is accounted in the stats only.
 * - Interrupt remapping (2.2.5): IV, IntCtl, IntTabLen, legacy 32-bit IRTEs
 *   and 128-bit IRTEs when GAEn = 1, pass bits by delivery mode, an IRTE cache
 *   invalidated by INVALIDATE_INTERRUPT_TABLE. The result is a compatibility
 *   format x86 MSI.
 *
 * Decisions where the spec leaves room (also in docs/design.md's spirit):
 * - DTE V = 1, TV = 0: no translation, access gated by IR/IW like Mode 0.
 *   Linux (v6.1 drivers/iommu/amd/iommu.c set_dte_entry/clear_dte_entry)
 *   relies on this when SNP is enabled (identity domain V=1 TV=0 IR=IW=1;
 *   blocked device V=1 TV=0 IR=IW=0). VirtualBox's model faults instead.
 * - A DeviceID beyond the device table: IO_PAGE_FAULT (PR = 0, DomainID 0),
 *   target abort.
 * - Requests with a PASID: guest (GCR3) translation is not modelled. With
 *   DTE.GV = 0 the PASID is ignored (host translation; a fault records US
 *   and NX from the request); with GV = 1 the request faults IO_PAGE_FAULT
 *   with GN = 1 and the PASID in the D/P field.
 * - HyperTransport ranges (2.1.x address table): 0xFD_0000_0000-0xFD_F7FF_FFFF
 *   interrupt/EOI, 0xFD_F800_0000-0xFD_F8FF_FFFF and 0xFD_F910_0000-0xFF_FFFF_FFFF
 *   (but I/O space) reserved, 0xFD_F900_0000-0xFD_F90F_FFFF system management
 *   (DTE.SysMgt = 11b passes DMA), 0xFD_FC00_0000-0xFD_FDFF_FFFF port I/O
 *   (DTE.IoCtl). Refused requests log INVALID_DEVICE_REQUEST.
 * - SE = 1: one IO_PAGE_FAULT is logged per (device, page) until an
 *   invalidation of that page, the device's DTE or everything; SA = 1: none.
 * - Every refusal completes with target abort (PCIE_CPL_CA).
 */
#ifndef PCILAB_IOMMU_AMDVI_H
#define PCILAB_IOMMU_AMDVI_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/amdvi_fmt.h"
#include "iommu/iommu.h"
#include "iommu/iotlb.h"
#include "mem/addrmap.h"
#include "mem/physmem.h"
#include "sim/err.h"
#include "sim/time.h"

struct pcilab_sim;

struct amdvi_config {
    uint64_t mmio_base;          /* where the 16 KiB register block is mapped */
    uint16_t devid;              /* the IOMMU's own requester ID (00:00.2 = 0x0002) */
    uint64_t efr;                /* Extended Feature Register (read-only, 3.4.7) */
    bool iotlb_sup;              /* capability header IotlbSup: INVALIDATE_IOTLB_PAGES legal */
    bool intremap;               /* interrupt remapping implemented (else IV is ignored) */
    struct iommu_iotlb_config iotlb;
    unsigned dte_cache_entries;  /* power of two, direct-mapped by DeviceID */
    unsigned irte_cache_entries; /* power of two, direct-mapped by DeviceID and index */
    sim_time_t cmd_latency;      /* per command (accounted, commands run synchronously) */
    void (*msi)(void *ctx);      /* the IOMMU's own interrupt (event log, completion wait) */
    void *msi_ctx;
};

/* Defaults: MMIO at 0xfeb80000, devid 0x0002, EFR = PreFSup | PPRSup | IASup |
 * GASup | HATS 6 levels, IOTLB defaults, 256-entry DTE and IRTE caches,
 * 10 ns per command, interrupt remapping on, no msi callback. */
void amdvi_config_default(struct amdvi_config *c);

struct amdvi;

/* Creates the model on `sim` (which owns it: sim_destroy frees it), reading
 * and writing `mem` through `map` (table reads outside any region are
 * master aborts, reserved / MMIO refusals target aborts), and maps its
 * registers into `map` at cfg->mmio_base. NULL with err filled on bad
 * configuration, an overlapping MMIO window or no memory. */
struct amdvi *amdvi_create(struct pcilab_sim *sim, struct mem_phys *mem, struct mem_addrmap *map,
                           const struct amdvi_config *cfg, struct pcilab_err *err);
/* The common handle (ops "amd-vi"). */
struct iommu *amdvi_iommu(struct amdvi *a);
/* The configuration it was created with (its EFR, MMIO base ...). */
const struct amdvi_config *amdvi_get_config(const struct amdvi *a);

struct amdvi_stats {
    uint64_t events_logged;      /* entries written to the event log */
    uint64_t events_dropped;     /* not written: log disabled, stopped or full */
    uint64_t events_suppressed;  /* SA / SE / SupIOPF / IG */
    uint64_t commands;           /* commands executed */
    uint64_t msis;               /* calls of cfg.msi */
    uint64_t dte_reads, table_reads, irte_reads;
    sim_time_t cmd_time;         /* commands * cmd_latency */
};
void amdvi_get_stats(const struct amdvi *a, struct amdvi_stats *st);

#endif
