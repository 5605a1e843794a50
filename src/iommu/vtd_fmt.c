/* VT-d formats: see vtd_fmt.h. Every encoder builds whole little-endian
 * 64-bit words field by field; every decoder reads them back the same way. */
#include "iommu/vtd_fmt.h"

#include "sim/bytes.h"

#include <stddef.h>
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

#define ADDR_63_12 0xfffffffffffff000ull

/* Address bits at or above haw, within 63:12 (haw 64: none). */
static inline uint64_t above(unsigned haw)
{
    return haw >= 64 ? 0 : (~0ull << haw) & ADDR_63_12;
}

/* ---- root entry (9.1) ---- */

void vtd_root_entry_encode(const struct vtd_root_entry *r, uint8_t raw[VTD_ROOT_ENTRY_SIZE])
{
    uint64_t lo = put(r->p, 0, 1) | (r->ctp & ADDR_63_12);
    sim_put_le64(raw, lo);
    sim_put_le64(raw + 8, 0);
}

void vtd_root_entry_decode(const uint8_t raw[VTD_ROOT_ENTRY_SIZE], struct vtd_root_entry *r)
{
    uint64_t lo = sim_get_le64(raw);
    r->p = get(lo, 0, 1);
    r->ctp = lo & ADDR_63_12;
}

bool vtd_root_entry_reserved(const uint8_t raw[VTD_ROOT_ENTRY_SIZE], unsigned haw,
                             uint64_t rsvd[2])
{
    rsvd[0] = sim_get_le64(raw) & (0xffeull | above(haw));
    rsvd[1] = sim_get_le64(raw + 8);
    return rsvd[0] || rsvd[1];
}

/* ---- context entry (9.3) ---- */

void vtd_context_entry_encode(const struct vtd_context_entry *c, uint8_t raw[VTD_CTX_ENTRY_SIZE])
{
    uint64_t lo = 0, hi = 0;
    lo |= put(c->p, 0, 1);
    lo |= put(c->fpd, 1, 1);
    lo |= put(c->tt, 2, 2);
    lo |= c->slptptr & ADDR_63_12;
    hi |= put(c->aw, 0, 3);
    hi |= put(c->avail, 3, 4);
    hi |= put(c->did, 8, 16);
    sim_put_le64(raw, lo);
    sim_put_le64(raw + 8, hi);
}

void vtd_context_entry_decode(const uint8_t raw[VTD_CTX_ENTRY_SIZE], struct vtd_context_entry *c)
{
    uint64_t lo = sim_get_le64(raw), hi = sim_get_le64(raw + 8);
    c->p = get(lo, 0, 1);
    c->fpd = get(lo, 1, 1);
    c->tt = (uint8_t)get(lo, 2, 2);
    c->slptptr = lo & ADDR_63_12;
    c->aw = (uint8_t)get(hi, 0, 3);
    c->avail = (uint8_t)get(hi, 3, 4);
    c->did = (uint16_t)get(hi, 8, 16);
}

bool vtd_context_entry_reserved(const uint8_t raw[VTD_CTX_ENTRY_SIZE], unsigned haw,
                                unsigned nd_bits, uint64_t rsvd[2])
{
    uint64_t hi_mask = 1ull << 7 | 0xffffffffff000000ull; /* 71, 127:88 */
    if (nd_bits < 16)
        hi_mask |= (0xffffull << (8 + nd_bits)) & 0xffff00ull; /* DID bits >= nd_bits */
    rsvd[0] = sim_get_le64(raw) & (0xff0ull | above(haw));
    rsvd[1] = sim_get_le64(raw + 8) & hi_mask;
    return rsvd[0] || rsvd[1];
}

/* ---- second-level paging entries (9.8) ---- */

uint64_t vtd_sl_pte_encode(const struct vtd_sl_pte *p)
{
    uint64_t v = 0;
    v |= put(p->r, 0, 1);
    v |= put(p->w, 1, 1);
    v |= put(p->x, 2, 1);
    v |= put(p->emt, 3, 3);
    v |= put(p->ipat, 6, 1);
    v |= put(p->ps, 7, 1);
    v |= put(p->a, 8, 1);
    v |= put(p->d, 9, 1);
    v |= put(p->snp, 11, 1);
    v |= p->addr & 0x000ffffffffff000ull;
    v |= put(p->tm, 62, 1);
    return v;
}

void vtd_sl_pte_decode(uint64_t raw, struct vtd_sl_pte *p)
{
    p->r = get(raw, 0, 1);
    p->w = get(raw, 1, 1);
    p->x = get(raw, 2, 1);
    p->emt = (uint8_t)get(raw, 3, 3);
    p->ipat = get(raw, 6, 1);
    p->ps = get(raw, 7, 1);
    p->a = get(raw, 8, 1);
    p->d = get(raw, 9, 1);
    p->snp = get(raw, 11, 1);
    p->addr = raw & 0x000ffffffffff000ull;
    p->tm = get(raw, 62, 1);
}

uint64_t vtd_sl_pte_reserved(uint64_t raw, unsigned level, unsigned haw, uint64_t cap,
                             uint64_t ecap)
{
    /* Address bits 51:haw; bits 61:52 and 63 are ignored (9.8). */
    uint64_t m = haw >= 52 ? 0 : (~0ull << haw) & 0x000ffffffffff000ull;
    bool ps = raw >> 7 & 1;
    bool leaf = vtd_sl_pte_is_leaf(raw, level);
    if (level >= 4)
        m |= 1ull << 7; /* PS reserved in PML4E / PML5E */
    if (level == 2 && ps && !(vtd_cap_sllps(cap) & 1))
        m |= 1ull << 7; /* 2 MiB pages not supported */
    if (level == 3 && ps && !(vtd_cap_sllps(cap) & 2))
        m |= 1ull << 7; /* 1 GiB pages not supported */
    if (!leaf || !(ecap & VTD_ECAP_SC))
        m |= 1ull << 11; /* SNP */
    if (!leaf || !(ecap & VTD_ECAP_DT))
        m |= 1ull << 62; /* TM */
    if (leaf && level == 2)
        m |= 0x1ff000ull; /* 2 MiB page: address bits 20:12 */
    if (leaf && level == 3)
        m |= 0x3ffff000ull; /* 1 GiB page: address bits 29:12 */
    return raw & m;
}

/* ---- scalable-mode root entry (9.2) ---- */

void vtd_sm_root_entry_encode(const struct vtd_sm_root_entry *r, uint8_t raw[VTD_ROOT_ENTRY_SIZE])
{
    sim_put_le64(raw, put(r->lp, 0, 1) | (r->lctp & ADDR_63_12));
    sim_put_le64(raw + 8, put(r->up, 0, 1) | (r->uctp & ADDR_63_12));
}

void vtd_sm_root_entry_decode(const uint8_t raw[VTD_ROOT_ENTRY_SIZE], struct vtd_sm_root_entry *r)
{
    uint64_t lo = sim_get_le64(raw), hi = sim_get_le64(raw + 8);
    r->lp = get(lo, 0, 1);
    r->lctp = lo & ADDR_63_12;
    r->up = get(hi, 0, 1);
    r->uctp = hi & ADDR_63_12;
}

uint64_t vtd_sm_root_entry_reserved(const uint8_t raw[VTD_ROOT_ENTRY_SIZE], bool upper,
                                    unsigned haw)
{
    return sim_get_le64(raw + (upper ? 8 : 0)) & (0xffeull | above(haw));
}

/* ---- scalable-mode context entry (9.4) ---- */

void vtd_sm_context_entry_encode(const struct vtd_sm_context_entry *c,
                                 uint8_t raw[VTD_SM_CTX_ENTRY_SIZE])
{
    uint64_t w0 = 0, w1 = 0;
    w0 |= put(c->p, 0, 1);
    w0 |= put(c->fpd, 1, 1);
    w0 |= put(c->dte, 2, 1);
    w0 |= put(c->paside, 3, 1);
    w0 |= put(c->pre, 4, 1);
    w0 |= put(c->pdts, 9, 3);
    w0 |= c->pasiddirptr & ADDR_63_12;
    w1 |= put(c->rid_pasid, 0, 20);
    w1 |= put(c->rid_priv, 20, 1);
    sim_put_le64(raw, w0);
    sim_put_le64(raw + 8, w1);
    sim_put_le64(raw + 16, 0);
    sim_put_le64(raw + 24, 0);
}

void vtd_sm_context_entry_decode(const uint8_t raw[VTD_SM_CTX_ENTRY_SIZE],
                                 struct vtd_sm_context_entry *c)
{
    uint64_t w0 = sim_get_le64(raw), w1 = sim_get_le64(raw + 8);
    c->p = get(w0, 0, 1);
    c->fpd = get(w0, 1, 1);
    c->dte = get(w0, 2, 1);
    c->paside = get(w0, 3, 1);
    c->pre = get(w0, 4, 1);
    c->pdts = (uint8_t)get(w0, 9, 3);
    c->pasiddirptr = w0 & ADDR_63_12;
    c->rid_pasid = (uint32_t)get(w1, 0, 20);
    c->rid_priv = get(w1, 20, 1);
}

bool vtd_sm_context_entry_reserved(const uint8_t raw[VTD_SM_CTX_ENTRY_SIZE], unsigned haw,
                                   uint64_t ecap, uint64_t rsvd[4])
{
    uint64_t m1 = 0xffffffffffe00000ull; /* 127:85 */
    if (!(ecap & VTD_ECAP_RPS))
        m1 |= 0xfffffull;                /* RID_PASID */
    if (!(ecap & VTD_ECAP_RPRIVS))
        m1 |= 1ull << 20;                /* RID_PRIV */
    rsvd[0] = sim_get_le64(raw) & (0x1e0ull | above(haw)); /* 8:5 */
    rsvd[1] = sim_get_le64(raw + 8) & m1;
    rsvd[2] = sim_get_le64(raw + 16);
    rsvd[3] = sim_get_le64(raw + 24);
    return rsvd[0] || rsvd[1] || rsvd[2] || rsvd[3];
}

/* ---- PASID directory entry (9.5) ---- */

uint64_t vtd_pasid_dir_entry_encode(const struct vtd_pasid_dir_entry *d)
{
    return put(d->p, 0, 1) | put(d->fpd, 1, 1) | (d->smptblptr & ADDR_63_12);
}

void vtd_pasid_dir_entry_decode(uint64_t raw, struct vtd_pasid_dir_entry *d)
{
    d->p = get(raw, 0, 1);
    d->fpd = get(raw, 1, 1);
    d->smptblptr = raw & ADDR_63_12;
}

uint64_t vtd_pasid_dir_entry_reserved(uint64_t raw, unsigned haw)
{
    return raw & (0xffcull | above(haw));
}

/* ---- PASID table entry (9.6) ---- */

void vtd_pasid_entry_encode(const struct vtd_pasid_entry *e, uint8_t raw[VTD_PASID_ENTRY_SIZE])
{
    uint64_t w0 = 0, w1 = 0, w2 = 0;
    w0 |= put(e->p, 0, 1);
    w0 |= put(e->fpd, 1, 1);
    w0 |= put(e->aw, 2, 3);
    w0 |= put(e->slee, 5, 1);
    w0 |= put(e->pgtt, 6, 3);
    w0 |= put(e->slade, 9, 1);
    w0 |= e->slptptr & ADDR_63_12;
    w1 |= put(e->did, 0, 16);
    w1 |= put(e->pwsnp, 23, 1);
    w1 |= put(e->pgsnp, 24, 1);
    w1 |= put(e->cd, 25, 1);
    w1 |= put(e->emte, 26, 1);
    w1 |= put(e->emt, 27, 3);
    w1 |= put(e->pwt, 30, 1);
    w1 |= put(e->pcd, 31, 1);
    w1 |= put(e->pat, 32, 32);
    w2 |= put(e->sre, 0, 1);
    w2 |= put(e->ere, 1, 1);
    w2 |= put(e->flpm, 2, 2);
    w2 |= put(e->wpe, 4, 1);
    w2 |= put(e->nxe, 5, 1);
    w2 |= put(e->smep, 6, 1);
    w2 |= put(e->eafe, 7, 1);
    w2 |= e->flptptr & ADDR_63_12;
    memset(raw, 0, VTD_PASID_ENTRY_SIZE);
    sim_put_le64(raw, w0);
    sim_put_le64(raw + 8, w1);
    sim_put_le64(raw + 16, w2);
}

void vtd_pasid_entry_decode(const uint8_t raw[VTD_PASID_ENTRY_SIZE], struct vtd_pasid_entry *e)
{
    uint64_t w0 = sim_get_le64(raw), w1 = sim_get_le64(raw + 8), w2 = sim_get_le64(raw + 16);
    e->p = get(w0, 0, 1);
    e->fpd = get(w0, 1, 1);
    e->aw = (uint8_t)get(w0, 2, 3);
    e->slee = get(w0, 5, 1);
    e->pgtt = (uint8_t)get(w0, 6, 3);
    e->slade = get(w0, 9, 1);
    e->slptptr = w0 & ADDR_63_12;
    e->did = (uint16_t)get(w1, 0, 16);
    e->pwsnp = get(w1, 23, 1);
    e->pgsnp = get(w1, 24, 1);
    e->cd = get(w1, 25, 1);
    e->emte = get(w1, 26, 1);
    e->emt = (uint8_t)get(w1, 27, 3);
    e->pwt = get(w1, 30, 1);
    e->pcd = get(w1, 31, 1);
    e->pat = (uint32_t)get(w1, 32, 32);
    e->sre = get(w2, 0, 1);
    e->ere = get(w2, 1, 1);
    e->flpm = (uint8_t)get(w2, 2, 2);
    e->wpe = get(w2, 4, 1);
    e->nxe = get(w2, 5, 1);
    e->smep = get(w2, 6, 1);
    e->eafe = get(w2, 7, 1);
    e->flptptr = w2 & ADDR_63_12;
}

bool vtd_pasid_entry_reserved(const uint8_t raw[VTD_PASID_ENTRY_SIZE], unsigned haw,
                              unsigned nd_bits, uint64_t cap, uint64_t ecap, uint64_t rsvd[8])
{
    uint64_t w0 = sim_get_le64(raw), w1 = sim_get_le64(raw + 8), w2 = sim_get_le64(raw + 16);
    unsigned pgtt = (unsigned)get(w0, 6, 3);
    bool sl = pgtt == VTD_PGTT_SL || pgtt == VTD_PGTT_NESTED;
    bool fl = pgtt == VTD_PGTT_FL || pgtt == VTD_PGTT_NESTED;
    uint64_t m0 = 0xc00ull, m1 = 0x7f0000ull, m2 = 0xf00ull | 3ull << 5;
    if (sl)
        m0 |= above(haw);
    if (!(ecap & VTD_ECAP_SLADS))
        m0 |= 1ull << 9;
    if (nd_bits < 16)
        m1 |= 0xffffull & ~((1ull << nd_bits) - 1);
    if (fl)
        m2 |= above(haw);
    if (!(ecap & VTD_ECAP_SRS))
        m2 |= 1ull << 0;
    if (!(ecap & VTD_ECAP_ERS))
        m2 |= 1ull << 1;
    if (!(ecap & VTD_ECAP_EAFS))
        m2 |= 1ull << 7;
    unsigned flpm = (unsigned)get(w2, 2, 2);
    if (flpm > 1 || (flpm == 1 && !(cap & VTD_CAP_FL5LP)))
        m2 |= 3ull << 2;
    rsvd[0] = w0 & m0;
    rsvd[1] = w1 & m1;
    rsvd[2] = w2 & m2;
    bool any = rsvd[0] || rsvd[1] || rsvd[2];
    for (unsigned q = 3; q < 8; q++) {
        rsvd[q] = sim_get_le64(raw + 8 * q);
        any = any || rsvd[q];
    }
    return any;
}

/* ---- first-level paging entries (9.7) ---- */

uint64_t vtd_fl_pte_encode(const struct vtd_fl_pte *p, unsigned level)
{
    bool large = (level == 2 || level == 3) && p->ps;
    uint64_t v = 0;
    v |= put(p->p, 0, 1);
    v |= put(p->rw, 1, 1);
    v |= put(p->us, 2, 1);
    v |= put(p->pwt, 3, 1);
    v |= put(p->pcd, 4, 1);
    v |= put(p->a, 5, 1);
    v |= put(p->d, 6, 1);
    v |= put(level == 1 ? p->pat : p->ps, 7, 1);
    v |= put(p->g, 8, 1);
    v |= put(p->ea, 10, 1);
    v |= p->addr & 0x000ffffffffff000ull & (large ? ~0x1000ull : ~0ull);
    if (large)
        v |= put(p->pat, 12, 1);
    v |= put(p->xd, 63, 1);
    return v;
}

void vtd_fl_pte_decode(uint64_t raw, unsigned level, struct vtd_fl_pte *p)
{
    bool large = level > 1 && vtd_fl_pte_is_leaf(raw, level);
    p->p = get(raw, 0, 1);
    p->rw = get(raw, 1, 1);
    p->us = get(raw, 2, 1);
    p->pwt = get(raw, 3, 1);
    p->pcd = get(raw, 4, 1);
    p->a = get(raw, 5, 1);
    p->d = get(raw, 6, 1);
    p->ps = level > 1 && get(raw, 7, 1);
    p->g = get(raw, 8, 1);
    p->ea = get(raw, 10, 1);
    p->addr = raw & 0x000ffffffffff000ull & (large ? ~0x1000ull : ~0ull);
    p->pat = level == 1 ? get(raw, 7, 1) : large ? get(raw, 12, 1) : false;
    p->xd = get(raw, 63, 1);
}

uint64_t vtd_fl_pte_reserved(uint64_t raw, unsigned level, unsigned haw, uint64_t cap)
{
    /* Address bits 51:haw; bits 62:52 are ignored (9.7). */
    uint64_t m = haw >= 52 ? 0 : (~0ull << haw) & 0x000ffffffffff000ull;
    bool ps = raw >> 7 & 1;
    if (level >= 4)
        m |= 1ull << 7;
    if (level == 3 && ps && !(cap & VTD_CAP_FL1GP))
        m |= 1ull << 7;
    if (level == 2 && ps)
        m |= 0x1fe000ull;   /* 2 MiB page: 20:13 */
    if (level == 3 && ps)
        m |= 0x3fffe000ull; /* 1 GiB page: 29:13 */
    return raw & m;
}

/* ---- fault recording register (10.4.14) ---- */

void vtd_fault_record_encode(const struct vtd_fault_record *f, uint8_t raw[VTD_FRCD_SIZE])
{
    uint64_t lo = f->fi & ADDR_63_12, hi = 0;
    hi |= put(f->sid, 0, 16);
    hi |= put(f->t2, 28, 1);
    hi |= put(f->priv, 29, 1);
    hi |= put(f->exe, 30, 1);
    hi |= put(f->pp, 31, 1);
    hi |= put(f->fr, 32, 8);
    hi |= put(f->pv, 40, 20);
    hi |= put(f->at, 60, 2);
    hi |= put(f->t1, 62, 1);
    hi |= put(f->f, 63, 1);
    sim_put_le64(raw, lo);
    sim_put_le64(raw + 8, hi);
}

void vtd_fault_record_decode(const uint8_t raw[VTD_FRCD_SIZE], struct vtd_fault_record *f)
{
    uint64_t lo = sim_get_le64(raw), hi = sim_get_le64(raw + 8);
    f->fi = lo & ADDR_63_12;
    f->sid = (uint16_t)get(hi, 0, 16);
    f->t2 = get(hi, 28, 1);
    f->priv = get(hi, 29, 1);
    f->exe = get(hi, 30, 1);
    f->pp = get(hi, 31, 1);
    f->fr = (uint8_t)get(hi, 32, 8);
    f->pv = (uint32_t)get(hi, 40, 20);
    f->at = (uint8_t)get(hi, 60, 2);
    f->t1 = get(hi, 62, 1);
    f->f = get(hi, 63, 1);
}

/* ---- fault reasons (7.2, 5.1.4.1) ---- */

const char *vtd_fault_reason_name(unsigned fr)
{
    switch (fr) {
    case 0x1: return "root entry not present";
    case 0x2: return "context entry not present";
    case 0x3: return "invalid context entry";
    case 0x4: return "address beyond the address width";
    case 0x5: return "write without write permission";
    case 0x6: return "read without read permission";
    case 0x7: return "error accessing a paging entry";
    case 0x8: return "error accessing the root table";
    case 0x9: return "error accessing the context table";
    case 0xa: return "reserved bits in the root entry";
    case 0xb: return "reserved bits in the context entry";
    case 0xc: return "reserved bits in a paging entry";
    case 0xd: return "translated request blocked by the translation type";
    case 0x20: return "reserved fields in the interrupt request";
    case 0x21: return "interrupt index beyond the table";
    case 0x22: return "interrupt remapping entry not present";
    case 0x23: return "error accessing the interrupt remapping table";
    case 0x24: return "reserved bits in the interrupt remapping entry";
    case 0x25: return "compatibility-format interrupt blocked";
    case 0x26: return "interrupt source-id verification failed";
    case 0x27: return "error accessing the posted interrupt descriptor";
    case 0x30: return "invalid root table address (scalable mode)";
    case 0x38: return "error accessing the scalable-mode root entry";
    case 0x39: return "scalable-mode root entry not present";
    case 0x3a: return "reserved bits in the scalable-mode root entry";
    case 0x40: return "error accessing the scalable-mode context entry";
    case 0x41: return "scalable-mode context entry not present";
    case 0x42: return "reserved bits in the scalable-mode context entry";
    case 0x44: return "translated request with DTE clear";
    case 0x45: return "request with PASID and PASIDE clear";
    case 0x46: return "PASID beyond the PASID directory";
    case 0x48: return "RID_PASID beyond the PASID directory";
    case 0x50: return "error accessing the PASID directory entry";
    case 0x51: return "PASID directory entry not present";
    case 0x52: return "reserved bits in the PASID directory entry";
    case 0x58: return "error accessing the PASID table entry";
    case 0x59: return "PASID table entry not present";
    case 0x5a: return "reserved bits in the PASID table entry";
    case 0x5b: return "invalid PASID table entry";
    case 0x5c: return "execute request with ERE clear";
    case 0x5d: return "supervisor request with SRE clear";
    case 0x70: return "error accessing a first-level paging entry";
    case 0x71: return "first-level paging entry not present";
    case 0x72: return "reserved bits in a first-level paging entry";
    case 0x78: return "error accessing a second-level paging entry";
    case 0x7a: return "reserved bits in a second-level paging entry";
    case 0x80: return "non-canonical first-level input address";
    case 0x81: return "user request to a supervisor page";
    case 0x82: return "execute request to an execute-disabled page";
    case 0x83: return "address beyond the address width (scalable mode)";
    case 0x85: return "write without write permission (scalable mode)";
    case 0x86: return "read without read permission (scalable mode)";
    default: return "reserved";
    }
}

bool vtd_fault_qualified(unsigned fr)
{
    switch (fr) {
    case 0x2: case 0x3: case 0x4: case 0x5: case 0x6: case 0x7: case 0xc: case 0xd:
    case 0x22: case 0x24: case 0x26: case 0x27:
        return true;
    case 0x41: case 0x51: case 0x59: case 0x90:
        return true;
    default:
        break;
    }
    return (fr >= 0x43 && fr <= 0x48) || (fr >= 0x5b && fr <= 0x5d) || (fr >= 0x70 && fr <= 0x87);
}

/* The strings Linux prints (drivers/iommu/intel/dmar.c; the same
 * dma_remap_fault_reasons and irq_remap_fault_reasons in the 4.x
 * drivers/iommu/dmar.c, read in v4.19). Kept verbatim: they are what the
 * host model prints, byte for byte. */
static const char *const linux_dma_reasons[] = {
    "Software",
    "Present bit in root entry is clear",
    "Present bit in context entry is clear",
    "Invalid context entry",
    "Access beyond MGAW",
    "PTE Write access is not set",
    "PTE Read access is not set",
    "Next page table ptr is invalid",
    "Root table address invalid",
    "Context table ptr is invalid",
    "non-zero reserved fields in RTP",
    "non-zero reserved fields in CTP",
    "non-zero reserved fields in PTE",
    "PCE for translation request specifies blocking",
};

static const char *const linux_irq_reasons[] = {
    "Detected reserved fields in the decoded interrupt-remapped request",
    "Interrupt index exceeded the interrupt-remapping table size",
    "Present field in the IRTE entry is clear",
    "Error accessing interrupt-remapping table pointed by IRTA_REG",
    "Detected reserved fields in the IRTE entry",
    "Blocked a compatibility format interrupt request",
    "Blocked an interrupt request due to source-id verification failure",
};

/* dma_remap_sm_fault_reasons, 0x30.. (v5.5+; NULL entries print "Unknown"). */
static const char *const linux_sm_reasons[] = {
    [0x00] = "SM: Invalid Root Table Address",
    [0x01] = "SM: TTM 0 for request with PASID",
    [0x02] = "SM: TTM 0 for page group request",
    [0x08] = "SM: Error attempting to access Root Entry",
    [0x09] = "SM: Present bit in Root Entry is clear",
    [0x0a] = "SM: Non-zero reserved field set in Root Entry",
    [0x10] = "SM: Error attempting to access Context Entry",
    [0x11] = "SM: Present bit in Context Entry is clear",
    [0x12] = "SM: Non-zero reserved field set in the Context Entry",
    [0x13] = "SM: Invalid Context Entry",
    [0x14] = "SM: DTE field in Context Entry is clear",
    [0x15] = "SM: PASID Enable field in Context Entry is clear",
    [0x16] = "SM: PASID is larger than the max in Context Entry",
    [0x17] = "SM: PRE field in Context-Entry is clear",
    [0x18] = "SM: RID_PASID field error in Context-Entry",
    [0x20] = "SM: Error attempting to access the PASID Directory Entry",
    [0x21] = "SM: Present bit in Directory Entry is clear",
    [0x22] = "SM: Non-zero reserved field set in PASID Directory Entry",
    [0x28] = "SM: Error attempting to access PASID Table Entry",
    [0x29] = "SM: Present bit in PASID Table Entry is clear",
    [0x2a] = "SM: Non-zero reserved field set in PASID Table Entry",
    [0x2b] = "SM: Invalid Scalable-Mode PASID Table Entry",
    [0x2c] = "SM: ERE field is clear in PASID Table Entry",
    [0x2d] = "SM: SRE field is clear in PASID Table Entry",
    [0x40] = "SM: Error attempting to access first-level paging entry",
    [0x41] = "SM: Present bit in first-level paging entry is clear",
    [0x42] = "SM: Non-zero reserved field set in first-level paging entry",
    [0x43] = "SM: Error attempting to access FL-PML4 entry",
    [0x44] = "SM: First-level entry address beyond MGAW in Nested translation",
    [0x45] = "SM: Read permission error in FL-PML4 entry in Nested translation",
    [0x46] = "SM: Read permission error in first-level paging entry in Nested translation",
    [0x47] = "SM: Write permission error in first-level paging entry in Nested translation",
    [0x48] = "SM: Error attempting to access second-level paging entry",
    [0x49] = "SM: Read/Write permission error in second-level paging entry",
    [0x4a] = "SM: Non-zero reserved field set in second-level paging entry",
    [0x4b] = "SM: Invalid second-level page table pointer",
    [0x4c] = "SM: A/D bit update needed in second-level entry when set up in no snoop",
    [0x50] = "SM: Address in first-level translation is not canonical",
    [0x51] = "SM: U/S set 0 for first-level translation with user privilege",
    [0x52] = "SM: No execute permission for request with PASID and ER=1",
    [0x53] = "SM: Address beyond the DMA hardware max",
    [0x54] = "SM: Second-level entry address beyond the max",
    [0x55] = "SM: No write permission for Write/AtomicOp request",
    [0x56] = "SM: No read permission for Read/AtomicOp request",
    [0x57] = "SM: Invalid address-interrupt address",
    [0x60] = "SM: A/D bit update needed in first-level entry when set up in no snoop",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *vtd_fault_reason_linux(unsigned fr, bool has_sm, enum vtd_linux_fault_type *type)
{
    enum vtd_linux_fault_type t = VTD_LINUX_UNKNOWN;
    const char *s = "Unknown";
    /* The order of Linux's tests: interrupt table, then SM table, then DMA. */
    if (fr >= 0x20 && fr - 0x20 < COUNT(linux_irq_reasons)) {
        t = VTD_LINUX_INTR_REMAP;
        s = linux_irq_reasons[fr - 0x20];
    } else if (has_sm && fr >= 0x30 && fr - 0x30 < COUNT(linux_sm_reasons)) {
        t = VTD_LINUX_DMA_REMAP;
        s = linux_sm_reasons[fr - 0x30] ? linux_sm_reasons[fr - 0x30] : "Unknown";
    } else if (fr < COUNT(linux_dma_reasons)) {
        t = VTD_LINUX_DMA_REMAP;
        s = linux_dma_reasons[fr];
    }
    if (type)
        *type = t;
    return s;
}

/* ---- invalidation descriptors (6.5.2) ---- */

const char *vtd_desc_name(unsigned type)
{
    switch (type) {
    case VTD_DESC_CC: return "context-cache invalidate";
    case VTD_DESC_IOTLB: return "IOTLB invalidate";
    case VTD_DESC_DEVTLB: return "device-TLB invalidate";
    case VTD_DESC_IEC: return "interrupt entry cache invalidate";
    case VTD_DESC_WAIT: return "invalidation wait";
    case VTD_DESC_PIOTLB: return "PASID-based IOTLB invalidate";
    case VTD_DESC_PC: return "PASID-cache invalidate";
    default: return "unknown";
    }
}

void vtd_inv_desc_encode(const struct vtd_inv_desc *d, uint8_t raw[VTD_DESC_SIZE])
{
    uint64_t lo = put(d->type, 0, 4), hi = 0;
    switch (d->type) {
    case VTD_DESC_CC:
        lo |= put(d->g, 4, 2) | put(d->did, 16, 16) | put(d->sid, 32, 16) | put(d->fm, 48, 2);
        break;
    case VTD_DESC_IOTLB:
        lo |= put(d->g, 4, 2) | put(d->dw, 6, 1) | put(d->dr, 7, 1) | put(d->did, 16, 16);
        hi |= put(d->am, 0, 6) | put(d->ih, 6, 1) | (d->addr & ADDR_63_12);
        break;
    case VTD_DESC_DEVTLB:
        lo |= put(d->pfsid, 12, 4) | put(d->qdep, 16, 5) | put(d->sid, 32, 16) |
              put(d->pfsid >> 4, 52, 12);
        hi |= put(d->s, 0, 1) | (d->addr & ADDR_63_12);
        break;
    case VTD_DESC_IEC:
        lo |= put(d->g, 4, 1) | put(d->im, 27, 5) | put(d->iidx, 32, 16);
        break;
    case VTD_DESC_WAIT:
        lo |= put(d->iflag, 4, 1) | put(d->sw, 5, 1) | put(d->fn, 6, 1) | put(d->pd, 7, 1) |
              put(d->status, 32, 32);
        hi |= d->status_addr & ~3ull;
        break;
    case VTD_DESC_PC:
        lo |= put(d->g, 4, 2) | put(d->did, 16, 16) | put(d->pasid, 32, 20);
        break;
    case VTD_DESC_PIOTLB:
        lo |= put(d->g, 4, 2) | put(d->did, 16, 16) | put(d->pasid, 32, 20);
        hi |= put(d->am, 0, 6) | put(d->ih, 6, 1) | (d->addr & ADDR_63_12);
        break;
    default:
        break;
    }
    sim_put_le64(raw, lo);
    sim_put_le64(raw + 8, hi);
}

static bool inv_desc_decode(const uint8_t *raw, bool sm, struct vtd_inv_desc *d,
                            uint64_t rsvd[2])
{
    uint64_t lo = sim_get_le64(raw), hi = sim_get_le64(raw + 8);
    uint64_t mlo, mhi;
    memset(d, 0, sizeof *d);
    d->type = (uint8_t)get(lo, 0, 4);
    switch (d->type) {
    case VTD_DESC_CC: /* 6.5.2.1: 15:6, 63:50, 127:64 reserved */
        d->g = (uint8_t)get(lo, 4, 2);
        d->did = (uint16_t)get(lo, 16, 16);
        d->sid = (uint16_t)get(lo, 32, 16);
        d->fm = (uint8_t)get(lo, 48, 2);
        mlo = 0xfffc00000000ffc0ull;
        mhi = ~0ull;
        break;
    case VTD_DESC_IOTLB: /* 6.5.2.3: 15:8, 63:32, 75:71 reserved */
        d->g = (uint8_t)get(lo, 4, 2);
        d->dw = get(lo, 6, 1);
        d->dr = get(lo, 7, 1);
        d->did = (uint16_t)get(lo, 16, 16);
        d->am = (uint8_t)get(hi, 0, 6);
        d->ih = get(hi, 6, 1);
        d->addr = hi & ADDR_63_12;
        mlo = 0xffffffff0000ff00ull;
        mhi = 0xf80ull;
        break;
    case VTD_DESC_DEVTLB: /* 6.5.2.5: 11:4, 31:21, 51:48, 75:65 reserved */
        d->pfsid = (uint16_t)(get(lo, 12, 4) | get(lo, 52, 12) << 4);
        d->qdep = (uint8_t)get(lo, 16, 5);
        d->sid = (uint16_t)get(lo, 32, 16);
        d->s = get(hi, 0, 1);
        d->addr = hi & ADDR_63_12;
        mlo = 0x000f0000ffe00ff0ull;
        mhi = 0xffeull;
        break;
    case VTD_DESC_IEC: /* 6.5.2.7: 26:5, 63:48, 127:64 reserved */
        d->g = (uint8_t)get(lo, 4, 1);
        d->im = (uint8_t)get(lo, 27, 5);
        d->iidx = (uint16_t)get(lo, 32, 16);
        mlo = 0xffff000007ffffe0ull;
        mhi = ~0ull;
        break;
    case VTD_DESC_WAIT: /* 6.5.2.8: 31:8 reserved, 65:64 reserved */
        d->iflag = get(lo, 4, 1);
        d->sw = get(lo, 5, 1);
        d->fn = get(lo, 6, 1);
        d->pd = get(lo, 7, 1);
        d->status = (uint32_t)get(lo, 32, 32);
        d->status_addr = hi & ~3ull;
        mlo = 0x00000000ffffff00ull;
        mhi = 0x3ull;
        break;
    case VTD_DESC_PC: /* 6.5.2.2: 15:6 (incl. type 11:9), 63:52, 127:64 reserved */
        if (!sm)
            goto unknown;
        d->g = (uint8_t)get(lo, 4, 2);
        d->did = (uint16_t)get(lo, 16, 16);
        d->pasid = (uint32_t)get(lo, 32, 20);
        mlo = 0xfff000000000ffc0ull;
        mhi = ~0ull;
        break;
    case VTD_DESC_PIOTLB: /* 6.5.2.4: 15:6 (incl. type 11:9), 63:52, 75:71 reserved */
        if (!sm)
            goto unknown;
        d->g = (uint8_t)get(lo, 4, 2);
        d->did = (uint16_t)get(lo, 16, 16);
        d->pasid = (uint32_t)get(lo, 32, 20);
        d->am = (uint8_t)get(hi, 0, 6);
        d->ih = get(hi, 6, 1);
        d->addr = hi & ADDR_63_12;
        mlo = 0xfff000000000ffc0ull;
        mhi = 0xf80ull;
        break;
    unknown:
    default: /* unknown (legacy mode: 6 and 7 too): the whole descriptor is reserved */
        mlo = ~0ull;
        mhi = ~0ull;
        break;
    }
    uint64_t rl = lo & mlo, rh = hi & mhi;
    if (rsvd) {
        rsvd[0] = rl;
        rsvd[1] = rh;
    }
    return rl || rh;
}

bool vtd_inv_desc_decode(const uint8_t raw[VTD_DESC_SIZE], struct vtd_inv_desc *d,
                         uint64_t rsvd[2])
{
    return inv_desc_decode(raw, false, d, rsvd);
}

bool vtd_inv_desc_decode_sm(const uint8_t *raw, bool dw, struct vtd_inv_desc *d,
                            uint64_t rsvd[4])
{
    uint64_t r[2];
    bool bad = inv_desc_decode(raw, true, d, r);
    uint64_t r2 = dw ? sim_get_le64(raw + 16) : 0, r3 = dw ? sim_get_le64(raw + 24) : 0;
    if (rsvd) {
        rsvd[0] = r[0];
        rsvd[1] = r[1];
        rsvd[2] = r2;
        rsvd[3] = r3;
    }
    return bad || r2 || r3;
}

/* ---- interrupt remapping (5.1, 9.10) ---- */

void vtd_irte_encode(const struct vtd_irte *e, uint8_t raw[VTD_IRTE_SIZE])
{
    uint64_t lo = 0, hi = 0;
    lo |= put(e->p, 0, 1);
    lo |= put(e->fpd, 1, 1);
    lo |= put(e->dm, 2, 1);
    lo |= put(e->rh, 3, 1);
    lo |= put(e->tm, 4, 1);
    lo |= put(e->dlm, 5, 3);
    lo |= put(e->avail, 8, 4);
    lo |= put(e->im, 15, 1);
    lo |= put(e->vector, 16, 8);
    lo |= put(e->dst, 32, 32);
    hi |= put(e->sid, 0, 16);
    hi |= put(e->sq, 16, 2);
    hi |= put(e->svt, 18, 2);
    sim_put_le64(raw, lo);
    sim_put_le64(raw + 8, hi);
}

void vtd_irte_decode(const uint8_t raw[VTD_IRTE_SIZE], struct vtd_irte *e)
{
    uint64_t lo = sim_get_le64(raw), hi = sim_get_le64(raw + 8);
    e->p = get(lo, 0, 1);
    e->fpd = get(lo, 1, 1);
    e->dm = get(lo, 2, 1);
    e->rh = get(lo, 3, 1);
    e->tm = get(lo, 4, 1);
    e->dlm = (uint8_t)get(lo, 5, 3);
    e->avail = (uint8_t)get(lo, 8, 4);
    e->im = get(lo, 15, 1);
    e->vector = (uint8_t)get(lo, 16, 8);
    e->dst = (uint32_t)get(lo, 32, 32);
    e->sid = (uint16_t)get(hi, 0, 16);
    e->sq = (uint8_t)get(hi, 16, 2);
    e->svt = (uint8_t)get(hi, 18, 2);
}

bool vtd_irte_reserved(const uint8_t raw[VTD_IRTE_SIZE], bool eime, uint64_t cap,
                       uint64_t rsvd[2])
{
    uint64_t lo = sim_get_le64(raw), hi = sim_get_le64(raw + 8);
    uint64_t mlo = 0x7000ull | 0xff000000ull; /* 14:12, 31:24 */
    uint64_t mhi = 0xfffffffffff00000ull;     /* 127:84 */
    if (!(cap & VTD_CAP_PI))
        mlo |= 1ull << 15;                    /* IM: posted format not supported */
    if (!eime)
        mlo |= 0xffff0000ull << 32 | 0xffull << 32; /* DST 63:48 and 39:32 */
    uint64_t rl = lo & mlo, rh = hi & mhi;
    if (get(hi, 18, 2) == 3)
        rh |= 3ull << 18;                     /* SVT 11b is reserved */
    if (rsvd) {
        rsvd[0] = rl;
        rsvd[1] = rh;
    }
    return rl || rh;
}

void vtd_msi_decode(uint64_t addr, uint32_t data, struct vtd_msi *m)
{
    memset(m, 0, sizeof *m);
    m->remappable = get(addr, 4, 1);
    if (m->remappable) {
        m->handle = (uint16_t)(get(addr, 5, 15) | get(addr, 2, 1) << 15);
        m->shv = get(addr, 3, 1);
        m->subhandle = m->shv ? (uint16_t)(data & 0xffff) : 0;
        m->index = (uint16_t)(m->handle + m->subhandle);
        m->rsvd = (data >> 16) != 0;
        return;
    }
    m->dest = (uint8_t)get(addr, 12, 8);
    m->rh = get(addr, 3, 1);
    m->dm = get(addr, 2, 1);
    m->vector = (uint8_t)(data & 0xff);
    m->dlm = (uint8_t)get(data, 8, 3);
    m->tm = get(data, 15, 1);
}

uint64_t vtd_msi_remap_addr(uint16_t handle, bool shv)
{
    return VTD_INTR_BASE | (uint64_t)(handle & 0x7fff) << 5 | 1ull << 4 |
           (uint64_t)shv << 3 | (uint64_t)(handle >> 15) << 2;
}

void vtd_irte_msi(const struct vtd_irte *e, bool eime, uint64_t *addr, uint32_t *data)
{
    uint32_t id = vtd_irte_apic_id(e->dst, eime);
    *addr = VTD_INTR_BASE | (uint64_t)(id & 0xff) << 12 | (uint64_t)e->rh << 3 |
            (uint64_t)e->dm << 2 | (uint64_t)(id & 0xffffff00u) << 32;
    *data = e->vector | (uint32_t)(e->dlm & 7) << 8 | (uint32_t)e->tm << 14 |
            (uint32_t)e->tm << 15;
}
