/* Intel VT-d in-memory and register formats, bit-exact.
 *
 * Source: Intel Virtualization Technology for Directed I/O Architecture
 * Specification, rev 4.x ("spec" below; the section numbers are those of
 * rev 3.x/4.x: 9.x table formats, 10.4.x registers, 7.x fault reasons, 6.5
 * invalidation, 5.1 interrupt remapping). Every field names its section.
 * All in-memory formats are little-endian 64-bit words; each format has one
 * encode and one decode function, and where the spec marks bits reserved a
 * function that says which reserved bits are set.
 *
 * Cross-checked (facts and bit positions only, no code copied): Linux v6.1
 * include/linux/intel-iommu.h, drivers/iommu/intel/dmar.c (the fault reason
 * strings), drivers/iommu/intel/irq_remapping.c (struct irte); QEMU 7.2
 * hw/i386/intel_iommu_internal.h (descriptor reserved masks); the register
 * values of QEMU 7.2.22's q35 intel-iommu read with qtest (vtd.h).
 */
#ifndef PCILAB_IOMMU_VTD_FMT_H
#define PCILAB_IOMMU_VTD_FMT_H

#include <stdbool.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Register offsets (spec 10.4, Table "Format of Register Set").             */
/* ------------------------------------------------------------------------ */

#define VTD_MMIO_SIZE      0x1000u /* one 4 KiB page per remapping unit (10.1) */

#define VTD_REG_VER        0x000 /* 32  10.4.1  Version */
#define VTD_REG_CAP        0x008 /* 64  10.4.2  Capability */
#define VTD_REG_ECAP       0x010 /* 64  10.4.3  Extended Capability */
#define VTD_REG_GCMD       0x018 /* 32  10.4.4  Global Command */
#define VTD_REG_GSTS       0x01c /* 32  10.4.5  Global Status */
#define VTD_REG_RTADDR     0x020 /* 64  10.4.6  Root Table Address */
#define VTD_REG_CCMD       0x028 /* 64  10.4.7  Context Command */
#define VTD_REG_FSTS       0x034 /* 32  10.4.9  Fault Status */
#define VTD_REG_FECTL      0x038 /* 32  10.4.10 Fault Event Control */
#define VTD_REG_FEDATA     0x03c /* 32  10.4.11 Fault Event Data */
#define VTD_REG_FEADDR     0x040 /* 32  10.4.12 Fault Event Address */
#define VTD_REG_FEUADDR    0x044 /* 32  10.4.13 Fault Event Upper Address */
#define VTD_REG_AFLOG      0x058 /* 64  10.4.15 Advanced Fault Log */
#define VTD_REG_PMEN       0x064 /* 32  10.4.16 Protected Memory Enable */
#define VTD_REG_PLMBASE    0x068 /* 32  10.4.17 Protected Low-Memory Base */
#define VTD_REG_PLMLIMIT   0x06c /* 32  10.4.18 Protected Low-Memory Limit */
#define VTD_REG_PHMBASE    0x070 /* 64  10.4.19 Protected High-Memory Base */
#define VTD_REG_PHMLIMIT   0x078 /* 64  10.4.20 Protected High-Memory Limit */
#define VTD_REG_IQH        0x080 /* 64  10.4.21 Invalidation Queue Head */
#define VTD_REG_IQT        0x088 /* 64  10.4.22 Invalidation Queue Tail */
#define VTD_REG_IQA        0x090 /* 64  10.4.23 Invalidation Queue Address */
#define VTD_REG_ICS        0x09c /* 32  10.4.24 Invalidation Completion Status */
#define VTD_REG_IECTL      0x0a0 /* 32  10.4.25 Invalidation Event Control */
#define VTD_REG_IEDATA     0x0a4 /* 32  10.4.26 Invalidation Event Data */
#define VTD_REG_IEADDR     0x0a8 /* 32  10.4.27 Invalidation Event Address */
#define VTD_REG_IEUADDR    0x0ac /* 32  10.4.28 Invalidation Event Upper Address */
#define VTD_REG_IQERCD     0x0b0 /* 64  10.4.29 Invalidation Queue Error Record */
#define VTD_REG_IRTA       0x0b8 /* 64  10.4.30 Interrupt Remapping Table Address */
/* IOTLB registers at ECAP.IRO * 16 (10.4.8): IVA_REG at +0, IOTLB_REG at +8. */
#define VTD_IVA_OFF        0x0   /* 64  10.4.8.2 Invalidate Address */
#define VTD_IOTLB_OFF      0x8   /* 64  10.4.8.1 IOTLB Invalidate */
/* Fault recording registers at CAP.FRO * 16, 16 bytes each (10.4.14). */
#define VTD_FRCD_SIZE      16

/* VER (10.4.1): bits 7:4 major, 3:0 minor. */
#define VTD_VER(major, minor) ((uint32_t)((major) & 0xf) << 4 | ((minor) & 0xf))

/* ---- CAP (10.4.2) ---- */
#define VTD_CAP_ND_MASK      0x7ull         /* 2:0   number of domains: 2^(4 + 2 ND) */
#define VTD_CAP_AFL          (1ull << 3)    /* 3     advanced fault logging */
#define VTD_CAP_RWBF         (1ull << 4)    /* 4     required write-buffer flushing */
#define VTD_CAP_PLMR         (1ull << 5)    /* 5     protected low-memory region */
#define VTD_CAP_PHMR         (1ull << 6)    /* 6     protected high-memory region */
#define VTD_CAP_CM           (1ull << 7)    /* 7     caching mode */
#define VTD_CAP_SAGAW_SHIFT  8              /* 12:8  supported adjusted guest address widths */
#define VTD_CAP_SAGAW_MASK   (0x1full << 8)
#define VTD_CAP_MGAW_SHIFT   16             /* 21:16 maximum guest address width - 1 */
#define VTD_CAP_MGAW_MASK    (0x3full << 16)
#define VTD_CAP_ZLR          (1ull << 22)   /* 22    zero-length read */
#define VTD_CAP_FRO_SHIFT    24             /* 33:24 fault-recording register offset / 16 */
#define VTD_CAP_FRO_MASK     (0x3ffull << 24)
#define VTD_CAP_SLLPS_SHIFT  34             /* 37:34 second-level large pages: bit0 2M, bit1 1G */
#define VTD_CAP_SLLPS_MASK   (0xfull << 34)
#define VTD_CAP_PSI          (1ull << 39)   /* 39    page-selective invalidation */
#define VTD_CAP_NFR_SHIFT    40             /* 47:40 number of fault-recording registers - 1 */
#define VTD_CAP_NFR_MASK     (0xffull << 40)
#define VTD_CAP_MAMV_SHIFT   48             /* 53:48 maximum address mask value */
#define VTD_CAP_MAMV_MASK    (0x3full << 48)
#define VTD_CAP_DWD          (1ull << 54)   /* 54    write draining */
#define VTD_CAP_DRD          (1ull << 55)   /* 55    read draining */
#define VTD_CAP_FL1GP        (1ull << 56)   /* 56    first-level 1-GByte pages */
#define VTD_CAP_PI           (1ull << 59)   /* 59    posted interrupts */
#define VTD_CAP_FL5LP        (1ull << 60)   /* 60    first-level 5-level paging */
#define VTD_CAP_ESIRTPS      (1ull << 62)   /* 62    enhanced set interrupt root table pointer */
#define VTD_CAP_ESRTPS       (1ull << 63)   /* 63    enhanced set root table pointer */

/* SAGAW bits (10.4.2): bit 1 39-bit 3-level, bit 2 48-bit 4-level, bit 3
 * 57-bit 5-level (bit 0, 30-bit 2-level, is reserved since rev 2.x). The
 * same numbers are a context entry's AW field (9.3). */
#define VTD_AW_39 1
#define VTD_AW_48 2
#define VTD_AW_57 3

static inline unsigned vtd_cap_nd_bits(uint64_t cap)    { return 4 + 2 * (unsigned)(cap & VTD_CAP_ND_MASK); }
static inline unsigned vtd_cap_sagaw(uint64_t cap)      { return (unsigned)((cap & VTD_CAP_SAGAW_MASK) >> 8); }
static inline unsigned vtd_cap_mgaw(uint64_t cap)       { return (unsigned)((cap & VTD_CAP_MGAW_MASK) >> 16) + 1; }
static inline unsigned vtd_cap_fro(uint64_t cap)        { return (unsigned)((cap & VTD_CAP_FRO_MASK) >> 24) * 16; }
static inline unsigned vtd_cap_sllps(uint64_t cap)      { return (unsigned)((cap & VTD_CAP_SLLPS_MASK) >> 34); }
static inline unsigned vtd_cap_nfr(uint64_t cap)        { return (unsigned)((cap & VTD_CAP_NFR_MASK) >> 40) + 1; }
static inline unsigned vtd_cap_mamv(uint64_t cap)       { return (unsigned)((cap & VTD_CAP_MAMV_MASK) >> 48); }
/* Levels of an AW value (9.3): 1 -> 3, 2 -> 4, 3 -> 5; address width 30 + 9 AW. */
static inline unsigned vtd_aw_levels(unsigned aw)       { return aw + 2; }
static inline unsigned vtd_aw_bits(unsigned aw)         { return 30 + 9 * aw; }

/* ---- ECAP (10.4.3) ---- */
#define VTD_ECAP_C          (1ull << 0)    /* 0     page-walk coherency */
#define VTD_ECAP_QI         (1ull << 1)    /* 1     queued invalidation */
#define VTD_ECAP_DT         (1ull << 2)    /* 2     device-TLB */
#define VTD_ECAP_IR         (1ull << 3)    /* 3     interrupt remapping */
#define VTD_ECAP_EIM        (1ull << 4)    /* 4     extended interrupt mode (x2APIC) */
#define VTD_ECAP_PT         (1ull << 6)    /* 6     pass-through */
#define VTD_ECAP_SC         (1ull << 7)    /* 7     snoop control */
#define VTD_ECAP_IRO_SHIFT  8              /* 17:8  IOTLB register offset / 16 */
#define VTD_ECAP_IRO_MASK   (0x3ffull << 8)
#define VTD_ECAP_MHMV_SHIFT 20             /* 23:20 maximum handle mask value */
#define VTD_ECAP_MHMV_MASK  (0xfull << 20)
#define VTD_ECAP_MTS        (1ull << 25)   /* 25    memory type */
#define VTD_ECAP_NEST       (1ull << 26)   /* 26    nested translation */
#define VTD_ECAP_PRS        (1ull << 29)   /* 29    page requests */
#define VTD_ECAP_ERS        (1ull << 30)   /* 30    execute requests */
#define VTD_ECAP_SRS        (1ull << 31)   /* 31    supervisor requests */
#define VTD_ECAP_NWFS       (1ull << 33)   /* 33    no write flag */
#define VTD_ECAP_EAFS       (1ull << 34)   /* 34    extended accessed flag */
#define VTD_ECAP_PSS_SHIFT  35             /* 39:35 PASID size - 1 */
#define VTD_ECAP_PASID      (1ull << 40)   /* 40    process address space IDs */
#define VTD_ECAP_DIT        (1ull << 41)   /* 41    device-TLB invalidation throttle */
#define VTD_ECAP_PDS        (1ull << 42)   /* 42    page-request drain */
#define VTD_ECAP_SMTS       (1ull << 43)   /* 43    scalable-mode translation */
#define VTD_ECAP_VCS        (1ull << 44)   /* 44    virtual command */
#define VTD_ECAP_SLADS      (1ull << 45)   /* 45    second-level A/D */
#define VTD_ECAP_SLTS       (1ull << 46)   /* 46    second-level translation */
#define VTD_ECAP_FLTS       (1ull << 47)   /* 47    first-level translation */
#define VTD_ECAP_SMPWCS     (1ull << 48)   /* 48    scalable-mode page-walk coherency */
#define VTD_ECAP_RPS        (1ull << 49)   /* 49    RID-PASID */
#define VTD_ECAP_ADMS       (1ull << 51)   /* 51    abort DMA mode */
#define VTD_ECAP_RPRIVS     (1ull << 53)   /* 53    RID_PRIV */

static inline unsigned vtd_ecap_iro(uint64_t ecap)  { return (unsigned)((ecap & VTD_ECAP_IRO_MASK) >> 8) * 16; }
static inline unsigned vtd_ecap_mhmv(uint64_t ecap) { return (unsigned)((ecap & VTD_ECAP_MHMV_MASK) >> 20); }

/* ---- GCMD (10.4.4) and GSTS (10.4.5): the same bit positions ---- */
#define VTD_GCMD_TE    (1u << 31) /* translation enable          / TES */
#define VTD_GCMD_SRTP  (1u << 30) /* set root table pointer      / RTPS */
#define VTD_GCMD_SFL   (1u << 29) /* set fault log               / FLS */
#define VTD_GCMD_EAFL  (1u << 28) /* enable advanced fault log   / AFLS */
#define VTD_GCMD_WBF   (1u << 27) /* write buffer flush          / WBFS */
#define VTD_GCMD_QIE   (1u << 26) /* queued invalidation enable  / QIES */
#define VTD_GCMD_IRE   (1u << 25) /* interrupt remapping enable  / IRES */
#define VTD_GCMD_SIRTP (1u << 24) /* set interrupt remap table pointer / IRTPS */
#define VTD_GCMD_CFI   (1u << 23) /* compatibility format interrupt / CFIS */
#define VTD_GSTS_TES   VTD_GCMD_TE
#define VTD_GSTS_RTPS  VTD_GCMD_SRTP
#define VTD_GSTS_FLS   VTD_GCMD_SFL
#define VTD_GSTS_AFLS  VTD_GCMD_EAFL
#define VTD_GSTS_WBFS  VTD_GCMD_WBF
#define VTD_GSTS_QIES  VTD_GCMD_QIE
#define VTD_GSTS_IRES  VTD_GCMD_IRE
#define VTD_GSTS_IRTPS VTD_GCMD_SIRTP
#define VTD_GSTS_CFIS  VTD_GCMD_CFI

/* ---- RTADDR (10.4.6): RTA 63:12, TTM 11:10 (00 legacy, 01 scalable, 11 abort DMA) ---- */
#define VTD_RTADDR_RTA_MASK  0xfffffffffffff000ull
#define VTD_RTADDR_TTM_SHIFT 10
#define VTD_RTADDR_TTM_MASK  (3ull << 10)
#define VTD_TTM_LEGACY   0
#define VTD_TTM_SCALABLE 1
#define VTD_TTM_ABORT    3

/* ---- CCMD (10.4.7) ---- */
#define VTD_CCMD_ICC        (1ull << 63)         /* invalidate context cache (RW, cleared by hw) */
#define VTD_CCMD_CIRG_SHIFT 61                   /* 62:61 requested granularity */
#define VTD_CCMD_CIRG_MASK  (3ull << 61)
#define VTD_CCMD_CAIG_SHIFT 59                   /* 60:59 actual granularity (RO) */
#define VTD_CCMD_CAIG_MASK  (3ull << 59)
#define VTD_CCMD_FM_SHIFT   32                   /* 33:32 function mask */
#define VTD_CCMD_SID_SHIFT  16                   /* 31:16 source ID */
#define VTD_CCMD_DID_MASK   0xffffull            /* 15:0  domain ID */
/* Granularities of CCMD, the IOTLB register and the descriptors (6.5.1, 6.5.2). */
#define VTD_GRAN_GLOBAL 1
#define VTD_GRAN_DOMAIN 2
#define VTD_GRAN_DEVICE 3 /* context: device-selective */
#define VTD_GRAN_PAGE   3 /* IOTLB: page-selective */

/* ---- IOTLB_REG (10.4.8.1) and IVA_REG (10.4.8.2) ---- */
#define VTD_IOTLB_IVT        (1ull << 63)        /* invalidate IOTLB (RW, cleared by hw) */
#define VTD_IOTLB_IIRG_SHIFT 60                  /* 61:60 requested granularity */
#define VTD_IOTLB_IIRG_MASK  (3ull << 60)
#define VTD_IOTLB_IAIG_SHIFT 57                  /* 58:57 actual granularity (RO) */
#define VTD_IOTLB_IAIG_MASK  (3ull << 57)
#define VTD_IOTLB_DR         (1ull << 49)        /* drain reads */
#define VTD_IOTLB_DW         (1ull << 48)        /* drain writes */
#define VTD_IOTLB_DID_SHIFT  32                  /* 47:32 domain ID */
#define VTD_IVA_ADDR_MASK    0xfffffffffffff000ull /* 63:12 */
#define VTD_IVA_IH           (1ull << 6)         /* invalidation hint: leaf only */
#define VTD_IVA_AM_MASK      0x3full             /* 5:0 address mask: 2^AM pages */

/* ---- FSTS (10.4.9) ---- */
#define VTD_FSTS_PFO       (1u << 0)  /* primary fault overflow (RW1C) */
#define VTD_FSTS_PPF       (1u << 1)  /* primary pending fault (RO: OR of every F) */
#define VTD_FSTS_AFO       (1u << 2)  /* advanced fault overflow (RW1C) */
#define VTD_FSTS_APF       (1u << 3)  /* advanced pending fault (RW1C) */
#define VTD_FSTS_IQE       (1u << 4)  /* invalidation queue error (RW1C) */
#define VTD_FSTS_ICE       (1u << 5)  /* invalidation completion error (RW1C) */
#define VTD_FSTS_ITE       (1u << 6)  /* invalidation time-out error (RW1C) */
#define VTD_FSTS_PRO       (1u << 7)  /* page request overflow (RW1C; Linux DMA_FSTS_PRO) */
#define VTD_FSTS_FRI_SHIFT 8          /* 15:8 fault record index (RO) */
#define VTD_FSTS_FRI_MASK  (0xffu << 8)
#define VTD_FSTS_RW1C      (VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | VTD_FSTS_IQE | \
                            VTD_FSTS_ICE | VTD_FSTS_ITE | VTD_FSTS_PRO)

/* ---- FECTL (10.4.10), IECTL (10.4.25) ---- */
#define VTD_ECTL_IM (1u << 31) /* interrupt mask (RW, set at reset) */
#define VTD_ECTL_IP (1u << 30) /* interrupt pending (RO) */

/* ---- PMEN (10.4.16) ---- */
#define VTD_PMEN_EPM (1u << 31) /* enable protected memory */
#define VTD_PMEN_PRS (1u << 0)  /* protected region status (RO) */

/* ---- IQH / IQT (10.4.21, 10.4.22): offset bits 18:4 (128-bit descriptors) ---- */
#define VTD_IQ_PTR_MASK 0x7fff0ull
/* ---- IQA (10.4.23) ---- */
#define VTD_IQA_ADDR_MASK 0xfffffffffffff000ull /* 63:12 */
#define VTD_IQA_DW        (1ull << 11)          /* 256-bit descriptors (scalable mode) */
#define VTD_IQA_QS_MASK   0x7ull                /* 2:0 queue of 2^QS 4 KiB pages */
/* Descriptors in a queue of size field qs (128-bit): 2^(qs + 8). */
static inline unsigned vtd_iq_entries(unsigned qs) { return 1u << (qs + 8); }

/* ---- ICS (10.4.24) ---- */
#define VTD_ICS_IWC (1u << 0) /* invalidation wait descriptor complete (RW1C) */

/* ---- IRTA (10.4.30) ---- */
#define VTD_IRTA_ADDR_MASK 0xfffffffffffff000ull /* 63:12 */
#define VTD_IRTA_EIME      (1ull << 11)          /* extended interrupt mode (x2APIC) */
#define VTD_IRTA_S_MASK    0xfull                /* 3:0: 2^(S + 1) entries */
static inline unsigned vtd_irta_entries(uint64_t irta) { return 2u << (irta & VTD_IRTA_S_MASK); }

/* ------------------------------------------------------------------------ */
/* Root entry, legacy mode, 128 bits (spec 9.1).                              */
/* ------------------------------------------------------------------------ */

#define VTD_ROOT_ENTRY_SIZE 16
#define VTD_CTX_ENTRY_SIZE  16

struct vtd_root_entry {
    bool p;             /* bit 0      P: present                                    9.1 */
    uint64_t ctp;       /* 63:12      CTP: context-table pointer (byte address)     9.1 */
                        /* 11:1, 127:64 reserved (legacy mode)                          */
};

void vtd_root_entry_encode(const struct vtd_root_entry *r, uint8_t raw[VTD_ROOT_ENTRY_SIZE]);
void vtd_root_entry_decode(const uint8_t raw[VTD_ROOT_ENTRY_SIZE], struct vtd_root_entry *r);
/* Reserved bits set (9.1): 11:1, CTP bits at or above haw (host address
 * width), 127:64. rsvd[q] receives those of word q; true when any. */
bool vtd_root_entry_reserved(const uint8_t raw[VTD_ROOT_ENTRY_SIZE], unsigned haw,
                             uint64_t rsvd[2]);

/* ------------------------------------------------------------------------ */
/* Context entry, legacy mode, 128 bits (spec 9.3).                           */
/* ------------------------------------------------------------------------ */

/* Translation Type (9.3). */
#define VTD_TT_SLT        0 /* untranslated requests through second-level tables */
#define VTD_TT_SLT_DEVTLB 1 /* the same, plus translated / translation requests (ECAP.DT) */
#define VTD_TT_PT         2 /* pass-through of untranslated requests (ECAP.PT) */
#define VTD_TT_RESERVED   3

struct vtd_context_entry {
    bool p;             /* bit 0      P: present                                    9.3 */
    bool fpd;           /* bit 1      FPD: fault processing disable                 9.3 */
    uint8_t tt;         /* 3:2        TT: translation type                          9.3 */
    uint64_t slptptr;   /* 63:12      SLPTPTR: second-level page table (bytes)      9.3 */
    uint8_t aw;         /* 66:64      AW: address width (VTD_AW_*)                  9.3 */
    uint8_t avail;      /* 70:67      ignored, software available                   9.3 */
    uint16_t did;       /* 87:72      DID: domain identifier                        9.3 */
                        /* 11:4, 71, 127:88 reserved                                    */
};

void vtd_context_entry_encode(const struct vtd_context_entry *c, uint8_t raw[VTD_CTX_ENTRY_SIZE]);
void vtd_context_entry_decode(const uint8_t raw[VTD_CTX_ENTRY_SIZE], struct vtd_context_entry *c);
/* Reserved bits set (9.3): 11:4, SLPTPTR bits at or above haw, 71, 127:88,
 * and DID bits at or above nd_bits (CAP.ND: 4 + 2 ND; 10.4.2 ND "unused
 * domain-id bits are treated as reserved"). True when any. */
bool vtd_context_entry_reserved(const uint8_t raw[VTD_CTX_ENTRY_SIZE], unsigned haw,
                                unsigned nd_bits, uint64_t rsvd[2]);

/* ------------------------------------------------------------------------ */
/* Second-level paging entries, 64 bits (spec 9.8, 3.7).                      */
/* ------------------------------------------------------------------------ */

struct vtd_sl_pte {
    bool r;             /* bit 0      R: read                                       9.8 */
    bool w;             /* bit 1      W: write                                      9.8 */
    bool x;             /* bit 2      X: execute (ignored in legacy mode)           9.8 */
    uint8_t emt;        /* 5:3        EMT: extended memory type (leaf; ignored)     9.8 */
    bool ipat;          /* bit 6      IPAT: ignore PAT (leaf; ignored)              9.8 */
    bool ps;            /* bit 7      PS: page size (PDPE: 1 GiB, PDE: 2 MiB page)  9.8 */
    bool a;             /* bit 8      A: accessed (ignored in legacy mode)          9.8 */
    bool d;             /* bit 9      D: dirty (leaf; ignored in legacy mode)       9.8 */
    bool snp;           /* bit 11     SNP: snoop (leaf; reserved unless ECAP.SC)    9.8 */
    uint64_t addr;      /* 51:12      ADDR: next table / page (bytes; a large
                           page's low bits 20:12 or 29:12 are reserved)         9.8 */
    bool tm;            /* bit 62     TM: transient mapping (leaf; reserved unless
                           ECAP.DT)                                             9.8 */
                        /* 10, 61:52, 63 ignored                                        */
};

uint64_t vtd_sl_pte_encode(const struct vtd_sl_pte *p);
void vtd_sl_pte_decode(uint64_t raw, struct vtd_sl_pte *p);
/* True when the entry is present: R or W set (3.7, 9.8). */
static inline bool vtd_sl_pte_present(uint64_t raw) { return (raw & 3) != 0; }
/* Whether the entry at `level` (1 = PTE, 2 = PDE, 3 = PDPE, 4 = PML4E,
 * 5 = PML5E) maps a page: level 1 always, levels 2-3 with PS. */
static inline bool vtd_sl_pte_is_leaf(uint64_t raw, unsigned level)
{
    return level == 1 || ((level == 2 || level == 3) && (raw >> 7 & 1));
}
/* Reserved bits set in a present entry at `level` (9.8): address bits at or
 * above haw; bit 7 at levels 4 and 5, and at levels 2 and 3 when CAP.SLLPS
 * lacks that page size; bit 11 (SNP) unless a leaf with ECAP.SC; bit 62
 * (TM) unless a leaf with ECAP.DT; a large page's address bits below its
 * size. */
uint64_t vtd_sl_pte_reserved(uint64_t raw, unsigned level, unsigned haw, uint64_t cap,
                             uint64_t ecap);
/* Address bits indexing the table at `level` (1..5): 12 + 9 (level - 1). */
static inline unsigned vtd_level_shift(unsigned level) { return 12 + 9 * (level - 1); }

/* ------------------------------------------------------------------------ */
/* Scalable mode (RTADDR.TTM = 01b, ECAP.SMTS): root entry (9.2), context    */
/* entry (9.4), PASID directory entry (9.5), PASID table entry (9.6),        */
/* first-level paging entries (9.7). Field positions cross-checked with      */
/* Linux v6.1 drivers/iommu/intel/pasid.[ch] and iommu.h (context_set_sm_*,  */
/* pasid_set_*) and QEMU 7.2 hw/i386/intel_iommu_internal.h (reserved masks  */
/* of the scalable-mode context entry); facts only.                          */
/* ------------------------------------------------------------------------ */

#define VTD_SM_CTX_ENTRY_SIZE    32 /* 256 bits (9.4): 128 entries per 4 KiB table */
#define VTD_PASID_DIR_ENTRY_SIZE 8  /* 9.5 */
#define VTD_PASID_ENTRY_SIZE     64 /* 512 bits (9.6): 64 entries per 4 KiB table */

struct vtd_sm_root_entry {
    bool lp;            /* bit 0      LP: lower present (devfn 0-127)               9.2 */
    uint64_t lctp;      /* 63:12      LCTP: lower context-table pointer (bytes)     9.2 */
    bool up;            /* bit 64     UP: upper present (devfn 128-255)             9.2 */
    uint64_t uctp;      /* 127:76     UCTP: upper context-table pointer (bytes)     9.2 */
                        /* 11:1, 75:65 reserved                                         */
};

void vtd_sm_root_entry_encode(const struct vtd_sm_root_entry *r, uint8_t raw[VTD_ROOT_ENTRY_SIZE]);
void vtd_sm_root_entry_decode(const uint8_t raw[VTD_ROOT_ENTRY_SIZE], struct vtd_sm_root_entry *r);
/* Reserved bits of the half (upper: devfn >= 128) a request uses (9.2):
 * 11:1 and the pointer's bits at or above haw. */
uint64_t vtd_sm_root_entry_reserved(const uint8_t raw[VTD_ROOT_ENTRY_SIZE], bool upper,
                                    unsigned haw);

struct vtd_sm_context_entry {
    bool p;             /* bit 0      P: present                                    9.4 */
    bool fpd;           /* bit 1      FPD: fault processing disable                 9.4 */
    bool dte;           /* bit 2      DTE: device-TLB enable                        9.4 */
    bool paside;        /* bit 3      PASIDE: PASID enable                          9.4 */
    bool pre;           /* bit 4      PRE: page request enable                      9.4 */
    uint8_t pdts;       /* 11:9       PDTS: PASID directory of 2^(PDTS + 7) entries 9.4 */
    uint64_t pasiddirptr; /* 63:12    PASIDDIRPTR: PASID directory (bytes)          9.4 */
    uint32_t rid_pasid; /* 83:64      RID_PASID: PASID of requests without one      9.4 */
    bool rid_priv;      /* bit 84     RID_PRIV: privilege of requests without PASID 9.4 */
                        /* 8:5, 127:85, 255:128 reserved                                */
};

void vtd_sm_context_entry_encode(const struct vtd_sm_context_entry *c,
                                 uint8_t raw[VTD_SM_CTX_ENTRY_SIZE]);
void vtd_sm_context_entry_decode(const uint8_t raw[VTD_SM_CTX_ENTRY_SIZE],
                                 struct vtd_sm_context_entry *c);
/* Reserved bits set (9.4): 8:5, PASIDDIRPTR bits at or above haw, 127:85,
 * 255:128; RID_PASID unless ECAP.RPS, RID_PRIV unless ECAP.RPRIVS. rsvd[q]
 * receives word q's; true when any. */
bool vtd_sm_context_entry_reserved(const uint8_t raw[VTD_SM_CTX_ENTRY_SIZE], unsigned haw,
                                   uint64_t ecap, uint64_t rsvd[4]);
/* Entries of the PASID directory (9.4 PDTS): 2^(PDTS + 7). */
static inline uint32_t vtd_pdts_entries(unsigned pdts) { return 1u << (pdts + 7); }

struct vtd_pasid_dir_entry {
    bool p;             /* bit 0      P: present                                    9.5 */
    bool fpd;           /* bit 1      FPD: fault processing disable                 9.5 */
    uint64_t smptblptr; /* 63:12      SMPTBLPTR: PASID table (bytes)                9.5 */
                        /* 11:2 reserved                                                */
};

uint64_t vtd_pasid_dir_entry_encode(const struct vtd_pasid_dir_entry *d);
void vtd_pasid_dir_entry_decode(uint64_t raw, struct vtd_pasid_dir_entry *d);
/* Reserved bits set (9.5): 11:2 and SMPTBLPTR bits at or above haw. */
uint64_t vtd_pasid_dir_entry_reserved(uint64_t raw, unsigned haw);

/* PASID Granular Translation Type (9.6 PGTT). */
#define VTD_PGTT_FL     1 /* first-level only (ECAP.FLTS) */
#define VTD_PGTT_SL     2 /* second-level only (ECAP.SLTS) */
#define VTD_PGTT_NESTED 3 /* nested (ECAP.NEST) */
#define VTD_PGTT_PT     4 /* pass-through (ECAP.PT) */

struct vtd_pasid_entry {
    /* word 0 */
    bool p;             /* bit 0      P: present                                    9.6 */
    bool fpd;           /* bit 1      FPD: fault processing disable                 9.6 */
    uint8_t aw;         /* 4:2        AW: second-level address width (VTD_AW_*)     9.6 */
    bool slee;          /* bit 5      SLEE: second-level execute enable             9.6 */
    uint8_t pgtt;       /* 8:6        PGTT: translation type (VTD_PGTT_*)           9.6 */
    bool slade;         /* bit 9      SLADE: second-level A/D enable                9.6 */
    uint64_t slptptr;   /* 63:12      SLPTPTR: second-level table (bytes)           9.6 */
    /* word 1 */
    uint16_t did;       /* 79:64      DID: domain identifier                        9.6 */
    bool pwsnp;         /* bit 87     PWSNP: page-walk snoop                        9.6 */
    bool pgsnp;         /* bit 88     PGSNP: page snoop                             9.6 */
    bool cd;            /* bit 89     CD: cache disable                             9.6 */
    bool emte;          /* bit 90     EMTE: extended memory type enable             9.6 */
    uint8_t emt;        /* 93:91      EMT: extended memory type                     9.6 */
    bool pwt;           /* bit 94     PWT: page-level write-through                 9.6 */
    bool pcd;           /* bit 95     PCD: page-level cache disable                 9.6 */
    uint32_t pat;       /* 127:96     PAT: page attribute table                     9.6 */
    /* word 2 */
    bool sre;           /* bit 128    SRE: supervisor request enable                9.6 */
    bool ere;           /* bit 129    ERE: execute request enable                   9.6 */
    uint8_t flpm;       /* 131:130    FLPM: first-level paging mode, 0 4-level,
                           1 5-level (CAP.FL5LP)                                9.6 */
    bool wpe;           /* bit 132    WPE: write protect enable                     9.6 */
    bool nxe;           /* bit 133    NXE: no-execute enable (rev 3.0)              9.6 */
    bool smep;          /* bit 134    SMEP: supervisor mode execute prevent (rev 3.0) 9.6 */
    bool eafe;          /* bit 135    EAFE: extended accessed flag enable (ECAP.EAFS) 9.6 */
    uint64_t flptptr;   /* 191:140    FLPTPTR: first-level table (bytes)            9.6 */
                        /* 11:10, 86:80, 139:136, 511:192 reserved                      */
};

void vtd_pasid_entry_encode(const struct vtd_pasid_entry *e, uint8_t raw[VTD_PASID_ENTRY_SIZE]);
void vtd_pasid_entry_decode(const uint8_t raw[VTD_PASID_ENTRY_SIZE], struct vtd_pasid_entry *e);
/* Reserved bits set in a present entry (9.6), rsvd[q] for word q: 11:10,
 * 86:80, 139:136, 511:192; DID bits at or above nd_bits; SLPTPTR bits at or
 * above haw when PGTT is second-level or nested, FLPTPTR's when first-level
 * or nested; SLADE without ECAP.SLADS, SRE without ECAP.SRS, ERE without
 * ECAP.ERS, EAFE without ECAP.EAFS, FLPM other than 0 (and 1 with
 * CAP.FL5LP); NXE and SMEP (bits 134:133: the model takes XD as always
 * honoured, as Linux v6.1 sets XD in its first-level entries). */
bool vtd_pasid_entry_reserved(const uint8_t raw[VTD_PASID_ENTRY_SIZE], unsigned haw,
                              unsigned nd_bits, uint64_t cap, uint64_t ecap, uint64_t rsvd[8]);

/* First-level paging entry (9.7; the x86 IA-32e format): one struct for
 * every level. */
struct vtd_fl_pte {
    bool p;             /* bit 0      P: present                                    9.7 */
    bool rw;            /* bit 1      R/W: 0 read-only                              9.7 */
    bool us;            /* bit 2      U/S: 1 user accessible                        9.7 */
    bool pwt;           /* bit 3      PWT                                           9.7 */
    bool pcd;           /* bit 4      PCD                                           9.7 */
    bool a;             /* bit 5      A: accessed (set by the walk)                 9.7 */
    bool d;             /* bit 6      D: dirty (leaf; set by a write)               9.7 */
    bool ps;            /* bit 7      PS: page size (PDE 2 MiB, PDPE 1 GiB)          9.7 */
    bool g;             /* bit 8      G: global (leaf)                              9.7 */
    bool ea;            /* bit 10     EA: extended accessed (with PASID EAFE)       9.7 */
    uint64_t addr;      /* 51:12      ADDR: next table / page (bytes; a large page's
                           bit 12 is PAT, its low bits 20:13 / 29:13 reserved)  9.7 */
    bool pat;           /* bit 12 of a 2 MiB / 1 GiB page, bit 7 of a 4 KiB page 9.7 */
    bool xd;            /* bit 63     XD: execute disable                           9.7 */
                        /* 9, 11, 62:52 ignored                                         */
};

/* level: 1 = PTE .. 5 = PML5E (decides what bits 7 and 12 mean). */
uint64_t vtd_fl_pte_encode(const struct vtd_fl_pte *p, unsigned level);
void vtd_fl_pte_decode(uint64_t raw, unsigned level, struct vtd_fl_pte *p);
static inline bool vtd_fl_pte_is_leaf(uint64_t raw, unsigned level)
{
    return level == 1 || ((level == 2 || level == 3) && (raw >> 7 & 1));
}
/* Reserved bits of a present entry at `level` (9.7): address bits at or
 * above haw; PS at levels 4 and 5, at level 3 without CAP.FL1GP; a 2 MiB
 * page's bits 20:13, a 1 GiB page's 29:13. */
uint64_t vtd_fl_pte_reserved(uint64_t raw, unsigned level, unsigned haw, uint64_t cap);

/* ------------------------------------------------------------------------ */
/* Fault recording register, 128 bits (spec 10.4.14, 7.3.1).                  */
/* ------------------------------------------------------------------------ */

struct vtd_fault_record {
    uint64_t fi;        /* 63:12      FI: page address of a DMA fault; for an
                           interrupt fault bits 63:48 hold the interrupt index   10.4.14 */
    uint16_t sid;       /* 79:64      SID: source identifier (requester ID)         10.4.14 */
    bool t2;            /* bit 92     T2: type bit 2 (page request)  (rev 3.0+)      10.4.14 */
    bool priv;          /* bit 93     PRIV: privilege mode requested                10.4.14 */
    bool exe;           /* bit 94     EXE: execute permission requested             10.4.14 */
    bool pp;            /* bit 95     PP: PASID present                             10.4.14 */
    uint8_t fr;         /* 103:96     FR: fault reason (VTD_FR_*)                   10.4.14 */
    uint32_t pv;        /* 123:104    PV: PASID value                               10.4.14 */
    uint8_t at;         /* 125:124    AT: address type of the request               10.4.14 */
    bool t1;            /* bit 126    T1: type, 0 write, 1 read (Linux dma_frcd_type) 10.4.14 */
    bool f;             /* bit 127    F: fault (RW1C)                               10.4.14 */
};

void vtd_fault_record_encode(const struct vtd_fault_record *f, uint8_t raw[VTD_FRCD_SIZE]);
void vtd_fault_record_decode(const uint8_t raw[VTD_FRCD_SIZE], struct vtd_fault_record *f);
/* The interrupt index of an interrupt-remapping fault record (FI 63:48). */
static inline uint64_t vtd_fault_fi_index(uint16_t index) { return (uint64_t)index << 48; }

/* ------------------------------------------------------------------------ */
/* Fault reasons (spec 7.2, Table "Unrecoverable Fault Conditions"; 5.1.4.1 */
/* interrupt remapping; scalable-mode reasons 0x30.. as Linux names them).   */
/* ------------------------------------------------------------------------ */

enum vtd_fault_reason {
    VTD_FR_ROOT_P = 0x1,           /* present bit of the root entry is 0 */
    VTD_FR_CTX_P = 0x2,            /* present bit of the context entry is 0 */
    VTD_FR_CTX_INVALID = 0x3,      /* invalid programming of a context entry (AW, TT) */
    VTD_FR_BEYOND_AW = 0x4,        /* address above 2^min(MGAW, AGAW) - 1 */
    VTD_FR_WRITE = 0x5,            /* write (or AtomicOp) without W (incl. not present) */
    VTD_FR_READ = 0x6,             /* read (or AtomicOp) without R (incl. not present) */
    VTD_FR_PT_ACCESS = 0x7,        /* error accessing a second-level paging entry */
    VTD_FR_ROOT_ACCESS = 0x8,      /* error accessing the root entry (RTADDR) */
    VTD_FR_CTX_ACCESS = 0x9,       /* error accessing the context entry */
    VTD_FR_ROOT_RSVD = 0xa,        /* reserved bits set in a present root entry */
    VTD_FR_CTX_RSVD = 0xb,         /* reserved bits set in a present context entry */
    VTD_FR_PTE_RSVD = 0xc,         /* reserved bits set in a present paging entry */
    VTD_FR_TT_BLOCKED = 0xd,       /* translated / translation request blocked by TT */
    VTD_FR_IR_REQ_RSVD = 0x20,     /* reserved fields set in a remappable interrupt */
    VTD_FR_IR_INDEX = 0x21,        /* interrupt index beyond the IRTA table size */
    VTD_FR_IR_P = 0x22,            /* present bit of the IRTE is 0 */
    VTD_FR_IR_ACCESS = 0x23,       /* error accessing the interrupt remapping table */
    VTD_FR_IR_RSVD = 0x24,         /* reserved bits set in a present IRTE */
    VTD_FR_IR_COMPAT = 0x25,       /* compatibility-format interrupt blocked */
    VTD_FR_IR_SID = 0x26,          /* source-id verification failed */
    VTD_FR_IR_PID = 0x27,          /* error accessing a posted interrupt descriptor */
    /* Scalable mode (7.2, the table's SRTA / SRE / SCT / SPD / SPT / SFL /
     * SSL / SGN rows; the numbers and Linux's names in v6.1 dmar.c
     * dma_remap_sm_fault_reasons). Only those the model can reach are named. */
    VTD_FR_SM_RTA_INVALID = 0x30,  /* invalid root table address (reserved TTM) */
    VTD_FR_SM_ROOT_ACCESS = 0x38,  /* error accessing the scalable-mode root entry */
    VTD_FR_SM_ROOT_P = 0x39,       /* LP / UP of the root entry is 0 */
    VTD_FR_SM_ROOT_RSVD = 0x3a,    /* reserved bits in the root entry */
    VTD_FR_SM_CTX_ACCESS = 0x40,   /* error accessing the context entry */
    VTD_FR_SM_CTX_P = 0x41,        /* present bit of the context entry is 0 */
    VTD_FR_SM_CTX_RSVD = 0x42,     /* reserved bits in the context entry */
    VTD_FR_SM_CTX_DTE = 0x44,      /* translated request with DTE = 0 */
    VTD_FR_SM_CTX_PASIDE = 0x45,   /* request with PASID and PASIDE = 0 */
    VTD_FR_SM_PASID_BIG = 0x46,    /* PASID beyond the directory (PDTS) */
    VTD_FR_SM_RID_PASID = 0x48,    /* RID_PASID beyond the directory (PDTS) */
    VTD_FR_SM_PDE_ACCESS = 0x50,   /* error accessing the PASID directory entry */
    VTD_FR_SM_PDE_P = 0x51,        /* present bit of the PASID directory entry is 0 */
    VTD_FR_SM_PDE_RSVD = 0x52,     /* reserved bits in the PASID directory entry */
    VTD_FR_SM_PTE_ACCESS = 0x58,   /* error accessing the PASID table entry */
    VTD_FR_SM_PTE_P = 0x59,        /* present bit of the PASID table entry is 0 */
    VTD_FR_SM_PTE_RSVD = 0x5a,     /* reserved bits in the PASID table entry */
    VTD_FR_SM_PTE_INVALID = 0x5b,  /* PGTT / AW not supported */
    VTD_FR_SM_ERE = 0x5c,          /* execute request with ERE = 0 */
    VTD_FR_SM_SRE = 0x5d,          /* supervisor request with SRE = 0 */
    VTD_FR_SM_FL_ACCESS = 0x70,    /* error accessing a first-level paging entry */
    VTD_FR_SM_FL_P = 0x71,         /* first-level paging entry not present */
    VTD_FR_SM_FL_RSVD = 0x72,      /* reserved bits in a first-level paging entry */
    VTD_FR_SM_SL_ACCESS = 0x78,    /* error accessing a second-level paging entry */
    VTD_FR_SM_SL_RSVD = 0x7a,      /* reserved bits in a second-level paging entry */
    VTD_FR_SM_NONCANONICAL = 0x80, /* first-level input address not canonical */
    VTD_FR_SM_US = 0x81,           /* user request to a supervisor page (U/S = 0) */
    VTD_FR_SM_XD = 0x82,           /* execute request to an XD page */
    VTD_FR_SM_BEYOND_AW = 0x83,    /* input address beyond the address width */
    VTD_FR_SM_WRITE = 0x85,        /* write without write permission (or not present) */
    VTD_FR_SM_READ = 0x86,         /* read without read permission (or not present) */
};

/* The spec's meaning of a reason, short ("root entry not present", ...);
 * "reserved" for codes the spec does not define. */
const char *vtd_fault_reason_name(unsigned fr);
/* Qualified faults (7.2.1, and the table's "Qualified" column; 5.1.4.1)
 * are not recorded when the FPD of the entry used (context entry, IRTE) is
 * set: 0x2-0x7, 0xc, 0xd, 0x22, 0x24, 0x26, 0x27; in scalable mode (FPD of
 * the context, PASID directory or PASID table entry) the model qualifies
 * those after the context entry was found present, by analogy with the
 * legacy ones: 0x41, 0x43-0x48, 0x51, 0x59, 0x5b-0x5d, 0x70-0x87, 0x90 (not
 * the root-level ones, nor a context / PASID structure's access error or
 * reserved bits, like 0x8, 0x9, 0xa, 0xb). */
bool vtd_fault_qualified(unsigned fr);
/* An interrupt-remapping reason (0x20-0x2f). */
static inline bool vtd_fault_is_interrupt(unsigned fr) { return fr >= 0x20 && fr < 0x30; }

/* How Linux names a reason: dmar_get_fault_reason() of drivers/iommu/dmar.c
 * (4.x) and drivers/iommu/intel/dmar.c (5.x, 6.x), the strings of
 * dma_remap_fault_reasons (0x0-0xd), irq_remap_fault_reasons (0x20-0x26)
 * and, from v5.5 on (has_sm), dma_remap_sm_fault_reasons (0x30-0x90), with
 * "Unknown" for the rest. Read in a v4.19 tree (no SM table) and a current
 * mainline tree; the tables are unchanged in between, so v5.15 and v6.1
 * print the same. *type receives Linux's enum faulttype. Note for the
 * host: 4.x prints "[fault reason %02d]" (decimal), v6.1 "0x%02x". */
enum vtd_linux_fault_type {
    VTD_LINUX_DMA_REMAP = 0,
    VTD_LINUX_INTR_REMAP = 1,
    VTD_LINUX_UNKNOWN = 2,
};
const char *vtd_fault_reason_linux(unsigned fr, bool has_sm, enum vtd_linux_fault_type *type);

/* ------------------------------------------------------------------------ */
/* Invalidation descriptors, 128 bits (spec 6.5.2).                           */
/* ------------------------------------------------------------------------ */

#define VTD_DESC_SIZE 16

enum vtd_desc_type {
    VTD_DESC_CC = 0x1,        /* context-cache invalidate        6.5.2.1 */
    VTD_DESC_IOTLB = 0x2,     /* IOTLB invalidate                6.5.2.3 */
    VTD_DESC_DEVTLB = 0x3,    /* device-TLB invalidate           6.5.2.5 */
    VTD_DESC_IEC = 0x4,       /* interrupt entry cache invalidate 6.5.2.7 */
    VTD_DESC_WAIT = 0x5,      /* invalidation wait               6.5.2.8 */
    VTD_DESC_PIOTLB = 0x6,    /* PASID-based IOTLB (scalable)    6.5.2.4 */
    VTD_DESC_PC = 0x7,        /* PASID cache (scalable)          6.5.2.2 */
};
const char *vtd_desc_name(unsigned type);

struct vtd_inv_desc {
    uint8_t type;       /* 3:0 (and 11:9, zero in 128-bit descriptors)          6.5.2 */
    uint8_t g;          /* CC, IOTLB: 5:4 granularity (VTD_GRAN_*); IEC: bit 4,
                           0 global, 1 index-selective; PC: 5:4 (VTD_PC_G_*);
                           PIOTLB: 5:4 (VTD_PIOTLB_G_*)                         6.5.2.x */
    uint16_t did;       /* CC, IOTLB, PC, PIOTLB: 31:16 domain ID               6.5.2.1-4 */
    uint16_t sid;       /* CC: 47:32 source ID; DEVTLB: 47:32                   6.5.2.1/5 */
    uint8_t fm;         /* CC: 49:48 function mask                              6.5.2.1 */
    bool dw, dr;        /* IOTLB: bit 6 drain writes, bit 7 drain reads         6.5.2.3 */
    uint64_t addr;      /* IOTLB, PIOTLB, DEVTLB: 127:76 address (63:12)        6.5.2.3-5 */
    bool ih;            /* IOTLB, PIOTLB: bit 70 invalidation hint              6.5.2.3/4 */
    uint8_t am;         /* IOTLB, PIOTLB: 69:64 address mask                    6.5.2.3/4 */
    uint16_t pfsid;     /* DEVTLB: [3:0] in 15:12, [15:4] in 63:52              6.5.2.5 */
    uint8_t qdep;       /* DEVTLB: 20:16 invalidation queue depth (MIP)         6.5.2.5 */
    bool s;             /* DEVTLB: bit 64 size                                  6.5.2.5 */
    uint8_t im;         /* IEC: 31:27 index mask                                6.5.2.7 */
    uint16_t iidx;      /* IEC: 47:32 interrupt index                           6.5.2.7 */
    bool iflag;         /* WAIT: bit 4 IF, interrupt on completion              6.5.2.8 */
    bool sw;            /* WAIT: bit 5 SW, status write                         6.5.2.8 */
    bool fn;            /* WAIT: bit 6 FN, fence                                6.5.2.8 */
    bool pd;            /* WAIT: bit 7 PD, page-request drain                   6.5.2.8 */
    uint32_t status;    /* WAIT: 63:32 status data                              6.5.2.8 */
    uint32_t pasid;     /* PC, PIOTLB: 51:32 PASID                              6.5.2.2/4 */
    uint64_t status_addr; /* WAIT: 127:66 status address (bytes, 63:2)          6.5.2.8 */
};

void vtd_inv_desc_encode(const struct vtd_inv_desc *d, uint8_t raw[VTD_DESC_SIZE]);
/* Decodes the fields of the descriptor's type. True when the descriptor is
 * invalid for a legacy-mode unit: an unknown or scalable-mode type (0, 6-15),
 * type bits 11:9 set, or reserved bits set (rsvd, when non-NULL, receives
 * them as two words). */
bool vtd_inv_desc_decode(const uint8_t raw[VTD_DESC_SIZE], struct vtd_inv_desc *d,
                         uint64_t rsvd[2]);
/* The descriptors of a unit with ECAP.SMTS (6.5.2), 128-bit or, with IQA.DW
 * (dw true), 256-bit: the legacy types as above plus the PASID-cache (7,
 * 6.5.2.2: 8:6, 15:12, 63:52, 127:64 reserved) and PASID-based IOTLB (6,
 * 6.5.2.4: 8:6, 15:12, 63:52, 75:71 reserved) descriptors; in a 256-bit
 * descriptor bits 255:128 are reserved for all of these. raw holds 16 or 32
 * bytes; rsvd, when non-NULL, receives four words. */
bool vtd_inv_desc_decode_sm(const uint8_t *raw, bool dw, struct vtd_inv_desc *d,
                            uint64_t rsvd[4]);
/* PASID-cache invalidation granularity (6.5.2.2; Linux v6.1 QI_PC_*). */
#define VTD_PC_G_DOMAIN 0 /* every PASID of DID */
#define VTD_PC_G_PASID  1 /* DID and PASID */
#define VTD_PC_G_GLOBAL 3 /* everything (2 reserved) */
/* PASID-based IOTLB invalidation granularity (6.5.2.4; Linux QI_GRAN_*). */
#define VTD_PIOTLB_G_PASID 2 /* every address of DID and PASID (0, 1 reserved) */
#define VTD_PIOTLB_G_PAGE  3 /* 2^AM pages at ADDR in DID and PASID */
/* IQA.DW (10.4.23): descriptors are 256 bits. */
#define VTD_DESC_SIZE_256 32

/* ------------------------------------------------------------------------ */
/* Interrupt remapping (spec 5.1, 9.10).                                     */
/* ------------------------------------------------------------------------ */

#define VTD_IRTE_SIZE 16

/* Source validation type (9.10 SVT) and qualifier (SQ). */
#define VTD_SVT_NONE 0 /* no verification */
#define VTD_SVT_SID  1 /* requester ID against SID, masked by SQ */
#define VTD_SVT_BUS  2 /* requester bus within SID[15:8]..SID[7:0] */

struct vtd_irte {
    bool p;             /* bit 0      P: present                                    9.10 */
    bool fpd;           /* bit 1      FPD: fault processing disable                 9.10 */
    bool dm;            /* bit 2      DM: destination mode (1 logical)              9.10 */
    bool rh;            /* bit 3      RH: redirection hint                          9.10 */
    bool tm;            /* bit 4      TM: trigger mode (1 level)                    9.10 */
    uint8_t dlm;        /* 7:5        DLM: delivery mode                            9.10 */
    uint8_t avail;      /* 11:8       AVAIL: software available                     9.10 */
                        /* 14:12      reserved                                          */
    bool im;            /* bit 15     IM: IRTE mode, 1 posted (CAP.PI)              9.10 */
    uint8_t vector;     /* 23:16      V: vector                                     9.10 */
                        /* 31:24      reserved                                          */
    uint32_t dst;       /* 63:32      DST: destination ID; xAPIC (EIME = 0): APIC ID
                           in 47:40, the rest reserved                          9.10 */
    uint16_t sid;       /* 79:64      SID: source identifier                        9.10 */
    uint8_t sq;         /* 81:80      SQ: source-id qualifier                       9.10 */
    uint8_t svt;        /* 83:82      SVT: source validation type                   9.10 */
                        /* 127:84     reserved                                          */
};

void vtd_irte_encode(const struct vtd_irte *e, uint8_t raw[VTD_IRTE_SIZE]);
void vtd_irte_decode(const uint8_t raw[VTD_IRTE_SIZE], struct vtd_irte *e);
/* Reserved bits of a present IRTE (9.10): 14:12, 31:24, 127:84, IM without
 * CAP.PI, in xAPIC mode (eime false) DST bits 39:32 and 63:48, SVT 11b.
 * True when any (rsvd receives them as two words when non-NULL). */
bool vtd_irte_reserved(const uint8_t raw[VTD_IRTE_SIZE], bool eime, uint64_t cap,
                       uint64_t rsvd[2]);
/* The destination field for an APIC ID: x2APIC as is, xAPIC in 47:40 (Linux
 * v6.1 irq_remapping.c IRTE_DEST). And back. */
static inline uint32_t vtd_irte_dst(uint32_t apic_id, bool eime)
{
    return eime ? apic_id : (apic_id & 0xff) << 8;
}
static inline uint32_t vtd_irte_apic_id(uint32_t dst, bool eime)
{
    return eime ? dst : (dst >> 8) & 0xff;
}

/* Interrupt window (5.1; chapter 3, "Handling Requests to Interrupt Address Range"). */
#define VTD_INTR_BASE 0xfee00000ull
#define VTD_INTR_LAST 0xfeefffffull

/* An interrupt request as the unit decodes it (5.1.2). */
struct vtd_msi {
    bool remappable;    /* addr bit 4: 1 remappable, 0 compatibility format 5.1.2 */
    /* Remappable format (5.1.2.2): */
    uint16_t handle;    /* addr [15] in bit 2, [14:0] in 19:5                  5.1.2.2 */
    bool shv;           /* addr bit 3: SHV, subhandle valid                     5.1.2.2 */
    uint16_t subhandle; /* data 15:0 when SHV                                   5.1.2.2 */
    uint16_t index;     /* handle (+ subhandle when SHV), 16 bits               5.1.2.2 */
    bool rsvd;          /* data bits 31:16 set (model decision: reserved, 0x20) */
    /* Compatibility format (5.1.2.1): */
    uint8_t dest;       /* addr 19:12 */
    bool dm;            /* addr bit 2 */
    bool rh;            /* addr bit 3 */
    uint8_t vector;     /* data 7:0 */
    uint8_t dlm;        /* data 10:8 */
    bool tm;            /* data bit 15 */
};

void vtd_msi_decode(uint64_t addr, uint32_t data, struct vtd_msi *m);
/* The remappable-format address for handle with SHV (5.1.2.2; Linux v6.1
 * irq_remapping.c fill_msi_msg: MSI_ADDR_IR_EXT_INT | MSI_ADDR_IR_SHV, handle
 * [14:0] in 19:5, [15] in bit 2). */
uint64_t vtd_msi_remap_addr(uint16_t handle, bool shv);
/* The compatibility-format message an IRTE delivers (Intel SDM 10.11):
 * address 0xFEE00000 | APIC ID[7:0] << 12 | RH << 3 | DM << 2 (an x2APIC
 * destination's bits 31:8 go to address bits 63:40, as Linux's x2APIC MSI
 * address_hi), data vector | DLM << 8 | level assert (bit 14) | TM << 15. */
void vtd_irte_msi(const struct vtd_irte *e, bool eime, uint64_t *addr, uint32_t *data);

#endif
