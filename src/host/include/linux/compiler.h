/* pcilab's <linux/compiler.h>: the annotations a driver uses, as no-ops
 * (sparse address spaces, section placement of init code). */
#ifndef PCILAB_LINUX_COMPILER_H
#define PCILAB_LINUX_COMPILER_H

#define __iomem
#define __user
#define __force
#define __must_check __attribute__((warn_unused_result))
#define __always_unused __attribute__((unused))
#define __maybe_unused __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
/* Driver code runs in one thread between events: a plain access is what
 * READ_ONCE/WRITE_ONCE compile to on x86 for aligned scalars. */
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val) (*(volatile __typeof__(x) *)&(x) = (val))

#endif
