/* Loadable modules, the PCI driver core and cooperative tasks (module.h). */
#define _DEFAULT_SOURCE /* ucontext on glibc with _POSIX_C_SOURCE */
#include "host/module.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "host/mm.h"

#if defined(__SANITIZE_ADDRESS__)
#define MODULE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MODULE_ASAN 1
#endif
#endif
#ifdef MODULE_ASAN
#include <sanitizer/common_interface_defs.h>
#define TASK_STACK (1024u * 1024u)
#else
#define TASK_STACK (256u * 1024u)
#endif

/* ------------------------------------------------------------------ */
/* State */

union param_value {
    long long i;
    unsigned long long u;
    bool b;
    char *s;
};

struct param_slot {
    const struct host_module_param *p;
    bool given;                  /* set by this load's arguments */
    union param_value val;       /* this load's value */
    union param_value saved;     /* the variable's value before apply */
};

struct host_task {
    ucontext_t uc;               /* the task */
    ucontext_t back;             /* the event loop that resumed it */
    void *stack;
    bool done;
    bool is_exit;
    struct host_module_inst *inst;
    struct host_kernel *k;
    void *fake_stack;            /* ASan's fake stack while switched away */
    const void *back_bottom;     /* the event loop's stack, for ASan */
    size_t back_size;
};

struct host_module_inst {
    struct host_modules *r;
    const struct host_module *mod;
    enum host_module_state state;
    int rc;                      /* init's result */
    bool in_tree;
    char *args;                  /* the parameter text, owned (charp values point in) */
    struct param_slot *params;
    size_t nparams;
    bool applied;
    struct host_task *task;      /* running or sleeping init/exit, else NULL */
};

struct bind {
    struct pci_dev *pdev;
    struct pci_driver *drv;
};

struct reg_driver {
    struct pci_driver *drv;
    struct host_module_inst *owner;
};

struct host_modules {
    struct host_kernel *k;
    struct host_module_inst **insts;
    size_t ninsts;
    struct reg_driver *drivers;
    size_t ndrivers;
    struct bind *binds;
    size_t nbinds;
    bool tainted_oot;            /* TAINT_OOT_MODULE */
    struct host_task *current;   /* the task running now, NULL outside tasks */
};

/* The section module_param fills (src/host/include/linux/moduleparam.h).
 * Weak: a program that links no driver has no such section. */
extern const struct host_module_param __start_pcilab_modparam[] __attribute__((weak));
extern const struct host_module_param __stop_pcilab_modparam[] __attribute__((weak));

static void task_free(struct host_task *t)
{
    if (!t)
        return;
    free(t->stack);
    free(t);
}

static void inst_free(struct host_module_inst *m)
{
    if (!m)
        return;
    task_free(m->task);
    free(m->params);
    free(m->args);
    free(m);
}

static void modules_destroy(void *obj)
{
    struct host_modules *r = obj;
    /* No exit runs here: a machine being torn down does not rmmod. Tasks
     * still sleeping are dropped with their stacks (their wake-up events
     * are dropped with the queue). */
    for (size_t i = 0; i < r->ninsts; i++)
        inst_free(r->insts[i]);
    free(r->insts);
    free(r->drivers);
    free(r->binds);
    if (r->k->modules == r)
        r->k->modules = NULL;
    free(r);
}

static struct host_modules *modules_of(struct host_kernel *k)
{
    if (k->modules)
        return k->modules;
    struct host_modules *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->k = k;
    if (sim_own(k->sim, r, modules_destroy) < 0) {
        free(r);
        return NULL;
    }
    k->modules = r;
    return r;
}

/* arr grown to n elements (realloc), NULL when out of memory. */
static void *grow(void *arr, size_t n, size_t elem)
{
    return realloc(arr, n * elem);
}

/* ------------------------------------------------------------------ */
/* Parameters (kernel/params.c) */

/* parameq: '-' and '_' are the same in parameter names. */
static bool param_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

/* kstrto*: base 0 (0x hex, 0 octal), an optional trailing newline, the
 * whole text, within the type's range. */
static bool parse_signed(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (*end == '\n')
        end++;
    if (errno || *end || end == s || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_unsigned(const char *s, unsigned long long hi, unsigned long long *out)
{
    if (!s || !*s || *s == '-')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end == '\n')
        end++;
    if (errno || *end || end == s || v > hi)
        return false;
    *out = v;
    return true;
}

/* kstrtobool (lib/kstrtox.c 4.9): y Y 1 / n N 0 / on / off; no value: set. */
static bool parse_bool(const char *s, bool *out)
{
    if (!s) {
        *out = true;
        return true;
    }
    switch (s[0]) {
    case 'y': case 'Y': case '1':
        *out = true;
        return true;
    case 'n': case 'N': case '0':
        *out = false;
        return true;
    case 'o': case 'O':
        if (s[1] == 'n' || s[1] == 'N') {
            *out = true;
            return true;
        }
        if (s[1] == 'f' || s[1] == 'F') {
            *out = false;
            return true;
        }
        return false;
    default:
        return false;
    }
}

static bool parse_value(const struct host_module_param *p, char *val, union param_value *v)
{
    switch (p->type) {
    case HOST_PARAM_int: return parse_signed(val, INT_MIN, INT_MAX, &v->i);
    case HOST_PARAM_long: return parse_signed(val, LONG_MIN, LONG_MAX, &v->i);
    case HOST_PARAM_short: return parse_signed(val, SHRT_MIN, SHRT_MAX, &v->i);
    case HOST_PARAM_uint: return parse_unsigned(val, UINT_MAX, &v->u);
    case HOST_PARAM_ulong: return parse_unsigned(val, ULONG_MAX, &v->u);
    case HOST_PARAM_ushort: return parse_unsigned(val, USHRT_MAX, &v->u);
    case HOST_PARAM_byte: return parse_unsigned(val, UCHAR_MAX, &v->u);
    case HOST_PARAM_bool: return parse_bool(val, &v->b);
    case HOST_PARAM_charp:
        if (!val)
            return false;
        v->s = val;
        return true;
    }
    return false;
}

static void param_read(const struct host_module_param *p, union param_value *v)
{
    switch (p->type) {
    case HOST_PARAM_int: v->i = *p->var.p_int; break;
    case HOST_PARAM_long: v->i = *p->var.p_long; break;
    case HOST_PARAM_short: v->i = *p->var.p_short; break;
    case HOST_PARAM_uint: v->u = *p->var.p_uint; break;
    case HOST_PARAM_ulong: v->u = *p->var.p_ulong; break;
    case HOST_PARAM_ushort: v->u = *p->var.p_ushort; break;
    case HOST_PARAM_byte: v->u = *p->var.p_byte; break;
    case HOST_PARAM_bool: v->b = *p->var.p_bool; break;
    case HOST_PARAM_charp: v->s = *p->var.p_charp; break;
    }
}

static void param_write(const struct host_module_param *p, const union param_value *v)
{
    switch (p->type) {
    case HOST_PARAM_int: *p->var.p_int = (int)v->i; break;
    case HOST_PARAM_long: *p->var.p_long = (long)v->i; break;
    case HOST_PARAM_short: *p->var.p_short = (short)v->i; break;
    case HOST_PARAM_uint: *p->var.p_uint = (unsigned)v->u; break;
    case HOST_PARAM_ulong: *p->var.p_ulong = (unsigned long)v->u; break;
    case HOST_PARAM_ushort: *p->var.p_ushort = (unsigned short)v->u; break;
    case HOST_PARAM_byte: *p->var.p_byte = (unsigned char)v->u; break;
    case HOST_PARAM_bool: *p->var.p_bool = v->b; break;
    case HOST_PARAM_charp: *p->var.p_charp = v->s; break;
    }
}

static void params_apply(struct host_module_inst *m)
{
    if (m->applied)
        return;
    for (size_t i = 0; i < m->nparams; i++) {
        param_read(m->params[i].p, &m->params[i].saved);
        if (m->params[i].given)
            param_write(m->params[i].p, &m->params[i].val);
    }
    m->applied = true;
}

static void params_restore(struct host_module_inst *m)
{
    if (!m->applied)
        return;
    for (size_t i = m->nparams; i-- > 0;)
        param_write(m->params[i].p, &m->params[i].saved);
    m->applied = false;
}

/* next_arg (lib/cmdline.c, kernel/params.c): words split at blanks,
 * "name=value" or "name"; double quotes group a value. */
static char *next_arg(char *args, char **param, char **val)
{
    bool quoted = false;
    size_t i, equals = 0;
    if (*args == '"') {
        args++;
        quoted = true;
    }
    for (i = 0; args[i]; i++) {
        if (isspace((unsigned char)args[i]) && !quoted)
            break;
        if (equals == 0 && args[i] == '=')
            equals = i;
        if (args[i] == '"')
            quoted = !quoted;
    }
    *param = args;
    if (!equals) {
        *val = NULL;
    } else {
        args[equals] = '\0';
        *val = args + equals + 1;
        if (**val == '"') {
            (*val)++;
            if (i > 0 && args[i - 1] == '"')
                args[i - 1] = '\0';
        }
    }
    if (quoted && i > 0 && args[i - 1] == '"')
        args[i - 1] = '\0';
    char *next = args + i;
    if (*next) {
        *next = '\0';
        next++;
    }
    while (isspace((unsigned char)*next))
        next++;
    return next;
}

/* A new instance with its parameters parsed; -EINVAL (err filled, the
 * kernel's line printed) for a bad value. */
static int inst_create(struct host_kernel *k, const struct host_module *mod,
                       const struct host_module_load_opts *opts, struct host_module_inst **out,
                       struct pcilab_err *err)
{
    struct host_module_inst *m = calloc(1, sizeof *m);
    if (!m)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory loading module %s", mod->name);
    m->mod = mod;
    m->in_tree = opts && opts->in_tree;
    const char *text = opts && opts->params ? opts->params : "";
    m->args = strdup(text);
    size_t n = 0;
    const struct host_module_param *lo = __start_pcilab_modparam, *hi = __stop_pcilab_modparam;
    for (const struct host_module_param *p = lo; p && p < hi; p++)
        n += strcmp(p->module, mod->name) == 0;
    m->params = calloc(n ? n : 1, sizeof *m->params);
    if (!m->args || !m->params) {
        inst_free(m);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory loading module %s", mod->name);
    }
    for (const struct host_module_param *p = lo; p && p < hi; p++)
        if (strcmp(p->module, mod->name) == 0)
            m->params[m->nparams++].p = p;

    char *args = m->args;
    while (isspace((unsigned char)*args))
        args++;
    int rc = 0;
    while (*args) {
        char *param, *val;
        args = next_arg(args, &param, &val);
        struct param_slot *s = NULL;
        for (size_t i = 0; i < m->nparams && !s; i++)
            if (param_eq(m->params[i].p->name, param))
                s = &m->params[i];
        if (!s) {
            /* unknown_module_param_cb (kernel/module.c, 4.9 and 6.1) */
            host_printk(k, KERN_WARNING "%s: unknown parameter '%s' ignored\n", mod->name, param);
            continue;
        }
        union param_value v;
        if (!parse_value(s->p, val, &v)) {
            /* parse_args (kernel/params.c, 4.9 and 6.1) */
            host_printk(k, KERN_ERR "%s: `%s' invalid for parameter `%s'\n", mod->name,
                        val ? val : "", param);
            if (rc == 0)
                rc = pcilab_errf(err, PCILAB_EINVAL, "module %s: '%s' is not a valid value for "
                                 "parameter '%s'", mod->name, val ? val : "", s->p->name);
            continue;
        }
        s->given = true;
        s->val = v;
    }
    if (rc < 0) {
        inst_free(m);
        return -EINVAL;
    }
    *out = m;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Tasks */

static void switch_start(void **fake, const void *bottom, size_t size)
{
#ifdef MODULE_ASAN
    __sanitizer_start_switch_fiber(fake, bottom, size);
#else
    (void)fake;
    (void)bottom;
    (void)size;
#endif
}

static void switch_finish(void *fake, const void **bottom, size_t *size)
{
#ifdef MODULE_ASAN
    __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
    (void)fake;
    (void)bottom;
    (void)size;
#endif
}

static void task_finished(struct host_task *t);

/* Saves the current context in from and continues at to; returns when
 * something resumes from. This is swapcontext, written with getcontext and
 * setcontext because ASan intercepts swapcontext only to print a warning on
 * first use; the fiber annotations around each switch do ASan's part. */
static void ctx_switch(ucontext_t *from, const ucontext_t *to)
{
    volatile bool resumed = false;
    getcontext(from);
    if (!resumed) {
        resumed = true;
        setcontext(to);
    }
}


static void task_main(unsigned lo, unsigned hi)
{
    struct host_task *t = (struct host_task *)(uintptr_t)((uint64_t)hi << 32 | lo);
    switch_finish(NULL, &t->back_bottom, &t->back_size);
    if (t->is_exit) {
        if (t->inst->mod->exit)
            t->inst->mod->exit();
    } else {
        t->inst->rc = t->inst->mod->init ? t->inst->mod->init() : 0;
    }
    t->done = true;
    switch_start(NULL, t->back_bottom, t->back_size);
    setcontext(&t->back);
}

/* Runs t until it finishes or sleeps, with its kernel current and its
 * module's parameters in place. */
static void task_resume(struct host_task *t)
{
    struct host_modules *r = t->k->modules;
    struct host_task *prev_task = r->current;
    r->current = t;
    params_apply(t->inst);
    struct host_kernel *prev = host_enter(t->k);
    void *fake = NULL;
    switch_start(&fake, t->stack, TASK_STACK);
    ctx_switch(&t->back, &t->uc);
    switch_finish(fake, NULL, NULL);
    host_leave(prev);
    params_restore(t->inst);
    r->current = prev_task;
    if (t->done)
        task_finished(t);
}

static void task_wake(void *ctx, uint64_t arg)
{
    (void)arg;
    task_resume(ctx);
}

static struct host_task *task_create(struct host_kernel *k, struct host_module_inst *m,
                                     bool is_exit)
{
    /* volatile: getcontext returns twice for GCC's analysis */
    struct host_task *volatile t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->stack = malloc(TASK_STACK);
    if (!t->stack || getcontext(&t->uc) < 0) {
        task_free(t);
        return NULL;
    }
    t->k = k;
    t->inst = m;
    t->is_exit = is_exit;
    t->uc.uc_stack.ss_sp = t->stack;
    t->uc.uc_stack.ss_size = TASK_STACK;
    t->uc.uc_link = NULL;
    uint64_t p = (uint64_t)(uintptr_t)t;
    makecontext(&t->uc, (void (*)(void))task_main, 2, (unsigned)(p & 0xffffffffu),
                (unsigned)(p >> 32));
    return t;
}

bool host_in_task(struct host_kernel *k)
{
    return k && k->modules && k->modules->current;
}

/* Suspends the current task until simulated time t. */
static void task_sleep_until(struct host_kernel *k, sim_time_t t)
{
    struct host_task *task = k && k->modules ? k->modules->current : NULL;
    if (!task) {
        /* schedule_debug (kernel/sched/core.c): sleeping in an interrupt
         * handler. The interrupted task is the idle task in pcilab. */
        if (k)
            host_printk(k, KERN_ERR "BUG: scheduling while atomic: swapper/%u/0/0x00010000\n",
                        k->cpu);
        return;
    }
    if (!sim_at(k->sim, t, task_wake, task, 0))
        return; /* out of memory: no sleep */
    switch_start(&task->fake_stack, task->back_bottom, task->back_size);
    ctx_switch(&task->uc, &task->back);
    switch_finish(task->fake_stack, &task->back_bottom, &task->back_size);
}

void msleep(unsigned int msecs)
{
    struct host_kernel *k = host_current();
    if (!k)
        return;
    /* msecs_to_jiffies rounds up; the timer fires on a tick. */
    unsigned hz = k->kver->hz ? k->kver->hz : 250;
    sim_time_t jiffy = SIM_S / hz;
    uint64_t j = ((uint64_t)msecs * hz + 999) / 1000 + 1;
    sim_time_t now = sim_now(k->sim);
    task_sleep_until(k, (now / jiffy + j) * jiffy);
}

void usleep_range(unsigned long min, unsigned long max)
{
    (void)max;
    struct host_kernel *k = host_current();
    if (!k)
        return;
    task_sleep_until(k, sim_time_add(sim_now(k->sim), (sim_time_t)min * SIM_US));
}

/* ------------------------------------------------------------------ */
/* The PCI driver core (drivers/pci/pci-driver.c, drivers/base/dd.c) */

static bool id_matches(const struct pci_device_id *id, const struct pci_dev *dev)
{
    return (id->vendor == PCI_ANY_ID || id->vendor == dev->vendor) &&
           (id->device == PCI_ANY_ID || id->device == dev->device) &&
           (id->subvendor == PCI_ANY_ID || id->subvendor == dev->subsystem_vendor) &&
           (id->subdevice == PCI_ANY_ID || id->subdevice == dev->subsystem_device) &&
           !((id->class ^ dev->class) & id->class_mask);
}

const struct pci_device_id *pci_match_id(const struct pci_device_id *ids, struct pci_dev *dev)
{
    if (!ids)
        return NULL;
    for (; ids->vendor || ids->subvendor || ids->class_mask; ids++)
        if (id_matches(ids, dev))
            return ids;
    return NULL;
}

static struct bind *bind_of(struct host_modules *r, const struct pci_dev *dev)
{
    for (size_t i = 0; i < r->nbinds; i++)
        if (r->binds[i].pdev == dev)
            return &r->binds[i];
    return NULL;
}

const struct pci_driver *host_pci_dev_driver(struct host_kernel *k, const struct pci_dev *dev)
{
    if (!k->modules)
        return NULL;
    struct bind *b = bind_of(k->modules, dev);
    return b ? b->drv : NULL;
}

/* really_probe: the driver is the device's while probe runs. */
static void probe_one(struct host_modules *r, struct pci_driver *drv, struct pci_dev *dev,
                      const struct pci_device_id *id)
{
    struct bind b = {dev, drv};
    struct bind *nb = grow(r->binds, r->nbinds + 1, sizeof *nb);
    if (!nb)
        return;
    r->binds = nb;
    r->binds[r->nbinds++] = b;
    dev->dev.driver_name = drv->name;
    int rc = drv->probe ? drv->probe(dev, id) : 0;
    if (rc == 0)
        return;
    /* unbind */
    for (size_t i = 0; i < r->nbinds; i++)
        if (r->binds[i].pdev == dev) {
            r->binds[i] = r->binds[--r->nbinds];
            break;
        }
    dev->dev.driver_name = NULL;
    dev->dev.driver_data = NULL;
    if (rc != -ENODEV && rc != -ENXIO)
        host_printk(r->k, KERN_WARNING "%s: probe of %s failed with error %d\n", drv->name,
                    dev_name(&dev->dev), rc);
}

int host_pci_register_driver(struct pci_driver *drv, const char *mod_name)
{
    (void)mod_name;
    struct host_kernel *k = host_current();
    if (!k || !drv)
        return -EINVAL;
    struct host_modules *r = modules_of(k);
    if (!r)
        return -ENOMEM;
    for (size_t i = 0; i < r->ndrivers; i++)
        if (r->drivers[i].drv == drv || strcmp(r->drivers[i].drv->name, drv->name) == 0) {
            /* driver_register (drivers/base/driver.c) */
            host_printk(k, KERN_ERR "Error: Driver '%s' is already registered, aborting...\n",
                        drv->name);
            return -EBUSY;
        }
    struct reg_driver rd = {drv, r->current ? r->current->inst : NULL};
    struct reg_driver *nd = grow(r->drivers, r->ndrivers + 1, sizeof *nd);
    if (!nd)
        return -ENOMEM;
    r->drivers = nd;
    r->drivers[r->ndrivers++] = rd;
    /* driver_attach: every device on the bus, in list order */
    for (size_t i = 0; i < k->npdevs; i++) {
        struct pci_dev *dev = k->pdevs[i];
        if (bind_of(r, dev))
            continue;
        const struct pci_device_id *id = pci_match_id(drv->id_table, dev);
        if (id)
            probe_one(r, drv, dev, id);
    }
    return 0;
}

void host_pci_unregister_driver(struct pci_driver *drv)
{
    struct host_kernel *k = host_current();
    if (!k || !k->modules)
        return;
    struct host_modules *r = k->modules;
    /* driver_detach: devices unbound in reverse order of binding */
    for (size_t i = r->nbinds; i-- > 0;) {
        if (i >= r->nbinds || r->binds[i].drv != drv)
            continue;
        struct pci_dev *dev = r->binds[i].pdev;
        if (drv->remove)
            drv->remove(dev);
        for (size_t j = 0; j < r->nbinds; j++)
            if (r->binds[j].pdev == dev) {
                memmove(r->binds + j, r->binds + j + 1, (r->nbinds - j - 1) * sizeof *r->binds);
                r->nbinds--;
                break;
            }
        dev->dev.driver_name = NULL;
        dev->dev.driver_data = NULL;
    }
    for (size_t i = 0; i < r->ndrivers; i++)
        if (r->drivers[i].drv == drv) {
            memmove(r->drivers + i, r->drivers + i + 1,
                    (r->ndrivers - i - 1) * sizeof *r->drivers);
            r->ndrivers--;
            break;
        }
}

/* ------------------------------------------------------------------ */
/* insmod / rmmod */

static void task_finished(struct host_task *t)
{
    struct host_module_inst *m = t->inst;
    m->task = NULL;
    if (t->is_exit) {
        m->state = HOST_MODULE_GONE;
    } else if (m->rc < 0) {
        /* do_init_module's failure path frees the module; the drivers it
         * registered stay registered, the bug it is in Linux too. */
        m->state = HOST_MODULE_GONE;
    } else {
        m->rc = 0;
        m->state = HOST_MODULE_LIVE;
    }
    task_free(t);
}

static struct host_module_inst *find_inst(struct host_modules *r, const char *name)
{
    for (size_t i = r->ninsts; i-- > 0;)
        if (strcmp(r->insts[i]->mod->name, name) == 0)
            return r->insts[i];
    return NULL;
}

const struct host_module_inst *host_module_find(struct host_kernel *k, const char *name)
{
    return k->modules ? find_inst(k->modules, name) : NULL;
}

enum host_module_state host_module_state(const struct host_module_inst *m)
{
    return m->state;
}

int host_module_init_result(const struct host_module_inst *m)
{
    return m->rc;
}

/* param_get_int & co. (kernel/params.c, 4.9 and 6.1): "%d", "%u", "%ld",
 * "%lu", "%hd", "%hu", "%hhu", 'Y'/'N' for bool, the string for charp
 * ("(null)" when unset, as %s prints NULL). */
int host_module_param_get(const struct host_module_inst *m, const char *name, char *buf,
                          size_t len)
{
    for (size_t i = 0; i < m->nparams; i++) {
        const struct param_slot *s = &m->params[i];
        if (!param_eq(s->p->name, name))
            continue;
        if (!s->p->perm)
            return -ENOENT; /* no sysfs file: module_param_sysfs_setup skips perm 0 */
        union param_value v;
        if (s->given)
            v = s->val;
        else if (m->applied)
            v = s->saved;
        else
            param_read(s->p, &v);
        int n;
        switch (s->p->type) {
        case HOST_PARAM_int:
        case HOST_PARAM_long:
        case HOST_PARAM_short: n = snprintf(buf, len, "%lld", v.i); break;
        case HOST_PARAM_bool: n = snprintf(buf, len, "%c", v.b ? 'Y' : 'N'); break;
        case HOST_PARAM_charp: n = snprintf(buf, len, "%s", v.s ? v.s : "(null)"); break;
        default: n = snprintf(buf, len, "%llu", v.u); break;
        }
        return n;
    }
    return -ENOENT;
}

static bool loaded(const struct host_module_inst *m)
{
    return m && m->state != HOST_MODULE_GONE;
}

/* Starts init of a prepared instance now. */
static int start_load(struct host_modules *r, struct host_module_inst *m)
{
    struct host_kernel *k = r->k;
    struct host_kernel *prev = host_enter(k);
    if (!m->in_tree) {
        /* check_modinfo (kernel/module.c 4.9; kernel/module/main.c 6.1) */
        if (!r->tainted_oot)
            host_printk(k, KERN_WARNING "%s: loading out-of-tree module taints kernel.\n",
                        m->mod->name);
        r->tainted_oot = true;
    }
    host_leave(prev);
    m->state = HOST_MODULE_LOADING;
    m->task = task_create(k, m, false);
    if (!m->task) {
        m->state = HOST_MODULE_GONE;
        m->rc = -ENOMEM;
        return -ENOMEM;
    }
    task_resume(m->task);
    return m->state == HOST_MODULE_LOADING ? 1 : m->rc;
}

static int add_inst(struct host_modules *r, struct host_module_inst *m)
{
    struct host_module_inst **ni = grow(r->insts, r->ninsts + 1, sizeof *ni);
    if (!ni)
        return -ENOMEM;
    r->insts = ni;
    r->insts[r->ninsts++] = m;
    return 0;
}

/* A new instance of mod in the kernel's registry (*out), or a negative code:
 * `what` says "loaded" or "loaded or scheduled" in the message. */
static int new_inst(struct host_kernel *k, const struct host_module *mod,
                    const struct host_module_load_opts *opts, const char *what,
                    struct host_module_inst **out, struct pcilab_err *err)
{
    struct host_modules *r = modules_of(k);
    if (!r)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory loading module %s", mod->name);
    if (loaded(find_inst(r, mod->name))) {
        pcilab_errf(err, PCILAB_EINVAL, "module %s is already %s", mod->name, what);
        return -EEXIST;
    }
    struct host_module_inst *m = NULL;
    int rc = inst_create(k, mod, opts, &m, err);
    if (rc < 0)
        return rc;
    m->r = r;
    if (add_inst(r, m) < 0) {
        inst_free(m);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory loading module %s", mod->name);
    }
    *out = m;
    return 0;
}

int host_module_load(struct host_kernel *k, const struct host_module *mod,
                     const struct host_module_load_opts *opts, struct pcilab_err *err)
{
    struct host_module_inst *m = NULL;
    int rc = new_inst(k, mod, opts, "loaded", &m, err);
    return rc < 0 ? rc : start_load(m->r, m);
}

static void load_event(void *ctx, uint64_t arg)
{
    (void)arg;
    struct host_module_inst *m = ctx;
    if (m->state == HOST_MODULE_SCHEDULED)
        start_load(m->r, m);
}

int host_module_load_at(struct host_kernel *k, sim_time_t t, const struct host_module *mod,
                        const struct host_module_load_opts *opts, struct pcilab_err *err)
{
    struct host_module_inst *m = NULL;
    int rc = new_inst(k, mod, opts, "loaded or scheduled", &m, err);
    if (rc < 0)
        return rc;
    m->state = HOST_MODULE_SCHEDULED;
    if (!sim_at(k->sim, t, load_event, m, 0)) {
        m->state = HOST_MODULE_GONE;
        m->rc = -ENOMEM;
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory scheduling module %s", mod->name);
    }
    return 0;
}

static int start_unload(struct host_modules *r, struct host_module_inst *m)
{
    m->state = HOST_MODULE_UNLOADING;
    m->task = task_create(r->k, m, true);
    if (!m->task) {
        m->state = HOST_MODULE_LIVE;
        return -ENOMEM;
    }
    task_resume(m->task);
    return m->state == HOST_MODULE_GONE ? 0 : 1;
}

int host_module_unload(struct host_kernel *k, const char *name, struct pcilab_err *err)
{
    struct host_module_inst *m = k->modules ? find_inst(k->modules, name) : NULL;
    if (!m || m->state == HOST_MODULE_GONE || m->state == HOST_MODULE_SCHEDULED) {
        pcilab_errf(err, PCILAB_EINVAL, "rmmod %s: module is not loaded", name);
        return -ENOENT;
    }
    if (m->state != HOST_MODULE_LIVE) {
        pcilab_errf(err, PCILAB_EINVAL, "rmmod %s: module is busy (loading or unloading)", name);
        return -EBUSY;
    }
    int rc = start_unload(k->modules, m);
    if (rc == -ENOMEM)
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory unloading module %s", name);
    return rc;
}

/* delete_module (kernel/module.c): a module that is not live (still in its
 * init) is busy and stays. */
static void unload_event(void *ctx, uint64_t arg)
{
    (void)arg;
    struct host_module_inst *m = ctx;
    if (m->state == HOST_MODULE_LIVE)
        start_unload(m->r, m);
}

int host_module_unload_at(struct host_kernel *k, sim_time_t t, const char *name,
                          struct pcilab_err *err)
{
    struct host_module_inst *m = k->modules ? find_inst(k->modules, name) : NULL;
    if (!loaded(m)) {
        pcilab_errf(err, PCILAB_EINVAL, "rmmod %s: module is not loaded or scheduled", name);
        return -ENOENT;
    }
    if (!sim_at(k->sim, t, unload_event, m, 0))
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory scheduling rmmod %s", name);
    return 0;
}
