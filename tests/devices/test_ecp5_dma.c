/* The seed's ECP5 DMA board on a small fabric (dev_fixture.h), programmed by
 * configuration and MMIO requests as its driver would: the TLPs of one cycle
 * decoded from their bytes (requester ID per engine, 3 vs 4 DW headers,
 * lengths, addresses), the pattern in memory, MSI data, the read's
 * completion, the period, the MPS split and oversized writes, the UART
 * vector and its folding onto vector 0, Bus Master Enable, registers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "dev_fixture.h"

#define DMA_ADDR 0x7fbf8000ull

static struct dfix *board(const struct dev_param *p, size_t n)
{
    struct dfix *d = dfix_new(ecp5_dma_cfg_init);
    assert_int_equal(dfix_attach(d, "ecp5_dma", p, n), 0);
    assert_non_null(d->m);
    return d;
}

/* What the seed's driver does after probe: MSI with 2 vectors, the DMA
 * handle into the address registers (high first, the low write starts it). */
static void driver_init(struct dfix *d, uint64_t addr, unsigned vectors)
{
    dfix_msi(d, vectors, 0x4020);
    dfix_w32(d, ECP5_DMA_REG_DMA_ADDR_HI, (uint32_t)(addr >> 32));
    dfix_w32(d, ECP5_DMA_REG_DMA_ADDR_LO, (uint32_t)addr);
}

static size_t count_writes(struct dfix *d, uint64_t lo, uint64_t hi)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nrecs; i++)
        if (rec_is_write(&d->recs[i]) && rec_addr(&d->recs[i]) >= lo && rec_addr(&d->recs[i]) < hi)
            n++;
    return n;
}

/* The seed: write with 0000, MSI and read with the captured 01:00.0. */
static void test_seed_cycle(void **state)
{
    (void)state;
    struct dfix *d = board(NULL, 0);
    assert_int_equal(d->bdf, 0x0100);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_ID), ECP5_DMA_ID);
    driver_init(d, DMA_ADDR, 2);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_CONTROL), 0xf);
    sim_run_until(d->sim, 2500 * SIM_US - 1);
    assert_int_equal(d->nrecs, 0); /* nothing before the first period */
    sim_run_until(d->sim, 2600 * SIM_US);

    /* MWr, MSI MWr, MRd in that order */
    assert_int_equal(d->nrecs, 3);
    struct dfix_rec *w = &d->recs[0], *msi = &d->recs[1], *rd = &d->recs[2];
    assert_true(rec_is_write(w));
    assert_int_equal(rec_fmt(w), 2); /* 010b: 3 DW with data */
    assert_int_equal(rec_rid(w), 0x0000);
    assert_int_equal(rec_addr(w), DMA_ADDR);
    assert_int_equal(rec_len_dw(w), 32);
    assert_int_equal(rec_data0(w), 0xEC5D0001u);
    assert_true(w->t >= 2500 * SIM_US && w->t < 2510 * SIM_US);

    assert_true(rec_is_write(msi));
    assert_int_equal(rec_rid(msi), 0x0100);
    assert_int_equal(rec_addr(msi), 0xfee00000ull);
    assert_int_equal(rec_len_dw(msi), 1);
    assert_int_equal(rec_data0(msi), 0x4020);

    assert_true(rec_is_read(rd));
    assert_int_equal(rec_fmt(rd), 0); /* 000b: 3 DW without data */
    assert_int_equal(rec_rid(rd), 0x0100);
    assert_int_equal(rec_addr(rd), DMA_ADDR + 0x40);
    assert_int_equal(rec_len_dw(rd), 1);

    /* the data landed (no IOMMU here): the documented pattern */
    uint32_t v;
    for (uint32_t i = 0; i < 32; i++) {
        assert_int_equal(mem_phys_read32(d->ram, DMA_ADDR + 4 * i, &v, NULL), 0);
        assert_int_equal(v, ecp5_dma_pattern(1, i));
    }
    assert_int_equal(mem_phys_read32(d->ram, DMA_ADDR + 128, &v, NULL), 0);
    assert_int_equal(v, 0);
    /* the interrupt: vector 0's data from the captured ID */
    assert_int_equal(d->nirqs, 1);
    assert_int_equal(d->irqs[0].rid, 0x0100);
    assert_int_equal(d->irqs[0].data, 0x4020);
    /* the read completed: READ_DATA0 = DW 16 of transfer 1 */
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_READ_DATA0), ecp5_dma_pattern(1, 16));
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_SEQ), 1);
    uint32_t st = dfix_r32(d, ECP5_DMA_REG_STATUS);
    assert_int_equal(st, ECP5_DMA_STS_DMA_DONE | ECP5_DMA_STS_READ_DONE);
    dfix_w32(d, ECP5_DMA_REG_STATUS, ECP5_DMA_STS_DMA_DONE); /* RW1C */
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_STATUS), ECP5_DMA_STS_READ_DONE);

    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.tlps, 3);
    assert_int_equal(c.write_tlps, 1);
    assert_int_equal(c.write_bytes, 128);
    assert_int_equal(c.read_tlps, 1);
    assert_int_equal(c.reads_completed, 1);
    assert_int_equal(c.read_bytes, 4);
    assert_int_equal(c.msis, 1);
    assert_int_equal(c.cycles, 1);
    assert_int_equal(c.cpl_ur + c.cpl_ca + c.read_timeouts, 0);
    dfix_free(d);
}

/* One cycle every period: the writes arrive exactly `period` apart. */
static void test_period(void **state)
{
    (void)state;
    struct dev_param p[] = {{"period", "1ms"}, {"uart_period", "0s"}};
    struct dfix *d = board(p, 2);
    driver_init(d, DMA_ADDR, 2);
    sim_run_until(d->sim, 10 * SIM_MS + 500 * SIM_US);
    sim_time_t t[16];
    size_t n = 0;
    for (size_t i = 0; i < d->nrecs; i++)
        if (rec_is_write(&d->recs[i]) && rec_addr(&d->recs[i]) == DMA_ADDR && n < 16)
            t[n++] = d->recs[i].t;
    assert_int_equal(n, 10);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(t[i] - t[i - 1], 1 * SIM_MS);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_SEQ), 10);
    /* each transfer carries its own sequence number */
    uint32_t v;
    assert_int_equal(mem_phys_read32(d->ram, DMA_ADDR, &v, NULL), 0);
    assert_int_equal(v, 0xEC5D000Au);
    /* the INTERVAL register follows the parameter, in ns */
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_INTERVAL), 1000000);
    /* clearing EN stops the cycles */
    dfix_w32(d, ECP5_DMA_REG_CONTROL, dfix_r32(d, ECP5_DMA_REG_CONTROL) & ~ECP5_DMA_CTL_EN);
    sim_run_until(d->sim, 20 * SIM_MS);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_SEQ), 10);
    dfix_free(d);
}

/* requester_id sets all engines; per-engine keys override it in any order. */
static void test_requester_ids(void **state)
{
    (void)state;
    struct dev_param p1[] = {{"requester_id", "captured"}};
    struct dfix *d = board(p1, 1);
    assert_string_equal(dev_model_param(d->m, "write_rid"), "captured");
    assert_string_equal(dev_model_param(d->m, "requester_id"), "captured");
    driver_init(d, DMA_ADDR, 2);
    sim_run_until(d->sim, 2600 * SIM_US);
    assert_int_equal(d->nrecs, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(rec_rid(&d->recs[i]), 0x0100);
    dfix_free(d);

    struct dev_param p2[] = {{"write_rid", "05:1f.7"}, {"requester_id", "zero"},
                             {"read_rid", "0000:01:00.0"}};
    d = board(p2, 3);
    assert_string_equal(dev_model_param(d->m, "requester_id"), "mixed");
    driver_init(d, DMA_ADDR, 2);
    sim_run_until(d->sim, 2600 * SIM_US);
    assert_int_equal(d->nrecs, 3);
    assert_int_equal(rec_rid(&d->recs[0]), 0x05ff);
    assert_int_equal(rec_rid(&d->recs[1]), 0x0000); /* the MSI: zero */
    assert_int_equal(rec_rid(&d->recs[2]), 0x0100);
    dfix_free(d);

    /* a read with requester ID 0000: its completion goes to 00:00.0, so the
     * board never sees it and times out */
    struct dev_param p3[] = {{"read_rid", "zero"}, {"read_timeout", "1ms"}};
    d = board(p3, 2);
    driver_init(d, DMA_ADDR, 2);
    sim_run_until(d->sim, 4 * SIM_MS);
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.read_tlps, 1);
    assert_int_equal(c.reads_completed, 0);
    assert_int_equal(c.read_timeouts, 1);
    assert_true(dfix_r32(d, ECP5_DMA_REG_STATUS) & ECP5_DMA_STS_READ_TIMEOUT);
    struct pcie_fabric_stats fs;
    pcie_fabric_get_stats(d->f, &fs);
    assert_int_equal(fs.unexpected_completions, 1);
    dfix_free(d);
}

/* A read the root complex cannot serve (no RAM there): UR completion. */
static void test_read_ur(void **state)
{
    (void)state;
    struct dfix *d = board(NULL, 0);
    driver_init(d, 0x90000000ull, 2); /* above RAM, below 4 GiB */
    sim_run_until(d->sim, 2600 * SIM_US);
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.read_tlps, 1);
    assert_int_equal(c.cpl_ur, 1);
    assert_int_equal(c.reads_completed, 0);
    assert_true(dfix_r32(d, ECP5_DMA_REG_STATUS) & ECP5_DMA_STS_READ_UR);
    dfix_free(d);
}

/* Payload above MPS: split as the DMA logic does; or sent oversized and
 * dropped by the link's receiver as malformed (PCIe 5.0 2.2.2). */
static void test_split_mps(void **state)
{
    (void)state;
    struct dev_param p[] = {{"payload", "512"}, {"read", "false"}};
    struct dfix *d = board(p, 2);
    assert_int_equal(pcie_exp_mps(&d->cfg), 128); /* Device Control reset value */
    driver_init(d, DMA_ADDR, 2);
    sim_run_until(d->sim, 2600 * SIM_US);
    assert_int_equal(count_writes(d, DMA_ADDR, DMA_ADDR + 512), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rec_len_dw(&d->recs[i]), 32);
        assert_int_equal(rec_addr(&d->recs[i]), DMA_ADDR + 128 * i);
        assert_int_equal(rec_data0(&d->recs[i]), ecp5_dma_pattern(1, 32 * (uint32_t)i));
    }
    uint32_t v;
    assert_int_equal(mem_phys_read32(d->ram, DMA_ADDR + 508, &v, NULL), 0);
    assert_int_equal(v, ecp5_dma_pattern(1, 127));
    /* MPS 256 in Device Control (and at the root port): 2 TLPs */
    unsigned exp = pcie_cap_find(&d->cfg, PCIE_CAP_ID_EXP);
    uint32_t ctl;
    pcie_host_cfg_read(d->f, d->bdf, exp + PCIE_EXP_DEVCTL, 2, &ctl);
    dfix_cfgw(d, exp + PCIE_EXP_DEVCTL, 2, (ctl & ~PCIE_DEVCTL_MPS_MASK) | 1u << 5);
    unsigned rexp = pcie_cap_find(pcie_fn_cfg(d->rp), PCIE_CAP_ID_EXP);
    pcie_host_cfg_read(d->f, pcie_fn_bdf(d->rp), rexp + PCIE_EXP_DEVCTL, 2, &ctl);
    pcie_host_cfg_write(d->f, pcie_fn_bdf(d->rp), rexp + PCIE_EXP_DEVCTL, 2,
                        (ctl & ~PCIE_DEVCTL_MPS_MASK) | 1u << 5);
    d->nrecs = 0;
    sim_run_until(d->sim, 5100 * SIM_US);
    assert_int_equal(count_writes(d, DMA_ADDR, DMA_ADDR + 512), 2);
    assert_int_equal(rec_len_dw(&d->recs[0]), 64);
    dfix_free(d);

    /* split=none: one 512-byte MWr; the root port's receiver (MPS 128)
     * drops it as malformed: nothing reaches memory */
    struct dev_param q[] = {{"payload", "512"}, {"split", "none"}, {"read", "false"}};
    d = board(q, 3);
    driver_init(d, DMA_ADDR, 2);
    sim_run_until(d->sim, 2600 * SIM_US);
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.write_tlps, 1);
    assert_int_equal(c.write_bytes, 512);
    assert_int_equal(count_writes(d, DMA_ADDR, DMA_ADDR + 512), 0);
    struct pcie_fabric_stats fs;
    pcie_fabric_get_stats(d->f, &fs);
    assert_int_equal(fs.malformed, 1);
    assert_int_equal(mem_phys_read32(d->ram, DMA_ADDR, &v, NULL), 0);
    assert_int_equal(v, 0);
    assert_int_equal(d->nirqs, 1); /* the MSI still arrives */
    dfix_free(d);
}

/* A payload beyond one page: split at the 4 KiB boundary too (2.2.7). */
static void test_page_crossing(void **state)
{
    (void)state;
    struct dev_param p[] = {{"payload", "4K"}, {"read", "false"}};
    struct dfix *d = board(p, 2);
    uint64_t a = DMA_ADDR + 0x7c0; /* 0x840 bytes to the page end */
    driver_init(d, a, 2);
    sim_run_until(d->sim, 2600 * SIM_US);
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    /* 2112 = 16 x 128 + 64 before the boundary, 1984 = 15 x 128 + 64 after */
    assert_int_equal(c.write_tlps, 33);
    assert_int_equal(c.write_bytes, 4096);
    size_t n = 0;
    for (size_t i = 0; i < d->nrecs; i++) {
        const struct dfix_rec *r = &d->recs[i];
        if (!rec_is_write(r) || rec_addr(r) == 0xfee00000ull)
            continue;
        n++;
        assert_true((rec_addr(r) & 0xfff) + 4 * rec_len_dw(r) <= 0x1000);
        assert_true(rec_len_dw(r) <= 32);
    }
    assert_int_equal(n, 33);
    uint32_t v;
    assert_int_equal(mem_phys_read32(d->ram, a + 4092, &v, NULL), 0);
    assert_int_equal(v, ecp5_dma_pattern(1, 1023));
    dfix_free(d);
}

/* 3 DW below 4 GiB, 4 DW above (auto); always 4 DW with addr64=always: the
 * fabric accepts a 4 DW header below 4 GiB (PCIe 5.0 2.2.4.1 leaves the
 * receiver's behaviour unspecified) and the data lands. */
static void test_addr64(void **state)
{
    (void)state;
    struct dfix *d = board(NULL, 0);
    uint64_t hi = DFIX_HIGH_RAM + 0x3000;
    driver_init(d, hi, 2);
    sim_run_until(d->sim, 2600 * SIM_US);
    assert_int_equal(d->nrecs, 3);
    assert_int_equal(rec_fmt(&d->recs[0]), 3); /* 011b: 4 DW with data */
    assert_int_equal(rec_addr(&d->recs[0]), hi);
    assert_int_equal(rec_hdr_dw(&d->recs[1]), 3); /* the MSI, below 4 GiB */
    assert_int_equal(rec_fmt(&d->recs[2]), 1);    /* 001b: 4 DW MRd */
    assert_int_equal(rec_addr(&d->recs[2]), hi + 0x40);
    uint32_t v;
    assert_int_equal(mem_phys_read32(d->ram, hi + 4, &v, NULL), 0);
    assert_int_equal(v, ecp5_dma_pattern(1, 1));
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_READ_DATA0), ecp5_dma_pattern(1, 16));
    dfix_free(d);

    struct dev_param p[] = {{"addr64", "always"}};
    d = board(p, 1);
    driver_init(d, DMA_ADDR, 2);
    sim_run_until(d->sim, 2600 * SIM_US);
    assert_int_equal(d->nrecs, 3);
    assert_int_equal(rec_fmt(&d->recs[0]), 3);
    assert_int_equal(rec_addr(&d->recs[0]), DMA_ADDR);
    assert_int_equal(rec_fmt(&d->recs[1]), 2); /* the IP's MSI path: 3 DW */
    assert_int_equal(rec_fmt(&d->recs[2]), 1);
    assert_int_equal(mem_phys_read32(d->ram, DMA_ADDR, &v, NULL), 0);
    assert_int_equal(v, 0xEC5D0001u);
    struct pcie_fabric_stats fs;
    pcie_fabric_get_stats(d->f, &fs);
    assert_int_equal(fs.malformed, 0);
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.reads_completed, 1);
    dfix_free(d);
}

/* The UARTs raise vector 1 on their own schedule while MSI is enabled. */
static void test_uart_vector(void **state)
{
    (void)state;
    struct dev_param p[] = {{"uart_period", "3ms"}, {"start", "control"}};
    struct dfix *d = board(p, 2);
    sim_run_until(d->sim, 10 * SIM_MS);
    assert_int_equal(d->nirqs, 0); /* MSI disabled: nothing, no UART events */
    dfix_msi(d, 2, 0x4020);
    sim_time_t t0 = sim_now(d->sim);
    sim_run_until(d->sim, t0 + 10 * SIM_MS);
    assert_int_equal(d->nirqs, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(d->irqs[i].data, 0x4021); /* vector 1 */
        assert_int_equal(d->irqs[i].rid, 0x0100);
        assert_true(d->irqs[i].t >= t0 + 3 * SIM_MS * (i + 1) &&
                    d->irqs[i].t < t0 + 3 * SIM_MS * (i + 1) + 10 * SIM_US);
    }
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_UART_COUNT), 3);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_UART_STATUS), ECP5_DMA_UART_RX_PENDING);
    dfix_w32(d, ECP5_DMA_REG_UART_STATUS, 1);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_UART_STATUS), 0);
    /* the DMA never ran (start=control, EN not set) */
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_SEQ), 0);
    dfix_free(d);

    /* one vector granted (what Linux gives without interrupt remapping):
     * the UART's vector 1 folds onto vector 0 (6.1.4.3) */
    d = board(p, 2);
    dfix_msi(d, 1, 0x4020);
    t0 = sim_now(d->sim);
    sim_run_until(d->sim, t0 + 7 * SIM_MS);
    assert_int_equal(d->nirqs, 2);
    assert_int_equal(d->irqs[0].data, 0x4020);
    assert_int_equal(d->irqs[1].data, 0x4020);
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.msis, 2);
    assert_int_equal(c.msis_folded, 2);
    assert_int_equal(c.events, 2);
    /* MSI disabled again: the UART stops raising */
    uint32_t ctl;
    pcie_host_cfg_read(d->f, d->bdf, d->msi_cap + PCIE_MSI_CTRL, 2, &ctl);
    dfix_cfgw(d, d->msi_cap + PCIE_MSI_CTRL, 2, ctl & ~PCIE_MSI_CTRL_ENABLE);
    sim_run_until(d->sim, t0 + 30 * SIM_MS);
    assert_int_equal(d->nirqs, 2);
    dfix_free(d);
}

/* Bus Master Enable clear: the board issues nothing (7.5.1.1.3). */
static void test_bus_master(void **state)
{
    (void)state;
    struct dfix *d = board(NULL, 0);
    driver_init(d, DMA_ADDR, 2);
    uint32_t cmd;
    pcie_host_cfg_read(d->f, d->bdf, PCIE_CFG_COMMAND, 2, &cmd);
    dfix_cfgw(d, PCIE_CFG_COMMAND, 2, cmd & ~PCIE_CMD_BUS_MASTER);
    sim_run_until(d->sim, 6 * SIM_MS);
    assert_int_equal(d->nrecs, 0);
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.skipped, 2);
    assert_int_equal(c.tlps, 0);
    assert_true(dfix_r32(d, ECP5_DMA_REG_STATUS) & ECP5_DMA_STS_NO_MASTER);
    dfix_free(d);
}

/* Registers: reset values from parameters, limits, byte access, --set. */
static void test_registers(void **state)
{
    (void)state;
    struct dev_param p[] = {{"payload", "0x100"}, {"period", "2500us"}, {"read_offset", "2K"},
                            {"read_len", "16"}, {"read", "no"}};
    struct dfix *d = board(p, 5);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_PAYLOAD), 256);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_INTERVAL), 2500000);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_READ_OFFSET), 2048);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_READ_LEN), 16);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_CONTROL), 0x6);
    dfix_w32(d, ECP5_DMA_REG_PAYLOAD, 0); /* out of range: ignored */
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_PAYLOAD), 256);
    dfix_w32(d, ECP5_DMA_REG_INTERVAL, 5);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_INTERVAL), 1000);
    dfix_w32(d, ECP5_DMA_REG_DMA_ADDR_HI, 0x12345678);
    uint8_t b = 0xab;
    assert_int_equal(pcie_host_mem_write(d->f, d->bar0 + ECP5_DMA_REG_DMA_ADDR_HI + 1, &b, 1),
                     PCIE_REQ_SC);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_DMA_ADDR_HI), 0x1234ab78);
    assert_int_equal(dfix_r32(d, 0x100), 0); /* beyond the block */
    /* --set changes parameter and register */
    assert_int_equal(dev_model_set(d->m, "payload", "512", &d->err), 0);
    assert_int_equal(dfix_r32(d, ECP5_DMA_REG_PAYLOAD), 512);
    assert_string_equal(dev_model_param(d->m, "payload"), "512");
    assert_string_equal(dev_model_param(d->m, "period"), "2500us");
    assert_null(dev_model_param(d->m, "nope"));
    dfix_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_cycle),
        cmocka_unit_test(test_period),
        cmocka_unit_test(test_requester_ids),
        cmocka_unit_test(test_read_ur),
        cmocka_unit_test(test_split_mps),
        cmocka_unit_test(test_page_crossing),
        cmocka_unit_test(test_addr64),
        cmocka_unit_test(test_uart_vector),
        cmocka_unit_test(test_bus_master),
        cmocka_unit_test(test_registers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
