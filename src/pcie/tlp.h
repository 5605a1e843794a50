/* PCIe Transaction Layer Packets: byte-exact encode and decode.
 *
 * Follows the PCI Express Base Specification, Revision 5.0 (non-Flit mode);
 * section numbers below are 5.0's:
 *   2.2.1   common packet header fields (Fmt, Type, TC, T9/T8, Attr, LN, TH, TD, EP, AT, Length)
 *   2.2.2   TLPs with data payloads (Length rules, MPS)
 *   2.2.3   TLP digest (ECRC presence)
 *   2.2.4.1 address-based routing (3 DW vs 4 DW headers)
 *   2.2.4.2 ID-based routing (BDF layout)
 *   2.2.5   First/Last DW byte enables
 *   2.2.6.x transaction descriptor: .2 Transaction ID (10-bit tags), .3 Attr, .6 TC
 *   2.2.7   memory, I/O and configuration requests; 2.2.7.1 TPH (PH, ST)
 *   2.2.8   messages (2.2.8.1 INTx ... 2.2.8.11 readiness), Table 2-18 message codes
 *   2.2.9   completions
 *   2.2.10  TLP prefixes (recognised, reported as unsupported)
 *   2.7.1   ECRC
 *
 * Kinds decoded: MRd, MRdLk, MWr (3 or 4 DW), IORd, IOWr, CfgRd0/1, CfgWr0/1,
 * Msg, MsgD, Cpl, CplD, CplLk, CplDLk, and the AtomicOps FetchAdd, Swap, CAS
 * (6.15). TLP prefixes (Fmt 100b), the deprecated TCfgRd/TCfgWr and DMWr are
 * recognised and rejected with PCIE_TLP_E_UNSUPPORTED.
 *
 * Nothing here allocates: a decoded TLP's payload points into the caller's
 * buffer, and the encoder writes into a caller's buffer.
 */
#ifndef PCILAB_PCIE_TLP_H
#define PCILAB_PCIE_TLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"

/* ---- Bus/Device/Function (2.2.4.2, 2.2.6.2): bus[15:8] dev[7:3] fn[2:0] ---- */
static inline uint16_t pcie_bdf(unsigned bus, unsigned dev, unsigned fn)
{
    return (uint16_t)(((bus & 0xffu) << 8) | ((dev & 0x1fu) << 3) | (fn & 7u));
}
static inline unsigned pcie_bdf_bus(uint16_t bdf) { return bdf >> 8; }
static inline unsigned pcie_bdf_dev(uint16_t bdf) { return (bdf >> 3) & 0x1f; }
static inline unsigned pcie_bdf_fn(uint16_t bdf) { return bdf & 7; }
/* "bb:dd.f" as Linux prints it (lower-case hex); buf needs 8 bytes. Returns buf. */
#define PCIE_BDF_STRLEN 8
char *pcie_bdf_str(uint16_t bdf, char *buf);
/* Parses "bb:dd.f" (hex, as lspci/Linux print it). Returns 0 or -PCILAB_EINVAL. */
int pcie_bdf_parse(const char *s, uint16_t *bdf, struct pcilab_err *err);

/* ---- Fmt (2.2.1, Table 2-2) ---- */
enum pcie_tlp_fmt {
    PCIE_FMT_3DW_NODATA = 0, /* 000b */
    PCIE_FMT_4DW_NODATA = 1, /* 001b */
    PCIE_FMT_3DW_DATA = 2,   /* 010b */
    PCIE_FMT_4DW_DATA = 3,   /* 011b */
    PCIE_FMT_PREFIX = 4,     /* 100b: TLP prefix (2.2.10) */
};

/* The decoded request/completion type (2.2.1, Table 2-3). */
enum pcie_tlp_kind {
    PCIE_TLP_UNKNOWN = 0,
    PCIE_TLP_MRD,      /* Memory Read, 3 or 4 DW header */
    PCIE_TLP_MRDLK,    /* Memory Read Locked */
    PCIE_TLP_MWR,      /* Memory Write (posted) */
    PCIE_TLP_IORD,
    PCIE_TLP_IOWR,
    PCIE_TLP_CFGRD0,
    PCIE_TLP_CFGWR0,
    PCIE_TLP_CFGRD1,
    PCIE_TLP_CFGWR1,
    PCIE_TLP_MSG,      /* Message without data, Type 10rrr */
    PCIE_TLP_MSGD,     /* Message with data */
    PCIE_TLP_CPL,      /* Completion without data */
    PCIE_TLP_CPLD,     /* Completion with data */
    PCIE_TLP_CPLLK,    /* Completion for locked read, without data */
    PCIE_TLP_CPLDLK,   /* Completion for locked read, with data */
    PCIE_TLP_FETCHADD, /* AtomicOp Fetch and Add (6.15) */
    PCIE_TLP_SWAP,     /* AtomicOp Unconditional Swap */
    PCIE_TLP_CAS,      /* AtomicOp Compare and Swap */
    PCIE_TLP_KIND_COUNT
};

/* Message routing r[2:0] (2.2.8, Table 2-17). */
enum pcie_msg_routing {
    PCIE_MSG_TO_RC = 0,        /* 000b routed to Root Complex */
    PCIE_MSG_BY_ADDR = 1,      /* 001b routed by address (DW2-3 = address) */
    PCIE_MSG_BY_ID = 2,        /* 010b routed by ID (DW2[31:16] = destination BDF) */
    PCIE_MSG_BROADCAST = 3,    /* 011b broadcast from Root Complex */
    PCIE_MSG_LOCAL = 4,        /* 100b local, terminate at receiver */
    PCIE_MSG_GATHER_TO_RC = 5, /* 101b gathered and routed to Root Complex */
    /* 110b, 111b reserved: terminate at receiver */
};

/* Message codes (2.2.8, Table 2-18 and the subsections named). */
enum pcie_msg_code {
    PCIE_MSG_UNLOCK = 0x00,            /* 2.2.8.4 */
    PCIE_MSG_ATS_INVAL_REQ = 0x01,     /* ATS 10.3.1 Invalidate Request */
    PCIE_MSG_ATS_INVAL_CPL = 0x02,     /* ATS 10.3.2 Invalidate Completion */
    PCIE_MSG_PRS_PAGE_REQ = 0x04,      /* ATS 10.4.1 Page Request */
    PCIE_MSG_PRS_PRG_RESP = 0x05,      /* ATS 10.4.2 PRG Response */
    PCIE_MSG_LTR = 0x10,               /* 2.2.8.8 */
    PCIE_MSG_OBFF = 0x12,              /* 2.2.8.9 */
    PCIE_MSG_PM_ACTIVE_STATE_NAK = 0x14, /* 2.2.8.2 */
    PCIE_MSG_PM_PME = 0x18,
    PCIE_MSG_PME_TURN_OFF = 0x19,
    PCIE_MSG_PME_TO_ACK = 0x1b,
    PCIE_MSG_ASSERT_INTA = 0x20,       /* 2.2.8.1 */
    PCIE_MSG_ASSERT_INTB = 0x21,
    PCIE_MSG_ASSERT_INTC = 0x22,
    PCIE_MSG_ASSERT_INTD = 0x23,
    PCIE_MSG_DEASSERT_INTA = 0x24,
    PCIE_MSG_DEASSERT_INTB = 0x25,
    PCIE_MSG_DEASSERT_INTC = 0x26,
    PCIE_MSG_DEASSERT_INTD = 0x27,
    PCIE_MSG_ERR_COR = 0x30,           /* 2.2.8.3 */
    PCIE_MSG_ERR_NONFATAL = 0x31,
    PCIE_MSG_ERR_FATAL = 0x33,
    PCIE_MSG_SET_SLOT_POWER_LIMIT = 0x50, /* 2.2.8.5 */
    PCIE_MSG_PTM_REQUEST = 0x52,       /* 2.2.8.10 */
    PCIE_MSG_PTM_RESPONSE = 0x53,      /* PTM Response (Msg) / ResponseD (MsgD) */
    PCIE_MSG_VENDOR_TYPE0 = 0x7e,      /* 2.2.8.6 */
    PCIE_MSG_VENDOR_TYPE1 = 0x7f,
    /* DRS and FRS (2.2.8.6.3, 2.2.8.6.4) have no code of their own: they are
     * PCI-SIG-Defined VDMs, Vendor_Defined Type 1 with Vendor ID 0001h and
     * Subtype 08h / 09h. */
};

/* Completion Status (2.2.9, Table 2-34). */
enum pcie_cpl_status {
    PCIE_CPL_SC = 0,  /* Successful Completion */
    PCIE_CPL_UR = 1,  /* Unsupported Request */
    PCIE_CPL_CRS = 2, /* Configuration Request Retry Status */
    PCIE_CPL_CA = 4,  /* Completer Abort */
    /* 3, 5, 6, 7 reserved */
};

/* Attr bits as stored in pcie_tlp.attr (2.2.6.3): Attr[2] is in byte 1 bit 2,
 * Attr[1:0] in byte 2 bits 5:4. */
#define PCIE_ATTR_NS 0x1u  /* Attr[0] No Snoop (2.2.6.5) */
#define PCIE_ATTR_RO 0x2u  /* Attr[1] Relaxed Ordering (2.2.6.4) */
#define PCIE_ATTR_IDO 0x4u /* Attr[2] ID-Based Ordering (2.2.6.4) */

/* Address Type (2.2.4.1, Table 2-5). */
enum pcie_at {
    PCIE_AT_UNTRANSLATED = 0,
    PCIE_AT_TRANSLATION_REQ = 1,
    PCIE_AT_TRANSLATED = 2,
    /* 3 reserved */
};

/* Rule a malformed TLP breaks (the message in pcilab_err names the field and
 * section). The order is the order decode checks them; PCIE_TLP_E_4DW_LOW_ADDR
 * is checked last, so when it is reported everything else is consistent and a
 * caller may treat it as a warning (the TLP is fully decoded). */
enum pcie_tlp_error {
    PCIE_TLP_OK = 0,
    PCIE_TLP_E_TRUNCATED,      /* fewer bytes than the header (2.2.1) */
    PCIE_TLP_E_FMT_TYPE,       /* reserved Fmt/Type encoding (2.2.1 Table 2-3) */
    PCIE_TLP_E_UNSUPPORTED,    /* valid encoding not modelled: prefixes, TCfg, DMWr */
    PCIE_TLP_E_LENGTH,         /* bytes present vs Length/TD (2.2.2, 2.2.3) */
    PCIE_TLP_E_RESERVED_VALUE, /* reserved field value: AT=11b, Cpl Status, routing */
    PCIE_TLP_E_BYTE_ENABLES,   /* 2.2.5 */
    PCIE_TLP_E_4K_CROSSING,    /* memory request crosses a 4 KiB boundary (2.2.7) */
    PCIE_TLP_E_CFG,            /* configuration request rules (2.2.7) */
    PCIE_TLP_E_IO,             /* I/O request rules (2.2.7) */
    PCIE_TLP_E_ATOMIC,         /* AtomicOp length/alignment (2.2.7, 6.15) */
    PCIE_TLP_E_MSG,            /* message rules (2.2.8) */
    PCIE_TLP_E_CPL,            /* completion rules (2.2.9) */
    PCIE_TLP_E_ECRC,           /* ECRC mismatch (2.7.1) */
    PCIE_TLP_E_MPS,            /* payload larger than MPS (2.2.2), pcie_tlp_check_mps */
    PCIE_TLP_E_4DW_LOW_ADDR,   /* 4 DW header with address < 4 GiB (2.2.4.1) */
    PCIE_TLP_E_FIELD,          /* encode: a field does not fit its bits */
    PCIE_TLP_E_COUNT
};
const char *pcie_tlp_error_name(enum pcie_tlp_error e);

/* One TLP. Every header bit has a home here, so encode(decode(x)) == x.
 * Fields that do not apply to a kind are 0 (decode) / ignored (encode). */
struct pcie_tlp {
    enum pcie_tlp_kind kind;
    uint8_t fmt;        /* Fmt[2:0] (2.2.1), byte 0 bits 7:5 */
    uint8_t type;       /* Type[4:0] (2.2.1), byte 0 bits 4:0 */
    uint8_t tc;         /* TC[2:0] (2.2.6.6), byte 1 bits 6:4 */
    uint8_t attr;       /* Attr[2:0]: PCIE_ATTR_* (2.2.6.3) */
    bool ln;            /* Lightweight Notification (2.2.1), byte 1 bit 1 */
    bool th;            /* TLP Processing Hints present (2.2.7.1), byte 1 bit 0 */
    bool td;            /* TLP Digest: ECRC follows the data (2.2.3), byte 2 bit 7 */
    bool ep;            /* poisoned (2.7.2), byte 2 bit 6 */
    uint8_t at;         /* Address Type (2.2.4.1), byte 2 bits 3:2 */
    /* Length in DW (2.2.2): 1..1024, the field's 0 meaning 1024, for requests,
     * CplD/CplDLk and MsgD. For Msg/Cpl/CplLk the field is reserved: the raw
     * value (normally 0). */
    uint16_t length;

    /* Requests, messages (DW1) and completions (DW2): Transaction ID (2.2.6.2). */
    uint16_t requester_id;
    uint16_t tag;       /* 10 bits: T9 (byte 1 bit 7), T8 (byte 1 bit 3), Tag[7:0].
                         * MWr with TH=1: Tag[7:0] carries ST[7:0] (2.2.7.1). */
    /* Memory, I/O, configuration requests: byte 7 (2.2.5). MRd with TH=1:
     * byte 7 carries ST[7:0] (2.2.7.1): first_be = ST[3:0], last_be = ST[7:4],
     * the byte enables being implied (see pcie_tlp_effective_be). */
    uint8_t first_be, last_be;

    /* Memory/IO/AtomicOp requests: address, bits [1:0] always 0 (2.2.4.1);
     * 32 bits with a 3 DW header, 64 with 4 DW. */
    uint64_t addr;
    uint8_t ph;         /* Processing Hint (2.2.7.1): the header's address bits [1:0];
                         * reserved when TH=0 */

    /* Configuration requests (2.2.7, Table 2-8): target BDF in bytes 8-9,
     * Ext Register Number byte 10 bits 3:0, Register Number byte 11 bits 7:2. */
    uint16_t target_id;
    uint16_t cfg_reg;   /* register (DW) number 0..1023 = Ext Reg << 6 | Reg */

    /* Messages (2.2.8): routing = Type[2:0], code = byte 7; DW2, DW3 raw
     * (address for r=001b, destination ID in DW2[31:16] for r=010b,
     * Vendor ID in DW2[15:0] for vendor-defined ...; see pcie_msg_* helpers). */
    uint8_t msg_routing;
    uint8_t msg_code;
    uint32_t msg_dw[2];

    /* Completions (2.2.9). */
    uint16_t completer_id;
    uint8_t cpl_status;  /* enum pcie_cpl_status */
    bool bcm;            /* Byte Count Modified (PCI-X bridges only) */
    uint16_t byte_count; /* 1..4096, the field's 0 meaning 4096 */
    uint8_t lower_addr;  /* Lower Address[6:0] */

    /* Reserved header bits found set, per header DW (DW index 0..3), at their
     * positions; receivers ignore them (2.2.1) but they round-trip. */
    uint32_t rsvd[4];

    /* Data payload: length*4 bytes in the caller's buffer, or NULL/0 when the
     * TLP has none or (decode with PCIE_TLP_DECODE_HEADER_ONLY) it was absent. */
    const uint8_t *payload;
    size_t payload_len;
    bool payload_absent; /* the TLP has data but only the header was given */

    uint32_t ecrc;       /* TD=1: the ECRC as received (decode) */
};

/* ---- Encode/decode ---- */

/* Sets kind and the Fmt/Type that encode it (and msg_routing for messages).
 * four_dw picks the 4 DW header for memory requests and AtomicOps (messages
 * are always 4 DW; others always 3 DW). Returns 0, or -PCILAB_EINVAL for
 * PCIE_TLP_UNKNOWN or routing > 7. Encode uses fmt/type and checks they agree
 * with kind. */
int pcie_tlp_set_kind(struct pcie_tlp *tlp, enum pcie_tlp_kind kind, bool four_dw,
                      unsigned msg_routing);

/* Header size in DW: 3 or 4 (from Fmt[0], 2.2.1). */
static inline unsigned pcie_tlp_header_dw(const struct pcie_tlp *tlp)
{
    return tlp->fmt & 1 ? 4 : 3;
}
/* Does this kind carry a data payload (Fmt[1])? */
static inline bool pcie_tlp_has_data(const struct pcie_tlp *tlp) { return (tlp->fmt & 2) != 0; }
/* Length in DW of the payload a TLP with data carries (1..1024; the Length
 * field's 0 means 1024, 2.2.2), else 0. */
static inline unsigned pcie_tlp_payload_dw(const struct pcie_tlp *tlp)
{
    if (!pcie_tlp_has_data(tlp))
        return 0;
    return tlp->length ? tlp->length : 1024;
}
/* Bytes on the wire excluding link framing (STP/END, sequence number, LCRC):
 * header + payload + ECRC (2.2.3). */
static inline size_t pcie_tlp_wire_bytes(const struct pcie_tlp *tlp)
{
    return 4u * (pcie_tlp_header_dw(tlp) + pcie_tlp_payload_dw(tlp) + (tlp->td ? 1u : 0u));
}
/* Ordering classes (2.4.1): MWr and Msg/MsgD are posted; MRd, MRdLk, IO, Cfg,
 * AtomicOps are non-posted; Cpl* are completions. */
bool pcie_tlp_is_posted(const struct pcie_tlp *tlp);
bool pcie_tlp_is_nonposted(const struct pcie_tlp *tlp);
bool pcie_tlp_is_completion(const struct pcie_tlp *tlp);
bool pcie_tlp_is_memory(const struct pcie_tlp *tlp); /* MRd, MRdLk, MWr, AtomicOps */

/* Writes the TLP (header, payload from tlp->payload, and ECRC computed per
 * 2.7.1 when td) into buf. Checks only that each field fits its bits and that
 * the payload is present with length*4 bytes; it does NOT apply the
 * well-formedness rules (use pcie_tlp_check), so device models can inject
 * malformed TLPs. Returns bytes written, or a negative PCILAB_E* code. */
int pcie_tlp_encode(const struct pcie_tlp *tlp, uint8_t *buf, size_t cap,
                    struct pcilab_err *err);

/* Decode flags. */
#define PCIE_TLP_DECODE_HEADER_ONLY 0x1u /* accept a TLP with data given without its payload
                                          * (and ECRC): payload_absent is set */
#define PCIE_TLP_DECODE_NO_ECRC_CHECK 0x2u /* keep the received ECRC, do not verify it */

/* Decodes one TLP of exactly len bytes (header + payload + ECRC). On success
 * returns 0. On a malformed TLP returns -PCILAB_EMALFORMED (or
 * -PCILAB_EUNSUPPORTED for prefixes etc.), sets *kind (may be NULL) to the rule
 * broken, and fills err with a message naming the field and spec section. The
 * tlp is filled as far as decoding got: with PCIE_TLP_E_4DW_LOW_ADDR (or any
 * check after the header parsed) it is complete. */
int pcie_tlp_decode_ex(const uint8_t *bytes, size_t len, unsigned flags, struct pcie_tlp *tlp,
                       enum pcie_tlp_error *kind, struct pcilab_err *err);
int pcie_tlp_decode(const uint8_t *bytes, size_t len, struct pcie_tlp *tlp,
                    struct pcilab_err *err);

/* The well-formedness rules on a decoded or built TLP (everything decode
 * checks after parsing, except the byte count and ECRC). Returns 0 or
 * -PCILAB_EMALFORMED with *kind set. */
int pcie_tlp_check(const struct pcie_tlp *tlp, enum pcie_tlp_error *kind,
                   struct pcilab_err *err);
/* Receiver's Max_Payload_Size check (2.2.2): payload > mps bytes is malformed. */
int pcie_tlp_check_mps(const struct pcie_tlp *tlp, unsigned mps, struct pcilab_err *err);

/* Legal but noteworthy things a decoded TLP carries (receivers ignore or
 * remap them, an analyser shows them): a bit mask. */
#define PCIE_TLP_WARN_RESERVED_BITS 0x01u /* reserved header bits set (rsvd[]) */
#define PCIE_TLP_WARN_CPL_STATUS 0x02u    /* reserved Completion Status: treated as UR (2.2.9) */
#define PCIE_TLP_WARN_MSG_ROUTING 0x04u   /* r[2:0] 110b/111b: reserved, terminate at receiver */
#define PCIE_TLP_WARN_AT 0x08u            /* AT set on a TLP that is not a memory request */
#define PCIE_TLP_WARN_PH 0x10u            /* PH bits set with TH=0 */
#define PCIE_TLP_WARN_TH 0x20u            /* TH set on a TLP that is not a memory request */
#define PCIE_TLP_WARN_LENGTH 0x40u        /* Length set where it is reserved (Msg, Cpl, CplLk) */
#define PCIE_TLP_WARN_UNKNOWN_MSG 0x80u   /* message code not assigned (receiver: UR) */
unsigned pcie_tlp_warnings(const struct pcie_tlp *tlp);

/* Byte enables a completer must act on: the header's, or for MRd with TH=1 the
 * implied ones (2.2.5). */
void pcie_tlp_effective_be(const struct pcie_tlp *tlp, uint8_t *first_be, uint8_t *last_be);
/* Steering Tag ST[7:0] for a request with TH=1 (2.2.7.1); -1 when none. */
int pcie_tlp_steering_tag(const struct pcie_tlp *tlp);
/* Number of bytes a memory request reads/writes from its Length and byte
 * enables (2.2.5; first to last enabled byte), and the address of the first
 * enabled byte. */
uint32_t pcie_tlp_byte_span(const struct pcie_tlp *tlp);
uint64_t pcie_tlp_first_byte_addr(const struct pcie_tlp *tlp);

/* ---- Builders: fill *tlp (zeroing it first); no allocation. ---- */
/* Memory write of nbytes (1..4096) at addr (any byte alignment). payload holds
 * the whole DWs: payload[addr & 3] is the first byte written, and the buffer
 * has ((addr & 3) + nbytes + 3) / 4 * 4 bytes. 3 DW header below 4 GiB, 4 DW
 * above (2.2.4.1). */
int pcie_tlp_mem_write(struct pcie_tlp *tlp, uint16_t requester_id, uint64_t addr,
                       const uint8_t *payload, uint32_t nbytes, struct pcilab_err *err);
/* Memory read of nbytes (0..4096; 0 = zero-length read) at addr. */
int pcie_tlp_mem_read(struct pcie_tlp *tlp, uint16_t requester_id, uint16_t tag, uint64_t addr,
                      uint32_t nbytes, struct pcilab_err *err);
/* Completion. payload NULL: Cpl (no data); else CplD with len_dw DWs. */
int pcie_tlp_completion(struct pcie_tlp *tlp, uint16_t completer_id, enum pcie_cpl_status st,
                        uint16_t requester_id, uint16_t tag, uint8_t lower_addr,
                        uint16_t byte_count, const uint8_t *payload, uint16_t len_dw,
                        struct pcilab_err *err);
/* Configuration read/write (type 0 or 1) of one DW at register offset
 * (byte offset 0..4095, DW aligned) with first_be; data: 4 bytes for writes. */
int pcie_tlp_cfg(struct pcie_tlp *tlp, bool write, int cfg_type, uint16_t requester_id,
                 uint16_t tag, uint16_t target_id, uint16_t offset, uint8_t first_be,
                 const uint8_t *data, struct pcilab_err *err);
/* Message without data (payload NULL) or with len_dw DWs of data. */
int pcie_tlp_message(struct pcie_tlp *tlp, uint8_t code, enum pcie_msg_routing routing,
                     uint16_t requester_id, uint32_t dw2, uint32_t dw3, const uint8_t *payload,
                     uint16_t len_dw, struct pcilab_err *err);

/* ---- Names ---- */
/* "MRd", "MWr", "CfgRd0", "CplD", ... */
const char *pcie_tlp_kind_name(enum pcie_tlp_kind k);
/* "Assert_INTA", "ERR_FATAL", ...; NULL for an unassigned code. */
const char *pcie_msg_code_name(uint8_t code);
/* "to RC", "by address", ...; "reserved" for 110b/111b. */
const char *pcie_msg_routing_name(unsigned r);
/* "SC", "UR", "CRS", "CA"; "reserved" otherwise. */
const char *pcie_cpl_status_name(unsigned st);

/* Message helpers on DW2/DW3 (2.2.8). */
uint64_t pcie_msg_addr(const struct pcie_tlp *tlp);      /* r=001b */
uint16_t pcie_msg_target_id(const struct pcie_tlp *tlp); /* r=010b; vendor-defined */
uint16_t pcie_msg_vendor_id(const struct pcie_tlp *tlp); /* Vendor_Defined */

/* ---- Hex input (pcilab decode) ---- */
/* Parses dwords ("40000020 000001ff ffbf8000", most significant byte first, as
 * on the wire) or bytes ("40 00 00 20 ..."), with optional 0x, commas and any
 * whitespace. Tokens of 8 hex digits are dwords, of 2 are bytes; mixing them,
 * or any other width, is an error naming the token and its 1-based position
 * (err->line/col give the line and column in text). Returns the number of
 * bytes written to out (<= cap) or a negative PCILAB_E* code. */
int pcie_hex_parse(const char *text, uint8_t *out, size_t cap, struct pcilab_err *err);

#endif
