/* pcilab's <linux/bits.h> (include/linux/bits.h; in 4.9 <linux/bitops.h>). */
#ifndef PCILAB_LINUX_BITS_H
#define PCILAB_LINUX_BITS_H

#define BIT(nr) (1UL << (nr))
#define BIT_ULL(nr) (1ULL << (nr))
#define GENMASK(h, l) (((~0UL) - (1UL << (l)) + 1) & (~0UL >> (64 - 1 - (h))))
#define GENMASK_ULL(h, l) (((~0ULL) - (1ULL << (l)) + 1) & (~0ULL >> (64 - 1 - (h))))

#endif
