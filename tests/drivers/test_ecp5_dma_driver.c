/* The ecp5_dma driver (src/drivers/ecp5_dma.c) loaded into a booted 4.9.80
 * kernel on an AMD machine, against a register-level model of the board:
 * the probe sequence by its log lines and its effects on configuration
 * space and the board's registers, the vectors with and without interrupt
 * remapping (and MSI-X when offered), the ISR's dump after a device write
 * and an MSI, the module parameter, a failing probe, and remove. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>

#include "drv_machine.h"

#define LOAD_AT (49 * SIM_S)
#define PFX "ecp5_dma 0000:01:00.0: "

static uint16_t cfg_cmd(struct drv_machine *m)
{
    return pcie_cfg_raw_read16(&m->ecp5.cfg, PCIE_CFG_COMMAND);
}

static uint16_t msi_ctrl(struct drv_machine *m)
{
    return pcie_cfg_raw_read16(&m->ecp5.cfg, pcie_cap_find(&m->ecp5.cfg, PCIE_CAP_ID_MSI) +
                                                 PCIE_MSI_CTRL);
}

/* insmod at t = 49 s as an event, and the probe's lines, effects and the
 * handle the board was given, with the IOMMU and interrupt remapping on. */
static void test_probe_with_iommu(void **state)
{
    (void)state;
    struct drv_machine m;
    struct drv_machine_opts o = {0};
    drv_machine_build(&m, &o);
    assert_non_null(host_amd_iommu_of(m.k));
    uint16_t before = cfg_cmd(&m);
    assert_int_equal(before & PCIE_CMD_BUS_MASTER, 0);

    assert_int_equal(host_module_load_at(m.k, LOAD_AT, &kmod_ecp5_dma, NULL, &m.err), 0);
    const struct host_module_inst *mi = host_module_find(m.k, "ecp5_dma");
    assert_non_null(mi);
    assert_int_equal(host_module_state(mi), HOST_MODULE_SCHEDULED);
    assert_null(m.ecp5_pdev->dev.driver_name);
    drv_run(&m, LOAD_AT + SIM_MS);
    assert_int_equal(host_module_state(mi), HOST_MODULE_LIVE);
    assert_int_equal(host_module_init_result(mi), 0);

    /* bound, and its lines in order, stamped 49 s */
    assert_string_equal(m.ecp5_pdev->dev.driver_name, "ecp5_dma");
    assert_ptr_equal(host_pci_dev_driver(m.k, m.ecp5_pdev)->name, m.ecp5_pdev->dev.driver_name);
    assert_null(host_pci_dev_driver(m.k, m.can_pdev));
    struct sim_log_rec r;
    long taint = drv_log_find(&m, 0, "ecp5_dma: loading out-of-tree module taints kernel.", &r);
    assert_true(taint >= 0);
    assert_int_equal(r.ts, LOAD_AT);
    assert_int_equal(r.level, 4);
    long en = drv_log_find(&m, (size_t)taint, PFX "enabling device (0000 -> 0002)", NULL);
    long mask = drv_log_find(&m, (size_t)taint, PFX "DMA mask: 32 bits", NULL);
    long buf = drv_log_find(&m, (size_t)taint, PFX "DMA buffer: 4096 bytes, handle 0x", &r);
    assert_true(en > taint && mask > en && buf > mask);
    assert_int_equal(r.ts, LOAD_AT);
    uint64_t handle = strtoull(strstr(r.text, "handle ") + 7, NULL, 16);
    long vec = drv_log_find(&m, (size_t)buf, PFX "2 MSI vectors: DMA done on IRQ ", &r);
    assert_true(vec > buf);
    unsigned irq0 = 0, irq1 = 0;
    assert_int_equal(sscanf(r.text, PFX "2 MSI vectors: DMA done on IRQ %u, UART on IRQ %u",
                            &irq0, &irq1), 2);
    long go = drv_log_find(&m, (size_t)vec,
                           PFX "DMA enabled: 128 bytes every 2500 us, read-back at offset 0x40",
                           NULL);
    assert_true(go > vec);

    /* configuration space: memory decode and bus mastering on, 2 MSI vectors */
    assert_int_equal(cfg_cmd(&m) & (PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER),
                     PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER);
    assert_true(msi_ctrl(&m) & PCIE_MSI_CTRL_ENABLE);
    assert_int_equal((msi_ctrl(&m) & PCIE_MSI_CTRL_MME_MASK) >> PCIE_MSI_CTRL_MME_SHIFT, 1);
    assert_int_equal(m.ecp5_pdev->regions & 1u, 1u);
    assert_int_equal(m.ecp5_pdev->nvec, 2);
    assert_true(m.ecp5_pdev->msi_remapped);
    assert_int_equal(irq1, irq0 + 1);
    struct host_irq_desc *d0 = host_irq_desc(m.k, irq0), *d1 = host_irq_desc(m.k, irq1);
    assert_non_null(d0);
    assert_non_null(d1);
    assert_string_equal(d0->name, "ecp5_dma");
    assert_string_equal(d1->name, "ecp5_dma-uart");

    /* the board holds the handle (an IOVA below 4 GiB, not a CPU physical
     * address: the IOMMU translates it) and is enabled */
    assert_int_equal(regdev_dma_addr(&m.ecp5), handle);
    assert_true(handle < (1ull << 32) && handle != 0);
    /* EN, DMA_IRQ_EN, UART_IRQ_EN, and READ_EN kept from reset */
    assert_int_equal(m.ecp5.reg[R_CTRL], 0xfu);
    drv_machine_free(&m);
}

/* The board writes, then signals: the ISR prints the buffer's dwords and
 * acknowledges; the UART's vector runs the UART handler. */
static void test_isr_prints_buffer(void **state)
{
    (void)state;
    struct drv_machine m;
    struct drv_machine_opts o = {0};
    drv_machine_build(&m, &o);
    assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, NULL, &m.err), 0);
    assert_int_equal(ecp5_cycle(&m.ecp5, 0xdeadbeef, 0x01234567), 0);
    drv_run(&m, SIM_MS);
    struct sim_log_rec r;
    assert_true(drv_log_find(&m, 0, PFX "DMA done: deadbeef 01234567", &r) >= 0);
    assert_int_equal(r.level, 6);
    assert_int_equal(m.ecp5.reg[R_STATUS] & 1u, 0); /* acknowledged */

    assert_int_equal(ecp5_uart_event(&m.ecp5), 0);
    drv_run(&m, SIM_MS);
    assert_int_equal(m.ecp5.uart_acks, 1);
    assert_int_equal(m.ecp5.reg[R_UART_STATUS], 0);
    /* the UART's interrupt did not run the DMA handler */
    assert_int_equal(drv_log_count_prefix(&m, PFX "DMA done:"), 1);

    /* a second cycle with other data */
    assert_int_equal(ecp5_cycle(&m.ecp5, 0x0badf00d, 0xcafe0001), 0);
    drv_run(&m, SIM_MS);
    assert_true(drv_log_find(&m, 0, PFX "DMA done: 0badf00d cafe0001", NULL) >= 0);
    assert_int_equal(drv_log_count_prefix(&m, PFX "DMA done:"), 2);
    drv_machine_free(&m);
}

/* iommu=off: x86 grants one MSI vector without interrupt remapping; the
 * driver says so and serves both sources from one handler by the status
 * register. The handle is the buffer's physical address. */
static void test_one_vector_without_remapping(void **state)
{
    (void)state;
    struct drv_machine m;
    struct drv_machine_opts o = {.cmdline = "iommu=off"};
    drv_machine_build(&m, &o);
    assert_null(host_amd_iommu_of(m.k));
    assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, NULL, &m.err), 0);
    struct sim_log_rec r;
    assert_true(drv_log_find(&m, 0, PFX "1 MSI vector of the 2 asked for: DMA done and UART "
                             "share IRQ ", &r) >= 0);
    assert_non_null(strstr(r.text, ", told apart by the status register"));
    assert_int_equal(m.ecp5_pdev->nvec, 1);
    assert_int_equal((msi_ctrl(&m) & PCIE_MSI_CTRL_MME_MASK) >> PCIE_MSI_CTRL_MME_SHIFT, 0);

    assert_int_equal(drv_log_find(&m, 0, PFX "DMA buffer: 4096 bytes, handle 0x", &r) >= 0, 1);
    uint64_t handle = strtoull(strstr(r.text, "handle ") + 7, NULL, 16);
    assert_int_equal(regdev_dma_addr(&m.ecp5), handle);

    assert_int_equal(ecp5_cycle(&m.ecp5, 0x11223344, 0x55667788), 0);
    drv_run(&m, SIM_MS);
    assert_true(drv_log_find(&m, 0, PFX "DMA done: 11223344 55667788", NULL) >= 0);
    assert_int_equal(m.ecp5.reg[R_STATUS], 0);
    /* the UART arrives on the same vector and is told apart */
    assert_int_equal(ecp5_uart_event(&m.ecp5), 0);
    drv_run(&m, SIM_MS);
    assert_int_equal(m.ecp5.uart_acks, 1);
    assert_int_equal(drv_log_count_prefix(&m, PFX "DMA done:"), 1);
    assert_int_equal(m.ecp5.reg[R_STATUS], 0);
    assert_int_equal(m.ecp5.reg[R_UART_STATUS], 0);
    drv_machine_free(&m);
}

/* A board that offers MSI-X gets its 2 vectors even without remapping. */
static void test_msix_first(void **state)
{
    (void)state;
    struct drv_machine m;
    struct drv_machine_opts o = {.cmdline = "iommu=off", .msix = true};
    drv_machine_build(&m, &o);
    assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, NULL, &m.err), 0);
    assert_true(drv_log_find(&m, 0, PFX "2 MSI-X vectors: DMA done on IRQ ", NULL) >= 0);
    assert_true(m.ecp5_pdev->msix_enabled);
    assert_false(m.ecp5_pdev->msi_enabled);
    assert_int_equal(ecp5_cycle(&m.ecp5, 0xa0a0a0a0, 0x0b0b0b0b), 0);
    drv_run(&m, SIM_MS);
    assert_true(drv_log_find(&m, 0, PFX "DMA done: a0a0a0a0 0b0b0b0b", NULL) >= 0);
    assert_int_equal(ecp5_uart_event(&m.ecp5), 0);
    drv_run(&m, SIM_MS);
    assert_int_equal(m.ecp5.uart_acks, 1);
    assert_int_equal(drv_log_count_prefix(&m, PFX "DMA done:"), 1);
    drv_machine_free(&m);
}

/* rmmod: remove stops the board and gives back vectors, IRQs, regions, bus
 * mastering and the DMA buffer; a second load/unload cycle ends where the
 * first did (no pages leak). */
static void test_remove_frees_everything(void **state)
{
    (void)state;
    struct drv_machine m;
    struct drv_machine_opts o = {0};
    drv_machine_build(&m, &o);
    uint64_t free_before[2];
    unsigned irqs[2] = {0, 0};
    for (int cycle = 0; cycle < 2; cycle++) {
        assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, NULL, &m.err), 0);
        irqs[0] = m.ecp5_pdev->irq;
        irqs[1] = m.ecp5_pdev->irq + 1;
        assert_non_null(host_irq_desc(m.k, irqs[1]));
        assert_int_equal(ecp5_cycle(&m.ecp5, 1, 2), 0);
        assert_int_equal(ecp5_uart_event(&m.ecp5), 0);
        drv_run(&m, SIM_MS);
        assert_int_equal(host_module_unload(m.k, "ecp5_dma", &m.err), 0);
        assert_int_equal(host_module_state(host_module_find(m.k, "ecp5_dma")), HOST_MODULE_GONE);
        free_before[cycle] = drv_free_pages(&m);
        assert_true(drv_log_find(&m, 0, PFX "removed after 1 DMA and 1 UART interrupts", NULL)
                    >= 0);
        assert_null(m.ecp5_pdev->dev.driver_name);
        assert_null(m.ecp5_pdev->dev.driver_data);
        assert_null(host_pci_dev_driver(m.k, m.ecp5_pdev));
        assert_int_equal(m.ecp5_pdev->regions, 0);
        assert_int_equal(m.ecp5_pdev->enable_cnt, 0);
        assert_int_equal(m.ecp5_pdev->nvec, 0);
        assert_false(m.ecp5_pdev->msi_enabled);
        assert_false(msi_ctrl(&m) & PCIE_MSI_CTRL_ENABLE);
        assert_int_equal(cfg_cmd(&m) & PCIE_CMD_BUS_MASTER, 0);
        assert_null(host_irq_desc(m.k, irqs[0]));
        assert_null(host_irq_desc(m.k, irqs[1]));
        assert_int_equal(m.ecp5.reg[R_CTRL], 0);
        assert_int_equal(regdev_dma_addr(&m.ecp5), 0);
        /* a board that keeps signalling after remove reaches no handler */
        assert_int_not_equal(ecp5_cycle(&m.ecp5, 3, 4), 0);
    }
    assert_int_equal(free_before[1], free_before[0]);
    assert_int_equal(drv_log_count_prefix(&m, "ecp5_dma: loading out-of-tree"), 1);
    drv_machine_free(&m);
}

/* dma_bits=64 reaches probe; the next load without it is back to 32 (the
 * variable holds a load's value only while its init runs). A bad value
 * fails the load with Linux's line; an unknown parameter is ignored. */
static void test_module_parameter(void **state)
{
    (void)state;
    struct drv_machine m;
    struct drv_machine_opts o = {0};
    drv_machine_build(&m, &o);
    struct host_module_load_opts lo = {.params = "dma_bits=64"};
    assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, &lo, &m.err), 0);
    assert_true(drv_log_find(&m, 0, PFX "DMA mask: 64 bits", NULL) >= 0);
    assert_int_equal(*m.ecp5_pdev->dev.dma_mask, ~0ull);
    assert_int_equal(host_module_unload(m.k, "ecp5_dma", &m.err), 0);

    size_t mark = sim_log_count(sim_log(m.sim));
    assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, NULL, &m.err), 0);
    assert_true(drv_log_find(&m, mark, PFX "DMA mask: 32 bits", NULL) >= 0);
    assert_int_equal(*m.ecp5_pdev->dev.dma_mask, 0xffffffffull);
    assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, NULL, &m.err), -EEXIST);
    assert_int_equal(host_module_unload(m.k, "ecp5_dma", &m.err), 0);

    struct host_module_load_opts bad = {.params = "dma_bits=abc"};
    assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, &bad, &m.err), -EINVAL);
    assert_int_equal(m.err.code, PCILAB_EINVAL);
    assert_non_null(strstr(m.err.msg, "dma_bits"));
    assert_true(drv_log_find(&m, 0, "ecp5_dma: `abc' invalid for parameter `dma_bits'", NULL)
                >= 0);
    assert_null(m.ecp5_pdev->dev.driver_name);

    struct host_module_load_opts unk = {.params = "foo=1 dma-bits=64"};
    mark = sim_log_count(sim_log(m.sim));
    assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, &unk, &m.err), 0);
    assert_true(drv_log_find(&m, mark, "ecp5_dma: unknown parameter 'foo' ignored", NULL) >= 0);
    assert_true(drv_log_find(&m, mark, PFX "DMA mask: 64 bits", NULL) >= 0);
    drv_machine_free(&m);
}

/* A probe that fails undoes its steps, and the core prints Linux's line. */
static void test_probe_failure(void **state)
{
    (void)state;
    struct drv_machine m;
    struct drv_machine_opts o = {0};
    drv_machine_build(&m, &o);
    uint64_t free0 = drv_free_pages(&m);
    struct host_module_load_opts lo = {.params = "dma_bits=48"};
    assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, &lo, &m.err), 0);
    struct sim_log_rec r;
    assert_true(drv_log_find(&m, 0, PFX "dma_bits=48: must be 32 or 64", &r) >= 0);
    assert_int_equal(r.level, 3);
    assert_true(drv_log_find(&m, 0, "ecp5_dma: probe of 0000:01:00.0 failed with error -22", &r)
                >= 0);
    assert_int_equal(r.level, 4);
    assert_null(m.ecp5_pdev->dev.driver_name);
    assert_null(host_pci_dev_driver(m.k, m.ecp5_pdev));
    assert_int_equal(m.ecp5_pdev->regions, 0);
    assert_int_equal(m.ecp5_pdev->enable_cnt, 0);
    assert_int_equal(cfg_cmd(&m) & PCIE_CMD_BUS_MASTER, 0);
    assert_int_equal(m.ecp5_pdev->nvec, 0);
    /* at most the slab page of the driver's kzalloc stays */
    assert_true(free0 - drv_free_pages(&m) <= 1);
    /* the module itself loaded (its init registered the driver) */
    assert_int_equal(host_module_state(host_module_find(m.k, "ecp5_dma")), HOST_MODULE_LIVE);
    assert_int_equal(host_module_unload(m.k, "ecp5_dma", &m.err), 0);
    drv_machine_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_with_iommu),
        cmocka_unit_test(test_isr_prints_buffer),
        cmocka_unit_test(test_one_vector_without_remapping),
        cmocka_unit_test(test_msix_first),
        cmocka_unit_test(test_remove_frees_everything),
        cmocka_unit_test(test_module_parameter),
        cmocka_unit_test(test_probe_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
