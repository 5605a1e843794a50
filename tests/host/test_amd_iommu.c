/* The AMD IOMMU driver model on a small machine (amd_machine.h), per kernel
 * version: boot lines, device table entries read back from simulated memory,
 * the DMA address of dma_alloc_coherent, device DMA through the IOMMU, the
 * seed's fault with requester ID 00:00.0 and its exact printk records, reads
 * (flags 0x0050), lazy vs strict unmapping with a stale IOTLB entry,
 * multi-MSI through interrupt remapping, iommu=pt and iommu=off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "amd_machine.h"
#include "host/mm.h"
#include "pcie/enumerate.h"
#include "scenario/boot.h"
#include "scenario/build.h"
#include "scenario/scenario.h"
#include "sim/log.h"

/* ---- helpers ---- */

static int find_rec(struct amd_machine *m, const char *text, struct sim_log_rec *out)
{
    struct sim_log *log = sim_log(m->sim);
    size_t n = sim_log_count(log);
    for (size_t i = 0; i < n; i++) {
        struct sim_log_rec r;
        if (sim_log_get(log, i, &r) && strcmp(r.text, text) == 0) {
            if (out)
                *out = r;
            return (int)i;
        }
    }
    return -1;
}

static void expect_rec(struct amd_machine *m, const char *text, int level)
{
    struct sim_log_rec r;
    int i = find_rec(m, text, &r);
    if (i < 0)
        fail_msg("missing log record: \"%s\"", text);
    assert_int_equal(r.level, level);
}

/* the records in this order, each present */
static void expect_order(struct amd_machine *m, const char *const *texts, size_t n)
{
    int last = -1;
    for (size_t i = 0; i < n; i++) {
        int at = find_rec(m, texts[i], NULL);
        if (at < 0)
            fail_msg("missing log record: \"%s\"", texts[i]);
        if (at <= last)
            fail_msg("out of order: \"%s\"", texts[i]);
        last = at;
    }
}

static bool log_has_prefix(struct amd_machine *m, const char *prefix)
{
    struct sim_log *log = sim_log(m->sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec r;
        if (sim_log_get(log, i, &r) && strncmp(r.text, prefix, strlen(prefix)) == 0)
            return true;
    }
    return false;
}

static uint64_t mmio64(struct amd_machine *m, unsigned off)
{
    uint8_t b[8];
    assert_int_equal(mem_addrmap_read(m->map, AMD_MMIO + off, b, 8, NULL), 0);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

/* The DTE of devid, read from the device table the IOMMU was given. */
static void read_dte(struct amd_machine *m, uint16_t devid, struct amdvi_dte *d, uint64_t raw[4])
{
    uint64_t base = mmio64(m, AMDVI_REG_DEV_TAB_BASE) & AMDVI_BASE_ADDR_MASK;
    assert_true(base != 0);
    uint8_t b[32];
    assert_int_equal(mem_phys_read(m->ram, base + devid * 32ull, b, 32, NULL), 0);
    amdvi_dte_decode(b, d);
    if (raw)
        for (int q = 0; q < 4; q++) {
            raw[q] = 0;
            for (int i = 7; i >= 0; i--)
                raw[q] = raw[q] << 8 | b[8 * q + i];
        }
}

static void dev_write(struct amd_machine *m, uint64_t addr, uint32_t v)
{
    assert_int_equal(pcie_fn_mem_write(m->ep, addr, &v, 4, NULL), 0);
    sim_run(m->sim, 0);
}

struct rd {
    bool done;
    enum pcie_req_status st;
};

static void rd_done(void *ctx, enum pcie_req_status st, void *buf, uint32_t len)
{
    (void)buf;
    (void)len;
    struct rd *r = ctx;
    r->done = true;
    r->st = st;
}

static enum pcie_req_status dev_read(struct amd_machine *m, uint64_t addr, uint32_t *v)
{
    struct rd r = {0};
    assert_int_equal(pcie_fn_mem_read(m->ep, addr, v, 4, rd_done, &r, NULL), 0);
    sim_run(m->sim, 0);
    assert_true(r.done);
    return r.st;
}

static void up(struct amd_machine *m, const char *ver, const char *cmdline, bool sel00)
{
    struct amd_machine_opts o = {.version = ver, .cmdline = cmdline, .select_00 = sel00};
    amd_machine_build(m, &o);
    assert_int_equal(m->init_rc, 0);
    assert_int_equal(pci_enable_device(m->pdev), 0);
    pci_set_master(m->pdev);
}

/* The attached endpoint's DTE: translated, 3 levels, IR/IW, its domain. */
static void check_attached_dte(struct amd_machine *m, uint16_t domain)
{
    struct amdvi_dte d;
    read_dte(m, 0x0100, &d, NULL);
    assert_true(d.v);
    assert_true(d.tv);
    assert_int_equal(d.mode, 3);
    assert_true(d.ir);
    assert_true(d.iw);
    assert_int_equal(d.domain_id, domain);
    assert_true(d.pt_root != 0);
    assert_true(d.iv); /* interrupt remapping on */
}

/* A device not covered (00:00.0 without select): V|TV only (+IV). */
static void check_blocked_dte(struct amd_machine *m, uint16_t devid)
{
    struct amdvi_dte d;
    uint64_t raw[4];
    read_dte(m, devid, &d, raw);
    assert_true(d.v);
    assert_true(d.tv);
    assert_int_equal(d.mode, 0);
    assert_false(d.ir);
    assert_false(d.iw);
    assert_int_equal(d.domain_id, 0);
    assert_int_equal(raw[0], 0x3);
    assert_int_equal(raw[1], 0);
}

/* ---- 4.9.80: the seed ---- */

static void test_v49_boot_lines_and_tables(void **state)
{
    (void)state;
    struct amd_machine m;
    up(&m, "4.9.80", "", false);
    char feat[128];
    snprintf(feat, sizeof feat, "AMD-Vi: Extended features (%#llx):",
             (unsigned long long)amd_ivrs_efr());
    const char *lines[] = {
        "iommu: Adding device 0000:00:01.0 to group 0",
        "iommu: Adding device 0000:01:00.0 to group 1",
        "AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40",
        feat,
        " PreF PPR IA GA",
        "AMD-Vi: Interrupt remapping enabled",
        "AMD-Vi: Lazy IO/TLB flushing enabled",
    };
    expect_order(&m, lines, sizeof lines / sizeof lines[0]);
    expect_rec(&m, "AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40", 6);
    assert_false(log_has_prefix(&m, "iommu: Default domain type"));

    /* registers: device table of 16 KiB (last_bdf 0x100: 257 x 32 bytes ->
     * order 2), command buffer and event log of 512 entries, enabled */
    struct host_amd_iommu_info info;
    host_amd_iommu_get_info(m.drv, &info);
    assert_int_equal(info.last_bdf, 0x0100);
    assert_int_equal(info.dev_table_size, 16384);
    assert_int_equal(mmio64(&m, AMDVI_REG_DEV_TAB_BASE), info.dev_table_pa | 3);
    assert_int_equal(mmio64(&m, AMDVI_REG_CMD_BUF_BASE), info.cmd_buf_pa | 9ull << 56);
    assert_int_equal(mmio64(&m, AMDVI_REG_EVT_LOG_BASE), info.evt_buf_pa | 9ull << 56);
    uint64_t ctl = mmio64(&m, AMDVI_REG_CONTROL);
    uint64_t want = AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVENT_LOG_EN | AMDVI_CTL_EVENT_INT_EN |
                    AMDVI_CTL_CMD_BUF_EN | AMDVI_CTL_COHERENT | AMDVI_CTL_GA_EN |
                    4ull << AMDVI_CTL_INV_TIMEOUT_SHIFT;
    assert_int_equal(ctl, want);
    assert_true(info.irq_remap);
    assert_true(info.ga_mode);
    assert_true(info.lazy);
    assert_int_equal(info.completion_timeouts, 0);

    /* DTEs: root port domain 1, endpoint domain 2, 00:00.0 blocked */
    struct amdvi_dte d;
    read_dte(&m, 0x0008, &d, NULL);
    assert_int_equal(d.domain_id, 1);
    check_attached_dte(&m, 2);
    check_blocked_dte(&m, 0x0000);
    /* the IOMMU itself is never translated: V|TV|IV like any other uncovered devid */
    read_dte(&m, 0x0002, &d, NULL);
    assert_int_equal(d.mode, 0);
    assert_string_equal(m.pdev->dev.dma_ops->name, "amd_iommu");
    uint16_t dom;
    bool ident;
    int grp;
    assert_true(host_amd_iommu_dev_domain(m.drv, m.pdev, &dom, &ident, &grp));
    assert_int_equal(dom, 2);
    assert_false(ident);
    assert_int_equal(grp, 1);
    amd_machine_free(&m);
}

static void test_v49_seed_fault(void **state)
{
    (void)state;
    struct amd_machine m;
    up(&m, "4.9.80", "", false);
    dma_addr_t h = 0;
    uint32_t *buf = dma_alloc_coherent(&m.pdev->dev, 4096, &h, GFP_KERNEL);
    assert_non_null(buf);
    /* top-down from 4 GiB in a fresh domain: the highest free page */
    assert_int_equal(h, 0xfffff000ull);
    /* the PTE: 3 levels in simulated memory, IR|IW|FC|P, the buffer's page */
    struct amdvi_dte d;
    read_dte(&m, 0x0100, &d, NULL);
    uint64_t t = d.pt_root, e = 0;
    for (int l = 3; l >= 1; l--) {
        assert_int_equal(mem_phys_read64(m.ram, t + ((h >> (12 + 9 * (l - 1))) & 0x1ff) * 8, &e,
                                         NULL), 0);
        t = e & AMDVI_BASE_ADDR_MASK;
    }
    struct amdvi_pte p;
    amdvi_pte_decode(e, &p);
    assert_true(p.pr && p.ir && p.iw && p.fc);
    assert_int_equal(p.next_level, 0);
    assert_int_equal(p.addr, virt_to_phys(buf));

    /* the device writes with its own requester ID: the data lands */
    dev_write(&m, h + 16, 0xcafe0001u);
    assert_int_equal(buf[4], 0xcafe0001u);
    size_t before = sim_log_count(sim_log(m.sim));

    /* the same write with requester ID 00:00.0: no data, an event, the lines */
    pcie_fn_set_requester_id(m.ep, true, 0x0000);
    dev_write(&m, h + 32, 0xdead0002u);
    assert_int_equal(buf[8], 0);
    struct sim_log *log = sim_log(m.sim);
    assert_int_equal(sim_log_count(log), before + 2);
    struct sim_log_rec r1, r2;
    assert_true(sim_log_get(log, before, &r1));
    assert_true(sim_log_get(log, before + 1, &r2));
    assert_string_equal(r1.text, "AMD-Vi: Event logged [");
    assert_int_equal(r1.level, 3);
    assert_string_equal(r2.text, "IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                                 "address=0x00000000fffff020 flags=0x0070]");
    assert_int_equal(r2.level, 4);
    /* the handler zeroed the entry and moved the head to the tail */
    assert_int_equal(mmio64(&m, AMDVI_REG_EVT_HEAD), 16);
    assert_int_equal(mmio64(&m, AMDVI_REG_EVT_TAIL), 16);
    struct host_amd_iommu_info info;
    host_amd_iommu_get_info(m.drv, &info);
    uint8_t z[16];
    assert_int_equal(mem_phys_read(m.ram, info.evt_buf_pa, z, 16, NULL), 0);
    for (int i = 0; i < 16; i++)
        assert_int_equal(z[i], 0);
    assert_int_equal(info.events_printed, 1);
    struct host_irq_desc *idesc = host_irq_desc(m.k, (unsigned)info.irq);
    assert_non_null(idesc);
    assert_int_equal(idesc->count, 1);

    /* a read with the wrong requester ID: flags 0x0050 */
    uint32_t v = 0;
    assert_int_not_equal(dev_read(&m, h, &v), PCIE_REQ_SC);
    assert_true(sim_log_get(log, sim_log_count(log) - 1, &r2));
    assert_string_equal(r2.text, "IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                                 "address=0x00000000fffff000 flags=0x0050]");
    amd_machine_free(&m);
}

static void test_v49_host_bridge_selected(void **state)
{
    (void)state;
    struct amd_machine m;
    up(&m, "4.9.80", "", true);
    expect_rec(&m, "iommu: Adding device 0000:00:00.0 to group 0", 6);
    expect_rec(&m, "iommu: Adding device 0000:01:00.0 to group 2", 6);
    struct amdvi_dte d;
    read_dte(&m, 0x0000, &d, NULL);
    assert_int_equal(d.mode, 3);
    assert_int_equal(d.domain_id, 1);
    check_attached_dte(&m, 3);
    dma_addr_t h;
    uint32_t *buf = dma_alloc_coherent(&m.pdev->dev, 4096, &h, GFP_KERNEL);
    assert_int_equal(h, 0xfffff000ull);
    /* RID 00:00.0 now faults in its own (empty) domain: not present */
    pcie_fn_set_requester_id(m.ep, true, 0x0000);
    dev_write(&m, h, 1);
    assert_int_equal(buf[0], 0);
    expect_rec(&m, "IO_PAGE_FAULT device=00:00.0 domain=0x0001 address=0x00000000fffff000 "
                   "flags=0x0020]", 4);
    amd_machine_free(&m);
}

/* Lazy unmap: the IOTLB keeps the stale translation until the flush queue's
 * timer (3 jiffies at HZ 250 = 12 ms) flushes the domain. */
static void test_v49_lazy_stale_iotlb(void **state)
{
    (void)state;
    struct amd_machine m;
    up(&m, "4.9.80", "", false);
    uint32_t *buf = kmalloc(4096, GFP_KERNEL);
    memset(buf, 0, 4096);
    dma_addr_t a = dma_map_single(&m.pdev->dev, buf, 4096, DMA_FROM_DEVICE);
    assert_int_equal(a, 0xfffff000ull);
    dev_write(&m, a, 0x11);
    assert_int_equal(buf[0], 0x11);
    size_t logged = sim_log_count(sim_log(m.sim));
    dma_unmap_single(&m.pdev->dev, a, 4096, DMA_FROM_DEVICE);
    /* PTE gone, IOTLB not flushed yet: the stale entry still translates */
    dev_write(&m, a + 4, 0x22);
    assert_int_equal(buf[1], 0x22);
    assert_int_equal(sim_log_count(sim_log(m.sim)), logged);
    /* the timer runs at 12 ms: INVALIDATE_IOMMU_PAGES, then the write faults */
    sim_run_until(m.sim, 12 * SIM_MS);
    struct host_amd_iommu_info info;
    host_amd_iommu_get_info(m.drv, &info);
    assert_int_equal(info.fq_flushes, 1);
    dev_write(&m, a + 8, 0x33);
    assert_int_equal(buf[2], 0);
    expect_rec(&m, "IO_PAGE_FAULT device=01:00.0 domain=0x0002 address=0x00000000fffff008 "
                   "flags=0x0020]", 4);
    /* the IOVA went to the CPU's range cache, which 4.9 never hands out at
     * the limit itself (iova_magazine_pop refuses pfn >= limit_pfn, inclusive
     * limit 0xfffff): the next mapping gets the page below */
    assert_int_equal(dma_map_single(&m.pdev->dev, buf, 4096, DMA_TO_DEVICE), 0xffffe000ull);
    amd_machine_free(&m);
}

static void test_v49_strict_unmap(void **state)
{
    (void)state;
    struct amd_machine m;
    up(&m, "4.9.80", "amd_iommu=fullflush", false);
    expect_rec(&m, "AMD-Vi: IO/TLB flush on unmap enabled", 6);
    uint32_t *buf = kmalloc(4096, GFP_KERNEL);
    memset(buf, 0, 4096);
    dma_addr_t a = dma_map_single(&m.pdev->dev, buf, 4096, DMA_BIDIRECTIONAL);
    dev_write(&m, a, 0x11);
    assert_int_equal(buf[0], 0x11);
    dma_unmap_single(&m.pdev->dev, a, 4096, DMA_BIDIRECTIONAL);
    dev_write(&m, a + 4, 0x22);
    assert_int_equal(buf[1], 0);
    expect_rec(&m, "IO_PAGE_FAULT device=01:00.0 domain=0x0002 address=0x00000000fffff004 "
                   "flags=0x0020]", 4);
    /* a TO_DEVICE mapping is read-only for the device (dir2prot: IR) */
    a = dma_map_single(&m.pdev->dev, buf, 4096, DMA_TO_DEVICE);
    assert_int_equal(a, 0xffffe000ull); /* 0xfffff is in the range cache (see above) */
    dev_write(&m, a, 0x44);
    assert_int_equal(buf[0], 0x11);
    expect_rec(&m, "IO_PAGE_FAULT device=01:00.0 domain=0x0002 address=0x00000000ffffe000 "
                   "flags=0x0070]", 4);
    uint32_t v = 0;
    assert_int_equal(dev_read(&m, a, &v), PCIE_REQ_SC);
    assert_int_equal(v, 0x11);
    amd_machine_free(&m);
}

static irqreturn_t count_irq(int irq, void *dev_id)
{
    (void)irq;
    (*(int *)dev_id)++;
    return IRQ_HANDLED;
}

static void test_v49_multi_msi_remapped(void **state)
{
    (void)state;
    struct amd_machine m;
    up(&m, "4.9.80", "", false);
    assert_int_equal(pci_alloc_irq_vectors(m.pdev, 1, 2, PCI_IRQ_MSI), 2);
    assert_true(m.pdev->msi_remapped);
    /* the message: 0xfee00000, data = IRTE index 0 (vector i adds i) */
    struct pcie_msi_vector v;
    assert_int_equal(pcie_msi_vector(&m.dev->cfg, 1, &v, NULL), 0);
    assert_int_equal(v.addr, 0xfee00000ull);
    assert_int_equal(v.data, 1);
    /* DTE: IV, IntCtl remapped, IntTabLen 8, the table */
    struct amdvi_dte d;
    read_dte(&m, 0x0100, &d, NULL);
    assert_true(d.iv);
    assert_int_equal(d.int_ctl, AMDVI_INTCTL_REMAP);
    assert_int_equal(d.int_tab_len, 8);
    assert_true(d.int_root != 0);
    /* the 128-bit IRTEs (GA mode): RemapEn, vector, destination */
    for (unsigned i = 0; i < 2; i++) {
        uint8_t raw[16];
        assert_int_equal(mem_phys_read(m.ram, d.int_root + 16 * i, raw, 16, NULL), 0);
        struct amdvi_irte e;
        uint64_t rsvd[2];
        assert_false(amdvi_irte128_decode(raw, &e, rsvd));
        struct host_irq_desc *desc = host_irq_desc(m.k, m.pdev->irq + i);
        assert_true(e.remap_en);
        assert_int_equal(e.vector, desc->vector);
        /* 4.9's flat APIC driver: every CPU (a logical mask), lowest priority */
        assert_int_equal(e.destination, (1u << m.k->ncpus) - 1);
        assert_true(e.dm);
        assert_int_equal(e.int_type, AMDVI_DM_ARB);
    }
    /* the device's second vector reaches the second handler through the IOMMU */
    int n0 = 0, n1 = 0;
    assert_int_equal(request_irq(m.pdev->irq, count_irq, 0, "tdev", &n0), 0);
    assert_int_equal(request_irq(m.pdev->irq + 1, count_irq, 0, "tdev", &n1), 0);
    assert_int_equal(pcie_fn_msi_send(m.ep, 1, NULL), 0);
    sim_run(m.sim, 0);
    assert_int_equal(n0, 0);
    assert_int_equal(n1, 1);
    amd_machine_free(&m);
}

static void test_v49_no_ioapic_no_remap(void **state)
{
    (void)state;
    struct amd_machine m;
    struct amd_machine_opts o = {.version = "4.9", .no_ioapic = true};
    amd_machine_build(&m, &o);
    assert_int_equal(m.init_rc, 0);
    expect_rec(&m, "[Firmware Bug]: AMD-Vi: IOAPIC[0] not in IVRS table", 3);
    expect_rec(&m, "[Firmware Bug]: AMD-Vi: No southbridge IOAPIC found", 3);
    expect_rec(&m, "AMD-Vi: Disabling interrupt remapping", 3);
    assert_false(log_has_prefix(&m, "AMD-Vi: Interrupt remapping enabled"));
    pci_enable_device(m.pdev);
    assert_int_equal(pci_alloc_irq_vectors(m.pdev, 1, 2, PCI_IRQ_MSI), 1);
    struct amdvi_dte d;
    read_dte(&m, 0x0100, &d, NULL);
    assert_false(d.iv);
    amd_machine_free(&m);
}

static void test_v49_passthrough(void **state)
{
    (void)state;
    struct amd_machine m;
    up(&m, "4.9.80", "iommu=pt", false);
    expect_rec(&m, "iommu: Using direct mapping for device 0000:01:00.0", 6);
    struct amdvi_dte d;
    read_dte(&m, 0x0100, &d, NULL);
    assert_true(d.v && d.tv && d.ir && d.iw);
    assert_int_equal(d.mode, 0);
    /* DMA domain 2 freed, identity domain 3 (ids: root port 1/... ) */
    uint16_t dom;
    bool ident;
    assert_true(host_amd_iommu_dev_domain(m.drv, m.pdev, &dom, &ident, NULL));
    assert_true(ident);
    assert_int_equal(d.domain_id, dom);
    assert_null(m.pdev->dev.dma_ops);
    dma_addr_t h;
    uint32_t *buf = dma_alloc_coherent(&m.pdev->dev, 4096, &h, GFP_KERNEL);
    assert_int_equal(h, virt_to_phys(buf));
    dev_write(&m, h, 0x77);
    assert_int_equal(buf[0], 0x77);
    struct host_amd_iommu_info info;
    host_amd_iommu_get_info(m.drv, &info);
    assert_int_equal(info.events_printed, 0);
    amd_machine_free(&m);
}

static void test_off(void **state)
{
    (void)state;
    const char *cmd[] = {"iommu=off", "amd_iommu=off"};
    for (int c = 0; c < 2; c++) {
        struct amd_machine m;
        up(&m, "4.9.80", cmd[c], false);
        assert_null(m.drv);
        assert_false(log_has_prefix(&m, "AMD-Vi"));
        assert_int_equal(mmio64(&m, AMDVI_REG_CONTROL), 0);
        assert_int_equal(mmio64(&m, AMDVI_REG_DEV_TAB_BASE), 0);
        dma_addr_t h;
        uint32_t *buf = dma_alloc_coherent(&m.pdev->dev, 4096, &h, GFP_KERNEL);
        assert_int_equal(h, virt_to_phys(buf));
        dev_write(&m, h, 0x55);
        assert_int_equal(buf[0], 0x55);
        /* with requester ID 00:00.0 too: nothing checks it */
        pcie_fn_set_requester_id(m.ep, true, 0);
        dev_write(&m, h + 4, 0x66);
        assert_int_equal(buf[1], 0x66);
        assert_int_equal(pci_alloc_irq_vectors(m.pdev, 1, 2, PCI_IRQ_MSI), 1);
        amd_machine_free(&m);
    }
}

/* The seed's "only 1 of the 2 MSIs with iommu=off" in every modelled
 * version: with AMD-Vi's interrupt remapping the device gets both vectors,
 * without it (iommu=off, or AMD-Vi off) one; iommu=soft is iommu=off for
 * AMD-Vi in 4.x and 5.15 (boot.c), not here where the driver is called. */
static void test_multi_msi_every_version(void **state)
{
    (void)state;
    const char *versions[] = {"4.9.80", "4.20.17", "5.15", "6.1"};
    for (int v = 0; v < 4; v++) {
        const char *cmd[] = {"", "iommu=off", "amd_iommu=off"};
        const int want[] = {2, 1, 1};
        for (int c = 0; c < 3; c++) {
            struct amd_machine m;
            up(&m, versions[v], cmd[c], false);
            int got = pci_alloc_irq_vectors(m.pdev, 1, 2, PCI_IRQ_MSI);
            if (got != want[c])
                fail_msg("%s '%s': %d vectors, want %d", versions[v], cmd[c], got, want[c]);
            assert_int_equal(m.pdev->msi_remapped, want[c] == 2);
            amd_machine_free(&m);
        }
    }
}

/* iommu.forcedac=1 (5.13+): a PCI device with a 64-bit mask no longer tries
 * below 4 GiB first (dma-iommu.c iommu_dma_alloc_iova); 4.x's AMD ops have no
 * such switch and 4.20 has no such parameter. */
static void test_forcedac(void **state)
{
    (void)state;
    const struct {
        const char *version, *cmdline;
        bool above_4g;
    } cases[] = {
        {"5.15", "", false}, {"5.15", "iommu.forcedac=1", true},
        {"6.1", "iommu.forcedac=1", true}, {"4.20", "iommu.forcedac=1", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct amd_machine m;
        up(&m, cases[i].version, cases[i].cmdline, false);
        assert_int_equal(dma_set_mask_and_coherent(&m.pdev->dev, DMA_BIT_MASK(64)), 0);
        dma_addr_t h;
        void *buf = dma_alloc_coherent(&m.pdev->dev, 4096, &h, GFP_KERNEL);
        assert_non_null(buf);
        if ((h > 0xffffffffull) != cases[i].above_4g)
            fail_msg("%s '%s': handle 0x%llx", cases[i].version, cases[i].cmdline,
                     (unsigned long long)h);
        dma_free_coherent(&m.pdev->dev, 4096, buf, h);
        amd_machine_free(&m);
    }
}

/* ---- 4.20 ---- */

static void test_v420_fault_lines(void **state)
{
    (void)state;
    struct amd_machine m;
    up(&m, "4.20.17", "", false);
    expect_rec(&m, "AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40", 6);
    expect_rec(&m, "AMD-Vi: Lazy IO/TLB flushing enabled", 6);
    check_attached_dte(&m, 2);
    dma_addr_t h;
    uint32_t *buf = dma_alloc_coherent(&m.pdev->dev, 4096, &h, GFP_KERNEL);
    assert_int_equal(h, 0xfffff000ull);
    pcie_fn_set_requester_id(m.ep, true, 0x0000);
    dev_write(&m, h, 1);
    assert_int_equal(buf[0], 0);
    /* one record: pr_err, no pci_dev data for 00:00.0 */
    expect_rec(&m, "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                   "address=0x00000000fffff000 flags=0x0070]", 3);
    /* the device itself at an unmapped address: dev_err, domain= from the
     * PPR PASID bits (dword 0 bits 31:16: zero) */
    pcie_fn_set_requester_id(m.ep, false, 0);
    dev_write(&m, 0x1000, 1);
    expect_rec(&m, "pci 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0000 "
                   "address=0x0000000000001000 flags=0x0020]", 3);
    amd_machine_free(&m);
}

/* ---- 5.15 and 6.1 ---- */

static void test_v515_boot_and_fault(void **state)
{
    (void)state;
    struct amd_machine m;
    up(&m, "5.15", "", false);
    char feat[160];
    snprintf(feat, sizeof feat, "AMD-Vi: Extended features (%#llx): PreF PPR IA GA",
             (unsigned long long)amd_ivrs_efr());
    const char *lines[] = {
        "iommu: Default domain type: Translated ",
        "iommu: DMA domain TLB invalidation policy: lazy mode ",
        "pci 0000:00:01.0: Adding to iommu group 0",
        "pci 0000:01:00.0: Adding to iommu group 1",
        "pci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40",
        feat,
        "AMD-Vi: Interrupt remapping enabled",
    };
    expect_order(&m, lines, sizeof lines / sizeof lines[0]);
    assert_false(log_has_prefix(&m, "AMD-Vi: Lazy IO/TLB"));
    check_attached_dte(&m, 2);
    assert_string_equal(m.pdev->dev.dma_ops->name, "iommu-dma");
    dma_addr_t h;
    uint32_t *buf = dma_alloc_coherent(&m.pdev->dev, 4096, &h, GFP_KERNEL);
    assert_int_equal(h, 0xfffff000ull);
    dev_write(&m, h, 0xabcd);
    assert_int_equal(buf[0], 0xabcd);
    pcie_fn_set_requester_id(m.ep, true, 0x0000);
    dev_write(&m, h, 1);
    expect_rec(&m, "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                   "address=0xfffff000 flags=0x0070]", 3);
    pcie_fn_set_requester_id(m.ep, false, 0);
    dev_write(&m, 0x2000, 1);
    expect_rec(&m, "pci 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0002 "
                   "address=0x2000 flags=0x0020]", 3);
    assert_int_equal(pci_alloc_irq_vectors(m.pdev, 1, 2, PCI_IRQ_MSI), 2);
    amd_machine_free(&m);
}

static void test_v515_lazy_and_strict(void **state)
{
    (void)state;
    for (int strict = 0; strict < 2; strict++) {
        struct amd_machine m;
        up(&m, "5.15", strict ? "iommu.strict=1" : "", false);
        uint32_t *buf = kmalloc(4096, GFP_KERNEL);
        memset(buf, 0, 4096);
        dma_addr_t a = dma_map_single(&m.pdev->dev, buf, 4096, DMA_FROM_DEVICE);
        assert_int_equal(a, 0xfffff000ull);
        dev_write(&m, a, 0x11);
        assert_int_equal(buf[0], 0x11);
        dma_unmap_single(&m.pdev->dev, a, 4096, DMA_FROM_DEVICE);
        dev_write(&m, a + 4, 0x22);
        assert_int_equal(buf[1], strict ? 0 : 0x22);
        sim_run_until(m.sim, 12 * SIM_MS);
        dev_write(&m, a + 8, 0x33);
        assert_int_equal(buf[2], 0);
        amd_machine_free(&m);
    }
}

static void test_v61_fault_line_and_pt(void **state)
{
    (void)state;
    struct amd_machine m;
    up(&m, "6.1", "", false);
    char feat[160];
    /* EFR2 is 0: the kernel prints it "0x0" (its %#llx, lib/vsprintf.c) */
    snprintf(feat, sizeof feat, "AMD-Vi: Extended features (%#llx, 0x0): PreF PPR IA GA",
             (unsigned long long)amd_ivrs_efr());
    expect_rec(&m, feat, 6);
    expect_rec(&m, "pci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40", 6);
    snprintf(feat, sizeof feat, "AMD-Vi: Using global IVHD EFR:%#llx, EFR2:0x0",
             (unsigned long long)amd_ivrs_efr());
    expect_rec(&m, feat, 6);
    dma_addr_t h;
    dma_alloc_coherent(&m.pdev->dev, 4096, &h, GFP_KERNEL);
    assert_int_equal(h, 0xfffff000ull);
    pcie_fn_set_requester_id(m.ep, true, 0x0000);
    dev_write(&m, h, 1);
    expect_rec(&m, "AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:00.0 domain=0x0000 "
                   "address=0xfffff000 flags=0x0070]", 3);
    amd_machine_free(&m);

    up(&m, "6.1", "iommu=pt", false);
    expect_rec(&m, "iommu: Default domain type: Passthrough (set via kernel command line)", 6);
    struct amdvi_dte d;
    read_dte(&m, 0x0100, &d, NULL);
    assert_int_equal(d.mode, 0);
    assert_true(d.ir && d.iw);
    uint32_t *buf = dma_alloc_coherent(&m.pdev->dev, 4096, &h, GFP_KERNEL);
    assert_int_equal(h, virt_to_phys(buf));
    dev_write(&m, h, 9);
    assert_int_equal(buf[0], 9);
    amd_machine_free(&m);
}

/* ---- NpCache (capability header bit 26), on built-in machines ---- */

struct npc_run {
    size_t strict_line;          /* index of the NpCache line + 1, 0: none */
    size_t efr_line, group_line; /* "Using global IVHD", first "Adding ... group" (+ 1) */
    struct host_amd_iommu_info info;
};

/* scenario at version; np_cache < 0: as the scenario says, else forced. */
static void npc_run(const char *scenario, const char *version, int np_cache, struct npc_run *out)
{
    struct pcilab_err err;
    struct scn_machine m;
    struct scn_system *sys;
    struct pcie_enum_report rep;
    struct host_kernel *k;
    memset(out, 0, sizeof *out);
    assert_int_equal(scn_load_builtin(scenario, &m, &err), 0);
    assert_int_equal(scn_set(&m, "iommu", "amd-vi", &err), 0); /* QEMU's amd-iommu */
    for (size_t i = 0; np_cache >= 0 && i < m.nfuncs; i++)
        m.funcs[i].iommu.np_cache = np_cache;
    struct pcilab_sim *sim = sim_create(m.seed);
    assert_int_equal(scn_build(&m, sim, &sys, &err), 0);
    assert_int_equal(scn_enumerate(sys, &rep, &err), 0);
    struct scn_boot_opts o = {version, NULL, false};
    assert_int_equal(scn_boot(sys, &m, &o, &rep, &k, &err), 0);
    sim_run_until(sim, 500 * SIM_MS);
    const struct sim_log *log = sim_log(sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec r;
        if (!sim_log_get(log, i, &r))
            continue;
        if (strstr(r.text, "AMD-Vi: Using strict mode due to virtualization")) {
            assert_int_equal(out->strict_line, 0); /* once: one IOMMU */
            out->strict_line = i + 1;
        }
        if (strstr(r.text, "Using global IVHD"))
            out->efr_line = i + 1;
        if (!out->group_line && strstr(r.text, "group"))
            out->group_line = i + 1;
    }
    host_amd_iommu_get_info(host_amd_iommu_of(k), &out->info);
    sim_destroy(sim);
    pcie_enum_report_free(&rep);
    scn_free(&m);
}

/* QEMU's amd-iommu has NpCache: 5.15 and 6.1 print the line where the real
 * 6.1 boot does (after "Using global IVHD", before the iommu groups, as in
 * tests/linux/captured/edu-amd-ok.log) and go strict; 4.9.80 and 4.20 only
 * flush on map, silently; the seed's Carrizo (no NpCache) is untouched. */
static void test_npcache(void **state)
{
    (void)state;
    struct npc_run r, off;
    npc_run("edu-ok", "6.1", -1, &r);
    assert_int_not_equal(r.strict_line, 0);
    assert_true(r.efr_line && r.efr_line < r.strict_line);
    assert_true(r.strict_line < r.group_line);
    assert_false(r.info.lazy);
    assert_int_equal(r.info.fq_flushes, 0);
    npc_run("edu-ok", "6.1", 0, &off); /* the same machine without the bit */
    assert_int_equal(off.strict_line, 0);
    assert_true(off.info.lazy);
    /* the flush on map: a completion wait per mapping more */
    assert_true(r.info.completion_waits > off.info.completion_waits);

    npc_run("edu-ok", "5.15", -1, &r);
    assert_int_not_equal(r.strict_line, 0);
    assert_false(r.info.lazy);

    npc_run("edu-ok", "4.20", -1, &r);
    assert_int_equal(r.strict_line, 0);
    npc_run("edu-ok", "4.20", 0, &off);
    assert_int_equal(r.info.lazy, off.info.lazy); /* not forced strict */
    assert_true(r.info.completion_waits > off.info.completion_waits);

    npc_run("edu-ok", "4.9", -1, &r);
    assert_int_equal(r.strict_line, 0);
    npc_run("edu-ok", "4.9", 0, &off);
    assert_int_equal(r.info.lazy, off.info.lazy);
    assert_true(r.info.completion_waits > off.info.completion_waits);

    npc_run("seed", "6.1", -1, &r);
    assert_int_equal(r.strict_line, 0);
    assert_true(r.info.lazy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v49_boot_lines_and_tables),
        cmocka_unit_test(test_v49_seed_fault),
        cmocka_unit_test(test_v49_host_bridge_selected),
        cmocka_unit_test(test_v49_lazy_stale_iotlb),
        cmocka_unit_test(test_v49_strict_unmap),
        cmocka_unit_test(test_v49_multi_msi_remapped),
        cmocka_unit_test(test_v49_no_ioapic_no_remap),
        cmocka_unit_test(test_v49_passthrough),
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_multi_msi_every_version),
        cmocka_unit_test(test_forcedac),
        cmocka_unit_test(test_v420_fault_lines),
        cmocka_unit_test(test_v515_boot_and_fault),
        cmocka_unit_test(test_v515_lazy_and_strict),
        cmocka_unit_test(test_v61_fault_line_and_pt),
        cmocka_unit_test(test_npcache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
