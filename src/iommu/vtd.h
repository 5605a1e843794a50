/* The Intel VT-d remapping hardware unit model (Intel Virtualization
 * Technology for Directed I/O Architecture Specification, rev 4.x; formats
 * in vtd_fmt.h). One struct vtd is one DMA-remapping hardware unit (a DRHD
 * of the ACPI DMAR table).
 *
 * Like the AMD-Vi model, it owns nothing software could hand it as C data:
 * the host programs its 4 KiB register page (10.4) through the physical
 * address map, and the model reads the root, context, second-level page and
 * interrupt remapping tables and the invalidation queue from simulated
 * memory, and writes wait-descriptor status words there itself. It plugs
 * into the common interface (iommu.h) through vtd_iommu().
 *
 * What it does (section of the spec in brackets):
 * - Registers (10.4): VER, CAP, ECAP read-only; GCMD write-only, each
 *   command reflected at once in GSTS (10.4.4/10.4.5): TE, SRTP (latches
 *   RTADDR), QIE, IRE, SIRTP (latches IRTA), CFI, WBF (completes at once),
 *   SFL/EAFL (no advanced fault log: ignored). FSTS with RW1C bits and PPF
 *   computed from the F bits (10.4.9), FECTL/FEDATA/FEADDR/FEUADDR (10.4.10-
 *   13), fault recording registers at CAP.FRO (10.4.14), IOTLB registers at
 *   ECAP.IRO (10.4.8), CCMD (10.4.7), IQH/IQT/IQA/ICS/IECTL/IEDATA/IEADDR
 *   (10.4.21-28), IRTA (10.4.30), PMEN and the protected memory ranges
 *   (10.4.16-20). 32- and 64-bit accesses; a 64-bit register may be written
 *   one half at a time (CCMD.ICC and IOTLB.IVT act when the high half is).
 * - Translation, legacy mode (3.4, 3.7, 9.1, 9.3): root entry by bus,
 *   context entry by devfn, TT 00 (second-level tables), 01 (with device-TLB,
 *   ECAP.DT: translated requests pass), 10 (pass-through, ECAP.PT), AW
 *   against CAP.SAGAW, DID (bits beyond CAP.ND reserved), FPD. Second-level
 *   walks of 3, 4 or 5 levels (3.7, 9.8) with 2 MiB and 1 GiB pages as
 *   CAP.SLLPS allows, R/W AND-ed over the levels, reserved bits by level,
 *   input addresses above min(MGAW, AGAW) faulting (reason 4).
 * - Caches (6.1, 6.2): a context cache (present, valid entries only: CM = 0)
 *   and the IOTLB (iotlb.h) tagged by domain ID, and an interrupt entry
 *   cache; stale entries are used until invalidated by CCMD / IOTLB_REG
 *   (6.5.1) or by queued invalidation (6.5.2): context-cache, IOTLB,
 *   device-TLB (no device-TLBs: accepted, no effect), interrupt entry cache
 *   and wait descriptors (status write, completion event through ICS.IWC /
 *   IECTL / IEDATA / IEADDR, fence accepted). The queue runs synchronously
 *   when IQT is written; a bad descriptor sets FSTS.IQE and stops the queue
 *   with IQH on it until software clears IQE. CAP.ESRTPS / ESIRTPS: SRTP /
 *   SIRTP also invalidate the caches (else software must).
 * - Faults (7.2, 7.3.1): primary fault logging into the fault recording
 *   registers at the unit's next index, PFO when that register is still
 *   full (the fault is dropped), PPF, FRI; qualified faults suppressed by
 *   the FPD of the context entry (DMA) or IRTE (interrupts). A fault event
 *   (10.4.10) is an interrupt condition when no FSTS status bit was set
 *   before: IP is set and, unless IM, the message FEADDR/FEUADDR/FEDATA is
 *   sent (cfg.msi) and IP cleared; clearing IM sends a pending one; IP
 *   clears when software clears every status bit.
 * - Interrupt remapping (5.1): with GSTS.IRES, remappable-format MSIs
 *   (handle, SHV, subhandle) index the IRTE table latched by SIRTP (size
 *   2^(S+1), EIME), IRTE present / reserved / source-id (SVT, SQ) checks,
 *   reasons 0x20-0x26, compatibility-format MSIs pass only with GSTS.CFIS
 *   and EIME = 0 (else reason 0x25). The result is a compatibility-format
 *   x86 MSI. The interrupt window is 0xFEE0_0000-0xFEEF_FFFF (3.x "Handling
 *   Requests to Interrupt Address Range").
 *
 * - Scalable mode (RTADDR.TTM = 01b with ECAP.SMTS, latched by SRTP; 3.x,
 *   9.2, 9.4-9.7): scalable-mode root entry (LP/UP halves), 256-bit context
 *   entry (P, FPD, DTE, PASIDE, PDTS, PASIDDIRPTR, RID_PASID / RID_PRIV with
 *   ECAP.RPS / RPRIVS), PASID directory and 512-bit PASID table entries,
 *   PGTT second-level (the legacy walk), first-level (4 or 5 levels by
 *   FLPM, 2 MiB pages, 1 GiB with CAP.FL1GP; P, R/W, U/S with SRE and WPE,
 *   XD with ERE, A/D and EA set in memory) and pass-through; nested is
 *   refused as an unsupported PGTT (0x5b). Requests without PASID use
 *   RID_PASID; requests with one (iommu_req.has_pasid) need PASIDE. A PASID
 *   cache and the IOTLB tagged by (DID, PASID); PASID-cache (type 7) and
 *   PASID-based IOTLB (type 6) descriptors, 256-bit descriptors (IQA.DW).
 *   TTM 11b (abort DMA) with ECAP.ADMS blocks every DMA unrecorded; TTM
 *   10b, or 11b without ADMS, faults with 0x30.
 *
 * Decisions where the spec leaves room (docs/vtd.md lists them all):
 * - TE = 0: DMA passes untranslated, except into an enabled protected
 *   memory range (PMEN.EPM; completed UR, nothing recorded).
 * - Requests with a PASID in legacy mode are translated as without one.
 * - A DMA read of the interrupt window with TE = 1 completes UR, nothing
 *   recorded; IRES = 0 passes every interrupt unchanged.
 * - Data bits 31:16 of a remappable MSI are treated as reserved (0x20).
 * - Faults are not collapsed per requester; every fault takes a register.
 * - Every refused DMA completes with UR (PCIE_CPL_UR): the spec's
 *   "unsupported request" for faulting untranslated requests (7.2.1).
 */
#ifndef PCILAB_IOMMU_VTD_H
#define PCILAB_IOMMU_VTD_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/iommu.h"
#include "iommu/iotlb.h"
#include "iommu/vtd_fmt.h"
#include "mem/addrmap.h"
#include "mem/physmem.h"
#include "sim/err.h"
#include "sim/time.h"

struct pcilab_sim;

/* Which of the unit's own interrupt messages cfg.msi carries. */
enum vtd_event {
    VTD_EVENT_FAULT,          /* fault event (FEADDR / FEDATA) */
    VTD_EVENT_INV_COMPLETION, /* invalidation completion event (IEADDR / IEDATA) */
};

struct vtd_config {
    uint64_t mmio_base;          /* the 4 KiB register page (DRHD Register Base Address) */
    uint16_t segment;            /* PCI segment of the DRHD */
    bool include_pci_all;        /* DRHD flag INCLUDE_PCI_ALL (the host reads it; the model
                                    translates whatever is attached to it) */
    uint32_t ver;                /* VER (10.4.1) */
    uint64_t cap, ecap;          /* CAP (10.4.2), ECAP (10.4.3), read-only */
    unsigned nfr;                /* fault recording registers, 1..256; 0: CAP.NFR + 1.
                                    Written into CAP.NFR at creation */
    unsigned haw;                /* host address width (DMAR table), bits: table and page
                                    addresses at or above it are reserved */
    struct iommu_iotlb_config iotlb;
    unsigned ctx_cache_entries;  /* power of two, direct-mapped by source ID */
    unsigned irte_cache_entries; /* power of two, direct-mapped by interrupt index */
    unsigned pasid_cache_entries; /* power of two, direct-mapped by source ID and PASID;
                                     0: 256 */
    sim_time_t desc_latency;     /* per invalidation descriptor (accounted; they run at once) */
    /* The unit's own interrupt messages (fault event, invalidation completion
     * event): the address and data software programmed. NULL: counted only. */
    void (*msi)(void *ctx, enum vtd_event ev, uint64_t addr, uint32_t data);
    void *msi_ctx;
};

/* Defaults: what QEMU 7.2 (Debian 12's qemu-system-x86 7.2.22) exposes for
 * `-machine q35 -device intel-iommu,intremap=on` without KVM, read from the
 * device with qtest (readq 0xfed90008 / 0xfed90010):
 *   VER 0x10, CAP 0x00d2008c22260206 (ND 6: 16-bit DIDs, SAGAW 39-bit,
 *   MGAW 39, FRO 0x220, SLLPS 2M+1G, PSI, NFR 1, MAMV 18, DWD, DRD),
 *   ECAP 0x0000000000f00f4a (QI, IR, PT, IRO 0xf0, MHMV 15; EIM only with
 *   KVM's split irqchip, vtd_config_qemu_eim).
 * MMIO at 0xfed90000, segment 0, INCLUDE_PCI_ALL, HAW 39, IOTLB defaults,
 * 256-entry context and IRTE caches, 10 ns per descriptor, no msi. */
void vtd_config_qemu(struct vtd_config *c);
/* The same with ECAP.EIM (QEMU's eim=on, which needs KVM): 0xf00f5a. */
void vtd_config_qemu_eim(struct vtd_config *c);
/* QEMU 7.2's scalable mode: `-device intel-iommu,intremap=on,x-scalable-mode=on`
 * under TCG, read with qtest (readq 0xfed90010): VER 0x10, CAP as
 * vtd_config_qemu, ECAP 0x0000480080f00f4a: the same plus SRS (31), SMTS (43)
 * and SLTS (46) (QEMU's vtd_init adds VTD_ECAP_SMTS | VTD_ECAP_SRS |
 * VTD_ECAP_SLTS when scalable_mode). No FLTS, NEST, PASID, RPS or ADMS:
 * second-level and pass-through PASID entries, requests without PASID
 * through PASID 0. */
void vtd_config_qemu_sm(struct vtd_config *c);
/* A client platform's INCLUDE_PCI_ALL unit as Linux prints it on many Intel
 * laptops (Skylake to Tiger Lake; "DMAR: dmar1: reg_base_addr fed91000 ver
 * 1:0 cap d2008c40660462 ecap f050da"): ND 2 (8-bit DIDs), PLMR, PHMR,
 * SAGAW 48-bit only (4 levels), MGAW 39, ZLR, FRO 0x400, SLLPS 2M+1G, PSI,
 * NFR 1, MAMV 18; ECAP QI, IR, EIM, PT, SC, IRO 0x500, MHMV 15. MMIO at
 * 0xfed91000, HAW 39. */
void vtd_config_client(struct vtd_config *c);

struct vtd;

/* Creates the unit on `sim` (which owns it: sim_destroy frees it), reading
 * and writing `mem` through `map`, and maps its registers into `map` at
 * cfg->mmio_base. NULL with err filled on a bad configuration (register
 * offsets outside the page or overlapping, no SAGAW, cache sizes), an
 * overlapping MMIO window or no memory. */
struct vtd *vtd_create(struct pcilab_sim *sim, struct mem_phys *mem, struct mem_addrmap *map,
                       const struct vtd_config *cfg, struct pcilab_err *err);
/* The common handle (ops "vt-d"). */
struct iommu *vtd_iommu(struct vtd *v);
const struct vtd_config *vtd_get_config(const struct vtd *v);

struct vtd_stats {
    uint64_t faults_recorded;    /* written to a fault recording register */
    uint64_t faults_suppressed;  /* qualified faults under FPD */
    uint64_t faults_dropped;     /* lost to primary fault overflow */
    uint64_t fault_events;       /* fault event interrupt conditions */
    uint64_t descriptors;        /* invalidation descriptors executed */
    uint64_t queue_errors;       /* IQE raised */
    uint64_t ctx_invalidations, iotlb_invalidations, iec_invalidations;
    uint64_t msis;               /* messages sent (or that would be: cfg.msi NULL) */
    uint64_t root_reads, ctx_reads, table_reads, irte_reads;
    uint64_t pasid_reads;        /* PASID directory and table entries read */
    uint64_t pc_invalidations;   /* PASID-cache invalidation descriptors */
    sim_time_t desc_time;        /* descriptors * desc_latency */
};
void vtd_get_stats(const struct vtd *v, struct vtd_stats *st);

#endif
