/* host/module: modules written here against host/module.h directly (what
 * the <linux/...> macros expand to): insmod/rmmod as calls and as events,
 * init and probe that sleep (cooperative tasks woken on the tick msleep
 * names), parameters of every type applied only while the module's code
 * runs, sleeping in an interrupt handler, PCI ID matching and binding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "amd_machine.h"
#include "host/module.h"

/* ---- A module with parameters and a sleeping init (one per test run:
 * the recorded values live in the test's state, reached through a pointer
 * set before each load). ---- */

struct rec {
    sim_time_t t_init, t_woke, t_exit, t_exit_woke;
    int p_int;
    unsigned p_uint;
    long p_long;
    bool p_bool;
    const char *p_charp;
    unsigned char p_byte;
    unsigned sleep_ms;
    bool in_task;
    int rc;
};

/* Test-only hooks: module code takes no arguments, so the test hands it its
 * record here before each load. */
static struct rec *volatile current_rec;

static int t_int = 7;
static unsigned int t_uint = 8;
static long t_long = -9;
static bool t_bool;
static char *t_charp = "dflt";
static unsigned char t_byte = 3;

#define PARAM(name, type) \
    static const struct host_module_param tparam_##name \
        __attribute__((used, section("pcilab_modparam"), aligned(sizeof(void *)))) = { \
        "tmod", #name, HOST_PARAM_##type, 0444, {.p_##type = &(name)}, __LINE__}
PARAM(t_int, int);
PARAM(t_uint, uint);
PARAM(t_long, long);
PARAM(t_bool, bool);
PARAM(t_charp, charp);
PARAM(t_byte, byte);

static int tmod_init(void)
{
    struct rec *r = current_rec;
    struct host_kernel *k = host_current();
    r->in_task = host_in_task(k);
    r->t_init = sim_now(k->sim);
    r->p_int = t_int;
    r->p_uint = t_uint;
    r->p_long = t_long;
    r->p_bool = t_bool;
    r->p_charp = t_charp;
    r->p_byte = t_byte;
    if (r->sleep_ms) {
        msleep(r->sleep_ms);
        r->t_woke = sim_now(host_current()->sim);
        /* the parameters are back in place after the sleep */
        if (t_int != r->p_int)
            return -EIO;
    }
    return r->rc;
}

static void tmod_exit(void)
{
    struct rec *r = current_rec;
    r->t_exit = sim_now(host_current()->sim);
    usleep_range(250, 500);
    r->t_exit_woke = sim_now(host_current()->sim);
}

static const struct host_module tmod = {"tmod", tmod_init, tmod_exit};

struct bare {
    struct pcilab_sim *sim;
    struct pcie_fabric *f;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct host_kernel *k;
};

static void bare_build(struct bare *b, const char *version)
{
    struct pcilab_err err;
    b->sim = sim_create(1);
    b->f = pcie_fabric_create(b->sim, NULL, &err);
    b->ram = mem_phys_create();
    b->map = mem_addrmap_create(b->ram);
    assert_int_equal(mem_addrmap_add_ram(b->map, 0, 0x40000000ull, "System RAM", &err), 0);
    pcie_fabric_set_memory(b->f, b->map);
    struct host_kernel_config kc = {.version = version};
    b->k = host_kernel_create(b->sim, b->f, b->ram, b->map, &kc, &err);
    assert_non_null(b->k);
}

static void bare_free(struct bare *b)
{
    sim_destroy(b->sim);
    mem_addrmap_destroy(b->map);
    mem_phys_destroy(b->ram);
}

static bool log_has(struct pcilab_sim *sim, const char *text, sim_time_t *ts)
{
    const struct sim_log *log = sim_log(sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec r;
        if (sim_log_get(log, i, &r) && strcmp(r.text, text) == 0) {
            if (ts)
                *ts = r.ts;
            return true;
        }
    }
    return false;
}

/* msleep(10) at t = 1 ms on a HZ=250 kernel: msecs_to_jiffies(10) = 3, + 1
 * = 4 ticks after the current tick (0): wakes at 16 ms. */
static void test_msleep_in_init(void **state)
{
    (void)state;
    struct bare b;
    bare_build(&b, "4.9.80");
    struct rec r = {.sleep_ms = 10};
    current_rec = &r;
    sim_run_until(b.sim, SIM_MS);
    assert_int_equal(host_module_load(b.k, &tmod, NULL, NULL), 1);
    const struct host_module_inst *mi = host_module_find(b.k, "tmod");
    assert_int_equal(host_module_state(mi), HOST_MODULE_LOADING);
    char v[16];
    host_module_param_get(mi, "t_uint", v, sizeof v); /* not given: the default */
    assert_string_equal(v, "8");
    host_module_param_get(mi, "t_charp", v, sizeof v);
    assert_string_equal(v, "dflt");
    assert_true(r.in_task);
    assert_int_equal(r.t_init, SIM_MS);
    assert_null(host_current());            /* nothing left entered */
    assert_false(host_in_task(b.k));
    /* rmmod while init sleeps: busy */
    assert_int_equal(host_module_unload(b.k, "tmod", NULL), -EBUSY);
    sim_run_until(b.sim, 15 * SIM_MS);
    assert_int_equal(host_module_state(mi), HOST_MODULE_LOADING);
    sim_run_until(b.sim, 16 * SIM_MS);
    assert_int_equal(host_module_state(mi), HOST_MODULE_LIVE);
    assert_int_equal(r.t_woke, 16 * SIM_MS);
    assert_int_equal(host_module_init_result(mi), 0);

    /* exit sleeps too: usleep_range wakes at min */
    assert_int_equal(host_module_unload(b.k, "tmod", NULL), 1);
    assert_int_equal(host_module_state(mi), HOST_MODULE_UNLOADING);
    sim_run_until(b.sim, 17 * SIM_MS);
    assert_int_equal(host_module_state(mi), HOST_MODULE_GONE);
    assert_int_equal(r.t_exit, 16 * SIM_MS);
    assert_int_equal(r.t_exit_woke, 16 * SIM_MS + 250 * SIM_US);
    /* the out-of-tree line */
    assert_true(log_has(b.sim, "tmod: loading out-of-tree module taints kernel.", NULL));
    bare_free(&b);
}

/* Every parameter type, set only while the module runs; insmod as an event;
 * a failing init leaves the module gone with its result. */
static void test_parameters_and_events(void **state)
{
    (void)state;
    struct bare b;
    bare_build(&b, "6.1");
    struct rec r = {.sleep_ms = 1};
    current_rec = &r;
    struct host_module_load_opts o = {
        .params = "t_int=0x10 t-uint=42 t_long=-123456789 t_bool t_charp=\"hello world\" t_byte=255",
        .in_tree = true};
    assert_int_equal(host_module_load_at(b.k, 2 * SIM_S, &tmod, &o, NULL), 0);
    assert_int_equal(host_module_state(host_module_find(b.k, "tmod")), HOST_MODULE_SCHEDULED);
    sim_run_until(b.sim, 3 * SIM_S);
    assert_int_equal(r.t_init, 2 * SIM_S);
    assert_int_equal(r.p_int, 16);
    assert_int_equal(r.p_uint, 42);
    assert_int_equal(r.p_long, -123456789);
    assert_true(r.p_bool);
    assert_string_equal(r.p_charp, "hello world");
    assert_int_equal(r.p_byte, 255);
    assert_int_equal(host_module_state(host_module_find(b.k, "tmod")), HOST_MODULE_LIVE);
    /* outside the module's code the variables hold their defaults */
    assert_int_equal(t_int, 7);
    assert_int_equal(t_uint, 8);
    assert_int_equal(t_long, -9);
    assert_false(t_bool);
    assert_string_equal(t_charp, "dflt");
    assert_int_equal(t_byte, 3);
    /* /sys/module/tmod/parameters/: the load's values, the defaults of the rest */
    const struct host_module_inst *mi = host_module_find(b.k, "tmod");
    char v[32];
    assert_int_equal(host_module_param_get(mi, "t_int", v, sizeof v), 2);
    assert_string_equal(v, "16");
    assert_int_equal(host_module_param_get(mi, "t-long", v, sizeof v), 10);
    assert_string_equal(v, "-123456789");
    host_module_param_get(mi, "t_bool", v, sizeof v);
    assert_string_equal(v, "Y");
    host_module_param_get(mi, "t_charp", v, sizeof v);
    assert_string_equal(v, "hello world");
    host_module_param_get(mi, "t_byte", v, sizeof v);
    assert_string_equal(v, "255");
    assert_int_equal(host_module_param_get(mi, "nope", v, sizeof v), -ENOENT);
    /* in tree: no taint line */
    assert_false(log_has(b.sim, "tmod: loading out-of-tree module taints kernel.", NULL));

    /* rmmod as an event */
    assert_int_equal(host_module_unload_at(b.k, 4 * SIM_S, "tmod", NULL), 0);
    sim_run_until(b.sim, 5 * SIM_S);
    assert_int_equal(host_module_state(host_module_find(b.k, "tmod")), HOST_MODULE_GONE);
    assert_int_equal(r.t_exit, 4 * SIM_S);

    /* out of range values */
    struct pcilab_err err;
    struct host_module_load_opts bad = {.params = "t_byte=256"};
    assert_int_equal(host_module_load(b.k, &tmod, &bad, &err), -EINVAL);
    assert_true(log_has(b.sim, "tmod: `256' invalid for parameter `t_byte'", NULL));
    struct host_module_load_opts bad2 = {.params = "t_uint=-1"};
    assert_int_equal(host_module_load(b.k, &tmod, &bad2, &err), -EINVAL);
    struct host_module_load_opts bad3 = {.params = "t_int"};
    assert_int_equal(host_module_load(b.k, &tmod, &bad3, &err), -EINVAL);

    /* init fails: gone, with the result */
    struct rec r2 = {.rc = -ENODEV};
    current_rec = &r2;
    assert_int_equal(host_module_load(b.k, &tmod, NULL, &err), -ENODEV);
    assert_int_equal(host_module_state(host_module_find(b.k, "tmod")), HOST_MODULE_GONE);
    assert_int_equal(host_module_init_result(host_module_find(b.k, "tmod")), -ENODEV);
    assert_int_equal(host_module_unload(b.k, "tmod", &err), -ENOENT);
    bare_free(&b);
}

/* ---- PCI binding on the AMD test machine (endpoint 1204:e250 at
 * 01:00.0) ---- */

struct pstate {
    int probes, removes;
    const char *name_in_probe;
    unsigned long driver_data;
    sim_time_t probe_done;
    int irq;
    int handled;
};
static struct pstate *volatile current_p; /* test-only hook */

static irqreturn_t tirq(int irq, void *dev_id)
{
    (void)irq;
    struct pstate *p = dev_id;
    p->handled++;
    msleep(1); /* a bug: handlers must not sleep */
    return IRQ_HANDLED;
}

static int tprobe(struct pci_dev *dev, const struct pci_device_id *id)
{
    struct pstate *p = current_p;
    p->probes++;
    p->name_in_probe = dev->dev.driver_name;
    p->driver_data = id->driver_data;
    msleep(20);
    p->probe_done = sim_now(dev->dev.kernel->sim);
    if (pci_enable_device(dev))
        return -EIO;
    pci_set_master(dev); /* an MSI is a memory write */
    if (pci_alloc_irq_vectors(dev, 1, 1, PCI_IRQ_MSI) != 1)
        return -EIO;
    p->irq = pci_irq_vector(dev, 0);
    return request_irq((unsigned)p->irq, tirq, 0, "tdrv", p);
}

static void tremove(struct pci_dev *dev)
{
    struct pstate *p = current_p;
    p->removes++;
    free_irq((unsigned)p->irq, p);
    pci_free_irq_vectors(dev);
    pci_disable_device(dev);
}

static const struct pci_device_id tids[] = {
    {.vendor = 0x1204, .device = 0xe251, .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID},
    {.vendor = 0x1204, .device = 0xe250, .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID,
     .driver_data = 77},
    {0},
};
static struct pci_driver tdrv = {.name = "tdrv", .id_table = tids, .probe = tprobe,
                                 .remove = tremove};

static int tdrv_init(void)
{
    return host_pci_register_driver(&tdrv, "tdrvmod");
}

static void tdrv_exit(void)
{
    host_pci_unregister_driver(&tdrv);
}

static const struct host_module tdrvmod = {"tdrvmod", tdrv_init, tdrv_exit};

static void test_pci_binding(void **state)
{
    (void)state;
    struct amd_machine m;
    struct amd_machine_opts o = {.version = "4.9.80"};
    amd_machine_build(&m, &o);
    host_leave(m.prev); /* the loader enters the kernel itself */
    struct pstate p = {0};
    current_p = &p;

    /* pci_match_id */
    assert_ptr_equal(pci_match_id(tids, m.pdev), &tids[1]);
    const struct pci_device_id cls[] = {{.vendor = PCI_ANY_ID, .device = PCI_ANY_ID,
                                         .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID,
                                         .class = 0x118000, .class_mask = 0xffff00},
                                        {0}};
    assert_ptr_equal(pci_match_id(cls, m.pdev), &cls[0]);
    const struct pci_device_id none[] = {{.vendor = 0x1204, .device = 0x5045,
                                          .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID},
                                         {0}};
    assert_null(pci_match_id(none, m.pdev));

    sim_time_t t0 = sim_now(m.sim);
    assert_int_equal(host_module_load(m.k, &tdrvmod, NULL, NULL), 1); /* probe sleeps */
    assert_int_equal(p.probes, 1);
    assert_string_equal(p.name_in_probe, "tdrv");
    assert_int_equal(p.driver_data, 77);
    sim_run_until(m.sim, t0 + 30 * SIM_MS);
    assert_int_equal(host_module_state(host_module_find(m.k, "tdrvmod")), HOST_MODULE_LIVE);
    assert_true(p.probe_done > t0 + 20 * SIM_MS);
    assert_ptr_equal(host_pci_dev_driver(m.k, m.pdev), &tdrv);

    /* a driver of the same name is refused */
    struct host_kernel *prev = host_enter(m.k);
    struct pci_driver dup = {.name = "tdrv"};
    assert_int_equal(host_pci_register_driver(&dup, "x"), -EBUSY);
    host_leave(prev);

    /* the handler sleeps: Linux's BUG line, and no sleep */
    assert_int_equal(pcie_fn_msi_send(m.ep, 0, NULL), 0);
    sim_run_until(m.sim, sim_now(m.sim) + SIM_MS);
    assert_int_equal(p.handled, 1);
    assert_true(log_has(m.sim, "BUG: scheduling while atomic: swapper/0/0/0x00010000", NULL));

    assert_int_equal(host_module_unload(m.k, "tdrvmod", NULL), 0);
    assert_int_equal(p.removes, 1);
    assert_null(m.pdev->dev.driver_name);
    assert_null(host_pci_dev_driver(m.k, m.pdev));
    assert_int_equal(m.pdev->nvec, 0);
    amd_machine_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msleep_in_init),
        cmocka_unit_test(test_parameters_and_events),
        cmocka_unit_test(test_pci_binding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
