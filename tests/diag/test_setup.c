/* Configuration notes (src/diag/setup.h): each variation of the seed, run on
 * the seed machine, gives its note, with values read from that run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "diag/setup.h"
#include "diag_fixture.h"
#include "scenario/boot.h"
#include "scenario/build.h"

/* 0.201 s: the board starts at 0.1 s: 40 DMA cycles (one per 2.5 ms) and 10
 * UART events (one per 10 ms) */
#define UNTIL (SIM_S / 5 + SIM_MS)

struct run {
    struct diag_fx fx;
    struct diag_setup s;
};

/* The seed with version/cmdline, its ecp5_dma module parameters replaced by
 * modparams (NULL: the seed's), ECP5 parameters sets ("key=value", NULL
 * ended), run for `until`. */
static void run(struct run *r, const char *version, const char *cmdline, const char *modparams,
                const char *const *sets, sim_time_t until)
{
    struct pcilab_err err;
    memset(r, 0, sizeof *r);
    diag_fx_load(&r->fx, "seed", NULL);
    if (modparams) {
        bool found = false;
        for (size_t i = 0; i < r->fx.m.kernel.nmodules; i++)
            if (!strcmp(r->fx.m.kernel.modules[i].name, "ecp5_dma")) {
                snprintf(r->fx.m.kernel.modules[i].params, sizeof r->fx.m.kernel.modules[i].params, "%s",
                         modparams);
                found = true;
            }
        assert_true(found);
    }
    diag_fx_build(&r->fx, 1);
    const struct scn_sysfn *ecp5 = scn_system_find(r->fx.sys, "ecp5");
    assert_non_null(ecp5);
    for (size_t i = 0; sets && sets[i]; i++) {
        char key[64];
        const char *eq = strchr(sets[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
        assert_int_equal(dev_model_set(ecp5->dev, key, eq + 1, &err), 0);
    }
    diag_fx_boot(&r->fx, version, cmdline);
    sim_run_until(r->fx.sim, until);
    assert_int_equal(diag_setup_explain(r->fx.k, r->fx.sys, &r->s, &err), 0);
}

static void done(struct run *r)
{
    diag_fx_free(&r->fx);
}

static const struct diag_setup_note *need(const struct run *r, enum diag_setup_id id)
{
    const struct diag_setup_note *n = diag_setup_find(&r->s, id);
    if (!n)
        fail_msg("no note %d", (int)id);
    return n;
}

static void contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("'%s' not in '%s'", needle, hay);
}

static void test_default_49(void **state)
{
    (void)state;
    struct run r;
    run(&r, "4.9.80", "", NULL, NULL, UNTIL);
    const struct diag_setup_facts *f = &r.s.facts;
    assert_true(f->amdvi);
    assert_true(f->irq_remap);
    assert_int_equal(f->board_rid, 0);
    assert_true(f->dte0_read);
    assert_true(f->dte0_blocks_writes);
    assert_int_equal(f->nvec, 2);
    assert_true(f->faults > 0);
    /* 0.2 s: the board started at 0.1 s, a cycle each 2.5 ms: 40 cycles, 40 faults */
    assert_int_equal(f->cycles, 40);
    assert_int_equal(f->faults, f->cycles);
    const struct diag_setup_note *n = need(&r, DIAG_SETUP_IOMMU_DEFAULT);
    contains(n->text, "(40 IOMMU faults)");
    contains(n->source, "amd_iommu_init.c:1885");
    n = need(&r, DIAG_SETUP_MSI_VECTORS);
    contains(n->title, "2 MSI vectors");
    assert_null(diag_setup_find(&r.s, DIAG_SETUP_PAYLOAD_PAGE));
    assert_null(diag_setup_find(&r.s, DIAG_SETUP_PAYLOAD_MPS)); /* 128 B = MPS */
    done(&r);
}

static void test_off_one_vector(void **state)
{
    (void)state;
    struct run r;
    run(&r, "4.9.80", "iommu=off", NULL, NULL, UNTIL);
    const struct diag_setup_facts *f = &r.s.facts;
    assert_false(f->amdvi);
    assert_false(f->irq_remap);
    assert_int_equal(f->faults, 0);
    assert_int_equal(f->nvec, 1);
    assert_int_equal(f->msi_capable, 2);
    assert_int_equal(f->msi_enabled, 1);
    assert_string_equal(f->irq_sharing, "status");
    /* UARTs every 10 ms from MSI enable at 0.1 s: 10 events, all folded, none lost */
    assert_int_equal(f->uart_events, 10);
    assert_int_equal(f->uart_folded, 10);
    assert_int_equal(f->uart_lost, 0);
    need(&r, DIAG_SETUP_IOMMU_OFF);
    const struct diag_setup_note *n = need(&r, DIAG_SETUP_MSI_VECTORS);
    contains(n->title, "1 of 2 MSI vectors; 0 of 10 UART interrupts lost");
    contains(n->source, "apic/msi.c:99-115");
    assert_int_equal(n->nalt, 3);
    contains(n->alt[2], "MSI-X");
    done(&r);
}

static void test_off_seed_driver_loses_uart(void **state)
{
    (void)state;
    struct run r;
    run(&r, "4.20.17", "iommu=off", "dma_bits=32 irq_sharing=none", NULL, UNTIL);
    const struct diag_setup_facts *f = &r.s.facts;
    assert_string_equal(f->irq_sharing, "none");
    assert_int_equal(f->nvec, 1);
    assert_int_equal(f->uart_events, 10);
    assert_int_equal(f->uart_lost, 10);
    const struct diag_setup_note *n = need(&r, DIAG_SETUP_MSI_VECTORS);
    contains(n->title, "10 of 10 UART interrupts lost");
    contains(n->source, "apic/msi.c:108"); /* 4.20's lines */
    done(&r);
}

static void test_soft(void **state)
{
    (void)state;
    struct run r;
    run(&r, "4.9.80", "iommu=soft", NULL, NULL, UNTIL);
    assert_false(r.s.facts.amdvi);
    assert_int_equal(r.s.facts.faults, 0);
    const struct diag_setup_note *n = need(&r, DIAG_SETUP_IOMMU_SOFT);
    contains(n->title, "never initialised");
    contains(n->text, "contradicts 4.9.80's code");
    contains(n->text, "/proc/cmdline");
    contains(n->source, "pci-swiotlb.c:69-81");
    done(&r);
    /* 6.1 has no detection walk: AMD-Vi translates and the fault stays */
    run(&r, "6.1", "iommu=soft", NULL, NULL, UNTIL);
    assert_true(r.s.facts.amdvi);
    assert_int_equal(r.s.facts.faults, 40);
    n = need(&r, DIAG_SETUP_IOMMU_SOFT);
    contains(n->title, "still translates");
    done(&r);
}

static void test_force_and_pt(void **state)
{
    (void)state;
    struct run r;
    run(&r, "4.9.80", "iommu=force", NULL, NULL, UNTIL);
    assert_true(r.s.facts.force);
    assert_int_equal(r.s.facts.faults, 40);
    contains(need(&r, DIAG_SETUP_IOMMU_FORCE)->text, "GART");
    done(&r);
    run(&r, "4.9.80", "iommu=pt", NULL, NULL, UNTIL);
    assert_true(r.s.facts.pt);
    assert_true(r.s.facts.irq_remap);
    assert_true(r.s.facts.dte0_blocks_writes);
    assert_int_equal(r.s.facts.faults, 40);
    assert_int_equal(r.s.facts.nvec, 2);
    const struct diag_setup_note *n = need(&r, DIAG_SETUP_IOMMU_PT);
    contains(n->text, "still faults (40 IOMMU faults");
    contains(n->text, "read from the device table in memory");
    done(&r);
    /* pt with the captured requester ID: no fault */
    static const char *const fix[] = {"requester_id=captured", NULL};
    run(&r, "5.15", "iommu=pt", NULL, fix, UNTIL);
    assert_int_equal(r.s.facts.faults, 0);
    contains(need(&r, DIAG_SETUP_IOMMU_PT)->text, "does not hit it");
    done(&r);
}

static void test_mask_64(void **state)
{
    (void)state;
    struct run r;
    run(&r, "4.9.80", "", "dma_bits=64", NULL, UNTIL);
    assert_int_equal(r.s.facts.dma_bits, 64);
    assert_true(r.s.facts.handle < (1ull << 32)); /* 32-bit IOVAs first */
    contains(need(&r, DIAG_SETUP_DMA_MASK)->text, "below 4 GiB");
    done(&r);
    run(&r, "4.9.80", "iommu=off", "dma_bits=64", NULL, UNTIL);
    assert_true(r.s.facts.handle >= (1ull << 32)); /* the page allocator's top */
    contains(need(&r, DIAG_SETUP_DMA_MASK)->text, "above 4 GiB");
    done(&r);
}

static void test_payload(void **state)
{
    (void)state;
    struct run r;
    static const char *const big[] = {"requester_id=captured", "payload=8192", NULL};
    run(&r, "4.9.80", "", NULL, big, UNTIL);
    const struct diag_setup_facts *f = &r.s.facts;
    assert_int_equal(f->payload, 8192);
    assert_int_equal(f->mps, 128);
    assert_true(f->handle_domain);
    assert_int_equal(f->write_tlps, 64 * f->cycles);
    /* the second page is the CAN driver's status block, mapped writable in
     * the same domain (docs/seed-layout.md): no fault, silent overwrite */
    assert_int_equal(f->faults, 0);
    assert_int_equal(f->overrun_mapped, 1);
    assert_int_equal(f->overrun_unmapped, 0);
    assert_int_equal(f->overrun_first_mapped, f->handle + 4096);
    assert_true(f->n_overrun_sharers >= 1);
    const struct diag_setup_note *n = need(&r, DIAG_SETUP_PAYLOAD_PAGE);
    char want[96];
    snprintf(want, sizeof want, "runs 4096 B past the buffer's page (0x%llx..",
             (unsigned long long)(f->handle + 4096));
    contains(n->title, want);
    contains(n->text, "silently overwrite that buffer");
    n = need(&r, DIAG_SETUP_PAYLOAD_MPS);
    contains(n->title, "64 write TLPs per cycle");
    done(&r);
    /* 64 KiB: 7 pages of the CAN driver's buffers, then the read-only
     * unity map at 0xffc00000: 8 pages that refuse the write (PE) */
    static const char *const huge[] = {"requester_id=captured", "payload=65536", NULL};
    run(&r, "4.9.80", "", NULL, huge, UNTIL);
    f = &r.s.facts;
    assert_int_equal(f->overrun_mapped, 7);
    assert_int_equal(f->overrun_unmapped, 8);
    assert_int_equal(f->faults, 8 * 4096 / 128 * f->cycles);
    done(&r);
    static const char *const mid[] = {"payload=512", NULL};
    run(&r, "4.20.17", "", NULL, mid, UNTIL);
    assert_null(diag_setup_find(&r.s, DIAG_SETUP_PAYLOAD_PAGE));
    n = need(&r, DIAG_SETUP_PAYLOAD_MPS);
    contains(n->title, "4 write TLPs per cycle");
    assert_int_equal(r.s.facts.faults, 4 * r.s.facts.cycles);
    done(&r);
}

static void test_bad_args(void **state)
{
    (void)state;
    struct diag_setup s;
    struct pcilab_err err;
    assert_int_equal(diag_setup_explain(NULL, NULL, &s, &err), -PCILAB_EINVAL);
}

/* ---- the edu machine: no ECP5 board, so no board advice ---- */

static void run_edu(struct run *r, const char *iommu, const char *cmdline)
{
    struct pcilab_err err;
    memset(r, 0, sizeof *r);
    diag_fx_load(&r->fx, "edu-use-after-unmap", iommu);
    diag_fx_build(&r->fx, 1);
    diag_fx_boot(&r->fx, NULL, cmdline);
    sim_run_until(r->fx.sim, 500 * SIM_MS);
    assert_int_equal(diag_setup_explain(r->fx.k, r->fx.sys, &r->s, &err), 0);
}

/* Nothing of the seed's board in any note of a machine without it. */
static void no_board_words(const struct run *r)
{
    static const char *const seed_words[] = {"ecp5", "requester_id", "0000 (00:00.0",
                                             "board", "MSI vector", "UART", NULL};
    assert_false(r->s.facts.board);
    for (size_t i = 0; i < r->s.n; i++) {
        const struct diag_setup_note *n = &r->s.notes[i];
        for (unsigned w = 0; seed_words[w]; w++) {
            if (strstr(n->title, seed_words[w]) || strstr(n->text, seed_words[w]))
                fail_msg("note %s says '%s': %s", n->key, seed_words[w], n->text);
            for (unsigned a = 0; a < n->nalt; a++)
                if (strstr(n->alt[a], seed_words[w]))
                    fail_msg("note %s alternative says '%s': %s", n->key, seed_words[w],
                             n->alt[a]);
        }
    }
}

static void test_edu_notes(void **state)
{
    (void)state;
    struct run r;
    const struct diag_setup_note *n;

    run_edu(&r, "amd-vi", NULL); /* AMD-Vi translating */
    no_board_words(&r);
    assert_int_equal(r.s.n, 1);
    n = need(&r, DIAG_SETUP_IOMMU_DEFAULT);
    contains(n->title, "IOMMU on");
    contains(n->text, "00:03.0 (model edu, driver edu): translated DMA domain 2");
    contains(n->text, "(16 IOMMU faults)");
    assert_int_equal(r.s.facts.ndevs, 1);
    assert_int_equal(r.s.facts.iommu_fns, 1);
    done(&r);

    run_edu(&r, "amd-vi", "iommu=pt");
    no_board_words(&r);
    assert_int_equal(r.s.n, 1);
    n = need(&r, DIAG_SETUP_IOMMU_PT);
    contains(n->text, "identity domain");
    contains(n->text, "lands in memory without a fault (0 IOMMU faults");
    done(&r);

    run_edu(&r, "none", NULL); /* no IOMMU at all: not "IOMMU off: translated" */
    no_board_words(&r);
    assert_int_equal(r.s.n, 1);
    assert_null(diag_setup_find(&r.s, DIAG_SETUP_IOMMU_DEFAULT));
    n = need(&r, DIAG_SETUP_NO_IOMMU);
    contains(n->title, "no IOMMU in this machine");
    contains(n->text, "00:03.0 (model edu, driver edu): no IOMMU domain");
    contains(n->source, "init.c:2983");
    assert_int_equal(r.s.facts.iommu_fns, 0);
    done(&r);

    run_edu(&r, "amd-vi", "iommu=off");
    no_board_words(&r);
    n = need(&r, DIAG_SETUP_IOMMU_OFF);
    contains(n->text, "nothing checks its accesses");
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_49),
        cmocka_unit_test(test_off_one_vector),
        cmocka_unit_test(test_off_seed_driver_loses_uart),
        cmocka_unit_test(test_soft),
        cmocka_unit_test(test_force_and_pt),
        cmocka_unit_test(test_mask_64),
        cmocka_unit_test(test_payload),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_edu_notes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
