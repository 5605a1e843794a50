/* The ACPI System Description Table header (ACPI 6.4 5.2.6, "System
 * Description Table Header") that DMAR (dmar.h) and IVRS (ivrs.h) begin
 * with: the fields a table description keeps, their encoding and decoding,
 * and the checksum. Each table's own fields and structures stay in its file. */
#ifndef PCILAB_HOST_ACPI_TABLE_H
#define PCILAB_HOST_ACPI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_ACPI_HEADER_LEN 36u /* ACPI 6.4 Table 5.4: Signature .. Creator Revision */

/* The header's fields but Signature and Length, which the encoder writes from
 * the table's kind and size. */
struct host_acpi_header {
    uint8_t revision;          /* 5.2.6 Revision, byte 8 */
    uint8_t checksum;          /* 5.2.6 Checksum, byte 9: as read; the encoder computes it
                                * unless keep_checksum */
    bool keep_checksum;        /* encode `checksum` as is (set by decode when it was wrong) */
    char oem_id[6];            /* 5.2.6 OEMID, bytes 10..15 */
    char oem_table_id[8];      /* 5.2.6 OEM Table ID, bytes 16..23 */
    uint32_t oem_revision;     /* 5.2.6 OEM Revision, bytes 24..27 */
    char creator_id[4];        /* 5.2.6 Creator ID, bytes 28..31 */
    uint32_t creator_revision; /* 5.2.6 Creator Revision, bytes 32..35 */
};

/* Sets the revision and the OEM and creator identity (the ids are copied
 * without their terminating NUL). */
void host_acpi_header_set(struct host_acpi_header *h, uint8_t revision, const char *oem_id,
                          const char *oem_table_id, uint32_t oem_revision,
                          const char *creator_id, uint32_t creator_revision);

/* Writes the 36-byte header of a table of `length` bytes to buf[0..35],
 * Checksum 0 (host_acpi_checksum_fill sets it once the table is written). */
void host_acpi_header_encode(const struct host_acpi_header *h, const char *signature,
                             uint32_t length, uint8_t *buf);

/* Reads the header's fields from buf, a whole table of `length` bytes
 * (Signature and Length are the caller's to check); keep_checksum is set when
 * the bytes do not sum to 0. */
void host_acpi_header_decode(const uint8_t *buf, size_t length, struct host_acpi_header *h);

/* Sets Checksum (byte 9) of the table buf[0..length) so that its bytes sum
 * to 0 (5.2.6), or to h->checksum when h->keep_checksum. */
void host_acpi_checksum_fill(const struct host_acpi_header *h, uint8_t *buf, size_t length);

/* True when the bytes sum to 0 modulo 256 (5.2.6 Checksum). */
bool host_acpi_checksum_ok(const uint8_t *bytes, size_t len);

/* The 16-bit little-endian fields of the tables (32 and 64: sim/bytes.h). */
static inline uint16_t host_acpi_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline void host_acpi_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

#endif
