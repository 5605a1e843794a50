#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dmar.h"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static uint8_t *encode(const struct host_dmar *t, size_t *len)
{
    struct pcilab_err e = {0};
    long n = host_dmar_encoded_len(t, &e);
    assert_true(n > 0);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(host_dmar_encode(t, buf, (size_t)n, &e), n);
    *len = (size_t)n;
    return buf;
}

/* The q35 machine of tests/linux/captured/edu-vtd-*.log: 00:00.0, 00:03.0,
 * 00:1f.0, 00:1f.2, 00:1f.3 on the root bus. */
static const struct host_dmar_dev q35_devs[] = {
    {0, 0, 0, false}, {0, 3, 0, false}, {0, 0x1f, 0, false}, {0, 0x1f, 2, false},
    {0, 0x1f, 3, false},
};

static uint8_t *q35_bytes(size_t *len)
{
    struct pcilab_err e = {0};
    struct host_dmar *t = host_dmar_create();
    struct host_dmar_q35 q = {.aw_bits = 39, .intr_remap = true, .devs = q35_devs, .n_devs = 5};
    assert_int_equal(host_dmar_build_q35(t, &q, &e), 0);
    uint8_t *b = encode(t, len);
    host_dmar_destroy(t);
    return b;
}

/* The real QEMU table is 0x70 bytes ("ACPI: DMAR 0x000000000FFE2259 000070
 * (v01 BOCHS  BXPC     00000001 BXPC 00000001)" in the captured log). */
static void test_q35_layout(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = q35_bytes(&n);
    assert_int_equal(n, 0x70);
    assert_memory_equal(b, "DMAR", 4);
    assert_int_equal(le32(b + 4), 0x70);
    assert_int_equal(b[8], 1);
    assert_memory_equal(b + 10, "BOCHS BXPC    ", 14);
    assert_int_equal(le32(b + 24), 1);
    assert_memory_equal(b + 28, "BXPC", 4);
    assert_true(host_dmar_checksum_ok(b, n));
    assert_int_equal(b[36], 38); /* "Host address width 39" */
    assert_int_equal(b[37], HOST_DMAR_INTR_REMAP);
    /* DRHD */
    const uint8_t *d = b + 48;
    assert_int_equal(le16(d), 0);
    assert_int_equal(le16(d + 2), 16 + 8 + 5 * 8);
    assert_int_equal(d[4], 0); /* "flags: 0x0" */
    assert_int_equal(le16(d + 6), 0);
    assert_int_equal(le64(d + 8), 0xfed90000ull);
    /* IOAPIC scope: type 3, length 8, id 0, bus 0xff, 00.0 */
    const uint8_t io[8] = {3, 8, 0, 0, 0, 0xff, 0, 0};
    assert_memory_equal(d + 16, io, 8);
    /* the edu device 00:03.0: endpoint */
    const uint8_t ep[8] = {1, 8, 0, 0, 0, 0, 3, 0};
    assert_memory_equal(d + 32, ep, 8);
    free(b);
}

static void test_q35_round_trip(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = q35_bytes(&n);
    struct host_dmar *t = NULL;
    struct pcilab_err e = {0};
    assert_int_equal(host_dmar_parse(b, n, &t, &e), 0);
    assert_int_equal(t->n, 1);
    assert_int_equal(t->s[0].type, HOST_DMAR_DRHD);
    assert_int_equal(t->s[0].n_scopes, 6);
    assert_int_equal(t->s[0].scopes[0].type, HOST_DMAR_SCOPE_IOAPIC);
    assert_int_equal(t->s[0].scopes[5].path[0].dev, 0x1f);
    assert_int_equal(t->s[0].scopes[5].path[0].fn, 3);
    assert_false(t->hdr.keep_checksum);
    size_t n2;
    uint8_t *b2 = encode(t, &n2);
    assert_int_equal(n2, n);
    assert_memory_equal(b, b2, n);
    free(b2);
    host_dmar_destroy(t);
    free(b);
}

static void test_q35_pci_all_and_atsr(void **state)
{
    (void)state;
    struct pcilab_err e = {0};
    struct host_dmar *t = host_dmar_create();
    struct host_dmar_q35 q = {.intr_remap = false, .include_pci_all = true, .device_iotlb = true,
                              .devs = q35_devs, .n_devs = 5};
    assert_int_equal(host_dmar_build_q35(t, &q, &e), 0);
    size_t n;
    uint8_t *b = encode(t, &n);
    assert_int_equal(n, 48 + 24 + 8);
    assert_int_equal(b[37], 0);
    assert_int_equal(b[48 + 4], HOST_DRHD_INCLUDE_PCI_ALL);
    const uint8_t atsr[8] = {2, 0, 8, 0, 1, 0, 0, 0};
    assert_memory_equal(b + 72, atsr, 8);
    free(b);
    host_dmar_destroy(t);
}

static void test_client(void **state)
{
    (void)state;
    struct pcilab_err e = {0};
    struct host_dmar *t = host_dmar_create();
    assert_int_equal(host_dmar_build_client(t, NULL, &e), 0);
    size_t n;
    uint8_t *b = encode(t, &n);
    /* DRHD(16+8) DRHD(16+8+8) RMRR(24+8) RMRR(24+8) */
    assert_int_equal(n, 48 + 24 + 32 + 32 + 32);
    assert_int_equal(b[37], 0x05);
    assert_int_equal(le64(b + 48 + 8), 0xfed90000ull);
    assert_int_equal(b[72 + 4], 1); /* INCLUDE_PCI_ALL */
    assert_int_equal(le64(b + 72 + 8), 0xfed91000ull);
    const uint8_t ioapic[8] = {3, 8, 0, 0, 2, 0xf0, 0x1f, 0};
    assert_memory_equal(b + 72 + 16, ioapic, 8);
    const uint8_t *r = b + 104;
    assert_int_equal(le16(r), 1);
    assert_int_equal(le16(r + 2), 32);
    assert_int_equal(le64(r + 8), 0x7b7f9000ull);
    assert_int_equal(le64(r + 16), 0x7b818fffull);
    const uint8_t usb[8] = {1, 8, 0, 0, 0, 0, 0x14, 0};
    assert_memory_equal(r + 24, usb, 8);
    struct host_dmar *u = NULL;
    assert_int_equal(host_dmar_parse(b, n, &u, &e), 0);
    assert_int_equal(u->n, 4);
    assert_int_equal(u->s[3].limit, 0x7f7fffffull);
    assert_int_equal(u->s[3].scopes[0].path[0].dev, 2);
    host_dmar_destroy(u);
    free(b);
    host_dmar_destroy(t);
}

/* Every structure type, a two-entry path, a reserved type kept raw. */
static void test_every_type_round_trip(void **state)
{
    (void)state;
    struct pcilab_err e = {0};
    struct host_dmar *t = host_dmar_create();
    t->flags = 0x07;
    int d = host_dmar_add_drhd(t, 0, 1, 0xfed91000ull, &e);
    struct host_dmar_scope br = host_dmar_scope1(HOST_DMAR_SCOPE_BRIDGE, 0, 0, 0x1c, 0);
    br.npath = 2;
    br.path[1].dev = 0;
    br.path[1].fn = 0;
    assert_int_equal(host_dmar_add_scope(t, (size_t)d, &br, &e), 0);
    assert_int_equal(host_dmar_add_scope(
                         t, (size_t)d, &(struct host_dmar_scope){.type = HOST_DMAR_SCOPE_ACPI,
                                                                  .enum_id = 1, .bus = 0,
                                                                  .npath = 1}, &e), 0);
    int r = host_dmar_add_rmrr(t, 1, 0xbbd1b000ull, 0xbbd3afffull, &e);
    assert_int_equal(host_dmar_add_scope(t, (size_t)r,
                                         &(struct host_dmar_scope){.type = 1, .npath = 1}, &e), 0);
    int a = host_dmar_add_atsr(t, 0, 1, &e);
    assert_int_equal(host_dmar_add_scope(t, (size_t)a, &br, &e), 0);
    assert_true(host_dmar_add_rhsa(t, 0xfed91000ull, 3, &e) >= 0);
    assert_true(host_dmar_add_andd(t, 1, "\\_SB.PCI0.I2C0", &e) >= 0);
    assert_true(host_dmar_add_satc(t, HOST_SATC_ATC_REQUIRED, 0, &e) >= 0);
    const uint8_t raw[6] = {7, 0, 6, 0, 0xaa, 0xbb};
    assert_true(host_dmar_add_raw(t, raw, 6, &e) >= 0);
    /* the RHSA has no scopes */
    assert_true(host_dmar_add_scope(t, 3, &br, &e) < 0);
    assert_non_null(strstr(e.msg, "RHSA"));
    size_t n;
    uint8_t *b = encode(t, &n);
    struct host_dmar *u = NULL;
    assert_int_equal(host_dmar_parse(b, n, &u, &e), 0);
    assert_int_equal(u->n, 7);
    assert_int_equal(u->s[0].scopes[0].npath, 2);
    assert_int_equal(u->s[4].name_len, strlen("\\_SB.PCI0.I2C0") + 1);
    assert_string_equal((char *)u->s[4].name, "\\_SB.PCI0.I2C0");
    assert_int_equal(u->s[3].proximity, 3);
    assert_int_equal(u->s[6].type, 7);
    size_t n2;
    uint8_t *b2 = encode(u, &n2);
    assert_int_equal(n, n2);
    assert_memory_equal(b, b2, n);
    /* a wrong checksum is kept as it is */
    b[9] ^= 0x5a;
    host_dmar_destroy(u);
    assert_int_equal(host_dmar_parse(b, n, &u, &e), 0);
    assert_true(u->hdr.keep_checksum);
    free(b2);
    b2 = encode(u, &n2);
    assert_memory_equal(b, b2, n);
    free(b2);
    host_dmar_destroy(u);
    free(b);
    host_dmar_destroy(t);
}

/* Parse errors name the structure, its offset and the field. */
static void test_parse_errors(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = q35_bytes(&n);
    struct host_dmar *t = NULL;
    struct pcilab_err e = {0};
    uint8_t *c = malloc(n);

    assert_true(host_dmar_parse(b, 40, &t, &e) < 0);
    assert_non_null(strstr(e.msg, "48-byte header"));
    assert_null(t);

    memcpy(c, b, n);
    c[0] = 'X';
    assert_true(host_dmar_parse(c, n, &t, &e) < 0);
    assert_non_null(strstr(e.msg, "Signature"));

    memcpy(c, b, n);
    c[4] = 0x80; /* Length 0x80 > 0x70 bytes */
    assert_true(host_dmar_parse(c, n, &t, &e) < 0);
    assert_non_null(strstr(e.msg, "Length 128"));

    memcpy(c, b, n);
    c[48 + 2] = 0; /* DRHD Length 0 */
    c[48 + 3] = 0;
    assert_true(host_dmar_parse(c, n, &t, &e) < 0);
    assert_non_null(strstr(e.msg, "DRHD at offset 48: Length 0"));

    memcpy(c, b, n);
    c[48 + 2] = 12; /* shorter than the 16-byte fixed part */
    assert_true(host_dmar_parse(c, n, &t, &e) < 0);
    assert_non_null(strstr(e.msg, "shorter than its 16-byte fixed part"));

    memcpy(c, b, n);
    c[48 + 16 + 8 + 1] = 7; /* the second scope's Length */
    assert_true(host_dmar_parse(c, n, &t, &e) < 0);
    assert_non_null(strstr(e.msg, "device scope 1 at offset 72: Length 7 is not 6 + 2"));

    memcpy(c, b, n);
    c[48 + 16 + 5 * 8 + 1] = 10; /* the last scope runs past the DRHD */
    assert_true(host_dmar_parse(c, n, &t, &e) < 0);
    assert_non_null(strstr(e.msg, "device scope 5"));
    assert_non_null(strstr(e.msg, "past the structure's end"));

    assert_null(t);
    free(c);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q35_layout),
        cmocka_unit_test(test_q35_round_trip),
        cmocka_unit_test(test_q35_pci_all_and_atsr),
        cmocka_unit_test(test_client),
        cmocka_unit_test(test_every_type_round_trip),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
