/* pcilab explain [LOG|-] [--lspci FILE]... [--json] [--simulate]: a real
 * kernel log (and lspci output) in, what happened, why and what to change
 * out (issue 6; docs/explain.md, docs/explain-json.md). The log streams in
 * chunks through the klog reader into the explainer (src/diag/explain.h);
 * it is never held whole in memory. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/explain_sim_run.h"
#include "diag/explain.h"
#include "diag/klog.h"
#include "diag/lspci.h"
#include "sim/err.h"

#define EXPLAIN_JSON_SCHEMA "pcilab-explain/1"
#define CHUNK (256u * 1024u)
#define PROGRESS_MIN (16ull << 20)   /* show progress for inputs above 16 MiB */
#define PROGRESS_STEP (8ull << 20)
#define LSPCI_MAX (64u << 20)
#define WIDTH 78

static void explain_usage(FILE *f)
{
    fprintf(f,
            "usage: pcilab explain [LOG|-] [--lspci FILE]... [--json] [--simulate]\n"
            "\n"
            "Reads a kernel log (dmesg, journalctl -k, syslog, or a fragment pasted from a\n"
            "mail; stdin when LOG is - or absent) and explains its IOMMU and DMA faults:\n"
            "what happened, why, and what to change, most important first.\n"
            "\n"
            "  --lspci FILE   output of lspci -tv / -nn / -vvv / -xxxx from the same machine\n"
            "                 (repeatable): names the requester, its role and its path\n"
            "  --json         the schema pcilab-explain/1 (docs/explain-json.md)\n"
            "  --simulate     reproduce each finding in a pcilab scenario and run its fix\n"
            "\n"
            "exit status: 0 explained (with or without findings), 1 unreadable input,\n"
            "2 usage\n");
}

/* snprintf without the compiler's truncation guesses: output is cut at len,
 * as intended, for every text here. */
static void sfmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sfmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* ---- printing helpers ---- */

/* Prints text wrapped at WIDTH, the first line after `first` (already
 * printed, of width col), the others indented by indent. */
static void wrap(FILE *out, size_t col, size_t indent, const char *text)
{
    const char *p = text;
    bool first_word = true;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t w = strcspn(p, " ");
        if (!first_word && col + 1 + w > WIDTH) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
            first_word = true;
        }
        if (!first_word) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, w, out);
        col += w;
        p += w;
        first_word = false;
    }
    fputc('\n', out);
}

static void labelled(FILE *out, size_t indent, const char *label, size_t lw, const char *text)
{
    fprintf(out, "%*s%-*s ", (int)indent, "", (int)lw, label);
    wrap(out, indent + lw + 1, indent + lw + 1, text);
}

static const char *bdf_s(uint16_t seg, uint16_t bdf, char *buf, size_t len)
{
    sfmt(buf, len, "%04x:%02x:%02x.%x", seg, bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7);
    return buf;
}

static void time_s(bool has, int64_t ns, char *buf, size_t len)
{
    if (!has)
        sfmt(buf, len, "-");
    else
        sfmt(buf, len, "%lld.%06lld s", (long long)(ns / 1000000000),
                 (long long)(ns % 1000000000 / 1000));
}

/* ---- --simulate ---- */

/* HOOK(simulate): src/diag/explain_sim.h (branch `simulate`) builds a pcilab
 * scenario reproducing one finding; src/cli/explain_sim_run.h runs it as seen
 * and with the fix, printing the outcome (human) or making the "simulation"
 * value (JSON); explain_sim_req_from_finding makes the request from what
 * the explainer found. */
struct sim_ctx {
    bool on;
    const struct explain *e;
    const struct lspci_db *db; /* NULL without --lspci */
    const struct explain_sim_dump *dump; /* the --lspci configuration dump, NULL: none */
};

static void sim_request(const struct sim_ctx *sc, const struct explain_finding *f,
                        struct explain_sim_req *req)
{
    explain_sim_req_from_finding(req, sc->e, f, sc->db);
    explain_sim_req_dump(req, sc->dump);
}

/* ---- human output ---- */

static void print_finding(FILE *out, const struct explain *e, size_t i,
                          const struct explain_finding *f, const struct sim_ctx *sc)
{
    const struct explain_sig *s = f->sig;
    char b[48], t1[32], t2[32], buf[512];
    fprintf(out, "\nFinding %zu: %s, confidence %s\n", i + 1, diag_category_name(f->category),
            diag_confidence_name(f->confidence));
    fprintf(out, "  ");
    wrap(out, 2, 2, f->what);
    if (f->req.known) {
        sfmt(buf, sizeof buf, "%s: %s (%s)", bdf_s(f->req.segment, f->req.bdf, b, sizeof b),
                 explain_req_role_name(f->req.role), f->req.how);
        if (f->req.name[0])
            sfmt(buf + strlen(buf), sizeof buf - strlen(buf), "; %s", f->req.name);
        if (f->req.driver[0])
            sfmt(buf + strlen(buf), sizeof buf - strlen(buf), "; driver %s", f->req.driver);
        if (f->req.npath > 1) {
            sfmt(buf + strlen(buf), sizeof buf - strlen(buf), "; path");
            for (size_t k = 0; k < f->req.npath; k++)
                sfmt(buf + strlen(buf), sizeof buf - strlen(buf), " %s%02x:%02x.%x",
                         k ? "<- " : "", f->req.path[k] >> 8, (f->req.path[k] >> 3) & 0x1f,
                         f->req.path[k] & 7);
        }
        labelled(out, 2, "Requester", 11, buf);
    }
    time_s(s->has_time, s->first_ns, t1, sizeof t1);
    time_s(s->has_time, s->last_ns, t2, sizeof t2);
    if (s->count == 1)
        sfmt(buf, sizeof buf, "1 event, at %s (line %llu)", t1,
                 (unsigned long long)s->first_line);
    else
        sfmt(buf, sizeof buf, "%llu events, first at %s (line %llu), last at %s (line %llu)",
                 (unsigned long long)s->count, t1, (unsigned long long)s->first_line, t2,
                 (unsigned long long)s->last_line);
    labelled(out, 2, "Count", 11, buf);

    fprintf(out, "  Decoded\n");
    for (size_t k = 0; k < f->nfields; k++) {
        const struct explain_field *x = &f->field[k];
        if (!strcmp(x->key, "requester"))
            continue;
        labelled(out, 4, x->key, 10, x->value);
    }
    fprintf(out, "  Evidence\n");
    for (size_t k = 0; k < s->nevidence; k++) {
        const struct explain_line *l = &s->evidence[k];
        if (l->line_last > l->line)
            sfmt(b, sizeof b, "%llu-%llu:", (unsigned long long)l->line,
                     (unsigned long long)l->line_last);
        else
            sfmt(b, sizeof b, "%llu:", (unsigned long long)l->line);
        fprintf(out, "    line %-8s %s\n", b, l->text);
    }
    if (s->count > s->nevidence)
        fprintf(out, "    (%llu more like these)\n",
                (unsigned long long)(s->count - s->nevidence));
    if (f->nruled) {
        fprintf(out, "  Ruled out\n");
        for (size_t k = 0; k < f->nruled; k++) {
            sfmt(buf, sizeof buf, "%s: %s", diag_category_name(f->ruled[k].category),
                     f->ruled[k].why);
            fprintf(out, "    - ");
            wrap(out, 6, 6, buf);
        }
    }
    fprintf(out, "  What to change\n");
    size_t n = 0;
    for (size_t k = 0; k < f->nfixes; k++) {
        const struct explain_fix *x = &f->fix[k];
        if (x->not_a_fix)
            continue;
        sfmt(buf, sizeof buf, "%zu. [%s] %s", ++n, explain_fix_kind_name(x->kind), x->text);
        fprintf(out, "    ");
        wrap(out, 4, 7, buf);
        if (x->cost[0]) {
            sfmt(buf, sizeof buf, "cost: %s", x->cost);
            fprintf(out, "       ");
            wrap(out, 7, 7, buf);
        }
    }
    for (size_t k = 0; k < f->nfixes; k++) {
        const struct explain_fix *x = &f->fix[k];
        if (!x->not_a_fix)
            continue;
        sfmt(buf, sizeof buf, "not a fix [%s]: %s (cost: %s)", explain_fix_kind_name(x->kind),
                 x->text, x->cost);
        fprintf(out, "    - ");
        wrap(out, 6, 6, buf);
    }
    if (f->ncollect) {
        fprintf(out, "  To collect\n");
        for (size_t k = 0; k < f->ncollect; k++) {
            fprintf(out, "    - ");
            wrap(out, 6, 6, f->collect[k]);
        }
    }
    if (sc->on) {
        struct explain_sim_req req;
        sim_request(sc, f, &req);
        fflush(out);
        explain_sim_run(&req, out, NULL);
    }
    (void)e;
}

static void print_human(FILE *out, const char *name, const struct explain *e,
                        const struct klog_stats *st, const struct sim_ctx *sc)
{
    const struct explain_counts *c = explain_get_counts(e);
    const struct explain_ctx *x = explain_context(e);
    size_t nf = explain_nfindings(e);
    fprintf(out, "pcilab explain: %s: %zu finding%s from %llu fault event%s in %llu lines\n",
            name, nf, nf == 1 ? "" : "s", (unsigned long long)c->faults,
            c->faults == 1 ? "" : "s", (unsigned long long)st->lines);
    if (!nf) {
        fprintf(out, "\nNo IOMMU or DMA fault recognised. ");
        wrap(out, 36, 0,
             "If the log is a fragment, paste the whole dmesg from boot; see below for what "
             "was not recognised.");
    } else {
        fprintf(out, "\nVerdict\n");
        for (size_t i = 0; i < nf; i++) {
            const struct explain_finding *f = explain_finding_at(e, i);
            char head[512];
            sfmt(head, sizeof head, "[%zu] %s (%s): %s.", i + 1,
                     diag_category_name(f->category), diag_confidence_name(f->confidence),
                     f->what);
            fprintf(out, "  ");
            wrap(out, 2, 6, head);
            fprintf(out, "      ");
            wrap(out, 6, 6, f->why);
            fprintf(out, "      ");
            wrap(out, 6, 6, f->change);
        }
        for (size_t i = 0; i < nf; i++)
            print_finding(out, e, i, explain_finding_at(e, i), sc);
    }

    fprintf(out, "\nContext from the log\n");
    labelled(out, 2, "Kernel", 10, x->kernel[0] ? x->kernel : "not in the log");
    labelled(out, 2, "Cmdline", 10, x->cmdline[0] ? x->cmdline : "not in the log");
    char buf[256];
    if (x->iommu == EXPLAIN_IOMMU_UNKNOWN)
        sfmt(buf, sizeof buf, "not said in the log");
    else
        sfmt(buf, sizeof buf, "%s (line %llu: %s)", x->iommu == EXPLAIN_IOMMU_ON ? "on" : "off",
                 (unsigned long long)x->iommu_line, x->iommu_text);
    labelled(out, 2, "IOMMU", 10, buf);
    for (size_t i = 0; i < x->ndev; i++) {
        const struct explain_dev *d = &x->dev[i];
        char b[32];
        sfmt(buf, sizeof buf, "%s%s%s", d->driver[0] ? "driver " : "", d->driver,
                 d->driver[0] ? "" : "enumerated");
        if (d->has_class)
            sfmt(buf + strlen(buf), sizeof buf - strlen(buf), ", class 0x%06x",
                     (unsigned)d->class_code);
        if (d->has_group)
            sfmt(buf + strlen(buf), sizeof buf - strlen(buf), ", iommu group %u",
                     (unsigned)d->group);
        fprintf(out, "  %-10s %s  %s\n", i ? "" : "Devices", bdf_s(d->segment, d->bdf, b, sizeof b),
                buf);
    }

    fprintf(out, "\nUnrecognised: %llu record%s", (unsigned long long)c->unrecognised,
            c->unrecognised == 1 ? "" : "s");
    if (c->unrecognised)
        fprintf(out, " (not guessed at); the first %zu:\n", explain_nunrec(e));
    else
        fprintf(out, "\n");
    for (size_t i = 0; i < explain_nunrec(e); i++) {
        const struct explain_unrec_line *u = explain_unrec_at(e, i);
        fprintf(out, "  line %-6llu %s\n", (unsigned long long)u->line, u->text);
    }
    char rd[640];
    sfmt(rd, sizeof rd,
            "Reader: %llu bytes, %llu lines, %llu records (%llu continuation lines joined), "
            "%llu binary, %llu too long, %llu bad UTF-8, %llu quoted, %llu CRLF; "
            "%llu recognised, %llu partial joins",
            (unsigned long long)st->bytes, (unsigned long long)st->lines,
            (unsigned long long)st->records, (unsigned long long)st->joined,
            (unsigned long long)st->binary, (unsigned long long)st->too_long,
            (unsigned long long)st->bad_utf8, (unsigned long long)st->quoted,
            (unsigned long long)st->crlf, (unsigned long long)c->recognised,
            (unsigned long long)c->partial_joins);
    if (c->sigs_dropped)
        sfmt(rd + strlen(rd), sizeof rd - strlen(rd), ", %llu events beyond the signature cap",
                 (unsigned long long)c->sigs_dropped);
    wrap(out, 0, 2, rd);
}

/* ---- JSON ---- */

static json_t *ju64(uint64_t v) { return json_integer((json_int_t)v); }

static json_t *jtime(bool has, int64_t ns)
{
    return has ? json_real((double)ns / 1e9) : json_null();
}

static json_t *json_finding(const struct explain_finding *f, const struct sim_ctx *sc)
{
    const struct explain_sig *s = f->sig;
    char b[32];
    json_t *j = json_object();
    json_object_set_new(j, "category", json_string(diag_category_name(f->category)));
    json_object_set_new(j, "confidence", json_string(diag_confidence_name(f->confidence)));
    json_object_set_new(j, "summary", json_pack("{s:s, s:s, s:s}", "what", f->what, "why",
                                                f->why, "change", f->change));
    if (f->req.known) {
        sfmt(b, sizeof b, "%02x:%02x.%x", f->req.bdf >> 8, (f->req.bdf >> 3) & 0x1f,
                 f->req.bdf & 7);
        json_t *r = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "segment", (int)f->req.segment,
                              "bdf", b, "name", f->req.name, "role",
                              explain_req_role_name(f->req.role), "how", f->req.how, "driver",
                              f->req.driver);
        json_t *path = json_array();
        for (size_t k = 0; k < f->req.npath; k++) {
            sfmt(b, sizeof b, "%02x:%02x.%x", f->req.path[k] >> 8,
                     (f->req.path[k] >> 3) & 0x1f, f->req.path[k] & 7);
            json_array_append_new(path, json_string(b));
        }
        json_object_set_new(r, "path", path);
        json_object_set_new(j, "requester", r);
    } else {
        json_object_set_new(j, "requester", json_null());
    }
    json_object_set_new(j, "count", ju64(s->count));
    json_object_set_new(j, "first", json_pack("{s:o, s:o}", "line", ju64(s->first_line), "time",
                                              jtime(s->has_time, s->first_ns)));
    json_object_set_new(j, "last", json_pack("{s:o, s:o}", "line", ju64(s->last_line), "time",
                                             jtime(s->has_time, s->last_ns)));
    json_object_set_new(j, "family", json_string(kmsg_family_name(s->family)));
    json_object_set_new(j, "kind", json_string(kmsg_kind_name(s->kind)));
    json_object_set_new(j, "format", json_string(s->format));
    if (s->has_addr) {
        sfmt(b, sizeof b, "0x%llx", (unsigned long long)s->addr);
        json_object_set_new(j, "address", json_string(b));
    } else {
        json_object_set_new(j, "address", json_null());
    }
    json_t *fields = json_object();
    for (size_t k = 0; k < f->nfields; k++)
        json_object_set_new(fields, f->field[k].key, json_string(f->field[k].value));
    json_object_set_new(j, "fields", fields);
    json_t *ev = json_array();
    for (size_t k = 0; k < s->nevidence; k++)
        json_array_append_new(ev, json_pack("{s:o, s:o, s:s}", "line", ju64(s->evidence[k].line),
                                            "line_last", ju64(s->evidence[k].line_last), "text",
                                            s->evidence[k].text));
    json_object_set_new(j, "evidence", ev);
    json_t *ro = json_array();
    for (size_t k = 0; k < f->nruled; k++)
        json_array_append_new(ro, json_pack("{s:s, s:s}", "category",
                                            diag_category_name(f->ruled[k].category), "why",
                                            f->ruled[k].why));
    json_object_set_new(j, "ruled_out", ro);
    json_t *fx = json_array();
    for (size_t k = 0; k < f->nfixes; k++)
        json_array_append_new(fx, json_pack("{s:s, s:s, s:s, s:b}", "kind",
                                            explain_fix_kind_name(f->fix[k].kind), "text",
                                            f->fix[k].text, "cost", f->fix[k].cost, "not_a_fix",
                                            f->fix[k].not_a_fix));
    json_object_set_new(j, "fixes", fx);
    json_t *co = json_array();
    for (size_t k = 0; k < f->ncollect; k++)
        json_array_append_new(co, json_string(f->collect[k]));
    json_object_set_new(j, "collect", co);
    json_t *sim = NULL;
    if (sc->on) {
        struct explain_sim_req req;
        sim_request(sc, f, &req);
        explain_sim_run(&req, NULL, &sim);
    }
    json_object_set_new(j, "simulation", sim ? sim : json_null());
    return j;
}

static int print_json(FILE *out, const char *name, const struct explain *e,
                      const struct klog_stats *st, const struct sim_ctx *sc)
{
    const struct explain_counts *c = explain_get_counts(e);
    const struct explain_ctx *x = explain_context(e);
    json_t *root = json_object();
    json_object_set_new(root, "schema", json_string(EXPLAIN_JSON_SCHEMA));
    json_object_set_new(root, "input", json_string(name));
    json_t *fa = json_array();
    for (size_t i = 0; i < explain_nfindings(e); i++)
        json_array_append_new(fa, json_finding(explain_finding_at(e, i), sc));
    json_object_set_new(root, "findings", fa);
    json_t *devs = json_array();
    for (size_t i = 0; i < x->ndev; i++) {
        const struct explain_dev *d = &x->dev[i];
        char b[32];
        sfmt(b, sizeof b, "%02x:%02x.%x", d->bdf >> 8, (d->bdf >> 3) & 0x1f, d->bdf & 7);
        json_t *jd = json_pack("{s:i, s:s, s:s, s:b}", "segment", (int)d->segment, "bdf", b,
                               "driver", d->driver, "enumerated", d->enumerated);
        json_object_set_new(jd, "class", d->has_class ? ju64(d->class_code) : json_null());
        json_object_set_new(jd, "group", d->has_group ? ju64(d->group) : json_null());
        json_array_append_new(devs, jd);
    }
    const char *iommu = x->iommu == EXPLAIN_IOMMU_ON ? "on" : x->iommu == EXPLAIN_IOMMU_OFF ? "off"
                                                                                           : "unknown";
    json_object_set_new(root, "context",
                        json_pack("{s:s?, s:s?, s:s, s:o}", "kernel",
                                  x->kernel[0] ? x->kernel : NULL, "cmdline",
                                  x->cmdline[0] ? x->cmdline : NULL, "iommu", iommu, "devices",
                                  devs));
    json_t *first = json_array();
    for (size_t i = 0; i < explain_nunrec(e); i++) {
        const struct explain_unrec_line *u = explain_unrec_at(e, i);
        json_array_append_new(first, json_pack("{s:o, s:s}", "line", ju64(u->line), "text",
                                               u->text));
    }
    json_object_set_new(root, "unrecognised",
                        json_pack("{s:o, s:o}", "count", ju64(c->unrecognised), "first", first));
    json_t *stats = json_object();
    json_object_set_new(stats, "bytes", ju64(st->bytes));
    json_object_set_new(stats, "lines", ju64(st->lines));
    json_object_set_new(stats, "records", ju64(st->records));
    json_object_set_new(stats, "joined", ju64(st->joined));
    json_object_set_new(stats, "binary", ju64(st->binary));
    json_object_set_new(stats, "too_long", ju64(st->too_long));
    json_object_set_new(stats, "bad_utf8", ju64(st->bad_utf8));
    json_object_set_new(stats, "quoted", ju64(st->quoted));
    json_object_set_new(stats, "crlf", ju64(st->crlf));
    json_object_set_new(stats, "recognised", ju64(c->recognised));
    json_object_set_new(stats, "faults", ju64(c->faults));
    json_object_set_new(stats, "context", ju64(c->context));
    json_object_set_new(stats, "partial_joins", ju64(c->partial_joins));
    json_object_set_new(stats, "partial_dropped", ju64(c->partial_dropped));
    json_object_set_new(stats, "signatures_dropped_events", ju64(c->sigs_dropped));
    json_object_set_new(root, "stats", stats);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return -1;
    fputs(text, out);
    fputc('\n', out);
    free(text);
    return 0;
}

/* ---- input ---- */

static int read_lspci(char **files, size_t nfiles, struct lspci_db *db, char *name,
                      size_t namelen, struct pcilab_err *err)
{
    size_t cap = 0, n = 0;
    char *text = NULL;
    name[0] = '\0';
    for (size_t i = 0; i < nfiles; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f) {
            free(text);
            return pcilab_err_at(err, PCILAB_EIO, files[i], 0, 0, "%s", strerror(errno));
        }
        sfmt(name + strlen(name), namelen - strlen(name), "%s%s", i ? "+" : "", files[i]);
        for (;;) {
            if (n + CHUNK + 2 > cap) {
                size_t nc = cap ? cap * 2 : CHUNK * 2;
                char *t = nc <= LSPCI_MAX ? realloc(text, nc) : NULL;
                if (!t) {
                    fclose(f);
                    free(text);
                    return pcilab_err_at(err, PCILAB_ERANGE, files[i], 0, 0,
                                         "lspci input larger than %u MiB", LSPCI_MAX >> 20);
                }
                text = t;
                cap = nc;
            }
            size_t r = fread(text + n, 1, CHUNK, f);
            n += r;
            if (r < CHUNK)
                break;
        }
        bool bad = ferror(f);
        fclose(f);
        if (bad) {
            free(text);
            return pcilab_err_at(err, PCILAB_EIO, files[i], 0, 0, "read error");
        }
        text[n++] = '\n';
    }
    if (!text)
        return 0;
    text[n] = '\0';
    size_t skipped = 0;
    int rc = lspci_parse(db, text, n, name, &skipped, err);
    free(text);
    return rc;
}

struct progress {
    bool on;
    uint64_t total;  /* 0: unknown (a pipe) */
    uint64_t next;
};

static void progress_tick(struct progress *p, uint64_t done)
{
    if (!p->on || done < p->next)
        return;
    p->next = done + PROGRESS_STEP;
    if (p->total)
        fprintf(stderr, "\rpcilab explain: %llu of %llu MiB (%llu%%)",
                (unsigned long long)(done >> 20), (unsigned long long)(p->total >> 20),
                (unsigned long long)(done * 100 / p->total));
    else
        fprintf(stderr, "\rpcilab explain: %llu MiB", (unsigned long long)(done >> 20));
    fflush(stderr);
}

static int read_log(FILE *in, const char *name, struct klog_reader *r, struct explain *e,
                    struct pcilab_err *err)
{
    struct progress p = {0};
    struct stat sb;
    if (isatty(STDERR_FILENO)) {
        p.on = true;
        p.next = PROGRESS_MIN;
        if (fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode))
            p.total = (uint64_t)sb.st_size;
    }
    char *buf = malloc(CHUNK);
    if (!buf)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
    uint64_t done = 0;
    size_t n;
    while ((n = fread(buf, 1, CHUNK, in)) > 0) {
        klog_feed(r, buf, n, explain_klog_rec, e);
        done += n;
        progress_tick(&p, done);
    }
    bool bad = ferror(in);
    free(buf);
    if (p.on && done >= PROGRESS_MIN)
        fprintf(stderr, "\r\033[K");
    if (bad)
        return pcilab_err_at(err, PCILAB_EIO, name, 0, 0, "read error: %s", strerror(errno));
    klog_finish(r, explain_klog_rec, e);
    explain_finish(e);
    return 0;
}

int cmd_explain(int argc, char **argv)
{
    const char *log = NULL;
    char **lspci_files = calloc((size_t)argc + 1, sizeof *lspci_files);
    size_t nlspci = 0;
    bool json = false, simulate = false;
    if (!lspci_files)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            explain_usage(stdout);
            free(lspci_files);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--simulate")) {
            simulate = true;
        } else if (!strcmp(a, "--lspci") && i + 1 < argc) {
            lspci_files[nlspci++] = argv[++i];
        } else if (!strncmp(a, "--lspci=", 8) && a[8]) {
            lspci_files[nlspci++] = (char *)a + 8;
        } else if (a[0] == '-' && strcmp(a, "-")) {
            fprintf(stderr, "pcilab explain: unknown option '%s'\n", a);
            explain_usage(stderr);
            free(lspci_files);
            return 2;
        } else if (!log) {
            log = a;
        } else {
            fprintf(stderr, "pcilab explain: one log at a time ('%s' and '%s')\n", log, a);
            free(lspci_files);
            return 2;
        }
    }
    struct pcilab_err err;
    pcilab_err_clear(&err);
    struct lspci_db db = {0};
    char lspci_name[512];
    if (read_lspci(lspci_files, nlspci, &db, lspci_name, sizeof lspci_name, &err) < 0) {
        free(lspci_files);
        lspci_free(&db);
        return cli_fail("explain", &err);
    }
    /* --simulate rebuilds the machine from a configuration dump among them */
    struct explain_sim_dump *dump = simulate && nlspci ? calloc(1, sizeof *dump) : NULL;
    if (dump)
        explain_sim_dump_load(dump, lspci_files, nlspci);
    free(lspci_files);

    bool from_stdin = !log || !strcmp(log, "-");
    const char *name = from_stdin ? "<stdin>" : log;
    FILE *in = from_stdin ? stdin : fopen(log, "rb");
    if (!in) {
        pcilab_err_at(&err, PCILAB_EIO, log, 0, 0, "%s", strerror(errno));
        lspci_free(&db);
        explain_sim_dump_free(dump);
        free(dump);
        return cli_fail("explain", &err);
    }
    struct explain_opts o = {.lspci = nlspci ? &db : NULL};
    struct explain *e = explain_create(&o);
    struct klog_reader *r = klog_reader_new(0);
    int status = 0;
    if (!e || !r) {
        pcilab_errf(&err, PCILAB_ENOMEM, "out of memory");
        status = cli_fail("explain", &err);
        goto out;
    }
    if (read_log(in, name, r, e, &err) < 0 || explain_analyse(e, &err) < 0) {
        status = cli_fail("explain", &err);
        goto out;
    }
    struct klog_stats st;
    klog_get_stats(r, &st);
    struct sim_ctx sc = {.on = simulate, .e = e, .db = nlspci ? &db : NULL, .dump = dump};
    if (json)
        status = print_json(stdout, name, e, &st, &sc) < 0 ? 1 : 0;
    else
        print_human(stdout, name, e, &st, &sc);
out:
    klog_reader_free(r);
    explain_destroy(e);
    lspci_free(&db);
    explain_sim_dump_free(dump);
    free(dump);
    if (!from_stdin)
        fclose(in);
    return status;
}
