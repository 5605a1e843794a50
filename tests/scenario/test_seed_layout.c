/* The seed's fault address, 0xffbf8000, comes out of the modelled platform
 * and allocator (docs/seed-layout.md), not out of a constant: the ECP5
 * driver's handle is 0xffbf8000 on 4.9.80 and 4.20.17 with 32- and 64-bit
 * masks and for a smaller buffer, and it moves when any part of the layout
 * (the firmware's unity map, the CAN driver's buffers, the load order)
 * changes. Also the 5.15/6.1 difference in which devices' reserved regions a
 * shared DMA domain reserves (dma-iommu.c iommu_dma_init_domain). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dma.h"
#include "host/kernel.h"
#include "host/pci.h"
#include "scenario/boot.h"
#include "scenario/build.h"
#include "sim/log.h"
#include "sim/sim.h"

#define SEED_FAULT 0xffbf8000ull
#define ECP5_BDF 0x0100 /* 01:00.0 */

struct fx {
    struct scn_machine m;
    struct pcilab_sim *sim;
    struct scn_system *sys;
    struct pcie_enum_report rep;
    struct host_kernel *k;
};

static void load(struct fx *x)
{
    struct pcilab_err err;
    memset(x, 0, sizeof *x);
    assert_int_equal(scn_load_builtin("seed", &x->m, &err), 0);
}

static struct scn_module *module(struct fx *x, const char *name)
{
    for (unsigned i = 0; i < x->m.kernel.nmodules; i++)
        if (!strcmp(x->m.kernel.modules[i].name, name))
            return &x->m.kernel.modules[i];
    fail_msg("no module %s in the seed", name);
    return NULL;
}

static void drop_module(struct fx *x, const char *name)
{
    struct scn_module *mo = module(x, name);
    unsigned i = (unsigned)(mo - x->m.kernel.modules);
    memmove(mo, mo + 1, (x->m.kernel.nmodules - i - 1) * sizeof *mo);
    x->m.kernel.nmodules--;
}

/* build, enumerate, boot `version`, run until 0.2 s (both drivers probed) */
static void run(struct fx *x, const char *version)
{
    struct pcilab_err err;
    x->sim = sim_create(1);
    assert_int_equal(scn_build(&x->m, x->sim, &x->sys, &err), 0);
    assert_int_equal(scn_enumerate(x->sys, &x->rep, &err), 0);
    struct scn_boot_opts o = {version, NULL, false};
    assert_int_equal(scn_boot(x->sys, &x->m, &o, &x->rep, &x->k, &err), 0);
    sim_run_until(x->sim, 200 * SIM_MS);
}

static void down(struct fx *x)
{
    pcie_enum_report_free(&x->rep);
    sim_destroy(x->sim);
    scn_free(&x->m);
}

/* the handle a driver printed after `what` ("...: DMA buffer: 4096 bytes,
 * handle 0x"), ~0 when no such line */
static uint64_t logged_handle(struct fx *x, const char *what)
{
    struct sim_log *log = sim_log(x->sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec rec;
        const char *p;
        if (sim_log_get(log, i, &rec) && (p = strstr(rec.text, what)))
            return strtoull(p + strlen(what), NULL, 16);
    }
    return ~0ull;
}

static uint64_t ecp5_handle(struct fx *x)
{
    return logged_handle(x, "ecp5_dma 0000:01:00.0: DMA buffer: 4096 bytes, handle 0x");
}

static uint64_t can_handle(struct fx *x, const char *what)
{
    char key[128];
    snprintf(key, sizeof key, "ecp3_can 0000:02:00.0: %s, handle 0x", what);
    return logged_handle(x, key);
}

/* what the ECP5 driver does, by hand: mask, then its first coherent buffer */
static uint64_t alloc_as_ecp5(struct fx *x, unsigned bits, size_t size)
{
    struct host_kernel *prev = host_enter(x->k);
    struct pci_dev *p = host_pci_find(x->k, 0, ECP5_BDF);
    assert_non_null(p);
    assert_int_equal(dma_set_mask_and_coherent(&p->dev, DMA_BIT_MASK(bits)), 0);
    dma_addr_t h = 0;
    void *cpu = dma_alloc_coherent(&p->dev, size, &h, GFP_KERNEL);
    assert_non_null(cpu);
    host_leave(prev);
    return h;
}

static const char *const seed_kernels[] = {"4.9.80", "4.20.17"};

/* The seed as built in: the driver's own handle, both kernels, both masks. */
static void test_seed_handle(void **state)
{
    (void)state;
    for (size_t v = 0; v < 2; v++)
        for (unsigned bits = 32; bits <= 64; bits += 32) {
            struct fx x;
            load(&x);
            snprintf(module(&x, "ecp5_dma")->params, sizeof x.m.kernel.modules[0].params,
                     "dma_bits=%u", bits);
            run(&x, seed_kernels[v]);
            assert_int_equal(can_handle(&x, "frame ring: 1024 frames"), 0xffbfc000ull);
            assert_int_equal(can_handle(&x, "transmit ring: 8192 bytes"), 0xffbfa000ull);
            assert_int_equal(can_handle(&x, "status block: 4096 bytes"), 0xffbf9000ull);
            assert_int_equal(ecp5_handle(&x), SEED_FAULT);
            down(&x);
        }
}

/* "4096 bytes, but also tried smaller numbers": the ECP5 board's first
 * coherent buffer of 128 bytes (or 4096, or 2 KiB) lands at the same page. */
static void test_seed_smaller_buffer(void **state)
{
    (void)state;
    static const size_t sizes[] = {128, 2048, 4096};
    for (size_t v = 0; v < 2; v++)
        for (unsigned bits = 32; bits <= 64; bits += 32)
            for (size_t s = 0; s < 3; s++) {
                struct fx x;
                load(&x);
                drop_module(&x, "ecp5_dma");
                run(&x, seed_kernels[v]);
                assert_int_equal(alloc_as_ecp5(&x, bits, sizes[s]), SEED_FAULT);
                down(&x);
            }
}

/* The address follows the layout: change one part, it moves where the
 * allocator says, so it is not a constant. */
static void test_layout_moves_it(void **state)
{
    (void)state;
    for (size_t v = 0; v < 2; v++) {
        struct fx x;
        /* without the firmware's unity map: the top of 4 GiB is free */
        load(&x);
        x.m.firmware.nivmd = 0;
        run(&x, seed_kernels[v]);
        assert_int_equal(can_handle(&x, "frame ring: 1024 frames"), 0xffffc000ull);
        assert_int_equal(ecp5_handle(&x), 0xffff8000ull);
        down(&x);
        /* the CAN driver with its one 4 KiB ring, as by default */
        load(&x);
        snprintf(module(&x, "ecp3_can")->params, sizeof x.m.kernel.modules[0].params,
                 "dma_bits=32");
        run(&x, seed_kernels[v]);
        assert_int_equal(can_handle(&x, "frame ring: 256 frames"), 0xffbff000ull);
        assert_int_equal(ecp5_handle(&x), 0xffbfe000ull);
        down(&x);
        /* the ECP5 driver first: the first page below the unity map */
        load(&x);
        struct scn_module can = *module(&x, "ecp3_can");
        drop_module(&x, "ecp3_can");
        x.m.kernel.modules[x.m.kernel.nmodules++] = can;
        run(&x, seed_kernels[v]);
        assert_int_equal(ecp5_handle(&x), 0xffbff000ull);
        assert_int_equal(can_handle(&x, "frame ring: 1024 frames"), 0xffbf8000ull);
        down(&x);
        /* a 16 KiB unity map instead of 4 MiB: still reserved, lower edge moves */
        load(&x);
        x.m.firmware.ivmd[0].start = 0xffffc000ull;
        x.m.firmware.ivmd[0].length = 0x4000;
        run(&x, seed_kernels[v]);
        assert_int_equal(ecp5_handle(&x), 0xffff4000ull);
        down(&x);
    }
}

/* 5.15 and 6.1 give the same address with this layout: the unity map is an
 * IOMMU_RESV_DIRECT region of every device (IVMD type 20h), reserved when the
 * group's first device (00:02.0) sets up the domain. */
static void test_later_kernels_same_layout(void **state)
{
    (void)state;
    static const char *const later[] = {"5.15", "6.1"};
    for (size_t v = 0; v < 2; v++) {
        struct fx x;
        load(&x);
        run(&x, later[v]);
        assert_int_equal(ecp5_handle(&x), SEED_FAULT);
        down(&x);
    }
}

/* A unity map for the CAN card alone (IVMD type 21h, 02:00.0, the last
 * device of group 1). 4.9/4.20 reserve every device's dm regions in the
 * domain (apply_dm_region / apply_resv_region): the seed's address. 5.15 and
 * 6.1 reserve the regions of the group's first device only
 * (iommu_dma_init_domain: start_pfn already set for later devices), so the
 * range is mapped 1:1 but not reserved: the allocator hands out its top
 * pages and iommu_v1_map_page maps over the unity PTEs. */
static void test_unity_of_a_later_device(void **state)
{
    (void)state;
    static const char *const kernels[] = {"4.9.80", "4.20.17", "5.15", "6.1"};
    for (size_t v = 0; v < 4; v++) {
        struct fx x;
        load(&x);
        x.m.firmware.ivmd[0].kind = SCN_IVMD_SELECT;
        x.m.firmware.ivmd[0].first = x.m.firmware.ivmd[0].last = 0x0200;
        run(&x, kernels[v]);
        if (v < 2) {
            assert_int_equal(can_handle(&x, "frame ring: 1024 frames"), 0xffbfc000ull);
            assert_int_equal(ecp5_handle(&x), SEED_FAULT);
        } else {
            assert_int_equal(can_handle(&x, "frame ring: 1024 frames"), 0xffffc000ull);
            assert_int_equal(ecp5_handle(&x), 0xffff8000ull);
        }
        down(&x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_handle),
        cmocka_unit_test(test_seed_smaller_buffer),
        cmocka_unit_test(test_layout_moves_it),
        cmocka_unit_test(test_later_kernels_same_layout),
        cmocka_unit_test(test_unity_of_a_later_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
