/* pcilab's <linux/errno.h>: Linux's values (include/uapi/asm-generic/
 * errno-base.h, errno.h, include/linux/errno.h), which are also glibc's on
 * x86, so the host layer's errno.h codes and these are the same numbers.
 * Self-contained on purpose: glibc's <errno.h> includes <linux/errno.h>, and
 * must find these definitions if it ever meets this header first. */
#ifndef PCILAB_LINUX_ERRNO_H
#define PCILAB_LINUX_ERRNO_H

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define EOPNOTSUPP 95
#define ETIMEDOUT 110
/* kernel-internal */
#define EPROBE_DEFER 517
#define ENOTSUPP 524

#endif
