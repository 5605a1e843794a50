/* The seed's ECP3 CAN card on a small fabric (dev_fixture.h): captured
 * requester IDs on every TLP, frames in the ring exactly as numbered (none
 * lost, none invented), one MSI per batch, the ring's wrap, the registers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev_fixture.h"

#define RING 0x7fa00000ull

static struct dfix *card(const struct dev_param *p, size_t n)
{
    struct dfix *d = dfix_new(ecp3_can_cfg_init);
    assert_int_equal(dfix_attach(d, "ecp3_can", p, n), 0);
    dfix_msi(d, 1, 0x4031);
    dfix_w32(d, ECP3_CAN_REG_DMA_ADDR_HI, 0);
    dfix_w32(d, ECP3_CAN_REG_DMA_ADDR_LO, (uint32_t)RING);
    return d;
}

/* Checks ring slot `slot` holds frame n. */
static void check_frame(struct dfix *d, unsigned slot, uint64_t n)
{
    uint8_t want[16], got[16];
    ecp3_can_frame(n, want);
    assert_int_equal(mem_phys_read(d->ram, RING + 16u * slot, got, 16, NULL), 0);
    assert_memory_equal(got, want, 16);
}

static void test_batches(void **state)
{
    (void)state;
    struct dfix *d = card(NULL, 0); /* 1 ms frames, batches of 8 */
    assert_int_equal(dfix_r32(d, ECP3_CAN_REG_ID), ECP3_CAN_ID);
    assert_int_equal(dfix_r32(d, ECP3_CAN_REG_CONTROL), ECP3_CAN_CTL_EN | ECP3_CAN_CTL_IRQ_EN);
    sim_run_until(d->sim, 8 * SIM_MS - 1);
    assert_int_equal(d->nrecs, 0);
    sim_run_until(d->sim, 16 * SIM_MS + 100 * SIM_US);
    /* two batches: one 128-byte MWr + one MSI each, all from 01:00.0 */
    assert_int_equal(d->nrecs, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(rec_rid(&d->recs[i]), 0x0100);
    assert_int_equal(rec_addr(&d->recs[0]), RING);
    assert_int_equal(rec_len_dw(&d->recs[0]), 32);
    assert_int_equal(rec_addr(&d->recs[1]), 0xfee00000ull);
    assert_int_equal(rec_addr(&d->recs[2]), RING + 128);
    assert_true(d->recs[0].t >= 8 * SIM_MS && d->recs[0].t < 8 * SIM_MS + 10 * SIM_US);
    assert_true(d->recs[2].t >= 16 * SIM_MS && d->recs[2].t < 16 * SIM_MS + 10 * SIM_US);
    assert_int_equal(d->nirqs, 2);
    assert_int_equal(d->irqs[0].data, 0x4031);
    for (unsigned i = 0; i < 16; i++)
        check_frame(d, i, i + 1);
    uint8_t z[16] = {0}, got[16];
    assert_int_equal(mem_phys_read(d->ram, RING + 16 * 16, got, 16, NULL), 0);
    assert_memory_equal(got, z, 16); /* frame 17 is still in the card */
    assert_int_equal(dfix_r32(d, ECP3_CAN_REG_FRAME_COUNT), 16);
    assert_int_equal(dfix_r32(d, ECP3_CAN_REG_WR_PTR), 256);
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.events, 16);
    assert_int_equal(c.cycles, 2);
    assert_int_equal(c.msis, 2);
    assert_int_equal(c.write_bytes, 256);
    assert_int_equal(c.tlps, 4);
    dfix_free(d);
}

/* A ring of 4 frames, batches of 3: the second batch wraps (two writes). */
static void test_ring_wrap(void **state)
{
    (void)state;
    struct dev_param p[] = {{"ring_size", "64"}, {"batch", "3"}, {"frame_period", "100us"}};
    struct dfix *d = card(p, 3);
    sim_run_until(d->sim, 650 * SIM_US);
    /* frames 1-3 in slots 0-2, frame 4 in slot 3, frames 5-6 in slots 0-1 */
    check_frame(d, 0, 5);
    check_frame(d, 1, 6);
    check_frame(d, 2, 3);
    check_frame(d, 3, 4);
    assert_int_equal(dfix_r32(d, ECP3_CAN_REG_WR_PTR), 32);
    assert_int_equal(dfix_r32(d, ECP3_CAN_REG_FRAME_COUNT), 6);
    struct dev_counters c;
    dev_model_counters(d->m, &c);
    assert_int_equal(c.write_tlps, 3); /* 48 bytes, then 16 + 32 around the end */
    assert_int_equal(c.msis, 2);
    dfix_free(d);
}

/* The same requester-ID parameters as the ECP5 board; the MSI of a
 * one-vector card; an oversized write with split=none. */
static void test_params(void **state)
{
    (void)state;
    struct dev_param p[] = {{"requester_id", "zero"}, {"batch", "16"}, {"split", "none"}};
    struct dfix *d = card(p, 3);
    assert_string_equal(dev_model_param(d->m, "msi_rid"), "zero");
    sim_run_until(d->sim, 16 * SIM_MS + 100 * SIM_US);
    /* 256 bytes in one MWr above the root port's MPS (128): dropped */
    struct pcie_fabric_stats fs;
    pcie_fabric_get_stats(d->f, &fs);
    assert_int_equal(fs.malformed, 1);
    assert_int_equal(d->nirqs, 1);
    assert_int_equal(d->irqs[0].rid, 0x0000);
    dfix_free(d);

    struct dev_param q[] = {{"ring_size", "100"}};
    d = dfix_new(ecp3_can_cfg_init);
    assert_int_equal(dfix_attach(d, "ecp3_can", q, 1), -PCILAB_EINVAL);
    assert_non_null(strstr(d->err.msg, "ring_size"));
    assert_null(d->m);
    dfix_free(d);
}

/* EN cleared: no more frames are received; start=control needs EN. */
static void test_control(void **state)
{
    (void)state;
    struct dev_param p[] = {{"start", "control"}, {"batch", "1"}};
    struct dfix *d = card(p, 2);
    sim_run_until(d->sim, 5 * SIM_MS);
    assert_int_equal(d->nrecs, 0);
    dfix_w32(d, ECP3_CAN_REG_CONTROL, ECP3_CAN_CTL_EN | ECP3_CAN_CTL_IRQ_EN);
    sim_run_until(d->sim, 8 * SIM_MS + 500 * SIM_US);
    assert_int_equal(dfix_r32(d, ECP3_CAN_REG_FRAME_COUNT), 3);
    dfix_w32(d, ECP3_CAN_REG_CONTROL, ECP3_CAN_CTL_IRQ_EN);
    sim_run_until(d->sim, 20 * SIM_MS);
    assert_int_equal(dfix_r32(d, ECP3_CAN_REG_FRAME_COUNT), 3);
    assert_int_equal(dfix_r32(d, ECP3_CAN_REG_STATUS), ECP3_CAN_STS_BATCH_DONE);
    dfix_w32(d, ECP3_CAN_REG_STATUS, ECP3_CAN_STS_BATCH_DONE);
    assert_int_equal(dfix_r32(d, ECP3_CAN_REG_STATUS), 0);
    dfix_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_ring_wrap),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_control),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
