/* pcilab's <linux/types.h> for drivers built into the simulation: the
 * kernel's fixed-width names over pcilab's host types. Real modules get
 * Linux's own header instead. (include/linux/types.h,
 * include/uapi/asm-generic/int-ll64.h: u64 is unsigned long long on every
 * architecture, so "%llx" prints it in both builds.) */
#ifndef PCILAB_LINUX_TYPES_H
#define PCILAB_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/dma.h"   /* dma_addr_t */
#include "host/mm.h"    /* gfp_t */

#include <linux/compiler.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef s8 __s8;
typedef s16 __s16;
typedef s32 __s32;
typedef s64 __s64;
/* x86 is little-endian; sparse's bitwise checking is not modelled */
typedef u16 __le16;
typedef u32 __le32;
typedef u64 __le64;
typedef u16 __be16;
typedef u32 __be32;
typedef u64 __be64;

typedef uint64_t phys_addr_t;       /* CONFIG_PHYS_ADDR_T_64BIT on x86-64 */
typedef phys_addr_t resource_size_t;

#endif
