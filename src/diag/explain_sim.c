/* pcilab explain --simulate: a scenario that reproduces one finding
 * (explain_sim.h, docs/explain-simulate.md). */
#include "diag/explain_sim.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/kver.h"
#include "pcie/tlp.h"

/* The ecp5_dma board model's defaults (src/devices/ecp5_dma.h,
 * docs/devices.md) and the MPS its writes are split at in the seed's
 * machine (tests/diag: 512 bytes are 4 TLPs at MPS 128). */
#define SIM_PAYLOAD_DEFAULT 128u
#define SIM_MPS             128u
#define SIM_PERIOD_DEFAULT_NS 2500000ull   /* 2.5 ms, the seed's interval */
#define SIM_PERIOD_MIN_NS   1000ull        /* INTERVAL >= 1000 ns */
#define SIM_PERIOD_MAX_NS   4294967295ull
#define SIM_INSMOD_PS       (100ull * SIM_MS) /* both scenarios load the driver at 0.1 s */

/* ---- forms ---- */

const char *explain_sim_form_name(enum explain_sim_form f)
{
    switch (f) {
    case EXPLAIN_SIM_FORM_4_9: return "4.9 two-record";
    case EXPLAIN_SIM_FORM_4_20: return "4.20";
    case EXPLAIN_SIM_FORM_5_15: return "5.x";
    case EXPLAIN_SIM_FORM_6_1: return "6.1 segment";
    case EXPLAIN_SIM_FORM_VTD_4_4: return "VT-d 4.4 two-record";
    case EXPLAIN_SIM_FORM_VTD_4_7: return "VT-d 4.7";
    case EXPLAIN_SIM_FORM_VTD_5_1: return "VT-d 5.1 PASID";
    case EXPLAIN_SIM_FORM_VTD_5_15: return "VT-d 5.15";
    case EXPLAIN_SIM_FORM_VTD_SEG: return "VT-d segment";
    case EXPLAIN_SIM_FORM_UNKNOWN: break;
    }
    return "unknown";
}

enum explain_sim_form explain_sim_form_of_format(const char *format)
{
    if (!format)
        return EXPLAIN_SIM_FORM_UNKNOWN;
    if (!strncmp(format, "vtd-", 4)) {
        /* kmsg_vtd.c parse_fault's names; the interrupt-remapping ones
         * ("vtd-ir-...") and the 4.4 tail alone are no DMA fault line */
        if (!strncmp(format, "vtd-ir-", 7) || strstr(format, "tail"))
            return EXPLAIN_SIM_FORM_UNKNOWN;
        if (strstr(format, "-seg"))
            return EXPLAIN_SIM_FORM_VTD_SEG;
        if (!strcmp(format, "vtd-4.4-split"))
            return EXPLAIN_SIM_FORM_VTD_4_4;
        if (!strcmp(format, "vtd-4.7"))
            return EXPLAIN_SIM_FORM_VTD_4_7;
        if (!strcmp(format, "vtd-5.1-pasid"))
            return EXPLAIN_SIM_FORM_VTD_5_1;
        if (!strncmp(format, "vtd-5.15", 8))
            return EXPLAIN_SIM_FORM_VTD_5_15;
        return EXPLAIN_SIM_FORM_UNKNOWN;
    }
    if (strncmp(format, "amdvi-", 6))
        return EXPLAIN_SIM_FORM_UNKNOWN;
    if (strstr(format, "split"))
        return EXPLAIN_SIM_FORM_4_9;
    if (strstr(format, "6.1"))
        return EXPLAIN_SIM_FORM_6_1;
    if (strstr(format, "4.x"))
        return EXPLAIN_SIM_FORM_4_20;
    if (strstr(format, "5.x") || !strcmp(format, "amdvi-dev"))
        return EXPLAIN_SIM_FORM_5_15;
    return EXPLAIN_SIM_FORM_UNKNOWN;
}

/* The modelled release that prints a form (src/host/kver.c): for VT-d the
 * nearest one, whose own form may differ (4.4's two records, 5.1's PASID,
 * the segment), which choose_kernel says. 6.1 for the 5.15 form: 5.15 and
 * 6.1 print it alike, and 6.1 is the edu machine's kernel, the one compared
 * with a real boot (docs/parity.md). */
static const char *form_release(enum explain_sim_form f)
{
    switch (f) {
    case EXPLAIN_SIM_FORM_4_9: return "4.9.80";
    case EXPLAIN_SIM_FORM_4_20: return "4.20.17";
    case EXPLAIN_SIM_FORM_5_15: return "5.15";
    case EXPLAIN_SIM_FORM_6_1: return "6.1";
    case EXPLAIN_SIM_FORM_VTD_4_4: return "4.9.80";
    case EXPLAIN_SIM_FORM_VTD_4_7: return "4.9.80";
    case EXPLAIN_SIM_FORM_VTD_5_1: return "5.15";
    case EXPLAIN_SIM_FORM_VTD_5_15: return "6.1";
    case EXPLAIN_SIM_FORM_VTD_SEG: return "6.1";
    case EXPLAIN_SIM_FORM_UNKNOWN: break;
    }
    return NULL;
}

/* The form a modelled release prints (host/kver.h enum host_amd_msg; for
 * VT-d its vtd_msg_5x, src/host/intel_iommu_irq.c host_intel_fault_line). */
static enum explain_sim_form release_form(const struct host_kver *kv, enum kmsg_family fam)
{
    if (fam == KMSG_FAM_VTD)
        return kv->vtd_msg_5x ? EXPLAIN_SIM_FORM_VTD_5_15 : EXPLAIN_SIM_FORM_VTD_4_7;
    if (!host_kver_at_least(kv, 4, 20))
        return EXPLAIN_SIM_FORM_4_9;
    if (!host_kver_at_least(kv, 5, 0))
        return EXPLAIN_SIM_FORM_4_20;
    if (!host_kver_at_least(kv, 6, 1))
        return EXPLAIN_SIM_FORM_5_15;
    return EXPLAIN_SIM_FORM_6_1;
}

/* ---- reading a fault line ---- */

/* The fault fields of a parsed IO_PAGE_FAULT or VT-d DMA fault (kmsg.h);
 * the per-device AMD-Vi form names the requester through its dev_err
 * prefix. */
static void fault_from_kmsg(struct explain_sim_fault *l, const struct kmsg *m)
{
    l->family = m->family;
    l->form = explain_sim_form_of_format(m->format);
    l->has_rid = m->has_bdf;
    l->segment = m->segment;
    l->rid = m->bdf;
    l->has_addr = m->has_addr;
    l->addr = m->addr;
    if (m->family == KMSG_FAM_VTD) {
        /* "[%04x:%02x:%02x.%d]" in the 7.x form only (kmsg_vtd.c "-seg") */
        l->has_segment = m->has_bdf && strstr(m->format, "-seg");
        l->has_reason = m->has_reason;
        l->reason = m->reason;
        l->dir = m->dir;
        return;
    }
    /* the 6.1 device= field and every dev_err prefix ("amdvi-dev...") print
     * the segment */
    l->has_segment = m->has_bdf && (l->form == EXPLAIN_SIM_FORM_6_1 ||
                                    !strncmp(m->format, "amdvi-dev", 9));
    if (!m->has_bdf && m->has_printer) {
        l->has_rid = true;
        l->has_segment = true;
        l->segment = m->printer_segment;
        l->rid = m->printer_bdf;
    }
    l->has_domain = m->has_domain;
    l->domain = m->domain;
    l->has_flags = m->has_flags;
    l->flags = m->flags;
    /* RW, bit 5 of the flags (AMD 48882 2.5.3 IO_PAGE_FAULT) */
    l->dir = m->dir != KMSG_DIR_NONE ? m->dir
             : !m->has_flags      ? KMSG_DIR_NONE
             : (m->flags & 0x20)  ? KMSG_DIR_WRITE
                                  : KMSG_DIR_READ;
}

/* A "[ time]" prefix and the spaces after it. */
static const char *skip_time(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s < end && *s == '[') { /* a dmesg time */
        const char *c = memchr(s, ']', (size_t)(end - s));
        bool time = c && c > s + 1;
        for (const char *q = s + 1; time && q < c; q++)
            time = *q == ' ' || *q == '.' || isdigit((unsigned char)*q);
        if (time)
            for (s = c + 1; s < end && *s == ' '; s++)
                ;
    }
    return s;
}

int explain_sim_fault_parse(const char *text, size_t len, struct explain_sim_fault *out,
                            struct pcilab_err *err)
{
    memset(out, 0, sizeof *out);
    const char *end = text + len;
    /* one line: VT-d 4.4's two records pasted together are joined with a
     * space, the second's time dropped, as the log reader joins them */
    char line[512];
    size_t n = 0;
    for (const char *s = skip_time(text, end); s < end && n + 1 < sizeof line;) {
        if (*s == '\r' || *s == '\n') {
            while (s < end && (*s == '\r' || *s == '\n'))
                s++;
            s = skip_time(s, end);
            if (n && line[n - 1] != ' ' && s < end)
                line[n++] = ' ';
            continue;
        }
        line[n++] = *s++;
    }
    while (n && line[n - 1] == ' ')
        n--;
    line[n] = '\0';
    struct kmsg m;
    if (kmsg_parse(line, n, &m) != KMSG_MATCH ||
        (m.kind != KMSG_AMDVI_IO_PAGE_FAULT &&
         (m.kind != KMSG_VTD_DMA_FAULT || !m.has_bdf)))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "not an AMD-Vi IO_PAGE_FAULT or VT-d DMA fault line: '%.*s'",
                           (int)(len > 80 ? 80 : len), text);
    snprintf(out->text, sizeof out->text, "%.*s", (int)(sizeof out->text - 1), line);
    fault_from_kmsg(out, &m);
    if (m.family == KMSG_FAM_VTD)
        return 0;
    /* 4.9's two records joined by a reader ("Event logged [ IO_PAGE_FAULT")
     * read as one 4.x record; 4.x prints the address with 16 digits (4.20),
     * shorter ones are a pre-4.9 kernel's, printed by 5.x alike */
    if (strstr(out->text, "[ IO_PAGE_FAULT"))
        out->form = EXPLAIN_SIM_FORM_4_9;
    else if (out->form == EXPLAIN_SIM_FORM_4_20) {
        const char *a = strstr(out->text, "address=0x");
        size_t digits = 0;
        for (a = a ? a + 10 : ""; isxdigit((unsigned char)*a); a++)
            digits++;
        if (digits != 16)
            out->form = EXPLAIN_SIM_FORM_5_15;
    }
    return 0;
}

void explain_sim_req_from_kmsg(struct explain_sim_req *req, const struct kmsg *m)
{
    req->family = m->family;
    req->kind = m->kind;
    fault_from_kmsg(&req->line, m);
    req->dir = m->dir;
    if (m->family == KMSG_FAM_AMDVI && m->has_printer && m->has_bdf &&
        (m->printer_bdf != m->bdf || m->printer_segment != m->segment) &&
        strcmp(m->printer_driver, "amd_iommu") && strcmp(m->printer_driver, "iommu")) {
        req->has_device = true;
        req->device_segment = m->printer_segment;
        req->device_bdf = m->printer_bdf;
        snprintf(req->device_driver, sizeof req->device_driver, "%s", m->printer_driver);
    }
}

/* The requester's driver's mapping lines (explain_ctx.dirline) and the
 * other addresses the log printed (explain_ctx.phys), for the edu mistake. */
static void maps_from_ctx(struct explain_sim_req *req, const struct explain_ctx *x)
{
    for (size_t i = 0; i < x->ndirline && req->nmaps < EXPLAIN_SIM_MAX_MAPS; i++) {
        const struct explain_dirline *d = &x->dirline[i];
        if (d->segment != req->line.segment || d->bdf != req->line.rid || !d->naddr)
            continue;
        struct explain_sim_map *mp = &req->map[req->nmaps++];
        memset(mp, 0, sizeof *mp);
        mp->handle = d->addr[0];
        mp->size = d->size;
        mp->to_device = d->to_device;
        const char *ph = strstr(d->text, "phys ");
        if (!ph)
            ph = strstr(d->text, "phys=");
        if (ph && ph[5] == '0' && ph[6] == 'x' && isxdigit((unsigned char)ph[7])) {
            mp->has_phys = true;
            mp->phys = strtoull(ph + 7, NULL, 16);
        }
    }
    for (size_t i = 0; i < x->nphys && req->nphys < EXPLAIN_SIM_MAX_MAPS; i++)
        req->phys[req->nphys++] = x->phys[i].start;
}

void explain_sim_req_from_finding(struct explain_sim_req *req, const struct explain *e,
                                  const struct explain_finding *f, const struct lspci_db *db)
{
    memset(req, 0, sizeof *req);
    const struct explain_sig *g = f->sig;
    const struct explain_ctx *x = e ? explain_context(e) : NULL;
    req->category = f->category;
    req->lspci = db;
    snprintf(req->rid_driver, sizeof req->rid_driver, "%s", f->req.driver);
    if (x)
        snprintf(req->kernel, sizeof req->kernel, "%s", x->kernel);
    switch (f->req.role) {
    case EXPLAIN_REQ_HOST_BRIDGE: req->rid_role = LSPCI_ROLE_HOST_BRIDGE; break;
    case EXPLAIN_REQ_ROOT_PORT: req->rid_role = LSPCI_ROLE_ROOT_PORT; break;
    case EXPLAIN_REQ_BRIDGE: req->rid_role = LSPCI_ROLE_BRIDGE; break;
    case EXPLAIN_REQ_IOMMU: req->rid_role = LSPCI_ROLE_IOMMU; break;
    case EXPLAIN_REQ_ENDPOINT: req->rid_role = LSPCI_ROLE_ENDPOINT; break;
    default: req->rid_role = LSPCI_ROLE_UNKNOWN; break;
    }
    if (!g)
        return;
    /* the signature as one message */
    struct kmsg m;
    memset(&m, 0, sizeof m);
    m.family = g->family;
    m.kind = g->kind;
    snprintf(m.format, sizeof m.format, "%s", g->format);
    m.has_bdf = g->has_bdf;
    m.segment = g->segment;
    m.bdf = g->bdf;
    m.has_printer = g->has_printer;
    snprintf(m.printer_driver, sizeof m.printer_driver, "%s", g->printer_driver);
    m.printer_segment = g->printer_segment;
    m.printer_bdf = g->printer_bdf;
    m.has_domain = g->has_domain;
    m.domain = g->domain;
    m.has_addr = g->has_addr;
    m.addr = g->addr;
    m.has_flags = g->has_flags;
    m.flags = g->flags;
    m.has_reason = g->has_reason;
    m.reason = g->reason;
    m.has_pasid = g->has_pasid;
    m.pasid = g->pasid;
    m.dir = g->dir;
    explain_sim_req_from_kmsg(req, &m);
    if (g->nevidence) {
        /* the form from the text itself: a reader that joined 4.9's two
         * records ("Event logged [ IO_PAGE_FAULT") names them as one */
        struct explain_sim_fault t;
        const char *ev = g->evidence[0].text;
        if (explain_sim_fault_parse(ev, strlen(ev), &t, NULL) == 0 &&
            t.form != EXPLAIN_SIM_FORM_UNKNOWN)
            req->line.form = t.form;
        snprintf(req->line.text, sizeof req->line.text, "%s", ev);
    }
    req->count = g->count;
    req->has_times = g->has_time;
    req->first_ns = g->first_ns;
    req->last_ns = g->last_ns;
    /* the device: a driver printing on it (the finding's senders) */
    if (!req->has_device && f->nsenders) {
        req->has_device = true;
        req->device_segment = req->line.segment;
        req->device_bdf = f->sender_bdf[0];
        snprintf(req->device_driver, sizeof req->device_driver, "%s", f->sender_driver[0]);
        req->candidates = f->nsenders;
    }
    if (x && req->line.has_rid)
        maps_from_ctx(req, x);
}

/* ---- building ---- */



static void cat(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void cat(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, *used < len ? len - *used : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n;
    if (*used >= len)
        *used = len - 1;
}


struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void note(struct explain_sim_scn *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct explain_sim_scn *s, const char *fmt, ...)
{
    if (s->nnotes >= EXPLAIN_SIM_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->notes[s->nnotes++], EXPLAIN_SIM_NOTE_LEN, fmt, ap);
    va_end(ap);
}

static void set_seen(struct explain_sim_scn *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_seen(struct explain_sim_scn *s, const char *fmt, ...)
{
    if (s->nseen >= EXPLAIN_SIM_MAX_SETS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->seen[s->nseen++], EXPLAIN_SIM_SET_LEN, fmt, ap);
    va_end(ap);
}

/* A requester ID as the model's `rid` parameter takes it (docs/devices.md). */
static void rid_value(uint16_t rid, char *buf, size_t len)
{
    char b[PCIE_BDF_STRLEN];
    snprintf(buf, len, "%s", rid == 0 ? "zero" : pcie_bdf_str(rid, b));
}

/* The modelled kernel: the log's own release when modelled, else the one
 * that prints the line's form. */
static int choose_kernel(const struct explain_sim_req *req, struct explain_sim_scn *s,
                         struct pcilab_err *err)
{
    enum explain_sim_form form = req->line.form;
    const struct host_kver *kv = NULL;
    if (req->kernel[0]) {
        struct pcilab_err e;
        pcilab_err_clear(&e);
        if (host_kver_find(req->kernel, &kv, &e) == 0) {
            snprintf(s->kernel, sizeof s->kernel, "%s", host_kver_name(kv));
            if (form != EXPLAIN_SIM_FORM_UNKNOWN && release_form(kv, req->family) != form)
                note(s, "the log says Linux %s but prints the line in the %s form; %s is run "
                     "(its own form)", req->kernel, explain_sim_form_name(form), s->kernel);
            else
                note(s, "kernel %s, from the log's \"Linux version\" line", s->kernel);
            return 0;
        }
        const char *r = form_release(form);
        if (!r)
            return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                               "Linux %s is not modelled (4.9, 4.20, 5.15, 6.1 are) and the "
                               "line's form does not say which modelled one prints it alike",
                               req->kernel);
        snprintf(s->kernel, sizeof s->kernel, "%s", r);
        note(s, "Linux %s is not modelled; %s prints the line in the same %s form", req->kernel,
             r, explain_sim_form_name(form));
        return 0;
    }
    const char *r = form_release(form);
    if (!r)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "neither a \"Linux version\" line nor the line's form says which "
                           "kernel printed it");
    snprintf(s->kernel, sizeof s->kernel, "%s", r);
    const struct host_kver *rk = NULL;
    enum explain_sim_form own = host_kver_find(r, &rk, NULL) == 0
                                    ? release_form(rk, req->family) : form;
    if (own != form)
        note(s, "no \"Linux version\" line: the line is in the %s form, which no modelled "
             "kernel prints; %s, the nearest, prints the same fields in the %s form",
             explain_sim_form_name(form), r, explain_sim_form_name(own));
    else if (form == EXPLAIN_SIM_FORM_VTD_4_7)
        note(s, "no \"Linux version\" line: the %s form of the line is what 4.7 to 4.20 "
             "print; %s is run", explain_sim_form_name(form), r);
    else if (form == EXPLAIN_SIM_FORM_VTD_5_15)
        note(s, "no \"Linux version\" line: the %s form of the line is what 5.15 and later "
             "print; %s is run (the edu machine's kernel, compared with a real boot in "
             "docs/parity.md)", explain_sim_form_name(form), r);
    else
        note(s, "no \"Linux version\" line: the %s form of the line is what %s prints",
             explain_sim_form_name(form), r);
    return 0;
}

/* What every simulated scenario starts with: the kernel chosen (s freed when
 * none can be), the line to expect, in the chosen kernel's form where the
 * log's is not known, and the scenario's name. */
static int begin_scn(const struct explain_sim_req *req, struct explain_sim_scn *s,
                     struct pcilab_err *err)
{
    int r = choose_kernel(req, s, err);
    if (r < 0) {
        explain_sim_scn_free(s);
        return r;
    }
    s->expect = req->line;
    if (s->expect.form == EXPLAIN_SIM_FORM_UNKNOWN) {
        const struct host_kver *kv;
        if (host_kver_find(s->kernel, &kv, NULL) == 0)
            s->expect.form = release_form(kv, req->family);
    }
    snprintf(s->name, sizeof s->name, "explain-simulate");
    return 0;
}

/* The seed's machine (src/scenario/builtin/seed.yaml) fits when the log
 * names 0000:00:00.0 as the requester, nothing else in the log contradicts
 * the seed's board at 01:00.0, and no lspci gives the user's own machine. */
static bool fits_seed(const struct explain_sim_req *req, char *why, size_t len)
{
    const struct explain_sim_fault *l = &req->line;
    why[0] = '\0';
    if (l->segment != 0 || l->rid != 0)
        return false;
    if (req->rid_role != LSPCI_ROLE_UNKNOWN && req->rid_role != LSPCI_ROLE_HOST_BRIDGE)
        return false;
    if (req->has_device && (req->device_segment != 0 || req->device_bdf != 0x0100))
        return false;
    if (!req->lspci)
        return true;
    /* lspci must show the seed's shape: 00:00.0 a host bridge (or not
     * listed), the board at 01:00.0 right below a root port on bus 0 */
    const struct lspci_fn *rc = lspci_find(req->lspci, 0, 0x0000);
    const struct lspci_fn *dev = lspci_find(req->lspci, 0, 0x0100);
    if (rc && rc->role != LSPCI_ROLE_HOST_BRIDGE && rc->role != LSPCI_ROLE_UNKNOWN)
        return false;
    if (!dev)
        return false;
    if (dev->has_parent) {
        const struct lspci_fn *rp = lspci_find(req->lspci, 0, dev->parent_bdf);
        if (dev->parent_bdf >> 8 != 0 || (rp && rp->role != LSPCI_ROLE_ROOT_PORT))
            return false;
        snprintf(why, len, "; lspci shows the same shape: 01:00.0 below root port "
                 "00:%02x.%x", pcie_bdf_dev(dev->parent_bdf), pcie_bdf_fn(dev->parent_bdf));
    } else {
        snprintf(why, len, "; lspci lists 01:00.0 and gives no tree to contradict it");
    }
    return true;
}

/* One root-bus device number for the root ports: not 0 (root complex and
 * IOMMU) and not the requester's when that is on the root bus. */
static unsigned next_port_dev(unsigned from, const struct explain_sim_req *req)
{
    unsigned d = from;
    while (d == 0 || (req->line.rid >> 8 == 0 && d == pcie_bdf_dev(req->line.rid)))
        d++;
    return d;
}

static void yaml_root_port(struct buf *b, unsigned dev, unsigned fn, const char *name)
{
    put(b, "    - bdf: 00:%02x.%x\n", dev, fn);
    if (name)
        put(b, "      name: %s\n", name);
    put(b, "      kind: root_port\n"
           "      vendor: 0x1022\n"
           "      device: 0x157c\n"
           "      capabilities:\n"
           "        pcie: {max_speed: gen3, max_width: 1, ext_tags: true}\n");
}

/* The IOMMU knows the requester (a domain for it): AMD-Vi's domain is not 0;
 * VT-d's fault reason is past the root and context entries (reasons 1 and
 * 2: not present, VT-d 7.1.3 Table 25). */
static bool requester_known(const struct explain_sim_req *req)
{
    const struct explain_sim_fault *l = &req->line;
    if (req->family == KMSG_FAM_VTD)
        return !l->has_reason || l->reason > 2;
    return !l->has_domain || l->domain != 0;
}

/* The device's params: the --set keys "as seen" on the label, as a YAML flow
 * mapping's inside (the values in double quotes when quote). */
static void yaml_params(const struct explain_sim_scn *s, bool quote, char *params, size_t len)
{
    size_t pl = 0, lab = strlen(s->label);
    params[0] = '\0';
    for (size_t i = 0; i < s->nseen; i++) {
        const char *k = s->seen[i], *eq = strchr(k, '=');
        if (strncmp(k, s->label, lab) || k[lab] != '.' || !eq)
            continue;
        cat(params, len, &pl, quote ? "%s%.*s: \"%s\"" : "%s%.*s: %s", pl ? ", " : "",
            (int)(eq - k - lab - 1), k + lab + 1, eq + 1);
    }
}

/* The generic machine after name and description: seed, kernel (the board's
 * driver loaded) and the root complex, up to its functions. */
static void yaml_machine(struct buf *b, const struct explain_sim_scn *s)
{
    put(b, "seed: 1\n"
           "kernel:\n"
           "  version: %s\n"
           "  modules:\n"
           "    - {name: ecp5_dma, at: 0.1s, params: {dma_bits: 32}}\n"
           "root_complex:\n"
           "  segment: %u\n"
           "  buses: [0x00, 0xff]\n"
           "  ecam: 0xe0000000\n"
           "  mmio32: {base: 0xc0000000, size: 512M}\n"
           "  mmio64: {base: 0x400000000, size: 16G}\n"
           "  io: {base: 0x1000, size: 60K}\n"
           "  functions:\n",
        s->kernel, s->device_segment);
}

/* The generic AMD IOMMU function (the seed machine's, 1022:1577) at 00:dev.fn. */
static void yaml_iommu(struct buf *b, unsigned dev, unsigned fn)
{
    put(b, "    - bdf: 00:%02x.%x\n"
           "      name: iommu\n"
           "      kind: integrated\n"
           "      vendor: 0x1022\n"
           "      device: 0x1577\n"
           "      class: 0x080600\n"
           "      capabilities:\n"
           "        iommu: {base: 0xfeb80000, offset: 0x40}\n"
           "        msi: {vectors: 1, addr64: true, offset: 0x54}\n",
        dev, fn);
}

/* The scenario text written into b becomes s->yaml; when writing it ran out
 * of memory, s is freed instead. */
static int take_yaml(struct buf *b, struct explain_sim_scn *s, struct pcilab_err *err)
{
    if (b->oom) {
        free(b->p);
        explain_sim_scn_free(s);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory writing the scenario");
    }
    s->yaml = b->p;
    return 0;
}

static bool requester_placed(const struct explain_sim_req *req)
{
    uint16_t rid = req->line.rid;
    return rid >> 8 == 0 && rid != 0 && rid != 0x0002 && requester_known(req);
}

/* A generic AMD machine: root complex 00:00.0, IOMMU 00:00.2, a host bridge
 * at the requester's BDF when that is on the root bus, and the board behind
 * the bus-th root port (enumeration numbers buses depth first, so bus - 1
 * empty ports come before it). */
static int yaml_generic(const struct explain_sim_req *req, struct explain_sim_scn *s,
                        struct buf *b, struct pcilab_err *err)
{
    /* the device's params: the --set keys "as seen" on the label */
    char params[256];
    yaml_params(s, false, params, sizeof params);
    uint16_t dbdf = s->device_bdf, rid = req->line.rid;
    unsigned bus = dbdf >> 8;
    if (bus == 0)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "the sending device %02x:%02x.%x is on the root bus: a root-complex "
                           "integrated board is not modelled", bus, pcie_bdf_dev(dbdf),
                           pcie_bdf_fn(dbdf));
    if (bus > 64)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "the sending device is on bus %02x: the generic machine reaches "
                           "buses 01-40 (one root port each); give lspci -tv for the real tree",
                           bus);
    put(b, "# pcilab explain --simulate: a generic AMD machine for one logged fault\n"
           "# (docs/explain-simulate.md). Its device model is the seed's ECP5 board\n"
           "# (src/devices/ecp5_dma.h); the --set keys printed with it make it send\n"
           "# what the log shows.\n"
           "name: %s\n"
           "description: \"generic AMD-Vi machine: the board at %04x:%02x:%02x.%x, the log's "
           "requester %04x:%02x:%02x.%x\"\n",
        s->name, s->device_segment, bus, pcie_bdf_dev(dbdf), pcie_bdf_fn(dbdf),
        req->line.segment, rid >> 8, pcie_bdf_dev(rid), pcie_bdf_fn(rid));
    yaml_machine(b, s);
    put(b, "    - {bdf: 00:00.0, name: rc, kind: host_bridge, vendor: 0x1022, device: 0x1576}\n");
    yaml_iommu(b, 0, 2);
    /* the requester, on the root bus: a host bridge there (function 0 too),
     * unless the log's domain is 0: then the IOMMU found no domain for it,
     * which is what an ID with no function gives (Linux leaves its DTE
     * valid, translating, with no domain and no rights) */
    if (requester_placed(req)) {
        unsigned d = pcie_bdf_dev(rid);
        if (d != 0 && pcie_bdf_fn(rid) != 0)
            put(b, "    - {bdf: 00:%02x.0, kind: host_bridge, vendor: 0x1022, device: 0x157b}\n",
                d);
        if (d != 0 || pcie_bdf_fn(rid) != 2)
            put(b, "    - {bdf: 00:%02x.%x, name: requester, kind: host_bridge, vendor: 0x1022, "
                   "device: 0x157b}\n", d, pcie_bdf_fn(rid));
    }
    /* root ports: host bridge at fn 0 of each device, ports at 1..7 */
    unsigned dev = next_port_dev(2, req), fn = 1;
    put(b, "    - {bdf: 00:%02x.0, kind: host_bridge, vendor: 0x1022, device: 0x157b}\n", dev);
    for (unsigned i = 1; i <= bus; i++) {
        if (fn == 8) {
            dev = next_port_dev(dev + 1, req);
            fn = 1;
            put(b, "    - {bdf: 00:%02x.0, kind: host_bridge, vendor: 0x1022, device: 0x157b}\n",
                dev);
        }
        if (dev > 0x1f)
            return pcilab_errf(err, PCILAB_EUNSUPPORTED, "bus %02x is beyond the root ports "
                               "the generic machine has room for", bus);
        yaml_root_port(b, dev, fn, i == bus ? "rp" : NULL);
        fn++;
    }
    put(b, "      children:\n");
    unsigned ddev = pcie_bdf_dev(dbdf), dfn = pcie_bdf_fn(dbdf);
    if (dfn != 0)
        put(b, "        - {devfn: %02x.0, kind: endpoint, vendor: 0x1204, device: 0x5046, "
               "class: 0x118000,\n"
               "           capabilities: {pcie: {max_speed: gen2, max_width: 1}}}\n", ddev);
    put(b, "        - devfn: %02x.%x\n"
           "          name: %s\n"
           "          kind: endpoint\n"
           "          vendor: 0x1204\n"
           "          device: 0x5045\n"
           "          revision: 0x01\n"
           "          class: 0x118000\n"
           "          subsystem: {vendor: 0x1204, device: 0x5045}\n"
           "          interrupt_pin: a\n"
           "          bars:\n"
           "            - {index: 0, type: mem32, size: 4K}\n"
           "          capabilities:\n"
           "            pm: {offset: 0x50}\n"
           "            msi: {vectors: 2, addr64: true, offset: 0x70}\n"
           "            pcie: {max_speed: gen2, max_width: 1, offset: 0x90}\n"
           "          model: ecp5_dma\n"
           "          params: {%s}\n",
        ddev, dfn, s->label, params);
    return 0;
}

/* ---- the user's machine from a configuration dump ----
 *
 * The scenario's functions are the dump's, each with `config_from: {file,
 * bdf}` (docs/scenario-format.md): the scenario loader reads the dump itself,
 * with its own reader (pcie/cfgdump.h). What this step decides is what a
 * scenario file must still say: each function's kind and place in the tree,
 * the sizes of its BARs (a dump has none), the IOMMU, and the board model
 * standing in for the sending device. It checks what would make the run
 * differ from the user's machine (bus numbers enumeration would change, a
 * requester or device the dump does not have) and says so, naming the dump's
 * file and line. */

#define DUMP_BAR_MEM_MAX 0x100000u /* assumed BAR sizes: at most 1 MiB ... */
#define DUMP_BAR_IO_MAX  0x100u    /* ... or 256 bytes of I/O */
#define DUMP_IOMMU_FREE_LO 0xc0000000ull /* the generic mmio32 window and ECAM: */
#define DUMP_IOMMU_FREE_HI 0xf0000000ull /* an IOMMU base there would collide */

enum dkind {
    DK_NONE = -1,
    DK_HOST_BRIDGE, DK_INTEGRATED, DK_RCIEP, DK_ROOT_PORT,
    DK_UPSTREAM, DK_DOWNSTREAM, DK_ENDPOINT, DK_LEGACY,
};
/* the scenario format's kind names (docs/scenario-format.md "Kinds") */
static const char *const dkind_name[] = {
    "host_bridge", "integrated", "rciep", "root_port",
    "upstream_port", "downstream_port", "endpoint", "legacy_endpoint",
};

static const char *const dkind_word[] = {
    "host bridge", "integrated function", "RCiEP", "root port",
    "switch upstream port", "switch downstream port", "endpoint", "legacy endpoint",
};

struct dnode {
    const struct pcie_dump_func *f;
    int kind;               /* DK_* */
    int parent;             /* index in nodes, -1: the root bus */
    unsigned depth;
};

struct dplan {
    struct dnode *nodes;    /* placed functions, depth first (a bridge before its bus) */
    size_t n;
    int busmap[256];        /* dumped bus -> the number enumeration gives it, -1: unreached */
    int bus_bridge[256];    /* the node leading to a dumped bus, -1: none (root bus) */
    unsigned max;           /* enumeration's highest bus so far */
    size_t nleft;           /* dumped functions left out */
    char left[160];         /* the first of them, with why */
    int iommu;              /* node of the dump's IOMMU, -1: none (the generic one is added) */
    unsigned iommu_devfn;   /* where the added one goes */
    int board;              /* node the board replaces, -1: placed on a free devfn */
    int board_parent;       /* the bridge above the board */
    bool board_fn0;         /* a function 0 must be added beside the board */
    unsigned nbars, nbarfns;/* assumed BAR sizes: how many, on how many functions */
    const char *file;       /* the dump's name in messages */
    const char *path;       /* the dump as config_from opens it */
};

static unsigned d16(const uint8_t *b, unsigned o) { return (unsigned)b[o] | (unsigned)b[o + 1] << 8; }
static uint32_t d32(const uint8_t *b, unsigned o) { return (uint32_t)d16(b, o) | (uint32_t)d16(b, o + 2) << 16; }

/* Offset of the first capability with this ID in the dumped bytes (PCI 3.0
 * 6.7: Status bit 4, Capabilities Pointer at 34h; at most 48 entries so a
 * looping list ends), 0 when absent or not dumped. For ID 0Fh (AMD's
 * Secure Device capability) only Capability Type 011b, the IOMMU (AMD 48882
 * 3.2.1), counts. */
static unsigned dump_cap(const struct pcie_dump_func *f, unsigned id)
{
    const uint8_t *b = f->bytes;
    if (f->len < 0x100 || !(d16(b, 0x06) & 0x10))
        return 0;
    unsigned off = b[0x34] & 0xfcu;
    for (unsigned n = 0; off >= 0x40 && off + 8 <= 0x100 && n < 48; n++) {
        if (b[off] == id && (id != 0x0f || ((d32(b, off) >> 16) & 7) == 3))
            return off;
        off = b[off + 1] & 0xfcu;
    }
    return 0;
}

/* What a dumped function is: Header Type (PCIe 5.0 7.5.1.1.9), class code,
 * and the PCI Express capability's Device/Port Type (7.5.3.2); the kinds the
 * scenario loader checks config_from against. DK_NONE with *why. */
static int dump_kind_of(const struct pcie_dump_func *f, bool root_bus, const char **why)
{
    const uint8_t *b = f->bytes;
    unsigned hdr = b[0x0e] & 0x7fu, exp = dump_cap(f, 0x10);
    unsigned type = exp ? (d16(b, exp + 2) >> 4) & 0xfu : 0xffu;
    if (hdr == 0) {
        if (type == 0xff) {
            if (root_bus)
                return (d32(b, 0x08) >> 16) == 0x0600 ? DK_HOST_BRIDGE : DK_INTEGRATED;
            if (f->len < 0x100)
                return DK_ENDPOINT; /* lspci -x: its capabilities are not dumped */
            *why = "conventional PCI (no PCI Express capability), not modelled";
            return DK_NONE;
        }
        if (type == 0x0 || type == 0x1 || type == 0x9)
            return type == 0x0 ? DK_ENDPOINT : type == 0x1 ? DK_LEGACY : DK_RCIEP;
        *why = "a Root Complex Event Collector, not modelled";
        return DK_NONE;
    }
    if (hdr == 1) {
        if (type == 0x4 || type == 0x5 || type == 0x6)
            return type == 0x4 ? DK_ROOT_PORT : type == 0x5 ? DK_UPSTREAM : DK_DOWNSTREAM;
        *why = type == 0xff ? (f->len < 0x100 ? "a bridge whose capabilities are not dumped "
                                                "(lspci -x; -xxx says its port type)"
                                              : "a PCI bridge without a PCI Express capability")
                            : "a PCI Express to PCI bridge, not modelled";
        return DK_NONE;
    }
    *why = hdr == 2 ? "a CardBus bridge, not modelled" : "a reserved Header Type";
    return DK_NONE;
}

/* Where the scenario format lets a kind sit (docs/scenario-format.md). */
static bool dump_fits(const struct dplan *p, int parent, int k, unsigned dev)
{
    if (parent < 0)
        return k == DK_HOST_BRIDGE || k == DK_INTEGRATED || k == DK_RCIEP || k == DK_ROOT_PORT;
    if (p->nodes[parent].kind == DK_UPSTREAM)
        return k == DK_DOWNSTREAM;
    return dev == 0 && (k == DK_ENDPOINT || k == DK_LEGACY || k == DK_UPSTREAM);
}

static void dump_leave(struct dplan *p, const struct pcie_dump_func *f, const char *why)
{
    if (!p->nleft++)
        snprintf(p->left, sizeof p->left, "%02x:%02x.%x (line %u: %s)", f->bus, f->dev, f->fn,
                 f->line, why);
}

/* The functions on `bus`, in devfn order, each bridge followed by its bus:
 * how the scenario lists them and how enumeration numbers buses (depth first,
 * secondary = the highest bus so far + 1: Linux pci_scan_bridge_extend,
 * src/pcie/enumerate.c). */
static int dump_visit(struct dplan *p, const struct pcie_dump *d, bool *done, unsigned bus,
                      int parent, unsigned depth, struct pcilab_err *err)
{
    for (unsigned devfn = 0; devfn < 256; devfn++) {
        for (size_t i = 0; i < d->count; i++) {
            const struct pcie_dump_func *f = &d->funcs[i];
            if (done[i] || f->bus != bus || (unsigned)(f->dev << 3 | f->fn) != devfn)
                continue;
            done[i] = true;
            const char *why = "";
            int k = dump_kind_of(f, parent < 0, &why);
            if (k != DK_NONE && !dump_fits(p, parent, k, f->dev)) {
                why = "a kind that cannot sit there";
                k = DK_NONE;
            }
            if (k == DK_NONE) {
                dump_leave(p, f, why);
                continue;
            }
            int idx = (int)p->n++;
            p->nodes[idx] = (struct dnode){.f = f, .kind = k, .parent = parent, .depth = depth};
            if (k != DK_ROOT_PORT && k != DK_UPSTREAM && k != DK_DOWNSTREAM)
                continue;
            /* Secondary Bus Number, PCIe 5.0 7.5.1.3.4 */
            unsigned sec = f->bytes[0x19];
            if (sec <= bus || p->busmap[sec] >= 0) {
                p->n--;
                dump_leave(p, f, sec <= bus ? "its secondary bus is not above its own: not "
                                              "enumerated when dumped"
                                            : "its secondary bus is another bridge's");
                continue;
            }
            if (p->max >= 0xff)
                return pcilab_err_at(err, PCILAB_ERANGE, p->file, f->line, 1,
                                     "more buses than 256 below %02x:%02x.%x", f->bus, f->dev,
                                     f->fn);
            p->busmap[sec] = (int)++p->max;
            p->bus_bridge[sec] = idx;
            int rc = dump_visit(p, d, done, sec, idx, depth + 1, err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int dump_find(const struct dplan *p, uint16_t bdf)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct pcie_dump_func *f = p->nodes[i].f;
        if ((uint16_t)(f->bus << 8 | f->dev << 3 | f->fn) == bdf)
            return (int)i;
    }
    return -1;
}

static const char *dump_bus_word(const struct dplan *p, unsigned bus, char *buf, size_t len)
{
    int b = p->bus_bridge[bus];
    if (b < 0)
        snprintf(buf, len, "no bridge in it leads to bus %02x", bus);
    else
        snprintf(buf, len, "bridge %02x:%02x.%x (line %u) leads to it", p->nodes[b].f->bus,
                 p->nodes[b].f->dev, p->nodes[b].f->fn, p->nodes[b].f->line);
    return buf;
}

/* A bus whose number enumeration keeps: the dump's numbering is depth first
 * there. Else an error naming the bridge. */
static int dump_bus_kept(const struct dplan *p, unsigned bus, const char *who, uint16_t bdf,
                         struct pcilab_err *err)
{
    if (bus == 0 || p->busmap[bus] == (int)bus)
        return 0;
    const struct pcie_dump_func *br = p->nodes[p->bus_bridge[bus]].f;
    return pcilab_err_at(err, PCILAB_EUNSUPPORTED, p->file, br->line, 1,
                         "bridge %02x:%02x.%x leads to bus %02x, but enumeration numbers buses "
                         "depth first (Linux pci_scan_bridge) and gives it %02x: the firmware "
                         "left bus numbers free, which pcilab's enumeration does not, so the "
                         "%s %02x:%02x.%x would not keep its BDF",
                         br->bus, br->dev, br->fn, bus, p->busmap[bus], who, bdf >> 8,
                         pcie_bdf_dev(bdf), pcie_bdf_fn(bdf));
}

/* The first endpoint below node `top` (depth first), -1 when none. */
static int dump_endpoint_below(const struct dplan *p, int top)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->nodes[i].kind != DK_ENDPOINT && p->nodes[i].kind != DK_LEGACY)
            continue;
        for (int a = p->nodes[i].parent; a >= 0; a = p->nodes[a].parent)
            if (a == top)
                return (int)i;
    }
    return -1;
}

/* Checks the dump against the request, chooses the sending device (the one
 * the log's driver lines name; else the first endpoint below the requester
 * when it is a bridge; else 01:00.0 or the first endpoint below a port) and
 * says what is assumed. */
static int dump_plan(const struct explain_sim_req *req, struct explain_sim_scn *s,
                     struct dplan *p, struct pcilab_err *err)
{
    const struct pcie_dump *d = req->dump;
    const struct explain_sim_fault *l = &req->line;
    p->file = req->dump_name ? req->dump_name : req->dump_file;
    p->path = req->dump_file;
    if (d->count == 0)
        return pcilab_errf(err, PCILAB_EINVAL, "%s: the configuration dump has no functions",
                           p->file);
    for (size_t i = 0; i < d->count; i++) {
        const struct pcie_dump_func *f = &d->funcs[i];
        if (f->domain != l->segment)
            return pcilab_err_at(err, PCILAB_EUNSUPPORTED, p->file, f->line, 1,
                                 "function %04x:%02x:%02x.%x is in PCI segment %04x, the log's "
                                 "requester in %04x: one root complex is modelled", f->domain,
                                 f->bus, f->dev, f->fn, f->domain, l->segment);
        if (f->len < 0x40 || !pcie_dump_func_has(f, 0, 0x40))
            return pcilab_err_at(err, PCILAB_EINVAL, p->file, f->line, 1,
                                 "%02x:%02x.%x has %u bytes of configuration space: the 64-byte "
                                 "header is the least (lspci -x; -xxxx gives everything)",
                                 f->bus, f->dev, f->fn, f->present);
        for (size_t j = 0; j < i; j++)
            if (d->funcs[j].bus == f->bus && d->funcs[j].dev == f->dev &&
                d->funcs[j].fn == f->fn)
                return pcilab_err_at(err, PCILAB_EEXIST, p->file, f->line, 1,
                                     "%02x:%02x.%x appears twice (first at line %u)", f->bus,
                                     f->dev, f->fn, d->funcs[j].line);
    }
    p->nodes = calloc(d->count + 1, sizeof *p->nodes);
    bool *done = calloc(d->count, sizeof *done);
    if (!p->nodes || !done) {
        free(done);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
    }
    for (unsigned b = 0; b < 256; b++)
        p->busmap[b] = p->bus_bridge[b] = -1;
    p->busmap[0] = 0;
    int rc = dump_visit(p, d, done, 0, -1, 0, err);
    for (size_t i = 0; i < d->count && rc == 0; i++)
        if (!done[i])
            dump_leave(p, &d->funcs[i], "on a bus no bridge in the dump leads to");
    free(done);
    if (rc < 0)
        return rc;

    /* the sending device */
    uint16_t dev = 0;
    const char *how;
    int rq = dump_find(p, l->rid);
    if (req->has_device) {
        dev = req->device_bdf;
        how = "the device the log's driver lines name";
    } else {
        int e = rq >= 0 && p->nodes[rq].kind >= DK_ROOT_PORT && p->nodes[rq].kind <= DK_DOWNSTREAM
                    ? dump_endpoint_below(p, rq)
                    : -1;
        how = "the first endpoint below the requester (the log names no device)";
        if (e < 0) {
            e = dump_find(p, 0x0100);
            how = "01:00.0 (the log names no device)";
            if (e >= 0 && p->nodes[e].kind != DK_ENDPOINT && p->nodes[e].kind != DK_LEGACY)
                e = -1;
        }
        if (e < 0) {
            for (size_t i = 0; i < p->n && e < 0; i++)
                if (p->nodes[i].kind == DK_ENDPOINT || p->nodes[i].kind == DK_LEGACY)
                    e = (int)i;
            how = "the dump's first endpoint below a port (the log names no device)";
        }
        if (e < 0)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "%s: the log names no device, and the dump has no endpoint "
                               "below a port to be the sender", p->file);
        const struct pcie_dump_func *f = p->nodes[e].f;
        dev = (uint16_t)(f->bus << 8 | f->dev << 3 | f->fn);
    }
    s->device_segment = l->segment;
    s->device_bdf = dev;
    unsigned dbus = dev >> 8;
    char w[120];
    if (dbus == 0)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "the sending device %02x:%02x.%x is on the root bus: a root-complex "
                           "integrated board is not modelled", dbus, pcie_bdf_dev(dev),
                           pcie_bdf_fn(dev));
    if (p->busmap[dbus] < 0)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%s has no bus %02x, where the sending device %02x:%02x.%x (%s) "
                           "sits: %s (a partial dump, lspci -s? --simulate needs the whole "
                           "lspci -xxxx)", p->file, dbus, dbus, pcie_bdf_dev(dev),
                           pcie_bdf_fn(dev), how, dump_bus_word(p, dbus, w, sizeof w));
    if ((rc = dump_bus_kept(p, dbus, "sending device", dev, err)) < 0)
        return rc;
    p->board = dump_find(p, dev);
    p->board_parent = p->bus_bridge[dbus];
    const struct pcie_dump_func *bf = p->board >= 0 ? p->nodes[p->board].f : NULL;
    if (bf && p->nodes[p->board].kind != DK_ENDPOINT && p->nodes[p->board].kind != DK_LEGACY)
        return pcilab_err_at(err, PCILAB_EINVAL, p->file, bf->line, 1,
                             "the sending device %02x:%02x.%x (%s) is a %s in the dump, not an "
                             "endpoint: the board model cannot stand in for it", dbus,
                             pcie_bdf_dev(dev), pcie_bdf_fn(dev), how,
                             dkind_word[p->nodes[p->board].kind]);
    if (!bf && p->nodes[p->board_parent].kind == DK_UPSTREAM)
        return pcilab_errf(err, PCILAB_EINVAL, "%s: bus %02x is a switch's internal bus: the "
                           "sending device %02x:%02x.%x cannot be an endpoint there", p->file,
                           dbus, dbus, pcie_bdf_dev(dev), pcie_bdf_fn(dev));
    if (!bf && pcie_bdf_dev(dev) != 0)
        return pcilab_errf(err, PCILAB_EINVAL, "%s: the sending device %02x:%02x.%x is not in "
                           "the dump, and below a port only device 0 exists", p->file, dbus,
                           pcie_bdf_dev(dev), pcie_bdf_fn(dev));
    p->board_fn0 = pcie_bdf_fn(dev) != 0 && dump_find(p, (uint16_t)(dev & ~7u)) < 0;
    if (bf)
        note(s, "the board model (ecp5_dma) stands in for %s %04x:%02x:%02x.%x [%04x:%04x] "
             "(%s:%u): Vendor/Device ID 1204:5045, which its driver binds to; revision %02x, "
             "class %06x and subsystem %04x:%04x are the dump's", how, l->segment, dbus,
             pcie_bdf_dev(dev), pcie_bdf_fn(dev), d16(bf->bytes, 0), d16(bf->bytes, 2), p->file,
             bf->line, bf->bytes[0x08], (unsigned)(d32(bf->bytes, 0x08) >> 8),
             d16(bf->bytes, 0x2c), d16(bf->bytes, 0x2e));
    else
        note(s, "the board model (ecp5_dma) is added at %04x:%02x:%02x.%x (%s), below %s, "
             "which the dump does not list there%s", l->segment, dbus, pcie_bdf_dev(dev),
             pcie_bdf_fn(dev), how, dump_bus_word(p, dbus, w, sizeof w),
             p->board_fn0 ? "; a function 0 is added beside it" : "");
    if (bf)
        for (unsigned i = 0; i < 6; i++) {
            uint32_t v = d32(bf->bytes, 0x10 + 4 * i);
            if (i == 0 || v == 0)
                continue;
            note(s, "the board model has BAR 0 only: the dump's BAR %u (0x%08x) is not "
                 "modelled", i, v);
            break;
        }

    /* the requester */
    unsigned rbus = l->rid >> 8;
    if (rq >= 0) {
        const struct pcie_dump_func *f = p->nodes[rq].f;
        if ((rc = dump_bus_kept(p, rbus, "requester", l->rid, err)) < 0)
            return rc;
        note(s, "the user's machine, from the configuration dump %s: requester %04x:%02x:%02x.%x "
             "is its %s [%04x:%04x] (line %u)", p->file, l->segment, rbus, pcie_bdf_dev(l->rid),
             pcie_bdf_fn(l->rid), dkind_word[p->nodes[rq].kind], d16(f->bytes, 0),
             d16(f->bytes, 2), f->line);
    } else if (req->family == KMSG_FAM_VTD && requester_known(req)) {
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%s has no function %02x:%02x.%x (%s), but the log's fault reason "
                           "0x%02x says the IOMMU has root and context entries for it: a "
                           "partial dump, or another machine's?", p->file, rbus,
                           pcie_bdf_dev(l->rid), pcie_bdf_fn(l->rid),
                           dump_bus_word(p, rbus, w, sizeof w), l->reason);
    } else if (req->family == KMSG_FAM_VTD) {
        note(s, "the user's machine, from the configuration dump %s: it has no function at the "
             "requester %04x:%02x:%02x.%x, an ID the IOMMU has no %s entry for, as the log's "
             "fault reason 0x%02x says", p->file, l->segment, rbus, pcie_bdf_dev(l->rid),
             pcie_bdf_fn(l->rid), l->reason == 1 ? "root" : "context", l->reason);
        if (p->busmap[rbus] >= 0 && (rc = dump_bus_kept(p, rbus, "requester", l->rid, err)) < 0)
            return rc;
    } else if (l->has_domain && l->domain != 0) {
        if (p->busmap[rbus] < 0)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "%s has no bus %02x, but the log's requester %04x:%02x:%02x.%x "
                               "has domain 0x%04x, so the IOMMU knew it: %s (a partial dump, "
                               "lspci -s, or another machine's?)", p->file, rbus, l->segment,
                               rbus, pcie_bdf_dev(l->rid), pcie_bdf_fn(l->rid), l->domain,
                               dump_bus_word(p, rbus, w, sizeof w));
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%s has no function %02x:%02x.%x (%s), but the log's requester "
                           "has domain 0x%04x, so the IOMMU knew it: a partial dump, or "
                           "another machine's?", p->file, rbus, pcie_bdf_dev(l->rid),
                           pcie_bdf_fn(l->rid), dump_bus_word(p, rbus, w, sizeof w), l->domain);
    } else {
        note(s, "the user's machine, from the configuration dump %s: it has no function at the "
             "requester %04x:%02x:%02x.%x, an ID the IOMMU knows no domain for, as the log's "
             "domain 0 says", p->file, l->segment, rbus, pcie_bdf_dev(l->rid),
             pcie_bdf_fn(l->rid));
        if (p->busmap[rbus] >= 0 && (rc = dump_bus_kept(p, rbus, "requester", l->rid, err)) < 0)
            return rc;
    }
    for (unsigned b = 1; b < 256; b++)
        if (p->busmap[b] >= 0 && p->busmap[b] != (int)b) {
            note(s, "enumeration numbers buses depth first: the dump's bus %02x becomes %02x "
                 "(neither the requester's nor the device's)", b, p->busmap[b]);
            break;
        }
    if (p->nleft)
        note(s, "%zu dumped function%s left out, first %s", p->nleft,
             p->nleft == 1 ? " is" : "s are", p->left);

    /* the IOMMU */
    p->iommu = -1;
    for (size_t i = 0; i < p->n && p->iommu < 0; i++)
        if (p->nodes[i].parent < 0 && dump_cap(p->nodes[i].f, 0x0f))
            p->iommu = (int)i;
    if (p->iommu >= 0) {
        const struct pcie_dump_func *f = p->nodes[p->iommu].f;
        unsigned off = dump_cap(f, 0x0f);
        /* IOMMU Base Address Low/High, AMD 48882 3.2.2 / 3.2.3 */
        uint64_t base = ((uint64_t)d32(f->bytes, off + 8) << 32 | d32(f->bytes, off + 4)) &
                        ~0x3fffull;
        if (base == 0 || (base >= DUMP_IOMMU_FREE_LO && base < DUMP_IOMMU_FREE_HI))
            return pcilab_err_at(err, PCILAB_EUNSUPPORTED, p->file, f->line, 1,
                                 "the IOMMU %02x:%02x.%x has its registers at 0x%llx, %s",
                                 f->bus, f->dev, f->fn, (unsigned long long)base,
                                 base ? "inside the scenario's MMIO window or ECAM "
                                        "(0xc0000000-0xefffffff)"
                                      : "which is no address");
        note(s, "the IOMMU is the dump's %02x:%02x.%x [%04x:%04x] (line %u), registers at "
             "0x%llx; the builder's IVRS (device IDs from 00:01.0 up, no IVMD) stands for the "
             "firmware's, which a dump does not carry", f->bus, f->dev, f->fn, d16(f->bytes, 0),
             d16(f->bytes, 2), f->line, (unsigned long long)base);
    } else {
        unsigned df = 0x02;
        while (df < 256 && (dump_find(p, (uint16_t)df) >= 0 || df == (l->rid & 0xffu)))
            df++;
        if (df == 256)
            return pcilab_errf(err, PCILAB_EUNSUPPORTED, "%s: the root bus has no free "
                               "function for an IOMMU", p->file);
        p->iommu_devfn = df;
        note(s, "the dump has no AMD IOMMU function (capability 0Fh of type 011b, AMD 48882 "
             "3.2.1, on the root bus): the generic one [1022:1577] is added at 00:%02x.%x, "
             "registers at 0xfeb80000, with the builder's IVRS", df >> 3, df & 7);
    }
    return 0;
}

/* Assumed BAR sizes (a dump has none: only writing all ones to a BAR tells,
 * PCI 3.0 6.2.5.1): the largest power of two the dumped address is aligned
 * to, at most DUMP_BAR_MEM_MAX / DUMP_BAR_IO_MAX; the register's low bits
 * give the type (PCIe 5.0 7.5.1.2.1). */
static void yaml_dump_bars(struct dplan *p, const struct pcie_dump_func *f, unsigned nbars,
                           struct buf *b, const char *ind)
{
    bool any = false;
    for (unsigned i = 0; i < nbars; i++) {
        unsigned off = 0x10 + 4 * i;
        if (!pcie_dump_func_has(f, off, 4))
            continue;
        uint32_t v = d32(f->bytes, off);
        if (v == 0)
            continue;
        bool io = v & 1, m64 = !io && ((v >> 1) & 3) == 2, pref = !io && (v & 8);
        uint64_t addr = io ? (v & ~3u) : (v & ~0xfu);
        if (m64 && i + 1 < nbars && pcie_dump_func_has(f, off + 4, 4))
            addr |= (uint64_t)d32(f->bytes, off + 4) << 32;
        uint64_t max = io ? DUMP_BAR_IO_MAX : DUMP_BAR_MEM_MAX, size = max;
        if (addr && (addr & (~addr + 1)) < max)
            size = addr & (~addr + 1);
        if (size < (io ? 4u : 16u))
            size = io ? 4u : 16u;
        if (!any)
            put(b, "%sbars:\n", ind);
        any = true;
        put(b, "%s  - {index: %u, type: %s%s, size: 0x%llx}\n", ind, i,
            io ? "io" : m64 ? "mem64" : "mem32", pref ? ", prefetchable: true" : "",
            (unsigned long long)size);
        p->nbars++;
        if (m64)
            i++;
    }
    if (any)
        p->nbarfns++;
}

static void yaml_dump_board(const struct dplan *p, const struct explain_sim_scn *s,
                            const char *params, struct buf *b, const char *item, const char *ind)
{
    const struct pcie_dump_func *f = p->board >= 0 ? p->nodes[p->board].f : NULL;
    unsigned dev = pcie_bdf_dev(s->device_bdf), fn = pcie_bdf_fn(s->device_bdf);
    if (p->board_fn0)
        put(b, "%s- {devfn: %02x.0, kind: endpoint, vendor: 0x1204, device: 0x5046, "
               "class: 0x118000,\n%s   capabilities: {pcie: {max_speed: gen2, max_width: 1}}}\n",
            item, dev, item);
    put(b, "%s- devfn: %02x.%x\n"
           "%sname: %s\n"
           "%skind: endpoint\n"
           "%svendor: 0x1204\n"
           "%sdevice: 0x5045\n",
        item, dev, fn, ind, s->label, ind, ind, ind);
    if (f)
        put(b, "%srevision: 0x%02x\n%sclass: 0x%06x\n%ssubsystem: {vendor: 0x%04x, device: "
               "0x%04x}\n", ind, f->bytes[0x08], ind, (unsigned)(d32(f->bytes, 0x08) >> 8), ind,
            d16(f->bytes, 0x2c), d16(f->bytes, 0x2e));
    else
        put(b, "%srevision: 0x01\n%sclass: 0x118000\n%ssubsystem: {vendor: 0x1204, device: "
               "0x5045}\n", ind, ind, ind);
    put(b, "%sinterrupt_pin: a\n"
           "%sbars:\n"
           "%s  - {index: 0, type: mem32, size: 4K}\n"
           "%scapabilities:\n"
           "%s  pm: {offset: 0x50}\n"
           "%s  msi: {vectors: 2, addr64: true, offset: 0x70}\n"
           "%s  pcie: {max_speed: gen2, max_width: 1, offset: 0x90}\n"
           "%smodel: ecp5_dma\n"
           "%sparams: {%s}\n",
        ind, ind, ind, ind, ind, ind, ind, ind, ind, params);
}

/* The functions on the bus below node `parent` (-1: the root bus), in the
 * dump's order, the board in its place. */
static void yaml_dump_bus(struct dplan *p, const struct explain_sim_scn *s, const char *params,
                          struct buf *b, int parent, unsigned depth)
{
    char item[80], ind[80];
    unsigned n = 4 + 4 * depth;
    if (n > sizeof item - 3)
        n = sizeof item - 3;
    memset(item, ' ', n);
    item[n] = '\0';
    memset(ind, ' ', n + 2);
    ind[n + 2] = '\0';
    bool board_here = p->board < 0 && parent == p->board_parent;
    for (size_t i = 0; i < p->n; i++) {
        const struct dnode *nd = &p->nodes[i];
        if (nd->parent != parent)
            continue;
        const struct pcie_dump_func *f = nd->f;
        unsigned devfn = (unsigned)(f->dev << 3 | f->fn);
        if (board_here && (s->device_bdf & 0xffu) < devfn) {
            yaml_dump_board(p, s, params, b, item, ind);
            board_here = false;
        }
        if ((int)i == p->board) {
            yaml_dump_board(p, s, params, b, item, ind);
            continue;
        }
        if (parent < 0 && p->iommu < 0 && p->iommu_devfn < devfn && p->iommu_devfn) {
            put(b, "    - bdf: 00:%02x.%x\n      name: iommu\n      kind: integrated\n"
                   "      vendor: 0x1022\n      device: 0x1577\n      class: 0x080600\n"
                   "      capabilities:\n"
                   "        iommu: {base: 0xfeb80000, offset: 0x40}\n"
                   "        msi: {vectors: 1, addr64: true, offset: 0x54}\n",
                p->iommu_devfn >> 3, p->iommu_devfn & 7);
            p->iommu_devfn = 0;
        }
        if (parent < 0)
            put(b, "%s- bdf: 00:%02x.%x\n", item, f->dev, f->fn);
        else
            put(b, "%s- devfn: %02x.%x\n", item, f->dev, f->fn);
        if ((int)i == p->iommu)
            put(b, "%sname: iommu\n", ind);
        put(b, "%skind: %s\n%sconfig_from: {file: \"", ind, dkind_name[nd->kind], ind);
        for (const char *c = p->path; *c; c++)
            put(b, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
        put(b, "\", bdf: \"%04x:%02x:%02x.%x\"}\n", f->domain, f->bus, f->dev, f->fn);
        yaml_dump_bars(p, f, (f->bytes[0x0e] & 0x7f) == 1 ? 2 : 6, b, ind);
        bool bridge = nd->kind == DK_ROOT_PORT || nd->kind == DK_UPSTREAM ||
                      nd->kind == DK_DOWNSTREAM;
        bool below = false;
        for (size_t j = i + 1; j < p->n && !below; j++)
            below = p->nodes[j].parent == (int)i;
        if (bridge && (below || (p->board < 0 && p->board_parent == (int)i))) {
            put(b, "%schildren:\n", ind);
            yaml_dump_bus(p, s, params, b, (int)i, depth + 1);
        }
    }
    if (board_here)
        yaml_dump_board(p, s, params, b, item, ind);
    if (parent < 0 && p->iommu < 0 && p->iommu_devfn) {
        yaml_iommu(b, p->iommu_devfn >> 3, p->iommu_devfn & 7);
        p->iommu_devfn = 0;
    }
}

static void yaml_dump(const struct explain_sim_req *req, struct explain_sim_scn *s,
                      struct dplan *p, struct buf *b)
{
    char params[256];
    yaml_params(s, true, params, sizeof params);
    uint16_t rid = req->line.rid, dbdf = s->device_bdf;
    put(b, "# pcilab explain --simulate: the user's machine from its configuration dump\n"
           "# (docs/explain-simulate.md): each function's configuration space is the\n"
           "# dump's (config_from); the sending device is pcilab's board model\n"
           "# (src/devices/ecp5_dma.h), sending what the log shows.\n"
           "name: %s\n"
           "description: \"the machine of %s: the board at %04x:%02x:%02x.%x, the log's "
           "requester %04x:%02x:%02x.%x\"\n",
        s->name, "the dump", s->device_segment, dbdf >> 8, pcie_bdf_dev(dbdf),
        pcie_bdf_fn(dbdf), req->line.segment, rid >> 8, pcie_bdf_dev(rid), pcie_bdf_fn(rid));
    yaml_machine(b, s);
    yaml_dump_bus(p, s, params, b, -1, 0);
    note(s, "BAR sizes are not in a dump (a BAR register's low bits give I/O or memory, "
         "64-bit, prefetchable; its size needs a write of all ones, PCI 3.0 6.2.5.1): the "
         "board's BAR 0 is the model's 4 KiB; the %u other BAR%s (on %u function%s) are given "
         "the largest power of two their dumped address is aligned to, at most 1 MiB (I/O: "
         "256 bytes)", p->nbars, p->nbars == 1 ? "" : "s", p->nbarfns,
         p->nbarfns == 1 ? "" : "s");
    note(s, "root complex windows and ECAM are not in a dump: the generic machine's are used");
}

/* Payload and period from the count and the times of the log's lines. */
static void rate_from_log(const struct explain_sim_req *req, struct explain_sim_scn *s,
                          uint64_t *payload, uint64_t *period_ns)
{
    *payload = SIM_PAYLOAD_DEFAULT;
    *period_ns = SIM_PERIOD_DEFAULT_NS;
    uint64_t transfers = req->transfers ? req->transfers : req->count;
    if (req->count < 2 || !req->has_times || transfers < 2 || req->last_ns <= req->first_ns) {
        note(s, "the log gives %s: the seed board's %u bytes every 2.5 ms are assumed",
             req->count == 1 ? "one line" : "no rate", SIM_PAYLOAD_DEFAULT);
        return;
    }
    uint64_t per = (req->count + transfers - 1) / transfers;
    uint64_t p = (uint64_t)(req->last_ns - req->first_ns) / (transfers - 1);
    p = (p + 500) / 1000 * 1000; /* whole microseconds: a log's times have no more */
    if (p < SIM_PERIOD_MIN_NS)
        p = SIM_PERIOD_MIN_NS;
    if (p > SIM_PERIOD_MAX_NS)
        p = SIM_PERIOD_MAX_NS;
    *period_ns = p;
    if (per > 1) {
        uint64_t b = per * SIM_MPS;
        *payload = b > 65536 ? 65536 : b;
    }
    note(s, "%llu lines in %llu transfers over %.6f s: one transfer every %llu us, %llu byte%s "
         "each (%llu TLP%s at MPS %u%s)", (unsigned long long)req->count,
         (unsigned long long)transfers, (double)(req->last_ns - req->first_ns) / 1e9,
         (unsigned long long)(p / 1000), (unsigned long long)*payload, *payload == 1 ? "" : "s",
         (unsigned long long)per, per == 1 ? "" : "s", SIM_MPS,
         req->transfers ? "" : "; one line per transfer assumed");
}

/* ---- the edu device standing in for the user's (missing-mapping, permission) ---- */

static bool same_page(uint64_t a, uint64_t b)
{
    return a >> 12 == b >> 12;
}

const char *explain_sim_edu_mistake(const struct explain_sim_req *req, char *why, size_t len)
{
    const struct explain_sim_fault *l = &req->line;
    enum kmsg_dir d = req->dir != KMSG_DIR_NONE ? req->dir : l->dir;
    if (d == KMSG_DIR_NONE && req->family == KMSG_FAM_AMDVI && !l->has_flags)
        d = KMSG_DIR_WRITE;
    uint64_t a = l->addr;
    if (why && len)
        why[0] = '\0';
    if (d != KMSG_DIR_READ && d != KMSG_DIR_WRITE) {
        if (why)
            snprintf(why, len, "the line gives no direction (read or write), and the edu "
                     "driver's mistakes are each one direction");
        return NULL;
    }
    bool write = d == KMSG_DIR_WRITE;
    if (req->category == DIAG_PERMISSION) {
        if (why)
            snprintf(why, len, "a %s refused by a mapping's direction: the driver maps the "
                     "buffer %s and the device %s it", write ? "write" : "read",
                     write ? "DMA_TO_DEVICE" : "DMA_FROM_DEVICE", write ? "writes" : "reads");
        return write ? "write-to-device-map" : "read-from-device-map";
    }
    if (req->category != DIAG_MISSING_MAPPING && req->category != DIAG_DRIVER_API_MISUSE) {
        if (why)
            snprintf(why, len, "a %s finding is no DMA mistake of the edu driver",
                     diag_category_name(req->category));
        return NULL;
    }
    if (!l->has_addr) {
        if (why)
            snprintf(why, len, "the line gives no address");
        return NULL;
    }
    /* an address the log printed as a buffer's physical one */
    bool handle_page = false;
    for (size_t i = 0; i < req->nmaps; i++)
        handle_page = handle_page || same_page(req->map[i].handle, a);
    bool phys = false;
    for (size_t i = 0; i < req->nmaps && !phys; i++)
        phys = req->map[i].has_phys && same_page(req->map[i].phys, a);
    for (size_t i = 0; i < req->nphys && !phys; i++)
        phys = !handle_page && same_page(req->phys[i], a);
    if (phys && write) {
        if (why)
            snprintf(why, len, "0x%llx is a buffer's physical address as the driver printed "
                     "it: the device was given it instead of the DMA handle",
                     (unsigned long long)a);
        return "phys-addr";
    }
    if (req->category == DIAG_DRIVER_API_MISUSE) {
        if (why)
            snprintf(why, len, "a driver-api-misuse finding is reproduced when its address "
                     "is a physical one the log printed for a write (mistake=phys-addr); "
                     "this one is not");
        return NULL;
    }
    if (!write) {
        if (why)
            snprintf(why, len, "a read from an address with no mapping: the edu driver's "
                     "mistakes that miss a mapping all make the device write (its reads "
                     "go to the source buffer, mapped)");
        return NULL;
    }
    for (size_t i = 0; i < req->nmaps; i++) {
        const struct explain_sim_map *mp = &req->map[i];
        if (mp->to_device || !mp->size)
            continue;
        if (a >= mp->handle + mp->size && same_page(a, mp->handle + mp->size)) {
            if (why)
                snprintf(why, len, "0x%llx is just past the end of the %llu-byte buffer at "
                         "0x%llx the driver mapped DMA_FROM_DEVICE: the transfer runs past "
                         "the mapping", (unsigned long long)a, (unsigned long long)mp->size,
                         (unsigned long long)mp->handle);
            return "straddle-end";
        }
    }
    for (size_t i = 0; i < req->nmaps; i++) {
        const struct explain_sim_map *mp = &req->map[i];
        if (mp->to_device)
            continue;
        if (same_page(a, mp->handle) ||
            (mp->size && a >= mp->handle && a - mp->handle < mp->size)) {
            if (why)
                snprintf(why, len, "0x%llx is in the buffer the driver mapped DMA_FROM_DEVICE "
                         "at 0x%llx, yet the write finds no mapping: it came after the "
                         "unmap", (unsigned long long)a, (unsigned long long)mp->handle);
            return "use-after-unmap";
        }
    }
    if (why)
        snprintf(why, len, "0x%llx is an address no mapping line of the log names: the "
                 "device writes where the driver never mapped", (unsigned long long)a);
    return "unmapped-iova";
}

/* The built-in edu machine (src/scenario/builtin/edu.yaml: QEMU's q35 with
 * the edu device at 00:03.0, Linux 6.1) under the log's IOMMU, its driver
 * loaded with the mistake that makes the logged fault; the fix is the same
 * machine with mistake=ok. The IOMMU is always set (edu's default may
 * change). */
#define SIM_EDU_BDF 0x0018 /* 00:03.0 */
#define SIM_EDU_UNTIL_PS (600ull * SIM_MS) /* insmod 0.1 s, a round of 2-3 transfers
                                               of 100 ms each, the last fault's lines */

static int build_edu(const struct explain_sim_req *req, struct explain_sim_scn *s,
                     struct pcilab_err *err)
{
    const struct explain_sim_fault *l = &req->line;
    char why[320];
    const char *mk = explain_sim_edu_mistake(req, why, sizeof why);
    if (!mk)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "a %s finding is not reproduced: %s",
                           diag_category_name(req->category), why);
    if (!l->has_rid)
        return pcilab_errf(err, PCILAB_EINVAL, "the line names no requester");
    int r = begin_scn(req, s, err);
    if (r < 0)
        return r;
    const char *iommu = req->family == KMSG_FAM_VTD ? "vtd" : "amd-vi";
    snprintf(s->label, sizeof s->label, "edu");
    snprintf(s->run_arg, sizeof s->run_arg, "edu");
    snprintf(s->mistake, sizeof s->mistake, "%s", mk);
    s->device_segment = 0;
    s->device_bdf = SIM_EDU_BDF;
    char drv[64];
    const char *dn = req->rid_driver[0] ? req->rid_driver : req->device_driver;
    snprintf(drv, sizeof drv, "%s%s%s", dn[0] ? " (" : "", dn, dn[0] ? ")" : "");
    note(s, "the edu device (QEMU's educational PCI device, src/devices/edu.c) and its "
         "driver (src/drivers/edu.c) stand in for the log's device%s and driver: mistake=%s "
         "makes the same mistake: %s", drv, mk, why);
    note(s, "the machine is the built-in edu (QEMU's q35, 256 MiB, the edu device at "
         "00:03.0) under %s (--set iommu=%s)", req->family == KMSG_FAM_VTD ? "VT-d" : "AMD-Vi",
         iommu);
    if (l->segment != 0 || l->rid != SIM_EDU_BDF) {
        char b[PCIE_BDF_STRLEN];
        note(s, "the log's requester %04x:%s is the stand-in's 0000:00:03.0 in the comparison "
             "(the edu machine has its device there)", l->segment, pcie_bdf_str(l->rid, b));
        s->expect.segment = 0;
        s->expect.rid = SIM_EDU_BDF;
    }
    if (req->lspci || req->dump || req->dump_error)
        note(s, "the lspci given describes the user's machine; the stand-in runs on the edu "
             "machine, not on it");
    set_seen(s, "iommu=%s", iommu);
    set_seen(s, "kernel.version=%s", s->kernel);
    if (req->family == KMSG_FAM_VTD) {
        /* DMA remapping was on (the line is its fault); 4.x and 5.x leave it
         * off unless asked (docs/linux/intel-iommu.md b) */
        set_seen(s, "kernel.cmdline=intel_iommu=on");
        note(s, "intel_iommu=on: the log's fault says DMA remapping was on, which Linux %s "
             "does by default only where its config says so", s->kernel);
    }
    set_seen(s, "edu.mistake=%s", mk);
    snprintf(s->fix, sizeof s->fix, "edu.mistake=ok");
    for (size_t i = 0; i + 1 < s->nseen; i++)
        memcpy(s->fixed[s->nfixed++], s->seen[i], EXPLAIN_SIM_SET_LEN);
    memcpy(s->fixed[s->nfixed++], s->fix, EXPLAIN_SIM_SET_LEN);
    s->until = SIM_EDU_UNTIL_PS;

    struct buf b = {0};
    put(&b, "# pcilab explain --simulate: the edu device and driver making the logged DMA\n"
            "# mistake (docs/explain-simulate.md). The same as: pcilab run edu");
    for (size_t i = 0; i < s->nseen; i++)
        put(&b, " --set %s", s->seen[i]);
    put(&b, "\nbase: edu\nname: %s\ndescription: \"the edu machine, mistake=%s, as the log "
            "shows it\"\nset:\n", s->name, mk);
    for (size_t i = 0; i < s->nseen; i++) {
        const char *eq = strchr(s->seen[i], '=');
        put(&b, "  %.*s: \"%s\"\n", (int)(eq - s->seen[i]), s->seen[i], eq + 1);
    }
    return take_yaml(&b, s, err);
}

int explain_sim_build(const struct explain_sim_req *req, struct explain_sim_scn *s,
                      struct pcilab_err *err)
{
    memset(s, 0, sizeof *s);
    const struct explain_sim_fault *l = &req->line;
    if (req->family != KMSG_FAM_AMDVI && req->family != KMSG_FAM_VTD)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "%s faults are not modelled: --simulate reproduces AMD-Vi "
                           "IO_PAGE_FAULT and VT-d DMA fault lines",
                           kmsg_family_name(req->family));
    if (req->family == KMSG_FAM_AMDVI && req->kind != KMSG_AMDVI_IO_PAGE_FAULT)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "AMD-Vi %s events are not reproduced: --simulate models "
                           "IO_PAGE_FAULT", kmsg_kind_name(req->kind));
    if (req->family == KMSG_FAM_VTD && req->kind != KMSG_VTD_DMA_FAULT)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "VT-d %s lines are not reproduced: --simulate models DMA faults "
                           "(\"[DMA Read|Write] Request device ...\"); no device model sends "
                           "a refused interrupt yet", kmsg_kind_name(req->kind));
    if (req->category == DIAG_MISSING_MAPPING || req->category == DIAG_PERMISSION ||
        req->category == DIAG_DRIVER_API_MISUSE)
        return build_edu(req, s, err);
    if (req->category != DIAG_REQUESTER_ID_MISMATCH)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "a %s finding is not reproduced: the device models send a wrong "
                           "requester ID (requester-id-mismatch, the ECP5 board) or make a "
                           "driver's DMA mistake (missing-mapping, permission: the edu "
                           "device), not this", diag_category_name(req->category));
    if (req->dump_error)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "the configuration dump does not parse, so the user's machine cannot "
                           "be rebuilt from it: %s", req->dump_error);
    if (!l->has_rid)
        return pcilab_errf(err, PCILAB_EINVAL, "the line names no requester");
    if (req->has_device && req->device_bdf == l->rid && req->device_segment == l->segment)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "the device that printed (%04x:%02x:%02x.%x) is the requester the "
                           "IOMMU names: that is no requester-ID mismatch", l->segment,
                           l->rid >> 8, pcie_bdf_dev(l->rid), pcie_bdf_fn(l->rid));
    bool write = req->dir == KMSG_DIR_WRITE ||
                 (req->dir == KMSG_DIR_NONE && (!l->has_flags || (l->flags & 0x20)));
    if (req->dir == KMSG_DIR_EXEC)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED, "an execute request is not modelled");

    int r = begin_scn(req, s, err);
    if (r < 0)
        return r;
    char lwhy[120];
    bool from_dump = req->dump && req->dump_file;
    bool vtd = req->family == KMSG_FAM_VTD;
    /* the seed's machine is an AMD one */
    bool seed = !from_dump && !vtd && fits_seed(req, lwhy, sizeof lwhy);
    char rv[16];
    rid_value(l->rid, rv, sizeof rv);
    struct dplan *plan = NULL;
    if (from_dump) {
        snprintf(s->label, sizeof s->label, "fpga");
        s->from_dump = true;
        plan = calloc(1, sizeof *plan);
        r = plan ? dump_plan(req, s, plan, err) : pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
        if (r < 0) {
            if (plan)
                free(plan->nodes);
            free(plan);
            explain_sim_scn_free(s);
            return r;
        }
    } else if (seed) {
        snprintf(s->label, sizeof s->label, "ecp5");
        snprintf(s->run_arg, sizeof s->run_arg, "seed");
        s->device_segment = 0;
        s->device_bdf = 0x0100;
        note(s, "the seed's machine (built-in scenario seed): requester 0000:00:00.0 is its "
             "host bridge, the sending board is its ECP5 at 01:00.0%s%s",
             req->has_device ? ", as the log shows" : " (the log names no other)", lwhy);
    } else {
        snprintf(s->label, sizeof s->label, "fpga");
        s->device_segment = req->has_device ? req->device_segment : l->segment;
        s->device_bdf = req->has_device ? req->device_bdf : 0x0100;
        if (s->device_segment != l->segment) {
            explain_sim_scn_free(s);
            return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                               "the requester (segment %04x) and the device (segment %04x) "
                               "are in different PCI segments: one root complex is modelled",
                               l->segment, req->device_segment);
        }
        if (req->lspci)
            note(s, "lspci does not show the seed's shape and --simulate does not rebuild its "
                 "tree yet: a generic machine is used");
        char nofn[120];
        if (vtd)
            snprintf(nofn, sizeof nofn, "with no function there (fault reason 0x%02x: the IOMMU "
                     "has no %s entry for it)", l->reason, l->reason == 1 ? "root" : "context");
        else
            snprintf(nofn, sizeof nofn, "with no function there (the log's domain 0: the IOMMU "
                     "knows no domain of it)");
        note(s, "%s: requester %04x:%02x:%02x.%x %s, the board at %04x:%02x:%02x.%x "
             "behind a root port%s",
             vtd ? "a generic machine (root complex 00:00.0, root ports)"
                 : "a generic AMD machine (root complex 00:00.0, IOMMU 00:00.2, the builder's "
                   "IVRS, no IVMD)",
             l->segment, l->rid >> 8, pcie_bdf_dev(l->rid), pcie_bdf_fn(l->rid),
             l->rid == 0 || requester_placed(req) ? "as a host bridge" : nofn,
             s->device_segment, s->device_bdf >> 8, pcie_bdf_dev(s->device_bdf),
             pcie_bdf_fn(s->device_bdf),
             req->has_device ? "" : " (the log names no device: 01:00.0 assumed)");
    }
    if (req->candidates > 1)
        note(s, "the log shows drivers printing on %zu devices; %04x:%02x:%02x.%x (%s) is taken "
             "as the sender", req->candidates, req->device_segment, req->device_bdf >> 8,
             pcie_bdf_dev(req->device_bdf), pcie_bdf_fn(req->device_bdf),
             req->device_driver[0] ? req->device_driver : "no driver name");
    note(s, "the board model is the seed's ECP5 (ecp5_dma): its %s engine sends requester ID "
         "%s instead of its own", write ? "write" : "read", rv);

    /* the machine as seen */
    uint64_t payload, period;
    rate_from_log(req, s, &payload, &period);
    set_seen(s, "kernel.version=%s", s->kernel);
    if (vtd) {
        /* The machine's IOMMU becomes QEMU q35's VT-d unit in place of its AMD
         * one (scenario key iommu: vtd; a DMAR unit is no PCI function, so a
         * dump shows none), and the driver is switched on: the log shows DMA
         * remapping on, which 4.x kernels leave off by default
         * (CONFIG_INTEL_IOMMU_DEFAULT_ON unset, docs/linux/intel-iommu.md). */
        set_seen(s, "iommu=vtd");
        set_seen(s, "kernel.cmdline=intel_iommu=on");
        note(s, "the IOMMU is QEMU q35's VT-d unit (one DRHD at 0xfed90000, --set iommu=vtd) in "
             "place of the machine's AMD IOMMU, with intel_iommu=on");
    }
    set_seen(s, "%s.%s=%s", s->label, write ? "write_rid" : "read_rid", rv);
    if (!write)
        set_seen(s, "%s.write_rid=captured", s->label);
    if (payload != SIM_PAYLOAD_DEFAULT)
        set_seen(s, "%s.payload=%llu", s->label, (unsigned long long)payload);
    if (period != SIM_PERIOD_DEFAULT_NS)
        set_seen(s, "%s.period=%lluus", s->label, (unsigned long long)(period / 1000));
    snprintf(s->fix, sizeof s->fix, "%s.requester_id=captured", s->label);
    for (size_t i = 0; i < s->nseen; i++)
        memcpy(s->fixed[s->nfixed++], s->seen[i], EXPLAIN_SIM_SET_LEN);
    memcpy(s->fixed[s->nfixed++], s->fix, EXPLAIN_SIM_SET_LEN);
    /* three transfers after insmod (0.1 s), and a millisecond for the last
     * fault's interrupt */
    s->until = SIM_INSMOD_PS + 3 * period * SIM_NS + SIM_MS;

    struct buf b = {0};
    if (seed) {
        put(&b, "# pcilab explain --simulate: the seed's machine sending what the log shows\n"
                "# (docs/explain-simulate.md). The same as: pcilab run seed");
        for (size_t i = 0; i < s->nseen; i++)
            put(&b, " --set %s", s->seen[i]);
        put(&b, "\nbase: seed\nname: %s\ndescription: \"the seed machine, as the log shows it\"\n"
                "set:\n", s->name);
        for (size_t i = 0; i < s->nseen; i++) {
            const char *eq = strchr(s->seen[i], '=');
            put(&b, "  %.*s: \"%s\"\n", (int)(eq - s->seen[i]), s->seen[i], eq + 1);
        }
    } else if (plan) {
        yaml_dump(req, s, plan, &b);
        free(plan->nodes);
        free(plan);
    } else if ((r = yaml_generic(req, s, &b, err)) < 0) {
        free(b.p);
        explain_sim_scn_free(s);
        return r;
    }
    return take_yaml(&b, s, err);
}

void explain_sim_scn_free(struct explain_sim_scn *s)
{
    if (!s)
        return;
    free(s->yaml);
    memset(s, 0, sizeof *s);
}

/* ---- comparing ---- */

static enum explain_sim_same same(bool ha, bool hb, bool eq)
{
    return !ha || !hb ? EXPLAIN_SIM_ABSENT : eq ? EXPLAIN_SIM_SAME : EXPLAIN_SIM_DIFFERS;
}

void explain_sim_compare(const struct explain_sim_fault *a, const struct explain_sim_fault *b,
                         struct explain_sim_cmp *out)
{
    memset(out, 0, sizeof *out);
    out->family = same(a->family != KMSG_FAM_NONE, b->family != KMSG_FAM_NONE,
                       a->family == b->family);
    bool vtd = a->family == KMSG_FAM_VTD;
    bool seg_eq = !(a->has_segment && b->has_segment) || a->segment == b->segment;
    out->requester = same(a->has_rid, b->has_rid, a->rid == b->rid && seg_eq);
    out->address = same(a->has_addr, b->has_addr, a->addr == b->addr);
    out->form = same(a->form != EXPLAIN_SIM_FORM_UNKNOWN, b->form != EXPLAIN_SIM_FORM_UNKNOWN,
                     a->form == b->form);
    /* the family's own fields; the others stay ABSENT */
    if (vtd) {
        out->direction = same(a->dir != KMSG_DIR_NONE, b->dir != KMSG_DIR_NONE,
                              a->dir == b->dir);
        out->reason = same(a->has_reason, b->has_reason, a->reason == b->reason);
    } else {
        out->domain = same(a->has_domain, b->has_domain, a->domain == b->domain);
        out->flags = same(a->has_flags, b->has_flags, a->flags == b->flags);
    }
    /* each field the log has must be there and equal in the run */
    bool ok = out->family != EXPLAIN_SIM_DIFFERS && a->has_rid &&
              out->requester == EXPLAIN_SIM_SAME;
    if (vtd) {
        /* VT-d: the fault reason (VT-d spec Appendix A) and the request's
         * type are what the line says about the request */
        ok = ok && (a->dir == KMSG_DIR_NONE || out->direction == EXPLAIN_SIM_SAME);
        ok = ok && (!a->has_reason || out->reason == EXPLAIN_SIM_SAME);
    } else {
        /* A domain ID is a number the kernel hands out in attach order (4.9
         * amd_iommu.c domain_id_alloc, 6.1 amd/iommu.c the same bitmap), so on
         * a machine rebuilt from a dump it follows pcilab's order of probes,
         * not the user's. What the line says about the request is whether the
         * requester is in a domain at all (0: none, the DTE has no rights); two
         * non-zero IDs reproduce that, and the field still says "differs". */
        bool dom_kind = b->has_domain && (a->domain == b->domain || (a->domain && b->domain));
        ok = ok && (!a->has_domain || dom_kind);
        ok = ok && (!a->has_flags || out->flags == EXPLAIN_SIM_SAME);
    }
    out->reproduced = ok;
    out->exact = ok && (!a->has_addr || out->address == EXPLAIN_SIM_SAME) &&
                 (!a->has_domain || out->domain == EXPLAIN_SIM_SAME) &&
                 out->form != EXPLAIN_SIM_DIFFERS;
}

static void bdf_full(const struct explain_sim_fault *f, char *buf, size_t len)
{
    char b[PCIE_BDF_STRLEN];
    if (f->has_segment)
        snprintf(buf, len, "%04x:%s", f->segment, pcie_bdf_str(f->rid, b));
    else
        snprintf(buf, len, "%s", pcie_bdf_str(f->rid, b));
}

static const char *dir_word(enum kmsg_dir d)
{
    return d == KMSG_DIR_READ ? "read" : d == KMSG_DIR_WRITE ? "write"
           : d == KMSG_DIR_EXEC ? "execute" : "none";
}

void explain_sim_cmp_str(const struct explain_sim_cmp *c, const struct explain_sim_fault *a,
                         const struct explain_sim_fault *b, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    size_t used = 0;
    if (c->family == EXPLAIN_SIM_DIFFERS) {
        cat(buf, len, &used, "the run's line is %s, the log's is %s",
            kmsg_family_name(b->family), kmsg_family_name(a->family));
        return;
    }
    /* the family's fields, in the order they are printed */
    enum { F_REQ, F_DIR, F_REASON, F_FLAGS, F_DOMAIN, F_ADDR, F_N };
    static const char *const names[F_N] = {"requester", "direction", "reason", "flags",
                                           "domain", "address"};
    bool vtd = a->family == KMSG_FAM_VTD;
    bool used_f[F_N] = {true, vtd, vtd, !vtd, !vtd, true};
    enum explain_sim_same v[F_N] = {c->requester, c->direction, c->reason,
                                    c->flags, c->domain, c->address};
    bool in_log[F_N] = {a->has_rid, a->dir != KMSG_DIR_NONE, a->has_reason, a->has_flags,
                        a->has_domain, a->has_addr};
    unsigned n = 0;
    for (unsigned i = 0; i < F_N; i++)
        if (used_f[i] && v[i] == EXPLAIN_SIM_SAME)
            cat(buf, len, &used, "%s%s", n++ ? ", " : "matches the log's: ", names[i]);
    for (unsigned i = 0; i < F_N; i++) {
        if (!used_f[i] || v[i] != EXPLAIN_SIM_DIFFERS)
            continue;
        char x[24], y[24];
        switch (i) {
        case F_REQ: bdf_full(a, x, sizeof x); bdf_full(b, y, sizeof y); break;
        case F_DIR:
            snprintf(x, sizeof x, "%s", dir_word(a->dir));
            snprintf(y, sizeof y, "%s", dir_word(b->dir));
            break;
        case F_REASON:
            snprintf(x, sizeof x, "0x%02x", a->reason);
            snprintf(y, sizeof y, "0x%02x", b->reason);
            break;
        case F_FLAGS: snprintf(x, sizeof x, "0x%04x", a->flags); snprintf(y, sizeof y, "0x%04x", b->flags); break;
        case F_DOMAIN: snprintf(x, sizeof x, "0x%04x", a->domain); snprintf(y, sizeof y, "0x%04x", b->domain); break;
        default:
            snprintf(x, sizeof x, "0x%llx", (unsigned long long)a->addr);
            snprintf(y, sizeof y, "0x%llx", (unsigned long long)b->addr);
        }
        cat(buf, len, &used, "%s%s differs: %s (log) vs %s (run)", n++ ? "; " : "", names[i], x,
            y);
    }
    for (unsigned i = 0; i < F_N; i++)
        if (used_f[i] && v[i] == EXPLAIN_SIM_ABSENT)
            cat(buf, len, &used, "%s%s: not in %s", n++ ? "; " : "", names[i],
                in_log[i] ? "the run's line" : "the log's line");
    if (c->form == EXPLAIN_SIM_DIFFERS)
        cat(buf, len, &used, "%sprinted in the %s form, the log's is %s", n++ ? "; " : "",
            explain_sim_form_name(b->form), explain_sim_form_name(a->form));
}
