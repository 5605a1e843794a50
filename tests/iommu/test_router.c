/* Several IOMMUs on one root complex (iommu/router.h): each request goes to
 * the unit of the function that sent it, whatever requester ID it carries;
 * interrupts too; a function in no unit reaches memory untranslated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../pcie/fabric_fixture.h"
#include "iommu/router.h"

/* A unit that maps one page for one requester at pa + (addr & 0xfff). */
struct unit {
    uint16_t rid;
    uint64_t pa;
    unsigned translations, remaps;
    uint16_t last_rid;
};

static void unit_translate(void *hw, const struct iommu_req *req, struct iommu_result *res)
{
    struct unit *u = hw;
    u->translations++;
    u->last_rid = req->rid;
    memset(res, 0, sizeof *res);
    if (req->rid != u->rid) {
        res->fault = IOMMU_FAULT_DEVICE_INVALID;
        res->cpl = PCIE_CPL_UR;
        return;
    }
    res->ok = true;
    res->cpl = PCIE_CPL_SC;
    res->pa = u->pa | (req->addr & 0xfff);
    res->perm = IOMMU_PERM_R | IOMMU_PERM_W;
    res->page_shift = 12;
}

static void unit_remap(void *hw, uint16_t rid, const struct iommu_msi *in,
                       struct iommu_irq_result *res)
{
    struct unit *u = hw;
    u->remaps++;
    u->last_rid = rid;
    res->ok = true;
    res->out.addr = in->addr;
    res->out.data = in->data + (u->pa >> 20); /* which unit remapped it */
}

static bool unit_is_interrupt(void *hw, uint16_t rid, uint64_t addr)
{
    (void)hw;
    (void)rid;
    return addr >= 0xfee00000 && addr <= 0xfeefffff;
}

static const struct iommu_ops unit_ops = {
    .arch = "unit",
    .translate = unit_translate,
    .remap_msi = unit_remap,
    .is_interrupt = unit_is_interrupt,
};

struct rig {
    struct tfab t;
    struct unit ua, ub;
    struct iommu a, b;
    struct iommu_router *r;
};

static void rig_up(struct rig *x)
{
    memset(x, 0, sizeof *x);
    tfab_build(&x->t, false);
    assert_int_equal(pcie_enumerate(x->t.f, NULL, NULL, NULL), 0);
    assert_int_equal(pcie_enum_enable(x->t.f, x->t.e1, true, NULL), 0);
    assert_int_equal(pcie_enum_enable(x->t.f, x->t.e2, true, NULL), 0);
    assert_int_equal(pcie_enum_enable(x->t.f, x->t.e3, true, NULL), 0);
    x->ua = (struct unit){.rid = pcie_fn_bdf(x->t.e1), .pa = 0x100000};
    x->ub = (struct unit){.rid = pcie_fn_bdf(x->t.e3), .pa = 0x200000};
    x->a = (struct iommu){.ops = &unit_ops, .hw = &x->ua};
    x->b = (struct iommu){.ops = &unit_ops, .hw = &x->ub};
    struct pcilab_err err;
    x->r = iommu_router_create(x->t.f, &err);
    assert_non_null(x->r);
    assert_int_equal(iommu_router_set(x->r, x->t.e1, &x->a, &err), 0);
    assert_int_equal(iommu_router_set(x->r, x->t.e3, &x->b, &err), 0);
    iommu_router_attach(x->r);
}

static void rig_down(struct rig *x)
{
    iommu_router_detach(x->r);
    iommu_router_destroy(x->r);
    tfab_free(&x->t);
}

static uint32_t ram32(struct rig *x, uint64_t pa)
{
    uint8_t b[4];
    assert_int_equal(mem_phys_read(x->t.ram, pa, b, 4, NULL), 0);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void write32(struct rig *x, struct pcie_fn *fn, uint64_t addr, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    assert_int_equal(pcie_fn_mem_write(fn, addr, b, 4, NULL), 0);
    sim_run(x->t.sim, 0);
}

static void test_each_function_its_unit(void **state)
{
    (void)state;
    struct rig x;
    rig_up(&x);
    assert_int_equal(iommu_router_unit_count(x.r), 2);
    assert_ptr_equal(iommu_router_unit_at(x.r, 0), &x.a);
    assert_ptr_equal(iommu_router_unit_at(x.r, 1), &x.b);
    assert_ptr_equal(iommu_router_unit_of(x.r, x.t.e1), &x.a);
    assert_ptr_equal(iommu_router_unit_of(x.r, x.t.e3), &x.b);
    assert_null(iommu_router_unit_of(x.r, x.t.e2));
    /* both units joined the fabric */
    assert_ptr_equal(x.a.fabric, x.t.f);
    assert_ptr_equal(x.b.fabric, x.t.f);

    write32(&x, x.t.e1, 0x7000010, 0x11111111);
    assert_int_equal(ram32(&x, 0x100010), 0x11111111);
    assert_int_equal(x.ua.translations, 1);
    assert_int_equal(x.ub.translations, 0);
    write32(&x, x.t.e3, 0x7000020, 0x33333333);
    assert_int_equal(ram32(&x, 0x200020), 0x33333333);
    assert_int_equal(x.ua.translations, 1);
    assert_int_equal(x.ub.translations, 1);
    assert_int_equal(x.a.stats.translations, 1);
    assert_int_equal(x.b.stats.translations, 1);
    rig_down(&x);
}

/* The choice is physical: a function that sends another's requester ID is
 * still looked up by its own unit, which refuses the ID it does not know. */
static void test_spoofed_requester_id_stays_with_its_unit(void **state)
{
    (void)state;
    struct rig x;
    rig_up(&x);
    pcie_fn_set_requester_id(x.t.e1, true, pcie_fn_bdf(x.t.e3));
    write32(&x, x.t.e1, 0x7000040, 0x44444444);
    assert_int_equal(x.ua.translations, 1);
    assert_int_equal(x.ua.last_rid, pcie_fn_bdf(x.t.e3));
    assert_int_equal(x.ub.translations, 0);
    assert_int_equal(x.a.stats.faults, 1);
    assert_int_equal(ram32(&x, 0x200040), 0);
    rig_down(&x);
}

/* Without a default unit, a function no unit covers reaches memory at the
 * address it sent; with one, the default translates it. */
static void test_default_and_untranslated(void **state)
{
    (void)state;
    struct rig x;
    rig_up(&x);
    write32(&x, x.t.e2, 0x345000, 0x22222222);
    assert_int_equal(ram32(&x, 0x345000), 0x22222222);
    assert_int_equal(iommu_router_untranslated(x.r), 1);
    assert_int_equal(x.ua.translations + x.ub.translations, 0);

    struct pcilab_err err;
    assert_int_equal(iommu_router_set_default(x.r, &x.b, &err), 0);
    assert_ptr_equal(iommu_router_unit_of(x.r, x.t.e2), &x.b);
    write32(&x, x.t.e2, 0x346000, 0x55555555);
    assert_int_equal(ram32(&x, 0x346000), 0);
    assert_int_equal(x.ub.translations, 1);
    assert_int_equal(x.ub.last_rid, pcie_fn_bdf(x.t.e2));
    assert_int_equal(iommu_router_untranslated(x.r), 1);
    /* naming a function NULL takes it out of the default */
    assert_int_equal(iommu_router_set(x.r, x.t.e2, NULL, &err), 0);
    write32(&x, x.t.e2, 0x347000, 0x66666666);
    assert_int_equal(ram32(&x, 0x347000), 0x66666666);
    assert_int_equal(iommu_router_untranslated(x.r), 2);
    rig_down(&x);
}

static void enable_msi(struct tfab *t, struct pcie_fn *fn, struct tdev *d)
{
    unsigned msi = pcie_cap_find(&d->cfg, PCIE_CAP_ID_MSI);
    uint16_t bdf = pcie_fn_bdf(fn);
    assert_int_equal(pcie_host_cfg_write(t->f, bdf, msi + 4, 4, 0xfee00000u), PCIE_REQ_SC);
    assert_int_equal(pcie_host_cfg_write(t->f, bdf, msi + 8, 4, 0), PCIE_REQ_SC);
    assert_int_equal(pcie_host_cfg_write(t->f, bdf, pcie_msi_data_off(&d->cfg, msi), 2, 0x0021),
                     PCIE_REQ_SC);
    assert_int_equal(pcie_host_cfg_write(t->f, bdf, msi + 2, 2, PCIE_MSI_CTRL_ENABLE), PCIE_REQ_SC);
}

/* Interrupts are remapped by the sender's unit. */
static void test_interrupts_by_unit(void **state)
{
    (void)state;
    struct rig x;
    rig_up(&x);
    enable_msi(&x.t, x.t.e1, x.t.d1);
    enable_msi(&x.t, x.t.e3, x.t.d3);
    assert_int_equal(pcie_fn_msi_send(x.t.e3, 0, NULL), 0);
    sim_run(x.t.sim, 0);
    assert_int_equal(x.ub.remaps, 1);
    assert_int_equal(x.ua.remaps, 0);
    assert_int_equal(x.t.irq_data, 0x21 + 2);
    assert_int_equal(pcie_fn_msi_send(x.t.e1, 0, NULL), 0);
    sim_run(x.t.sim, 0);
    assert_int_equal(x.ua.remaps, 1);
    assert_int_equal(x.t.irq_data, 0x21 + 1);
    rig_down(&x);
}

static void test_bad_input_and_detach(void **state)
{
    (void)state;
    struct rig x;
    rig_up(&x);
    struct tfab other;
    tfab_build(&other, false);
    struct pcilab_err err;
    pcilab_err_clear(&err);
    assert_int_equal(iommu_router_set(x.r, other.e1, &x.a, &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "does not know"));
    assert_int_equal(iommu_router_set(x.r, NULL, &x.a, &err), -PCILAB_EINVAL);
    tfab_free(&other);

    /* more distinct units than a root complex has */
    struct iommu many[IOMMU_ROUTER_MAX_UNITS];
    for (size_t i = 0; i < IOMMU_ROUTER_MAX_UNITS - 2; i++) {
        many[i] = (struct iommu){.ops = &unit_ops, .hw = &x.ua};
        assert_int_equal(iommu_router_set(x.r, x.t.mf0, &many[i], &err), 0);
    }
    many[IOMMU_ROUTER_MAX_UNITS - 2] = (struct iommu){.ops = &unit_ops, .hw = &x.ua};
    assert_int_equal(iommu_router_set(x.r, x.t.mf0, &many[IOMMU_ROUTER_MAX_UNITS - 2], &err),
                     -PCILAB_EINVAL);

    /* detached: requests reach memory untranslated, nothing counts them */
    iommu_router_detach(x.r);
    write32(&x, x.t.e1, 0x348000, 0x77777777);
    assert_int_equal(ram32(&x, 0x348000), 0x77777777);
    assert_int_equal(x.ua.translations, 0);
    iommu_router_destroy(x.r);
    tfab_free(&x.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_function_its_unit),
        cmocka_unit_test(test_spoofed_requester_id_stays_with_its_unit),
        cmocka_unit_test(test_default_and_untranslated),
        cmocka_unit_test(test_interrupts_by_unit),
        cmocka_unit_test(test_bad_input_and_detach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
