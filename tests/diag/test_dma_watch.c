/* The DMA watch (src/diag/dma_watch.h) on the edu scenarios run in process:
 * silent under a translating IOMMU (it refuses the strays itself), an
 * "outside" finding naming the page and whose it was with iommu=pt and with
 * no IOMMU, a "direction" finding for a write into a DMA_TO_DEVICE mapping,
 * an unmapped buffer named as such; and the seed with iommu=off, whose board
 * writes its own buffer with a wrong requester ID, is not blamed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "diag/dma_watch.h"
#include "diag_fixture.h"
#include "host/kernel.h"
#include "pcie/enumerate.h"
#include "scenario/boot.h"
#include "scenario/build.h"
#include "scenario/scenario.h"
#include "sim/sim.h"

struct run {
    struct diag_fx fx;
    struct diag_dma_watch *w;
};

static void run(struct run *x, const char *scenario, const char *iommu, const char *cmdline,
                sim_time_t until)
{
    memset(x, 0, sizeof *x);
    diag_fx_load(&x->fx, scenario, iommu);
    diag_fx_build(&x->fx, x->fx.m.seed);
    diag_fx_boot(&x->fx, NULL, cmdline);
    struct iommu *io = scn_system_iommu_count(x->fx.sys) ? scn_system_iommu(x->fx.sys, 0)->iommu : NULL;
    x->w = diag_dma_watch_create(x->fx.k, scn_system_fabric(x->fx.sys), io);
    assert_non_null(x->w);
    sim_run_until(x->fx.sim, until);
}

static void done(struct run *x)
{
    diag_dma_watch_destroy(x->w);
    diag_fx_free(&x->fx);
}

static void test_translated_is_silent(void **state)
{
    (void)state;
    struct run x;
    run(&x, "edu-straddle-end", NULL, NULL, 500 * SIM_MS);
    assert_int_equal(diag_dma_watch_count(x.w), 0);
    struct diag_dma_watch_totals t;
    diag_dma_watch_totals(x.w, &t);
    assert_int_equal(t.maps, 2);
    assert_int_equal(t.unmaps, 2);
    assert_int_equal(t.reads, 4);      /* the load's MRds */
    assert_int_equal(t.writes, 8);     /* the 8 of 16 MWrs that translated */
    done(&x);
}

static void test_straddle_pt(void **state)
{
    (void)state;
    struct run x;
    run(&x, "edu-straddle-end", NULL, "iommu=pt", 500 * SIM_MS);
    assert_int_equal(diag_dma_watch_count(x.w), 1);
    const struct diag_dma_stray *s = diag_dma_watch_at(x.w, 0);
    assert_int_equal(s->rid, 0x0018);
    assert_true(s->write);
    assert_int_equal(s->kind, DIAG_STRAY_OUTSIDE);
    assert_int_equal(s->bytes, 1024);
    assert_int_equal(s->tlps, 8);
    /* the page right after the store buffer, which pt maps 1:1 */
    assert_int_equal(s->first_pa, s->first_bus);
    assert_int_equal(s->first_pa & 0xfff, 0);
    assert_int_equal(s->last_pa, s->first_pa + 1023);
    assert_string_equal(s->device, "00:03.0 (edu)");
    assert_non_null(strstr(s->owner, "kernel memory in use"));
    assert_non_null(strstr(s->near, "just past the end of edu 0000:00:03.0's DMA buffer "
                                    "(DMA_FROM_DEVICE"));
    assert_non_null(strstr(s->mappings, "DMA_FROM_DEVICE"));
    struct diag_dma_watch_totals t;
    diag_dma_watch_totals(x.w, &t);
    assert_int_equal(t.write_bytes_outside, 1024);
    assert_int_equal(t.read_bytes_outside, 0);
    done(&x);
}

static void test_kinds_without_iommu(void **state)
{
    (void)state;
    struct run x;
    /* a write into the device's own DMA_TO_DEVICE buffer */
    run(&x, "edu-write-to-device-map", "none", NULL, 500 * SIM_MS);
    assert_int_equal(scn_system_iommu_count(x.fx.sys), 0);
    assert_int_equal(diag_dma_watch_count(x.w), 1);
    const struct diag_dma_stray *s = diag_dma_watch_at(x.w, 0);
    assert_int_equal(s->kind, DIAG_STRAY_DIRECTION);
    assert_true(s->write);
    assert_int_equal(s->bytes, 2048);
    assert_non_null(strstr(s->owner, "the device's own DMA buffer"));
    assert_non_null(strstr(s->owner, "DMA_TO_DEVICE"));
    done(&x);
    /* a read of a DMA_FROM_DEVICE buffer */
    run(&x, "edu-read-from-device-map", "none", NULL, 500 * SIM_MS);
    assert_int_equal(diag_dma_watch_count(x.w), 1);
    s = diag_dma_watch_at(x.w, 0);
    assert_int_equal(s->kind, DIAG_STRAY_DIRECTION);
    assert_false(s->write);
    assert_int_equal(s->bytes, 2048);
    done(&x);
    /* a write after the unmap: the buffer is named with its unmap time */
    run(&x, "edu-use-after-unmap", "none", NULL, 500 * SIM_MS);
    assert_int_equal(diag_dma_watch_count(x.w), 1);
    s = diag_dma_watch_at(x.w, 0);
    assert_int_equal(s->kind, DIAG_STRAY_OUTSIDE);
    assert_non_null(strstr(s->owner, "until its unmap at 0.324000 s"));
    done(&x);
    /* proper mappings: nothing */
    run(&x, "edu-ok", "none", NULL, 500 * SIM_MS);
    assert_int_equal(diag_dma_watch_count(x.w), 0);
    done(&x);
}

static void test_seed_off_not_blamed(void **state)
{
    (void)state;
    struct run x;
    run(&x, "seed", NULL, "iommu=off", 200 * SIM_MS);
    struct diag_dma_watch_totals t;
    diag_dma_watch_totals(x.w, &t);
    assert_true(t.writes > 0);
    assert_int_equal(diag_dma_watch_count(x.w), 0);
    done(&x);
}

static void line(void *ctx, const char *text)
{
    char *buf = ctx;
    strncat(buf, text, 8191 - strlen(buf));
    strncat(buf, "\n", 8191 - strlen(buf));
}

static void test_report(void **state)
{
    (void)state;
    struct run x;
    run(&x, "edu-unmapped-iova", NULL, "iommu=pt", 500 * SIM_MS);
    static char buf[8192];
    buf[0] = '\0';
    diag_dma_watch_report(x.w, line, buf);
    assert_non_null(strstr(buf, "DMA watch: 2048 bytes written and 0 bytes read outside"));
    assert_non_null(strstr(buf, "[1] 00:03.0 (edu) wrote, outside its DMA mappings"));
    assert_non_null(strstr(buf, "0x2000 bytes below edu 0000:00:03.0's DMA buffer"));
    done(&x);
    run(&x, "edu-ok", NULL, "iommu=pt", 500 * SIM_MS);
    buf[0] = '\0';
    diag_dma_watch_report(x.w, line, buf);
    assert_string_equal(buf, "");
    done(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_translated_is_silent),
        cmocka_unit_test(test_straddle_pt),
        cmocka_unit_test(test_kinds_without_iommu),
        cmocka_unit_test(test_seed_off_not_blamed),
        cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
