/* ACPI IVRS: description, encoder, parser, and Linux's reading of it.
 * Facts and sources: docs/linux/amd-iommu.md section g. Layouts: AMD 48882
 * rev 3.05 chapter 5; ACPI 6.4 5.2.6 for the common header. */
#include "host/ivrs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "sim/bytes.h"
#include "sim/table.h"

/* The differences between versions are fields of struct host_kver (kver.h,
 * section "ACPI IVRS"): ivrs_pr_fmt, ivrs_excl_as_unity, ivrs_empty_ivhd_fails,
 * ivrs_per_segment. */

/* ---- entries --------------------------------------------------------------- */

static struct host_ivhd_entry entry(uint8_t type, uint16_t devid, uint8_t data, uint32_t ext)
{
    struct host_ivhd_entry e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.devid = devid;
    e.data = data;
    e.ext = ext;
    return e;
}

struct host_ivhd_entry host_ivhd_select(uint16_t d, uint8_t data)
{
    return entry(HOST_IVHD_DEV_SELECT, d, data, 0);
}
struct host_ivhd_entry host_ivhd_all(uint8_t data) { return entry(HOST_IVHD_DEV_ALL, 0, data, 0); }
struct host_ivhd_entry host_ivhd_range(uint16_t first, uint8_t data)
{
    return entry(HOST_IVHD_DEV_RANGE_START, first, data, 0);
}
struct host_ivhd_entry host_ivhd_range_end(uint16_t last)
{
    return entry(HOST_IVHD_DEV_RANGE_END, last, 0, 0);
}
struct host_ivhd_entry host_ivhd_alias(uint16_t d, uint8_t data, uint16_t source)
{
    return entry(HOST_IVHD_DEV_ALIAS, d, data, (uint32_t)source << 8);
}
struct host_ivhd_entry host_ivhd_alias_range(uint16_t first, uint8_t data, uint16_t source)
{
    return entry(HOST_IVHD_DEV_ALIAS_RANGE, first, data, (uint32_t)source << 8);
}
struct host_ivhd_entry host_ivhd_ext_select(uint16_t d, uint8_t data, uint32_t ext)
{
    return entry(HOST_IVHD_DEV_EXT_SELECT, d, data, ext);
}
struct host_ivhd_entry host_ivhd_ext_range(uint16_t first, uint8_t data, uint32_t ext)
{
    return entry(HOST_IVHD_DEV_EXT_RANGE, first, data, ext);
}
struct host_ivhd_entry host_ivhd_special(uint8_t variety, uint8_t handle, uint16_t d, uint8_t data)
{
    /* 48882 5.2.2.2 special device entry: byte 4 handle, bytes 5..6 devid,
     * byte 7 variety; bytes 1..2 are reserved (0). */
    return entry(HOST_IVHD_DEV_SPECIAL, 0, data,
                 handle | (uint32_t)d << 8 | (uint32_t)variety << 24);
}

static void copy8(uint8_t dst[8], const char *s)
{
    memset(dst, 0, 8);
    if (s)
        memcpy(dst, s, strnlen(s, 8));
}

struct host_ivhd_entry host_ivhd_acpi_hid(uint16_t d, uint8_t data, const char *hid,
                                          const char *cid, const char *uid)
{
    struct host_ivhd_entry e = entry(HOST_IVHD_DEV_ACPI_HID, d, data, 0);
    copy8(e.hid, hid);
    copy8(e.cid, cid);
    if (uid) {
        size_t n = strnlen(uid, sizeof e.uid);
        e.uid_format = 2;
        e.uid_len = (uint8_t)n;
        memcpy(e.uid, uid, n);
    }
    return e;
}

/* Linux ivhd_entry_length (4.9 .. 6.1): type < 0x80 -> 4 << (type >> 6);
 * 0xf0 -> 22 + uid length (byte 21); anything else 0. */
size_t host_ivhd_entry_len(const struct host_ivhd_entry *e)
{
    if (e->type < 0x80)
        return (size_t)4 << (e->type >> 6);
    if (e->type == HOST_IVHD_DEV_ACPI_HID)
        return 22u + e->uid_len;
    return 0;
}

/* ---- the description ------------------------------------------------------- */

struct host_ivrs *host_ivrs_create(void)
{
    struct host_ivrs *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    host_acpi_header_set(&t->hdr, 2, "PCILAB", "PCILABIV", 1, "PCLB", 1);
    return t;
}

void host_ivrs_destroy(struct host_ivrs *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_blocks; i++) {
        free(t->blocks[i].entries);
        free(t->blocks[i].raw);
    }
    free(t->blocks);
    free(t);
}

static struct host_ivrs_block *new_block(struct host_ivrs *t, struct pcilab_err *err)
{
    if (t->n_blocks == t->cap_blocks) {
        size_t cap = t->cap_blocks ? 2 * t->cap_blocks : 8;
        struct host_ivrs_block *b = realloc(t->blocks, cap * sizeof *b);
        if (!b) {
            pcilab_errf(err, PCILAB_ENOMEM, "IVRS: out of memory for subtable %zu", t->n_blocks);
            return NULL;
        }
        t->blocks = b;
        t->cap_blocks = cap;
    }
    struct host_ivrs_block *b = &t->blocks[t->n_blocks++];
    memset(b, 0, sizeof *b);
    return b;
}

int host_ivrs_add_ivhd(struct host_ivrs *t, const struct host_ivhd *h, struct pcilab_err *err)
{
    if (h->type != HOST_IVHD_TYPE_10 && h->type != HOST_IVHD_TYPE_11 &&
        h->type != HOST_IVHD_TYPE_40)
        return pcilab_errf(err, PCILAB_EINVAL, "IVRS: IVHD type 0x%02x is not 10h, 11h or 40h",
                           h->type);
    struct host_ivrs_block *b = new_block(t, err);
    if (!b)
        return -PCILAB_ENOMEM;
    b->kind = HOST_IVRS_IVHD;
    b->ivhd = *h;
    return (int)(t->n_blocks - 1);
}

int host_ivrs_add_entry(struct host_ivrs *t, size_t block, const struct host_ivhd_entry *e,
                        struct pcilab_err *err)
{
    if (block >= t->n_blocks || t->blocks[block].kind != HOST_IVRS_IVHD)
        return pcilab_errf(err, PCILAB_EINVAL, "IVRS: subtable %zu is not an IVHD", block);
    if (host_ivhd_entry_len(e) == 0)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "IVRS: device entry type 0x%02x has no defined length", e->type);
    struct host_ivrs_block *b = &t->blocks[block];
    if (b->n_entries == b->cap_entries) {
        size_t cap = b->cap_entries ? 2 * b->cap_entries : 8;
        struct host_ivhd_entry *n = realloc(b->entries, cap * sizeof *n);
        if (!n)
            return pcilab_errf(err, PCILAB_ENOMEM, "IVRS: out of memory for device entries");
        b->entries = n;
        b->cap_entries = cap;
    }
    b->entries[b->n_entries++] = *e;
    return 0;
}

int host_ivrs_add_ivmd(struct host_ivrs *t, const struct host_ivmd *m, struct pcilab_err *err)
{
    if (m->type < HOST_IVMD_TYPE_ALL || m->type > HOST_IVMD_TYPE_RANGE)
        return pcilab_errf(err, PCILAB_EINVAL, "IVRS: IVMD type 0x%02x is not 20h, 21h or 22h",
                           m->type);
    struct host_ivrs_block *b = new_block(t, err);
    if (!b)
        return -PCILAB_ENOMEM;
    b->kind = HOST_IVRS_IVMD;
    b->ivmd = *m;
    return (int)(t->n_blocks - 1);
}

int host_ivrs_add_raw(struct host_ivrs *t, const uint8_t *bytes, size_t len,
                      struct pcilab_err *err)
{
    if (len < 4 || len > 0xffff || host_acpi_get16(bytes + 2) != len)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "IVRS: a raw subtable needs at least 4 bytes and its own length at "
                           "bytes 2..3 (%zu bytes given)", len);
    struct host_ivrs_block *b = new_block(t, err);
    if (!b)
        return -PCILAB_ENOMEM;
    b->raw = malloc(len);
    if (!b->raw) {
        t->n_blocks--;
        return pcilab_errf(err, PCILAB_ENOMEM, "IVRS: out of memory for a raw subtable");
    }
    memcpy(b->raw, bytes, len);
    b->raw_len = len;
    b->kind = HOST_IVRS_RAW;
    return (int)(t->n_blocks - 1);
}

/* ---- encoder --------------------------------------------------------------- */

static size_t ivhd_header_len(uint8_t type)
{
    /* Linux get_ivhd_header_size: 24 for 10h, 40 for 11h and 40h. */
    return type == HOST_IVHD_TYPE_10 ? 24 : (type == 0x11 || type == 0x40) ? 40 : 0;
}

static long block_len(const struct host_ivrs_block *b, size_t index, struct pcilab_err *err)
{
    if (b->kind == HOST_IVRS_RAW)
        return (long)b->raw_len;
    if (b->kind == HOST_IVRS_IVMD)
        return 32;
    size_t n = ivhd_header_len(b->ivhd.type);
    if (!n)
        return pcilab_errf(err, PCILAB_EINVAL, "IVRS: subtable %zu: IVHD type 0x%02x unknown",
                           index, b->ivhd.type);
    for (size_t i = 0; i < b->n_entries; i++) {
        size_t l = host_ivhd_entry_len(&b->entries[i]);
        if (!l)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "IVRS: subtable %zu entry %zu: type 0x%02x has no length", index,
                               i, b->entries[i].type);
        n += l;
    }
    if (n > 0xffff)
        return pcilab_errf(err, PCILAB_ERANGE,
                           "IVRS: subtable %zu is %zu bytes, more than its 16-bit length holds",
                           index, n);
    return (long)n;
}

long host_ivrs_encoded_len(const struct host_ivrs *t, struct pcilab_err *err)
{
    uint64_t n = HOST_IVRS_HEADER_LEN;
    for (size_t i = 0; i < t->n_blocks; i++) {
        long l = block_len(&t->blocks[i], i, err);
        if (l < 0)
            return l;
        n += (uint64_t)l;
    }
    if (n > 0xffffffffu)
        return pcilab_errf(err, PCILAB_ERANGE, "IVRS: table over 4 GiB");
    return (long)n;
}

static size_t encode_entry(const struct host_ivhd_entry *e, uint8_t *p)
{
    /* 48882 5.2.2.2: byte 0 type, bytes 1..2 DeviceID, byte 3 DTE setting. */
    size_t len = host_ivhd_entry_len(e);
    memset(p, 0, len);
    p[0] = e->type;
    host_acpi_put16(p + 1, e->devid);
    p[3] = e->data;
    if (e->type >= 0x40 && e->type < 0x80)
        sim_put_le32(p + 4, e->ext); /* 8-byte entries: dword at 4 */
    if (e->type == HOST_IVHD_DEV_ACPI_HID) {
        memcpy(p + 4, e->hid, 8);    /* bytes 4..11 HID */
        memcpy(p + 12, e->cid, 8);   /* bytes 12..19 CID */
        p[20] = e->uid_format;       /* byte 20 UID format */
        p[21] = e->uid_len;          /* byte 21 UID length */
        memcpy(p + 22, e->uid, e->uid_len);
    }
    return len;
}

long host_ivrs_encode(const struct host_ivrs *t, uint8_t *buf, size_t cap, struct pcilab_err *err)
{
    long total = host_ivrs_encoded_len(t, err);
    if (total < 0)
        return total;
    if ((size_t)total > cap)
        return pcilab_errf(err, PCILAB_ERANGE, "IVRS: %ld bytes do not fit in %zu", total, cap);
    uint8_t *p = buf;
    host_acpi_header_encode(&t->hdr, "IVRS", (uint32_t)total, p); /* ACPI 6.4 5.2.6 */
    /* 48882 5.2.1: IVinfo at 36, reserved 8 bytes at 40 */
    sim_put_le32(p + 36, t->ivinfo);
    sim_put_le64(p + 40, t->reserved);
    p += HOST_IVRS_HEADER_LEN;
    for (size_t i = 0; i < t->n_blocks; i++) {
        const struct host_ivrs_block *b = &t->blocks[i];
        long l = block_len(b, i, err);
        if (b->kind == HOST_IVRS_RAW) {
            memcpy(p, b->raw, b->raw_len);
        } else if (b->kind == HOST_IVRS_IVMD) {
            /* 48882 5.2.3 IVMD: type, flags, length, DeviceID, aux, 8 reserved,
             * start address, length */
            const struct host_ivmd *m = &b->ivmd;
            p[0] = m->type;
            p[1] = m->flags;
            host_acpi_put16(p + 2, 32);
            host_acpi_put16(p + 4, m->devid);
            host_acpi_put16(p + 6, m->aux);
            sim_put_le64(p + 8, m->reserved);
            sim_put_le64(p + 16, m->start);
            sim_put_le64(p + 24, m->length);
        } else {
            /* 48882 5.2.2.1 IVHD: type, flags, length, DeviceID, capability
             * offset, base address, segment, IOMMU info, feature reporting /
             * attributes; 11h/40h add the EFR images. */
            const struct host_ivhd *h = &b->ivhd;
            size_t hl = ivhd_header_len(h->type);
            memset(p, 0, hl);
            p[0] = h->type;
            p[1] = h->flags;
            host_acpi_put16(p + 2, (uint16_t)l);
            host_acpi_put16(p + 4, h->devid);
            host_acpi_put16(p + 6, h->cap_offset);
            sim_put_le64(p + 8, h->mmio_base);
            host_acpi_put16(p + 16, h->segment);
            host_acpi_put16(p + 18, h->info);
            sim_put_le32(p + 20, h->feature);
            if (hl == 40) {
                sim_put_le64(p + 24, h->efr);
                sim_put_le64(p + 32, h->efr2);
            }
            size_t off = hl;
            for (size_t k = 0; k < b->n_entries; k++)
                off += encode_entry(&b->entries[k], p + off);
        }
        p += l;
    }
    host_acpi_checksum_fill(&t->hdr, buf, (size_t)total);
    return total;
}

bool host_ivrs_checksum_ok(const uint8_t *bytes, size_t len)
{
    return host_acpi_checksum_ok(bytes, len);
}

/* ---- parser ---------------------------------------------------------------- */

static int parse_ivhd(struct host_ivrs *t, size_t bi, const uint8_t *p, size_t len, size_t at,
                      struct pcilab_err *err)
{
    struct host_ivrs_block *b = &t->blocks[bi];
    struct host_ivhd *h = &b->ivhd;
    size_t hl = ivhd_header_len(p[0]);
    if (len < hl)
        return pcilab_errf(err, PCILAB_EMALFORMED,
                           "IVRS: IVHD type 0x%02x at offset %zu has length %zu, shorter than "
                           "its %zu-byte header", p[0], at, len, hl);
    h->type = p[0];
    h->flags = p[1];
    h->devid = host_acpi_get16(p + 4);
    h->cap_offset = host_acpi_get16(p + 6);
    h->mmio_base = sim_get_le64(p + 8);
    h->segment = host_acpi_get16(p + 16);
    h->info = host_acpi_get16(p + 18);
    h->feature = sim_get_le32(p + 20);
    if (hl == 40) {
        h->efr = sim_get_le64(p + 24);
        h->efr2 = sim_get_le64(p + 32);
    }
    size_t off = hl;
    while (off < len) {
        const uint8_t *e = p + off;
        struct host_ivhd_entry x;
        memset(&x, 0, sizeof x);
        x.type = e[0];
        size_t need = e[0] < 0x80 ? (size_t)4 << (e[0] >> 6) : e[0] == 0xf0 ? 22 : 0;
        if (!need)
            return pcilab_errf(err, PCILAB_EMALFORMED,
                               "IVRS: device entry type 0x%02x at offset %zu has no length "
                               "Linux knows (ivhd_entry_length() is 0: Linux would loop "
                               "forever)", e[0], at + off);
        if (off + need > len)
            return pcilab_errf(err, PCILAB_EMALFORMED,
                               "IVRS: device entry type 0x%02x at offset %zu needs %zu bytes, "
                               "its IVHD ends after %zu (Linux: WARN_ON(p != end))", e[0],
                               at + off, need, len - off);
        x.devid = host_acpi_get16(e + 1);
        x.data = e[3];
        if (need == 8)
            x.ext = sim_get_le32(e + 4);
        if (e[0] == 0xf0) {
            memcpy(x.hid, e + 4, 8);
            memcpy(x.cid, e + 12, 8);
            x.uid_format = e[20];
            x.uid_len = e[21];
            need = 22u + e[21];
            if (off + need > len)
                return pcilab_errf(err, PCILAB_EMALFORMED,
                                   "IVRS: ACPI HID entry at offset %zu has a %u-byte UID "
                                   "running past its IVHD", at + off, e[21]);
            memcpy(x.uid, e + 22, e[21]);
        }
        int rc = host_ivrs_add_entry(t, bi, &x, err);
        if (rc < 0)
            return rc;
        b = &t->blocks[bi];
        off += need;
    }
    return 0;
}

int host_ivrs_parse(const uint8_t *bytes, size_t len, struct host_ivrs **out,
                    struct pcilab_err *err)
{
    *out = NULL;
    if (!bytes || len < HOST_IVRS_HEADER_LEN)
        return pcilab_errf(err, PCILAB_EMALFORMED,
                           "IVRS: %zu bytes, shorter than the 48-byte IVRS header", len);
    if (memcmp(bytes, "IVRS", 4) != 0)
        return pcilab_errf(err, PCILAB_EMALFORMED,
                           "IVRS: signature bytes are %02x %02x %02x %02x, not \"IVRS\"",
                           bytes[0], bytes[1], bytes[2], bytes[3]);
    uint32_t tlen = sim_get_le32(bytes + 4);
    if (tlen < HOST_IVRS_HEADER_LEN || tlen > len)
        return pcilab_errf(err, PCILAB_EMALFORMED,
                           "IVRS: header says %u bytes, %zu are present (need 48..%zu)", tlen,
                           len, len);
    struct host_ivrs *t = host_ivrs_create();
    if (!t)
        return pcilab_errf(err, PCILAB_ENOMEM, "IVRS: out of memory");
    host_acpi_header_decode(bytes, tlen, &t->hdr);
    t->ivinfo = sim_get_le32(bytes + 36);
    t->reserved = sim_get_le64(bytes + 40);
    size_t at = HOST_IVRS_HEADER_LEN;
    int rc = 0;
    while (at < tlen) {
        if (tlen - at < 4) {
            rc = pcilab_errf(err, PCILAB_EMALFORMED,
                             "IVRS: %zu stray bytes at offset %zu, too few for a subtable "
                             "header", (size_t)(tlen - at), at);
            break;
        }
        const uint8_t *p = bytes + at;
        size_t bl = host_acpi_get16(p + 2);
        if (bl == 0) {
            rc = pcilab_errf(err, PCILAB_EMALFORMED,
                             "IVRS: subtable type 0x%02x at offset %zu has length 0 (Linux "
                             "would loop forever)", p[0], at);
            break;
        }
        if (bl > tlen - at) {
            rc = pcilab_errf(err, PCILAB_EMALFORMED,
                             "IVRS: subtable type 0x%02x at offset %zu has length %zu, only "
                             "%zu bytes are left", p[0], at, bl, (size_t)(tlen - at));
            break;
        }
        if (p[0] == 0x10 || p[0] == 0x11 || p[0] == 0x40) {
            struct host_ivhd h = {.type = p[0]};
            rc = host_ivrs_add_ivhd(t, &h, err);
            if (rc >= 0)
                rc = parse_ivhd(t, (size_t)rc, p, bl, at, err);
        } else if (p[0] >= 0x20 && p[0] <= 0x22) {
            if (bl != 32) {
                rc = pcilab_errf(err, PCILAB_EMALFORMED,
                                 "IVRS: IVMD type 0x%02x at offset %zu has length %zu, not 32 "
                                 "(Linux reads 32 bytes whatever it says)", p[0], at, bl);
                break;
            }
            struct host_ivmd m = {
                .type = p[0], .flags = p[1], .devid = host_acpi_get16(p + 4), .aux = host_acpi_get16(p + 6),
                .reserved = sim_get_le64(p + 8), .start = sim_get_le64(p + 16), .length = sim_get_le64(p + 24),
            };
            rc = host_ivrs_add_ivmd(t, &m, err);
        } else {
            rc = host_ivrs_add_raw(t, p, bl, err);
        }
        if (rc < 0)
            break;
        rc = 0;
        at += bl;
    }
    if (rc < 0) {
        host_ivrs_destroy(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* ---- Linux's reading -------------------------------------------------------- */

/* 800 KiB, all written by host_ivrs_linux_run (every device ID's entry):
 * a table with its pages present from the start (sim/table.h) */
struct host_ivrs_linux *host_ivrs_linux_create(void)
{
    return sim_table_alloc(sizeof(struct host_ivrs_linux));
}

void host_ivrs_linux_destroy(struct host_ivrs_linux *lx)
{
    sim_table_free(lx, sizeof *lx);
}

static void klog(struct host_ivrs_linux *lx, uint8_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void klog(struct host_ivrs_linux *lx, uint8_t level, const char *fmt, ...)
{
    if (lx->n_log >= HOST_IVRS_MAX_LOG)
        return;
    struct host_ivrs_klog *l = &lx->log[lx->n_log++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text, sizeof l->text, fmt, ap);
    va_end(ap);
    l->level = level;
}

/* What pr_fmt puts before a message whose string has no "AMD-Vi: " of its
 * own: nothing in 4.x, "AMD-Vi: " in 5.15/6.1. */
static const char *pfx(const struct host_ivrs_linux *lx)
{
    return lx->kver->ivrs_pr_fmt ? "AMD-Vi: " : "";
}

static void set_from_acpi(struct host_ivrs_linux *lx, int iommu, uint16_t devid, uint8_t flags,
                          uint32_t ext)
{
    /* set_dev_entry_from_acpi: OR the setting bits into the DTE, apply
     * erratum 63, then rlookup[devid] = iommu. */
    struct host_ivrs_devid *d = &lx->dev[devid];
    d->data |= flags;
    d->ext = ext;
    unsigned sysmgt = (d->data >> 4) & 3u;
    if (sysmgt == 1)
        d->erratum63_iw = true;
    d->iommu = (int8_t)iommu;
}

/* find_last_devid_from_ivhd: -1 when the IVHD has no devid-carrying entry. */
static long ivhd_last_devid(const struct host_ivrs_block *b)
{
    long last = -1;
    for (size_t i = 0; i < b->n_entries; i++) {
        const struct host_ivhd_entry *e = &b->entries[i];
        switch (e->type) {
        case HOST_IVHD_DEV_ALL:
            return 0xffff;
        case HOST_IVHD_DEV_SELECT:
        case HOST_IVHD_DEV_RANGE_END:
        case HOST_IVHD_DEV_ALIAS:
        case HOST_IVHD_DEV_EXT_SELECT:
            if (e->devid > last)
                last = e->devid;
            break;
        default:
            break;
        }
    }
    return last;
}

static int add_special(struct host_ivrs_linux *lx, uint8_t variety, uint8_t handle,
                       uint16_t devid)
{
    if (variety != HOST_IVHD_SPECIAL_IOAPIC && variety != HOST_IVHD_SPECIAL_HPET) {
        snprintf(lx->note, sizeof lx->note,
                 "special device entry of variety %u: add_special_device() returns -EINVAL "
                 "and AMD-Vi initialisation fails without a message", variety);
        return -1;
    }
    if (lx->n_special < HOST_IVRS_MAX_SPECIAL)
        lx->special[lx->n_special++] = (struct host_ivrs_special){variety, handle, devid};
    return 0;
}

static int init_from_acpi(struct host_ivrs_linux *lx, const struct host_ivrs_block *b, int iommu,
                          uint8_t ivhd_type)
{
    uint16_t devid_start = 0, devid_to = 0;
    uint8_t flags = 0;
    uint32_t ext_flags = 0;
    bool alias = false;
    for (size_t i = 0; i < b->n_entries; i++) {
        const struct host_ivhd_entry *e = &b->entries[i];
        switch (e->type) {
        case HOST_IVHD_DEV_ALL:
            for (uint32_t d = 0; d <= lx->last_bdf; d++)
                set_from_acpi(lx, iommu, (uint16_t)d, e->data, 0);
            break;
        case HOST_IVHD_DEV_SELECT:
            set_from_acpi(lx, iommu, e->devid, e->data, 0);
            break;
        case HOST_IVHD_DEV_RANGE_START:
            devid_start = e->devid;
            flags = e->data;
            ext_flags = 0;
            alias = false;
            break;
        case HOST_IVHD_DEV_ALIAS: {
            uint16_t to = (uint16_t)(e->ext >> 8);
            set_from_acpi(lx, iommu, e->devid, e->data, 0);
            set_from_acpi(lx, iommu, to, e->data, 0);
            lx->dev[e->devid].alias = to;
            break;
        }
        case HOST_IVHD_DEV_ALIAS_RANGE:
            devid_start = e->devid;
            flags = e->data;
            devid_to = (uint16_t)(e->ext >> 8);
            ext_flags = 0;
            alias = true;
            break;
        case HOST_IVHD_DEV_EXT_SELECT:
            set_from_acpi(lx, iommu, e->devid, e->data, e->ext);
            break;
        case HOST_IVHD_DEV_EXT_RANGE:
            devid_start = e->devid;
            flags = e->data;
            ext_flags = e->ext;
            alias = false;
            break;
        case HOST_IVHD_DEV_RANGE_END:
            /* A range end without a start uses devid_start = 0, as Linux does. */
            for (uint32_t d = devid_start; d <= e->devid; d++) {
                if (alias) {
                    lx->dev[d].alias = devid_to;
                    set_from_acpi(lx, iommu, devid_to, flags, ext_flags);
                }
                set_from_acpi(lx, iommu, (uint16_t)d, flags, ext_flags);
            }
            break;
        case HOST_IVHD_DEV_SPECIAL: {
            uint8_t handle = (uint8_t)e->ext;
            uint16_t d = (uint16_t)(e->ext >> 8);
            uint8_t variety = (uint8_t)(e->ext >> 24);
            if (add_special(lx, variety, handle, d) < 0)
                return -1;
            set_from_acpi(lx, iommu, d, e->data, 0);
            break;
        }
        case HOST_IVHD_DEV_ACPI_HID: {
            if (ivhd_type != HOST_IVHD_TYPE_40) {
                klog(lx, 3, "%s[Firmware Bug]: Invalid IVHD device type %#x", pfx(lx), e->type);
                break;
            }
            struct host_ivrs_acpihid a;
            memset(&a, 0, sizeof a);
            memcpy(a.hid, e->hid, 8);
            if (!a.hid[0]) {
                klog(lx, 3, "%s[Firmware Bug]: Invalid HID.", pfx(lx));
                break;
            }
            switch (e->uid_format) {
            case 0:
                if (e->uid_len != 0)
                    klog(lx, 4, "%s[Firmware Bug]: Invalid UID length.", pfx(lx));
                break;
            case 1:
                /* sprintf(uid, "%d", e->uid): e->uid is the u8 at byte 22 */
                snprintf(a.uid, sizeof a.uid, "%d", e->uid_len ? e->uid[0] : 0);
                break;
            case 2:
                memcpy(a.uid, e->uid, e->uid_len < 255 ? e->uid_len : 255);
                break;
            default:
                break;
            }
            a.devid = e->devid;
            if (lx->n_acpihid < HOST_IVRS_MAX_ACPIHID)
                lx->acpihid[lx->n_acpihid++] = a;
            set_from_acpi(lx, iommu, e->devid, e->data, 0);
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

static void ivmd_4x_exclusion(struct host_ivrs_linux *lx, uint16_t devid,
                              const struct host_ivmd *m)
{
    /* set_device_exclusion_range (4.9/4.20) */
    int i = lx->dev[devid].iommu;
    if (i < 0)
        return;
    lx->dev[devid].excl = true;
    lx->iommus[i].excl_start = m->start;
    lx->iommus[i].excl_length = m->length;
}

static void ivmd_unity(struct host_ivrs_linux *lx, const struct host_ivmd *m)
{
    /* init_unity_map_range */
    struct host_ivrs_unity u = {.ivmd_type = m->type};
    switch (m->type) {
    case HOST_IVMD_TYPE_SELECT:
        u.devid_start = u.devid_end = m->devid;
        break;
    case HOST_IVMD_TYPE_ALL:
        u.devid_start = 0;
        u.devid_end = lx->last_bdf;
        break;
    case HOST_IVMD_TYPE_RANGE:
        u.devid_start = m->devid;
        u.devid_end = m->aux;
        break;
    default:
        return;
    }
    u.start = (m->start + 0xfff) & ~(uint64_t)0xfff;
    u.end = u.start + ((m->length + 0xfff) & ~(uint64_t)0xfff);
    u.prot = (uint8_t)(m->flags >> 1);
    if (m->flags & HOST_IVMD_FLAG_EXCL)
        u.prot = (HOST_IVMD_FLAG_IW | HOST_IVMD_FLAG_IR) >> 1;
    if (lx->n_unity < HOST_IVRS_MAX_UNITY)
        lx->unity[lx->n_unity++] = u;
}

int host_ivrs_linux_run(struct host_ivrs_linux *lx, const uint8_t *bytes, size_t len,
                        const struct host_ivrs *t, const struct host_kver *kv,
                        struct pcilab_err *err)
{
    if (!lx || !t || !kv)
        return pcilab_errf(err, PCILAB_EINVAL, "IVRS: bad arguments to host_ivrs_linux_run");
    /* everything zero but the 768 KiB of dev[], which the loop writes whole
     * (one pass over it instead of two) */
    memset(lx, 0, offsetof(struct host_ivrs_linux, dev));
    memset(&lx->iommus, 0, sizeof *lx - offsetof(struct host_ivrs_linux, iommus));
    lx->kver = kv;
    for (uint32_t d = 0; d <= 0xffff; d++) /* "let all alias entries point to itself" */
        lx->dev[d] = (struct host_ivrs_devid){.iommu = -1, .alias = (uint16_t)d};

    /* check_ivrs_checksum over table->length bytes */
    if (!bytes || !host_ivrs_checksum_ok(bytes, len)) {
        if (kv->ivrs_pr_fmt)
            klog(lx, 3, "AMD-Vi: [Firmware Bug]: IVRS invalid checksum");
        else
            klog(lx, 3, "[Firmware Bug]: AMD-Vi: IVRS invalid checksum");
        snprintf(lx->note, sizeof lx->note, "bad IVRS checksum: AMD-Vi is not used");
        return 0;
    }
    if (t->n_blocks == 0) {
        snprintf(lx->note, sizeof lx->note, "IVRS has no subtable: no IOMMU");
        return 0;
    }

    /* get_highest_supported_ivhd_type: walk while type <= 0x40; the last
     * type whose devid (bytes 4..5, also an IVMD's devid) equals the first
     * subtable's wins. */
    {
        const struct host_ivrs_block *b0 = &t->blocks[0];
        uint8_t last = b0->kind == HOST_IVRS_IVHD ? b0->ivhd.type
                       : b0->kind == HOST_IVRS_IVMD ? b0->ivmd.type : b0->raw[0];
        uint16_t devid0 = b0->kind == HOST_IVRS_IVHD ? b0->ivhd.devid
                          : b0->kind == HOST_IVRS_IVMD ? b0->ivmd.devid
                          : (b0->raw_len >= 6 ? host_acpi_get16(b0->raw + 4) : 0);
        for (size_t i = 0; i < t->n_blocks; i++) {
            const struct host_ivrs_block *b = &t->blocks[i];
            uint8_t type = b->kind == HOST_IVRS_IVHD ? b->ivhd.type
                           : b->kind == HOST_IVRS_IVMD ? b->ivmd.type : b->raw[0];
            uint16_t devid = b->kind == HOST_IVRS_IVHD ? b->ivhd.devid
                             : b->kind == HOST_IVRS_IVMD ? b->ivmd.devid
                             : (b->raw_len >= 6 ? host_acpi_get16(b->raw + 4) : 0);
            if (type > 0x40)
                break;
            if (devid == devid0)
                last = type;
        }
        lx->target_type = last;
    }

    /* find_last_devid_acpi: every subtable of the target type is an IVHD to
     * Linux; a type it cannot size stops AMD-Vi. */
    bool any = false;
    uint16_t last_bdf = 0;
    for (size_t i = 0; i < t->n_blocks; i++) {
        const struct host_ivrs_block *b = &t->blocks[i];
        uint8_t type = b->kind == HOST_IVRS_IVHD ? b->ivhd.type
                       : b->kind == HOST_IVRS_IVMD ? b->ivmd.type : b->raw[0];
        if (type != lx->target_type)
            continue;
        if (b->kind != HOST_IVRS_IVHD) {
            klog(lx, 3, "AMD-Vi: Unsupported IVHD type %#x", type);
            snprintf(lx->note, sizeof lx->note,
                     "the IVHD type Linux chose (0x%02x) is not an IVHD: AMD-Vi is not used",
                     type);
            return 0;
        }
        if (b->ivhd.segment != 0 && kv->ivrs_per_segment)
            continue; /* 6.1 keeps one table per segment; we model segment 0 only.
                       * Before 6.1 the segment is ignored: all go into one table. */
        long ld = ivhd_last_devid(b);
        if (ld < 0 && kv->ivrs_empty_ivhd_fails) {
            snprintf(lx->note, sizeof lx->note,
                     "IVHD %zu has no device entry: 6.1 find_last_devid_from_ivhd() returns "
                     "-EINVAL and AMD-Vi is not used", i);
            return 0;
        }
        if (ld > last_bdf)
            last_bdf = (uint16_t)ld;
        any = true;
    }
    lx->last_bdf = last_bdf;
    if (!any) {
        snprintf(lx->note, sizeof lx->note, "no IVHD of type 0x%02x on segment 0",
                 lx->target_type);
        return 0;
    }

    /* init_iommu_all / init_iommu_one / init_iommu_from_acpi */
    for (size_t i = 0; i < t->n_blocks; i++) {
        const struct host_ivrs_block *b = &t->blocks[i];
        if (b->kind != HOST_IVRS_IVHD || b->ivhd.type != lx->target_type ||
            (b->ivhd.segment != 0 && kv->ivrs_per_segment))
            continue;
        if (lx->n_iommus >= HOST_IVRS_MAX_IOMMUS) {
            snprintf(lx->note, sizeof lx->note,
                     "more than 32 IOMMUs: WARN \"System has more IOMMUs than supported by "
                     "this driver\" and AMD-Vi is not used");
            return 0;
        }
        int idx = (int)lx->n_iommus++;
        struct host_ivrs_iommu *io = &lx->iommus[idx];
        io->type = b->ivhd.type;
        io->flags = b->ivhd.flags;
        io->devid = b->ivhd.devid;
        io->cap_offset = b->ivhd.cap_offset;
        io->segment = b->ivhd.segment;
        io->info = b->ivhd.info;
        io->mmio_base = b->ivhd.mmio_base;
        io->feature = b->ivhd.feature;
        io->efr = b->ivhd.efr;
        if (init_from_acpi(lx, b, idx, b->ivhd.type) < 0)
            return 0;
        /* "Make sure IOMMU is not considered to translate itself." */
        lx->dev[b->ivhd.devid].iommu = -1;
    }

    /* init_memory_definitions: every subtable's flags are looked at; only
     * IVMD types do anything. */
    for (size_t i = 0; i < t->n_blocks; i++) {
        const struct host_ivrs_block *b = &t->blocks[i];
        if (b->kind != HOST_IVRS_IVMD)
            continue;
        const struct host_ivmd *m = &b->ivmd;
        if (kv->ivrs_excl_as_unity) {
            if (m->flags & (HOST_IVMD_FLAG_UNITY | HOST_IVMD_FLAG_EXCL))
                ivmd_unity(lx, m);
        } else if (m->flags & HOST_IVMD_FLAG_EXCL) {
            if (m->type == HOST_IVMD_TYPE_SELECT)
                ivmd_4x_exclusion(lx, m->devid, m);
            else if (m->type == HOST_IVMD_TYPE_ALL)
                for (uint32_t d = 0; d <= lx->last_bdf; d++)
                    ivmd_4x_exclusion(lx, (uint16_t)d, m);
            else
                for (uint32_t d = m->devid; d <= m->aux; d++)
                    ivmd_4x_exclusion(lx, (uint16_t)d, m);
        } else if (m->flags & HOST_IVMD_FLAG_UNITY) {
            ivmd_unity(lx, m);
        }
    }
    lx->enabled = true;
    return 0;
}

bool host_ivrs_linux_check_ioapics(struct host_ivrs_linux *lx, const uint8_t *ids, size_t n)
{
    /* check_ioapic_information; IOAPIC_SB_DEVID = 00:14.0 */
    const uint16_t sb = (0x14 << 3);
    bool ret = false, has_sb = false;
    bool v5 = lx->kver->ivrs_pr_fmt;
    for (size_t i = 0; i < n; i++) {
        long devid = -1;
        for (size_t s = 0; s < lx->n_special; s++)
            if (lx->special[s].variety == HOST_IVHD_SPECIAL_IOAPIC && lx->special[s].handle == ids[i])
                devid = lx->special[s].devid;
        if (devid < 0) {
            if (v5)
                klog(lx, 3, "AMD-Vi: [Firmware Bug]: : IOAPIC[%d] not in IVRS table", ids[i]);
            else
                klog(lx, 3, "[Firmware Bug]: AMD-Vi: IOAPIC[%d] not in IVRS table", ids[i]);
            ret = false;
        } else if (devid == sb) {
            has_sb = true;
            ret = true;
        }
    }
    if (!has_sb) {
        if (v5)
            klog(lx, 3, "AMD-Vi: [Firmware Bug]: : No southbridge IOAPIC found");
        else
            klog(lx, 3, "[Firmware Bug]: AMD-Vi: No southbridge IOAPIC found");
    }
    if (!ret)
        klog(lx, 3, "AMD-Vi: Disabling interrupt remapping");
    return ret;
}
