/* The host kernel's AMD IOMMU driver, as Linux 4.9.80, 4.20, 5.15 and 6.1
 * behave (drivers/iommu/amd_iommu{,_init}.c in 4.x, drivers/iommu/amd/ and
 * dma-iommu.c in 5.x/6.1). docs/linux/amd-iommu.md holds the facts read from
 * those sources; docs/linux/amd-iommu-model.md says what this model does per
 * version and what it leaves out.
 *
 * The driver reaches the AMD-Vi hardware (src/iommu/amdvi.h) only as Linux
 * does: CPU loads and stores to its MMIO register block through the physical
 * address map, and tables, commands and the event log in simulated memory
 * (pages from host_alloc_pages, whose CPU addresses alias simulated memory).
 *
 * What host_amd_iommu_init does, in Linux's order (amd_iommu_init.c
 * state_next, 4.9; the same sequence in later versions):
 *   detect: iommu=off / amd_iommu=off -> nothing; IVRS read as the version
 *     reads it (host_ivrs_linux_run) with its firmware-bug lines;
 *   early init: device table (tbl_size(32 bytes x (last_bdf + 1))), alias and
 *     rlookup tables, per IOMMU an 8 KiB command buffer and 8 KiB event log,
 *     IVRS DTE bits, IV for every devid when interrupt remapping is on;
 *   enable: iommu_disable, init_flags, device table base, command buffer,
 *     event log, exclusion range, GA, IommuEn, flush all caches;
 *   PCI init: groups and default domains for every pci_dev check_device
 *     accepts (lines "iommu: Adding device ..." / "Adding to iommu group N"),
 *     dma_ops set, then init_device_table_dma (V|TV for every other devid up
 *     to last_bdf), flush, print_iommu_info;
 *   interrupts: pci_enable_msi on the IOMMU's own function, request_irq,
 *     EventIntEn;
 *   DMA ops: "Lazy IO/TLB flushing enabled" (4.x).
 * Interrupt remapping is offered to the IRQ core (host_irq_set_remap) when the
 * IVRS lists the southbridge IOAPIC (check_ioapic_information).
 */
#ifndef PCILAB_HOST_AMD_IOMMU_H
#define PCILAB_HOST_AMD_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/kernel.h"
#include "host/pci.h"
#include "sim/err.h"

struct amdvi_config;
struct host_amd_iommu;

/* What firmware tells the kernel besides the IVRS. */
struct host_amd_iommu_platform {
    /* The MADT's I/O APIC ids (check_ioapic_information). n_ioapics 0: the
     * MADT is taken to list exactly the IOAPICs the IVRS names (specials of
     * variety 1), or, when the IVRS names none, one IOAPIC with id 0. */
    const uint8_t *ioapic_ids;
    size_t n_ioapics;
};

/* Linux's AMD IOMMU initialisation, called by boot after host_pci_scan. ivrs
 * is the table's bytes (NULL or len 0: no IVRS, no AMD IOMMU). Returns 0 also
 * when Linux would not use the IOMMU (off, bad table): the kernel then runs
 * without it, as Linux does. Negative PCILAB_E* codes only for what Linux
 * would treat as fatal to the machine model (no memory, the IVHD's MMIO
 * address answering nothing). */
int host_amd_iommu_init(struct host_kernel *k, const uint8_t *ivrs, size_t ivrs_len,
                        struct pcilab_err *err);
int host_amd_iommu_init_platform(struct host_kernel *k, const uint8_t *ivrs, size_t ivrs_len,
                                 const struct host_amd_iommu_platform *plat,
                                 struct pcilab_err *err);

/* The driver's state, NULL when the kernel has no AMD IOMMU in use. */
struct host_amd_iommu *host_amd_iommu_of(struct host_kernel *k);

/* Wires an AMD-Vi model's interrupt (amdvi_config.msi) to the MSI capability
 * of the IOMMU's PCI function: the model's callback sends vector 0 of that
 * function's MSI (pcie_fn_msi_send), as the hardware does. Call before
 * amdvi_create with the function the IVHD names (its DeviceID, e.g. 00:00.2).
 * The function must have Bus Master Enable set by firmware (the machine
 * builder), since the send honours it; the IOMMU's own requester ID must bypass
 * translation (iommu_attach_fabric(..., has_own_rid = true, devid)). */
void host_amd_iommu_wire_msi(struct amdvi_config *cfg, struct pcie_fn *iommu_fn);

/* ---- Inspection, for tests and diagnosis ---- */

struct host_amd_iommu_info {
    bool enabled;               /* the IOMMU(s) are on and translating */
    bool irq_remap;             /* interrupt remapping enabled */
    bool ga_mode;               /* 128-bit IRTEs (AMD_IOMMU_GUEST_IR_GA) */
    bool v2;                    /* amd_iommu_v2_present: an IOMMU has GTSup and PPRSup */
    bool lazy;                  /* unmap flushing is lazy (flush queue) */
    unsigned n_iommus;
    uint16_t last_bdf;
    uint64_t dev_table_pa;      /* device table (also in MMIO 0x0000) */
    uint32_t dev_table_size;    /* bytes */
    uint64_t cmd_buf_pa, evt_buf_pa; /* IOMMU 0 */
    int irq;                    /* IOMMU 0's event interrupt, -1 when none */
    uint64_t events_printed;    /* event log entries handled */
    uint64_t completion_waits, completion_timeouts;
    uint64_t fq_flushes;        /* flush-queue flushes (full or timer) */
};
void host_amd_iommu_get_info(const struct host_amd_iommu *a, struct host_amd_iommu_info *out);

/* The protection domain a device is attached to: its id and whether it is an
 * identity (pass-through) domain. Returns false for a device the driver does
 * not handle (check_device false, or IOMMU off). */
bool host_amd_iommu_dev_domain(const struct host_amd_iommu *a, const struct pci_dev *pdev,
                               uint16_t *domain_id, bool *identity, int *group_id);

/* What the driver's I/O page tables say about one IOVA, per protection
 * domain (a diagnosis asks which DMA API mapping owns a faulting address):
 * the page the walk Linux's fetch_pte does finds, and the PTE's rights. */
struct host_amd_iommu_mapping {
    uint16_t domain_id;         /* protection_domain.id */
    uint64_t pa;                /* physical address iova translates to */
    uint64_t page_size;         /* bytes the PTE maps */
    bool ir, iw;                /* PTE IR / IW (amd_iommu_types.h IOMMU_PTE_IR, _IW) */
};
/* Every DMA API (paging) domain whose page table maps iova, by ascending
 * domain id: fills at most max entries, returns how many domains map it.
 * Identity (pass-through) domains have no table and are not listed. */
size_t host_amd_iommu_iova_lookup(const struct host_amd_iommu *a, uint64_t iova,
                                  struct host_amd_iommu_mapping *out, size_t max);
/* The DeviceIDs (requester IDs) the driver attached to domain_id, aliases
 * included, ascending: fills at most max, returns how many there are. */
size_t host_amd_iommu_domain_devids(const struct host_amd_iommu *a, uint16_t domain_id,
                                    uint16_t *out, size_t max);

/* Runs the flush queue now, as its timer would (all CPUs). */
void host_amd_iommu_flush_queue(struct host_amd_iommu *a);

#endif
