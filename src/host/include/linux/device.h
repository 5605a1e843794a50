/* pcilab's <linux/device.h>: struct device (host/pci.h) and dev_printk,
 * which prints "<driver or bus> <device>: text" as Linux's does
 * (drivers/base/core.c dev_printk_emit with dev_driver_string and
 * dev_name). */
#ifndef PCILAB_LINUX_DEVICE_H
#define PCILAB_LINUX_DEVICE_H

#include "host/pci.h"

#include <linux/kernel.h>

#define dev_printk(level, dev, ...) host_dev_printk(level, dev, __VA_ARGS__)
#define dev_emerg(dev, ...) host_dev_printk(KERN_EMERG, dev, __VA_ARGS__)
#define dev_alert(dev, ...) host_dev_printk(KERN_ALERT, dev, __VA_ARGS__)
#define dev_crit(dev, ...) host_dev_printk(KERN_CRIT, dev, __VA_ARGS__)
#define dev_err(dev, ...) host_dev_printk(KERN_ERR, dev, __VA_ARGS__)
#define dev_warn(dev, ...) host_dev_printk(KERN_WARNING, dev, __VA_ARGS__)
#define dev_notice(dev, ...) host_dev_printk(KERN_NOTICE, dev, __VA_ARGS__)
#define dev_info(dev, ...) host_dev_printk(KERN_INFO, dev, __VA_ARGS__)
#ifdef DEBUG
#define dev_dbg(dev, ...) host_dev_printk(KERN_DEBUG, dev, __VA_ARGS__)
#else
#define dev_dbg(dev, ...) \
    do { \
        if (0) \
            host_dev_printk(KERN_DEBUG, dev, __VA_ARGS__); \
    } while (0)
#endif

static inline void *dev_get_drvdata(const struct device *dev)
{
    return dev->driver_data;
}

static inline void dev_set_drvdata(struct device *dev, void *data)
{
    dev->driver_data = data;
}

#endif
