/* pcilab's <linux/bitops.h>: BIT and GENMASK (Linux 4.9 defines them here,
 * later kernels in <linux/bits.h>, which <linux/bitops.h> includes). */
#ifndef PCILAB_LINUX_BITOPS_H
#define PCILAB_LINUX_BITOPS_H

#include <linux/bits.h>

#endif
