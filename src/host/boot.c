/* Booting the host kernel (boot.h). */
#include "host/boot.h"

#include <string.h>

#include "host/amd_iommu.h"
#include "host/dma.h"
#include "host/dma_debug.h"
#include "host/intel_iommu.h"
#include "host/pages.h"
#include "host/pci.h"
#include "host/swiotlb.h"

static void print_enum(struct host_kernel *k, const struct pcie_enum_report *rep)
{
    uint16_t seg = pcie_fabric_config(k->fabric)->segment;
    char line[256];
    for (size_t i = 0; i < rep->n; i++) {
        pcie_enum_step_format(&rep->steps[i], seg, line, sizeof line);
        host_printk(k, KERN_INFO "%s\n", line);
    }
}

/* pci_swiotlb_detect_override / pci_swiotlb_detect_4gb
 * (arch/x86/kernel/pci-swiotlb.c 4.x, pci-dma.c 6.1): a pool when asked for
 * (swiotlb=force, iommu=soft) or when RAM reaches above 4 GiB, unless the
 * IOMMU is switched off by no_iommu (iommu=off keeps swiotlb possible: only
 * the hardware IOMMUs are off). */
static bool wants_swiotlb(const struct host_kernel *k)
{
    const struct host_bootparams *bp = &k->bootparams;
    if (bp->swiotlb_force == HOST_SWIOTLB_FORCE || bp->x86_swiotlb)
        return true;
    if (bp->swiotlb_force == HOST_SWIOTLB_NO_FORCE && !k->kver->swiotlb_noforce_one_slab)
        return false;
    return host_pages_end(k->pages) > (4ull << 30);
}

int host_boot(struct host_kernel *k, const struct pcie_enum_report *rep,
              const struct host_firmware *fw, struct pcilab_err *err)
{
    struct host_kernel *prev = host_enter(k);
    const struct host_bootparams *bp = &k->bootparams;
    int r = 0;
    bool swiotlb = wants_swiotlb(k);
    if (swiotlb && (r = host_dma_swiotlb_init(k, err)) < 0)
        goto out;
    /* DMA API debugging: core_initcall (4.20+), before the PCI scan */
    if (k->kver->dma_debug_init_at == HOST_DMA_DEBUG_AT_CORE_INITCALL &&
        (r = host_dma_debug_init(k, err)) < 0)
        goto out;
    /* VT-d: detect_intel_iommu (pci_iommu_alloc) reads the DMAR and
     * enable_IR_x2apic sets up interrupt remapping, both before the PCI
     * scan; iommu=soft ends the IOMMU_INIT walk first in 4.x/5.15 */
    if (fw && fw->dmar && fw->dmar_len && !(bp->x86_swiotlb && k->kver->swiotlb_soft_skips_iommu) &&
        (r = host_intel_iommu_detect(k, fw->dmar, fw->dmar_len, err)) < 0)
        goto out;
    if (rep)
        print_enum(k, rep);
    if ((r = host_pci_scan(k, err)) < 0)
        goto out;
    /* 4.9: pci_iommu_init (rootfs_initcall) calls dma_debug_init before the
     * IOMMU driver's init */
    if (k->kver->dma_debug_init_at == HOST_DMA_DEBUG_AT_PCI_IOMMU_INIT &&
        (r = host_dma_debug_init(k, err)) < 0)
        goto out;
    /* The hardware IOMMUs: skipped by iommu=off, and in 4.x/5.15 by
     * iommu=soft (the swiotlb detection ends the IOMMU_INIT walk first). */
    bool iommus = fw && fw->ivrs && fw->ivrs_len && !bp->no_iommu &&
                  !(bp->x86_swiotlb && k->kver->swiotlb_soft_skips_iommu);
    if (iommus) {
        struct host_amd_iommu_platform plat = {fw->ioapic_ids, fw->n_ioapics};
        if ((r = host_amd_iommu_init_platform(k, fw->ivrs, fw->ivrs_len, &plat, err)) < 0)
            goto out;
    }
    /* intel_iommu_init (after the PCI scan) */
    if (host_intel_iommu_of(k) && (r = host_intel_iommu_init(k, err)) < 0)
        goto out;
    /* amd_iommu_init_dma_ops: swiotlb = (iommu_pass_through || sme_me_mask)
     * in 4.9 (drivers/iommu/amd_iommu.c:2844) and 4.20 (amd_iommu.c:2778);
     * 5.15 has no iommu_pass_through any more (iommu=pt sets the default
     * domain type) and asks iommu_default_passthrough() instead
     * (drivers/iommu/amd/iommu.c:1815), which iommu.passthrough=1 sets too;
     * pci_swiotlb_late_init then frees an unused pool. 6.1 keeps it. */
    struct host_intel_iommu_info vi;
    host_intel_iommu_get_info(host_intel_iommu_of(k), &vi);
    /* intel_iommu_init: swiotlb = 0 once DMA remapping is on (4.x, 5.15) */
    bool amd = host_amd_iommu_of(k) != NULL || vi.dma_remapping;
    bool pass_through = k->kver->iommu_pt_sets_default_domain ? bp->iommu_def_passthrough
                                                              : bp->iommu_pass_through;
    if (swiotlb && amd && k->kver->swiotlb_freed_by_iommu && !pass_through &&
        !bp->x86_swiotlb && bp->swiotlb_force != HOST_SWIOTLB_FORCE) {
        host_pages_unreserve(k->pages, host_swiotlb_start(k->swiotlb),
                             host_swiotlb_end(k->swiotlb) - host_swiotlb_start(k->swiotlb));
        host_swiotlb_destroy(k->swiotlb);
        k->swiotlb = NULL;
        swiotlb = false;
    }
    for (size_t i = 0; i < k->npdevs; i++) {
        struct pci_dev *p = k->pdevs[i];
        if (!p->dev.dma_ops)
            host_dma_set_ops(&p->dev, swiotlb ? &host_dma_swiotlb_ops : &host_dma_direct_ops);
    }
    /* amd_iommu_v2_init (module_init, device_initcall: after the IOMMU
     * drivers' init, before pci_swiotlb_late_init), built in by Debian 6.1's
     * config (CONFIG_AMD_IOMMU_V2=y), on every machine, Intel ones too:
     * drivers/iommu/amd/iommu_v2.c:925/940 (Linux 6.1) */
    if (k->kver->amd_iommu_v2_builtin) {
        struct host_amd_iommu_info ai;
        host_amd_iommu_get_info(host_amd_iommu_of(k), &ai);
        host_printk(k, KERN_INFO "%s",
                    ai.v2 ? "AMD-Vi: AMD IOMMUv2 loaded and initialized\n"
                          : "AMD-Vi: AMD IOMMUv2 functionality not available on this system - "
                            "This is not a bug.\n");
    }
    if (swiotlb)
        host_printk(k, KERN_INFO "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)\n");
out:
    host_leave(prev);
    return r;
}
