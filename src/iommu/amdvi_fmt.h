/* AMD-Vi in-memory and register formats, bit-exact.
 *
 * Source: AMD I/O Virtualization Technology (IOMMU) Specification, pub. 48882,
 * rev 3.0x ("spec" below). Every field names the section it comes from. All
 * formats are little-endian bytes as they lie in system memory; each has one
 * encode and one decode function, and where the spec marks bits reserved a
 * check function that says which reserved bits are set.
 *
 * Facts the model relies on and where they were cross-checked (formats only,
 * no code was copied): Linux drivers/iommu/amd_iommu_types.h (v4.9.80) and
 * drivers/iommu/amd/amd_iommu_types.h (v6.1) for the event flag positions as
 * Linux prints them, the IRTE layouts and the register offsets.
 */
#ifndef PCILAB_IOMMU_AMDVI_FMT_H
#define PCILAB_IOMMU_AMDVI_FMT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sim/bytes.h"

/* ------------------------------------------------------------------------ */
/* Device Table Entry, 256 bits (spec 2.2.2, Figure "Device Table Entry").   */
/* ------------------------------------------------------------------------ */

#define AMDVI_DTE_SIZE 32

/* Paging modes (DTE Mode, 2.2.2): 0 = no translation, 1..6 = levels, 7 reserved. */
#define AMDVI_MODE_NONE 0
#define AMDVI_MODE_MAX  6

/* IntCtl (2.2.2, 2.2.5): what fixed and arbitrated interrupts do. */
#define AMDVI_INTCTL_ABORT    0 /* target abort */
#define AMDVI_INTCTL_FORWARD  1 /* forwarded unmapped */
#define AMDVI_INTCTL_REMAP    2 /* remapped through the interrupt table */
/* IoCtl (2.2.2): port I/O space accesses. 3 is reserved. */
#define AMDVI_IOCTL_ABORT     0
#define AMDVI_IOCTL_FORWARD   1
#define AMDVI_IOCTL_TRANSLATE 2
/* IntTabLen (2.2.2): the table has 2^IntTabLen entries; > 1011b is reserved. */
#define AMDVI_INTTABLEN_MAX   11

struct amdvi_dte {
    bool v;             /* bit 0     V: DTE valid                                  2.2.2 */
    bool tv;            /* bit 1     TV: translation information valid            2.2.2 */
    uint8_t had;        /* 8:7       HAD: host access/dirty (HASup/HDSup)         2.2.2 */
    uint8_t mode;       /* 11:9      Mode: paging levels, 0 none, 7 reserved     2.2.2 */
    uint64_t pt_root;   /* 51:12     Page Table Root Pointer (byte address)      2.2.2 */
    bool ppr;           /* bit 52    PPR: peripheral page requests enabled        2.2.2 */
    bool gprp;          /* bit 53    GPRP: guest PPR response with PASID          2.2.2 */
    bool giov;          /* bit 54    GIoV: guest I/O protection valid             2.2.2 */
    bool gv;            /* bit 55    GV: guest translation valid                  2.2.2 */
    uint8_t glx;        /* 57:56     GLX: guest CR3 table levels                  2.2.2 */
    uint64_t gcr3_root; /* GCR3 Table Root Pointer, byte address: [14:12] in bits
                           60:58, [30:15] in 95:80, [51:31] in 127:107           2.2.2 */
    bool ir;            /* bit 61    IR: DMA read permission                      2.2.2 */
    bool iw;            /* bit 62    IW: DMA write permission                     2.2.2 */
    uint16_t domain_id; /* 79:64     DomainID                                     2.2.2 */
    bool i;             /* bit 96    I: IOTLB enable (device may use ATS)         2.2.2 */
    bool se;            /* bit 97    SE: suppress repeated I/O page fault events  2.2.2 */
    bool sa;            /* bit 98    SA: suppress all I/O page fault events       2.2.2 */
    uint8_t ioctl;      /* 100:99    IoCtl: port I/O control                      2.2.2 */
    bool cache;         /* bit 101   Cache: IOTLB cache hint                      2.2.2 */
    bool sd;            /* bit 102   SD: snoop disable                            2.2.2 */
    bool ex;            /* bit 103   EX: allow exclusion range                    2.2.2 */
    uint8_t sysmgt;     /* 105:104   SysMgt: system management message enable     2.2.2 */
                        /* bit 106   reserved in the model (see amdvi_dte_check)        */
    bool iv;            /* bit 128   IV: interrupt map valid                      2.2.2 */
    uint8_t int_tab_len;/* 132:129   IntTabLen                                    2.2.2 */
    bool ig;            /* bit 133   IG: ignore unmapped interrupts (no event)    2.2.2 */
    uint64_t int_root;  /* 179:134   Interrupt Table Root Pointer, byte address
                           (address bits 51:6)                                   2.2.2 */
    bool init_pass;     /* bit 184   INIT pass-through                            2.2.2 */
    bool eint_pass;     /* bit 185   ExtInt pass-through                          2.2.2 */
    bool nmi_pass;      /* bit 186   NMI pass-through                             2.2.2 */
    uint8_t int_ctl;    /* 189:188   IntCtl                                       2.2.2 */
    bool lint0_pass;    /* bit 190   LINT0 pass-through                           2.2.2 */
    bool lint1_pass;    /* bit 191   LINT1 pass-through                           2.2.2 */
    bool attr_v;        /* bit 246   AttrV: attribute override valid              2.2.2 */
    bool mode0_fc;      /* bit 247   Mode0FC: force coherent in Mode 0            2.2.2 */
    uint8_t snoop_attr; /* 255:248   SnoopAttribute                               2.2.2 */
};

void amdvi_dte_encode(const struct amdvi_dte *d, uint8_t raw[AMDVI_DTE_SIZE]);
void amdvi_dte_decode(const uint8_t raw[AMDVI_DTE_SIZE], struct amdvi_dte *d);

/* Reserved-bit check (2.2.2 and 2.5.2 ILLEGAL_DEV_TABLE_ENTRY). The bits that
 * depend on a feature are reserved when the Extended Feature Register `efr`
 * does not advertise it: HAD (HASup, EFR 49), PPR/GPRP (PPRSup EFR 1 with
 * EPHSup EFR 50), GIoV (GIoSup, EFR 48), GV/GLX/GCR3 (GTSup, EFR 4).
 * rsvd[q] receives the reserved bits found set in 64-bit word q (bits
 * 64q+63..64q). Returns true when any is set. Illegal encodings of legal
 * fields (Mode 7, IoCtl 3, IntCtl 3, IntTabLen > 11) are reported separately
 * by amdvi_dte_bad_encoding. */
bool amdvi_dte_check(const uint8_t raw[AMDVI_DTE_SIZE], uint64_t efr, uint64_t rsvd[4]);

/* Which reserved encodings a decoded DTE uses. */
#define AMDVI_DTE_BAD_MODE      0x1u /* Mode 7 (2.2.2) */
#define AMDVI_DTE_BAD_IOCTL     0x2u /* IoCtl 11b */
#define AMDVI_DTE_BAD_INTCTL    0x4u /* IntCtl 11b */
#define AMDVI_DTE_BAD_INTTABLEN 0x8u /* IntTabLen > 1011b */
unsigned amdvi_dte_bad_encoding(const struct amdvi_dte *d);

/* ------------------------------------------------------------------------ */
/* I/O page table entries, 64 bits (spec 2.2.3, Figures "I/O Page Directory  */
/* Entry" and "I/O Page Table Entry").                                       */
/* ------------------------------------------------------------------------ */

#define AMDVI_PTE_SIZE 8
/* Next Level 7: the entry is a PTE whose page size is encoded in the address
 * (2.2.3, Table "Example Page Size Encodings"). */
#define AMDVI_NL_LARGE 7

struct amdvi_pte {
    bool pr;            /* bit 0     PR: present                                  2.2.3 */
    bool a;             /* bit 5     A: accessed (HASup)                          2.2.3 */
    bool d;             /* bit 6     D: dirty, PTE only (HDSup)                   2.2.3 */
    uint8_t next_level; /* 11:9      Next Level: 0 = PTE of this level's default
                           size, 7 = PTE of an encoded size, 1..6 = PDE          2.2.3 */
    uint64_t addr;      /* 51:12     Next Table Address / Page Address (bytes)   2.2.3 */
    bool u;             /* bit 59    U: untranslated access only, PTE only        2.2.3 */
    bool fc;            /* bit 60    FC: force coherent, PTE only                 2.2.3 */
    bool ir;            /* bit 61    IR: read permission                          2.2.3 */
    bool iw;            /* bit 62    IW: write permission                         2.2.3 */
};

uint64_t amdvi_pte_encode(const struct amdvi_pte *p);
void amdvi_pte_decode(uint64_t raw, struct amdvi_pte *p);
/* Reserved bits set in an entry (2.2.3): a PDE (1 <= Next Level <= 6) has
 * bits 60:52 reserved, a PTE (Next Level 0 or 7) bits 58:52. Bits 4:1, 8:7
 * and 63 are ignored, bit 6 is ignored in a PDE. */
uint64_t amdvi_pte_reserved(uint64_t raw);
/* Page shift a Next Level 7 PTE encodes in its address bits (2.2.3): the
 * count n of consecutive ones from address bit 12 up gives 2^(13+n) bytes.
 * Returns 64 when every address bit 51:12 is one. */
unsigned amdvi_pte_large_shift(uint64_t page_addr);
/* The address field of a Next Level 7 PTE for a page of 2^shift bytes at
 * base (13 <= shift <= 51; base aligned). */
uint64_t amdvi_pte_large_addr(uint64_t base, unsigned shift);
/* Address bits indexing the table of `level` (1..6): level 1 bits 20:12,
 * level n bits 12+9(n-1)+8 .. 12+9(n-1); level 6 bits 63:57 (2.2.3). */
static inline unsigned amdvi_level_shift(unsigned level)
{
    return 12 + 9 * (level - 1);
}

/* ------------------------------------------------------------------------ */
/* Event log entries, 128 bits (spec 2.5).                                   */
/* ------------------------------------------------------------------------ */

#define AMDVI_EVENT_SIZE 16

enum amdvi_event_code {
    AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY = 0x1, /* 2.5.2 */
    AMDVI_EV_IO_PAGE_FAULT = 0x2,           /* 2.5.3 */
    AMDVI_EV_DEV_TAB_HARDWARE_ERROR = 0x3,  /* 2.5.4 */
    AMDVI_EV_PAGE_TAB_HARDWARE_ERROR = 0x4, /* 2.5.5 */
    AMDVI_EV_ILLEGAL_COMMAND_ERROR = 0x5,   /* 2.5.6 */
    AMDVI_EV_COMMAND_HARDWARE_ERROR = 0x6,  /* 2.5.7 */
    AMDVI_EV_IOTLB_INV_TIMEOUT = 0x7,       /* 2.5.8 */
    AMDVI_EV_INVALID_DEVICE_REQUEST = 0x8,  /* 2.5.9 */
    AMDVI_EV_INVALID_PPR_REQUEST = 0x9,     /* 2.5.10 */
    AMDVI_EV_EVENT_COUNTER_ZERO = 0xa,      /* 2.5.11 */
    AMDVI_EV_GUEST_EVENT_FAULT = 0xb,       /* 2.5.12 (rev 3.04+) */
    AMDVI_EV_RMP_PAGE_FAULT = 0xd,          /* SNP (rev 3.08+) */
    AMDVI_EV_RMP_HW_ERROR = 0xe,            /* SNP (rev 3.08+) */
};
/* "ILLEGAL_DEV_TABLE_ENTRY", ... as the spec and Linux spell them; "UNKNOWN". */
const char *amdvi_event_name(unsigned code);

/* Flag bits of an event, bits 56:48 of the entry, numbered as Linux prints
 * them: flags = (dword1 >> 16) & 0xfff (amd_iommu_types.h EVENT_FLAGS_SHIFT,
 * EVENT_FLAGS_MASK, Linux v4.9.80). 2.5.3 Table "IO_PAGE_FAULT Event Log
 * Buffer Entry Fields". */
#define AMDVI_EVF_GN 0x001u /* bit 48: guest (PASID) request                   */
#define AMDVI_EVF_NX 0x002u /* bit 49: no-execute violation / execute request  */
#define AMDVI_EVF_US 0x004u /* bit 50: user (1) / supervisor (0) request        */
#define AMDVI_EVF_I  0x008u /* bit 51: interrupt request (0: memory)           */
#define AMDVI_EVF_PR 0x010u /* bit 52: page (or DTE, IRTE) was present          */
#define AMDVI_EVF_RW 0x020u /* bit 53: write (0: read)                         */
#define AMDVI_EVF_PE 0x040u /* bit 54: permission violation                    */
#define AMDVI_EVF_RZ 0x080u /* bit 55: reserved bit not zero (0: bad level)     */
#define AMDVI_EVF_TR 0x100u /* bit 56: translation request (0: transaction)    */
#define AMDVI_EVF_MASK 0x1ffu

/* Hardware error Type, bits 58:57 of DEV_TAB/PAGE_TAB/COMMAND_HARDWARE_ERROR
 * (2.5.4, 2.5.5, 2.5.7). */
#define AMDVI_HWERR_MASTER_ABORT 1
#define AMDVI_HWERR_TARGET_ABORT 2
#define AMDVI_HWERR_DATA_ERROR   3

/* INVALID_DEVICE_REQUEST Type, bits 59:57 (2.5.9). */
enum amdvi_invdev_type {
    AMDVI_INVDEV_READ_INTR = 0,       /* read or non-posted write to the interrupt range */
    AMDVI_INVDEV_PRETRANSLATED = 1,   /* translated request, DTE.I = 0 */
    AMDVI_INVDEV_PORT_IO = 2,         /* port I/O space, IoCtl = 00b */
    AMDVI_INVDEV_SYSMGT = 3,          /* system management range, SysMgt blocks */
    AMDVI_INVDEV_INTR_RANGE = 4,      /* HyperTransport interrupt/EOI range */
    AMDVI_INVDEV_RSVD_RANGE = 5,      /* reserved HyperTransport range */
    AMDVI_INVDEV_SYSMGT_ADDR = 6,     /* system management address */
    AMDVI_INVDEV_TR_ACCESS = 7,       /* translation request, access not allowed */
    AMDVI_INVDEV_TR_DISABLED = 8,     /* translation request, DTE.I = 0 */
    AMDVI_INVDEV_DEVID_INVALID = 9,   /* DeviceID beyond the device table */
};

struct amdvi_event {
    uint8_t code;       /* 63:60  EventCode                                      2.5.1 */
    uint16_t devid;     /* 15:0   DeviceID (all but 5, 6, 10)                    2.5.x */
    uint32_t pasid;     /* PASID: [19:16] in bits 19:16, [15:0] in bits 47:32
                           (types 1, 8, 9; and 2, 4 when GN = 1)                 2.5.x */
    uint16_t domain;    /* 47:32  DomainID (types 2, 4 when GN = 0)              2.5.3 */
    uint16_t flags;     /* 56:48  AMDVI_EVF_* (types 1, 2, 3, 4, 8, 9)           2.5.x */
    uint8_t type;       /* 58:57 (types 3, 4, 6) or 59:57 (types 8, 9)           2.5.x */
    uint64_t addr;      /* 127:64 address (IOVA, DTE/PTE/command address);
                           the bits the spec reserves at the bottom are dropped  2.5.x */
    uint64_t counter;   /* EVENT_COUNTER_ZERO CounterNote: [51:32] in bits 83:64,
                           [31:0] in bits 127:96                                 2.5.11 */
    uint64_t op1;       /* other codes: bits 59:0 as they are                          */
};

void amdvi_event_encode(const struct amdvi_event *e, uint8_t raw[AMDVI_EVENT_SIZE]);
void amdvi_event_decode(const uint8_t raw[AMDVI_EVENT_SIZE], struct amdvi_event *e);
/* The flags field as Linux extracts it: (dword1 >> 16) & 0xfff. */
static inline uint16_t amdvi_event_linux_flags(const uint8_t raw[AMDVI_EVENT_SIZE])
{
    uint32_t dw1 = (uint32_t)raw[4] | (uint32_t)raw[5] << 8 | (uint32_t)raw[6] << 16 |
                   (uint32_t)raw[7] << 24;
    return (uint16_t)((dw1 >> 16) & 0xfff);
}

/* ------------------------------------------------------------------------ */
/* Command buffer entries, 128 bits (spec 2.4).                              */
/* ------------------------------------------------------------------------ */

#define AMDVI_CMD_SIZE 16

enum amdvi_cmd_opcode {
    AMDVI_CMD_COMPLETION_WAIT = 0x1,            /* 2.4.1 */
    AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY = 0x2,    /* 2.4.2 */
    AMDVI_CMD_INVALIDATE_IOMMU_PAGES = 0x3,     /* 2.4.3 */
    AMDVI_CMD_INVALIDATE_IOTLB_PAGES = 0x4,     /* 2.4.4 */
    AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE = 0x5, /* 2.4.5 */
    AMDVI_CMD_PREFETCH_IOMMU_PAGES = 0x6,       /* 2.4.6 */
    AMDVI_CMD_COMPLETE_PPR_REQUEST = 0x7,       /* 2.4.7 */
    AMDVI_CMD_INVALIDATE_IOMMU_ALL = 0x8,       /* 2.4.8 */
};
const char *amdvi_cmd_name(unsigned opcode);

/* INVALIDATE_IOMMU_PAGES / INVALIDATE_IOTLB_PAGES with S = 1 and this address
 * invalidate everything (2.4.3; Linux CMD_INV_IOMMU_ALL_PAGES_ADDRESS). */
#define AMDVI_INV_ALL_ADDR 0x7ffffffffffff000ull

struct amdvi_cmd {
    uint8_t opcode;     /* 63:60 */
    uint16_t devid;     /* 15:0 (types 2, 4, 5, 6, 7)                            2.4.x */
    uint16_t domain;    /* 47:32 (type 3)                                        2.4.3 */
    uint32_t pasid;     /* type 3: 19:0; type 4: [7:0] in 23:16, [19:8] in 59:48;
                           types 6, 7: 51:32                                     2.4.x */
    bool s;             /* type 1: bit 0 store; types 3, 4, 6: bit 64 size       2.4.x */
    bool i;             /* type 1: bit 1 completion interrupt                    2.4.1 */
    bool f;             /* type 1: bit 2 flush queue                             2.4.1 */
    bool pde;           /* type 3: bit 65 invalidate PDEs too                    2.4.3 */
    bool gn;            /* types 3, 4, 6, 7: bit 66 guest (PASID)                2.4.x */
    bool inval;         /* type 6: bit 68 invalidate before prefetch             2.4.6 */
    uint64_t addr;      /* type 1: store address 51:3 (bits 51:3);
                           types 3, 4, 6: address 63:12 in bits 127:76           2.4.x */
    uint64_t data;      /* type 1: store data, bits 127:64                       2.4.1 */
    uint8_t maxpend;    /* type 4: 31:24                                         2.4.4 */
    uint16_t queueid;   /* type 4: 47:32                                         2.4.4 */
    uint8_t type;       /* type 4: 69:68 (InvIotlbTypeSup)                       2.4.4 */
    uint8_t pfcount;    /* type 6: 31:24                                         2.4.6 */
    uint16_t tag;       /* type 7: completion tag, 111:96                        2.4.7 */
};

/* Reserved bits of each opcode's entry, low and high 64-bit words (2.4.x,
 * amdvi_fmt.c); opcode 0 and 9..15 are reserved, the whole entry illegal. */
extern const uint64_t amdvi_cmd_rsvd[16][2];
#define AMDVI_CMD_KNOWN                                                                      \
    (1u << AMDVI_CMD_COMPLETION_WAIT | 1u << AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY |           \
     1u << AMDVI_CMD_INVALIDATE_IOMMU_PAGES | 1u << AMDVI_CMD_INVALIDATE_IOTLB_PAGES |     \
     1u << AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE | 1u << AMDVI_CMD_PREFETCH_IOMMU_PAGES |   \
     1u << AMDVI_CMD_COMPLETE_PPR_REQUEST | 1u << AMDVI_CMD_INVALIDATE_IOMMU_ALL)

/* Field of `width` bits at bit `lo` of a word (the command encoder and
 * decoder below; amdvi_fmt.c has its own pair for the other formats). */
static inline uint64_t amdvi_fld_get(uint64_t w, unsigned lo, unsigned width)
{
    return (w >> lo) & ((width == 64) ? ~0ull : ((1ull << width) - 1));
}

static inline uint64_t amdvi_fld_put(uint64_t v, unsigned lo, unsigned width)
{
    return (v & ((width == 64) ? ~0ull : ((1ull << width) - 1))) << lo;
}

/* The encoder and the decoder of a command entry are defined here, inline:
 * a 4.x boot's early flush encodes (the host driver) and decodes (the model)
 * some 200,000 entries, and inlined into their one caller each the entry's
 * struct stays in registers: no clearing of it, no stores and loads of the
 * fields the opcode does not have. They remain the one encoder and the one
 * decoder of the format. */
static inline __attribute__((always_inline)) void amdvi_cmd_encode(const struct amdvi_cmd *c,
                                                                  uint8_t raw[AMDVI_CMD_SIZE])
{
    uint64_t lo = amdvi_fld_put(c->opcode, 60, 4), hi = 0;
    switch (c->opcode) {
    case AMDVI_CMD_COMPLETION_WAIT:
        lo |= amdvi_fld_put(c->s, 0, 1) | amdvi_fld_put(c->i, 1, 1) |
              amdvi_fld_put(c->f, 2, 1);
        lo |= c->addr & 0x000ffffffffffff8ull; /* store address 51:3 */
        hi = c->data;
        break;
    case AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY:
    case AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE:
        lo |= amdvi_fld_put(c->devid, 0, 16);
        break;
    case AMDVI_CMD_INVALIDATE_IOMMU_PAGES:
        lo |= amdvi_fld_put(c->pasid, 0, 20) | amdvi_fld_put(c->domain, 32, 16);
        hi = amdvi_fld_put(c->s, 0, 1) | amdvi_fld_put(c->pde, 1, 1) |
             amdvi_fld_put(c->gn, 2, 1) | (c->addr & ~0xfffull);
        break;
    case AMDVI_CMD_INVALIDATE_IOTLB_PAGES:
        lo |= amdvi_fld_put(c->devid, 0, 16) | amdvi_fld_put(c->pasid, 16, 8) |
              amdvi_fld_put(c->maxpend, 24, 8);
        lo |= amdvi_fld_put(c->queueid, 32, 16) | amdvi_fld_put(c->pasid >> 8, 48, 12);
        hi = amdvi_fld_put(c->s, 0, 1) | amdvi_fld_put(c->gn, 2, 1) |
             amdvi_fld_put(c->type, 4, 2) | (c->addr & ~0xfffull);
        break;
    case AMDVI_CMD_PREFETCH_IOMMU_PAGES:
        lo |= amdvi_fld_put(c->devid, 0, 16) | amdvi_fld_put(c->pfcount, 24, 8) |
              amdvi_fld_put(c->pasid, 32, 20);
        hi = amdvi_fld_put(c->s, 0, 1) | amdvi_fld_put(c->gn, 2, 1) |
             amdvi_fld_put(c->inval, 4, 1) | (c->addr & ~0xfffull);
        break;
    case AMDVI_CMD_COMPLETE_PPR_REQUEST:
        lo |= amdvi_fld_put(c->devid, 0, 16) | amdvi_fld_put(c->pasid, 32, 20);
        hi = amdvi_fld_put(c->gn, 2, 1) | amdvi_fld_put(c->tag, 32, 16);
        break;
    default:
        break;
    }
    sim_put_le64(raw, lo);
    sim_put_le64(raw + 8, hi);
}

/* Decodes the fields of the entry's opcode; unknown opcodes keep only the
 * opcode. True when the entry is illegal: reserved bits set or an unknown
 * opcode (what amdvi_cmd_check says, without the bits). */
static inline bool amdvi_cmd_decode(const uint8_t raw[AMDVI_CMD_SIZE], struct amdvi_cmd *c)
{
    uint64_t lo = sim_get_le64(raw), hi = sim_get_le64(raw + 8);
    *c = (struct amdvi_cmd){0};
    c->opcode = (uint8_t)amdvi_fld_get(lo, 60, 4);
    bool rsvd = !(AMDVI_CMD_KNOWN >> c->opcode & 1) ||
                ((lo & amdvi_cmd_rsvd[c->opcode][0]) |
                 (hi & amdvi_cmd_rsvd[c->opcode][1])) != 0;
    switch (c->opcode) {
    case AMDVI_CMD_COMPLETION_WAIT:
        c->s = amdvi_fld_get(lo, 0, 1);
        c->i = amdvi_fld_get(lo, 1, 1);
        c->f = amdvi_fld_get(lo, 2, 1);
        c->addr = lo & 0x000ffffffffffff8ull;
        c->data = hi;
        break;
    case AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY:
    case AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE:
        c->devid = (uint16_t)amdvi_fld_get(lo, 0, 16);
        break;
    case AMDVI_CMD_INVALIDATE_IOMMU_PAGES:
        c->pasid = (uint32_t)amdvi_fld_get(lo, 0, 20);
        c->domain = (uint16_t)amdvi_fld_get(lo, 32, 16);
        c->s = amdvi_fld_get(hi, 0, 1);
        c->pde = amdvi_fld_get(hi, 1, 1);
        c->gn = amdvi_fld_get(hi, 2, 1);
        c->addr = hi & ~0xfffull;
        break;
    case AMDVI_CMD_INVALIDATE_IOTLB_PAGES:
        c->devid = (uint16_t)amdvi_fld_get(lo, 0, 16);
        c->pasid = (uint32_t)(amdvi_fld_get(lo, 16, 8) | amdvi_fld_get(lo, 48, 12) << 8);
        c->maxpend = (uint8_t)amdvi_fld_get(lo, 24, 8);
        c->queueid = (uint16_t)amdvi_fld_get(lo, 32, 16);
        c->s = amdvi_fld_get(hi, 0, 1);
        c->gn = amdvi_fld_get(hi, 2, 1);
        c->type = (uint8_t)amdvi_fld_get(hi, 4, 2);
        c->addr = hi & ~0xfffull;
        break;
    case AMDVI_CMD_PREFETCH_IOMMU_PAGES:
        c->devid = (uint16_t)amdvi_fld_get(lo, 0, 16);
        c->pfcount = (uint8_t)amdvi_fld_get(lo, 24, 8);
        c->pasid = (uint32_t)amdvi_fld_get(lo, 32, 20);
        c->s = amdvi_fld_get(hi, 0, 1);
        c->gn = amdvi_fld_get(hi, 2, 1);
        c->inval = amdvi_fld_get(hi, 4, 1);
        c->addr = hi & ~0xfffull;
        break;
    case AMDVI_CMD_COMPLETE_PPR_REQUEST:
        c->devid = (uint16_t)amdvi_fld_get(lo, 0, 16);
        c->pasid = (uint32_t)amdvi_fld_get(lo, 32, 20);
        c->gn = amdvi_fld_get(hi, 2, 1);
        c->tag = (uint16_t)amdvi_fld_get(hi, 32, 16);
        break;
    default:
        break;
    }
    return rsvd;
}

/* Reserved bits set in the entry, as two 64-bit words; true when any. An
 * unknown opcode (0, 9..15) counts as fully reserved. */
bool amdvi_cmd_check(const uint8_t raw[AMDVI_CMD_SIZE], uint64_t rsvd[2]);
/* The range an INVALIDATE_IOMMU_PAGES / INVALIDATE_IOTLB_PAGES address with
 * its S bit covers (2.4.3): S = 0 one 4 KiB page; S = 1 the lowest clear
 * address bit b >= 12 gives an aligned 2^(b+1)-byte range. *size 0 means
 * 2^64 (every address bit 62:12 set). */
void amdvi_inv_range(uint64_t addr, bool s, uint64_t *base, uint64_t *size);
/* The address (with S) that covers [base, base + 2^shift), shift >= 12. */
uint64_t amdvi_inv_addr(uint64_t base, unsigned shift, bool *s);

/* ------------------------------------------------------------------------ */
/* Interrupt remapping table entries (spec 2.2.5).                           */
/* ------------------------------------------------------------------------ */

/* MSI data bits 10:0 index the interrupt remapping table (2.2.5.1). */
#define AMDVI_MSI_INDEX_MASK 0x7ffu
static inline unsigned amdvi_msi_index(uint32_t data)
{
    return data & AMDVI_MSI_INDEX_MASK;
}
/* Entries of a table with IntTabLen n (2.2.2): 2^n. */
static inline unsigned amdvi_int_tab_entries(unsigned int_tab_len)
{
    return 1u << int_tab_len;
}

#define AMDVI_IRTE32_SIZE  4
#define AMDVI_IRTE128_SIZE 16

struct amdvi_irte {
    bool remap_en;      /* bit 0     RemapEn                       2.2.5.1, 2.2.5.2 */
    bool sup_iopf;      /* bit 1     SupIOPF: no IO_PAGE_FAULT      2.2.5.1, 2.2.5.2 */
    uint8_t int_type;   /* 4:2       IntType (GuestMode = 0)       2.2.5.1, 2.2.5.2 */
    bool rq_eoi;        /* bit 5     RqEoi (GuestMode = 0)         2.2.5.1, 2.2.5.2 */
    bool dm;            /* bit 6     DM: destination mode (GuestMode = 0)          */
    bool guest_mode;    /* bit 7     GuestMode (128-bit only; reserved in 32-bit)   */
    uint32_t destination; /* 32-bit: 15:8; 128-bit: [23:0] in 31:8, [31:24] in 127:120 */
    uint8_t vector;     /* 32-bit: 23:16; 128-bit: 71:64                            */
    /* 128-bit format only (2.2.5.2): */
    bool ga_log_intr;   /* bit 2     GALogIntr (GuestMode = 1)                      */
    bool is_run;        /* bit 6     IsRun (GuestMode = 1)                          */
    uint32_t ga_tag;    /* 63:32     GATag                                         */
    uint64_t ga_root;   /* 115:76    guest virtual APIC backing page (bytes, 51:12) */
};

uint32_t amdvi_irte32_encode(const struct amdvi_irte *e);
/* Decodes a 32-bit IRTE (2.2.5.1); returns the reserved bits set (31:24). */
uint32_t amdvi_irte32_decode(uint32_t raw, struct amdvi_irte *e);
void amdvi_irte128_encode(const struct amdvi_irte *e, uint8_t raw[AMDVI_IRTE128_SIZE]);
/* Decodes a 128-bit IRTE (2.2.5.2); returns true when reserved bits are set
 * (rsvd[2] receives them: bits 75:72 and 119:116 in word 1, 5:3 when
 * GuestMode = 1 in word 0). */
bool amdvi_irte128_decode(const uint8_t raw[AMDVI_IRTE128_SIZE], struct amdvi_irte *e,
                          uint64_t rsvd[2]);

/* x86 compatibility-format MSI (Intel SDM 10.11, which 2.2.5 refers to):
 * address 0xFEE00000 | dest << 12 | DM << 2, data vector | type << 8. */
#define AMDVI_MSI_BASE  0xfee00000ull
#define AMDVI_MSI_LAST  0xfeefffffull
static inline uint64_t amdvi_msi_addr(uint8_t dest, bool dm)
{
    return AMDVI_MSI_BASE | (uint64_t)dest << 12 | (uint64_t)dm << 2;
}
static inline uint32_t amdvi_msi_data(uint8_t vector, uint8_t delivery_mode)
{
    return vector | (uint32_t)(delivery_mode & 7) << 8;
}
/* MSI delivery modes (data bits 10:8) the IOMMU distinguishes (2.2.5). */
#define AMDVI_DM_FIXED   0
#define AMDVI_DM_ARB     1
#define AMDVI_DM_SMI     2
#define AMDVI_DM_NMI     4
#define AMDVI_DM_INIT    5
#define AMDVI_DM_EXTINT  7

/* ------------------------------------------------------------------------ */
/* MMIO registers (spec 3.4).                                                */
/* ------------------------------------------------------------------------ */

#define AMDVI_MMIO_SIZE 0x4000u /* 16 KiB: 3.4 (the 512 KiB layout holds
                                   performance counters, not modelled) */

#define AMDVI_REG_DEV_TAB_BASE  0x0000 /* 3.4.1 */
#define AMDVI_REG_CMD_BUF_BASE  0x0008 /* 3.4.2 */
#define AMDVI_REG_EVT_LOG_BASE  0x0010 /* 3.4.3 */
#define AMDVI_REG_CONTROL       0x0018 /* 3.4.4 */
#define AMDVI_REG_EXCL_BASE     0x0020 /* 3.4.5 */
#define AMDVI_REG_EXCL_LIMIT    0x0028 /* 3.4.6 */
#define AMDVI_REG_EFR           0x0030 /* 3.4.7 Extended Feature Register */
#define AMDVI_REG_PPR_LOG_BASE  0x0038 /* 3.4.8 */
#define AMDVI_REG_CMD_HEAD      0x2000 /* 3.4.9 */
#define AMDVI_REG_CMD_TAIL      0x2008 /* 3.4.9 */
#define AMDVI_REG_EVT_HEAD      0x2010 /* 3.4.10 */
#define AMDVI_REG_EVT_TAIL      0x2018 /* 3.4.10 */
#define AMDVI_REG_STATUS        0x2020 /* 3.4.11 */
#define AMDVI_REG_PPR_HEAD      0x2030
#define AMDVI_REG_PPR_TAIL      0x2038

/* Base registers: address bits 51:12 (3.4.1-3.4.3, 3.4.5). */
#define AMDVI_BASE_ADDR_MASK    0x000ffffffffff000ull
/* Device Table Base Size, bits 8:0: table of (Size + 1) * 4 KiB (3.4.1). */
#define AMDVI_DEV_TAB_SIZE_MASK 0x1ffull
/* ComLen / EventLen, bits 59:56: 2^Len entries of 16 bytes, Len >= 8 (3.4.2, 3.4.3). */
#define AMDVI_LEN_SHIFT 56
#define AMDVI_LEN_MASK  0xfull
#define AMDVI_LEN_MIN   8
/* Head/tail pointers: byte offset, bits 18:4 (3.4.9, 3.4.10). */
#define AMDVI_PTR_MASK  0x7fff0ull

/* Control register bits (3.4.4). */
#define AMDVI_CTL_IOMMU_EN          (1ull << 0)
#define AMDVI_CTL_HT_TUN_EN         (1ull << 1)
#define AMDVI_CTL_EVENT_LOG_EN      (1ull << 2)
#define AMDVI_CTL_EVENT_INT_EN      (1ull << 3)
#define AMDVI_CTL_COM_WAIT_INT_EN   (1ull << 4)
#define AMDVI_CTL_INV_TIMEOUT_SHIFT 5          /* 7:5 InvTimeOut */
#define AMDVI_CTL_INV_TIMEOUT_MASK  (7ull << 5)
#define AMDVI_CTL_PASS_PW           (1ull << 8)
#define AMDVI_CTL_RES_PASS_PW       (1ull << 9)
#define AMDVI_CTL_COHERENT          (1ull << 10)
#define AMDVI_CTL_ISOC              (1ull << 11)
#define AMDVI_CTL_CMD_BUF_EN        (1ull << 12)
#define AMDVI_CTL_PPR_LOG_EN        (1ull << 13)
#define AMDVI_CTL_PPR_INT_EN        (1ull << 14)
#define AMDVI_CTL_PPR_EN            (1ull << 15)
#define AMDVI_CTL_GT_EN             (1ull << 16)
#define AMDVI_CTL_GA_EN             (1ull << 17)
#define AMDVI_CTL_CRW_MASK          (0xfull << 18) /* 21:18 */
#define AMDVI_CTL_SMIF_EN           (1ull << 22)
#define AMDVI_CTL_SLF_WB_DIS        (1ull << 23)
#define AMDVI_CTL_SMIF_LOG_EN       (1ull << 24)
#define AMDVI_CTL_GAM_EN_MASK       (7ull << 25)   /* 27:25 */
#define AMDVI_CTL_GA_LOG_EN         (1ull << 28)
#define AMDVI_CTL_GA_INT_EN         (1ull << 29)
#define AMDVI_CTL_DUAL_PPR_LOG_MASK (3ull << 30)   /* 31:30 */
#define AMDVI_CTL_DUAL_EVT_LOG_MASK (3ull << 32)   /* 33:32 */
#define AMDVI_CTL_DEV_TBL_SEG_MASK  (7ull << 34)   /* 36:34 */
#define AMDVI_CTL_PRIV_ABRT_MASK    (3ull << 37)   /* 38:37 */
#define AMDVI_CTL_PPR_AUTO_RSP_EN   (1ull << 39)
#define AMDVI_CTL_MARC_EN           (1ull << 40)
#define AMDVI_CTL_BLK_STOP_MRK_EN   (1ull << 41)
#define AMDVI_CTL_PPR_AUTO_RSP_AON  (1ull << 42)
#define AMDVI_CTL_EPH_EN            (1ull << 45)
#define AMDVI_CTL_HAD_UPDATE_MASK   (3ull << 46)
#define AMDVI_CTL_GD_UPDATE_DIS     (1ull << 48)
#define AMDVI_CTL_XT_EN             (1ull << 50)
#define AMDVI_CTL_INT_CAP_XT_EN     (1ull << 51)
#define AMDVI_CTL_GA_UPDATE_DIS     (1ull << 54)
/* Bits software may set (the model keeps the rest zero). */
#define AMDVI_CTL_WRITABLE          0x004de7ffffffffffull

/* Exclusion Base register bits (3.4.5). */
#define AMDVI_EXCL_EN    (1ull << 0) /* ExEn */
#define AMDVI_EXCL_ALLOW (1ull << 1) /* Allow: every device, not only DTE.EX */

/* Extended Feature Register bits (3.4.7). */
#define AMDVI_EFR_PREF_SUP   (1ull << 0)
#define AMDVI_EFR_PPR_SUP    (1ull << 1)
#define AMDVI_EFR_XT_SUP     (1ull << 2)
#define AMDVI_EFR_NX_SUP     (1ull << 3)
#define AMDVI_EFR_GT_SUP     (1ull << 4)
#define AMDVI_EFR_IA_SUP     (1ull << 6)
#define AMDVI_EFR_GA_SUP     (1ull << 7)
#define AMDVI_EFR_HE_SUP     (1ull << 8)
#define AMDVI_EFR_PC_SUP     (1ull << 9)
#define AMDVI_EFR_HATS_SHIFT 10 /* 11:10: 00b 4 levels, 01b 5, 10b 6 */
#define AMDVI_EFR_HATS_MASK  (3ull << 10)
#define AMDVI_EFR_GATS_SHIFT 12
#define AMDVI_EFR_GLX_SHIFT  14
#define AMDVI_EFR_US_SUP     (1ull << 37)
#define AMDVI_EFR_GIO_SUP    (1ull << 48)
#define AMDVI_EFR_HA_SUP     (1ull << 49)
#define AMDVI_EFR_EPH_SUP    (1ull << 50)
#define AMDVI_EFR_HD_SUP     (1ull << 52)

/* Status register bits (3.4.11). RW1C: EventOverflow, EventLogInt, ComWaitInt,
 * PprOverflow, PprInt, GALOverflow, GAInt; the *Run bits are read-only. */
#define AMDVI_ST_EVENT_OVERFLOW (1ull << 0)
#define AMDVI_ST_EVENT_LOG_INT  (1ull << 1)
#define AMDVI_ST_COM_WAIT_INT   (1ull << 2)
#define AMDVI_ST_EVENT_LOG_RUN  (1ull << 3)
#define AMDVI_ST_CMD_BUF_RUN    (1ull << 4)
#define AMDVI_ST_PPR_OVERFLOW   (1ull << 5)
#define AMDVI_ST_PPR_INT        (1ull << 6)
#define AMDVI_ST_PPR_LOG_RUN    (1ull << 7)
#define AMDVI_ST_GA_LOG_RUN     (1ull << 8)
#define AMDVI_ST_GA_OVERFLOW    (1ull << 9)
#define AMDVI_ST_GA_INT         (1ull << 10)
#define AMDVI_ST_RW1C           0x667ull

/* Register encoders for the base registers (what a driver writes). */
static inline uint64_t amdvi_dev_tab_base(uint64_t base, unsigned size_4k_minus_1)
{
    return (base & AMDVI_BASE_ADDR_MASK) | (size_4k_minus_1 & AMDVI_DEV_TAB_SIZE_MASK);
}
static inline uint64_t amdvi_ring_base(uint64_t base, unsigned len_log2)
{
    return (base & AMDVI_BASE_ADDR_MASK) | ((uint64_t)(len_log2 & AMDVI_LEN_MASK) << AMDVI_LEN_SHIFT);
}

#endif
