/* ACPI DMAR: description, encoder, parser and the default tables (dmar.h).
 * Layouts: VT-d specification chapter 8; ACPI 6.4 5.2.6 for the header. */
#include "host/dmar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/bytes.h"

/* ---- scopes and structures -------------------------------------------------- */

struct host_dmar_scope host_dmar_scope1(uint8_t type, uint8_t enum_id, uint8_t bus, uint8_t dev,
                                        uint8_t fn)
{
    struct host_dmar_scope s;
    memset(&s, 0, sizeof s);
    s.type = type;
    s.enum_id = enum_id;
    s.bus = bus;
    s.npath = 1;
    s.path[0].dev = dev;
    s.path[0].fn = fn;
    return s;
}

size_t host_dmar_scope_len(const struct host_dmar_scope *s) { return 6u + 2u * s->npath; }

/* The fixed part of each type (VT-d 8.3 .. 8.8); scopes or the name follow. */
static size_t fixed_len(uint16_t type)
{
    switch (type) {
    case HOST_DMAR_DRHD: return 16; /* 8.3 */
    case HOST_DMAR_RMRR: return 24; /* 8.4 */
    case HOST_DMAR_ATSR: return 8;  /* 8.5 */
    case HOST_DMAR_RHSA: return 20; /* 8.6 */
    case HOST_DMAR_ANDD: return 8;  /* 8.7 */
    case HOST_DMAR_SATC: return 8;  /* 8.8 */
    default: return 0;
    }
}

static bool has_scopes(uint16_t type)
{
    return type == HOST_DMAR_DRHD || type == HOST_DMAR_RMRR || type == HOST_DMAR_ATSR ||
           type == HOST_DMAR_SATC;
}

const char *host_dmar_type_name(uint16_t type, char *buf, size_t len)
{
    static const char *const names[] = {"DRHD", "RMRR", "ATSR", "RHSA", "ANDD", "SATC"};
    if (type < 6)
        return names[type];
    snprintf(buf, len, "type %u", type);
    return buf;
}

struct host_dmar *host_dmar_create(void)
{
    struct host_dmar *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    host_acpi_header_set(&t->hdr, 1, "PCILAB", "PCILABDM", 1, "PCLB", 1);
    t->haw = 38;
    return t;
}

void host_dmar_destroy(struct host_dmar *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->s[i].scopes);
        free(t->s[i].name);
        free(t->s[i].raw);
    }
    free(t->s);
    free(t);
}

static struct host_dmar_struct *new_struct(struct host_dmar *t, uint16_t type,
                                           struct pcilab_err *err)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        struct host_dmar_struct *s = realloc(t->s, cap * sizeof *s);
        if (!s) {
            pcilab_errf(err, PCILAB_ENOMEM, "DMAR: out of memory for structure %zu", t->n);
            return NULL;
        }
        t->s = s;
        t->cap = cap;
    }
    struct host_dmar_struct *s = &t->s[t->n++];
    memset(s, 0, sizeof *s);
    s->type = type;
    return s;
}

int host_dmar_add_drhd(struct host_dmar *t, uint8_t flags, uint16_t segment, uint64_t base,
                       struct pcilab_err *err)
{
    struct host_dmar_struct *s = new_struct(t, HOST_DMAR_DRHD, err);
    if (!s)
        return -PCILAB_ENOMEM;
    s->flags = flags;
    s->segment = segment;
    s->base = base;
    return (int)(t->n - 1);
}

int host_dmar_add_rmrr(struct host_dmar *t, uint16_t segment, uint64_t base, uint64_t limit,
                       struct pcilab_err *err)
{
    struct host_dmar_struct *s = new_struct(t, HOST_DMAR_RMRR, err);
    if (!s)
        return -PCILAB_ENOMEM;
    s->segment = segment;
    s->base = base;
    s->limit = limit;
    return (int)(t->n - 1);
}

int host_dmar_add_atsr(struct host_dmar *t, uint8_t flags, uint16_t segment,
                       struct pcilab_err *err)
{
    struct host_dmar_struct *s = new_struct(t, HOST_DMAR_ATSR, err);
    if (!s)
        return -PCILAB_ENOMEM;
    s->flags = flags;
    s->segment = segment;
    return (int)(t->n - 1);
}

int host_dmar_add_rhsa(struct host_dmar *t, uint64_t base, uint32_t proximity,
                       struct pcilab_err *err)
{
    struct host_dmar_struct *s = new_struct(t, HOST_DMAR_RHSA, err);
    if (!s)
        return -PCILAB_ENOMEM;
    s->base = base;
    s->proximity = proximity;
    return (int)(t->n - 1);
}

static int set_name(struct host_dmar *t, struct host_dmar_struct *s, const uint8_t *name,
                    size_t len, struct pcilab_err *err)
{
    if (fixed_len(HOST_DMAR_ANDD) + len > 0xffff) {
        t->n--;
        return pcilab_errf(err, PCILAB_ERANGE, "DMAR: ANDD object name of %zu bytes is too long",
                           len);
    }
    s->name = malloc(len ? len : 1);
    if (!s->name) {
        t->n--;
        return pcilab_errf(err, PCILAB_ENOMEM, "DMAR: out of memory for an ANDD name");
    }
    memcpy(s->name, name, len);
    s->name_len = len;
    return (int)(t->n - 1);
}

int host_dmar_add_andd(struct host_dmar *t, uint8_t device_number, const char *name,
                       struct pcilab_err *err)
{
    struct host_dmar_struct *s = new_struct(t, HOST_DMAR_ANDD, err);
    if (!s)
        return -PCILAB_ENOMEM;
    s->device_number = device_number;
    return set_name(t, s, (const uint8_t *)name, strlen(name) + 1, err);
}

int host_dmar_add_satc(struct host_dmar *t, uint8_t flags, uint16_t segment,
                       struct pcilab_err *err)
{
    struct host_dmar_struct *s = new_struct(t, HOST_DMAR_SATC, err);
    if (!s)
        return -PCILAB_ENOMEM;
    s->flags = flags;
    s->segment = segment;
    return (int)(t->n - 1);
}

int host_dmar_add_raw(struct host_dmar *t, const uint8_t *bytes, size_t len,
                      struct pcilab_err *err)
{
    if (len < 4 || len > 0xffff || host_acpi_get16(bytes + 2) != len || host_acpi_get16(bytes) < 6)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "DMAR: a raw structure needs a reserved type (6 and up) at bytes 0..1 "
                           "and its own length at bytes 2..3 (%zu bytes given)", len);
    struct host_dmar_struct *s = new_struct(t, host_acpi_get16(bytes), err);
    if (!s)
        return -PCILAB_ENOMEM;
    s->raw = malloc(len);
    if (!s->raw) {
        t->n--;
        return pcilab_errf(err, PCILAB_ENOMEM, "DMAR: out of memory for a raw structure");
    }
    memcpy(s->raw, bytes, len);
    s->raw_len = len;
    return (int)(t->n - 1);
}

int host_dmar_add_scope(struct host_dmar *t, size_t i, const struct host_dmar_scope *sc,
                        struct pcilab_err *err)
{
    char nb[16];
    if (i >= t->n || !has_scopes(t->s[i].type))
        return pcilab_errf(err, PCILAB_EINVAL, "DMAR: structure %zu (%s) has no device scopes",
                           i, i < t->n ? host_dmar_type_name(t->s[i].type, nb, sizeof nb) : "none");
    if (sc->npath > HOST_DMAR_MAX_PATH)
        return pcilab_errf(err, PCILAB_ERANGE, "DMAR: a device scope path of %u entries (at most %u)",
                           sc->npath, HOST_DMAR_MAX_PATH);
    struct host_dmar_struct *s = &t->s[i];
    if (s->n_scopes == s->cap_scopes) {
        size_t cap = s->cap_scopes ? 2 * s->cap_scopes : 4;
        struct host_dmar_scope *n = realloc(s->scopes, cap * sizeof *n);
        if (!n)
            return pcilab_errf(err, PCILAB_ENOMEM, "DMAR: out of memory for device scopes");
        s->scopes = n;
        s->cap_scopes = cap;
    }
    s->scopes[s->n_scopes++] = *sc;
    return 0;
}

/* ---- encoder --------------------------------------------------------------- */

static long struct_len(const struct host_dmar_struct *s, size_t index, struct pcilab_err *err)
{
    if (s->raw)
        return (long)s->raw_len;
    size_t n = fixed_len(s->type);
    if (!n)
        return pcilab_errf(err, PCILAB_EINVAL, "DMAR: structure %zu: type %u has no layout",
                           index, s->type);
    if (s->type == HOST_DMAR_ANDD)
        n += s->name_len;
    for (size_t k = 0; k < s->n_scopes; k++)
        n += host_dmar_scope_len(&s->scopes[k]);
    if (n > 0xffff)
        return pcilab_errf(err, PCILAB_ERANGE,
                           "DMAR: structure %zu is %zu bytes, more than its 16-bit Length holds",
                           index, n);
    return (long)n;
}

long host_dmar_encoded_len(const struct host_dmar *t, struct pcilab_err *err)
{
    uint64_t n = HOST_DMAR_HEADER_LEN;
    for (size_t i = 0; i < t->n; i++) {
        long l = struct_len(&t->s[i], i, err);
        if (l < 0)
            return l;
        n += (uint64_t)l;
    }
    if (n > 0xffffffffu)
        return pcilab_errf(err, PCILAB_ERANGE, "DMAR: table over 4 GiB");
    return (long)n;
}

static size_t encode_scope(const struct host_dmar_scope *sc, uint8_t *p)
{
    /* VT-d 8.3.1 Device Scope Structure */
    size_t len = host_dmar_scope_len(sc);
    p[0] = sc->type;          /* Type */
    p[1] = (uint8_t)len;      /* Length */
    p[2] = sc->flags;         /* Flags (Reserved before 3.x) */
    p[3] = sc->reserved;      /* Reserved */
    p[4] = sc->enum_id;       /* Enumeration ID */
    p[5] = sc->bus;           /* Start Bus Number */
    for (unsigned k = 0; k < sc->npath; k++) {
        p[6 + 2 * k] = sc->path[k].dev;     /* Path: Device */
        p[7 + 2 * k] = sc->path[k].fn;      /* Path: Function */
    }
    return len;
}

long host_dmar_encode(const struct host_dmar *t, uint8_t *buf, size_t cap, struct pcilab_err *err)
{
    long total = host_dmar_encoded_len(t, err);
    if (total < 0)
        return total;
    if ((size_t)total > cap)
        return pcilab_errf(err, PCILAB_ERANGE, "DMAR: %ld bytes do not fit in %zu", total, cap);
    uint8_t *p = buf;
    host_acpi_header_encode(&t->hdr, "DMAR", (uint32_t)total, p); /* ACPI 6.4 5.2.6 */
    p[36] = t->haw;                     /* 8.1 Host Address Width */
    p[37] = t->flags;                   /* 8.1 Flags */
    memcpy(p + 38, t->reserved, 10);    /* 8.1 Reserved */
    p += HOST_DMAR_HEADER_LEN;
    for (size_t i = 0; i < t->n; i++) {
        const struct host_dmar_struct *s = &t->s[i];
        long l = struct_len(s, i, err);
        if (s->raw) {
            memcpy(p, s->raw, s->raw_len);
            p += l;
            continue;
        }
        memset(p, 0, fixed_len(s->type));
        host_acpi_put16(p, s->type);               /* 8.2: Type */
        host_acpi_put16(p + 2, (uint16_t)l);       /* 8.2: Length */
        switch (s->type) {
        case HOST_DMAR_DRHD:            /* 8.3 */
            p[4] = s->flags;            /* Flags: INCLUDE_PCI_ALL */
            p[5] = (uint8_t)s->reserved;/* Size (3.x) / Reserved */
            host_acpi_put16(p + 6, s->segment);    /* Segment Number */
            sim_put_le64(p + 8, s->base);       /* Register Base Address */
            break;
        case HOST_DMAR_RMRR:            /* 8.4 */
            host_acpi_put16(p + 4, (uint16_t)s->reserved); /* Reserved */
            host_acpi_put16(p + 6, s->segment);    /* Segment Number */
            sim_put_le64(p + 8, s->base);       /* Reserved Memory Region Base Address */
            sim_put_le64(p + 16, s->limit);     /* Reserved Memory Region Limit Address */
            break;
        case HOST_DMAR_ATSR:            /* 8.5 */
        case HOST_DMAR_SATC:            /* 8.8 */
            p[4] = s->flags;            /* Flags: ALL_PORTS / ATC_REQUIRED */
            p[5] = (uint8_t)s->reserved;
            host_acpi_put16(p + 6, s->segment);    /* Segment Number */
            break;
        case HOST_DMAR_RHSA:            /* 8.6 */
            sim_put_le32(p + 4, s->reserved);   /* Reserved */
            sim_put_le64(p + 8, s->base);       /* Register Base Address */
            sim_put_le32(p + 16, s->proximity); /* Proximity Domain */
            break;
        case HOST_DMAR_ANDD:            /* 8.7 */
            p[4] = (uint8_t)s->reserved;        /* Reserved (3 bytes) */
            p[5] = (uint8_t)(s->reserved >> 8);
            p[6] = (uint8_t)(s->reserved >> 16);
            p[7] = s->device_number;    /* ACPI Device Number */
            memcpy(p + 8, s->name, s->name_len); /* ACPI Object Name */
            break;
        default:
            break;
        }
        size_t off = fixed_len(s->type) + (s->type == HOST_DMAR_ANDD ? s->name_len : 0);
        for (size_t k = 0; k < s->n_scopes; k++)
            off += encode_scope(&s->scopes[k], p + off);
        p += l;
    }
    host_acpi_checksum_fill(&t->hdr, buf, (size_t)total);
    return total;
}

bool host_dmar_checksum_ok(const uint8_t *bytes, size_t len)
{
    return host_acpi_checksum_ok(bytes, len);
}

/* ---- parser ---------------------------------------------------------------- */

static int parse_scopes(struct host_dmar *t, size_t si, const uint8_t *p, size_t len, size_t at,
                        struct pcilab_err *err)
{
    char nb[16];
    const char *what = host_dmar_type_name(t->s[si].type, nb, sizeof nb);
    size_t off = fixed_len(t->s[si].type);
    for (unsigned k = 0; off < len; k++) {
        const uint8_t *e = p + off;
        if (len - off < 2)
            return pcilab_errf(err, PCILAB_EMALFORMED,
                               "DMAR: %s at offset %zu: device scope %u at offset %zu: %zu byte "
                               "left, too few for its Type and Length", what, at, k, at + off,
                               len - off);
        uint8_t sl = e[1];
        if (sl < 6 || (sl - 6) % 2)
            return pcilab_errf(err, PCILAB_EMALFORMED,
                               "DMAR: %s at offset %zu: device scope %u at offset %zu: Length %u "
                               "is not 6 + 2 x path entries (VT-d 8.3.1)", what, at, k, at + off,
                               sl);
        if (off + sl > len)
            return pcilab_errf(err, PCILAB_EMALFORMED,
                               "DMAR: %s at offset %zu: device scope %u at offset %zu: Length %u "
                               "runs past the structure's end (%zu bytes left)", what, at, k,
                               at + off, sl, len - off);
        if ((sl - 6u) / 2u > HOST_DMAR_MAX_PATH)
            return pcilab_errf(err, PCILAB_EMALFORMED,
                               "DMAR: %s at offset %zu: device scope %u at offset %zu: a path of "
                               "%u entries (pcilab reads at most %u)", what, at, k, at + off,
                               (sl - 6u) / 2u, HOST_DMAR_MAX_PATH);
        struct host_dmar_scope sc;
        memset(&sc, 0, sizeof sc);
        sc.type = e[0];
        sc.flags = e[2];
        sc.reserved = e[3];
        sc.enum_id = e[4];
        sc.bus = e[5];
        sc.npath = (uint8_t)((sl - 6) / 2);
        for (unsigned j = 0; j < sc.npath; j++) {
            sc.path[j].dev = e[6 + 2 * j];
            sc.path[j].fn = e[7 + 2 * j];
        }
        int r = host_dmar_add_scope(t, si, &sc, err);
        if (r < 0)
            return r;
        off += sl;
    }
    return 0;
}

int host_dmar_parse(const uint8_t *bytes, size_t len, struct host_dmar **out,
                    struct pcilab_err *err)
{
    *out = NULL;
    if (!bytes || len < HOST_DMAR_HEADER_LEN)
        return pcilab_errf(err, PCILAB_EMALFORMED,
                           "DMAR: %zu bytes, fewer than the 48-byte header (VT-d 8.1)", len);
    if (memcmp(bytes, "DMAR", 4) != 0)
        return pcilab_errf(err, PCILAB_EMALFORMED,
                           "DMAR: Signature is \"%.4s\", not \"DMAR\"", (const char *)bytes);
    uint32_t tlen = sim_get_le32(bytes + 4);
    if (tlen < HOST_DMAR_HEADER_LEN || tlen > len)
        return pcilab_errf(err, PCILAB_EMALFORMED,
                           "DMAR: Length %u is %s", tlen,
                           tlen < HOST_DMAR_HEADER_LEN ? "shorter than the 48-byte header"
                                                       : "longer than the bytes given");
    struct host_dmar *t = host_dmar_create();
    if (!t)
        return pcilab_errf(err, PCILAB_ENOMEM, "DMAR: out of memory");
    host_acpi_header_decode(bytes, tlen, &t->hdr);
    t->haw = bytes[36];
    t->flags = bytes[37];
    memcpy(t->reserved, bytes + 38, 10);
    size_t off = HOST_DMAR_HEADER_LEN;
    int r = 0;
    char nb[16];
    while (off < tlen) {
        const uint8_t *p = bytes + off;
        if (tlen - off < 4) {
            r = pcilab_errf(err, PCILAB_EMALFORMED,
                            "DMAR: structure %zu at offset %zu: %zu bytes left, too few for its "
                            "Type and Length (VT-d 8.2)", t->n, off, (size_t)(tlen - off));
            break;
        }
        uint16_t type = host_acpi_get16(p), sl = host_acpi_get16(p + 2);
        const char *what = host_dmar_type_name(type, nb, sizeof nb);
        if (sl < 4 || off + sl > tlen) {
            r = pcilab_errf(err, PCILAB_EMALFORMED,
                            "DMAR: %s at offset %zu: Length %u %s", what, off, sl,
                            sl < 4 ? "is shorter than its Type and Length (Linux stops at a "
                                     "0-length structure)"
                                   : "runs past the table's Length");
            break;
        }
        if (type >= 6) {
            r = host_dmar_add_raw(t, p, sl, err);
            if (r < 0)
                break;
            off += sl;
            continue;
        }
        size_t fl = fixed_len(type);
        if (sl < fl) {
            r = pcilab_errf(err, PCILAB_EMALFORMED,
                            "DMAR: %s at offset %zu: Length %u is shorter than its %zu-byte fixed "
                            "part", what, off, sl, fl);
            break;
        }
        struct host_dmar_struct *s = new_struct(t, type, err);
        if (!s) {
            r = -PCILAB_ENOMEM;
            break;
        }
        size_t si = t->n - 1;
        switch (type) {
        case HOST_DMAR_DRHD:
            s->flags = p[4];
            s->reserved = p[5];
            s->segment = host_acpi_get16(p + 6);
            s->base = sim_get_le64(p + 8);
            break;
        case HOST_DMAR_RMRR:
            s->reserved = host_acpi_get16(p + 4);
            s->segment = host_acpi_get16(p + 6);
            s->base = sim_get_le64(p + 8);
            s->limit = sim_get_le64(p + 16);
            break;
        case HOST_DMAR_ATSR:
        case HOST_DMAR_SATC:
            s->flags = p[4];
            s->reserved = p[5];
            s->segment = host_acpi_get16(p + 6);
            break;
        case HOST_DMAR_RHSA:
            if (sl != fl) {
                r = pcilab_errf(err, PCILAB_EMALFORMED,
                                "DMAR: RHSA at offset %zu: Length %u is not 20 (VT-d 8.6)", off,
                                sl);
                break;
            }
            s->reserved = sim_get_le32(p + 4);
            s->base = sim_get_le64(p + 8);
            s->proximity = sim_get_le32(p + 16);
            break;
        case HOST_DMAR_ANDD:
            s->reserved = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16;
            s->device_number = p[7];
            r = set_name(t, s, p + 8, sl - 8u, err);
            if (r >= 0)
                r = 0;
            break;
        }
        if (r < 0)
            break;
        if (has_scopes(type) && (r = parse_scopes(t, si, p, sl, off, err)) < 0)
            break;
        off += sl;
    }
    if (r < 0) {
        host_dmar_destroy(t);
        return r;
    }
    *out = t;
    return 0;
}

/* ---- default tables ------------------------------------------------------- */

static int scope_to(struct host_dmar *t, int i, struct host_dmar_scope s, struct pcilab_err *err)
{
    return i < 0 ? i : host_dmar_add_scope(t, (size_t)i, &s, err);
}

int host_dmar_build_q35(struct host_dmar *t, const struct host_dmar_q35 *q,
                        struct pcilab_err *err)
{
    /* hw/i386/acpi-build.c build_dmar_q35 and acpi_table_begin (x86ms
     * oem_id "BOCHS ", oem_table_id "BXPC    ", creator "BXPC" 1) */
    host_acpi_header_set(&t->hdr, 1, "BOCHS ", "BXPC    ", 1, "BXPC", 1);
    t->haw = (uint8_t)((q->aw_bits ? q->aw_bits : 39) - 1);
    t->flags = q->intr_remap ? HOST_DMAR_INTR_REMAP : 0;
    int d = host_dmar_add_drhd(t, q->include_pci_all ? HOST_DRHD_INCLUDE_PCI_ALL : 0, 0,
                               0xfed90000ull /* Q35_HOST_BRIDGE_IOMMU_ADDR */, err);
    /* the root complex IOAPIC: ACPI_BUILD_IOAPIC_ID 0, Q35_PSEUDO_BUS_PLATFORM
     * 0xff, Q35_PSEUDO_DEVFN_IOAPIC 0x00 */
    int r = scope_to(t, d, host_dmar_scope1(HOST_DMAR_SCOPE_IOAPIC, 0, 0xff, 0, 0), err);
    for (size_t i = 0; r == 0 && !q->include_pci_all && i < q->n_devs; i++) {
        const struct host_dmar_dev *v = &q->devs[i];
        r = scope_to(t, d,
                     host_dmar_scope1(v->bridge ? HOST_DMAR_SCOPE_BRIDGE : HOST_DMAR_SCOPE_ENDPOINT,
                                      0, v->bus, v->dev, v->fn), err);
    }
    if (r == 0 && q->device_iotlb)
        r = host_dmar_add_atsr(t, HOST_ATSR_ALL_PORTS, 0, err) < 0 ? -PCILAB_ENOMEM : 0;
    return r;
}

int host_dmar_build_client(struct host_dmar *t, const struct host_dmar_client *c,
                           struct pcilab_err *err)
{
    host_acpi_header_set(&t->hdr, 1, "INTEL ", "EDK2    ", 2, "INTL", 0x01000013);
    t->haw = 38;
    t->flags = HOST_DMAR_INTR_REMAP | HOST_DMAR_DMA_CTRL_PLATFORM_OPT_IN;
    uint64_t ub = c && c->usb_rmrr_limit ? c->usb_rmrr_base : 0x7b7f9000ull;
    uint64_t ul = c && c->usb_rmrr_limit ? c->usb_rmrr_limit : 0x7b818fffull;
    uint64_t gb = c && c->gfx_rmrr_limit ? c->gfx_rmrr_base : 0x7d000000ull;
    uint64_t gl = c && c->gfx_rmrr_limit ? c->gfx_rmrr_limit : 0x7f7fffffull;
    int d0 = host_dmar_add_drhd(t, 0, 0, 0xfed90000ull, err);
    int r = scope_to(t, d0, host_dmar_scope1(HOST_DMAR_SCOPE_ENDPOINT, 0, 0, 2, 0), err);
    int d1 = r < 0 ? r : host_dmar_add_drhd(t, HOST_DRHD_INCLUDE_PCI_ALL, 0, 0xfed91000ull, err);
    if (r == 0)
        r = scope_to(t, d1, host_dmar_scope1(HOST_DMAR_SCOPE_IOAPIC, 2, 0xf0, 0x1f, 0), err);
    if (r == 0)
        r = scope_to(t, d1, host_dmar_scope1(HOST_DMAR_SCOPE_HPET, 0, 0x00, 0x1f, 0), err);
    int u = r < 0 ? r : host_dmar_add_rmrr(t, 0, ub, ul, err);
    if (r == 0)
        r = scope_to(t, u, host_dmar_scope1(HOST_DMAR_SCOPE_ENDPOINT, 0, 0, 0x14, 0), err);
    int g = r < 0 ? r : host_dmar_add_rmrr(t, 0, gb, gl, err);
    if (r == 0)
        r = scope_to(t, g, host_dmar_scope1(HOST_DMAR_SCOPE_ENDPOINT, 0, 0, 2, 0), err);
    return r;
}
