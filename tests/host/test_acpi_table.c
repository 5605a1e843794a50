/* The ACPI System Description Table header shared by DMAR and IVRS
 * (host/acpi_table.h): its 36 bytes field by field (ACPI 6.4 5.2.6), the
 * checksum computed or kept, and decoding back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "host/acpi_table.h"

static void header_bytes(void **state)
{
    (void)state;
    struct host_acpi_header h = {0};
    host_acpi_header_set(&h, 2, "BOCHS ", "BXPC    ", 0x01020304, "BXPC", 0x0a0b0c0d);
    uint8_t b[40];
    memset(b, 0xee, sizeof b);
    host_acpi_header_encode(&h, "DMAR", 40, b);
    static const uint8_t want[36] = {
        'D', 'M', 'A', 'R', 40, 0, 0, 0, 2, 0, 'B', 'O', 'C', 'H', 'S', ' ',
        'B', 'X', 'P', 'C', ' ', ' ', ' ', ' ', 4, 3, 2, 1, 'B', 'X', 'P', 'C',
        0x0d, 0x0c, 0x0b, 0x0a};
    assert_memory_equal(b, want, 36);
    assert_int_equal(b[36], 0xee); /* the table's own bytes are left alone */
}

static void checksum_computed_and_kept(void **state)
{
    (void)state;
    struct host_acpi_header h = {0};
    host_acpi_header_set(&h, 1, "PCILAB", "PCILABIV", 1, "PCLB", 1);
    uint8_t b[48] = {0};
    host_acpi_header_encode(&h, "IVRS", sizeof b, b);
    b[40] = 0x5a;
    host_acpi_checksum_fill(&h, b, sizeof b);
    assert_true(host_acpi_checksum_ok(b, sizeof b));
    uint8_t sum = 0;
    for (size_t i = 0; i < sizeof b; i++)
        if (i != 9)
            sum = (uint8_t)(sum + b[i]);
    assert_int_equal(b[9], (uint8_t)(0x100 - sum));

    /* decoded: a good table keeps nothing */
    struct host_acpi_header d;
    host_acpi_header_decode(b, sizeof b, &d);
    assert_false(d.keep_checksum);
    assert_int_equal(d.checksum, b[9]);
    assert_int_equal(d.revision, 1);
    assert_memory_equal(d.oem_table_id, "PCILABIV", 8);
    assert_int_equal(d.creator_revision, 1);

    /* a wrong one is kept as read, and written back as it was */
    b[9] ^= 0x11;
    uint8_t wrong = b[9];
    assert_false(host_acpi_checksum_ok(b, sizeof b));
    host_acpi_header_decode(b, sizeof b, &d);
    assert_true(d.keep_checksum);
    b[9] = 0;
    host_acpi_checksum_fill(&d, b, sizeof b);
    assert_int_equal(b[9], wrong);
}

static void little_endian_16(void **state)
{
    (void)state;
    uint8_t b[2];
    host_acpi_put16(b, 0x1234);
    assert_int_equal(b[0], 0x34);
    assert_int_equal(b[1], 0x12);
    assert_int_equal(host_acpi_get16(b), 0x1234);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_bytes),
        cmocka_unit_test(checksum_computed_and_kept),
        cmocka_unit_test(little_endian_16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
