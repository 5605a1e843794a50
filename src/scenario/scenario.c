/* Scenario reader: YAML tree (scenario/yaml.c) -> struct scn_machine, strictly.
 * The format is documented in docs/scenario-format.md; hardware rules follow the
 * PCI Express Base Specification 5.0 (PCIe 5.0). */
#include "scenario/scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "drivers/drivers.h"
#include "host/kver.h"
#include "pcie/caps.h"
#include "pcie/cfgdump.h"
#include "scenario/builtin.h"
#include "scenario/yaml.h"
#include "sim/text.h"

/* ------------------------------------------------------------------------ */
/* names                                                                      */

static const char *const kind_names[SCN_KIND_COUNT] = {
    "host_bridge", "integrated", "rciep", "root_port",
    "upstream_port", "downstream_port", "endpoint", "legacy_endpoint",
};

/* Device/Port Type per kind, PCIe 5.0 7.5.3.2 bits 7:4 (0xff: no PCIe capability). */
static const uint8_t kind_port_type[SCN_KIND_COUNT] = {
    0xff, 0xff, 0x9, 0x4, 0x5, 0x6, 0x0, 0x1,
};

static const char *const cap_names[SCN_CAP_COUNT] = {
    "pm", "msi", "msix", "pcie", "iommu", "aer", "acs",
};

/* Bytes each capability structure occupies, for the overlap check. */
static const uint16_t cap_sizes[SCN_CAP_COUNT] = {
    8,    /* PM: header, PMC, PMCSR, data (PCI PM 1.2 3.2) */
    24,   /* MSI: largest layout, 64-bit with per-vector masking (PCIe 5.0 7.7.1) */
    12,   /* MSI-X (7.7.2) */
    60,   /* PCI Express capability up to Slot Status 2 (7.5.3) */
    20,   /* AMD IOMMU capability block: header, base low/high, range, misc 0 (AMD 48882 3.2.1) */
    0x48, /* AER with the TLP Prefix Log (7.8.4) */
    8,    /* ACS without the egress control vector (7.7.8) */
};

const char *scn_kind_name(enum scn_kind k)
{
    return (unsigned)k < SCN_KIND_COUNT ? kind_names[k] : "?";
}

const char *scn_cap_name(enum scn_cap c)
{
    return (unsigned)c < SCN_CAP_COUNT ? cap_names[c] : "?";
}

const char *scn_bar_type_name(enum scn_bar_type t)
{
    switch (t) {
    case SCN_BAR_MEM32: return "mem32";
    case SCN_BAR_MEM64: return "mem64";
    case SCN_BAR_IO: return "io";
    default: return "none";
    }
}

/* "an endpoint", "a root_port": the kind with its article, for messages. */
static const char *a_kind(enum scn_kind k)
{
    static const char *const a[SCN_KIND_COUNT] = {
        "a host_bridge", "an integrated function", "an rciep", "a root_port",
        "an upstream_port", "a downstream_port", "an endpoint", "a legacy_endpoint",
    };
    return (unsigned)k < SCN_KIND_COUNT ? a[k] : "?";
}

static bool kind_is_bridge(enum scn_kind k)
{
    return k == SCN_ROOT_PORT || k == SCN_UPSTREAM_PORT || k == SCN_DOWNSTREAM_PORT;
}

static bool cap_is_extended(enum scn_cap c)
{
    return c == SCN_CAP_AER || c == SCN_CAP_ACS;
}

/* ------------------------------------------------------------------------ */
/* parsing context and error helpers                                         */

struct scn_dumpfile {
    char path[2 * SCN_PATH_MAX];
    struct pcie_dump d;
};

struct ctx {
    const char *file;
    const char *dir;      /* folder for relative config_from paths ("" = current) */
    struct pcilab_err *err;
    struct scn_machine *m;
    size_t funcs_cap;
    struct scn_dumpfile dumps[8]; /* dumps read so far (config_from, machine_from) */
    size_t ndumps;
    const struct scn_ynode *machine_from; /* the machine_from node, or NULL */
    unsigned depth;       /* how many `base:` scenarios load this one (0: the one asked for) */
};

__attribute__((format(printf, 4, 5)))
static int fail(struct ctx *c, const struct scn_ynode *n, int code, const char *fmt, ...)
{
    char msg[sizeof c->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pcilab_err_at(c->err, code, c->file, n ? n->line : 0, n ? n->col : 0, "%s", msg);
}

static struct scn_ynode *map_get(const struct scn_ynode *map, const char *key)
{
    for (size_t i = 0; i + 1 < map->nkids; i += 2)
        if (!strcmp(map->kids[i]->text, key))
            return map->kids[i + 1];
    return NULL;
}

static struct scn_ynode *map_key(const struct scn_ynode *map, const char *key)
{
    for (size_t i = 0; i + 1 < map->nkids; i += 2)
        if (!strcmp(map->kids[i]->text, key))
            return map->kids[i];
    return NULL;
}

/* Checks that n is a mapping whose keys are all in `known` (NULL-terminated) and
 * appear once. `what` names the mapping in messages. */
static int check_map(struct ctx *c, const struct scn_ynode *n, const char *what,
                     const char *const *known)
{
    char d[64];
    if (n->type != SCN_Y_MAP)
        return fail(c, n, PCILAB_EINVAL, "%s must be a mapping, got %s", what,
                    scn_yaml_describe(n, d, sizeof d));
    for (size_t i = 0; i + 1 < n->nkids; i += 2) {
        const struct scn_ynode *k = n->kids[i];
        if (strlen(k->text) != k->len)
            return fail(c, k, PCILAB_EINVAL, "key contains a NUL byte in %s", what);
        bool ok = false;
        for (const char *const *p = known; *p; p++)
            if (!strcmp(*p, k->text))
                ok = true;
        if (!ok) {
            char list[384];
            size_t off = 0;
            list[0] = '\0';
            for (const char *const *p = known; *p && off < sizeof list; p++)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                                        p == known ? "" : ", ", *p);
            return fail(c, k, PCILAB_EINVAL, "unknown key %s in %s (known keys: %s)",
                        scn_yaml_describe(k, d, sizeof d), what, list);
        }
        for (size_t j = 0; j < i; j += 2)
            if (!strcmp(n->kids[j]->text, k->text))
                return fail(c, k, PCILAB_EINVAL, "duplicate key '%s' (first at line %u)",
                            k->text, n->kids[j]->line);
    }
    return 0;
}

static int need(struct ctx *c, const struct scn_ynode *map, const char *what, const char *key,
                struct scn_ynode **out)
{
    *out = map_get(map, key);
    if (!*out)
        return fail(c, map, PCILAB_EINVAL, "%s is missing required key '%s'", what, key);
    return 0;
}

static int want_scalar(struct ctx *c, const struct scn_ynode *n, const char *key,
                       const char *expect)
{
    char d[64];
    if (n->type != SCN_Y_SCALAR || scn_yaml_is_null(n) || strlen(n->text) != n->len)
        return fail(c, n, PCILAB_EINVAL, "'%s' must be %s, got %s", key, expect,
                    scn_yaml_describe(n, d, sizeof d));
    return 0;
}

/* ------------------------------------------------------------------------ */
/* scalar converters                                                          */

/* Decimal or 0x hexadecimal, no sign, no spaces. */
static bool parse_u64(const char *s, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    const char *p = s;
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    const char *digits = p;
    for (;; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (base == 16 && *p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else if (base == 16 && *p >= 'A' && *p <= 'F')
            d = (unsigned)(*p - 'A' + 10);
        else
            break;
        if (v > (UINT64_MAX - d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + d;
    }
    if (p == digits)
        return false;
    *out = v;
    *end = p;
    return true;
}

static void fmt_num(char *buf, size_t len, uint64_t v, bool hex)
{
    if (hex)
        snprintf(buf, len, "0x%" PRIx64, v);
    else
        snprintf(buf, len, "%" PRIu64, v);
}

static int get_uint(struct ctx *c, const struct scn_ynode *n, const char *key, uint64_t min,
                    uint64_t max, bool hex, uint64_t *out)
{
    int rc = want_scalar(c, n, key, "an integer");
    if (rc)
        return rc;
    uint64_t v;
    const char *end;
    if (!parse_u64(n->text, &v, &end) || *end)
        return fail(c, n, PCILAB_EINVAL, "'%s' must be an integer (decimal or 0x hex), got '%s'",
                    key, n->text);
    if (v < min || v > max) {
        char a[32], b[32], x[32];
        fmt_num(a, sizeof a, min, hex);
        fmt_num(b, sizeof b, max, hex);
        fmt_num(x, sizeof x, v, hex);
        return fail(c, n, PCILAB_ERANGE, "'%s' out of range: %s (allowed %s..%s)", key, x, a, b);
    }
    *out = v;
    return 0;
}

/* Optional integer: leaves *out alone when the key is absent. */
#define OPT_UINT(c, map, key, min, max, hex, dst)                                       \
    do {                                                                                \
        struct scn_ynode *n_ = map_get((map), (key));                                   \
        if (n_) {                                                                       \
            uint64_t v_;                                                                \
            int r_ = get_uint((c), n_, (key), (min), (max), (hex), &v_);                \
            if (r_)                                                                     \
                return r_;                                                              \
            (dst) = v_;                                                                 \
        }                                                                               \
    } while (0)

/* Sizes: an integer with an optional binary unit K/M/G/T (also KiB..TiB). */
static int get_size(struct ctx *c, const struct scn_ynode *n, const char *key, uint64_t *out)
{
    int rc = want_scalar(c, n, key, "a size");
    if (rc)
        return rc;
    uint64_t v;
    const char *end;
    if (!parse_u64(n->text, &v, &end))
        return fail(c, n, PCILAB_EINVAL,
                    "'%s' must be a size such as 4096, 0x1000, 4K, 1M or 256M, got '%s'", key,
                    n->text);
    unsigned shift = 0;
    if (*end) {
        static const struct { const char *s; unsigned shift; } units[] = {
            {"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20},
            {"G", 30}, {"GiB", 30}, {"T", 40}, {"TiB", 40},
        };
        bool found = false;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (!strcmp(end, units[i].s)) {
                shift = units[i].shift;
                found = true;
            }
        if (!found)
            return fail(c, n, PCILAB_EINVAL,
                        "'%s' has an unknown unit '%s' (use K, M, G or T: powers of 1024)", key,
                        end);
    }
    if (shift && v > (UINT64_MAX >> shift))
        return fail(c, n, PCILAB_ERANGE, "'%s' does not fit in 64 bits: %s", key, n->text);
    *out = v << shift;
    return 0;
}

static int get_bool(struct ctx *c, const struct scn_ynode *n, const char *key, bool *out)
{
    int rc = want_scalar(c, n, key, "true or false");
    if (rc)
        return rc;
    if (n->plain && (!strcmp(n->text, "true") || !strcmp(n->text, "True") ||
                     !strcmp(n->text, "TRUE"))) {
        *out = true;
        return 0;
    }
    if (n->plain && (!strcmp(n->text, "false") || !strcmp(n->text, "False") ||
                     !strcmp(n->text, "FALSE"))) {
        *out = false;
        return 0;
    }
    return fail(c, n, PCILAB_EINVAL, "'%s' must be true or false, got '%s'", key, n->text);
}

#define OPT_BOOL(c, map, key, dst)                                                      \
    do {                                                                                \
        struct scn_ynode *n_ = map_get((map), (key));                                   \
        if (n_) {                                                                       \
            int r_ = get_bool((c), n_, (key), &(dst));                                  \
            if (r_)                                                                     \
                return r_;                                                              \
        }                                                                               \
    } while (0)

static int get_string(struct ctx *c, const struct scn_ynode *n, const char *key, char *dst,
                      size_t cap)
{
    int rc = want_scalar(c, n, key, "a string");
    if (rc)
        return rc;
    if (n->len >= cap)
        return fail(c, n, PCILAB_EINVAL, "'%s' is too long (%zu bytes, at most %zu)", key, n->len,
                    cap - 1);
    memcpy(dst, n->text, n->len + 1);
    return 0;
}

/* An identifier: letters, digits, '_', '-', '.'; starts with a letter or digit. */
static int get_ident(struct ctx *c, const struct scn_ynode *n, const char *key, char *dst,
                     size_t cap)
{
    int rc = get_string(c, n, key, dst, cap);
    if (rc)
        return rc;
    for (const char *p = dst; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || (p != dst && (*p == '_' || *p == '-' || *p == '.'));
        if (!ok)
            return fail(c, n, PCILAB_EINVAL,
                        "'%s' must be a name of letters, digits, '_', '-' and '.', got '%s'", key,
                        dst);
    }
    return 0;
}

static int get_enum(struct ctx *c, const struct scn_ynode *n, const char *key,
                    const char *const *names, unsigned count, unsigned *out)
{
    int rc = want_scalar(c, n, key, "a name");
    if (rc)
        return rc;
    for (unsigned i = 0; i < count; i++)
        if (names[i] && !strcmp(names[i], n->text)) {
            *out = i;
            return 0;
        }
    char list[256];
    size_t off = 0;
    list[0] = '\0';
    for (unsigned i = 0; i < count && off < sizeof list; i++)
        if (names[i])
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "",
                                    names[i]);
    return fail(c, n, PCILAB_EINVAL, "'%s' must be one of %s, got '%s'", key, list, n->text);
}

/* Reads exactly `digits` hex digits at *p. */
static bool hexfield(const char **p, unsigned digits, unsigned *out)
{
    unsigned v = 0;
    for (unsigned i = 0; i < digits; i++) {
        int d = pcilab_hexval((*p)[i]);
        if (d < 0)
            return false;
        v = v << 4 | (unsigned)d;
    }
    *p += digits;
    *out = v;
    return true;
}

/* "DD.F" (lspci's slot.function, hex). */
static bool parse_devfn(const char *s, unsigned *dev, unsigned *fn)
{
    const char *p = s;
    unsigned d, f;
    if (!hexfield(&p, 2, &d) || *p++ != '.' || !hexfield(&p, 1, &f) || *p)
        return false;
    if (d > 31 || f > 7)
        return false;
    *dev = d;
    *fn = f;
    return true;
}

/* "[SSSS:]BB:DD.F" (lspci -D form, hex). seg is -1 when absent. */
static bool parse_bdf(const char *s, int *seg, unsigned *bus, unsigned *dev, unsigned *fn)
{
    const char *p = s;
    unsigned a, b;
    *seg = -1;
    if (strlen(s) == 12) {
        if (!hexfield(&p, 4, &a) || *p++ != ':')
            return false;
        *seg = (int)a;
    }
    if (!hexfield(&p, 2, &b) || *p++ != ':')
        return false;
    *bus = b;
    return parse_devfn(p, dev, fn);
}

/* Link speeds: gen1..gen5, 2.5GT/s..32GT/s, or 1..5 (PCIe 5.0 7.5.3.18 vector bits). */
static int get_speed(struct ctx *c, const struct scn_ynode *n, const char *key, uint8_t *out)
{
    static const char *const gens[] = {NULL, "gen1", "gen2", "gen3", "gen4", "gen5"};
    static const char *const gts[] = {NULL, "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s"};
    int rc = want_scalar(c, n, key, "a link speed");
    if (rc)
        return rc;
    for (unsigned i = 1; i <= 5; i++)
        if (!strcmp(n->text, gens[i]) || !strcmp(n->text, gts[i]) ||
            (n->text[0] == (char)('0' + i) && !n->text[1])) {
            *out = (uint8_t)i;
            return 0;
        }
    return fail(c, n, PCILAB_EINVAL,
                "'%s' must be a link speed: gen1..gen5 or 2.5GT/s, 5GT/s, 8GT/s, 16GT/s, 32GT/s, got '%s'",
                key, n->text);
}

/* Link widths x1..x32 as allowed by Maximum Link Width (PCIe 5.0 7.5.3.6). */
static int get_width(struct ctx *c, const struct scn_ynode *n, const char *key, uint8_t *out)
{
    int rc = want_scalar(c, n, key, "a link width");
    if (rc)
        return rc;
    const char *t = n->text[0] == 'x' ? n->text + 1 : n->text;
    uint64_t v;
    const char *end;
    if (parse_u64(t, &v, &end) && !*end && t[0] != '0' &&
        (v == 1 || v == 2 || v == 4 || v == 8 || v == 12 || v == 16 || v == 32)) {
        *out = (uint8_t)v;
        return 0;
    }
    return fail(c, n, PCILAB_EINVAL, "'%s' must be a link width: 1, 2, 4, 8, 12, 16 or 32, got '%s'",
                key, n->text);
}

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* ------------------------------------------------------------------------ */
/* capabilities                                                               */

static int cap_offset(struct ctx *c, const struct scn_ynode *map, enum scn_cap id, uint16_t *off)
{
    struct scn_ynode *n = map_get(map, "offset");
    if (!n)
        return 0;
    uint64_t v;
    bool ext = cap_is_extended(id);
    int rc = get_uint(c, n, "offset", ext ? 0x100 : 0x40, ext ? 0xffc : 0xfc, true, &v);
    if (rc)
        return rc;
    if (v & 3)
        return fail(c, n, PCILAB_EINVAL,
                    "'offset' 0x%" PRIx64 " must be DWORD aligned (PCIe 5.0 %s)", v,
                    ext ? "7.6.3" : "7.5.1.1.11");
    if (v + cap_sizes[id] > (ext ? 0x1000u : 0x100u))
        return fail(c, n, PCILAB_ERANGE, "%s capability at 0x%" PRIx64 " runs past the end of the %s",
                    cap_names[id], v, ext ? "extended configuration space" : "PCI-compatible space");
    *off = (uint16_t)v;
    return 0;
}

static int parse_pm(struct ctx *c, const struct scn_ynode *n, struct scn_func *f, uint16_t *off)
{
    static const char *const keys[] = {"version", "d1", "d2", "pme", "no_soft_reset", "offset", NULL};
    f->pm = (struct scn_pm){.version = 3, .no_soft_reset = true};
    if (n->type == SCN_Y_SCALAR)
        return 0; /* "pm: true", checked by the caller */
    int rc = check_map(c, n, "capability 'pm'", keys);
    if (rc)
        return rc;
    OPT_UINT(c, n, "version", 1, 3, false, f->pm.version);
    OPT_BOOL(c, n, "d1", f->pm.d1);
    OPT_BOOL(c, n, "d2", f->pm.d2);
    OPT_BOOL(c, n, "no_soft_reset", f->pm.no_soft_reset);
    struct scn_ynode *pme = map_get(n, "pme");
    if (pme) {
        static const char *const states[] = {"d0", "d1", "d2", "d3hot", "d3cold"};
        char d[64];
        if (pme->type != SCN_Y_SEQ)
            return fail(c, pme, PCILAB_EINVAL,
                        "'pme' must be a sequence of power states (d0, d1, d2, d3hot, d3cold), got %s",
                        scn_yaml_describe(pme, d, sizeof d));
        for (size_t i = 0; i < pme->nkids; i++) {
            unsigned s;
            rc = get_enum(c, pme->kids[i], "pme", states, 5, &s);
            if (rc)
                return rc;
            f->pm.pme_support |= (uint8_t)(1u << s);
        }
    }
    return cap_offset(c, n, SCN_CAP_PM, off);
}

static int parse_msi(struct ctx *c, const struct scn_ynode *n, struct scn_func *f, uint16_t *off)
{
    static const char *const keys[] = {"vectors", "addr64", "per_vector_masking", "offset", NULL};
    f->msi = (struct scn_msi){.vectors = 1, .addr64 = true};
    if (n->type == SCN_Y_SCALAR)
        return 0;
    int rc = check_map(c, n, "capability 'msi'", keys);
    if (rc)
        return rc;
    struct scn_ynode *v = map_get(n, "vectors");
    if (v) {
        uint64_t x;
        rc = get_uint(c, v, "vectors", 1, 32, false, &x);
        if (rc)
            return rc;
        if (!is_pow2(x))
            return fail(c, v, PCILAB_EINVAL,
                        "'vectors' must be 1, 2, 4, 8, 16 or 32 (Multiple Message Capable is a power of two, PCIe 5.0 7.7.1.2), got %" PRIu64,
                        x);
        f->msi.vectors = (unsigned)x;
    }
    OPT_BOOL(c, n, "addr64", f->msi.addr64);
    OPT_BOOL(c, n, "per_vector_masking", f->msi.per_vector_mask);
    return cap_offset(c, n, SCN_CAP_MSI, off);
}

static int parse_bir_offset(struct ctx *c, const struct scn_ynode *n, const char *what,
                            uint8_t *bir, uint32_t *offset)
{
    static const char *const keys[] = {"bar", "offset", NULL};
    int rc = check_map(c, n, what, keys);
    struct scn_ynode *v;
    uint64_t x;
    if (rc || (rc = need(c, n, what, "bar", &v)) || (rc = get_uint(c, v, "bar", 0, 5, false, &x)))
        return rc;
    *bir = (uint8_t)x;
    if ((rc = need(c, n, what, "offset", &v)) ||
        (rc = get_uint(c, v, "offset", 0, 0xfffffff8u, true, &x)))
        return rc;
    if (x & 7)
        return fail(c, v, PCILAB_EINVAL,
                    "'offset' 0x%" PRIx64 " must be QWORD aligned (the low 3 bits hold the BIR, PCIe 5.0 7.7.2.3)",
                    x);
    *offset = (uint32_t)x;
    return 0;
}

static int parse_msix(struct ctx *c, const struct scn_ynode *n, struct scn_func *f, uint16_t *off)
{
    static const char *const keys[] = {"table_size", "table", "pba", "offset", NULL};
    int rc = check_map(c, n, "capability 'msix'", keys);
    struct scn_ynode *v;
    uint64_t x;
    if (rc || (rc = need(c, n, "capability 'msix'", "table_size", &v)) ||
        (rc = get_uint(c, v, "table_size", 1, 2048, false, &x)))
        return rc;
    f->msix.table_size = (unsigned)x;
    if ((rc = need(c, n, "capability 'msix'", "table", &v)) ||
        (rc = parse_bir_offset(c, v, "msix 'table'", &f->msix.table_bir, &f->msix.table_offset)))
        return rc;
    if ((rc = need(c, n, "capability 'msix'", "pba", &v)) ||
        (rc = parse_bir_offset(c, v, "msix 'pba'", &f->msix.pba_bir, &f->msix.pba_offset)))
        return rc;
    return cap_offset(c, n, SCN_CAP_MSIX, off);
}

static int parse_pcie(struct ctx *c, const struct scn_ynode *n, struct scn_func *f, uint16_t *off)
{
    static const char *const keys[] = {"version", "max_speed", "max_width", "speed", "width",
                                       "mps", "ext_tags", "tag10_completer", "tag10_requester",
                                       "flr", "slot", "offset", NULL};
    struct scn_pcie *p = &f->pcie;
    *p = (struct scn_pcie){.version = 2, .mps = 128};
    int rc = check_map(c, n, "capability 'pcie'", keys);
    struct scn_ynode *v;
    if (rc || (rc = need(c, n, "capability 'pcie'", "max_speed", &v)) ||
        (rc = get_speed(c, v, "max_speed", &p->max_speed)))
        return rc;
    if ((rc = need(c, n, "capability 'pcie'", "max_width", &v)) ||
        (rc = get_width(c, v, "max_width", &p->max_width)))
        return rc;
    if ((v = map_get(n, "speed")) && (rc = get_speed(c, v, "speed", &p->speed)))
        return rc;
    if ((v = map_get(n, "width")) && (rc = get_width(c, v, "width", &p->width)))
        return rc;
    OPT_UINT(c, n, "version", 1, 2, false, p->version);
    if ((v = map_get(n, "mps"))) {
        uint64_t x;
        if ((rc = get_size(c, v, "mps", &x)))
            return rc;
        if (x < 128 || x > 4096 || !is_pow2(x))
            return fail(c, v, PCILAB_EINVAL,
                        "'mps' must be 128, 256, 512, 1024, 2048 or 4096 bytes (Max_Payload_Size Supported, PCIe 5.0 7.5.3.3), got %s",
                        v->text);
        p->mps = (uint16_t)x;
    }
    OPT_BOOL(c, n, "ext_tags", p->ext_tags);
    OPT_BOOL(c, n, "tag10_completer", p->tag10_completer);
    OPT_BOOL(c, n, "tag10_requester", p->tag10_requester);
    OPT_BOOL(c, n, "flr", p->flr);
    if ((v = map_get(n, "slot"))) {
        uint64_t x;
        if (f->kind != SCN_ROOT_PORT && f->kind != SCN_DOWNSTREAM_PORT)
            return fail(c, v, PCILAB_EINVAL,
                        "'slot' is only for root_port and downstream_port (Slot Implemented, PCIe 5.0 7.5.3.2), not %s",
                        kind_names[f->kind]);
        p->slot = true;
        if (v->type == SCN_Y_MAP) {
            static const char *const skeys[] = {"number", "hot_plug", NULL};
            struct scn_ynode *num;
            if ((rc = check_map(c, v, "pcie 'slot'", skeys)) ||
                (rc = need(c, v, "pcie 'slot'", "number", &num)) ||
                (rc = get_uint(c, num, "number", 0, 0x1fff, false, &x)))
                return rc;
            p->slot_number = (uint16_t)x;
            OPT_BOOL(c, v, "hot_plug", p->hot_plug);
        } else {
            if ((rc = get_uint(c, v, "slot", 0, 0x1fff, false, &x)))
                return rc;
            p->slot_number = (uint16_t)x;
        }
    }
    if (p->tag10_requester && !p->tag10_completer)
        return fail(c, map_get(n, "tag10_requester"), PCILAB_EINVAL,
                    "10-bit tag requesters must also be 10-bit tag completers (PCIe 5.0 7.5.3.15)");
    return cap_offset(c, n, SCN_CAP_PCIE, off);
}

static int parse_iommu(struct ctx *c, const struct scn_ynode *n, struct scn_func *f, uint16_t *off)
{
    static const char *const keys[] = {"base", "np_cache", "efr", "offset", NULL};
    int rc = check_map(c, n, "capability 'iommu'", keys);
    struct scn_ynode *v;
    uint64_t x;
    if (rc || (rc = need(c, n, "capability 'iommu'", "base", &v)) ||
        (rc = get_uint(c, v, "base", 0, UINT64_MAX, true, &x)))
        return rc;
    if (x & 0x3fff)
        return fail(c, v, PCILAB_EINVAL,
                    "'base' 0x%" PRIx64 " must be 16 KiB aligned (IOMMU Base Address, AMD 48882 3.2.1)",
                    x);
    f->iommu.base = x;
    if ((v = map_get(n, "np_cache")) && (rc = get_bool(c, v, "np_cache", &f->iommu.np_cache)))
        return rc;
    if ((v = map_get(n, "efr"))) {
        if ((rc = get_uint(c, v, "efr", 0, UINT64_MAX, true, &f->iommu.efr)))
            return rc;
        f->iommu.has_efr = true;
    }
    return cap_offset(c, n, SCN_CAP_IOMMU, off);
}

static int parse_aer(struct ctx *c, const struct scn_ynode *n, struct scn_func *f, uint16_t *off)
{
    static const char *const keys[] = {"offset", NULL};
    (void)f;
    if (n->type == SCN_Y_SCALAR)
        return 0;
    int rc = check_map(c, n, "capability 'aer'", keys);
    return rc ? rc : cap_offset(c, n, SCN_CAP_AER, off);
}

static int parse_acs(struct ctx *c, const struct scn_ynode *n, struct scn_func *f, uint16_t *off)
{
    static const char *const keys[] = {"source_validation", "translation_blocking",
                                       "request_redirect", "completion_redirect",
                                       "upstream_forwarding", "egress_control",
                                       "direct_translated", "offset", NULL};
    f->acs = 0;
    if (n->type == SCN_Y_SCALAR)
        return 0;
    int rc = check_map(c, n, "capability 'acs'", keys);
    if (rc)
        return rc;
    for (unsigned i = 0; i < 7; i++) {
        bool b = false;
        OPT_BOOL(c, n, keys[i], b);
        if (b)
            f->acs |= 1u << i; /* bit order of the ACS Capability register, 7.7.8.2 */
    }
    return cap_offset(c, n, SCN_CAP_ACS, off);
}

static int parse_caps(struct ctx *c, const struct scn_ynode *n, struct scn_func *f)
{
    static const char *const keys[] = {"pm", "msi", "msix", "pcie", "iommu", "aer", "acs", NULL};
    typedef int (*capfn)(struct ctx *, const struct scn_ynode *, struct scn_func *, uint16_t *);
    static const capfn fns[SCN_CAP_COUNT] = {parse_pm, parse_msi, parse_msix, parse_pcie,
                                             parse_iommu, parse_aer, parse_acs};
    static const bool may_be_true[SCN_CAP_COUNT] = {true, true, false, false, false, true, true};
    int rc = check_map(c, n, "'capabilities'", keys);
    if (rc)
        return rc;
    for (size_t i = 0; i + 1 < n->nkids; i += 2) {
        unsigned id = 0;
        while (strcmp(cap_names[id], n->kids[i]->text))
            id++;
        const struct scn_ynode *v = n->kids[i + 1];
        if (v->type == SCN_Y_SCALAR) {
            bool on;
            if (!may_be_true[id]) {
                char d[64];
                return fail(c, v, PCILAB_EINVAL, "capability '%s' must be a mapping, got %s",
                            cap_names[id], scn_yaml_describe(v, d, sizeof d));
            }
            if ((rc = get_bool(c, v, cap_names[id], &on)))
                return rc;
            if (!on)
                continue; /* "msi: false": the capability is absent */
        }
        uint16_t off = 0;
        if ((rc = fns[id](c, v, f, &off)))
            return rc;
        f->caps[f->ncaps++] = (struct scn_capref){.id = (enum scn_cap)id, .offset = off};
    }
    return 0;
}

static const struct scn_capref *find_cap(const struct scn_func *f, enum scn_cap id)
{
    for (unsigned i = 0; i < f->ncaps; i++)
        if (f->caps[i].id == id)
            return &f->caps[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* BARs                                                                       */

static int parse_bars(struct ctx *c, const struct scn_ynode *n, struct scn_func *f,
                      unsigned nbars, const struct scn_ynode **bar_nodes)
{
    static const char *const keys[] = {"index", "type", "prefetchable", "size", NULL};
    static const char *const types[] = {NULL, "mem32", "mem64", "io"};
    char d[64];
    if (n->type != SCN_Y_SEQ)
        return fail(c, n, PCILAB_EINVAL, "'bars' must be a sequence, got %s",
                    scn_yaml_describe(n, d, sizeof d));
    bool used[6] = {false};
    for (size_t i = 0; i < n->nkids; i++) {
        const struct scn_ynode *b = n->kids[i], *v;
        uint64_t idx, size;
        unsigned type;
        int rc = check_map(c, b, "a BAR", keys);
        if (rc || (rc = need(c, b, "a BAR", "index", (struct scn_ynode **)&v)) ||
            (rc = get_uint(c, v, "index", 0, nbars - 1, false, &idx)))
            return rc;
        const struct scn_ynode *idx_node = v;
        if ((rc = need(c, b, "a BAR", "type", (struct scn_ynode **)&v)) ||
            (rc = get_enum(c, v, "type", types, 4, &type)))
            return rc;
        if ((rc = need(c, b, "a BAR", "size", (struct scn_ynode **)&v)) ||
            (rc = get_size(c, v, "size", &size)))
            return rc;
        bool pref = false;
        OPT_BOOL(c, b, "prefetchable", pref);
        /* PCIe 5.0 7.5.1.2.1: sizes are powers of two; memory BARs at least 16 bytes
         * (128 recommended), I/O BARs 4..256 bytes. */
        uint64_t min = type == SCN_BAR_IO ? 4 : 16;
        uint64_t max = type == SCN_BAR_IO ? 256 : type == SCN_BAR_MEM32 ? (1ull << 31) : (1ull << 63);
        if (!is_pow2(size) || size < min || size > max)
            return fail(c, v, PCILAB_EINVAL,
                        "BAR %" PRIu64 " size %s must be a power of two from %" PRIu64 " to %" PRIu64
                        " bytes for %s (PCIe 5.0 7.5.1.2.1)",
                        idx, v->text, min, max, types[type]);
        if (pref && type == SCN_BAR_IO)
            return fail(c, map_get(b, "prefetchable"), PCILAB_EINVAL,
                        "an I/O BAR cannot be prefetchable (PCIe 5.0 7.5.1.2.1)");
        if (type == SCN_BAR_MEM64 && idx + 1 >= nbars)
            return fail(c, idx_node, PCILAB_EINVAL,
                        "a mem64 BAR takes two registers: BAR %" PRIu64 " has no BAR %" PRIu64
                        " after it in a Type %u header",
                        idx, idx + 1, nbars == 6 ? 0u : 1u);
        unsigned span = type == SCN_BAR_MEM64 ? 2 : 1;
        for (unsigned k = 0; k < span; k++)
            if (used[idx + k])
                return fail(c, idx_node, PCILAB_EEXIST,
                            "BAR %" PRIu64 " overlaps BAR register %" PRIu64
                            ", already used (a mem64 BAR uses two registers)",
                            idx, idx + k);
        for (unsigned k = 0; k < span; k++)
            used[idx + k] = true;
        f->bars[idx] = (struct scn_bar){.type = (enum scn_bar_type)type, .prefetchable = pref,
                                        .size = size};
        bar_nodes[idx] = b;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* functions                                                                  */

static int parse_params(struct ctx *c, const struct scn_ynode *n, struct scn_func *f)
{
    char d[64];
    if (n->type != SCN_Y_MAP)
        return fail(c, n, PCILAB_EINVAL, "'params' must be a mapping, got %s",
                    scn_yaml_describe(n, d, sizeof d));
    size_t count = n->nkids / 2;
    if (count > SCN_MAX_PARAMS)
        return fail(c, n, PCILAB_ERANGE, "too many params (%zu, at most %d)", count, SCN_MAX_PARAMS);
    f->params = calloc(count ? count : 1, sizeof *f->params);
    if (!f->params)
        return pcilab_errf(c->err, PCILAB_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        const struct scn_ynode *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
        for (size_t j = 0; j < i; j++)
            if (!strcmp(n->kids[2 * j]->text, k->text))
                return fail(c, k, PCILAB_EINVAL, "duplicate key '%s' (first at line %u)", k->text,
                            n->kids[2 * j]->line);
        if (k->len == 0 || strlen(k->text) != k->len)
            return fail(c, k, PCILAB_EINVAL, "param names must be non-empty text");
        if (v->type != SCN_Y_SCALAR || strlen(v->text) != v->len)
            return fail(c, v, PCILAB_EINVAL, "param '%s' must be a scalar, got %s", k->text,
                        scn_yaml_describe(v, d, sizeof d));
        f->params[i].key = strdup(k->text);
        f->params[i].value = strdup(v->text);
        f->nparams = (unsigned)i + 1;
        if (!f->params[i].key || !f->params[i].value)
            return pcilab_errf(c->err, PCILAB_ENOMEM, "out of memory");
    }
    return 0;
}

static struct scn_func *new_func(struct ctx *c, int *index)
{
    struct scn_machine *m = c->m;
    if (m->nfuncs == c->funcs_cap) {
        size_t ncap = c->funcs_cap ? c->funcs_cap * 2 : 16;
        struct scn_func *nf = realloc(m->funcs, ncap * sizeof *nf);
        if (!nf)
            return NULL;
        m->funcs = nf;
        c->funcs_cap = ncap;
    }
    *index = (int)m->nfuncs;
    struct scn_func *f = &m->funcs[m->nfuncs++];
    memset(f, 0, sizeof *f);
    f->bus = -1;
    f->parent = -1;
    return f;
}

static void func_label(const struct scn_machine *m, const struct scn_func *f, char *buf, size_t len);

static int parse_bus(struct ctx *c, const struct scn_ynode *list, int parent);

/* ------------------------------------------------------------------------ */
/* configuration space from lspci dumps (config_from, machine_from)           */

/* Loads (once per scenario) and returns the dump at `path` (relative to the
 * scenario's folder). Dump errors name the dump's own file:line:col. */
static int dump_get(struct ctx *c, const struct scn_ynode *where, const char *path,
                    const struct pcie_dump **out, char *resolved, size_t rlen)
{
    if (path[0] == '/' || !c->dir[0])
        snprintf(resolved, rlen, "%s", path);
    else
        snprintf(resolved, rlen, "%s%s", c->dir, path);
    for (size_t i = 0; i < c->ndumps; i++)
        if (!strcmp(c->dumps[i].path, resolved)) {
            *out = &c->dumps[i].d;
            return 0;
        }
    if (c->ndumps == sizeof c->dumps / sizeof c->dumps[0])
        return fail(c, where, PCILAB_ERANGE, "more than %zu different dump files in one scenario",
                    sizeof c->dumps / sizeof c->dumps[0]);
    struct scn_dumpfile *df = &c->dumps[c->ndumps];
    pcie_dump_init(&df->d);
    struct pcilab_err derr;
    pcilab_err_clear(&derr);
    int rc = pcie_dump_load(&df->d, resolved, &derr);
    if (rc) {
        pcie_dump_free(&df->d);
        if (derr.code == PCILAB_EIO && derr.line == 0)
            /* the file itself is missing: say which scenario line wanted it */
            return fail(c, where, PCILAB_EIO, "cannot read dump '%s': %s", resolved, derr.msg);
        *c->err = derr;
        return rc;
    }
    snprintf(df->path, sizeof df->path, "%s", resolved);
    c->ndumps++;
    *out = &df->d;
    return 0;
}

static uint16_t rd16(const uint8_t *b, unsigned off) { return (uint16_t)(b[off] | b[off + 1] << 8); }
static uint32_t rd32(const uint8_t *b, unsigned off)
{
    return (uint32_t)rd16(b, off) | (uint32_t)rd16(b, off + 2) << 16;
}

/* Offset of the PCI Express capability in dumped bytes (PCI 3.0 6.7 list walk,
 * at most 48 entries so a looping list ends), 0 when absent or not dumped. */
static unsigned dump_exp_offset(const uint8_t *b, unsigned len)
{
    if (len < 0x100 || !(rd16(b, 0x06) & 0x10)) /* Status: Capabilities List, 7.5.1.1.4 */
        return 0;
    unsigned off = b[0x34] & 0xfc;
    for (unsigned n = 0; off >= 0x40 && n < 48; n++) {
        if (b[off] == 0x10)
            return off;
        off = b[off + 1] & 0xfc;
    }
    return 0;
}

/* What the bytes say a function is (Header Type 7.5.1.1.9, class code, Device/Port
 * Type 7.5.3.2). Returns the kind, or -1 with *why set. */
static int dump_kind(const uint8_t *b, unsigned len, bool root_bus, const char **why)
{
    unsigned hdr = b[0x0e] & 0x7f;
    unsigned exp = dump_exp_offset(b, len);
    unsigned type = exp ? (rd16(b, exp + 2) >> 4) & 0xf : 0xff;
    uint32_t class_code = rd32(b, 0x08) >> 8;
    if (hdr == 0) {
        if (type == 0xff) {
            if (len < 0x100 && !root_bus)
                return SCN_ENDPOINT; /* -x: capabilities not dumped, trust the description */
            if (!root_bus) {
                *why = "a function without a PCI Express capability below a port (conventional PCI is not modelled)";
                return -1;
            }
            return (class_code >> 8) == 0x0600 ? SCN_HOST_BRIDGE : SCN_INTEGRATED;
        }
        switch (type) {
        case 0x0: return SCN_ENDPOINT;
        case 0x1: return SCN_LEGACY_ENDPOINT;
        case 0x9: return SCN_RCIEP;
        default:
            *why = "a Type 0 function whose Device/Port Type is not an endpoint (Root Complex Event Collectors are not modelled)";
            return -1;
        }
    }
    if (hdr == 1) {
        switch (type) {
        case 0x4: return SCN_ROOT_PORT;
        case 0x5: return SCN_UPSTREAM_PORT;
        case 0x6: return SCN_DOWNSTREAM_PORT;
        case 0xff:
            if (len < 0x100)
                return -2; /* unknown: capabilities not dumped */
            *why = "a PCI-to-PCI bridge without a PCI Express capability (conventional PCI bridges are not modelled)";
            return -1;
        default:
            *why = "a PCI Express to PCI/PCI-X bridge (not modelled)";
            return -1;
        }
    }
    *why = hdr == 2 ? "a CardBus bridge (Header Type 2, not modelled)" : "a reserved Header Type";
    return -1;
}

/* Fills f's capability list and parameters from the dumped bytes: the known
 * capabilities (PM, MSI, MSI-X, PCI Express, AMD IOMMU, AER, ACS) at their dumped
 * offsets in list order; others stay as plain bytes. */
static void dump_caps(struct scn_func *f)
{
    const uint8_t *b = f->config;
    f->ncaps = 0;
    f->pcie = (struct scn_pcie){0};
    f->acs = 0;
    bool seen[SCN_CAP_COUNT] = {false};
    unsigned off = (rd16(b, 0x06) & 0x10) ? b[0x34] & 0xfc : 0;
    for (unsigned n = 0; off >= 0x40 && off + 8 <= 0x100 && n < 48; n++) {
        int id = -1;
        switch (b[off]) {
        case 0x01: id = SCN_CAP_PM; break;
        case 0x05: id = SCN_CAP_MSI; break;
        case 0x11: id = SCN_CAP_MSIX; break;
        case 0x10: id = SCN_CAP_PCIE; break;
        case 0x0f: /* AMD IOMMU: Capability Type 011b, AMD 48882 3.2.1 */
            if (((rd32(b, off) >> 16) & 7) == 3)
                id = SCN_CAP_IOMMU;
            break;
        }
        unsigned next = b[off + 1] & 0xfc;
        if (id >= 0 && !seen[id]) {
            bool keep = true;
            if (id == SCN_CAP_PM) {
                /* PMC, PCI PM 1.2 3.2.3; PMCSR No_Soft_Reset 3.2.4 */
                uint16_t pmc = rd16(b, off + 2);
                f->pm = (struct scn_pm){.version = (uint8_t)(pmc & 7), .d1 = (pmc >> 9) & 1,
                                        .d2 = (pmc >> 10) & 1, .pme_support = (uint8_t)(pmc >> 11),
                                        .no_soft_reset = (rd16(b, off + 4) >> 3) & 1};
                keep = f->pm.version >= 1 && f->pm.version <= 3;
            } else if (id == SCN_CAP_MSI) {
                uint16_t ctl = rd16(b, off + 2); /* Message Control, 7.7.1.2 */
                unsigned mmc = (ctl >> 1) & 7;
                f->msi = (struct scn_msi){.vectors = 1u << (mmc > 5 ? 5 : mmc),
                                          .addr64 = (ctl >> 7) & 1, .per_vector_mask = (ctl >> 8) & 1};
            } else if (id == SCN_CAP_MSIX) {
                uint16_t ctl = rd16(b, off + 2);
                uint32_t t = rd32(b, off + 4), p = rd32(b, off + 8); /* 7.7.2.3, 7.7.2.4 */
                f->msix = (struct scn_msix){.table_size = (ctl & 0x7ffu) + 1, .table_bir = (uint8_t)(t & 7),
                                            .table_offset = t & ~7u, .pba_bir = (uint8_t)(p & 7),
                                            .pba_offset = p & ~7u};
                /* Rebuilt only when the description sizes the BARs holding it (a
                 * dump has no BAR sizes); else it stays as dumped bytes. */
                for (unsigned k = 0; k < 2 && keep; k++) {
                    unsigned bir = k ? f->msix.pba_bir : f->msix.table_bir;
                    uint64_t end = k ? f->msix.pba_offset + ((f->msix.table_size + 63) / 64) * 8ull
                                     : f->msix.table_offset + f->msix.table_size * 16ull;
                    keep = bir < 6 && (f->bars[bir].type == SCN_BAR_MEM32 ||
                                       f->bars[bir].type == SCN_BAR_MEM64) && end <= f->bars[bir].size;
                }
            } else if (id == SCN_CAP_PCIE) {
                struct scn_pcie *p = &f->pcie;
                uint16_t flags = rd16(b, off + 2);              /* 7.5.3.2 */
                uint32_t devcap = rd32(b, off + 4);             /* 7.5.3.3 */
                uint32_t lnkcap = rd32(b, off + 0x0c);          /* 7.5.3.6 */
                uint16_t lnksta = rd16(b, off + 0x12);          /* 7.5.3.8 */
                p->version = flags & 0xf;
                p->port_type = (flags >> 4) & 0xf;
                p->mps = (uint16_t)(128u << ((devcap & 7) > 5 ? 5 : (devcap & 7)));
                p->ext_tags = (devcap >> 5) & 1;
                p->flr = (devcap >> 28) & 1;
                p->max_speed = lnkcap & 0xf;
                p->max_width = (lnkcap >> 4) & 0x3f;
                p->speed = lnksta & 0xf;
                p->width = (lnksta >> 4) & 0x3f;
                if (p->version >= 2 && off + 0x28 <= 0x100) {
                    uint32_t devcap2 = rd32(b, off + 0x24);     /* 7.5.3.15 */
                    p->tag10_completer = (devcap2 >> 16) & 1;
                    p->tag10_requester = (devcap2 >> 17) & 1;
                }
                p->slot = (flags >> 8) & 1;
                if (p->slot) {
                    uint32_t sltcap = rd32(b, off + 0x14);      /* 7.5.3.9 */
                    p->slot_number = (uint16_t)(sltcap >> 19);
                    p->hot_plug = (sltcap >> 6) & 1;
                }
            } else if (id == SCN_CAP_IOMMU) {
                f->iommu.base = ((uint64_t)rd32(b, off + 8) << 32 | rd32(b, off + 4)) & ~0x3fffull;
                f->iommu.np_cache = (rd32(b, off) >> 26) & 1; /* 48882 3.2.1 NpCache */
            }
            if (keep) {
                f->caps[f->ncaps++] = (struct scn_capref){.id = (enum scn_cap)id, .offset = (uint16_t)off};
                seen[id] = true;
            }
        }
        off = next;
    }
    if (!seen[SCN_CAP_PCIE] || f->config_len < 0x1000)
        return;
    /* Extended capabilities, PCIe 5.0 7.6: from 100h, 12-bit next offsets. */
    off = 0x100;
    for (unsigned n = 0; off >= 0x100 && off + 8 <= 0x1000 && n < 960; n++) {
        uint32_t h = rd32(b, off);
        if (h == 0 || h == 0xffffffffu)
            break;
        int id = (h & 0xffff) == 0x0001 ? SCN_CAP_AER : (h & 0xffff) == 0x000d ? SCN_CAP_ACS : -1;
        if (id >= 0 && !seen[id]) {
            if (id == SCN_CAP_ACS)
                f->acs = rd16(b, off + 4) & 0x7fu; /* ACS Capability, 7.7.8.2 */
            f->caps[f->ncaps++] = (struct scn_capref){.id = (enum scn_cap)id, .offset = (uint16_t)off};
            seen[id] = true;
        }
        off = (h >> 20) & 0xffc;
    }
}

/* Copies a dumped function into f. */
static int dump_copy(struct ctx *c, struct scn_func *f, const struct pcie_dump_func *df,
                     const char *path)
{
    unsigned len = df->len ? df->len : 1;
    f->config = malloc(len);
    f->config_given = calloc((len + 7) / 8, 1);
    if (!f->config || !f->config_given)
        return pcilab_errf(c->err, PCILAB_ENOMEM, "out of memory");
    memcpy(f->config, df->bytes, len);
    for (unsigned i = 0; i < len; i++)
        if (df->given[i / 8] & (1u << (i % 8)))
            f->config_given[i / 8] |= (uint8_t)(1u << (i % 8));
    f->config_len = df->len;
    f->config_line = df->line;
    snprintf(f->config_file, sizeof f->config_file, "%s", path);
    snprintf(f->config_bdf, sizeof f->config_bdf, "%04x:%02x:%02x.%u", df->domain & 0xffffu,
             df->bus, df->dev, df->fn);
    return 0;
}

/* Identity and header fields from the dumped bytes (PCIe 5.0 7.5.1). */
static void dump_ident(struct scn_func *f)
{
    const uint8_t *b = f->config;
    f->vendor_id = rd16(b, 0x00);
    f->device_id = rd16(b, 0x02);
    f->revision = b[0x08];
    f->class_code = rd32(b, 0x08) >> 8;
    f->header_type = b[0x0e] & 0x7f; /* bit 7 follows the tree (check_machine) */
    if (f->config_len > 0x3d)
        f->interrupt_pin = b[0x3d] <= 4 ? b[0x3d] : 0;
    if (f->header_type == 0 && f->config_len >= 0x30) {
        f->subsys_vendor_id = rd16(b, 0x2c);
        f->subsys_id = rd16(b, 0x2e);
    } else if (f->config_len >= 0x100) {
        /* bridges: the SSVID capability, if any, is among the dumped bytes */
        f->subsys_vendor_id = f->subsys_id = 0;
    }
}

/* A BAR register's type bits as the description's BAR type (PCIe 5.0 7.5.1.2.1). */
static const char *bar_bits_name(uint32_t v)
{
    if (v & 1)
        return "io";
    return ((v >> 1) & 3) == 2 ? ((v & 8) ? "mem64 prefetchable" : "mem64")
                               : ((v & 8) ? "mem32 prefetchable" : "mem32");
}

static int parse_config_from(struct ctx *c, const struct scn_ynode *n, struct scn_func *f)
{
    static const char *const keys[] = {"file", "bdf", NULL};
    struct scn_ynode *fv, *bv;
    char file[SCN_PATH_MAX], path[SCN_PATH_MAX + SCN_PATH_MAX];
    int rc = check_map(c, n, "'config_from'", keys);
    if (rc || (rc = need(c, n, "'config_from'", "file", &fv)) ||
        (rc = get_string(c, fv, "file", file, sizeof file)))
        return rc;
    if ((rc = need(c, n, "'config_from'", "bdf", &bv)) || (rc = want_scalar(c, bv, "bdf", "a BDF")))
        return rc;
    int seg;
    unsigned bus, dev, fn;
    if (!parse_bdf(bv->text, &seg, &bus, &dev, &fn))
        return fail(c, bv, PCILAB_EINVAL,
                    "'bdf' must be BB:DD.F or SSSS:BB:DD.F in hex (device 00..1f, function 0..7), got '%s'",
                    bv->text);
    const struct pcie_dump *d;
    if ((rc = dump_get(c, fv, file, &d, path, sizeof path)))
        return rc;
    const struct pcie_dump_func *df = NULL;
    for (size_t i = 0; i < d->count && !df; i++) {
        const struct pcie_dump_func *g = &d->funcs[i];
        if (g->bus == bus && g->dev == dev && g->fn == fn && (seg < 0 || g->domain == (uint32_t)seg))
            df = g;
    }
    if (!df)
        return fail(c, bv, PCILAB_ENOENT, "'%s' has no function %s (it has %zu)", path, bv->text,
                    d->count);
    if (df->len < 0x40 || !pcie_dump_func_has(df, 0, 0x40))
        return fail(c, bv, PCILAB_EINVAL,
                    "%s:%u: function %s has only %u bytes; the 64-byte header is the least (lspci -x)",
                    path, df->line, bv->text, df->present);
    return dump_copy(c, f, df, path);
}

/* config_from: after the description was read, the dump's bytes replace its
 * identity and (when dumped) capabilities. The kind must agree with the bytes. */
static int apply_config_from(struct ctx *c, const struct scn_ynode *fnode, struct scn_func *f)
{
    const struct scn_ynode *cfn = map_get(fnode, "config_from");
    const char *why = "";
    int k = dump_kind(f->config, f->config_len, f->parent < 0, &why);
    bool compatible = k == (int)f->kind || k == -2 ||
                      ((k == SCN_HOST_BRIDGE || k == SCN_INTEGRATED) &&
                       (f->kind == SCN_HOST_BRIDGE || f->kind == SCN_INTEGRATED)) ||
                      (k == SCN_ENDPOINT && f->config_len < 0x100 &&
                       (f->kind == SCN_ENDPOINT || f->kind == SCN_LEGACY_ENDPOINT));
    if (k == -1)
        return fail(c, cfn, PCILAB_EINVAL, "%s:%u: %s is %s, but this function is %s",
                    f->config_file, f->config_line, f->config_bdf, why, a_kind(f->kind));
    if (!compatible) {
        unsigned exp = dump_exp_offset(f->config, f->config_len);
        return fail(c, cfn, PCILAB_EINVAL,
                    "%s:%u: %s is %s (Header Type %u%s%s), but this function is %s",
                    f->config_file, f->config_line, f->config_bdf, a_kind((enum scn_kind)k),
                    f->config[0x0e] & 0x7f, exp ? ", Device/Port Type " : "",
                    exp ? pcie_port_type_name((enum pcie_port_type)((rd16(f->config, exp + 2) >> 4) & 0xf)) : "",
                    a_kind(f->kind));
    }
    /* Identity keys written next to config_from must agree with the bytes (a
     * wrong 'bdf' is the usual mistake). */
    static const struct { const char *key; unsigned off, size; } idk[] = {
        {"vendor", 0x00, 2}, {"device", 0x02, 2}, {"revision", 0x08, 1},
    };
    for (unsigned i = 0; i < 3; i++) {
        const struct scn_ynode *v = map_get(fnode, idk[i].key);
        uint64_t x;
        const char *e_;
        if (!v || !parse_u64(v->text, &x, &e_) || *e_)
            continue;
        uint32_t got = idk[i].size == 2 ? rd16(f->config, idk[i].off) : f->config[idk[i].off];
        if (x != got)
            return fail(c, v, PCILAB_EINVAL, "'%s' is 0x%" PRIx64 " but %s:%u (%s) says 0x%x",
                        idk[i].key, x, f->config_file, f->config_line, f->config_bdf, got);
    }
    dump_ident(f);
    unsigned nbars = f->header_type == 1 ? 2 : 6;
    for (unsigned i = 0; i < nbars && 0x10 + 4 * i + 4 <= f->config_len; i++) {
        uint32_t v = rd32(f->config, 0x10 + 4 * i);
        const struct scn_bar *b = &f->bars[i];
        bool upper = i > 0 && f->bars[i - 1].type == SCN_BAR_MEM64;
        if (upper)
            continue;
        if (b->type == SCN_BAR_NONE) {
            if (v != 0)
                return fail(c, cfn, PCILAB_EINVAL,
                            "%s:%u: %s has BAR %u = 0x%08x (%s), but a dump holds addresses, not sizes: describe it in 'bars' ({index: %u, type: ..., size: ...})",
                            f->config_file, f->config_line, f->config_bdf, i, v, bar_bits_name(v), i);
            continue;
        }
        bool io = v & 1, m64 = !io && ((v >> 1) & 3) == 2, pref = !io && (v & 8);
        bool want_io = b->type == SCN_BAR_IO, want64 = b->type == SCN_BAR_MEM64;
        if (v != 0 && (io != want_io || (!io && (m64 != want64 || pref != b->prefetchable))))
            return fail(c, cfn, PCILAB_EINVAL,
                        "%s:%u: %s has BAR %u = 0x%08x (%s), but the description says %s%s",
                        f->config_file, f->config_line, f->config_bdf, i, v, bar_bits_name(v),
                        scn_bar_type_name(b->type), b->prefetchable ? " prefetchable" : "");
    }
    if (f->config_len >= 0x100) {
        dump_caps(f);
        f->caps_from_dump = true;
        /* the trained link is the device's to say (check_machine copies it up) */
        if (f->kind != SCN_ENDPOINT && f->kind != SCN_LEGACY_ENDPOINT && f->kind != SCN_UPSTREAM_PORT)
            f->pcie.speed = f->pcie.width = 0;
    }
    return 0;
}

static int parse_func(struct ctx *c, const struct scn_ynode *n, int parent)
{
    static const char *const keys[] = {"name", "kind", "bdf", "devfn", "vendor", "device",
                                       "revision", "class", "subsystem", "header_type",
                                       "interrupt_pin", "bars", "rom", "capabilities", "model",
                                       "params", "config_from", "children", NULL};
    int rc = check_map(c, n, "a function", keys);
    if (rc)
        return rc;
    if (c->m->nfuncs >= SCN_MAX_FUNCS)
        return fail(c, n, PCILAB_ERANGE, "more than %d functions in one machine", SCN_MAX_FUNCS);
    int idx;
    struct scn_func *f = new_func(c, &idx);
    if (!f)
        return pcilab_errf(c->err, PCILAB_ENOMEM, "out of memory");
    f->line = n->line;
    f->col = n->col;
    f->parent = parent;
    struct scn_machine *m = c->m;
    struct scn_ynode *v, *kindn;
    unsigned u;
    uint64_t x;

    if ((rc = need(c, n, "a function", "kind", &kindn)) ||
        (rc = get_enum(c, kindn, "kind", kind_names, SCN_KIND_COUNT, &u)))
        return rc;
    f->kind = (enum scn_kind)u;
    if ((v = map_get(n, "name")) && (rc = get_ident(c, v, "name", f->name, sizeof f->name)))
        return rc;

    /* Position: bdf (root bus only) or devfn. */
    struct scn_ynode *bdfn = map_get(n, "bdf"), *devfnn = map_get(n, "devfn");
    const struct scn_ynode *posn = bdfn ? bdfn : devfnn;
    if (bdfn && devfnn)
        return fail(c, devfnn, PCILAB_EINVAL, "give either 'bdf' or 'devfn', not both");
    if (!posn)
        return fail(c, n, PCILAB_EINVAL, "a function is missing required key 'bdf' (on the root bus) or 'devfn'");
    if ((rc = want_scalar(c, posn, bdfn ? "bdf" : "devfn", "a position")))
        return rc;
    unsigned dev, fn;
    if (bdfn) {
        int seg;
        unsigned bus;
        if (!parse_bdf(bdfn->text, &seg, &bus, &dev, &fn))
            return fail(c, bdfn, PCILAB_EINVAL,
                        "'bdf' must be BB:DD.F or SSSS:BB:DD.F in hex (device 00..1f, function 0..7), got '%s'",
                        bdfn->text);
        if (seg >= 0 && seg != m->rc.segment)
            return fail(c, bdfn, PCILAB_EINVAL, "function %s is in segment %04x, but the root complex is segment %04x",
                        bdfn->text, (unsigned)seg, m->rc.segment);
        if (parent >= 0)
            return fail(c, bdfn, PCILAB_EINVAL,
                        "'bdf' fixes the bus and is only for functions on the root bus; below a bridge use 'devfn'");
        if (bus != m->rc.bus_first)
            return fail(c, bdfn, PCILAB_EINVAL,
                        "function %02x:%02x.%u is on bus %02x, but no bridge leads there: the root bus is %02x, and a device behind a port goes in that port's 'children'",
                        bus, dev, fn, bus, m->rc.bus_first);
    } else if (!parse_devfn(devfnn->text, &dev, &fn)) {
        return fail(c, devfnn, PCILAB_EINVAL,
                    "'devfn' must be DD.F in hex (device 00..1f, function 0..7), got '%s'",
                    devfnn->text);
    }
    f->dev = (uint8_t)dev;
    f->fn = (uint8_t)fn;
    if (parent < 0)
        f->bus = m->rc.bus_first;

    /* Placement rules. */
    const struct scn_func *up = parent >= 0 ? &m->funcs[parent] : NULL;
    if (!up) {
        if (f->kind != SCN_HOST_BRIDGE && f->kind != SCN_INTEGRATED && f->kind != SCN_RCIEP &&
            f->kind != SCN_ROOT_PORT)
            return fail(c, kindn, PCILAB_EINVAL,
                        "%s cannot sit on the root bus (there: host_bridge, integrated, rciep, root_port); put it in a port's 'children'",
                        a_kind(f->kind));
    } else if (up->kind == SCN_UPSTREAM_PORT) {
        if (f->kind != SCN_DOWNSTREAM_PORT)
            return fail(c, kindn, PCILAB_EINVAL,
                        "the children of an upstream_port are the switch's downstream_port functions, not %s",
                        a_kind(f->kind));
    } else {
        if (f->kind != SCN_ENDPOINT && f->kind != SCN_LEGACY_ENDPOINT && f->kind != SCN_UPSTREAM_PORT)
            return fail(c, kindn, PCILAB_EINVAL,
                        "below %s goes an endpoint, legacy_endpoint or upstream_port, not %s",
                        a_kind(up->kind), a_kind(f->kind));
        if (dev != 0)
            return fail(c, posn, PCILAB_EINVAL,
                        "the link below %s leads to device 0 only (PCIe 5.0 7.3.1): '%s' names device %02x",
                        a_kind(up->kind), posn->text, dev);
    }
    /* Duplicates on the same bus. */
    for (unsigned i = 0; i < m->nfuncs - 1; i++) {
        const struct scn_func *g = &m->funcs[i];
        if (g->parent == parent && g->dev == f->dev && g->fn == f->fn) {
            char lab[96];
            func_label(m, f, lab, sizeof lab);
            return fail(c, posn, PCILAB_EEXIST, "duplicate function %s (first defined at line %u)",
                        lab, g->line);
        }
    }

    bool bridge = kind_is_bridge(f->kind);
    /* config_from: read the bytes first; identity keys are then optional. */
    struct scn_ynode *cfn = map_get(n, "config_from");
    if (cfn) {
        if ((rc = parse_config_from(c, cfn, f)))
            return rc;
        dump_ident(f);
        f->class_code = 0;
        f->class_code = rd32(f->config, 0x08) >> 8;
    }
    /* Identity. */
    if (cfn && !map_get(n, "vendor")) {
        /* from the dump */
    } else if ((rc = need(c, n, "a function", "vendor", &v)) ||
        (rc = get_uint(c, v, "vendor", 0, 0xffff, true, &x)))
        return rc;
    else if (x == 0xffff)
        return fail(c, v, PCILAB_EINVAL,
                    "'vendor' 0xffff is what an absent function reads as (PCIe 5.0 7.5.1.1.1)");
    else
        f->vendor_id = (uint16_t)x;
    if (cfn && !map_get(n, "device")) {
        /* from the dump */
    } else if ((rc = need(c, n, "a function", "device", &v)) ||
               (rc = get_uint(c, v, "device", 0, 0xffff, true, &x))) {
        return rc;
    } else {
        f->device_id = (uint16_t)x;
    }
    OPT_UINT(c, n, "revision", 0, 0xff, true, f->revision);
    if ((v = map_get(n, "class"))) {
        if ((rc = get_uint(c, v, "class", 0, 0xffffff, true, &x)))
            return rc;
        f->class_code = (uint32_t)x;
    } else if (bridge) {
        f->class_code = 0x060400; /* PCI-to-PCI bridge, normal decode */
    } else if (cfn) {
        /* from the dump */
    } else if (f->kind == SCN_HOST_BRIDGE) {
        f->class_code = 0x060000;
    } else {
        return fail(c, n, PCILAB_EINVAL, "a function is missing required key 'class'");
    }
    if (bridge && (f->class_code >> 8) != 0x0604)
        return fail(c, map_get(n, "class") ? map_get(n, "class") : n, PCILAB_EINVAL,
                    "%s is a PCI-to-PCI bridge: its class must be 0x0604xx, got 0x%06x",
                    a_kind(f->kind), f->class_code);
    if ((v = map_get(n, "subsystem"))) {
        static const char *const skeys[] = {"vendor", "device", NULL};
        struct scn_ynode *w;
        if ((rc = check_map(c, v, "'subsystem'", skeys)) ||
            (rc = need(c, v, "'subsystem'", "vendor", &w)) ||
            (rc = get_uint(c, w, "vendor", 0, 0xffff, true, &x)))
            return rc;
        f->subsys_vendor_id = (uint16_t)x;
        if ((rc = need(c, v, "'subsystem'", "device", &w)) ||
            (rc = get_uint(c, w, "device", 0, 0xffff, true, &x)))
            return rc;
        f->subsys_id = (uint16_t)x;
    }
    f->header_type = bridge ? 1 : 0;
    if ((v = map_get(n, "header_type"))) {
        if ((rc = get_uint(c, v, "header_type", 0, 1, false, &x)))
            return rc;
        if (x != f->header_type)
            return fail(c, v, PCILAB_EINVAL,
                        "%s has a Type %u header (PCIe 5.0 7.5.1.1.9), not Type %" PRIu64,
                        a_kind(f->kind), f->header_type, x);
    }
    if ((v = map_get(n, "interrupt_pin"))) {
        static const char *const pins[] = {"none", "a", "b", "c", "d"};
        if ((rc = get_enum(c, v, "interrupt_pin", pins, 5, &u)))
            return rc;
        f->interrupt_pin = (uint8_t)u;
    }

    const struct scn_ynode *bar_nodes[6] = {NULL};
    if ((v = map_get(n, "bars")) &&
        (rc = parse_bars(c, v, f, bridge ? 2 : 6, bar_nodes)))
        return rc;
    if ((v = map_get(n, "rom"))) {
        if ((rc = get_size(c, v, "rom", &x)))
            return rc;
        if (!is_pow2(x) || x < 2048 || x > (1u << 24))
            return fail(c, v, PCILAB_EINVAL,
                        "'rom' must be a power of two from 2K to 16M (Expansion ROM BAR, PCIe 5.0 7.5.1.2.4), got %s",
                        v->text);
        f->rom_size = (uint32_t)x;
    }

    if ((v = map_get(n, "capabilities")) && (rc = parse_caps(c, v, f)))
        return rc;
    if (cfn && (rc = apply_config_from(c, n, f)))
        return rc;
    struct scn_ynode *capsn = map_get(n, "capabilities");
    const struct scn_ynode *where = capsn ? capsn : n;
    bool has_pcie = find_cap(f, SCN_CAP_PCIE) != NULL;
    if (kind_port_type[f->kind] != 0xff && !has_pcie)
        return fail(c, where, PCILAB_EINVAL,
                    "%s needs a pcie capability (every PCI Express function has one, PCIe 5.0 7.5.3)",
                    a_kind(f->kind));
    if (kind_port_type[f->kind] == 0xff && has_pcie)
        return fail(c, map_key(capsn, "pcie"), PCILAB_EINVAL,
                    "%s has no pcie capability; use kind rciep for an integrated PCI Express function",
                    a_kind(f->kind));
    if (has_pcie)
        f->pcie.port_type = kind_port_type[f->kind];
    for (unsigned i = 0; i < f->ncaps; i++) {
        enum scn_cap id = f->caps[i].id;
        if (cap_is_extended(id) && !has_pcie)
            return fail(c, map_key(capsn, cap_names[id]), PCILAB_EINVAL,
                        "%s is an extended capability: it needs a PCI Express function (with a pcie capability, PCIe 5.0 7.6)",
                        cap_names[id]);
        /* Explicit offsets must not overlap. Offsets from a dump are the
         * device's own list, with its own sizes (an AER without the TLP
         * Prefix Log is 38h bytes, not cap_sizes' 48h): not checked. */
        for (unsigned j = 0; j < i && f->caps[i].offset && !f->caps_from_dump; j++) {
            const struct scn_capref *a = &f->caps[j], *b = &f->caps[i];
            if (a->offset && a->offset < b->offset + cap_sizes[b->id] &&
                b->offset < a->offset + cap_sizes[a->id])
                return fail(c, map_get(map_get(capsn, cap_names[id]), "offset"), PCILAB_EEXIST,
                            "%s capability at 0x%x overlaps the %s capability at 0x%x", cap_names[id],
                            b->offset, cap_names[a->id], a->offset);
        }
    }
    if (f->pcie.speed && !has_pcie) /* unreachable: speed lives in the pcie capability */
        return fail(c, where, PCILAB_EINVAL, "link speed without a pcie capability");
    if (has_pcie && (f->pcie.speed || f->pcie.width) &&
        f->kind != SCN_ENDPOINT && f->kind != SCN_LEGACY_ENDPOINT && f->kind != SCN_UPSTREAM_PORT) {
        struct scn_ynode *pc = map_get(capsn, "pcie");
        struct scn_ynode *sn = map_get(pc, "speed");
        return fail(c, sn ? sn : map_get(pc, "width"), PCILAB_EINVAL,
                    "the trained 'speed'/'width' of a link is given on the device below it (endpoint or upstream_port), not on a %s",
                    a_kind(f->kind));
    }
    if (find_cap(f, SCN_CAP_IOMMU) && parent >= 0)
        return fail(c, map_key(capsn, "iommu"), PCILAB_EINVAL,
                    "the iommu capability belongs to a function on the root bus");
    if (find_cap(f, SCN_CAP_MSIX)) {
        const struct scn_msix *x2 = &f->msix;
        const struct scn_ynode *mn = map_get(capsn, "msix");
        struct { uint8_t bir; uint32_t off; uint64_t len; const char *what; } parts[2] = {
            {x2->table_bir, x2->table_offset, (uint64_t)x2->table_size * 16, "table"},
            {x2->pba_bir, x2->pba_offset, ((x2->table_size + 63) / 64) * 8ull, "pba"},
        };
        for (unsigned i = 0; i < 2; i++) {
            const struct scn_bar *b = &f->bars[parts[i].bir];
            const struct scn_ynode *pn = map_get(mn, parts[i].what);
            if (b->type != SCN_BAR_MEM32 && b->type != SCN_BAR_MEM64)
                return fail(c, map_get(pn, "bar"), PCILAB_EINVAL,
                            "msix %s is in BAR %u, which is not a memory BAR of this function (PCIe 5.0 7.7.2.3)",
                            parts[i].what, parts[i].bir);
            if (parts[i].off + parts[i].len > b->size)
                return fail(c, map_get(pn, "offset"), PCILAB_ERANGE,
                            "msix %s (0x%x + %" PRIu64 " bytes) does not fit in BAR %u (%" PRIu64 " bytes)",
                            parts[i].what, parts[i].off, parts[i].len, parts[i].bir, b->size);
        }
        if (parts[0].bir == parts[1].bir && parts[0].off < parts[1].off + parts[1].len &&
            parts[1].off < parts[0].off + parts[0].len)
            return fail(c, map_get(map_get(mn, "pba"), "offset"), PCILAB_EEXIST,
                        "msix pba at 0x%x overlaps the table at 0x%x in BAR %u", parts[1].off,
                        parts[0].off, parts[0].bir);
    }

    if ((v = map_get(n, "model")) && (rc = get_ident(c, v, "model", f->model, sizeof f->model)))
        return rc;
    if ((v = map_get(n, "params")) && (rc = parse_params(c, v, f)))
        return rc;

    if ((v = map_get(n, "children"))) {
        if (!bridge)
            return fail(c, map_key(n, "children"), PCILAB_EINVAL,
                        "'children' is only for root_port, upstream_port and downstream_port (%s has no secondary bus)",
                        a_kind(f->kind));
        /* f may move when the array grows: use the index from here on. */
        if ((rc = parse_bus(c, v, idx)))
            return rc;
    }
    return 0;
}

static int parse_bus(struct ctx *c, const struct scn_ynode *list, int parent)
{
    char d[64];
    if (list->type != SCN_Y_SEQ)
        return fail(c, list, PCILAB_EINVAL, "'%s' must be a sequence of functions, got %s",
                    parent < 0 ? "functions" : "children", scn_yaml_describe(list, d, sizeof d));
    for (size_t i = 0; i < list->nkids; i++) {
        int rc = parse_func(c, list->kids[i], parent);
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* whole-machine checks                                                       */

static void func_label(const struct scn_machine *m, const struct scn_func *f, char *buf, size_t len)
{
    if (f->bus >= 0) {
        snprintf(buf, len, "%02x:%02x.%u", (unsigned)f->bus, f->dev, f->fn);
    } else {
        /* Not yet enumerated: name it by its parent port. */
        const struct scn_func *p = &m->funcs[f->parent];
        char up[SCN_NAME_MAX];
        if (p->name[0])
            snprintf(up, sizeof up, "%s", p->name);
        else if (p->bus >= 0)
            snprintf(up, sizeof up, "%02x:%02x.%u", (unsigned)p->bus, p->dev, p->fn);
        else
            snprintf(up, sizeof up, "line %u", p->line);
        snprintf(buf, len, "%02x.%u below %s", f->dev, f->fn, up);
    }
}

static int check_machine(struct ctx *c, const struct scn_ynode *fnode)
{
    struct scn_machine *m = c->m;
    /* Multi-function devices: Function 0 must exist, and Header Type bit 7 says
     * the device has more than one function (PCIe 5.0 7.5.1.1.9). */
    for (unsigned i = 0; i < m->nfuncs; i++) {
        struct scn_func *f = &m->funcs[i];
        bool has0 = false, multi = false;
        for (unsigned j = 0; j < m->nfuncs; j++) {
            const struct scn_func *g = &m->funcs[j];
            if (g->parent != f->parent || g->dev != f->dev)
                continue;
            if (g->fn == 0)
                has0 = true;
            if (j != i)
                multi = true;
        }
        if (!has0 && !c->machine_from) { /* a dump may be partial (lspci -s) */
            char lab[96];
            func_label(m, f, lab, sizeof lab);
            return pcilab_err_at(c->err, PCILAB_EINVAL, c->file, f->line, f->col,
                                 "function %s has no function 0 in its device: software finds a device by function 0 (PCIe 5.0 7.5.1.1.9)",
                                 lab);
        }
        if (multi)
            f->header_type |= 0x80;
    }
    /* Bus numbers: one for the root bus and one per bridge. */
    unsigned bridges = 0;
    for (unsigned i = 0; i < m->nfuncs; i++)
        bridges += kind_is_bridge(m->funcs[i].kind);
    unsigned nbuses = (unsigned)m->rc.bus_last - m->rc.bus_first + 1;
    if (bridges + 1 > nbuses)
        return fail(c, fnode, PCILAB_ERANGE,
                    "the topology needs %u bus numbers (the root bus and one per bridge), but the root complex has %u",
                    bridges + 1, nbuses);
    /* Links: each device below a root or downstream port trains with it to the
     * highest common speed and the widest common width (PCIe 5.0 4.2.6). Function
     * 0 speaks for the device. */
    for (unsigned i = 0; i < m->nfuncs; i++) {
        struct scn_func *port = &m->funcs[i];
        if (port->kind != SCN_ROOT_PORT && port->kind != SCN_DOWNSTREAM_PORT)
            continue;
        struct scn_func *dev0 = NULL;
        for (unsigned j = 0; j < m->nfuncs; j++)
            if (m->funcs[j].parent == (int)i && m->funcs[j].fn == 0)
                dev0 = &m->funcs[j];
        if (!dev0)
            continue; /* empty slot: link down, speed/width 0 */
        uint8_t speed = port->pcie.max_speed < dev0->pcie.max_speed ? port->pcie.max_speed
                                                                    : dev0->pcie.max_speed;
        uint8_t width = port->pcie.max_width < dev0->pcie.max_width ? port->pcie.max_width
                                                                    : dev0->pcie.max_width;
        if (dev0->pcie.speed) {
            if (dev0->pcie.speed > speed)
                return pcilab_err_at(c->err, PCILAB_EINVAL, c->file, dev0->line, dev0->col,
                                     "the link cannot train at gen%u: the port supports gen%u and the device gen%u",
                                     dev0->pcie.speed, port->pcie.max_speed, dev0->pcie.max_speed);
            speed = dev0->pcie.speed;
        }
        if (dev0->pcie.width) {
            if (dev0->pcie.width > width)
                return pcilab_err_at(c->err, PCILAB_EINVAL, c->file, dev0->line, dev0->col,
                                     "the link cannot train at x%u: the port has x%u and the device x%u",
                                     dev0->pcie.width, port->pcie.max_width, dev0->pcie.max_width);
            width = dev0->pcie.width;
        }
        port->pcie.speed = speed;
        port->pcie.width = width;
        for (unsigned j = 0; j < m->nfuncs; j++)
            if (m->funcs[j].parent == (int)i) {
                m->funcs[j].pcie.speed = speed;
                m->funcs[j].pcie.width = width;
            }
    }
    /* Labels are unique (they name functions for --set and messages). */
    for (unsigned i = 0; i < m->nfuncs; i++)
        for (unsigned j = 0; j < i && m->funcs[i].name[0]; j++)
            if (!strcmp(m->funcs[i].name, m->funcs[j].name))
                return pcilab_err_at(c->err, PCILAB_EEXIST, c->file, m->funcs[i].line,
                                     m->funcs[i].col,
                                     "duplicate function name '%s' (first at line %u)",
                                     m->funcs[i].name, m->funcs[j].line);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* memory: RAM and reserved ranges                                            */

static bool range_overlap(uint64_t ab, uint64_t as, uint64_t bb, uint64_t bs)
{
    return as && bs && ab <= bb + (bs - 1) && bb <= ab + (as - 1);
}

static int parse_ranges(struct ctx *c, const struct scn_ynode *n, const char *key,
                        struct scn_range *out, unsigned *count, bool named)
{
    static const char *const keys_named[] = {"base", "size", "name", NULL};
    static const char *const keys_plain[] = {"base", "size", NULL};
    char d[64], what[48];
    if (n->type != SCN_Y_SEQ)
        return fail(c, n, PCILAB_EINVAL, "'%s' must be a sequence of {base, size%s}, got %s", key,
                    named ? ", name" : "", scn_yaml_describe(n, d, sizeof d));
    if (n->nkids > SCN_MAX_RANGES)
        return fail(c, n, PCILAB_ERANGE, "too many '%s' ranges (%zu, at most %d)", key, n->nkids,
                    SCN_MAX_RANGES);
    snprintf(what, sizeof what, "a '%s' range", key);
    for (size_t i = 0; i < n->nkids; i++) {
        const struct scn_ynode *r = n->kids[i];
        struct scn_range *x = &out[(*count)];
        struct scn_ynode *v;
        memset(x, 0, sizeof *x);
        int rc = check_map(c, r, what, named ? keys_named : keys_plain);
        if (rc || (rc = need(c, r, what, "base", &v)) ||
            (rc = get_uint(c, v, "base", 0, UINT64_MAX, true, &x->base)))
            return rc;
        if ((rc = need(c, r, what, "size", &v)) || (rc = get_size(c, v, "size", &x->size)))
            return rc;
        if (x->size == 0 || (x->size & 0xfff) || (x->base & 0xfff))
            return fail(c, r, PCILAB_EINVAL,
                        "'%s' range 0x%" PRIx64 "+0x%" PRIx64 " must be non-empty and 4 KiB aligned (base and size)",
                        key, x->base, x->size);
        if (x->base + (x->size - 1) < x->base)
            return fail(c, r, PCILAB_ERANGE, "'%s' range 0x%" PRIx64 "+0x%" PRIx64 " runs past 2^64",
                        key, x->base, x->size);
        if (named && (v = map_get(r, "name")) && (rc = get_string(c, v, "name", x->name, sizeof x->name)))
            return rc;
        x->line = r->line;
        x->col = r->col;
        (*count)++;
    }
    return 0;
}

/* The `size` form lays RAM out as a PC does: below the lowest of the 32-bit MMIO
 * aperture, the ECAM region and the reserved ranges above 1 MiB, with the legacy
 * VGA/BIOS hole 0xa0000-0xfffff reserved, the rest from 4 GiB up. */
static int layout_size(struct ctx *c, const struct scn_ynode *where, uint64_t size)
{
    struct scn_machine *m = c->m;
    struct scn_memory *mem = &m->memory;
    if (size < (2u << 20) || (size & 0xfffff))
        return fail(c, where, PCILAB_EINVAL,
                    "memory 'size' must be a multiple of 1 MiB and at least 2 MiB, got 0x%" PRIx64, size);
    uint64_t hole = m->rc.mmio32.base;
    if (m->rc.ecam_base < hole)
        hole = m->rc.ecam_base;
    for (unsigned i = 0; i < mem->nreserved; i++)
        if (mem->reserved[i].base >= (1u << 20) && mem->reserved[i].base < hole)
            hole = mem->reserved[i].base;
    hole &= ~0xfffffull;
    if (hole < (2u << 20))
        return fail(c, where, PCILAB_EINVAL,
                    "no room for RAM below 0x%" PRIx64 " (the 32-bit MMIO hole); give 'ram' ranges", hole);
    uint64_t low = size < hole ? size : hole;
    if (mem->nreserved >= SCN_MAX_RANGES)
        return fail(c, where, PCILAB_ERANGE, "too many reserved ranges");
    mem->ram[mem->nram++] = (struct scn_range){.base = 0, .size = 0xa0000};
    mem->reserved[mem->nreserved++] = (struct scn_range){.base = 0xa0000, .size = 0x60000,
                                                         .name = "Legacy VGA and BIOS"};
    mem->ram[mem->nram++] = (struct scn_range){.base = 1u << 20, .size = low - (1u << 20)};
    /* The rest from 4 GiB, or above an ECAM region that runs past 4 GiB. */
    uint64_t high = 1ull << 32;
    uint64_t ecam_end = m->rc.ecam_base + ((uint64_t)(m->rc.bus_last - m->rc.bus_first + 1) << 20);
    if (m->rc.ecam_base < high && ecam_end > high)
        high = ecam_end;
    /* The legacy hole's 384 KiB are remapped above 4 GiB, so `size` is all usable. */
    if (size + 0x60000 > low)
        mem->ram[mem->nram++] = (struct scn_range){.base = high, .size = size + 0x60000 - low};
    return 0;
}

static int parse_memory(struct ctx *c, const struct scn_ynode *n)
{
    static const char *const keys[] = {"size", "ram", "reserved", NULL};
    struct scn_machine *m = c->m;
    struct scn_memory *mem = &m->memory;
    const struct scn_ynode *sizen = NULL, *ramn = NULL, *where = n;
    int rc;
    if (n) {
        if ((rc = check_map(c, n, "'memory'", keys)))
            return rc;
        sizen = map_get(n, "size");
        ramn = map_get(n, "ram");
        const struct scn_ynode *resn = map_get(n, "reserved");
        if (sizen && ramn)
            return fail(c, ramn, PCILAB_EINVAL, "give either memory 'size' or 'ram' ranges, not both");
        if (resn && (rc = parse_ranges(c, resn, "reserved", mem->reserved, &mem->nreserved, true)))
            return rc;
    }
    if (ramn) {
        if ((rc = parse_ranges(c, ramn, "ram", mem->ram, &mem->nram, false)))
            return rc;
    } else {
        uint64_t size = 4ull << 30; /* default: 4 GiB */
        if (sizen) {
            if ((rc = get_size(c, sizen, "size", &size)))
                return rc;
            where = sizen;
        }
        if ((rc = layout_size(c, where, size)))
            return rc;
    }
    /* Checks: nothing overlaps; RAM stays out of ECAM and the MMIO apertures. */
    uint64_t ecam_size = (uint64_t)(m->rc.bus_last - m->rc.bus_first + 1) << 20;
    const struct { const char *what; uint64_t base, size; } holes[] = {
        {"the ECAM region", m->rc.ecam_base, ecam_size},
        {"the mmio32 aperture", m->rc.mmio32.base, m->rc.mmio32.size},
        {"the mmio64 aperture", m->rc.mmio64.base, m->rc.mmio64.size},
    };
    unsigned total = mem->nram + mem->nreserved;
    mem->total = 0;
    for (unsigned i = 0; i < total; i++) {
        const struct scn_range *a = i < mem->nram ? &mem->ram[i] : &mem->reserved[i - mem->nram];
        bool ram = i < mem->nram;
        const char *kind = ram ? "RAM" : "reserved";
        unsigned line = a->line ? a->line : (where ? where->line : 0);
        unsigned col = a->line ? a->col : (where ? where->col : 0);
        if (ram)
            mem->total += a->size;
        for (unsigned h = 0; h < (ram ? 3u : 1u); h++)
            if (range_overlap(a->base, a->size, holes[h].base, holes[h].size))
                return pcilab_err_at(c->err, PCILAB_EEXIST, c->file, line, col,
                                     "%s range 0x%" PRIx64 "-0x%" PRIx64 " overlaps %s (0x%" PRIx64 "-0x%" PRIx64 ")",
                                     kind, a->base, a->base + (a->size - 1), holes[h].what,
                                     holes[h].base, holes[h].base + (holes[h].size - 1));
        for (unsigned j = 0; j < i; j++) {
            const struct scn_range *b = j < mem->nram ? &mem->ram[j] : &mem->reserved[j - mem->nram];
            if (range_overlap(a->base, a->size, b->base, b->size))
                return pcilab_err_at(c->err, PCILAB_EEXIST, c->file, line, col,
                                     "%s range 0x%" PRIx64 "-0x%" PRIx64 " overlaps the %s range 0x%" PRIx64 "-0x%" PRIx64,
                                     kind, a->base, a->base + (a->size - 1),
                                     j < mem->nram ? "RAM" : "reserved", b->base, b->base + (b->size - 1));
        }
    }
    /* RAM ranges in ascending order (the address map and reports list them so). */
    for (unsigned i = 1; i < mem->nram; i++)
        for (unsigned j = i; j > 0 && mem->ram[j - 1].base > mem->ram[j].base; j--) {
            struct scn_range t = mem->ram[j];
            mem->ram[j] = mem->ram[j - 1];
            mem->ram[j - 1] = t;
        }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* machine_from: the whole tree from a dump of a real machine                 */

static bool dump_placement_ok(const struct scn_func *up, enum scn_kind k, unsigned dev)
{
    if (!up)
        return k == SCN_HOST_BRIDGE || k == SCN_INTEGRATED || k == SCN_RCIEP || k == SCN_ROOT_PORT;
    if (up->kind == SCN_UPSTREAM_PORT)
        return k == SCN_DOWNSTREAM_PORT;
    return dev == 0 && (k == SCN_ENDPOINT || k == SCN_LEGACY_ENDPOINT || k == SCN_UPSTREAM_PORT);
}

struct dump_walk {
    const struct pcie_dump *d;
    const char *path;
    const int *kinds;
    bool *done;
    bool bus_reached[256];
};

/* Adds the functions on `bus` in devfn order, each bridge followed by its
 * secondary bus (depth first, as scn_machine keeps them). */
static int dump_visit(struct ctx *c, struct dump_walk *w, unsigned bus, int parent)
{
    w->bus_reached[bus] = true;
    for (unsigned devfn = 0; devfn < 256; devfn++) {
        for (size_t i = 0; i < w->d->count; i++) {
            const struct pcie_dump_func *df = &w->d->funcs[i];
            if (w->done[i] || df->bus != bus || (unsigned)(df->dev << 3 | df->fn) != devfn)
                continue;
            w->done[i] = true;
            enum scn_kind k = (enum scn_kind)w->kinds[i];
            const struct scn_func *up = parent >= 0 ? &c->m->funcs[parent] : NULL;
            if (!dump_placement_ok(up, k, df->dev))
                return pcilab_err_at(c->err, PCILAB_EINVAL, w->path, df->line, 1,
                                     "%02x:%02x.%u is %s, which cannot sit %s%s", df->bus, df->dev,
                                     df->fn, a_kind(k), up ? "below " : "on the root bus",
                                     up ? a_kind(up->kind) : "");
            if (c->m->nfuncs >= SCN_MAX_FUNCS)
                return pcilab_err_at(c->err, PCILAB_ERANGE, w->path, df->line, 1,
                                     "more than %d functions in one machine", SCN_MAX_FUNCS);
            int idx;
            struct scn_func *f = new_func(c, &idx);
            if (!f)
                return pcilab_errf(c->err, PCILAB_ENOMEM, "out of memory");
            f->line = df->line;
            f->col = 1;
            f->kind = k;
            f->bus = (int)bus;
            f->dev = df->dev;
            f->fn = df->fn;
            f->parent = parent;
            int rc = dump_copy(c, f, df, w->path);
            if (rc)
                return rc;
            dump_ident(f);
            if (f->config_len >= 0x100) {
                dump_caps(f);
                f->caps_from_dump = true;
            }
            if (kind_port_type[k] != 0xff)
                f->pcie.port_type = kind_port_type[k];
            if (f->kind != SCN_ENDPOINT && f->kind != SCN_LEGACY_ENDPOINT && f->kind != SCN_UPSTREAM_PORT)
                f->pcie.speed = f->pcie.width = 0;
            if (!kind_is_bridge(k))
                continue;
            /* Bus numbers, PCIe 5.0 7.5.1.3.3-7.5.1.3.5. */
            unsigned sec = df->bytes[0x19], sub = df->bytes[0x1a];
            if (sec <= bus || sub < sec)
                return pcilab_err_at(c->err, PCILAB_EINVAL, w->path, df->line, 1,
                                     "bridge %02x:%02x.%u has secondary bus %02x and subordinate %02x: the machine was not enumerated when dumped (secondary must be above %02x)",
                                     df->bus, df->dev, df->fn, sec, sub, bus);
            if (w->bus_reached[sec])
                return pcilab_err_at(c->err, PCILAB_EINVAL, w->path, df->line, 1,
                                     "bridge %02x:%02x.%u leads to bus %02x, which another bridge already leads to",
                                     df->bus, df->dev, df->fn, sec);
            if (sec > c->m->rc.bus_last)
                return pcilab_err_at(c->err, PCILAB_ERANGE, w->path, df->line, 1,
                                     "bridge %02x:%02x.%u leads to bus %02x, beyond the root complex's last bus %02x",
                                     df->bus, df->dev, df->fn, sec, c->m->rc.bus_last);
            if ((rc = dump_visit(c, w, sec, idx)))
                return rc;
        }
    }
    return 0;
}

static int machine_from_dump(struct ctx *c, const struct scn_ynode *mn)
{
    struct scn_machine *m = c->m;
    const struct pcie_dump *d;
    char path[SCN_PATH_MAX + SCN_PATH_MAX];
    int rc = dump_get(c, mn, m->machine_from, &d, path, sizeof path);
    if (rc)
        return rc;
    if (strlen(path) >= sizeof m->machine_from)
        return fail(c, mn, PCILAB_ERANGE, "dump path '%s' is too long", path);
    memcpy(m->machine_from, path, strlen(path) + 1);
    if (d->count == 0)
        return fail(c, mn, PCILAB_EINVAL, "dump '%s' has no functions", path);
    if (d->count > SCN_MAX_FUNCS)
        return pcilab_err_at(c->err, PCILAB_ERANGE, path, d->funcs[SCN_MAX_FUNCS].line, 1,
                             "the dump holds %zu functions: at most %d in one machine",
                             (size_t)d->count, SCN_MAX_FUNCS);
    int *kinds = calloc(d->count, sizeof *kinds);
    struct dump_walk *w = calloc(1, sizeof *w);
    bool *done = calloc(d->count, sizeof *done);
    if (!kinds || !w || !done) {
        free(kinds);
        free(w);
        free(done);
        return pcilab_errf(c->err, PCILAB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < d->count && !rc; i++) {
        const struct pcie_dump_func *df = &d->funcs[i];
        const char *why = "";
        if (df->domain != m->rc.segment)
            rc = pcilab_err_at(c->err, PCILAB_EINVAL, path, df->line, 1,
                               "function %04x:%02x:%02x.%u is in domain %04x, but the root complex is segment %04x",
                               df->domain, df->bus, df->dev, df->fn, df->domain, m->rc.segment);
        else if (df->len < 0x40 || !pcie_dump_func_has(df, 0, 0x40))
            rc = pcilab_err_at(c->err, PCILAB_EINVAL, path, df->line, 1,
                               "%02x:%02x.%u has only %u bytes; the 64-byte header is the least (lspci -x)",
                               df->bus, df->dev, df->fn, df->present);
        else if ((kinds[i] = dump_kind(df->bytes, df->len, df->bus == m->rc.bus_first, &why)) == -2)
            rc = pcilab_err_at(c->err, PCILAB_EINVAL, path, df->line, 1,
                               "bridge %02x:%02x.%u: its capabilities are not in the dump, so its port type is unknown (dump with lspci -xxx or -xxxx)",
                               df->bus, df->dev, df->fn);
        else if (kinds[i] < 0)
            rc = pcilab_err_at(c->err, PCILAB_EUNSUPPORTED, path, df->line, 1, "%02x:%02x.%u is %s",
                               df->bus, df->dev, df->fn, why);
        for (size_t j = 0; j < i && !rc; j++) {
            const struct pcie_dump_func *g = &d->funcs[j];
            if (g->domain == df->domain && g->bus == df->bus && g->dev == df->dev && g->fn == df->fn)
                rc = pcilab_err_at(c->err, PCILAB_EEXIST, path, df->line, 1,
                                   "%02x:%02x.%u appears twice (first at line %u)", df->bus, df->dev,
                                   df->fn, g->line);
        }
    }
    if (!rc) {
        w->d = d;
        w->path = path;
        w->kinds = kinds;
        w->done = done;
        rc = dump_visit(c, w, m->rc.bus_first, -1);
    }
    for (size_t i = 0; i < d->count && !rc; i++)
        if (!done[i])
            rc = pcilab_err_at(c->err, PCILAB_EINVAL, path, d->funcs[i].line, 1,
                               "%02x:%02x.%u is on bus %02x, which no bridge in the dump leads to (the root bus is %02x)",
                               d->funcs[i].bus, d->funcs[i].dev, d->funcs[i].fn, d->funcs[i].bus,
                               m->rc.bus_first);
    free(kinds);
    free(w);
    free(done);
    if (rc)
        return rc;
    /* Whole-machine checks with the dump as the file the functions come from. */
    const char *file = c->file;
    c->file = m->machine_from;
    rc = check_machine(c, NULL);
    c->file = file;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* kernel: the host kernel that runs on the machine                           */

/* One entry of kernel: modules: {name: ecp5_dma, at: 0.1s, params: {dma_bits: 32}} */
static int parse_module(struct ctx *c, const struct scn_ynode *n, struct scn_module *mo)
{
    static const char *const keys[] = {"name", "at", "params", NULL};
    char d[64];
    struct scn_ynode *v;
    int rc = check_map(c, n, "a module of 'modules'", keys);
    if (rc)
        return rc;
    mo->line = n->line;
    mo->col = n->col;
    if (!(v = map_get(n, "name")))
        return fail(c, n, PCILAB_EINVAL, "a module needs a 'name' (ecp5_dma, ecp3_can)");
    if ((rc = get_string(c, v, "name", mo->name, sizeof mo->name)))
        return rc;
    if (!drivers_find(mo->name))
        return fail(c, v, PCILAB_ENOENT, "no driver '%s' in pcilab (drivers: ecp5_dma, ecp3_can)",
                    mo->name);
    if ((v = map_get(n, "at"))) {
        /* the device models' time syntax (devices/devices.h): "49s", "100ms" */
        static const struct dev_param_desc at = {"at", DEV_PARAM_TIME, 0, 1000000 * SIM_S,
                                                 NULL, "0s", "insmod time"};
        union dev_value t;
        struct pcilab_err perr;
        pcilab_err_clear(&perr);
        if ((rc = want_scalar(c, v, "at", "a time such as 0.1s")))
            return rc;
        if (dev_param_parse(mo->name, &at, v->text, &t, &perr) < 0)
            return fail(c, v, perr.code ? perr.code : PCILAB_EINVAL, "%s", perr.msg);
        mo->at = t.t;
    }
    if ((v = map_get(n, "params"))) {
        if (v->type != SCN_Y_MAP)
            return fail(c, v, PCILAB_EINVAL, "'params' must be a mapping, got %s",
                        scn_yaml_describe(v, d, sizeof d));
        size_t off = 0;
        for (size_t i = 0; i + 1 < v->nkids; i += 2) {
            const struct scn_ynode *k = v->kids[i], *x = v->kids[i + 1];
            for (size_t j = 0; j < i; j += 2)
                if (!strcmp(v->kids[j]->text, k->text))
                    return fail(c, k, PCILAB_EINVAL, "duplicate key '%s' (first at line %u)",
                                k->text, v->kids[j]->line);
            if (x->type != SCN_Y_SCALAR || strlen(x->text) != x->len || !x->len)
                return fail(c, x, PCILAB_EINVAL, "module parameter '%s' must be a scalar, got %s",
                            k->text, scn_yaml_describe(x, d, sizeof d));
            /* insmod splits its arguments at blanks: a name or value with one
             * cannot be passed */
            if (!k->len || strpbrk(k->text, " \t=") || strpbrk(x->text, " \t"))
                return fail(c, strpbrk(k->text, " \t=") || !k->len ? k : x, PCILAB_EINVAL,
                            "module parameter names and values cannot hold blanks or '='");
            int w = snprintf(mo->params + off, sizeof mo->params - off, "%s%s=%s",
                             off ? " " : "", k->text, x->text);
            if (w < 0 || (size_t)w >= sizeof mo->params - off)
                return fail(c, v, PCILAB_ERANGE, "module parameters longer than %zu bytes",
                            sizeof mo->params - 1);
            off += (size_t)w;
        }
    }
    return 0;
}

static int parse_modules(struct ctx *c, const struct scn_ynode *n, struct scn_kernel *k)
{
    char d[64];
    if (n->type != SCN_Y_SEQ)
        return fail(c, n, PCILAB_EINVAL, "'modules' must be a sequence, got %s",
                    scn_yaml_describe(n, d, sizeof d));
    if (n->nkids > SCN_MAX_MODULES)
        return fail(c, n, PCILAB_ERANGE, "too many modules (%zu, at most %d)", n->nkids,
                    SCN_MAX_MODULES);
    for (size_t i = 0; i < n->nkids; i++) {
        int rc = parse_module(c, n->kids[i], &k->modules[i]);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(k->modules[j].name, k->modules[i].name))
                return fail(c, n->kids[i], PCILAB_EEXIST, "module '%s' listed twice (first at "
                            "line %u)", k->modules[i].name, k->modules[j].line);
        k->nmodules = (unsigned)i + 1;
    }
    return 0;
}

static int parse_kernel(struct ctx *c, const struct scn_ynode *key, const struct scn_ynode *n)
{
    static const char *const keys[] = {"version", "cmdline", "cpus", "dma_debug", "modules",
                                       NULL};
    struct scn_kernel *k = &c->m->kernel;
    struct scn_ynode *v;
    int rc = check_map(c, n, "'kernel'", keys);
    if (rc)
        return rc;
    k->line = key->line;
    k->col = key->col;
    if ((v = map_get(n, "version"))) {
        if ((rc = get_string(c, v, "version", k->version, sizeof k->version)))
            return rc;
        /* Only the versions host/kver.h models; its message lists them. */
        struct pcilab_err kerr;
        pcilab_err_clear(&kerr);
        if (host_kver_find(k->version, NULL, &kerr))
            return fail(c, v, kerr.code ? kerr.code : PCILAB_EINVAL, "%s", kerr.msg);
    }
    if ((v = map_get(n, "cmdline")) &&
        (rc = get_string(c, v, "cmdline", k->cmdline, sizeof k->cmdline)))
        return rc;
    OPT_UINT(c, n, "cpus", 1, 64, false, k->cpus);
    OPT_BOOL(c, n, "dma_debug", k->dma_debug);
    if ((v = map_get(n, "modules")) && (rc = parse_modules(c, v, k)))
        return rc;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* firmware: the ACPI IVRS table (AMD I/O Virtualization Technology spec      */
/* 48882 rev 3.05, 5.2)                                                       */

/* Defaults, documented in docs/scenario-format.md. IVinfo (48882 5.2.1):
 * VAsize 21:15 = 0x40 (64 bits), PAsize 14:8 = 0x30 (48 bits), GVAsize 7:5 =
 * 010b (48 bits), EFRSup bit 0 = 1; DMA remap (bit 1) and HT ATS reserved
 * (bit 22) clear. */
#define SCN_IVINFO_DEFAULT 0x00203041u
/* IVHD flags (48882 5.2.2.1): IotlbSup (bit 4), Coherent (bit 5), PPRSup (bit 7). */
#define SCN_IVHD_FLAGS_DEFAULT 0xb0u

/* A device ID from a BDF (48882 5.2.2.2: bus << 8 | device << 3 | function).
 * A segment, if written, must be the root complex's. */
static int get_devid(struct ctx *c, const struct scn_ynode *n, const char *key, uint16_t *out)
{
    int rc = want_scalar(c, n, key, "a BDF");
    if (rc)
        return rc;
    int seg;
    unsigned bus, dev, fn;
    if (!parse_bdf(n->text, &seg, &bus, &dev, &fn))
        return fail(c, n, PCILAB_EINVAL,
                    "'%s' must be BB:DD.F or SSSS:BB:DD.F in hex (device 00..1f, function 0..7), got '%s'",
                    key, n->text);
    if (seg >= 0 && seg != c->m->rc.segment)
        return fail(c, n, PCILAB_EINVAL, "'%s' %s is in segment %04x, but the root complex is segment %04x",
                    key, n->text, (unsigned)seg, c->m->rc.segment);
    *out = (uint16_t)(bus << 8 | dev << 3 | fn);
    return 0;
}

static void devid_str(uint16_t id, char *buf, size_t len)
{
    snprintf(buf, len, "%02x:%02x.%u", id >> 8, (id >> 3) & 31u, id & 7u);
}

/* first..last of a range; `what` names it in the message. */
static int check_first_last(struct ctx *c, const struct scn_ynode *where, const char *what,
                            uint16_t first, uint16_t last)
{
    if (first <= last)
        return 0;
    char a[16], b[16];
    devid_str(first, a, sizeof a);
    devid_str(last, b, sizeof b);
    return fail(c, where, PCILAB_EINVAL,
                "%s: first %s (device ID 0x%04x) is above last %s (0x%04x)", what, a, first, b, last);
}

/* `data`: the DTE setting byte of a device entry (48882 5.2.2.2), default 0. */
static int get_data(struct ctx *c, const struct scn_ynode *map, uint8_t *out)
{
    struct scn_ynode *n = map_get(map, "data");
    uint64_t v;
    if (!n)
        return 0;
    int rc = get_uint(c, n, "data", 0, 0xff, true, &v);
    if (!rc)
        *out = (uint8_t)v;
    return rc;
}

/* range: [first, last] or {first, last, data} (and alias_range's {first,
 * last, source, data}). */
static int parse_ivhd_range(struct ctx *c, const char *key, const struct scn_ynode *v,
                            struct scn_ivhd_entry *e)
{
    char d[64], what[48];
    int rc;
    const struct scn_ynode *lastn;
    snprintf(what, sizeof what, "'%s'", key);
    bool alias = e->kind == SCN_IVHD_ALIAS_RANGE;
    if (!alias && v->type == SCN_Y_SEQ) {
        if (v->nkids != 2)
            return fail(c, v, PCILAB_EINVAL, "'%s' must be [first, last] or {first, last, data}, got a sequence of %zu",
                        key, v->nkids);
        if ((rc = get_devid(c, v->kids[0], key, &e->first)) ||
            (rc = get_devid(c, v->kids[1], key, &e->last)))
            return rc;
        lastn = v->kids[1];
    } else if (v->type == SCN_Y_MAP) {
        static const char *const keys[] = {"first", "last", "data", NULL};
        static const char *const akeys[] = {"first", "last", "source", "data", NULL};
        struct scn_ynode *x;
        if ((rc = check_map(c, v, what, alias ? akeys : keys)) ||
            (rc = need(c, v, what, "first", &x)) || (rc = get_devid(c, x, "first", &e->first)) ||
            (rc = need(c, v, what, "last", &x)) || (rc = get_devid(c, x, "last", &e->last)))
            return rc;
        lastn = x;
        if (alias && ((rc = need(c, v, what, "source", &x)) ||
                      (rc = get_devid(c, x, "source", &e->source))))
            return rc;
        if ((rc = get_data(c, v, &e->data)))
            return rc;
    } else {
        return fail(c, v, PCILAB_EINVAL, "'%s' must be %s, got %s", key,
                    alias ? "{first, last, source, data}" : "[first, last] or {first, last, data}",
                    scn_yaml_describe(v, d, sizeof d));
    }
    return check_first_last(c, lastn, what, e->first, e->last);
}

/* One device entry (48882 5.2.2.2): a mapping with one key. */
static int parse_ivhd_entry(struct ctx *c, const struct scn_ynode *n, struct scn_ivhd_entry *e)
{
    static const char *const keys[] = {"all", "select", "range", "alias", "alias_range",
                                       "special", NULL};
    char d[64];
    int rc;
    struct scn_ynode *x;
    memset(e, 0, sizeof *e);
    e->line = n->line;
    e->col = n->col;
    if (n->type != SCN_Y_MAP)
        return fail(c, n, PCILAB_EINVAL,
                    "an IVHD entry must be a mapping with one key (all, select, range, alias, alias_range or special), got %s",
                    scn_yaml_describe(n, d, sizeof d));
    if ((rc = check_map(c, n, "an IVHD entry", keys)))
        return rc;
    if (n->nkids == 0)
        return fail(c, n, PCILAB_EINVAL,
                    "an IVHD entry must have one key (all, select, range, alias, alias_range or special), this one has none");
    if (n->nkids > 2)
        return fail(c, n->kids[2], PCILAB_EINVAL,
                    "an IVHD entry has one key: '%s' and '%s' are two entries (write each as its own item of 'entries')",
                    n->kids[0]->text, n->kids[2]->text);
    const char *key = n->kids[0]->text;
    const struct scn_ynode *v = n->kids[1];
    if (!strcmp(key, "all")) {
        /* type 01h: every device ID; its Device ID field is reserved (0) */
        static const char *const akeys[] = {"data", NULL};
        e->kind = SCN_IVHD_ALL;
        if ((rc = check_map(c, v, "'all'", akeys)))
            return rc;
        return get_data(c, v, &e->data);
    }
    if (!strcmp(key, "select")) {
        /* type 02h */
        static const char *const skeys[] = {"devid", "data", NULL};
        e->kind = SCN_IVHD_SELECT;
        if (v->type != SCN_Y_MAP) {
            if ((rc = get_devid(c, v, "select", &e->first)))
                return rc;
        } else if ((rc = check_map(c, v, "'select'", skeys)) ||
                   (rc = need(c, v, "'select'", "devid", &x)) ||
                   (rc = get_devid(c, x, "devid", &e->first)) || (rc = get_data(c, v, &e->data))) {
            return rc;
        }
        e->last = e->first;
        return 0;
    }
    if (!strcmp(key, "range")) {
        e->kind = SCN_IVHD_RANGE; /* types 03h + 04h */
        return parse_ivhd_range(c, key, v, e);
    }
    if (!strcmp(key, "alias_range")) {
        e->kind = SCN_IVHD_ALIAS_RANGE; /* types 43h + 04h */
        return parse_ivhd_range(c, key, v, e);
    }
    if (!strcmp(key, "alias")) {
        /* type 42h: `devid` uses requester ID `source` */
        static const char *const akeys[] = {"devid", "source", "data", NULL};
        e->kind = SCN_IVHD_ALIAS;
        if ((rc = check_map(c, v, "'alias'", akeys)) || (rc = need(c, v, "'alias'", "devid", &x)) ||
            (rc = get_devid(c, x, "devid", &e->first)) || (rc = need(c, v, "'alias'", "source", &x)) ||
            (rc = get_devid(c, x, "source", &e->source)) || (rc = get_data(c, v, &e->data)))
            return rc;
        e->last = e->first;
        return 0;
    }
    /* special, type 48h: an IOAPIC (variety 1) or an HPET (variety 2) */
    static const char *const pkeys[] = {"ioapic", "hpet", "devid", "data", NULL};
    e->kind = SCN_IVHD_SPECIAL;
    if ((rc = check_map(c, v, "'special'", pkeys)))
        return rc;
    struct scn_ynode *io = map_get(v, "ioapic"), *hp = map_get(v, "hpet");
    if (io && hp)
        return fail(c, map_key(v, "hpet"), PCILAB_EINVAL,
                    "'special' names an ioapic or an hpet, not both");
    if (!io && !hp)
        return fail(c, v, PCILAB_EINVAL, "'special' is missing required key 'ioapic' or 'hpet'");
    uint64_t h;
    if ((rc = get_uint(c, io ? io : hp, io ? "ioapic" : "hpet", 0, 0xff, false, &h)))
        return rc;
    e->variety = io ? 1 : 2;
    e->handle = (uint8_t)h;
    if ((rc = need(c, v, "'special'", "devid", &x)) || (rc = get_devid(c, x, "devid", &e->first)))
        return rc;
    e->last = e->first;
    return get_data(c, v, &e->data);
}

/* One IVHD block (48882 5.2.2.1), emitted once per type in `types`. */
static int parse_ivhd(struct ctx *c, const struct scn_ynode *n, struct scn_ivhd *h)
{
    static const char *const keys[] = {"iommu", "types", "flags", "info", "efr", "entries", NULL};
    struct scn_machine *m = c->m;
    struct scn_ynode *v;
    char d[64];
    memset(h, 0, sizeof *h);
    h->line = n->line;
    h->col = n->col;
    h->types[0] = 0x10;
    h->types[1] = 0x11;
    h->ntypes = 2;
    h->flags = SCN_IVHD_FLAGS_DEFAULT;
    int rc = check_map(c, n, "an 'ivhd' block", keys);
    if (rc || (rc = need(c, n, "an 'ivhd' block", "iommu", &v)) ||
        (rc = want_scalar(c, v, "iommu", "a function name or BDF")))
        return rc;
    const struct scn_ynode *k = map_key(n, "iommu");
    int seg;
    unsigned bus, dev, fn;
    if (parse_bdf(v->text, &seg, &bus, &dev, &fn) && seg >= 0 && seg != m->rc.segment)
        return fail(c, k, PCILAB_ENOENT, "'iommu' %s is in segment %04x, but the root complex is segment %04x",
                    v->text, (unsigned)seg, m->rc.segment);
    h->iommu = scn_find_func(m, v->text);
    if (h->iommu < 0)
        return fail(c, k, PCILAB_ENOENT, "'iommu' %s names no function of this machine", v->text);
    const struct scn_func *f = &m->funcs[h->iommu];
    char lab[96];
    func_label(m, f, lab, sizeof lab);
    if (!find_cap(f, SCN_CAP_IOMMU))
        return fail(c, k, PCILAB_EINVAL,
                    "'iommu' %s is function %s, which has no iommu capability (an IVHD describes an AMD IOMMU, AMD 48882 5.2.2.1)",
                    v->text, lab);
    for (unsigned i = 0; i < m->firmware.nivhd; i++)
        if (m->firmware.ivhd[i].iommu == h->iommu)
            return fail(c, k, PCILAB_EEXIST,
                        "IOMMU %s already has an 'ivhd' block (line %u); list several IVHD types in its 'types'",
                        lab, m->firmware.ivhd[i].line);
    if ((v = map_get(n, "types"))) {
        if (v->type != SCN_Y_SEQ)
            return fail(c, v, PCILAB_EINVAL, "'types' must be a sequence of IVHD types (0x10, 0x11, 0x40), got %s",
                        scn_yaml_describe(v, d, sizeof d));
        if (v->nkids == 0)
            return fail(c, v, PCILAB_EINVAL, "'types' must list at least one IVHD type (0x10, 0x11, 0x40)");
        h->ntypes = 0;
        for (size_t i = 0; i < v->nkids; i++) {
            uint64_t t;
            if ((rc = get_uint(c, v->kids[i], "types", 0, 0xff, true, &t)))
                return rc;
            if (t != 0x10 && t != 0x11 && t != 0x40)
                return fail(c, v->kids[i], PCILAB_EINVAL,
                            "IVHD type 0x%02" PRIx64 " is not one of 0x10, 0x11, 0x40 (AMD 48882 5.2.2)", t);
            for (unsigned j = 0; j < h->ntypes; j++)
                if (h->types[j] == t)
                    return fail(c, v->kids[i], PCILAB_EEXIST, "'types' lists 0x%02" PRIx64 " twice", t);
            h->types[h->ntypes++] = (uint8_t)t;
        }
    }
    OPT_UINT(c, n, "flags", 0, 0xff, true, h->flags);
    OPT_UINT(c, n, "info", 0, 0xffff, true, h->info);
    if ((v = map_get(n, "efr"))) {
        if ((rc = get_uint(c, v, "efr", 0, UINT64_MAX, true, &h->efr)))
            return rc;
        h->has_efr = true;
    }
    if ((v = map_get(n, "entries"))) {
        if (v->type != SCN_Y_SEQ)
            return fail(c, v, PCILAB_EINVAL, "'entries' must be a sequence of device entries, got %s",
                        scn_yaml_describe(v, d, sizeof d));
        if (v->nkids > SCN_MAX_IVHD_ENTRIES)
            return fail(c, v, PCILAB_ERANGE, "too many IVHD 'entries' (%zu, at most %d)", v->nkids,
                        SCN_MAX_IVHD_ENTRIES);
        for (size_t i = 0; i < v->nkids; i++) {
            if ((rc = parse_ivhd_entry(c, v->kids[i], &h->entries[i])))
                return rc;
            h->nentries = (unsigned)i + 1;
        }
    }
    return 0;
}

/* One IVMD block (48882 5.2.3): types 20h (all), 21h (devid), 22h (range). */
static int parse_ivmd(struct ctx *c, const struct scn_ynode *n, struct scn_ivmd *b)
{
    static const char *const keys[] = {"all", "devid", "range", "start", "length", "unity",
                                       "read", "write", "exclusion", NULL};
    char d[64];
    struct scn_ynode *v;
    memset(b, 0, sizeof *b);
    b->line = n->line;
    b->col = n->col;
    int rc = check_map(c, n, "an 'ivmd' block", keys);
    if (rc)
        return rc;
    const char *which = NULL;
    for (size_t i = 0; i + 1 < n->nkids; i += 2) {
        const char *k = n->kids[i]->text;
        if (strcmp(k, "all") && strcmp(k, "devid") && strcmp(k, "range"))
            continue;
        if (which)
            return fail(c, n->kids[i], PCILAB_EINVAL,
                        "an 'ivmd' block takes one of 'all', 'devid' or 'range', not both '%s' and '%s'",
                        which, k);
        which = k;
    }
    if (!which)
        return fail(c, n, PCILAB_EINVAL,
                    "an 'ivmd' block needs one of 'all', 'devid' or 'range' (IVMD types 20h, 21h, 22h, AMD 48882 5.2.3)");
    if ((v = map_get(n, "all"))) {
        bool all = false;
        if ((rc = get_bool(c, v, "all", &all)))
            return rc;
        if (!all)
            return fail(c, v, PCILAB_EINVAL, "'all' must be true (for fewer devices write 'devid' or 'range')");
        b->kind = SCN_IVMD_ALL;
    } else if ((v = map_get(n, "devid"))) {
        b->kind = SCN_IVMD_SELECT;
        if ((rc = get_devid(c, v, "devid", &b->first)))
            return rc;
        b->last = b->first;
    } else {
        v = map_get(n, "range");
        b->kind = SCN_IVMD_RANGE;
        if (v->type != SCN_Y_SEQ || v->nkids != 2)
            return fail(c, v, PCILAB_EINVAL, "'range' must be [first, last], got %s",
                        scn_yaml_describe(v, d, sizeof d));
        if ((rc = get_devid(c, v->kids[0], "range", &b->first)) ||
            (rc = get_devid(c, v->kids[1], "range", &b->last)) ||
            (rc = check_first_last(c, v->kids[1], "'range'", b->first, b->last)))
            return rc;
    }
    if ((rc = need(c, n, "an 'ivmd' block", "start", &v)) ||
        (rc = get_uint(c, v, "start", 0, UINT64_MAX, true, &b->start)))
        return rc;
    if (b->start & 0xfff)
        return fail(c, v, PCILAB_EINVAL,
                    "'start' 0x%" PRIx64 " must be 4 KiB aligned (IVMD Start Address, AMD 48882 5.2.3)",
                    b->start);
    if ((rc = need(c, n, "an 'ivmd' block", "length", &v)) ||
        (rc = get_size(c, v, "length", &b->length)))
        return rc;
    if (b->length == 0)
        return fail(c, v, PCILAB_EINVAL, "'length' must not be 0");
    if (b->start + (b->length - 1) < b->start)
        return fail(c, v, PCILAB_ERANGE, "IVMD 0x%" PRIx64 "+0x%" PRIx64 " runs past 2^64", b->start,
                    b->length);
    /* IVMD flags, 48882 5.2.3: bit 0 Unity, 1 IR, 2 IW, 3 ExclusionRange. */
    static const char *const bits[] = {"unity", "read", "write", "exclusion"};
    for (unsigned i = 0; i < 4; i++) {
        bool on = false;
        OPT_BOOL(c, n, bits[i], on);
        if (on)
            b->flags |= (uint8_t)(1u << i);
    }
    return 0;
}

static int parse_ivrs(struct ctx *c, const struct scn_ynode *key, const struct scn_ynode *n)
{
    static const char *const keys[] = {"ivinfo", "ivhd", "ivmd", NULL};
    struct scn_firmware *fw = &c->m->firmware;
    char d[64];
    fw->ivrs = true;
    fw->line = key->line;
    fw->col = key->col;
    if (n->type != SCN_Y_MAP) {
        if (n->type == SCN_Y_SCALAR && n->plain && !strcmp(n->text, "none")) {
            fw->no_ivrs = true; /* firmware without an IVRS table */
            return 0;
        }
        return fail(c, n, PCILAB_EINVAL, "'ivrs' must be none or a mapping (ivinfo, ivhd, ivmd), got %s",
                    scn_yaml_describe(n, d, sizeof d));
    }
    int rc = check_map(c, n, "'ivrs'", keys);
    if (rc)
        return rc;
    fw->ivinfo = SCN_IVINFO_DEFAULT;
    OPT_UINT(c, n, "ivinfo", 0, 0xffffffffu, true, fw->ivinfo);
    struct scn_ynode *v;
    if ((v = map_get(n, "ivhd"))) {
        if (v->type != SCN_Y_SEQ)
            return fail(c, v, PCILAB_EINVAL, "'ivhd' must be a sequence of IVHD blocks, got %s",
                        scn_yaml_describe(v, d, sizeof d));
        if (v->nkids > SCN_MAX_IVHD)
            return fail(c, v, PCILAB_ERANGE, "too many 'ivhd' blocks (%zu, at most %d)", v->nkids,
                        SCN_MAX_IVHD);
        for (size_t i = 0; i < v->nkids; i++) {
            if ((rc = parse_ivhd(c, v->kids[i], &fw->ivhd[i])))
                return rc;
            fw->nivhd = (unsigned)i + 1;
        }
    }
    if ((v = map_get(n, "ivmd"))) {
        if (v->type != SCN_Y_SEQ)
            return fail(c, v, PCILAB_EINVAL, "'ivmd' must be a sequence of IVMD blocks, got %s",
                        scn_yaml_describe(v, d, sizeof d));
        if (v->nkids > SCN_MAX_IVMD)
            return fail(c, v, PCILAB_ERANGE, "too many 'ivmd' blocks (%zu, at most %d)", v->nkids,
                        SCN_MAX_IVMD);
        for (size_t i = 0; i < v->nkids; i++) {
            if ((rc = parse_ivmd(c, v->kids[i], &fw->ivmd[i])))
                return rc;
            fw->nivmd = (unsigned)i + 1;
        }
    }
    return 0;
}

/* One device scope of a DMAR structure (VT-d 8.3.1): "BB:DD.F" (an
 * endpoint), or a one-key mapping endpoint/bridge: BDF, or ioapic/hpet: ID
 * with at: BDF (the scope's start bus and path). */
static int parse_dmar_scope(struct ctx *c, const struct scn_ynode *n, struct scn_dmar_scope *sc)
{
    static const char *const keys[] = {"endpoint", "bridge", "ioapic", "hpet", "at", NULL};
    memset(sc, 0, sizeof *sc);
    sc->line = n->line;
    sc->col = n->col;
    uint16_t bdf = 0;
    int rc;
    if (n->type == SCN_Y_SCALAR) {
        if ((rc = get_devid(c, n, "devices", &bdf)))
            return rc;
        sc->type = 1;
    } else {
        if ((rc = check_map(c, n, "a DMAR device scope", keys)))
            return rc;
        static const char *const kinds[] = {"endpoint", "bridge", "ioapic", "hpet"};
        const char *which = NULL;
        for (unsigned i = 0; i < 4; i++) {
            if (!map_get(n, kinds[i]))
                continue;
            if (which)
                return fail(c, n, PCILAB_EINVAL,
                            "a DMAR device scope is one of endpoint, bridge, ioapic or hpet, not both '%s' and '%s'",
                            which, kinds[i]);
            which = kinds[i];
            sc->type = (uint8_t)(i + 1);
        }
        if (!which)
            return fail(c, n, PCILAB_EINVAL,
                        "a DMAR device scope needs one of endpoint, bridge, ioapic or hpet (VT-d 8.3.1)");
        struct scn_ynode *v = map_get(n, which);
        if (sc->type <= 2) {
            if (map_get(n, "at"))
                return fail(c, map_key(n, "at"), PCILAB_EINVAL,
                            "'at' is for ioapic and hpet scopes; an %s scope is its own BDF", which);
            if ((rc = get_devid(c, v, which, &bdf)))
                return rc;
        } else {
            uint64_t id;
            if ((rc = get_uint(c, v, which, 0, 0xff, false, &id)))
                return rc;
            sc->enum_id = (uint8_t)id;
            if ((rc = need(c, n, "an ioapic or hpet scope", "at", &v)) ||
                (rc = get_devid(c, v, "at", &bdf)))
                return rc;
        }
    }
    sc->bus = (uint8_t)(bdf >> 8);
    sc->dev = (uint8_t)(bdf >> 3 & 0x1f);
    sc->fn = (uint8_t)(bdf & 7);
    return 0;
}

/* One DRHD, RMRR or ATSR block of `dmar:`. */
static int parse_dmar_unit(struct ctx *c, const struct scn_ynode *n, unsigned type,
                           struct scn_dmar_unit *u)
{
    static const char *const dkeys[] = {"base", "include_pci_all", "devices", NULL};
    static const char *const rkeys[] = {"base", "limit", "devices", NULL};
    static const char *const akeys[] = {"all_ports", "devices", NULL};
    static const char *const what[] = {"a 'drhd' block", "an 'rmrr' block", "an 'atsr' block"};
    char d[64];
    memset(u, 0, sizeof *u);
    u->line = n->line;
    u->col = n->col;
    int rc = check_map(c, n, what[type], type == 0 ? dkeys : type == 1 ? rkeys : akeys);
    if (rc)
        return rc;
    struct scn_ynode *v;
    bool flag = false;
    if (type == 0) {
        if ((rc = need(c, n, what[type], "base", &v)) ||
            (rc = get_uint(c, v, "base", 0, UINT64_MAX, true, &u->base)))
            return rc;
        if (u->base & 0xfff)
            return fail(c, v, PCILAB_EINVAL,
                        "'base' 0x%" PRIx64 " must be 4 KiB aligned (DRHD Register Base Address, VT-d 8.3)",
                        u->base);
        OPT_BOOL(c, n, "include_pci_all", flag);
    } else if (type == 1) {
        if ((rc = need(c, n, what[type], "base", &v)) ||
            (rc = get_uint(c, v, "base", 0, UINT64_MAX, true, &u->base)))
            return rc;
        if (u->base & 0xfff)
            return fail(c, v, PCILAB_EINVAL,
                        "'base' 0x%" PRIx64 " must be 4 KiB aligned (RMRR Base Address, VT-d 8.4)", u->base);
        if ((rc = need(c, n, what[type], "limit", &v)) ||
            (rc = get_uint(c, v, "limit", 0, UINT64_MAX, true, &u->limit)))
            return rc;
        if ((u->limit & 0xfff) != 0xfff || u->limit < u->base)
            return fail(c, v, PCILAB_EINVAL,
                        "'limit' 0x%" PRIx64 " must be the last byte of a 4 KiB page at or above 'base' (RMRR Limit Address, VT-d 8.4)",
                        u->limit);
    } else {
        OPT_BOOL(c, n, "all_ports", flag);
    }
    u->flags = flag ? 1 : 0;
    if ((v = map_get(n, "devices"))) {
        if (v->type != SCN_Y_SEQ)
            return fail(c, v, PCILAB_EINVAL, "'devices' must be a sequence of device scopes, got %s",
                        scn_yaml_describe(v, d, sizeof d));
        if (v->nkids > SCN_MAX_DMAR_SCOPES)
            return fail(c, v, PCILAB_ERANGE, "too many 'devices' (%zu, at most %d)", v->nkids,
                        SCN_MAX_DMAR_SCOPES);
        for (size_t i = 0; i < v->nkids; i++) {
            if ((rc = parse_dmar_scope(c, v->kids[i], &u->scopes[i])))
                return rc;
            if (type != 0 && u->scopes[i].type > 2)
                return fail(c, v->kids[i], PCILAB_EINVAL,
                            "an %s scope lists PCI devices only (endpoint or bridge, VT-d 8.4/8.5)",
                            type == 1 ? "RMRR" : "ATSR");
            u->nscopes = (unsigned)i + 1;
        }
    }
    if (type == 1 && !u->nscopes)
        return fail(c, n, PCILAB_EINVAL, "an 'rmrr' block needs 'devices' (the devices that use the region, VT-d 8.4)");
    if (type == 2 && !flag && !u->nscopes)
        return fail(c, n, PCILAB_EINVAL, "an 'atsr' block needs all_ports: true or 'devices' (root ports, VT-d 8.5)");
    return 0;
}

static int parse_dmar(struct ctx *c, const struct scn_ynode *key, const struct scn_ynode *n)
{
    static const char *const keys[] = {"haw", "intr_remap", "x2apic_opt_out",
                                       "dma_ctrl_platform_opt_in", "drhd", "rmrr", "atsr", NULL};
    struct scn_dmar *dm = &c->m->firmware.dmar;
    char d[64];
    memset(dm, 0, sizeof *dm);
    dm->line = key->line;
    dm->col = key->col;
    if (n->type != SCN_Y_MAP) {
        if (n->type == SCN_Y_SCALAR && n->plain && !strcmp(n->text, "none"))
            return 0; /* SCN_DMAR_ABSENT */
        if (n->type == SCN_Y_SCALAR && n->plain && !strcmp(n->text, "q35")) {
            dm->kind = SCN_DMAR_Q35;
            return 0;
        }
        if (n->type == SCN_Y_SCALAR && n->plain && !strcmp(n->text, "client")) {
            dm->kind = SCN_DMAR_CLIENT;
            return 0;
        }
        return fail(c, n, PCILAB_EINVAL,
                    "'dmar' must be none, q35, client or a mapping (haw, intr_remap, x2apic_opt_out, dma_ctrl_platform_opt_in, drhd, rmrr, atsr), got %s",
                    scn_yaml_describe(n, d, sizeof d));
    }
    int rc = check_map(c, n, "'dmar'", keys);
    if (rc)
        return rc;
    dm->kind = SCN_DMAR_DESCRIBED;
    dm->haw = 39;
    OPT_UINT(c, n, "haw", 13, 64, false, dm->haw); /* Linux: width >= PAGE_SHIFT - 1 */
    static const char *const bits[] = {"intr_remap", "x2apic_opt_out", "dma_ctrl_platform_opt_in"};
    for (unsigned i = 0; i < 3; i++) {
        bool on = false;
        OPT_BOOL(c, n, bits[i], on);
        if (on)
            dm->flags |= (uint8_t)(1u << i);
    }
    static const char *const lists[] = {"drhd", "rmrr", "atsr"};
    static const unsigned max[] = {SCN_MAX_DMAR_UNITS, SCN_MAX_DMAR_RMRR, SCN_MAX_DMAR_UNITS};
    struct scn_dmar_unit *arr[] = {dm->drhd, dm->rmrr, dm->atsr};
    unsigned *cnt[] = {&dm->ndrhd, &dm->nrmrr, &dm->natsr};
    for (unsigned t = 0; t < 3; t++) {
        struct scn_ynode *v = map_get(n, lists[t]);
        if (!v)
            continue;
        if (v->type != SCN_Y_SEQ)
            return fail(c, v, PCILAB_EINVAL, "'%s' must be a sequence of blocks, got %s", lists[t],
                        scn_yaml_describe(v, d, sizeof d));
        if (v->nkids > max[t])
            return fail(c, v, PCILAB_ERANGE, "too many '%s' blocks (%zu, at most %u)", lists[t],
                        v->nkids, max[t]);
        for (size_t i = 0; i < v->nkids; i++) {
            if ((rc = parse_dmar_unit(c, v->kids[i], t, &arr[t][i])))
                return rc;
            *cnt[t] = (unsigned)i + 1;
        }
    }
    if (!dm->ndrhd)
        return fail(c, n, PCILAB_EINVAL,
                    "'dmar' needs at least one 'drhd' block (Linux: \"No DRHD structure found in DMAR table\")");
    return 0;
}

static int parse_firmware(struct ctx *c, const struct scn_ynode *n)
{
    static const char *const keys[] = {"ivrs", "dmar", NULL};
    int rc = check_map(c, n, "'firmware'", keys);
    struct scn_ynode *v;
    if (!rc && (v = map_get(n, "ivrs")))
        rc = parse_ivrs(c, map_key(n, "ivrs"), v);
    if (!rc && (v = map_get(n, "dmar")))
        rc = parse_dmar(c, map_key(n, "dmar"), v);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* root complex and top level                                                 */

static int parse_window(struct ctx *c, const struct scn_ynode *n, const char *key,
                        struct scn_window *w, uint64_t limit)
{
    static const char *const keys[] = {"base", "size", NULL};
    char what[48];
    snprintf(what, sizeof what, "'%s'", key);
    struct scn_ynode *v;
    int rc = check_map(c, n, what, keys);
    if (rc || (rc = need(c, n, what, "base", &v)) ||
        (rc = get_uint(c, v, "base", 0, UINT64_MAX, true, &w->base)))
        return rc;
    if ((rc = need(c, n, what, "size", &v)) || (rc = get_size(c, v, "size", &w->size)))
        return rc;
    if (w->size == 0)
        return fail(c, v, PCILAB_EINVAL, "'%s' size must not be 0", key);
    if (w->base + w->size - 1 < w->base || w->base + w->size - 1 > limit)
        return fail(c, n, PCILAB_ERANGE, "'%s' 0x%" PRIx64 "+%s ends beyond 0x%" PRIx64, key,
                    w->base, v->text, limit);
    return 0;
}

static bool overlap(const struct scn_window *a, const struct scn_window *b)
{
    return a->size && b->size && a->base <= b->base + (b->size - 1) &&
           b->base <= a->base + (a->size - 1);
}

static int parse_rc(struct ctx *c, const struct scn_ynode *n)
{
    static const char *const keys[] = {"segment", "buses", "ecam", "mmio32", "mmio64", "io",
                                       "functions", NULL};
    struct scn_root_complex *rc_ = &c->m->rc;
    int rc = check_map(c, n, "'root_complex'", keys);
    if (rc)
        return rc;
    struct scn_ynode *v;
    uint64_t x;
    rc_->bus_first = 0;
    rc_->bus_last = 255;
    OPT_UINT(c, n, "segment", 0, 0xffff, true, rc_->segment);
    if ((v = map_get(n, "buses"))) {
        uint64_t a, b;
        char d[64];
        if (v->type != SCN_Y_SEQ || v->nkids != 2)
            return fail(c, v, PCILAB_EINVAL, "'buses' must be [first, last], got %s",
                        scn_yaml_describe(v, d, sizeof d));
        if ((rc = get_uint(c, v->kids[0], "buses", 0, 255, true, &a)) ||
            (rc = get_uint(c, v->kids[1], "buses", 0, 255, true, &b)))
            return rc;
        if (b < a)
            return fail(c, v, PCILAB_EINVAL, "'buses' last bus %" PRIu64 " is below first bus %" PRIu64, b, a);
        rc_->bus_first = (uint8_t)a;
        rc_->bus_last = (uint8_t)b;
    }
    if ((rc = need(c, n, "'root_complex'", "ecam", &v)) ||
        (rc = get_uint(c, v, "ecam", 0, UINT64_MAX, true, &x)))
        return rc;
    /* ECAM: 1 MiB per bus (PCIe 5.0 7.2.2), the region naturally aligned to 1 MiB. */
    uint64_t ecam_size = (uint64_t)(rc_->bus_last - rc_->bus_first + 1) << 20;
    if (x & 0xfffff)
        return fail(c, v, PCILAB_EINVAL, "'ecam' 0x%" PRIx64 " must be 1 MiB aligned (PCIe 5.0 7.2.2)", x);
    if (x + ecam_size - 1 < x)
        return fail(c, v, PCILAB_ERANGE, "'ecam' 0x%" PRIx64 " plus %" PRIu64 " MiB wraps around", x,
                    ecam_size >> 20);
    rc_->ecam_base = x;
    if ((rc = need(c, n, "'root_complex'", "mmio32", &v)) ||
        (rc = parse_window(c, v, "mmio32", &rc_->mmio32, 0xffffffffull)))
        return rc;
    if ((v = map_get(n, "mmio64"))) {
        if ((rc = parse_window(c, v, "mmio64", &rc_->mmio64, UINT64_MAX)))
            return rc;
        if (rc_->mmio64.base < (1ull << 32))
            return fail(c, v, PCILAB_EINVAL, "'mmio64' must lie above 4 GiB, base is 0x%" PRIx64,
                        rc_->mmio64.base);
    }
    if ((v = map_get(n, "io")) && (rc = parse_window(c, v, "io", &rc_->io, 0xffff)))
        return rc;
    struct scn_window ecam = {rc_->ecam_base, ecam_size};
    if (overlap(&ecam, &rc_->mmio32))
        return fail(c, map_get(n, "mmio32"), PCILAB_EEXIST, "'mmio32' overlaps the ECAM region");
    if (overlap(&ecam, &rc_->mmio64))
        return fail(c, map_get(n, "mmio64"), PCILAB_EEXIST, "'mmio64' overlaps the ECAM region");
    if (c->machine_from) {
        if ((v = map_key(n, "functions")))
            return fail(c, v, PCILAB_EINVAL,
                        "'functions' and 'machine_from' exclude each other: the functions come from the dump");
        return machine_from_dump(c, c->machine_from);
    }
    if ((rc = need(c, n, "'root_complex'", "functions", &v)) || (rc = parse_bus(c, v, -1)))
        return rc;
    return check_machine(c, v);
}

static int parse_based(struct ctx *c, const struct scn_ynode *root);

/* iommu: amd-vi | vtd | vtd-sm | none (scn_set_iommu) */
static int parse_iommu_kind(struct ctx *c, const struct scn_ynode *v)
{
    int rc = want_scalar(c, v, "iommu", "amd-vi, vtd, vtd-sm or none");
    if (rc)
        return rc;
    struct pcilab_err inner;
    pcilab_err_clear(&inner);
    if (scn_set_iommu(c->m, v->text, &inner) < 0)
        return fail(c, v, inner.code ? inner.code : PCILAB_EINVAL, "iommu: %s", inner.msg);
    return 0;
}

/* name, description and seed: every scenario has them, a based one too. */
static int parse_head(struct ctx *c, const struct scn_ynode *root)
{
    struct scn_ynode *v;
    int rc;
    if ((rc = need(c, root, "the scenario", "name", &v)) ||
        (rc = get_ident(c, v, "name", c->m->name, sizeof c->m->name)))
        return rc;
    if ((v = map_get(root, "description"))) {
        if ((rc = get_string(c, v, "description", c->m->description, sizeof c->m->description)))
            return rc;
        if (strchr(c->m->description, '\n'))
            return fail(c, v, PCILAB_EINVAL, "'description' must be one line");
    }
    OPT_UINT(c, root, "seed", 0, INT64_MAX, false, c->m->seed); /* exact in JSON */
    return 0;
}


static int parse_machine(struct ctx *c, const struct scn_ynode *root)
{
    static const char *const keys[] = {"name", "description", "seed", "memory", "machine_from",
                                       "root_complex", "kernel", "firmware", "iommu", NULL};
    /* base: is its own form (parse_based) */
    if (root->type == SCN_Y_MAP && map_get(root, "base"))
        return parse_based(c, root);
    int rc = check_map(c, root, "the scenario", keys);
    if (rc || (rc = parse_head(c, root)))
        return rc;
    struct scn_ynode *v;
    if ((v = map_get(root, "machine_from"))) {
        if ((rc = get_string(c, v, "machine_from", c->m->machine_from, sizeof c->m->machine_from)))
            return rc;
        c->machine_from = v;
    }
    if ((rc = need(c, root, "the scenario", "root_complex", &v)) || (rc = parse_rc(c, v)) ||
        (rc = parse_memory(c, map_get(root, "memory"))))
        return rc;
    if ((v = map_get(root, "kernel")) && (rc = parse_kernel(c, map_key(root, "kernel"), v)))
        return rc;
    /* after root_complex: an IVHD names its IOMMU among the functions */
    if ((v = map_get(root, "firmware")) && (rc = parse_firmware(c, v)))
        return rc;
    /* last: it may remove the IOMMU functions and the IVRS */
    if ((v = map_get(root, "iommu")) && (rc = parse_iommu_kind(c, v)))
        return rc;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* public API                                                                 */

#define SCN_STASH_FUNCS 8
struct scn_iommu_stash {
    unsigned n;
    struct scn_func funcs[SCN_STASH_FUNCS]; /* owned: params and config */
    unsigned at[SCN_STASH_FUNCS];           /* index each had in funcs */
    struct scn_firmware fw;                 /* the firmware before */
};

static void free_func_data(struct scn_func *f)
{
    for (unsigned j = 0; j < f->nparams; j++) {
        free(f->params[j].key);
        free(f->params[j].value);
    }
    free(f->params);
    free(f->config);
    free(f->config_given);
}

static void free_stash(struct scn_iommu_stash *st)
{
    if (!st)
        return;
    for (unsigned i = 0; i < st->n; i++)
        free_func_data(&st->funcs[i]);
    free(st);
}

void scn_free(struct scn_machine *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->nfuncs; i++)
        free_func_data(&m->funcs[i]);
    free(m->funcs);
    free_stash(m->iommu_stash);
    memset(m, 0, sizeof *m);
}

static int load(const char *name, const char *dir, const char *text, size_t len,
                struct scn_machine *m, unsigned depth, struct pcilab_err *err)
{
    memset(m, 0, sizeof *m);
    if (len > SCN_MAX_TEXT)
        return pcilab_err_at(err, PCILAB_ERANGE, name, 0, 0,
                             "scenario is %zu bytes, larger than the %u accepted", len, SCN_MAX_TEXT);
    struct scn_ynode *root;
    int rc = scn_yaml_parse(name, text, len, &root, err);
    if (rc)
        return rc;
    struct ctx c = {.file = name, .dir = dir, .err = err, .m = m, .depth = depth};
    snprintf(m->source, sizeof m->source, "%s", name);
    rc = parse_machine(&c, root);
    scn_yaml_free(root);
    for (size_t i = 0; i < c.ndumps; i++)
        pcie_dump_free(&c.dumps[i].d);

    if (rc)
        scn_free(m);
    return rc;
}

int scn_load_string(const char *name, const char *text, size_t len, struct scn_machine *m,
                    struct pcilab_err *err)
{
    return load(name ? name : "<string>", "", text, len, m, 0, err);
}

static int load_file(const char *path, struct scn_machine *m, unsigned depth,
                     struct pcilab_err *err)
{
    memset(m, 0, sizeof *m);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return pcilab_err_at(err, PCILAB_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            if (cap > SCN_MAX_TEXT) {
                rc = pcilab_err_at(err, PCILAB_ERANGE, path, 0, 0,
                                   "scenario is larger than the %u bytes accepted", SCN_MAX_TEXT);
                break;
            }
            cap = cap ? cap * 2 : 16384;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                rc = pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", path);
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) {
            if (ferror(fp))
                rc = pcilab_err_at(err, PCILAB_EIO, path, 0, 0, "read error");
            break;
        }
    }
    fclose(fp);
    if (!rc) {
        char dir[SCN_PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            slash[1] = '\0';
        else
            dir[0] = '\0';
        rc = load(path, dir, buf ? buf : "", len, m, depth, err);
    }
    free(buf);
    return rc;
}

int scn_load_file(const char *path, struct scn_machine *m, struct pcilab_err *err)
{
    return load_file(path, m, 0, err);
}

const struct scn_builtin *scn_builtin_find(const char *name)
{
    for (const struct scn_builtin *b = scn_builtins; b->name; b++)
        if (!strcmp(b->name, name))
            return b;
    return NULL;
}

int scn_load_builtin(const char *name, struct scn_machine *m, struct pcilab_err *err)
{
    memset(m, 0, sizeof *m);
    const struct scn_builtin *b = scn_builtin_find(name);
    if (!b) {
        char list[256];
        size_t off = 0;
        list[0] = '\0';
        for (const struct scn_builtin *p = scn_builtins; p->name && off < sizeof list; p++)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "", p->name);
        return pcilab_errf(err, PCILAB_ENOENT, "no built-in scenario '%s' (built-in: %s)", name, list);
    }
    return load(b->path, "", b->text, strlen(b->text), m, 0, err);
}

int scn_builtin_describe(const struct scn_builtin *b, char *buf, size_t len,
                         struct pcilab_err *err)
{
    struct scn_machine m;
    int rc = load(b->path, "", b->text, strlen(b->text), &m, 0, err);
    if (rc)
        return rc;
    snprintf(buf, len, "%s", m.description);
    scn_free(&m);
    return 0;
}

int scn_find_func(const struct scn_machine *m, const char *name)
{
    int seg;
    unsigned bus, dev, fn;
    bool is_bdf = parse_bdf(name, &seg, &bus, &dev, &fn);
    for (unsigned i = 0; i < m->nfuncs; i++) {
        const struct scn_func *f = &m->funcs[i];
        if (f->name[0] && !strcmp(f->name, name))
            return (int)i;
        if (is_bdf && f->bus == (int)bus && f->dev == dev && f->fn == fn)
            return (int)i;
    }
    return -1;
}

const char *scn_param_get(const struct scn_func *f, const char *key)
{
    for (unsigned i = 0; i < f->nparams; i++)
        if (!strcmp(f->params[i].key, key))
            return f->params[i].value;
    return NULL;
}

/* Field-by-field, so padding and pointer values never matter. */
static bool func_equal(const struct scn_func *a, const struct scn_func *b)
{
#define EQ(field) (a->field == b->field)
    if (!(EQ(line) && EQ(col) && !strcmp(a->name, b->name) && EQ(kind) && EQ(bus) && EQ(dev) &&
          EQ(fn) && EQ(parent) && EQ(vendor_id) && EQ(device_id) && EQ(revision) &&
          EQ(class_code) && EQ(subsys_vendor_id) && EQ(subsys_id) && EQ(header_type) &&
          EQ(interrupt_pin) && EQ(rom_size) && EQ(ncaps) && EQ(acs) && EQ(nparams) &&
          EQ(config_len) && EQ(config_line) && EQ(caps_from_dump) &&
          !strcmp(a->model, b->model) && !strcmp(a->config_file, b->config_file) &&
          !strcmp(a->config_bdf, b->config_bdf)))
        return false;
    for (unsigned i = 0; i < 6; i++)
        if (!(EQ(bars[i].type) && EQ(bars[i].prefetchable) && EQ(bars[i].size)))
            return false;
    for (unsigned i = 0; i < a->ncaps; i++)
        if (!(EQ(caps[i].id) && EQ(caps[i].offset)))
            return false;
    if (!(EQ(pm.version) && EQ(pm.d1) && EQ(pm.d2) && EQ(pm.pme_support) && EQ(pm.no_soft_reset) &&
          EQ(msi.vectors) && EQ(msi.addr64) && EQ(msi.per_vector_mask) && EQ(msix.table_size) &&
          EQ(msix.table_bir) && EQ(msix.table_offset) && EQ(msix.pba_bir) && EQ(msix.pba_offset) &&
          EQ(pcie.version) && EQ(pcie.port_type) && EQ(pcie.max_speed) && EQ(pcie.max_width) &&
          EQ(pcie.speed) && EQ(pcie.width) && EQ(pcie.mps) && EQ(pcie.ext_tags) &&
          EQ(pcie.tag10_completer) && EQ(pcie.tag10_requester) && EQ(pcie.flr) && EQ(pcie.slot) &&
          EQ(pcie.slot_number) && EQ(pcie.hot_plug) && EQ(iommu.base) &&
          EQ(iommu.np_cache) && EQ(iommu.has_efr) && EQ(iommu.efr)))
        return false;
#undef EQ
    for (unsigned i = 0; i < a->nparams; i++)
        if (strcmp(a->params[i].key, b->params[i].key) || strcmp(a->params[i].value, b->params[i].value))
            return false;
    if (a->config_len && (memcmp(a->config, b->config, a->config_len) ||
                          memcmp(a->config_given, b->config_given, (a->config_len + 7) / 8)))
        return false;
    return true;
}

static bool kernel_equal(const struct scn_kernel *a, const struct scn_kernel *b)
{
    if (a->nmodules != b->nmodules)
        return false;
    for (unsigned i = 0; i < a->nmodules; i++) {
        const struct scn_module *x = &a->modules[i], *y = &b->modules[i];
        if (strcmp(x->name, y->name) || strcmp(x->params, y->params) || x->at != y->at ||
            x->line != y->line || x->col != y->col)
            return false;
    }
    return !strcmp(a->version, b->version) && !strcmp(a->cmdline, b->cmdline) &&
           a->cpus == b->cpus && a->dma_debug == b->dma_debug && a->line == b->line &&
           a->col == b->col;
}

static bool firmware_equal(const struct scn_firmware *a, const struct scn_firmware *b)
{
#define EQ(field) (a->field == b->field)
    if (!(EQ(ivrs) && EQ(no_ivrs) && EQ(ivinfo) && EQ(nivhd) && EQ(nivmd) && EQ(line) && EQ(col)))
        return false;
    if (memcmp(&a->dmar, &b->dmar, sizeof a->dmar)) /* zeroed at load, no pointers */
        return false;
    for (unsigned i = 0; i < a->nivhd; i++) {
        const struct scn_ivhd *p = &a->ivhd[i], *q = &b->ivhd[i];
        if (p->iommu != q->iommu || p->ntypes != q->ntypes || p->flags != q->flags ||
            p->info != q->info || p->has_efr != q->has_efr || p->efr != q->efr ||
            p->nentries != q->nentries || p->line != q->line ||
            p->col != q->col || memcmp(p->types, q->types, p->ntypes))
            return false;
        for (unsigned j = 0; j < p->nentries; j++) {
            const struct scn_ivhd_entry *x = &p->entries[j], *y = &q->entries[j];
            if (x->kind != y->kind || x->first != y->first || x->last != y->last ||
                x->source != y->source || x->data != y->data || x->variety != y->variety ||
                x->handle != y->handle || x->line != y->line || x->col != y->col)
                return false;
        }
    }
    for (unsigned i = 0; i < a->nivmd; i++) {
        const struct scn_ivmd *p = &a->ivmd[i], *q = &b->ivmd[i];
        if (p->kind != q->kind || p->first != q->first || p->last != q->last ||
            p->flags != q->flags || p->start != q->start || p->length != q->length ||
            p->line != q->line || p->col != q->col)
            return false;
    }
#undef EQ
    return true;
}

bool scn_machine_equal(const struct scn_machine *a, const struct scn_machine *b)
{
    if (strcmp(a->source, b->source) || strcmp(a->name, b->name) ||
        strcmp(a->description, b->description) || a->seed != b->seed ||
        a->nfuncs != b->nfuncs || strcmp(a->machine_from, b->machine_from) ||
        a->iommu != b->iommu)
        return false;
    const struct scn_memory *p = &a->memory, *q = &b->memory;
    if (p->total != q->total || p->nram != q->nram || p->nreserved != q->nreserved)
        return false;
    for (unsigned i = 0; i < p->nram + p->nreserved; i++) {
        const struct scn_range *r = i < p->nram ? &p->ram[i] : &p->reserved[i - p->nram];
        const struct scn_range *t = i < p->nram ? &q->ram[i] : &q->reserved[i - p->nram];
        if (r->base != t->base || r->size != t->size || strcmp(r->name, t->name) ||
            r->line != t->line || r->col != t->col)
            return false;
    }
    const struct scn_root_complex *x = &a->rc, *y = &b->rc;
    if (x->segment != y->segment || x->bus_first != y->bus_first || x->bus_last != y->bus_last ||
        x->ecam_base != y->ecam_base || x->mmio32.base != y->mmio32.base ||
        x->mmio32.size != y->mmio32.size || x->mmio64.base != y->mmio64.base ||
        x->mmio64.size != y->mmio64.size || x->io.base != y->io.base || x->io.size != y->io.size)
        return false;
    for (unsigned i = 0; i < a->nfuncs; i++)
        if (!func_equal(&a->funcs[i], &b->funcs[i]))
            return false;
    return kernel_equal(&a->kernel, &b->kernel) && firmware_equal(&a->firmware, &b->firmware);
}

/* ------------------------------------------------------------------------ */
/* set: / --set, and base:                                                    */

/* The section module_param fills (src/host/include/linux/moduleparam.h,
 * host/module.c reads it the same way). Weak: a program that links no driver
 * has no such section. */
extern const struct host_module_param __start_pcilab_modparam[] __attribute__((weak));
extern const struct host_module_param __stop_pcilab_modparam[] __attribute__((weak));

static const char *modparam_type_name(enum host_param_type t)
{
    static const char *const n[] = {"int", "uint", "long", "ulong", "short", "ushort", "byte",
                                    "bool", "charp"};
    return (unsigned)t < sizeof n / sizeof n[0] ? n[t] : "?";
}

extern const struct host_module_param_desc __start_pcilab_modparmdesc[] __attribute__((weak));
extern const struct host_module_param_desc __stop_pcilab_modparmdesc[] __attribute__((weak));

/* The i-th parameter of module in declaration order (the linker's order of
 * a section is the compiler's, which differs between builds). */
const char *scn_module_param_at(const char *module, size_t i, const char **type)
{
    const struct host_module_param *lo = __start_pcilab_modparam, *hi = __stop_pcilab_modparam;
    for (const struct host_module_param *p = lo; p && p < hi; p++) {
        if (strcmp(p->module, module))
            continue;
        size_t before = 0;
        for (const struct host_module_param *q = lo; q < hi; q++)
            before += !strcmp(q->module, module) && q->line < p->line;
        if (before != i)
            continue;
        if (type)
            *type = modparam_type_name(p->type);
        return p->name;
    }
    return NULL;
}

const char *scn_module_param_desc(const char *module, const char *name)
{
    const struct host_module_param_desc *lo = __start_pcilab_modparmdesc,
                                        *hi = __stop_pcilab_modparmdesc;
    for (const struct host_module_param_desc *d = lo; d && d < hi; d++)
        if (!strcmp(d->module, module) && !strcmp(d->name, name))
            return d->desc;
    return NULL;
}

/* A value insmod would take for a parameter of that type (kernel/params.c:
 * kstrto* for the numbers, strtobool for bool); blanks are refused because
 * insmod splits its words at them. */
static bool modparam_value_ok(const char *type, const char *v)
{
    if (!*v || strpbrk(v, " \t\n"))
        return false;
    if (!strcmp(type, "charp"))
        return true;
    if (!strcmp(type, "bool")) {
        static const char *const ok[] = {"y", "Y", "n", "N", "1", "0", "true", "false", "on",
                                         "off"};
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
            if (!strcmp(v, ok[i]))
                return true;
        return false;
    }
    const char *p = v;
    if (*p == '-' && (!strcmp(type, "int") || !strcmp(type, "long") || !strcmp(type, "short")))
        p++;
    uint64_t x;
    const char *end;
    return parse_u64(p, &x, &end) && !*end;
}

static int model_param_index(const struct dev_model_info *info, const char *key)
{
    for (size_t i = 0; i < info->nparams; i++)
        if (!strcmp(info->params[i].key, key))
            return (int)i;
    return -1;
}

static void list_append(char *list, size_t cap, const char *item)
{
    size_t used = strlen(list);
    if (used + 1 < cap)
        snprintf(list + used, cap - used, "%s%s", used ? ", " : "", item);
}

static int set_kernel(struct scn_machine *m, const char *k, const char *value,
                      struct pcilab_err *err)
{
    struct scn_kernel *kn = &m->kernel;
    if (!strcmp(k, "version")) {
        struct pcilab_err kerr;
        pcilab_err_clear(&kerr);
        if (strlen(value) >= sizeof kn->version || host_kver_find(value, NULL, &kerr))
            return pcilab_errf(err, PCILAB_EINVAL, "%s", kerr.code ? kerr.msg
                               : "a kernel version is at most 31 characters");
        snprintf(kn->version, sizeof kn->version, "%s", value);
        return 0;
    }
    if (!strcmp(k, "cmdline")) {
        if (strlen(value) >= sizeof kn->cmdline)
            return pcilab_errf(err, PCILAB_EINVAL, "a kernel command line of %zu characters: "
                               "at most %zu", strlen(value), sizeof kn->cmdline - 1);
        snprintf(kn->cmdline, sizeof kn->cmdline, "%s", value);
        return 0;
    }
    if (!strcmp(k, "cpus")) {
        uint64_t v;
        const char *end;
        if (!parse_u64(value, &v, &end) || *end || v < 1 || v > 64)
            return pcilab_errf(err, PCILAB_EINVAL, "kernel.cpus '%s': a number of CPUs, 1..64",
                               value);
        kn->cpus = (unsigned)v;
        return 0;
    }
    if (!strcmp(k, "dma_debug")) {
        if (strcmp(value, "true") && strcmp(value, "false"))
            return pcilab_errf(err, PCILAB_EINVAL, "kernel.dma_debug '%s': true or false", value);
        kn->dma_debug = !strcmp(value, "true");
        return 0;
    }
    return pcilab_errf(err, PCILAB_ENOENT, "the kernel has no key '%s' (kernel keys: version, "
                       "cmdline, cpus, dma_debug)", k);
}

static int set_module(struct scn_module *mo, const char *k, const char *value,
                      struct pcilab_err *err)
{
    const char *type = NULL, *name;
    char list[256] = "";
    for (size_t i = 0; (name = scn_module_param_at(mo->name, i, NULL)); i++) {
        list_append(list, sizeof list, name);
        if (!strcmp(name, k))
            scn_module_param_at(mo->name, i, &type);
    }
    if (!type)
        return pcilab_errf(err, PCILAB_ENOENT, "module %s has no parameter '%s' (its "
                           "parameters: %s)", mo->name, k, list[0] ? list : "none");
    if (!modparam_value_ok(type, value))
        return pcilab_errf(err, PCILAB_EINVAL, "module %s: '%s' is not a value for its %s "
                           "parameter '%s'", mo->name, value, type, k);
    /* insmod's words, the parameter replaced where it was or added at the end */
    char out[sizeof mo->params] = "";
    size_t used = 0, klen = strlen(k);
    bool done = false;
    for (const char *p = mo->params; *p;) {
        size_t n = strcspn(p, " ");
        bool same = n > klen && !strncmp(p, k, klen) && p[klen] == '=';
        int w = 0;
        if (!same)
            w = snprintf(out + used, sizeof out - used, "%s%.*s", used ? " " : "", (int)n, p);
        else if (!done) /* a repeat of the key is dropped: the set replaces it */
            w = snprintf(out + used, sizeof out - used, "%s%s=%s", used ? " " : "", k, value);
        done |= same;
        if (w < 0 || (size_t)w >= sizeof out - used)
            return pcilab_errf(err, PCILAB_ERANGE, "module %s: parameters longer than %zu "
                               "bytes", mo->name, sizeof mo->params - 1);
        used += (size_t)w;
        p += n;
        p += strspn(p, " ");
    }
    if (!done) {
        int w = snprintf(out + used, sizeof out - used, "%s%s=%s", used ? " " : "", k, value);
        if (w < 0 || (size_t)w >= sizeof out - used)
            return pcilab_errf(err, PCILAB_ERANGE, "module %s: parameters longer than %zu "
                               "bytes", mo->name, sizeof mo->params - 1);
    }
    snprintf(mo->params, sizeof mo->params, "%s", out);
    return 0;
}

static int set_param(struct scn_func *f, const struct dev_model_info *info, const char *k,
                     const char *value, struct pcilab_err *err)
{
    int idx = model_param_index(info, k);
    if (idx < 0) {
        char list[512] = "";
        for (size_t i = 0; i < info->nparams; i++)
            list_append(list, sizeof list, info->params[i].key);
        return pcilab_errf(err, PCILAB_ENOENT, "%s%s%s%s has no parameter '%s' (its parameters: "
                           "%s)", info->name, f->name[0] ? " (function '" : "", f->name,
                           f->name[0] ? "')" : "", k, list);
    }
    const struct dev_param_desc *d = &info->params[idx];
    union dev_value v;
    struct pcilab_err perr;
    pcilab_err_clear(&perr);
    if (dev_param_parse(info->name, d, value, &v, &perr) < 0) {
        char vals[160];
        return pcilab_errf(err, PCILAB_EINVAL, "%s (%s takes %s)", perr.msg, k,
                           dev_param_values_str(d, vals, sizeof vals));
    }
    /* After the function's own params: "requester_id" sets every engine, so the
     * per-engine requester IDs given before it no longer count. */
    bool general = !strcmp(k, "requester_id");
    unsigned w = 0;
    for (unsigned i = 0; i < f->nparams; i++) {
        int j = model_param_index(info, f->params[i].key);
        bool drop = !strcmp(f->params[i].key, k) ||
                    (general && j >= 0 && info->params[j].type == DEV_PARAM_RID);
        if (drop) {
            free(f->params[i].key);
            free(f->params[i].value);
        } else {
            f->params[w++] = f->params[i];
        }
    }
    f->nparams = w;
    if (f->nparams >= SCN_MAX_PARAMS)
        return pcilab_errf(err, PCILAB_ERANGE, "too many params (at most %d)", SCN_MAX_PARAMS);
    struct scn_param *np = realloc(f->params, (f->nparams + 1) * sizeof *np);
    if (!np)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
    f->params = np;
    np[f->nparams].key = strdup(k);
    np[f->nparams].value = strdup(value);
    if (!np[f->nparams].key || !np[f->nparams].value) {
        free(np[f->nparams].key);
        free(np[f->nparams].value);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
    }
    f->nparams++;
    return 0;
}

int scn_set(struct scn_machine *m, const char *key, const char *value, struct pcilab_err *err)
{
    const char *dot = key ? strrchr(key, '.') : NULL;
    if (!value)
        value = "";
    if (key && !strcmp(key, "iommu"))
        return scn_set_iommu(m, value, err);
    if (!dot || dot == key || !dot[1] || dot - key >= SCN_NAME_MAX)
        return pcilab_errf(err, PCILAB_EINVAL, "'%s' is not a key: keys are TARGET.KEY, e.g. "
                           "ecp5.requester_id, kernel.cmdline or ecp5_dma.dma_bits", key ? key : "");
    char target[SCN_NAME_MAX];
    snprintf(target, sizeof target, "%.*s", (int)(dot - key), key);
    const char *k = dot + 1;
    if (!strcmp(target, "kernel"))
        return set_kernel(m, k, value, err);

    /* a device model: by label or root-bus BB:DD.F, else by the model's name */
    struct scn_func *f = NULL;
    int fi = scn_find_func(m, target);
    if (fi >= 0) {
        f = &m->funcs[fi];
        if (!f->model[0])
            return pcilab_errf(err, PCILAB_EINVAL, "'%s' has no device model: it is "
                               "configuration space only", target);
    } else {
        for (unsigned i = 0; i < m->nfuncs; i++) {
            if (strcmp(m->funcs[i].model, target))
                continue;
            if (f)
                return pcilab_errf(err, PCILAB_EINVAL, "several functions have the model '%s': "
                                   "name one by its label", target);
            f = &m->funcs[i];
        }
    }
    struct scn_module *mo = NULL;
    for (unsigned i = 0; i < m->kernel.nmodules; i++)
        if (!strcmp(m->kernel.modules[i].name, target))
            mo = &m->kernel.modules[i];
    const struct dev_model_info *info = f ? dev_model_type_find(f->model) : NULL;
    if (f && !info)
        return pcilab_errf(err, PCILAB_ENOENT, "unknown device model '%s'", f->model);
    if (f && mo && model_param_index(info, k) < 0) {
        const char *name;
        char mlist[256] = "", dlist[512] = "";
        for (size_t i = 0; (name = scn_module_param_at(mo->name, i, NULL)); i++) {
            if (!strcmp(name, k))
                return set_module(mo, k, value, err);
            list_append(mlist, sizeof mlist, name);
        }
        for (size_t i = 0; i < info->nparams; i++)
            list_append(dlist, sizeof dlist, info->params[i].key);
        return pcilab_errf(err, PCILAB_ENOENT, "'%s' is both a device model and a module, and "
                           "neither has a parameter '%s' (module parameters: %s; the model's: "
                           "%s)", target, k, mlist[0] ? mlist : "none", dlist);
    }
    if (f)
        return set_param(f, info, k, value, err);
    if (mo)
        return set_module(mo, k, value, err);

    char list[512] = "kernel";
    for (unsigned i = 0; i < m->nfuncs; i++)
        if (m->funcs[i].model[0]) {
            list_append(list, sizeof list, m->funcs[i].name[0] ? m->funcs[i].name : m->funcs[i].model);
            if (m->funcs[i].name[0])
                list_append(list, sizeof list, m->funcs[i].model);
        }
    for (unsigned i = 0; i < m->kernel.nmodules; i++)
        if (!strstr(list, m->kernel.modules[i].name))
            list_append(list, sizeof list, m->kernel.modules[i].name);
    return pcilab_errf(err, PCILAB_ENOENT, "no target '%s' in scenario '%s' (targets: %s)", target,
                       m->name, list);
}

const char *scn_iommu_name(enum scn_iommu k)
{
    switch (k) {
    case SCN_IOMMU_AMD_VI: return "amd-vi";
    case SCN_IOMMU_VTD: return "vtd";
    case SCN_IOMMU_VTD_SM: return "vtd-sm";
    case SCN_IOMMU_NONE: return "none";
    case SCN_IOMMU_AUTO: break;
    }
    return "auto";
}

static bool has_amd_iommu(const struct scn_func *f)
{
    for (unsigned j = 0; j < f->ncaps; j++)
        if (f->caps[j].id == SCN_CAP_IOMMU)
            return true;
    return false;
}

/* Takes function i (no children) out of the description. */
/* Removes funcs[i]; into `keep` (its data still owned) when not NULL, else
 * freed. */
static void remove_func(struct scn_machine *m, unsigned i, struct scn_func *keep)
{
    struct scn_func *f = &m->funcs[i];
    if (keep)
        *keep = *f;
    else
        free_func_data(f);
    memmove(&m->funcs[i], &m->funcs[i + 1], (m->nfuncs - i - 1) * sizeof *m->funcs);
    m->nfuncs--;
    for (unsigned j = 0; j < m->nfuncs; j++)
        if (m->funcs[j].parent > (int)i)
            m->funcs[j].parent--;
    for (unsigned j = 0; j < m->firmware.nivhd; j++)
        if (m->firmware.ivhd[j].iommu > (int)i)
            m->firmware.ivhd[j].iommu--;
}

/* The reverse of remove_func with a kept function: back at index i (the
 * firmware is restored as a whole by the caller). */
static int insert_func(struct scn_machine *m, unsigned i, const struct scn_func *f)
{
    struct scn_func *nf = realloc(m->funcs, (m->nfuncs + 1) * sizeof *m->funcs);
    if (!nf)
        return -PCILAB_ENOMEM;
    m->funcs = nf;
    memmove(&m->funcs[i + 1], &m->funcs[i], (m->nfuncs - i) * sizeof *m->funcs);
    m->funcs[i] = *f;
    m->nfuncs++;
    for (unsigned j = 0; j < m->nfuncs; j++)
        if (j != i && m->funcs[j].parent >= (int)i)
            m->funcs[j].parent++;
    return 0;
}

int scn_set_iommu(struct scn_machine *m, const char *value, struct pcilab_err *err)
{
    if (!value)
        value = "";
    unsigned n = 0;
    for (unsigned i = 0; i < m->nfuncs; i++)
        n += has_amd_iommu(&m->funcs[i]);
    if (!strcmp(value, "amd-vi")) {
        struct scn_iommu_stash *st = m->iommu_stash;
        if (!n && st && st->n) {
            /* put back what iommu: vtd or none took, in the order taken out
             * (each index is the one it had when it was removed) */
            for (unsigned k = st->n; k-- > 0;)
                if (insert_func(m, st->at[k], &st->funcs[k]) < 0)
                    return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
            m->firmware = st->fw;
            free(st);
            m->iommu_stash = NULL;
            n = 1;
        }
        if (!n)
            return pcilab_errf(err, PCILAB_EINVAL, "'amd-vi': the machine has no AMD-Vi "
                               "function (one with the 'iommu' capability)%s",
                               m->iommu == SCN_IOMMU_NONE ? ": iommu: none removed it" : "");
        m->iommu = SCN_IOMMU_AMD_VI;
        return 0;
    }
    bool sm = !strcmp(value, "vtd-sm");
    bool vtd = sm || !strcmp(value, "vtd");
    if (!vtd && strcmp(value, "none"))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "'%s' is not an IOMMU kind (amd-vi, vtd, vtd-sm or none)", value);
    for (unsigned i = 0; i < m->nfuncs; i++) {
        if (!has_amd_iommu(&m->funcs[i]))
            continue;
        for (unsigned j = 0; j < m->nfuncs; j++)
            if (m->funcs[j].parent == (int)i)
                return pcilab_errf(err, PCILAB_EINVAL, "'%s': the IOMMU function %s has "
                                   "functions below it", value, m->funcs[i].name);
    }
    if (n > SCN_STASH_FUNCS)
        return pcilab_errf(err, PCILAB_ERANGE, "'%s': more than %d AMD IOMMU functions", value,
                           SCN_STASH_FUNCS);
    if (n && !m->iommu_stash) {
        struct scn_iommu_stash *st = calloc(1, sizeof *st);
        if (!st)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
        st->fw = m->firmware;
        for (unsigned i = 0; i < m->nfuncs;) {
            if (!has_amd_iommu(&m->funcs[i])) {
                i++;
                continue;
            }
            st->at[st->n] = i;
            remove_func(m, i, &st->funcs[st->n++]);
        }
        m->iommu_stash = st;
    }
    /* an Intel machine's firmware, or one without an IOMMU, has no IVRS */
    m->firmware.nivhd = 0;
    m->firmware.nivmd = 0;
    m->firmware.ivrs = false;
    m->firmware.no_ivrs = true;
    if (vtd) {
        /* VT-d comes from the firmware's DMAR (Intel VT-d 8.1): a machine
         * without one gets QEMU q35's, as `-device intel-iommu` adds it
         * (host/dmar.h) */
        if (m->firmware.dmar.kind == SCN_DMAR_ABSENT) {
            memset(&m->firmware.dmar, 0, sizeof m->firmware.dmar);
            m->firmware.dmar.kind = SCN_DMAR_Q35;
        }
        m->iommu = sm ? SCN_IOMMU_VTD_SM : SCN_IOMMU_VTD;
    } else {
        memset(&m->firmware.dmar, 0, sizeof m->firmware.dmar);
        m->iommu = SCN_IOMMU_NONE;
    }
    return 0;
}

/* base: NAME or FILE: the scenario is another one, loaded first, with these
 * keys on top (docs/scenario-format.md, "base"). */
#define SCN_MAX_BASE_DEPTH 8
static int parse_based(struct ctx *c, const struct scn_ynode *root)
{
    static const char *const keys[] = {"base", "name", "description", "seed", "kernel", "iommu",
                                       "set", NULL};
    int rc = check_map(c, root, "a scenario with 'base'", keys);
    if (rc)
        return rc;
    const struct scn_ynode *bn = map_get(root, "base");
    char base[SCN_PATH_MAX];
    if ((rc = get_string(c, bn, "base", base, sizeof base)))
        return rc;
    if (c->depth + 1 >= SCN_MAX_BASE_DEPTH)
        return fail(c, bn, PCILAB_ERANGE, "base '%s': more than %d scenarios based on one "
                    "another (a loop?)", base, SCN_MAX_BASE_DEPTH);
    struct pcilab_err inner;
    pcilab_err_clear(&inner);
    size_t n = strlen(base);
    bool file = strchr(base, '/') || (n > 5 && !strcmp(base + n - 5, ".yaml")) ||
                (n > 4 && !strcmp(base + n - 4, ".yml"));
    const struct scn_builtin *b = file ? NULL : scn_builtin_find(base);
    if (b) {
        rc = load(b->path, "", b->text, strlen(b->text), c->m, c->depth + 1, &inner);
    } else if (file) {
        char path[2 * SCN_PATH_MAX];
        snprintf(path, sizeof path, "%s%s", base[0] == '/' ? "" : c->dir, base);
        rc = load_file(path, c->m, c->depth + 1, &inner);
    } else {
        char list[256] = "";
        for (const struct scn_builtin *p = scn_builtins; p->name; p++)
            list_append(list, sizeof list, p->name);
        return fail(c, bn, PCILAB_ENOENT, "base '%s' is neither a built-in scenario (%s) nor a "
                    "file (a path with '/' or ending in .yaml)", base, list);
    }
    if (rc) {
        char msg[sizeof inner.msg + sizeof inner.file + 32];
        return fail(c, bn, inner.code ? inner.code : PCILAB_EINVAL, "base '%s': %s", base,
                    pcilab_err_str(&inner, msg, sizeof msg));
    }
    snprintf(c->m->source, sizeof c->m->source, "%s", c->file);
    if ((rc = parse_head(c, root)))
        return rc;
    struct scn_ynode *v;
    if ((v = map_get(root, "kernel"))) {
        /* key by key over the base's; a modules: list replaces the base's */
        if (v->type == SCN_Y_MAP && map_get(v, "modules")) {
            memset(c->m->kernel.modules, 0, sizeof c->m->kernel.modules);
            c->m->kernel.nmodules = 0;
        }
        if ((rc = parse_kernel(c, map_key(root, "kernel"), v)))
            return rc;
    }
    if ((v = map_get(root, "iommu")) && (rc = parse_iommu_kind(c, v)))
        return rc;
    if ((v = map_get(root, "set"))) {
        char d[64];
        if (v->type != SCN_Y_MAP)
            return fail(c, v, PCILAB_EINVAL, "'set' must be a mapping of TARGET.KEY: VALUE, got "
                        "%s", scn_yaml_describe(v, d, sizeof d));
        for (size_t i = 0; i + 1 < v->nkids; i += 2) {
            const struct scn_ynode *k = v->kids[i], *x = v->kids[i + 1];
            for (size_t j = 0; j < i; j += 2)
                if (!strcmp(v->kids[j]->text, k->text))
                    return fail(c, k, PCILAB_EINVAL, "duplicate key '%s' (first at line %u)",
                                k->text, v->kids[j]->line);
            if ((rc = want_scalar(c, x, k->text, "a scalar")))
                return rc;
            pcilab_err_clear(&inner);
            if (scn_set(c->m, k->text, x->text, &inner) < 0)
                return fail(c, k, inner.code ? inner.code : PCILAB_EINVAL, "set '%s': %s", k->text,
                            inner.msg);
        }
    }
    return 0;
}
