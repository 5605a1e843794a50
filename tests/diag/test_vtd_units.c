/* A machine with several DRHDs (an Intel client platform's DMAR: a unit for
 * the integrated graphics 00:02.0 alone and an INCLUDE_PCI_ALL unit for the
 * rest): each function's DMA and interrupts go to the unit whose scope
 * covers it, its faults are recorded in that unit's registers and printed
 * by that unit's fault interrupt, and the diagnosis names the unit. A DMAR
 * without INCLUDE_PCI_ALL leaves a function no scope names untranslated.
 *
 * The machine: the edu device (its DMA engine and driver) at 00:02.0 with a
 * display class code, standing in for an integrated GPU, and a second edu at
 * 00:03.0; both are driven by the one edu module, so both make the same
 * mistake. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/dma_watch.h"
#include "diag/iommu_diag.h"
#include "diag/iommu_rec.h"
#include "diag/setup.h"
#include "host/intel_iommu.h"
#include "host/kernel.h"
#include "host/pci.h"
#include "iommu/router.h"
#include "iommu/vtd.h"
#include "pcie/enumerate.h"
#include "scenario/boot.h"
#include "scenario/build.h"
#include "scenario/scenario.h"
#include "sim/log.h"
#include "sim/sim.h"

static const char *const machine_fmt =
    "name: client-units\n"
    "seed: 1\n"
    "iommu: vtd\n"
    "kernel:\n"
    "  version: \"6.1\"\n"
    "  cmdline: \"%s\"\n"
    "  modules:\n"
    "    - {name: edu, at: 0.1s, params: {mistake: %s}}\n"
    "memory:\n"
    "  ram:\n"
    "    - {base: 0x0, size: 0x9f000}\n"
    "    - {base: 0x100000, size: 0xff00000}\n"
    "  reserved:\n"
    "    - {base: 0x7b000000, size: 0x5000000, name: \"RMRR: USB, graphics stolen memory\"}\n"
    "root_complex:\n"
    "  segment: 0\n"
    "  buses: [0x00, 0xff]\n"
    "  ecam: 0xe0000000\n"
    "  mmio32: {base: 0xc0000000, size: 0x1ec00000}\n"
    "  mmio64: {base: 0x800000000, size: 32G}\n"
    "  io: {base: 0x1000, size: 60K}\n"
    "  functions:\n"
    "    - {bdf: 00:00.0, name: host, kind: host_bridge, vendor: 0x8086, device: 0x3e34,"
    " class: 0x060000}\n"
    "    - bdf: 00:02.0\n"
    "      name: gfx\n"
    "      kind: integrated\n"
    "      vendor: 0x1234\n"
    "      device: 0x11e8\n"
    "      class: 0x030000\n"
    "      interrupt_pin: a\n"
    "      bars:\n"
    "        - {index: 0, type: mem32, size: 1M}\n"
    "      capabilities:\n"
    "        msi: {vectors: 1, addr64: true, offset: 0x40}\n"
    "      model: edu\n"
    "      params: {dma_bits: 28, dma_delay: 100ms}\n"
    "    - bdf: 00:03.0\n"
    "      name: edu\n"
    "      kind: integrated\n"
    "      vendor: 0x1234\n"
    "      device: 0x11e8\n"
    "      class: 0x00ff00\n"
    "      interrupt_pin: a\n"
    "      bars:\n"
    "        - {index: 0, type: mem32, size: 1M}\n"
    "      capabilities:\n"
    "        msi: {vectors: 1, addr64: true, offset: 0x40}\n"
    "      model: edu\n"
    "      params: {dma_bits: 28, dma_delay: 100ms}\n"
    "    - {bdf: 00:1f.0, name: lpc, kind: integrated, vendor: 0x8086, device: 0xa30e,"
    " class: 0x060100}\n"
    "firmware:\n"
    "  dmar: %s\n";

/* A DMAR of one DRHD for 00:02.0 only: 00:03.0 is in no unit. */
static const char *const gfx_only_dmar =
    "\n"
    "    intr_remap: true\n"
    "    drhd:\n"
    "      - base: 0xfed90000\n"
    "        devices: [00:02.0, {ioapic: 2, at: f0:1f.0}]\n";

struct run {
    struct scn_machine m;
    struct pcilab_sim *sim;
    struct scn_system *sys;
    struct pcie_enum_report rep;
    struct host_kernel *k;
    struct diag_rec *rec[2];     /* one per unit */
    struct diag_fn fns[8];
    struct diag_report out;
};

static void run(struct run *x, const char *cmdline, const char *mistake, const char *dmar)
{
    char text[4096];
    snprintf(text, sizeof text, machine_fmt, cmdline, mistake, dmar);
    struct pcilab_err err;
    pcilab_err_clear(&err);
    memset(x, 0, sizeof *x);
    if (scn_load_string("client-units", text, strlen(text), &x->m, &err) < 0)
        fail_msg("%s", err.msg);
    x->sim = sim_create(x->m.seed);
    assert_int_equal(scn_build(&x->m, x->sim, &x->sys, &err), 0);
    assert_int_equal(scn_enumerate(x->sys, &x->rep, &err), 0);
    assert_int_equal(scn_boot(x->sys, &x->m, NULL, &x->rep, &x->k, &err), 0);
    size_t n = scn_system_vtd_count(x->sys);
    struct mem_addrmap *map = scn_system_addrmap(x->sys);
    /* a recorder per unit sees only that unit's requests; the diagnosis
     * uses one on all of them */
    for (size_t i = 0; i < n && i < 2; i++) {
        x->rec[i] = diag_rec_create();
        assert_non_null(x->rec[i]);
        assert_int_equal(diag_rec_attach_vtd(x->rec[i], map, scn_system_vtd(x->sys, i)), 0);
    }
    sim_run_until(x->sim, SIM_S);
    /* the diagnosis of the INCLUDE_PCI_ALL unit's recorder */
    struct diag_machine dm = {0};
    size_t nf = 0;
    for (size_t i = 0; i < scn_system_count(x->sys) && nf < 8; i++) {
        const struct scn_sysfn *sf = scn_system_at(x->sys, i);
        x->fns[nf++] = (struct diag_fn){sf->fn, sf->name, sf->dev};
    }
    dm.fabric = scn_system_fabric(x->sys);
    dm.map = map;
    dm.vtd = scn_system_vtd(x->sys, 0);
    dm.kernel = x->k;
    dm.log = sim_log(x->sim);
    dm.fns = x->fns;
    dm.nfns = nf;
    if (n > 1)
        assert_int_equal(diag_analyse(x->rec[1], &dm, &x->out, &err), 0);
}

static void done(struct run *x)
{
    diag_report_free(&x->out);
    for (size_t i = 0; i < 2; i++)
        diag_rec_destroy(x->rec[i]);
    sim_destroy(x->sim);
    pcie_enum_report_free(&x->rep);
    scn_free(&x->m);
}

static bool log_has(struct run *x, const char *needle)
{
    const struct sim_log *log = sim_log(x->sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec rec;
        if (sim_log_get(log, i, &rec) && strstr(rec.text, needle))
            return true;
    }
    return false;
}

/* Every stream of the recorder is from rid, and there is one. */
static void only_from(const struct diag_rec *r, uint16_t rid)
{
    assert_true(diag_rec_stream_count(r) > 0);
    for (size_t i = 0; i < diag_rec_stream_count(r); i++)
        assert_int_equal(diag_rec_stream_at(r, i)->rid, rid);
}

static struct pcie_fn *fn_at(struct run *x, uint16_t bdf)
{
    struct pcie_fn *fn = pcie_fabric_find(scn_system_fabric(x->sys), bdf);
    assert_non_null(fn);
    return fn;
}

static void test_each_device_its_unit(void **state)
{
    (void)state;
    struct run x;
    run(&x, "", "ok", "client");
    assert_int_equal(scn_system_vtd_count(x.sys), 2);
    struct vtd *gfx = scn_system_vtd(x.sys, 0), *all = scn_system_vtd(x.sys, 1);
    assert_int_equal(vtd_get_config(gfx)->mmio_base, 0xfed90000);
    assert_int_equal(vtd_get_config(all)->mmio_base, 0xfed91000);
    assert_true(vtd_get_config(all)->include_pci_all);
    /* the platform's routing, from the DMAR's scopes */
    struct iommu_router *r = scn_system_vtd_router(x.sys);
    assert_non_null(r);
    assert_ptr_equal(iommu_router_unit_of(r, fn_at(&x, 0x0010)), vtd_iommu(gfx));
    assert_ptr_equal(iommu_router_unit_of(r, fn_at(&x, 0x0018)), vtd_iommu(all));
    assert_ptr_equal(iommu_router_unit_of(r, fn_at(&x, 0x00f8)), vtd_iommu(all));
    /* each unit saw only its own device's DMA, and both transfers worked */
    only_from(x.rec[0], 0x0010);
    only_from(x.rec[1], 0x0018);
    struct diag_rec_totals t0, t1;
    diag_rec_totals(x.rec[0], &t0);
    diag_rec_totals(x.rec[1], &t1);
    assert_true(t0.translations > 0);
    assert_true(t1.translations > 0);
    assert_int_equal(t0.faults + t1.faults, 0);
    assert_int_equal(vtd_iommu(gfx)->stats.faults + vtd_iommu(all)->stats.faults, 0);
    assert_true(log_has(&x, "edu 0000:00:02.0: store: 2048 bytes of the device's data"));
    assert_true(log_has(&x, "edu 0000:00:03.0: store: 2048 bytes of the device's data"));
    /* the kernel put 00:02.0's context entry in the graphics unit's table
     * and 00:03.0's in the other's: the devices have domains, and each
     * unit's own walk (through its own root table) reached them */
    assert_int_equal(iommu_router_untranslated(r), 0);
    /* each device's MSI is remapped by its own unit, through the IRTE the
     * kernel wrote in that unit's table, and reaches the driver */
    assert_true(log_has(&x, "edu 0000:00:02.0: load: done, DMA interrupt received"));
    assert_true(log_has(&x, "edu 0000:00:03.0: load: done, DMA interrupt received"));
    assert_int_equal(vtd_iommu(gfx)->stats.interrupts, 2);
    assert_int_equal(vtd_iommu(all)->stats.interrupts, 2);
    assert_int_equal(vtd_iommu(gfx)->stats.interrupts_blocked +
                         vtd_iommu(all)->stats.interrupts_blocked, 0);
    struct host_intel_iommu *v = host_intel_iommu_of(x.k);
    struct host_intel_iommu_unit_info u0, u1;
    assert_int_equal(host_intel_iommu_unit_info(v, 0, &u0), 0);
    assert_int_equal(host_intel_iommu_unit_info(v, 1, &u1), 0);
    assert_int_equal(u0.ir_entries, 1);
    assert_int_equal(u1.ir_entries, 1);
    assert_true(u0.translation && u1.translation);
    done(&x);
}

/* intel_iommu=igfx_off: the graphics unit has only a display device in its
 * scope, so the kernel ignores it (init_no_remapping_devices): translation
 * stays off on it, 00:02.0 gets no IOMMU and its DMA handles are physical
 * addresses; interrupt remapping still goes through that unit. The same
 * mistake then faults only on the other unit; 00:02.0's write lands in
 * memory untranslated. */
static void test_igfx_off_ignores_the_graphics_unit(void **state)
{
    (void)state;
    struct run x;
    run(&x, "intel_iommu=igfx_off", "unmapped-iova", "client");
    struct vtd *gfx = scn_system_vtd(x.sys, 0), *all = scn_system_vtd(x.sys, 1);
    assert_true(log_has(&x, "DMAR: Disable GFX device mapping"));
    struct host_intel_iommu *v = host_intel_iommu_of(x.k);
    struct host_intel_iommu_unit_info u0;
    assert_int_equal(host_intel_iommu_unit_info(v, 0, &u0), 0);
    assert_true(u0.ignored);
    assert_true(u0.gfx_dedicated);
    assert_false(u0.translation);
    assert_true(u0.ir);
    /* the hardware: TE clear, so the unit passes 00:02.0's DMA through */
    struct vtd_stats s0, s1;
    vtd_get_stats(gfx, &s0);
    vtd_get_stats(all, &s1);
    assert_int_equal(vtd_iommu(gfx)->stats.faults, 0);
    assert_int_equal(s0.faults_recorded, 0);
    assert_true(s1.faults_recorded >= 1);
    assert_false(log_has(&x, "Request device [00:02.0]"));
    assert_true(log_has(&x, "Request device [00:03.0]"));
    struct pci_dev *pd = host_pci_of_fn(x.k, fn_at(&x, 0x0010));
    assert_false(host_intel_iommu_dev_domain(v, pd, NULL, NULL, NULL));
    assert_true(log_has(&x, "edu 0000:00:02.0: load: done, DMA interrupt received"));
    /* the configuration note says which unit each device is on, and why
     * the graphics one does nothing */
    struct diag_setup su;
    struct pcilab_err err;
    assert_int_equal(diag_setup_explain(x.k, x.sys, &su, &err), 0);
    const struct diag_setup_note *n = diag_setup_find(&su, DIAG_SETUP_IOMMU_DEFAULT);
    assert_non_null(n);
    assert_non_null(strstr(n->text, "00:02.0 (model edu, driver edu): no IOMMU domain (dmar0, "
                                     "ignored by the kernel: its scope has only graphics "
                                     "devices and intel_iommu=igfx_off)"));
    assert_non_null(strstr(n->text, "translated DMA domain 2 on dmar1"));
    assert_non_null(strstr(n->source, "init_no_remapping_devices"));
    done(&x);
}

/* The same mistake on both devices: each unit records its own device's
 * fault in its own fault recording registers, and its own fault interrupt
 * makes the kernel print it. */
static void test_faults_recorded_by_their_unit(void **state)
{
    (void)state;
    struct run x;
    run(&x, "", "unmapped-iova", "client");
    struct vtd *gfx = scn_system_vtd(x.sys, 0), *all = scn_system_vtd(x.sys, 1);
    struct vtd_stats s0, s1;
    vtd_get_stats(gfx, &s0);
    vtd_get_stats(all, &s1);
    assert_true(s0.faults_recorded >= 1);
    assert_true(s1.faults_recorded >= 1);
    only_from(x.rec[0], 0x0010);
    only_from(x.rec[1], 0x0018);
    assert_int_equal(diag_rec_sig_count(x.rec[0]), 1);
    assert_ptr_equal(diag_rec_sig_at(x.rec[0], 0)->unit, gfx);
    assert_ptr_equal(diag_rec_sig_at(x.rec[1], 0)->unit, all);
    assert_int_equal(diag_rec_sig_at(x.rec[0], 0)->arch_code, 0x05);
    assert_true(log_has(&x, "Request device [00:02.0] fault addr"));
    assert_true(log_has(&x, "Request device [00:03.0] fault addr"));
    /* the analysis reads the context entry from the finding's own unit */
    assert_int_equal(x.out.n, 1);
    const struct diag_finding *f = &x.out.findings[0];
    assert_int_equal(f->sig.rid, 0x0018);
    assert_true(f->vtd.read);
    assert_int_equal(f->vtd.mmio_base, 0xfed91000);
    assert_true(f->vtd.ctx_read);
    assert_true(f->vtd.ctx.p);
    done(&x);
}

/* The graphics RMRR (0x7d000000..0x7f7fffff, for 00:02.0): the kernel maps
 * it 1:1 in 00:02.0's domain, in the graphics unit's tables, so that unit
 * lets 00:02.0 reach it; 00:03.0, under the other unit, has no such map. */
static void test_rmrr_in_the_graphics_unit(void **state)
{
    (void)state;
    struct run x;
    run(&x, "", "ok", "client");
    struct vtd *gfx = scn_system_vtd(x.sys, 0), *all = scn_system_vtd(x.sys, 1);
    struct iommu_req q = {.rid = 0x0010, .addr = 0x7d001234, .size = 4, .access = IOMMU_PERM_R};
    struct iommu_result res;
    iommu_translate(vtd_iommu(gfx), &q, &res);
    assert_true(res.ok);
    assert_int_equal(res.pa, 0x7d001234);
    q.addr = 0x7f7ff000;
    iommu_translate(vtd_iommu(gfx), &q, &res);
    assert_true(res.ok);
    assert_int_equal(res.pa, 0x7f7ff000);
    /* the page after the region is not mapped */
    q.addr = 0x7f800000;
    iommu_translate(vtd_iommu(gfx), &q, &res);
    assert_false(res.ok);
    /* 00:03.0 through its own unit: no RMRR map */
    q.rid = 0x0018;
    q.addr = 0x7d001234;
    iommu_translate(vtd_iommu(all), &q, &res);
    assert_false(res.ok);
    /* and 00:03.0's requester ID means nothing to the graphics unit: its
     * context entries are in the other unit's tables */
    iommu_translate(vtd_iommu(gfx), &q, &res);
    assert_false(res.ok);
    assert_int_equal(res.fault, IOMMU_FAULT_DEVICE_INVALID);
    done(&x);
}

/* A DMAR whose one DRHD names 00:02.0 and has no INCLUDE_PCI_ALL: 00:03.0
 * is in no unit, so the root complex sends its requests on untranslated
 * and the kernel gives it no IOMMU (its DMA handles are physical
 * addresses): the DMA works, no fault, nothing for the unit to see. */
static void test_device_in_no_unit(void **state)
{
    (void)state;
    struct run x;
    run(&x, "", "ok", gfx_only_dmar);
    assert_int_equal(scn_system_vtd_count(x.sys), 1);
    struct iommu_router *r = scn_system_vtd_router(x.sys);
    assert_null(iommu_router_unit_of(r, fn_at(&x, 0x0018)));
    assert_ptr_equal(iommu_router_unit_of(r, fn_at(&x, 0x0010)),
                     vtd_iommu(scn_system_vtd(x.sys, 0)));
    only_from(x.rec[0], 0x0010);
    assert_true(iommu_router_untranslated(r) > 0);
    assert_true(log_has(&x, "edu 0000:00:02.0: store: 2048 bytes of the device's data"));
    assert_true(log_has(&x, "edu 0000:00:03.0: store: 2048 bytes of the device's data"));
    struct host_intel_iommu *v = host_intel_iommu_of(x.k);
    assert_non_null(v);
    struct pci_dev *pd = host_pci_of_fn(x.k, fn_at(&x, 0x0018));
    assert_non_null(pd);
    assert_false(host_intel_iommu_dev_domain(v, pd, NULL, NULL, NULL));
    done(&x);
}

/* A scope that starts below the root bus ({endpoint: 01:00.0}: start bus 1,
 * path 00.0) names the endpoint behind the root port only once the root
 * port's secondary bus number is programmed: before enumeration the
 * endpoint goes to the INCLUDE_PCI_ALL unit, after it to its own; a bridge
 * scope covers everything below the bridge; a root-bus scope (00:00.0)
 * names only the root bus's function, not a function with the same devfn
 * below a bridge. */
static void test_scope_below_the_root_bus(void **state)
{
    (void)state;
    static const char text[] =
        "name: bus-scopes\n"
        "iommu: vtd\n"
        "root_complex:\n"
        "  buses: [0, 3]\n"
        "  ecam: 0xe0000000\n"
        "  mmio32: {base: 0xc0000000, size: 256M}\n"
        "  functions:\n"
        "    - {bdf: 00:00.0, kind: host_bridge, vendor: 0x8086, device: 0x3e34}\n"
        "    - bdf: 00:1c.0\n"
        "      kind: root_port\n"
        "      vendor: 0x8086\n"
        "      device: 0xa338\n"
        "      capabilities: {pcie: {max_speed: gen2, max_width: 1}}\n"
        "      children:\n"
        "        - devfn: 00.0\n"
        "          kind: endpoint\n"
        "          vendor: 0x1204\n"
        "          device: 0x5045\n"
        "          class: 0x118000\n"
        "          capabilities: {pcie: {max_speed: gen2, max_width: 1}}\n"
        "    - bdf: 00:1d.0\n"
        "      kind: root_port\n"
        "      vendor: 0x8086\n"
        "      device: 0xa330\n"
        "      capabilities: {pcie: {max_speed: gen2, max_width: 1}}\n"
        "      children:\n"
        "        - devfn: 00.0\n"
        "          kind: endpoint\n"
        "          vendor: 0x1204\n"
        "          device: 0x5046\n"
        "          class: 0x118000\n"
        "          capabilities: {pcie: {max_speed: gen2, max_width: 1}}\n"
        "firmware:\n"
        "  dmar:\n"
        "    intr_remap: true\n"
        "    drhd:\n"
        "      - {base: 0xfed90000, devices: [00:00.0, 01:00.0]}\n"
        "      - {base: 0xfed91000, devices: [{bridge: 00:1d.0}]}\n"
        "      - {base: 0xfed92000, include_pci_all: true}\n";
    struct scn_machine m;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    if (scn_load_string("bus-scopes", text, strlen(text), &m, &err) < 0)
        fail_msg("%s", err.msg);
    struct pcilab_sim *sim = sim_create(1);
    struct scn_system *sys;
    assert_int_equal(scn_build(&m, sim, &sys, &err), 0);
    assert_int_equal(scn_system_vtd_count(sys), 3);
    struct iommu *u0 = vtd_iommu(scn_system_vtd(sys, 0)), *u1 = vtd_iommu(scn_system_vtd(sys, 1)),
                 *u2 = vtd_iommu(scn_system_vtd(sys, 2));
    struct iommu_router *r = scn_system_vtd_router(sys);
    struct pcie_fabric *f = scn_system_fabric(sys);
    /* the endpoints in creation order: after 00:1c.0 and after 00:1d.0 */
    struct pcie_fn *ep1 = NULL, *ep2 = NULL, *rp2 = pcie_fabric_find(f, 0x00e8);
    for (size_t i = 0; i < pcie_fabric_fn_count(f); i++) {
        struct pcie_fn *fn = pcie_fabric_fn_at(f, i);
        if (pcie_fn_kind(fn) != PCIE_FN_ENDPOINT)
            continue;
        if (!ep1)
            ep1 = fn;
        else
            ep2 = fn;
    }
    assert_non_null(ep1);
    assert_non_null(ep2);
    assert_non_null(rp2);
    /* before enumeration: bus 1 is nowhere yet, and the endpoints (devfn
     * 00.0 behind bridges whose secondary bus reads 0) are not 00:00.0 */
    assert_ptr_equal(iommu_router_unit_of(r, ep1), u2);
    assert_ptr_equal(iommu_router_unit_of(r, ep2), u1);
    assert_ptr_equal(iommu_router_unit_of(r, rp2), u1);
    struct pcie_enum_report rep;
    assert_int_equal(scn_enumerate(sys, &rep, &err), 0);
    assert_int_equal(pcie_fn_bdf(ep1), 0x0100);
    assert_ptr_equal(iommu_router_unit_of(r, ep1), u0);
    assert_ptr_equal(iommu_router_unit_of(r, ep2), u1);
    assert_ptr_equal(iommu_router_unit_of(r, pcie_fabric_find(f, 0x00e0)), u2); /* 00:1c.0 */
    assert_ptr_equal(iommu_router_unit_of(r, pcie_fabric_find(f, 0x0000)), u0);
    pcie_enum_report_free(&rep);
    sim_destroy(sim);
    scn_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_device_its_unit),
        cmocka_unit_test(test_faults_recorded_by_their_unit),
        cmocka_unit_test(test_rmrr_in_the_graphics_unit),
        cmocka_unit_test(test_igfx_off_ignores_the_graphics_unit),
        cmocka_unit_test(test_device_in_no_unit),
        cmocka_unit_test(test_scope_below_the_root_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
