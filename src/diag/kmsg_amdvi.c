/* AMD-Vi event and driver messages, every form Linux 4.4 ... current prints.
 * The format strings, with the file and version each was read from, are in
 * docs/explain-messages.md; the forms, in short:
 *
 *  4.4 - 4.8   printk(KERN_ERR "AMD-Vi: Event logged [") then printk("<EVENT>
 *              device=%02x:%02x.%x ... address=0x%016llx ...]\n"): before
 *              4.9 printk joins the two into one record (amd_iommu.c
 *              iommu_print_event).                         -> "amdvi-4.x"
 *  4.9 - 4.19  the same two calls, but 4.9's printk stores a fragment
 *              without KERN_CONT as a record of its own: "AMD-Vi: Event
 *              logged [" alone (KMSG_PARTIAL) then "<EVENT> device=...]"
 *              (amd_iommu.c iommu_print_event v4.9.80)     -> "amdvi-split"
 *  4.20        IO_PAGE_FAULT one record, pr_err "AMD-Vi: Event logged
 *              [IO_PAGE_FAULT device=..." (-> "amdvi-4.x") or dev_err
 *              "<drv> 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT
 *              domain=..." (-> "amdvi-dev-4.x"); other events dev_err on the
 *              ivhd device in two records "iommu ivhd0: AMD-Vi: Event logged
 *              [" / "iommu ivhd0: <EVENT> device=...]"      -> "amdvi-split"
 *  5.x - 6.0   pr_fmt "AMD-Vi: ", one record, address=0x%llx -> "amdvi-5.x",
 *              pci_err form                                  -> "amdvi-dev"
 *  6.1 -       device=%04x:%02x:%02x.%x (PCI segment)        -> "amdvi-6.1-seg"
 *  a dev_err/pci_err form pasted without its device prefix: no requester
 *              -> "amdvi-dev-4.x-cut" (0x%016llx) / "amdvi-dev-5.x-cut"
 *
 * Field names decide what goes where: device= -> bdf (segment), domain= ->
 * domain, pasid= -> pasid, address=/gpa=/spa= -> addr, flags= -> flags,
 * flags_rmp= -> reason, vmg_tag=/tag= -> number. */
#include <string.h>

#include "diag/kmsg_priv.h"

enum {
    F_DEV = 1 << 0,   /* device= */
    F_DOM = 1 << 1,   /* domain= */
    F_PASID = 1 << 2, /* pasid= */
    F_ADDR = 1 << 3,  /* address= */
    F_FLAGS = 1 << 4, /* flags= */
    F_TAG = 1 << 5,   /* tag= (INVALID_PPR_REQUEST, 5.x) */
    F_VMG = 1 << 6,   /* vmg_tag= (RMP_*, 6.x) */
    F_GPA = 1 << 7,   /* gpa= (RMP_PAGE_FAULT) */
    F_SPA = 1 << 8,   /* spa= (RMP_HW_ERROR) */
    F_FRMP = 1 << 9,  /* flags_rmp= (RMP_PAGE_FAULT) */
};

static const struct {
    const char *key;
    unsigned bit;
} amdvi_keys[] = {
    {"device=", F_DEV}, {"domain=", F_DOM}, {"pasid=", F_PASID},
    {"address=", F_ADDR}, {"flags=", F_FLAGS}, {"tag=", F_TAG},
    {"vmg_tag=", F_VMG}, {"gpa=", F_GPA}, {"spa=", F_SPA},
    {"flags_rmp=", F_FRMP},
};

/* Each event: which fields every version prints (need) and which some
 * versions add (may). F_DEV is not needed when a dev_err/pci_err prefix
 * names the device instead (IO_PAGE_FAULT 4.20+, RMP_* 6.x). */
static const struct amdvi_event {
    const char *name;
    enum kmsg_kind kind;
    unsigned need, may;
} amdvi_events[] = {
    {"ILLEGAL_DEV_TABLE_ENTRY", KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY, F_DEV | F_ADDR | F_FLAGS, F_PASID},
    {"IO_PAGE_FAULT", KMSG_AMDVI_IO_PAGE_FAULT, F_DEV | F_DOM | F_ADDR | F_FLAGS, F_PASID},
    {"DEV_TAB_HARDWARE_ERROR", KMSG_AMDVI_DEV_TAB_HARDWARE_ERROR, F_DEV | F_ADDR | F_FLAGS, 0},
    /* domain= in 4.x, pasid=0x%04x in 5.x/6.x: one of the two */
    {"PAGE_TAB_HARDWARE_ERROR", KMSG_AMDVI_PAGE_TAB_HARDWARE_ERROR, F_DEV | F_ADDR | F_FLAGS, F_DOM | F_PASID},
    {"ILLEGAL_COMMAND_ERROR", KMSG_AMDVI_ILLEGAL_COMMAND_ERROR, F_ADDR, 0},
    {"COMMAND_HARDWARE_ERROR", KMSG_AMDVI_COMMAND_HARDWARE_ERROR, F_ADDR | F_FLAGS, 0},
    {"IOTLB_INV_TIMEOUT", KMSG_AMDVI_IOTLB_INV_TIMEOUT, F_DEV | F_ADDR, 0},
    {"INVALID_DEVICE_REQUEST", KMSG_AMDVI_INVALID_DEVICE_REQUEST, F_DEV | F_ADDR | F_FLAGS, F_PASID},
    {"INVALID_PPR_REQUEST", KMSG_AMDVI_INVALID_PPR_REQUEST, F_DEV | F_ADDR | F_FLAGS, F_PASID | F_TAG},
    {"RMP_PAGE_FAULT", KMSG_AMDVI_RMP_PAGE_FAULT, F_DEV | F_VMG | F_GPA | F_FRMP | F_FLAGS, 0},
    {"RMP_HW_ERROR", KMSG_AMDVI_RMP_HW_ERROR, F_DEV | F_VMG | F_SPA | F_FLAGS, 0},
};

/* What came before the event name. */
struct amdvi_head {
    bool printer_bdf;  /* "<drv> 0000:01:00.0: " */
    bool printer_ivhd; /* "iommu ivhd0: " (4.20+ dev_err on the IOMMU) */
    bool tag;          /* "AMD-Vi: " */
    bool logged;       /* "Event logged [" */
};

static bool parse_ivhd_printer(struct kmsg_cur *c)
{
    /* dev_err(iommu->iommu.dev): class "iommu", name "ivhd%d"
     * (amd_iommu_init.c iommu_device_sysfs_add, 4.20+) */
    struct kmsg_cur t = *c;
    uint64_t n;
    if (!kc_lit(&t, "iommu ivhd") || !kc_dec(&t, 3, &n) || !kc_lit(&t, ": "))
        return false;
    *c = t;
    return true;
}

/* "<EVENT> key=value ...]" from c; h says what preceded it. */
static enum kmsg_status parse_event(struct kmsg_cur *c, const struct amdvi_head *h,
                                    struct kmsg *m)
{
    const struct amdvi_event *ev = NULL;
    for (size_t i = 0; i < sizeof amdvi_events / sizeof amdvi_events[0]; i++) {
        struct kmsg_cur t = *c;
        if (kc_lit(&t, amdvi_events[i].name) && (t.p == t.end || *t.p == ' ')) {
            ev = &amdvi_events[i];
            *c = t;
            break;
        }
    }
    if (!ev)
        return KMSG_NO_MATCH;
    m->family = KMSG_FAM_AMDVI;
    m->kind = ev->kind;

    unsigned seen = 0;
    int addr_digits = 0;
    bool dev_seg = false;
    for (;;) {
        size_t sp = kc_spaces(c);
        if (c->p == c->end)
            return KMSG_PARTIAL; /* a wrapped line: the rest is in the next record */
        if (*c->p == ']')
            break;
        if (sp == 0 && seen)
            return KMSG_NO_MATCH;
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof amdvi_keys / sizeof amdvi_keys[0]; i++) {
            struct kmsg_cur t = *c;
            if (kc_lit(&t, amdvi_keys[i].key)) {
                bit = amdvi_keys[i].bit;
                *c = t;
                break;
            }
            if (t.short_text)
                return KMSG_PARTIAL; /* "... addr" at the end of a wrapped line */
        }
        if (!bit || (seen & bit) || !((ev->need | ev->may) & bit))
            return KMSG_NO_MATCH;
        seen |= bit;
        if (bit == F_DEV) {
            c->short_text = false;
            if (!kc_bdf(c, &dev_seg, &m->segment, &m->bdf))
                return c->short_text ? KMSG_PARTIAL : KMSG_NO_MATCH;
            m->has_bdf = true;
        } else {
            uint64_t v;
            const char *start;
            c->short_text = false;
            if (!kc_lit(c, "0x"))
                return c->short_text ? KMSG_PARTIAL : KMSG_NO_MATCH;
            start = c->p;
            if (!kc_hex(c, 1, 16, &v))
                return c->short_text ? KMSG_PARTIAL : KMSG_NO_MATCH;
            if (c->p == c->end)
                return KMSG_PARTIAL;
            switch (bit) {
            case F_DOM: m->has_domain = true; m->domain = (uint32_t)v; break;
            case F_PASID: m->has_pasid = true; m->pasid = (uint32_t)v; break;
            case F_ADDR: case F_GPA: case F_SPA:
                m->has_addr = true;
                m->addr = v;
                addr_digits = (int)(c->p - start);
                break;
            case F_FLAGS: m->has_flags = true; m->flags = (uint32_t)v; break;
            case F_FRMP: m->has_reason = true; m->reason = (uint32_t)v; break;
            default: m->number = v; break; /* tag=, vmg_tag= */
            }
            if (v > 0xffffffffu && bit != F_ADDR && bit != F_GPA && bit != F_SPA)
                return KMSG_NO_MATCH;
        }
        /* the RMP forms separate their fields with ", " (6.x) */
        if (c->p < c->end && *c->p == ',')
            c->p++;
    }
    c->p++; /* ']' */
    if (!kc_at_end(c))
        return KMSG_NO_MATCH;

    unsigned need = ev->need;
    if (h->printer_bdf)
        need &= ~(unsigned)F_DEV; /* the prefix names the device */
    /* The dev_err/pci_err forms (IO_PAGE_FAULT 4.20+, RMP_* 6.x) quoted
     * without their "<drv> 0000:01:00.0: " prefix: "AMD-Vi: Event logged
     * [IO_PAGE_FAULT domain=... address=... flags=...]". No version's
     * pr_err form leaves device= out, so the event is whole; only the
     * requester is unknown. */
    bool cut = !h->printer_bdf && !h->printer_ivhd && h->tag && h->logged &&
               !(seen & F_DEV) &&
               (ev->kind == KMSG_AMDVI_IO_PAGE_FAULT || ev->kind == KMSG_AMDVI_RMP_PAGE_FAULT ||
                ev->kind == KMSG_AMDVI_RMP_HW_ERROR);
    if (cut)
        need &= ~(unsigned)F_DEV;
    if ((seen & need) != need)
        return KMSG_NO_MATCH;
    if (ev->kind == KMSG_AMDVI_PAGE_TAB_HARDWARE_ERROR && !(seen & (F_DOM | F_PASID)))
        return KMSG_NO_MATCH;
    if (h->printer_bdf && (seen & F_DEV))
        return KMSG_NO_MATCH; /* no version prints both */
    if (h->printer_bdf) {
        m->has_bdf = true;
        m->segment = m->printer_segment;
        m->bdf = m->printer_bdf;
    }
    if (ev->kind == KMSG_AMDVI_IO_PAGE_FAULT)
        /* 48882 2.5.3: RW, dword1[21], 1 = write */
        m->dir = (m->flags & 0x020) ? KMSG_DIR_WRITE : KMSG_DIR_READ;

    const char *fmt;
    bool wide = addr_digits == 16;
    if (dev_seg)
        fmt = h->printer_ivhd ? "amdvi-6.1-seg-ivhd" : "amdvi-6.1-seg";
    else if (h->printer_bdf)
        fmt = wide ? "amdvi-dev-4.x" : "amdvi-dev";
    else if (cut)
        fmt = wide ? "amdvi-dev-4.x-cut" : "amdvi-dev-5.x-cut";
    else if (!h->logged)
        fmt = "amdvi-split";
    else if (h->printer_ivhd)
        fmt = wide ? "amdvi-4.x-ivhd" : "amdvi-5.x-ivhd";
    else
        fmt = wide ? "amdvi-4.x" : "amdvi-5.x";
    strncpy(m->format, fmt, sizeof m->format - 1);
    return KMSG_MATCH;
}

/* "UNKNOWN type=0x%02x]" (4.x split) or "UNKNOWN event[0]=0x%08x event[1]=
 * 0x%08x event[2]=0x%08x event[3]=0x%08x" (4.20+, no closing bracket). */
static enum kmsg_status parse_unknown(struct kmsg_cur *c, struct kmsg *m)
{
    uint64_t v;
    if (!kc_lit(c, "UNKNOWN "))
        return c->short_text ? KMSG_PARTIAL : KMSG_NO_MATCH;
    m->family = KMSG_FAM_AMDVI;
    m->kind = KMSG_AMDVI_UNKNOWN_EVENT;
    c->short_text = false;
    if (kc_lit(c, "type=0x")) {
        if (!kc_hex(c, 2, 2, &v) || !kc_lit(c, "]") || !kc_at_end(c))
            return c->short_text ? KMSG_PARTIAL : KMSG_NO_MATCH;
        m->has_reason = true;
        m->reason = (uint32_t)v;
        strncpy(m->format, "amdvi-unknown-4.x", sizeof m->format - 1);
        return KMSG_MATCH;
    }
    uint32_t ev[4];
    for (int i = 0; i < 4; i++) {
        static const char *const keys[4] = {"event[0]=0x", "event[1]=0x", "event[2]=0x",
                                            "event[3]=0x"};
        if (i)
            kc_spaces(c);
        if (!kc_lit(c, keys[i]) || !kc_hex(c, 8, 8, &v))
            return c->short_text ? KMSG_PARTIAL : KMSG_NO_MATCH;
        ev[i] = (uint32_t)v;
    }
    if (!kc_at_end(c))
        return KMSG_NO_MATCH;
    /* 48882 2.5.1 event log entry: EventCode dword1[31:28] (Linux:
     * EVENT_TYPE_SHIFT 28, EVENT_TYPE_MASK 0xf); the rest depends on it */
    m->has_reason = true;
    m->reason = ev[1] >> 28;
    m->has_addr = true;
    m->addr = (uint64_t)ev[3] << 32 | ev[2];
    kmsg_copy(m->detail, sizeof m->detail, "", 0);
    char *d = m->detail;
    static const char hx[] = "0123456789abcdef";
    /* "0x%08x 0x%08x 0x%08x 0x%08x" without stdio in the hot path */
    for (int i = 0; i < 4; i++) {
        *d++ = '0', *d++ = 'x';
        for (int s = 28; s >= 0; s -= 4)
            *d++ = hx[(ev[i] >> s) & 0xf];
        *d++ = i < 3 ? ' ' : '\0';
    }
    strncpy(m->format, "amdvi-unknown", sizeof m->format - 1);
    return KMSG_MATCH;
}

enum kmsg_status kmsg_parse_amdvi(const char *text, size_t len, struct kmsg *out)
{
    struct kmsg m;
    struct amdvi_head h = {0};
    struct kmsg_cur c = {text, text + len, false};
    uint64_t v, idx;
    memset(&m, 0, sizeof m);

    kc_spaces(&c);
    if (kc_printer(&c, &m))
        h.printer_bdf = true;
    else if (parse_ivhd_printer(&c))
        h.printer_ivhd = true;
    h.tag = kc_lit(&c, "AMD-Vi: ");
    if (h.tag) {
        struct kmsg_cur t = c;
        if (kc_lit(&t, "Event logged [")) {
            h.logged = true;
            c = t;
            kc_spaces(&c); /* a caller that joined the split records with ' ' */
            if (c.p == c.end)
                return KMSG_PARTIAL; /* 4.9-4.19: the rest is the next record */
        } else if (!h.printer_bdf && !h.printer_ivhd) {
            /* wait_on_sem: 4.x pr_alert("AMD-Vi: Completion-Wait loop timed
             * out\n"); 5.x+ pr_alert("Completion-Wait loop timed out\n") with
             * pr_fmt "AMD-Vi: " (amd_iommu.c v4.9.80, amd/iommu.c v5.15, v6.1) */
            t = c;
            if (kc_lit(&t, "Completion-Wait loop timed out") && kc_at_end(&t)) {
                m.family = KMSG_FAM_AMDVI;
                m.kind = KMSG_AMDVI_COMPLETION_WAIT_TIMEOUT;
                strncpy(m.format, "amdvi-completion-wait", sizeof m.format - 1);
                *out = m;
                return KMSG_MATCH;
            }
            /* amd_iommu_int_thread: pr_info_ratelimited("IOMMU event log
             * overflow\n") (amd/iommu.c 5.17+, 5.15.y stable, v6.1) */
            t = c;
            if (kc_lit(&t, "IOMMU event log overflow") && kc_at_end(&t)) {
                m.family = KMSG_FAM_AMDVI;
                m.kind = KMSG_AMDVI_EVENT_OVERFLOW;
                strncpy(m.format, "amdvi-evt-overflow", sizeof m.format - 1);
                *out = m;
                return KMSG_MATCH;
            }
            /* dump_dte_entry: pr_err("AMD-Vi: DTE[%d]: %016llx\n") (4.x),
             * pr_err("DTE[%d]: %016llx\n") + pr_fmt (5.x, 6.x), after an
             * ILLEGAL_DEV_TABLE_ENTRY; dump_command: "CMD[%d]: %08x" after
             * ILLEGAL_COMMAND_ERROR. number = the dumped value, reason =
             * the index. */
            t = c;
            bool dte = kc_lit(&t, "DTE[");
            if (dte || kc_lit(&t, "CMD[")) {
                if (kc_dec(&t, 1, &idx) && idx < 8 && kc_lit(&t, "]: ") &&
                    kc_hex(&t, dte ? 16 : 8, dte ? 16 : 8, &v) && kc_at_end(&t)) {
                    m.family = KMSG_FAM_AMDVI;
                    m.kind = dte ? KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY
                                 : KMSG_AMDVI_ILLEGAL_COMMAND_ERROR;
                    m.has_reason = true;
                    m.reason = (uint32_t)idx;
                    m.number = v;
                    strncpy(m.format, dte ? "amdvi-dte-dump" : "amdvi-cmd-dump",
                            sizeof m.format - 1);
                    *out = m;
                    return KMSG_MATCH;
                }
                return KMSG_NO_MATCH;
            }
            return KMSG_NO_MATCH; /* another AMD-Vi line: kmsg_other's context */
        } else {
            return KMSG_NO_MATCH;
        }
    } else if (h.printer_bdf) {
        return KMSG_NO_MATCH; /* a driver's line: not an AMD-Vi event */
    }
    /* Without "Event logged [" only the second record of the split form
     * (the bare event, 4.9-4.19; "iommu ivhd0: <EVENT>", 4.20) starts with
     * the event's name. */
    if (h.tag && !h.logged)
        return KMSG_NO_MATCH;
    enum kmsg_status st;
    struct kmsg_cur t = c;
    t.short_text = false;
    st = parse_unknown(&t, &m);
    if (st == KMSG_NO_MATCH && !t.short_text)
        st = parse_event(&c, &h, &m);
    if (st == KMSG_MATCH)
        *out = m;
    if (st == KMSG_PARTIAL && !h.logged && m.kind == KMSG_UNKNOWN_KIND)
        return KMSG_NO_MATCH;
    return st;
}
