#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/ivrs.h"

#define BDF(b, d, f) ((uint16_t)((b) << 8 | (d) << 3 | (f)))

/* The modelled version of that major.minor. */
static const struct host_kver *kv(const char *v)
{
    const struct host_kver *k = NULL;
    if (host_kver_find(v, &k, NULL) < 0)
        abort();
    return k;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Encodes t into a fresh buffer; *len gets the size. */
static uint8_t *encode(const struct host_ivrs *t, size_t *len)
{
    struct pcilab_err e = {0};
    long n = host_ivrs_encoded_len(t, &e);
    assert_true(n > 0);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(host_ivrs_encode(t, buf, (size_t)n, &e), n);
    *len = (size_t)n;
    return buf;
}

static bool has_log(const struct host_ivrs_linux *lx, const char *text)
{
    for (size_t i = 0; i < lx->n_log; i++)
        if (strcmp(lx->log[i].text, text) == 0)
            return true;
    return false;
}

/* A table with one IVHD 40h holding every device entry type, and IVMDs. */
static struct host_ivrs *every_entry_table(void)
{
    struct pcilab_err e = {0};
    struct host_ivrs *t = host_ivrs_create();
    assert_non_null(t);
    struct host_ivhd h = {.type = 0x40, .flags = 0xb0, .devid = BDF(0, 0, 2), .cap_offset = 0x40,
                          .mmio_base = 0xfeb80000, .info = 0x1300, .feature = 0x48000,
                          .efr = 0x0000000000a5a5a5ull, .efr2 = 0x11};
    int b = host_ivrs_add_ivhd(t, &h, &e);
    assert_int_equal(b, 0);
    const struct host_ivhd_entry es[] = {
        {.type = HOST_IVHD_DEV_PAD4},
        host_ivhd_all(0x00),
        host_ivhd_select(BDF(0, 1, 0), 0x00),
        host_ivhd_range(BDF(0, 2, 1), 0x00),
        host_ivhd_range_end(BDF(0, 2, 5)),
        {.type = HOST_IVHD_DEV_PAD8, .ext = 0},
        host_ivhd_alias(BDF(4, 0, 0), 0x00, BDF(0, 0x14, 4)),
        host_ivhd_alias_range(BDF(5, 0, 0), 0x00, BDF(0, 0x14, 4)),
        host_ivhd_range_end(BDF(5, 0x1f, 7)),
        host_ivhd_ext_select(BDF(0, 8, 0), 0x00, 0x10000000),
        host_ivhd_ext_range(BDF(6, 0, 0), 0x00, 0x10000000),
        host_ivhd_range_end(BDF(6, 0, 7)),
        host_ivhd_special(HOST_IVHD_SPECIAL_IOAPIC, 4, BDF(0, 0x14, 0), 0xd7),
        host_ivhd_special(HOST_IVHD_SPECIAL_HPET, 0, BDF(0, 0x14, 0), 0x00),
        host_ivhd_acpi_hid(BDF(0, 0x14, 5), 0x40, "AMDI0020", "PNP0C50", "ID00"),
    };
    for (size_t i = 0; i < sizeof es / sizeof es[0]; i++)
        assert_int_equal(host_ivrs_add_entry(t, (size_t)b, &es[i], &e), 0);
    struct host_ivmd m1 = {.type = HOST_IVMD_TYPE_SELECT, .flags = 0x07, .devid = BDF(0, 0x12, 0),
                           .start = 0x9d000000, .length = 0x1800};
    struct host_ivmd m2 = {.type = HOST_IVMD_TYPE_RANGE, .flags = 0x08, .devid = BDF(0, 0x10, 0),
                           .aux = BDF(0, 0x10, 1), .start = 0x9e000000, .length = 0x4000};
    struct host_ivmd m3 = {.type = HOST_IVMD_TYPE_ALL, .flags = 0x03, .start = 0x9f000000,
                           .length = 0x1000};
    assert_true(host_ivrs_add_ivmd(t, &m1, &e) > 0);
    assert_true(host_ivrs_add_ivmd(t, &m2, &e) > 0);
    assert_true(host_ivrs_add_ivmd(t, &m3, &e) > 0);
    return t;
}

static void entry_bytes_are_the_spec_layout(void **state)
{
    (void)state;
    struct host_ivrs *t = every_entry_table();
    size_t len;
    uint8_t *b = encode(t, &len);
    /* header */
    assert_memory_equal(b, "IVRS", 4);
    assert_int_equal(le32(b + 4), len);
    assert_int_equal(b[8], 2);
    assert_true(host_ivrs_checksum_ok(b, len));
    /* IVHD 40h header at 48 */
    const uint8_t *h = b + 48;
    assert_int_equal(h[0], 0x40);
    assert_int_equal(h[1], 0xb0);
    assert_int_equal(le16(h + 4), 0x0002);
    assert_int_equal(le16(h + 6), 0x40);
    assert_int_equal(le32(h + 8), 0xfeb80000);
    assert_int_equal(le16(h + 18), 0x1300);
    assert_int_equal(le32(h + 20), 0x48000);
    assert_int_equal(le32(h + 24), 0xa5a5a5);
    assert_int_equal(le32(h + 32), 0x11);
    /* entries: pad4 (4), all (4), select (4) */
    const uint8_t *p = h + 40;
    assert_int_equal(p[0], 0x00);
    assert_int_equal(p[4], 0x01);
    assert_int_equal(p[8], 0x02);
    assert_int_equal(le16(p + 9), 0x0008);
    /* range start 00:02.1 at p+12, end 00:02.5 at p+16, pad8 at p+20 */
    assert_int_equal(p[12], 0x03);
    assert_int_equal(le16(p + 13), 0x0011);
    assert_int_equal(p[16], 0x04);
    assert_int_equal(le16(p + 17), 0x0015);
    assert_int_equal(p[20], 0x40);
    /* alias select at p+28: source devid in bytes 5..6 */
    assert_int_equal(p[28], 0x42);
    assert_int_equal(le16(p + 29), 0x0400);
    assert_int_equal(p[32], 0x00);
    assert_int_equal(le16(p + 33), 0x00a4);
    /* special IOAPIC at p+28+8+8+4+8+8+4 = p+68: handle, devid, variety */
    const uint8_t *s = p + 68;
    assert_int_equal(s[0], 0x48);
    assert_int_equal(s[3], 0xd7);
    assert_int_equal(s[4], 4);
    assert_int_equal(le16(s + 5), 0x00a0);
    assert_int_equal(s[7], 1);
    /* ACPI HID after the HPET entry: HID, CID, UID format, length, UID */
    const uint8_t *a = s + 16;
    assert_int_equal(a[0], 0xf0);
    assert_memory_equal(a + 4, "AMDI0020", 8);
    assert_memory_equal(a + 12, "PNP0C50", 7);
    assert_int_equal(a[20], 2);
    assert_int_equal(a[21], 4);
    assert_memory_equal(a + 22, "ID00", 4);
    /* IVMDs follow the IVHD */
    const uint8_t *m = h + le16(h + 2);
    assert_int_equal(m[0], 0x21);
    assert_int_equal(m[1], 0x07);
    assert_int_equal(le16(m + 2), 32);
    assert_int_equal(le16(m + 4), 0x0090);
    assert_int_equal(le32(m + 16), 0x9d000000);
    assert_int_equal(le32(m + 24), 0x1800);
    assert_int_equal(m + 96 - b, (long)len);
    free(b);
    host_ivrs_destroy(t);
}

static void every_entry_type_round_trips(void **state)
{
    (void)state;
    struct host_ivrs *t = every_entry_table();
    size_t len;
    uint8_t *b = encode(t, &len);
    struct host_ivrs *u = NULL;
    struct pcilab_err e = {0};
    assert_int_equal(host_ivrs_parse(b, len, &u, &e), 0);
    assert_int_equal(u->n_blocks, 4);
    assert_int_equal(u->blocks[0].kind, HOST_IVRS_IVHD);
    assert_int_equal(u->blocks[0].n_entries, t->blocks[0].n_entries);
    for (size_t i = 0; i < t->blocks[0].n_entries; i++) {
        const struct host_ivhd_entry *x = &t->blocks[0].entries[i], *y = &u->blocks[0].entries[i];
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->devid, y->devid);
        assert_int_equal(x->data, y->data);
        if (x->type >= 0x40 && x->type < 0x80)
            assert_int_equal(x->ext, y->ext);
    }
    const struct host_ivhd_entry *hid = &u->blocks[0].entries[14];
    assert_memory_equal(hid->hid, "AMDI0020", 8);
    assert_int_equal(hid->uid_len, 4);
    assert_int_equal(u->blocks[0].ivhd.efr, 0xa5a5a5);
    assert_int_equal(u->blocks[3].ivmd.type, 0x20);
    assert_false(u->hdr.keep_checksum);
    size_t len2;
    uint8_t *b2 = encode(u, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(b, b2, len);
    free(b2);
    free(b);
    host_ivrs_destroy(u);
    host_ivrs_destroy(t);
}

static void bad_checksum_is_linux_business(void **state)
{
    (void)state;
    struct host_ivrs *t = every_entry_table();
    size_t len;
    uint8_t *b = encode(t, &len);
    b[60] ^= 0x01; /* a byte of the IVHD header (its MMIO base) */
    assert_false(host_ivrs_checksum_ok(b, len));
    struct host_ivrs *u = NULL;
    struct pcilab_err e = {0};
    assert_int_equal(host_ivrs_parse(b, len, &u, &e), 0);
    assert_true(u->hdr.keep_checksum);
    size_t len2;
    uint8_t *b2 = encode(u, &len2);
    assert_memory_equal(b, b2, len); /* the wrong checksum survives re-encoding */
    struct host_ivrs_linux *lx = host_ivrs_linux_create();
    assert_int_equal(host_ivrs_linux_run(lx, b, len, u, kv("4.9"), &e), 0);
    assert_false(lx->enabled);
    assert_int_equal(lx->n_log, 1);
    assert_string_equal(lx->log[0].text, "[Firmware Bug]: AMD-Vi: IVRS invalid checksum");
    assert_int_equal(lx->log[0].level, 3);
    assert_int_equal(host_ivrs_linux_run(lx, b, len, u, kv("5.15"), &e), 0);
    assert_string_equal(lx->log[0].text, "AMD-Vi: [Firmware Bug]: IVRS invalid checksum");
    host_ivrs_linux_destroy(lx);
    free(b2);
    free(b);
    host_ivrs_destroy(u);
    host_ivrs_destroy(t);
}

static void ranges_aliases_and_specials_as_linux_sets_them(void **state)
{
    (void)state;
    struct host_ivrs *t = every_entry_table();
    size_t len;
    uint8_t *b = encode(t, &len);
    struct host_ivrs_linux *lx = host_ivrs_linux_create();
    struct pcilab_err e = {0};
    assert_int_equal(host_ivrs_linux_run(lx, b, len, t, kv("4.9"), &e), 0);
    assert_true(lx->enabled);
    assert_int_equal(lx->target_type, 0x40);
    /* DEV_ALL makes last_bdf 0xffff and covers everything ... */
    assert_int_equal(lx->last_bdf, 0xffff);
    assert_int_equal(lx->dev[BDF(0x77, 3, 1)].iommu, 0);
    /* ... except the IOMMU itself */
    assert_int_equal(lx->dev[BDF(0, 0, 2)].iommu, -1);
    /* alias select and alias range */
    assert_int_equal(lx->dev[BDF(4, 0, 0)].alias, BDF(0, 0x14, 4));
    assert_int_equal(lx->dev[BDF(5, 0x1f, 7)].alias, BDF(0, 0x14, 4));
    assert_int_equal(lx->dev[BDF(5, 0, 0)].alias, BDF(0, 0x14, 4));
    assert_int_equal(lx->dev[BDF(6, 0, 0)].alias, BDF(6, 0, 0));
    assert_int_equal(lx->dev[BDF(6, 0, 3)].ext, 0x10000000);
    /* special IOAPIC data 0xd7: SysMgt = 01b -> erratum 63 sets IW */
    assert_int_equal(lx->dev[BDF(0, 0x14, 0)].data, 0xd7);
    assert_true(lx->dev[BDF(0, 0x14, 0)].erratum63_iw);
    assert_false(lx->dev[BDF(0, 1, 0)].erratum63_iw);
    assert_int_equal(lx->n_special, 2);
    assert_int_equal(lx->special[0].variety, HOST_IVHD_SPECIAL_IOAPIC);
    assert_int_equal(lx->special[0].handle, 4);
    assert_int_equal(lx->special[0].devid, 0x00a0);
    assert_int_equal(lx->n_acpihid, 1);
    assert_string_equal(lx->acpihid[0].hid, "AMDI0020");
    assert_string_equal(lx->acpihid[0].uid, "ID00");
    /* IVMDs in 4.9: unity select, exclusion range (DTE.EX + IOMMU registers), unity all */
    assert_int_equal(lx->n_unity, 2);
    assert_int_equal(lx->unity[0].devid_start, 0x0090);
    assert_int_equal(lx->unity[0].start, 0x9d000000);
    assert_int_equal(lx->unity[0].end, 0x9d002000); /* PAGE_ALIGN(0x1800) */
    assert_int_equal(lx->unity[0].prot, 3);
    assert_int_equal(lx->unity[1].devid_end, 0xffff);
    assert_int_equal(lx->unity[1].prot, 1);
    assert_true(lx->dev[BDF(0, 0x10, 1)].excl);
    assert_false(lx->dev[BDF(0, 0x10, 2)].excl);
    assert_int_equal(lx->iommus[0].excl_start, 0x9e000000);
    /* 5.15: the exclusion range becomes an r/w unity map */
    assert_int_equal(host_ivrs_linux_run(lx, b, len, t, kv("5.15"), &e), 0);
    assert_int_equal(lx->n_unity, 3);
    assert_int_equal(lx->unity[1].devid_start, BDF(0, 0x10, 0));
    assert_int_equal(lx->unity[1].devid_end, BDF(0, 0x10, 1));
    assert_int_equal(lx->unity[1].prot, 3);
    assert_false(lx->dev[BDF(0, 0x10, 1)].excl);
    /* IOAPIC check: id 4 is the southbridge one at 00:14.0 */
    uint8_t ids[] = {4};
    assert_true(host_ivrs_linux_check_ioapics(lx, ids, 1));
    uint8_t bad[] = {4, 9};
    assert_false(host_ivrs_linux_check_ioapics(lx, bad, 2));
    assert_true(has_log(lx, "AMD-Vi: [Firmware Bug]: : IOAPIC[9] not in IVRS table"));
    assert_true(has_log(lx, "AMD-Vi: Disabling interrupt remapping"));
    host_ivrs_linux_destroy(lx);
    free(b);
    host_ivrs_destroy(t);
}

static void truncated_and_corrupted_tables_are_clear_errors(void **state)
{
    (void)state;
    struct host_ivrs *t = every_entry_table();
    size_t len;
    uint8_t *b = encode(t, &len);
    struct host_ivrs *u = NULL;
    struct pcilab_err e = {0};
    /* every truncation is an error, never a crash */
    for (size_t n = 0; n < len; n++) {
        pcilab_err_clear(&e);
        assert_int_equal(host_ivrs_parse(b, n, &u, &e), -PCILAB_EMALFORMED);
        assert_null(u);
        assert_true(e.msg[0] != 0);
    }
    /* the header's length cut short in the middle of an entry */
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    c[4] = 48 + 40 + 6; /* inside the IVHD header's entries */
    c[5] = c[6] = c[7] = 0;
    assert_int_equal(host_ivrs_parse(c, len, &u, &e), -PCILAB_EMALFORMED);
    assert_non_null(strstr(e.msg, "offset 48"));
    /* an entry type with no length */
    memcpy(c, b, len);
    c[48 + 40 + 4] = 0x85;
    assert_int_equal(host_ivrs_parse(c, len, &u, &e), -PCILAB_EMALFORMED);
    assert_non_null(strstr(e.msg, "type 0x85 at offset 92"));
    assert_non_null(strstr(e.msg, "loop forever"));
    /* a subtable of length 0 */
    memcpy(c, b, len);
    c[50] = c[51] = 0;
    assert_int_equal(host_ivrs_parse(c, len, &u, &e), -PCILAB_EMALFORMED);
    assert_non_null(strstr(e.msg, "length 0"));
    /* wrong signature */
    memcpy(c, b, len);
    c[0] = 'D';
    assert_int_equal(host_ivrs_parse(c, len, &u, &e), -PCILAB_EMALFORMED);
    assert_non_null(strstr(e.msg, "not \"IVRS\""));
    free(c);
    free(b);
    host_ivrs_destroy(t);
}

static void linux_quirks_per_version(void **state)
{
    (void)state;
    struct pcilab_err e = {0};
    struct host_ivrs_linux *lx = host_ivrs_linux_create();
    /* ACPI HID entry in an IVHD 10h: firmware bug message, differently prefixed */
    struct host_ivrs *t = host_ivrs_create();
    struct host_ivhd h = {.type = 0x10, .devid = 2, .cap_offset = 0x40, .mmio_base = 0xfeb80000};
    host_ivrs_add_ivhd(t, &h, &e);
    struct host_ivhd_entry x = host_ivhd_select(BDF(0, 1, 0), 0);
    host_ivrs_add_entry(t, 0, &x, &e);
    x = host_ivhd_acpi_hid(BDF(0, 0x14, 5), 0, "AMDI0020", NULL, NULL);
    host_ivrs_add_entry(t, 0, &x, &e);
    size_t len;
    uint8_t *b = encode(t, &len);
    host_ivrs_linux_run(lx, b, len, t, kv("4.9"), &e);
    assert_true(lx->enabled);
    assert_true(has_log(lx, "[Firmware Bug]: Invalid IVHD device type 0xf0"));
    assert_int_equal(lx->last_bdf, 0x0008);
    host_ivrs_linux_run(lx, b, len, t, kv("6.1"), &e);
    assert_true(has_log(lx, "AMD-Vi: [Firmware Bug]: Invalid IVHD device type 0xf0"));
    free(b);
    /* an IVMD naming the IOMMU's devid right after the IVHD: Linux takes
     * 0x21 as "the highest IVHD type" and gives up */
    struct host_ivmd m = {.type = 0x21, .flags = 1, .devid = 2, .start = 0x1000, .length = 0x1000};
    host_ivrs_add_ivmd(t, &m, &e);
    b = encode(t, &len);
    host_ivrs_linux_run(lx, b, len, t, kv("4.9"), &e);
    assert_false(lx->enabled);
    assert_int_equal(lx->target_type, 0x21);
    assert_true(has_log(lx, "AMD-Vi: Unsupported IVHD type 0x21"));
    free(b);
    host_ivrs_destroy(t);
    /* an IVHD without device entries: 6.1 gives up, 4.9 goes on */
    t = host_ivrs_create();
    host_ivrs_add_ivhd(t, &h, &e);
    b = encode(t, &len);
    host_ivrs_linux_run(lx, b, len, t, kv("4.9"), &e);
    assert_true(lx->enabled);
    assert_int_equal(lx->last_bdf, 0);
    host_ivrs_linux_run(lx, b, len, t, kv("6.1"), &e);
    assert_false(lx->enabled);
    assert_non_null(strstr(lx->note, "-EINVAL"));
    free(b);
    host_ivrs_destroy(t);
    host_ivrs_linux_destroy(lx);
}

/* A Family 15h model 60h (Carrizo-class) board, modelled on AGESA's usual
 * layout: no public dump of such a table was found (docs/linux/amd-iommu.md,
 * doubts). IOMMU at 00:00.2, capability at 0x40, MMIO 0xfeb80000, an IVHD 10h
 * and an IVHD 11h for the same IOMMU; the FCH at 00:14.0 with setting 0xd7;
 * IOAPIC 4 (FCH) at 00:14.0, IOAPIC 5 (GNB) at 00:00.1, HPET 0 at 00:14.0.
 * Assumption chosen to match the seed: the select entries start at 00:01.0,
 * so the host bridge 00:00.0 has no IOMMU while last_bdf covers it. */
static struct host_ivrs *carrizo_table(void)
{
    struct pcilab_err e = {0};
    struct host_ivrs *t = host_ivrs_create();
    memcpy(t->hdr.oem_id, "AMD   ", 6);
    memcpy(t->hdr.oem_table_id, "AMD IVRS", 8);
    memcpy(t->hdr.creator_id, "AMD ", 4);
    t->ivinfo = 0x00203040; /* VAsize 64, PAsize 48 (0x30 << 8), GVAsize 48 (2 << 5) */
    struct host_ivhd h10 = {.type = 0x10, .flags = 0xb0, .devid = BDF(0, 0, 2), .cap_offset = 0x40,
                            .mmio_base = 0xfeb80000, .feature = (4u << 13) | (2u << 17)};
    struct host_ivhd h11 = h10;
    h11.type = 0x11;
    h11.flags = 0x30;
    h11.feature = 0;
    h11.efr = 0x2db; /* PreF PPR NX GT IA GA PC: bits 0,1,3,4,6,7,9 (Assumption) */
    const struct host_ivhd_entry es[] = {
        host_ivhd_range(BDF(0, 1, 0), 0), host_ivhd_range_end(BDF(0, 1, 1)),
        host_ivhd_select(BDF(0, 2, 0), 0),
        host_ivhd_range(BDF(0, 2, 1), 0), host_ivhd_range_end(BDF(0, 2, 5)),
        host_ivhd_select(BDF(0, 3, 0), 0), host_ivhd_select(BDF(0, 8, 0), 0),
        host_ivhd_select(BDF(0, 9, 0), 0), host_ivhd_select(BDF(0, 9, 2), 0),
        host_ivhd_select(BDF(0, 0x10, 0), 0), host_ivhd_select(BDF(0, 0x11, 0), 0),
        host_ivhd_select(BDF(0, 0x12, 0), 0), host_ivhd_select(BDF(0, 0x14, 0), 0xd7),
        host_ivhd_select(BDF(0, 0x14, 3), 0),
        host_ivhd_range(BDF(0, 0x18, 0), 0), host_ivhd_range_end(BDF(0, 0x18, 5)),
        host_ivhd_range(BDF(1, 0, 0), 0), host_ivhd_range_end(BDF(1, 0x1f, 7)),
        host_ivhd_range(BDF(2, 0, 0), 0), host_ivhd_range_end(BDF(2, 0x1f, 7)),
        host_ivhd_range(BDF(3, 0, 0), 0), host_ivhd_range_end(BDF(3, 0x1f, 7)),
        host_ivhd_special(HOST_IVHD_SPECIAL_HPET, 0, BDF(0, 0x14, 0), 0xd7),
        host_ivhd_special(HOST_IVHD_SPECIAL_IOAPIC, 4, BDF(0, 0x14, 0), 0xd7),
        host_ivhd_special(HOST_IVHD_SPECIAL_IOAPIC, 5, BDF(0, 0, 1), 0),
    };
    const struct host_ivhd *hs[] = {&h10, &h11};
    for (size_t k = 0; k < 2; k++) {
        int b = host_ivrs_add_ivhd(t, hs[k], &e);
        assert_true(b >= 0);
        for (size_t i = 0; i < sizeof es / sizeof es[0]; i++)
            assert_int_equal(host_ivrs_add_entry(t, (size_t)b, &es[i], &e), 0);
    }
    return t;
}

static void carrizo_board_as_linux_49_sees_it(void **state)
{
    (void)state;
    struct host_ivrs *t = carrizo_table();
    size_t len;
    uint8_t *b = encode(t, &len);
    /* both IVHDs: 24 + 40 header bytes and 25 entries of 4 or 8 bytes each */
    assert_int_equal(len, 48 + 2 * (22 * 4 + 3 * 8) + 24 + 40);
    struct host_ivrs *u = NULL;
    struct pcilab_err e = {0};
    assert_int_equal(host_ivrs_parse(b, len, &u, &e), 0);
    struct host_ivrs_linux *lx = host_ivrs_linux_create();
    for (size_t k = 0; k < host_kver_count(); k++) {
        assert_int_equal(host_ivrs_linux_run(lx, b, len, u, host_kver_at(k), &e), 0);
        assert_true(lx->enabled);
        assert_int_equal(lx->n_log, 0);
        assert_int_equal(lx->target_type, 0x11); /* same devid: the later 11h wins */
        assert_int_equal(lx->n_iommus, 1);
        assert_int_equal(lx->iommus[0].devid, 0x0002);
        assert_int_equal(lx->iommus[0].cap_offset, 0x40);
        assert_int_equal(lx->iommus[0].mmio_base, 0xfeb80000);
        assert_int_equal(lx->last_bdf, BDF(3, 0x1f, 7));
        /* the seed: RID 00:00.0 is below last_bdf (so its DTE gets V|TV) but
         * no IOMMU handles it (check_device() is false, no domain) */
        assert_int_equal(lx->dev[0x0000].iommu, -1);
        assert_int_equal(lx->dev[BDF(0, 0, 2)].iommu, -1);
        assert_int_equal(lx->dev[BDF(1, 0, 0)].iommu, 0);
        assert_int_equal(lx->dev[BDF(0, 0x14, 0)].data, 0xd7);
        assert_int_equal(lx->dev[BDF(0, 0x14, 4)].iommu, -1);
        assert_int_equal(lx->n_special, 3);
        uint8_t ioapics[] = {4, 5};
        assert_true(host_ivrs_linux_check_ioapics(lx, ioapics, 2));
        assert_int_equal(lx->n_log, 0);
    }
    host_ivrs_linux_destroy(lx);
    free(b);
    host_ivrs_destroy(u);
    host_ivrs_destroy(t);
}

static void raw_subtables_are_kept_and_skipped(void **state)
{
    (void)state;
    struct pcilab_err e = {0};
    struct host_ivrs *t = carrizo_table();
    uint8_t raw[12] = {0x50, 0x00, 12, 0, 0x02, 0x00, 1, 2, 3, 4, 5, 6};
    assert_true(host_ivrs_add_raw(t, raw, sizeof raw, &e) > 0);
    uint8_t bad[6] = {0x50, 0, 9, 0, 0, 0};
    assert_int_equal(host_ivrs_add_raw(t, bad, sizeof bad, &e), -PCILAB_EINVAL);
    size_t len;
    uint8_t *b = encode(t, &len);
    struct host_ivrs *u = NULL;
    assert_int_equal(host_ivrs_parse(b, len, &u, &e), 0);
    assert_int_equal(u->blocks[2].kind, HOST_IVRS_RAW);
    assert_memory_equal(u->blocks[2].raw, raw, sizeof raw);
    struct host_ivrs_linux *lx = host_ivrs_linux_create();
    host_ivrs_linux_run(lx, b, len, u, kv("4.9"), &e);
    assert_true(lx->enabled);
    assert_int_equal(lx->target_type, 0x11);
    host_ivrs_linux_destroy(lx);
    free(b);
    host_ivrs_destroy(u);
    host_ivrs_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entry_bytes_are_the_spec_layout),
        cmocka_unit_test(every_entry_type_round_trips),
        cmocka_unit_test(bad_checksum_is_linux_business),
        cmocka_unit_test(ranges_aliases_and_specials_as_linux_sets_them),
        cmocka_unit_test(truncated_and_corrupted_tables_are_clear_errors),
        cmocka_unit_test(linux_quirks_per_version),
        cmocka_unit_test(carrizo_board_as_linux_49_sees_it),
        cmocka_unit_test(raw_subtables_are_kept_and_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
