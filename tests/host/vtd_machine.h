/* A QEMU q35-like machine for the Intel IOMMU driver tests: 00:00.0 host
 * bridge (8086:29c0), 00:03.0 an endpoint standing in for QEMU's edu device
 * (1234:11e8, BAR0 64 KiB), 00:1f.0 the ISA bridge (8086:2918) and 00:1f.2
 * SATA (8086:2922) and 00:1f.3 SMBus (8086:2930) as one multi-function
 * device; 2 GiB of RAM; the VT-d
 * model with QEMU 7.2's registers at 0xfed90000 whose fault event goes to
 * the kernel's APICs; QEMU's DMAR (host/dmar.h build_dmar_q35: flags 0, the
 * IOAPIC and the four functions as scopes); the host kernel of the given
 * version and command line, booted by host_boot. */
#ifndef PCILAB_TESTS_HOST_VTD_MACHINE_H
#define PCILAB_TESTS_HOST_VTD_MACHINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pcie/fabric_fixture.h"
#include "machine_common.h"
#include "host/boot.h"
#include "host/dmar.h"
#include "host/intel_iommu.h"
#include "host/irq.h"
#include "host/kernel.h"
#include "host/pci.h"
#include "iommu/vtd.h"

struct vtd_machine {
    struct pcilab_sim *sim;
    struct pcie_fabric *f;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct tdev *edu, *isa, *sata, *smbus;
    struct pcie_fn *ep;
    struct vtd *vtd;
    struct host_kernel *k, *prev;
    struct pci_dev *pdev;
    struct host_intel_iommu *drv;
    uint8_t dmar[512];
    long dmar_len;
    int boot_rc;
    struct pcilab_err err;
};

static void vtd_machine_msi(void *ctx, enum vtd_event ev, uint64_t addr, uint32_t data)
{
    (void)ev;
    struct vtd_machine *m = ctx;
    if (m->k)
        host_irq_deliver_msi(m->k, addr, data);
}

/* A conventional PCI function for the root bus (QEMU's q35 devices are
 * integrated PCI functions): identity, MSI (one vector, 64-bit), BARs. */
static struct tdev *vtd_rc_dev(uint16_t vendor, uint16_t device, uint32_t cls, bool mf,
                               const struct tbar *bars, unsigned nbars)
{
    struct tdev *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    struct pcie_cfg_ident id = {.vendor_id = vendor, .device_id = device, .class_code = cls,
                                .multifunction = mf, .pcie = false, .interrupt_pin = 1};
    pcie_cfg_init(&d->cfg);
    if (pcie_cfg_init_type0(&d->cfg, &id, NULL) < 0)
        abort();
    struct pcie_msi_params mp = {.addr64 = true, .vectors = 1};
    if (pcie_cap_add_msi(&d->cfg, &mp, 0, NULL) < 0)
        abort();
    for (unsigned i = 0; i < nbars; i++)
        if (pcie_cfg_bar_declare(&d->cfg, i, bars[i].type, bars[i].size, bars[i].pref, NULL) < 0)
            abort();
    return d;
}

/* rmrr: the DMAR also has an RMRR 0x7d000000..0x7d0fffff naming 00:03.0;
 * preset: the unit's registers (vtd_config_qemu, vtd_config_qemu_sm) */
static void vtd_machine_build_with(struct vtd_machine *m, const char *version, const char *cmdline,
                                   bool rmrr, void (*preset)(struct vtd_config *))
{
    memset(m, 0, sizeof *m);
    m->sim = sim_create(1);
    struct pcilab_err *err = &m->err;
    struct pcie_fabric_config fc;
    pcie_fabric_config_default(&fc);
    fc.host_bridge.vendor_id = 0x8086;
    fc.host_bridge.device_id = 0x29c0;
    m->f = pcie_fabric_create(m->sim, &fc, err);
    if (!m->f)
        abort();
    struct tbar b[] = {{PCIE_BAR_MEM32, 65536, false}};
    m->edu = vtd_rc_dev(0x1234, 0x11e8, 0x00ff00, false, b, 1);
    m->isa = vtd_rc_dev(0x8086, 0x2918, 0x060100, true, NULL, 0);
    m->sata = vtd_rc_dev(0x8086, 0x2922, 0x010601, false, NULL, 0);
    m->smbus = vtd_rc_dev(0x8086, 0x2930, 0x0c0500, false, NULL, 0);
    if (!(m->ep = pcie_fabric_add_function(m->f, NULL, 3, 0, &m->edu->cfg, &tdev_ops, m->edu,
                                           err)) ||
        !pcie_fabric_add_function(m->f, NULL, 0x1f, 0, &m->isa->cfg, &tdev_ops, m->isa, err) ||
        !pcie_fabric_add_function(m->f, NULL, 0x1f, 2, &m->sata->cfg, &tdev_ops, m->sata, err) ||
        !pcie_fabric_add_function(m->f, NULL, 0x1f, 3, &m->smbus->cfg, &tdev_ops, m->smbus,
                                  err)) {
        fprintf(stderr, "%s\n", err->msg);
        abort();
    }
    tmach_memory_enumerate(m->f, &m->ram, &m->map, err);
    struct vtd_config vc;
    preset(&vc);
    vc.msi = vtd_machine_msi;
    vc.msi_ctx = m;
    m->vtd = vtd_create(m->sim, m->ram, m->map, &vc, err);
    if (!m->vtd)
        abort();
    iommu_attach_fabric(vtd_iommu(m->vtd), m->f, false, 0);

    static const struct host_dmar_dev devs[] = {
        {0, 0, 0, false}, {0, 3, 0, false}, {0, 0x1f, 0, false}, {0, 0x1f, 2, false},
        {0, 0x1f, 3, false}};
    struct host_dmar *t = host_dmar_create();
    struct host_dmar_q35 q = {.aw_bits = 39, .intr_remap = true, .devs = devs, .n_devs = 5};
    if (host_dmar_build_q35(t, &q, err) < 0)
        abort();
    if (rmrr) {
        int r = host_dmar_add_rmrr(t, 0, 0x7d000000ull, 0x7d0fffffull, err);
        struct host_dmar_scope sc = host_dmar_scope1(HOST_DMAR_SCOPE_ENDPOINT, 0, 0, 3, 0);
        if (r < 0 || host_dmar_add_scope(t, (size_t)r, &sc, err) < 0)
            abort();
    }
    m->dmar_len = host_dmar_encode(t, m->dmar, sizeof m->dmar, err);
    host_dmar_destroy(t);
    if (m->dmar_len <= 0)
        abort();

    struct host_kernel_config kc = {.version = version, .cmdline = cmdline, .ncpus = 2};
    m->k = host_kernel_create(m->sim, m->f, m->ram, m->map, &kc, err);
    if (!m->k)
        abort();
    struct host_firmware fw = {.dmar = m->dmar, .dmar_len = (size_t)m->dmar_len};
    m->boot_rc = host_boot(m->k, NULL, &fw, err);
    m->drv = host_intel_iommu_of(m->k);
    m->pdev = host_pci_of_fn(m->k, m->ep);
    m->prev = host_enter(m->k);
}

static void vtd_machine_build_rmrr(struct vtd_machine *m, const char *version, const char *cmdline,
                                   bool rmrr)
{
    vtd_machine_build_with(m, version, cmdline, rmrr, vtd_config_qemu);
}

static void vtd_machine_build(struct vtd_machine *m, const char *version, const char *cmdline)
{
    vtd_machine_build_rmrr(m, version, cmdline, false);
}

static inline void vtd_machine_unused(void)
{
    (void)tfab_build;
    (void)tfab_free;
    (void)vtd_machine_build;
    (void)vtd_machine_build_rmrr;
}

static void vtd_machine_free(struct vtd_machine *m)
{
    host_leave(m->prev);
    tmach_free(m->sim, m->ram, m->map);
    free(m->edu);
    free(m->isa);
    free(m->sata);
    free(m->smbus);
}

#endif
