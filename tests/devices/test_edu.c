/* QEMU's edu device on a small fabric (dev_fixture.h): registers and their
 * access sizes, the factorial after its delay, interrupts (MSI and INTx),
 * DMA both ways as MRd/MWr split at MRRS/MPS, the 28-bit clamp of the host
 * address, the buffer's range and the error that stops the device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev_fixture.h"
#include "devices/edu.h"

#define SRC 0x0123000ull
#define DST 0x0456000ull

static struct dfix *edu(const struct dev_param *p, size_t n, bool msi)
{
    struct dfix *d = dfix_new(edu_cfg_init);
    assert_int_equal(dfix_attach(d, "edu", p, n), 0);
    if (msi)
        dfix_msi(d, 1, 0x4041);
    return d;
}

static uint64_t r64(struct dfix *d, unsigned off)
{
    uint8_t b[8];
    assert_int_equal(pcie_host_mem_read(d->f, d->bar0 + off, b, 8), PCIE_REQ_SC);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static void w64(struct dfix *d, unsigned off, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    assert_int_equal(pcie_host_mem_write(d->f, d->bar0 + off, b, 8), PCIE_REQ_SC);
}

static void test_config_and_registers(void **state)
{
    (void)state;
    struct dfix *d = edu(NULL, 0, false);
    uint32_t v;
    pcie_host_cfg_read(d->f, d->bdf, 0, 4, &v);
    assert_int_equal(v, 0x11e81234u);
    pcie_host_cfg_read(d->f, d->bdf, 8, 4, &v);
    assert_int_equal(v, 0x00ff0010u); /* class 00ff00, revision 10 */
    assert_int_equal(pcie_cfg_bar_size(&d->cfg, 0), 1u << 20);
    assert_int_equal(d->msi_cap, 0x40);

    assert_int_equal(dfix_r32(d, EDU_REG_ID), 0x010000edu);
    dfix_w32(d, EDU_REG_LIVENESS, 0x12345678);
    assert_int_equal(dfix_r32(d, EDU_REG_LIVENESS), ~0x12345678u);
    /* below 0x80 only 4-byte accesses: an 8-byte read is all ones, a 2-byte
     * write is ignored */
    assert_true(r64(d, EDU_REG_ID) == ~0ull);
    uint8_t two[2] = {0x11, 0x22};
    assert_int_equal(pcie_host_mem_write(d->f, d->bar0 + EDU_REG_LIVENESS, two, 2), PCIE_REQ_SC);
    assert_int_equal(dfix_r32(d, EDU_REG_LIVENESS), ~0x12345678u);
    /* not a register */
    assert_int_equal(dfix_r32(d, 0x10), 0xffffffffu);
    assert_int_equal(dfix_r32(d, 0x60), 0xffffffffu); /* raise is write-only */
    /* DMA registers: 8 bytes set all 64 bits, 4 bytes the whole value (upper half 0) */
    w64(d, EDU_REG_DMA_SRC, 0x1122334455667788ull);
    assert_true(r64(d, EDU_REG_DMA_SRC) == 0x1122334455667788ull);
    dfix_w32(d, EDU_REG_DMA_SRC, 0xabcd0000u);
    assert_true(r64(d, EDU_REG_DMA_SRC) == 0xabcd0000ull);
    assert_int_equal(dfix_r32(d, EDU_REG_DMA_SRC + 4), 0xffffffffu); /* no register there */
    dfix_w32(d, EDU_REG_DMA_SRC + 4, 0x1);                          /* ignored */
    assert_true(r64(d, EDU_REG_DMA_SRC) == 0xabcd0000ull);
    /* a command without RUN is ignored */
    dfix_w32(d, EDU_REG_DMA_CMD, EDU_DMA_TO_RAM);
    assert_int_equal(dfix_r32(d, EDU_REG_DMA_CMD), 0);
    dfix_free(d);
}

static void test_factorial(void **state)
{
    (void)state;
    struct dev_param p[] = {{"fact_delay", "1ms"}};
    struct dfix *d = edu(p, 1, true);
    dfix_w32(d, EDU_REG_STATUS, 0xff); /* only IRQFACT is writable */
    assert_int_equal(dfix_r32(d, EDU_REG_STATUS), EDU_STATUS_IRQFACT);
    dfix_w32(d, EDU_REG_FACT, 10);
    assert_int_equal(dfix_r32(d, EDU_REG_STATUS), EDU_STATUS_IRQFACT | EDU_STATUS_COMPUTING);
    dfix_w32(d, EDU_REG_FACT, 3); /* ignored while computing */
    sim_run_until(d->sim, SIM_MS - 1);
    assert_int_equal(dfix_r32(d, EDU_REG_FACT), 10);
    assert_int_equal(d->nirqs, 0);
    sim_run_until(d->sim, 2 * SIM_MS);
    assert_int_equal(dfix_r32(d, EDU_REG_FACT), 3628800);
    assert_int_equal(dfix_r32(d, EDU_REG_STATUS), EDU_STATUS_IRQFACT);
    assert_int_equal(d->nirqs, 1);
    assert_int_equal(d->irqs[0].data, 0x4041);
    assert_int_equal(dfix_r32(d, EDU_REG_IRQ_STATUS), EDU_IRQ_FACT);
    dfix_w32(d, EDU_REG_IRQ_ACK, EDU_IRQ_FACT);
    assert_int_equal(dfix_r32(d, EDU_REG_IRQ_STATUS), 0);
    /* 13! wraps in 32 bits as QEMU's uint32_t does */
    dfix_w32(d, EDU_REG_STATUS, 0);
    dfix_w32(d, EDU_REG_FACT, 13);
    sim_run_until(d->sim, 4 * SIM_MS);
    assert_int_equal(dfix_r32(d, EDU_REG_FACT), (uint32_t)6227020800ull);
    assert_int_equal(d->nirqs, 1); /* IRQFACT clear: no interrupt */
    dfix_free(d);
}

static void test_irq_raise_msi_and_intx(void **state)
{
    (void)state;
    struct dfix *d = edu(NULL, 0, false);
    /* INTx: raise asserts, the Interrupt Status bit follows, ack deasserts */
    dfix_w32(d, EDU_REG_IRQ_RAISE, 0x30);
    assert_int_equal(dfix_r32(d, EDU_REG_IRQ_STATUS), 0x30);
    assert_true(pcie_cfg_status(&d->cfg) & PCIE_STS_INTX);
    dfix_w32(d, EDU_REG_IRQ_ACK, 0x10);
    assert_true(pcie_cfg_status(&d->cfg) & PCIE_STS_INTX);
    dfix_w32(d, EDU_REG_IRQ_ACK, 0x20);
    assert_false(pcie_cfg_status(&d->cfg) & PCIE_STS_INTX);
    assert_int_equal(d->nirqs, 0);
    /* MSI: one message per raise while the status is not 0 */
    dfix_msi(d, 1, 0x4055);
    dfix_w32(d, EDU_REG_IRQ_RAISE, 0x1);
    dfix_w32(d, EDU_REG_IRQ_RAISE, 0x0);
    sim_run_until(d->sim, 10 * SIM_US);
    assert_int_equal(d->nirqs, 2);
    dfix_w32(d, EDU_REG_IRQ_ACK, 0x1);
    dfix_w32(d, EDU_REG_IRQ_RAISE, 0x0);
    sim_run_until(d->sim, 20 * SIM_US);
    assert_int_equal(d->nirqs, 2);
    assert_false(pcie_cfg_status(&d->cfg) & PCIE_STS_INTX);
    dfix_free(d);
}

static void start_dma(struct dfix *d, uint64_t src, uint64_t dst, uint32_t cnt, uint32_t cmd)
{
    dfix_w32(d, EDU_REG_DMA_SRC, (uint32_t)src);
    dfix_w32(d, EDU_REG_DMA_DST, (uint32_t)dst);
    if (src >> 32 || dst >> 32) {
        w64(d, EDU_REG_DMA_SRC, src);
        w64(d, EDU_REG_DMA_DST, dst);
    }
    dfix_w32(d, EDU_REG_DMA_CNT, cnt);
    dfix_w32(d, EDU_REG_DMA_CMD, cmd);
}

static void test_dma_both_ways(void **state)
{
    (void)state;
    struct dfix *d = edu(NULL, 0, true);
    uint8_t pat[2048], got[2048];
    for (unsigned i = 0; i < sizeof pat; i++)
        pat[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(mem_phys_write(d->ram, SRC, pat, sizeof pat, NULL), 0);
    start_dma(d, SRC, EDU_DMA_START, 2048, EDU_DMA_RUN | EDU_DMA_IRQ);
    assert_int_equal(dfix_r32(d, EDU_REG_DMA_CMD), EDU_DMA_RUN | EDU_DMA_IRQ);
    dfix_w32(d, EDU_REG_DMA_CNT, 16); /* ignored while RUN */
    assert_int_equal(dfix_r32(d, EDU_REG_DMA_CNT), 2048);
    sim_run_until(d->sim, 100 * SIM_MS - 1);
    assert_int_equal(d->nrecs, 0);
    sim_run_until(d->sim, 101 * SIM_MS);
    /* no PCI Express capability: MRRS 512 -> 4 MRds from the captured ID */
    size_t reads = 0;
    for (size_t i = 0; i < d->nrecs; i++)
        if (rec_is_read(&d->recs[i])) {
            assert_int_equal(rec_addr(&d->recs[i]), SRC + 512 * reads);
            assert_int_equal(rec_len_dw(&d->recs[i]), 128);
            assert_int_equal(rec_rid(&d->recs[i]), 0x0100);
            reads++;
        }
    assert_int_equal(reads, 4);
    assert_int_equal(dfix_r32(d, EDU_REG_DMA_CMD), EDU_DMA_IRQ);
    assert_int_equal(dfix_r32(d, EDU_REG_IRQ_STATUS), EDU_IRQ_DMA);
    assert_int_equal(d->nirqs, 1);
    dfix_w32(d, EDU_REG_IRQ_ACK, EDU_IRQ_DMA);

    /* back to RAM at offset 0 of the buffer: 16 MWrs at MPS 128 */
    size_t before = d->nrecs;
    start_dma(d, EDU_DMA_START, DST, 2048, EDU_DMA_RUN | EDU_DMA_TO_RAM);
    sim_run_until(d->sim, 202 * SIM_MS);
    size_t writes = 0;
    for (size_t i = before; i < d->nrecs; i++)
        if (rec_is_write(&d->recs[i]) && rec_addr(&d->recs[i]) != 0xfee00000ull) {
            assert_int_equal(rec_addr(&d->recs[i]), DST + 128 * writes);
            assert_int_equal(rec_len_dw(&d->recs[i]), 32);
            writes++;
        }
    assert_int_equal(writes, 16);
    assert_int_equal(mem_phys_read(d->ram, DST, got, sizeof got, NULL), 0);
    assert_memory_equal(got, pat, sizeof pat);
    assert_int_equal(d->nirqs, 1); /* bit 2 clear: no interrupt */
    assert_int_equal(dfix_r32(d, EDU_REG_DMA_CMD), EDU_DMA_TO_RAM);
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.read_tlps, 4);
    assert_int_equal(c.reads_completed, 4);
    assert_int_equal(c.read_bytes, 2048);
    assert_int_equal(c.write_tlps, 16);
    assert_int_equal(c.write_bytes, 2048);
    assert_null(dev_model_error(d->m));
    dfix_free(d);
}

static void test_dma_mask_clamp_and_offset(void **state)
{
    (void)state;
    struct dfix *d = edu(NULL, 0, false);
    /* the device's buffer at offset 0x100 written to 0x1_0045_6010: the
     * host address loses its bits above 28 (0x0456010) */
    start_dma(d, EDU_DMA_START + 0x100, 0x100456010ull, 8, EDU_DMA_RUN | EDU_DMA_TO_RAM);
    sim_run_until(d->sim, 101 * SIM_MS);
    assert_int_equal(d->nrecs, 1);
    assert_int_equal(rec_addr(&d->recs[0]), 0x0456010ull);
    /* dma_bits=40 keeps it */
    assert_int_equal(dev_model_set(d->m, "dma_bits", "40", &d->err), 0);
    start_dma(d, EDU_DMA_START, 0x100456010ull, 8, EDU_DMA_RUN | EDU_DMA_TO_RAM);
    sim_run_until(d->sim, 202 * SIM_MS);
    assert_int_equal(d->nrecs, 2);
    assert_int_equal(rec_addr(&d->recs[1]), 0x100456010ull);
    assert_int_equal(rec_hdr_dw(&d->recs[1]), 4);
    dfix_free(d);
}

static void test_whole_buffer_and_out_of_range(void **state)
{
    (void)state;
    struct dfix *d = edu(NULL, 0, false);
    /* the whole 4 KiB buffer is accepted (QEMU 7.2 stops there, off by one) */
    start_dma(d, EDU_DMA_START, DST, 4096, EDU_DMA_RUN | EDU_DMA_TO_RAM);
    sim_run_until(d->sim, 101 * SIM_MS);
    assert_int_equal(d->nrecs, 32);
    assert_int_equal(dfix_r32(d, EDU_REG_DMA_CMD), EDU_DMA_TO_RAM);
    /* one byte more halts the device: nothing moves, RUN stays set */
    start_dma(d, EDU_DMA_START, DST, 4097, EDU_DMA_RUN | EDU_DMA_TO_RAM);
    sim_run_until(d->sim, 300 * SIM_MS);
    assert_int_equal(d->nrecs, 32);
    assert_int_equal(dfix_r32(d, EDU_REG_DMA_CMD), EDU_DMA_RUN | EDU_DMA_TO_RAM);
    const char *e = dev_model_error(d->m);
    assert_non_null(e);
    assert_non_null(strstr(e, "DMA range 0x0000000000040000-0x0000000000041000 out of bounds "
                              "(0x0000000000040000-0x0000000000040fff)"));
    /* and stays stopped */
    dfix_w32(d, EDU_REG_DMA_CNT, 8);
    assert_int_equal(dfix_r32(d, EDU_REG_DMA_CNT), 4097);
    dfix_free(d);

    /* a buffer address below 0x40000 is out of range too */
    d = edu(NULL, 0, false);
    start_dma(d, SRC, 0x3ff00, 16, EDU_DMA_RUN);
    sim_run_until(d->sim, 101 * SIM_MS);
    assert_int_equal(d->nrecs, 0);
    assert_non_null(dev_model_error(d->m));
    dfix_free(d);
}

static void test_no_bus_master(void **state)
{
    (void)state;
    struct dfix *d = edu(NULL, 0, true);
    uint32_t cmd;
    pcie_host_cfg_read(d->f, d->bdf, PCIE_CFG_COMMAND, 2, &cmd);
    dfix_cfgw(d, PCIE_CFG_COMMAND, 2, cmd & ~PCIE_CMD_BUS_MASTER);
    start_dma(d, EDU_DMA_START, DST, 64, EDU_DMA_RUN | EDU_DMA_TO_RAM | EDU_DMA_IRQ);
    sim_run_until(d->sim, 101 * SIM_MS);
    assert_int_equal(d->nrecs, 0); /* no request, no MSI (7.5.1.1.3) */
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.skipped, 1);
    assert_int_equal(dfix_r32(d, EDU_REG_DMA_CMD), EDU_DMA_TO_RAM | EDU_DMA_IRQ);
    dfix_free(d);
}

static void test_params(void **state)
{
    (void)state;
    struct dfix *d = dfix_new(edu_cfg_init);
    struct dev_param bad[] = {{"dma_bits", "65"}};
    assert_int_equal(dfix_attach(d, "edu", bad, 1), -PCILAB_EINVAL);
    assert_non_null(strstr(d->err.msg, "dma_bits"));
    struct dev_param ok[] = {{"dma_bits", "32"}, {"requester_id", "00:03.0"}, {"dma_delay", "1ms"}};
    assert_int_equal(dfix_attach(d, "edu", ok, 3), 0);
    assert_string_equal(dev_model_param(d->m, "requester_id"), "00:03.0");
    start_dma(d, EDU_DMA_START, DST, 4, EDU_DMA_RUN | EDU_DMA_TO_RAM);
    sim_run_until(d->sim, 2 * SIM_MS);
    assert_int_equal(d->nrecs, 1);
    assert_int_equal(rec_rid(&d->recs[0]), 0x0018);
    dfix_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_and_registers),
        cmocka_unit_test(test_factorial),
        cmocka_unit_test(test_irq_raise_msi_and_intx),
        cmocka_unit_test(test_dma_both_ways),
        cmocka_unit_test(test_dma_mask_clamp_and_offset),
        cmocka_unit_test(test_whole_buffer_and_out_of_range),
        cmocka_unit_test(test_no_bus_master),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
