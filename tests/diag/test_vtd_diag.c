/* The diagnosis and the configuration notes of the edu scenarios under
 * VT-d (their default machine: QEMU q35 with intel-iommu): the finding the
 * recorder and diag_analyse give for a fault (requester, reason, the
 * context entry and the walk read at the fault), and the iommu note for
 * the default, iommu=pt and intel_iommu=off. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "diag/dma_watch.h"
#include "diag/iommu_diag.h"
#include "diag/iommu_rec.h"
#include "diag/setup.h"
#include "host/kernel.h"
#include "iommu/vtd.h"
#include "pcie/enumerate.h"
#include "scenario/boot.h"
#include "scenario/build.h"
#include "scenario/scenario.h"
#include "sim/log.h"
#include "sim/sim.h"

struct run {
    struct scn_machine m;
    struct pcilab_sim *sim;
    struct scn_system *sys;
    struct pcie_enum_report rep;
    struct host_kernel *k;
    struct vtd *vtd;
    struct diag_rec *rec;
    struct diag_dma_watch *w;
    struct diag_fn fns[16];
    struct diag_report out;
};

/* iommu: NULL, or a value of the scenario's iommu: key ("vtd-sm"). */
static void run_iommu(struct run *x, const char *scenario, const char *kernel,
                      const char *cmdline, const char *iommu)
{
    struct pcilab_err err;
    pcilab_err_clear(&err);
    memset(x, 0, sizeof *x);
    assert_int_equal(scn_load_builtin(scenario, &x->m, &err), 0);
    if (iommu)
        assert_int_equal(scn_set_iommu(&x->m, iommu, &err), 0);
    x->sim = sim_create(x->m.seed);
    assert_int_equal(scn_build(&x->m, x->sim, &x->sys, &err), 0);
    assert_int_equal(scn_enumerate(x->sys, &x->rep, &err), 0);
    struct scn_boot_opts o = {kernel, cmdline, false};
    assert_int_equal(scn_boot(x->sys, &x->m, &o, &x->rep, &x->k, &err), 0);
    assert_int_equal(scn_system_iommu_count(x->sys), 0); /* no AMD-Vi function */
    assert_int_equal(scn_system_vtd_count(x->sys), 1);
    x->vtd = scn_system_vtd(x->sys, 0);
    x->rec = diag_rec_create();
    assert_non_null(x->rec);
    diag_rec_attach(x->rec, vtd_iommu(x->vtd));
    diag_rec_set_vtd(x->rec, scn_system_addrmap(x->sys), x->vtd);
    x->w = diag_dma_watch_create(x->k, scn_system_fabric(x->sys), vtd_iommu(x->vtd));
    assert_non_null(x->w);
    sim_run_until(x->sim, 500 * SIM_MS);

    struct diag_machine dm = {0};
    size_t n = 0;
    for (size_t i = 0; i < scn_system_count(x->sys) && n < 16; i++) {
        const struct scn_sysfn *sf = scn_system_at(x->sys, i);
        x->fns[n++] = (struct diag_fn){sf->fn, sf->name, sf->dev};
    }
    dm.fabric = scn_system_fabric(x->sys);
    dm.map = scn_system_addrmap(x->sys);
    dm.vtd = x->vtd;
    dm.kernel = x->k;
    dm.log = sim_log(x->sim);
    dm.fns = x->fns;
    dm.nfns = n;
    dm.watch = x->w;
    assert_int_equal(diag_analyse(x->rec, &dm, &x->out, &err), 0);
}

static void run(struct run *x, const char *scenario, const char *kernel, const char *cmdline)
{
    run_iommu(x, scenario, kernel, cmdline, NULL);
}

static void done(struct run *x)
{
    diag_report_free(&x->out);
    diag_dma_watch_destroy(x->w);
    diag_rec_destroy(x->rec);
    sim_destroy(x->sim);
    pcie_enum_report_free(&x->rep);
    scn_free(&x->m);
}

/* The device writes its DMA_TO_DEVICE store buffer: reason 5, the leaf PTE
 * read at the fault has R=1 W=0, and the mistake is named. */
static void test_write_to_device_map(void **state)
{
    (void)state;
    struct run x;
    run(&x, "edu-write-to-device-map", NULL, NULL);
    assert_int_equal(x.out.n, 1);
    const struct diag_finding *f = &x.out.findings[0];
    assert_int_equal(f->sig.rid, 0x0018); /* 00:03.0 */
    assert_true(f->sig.write);
    assert_int_equal(f->sig.arch_code, VTD_FR_WRITE);
    assert_int_equal(f->sig.kind, IOMMU_FAULT_PERMISSION);
    assert_int_equal(f->category, DIAG_PERMISSION);
    assert_int_equal(f->sig.count, 16);
    /* QEMU's unit has one fault recording register: one recorded, the
     * rest overflowed */
    assert_int_equal(f->sig.logged, 1);
    assert_true(f->sig.has_vtd);
    const struct diag_vtd *v = &f->vtd;
    assert_true(v->read);
    assert_int_equal(v->nfr, 1);
    assert_true(v->root_read && v->root.p);
    assert_true(v->ctx_read && v->ctx.p);
    assert_int_equal(v->ctx.tt, VTD_TT_SLT);
    assert_int_equal(v->ctx.aw, VTD_AW_39);
    assert_false(v->ctx.fpd);
    assert_int_equal(v->ctx.did, f->sig.domain);
    assert_int_equal(v->ctx.did, 2);
    assert_int_equal(v->nlevels, 3);
    assert_true(v->leaf_found);
    assert_int_equal(v->lv[2].level, 1);
    assert_true(v->lv[2].pte.r);
    assert_false(v->lv[2].pte.w);
    assert_int_equal(v->why, DIAG_VTD_WHY_NO_WRITE);
    assert_true(v->frcd_read);
    assert_int_equal(v->frcd.fr, VTD_FR_WRITE);
    assert_int_equal(v->frcd.sid, 0x0018);
    assert_int_equal(v->frcd.fi, f->sig.first_addr & ~0xfffull);
    /* the driver's mistake and the kernel's lines */
    assert_int_equal(f->at_fault.mistake, DIAG_MISTAKE_DIRECTION);
    assert_int_equal(f->at_fault.map.dir, DMA_TO_DEVICE);
    assert_true(f->at_fault.pt_read);
    assert_false(f->at_fault.pt_write);
    assert_int_equal(f->nevidence, 2);
    assert_non_null(strstr(f->evidence[0], "handling fault status reg 3"));
    assert_non_null(strstr(f->evidence[1], "[fault reason 0x05]"));
    assert_int_equal(f->log_lines, 1);
    /* the owner is read from the page tables after the run: the driver has
     * unmapped the store buffer by then (the walk above was read at the
     * fault) */
    assert_int_equal(f->owner.nmaps, 0);
    struct vtd_stats st;
    vtd_get_stats(x.vtd, &st);
    assert_int_equal(st.faults_recorded, 1);
    assert_int_equal(st.faults_dropped, 15);
    done(&x);
}

/* A write to an IOVA nothing maps: reason 5 too, the walk ends at a PTE
 * that is not present. */
static void test_unmapped_iova(void **state)
{
    (void)state;
    struct run x;
    run(&x, "edu-unmapped-iova", NULL, NULL);
    assert_int_equal(x.out.n, 1);
    const struct diag_finding *f = &x.out.findings[0];
    assert_int_equal(f->sig.rid, 0x0018);
    assert_int_equal(f->sig.arch_code, VTD_FR_WRITE);
    assert_int_equal(f->sig.kind, IOMMU_FAULT_NOT_PRESENT);
    assert_int_equal(f->category, DIAG_MISSING_MAPPING);
    const struct diag_vtd *v = &f->vtd;
    assert_true(v->ctx_read && v->ctx.p);
    assert_int_equal(v->ctx.did, 2);
    assert_false(v->leaf_found);
    assert_true(v->nlevels >= 1);
    assert_false(v->lv[v->nlevels - 1].present);
    assert_int_equal(v->why, DIAG_VTD_WHY_NOT_PRESENT);
    assert_int_equal(f->at_fault.mistake, DIAG_MISTAKE_UNMAPPED_IOVA);
    assert_int_equal(f->owner.nmaps, 0);
    done(&x);
}

/* 4.9 with intel_iommu=on: the 4.x line form is the evidence. */
static void test_49_evidence(void **state)
{
    (void)state;
    struct run x;
    run(&x, "edu-write-to-device-map", "4.9", "intel_iommu=on");
    assert_int_equal(x.out.n, 1);
    const struct diag_finding *f = &x.out.findings[0];
    assert_int_equal(f->log_lines, 1);
    assert_non_null(strstr(f->evidence[1], "[fault reason 05]"));
    assert_int_equal(f->vtd.why, DIAG_VTD_WHY_NO_WRITE);
    done(&x);
}

static const struct diag_setup_note *iommu_note(struct run *x, struct diag_setup *s)
{
    assert_int_equal(diag_setup_explain(x->k, x->sys, s, NULL), 0);
    assert_true(s->n >= 1);
    return &s->notes[0];
}

static void test_notes(void **state)
{
    (void)state;
    struct diag_setup *s = malloc(sizeof *s);
    assert_non_null(s);
    struct run x;

    run(&x, "edu-ok", NULL, NULL);
    const struct diag_setup_note *n = iommu_note(&x, s);
    assert_int_equal(n->id, DIAG_SETUP_IOMMU_DEFAULT);
    assert_true(s->facts.vtd_dma);
    assert_true(s->facts.vtd_lazy);
    assert_non_null(strstr(n->title, "VT-d on"));
    assert_non_null(strstr(n->text, "translated DMA domain 2"));
    assert_non_null(strstr(n->source, "intel/dmar.c:1949"));
    assert_null(strstr(n->text, "no IOMMU in this machine"));
    done(&x);

    run(&x, "edu-straddle-end", NULL, "iommu=pt");
    n = iommu_note(&x, s);
    assert_int_equal(n->id, DIAG_SETUP_IOMMU_PT);
    assert_true(s->facts.vtd_irq_remap);
    assert_non_null(strstr(n->title, "TT=2"));
    assert_non_null(strstr(n->text, "identity domain"));
    assert_true(diag_dma_watch_count(x.w) > 0); /* the watch names the corruption */
    done(&x);

    run(&x, "edu-ok", NULL, "intel_iommu=off");
    n = iommu_note(&x, s);
    assert_int_equal(n->id, DIAG_SETUP_VTD_OFF);
    assert_string_equal(n->key, "intel_iommu=off");
    assert_false(s->facts.vtd_dma);
    assert_true(s->facts.vtd_irq_remap); /* interrupt remapping stays on */
    assert_non_null(strstr(n->title, "interrupt remapping on"));
    assert_non_null(strstr(n->source, "intel/iommu.c:3980"));
    done(&x);

    /* 4.9 leaves DMA remapping off by default */
    run(&x, "edu-ok", "4.9", NULL);
    n = iommu_note(&x, s);
    assert_int_equal(n->id, DIAG_SETUP_VTD_OFF);
    assert_non_null(strstr(n->title, "off by default in Linux 4.9"));
    assert_non_null(strstr(n->source, "intel-iommu.c:497"));
    done(&x);
    free(s);
}

/* Scalable mode (iommu: vtd-sm, QEMU's x-scalable-mode=on unit; Debian 6.1
 * runs it by default): the diagnosis reads the root entry's lower half, the
 * 256-bit context entry, the PASID directory and table entries of
 * RID_PASID 0 and walks the PASID entry's second-level table; the reason is
 * the scalable-mode one (0x85) and the domain the PASID entry's DID. */
static void test_scalable_mode(void **state)
{
    (void)state;
    struct run x;
    run_iommu(&x, "edu-write-to-device-map", NULL, NULL, "vtd-sm");
    assert_int_equal(x.out.n, 1);
    const struct diag_finding *f = &x.out.findings[0];
    assert_int_equal(f->sig.rid, 0x0018);
    assert_int_equal(f->sig.arch_code, 0x85);
    assert_int_equal(f->category, DIAG_PERMISSION);
    const struct diag_vtd *v = &f->vtd;
    assert_true(v->sm);
    assert_true(v->root_read && v->sm_root.lp);
    assert_int_equal(v->ctx_table, v->sm_root.lctp);
    assert_int_equal(v->ctx_pa, v->sm_root.lctp + 32 * 0x18);
    assert_true(v->ctx_read && v->sm_ctx.p);
    assert_int_equal(v->pasid, 0);
    assert_true(v->pdir_read && v->pdir.p);
    assert_int_equal(v->pdir_pa, v->sm_ctx.pasiddirptr);
    assert_true(v->pasid_read && v->pe.p);
    assert_int_equal(v->pasid_pa, v->pdir.smptblptr);
    assert_int_equal(v->pe.pgtt, VTD_PGTT_SL);
    assert_int_equal(v->pe.did, f->sig.domain);
    assert_int_equal(v->nlevels, 3);
    assert_int_equal(v->lv[0].table_pa, v->pe.slptptr);
    assert_true(v->lv[2].pte.r);
    assert_false(v->lv[2].pte.w);
    assert_int_equal(v->why, DIAG_VTD_WHY_NO_WRITE);
    assert_int_equal(f->at_fault.mistake, DIAG_MISTAKE_DIRECTION);
    assert_non_null(strstr(f->evidence[1], "[fault reason 0x85] SM: No write permission"));
    done(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalable_mode),
        cmocka_unit_test(test_write_to_device_map),
        cmocka_unit_test(test_unmapped_iova),
        cmocka_unit_test(test_49_evidence),
        cmocka_unit_test(test_notes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
