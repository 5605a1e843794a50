/* The Intel IOMMU driver on a machine whose DMAR has several DRHDs: an Intel
 * client platform (host_dmar_build_client: a graphics unit at 0xfed90000 for
 * 00:02.0, an INCLUDE_PCI_ALL unit at 0xfed91000) with 00:00.0 host bridge,
 * 00:02.0 an Intel display device, 00:14.0 a USB controller and 01:00.0 a
 * network card below the root port 00:1c.0; optionally a third unit at
 * 0xfed92000 whose scope names 01:00.0 by a two-entry path. Checked against
 * Linux 4.9.80/4.20/5.15/6.1 (docs/linux/intel-iommu.md): every unit its own
 * root table and interrupt remapping table, the devices' entries in their
 * own unit's tables (read from simulated memory), the graphics unit
 * ignored with igfx_off or when 00:02.0 is absent (kept, with an identity
 * domain for 00:02.0, when it shares its unit), scope paths. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pcie/fabric_fixture.h"
#include "machine_common.h"
#include "host/boot.h"
#include "host/dma.h"
#include "host/dmar.h"
#include "host/intel_iommu.h"
#include "host/irq.h"
#include "host/kernel.h"
#include "host/pages.h"
#include "host/pci.h"
#include "iommu/vtd.h"
#include "iommu/vtd_fmt.h"

#define GFX_BASE 0xfed90000ull
#define ALL_BASE 0xfed91000ull
#define THIRD_BASE 0xfed92000ull

enum extra {
    EXTRA_NONE,
    EXTRA_PATH2,        /* a third DRHD: endpoint 01:00.0 as {bus 0, 1c.0, 00.0} */
    EXTRA_PATH2_ABSENT, /* a third DRHD: {bus 0, 1c.0, 05.0}, no such device */
    EXTRA_BROKEN1,      /* a third DRHD: {bus 1, 00.0}, a one-entry path to a deep device */
    EXTRA_SHARED,       /* no third DRHD; the graphics DRHD also names 00:14.0 */
};

struct cm {
    struct pcilab_sim *sim;
    struct pcie_fabric *f;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct tdev *gfx, *usb, *nic;
    struct pcie_fn *fgfx, *fusb, *fnic;
    struct vtd *unit[3];
    struct host_kernel *k, *prev;
    struct host_intel_iommu *drv;
    struct pci_dev *pgfx, *pusb, *pnic;
    uint8_t dmar[512];
    long dmar_len;
    int boot_rc;
    struct pcilab_err err;
};

static void cm_msi(void *ctx, enum vtd_event ev, uint64_t addr, uint32_t data)
{
    (void)ev;
    struct cm *m = ctx;
    if (m->k)
        host_irq_deliver_msi(m->k, addr, data);
}

/* A conventional PCI function for the root bus with one 64-bit MSI vector. */
static struct tdev *rc_fn(uint16_t vendor, uint16_t device, uint32_t cls)
{
    struct tdev *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    struct pcie_cfg_ident id = {.vendor_id = vendor, .device_id = device, .class_code = cls,
                                .pcie = false, .interrupt_pin = 1};
    pcie_cfg_init(&d->cfg);
    if (pcie_cfg_init_type0(&d->cfg, &id, NULL) < 0)
        abort();
    struct pcie_msi_params mp = {.addr64 = true, .vectors = 1};
    if (pcie_cap_add_msi(&d->cfg, &mp, 0, NULL) < 0 ||
        pcie_cfg_bar_declare(&d->cfg, 0, PCIE_BAR_MEM32, 65536, false, NULL) < 0)
        abort();
    return d;
}

static struct vtd *cm_unit(struct cm *m, uint64_t base, bool all)
{
    struct vtd_config vc;
    vtd_config_client(&vc);
    vc.mmio_base = base;
    vc.include_pci_all = all;
    vc.msi = cm_msi;
    vc.msi_ctx = m;
    struct vtd *u = vtd_create(m->sim, m->ram, m->map, &vc, &m->err);
    if (!u)
        abort();
    return u;
}

static void cm_build(struct cm *m, const char *version, const char *cmdline, bool with_gfx,
                     enum extra extra)
{
    memset(m, 0, sizeof *m);
    m->sim = sim_create(1);
    struct pcilab_err *err = &m->err;
    struct pcie_fabric_config fc;
    pcie_fabric_config_default(&fc);
    fc.host_bridge.vendor_id = 0x8086;
    fc.host_bridge.device_id = 0x3e30;
    m->f = pcie_fabric_create(m->sim, &fc, err);
    if (!m->f)
        abort();
    if (with_gfx) {
        m->gfx = rc_fn(0x8086, 0x3e92, 0x030000);
        m->fgfx = pcie_fabric_add_function(m->f, NULL, 2, 0, &m->gfx->cfg, &tdev_ops, m->gfx, err);
        if (!m->fgfx)
            abort();
    }
    m->usb = rc_fn(0x8086, 0xa36d, 0x0c0330);
    m->fusb = pcie_fabric_add_function(m->f, NULL, 0x14, 0, &m->usb->cfg, &tdev_ops, m->usb, err);
    struct pcie_port_desc rp = {.ident = {.vendor_id = 0x8086, .device_id = 0xa33c}};
    struct pcie_fn *port = pcie_fabric_add_root_port(m->f, 0x1c, 0, &rp, err);
    struct tbar nb[] = {{PCIE_BAR_MEM32, 65536, false}};
    m->nic = tdev_new(0x8086, 0x15b8, 0x020000, false, nb, 1);
    m->fnic = port ? pcie_fabric_add_endpoint(m->f, port, &m->nic->cfg, &tdev_ops, m->nic, err)
                   : NULL;
    if (!m->fusb || !m->fnic) {
        fprintf(stderr, "%s\n", err->msg);
        abort();
    }
    tmach_memory_enumerate(m->f, &m->ram, &m->map, err);
    m->unit[0] = cm_unit(m, GFX_BASE, false);
    m->unit[1] = cm_unit(m, ALL_BASE, true);
    /* the fabric's path: the INCLUDE_PCI_ALL unit (the lead's router will
     * send each device to its own unit) */
    iommu_attach_fabric(vtd_iommu(m->unit[1]), m->f, false, 0);

    struct host_dmar *t = host_dmar_create();
    if (host_dmar_build_client(t, NULL, err) < 0)
        abort();
    if (extra == EXTRA_SHARED) {
        struct host_dmar_scope sc = host_dmar_scope1(HOST_DMAR_SCOPE_ENDPOINT, 0, 0, 0x14, 0);
        if (host_dmar_add_scope(t, 0, &sc, err) < 0)
            abort();
    } else if (extra != EXTRA_NONE) {
        m->unit[2] = cm_unit(m, THIRD_BASE, false);
        int d = host_dmar_add_drhd(t, 0, 0, THIRD_BASE, err);
        struct host_dmar_scope sc = {.type = HOST_DMAR_SCOPE_ENDPOINT, .bus = 0, .npath = 2};
        sc.path[0].dev = 0x1c;
        sc.path[1].dev = extra == EXTRA_PATH2_ABSENT ? 5 : 0;
        if (extra == EXTRA_BROKEN1)
            sc = host_dmar_scope1(HOST_DMAR_SCOPE_ENDPOINT, 0, 1, 0, 0);
        if (d < 0 || host_dmar_add_scope(t, (size_t)d, &sc, err) < 0)
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
    m->pgfx = m->fgfx ? host_pci_of_fn(m->k, m->fgfx) : NULL;
    m->pusb = host_pci_of_fn(m->k, m->fusb);
    m->pnic = host_pci_of_fn(m->k, m->fnic);
    m->prev = host_enter(m->k);
}

static void cm_free(struct cm *m)
{
    host_leave(m->prev);
    tmach_free(m->sim, m->ram, m->map);
    free(m->gfx);
    free(m->usb);
    free(m->nic);
}

static size_t count_line(struct cm *m, const char *text)
{
    struct sim_log *log = sim_log(m->sim);
    size_t n = 0;
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec r;
        if (sim_log_get(log, i, &r) && strcmp(r.text, text) == 0)
            n++;
    }
    return n;
}

static long line_at(struct cm *m, const char *text)
{
    struct sim_log *log = sim_log(m->sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec r;
        if (sim_log_get(log, i, &r) && strcmp(r.text, text) == 0)
            return (long)i;
    }
    return -1;
}

static void expect_line(struct cm *m, const char *text)
{
    if (!count_line(m, text))
        fail_msg("missing log line: \"%s\"", text);
}

static void expect_no_line(struct cm *m, const char *text)
{
    if (count_line(m, text))
        fail_msg("unexpected log line: \"%s\"", text);
}

static struct host_intel_iommu_unit_info uinfo(struct cm *m, unsigned i)
{
    struct host_intel_iommu_unit_info u;
    assert_int_equal(host_intel_iommu_unit_info(m->drv, i, &u), 0);
    return u;
}

/* The context entry of bdf in the root table at root_pa, read from memory;
 * false when the root entry is not present. */
static bool ctx_of(struct cm *m, uint64_t root_pa, uint16_t bdf, struct vtd_context_entry *ce)
{
    uint8_t raw[16];
    struct vtd_root_entry re;
    assert_int_equal(mem_phys_read(m->ram, root_pa + (bdf >> 8) * 16, raw, 16, NULL), 0);
    vtd_root_entry_decode(raw, &re);
    if (!re.p)
        return false;
    assert_int_equal(mem_phys_read(m->ram, re.ctp + (bdf & 0xff) * 16, raw, 16, NULL), 0);
    vtd_context_entry_decode(raw, ce);
    return true;
}

static bool ctx_present(struct cm *m, uint64_t root_pa, uint16_t bdf)
{
    struct vtd_context_entry ce;
    return ctx_of(m, root_pa, bdf, &ce) && ce.p;
}

static struct vtd_irte irte_at(struct cm *m, uint64_t table_pa, unsigned index)
{
    uint8_t raw[16];
    assert_int_equal(mem_phys_read(m->ram, table_pa + index * 16ull, raw, 16, NULL), 0);
    struct vtd_irte e;
    vtd_irte_decode(raw, &e);
    return e;
}

/* How many present IRTEs of the first 256 of a table have source id sid. */
static unsigned irtes_with_sid(struct cm *m, uint64_t table_pa, uint16_t sid)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 256; i++) {
        struct vtd_irte e = irte_at(m, table_pa, i);
        n += e.p && e.sid == sid;
    }
    return n;
}

static int hits;
static irqreturn_t on_irq(int irq, void *id)
{
    (void)irq;
    (void)id;
    hits++;
    return IRQ_HANDLED;
}

/* One MSI vector for pdev; its remappable message's handle. */
static unsigned msi_handle(struct cm *m, struct pci_dev *p)
{
    pci_enable_device(p);
    pci_set_master(p);
    assert_int_equal(pci_alloc_irq_vectors(p, 1, 1, PCI_IRQ_MSI), 1);
    int irq = pci_irq_vector(p, 0);
    assert_true(irq >= 0);
    struct host_irq_desc *d = host_irq_desc(m->k, (unsigned)irq);
    struct vtd_msi msg;
    vtd_msi_decode(d->msg_addr, d->msg_data, &msg);
    assert_true(msg.remappable);
    return msg.index;
}

/* 6.1 intel_iommu=on (Debian: dmar_map_intgpu 1): both units translate;
 * each device's context entry and IRTE in its own unit's tables. */
static void test_client_6_1_per_unit_tables(void **state)
{
    (void)state;
    struct cm m;
    cm_build(&m, "6.1", "intel_iommu=on", true, EXTRA_NONE);
    assert_int_equal(m.boot_rc, 0);
    expect_line(&m, "DMAR: DRHD base: 0x000000fed90000 flags: 0x0");
    expect_line(&m, "DMAR: DRHD base: 0x000000fed91000 flags: 0x1");
    expect_line(&m, "DMAR-IR: IOAPIC id 2 under DRHD base  0xfed91000 IOMMU 1");
    expect_line(&m, "DMAR-IR: HPET id 0 under DRHD base 0xfed91000");
    assert_int_equal(count_line(&m, "DMAR-IR: Enabled IRQ remapping in xapic mode"), 1);
    /* for_each_iommu: the graphics unit (list head) before INCLUDE_PCI_ALL */
    long q0 = line_at(&m, "DMAR: dmar0: Using Queued invalidation");
    long q1 = line_at(&m, "DMAR: dmar1: Using Queued invalidation");
    assert_true(q0 >= 0 && q1 > q0);
    expect_line(&m, "pci 0000:00:02.0: Adding to iommu group 1");

    struct host_intel_iommu_unit_info u0 = uinfo(&m, 0), u1 = uinfo(&m, 1);
    assert_int_equal(u0.reg_base, GFX_BASE);
    assert_int_equal(u1.reg_base, ALL_BASE);
    assert_string_equal(u0.name, "dmar0");
    assert_true(u0.gfx_dedicated && !u0.ignored && !u0.include_all);
    assert_true(u1.include_all && !u1.gfx_dedicated && !u1.ignored);
    assert_true(u0.translation && u1.translation && u0.ir && u1.ir && u0.qi && u1.qi);
    assert_true(u0.root_pa && u1.root_pa && u0.root_pa != u1.root_pa);
    assert_true(u0.ir_table_pa && u1.ir_table_pa && u0.ir_table_pa != u1.ir_table_pa);
    assert_true(u0.irq >= 0 && u1.irq >= 0 && u0.irq != u1.irq);
    assert_int_equal(u0.n_devices, 1);
    assert_int_equal(u1.n_devices, 4); /* 00:00.0, 00:14.0, 00:1c.0, 01:00.0 */
    struct host_intel_iommu_unit_info none;
    assert_int_equal(host_intel_iommu_unit_info(m.drv, 2, &none), -ENODEV);

    unsigned idx = 9;
    uint64_t base = 0;
    assert_true(host_intel_iommu_dev_unit(m.drv, m.pgfx, &idx, &base));
    assert_int_equal(idx, 0);
    assert_int_equal(base, GFX_BASE);
    assert_true(host_intel_iommu_dev_unit(m.drv, m.pnic, &idx, &base));
    assert_int_equal(idx, 1);
    assert_int_equal(base, ALL_BASE);

    /* context entries: 00:02.0 only in dmar0's tables, the rest in dmar1's */
    struct vtd_context_entry ce;
    assert_true(ctx_of(&m, u0.root_pa, 0x0010, &ce) && ce.p);
    assert_int_equal(ce.tt, VTD_TT_SLT);
    uint16_t did;
    assert_true(host_intel_iommu_dev_domain(m.drv, m.pgfx, &did, NULL, NULL));
    assert_int_equal(ce.did, did);
    assert_false(ctx_present(&m, u1.root_pa, 0x0010));
    assert_true(ctx_present(&m, u1.root_pa, 0x0100));
    assert_true(ctx_present(&m, u1.root_pa, 0x00a0));
    assert_false(ctx_present(&m, u0.root_pa, 0x0100));
    assert_false(ctx_present(&m, u0.root_pa, 0x00a0));
    /* 00:02.0's RMRR (stolen memory) is mapped in its domain on dmar0 */
    struct host_intel_iommu_mapping mp;
    assert_true(host_intel_iommu_lookup(m.drv, m.pgfx, 0x7d000000, &mp));
    assert_int_equal(mp.pa, 0x7d000000);

    /* MSIs: each IRTE in its own unit's table, the handle an index into it */
    unsigned hg = msi_handle(&m, m.pgfx), hn = msi_handle(&m, m.pnic);
    struct vtd_irte eg = irte_at(&m, u0.ir_table_pa, hg);
    struct vtd_irte en = irte_at(&m, u1.ir_table_pa, hn);
    assert_true(eg.p && en.p);
    assert_int_equal(eg.sid, 0x0010);
    assert_int_equal(en.sid, 0x0100);
    assert_int_equal(irtes_with_sid(&m, u0.ir_table_pa, 0x0100), 0);
    assert_int_equal(irtes_with_sid(&m, u1.ir_table_pa, 0x0010), 0);
    assert_int_equal(uinfo(&m, 0).ir_entries, 1);
    assert_int_equal(uinfo(&m, 1).ir_entries, 1);
    /* the NIC's MSI through the INCLUDE_PCI_ALL unit reaches its handler */
    int irq = pci_irq_vector(m.pnic, 0);
    assert_int_equal(request_irq((unsigned)irq, on_irq, 0, "nic", &m), 0);
    hits = 0;
    assert_int_equal(pcie_fn_msi_send(m.fnic, 0, NULL), 0);
    sim_run(m.sim, 0);
    assert_int_equal(hits, 1);
    free_irq((unsigned)irq, &m);
    pci_free_irq_vectors(m.pnic);
    assert_false(irte_at(&m, u1.ir_table_pa, hn).p);
    assert_int_equal(uinfo(&m, 1).ir_entries, 0);
    assert_true(irte_at(&m, u0.ir_table_pa, hg).p);
    pci_free_irq_vectors(m.pgfx);
    assert_int_equal(uinfo(&m, 0).ir_entries, 0);
    /* the old single-table API still answers for dmar0 */
    struct host_intel_iommu_info in;
    host_intel_iommu_get_info(m.drv, &in);
    assert_int_equal(in.n_units, 2);
    assert_int_equal(in.root_pa, u0.root_pa);
    assert_true(in.dma_remapping && in.irq_remapping);
    cm_free(&m);
}

/* igfx_off: the graphics unit is ignored (no root table, no QI line, no
 * translation), 00:02.0 has no IOMMU (no group, physical DMA addresses, no
 * RMRR line), its interrupts still go through its unit's IR table, and with
 * IR the unit still has its fault interrupt (enable_drhd_fault_handling). */
static void igfx_off(const char *version)
{
    struct cm m;
    cm_build(&m, version, "intel_iommu=on,igfx_off", true, EXTRA_NONE);
    assert_int_equal(m.boot_rc, 0);
    expect_line(&m, "DMAR: Disable GFX device mapping");
    struct host_intel_iommu_unit_info u0 = uinfo(&m, 0), u1 = uinfo(&m, 1);
    if (!u0.ignored)
        fail_msg("%s: dmar0 not ignored", version);
    assert_true(u0.gfx_dedicated);
    assert_false(u0.translation);
    assert_int_equal(u0.root_pa, 0);
    assert_true(u0.ir && u0.ir_table_pa);
    assert_true(u0.irq >= 0);
    assert_true(u1.translation && !u1.ignored && u1.root_pa);
    expect_no_line(&m, "DMAR: dmar0: Using Queued invalidation");
    expect_line(&m, "DMAR: dmar1: Using Queued invalidation");
    expect_no_line(&m, "pci 0000:00:02.0: Adding to iommu group 0");
    expect_no_line(&m, "pci 0000:00:02.0: Adding to iommu group 1");
    expect_no_line(&m, "iommu: Adding device 0000:00:02.0 to group 1");
    expect_no_line(&m, "DMAR: Setting identity map for device 0000:00:02.0 [0x7d000000 - "
                       "0x7f7fffff]");
    assert_false(host_intel_iommu_dev_domain(m.drv, m.pgfx, NULL, NULL, NULL));
    assert_false(ctx_present(&m, u1.root_pa, 0x0010));
    uint32_t gsts = 0;
    mem_addrmap_read32(m.map, GFX_BASE + VTD_REG_GSTS, &gsts);
    assert_false(gsts & VTD_GSTS_TES);
    mem_addrmap_read32(m.map, ALL_BASE + VTD_REG_GSTS, &gsts);
    assert_true(gsts & VTD_GSTS_TES);
    /* DMA: the physical address */
    void *buf = kmalloc(64, GFP_KERNEL);
    dma_addr_t h = dma_map_single(&m.pgfx->dev, buf, 64, DMA_TO_DEVICE);
    assert_int_equal(h, host_virt_to_phys(m.k, buf));
    dma_unmap_single(&m.pgfx->dev, h, 64, DMA_TO_DEVICE);
    kfree(buf);
    /* IR: in dmar0's table */
    unsigned hg = msi_handle(&m, m.pgfx);
    struct vtd_irte e = irte_at(&m, u0.ir_table_pa, hg);
    assert_true(e.p);
    assert_int_equal(e.sid, 0x0010);
    assert_int_equal(irtes_with_sid(&m, u1.ir_table_pa, 0x0010), 0);
    pci_free_irq_vectors(m.pgfx);
    cm_free(&m);
}

static void test_igfx_off_ignores_gfx_unit(void **state)
{
    (void)state;
    igfx_off("6.1");
    igfx_off("5.15");
    igfx_off("4.20");
    igfx_off("4.9");
}

/* Debian 6.1's default (CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF): the
 * patch does not ignore the unit; the integrated GPU gets an identity
 * domain (pass-through context entry) on its own, translating, unit. */
static void test_6_1_intgpu_default_identity(void **state)
{
    (void)state;
    struct cm m;
    cm_build(&m, "6.1", "", true, EXTRA_NONE);
    assert_int_equal(m.boot_rc, 0);
    struct host_intel_iommu_unit_info u0 = uinfo(&m, 0);
    assert_false(u0.ignored);
    assert_true(u0.translation && u0.gfx_dedicated);
    expect_line(&m, "DMAR: dmar0: Using Queued invalidation");
    bool identity = false;
    assert_true(host_intel_iommu_dev_domain(m.drv, m.pgfx, NULL, &identity, NULL));
    assert_true(identity);
    struct vtd_context_entry ce;
    assert_true(ctx_of(&m, u0.root_pa, 0x0010, &ce) && ce.p);
    assert_int_equal(ce.tt, VTD_TT_PT);
    /* the other devices translate */
    assert_true(host_intel_iommu_dev_domain(m.drv, m.pnic, NULL, &identity, NULL));
    assert_false(identity);
    cm_free(&m);
}

/* 4.9 intel_iommu=on: intel_iommu_gfx_mapped's unit translates; the RMRR
 * lines for both devices, the groups after the banner. */
static void test_client_4_9(void **state)
{
    (void)state;
    struct cm m;
    cm_build(&m, "4.9", "intel_iommu=on", true, EXTRA_NONE);
    assert_int_equal(m.boot_rc, 0);
    expect_line(&m, "DMAR: Setting identity map for device 0000:00:02.0 [0x7d000000 - "
                    "0x7f7fffff]");
    expect_line(&m, "DMAR: Setting identity map for device 0000:00:14.0 [0x7b7f9000 - "
                    "0x7b818fff]");
    assert_int_equal(count_line(&m, "DMAR-IR: Enabled IRQ remapping in xapic mode"), 1);
    struct host_intel_iommu_unit_info u0 = uinfo(&m, 0), u1 = uinfo(&m, 1);
    assert_true(u0.translation && u1.translation && u0.gfx_dedicated);
    assert_true(ctx_present(&m, u0.root_pa, 0x0010));
    assert_true(ctx_present(&m, u1.root_pa, 0x00a0));
    assert_false(ctx_present(&m, u1.root_pa, 0x0010));
    /* USB's RMRR is relaxable in 4.9 too (device_is_rmrr_locked) */
    assert_int_equal(host_intel_iommu_attach_unmanaged(m.drv, m.pusb), 0);
    cm_free(&m);

    /* iommu=pt: the relaxable RMRR devices go to si_domain (pass-through),
     * and domain_prepare_identity_map skips their RMRRs */
    cm_build(&m, "4.9", "intel_iommu=on iommu=pt", true, EXTRA_NONE);
    expect_line(&m, "DMAR: Hardware identity mapping for device 0000:00:14.0");
    expect_line(&m, "DMAR: Ignoring identity map for HW passthrough device 0000:00:14.0 "
                    "[0x7b7f9000 - 0x7b818fff]");
    expect_line(&m, "DMAR: Ignoring identity map for HW passthrough device 0000:00:02.0 "
                    "[0x7d000000 - 0x7f7fffff]");
    bool identity = false;
    assert_true(host_intel_iommu_dev_domain(m.drv, m.pusb, NULL, &identity, NULL));
    assert_true(identity);
    cm_free(&m);
}

/* igfx_off with the graphics device on a unit it shares (here with the USB
 * controller): the unit is not gfx dedicated and stays; 00:02.0 gets an
 * identity domain there (IDENTMAP_GFX), 4.9 says so and skips its RMRR. */
static void test_igfx_off_shared_unit_identity(void **state)
{
    (void)state;
    static const char *const versions[] = {"6.1", "4.9"};
    for (int i = 0; i < 2; i++) {
        struct cm m;
        cm_build(&m, versions[i], "intel_iommu=on,igfx_off", true, EXTRA_SHARED);
        assert_int_equal(m.boot_rc, 0);
        struct host_intel_iommu_unit_info u0 = uinfo(&m, 0);
        assert_false(u0.ignored || u0.gfx_dedicated);
        assert_true(u0.translation);
        assert_int_equal(u0.n_devices, 2);
        bool identity = false;
        assert_true(host_intel_iommu_dev_domain(m.drv, m.pgfx, NULL, &identity, NULL));
        assert_true(identity);
        struct vtd_context_entry ce;
        assert_true(ctx_of(&m, u0.root_pa, 0x0010, &ce) && ce.p);
        assert_int_equal(ce.tt, VTD_TT_PT);
        assert_true(ctx_present(&m, u0.root_pa, 0x00a0));
        assert_false(ctx_present(&m, uinfo(&m, 1).root_pa, 0x00a0));
        if (i == 1) {
            expect_line(&m, "DMAR: Hardware identity mapping for device 0000:00:02.0");
            expect_line(&m, "DMAR: Ignoring identity map for HW passthrough device "
                            "0000:00:02.0 [0x7d000000 - 0x7f7fffff]");
        }
        cm_free(&m);
    }
}

/* A client DMAR on a machine without 00:02.0: its unit names no present
 * device and is ignored in every version, igfx_off or not. */
static void no_gfx(const char *version)
{
    struct cm m;
    cm_build(&m, version, "intel_iommu=on", false, EXTRA_NONE);
    assert_int_equal(m.boot_rc, 0);
    struct host_intel_iommu_unit_info u0 = uinfo(&m, 0), u1 = uinfo(&m, 1);
    if (!u0.ignored)
        fail_msg("%s: dmar0 not ignored", version);
    assert_false(u0.gfx_dedicated);
    assert_false(u0.translation);
    assert_int_equal(u0.root_pa, 0);
    assert_int_equal(u0.n_devices, 0);
    assert_true(u0.ir_table_pa != 0); /* IR is set up on every unit */
    assert_true(u1.translation && u1.root_pa);
    expect_no_line(&m, "DMAR: dmar0: Using Queued invalidation");
    expect_line(&m, "DMAR: Intel(R) Virtualization Technology for Directed I/O");
    cm_free(&m);
}

static void test_no_gfx_device_ignores_unit(void **state)
{
    (void)state;
    no_gfx("6.1");
    no_gfx("5.15");
    no_gfx("4.20");
    no_gfx("4.9");
}

/* A two-entry scope path: {bus 0, 1c.0, 00.0} names 01:00.0 behind the root
 * port; the third unit (listed last in the table, walked first) has it. */
static void test_two_entry_path(void **state)
{
    (void)state;
    struct cm m;
    cm_build(&m, "6.1", "intel_iommu=on", true, EXTRA_PATH2);
    assert_int_equal(m.boot_rc, 0);
    unsigned idx = 9;
    uint64_t base = 0;
    assert_true(host_intel_iommu_dev_unit(m.drv, m.pnic, &idx, &base));
    assert_int_equal(idx, 2);
    assert_int_equal(base, THIRD_BASE);
    assert_true(host_intel_iommu_dev_unit(m.drv, m.pusb, &idx, NULL));
    assert_int_equal(idx, 1);
    struct host_intel_iommu_unit_info u2 = uinfo(&m, 2), u1 = uinfo(&m, 1);
    assert_false(u2.ignored);
    assert_int_equal(u2.n_devices, 1);
    assert_true(ctx_present(&m, u2.root_pa, 0x0100));
    assert_false(ctx_present(&m, u1.root_pa, 0x0100));
    /* list order: dmar2, dmar0 (head, reverse table order), then dmar1 */
    long q2 = line_at(&m, "DMAR: dmar2: Using Queued invalidation");
    long q0 = line_at(&m, "DMAR: dmar0: Using Queued invalidation");
    long q1 = line_at(&m, "DMAR: dmar1: Using Queued invalidation");
    assert_true(q2 >= 0 && q0 > q2 && q1 > q0);
    unsigned hn = msi_handle(&m, m.pnic);
    assert_int_equal(irte_at(&m, u2.ir_table_pa, hn).sid, 0x0100);
    assert_int_equal(irtes_with_sid(&m, u1.ir_table_pa, 0x0100), 0);
    pci_free_irq_vectors(m.pnic);
    expect_no_line(&m, "DMAR: [Firmware Bug]: RMRR entry for device 01:00.0 is broken - "
                       "applying workaround");
    cm_free(&m);

    /* the same path to a function that is not there: the unit is ignored */
    cm_build(&m, "6.1", "intel_iommu=on", true, EXTRA_PATH2_ABSENT);
    assert_true(uinfo(&m, 2).ignored);
    assert_true(host_intel_iommu_dev_unit(m.drv, m.pnic, &idx, NULL));
    assert_int_equal(idx, 1);
    cm_free(&m);

    /* a one-entry path with the device's own bus: dmar_match_pci_path's
     * fallback, with its line */
    cm_build(&m, "5.15", "intel_iommu=on", true, EXTRA_BROKEN1);
    expect_line(&m, "DMAR: [Firmware Bug]: RMRR entry for device 01:00.0 is broken - "
                    "applying workaround");
    assert_true(host_intel_iommu_dev_unit(m.drv, m.pnic, &idx, NULL));
    assert_int_equal(idx, 2);
    assert_false(uinfo(&m, 2).ignored);
    cm_free(&m);
}

int main(void)
{
    (void)tfab_build; /* fabric_fixture.h's, unused here */
    (void)tfab_free;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_6_1_per_unit_tables),
        cmocka_unit_test(test_igfx_off_ignores_gfx_unit),
        cmocka_unit_test(test_6_1_intgpu_default_identity),
        cmocka_unit_test(test_client_4_9),
        cmocka_unit_test(test_igfx_off_shared_unit_identity),
        cmocka_unit_test(test_no_gfx_device_ignores_unit),
        cmocka_unit_test(test_two_entry_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
