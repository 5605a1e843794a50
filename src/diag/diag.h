/* What every diagnosis shares: the taxonomy of causes and the confidence,
 * used by the diagnosis of a simulation run (iommu_diag.h) and by
 * `pcilab explain` on a real kernel log (explain.h). */
#ifndef PCILAB_DIAG_DIAG_H
#define PCILAB_DIAG_DIAG_H

/* The fixed taxonomy of causes (docs/diagnosis.md). */
enum diag_category {
    DIAG_REQUESTER_ID_MISMATCH,
    DIAG_MISSING_MAPPING,
    DIAG_PERMISSION,
    DIAG_FIRMWARE_RMRR_IVMD,
    DIAG_DMA_MASK,
    DIAG_HARDWARE_DEVICE_BUG,
    DIAG_INTERRUPT_REMAPPING,
    DIAG_IOTLB_INVALIDATION,
    DIAG_SWIOTLB_EXHAUSTION,
    DIAG_DRIVER_API_MISUSE,
    DIAG_UNKNOWN,
};
/* "requester-id-mismatch", "missing-mapping", ... "unknown". */
const char *diag_category_name(enum diag_category c);

enum diag_confidence { DIAG_CONF_LOW, DIAG_CONF_MEDIUM, DIAG_CONF_HIGH };
/* "low", "medium", "high". */
const char *diag_confidence_name(enum diag_confidence c);

#endif
