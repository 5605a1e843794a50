/* pcilab's <linux/moduleparam.h>: module_param(name, type, perm) records the
 * variable in a const struct host_module_param in the "pcilab_modparam"
 * section (as Linux's kernel_param goes to __param, aligned to a pointer so
 * the section is an array); insmod writes the values it is given there
 * while the module's init and exit run (host/module.h). The union member
 * named after the type checks the variable's type at compile time. Types:
 * int, uint, long, ulong, short, ushort, byte, bool, charp. */
#ifndef PCILAB_LINUX_MODULEPARAM_H
#define PCILAB_LINUX_MODULEPARAM_H

#include "host/module.h"

#define module_param_named(name, value, type, perm) \
    static const struct host_module_param pcilab_param_##name \
        __attribute__((used, section("pcilab_modparam"), aligned(sizeof(void *)))) = { \
        KBUILD_MODNAME, #name, HOST_PARAM_##type, (perm), {.p_##type = &(value)}, __LINE__}

#define module_param(name, type, perm) module_param_named(name, name, type, perm)

/* The description goes to its own section, as Linux's modinfo "parm=" string
 * does, so `pcilab scenarios --keys` can show it. */
#define MODULE_PARM_DESC(parm, desc) \
    static const struct host_module_param_desc pcilab_parmdesc_##parm \
        __attribute__((used, section("pcilab_modparmdesc"), aligned(sizeof(void *)))) = { \
        KBUILD_MODNAME, #parm, desc}

#endif
