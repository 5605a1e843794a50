/* Trace sinks: text (analyzer columns), JSON lines, and IEEE 1364-2005 VCD
 * (clause 18, "Value change dump (VCD) files"). */
#include "sim/trace.h"

#include <stdlib.h>
#include <string.h>

#define VCD_ID_FIRST 33  /* '!': identifier codes use printable ASCII 33..126 */
#define VCD_ID_RADIX 94

struct sink {
    enum sim_trace_format format;
    FILE *f;
    bool owned;           /* opened by us: fclose at close */
    bool header_done;     /* text header or VCD definitions written */
    bool time_written;    /* VCD: a #time line for vcd_time is written */
    sim_time_t vcd_time;
};

struct signal {
    char *scope;          /* dotted */
    char *name;
    unsigned width;
    uint64_t value;
    bool known;
    char code[8];
};

struct sim_trace {
    struct sink *sinks;
    size_t n_sinks, cap_sinks;
    unsigned n_record_sinks, n_vcd_sinks;
    struct signal *sigs;
    size_t n_sigs, cap_sigs;
    bool sealed;          /* a change happened: no more declarations */
    sim_time_t last_t;
    bool io_error;
};

struct sim_trace *sim_trace_create(void)
{
    return calloc(1, sizeof(struct sim_trace));
}

void sim_trace_destroy(struct sim_trace *tr)
{
    if (!tr)
        return;
    sim_trace_close(tr, NULL);
    for (size_t i = 0; i < tr->n_sigs; i++) {
        free(tr->sigs[i].scope);
        free(tr->sigs[i].name);
    }
    free(tr->sigs);
    free(tr->sinks);
    free(tr);
}

bool sim_trace_enabled(const struct sim_trace *tr)
{
    return tr->n_record_sinks != 0;
}

bool sim_trace_signals_enabled(const struct sim_trace *tr)
{
    return tr->n_vcd_sinks != 0;
}

int sim_trace_parse_format(const char *name, enum sim_trace_format *out,
                           struct pcilab_err *err)
{
    if (!name || !strcmp(name, "auto"))
        *out = SIM_TRACE_AUTO;
    else if (!strcmp(name, "text") || !strcmp(name, "txt"))
        *out = SIM_TRACE_TEXT;
    else if (!strcmp(name, "jsonl") || !strcmp(name, "json"))
        *out = SIM_TRACE_JSONL;
    else if (!strcmp(name, "vcd"))
        *out = SIM_TRACE_VCD;
    else
        return pcilab_errf(err, PCILAB_EINVAL,
                           "unknown trace format '%s' (auto, text, jsonl, vcd)", name);
    return 0;
}

static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    return dot ? dot + 1 : "";
}

static int format_from_path(const char *path, enum sim_trace_format *out,
                            struct pcilab_err *err)
{
    const char *ext = extension(path);
    if (!strcmp(path, "-") || !strcmp(ext, "txt") || !strcmp(ext, "log"))
        *out = SIM_TRACE_TEXT;
    else if (!strcmp(ext, "jsonl") || !strcmp(ext, "json"))
        *out = SIM_TRACE_JSONL;
    else if (!strcmp(ext, "vcd"))
        *out = SIM_TRACE_VCD;
    else
        return pcilab_errf(err, PCILAB_EINVAL,
                           "cannot tell the trace format of '%s' from its extension "
                           "(.txt/.log, .jsonl/.json, .vcd); name the format", path);
    return 0;
}

static void vcd_header(struct sim_trace *tr, struct sink *s);

static int add_sink(struct sim_trace *tr, FILE *f, bool owned, enum sim_trace_format format,
                    struct pcilab_err *err)
{
    if (tr->n_sinks == tr->cap_sinks) {
        size_t ncap = tr->cap_sinks ? tr->cap_sinks * 2 : 4;
        struct sink *n = realloc(tr->sinks, ncap * sizeof *n);
        if (!n)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a trace sink");
        tr->sinks = n;
        tr->cap_sinks = ncap;
    }
    struct sink *s = &tr->sinks[tr->n_sinks++];
    memset(s, 0, sizeof *s);
    s->format = format;
    s->f = f;
    s->owned = owned;
    if (format == SIM_TRACE_VCD) {
        tr->n_vcd_sinks++;
        /* Joining after the first change: the definitions are final, so write
         * them now with the current values. */
        if (tr->sealed)
            vcd_header(tr, s);
    } else {
        tr->n_record_sinks++;
    }
    return 0;
}

int sim_trace_open_stream(struct sim_trace *tr, FILE *f, enum sim_trace_format format,
                          struct pcilab_err *err)
{
    if (format != SIM_TRACE_TEXT && format != SIM_TRACE_JSONL && format != SIM_TRACE_VCD)
        return pcilab_errf(err, PCILAB_EINVAL, "a trace stream needs an explicit format");
    return add_sink(tr, f, false, format, err);
}

int sim_trace_open(struct sim_trace *tr, const char *path, const char *format,
                   struct pcilab_err *err)
{
    enum sim_trace_format fmt;
    int r = sim_trace_parse_format(format, &fmt, err);
    if (r < 0)
        return r;
    if (fmt == SIM_TRACE_AUTO && (r = format_from_path(path, &fmt, err)) < 0)
        return r;
    if (!strcmp(path, "-"))
        return add_sink(tr, stdout, false, fmt, err);
    FILE *f = fopen(path, "w");
    if (!f)
        return pcilab_err_at(err, PCILAB_EIO, path, 0, 0, "cannot open trace file for writing");
    r = add_sink(tr, f, true, fmt, err);
    if (r < 0)
        fclose(f);
    return r;
}

/* ---- text ---------------------------------------------------------------- */

#define COL_TIME  18
#define COL_DUR   14
#define COL_DIR   4
#define COL_WHERE 20
#define COL_KIND  5

static const char *dir_word(enum sim_trace_dir d)
{
    return d == SIM_TRACE_UP ? "up" : d == SIM_TRACE_DOWN ? "down" : "-";
}

/* Picoseconds as nanoseconds with three decimals, exact (no floating point). */
static void fmt_ns(char *buf, size_t len, sim_time_t ps)
{
    snprintf(buf, len, "%llu.%03u", (unsigned long long)(ps / 1000), (unsigned)(ps % 1000));
}

/* Writes s with line breaks and other control characters turned into spaces,
 * so that one record stays one line. */
static void put_oneline(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
}

static void text_emit(struct sink *s, const struct sim_trace_rec *rec)
{
    if (!s->header_done) {
        fprintf(s->f, "%*s %*s  %-*s %-*s %-*s %s\n", COL_TIME, "time (ns)", COL_DUR,
                "duration (ns)", COL_DIR, "dir", COL_WHERE, "where", COL_KIND, "kind",
                "summary");
        s->header_done = true;
    }
    char t[32], d[32];
    fmt_ns(t, sizeof t, rec->t);
    if (rec->duration)
        fmt_ns(d, sizeof d, rec->duration);
    else
        snprintf(d, sizeof d, "-");
    fprintf(s->f, "%*s %*s  %-*s ", COL_TIME, t, COL_DUR, d, COL_DIR, dir_word(rec->dir));
    const char *where = rec->where ? rec->where : "-";
    const char *kind = rec->kind ? rec->kind : "-";
    put_oneline(s->f, where);
    for (size_t n = strlen(where); n < COL_WHERE; n++)
        fputc(' ', s->f);
    fputc(' ', s->f);
    put_oneline(s->f, kind);
    for (size_t n = strlen(kind); n < COL_KIND; n++)
        fputc(' ', s->f);
    fputc(' ', s->f);
    put_oneline(s->f, rec->text);
    fputc('\n', s->f);
}

/* ---- JSON lines ---------------------------------------------------------- */

/* RFC 8259 section 7: quotation mark, reverse solidus and control characters
 * must be escaped; everything else (UTF-8) goes through. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

static void jsonl_emit(struct sink *s, const struct sim_trace_rec *rec)
{
    FILE *f = s->f;
    fprintf(f, "{\"t_ps\":%llu,\"duration_ps\":%llu,\"where\":", (unsigned long long)rec->t,
            (unsigned long long)rec->duration);
    json_str(f, rec->where ? rec->where : "");
    fputs(",\"dir\":", f);
    json_str(f, rec->dir == SIM_TRACE_UP ? "up" : rec->dir == SIM_TRACE_DOWN ? "down" : "none");
    fputs(",\"kind\":", f);
    json_str(f, rec->kind ? rec->kind : "");
    fputs(",\"text\":", f);
    json_str(f, rec->text ? rec->text : "");
    if (rec->json && rec->json[0]) {
        fputc(',', f);
        fputs(rec->json, f);
    }
    fputs("}\n", f);
}

void sim_trace_emit(struct sim_trace *tr, const struct sim_trace_rec *rec)
{
    for (size_t i = 0; i < tr->n_sinks; i++) {
        struct sink *s = &tr->sinks[i];
        if (s->format == SIM_TRACE_TEXT)
            text_emit(s, rec);
        else if (s->format == SIM_TRACE_JSONL)
            jsonl_emit(s, rec);
    }
}

/* ---- VCD ----------------------------------------------------------------- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* VCD identifiers and reference names are whitespace-delimited tokens (18.2.1):
 * anything outside printable ASCII becomes '_'. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            *s = '_';
}

int sim_trace_signal(struct sim_trace *tr, const char *scope, const char *name,
                     unsigned width, struct pcilab_err *err)
{
    if (!name || !name[0])
        return pcilab_errf(err, PCILAB_EINVAL, "signal without a name");
    if (tr->sealed)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "signal '%s' declared after the first value change", name);
    if (width < 1 || width > 64)
        return pcilab_errf(err, PCILAB_EINVAL, "signal '%s': width %u not in 1..64", name, width);
    if (tr->n_sigs >= (size_t)1 << 30)
        return pcilab_errf(err, PCILAB_ERANGE, "too many signals");
    if (tr->n_sigs == tr->cap_sigs) {
        size_t ncap = tr->cap_sigs ? tr->cap_sigs * 2 : 16;
        struct signal *n = realloc(tr->sigs, ncap * sizeof *n);
        if (!n)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a signal");
        tr->sigs = n;
        tr->cap_sigs = ncap;
    }
    struct signal sg = {0};
    sg.scope = dup_str(scope && scope[0] ? scope : "pcilab");
    sg.name = dup_str(name);
    if (!sg.scope || !sg.name) {
        free(sg.scope);
        free(sg.name);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a signal");
    }
    sanitize(sg.scope);
    sanitize(sg.name);
    sg.width = width;
    /* Identifier code: the index in base 94 over '!'..'~'. */
    size_t idx = tr->n_sigs, k = 0;
    do {
        sg.code[k++] = (char)(VCD_ID_FIRST + idx % VCD_ID_RADIX);
        idx /= VCD_ID_RADIX;
    } while (idx);
    sg.code[k] = '\0';
    tr->sigs[tr->n_sigs] = sg;
    return (int)tr->n_sigs++;
}

/* Compares two dotted scopes part by part, so that every scope's signals and
 * sub-scopes sort next to each other. */
static int scope_cmp(const char *a, const char *b)
{
    for (;;) {
        size_t la = strcspn(a, "."), lb = strcspn(b, ".");
        size_t n = la < lb ? la : lb;
        int c = memcmp(a, b, n);
        if (c)
            return c;
        if (la != lb)
            return la < lb ? -1 : 1;
        if (!a[la] || !b[lb])
            return a[la] ? 1 : b[lb] ? -1 : 0;
        a += la + 1;
        b += lb + 1;
    }
}

static void vcd_value(FILE *f, const struct signal *sg)
{
    if (sg->width == 1) {
        fprintf(f, "%c%s\n", !sg->known ? 'x' : sg->value ? '1' : '0', sg->code);
        return;
    }
    if (!sg->known) {
        fprintf(f, "bx %s\n", sg->code);
        return;
    }
    /* 18.2.3.1: vector values in binary, leading zeros may be left out. */
    char bits[65];
    int n = 0;
    for (int b = (int)sg->width - 1; b >= 0; b--)
        if (n || (sg->value >> b) & 1 || b == 0)
            bits[n++] = (char)('0' + ((sg->value >> b) & 1));
    bits[n] = '\0';
    fprintf(f, "b%s %s\n", bits, sg->code);
}

static void vcd_time(struct sink *s, sim_time_t t)
{
    if (s->time_written && t == s->vcd_time)
        return;
    fprintf(s->f, "#%llu\n", (unsigned long long)t);
    s->vcd_time = t;
    s->time_written = true;
}

static void vcd_header(struct sim_trace *tr, struct sink *s)
{
    FILE *f = s->f;
    /* No $date: the output must not depend on the wall clock. */
    fputs("$version pcilab $end\n$timescale 1ps $end\n", f);
    size_t n = tr->n_sigs;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
        tr->io_error = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    /* Insertion sort by scope, then declaration order (stable). */
    for (size_t i = 1; i < n; i++) {
        size_t v = order[i], j = i;
        while (j > 0 && scope_cmp(tr->sigs[order[j - 1]].scope, tr->sigs[v].scope) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    /* Walk the sorted list keeping the open scopes as a prefix of a dotted path. */
    const char *open = "";
    size_t depth = 0;
    for (size_t i = 0; i < n; i++) {
        const struct signal *sg = &tr->sigs[order[i]];
        /* Common parts of open and sg->scope. */
        size_t common = 0, pa = 0, pb = 0;
        const char *a = open, *b = sg->scope;
        while (common < depth) {
            size_t la = strcspn(a + pa, "."), lb = strcspn(b + pb, ".");
            if (la != lb || memcmp(a + pa, b + pb, la))
                break;
            common++;
            pa += la + (a[pa + la] ? 1 : 0);
            pb += lb + (b[pb + lb] ? 1 : 0);
        }
        for (; depth > common; depth--)
            fputs("$upscope $end\n", f);
        /* Open the remaining parts of sg->scope. */
        const char *rest = b + pb;
        while (*rest) {
            size_t l = strcspn(rest, ".");
            fprintf(f, "$scope module %.*s $end\n", (int)l, rest);
            depth++;
            rest += l + (rest[l] ? 1 : 0);
        }
        open = sg->scope;
        fprintf(f, "$var wire %u %s %s", sg->width, sg->code, sg->name);
        if (sg->width > 1)
            fprintf(f, " [%u:0]", sg->width - 1);
        fputs(" $end\n", f);
    }
    for (; depth > 0; depth--)
        fputs("$upscope $end\n", f);
    free(order);
    fputs("$enddefinitions $end\n", f);
    /* 18.2.3.2: $dumpvars gives every variable's value at the dump start. */
    vcd_time(s, tr->sealed ? tr->last_t : 0);
    fputs("$dumpvars\n", f);
    for (size_t i = 0; i < n; i++)
        vcd_value(f, &tr->sigs[i]);
    fputs("$end\n", f);
    s->header_done = true;
}

void sim_trace_change(struct sim_trace *tr, sim_time_t t, int sig, uint64_t value)
{
    if (sig < 0 || (size_t)sig >= tr->n_sigs)
        return;
    struct signal *sg = &tr->sigs[sig];
    if (t < tr->last_t)
        t = tr->last_t; /* VCD time never decreases */
    if (sg->width < 64)
        value &= ((uint64_t)1 << sg->width) - 1;
    if (!tr->sealed) {
        for (size_t i = 0; i < tr->n_sinks; i++)
            if (tr->sinks[i].format == SIM_TRACE_VCD && !tr->sinks[i].header_done)
                vcd_header(tr, &tr->sinks[i]);
        tr->sealed = true;
    }
    tr->last_t = t;
    if (sg->known && sg->value == value)
        return;
    sg->value = value;
    sg->known = true;
    for (size_t i = 0; i < tr->n_sinks; i++) {
        struct sink *s = &tr->sinks[i];
        if (s->format != SIM_TRACE_VCD)
            continue;
        vcd_time(s, t);
        vcd_value(s->f, sg);
    }
}

int sim_trace_close(struct sim_trace *tr, struct pcilab_err *err)
{
    bool failed = tr->io_error;
    for (size_t i = 0; i < tr->n_sinks; i++) {
        struct sink *s = &tr->sinks[i];
        if (s->format == SIM_TRACE_VCD && !s->header_done)
            vcd_header(tr, s);
        if (fflush(s->f) != 0 || ferror(s->f))
            failed = true;
        if (s->owned && fclose(s->f) != 0)
            failed = true;
    }
    tr->n_sinks = 0;
    tr->n_record_sinks = tr->n_vcd_sinks = 0;
    tr->io_error = false;
    if (failed)
        return pcilab_errf(err, PCILAB_EIO, "writing a trace failed");
    return 0;
}
