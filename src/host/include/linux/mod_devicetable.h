/* pcilab's <linux/mod_devicetable.h>: struct pci_device_id (host/module.h). */
#ifndef PCILAB_LINUX_MOD_DEVICETABLE_H
#define PCILAB_LINUX_MOD_DEVICETABLE_H

#include "host/module.h"

#endif
