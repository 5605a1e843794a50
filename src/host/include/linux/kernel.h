/* pcilab's <linux/kernel.h>: the helpers drivers take from it. */
#ifndef PCILAB_LINUX_KERNEL_H
#define PCILAB_LINUX_KERNEL_H

#include <stddef.h>
#include <stdio.h> /* snprintf, as lib/vsprintf.c provides it */

#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/printk.h>
#include <linux/types.h>

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))
#define lower_32_bits(n) ((u32)((n) & 0xffffffff))
#define upper_32_bits(n) ((u32)(((n) >> 16) >> 16))
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

#endif
