/* Loadable modules and PCI drivers in the host kernel: insmod and rmmod of a
 * driver compiled into pcilab, the PCI driver core that binds it to devices,
 * module parameters, and the cooperative tasks that let driver code sleep.
 *
 * A driver in src/drivers is one C source that also builds as a real Linux
 * module; it includes only <linux/...> headers, which pcilab provides in
 * src/host/include/linux/ over this file and the other host headers. There,
 * module_init(fn) and module_exit(fn) become one const struct host_module
 * named after the module (kmod_<name>, from __KBUILD_MODNAME as Linux 6.1's
 * build defines it), and module_param(name, type, perm) a const
 * struct host_module_param in the "pcilab_modparam" section (Linux keeps its
 * own in __param the same way).
 *
 * Loading (kernel/module.c load_module, do_init_module; 4.9.80 and 6.1 read):
 *   - a module without "intree" in its modinfo taints the kernel, and the
 *     first such load prints "<name>: loading out-of-tree module taints
 *     kernel." (pr_warn, the same text in 4.9, 4.20 and 6.1); every pcilab
 *     driver is out of tree unless the load says otherwise;
 *   - parameters "name=value" are parsed; unknown ones print "<name>: unknown
 *     parameter '<p>' ignored" (pr_warn), a bad value "<name>: `<v>' invalid
 *     for parameter `<p>'" (pr_err, kernel/params.c parse_one) and fails;
 *   - init runs; pci_register_driver in it binds the driver to every matching
 *     device without a driver, calling probe with dev.driver_name set (so
 *     dev_printk prints "<driver> <bdf>: "), as driver_attach does. A probe
 *     that fails prints "<driver>: probe of <bdf> failed with error <n>"
 *     (KERN_WARNING, drivers/base/dd.c really_probe, the same in 4.9 and
 *     6.1; -ENODEV and -ENXIO are silent) and leaves the device unbound.
 * Unloading: exit runs; pci_unregister_driver calls remove for each bound
 * device and unbinds it.
 *
 * Module parameters are the one place where a driver keeps a mutable static
 * (the variable module_param names: Linux's idiom, kept so the source stays
 * Linux's). pcilab writes the values of a load into those variables only
 * while that module's init or exit task runs (probe and remove run inside
 * them) and puts the compile-time values back whenever the task stops or
 * sleeps, so two simulations loading the same module with different values
 * stay independent (within one thread). A driver must therefore copy what it
 * needs from its parameters in probe, as most real drivers do; an interrupt
 * handler reading a parameter sees its default.
 *
 * Tasks: init and exit run as cooperative tasks on their own stacks
 * (ucontext). msleep and usleep_range in a task schedule a wake-up event and
 * switch back to the event loop; the rest of the task runs at the wake-up
 * time. Interrupt handlers are not tasks: sleeping there is the bug it is in
 * Linux, reported with Linux's "BUG: sleeping function called from invalid
 * context" line, and does not sleep. */
#ifndef PCILAB_HOST_MODULE_H
#define PCILAB_HOST_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/kernel.h"
#include "host/pci.h"
#include "sim/time.h"

/* ---- Module descriptors (what a driver source compiles to) ---- */

enum host_param_type {
    HOST_PARAM_int,
    HOST_PARAM_uint,
    HOST_PARAM_long,
    HOST_PARAM_ulong,
    HOST_PARAM_short,
    HOST_PARAM_ushort,
    HOST_PARAM_byte,
    HOST_PARAM_bool,
    HOST_PARAM_charp,
};

struct host_module_param {
    const char *module;          /* KBUILD_MODNAME of the module declaring it */
    const char *name;
    enum host_param_type type;
    unsigned perm;
    union {                      /* the variable, by type (the union member is
                                    checked against the variable at compile time) */
        int *p_int;
        unsigned int *p_uint;
        long *p_long;
        unsigned long *p_ulong;
        short *p_short;
        unsigned short *p_ushort;
        unsigned char *p_byte;
        bool *p_bool;
        char **p_charp;
    } var;
    unsigned line;               /* where module_param is, for the declaration order */
};

/* MODULE_PARM_DESC(parm, desc) */
struct host_module_param_desc {
    const char *module, *name, *desc;
};

struct host_module {
    const char *name;            /* KBUILD_MODNAME */
    int (*init)(void);
    void (*exit)(void);
};

/* ---- include/linux/mod_devicetable.h, include/linux/pci.h ---- */

#define PCI_ANY_ID (~0u)

struct pci_device_id {
    uint32_t vendor, device;     /* PCI_ANY_ID matches any */
    uint32_t subvendor, subdevice;
    uint32_t class, class_mask;  /* (dev->class ^ class) & class_mask == 0 */
    unsigned long driver_data;
    uint32_t override_only;
};

/* The fields of Linux's struct pci_driver that pcilab's core uses; a
 * driver's designated initialiser names only these. */
struct pci_driver {
    const char *name;
    const struct pci_device_id *id_table;
    int (*probe)(struct pci_dev *dev, const struct pci_device_id *id);
    void (*remove)(struct pci_dev *dev);
    void (*shutdown)(struct pci_dev *dev);
};

/* pci_match_one_device / pci_match_id (drivers/pci/pci-driver.c): the entry
 * of ids (ended by an all-zero vendor, subvendor and class_mask) matching
 * dev, or NULL. */
const struct pci_device_id *pci_match_id(const struct pci_device_id *ids, struct pci_dev *dev);

/* Called by the <linux/pci.h> macros pci_register_driver and
 * pci_unregister_driver, with the current kernel. */
int host_pci_register_driver(struct pci_driver *drv, const char *mod_name);
void host_pci_unregister_driver(struct pci_driver *drv);

/* ---- Loading ---- */

enum host_module_state {
    HOST_MODULE_SCHEDULED,       /* insmod is a pending event */
    HOST_MODULE_LOADING,         /* init runs (or sleeps) */
    HOST_MODULE_LIVE,            /* init returned 0 */
    HOST_MODULE_UNLOADING,       /* exit runs (or sleeps), or rmmod is pending */
    HOST_MODULE_GONE,            /* exit returned; or init failed (rc < 0) */
};

struct host_module_load_opts {
    const char *params;          /* "dma_bits=64 foo=1", NULL: none */
    bool in_tree;                /* built with the kernel: no taint line */
};

struct host_module_inst;

/* insmod now: parses the parameters and runs init in a task until it returns
 * or first sleeps. Returns init's result (0 or a negative errno) when it
 * finished, 1 when it sleeps (the load completes later: see
 * host_module_state). A bad parameter value or a module of that name already
 * loaded (-EEXIST) returns the negative errno and fills err; init's own
 * failure is not a pcilab error (err untouched), as insmod's is not the
 * kernel's. */
int host_module_load(struct host_kernel *k, const struct host_module *mod,
                     const struct host_module_load_opts *opts, struct pcilab_err *err);
/* insmod as an event at simulated time t (>= now). The parameters are
 * checked now (bad value: -EINVAL); 0 or a negative errno. */
int host_module_load_at(struct host_kernel *k, sim_time_t t, const struct host_module *mod,
                        const struct host_module_load_opts *opts, struct pcilab_err *err);
/* rmmod now: runs exit in a task. 0 when it finished, 1 when it sleeps,
 * -ENOENT when no live module has that name, -EBUSY while it is loading. */
int host_module_unload(struct host_kernel *k, const char *name, struct pcilab_err *err);
int host_module_unload_at(struct host_kernel *k, sim_time_t t, const char *name,
                          struct pcilab_err *err);

/* The newest load of the module of that name (whatever its state), or
 * NULL; its state and, once it left LOADING, init's result. */
const struct host_module_inst *host_module_find(struct host_kernel *k, const char *name);
enum host_module_state host_module_state(const struct host_module_inst *m);
int host_module_init_result(const struct host_module_inst *m);

/* What /sys/module/<name>/parameters/<param> reads for this load: the value
 * given at insmod, else the module's default, printed as Linux's param_get_*
 * does (numbers in decimal, bool Y/N, charp the string) into buf (len bytes,
 * always terminated). Returns the length snprintf gives, or -ENOENT when the
 * module has no such parameter or declared it with perm 0 (no sysfs file). */
int host_module_param_get(const struct host_module_inst *m, const char *name, char *buf,
                          size_t len);

/* The driver bound to dev (its pci_driver), NULL when none. */
const struct pci_driver *host_pci_dev_driver(struct host_kernel *k, const struct pci_dev *dev);

/* ---- Sleeping (include/linux/delay.h) ---- */

/* msleep (kernel/time/timer.c): schedule_timeout_uninterruptible(
 * msecs_to_jiffies(ms) + 1), so the task wakes at the tick
 * msecs_to_jiffies(ms) + 1 ticks after the current one (CONFIG_HZ from the
 * version table). */
void msleep(unsigned int msecs);
/* usleep_range (kernel/time/timer.c, an hrtimer with slack): pcilab wakes
 * the task at min. */
void usleep_range(unsigned long min, unsigned long max);

/* True while the current code runs in a module task (may sleep). */
bool host_in_task(struct host_kernel *k);

#endif
