/* The PCIe CRC-32 (2.7.1 ECRC, 3.6.2.1 LCRC; PCI Express Base Spec 5.0)
 * against a bit-at-a-time model written straight from the spec's
 * description, and the published CRC-32 check value. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pcie/crc.h"

/* The spec's shift register: polynomial 04C11DB7h in an MSB-first register
 * seeded with FFFFFFFFh; each byte enters bit 0 first. The complemented
 * remainder is mapped to the CRC bytes with remainder bit 31 -> bit 0 of
 * byte 0, ..., bit 24 -> bit 7 of byte 0, bit 23 -> bit 0 of byte 1, ... */
static void model(const uint8_t *p, size_t n, uint8_t out[4])
{
    uint32_t r = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            uint32_t in = (uint32_t)(p[i] >> bit & 1);
            uint32_t fb = (r >> 31) ^ in;
            r <<= 1;
            if (fb)
                r ^= 0x04c11db7u;
        }
    r = ~r;
    for (int byte = 0; byte < 4; byte++) {
        uint8_t v = 0;
        for (int bit = 0; bit < 8; bit++)
            v |= (uint8_t)((r >> (31 - 8 * byte - bit) & 1) << bit);
        out[byte] = v;
    }
}

static void test_check_value(void **state)
{
    (void)state;
    /* CRC-32 "123456789" check value CBF43926h (reflected form). */
    const uint8_t s[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    uint8_t out[4];
    pcie_crc32_final(pcie_crc32_update(PCIE_CRC32_SEED, s, 9), out);
    assert_int_equal(out[0], 0x26);
    assert_int_equal(out[1], 0x39);
    assert_int_equal(out[2], 0xf4);
    assert_int_equal(out[3], 0xcb);
    assert_int_equal(pcie_crc32_wire_dw(pcie_crc32_update(PCIE_CRC32_SEED, s, 9)), 0x2639f4cbu);
}

static void test_against_model(void **state)
{
    (void)state;
    uint8_t buf[300];
    uint32_t x = 12345;
    for (size_t n = 0; n < sizeof buf; n++) {
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        uint8_t want[4], got[4];
        model(buf, n, want);
        pcie_crc32_final(pcie_crc32_update(PCIE_CRC32_SEED, buf, n), got);
        assert_memory_equal(got, want, 4);
        /* incremental in uneven pieces gives the same result */
        if (n > 7) {
            uint32_t r = pcie_crc32_update(PCIE_CRC32_SEED, buf, 3);
            r = pcie_crc32_update(r, buf + 3, 4);
            r = pcie_crc32_update(r, buf + 7, n - 7);
            pcie_crc32_final(r, got);
            assert_memory_equal(got, want, 4);
        }
    }
}

static void test_ecrc_variant_bits(void **state)
{
    (void)state;
    uint8_t tlp[16] = {0x4a, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x04,
                       0x01, 0x00, 0x05, 0x00, 0xde, 0xad, 0xbe, 0xef};
    uint32_t e = pcie_ecrc(tlp, 16);
    assert_int_equal(e, 0xe3eb111bu);
    /* the model over the bytes with Type[0] and EP set gives the same */
    uint8_t v[16];
    for (int i = 0; i < 16; i++)
        v[i] = tlp[i];
    v[0] |= 1;
    v[2] |= 0x40;
    uint8_t m[4];
    model(v, 16, m);
    assert_int_equal(e, (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3]);
    tlp[2] |= 0x40; /* EP */
    assert_int_equal(pcie_ecrc(tlp, 16), e);
    tlp[3] ^= 0x02; /* any other bit */
    assert_int_not_equal(pcie_ecrc(tlp, 16), e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_ecrc_variant_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
