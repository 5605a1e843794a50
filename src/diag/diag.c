#include "diag/diag.h"

const char *diag_category_name(enum diag_category c)
{
    switch (c) {
    case DIAG_REQUESTER_ID_MISMATCH: return "requester-id-mismatch";
    case DIAG_MISSING_MAPPING: return "missing-mapping";
    case DIAG_PERMISSION: return "permission";
    case DIAG_FIRMWARE_RMRR_IVMD: return "firmware-rmrr-ivmd";
    case DIAG_DMA_MASK: return "dma-mask";
    case DIAG_HARDWARE_DEVICE_BUG: return "hardware-device-bug";
    case DIAG_INTERRUPT_REMAPPING: return "interrupt-remapping";
    case DIAG_IOTLB_INVALIDATION: return "iotlb-invalidation";
    case DIAG_SWIOTLB_EXHAUSTION: return "swiotlb-exhaustion";
    case DIAG_DRIVER_API_MISUSE: return "driver-api-misuse";
    case DIAG_UNKNOWN: return "unknown";
    }
    return "unknown";
}

const char *diag_confidence_name(enum diag_confidence c)
{
    switch (c) {
    case DIAG_CONF_LOW: return "low";
    case DIAG_CONF_MEDIUM: return "medium";
    case DIAG_CONF_HIGH: return "high";
    }
    return "low";
}
