/* pcilab explain's analysis: records -> context and fault signatures ->
 * findings (explain.h; the rules are listed in docs/explain.md). */
#include "diag/explain.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/amdvi_fmt.h"

#define PAGE_SHIFT_4K 12
#define PAGES_PER_KEY 1    /* signatures of one key (other pages make it a pattern) */
#define PEND_MAX 2048      /* a partial record waiting for its rest */
#define PEND_PIECES 4

struct explain {
    struct explain_opts o;
    struct explain_ctx ctx;
    struct explain_counts counts;
    struct explain_sig *sig;
    size_t nsig;
    size_t last_hit;
    struct explain_line *evidence; /* max_sigs * max_evidence */
    struct explain_unrec_line *unrec;
    size_t nunrec;
    /* a KMSG_PARTIAL record waiting for the next one */
    char pend[PEND_MAX];
    size_t pend_len;
    unsigned pend_pieces;
    struct explain_src pend_src;
    char join[PEND_MAX * 2 + 2];
    /* findings */
    struct explain_finding *find;
    size_t nfind;
};

/* ---- small helpers ---- */

static void sfmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sfmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

static void sapp(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sapp(char *buf, size_t len, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, len - n, fmt, ap);
    va_end(ap);
}

static void scopy(char *dst, size_t len, const char *src, size_t srclen)
{
    if (!len)
        return;
    size_t n = srclen < len - 1 ? srclen : len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *bdf_str(uint16_t bdf, char *buf, size_t len)
{
    sfmt(buf, len, "%02x:%02x.%x", bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7);
    return buf;
}

const char *explain_fix_kind_name(enum explain_fix_kind k)
{
    switch (k) {
    case EXPLAIN_FIX_DRIVER: return "driver";
    case EXPLAIN_FIX_DEVICE_LOGIC: return "device-logic";
    case EXPLAIN_FIX_KERNEL_PARAMETER: return "kernel-parameter";
    case EXPLAIN_FIX_PCI_QUIRK: return "pci-quirk";
    case EXPLAIN_FIX_FIRMWARE: return "firmware";
    }
    return "driver";
}

const char *explain_req_role_name(enum explain_req_role r)
{
    switch (r) {
    case EXPLAIN_REQ_UNKNOWN: return "unknown";
    case EXPLAIN_REQ_HOST_BRIDGE: return "host bridge";
    case EXPLAIN_REQ_ROOT_PORT: return "root port";
    case EXPLAIN_REQ_BRIDGE: return "bridge";
    case EXPLAIN_REQ_IOMMU: return "iommu";
    case EXPLAIN_REQ_ENDPOINT: return "endpoint";
    case EXPLAIN_REQ_NO_DEVICE: return "no device";
    }
    return "unknown";
}

/* ---- create / destroy ---- */

struct explain *explain_create(const struct explain_opts *opts)
{
    struct explain *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (opts)
        e->o = *opts;
    if (!e->o.max_sigs)
        e->o.max_sigs = 64;
    if (!e->o.max_evidence)
        e->o.max_evidence = 6;
    if (!e->o.max_unrecognised)
        e->o.max_unrecognised = 5;
    e->sig = calloc(e->o.max_sigs, sizeof *e->sig);
    e->evidence = calloc(e->o.max_sigs * e->o.max_evidence, sizeof *e->evidence);
    e->unrec = calloc(e->o.max_unrecognised, sizeof *e->unrec);
    if (!e->sig || !e->evidence || !e->unrec) {
        explain_destroy(e);
        return NULL;
    }
    for (size_t i = 0; i < e->o.max_sigs; i++)
        e->sig[i].evidence = e->evidence + i * e->o.max_evidence;
    return e;
}

void explain_destroy(struct explain *e)
{
    if (!e)
        return;
    free(e->sig);
    free(e->evidence);
    free(e->unrec);
    free(e->find);
    free(e);
}

/* ---- context ---- */

static struct explain_dev *ctx_dev(struct explain *e, uint16_t seg, uint16_t bdf, uint64_t line,
                                   bool create)
{
    struct explain_ctx *c = &e->ctx;
    for (size_t i = 0; i < c->ndev; i++)
        if (c->dev[i].segment == seg && c->dev[i].bdf == bdf)
            return &c->dev[i];
    if (!create)
        return NULL;
    if (c->ndev == EXPLAIN_MAX_DEVS) {
        c->dev_dropped++;
        return NULL;
    }
    struct explain_dev *d = &c->dev[c->ndev++];
    memset(d, 0, sizeof *d);
    d->segment = seg;
    d->bdf = bdf;
    d->first_line = line;
    return d;
}

static const struct explain_dev *ctx_dev_find(const struct explain *e, uint16_t seg, uint16_t bdf)
{
    for (size_t i = 0; i < e->ctx.ndev; i++)
        if (e->ctx.dev[i].segment == seg && e->ctx.dev[i].bdf == bdf)
            return &e->ctx.dev[i];
    return NULL;
}

/* The names dev_printk gives that are not a device driver doing DMA: the
 * PCI core ("pci" when no driver is bound), the port driver, the IOMMU
 * drivers. */
static bool driver_is_infrastructure(const char *d)
{
    static const char *const infra[] = {"pci", "pcieport", "amd_iommu", "AMD-Vi", "iommu",
                                        "dmar", "DMAR", "intel_iommu", "arm-smmu",
                                        "arm-smmu-v3", "shpchp", "pci_bus"};
    for (size_t i = 0; i < sizeof infra / sizeof infra[0]; i++)
        if (!strcmp(d, infra[i]))
            return true;
    return false;
}

static bool driver_is_iommu(const char *d)
{
    return !strcmp(d, "amd_iommu") || !strcmp(d, "AMD-Vi") || !strcmp(d, "iommu") ||
           !strcmp(d, "dmar") || !strcmp(d, "DMAR") || !strcmp(d, "intel_iommu") ||
           !strncmp(d, "arm-smmu", 8);
}

/* needle in t[0..n) (t need not end in NUL) */
static const char *sub(const char *t, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k && i + k <= n; i++)
        if (t[i] == needle[0] && !memcmp(t + i, needle, k))
            return t + i;
    return NULL;
}

/* A DMA direction named in a driver's line: 1 DMA_TO_DEVICE ("to device"),
 * 0 DMA_FROM_DEVICE ("from device"), -1 none, both or DMA_BIDIRECTIONAL
 * (include/linux/dma-direction.h names, and how drivers spell them). */
static int text_dma_dir(const char *t, size_t n)
{
    static const char *const to[] = {"DMA_TO_DEVICE", "to device", "to-device", "TO_DEVICE"};
    static const char *const from[] = {"DMA_FROM_DEVICE", "from device", "from-device",
                                       "FROM_DEVICE"};
    bool hto = false, hfrom = false;
    for (size_t i = 0; i < 4; i++) {
        hto = hto || sub(t, n, to[i]);
        hfrom = hfrom || sub(t, n, from[i]);
    }
    if (sub(t, n, "BIDIRECTIONAL") || sub(t, n, "bidirectional") || hto == hfrom)
        return -1;
    return hto ? 1 : 0;
}

/* Records a driver's line naming DMA addresses and a direction. */
static void dirline_add(struct explain_ctx *c, const struct kmsg *m, const struct explain_src *src)
{
    if (!m->has_bdf || !src->text || (m->has_printer && driver_is_infrastructure(m->printer_driver)))
        return;
    const char *t = src->text;
    size_t n = src->len;
    int dir = text_dma_dir(t, n);
    if (dir < 0)
        return;
    struct explain_dirline d;
    memset(&d, 0, sizeof d);
    for (size_t i = 0; i + 2 < n && d.naddr < EXPLAIN_DIRLINE_ADDRS; i++) {
        if (t[i] != '0' || t[i + 1] != 'x' || !isxdigit((unsigned char)t[i + 2]) ||
            (i && isalnum((unsigned char)t[i - 1])))
            continue;
        size_t j = i + 2;
        uint64_t v = 0;
        int nd = 0;
        while (j < n && isxdigit((unsigned char)t[j]) && nd < 17) {
            int x = t[j] <= '9' ? t[j] - '0' : (t[j] | 0x20) - 'a' + 10;
            v = v << 4 | (uint64_t)x;
            j++, nd++;
        }
        bool phys = (i >= 5 && !memcmp(t + i - 5, "phys ", 5)) ||
                    (i >= 5 && !memcmp(t + i - 5, "phys=", 5));
        if (nd <= 16 && !phys)
            d.addr[d.naddr++] = v;
        i = j - 1;
    }
    if (!d.naddr)
        return;
    const char *b = sub(t, n, " bytes");
    if (b) {
        const char *q = b;
        while (q > t && isdigit((unsigned char)q[-1]))
            q--;
        for (; q < b && d.size < UINT64_C(1) << 48; q++)
            d.size = d.size * 10 + (uint64_t)(*q - '0');
    }
    d.segment = m->segment;
    d.bdf = m->bdf;
    d.to_device = dir == 1;
    d.line = src->line;
    d.line_last = src->line_last ? src->line_last : src->line;
    scopy(d.text, sizeof d.text, t, n);
    if (c->ndirline == EXPLAIN_MAX_DIRLINES) {
        memmove(&c->dirline[0], &c->dirline[1], (EXPLAIN_MAX_DIRLINES - 1) * sizeof d);
        c->ndirline--;
    }
    c->dirline[c->ndirline++] = d;
}

/* "class 0x060000" anywhere in s. */
static bool find_class(const char *s, size_t len, uint32_t *out)
{
    for (size_t i = 0; i + 8 < len; i++) {
        if (memcmp(s + i, "class 0x", 8))
            continue;
        uint32_t v = 0;
        size_t j = i + 8, n = 0;
        while (j < len && isxdigit((unsigned char)s[j]) && n < 6) {
            char ch = (char)tolower((unsigned char)s[j]);
            v = v << 4 | (uint32_t)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
            j++;
            n++;
        }
        if (n == 6) {
            *out = v;
            return true;
        }
    }
    return false;
}

static void note_printer(struct explain *e, const struct kmsg *m, uint64_t line)
{
    if (!m->has_printer)
        return;
    struct explain_dev *d = ctx_dev(e, m->printer_segment, m->printer_bdf, line, true);
    if (!d)
        return;
    if (!strcmp(m->printer_driver, "pci")) {
        d->enumerated = true;
        return;
    }
    bool was_printer = d->driver[0] && !driver_is_infrastructure(d->driver);
    scopy(d->driver, sizeof d->driver, m->printer_driver, strlen(m->printer_driver));
    if (!was_printer && !driver_is_infrastructure(d->driver))
        e->ctx.nprinters++;
}

static void add_range(struct explain_range *r, size_t *n, uint64_t start, uint64_t end,
                      uint64_t line)
{
    for (size_t i = 0; i < *n; i++)
        if (r[i].start == start && r[i].end == end)
            return;
    if (*n == EXPLAIN_MAX_ADDRS)
        return;
    r[*n].start = start;
    r[*n].end = end < start ? start : end;
    r[*n].line = line;
    (*n)++;
}

static void add_context(struct explain *e, const struct kmsg *m, const struct explain_src *src)
{
    struct explain_ctx *c = &e->ctx;
    c->context_records++;
    switch (m->kind) {
    case KMSG_CTX_KERNEL_VERSION: {
        /* detail: the version, or the whole "Linux version 4.9.80 (...)" */
        const char *d = m->detail;
        const char *p = strstr(d, "Linux version ");
        if (p)
            d = p + strlen("Linux version ");
        size_t n = strcspn(d, " ");
        scopy(c->kernel, sizeof c->kernel, d, n);
        break;
    }
    case KMSG_CTX_CMDLINE:
        scopy(c->cmdline, sizeof c->cmdline, m->detail, strlen(m->detail));
        break;
    case KMSG_CTX_IOMMU_ON:
    case KMSG_CTX_IOMMU_OFF:
        /* the last word wins: "Found IOMMU" then "disabled" means off. The
         * swiotlb line is weaker: x86 pci_iommu_init (arch/x86/kernel/pci-dma.c
         * 6.1) prints it whenever x86_swiotlb_enable survived the IOMMU's init,
         * which on 6.1 with more than 4 GiB of RAM it does beside a
         * translating AMD-Vi; it means "off" only when nothing said "on". */
        if (m->kind == KMSG_CTX_IOMMU_OFF && !strcmp(m->format, "ctx-swiotlb") &&
            c->iommu == EXPLAIN_IOMMU_ON)
            break;
        c->iommu = m->kind == KMSG_CTX_IOMMU_ON ? EXPLAIN_IOMMU_ON : EXPLAIN_IOMMU_OFF;
        c->iommu_line = src->line;
        if (src->text)
            scopy(c->iommu_text, sizeof c->iommu_text, src->text, src->len);
        else
            scopy(c->iommu_text, sizeof c->iommu_text, m->detail, strlen(m->detail));
        break;
    case KMSG_CTX_IOMMU_GROUP:
        if (m->has_bdf) {
            struct explain_dev *d = ctx_dev(e, m->segment, m->bdf, src->line, true);
            if (d) {
                d->has_group = true;
                d->group = (uint32_t)m->number;
            }
        }
        break;
    case KMSG_CTX_DEVICE:
        if (m->has_bdf) {
            struct explain_dev *d = ctx_dev(e, m->segment, m->bdf, src->line, true);
            uint32_t cls;
            if (d && (find_class(m->detail, strlen(m->detail), &cls) ||
                      (src->text && find_class(src->text, src->len, &cls)))) {
                d->has_class = true;
                d->class_code = cls;
                d->enumerated = true;
            }
        }
        if (m->has_addr)
            add_range(c->phys, &c->nphys, m->addr, m->addr, src->line);
        dirline_add(c, m, src);
        break;
    case KMSG_CTX_RMRR_IVMD:
        if (m->has_addr) {
            /* number: the range's end when above its start, else its length */
            uint64_t end = m->number > m->addr ? m->number
                           : m->number ? m->addr + m->number - 1 : m->addr + 0xfff;
            add_range(c->reserved, &c->nreserved, m->addr, end, src->line);
        }
        break;
    default:
        break;
    }
}

/* ---- fault signatures ---- */

/* Messages that are not a fault of their own. */
static bool kind_is_context_like(enum kmsg_kind k)
{
    return k == KMSG_AMDVI_EVENT_OVERFLOW || k == KMSG_VTD_FAULT_STATUS;
}

/* dma-debug / AER sentences carry addresses and sizes: the key is the text
 * up to its first '[' or digit. */
static size_t detail_key_len(const char *d)
{
    size_t n = 0;
    while (d[n] && d[n] != '[' && !isdigit((unsigned char)d[n]) && n < 96)
        n++;
    return n;
}

static bool same_key(const struct explain_sig *s, const struct kmsg *m)
{
    if (s->family != m->family || s->kind != m->kind || s->has_bdf != m->has_bdf ||
        s->dir != m->dir || s->has_domain != m->has_domain || s->has_flags != m->has_flags ||
        s->has_reason != m->has_reason || s->has_pasid != m->has_pasid ||
        s->has_addr != m->has_addr)
        return false;
    if (s->has_bdf && (s->segment != m->segment || s->bdf != m->bdf))
        return false;
    if (s->has_domain && s->domain != m->domain && s->family != KMSG_FAM_SWIOTLB)
        return false;
    /* swiotlb's "total/used (slots)" (kmsg: domain/flags) change from line to line */
    if (s->has_flags && s->flags != m->flags && s->family != KMSG_FAM_SWIOTLB)
        return false;
    if (s->has_reason && s->reason != m->reason)
        return false;
    if (s->has_pasid && s->pasid != m->pasid)
        return false;
    if (!s->has_bdf && s->has_printer != m->has_printer)
        return false;
    if (!s->has_bdf && s->has_printer &&
        (s->printer_segment != m->printer_segment || s->printer_bdf != m->printer_bdf))
        return false;
    size_t a = detail_key_len(s->detail), b = detail_key_len(m->detail);
    return a == b && !memcmp(s->detail, m->detail, a);
}

static void sig_event(struct explain *e, struct explain_sig *s, const struct kmsg *m,
                      const struct explain_src *src)
{
    s->count++;
    if (src->has_mono) {
        if (!s->has_time) {
            s->has_time = true;
            s->first_ns = src->mono_ns;
        }
        s->last_ns = src->mono_ns;
    }
    s->last_line = src->line;
    if (m->has_addr) {
        if (m->addr < s->addr_min)
            s->addr_min = m->addr;
        if (m->addr > s->addr_max)
            s->addr_max = m->addr;
    }
    if (s->nevidence < e->o.max_evidence) {
        struct explain_line *l = &s->evidence[s->nevidence++];
        l->line = src->line;
        l->line_last = src->line_last ? src->line_last : src->line;
        if (src->text)
            scopy(l->text, sizeof l->text, src->text, src->len);
        else
            sfmt(l->text, sizeof l->text, "%s", kmsg_kind_name(m->kind));
    }
}

static void sig_new(struct explain_sig *s, const struct kmsg *m, const struct explain_src *src)
{
    struct explain_line *ev = s->evidence;
    memset(s, 0, sizeof *s);
    s->evidence = ev;
    s->family = m->family;
    s->kind = m->kind;
    scopy(s->format, sizeof s->format, m->format, strlen(m->format));
    s->has_bdf = m->has_bdf;
    s->segment = m->segment;
    s->bdf = m->bdf;
    s->has_printer = m->has_printer;
    scopy(s->printer_driver, sizeof s->printer_driver, m->printer_driver,
          strlen(m->printer_driver));
    s->printer_segment = m->printer_segment;
    s->printer_bdf = m->printer_bdf;
    s->has_domain = m->has_domain;
    s->domain = m->domain;
    s->has_flags = m->has_flags;
    s->flags = m->flags;
    s->has_reason = m->has_reason;
    s->reason = m->reason;
    s->has_pasid = m->has_pasid;
    s->pasid = m->pasid;
    s->dir = m->dir;
    s->has_addr = m->has_addr;
    s->addr = m->addr;
    s->addr_min = m->has_addr ? m->addr : 0;
    s->addr_max = s->addr_min;
    s->npages = 1;
    s->number = m->number;
    scopy(s->detail, sizeof s->detail, m->detail, strlen(m->detail));
    s->first_line = src->line;
}

static void add_fault(struct explain *e, const struct kmsg *m, const struct explain_src *src)
{
    e->counts.faults++;
    uint64_t page = m->has_addr ? m->addr >> PAGE_SHIFT_4K : 0;
    /* the last signature hit is the likeliest (a burst of one fault) */
    if (e->last_hit < e->nsig) {
        struct explain_sig *s = &e->sig[e->last_hit];
        if (same_key(s, m) && (!m->has_addr || s->addr >> PAGE_SHIFT_4K == page)) {
            sig_event(e, s, m, src);
            return;
        }
    }
    struct explain_sig *first_same = NULL;
    size_t nsame = 0;
    for (size_t i = 0; i < e->nsig; i++) {
        struct explain_sig *s = &e->sig[i];
        if (!same_key(s, m))
            continue;
        if (!m->has_addr || s->addr >> PAGE_SHIFT_4K == page) {
            e->last_hit = i;
            sig_event(e, s, m, src);
            return;
        }
        if (!first_same)
            first_same = s;
        nsame++;
    }
    if (nsame < PAGES_PER_KEY && e->nsig < e->o.max_sigs) {
        struct explain_sig *s = &e->sig[e->nsig];
        e->last_hit = e->nsig++;
        sig_new(s, m, src);
        sig_event(e, s, m, src);
        return;
    }
    if (first_same) {
        /* another page of a key with several already: an address range */
        first_same->range = true;
        first_same->npages++;
        sig_event(e, first_same, m, src);
        return;
    }
    e->counts.sigs_dropped++;
}

void explain_add(struct explain *e, const struct kmsg *m, const struct explain_src *src)
{
    e->counts.recognised++;
    note_printer(e, m, src->line);
    /* a family's own boot lines (VT-d's "DMAR: IOMMU enabled" is family
     * VT-d, kind KMSG_CTX_IOMMU_ON) are context too, never a finding */
    if (m->family == KMSG_FAM_CONTEXT || m->kind >= KMSG_CTX_KERNEL_VERSION) {
        e->counts.context++;
        add_context(e, m, src);
        return;
    }
    if (kind_is_context_like(m->kind)) {
        e->counts.context++;
        if (m->kind == KMSG_AMDVI_EVENT_OVERFLOW && !e->ctx.overflow_line)
            e->ctx.overflow_line = src->line;
        return;
    }
    add_fault(e, m, src);
}

void explain_add_unrecognised(struct explain *e, const struct explain_src *src)
{
    e->counts.unrecognised++;
    if (e->nunrec < e->o.max_unrecognised && src->text) {
        struct explain_unrec_line *u = &e->unrec[e->nunrec++];
        u->line = src->line;
        scopy(u->text, sizeof u->text, src->text, src->len);
    }
}

/* ---- records: kmsg_parse and the partial joins ---- */

static void pend_set(struct explain *e, const char *text, size_t len, const struct explain_src *src)
{
    memcpy(e->pend, text, len);
    e->pend[len] = '\0';
    e->pend_len = len;
    e->pend_src = *src;
    e->pend_src.text = e->pend;
    e->pend_src.len = len;
}

static void pend_drop(struct explain *e)
{
    if (!e->pend_len)
        return;
    e->counts.partial_dropped++;
    explain_add_unrecognised(e, &e->pend_src);
    e->pend_len = 0;
    e->pend_pieces = 0;
}

static void parse_one(struct explain *e, const char *text, size_t len, const struct explain_src *src)
{
    struct kmsg m;
    memset(&m, 0, sizeof m);
    enum kmsg_status st = kmsg_parse(text, len, &m);
    if (st == KMSG_MATCH) {
        explain_add(e, &m, src);
    } else if (st == KMSG_PARTIAL && len < PEND_MAX) {
        pend_set(e, text, len, src);
        e->pend_pieces = 1;
    } else {
        explain_add_unrecognised(e, src);
    }
}

int explain_klog_rec(void *ctx, const struct klog_rec *rec)
{
    struct explain *e = ctx;
    e->counts.records++;
    struct explain_src src = {.line = rec->line, .line_last = rec->line_last,
                              .has_mono = rec->has_mono, .mono_ns = rec->mono_ns,
                              .text = rec->text, .len = rec->len};
    if (e->pend_len) {
        /* the head's rest: the two joined with one space (klog.h strips the
         * blanks a wrapped line ended in) */
        size_t n = e->pend_len;
        memcpy(e->join, e->pend, n);
        size_t take = rec->len < PEND_MAX ? rec->len : PEND_MAX;
        e->join[n++] = ' ';
        memcpy(e->join + n, rec->text, take);
        n += take;
        e->join[n] = '\0';
        struct kmsg m;
        memset(&m, 0, sizeof m);
        enum kmsg_status st = kmsg_parse(e->join, n, &m);
        struct explain_src js = e->pend_src;
        js.line_last = rec->line_last ? rec->line_last : rec->line;
        if (!js.has_mono && rec->has_mono) {
            js.has_mono = true;
            js.mono_ns = rec->mono_ns;
        }
        js.text = e->join;
        js.len = n;
        if (st == KMSG_MATCH) {
            e->counts.partial_joins++;
            e->pend_len = 0;
            e->pend_pieces = 0;
            explain_add(e, &m, &js);
            return 0;
        }
        if (st == KMSG_PARTIAL && n < PEND_MAX && e->pend_pieces < PEND_PIECES) {
            e->counts.partial_joins++;
            unsigned pieces = e->pend_pieces + 1;
            pend_set(e, e->join, n, &js);
            e->pend_pieces = pieces;
            return 0;
        }
        pend_drop(e);
    }
    parse_one(e, rec->text, rec->len, &src);
    return 0;
}

void explain_finish(struct explain *e)
{
    pend_drop(e);
}

/* ---- accessors ---- */

size_t explain_nsigs(const struct explain *e) { return e->nsig; }
const struct explain_sig *explain_sig_at(const struct explain *e, size_t i)
{
    return i < e->nsig ? &e->sig[i] : NULL;
}
const struct explain_ctx *explain_context(const struct explain *e) { return &e->ctx; }
const struct explain_counts *explain_get_counts(const struct explain *e) { return &e->counts; }
size_t explain_nunrec(const struct explain *e) { return e->nunrec; }
const struct explain_unrec_line *explain_unrec_at(const struct explain *e, size_t i)
{
    return i < e->nunrec ? &e->unrec[i] : NULL;
}
size_t explain_nfindings(const struct explain *e) { return e->nfind; }
const struct explain_finding *explain_finding_at(const struct explain *e, size_t i)
{
    return i < e->nfind ? &e->find[i] : NULL;
}

/* ==== the analysis: one finding per signature ==== */

static void add_field(struct explain_finding *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_field(struct explain_finding *f, const char *key, const char *fmt, ...)
{
    if (f->nfields == EXPLAIN_MAX_FIELDS)
        return;
    struct explain_field *x = &f->field[f->nfields++];
    scopy(x->key, sizeof x->key, key, strlen(key));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->value, sizeof x->value, fmt, ap);
    va_end(ap);
}

static void add_ruled(struct explain_finding *f, enum diag_category c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_ruled(struct explain_finding *f, enum diag_category c, const char *fmt, ...)
{
    if (f->nruled == EXPLAIN_MAX_RULED || c == f->category)
        return;
    for (size_t i = 0; i < f->nruled; i++)
        if (f->ruled[i].category == c)
            return;
    struct explain_ruled *r = &f->ruled[f->nruled++];
    r->category = c;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

static void add_fix(struct explain_finding *f, enum explain_fix_kind k, bool not_a_fix,
                    const char *cost, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add_fix(struct explain_finding *f, enum explain_fix_kind k, bool not_a_fix,
                    const char *cost, const char *fmt, ...)
{
    if (f->nfixes == EXPLAIN_MAX_FIXES)
        return;
    struct explain_fix *x = &f->fix[f->nfixes++];
    x->kind = k;
    x->not_a_fix = not_a_fix;
    scopy(x->cost, sizeof x->cost, cost ? cost : "", cost ? strlen(cost) : 0);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->text, sizeof x->text, fmt, ap);
    va_end(ap);
}

static void add_collect(struct explain_finding *f, const char *text)
{
    if (f->ncollect == EXPLAIN_MAX_COLLECT)
        return;
    for (size_t i = 0; i < f->ncollect; i++)
        if (!strcmp(f->collect[i], text))
            return;
    scopy(f->collect[f->ncollect], sizeof f->collect[0], text, strlen(text));
    f->ncollect++;
}

/* ---- the address ---- */

struct addr_facts {
    bool has;
    uint64_t a;
    unsigned offset;
    bool low;          /* below 1 MiB: an unset or small-integer address */
    bool msi;          /* 0xFEEx_xxxx: the x86 MSI window */
    bool in32;
    bool top32;        /* 0xF000_0000..4 GiB, not MSI: where IOVA allocation starts */
    bool likely_phys;  /* above 4 GiB, below 1 TiB: RAM, not an IOVA */
    bool printed;      /* the page of an address a device line printed */
    uint64_t printed_line;
    bool reserved;     /* inside an RMRR/IVMD/unity range of the log */
    uint64_t reserved_line;
    bool truncated;    /* the low 32 bits of another address above 4 GiB */
    uint64_t truncated_of;
};

static void addr_facts(const struct explain *e, const struct explain_sig *s, struct addr_facts *af)
{
    memset(af, 0, sizeof *af);
    if (!s->has_addr)
        return;
    const struct explain_ctx *c = &e->ctx;
    uint64_t a = s->addr;
    af->has = true;
    af->a = a;
    af->offset = (unsigned)(a & 0xfff);
    af->low = a < 0x100000;
    af->msi = (a >> 20) == 0xfee;
    af->in32 = a < 0x100000000ull;
    af->top32 = af->in32 && a >= 0xf0000000ull && !af->msi;
    af->likely_phys = !af->in32 && a < (1ull << 40);
    for (size_t i = 0; i < c->nphys; i++)
        if (c->phys[i].start >> PAGE_SHIFT_4K == a >> PAGE_SHIFT_4K) {
            af->printed = true;
            af->printed_line = c->phys[i].line;
        }
    for (size_t i = 0; i < c->nreserved; i++)
        if (a >= c->reserved[i].start && a <= c->reserved[i].end) {
            af->reserved = true;
            af->reserved_line = c->reserved[i].line;
        }
    if (af->in32) {
        for (size_t i = 0; i < c->nphys; i++)
            if (c->phys[i].start >= 0x100000000ull &&
                (c->phys[i].start & 0xfffff000ull) == (a & 0xfffff000ull)) {
                af->truncated = true;
                af->truncated_of = c->phys[i].start;
            }
        for (size_t i = 0; i < e->nsig; i++)
            if (e->sig[i].has_addr && e->sig[i].addr >= 0x100000000ull &&
                (e->sig[i].addr & 0xfffff000ull) == (a & 0xfffff000ull)) {
                af->truncated = true;
                af->truncated_of = e->sig[i].addr;
            }
    }
}

static void addr_text(const struct explain_sig *s, const struct addr_facts *af, char *buf,
                      size_t len)
{
    sfmt(buf, len, "0x%llx: ", (unsigned long long)af->a);
    if (af->offset == 0)
        sapp(buf, len, "page-aligned");
    else
        sapp(buf, len, "page offset 0x%03x%s", af->offset,
             (af->offset & 0x3f) == 0 ? " (64-byte aligned)" : "");
    if (af->msi)
        sapp(buf, len, "; in the MSI window 0xFEE00000-0xFEEFFFFF (an interrupt message, "
                       "not memory)");
    else if (af->low)
        sapp(buf, len, "; below 1 MiB: an address the device was never given (0 or a "
                       "small integer)");
    else if (af->top32)
        sapp(buf, len, "; in the 32-bit IOVA space, just below 4 GiB where Linux's IOVA "
                       "allocator starts (top-down, 32-bit first for PCI devices): it looks "
                       "like a DMA handle");
    else if (af->in32)
        sapp(buf, len, "; in the 32-bit IOVA space");
    else if (af->likely_phys)
        sapp(buf, len, "; above 4 GiB but far below where IOVAs above 4 GiB are allocated "
                       "(the top of the domain's address width): likely a physical address");
    else
        sapp(buf, len, "; above 4 GiB");
    if (af->printed)
        sapp(buf, len, "; the page of an address printed on line %llu",
             (unsigned long long)af->printed_line);
    if (af->reserved)
        sapp(buf, len, "; inside the reserved (RMRR/IVMD) range of line %llu",
             (unsigned long long)af->reserved_line);
    if (af->truncated)
        sapp(buf, len, "; the low 32 bits of 0x%llx", (unsigned long long)af->truncated_of);
    if (s->range)
        sapp(buf, len, "; %llu events on other pages, 0x%llx..0x%llx",
             (unsigned long long)s->npages - 1, (unsigned long long)s->addr_min,
             (unsigned long long)s->addr_max);
    if (s->addr_max >> PAGE_SHIFT_4K != s->addr_min >> PAGE_SHIFT_4K)
        sapp(buf, len, "; the faults cross a page boundary");
    else if (af->offset >= 0xf80)
        sapp(buf, len, "; near the page's end: a transfer from here crosses into the next page");
}

/* ---- the requester ---- */

static bool is_x86_family(enum kmsg_family f)
{
    return f == KMSG_FAM_AMDVI || f == KMSG_FAM_VTD;
}

/* AMD-Vi prints the DTE's DomainID except where a kernel took it from
 * another field: 4.20's iommu_print_event uses PPR_PASID() of dword 0 for
 * every event (amd_iommu.c v4.20.17; docs/linux/amd-iommu.md a). */
static bool domain_trusted(const struct explain *e, const struct explain_sig *s)
{
    if (s->family != KMSG_FAM_AMDVI || !s->has_domain || s->has_pasid)
        return false;
    if (strstr(s->format, "4.20"))
        return false;
    if (!strncmp(e->ctx.kernel, "4.20", 4))
        return false;
    return true;
}

static enum explain_req_role role_of_lspci(enum lspci_role r)
{
    switch (r) {
    case LSPCI_ROLE_HOST_BRIDGE: return EXPLAIN_REQ_HOST_BRIDGE;
    case LSPCI_ROLE_ROOT_PORT: return EXPLAIN_REQ_ROOT_PORT;
    case LSPCI_ROLE_BRIDGE: return EXPLAIN_REQ_BRIDGE;
    case LSPCI_ROLE_IOMMU: return EXPLAIN_REQ_IOMMU;
    case LSPCI_ROLE_ENDPOINT:
    case LSPCI_ROLE_RCIEP: return EXPLAIN_REQ_ENDPOINT;
    case LSPCI_ROLE_UNKNOWN: return EXPLAIN_REQ_UNKNOWN;
    }
    return EXPLAIN_REQ_UNKNOWN;
}

static enum explain_req_role role_of_class(uint32_t cls)
{
    switch (cls >> 8) {
    case 0x0600: return EXPLAIN_REQ_HOST_BRIDGE;
    case 0x0604:
    case 0x0609: return EXPLAIN_REQ_BRIDGE;
    case 0x0806: return EXPLAIN_REQ_IOMMU;
    default: return EXPLAIN_REQ_ENDPOINT;
    }
}

/* The words lspci's device names use for the roles (pci.ids names). */
static enum explain_req_role role_of_name(const char *n)
{
    if (strstr(n, "Host bridge") || strstr(n, "Host Bridge") || strstr(n, "Root Complex"))
        return EXPLAIN_REQ_HOST_BRIDGE;
    if (strstr(n, "Root Port"))
        return EXPLAIN_REQ_ROOT_PORT;
    if (strstr(n, "PCI bridge") || strstr(n, "PCIe to PCI") || strstr(n, "PCI-to-PCI"))
        return EXPLAIN_REQ_BRIDGE;
    if (strstr(n, "IOMMU") || strstr(n, "I/O Memory Management Unit"))
        return EXPLAIN_REQ_IOMMU;
    return EXPLAIN_REQ_UNKNOWN;
}

static bool any_enumerated(const struct explain *e)
{
    for (size_t i = 0; i < e->ctx.ndev; i++)
        if (e->ctx.dev[i].enumerated)
            return true;
    return false;
}

static void classify_requester(const struct explain *e, const struct explain_sig *s,
                               struct explain_requester *r)
{
    memset(r, 0, sizeof *r);
    uint16_t seg = s->segment, bdf = s->bdf;
    if (!s->has_bdf) {
        if (!s->has_printer)
            return;
        seg = s->printer_segment;
        bdf = s->printer_bdf;
    }
    r->known = true;
    r->segment = seg;
    r->bdf = bdf;
    const struct lspci_db *db = e->o.lspci;
    const struct explain_dev *d = ctx_dev_find(e, seg, bdf);
    if (d && d->driver[0])
        scopy(r->driver, sizeof r->driver, d->driver, strlen(d->driver));
    const struct lspci_fn *fn = db && db->n ? lspci_find(db, seg, bdf) : NULL;
    if (fn) {
        scopy(r->name, sizeof r->name, fn->name, strlen(fn->name));
        if (fn->driver[0])
            scopy(r->driver, sizeof r->driver, fn->driver, strlen(fn->driver));
        r->npath = lspci_path(db, fn, r->path, 8);
    }
    if (fn && fn->role != LSPCI_ROLE_UNKNOWN) {
        r->role = role_of_lspci(fn->role);
        sfmt(r->how, sizeof r->how, "lspci: %s", lspci_role_name(fn->role));
    } else if (fn && role_of_name(fn->name) != EXPLAIN_REQ_UNKNOWN) {
        /* lspci -tv names without classes: the device's name says it */
        r->role = role_of_name(fn->name);
        sfmt(r->how, sizeof r->how, "lspci names it so");
    } else if (db && db->n && !fn) {
        r->role = EXPLAIN_REQ_NO_DEVICE;
        sfmt(r->how, sizeof r->how, "lspci lists no function at this BDF");
    } else if (d && d->has_class) {
        r->role = role_of_class(d->class_code);
        sfmt(r->how, sizeof r->how, "the log's PCI enumeration: class 0x%06x",
             (unsigned)d->class_code);
    } else if (d && d->driver[0] && !strcmp(d->driver, "pcieport")) {
        r->role = EXPLAIN_REQ_BRIDGE;
        sfmt(r->how, sizeof r->how, "the port driver pcieport printed on it");
    } else if (d && d->driver[0] && driver_is_iommu(d->driver)) {
        r->role = EXPLAIN_REQ_IOMMU;
        sfmt(r->how, sizeof r->how, "the IOMMU driver %s printed on it", d->driver);
    } else if (d && d->driver[0] && !driver_is_infrastructure(d->driver)) {
        r->role = EXPLAIN_REQ_ENDPOINT;
        sfmt(r->how, sizeof r->how, "the driver %s printed on it", d->driver);
    } else if (seg == 0 && bdf == 0 && is_x86_family(s->family)) {
        r->role = EXPLAIN_REQ_HOST_BRIDGE;
        sfmt(r->how, sizeof r->how, "by x86 convention, no lspci given");
    } else if (any_enumerated(e) && !(d && d->enumerated)) {
        r->role = EXPLAIN_REQ_NO_DEVICE;
        sfmt(r->how, sizeof r->how, "the log's PCI enumeration lists no function at this BDF");
    } else {
        sfmt(r->how, sizeof r->how, "unknown without lspci");
    }
    r->suspicious = r->role == EXPLAIN_REQ_HOST_BRIDGE || r->role == EXPLAIN_REQ_ROOT_PORT ||
                    r->role == EXPLAIN_REQ_BRIDGE || r->role == EXPLAIN_REQ_IOMMU ||
                    r->role == EXPLAIN_REQ_NO_DEVICE;
}

/* The endpoints that may really have sent it: functions with a driver of
 * their own (lspci's "Kernel driver in use", or a driver's printk). */
static void find_senders(const struct explain *e, struct explain_finding *f)
{
    const struct lspci_db *db = e->o.lspci;
    if (db)
        for (size_t i = 0; i < db->n && f->nsenders < EXPLAIN_MAX_SENDERS; i++) {
            const struct lspci_fn *fn = &db->fn[i];
            if (fn->role != LSPCI_ROLE_ENDPOINT || !fn->driver[0] ||
                driver_is_infrastructure(fn->driver))
                continue;
            if (f->req.known && fn->segment == f->req.segment && fn->bdf == f->req.bdf)
                continue;
            f->sender_bdf[f->nsenders] = fn->bdf;
            scopy(f->sender_driver[f->nsenders], 32, fn->driver, strlen(fn->driver));
            f->nsenders++;
        }
    for (size_t i = 0; i < e->ctx.ndev && f->nsenders < EXPLAIN_MAX_SENDERS; i++) {
        const struct explain_dev *d = &e->ctx.dev[i];
        if (!d->driver[0] || driver_is_infrastructure(d->driver))
            continue;
        if (f->req.known && d->segment == f->req.segment && d->bdf == f->req.bdf)
            continue;
        bool dup = false;
        for (size_t j = 0; j < f->nsenders; j++)
            dup |= f->sender_bdf[j] == d->bdf;
        if (dup)
            continue;
        f->sender_bdf[f->nsenders] = d->bdf;
        scopy(f->sender_driver[f->nsenders], 32, d->driver, strlen(d->driver));
        f->nsenders++;
    }
}

static void senders_text(const struct explain_finding *f, char *buf, size_t len)
{
    char b[16];
    buf[0] = '\0';
    if (!f->nsenders) {
        sfmt(buf, len, "the device that DMAs to this buffer");
        return;
    }
    if (f->nsenders > 1)
        sapp(buf, len, "one of ");
    for (size_t i = 0; i < f->nsenders; i++)
        sapp(buf, len, "%s%s (%s)", i ? ", " : "", bdf_str(f->sender_bdf[i], b, sizeof b),
             f->sender_driver[i]);
}

/* ---- decoded fields ---- */

static const struct {
    const char *name;
    uint32_t mask;
    unsigned bit;
    const char *set, *clear;
} amdvi_bits[] = {
    /* AMD I/O Virtualization Technology (IOMMU) Specification 48882, 2.5.3
     * IO_PAGE_FAULT event, dword 1 bits 16..24 = event bits 48..56 */
    {"GN", AMDVI_EVF_GN, 48, "guest request: a PASID was used",
     "no PASID: the domain field is a DomainID"},
    {"NX", AMDVI_EVF_NX, 49, "an execute request or a no-execute violation", "no execute"},
    {"US", AMDVI_EVF_US, 50, "a user-mode request", "a supervisor request"},
    {"I", AMDVI_EVF_I, 51, "an interrupt request (a write to the interrupt range)",
     "a memory request, not an interrupt"},
    {"PR", AMDVI_EVF_PR, 52, "the entry reached was present: the rights were checked",
     "not present: no translation for this page"},
    {"RW", AMDVI_EVF_RW, 53, "a write", "a read"},
    {"PE", AMDVI_EVF_PE, 54, "permission violation: the rights refuse this access",
     "no permission violation"},
    {"RZ", AMDVI_EVF_RZ, 55, "a reserved bit of a table entry was not zero",
     "no reserved-bit error"},
    {"TR", AMDVI_EVF_TR, 56, "an ATS translation request", "a transaction, not a translation request"},
};

static const char *dir_name(enum kmsg_dir d)
{
    switch (d) {
    case KMSG_DIR_READ: return "read";
    case KMSG_DIR_WRITE: return "write";
    case KMSG_DIR_EXEC: return "execute";
    case KMSG_DIR_NONE: return "";
    }
    return "";
}

static enum kmsg_dir sig_dir(const struct explain_sig *s)
{
    if (s->dir != KMSG_DIR_NONE)
        return s->dir;
    if (s->family == KMSG_FAM_AMDVI && s->kind == KMSG_AMDVI_IO_PAGE_FAULT && s->has_flags)
        return s->flags & AMDVI_EVF_RW ? KMSG_DIR_WRITE : KMSG_DIR_READ;
    return KMSG_DIR_NONE;
}

/* ARM SMMUv2 SMMU_CBn_FSR (ARM IHI 0062, 10.6.x) bits. */
static const struct { const char *name; unsigned bit; } smmu_fsr_bits[] = {
    {"TF", 1}, {"AFF", 2}, {"PF", 3}, {"EF", 4}, {"TLBMCF", 5}, {"TLBLKF", 6},
    {"ASF", 7}, {"UUT", 8}, {"SS", 30}, {"MULTI", 31},
};

/* ARM SMMUv3 event record types (ARM IHI 0070, 7.3). */
static const char *smmuv3_event_name(uint32_t id)
{
    switch (id) {
    case 0x01: return "F_UUT";
    case 0x02: return "C_BAD_STREAMID";
    case 0x03: return "F_STE_FETCH";
    case 0x04: return "C_BAD_STE";
    case 0x05: return "F_BAD_ATS_TREQ";
    case 0x06: return "F_STREAM_DISABLED";
    case 0x07: return "F_TRANSL_FORBIDDEN";
    case 0x08: return "C_BAD_SUBSTREAMID";
    case 0x09: return "F_CD_FETCH";
    case 0x0a: return "C_BAD_CD";
    case 0x0b: return "F_WALK_EABT";
    case 0x10: return "F_TRANSLATION";
    case 0x11: return "F_ADDR_SIZE";
    case 0x12: return "F_ACCESS";
    case 0x13: return "F_PERMISSION";
    case 0x20: return "F_TLB_CONFLICT";
    case 0x21: return "F_CFG_CONFLICT";
    case 0x24: return "E_PAGE_REQUEST";
    case 0x25: return "F_VMS_FETCH";
    default: return NULL;
    }
}

static void decode_fields(const struct explain *e, const struct explain_sig *s,
                          const struct addr_facts *af, struct explain_finding *f)
{
    char b[16], buf[480];
    add_field(f, "event", "%s %s", kmsg_family_name(s->family), kmsg_kind_name(s->kind));
    if (s->format[0])
        add_field(f, "format", "%s", s->format);
    if (f->req.known)
        add_field(f, "requester", "%04x:%s: %s (%s)", f->req.segment,
                  bdf_str(f->req.bdf, b, sizeof b), explain_req_role_name(f->req.role),
                  f->req.how);
    enum kmsg_dir d = sig_dir(s);
    if (d != KMSG_DIR_NONE)
        add_field(f, "direction", "%s (the device %s memory)", dir_name(d),
                  d == KMSG_DIR_WRITE ? "writes to" : d == KMSG_DIR_READ ? "reads from"
                                                                         : "executes from");
    if (s->has_domain) {
        if (s->family == KMSG_FAM_AMDVI && !domain_trusted(e, s))
            add_field(f, "domain", "0x%04x (this kernel prints a PASID field here, not "
                                   "the DTE's DomainID)", s->domain);
        else if (s->family == KMSG_FAM_AMDVI && s->domain == 0)
            add_field(f, "domain", "0x0000: Linux never allocates AMD-Vi domain 0 (bit 0 of "
                                   "the domain bitmap is set at init), so no driver attached "
                                   "this requester ID to a DMA domain");
        else
            add_field(f, "domain", "0x%04x: the DMA domain the requester ID is attached to",
                      s->domain);
    }
    if (s->has_pasid)
        add_field(f, "pasid", "0x%x", s->pasid);
    if (af->has) {
        addr_text(s, af, buf, sizeof buf);
        add_field(f, "address", "%s", buf);
    }
    if (s->family == KMSG_FAM_AMDVI && s->has_flags &&
        (s->kind == KMSG_AMDVI_IO_PAGE_FAULT || s->kind == KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY ||
         s->kind == KMSG_AMDVI_INVALID_DEVICE_REQUEST ||
         s->kind == KMSG_AMDVI_DEV_TAB_HARDWARE_ERROR ||
         s->kind == KMSG_AMDVI_PAGE_TAB_HARDWARE_ERROR)) {
        char names[64];
        kmsg_amdvi_flags_str(s->flags, names, sizeof names);
        add_field(f, "flags", "0x%04x = %s (AMD 48882 2.5.3)", s->flags,
                  names[0] ? names : "none");
        for (size_t i = 0; i < sizeof amdvi_bits / sizeof amdvi_bits[0]; i++) {
            bool set = s->flags & amdvi_bits[i].mask;
            char key[24];
            sfmt(key, sizeof key, "flags.%s", amdvi_bits[i].name);
            const char *extra = "";
            if (set && amdvi_bits[i].mask == AMDVI_EVF_PR && domain_trusted(e, s) &&
                s->domain == 0)
                extra = " (with domain 0: the DTE itself, valid but with no page table)";
            add_field(f, key, "%d (bit %u): %s%s", set, amdvi_bits[i].bit,
                      set ? amdvi_bits[i].set : amdvi_bits[i].clear, extra);
        }
    } else if (s->has_flags && s->kind == KMSG_SMMU_CONTEXT_FAULT) {
        buf[0] = '\0';
        for (size_t i = 0; i < sizeof smmu_fsr_bits / sizeof smmu_fsr_bits[0]; i++)
            if (s->flags >> smmu_fsr_bits[i].bit & 1)
                sapp(buf, sizeof buf, "%s%s", buf[0] ? "|" : "", smmu_fsr_bits[i].name);
        add_field(f, "fsr", "0x%08x = %s (SMMU_CBn_FSR, ARM IHI 0062)", s->flags,
                  buf[0] ? buf : "none");
    } else if (s->has_flags) {
        add_field(f, "flags", "0x%x", s->flags);
    }
    if (s->has_reason && s->family == KMSG_FAM_VTD) {
        const char *t = kmsg_vtd_reason_text(s->reason);
        add_field(f, "reason", "0x%02x = %s (VT-d fault reason; Linux dmar.c's table)",
                  s->reason, t ? t : "not in the kernel's table");
    } else if (s->has_reason && s->family == KMSG_FAM_SMMU) {
        const char *t = smmuv3_event_name(s->reason);
        add_field(f, "event_id", "0x%02x = %s (SMMUv3 event, ARM IHI 0070 7.3)", s->reason,
                  t ? t : "unknown");
    } else if (s->has_reason) {
        add_field(f, "reason", "0x%x", s->reason);
    }
    if (s->detail[0])
        add_field(f, "message", "%s", s->detail);
}

/* ---- the rules ---- */

static enum diag_confidence conf_of(int score)
{
    return score >= 3 ? DIAG_CONF_HIGH : score == 2 ? DIAG_CONF_MEDIUM : DIAG_CONF_LOW;
}

static const char *what_dir(const struct explain_sig *s)
{
    enum kmsg_dir d = sig_dir(s);
    return d == KMSG_DIR_WRITE ? "DMA write" : d == KMSG_DIR_READ ? "DMA read" : "DMA request";
}

static void what_line(const struct explain_sig *s, const struct explain_finding *f, char *buf,
                      size_t len)
{
    char b[16];
    sfmt(buf, len, "%llu %s%s", (unsigned long long)s->count, what_dir(s),
         s->count == 1 ? "" : "s");
    if (f->req.known)
        sapp(buf, len, " from %s", bdf_str(f->req.bdf, b, sizeof b));
    if (s->has_addr)
        sapp(buf, len, " at 0x%llx", (unsigned long long)s->addr);
    sapp(buf, len, " refused by the IOMMU (%s %s)", kmsg_family_name(s->family),
         kmsg_kind_name(s->kind));
}

static void collect_common(const struct explain *e, struct explain_finding *f, bool dma)
{
    if (!e->o.lspci)
        add_collect(f, "lspci -vvv and lspci -tv (as root), from the same boot: what sits "
                       "at the requester's BDF, and the path to the device");
    if (!e->ctx.kernel[0])
        add_collect(f, "the full dmesg from boot (the kernel version, the IOMMU's setup "
                       "lines, the drivers' probe lines)");
    if (!e->ctx.cmdline[0])
        add_collect(f, "/proc/cmdline");
    if (dma)
        add_collect(f, "the driver's dma_map_*/dma_alloc_coherent calls and the handles it "
                       "writes to the device (print them with dev_info)");
}

static void notfix_iommu_off(struct explain_finding *f, const char *extra)
{
    add_fix(f, EXPLAIN_FIX_KERNEL_PARAMETER, true,
            "no DMA isolation for any device: a stray or malicious write lands anywhere in "
            "RAM; interrupt remapping goes too",
            "iommu=off (or amd_iommu=off / intel_iommu=off) only hides it: without "
            "translation the requester ID is not checked and the write lands%s",
            extra);
}

static void ruled_common(const struct explain *e, const struct explain_sig *s,
                         const struct addr_facts *af, struct explain_finding *f)
{
    char b[16];
    if (af->has && !af->msi && !(s->has_flags && s->family == KMSG_FAM_AMDVI &&
                                 (s->flags & AMDVI_EVF_I)))
        add_ruled(f, DIAG_INTERRUPT_REMAPPING,
                  "%s0x%llx is not in the MSI window 0xFEE00000-0xFEEFFFFF",
                  s->family == KMSG_FAM_AMDVI && s->has_flags ? "the I flag is clear and " : "",
                  (unsigned long long)af->a);
    if (af->has && af->in32 && !af->truncated)
        add_ruled(f, DIAG_DMA_MASK,
                  "0x%llx is below 4 GiB, which any DMA mask allows, and it is not the "
                  "32-bit truncation of an address seen in the log",
                  (unsigned long long)af->a);
    if (af->has && !af->reserved)
        add_ruled(f, DIAG_FIRMWARE_RMRR_IVMD, "%s",
                  e->ctx.nreserved ? "none of the log's RMRR/IVMD ranges covers the address"
                                   : "the log shows no RMRR/IVMD range (only a full dmesg from "
                                     "boot would show one)");
    if (f->req.known && f->req.role == EXPLAIN_REQ_ENDPOINT)
        add_ruled(f, DIAG_REQUESTER_ID_MISMATCH, "the requester %s is an endpoint (%s)",
                  bdf_str(f->req.bdf, b, sizeof b), f->req.how);
}

static void rule_rid(const struct explain *e, const struct explain_sig *s,
                     const struct addr_facts *af, struct explain_finding *f)
{
    char b[16], sb[16], senders[160];
    const struct explain_requester *r = &f->req;
    int score = 0;
    bool from_lspci = !strncmp(r->how, "lspci", 5);
    switch (r->role) {
    case EXPLAIN_REQ_HOST_BRIDGE: score += from_lspci || strstr(r->how, "class") ? 3 : 2; break;
    case EXPLAIN_REQ_NO_DEVICE: score += from_lspci ? 3 : 2; break;
    case EXPLAIN_REQ_IOMMU: score += 2; break;
    case EXPLAIN_REQ_ROOT_PORT:
    case EXPLAIN_REQ_BRIDGE: score += 2; break;
    default: break;
    }
    bool dom0 = domain_trusted(e, s) && s->domain == 0;
    if (dom0)
        score++;
    if (s->family == KMSG_FAM_VTD && s->has_reason && (s->reason == 1 || s->reason == 2))
        score++;
    if (e->ctx.nprinters && !(r->driver[0] && !driver_is_infrastructure(r->driver)))
        score++;
    f->category = DIAG_REQUESTER_ID_MISMATCH;
    f->confidence = conf_of(score);
    bdf_str(r->bdf, b, sizeof b);
    senders_text(f, senders, sizeof senders);
    what_line(s, f, f->what, sizeof f->what);

    const char *role = explain_req_role_name(r->role);
    bool bridge = r->role == EXPLAIN_REQ_BRIDGE || r->role == EXPLAIN_REQ_ROOT_PORT;
    if (r->role == EXPLAIN_REQ_NO_DEVICE)
        sfmt(f->why, sizeof f->why,
             "No function sits at %s (%s), so a device is sending TLPs with a requester ID "
             "that is not its own; the IOMMU looks up that ID's entry, which no driver set up",
             b, r->how);
    else if (bridge)
        sfmt(f->why, sizeof f->why,
             "%s is a %s (%s): the TLPs carry the bridge's ID, as DMA through a "
             "PCIe-to-PCI(-X) bridge or a device that takes its bridge's ID does; the IOMMU "
             "has no mapping for that ID unless Linux knows the alias",
             b, role, r->how);
    else
        sfmt(f->why, sizeof f->why,
             "%s is the %s (%s), which does no DMA: a device is sending TLPs with the wrong "
             "requester ID, so the IOMMU looks up %s's table entry instead of the device's "
             "own, where its buffer is mapped%s",
             b, role, r->how, b,
             dom0 ? "; that entry is in no domain and refuses the access" : "");
    if (af->top32)
        sapp(f->why, sizeof f->why, "; 0x%llx looks like a DMA handle the driver got",
             (unsigned long long)af->a);
    sapp(f->why, sizeof f->why, ".");
    if (f->nsenders)
        sfmt(f->change, sizeof f->change,
             "Fix the TLP requester ID of %s: every TLP it sends must carry its own captured "
             "bus/device/function, not %s.",
             senders, b);
    else
        sfmt(f->change, sizeof f->change,
             "Fix the device's TLP requester ID: the device that DMAs to this buffer must put "
             "its own captured bus/device/function in its TLPs, not %s.",
             b);

    add_fix(f, EXPLAIN_FIX_DEVICE_LOGIC, false, "",
            "Put the captured bus/device/function of %s in the Requester ID of every TLP it "
            "sends (its memory writes%s). A function captures its Bus and Device Numbers from "
            "the Type 0 configuration writes it receives (PCIe Base 5.0 2.2.6.2); in FPGA "
            "PCIe IP cores the user logic that builds TLP headers must fill the requester ID "
            "from the core's captured bus/device number%s.",
            senders, sig_dir(s) == KMSG_DIR_WRITE ? ", which fault here" : " and reads",
            r->bdf == 0 ? ", not leave it 0" : "");
    /* pci_add_dma_alias adds devfns on the device's own bus only:
     * pci_for_each_dma_alias (drivers/pci/search.c, 4.7+) calls
     * PCI_DEVID(pdev->bus->number, devfn) for each bit of dma_alias_mask. */
    bool same_bus = f->nsenders == 1 && (f->sender_bdf[0] >> 8) == (r->bdf >> 8);
    if (bridge)
        add_fix(f, EXPLAIN_FIX_PCI_QUIRK, false,
                "the alias's domain is shared by every device behind the bridge (one IOMMU "
                "group)",
                "If the device sits behind a PCIe-to-PCI(-X) bridge that Linux does not know "
                "aliases it, a quirk (drivers/pci/quirks.c) marking the bridge or adding the "
                "alias with pci_add_dma_alias() makes Linux map the buffers for %s too.",
                b);
    else if (same_bus)
        add_fix(f, EXPLAIN_FIX_PCI_QUIRK, false,
                "any DMA tagged with the alias ID reaches this device's domain",
                "If the device cannot be changed: a header quirk (DECLARE_PCI_FIXUP_HEADER for "
                "its vendor:device in drivers/pci/quirks.c) calling pci_add_dma_alias(pdev, "
                "devfn %02x.%x) so the IOMMU maps %s's buffers for %s too.",
                (r->bdf >> 3) & 0x1f, r->bdf & 7, bdf_str(f->sender_bdf[0], sb, sizeof sb), b);
    else
        add_fix(f, EXPLAIN_FIX_PCI_QUIRK, false,
                "any DMA tagged with the alias ID reaches this device's domain",
                "Only if the device cannot be changed and sits on bus %02x itself: a header "
                "quirk (drivers/pci/quirks.c) calling pci_add_dma_alias(pdev, devfn %02x.%x). "
                "Aliases stay on the device's own bus (pci_for_each_dma_alias builds them "
                "from its bus number, drivers/pci/search.c), so a device on another bus "
                "cannot be covered by a quirk: it must be fixed.",
                r->bdf >> 8, (r->bdf >> 3) & 0x1f, r->bdf & 7);
    add_fix(f, EXPLAIN_FIX_KERNEL_PARAMETER, true,
            "no DMA protection for the devices in passthrough",
            "iommu=pt does not fix it: passthrough gives each device's own requester ID an "
            "identity mapping; %s is not the device's ID, so its entry still refuses the "
            "access",
            b);
    notfix_iommu_off(f, ", but the device still sends the wrong ID and breaks again "
                        "wherever an IOMMU is on (VM passthrough, another machine)");

    add_ruled(f, DIAG_MISSING_MAPPING,
              "a missing mapping is reported under the device's own requester ID; here the "
              "ID itself names the %s %s",
              role, b);
    if (s->family == KMSG_FAM_AMDVI && s->has_flags && (s->flags & AMDVI_EVF_PE))
        add_ruled(f, DIAG_PERMISSION,
                  "PE is set, but the rights that refused it are those of %s's entry%s, not "
                  "of the device's mapping",
                  b, dom0 ? " (domain 0: no driver's domain)" : "");
    else if (s->family == KMSG_FAM_VTD)
        add_ruled(f, DIAG_PERMISSION,
                  "the fault names %s, whose context no driver set up; the device's own "
                  "mapping was not consulted",
                  b);
    if (af->has && !af->low && !af->likely_phys)
        add_ruled(f, DIAG_DRIVER_API_MISUSE,
                  "0x%llx looks like a DMA handle, not 0, a physical address or garbage",
                  (unsigned long long)af->a);
    ruled_common(e, s, af, f);
    add_collect(f, "a PCIe analyser or the FPGA's TLP logic (e.g. a logic-analyser core on "
                   "the TX TLP interface): the requester ID field of the device's writes");
    collect_common(e, f, false);
}

/* The driver's line on the requester that names the faulting page (or a
 * buffer of "N bytes" at a handle covering the address) with a direction
 * the fault contradicts: the last such line before the fault, else the
 * first after. VT-d prints the same "PTE Write access is not set" for an
 * unmapped page and for a write to a DMA_TO_DEVICE mapping (intel/iommu.c
 * v6.1 dma_pte_write / fault reason 0x05); only this line tells them
 * apart. Not for an AMD-Vi event with PR clear: no page was present. */
static bool is_translation_fault(const struct explain_sig *s);
static const struct explain_dirline *dir_conflict(const struct explain *e,
                                                  const struct explain_sig *s)
{
    enum kmsg_dir d = sig_dir(s);
    if (!is_translation_fault(s) || !s->has_bdf || !s->has_addr ||
        (d != KMSG_DIR_READ && d != KMSG_DIR_WRITE))
        return NULL;
    if (s->family == KMSG_FAM_AMDVI && s->has_flags && !(s->flags & AMDVI_EVF_PR))
        return NULL;
    uint64_t a = s->addr;
    const struct explain_dirline *before = NULL, *after = NULL;
    for (size_t i = 0; i < e->ctx.ndirline; i++) {
        const struct explain_dirline *l = &e->ctx.dirline[i];
        if (l->segment != s->segment || l->bdf != s->bdf ||
            l->to_device != (d == KMSG_DIR_WRITE))
            continue;
        bool hit = false;
        for (size_t k = 0; k < l->naddr && !hit; k++)
            hit = (l->addr[k] & ~UINT64_C(0xfff)) == (a & ~UINT64_C(0xfff)) ||
                  (l->size && a >= l->addr[k] && a - l->addr[k] < l->size);
        if (!hit)
            continue;
        if (l->line <= s->first_line)
            before = l;
        else if (!after)
            after = l;
    }
    return before ? before : after;
}

/* Adds the mapping line to the signature's evidence (once). */
static void sig_add_dirline(const struct explain *e, struct explain_sig *s)
{
    const struct explain_dirline *l = dir_conflict(e, s);
    if (!l || !e->o.max_evidence)
        return;
    for (size_t i = 0; i < s->nevidence; i++)
        if (s->evidence[i].line == l->line)
            return;
    size_t at = s->nevidence < e->o.max_evidence ? s->nevidence++ : s->nevidence - 1;
    struct explain_line *ev = &s->evidence[at];
    ev->line = l->line;
    ev->line_last = l->line_last;
    scopy(ev->text, sizeof ev->text, l->text, strlen(l->text));
}

static void rule_page_fault(const struct explain *e, const struct explain_sig *s,
                            const struct addr_facts *af, struct explain_finding *f)
{
    const struct explain_dirline *dl = dir_conflict(e, s);
    char b[16];
    bool amd = s->family == KMSG_FAM_AMDVI && s->has_flags;
    bool vtd = s->family == KMSG_FAM_VTD && s->has_reason;
    bool smmu = s->family == KMSG_FAM_SMMU;
    uint32_t fl = s->flags;
    enum kmsg_dir d = sig_dir(s);
    what_line(s, f, f->what, sizeof f->what);
    const char *req = f->req.known ? bdf_str(f->req.bdf, b, sizeof b) : "the device";

    if ((amd && (fl & AMDVI_EVF_I)) || af->msi) {
        f->category = DIAG_INTERRUPT_REMAPPING;
        f->confidence = amd && (fl & AMDVI_EVF_I) ? DIAG_CONF_HIGH : DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why,
             "%s sent an interrupt (%s) the remapping tables refuse: the MSI address/data "
             "it writes is not the one Linux programmed, or its vector was not set up.",
             req, af->msi ? "a write in the MSI window" : "the I flag");
        sfmt(f->change, sizeof f->change,
             "Make the device send exactly the MSI address/data of its MSI/MSI-X capability "
             "and allocate every vector it uses with pci_alloc_irq_vectors().");
        add_fix(f, EXPLAIN_FIX_DEVICE_LOGIC, false, "",
                "Send MSIs with the Message Address/Data the kernel wrote to the MSI or MSI-X "
                "capability (PCIe Base 5.0 6.1.4), one vector per enabled message.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "Allocate every vector the device raises with pci_alloc_irq_vectors() and "
                "request each one before enabling the device's interrupt sources.");
        add_fix(f, EXPLAIN_FIX_KERNEL_PARAMETER, true,
                "no interrupt isolation: a device can inject any interrupt",
                "intremap=off / amd_iommu_intr=legacy hide it without fixing the message");
        add_collect(f, "lspci -vvv (the MSI/MSI-X capability: address, data, vectors enabled)");
        add_collect(f, "/proc/interrupts");
    } else if (dl) {
        const char *mapped = dl->to_device ? "DMA_TO_DEVICE" : "DMA_FROM_DEVICE";
        f->category = DIAG_PERMISSION;
        f->confidence = DIAG_CONF_HIGH;
        sfmt(f->why, sizeof f->why,
             "%s's driver says at line %llu that the buffer at 0x%llx is mapped %s (the device "
             "may only %s it), and the device %s it: the IOMMU refuses the access (a direction "
             "mismatch, not a missing page).",
             req, (unsigned long long)dl->line, (unsigned long long)af->a, mapped,
             dl->to_device ? "read" : "write", d == KMSG_DIR_WRITE ? "wrote" : "read");
        sfmt(f->change, sizeof f->change,
             "Map the buffer with the direction the device uses (%s), or stop the device "
             "%s it.",
             d == KMSG_DIR_WRITE ? "DMA_FROM_DEVICE or DMA_BIDIRECTIONAL"
                                 : "DMA_TO_DEVICE or DMA_BIDIRECTIONAL",
             d == KMSG_DIR_WRITE ? "writing" : "reading");
        add_field(f, "mapping", "line %llu: %s", (unsigned long long)dl->line, dl->text);
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "dma_map_single/dma_map_page with %s for a buffer the device %s, instead of %s.",
                d == KMSG_DIR_WRITE ? "DMA_FROM_DEVICE (or DMA_BIDIRECTIONAL)"
                                    : "DMA_TO_DEVICE (or DMA_BIDIRECTIONAL)",
                d == KMSG_DIR_WRITE ? "writes" : "reads", mapped);
        add_ruled(f, DIAG_MISSING_MAPPING,
                  "line %llu maps this address for the device, %s: the page is there, its "
                  "direction refuses the %s",
                  (unsigned long long)dl->line, mapped, dir_name(d));
    } else if (af->reserved) {
        f->category = DIAG_FIRMWARE_RMRR_IVMD;
        f->confidence = DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why,
             "0x%llx lies in a range the firmware reserved (line %llu): firmware expects "
             "the device to reach it, and the range is not mapped for %s.",
             (unsigned long long)af->a, (unsigned long long)af->reserved_line, req);
        sfmt(f->change, sizeof f->change,
             "Update the firmware (its RMRR/IVMD must name this device), or stop the device "
             "using the range.");
        add_fix(f, EXPLAIN_FIX_FIRMWARE, false, "",
                "A firmware update whose DMAR RMRR / IVRS IVMD device scope covers %s.", req);
        add_collect(f, "the full dmesg from boot (DMAR/IVRS lines), acpidump of DMAR or IVRS");
    } else if (af->truncated) {
        f->category = DIAG_DMA_MASK;
        f->confidence = DIAG_CONF_HIGH;
        sfmt(f->why, sizeof f->why,
             "0x%llx is 0x%llx with its upper 32 bits lost: the device drives only 32 "
             "address bits while its driver's DMA mask lets Linux give it addresses above "
             "4 GiB.",
             (unsigned long long)af->a, (unsigned long long)af->truncated_of);
        sfmt(f->change, sizeof f->change,
             "Set the DMA mask to what the device really drives (DMA_BIT_MASK(32)), or make "
             "it send 64-bit addresses.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32)) when the device "
                "drives 32 address bits.");
        add_fix(f, EXPLAIN_FIX_DEVICE_LOGIC, false, "",
                "Use 4 DW headers with all 64 address bits for addresses at or above 4 GiB "
                "(PCIe Base 5.0 2.2.4.1).");
    } else if (af->printed) {
        f->category = DIAG_DRIVER_API_MISUSE;
        f->confidence = DIAG_CONF_HIGH;
        sfmt(f->why, sizeof f->why,
             "0x%llx %s: the device was given a physical address instead of the DMA "
             "handle the DMA API returns, and with the IOMMU on no mapping exists there.",
             (unsigned long long)af->a,
             af->printed ? "is an address the log printed as physical"
                         : "looks physical, not like an IOVA");
        sfmt(f->change, sizeof f->change,
             "Program the device with the dma_addr_t from dma_map_*/dma_alloc_coherent, "
             "never virt_to_phys/page_to_phys/__pa.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "Write the dma_addr_t that dma_map_single/dma_map_page/dma_alloc_coherent "
                "return to the device, not virt_to_phys() or page_to_phys().");
        notfix_iommu_off(f, " because then the bus address equals the physical one");
    } else if (af->low) {
        /* an address no DMA API handle has: the log does not say who
         * left it there (driver, device, firmware) */
        f->category = DIAG_UNKNOWN;
        f->confidence = DIAG_CONF_LOW;
        sfmt(f->why, sizeof f->why,
             "0x%llx is an address no DMA mapping has: the device DMAs with an address it was "
             "never given (its reset value, a cleared register), before its driver wrote the "
             "buffer address or after it was cleared; the log does not tell which.",
             (unsigned long long)af->a);
        sfmt(f->change, sizeof f->change,
             "Program the buffer's DMA handle before starting the device's DMA, and stop "
             "the DMA before clearing it.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "Write the DMA handle to the device before enabling its DMA engine (and "
                "after pci_set_master()), stop the engine before unmapping or freeing.");
        add_fix(f, EXPLAIN_FIX_DEVICE_LOGIC, false, "",
                "Do not start DMA while the address registers hold their reset value.");
    } else if (amd && (fl & AMDVI_EVF_RZ)) {
        f->category = DIAG_UNKNOWN;
        f->confidence = DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why,
             "RZ: a reserved bit of a DTE or page-table entry is set: the IOMMU's tables "
             "are corrupt (a kernel bug or memory corruption), not a device fault.");
        sfmt(f->change, sizeof f->change, "Update the kernel; report it with the full log.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "", "Update the kernel (the IOMMU driver writes "
                                                  "these entries).");
    } else if (amd && (fl & AMDVI_EVF_TR)) {
        f->category = DIAG_HARDWARE_DEVICE_BUG;
        f->confidence = DIAG_CONF_LOW;
        sfmt(f->why, sizeof f->why,
             "TR: %s sent an ATS translation request for an address it has no right to.", req);
        sfmt(f->change, sizeof f->change, "Check the device's ATS use; try pci=noats.");
        add_fix(f, EXPLAIN_FIX_KERNEL_PARAMETER, false, "ATS off: more IOMMU walks",
                "pci=noats disables ATS for every device.");
    } else if (amd && (fl & AMDVI_EVF_PR) && (fl & AMDVI_EVF_PE) && domain_trusted(e, s) &&
               s->domain == 0) {
        f->category = DIAG_DRIVER_API_MISUSE;
        f->confidence = DIAG_CONF_LOW;
        sfmt(f->why, sizeof f->why,
             "%s's entry is in no domain (domain 0): no driver had it attached for DMA when "
             "it sent this, i.e. the device DMAs before its driver's probe or after its "
             "remove.",
             req);
        sfmt(f->change, sizeof f->change,
             "Stop the device's DMA in the driver's remove/shutdown and do not start it "
             "before probe has mapped its buffers.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "Quiesce the device (stop its DMA engine, clear bus mastering) in remove() "
                "and shutdown(); start DMA only after the buffers are mapped.");
        add_ruled(f, DIAG_MISSING_MAPPING,
                  "PR is set: the walk stopped at a present entry; with domain 0 that is the "
                  "DTE, not a missing page");
    } else if (amd && (fl & AMDVI_EVF_PR) && (fl & AMDVI_EVF_PE)) {
        f->category = DIAG_PERMISSION;
        f->confidence = DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why,
             "The page is mapped for %s (PR) but its rights refuse a %s (PE): the buffer was "
             "mapped with the wrong direction, or the device used a stale address whose IOVA "
             "was reused by a mapping of the other direction (the log cannot tell these "
             "apart).",
             req, dir_name(d));
        sfmt(f->change, sizeof f->change,
             "Map the buffer with the direction the device uses (%s).",
             d == KMSG_DIR_WRITE ? "DMA_FROM_DEVICE or DMA_BIDIRECTIONAL"
                                 : "DMA_TO_DEVICE or DMA_BIDIRECTIONAL");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "dma_map_single/dma_map_page with %s for a buffer the device %s.",
                d == KMSG_DIR_WRITE ? "DMA_FROM_DEVICE (or DMA_BIDIRECTIONAL)"
                                    : "DMA_TO_DEVICE (or DMA_BIDIRECTIONAL)",
                d == KMSG_DIR_WRITE ? "writes" : "reads");
        add_ruled(f, DIAG_MISSING_MAPPING, "PR is set: the page is present in the domain");
    } else if (smmu && s->kind == KMSG_SMMU_CONTEXT_FAULT && s->has_flags && (fl & (1u << 3))) {
        f->category = DIAG_PERMISSION;
        f->confidence = DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why, "PF: the page is mapped but its permissions refuse this "
                                    "access.");
        sfmt(f->change, sizeof f->change, "Map the buffer with the direction the device uses.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "dma_map_* with the direction the device really uses (DMA_BIDIRECTIONAL if "
                "both).");
    } else if (vtd && s->reason == 4) {
        f->category = DIAG_DRIVER_API_MISUSE;
        f->confidence = DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why,
             "The address is beyond the IOMMU's address width: no DMA API handle can be "
             "there; the device was given garbage or a CPU address.");
        sfmt(f->change, sizeof f->change, "Program the device with the DMA API's handle.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "Write the dma_addr_t from dma_map_*/dma_alloc_coherent to the device.");
    } else if (vtd && (s->reason == 1 || s->reason == 2 || s->reason == 3)) {
        bool drv = f->req.driver[0] && !driver_is_infrastructure(f->req.driver);
        f->category = drv ? DIAG_DRIVER_API_MISUSE : DIAG_REQUESTER_ID_MISMATCH;
        f->confidence = drv ? DIAG_CONF_LOW : DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why,
             "The IOMMU has no context for %s: %s.", req,
             drv ? "its driver is bound, so it DMAs while detached (before probe or after "
                   "remove)"
                 : "no driver set up DMA for this requester ID, so the TLPs likely carry "
                   "another device's ID (an alias, a bridge, a wrong requester ID)");
        sfmt(f->change, sizeof f->change,
             drv ? "Stop the device's DMA outside probe..remove."
                 : "Find which device sends this ID (lspci -tv) and fix its requester ID or "
                   "declare the alias.");
        if (drv)
            add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                    "Quiesce the device in remove()/shutdown(); start DMA after mapping.");
        else
            add_fix(f, EXPLAIN_FIX_DEVICE_LOGIC, false, "",
                    "Make the device use its captured bus/device/function as requester ID "
                    "(PCIe Base 5.0 2.2.6.2).");
    } else if (vtd && s->reason >= 7 && s->reason <= 0xd) {
        f->category = DIAG_UNKNOWN;
        f->confidence = DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why,
             "The IOMMU's own tables are invalid (reason 0x%02x): a kernel or firmware "
             "problem, not the device.", s->reason);
        sfmt(f->change, sizeof f->change, "Update the kernel and firmware; report it.");
        add_fix(f, EXPLAIN_FIX_FIRMWARE, false, "", "Update the firmware (DMAR table).");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "", "Update the kernel.");
    } else if (vtd && s->reason >= 0x20 && s->reason <= 0x2f) {
        f->category = DIAG_INTERRUPT_REMAPPING;
        f->confidence = DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why, "An interrupt-remapping fault (reason 0x%02x).", s->reason);
        sfmt(f->change, sizeof f->change, "Check the device's MSI setup.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "Allocate every vector with pci_alloc_irq_vectors() before the device uses it.");
    } else if (vtd || (amd && !(fl & AMDVI_EVF_PR)) ||
               (smmu && ((s->has_flags && (fl & (1u << 1))) ||
                         (s->has_reason && s->reason == 0x10)))) {
        f->category = DIAG_MISSING_MAPPING;
        f->confidence = vtd ? DIAG_CONF_MEDIUM : DIAG_CONF_HIGH;
        sfmt(f->why, sizeof f->why,
             "%s %s 0x%llx, which is not mapped in its domain: %s",
             req, d == KMSG_DIR_WRITE ? "wrote to" : d == KMSG_DIR_READ ? "read from" : "used",
             (unsigned long long)s->addr,
             af->likely_phys
                 ? "the address looks physical, not like an IOVA, so the device was most "
                   "likely given physical addresses (virt_to_phys, a user-space driver) "
                   "instead of DMA API handles."
                 : "the buffer was never mapped, was unmapped before the device was done, or "
                   "the device runs past its end.");
        if (af->likely_phys)
            add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                    "Give the device the dma_addr_t from dma_map_*/dma_alloc_coherent, never "
                    "a physical address; a device whose DMA a user-space program drives needs "
                    "a kernel driver (or VFIO) that maps its buffers through the IOMMU.");
        sfmt(f->change, sizeof f->change,
             "Map the whole buffer the device touches and keep it mapped until the device "
             "is done with it.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "Map every buffer for its full length (dma_map_*/dma_alloc_coherent), give the "
                "device the returned handle, unmap only after the device has finished (stop "
                "it first).");
        add_fix(f, EXPLAIN_FIX_DEVICE_LOGIC, false, "",
                "Check the device's length and address arithmetic against the buffer's size.");
        add_fix(f, EXPLAIN_FIX_KERNEL_PARAMETER, true,
                "no DMA protection for the devices in passthrough",
                "iommu=pt only hides it: the device still writes where no buffer is, now "
                "into whatever RAM is there");
        if (vtd && (s->reason == 5 || s->reason == 6))
            add_collect(f, "whether the buffer is mapped at all and with which direction: "
                           "VT-d reports a missing page and a read-only page alike");
        add_collect(f, "a boot with CONFIG_DMA_API_DEBUG=y: it names unmapped or wrongly "
                       "mapped buffers");
        if (amd)
            add_ruled(f, DIAG_PERMISSION, "PR is clear: no page is present, there are no "
                                          "rights to refuse");
    } else {
        f->category = DIAG_UNKNOWN;
        f->confidence = DIAG_CONF_LOW;
        sfmt(f->why, sizeof f->why, "The fields do not match a rule of the taxonomy.");
        sfmt(f->change, sizeof f->change, "Collect more evidence (below).");
    }
    ruled_common(e, s, af, f);
    collect_common(e, f, true);
}

static void rule_other(const struct explain *e, const struct explain_sig *s,
                       const struct addr_facts *af, struct explain_finding *f)
{
    char b[16];
    const char *req = f->req.known ? bdf_str(f->req.bdf, b, sizeof b) : "the device";
    sfmt(f->what, sizeof f->what, "%llu x %s %s", (unsigned long long)s->count,
         kmsg_family_name(s->family), kmsg_kind_name(s->kind));
    if (f->req.known)
        sapp(f->what, sizeof f->what, " from %s", req);
    switch (s->kind) {
    case KMSG_AMDVI_IOTLB_INV_TIMEOUT:
    case KMSG_AMDVI_COMPLETION_WAIT_TIMEOUT:
        f->category = DIAG_IOTLB_INVALIDATION;
        f->confidence = DIAG_CONF_HIGH;
        sfmt(f->why, sizeof f->why,
             "The IOMMU (or, for IOTLB_INV_TIMEOUT, the device's ATS cache) did not complete "
             "an invalidation in time: stale translations may be used.");
        sfmt(f->change, sizeof f->change,
             "Update the firmware and kernel; if a device's ATS is involved, disable ATS.");
        add_fix(f, EXPLAIN_FIX_FIRMWARE, false, "", "A BIOS/AGESA update for the IOMMU.");
        add_fix(f, EXPLAIN_FIX_KERNEL_PARAMETER, false, "ATS off: more IOMMU walks",
                "pci=noats when IOTLB_INV_TIMEOUT names a device with ATS.");
        break;
    case KMSG_SWIOTLB_FULL:
    case KMSG_SW_IOMMU_SPACE: {
        /* One mapping is at most IO_TLB_SEGSIZE (128) slots of 1 << IO_TLB_SHIFT
         * (2 KiB) = 256 KiB (include/linux/swiotlb.h, 4.9 ... 6.1). kmsg puts
         * 5.x's "total N (slots), used N (slots)" in domain and flags. */
        uint64_t sz = s->number;
        bool slots = s->has_domain && s->has_flags && s->domain;
        bool full = slots && (uint64_t)s->flags * 100 >= (uint64_t)s->domain * 99;
        char pool[96] = "";
        if (slots)
            sfmt(pool, sizeof pool, " (pool: %u of %u slots of 2 KiB used)", s->flags, s->domain);
        if (sz > 256 * 1024) {
            f->category = DIAG_DRIVER_API_MISUSE;
            f->confidence = DIAG_CONF_HIGH;
            sfmt(f->why, sizeof f->why,
                 "%s asked swiotlb to bounce %llu bytes in one mapping; swiotlb maps at most "
                 "256 KiB (128 slots of 2 KiB) at once, however empty the pool%s: the driver's "
                 "request or segment size ignores dma_max_mapping_size().",
                 req, (unsigned long long)sz, pool);
            sfmt(f->change, sizeof f->change,
                 "Cap the driver's maximum request/segment size at dma_max_mapping_size(dev).");
            add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                    "Limit max_req_size / max_segment_size (block and MMC drivers: "
                    "blk_queue_max_segment_size, mmc->max_seg_size) to "
                    "dma_max_mapping_size(dev).");
            add_ruled(f, DIAG_SWIOTLB_EXHAUSTION,
                      "a larger pool does not help: the limit is per mapping, not the pool");
        } else if (sz && sz < 64 * 1024 && (!slots || full)) {
            f->category = DIAG_DRIVER_API_MISUSE;
            f->confidence = full ? DIAG_CONF_MEDIUM : DIAG_CONF_LOW;
            sfmt(f->why, sizeof f->why,
                 "A %llu-byte mapping did not fit in the bounce pool%s: small mappings fill "
                 "a pool of thousands of slots only when they are not given back, i.e. a "
                 "driver maps without unmapping (a leak); a genuinely larger load (every DMA "
                 "bounced, as in confidential VMs) is the alternative.",
                 (unsigned long long)sz, pool);
            sfmt(f->change, sizeof f->change,
                 "Find the dma_map_* without its dma_unmap_* in %s's driver (dma-debug names "
                 "it); a bigger pool only delays the failure.",
                 req);
            add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                    "Pair every dma_map_single/dma_map_page/dma_map_sg with its unmap on every "
                    "path (errors, completions, teardown).");
            add_fix(f, EXPLAIN_FIX_KERNEL_PARAMETER, true, "the pool's RAM is reserved at boot",
                    "swiotlb=N (a bigger pool) only delays a leak");
            add_collect(f, "a boot with CONFIG_DMA_API_DEBUG=y: on unbinding the driver it "
                           "reports the mappings it still holds");
            add_collect(f, "/sys/kernel/debug/swiotlb/io_tlb_used over time (growing = a leak)");
        } else {
            f->category = DIAG_SWIOTLB_EXHAUSTION;
            f->confidence = sz ? DIAG_CONF_MEDIUM : DIAG_CONF_LOW;
            sfmt(f->why, sizeof f->why,
                 "The bounce buffer pool (swiotlb) ran out%s: %s's DMA goes through it (its "
                 "mask cannot reach the buffers, or the platform bounces every DMA)%s.",
                 pool, req, e->ctx.iommu == EXPLAIN_IOMMU_OFF ? " (the IOMMU is off)" : "");
            sfmt(f->change, sizeof f->change,
                 "Enlarge the pool, or let the device address all RAM so it need not bounce.");
            add_fix(f, EXPLAIN_FIX_KERNEL_PARAMETER, false, "the pool's RAM is reserved at boot",
                    "swiotlb=N (N slabs of 2 KiB) enlarges the pool (or CONFIG_SWIOTLB_DYNAMIC "
                    "on 6.x, which grows it at run time).");
            add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                    "dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)) if the device drives 64 "
                    "address bits; unmap each buffer as soon as the device is done.");
            add_ruled(f, DIAG_DRIVER_API_MISUSE,
                      sz ? "the request is large; no sign of a leak in the log"
                         : "the log gives no size to judge a leak by");
        }
        break;
    }
    case KMSG_DMA_DEBUG:
        f->category = DIAG_DRIVER_API_MISUSE;
        f->confidence = DIAG_CONF_HIGH;
        sfmt(f->why, sizeof f->why, "dma-debug caught the driver misusing the DMA API: %s",
             s->detail[0] ? s->detail : "see the evidence");
        sfmt(f->change, sizeof f->change, "Fix the driver's DMA API call that dma-debug names.");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "Fix the call dma-debug names (unmap with the same size and direction as the "
                "map, check dma_mapping_error, do not touch a buffer the device owns).");
        break;
    case KMSG_AER:
        f->category = DIAG_HARDWARE_DEVICE_BUG;
        f->confidence = DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why, "PCIe AER reported an error on %s%s%s.", req,
             s->detail[0] ? ": " : "", s->detail);
        sfmt(f->change, sizeof f->change, "Check the link and the device's TLPs.");
        add_fix(f, EXPLAIN_FIX_DEVICE_LOGIC, false, "",
                "Check the TLPs the device sends against the error AER names (malformed "
                "TLP, unsupported request, completion timeout).");
        add_collect(f, "lspci -vvv of the device and its root port (AER status registers)");
        break;
    case KMSG_VTD_RMRR_INELIGIBLE:
        f->category = DIAG_FIRMWARE_RMRR_IVMD;
        f->confidence = DIAG_CONF_HIGH;
        sfmt(f->why, sizeof f->why,
             "The firmware's RMRR names %s, so Linux refuses to attach it to another "
             "domain (VM passthrough).", req);
        sfmt(f->change, sizeof f->change,
             "A firmware setting or update that drops the RMRR for this device.");
        add_fix(f, EXPLAIN_FIX_FIRMWARE, false, "",
                "Firmware without the RMRR for this device (some vendors offer a setting).");
        break;
    case KMSG_VTD_IR_FAULT:
        f->category = s->has_reason && s->reason == 0x25 ? DIAG_FIRMWARE_RMRR_IVMD
                                                         : DIAG_INTERRUPT_REMAPPING;
        f->confidence = DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why, "An interrupt from %s was blocked by interrupt "
                                    "remapping%s.", req,
             s->has_reason && s->reason == 0x25
                 ? ": its source ID is not the one the firmware's DMAR table declares"
                 : "");
        sfmt(f->change, sizeof f->change, "Check the device's MSI setup%s.",
             s->has_reason && s->reason == 0x25 ? " and the firmware's DMAR device scopes" : "");
        add_fix(f, EXPLAIN_FIX_DRIVER, false, "",
                "Allocate every vector with pci_alloc_irq_vectors() before the device uses it.");
        add_fix(f, EXPLAIN_FIX_KERNEL_PARAMETER, true,
                "no interrupt isolation", "intremap=off hides it");
        break;
    case KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY:
        f->category = DIAG_FIRMWARE_RMRR_IVMD;
        f->confidence = DIAG_CONF_LOW;
        sfmt(f->why, sizeof f->why,
             "The device table entry for %s is malformed: it is written from the firmware's "
             "IVRS description.", req);
        sfmt(f->change, sizeof f->change, "Update the firmware; check the IVRS table.");
        add_fix(f, EXPLAIN_FIX_FIRMWARE, false, "", "A firmware update with a correct IVRS.");
        break;
    case KMSG_AMDVI_INVALID_DEVICE_REQUEST:
    case KMSG_AMDVI_INVALID_PPR_REQUEST:
        f->category = DIAG_HARDWARE_DEVICE_BUG;
        f->confidence = DIAG_CONF_MEDIUM;
        sfmt(f->why, sizeof f->why,
             "%s sent a request the IOMMU does not accept from it (ATS or PASID use it was "
             "not granted).", req);
        sfmt(f->change, sizeof f->change, "Check the device's ATS/PRI/PASID use.");
        add_fix(f, EXPLAIN_FIX_DEVICE_LOGIC, false, "",
                "Send translation/page requests only when ATS/PRI are enabled in config space.");
        break;
    case KMSG_AMDVI_DEV_TAB_HARDWARE_ERROR:
    case KMSG_AMDVI_PAGE_TAB_HARDWARE_ERROR:
    case KMSG_AMDVI_COMMAND_HARDWARE_ERROR:
        f->category = DIAG_HARDWARE_DEVICE_BUG;
        f->confidence = DIAG_CONF_LOW;
        sfmt(f->why, sizeof f->why, "The IOMMU's own read of its tables failed: a platform "
                                    "(memory, firmware) error.");
        sfmt(f->change, sizeof f->change, "Update the firmware; check memory errors.");
        add_fix(f, EXPLAIN_FIX_FIRMWARE, false, "", "A BIOS/AGESA update.");
        break;
    default:
        f->category = DIAG_UNKNOWN;
        f->confidence = DIAG_CONF_LOW;
        sfmt(f->why, sizeof f->why, "No rule of the taxonomy applies to %s.",
             kmsg_kind_name(s->kind));
        sfmt(f->change, sizeof f->change, "Collect more evidence (below).");
        break;
    }
    (void)af;
    collect_common(e, f, s->kind == KMSG_DMA_DEBUG);
}

static bool is_translation_fault(const struct explain_sig *s)
{
    switch (s->kind) {
    case KMSG_AMDVI_IO_PAGE_FAULT:
    case KMSG_VTD_DMA_FAULT:
    case KMSG_SMMU_CONTEXT_FAULT:
    case KMSG_SMMU_EVENT:
        return true;
    default:
        return false;
    }
}

static void analyse_sig(const struct explain *e, const struct explain_sig *s,
                        struct explain_finding *f)
{
    memset(f, 0, sizeof *f);
    f->sig = s;
    classify_requester(e, s, &f->req);
    find_senders(e, f);
    struct addr_facts af;
    addr_facts(e, s, &af);
    decode_fields(e, s, &af, f);
    bool rid_kind = is_translation_fault(s) || s->kind == KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY ||
                    s->kind == KMSG_AMDVI_INVALID_DEVICE_REQUEST;
    if (rid_kind && f->req.suspicious && s->has_bdf)
        rule_rid(e, s, &af, f);
    else if (is_translation_fault(s))
        rule_page_fault(e, s, &af, f);
    else
        rule_other(e, s, &af, f);
    if (e->ctx.overflow_line)
        add_collect(f, "the IOMMU's event log overflowed: the counts are lower bounds");
}

static int finding_cmp(const void *a, const void *b)
{
    const struct explain_finding *x = a, *y = b;
    int ux = x->category == DIAG_UNKNOWN, uy = y->category == DIAG_UNKNOWN;
    if (ux != uy)
        return ux - uy;
    if (x->confidence != y->confidence)
        return (int)y->confidence - (int)x->confidence;
    /* a finding that names its device says what to act on: before an
     * anonymous one of the same weight (an IOTLB_INV_TIMEOUT from one
     * device before the IOMMU's own Completion-Wait timeouts) */
    if (x->sig->has_bdf != y->sig->has_bdf)
        return x->sig->has_bdf ? -1 : 1;
    if (x->sig->count != y->sig->count)
        return x->sig->count > y->sig->count ? -1 : 1;
    return x->sig->first_line < y->sig->first_line ? -1 : x->sig->first_line > y->sig->first_line;
}

int explain_analyse(struct explain *e, struct pcilab_err *err)
{
    free(e->find);
    e->find = NULL;
    e->nfind = 0;
    if (!e->nsig)
        return 0;
    e->find = calloc(e->nsig, sizeof *e->find);
    if (!e->find)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for %zu findings", e->nsig);
    for (size_t i = 0; i < e->nsig; i++) {
        sig_add_dirline(e, &e->sig[i]);
        analyse_sig(e, &e->sig[i], &e->find[i]);
    }
    e->nfind = e->nsig;
    qsort(e->find, e->nfind, sizeof *e->find, finding_cmp);
    return 0;
}
