/* pcilab run's "Diagnosis" section and "diagnosis" JSON value (run_diag.h).
 * The findings come from src/diag (iommu_rec.h, iommu_diag.h); this file
 * only words and lays them out, and re-runs the scenario with the fix a
 * device model offers. docs/diagnosis.md explains every line. */
#include "cli/run_diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "diag/iommu_diag.h"
#include "diag/iommu_rec.h"
#include "iommu/vtd.h"
#include "pcie/split.h"
#include "pcie/tlp_print.h"
#include "pcie/topology.h"
#include "scenario/build.h"
#include "sim/bytes.h"
#include "sim/log.h"
#include "sim/sim.h"

/* What one run of the fix showed. */
struct fix_run {
    bool done;
    int status;                  /* 0, or the error of bringing it up */
    char error[256];
    char set[160];               /* the --set given */
    uint64_t faults_before, faults_after;
    uint64_t fault_lines_before, fault_lines_after;
    uint64_t delivered_before, delivered_after; /* write bytes the sender got through */
    char isr_before[DIAG_TEXT_MAX], isr_after[DIAG_TEXT_MAX];
};

struct run_diag {
    struct cli_machine *m;
    const char *scenario;
    const struct cli_machine_opts *opts;
    sim_time_t until;
    struct diag_rec *rec;        /* NULL: the machine has no IOMMU on its DMA path */
    bool analysed;
    struct diag_report rep;
    struct diag_fn *fns;
    size_t nfns;
    struct fix_run fix;
    int fix_for;                 /* index of the finding the fix run is for, -1 */
    const struct diag_dma_watch *watch; /* the run's DMA watch, NULL when none */
    struct vtd *vtd;             /* the first VT-d unit the recorder sits on, NULL: AMD-Vi */
};

/* The first VT-d unit on the fabric's upstream path (scenario/build.c puts
 * one model per DRHD there, behind a router), NULL when the machine's DMA
 * goes through no VT-d. A finding's own unit is its signature's. */
static struct vtd *fabric_vtd(struct cli_machine *m)
{
    struct pcie_fabric *f = scn_system_fabric(m->sys);
    for (size_t i = 0; i < scn_system_vtd_count(m->sys); i++) {
        struct vtd *v = scn_system_vtd(m->sys, i);
        if (v && vtd_iommu(v)->fabric == f)
            return v;
    }
    return NULL;
}

static void machine_view(struct cli_machine *m, const struct diag_dma_watch *watch,
                         struct diag_fn **fns, size_t *nfns, struct diag_machine *dm)
{
    memset(dm, 0, sizeof *dm);
    size_t n = scn_system_count(m->sys);
    *fns = calloc(n ? n : 1, sizeof **fns);
    *nfns = 0;
    for (size_t i = 0; *fns && i < n; i++) {
        const struct scn_sysfn *sf = scn_system_at(m->sys, i);
        (*fns)[(*nfns)++] = (struct diag_fn){sf->fn, sf->name, sf->dev};
    }
    dm->fabric = scn_system_fabric(m->sys);
    dm->map = scn_system_addrmap(m->sys);
    if (scn_system_iommu_count(m->sys))
        dm->iommu_fn = scn_system_iommu(m->sys, 0)->fn;
    else
        dm->vtd = fabric_vtd(m);
    dm->kernel = m->kernel;
    dm->log = sim_log(m->sim);
    dm->fns = *fns;
    dm->nfns = *nfns;
    dm->watch = watch;
}

/* The recorder on the IOMMU that translates the machine's DMA: the AMD-Vi
 * function's, else the VT-d unit on the fabric's upstream path. */
static struct diag_rec *attach(struct cli_machine *m)
{
    if (!scn_system_iommu_count(m->sys) && !fabric_vtd(m))
        return NULL;
    struct diag_rec *r = diag_rec_create();
    if (r && scn_system_iommu_count(m->sys)) {
        diag_rec_attach(r, scn_system_iommu(m->sys, 0)->iommu);
        return r;
    }
    /* every DRHD's unit on the fabric: each translates its own devices */
    struct pcie_fabric *f = scn_system_fabric(m->sys);
    for (size_t i = 0; r && i < scn_system_vtd_count(m->sys); i++) {
        struct vtd *v = scn_system_vtd(m->sys, i);
        if (v && vtd_iommu(v)->fabric == f)
            diag_rec_attach_vtd(r, scn_system_addrmap(m->sys), v);
    }
    return r;
}

struct run_diag *run_diag_start(struct cli_machine *m, const char *scenario,
                                const struct cli_machine_opts *opts, sim_time_t until)
{
    struct run_diag *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->m = m;
    d->scenario = scenario;
    d->opts = opts;
    d->until = until;
    d->fix_for = -1;
    d->rec = attach(m);
    d->vtd = scn_system_iommu_count(m->sys) ? NULL : fabric_vtd(m);
    return d;
}

void run_diag_use_watch(struct run_diag *d, const struct diag_dma_watch *w)
{
    if (d)
        d->watch = w;
}

/* ---- the re-run with the fix ---- */

/* The first "DMA done:" line of the device bdf ("0000:01:00.0"), and how
 * many fault lines the log holds (AMD-Vi IO_PAGE_FAULT, VT-d "Request device
 * [..] fault addr"). */
static void log_facts(const struct sim_log *log, const char *bdf, char *isr, size_t isr_len,
                      uint64_t *fault_lines)
{
    isr[0] = '\0';
    *fault_lines = 0;
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec rec;
        if (!sim_log_get(log, i, &rec))
            continue;
        if (strstr(rec.text, "IO_PAGE_FAULT") ||
            (strstr(rec.text, "Request device [") && strstr(rec.text, "fault ")))
            (*fault_lines)++;
        else if (!isr[0] && strstr(rec.text, "DMA done:") && strstr(rec.text, bdf))
            snprintf(isr, isr_len, "%s", rec.text);
    }
}

/* Write bytes that got through the IOMMU from below port `ingress`. */
static uint64_t delivered(const struct diag_rec *r, const struct pcie_fn *ingress)
{
    uint64_t b = 0;
    for (size_t i = 0; i < diag_rec_stream_count(r); i++) {
        const struct diag_stream *s = diag_rec_stream_at(r, i);
        if (s->write && s->ingress == ingress)
            b += s->ok_bytes;
    }
    return b;
}

/* The ingress port of `bdf`'s function in another machine: the same place. */
static const struct pcie_fn *port_of(struct cli_machine *m, uint16_t bdf)
{
    const struct pcie_fn *fn = pcie_fabric_find(scn_system_fabric(m->sys), bdf);
    const struct pcie_fn *p = fn ? pcie_fn_parent(fn) : NULL;
    while (p && pcie_fn_parent(p))
        p = pcie_fn_parent(p);
    return p;
}

static void run_fix(struct run_diag *d, const struct diag_finding *f)
{
    struct fix_run *x = &d->fix;
    x->done = true;
    snprintf(x->set, sizeof x->set, "%s.%s=%s", f->fix_target, f->fix_key, f->fix_value);
    char bdf[PCIE_FN_ADDR_LEN];
    pcie_fn_addr_str(f->sender.fn, bdf);
    log_facts(sim_log(d->m->sim), bdf, x->isr_before, sizeof x->isr_before,
              &x->fault_lines_before);
    struct diag_rec_totals t;
    diag_rec_totals(d->rec, &t);
    x->faults_before = t.faults;
    x->delivered_before = delivered(d->rec, port_of(d->m, f->sender.bdf));

    /* the same run, one --set more, no trace */
    struct cli_machine_opts o = d->opts ? *d->opts : (struct cli_machine_opts){0};
    const char *sets[65];
    unsigned n = 0;
    for (unsigned i = 0; d->opts && i < d->opts->nsets && n < 64; i++)
        sets[n++] = d->opts->sets[i];
    sets[n++] = x->set;
    o.sets = sets;
    o.nsets = n;
    o.trace = NULL;
    o.trace_format = NULL;
    o.vcd = NULL;
    o.count = false;
    o.set_refused = NULL;
    o.boot = true;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    struct cli_machine m2;
    if (cli_machine_up(&m2, d->scenario, &o, &err) < 0) {
        x->status = -1;
        pcilab_err_str(&err, x->error, sizeof x->error);
        return;
    }
    struct diag_rec *r2 = attach(&m2);
    sim_run_until(m2.sim, d->until);
    log_facts(sim_log(m2.sim), bdf, x->isr_after, sizeof x->isr_after, &x->fault_lines_after);
    if (r2) {
        diag_rec_totals(r2, &t);
        x->faults_after = t.faults;
        x->delivered_after = delivered(r2, port_of(&m2, f->sender.bdf));
    }
    diag_rec_destroy(r2);
    cli_machine_down(&m2);
}

static void analyse(struct run_diag *d)
{
    if (d->analysed || !d->rec)
        return;
    d->analysed = true;
    struct diag_machine dm;
    machine_view(d->m, d->watch, &d->fns, &d->nfns, &dm);
    struct pcilab_err err;
    if (diag_analyse(d->rec, &dm, &d->rep, &err) < 0)
        return;
    for (size_t i = 0; i < d->rep.n; i++)
        if (d->rep.findings[i].fix_param && d->rep.findings[i].sender.fn) {
            d->fix_for = (int)i;
            run_fix(d, &d->rep.findings[i]);
            break;
        }
}

/* ---- words ---- */

static const char *why_text(enum diag_flag_why w)
{
    switch (w) {
    case DIAG_WHY_WRITE: return "the TLP is a memory write (MWr)";
    case DIAG_WHY_READ: return "the TLP is a memory read (MRd)";
    case DIAG_WHY_DTE_PRESENT_NOPT:
        return "DTE valid (V=1), no page table (TV=0 or Mode 0)";
    case DIAG_WHY_PTE_PRESENT: return "the page table walk found a present entry";
    case DIAG_WHY_NOT_PRESENT: return "no present entry maps the page";
    case DIAG_WHY_DTE_NO_RIGHTS: return "the DTE's IR/IW refuse this access";
    case DIAG_WHY_PTE_NO_RIGHTS: return "the page's IR/IW refuse this access";
    case DIAG_WHY_NOT_PERM: return "not a permission fault";
    case DIAG_WHY_OTHER: return "see AMD 48882 2.5.3";
    case DIAG_WHY_NONE: break;
    }
    return "";
}

static const char *perm_words(bool r, bool w)
{
    return r && w ? "read/write" : r ? "read-only" : w ? "write-only" : "no access";
}

static void flags_str(uint16_t flags, char *buf, size_t len)
{
    static const char *const n[] = {"GN", "NX", "US", "I", "PR", "RW", "PE", "RZ", "TR"};
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 9; i++)
        if (flags & (1u << i))
            used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
                                     used ? "|" : "", n[i]);
    if (!buf[0])
        snprintf(buf, len, "none");
}

static void hex_bytes(const uint8_t *b, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i + 3 < n + 3 && i < n; i += 4) {
        uint32_t dw = (uint32_t)b[i] << 24 | (uint32_t)b[i + 1] << 16 | (uint32_t)b[i + 2] << 8 |
                      b[i + 3];
        used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%08x",
                                 used ? " " : "", dw);
    }
}

static void who(const struct run_diag *d, const struct pcie_fn *fn, char *buf, size_t len)
{
    if (!fn) {
        snprintf(buf, len, "no function");
        return;
    }
    const char *label = "";
    for (size_t i = 0; i < d->nfns; i++)
        if (d->fns[i].fn == fn && d->fns[i].label)
            label = d->fns[i].label;
    snprintf(buf, len, "%s%sthe %s", label, label[0] ? ", " : "",
             pcie_fn_kind_name(pcie_fn_kind(fn)));
}

static void dte_line(const struct diag_dte *t, char *buf, size_t len)
{
    const struct amdvi_dte *e = &t->dte;
    snprintf(buf, len, "V=%u TV=%u Mode=%u IR=%u IW=%u DomainID=%u%s", e->v, e->tv, e->mode,
             e->ir, e->iw, e->domain_id,
             !e->v ? ": untranslated"
             : (!e->tv || e->mode == 0) ? ": no page table"
                                        : ": page table");
}

static unsigned split_k(uint64_t addr, uint64_t bytes, unsigned mps)
{
    struct pcilab_err e;
    long k = pcie_split_write(addr, bytes, mps, 0, NULL, 0, &e);
    return k > 0 ? (unsigned)k : 0;
}

#define W 12 /* the label column */

static void line(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(const char *label, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("    %-*s", W, label);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* "12.345678" seconds */
static const char *secs(sim_time_t t, char *buf, size_t len)
{
    snprintf(buf, len, "%llu.%06llu", (unsigned long long)(t / SIM_S),
             (unsigned long long)(t % SIM_S / SIM_US));
    return buf;
}

/* The driver's mistake in its own words (iommu_diag.h enum diag_mistake). */
static const char *mistake_words(const struct diag_finding *f)
{
    switch (f->at_fault.mistake) {
    case DIAG_MISTAKE_UNMAPPED_IOVA: return "unmapped IOVA";
    case DIAG_MISTAKE_PHYS_ADDR: return "physical address used as DMA address";
    case DIAG_MISTAKE_DIRECTION:
        return f->sig.write ? "direction mismatch: write into DMA_TO_DEVICE"
                            : "direction mismatch: read of DMA_FROM_DEVICE";
    case DIAG_MISTAKE_USE_AFTER_UNMAP: return "use after unmap";
    case DIAG_MISTAKE_PAST_END: return "transfer beyond the end of the buffer";
    case DIAG_MISTAKE_NONE: break;
    }
    return NULL;
}

/* "00:03.0 (edu)": the requester and the driver of its mappings. */
static void dev_words(const struct diag_finding *f, char *buf, size_t len)
{
    char rid[8];
    pcie_bdf_str(f->sig.rid, rid);
    const char *drv = f->at_fault.has_map && f->at_fault.map.driver[0] ? f->at_fault.map.driver
                      : f->sender.label && f->sender.label[0]       ? f->sender.label
                                                                    : NULL;
    if (drv)
        snprintf(buf, len, "%s (%s)", rid, drv);
    else
        snprintf(buf, len, "%s", rid);
}

static const char *map_dir(const struct diag_dma_map *mp)
{
    return mp->coherent ? "coherent (dma_alloc_coherent)" : diag_dma_dir_name(mp->dir);
}

static bool mistake_verdict(const struct diag_finding *f, char *buf, size_t len)
{
    const struct diag_at_fault *a = &f->at_fault;
    const struct diag_dma_map *mp = &a->map;
    const char *dir = f->sig.write ? "write" : "read";
    char drv[64], dev[48], t[24];
    if (a->has_map && mp->driver[0])
        snprintf(drv, sizeof drv, "its driver (%s)", mp->driver);
    else
        snprintf(drv, sizeof drv, "its driver");
    dev_words(f, dev, sizeof dev);
    unsigned long long addr = (unsigned long long)f->sig.first_addr;
    switch (a->mistake) {
    case DIAG_MISTAKE_UNMAPPED_IOVA:
        snprintf(buf, len,
                 "Unmapped IOVA: %s %ss 0x%llx, an address its driver never mapped for it "
                 "(%zu of its mappings were live then); its domain %u has no page there.",
                 dev, dir, addr, a->nlive, f->sig.domain);
        return true;
    case DIAG_MISTAKE_PHYS_ADDR:
        snprintf(buf, len,
                 "Physical address used as DMA address: %s %ss 0x%llx, the physical address of "
                 "the buffer %s mapped at DMA address 0x%llx; behind the IOMMU the device must "
                 "be given the DMA handle, and domain %u does not map 0x%llx.",
                 dev, dir, addr, drv, (unsigned long long)mp->dma, f->sig.domain, addr);
        return true;
    case DIAG_MISTAKE_DIRECTION:
        snprintf(buf, len,
                 "Direction mismatch: %s %ss its buffer at 0x%llx, which %s mapped %s (the "
                 "device may only %s it): %s in domain %u's page table, so the %s faults.",
                 dev, dir, addr, drv, diag_dma_dir_name(mp->dir), f->sig.write ? "read" : "write",
                 perm_words(a->pt_read, a->pt_write), f->sig.domain, dir);
        return true;
    case DIAG_MISTAKE_USE_AFTER_UNMAP:
        snprintf(buf, len,
                 "Use after unmap: %s %ss 0x%llx after %s unmapped that buffer (%s, unmapped "
                 "at %s s); the IOMMU no longer maps it.",
                 dev, dir, addr, drv, map_dir(mp), secs(mp->unmapped, t, sizeof t));
        return true;
    case DIAG_MISTAKE_PAST_END:
        snprintf(buf, len,
                 "Transfer beyond the end of the buffer: %s's %s ran past the end of the "
                 "%llu-byte buffer %s mapped at 0x%llx, into 0x%llx, which is not mapped.",
                 dev, dir, (unsigned long long)mp->size, drv, (unsigned long long)mp->dma, addr);
        return true;
    case DIAG_MISTAKE_NONE:
        break;
    }
    return false;
}

static void category_verdict(const struct diag_finding *f, char *buf, size_t len)
{
    char rid[8], bdf[8];
    pcie_bdf_str(f->sig.rid, rid);
    const struct diag_sender *s = &f->sender;
    pcie_bdf_str(s->bdf, bdf);
    const char *dir = f->sig.write ? "write" : "read";
    switch (f->category) {
    case DIAG_REQUESTER_ID_MISMATCH:
        snprintf(buf, len,
                 "%s's %s engine puts %04x in its TLP headers, not its own ID %s; the "
                 "IOMMU looks up device %s, whose DTE %s, and refuses the %s.",
                 s->label[0] ? s->label : "the device", dir, f->sig.rid, bdf, rid,
                 f->dte.read && f->dte.dte.v && (!f->dte.dte.tv || !f->dte.dte.mode)
                     ? "has no translation"
                     : "does not map the address",
                 dir);
        break;
    case DIAG_MISSING_MAPPING:
        snprintf(buf, len, "%s %ss an address its domain %u does not map.", rid, dir,
                 f->sig.domain);
        break;
    case DIAG_PERMISSION:
        snprintf(buf, len, "%s %ss a page its domain %u maps without %s permission.", rid, dir,
                 f->sig.domain, dir);
        break;
    default:
        snprintf(buf, len, "%s: %s fault the diagnosis cannot attribute.", rid,
                 iommu_fault_kind_name(f->sig.kind));
        break;
    }
}

/* The finding in one sentence: the driver's mistake where the DMA API's
 * history names it, else the category's words. */
static void verdict(const struct diag_finding *f, char *buf, size_t len)
{
    if (!mistake_verdict(f, buf, len))
        category_verdict(f, buf, len);
}

/* Prints text wrapped at 78 columns with the given indent. */
static void wrap(const char *text, unsigned indent)
{
    const unsigned width = 78;
    const char *p = text;
    bool first = indent > 6; /* the caller printed the label column */
    while (*p) {
        size_t room = width - indent, n = strlen(p);
        if (n > room) {
            n = room;
            while (n > 0 && p[n] != ' ')
                n--;
            if (!n)
                n = room;
        }
        printf("%*s%.*s\n", first ? 0 : (int)indent, "", (int)n, p);
        first = false;
        p += n;
        while (*p == ' ')
            p++;
    }
}

/* The fix of the driver's mistake, NULL when none is named. */
static const char *mistake_fix(const struct diag_finding *f)
{
    switch (f->at_fault.mistake) {
    case DIAG_MISTAKE_UNMAPPED_IOVA:
        return "give the device only DMA addresses the DMA API returned for it "
               "(dma_map_single, dma_alloc_coherent ...), within their size, and keep them "
               "mapped while the device uses them.";
    case DIAG_MISTAKE_PHYS_ADDR:
        return "program the device with the dma_addr_t handle dma_map_single (or "
               "dma_alloc_coherent) returned, never a physical address (virt_to_phys, "
               "page_to_phys): behind an IOMMU the two differ.";
    case DIAG_MISTAKE_DIRECTION:
        return f->sig.write ? "map a buffer the device writes DMA_FROM_DEVICE, one it reads "
                              "and writes DMA_BIDIRECTIONAL."
                            : "map a buffer the device reads DMA_TO_DEVICE, one it reads and "
                              "writes DMA_BIDIRECTIONAL.";
    case DIAG_MISTAKE_USE_AFTER_UNMAP:
        return "stop the device's DMA and wait for its completion before dma_unmap_*; map "
               "the buffer again before the device uses it again.";
    case DIAG_MISTAKE_PAST_END:
        return "bound the transfer by the buffer's size, or map a buffer as large as the "
               "transfer.";
    case DIAG_MISTAKE_NONE:
        break;
    }
    return NULL;
}

/* The "Address" lines from the DMA API's history at the time of the first
 * fault; false when it names no mistake. */
static bool address_at_fault(const struct diag_finding *f, bool vtd)
{
    const struct diag_at_fault *a = &f->at_fault;
    const struct diag_dma_map *mp = &a->map;
    char t1[24], t2[24], t3[24];
    unsigned long long addr = (unsigned long long)f->sig.first_addr;
    const char *drv = a->has_map && mp->driver[0] ? mp->driver : "the driver";
    secs(a->at, t3, sizeof t3);
    if (a->has_map) {
        secs(mp->mapped, t1, sizeof t1);
        secs(mp->unmapped, t2, sizeof t2);
    }
    switch (a->mistake) {
    case DIAG_MISTAKE_USE_AFTER_UNMAP:
        line("Address", "0x%llx was mapped from %s s to %s s by %s", addr, t1, t2, drv);
        line("", "as %s (0x%llx+0x%llx -> phys 0x%llx):", map_dir(mp),
             (unsigned long long)mp->dma, (unsigned long long)mp->size,
             (unsigned long long)mp->phys);
        line("", "unmapped at %s s, before the device's access at %s s", t2, t3);
        return true;
    case DIAG_MISTAKE_DIRECTION:
        line("Address", "0x%llx was mapped %s by %s at %s s", addr, map_dir(mp), drv, t1);
        line("", "(0x%llx+0x%llx -> phys 0x%llx), live at the fault:",
             (unsigned long long)mp->dma, (unsigned long long)mp->size,
             (unsigned long long)mp->phys);
        line("", vtd ? "%s in the page table (R=%u W=%u), and the device %s"
                     : "%s in the page table (IR=%u IW=%u), and the device %s",
             perm_words(a->pt_read, a->pt_write), a->pt_read, a->pt_write,
             f->sig.write ? "wrote" : "read");
        line("", "at %s s", t3);
        return true;
    case DIAG_MISTAKE_PAST_END: {
        uint64_t past = f->sig.first_addr - (mp->dma + mp->size);
        char pb[40];
        if (past)
            snprintf(pb, sizeof pb, "0x%llx bytes", (unsigned long long)past);
        line("Address", "0x%llx is %s past the end of the buffer", addr,
             past ? pb : "the first byte");
        line("", "0x%llx+0x%llx that %s mapped %s at %s s", (unsigned long long)mp->dma,
             (unsigned long long)mp->size, drv, map_dir(mp), t1);
        line("", "(live at the fault): %llu bytes from 0x%llx faulted at",
             (unsigned long long)f->sig.bytes, addr);
        line("", "%s s, nothing is mapped there", t3);
        return true;
    }
    case DIAG_MISTAKE_PHYS_ADDR:
        line("Address", "0x%llx is the PHYSICAL address of the buffer %s mapped", addr, drv);
        line("", "%s at %s s: DMA address 0x%llx+0x%llx ->", map_dir(mp), t1,
             (unsigned long long)mp->dma, (unsigned long long)mp->size);
        line("", "phys 0x%llx, live at the fault; as an IOVA, 0x%llx is",
             (unsigned long long)mp->phys, addr);
        line("", "mapped in no DMA domain");
        return true;
    case DIAG_MISTAKE_UNMAPPED_IOVA:
        line("Address", "0x%llx was in none of the device's DMA mappings at %s s", addr, t3);
        line("", "(%zu live then; none covered it before either)", a->nlive);
        return true;
    case DIAG_MISTAKE_NONE:
        break;
    }
    return false;
}

/* AMD-Vi: the DTE, the event flags and the domain. */
static void print_amd(const struct diag_finding *f, const char *rid)
{
    char buf[512], tmp[256];
    /* the DTE */
    if (f->dte.read) {
        snprintf(tmp, sizeof tmp, "DTE %s", rid);
        dte_line(&f->dte, buf, sizeof buf);
        line(tmp, "%s", buf);
        line("", "at 0x%llx = device table 0x%llx + 32 x 0x%04x",
             (unsigned long long)f->dte.entry_pa, (unsigned long long)f->dte.table_pa,
             f->sig.rid);
        line("", "bits 127:0 %016llx %016llx", (unsigned long long)sim_get_le64(f->dte.raw + 8),
             (unsigned long long)sim_get_le64(f->dte.raw));
    } else if (f->dte.beyond) {
        line("DTE", "%s is beyond the device table (%u bytes)", rid, f->dte.table_size);
    }
    char fl[48];
    flags_str(f->sig.arch_flags, fl, sizeof fl);
    line("Flags", "0x%04x = %s (AMD 48882 2.5.3)", f->sig.arch_flags, fl);
    for (unsigned i = 0; i < DIAG_FLAG_BITS; i++) {
        const struct diag_flag_bit *b = &f->flags[i];
        if (!b->set)
            continue;
        line("", "%-2s bit %u: %s", b->name, b->bit, why_text(b->why));
    }
    if (f->dte.read)
        line("Domain", "0x%04x: DTE %s's DomainID%s", f->sig.domain, rid,
             f->dte.dte.domain_id == 0 ? " (0: in no driver's domain)" : "");
}

/* "PPF|PFO" for the status bits of FSTS (10.4.9). */
static void fsts_str(uint32_t v, char *buf, size_t len)
{
    static const char *const n[] = {"PFO", "PPF", "AFO", "APF", "IQE", "ICE", "ITE", "PRO"};
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 8; i++)
        if (v & (1u << i))
            used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
                                     used ? "|" : "", n[i]);
    if (!buf[0])
        snprintf(buf, len, "none");
}

/* The FSTS value dmar_fault printed ("DRHD: handling fault status reg 3"). */
static bool fsts_printed(const struct diag_finding *f, uint32_t *v)
{
    for (size_t i = 0; i < f->nevidence; i++) {
        const char *p = strstr(f->evidence[i], "handling fault status reg ");
        if (p) {
            *v = (uint32_t)strtoul(p + 26, NULL, 16);
            return true;
        }
    }
    return false;
}

static const char *tt_words(unsigned tt)
{
    switch (tt) {
    case VTD_TT_SLT: return "second-level tables";
    case VTD_TT_SLT_DEVTLB: return "second-level tables, device-TLB";
    case VTD_TT_PT: return "pass-through";
    }
    return "reserved";
}

/* Linux's rule for the rights of a page mapped for dir, per version
 * (docs/linux/intel-iommu.md e): why a DMA_TO_DEVICE page has no W and a
 * DMA_FROM_DEVICE page no R. */
static const char *vtd_rights_rule(const struct run_diag *d, enum dma_data_direction dir)
{
    const struct host_kver *kv = d->m->kernel ? d->m->kernel->kver : NULL;
    bool to = dir == DMA_TO_DEVICE;
    if (kv && kv->major == 4 && kv->minor == 9)
        return to ? "4.9.80 drivers/iommu/intel-iommu.c:3580 __intel_map_single: DMA_PTE_WRITE "
                    "only for DMA_FROM_DEVICE or DMA_BIDIRECTIONAL"
                  : "4.9.80 drivers/iommu/intel-iommu.c:3611 __intel_map_single: DMA_PTE_READ "
                    "only for DMA_TO_DEVICE or DMA_BIDIRECTIONAL, or on every page when "
                    "CAP.ZLR is clear";
    if (kv && kv->major == 4)
        return to ? "4.20 drivers/iommu/intel-iommu.c __intel_map_single: DMA_PTE_WRITE only "
                    "for DMA_FROM_DEVICE or DMA_BIDIRECTIONAL"
                  : "4.20 drivers/iommu/intel-iommu.c __intel_map_single: DMA_PTE_READ only "
                    "for DMA_TO_DEVICE or DMA_BIDIRECTIONAL, or on every page when CAP.ZLR is "
                    "clear";
    if (kv && kv->major == 5)
        return to ? "5.15 drivers/iommu/intel/iommu.c intel_iommu_map: DMA_PTE_WRITE only for "
                    "IOMMU_WRITE; drivers/iommu/dma-iommu.c dma_info_to_prot: DMA_TO_DEVICE -> "
                    "IOMMU_READ"
                  : "5.15 drivers/iommu/intel/iommu.c intel_iommu_map: DMA_PTE_READ only for "
                    "IOMMU_READ; drivers/iommu/dma-iommu.c dma_info_to_prot: DMA_FROM_DEVICE "
                    "-> IOMMU_WRITE";
    return to ? "6.1 drivers/iommu/intel/iommu.c:4259 intel_iommu_map: DMA_PTE_WRITE only "
                "for IOMMU_WRITE; drivers/iommu/dma-iommu.c dma_info_to_prot: "
                "DMA_TO_DEVICE -> IOMMU_READ"
              : "6.1 drivers/iommu/intel/iommu.c:4259 intel_iommu_map: DMA_PTE_READ only "
                "for IOMMU_READ; drivers/iommu/dma-iommu.c dma_info_to_prot: "
                "DMA_FROM_DEVICE -> IOMMU_WRITE";
}

/* The index of the finding's unit among the machine's DRHDs (table order,
 * Linux's dmar%d: alloc_iommu numbers them as it parses them), -1 unknown. */
static int unit_index(const struct run_diag *d, const struct diag_finding *f)
{
    const struct vtd *u = f->sig.unit ? f->sig.unit : d->vtd;
    for (size_t i = 0; i < scn_system_vtd_count(d->m->sys); i++)
        if (scn_system_vtd(d->m->sys, i) == u)
            return (int)i;
    return -1;
}

/* FPD in the entries that decide it: the context entry (legacy), or the
 * scalable-mode context, PASID directory or PASID entry (9.4-9.6). */
static bool fpd_set(const struct diag_vtd *v)
{
    if (!v->sm)
        return v->ctx_read && v->ctx.fpd;
    return (v->ctx_read && v->sm_ctx.fpd) || (v->pdir_read && v->pdir.fpd) ||
           (v->pasid_read && v->pe.fpd);
}

static const char *pgtt_words(unsigned pgtt)
{
    switch (pgtt) {
    case VTD_PGTT_FL: return "first-level tables";
    case VTD_PGTT_SL: return "second-level tables";
    case VTD_PGTT_NESTED: return "nested";
    case VTD_PGTT_PT: return "pass-through";
    }
    return "reserved";
}

/* Scalable mode: the 256-bit context entry, the PASID directory entry and
 * the PASID table entry of RID_PASID (VT-d 9.4-9.6). */
static void print_vtd_sm(const struct diag_finding *f, const struct diag_vtd *v, const char *rid)
{
    if (!v->ctx_read)
        return;
    const struct vtd_sm_context_entry *c = &v->sm_ctx;
    line("Context", "%s at 0x%llx = context table 0x%llx + 32 x 0x%02x", rid,
         (unsigned long long)v->ctx_pa, (unsigned long long)v->ctx_table, f->sig.rid & 0x7f);
    line("", "P=%u FPD=%u DTE=%u PASIDE=%u PRE=%u PDTS=%u RID_PASID=%u%s", c->p, c->fpd, c->dte,
         c->paside, c->pre, c->pdts, c->rid_pasid, c->p ? "" : ": not present");
    if (c->p)
        line("", "PASIDDIRPTR=0x%llx (%u entries)", (unsigned long long)c->pasiddirptr,
             vtd_pdts_entries(c->pdts));
    if (v->pdir_read) {
        line("PASID dir", "PASID %u: entry %u at 0x%llx = %016llx", v->pasid, v->pasid >> 6,
             (unsigned long long)v->pdir_pa, (unsigned long long)v->pdir_raw);
        line("", "P=%u FPD=%u SMPTBLPTR=0x%llx%s", v->pdir.p, v->pdir.fpd,
             (unsigned long long)v->pdir.smptblptr, v->pdir.p ? "" : ": not present");
    }
    if (!v->pasid_read)
        return;
    const struct vtd_pasid_entry *e = &v->pe;
    line("PASID entry", "%u at 0x%llx = PASID table 0x%llx + 64 x %u", v->pasid,
         (unsigned long long)v->pasid_pa, (unsigned long long)v->pdir.smptblptr,
         v->pasid & 0x3f);
    line("", "P=%u FPD=%u PGTT=%u AW=%u (%u-bit, %u levels) DID=%u", e->p, e->fpd, e->pgtt, e->aw,
         vtd_aw_bits(e->aw), vtd_aw_levels(e->aw), e->did);
    line("", "SLPTPTR=0x%llx%s%s", (unsigned long long)e->slptptr, e->p ? ": " : "",
         e->p ? pgtt_words(e->pgtt) : ": not present");
}

/* VT-d: the root and context entries, the walk, the reason and why, and
 * what the fault recording registers kept. */
static void print_vtd(const struct run_diag *d, const struct diag_finding *f)
{
    const struct diag_vtd *v = &f->vtd;
    char rid[8];
    pcie_bdf_str(f->sig.rid, rid);
    if (!v->read) {
        line("DMAR unit", "registers unreadable");
        return;
    }
    /* which DRHD: the sender's, by the platform's routing (iommu/router.h) */
    int ui = unit_index(d, f);
    const struct vtd *u = ui >= 0 ? scn_system_vtd(d->m->sys, (size_t)ui) : NULL;
    char who[PCIE_FN_ADDR_LEN];
    if (f->sender.fn)
        pcie_fn_addr_str(f->sender.fn, who);
    else
        snprintf(who, sizeof who, "0000:%s", rid);
    if (scn_system_vtd_count(d->m->sys) < 2)
        line("Unit", "DRHD at 0x%llx (dmar%d), the machine's only remapping unit",
             (unsigned long long)v->mmio_base, ui);
    else if (u && vtd_get_config(u)->include_pci_all)
        line("Unit", "DRHD at 0x%llx (dmar%d), INCLUDE_PCI_ALL: %s is in no other DRHD's scope",
             (unsigned long long)v->mmio_base, ui, who + 5);
    else
        line("Unit", "DRHD at 0x%llx (dmar%d), whose device scope covers %s",
             (unsigned long long)v->mmio_base, ui, who + 5);
    if (v->root_read) {
        line("Root entry", "bus %02x at 0x%llx = root table 0x%llx + 16 x 0x%02x%s",
             f->sig.rid >> 8, (unsigned long long)v->root_pa, (unsigned long long)v->root_table,
             f->sig.rid >> 8, v->sm ? " (scalable mode)" : "");
        if (v->sm)
            line("", "LP=%u LCTP=0x%llx UP=%u UCTP=0x%llx: devfn 0x%02x uses the %s half%s",
                 v->sm_root.lp, (unsigned long long)v->sm_root.lctp, v->sm_root.up,
                 (unsigned long long)v->sm_root.uctp, f->sig.rid & 0xff,
                 (f->sig.rid & 0xff) >= 0x80 ? "upper" : "lower",
                 ((f->sig.rid & 0xff) >= 0x80 ? v->sm_root.up : v->sm_root.lp)
                     ? ""
                     : ", not present");
        else
            line("", "P=%u CTP=0x%llx%s", v->root.p, (unsigned long long)v->root.ctp,
                 v->root.p ? "" : ": not present");
    } else if (!(v->gsts & VTD_GSTS_RTPS)) {
        line("Root entry", "no root table set (GSTS.RTPS=0)");
    }
    if (v->sm)
        print_vtd_sm(f, v, rid);
    else if (v->ctx_read) {
        line("Context", "%s at 0x%llx = context table 0x%llx + 16 x 0x%02x", rid,
             (unsigned long long)v->ctx_pa, (unsigned long long)v->ctx_table,
             f->sig.rid & 0xff);
        const struct vtd_context_entry *c = &v->ctx;
        line("", "P=%u FPD=%u TT=%u AW=%u (%u-bit, %u levels) DID=%u", c->p, c->fpd, c->tt,
             c->aw, vtd_aw_bits(c->aw), vtd_aw_levels(c->aw), c->did);
        line("", "SLPTPTR=0x%llx%s%s", (unsigned long long)c->slptptr, c->p ? ": " : "",
             c->p ? tt_words(c->tt) : ": not present");
        line("", "bits 127:0 %016llx %016llx",
             (unsigned long long)sim_get_le64(v->ctx_raw + 8),
             (unsigned long long)sim_get_le64(v->ctx_raw));
    }
    if (v->nlevels) {
        line("Walk", "0x%llx, %u levels (%s):", (unsigned long long)f->sig.first_addr,
             vtd_aw_levels(v->sm ? v->pe.aw : v->ctx.aw),
             f->sig.has_vtd ? "at the first fault" : "end of run");
        for (unsigned i = 0; i < v->nlevels; i++) {
            const struct diag_vtd_level *l = &v->lv[i];
            char what[64];
            if (!l->present)
                snprintf(what, sizeof what, "not present");
            else if (l->leaf)
                snprintf(what, sizeof what, "page 0x%llx", (unsigned long long)l->pte.addr);
            else
                snprintf(what, sizeof what, "table 0x%llx", (unsigned long long)l->pte.addr);
            line("", "L%u [%3u] at 0x%llx = %016llx R=%u W=%u -> %s", l->level, l->index,
                 (unsigned long long)l->entry_pa, (unsigned long long)l->raw, l->pte.r,
                 l->pte.w, what);
        }
    }
    bool has_sm = d->m->kernel && d->m->kernel->kver->vtd_msg_5x;
    enum vtd_linux_fault_type ty;
    line("Reason", "0x%02x \"%s\" (Linux)", f->sig.arch_code,
         vtd_fault_reason_linux(f->sig.arch_code, has_sm, &ty));
    line("", "VT-d 7.2: %s", vtd_fault_reason_name(f->sig.arch_code));
    switch (v->why) {
    case DIAG_VTD_WHY_NO_WRITE:
    case DIAG_VTD_WHY_NO_READ: {
        const struct diag_vtd_level *l = &v->lv[v->nlevels - 1];
        line("", "why: the leaf (L%u) has R=%u W=%u, the page is mapped", l->level, l->pte.r,
             l->pte.w);
        line("", "without %s permission", v->why == DIAG_VTD_WHY_NO_WRITE ? "write" : "read");
        enum dma_data_direction dir = f->at_fault.map.dir;
        if (f->at_fault.has_map &&
            ((v->why == DIAG_VTD_WHY_NO_WRITE && dir == DMA_TO_DEVICE) ||
             (v->why == DIAG_VTD_WHY_NO_READ && dir == DMA_FROM_DEVICE))) {
            line("", "because the driver mapped it %s:",
                 dir == DMA_TO_DEVICE ? "DMA_TO_DEVICE" : "DMA_FROM_DEVICE");
            printf("    %-*s", W, "");
            wrap(vtd_rights_rule(d, dir), 4 + W);
        }
        break;
    }
    case DIAG_VTD_WHY_NOT_PRESENT:
        line("", "why: L%u has R=0 W=0, no present entry maps the page;",
             v->nlevels ? v->lv[v->nlevels - 1].level : 0);
        if (v->sm)
            line("", "VT-d has no present bit: in scalable mode an unmapped page is reason %s",
                 f->sig.write ? "0x85 for writes" : "0x86 for reads");
        else
            line("", "VT-d has no present bit: an unmapped page is reason %s",
                 f->sig.write ? "5 for writes" : "6 for reads");
        break;
    case DIAG_VTD_WHY_NONE:
        break;
    default:
        line("", "why: %s", diag_vtd_why_name(v->why));
        break;
    }
    /* the fault recording registers (7.3.1, 10.4.14) */
    uint64_t lost = f->sig.count - f->sig.logged;
    line("Recording", "%llu of %llu fault%s recorded (VT-d 7.3.1); %u fault recording",
         (unsigned long long)f->sig.logged, (unsigned long long)f->sig.count,
         f->sig.count == 1 ? "" : "s", v->nfr);
    if (fpd_set(v))
        line("", "register%s (CAP.NFR=%u); %llu suppressed: FPD=1 in the context entry",
             v->nfr == 1 ? "" : "s", v->nfr - 1, (unsigned long long)lost);
    else if (lost)
        line("", "register%s (CAP.NFR=%u), still full: %llu lost (overflow, PFO)",
             v->nfr == 1 ? "" : "s", v->nfr - 1, (unsigned long long)lost);
    else
        line("", "register%s (CAP.NFR=%u)", v->nfr == 1 ? "" : "s", v->nfr - 1);
    uint32_t ks;
    char fs[48];
    if (v->frcd_read && f->sig.has_vtd)
        line("", "FRCD[%u]: F=%u FR=0x%02x SID=%04x T=%u (%s) FI=0x%llx", v->frcd_index,
             v->frcd.f, v->frcd.fr, v->frcd.sid, v->frcd.t1, v->frcd.t1 ? "read" : "write",
             (unsigned long long)v->frcd.fi);
    if (fsts_printed(f, &ks)) {
        fsts_str(ks, fs, sizeof fs);
        line("", "the kernel read FSTS 0x%x = %s at its fault interrupt", ks, fs);
    }
    fsts_str(v->fsts, fs, sizeof fs);
    line("", "FSTS 0x%x (%s) %s", v->fsts, fs,
         f->sig.has_vtd ? "at the first fault" : "after the run");
    struct vtd_stats st;
    vtd_get_stats(f->sig.unit ? f->sig.unit : d->vtd, &st);
    line("", "the unit, whole run: %llu recorded, %llu lost to overflow",
         (unsigned long long)st.faults_recorded, (unsigned long long)st.faults_dropped);
    if (v->sm && v->pasid_read && v->pe.p)
        line("Domain", "0x%04x: PASID entry %u's DID (%s)", f->sig.domain, v->pasid, rid);
    else if (!v->sm && v->ctx_read && v->ctx.p)
        line("Domain", "0x%04x: context entry %s's DID", f->sig.domain, rid);
}

static void print_finding(const struct run_diag *d, size_t idx, const struct diag_finding *f)
{
    char buf[512], rid[8], bdf[8], tmp[256];
    pcie_bdf_str(f->sig.rid, rid);
    printf("\n  [%zu] %s (confidence %s): %llu %s fault%s\n", idx + 1,
           diag_category_name(f->category), diag_confidence_name(f->confidence),
           (unsigned long long)f->sig.count, f->sig.write ? "write" : "read",
           f->sig.count == 1 ? "" : "s");
    verdict(f, buf, sizeof buf);
    wrap(buf, 6);
    printf("\n");

    line("Faults", "%llu TLPs in %llu transfers, %llu bytes", (unsigned long long)f->sig.count,
         (unsigned long long)f->sig.transfers, (unsigned long long)f->sig.bytes);
    line("", "first at %llu.%06llu s, last at %llu.%06llu s",
         (unsigned long long)(f->sig.first / SIM_S),
         (unsigned long long)(f->sig.first % SIM_S / SIM_US),
         (unsigned long long)(f->sig.last / SIM_S),
         (unsigned long long)(f->sig.last % SIM_S / SIM_US));
    for (size_t i = 0; i < f->nevidence; i++) {
        struct sim_log_rec r = {.ts = f->evidence_ts, .text = f->evidence[i],
                                .len = strlen(f->evidence[i])};
        char l[DIAG_TEXT_MAX + 32];
        sim_log_format(&r, l, sizeof l);
        l[strcspn(l, "\n")] = '\0';
        line(i ? "" : "Evidence", "%s", l);
    }
    if (f->log_lines)
        line("", "(%llu such line%s in the log)", (unsigned long long)f->log_lines,
             f->log_lines == 1 ? "" : "s");

    /* the TLP */
    pcie_tlp_summary(&f->sig.tlp, tmp, sizeof tmp);
    line("TLP", "%s", tmp);
    hex_bytes(f->sig.hdr, f->sig.hdr_len, tmp, sizeof tmp);
    line("", "%u DW header: %s", pcie_tlp_header_dw(&f->sig.tlp), tmp);
    line("", "Fmt %u%u%ub Type %02xh, RID %04x, tag 0x%02x, %u DW at 0x%llx",
         (f->sig.tlp.fmt >> 2) & 1, (f->sig.tlp.fmt >> 1) & 1, f->sig.tlp.fmt & 1,
         f->sig.tlp.type, f->sig.tlp.requester_id, f->sig.tlp.tag, f->sig.tlp.length,
         (unsigned long long)f->sig.tlp.addr);

    /* who */
    who(d, f->named, tmp, sizeof tmp);
    line("Requester", "%04x = %s names %s%s", f->sig.rid, rid, tmp,
         f->named_is_host_bridge ? " (no DMA master)" : "");
    if (f->sender.fn && f->sender.bdf != f->sig.rid) {
        pcie_bdf_str(f->sender.bdf, bdf);
        line("", "not the device at its real BDF %s", bdf);
    }
    const struct diag_sender *s = &f->sender;
    if (s->fn) {
        char port[8];
        pcie_bdf_str(s->bdf, bdf);
        if (s->ingress) {
            pcie_bdf_str(pcie_fn_bdf(s->ingress), port);
            line("Sent by", "%s %s%s%s%s, only endpoint below root port %s", bdf,
                 s->label[0] ? s->label : pcie_fn_name(s->fn), s->model[0] ? " (" : "",
                 s->model, s->model[0] ? ")" : "", port);
        } else {
            /* the root bus: no port tells the origin, the ID names the RCiEP */
            line("Sent by", "%s %s%s%s%s, the RCiEP its requester ID names", bdf,
                 s->label[0] ? s->label : pcie_fn_name(s->fn), s->model[0] ? " (" : "",
                 s->model, s->model[0] ? ")" : "");
            line("", "(root bus: no root port to tell it by; its ID is its BDF)");
        }
        if (s->engine_key)
            line("", "its %s=%s builds this header", s->engine_key, s->engine_value);
    } else if (s->candidates > 1) {
        line("Sent by", "one of %zu functions below the root port", s->candidates);
    }

    if (d->vtd)
        print_vtd(d, f);
    else
        print_amd(f, rid);

    /* the address: at the time of the fault (the DMA API's history), then
     * the page tables after the run */
    bool at = address_at_fault(f, d->vtd != NULL);
    if (f->owner.nmaps) {
        for (size_t i = 0; i < f->owner.nmaps; i++) {
            const struct host_amd_iommu_mapping *mp = &f->owner.map[i];
            size_t used = 0;
            buf[0] = '\0';
            for (size_t j = 0; j < f->owner.ndevids[i]; j++) {
                char b[8];
                pcie_bdf_str(f->owner.devids[i][j], b);
                used += (size_t)snprintf(buf + used, used < sizeof buf ? sizeof buf - used : 0,
                                         "%s%s", j ? " " : "", b);
            }
            line(i || at ? "" : "Address", "0x%llx is mapped %s in domain %u -> PA 0x%llx%s",
                 (unsigned long long)f->sig.first_addr, perm_words(mp->ir, mp->iw),
                 mp->domain_id, (unsigned long long)mp->pa, at ? " (end of run)" : "");
            line("", "domain %u holds %s", mp->domain_id, buf);
        }
        if (f->owner_has_sender)
            line("", "so the address is %s's own DMA buffer mapping", bdf);
    } else if (d->m->kernel && !at) {
        line("Address", "0x%llx is mapped in no DMA domain", (unsigned long long)f->sig.first_addr);
    }

    /* the sender's correct traffic under its real ID: only when the ID
     * seen is not its own */
    bool other_id = s->fn && s->bdf != f->sig.rid;
    if (!other_id) {
        /* nothing: the faulting ID is the sender's own */
    } else if (s->has_reads && !f->sig.write) {
        /* nothing: this finding is about reads */
    } else if (s->has_reads) {
        const struct diag_stream *r = &s->reads;
        char pr[4];
        line("Reads", "%s's MRds carry %s: %llu translated, %llu faulted%s", bdf, bdf,
             (unsigned long long)r->ok, (unsigned long long)r->faults, r->any_ok ? "," : "");
        if (r->any_ok)
            line("", "in domain %u with rights %s: the device's own DTE maps its buffer",
                 r->ok_domain, iommu_perm_str(r->ok_perm, pr));
    }
    if (other_id && s->own_dte.read) {
        snprintf(tmp, sizeof tmp, "DTE %s", bdf);
        dte_line(&s->own_dte, buf, sizeof buf);
        line(tmp, "%s", buf);
    }
    unsigned shown = 0;
    for (size_t i = 0; i < d->rep.nclean; i++) {
        const struct diag_clean *c = &d->rep.clean[i];
        if (s->fn && c->st.rid == s->bdf)
            continue;
        char cb[8], pr[4];
        pcie_bdf_str(c->st.rid, cb);
        /* page_shift 64: the IOMMU let it through untranslated (translation
         * off on its unit, AMD-Vi DTE V=0 / TV=0) */
        bool through = c->st.ok_page_shift == 64;
        line(shown++ ? "" : "Others", "%s %s%s%s%s: RID %s its BDF, %llu %s TLPs %s", cb,
             c->label, c->model[0] ? " (" : "", c->model, c->model[0] ? ")" : "",
             c->rid_is_own_bdf ? "=" : "!=", (unsigned long long)c->st.ok,
             c->st.write ? "write" : "read", through ? "passed" : "translated");
        if (through)
            line("", "untranslated (no translation for them), no fault");
        else
            line("", "in domain %u (%s), no fault", c->st.ok_domain,
                 iommu_perm_str(c->st.ok_perm, pr));
    }

    /* the split */
    const struct diag_split *sp = &f->split;
    if (sp->mps && f->sig.write) {
        line("Payload", "%llu bytes per transfer at MPS %u: %u TLP%s each, all fault",
             (unsigned long long)sp->bytes_per_transfer, sp->mps, sp->tlps_per_transfer,
             sp->tlps_per_transfer == 1 ? "" : "s");
        line("", "(%ld by the split at MPS and 4 KiB, PCIe 5.0 2.2.2, 2.2.7);",
             sp->tlps_expected);
        line("", "512 bytes would be %u TLPs, 8192 bytes %u: one fault each",
             split_k(f->sig.first_addr & ~0xfffull, 512, sp->mps),
             split_k(f->sig.first_addr & ~0xfffull, 8192, sp->mps));
    }

    /* the fixes */
    if (f->category == DIAG_REQUESTER_ID_MISMATCH) {
        printf("    %-*s", W, "Fix");
        wrap("in the device's logic, build every TLP header with the Bus and Device Number "
             "captured from Type 0 configuration writes (PCIe 5.0 2.2.6.2) and the "
             "function's own number, as its other engines do.",
             4 + W);
        if (f->fix_param)
            line("", "in pcilab: --set %s.%s=%s", f->fix_target, f->fix_key, f->fix_value);
        printf("    %-*s", W, "Not a fix");
        wrap("iommu=off only hides it: no translation means no isolation, and without "
             "interrupt remapping the board gets 1 MSI vector. iommu=pt does not help: the "
             "requester ID names a function in no driver's domain, so its entry still "
             "refuses the write (see Configuration).",
             4 + W);
    } else if (mistake_fix(f)) {
        printf("    %-*s", W, "Fix");
        wrap(mistake_fix(f), 4 + W);
    } else if (f->category == DIAG_MISSING_MAPPING) {
        printf("    %-*s", W, "Fix");
        wrap("map the buffer with the DMA API for this device before the device uses it, "
             "and keep it mapped while it does.", 4 + W);
    } else if (f->category == DIAG_PERMISSION) {
        printf("    %-*s", W, "Fix");
        wrap("map with the direction the device uses (DMA_FROM_DEVICE for device writes, "
             "DMA_BIDIRECTIONAL for both).", 4 + W);
    }
}

static void print_fix(const struct run_diag *d)
{
    const struct fix_run *x = &d->fix;
    if (!x->done)
        return;
    printf("\n  The fix, shown by running it again with --set %s:\n", x->set);
    if (x->status < 0) {
        printf("    the re-run failed: %s\n", x->error);
        return;
    }
    printf("    %-22s %18s %18s\n", "", "before", "after");
    printf("    %-22s %18llu %18llu\n", "IOMMU faults", (unsigned long long)x->faults_before,
           (unsigned long long)x->faults_after);
    printf("    %-22s %18llu %18llu\n", "fault lines in the log",
           (unsigned long long)x->fault_lines_before, (unsigned long long)x->fault_lines_after);
    printf("    %-22s %12llu bytes %12llu bytes\n", "data delivered",
           (unsigned long long)x->delivered_before, (unsigned long long)x->delivered_after);
    const char *b = strstr(x->isr_before, "DMA done:");
    const char *a = strstr(x->isr_after, "DMA done:");
    printf("    %-22s %s\n", "ISR printed before", b ? b : "(nothing)");
    printf("    %-22s %s\n", "ISR printed after", a ? a : "(nothing)");
}

void run_diag_print(struct run_diag *d)
{
    if (!d)
        return;
    analyse(d);
    if (!d->rec) {
        printf("\nDiagnosis: no IOMMU in this machine\n");
        return;
    }
    if (!d->rep.n) {
        printf("\nDiagnosis: no IOMMU faults\n");
        return;
    }
    printf("\nDiagnosis: %llu IOMMU fault%s, %zu signature%s\n",
           (unsigned long long)d->rep.totals.faults, d->rep.totals.faults == 1 ? "" : "s",
           d->rep.n, d->rep.n == 1 ? "" : "s");
    for (size_t i = 0; i < d->rep.n; i++) {
        char v[512];
        verdict(&d->rep.findings[i], v, sizeof v);
        printf("  [%zu] %s: ", i + 1, diag_category_name(d->rep.findings[i].category));
        char rid[8];
        pcie_bdf_str(d->rep.findings[i].sig.rid, rid);
        const char *mw = mistake_words(&d->rep.findings[i]);
        printf("%llu x %s from %s at 0x%llx%s%s%s\n",
               (unsigned long long)d->rep.findings[i].sig.count,
               d->rep.findings[i].sig.write ? "write" : "read", rid,
               (unsigned long long)d->rep.findings[i].sig.first_addr, mw ? " (" : "",
               mw ? mw : "", mw ? ")" : "");
    }
    for (size_t i = 0; i < d->rep.n; i++)
        print_finding(d, i, &d->rep.findings[i]);
    print_fix(d);
}

/* ---- JSON ---- */

static json_t *bdf_json(uint16_t bdf)
{
    char b[8];
    return json_string(pcie_bdf_str(bdf, b));
}

static json_t *dte_json(const struct diag_dte *t)
{
    if (!t->read)
        return json_null();
    const struct amdvi_dte *e = &t->dte;
    char raw[80];
    hex_bytes(t->raw, AMDVI_DTE_SIZE, raw, sizeof raw);
    return json_pack("{s:I, s:s, s:b, s:b, s:i, s:I, s:b, s:b, s:i, s:b, s:i}", "address",
                     (json_int_t)t->entry_pa, "raw", raw, "V", e->v, "TV", e->tv, "Mode",
                     e->mode, "PageTableRoot", (json_int_t)e->pt_root, "IR", e->ir, "IW", e->iw,
                     "DomainID", e->domain_id, "IV", e->iv, "IntCtl", e->int_ctl);
}

/* Scalable mode: context_entry (the 256-bit one), pasid_dir_entry and
 * pasid_entry; root_entry is written by the caller (its raw bytes). */
static void vtd_json_sm(const struct diag_vtd *v, json_t *o)
{
    const struct vtd_sm_context_entry *c = &v->sm_ctx;
    json_object_set_new(
        o, "context_entry",
        v->ctx_read ? json_pack("{s:I, s:b, s:b, s:b, s:b, s:b, s:i, s:I, s:i}", "address",
                                (json_int_t)v->ctx_pa, "P", c->p, "FPD", c->fpd, "DTE", c->dte,
                                "PASIDE", c->paside, "PRE", c->pre, "PDTS", c->pdts,
                                "PASIDDIRPTR", (json_int_t)c->pasiddirptr, "RID_PASID",
                                (int)c->rid_pasid)
                    : json_null());
    json_object_set_new(o, "pasid_dir_entry",
                        v->pdir_read ? json_pack("{s:i, s:I, s:I, s:b, s:b, s:I}", "pasid",
                                                 (int)v->pasid, "address",
                                                 (json_int_t)v->pdir_pa, "raw",
                                                 (json_int_t)v->pdir_raw, "P", v->pdir.p, "FPD",
                                                 v->pdir.fpd, "SMPTBLPTR",
                                                 (json_int_t)v->pdir.smptblptr)
                                     : json_null());
    const struct vtd_pasid_entry *e = &v->pe;
    json_object_set_new(o, "pasid_entry",
                        v->pasid_read
                            ? json_pack("{s:I, s:b, s:b, s:i, s:i, s:i, s:I}", "address",
                                        (json_int_t)v->pasid_pa, "P", e->p, "FPD", e->fpd,
                                        "PGTT", e->pgtt, "AW", e->aw, "DID", e->did, "SLPTPTR",
                                        (json_int_t)e->slptptr)
                            : json_null());
}

/* The VT-d keys of a finding (docs/run-json.md). */
static void vtd_json(const struct run_diag *d, const struct diag_finding *f, json_t *o)
{
    const struct diag_vtd *v = &f->vtd;
    bool has_sm = d->m->kernel && d->m->kernel->kver->vtd_msg_5x;
    enum vtd_linux_fault_type ty;
    char raw[80];
    json_object_set_new(o, "unit", json_pack("{s:I, s:i}", "base", (json_int_t)v->mmio_base,
                                             "index", unit_index(d, f)));
    json_object_set_new(o, "reason", json_integer(f->sig.arch_code));
    json_object_set_new(o, "reason_linux", json_string(vtd_fault_reason_linux(f->sig.arch_code,
                                                                              has_sm, &ty)));
    json_object_set_new(o, "reason_spec", json_string(vtd_fault_reason_name(f->sig.arch_code)));
    json_object_set_new(o, "why", json_string(v->why == DIAG_VTD_WHY_NONE
                                                  ? ""
                                                  : diag_vtd_why_name(v->why)));
    json_object_set_new(o, "tables_at", json_string(f->sig.has_vtd ? "first-fault" : "end-of-run"));
    if (v->root_read) {
        /* bits 127:64 then 63:0, as the text */
        snprintf(raw, sizeof raw, "%016llx %016llx",
                 (unsigned long long)sim_get_le64(v->root_raw + 8),
                 (unsigned long long)sim_get_le64(v->root_raw));
        json_object_set_new(o, "root_entry",
                            json_pack("{s:I, s:I, s:s, s:b, s:I}", "table",
                                      (json_int_t)v->root_table, "address",
                                      (json_int_t)v->root_pa, "raw", raw, "P", v->root.p, "CTP",
                                      (json_int_t)v->root.ctp));
    } else {
        json_object_set_new(o, "root_entry", json_null());
    }
    json_object_set_new(o, "scalable_mode", json_boolean(v->sm));
    if (v->sm) {
        vtd_json_sm(v, o);
    } else if (v->ctx_read) {
        snprintf(raw, sizeof raw, "%016llx %016llx",
                 (unsigned long long)sim_get_le64(v->ctx_raw + 8),
                 (unsigned long long)sim_get_le64(v->ctx_raw));
        json_object_set_new(
            o, "context_entry",
            json_pack("{s:I, s:s, s:b, s:b, s:i, s:i, s:i, s:I}", "address",
                      (json_int_t)v->ctx_pa, "raw", raw, "P", v->ctx.p, "FPD", v->ctx.fpd, "TT",
                      v->ctx.tt, "AW", v->ctx.aw, "DID", v->ctx.did, "SLPTPTR",
                      (json_int_t)v->ctx.slptptr));
    } else {
        json_object_set_new(o, "context_entry", json_null());
    }
    json_t *walk = json_array();
    for (unsigned i = 0; i < v->nlevels; i++) {
        const struct diag_vtd_level *l = &v->lv[i];
        json_array_append_new(walk, json_pack("{s:i, s:i, s:I, s:I, s:b, s:b, s:b, s:I}", "level",
                                              l->level, "index", l->index, "address",
                                              (json_int_t)l->entry_pa, "raw", (json_int_t)l->raw,
                                              "R", l->pte.r, "W", l->pte.w, "leaf", l->leaf,
                                              "next", (json_int_t)l->pte.addr));
    }
    json_object_set_new(o, "walk", walk);
    struct vtd_stats st;
    vtd_get_stats(f->sig.unit ? f->sig.unit : d->vtd, &st);
    uint32_t ks = 0;
    bool kp = fsts_printed(f, &ks);
    json_object_set_new(
        o, "recording",
        json_pack("{s:I, s:I, s:i, s:I, s:o, s:I, s:I, s:b}", "recorded",
                  (json_int_t)f->sig.logged, "not_recorded",
                  (json_int_t)(f->sig.count - f->sig.logged), "nfr", v->nfr, "fsts",
                  (json_int_t)v->fsts, "fsts_printed", kp ? json_integer(ks) : json_null(),
                  "unit_recorded", (json_int_t)st.faults_recorded, "unit_overflowed",
                  (json_int_t)st.faults_dropped, "fpd", fpd_set(v)));
}

static json_t *finding_json(const struct run_diag *d, size_t idx)
{
    const struct diag_finding *f = &d->rep.findings[idx];
    const struct diag_sender *s = &f->sender;
    char v[512], fl[48];
    verdict(f, v, sizeof v);
    flags_str(f->sig.arch_flags, fl, sizeof fl);
    json_t *o = json_object();
    json_object_set_new(o, "category", json_string(diag_category_name(f->category)));
    json_object_set_new(o, "confidence", json_string(diag_confidence_name(f->confidence)));
    json_object_set_new(o, "summary", json_string(v));
    json_object_set_new(o, "requester", bdf_json(f->sig.rid));
    json_object_set_new(o, "requester_names",
                        json_string(f->named ? pcie_fn_kind_name(pcie_fn_kind(f->named)) : ""));
    json_object_set_new(o, "direction", json_string(f->sig.write ? "write" : "read"));
    json_object_set_new(o, "count", json_integer((json_int_t)f->sig.count));
    json_object_set_new(o, "transfers", json_integer((json_int_t)f->sig.transfers));
    json_object_set_new(o, "bytes", json_integer((json_int_t)f->sig.bytes));
    json_object_set_new(o, "first_ps", json_integer((json_int_t)f->sig.first));
    json_object_set_new(o, "last_ps", json_integer((json_int_t)f->sig.last));
    json_object_set_new(o, "address", json_integer((json_int_t)f->sig.first_addr));
    json_object_set_new(o, "domain", json_integer(f->sig.domain));
    json_object_set_new(o, "event", json_string(d->vtd ? "DMA remapping fault"
                                                       : amdvi_event_name(f->sig.arch_code)));
    json_object_set_new(o, "flags", json_integer(f->sig.arch_flags));
    json_object_set_new(o, "flags_decoded", json_string(fl));
    json_t *bits = json_array();
    for (unsigned i = 0; i < DIAG_FLAG_BITS; i++)
        if (f->flags[i].set)
            json_array_append_new(bits, json_pack("{s:s, s:i, s:s}", "name", f->flags[i].name,
                                                  "bit", f->flags[i].bit, "why",
                                                  why_text(f->flags[i].why)));
    json_object_set_new(o, "flag_bits", bits);
    json_t *tlp = pcie_tlp_to_json(&f->sig.tlp);
    char hdr[64];
    hex_bytes(f->sig.hdr, f->sig.hdr_len, hdr, sizeof hdr);
    if (tlp) {
        json_object_set_new(tlp, "header", json_string(hdr));
        json_object_set_new(o, "tlp", tlp);
    }
    json_object_set_new(o, "dte", dte_json(&f->dte));
    if (d->vtd)
        vtd_json(d, f, o);
    json_t *snd = json_object();
    if (s->fn) {
        json_object_set_new(snd, "bdf", bdf_json(s->bdf));
        json_object_set_new(snd, "label", json_string(s->label));
        json_object_set_new(snd, "model", json_string(s->model));
        /* the root bus (an RCiEP): no root port */
        json_object_set_new(snd, "ingress",
                            s->ingress ? bdf_json(pcie_fn_bdf(s->ingress)) : json_null());
        if (s->engine_key)
            json_object_set_new(snd, "param", json_pack("{s:s, s:s}", "key", s->engine_key,
                                                        "value", s->engine_value));
        json_object_set_new(snd, "dte", dte_json(&s->own_dte));
        if (s->has_reads)
            json_object_set_new(snd, "reads",
                                json_pack("{s:I, s:I, s:i}", "translated", (json_int_t)s->reads.ok,
                                          "faulted", (json_int_t)s->reads.faults, "domain",
                                          s->reads.ok_domain));
        json_object_set_new(snd, "mps", json_integer(s->mps));
    }
    json_object_set_new(o, "sender", snd);
    json_t *own = json_array();
    for (size_t i = 0; i < f->owner.nmaps; i++) {
        json_t *devs = json_array();
        for (size_t j = 0; j < f->owner.ndevids[i]; j++)
            json_array_append_new(devs, bdf_json(f->owner.devids[i][j]));
        json_array_append_new(own, json_pack("{s:i, s:I, s:b, s:b, s:o}", "domain",
                                             f->owner.map[i].domain_id, "pa",
                                             (json_int_t)f->owner.map[i].pa, "IR",
                                             f->owner.map[i].ir, "IW", f->owner.map[i].iw,
                                             "devices", devs));
    }
    json_object_set_new(o, "address_owner", own);
    const struct diag_at_fault *af = &f->at_fault;
    if (af->known) { /* (the seed's requester-ID findings keep their fields) */
        json_object_set_new(o, "mistake", json_string(diag_mistake_name(af->mistake)));
        json_t *atj = json_pack("{s:s, s:I, s:I}", "mistake", diag_mistake_name(af->mistake),
                                "time_ps", (json_int_t)af->at, "live_mappings",
                                (json_int_t)af->nlive);
        if (af->has_map)
            json_object_set_new(
                atj, "mapping",
                json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:b, s:I, s:o, s:b, s:b}", "driver",
                          af->map.driver, "device", af->map.device, "dma",
                          (json_int_t)af->map.dma, "size", (json_int_t)af->map.size, "phys",
                          (json_int_t)af->map.phys, "direction", diag_dma_dir_name(af->map.dir),
                          "coherent", af->map.coherent, "mapped_ps", (json_int_t)af->map.mapped,
                          "unmapped_ps",
                          af->map.live ? json_null() : json_integer((json_int_t)af->map.unmapped),
                          "IR", af->pt_read, "IW", af->pt_write));
        json_object_set_new(o, "at_fault", atj);
    }
    json_object_set_new(o, "split",
                        json_pack("{s:I, s:i, s:i, s:I}", "bytes_per_transfer",
                                  (json_int_t)f->split.bytes_per_transfer, "mps", f->split.mps,
                                  "tlps_per_transfer", f->split.tlps_per_transfer,
                                  "tlps_computed", (json_int_t)f->split.tlps_expected));
    json_t *ev = json_array();
    for (size_t i = 0; i < f->nevidence; i++)
        json_array_append_new(ev, json_string(f->evidence[i]));
    json_object_set_new(o, "evidence", ev);
    json_t *fixes = json_array();
    if (f->category == DIAG_REQUESTER_ID_MISMATCH) {
        json_array_append_new(fixes, json_string("device logic: build every TLP header with the "
                                                 "captured Bus/Device Number (PCIe 5.0 2.2.6.2)"));
        if (f->fix_param) {
            char set[160];
            snprintf(set, sizeof set, "--set %s.%s=%s", f->fix_target, f->fix_key, f->fix_value);
            json_array_append_new(fixes, json_string(set));
        }
    } else if (mistake_fix(f)) {
        json_array_append_new(fixes, json_string(mistake_fix(f)));
    } else if (f->category == DIAG_MISSING_MAPPING) {
        json_array_append_new(fixes, json_string("map the buffer with the DMA API before use"));
    } else if (f->category == DIAG_PERMISSION) {
        json_array_append_new(fixes, json_string("map with the direction the device uses"));
    }
    json_object_set_new(o, "fixes", fixes);
    if (d->fix_for == (int)idx && d->fix.done && d->fix.status == 0) {
        const struct fix_run *x = &d->fix;
        json_object_set_new(
            o, "verified",
            json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s}", "set", x->set, "faults_before",
                      (json_int_t)x->faults_before, "faults_after", (json_int_t)x->faults_after,
                      "delivered_before", (json_int_t)x->delivered_before, "delivered_after",
                      (json_int_t)x->delivered_after, "isr_before", x->isr_before, "isr_after",
                      x->isr_after));
    }
    return o;
}

json_t *run_diag_json(struct run_diag *d)
{
    if (!d)
        return NULL;
    analyse(d);
    json_t *a = json_array();
    for (size_t i = 0; a && i < d->rep.n; i++)
        json_array_append_new(a, finding_json(d, i));
    return a;
}

void run_diag_end(struct run_diag *d)
{
    if (!d)
        return;
    diag_rec_destroy(d->rec);
    diag_report_free(&d->rep);
    free(d->fns);
    free(d);
}
