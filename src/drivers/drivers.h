/* The drivers built into pcilab, for the layers above that load them
 * (scenarios, tests): each src/drivers/<name>.c compiles to the const
 * module descriptor kmod_<name> (host/module.h). Add a line per driver. */
#ifndef PCILAB_DRIVERS_DRIVERS_H
#define PCILAB_DRIVERS_DRIVERS_H

#include <stddef.h>
#include <string.h>

#include "host/module.h"

extern const struct host_module kmod_ecp5_dma;
extern const struct host_module kmod_ecp3_can;
extern const struct host_module kmod_edu;

/* The driver of that module name, NULL when pcilab has none. */
static inline const struct host_module *drivers_find(const char *name)
{
    const struct host_module *const all[] = {&kmod_ecp5_dma, &kmod_ecp3_can, &kmod_edu};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

#endif
