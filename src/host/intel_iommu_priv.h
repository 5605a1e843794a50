/* Internal state of the Intel IOMMU driver model (intel_iommu.h), shared by
 * intel_iommu_init.c (DMAR reading, units, registers, invalidation, groups
 * and domains), intel_iommu_dma.c (second-level page tables, DMA ops, flush
 * queue) and intel_iommu_irq.c (fault interrupt and fault lines, interrupt
 * remapping set-up lines). Names follow Linux's drivers/iommu/intel/ (6.1)
 * where the model mirrors a structure. */
#ifndef PCILAB_HOST_INTEL_IOMMU_PRIV_H
#define PCILAB_HOST_INTEL_IOMMU_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/mm.h" /* struct host_iopt */
#include "host/dma.h"
#include "host/dmar.h"
#include "host/intel_iommu.h"
#include "host/iova.h"
#include "host/irq.h"
#include "iommu/vtd_fmt.h"
#include "sim/evq.h"

#define VTD_MAX_UNITS 8          /* pcilab's limit (Linux DMAR_UNITS_SUPPORTED is larger) */
#define VTD_FQ_SIZE 256          /* IOVA_FQ_SIZE (4.20+); 4.9 HIGH_WATER_MARK 250 */
#define VTD_QI_ENTRIES 256       /* QI_LENGTH: one 4 KiB page of 16-byte descriptors, or
                                    two pages of 32-byte ones (ECAP.SMTS, 5.x) */
/* Scalable mode (5.x drivers/iommu/intel/pasid.h, 5.15 and 6.1) */
#define VTD_PASID_RID2PASID 0    /* PASID_RID2PASID: requests without PASID */
#define VTD_FLPT_DEFAULT_DID 1   /* FLPT_DEFAULT_DID: pass-through and first-level entries */

/* Linux's QI status values (intel-iommu.h enum: QI_FREE, QI_IN_USE, QI_DONE,
 * QI_ABORT) */
#define VTD_QI_DONE 2

struct vtd_unit;

/* struct dmar_domain */
struct vtd_domain {
    uint16_t did;
    bool identity;               /* si_domain */
    bool pass_through;           /* identity through context TT = pass-through (legacy)
                                    or PASID entry PGTT = pass-through (scalable mode) */
    bool unmanaged;              /* IOMMU_DOMAIN_UNMANAGED (attach_unmanaged) */
    bool first_level;            /* DOMAIN_FLAG_USE_FIRST_LEVEL: x86-format tables,
                                    PASID-based IOTLB flushes (scalable mode) */
    unsigned agaw, levels;       /* AW field and its levels (3 for 39 bits) */
    struct host_iopt *pgd;
    struct host_iova_domain *iovad; /* DMA API domains */
    struct vtd_unit *unit;
    bool fq;
    struct { uint64_t addr, size; } fq_e[VTD_FQ_SIZE];
    unsigned fq_n;
    bool fq_timer_on;
    sim_event_id fq_timer;
    struct vtd_domain *next;
};

/* struct intel_iommu: one remapping unit (a DRHD). */
struct vtd_unit {
    struct host_intel_iommu *drv;
    unsigned seq;
    char name[16];               /* "dmar0" */
    const struct host_dmar_struct *drhd;
    uint64_t reg;                /* register base */
    uint32_t ver;
    uint64_t cap, ecap;
    unsigned agaw, msagaw;       /* iommu->agaw, iommu->msagaw */
    bool sm;                     /* sm_supported(): intel_iommu_sm && ECAP.SMTS (5.x) */
    bool qi_dw;                  /* 256-bit descriptors: ECAP.SMTS (5.x __dmar_enable_qi) */
    uint8_t *root;
    uint64_t root_pa;
    uint8_t *ctx[256];           /* context table per bus (scalable mode: devfn 0-127,
                                    the root entry's lower half) */
    uint64_t ctx_pa[256];
    uint8_t *ctx_hi[256];        /* scalable mode: devfn 128-255 (upper half) */
    uint64_t ctx_hi_pa[256];
    uint8_t *qi;                 /* invalidation queue, 256 x 16 (or 32) bytes */
    uint64_t qi_pa;
    unsigned qi_tail;
    uint32_t *qi_status;         /* wait descriptors write here */
    uint64_t qi_status_pa;
    bool qi_on;
    uint32_t gcmd;               /* iommu->gcmd */
    int irq;
    uint8_t did_map[65536 / 8];
    uint64_t qi_timeouts;
    bool include_all;            /* drhd->include_all (INCLUDE_PCI_ALL) */
    bool ignored;                /* drhd->ignored (init_no_remapping_devices) */
    bool gfx_dedicated;          /* only graphics devices in its scope (5.x
                                    drhd->gfx_dedicated; 4.x sets
                                    intel_iommu_gfx_mapped for it) */
    bool te;                     /* translation enabled by the driver */
    /* interrupt remapping: iommu->ir_table (intel_setup_irq_remapping), one
     * per unit, INTR_REMAP_TABLE_ENTRIES */
    uint8_t *ir_table;
    uint64_t ir_pa;
    uint8_t ir_bitmap[65536 / 8];
    unsigned ir_used;            /* IRTEs allocated */
    bool ir_on;                  /* IRE set */
};

struct vtd_group {
    int id;
    struct vtd_domain *domain;   /* default domain (5.x) */
};

/* struct device_domain_info */
struct vtd_dev {
    struct pci_dev *pdev;
    struct vtd_unit *drhd;       /* dmar_find_matched_drhd_unit, ignored or not */
    struct vtd_unit *unit;       /* device_to_iommu: NULL under an ignored unit */
    struct vtd_domain *domain;
    struct vtd_group *group;
    bool rmrr;                   /* an RMRR names it */
    bool rmrr_relaxable;         /* 5.x: USB or graphics */
    /* scalable mode: the PASID directory (intel_pasid_alloc_table: one page,
     * 512 entries) and the PASID table of directory entry 0 (RID2PASID) */
    uint8_t *pasid_dir, *pasid_tbl;
    uint64_t pasid_dir_pa, pasid_tbl_pa;
};

struct vtd_ratelimit {
    uint64_t begin;
    bool started;
    int printed;
};

struct host_intel_iommu {
    struct host_kernel *k;
    const struct host_kver *kv;
    struct host_dmar *t;
    unsigned n;
    struct vtd_unit unit[VTD_MAX_UNITS]; /* table order: unit[i] is dmar<i> */
    /* dmar_drhd_units list order (for_each_iommu): dmar_register_drhd_unit
     * adds an INCLUDE_PCI_ALL unit at the tail, any other at the head */
    unsigned order[VTD_MAX_UNITS];
    bool dma_on;                 /* translation enabled */
    bool irq_remap;
    bool hw_pass_through;
    bool lazy;
    struct vtd_dev *dev;         /* one per k->pdevs entry (same index) */
    size_t ndev;
    struct vtd_group **groups;
    unsigned ngroups, cap_groups;
    struct vtd_domain *domains;
    struct vtd_domain *si_domain;
    struct host_dma_ops ops;
    /* interrupt remapping: the kernel's hook; each unit has its own table
     * (vtd_unit.ir_table) and a device's IRTEs go to its DRHD's */
    struct host_irq_remap remap;
    struct vtd_ratelimit fault_rs; /* dmar_fault's DEFINE_RATELIMIT_STATE */
    uint64_t faults_printed;
};

/* ---- intel_iommu_init.c ---- */
uint32_t vtd_read32(struct vtd_unit *u, unsigned off);
uint64_t vtd_read64(struct vtd_unit *u, unsigned off);
void vtd_write32(struct vtd_unit *u, unsigned off, uint32_t v);
void vtd_write64(struct vtd_unit *u, unsigned off, uint64_t v);
void vtd_pr(struct host_intel_iommu *v, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* qi_submit_sync of one descriptor and a wait descriptor; -1 on time-out */
int vtd_qi_submit(struct vtd_unit *u, const struct vtd_inv_desc *d);
void vtd_flush_iotlb_domain(struct vtd_unit *u, uint16_t did);
void vtd_flush_iotlb_psi(struct vtd_unit *u, uint16_t did, uint64_t addr, uint64_t pages);
/* scalable mode, queued invalidation only: qi_flush_pasid_cache (gran
 * VTD_PC_G_*), qi_flush_piotlb (npages 0: PASID-selective) */
void vtd_flush_pasid_cache(struct vtd_unit *u, uint16_t did, unsigned gran, uint32_t pasid);
void vtd_flush_piotlb(struct vtd_unit *u, uint16_t did, uint32_t pasid, uint64_t addr,
                      uint64_t npages);
static inline struct pci_dev *vtd_pdev_of(struct device *dev)
{
    return (struct pci_dev *)(void *)((char *)dev - offsetof(struct pci_dev, dev));
}
struct vtd_dev *vtd_dev_of(struct host_intel_iommu *v, const struct pci_dev *p);
/* dmar_find_matched_drhd_unit: the DRHD whose scope covers p (ignored or
 * not), NULL when none */
struct vtd_unit *vtd_device_to_unit(struct host_intel_iommu *v, const struct pci_dev *p);
/* for_each_iommu: the i-th unit in dmar_drhd_units order */
static inline struct vtd_unit *vtd_iter(struct host_intel_iommu *v, unsigned i)
{
    return &v->unit[v->order[i]];
}
/* the queue's pages and QIE (dmar_enable_qi), without the line */
int vtd_qi_init(struct host_intel_iommu *v, struct vtd_unit *u);
int vtd_attach(struct host_intel_iommu *v, struct vtd_dev *d, struct vtd_domain *dom);

/* ---- intel_iommu_dma.c ---- */
/* unmanaged: IOMMU_DOMAIN_UNMANAGED (decides first level in 6.1) */
struct vtd_domain *vtd_domain_alloc(struct host_intel_iommu *v, struct vtd_unit *u,
                                    bool identity, struct pcilab_err *err);
struct vtd_domain *vtd_domain_alloc_type(struct host_intel_iommu *v, struct vtd_unit *u,
                                         bool identity, bool unmanaged, struct pcilab_err *err);
/* iommu_flush_iotlb_psi / the flush queue's domain flush: PASID-based for a
 * first-level domain */
void vtd_domain_flush_psi(struct vtd_domain *d, uint64_t addr, uint64_t pages);
void vtd_domain_flush_all(struct vtd_domain *d);
void vtd_domain_free(struct host_intel_iommu *v, struct vtd_domain *d);
/* __domain_mapping: [iova, iova + size) -> pa with DMA_PTE_READ/WRITE bits */
int vtd_map_range(struct host_intel_iommu *v, struct vtd_domain *d, uint64_t iova, uint64_t pa,
                  uint64_t size, bool r, bool w);
void vtd_unmap_range(struct host_intel_iommu *v, struct vtd_domain *d, uint64_t iova,
                     uint64_t size);
bool vtd_walk(const struct vtd_domain *d, uint64_t iova, uint64_t *pte);
void vtd_dma_ops_init(struct host_intel_iommu *v);
void vtd_fq_destroy(struct host_intel_iommu *v);

/* ---- intel_iommu_irq.c ---- */
bool vtd_ir_capable(struct host_intel_iommu *v);
void vtd_ir_setup(struct host_intel_iommu *v);
int vtd_set_interrupt(struct host_intel_iommu *v, struct vtd_unit *u, struct pcilab_err *err);

#endif
