/* pcilab's <linux/io.h>: MMIO accessors on pci_iomap cookies (host/pci.h):
 * each access is a memory read or write TLP to the BAR. readl/writel are the
 * same accesses as ioread32/iowrite32 on memory BARs. */
#ifndef PCILAB_LINUX_IO_H
#define PCILAB_LINUX_IO_H

#include "host/pci.h"

#include <linux/types.h>

#define readb(addr) ioread8(addr)
#define readw(addr) ioread16(addr)
#define readl(addr) ioread32(addr)
#define writeb(v, addr) iowrite8(v, addr)
#define writew(v, addr) iowrite16(v, addr)
#define writel(v, addr) iowrite32(v, addr)

#endif
