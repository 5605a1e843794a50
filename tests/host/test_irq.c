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

static void up(struct fx *x)
{
    tfab_build(&x->t, false);
    assert_int_equal(pcie_enumerate(x->t.f, NULL, NULL, NULL), 0);
    struct pcilab_err err;
    x->k = host_kernel_create(x->t.sim, x->t.f, x->t.ram, x->t.map, NULL, &err);
    assert_non_null(x->k);
    assert_int_equal(host_pci_scan(x->k, &err), 0);
    x->prev = host_enter(x->k);
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
    /* MSI programmed: enable, MME 1 vector, address/data of the vector */
    struct pcie_msi_vector v;
    assert_int_equal(pcie_msi_vector(&x.t.d1->cfg, 0, &v, NULL), 0);
    assert_int_equal(v.vectors, 1);
    struct host_irq_desc *d = host_irq_desc(x.k, (unsigned)irq);
    assert_non_null(d);
    assert_int_equal(v.addr, 0xfee00000u | d->cpu << 12);
    assert_int_equal(v.data, d->vector);
    assert_true(d->vector >= 0x21 && d->vector < 0xec);
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

static int fr_alloc(void *ctx, struct pci_dev *dev, unsigned nvec, bool msix, const unsigned *cpu,
                    const uint8_t *vector, uint64_t *addr, uint32_t *data)
{
    (void)dev;
    (void)msix;
    struct fake_remap *f = ctx;
    f->allocs++;
    for (unsigned i = 0; i < nvec; i++) {
        f->cpu[i] = cpu[i];
        f->vec[i] = vector[i];
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
    assert_string_equal(rec.text, "do_IRQ: 0.224 No irq handler for vector");
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
    /* four IRQs on a 4-CPU machine: one per CPU, the same lowest vector */
    int base = host_irq_alloc(x.k, 4);
    assert_int_equal(base, HOST_IRQ_GSI_TOP);
    for (unsigned i = 0; i < 4; i++) {
        struct host_irq_desc *d = host_irq_desc(x.k, (unsigned)base + i);
        assert_int_equal(d->cpu, i);
        assert_int_equal(d->vector, 0x21);
    }
    struct host_irq_desc *d = host_irq_desc(x.k, (unsigned)host_irq_alloc(x.k, 1));
    assert_int_equal(d->cpu, 0);
    assert_int_equal(d->vector, 0x22);
    host_irq_free(x.k, (unsigned)base, 4);
    assert_int_equal(host_irq_alloc(x.k, 2), base);
    down(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_of_two_without_remapping),
        cmocka_unit_test(test_two_with_remapping),
        cmocka_unit_test(test_vectors_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
