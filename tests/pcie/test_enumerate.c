/* Enumeration of a two-level switch tree by configuration requests, checked
 * against hand-computed Linux numbering and windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "fabric_fixture.h"
#include "pcie/link.h"

static void buses(struct pcie_fn *b, unsigned *pri, unsigned *sec, unsigned *sub)
{
    uint8_t p, s, u;
    pcie_cfg_bridge_buses(pcie_fn_cfg(b), &p, &s, &u);
    *pri = p;
    *sec = s;
    *sub = u;
}

static void check_buses(struct pcie_fn *b, unsigned pri, unsigned sec, unsigned sub)
{
    unsigned p, s, u;
    buses(b, &p, &s, &u);
    assert_int_equal(p, pri);
    assert_int_equal(s, sec);
    assert_int_equal(u, sub);
}

static void check_window(struct pcie_fn *b, enum pcie_window w, uint64_t base, uint64_t limit)
{
    uint64_t bb, ll;
    assert_true(pcie_cfg_bridge_window(pcie_fn_cfg(b), w, &bb, &ll));
    assert_int_equal(bb, base);
    assert_int_equal(ll, limit);
}

static void check_closed(struct pcie_fn *b, enum pcie_window w)
{
    uint64_t bb, ll;
    assert_false(pcie_cfg_bridge_window(pcie_fn_cfg(b), w, &bb, &ll));
}

static bool has_line(const struct pcie_enum_report *rep, const char *want)
{
    char buf[256];
    for (size_t i = 0; i < rep->n; i++) {
        pcie_enum_step_format(&rep->steps[i], 0, buf, sizeof buf);
        if (!strcmp(buf, want))
            return true;
    }
    return false;
}

static void test_two_level_switches(void **state)
{
    (void)state;
    struct tfab t;
    tfab_build(&t, false);
    struct pcie_enum_report rep;
    struct pcilab_err err;
    assert_int_equal(pcie_enumerate(t.f, NULL, &rep, &err), 0);

    /* Bus numbers, depth first as Linux assigns them. */
    struct pcie_fn *s1u = pcie_switch_upstream(t.s1), *s2u = pcie_switch_upstream(t.s2);
    check_buses(t.rpa, 0, 1, 8);
    check_buses(s1u, 1, 2, 8);
    check_buses(pcie_switch_downstream(t.s1, 0), 2, 3, 3);
    check_buses(pcie_switch_downstream(t.s1, 1), 2, 4, 7);
    check_buses(s2u, 4, 5, 7);
    check_buses(pcie_switch_downstream(t.s2, 0), 5, 6, 6);
    check_buses(pcie_switch_downstream(t.s2, 1), 5, 7, 7);
    check_buses(pcie_switch_downstream(t.s1, 2), 2, 8, 8);
    check_buses(t.rpb, 0, 9, 9);
    assert_int_equal(rep.max_bus, 9);
    /* Links are named by the bus numbers just assigned, as the per-hop trace
     * records name them. */
    assert_string_equal(pcie_link_name(pcie_fn_link(t.rpa)), "00:02.1<->01:00.0");
    assert_string_equal(pcie_link_name(pcie_fn_link(pcie_switch_downstream(t.s2, 1))),
                        "05:01.0<->07:00.0");
    assert_int_equal(pcie_fn_bdf(t.e1), pcie_bdf(3, 0, 0));
    assert_int_equal(pcie_fn_bdf(t.e2), pcie_bdf(6, 0, 0));
    assert_int_equal(pcie_fn_bdf(t.mf3), pcie_bdf(7, 0, 3));
    assert_int_equal(pcie_fn_bdf(t.e3), pcie_bdf(9, 0, 0));
    /* 4 root-bus functions, 2 x (1 + n) switch ports, E1, E2, 3 MF, E3 */
    assert_int_equal(rep.functions, 4 + 4 + 3 + 1 + 1 + 3 + 1);

    /* Windows: hand-computed (1 MiB memory granularity, largest first). */
    check_window(t.rpa, PCIE_WINDOW_MEM, 0xe0000000, 0xe02fffff);
    check_window(t.rpa, PCIE_WINDOW_PREF, 0x8000000000ull, 0x8000ffffffull);
    check_window(t.rpa, PCIE_WINDOW_IO, 0x1000, 0x1fff);
    check_window(s1u, PCIE_WINDOW_MEM, 0xe0000000, 0xe02fffff);
    check_window(pcie_switch_downstream(t.s1, 1), PCIE_WINDOW_MEM, 0xe0000000, 0xe01fffff);
    check_window(pcie_switch_downstream(t.s1, 0), PCIE_WINDOW_MEM, 0xe0200000, 0xe02fffff);
    check_closed(pcie_switch_downstream(t.s1, 0), PCIE_WINDOW_PREF);
    check_closed(pcie_switch_downstream(t.s1, 0), PCIE_WINDOW_IO);
    check_closed(pcie_switch_downstream(t.s1, 2), PCIE_WINDOW_MEM);
    check_window(pcie_switch_downstream(t.s1, 1), PCIE_WINDOW_PREF, 0x8000000000ull,
                 0x8000ffffffull);
    check_window(s2u, PCIE_WINDOW_MEM, 0xe0000000, 0xe01fffff);
    check_window(pcie_switch_downstream(t.s2, 0), PCIE_WINDOW_MEM, 0xe0000000, 0xe00fffff);
    check_window(pcie_switch_downstream(t.s2, 1), PCIE_WINDOW_MEM, 0xe0100000, 0xe01fffff);
    check_window(pcie_switch_downstream(t.s2, 1), PCIE_WINDOW_IO, 0x1000, 0x1fff);
    check_window(t.rpb, PCIE_WINDOW_MEM, 0xe0300000, 0xe03fffff);

    /* BARs */
    assert_int_equal(pcie_cfg_bar_addr(&t.d1->cfg, 0), 0xe0200000);
    assert_int_equal(pcie_cfg_bar_addr(&t.d1->cfg, 2), 0xe0210000);
    assert_int_equal(pcie_cfg_bar_addr(&t.d2->cfg, 0), 0xe0000000);
    assert_int_equal(pcie_cfg_bar_addr(&t.d2->cfg, 2), 0x8000000000ull);
    assert_int_equal(pcie_cfg_bar_addr(&t.dmf0->cfg, 0), 0xe0100000);
    assert_int_equal(pcie_cfg_bar_addr(&t.dmf1->cfg, 0), 0xe0101000);
    assert_int_equal(pcie_cfg_bar_addr(&t.dmf3->cfg, 0), 0xe0102000);
    assert_int_equal(pcie_cfg_bar_addr(&t.dmf1->cfg, 1), 0x1000);
    assert_int_equal(pcie_cfg_bar_addr(&t.d3->cfg, 0), 0xe0300000);

    /* Command registers are left as found (Linux: pci_enable_device later). */
    assert_int_equal(pcie_cfg_command(&t.d1->cfg), 0);

    /* Log lines as Linux prints them. */
    assert_true(has_line(&rep, "pci 0000:03:00.0: [1204:e250] type 00 class 0x118000"));
    assert_true(has_line(&rep, "pci 0000:00:02.1: [1022:157c] type 01 class 0x060400"));
    assert_true(has_line(&rep, "pci 0000:03:00.0: reg 0x10: [mem 0x00000000-0x0000ffff 64bit]"));
    assert_true(has_line(&rep, "pci 0000:06:00.0: reg 0x18: [mem 0x00000000-0x00ffffff 64bit pref]"));
    assert_true(has_line(&rep, "pci 0000:07:00.1: reg 0x14: [io  0x0000-0x00ff]"));
    assert_true(has_line(&rep, "pci_bus 0000:02: busn_res: [bus 02-ff] end is updated to 08"));
    assert_true(has_line(&rep, "pci 0000:00:02.1: PCI bridge to [bus 01-08]"));
    assert_true(has_line(&rep, "pci 0000:02:00.0: PCI bridge to [bus 03]"));
    assert_true(has_line(&rep, "pci 0000:00:02.1:   bridge window [mem 0xe0000000-0xe02fffff]"));
    assert_true(has_line(&rep, "pci 0000:00:02.1:   bridge window [io  0x1000-0x1fff]"));
    assert_true(has_line(&rep,
                         "pci 0000:00:02.1:   bridge window [mem 0x8000000000-0x8000ffffff 64bit pref]"));
    assert_true(has_line(&rep, "pci 0000:03:00.0: BAR 0: assigned [mem 0xe0200000-0xe020ffff 64bit]"));
    assert_true(has_line(&rep, "pci 0000:00:02.1: BAR 14: assigned [mem 0xe0000000-0xe02fffff]"));
    pcie_enum_report_free(&rep);
    tfab_free(&t);
}

/* Absent functions read Vendor ID FFFFh; functions 1..7 are probed only with
 * the multi-function bit, and a gap (function 2) does not stop the scan. */
static void test_absent_and_multifunction(void **state)
{
    (void)state;
    struct tfab t;
    tfab_build(&t, false);
    assert_int_equal(pcie_enumerate(t.f, NULL, NULL, NULL), 0);
    uint32_t v;
    assert_int_equal(pcie_host_cfg_read(t.f, pcie_bdf(7, 0, 2), 0, 2, &v), PCIE_REQ_UR);
    assert_int_equal(v, 0xffff);
    /* device 1 below a downstream port: the port answers UR (PCIe 5.0 7.3.1) */
    assert_int_equal(pcie_host_cfg_read(t.f, pcie_bdf(3, 1, 0), 0, 4, &v), PCIE_REQ_UR);
    assert_int_equal(v, 0xffffffffu);
    /* bus beyond every bridge: the root complex answers UR */
    assert_int_equal(pcie_host_cfg_read(t.f, pcie_bdf(0x40, 0, 0), 0, 4, &v), PCIE_REQ_UR);
    assert_int_equal(pcie_host_cfg_read(t.f, pcie_bdf(7, 0, 3), 0, 4, &v), PCIE_REQ_SC);
    assert_int_equal(v, 0x701310eeu);
    /* AMD-style 00:02.0 is multi-function because root ports sit beside it */
    assert_true(pcie_cfg_is_multifunction(pcie_fn_cfg(t.hb2)));
    tfab_free(&t);

    /* Without the multi-function bit on function 0, function 1 stays hidden. */
    struct pcilab_sim *sim = sim_create(1);
    struct pcie_fabric *f = pcie_fabric_create(sim, NULL, NULL);
    struct pcie_fn *rp = pcie_fabric_add_root_port(f, 1, 0, NULL, NULL);
    struct tbar bm[] = {{PCIE_BAR_MEM32, 4096, false}};
    struct tdev *a = tdev_new(0x10ee, 1, 0x058000, false, bm, 1);
    struct tdev *b = tdev_new(0x10ee, 2, 0x058000, false, bm, 1);
    assert_non_null(pcie_fabric_add_function(f, rp, 0, 0, &a->cfg, &tdev_ops, a, NULL));
    assert_non_null(pcie_fabric_add_function(f, rp, 0, 1, &b->cfg, &tdev_ops, b, NULL));
    struct pcie_enum_report rep;
    assert_int_equal(pcie_enumerate(f, NULL, &rep, NULL), 0);
    assert_int_equal(rep.functions, 1 + 1 + 1);
    assert_int_equal(pcie_cfg_bar_addr(&b->cfg, 0), 0);
    pcie_enum_report_free(&rep);
    sim_destroy(sim);
    free(a);
    free(b);
}

/* PCIe 5.0 2.2.6.2: functions capture Bus/Device Number from Type 0 writes. */
static void test_capture(void **state)
{
    (void)state;
    struct tfab t;
    tfab_build(&t, false);
    assert_false(pcie_fn_has_captured(t.e2));
    assert_int_equal(pcie_fn_captured_bdf(t.e2), 0);
    assert_int_equal(pcie_enumerate(t.f, NULL, NULL, NULL), 0);
    assert_true(pcie_fn_has_captured(t.e2));
    assert_int_equal(pcie_fn_captured_bdf(t.e2), pcie_bdf(6, 0, 0));
    assert_int_equal(pcie_fn_captured_bdf(t.mf3), pcie_bdf(7, 0, 3));
    assert_int_equal(pcie_fn_requester_id(t.e2), pcie_bdf(6, 0, 0));
    /* a soft IP that sends 0000 whatever it captured (the seed case) */
    pcie_fn_set_requester_id(t.e2, true, 0x0000);
    assert_int_equal(pcie_fn_requester_id(t.e2), 0);
    assert_int_equal(pcie_fn_captured_bdf(t.e2), pcie_bdf(6, 0, 0));
    tfab_free(&t);
}

/* A 64-bit memory BAR type in the last BAR register has no upper half
 * (PCIe 5.0 7.5.1.2.1): it is sized and placed as a 32-bit BAR (below
 * 4 GiB), as the register can hold no more. */
static void test_64bit_type_in_last_bar(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct pcie_fabric *f = pcie_fabric_create(sim, NULL, NULL);
    struct pcie_fn *rp = pcie_fabric_add_root_port(f, 1, 0, NULL, NULL);
    struct tdev *a = tdev_new(0x10ee, 1, 0x058000, false, NULL, 0);
    /* BAR5: memory, 64-bit type, 4 KiB (address bits 31:12 writable) */
    pcie_cfg_define(&a->cfg, PCIE_CFG_BAR0 + 20, 4, 0x4, 0xfffff000u, 0);
    assert_non_null(pcie_fabric_add_function(f, rp, 0, 0, &a->cfg, &tdev_ops, a, NULL));
    struct pcie_enum_report rep;
    assert_int_equal(pcie_enumerate(f, NULL, &rep, NULL), 0);
    assert_true(has_line(&rep, "pci 0000:01:00.0: reg 0x24: [mem 0x00000000-0x00000fff]"));
    assert_true(has_line(&rep, "pci 0000:01:00.0: BAR 5: assigned [mem 0xe0000000-0xe0000fff]"));
    assert_int_equal(pcie_cfg_raw_read32(&a->cfg, PCIE_CFG_BAR0 + 20), 0xe0000004u);
    pcie_enum_report_free(&rep);
    sim_destroy(sim);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_level_switches),
        cmocka_unit_test(test_absent_and_multifunction),
        cmocka_unit_test(test_capture),
        cmocka_unit_test(test_64bit_type_in_last_bar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
