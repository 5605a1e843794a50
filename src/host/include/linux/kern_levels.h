/* pcilab's <linux/kern_levels.h>: the printk ring's levels (sim/log.h keeps
 * Linux's KERN_SOH encoding). */
#ifndef PCILAB_LINUX_KERN_LEVELS_H
#define PCILAB_LINUX_KERN_LEVELS_H

#include "sim/log.h"

#endif
