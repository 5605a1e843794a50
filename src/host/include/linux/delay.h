/* pcilab's <linux/delay.h>: msleep and usleep_range suspend the calling
 * module task until the simulated time they name (host/module.h). The busy
 * waits udelay/ndelay/mdelay are absent on purpose: pcilab's drivers do not
 * busy-wait (docs/design.md). */
#ifndef PCILAB_LINUX_DELAY_H
#define PCILAB_LINUX_DELAY_H

#include "host/module.h"

#endif
