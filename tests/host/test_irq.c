/* The interrupt core: MSI set-up by config writes, the multi-MSI rule with
 * and without an interrupt remapper, request_irq unmasking, delivery of the
 * device's MSI TLP to the handler, MSI-X through the table in the BAR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "../pcie/fabric_fixture.h"
#include "host/irq.h"
#include "host/kernel.h"
#include "host/pci.h"
#include "pcie/msi.h"

struct fx {
    struct tfab t;
    struct host_kernel *k;
    struct host_kernel *prev;
};

static void up_version(struct fx *x, const char *version)
{
    tfab_build(&x->t, false);
    assert_int_equal(pcie_enumerate(x->t.f, NULL, NULL, NULL), 0);
    struct pcilab_err err;
    struct host_kernel_config kc = {.version = version};
    x->k = host_kernel_create(x->t.sim, x->t.f, x->t.ram, x->t.map, &kc, &err);
    assert_non_null(x->k);
    assert_int_equal(host_pci_scan(x->k, &err), 0);
    x->prev = host_enter(x->k);
}

static void up(struct fx *x)
{
    up_version(x, "6.1");
}

static void down(struct fx *x)
{
    host_leave(x->prev);
    tfab_free(&x->t);
}

struct hits {
    int n[4];
    int last_irq;
};

static irqreturn_t handler(int irq, void *dev_id)
{
    struct hits *h = dev_id;
    h->last_irq = irq;
    /* the handler runs with its kernel current */
    assert_non_null(host_current());
    h->n[0]++;
    return IRQ_HANDLED;
}

static irqreturn_t handler2(int irq, void *dev_id)
{
    struct hits *h = dev_id;
    h->last_irq = irq;
    h->n[1]++;
    return IRQ_HANDLED;
}

static void test_one_of_two_without_remapping(void **state)
{
    (void)state;
    struct fx x;
    up(&x);
    struct pci_dev *p = host_pci_of_fn(x.k, x.t.e1);
    assert_int_equal(pci_enable_device(p), 0);
    pci_set_master(p);
    assert_int_equal(pci_msi_vec_count(p), 2);
    assert_int_equal(pci_alloc_irq_vectors(p, 1, 2, PCI_IRQ_MSI), 1);
    assert_true(p->msi_enabled);
    int irq = pci_irq_vector(p, 0);
    assert_int_equal(irq, HOST_IRQ_GSI_TOP);
    assert_int_equal(pci_irq_vector(p, 1), -EINVAL);
    /* MSI programmed: enable, MME 1 vector. The function has per-vector
     * masking, so 6.1 only reserves a vector: the message points at the
     * shutdown vector 0xef on CPU0 (logical destination 1) until request_irq. */
    struct pcie_msi_vector v;
    assert_int_equal(pcie_msi_vector(&x.t.d1->cfg, 0, &v, NULL), 0);
    assert_int_equal(v.vectors, 1);
    struct host_irq_desc *d = host_irq_desc(x.k, (unsigned)irq);
    assert_non_null(d);
    assert_true(d->reserved);
    assert_int_equal(v.addr, 0xfee01004u);
    assert_int_equal(v.data, 0xef);
    assert_true(v.masked); /* until request_irq */
    /* asking for 2 as the minimum fails */
    pci_free_irq_vectors(p);
    assert_false(p->msi_enabled);
    assert_int_equal(pci_alloc_irq_vectors(p, 2, 2, PCI_IRQ_MSI), -ENOSPC);
    assert_int_equal(pci_alloc_irq_vectors(p, 1, 2, PCI_IRQ_MSI), 1);

    /* the device signals before request_irq: held pending in the device */
    struct hits h = {{0}, 0};
    assert_int_equal(pcie_fn_msi_send(x.t.e1, 0, NULL), 0);
    sim_run(x.t.sim, 0);
    assert_int_equal(h.n[0], 0);
    assert_int_equal(request_irq((unsigned)irq, handler, 0, "tdev", &h), 0);
    assert_int_equal(request_irq((unsigned)irq, handler, 0, "tdev", &h), -EBUSY);
    /* activated: CPU0 holds the timer's 0x30, so the matrix picks CPU1 and
     * its lowest vector; flat logical destination 1 << 1, data = vector */
    d = host_irq_desc(x.k, (unsigned)irq);
    assert_false(d->reserved);
    assert_int_equal(d->cpu, 1);
    assert_int_equal(d->vector, 0x21);
    assert_int_equal(pcie_msi_vector(&x.t.d1->cfg, 0, &v, NULL), 0);
    assert_int_equal(v.addr, 0xfee02004u);
    assert_int_equal(v.data, 0x21);
    /* unmasked: the device sends the pending message (pcie/msi.h) */
    assert_int_equal(pcie_msi_poll_pending(&x.t.d1->cfg, 0, &v), 1);
    assert_int_equal(pcie_fn_msi_send(x.t.e1, 0, NULL), 0);
    sim_run(x.t.sim, 0);
    assert_int_equal(h.n[0], 1);
    assert_int_equal(h.last_irq, irq);
    assert_int_equal(host_irq_desc(x.k, (unsigned)irq)->count, 1);
    /* disabled: held, then run by enable_irq */
    disable_irq((unsigned)irq);
    assert_int_equal(pcie_fn_msi_send(x.t.e1, 0, NULL), 0);
    sim_run(x.t.sim, 0);
    assert_int_equal(h.n[0], 1);
    enable_irq((unsigned)irq);
    sim_run(x.t.sim, 0);
    assert_int_equal(h.n[0], 2);
    assert_string_equal(free_irq((unsigned)irq, &h), "tdev");
    assert_null(free_irq((unsigned)irq, &h));
    down(&x);
}

/* A remapper that hands out interrupt table indices as MSI data and
 * delivers through a fixed translation the test applies itself. */
struct fake_remap {
    int allocs, frees;
    unsigned cpu[2];
    uint8_t vec[2];
};

static bool fr_remaps(void *ctx, struct pci_dev *dev)
{
    (void)ctx;
    (void)dev;
    return true;
}

static int fr_alloc(void *ctx, struct pci_dev *dev, unsigned irq_base, unsigned nvec, bool msix,
                    uint64_t *addr, uint32_t *data)
{
    (void)msix;
    struct fake_remap *f = ctx;
    f->allocs++;
    for (unsigned i = 0; i < nvec; i++) {
        struct host_irq_desc *d = host_irq_desc(dev->dev.kernel, irq_base + i);
        f->cpu[i] = d->cpu;
        f->vec[i] = d->vector;
        addr[i] = 0xfee00000u;
        data[i] = 8 + i; /* index 8, 9: aligned for multi-MSI */
    }
    return 0;
}

static void fr_free(void *ctx, struct pci_dev *dev, unsigned nvec, bool msix)
{
    (void)dev;
    (void)nvec;
    (void)msix;
    struct fake_remap *f = ctx;
    f->frees++;
}

static void test_two_with_remapping(void **state)
{
    (void)state;
    struct fx x;
    up(&x);
    struct fake_remap fr;
    memset(&fr, 0, sizeof fr);
    struct host_irq_remap r = {&fr, fr_remaps, fr_alloc, fr_free};
    host_irq_set_remap(x.k, &r);
    struct pci_dev *p = host_pci_of_fn(x.k, x.t.e1);
    assert_int_equal(pci_enable_device(p), 0);
    pci_set_master(p);
    assert_int_equal(pci_alloc_irq_vectors(p, 1, 2, PCI_IRQ_MSI), 2);
    assert_int_equal(fr.allocs, 1);
    struct pcie_msi_vector v;
    assert_int_equal(pcie_msi_vector(&x.t.d1->cfg, 1, &v, NULL), 0);
    assert_int_equal(v.vectors, 2);
    assert_int_equal(v.data, 9); /* the device ORs the vector number in */
    struct hits h = {{0}, 0};
    assert_int_equal(request_irq((unsigned)pci_irq_vector(p, 0), handler, 0, "a", &h), 0);
    assert_int_equal(request_irq((unsigned)pci_irq_vector(p, 1), handler2, 0, "b", &h), 0);
    /* what the remapper would deliver for index 9 */
    host_irq_deliver_msi(x.k, 0xfee00000u | fr.cpu[1] << 12, fr.vec[1]);
    sim_run(x.t.sim, 0);
    assert_int_equal(h.n[1], 1);
    assert_int_equal(h.last_irq, pci_irq_vector(p, 1));
    /* a vector nobody owns */
    host_irq_deliver_msi(x.k, 0xfee00000u, 0xe0);
    struct sim_log_rec rec;
    assert_true(sim_log_get(sim_log(x.t.sim), sim_log_count(sim_log(x.t.sim)) - 1, &rec));
    assert_string_equal(rec.text, "__common_interrupt: 0.224 No irq handler for vector");
    free_irq((unsigned)pci_irq_vector(p, 0), &h);
    free_irq((unsigned)pci_irq_vector(p, 1), &h);
    pci_free_irq_vectors(p);
    assert_int_equal(fr.frees, 1);
    down(&x);
}

static void test_vectors_spread(void **state)
{
    (void)state;
    struct fx x;
    up(&x);
    /* the matrix allocator on 4 CPUs: CPU0 has one vector less (0x30), so
     * CPUs 1-3 come first, then ties go to the lowest CPU */
    int base = host_irq_alloc(x.k, 5);
    assert_int_equal(base, HOST_IRQ_GSI_TOP);
    const unsigned cpu[5] = {1, 2, 3, 0, 1};
    const unsigned vec[5] = {0x21, 0x21, 0x21, 0x21, 0x22};
    for (unsigned i = 0; i < 5; i++) {
        struct host_irq_desc *d = host_irq_desc(x.k, (unsigned)base + i);
        assert_int_equal(d->cpu, cpu[i]);
        assert_int_equal(d->vector, vec[i]);
    }
    host_irq_free(x.k, (unsigned)base, 4);
    assert_int_equal(host_irq_alloc(x.k, 2), base);
    /* 5.x: a freed vector is shut down: the first stray interrupt on it is
     * silent, the next one is reported */
    size_t n = sim_log_count(sim_log(x.t.sim));
    int f = host_irq_alloc(x.k, 1);
    struct host_irq_desc *d = host_irq_desc(x.k, (unsigned)f);
    unsigned fc = d->cpu, fv = d->vector;
    host_irq_free(x.k, (unsigned)f, 1);
    host_irq_deliver_msi(x.k, 0xfee00004u | (1u << fc) << 12, fv);
    assert_int_equal(sim_log_count(sim_log(x.t.sim)), n);
    host_irq_deliver_msi(x.k, 0xfee00004u | (1u << fc) << 12, fv);
    assert_int_equal(sim_log_count(sim_log(x.t.sim)), n + 1);
    down(&x);
}

/* 4.9: one global cursor stepping by 16 from 0x21 (0x31 is the keyboard's
 * legacy vector), the vector taken on every CPU, messages to all four CPUs
 * in lowest-priority mode: 0xfee0f00c / 0x4141. */
static void test_vectors_4_9(void **state)
{
    (void)state;
    struct fx x;
    up_version(&x, "4.9.80");
    struct pci_dev *p = host_pci_of_fn(x.k, x.t.e1);
    assert_int_equal(pci_enable_device(p), 0);
    pci_set_master(p);
    assert_int_equal(pci_alloc_irq_vectors(p, 1, 2, PCI_IRQ_MSI), 1);
    struct pcie_msi_vector v;
    assert_int_equal(pcie_msi_vector(&x.t.d1->cfg, 0, &v, NULL), 0);
    assert_int_equal(v.addr, 0xfee0f00cu);
    assert_int_equal(v.data, 0x4141);
    int more = host_irq_alloc(x.k, 12);
    const unsigned want[12] = {0x51, 0x61, 0x71, 0x81, 0x91, 0xa1, 0xb1, 0xc1, 0xd1, 0xe1,
                               0x22, 0x42};
    for (unsigned i = 0; i < 12; i++)
        assert_int_equal(host_irq_desc(x.k, (unsigned)more + i)->vector, want[i]);
    /* lowest priority: CPU0 takes it */
    struct hits h = {{0}, 0};
    assert_int_equal(request_irq((unsigned)pci_irq_vector(p, 0), handler, 0, "t", &h), 0);
    assert_int_equal(pcie_fn_msi_send(x.t.e1, 0, NULL), 0);
    sim_run(x.t.sim, 0);
    assert_int_equal(h.n[0], 1);
    /* no handler on a vector: 4.x's wording */
    host_irq_deliver_msi(x.k, 0xfee0100cu, 0x4152);
    struct sim_log_rec rec;
    assert_true(sim_log_get(sim_log(x.t.sim), sim_log_count(sim_log(x.t.sim)) - 1, &rec));
    assert_string_equal(rec.text, "do_IRQ: 0.82 No irq handler for vector");
    down(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_of_two_without_remapping),
        cmocka_unit_test(test_two_with_remapping),
        cmocka_unit_test(test_vectors_spread),
        cmocka_unit_test(test_vectors_4_9),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
