/* Shared by the test machines with an AMD IOMMU: the configuration space of
 * the IOMMU's own function (00:00.2) as firmware leaves it. */
#ifndef PCILAB_TESTS_AMD_IOMMU_FN_H
#define PCILAB_TESTS_AMD_IOMMU_FN_H

#include <stdint.h>
#include <stdlib.h>

#include "pcie/caps.h"
#include "pcie/config.h"

/* MSI capability at 0x50 (64-bit, 1 vector), the AMD IOMMU capability block
 * at 0x40 (48882 3.2.1: CapId 0Fh, CapType 011b, EFRSup bit 27, the base
 * address of the registers at mmio) linked after it; firmware leaves the
 * IOMMU a bus master (its MSI is a memory write). */
static inline void amd_iommu_fn_cfg(struct pcie_cfg *cfg, uint64_t mmio)
{
    struct pcie_cfg_ident id = {.vendor_id = 0x1022, .device_id = 0x1577, .class_code = 0x080600,
                                .multifunction = true, .pcie = false};
    pcie_cfg_init(cfg);
    if (pcie_cfg_init_type0(cfg, &id, NULL) < 0)
        abort();
    struct pcie_msi_params mp = {.addr64 = true, .vectors = 1};
    if (pcie_cap_add_msi(cfg, &mp, 0x50, NULL) < 0)
        abort();
    pcie_cfg_define(cfg, 0x40, 4, 0x0fu | 3u << 16 | 1u << 19 | 1u << 27 | 1u << 28, 0, 0);
    pcie_cfg_define(cfg, 0x44, 4, (uint32_t)(mmio & 0xffffc000u) | 1u, 0, 0);
    pcie_cfg_define(cfg, 0x48, 4, 0, 0, 0);
    pcie_cfg_define(cfg, 0x4c, 4, 0, 0, 0);
    pcie_cfg_define(cfg, 0x50 + 1, 1, 0x40, 0, 0); /* MSI -> IOMMU cap */
    pcie_cfg_raw_write16(cfg, PCIE_CFG_COMMAND, PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER);
}

#endif
