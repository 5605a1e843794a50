/* The fabric adapter (iommu_attach_fabric) with a mock IOMMU: DMA and MSIs
 * from devices go through translate / remap_msi before memory and the
 * interrupt sink; faults abort; the IOMMU's own requester ID passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../pcie/fabric_fixture.h"
#include "iommu/iommu.h"

struct mock {
    uint16_t allowed_rid;   /* the one requester with a mapping */
    uint64_t iova, pa;      /* its one 4 KiB page */
    uint8_t perm;
    unsigned translations, remaps;
    struct iommu_req last;
};

static void mock_translate(void *hw, const struct iommu_req *req, struct iommu_result *res)
{
    struct mock *m = hw;
    m->translations++;
    m->last = *req;
    memset(res, 0, sizeof *res);
    res->latency = 100 * SIM_NS;
    if (req->rid != m->allowed_rid) {
        res->fault = IOMMU_FAULT_DEVICE_INVALID;
        res->cpl = PCIE_CPL_UR;
        return;
    }
    if ((req->addr & ~0xfffull) != m->iova) {
        res->fault = IOMMU_FAULT_NOT_PRESENT;
        res->cpl = PCIE_CPL_CA;
        return;
    }
    if ((req->access & m->perm) != req->access) {
        res->fault = IOMMU_FAULT_PERMISSION;
        res->cpl = PCIE_CPL_CA;
        return;
    }
    res->ok = true;
    res->cpl = PCIE_CPL_SC;
    res->pa = m->pa | (req->addr & 0xfff);
    res->perm = m->perm;
    res->page_shift = 12;
}

static void mock_remap(void *hw, uint16_t rid, const struct iommu_msi *in,
                       struct iommu_irq_result *res)
{
    struct mock *m = hw;
    m->remaps++;
    if (rid != m->allowed_rid) {
        res->fault = IOMMU_FAULT_INTERRUPT;
        return;
    }
    res->ok = true;
    res->out.addr = 0xfee00000 | (3u << 12);
    res->out.data = (in->data & 0xff) + 0x30;
}

static bool mock_is_interrupt(void *hw, uint16_t rid, uint64_t addr)
{
    (void)hw;
    (void)rid;
    return addr >= 0xfee00000 && addr <= 0xfeefffff;
}

static const struct iommu_ops mock_ops = {
    .arch = "mock",
    .translate = mock_translate,
    .remap_msi = mock_remap,
    .is_interrupt = mock_is_interrupt,
};

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

struct rd {
    int done;
    enum pcie_req_status st;
};

static void rd_done(void *ctx, enum pcie_req_status st, void *buf, uint32_t len)
{
    (void)buf;
    (void)len;
    struct rd *r = ctx;
    r->done++;
    r->st = st;
}

static void test_translate_and_fault(void **state)
{
    (void)state;
    struct tfab t;
    tfab_build(&t, false);
    assert_int_equal(pcie_enumerate(t.f, NULL, NULL, NULL), 0);
    assert_int_equal(pcie_enum_enable(t.f, t.e1, true, NULL), 0);
    assert_int_equal(pcie_enum_enable(t.f, t.e3, true, NULL), 0);
    struct mock m = {.allowed_rid = pcie_fn_bdf(t.e1), .iova = 0xffbf8000, .pa = 0x345000,
                     .perm = IOMMU_PERM_R | IOMMU_PERM_W};
    struct iommu io = {.ops = &mock_ops, .hw = &m};
    iommu_attach_fabric(&io, t.f, false, 0);

    /* translated write lands at the physical address, not the IOVA */
    uint8_t data[64];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(0x80 + i);
    assert_int_equal(pcie_fn_mem_write(t.e1, 0xffbf8010, data, sizeof data, NULL), 0);
    sim_run(t.sim, 0);
    uint8_t back[64];
    assert_int_equal(mem_phys_read(t.ram, 0x345010, back, sizeof back, NULL), 0);
    assert_memory_equal(back, data, sizeof data);
    assert_int_equal(m.last.access, IOMMU_PERM_W);
    assert_int_equal(m.last.size, 64);
    assert_false(m.last.translated);

    /* the read goes through the IOMMU too, and its latency delays it */
    uint8_t rbuf[16];
    struct rd r = {0, 0};
    sim_time_t t0 = sim_now(t.sim);
    assert_int_equal(pcie_fn_mem_read(t.e1, 0xffbf8010, rbuf, 16, rd_done, &r, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.st, PCIE_REQ_SC);
    assert_memory_equal(rbuf, data, 16);
    assert_true(sim_now(t.sim) - t0 > 100 * SIM_NS);

    /* another device at the same IOVA: the IOMMU refuses, nothing is written */
    assert_int_equal(pcie_fn_mem_write(t.e3, 0x345800, data, 4, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(mem_phys_read(t.ram, 0x345800, back, 4, NULL), 0);
    assert_int_equal(back[0], 0);
    r.done = 0;
    assert_int_equal(pcie_fn_mem_read(t.e3, 0xffbf8010, rbuf, 4, rd_done, &r, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.st, PCIE_REQ_UR);
    /* unmapped IOVA: completer abort */
    r.done = 0;
    assert_int_equal(pcie_fn_mem_read(t.e1, 0x1000, rbuf, 4, rd_done, &r, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(r.st, PCIE_REQ_CA);
    assert_int_equal(io.stats.faults, 3);
    assert_int_equal(io.stats.translations, 5);

    /* with the IOMMU's own requester ID, requests pass untranslated */
    iommu_attach_fabric(&io, t.f, true, pcie_fn_bdf(t.e3));
    assert_int_equal(pcie_fn_mem_write(t.e3, 0x345800, data, 4, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(mem_phys_read(t.ram, 0x345800, back, 4, NULL), 0);
    assert_memory_equal(back, data, 4);
    assert_int_equal(io.stats.passthrough, 1);

    /* detached: the default sink again, the IOVA is just an address */
    iommu_detach_fabric(&io);
    unsigned before = m.translations;
    assert_int_equal(pcie_fn_mem_write(t.e1, 0x346000, data, 4, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(m.translations, before);
    assert_int_equal(mem_phys_read(t.ram, 0x346000, back, 4, NULL), 0);
    assert_memory_equal(back, data, 4);
    tfab_free(&t);
}

static void test_interrupt_remap(void **state)
{
    (void)state;
    struct tfab t;
    tfab_build(&t, false);
    assert_int_equal(pcie_enumerate(t.f, NULL, NULL, NULL), 0);
    assert_int_equal(pcie_enum_enable(t.f, t.e1, true, NULL), 0);
    assert_int_equal(pcie_enum_enable(t.f, t.e3, true, NULL), 0);
    struct mock m = {.allowed_rid = pcie_fn_bdf(t.e1)};
    struct iommu io = {.ops = &mock_ops, .hw = &m};
    iommu_attach_fabric(&io, t.f, false, 0);
    enable_msi(&t, t.e1, t.d1);
    enable_msi(&t, t.e3, t.d3);
    assert_int_equal(pcie_fn_msi_send(t.e1, 0, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(t.irqs, 1);
    assert_int_equal(t.irq_addr, 0xfee03000);
    assert_int_equal(t.irq_data, 0x51);
    assert_int_equal(m.translations, 0);
    /* a requester without an interrupt table entry: blocked */
    assert_int_equal(pcie_fn_msi_send(t.e3, 0, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(t.irqs, 1);
    assert_int_equal(io.stats.interrupts, 2);
    assert_int_equal(io.stats.interrupts_blocked, 1);
    tfab_free(&t);
}

static void test_names(void **state)
{
    (void)state;
    char b[4];
    assert_string_equal(iommu_perm_str(IOMMU_PERM_R | IOMMU_PERM_W, b), "RW");
    assert_string_equal(iommu_perm_str(0, b), "-");
    assert_string_equal(iommu_perm_str(7, b), "RWX");
    assert_string_equal(iommu_fault_kind_name(IOMMU_FAULT_PERMISSION), "permission");
    assert_string_equal(iommu_fault_kind_name(IOMMU_FAULT_NOT_PRESENT), "page not present");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_translate_and_fault),
        cmocka_unit_test(test_interrupt_remap),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
