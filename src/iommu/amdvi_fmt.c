/* AMD-Vi formats: see amdvi_fmt.h. Every encoder writes whole little-endian
 * 64-bit words built field by field; every decoder reads them back the same
 * way, so one word helper pair carries the byte order. */
#include "iommu/amdvi_fmt.h"

#include "sim/bytes.h"

#include <string.h>

/* Field of `width` bits at bit `lo` of a word. */
static inline uint64_t get(uint64_t w, unsigned lo, unsigned width)
{
    return (w >> lo) & ((width == 64) ? ~0ull : ((1ull << width) - 1));
}

static inline uint64_t put(uint64_t v, unsigned lo, unsigned width)
{
    return (v & ((width == 64) ? ~0ull : ((1ull << width) - 1))) << lo;
}

#define ADDR_51_12 0x000ffffffffff000ull

/* ---- Device Table Entry (2.2.2) ---- */

void amdvi_dte_encode(const struct amdvi_dte *d, uint8_t raw[AMDVI_DTE_SIZE])
{
    uint64_t q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    q0 |= put(d->v, 0, 1);
    q0 |= put(d->tv, 1, 1);
    q0 |= put(d->had, 7, 2);
    q0 |= put(d->mode, 9, 3);
    q0 |= d->pt_root & ADDR_51_12;
    q0 |= put(d->ppr, 52, 1);
    q0 |= put(d->gprp, 53, 1);
    q0 |= put(d->giov, 54, 1);
    q0 |= put(d->gv, 55, 1);
    q0 |= put(d->glx, 56, 2);
    q0 |= put(d->gcr3_root >> 12, 58, 3); /* GCR3[14:12] at 60:58 */
    q0 |= put(d->ir, 61, 1);
    q0 |= put(d->iw, 62, 1);

    q1 |= put(d->domain_id, 0, 16);
    q1 |= put(d->gcr3_root >> 15, 16, 16); /* GCR3[30:15] at 95:80 */
    q1 |= put(d->i, 32, 1);
    q1 |= put(d->se, 33, 1);
    q1 |= put(d->sa, 34, 1);
    q1 |= put(d->ioctl, 35, 2);
    q1 |= put(d->cache, 37, 1);
    q1 |= put(d->sd, 38, 1);
    q1 |= put(d->ex, 39, 1);
    q1 |= put(d->sysmgt, 40, 2);
    q1 |= put(d->gcr3_root >> 31, 43, 21); /* GCR3[51:31] at 127:107 */

    q2 |= put(d->iv, 0, 1);
    q2 |= put(d->int_tab_len, 1, 4);
    q2 |= put(d->ig, 5, 1);
    q2 |= d->int_root & 0x000fffffffffffc0ull; /* address 51:6 at bits 179:134 */
    q2 |= put(d->init_pass, 56, 1);
    q2 |= put(d->eint_pass, 57, 1);
    q2 |= put(d->nmi_pass, 58, 1);
    q2 |= put(d->int_ctl, 60, 2);
    q2 |= put(d->lint0_pass, 62, 1);
    q2 |= put(d->lint1_pass, 63, 1);

    q3 |= put(d->attr_v, 54, 1);
    q3 |= put(d->mode0_fc, 55, 1);
    q3 |= put(d->snoop_attr, 56, 8);

    sim_put_le64(raw, q0);
    sim_put_le64(raw + 8, q1);
    sim_put_le64(raw + 16, q2);
    sim_put_le64(raw + 24, q3);
}

void amdvi_dte_decode(const uint8_t raw[AMDVI_DTE_SIZE], struct amdvi_dte *d)
{
    uint64_t q0 = sim_get_le64(raw), q1 = sim_get_le64(raw + 8), q2 = sim_get_le64(raw + 16), q3 = sim_get_le64(raw + 24);
    memset(d, 0, sizeof *d);
    d->v = get(q0, 0, 1);
    d->tv = get(q0, 1, 1);
    d->had = (uint8_t)get(q0, 7, 2);
    d->mode = (uint8_t)get(q0, 9, 3);
    d->pt_root = q0 & ADDR_51_12;
    d->ppr = get(q0, 52, 1);
    d->gprp = get(q0, 53, 1);
    d->giov = get(q0, 54, 1);
    d->gv = get(q0, 55, 1);
    d->glx = (uint8_t)get(q0, 56, 2);
    d->gcr3_root = get(q0, 58, 3) << 12 | get(q1, 16, 16) << 15 | get(q1, 43, 21) << 31;
    d->ir = get(q0, 61, 1);
    d->iw = get(q0, 62, 1);

    d->domain_id = (uint16_t)get(q1, 0, 16);
    d->i = get(q1, 32, 1);
    d->se = get(q1, 33, 1);
    d->sa = get(q1, 34, 1);
    d->ioctl = (uint8_t)get(q1, 35, 2);
    d->cache = get(q1, 37, 1);
    d->sd = get(q1, 38, 1);
    d->ex = get(q1, 39, 1);
    d->sysmgt = (uint8_t)get(q1, 40, 2);

    d->iv = get(q2, 0, 1);
    d->int_tab_len = (uint8_t)get(q2, 1, 4);
    d->ig = get(q2, 5, 1);
    d->int_root = q2 & 0x000fffffffffffc0ull;
    d->init_pass = get(q2, 56, 1);
    d->eint_pass = get(q2, 57, 1);
    d->nmi_pass = get(q2, 58, 1);
    d->int_ctl = (uint8_t)get(q2, 60, 2);
    d->lint0_pass = get(q2, 62, 1);
    d->lint1_pass = get(q2, 63, 1);

    d->attr_v = get(q3, 54, 1);
    d->mode0_fc = get(q3, 55, 1);
    d->snoop_attr = (uint8_t)get(q3, 56, 8);
}

bool amdvi_dte_check(const uint8_t raw[AMDVI_DTE_SIZE], uint64_t efr, uint64_t rsvd[4])
{
    /* Always reserved (2.2.2): 6:2, 63; 106; 183:180, 187; 245:192. */
    uint64_t m0 = 0x000000000000007cull | 1ull << 63;
    uint64_t m1 = 1ull << 42;
    uint64_t m2 = 0x00f0000000000000ull | 1ull << 59;
    uint64_t m3 = 0x003fffffffffffffull;
    if (!(efr & AMDVI_EFR_HA_SUP))
        m0 |= 3ull << 7;                             /* HAD */
    if (!(efr & AMDVI_EFR_PPR_SUP))
        m0 |= 3ull << 52;                            /* PPR, GPRP */
    if (!(efr & AMDVI_EFR_GIO_SUP))
        m0 |= 1ull << 54;                            /* GIoV */
    if (!(efr & AMDVI_EFR_GT_SUP)) {
        m0 |= 0x3full << 55;                         /* GV, GLX, GCR3[14:12] */
        m1 |= 0xffffull << 16 | 0x1fffffull << 43;   /* GCR3[30:15], GCR3[51:31] */
    }
    rsvd[0] = sim_get_le64(raw) & m0;
    rsvd[1] = sim_get_le64(raw + 8) & m1;
    rsvd[2] = sim_get_le64(raw + 16) & m2;
    rsvd[3] = sim_get_le64(raw + 24) & m3;
    return rsvd[0] | rsvd[1] | rsvd[2] | rsvd[3];
}

unsigned amdvi_dte_bad_encoding(const struct amdvi_dte *d)
{
    unsigned bad = 0;
    if (d->mode > AMDVI_MODE_MAX)
        bad |= AMDVI_DTE_BAD_MODE;
    if (d->ioctl == 3)
        bad |= AMDVI_DTE_BAD_IOCTL;
    if (d->int_ctl == 3)
        bad |= AMDVI_DTE_BAD_INTCTL;
    if (d->int_tab_len > AMDVI_INTTABLEN_MAX)
        bad |= AMDVI_DTE_BAD_INTTABLEN;
    return bad;
}

/* ---- I/O page table entries (2.2.3) ---- */

uint64_t amdvi_pte_encode(const struct amdvi_pte *p)
{
    uint64_t w = 0;
    w |= put(p->pr, 0, 1);
    w |= put(p->a, 5, 1);
    w |= put(p->d, 6, 1);
    w |= put(p->next_level, 9, 3);
    w |= p->addr & ADDR_51_12;
    w |= put(p->u, 59, 1);
    w |= put(p->fc, 60, 1);
    w |= put(p->ir, 61, 1);
    w |= put(p->iw, 62, 1);
    return w;
}

void amdvi_pte_decode(uint64_t raw, struct amdvi_pte *p)
{
    p->pr = get(raw, 0, 1);
    p->a = get(raw, 5, 1);
    p->d = get(raw, 6, 1);
    p->next_level = (uint8_t)get(raw, 9, 3);
    p->addr = raw & ADDR_51_12;
    p->u = get(raw, 59, 1);
    p->fc = get(raw, 60, 1);
    p->ir = get(raw, 61, 1);
    p->iw = get(raw, 62, 1);
}

uint64_t amdvi_pte_reserved(uint64_t raw)
{
    unsigned nl = (unsigned)get(raw, 9, 3);
    bool pde = nl >= 1 && nl <= 6;
    return raw & (pde ? 0x1ff0000000000000ull : 0x07f0000000000000ull);
}

unsigned amdvi_pte_large_shift(uint64_t page_addr)
{
    unsigned n = 0;
    for (unsigned bit = 12; bit < 52 && ((page_addr >> bit) & 1); bit++)
        n++;
    return n == 40 ? 64 : 13 + n;
}

uint64_t amdvi_pte_large_addr(uint64_t base, unsigned shift)
{
    uint64_t ones = ((1ull << (shift - 1)) - 1) & ~0xfffull;
    return (base & ADDR_51_12 & ~((1ull << (shift - 1)) | ones)) | ones;
}

/* ---- Event log entries (2.5) ---- */

const char *amdvi_event_name(unsigned code)
{
    switch (code) {
    case AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY: return "ILLEGAL_DEV_TABLE_ENTRY";
    case AMDVI_EV_IO_PAGE_FAULT: return "IO_PAGE_FAULT";
    case AMDVI_EV_DEV_TAB_HARDWARE_ERROR: return "DEV_TAB_HARDWARE_ERROR";
    case AMDVI_EV_PAGE_TAB_HARDWARE_ERROR: return "PAGE_TAB_HARDWARE_ERROR";
    case AMDVI_EV_ILLEGAL_COMMAND_ERROR: return "ILLEGAL_COMMAND_ERROR";
    case AMDVI_EV_COMMAND_HARDWARE_ERROR: return "COMMAND_HARDWARE_ERROR";
    case AMDVI_EV_IOTLB_INV_TIMEOUT: return "IOTLB_INV_TIMEOUT";
    case AMDVI_EV_INVALID_DEVICE_REQUEST: return "INVALID_DEVICE_REQUEST";
    case AMDVI_EV_INVALID_PPR_REQUEST: return "INVALID_PPR_REQUEST";
    case AMDVI_EV_EVENT_COUNTER_ZERO: return "EVENT_COUNTER_ZERO";
    case AMDVI_EV_GUEST_EVENT_FAULT: return "GUEST_EVENT_FAULT";
    case AMDVI_EV_RMP_PAGE_FAULT: return "RMP_PAGE_FAULT";
    case AMDVI_EV_RMP_HW_ERROR: return "RMP_HW_ERROR";
    default: return "UNKNOWN";
    }
}

static bool ev_has_devid(unsigned c)
{
    return c == 1 || c == 2 || c == 3 || c == 4 || c == 7 || c == 8 || c == 9;
}

static bool ev_has_flags(unsigned c)
{
    return c == 1 || c == 2 || c == 3 || c == 4 || c == 8 || c == 9;
}

/* Types 1, 8, 9 always carry a PASID; 2 and 4 carry it instead of the
 * DomainID when GN is set (2.5.3 D/P field, 2.5.5). */
static bool ev_pasid_in_dp(unsigned c, uint16_t flags)
{
    if (c == 1 || c == 8 || c == 9)
        return true;
    return (c == 2 || c == 4) && (flags & AMDVI_EVF_GN);
}

/* Reserved low address bits per type: 1: 1:0; 4: 2:0; 5, 7: 3:0. */
static uint64_t ev_addr_mask(unsigned c)
{
    switch (c) {
    case 1: return ~3ull;
    case 4: return ~7ull;
    case 5:
    case 7: return ~0xfull;
    default: return ~0ull;
    }
}

void amdvi_event_encode(const struct amdvi_event *e, uint8_t raw[AMDVI_EVENT_SIZE])
{
    unsigned c = e->code & 0xf;
    uint64_t lo = put(c, 60, 4), hi = 0;
    switch (c) {
    case AMDVI_EV_ILLEGAL_COMMAND_ERROR:
    case AMDVI_EV_COMMAND_HARDWARE_ERROR:
    case AMDVI_EV_IOTLB_INV_TIMEOUT:
    case AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY:
    case AMDVI_EV_IO_PAGE_FAULT:
    case AMDVI_EV_DEV_TAB_HARDWARE_ERROR:
    case AMDVI_EV_PAGE_TAB_HARDWARE_ERROR:
    case AMDVI_EV_INVALID_DEVICE_REQUEST:
    case AMDVI_EV_INVALID_PPR_REQUEST:
        if (ev_has_devid(c))
            lo |= put(e->devid, 0, 16);
        if (ev_has_flags(c))
            lo |= put(e->flags & AMDVI_EVF_MASK, 48, 9);
        if (ev_pasid_in_dp(c, e->flags)) {
            lo |= put(e->pasid >> 16, 16, 4);
            lo |= put(e->pasid, 32, 16);
        } else if (c == 2 || c == 4) {
            lo |= put(e->domain, 32, 16);
        }
        if (c == 3 || c == 4 || c == 6)
            lo |= put(e->type, 57, 2);
        else if (c == 8 || c == 9)
            lo |= put(e->type, 57, 3);
        hi = e->addr & ev_addr_mask(c);
        break;
    case AMDVI_EV_EVENT_COUNTER_ZERO:
        hi = put(e->counter >> 32, 0, 20) | put(e->counter, 32, 32);
        break;
    default:
        lo |= put(e->op1, 0, 60);
        hi = e->addr;
        break;
    }
    sim_put_le64(raw, lo);
    sim_put_le64(raw + 8, hi);
}

void amdvi_event_decode(const uint8_t raw[AMDVI_EVENT_SIZE], struct amdvi_event *e)
{
    uint64_t lo = sim_get_le64(raw), hi = sim_get_le64(raw + 8);
    unsigned c = (unsigned)get(lo, 60, 4);
    memset(e, 0, sizeof *e);
    e->code = (uint8_t)c;
    switch (c) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9:
        if (ev_has_devid(c))
            e->devid = (uint16_t)get(lo, 0, 16);
        if (ev_has_flags(c))
            e->flags = (uint16_t)get(lo, 48, 9);
        if (ev_pasid_in_dp(c, e->flags))
            e->pasid = (uint32_t)(get(lo, 16, 4) << 16 | get(lo, 32, 16));
        else if (c == 2 || c == 4)
            e->domain = (uint16_t)get(lo, 32, 16);
        if (c == 3 || c == 4 || c == 6)
            e->type = (uint8_t)get(lo, 57, 2);
        else if (c == 8 || c == 9)
            e->type = (uint8_t)get(lo, 57, 3);
        e->addr = hi & ev_addr_mask(c);
        break;
    case AMDVI_EV_EVENT_COUNTER_ZERO:
        e->counter = get(hi, 0, 20) << 32 | get(hi, 32, 32);
        break;
    default:
        e->op1 = get(lo, 0, 60);
        e->addr = hi;
        break;
    }
}

/* ---- Command buffer entries (2.4) ---- */

const char *amdvi_cmd_name(unsigned opcode)
{
    switch (opcode) {
    case AMDVI_CMD_COMPLETION_WAIT: return "COMPLETION_WAIT";
    case AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY: return "INVALIDATE_DEVTAB_ENTRY";
    case AMDVI_CMD_INVALIDATE_IOMMU_PAGES: return "INVALIDATE_IOMMU_PAGES";
    case AMDVI_CMD_INVALIDATE_IOTLB_PAGES: return "INVALIDATE_IOTLB_PAGES";
    case AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE: return "INVALIDATE_INTERRUPT_TABLE";
    case AMDVI_CMD_PREFETCH_IOMMU_PAGES: return "PREFETCH_IOMMU_PAGES";
    case AMDVI_CMD_COMPLETE_PPR_REQUEST: return "COMPLETE_PPR_REQUEST";
    case AMDVI_CMD_INVALIDATE_IOMMU_ALL: return "INVALIDATE_IOMMU_ALL";
    default: return "UNKNOWN";
    }
}

/* Reserved bits of each opcode's entry, low and high 64-bit words (2.4.x);
 * opcode 0 and 9..15 are reserved, the whole entry illegal (looked up, not
 * switched on: the check runs for each of the 200,000 commands of a 4.x boot). */
const uint64_t amdvi_cmd_rsvd[16][2] = {
    [AMDVI_CMD_COMPLETION_WAIT] = {0x0ff0000000000000ull, 0},           /* 59:52 */
    [AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY] = {0x0fffffffffff0000ull, ~0ull}, /* 59:16, 127:64 */
    [AMDVI_CMD_INVALIDATE_IOMMU_PAGES] = {0x00000000fff00000ull | 0x0fff000000000000ull, /* 31:20, 59:48 */
                                          0xff8ull},                                    /* 75:67 */
    [AMDVI_CMD_INVALIDATE_IOTLB_PAGES] = {0, 0x2ull | 0x8ull | 0xfc0ull}, /* 65, 67, 75:70 */
    [AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE] = {0x0fffffffffff0000ull, ~0ull}, /* 59:16, 127:64 */
    [AMDVI_CMD_PREFETCH_IOMMU_PAGES] = {0x0000000000ff0000ull | 0x0ff0000000000000ull, /* 23:16, 59:52 */
                                        0x2ull | 0x8ull | 0xfe0ull}, /* 65, 67, 75:69 */
    [AMDVI_CMD_COMPLETE_PPR_REQUEST] = {0x00000000ffff0000ull | 0x0ff0000000000000ull, /* 31:16, 59:52 */
                                        0x3ull | 0xfffffff8ull | 0xffff000000000000ull}, /* 65:64, 95:67, 127:112 */
    [AMDVI_CMD_INVALIDATE_IOMMU_ALL] = {0x0fffffffffffffffull, ~0ull}, /* 59:0, 127:64 */
};

bool amdvi_cmd_check(const uint8_t raw[AMDVI_CMD_SIZE], uint64_t rsvd[2])
{
    uint64_t lo = sim_get_le64(raw), hi = sim_get_le64(raw + 8);
    unsigned op = (unsigned)get(lo, 60, 4);
    if (!(AMDVI_CMD_KNOWN >> op & 1)) {
        rsvd[0] = 0xf000000000000000ull;
        rsvd[1] = 0;
        return true;
    }
    rsvd[0] = lo & amdvi_cmd_rsvd[op][0];
    rsvd[1] = hi & amdvi_cmd_rsvd[op][1];
    return (rsvd[0] | rsvd[1]) != 0;
}

void amdvi_inv_range(uint64_t addr, bool s, uint64_t *base, uint64_t *size)
{
    addr &= ~0xfffull;
    if (!s) {
        *base = addr;
        *size = 0x1000;
        return;
    }
    /* b: the lowest clear bit at or above 12, 64 when all are set (the
     * complement has its 12 top bits set, so it is never 0) */
    unsigned b = 12 + (unsigned)__builtin_ctzll(~(addr >> 12));
    if (b >= 63) { /* 2^64 or more: everything */
        *base = 0;
        *size = 0;
        return;
    }
    *size = 1ull << (b + 1);
    *base = addr & ~(*size - 1);
}

uint64_t amdvi_inv_addr(uint64_t base, unsigned shift, bool *s)
{
    if (shift <= 12) {
        *s = false;
        return base & ~0xfffull;
    }
    *s = true;
    if (shift >= 64)
        return AMDVI_INV_ALL_ADDR;
    uint64_t ones = ((1ull << (shift - 1)) - 1) & ~0xfffull;
    return (base & ~((1ull << shift) - 1)) | ones;
}

/* ---- Interrupt remapping table entries (2.2.5) ---- */

uint32_t amdvi_irte32_encode(const struct amdvi_irte *e)
{
    uint32_t w = 0;
    w |= (uint32_t)e->remap_en;
    w |= (uint32_t)e->sup_iopf << 1;
    w |= (uint32_t)(e->int_type & 7) << 2;
    w |= (uint32_t)e->rq_eoi << 5;
    w |= (uint32_t)e->dm << 6;
    w |= (uint32_t)e->guest_mode << 7;
    w |= (e->destination & 0xff) << 8;
    w |= (uint32_t)e->vector << 16;
    return w;
}

uint32_t amdvi_irte32_decode(uint32_t raw, struct amdvi_irte *e)
{
    memset(e, 0, sizeof *e);
    e->remap_en = raw & 1;
    e->sup_iopf = (raw >> 1) & 1;
    e->int_type = (raw >> 2) & 7;
    e->rq_eoi = (raw >> 5) & 1;
    e->dm = (raw >> 6) & 1;
    e->guest_mode = (raw >> 7) & 1;
    e->destination = (raw >> 8) & 0xff;
    e->vector = (uint8_t)(raw >> 16);
    return raw & 0xff000000u;
}

void amdvi_irte128_encode(const struct amdvi_irte *e, uint8_t raw[AMDVI_IRTE128_SIZE])
{
    uint64_t lo = 0, hi = 0;
    lo |= put(e->remap_en, 0, 1) | put(e->sup_iopf, 1, 1) | put(e->guest_mode, 7, 1);
    if (e->guest_mode)
        lo |= put(e->ga_log_intr, 2, 1) | put(e->is_run, 6, 1);
    else
        lo |= put(e->int_type, 2, 3) | put(e->rq_eoi, 5, 1) | put(e->dm, 6, 1);
    lo |= put(e->destination, 8, 24) | put(e->ga_tag, 32, 32);
    hi |= put(e->vector, 0, 8) | (e->ga_root & ADDR_51_12) | put(e->destination >> 24, 56, 8);
    sim_put_le64(raw, lo);
    sim_put_le64(raw + 8, hi);
}

bool amdvi_irte128_decode(const uint8_t raw[AMDVI_IRTE128_SIZE], struct amdvi_irte *e,
                          uint64_t rsvd[2])
{
    uint64_t lo = sim_get_le64(raw), hi = sim_get_le64(raw + 8);
    memset(e, 0, sizeof *e);
    e->remap_en = get(lo, 0, 1);
    e->sup_iopf = get(lo, 1, 1);
    e->guest_mode = get(lo, 7, 1);
    if (e->guest_mode) {
        e->ga_log_intr = get(lo, 2, 1);
        e->is_run = get(lo, 6, 1);
    } else {
        e->int_type = (uint8_t)get(lo, 2, 3);
        e->rq_eoi = get(lo, 5, 1);
        e->dm = get(lo, 6, 1);
    }
    e->destination = (uint32_t)(get(lo, 8, 24) | get(hi, 56, 8) << 24);
    e->ga_tag = (uint32_t)get(lo, 32, 32);
    e->vector = (uint8_t)get(hi, 0, 8);
    e->ga_root = hi & ADDR_51_12;
    rsvd[0] = e->guest_mode ? lo & 0x38ull : 0;
    rsvd[1] = hi & (0xf00ull | 0x00f0000000000000ull);
    return rsvd[0] | rsvd[1];
}
