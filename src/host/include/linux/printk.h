/* pcilab's <linux/printk.h>: printk and pr_* onto the current host kernel's
 * printk ring (host/kernel.h), at the current simulated time. pr_fmt works
 * as in Linux: a driver that defines it before its includes gets its prefix
 * on every pr_* line. */
#ifndef PCILAB_LINUX_PRINTK_H
#define PCILAB_LINUX_PRINTK_H

#include <stdarg.h>

#include "host/kernel.h"

#include <linux/kern_levels.h>

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

__attribute__((format(printf, 1, 2)))
static inline int printk(const char *fmt, ...)
{
    struct host_kernel *k = host_current();
    if (!k)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    int n = host_vprintk(k, fmt, ap);
    va_end(ap);
    return n;
}

#define pr_emerg(fmt, ...) printk(KERN_EMERG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_alert(fmt, ...) printk(KERN_ALERT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_crit(fmt, ...) printk(KERN_CRIT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) printk(KERN_ERR pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk(KERN_WARNING pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warning pr_warn
#define pr_notice(fmt, ...) printk(KERN_NOTICE pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...) printk(KERN_INFO pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...) printk(KERN_CONT fmt, ##__VA_ARGS__)
/* pr_debug prints only with DEBUG defined (dynamic debug is off by
 * default); the format is checked either way, as Linux's no_printk does. */
#ifdef DEBUG
#define pr_debug(fmt, ...) printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
#else
#define pr_debug(fmt, ...) \
    do { \
        if (0) \
            printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__); \
    } while (0)
#endif

#endif
