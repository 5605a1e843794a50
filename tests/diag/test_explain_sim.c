/* pcilab explain --simulate (src/diag/explain_sim.h): a request becomes a
 * scenario the loader takes, whose machine puts the board where the log says
 * and makes it send the logged requester ID; VT-d DMA faults and the
 * missing-mapping / permission categories on the edu machine with the
 * driver's mistake= chosen from the finding; fault lines are read in each
 * version's form (AMD-Vi and VT-d) and compared field by field. The runs
 * themselves are tests/cli/explain_sim.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag/explain_sim.h"
#include "pcie/enumerate.h"
#include "pcie/topology.h"
#include "scenario/build.h"
#include "scenario/scenario.h"
#include "sim/sim.h"

#define SEED_LINE "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]"

static void parse(const char *text, struct explain_sim_fault *f)
{
    struct pcilab_err err;
    assert_int_equal(explain_sim_fault_parse(text, strlen(text), f, &err), 0);
}

static bool has_set(const char (*sets)[EXPLAIN_SIM_SET_LEN], size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(sets[i], want))
            return true;
    return false;
}

/* A loaded machine built on a new simulation and enumerated; unbuild frees
 * what build made (the description stays the caller's). */
struct built {
    struct pcilab_sim *sim;
    struct scn_system *sys;
    struct pcie_enum_report rep;
};

static void build(struct scn_machine *m, struct built *b)
{
    struct pcilab_err err;
    pcilab_err_clear(&err);
    b->sim = sim_create(m->seed);
    memset(&b->rep, 0, sizeof b->rep);
    if (scn_build(m, b->sim, &b->sys, &err) < 0 || scn_enumerate(b->sys, &b->rep, &err) < 0)
        fail_msg("%s", err.msg);
}

static void unbuild(struct built *b)
{
    pcie_enum_report_free(&b->rep);
    sim_destroy(b->sim);
}

/* The scenario text, loaded with its --set keys applied as pcilab run would. */
static void load(const struct explain_sim_scn *s, bool fixed, struct scn_machine *m)
{
    struct pcilab_err err;
    pcilab_err_clear(&err);
    int r = scn_load_string("explain.yaml", s->yaml, strlen(s->yaml), m, &err);
    if (r < 0)
        fail_msg("%s:%u:%u: %s\n%s", err.file, err.line, err.col, err.msg, s->yaml);
    size_t n = fixed ? s->nfixed : s->nseen;
    for (size_t i = 0; i < n; i++) {
        char key[EXPLAIN_SIM_SET_LEN];
        const char *set = fixed ? s->fixed[i] : s->seen[i];
        const char *eq = strchr(set, '=');
        assert_non_null(eq);
        snprintf(key, sizeof key, "%.*s", (int)(eq - set), set);
        if (scn_set(m, key, eq + 1, &err) < 0)
            fail_msg("--set %s: %s", set, err.msg);
    }
}

static void test_parse_forms(void **state)
{
    (void)state;
    struct explain_sim_fault f;
    /* the seed's fragment: 4.9's second record, mail damage already joined */
    parse(SEED_LINE, &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_4_9);
    assert_true(f.has_rid && !f.has_segment);
    assert_int_equal(f.rid, 0x0000);
    assert_true(f.has_domain && f.domain == 0);
    assert_true(f.has_addr && f.addr == 0xffbf8000ull);
    assert_true(f.has_flags && f.flags == 0x70);
    /* with a dmesg time */
    parse("[   49.001605] IO_PAGE_FAULT device=01:00.0 domain=0x0002 address=0x00000000ffbf8000 "
          "flags=0x0020]", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_4_9);
    assert_int_equal(f.rid, 0x0100);
    assert_int_equal(f.domain, 2);
    assert_int_equal(f.flags, 0x20);
    assert_string_equal(f.text, "IO_PAGE_FAULT device=01:00.0 domain=0x0002 address="
                                "0x00000000ffbf8000 flags=0x0020]");
    /* the two records joined by a reader (explain joins with a space) */
    parse("AMD-Vi: Event logged [ IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
          "address=0x00000000ffbf8000 flags=0x0070]", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_4_9);
    /* 4.20: one record, 16 digits */
    parse("AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
          "address=0x00000000ffbf8000 flags=0x0070]", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_4_20);
    /* 5.x: %llx */
    parse("AMD-Vi: Event logged [IO_PAGE_FAULT device=03:00.0 domain=0x000e address=0x1000 "
          "flags=0x0010]", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_5_15);
    assert_int_equal(f.rid, 0x0300);
    assert_int_equal(f.addr, 0x1000);
    /* 6.1: the segment */
    parse("AMD-Vi: Event logged [IO_PAGE_FAULT device=0001:0a:00.1 domain=0x0000 "
          "address=0xfff00000 flags=0x0070]", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_6_1);
    assert_true(f.has_segment);
    assert_int_equal(f.segment, 1);
    assert_int_equal(f.rid, 0x0a01);
    /* the per-device form: the requester is the device printed on */
    parse("ecp5_dma 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0002 "
          "address=0xffbf8000 flags=0x0020]", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_5_15);
    assert_true(f.has_rid && f.has_segment);
    assert_int_equal(f.rid, 0x0100);
    assert_int_equal(f.domain, 2);
    /* not a fault line: 4.9's first record, a VT-d line */
    struct pcilab_err err;
    assert_int_equal(explain_sim_fault_parse("AMD-Vi: Event logged [", 22, &f, &err),
                     -PCILAB_EINVAL);
    const char *dmar = "DMAR: [DMA Write] Request device [00:00.0] fault addr ffbf8000";
    assert_int_equal(explain_sim_fault_parse(dmar, strlen(dmar), &f, &err), -PCILAB_EINVAL);
    /* kmsg's format names */
    assert_int_equal(explain_sim_form_of_format("amdvi-split"), EXPLAIN_SIM_FORM_4_9);
    assert_int_equal(explain_sim_form_of_format("amdvi-4.x"), EXPLAIN_SIM_FORM_4_20);
    assert_int_equal(explain_sim_form_of_format("amdvi-dev-4.x"), EXPLAIN_SIM_FORM_4_20);
    assert_int_equal(explain_sim_form_of_format("amdvi-5.x"), EXPLAIN_SIM_FORM_5_15);
    assert_int_equal(explain_sim_form_of_format("amdvi-dev"), EXPLAIN_SIM_FORM_5_15);
    assert_int_equal(explain_sim_form_of_format("amdvi-6.1-seg"), EXPLAIN_SIM_FORM_6_1);
    assert_int_equal(explain_sim_form_of_format("vtd-4.x"), EXPLAIN_SIM_FORM_UNKNOWN);
}

static void seed_req(struct explain_sim_req *req)
{
    memset(req, 0, sizeof *req);
    req->family = KMSG_FAM_AMDVI;
    req->kind = KMSG_AMDVI_IO_PAGE_FAULT;
    req->category = DIAG_REQUESTER_ID_MISMATCH;
    parse(SEED_LINE, &req->line);
}

/* The seed's line: the seed machine as it is, kernel from the form. */
static void test_seed(void **state)
{
    (void)state;
    struct explain_sim_req req;
    seed_req(&req);
    req.count = 1;
    struct explain_sim_scn s;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_string_equal(s.run_arg, "seed");
    assert_string_equal(s.kernel, "4.9.80");
    assert_string_equal(s.label, "ecp5");
    assert_int_equal(s.device_bdf, 0x0100);
    assert_int_equal(s.expect.form, EXPLAIN_SIM_FORM_4_9);
    assert_int_equal(s.expect.addr, 0xffbf8000ull);
    assert_int_equal(s.nseen, 2); /* one line: no rate, the board's defaults */
    assert_true(has_set(s.seen, s.nseen, "kernel.version=4.9.80"));
    assert_true(has_set(s.seen, s.nseen, "ecp5.write_rid=zero"));
    assert_string_equal(s.fix, "ecp5.requester_id=captured");
    assert_int_equal(s.nfixed, s.nseen + 1);
    assert_true(has_set(s.fixed, s.nfixed, "ecp5.requester_id=captured"));
    assert_non_null(strstr(s.yaml, "\nbase: seed\n"));
    /* insmod at 0.1 s, three 2.5 ms transfers, 1 ms */
    assert_int_equal(s.until, 100 * SIM_MS + 3 * 2500 * SIM_US + SIM_MS);
    bool said = false;
    for (size_t i = 0; i < s.nnotes; i++)
        said |= strstr(s.notes[i], "the seed's machine") != NULL;
    assert_true(said);

    /* the scenario: the seed's, the board's write engine sending 0000; the
     * fix captures the ID on every engine */
    struct scn_machine m;
    load(&s, false, &m);
    int i = scn_find_func(&m, "ecp5");
    assert_true(i >= 0);
    assert_string_equal(scn_param_get(&m.funcs[i], "write_rid"), "zero");
    assert_string_equal(m.kernel.version, "4.9.80");
    scn_free(&m);
    load(&s, true, &m);
    i = scn_find_func(&m, "ecp5");
    assert_string_equal(scn_param_get(&m.funcs[i], "requester_id"), "captured");
    assert_null(scn_param_get(&m.funcs[i], "write_rid"));
    scn_free(&m);
    explain_sim_scn_free(&s);

    /* the 6.1 form of the same fault, with the log's own release */
    seed_req(&req);
    parse("AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:00.0 domain=0x0000 "
          "address=0xffbf8000 flags=0x0070]", &req.line);
    snprintf(req.kernel, sizeof req.kernel, "6.1.0-13-amd64");
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_string_equal(s.run_arg, "seed");
    assert_string_equal(s.kernel, "6.1");
    assert_true(has_set(s.seen, s.nseen, "kernel.version=6.1"));
    explain_sim_scn_free(&s);

    /* a release that is not modelled: the one with the same form */
    seed_req(&req);
    snprintf(req.kernel, sizeof req.kernel, "4.14.0");
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_string_equal(s.kernel, "4.9.80");
    said = false;
    for (size_t k = 0; k < s.nnotes; k++)
        said |= strstr(s.notes[k], "4.14.0 is not modelled") != NULL;
    assert_true(said);
    explain_sim_scn_free(&s);
}

/* Another machine: a 5.x log, the driver printing on 03:00.1, twelve lines
 * three per transfer 10 ms apart: a generic machine puts the board there
 * with the rate and payload the log shows. */
static void test_generic(void **state)
{
    (void)state;
    struct explain_sim_req req;
    memset(&req, 0, sizeof req);
    req.family = KMSG_FAM_AMDVI;
    req.kind = KMSG_AMDVI_IO_PAGE_FAULT;
    req.category = DIAG_REQUESTER_ID_MISMATCH;
    parse("AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0xfff00000 "
          "flags=0x0070]", &req.line);
    req.has_device = true;
    req.device_bdf = 0x0301;
    snprintf(req.device_driver, sizeof req.device_driver, "myfpga");
    req.count = 12;
    req.transfers = 4;
    req.has_times = true;
    req.first_ns = 10000000000;
    req.last_ns = 10030000000;
    struct explain_sim_scn s;
    struct pcilab_err err;
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_string_equal(s.run_arg, "");
    assert_string_equal(s.kernel, "5.15");
    assert_string_equal(s.label, "fpga");
    assert_int_equal(s.device_bdf, 0x0301);
    assert_true(has_set(s.seen, s.nseen, "kernel.version=5.15"));
    assert_true(has_set(s.seen, s.nseen, "fpga.write_rid=zero"));
    assert_true(has_set(s.seen, s.nseen, "fpga.payload=384"));  /* 3 TLPs at MPS 128 */
    assert_true(has_set(s.seen, s.nseen, "fpga.period=10000us"));
    assert_string_equal(s.fix, "fpga.requester_id=captured");
    assert_int_equal(s.until, 100 * SIM_MS + 30 * SIM_MS + SIM_MS);

    /* the scenario loads and, once enumerated, has the board at 03:00.1 */
    struct scn_machine m;
    load(&s, false, &m);
    assert_string_equal(m.kernel.version, "5.15");
    int i = scn_find_func(&m, "fpga");
    assert_true(i >= 0);
    assert_string_equal(m.funcs[i].model, "ecp5_dma");
    assert_string_equal(scn_param_get(&m.funcs[i], "payload"), "384");
    struct built b;
    build(&m, &b);
    const struct scn_sysfn *f = scn_system_find(b.sys, "fpga");
    assert_non_null(f);
    assert_int_equal(pcie_fn_bdf(f->fn), 0x0301);
    /* the requester 00:00.0 is the root complex, a host bridge */
    f = scn_system_find(b.sys, "rc");
    assert_non_null(f);
    assert_int_equal(pcie_fn_bdf(f->fn), 0x0000);
    assert_int_equal(f->kind, SCN_HOST_BRIDGE);
    unbuild(&b);
    scn_free(&m);
    explain_sim_scn_free(&s);

    /* a read fault from 00:02.0 with a domain of its own: a host bridge
     * there, the read engine sending it */
    parse("AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:05.2 domain=0x0003 "
          "address=0x1000 flags=0x0050]", &req.line);
    req.count = 0;
    req.has_times = false;
    req.device_bdf = 0x0100;
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_string_equal(s.kernel, "6.1");
    assert_true(has_set(s.seen, s.nseen, "fpga.read_rid=00:05.2"));
    assert_true(has_set(s.seen, s.nseen, "fpga.write_rid=captured"));
    load(&s, false, &m);
    i = scn_find_func(&m, "requester");
    assert_true(i >= 0);
    assert_int_equal(m.funcs[i].dev, 5);
    assert_int_equal(m.funcs[i].fn, 2);
    assert_int_equal(m.funcs[i].kind, SCN_HOST_BRIDGE);
    scn_free(&m);
    explain_sim_scn_free(&s);
}

static void test_refused(void **state)
{
    (void)state;
    struct explain_sim_req req;
    struct explain_sim_scn s;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    /* a VT-d interrupt-remapping fault: no device model sends one */
    seed_req(&req);
    req.family = KMSG_FAM_VTD;
    req.kind = KMSG_VTD_IR_FAULT;
    assert_int_equal(explain_sim_build(&req, &s, &err), -PCILAB_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "VT-d INTR-REMAP lines are not reproduced"));
    assert_null(s.yaml);
    /* a wrong requester ID under VT-d: the generic machine, its IOMMU QEMU's
     * VT-d unit, the requester (reason 2: no context entry) not placed */
    seed_req(&req);
    parse("DMAR: [DMA Write NO_PASID] Request device [00:00.0] fault addr 0xffbf8000 "
          "[fault reason 0x02] Present bit in context entry is clear", &req.line);
    req.family = KMSG_FAM_VTD;
    req.kind = KMSG_VTD_DMA_FAULT;
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_null(strstr(s.yaml, "base: seed"));
    bool iommu_vtd = false, cmdline_on = false;
    for (size_t i = 0; i < s.nseen; i++) {
        iommu_vtd |= !strcmp(s.seen[i], "iommu=vtd");
        cmdline_on |= !strcmp(s.seen[i], "kernel.cmdline=intel_iommu=on");
    }
    assert_true(iommu_vtd && cmdline_on);
    explain_sim_scn_free(&s);
    /* a category no model makes */
    seed_req(&req);
    req.category = DIAG_IOTLB_INVALIDATION;
    assert_int_equal(explain_sim_build(&req, &s, &err), -PCILAB_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "iotlb-invalidation"));
    /* missing-mapping of a read: no edu mistake reads an unmapped address */
    seed_req(&req);
    req.category = DIAG_MISSING_MAPPING;
    parse("IO_PAGE_FAULT device=00:03.0 domain=0x0002 address=0x000000000fffd000 "
          "flags=0x0000]", &req.line);
    assert_int_equal(explain_sim_build(&req, &s, &err), -PCILAB_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "a read from an address with no mapping"));
    /* the requester is the device itself */
    seed_req(&req);
    parse("IO_PAGE_FAULT device=01:00.0 domain=0x0002 address=0x00000000ffbf8000 "
          "flags=0x0020]", &req.line);
    req.has_device = true;
    req.device_bdf = 0x0100;
    assert_int_equal(explain_sim_build(&req, &s, &err), -PCILAB_EINVAL);
    /* no form and no version */
    seed_req(&req);
    req.line.form = EXPLAIN_SIM_FORM_UNKNOWN;
    assert_int_equal(explain_sim_build(&req, &s, &err), -PCILAB_EINVAL);
}

/* Every DMA fault form kmsg_vtd.c reads, with its fields. */
static void test_parse_vtd(void **state)
{
    (void)state;
    struct explain_sim_fault f;
    /* 4.4-4.6: two records, pasted together (with the second's time) */
    parse("[ 12.000001] DMAR:[DMA Write] Request device [00:03.0] fault addr ffff000 \n"
          "[ 12.000002] DMAR:[fault reason 05] PTE Write access is not set", &f);
    assert_int_equal(f.family, KMSG_FAM_VTD);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_VTD_4_4);
    assert_true(f.has_rid && !f.has_segment);
    assert_int_equal(f.rid, 0x0018);
    assert_int_equal(f.dir, KMSG_DIR_WRITE);
    assert_true(f.has_reason && f.reason == 5);
    assert_true(f.has_addr && f.addr == 0xffff000);
    assert_false(f.has_domain || f.has_flags);
    /* either record alone is no line */
    struct pcilab_err err;
    const char *head = "DMAR:[DMA Write] Request device [00:03.0] fault addr ffff000";
    assert_int_equal(explain_sim_fault_parse(head, strlen(head), &f, &err), -PCILAB_EINVAL);
    const char *tail = "DMAR:[fault reason 05] PTE Write access is not set";
    assert_int_equal(explain_sim_fault_parse(tail, strlen(tail), &f, &err), -PCILAB_EINVAL);
    /* 4.7-4.20: one record, the reason in decimal */
    parse("DMAR: [DMA Read] Request device [02:00.1] fault addr 7c346000 [fault reason 06] "
          "PTE Read access is not set", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_VTD_4_7);
    assert_int_equal(f.rid, 0x0201);
    assert_int_equal(f.dir, KMSG_DIR_READ);
    assert_int_equal(f.reason, 6);
    /* 5.1-5.14: PASID before the address */
    parse("DMAR: [DMA Write] Request device [00:03.0] PASID ffffffff fault addr fffd000 "
          "[fault reason 05] PTE Write access is not set", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_VTD_5_1);
    assert_int_equal(f.addr, 0xfffd000);
    /* 5.15-: NO_PASID, hex reason; "[fault reason 32]" would be decimal */
    parse("[    6.303312] DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr "
          "0xfffd000 [fault reason 0x05] PTE Write access is not set", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_VTD_5_15);
    assert_int_equal(f.reason, 5);
    assert_int_equal(f.addr, 0xfffd000);
    assert_string_equal(f.text, "DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault "
                                "addr 0xfffd000 [fault reason 0x05] PTE Write access is not set");
    parse("DMAR: [DMA Read PASID 0x1] Request device [00:03.0] fault addr 0x1000 "
          "[fault reason 0x06] PTE Read access is not set", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_VTD_5_15);
    assert_int_equal(f.dir, KMSG_DIR_READ);
    /* the segment form */
    parse("DMAR: [DMA Write NO_PASID] Request device [0001:00:03.0] fault addr 0x1000 "
          "[fault reason 0x05] PTE Write access is not set", &f);
    assert_int_equal(f.form, EXPLAIN_SIM_FORM_VTD_SEG);
    assert_true(f.has_segment && f.segment == 1);
    /* an interrupt-remapping fault is no DMA fault line */
    const char *ir = "DMAR: [INTR-REMAP] Request device [00:03.0] fault index 0x2 "
                     "[fault reason 0x22] Present field in the IRTE entry is clear";
    assert_int_equal(explain_sim_fault_parse(ir, strlen(ir), &f, &err), -PCILAB_EINVAL);
    /* the AMD-Vi line's direction comes from RW */
    parse(SEED_LINE, &f);
    assert_int_equal(f.family, KMSG_FAM_AMDVI);
    assert_int_equal(f.dir, KMSG_DIR_WRITE);
    assert_false(f.has_reason);
}

static void vtd_req(struct explain_sim_req *req, enum diag_category cat, const char *line)
{
    memset(req, 0, sizeof *req);
    parse(line, &req->line);
    req->family = req->line.family;
    req->kind = req->family == KMSG_FAM_VTD ? KMSG_VTD_DMA_FAULT : KMSG_AMDVI_IO_PAGE_FAULT;
    req->category = cat;
}

static void add_map(struct explain_sim_req *req, uint64_t handle, uint64_t size, uint64_t phys,
                    bool to_device)
{
    struct explain_sim_map *m = &req->map[req->nmaps++];
    m->handle = handle;
    m->size = size;
    m->has_phys = phys != 0;
    m->phys = phys;
    m->to_device = to_device;
}

#define VTD_W(addr) "DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr " addr \
                    " [fault reason 0x05] PTE Write access is not set"

/* The finding's category, direction, address and the driver's mapping lines
 * pick the edu driver's mistake. */
static void test_edu_mistake(void **state)
{
    (void)state;
    struct explain_sim_req req;
    char why[320];
    /* the edu driver's own lines: store FROM_DEVICE at 0xffff000, source
     * TO_DEVICE at 0xfffe000 (tests/linux/captured/edu-vtd-*.log) */
#define EDU_MAPS(r)                                                         \
    do {                                                                    \
        add_map(r, 0xffff000, 4096, 0x2c6a000, false);                      \
        add_map(r, 0xfffe000, 4096, 0x1d5f000, true);                       \
    } while (0)
    vtd_req(&req, DIAG_MISSING_MAPPING, VTD_W("0xfffd000"));
    EDU_MAPS(&req);
    assert_string_equal(explain_sim_edu_mistake(&req, why, sizeof why), "unmapped-iova");
    assert_non_null(strstr(why, "no mapping line of the log names"));
    vtd_req(&req, DIAG_MISSING_MAPPING, VTD_W("0x2c6a000"));
    EDU_MAPS(&req);
    assert_string_equal(explain_sim_edu_mistake(&req, why, sizeof why), "phys-addr");
    /* driver-api-misuse: only the physical address */
    req.category = DIAG_DRIVER_API_MISUSE;
    assert_string_equal(explain_sim_edu_mistake(&req, why, sizeof why), "phys-addr");
    vtd_req(&req, DIAG_DRIVER_API_MISUSE, VTD_W("0xfffd000"));
    EDU_MAPS(&req);
    assert_null(explain_sim_edu_mistake(&req, why, sizeof why));
    assert_non_null(strstr(why, "driver-api-misuse"));
    vtd_req(&req, DIAG_MISSING_MAPPING, VTD_W("0x10000000"));
    EDU_MAPS(&req);
    assert_string_equal(explain_sim_edu_mistake(&req, why, sizeof why), "straddle-end");
    vtd_req(&req, DIAG_MISSING_MAPPING, VTD_W("0xffff000"));
    EDU_MAPS(&req);
    assert_string_equal(explain_sim_edu_mistake(&req, why, sizeof why), "use-after-unmap");
    /* the same address with no mapping line: never mapped, as far as the log says */
    req.nmaps = 0;
    assert_string_equal(explain_sim_edu_mistake(&req, why, sizeof why), "unmapped-iova");
    /* a write into the TO_DEVICE buffer's page found missing is not "after unmap" */
    vtd_req(&req, DIAG_MISSING_MAPPING, VTD_W("0xfffe000"));
    EDU_MAPS(&req);
    assert_string_equal(explain_sim_edu_mistake(&req, why, sizeof why), "unmapped-iova");
    /* permission: the direction picks */
    vtd_req(&req, DIAG_PERMISSION, VTD_W("0xffff000"));
    assert_string_equal(explain_sim_edu_mistake(&req, why, sizeof why), "write-to-device-map");
    vtd_req(&req, DIAG_PERMISSION,
            "DMAR: [DMA Read NO_PASID] Request device [00:03.0] fault addr 0xfffe000 "
            "[fault reason 0x06] PTE Read access is not set");
    assert_string_equal(explain_sim_edu_mistake(&req, why, sizeof why), "read-from-device-map");
    /* AMD-Vi: RW from the flags */
    vtd_req(&req, DIAG_PERMISSION, "edu 0000:00:03.0: AMD-Vi: Event logged [IO_PAGE_FAULT "
                                   "domain=0x0002 address=0xfffe000 flags=0x0050]");
    assert_string_equal(explain_sim_edu_mistake(&req, why, sizeof why), "read-from-device-map");
    /* another category */
    req.category = DIAG_SWIOTLB_EXHAUSTION;
    assert_null(explain_sim_edu_mistake(&req, why, sizeof why));
#undef EDU_MAPS
}

/* The edu scenario: the built-in machine, the IOMMU always set, the kernel
 * from the version line or the form, the fix mistake=ok. */
static void test_edu_build(void **state)
{
    (void)state;
    struct explain_sim_req req;
    struct explain_sim_scn s;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    vtd_req(&req, DIAG_PERMISSION, VTD_W("0xffff000"));
    snprintf(req.kernel, sizeof req.kernel, "6.1.0-57-amd64");
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_string_equal(s.run_arg, "edu");
    assert_string_equal(s.label, "edu");
    assert_string_equal(s.mistake, "write-to-device-map");
    assert_string_equal(s.kernel, "6.1");
    assert_int_equal(s.device_bdf, 0x0018);
    assert_int_equal(s.nseen, 4);
    assert_string_equal(s.seen[0], "iommu=vtd");
    assert_string_equal(s.seen[1], "kernel.version=6.1");
    assert_string_equal(s.seen[2], "kernel.cmdline=intel_iommu=on");
    assert_string_equal(s.seen[3], "edu.mistake=write-to-device-map");
    assert_int_equal(s.nfixed, 4);
    assert_true(has_set(s.fixed, s.nfixed, "kernel.cmdline=intel_iommu=on"));
    assert_true(has_set(s.fixed, s.nfixed, "iommu=vtd"));
    assert_true(has_set(s.fixed, s.nfixed, "edu.mistake=ok"));
    assert_false(has_set(s.fixed, s.nfixed, "edu.mistake=write-to-device-map"));
    assert_string_equal(s.fix, "edu.mistake=ok");
    assert_int_equal(s.expect.form, EXPLAIN_SIM_FORM_VTD_5_15);
    assert_non_null(strstr(s.yaml, "base: edu\n"));
    assert_non_null(strstr(s.yaml, "  iommu: \"vtd\"\n"));
    assert_non_null(strstr(s.yaml, "  edu.mistake: \"write-to-device-map\"\n"));
    assert_non_null(strstr(s.yaml, "  kernel.cmdline: \"intel_iommu=on\"\n"));
    bool said = false;
    for (size_t i = 0; i < s.nnotes; i++)
        said = said || strstr(s.notes[i], "stand in for the log's device");
    assert_true(said);
    struct scn_machine m;
    load(&s, false, &m);
    scn_free(&m);
    load(&s, true, &m);
    scn_free(&m);
    explain_sim_scn_free(&s);

    /* 4.4's two records, no version line: 4.9.80, whose form differs (said) */
    vtd_req(&req, DIAG_MISSING_MAPPING,
            "DMAR:[DMA Write] Request device [00:03.0] fault addr fffd000 \n"
            "DMAR:[fault reason 05] PTE Write access is not set");
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_string_equal(s.kernel, "4.9.80");
    assert_string_equal(s.mistake, "unmapped-iova");
    assert_int_equal(s.expect.form, EXPLAIN_SIM_FORM_VTD_4_4);
    assert_non_null(strstr(s.notes[0], "which no modelled kernel prints; 4.9.80"));
    explain_sim_scn_free(&s);

    /* AMD-Vi on the same machine; a requester elsewhere is compared as the
     * stand-in's BDF, said so */
    vtd_req(&req, DIAG_MISSING_MAPPING, "IO_PAGE_FAULT device=05:00.0 domain=0x0002 "
                                        "address=0x00000000fffd0000 flags=0x0020]");
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_string_equal(s.seen[0], "iommu=amd-vi");
    assert_int_equal(s.nseen, 3); /* AMD-Vi translates by default */
    assert_string_equal(s.kernel, "4.9.80");
    assert_int_equal(s.expect.rid, 0x0018);
    said = false;
    for (size_t i = 0; i < s.nnotes; i++)
        said = said || strstr(s.notes[i], "the log's requester 0000:05:00.0 is the stand-in's");
    assert_true(said);
    explain_sim_scn_free(&s);
}

static void test_compare(void **state)
{
    (void)state;
    struct explain_sim_fault log, run;
    struct explain_sim_cmp c;
    char buf[400];
    parse(SEED_LINE, &log);
    parse("[    0.102500] " SEED_LINE, &run);
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.requester, EXPLAIN_SIM_SAME);
    assert_int_equal(c.domain, EXPLAIN_SIM_SAME);
    assert_int_equal(c.address, EXPLAIN_SIM_SAME);
    assert_int_equal(c.flags, EXPLAIN_SIM_SAME);
    assert_int_equal(c.form, EXPLAIN_SIM_SAME);
    assert_true(c.reproduced && c.exact);
    explain_sim_cmp_str(&c, &log, &run, buf, sizeof buf);
    assert_string_equal(buf, "matches the log's: requester, flags, domain, address");

    /* the address differs: reproduced, not exact */
    run.addr = 0xffff8000;
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.address, EXPLAIN_SIM_DIFFERS);
    assert_true(c.reproduced && !c.exact);
    explain_sim_cmp_str(&c, &log, &run, buf, sizeof buf);
    assert_string_equal(buf, "matches the log's: requester, flags, domain; address differs: "
                             "0xffbf8000 (log) vs 0xffff8000 (run)");
    /* each of requester, domain, flags alone breaks it */
    parse(SEED_LINE, &run);
    run.rid = 0x0100;
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.requester, EXPLAIN_SIM_DIFFERS);
    assert_false(c.reproduced);
    explain_sim_cmp_str(&c, &log, &run, buf, sizeof buf);
    assert_non_null(strstr(buf, "requester differs: 00:00.0 (log) vs 01:00.0 (run)"));
    parse(SEED_LINE, &run);
    run.domain = 2;
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.domain, EXPLAIN_SIM_DIFFERS);
    assert_false(c.reproduced); /* in no domain (log) vs in one (run) */
    /* two non-zero domain IDs: the same kind of request, numbered in a
     * different attach order: reproduced, not exact */
    log.domain = 5;
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.domain, EXPLAIN_SIM_DIFFERS);
    assert_true(c.reproduced);
    assert_false(c.exact);
    run.domain = 0;
    explain_sim_compare(&log, &run, &c);
    assert_false(c.reproduced); /* in one (log) vs in none (run) */
    parse(SEED_LINE, &log);
    parse(SEED_LINE, &run);
    run.flags = 0x20;
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.flags, EXPLAIN_SIM_DIFFERS);
    assert_false(c.reproduced);
    explain_sim_cmp_str(&c, &log, &run, buf, sizeof buf);
    assert_non_null(strstr(buf, "flags differs: 0x0070 (log) vs 0x0020 (run)"));
    /* the segment counts only when both lines write one */
    parse("AMD-Vi: Event logged [IO_PAGE_FAULT device=0001:00:00.0 domain=0x0000 "
          "address=0xffbf8000 flags=0x0070]", &log);
    parse("AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:00.0 domain=0x0000 "
          "address=0xffbf8000 flags=0x0070]", &run);
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.requester, EXPLAIN_SIM_DIFFERS);
    parse(SEED_LINE, &run);
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.requester, EXPLAIN_SIM_SAME);
    assert_int_equal(c.form, EXPLAIN_SIM_DIFFERS);
    assert_true(c.reproduced);
    assert_false(c.exact);
    /* a field the log lacks is not held against the run */
    parse(SEED_LINE, &log);
    log.has_domain = false;
    parse(SEED_LINE, &run);
    run.domain = 7;
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.domain, EXPLAIN_SIM_ABSENT);
    assert_true(c.reproduced);
}


/* ---- the user's machine from a configuration dump ---- */

/* A Ryzen-like machine: root complex 1022:1480, IOMMU 1022:1481 (unless
 * no_iommu), an FPGA 10ee:7024 at 03:00.0 behind a PLX switch below root
 * port 00:01.1, an NVMe drive at 05:00.0 below 00:01.2. */
static const char *ryzen_yaml(bool no_iommu)
{
    static const char head[] =
        "name: ryzen\nseed: 1\nroot_complex:\n  segment: 0\n  buses: [0, 0x3f]\n"
        "  ecam: 0xf0000000\n  mmio32: {base: 0xc0000000, size: 512M}\n"
        "  mmio64: {base: 0x400000000, size: 16G}\n  io: {base: 0x1000, size: 60K}\n"
        "  functions:\n"
        "    - {bdf: 00:00.0, kind: host_bridge, vendor: 0x1022, device: 0x1480}\n";
    static const char iommu[] =
        "    - {bdf: 00:00.2, kind: integrated, vendor: 0x1022, device: 0x1481, class: 0x080600,\n"
        "       capabilities: {iommu: {base: 0xfd200000, offset: 0x40},\n"
        "                      msi: {vectors: 1, addr64: true, offset: 0x64}}}\n";
    static const char rest[] =
        "    - {bdf: 00:01.0, kind: host_bridge, vendor: 0x1022, device: 0x1482}\n"
        "    - bdf: 00:01.1\n      kind: root_port\n      vendor: 0x1022\n      device: 0x1483\n"
        "      capabilities: {pcie: {max_speed: gen4, max_width: 8}, aer: true, acs: {source_validation: true}}\n"
        "      children:\n"
        "        - devfn: 00.0\n          kind: upstream_port\n          vendor: 0x10b5\n"
        "          device: 0x8724\n          capabilities: {pcie: {max_speed: gen3, max_width: 8}}\n"
        "          children:\n"
        "            - devfn: 01.0\n              kind: downstream_port\n              vendor: 0x10b5\n"
        "              device: 0x8724\n              capabilities: {pcie: {max_speed: gen3, max_width: 4}}\n"
        "              children:\n"
        "                - {devfn: 00.0, kind: endpoint, vendor: 0x10ee, device: 0x7024, revision: 0x03,\n"
        "                   class: 0x058000, subsystem: {vendor: 0x10ee, device: 0x0007},\n"
        "                   bars: [{index: 0, type: mem32, size: 1M}],\n"
        "                   capabilities: {pcie: {max_speed: gen2, max_width: 4}}}\n"
        "            - {devfn: 02.0, kind: downstream_port, vendor: 0x10b5, device: 0x8724,\n"
        "               capabilities: {pcie: {max_speed: gen3, max_width: 4}}}\n"
        "    - bdf: 00:01.2\n      kind: root_port\n      vendor: 0x1022\n      device: 0x1483\n"
        "      capabilities: {pcie: {max_speed: gen4, max_width: 4}}\n"
        "      children:\n"
        "        - {devfn: 00.0, kind: endpoint, vendor: 0x144d, device: 0xa808, class: 0x010802,\n"
        "           bars: [{index: 0, type: mem64, size: 16K}],\n"
        "           capabilities: {pcie: {max_speed: gen3, max_width: 4}}}\n";
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s%s%s", head, no_iommu ? "" : iommu, rest);
    return buf;
}

/* The machine's lspci -xxxx, written by pcilab's own dump writer into
 * `path` and read back with the scenario files' reader. */
static void make_dump(bool no_iommu, const char *path, struct pcie_dump *d)
{
    struct scn_machine m;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    const char *y = ryzen_yaml(no_iommu);
    if (scn_load_string("ryzen.yaml", y, strlen(y), &m, &err) < 0)
        fail_msg("%u:%u: %s", err.line, err.col, err.msg);
    struct built b;
    build(&m, &b);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(scn_system_write_dump(b.sys, f, 4096, 0, &err), 0);
    fclose(f);
    unbuild(&b);
    scn_free(&m);
    pcie_dump_init(d);
    if (pcie_dump_load(d, path, &err) < 0)
        fail_msg("%s", err.msg);
}

static bool said(const struct explain_sim_scn *s, const char *want)
{
    for (size_t i = 0; i < s->nnotes; i++)
        if (strstr(s->notes[i], want))
            return true;
    return false;
}

static void dump_req(struct explain_sim_req *req, const char *line, const struct pcie_dump *d,
                     const char *path)
{
    memset(req, 0, sizeof *req);
    req->family = KMSG_FAM_AMDVI;
    req->kind = KMSG_AMDVI_IO_PAGE_FAULT;
    req->category = DIAG_REQUESTER_ID_MISMATCH;
    parse(line, &req->line);
    req->has_device = true;
    req->device_bdf = 0x0300;
    req->dump = d;
    req->dump_file = path;
}

/* VT-d lines: requester, direction and reason make "reproduced"; the
 * address and form "exact"; the AMD-Vi fields stay out of it. */
static void test_compare_vtd(void **state)
{
    (void)state;
    struct explain_sim_fault log, run;
    struct explain_sim_cmp c;
    char buf[400];
    parse(VTD_W("0xfffd000"), &log);
    parse("[    0.312000] " VTD_W("0xfffd000"), &run);
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.family, EXPLAIN_SIM_SAME);
    assert_int_equal(c.requester, EXPLAIN_SIM_SAME);
    assert_int_equal(c.direction, EXPLAIN_SIM_SAME);
    assert_int_equal(c.reason, EXPLAIN_SIM_SAME);
    assert_int_equal(c.address, EXPLAIN_SIM_SAME);
    assert_int_equal(c.domain, EXPLAIN_SIM_ABSENT);
    assert_int_equal(c.flags, EXPLAIN_SIM_ABSENT);
    assert_true(c.reproduced && c.exact);
    explain_sim_cmp_str(&c, &log, &run, buf, sizeof buf);
    assert_string_equal(buf, "matches the log's: requester, direction, reason, address");
    /* the physical address differs (page allocators): reproduced, not exact */
    run.addr = 0xffca000;
    explain_sim_compare(&log, &run, &c);
    assert_true(c.reproduced && !c.exact);
    explain_sim_cmp_str(&c, &log, &run, buf, sizeof buf);
    assert_string_equal(buf, "matches the log's: requester, direction, reason; address differs: "
                             "0xfffd000 (log) vs 0xffca000 (run)");
    /* the reason alone breaks it: 6 (read) against 5 */
    parse(VTD_W("0xfffd000"), &run);
    run.reason = 6;
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.reason, EXPLAIN_SIM_DIFFERS);
    assert_false(c.reproduced);
    explain_sim_cmp_str(&c, &log, &run, buf, sizeof buf);
    assert_non_null(strstr(buf, "reason differs: 0x05 (log) vs 0x06 (run)"));
    /* so does the direction */
    parse(VTD_W("0xfffd000"), &run);
    run.dir = KMSG_DIR_READ;
    explain_sim_compare(&log, &run, &c);
    assert_false(c.reproduced);
    explain_sim_cmp_str(&c, &log, &run, buf, sizeof buf);
    assert_non_null(strstr(buf, "direction differs: write (log) vs read (run)"));
    /* and the requester */
    parse(VTD_W("0xfffd000"), &run);
    run.rid = 0x0100;
    explain_sim_compare(&log, &run, &c);
    assert_false(c.reproduced);
    /* 4.4's form against 4.9's one-line form: reproduced, not exact */
    parse("DMAR:[DMA Write] Request device [00:03.0] fault addr fffd000 \n"
          "DMAR:[fault reason 05] PTE Write access is not set", &log);
    parse("DMAR: [DMA Write] Request device [00:03.0] fault addr fffd000 [fault reason 05] "
          "PTE Write access is not set", &run);
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.form, EXPLAIN_SIM_DIFFERS);
    assert_true(c.reproduced && !c.exact);
    explain_sim_cmp_str(&c, &log, &run, buf, sizeof buf);
    assert_non_null(strstr(buf, "printed in the VT-d 4.7 form, the log's is VT-d 4.4 two-record"));
    /* an AMD-Vi run line against a VT-d log line */
    parse("IO_PAGE_FAULT device=00:03.0 domain=0x0002 address=0x000000000fffd000 "
          "flags=0x0020]", &run);
    explain_sim_compare(&log, &run, &c);
    assert_int_equal(c.family, EXPLAIN_SIM_DIFFERS);
    assert_false(c.reproduced);
    explain_sim_cmp_str(&c, &log, &run, buf, sizeof buf);
    assert_string_equal(buf, "the run's line is amd-vi, the log's is vt-d");
}

static void test_dump(void **state)
{
    (void)state;
    char path[] = "/tmp/pcilab-test-dump-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct pcie_dump d;
    make_dump(false, path, &d);
    struct explain_sim_req req;
    dump_req(&req, "pci 0000:00:01.1: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0002 "
             "address=0xfffff000 flags=0x0020]", &d, path);
    struct explain_sim_scn s;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    if (explain_sim_build(&req, &s, &err) < 0)
        fail_msg("%s", err.msg);
    assert_true(s.from_dump);
    assert_string_equal(s.run_arg, "");
    assert_int_equal(s.device_bdf, 0x0300);
    assert_true(has_set(s.seen, s.nseen, "fpga.write_rid=00:01.1"));
    assert_non_null(strstr(s.yaml, "config_from: {file: \""));
    assert_true(said(&s, "requester 0000:00:01.1 is its root port [1022:1483]"));
    assert_true(said(&s, "0000:03:00.0 [10ee:7024]"));
    assert_true(said(&s, "revision 03, class 058000 and subsystem 10ee:0007 are the dump's"));
    assert_true(said(&s, "the IOMMU is the dump's 00:00.2 [1022:1481]"));
    assert_true(said(&s, "BAR sizes are not in a dump"));

    /* the scenario loads: the dump's functions, the board in the FPGA's place */
    struct scn_machine m;
    load(&s, false, &m);
    assert_int_equal(m.nfuncs, 10);
    int i = scn_find_func(&m, "fpga");
    assert_true(i >= 0);
    assert_string_equal(m.funcs[i].model, "ecp5_dma");
    assert_int_equal(m.funcs[i].vendor_id, 0x1204);
    assert_int_equal(m.funcs[i].revision, 0x03);
    assert_int_equal(m.funcs[i].class_code, 0x058000);
    assert_int_equal(m.funcs[i].subsys_vendor_id, 0x10ee);
    assert_int_equal(m.funcs[i].bars[0].size, 4096);
    i = scn_find_func(&m, "iommu");
    assert_true(i >= 0);
    assert_int_equal(m.funcs[i].device_id, 0x1481);
    assert_true(m.funcs[i].caps_from_dump);
    assert_int_equal(m.funcs[i].iommu.base, 0xfd200000);
    size_t nvme = m.nfuncs;
    for (size_t k = 0; k < m.nfuncs; k++)
        if (m.funcs[k].vendor_id == 0x144d)
            nvme = k;
    assert_true(nvme < m.nfuncs);
    assert_true(m.funcs[nvme].config_file[0] != '\0');
    /* its BAR: 64-bit from the register's bits, 1 MiB assumed (the address,
     * 0xc0100000, is 1 MiB aligned) */
    assert_int_equal(m.funcs[nvme].bars[0].type, SCN_BAR_MEM64);
    assert_int_equal(m.funcs[nvme].bars[0].size, 0x100000);
    struct built b;
    build(&m, &b);
    const struct scn_sysfn *f = scn_system_find(b.sys, "fpga");
    assert_non_null(f);
    assert_int_equal(pcie_fn_bdf(f->fn), 0x0300);
    f = scn_system_find(b.sys, "05:00.0");
    assert_non_null(f);
    assert_int_equal(scn_system_iommu_count(b.sys), 1);
    unbuild(&b);
    scn_free(&m);
    explain_sim_scn_free(&s);

    /* a partial dump: no 00:01.2, no bus 05; the requester 05:00.0 has a
     * domain, so the IOMMU knew it: refused, naming the file */
    struct pcie_dump part = d;
    struct pcie_dump_func *kept = calloc(d.count, sizeof *kept);
    assert_non_null(kept);
    part.funcs = kept;
    part.count = 0;
    for (size_t k = 0; k < d.count; k++)
        if (d.funcs[k].bus != 5 && !(d.funcs[k].bus == 0 && d.funcs[k].dev == 1 &&
                                     d.funcs[k].fn == 2))
            kept[part.count++] = d.funcs[k];
    dump_req(&req, "pci 0000:05:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0001 "
             "address=0xfffff000 flags=0x0020]", &part, path);
    req.dump_name = "my-box.lspci";
    assert_int_equal(explain_sim_build(&req, &s, &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "my-box.lspci has no bus 05"));
    assert_null(s.yaml);
    /* with domain 0 the same ID is one the IOMMU knows no domain for */
    dump_req(&req, "AMD-Vi: Event logged [IO_PAGE_FAULT device=05:00.0 domain=0x0000 "
             "address=0xfffff000 flags=0x0070]", &part, path);
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_true(said(&s, "no function at the requester 0000:05:00.0"));
    explain_sim_scn_free(&s);
    free(kept);

    /* bus numbers the firmware left free: 00:01.2 leads to bus 07 in the
     * dump, enumeration would make it 05 */
    for (size_t k = 0; k < d.count; k++) {
        if (d.funcs[k].bus == 0 && d.funcs[k].dev == 1 && d.funcs[k].fn == 2)
            d.funcs[k].bytes[0x19] = d.funcs[k].bytes[0x1a] = 7;
        if (d.funcs[k].bus == 5)
            d.funcs[k].bus = 7;
    }
    unsigned rp_line = pcie_dump_find(&d, 0, 0, 1, 2)->line;
    dump_req(&req, "pci 0000:07:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0001 "
             "address=0xfffff000 flags=0x0020]", &d, path);
    assert_int_equal(explain_sim_build(&req, &s, &err), -PCILAB_EUNSUPPORTED);
    assert_int_equal(err.line, rp_line);
    assert_string_equal(err.file, path);
    assert_non_null(strstr(err.msg, "leads to bus 07"));
    assert_non_null(strstr(err.msg, "gives it 05"));
    pcie_dump_free(&d);

    /* no IOMMU function in the dump: the generic one is added, and said */
    make_dump(true, path, &d);
    dump_req(&req, "pci 0000:00:01.1: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0002 "
             "address=0xfffff000 flags=0x0020]", &d, path);
    assert_int_equal(explain_sim_build(&req, &s, &err), 0);
    assert_true(said(&s, "the dump has no AMD IOMMU function"));
    load(&s, false, &m);
    i = scn_find_func(&m, "iommu");
    assert_true(i >= 0);
    assert_int_equal(m.funcs[i].device_id, 0x1577);
    scn_free(&m);
    explain_sim_scn_free(&s);

    /* a dump its reader refused: refused with the reader's words */
    req.dump = NULL;
    req.dump_error = "box.lspci:12:5: expected two hex digits";
    assert_int_equal(explain_sim_build(&req, &s, &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "does not parse"));
    assert_non_null(strstr(err.msg, "box.lspci:12:5"));
    pcie_dump_free(&d);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_seed),
        cmocka_unit_test(test_generic),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_parse_vtd),
        cmocka_unit_test(test_edu_mistake),
        cmocka_unit_test(test_edu_build),
        cmocka_unit_test(test_compare_vtd),
        cmocka_unit_test(test_dump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
