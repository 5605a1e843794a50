/* The host PCI core on the two-switch fabric of the pcie tests: the scan by
 * configuration requests finds what enumeration built, enabling and bus
 * mastering go through config writes, MMIO through TLPs, and a device's DMA
 * needs pci_set_master as on hardware. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#include "../pcie/fabric_fixture.h"
#include "host/kernel.h"
#include "host/pci.h"

struct fx {
    struct tfab t;
    struct host_kernel *k;
};

static void up(struct fx *x)
{
    tfab_build(&x->t, false);
    assert_int_equal(pcie_enumerate(x->t.f, NULL, NULL, NULL), 0);
    struct pcilab_err err;
    x->k = host_kernel_create(x->t.sim, x->t.f, x->t.ram, x->t.map, NULL, &err);
    assert_non_null(x->k);
    assert_int_equal(host_pci_scan(x->k, &err), 0);
}

/* The newest log record's text. */
static const char *last_line(struct fx *x, char *buf, size_t len)
{
    struct sim_log *log = sim_log(x->t.sim);
    struct sim_log_rec rec;
    size_t n = sim_log_count(log);
    if (!n || !sim_log_get(log, n - 1, &rec))
        return "";
    snprintf(buf, len, "%s", rec.text);
    return buf;
}

static void test_scan(void **state)
{
    (void)state;
    struct fx x;
    up(&x);
    /* every function of the fixture: 00:00.0, 00:02.0-2, the switches'
     * ports and the five endpoint functions */
    assert_int_equal(x.k->npdevs, pcie_fabric_fn_count(x.t.f));
    for (size_t i = 1; i < x.k->npdevs; i++)
        assert_true(host_pci_bdf(x.k->pdevs[i - 1]) < host_pci_bdf(x.k->pdevs[i]));
    struct pci_dev *p = host_pci_of_fn(x.k, x.t.e2);
    assert_non_null(p);
    assert_int_equal(p->vendor, 0x8086);
    assert_int_equal(p->device, 0x10d3);
    assert_int_equal(p->class, 0x020000);
    assert_string_equal(dev_name(&p->dev), "0000:06:00.0");
    assert_int_equal(pci_resource_len(p, 0), 1u << 20);
    assert_int_equal(pci_resource_len(p, 2), 16u << 20);
    assert_true(pci_resource_flags(p, 2) & HOST_IORESOURCE_PREFETCH);
    assert_true(pci_resource_flags(p, 2) & HOST_IORESOURCE_MEM_64);
    assert_int_equal(pci_resource_start(p, 0), pcie_cfg_bar_addr(&x.t.d2->cfg, 0));
    assert_int_equal(pci_resource_start(p, 2), pcie_cfg_bar_addr(&x.t.d2->cfg, 2));
    assert_true(p->msi_cap != 0);
    assert_true(p->pcie_cap != 0);
    assert_int_equal(*p->dev.dma_mask, 0xffffffffull);
    struct pci_dev *mf1 = host_pci_of_fn(x.k, x.t.mf1);
    assert_non_null(mf1);
    assert_true(pci_resource_flags(mf1, 1) & HOST_IORESOURCE_IO);
    assert_int_equal(pci_resource_len(mf1, 1), 256);
    /* function 3 of the multi-function device, with no 2 in between */
    assert_non_null(host_pci_of_fn(x.k, x.t.mf3));
    tfab_free(&x.t);
}

static void test_enable_master_mmio(void **state)
{
    (void)state;
    struct fx x;
    up(&x);
    struct host_kernel *prev = host_enter(x.k);
    struct pci_dev *p = host_pci_of_fn(x.k, x.t.e1);
    char line[256];
    /* DMA before pci_set_master: the device may not issue it */
    uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_true(pcie_fn_mem_write(x.t.e1, 0x1000, data, 8, NULL) < 0);

    assert_int_equal(pci_enable_device(p), 0);
    assert_string_equal(last_line(&x, line, sizeof line),
                        "pci 0000:03:00.0: enabling device (0000 -> 0002)");
    uint16_t cmd;
    pci_read_config_word(p, PCIE_CFG_COMMAND, &cmd);
    assert_int_equal(cmd, PCIE_CMD_MEMORY);
    /* the bridges above were enabled with bus mastering */
    assert_true(pcie_cfg_command(pcie_fn_cfg(x.t.rpa)) & PCIE_CMD_BUS_MASTER);
    assert_true(pcie_cfg_command(pcie_fn_cfg(pcie_switch_downstream(x.t.s1, 0))) &
                PCIE_CMD_MEMORY);
    /* a second enable only counts */
    size_t n = sim_log_count(sim_log(x.t.sim));
    assert_int_equal(pci_enable_device(p), 0);
    assert_int_equal(sim_log_count(sim_log(x.t.sim)), n);

    pci_set_master(p);
    assert_true(p->is_busmaster);
    assert_int_equal(pcie_fn_mem_write(x.t.e1, 0x1000, data, 8, NULL), 0);
    sim_run(x.t.sim, 0);
    uint8_t back[8];
    mem_phys_read(x.t.ram, 0x1000, back, 8, NULL);
    assert_memory_equal(back, data, 8);

    /* BAR 2 (32-bit, 4 KiB) through pci_iomap */
    void *regs = pci_iomap(p, 2, 0);
    assert_non_null(regs);
    iowrite32(0xdeadbeef, (char *)regs + 0x10);
    uint32_t v;
    memcpy(&v, x.t.d1->bar[2] + 0x10, 4);
    assert_int_equal(v, 0xdeadbeef);
    memcpy(x.t.d1->bar[2] + 0x20, "\x44\x33\x22\x11", 4);
    assert_int_equal(ioread32((char *)regs + 0x20), 0x11223344);
    assert_int_equal(ioread16((char *)regs + 0x22), 0x1122);
    /* outside the mapping: all-ones and a log line, nothing sent */
    unsigned writes = x.t.d1->writes;
    assert_int_equal(ioread32((char *)regs + 0x1000), 0xffffffffu);
    iowrite32(1, (char *)regs + 0xffe);
    assert_int_equal(x.t.d1->writes, writes);
    assert_non_null(strstr(last_line(&x, line, sizeof line), "outside every pci_iomap"));
    /* a length limit */
    void *small = pci_iomap(p, 2, 0x100);
    assert_int_equal(ioread32((char *)small + 0x100), 0xffffffffu);
    assert_int_equal(ioread32((char *)small + 0x20), 0x11223344);
    pci_iounmap(p, small);
    pci_iounmap(p, regs);
    assert_null(pci_iomap(p, 1, 0)); /* the upper half of a 64-bit BAR */

    pci_disable_device(p);
    assert_true(pcie_cfg_command(pcie_fn_cfg(x.t.e1)) & PCIE_CMD_BUS_MASTER);
    pci_disable_device(p);
    assert_false(pcie_cfg_command(pcie_fn_cfg(x.t.e1)) & PCIE_CMD_BUS_MASTER);
    pci_disable_device(p);
    assert_string_equal(last_line(&x, line, sizeof line),
                        "pci 0000:03:00.0: disabling already-disabled device");
    host_leave(prev);
    tfab_free(&x.t);
}

static void test_regions(void **state)
{
    (void)state;
    struct fx x;
    up(&x);
    struct pci_dev *p = host_pci_of_fn(x.k, x.t.e3);
    char line[256], want[256];
    assert_int_equal(pci_request_regions(p, "drv"), 0);
    assert_int_equal(pci_request_regions(p, "drv"), -EBUSY);
    snprintf(want, sizeof want, "pci 0000:%02x:00.0: BAR 0: can't reserve [mem 0x%08llx-0x%08llx]",
             p->bus->number, (unsigned long long)pci_resource_start(p, 0),
             (unsigned long long)pci_resource_end(p, 0));
    assert_string_equal(last_line(&x, line, sizeof line), want);
    p->dev.driver_name = "drv";
    pci_release_regions(p);
    assert_int_equal(pci_request_region(p, 0, "drv"), 0);
    assert_int_equal(pci_request_region(p, 0, "drv"), -EBUSY);
    assert_non_null(strstr(last_line(&x, line, sizeof line), "drv 0000:"));
    tfab_free(&x.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_enable_master_mmio),
        cmocka_unit_test(test_regions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
