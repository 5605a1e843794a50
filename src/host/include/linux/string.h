/* pcilab's <linux/string.h>: strcmp, strlen, memcpy & co., which lib/string.c
 * gives the kernel and the C library gives pcilab. */
#ifndef PCILAB_LINUX_STRING_H
#define PCILAB_LINUX_STRING_H

#include <string.h>

#endif
