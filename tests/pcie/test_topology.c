/* Building fabrics: placement rules, errors, link training, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "fabric_fixture.h"

static void test_builder_errors(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct pcilab_err err;
    struct pcie_fabric *f = pcie_fabric_create(sim, NULL, &err);
    assert_non_null(f);
    assert_non_null(pcie_fabric_host_bridge(f));
    struct pcie_fn *rp = pcie_fabric_add_root_port(f, 1, 0, NULL, &err);
    assert_non_null(rp);
    /* duplicate device/function */
    assert_null(pcie_fabric_add_root_port(f, 1, 0, NULL, &err));
    assert_int_equal(err.code, PCILAB_EEXIST);
    assert_null(pcie_fabric_add_root_port(f, 0, 0, NULL, &err)); /* host bridge's place */
    assert_int_equal(err.code, PCILAB_EEXIST);
    assert_null(pcie_fabric_add_root_port(f, 32, 0, NULL, &err));
    assert_int_equal(err.code, PCILAB_EINVAL);
    struct tbar bm[] = {{PCIE_BAR_MEM32, 4096, false}};
    struct tdev *a = tdev_new(0x10ee, 1, 0x058000, true, bm, 1);
    struct tdev *b = tdev_new(0x10ee, 2, 0x058000, true, bm, 1);
    /* too many functions without ARI */
    assert_null(pcie_fabric_add_function(f, rp, 0, 8, &a->cfg, &tdev_ops, a, &err));
    assert_int_equal(err.code, PCILAB_EUNSUPPORTED);
    /* a link carries device 0 only */
    assert_null(pcie_fabric_add_function(f, rp, 1, 0, &a->cfg, &tdev_ops, a, &err));
    assert_int_equal(err.code, PCILAB_EINVAL);
    /* an endpoint on the root bus must be an RCiEP (PCIe Device/Port Type) */
    assert_null(pcie_fabric_add_function(f, NULL, 5, 0, &a->cfg, &tdev_ops, a, &err));
    assert_int_equal(err.code, PCILAB_EINVAL);
    struct pcie_fn *ep = pcie_fabric_add_endpoint(f, rp, &a->cfg, &tdev_ops, a, &err);
    assert_non_null(ep);
    assert_int_equal(pcie_fn_kind(ep), PCIE_FN_ENDPOINT);
    assert_ptr_equal(pcie_fn_parent(ep), rp);
    assert_null(pcie_fabric_add_endpoint(f, rp, &b->cfg, &tdev_ops, b, &err));
    assert_int_equal(err.code, PCILAB_EEXIST);
    /* nothing links below an endpoint or an upstream port */
    assert_null(pcie_fabric_add_endpoint(f, ep, &b->cfg, &tdev_ops, b, &err));
    assert_int_equal(err.code, PCILAB_EINVAL);
    struct pcie_switch_desc sd = {.n_downstream = 2};
    assert_null(pcie_fabric_add_switch(f, rp, &sd, &err)); /* rp already has a device */
    assert_int_equal(err.code, PCILAB_EEXIST);
    struct pcie_fn *rp2 = pcie_fabric_add_root_port(f, 1, 1, NULL, &err);
    struct pcie_switch *sw = pcie_fabric_add_switch(f, rp2, &sd, &err);
    assert_non_null(sw);
    assert_null(pcie_fabric_add_endpoint(f, pcie_switch_upstream(sw), &b->cfg, &tdev_ops, b, &err));
    assert_int_equal(err.code, PCILAB_EINVAL);
    assert_null(pcie_fabric_add_function(f, rp2, 0, 1, &b->cfg, &tdev_ops, b, &err));
    assert_int_equal(err.code, PCILAB_EEXIST);
    /* a Type 1 configuration space is not a device model's */
    struct pcie_cfg br;
    pcie_cfg_init(&br);
    struct pcie_cfg_ident id = {.vendor_id = 1, .device_id = 2, .class_code = 0x060400, .pcie = true};
    assert_int_equal(pcie_cfg_init_type1(&br, &id, &(struct pcie_bridge_params){0}, NULL), 0);
    assert_null(pcie_fabric_add_function(f, pcie_switch_downstream(sw, 0), 0, 0, &br, NULL, NULL,
                                         &err));
    assert_int_equal(err.code, PCILAB_EINVAL);
    /* root ports 01.0 and 01.1 share a device: its function 0 says multi-function */
    assert_true(pcie_cfg_is_multifunction(pcie_fn_cfg(rp)));
    assert_int_equal(pcie_fabric_fn_count(f), 1 + 2 + 1 + 3);
    assert_ptr_equal(pcie_fabric_fn_at(f, 0), pcie_fabric_host_bridge(f));
    sim_destroy(sim);
    free(a);
    free(b);
}

static void test_link_training_and_names(void **state)
{
    (void)state;
    struct tfab t;
    tfab_build(&t, false);
    /* root port Gen3 x4, switch upstream port Gen3 x4 -> Gen3 x4; E1 Gen2 x1 */
    uint8_t speed, width;
    bool dll;
    pcie_exp_link(pcie_fn_cfg(t.rpa), &speed, &width, &dll);
    assert_int_equal(speed, 3);
    assert_int_equal(width, 4);
    assert_true(dll);
    pcie_exp_link(&t.d1->cfg, &speed, &width, &dll);
    assert_int_equal(speed, 2);
    assert_int_equal(width, 1);
    pcie_exp_link(pcie_fn_cfg(pcie_switch_downstream(t.s1, 0)), &speed, &width, &dll);
    assert_int_equal(speed, 2);
    assert_int_equal(width, 1);
    /* an empty downstream port has no link */
    assert_null(pcie_fn_link(pcie_switch_downstream(t.s1, 2)));
    assert_ptr_equal(pcie_fn_link(t.e1), pcie_fn_link(pcie_switch_downstream(t.s1, 0)));
    assert_int_equal(pcie_enumerate(t.f, NULL, NULL, NULL), 0);
    char buf[PCIE_LINK_NAME_LEN], a[PCIE_FN_ADDR_LEN];
    assert_string_equal(pcie_fn_link_name(t.e1, buf), "02:00.0<->03:00.0");
    assert_string_equal(pcie_fn_link_name(t.rpa, buf), "00:02.1<->01:00.0");
    assert_string_equal(pcie_fn_addr_str(t.mf3, a), "0000:07:00.3");
    assert_ptr_equal(pcie_fabric_find(t.f, pcie_bdf(7, 0, 3)), t.mf3);
    assert_null(pcie_fabric_find(t.f, pcie_bdf(7, 0, 2)));
    assert_int_equal(pcie_fn_kind(pcie_switch_upstream(t.s2)), PCIE_FN_SWITCH_UP);
    assert_ptr_equal(pcie_fn_switch(pcie_switch_downstream(t.s2, 1)), t.s2);
    tfab_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builder_errors),
        cmocka_unit_test(test_link_training_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
