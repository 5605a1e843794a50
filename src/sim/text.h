/* Small text helpers shared by the readers of hex input (TLPs, lspci dumps,
 * scenario files). */
#ifndef PCILAB_SIM_TEXT_H
#define PCILAB_SIM_TEXT_H

/* The value of a hexadecimal digit, or -1 when c is not one. */
static inline int pcilab_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
