/* pcilab's <linux/pci.h>: the PCI core of the host kernel (host/pci.h),
 * MSI/MSI-X vectors (host/irq.h) and the driver core (host/module.h) with
 * Linux's names. pci_register_driver binds at once, in the calling task. */
#ifndef PCILAB_LINUX_PCI_H
#define PCILAB_LINUX_PCI_H

#include "host/irq.h"
#include "host/module.h"
#include "host/pci.h"

#include <linux/device.h>
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/mod_devicetable.h>
#include <linux/types.h>

#define PCI_DEVICE(vend, dev) \
    .vendor = (vend), .device = (dev), .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID
#define PCI_DEVICE_SUB(vend, dev, subvend, subdev) \
    .vendor = (vend), .device = (dev), .subvendor = (subvend), .subdevice = (subdev)
#define PCI_DEVICE_CLASS(dev_class, dev_class_mask) \
    .class = (dev_class), .class_mask = (dev_class_mask), .vendor = PCI_ANY_ID, \
    .device = PCI_ANY_ID, .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID

#define pci_register_driver(driver) host_pci_register_driver(driver, KBUILD_MODNAME)
#define pci_unregister_driver(driver) host_pci_unregister_driver(driver)

/* include/linux/pci.h module_pci_driver -> module_driver (device.h) */
#define module_pci_driver(__pci_driver) \
    static int pcilab_pci_driver_init(void) \
    { \
        return pci_register_driver(&(__pci_driver)); \
    } \
    static void pcilab_pci_driver_exit(void) \
    { \
        pci_unregister_driver(&(__pci_driver)); \
    } \
    module_init(pcilab_pci_driver_init); \
    module_exit(pcilab_pci_driver_exit)

static inline void *pci_get_drvdata(struct pci_dev *pdev)
{
    return dev_get_drvdata(&pdev->dev);
}

static inline void pci_set_drvdata(struct pci_dev *pdev, void *data)
{
    dev_set_drvdata(&pdev->dev, data);
}

static inline const char *pci_name(const struct pci_dev *pdev)
{
    return dev_name(&pdev->dev);
}

#endif
