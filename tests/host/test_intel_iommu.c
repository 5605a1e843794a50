/* The Intel IOMMU driver on a q35-like machine with the VT-d model: boot
 * lines per version (6.1's compared with a real 6.1 boot under QEMU,
 * tests/linux/captured/edu-vtd-ok.log), domains and context entries in
 * memory, the READ/WRITE bits each version sets per direction, strict and
 * lazy unmap as the device sees them, the fault interrupt and each
 * version's lines, interrupt remapping, the RMRR attach refusal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vtd_machine.h"
#include "host/dma.h"
#include "host/pages.h"

#include <errno.h>

static bool has_line(struct vtd_machine *m, const char *text)
{
    struct sim_log *log = sim_log(m->sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec r;
        if (sim_log_get(log, i, &r) && strcmp(r.text, text) == 0)
            return true;
    }
    return false;
}

static long line_index(struct vtd_machine *m, const char *text)
{
    struct sim_log *log = sim_log(m->sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec r;
        if (sim_log_get(log, i, &r) && strcmp(r.text, text) == 0)
            return (long)i;
    }
    return -1;
}

static void expect_line(struct vtd_machine *m, const char *text)
{
    if (!has_line(m, text))
        fail_msg("missing log line: \"%s\"", text);
}

/* The VT-d lines of a log, in order: DMAR:, DMAR-IR:, iommu:, and the
 * devices' "Adding to iommu group" lines. */
static bool vtd_line(const char *t)
{
    return !strncmp(t, "DMAR", 4) || !strncmp(t, "iommu:", 6) || strstr(t, "iommu group");
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
        s[--n] = 0;
}

/* 6.1, intel_iommu=on: every VT-d line of the real boot, in its order. */
static void test_boot_lines_match_real_6_1(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/tests/linux/captured/edu-vtd-ok.log", PCILAB_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char real[64][256];
    size_t nreal = 0;
    char buf[512];
    while (fgets(buf, sizeof buf, f) && nreal < 64) {
        char *t = buf;
        if (*t == '[') { /* the timestamp */
            t = strchr(t, ']');
            if (!t)
                continue;
            t += 2;
        }
        trim(t);
        if (vtd_line(t) && strncmp(t, "ACPI", 4))
            snprintf(real[nreal++], sizeof real[0], "%.255s", t);
    }
    fclose(f);
    assert_true(nreal >= 15);

    struct vtd_machine m;
    vtd_machine_build(&m, "6.1", "intel_iommu=on");
    assert_int_equal(m.boot_rc, 0);
    struct sim_log *log = sim_log(m.sim);
    size_t j = 0;
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec r;
        if (!sim_log_get(log, i, &r) || !vtd_line(r.text))
            continue;
        snprintf(buf, sizeof buf, "%s", r.text);
        trim(buf);
        if (j >= nreal)
            fail_msg("extra line: \"%s\"", buf);
        if (strcmp(buf, real[j]))
            fail_msg("line %zu: pcilab \"%s\", real 6.1 \"%s\"", j, buf, real[j]);
        j++;
    }
    if (j != nreal)
        fail_msg("pcilab stops at line %zu of %zu: \"%s\"", j, nreal, real[j]);
    vtd_machine_free(&m);
}

/* intel_iommu=off: the table is still read and IR still on; no DMA remapping. */
static void test_off_reads_table_only(void **state)
{
    (void)state;
    struct vtd_machine m;
    vtd_machine_build(&m, "6.1", "intel_iommu=off");
    expect_line(&m, "DMAR: IOMMU disabled");
    expect_line(&m, "DMAR: DRHD base: 0x000000fed90000 flags: 0x0");
    expect_line(&m, "DMAR-IR: Enabled IRQ remapping in xapic mode");
    assert_false(has_line(&m, "DMAR: No RMRR found"));
    assert_false(has_line(&m, "DMAR: Intel(R) Virtualization Technology for Directed I/O"));
    struct host_intel_iommu_info in;
    host_intel_iommu_get_info(m.drv, &in);
    assert_false(in.dma_remapping);
    assert_true(in.irq_remapping);
    assert_false(host_intel_iommu_dev_domain(m.drv, m.pdev, NULL, NULL, NULL));
    vtd_machine_free(&m);
}

/* Defaults: 5.15 leaves DMA remapping off, Debian's 6.1 turns it on. */
static void test_default_on_by_version(void **state)
{
    (void)state;
    struct vtd_machine m;
    vtd_machine_build(&m, "5.15", "");
    assert_false(has_line(&m, "DMAR: Intel(R) Virtualization Technology for Directed I/O"));
    vtd_machine_free(&m);
    vtd_machine_build(&m, "6.1", "");
    expect_line(&m, "DMAR: Intel(R) Virtualization Technology for Directed I/O");
    vtd_machine_free(&m);
}

/* Domains and context entries in simulated memory (6.1): one DMA domain per
 * group, DIDs from 1, 3 levels (QEMU's SAGAW: 39 bits), TT 0. */
static void test_context_entries(void **state)
{
    (void)state;
    struct vtd_machine m;
    vtd_machine_build(&m, "6.1", "intel_iommu=on");
    uint16_t did;
    bool identity;
    int group;
    assert_true(host_intel_iommu_dev_domain(m.drv, m.pdev, &did, &identity, &group));
    assert_int_equal(group, 1);
    assert_false(identity);
    assert_int_equal(did, 2); /* group 0 (00:00.0) took DID 1 */
    struct host_intel_iommu_info in;
    host_intel_iommu_get_info(m.drv, &in);
    assert_true(in.dma_remapping && in.qi && in.lazy);
    uint8_t raw[16];
    assert_int_equal(mem_phys_read(m.ram, in.root_pa, raw, 16, NULL), 0);
    struct vtd_root_entry re;
    vtd_root_entry_decode(raw, &re);
    assert_true(re.p);
    assert_int_equal(mem_phys_read(m.ram, re.ctp + 0x18 * 16, raw, 16, NULL), 0);
    struct vtd_context_entry ce;
    vtd_context_entry_decode(raw, &ce);
    assert_true(ce.p);
    assert_int_equal(ce.tt, VTD_TT_SLT);
    assert_int_equal(ce.aw, VTD_AW_39);
    assert_int_equal(ce.did, 2);
    assert_true(ce.slptptr != 0);
    /* the ISA bridge's group has 0..16 MiB identity-mapped (floppy WA) */
    struct pci_dev *isa = host_pci_find(m.k, 0, 0x00f8);
    struct host_intel_iommu_mapping mp;
    assert_true(host_intel_iommu_lookup(m.drv, isa, 0x123000, &mp));
    assert_int_equal(mp.pa, 0x123000);
    assert_true(mp.r && mp.w);
    vtd_machine_free(&m);
}

/* iommu=pt (6.1): identity domain through pass-through context entries. */
static void test_pt_context(void **state)
{
    (void)state;
    struct vtd_machine m;
    vtd_machine_build(&m, "6.1", "intel_iommu=on iommu=pt");
    expect_line(&m, "iommu: Default domain type: Passthrough (set via kernel command line)");
    uint16_t did;
    bool identity;
    assert_true(host_intel_iommu_dev_domain(m.drv, m.pdev, &did, &identity, NULL));
    assert_true(identity);
    struct host_intel_iommu_info in;
    host_intel_iommu_get_info(m.drv, &in);
    uint8_t raw[16];
    struct vtd_root_entry re;
    mem_phys_read(m.ram, in.root_pa, raw, 16, NULL);
    vtd_root_entry_decode(raw, &re);
    mem_phys_read(m.ram, re.ctp + 0x18 * 16, raw, 16, NULL);
    struct vtd_context_entry ce;
    vtd_context_entry_decode(raw, &ce);
    assert_int_equal(ce.tt, VTD_TT_PT);
    /* the DMA API gives the physical address */
    void *buf = kmalloc(64, GFP_KERNEL);
    dma_addr_t h = dma_map_single(&m.pdev->dev, buf, 64, DMA_TO_DEVICE);
    assert_int_equal(h, host_virt_to_phys(m.k, buf));
    dma_unmap_single(&m.pdev->dev, h, 64, DMA_TO_DEVICE);
    kfree(buf);
    vtd_machine_free(&m);
}

/* The PTE bits per direction: 6.1 exactly as asked; 4.9 also READ for a
 * FROM_DEVICE mapping (QEMU's CAP.ZLR is clear). */
static void check_prot(const char *version, bool from_dev_read)
{
    struct vtd_machine m;
    vtd_machine_build(&m, version, "intel_iommu=on");
    assert_int_equal(m.boot_rc, 0);
    void *buf = kmalloc(4096, GFP_KERNEL);
    struct host_intel_iommu_mapping mp;
    static const struct { enum dma_data_direction dir; bool r, w; } cases[] = {
        {DMA_TO_DEVICE, true, false}, {DMA_FROM_DEVICE, false, true},
        {DMA_BIDIRECTIONAL, true, true}};
    for (size_t i = 0; i < 3; i++) {
        dma_addr_t h = dma_map_single(&m.pdev->dev, buf, 4096, cases[i].dir);
        assert_true(h != 0 && h != host_virt_to_phys(m.k, buf));
        assert_true(host_intel_iommu_lookup(m.drv, m.pdev, h, &mp));
        assert_int_equal(mp.pa, host_virt_to_phys(m.k, buf));
        bool r = cases[i].dir == DMA_FROM_DEVICE ? from_dev_read : cases[i].r;
        if (mp.r != r || mp.w != cases[i].w)
            fail_msg("%s dir %d: R %d W %d, want R %d W %d", version, cases[i].dir, mp.r, mp.w,
                     r, cases[i].w);
        dma_unmap_single(&m.pdev->dev, h, 4096, cases[i].dir);
    }
    kfree(buf);
    vtd_machine_free(&m);
}

static void test_prot_per_version(void **state)
{
    (void)state;
    check_prot("6.1", false);
    check_prot("5.15", false);
    check_prot("4.20", true);
    check_prot("4.9", true);
}

static int dev_write(struct vtd_machine *m, uint64_t addr, uint32_t v)
{
    int r = pcie_fn_mem_write(m->ep, addr, &v, 4, NULL);
    sim_run(m->sim, 0);
    return r;
}

/* A device writing a DMA_TO_DEVICE buffer: the fault record, the fault
 * event through FEADDR/FEDATA to the kernel, dmar_fault's lines. */
static void fault_lines(const char *version, const char *want_fmt)
{
    struct vtd_machine m;
    vtd_machine_build(&m, version, "intel_iommu=on");
    assert_int_equal(pci_enable_device(m.pdev), 0);
    pci_set_master(m.pdev);
    void *buf = kmalloc(4096, GFP_KERNEL);
    dma_addr_t h = dma_map_single(&m.pdev->dev, buf, 4096, DMA_TO_DEVICE);
    dev_write(&m, h, 0x12345678);
    expect_line(&m, "DMAR: DRHD: handling fault status reg 2");
    char want[256];
    snprintf(want, sizeof want, want_fmt, (unsigned long long)(h & ~0xfffull));
    expect_line(&m, want);
    struct host_intel_iommu_info in;
    host_intel_iommu_get_info(m.drv, &in);
    assert_int_equal(in.faults_printed, 1);
    uint32_t fsts = 0;
    mem_addrmap_read32(m.map, 0xfed90000ull + VTD_REG_FSTS, &fsts);
    assert_int_equal(fsts, 0); /* cleared by the handler */
    dma_unmap_single(&m.pdev->dev, h, 4096, DMA_TO_DEVICE);
    kfree(buf);
    vtd_machine_free(&m);
}

static void test_fault_lines_per_version(void **state)
{
    (void)state;
    fault_lines("6.1", "DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0x%llx "
                       "[fault reason 0x05] PTE Write access is not set");
    fault_lines("5.15", "DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0x%llx "
                        "[fault reason 0x05] PTE Write access is not set");
    fault_lines("4.20", "DMAR: [DMA Write] Request device [00:03.0] fault addr %llx "
                        "[fault reason 05] PTE Write access is not set");
    fault_lines("4.9", "DMAR: [DMA Write] Request device [00:03.0] fault addr %llx "
                       "[fault reason 05] PTE Write access is not set");
}

/* The formatter alone: reads, PASIDs, interrupt faults, decimal vs hex. */
static void test_fault_line_forms(void **state)
{
    (void)state;
    const struct host_kver *k61 = NULL, *k49 = NULL;
    host_kver_find("6.1", &k61, NULL);
    host_kver_find("4.9", &k49, NULL);
    char b[256];
    host_intel_fault_line(k61, true, 6, -1, 0x0010, 0x7fffe000, b, sizeof b);
    assert_string_equal(b, "[DMA Read NO_PASID] Request device [00:02.0] fault addr 0x7fffe000 "
                           "[fault reason 0x06] PTE Read access is not set");
    host_intel_fault_line(k61, false, 0x71, 1, 0x3a01, 0x7f12a000, b, sizeof b);
    assert_string_equal(b, "[DMA Write PASID 0x1] Request device [3a:00.1] fault addr 0x7f12a000 "
                           "[fault reason 0x71] SM: Present bit in first-level paging entry is "
                           "clear");
    host_intel_fault_line(k61, false, 0x26, -1, 0xf0f8, 0x17ull << 48, b, sizeof b);
    assert_string_equal(b, "[INTR-REMAP] Request device [f0:1f.0] fault index 0x17 [fault reason "
                           "0x26] Blocked an interrupt request due to source-id verification "
                           "failure");
    host_intel_fault_line(k49, false, 0x22, -1, 0x00fa, 0x1bull << 48, b, sizeof b);
    assert_string_equal(b, "[INTR-REMAP] Request device [00:1f.2] fault index 1b [fault reason "
                           "34] Present field in the IRTE entry is clear");
    host_intel_fault_line(k49, true, 1, -1, 0x0100, 0xffbf8000, b, sizeof b);
    assert_string_equal(b, "[DMA Read] Request device [01:00.0] fault addr ffbf8000 [fault reason "
                        "01] Present bit in root entry is clear");
}

/* Lazy (default) unmap: the IOTLB keeps the old translation until the flush
 * queue runs, so a late device write still lands; iommu.strict=1 flushes at
 * unmap and the same write faults. */
static void lazy_or_strict(const char *cmdline, bool lands)
{
    struct vtd_machine m;
    vtd_machine_build(&m, "6.1", cmdline);
    pci_enable_device(m.pdev);
    pci_set_master(m.pdev);
    uint32_t *buf = kmalloc(4096, GFP_KERNEL);
    buf[0] = 0;
    dma_addr_t h = dma_map_single(&m.pdev->dev, buf, 4096, DMA_FROM_DEVICE);
    dev_write(&m, h, 1); /* fills the IOTLB */
    assert_int_equal(buf[0], 1);
    dma_unmap_single(&m.pdev->dev, h, 4096, DMA_FROM_DEVICE);
    dev_write(&m, h, 2);
    assert_int_equal(buf[0], lands ? 2 : 1);
    assert_int_equal(has_line(&m, "DMAR: DRHD: handling fault status reg 2"), !lands);
    host_intel_iommu_flush_queue(m.drv);
    dev_write(&m, h, 3);
    assert_int_equal(buf[0], lands ? 2 : 1);
    expect_line(&m, "DMAR: DRHD: handling fault status reg 2");
    kfree(buf);
    vtd_machine_free(&m);
}

static void test_lazy_and_strict(void **state)
{
    (void)state;
    lazy_or_strict("intel_iommu=on", true);
    lazy_or_strict("intel_iommu=on iommu.strict=1", false);
}

/* 4.9: "Setting RMRR:", the LPC unity map, group lines after the banner,
 * the edu device's domain made at its first mapping. */
static void test_boot_4_9(void **state)
{
    (void)state;
    struct vtd_machine m;
    vtd_machine_build(&m, "4.9", "intel_iommu=on");
    assert_int_equal(m.boot_rc, 0);
    expect_line(&m, "DMAR: Host address width 39");
    expect_line(&m, "DMAR: dmar0: Using Queued invalidation");
    expect_line(&m, "DMAR: Setting RMRR:");
    expect_line(&m, "DMAR: Prepare 0-16MiB unity mapping for LPC");
    expect_line(&m, "DMAR: Setting identity map for device 0000:00:1f.0 [0x0 - 0xffffff]");
    assert_false(has_line(&m, "DMAR: No SATC found"));
    long banner = line_index(&m, "DMAR: Intel(R) Virtualization Technology for Directed I/O");
    long g = line_index(&m, "iommu: Adding device 0000:00:03.0 to group 1");
    assert_true(banner >= 0 && g > banner);
    assert_false(host_intel_iommu_dev_domain(m.drv, m.pdev, NULL, NULL, NULL));
    void *buf = kmalloc(64, GFP_KERNEL);
    dma_addr_t h = dma_map_single(&m.pdev->dev, buf, 64, DMA_BIDIRECTIONAL);
    uint16_t did;
    assert_true(host_intel_iommu_dev_domain(m.drv, m.pdev, &did, NULL, NULL));
    assert_int_equal(did, 2); /* the LPC domain took 1 */
    dma_unmap_single(&m.pdev->dev, h, 64, DMA_BIDIRECTIONAL);
    kfree(buf);
    vtd_machine_free(&m);
}

/* Interrupt remapping: an MSI gets an IRTE and a remappable message, and it
 * reaches its handler through the model. */
static int hits;
static irqreturn_t on_irq(int irq, void *id)
{
    (void)irq;
    (void)id;
    hits++;
    return IRQ_HANDLED;
}

static void test_msi_through_irte(void **state)
{
    (void)state;
    struct vtd_machine m;
    vtd_machine_build(&m, "6.1", "intel_iommu=on");
    pci_enable_device(m.pdev);
    pci_set_master(m.pdev);
    assert_int_equal(pci_alloc_irq_vectors(m.pdev, 1, 1, PCI_IRQ_MSI), 1);
    int irq = pci_irq_vector(m.pdev, 0);
    assert_int_equal(request_irq((unsigned)irq, on_irq, 0, "t", &m), 0);
    struct host_irq_desc *d = host_irq_desc(m.k, (unsigned)irq);
    struct vtd_msi msg;
    vtd_msi_decode(d->msg_addr, d->msg_data, &msg);
    assert_true(msg.remappable);
    hits = 0;
    assert_int_equal(pcie_fn_msi_send(m.ep, 0, NULL), 0);
    sim_run(m.sim, 0);
    assert_int_equal(hits, 1);
    free_irq((unsigned)irq, &m);
    pci_free_irq_vectors(m.pdev);
    vtd_machine_free(&m);
}

/* An RMRR naming the device: its region identity-mapped in its DMA domain,
 * the 4.x line, and the refusal of an unmanaged domain (every version). */
static void test_rmrr(void **state)
{
    (void)state;
    static const char *const versions[] = {"4.9", "6.1"};
    for (int i = 0; i < 2; i++) {
        struct vtd_machine m;
        vtd_machine_build_rmrr(&m, versions[i], "intel_iommu=on", true);
        assert_int_equal(m.boot_rc, 0);
        expect_line(&m, "DMAR: RMRR base: 0x0000007d000000 end: 0x0000007d0fffff");
        assert_int_equal(has_line(&m, "DMAR: Setting identity map for device 0000:00:03.0 "
                                      "[0x7d000000 - 0x7d0fffff]"), i == 0);
        struct host_intel_iommu_mapping mp;
        assert_true(host_intel_iommu_lookup(m.drv, m.pdev, 0x7d001000, &mp));
        assert_int_equal(mp.pa, 0x7d001000);
        assert_int_equal(host_intel_iommu_attach_unmanaged(m.drv, m.pdev), -EPERM);
        expect_line(&m, "pci 0000:00:03.0: Device is ineligible for IOMMU domain attach due to "
                        "platform RMRR requirement.  Contact your platform vendor.");
        vtd_machine_free(&m);
    }
}

/* 4.9 iommu=pt: the device starts in si_domain (pass-through) and leaves it
 * at its first mapping when its mask cannot reach all of RAM. */
static void test_pt_4_9_small_mask(void **state)
{
    (void)state;
    struct vtd_machine m;
    vtd_machine_build(&m, "4.9", "intel_iommu=on iommu=pt");
    expect_line(&m, "DMAR: Hardware identity mapping for device 0000:00:03.0");
    bool identity;
    assert_true(host_intel_iommu_dev_domain(m.drv, m.pdev, NULL, &identity, NULL));
    assert_true(identity);
    assert_int_equal(dma_set_mask(&m.pdev->dev, DMA_BIT_MASK(28)), 0);
    void *buf = kmalloc(64, GFP_KERNEL);
    dma_addr_t h = dma_map_single(&m.pdev->dev, buf, 64, DMA_TO_DEVICE);
    expect_line(&m, "DMAR: 32bit 0000:00:03.0 uses non-identity mapping");
    assert_true(host_intel_iommu_dev_domain(m.drv, m.pdev, NULL, &identity, NULL));
    assert_false(identity);
    assert_true(h < (1ull << 28));
    dma_unmap_single(&m.pdev->dev, h, 64, DMA_TO_DEVICE);
    kfree(buf);
    vtd_machine_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot_lines_match_real_6_1),
        cmocka_unit_test(test_off_reads_table_only),
        cmocka_unit_test(test_default_on_by_version),
        cmocka_unit_test(test_context_entries),
        cmocka_unit_test(test_pt_context),
        cmocka_unit_test(test_prot_per_version),
        cmocka_unit_test(test_fault_lines_per_version),
        cmocka_unit_test(test_fault_line_forms),
        cmocka_unit_test(test_lazy_and_strict),
        cmocka_unit_test(test_boot_4_9),
        cmocka_unit_test(test_msi_through_irte),
        cmocka_unit_test(test_rmrr),
        cmocka_unit_test(test_pt_4_9_small_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
