/* The host kernel's Intel IOMMU driver (VT-d), as Linux 4.9.80, 4.20, 5.15
 * and 6.1 behave: drivers/iommu/dmar.c, intel-iommu.c, intel_irq_remapping.c
 * in 4.x; drivers/iommu/intel/{dmar,iommu,irq_remapping}.c with dma-iommu.c
 * in 5.x. docs/linux/intel-iommu.md holds the facts read from those sources
 * (file and version beside each) and what this model leaves out.
 *
 * The driver reaches the remapping hardware only as Linux does: CPU loads and
 * stores to each DRHD's register page through the physical address map, and
 * root, context and second-level page tables and the invalidation queue in
 * simulated memory (pages from host_alloc_pages), encoded with
 * iommu/vtd_fmt.h.
 *
 * Boot happens in two steps, as on x86:
 *   host_intel_iommu_detect (pci_iommu_alloc -> detect_intel_iommu and
 *     enable_IR_x2apic, before the PCI scan): the DMAR as the version reads
 *     it ("DMAR: Host address width 39", "DMAR: DRHD base: ... flags: ...",
 *     "DMAR: dmar0: reg_base_addr ... ver 1:0 cap ... ecap ..."), and
 *     interrupt remapping ("DMAR-IR: IOAPIC id 0 under DRHD base  0x... IOMMU
 *     0", "DMAR-IR: Enabled IRQ remapping in xapic mode") when the table's
 *     INTR_REMAP flag and every unit's ECAP.IR allow it: every unit its own
 *     remapping table, a device's MSI IRTEs in its DRHD's table. The table
 *     is read whatever intel_iommu= says, as Linux does.
 *   host_intel_iommu_init (intel_iommu_init, after the PCI scan): nothing
 *     more with iommu=off or DMA remapping disabled (intel_iommu=off, or the
 *     version's default); else "No RMRR/ATSR/SATC found", the units with no
 *     device or (igfx_off) only graphics ignored, per other unit the root
 *     table, queued invalidation ("dmar0: Using Queued invalidation"), the
 *     fault interrupt, per device its group and default domain (DMA, or
 *     identity for iommu=pt, igfx_off graphics, Debian 6.1's integrated GPU),
 *     RMRR identity maps, context entries, translation enabled, and the
 *     banner "DMAR: Intel(R) Virtualization Technology for Directed I/O".
 *
 * Scalable mode (5.15, 6.1; docs/linux/intel-iommu.md section k): a unit
 * with ECAP.SMTS runs it when intel_iommu_sm is set (sm_on, or the version's
 * CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON: Debian 6.1): RTADDR.TTM 01b,
 * 256-bit context entries pointing at a PASID directory, the RID2PASID
 * entry second-level or, when every unit has ECAP.FLTS, first-level (x86
 * page tables, PASID-based IOTLB flushes) for DMA domains, pass-through for
 * iommu=pt, PASID-cache flushes; any unit with ECAP.SMTS gets 256-bit invalidation descriptors
 * (IQA.DW) in 5.x, scalable mode or not. The lines are those of legacy mode.
 */
#ifndef PCILAB_HOST_INTEL_IOMMU_H
#define PCILAB_HOST_INTEL_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/kernel.h"
#include "host/pci.h"
#include "sim/err.h"

struct host_intel_iommu;

/* The early step; dmar NULL or len 0: no DMAR, nothing happens. Returns 0
 * also when Linux would not use the table. */
int host_intel_iommu_detect(struct host_kernel *k, const uint8_t *dmar, size_t len,
                            struct pcilab_err *err);
/* The late step (after host_pci_scan). Negative PCILAB_E* codes only for what
 * is fatal to the machine model (no memory, a DRHD whose registers answer
 * nothing). */
int host_intel_iommu_init(struct host_kernel *k, struct pcilab_err *err);

/* The driver's state, NULL when the kernel has read no DMAR. */
struct host_intel_iommu *host_intel_iommu_of(struct host_kernel *k);

/* ---- Inspection, for tests and diagnosis ---- */

struct host_intel_iommu_info {
    bool dma_remapping;        /* translation enabled on the (not ignored) units */
    bool irq_remapping;        /* interrupt remapping enabled */
    bool qi;                   /* queued invalidation in use on unit 0 */
    bool scalable;             /* unit 0 in scalable mode (RTADDR.TTM 01b) */
    bool lazy;                 /* unmaps flushed through a flush queue */
    unsigned n_units;
    uint64_t root_pa;          /* unit 0's (dmar0's) root table, 0 when none */
    uint64_t faults_printed;   /* fault records handled, all units */
    int irq;                   /* unit 0's fault interrupt, -1 when none */
};
void host_intel_iommu_get_info(const struct host_intel_iommu *v,
                               struct host_intel_iommu_info *out);

/* One remapping unit (a DRHD). Units are numbered in DMAR table order: unit
 * i is Linux's dmar<i> (its seq_id), whatever order Linux walks them in. */
struct host_intel_iommu_unit_info {
    uint64_t reg_base;         /* the DRHD's Register Base Address */
    char name[16];             /* "dmar0" */
    bool include_all;          /* INCLUDE_PCI_ALL */
    bool ignored;              /* drhd->ignored: no device in its scope, or gfx
                                  dedicated with intel_iommu=igfx_off; no root
                                  table, translation never enabled */
    bool gfx_dedicated;        /* its scope names graphics devices only */
    bool translation;          /* the driver set GCMD.TE */
    bool qi;                   /* queued invalidation on (for DMA or IR) */
    bool ir;                   /* interrupt remapping enabled (GCMD.IRE) */
    uint64_t root_pa;          /* root table, 0 when none */
    uint64_t ir_table_pa;      /* its interrupt remapping table, 0 when none */
    unsigned ir_entries;       /* IRTEs allocated in that table */
    int irq;                   /* its fault interrupt, -1 when none */
    unsigned n_devices;        /* PCI devices whose DRHD it is
                                  (dmar_find_matched_drhd_unit), ignored or not */
};
/* 0, or -ENODEV when v is NULL or i >= n_units (out zeroed, irq -1). */
int host_intel_iommu_unit_info(const struct host_intel_iommu *v, unsigned i,
                               struct host_intel_iommu_unit_info *out);
/* The unit whose DRHD covers pdev (dmar_find_matched_drhd_unit: an
 * INCLUDE_PCI_ALL unit of its segment, or a scope naming it or a bridge above
 * it), ignored or not: its number (index for host_intel_iommu_unit_info) and
 * register base. False when no DRHD covers it (or v is NULL). Usable from
 * host_intel_iommu_detect on (the devices exist after the PCI scan). */
bool host_intel_iommu_dev_unit(const struct host_intel_iommu *v, const struct pci_dev *pdev,
                               unsigned *index, uint64_t *reg_base);

/* The domain of a device: its DID, identity or not, its group. False for a
 * device the driver has not attached (DMA remapping off, not in any DRHD, or
 * 4.x before the first mapping). */
bool host_intel_iommu_dev_domain(const struct host_intel_iommu *v, const struct pci_dev *pdev,
                                 uint16_t *did, bool *identity, int *group);

/* What the second-level table of a device's domain says about one IOVA. */
struct host_intel_iommu_mapping {
    uint16_t did;
    uint64_t pa;
    bool r, w;
};
bool host_intel_iommu_lookup(const struct host_intel_iommu *v, const struct pci_dev *pdev,
                             uint64_t iova, struct host_intel_iommu_mapping *out);

/* Attaching a device to a domain of its user's own (VFIO, KVM device
 * assignment: intel_iommu_attach_device). A device an RMRR names that is
 * not relaxable (USB and graphics devices are, in every version) is refused
 * with the dev_warn "Device is ineligible for IOMMU domain attach due to platform
 * RMRR requirement.  Contact your platform vendor." and -EPERM, as every
 * modelled version does. Returns 0 when attached. */
int host_intel_iommu_attach_unmanaged(struct host_intel_iommu *v, struct pci_dev *pdev);

/* Runs the flush queue now, as its timer would. */
void host_intel_iommu_flush_queue(struct host_intel_iommu *v);

/* The line dmar_fault_do_one prints for one primary fault record (without
 * the "DMAR: " prefix and the newline): sid the requester, type_read the
 * record's T bit (1 = read), addr the page address (FI), reason FR, pasid
 * < 0 for none. The version's form (kver vtd_msg_5x). */
void host_intel_fault_line(const struct host_kver *kv, bool type_read, uint8_t reason,
                           long pasid, uint16_t sid, uint64_t addr, char *buf, size_t len);

#endif
