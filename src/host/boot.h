/* Booting the host kernel on its machine, in the order Linux's x86 boot does
 * the parts pcilab models, each printing what Linux prints:
 *   1. the command line was parsed when the kernel was created (kernel.h);
 *   2. swiotlb: pci_swiotlb_detect_* decide whether a bounce-buffer pool is
 *      needed (swiotlb=force, iommu=soft, RAM above 4 GiB without an IOMMU
 *      taking over) and swiotlb_init places it;
 *   3. PCI: the enumeration steps as "pci ..." lines (the fabric was
 *      enumerated by configuration requests, pcie/enumerate.h), then the
 *      kernel's own scan into struct pci_dev (pci.h);
 *   4. the IOMMU driver for the firmware's tables (ACPI IVRS: AMD-Vi), which
 *      gives the devices it covers their DMA operations and may take over
 *      interrupt remapping;
 *   5. every other device gets the direct or the swiotlb DMA operations, and
 *      pci_swiotlb_late_init prints "PCI-DMA: Using software bounce buffering
 *      for IO (SWIOTLB)" or frees the unused pool.
 * Boot takes no simulated time: every line is stamped with the time boot
 * was called at. */
#ifndef PCILAB_HOST_BOOT_H
#define PCILAB_HOST_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "host/kernel.h"
#include "pcie/enumerate.h"

/* The firmware tables the kernel reads, as bytes. */
struct host_firmware {
    const uint8_t *ivrs;         /* ACPI IVRS (AMD-Vi), NULL when absent */
    size_t ivrs_len;
    const uint8_t *dmar;         /* ACPI DMAR (Intel VT-d), NULL when absent */
    size_t dmar_len;
    const uint8_t *ioapic_ids;   /* the MADT's I/O APIC ids; NULL: those the IVRS names */
    size_t n_ioapics;
};

/* rep: the enumeration that configured the fabric (its steps are printed), or
 * NULL. fw may be NULL (no tables). */
int host_boot(struct host_kernel *k, const struct pcie_enum_report *rep,
              const struct host_firmware *fw, struct pcilab_err *err);

#endif
