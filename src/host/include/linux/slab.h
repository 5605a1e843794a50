/* pcilab's <linux/slab.h>: kmalloc and friends of the host kernel
 * (host/mm.h): objects live in simulated memory, in SLUB-like size
 * classes. */
#ifndef PCILAB_LINUX_SLAB_H
#define PCILAB_LINUX_SLAB_H

#include "host/mm.h"

#include <linux/types.h>

#endif
