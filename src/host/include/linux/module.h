/* pcilab's <linux/module.h>. The MODULE_* information macros are checked
 * and dropped (pcilab has no modinfo section). */
#ifndef PCILAB_LINUX_MODULE_H
#define PCILAB_LINUX_MODULE_H

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>

#define THIS_MODULE ((void *)0)

#define MODULE_LICENSE(x) _Static_assert(sizeof(x) > 1, "MODULE_LICENSE")
#define MODULE_AUTHOR(x) _Static_assert(sizeof(x) > 1, "MODULE_AUTHOR")
#define MODULE_DESCRIPTION(x) _Static_assert(sizeof(x) > 1, "MODULE_DESCRIPTION")
#define MODULE_VERSION(x) _Static_assert(sizeof(x) > 1, "MODULE_VERSION")
#define MODULE_DEVICE_TABLE(type, name) _Static_assert(sizeof(name) > 0, "MODULE_DEVICE_TABLE")

#endif
