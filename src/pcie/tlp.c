/* PCIe TLP encode/decode. PCI Express Base Specification 5.0 (non-Flit mode);
 * the section of each field and rule is named beside it. See tlp.h. */
#include "pcie/tlp.h"

#include <stdio.h>
#include <string.h>

#include "pcie/crc.h"
#include "sim/text.h"

/* ---- small helpers ---- */

/* Header dwords are big-endian on the wire (2.2.1, Figure 2-4): one load or
 * store and a byte swap each (bswap / movbe on x86). */
static inline uint32_t get_be32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap32(v);
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
    v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
#endif
    return v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    memcpy(p, &v, 4);
#else
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
#endif
}

/* Clears a TLP struct with 16-byte stores. A plain memset of this size is
 * compiled to `rep stosq` at -O2 (generic tuning), whose start-up cost is
 * larger than the whole clear. */
static inline void tlp_clear(struct pcie_tlp *t)
{
    unsigned char *p = (unsigned char *)t;
    size_t i = 0;
#pragma GCC unroll 8
    for (; i + 16 <= sizeof *t; i += 16)
        memset(p + i, 0, 16);
    for (; i < sizeof *t; i++)
        p[i] = 0;
}

char *pcie_bdf_str(uint16_t bdf, char *buf)
{
    snprintf(buf, PCIE_BDF_STRLEN, "%02x:%02x.%u", pcie_bdf_bus(bdf), pcie_bdf_dev(bdf),
             pcie_bdf_fn(bdf));
    return buf;
}

int pcie_bdf_parse(const char *s, uint16_t *bdf, struct pcilab_err *err)
{
    /* bb:dd.f with 1-2 hex digits for bus and device, one digit 0-7 for fn. */
    unsigned v[3] = {0, 0, 0};
    const char *p = s;
    for (int part = 0; part < 3; part++) {
        int n = 0;
        while (pcilab_hexval(*p) >= 0 && n < 3) {
            v[part] = v[part] * 16 + (unsigned)pcilab_hexval(*p++);
            n++;
        }
        if (n == 0 || n > 2 || (part == 2 && n != 1))
            goto bad;
        if (part == 0 && *p++ != ':')
            goto bad;
        if (part == 1 && *p++ != '.')
            goto bad;
    }
    if (*p || v[1] > 31 || v[2] > 7)
        goto bad;
    *bdf = pcie_bdf(v[0], v[1], v[2]);
    return 0;
bad:
    return pcilab_errf(err, PCILAB_EINVAL,
                       "'%s' is not a bus:device.function (bb:dd.f, hex, device <= 1f, "
                       "function <= 7)",
                       s);
}

/* Branch hints and out-of-line error reporting: the encode/decode fast paths
 * keep message formatting (snprintf with many arguments) out of their bodies,
 * so the hot code neither spills registers for it nor jumps over it. */
#define TLP_LIKELY(x) __builtin_expect(!!(x), 1)
#define TLP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TLP_COLD __attribute__((cold, noinline))

/* ---- Fmt/Type (2.2.1, Table 2-3) and per-kind header layout ---- */

/* Which header layout a kind uses after DW0. */
enum kind_class {
    CLS_NONE = 0,
    CLS_MEM,    /* MRd, MRdLk, MWr: address, PH, byte enables (2.2.7, 2.2.4.1) */
    CLS_ATOMIC, /* FetchAdd, Swap, CAS: the memory request layout (2.2.7, 6.15) */
    CLS_IO,     /* IORd, IOWr: 32-bit address, DW2[1:0] reserved (2.2.7) */
    CLS_CFG,    /* CfgRd0/1, CfgWr0/1: target BDF and register (2.2.7, Table 2-8) */
    CLS_MSG,    /* Msg, MsgD: code, routing, DW2-3 (2.2.8) */
    CLS_CPL,    /* Cpl, CplD, CplLk, CplDLk (2.2.9) */
};

/* One descriptor per kind (Table 2-3). by_b0 below maps byte 0 of a TLP to
 * its kind for the fast paths; kind_of and pcie_tlp_set_kind use this table. */
static const struct kind_desc {
    const char *name;
    uint8_t type;     /* Type[4:0]; messages: 10000b, r[2:0] added */
    uint8_t fmt_mask; /* bit n set: Fmt n is a valid encoding */
    uint8_t cls;      /* enum kind_class */
} kinds[PCIE_TLP_KIND_COUNT] = {
    [PCIE_TLP_UNKNOWN] = {"?", 0xff, 0, CLS_NONE},
    [PCIE_TLP_MRD] = {"MRd", 0x00, 1u << 0 | 1u << 1, CLS_MEM},
    [PCIE_TLP_MRDLK] = {"MRdLk", 0x01, 1u << 0 | 1u << 1, CLS_MEM},
    [PCIE_TLP_MWR] = {"MWr", 0x00, 1u << 2 | 1u << 3, CLS_MEM},
    [PCIE_TLP_IORD] = {"IORd", 0x02, 1u << 0, CLS_IO},
    [PCIE_TLP_IOWR] = {"IOWr", 0x02, 1u << 2, CLS_IO},
    [PCIE_TLP_CFGRD0] = {"CfgRd0", 0x04, 1u << 0, CLS_CFG},
    [PCIE_TLP_CFGWR0] = {"CfgWr0", 0x04, 1u << 2, CLS_CFG},
    [PCIE_TLP_CFGRD1] = {"CfgRd1", 0x05, 1u << 0, CLS_CFG},
    [PCIE_TLP_CFGWR1] = {"CfgWr1", 0x05, 1u << 2, CLS_CFG},
    [PCIE_TLP_MSG] = {"Msg", 0x10, 1u << 1, CLS_MSG},
    [PCIE_TLP_MSGD] = {"MsgD", 0x10, 1u << 3, CLS_MSG},
    [PCIE_TLP_CPL] = {"Cpl", 0x0a, 1u << 0, CLS_CPL},
    [PCIE_TLP_CPLD] = {"CplD", 0x0a, 1u << 2, CLS_CPL},
    [PCIE_TLP_CPLLK] = {"CplLk", 0x0b, 1u << 0, CLS_CPL},
    [PCIE_TLP_CPLDLK] = {"CplDLk", 0x0b, 1u << 2, CLS_CPL},
    [PCIE_TLP_FETCHADD] = {"FetchAdd", 0x0c, 1u << 2 | 1u << 3, CLS_ATOMIC},
    [PCIE_TLP_SWAP] = {"Swap", 0x0d, 1u << 2 | 1u << 3, CLS_ATOMIC},
    [PCIE_TLP_CAS] = {"CAS", 0x0e, 1u << 2 | 1u << 3, CLS_ATOMIC},
};

const char *pcie_tlp_kind_name(enum pcie_tlp_kind k)
{
    return (unsigned)k < PCIE_TLP_KIND_COUNT ? kinds[k].name : "?";
}

/* The kind a Fmt/Type pair encodes, or PCIE_TLP_UNKNOWN with *why and a
 * message for reserved or unsupported encodings. */
static enum pcie_tlp_kind kind_of(unsigned fmt, unsigned type, enum pcie_tlp_error *why,
                                  struct pcilab_err *err, int *rc)
{
    if (fmt == PCIE_FMT_PREFIX) {
        *why = PCIE_TLP_E_UNSUPPORTED;
        *rc = pcilab_errf(err, PCILAB_EUNSUPPORTED,
                          "Fmt=100b: TLP prefix (%s, Type=%02xh) is not modelled (2.2.10)",
                          type & 0x10 ? "End-End" : "Local", type);
        return PCIE_TLP_UNKNOWN;
    }
    if (fmt > PCIE_FMT_PREFIX) {
        *why = PCIE_TLP_E_FMT_TYPE;
        *rc = pcilab_errf(err, PCILAB_EMALFORMED,
                          "Fmt=%u%u%ub is a reserved encoding (2.2.1, Table 2-2)", fmt >> 2 & 1,
                          fmt >> 1 & 1, fmt & 1);
        return PCIE_TLP_UNKNOWN;
    }
    if ((type & 0x18) == 0x10) /* Msg/MsgD: Type 10rrr */
        type = 0x10;
    for (int k = 1; k < PCIE_TLP_KIND_COUNT; k++)
        if (kinds[k].type == type && (kinds[k].fmt_mask >> fmt & 1))
            return (enum pcie_tlp_kind)k;
    if (type == 0x1b) {
        *why = PCIE_TLP_E_UNSUPPORTED;
        *rc = pcilab_errf(err, PCILAB_EUNSUPPORTED,
                          fmt == 0 ? "Fmt/Type=000b/11011b: TCfgRd is deprecated and not "
                                     "modelled (2.2.1, Table 2-3)"
                                   : "Fmt/Type=%u%u%ub/11011b: Deferrable Memory Write (DMWr) "
                                     "is not modelled (2.2.1, Table 2-3)",
                          fmt >> 2 & 1, fmt >> 1 & 1, fmt & 1);
        return PCIE_TLP_UNKNOWN;
    }
    *why = PCIE_TLP_E_FMT_TYPE;
    const char *hint = "";
    if (type == 0x10)
        hint = ": messages always have a 4 DW header";
    else if (type == 0x02 || type == 0x04 || type == 0x05)
        hint = ": I/O and configuration requests always have a 3 DW header";
    else if (type == 0x0a || type == 0x0b)
        hint = ": completions always have a 3 DW header";
    else if (type >= 0x0c && type <= 0x0e)
        hint = ": AtomicOps always carry data";
    else if (type == 0x01)
        hint = ": MRdLk has no data";
    *rc = pcilab_errf(err, PCILAB_EMALFORMED,
                      "Fmt=%u%u%ub Type=%u%u%u%u%ub is a reserved encoding%s (2.2.1, Table 2-3)",
                      fmt >> 2 & 1, fmt >> 1 & 1, fmt & 1, type >> 4 & 1, type >> 3 & 1,
                      type >> 2 & 1, type >> 1 & 1, type & 1, hint);
    return PCIE_TLP_UNKNOWN;
}

/* The fast path of kind_of: byte 0 of a TLP (Fmt[2:0] Type[4:0], Table 2-3)
 * straight to its kind and what decode/encode need of it, in one load.
 * Entries not listed are zero: PCIE_TLP_UNKNOWN (kind_of words why). */
struct b0_desc {
    uint8_t kind;   /* enum pcie_tlp_kind */
    uint8_t cls;    /* enum kind_class, as kinds[kind].cls */
    bool len_raw;   /* no data, Length reserved (Msg 2.2.8, Cpl/CplLk 2.2.9): kept raw */
    uint32_t rsvd2; /* reserved bits of header DW2 (DW0, DW1, DW3 have none in 5.0):
                     * I/O address[1:0] (2.2.7); Cfg byte 10 bits 7:4 and byte 11
                     * bits 1:0 (2.2.7, Table 2-8); Cpl byte 11 bit 7 (2.2.9) */
};
#define B0_(k, cls, raw, rsvd2) {k, cls, raw, rsvd2}
#define B0_MEM(k) B0_(k, CLS_MEM, false, 0)
#define B0_ATOMIC(k) B0_(k, CLS_ATOMIC, false, 0)
#define B0_IO(k) B0_(k, CLS_IO, false, 0x00000003u)
#define B0_CFG(k) B0_(k, CLS_CFG, false, 0x0000f003u)
#define B0_MSG B0_(PCIE_TLP_MSG, CLS_MSG, true, 0)
#define B0_MSGD B0_(PCIE_TLP_MSGD, CLS_MSG, false, 0)
#define B0_CPL(k, raw) B0_(k, CLS_CPL, raw, 0x00000080u)
static const struct b0_desc by_b0[256] = {
    [0x00] = B0_MEM(PCIE_TLP_MRD),      [0x20] = B0_MEM(PCIE_TLP_MRD),
    [0x01] = B0_MEM(PCIE_TLP_MRDLK),    [0x21] = B0_MEM(PCIE_TLP_MRDLK),
    [0x40] = B0_MEM(PCIE_TLP_MWR),      [0x60] = B0_MEM(PCIE_TLP_MWR),
    [0x02] = B0_IO(PCIE_TLP_IORD),      [0x42] = B0_IO(PCIE_TLP_IOWR),
    [0x04] = B0_CFG(PCIE_TLP_CFGRD0),   [0x44] = B0_CFG(PCIE_TLP_CFGWR0),
    [0x05] = B0_CFG(PCIE_TLP_CFGRD1),   [0x45] = B0_CFG(PCIE_TLP_CFGWR1),
    [0x30] = B0_MSG,  [0x31] = B0_MSG,  [0x32] = B0_MSG,  [0x33] = B0_MSG,
    [0x34] = B0_MSG,  [0x35] = B0_MSG,  [0x36] = B0_MSG,  [0x37] = B0_MSG,
    [0x70] = B0_MSGD, [0x71] = B0_MSGD, [0x72] = B0_MSGD, [0x73] = B0_MSGD,
    [0x74] = B0_MSGD, [0x75] = B0_MSGD, [0x76] = B0_MSGD, [0x77] = B0_MSGD,
    [0x0a] = B0_CPL(PCIE_TLP_CPL, true),    [0x4a] = B0_CPL(PCIE_TLP_CPLD, false),
    [0x0b] = B0_CPL(PCIE_TLP_CPLLK, true),  [0x4b] = B0_CPL(PCIE_TLP_CPLDLK, false),
    [0x4c] = B0_ATOMIC(PCIE_TLP_FETCHADD),  [0x6c] = B0_ATOMIC(PCIE_TLP_FETCHADD),
    [0x4d] = B0_ATOMIC(PCIE_TLP_SWAP),      [0x6d] = B0_ATOMIC(PCIE_TLP_SWAP),
    [0x4e] = B0_ATOMIC(PCIE_TLP_CAS),       [0x6e] = B0_ATOMIC(PCIE_TLP_CAS),
};

int pcie_tlp_set_kind(struct pcie_tlp *tlp, enum pcie_tlp_kind kind, bool four_dw,
                      unsigned msg_routing)
{
    if (kind <= PCIE_TLP_UNKNOWN || kind >= PCIE_TLP_KIND_COUNT || msg_routing > 7)
        return -PCILAB_EINVAL;
    unsigned m = kinds[kind].fmt_mask, fmt = 0;
    /* lowest valid Fmt, then the 4 DW one if asked and allowed */
    while (!(m >> fmt & 1))
        fmt++;
    if (four_dw && (m >> (fmt | 1) & 1))
        fmt |= 1;
    tlp->kind = kind;
    tlp->fmt = (uint8_t)fmt;
    tlp->type = kinds[kind].type;
    if (kind == PCIE_TLP_MSG || kind == PCIE_TLP_MSGD) {
        tlp->type = (uint8_t)(0x10 | msg_routing);
        tlp->msg_routing = (uint8_t)msg_routing;
    }
    return 0;
}

/* ---- classification ---- */

/* pcie_tlp_header_dw, _has_data, _payload_dw, _wire_bytes: inline in tlp.h. */

static bool is_atomic(enum pcie_tlp_kind k)
{
    return k == PCIE_TLP_FETCHADD || k == PCIE_TLP_SWAP || k == PCIE_TLP_CAS;
}
static bool is_msg(enum pcie_tlp_kind k) { return k == PCIE_TLP_MSG || k == PCIE_TLP_MSGD; }
static bool is_cpl(enum pcie_tlp_kind k) { return k >= PCIE_TLP_CPL && k <= PCIE_TLP_CPLDLK; }
bool pcie_tlp_is_memory(const struct pcie_tlp *tlp)
{
    return tlp->kind == PCIE_TLP_MRD || tlp->kind == PCIE_TLP_MRDLK ||
           tlp->kind == PCIE_TLP_MWR || is_atomic(tlp->kind);
}
bool pcie_tlp_is_posted(const struct pcie_tlp *tlp)
{
    return tlp->kind == PCIE_TLP_MWR || is_msg(tlp->kind);
}
bool pcie_tlp_is_completion(const struct pcie_tlp *tlp) { return is_cpl(tlp->kind); }
bool pcie_tlp_is_nonposted(const struct pcie_tlp *tlp)
{
    return tlp->kind != PCIE_TLP_UNKNOWN && !pcie_tlp_is_posted(tlp) &&
           !pcie_tlp_is_completion(tlp);
}

/* ---- names ---- */

const char *pcie_msg_code_name(uint8_t code)
{
    switch (code) {
    case PCIE_MSG_UNLOCK: return "Unlock";
    case PCIE_MSG_ATS_INVAL_REQ: return "ATS_Invalidate_Request";
    case PCIE_MSG_ATS_INVAL_CPL: return "ATS_Invalidate_Completion";
    case PCIE_MSG_PRS_PAGE_REQ: return "Page_Request";
    case PCIE_MSG_PRS_PRG_RESP: return "PRG_Response";
    case PCIE_MSG_LTR: return "LTR";
    case PCIE_MSG_OBFF: return "OBFF";
    case PCIE_MSG_PM_ACTIVE_STATE_NAK: return "PM_Active_State_Nak";
    case PCIE_MSG_PM_PME: return "PM_PME";
    case PCIE_MSG_PME_TURN_OFF: return "PME_Turn_Off";
    case PCIE_MSG_PME_TO_ACK: return "PME_TO_Ack";
    case PCIE_MSG_ASSERT_INTA: return "Assert_INTA";
    case PCIE_MSG_ASSERT_INTB: return "Assert_INTB";
    case PCIE_MSG_ASSERT_INTC: return "Assert_INTC";
    case PCIE_MSG_ASSERT_INTD: return "Assert_INTD";
    case PCIE_MSG_DEASSERT_INTA: return "Deassert_INTA";
    case PCIE_MSG_DEASSERT_INTB: return "Deassert_INTB";
    case PCIE_MSG_DEASSERT_INTC: return "Deassert_INTC";
    case PCIE_MSG_DEASSERT_INTD: return "Deassert_INTD";
    case PCIE_MSG_ERR_COR: return "ERR_COR";
    case PCIE_MSG_ERR_NONFATAL: return "ERR_NONFATAL";
    case PCIE_MSG_ERR_FATAL: return "ERR_FATAL";
    /* 2.2.8.7: former hot-plug signalling messages, now ignored */
    case 0x40: return "Ignored (Attention_Indicator_Off)";
    case 0x41: return "Ignored (Attention_Indicator_On)";
    case 0x43: return "Ignored (Attention_Indicator_Blink)";
    case 0x44: return "Ignored (Power_Indicator_Off)";
    case 0x45: return "Ignored (Power_Indicator_On)";
    case 0x47: return "Ignored (Power_Indicator_Blink)";
    case 0x48: return "Ignored (Attention_Button_Pressed)";
    case PCIE_MSG_SET_SLOT_POWER_LIMIT: return "Set_Slot_Power_Limit";
    case PCIE_MSG_PTM_REQUEST: return "PTM_Request";
    case PCIE_MSG_PTM_RESPONSE: return "PTM_Response";
    case PCIE_MSG_VENDOR_TYPE0: return "Vendor_Defined_Type_0";
    case PCIE_MSG_VENDOR_TYPE1: return "Vendor_Defined_Type_1";
    default: return NULL;
    }
}

const char *pcie_msg_routing_name(unsigned r)
{
    static const char *const names[8] = {
        "routed to Root Complex", "routed by address",     "routed by ID",
        "broadcast from Root Complex", "local, terminate at receiver",
        "gathered and routed to Root Complex", "reserved, terminate at receiver",
        "reserved, terminate at receiver",
    };
    return names[r & 7];
}

const char *pcie_cpl_status_name(unsigned st)
{
    switch (st) {
    case PCIE_CPL_SC: return "SC";
    case PCIE_CPL_UR: return "UR";
    case PCIE_CPL_CRS: return "CRS";
    case PCIE_CPL_CA: return "CA";
    default: return "reserved";
    }
}

const char *pcie_tlp_error_name(enum pcie_tlp_error e)
{
    static const char *const names[PCIE_TLP_E_COUNT] = {
        [PCIE_TLP_OK] = "ok",
        [PCIE_TLP_E_TRUNCATED] = "truncated",
        [PCIE_TLP_E_FMT_TYPE] = "reserved Fmt/Type",
        [PCIE_TLP_E_UNSUPPORTED] = "unsupported",
        [PCIE_TLP_E_LENGTH] = "length mismatch",
        [PCIE_TLP_E_RESERVED_VALUE] = "reserved value",
        [PCIE_TLP_E_BYTE_ENABLES] = "byte enables",
        [PCIE_TLP_E_4K_CROSSING] = "4 KiB crossing",
        [PCIE_TLP_E_CFG] = "configuration request",
        [PCIE_TLP_E_IO] = "I/O request",
        [PCIE_TLP_E_ATOMIC] = "AtomicOp",
        [PCIE_TLP_E_MSG] = "message",
        [PCIE_TLP_E_CPL] = "completion",
        [PCIE_TLP_E_ECRC] = "ECRC mismatch",
        [PCIE_TLP_E_MPS] = "exceeds MPS",
        [PCIE_TLP_E_4DW_LOW_ADDR] = "4 DW header below 4 GiB",
        [PCIE_TLP_E_FIELD] = "field out of range",
    };
    return (unsigned)e < PCIE_TLP_E_COUNT && names[e] ? names[e] : "?";
}

uint64_t pcie_msg_addr(const struct pcie_tlp *tlp)
{
    return (uint64_t)tlp->msg_dw[0] << 32 | (tlp->msg_dw[1] & ~3u);
}
uint16_t pcie_msg_target_id(const struct pcie_tlp *tlp) { return (uint16_t)(tlp->msg_dw[0] >> 16); }
uint16_t pcie_msg_vendor_id(const struct pcie_tlp *tlp) { return (uint16_t)tlp->msg_dw[0]; }

/* ---- encode ---- */

static TLP_COLD int field_err(struct pcilab_err *err, const char *field, unsigned long long v,
                              unsigned long long max)
{
    return pcilab_errf(err, PCILAB_EINVAL, "TLP field %s=%#llx does not fit (max %#llx)", field,
                       v, max);
}

/* Fmt/Type that is out of range, does not encode a kind, or does not match
 * t->kind / t->msg_routing. Only called when one of those holds. */
static TLP_COLD int encode_kind_err(const struct pcie_tlp *t, enum pcie_tlp_kind k,
                                    struct pcilab_err *err)
{
    if (t->fmt > 3 || t->type > 0x1f)
        return field_err(err, t->fmt > 3 ? "Fmt" : "Type", t->fmt > 3 ? t->fmt : t->type,
                         t->fmt > 3 ? 3 : 0x1f);
    if (k == PCIE_TLP_UNKNOWN || k != t->kind)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "TLP kind %s does not match Fmt=%u Type=%02xh (use pcie_tlp_set_kind)",
                           pcie_tlp_kind_name(t->kind), t->fmt, t->type);
    return pcilab_errf(err, PCILAB_EINVAL, "msg_routing %u does not match Type[2:0]=%u",
                       t->msg_routing, t->type & 7);
}

/* Every field and buffer check of encode, in the order they are reported:
 * run only when the fast pre-check in pcie_tlp_encode saw a problem (or a
 * value that does not apply to this kind, in which case this returns 0). */
static TLP_COLD int encode_check(const struct pcie_tlp *t, enum pcie_tlp_kind k, size_t cap,
                                 struct pcilab_err *err)
{
    if (t->tc > 7)
        return field_err(err, "TC", t->tc, 7);
    if (t->attr > 7)
        return field_err(err, "Attr", t->attr, 7);
    if (t->at > 3)
        return field_err(err, "AT", t->at, 3);
    if (t->length > 1024 || (pcie_tlp_has_data(t) && t->length == 0))
        return field_err(err, "Length", t->length, 1024);
    if (t->tag > 0x3ff)
        return field_err(err, "Tag", t->tag, 0x3ff);
    if (t->first_be > 0xf || t->last_be > 0xf)
        return field_err(err, "BE", t->first_be > 0xf ? t->first_be : t->last_be, 0xf);
    if (t->ph > 3)
        return field_err(err, "PH", t->ph, 3);
    unsigned pdw = pcie_tlp_payload_dw(t);
    size_t total = pcie_tlp_wire_bytes(t);
    if (cap < total)
        return pcilab_errf(err, PCILAB_ERANGE, "TLP needs %zu bytes, buffer has %zu", total, cap);
    if (pdw && (!t->payload || t->payload_len != 4u * pdw))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%s with Length=%u DW needs a %u-byte payload, has %zu",
                           pcie_tlp_kind_name(k), pdw, 4 * pdw, t->payload ? t->payload_len : 0);
    switch (kinds[k].cls) {
    case CLS_CPL:
        if (t->cpl_status > 7)
            return field_err(err, "Completion Status", t->cpl_status, 7);
        if (t->byte_count > 4096)
            return field_err(err, "Byte Count", t->byte_count, 4096);
        if (t->lower_addr > 0x7f)
            return field_err(err, "Lower Address", t->lower_addr, 0x7f);
        return 0;
    case CLS_MSG:
        return 0;
    case CLS_CFG:
        if (t->cfg_reg > 0x3ff)
            return field_err(err, "Register Number", t->cfg_reg, 0x3ff);
        return 0;
    default:
        if (pcie_tlp_header_dw(t) == 4) {
            if (t->addr & 3)
                return field_err(err, "Address[1:0]", t->addr & 3, 0);
        } else if (t->addr & ~(uint64_t)0xfffffffc) {
            return field_err(err, "Address (32-bit format)", t->addr, 0xfffffffc);
        }
        return 0;
    }
}

int pcie_tlp_encode(const struct pcie_tlp *t, uint8_t *buf, size_t cap, struct pcilab_err *err)
{
    unsigned fmt = t->fmt, type = t->type;
    /* Fmt <= 3 and Type <= 1fh in one test (type >> 3 <= 3) */
    if (TLP_UNLIKELY((fmt | type >> 3) > 3))
        return encode_kind_err(t, PCIE_TLP_UNKNOWN, err);
    const struct b0_desc d = by_b0[fmt << 5 | type];
    enum pcie_tlp_kind k = (enum pcie_tlp_kind)d.kind;
    if (TLP_UNLIKELY(k == PCIE_TLP_UNKNOWN || k != t->kind))
        return encode_kind_err(t, k, err);
    if (TLP_UNLIKELY(d.cls == CLS_MSG && t->msg_routing != (type & 7)))
        return encode_kind_err(t, k, err);

    unsigned hdr = 3 + (fmt & 1); /* 2.2.1: Fmt[0] = 4 DW header */
    unsigned data = fmt >> 1 & 1; /* Fmt[1] = with data */
    unsigned length = t->length;
    unsigned pdw = data ? length : 0;
    unsigned td = t->td;
    size_t total = 4u * (hdr + pdw + td);
    /* One branch-free pre-check of every field width, the buffer and the
     * payload; any doubt goes to encode_check, which reports the first problem
     * in order (or finds none: e.g. a completion field set on a request).
     * Fields whose limit is 2^n - 1 are shifted so that each fits in 10 bits
     * exactly when it fits its own field, and ORed: Tag, Register Number
     * (10 bits); BEs (4) << 6; Lower Address (7) << 3; TC, Attr, Completion
     * Status (3), AT and PH (2) << 1, all << 7. Length: 1..1024 with data,
     * 0..1024 without. */
    unsigned small = t->tc | t->attr | t->cpl_status | (unsigned)(t->at | t->ph) << 1;
    unsigned narrow = t->tag | t->cfg_reg | (unsigned)(t->first_be | t->last_be) << 6 |
                      (unsigned)t->lower_addr << 3 | small << 7;
    bool addr_bad = false;
    if (d.cls == CLS_MEM || d.cls == CLS_ATOMIC || d.cls == CLS_IO)
        addr_bad = (t->addr & (hdr == 4 ? 3u : 0xffffffff00000003ull)) != 0;
    bool bad = (narrow > 0x3ff) | (length - data > 1024 - data) | (t->byte_count > 4096) |
               (cap < total) | addr_bad |
               ((pdw != 0) & ((t->payload == NULL) | (t->payload_len != 4u * pdw)));
    if (TLP_UNLIKELY(bad)) {
        int rc = encode_check(t, k, cap, err);
        if (rc)
            return rc;
    }

    /* DW0 (2.2.1): Fmt, Type, T9, TC, T8, Attr[2], LN, TH, TD, EP, Attr[1:0],
     * AT, Length. The widths were checked above, so bits are moved by masks. */
    unsigned tag = t->tag, attr = t->attr;
    uint32_t dw0 = (uint32_t)(fmt << 5 | type) << 24 | (tag & 0x200u) << 14 |
                   (uint32_t)t->tc << 20 | (tag & 0x100u) << 11 | (attr & 4u) << 16 |
                   (uint32_t)t->ln << 17 | (uint32_t)t->th << 16 | td << 15 |
                   (uint32_t)t->ep << 14 | (attr & 3u) << 12 | (uint32_t)t->at << 10 |
                   (length & 0x3ffu);
    uint32_t dw1, dw2, dw3 = 0;
    switch (d.cls) {
    case CLS_CPL:
        /* 2.2.9: Completer ID, Status, BCM, Byte Count; Requester ID, Tag, Lower Address */
        dw1 = (uint32_t)t->completer_id << 16 | (uint32_t)t->cpl_status << 13 |
              (uint32_t)t->bcm << 12 | (t->byte_count & 0xfffu);
        dw2 = (uint32_t)t->requester_id << 16 | (uint32_t)(t->tag & 0xff) << 8 | t->lower_addr;
        break;
    case CLS_MSG:
        /* 2.2.8: Requester ID, Tag, Message Code; DW2-3 message specific */
        dw1 = (uint32_t)t->requester_id << 16 | (uint32_t)(t->tag & 0xff) << 8 | t->msg_code;
        dw2 = t->msg_dw[0];
        dw3 = t->msg_dw[1];
        break;
    case CLS_CFG:
        /* Requester ID, Tag, Last/First DW BE (2.2.6.2, 2.2.5); 2.2.7, Table 2-8:
         * Bus, Device, Function, Ext Register, Register */
        dw1 = (uint32_t)t->requester_id << 16 | (uint32_t)(t->tag & 0xff) << 8 |
              (uint32_t)t->last_be << 4 | t->first_be;
        dw2 = (uint32_t)t->target_id << 16 | (uint32_t)(t->cfg_reg >> 6) << 8 |
              (uint32_t)(t->cfg_reg & 0x3f) << 2;
        break;
    default:
        /* memory, AtomicOp, I/O requests: Requester ID, Tag, Last/First DW BE
         * (2.2.6.2, 2.2.5); 2.2.4.1: Address[63:32] in DW2 and Address[31:2]
         * with PH (2.2.7.1) in DW3, or Address[31:2] and PH in DW2 (I/O: reserved) */
        dw1 = (uint32_t)t->requester_id << 16 | (uint32_t)(t->tag & 0xff) << 8 |
              (uint32_t)t->last_be << 4 | t->first_be;
        if (hdr == 4) {
            dw2 = (uint32_t)(t->addr >> 32);
            dw3 = (uint32_t)t->addr | t->ph;
        } else {
            dw2 = (uint32_t)t->addr | (d.cls == CLS_IO ? 0u : t->ph);
        }
        break;
    }
    dw2 |= t->rsvd[2] & d.rsvd2; /* reserved bits round-trip (2.2.1) */
    put_be32(buf, dw0);
    put_be32(buf + 4, dw1);
    put_be32(buf + 8, dw2);
    if (hdr == 4)
        put_be32(buf + 12, dw3);
    if (pdw)
        memcpy(buf + 4 * hdr, t->payload, 4u * pdw);
    if (TLP_UNLIKELY(td)) /* 2.7.1: ECRC over header and data, after the data */
        put_be32(buf + 4 * (hdr + pdw), pcie_ecrc(buf, 4u * (hdr + pdw)));
    return (int)total;
}

/* ---- rules ---- */

#define MALFORMED(kind_, ...)                                                                 \
    do {                                                                                       \
        if (kindp)                                                                             \
            *kindp = (kind_);                                                                  \
        return pcilab_errf(err, PCILAB_EMALFORMED, __VA_ARGS__);                               \
    } while (0)

static const char *be_str(unsigned be, char *b)
{
    for (int i = 0; i < 4; i++)
        b[i] = (char)('0' + (be >> (3 - i) & 1));
    b[4] = 'b';
    b[5] = '\0';
    return b;
}

/* Enabled bytes contiguous? For the first DW they must run up to byte 3, for
 * the last DW start at byte 0 (2.2.5). */
static bool first_be_contig(unsigned be) { return be == 0xf || be == 0xe || be == 0xc || be == 0x8; }
static bool last_be_contig(unsigned be) { return be == 0xf || be == 0x7 || be == 0x3 || be == 0x1; }

static int check_be(const struct pcie_tlp *t, enum pcie_tlp_error *kindp, struct pcilab_err *err)
{
    char b1[6], b2[6];
    unsigned len = t->length ? t->length : 1024;
    const char *name = pcie_tlp_kind_name(t->kind);
    if (len == 1 && t->last_be != 0)
        MALFORMED(PCIE_TLP_E_BYTE_ENABLES,
                  "%s Length=1 DW with Last DW BE=%s: it must be 0000b (2.2.5)", name,
                  be_str(t->last_be, b1));
    if (len > 1 && t->first_be == 0)
        MALFORMED(PCIE_TLP_E_BYTE_ENABLES,
                  "%s Length=%u DW with First DW BE=0000b: must not be 0000b when Length > 1 "
                  "(2.2.5)",
                  name, len);
    if (len > 1 && t->last_be == 0)
        MALFORMED(PCIE_TLP_E_BYTE_ENABLES,
                  "%s Length=%u DW with Last DW BE=0000b: must not be 0000b when Length > 1 "
                  "(2.2.5)",
                  name, len);
    if (len == 1)
        return 0; /* any First DW BE pattern is permitted for 1 DW */
    bool qw_aligned = (t->addr & 7) == 0;
    bool memory = t->kind == PCIE_TLP_MRD || t->kind == PCIE_TLP_MRDLK || t->kind == PCIE_TLP_MWR;
    if (len == 2 && qw_aligned && memory)
        return 0; /* non-contiguous allowed for a QW-aligned 1 QW memory request */
    if (!first_be_contig(t->first_be) || !last_be_contig(t->last_be))
        MALFORMED(PCIE_TLP_E_BYTE_ENABLES,
                  "%s Length=%u DW at %#llx with First/Last DW BE=%s/%s: non-contiguous byte "
                  "enables are only permitted for 1 DW requests and QW-aligned 2 DW memory "
                  "requests (2.2.5)",
                  name, len, (unsigned long long)t->addr, be_str(t->first_be, b1),
                  be_str(t->last_be, b2));
    return 0;
}

/* The rules for single-DW I/O and configuration requests (2.2.7). */
static int check_io_cfg(const struct pcie_tlp *t, enum pcie_tlp_error code, const char *what,
                        enum pcie_tlp_error *kindp, struct pcilab_err *err)
{
    const char *name = pcie_tlp_kind_name(t->kind);
    if (t->length != 1)
        MALFORMED(code, "%s with Length=%u DW: %s requests must have Length=1 (2.2.7)", name,
                  t->length ? t->length : 1024, what);
    if (t->tc != 0)
        MALFORMED(code, "%s with TC=%u: %s requests must use TC0 (2.2.7)", name, t->tc, what);
    if (t->attr & 3)
        MALFORMED(code, "%s with Attr[1:0]=%u%ub (RO/NS): must be 00b for %s requests (2.2.7)",
                  name, t->attr >> 1 & 1, t->attr & 1, what);
    if (t->at != 0)
        MALFORMED(code, "%s with AT=%u%ub: must be 00b for %s requests (2.2.7)", name,
                  t->at >> 1 & 1, t->at & 1, what);
    if (t->last_be != 0) {
        char b[6];
        MALFORMED(PCIE_TLP_E_BYTE_ENABLES,
                  "%s with Last DW BE=%s: must be 0000b for %s requests (2.2.5, 2.2.7)", name,
                  be_str(t->last_be, b), what);
    }
    return 0;
}

/* Standard messages: required routing, data and TC (2.2.8.x). */
struct msg_rule {
    uint8_t code;
    int8_t routing; /* -1: any */
    int8_t data;    /* 0 Msg, 1 MsgD, -1 either */
    uint8_t len;    /* required Length for MsgD, 0 = any */
    bool tc0;
    const char *section;
};
static const struct msg_rule msg_rules[] = {
    {PCIE_MSG_UNLOCK, 3, 0, 0, true, "2.2.8.4"},
    {PCIE_MSG_ATS_INVAL_REQ, 2, 1, 2, false, "10.3.1"},
    {PCIE_MSG_ATS_INVAL_CPL, 2, 0, 0, false, "10.3.2"},
    {PCIE_MSG_PRS_PAGE_REQ, 0, 0, 0, false, "10.4.1"},
    {PCIE_MSG_PRS_PRG_RESP, 2, 0, 0, false, "10.4.2"},
    {PCIE_MSG_LTR, 4, 0, 0, true, "2.2.8.8"},
    {PCIE_MSG_OBFF, 4, 0, 0, true, "2.2.8.9"},
    {PCIE_MSG_PM_ACTIVE_STATE_NAK, 4, 0, 0, true, "2.2.8.2"},
    {PCIE_MSG_PM_PME, 0, 0, 0, true, "2.2.8.2"},
    {PCIE_MSG_PME_TURN_OFF, 3, 0, 0, true, "2.2.8.2"},
    {PCIE_MSG_PME_TO_ACK, 5, 0, 0, true, "2.2.8.2"},
    {PCIE_MSG_ASSERT_INTA, 4, 0, 0, true, "2.2.8.1"},
    {PCIE_MSG_ASSERT_INTB, 4, 0, 0, true, "2.2.8.1"},
    {PCIE_MSG_ASSERT_INTC, 4, 0, 0, true, "2.2.8.1"},
    {PCIE_MSG_ASSERT_INTD, 4, 0, 0, true, "2.2.8.1"},
    {PCIE_MSG_DEASSERT_INTA, 4, 0, 0, true, "2.2.8.1"},
    {PCIE_MSG_DEASSERT_INTB, 4, 0, 0, true, "2.2.8.1"},
    {PCIE_MSG_DEASSERT_INTC, 4, 0, 0, true, "2.2.8.1"},
    {PCIE_MSG_DEASSERT_INTD, 4, 0, 0, true, "2.2.8.1"},
    {PCIE_MSG_ERR_COR, 0, 0, 0, true, "2.2.8.3"},
    {PCIE_MSG_ERR_NONFATAL, 0, 0, 0, true, "2.2.8.3"},
    {PCIE_MSG_ERR_FATAL, 0, 0, 0, true, "2.2.8.3"},
    {PCIE_MSG_SET_SLOT_POWER_LIMIT, 4, 1, 1, true, "2.2.8.5"},
    {PCIE_MSG_PTM_REQUEST, 4, 0, 0, true, "2.2.8.10"},
    {PCIE_MSG_PTM_RESPONSE, 4, -1, 1, true, "2.2.8.10"}, /* ResponseD: 1 DW, Propagation Delay */
    {PCIE_MSG_VENDOR_TYPE0, -1, -1, 0, false, "2.2.8.6"},
    {PCIE_MSG_VENDOR_TYPE1, -1, -1, 0, false, "2.2.8.6"},
};

static const struct msg_rule *msg_rule_of(uint8_t code)
{
    for (size_t i = 0; i < sizeof msg_rules / sizeof msg_rules[0]; i++)
        if (msg_rules[i].code == code)
            return &msg_rules[i];
    return NULL;
}

static int check_msg(const struct pcie_tlp *t, enum pcie_tlp_error *kindp, struct pcilab_err *err)
{
    const struct msg_rule *r = msg_rule_of(t->msg_code);
    if (!r)
        return 0; /* unknown codes are Unsupported Requests, not malformed */
    const char *name = pcie_msg_code_name(t->msg_code);
    bool data = t->kind == PCIE_TLP_MSGD;
    if (r->routing >= 0 && t->msg_routing != (unsigned)r->routing)
        MALFORMED(PCIE_TLP_E_MSG, "%s with routing r[2:0]=%u%u%ub (%s): it must be %u%u%ub (%s) (%s)",
                  name, t->msg_routing >> 2 & 1, t->msg_routing >> 1 & 1, t->msg_routing & 1,
                  pcie_msg_routing_name(t->msg_routing), r->routing >> 2 & 1,
                  r->routing >> 1 & 1, r->routing & 1, pcie_msg_routing_name((unsigned)r->routing),
                  r->section);
    if (r->data >= 0 && data != (r->data == 1))
        MALFORMED(PCIE_TLP_E_MSG, "%s sent as %s: it is a %s (%s)", name,
                  pcie_tlp_kind_name(t->kind), r->data ? "MsgD (with data)" : "Msg (no data)",
                  r->section);
    if (data && r->len && t->length != r->len)
        MALFORMED(PCIE_TLP_E_MSG, "%s with Length=%u DW: it carries %u DW (%s)", name,
                  t->length ? t->length : 1024, r->len, r->section);
    if (r->tc0 && t->tc != 0)
        MALFORMED(PCIE_TLP_E_MSG, "%s with TC=%u: it must use TC0 (%s)", name, t->tc, r->section);
    return 0;
}

static int check_rules(const struct pcie_tlp *t, enum pcie_tlp_error *kindp, struct pcilab_err *err)
{
    const char *name = pcie_tlp_kind_name(t->kind);
    unsigned len = t->length ? t->length : 1024;
    if (t->at == 3)
        MALFORMED(PCIE_TLP_E_RESERVED_VALUE, "%s with AT=11b: a reserved Address Type (2.2.4.1)",
                  name);
    switch (t->kind) {
    case PCIE_TLP_MRD:
    case PCIE_TLP_MRDLK:
    case PCIE_TLP_MWR: {
        /* 2.2.5; MRd with TH=1 carries ST[7:0] in byte 7, BEs implied */
        if (!(t->th && t->kind != PCIE_TLP_MWR)) {
            int rc = check_be(t, kindp, err);
            if (rc)
                return rc;
        }
        uint64_t end = (t->addr & 0xfff) + 4ull * len;
        if (end > 4096)
            MALFORMED(PCIE_TLP_E_4K_CROSSING,
                      "%s of %u DW at %#llx crosses the 4 KiB boundary at %#llx (2.2.7)", name,
                      len, (unsigned long long)t->addr,
                      (unsigned long long)((t->addr | 0xfff) + 1));
        return 0;
    }
    case PCIE_TLP_IORD:
    case PCIE_TLP_IOWR:
        return check_io_cfg(t, PCIE_TLP_E_IO, "I/O", kindp, err);
    case PCIE_TLP_CFGRD0:
    case PCIE_TLP_CFGWR0:
    case PCIE_TLP_CFGRD1:
    case PCIE_TLP_CFGWR1:
        return check_io_cfg(t, PCIE_TLP_E_CFG, "configuration", kindp, err);
    case PCIE_TLP_FETCHADD:
    case PCIE_TLP_SWAP:
    case PCIE_TLP_CAS: {
        /* 2.2.7 and 6.15.1: FetchAdd/Swap operands 32/64 bit (Length 1, 2);
         * CAS carries compare and swap values, 32/64/128 bit each (Length 2, 4, 8);
         * the address is naturally aligned to the operand size. */
        bool cas = t->kind == PCIE_TLP_CAS;
        bool ok = cas ? (len == 2 || len == 4 || len == 8) : (len == 1 || len == 2);
        if (!ok)
            MALFORMED(PCIE_TLP_E_ATOMIC, "%s with Length=%u DW: must be %s (2.2.7, 6.15.1)", name,
                      len, cas ? "2, 4 or 8" : "1 or 2");
        unsigned opsize = cas ? len * 2 : len * 4;
        if (t->addr & (opsize - 1))
            MALFORMED(PCIE_TLP_E_ATOMIC,
                      "%s address %#llx is not aligned to its %u-byte operand (2.2.7, 6.15.1)",
                      name, (unsigned long long)t->addr, opsize);
        return 0;
    }
    case PCIE_TLP_MSG:
    case PCIE_TLP_MSGD:
        return check_msg(t, kindp, err);
    case PCIE_TLP_CPL:
    case PCIE_TLP_CPLD:
    case PCIE_TLP_CPLLK:
    case PCIE_TLP_CPLDLK: {
        bool data = pcie_tlp_has_data(t);
        if (data && t->cpl_status != PCIE_CPL_SC)
            MALFORMED(PCIE_TLP_E_CPL,
                      "%s with Completion Status %s: only a Successful Completion carries data "
                      "(2.2.9)",
                      name, pcie_cpl_status_name(t->cpl_status));
        if (t->kind == PCIE_TLP_CPLLK && t->cpl_status == PCIE_CPL_SC)
            MALFORMED(PCIE_TLP_E_CPL,
                      "CplLk with status SC: a successful locked read completes with data "
                      "(CplDLk) (2.2.9)");
        if (data) {
            unsigned bc = t->byte_count ? t->byte_count : 4096;
            unsigned max_dw = ((t->lower_addr & 3u) + bc + 3u) / 4u;
            if (len > max_dw)
                MALFORMED(PCIE_TLP_E_CPL,
                          "%s Length=%u DW exceeds the %u DW that Byte Count=%u from Lower "
                          "Address=%#x leaves (2.2.9)",
                          name, len, max_dw, bc, t->lower_addr);
        }
        return 0;
    }
    default:
        MALFORMED(PCIE_TLP_E_FMT_TYPE, "unknown TLP kind %d", (int)t->kind);
    }
}

/* A memory request (or AtomicOp) with a 4 DW header below 4 GiB (2.2.4.1). */
static inline bool low_addr_4dw(const struct pcie_tlp *t)
{
    unsigned cls = kinds[t->kind].cls;
    return (cls == CLS_MEM || cls == CLS_ATOMIC) && (t->fmt & 1) && (t->addr >> 32) == 0;
}

static int check_4dw(const struct pcie_tlp *t, enum pcie_tlp_error *kindp, struct pcilab_err *err)
{
    if (low_addr_4dw(t))
        MALFORMED(PCIE_TLP_E_4DW_LOW_ADDR,
                  "%s uses a 4 DW header for address %#llx below 4 GiB: requesters must use "
                  "the 3 DW (32-bit) format there, receiver behaviour is not specified (2.2.4.1)",
                  pcie_tlp_kind_name(t->kind), (unsigned long long)t->addr);
    return 0;
}

int pcie_tlp_check(const struct pcie_tlp *tlp, enum pcie_tlp_error *kind, struct pcilab_err *err)
{
    if (kind)
        *kind = PCIE_TLP_OK;
    int rc = check_rules(tlp, kind, err);
    return rc ? rc : check_4dw(tlp, kind, err);
}

int pcie_tlp_check_mps(const struct pcie_tlp *tlp, unsigned mps, struct pcilab_err *err)
{
    if (mps < 128 || mps > 4096 || (mps & (mps - 1)))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "MPS %u is not one of 128, 256, 512, 1024, 2048, 4096 bytes", mps);
    unsigned bytes = 4 * pcie_tlp_payload_dw(tlp);
    if (bytes > mps)
        return pcilab_errf(err, PCILAB_EMALFORMED,
                           "%s carries %u bytes of payload, more than Max_Payload_Size %u: a "
                           "malformed TLP at the receiver (2.2.2)",
                           pcie_tlp_kind_name(tlp->kind), bytes, mps);
    return 0;
}

unsigned pcie_tlp_warnings(const struct pcie_tlp *t)
{
    unsigned w = 0;
    for (int i = 0; i < 4; i++)
        if (t->rsvd[i])
            w |= PCIE_TLP_WARN_RESERVED_BITS;
    if (is_cpl(t->kind) && (t->cpl_status == 3 || t->cpl_status > 4))
        w |= PCIE_TLP_WARN_CPL_STATUS;
    if (is_msg(t->kind) && t->msg_routing >= 6)
        w |= PCIE_TLP_WARN_MSG_ROUTING;
    if (is_msg(t->kind) && !pcie_msg_code_name(t->msg_code))
        w |= PCIE_TLP_WARN_UNKNOWN_MSG;
    bool mem = pcie_tlp_is_memory(t);
    if (!mem && t->at && !(is_msg(t->kind) && t->msg_code <= PCIE_MSG_PRS_PRG_RESP))
        w |= PCIE_TLP_WARN_AT;
    if (!mem && t->th)
        w |= PCIE_TLP_WARN_TH;
    if (mem && !t->th && t->ph)
        w |= PCIE_TLP_WARN_PH;
    if (!pcie_tlp_has_data(t) && (t->kind == PCIE_TLP_MSG || is_cpl(t->kind)) && t->length)
        w |= PCIE_TLP_WARN_LENGTH;
    return w;
}

/* ---- decode ---- */

/* The error reports of decode, out of line: each fills *kindp and err and
 * returns the negative code; the fast path only tests the conditions. */
static TLP_COLD int decode_short(size_t len, enum pcie_tlp_error *kindp, struct pcilab_err *err)
{
    MALFORMED(PCIE_TLP_E_TRUNCATED, "TLP of %zu bytes: shorter than the first header DW", len);
}

static TLP_COLD int decode_bad_kind(const struct pcie_tlp *t, enum pcie_tlp_error *kindp,
                                    struct pcilab_err *err)
{
    enum pcie_tlp_error why = PCIE_TLP_E_FMT_TYPE;
    int rc = -PCILAB_EMALFORMED;
    kind_of(t->fmt, t->type, &why, err, &rc); /* by_b0 knows every valid pair */
    if (kindp)
        *kindp = why;
    return rc;
}

static TLP_COLD int decode_short_header(const struct pcie_tlp *t, size_t len,
                                        enum pcie_tlp_error *kindp, struct pcilab_err *err)
{
    unsigned hdr = pcie_tlp_header_dw(t);
    MALFORMED(PCIE_TLP_E_TRUNCATED, "%s needs a %u DW header (%u bytes), only %zu bytes given",
              pcie_tlp_kind_name(t->kind), hdr, 4 * hdr, len);
}

static TLP_COLD int decode_bad_length(const struct pcie_tlp *t, size_t len,
                                      enum pcie_tlp_error *kindp, struct pcilab_err *err)
{
    unsigned hdr = pcie_tlp_header_dw(t), pdw = pcie_tlp_payload_dw(t);
    size_t want = pcie_tlp_wire_bytes(t);
    char what[96];
    if (pdw)
        snprintf(what, sizeof what, "%u DW header + %u DW data (Length=%u)%s", hdr, pdw,
                 t->length & 0x3ffu, t->td ? " + ECRC (TD=1)" : "");
    else
        snprintf(what, sizeof what, "%u DW header, no data%s", hdr, t->td ? " + ECRC (TD=1)" : "");
    MALFORMED(PCIE_TLP_E_LENGTH, "%s: %s is %zu bytes, but %zu bytes were given (%s)",
              pcie_tlp_kind_name(t->kind), what, want, len,
              len > want ? "trailing bytes, 2.2.2" : "TLP truncated, 2.2.2/2.2.3");
}

/* What follows the length check when the fast path is not sure: the rules
 * (worded by check_rules), the ECRC, the 4 DW address rule, in that order. */
static TLP_COLD int decode_finish(const uint8_t *b, unsigned flags, bool ecrc_present,
                                  const struct pcie_tlp *t, enum pcie_tlp_error *kindp,
                                  struct pcilab_err *err)
{
    int rc = check_rules(t, kindp, err);
    if (rc)
        return rc;
    if (ecrc_present && !(flags & PCIE_TLP_DECODE_NO_ECRC_CHECK)) {
        unsigned pdw = pcie_tlp_payload_dw(t);
        uint32_t calc = pcie_ecrc(b, 4u * (pcie_tlp_header_dw(t) + pdw));
        if (calc != t->ecrc)
            MALFORMED(PCIE_TLP_E_ECRC,
                      "ECRC %08x does not match %08x computed over the %s (2.7.1)", t->ecrc,
                      calc, pdw ? "header and data" : "header");
    }
    return check_4dw(t, kindp, err);
}

/* The whole decoder; inlined into both entry points so that pcie_tlp_decode
 * (no flags, no error kind) is compiled without those tests. */
static inline __attribute__((always_inline)) int
decode_tlp(const uint8_t *b, size_t len, unsigned flags, struct pcie_tlp *t,
           enum pcie_tlp_error *kindp, struct pcilab_err *err)
{
    /* Everything that does not apply to the kind stays 0: one 96-byte clear
     * (a few vector stores), then only the fields the header carries. */
    tlp_clear(t);
    if (kindp)
        *kindp = PCIE_TLP_OK;
    if (TLP_UNLIKELY(len < 4))
        return decode_short(len, kindp, err);
    /* DW0 (2.2.1), read as one big-endian dword: Fmt, Type, T9, TC, T8,
     * Attr[2], LN, TH, TD, EP, Attr[1:0], AT, Length */
    uint32_t dw0 = get_be32(b);
    unsigned b0 = dw0 >> 24;
    t->fmt = (uint8_t)(b0 >> 5);
    t->type = (uint8_t)(b0 & 0x1f);
    const struct b0_desc d = by_b0[b0];
    enum pcie_tlp_kind k = (enum pcie_tlp_kind)d.kind;
    if (TLP_UNLIKELY(k == PCIE_TLP_UNKNOWN))
        return decode_bad_kind(t, kindp, err);
    t->kind = k;
    unsigned at = dw0 >> 10 & 3;
    bool th = dw0 >> 16 & 1;
    unsigned td = dw0 >> 15 & 1;
    t->tc = (uint8_t)(dw0 >> 20 & 7);
    t->attr = (uint8_t)((dw0 >> 18 & 1) << 2 | (dw0 >> 12 & 3));
    t->ln = dw0 >> 17 & 1;
    t->th = th;
    t->td = td;
    t->ep = dw0 >> 14 & 1;
    t->at = (uint8_t)at;
    /* Length (2.2.2): 0 means 1024, except where the field is reserved (Msg,
     * Cpl, CplLk: no data), where the raw value is kept */
    unsigned lenf = dw0 & 0x3ff;
    unsigned length = lenf | (unsigned)(lenf == 0 && !d.len_raw) << 10;
    t->length = (uint16_t)length;
    unsigned tag = (dw0 >> 23 & 1) << 9 | (dw0 >> 19 & 1) << 8; /* T9, T8 (2.2.6.2) */
    unsigned hdr = 3 + (b0 >> 5 & 1);                           /* Fmt[0]: 4 DW header */
    if (TLP_UNLIKELY(len < 4u * hdr)) {
        t->tag = (uint16_t)tag;
        return decode_short_header(t, len, kindp, err);
    }
    uint32_t dw1 = get_be32(b + 4), dw2 = get_be32(b + 8);
    /* fast: the kind's rules (check_rules) and the 4 DW address rule
     * (check_4dw) are known to pass; otherwise decode_finish decides */
    bool fast = false;
    switch (d.cls) {
    case CLS_CPL: {
        /* 2.2.9: Completer ID, Status, BCM, Byte Count (0 = 4096); Requester
         * ID, Tag, Lower Address */
        unsigned st = dw1 >> 13 & 7, la = dw2 & 0x7f;
        unsigned bc = (dw1 & 0xfff) | (unsigned)((dw1 & 0xfff) == 0) << 12;
        t->completer_id = (uint16_t)(dw1 >> 16);
        t->cpl_status = (uint8_t)st;
        t->bcm = dw1 >> 12 & 1;
        t->byte_count = (uint16_t)bc;
        t->requester_id = (uint16_t)(dw2 >> 16);
        tag |= dw2 >> 8 & 0xff;
        t->lower_addr = (uint8_t)la;
        /* Cpl: any status; CplD: SC, Length within what Byte Count from
         * Lower Address leaves (2.2.9); CplLk/CplDLk: check_rules */
        if (k == PCIE_TLP_CPL)
            fast = at != 3;
        else if (k == PCIE_TLP_CPLD)
            fast = at != 3 && st == PCIE_CPL_SC && length <= ((la & 3u) + bc + 3u) / 4u;
        break;
    }
    case CLS_MSG:
        /* 2.2.8: Requester ID, Tag, Message Code; routing r[2:0] = Type[2:0];
         * DW2-3 message specific */
        t->requester_id = (uint16_t)(dw1 >> 16);
        tag |= dw1 >> 8 & 0xff;
        t->msg_code = (uint8_t)dw1;
        t->msg_routing = (uint8_t)(b0 & 7);
        t->msg_dw[0] = dw2;
        t->msg_dw[1] = get_be32(b + 12);
        break;
    case CLS_CFG:
        /* Requester ID, Tag, Last/First DW BE (2.2.6.2, 2.2.5); 2.2.7, Table
         * 2-8: target BDF, Ext Register Number, Register Number */
        t->requester_id = (uint16_t)(dw1 >> 16);
        tag |= dw1 >> 8 & 0xff;
        t->last_be = (uint8_t)(dw1 >> 4 & 0xf);
        t->first_be = (uint8_t)(dw1 & 0xf);
        t->target_id = (uint16_t)(dw2 >> 16);
        t->cfg_reg = (uint16_t)((dw2 >> 8 & 0xf) << 6 | (dw2 >> 2 & 0x3f));
        break;
    default: {
        /* memory, AtomicOp and I/O requests: as above, then the address
         * (2.2.4.1) with PH (2.2.7.1) in its bits [1:0] (I/O: reserved) */
        unsigned lbe = dw1 >> 4 & 0xf, fbe = dw1 & 0xf;
        uint64_t addr;
        t->requester_id = (uint16_t)(dw1 >> 16);
        tag |= dw1 >> 8 & 0xff;
        t->last_be = (uint8_t)lbe;
        t->first_be = (uint8_t)fbe;
        if (hdr == 4) {
            uint32_t dw3 = get_be32(b + 12);
            addr = (uint64_t)dw2 << 32 | (dw3 & ~3u);
            t->ph = (uint8_t)(dw3 & 3);
        } else {
            addr = dw2 & ~3u;
            if (d.cls != CLS_IO)
                t->ph = (uint8_t)(dw2 & 3);
        }
        t->addr = addr;
        if (d.cls == CLS_MEM) {
            /* MRd/MRdLk/MWr: AT not 11b (2.2.4.1); no 4 KiB crossing (2.2.7);
             * a 4 DW header only above 4 GiB (2.2.4.1); byte enables (2.2.5,
             * implied for reads with TH=1): 1 DW: Last BE 0000b; else both
             * non-zero, and contiguous (First in {1111,1110,1100,1000}, Last
             * in {1111,0111,0011,0001}) unless a QW-aligned 2 DW request. */
            bool be_ok = (th && k != PCIE_TLP_MWR) ||
                         (length == 1 ? lbe == 0
                                      : fbe && lbe &&
                                            ((length == 2 && !(addr & 7)) ||
                                             ((0xd100u >> fbe & 1) && (0x808au >> lbe & 1))));
            fast = at != 3 && (addr & 0xfff) + 4u * length <= 4096 && be_ok &&
                   (hdr == 3 || (addr >> 32) != 0);
        }
        break;
    }
    }
    t->tag = (uint16_t)tag;
    t->rsvd[2] = dw2 & d.rsvd2; /* reserved bits set: kept for the round trip (2.2.1) */

    /* Length vs bytes present (2.2.2: Length; 2.2.3: ECRC when TD=1) */
    unsigned pdw = b0 & 0x40 ? length : 0; /* Fmt[1]: with data */
    size_t hdr_bytes = 4u * hdr, body = hdr_bytes + 4u * pdw;
    bool ecrc_present = td;
    if (TLP_LIKELY(len == body + 4u * td)) {
        if (pdw) {
            t->payload = b + hdr_bytes;
            t->payload_len = 4u * pdw;
        }
        if (td)
            t->ecrc = get_be32(b + body);
    } else if ((flags & PCIE_TLP_DECODE_HEADER_ONLY) && len == hdr_bytes && (pdw || td)) {
        t->payload_absent = pdw != 0;
        ecrc_present = false;
    } else {
        return decode_bad_length(t, len, kindp, err);
    }
    if (TLP_LIKELY(fast && !ecrc_present))
        return 0;
    return decode_finish(b, flags, ecrc_present, t, kindp, err);
}

int pcie_tlp_decode_ex(const uint8_t *b, size_t len, unsigned flags, struct pcie_tlp *t,
                       enum pcie_tlp_error *kindp, struct pcilab_err *err)
{
    return decode_tlp(b, len, flags, t, kindp, err);
}

int pcie_tlp_decode(const uint8_t *bytes, size_t len, struct pcie_tlp *tlp,
                    struct pcilab_err *err)
{
    return decode_tlp(bytes, len, 0, tlp, NULL, err);
}

/* ---- byte enables, spans ---- */

void pcie_tlp_effective_be(const struct pcie_tlp *t, uint8_t *first_be, uint8_t *last_be)
{
    if (t->th && (t->kind == PCIE_TLP_MRD || t->kind == PCIE_TLP_MRDLK)) {
        /* 2.2.5: implied BEs for reads carrying ST[7:0] in byte 7 */
        *first_be = 0xf;
        *last_be = t->length == 1 ? 0 : 0xf;
        return;
    }
    *first_be = t->first_be;
    *last_be = t->last_be;
}

int pcie_tlp_steering_tag(const struct pcie_tlp *t)
{
    if (!t->th || !pcie_tlp_is_memory(t))
        return -1;
    if (t->kind == PCIE_TLP_MWR) /* 2.2.7.1: ST[7:0] in the Tag field for posted writes */
        return t->tag & 0xff;
    return t->last_be << 4 | t->first_be; /* reads and AtomicOps: in byte 7 */
}

static unsigned ctz4(unsigned be)
{
    for (unsigned i = 0; i < 4; i++)
        if (be >> i & 1)
            return i;
    return 4;
}
static unsigned top4(unsigned be) /* index of the highest set bit + 1 */
{
    for (unsigned i = 4; i > 0; i--)
        if (be >> (i - 1) & 1)
            return i;
    return 0;
}

uint32_t pcie_tlp_byte_span(const struct pcie_tlp *t)
{
    uint8_t fb, lb;
    pcie_tlp_effective_be(t, &fb, &lb);
    unsigned len = t->length ? t->length : 1024;
    if (is_atomic(t->kind))
        return 4u * len;
    if (len == 1)
        return fb ? top4(fb) - ctz4(fb) : 0;
    return (4 - ctz4(fb)) + 4u * (len - 2) + top4(lb);
}

uint64_t pcie_tlp_first_byte_addr(const struct pcie_tlp *t)
{
    uint8_t fb, lb;
    pcie_tlp_effective_be(t, &fb, &lb);
    return t->addr + (fb ? ctz4(fb) : 0);
}

/* ---- builders ---- */

int pcie_tlp_mem_write(struct pcie_tlp *t, uint16_t requester_id, uint64_t addr,
                       const uint8_t *payload, uint32_t nbytes, struct pcilab_err *err)
{
    memset(t, 0, sizeof *t);
    if (nbytes == 0 || nbytes > 4096)
        return pcilab_errf(err, PCILAB_EINVAL, "memory write of %u bytes: must be 1..4096",
                           nbytes);
    unsigned off = addr & 3, end = off + nbytes;
    unsigned len = (end + 3) / 4;
    if (len > 1024)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "memory write of %u bytes at %#llx needs %u DW (max 1024)", nbytes,
                           (unsigned long long)addr, len);
    pcie_tlp_set_kind(t, PCIE_TLP_MWR, (addr >> 32) != 0, 0);
    t->requester_id = requester_id;
    t->addr = addr & ~(uint64_t)3;
    t->length = (uint16_t)len;
    t->first_be = (uint8_t)((0xfu << off) & 0xf);
    if (len == 1) {
        t->first_be &= (uint8_t)(0xfu >> (4 - end));
    } else {
        unsigned tail = end & 3;
        t->last_be = (uint8_t)(tail ? 0xfu >> (4 - tail) : 0xf);
    }
    t->payload = payload;
    t->payload_len = 4u * len;
    return 0;
}

int pcie_tlp_mem_read(struct pcie_tlp *t, uint16_t requester_id, uint16_t tag, uint64_t addr,
                      uint32_t nbytes, struct pcilab_err *err)
{
    memset(t, 0, sizeof *t);
    if (nbytes > 4096 || tag > 0x3ff)
        return pcilab_errf(err, PCILAB_EINVAL, "memory read of %u bytes, tag %#x: must be "
                                               "0..4096 bytes, tag < 0x400", nbytes, tag);
    pcie_tlp_set_kind(t, PCIE_TLP_MRD, (addr >> 32) != 0, 0);
    t->requester_id = requester_id;
    t->tag = tag;
    t->addr = addr & ~(uint64_t)3;
    if (nbytes == 0) { /* zero-length read (2.2.5): 1 DW, no bytes enabled */
        t->length = 1;
        return 0;
    }
    unsigned off = addr & 3, end = off + nbytes, len = (end + 3) / 4;
    if (len > 1024)
        return pcilab_errf(err, PCILAB_EINVAL, "memory read of %u bytes at %#llx needs %u DW",
                           nbytes, (unsigned long long)addr, len);
    t->length = (uint16_t)len;
    t->first_be = (uint8_t)((0xfu << off) & 0xf);
    if (len == 1)
        t->first_be &= (uint8_t)(0xfu >> (4 - end));
    else
        t->last_be = (uint8_t)(end & 3 ? 0xfu >> (4 - (end & 3)) : 0xf);
    return 0;
}

int pcie_tlp_completion(struct pcie_tlp *t, uint16_t completer_id, enum pcie_cpl_status st,
                        uint16_t requester_id, uint16_t tag, uint8_t lower_addr,
                        uint16_t byte_count, const uint8_t *payload, uint16_t len_dw,
                        struct pcilab_err *err)
{
    memset(t, 0, sizeof *t);
    if ((unsigned)st > 7 || tag > 0x3ff || lower_addr > 0x7f || byte_count == 0 ||
        byte_count > 4096 || (payload && (len_dw == 0 || len_dw > 1024)))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "completion fields out of range (status %u, tag %#x, lower address "
                           "%#x, byte count %u, length %u DW)",
                           (unsigned)st, tag, lower_addr, byte_count, len_dw);
    pcie_tlp_set_kind(t, payload ? PCIE_TLP_CPLD : PCIE_TLP_CPL, false, 0);
    t->completer_id = completer_id;
    t->cpl_status = (uint8_t)st;
    t->requester_id = requester_id;
    t->tag = tag;
    t->lower_addr = lower_addr;
    t->byte_count = byte_count;
    if (payload) {
        t->length = len_dw;
        t->payload = payload;
        t->payload_len = 4u * len_dw;
    }
    return 0;
}

int pcie_tlp_cfg(struct pcie_tlp *t, bool write, int cfg_type, uint16_t requester_id,
                 uint16_t tag, uint16_t target_id, uint16_t offset, uint8_t first_be,
                 const uint8_t *data, struct pcilab_err *err)
{
    memset(t, 0, sizeof *t);
    if ((cfg_type != 0 && cfg_type != 1) || offset > 0xffc || (offset & 3) || first_be > 0xf ||
        tag > 0x3ff || (write && !data))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "configuration request: type %d, offset %#x, BE %#x, tag %#x (type 0/1, "
                           "offset DW-aligned < 0x1000, BE 4 bits, tag < 0x400, data for writes)",
                           cfg_type, offset, first_be, tag);
    enum pcie_tlp_kind k = write ? (cfg_type ? PCIE_TLP_CFGWR1 : PCIE_TLP_CFGWR0)
                                 : (cfg_type ? PCIE_TLP_CFGRD1 : PCIE_TLP_CFGRD0);
    pcie_tlp_set_kind(t, k, false, 0);
    t->requester_id = requester_id;
    t->tag = tag;
    t->target_id = target_id;
    t->cfg_reg = offset >> 2;
    t->length = 1;
    t->first_be = first_be;
    if (write) {
        t->payload = data;
        t->payload_len = 4;
    }
    return 0;
}

int pcie_tlp_message(struct pcie_tlp *t, uint8_t code, enum pcie_msg_routing routing,
                     uint16_t requester_id, uint32_t dw2, uint32_t dw3, const uint8_t *payload,
                     uint16_t len_dw, struct pcilab_err *err)
{
    memset(t, 0, sizeof *t);
    if ((unsigned)routing > 7 || (payload && (len_dw == 0 || len_dw > 1024)))
        return pcilab_errf(err, PCILAB_EINVAL, "message: routing %u, length %u DW out of range",
                           (unsigned)routing, len_dw);
    pcie_tlp_set_kind(t, payload ? PCIE_TLP_MSGD : PCIE_TLP_MSG, true, (unsigned)routing);
    t->requester_id = requester_id;
    t->msg_code = code;
    t->msg_dw[0] = dw2;
    t->msg_dw[1] = dw3;
    if (payload) {
        t->length = len_dw;
        t->payload = payload;
        t->payload_len = 4u * len_dw;
    }
    return 0;
}

/* ---- hex input ---- */

int pcie_hex_parse(const char *text, uint8_t *out, size_t cap, struct pcilab_err *err)
{
    size_t n = 0;
    unsigned line = 1, col = 1, tokno = 0;
    int width = 0; /* digits per token seen so far: 2 or 8 */
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            line++;
            col = 1;
            p++;
            continue;
        }
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == ',' || *p == ';') {
            p++;
            col++;
            continue;
        }
        /* a token: [0x]hex... up to a separator */
        const char *start = p;
        unsigned tcol = col;
        tokno++;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
            p += 2;
        const char *digits = p;
        while (*p && *p != '\n' && *p != ' ' && *p != '\t' && *p != '\r' && *p != ',' &&
               *p != ';')
            p++;
        int nd = (int)(p - digits);
        col += (unsigned)(p - start);
        int tlen = (int)(p - start);
        for (const char *q = digits; q < p; q++)
            if (pcilab_hexval(*q) < 0)
                return pcilab_err_at(err, PCILAB_EINVAL, NULL, line, tcol,
                                     "token %u '%.*s': '%c' is not a hex digit", tokno, tlen,
                                     start, *q);
        if (nd != 2 && nd != 8)
            return pcilab_err_at(err, PCILAB_EINVAL, NULL, line, tcol,
                                 "token %u '%.*s': %d hex digits; give dwords (8 digits) or "
                                 "bytes (2 digits)",
                                 tokno, tlen, start, nd);
        if (width && nd != width)
            return pcilab_err_at(err, PCILAB_EINVAL, NULL, line, tcol,
                                 "token %u '%.*s' is a %s but the input so far is %s; do not mix "
                                 "widths",
                                 tokno, tlen, start, nd == 8 ? "dword" : "byte",
                                 width == 8 ? "dwords" : "bytes");
        width = nd;
        if (n + (size_t)nd / 2 > cap)
            return pcilab_err_at(err, PCILAB_ERANGE, NULL, line, tcol,
                                 "token %u: input longer than %zu bytes", tokno, cap);
        for (int i = 0; i < nd; i += 2)
            out[n++] = (uint8_t)(pcilab_hexval(digits[i]) << 4 | pcilab_hexval(digits[i + 1]));
    }
    if (n == 0)
        return pcilab_errf(err, PCILAB_EINVAL, "no hex input");
    return (int)n;
}
