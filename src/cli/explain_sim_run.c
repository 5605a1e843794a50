/* pcilab explain --simulate: the two runs (explain_sim_run.h). */
#define _DEFAULT_SOURCE /* realpath */
#include "cli/explain_sim_run.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/machine.h"
#include "diag/explain.h"
#include "diag/iommu_rec.h"
#include "diag/klog.h"
#include "diag/lspci.h"
#include "pcie/tlp.h"
#include "pcie/topology.h"
#include "scenario/build.h"
#include "sim/log.h"
#include "sim/sim.h"

/* What one run showed. */
struct sim_run {
    int status;                  /* 0, or the error of bringing it up */
    char error[512];
    bool has_line;
    struct explain_sim_fault line; /* its first fault line (AMD-Vi or VT-d) */
    char line_text[300];         /* as dmesg prints it, time included */
    uint64_t fault_lines;        /* fault lines in its log */
    uint64_t faults;             /* faults the IOMMU saw (the recorder) */
    char isr[200];               /* the board's first "DMA done:" line, the edu driver's
                                    last "store: N bytes of the device's data" line, "" */
    bool dev_found;
    uint16_t dev_segment, dev_bdf; /* where the board sits after enumeration */
    bool data;                   /* that line read the board's pattern, not zeros */
};

static void run_once(const char *arg, const struct explain_sim_scn *s, bool fixed,
                     struct sim_run *r)
{
    memset(r, 0, sizeof *r);
    const char *sets[EXPLAIN_SIM_MAX_SETS];
    size_t n = fixed ? s->nfixed : s->nseen;
    for (size_t i = 0; i < n; i++)
        sets[i] = fixed ? s->fixed[i] : s->seen[i];
    struct cli_machine_opts o = {.boot = true, .sets = sets, .nsets = (unsigned)n};
    struct pcilab_err err;
    pcilab_err_clear(&err);
    struct cli_machine m;
    if (cli_machine_up(&m, arg, &o, &err) < 0) {
        r->status = -1;
        pcilab_err_str(&err, r->error, sizeof r->error);
        return;
    }
    struct diag_rec *rec = NULL;
    if (scn_system_iommu_count(m.sys) && (rec = diag_rec_create()))
        diag_rec_attach(rec, scn_system_iommu(m.sys, 0)->iommu);
    sim_run_until(m.sim, s->until);

    char bdf[PCIE_FN_ADDR_LEN] = "";
    const struct scn_sysfn *dev = scn_system_find(m.sys, s->label);
    if (dev) {
        pcie_fn_addr_str(dev->fn, bdf);
        unsigned seg = 0, b = 0, d = 0, f = 0;
        if (sscanf(bdf, "%x:%x:%x.%x", &seg, &b, &d, &f) == 4) {
            r->dev_found = true;
            r->dev_segment = (uint16_t)seg;
            r->dev_bdf = (uint16_t)(b << 8 | d << 3 | f);
        }
    }
    const struct sim_log *log = sim_log(m.sim);
    bool edu = s->mistake[0] != '\0';
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec lr;
        if (!sim_log_get(log, i, &lr))
            continue;
        if (!strstr(lr.text, "IO_PAGE_FAULT") && !strstr(lr.text, "Request device [")) {
            const char *d;
            if (!edu && !r->isr[0] && bdf[0] && strstr(lr.text, bdf) &&
                (d = strstr(lr.text, "DMA done:"))) {
                snprintf(r->isr, sizeof r->isr, "%s", d);
                r->data = !strstr(d, "00000000 00000000");
            }
            /* the edu driver's report of its last store (src/drivers/edu.c
             * edu_report): "store: N bytes of the device's data in the
             * store buffer (first dwords ...)" */
            const char *nb = " bytes of the device's data in the store buffer";
            if (edu && bdf[0] && (d = strstr(lr.text, bdf)) && strstr(lr.text, nb)) {
                d += strlen(bdf);
                if (*d == ':')
                    d++;
                while (*d == ' ')
                    d++;
                snprintf(r->isr, sizeof r->isr, "%s", d);
                const char *q = strstr(d, nb);
                while (q > d && q[-1] >= '0' && q[-1] <= '9')
                    q--;
                r->data = strtoull(q, NULL, 10) > 0 && !strstr(d, "00000000 00000000");
            }
            continue;
        }
        struct explain_sim_fault f;
        if (explain_sim_fault_parse(lr.text, lr.len, &f, NULL) < 0)
            continue;
        r->fault_lines++;
        if (!r->has_line) {
            r->line = f;
            r->has_line = true;
            sim_log_format(&lr, r->line_text, sizeof r->line_text);
            size_t k = strlen(r->line_text);
            while (k && r->line_text[k - 1] == '\n')
                r->line_text[--k] = '\0';
        }
    }
    if (rec) {
        struct diag_rec_totals t;
        diag_rec_totals(rec, &t);
        r->faults = t.faults;
        diag_rec_destroy(rec);
    }
    cli_machine_down(&m);
}

/* The scenario as a file the loader can read, unless it is a built-in
 * plus --set keys. */
static int scenario_file(const struct explain_sim_scn *s, char *path, size_t len,
                         char *error, size_t elen)
{
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    snprintf(path, len, "%s/pcilab-explain-XXXXXX", tmpdir);
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(error, elen, "cannot create a temporary file in %s: %s", tmpdir,
                 strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return -1;
    }
    bool ok = fputs(s->yaml, f) >= 0;
    if (fclose(f) != 0 || !ok) {
        snprintf(error, elen, "writing %s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

static json_t *fault_json(const struct explain_sim_fault *f, const char *text)
{
    char b[PCIE_BDF_STRLEN], rid[24];
    snprintf(rid, sizeof rid, "%04x:%s", f->segment, pcie_bdf_str(f->rid, b));
    json_t *o = json_object();
    json_object_set_new(o, "text", json_string(text ? text : f->text));
    json_object_set_new(o, "family", json_string(kmsg_family_name(f->family)));
    json_object_set_new(o, "form", json_string(explain_sim_form_name(f->form)));
    json_object_set_new(o, "requester", f->has_rid ? json_string(rid) : json_null());
    json_object_set_new(o, "domain", f->has_domain ? json_integer(f->domain) : json_null());
    json_object_set_new(o, "address",
                        f->has_addr ? json_integer((json_int_t)f->addr) : json_null());
    json_object_set_new(o, "flags", f->has_flags ? json_integer(f->flags) : json_null());
    json_object_set_new(o, "reason", f->has_reason ? json_integer(f->reason) : json_null());
    json_object_set_new(o, "direction",
                        f->dir == KMSG_DIR_READ    ? json_string("read")
                        : f->dir == KMSG_DIR_WRITE ? json_string("write")
                                                   : json_null());
    return o;
}

static const char *same_name(enum explain_sim_same v)
{
    return v == EXPLAIN_SIM_SAME ? "same" : v == EXPLAIN_SIM_DIFFERS ? "differs" : "absent";
}

static json_t *sets_json(const char (*sets)[EXPLAIN_SIM_SET_LEN], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(sets[i]));
    return a;
}

/* text from column 14, wrapped at 80 */
static void wrapped(FILE *out, const char *label, const char *text)
{
    fprintf(out, "  %-11s ", label);
    size_t col = 14;
    const char *p = text;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t w = sp ? (size_t)(sp - p) : strlen(p);
        if (col > 14 && col + 1 + w > 80) {
            fprintf(out, "\n%14s", "");
            col = 14;
        } else if (col > 14) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", (int)w, p);
        col += w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

static void print_scenario(FILE *out, const struct explain_sim_scn *s)
{
    char cmd[1024];
    size_t used = (size_t)snprintf(cmd, sizeof cmd, "%s",
                                   s->run_arg[0] ? s->run_arg
                                   : s->from_dump ? "the dump's machine,"
                                                  : "a generic machine,");
    for (size_t i = 0; i < s->nseen && used < sizeof cmd; i++)
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, " --set %s", s->seen[i]);
    wrapped(out, "scenario", cmd);
    for (size_t i = 0; i < s->nnotes; i++)
        wrapped(out, i ? "" : "assumed", s->notes[i]);
}

int explain_sim_run(const struct explain_sim_req *req, FILE *out, json_t **json)
{
    struct explain_sim_scn s;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    json_t *j = json ? json_object() : NULL;
    if (json)
        *json = j;
    if (out)
        fprintf(out, "\nSimulation (--simulate):\n");
    if (explain_sim_build(req, &s, &err) < 0) {
        char msg[600];
        pcilab_err_str(&err, msg, sizeof msg);
        if (out)
            fprintf(out, "  not simulated: %s\n", msg);
        if (j) {
            json_object_set_new(j, "status", json_string("refused"));
            json_object_set_new(j, "reason", json_string(msg));
        }
        return 2;
    }
    if (out)
        print_scenario(out, &s);

    char path[4096] = "", error[512] = "";
    const char *arg = s.run_arg;
    if (!arg[0]) {
        if (scenario_file(&s, path, sizeof path, error, sizeof error) < 0) {
            if (out)
                fprintf(out, "  failed: %s\n", error);
            if (j) {
                json_object_set_new(j, "status", json_string("error"));
                json_object_set_new(j, "reason", json_string(error));
            }
            explain_sim_scn_free(&s);
            return -1;
        }
        arg = path;
    }
    struct sim_run *runs = calloc(2, sizeof *runs);
    if (!runs) {
        if (path[0])
            unlink(path);
        explain_sim_scn_free(&s);
        if (out)
            fprintf(out, "  failed: out of memory\n");
        return -1;
    }
    struct sim_run *seen = &runs[0], *fixed = &runs[1];
    run_once(arg, &s, false, seen);
    if (seen->status == 0)
        run_once(arg, &s, true, fixed);
    if (path[0])
        unlink(path);

    int rc;
    struct explain_sim_cmp cmp = {0};
    char why[400] = "";
    if (seen->status < 0) {
        rc = -1;
        if (out)
            fprintf(out, "  failed: the scenario did not run: %s\n", seen->error);
    } else if (fixed->status < 0) {
        rc = -1;
        if (out)
            fprintf(out, "  failed: the fixed scenario did not run: %s\n", fixed->error);
    } else {
        if (seen->has_line) {
            explain_sim_compare(&s.expect, &seen->line, &cmp);
            explain_sim_cmp_str(&cmp, &s.expect, &seen->line, why, sizeof why);
        }
        bool fix_ok = fixed->faults == 0 && fixed->fault_lines == 0 &&
                      (!s.mistake[0] || fixed->data);
        rc = cmp.reproduced && fix_ok ? 0 : 1;
        if (out) {
            if (!seen->dev_found || seen->dev_bdf != s.device_bdf ||
                seen->dev_segment != s.device_segment)
                fprintf(out, "  %-11s the board did not land at %04x:%02x:%02x.%x\n", "warning",
                        s.device_segment, s.device_bdf >> 8, pcie_bdf_dev(s.device_bdf),
                        pcie_bdf_fn(s.device_bdf));
            fprintf(out, "  %-11s %s\n", "log", s.expect.text);
            if (!seen->has_line) {
                fprintf(out, "  not reproduced: the run printed no %s line\n",
                        req->family == KMSG_FAM_VTD ? "DMAR fault" : "IO_PAGE_FAULT");
                snprintf(why, sizeof why, "%llu IOMMU faults)", (unsigned long long)seen->faults);
                wrapped(out, "", why);
            } else {
                fprintf(out, "  %s %s\n", cmp.reproduced ? "reproduced:" : "not reproduced:",
                        seen->line_text);
                char w[420];
                snprintf(w, sizeof w, "(%s)", why);
                wrapped(out, "", w);
            }
            if (fix_ok && s.mistake[0])
                fprintf(out, "  with the fix: 0 faults, %s\n",
                        fixed->data ? "the data arrives"
                        : fixed->isr[0] ? "but the store buffer holds none of the data"
                                        : "no store line");
            else if (fix_ok)
                fprintf(out, "  with the fix: 0 faults, %s\n",
                        fixed->data ? "the ISR reads the data"
                        : fixed->isr[0] ? "but the ISR still reads zeros" : "no ISR line");
            else
                fprintf(out, "  with the fix: %llu faults remain (%llu lines)\n",
                        (unsigned long long)fixed->faults,
                        (unsigned long long)fixed->fault_lines);
            char w[600];
            snprintf(w, sizeof w, "(--set %s; %s%s%s)", s.fix,
                     fixed->isr[0] ? fixed->isr : s.mistake[0] ? "no store line" : "no ISR line",
                     seen->isr[0] ? ", before it " : "",
                     seen->isr[0] ? seen->isr + (strncmp(seen->isr, "DMA done: ", 10) ? 0 : 10)
                                  : "");
            wrapped(out, "", w);
        }
    }
    if (j) {
        json_object_set_new(j, "status",
                            json_string(rc == 0 ? "reproduced" : rc == 1 ? "not-reproduced"
                                                                           : "error"));
        json_t *sc = json_object();
        json_object_set_new(sc, "base", s.run_arg[0] ? json_string(s.run_arg) : json_null());
        json_object_set_new(sc, "kernel", json_string(s.kernel));
        json_object_set_new(sc, "label", json_string(s.label));
        json_object_set_new(sc, "mistake", s.mistake[0] ? json_string(s.mistake) : json_null());
        json_object_set_new(sc, "yaml", json_string(s.yaml));
        json_object_set_new(sc, "set", sets_json(s.seen, s.nseen));
        json_object_set_new(sc, "until_ps", json_integer((json_int_t)s.until));
        json_t *notes = json_array();
        for (size_t i = 0; i < s.nnotes; i++)
            json_array_append_new(notes, json_string(s.notes[i]));
        json_object_set_new(sc, "assumptions", notes);
        json_object_set_new(j, "scenario", sc);
        json_object_set_new(j, "logged", fault_json(&s.expect, NULL));
        if (rc == -1) {
            json_object_set_new(j, "reason", json_string(seen->status < 0 ? seen->error
                                                                          : fixed->error));
        } else {
            json_object_set_new(j, "simulated", seen->has_line
                                                    ? fault_json(&seen->line, seen->line_text)
                                                    : json_null());
            json_object_set_new(
                j, "fields",
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "requester",
                          same_name(cmp.requester), "domain", same_name(cmp.domain),
                          "address", same_name(cmp.address), "flags", same_name(cmp.flags),
                          "direction", same_name(cmp.direction), "reason",
                          same_name(cmp.reason), "form", same_name(cmp.form)));
            json_object_set_new(j, "exact", json_boolean(cmp.exact));
            json_object_set_new(
                j, "fix",
                json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:b}", "set", s.fix,
                          "faults_before", (json_int_t)seen->faults, "faults_after",
                          (json_int_t)fixed->faults, "fault_lines_before",
                          (json_int_t)seen->fault_lines, "fault_lines_after",
                          (json_int_t)fixed->fault_lines, "isr_before", seen->isr, "isr_after",
                          fixed->isr, "data_arrives", fixed->data));
        }
    }
    free(runs);
    explain_sim_scn_free(&s);
    return rc;
}

/* ---- the user's configuration dump ---- */

/* A line of lspci -x: "oo: hh hh ... hh", 16 bytes (pcie/cfgdump.h). */
static bool dump_row(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    size_t n = 0;
    while (s + n < end && isxdigit((unsigned char)s[n]))
        n++;
    if ((n != 2 && n != 3) || s + n >= end || s[n] != ':')
        return false;
    s += n + 1;
    for (int i = 0; i < 16; i++) {
        if (s + 3 > end || s[0] != ' ' || !isxdigit((unsigned char)s[1]) ||
            !isxdigit((unsigned char)s[2]))
            return false;
        s += 3;
    }
    return true;
}

static bool holds_dump(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (dump_row(p, le))
            return true;
        p = nl ? nl + 1 : end;
    }
    return false;
}

static char *slurp(const char *path, size_t *len, struct pcilab_err *err);

void explain_sim_dump_load(struct explain_sim_dump *x, char *const *files, size_t n)
{
    memset(x, 0, sizeof *x);
    pcie_dump_init(&x->d);
    for (size_t i = 0; i < n; i++) {
        struct pcilab_err err;
        pcilab_err_clear(&err);
        size_t len = 0;
        char *t = slurp(files[i], &len, &err);
        bool dump = t && holds_dump(t, len);
        if (dump && pcie_dump_parse(&x->d, t, len, files[i], &err) == 0) {
            snprintf(x->name, sizeof x->name, "%s", files[i]);
            if (!realpath(files[i], x->path))
                snprintf(x->path, sizeof x->path, "%s", files[i]);
            x->have = true;
        } else if (dump) {
            pcilab_err_str(&err, x->error, sizeof x->error);
        }
        free(t);
        if (dump)
            return;
        pcie_dump_free(&x->d);
        pcie_dump_init(&x->d);
    }
}

void explain_sim_dump_free(struct explain_sim_dump *x)
{
    if (x)
        pcie_dump_free(&x->d);
}

void explain_sim_req_dump(struct explain_sim_req *req, const struct explain_sim_dump *x)
{
    if (!x)
        return;
    if (x->have) {
        req->dump = &x->d;
        req->dump_file = x->path;
        req->dump_name = x->name;
    } else if (x->error[0]) {
        req->dump_error = x->error;
    }
}

/* ---- pcilab explain-simulate LINE | --log FILE ---- */

static char *slurp(const char *path, size_t *len, struct pcilab_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        pcilab_err_at(err, PCILAB_EIO, path, 0, 0, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, k;
    char *b = malloc(cap);
    while (b && (k = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 == cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!b) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", path);
        return NULL;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

/* Every finding of a log, through pcilab explain's reader (klog.h, explain.h),
 * each simulated: what `pcilab explain --simulate` does per finding. */
static int simulate_log(const char *path, const char *lspci_path, bool as_json)
{
    struct pcilab_err err;
    pcilab_err_clear(&err);
    struct lspci_db db = {0};
    bool have_db = false;
    if (lspci_path) {
        size_t n;
        char *t = slurp(lspci_path, &n, &err);
        if (!t || lspci_parse(&db, t, n, lspci_path, NULL, &err) < 0) {
            free(t);
            lspci_free(&db);
            return cli_fail("explain-simulate", &err);
        }
        free(t);
        have_db = true;
    }
    struct explain_sim_dump *dump = calloc(1, sizeof *dump);
    if (!dump) {
        lspci_free(&db);
        fprintf(stderr, "pcilab explain-simulate: out of memory\n");
        return 1;
    }
    char *files[1] = {(char *)lspci_path};
    explain_sim_dump_load(dump, files, lspci_path ? 1 : 0);
    struct explain_opts eo = {.lspci = have_db ? &db : NULL};
    struct explain *e = explain_create(&eo);
    struct klog_reader *r = klog_reader_new(0);
    size_t n = 0;
    char *text = e && r ? slurp(path, &n, &err) : NULL;
    int rc = 0;
    if (!e || !r || !text) {
        if (e && r)
            rc = cli_fail("explain-simulate", &err);
        else
            rc = 1, fprintf(stderr, "pcilab explain-simulate: out of memory\n");
        goto out;
    }
    klog_feed(r, text, n, explain_klog_rec, e);
    klog_finish(r, explain_klog_rec, e);
    explain_finish(e);
    if (explain_analyse(e, &err) < 0) {
        rc = cli_fail("explain-simulate", &err);
        goto out;
    }
    size_t nf = explain_nfindings(e);
    json_t *arr = as_json ? json_array() : NULL;
    if (!nf && !as_json)
        printf("%s: no finding to simulate\n", path);
    rc = nf ? 0 : 1;
    for (size_t i = 0; i < nf; i++) {
        const struct explain_finding *f = explain_finding_at(e, i);
        struct explain_sim_req req;
        explain_sim_req_from_finding(&req, e, f, have_db ? &db : NULL);
        explain_sim_req_dump(&req, dump);
        if (!as_json)
            printf("%sFinding %zu: %s\n", i ? "\n" : "", i + 1,
                   diag_category_name(f->category));
        json_t *j = NULL;
        int one = explain_sim_run(&req, as_json ? NULL : stdout, as_json ? &j : NULL);
        if (arr && j)
            json_array_append_new(arr, j);
        int code = one < 0 ? 1 : one;
        if (code > rc)
            rc = code;
    }
    if (arr) {
        char *txt = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (txt)
            printf("%s\n", txt);
        free(txt);
        json_decref(arr);
    }
out:
    free(text);
    klog_reader_free(r);
    explain_destroy(e);
    lspci_free(&db);
    explain_sim_dump_free(dump);
    free(dump);
    return rc;
}

static int usage(FILE *f)
{
    fprintf(f,
            "usage: pcilab explain-simulate LINE [--kernel VER] [--device BB:DD.F]\n"
            "                               [--count N --first SECONDS --last SECONDS]\n"
            "                               [--category NAME] [--print-scenario] [--json]\n"
            "       pcilab explain-simulate --log FILE [--lspci FILE] [--json]\n\n"
            "Reproduces one pasted AMD-Vi IO_PAGE_FAULT or VT-d DMAR fault line with a\n"
            "pcilab scenario and shows that the fix removes it (the device's own requester\n"
            "ID; the edu driver without its DMA mistake): what 'pcilab explain --simulate'\n"
            "does for a finding; docs/explain-simulate.md.\n\n"
            "  --log FILE          a whole log: every finding pcilab explain makes of it\n"
            "  --lspci FILE        that machine's lspci output (with --log)\n"
            "  --kernel VER        the release of the log's \"Linux version\" line\n"
            "                      (default: from the line's form)\n"
            "  --device BDF        the device a driver printed on ([ssss:]bb:dd.f)\n"
            "  --count N           how many such lines the log has\n"
            "  --first/--last S    the first and last line's times (seconds)\n"
            "  --category NAME     the finding's category (default requester-id-mismatch;\n"
            "                      missing-mapping for a VT-d line of reason 5 or 6)\n"
            "  --print-scenario    print the scenario file too\n"
            "  --json              print the result as JSON\n");
    return f == stdout ? 0 : 2;
}

int cmd_explain_sim(int argc, char **argv)
{
    struct explain_sim_req req;
    memset(&req, 0, sizeof req);
    req.family = KMSG_FAM_AMDVI;
    req.kind = KMSG_AMDVI_IO_PAGE_FAULT;
    req.category = DIAG_REQUESTER_ID_MISMATCH;
    const char *line = NULL, *log = NULL, *lspci = NULL;
    bool as_json = false, print_yaml = false, has_first = false, has_last = false;
    bool has_category = false;
    double first = 0, last = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout);
        if (!strcmp(a, "--json")) {
            as_json = true;
        } else if (!strcmp(a, "--print-scenario")) {
            print_yaml = true;
        } else if (!strcmp(a, "--log") && v) {
            log = v;
            i++;
        } else if (!strcmp(a, "--lspci") && v) {
            lspci = v;
            i++;
        } else if (!strcmp(a, "--kernel") && v) {
            snprintf(req.kernel, sizeof req.kernel, "%s", v);
            i++;
        } else if (!strcmp(a, "--device") && v) {
            unsigned seg = 0, b, d, f;
            char tail;
            if (sscanf(v, "%x:%x:%x.%x%c", &seg, &b, &d, &f, &tail) != 4) {
                seg = 0;
                if (sscanf(v, "%x:%x.%x%c", &b, &d, &f, &tail) != 3) {
                    fprintf(stderr, "pcilab explain-simulate: --device '%s': expected "
                            "[ssss:]bb:dd.f\n", v);
                    return 2;
                }
            }
            if (seg > 0xffff || b > 0xff || d > 0x1f || f > 7) {
                fprintf(stderr, "pcilab explain-simulate: --device '%s': out of range\n", v);
                return 2;
            }
            req.has_device = true;
            req.device_segment = (uint16_t)seg;
            req.device_bdf = (uint16_t)(b << 8 | d << 3 | f);
            i++;
        } else if (!strcmp(a, "--count") && v) {
            req.count = strtoull(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--first") && v) {
            first = strtod(v, NULL);
            has_first = true;
            i++;
        } else if (!strcmp(a, "--last") && v) {
            last = strtod(v, NULL);
            has_last = true;
            i++;
        } else if (!strcmp(a, "--category") && v) {
            bool found = false;
            for (int c = DIAG_REQUESTER_ID_MISMATCH; c <= DIAG_UNKNOWN; c++)
                if (!strcmp(diag_category_name((enum diag_category)c), v)) {
                    req.category = (enum diag_category)c;
                    found = true;
                    has_category = true;
                }
            if (!found) {
                fprintf(stderr, "pcilab explain-simulate: --category '%s': not a category of "
                        "the taxonomy (docs/diagnosis.md)\n", v);
                return 2;
            }
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "pcilab explain-simulate: unknown option or missing value '%s'\n",
                    a);
            return usage(stderr);
        } else if (!line) {
            line = a;
        } else {
            fprintf(stderr, "pcilab explain-simulate: one line only ('%s' is a second)\n", a);
            return 2;
        }
    }
    if (log) {
        if (line) {
            fprintf(stderr, "pcilab explain-simulate: a LINE or --log, not both\n");
            return 2;
        }
        return simulate_log(log, lspci, as_json);
    }
    if (!line) {
        fprintf(stderr, "pcilab explain-simulate: no line given\n");
        return usage(stderr);
    }
    {
        struct pcilab_err err;
        pcilab_err_clear(&err);
        if (explain_sim_fault_parse(line, strlen(line), &req.line, &err) < 0)
            return cli_fail("explain-simulate", &err);
        req.family = req.line.family;
        req.kind = req.family == KMSG_FAM_VTD ? KMSG_VTD_DMA_FAULT : KMSG_AMDVI_IO_PAGE_FAULT;
        req.dir = req.line.dir;
        /* a VT-d line's reason 5 or 6 (a page the walk found without the
         * right) says missing-mapping or permission, not a wrong ID; without
         * the driver's mapping lines, missing-mapping */
        if (!has_category && req.family == KMSG_FAM_VTD && req.line.has_reason &&
            (req.line.reason == 5 || req.line.reason == 6))
            req.category = DIAG_MISSING_MAPPING;
    }
    if (has_first && has_last) {
        req.has_times = true;
        req.first_ns = (int64_t)(first * 1e9 + 0.5);
        req.last_ns = (int64_t)(last * 1e9 + 0.5);
    }
    json_t *j = NULL;
    int rc = explain_sim_run(&req, as_json ? NULL : stdout, as_json ? &j : NULL);
    if (as_json) {
        if (!j) {
            fprintf(stderr, "pcilab explain-simulate: out of memory\n");
            return 1;
        }
        char *txt = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (txt)
            printf("%s\n", txt);
        free(txt);
        json_decref(j);
    }
    if (print_yaml && !as_json) {
        struct explain_sim_scn s;
        if (explain_sim_build(&req, &s, NULL) == 0) {
            printf("\n%s", s.yaml);
            explain_sim_scn_free(&s);
        }
    }
    return rc < 0 ? 1 : rc;
}
