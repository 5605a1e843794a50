/* TLP formatting: summary line, analyser-style dump, JSON. PCIe Base Spec 5.0. */
#include "pcie/tlp_print.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcie/crc.h"

/* An snprintf-style appender: counts what the whole text needs, writes what fits. */
struct out {
    char *buf;
    size_t cap, n;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->n < o->cap ? o->cap - o->n : 0;
    int w = vsnprintf(room ? o->buf + o->n : NULL, room, fmt, ap);
    va_end(ap);
    if (w > 0)
        o->n += (size_t)w;
}

static void finish(struct out *o)
{
    if (o->cap)
        o->buf[o->n < o->cap ? o->n : o->cap - 1] = '\0';
}

static bool is_cpl_k(enum pcie_tlp_kind k) { return k >= PCIE_TLP_CPL && k <= PCIE_TLP_CPLDLK; }
static bool is_msg_k(enum pcie_tlp_kind k) { return k == PCIE_TLP_MSG || k == PCIE_TLP_MSGD; }
static bool is_cfg_k(enum pcie_tlp_kind k) { return k >= PCIE_TLP_CFGRD0 && k <= PCIE_TLP_CFGWR1; }
static bool is_io_k(enum pcie_tlp_kind k) { return k == PCIE_TLP_IORD || k == PCIE_TLP_IOWR; }

static const char *at_name(unsigned at)
{
    static const char *const n[4] = {"untranslated", "translation request", "translated",
                                     "reserved"};
    return n[at & 3];
}

static const char *ph_name(unsigned ph)
{
    static const char *const n[4] = {"bi-directional data structure", "requester",
                                     "target", "target with priority"};
    return n[ph & 3];
}

/* "MWr32" / "MRd64" / "FetchAdd32" ... */
static void kind_label(const struct pcie_tlp *t, char *b, size_t n)
{
    if (pcie_tlp_is_memory(t))
        snprintf(b, n, "%s%d", pcie_tlp_kind_name(t->kind), pcie_tlp_header_dw(t) == 4 ? 64 : 32);
    else
        snprintf(b, n, "%s", pcie_tlp_kind_name(t->kind));
}

static void attr_list(unsigned attr, char *b, size_t n)
{
    snprintf(b, n, "%s%s%s%s", attr & PCIE_ATTR_RO ? "RO," : "", attr & PCIE_ATTR_NS ? "NS," : "",
             attr & PCIE_ATTR_IDO ? "IDO," : "", attr ? "" : "-");
    size_t l = strlen(b);
    if (l && b[l - 1] == ',')
        b[l - 1] = '\0';
}

static void summary_flags(struct out *o, const struct pcie_tlp *t)
{
    if (t->tc)
        put(o, " TC=%u", t->tc);
    if (t->attr) {
        char a[16];
        attr_list(t->attr, a, sizeof a);
        put(o, " attr=%s", a);
    }
    if (t->th) {
        put(o, " TH PH=%u", t->ph);
        int st = pcie_tlp_steering_tag(t);
        if (st >= 0)
            put(o, " ST=0x%02x", st);
    }
    if (t->ln)
        put(o, " LN");
    if (t->at)
        put(o, " AT=%s", at_name(t->at));
    if (t->td)
        put(o, " TD ECRC=0x%08x", t->ecrc);
    if (t->ep)
        put(o, " EP(poisoned)");
    if (t->payload_absent)
        put(o, " (payload absent)");
}

size_t pcie_tlp_summary(const struct pcie_tlp *t, char *buf, size_t len)
{
    struct out o = {buf, len, 0};
    char kl[24], b1[PCIE_BDF_STRLEN], b2[PCIE_BDF_STRLEN];
    kind_label(t, kl, sizeof kl);
    enum pcie_tlp_kind k = t->kind;
    if (is_cpl_k(k)) {
        put(&o, "%s", kl);
        if (pcie_tlp_has_data(t))
            put(&o, " len=%u", pcie_tlp_payload_dw(t));
        put(&o, " CID=%s %s BC=%u RID=%s tag=0x%02x LA=0x%02x", pcie_bdf_str(t->completer_id, b1),
            pcie_cpl_status_name(t->cpl_status), t->byte_count,
            pcie_bdf_str(t->requester_id, b2), t->tag, t->lower_addr);
        if (t->bcm)
            put(&o, " BCM");
    } else if (is_msg_k(k)) {
        const char *cn = pcie_msg_code_name(t->msg_code);
        put(&o, "%s", kl);
        if (pcie_tlp_has_data(t))
            put(&o, " len=%u", pcie_tlp_payload_dw(t));
        if (cn)
            put(&o, " %s", cn);
        else
            put(&o, " code=0x%02x", t->msg_code);
        put(&o, " r=%u%u%u RID=%s tag=0x%02x", t->msg_routing >> 2 & 1, t->msg_routing >> 1 & 1,
            t->msg_routing & 1, pcie_bdf_str(t->requester_id, b1), t->tag);
        if (t->msg_routing == PCIE_MSG_BY_ADDR)
            put(&o, " addr=0x%llx", (unsigned long long)pcie_msg_addr(t));
        if (t->msg_routing == PCIE_MSG_BY_ID)
            put(&o, " dst=%s", pcie_bdf_str(pcie_msg_target_id(t), b2));
        if (t->msg_code == PCIE_MSG_VENDOR_TYPE0 || t->msg_code == PCIE_MSG_VENDOR_TYPE1)
            put(&o, " vendor=0x%04x", pcie_msg_vendor_id(t));
    } else if (is_cfg_k(k)) {
        put(&o, "%s RID=%s tag=0x%02x BE=%x dst=%s reg=0x%03x", kl,
            pcie_bdf_str(t->requester_id, b1), t->tag, t->first_be,
            pcie_bdf_str(t->target_id, b2), t->cfg_reg * 4u);
    } else {
        put(&o, "%s len=%u RID=%s tag=0x%02x BE=%x/%x addr=0x%llx", kl,
            t->length ? t->length : 1024, pcie_bdf_str(t->requester_id, b1), t->tag, t->first_be,
            t->last_be, (unsigned long long)t->addr);
    }
    summary_flags(&o, t);
    finish(&o);
    return o.n;
}

/* ---- dump ---- */

/* "note: ..." wrapped at 80 columns, continuation lines indented. */
__attribute__((format(printf, 2, 3))) static void note(struct out *o, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const char *p = text;
    const char *lead = "note: ";
    const size_t width = 80 - 6;
    while (*p) {
        size_t n = strlen(p);
        if (n > width) {
            n = width;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = width;
        }
        put(o, "%s%.*s\n", lead, (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
        lead = "      ";
    }
}

static void bits(char *b, unsigned v, int n)
{
    int i = 0;
    for (int bit = n - 1; bit >= 0; bit--) {
        b[i++] = (char)('0' + (v >> bit & 1));
        if (bit && bit % 4 == 0)
            b[i++] = ' ';
    }
    b[i++] = 'b';
    b[i] = '\0';
}

/* One aligned row: field, raw bits/hex, meaning. */
__attribute__((format(printf, 4, 5))) static void row(struct out *o, const char *field,
                                                      const char *raw, const char *fmt, ...)
{
    char meaning[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(meaning, sizeof meaning, fmt, ap);
    va_end(ap);
    put(o, "  %-18s %-16s %s\n", field, raw, meaning);
}

static const char *kind_long(enum pcie_tlp_kind k)
{
    switch (k) {
    case PCIE_TLP_MRD: return "Memory Read Request";
    case PCIE_TLP_MRDLK: return "Memory Read Request-Locked";
    case PCIE_TLP_MWR: return "Memory Write Request (posted)";
    case PCIE_TLP_IORD: return "I/O Read Request";
    case PCIE_TLP_IOWR: return "I/O Write Request";
    case PCIE_TLP_CFGRD0: return "Configuration Read Type 0";
    case PCIE_TLP_CFGWR0: return "Configuration Write Type 0";
    case PCIE_TLP_CFGRD1: return "Configuration Read Type 1";
    case PCIE_TLP_CFGWR1: return "Configuration Write Type 1";
    case PCIE_TLP_MSG: return "Message Request";
    case PCIE_TLP_MSGD: return "Message Request with data";
    case PCIE_TLP_CPL: return "Completion without data";
    case PCIE_TLP_CPLD: return "Completion with data";
    case PCIE_TLP_CPLLK: return "Completion for Locked Memory Read without data";
    case PCIE_TLP_CPLDLK: return "Completion for Locked Memory Read with data";
    case PCIE_TLP_FETCHADD: return "AtomicOp Fetch and Add Request";
    case PCIE_TLP_SWAP: return "AtomicOp Unconditional Swap Request";
    case PCIE_TLP_CAS: return "AtomicOp Compare and Swap Request";
    default: return "unknown";
    }
}

static void bdf_row(struct out *o, const char *field, uint16_t id, const char *section)
{
    char raw[16], b[PCIE_BDF_STRLEN];
    snprintf(raw, sizeof raw, "%04xh", id);
    row(o, field, raw, "%s  (bus %u, device %u, function %u) %s", pcie_bdf_str(id, b),
        pcie_bdf_bus(id), pcie_bdf_dev(id), pcie_bdf_fn(id), section);
}

size_t pcie_tlp_dump(const struct pcie_tlp *t, const uint8_t *raw, size_t raw_len, char *buf,
                     size_t len)
{
    struct out o = {buf, len, 0};
    char kl[24], r[48], a[16];
    enum pcie_tlp_kind k = t->kind;
    unsigned hdr = pcie_tlp_header_dw(t), pdw = pcie_tlp_payload_dw(t);
    bool data = pcie_tlp_has_data(t);
    kind_label(t, kl, sizeof kl);

    put(&o, "%s: %s, %u DW header", kl, kind_long(k), hdr);
    if (data)
        put(&o, ", %u DW (%u bytes) of data", pdw, 4 * pdw);
    put(&o, "%s\n", t->td ? ", ECRC" : "");
    if (raw && raw_len >= 4u * hdr) {
        put(&o, " ");
        for (unsigned i = 0; i < hdr; i++)
            put(&o, " DW%u %02x%02x%02x%02x", i, raw[4 * i], raw[4 * i + 1], raw[4 * i + 2],
                raw[4 * i + 3]);
        put(&o, "\n");
    }
    put(&o, "  %-18s %-16s %s\n", "field", "raw", "meaning (PCIe Base Spec 5.0 section)");

    /* DW0: common header (2.2.1) */
    static const char *const fmt_names[4] = {"3 DW header, no data", "4 DW header, no data",
                                             "3 DW header, with data", "4 DW header, with data"};
    bits(r, t->fmt, 3);
    row(&o, "Fmt", r, "%s (2.2.1)", fmt_names[t->fmt & 3]);
    bits(r, t->type, 5);
    if (is_msg_k(k))
        row(&o, "Type", r, "message, routing r[2:0]=%u%u%ub: %s (2.2.1, 2.2.8)",
            t->type >> 2 & 1, t->type >> 1 & 1, t->type & 1,
            pcie_msg_routing_name(t->msg_routing));
    else
        row(&o, "Type", r, "%s (2.2.1)", pcie_tlp_kind_name(k));
    snprintf(r, sizeof r, "%u %u", t->tag >> 9 & 1, t->tag >> 8 & 1);
    row(&o, "T9 T8", r, "%s (2.2.6.2)",
        t->tag >> 8 ? "Tag[9:8]: 10-bit tag" : "Tag[9:8] = 0");
    bits(r, t->tc, 3);
    row(&o, "TC", r, "traffic class %u (2.2.6.6)", t->tc);
    bits(r, t->attr, 3);
    attr_list(t->attr, a, sizeof a);
    row(&o, "Attr[2:0]", r, "IDO=%u RO=%u NS=%u: %s (2.2.6.3)", t->attr >> 2 & 1, t->attr >> 1 & 1,
        t->attr & 1, t->attr ? a : "default ordering, snooped");
    row(&o, "LN", t->ln ? "1" : "0", "%s (2.2.1)",
        t->ln ? "Lightweight Notification" : "no Lightweight Notification");
    row(&o, "TH", t->th ? "1" : "0", "%s (2.2.7.1)",
        t->th ? "TLP Processing Hints present" : "no processing hints");
    row(&o, "TD", t->td ? "1" : "0", "%s (2.2.3)", t->td ? "ECRC (TLP digest) present" : "no ECRC");
    row(&o, "EP", t->ep ? "1" : "0", "%s (2.7.2)", t->ep ? "POISONED data" : "not poisoned");
    bits(r, t->at, 2);
    row(&o, "AT", r, "%s (2.2.4.1)", at_name(t->at));
    bits(r, t->length & 0x3ffu, 10);
    if (data || !(is_msg_k(k) || is_cpl_k(k)))
        row(&o, "Length", r, "%u DW = %u bytes%s (2.2.2)", t->length ? t->length : 1024,
            4u * (t->length ? t->length : 1024), t->length == 1024 ? " (0 encodes 1024)" : "");
    else
        row(&o, "Length", r, "reserved for %s (2.2.2)", pcie_tlp_kind_name(k));

    char b1[PCIE_BDF_STRLEN];
    if (is_cpl_k(k)) {
        bdf_row(&o, "Completer ID", t->completer_id, "(2.2.9)");
        bits(r, t->cpl_status, 3);
        static const char *const st_long[8] = {
            "Successful Completion (SC)", "Unsupported Request (UR)",
            "Configuration Request Retry Status (CRS)", "reserved: treated as UR",
            "Completer Abort (CA)", "reserved: treated as UR", "reserved: treated as UR",
            "reserved: treated as UR"};
        row(&o, "Compl. Status", r, "%s (2.2.9)", st_long[t->cpl_status & 7]);
        row(&o, "BCM", t->bcm ? "1" : "0", "%s (2.2.9)",
            t->bcm ? "Byte Count Modified (PCI-X completer)" : "byte count not modified");
        snprintf(r, sizeof r, "%03xh", t->byte_count & 0xfffu);
        row(&o, "Byte Count", r, "%u bytes remaining%s (2.2.9)", t->byte_count,
            t->byte_count == 4096 ? " (0 encodes 4096)" : "");
        bdf_row(&o, "Requester ID", t->requester_id, "(2.2.6.2)");
        snprintf(r, sizeof r, "%02xh", t->tag & 0xff);
        row(&o, "Tag", r, "%u%s (2.2.6.2)", t->tag, t->tag > 0xff ? " (10-bit, with T9/T8)" : "");
        snprintf(r, sizeof r, "%02xh", t->lower_addr);
        row(&o, "Lower Address", r, "byte address [6:0] of the first byte returned (2.2.9)");
    } else if (is_msg_k(k)) {
        bdf_row(&o, "Requester ID", t->requester_id, "(2.2.6.2)");
        snprintf(r, sizeof r, "%02xh", t->tag & 0xff);
        row(&o, "Tag", r, "%u (2.2.6.2)", t->tag);
        const char *cn = pcie_msg_code_name(t->msg_code);
        bits(r, t->msg_code, 8);
        row(&o, "Message Code", r, "%s (2.2.8, Table 2-18)", cn ? cn : "unassigned (receiver: UR)");
        snprintf(r, sizeof r, "%08xh", t->msg_dw[0]);
        if (t->msg_routing == PCIE_MSG_BY_ADDR) {
            row(&o, "DW2", r, "Address[63:32]");
            snprintf(r, sizeof r, "%08xh", t->msg_dw[1]);
            row(&o, "DW3", r, "Address[31:2]: 0x%llx (2.2.8)",
                (unsigned long long)pcie_msg_addr(t));
        } else {
            if (t->msg_routing == PCIE_MSG_BY_ID ||
                t->msg_code == PCIE_MSG_VENDOR_TYPE0 || t->msg_code == PCIE_MSG_VENDOR_TYPE1)
                row(&o, "DW2", r, "destination ID %s, Vendor ID/bytes 10-11 %04xh (2.2.8)",
                    pcie_bdf_str(pcie_msg_target_id(t), b1), pcie_msg_vendor_id(t));
            else if (t->msg_code == PCIE_MSG_LTR || t->msg_code == PCIE_MSG_OBFF)
                row(&o, "DW2", r, "reserved (2.2.8)");
            else
                row(&o, "DW2", r, "message specific (2.2.8)");
            snprintf(r, sizeof r, "%08xh", t->msg_dw[1]);
            if (t->msg_code == PCIE_MSG_LTR)
                row(&o, "DW3", r, "No-Snoop latency %04xh, Snoop latency %04xh (2.2.8.8)",
                    t->msg_dw[1] >> 16, t->msg_dw[1] & 0xffff);
            else if (t->msg_code == PCIE_MSG_OBFF)
                row(&o, "DW3", r, "OBFF code %u (2.2.8.9)", t->msg_dw[1] & 0xf);
            else
                row(&o, "DW3", r, "message specific (2.2.8)");
        }
    } else {
        bdf_row(&o, "Requester ID", t->requester_id, "(2.2.6.2)");
        int st = pcie_tlp_steering_tag(t);
        snprintf(r, sizeof r, "%02xh", t->tag & 0xff);
        if (st >= 0 && k == PCIE_TLP_MWR)
            row(&o, "Tag / ST[7:0]", r, "Steering Tag %u (TH=1 on a posted write, 2.2.7.1)", st);
        else
            row(&o, "Tag", r, "%u%s (2.2.6.2)", t->tag,
                t->tag > 0xff ? " (10-bit, with T9/T8)" : "");
        if (st >= 0 && k != PCIE_TLP_MWR) {
            snprintf(r, sizeof r, "%02xh", st);
            row(&o, "ST[7:0] (byte 7)", r,
                "Steering Tag %d; byte enables implied %s (2.2.5, 2.2.7.1)", st,
                t->length == 1 ? "1111b/0000b" : "1111b/1111b");
        } else {
            bits(r, t->last_be, 4);
            row(&o, "Last DW BE", r, "%s (2.2.5)",
                t->last_be ? "bytes enabled in the last DW" : "none (Length=1, or none enabled)");
            bits(r, t->first_be, 4);
            row(&o, "First DW BE", r, "%s (2.2.5)",
                t->first_be ? "bytes enabled in the first DW" : "no bytes enabled");
        }
        if (is_cfg_k(k)) {
            bdf_row(&o, "Target ID", t->target_id, "(2.2.4.2)");
            snprintf(r, sizeof r, "%xh %02xh", t->cfg_reg >> 6, t->cfg_reg & 0x3f);
            row(&o, "Ext Reg / Reg", r, "register %u: offset 0x%03x%s (2.2.7)", t->cfg_reg,
                t->cfg_reg * 4u, t->cfg_reg >= 64 ? " (extended config space)" : "");
        } else {
            if (hdr == 4)
                snprintf(r, sizeof r, "%016llxh", (unsigned long long)t->addr);
            else
                snprintf(r, sizeof r, "%08llxh", (unsigned long long)t->addr);
            if (pcie_tlp_is_memory(t)) {
                row(&o, hdr == 4 ? "Address[63:2]" : "Address[31:2]", r,
                    "0x%llx, first byte 0x%llx, %u bytes (2.2.4.1, 2.2.5)",
                    (unsigned long long)t->addr,
                    (unsigned long long)pcie_tlp_first_byte_addr(t), pcie_tlp_byte_span(t));
                bits(r, t->ph, 2);
                row(&o, "PH", r, "%s (2.2.7.1)",
                    t->th ? ph_name(t->ph) : t->ph ? "reserved bits set (TH=0)" : "reserved (TH=0)");
            } else {
                row(&o, "Address[31:2]", r, "I/O port 0x%llx, first byte 0x%llx (2.2.4.1)",
                    (unsigned long long)t->addr, (unsigned long long)pcie_tlp_first_byte_addr(t));
            }
        }
    }
    /* payload */
    if (data) {
        if (t->payload_absent) {
            row(&o, "Payload", "absent", "payload absent (header only): %u bytes not given", 4 * pdw);
        } else if (t->payload) {
            put(&o, "  Payload (%zu bytes):\n", t->payload_len);
            for (size_t i = 0; i < t->payload_len; i += 16) {
                put(&o, "    %04zx:", i);
                for (size_t j = i; j < i + 16 && j < t->payload_len; j += 4)
                    put(&o, " %02x%02x%02x%02x", t->payload[j], t->payload[j + 1],
                        t->payload[j + 2], t->payload[j + 3]);
                put(&o, "\n");
            }
        }
    }
    if (t->td) {
        /* The dump is also shown for TLPs that failed decode (or were decoded
         * without the check), so it says what the bytes give, not what decode
         * concluded. */
        size_t covered = 4u * (hdr + pdw);
        snprintf(r, sizeof r, "%08xh", t->ecrc);
        if (t->payload_absent) {
            row(&o, "ECRC", "absent", "not given (header only) (2.7.1)");
        } else if (raw && raw_len >= covered + 4) {
            uint32_t calc = pcie_ecrc(raw, covered);
            if (calc == t->ecrc)
                row(&o, "ECRC", r, "matches the header and data (2.7.1)");
            else
                row(&o, "ECRC", r, "does NOT match %08xh computed over the header and data "
                    "(2.7.1)", calc);
        } else {
            row(&o, "ECRC", r, "as received, not checked (2.7.1)");
        }
    }

    /* notes */
    unsigned w = pcie_tlp_warnings(t);
    if (w & PCIE_TLP_WARN_RESERVED_BITS)
        note(&o, "reserved bits set: DW1 %08x DW2 %08x DW3 %08x (receivers ignore them, 2.2.1)",
            t->rsvd[1], t->rsvd[2], t->rsvd[3]);
    if (w & PCIE_TLP_WARN_CPL_STATUS)
        note(&o, "reserved Completion Status %u: the requester treats it as UR (2.2.9)",
            t->cpl_status);
    if (w & PCIE_TLP_WARN_MSG_ROUTING)
        note(&o, "message routing 11%ub is reserved: terminate at receiver (2.2.8)",
            t->msg_routing & 1);
    if (w & PCIE_TLP_WARN_UNKNOWN_MSG)
        note(&o, "message code %02xh is not assigned: an Unsupported Request at the "
                "receiver (2.2.8)",
            t->msg_code);
    if (w & PCIE_TLP_WARN_AT)
        note(&o, "AT is set, but AT is reserved for TLPs other than memory requests (2.2.4.1)");
    if (w & PCIE_TLP_WARN_TH)
        note(&o, "TH is set on a TLP that is not a memory request (2.2.7.1)");
    if (w & PCIE_TLP_WARN_PH)
        note(&o, "address bits [1:0] (PH) are set but TH=0: they are reserved (2.2.4.1)");
    if (w & PCIE_TLP_WARN_LENGTH)
        note(&o, "Length is reserved for %s but set to %u (2.2.2)", pcie_tlp_kind_name(k),
            t->length);
    if (pcie_tlp_is_memory(t) && hdr == 4 && (t->addr >> 32) == 0)
        note(&o, "4 DW header for an address below 4 GiB: requesters must use the 3 DW "
                "format (2.2.4.1); receiver behaviour is not specified");
    if (t->requester_id == 0 && !is_cpl_k(k) && (pcie_tlp_is_memory(t) || is_msg_k(k)))
        note(&o, "Requester ID 00:00.0 is bus 0 device 0 function 0, on PC platforms the "
                "host bridge. An endpoint must send the Bus and Device Number it captured from "
                "the Type 0 configuration writes it received (2.2.6.2); with an IOMMU on, DMA "
                "tagged 00:00.0 is translated in the host bridge's context, not the device's. "
                "Check that the IP core's requester/completer ID input is driven from the "
                "captured bus/device number.");
    finish(&o);
    return o.n;
}

/* ---- JSON ---- */

static json_t *bdf_json(uint16_t id)
{
    char b[PCIE_BDF_STRLEN];
    return json_string(pcie_bdf_str(id, b));
}

json_t *pcie_tlp_to_json(const struct pcie_tlp *t)
{
    json_t *j = json_object();
    if (!j)
        return NULL;
    char kl[24], s[512];
    enum pcie_tlp_kind k = t->kind;
    kind_label(t, kl, sizeof kl);
    pcie_tlp_summary(t, s, sizeof s);
    json_object_set_new(j, "kind", json_string(pcie_tlp_kind_name(k)));
    json_object_set_new(j, "label", json_string(kl));
    json_object_set_new(j, "summary", json_string(s));
    json_object_set_new(j, "fmt", json_integer(t->fmt));
    json_object_set_new(j, "type", json_integer(t->type));
    json_object_set_new(j, "header_dw", json_integer(pcie_tlp_header_dw(t)));
    json_object_set_new(j, "tc", json_integer(t->tc));
    json_object_set_new(j, "attr", json_pack("{s:b,s:b,s:b}", "ro", (t->attr & PCIE_ATTR_RO) != 0,
                                             "ns", (t->attr & PCIE_ATTR_NS) != 0, "ido",
                                             (t->attr & PCIE_ATTR_IDO) != 0));
    json_object_set_new(j, "ln", json_boolean(t->ln));
    json_object_set_new(j, "th", json_boolean(t->th));
    json_object_set_new(j, "td", json_boolean(t->td));
    json_object_set_new(j, "ep", json_boolean(t->ep));
    json_object_set_new(j, "at", json_string(at_name(t->at)));
    json_object_set_new(j, "length", json_integer(t->length));
    json_object_set_new(j, "wire_bytes", json_integer((json_int_t)pcie_tlp_wire_bytes(t)));
    if (is_cpl_k(k)) {
        json_object_set_new(j, "completer_id", bdf_json(t->completer_id));
        json_object_set_new(j, "status", json_string(pcie_cpl_status_name(t->cpl_status)));
        json_object_set_new(j, "status_raw", json_integer(t->cpl_status));
        json_object_set_new(j, "bcm", json_boolean(t->bcm));
        json_object_set_new(j, "byte_count", json_integer(t->byte_count));
        json_object_set_new(j, "lower_address", json_integer(t->lower_addr));
    } else if (is_msg_k(k)) {
        const char *cn = pcie_msg_code_name(t->msg_code);
        json_object_set_new(j, "routing", json_integer(t->msg_routing));
        json_object_set_new(j, "routing_name", json_string(pcie_msg_routing_name(t->msg_routing)));
        json_object_set_new(j, "message_code", json_integer(t->msg_code));
        json_object_set_new(j, "message", cn ? json_string(cn) : json_null());
        json_object_set_new(j, "dw2", json_integer(t->msg_dw[0]));
        json_object_set_new(j, "dw3", json_integer(t->msg_dw[1]));
    } else {
        json_object_set_new(j, "first_be", json_integer(t->first_be));
        json_object_set_new(j, "last_be", json_integer(t->last_be));
        if (is_cfg_k(k)) {
            json_object_set_new(j, "target_id", bdf_json(t->target_id));
            json_object_set_new(j, "register", json_integer(t->cfg_reg));
            json_object_set_new(j, "offset", json_integer(t->cfg_reg * 4));
        } else {
            snprintf(s, sizeof s, "0x%llx", (unsigned long long)t->addr);
            json_object_set_new(j, "address", json_string(s));
            if (!is_io_k(k))
                json_object_set_new(j, "ph", json_integer(t->ph));
            int st = pcie_tlp_steering_tag(t);
            if (st >= 0)
                json_object_set_new(j, "steering_tag", json_integer(st));
        }
    }
    json_object_set_new(j, "requester_id", bdf_json(t->requester_id));
    json_object_set_new(j, "tag", json_integer(t->tag));
    if (t->td)
        json_object_set_new(j, "ecrc", json_integer(t->ecrc));
    if (pcie_tlp_has_data(t)) {
        if (t->payload_absent || !t->payload) {
            json_object_set_new(j, "payload", json_null());
        } else {
            size_t n = t->payload_len;
            char *hex = malloc(2 * n + 1);
            if (hex) {
                for (size_t i = 0; i < n; i++)
                    snprintf(hex + 2 * i, 3, "%02x", t->payload[i]);
                hex[2 * n] = '\0';
                json_object_set_new(j, "payload", json_string(hex));
                free(hex);
            }
        }
        json_object_set_new(j, "payload_absent", json_boolean(t->payload_absent));
    }
    json_t *w = json_array();
    unsigned wm = pcie_tlp_warnings(t);
    static const char *const wn[8] = {"reserved_bits", "cpl_status_reserved",
                                      "msg_routing_reserved", "at_on_non_memory",
                                      "ph_without_th", "th_on_non_memory",
                                      "length_reserved", "unknown_message"};
    for (int i = 0; i < 8; i++)
        if (wm >> i & 1)
            json_array_append_new(w, json_string(wn[i]));
    json_object_set_new(j, "warnings", w);
    return j;
}
