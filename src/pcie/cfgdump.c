/* pciutils configuration dump format: writer and tolerant reader. See cfgdump.h
 * for the format. Written from the format description, not from pciutils code. */
#include "pcie/cfgdump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/text.h"

void pcie_dump_init(struct pcie_dump *d)
{
    memset(d, 0, sizeof *d);
}

void pcie_dump_free(struct pcie_dump *d)
{
    free(d->funcs);
    memset(d, 0, sizeof *d);
}

const struct pcie_dump_func *pcie_dump_find(const struct pcie_dump *d, uint32_t domain,
                                            uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (size_t i = 0; i < d->count; i++) {
        const struct pcie_dump_func *f = &d->funcs[i];
        if (f->domain == domain && f->bus == bus && f->dev == dev && f->fn == fn)
            return f;
    }
    return NULL;
}

bool pcie_dump_func_has(const struct pcie_dump_func *f, unsigned off, unsigned size)
{
    if (off + size > PCIE_CFG_SPACE_SIZE || size == 0)
        return false;
    for (unsigned o = off; o < off + size; o++)
        if (!(f->given[o / 8] & (1u << (o % 8))))
            return false;
    return true;
}

/* ---- reader ---- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Number of hex digits at s[0..n). */
static size_t hex_run(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && pcilab_hexval(s[i]) >= 0)
        i++;
    return i;
}

static uint32_t hex_value(const char *s, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 4 | (uint32_t)pcilab_hexval(s[i]);
    return v;
}

struct reader {
    struct pcie_dump *d;
    const char *file;
    struct pcilab_err *err;
    unsigned line;
    struct pcie_dump_func *cur;    /* function being filled, NULL before the first */
    bool cur_has_hex;
};

static int bad(struct reader *r, size_t col, int code, const char *fmt, const char *tok,
               size_t toklen)
{
    char shown[40];
    size_t n = toklen < sizeof shown - 4 ? toklen : sizeof shown - 4;
    memcpy(shown, tok, n);
    if (n < toklen)
        memcpy(shown + n, "...", 4);
    else
        shown[n] = '\0';
    return pcilab_err_at(r->err, code, r->file ? r->file : "", r->line, (unsigned)col + 1, fmt,
                         shown);
}

/* "[DDDD[DD]:]BB:DD.F" then end of line or a blank. Returns 1 when the line is a
 * device header, 0 when it is not one, negative on a malformed BDF. */
static int try_header(struct reader *r, const char *s, size_t n, size_t indent)
{
    size_t a = hex_run(s, n);
    uint32_t domain = 0;
    size_t p = 0;
    /* with domain: 4..6 digits ':' then bus */
    if (a >= 4 && a <= 6 && a < n && s[a] == ':' && hex_run(s + a + 1, n - a - 1) == 2 &&
        a + 3 < n && s[a + 3] == ':') {
        domain = hex_value(s, a);
        p = a + 1;
    } else if (a != 2) {
        return 0;
    }
    if (p + 2 >= n || hex_run(s + p, 2) != 2 || s[p + 2] != ':')
        return 0;
    uint32_t bus = hex_value(s + p, 2);
    p += 3;
    size_t dl = hex_run(s + p, n - p);
    if (dl != 2 || p + dl >= n || s[p + dl] != '.')
        return 0;
    size_t dev_at = p;
    uint32_t dev = hex_value(s + p, 2);
    p += 3;
    if (p >= n || pcilab_hexval(s[p]) < 0)
        return 0;
    size_t fn_at = p;
    size_t fl = 0;
    while (p + fl < n && s[p + fl] >= '0' && s[p + fl] <= '9')
        fl++;
    if (fl == 0 || (p + fl < n && !is_blank(s[p + fl])))
        return 0;
    if (dev > 0x1f)
        return bad(r, indent + dev_at, PCILAB_EINVAL,
                   "device number '%s' is above 1f (5 bits, PCIe 5.0 2.2.4.2)", s + dev_at, 2);
    if (fl != 1 || s[fn_at] > '7')
        return bad(r, indent + fn_at, PCILAB_EINVAL,
                   "function number '%s' is not 0..7", s + fn_at, fl);
    const struct pcie_dump_func *dup =
        pcie_dump_find(r->d, domain, (uint8_t)bus, (uint8_t)dev, (uint8_t)(s[fn_at] - '0'));
    if (dup) {
        char msg[64];
        snprintf(msg, sizeof msg, "function '%%s' appears twice (first on line %u)", dup->line);
        return bad(r, indent, PCILAB_EINVAL, msg, s, p + fl);
    }
    if (r->d->count >= PCIE_DUMP_MAX_FUNCS)
        return bad(r, indent, PCILAB_ERANGE, "too many functions in one dump at '%s'", s, p + fl);
    if (r->d->count == r->d->capacity) {
        size_t ncap = r->d->capacity ? r->d->capacity * 2 : 16;
        struct pcie_dump_func *nf = realloc(r->d->funcs, ncap * sizeof *nf);
        if (!nf)
            return pcilab_errf(r->err, PCILAB_ENOMEM, "out of memory reading a dump");
        r->d->funcs = nf;
        r->d->capacity = ncap;
    }
    struct pcie_dump_func *f = &r->d->funcs[r->d->count++];
    memset(f, 0, sizeof *f);
    memset(f->bytes, 0xff, sizeof f->bytes);
    f->domain = domain;
    f->bus = (uint8_t)bus;
    f->dev = (uint8_t)dev;
    f->fn = (uint8_t)(s[fn_at] - '0');
    f->line = r->line;
    r->cur = f;
    r->cur_has_hex = false;
    return 1;
}

/* "oo: hh hh ..." Returns 1 when parsed, 0 when the line is not a hex line. */
static int try_hex(struct reader *r, const char *s, size_t n, size_t indent)
{
    size_t a = hex_run(s, n);
    if (a < 1 || a > 8 || a >= n || s[a] != ':' || (a + 1 < n && !is_blank(s[a + 1])))
        return 0;
    if (!r->cur)
        return bad(r, indent, PCILAB_EINVAL,
                   "hex dump line '%s' before any device line ('BB:DD.F ...')", s, n);
    uint32_t off = hex_value(s, a);
    if (off >= PCIE_CFG_SPACE_SIZE)
        return bad(r, indent, PCILAB_ERANGE,
                   "offset '%s' is beyond the 4096-byte configuration space", s, a);
    size_t p = a + 1;
    struct pcie_dump_func *f = r->cur;
    for (;;) {
        while (p < n && is_blank(s[p]))
            p++;
        if (p >= n)
            break;
        size_t t = p;
        while (t < n && !is_blank(s[t]))
            t++;
        size_t tl = t - p;
        if (tl != 2 || pcilab_hexval(s[p]) < 0 || pcilab_hexval(s[p + 1]) < 0)
            return bad(r, indent + p, PCILAB_EINVAL,
                       "expected a byte as two hex digits, got '%s'", s + p, tl);
        if (off >= PCIE_CFG_SPACE_SIZE)
            return bad(r, indent + p, PCILAB_ERANGE,
                       "byte '%s' runs past offset fff of the configuration space", s + p, tl);
        if (f->given[off / 8] & (1u << (off % 8))) {
            char msg[80];
            snprintf(msg, sizeof msg, "byte '%%s' at offset %03x was already given", off);
            return bad(r, indent + p, PCILAB_EINVAL, msg, s + p, tl);
        }
        f->bytes[off] = (uint8_t)hex_value(s + p, 2);
        f->given[off / 8] = (uint8_t)(f->given[off / 8] | (1u << (off % 8)));
        f->present++;
        off++;
        if (off > f->len)
            f->len = off;
        p = t;
    }
    r->cur_has_hex = true;
    return 1;
}

/* A line of nothing but byte pairs inside a dump: most likely a hex line that a
 * mail client wrapped. */
static bool only_bytes(const char *s, size_t n)
{
    size_t p = 0, tokens = 0;
    for (;;) {
        while (p < n && is_blank(s[p]))
            p++;
        if (p >= n)
            return tokens > 0;
        if (p + 2 > n || pcilab_hexval(s[p]) < 0 || pcilab_hexval(s[p + 1]) < 0 ||
            (p + 2 < n && !is_blank(s[p + 2])))
            return false;
        tokens++;
        p += 2;
    }
}

static int parse_line(struct reader *r, const char *s, size_t n)
{
    /* CRLF and trailing blanks */
    while (n && (s[n - 1] == '\r' || is_blank(s[n - 1])))
        n--;
    if (!n)
        return 0;
    /* lspci -v lines are indented with tabs: never a header or hex line */
    if (s[0] == '\t')
        return 0;
    size_t indent = 0;
    while (indent < n && s[indent] == ' ')
        indent++;
    s += indent;
    n -= indent;
    int h = try_header(r, s, n, indent);
    if (h != 0)
        return h < 0 ? h : 0;
    int x = try_hex(r, s, n, indent);
    if (x != 0)
        return x < 0 ? x : 0;
    if (r->cur_has_hex && only_bytes(s, n))
        return bad(r, indent, PCILAB_EINVAL,
                   "bytes '%s' without an offset (a wrapped hex dump line?)", s, n);
    return 0; /* other text: descriptions, prompts, mail quoting */
}

int pcie_dump_parse(struct pcie_dump *d, const char *text, size_t len, const char *file,
                    struct pcilab_err *err)
{
    struct reader r = {.d = d, .file = file, .err = err};
    size_t p = 0;
    while (p < len) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - text) : len;
        r.line++;
        if (memchr(text + p, '\0', e - p))
            return pcilab_err_at(err, PCILAB_EINVAL, file ? file : "", r.line, 0,
                                 "NUL byte in a text dump");
        int rc = parse_line(&r, text + p, e - p);
        if (rc < 0)
            return rc;
        p = e + 1;
    }
    if (!d->count)
        return pcilab_err_at(err, PCILAB_EINVAL, file ? file : "", r.line ? r.line : 1, 0,
                             "no device line ('BB:DD.F ...' or 'DDDD:BB:DD.F ...') in the dump");
    return 0;
}

int pcie_dump_load(struct pcie_dump *d, const char *path, struct pcilab_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return pcilab_err_at(err, PCILAB_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad_read = ferror(f);
    fclose(f);
    if (bad_read) {
        free(buf);
        return pcilab_err_at(err, PCILAB_EIO, path, 0, 0, "read error");
    }
    int r = pcie_dump_parse(d, buf, len, path, err);
    free(buf);
    return r;
}

/* ---- writer ---- */

void pcie_dump_entry_from_cfg(struct pcie_dump_entry *e, uint32_t domain, uint8_t bus,
                              uint8_t dev, uint8_t fn, const struct pcie_cfg *cfg)
{
    memset(e, 0, sizeof *e);
    e->domain = domain;
    e->bus = bus;
    e->dev = dev;
    e->fn = fn;
    e->bytes = cfg->data;
    e->len = cfg->size;
}

int pcie_dump_format(const struct pcie_dump_entry *e, size_t n, unsigned bytes, unsigned flags,
                     char **out, size_t *out_len, struct pcilab_err *err)
{
    *out = NULL;
    *out_len = 0;
    if (bytes != 64 && bytes != 256 && bytes != 4096)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "dump size %u: lspci prints 64 (-x), 256 (-xxx) or 4096 (-xxxx)", bytes);
    bool domains = flags & PCIE_DUMP_DOMAINS;
    for (size_t i = 0; i < n; i++) {
        if (e[i].domain)
            domains = true; /* lspci shows domains for all once one is non-zero */
        if (e[i].len < 64 || e[i].dev > 0x1f || e[i].fn > 7 || !e[i].bytes)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "dump entry %zu: needs at least 64 bytes and a valid BDF", i);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory formatting a dump");
    for (size_t i = 0; i < n; i++) {
        const struct pcie_dump_entry *x = &e[i];
        if (domains)
            fprintf(f, "%04x:", (unsigned)x->domain);
        fprintf(f, "%02x:%02x.%u ", x->bus, x->dev, x->fn);
        if (x->desc && x->desc[0]) {
            /* one line only */
            for (const char *c = x->desc; *c && *c != '\n' && *c != '\r'; c++)
                fputc(*c, f);
            fputc('\n', f);
        } else {
            /* lspci -n: class (base, sub) and vendor:device, then the revision */
            const uint8_t *b = x->bytes;
            fprintf(f, "%02x%02x: %02x%02x:%02x%02x", b[0x0b], b[0x0a], b[0x01], b[0x00],
                    b[0x03], b[0x02]);
            if (b[0x08])
                fprintf(f, " (rev %02x)", b[0x08]);
            fputc('\n', f);
        }
        unsigned cnt = x->len < bytes ? (x->len >= 256 ? 256 : 64) : bytes;
        for (unsigned o = 0; o < cnt; o++) {
            if (!(o & 15))
                fprintf(f, "%02x:", o);
            fprintf(f, " %02x", x->bytes[o]);
            if ((o & 15) == 15)
                fputc('\n', f);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory formatting a dump");
    }
    *out = buf;
    *out_len = len;
    return 0;
}
