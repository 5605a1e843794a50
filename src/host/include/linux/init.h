/* pcilab's <linux/init.h>: __init/__exit place code in sections Linux frees
 * after boot; pcilab keeps everything. module_init/module_exit make the
 * module's one const descriptor (host/module.h): module_init(fn) defines
 * `const struct host_module __KBUILD_MODNAME` (kmod_<name>, the build passes
 * -D__KBUILD_MODNAME=kmod_<name> as Linux 6.1's does) with fn as init and
 * the function module_exit defines as exit; a module needs both. */
#ifndef PCILAB_LINUX_INIT_H
#define PCILAB_LINUX_INIT_H

#include "host/module.h"

#define __init
#define __exit
#define __initdata
#define __exitdata
#define __initconst

#ifndef KBUILD_MODNAME
#error "KBUILD_MODNAME is not defined: the build passes -DKBUILD_MODNAME=\"<name>\""
#endif
#ifndef __KBUILD_MODNAME
#error "__KBUILD_MODNAME is not defined: the build passes -D__KBUILD_MODNAME=kmod_<name>"
#endif

#define module_init(initfn) \
    static void pcilab_module_exit(void); \
    const struct host_module __KBUILD_MODNAME = {KBUILD_MODNAME, initfn, pcilab_module_exit}

#define module_exit(exitfn) \
    static void pcilab_module_exit(void) \
    { \
        exitfn(); \
    } \
    _Static_assert(1, "module_exit")

#endif
