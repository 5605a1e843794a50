/* The VT-d remapping unit model: see vtd.h for what it does and the
 * decisions it takes where the specification leaves room. */
#include "iommu/vtd.h"

#include "sim/bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

struct ctx_slot {
    bool valid;
    bool walks;          /* TT 00/01: untranslated requests go to the IOTLB (fast path) */
    uint8_t levels;      /* 3, 4, 5 */
    uint8_t in_bits;     /* min(MGAW, AGAW): input addresses must fit */
    uint16_t sid;
    bool sm;             /* a scalable-mode context entry, in vtd.smc at the same
                            index (walks is false) */
    struct vtd_context_entry ce; /* the slot stays 32 bytes: the fast path indexes it */
};

/* The PASID cache (6.2.1 "PASID-cache"): a present, valid PASID table entry
 * found through the scalable-mode context entry of sid, with the walk's
 * parameters. Direct-mapped by source ID and PASID. */
struct pasid_slot {
    bool valid;
    bool fpd;            /* FPD of the context, directory or table entry */
    uint8_t levels;      /* second-level 3-5 (AW) or first-level 4-5 (FLPM) */
    uint8_t in_bits;     /* second level: min(MGAW, AGAW) */
    uint16_t sid;
    uint32_t pasid;
    struct vtd_pasid_entry pe;
};

struct irte_slot {
    bool valid;
    uint16_t index;
    struct vtd_irte e;
};

struct frcd {
    uint64_t lo, hi;
};

struct vtd {
    struct iommu io;
    struct vtd_config cfg;
    struct pcilab_sim *sim;
    struct mem_phys *mem;
    struct mem_addrmap *map;
    uint64_t ram_gen, ram_lo, ram_hi; /* mem_rd's remembered RAM region (lo > hi: none) */
    struct iommu_iotlb *tlb;
    struct ctx_slot *ctc;
    struct vtd_sm_context_entry *smc; /* scalable-mode context entries of ctc's slots */
    unsigned ctc_mask;
    struct irte_slot *irc;
    unsigned irc_mask;
    struct pasid_slot *pc;
    unsigned pc_mask;
    unsigned ttm;                /* RTADDR.TTM latched by SRTP (00 without ECAP.SMTS) */
    sim_time_t hit_lat, walk_lat;
    unsigned iro, fro, nfr, mgaw, nd_bits;
    /* Reserved bits of a present second-level entry by level and PS bit:
     * vtd_sl_pte_reserved of an all-ones entry, computed once (9.8). */
    uint64_t pte_rsvd[6][2];
    /* The same for first-level entries (9.7). */
    uint64_t fl_rsvd[6][2];
    /* Registers (10.4). */
    uint32_t gsts, fsts, fectl, fedata, feaddr, feuaddr;
    uint32_t pmen, plmbase, plmlimit;
    uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
    uint64_t rtaddr, rta;        /* RTADDR as written; the root table latched by SRTP */
    uint64_t ccmd, aflog, phmbase, phmlimit;
    uint64_t iqh, iqt, iqa, iqercd;
    uint64_t irta, irta_act;     /* IRTA as written; latched by SIRTP */
    uint64_t iva, iotlb_reg;
    struct frcd *frcd;
    unsigned next_fr;            /* where the next fault is recorded (7.3.1) */
    unsigned f_count;            /* fault recording registers with F set: PPF */
    unsigned fri;
    struct vtd_stats st;
};

/* ---- memory ---- */

/* The slow part of mem_rd: a read across a page, or outside the remembered
 * RAM region. */
static __attribute__((noinline)) int mem_rd_slow(struct vtd *v, uint64_t pa, void *buf,
                                                 size_t len)
{
    if (v->ram_gen == mem_addrmap_generation(v->map) && pa >= v->ram_lo && pa <= v->ram_hi &&
        len - 1 <= v->ram_hi - pa)
        return mem_phys_read(v->mem, pa, buf, len, NULL);
    const struct mem_region *r = mem_addrmap_lookup(v->map, pa);
    if (r && r->kind == MEM_REGION_RAM) {
        v->ram_gen = mem_addrmap_generation(v->map);
        v->ram_lo = r->base;
        v->ram_hi = mem_region_last(r);
    }
    return mem_addrmap_read(v->map, pa, buf, len, NULL);
}

/* Reads simulated memory as the unit's own master; < 0 on an unclaimed or
 * refusing address. The RAM region of the last read is remembered (as the
 * AMD-Vi model does) so that table reads skip the address map's search.
 * Always inlined: each caller's constant len makes the copy a few moves
 * (a variable-length copy is a `rep movs`, which doubled a walk's time). */
static inline __attribute__((always_inline)) int mem_rd(struct vtd *v, uint64_t pa, void *buf,
                                                        size_t len)
{
    if (v->ram_gen == mem_addrmap_generation(v->map) && pa >= v->ram_lo && pa <= v->ram_hi &&
        len - 1 <= v->ram_hi - pa && (pa & MEM_PAGE_MASK) + len <= MEM_PAGE_SIZE) {
        const uint8_t *pg = mem_phys_peek(v->mem, pa);
        if (pg)
            memcpy(buf, pg + (pa & MEM_PAGE_MASK), len);
        else
            memset(buf, 0, len);
        return 0;
    }
    return mem_rd_slow(v, pa, buf, len);
}

/* One 64-bit table entry. */
static inline int rd64(struct vtd *v, uint64_t pa, uint64_t *e)
{
    uint8_t b[8];
    if (mem_rd(v, pa, b, 8) < 0)
        return -1;
    *e = sim_get_le64(b);
    return 0;
}

/* ---- interrupts: fault event and invalidation completion event ---- */

static void send_msi(struct vtd *v, enum vtd_event ev, uint32_t addr_lo, uint32_t addr_hi,
                     uint32_t data)
{
    v->st.msis++;
    if (v->cfg.msi)
        v->cfg.msi(v->cfg.msi_ctx, ev, (uint64_t)addr_hi << 32 | addr_lo, data);
}

#define FSTS_EVENT_BITS (VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | VTD_FSTS_IQE | \
                         VTD_FSTS_ICE | VTD_FSTS_ITE)

static inline uint32_t fsts_now(const struct vtd *v)
{
    uint32_t f = v->fsts;
    if (v->f_count)
        f |= VTD_FSTS_PPF | (v->fri << VTD_FSTS_FRI_SHIFT);
    return f;
}

/* An interrupt condition of the fault event (10.4.10). */
static void fault_event(struct vtd *v)
{
    v->st.fault_events++;
    v->fectl |= VTD_ECTL_IP;
    if (!(v->fectl & VTD_ECTL_IM)) {
        send_msi(v, VTD_EVENT_FAULT, v->feaddr, v->feuaddr, v->fedata);
        v->fectl &= ~VTD_ECTL_IP;
    }
}

/* IP clears once software has cleared every status field (10.4.10). */
static void fault_status_serviced(struct vtd *v)
{
    if (!(fsts_now(v) & (FSTS_EVENT_BITS | VTD_FSTS_PPF)))
        v->fectl &= ~VTD_ECTL_IP;
}

/* Sets FSTS bits; a new interrupt condition only when none was set (10.4.10). */
static void fault_status_set(struct vtd *v, uint32_t bits)
{
    bool quiet = !(fsts_now(v) & (FSTS_EVENT_BITS | VTD_FSTS_PPF));
    v->fsts |= bits;
    if (quiet)
        fault_event(v);
}

/* Primary fault logging (7.3.1). True when recorded. */
static bool record_fault(struct vtd *v, const struct vtd_fault_record *f)
{
    if (v->fsts & VTD_FSTS_PFO) {
        /* Overflowed: no recording until software clears PFO. */
        v->st.faults_dropped++;
        return false;
    }
    struct frcd *r = &v->frcd[v->next_fr];
    if (r->hi >> 63) { /* the next register is still full: overflow */
        v->st.faults_dropped++;
        fault_status_set(v, VTD_FSTS_PFO);
        return false;
    }
    bool quiet = !(fsts_now(v) & (FSTS_EVENT_BITS | VTD_FSTS_PPF));
    uint8_t raw[VTD_FRCD_SIZE];
    struct vtd_fault_record rec = *f;
    rec.f = true;
    vtd_fault_record_encode(&rec, raw);
    r->lo = sim_get_le64(raw);
    r->hi = sim_get_le64(raw + 8);
    if (v->f_count++ == 0)
        v->fri = v->next_fr;
    v->next_fr = (v->next_fr + 1) % v->nfr;
    v->st.faults_recorded++;
    if (quiet)
        fault_event(v);
    return true;
}

/* ---- caches ---- */

static void ctx_flush_all(struct vtd *v)
{
    for (unsigned i = 0; i <= v->ctc_mask; i++)
        v->ctc[i].valid = false;
}

static void irte_flush_all(struct vtd *v)
{
    for (unsigned i = 0; i <= v->irc_mask; i++)
        v->irc[i].valid = false;
}

/* Context-cache invalidation (6.5.1.1, 6.5.2.1). */
static void ctx_invalidate(struct vtd *v, unsigned gran, uint16_t did, uint16_t sid, unsigned fm)
{
    v->st.ctx_invalidations++;
    if (gran == VTD_GRAN_GLOBAL) {
        ctx_flush_all(v);
        return;
    }
    /* FM: 00 none, 01 mask SID bit 2, 10 bits 2:1, 11 bits 2:0 (10.4.7). */
    static const uint16_t fm_mask[4] = {0xffff, 0xfffb, 0xfff9, 0xfff8};
    for (unsigned i = 0; i <= v->ctc_mask; i++) {
        struct ctx_slot *s = &v->ctc[i];
        if (!s->valid)
            continue;
        /* A scalable-mode context entry has no DID: a domain-selective
         * invalidation drops every one (more than asked, which 6.5 allows). */
        if (gran == VTD_GRAN_DOMAIN ? (s->sm || s->ce.did == did)
                                    : (s->sid & fm_mask[fm & 3]) == (sid & fm_mask[fm & 3]))
            s->valid = false;
    }
}

/* IOTLB invalidation (6.5.1.2, 6.5.2.3). Returns the granularity done. */
static unsigned iotlb_invalidate(struct vtd *v, unsigned gran, uint16_t did, uint64_t addr,
                                 unsigned am)
{
    v->st.iotlb_invalidations++;
    switch (gran) {
    case VTD_GRAN_GLOBAL:
        iommu_iotlb_flush_all(v->tlb);
        return VTD_GRAN_GLOBAL;
    case VTD_GRAN_DOMAIN:
        iommu_iotlb_flush_domain(v->tlb, did);
        return VTD_GRAN_DOMAIN;
    case VTD_GRAN_PAGE:
        if (!(v->cfg.cap & VTD_CAP_PSI) || am > vtd_cap_mamv(v->cfg.cap)) {
            /* done at the coarser domain granularity, reported as such */
            iommu_iotlb_flush_domain(v->tlb, did);
            return VTD_GRAN_DOMAIN;
        }
        {
            uint64_t size = 1ull << (12 + am);
            iommu_iotlb_flush_range(v->tlb, did, IOMMU_IOTLB_NO_PASID, addr & ~(size - 1), size);
        }
        return VTD_GRAN_PAGE;
    default:
        return 0;
    }
}

/* Interrupt entry cache invalidation (6.5.2.7). */
static void iec_invalidate(struct vtd *v, bool selective, uint16_t index, unsigned im)
{
    v->st.iec_invalidations++;
    if (!selective) {
        irte_flush_all(v);
        return;
    }
    uint32_t n = 1u << im, base = index & ~(n - 1);
    for (unsigned i = 0; i <= v->irc_mask; i++)
        if (v->irc[i].valid && v->irc[i].index >= base && v->irc[i].index - base < n)
            v->irc[i].valid = false;
}

/* ---- translation (3.4, 3.7) ---- */

static void res_init(struct iommu_result *res)
{
    memset(res, 0, sizeof *res);
    res->cpl = PCIE_CPL_SC;
}

static void pass(struct iommu_result *res, const struct iommu_req *req, uint8_t perm)
{
    res->ok = true;
    res->pa = req->addr;
    res->perm = perm;
    res->page_shift = 64;
    res->cpl = PCIE_CPL_SC;
}

static void refuse(struct iommu_result *res, enum iommu_fault_kind kind)
{
    res->ok = false;
    res->fault = kind;
    res->cpl = PCIE_CPL_UR;
}

static enum iommu_fault_kind fr_kind(unsigned fr)
{
    switch (fr) {
    case VTD_FR_ROOT_P: case VTD_FR_CTX_P: return IOMMU_FAULT_DEVICE_INVALID;
    case VTD_FR_CTX_INVALID: case VTD_FR_ROOT_RSVD: case VTD_FR_CTX_RSVD:
        return IOMMU_FAULT_DEVICE_ENTRY;
    case VTD_FR_BEYOND_AW: return IOMMU_FAULT_ADDRESS;
    case VTD_FR_PT_ACCESS: case VTD_FR_ROOT_ACCESS: case VTD_FR_CTX_ACCESS:
        return IOMMU_FAULT_HW_ERROR;
    case VTD_FR_PTE_RSVD: return IOMMU_FAULT_PAGE_TABLE;
    case VTD_FR_TT_BLOCKED: return IOMMU_FAULT_TRANSLATED;
    default: return IOMMU_FAULT_PERMISSION;
    }
}

/* A DMA remapping fault of reason fr for req, recorded unless fpd (the
 * entry's FPD; false when none was read) suppresses a qualified one; in
 * scalable mode (sm) the record carries the PASID (PP, PV) and PRIV when the
 * request had a PASID prefix (10.4.14). */
static void record_dma_fault(struct vtd *v, const struct iommu_req *req, unsigned fr, bool fpd,
                             enum iommu_fault_kind kind, bool sm, struct iommu_result *res)
{
    refuse(res, kind);
    res->arch_code = (uint16_t)fr;
    if (fpd && vtd_fault_qualified(fr)) {
        v->st.faults_suppressed++;
        return;
    }
    bool pasid = sm && req->has_pasid;
    struct vtd_fault_record f = {
        .fi = req->addr & ~0xfffull, .sid = req->rid, .fr = (uint8_t)fr,
        .t1 = !(req->access & IOMMU_PERM_W), .at = req->translated ? 2 : 0,
        .exe = (req->access & IOMMU_PERM_X) != 0,
        .pp = pasid, .pv = pasid ? req->pasid & 0xfffff : 0, .priv = pasid && req->priv,
    };
    res->logged = record_fault(v, &f);
}

/* Legacy mode: `kind` overrides the reason's own kind (fr_kind) when not
 * NONE. */
static void dma_fault(struct vtd *v, const struct iommu_req *req, unsigned fr, bool fpd,
                      enum iommu_fault_kind kind, struct iommu_result *res)
{
    record_dma_fault(v, req, fr, fpd, kind != IOMMU_FAULT_NONE ? kind : fr_kind(fr), false, res);
}

/* Reason for an access the rights `perm` do not allow (legacy mode: 5 for a
 * write, 6 for a read; not-present entries included, 7.2). */
static inline unsigned perm_reason(const struct iommu_req *req)
{
    return (req->access & IOMMU_PERM_W) ? VTD_FR_WRITE : VTD_FR_READ;
}

static inline uint8_t want_perm(const struct iommu_req *req)
{
    uint8_t w = req->access & (IOMMU_PERM_R | IOMMU_PERM_W);
    if (req->access & IOMMU_PERM_X)
        w |= IOMMU_PERM_R; /* legacy mode has no execute right: execute needs read */
    return w;
}

static inline void translated(struct iommu_result *res, const struct iommu_req *req, uint64_t pa,
                              unsigned shift, uint8_t perm)
{
    res->ok = true;
    res->pa = pa | (req->addr & ((1ull << shift) - 1));
    res->perm = perm;
    res->page_shift = (uint8_t)shift;
}

enum walk_status { WALK_OK, WALK_NP, WALK_RSVD, WALK_ERR };

struct walk_out {
    uint64_t pa;
    unsigned shift;
    uint8_t perm;
    unsigned reads;
};

/* Second-level walk (3.7, 9.8) from the context entry's SLPTPTR. */
/* Always inlined: its legacy caller keeps `w` in registers, as before
 * scalable mode added a second caller. */
static inline __attribute__((always_inline)) enum walk_status
walk(struct vtd *v, uint64_t table, unsigned levels, uint64_t addr, struct walk_out *w)
{
    uint8_t perm = IOMMU_PERM_R | IOMMU_PERM_W;
    w->reads = 0;
    for (unsigned level = levels; level >= 1; level--) {
        unsigned shift = vtd_level_shift(level);
        uint64_t e;
        w->reads++;
        if (rd64(v, table + (((addr >> shift) & 0x1ff) << 3), &e) < 0)
            return WALK_ERR;
        if (!vtd_sl_pte_present(e))
            return WALK_NP;
        if (e & v->pte_rsvd[level][e >> 7 & 1])
            return WALK_RSVD;
        perm &= (uint8_t)((e & 1 ? IOMMU_PERM_R : 0) | (e & 2 ? IOMMU_PERM_W : 0));
        uint64_t a = e & 0x000ffffffffff000ull;
        if (vtd_sl_pte_is_leaf(e, level)) {
            w->shift = shift;
            w->pa = a & ~((1ull << shift) - 1);
            w->perm = perm;
            return WALK_OK;
        }
        table = a;
    }
    return WALK_NP; /* not reached: level 1 is always a leaf */
}

/* An IOTLB miss: walk, cache, check the access. */
static void miss_walk(struct vtd *v, const struct iommu_req *req, const struct ctx_slot *s,
                      struct iommu_result *res)
{
    if (s->in_bits < 64 && (req->addr >> s->in_bits) != 0) {
        dma_fault(v, req, VTD_FR_BEYOND_AW, s->ce.fpd, IOMMU_FAULT_NONE, res);
        return;
    }
    struct walk_out w = {0};
    enum walk_status ws = walk(v, s->ce.slptptr, s->levels, req->addr, &w);
    v->st.table_reads += w.reads;
    res->latency += v->hit_lat + w.reads * v->walk_lat;
    switch (ws) {
    case WALK_OK:
        break;
    case WALK_NP:
        dma_fault(v, req, perm_reason(req), s->ce.fpd, IOMMU_FAULT_NOT_PRESENT, res);
        return;
    case WALK_RSVD:
        dma_fault(v, req, VTD_FR_PTE_RSVD, s->ce.fpd, IOMMU_FAULT_NONE, res);
        return;
    case WALK_ERR:
        dma_fault(v, req, VTD_FR_PT_ACCESS, s->ce.fpd, IOMMU_FAULT_NONE, res);
        return;
    }
    iommu_iotlb_insert_missed(v->tlb, s->ce.did, IOMMU_IOTLB_NO_PASID, req->addr, w.pa, w.shift,
                              w.perm);
    uint8_t want = want_perm(req);
    if ((want & w.perm) != want) {
        dma_fault(v, req, (want & IOMMU_PERM_W) && !(w.perm & IOMMU_PERM_W) ? VTD_FR_WRITE
                                                                              : VTD_FR_READ,
                  s->ce.fpd, IOMMU_FAULT_PERMISSION, res);
        return;
    }
    translated(res, req, w.pa, w.shift, w.perm);
}

/* The context of sid from the cache or the root and context tables. NULL
 * after a fault was reported into res. */
static const struct ctx_slot *ctx_get(struct vtd *v, const struct iommu_req *req,
                                      struct iommu_result *res)
{
    uint16_t sid = req->rid;
    struct ctx_slot *s = &v->ctc[sid & v->ctc_mask];
    if (s->valid && s->sid == sid && !s->sm)
        return s;
    uint8_t raw[16];
    uint64_t rsvd[2];
    /* Root entry (9.1): by bus. Faults here precede any FPD. */
    res->latency += v->walk_lat;
    v->st.root_reads++;
    if (mem_rd(v, v->rta + (uint64_t)(sid >> 8) * VTD_ROOT_ENTRY_SIZE, raw, 16) < 0) {
        dma_fault(v, req, VTD_FR_ROOT_ACCESS, false, IOMMU_FAULT_NONE, res);
        return NULL;
    }
    struct vtd_root_entry re;
    vtd_root_entry_decode(raw, &re);
    if (!re.p) {
        dma_fault(v, req, VTD_FR_ROOT_P, false, IOMMU_FAULT_NONE, res);
        return NULL;
    }
    if (vtd_root_entry_reserved(raw, v->cfg.haw, rsvd)) {
        dma_fault(v, req, VTD_FR_ROOT_RSVD, false, IOMMU_FAULT_NONE, res);
        return NULL;
    }
    /* Context entry (9.3): by devfn. */
    res->latency += v->walk_lat;
    v->st.ctx_reads++;
    if (mem_rd(v, re.ctp + (uint64_t)(sid & 0xff) * VTD_CTX_ENTRY_SIZE, raw, 16) < 0) {
        dma_fault(v, req, VTD_FR_CTX_ACCESS, false, IOMMU_FAULT_NONE, res);
        return NULL;
    }
    struct vtd_context_entry ce;
    vtd_context_entry_decode(raw, &ce);
    res->domain = ce.did;
    if (!ce.p) { /* qualified: the entry's FPD bit as read */
        dma_fault(v, req, VTD_FR_CTX_P, ce.fpd, IOMMU_FAULT_NONE, res);
        return NULL;
    }
    if (vtd_context_entry_reserved(raw, v->cfg.haw, v->nd_bits, rsvd)) {
        dma_fault(v, req, VTD_FR_CTX_RSVD, ce.fpd, IOMMU_FAULT_NONE, res);
        return NULL;
    }
    bool ok;
    switch (ce.tt) {
    case VTD_TT_SLT: ok = true; break;
    case VTD_TT_SLT_DEVTLB: ok = v->cfg.ecap & VTD_ECAP_DT; break;
    case VTD_TT_PT: ok = v->cfg.ecap & VTD_ECAP_PT; break;
    default: ok = false; break;
    }
    if (ok && ce.tt != VTD_TT_PT)
        ok = ce.aw >= VTD_AW_39 && ce.aw <= VTD_AW_57 && (vtd_cap_sagaw(v->cfg.cap) >> ce.aw & 1);
    if (!ok) {
        dma_fault(v, req, VTD_FR_CTX_INVALID, ce.fpd, IOMMU_FAULT_NONE, res);
        return NULL;
    }
    s->valid = true;
    s->sid = sid;
    s->sm = false;
    s->ce = ce;
    s->walks = ce.tt != VTD_TT_PT;
    s->levels = (uint8_t)vtd_aw_levels(ce.aw);
    unsigned agaw = vtd_aw_bits(ce.aw);
    s->in_bits = (uint8_t)(agaw < v->mgaw ? agaw : v->mgaw);
    return s;
}

static inline bool in_window(uint64_t addr)
{
    return addr >= VTD_INTR_BASE && addr <= VTD_INTR_LAST;
}

/* Protected memory ranges (10.4.16-10.4.20), checked when TE = 0. */
static bool pmr_blocks(const struct vtd *v, uint64_t addr)
{
    if (!(v->pmen & VTD_PMEN_EPM))
        return false;
    if ((v->cfg.cap & VTD_CAP_PLMR) && addr < (1ull << 32)) {
        uint64_t lo = v->plmbase & 0xfff00000u, hi = (uint64_t)v->plmlimit | 0xfffff;
        if (addr >= lo && addr <= hi && v->plmlimit >= v->plmbase)
            return true;
    }
    if (v->cfg.cap & VTD_CAP_PHMR) {
        uint64_t lo = v->phmbase & ~0xfffffull, hi = v->phmlimit | 0xfffff;
        if (addr >= lo && addr <= hi && v->phmlimit >= v->phmbase)
            return true;
    }
    return false;
}

static void sm_translate(struct vtd *v, const struct iommu_req *req, struct iommu_result *res);

static void vtd_translate(void *hw, const struct iommu_req *req, struct iommu_result *res)
{
    struct vtd *v = hw;
    res_init(res);
    if (!(v->gsts & VTD_GSTS_TES)) {
        if (pmr_blocks(v, req->addr)) {
            refuse(res, IOMMU_FAULT_REQUEST);
            return;
        }
        pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
        return;
    }
    /* The fast path: an untranslated request from a device whose cached
     * context walks second-level tables, to an address below the window. */
    const struct ctx_slot *s = &v->ctc[req->rid & v->ctc_mask];
    /* (an address below the window or above it: one compare) */
    if (s->valid && s->sid == req->rid && s->walks && !req->translated &&
        req->addr - VTD_INTR_BASE > VTD_INTR_LAST - VTD_INTR_BASE) {
        res->domain = s->ce.did;
        const struct iommu_iotlb_entry *e =
            iommu_iotlb_lookup(v->tlb, s->ce.did, IOMMU_IOTLB_NO_PASID, req->addr);
        if (e) {
            uint8_t want = want_perm(req);
            res->latency = v->hit_lat;
            res->iotlb_hit = true;
            if ((want & e->perm) != want) {
                dma_fault(v, req,
                          (want & IOMMU_PERM_W) && !(e->perm & IOMMU_PERM_W) ? VTD_FR_WRITE
                                                                             : VTD_FR_READ,
                          s->ce.fpd, IOMMU_FAULT_PERMISSION, res);
                return;
            }
            translated(res, req, e->pa, e->page_shift, e->perm);
            return;
        }
        miss_walk(v, req, s, res);
        return;
    }
    if (in_window(req->addr) && !req->translated) {
        /* Chapter 3, "Handling Requests to Interrupt Address Range": the
         * interrupt window is never translated; a read there is
         * not an interrupt: unsupported request, nothing recorded. */
        refuse(res, IOMMU_FAULT_REQUEST);
        return;
    }
    if (v->ttm != VTD_TTM_LEGACY) {
        sm_translate(v, req, res);
        return;
    }
    s = ctx_get(v, req, res);
    if (!s)
        return;
    res->domain = s->ce.did;
    if (req->translated) { /* AT = 10b: only TT 01 lets it through (9.3, reason 0xd) */
        if (s->ce.tt == VTD_TT_SLT_DEVTLB) {
            pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
            return;
        }
        dma_fault(v, req, VTD_FR_TT_BLOCKED, s->ce.fpd, IOMMU_FAULT_NONE, res);
        return;
    }
    if (!s->walks) { /* TT 10b: pass-through */
        pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
        return;
    }
    const struct iommu_iotlb_entry *e =
        iommu_iotlb_lookup(v->tlb, s->ce.did, IOMMU_IOTLB_NO_PASID, req->addr);
    if (!e) {
        miss_walk(v, req, s, res);
        return;
    }
    uint8_t want = want_perm(req);
    res->latency += v->hit_lat;
    res->iotlb_hit = true;
    if ((want & e->perm) != want) {
        dma_fault(v, req, (want & IOMMU_PERM_W) && !(e->perm & IOMMU_PERM_W) ? VTD_FR_WRITE
                                                                               : VTD_FR_READ,
                  s->ce.fpd, IOMMU_FAULT_PERMISSION, res);
        return;
    }
    translated(res, req, e->pa, e->page_shift, e->perm);
}

/* ---- scalable mode (RTADDR.TTM = 01b: 3.x, 9.2, 9.4-9.7) ---- */

static void pasid_flush_all(struct vtd *v)
{
    if (!v->pc)
        return; /* no ECAP.SMTS */
    for (unsigned i = 0; i <= v->pc_mask; i++)
        v->pc[i].valid = false;
}

/* PASID-cache invalidation (6.5.2.2): every PASID of did, did and pasid, or
 * everything. */
static void pasid_invalidate(struct vtd *v, unsigned g, uint16_t did, uint32_t pasid)
{
    v->st.pc_invalidations++;
    for (unsigned i = 0; i <= v->pc_mask; i++) {
        struct pasid_slot *p = &v->pc[i];
        if (p->valid && (g == VTD_PC_G_GLOBAL ||
                         (p->pe.did == did && (g == VTD_PC_G_DOMAIN || p->pasid == pasid))))
            p->valid = false;
    }
}

static inline unsigned pc_index(const struct vtd *v, uint16_t sid, uint32_t pasid)
{
    return (sid ^ pasid * 0x9e3779b1u) & v->pc_mask;
}

/* A scalable-mode fault: the record carries the PASID (PP, PV) and PRIV
 * when the request had a PASID prefix (10.4.14). */
static void sm_fault(struct vtd *v, const struct iommu_req *req, unsigned fr, bool fpd,
                     enum iommu_fault_kind kind, struct iommu_result *res)
{
    record_dma_fault(v, req, fr, fpd, kind, true, res);
}

/* The scalable-mode context of sid (9.2, 9.4): from the cache or the root
 * entry's lower (devfn 0-127) or upper half and its 256-bit context entry. */
static const struct vtd_sm_context_entry *sm_ctx_get(struct vtd *v, const struct iommu_req *req,
                                                     struct iommu_result *res)
{
    uint16_t sid = req->rid;
    struct ctx_slot *s = &v->ctc[sid & v->ctc_mask];
    if (s->valid && s->sid == sid && s->sm)
        return &v->smc[sid & v->ctc_mask];
    uint8_t raw[VTD_SM_CTX_ENTRY_SIZE];
    uint64_t rsvd[4];
    res->latency += v->walk_lat;
    v->st.root_reads++;
    if (mem_rd(v, v->rta + (uint64_t)(sid >> 8) * VTD_ROOT_ENTRY_SIZE, raw, 16) < 0) {
        sm_fault(v, req, VTD_FR_SM_ROOT_ACCESS, false, IOMMU_FAULT_HW_ERROR, res);
        return NULL;
    }
    struct vtd_sm_root_entry re;
    vtd_sm_root_entry_decode(raw, &re);
    bool upper = (sid & 0xff) >= 128;
    if (!(upper ? re.up : re.lp)) {
        sm_fault(v, req, VTD_FR_SM_ROOT_P, false, IOMMU_FAULT_DEVICE_INVALID, res);
        return NULL;
    }
    if (vtd_sm_root_entry_reserved(raw, upper, v->cfg.haw)) {
        sm_fault(v, req, VTD_FR_SM_ROOT_RSVD, false, IOMMU_FAULT_DEVICE_ENTRY, res);
        return NULL;
    }
    res->latency += v->walk_lat;
    v->st.ctx_reads++;
    uint64_t ctp = upper ? re.uctp : re.lctp;
    if (mem_rd(v, ctp + (uint64_t)(sid & 0x7f) * VTD_SM_CTX_ENTRY_SIZE, raw, sizeof raw) < 0) {
        sm_fault(v, req, VTD_FR_SM_CTX_ACCESS, false, IOMMU_FAULT_HW_ERROR, res);
        return NULL;
    }
    struct vtd_sm_context_entry ce;
    vtd_sm_context_entry_decode(raw, &ce);
    if (!ce.p) { /* qualified: the entry's FPD as read, as in legacy mode */
        sm_fault(v, req, VTD_FR_SM_CTX_P, ce.fpd, IOMMU_FAULT_DEVICE_INVALID, res);
        return NULL;
    }
    if (vtd_sm_context_entry_reserved(raw, v->cfg.haw, v->cfg.ecap, rsvd)) {
        sm_fault(v, req, VTD_FR_SM_CTX_RSVD, ce.fpd, IOMMU_FAULT_DEVICE_ENTRY, res);
        return NULL;
    }
    s->valid = true;
    s->sid = sid;
    s->sm = true;
    s->walks = false; /* never the legacy fast path */
    v->smc[sid & v->ctc_mask] = ce;
    return &v->smc[sid & v->ctc_mask];
}

/* The PASID table entry of (sid, pasid) from the PASID cache or the PASID
 * directory (9.5, PASID[19:6]) and table (9.6, PASID[5:0]). */
static const struct pasid_slot *pasid_get(struct vtd *v, const struct iommu_req *req,
                                          const struct vtd_sm_context_entry *ce, uint32_t pasid,
                                          struct iommu_result *res)
{
    struct pasid_slot *p = &v->pc[pc_index(v, req->rid, pasid)];
    if (p->valid && p->sid == req->rid && p->pasid == pasid)
        return p;
    bool fpd = ce->fpd;
    uint64_t e;
    res->latency += v->walk_lat;
    v->st.pasid_reads++;
    if (rd64(v, ce->pasiddirptr + (uint64_t)(pasid >> 6) * VTD_PASID_DIR_ENTRY_SIZE, &e) < 0) {
        sm_fault(v, req, VTD_FR_SM_PDE_ACCESS, fpd, IOMMU_FAULT_HW_ERROR, res);
        return NULL;
    }
    struct vtd_pasid_dir_entry de;
    vtd_pasid_dir_entry_decode(e, &de);
    fpd = fpd || de.fpd;
    if (!de.p) {
        sm_fault(v, req, VTD_FR_SM_PDE_P, fpd, IOMMU_FAULT_DEVICE_INVALID, res);
        return NULL;
    }
    if (vtd_pasid_dir_entry_reserved(e, v->cfg.haw)) {
        sm_fault(v, req, VTD_FR_SM_PDE_RSVD, fpd, IOMMU_FAULT_DEVICE_ENTRY, res);
        return NULL;
    }
    uint8_t raw[VTD_PASID_ENTRY_SIZE];
    uint64_t rsvd[8];
    res->latency += v->walk_lat;
    v->st.pasid_reads++;
    if (mem_rd(v, de.smptblptr + (uint64_t)(pasid & 0x3f) * VTD_PASID_ENTRY_SIZE, raw,
               sizeof raw) < 0) {
        sm_fault(v, req, VTD_FR_SM_PTE_ACCESS, fpd, IOMMU_FAULT_HW_ERROR, res);
        return NULL;
    }
    struct vtd_pasid_entry pe;
    vtd_pasid_entry_decode(raw, &pe);
    fpd = fpd || pe.fpd;
    res->domain = pe.did;
    if (!pe.p) {
        sm_fault(v, req, VTD_FR_SM_PTE_P, fpd, IOMMU_FAULT_DEVICE_INVALID, res);
        return NULL;
    }
    if (vtd_pasid_entry_reserved(raw, v->cfg.haw, v->nd_bits, v->cfg.cap, v->cfg.ecap, rsvd)) {
        sm_fault(v, req, VTD_FR_SM_PTE_RSVD, fpd, IOMMU_FAULT_DEVICE_ENTRY, res);
        return NULL;
    }
    /* PGTT against ECAP (9.6): nested translation is not modelled and
     * counts as unsupported (no preset has ECAP.NEST). */
    uint64_t ecap = v->cfg.ecap;
    bool ok;
    unsigned levels = 0, in_bits = 64;
    switch (pe.pgtt) {
    case VTD_PGTT_FL:
        ok = ecap & VTD_ECAP_FLTS;
        levels = pe.flpm ? 5 : 4;
        in_bits = pe.flpm ? 57 : 48;
        break;
    case VTD_PGTT_SL:
        ok = (ecap & VTD_ECAP_SLTS) && pe.aw >= VTD_AW_39 && pe.aw <= VTD_AW_57 &&
             (vtd_cap_sagaw(v->cfg.cap) >> pe.aw & 1);
        levels = vtd_aw_levels(pe.aw);
        in_bits = vtd_aw_bits(pe.aw) < v->mgaw ? vtd_aw_bits(pe.aw) : v->mgaw;
        break;
    case VTD_PGTT_PT:
        ok = ecap & VTD_ECAP_PT;
        break;
    default: /* nested, reserved */
        ok = false;
        break;
    }
    if (!ok) {
        sm_fault(v, req, VTD_FR_SM_PTE_INVALID, fpd, IOMMU_FAULT_DEVICE_ENTRY, res);
        return NULL;
    }
    p->valid = true;
    p->fpd = fpd;
    p->sid = req->rid;
    p->pasid = pasid;
    p->levels = (uint8_t)levels;
    p->in_bits = (uint8_t)in_bits;
    p->pe = pe;
    return p;
}

/* First-level walk (3.x "First-Level Translation", 9.7) of a request with
 * the given privilege. The rights it returns are a user request's (R, W
 * when every level has R/W, X when no level has XD) so that the IOTLB
 * holds nothing a user request may not do; *fr receives the reason of a
 * fault. A / D (and EA with EAFE) are set in memory on success: A in
 * every entry used, D in the leaf for a write; W is cached only once D is
 * set, so a later write walks again to set it. */
static bool fl_walk(struct vtd *v, const struct pasid_slot *p, const struct iommu_req *req,
                    bool priv, bool exe, struct walk_out *w, unsigned *fr, uint8_t *cache_perm)
{
    uint64_t addr = req->addr;
    unsigned top = p->levels == 5 ? 56 : 47;
    int64_t hi = (int64_t)addr >> top; /* canonical: bits 63:top all equal */
    w->reads = 0;
    if (hi != 0 && hi != -1) {
        *fr = VTD_FR_SM_NONCANONICAL;
        return false;
    }
    uint64_t table = p->pe.flptptr, ea[5], ev[5];
    bool rw = true, us = true, xd = false;
    unsigned n = 0, shift = 12;
    for (unsigned level = p->levels; level >= 1; level--) {
        shift = vtd_level_shift(level);
        uint64_t e;
        w->reads++;
        ea[n] = table + (((addr >> shift) & 0x1ff) << 3);
        if (rd64(v, ea[n], &e) < 0) {
            *fr = VTD_FR_SM_FL_ACCESS;
            return false;
        }
        if (!(e & 1)) {
            *fr = VTD_FR_SM_FL_P;
            return false;
        }
        if (e & v->fl_rsvd[level][e >> 7 & 1]) {
            *fr = VTD_FR_SM_FL_RSVD;
            return false;
        }
        ev[n++] = e;
        rw = rw && (e >> 1 & 1);
        us = us && (e >> 2 & 1);
        xd = xd || (e >> 63);
        if (vtd_fl_pte_is_leaf(e, level)) {
            w->pa = e & 0x000ffffffffff000ull & ~((1ull << shift) - 1);
            break;
        }
        table = e & 0x000ffffffffff000ull;
    }
    bool write = req->access & IOMMU_PERM_W;
    /* Access rights (3.x "Access Rights" of first-level translation): a user
     * request needs U/S at every level; a write needs R/W at every level,
     * except a supervisor write with WPE = 0; execute needs no XD. */
    if (!priv && !us) {
        *fr = VTD_FR_SM_US;
        return false;
    }
    if (exe && xd) {
        *fr = VTD_FR_SM_XD;
        return false;
    }
    if (write && !rw && !(priv && !p->pe.wpe)) {
        *fr = VTD_FR_SM_WRITE;
        return false;
    }
    uint64_t set_a = 1ull << 5 | (p->pe.eafe ? 1ull << 10 : 0);
    for (unsigned i = 0; i < n; i++) {
        uint64_t want = set_a | (i == n - 1 && write ? 1ull << 6 : 0);
        if ((ev[i] & want) != want) {
            uint8_t b[8];
            ev[i] |= want;
            sim_put_le64(b, ev[i]);
            mem_addrmap_write(v->map, ea[i], b, 8, NULL);
        }
    }
    bool dirty = ev[n - 1] >> 6 & 1;
    w->shift = shift;
    w->perm = (uint8_t)(IOMMU_PERM_R | (rw || (priv && !p->pe.wpe) ? IOMMU_PERM_W : 0) |
                        (xd ? 0 : IOMMU_PERM_X));
    *cache_perm = us ? (uint8_t)(IOMMU_PERM_R | (rw && dirty ? IOMMU_PERM_W : 0) |
                                 (xd ? 0 : IOMMU_PERM_X))
                     : 0; /* a supervisor-only page is not cached */
    return true;
}

/* A request in scalable mode: context, PASID (the request's, or RID_PASID
 * for one without), PASID table entry, then by PGTT pass-through, the
 * IOTLB tagged by (DID, PASID), or a first- or second-level walk. */
/* Out of line: vtd_translate's legacy fast path keeps its size (and its
 * prologue) as before. */
static __attribute__((noinline)) void sm_translate(struct vtd *v, const struct iommu_req *req,
                                                   struct iommu_result *res)
{
    if (v->ttm != VTD_TTM_SCALABLE) {
        if (v->ttm == VTD_TTM_ABORT && (v->cfg.ecap & VTD_ECAP_ADMS)) {
            refuse(res, IOMMU_FAULT_REQUEST); /* abort-DMA mode: blocked, not recorded */
            return;
        }
        /* 10b, or 11b without ECAP.ADMS: a reserved TTM (model decision) */
        sm_fault(v, req, VTD_FR_SM_RTA_INVALID, false, IOMMU_FAULT_DEVICE_INVALID, res);
        return;
    }
    const struct vtd_sm_context_entry *ce = sm_ctx_get(v, req, res);
    if (!ce)
        return;
    bool fpd = ce->fpd;
    if (req->translated) { /* AT = 10b: only with DTE (9.4) */
        if (ce->dte)
            pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
        else
            sm_fault(v, req, VTD_FR_SM_CTX_DTE, fpd, IOMMU_FAULT_TRANSLATED, res);
        return;
    }
    uint32_t pasid;
    bool priv;
    uint32_t dir_entries = vtd_pdts_entries(ce->pdts);
    if (req->has_pasid) {
        pasid = req->pasid & 0xfffff;
        priv = req->priv;
        if (!ce->paside) {
            sm_fault(v, req, VTD_FR_SM_CTX_PASIDE, fpd, IOMMU_FAULT_DEVICE_ENTRY, res);
            return;
        }
        if ((pasid >> 6) >= dir_entries) {
            sm_fault(v, req, VTD_FR_SM_PASID_BIG, fpd, IOMMU_FAULT_DEVICE_ENTRY, res);
            return;
        }
    } else { /* RID_PASID (ECAP.RPS; else 0) and RID_PRIV (ECAP.RPRIVS; else 0) */
        pasid = (v->cfg.ecap & VTD_ECAP_RPS) ? ce->rid_pasid : 0;
        priv = (v->cfg.ecap & VTD_ECAP_RPRIVS) && ce->rid_priv;
        if ((pasid >> 6) >= dir_entries) {
            sm_fault(v, req, VTD_FR_SM_RID_PASID, fpd, IOMMU_FAULT_DEVICE_ENTRY, res);
            return;
        }
    }
    const struct pasid_slot *p = pasid_get(v, req, ce, pasid, res);
    if (!p)
        return;
    fpd = p->fpd;
    res->domain = p->pe.did;
    /* Execute requests exist only with a PASID prefix. */
    bool exe = req->has_pasid && (req->access & IOMMU_PERM_X);
    if (priv && !p->pe.sre) {
        sm_fault(v, req, VTD_FR_SM_SRE, fpd, IOMMU_FAULT_PERMISSION, res);
        return;
    }
    if (exe && !p->pe.ere) {
        sm_fault(v, req, VTD_FR_SM_ERE, fpd, IOMMU_FAULT_PERMISSION, res);
        return;
    }
    if (p->pe.pgtt == VTD_PGTT_PT) {
        pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
        return;
    }
    bool fl = p->pe.pgtt == VTD_PGTT_FL;
    uint8_t want = want_perm(req) | (fl && exe ? IOMMU_PERM_X : 0);
    unsigned wr = (want & IOMMU_PERM_W) ? VTD_FR_SM_WRITE : VTD_FR_SM_READ;
    const struct iommu_iotlb_entry *e = iommu_iotlb_lookup(v->tlb, p->pe.did, pasid, req->addr);
    res->latency += v->hit_lat;
    if (e && (want & e->perm) == want) {
        res->iotlb_hit = true;
        translated(res, req, e->pa, e->page_shift, e->perm);
        return;
    }
    if (e && !fl) { /* second level: the cached rights decide, as in legacy mode */
        res->iotlb_hit = true;
        sm_fault(v, req, wr, fpd, IOMMU_FAULT_PERMISSION, res);
        return;
    }
    /* A miss, or a first-level entry without the rights (a write to a page
     * cached before D was set, a supervisor request): walk. */
    struct walk_out w = {0};
    if (fl) {
        unsigned fr = 0;
        uint8_t cache_perm = 0;
        bool ok = fl_walk(v, p, req, priv, exe, &w, &fr, &cache_perm);
        v->st.table_reads += w.reads;
        res->latency += w.reads * v->walk_lat;
        if (!ok) {
            enum iommu_fault_kind k = fr == VTD_FR_SM_FL_P ? IOMMU_FAULT_NOT_PRESENT
                                    : fr == VTD_FR_SM_FL_RSVD ? IOMMU_FAULT_PAGE_TABLE
                                    : fr == VTD_FR_SM_FL_ACCESS ? IOMMU_FAULT_HW_ERROR
                                    : fr == VTD_FR_SM_NONCANONICAL ? IOMMU_FAULT_ADDRESS
                                    : IOMMU_FAULT_PERMISSION;
            sm_fault(v, req, fr, fpd, k, res);
            return;
        }
        if (cache_perm)
            iommu_iotlb_insert(v->tlb, p->pe.did, pasid, req->addr, w.pa, w.shift, cache_perm);
        translated(res, req, w.pa, w.shift, w.perm);
        return;
    }
    if (p->in_bits < 64 && (req->addr >> p->in_bits) != 0) {
        sm_fault(v, req, VTD_FR_SM_BEYOND_AW, fpd, IOMMU_FAULT_ADDRESS, res);
        return;
    }
    enum walk_status ws = walk(v, p->pe.slptptr, p->levels, req->addr, &w);
    v->st.table_reads += w.reads;
    res->latency += w.reads * v->walk_lat;
    switch (ws) {
    case WALK_OK:
        break;
    case WALK_NP:
        sm_fault(v, req, wr, fpd, IOMMU_FAULT_NOT_PRESENT, res);
        return;
    case WALK_RSVD:
        sm_fault(v, req, VTD_FR_SM_SL_RSVD, fpd, IOMMU_FAULT_PAGE_TABLE, res);
        return;
    case WALK_ERR:
        sm_fault(v, req, VTD_FR_SM_SL_ACCESS, fpd, IOMMU_FAULT_HW_ERROR, res);
        return;
    }
    iommu_iotlb_insert(v->tlb, p->pe.did, pasid, req->addr, w.pa, w.shift, w.perm);
    if ((want & w.perm) != want) {
        sm_fault(v, req, wr, fpd, IOMMU_FAULT_PERMISSION, res);
        return;
    }
    translated(res, req, w.pa, w.shift, w.perm);
}

/* ---- interrupt remapping (5.1) ---- */

static bool vtd_is_interrupt(void *hw, uint16_t rid, uint64_t addr)
{
    (void)hw;
    (void)rid;
    return in_window(addr);
}

static void irq_fault(struct vtd *v, uint16_t rid, unsigned fr, uint16_t index, bool fpd,
                      struct iommu_irq_result *res)
{
    res->ok = false;
    res->fault = IOMMU_FAULT_INTERRUPT;
    res->arch_code = (uint16_t)fr;
    if (fpd && vtd_fault_qualified(fr)) {
        v->st.faults_suppressed++;
        return;
    }
    struct vtd_fault_record f = {.fi = vtd_fault_fi_index(index), .sid = rid, .fr = (uint8_t)fr};
    res->logged = record_fault(v, &f);
}

/* Source-id verification (9.10 SVT, SQ). */
static bool sid_ok(const struct vtd_irte *e, uint16_t rid)
{
    static const uint16_t sq_mask[4] = {0xffff, 0xfffb, 0xfff9, 0xfff8};
    switch (e->svt) {
    case VTD_SVT_NONE:
        return true;
    case VTD_SVT_SID:
        return (rid & sq_mask[e->sq & 3]) == (e->sid & sq_mask[e->sq & 3]);
    case VTD_SVT_BUS: {
        unsigned bus = rid >> 8;
        return bus >= (unsigned)(e->sid >> 8) && bus <= (unsigned)(e->sid & 0xff);
    }
    default:
        return false;
    }
}

static void vtd_remap_msi(void *hw, uint16_t rid, const struct iommu_msi *in,
                          struct iommu_irq_result *res)
{
    struct vtd *v = hw;
    memset(res, 0, sizeof *res);
    if (!(v->gsts & VTD_GSTS_IRES)) {
        res->ok = true;
        res->out = *in;
        return;
    }
    struct vtd_msi m;
    vtd_msi_decode(in->addr, in->data, &m);
    bool eime = v->irta_act & VTD_IRTA_EIME;
    if (!m.remappable) { /* 5.1.2.1: only with CFIS, and never in x2APIC mode */
        if ((v->gsts & VTD_GSTS_CFIS) && !eime) {
            res->ok = true;
            res->out = *in;
            return;
        }
        irq_fault(v, rid, VTD_FR_IR_COMPAT, 0, false, res);
        return;
    }
    if (m.rsvd) {
        irq_fault(v, rid, VTD_FR_IR_REQ_RSVD, m.index, false, res);
        return;
    }
    if (m.index >= vtd_irta_entries(v->irta_act)) {
        irq_fault(v, rid, VTD_FR_IR_INDEX, m.index, false, res);
        return;
    }
    struct irte_slot *is = &v->irc[m.index & v->irc_mask];
    struct vtd_irte e;
    if (is->valid && is->index == m.index) {
        e = is->e;
    } else {
        uint8_t raw[VTD_IRTE_SIZE];
        res->latency += v->walk_lat;
        v->st.irte_reads++;
        if (mem_rd(v, (v->irta_act & VTD_IRTA_ADDR_MASK) + (uint64_t)m.index * VTD_IRTE_SIZE,
                   raw, sizeof raw) < 0) {
            irq_fault(v, rid, VTD_FR_IR_ACCESS, m.index, false, res);
            return;
        }
        vtd_irte_decode(raw, &e);
        if (!e.p) {
            irq_fault(v, rid, VTD_FR_IR_P, m.index, e.fpd, res);
            return;
        }
        if (vtd_irte_reserved(raw, eime, v->cfg.cap, NULL)) {
            irq_fault(v, rid, VTD_FR_IR_RSVD, m.index, e.fpd, res);
            return;
        }
        /* present and well formed: cached until an IEC invalidation */
        is->valid = true;
        is->index = m.index;
        is->e = e;
    }
    if (!sid_ok(&e, rid)) {
        irq_fault(v, rid, VTD_FR_IR_SID, m.index, e.fpd, res);
        return;
    }
    res->ok = true;
    vtd_irte_msi(&e, eime, &res->out.addr, &res->out.data);
}

/* ---- queued invalidation (6.5.2) ---- */

static void inv_completion_event(struct vtd *v)
{
    if (v->ics & VTD_ICS_IWC)
        return; /* an earlier condition is still pending service: no new event */
    v->ics |= VTD_ICS_IWC;
    v->iectl |= VTD_ECTL_IP;
    if (!(v->iectl & VTD_ECTL_IM)) {
        send_msi(v, VTD_EVENT_INV_COMPLETION, v->ieaddr, v->ieuaddr, v->iedata);
        v->iectl &= ~VTD_ECTL_IP;
    }
}

/* Executes one descriptor (16 bytes, 32 with IQA.DW); false when it is
 * invalid (IQE). A unit with ECAP.SMTS also knows the PASID-cache and
 * PASID-based IOTLB descriptors, in either mode. */
static bool desc_exec(struct vtd *v, const uint8_t *raw, bool dw)
{
    struct vtd_inv_desc d;
    if ((v->cfg.ecap & VTD_ECAP_SMTS) ? vtd_inv_desc_decode_sm(raw, dw, &d, NULL)
                                      : vtd_inv_desc_decode(raw, &d, NULL))
        return false;
    switch (d.type) {
    case VTD_DESC_CC:
        if (!d.g)
            return false; /* granularity 00b is reserved */
        ctx_invalidate(v, d.g, d.did, d.sid, d.fm);
        break;
    case VTD_DESC_IOTLB:
        if (!d.g)
            return false;
        iotlb_invalidate(v, d.g, d.did, d.addr, d.am);
        break;
    case VTD_DESC_DEVTLB:
        if (!(v->cfg.ecap & VTD_ECAP_DT))
            return false; /* no device-TLB support: not a valid descriptor */
        break;            /* no device-TLBs modelled */
    case VTD_DESC_IEC:
        if (!(v->cfg.ecap & VTD_ECAP_IR))
            return false;
        iec_invalidate(v, d.g, d.iidx, d.im);
        break;
    case VTD_DESC_WAIT:
        if (d.pd)
            return false; /* page-request drain needs ECAP.PDS, not modelled */
        if (d.sw) {
            uint8_t b[4];
            sim_put_le32(b, d.status);
            if (mem_addrmap_write(v->map, d.status_addr, b, 4, NULL) < 0)
                return false; /* the status write failed: reported as a queue error */
        }
        if (d.iflag)
            inv_completion_event(v);
        break;
    case VTD_DESC_PC: /* 6.5.2.2 */
        if (d.g == 2)
            return false; /* reserved granularity */
        pasid_invalidate(v, d.g, d.did, d.pasid);
        break;
    case VTD_DESC_PIOTLB: /* 6.5.2.4 */
        if (d.g != VTD_PIOTLB_G_PASID && d.g != VTD_PIOTLB_G_PAGE)
            return false;
        v->st.iotlb_invalidations++;
        if (d.g == VTD_PIOTLB_G_PAGE && d.am <= vtd_cap_mamv(v->cfg.cap)) {
            uint64_t size = 1ull << (12 + d.am);
            iommu_iotlb_flush_range(v->tlb, d.did, d.pasid, d.addr & ~(size - 1), size);
        } else { /* every address of the PASID (AM beyond MAMV: done coarser) */
            iommu_iotlb_flush_range(v->tlb, d.did, d.pasid, 0, 0);
        }
        break;
    default:
        return false;
    }
    v->st.descriptors++;
    v->st.desc_time += v->cfg.desc_latency;
    return true;
}

static void qi_run(struct vtd *v)
{
    if (!(v->gsts & VTD_GSTS_QIES) || (v->fsts & VTD_FSTS_IQE))
        return;
    /* IQA.DW (10.4.23): 256-bit descriptors, the same 2^QS pages holding
     * half as many; IQT bit 4 is then reserved (10.4.22). */
    bool dw = v->iqa & VTD_IQA_DW;
    unsigned dsize = dw ? VTD_DESC_SIZE_256 : VTD_DESC_SIZE;
    uint64_t wrap = (uint64_t)vtd_iq_entries((unsigned)(v->iqa & VTD_IQA_QS_MASK)) *
                    VTD_DESC_SIZE - 1;
    uint64_t base = v->iqa & VTD_IQA_ADDR_MASK;
    if (v->iqt > wrap || (dw && (v->iqt & VTD_DESC_SIZE))) { /* a bad tail (10.4.22) */
        v->st.queue_errors++;
        fault_status_set(v, VTD_FSTS_IQE);
        return;
    }
    while (v->iqh != v->iqt) {
        uint8_t raw[VTD_DESC_SIZE_256];
        if (mem_rd(v, base + v->iqh, raw, dsize) < 0 || !desc_exec(v, raw, dw)) {
            v->st.queue_errors++;
            fault_status_set(v, VTD_FSTS_IQE); /* IQH stays on the descriptor (10.4.9) */
            return;
        }
        v->iqh = (v->iqh + dsize) & wrap;
    }
}

/* ---- registers (10.4) ---- */

static void gcmd_write(struct vtd *v, uint32_t val)
{
    uint32_t level = VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI;
    uint32_t changed = (v->gsts ^ val) & level;
    if (changed & VTD_GCMD_TE)
        v->gsts ^= VTD_GSTS_TES;
    if (changed & VTD_GCMD_QIE) {
        if (v->cfg.ecap & VTD_ECAP_QI) {
            v->gsts ^= VTD_GSTS_QIES;
            if (!(v->gsts & VTD_GSTS_QIES))
                v->iqh = 0; /* IQH resets when queued invalidation is disabled (10.4.21) */
        }
    }
    if (changed & VTD_GCMD_IRE && (v->cfg.ecap & VTD_ECAP_IR))
        v->gsts ^= VTD_GSTS_IRES;
    if (changed & VTD_GCMD_CFI && (v->cfg.ecap & VTD_ECAP_IR))
        v->gsts ^= VTD_GSTS_CFIS;
    if (val & VTD_GCMD_SRTP) {
        v->rta = v->rtaddr & VTD_RTADDR_RTA_MASK;
        /* TTM (10.4.6) is latched with RTA; it reads 0 without ECAP.SMTS. */
        v->ttm = (unsigned)((v->rtaddr & VTD_RTADDR_TTM_MASK) >> VTD_RTADDR_TTM_SHIFT);
        v->gsts |= VTD_GSTS_RTPS;
        if (v->cfg.cap & VTD_CAP_ESRTPS) { /* hardware invalidates on SRTP */
            ctx_flush_all(v);
            pasid_flush_all(v);
            iommu_iotlb_flush_all(v->tlb);
        }
    }
    if ((val & VTD_GCMD_SIRTP) && (v->cfg.ecap & VTD_ECAP_IR)) {
        v->irta_act = v->irta;
        v->gsts |= VTD_GSTS_IRTPS;
        if (v->cfg.cap & VTD_CAP_ESIRTPS)
            irte_flush_all(v);
    }
    /* WBF completes at once (WBFS reads 0); SFL / EAFL: no advanced fault log. */
}

static void ccmd_write(struct vtd *v, uint64_t val)
{
    v->ccmd = val & ~(VTD_CCMD_ICC | VTD_CCMD_CAIG_MASK);
    if (!(val & VTD_CCMD_ICC))
        return;
    unsigned gran = (unsigned)((val & VTD_CCMD_CIRG_MASK) >> VTD_CCMD_CIRG_SHIFT);
    if (gran)
        ctx_invalidate(v, gran, (uint16_t)(val & VTD_CCMD_DID_MASK),
                       (uint16_t)(val >> VTD_CCMD_SID_SHIFT), (unsigned)(val >> 32) & 3);
    v->ccmd |= (uint64_t)gran << VTD_CCMD_CAIG_SHIFT; /* ICC reads 0: done */
}

static void iotlb_write(struct vtd *v, uint64_t val)
{
    v->iotlb_reg = val & ~(VTD_IOTLB_IVT | VTD_IOTLB_IAIG_MASK);
    if (!(val & VTD_IOTLB_IVT))
        return;
    unsigned gran = (unsigned)((val & VTD_IOTLB_IIRG_MASK) >> VTD_IOTLB_IIRG_SHIFT);
    unsigned done = iotlb_invalidate(v, gran, (uint16_t)(val >> VTD_IOTLB_DID_SHIFT),
                                     v->iva & VTD_IVA_ADDR_MASK,
                                     (unsigned)(v->iva & VTD_IVA_AM_MASK));
    v->iotlb_reg |= (uint64_t)done << VTD_IOTLB_IAIG_SHIFT;
}

/* Which 8-aligned offsets hold one 64-bit register. */
static bool is64(const struct vtd *v, uint64_t off)
{
    switch (off) {
    case VTD_REG_CAP: case VTD_REG_ECAP: case VTD_REG_RTADDR: case VTD_REG_CCMD:
    case VTD_REG_AFLOG: case VTD_REG_PHMBASE: case VTD_REG_PHMLIMIT: case VTD_REG_IQH:
    case VTD_REG_IQT: case VTD_REG_IQA: case VTD_REG_IQERCD: case VTD_REG_IRTA:
        return true;
    default:
        break;
    }
    if (off == v->iro + VTD_IVA_OFF || off == v->iro + VTD_IOTLB_OFF)
        return true;
    return off >= v->fro && off < v->fro + (uint64_t)v->nfr * VTD_FRCD_SIZE;
}

static uint64_t r64(const struct vtd *v, uint64_t off)
{
    switch (off) {
    case VTD_REG_CAP: return v->cfg.cap;
    case VTD_REG_ECAP: return v->cfg.ecap;
    case VTD_REG_RTADDR: return v->rtaddr;
    case VTD_REG_CCMD: return v->ccmd;
    case VTD_REG_AFLOG: return v->aflog;
    case VTD_REG_PHMBASE: return v->phmbase;
    case VTD_REG_PHMLIMIT: return v->phmlimit;
    case VTD_REG_IQH: return v->iqh;
    case VTD_REG_IQT: return v->iqt;
    case VTD_REG_IQA: return v->iqa;
    case VTD_REG_IQERCD: return v->iqercd;
    case VTD_REG_IRTA: return v->irta;
    default: break;
    }
    if (off == v->iro + VTD_IVA_OFF)
        return v->iva;
    if (off == v->iro + VTD_IOTLB_OFF)
        return v->iotlb_reg;
    uint64_t i = (off - v->fro) / VTD_FRCD_SIZE;
    return ((off - v->fro) & 8) ? v->frcd[i].hi : v->frcd[i].lo;
}

static void w64(struct vtd *v, uint64_t off, uint64_t val, uint64_t mask)
{
    uint64_t nv = (r64(v, off) & ~mask) | (val & mask);
    switch (off) {
    case VTD_REG_RTADDR:
        /* TTM (11:10) is writable with ECAP.SMTS only (10.4.6). */
        v->rtaddr = nv & (VTD_RTADDR_RTA_MASK |
                          ((v->cfg.ecap & VTD_ECAP_SMTS) ? VTD_RTADDR_TTM_MASK : 0));
        return;
    case VTD_REG_CCMD:
        if (mask >> 63) /* the half holding ICC was written */
            ccmd_write(v, nv);
        else
            v->ccmd = nv & ~(VTD_CCMD_ICC | VTD_CCMD_CAIG_MASK);
        return;
    case VTD_REG_PHMBASE:
        v->phmbase = nv & ~0xfffffull;
        return;
    case VTD_REG_PHMLIMIT:
        v->phmlimit = nv & ~0xfffffull;
        return;
    case VTD_REG_IQT:
        v->iqt = nv & VTD_IQ_PTR_MASK;
        if (mask & 0xffffffffull)
            qi_run(v);
        return;
    case VTD_REG_IQA:
        if (!(v->gsts & VTD_GSTS_QIES))
            v->iqa = nv & (VTD_IQA_ADDR_MASK | VTD_IQA_QS_MASK |
                           ((v->cfg.ecap & VTD_ECAP_SMTS) ? VTD_IQA_DW : 0));
        return;
    case VTD_REG_IRTA:
        v->irta = nv & (VTD_IRTA_ADDR_MASK | VTD_IRTA_S_MASK |
                        ((v->cfg.ecap & VTD_ECAP_EIM) ? VTD_IRTA_EIME : 0));
        return;
    default:
        break;
    }
    if (off == v->iro + VTD_IVA_OFF) {
        v->iva = nv & (VTD_IVA_ADDR_MASK | VTD_IVA_IH | VTD_IVA_AM_MASK);
        return;
    }
    if (off == v->iro + VTD_IOTLB_OFF) {
        if (mask >> 63)
            iotlb_write(v, nv);
        else
            v->iotlb_reg = nv & ~(VTD_IOTLB_IVT | VTD_IOTLB_IAIG_MASK);
        return;
    }
    if (off >= v->fro && off < v->fro + (uint64_t)v->nfr * VTD_FRCD_SIZE &&
        ((off - v->fro) & 8)) {
        /* F (bit 127) is RW1C; the rest of the record is read-only. */
        struct frcd *r = &v->frcd[(off - v->fro) / VTD_FRCD_SIZE];
        if ((val & mask) >> 63 && r->hi >> 63) {
            r->hi &= ~(1ull << 63);
            v->f_count--;
            fault_status_serviced(v);
        }
    }
    /* CAP, ECAP, IQH, IQERCD, AFLOG, the low half of a record: read-only */
}

static uint32_t r32(const struct vtd *v, uint64_t off)
{
    switch (off) {
    case VTD_REG_VER: return v->cfg.ver;
    case VTD_REG_GSTS: return v->gsts;
    case VTD_REG_FSTS: return fsts_now(v);
    case VTD_REG_FECTL: return v->fectl;
    case VTD_REG_FEDATA: return v->fedata;
    case VTD_REG_FEADDR: return v->feaddr;
    case VTD_REG_FEUADDR: return v->feuaddr;
    case VTD_REG_PMEN: return v->pmen;
    case VTD_REG_PLMBASE: return v->plmbase;
    case VTD_REG_PLMLIMIT: return v->plmlimit;
    case VTD_REG_ICS: return v->ics;
    case VTD_REG_IECTL: return v->iectl;
    case VTD_REG_IEDATA: return v->iedata;
    case VTD_REG_IEADDR: return v->ieaddr;
    case VTD_REG_IEUADDR: return v->ieuaddr;
    default: return 0; /* GCMD is write-only; reserved offsets read 0 */
    }
}

static void w32(struct vtd *v, uint64_t off, uint32_t val)
{
    switch (off) {
    case VTD_REG_GCMD:
        gcmd_write(v, val);
        break;
    case VTD_REG_FSTS:
        v->fsts &= ~(val & VTD_FSTS_RW1C);
        fault_status_serviced(v);
        if (!(v->fsts & VTD_FSTS_IQE))
            qi_run(v); /* a queue stopped on an error may go on */
        break;
    case VTD_REG_FECTL: {
        bool was_masked = v->fectl & VTD_ECTL_IM;
        v->fectl = (v->fectl & VTD_ECTL_IP) | (val & VTD_ECTL_IM);
        if (was_masked && !(val & VTD_ECTL_IM) && (v->fectl & VTD_ECTL_IP)) {
            send_msi(v, VTD_EVENT_FAULT, v->feaddr, v->feuaddr, v->fedata);
            v->fectl &= ~VTD_ECTL_IP;
        }
        break;
    }
    case VTD_REG_FEDATA:
        v->fedata = val & ((v->cfg.ecap & VTD_ECAP_EIM) ? 0xffffffffu : 0xffffu);
        break;
    case VTD_REG_FEADDR:
        v->feaddr = val & ~3u;
        break;
    case VTD_REG_FEUADDR:
        v->feuaddr = val;
        break;
    case VTD_REG_PMEN:
        if (v->cfg.cap & (VTD_CAP_PLMR | VTD_CAP_PHMR))
            v->pmen = (val & VTD_PMEN_EPM) | ((val & VTD_PMEN_EPM) ? VTD_PMEN_PRS : 0);
        break;
    case VTD_REG_PLMBASE:
        v->plmbase = val & 0xfff00000u;
        break;
    case VTD_REG_PLMLIMIT:
        v->plmlimit = val & 0xfff00000u;
        break;
    case VTD_REG_ICS:
        if (val & VTD_ICS_IWC) {
            v->ics &= ~VTD_ICS_IWC;
            v->iectl &= ~VTD_ECTL_IP;
        }
        break;
    case VTD_REG_IECTL: {
        bool was_masked = v->iectl & VTD_ECTL_IM;
        v->iectl = (v->iectl & VTD_ECTL_IP) | (val & VTD_ECTL_IM);
        if (was_masked && !(val & VTD_ECTL_IM) && (v->iectl & VTD_ECTL_IP)) {
            send_msi(v, VTD_EVENT_INV_COMPLETION, v->ieaddr, v->ieuaddr, v->iedata);
            v->iectl &= ~VTD_ECTL_IP;
        }
        break;
    }
    case VTD_REG_IEDATA:
        v->iedata = val & ((v->cfg.ecap & VTD_ECAP_EIM) ? 0xffffffffu : 0xffffu);
        break;
    case VTD_REG_IEADDR:
        v->ieaddr = val & ~3u;
        break;
    case VTD_REG_IEUADDR:
        v->ieuaddr = val;
        break;
    default: /* VER, GSTS, reserved: read-only / ignored */
        break;
    }
}

static int mmio_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct vtd *v = ctx;
    if ((len != 4 && len != 8) || (off & (len - 1)) || off + len > VTD_MMIO_SIZE)
        return -PCILAB_EINVAL;
    uint64_t base = off & ~7ull, val;
    if (is64(v, base))
        val = r64(v, base) >> (8 * (off & 7));
    else if (len == 8)
        val = r32(v, off) | (uint64_t)r32(v, off + 4) << 32;
    else
        val = r32(v, off);
    if (len == 4)
        sim_put_le32(buf, (uint32_t)val);
    else
        sim_put_le64(buf, val);
    return 0;
}

static int mmio_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct vtd *v = ctx;
    if ((len != 4 && len != 8) || (off & (len - 1)) || off + len > VTD_MMIO_SIZE)
        return -PCILAB_EINVAL;
    uint64_t val = len == 4 ? sim_get_le32(buf) : sim_get_le64(buf);
    uint64_t base = off & ~7ull;
    if (is64(v, base)) {
        unsigned sh = (unsigned)(8 * (off & 7));
        uint64_t mask = (len == 8 ? ~0ull : 0xffffffffull) << sh;
        w64(v, base, val << sh, mask);
    } else if (len == 8) {
        w32(v, off, (uint32_t)val);
        w32(v, off + 4, (uint32_t)(val >> 32));
    } else {
        w32(v, off, (uint32_t)val);
    }
    return 0;
}

static const struct mem_mmio_ops vtd_mmio_ops = {.read = mmio_read, .write = mmio_write};

/* ---- life cycle ---- */

static void vtd_reset(void *hw)
{
    struct vtd *v = hw;
    v->gsts = v->fsts = 0;
    v->fectl = VTD_ECTL_IM; /* masked at reset (10.4.10) */
    v->iectl = VTD_ECTL_IM; /* (10.4.25) */
    v->fedata = v->feaddr = v->feuaddr = 0;
    v->pmen = v->plmbase = v->plmlimit = 0;
    v->ics = v->iedata = v->ieaddr = v->ieuaddr = 0;
    v->rtaddr = v->rta = v->ccmd = v->aflog = v->phmbase = v->phmlimit = 0;
    v->iqh = v->iqt = v->iqa = v->iqercd = v->irta = v->irta_act = 0;
    v->iva = v->iotlb_reg = 0;
    memset(v->frcd, 0, sizeof *v->frcd * v->nfr);
    v->next_fr = v->f_count = v->fri = 0;
    v->ttm = VTD_TTM_LEGACY;
    ctx_flush_all(v);
    pasid_flush_all(v);
    irte_flush_all(v);
    iommu_iotlb_flush_all(v->tlb);
}

static const struct iommu_ops vtd_ops = {
    .arch = "vt-d",
    .translate = vtd_translate,
    .remap_msi = vtd_remap_msi,
    .reset = vtd_reset,
    .is_interrupt = vtd_is_interrupt,
};

static void config_common(struct vtd_config *c)
{
    c->segment = 0;
    c->include_pci_all = true;
    c->nfr = 0;
    c->haw = 39;
    iommu_iotlb_config_default(&c->iotlb);
    c->ctx_cache_entries = 256;
    c->irte_cache_entries = 256;
    c->pasid_cache_entries = 256;
    c->desc_latency = 10 * SIM_NS;
}

void vtd_config_qemu(struct vtd_config *c)
{
    memset(c, 0, sizeof *c);
    config_common(c);
    c->mmio_base = 0xfed90000ull;
    c->ver = VTD_VER(1, 0);
    c->cap = 0x00d2008c22260206ull;
    c->ecap = 0x0000000000f00f4aull;
}

void vtd_config_qemu_eim(struct vtd_config *c)
{
    vtd_config_qemu(c);
    c->ecap |= VTD_ECAP_EIM;
}

void vtd_config_qemu_sm(struct vtd_config *c)
{
    vtd_config_qemu(c);
    c->ecap = 0x0000480080f00f4aull; /* + SRS, SMTS, SLTS */
}

void vtd_config_client(struct vtd_config *c)
{
    memset(c, 0, sizeof *c);
    config_common(c);
    c->mmio_base = 0xfed91000ull;
    c->ver = VTD_VER(1, 0);
    c->cap = 0x00d2008c40660462ull;
    c->ecap = 0x0000000000f050daull;
}

static void vtd_destroy(void *obj)
{
    struct vtd *v = obj;
    if (!v)
        return;
    iommu_iotlb_destroy(v->tlb);
    free(v->ctc);
    free(v->smc);
    free(v->irc);
    free(v->pc);
    free(v->frcd);
    free(v);
}

static bool pow2(unsigned x)
{
    return x && !(x & (x - 1));
}

/* Two register ranges [a, a + al) and [b, b + bl) overlap. */
static bool overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
    return a < b + bl && b < a + al;
}

struct vtd *vtd_create(struct pcilab_sim *sim, struct mem_phys *mem, struct mem_addrmap *map,
                       const struct vtd_config *cfg, struct pcilab_err *err)
{
    if (!sim || !mem || !map || !cfg) {
        pcilab_errf(err, PCILAB_EINVAL, "vtd: sim, memory, address map and config are needed");
        return NULL;
    }
    unsigned pc_entries = cfg->pasid_cache_entries ? cfg->pasid_cache_entries : 256;
    if (!pow2(pc_entries) || pc_entries > 65536) {
        pcilab_errf(err, PCILAB_EINVAL,
                    "vtd: the PASID cache size must be a power of two up to 65536 (%u)",
                    pc_entries);
        return NULL;
    }
    if (!pow2(cfg->ctx_cache_entries) || cfg->ctx_cache_entries > 65536 ||
        !pow2(cfg->irte_cache_entries) || cfg->irte_cache_entries > 65536) {
        pcilab_errf(err, PCILAB_EINVAL,
                    "vtd: context and IRTE cache sizes must be powers of two up to 65536 (%u, %u)",
                    cfg->ctx_cache_entries, cfg->irte_cache_entries);
        return NULL;
    }
    if (cfg->mmio_base & (VTD_MMIO_SIZE - 1)) {
        pcilab_errf(err, PCILAB_EINVAL, "vtd: register base 0x%llx is not 4 KiB aligned",
                    (unsigned long long)cfg->mmio_base);
        return NULL;
    }
    unsigned nfr = cfg->nfr ? cfg->nfr : vtd_cap_nfr(cfg->cap);
    unsigned fro = vtd_cap_fro(cfg->cap), iro = vtd_ecap_iro(cfg->ecap);
    if (nfr > 256 || fro < 0xc0 || fro + nfr * VTD_FRCD_SIZE > VTD_MMIO_SIZE || iro < 0xc0 ||
        iro + 16 > VTD_MMIO_SIZE || overlap(fro, nfr * VTD_FRCD_SIZE, iro, 16)) {
        pcilab_errf(err, PCILAB_EINVAL,
                    "vtd: %u fault recording registers at 0x%x and the IOTLB registers at "
                    "0x%x must lie apart in 0xc0..0xfff (after IRTA)", nfr, fro, iro);
        return NULL;
    }
    if (!(vtd_cap_sagaw(cfg->cap) & 0xe) && !(cfg->ecap & VTD_ECAP_PT)) {
        pcilab_errf(err, PCILAB_EINVAL, "vtd: CAP.SAGAW 0x%x names no 3-, 4- or 5-level table",
                    vtd_cap_sagaw(cfg->cap));
        return NULL;
    }
    if (cfg->haw < 32 || cfg->haw > 52) {
        pcilab_errf(err, PCILAB_EINVAL, "vtd: host address width %u is not in 32..52", cfg->haw);
        return NULL;
    }
    struct vtd *v = calloc(1, sizeof *v);
    if (!v) {
        pcilab_errf(err, PCILAB_ENOMEM, "vtd: out of memory");
        return NULL;
    }
    v->cfg = *cfg;
    v->cfg.cap = (cfg->cap & ~VTD_CAP_NFR_MASK) | (uint64_t)(nfr - 1) << VTD_CAP_NFR_SHIFT;
    v->cfg.nfr = nfr;
    v->sim = sim;
    v->mem = mem;
    v->map = map;
    v->ram_lo = 1;
    v->ram_hi = 0;
    v->nfr = nfr;
    v->fro = fro;
    v->iro = iro;
    v->mgaw = vtd_cap_mgaw(cfg->cap);
    v->nd_bits = vtd_cap_nd_bits(cfg->cap);
    for (unsigned l = 1; l <= 5; l++)
        for (unsigned ps = 0; ps < 2; ps++)
            v->pte_rsvd[l][ps] = vtd_sl_pte_reserved(ps ? ~0ull : ~(1ull << 7), l, cfg->haw,
                                                     cfg->cap, cfg->ecap);
    for (unsigned l = 1; l <= 5; l++)
        for (unsigned ps = 0; ps < 2; ps++)
            v->fl_rsvd[l][ps] = vtd_fl_pte_reserved(ps ? ~0ull : ~(1ull << 7), l, cfg->haw,
                                                    cfg->cap);
    v->ctc_mask = cfg->ctx_cache_entries - 1;
    v->irc_mask = cfg->irte_cache_entries - 1;
    v->ctc = calloc(cfg->ctx_cache_entries, sizeof *v->ctc);
    /* Scalable-mode state only for a unit that can use it (ECAP.SMTS; RTADDR.TTM
     * stays 00b without): a legacy unit's memory is as before. */
    bool smts = cfg->ecap & VTD_ECAP_SMTS;
    v->smc = smts ? calloc(cfg->ctx_cache_entries, sizeof *v->smc) : NULL;
    v->irc = calloc(cfg->irte_cache_entries, sizeof *v->irc);
    v->pc_mask = pc_entries - 1;
    v->pc = smts ? calloc(pc_entries, sizeof *v->pc) : NULL;
    v->frcd = calloc(nfr, sizeof *v->frcd);
    v->tlb = iommu_iotlb_create(&cfg->iotlb, err);
    if (!v->ctc || (smts && (!v->smc || !v->pc)) || !v->irc || !v->frcd || !v->tlb) {
        if (v->tlb || !err || !err->code)
            pcilab_errf(err, PCILAB_ENOMEM, "vtd: out of memory");
        vtd_destroy(v);
        return NULL;
    }
    v->hit_lat = cfg->iotlb.hit_latency;
    v->walk_lat = cfg->iotlb.walk_latency;
    vtd_reset(v);
    v->io.ops = &vtd_ops;
    v->io.hw = v;
    snprintf(v->io.name, sizeof v->io.name, "DMAR %04x@%llx", (unsigned)cfg->segment,
             (unsigned long long)cfg->mmio_base);
    if (mem_addrmap_add_mmio(map, cfg->mmio_base, VTD_MMIO_SIZE, "VT-d DMAR registers",
                             &vtd_mmio_ops, v, err) < 0) {
        vtd_destroy(v);
        return NULL;
    }
    if (sim_own(sim, v, vtd_destroy) < 0) {
        mem_addrmap_remove(map, cfg->mmio_base, NULL);
        vtd_destroy(v);
        pcilab_errf(err, PCILAB_ENOMEM, "vtd: out of memory");
        return NULL;
    }
    return v;
}

struct iommu *vtd_iommu(struct vtd *v)
{
    return &v->io;
}

const struct vtd_config *vtd_get_config(const struct vtd *v)
{
    return &v->cfg;
}

void vtd_get_stats(const struct vtd *v, struct vtd_stats *st)
{
    *st = v->st;
}
