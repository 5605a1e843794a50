/* The fault recorder and the diagnosis (src/diag/iommu_rec.h, iommu_diag.h):
 * the recorder on hand-made observations, then the seed machine run in
 * process and diagnosed, with the fix and a bigger payload; then the edu
 * device on the root bus (its ID is its own BDF: never a mismatch) and each
 * of its DMA mistakes named from the DMA watch's history at the time of the
 * fault. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "diag/iommu_diag.h"
#include "diag/iommu_rec.h"
#include "diag_fixture.h"
#include "host/kernel.h"
#include "pcie/enumerate.h"
#include "pcie/topology.h"
#include "scenario/boot.h"
#include "scenario/build.h"
#include "scenario/scenario.h"
#include "sim/log.h"
#include "sim/sim.h"

/* ---- the recorder alone ---- */

static void observe(struct diag_rec *r, uint16_t rid, bool write, uint64_t addr, uint32_t size,
                    bool ok, uint16_t flags)
{
    struct pcie_tlp t;
    uint8_t payload[4096] = {0};
    memset(&t, 0, sizeof t);
    assert_int_equal(write ? pcie_tlp_mem_write(&t, rid, addr, payload, size, NULL)
                           : pcie_tlp_mem_read(&t, rid, 1, addr, size, NULL),
                     0);
    uint8_t bytes[16] = {0x40, 0, 0, 0x20};
    struct pcie_upstream_req up = {.tlp = &t, .bytes = bytes, .nbytes = sizeof bytes,
                                   .requester_id = rid, .write = write, .addr = addr,
                                   .len = size};
    struct iommu_req req = {.rid = rid, .addr = addr, .size = size,
                            .access = write ? IOMMU_PERM_W : IOMMU_PERM_R};
    struct iommu_result res = {.ok = ok, .domain = ok ? 2 : 0, .perm = ok ? 3 : 0};
    if (!ok) {
        res.fault = IOMMU_FAULT_PERMISSION;
        res.arch_code = AMDVI_EV_IO_PAGE_FAULT;
        res.arch_flags = flags;
        res.logged = true;
    }
    diag_rec_observe(r, &up, &req, &res);
}

static void test_rec_groups(void **state)
{
    (void)state;
    struct diag_rec *r = diag_rec_create();
    assert_non_null(r);
    /* two transfers of 4 contiguous 128-byte writes from 0000, one page */
    for (int x = 0; x < 2; x++)
        for (int i = 0; i < 4; i++)
            observe(r, 0x0000, true, 0xfffff000 + 128u * (unsigned)i, 128, false, 0x70);
    /* continuing the second transfer up to the page's end and into the next
     * page: the next page is a signature of its own */
    observe(r, 0x0000, true, 0xfffff200, 3584, false, 0x70);
    observe(r, 0x0000, true, 0x100000000ull, 128, false, 0x70);
    /* reads from 01:00.0 that translate */
    observe(r, 0x0100, false, 0xfffff040, 8, true, 0);
    observe(r, 0x0100, false, 0xfffff040, 8, true, 0);

    assert_int_equal(diag_rec_sig_count(r), 2);
    const struct diag_fault_sig *g = diag_rec_sig_at(r, 0);
    assert_int_equal(g->rid, 0);
    assert_true(g->write);
    assert_int_equal(g->arch_flags, 0x70);
    assert_int_equal(g->page, 0xfffff);
    assert_int_equal(g->count, 9);
    assert_int_equal(g->transfers, 2);
    assert_int_equal(g->bytes, 8 * 128 + 3584);
    assert_int_equal(g->first_addr, 0xfffff000);
    assert_int_equal(g->hdr_len, 12); /* MWr with a 32-bit address: 3 DW */
    g = diag_rec_sig_at(r, 1);
    assert_int_equal(g->page, 0x100000);
    assert_int_equal(g->count, 1);
    assert_int_equal(g->transfers, 1);
    /* a 64-bit address: a 4 DW header */
    assert_int_equal(g->hdr_len, 16);

    const struct diag_stream *s = diag_rec_stream_find(r, 0x0000, true);
    assert_non_null(s);
    assert_int_equal(s->tlps, 10);
    assert_int_equal(s->faults, 10);
    assert_int_equal(s->transfers, 2);
    assert_int_equal(s->max_tlps_per_xfer, 6);
    s = diag_rec_stream_find(r, 0x0100, false);
    assert_non_null(s);
    assert_int_equal(s->ok, 2);
    assert_int_equal(s->faults, 0);
    assert_true(s->any_ok);
    assert_int_equal(s->ok_domain, 2);
    assert_null(diag_rec_stream_find(r, 0x0100, true));

    struct diag_rec_totals t;
    diag_rec_totals(r, &t);
    assert_int_equal(t.translations, 12);
    assert_int_equal(t.faults, 10);
    diag_rec_clear(r);
    assert_int_equal(diag_rec_sig_count(r), 0);
    diag_rec_destroy(r);
}

static void test_rec_overflow(void **state)
{
    (void)state;
    struct diag_rec *r = diag_rec_create();
    for (unsigned i = 0; i < DIAG_REC_MAX_SIGS + 5; i++)
        observe(r, 0, true, (uint64_t)i << 12, 4, false, 0x70);
    assert_int_equal(diag_rec_sig_count(r), DIAG_REC_MAX_SIGS);
    struct diag_rec_totals t;
    diag_rec_totals(r, &t);
    assert_int_equal(t.sigs_dropped, 5);
    assert_int_equal(t.faults, DIAG_REC_MAX_SIGS + 5);
    diag_rec_destroy(r);
}

static void test_rec_attach(void **state)
{
    (void)state;
    struct iommu io;
    memset(&io, 0, sizeof io);
    struct diag_rec *r = diag_rec_create();
    assert_null(io.observer); /* unset by default */
    diag_rec_attach(r, &io);
    assert_ptr_equal(io.observer, diag_rec_observe);
    assert_ptr_equal(io.observer_ctx, r);
    diag_rec_destroy(r); /* detaches */
    assert_null(io.observer);
    assert_null(io.observer_ctx);
}

/* ---- the seed machine, in process ---- */

struct run {
    struct diag_fx fx;
    struct diag_rec *rec;
    struct diag_fn fns[64];
    struct diag_machine dm;
    struct diag_report out;
    struct diag_dma_watch *w;
};

static void run_seed(struct run *x, const char *set_key, const char *set_value, sim_time_t until)
{
    struct pcilab_err err;
    memset(x, 0, sizeof *x);
    diag_fx_load(&x->fx, "seed", NULL);
    diag_fx_build(&x->fx, x->fx.m.seed);
    if (set_key) {
        const struct scn_sysfn *f = scn_system_find(x->fx.sys, "ecp5");
        assert_non_null(f);
        assert_int_equal(dev_model_set(f->dev, set_key, set_value, &err), 0);
    }
    diag_fx_boot(&x->fx, NULL, NULL);
    assert_int_equal(scn_system_iommu_count(x->fx.sys), 1);
    x->rec = diag_rec_create();
    diag_rec_attach(x->rec, scn_system_iommu(x->fx.sys, 0)->iommu);
    /* the DMA watch, as pcilab run attaches it: it must change nothing in a
     * requester-ID finding */
    x->w = diag_dma_watch_create(x->fx.k, scn_system_fabric(x->fx.sys),
                                 scn_system_iommu(x->fx.sys, 0)->iommu);
    sim_run_until(x->fx.sim, until);

    size_t n = scn_system_count(x->fx.sys);
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        const struct scn_sysfn *sf = scn_system_at(x->fx.sys, i);
        x->fns[i] = (struct diag_fn){sf->fn, sf->name, sf->dev};
    }
    x->dm = (struct diag_machine){
        .fabric = scn_system_fabric(x->fx.sys), .map = scn_system_addrmap(x->fx.sys),
        .iommu_fn = scn_system_iommu(x->fx.sys, 0)->fn, .kernel = x->fx.k,
        .log = sim_log(x->fx.sim), .fns = x->fns, .nfns = n, .watch = x->w};
    assert_int_equal(diag_analyse(x->rec, &x->dm, &x->out, &err), 0);
}

static void run_done(struct run *x)
{
    diag_report_free(&x->out);
    diag_dma_watch_destroy(x->w);
    diag_rec_destroy(x->rec);
    diag_fx_free(&x->fx);
}

static const struct diag_flag_bit *flag(const struct diag_finding *f, const char *name)
{
    for (unsigned i = 0; i < DIAG_FLAG_BITS; i++)
        if (!strcmp(f->flags[i].name, name))
            return &f->flags[i];
    fail_msg("no flag %s", name);
    return NULL;
}

static void test_seed(void **state)
{
    (void)state;
    struct run x;
    run_seed(&x, NULL, NULL, 200 * SIM_MS);
    assert_int_equal(x.out.n, 1);
    const struct diag_finding *f = &x.out.findings[0];
    assert_string_equal(diag_category_name(f->category), "requester-id-mismatch");
    assert_int_equal(f->confidence, DIAG_CONF_HIGH);
    /* the TLP: MWr from 0000, the board's real BDF 01:00.0 */
    assert_int_equal(f->sig.rid, 0x0000);
    assert_true(f->sig.write);
    assert_int_equal(f->sig.tlp.kind, PCIE_TLP_MWR);
    assert_int_equal(f->sig.tlp.requester_id, 0x0000);
    assert_int_equal(f->sig.hdr_len, 12);
    assert_true(f->named_is_host_bridge);
    assert_non_null(f->sender.fn);
    assert_int_equal(f->sender.bdf, 0x0100);
    assert_int_equal(f->sender.candidates, 1);
    assert_string_equal(f->sender.label, "ecp5");
    assert_string_equal(f->sender.model, "ecp5_dma");
    assert_string_equal(f->sender.engine_key, "write_rid");
    assert_string_equal(f->sender.engine_value, "zero");
    /* flags PR|RW|PE, domain 0 */
    assert_int_equal(f->sig.arch_code, AMDVI_EV_IO_PAGE_FAULT);
    assert_int_equal(f->sig.arch_flags, AMDVI_EVF_PR | AMDVI_EVF_RW | AMDVI_EVF_PE);
    assert_int_equal(f->sig.domain, 0);
    assert_true(flag(f, "PR")->set);
    assert_int_equal(flag(f, "PR")->why, DIAG_WHY_DTE_PRESENT_NOPT);
    assert_true(flag(f, "RW")->set);
    assert_int_equal(flag(f, "RW")->why, DIAG_WHY_WRITE);
    assert_true(flag(f, "PE")->set);
    assert_int_equal(flag(f, "PE")->why, DIAG_WHY_DTE_NO_RIGHTS);
    assert_false(flag(f, "GN")->set);
    assert_false(flag(f, "TR")->set);
    /* the DTE of 0000, read from memory: valid, no page table, no rights */
    assert_true(f->dte.read);
    assert_true(f->dte.dte.v);
    assert_true(f->dte.dte.tv);
    assert_int_equal(f->dte.dte.mode, 0);
    assert_false(f->dte.dte.ir);
    assert_false(f->dte.dte.iw);
    assert_int_equal(f->dte.dte.domain_id, 0);
    assert_int_equal(f->dte.entry_pa, f->dte.table_pa);
    /* the board's own DTE walks a table in its domain, which maps the address */
    assert_true(f->sender.own_dte.read);
    assert_true(f->sender.own_dte.dte.mode >= 1);
    assert_true(f->sender.own_domain_known);
    assert_int_equal(f->sender.own_dte.dte.domain_id, f->sender.own_domain);
    assert_true(f->owner.nmaps >= 1);
    assert_true(f->owner_has_sender);
    assert_int_equal(f->owner_domain, f->sender.own_domain);
    assert_true(f->owner.map[0].ir && f->owner.map[0].iw);
    /* its reads carry 01:00.0 and translate */
    assert_true(f->sender.has_reads);
    assert_true(f->sender.reads.ok > 0);
    assert_int_equal(f->sender.reads.faults, 0);
    assert_int_equal(f->sender.reads.ok_domain, f->sender.own_domain);
    /* the CAN card: its ID is its BDF, no fault */
    bool can = false;
    for (size_t i = 0; i < x.out.nclean; i++)
        if (x.out.clean[i].st.rid == 0x0200 && x.out.clean[i].st.write) {
            can = true;
            assert_true(x.out.clean[i].rid_is_own_bdf);
            assert_string_equal(x.out.clean[i].model, "ecp3_can");
        }
    assert_true(can);
    /* one TLP per 128-byte transfer at MPS 128 */
    assert_int_equal(f->split.mps, 128);
    assert_int_equal(f->split.bytes_per_transfer, 128);
    assert_int_equal(f->split.tlps_per_transfer, 1);
    assert_int_equal(f->split.tlps_expected, 1);
    assert_int_equal(f->sig.count, f->sig.transfers);
    /* the evidence: 4.9's two records; the fix */
    assert_int_equal(f->nevidence, 2);
    assert_string_equal(f->evidence[0], "AMD-Vi: Event logged [");
    assert_non_null(strstr(f->evidence[1], "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address="));
    assert_non_null(strstr(f->evidence[1], "flags=0x0070]"));
    assert_int_equal(f->log_lines, f->sig.count);
    assert_true(f->fix_param);
    assert_string_equal(f->fix_target, "ecp5");
    assert_string_equal(f->fix_key, "requester_id");
    assert_string_equal(f->fix_value, "captured");
    run_done(&x);
}

static void test_captured(void **state)
{
    (void)state;
    struct run x;
    run_seed(&x, "requester_id", "captured", 200 * SIM_MS);
    assert_int_equal(x.out.n, 0);
    assert_int_equal(x.out.totals.faults, 0);
    assert_true(x.out.totals.translations > 0);
    /* the board's writes now translate under its own ID */
    bool ecp5 = false;
    for (size_t i = 0; i < x.out.nclean; i++)
        if (x.out.clean[i].st.rid == 0x0100 && x.out.clean[i].st.write) {
            ecp5 = true;
            assert_true(x.out.clean[i].st.ok_bytes >= 128);
        }
    assert_true(ecp5);
    run_done(&x);
}

static void test_payload_512(void **state)
{
    (void)state;
    struct run x;
    run_seed(&x, "payload", "512", 200 * SIM_MS);
    assert_int_equal(x.out.n, 1);
    const struct diag_finding *f = &x.out.findings[0];
    assert_int_equal(f->category, DIAG_REQUESTER_ID_MISMATCH);
    assert_int_equal(f->split.mps, 128);
    assert_int_equal(f->split.bytes_per_transfer, 512);
    assert_int_equal(f->split.tlps_per_transfer, 4);
    assert_int_equal(f->split.tlps_expected, 4);
    assert_int_equal(f->sig.count, 4 * f->sig.transfers);
    run_done(&x);
}

/* ---- the edu device (root bus) ---- */

static void run_edu(struct run *x, const char *scenario, bool watch)
{
    struct pcilab_err err;
    memset(x, 0, sizeof *x);
    /* the diagnosis of AMD-Vi faults (the edu machine's default is VT-d) */
    diag_fx_load(&x->fx, scenario, "amd-vi");
    diag_fx_build(&x->fx, x->fx.m.seed);
    diag_fx_boot(&x->fx, NULL, NULL);
    assert_int_equal(scn_system_iommu_count(x->fx.sys), 1);
    x->rec = diag_rec_create();
    diag_rec_attach(x->rec, scn_system_iommu(x->fx.sys, 0)->iommu);
    if (watch) /* after the recorder, as pcilab run does: it chains the observer */
        x->w = diag_dma_watch_create(x->fx.k, scn_system_fabric(x->fx.sys),
                                     scn_system_iommu(x->fx.sys, 0)->iommu);
    sim_run_until(x->fx.sim, 500 * SIM_MS);
    size_t n = scn_system_count(x->fx.sys);
    for (size_t i = 0; i < n; i++) {
        const struct scn_sysfn *sf = scn_system_at(x->fx.sys, i);
        x->fns[i] = (struct diag_fn){sf->fn, sf->name, sf->dev};
    }
    x->dm = (struct diag_machine){
        .fabric = scn_system_fabric(x->fx.sys), .map = scn_system_addrmap(x->fx.sys),
        .iommu_fn = scn_system_iommu(x->fx.sys, 0)->fn, .kernel = x->fx.k,
        .log = sim_log(x->fx.sim), .fns = x->fns, .nfns = n, .watch = x->w};
    assert_int_equal(diag_analyse(x->rec, &x->dm, &x->out, &err), 0);
}

/* The edu at 00:03.0 sits on the root bus: no root port tells who sent a
 * TLP, its requester ID names it, and that ID is its own BDF. It is the
 * sender, never a mismatch, and never listed among the others as "RID !=
 * its BDF" (its clean reads are its own). */
static void test_edu_root_bus_sender(void **state)
{
    (void)state;
    struct run x;
    run_edu(&x, "edu-write-to-device-map", false);
    assert_int_equal(x.out.n, 1);
    const struct diag_finding *f = &x.out.findings[0];
    assert_int_equal(f->sig.rid, 0x0018);
    assert_null(f->sig.ingress);
    assert_int_equal(f->category, DIAG_PERMISSION);
    assert_non_null(f->sender.fn);
    assert_int_equal(f->sender.bdf, 0x0018);
    assert_int_equal(f->sender.candidates, 1);
    assert_string_equal(f->sender.label, "edu");
    assert_string_equal(f->sender.model, "edu");
    bool reads = false;
    for (size_t i = 0; i < x.out.nclean; i++) {
        const struct diag_clean *c = &x.out.clean[i];
        if (c->st.rid != 0x0018)
            continue;
        reads = !c->st.write;
        assert_true(c->rid_is_own_bdf);
    }
    assert_true(reads); /* the load's MRds translated */
    /* without the watch nothing is said about the time of the fault */
    assert_false(f->at_fault.known);
    assert_int_equal(f->at_fault.mistake, DIAG_MISTAKE_NONE);
    run_done(&x);
}

static const struct diag_finding *edu_finding(struct run *x, const char *scenario)
{
    run_edu(x, scenario, true);
    assert_int_equal(x->out.n, 1);
    const struct diag_finding *f = &x->out.findings[0];
    assert_true(f->at_fault.known);
    assert_int_equal(f->confidence, DIAG_CONF_HIGH);
    assert_int_equal(f->at_fault.at, f->sig.first);
    return f;
}

/* Each mistake, named from what was mapped WHEN the device accessed, though
 * the driver has unmapped everything by the end of the run. */
static void test_edu_mistakes(void **state)
{
    (void)state;
    struct run x;
    const struct diag_finding *f;

    f = edu_finding(&x, "edu-use-after-unmap");
    assert_int_equal(f->at_fault.mistake, DIAG_MISTAKE_USE_AFTER_UNMAP);
    assert_int_equal(f->owner.nmaps, 0); /* the page tables after the run: nothing */
    assert_true(f->at_fault.has_map);
    assert_false(f->at_fault.map.live);
    assert_int_equal(f->at_fault.map.dma, 0xffff000);
    assert_int_equal(f->at_fault.map.dir, DMA_FROM_DEVICE);
    assert_string_equal(f->at_fault.map.driver, "edu");
    assert_int_equal(f->at_fault.map.mapped, 100 * SIM_MS);
    assert_int_equal(f->at_fault.map.unmapped, 324 * SIM_MS);
    assert_int_equal(f->sig.first, 424 * SIM_MS);
    run_done(&x);

    f = edu_finding(&x, "edu-write-to-device-map");
    assert_int_equal(f->at_fault.mistake, DIAG_MISTAKE_DIRECTION);
    assert_int_equal(f->at_fault.map.dir, DMA_TO_DEVICE);
    assert_true(f->at_fault.pt_read);
    assert_false(f->at_fault.pt_write);
    assert_true(f->sig.write);
    run_done(&x);

    f = edu_finding(&x, "edu-read-from-device-map");
    assert_int_equal(f->at_fault.mistake, DIAG_MISTAKE_DIRECTION);
    assert_int_equal(f->at_fault.map.dir, DMA_FROM_DEVICE);
    assert_false(f->at_fault.pt_read);
    assert_true(f->at_fault.pt_write);
    assert_false(f->sig.write);
    run_done(&x);

    f = edu_finding(&x, "edu-phys-addr");
    assert_int_equal(f->at_fault.mistake, DIAG_MISTAKE_PHYS_ADDR);
    assert_int_equal(f->at_fault.map.phys, f->sig.first_addr);
    assert_int_equal(f->at_fault.map.dma, 0xffff000);
    run_done(&x);

    f = edu_finding(&x, "edu-straddle-end");
    assert_int_equal(f->at_fault.mistake, DIAG_MISTAKE_PAST_END);
    assert_int_equal(f->at_fault.map.dma + f->at_fault.map.size, f->sig.first_addr);
    assert_int_equal(f->sig.bytes, 1024);
    run_done(&x);

    f = edu_finding(&x, "edu-unmapped-iova");
    assert_int_equal(f->at_fault.mistake, DIAG_MISTAKE_UNMAPPED_IOVA);
    assert_false(f->at_fault.has_map);
    assert_int_equal(f->at_fault.nlive, 2);
    run_done(&x);
    assert_string_equal(diag_mistake_name(DIAG_MISTAKE_USE_AFTER_UNMAP), "use-after-unmap");
}

/* The seed's wrong requester ID is not a driver mistake: with the watch
 * (run_seed attaches it) nothing is said about the time of the fault. */
static void test_seed_with_watch(void **state)
{
    (void)state;
    struct run x;
    run_seed(&x, NULL, NULL, 200 * SIM_MS);
    assert_int_equal(x.out.findings[0].category, DIAG_REQUESTER_ID_MISMATCH);
    assert_false(x.out.findings[0].at_fault.known);
    run_done(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rec_groups),
        cmocka_unit_test(test_rec_overflow),
        cmocka_unit_test(test_rec_attach),
        cmocka_unit_test(test_seed),
        cmocka_unit_test(test_captured),
        cmocka_unit_test(test_payload_512),
        cmocka_unit_test(test_edu_root_bus_sender),
        cmocka_unit_test(test_edu_mistakes),
        cmocka_unit_test(test_seed_with_watch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
