/* pcilab's <linux/dma-mapping.h>: the DMA API of the host kernel
 * (host/dma.h), dispatched to the device's direct, swiotlb or IOMMU
 * operations as the booted kernel chose them. */
#ifndef PCILAB_LINUX_DMA_MAPPING_H
#define PCILAB_LINUX_DMA_MAPPING_H

#include "host/dma.h"

#include <linux/device.h>
#include <linux/types.h>

#endif
