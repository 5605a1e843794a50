/* pcilab's <linux/interrupt.h>: request_irq and free_irq of the host
 * kernel's interrupt core (host/irq.h). Handlers run as events on the
 * simulation's queue, not in a task: they must not sleep. */
#ifndef PCILAB_LINUX_INTERRUPT_H
#define PCILAB_LINUX_INTERRUPT_H

#include "host/irq.h"

#include <linux/kernel.h>
#include <linux/types.h>

#endif
