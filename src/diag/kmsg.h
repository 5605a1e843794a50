/* Recognising the kernel messages pcilab explain understands (issue 6), in
 * every format the kernel versions from 4.4 to current print them, each
 * format read from that version's source (cite file and version beside each
 * pattern in kmsg_*.c).
 *
 * kmsg_parse looks at one record's text (klog.h: prefixes already removed)
 * and fills a struct kmsg with what the line says. It never guesses: a line
 * it does not know is KMSG_NO_MATCH. It is the hot path of a 100 MB log
 * (>= 100 MB/s for the whole reader): no allocation, a cheap pre-filter
 * before any detailed parse.
 *
 * Families: AMD-Vi events (kmsg_amdvi.c), Intel VT-d DMAR / interrupt
 * remapping faults and boot lines (kmsg_vtd.c), ARM SMMU v2/v3, dma-debug,
 * swiotlb, AER and the context lines that tell the explainer about the
 * machine (kernel version, command line, IOMMU enabled/disabled, driver
 * probe lines naming a BDF) (kmsg_other.c).
 */
#ifndef PCILAB_DIAG_KMSG_H
#define PCILAB_DIAG_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kmsg_status {
    KMSG_NO_MATCH = 0, /* not a message we know */
    KMSG_MATCH,        /* recognised, *out filled */
    KMSG_PARTIAL,      /* the head of a known message whose rest is on the
                          next record (4.9's "AMD-Vi: Event logged [" before
                          its "IO_PAGE_FAULT ...]" record; a line wrapped in
                          a mail): try again with the next record appended */
};

enum kmsg_family {
    KMSG_FAM_NONE,
    KMSG_FAM_AMDVI,    /* AMD-Vi / amd_iommu */
    KMSG_FAM_VTD,      /* DMAR / intel_iommu / DMAR-IR */
    KMSG_FAM_SMMU,     /* arm-smmu, arm-smmu-v3 */
    KMSG_FAM_DMA_DEBUG,
    KMSG_FAM_SWIOTLB,
    KMSG_FAM_AER,
    KMSG_FAM_CONTEXT,  /* not a fault: facts about the machine */
};

enum kmsg_kind {
    KMSG_UNKNOWN_KIND = 0,
    /* AMD-Vi events (AMD 48882 2.5.x event codes) and driver messages */
    KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY,  /* 01h */
    KMSG_AMDVI_IO_PAGE_FAULT,            /* 02h */
    KMSG_AMDVI_DEV_TAB_HARDWARE_ERROR,   /* 03h */
    KMSG_AMDVI_PAGE_TAB_HARDWARE_ERROR,  /* 04h */
    KMSG_AMDVI_ILLEGAL_COMMAND_ERROR,    /* 05h */
    KMSG_AMDVI_COMMAND_HARDWARE_ERROR,   /* 06h */
    KMSG_AMDVI_IOTLB_INV_TIMEOUT,        /* 07h */
    KMSG_AMDVI_INVALID_DEVICE_REQUEST,   /* 08h */
    KMSG_AMDVI_INVALID_PPR_REQUEST,      /* 09h */
    KMSG_AMDVI_RMP_PAGE_FAULT,           /* 0Ch, 6.x */
    KMSG_AMDVI_RMP_HW_ERROR,             /* 0Dh, 6.x */
    KMSG_AMDVI_UNKNOWN_EVENT,            /* "UNKNOWN event[...]" / "Unknown event" */
    KMSG_AMDVI_COMPLETION_WAIT_TIMEOUT,  /* "Completion-Wait loop timed out" */
    KMSG_AMDVI_EVENT_OVERFLOW,           /* "Event log overflow" / EVT_OVERFLOW */
    /* Intel VT-d */
    KMSG_VTD_DMA_FAULT,      /* [DMA Read|Write|PTE Read ...] Request device ... fault reason */
    KMSG_VTD_IR_FAULT,       /* [INTR-REMAP] Request device ... fault index ... */
    KMSG_VTD_FAULT_STATUS,   /* "DRHD: handling fault status reg N" */
    KMSG_VTD_RMRR_INELIGIBLE,/* "Device is ineligible for IOMMU domain attach due to platform RMRR requirement" */
    /* ARM SMMU */
    KMSG_SMMU_CONTEXT_FAULT, /* "Unhandled context fault: fsr=..., iova=..., fsynr=..., cbfrsynra=..., cb=..." */
    KMSG_SMMU_EVENT,         /* SMMUv3 "event 0x10 received:" / "F_TRANSLATION" ... */
    /* generic DMA layer */
    KMSG_DMA_DEBUG,          /* "DMA-API: ..." WARNING lines of kernel/dma/debug.c */
    KMSG_SWIOTLB_FULL,       /* "swiotlb buffer is full (sz: N bytes)..." */
    KMSG_SW_IOMMU_SPACE,     /* "DMA: Out of SW-IOMMU space for N bytes at device ..." */
    KMSG_AER,                /* pcieport ...: AER: ... error ... */
    /* context */
    KMSG_CTX_KERNEL_VERSION, /* "Linux version 4.9.80 ..." */
    KMSG_CTX_CMDLINE,        /* "Kernel command line: ..." / "Command line: ..." */
    KMSG_CTX_IOMMU_ON,       /* "AMD-Vi: Found IOMMU", "DMAR: IOMMU enabled", "AMD-Vi: Interrupt remapping enabled", ... */
    KMSG_CTX_IOMMU_OFF,      /* "PCI-DMA: Using software bounce buffering", "DMAR: IOMMU disabled", ... */
    KMSG_CTX_IOMMU_GROUP,    /* "iommu: Adding device 0000:01:00.0 to group 1" / "pci 0000:01:00.0: Adding to iommu group 1" */
    KMSG_CTX_DEVICE,         /* "pci 0000:01:00.0: [1204:5045] type 00 class 0x118000", a driver's "drv 0000:01:00.0: ..." */
    KMSG_CTX_RMRR_IVMD,      /* "DMAR: RMRR base: ...", "AMD-Vi: IVMD ..." / unity map lines */
};

enum kmsg_dir { KMSG_DIR_NONE = 0, KMSG_DIR_READ, KMSG_DIR_WRITE, KMSG_DIR_EXEC };

/* What one message says. Fields a message does not carry keep has_* false. */
struct kmsg {
    enum kmsg_family family;
    enum kmsg_kind kind;
    char format[32];      /* which printed form matched, e.g. "amdvi-4.9-split",
                             "amdvi-4.20", "amdvi-5.15", "amdvi-6.1-seg",
                             "amdvi-dev-err", "vtd-4.x", "vtd-5.x-pasid", ... */
    /* the requester (device the IOMMU names) */
    bool has_bdf;
    uint16_t segment;     /* PCI segment (0 when the form has none) */
    uint16_t bdf;         /* bus << 8 | dev << 3 | fn */
    /* the device that printed the line (dev_err/dev_info prefix), if any */
    bool has_printer;
    char printer_driver[32]; /* e.g. "amd_iommu", "ecp5_dma", "pcieport" */
    uint16_t printer_segment, printer_bdf;
    bool has_domain;
    uint32_t domain;
    bool has_addr;
    uint64_t addr;        /* IOVA / fault address */
    bool has_flags;
    uint32_t flags;       /* AMD-Vi event flags, SMMU fsr/fsynr, AER status */
    bool has_reason;
    uint32_t reason;      /* VT-d fault reason, SMMUv3 event id, IR index */
    bool has_pasid;
    uint32_t pasid;
    enum kmsg_dir dir;
    uint64_t number;      /* a count or size the message carries (swiotlb
                             bytes, DRHD fault status reg, group number) */
    char detail[192];     /* words worth quoting: the VT-d reason text, the
                             dma-debug sentence, the AER error name, the
                             kernel version or command line (context) */
};

/* Returns KMSG_MATCH (out filled), KMSG_PARTIAL or KMSG_NO_MATCH. text need
 * not be NUL-terminated. */
enum kmsg_status kmsg_parse(const char *text, size_t len, struct kmsg *out);

/* Names for output: "IO_PAGE_FAULT", "DMA Write", ...; "amd-vi", "vt-d", ... */
const char *kmsg_kind_name(enum kmsg_kind k);
const char *kmsg_family_name(enum kmsg_family f);

/* The VT-d fault reason's text as the kernel's table has it (drivers/iommu/
 * intel/dmar.c dma_remap_fault_reasons / irq_remap_fault_reasons /
 * dma_remap_sm_fault_reasons), NULL when the code is not in any table. */
const char *kmsg_vtd_reason_text(uint32_t reason);

/* The AMD-Vi IO_PAGE_FAULT flag bits (48882 2.5.3), as "PR|RW|PE" into buf. */
void kmsg_amdvi_flags_str(uint32_t flags, char *buf, size_t len);

#endif
