/* The registry and the parameters: names, defaults, value syntax, clear
 * errors naming the key; attach refusals; and the seed's point with an IOMMU
 * in the path (a small test IOMMU that knows only the board's real ID): the
 * write with requester ID 0000 faults and leaves memory untouched while the
 * captured reads and MSIs pass; with requester_id=captured nothing faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "dev_fixture.h"
#include "iommu/iommu.h"

static void test_registry(void **state)
{
    (void)state;
    assert_int_equal(dev_model_type_count(), 3);
    assert_string_equal(dev_model_type_at(0)->name, "ecp5_dma");
    assert_string_equal(dev_model_type_at(1)->name, "ecp3_can");
    assert_string_equal(dev_model_type_at(2)->name, "edu");
    assert_null(dev_model_type_at(3));
    const struct dev_model_info *i = dev_model_type_find("ecp5_dma");
    assert_non_null(i);
    assert_non_null(dev_model_type_find("edu"));
    assert_null(dev_model_type_find("edu2"));
    /* every default parses as its own parameter */
    for (size_t k = 0; k < dev_model_type_count(); k++) {
        const struct dev_model_info *m = dev_model_type_at(k);
        for (size_t j = 0; j < m->nparams; j++) {
            union dev_value v;
            if (m->params[j].def)
                assert_int_equal(dev_param_parse(m->name, &m->params[j], m->params[j].def, &v,
                                                 NULL), 0);
            assert_non_null(m->params[j].help);
        }
    }
}

static const struct dev_param_desc *desc(const char *model, const char *key)
{
    const struct dev_model_info *m = dev_model_type_find(model);
    for (size_t j = 0; j < m->nparams; j++)
        if (!strcmp(m->params[j].key, key))
            return &m->params[j];
    fail();
    return NULL;
}

static void test_values(void **state)
{
    (void)state;
    union dev_value v;
    struct pcilab_err e;
    const struct dev_param_desc *per = desc("ecp5_dma", "period");
    assert_int_equal(dev_param_parse("ecp5_dma", per, "2.5ms", &v, &e), 0);
    assert_int_equal(v.t, 2500 * SIM_US);
    assert_int_equal(dev_param_parse("ecp5_dma", per, "2500us", &v, &e), 0);
    assert_int_equal(v.t, 2500 * SIM_US);
    assert_int_equal(dev_param_parse("ecp5_dma", per, "0.000001s", &v, &e), 0);
    assert_int_equal(v.t, SIM_US);
    assert_int_equal(dev_param_parse("ecp5_dma", per, "2500", &v, &e), -PCILAB_EINVAL);
    assert_non_null(strstr(e.msg, "'period'"));
    assert_non_null(strstr(e.msg, "needs a unit"));
    assert_int_equal(dev_param_parse("ecp5_dma", per, "1.5ps", &v, &e), -PCILAB_EINVAL);
    assert_int_equal(dev_param_parse("ecp5_dma", per, "100ns", &v, &e), -PCILAB_EINVAL);
    assert_non_null(strstr(e.msg, "out of range"));
    assert_int_equal(dev_param_parse("ecp5_dma", per, "5 ms", &v, &e), -PCILAB_EINVAL);

    const struct dev_param_desc *pay = desc("ecp5_dma", "payload");
    assert_int_equal(dev_param_parse("ecp5_dma", pay, "0x200", &v, &e), 0);
    assert_int_equal(v.u, 512);
    assert_int_equal(dev_param_parse("ecp5_dma", pay, "64KiB", &v, &e), 0);
    assert_int_equal(v.u, 65536);
    assert_int_equal(dev_param_parse("ecp5_dma", pay, "0", &v, &e), -PCILAB_EINVAL);
    assert_string_equal(e.msg, "ecp5_dma: parameter 'payload': '0' is out of range: "
                               "1..65536 bytes");
    assert_int_equal(dev_param_parse("ecp5_dma", pay, "12x", &v, &e), -PCILAB_EINVAL);
    assert_int_equal(dev_param_parse("ecp5_dma", pay, "99999999999999999999", &v, &e),
                     -PCILAB_EINVAL);

    const struct dev_param_desc *rid = desc("ecp5_dma", "write_rid");
    assert_int_equal(dev_param_parse("ecp5_dma", rid, "03:1f.2", &v, &e), 0);
    assert_int_equal(v.rid.mode, DEV_RID_FIXED);
    assert_int_equal(v.rid.bdf, 0x03fa);
    char buf[16];
    assert_string_equal(dev_rid_str(&v.rid, buf), "03:1f.2");
    assert_int_equal(dev_param_parse("ecp5_dma", rid, "zero", &v, &e), 0);
    assert_int_equal(v.rid.mode, DEV_RID_ZERO);
    assert_int_equal(dev_param_parse("ecp5_dma", rid, "01:20.0", &v, &e), -PCILAB_EINVAL);
    assert_non_null(strstr(e.msg, "'write_rid'"));

    const struct dev_param_desc *a64 = desc("ecp5_dma", "addr64");
    assert_int_equal(dev_param_parse("ecp5_dma", a64, "sometimes", &v, &e), -PCILAB_EINVAL);
    assert_string_equal(e.msg, "ecp5_dma: parameter 'addr64': 'sometimes' is not one of "
                               "auto, always");
    const struct dev_param_desc *rd = desc("ecp5_dma", "read");
    assert_int_equal(dev_param_parse("ecp5_dma", rd, "off", &v, &e), 0);
    assert_false(v.b);
    assert_int_equal(dev_param_parse("ecp5_dma", rd, "maybe", &v, &e), -PCILAB_EINVAL);
}

static void test_attach_errors(void **state)
{
    (void)state;
    struct dfix *d = dfix_new(ecp5_dma_cfg_init);
    assert_int_equal(dfix_attach(d, "ecp9", NULL, 0), -PCILAB_ENOENT);
    assert_string_equal(d->err.msg, "unknown device model 'ecp9' (known: ecp5_dma, ecp3_can, edu)");
    struct dev_param unk[] = {{"speed", "gen2"}};
    assert_int_equal(dfix_attach(d, "ecp5_dma", unk, 1), -PCILAB_EINVAL);
    assert_non_null(strstr(d->err.msg, "unknown parameter 'speed' (known: payload, period"));
    struct dev_param twice[] = {{"payload", "4"}, {"payload", "8"}};
    assert_int_equal(dfix_attach(d, "ecp5_dma", twice, 2), -PCILAB_EINVAL);
    assert_string_equal(d->err.msg, "ecp5_dma: parameter 'payload' given twice");
    struct dev_param odd[] = {{"read_offset", "6"}};
    assert_int_equal(dfix_attach(d, "ecp5_dma", odd, 1), -PCILAB_EINVAL);
    assert_non_null(strstr(d->err.msg, "'read_offset'"));
    struct dev_param sub[] = {{"period", "1500.5ns"}};
    assert_int_equal(dfix_attach(d, "ecp5_dma", sub, 1), -PCILAB_EINVAL);
    assert_non_null(strstr(d->err.msg, "whole nanoseconds"));
    /* nothing was attached by the failures */
    assert_null(pcie_fn_ops(d->ep));
    assert_null(d->m);
    assert_int_equal(dfix_attach(d, "ecp5_dma", NULL, 0), 0);
    struct dev_model *first = d->m;
    assert_int_equal(dfix_attach(d, "ecp3_can", NULL, 0), -PCILAB_EEXIST);
    assert_non_null(strstr(d->err.msg, "already has a device model (ecp5_dma)"));
    assert_int_equal(dev_model_set(first, "colour", "red", &d->err), -PCILAB_EINVAL);
    assert_int_equal(dev_model_set(first, "payload", "-1", &d->err), -PCILAB_EINVAL);
    assert_non_null(strstr(d->err.msg, "'payload'"));
    assert_string_equal(dev_model_param(first, "payload"), "128");
    assert_string_equal(dev_model_name(first), "ecp5_dma");
    assert_ptr_equal(dev_model_fn(first), d->ep);
    assert_string_equal(dev_model_param(first, "requester_id"), "mixed");
    dfix_free(d);

    /* a function without MSI, or with a too small BAR0 */
    d = calloc(1, sizeof *d);
    assert_non_null(d);
    d->sim = sim_create(1);
    struct pcilab_err e;
    struct pcie_fabric *f = pcie_fabric_create(d->sim, NULL, &e);
    struct pcie_fn *rp = pcie_fabric_add_root_port(f, 1, 0, NULL, &e);
    struct pcie_cfg_ident id = {.vendor_id = 0x1204, .device_id = 0x5045, .pcie = true};
    pcie_cfg_init(&d->cfg);
    assert_int_equal(pcie_cfg_init_type0(&d->cfg, &id, NULL), 0);
    assert_int_equal(pcie_cfg_bar_declare(&d->cfg, 0, PCIE_BAR_MEM32, 4096, false, NULL), 0);
    struct pcie_fn *ep = pcie_fabric_add_endpoint(f, rp, &d->cfg, NULL, NULL, &e);
    assert_non_null(ep);
    struct dev_model *m = NULL;
    assert_int_equal(dev_model_attach("ecp5_dma", d->sim, ep, NULL, 0, &m, &e), -PCILAB_EINVAL);
    assert_string_equal(e.msg, "ecp5_dma: needs an MSI capability (msi: in the function's "
                               "capabilities)");
    struct pcilab_sim *other = sim_create(2);
    assert_int_equal(dev_model_attach("ecp5_dma", other, ep, NULL, 0, &m, &e), -PCILAB_EINVAL);
    sim_destroy(other);
    sim_destroy(d->sim);
    free(d);
}

/* ---- with an IOMMU: only the board's real ID (01:00.0) has a mapping ---- */

struct tiommu {
    uint16_t allowed;
    uint64_t limit;           /* when non-zero: addresses at or above fault */
    unsigned faults_w, faults_r, last_rid;
};

static void t_translate(void *hw, const struct iommu_req *req, struct iommu_result *res)
{
    struct tiommu *t = hw;
    memset(res, 0, sizeof *res);
    if (req->rid == t->allowed && (!t->limit || req->addr < t->limit)) {
        res->ok = true;
        res->pa = req->addr;
        res->perm = IOMMU_PERM_R | IOMMU_PERM_W;
        res->page_shift = 12;
        res->cpl = PCIE_CPL_SC;
        return;
    }
    if (req->access & IOMMU_PERM_W)
        t->faults_w++;
    else
        t->faults_r++;
    t->last_rid = req->rid;
    res->fault = IOMMU_FAULT_PERMISSION;
    res->cpl = PCIE_CPL_CA;
}

static void t_remap(void *hw, uint16_t rid, const struct iommu_msi *in,
                    struct iommu_irq_result *res)
{
    struct tiommu *t = hw;
    memset(res, 0, sizeof *res);
    res->ok = rid == t->allowed;
    res->out = *in;
}

static bool t_is_irq(void *hw, uint16_t rid, uint64_t addr)
{
    (void)hw;
    (void)rid;
    return addr >= PCIE_MSI_WINDOW_BASE && addr < PCIE_MSI_WINDOW_BASE + PCIE_MSI_WINDOW_SIZE;
}

static const struct iommu_ops t_ops = {"test", t_translate, t_remap, NULL, t_is_irq};

static void run_with_iommu(const struct dev_param *p, size_t n, struct tiommu *t,
                           struct dev_counters *c, uint32_t *first_dw, size_t *irqs)
{
    struct dfix *d = dfix_new(ecp5_dma_cfg_init);
    assert_int_equal(dfix_attach(d, "ecp5_dma", p, n), 0);
    t->allowed = d->bdf;
    struct iommu io;
    memset(&io, 0, sizeof io);
    io.ops = &t_ops;
    io.hw = t;
    iommu_attach_fabric(&io, d->f, false, 0);
    dfix_msi(d, 2, 0x4020);
    dfix_w32(d, ECP5_DMA_REG_DMA_ADDR_HI, 0);
    dfix_w32(d, ECP5_DMA_REG_DMA_ADDR_LO, 0x7fbf8000u);
    sim_run_until(d->sim, 10 * SIM_MS + 100 * SIM_US);
    dev_model_counters(d->m, c);
    assert_int_equal(mem_phys_read32(d->ram, 0x7fbf8000u, first_dw, NULL), 0);
    *irqs = d->nirqs;
    dfix_free(d);
}

static void test_iommu(void **state)
{
    (void)state;
    struct tiommu t = {0};
    struct dev_counters c;
    uint32_t dw;
    size_t irqs;
    /* the seed's board: four cycles, four write faults from 0000, no read
     * faults, every MSI delivered, the buffer stays zero */
    run_with_iommu(NULL, 0, &t, &c, &dw, &irqs);
    assert_int_equal(t.faults_w, 4);
    assert_int_equal(t.faults_r, 0);
    assert_int_equal(t.last_rid, 0x0000);
    assert_int_equal(dw, 0);
    assert_int_equal(c.reads_completed, 4);
    assert_int_equal(c.cpl_ca, 0);
    assert_int_equal(irqs, 4 + 1); /* DMA done x4, the UART at 10 ms */
    /* the fix */
    struct dev_param fix[] = {{"requester_id", "captured"}};
    memset(&t, 0, sizeof t);
    run_with_iommu(fix, 1, &t, &c, &dw, &irqs);
    assert_int_equal(t.faults_w + t.faults_r, 0);
    assert_int_equal(dw, 0xEC5D0004u);
    /* all-zero IDs: the reads fault too; their CA completions are routed to
     * 00:00.0, so the board never sees them (it would time out) */
    struct dev_param zero[] = {{"requester_id", "zero"}};
    memset(&t, 0, sizeof t);
    run_with_iommu(zero, 1, &t, &c, &dw, &irqs);
    assert_int_equal(t.faults_w, 4);
    assert_int_equal(t.faults_r, 4);
    assert_int_equal(c.cpl_ca, 0);
    assert_int_equal(c.read_tlps, 4);
    assert_int_equal(c.reads_completed, 0);
    assert_int_equal(irqs, 0); /* interrupts from 0000 are blocked too */
    /* the captured read of an unmapped page: the board gets the CA */
    struct dev_param beyond[] = {{"requester_id", "captured"}, {"read_offset", "4K"}};
    memset(&t, 0, sizeof t);
    t.limit = 0x7fbf9000u;
    run_with_iommu(beyond, 2, &t, &c, &dw, &irqs);
    assert_int_equal(t.faults_w, 0);
    assert_int_equal(t.faults_r, 4);
    assert_int_equal(c.cpl_ca, 4);
    assert_int_equal(c.reads_completed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_attach_errors),
        cmocka_unit_test(test_iommu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
