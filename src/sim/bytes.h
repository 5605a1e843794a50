/* Little-endian loads and stores of hardware formats (PCIe, the IOMMU tables
 * and logs are all little-endian), whatever the host's byte order. */
#ifndef PCILAB_SIM_BYTES_H
#define PCILAB_SIM_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint64_t sim_get_le64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
#endif
}

static inline void sim_put_le64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

#endif
