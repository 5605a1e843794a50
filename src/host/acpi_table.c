/* The ACPI System Description Table header (acpi_table.h): ACPI 6.4 5.2.6. */
#include "host/acpi_table.h"

#include <string.h>

#include "sim/bytes.h"

void host_acpi_header_set(struct host_acpi_header *h, uint8_t revision, const char *oem_id,
                          const char *oem_table_id, uint32_t oem_revision,
                          const char *creator_id, uint32_t creator_revision)
{
    h->revision = revision;
    memcpy(h->oem_id, oem_id, sizeof h->oem_id);
    memcpy(h->oem_table_id, oem_table_id, sizeof h->oem_table_id);
    h->oem_revision = oem_revision;
    memcpy(h->creator_id, creator_id, sizeof h->creator_id);
    h->creator_revision = creator_revision;
}

void host_acpi_header_encode(const struct host_acpi_header *h, const char *signature,
                             uint32_t length, uint8_t *buf)
{
    memcpy(buf, signature, 4);                        /* Signature */
    sim_put_le32(buf + 4, length);                    /* Length */
    buf[8] = h->revision;                             /* Revision */
    buf[9] = 0;                                       /* Checksum: host_acpi_checksum_fill */
    memcpy(buf + 10, h->oem_id, 6);                   /* OEMID */
    memcpy(buf + 16, h->oem_table_id, 8);             /* OEM Table ID */
    sim_put_le32(buf + 24, h->oem_revision);          /* OEM Revision */
    memcpy(buf + 28, h->creator_id, 4);               /* Creator ID */
    sim_put_le32(buf + 32, h->creator_revision);      /* Creator Revision */
}

void host_acpi_header_decode(const uint8_t *buf, size_t length, struct host_acpi_header *h)
{
    h->revision = buf[8];
    h->checksum = buf[9];
    h->keep_checksum = !host_acpi_checksum_ok(buf, length);
    memcpy(h->oem_id, buf + 10, 6);
    memcpy(h->oem_table_id, buf + 16, 8);
    h->oem_revision = sim_get_le32(buf + 24);
    memcpy(h->creator_id, buf + 28, 4);
    h->creator_revision = sim_get_le32(buf + 32);
}

static uint8_t sum8(const uint8_t *bytes, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + bytes[i]);
    return sum;
}

void host_acpi_checksum_fill(const struct host_acpi_header *h, uint8_t *buf, size_t length)
{
    if (h->keep_checksum) {
        buf[9] = h->checksum;
        return;
    }
    buf[9] = 0;
    buf[9] = (uint8_t)(0x100 - sum8(buf, length));
}

bool host_acpi_checksum_ok(const uint8_t *bytes, size_t len) { return sum8(bytes, len) == 0; }
