/* The PCI Express 32-bit CRC, shared by ECRC (2.7.1) and LCRC (3.6.2.1).
 * PCI Express Base Specification 5.0.
 *
 * Polynomial 04C11DB7h, remainder seeded with FFFFFFFFh; each byte enters the
 * divider bit 0 first (the order bits are sent on the link), bytes in the
 * order they are transmitted. The transmitted CRC is the complemented
 * remainder with its bits reversed within each byte as the spec's figures map
 * them ("bit 31 of the remainder to bit 0 of the first CRC byte" ...). In the
 * arithmetic this is the reflected CRC-32 of IEEE 802.3 (the same divider),
 * read out in a different byte/bit order — see crc.c for the derivation.
 *
 * The interface is generic: init/update/final over any byte stream, so the
 * link layer computes LCRC over the sequence number and TLP with the same
 * functions; pcie_ecrc() applies the ECRC variant-bit rule.
 */
#ifndef PCILAB_PCIE_CRC_H
#define PCILAB_PCIE_CRC_H

#include <stddef.h>
#include <stdint.h>

#define PCIE_CRC32_POLY 0x04C11DB7u
#define PCIE_CRC32_SEED 0xFFFFFFFFu

/* Running remainder, in the reflected register convention (bit 0 of the
 * register holds the x^31 coefficient). Start from PCIE_CRC32_SEED. */
uint32_t pcie_crc32_update(uint32_t rem, const uint8_t *p, size_t n);

/* The four CRC bytes in transmit order, from a running remainder. */
void pcie_crc32_final(uint32_t rem, uint8_t out[4]);

/* Same, as a dword whose most significant byte is the first one on the wire
 * (how analyzers and the TLP header dwords are written). */
uint32_t pcie_crc32_wire_dw(uint32_t rem);

/* ECRC over a TLP's header and data (2.7.1): bit 0 of the Type field and the
 * EP bit are variant and taken as 1. n >= 4. Returns the ECRC dword as on
 * the wire (MSB first). No TLP prefixes (2.2.10) are modelled. */
uint32_t pcie_ecrc(const uint8_t *tlp, size_t n);

#endif
