/* The ecp3_can driver (src/drivers/ecp3_can.c) beside ecp5_dma on the same
 * booted 4.9.80 AMD machine: its own probe (one MSI vector, the ring's
 * handle on the card), every frame the card writes printed once, in order,
 * frames overwritten before the driver read them reported, remove. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "drv_machine.h"

#define PFX "ecp3_can 0000:02:00.0: "

static void test_frames(void **state)
{
    (void)state;
    struct drv_machine m;
    struct drv_machine_opts o = {0};
    drv_machine_build(&m, &o);
    const struct host_module *can = drivers_find("ecp3_can");
    assert_ptr_equal(can, &kmod_ecp3_can);
    assert_null(drivers_find("nosuch"));
    assert_int_equal(host_module_load(m.k, &kmod_ecp5_dma, NULL, &m.err), 0);
    assert_int_equal(host_module_load(m.k, can, NULL, &m.err), 0);
    /* one taint line for both out-of-tree modules */
    assert_int_equal(drv_log_count_prefix(&m, "ecp5_dma: loading out-of-tree"), 1);
    assert_int_equal(drv_log_count_prefix(&m, "ecp3_can: loading out-of-tree"), 0);
    assert_string_equal(m.can_pdev->dev.driver_name, "ecp3_can");
    assert_string_equal(m.ecp5_pdev->dev.driver_name, "ecp5_dma");

    struct sim_log_rec r;
    assert_true(drv_log_find(&m, 0, PFX "frame ring: 256 frames, handle 0x", &r) >= 0);
    uint64_t handle = strtoull(strstr(r.text, "handle ") + 7, NULL, 16);
    assert_int_equal(regdev_dma_addr(&m.can), handle);
    assert_true(drv_log_find(&m, 0, PFX "1 MSI vector: IRQ ", NULL) >= 0);
    assert_int_equal(m.can_pdev->nvec, 1);
    assert_int_equal(m.can.reg[R_CTRL], 3u);         /* EN, IRQ_EN */
    assert_int_equal(m.can.reg[C_RING_SIZE], 4096u);
    assert_true(drv_log_find(&m, 0, PFX "receiving: 1 frames per interrupt", NULL) >= 0);

    const uint8_t d1[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    const uint8_t d2[2] = {0xab, 0xcd};
    /* frames a little apart: the test model bumps its FRAME_COUNT at
     * once, and pcilab's CPU reads do not wait for posted writes still in
     * flight (docs/drivers.md) */
    assert_int_equal(can_rx(&m.can, 0x123, 8, d1), 0);
    drv_run(&m, 100 * SIM_US);
    assert_int_equal(can_rx(&m.can, 0x80000000u | 0x1abcdef, 2, d2), 0);
    drv_run(&m, SIM_MS);
    assert_int_equal(can_rx(&m.can, 0x40000000u | 0x7ff, 0, NULL), 0);
    drv_run(&m, SIM_MS);
    long a = drv_log_find(&m, 0, PFX "rx 123 [8] 11 22 33 44 55 66 77 88", NULL);
    long b = drv_log_find(&m, 0, PFX "rx 01abcdef [2] ab cd", NULL);
    long c = drv_log_find(&m, 0, PFX "rx 7ff [0] remote request", NULL);
    assert_true(a >= 0 && b > a && c > b);
    assert_int_equal(drv_log_count_prefix(&m, PFX "rx "), 3); /* nothing lost or invented */
    assert_int_equal(m.can.reg[R_STATUS], 0);       /* acknowledged */

    /* 300 frames with no interrupt in between: the card wraps over the 44
     * oldest; the driver prints the 256 the ring still holds, the newest
     * last, and reports the 44 */
    for (int i = 0; i < 300; i++) {
        uint8_t d = (uint8_t)i;
        assert_int_equal(can_rx_frame(&m.can, 0x42, 1, &d, i == 299), 0);
    }
    drv_run(&m, SIM_MS);
    assert_int_equal(drv_log_count_prefix(&m, PFX "rx 042 [1]"), 256);
    long first = drv_log_find(&m, 0, PFX "rx 042 [1] 2c", NULL); /* frame 44 */
    long last = drv_log_find(&m, 0, PFX "rx 042 [1] 2b", NULL);  /* frame 299 */
    assert_true(first >= 0 && last > first);
    assert_true(drv_log_find(&m, 0, PFX "RX ring overrun: 44 frames overwritten before they "
                             "were read", NULL) >= 0);

    assert_int_equal(host_module_unload(m.k, "ecp3_can", &m.err), 0);
    assert_true(drv_log_find(&m, 0, PFX "removed after 259 frames, 44 overwritten unread", NULL)
                >= 0);
    assert_int_equal(m.can_pdev->nvec, 0);
    assert_int_equal(m.can_pdev->regions, 0);
    assert_null(m.can_pdev->dev.driver_name);
    /* the other driver is untouched */
    assert_string_equal(m.ecp5_pdev->dev.driver_name, "ecp5_dma");
    assert_int_equal(host_module_unload(m.k, "ecp3_can", &m.err), -ENOENT);
    drv_machine_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
