/* ARM SMMU v2/v3, dma-debug, swiotlb, AER and the context lines (kmsg.h).
 * Each format names the file and version it was read from; the table is in
 * docs/explain-messages.md. Trees read: mincepi/linux-4.9.80 (4.9.80),
 * a4913994/linux-4.20 (4.20.0), sndrzt/linux-5.15 (5.15.0),
 * krr-io/linux-6.1.0 (6.1-rc7), and a recent mainline arm-smmu-v3.c for the
 * named SMMUv3 events (arm_smmu_dump_event). */
#include <string.h>

#include "diag/kmsg_priv.h"

static void set_fmt(struct kmsg *m, const char *f)
{
    strncpy(m->format, f, sizeof m->format - 1);
    m->format[sizeof m->format - 1] = '\0';
}

/* Any dev_printk prefix "<a> <b>: " (driver/bus/class and device name, no
 * blanks in either); the PCI one fills printer_* via kc_printer. */
static bool any_printer(struct kmsg_cur *c, struct kmsg *m)
{
    if (kc_printer(c, m))
        return true;
    const char *q = c->p, *sp = NULL;
    while (q < c->end && q - c->p < 96) {
        if (*q == ' ') {
            if (sp)
                break;
            sp = q;
        } else if (*q == ':' && sp && q + 1 < c->end && q[1] == ' ' && q > sp + 1) {
            kmsg_copy(m->printer_driver, sizeof m->printer_driver, c->p, (size_t)(sp - c->p));
            c->p = q + 2;
            return true;
        }
        q++;
    }
    return false;
}

/* "0x" hex, at most 16 digits */
static bool hex0x(struct kmsg_cur *c, uint64_t *v)
{
    return kc_lit(c, "0x") && kc_hex(c, 1, 16, v);
}

/* %#x / %#llx: "0" or "0x..." */
static bool althex(struct kmsg_cur *c, uint64_t *v)
{
    struct kmsg_cur t = *c;
    if (kc_lit(&t, "0x") && kc_hex(&t, 1, 16, v)) {
        *c = t;
        return true;
    }
    t = *c;
    if (kc_lit(&t, "0") && (t.p == t.end || *t.p == ' ' || *t.p == ',')) {
        *v = 0;
        *c = t;
        return true;
    }
    return false;
}

/* ---- ARM SMMU v2: arm_smmu_context_fault ----
 * 4.9.80 drivers/iommu/arm-smmu.c: "Unhandled context fault: fsr=0x%x,
 *   iova=0x%08lx, fsynr=0x%x, cb=%d\n" (dev_err_ratelimited(smmu->dev))
 * 5.15/6.1 drivers/iommu/arm/arm-smmu/arm-smmu.c: "Unhandled context fault:
 *   fsr=0x%x, iova=0x%08lx, fsynr=0x%x, cbfrsynra=0x%x, cb=%d\n"
 * flags = FSR, addr = IOVA (FAR), number = FSYNR0, reason = CBFRSYNRA (the
 * stream ID that faulted), domain = the context bank. */
static enum kmsg_status smmu_v2(const char *at, const char *end, struct kmsg *m)
{
    struct kmsg_cur c = {at + strlen("Unhandled context fault: "), end, false};
    uint64_t fsr, iova, fsynr, cbfr = 0, cb;
    bool has_cbfr = false;
    if (!kc_lit(&c, "fsr=") || !hex0x(&c, &fsr) || !kc_lit(&c, ", iova=") ||
        !hex0x(&c, &iova) || !kc_lit(&c, ", fsynr=") || !hex0x(&c, &fsynr) || !kc_lit(&c, ", "))
        return KMSG_NO_MATCH;
    if (kc_lit(&c, "cbfrsynra=")) {
        if (!hex0x(&c, &cbfr) || !kc_lit(&c, ", "))
            return KMSG_NO_MATCH;
        has_cbfr = true;
    }
    if (!kc_lit(&c, "cb=") || !kc_dec(&c, 3, &cb) || !kc_at_end(&c))
        return KMSG_NO_MATCH;
    m->family = KMSG_FAM_SMMU;
    m->kind = KMSG_SMMU_CONTEXT_FAULT;
    m->has_flags = true;
    m->flags = (uint32_t)fsr;
    m->has_addr = true;
    m->addr = iova;
    m->number = fsynr;
    m->has_domain = true;
    m->domain = (uint32_t)cb;
    if (has_cbfr) {
        m->has_reason = true;
        m->reason = (uint32_t)cbfr;
    }
    /* FSYNR0.WNR, bit 4 (ARM IHI0062 SMMUv2, 10.6.13 SMMU_CBn_FSYNR0) */
    m->dir = (fsynr & 0x10) ? KMSG_DIR_WRITE : KMSG_DIR_READ;
    set_fmt(m, has_cbfr ? "smmu-v2-5.x" : "smmu-v2-4.x");
    return KMSG_MATCH;
}

/* SMMUv3 event record names (ARM IHI0070 SMMUv3, 7.3 "Event records",
 * the names Linux's event_str[] prints). */
static const struct {
    const char *name;
    uint8_t id;
} smmuv3_events[] = {
    {"F_UUT", 0x01}, {"C_BAD_STREAMID", 0x02}, {"F_STE_FETCH", 0x03}, {"C_BAD_STE", 0x04},
    {"F_BAD_ATS_TREQ", 0x05}, {"F_STREAM_DISABLED", 0x06}, {"F_TRANSL_FORBIDDEN", 0x07},
    {"C_BAD_SUBSTREAMID", 0x08}, {"F_CD_FETCH", 0x09}, {"C_BAD_CD", 0x0a},
    {"F_WALK_EABT", 0x0b}, {"F_TRANSLATION", 0x10}, {"F_ADDR_SIZE", 0x11},
    {"F_ACCESS", 0x12}, {"F_PERMISSION", 0x13}, {"F_TLB_CONFLICT", 0x20},
    {"F_CFG_CONFLICT", 0x21}, {"E_PAGE_REQUEST", 0x24}, {"F_VMS_FETCH", 0x25},
};

/* SMMUv3 (arm-smmu-v3.c arm_smmu_evtq_thread 4.9.80 / 6.1:
 *   dev_info(smmu->dev, "event 0x%02x received:\n", id) then for each of the
 *   4 dwords dev_info(smmu->dev, "\t0x%016llx\n", evt[i]);
 * recent mainline arm_smmu_dump_event: dev_err "event 0x%02x received:", the
 *   raw dwords, then "event: %s client: %s sid: %#x ssid: %#x iova: %#llx
 *   ipa: %#llx" and "%s %s %s %s \"%s\"%s%s stag: %#x"). */
static enum kmsg_status smmu_v3(struct kmsg_cur *c, struct kmsg *m)
{
    struct kmsg_cur t = *c;
    uint64_t v;
    if (kc_lit(&t, "event 0x")) {
        if (!kc_hex(&t, 2, 2, &v) || !kc_lit(&t, " received:") || !kc_at_end(&t))
            return KMSG_NO_MATCH;
        m->family = KMSG_FAM_SMMU;
        m->kind = KMSG_SMMU_EVENT;
        m->has_reason = true;
        m->reason = (uint32_t)v;
        for (size_t i = 0; i < sizeof smmuv3_events / sizeof smmuv3_events[0]; i++)
            if (smmuv3_events[i].id == v)
                kmsg_copy(m->detail, sizeof m->detail, smmuv3_events[i].name,
                          strlen(smmuv3_events[i].name));
        set_fmt(m, "smmuv3-event");
        return KMSG_MATCH;
    }
    t = *c;
    if (kc_lit(&t, "event: ")) {
        const char *name = t.p;
        while (t.p < t.end && *t.p != ' ')
            t.p++;
        size_t nlen = (size_t)(t.p - name);
        int id = -1;
        for (size_t i = 0; i < sizeof smmuv3_events / sizeof smmuv3_events[0]; i++)
            if (strlen(smmuv3_events[i].name) == nlen && !memcmp(name, smmuv3_events[i].name, nlen))
                id = smmuv3_events[i].id;
        if (id < 0 && !(nlen == 7 && !memcmp(name, "UNKNOWN", 7)))
            return KMSG_NO_MATCH;
        if (!kc_lit(&t, " client: "))
            return KMSG_NO_MATCH;
        struct kmsg_cur cl = t;
        bool has_seg;
        uint16_t seg, bdf;
        if (kc_bdf(&cl, &has_seg, &seg, &bdf) && has_seg && cl.p < cl.end && *cl.p == ' ') {
            m->has_bdf = true;
            m->segment = seg;
            m->bdf = bdf;
        }
        /* the client is a device name or "(unassigned sid)" */
        const char *sid = kmsg_find(t.p, (size_t)(t.end - t.p), " sid: ");
        if (!sid)
            return KMSG_NO_MATCH;
        t.p = sid + 6;
        uint64_t s, ss;
        if (!althex(&t, &s) || !kc_lit(&t, " ssid: ") || !althex(&t, &ss))
            return KMSG_NO_MATCH;
        m->number = s;
        m->has_pasid = true;
        m->pasid = (uint32_t)ss;
        if (kc_lit(&t, " iova: ")) {
            if (!althex(&t, &v) || !kc_lit(&t, " ipa: ") || !althex(&t, &s))
                return KMSG_NO_MATCH;
            m->has_addr = true;
            m->addr = v;
        } else if (kc_lit(&t, " fetch_addr: ")) {
            if (!althex(&t, &v))
                return KMSG_NO_MATCH;
            m->has_addr = true;
            m->addr = v;
        }
        if (!kc_at_end(&t))
            return KMSG_NO_MATCH;
        m->family = KMSG_FAM_SMMU;
        m->kind = KMSG_SMMU_EVENT;
        if (id >= 0) {
            m->has_reason = true;
            m->reason = (uint32_t)id;
        }
        kmsg_copy(m->detail, sizeof m->detail, name, nlen);
        set_fmt(m, "smmuv3-named");
        return KMSG_MATCH;
    }
    /* "unpriv data write s1 \"TTD\"..." */
    t = *c;
    if ((kc_lit(&t, "unpriv ") || kc_lit(&t, "priv ")) &&
        (kc_lit(&t, "data ") || kc_lit(&t, "inst "))) {
        bool w = kc_lit(&t, "write ");
        if (!w && !kc_lit(&t, "read "))
            return KMSG_NO_MATCH;
        if (!(kc_lit(&t, "s1 \"") || kc_lit(&t, "s2 \"")))
            return KMSG_NO_MATCH;
        if (!kmsg_find(t.p, (size_t)(t.end - t.p), " stag: "))
            return KMSG_NO_MATCH;
        m->family = KMSG_FAM_SMMU;
        m->kind = KMSG_SMMU_EVENT;
        m->dir = w ? KMSG_DIR_WRITE : KMSG_DIR_READ;
        kmsg_copy(m->detail, sizeof m->detail, c->p, (size_t)(c->end - c->p));
        set_fmt(m, "smmuv3-attrs");
        return KMSG_MATCH;
    }
    /* one raw dword: "\t0x%016llx" */
    t = *c;
    kc_spaces(&t);
    if (kc_lit(&t, "0x") && kc_hex(&t, 16, 16, &v) && kc_at_end(&t)) {
        m->family = KMSG_FAM_SMMU;
        m->kind = KMSG_SMMU_EVENT;
        m->number = v;
        set_fmt(m, "smmuv3-dword");
        return KMSG_MATCH;
    }
    return KMSG_NO_MATCH;
}

/* ---- dma-debug ----
 * 4.9.80 lib/dma-debug.c err_printk: WARN(1, "%s %s: " format, driver, dev)
 *   with formats that start "DMA-API: device driver ..."; global lines
 *   pr_err("DMA-API: debugging out of memory - disabling\n"), "DMA-API:
 *   debugging out of memory error - disabled", "DMA-API: exceeded %d
 *   overlapping mappings of cacheline %pa".
 * 5.x/6.1 kernel/dma/debug.c: pr_fmt "DMA-API: ", err_printk WARN(1,
 *   pr_fmt("%s %s: ") format, ...): "DMA-API: <drv> <dev>: device driver
 *   ..."; pr_err("debugging out of memory - disabling\n").
 * addr = the [device address=0x...] the sentence names, number = its
 * [size=N bytes]; detail = the sentence. */
static void dma_debug_fields(const char *p, const char *end, struct kmsg *m)
{
    const char *a = kmsg_find(p, (size_t)(end - p), "device address=0x");
    uint64_t v;
    if (a) {
        struct kmsg_cur c = {a + strlen("device address=0x"), end, false};
        if (kc_hex(&c, 1, 16, &v)) {
            m->has_addr = true;
            m->addr = v;
        }
    }
    a = kmsg_find(p, (size_t)(end - p), "[size=");
    if (a) {
        struct kmsg_cur c = {a + 6, end, false};
        if (kc_dec(&c, 20, &v))
            m->number = v;
    }
}

/* s: after "device driver ". Every err_printk sentence but one names its
 * values in brackets ("[device address=0x%016llx] [size=%llu bytes]",
 * "[addr=%p]", "[count=%d]" ...; lib/dma-debug.c v4.9.80, kernel/dma/debug.c
 * v6.1); the one without is "tries to free an invalid DMA memory address"
 * (check_unmap). A sentence without '[' was wrapped before its values: the
 * rest is the next record. A wrap inside the values ("[size=2048") keeps
 * what was read: the next line of such a paste is the WARN's backtrace. */
static bool dma_debug_wrapped(const struct kmsg_cur *s)
{
    struct kmsg_cur t = *s;
    if (kc_lit(&t, "tries to free an invalid DMA memory address"))
        return false;
    return memchr(s->p, '[', (size_t)(s->end - s->p)) == NULL;
}

static enum kmsg_status dma_debug(struct kmsg_cur *c, struct kmsg *m)
{
    struct kmsg_cur t = *c;
    if (!kc_lit(&t, "DMA-API: ")) {
        /* 4.x: WARN's text is "%s %s: " + "DMA-API: device driver ...", so
         * the record starts with the device: "<drv> <dev>: DMA-API: ..."
         * (a PCI function's BDF, or any other device: "net eth0: ",
         * "dwc_otg bcm2708_usb: ") */
        struct kmsg_cur d = *c, s;
        if (!any_printer(&d, m) || !kc_lit(&d, "DMA-API: "))
            return KMSG_NO_MATCH;
        s = d;
        if (!kc_lit(&s, "device driver "))
            return KMSG_NO_MATCH;
        m->family = KMSG_FAM_DMA_DEBUG;
        m->kind = KMSG_DMA_DEBUG;
        if (dma_debug_wrapped(&s))
            return KMSG_PARTIAL;
        if (m->has_printer) {
            m->has_bdf = true;
            m->segment = m->printer_segment;
            m->bdf = m->printer_bdf;
        }
        kmsg_copy(m->detail, sizeof m->detail, d.p, (size_t)(d.end - d.p));
        dma_debug_fields(d.p, d.end, m);
        set_fmt(m, "dma-debug-4.x");
        return KMSG_MATCH;
    }
    m->family = KMSG_FAM_DMA_DEBUG;
    m->kind = KMSG_DMA_DEBUG;
    static const char *const global[] = {
        "debugging out of memory - disabling", "debugging out of memory error - disabled",
        "cacheline tracking ENOMEM, dma-debug disabled", "exceeded ",
        "cpu touching an active dma mapped cacheline",
    };
    for (size_t i = 0; i < sizeof global / sizeof global[0]; i++) {
        struct kmsg_cur g = t;
        if (kc_lit(&g, global[i])) {
            kmsg_copy(m->detail, sizeof m->detail, t.p, (size_t)(t.end - t.p));
            set_fmt(m, "dma-debug-global");
            return KMSG_MATCH;
        }
    }
    /* "<drv> <dev>: " then the sentence; "NULL NULL: " when no device */
    struct kmsg_cur d = t;
    if (!kc_printer(&d, m)) {
        if (!any_printer(&d, m))
            return KMSG_NO_MATCH;
    } else {
        m->has_bdf = true;
        m->segment = m->printer_segment;
        m->bdf = m->printer_bdf;
    }
    bool old = kc_lit(&d, "DMA-API: "); /* 4.x repeats it in the format */
    struct kmsg_cur s = d;
    struct kmsg_cur dd = s;
    if (kc_lit(&dd, "device driver ")) {
        if (dma_debug_wrapped(&dd))
            return KMSG_PARTIAL;
    } else if (!kc_lit(&s, "cpu touching")) {
        return KMSG_NO_MATCH;
    }
    kmsg_copy(m->detail, sizeof m->detail, d.p, (size_t)(d.end - d.p));
    dma_debug_fields(d.p, d.end, m);
    set_fmt(m, old ? "dma-debug-4.x" : "dma-debug-5.x");
    return KMSG_MATCH;
}

/* ---- swiotlb ----
 * 4.9.80 lib/swiotlb.c swiotlb_tbl_map_single: dev_warn(hwdev, "swiotlb
 *   buffer is full (sz: %zd bytes)\n", size); swiotlb_map_page... older
 *   path: dev_warn(hwdev, "swiotlb buffer is full\n") (:562);
 *   swiotlb_full: printk(KERN_ERR "DMA: Out of SW-IOMMU space for %zu bytes
 *   at device %s\n") (:731).
 * 6.1 kernel/dma/swiotlb.c swiotlb_tbl_map_single: dev_warn_ratelimited(dev,
 *   "swiotlb buffer is full (sz: %zd bytes), total %lu (slots), used %lu
 *   (slots)\n"). number = sz, flags = used slots, domain = total slots. */
static enum kmsg_status swiotlb(struct kmsg_cur *c, struct kmsg *m)
{
    struct kmsg_cur t = *c;
    uint64_t sz, total, used;
    if (kc_lit(&t, "DMA: Out of SW-IOMMU space for ")) {
        if (!kc_dec(&t, 20, &sz) || !kc_lit(&t, " bytes at device "))
            return KMSG_NO_MATCH;
        struct kmsg_cur b = t;
        bool has_seg;
        uint16_t seg, bdf;
        if (kc_bdf(&b, &has_seg, &seg, &bdf) && has_seg && kc_at_end(&b)) {
            m->has_bdf = true;
            m->segment = seg;
            m->bdf = bdf;
        }
        kmsg_copy(m->detail, sizeof m->detail, t.p, (size_t)(t.end - t.p));
        m->family = KMSG_FAM_SWIOTLB;
        m->kind = KMSG_SW_IOMMU_SPACE;
        m->number = sz;
        set_fmt(m, "sw-iommu-space");
        return KMSG_MATCH;
    }
    if (!kc_lit(&t, "swiotlb buffer is full"))
        return KMSG_NO_MATCH;
    m->family = KMSG_FAM_SWIOTLB;
    m->kind = KMSG_SWIOTLB_FULL;
    if (kc_at_end(&t)) {
        set_fmt(m, "swiotlb-full-bare");
        return KMSG_MATCH;
    }
    /* a line wrapped inside the sentence ("... (sz: 262144 bytes)," then
     * "total 524288 (slots), used 523564 (slots)"): the rest is the next
     * record (KMSG_PARTIAL), which the caller joins with a space */
    t.short_text = false;
    if (!kc_lit(&t, " (sz: ") || !kc_dec(&t, 20, &sz) || !kc_lit(&t, " bytes)"))
        return t.short_text ? KMSG_PARTIAL : KMSG_NO_MATCH;
    m->number = sz;
    if (kc_at_end(&t)) {
        set_fmt(m, "swiotlb-full-4.x");
        return KMSG_MATCH;
    }
    t.short_text = false;
    if (!kc_lit(&t, ", total ") || !kc_dec(&t, 20, &total) || !kc_lit(&t, " (slots), used ") ||
        !kc_dec(&t, 20, &used) || !kc_lit(&t, " (slots)") || !kc_at_end(&t))
        return t.short_text ? KMSG_PARTIAL : KMSG_NO_MATCH;
    m->has_domain = true;
    m->domain = (uint32_t)total;
    m->has_flags = true;
    m->flags = (uint32_t)used;
    set_fmt(m, "swiotlb-full-5.x");
    return KMSG_MATCH;
}

/* ---- AER (always after a PCI dev_printk prefix) ----
 * 4.9.80 drivers/pci/pcie/aer/aerdrv_errprint.c: dev_info "AER: %s%s error
 *   received: id=%04x"; dev_err "PCIe Bus Error: severity=%s, type=%s,
 *   id=%04x(%s)"; "  device [%04x:%04x] error status/mask=%08x/%08x";
 *   "   [%2d] %-22s%s"; "  TLP Header: %08x %08x %08x %08x".
 * 6.1 drivers/pci/pcie/aer.c (pr_fmt/dev_fmt "AER: "): "%s%s error
 *   received: %04x:%02x:%02x.%d"; "PCIe Bus Error: severity=%s, type=%s,
 *   (%s)"; the same device/bit/TLP lines with "AER: " before them.
 * bdf = the requester the line names (error source / id), flags = the
 * status, number = the mask, reason = the bit, detail = the words. */
static enum kmsg_status aer(struct kmsg_cur *c, struct kmsg *m)
{
    struct kmsg_cur t = *c;
    uint64_t v, w;
    bool tag = kc_lit(&t, "AER: ");
    m->family = KMSG_FAM_AER;
    m->kind = KMSG_AER;
    const char *rec = kmsg_find(t.p, (size_t)(t.end - t.p), " error received: ");
    if (rec) {
        kmsg_copy(m->detail, sizeof m->detail, t.p, (size_t)(rec - t.p));
        struct kmsg_cur r = {rec + strlen(" error received: "), t.end, false};
        bool has_seg;
        uint16_t seg, bdf;
        if (kc_lit(&r, "id=")) {
            if (!kc_hex(&r, 4, 4, &v) || !kc_at_end(&r))
                return KMSG_NO_MATCH;
            m->has_bdf = true;
            m->segment = m->printer_segment;
            m->bdf = (uint16_t)v;
            set_fmt(m, "aer-4.x-received");
        } else {
            if (!kc_bdf(&r, &has_seg, &seg, &bdf) || !has_seg || !kc_at_end(&r))
                return KMSG_NO_MATCH;
            m->has_bdf = true;
            m->segment = seg;
            m->bdf = bdf;
            set_fmt(m, "aer-5.x-received");
        }
        if (!tag)
            return KMSG_NO_MATCH;
        return KMSG_MATCH;
    }
    /* the other lines are printed on the device that had the error */
    m->has_bdf = true;
    m->segment = m->printer_segment;
    m->bdf = m->printer_bdf;
    struct kmsg_cur b = t;
    if (kc_lit(&b, "PCIe Bus Error: severity=")) {
        const char *ty = kmsg_find(b.p, (size_t)(b.end - b.p), ", type=");
        if (!ty)
            return KMSG_NO_MATCH;
        kmsg_copy(m->detail, sizeof m->detail, b.p, (size_t)(b.end - b.p));
        const char *id = kmsg_find(ty, (size_t)(b.end - ty), ", id=");
        if (id) {
            struct kmsg_cur r = {id + 5, b.end, false};
            if (kc_hex(&r, 4, 4, &v)) {
                m->has_bdf = true;
                m->segment = m->printer_segment;
                m->bdf = (uint16_t)v;
            }
            set_fmt(m, "aer-4.x-bus-error");
        } else {
            set_fmt(m, "aer-5.x-bus-error");
        }
        return KMSG_MATCH;
    }
    b = t;
    kc_spaces(&b);
    if (kc_lit(&b, "device [")) {
        if (!kc_hex(&b, 4, 4, &v) || !kc_lit(&b, ":") || !kc_hex(&b, 4, 4, &w) ||
            !kc_lit(&b, "] error status/mask="))
            return KMSG_NO_MATCH;
        uint64_t st, mk;
        if (!kc_hex(&b, 8, 8, &st) || !kc_lit(&b, "/") || !kc_hex(&b, 8, 8, &mk) || !kc_at_end(&b))
            return KMSG_NO_MATCH;
        m->has_flags = true;
        m->flags = (uint32_t)st;
        m->number = mk;
        static const char hx[] = "0123456789abcdef";
        char *d = m->detail;
        for (int s = 12; s >= 0; s -= 4)
            *d++ = hx[(v >> s) & 0xf];
        *d++ = ':';
        for (int s = 12; s >= 0; s -= 4)
            *d++ = hx[(w >> s) & 0xf];
        *d = '\0';
        set_fmt(m, "aer-status");
        return KMSG_MATCH;
    }
    b = t;
    kc_spaces(&b);
    if (kc_lit(&b, "[")) {
        kc_spaces(&b);
        if (!kc_dec(&b, 2, &v) || v > 31 || !kc_lit(&b, "] "))
            return KMSG_NO_MATCH;
        kmsg_copy(m->detail, sizeof m->detail, b.p, (size_t)(b.end - b.p));
        if (!m->detail[0])
            return KMSG_NO_MATCH;
        m->has_reason = true;
        m->reason = (uint32_t)v;
        set_fmt(m, "aer-bit");
        return KMSG_MATCH;
    }
    b = t;
    kc_spaces(&b);
    if (kc_lit(&b, "TLP Header: ")) {
        kmsg_copy(m->detail, sizeof m->detail, b.p, (size_t)(b.end - b.p));
        set_fmt(m, "aer-tlp-header");
        return KMSG_MATCH;
    }
    return KMSG_NO_MATCH;
}

/* ---- context ---- */
static enum kmsg_status ctx(struct kmsg *m, enum kmsg_kind k, const char *fmt,
                            const char *detail, size_t dlen)
{
    m->family = KMSG_FAM_CONTEXT;
    m->kind = k;
    if (detail)
        kmsg_copy(m->detail, sizeof m->detail, detail, dlen);
    set_fmt(m, fmt);
    return KMSG_MATCH;
}

/* Lines that say the IOMMU is on or off. */
static const struct {
    const char *text;
    enum kmsg_kind kind;
    const char *fmt;
} onoff[] = {
    /* amd_iommu_init.c print_iommu_info 4.9.80: pr_info("AMD-Vi: Found IOMMU
     * at %s cap 0x%hx\n"); amd/init.c 5.15/6.1: pci_info(pdev, "Found IOMMU
     * cap 0x%x\n") with pr_fmt "AMD-Vi: " */
    {"AMD-Vi: Found IOMMU", KMSG_CTX_IOMMU_ON, "ctx-amdvi-found"},
    /* the same functions: "AMD-Vi: Interrupt remapping enabled" */
    {"AMD-Vi: Interrupt remapping enabled", KMSG_CTX_IOMMU_ON, "ctx-amdvi-ir"},
    {"AMD-Vi: Lazy IO/TLB flushing enabled", KMSG_CTX_IOMMU_ON, "ctx-amdvi-lazy"},
    {"AMD-Vi: IO/TLB flush on unmap enabled", KMSG_CTX_IOMMU_ON, "ctx-amdvi-fullflush"},
    /* drivers/iommu/intel-iommu.c 4.9.80 / intel/iommu.c 6.1, pr_fmt "DMAR: ":
     * intel_iommu_setup: pr_info("IOMMU enabled\n"), pr_info("IOMMU
     * disabled\n"); intel_iommu_init: pr_info("Intel(R) Virtualization
     * Technology for Directed I/O\n") */
    {"DMAR: IOMMU enabled", KMSG_CTX_IOMMU_ON, "ctx-dmar-on"},
    {"DMAR: Intel(R) Virtualization Technology for Directed I/O", KMSG_CTX_IOMMU_ON,
     "ctx-dmar-init"},
    {"DMAR: IOMMU disabled", KMSG_CTX_IOMMU_OFF, "ctx-dmar-off"},
    /* arch/x86/kernel/pci-swiotlb.c 4.9.80 / pci-dma.c 6.1: pr_info("PCI-DMA:
     * Using software bounce buffering for IO (SWIOTLB)\n") -- only when no
     * IOMMU translates (or iommu=pt) */
    {"PCI-DMA: Using software bounce buffering for IO (SWIOTLB)", KMSG_CTX_IOMMU_OFF,
     "ctx-swiotlb"},
    /* drivers/iommu/iommu.c 5.15/6.1 iommu_subsys_init: "iommu: Default
     * domain type: %s %s" */
    {"iommu: Default domain type: ", KMSG_CTX_IOMMU_ON, "ctx-iommu-default"},
};

static enum kmsg_status context(struct kmsg_cur *c, struct kmsg *m)
{
    const char *p = c->p, *end = c->end;
    size_t n = (size_t)(end - p);
    struct kmsg_cur t = *c;
    /* init/version.c linux_banner (every version): "Linux version "
     * UTS_RELEASE " (" LINUX_COMPILE_BY "@" ... */
    if (kc_lit(&t, "Linux version ")) {
        const char *v = t.p;
        while (t.p < t.end && *t.p != ' ')
            t.p++;
        if (t.p == v)
            return KMSG_NO_MATCH;
        return ctx(m, KMSG_CTX_KERNEL_VERSION, "ctx-linux-version", v, (size_t)(t.p - v));
    }
    /* init/main.c start_kernel: pr_notice("Kernel command line: %s\n")
     * (4.9.80, 6.1); arch/x86/kernel/setup.c setup_arch (x86_64):
     * "Command line: %s" (4.9.80, 6.1) */
    t = *c;
    if (kc_lit(&t, "Kernel command line: ") || kc_lit(&t, "Command line: "))
        return ctx(m, KMSG_CTX_CMDLINE, "ctx-cmdline", t.p, (size_t)(t.end - t.p));
    for (size_t i = 0; i < sizeof onoff / sizeof onoff[0]; i++) {
        size_t l = strlen(onoff[i].text);
        if (n >= l && !memcmp(p, onoff[i].text, l))
            return ctx(m, onoff[i].kind, onoff[i].fmt, p + l, n - l);
    }
    /* drivers/iommu/iommu.c iommu_group_add_device: 4.9.80/4.20 pr_info
     * "Adding device %s to group %d" (pr_fmt "iommu: "); 5.x/6.1 dev_info(dev,
     * "Adding to iommu group %d") */
    t = *c;
    if (kc_lit(&t, "iommu: Adding device ")) {
        bool has_seg;
        uint16_t seg, bdf;
        uint64_t g;
        if (!kc_bdf(&t, &has_seg, &seg, &bdf) || !has_seg || !kc_lit(&t, " to group ") ||
            !kc_dec(&t, 6, &g) || !kc_at_end(&t))
            return KMSG_NO_MATCH;
        m->has_bdf = true;
        m->segment = seg;
        m->bdf = bdf;
        m->number = g;
        return ctx(m, KMSG_CTX_IOMMU_GROUP, "ctx-group-4.x", NULL, 0);
    }
    return KMSG_NO_MATCH;
}

/* After a PCI dev_printk prefix: group (5.x), the "[vvvv:dddd] type 00
 * class 0x..." enumeration line (drivers/pci/probe.c pci_setup_device:
 * dev_printk(KERN_DEBUG, &dev->dev, "[%04x:%04x] type %02x class %#08x\n")
 * 4.9.80; pci_info "[%04x:%04x] type %02x class %#08x%s\n" 6.1), else any
 * line of a driver naming the device. */
static enum kmsg_status device_line(struct kmsg_cur *c, struct kmsg *m)
{
    struct kmsg_cur t = *c;
    uint64_t v, w, ty, cls;
    m->has_bdf = true;
    m->segment = m->printer_segment;
    m->bdf = m->printer_bdf;
    if (kc_lit(&t, "Adding to iommu group ")) {
        if (!kc_dec(&t, 6, &v) || !kc_at_end(&t))
            return KMSG_NO_MATCH;
        m->number = v;
        return ctx(m, KMSG_CTX_IOMMU_GROUP, "ctx-group-5.x", NULL, 0);
    }
    t = *c;
    if (kc_lit(&t, "[") && kc_hex(&t, 4, 4, &v) && kc_lit(&t, ":") && kc_hex(&t, 4, 4, &w) &&
        kc_lit(&t, "] type ") && kc_hex(&t, 2, 2, &ty) && kc_lit(&t, " class 0x") &&
        kc_hex(&t, 6, 6, &cls)) {
        m->number = v << 16 | w;
        m->has_reason = true;
        m->reason = (uint32_t)cls;
        return ctx(m, KMSG_CTX_DEVICE, "ctx-pci-enum", c->p, (size_t)(t.p - c->p));
    }
    if (c->p == c->end)
        return KMSG_NO_MATCH;
    return ctx(m, KMSG_CTX_DEVICE, "ctx-dev-line", c->p, (size_t)(c->end - c->p));
}

enum kmsg_status kmsg_parse_other(const char *text, size_t len, struct kmsg *out)
{
    return kmsg_parse_other_kw(text, len, kmsg_keywords(text, len), out);
}

enum kmsg_status kmsg_parse_other_kw(const char *text, size_t len, unsigned kw, struct kmsg *out)
{
    struct kmsg m;
    const char *end = text + len;
    enum kmsg_status st = KMSG_NO_MATCH;
    const char *k;
    memset(&m, 0, sizeof m);

    /* Keyword pre-filter, then the detailed parse of that family only. */
    if ((kw & KMSG_KW_CTX_FAULT) &&
        (k = kmsg_find(text, len, "Unhandled context fault: ")) != NULL) {
        st = smmu_v2(k, end, &m);
        if (st == KMSG_MATCH && k > text) {
            struct kmsg_cur c = {text, k, false};
            any_printer(&c, &m);
        }
        goto done;
    }
    struct kmsg_cur c = {text, end, false};
    kc_spaces(&c);
    if (kw & KMSG_KW_DMA_API) {
        st = dma_debug(&c, &m);
        goto done;
    }
    if (kw & (KMSG_KW_SWIOTLB | KMSG_KW_SW_IOMMU)) {
        struct kmsg_cur t = c;
        if (!kc_printer(&t, &m))
            any_printer(&t, &m);
        else {
            m.has_bdf = true;
            m.segment = m.printer_segment;
            m.bdf = m.printer_bdf;
        }
        st = swiotlb(&t, &m);
        goto done;
    }
    /* a PCI device's line: AER, group, enumeration, any driver line */
    struct kmsg_cur t = c;
    if (kc_printer(&t, &m)) {
        st = aer(&t, &m);
        if (st == KMSG_NO_MATCH) {
            m.family = KMSG_FAM_NONE;
            m.kind = KMSG_UNKNOWN_KIND;
            m.has_bdf = false;
            m.has_flags = false;
            m.has_reason = false;
            m.detail[0] = '\0';
            m.format[0] = '\0';
            /* 5.x: "pci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40" */
            struct kmsg_cur a = t;
            if (kc_lit(&a, "AMD-Vi: Found IOMMU"))
                st = ctx(&m, KMSG_CTX_IOMMU_ON, "ctx-amdvi-found", a.p, (size_t)(a.end - a.p));
            else
                st = device_line(&t, &m);
        }
        goto done;
    }
    /* SMMUv3 lines come from the SMMU's platform device */
    if (kw & KMSG_KW_SMMU) {
        t = c;
        if (any_printer(&t, &m)) {
            st = smmu_v3(&t, &m);
            goto done;
        }
    }
    st = context(&c, &m);
done:
    if (st == KMSG_MATCH)
        *out = m;
    return st;
}
