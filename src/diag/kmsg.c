/* kmsg_parse: the cheap pre-filter and the dispatch to the family parsers
 * (kmsg_priv.h), the names, the AMD-Vi flag decoder and the scanning cursor
 * the family parsers share. docs/explain-messages.md lists every recognised
 * message with the kernel versions and the source of its format string. */
#define _GNU_SOURCE /* memmem */
#include "diag/kmsg.h"

#include <stdio.h>
#include <string.h>

#include "diag/kmsg_priv.h"
#include "sim/text.h"

const char *kmsg_find(const char *text, size_t len, const char *needle)
{
    return memmem(text, len, needle, strlen(needle));
}

/* The pre-filter: one pass over the record notes which of the families'
 * keywords it holds (a switch on the byte, a compare only where a keyword
 * can start), so a record with none costs one scan and nothing else. */
static bool at(const char *p, const char *end, const char *kw, size_t n)
{
    return (size_t)(end - p) >= n && !memcmp(p, kw, n);
}

unsigned kmsg_keywords(const char *t, size_t n)
{
    unsigned kw = 0;
    const char *end = t + n;
    for (const char *p = t; p < end; p++) {
        switch (*p) {
        case 'A':
            if (at(p, end, "AMD-Vi", 6))
                kw |= KMSG_KW_AMDVI;
            break;
        case 'd':
            if (at(p, end, "device=", 7))
                kw |= KMSG_KW_DEVICE_EQ;
            break;
        case 'a':
            if (at(p, end, "address=0x", 10))
                kw |= KMSG_KW_ADDRESS_EQ;
            break;
        case 'U':
            if (at(p, end, "UNKNOWN ", 8))
                kw |= KMSG_KW_UNKNOWN;
            else if (at(p, end, "Unhandled context fault: ", 25))
                kw |= KMSG_KW_CTX_FAULT;
            break;
        case 'D':
            if (at(p, end, "DMAR", 4))
                kw |= KMSG_KW_DMAR;
            else if (at(p, end, "DRHD", 4))
                kw |= KMSG_KW_DRHD;
            else if (at(p, end, "DMA-API: ", 9))
                kw |= KMSG_KW_DMA_API;
            break;
        case 'I':
            if (at(p, end, "INTR-REMAP", 10))
                kw |= KMSG_KW_INTR_REMAP;
            break;
        case 'R':
            if (at(p, end, "RMRR", 4))
                kw |= KMSG_KW_RMRR;
            break;
        case 's':
            if (at(p, end, "swiotlb buffer is full", 22))
                kw |= KMSG_KW_SWIOTLB;
            else if (at(p, end, "smmu", 4))
                kw |= KMSG_KW_SMMU;
            break;
        case 'S':
            if (at(p, end, "SW-IOMMU", 8))
                kw |= KMSG_KW_SW_IOMMU;
            break;
        default:
            break;
        }
    }
    return kw;
}

enum kmsg_status kmsg_parse(const char *text, size_t len, struct kmsg *out)
{
    enum kmsg_status st;
    if (!text || !out)
        return KMSG_NO_MATCH;
    unsigned kw = kmsg_keywords(text, len);
    /* "AMD-Vi" is in every AMD-Vi record but the second half of the split
     * 4.x form ("IO_PAGE_FAULT device=...", 4.9 printk; "iommu ivhd0: ..."
     * 4.20 dev_err), which carry "device=" or "address=0x" or start with
     * "UNKNOWN " (the 4.x unknown-event records). The SMMU's "address=" /
     * "DMA-API: ... device address=" lines reach the AMD-Vi parser too: it
     * answers NO_MATCH and the others go on. */
    if (kw & (KMSG_KW_AMDVI | KMSG_KW_DEVICE_EQ | KMSG_KW_ADDRESS_EQ | KMSG_KW_UNKNOWN)) {
        st = kmsg_parse_amdvi(text, len, out);
        if (st != KMSG_NO_MATCH)
            return st;
    }
    if (kw & (KMSG_KW_DMAR | KMSG_KW_DRHD | KMSG_KW_INTR_REMAP | KMSG_KW_RMRR)) {
        st = kmsg_parse_vtd(text, len, out);
        if (st != KMSG_NO_MATCH)
            return st;
    }
    return kmsg_parse_other_kw(text, len, kw, out);
}

const char *kmsg_kind_name(enum kmsg_kind k)
{
    switch (k) {
    case KMSG_UNKNOWN_KIND: return "unknown";
    case KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY: return "ILLEGAL_DEV_TABLE_ENTRY";
    case KMSG_AMDVI_IO_PAGE_FAULT: return "IO_PAGE_FAULT";
    case KMSG_AMDVI_DEV_TAB_HARDWARE_ERROR: return "DEV_TAB_HARDWARE_ERROR";
    case KMSG_AMDVI_PAGE_TAB_HARDWARE_ERROR: return "PAGE_TAB_HARDWARE_ERROR";
    case KMSG_AMDVI_ILLEGAL_COMMAND_ERROR: return "ILLEGAL_COMMAND_ERROR";
    case KMSG_AMDVI_COMMAND_HARDWARE_ERROR: return "COMMAND_HARDWARE_ERROR";
    case KMSG_AMDVI_IOTLB_INV_TIMEOUT: return "IOTLB_INV_TIMEOUT";
    case KMSG_AMDVI_INVALID_DEVICE_REQUEST: return "INVALID_DEVICE_REQUEST";
    case KMSG_AMDVI_INVALID_PPR_REQUEST: return "INVALID_PPR_REQUEST";
    case KMSG_AMDVI_RMP_PAGE_FAULT: return "RMP_PAGE_FAULT";
    case KMSG_AMDVI_RMP_HW_ERROR: return "RMP_HW_ERROR";
    case KMSG_AMDVI_UNKNOWN_EVENT: return "UNKNOWN_EVENT";
    case KMSG_AMDVI_COMPLETION_WAIT_TIMEOUT: return "COMPLETION_WAIT_TIMEOUT";
    case KMSG_AMDVI_EVENT_OVERFLOW: return "EVENT_LOG_OVERFLOW";
    case KMSG_VTD_DMA_FAULT: return "DMA_FAULT";
    case KMSG_VTD_IR_FAULT: return "INTR-REMAP";
    case KMSG_VTD_FAULT_STATUS: return "FAULT_STATUS";
    case KMSG_VTD_RMRR_INELIGIBLE: return "RMRR_INELIGIBLE";
    case KMSG_SMMU_CONTEXT_FAULT: return "CONTEXT_FAULT";
    case KMSG_SMMU_EVENT: return "SMMU_EVENT";
    case KMSG_DMA_DEBUG: return "DMA_DEBUG";
    case KMSG_SWIOTLB_FULL: return "SWIOTLB_FULL";
    case KMSG_SW_IOMMU_SPACE: return "SW_IOMMU_SPACE";
    case KMSG_AER: return "AER";
    case KMSG_CTX_KERNEL_VERSION: return "KERNEL_VERSION";
    case KMSG_CTX_CMDLINE: return "CMDLINE";
    case KMSG_CTX_IOMMU_ON: return "IOMMU_ON";
    case KMSG_CTX_IOMMU_OFF: return "IOMMU_OFF";
    case KMSG_CTX_IOMMU_GROUP: return "IOMMU_GROUP";
    case KMSG_CTX_DEVICE: return "DEVICE";
    case KMSG_CTX_RMRR_IVMD: return "RMRR_IVMD";
    }
    return "unknown";
}

const char *kmsg_family_name(enum kmsg_family f)
{
    switch (f) {
    case KMSG_FAM_NONE: return "none";
    case KMSG_FAM_AMDVI: return "amd-vi";
    case KMSG_FAM_VTD: return "vt-d";
    case KMSG_FAM_SMMU: return "smmu";
    case KMSG_FAM_DMA_DEBUG: return "dma-debug";
    case KMSG_FAM_SWIOTLB: return "swiotlb";
    case KMSG_FAM_AER: return "aer";
    case KMSG_FAM_CONTEXT: return "context";
    }
    return "none";
}

/* AMD I/O Virtualization Technology (IOMMU) Specification, 48882 rev 3.x,
 * 2.5.3 IO_PAGE_FAULT Event, EventCode 02h: dword1[27:16] is the flags
 * field Linux prints (iommu_print_event: (event[1] >> 16) & 0xfff), so
 * flags bit n is dword1 bit 16+n. */
static const struct {
    uint32_t bit;
    const char *name;
} amdvi_flag_names[] = {
    {0x001, "GN"}, /* dword1[16] GN: guest (PASID valid) request */
    {0x002, "NX"}, /* dword1[17] NX: no-execute permission violated */
    {0x004, "US"}, /* dword1[18] US: user/supervisor */
    {0x008, "I"},  /* dword1[19] I: interrupt request (0: memory) */
    {0x010, "PR"}, /* dword1[20] PR: the page was present */
    {0x020, "RW"}, /* dword1[21] RW: 1 write, 0 read */
    {0x040, "PE"}, /* dword1[22] PE: permission check failed */
    {0x080, "RZ"}, /* dword1[23] RZ: reserved bit not zero */
    {0x100, "TR"}, /* dword1[24] TR: translation request (ATS) */
};

void kmsg_amdvi_flags_str(uint32_t flags, char *buf, size_t len)
{
    size_t used = 0;
    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof amdvi_flag_names / sizeof amdvi_flag_names[0]; i++) {
        if (!(flags & amdvi_flag_names[i].bit))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "|" : "",
                         amdvi_flag_names[i].name);
        if (n < 0 || (size_t)n >= len - used)
            return; /* truncated: buf stays NUL-terminated */
        used += (size_t)n;
    }
    uint32_t rest = flags & ~0x1ffu; /* dword1[27:25]: reserved */
    if (rest) {
        int n = snprintf(buf + used, len - used, "%s0x%x", used ? "|" : "", rest);
        if (n > 0 && (size_t)n < len - used)
            used += (size_t)n;
    }
    if (used == 0 && len > 1)
        snprintf(buf, len, "-");
}

/* ---- the cursor ---- */

bool kc_lit(struct kmsg_cur *c, const char *lit)
{
    size_t n = strlen(lit);
    size_t have = (size_t)(c->end - c->p);
    if (have >= n) {
        if (memcmp(c->p, lit, n) != 0)
            return false;
        c->p += n;
        return true;
    }
    if (memcmp(c->p, lit, have) == 0)
        c->short_text = true;
    return false;
}

bool kc_hex(struct kmsg_cur *c, int min, int max, uint64_t *v)
{
    const char *q = c->p;
    uint64_t x = 0;
    int n = 0;
    while (q < c->end && n <= max) {
        int h = pcilab_hexval(*q);
        if (h < 0)
            break;
        x = x << 4 | (uint64_t)h;
        q++;
        n++;
    }
    if (n > max)
        return false;
    if (q == c->end) {
        /* the number may go on in the next record: complete if the text may
         * end here (the caller checks kc_at_end), short otherwise */
        c->short_text = true;
    }
    if (n < min)
        return false;
    *v = x;
    c->p = q;
    return true;
}

bool kc_dec(struct kmsg_cur *c, int max, uint64_t *v)
{
    const char *q = c->p;
    uint64_t x = 0;
    int n = 0;
    while (q < c->end && *q >= '0' && *q <= '9' && n <= max) {
        x = x * 10 + (uint64_t)(*q - '0');
        q++;
        n++;
    }
    if (n > max)
        return false;
    if (q == c->end)
        c->short_text = true; /* as kc_hex */
    if (n == 0)
        return false;
    *v = x;
    c->p = q;
    return true;
}

size_t kc_spaces(struct kmsg_cur *c)
{
    size_t n = 0;
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) {
        c->p++;
        n++;
    }
    return n;
}

bool kc_at_end(const struct kmsg_cur *c)
{
    for (const char *q = c->p; q < c->end; q++)
        if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
            return false;
    return true;
}

bool kc_bdf(struct kmsg_cur *c, bool *has_seg, uint16_t *seg, uint16_t *bdf)
{
    struct kmsg_cur t = *c;
    uint64_t a, b, d, f;
    /* 4 hex digits then ':' is a segment; 2 then ':' a bus */
    if (!kc_hex(&t, 2, 4, &a))
        goto fail;
    size_t digits = (size_t)(t.p - c->p);
    if (digits != 2 && digits != 4)
        goto fail;
    if (!kc_lit(&t, ":"))
        goto fail;
    if (digits == 4) {
        if (!kc_hex(&t, 2, 2, &b) || !kc_lit(&t, ":"))
            goto fail;
    } else {
        b = a;
        a = 0;
    }
    if (!kc_hex(&t, 2, 2, &d) || d > 0x1f || !kc_lit(&t, "."))
        goto fail;
    /* the function: one digit; at the very end of the text it is complete
     * (nothing else can follow a BDF's last digit) */
    if (t.p < t.end && *t.p >= '0' && *t.p <= '7') {
        f = (uint64_t)(*t.p - '0');
        t.p++;
        if (t.p == t.end)
            c->short_text = true;
    } else {
        if (t.p == t.end)
            c->short_text = true;
        return false;
    }
    if (t.p < t.end && pcilab_hexval(*t.p) >= 0)
        return false;
    *has_seg = digits == 4;
    *seg = (uint16_t)a;
    *bdf = (uint16_t)(b << 8 | d << 3 | f);
    c->p = t.p;
    return true;
fail:
    c->short_text = c->short_text || t.short_text;
    return false;
}

bool kc_printer(struct kmsg_cur *c, struct kmsg *out)
{
    /* dev_printk: "%s %s: " with dev_driver_string (driver, else bus, else
     * class name) and dev_name (drivers/base/core.c, every version). */
    const char *q = c->p;
    while (q < c->end && q - c->p < (ptrdiff_t)sizeof out->printer_driver - 1 &&
           *q != ' ' && *q != ':')
        q++;
    if (q == c->p || q >= c->end || *q != ' ')
        return false;
    struct kmsg_cur t = {q + 1, c->end, false};
    bool has_seg;
    uint16_t seg, bdf;
    if (!kc_bdf(&t, &has_seg, &seg, &bdf) || !has_seg || !kc_lit(&t, ": "))
        return false;
    kmsg_copy(out->printer_driver, sizeof out->printer_driver, c->p, (size_t)(q - c->p));
    out->has_printer = true;
    out->printer_segment = seg;
    out->printer_bdf = bdf;
    c->p = t.p;
    return true;
}

void kmsg_copy(char *dst, size_t dstlen, const char *p, size_t n)
{
    if (dstlen == 0)
        return;
    while (n && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}
