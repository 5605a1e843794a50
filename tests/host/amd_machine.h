/* A small AMD machine for the AMD IOMMU driver tests and benchmark: host
 * bridge 00:00.0, the IOMMU as RCiEP 00:00.2 (MSI + AMD IOMMU capability at
 * 0x40), a root port 00:01.0 with ACS and an endpoint 01:00.0 (BAR0 64 KiB,
 * MSI with 2 vectors) that DMAs with its own or a forced requester ID; the
 * AMD-Vi model at 0xfeb80000 on the fabric; an IVRS (IVHD 11h) selecting
 * 00:01.0 and 01:00.0 (and 00:00.0 when asked), with the southbridge IOAPIC
 * at 00:14.0; the host kernel of the given version and command line, after
 * host_pci_scan and host_amd_iommu_init. */
#ifndef PCILAB_TESTS_HOST_AMD_MACHINE_H
#define PCILAB_TESTS_HOST_AMD_MACHINE_H

#include <stdlib.h>
#include <string.h>

#include "../pcie/fabric_fixture.h"
#include "machine_common.h"
#include "amd_iommu_fn.h"
#include "host/amd_iommu.h"
#include "host/dma.h"
#include "host/irq.h"
#include "host/ivrs.h"
#include "host/kernel.h"
#include "host/pci.h"
#include "iommu/amdvi.h"
#include "pcie/msi.h"

#define AMD_MMIO 0xfeb80000ull

struct amd_machine {
    struct pcilab_sim *sim;
    struct pcie_fabric *f;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct pcie_cfg iommu_cfg;
    struct pcie_fn *iommu_fn, *rp, *ep;
    struct tdev *dev;
    struct amdvi *amdvi;
    struct host_kernel *k, *prev;
    struct pci_dev *pdev;
    struct host_amd_iommu *drv;
    uint8_t ivrs[512];
    long ivrs_len;
    int init_rc;
    struct pcilab_err err;
};

struct amd_machine_opts {
    const char *version;
    const char *cmdline;
    bool select_00;          /* the IVRS also covers 00:00.0 */
    bool no_ioapic;          /* the IVRS names no IOAPIC */
};

static uint64_t amd_ivrs_efr(void)
{
    struct amdvi_config c;
    amdvi_config_default(&c);
    return c.efr;
}

static void amd_machine_build(struct amd_machine *m, const struct amd_machine_opts *o)
{
    memset(m, 0, sizeof *m);
    m->sim = sim_create(1);
    struct pcilab_err *err = &m->err;
    m->f = pcie_fabric_create(m->sim, NULL, err);
    if (!m->f)
        abort();
    /* 00:00.2 the IOMMU */
    amd_iommu_fn_cfg(&m->iommu_cfg, AMD_MMIO);
    m->iommu_fn = pcie_fabric_add_function(m->f, NULL, 0, 2, &m->iommu_cfg, NULL, NULL, err);
    struct pcie_port_desc rp = {.ident = {.vendor_id = 0x1022, .device_id = 0x157c},
                                .max_link_speed = 3, .max_link_width = 4, .acs = true};
    m->rp = pcie_fabric_add_root_port(m->f, 1, 0, &rp, err);
    struct tbar b[] = {{PCIE_BAR_MEM64, 65536, false}};
    m->dev = tdev_new(0x1204, 0xe250, 0x118000, false, b, 1);
    m->ep = m->rp ? pcie_fabric_add_endpoint(m->f, m->rp, &m->dev->cfg, &tdev_ops, m->dev, err)
                  : NULL;
    if (!m->iommu_fn || !m->rp || !m->ep)
        abort();
    tmach_memory_enumerate(m->f, &m->ram, &m->map, err);

    struct amdvi_config ac;
    amdvi_config_default(&ac);
    ac.mmio_base = AMD_MMIO;
    ac.devid = 0x0002;
    host_amd_iommu_wire_msi(&ac, m->iommu_fn);
    m->amdvi = amdvi_create(m->sim, m->ram, m->map, &ac, err);
    if (!m->amdvi)
        abort();
    iommu_attach_fabric(amdvi_iommu(m->amdvi), m->f, true, 0x0002);

    struct host_ivrs *t = host_ivrs_create();
    struct host_ivhd h = {.type = HOST_IVHD_TYPE_11, .flags = 0xb0, .devid = 0x0002,
                          .cap_offset = 0x40, .mmio_base = AMD_MMIO, .efr = amd_ivrs_efr()};
    t->hdr.revision = 2;
    t->ivinfo = 1u | 48u << 8 | 64u << 15; /* EFRSup, PA 48, VA 64 */
    memcpy(t->hdr.oem_id, "AMD   ", 6);
    int blk = host_ivrs_add_ivhd(t, &h, err);
    struct host_ivhd_entry e;
    if (o->select_00) {
        e = host_ivhd_select(0x0000, 0);
        host_ivrs_add_entry(t, (size_t)blk, &e, err);
    }
    e = host_ivhd_select(0x0008, 0); /* 00:01.0 */
    host_ivrs_add_entry(t, (size_t)blk, &e, err);
    e = host_ivhd_select(0x0100, 0); /* 01:00.0 */
    host_ivrs_add_entry(t, (size_t)blk, &e, err);
    if (!o->no_ioapic) {
        e = host_ivhd_special(HOST_IVHD_SPECIAL_IOAPIC, 4, 0x00a0, 0xd7);
        host_ivrs_add_entry(t, (size_t)blk, &e, err);
    }
    m->ivrs_len = host_ivrs_encode(t, m->ivrs, sizeof m->ivrs, err);
    host_ivrs_destroy(t);
    if (m->ivrs_len <= 0)
        abort();

    struct host_kernel_config kc = {.version = o->version, .cmdline = o->cmdline, .ncpus = 2};
    m->k = host_kernel_create(m->sim, m->f, m->ram, m->map, &kc, err);
    if (!m->k || host_pci_scan(m->k, err) < 0)
        abort();
    m->init_rc = host_amd_iommu_init(m->k, m->ivrs, (size_t)m->ivrs_len, err);
    m->drv = host_amd_iommu_of(m->k);
    m->pdev = host_pci_of_fn(m->k, m->ep);
    m->prev = host_enter(m->k);
}

/* the fixture's two-switch fabric is not used here */
static inline void amd_machine_unused(void)
{
    (void)tfab_build;
    (void)tfab_free;
}

static void amd_machine_free(struct amd_machine *m)
{
    host_leave(m->prev);
    tmach_free(m->sim, m->ram, m->map);
    free(m->dev);
}

#endif
