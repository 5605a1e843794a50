/* pcilab's <linux/gfp.h>: the allocation flags (host/mm.h). */
#ifndef PCILAB_LINUX_GFP_H
#define PCILAB_LINUX_GFP_H

#include "host/mm.h"

#endif
