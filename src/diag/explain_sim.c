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
    case EXPLAIN_SIM_FORM_UNKNOWN: break;
    }
    return "unknown";
}

enum explain_sim_form explain_sim_form_of_format(const char *format)
{
    if (!format || strncmp(format, "amdvi-", 6))
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

/* The modelled release that prints a form (src/host/kver.c). */
static const char *form_release(enum explain_sim_form f)
{
    switch (f) {
    case EXPLAIN_SIM_FORM_4_9: return "4.9.80";
    case EXPLAIN_SIM_FORM_4_20: return "4.20.17";
    case EXPLAIN_SIM_FORM_5_15: return "5.15";
    case EXPLAIN_SIM_FORM_6_1: return "6.1";
    case EXPLAIN_SIM_FORM_UNKNOWN: break;
    }
    return NULL;
}

/* The form a modelled release prints (host/kver.h enum host_amd_msg). */
static enum explain_sim_form release_form(const struct host_kver *kv)
{
    if (!host_kver_at_least(kv, 4, 20))
        return EXPLAIN_SIM_FORM_4_9;
    if (!host_kver_at_least(kv, 5, 0))
        return EXPLAIN_SIM_FORM_4_20;
    if (!host_kver_at_least(kv, 6, 1))
        return EXPLAIN_SIM_FORM_5_15;
    return EXPLAIN_SIM_FORM_6_1;
}

/* ---- reading a fault line ---- */

/* The fault fields of a parsed IO_PAGE_FAULT (kmsg.h); the per-device form
 * names the requester through its dev_err prefix. */
static void fault_from_kmsg(struct explain_sim_fault *l, const struct kmsg *m)
{
    l->form = explain_sim_form_of_format(m->format);
    l->has_rid = m->has_bdf;
    /* the 6.1 device= field and every dev_err prefix ("amdvi-dev...") print
     * the segment */
    l->has_segment = m->has_bdf && (l->form == EXPLAIN_SIM_FORM_6_1 ||
                                    !strncmp(m->format, "amdvi-dev", 9));
    l->segment = m->segment;
    l->rid = m->bdf;
    if (!m->has_bdf && m->has_printer) {
        l->has_rid = true;
        l->has_segment = true;
        l->segment = m->printer_segment;
        l->rid = m->printer_bdf;
    }
    l->has_domain = m->has_domain;
    l->domain = m->domain;
    l->has_addr = m->has_addr;
    l->addr = m->addr;
    l->has_flags = m->has_flags;
    l->flags = m->flags;
}

int explain_sim_fault_parse(const char *text, size_t len, struct explain_sim_fault *out,
                            struct pcilab_err *err)
{
    memset(out, 0, sizeof *out);
    const char *s = text, *end = text + len;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s < end && *s == '[') { /* a dmesg time */
        const char *c = memchr(s, ']', (size_t)(end - s));
        if (c)
            for (s = c + 1; s < end && *s == ' '; s++)
                ;
    }
    struct kmsg m;
    if (kmsg_parse(s, (size_t)(end - s), &m) != KMSG_MATCH || m.kind != KMSG_AMDVI_IO_PAGE_FAULT)
        return pcilab_errf(err, PCILAB_EINVAL, "not an AMD-Vi IO_PAGE_FAULT line: '%.*s'",
                           (int)(len > 80 ? 80 : len), text);
    snprintf(out->text, sizeof out->text, "%.*s", (int)(end - s), s);
    fault_from_kmsg(out, &m);
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
    if (m->has_printer && m->has_bdf &&
        (m->printer_bdf != m->bdf || m->printer_segment != m->segment) &&
        strcmp(m->printer_driver, "amd_iommu") && strcmp(m->printer_driver, "iommu")) {
        req->has_device = true;
        req->device_segment = m->printer_segment;
        req->device_bdf = m->printer_bdf;
        snprintf(req->device_driver, sizeof req->device_driver, "%s", m->printer_driver);
    }
}

void explain_sim_req_from_finding(struct explain_sim_req *req, const struct explain *e,
                                  const struct explain_finding *f, const struct lspci_db *db)
{
    memset(req, 0, sizeof *req);
    const struct explain_sig *g = f->sig;
    const struct explain_ctx *x = e ? explain_context(e) : NULL;
    req->category = f->category;
    req->lspci = db;
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
            if (form != EXPLAIN_SIM_FORM_UNKNOWN && release_form(kv) != form)
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
    note(s, "no \"Linux version\" line: the %s form of the line is what %s prints", 
         explain_sim_form_name(form), r);
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

static bool requester_placed(const struct explain_sim_req *req)
{
    uint16_t rid = req->line.rid;
    return rid >> 8 == 0 && rid != 0 && rid != 0x0002 &&
           (!req->line.has_domain || req->line.domain != 0);
}

/* A generic AMD machine: root complex 00:00.0, IOMMU 00:00.2, a host bridge
 * at the requester's BDF when that is on the root bus, and the board behind
 * the bus-th root port (enumeration numbers buses depth first, so bus - 1
 * empty ports come before it). */
static int yaml_generic(const struct explain_sim_req *req, struct explain_sim_scn *s,
                        struct buf *b, struct pcilab_err *err)
{
    /* the device's params: the --set keys "as seen" on the label */
    char params[256] = "";
    size_t pl = 0, lab = strlen(s->label);
    for (size_t i = 0; i < s->nseen; i++) {
        const char *k = s->seen[i], *eq = strchr(k, '=');
        if (strncmp(k, s->label, lab) || k[lab] != '.' || !eq)
            continue;
        cat(params, sizeof params, &pl, "%s%.*s: %s", pl ? ", " : "",
            (int)(eq - k - lab - 1), k + lab + 1, eq + 1);
    }
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
           "requester %04x:%02x:%02x.%x\"\n"
           "seed: 1\n"
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
        s->name, s->device_segment, bus, pcie_bdf_dev(dbdf), pcie_bdf_fn(dbdf),
        req->line.segment, rid >> 8, pcie_bdf_dev(rid), pcie_bdf_fn(rid), s->kernel,
        s->device_segment);
    put(b, "    - {bdf: 00:00.0, name: rc, kind: host_bridge, vendor: 0x1022, device: 0x1576}\n"
           "    - bdf: 00:00.2\n"
           "      name: iommu\n"
           "      kind: integrated\n"
           "      vendor: 0x1022\n"
           "      device: 0x1577\n"
           "      class: 0x080600\n"
           "      capabilities:\n"
           "        iommu: {base: 0xfeb80000, offset: 0x40}\n"
           "        msi: {vectors: 1, addr64: true, offset: 0x54}\n");
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

int explain_sim_build(const struct explain_sim_req *req, struct explain_sim_scn *s,
                      struct pcilab_err *err)
{
    memset(s, 0, sizeof *s);
    const struct explain_sim_fault *l = &req->line;
    if (req->family == KMSG_FAM_VTD)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "Intel VT-d is not modelled yet (issue 7): pcilab has no VT-d IOMMU "
                           "to run this DMAR fault on, so it cannot be reproduced");
    if (req->family != KMSG_FAM_AMDVI)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "%s faults are not modelled: --simulate reproduces AMD-Vi "
                           "IO_PAGE_FAULT lines", kmsg_family_name(req->family));
    if (req->kind != KMSG_AMDVI_IO_PAGE_FAULT)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "AMD-Vi %s events are not reproduced: --simulate models "
                           "IO_PAGE_FAULT", kmsg_kind_name(req->kind));
    if (req->category != DIAG_REQUESTER_ID_MISMATCH)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "a %s finding is not reproduced: the device model can send a wrong "
                           "requester ID (requester-id-mismatch), not yet an unmapped address "
                           "or a refused direction", diag_category_name(req->category));
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

    int r = choose_kernel(req, s, err);
    if (r < 0) {
        explain_sim_scn_free(s);
        return r;
    }
    s->expect = *l;
    if (s->expect.form == EXPLAIN_SIM_FORM_UNKNOWN) {
        const struct host_kver *kv;
        if (host_kver_find(s->kernel, &kv, NULL) == 0)
            s->expect.form = release_form(kv);
    }
    snprintf(s->name, sizeof s->name, "explain-simulate");
    char lwhy[120];
    bool seed = fits_seed(req, lwhy, sizeof lwhy);
    char rv[16];
    rid_value(l->rid, rv, sizeof rv);
    if (seed) {
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
        note(s, "a generic AMD machine (root complex 00:00.0, IOMMU 00:00.2, the builder's "
             "IVRS, no IVMD): requester %04x:%02x:%02x.%x %s, the board at %04x:%02x:%02x.%x "
             "behind a root port%s", l->segment, l->rid >> 8, pcie_bdf_dev(l->rid),
             pcie_bdf_fn(l->rid),
             l->rid == 0 || requester_placed(req) ? "as a host bridge"
             : "with no function there (the log's domain 0: the IOMMU knows no domain of it)",
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
    } else if ((r = yaml_generic(req, s, &b, err)) < 0) {
        free(b.p);
        explain_sim_scn_free(s);
        return r;
    }
    if (b.oom) {
        free(b.p);
        explain_sim_scn_free(s);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory writing the scenario");
    }
    s->yaml = b.p;
    return 0;
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
    bool seg_eq = !(a->has_segment && b->has_segment) || a->segment == b->segment;
    out->requester = same(a->has_rid, b->has_rid, a->rid == b->rid && seg_eq);
    out->domain = same(a->has_domain, b->has_domain, a->domain == b->domain);
    out->address = same(a->has_addr, b->has_addr, a->addr == b->addr);
    out->flags = same(a->has_flags, b->has_flags, a->flags == b->flags);
    out->form = same(a->form != EXPLAIN_SIM_FORM_UNKNOWN, b->form != EXPLAIN_SIM_FORM_UNKNOWN,
                     a->form == b->form);
    /* each field the log has must be there and equal in the run */
    bool ok = a->has_rid && out->requester == EXPLAIN_SIM_SAME;
    ok = ok && (!a->has_domain || out->domain == EXPLAIN_SIM_SAME);
    ok = ok && (!a->has_flags || out->flags == EXPLAIN_SIM_SAME);
    out->reproduced = ok;
    out->exact = ok && (!a->has_addr || out->address == EXPLAIN_SIM_SAME) &&
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

void explain_sim_cmp_str(const struct explain_sim_cmp *c, const struct explain_sim_fault *a,
                         const struct explain_sim_fault *b, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    size_t used = 0;
    const char *names[] = {"requester", "flags", "domain", "address"};
    enum explain_sim_same v[] = {c->requester, c->flags, c->domain, c->address};
    unsigned n = 0;
    for (unsigned i = 0; i < 4; i++)
        if (v[i] == EXPLAIN_SIM_SAME)
            cat(buf, len, &used, "%s%s", n++ ? ", " : "matches the log's: ", names[i]);
    for (unsigned i = 0; i < 4; i++) {
        if (v[i] != EXPLAIN_SIM_DIFFERS)
            continue;
        char x[24], y[24];
        switch (i) {
        case 0: bdf_full(a, x, sizeof x); bdf_full(b, y, sizeof y); break;
        case 1: snprintf(x, sizeof x, "0x%04x", a->flags); snprintf(y, sizeof y, "0x%04x", b->flags); break;
        case 2: snprintf(x, sizeof x, "0x%04x", a->domain); snprintf(y, sizeof y, "0x%04x", b->domain); break;
        default:
            snprintf(x, sizeof x, "0x%llx", (unsigned long long)a->addr);
            snprintf(y, sizeof y, "0x%llx", (unsigned long long)b->addr);
        }
        cat(buf, len, &used, "%s%s differs: %s (log) vs %s (run)", n++ ? "; " : "", names[i], x,
            y);
    }
    for (unsigned i = 0; i < 4; i++)
        if (v[i] == EXPLAIN_SIM_ABSENT)
            cat(buf, len, &used, "%s%s: not in %s", n++ ? "; " : "", names[i],
                (i == 0 ? a->has_rid : i == 1 ? a->has_flags : i == 2 ? a->has_domain
                                                                     : a->has_addr)
                    ? "the run's line"
                    : "the log's line");
    if (c->form == EXPLAIN_SIM_DIFFERS)
        cat(buf, len, &used, "%sprinted in the %s form, the log's is %s", n++ ? "; " : "",
            explain_sim_form_name(b->form), explain_sim_form_name(a->form));
}
