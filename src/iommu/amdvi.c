/* The AMD-Vi IOMMU model: see amdvi.h for what it does and the decisions it
 * takes where the specification leaves room. */
#include "iommu/amdvi.h"

#include "sim/bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

struct dte_slot {
    bool valid;
    bool rsvd_lo;        /* reserved bits set in 127:0 (or a reserved Mode / IoCtl) */
    bool bad_mode;       /* Mode 7: RZ = 0 in ILLEGAL_DEV_TABLE_ENTRY */
    bool rsvd_hi;        /* reserved bits set in 255:128 (or IntCtl 3, IntTabLen > 11) */
    bool walks;          /* V, TV, Mode 1-6, no reserved bits, no EX: a plain
                            request goes straight to the IOTLB (the fast path) */
    uint16_t devid;
    struct amdvi_dte dte;
};

struct irte_slot {
    bool valid;
    bool is128;
    bool rsvd;
    uint16_t devid;
    uint16_t index;
    struct amdvi_irte irte;
};

struct se_slot {
    bool valid;
    uint16_t devid, domain;
    uint64_t page;
};

#define SE_SLOTS 64

struct amdvi {
    struct iommu io;
    struct amdvi_config cfg;
    struct pcilab_sim *sim;
    struct mem_phys *mem;
    struct mem_addrmap *map;
    const uint64_t *map_gen;          /* mem_addrmap_generation_ptr(map) */
    uint64_t ram_gen, ram_lo, ram_hi; /* mem_rd's remembered RAM region (ram_lo > ram_hi: none) */
    const uint64_t *phys_moves;       /* mem_phys_moves_ptr(mem) */
    /* cmd_fetch's page: page number, bytes, the map's generation and the
     * memory's page moves when it was found (cmd_pfn ~0: none) */
    uint64_t cmd_pfn, cmd_pg_gen, cmd_pg_moves;
    const uint8_t *cmd_pg;
    struct iommu_iotlb *tlb;
    struct dte_slot *dtc;
    unsigned dtc_mask;
    struct irte_slot *irc;
    unsigned irc_mask;
    unsigned irc_used;    /* valid slots of irc (invalidations skip an empty cache) */
    struct se_slot se[SE_SLOTS];
    unsigned se_used;     /* valid slots of se */
    unsigned cmd_ok;      /* bit n: opcode n is supported (cmd_supported, set at creation) */
    sim_time_t hit_lat, walk_lat;
    /* Registers (3.4). */
    uint64_t dev_tab, cmd_base, evt_base, control, excl_base, excl_limit, ppr_base, status;
    uint32_t cmd_head, cmd_tail, evt_head, evt_tail, ppr_head, ppr_tail;
    uint32_t cmd_wrap; /* ring_bytes(cmd_base) - 1, set with cmd_base (the tail
                          write wraps with it once per command) */
    struct amdvi_stats st;
};

/* ---- memory ---- */

/* Reads or writes simulated memory as the IOMMU's own master. 0, or a
 * negative code with *hwtype the event Type (01b master abort for an
 * unclaimed address, 10b target abort otherwise). */
/* Table reads go to DRAM almost always: the RAM region of the last read is
 * remembered by its bounds while the address map's generation stays, and a
 * read inside it goes straight to memory (what the full dispatch would do). */
static int mem_rd(struct amdvi *a, uint64_t pa, void *buf, size_t len, uint8_t *hwtype)
{
    if (a->ram_gen == *a->map_gen && pa >= a->ram_lo &&
        pa <= a->ram_hi && len - 1 <= a->ram_hi - pa) {
        if ((pa & MEM_PAGE_MASK) + len <= MEM_PAGE_SIZE) {
            const uint8_t *pg = mem_phys_peek(a->mem, pa);
            if (pg)
                memcpy(buf, pg + (pa & MEM_PAGE_MASK), len);
            else
                memset(buf, 0, len);
            return 0;
        }
        return mem_phys_read(a->mem, pa, buf, len, NULL);
    }
    const struct mem_region *r = mem_addrmap_lookup(a->map, pa);
    if (r && r->kind == MEM_REGION_RAM) {
        a->ram_gen = mem_addrmap_generation(a->map);
        a->ram_lo = r->base;
        a->ram_hi = mem_region_last(r);
    }
    struct mem_access_info info;
    int rc = mem_addrmap_read(a->map, pa, buf, len, &info);
    if (rc < 0)
        *hwtype = info.result == MEM_ACCESS_UNCLAIMED ? AMDVI_HWERR_MASTER_ABORT
                                                      : AMDVI_HWERR_TARGET_ABORT;
    return rc;
}

static int mem_wr(struct amdvi *a, uint64_t pa, const void *buf, size_t len, uint8_t *hwtype)
{
    struct mem_access_info info;
    int rc = mem_addrmap_write(a->map, pa, buf, len, &info);
    if (rc < 0)
        *hwtype = info.result == MEM_ACCESS_UNCLAIMED ? AMDVI_HWERR_MASTER_ABORT
                                                      : AMDVI_HWERR_TARGET_ABORT;
    return rc;
}

/* ---- interrupts and the event log (2.5, 3.4.3, 3.4.10, 3.4.11) ---- */

static void raise_msi(struct amdvi *a)
{
    a->st.msis++;
    if (a->cfg.msi)
        a->cfg.msi(a->cfg.msi_ctx);
}

static uint32_t ring_bytes(uint64_t base_reg)
{
    unsigned len = (unsigned)((base_reg >> AMDVI_LEN_SHIFT) & AMDVI_LEN_MASK);
    if (len < AMDVI_LEN_MIN)
        len = AMDVI_LEN_MIN; /* smaller lengths are reserved (3.4.2, 3.4.3) */
    return (uint32_t)AMDVI_CMD_SIZE << len;
}

/* v modulo the ring's size, a power of two: a mask, not a division (the
 * command ring's head moves once per command, 200,000 times in a 4.x boot) */
static uint32_t ring_wrap(uint64_t base_reg, uint64_t v)
{
    return (uint32_t)(v & (ring_bytes(base_reg) - 1));
}

/* Writes one event at the tail. True when written. */
static bool log_event(struct amdvi *a, const uint8_t raw[AMDVI_EVENT_SIZE])
{
    if (!(a->status & AMDVI_ST_EVENT_LOG_RUN)) {
        a->st.events_dropped++;
        return false;
    }
    uint32_t next = ring_wrap(a->evt_base, a->evt_tail + AMDVI_EVENT_SIZE);
    if (next == a->evt_head) {
        /* Full: overflow, logging stops until EventLogEn is toggled (3.4.11). */
        a->status |= AMDVI_ST_EVENT_OVERFLOW;
        a->status &= ~AMDVI_ST_EVENT_LOG_RUN;
        a->st.events_dropped++;
        if (a->control & AMDVI_CTL_EVENT_INT_EN)
            raise_msi(a);
        return false;
    }
    uint8_t hw;
    if (mem_wr(a, (a->evt_base & AMDVI_BASE_ADDR_MASK) + a->evt_tail, raw, AMDVI_EVENT_SIZE,
               &hw) < 0) {
        a->st.events_dropped++;
        return false;
    }
    a->evt_tail = next;
    a->status |= AMDVI_ST_EVENT_LOG_INT;
    a->st.events_logged++;
    if (a->control & AMDVI_CTL_EVENT_INT_EN)
        raise_msi(a);
    return true;
}

/* Encodes and logs ev unless suppressed; fills the fault fields of res. */
static void report(struct amdvi *a, const struct amdvi_event *ev, bool suppress,
                   enum iommu_fault_kind kind, struct iommu_result *res)
{
    uint8_t raw[AMDVI_EVENT_SIZE];
    amdvi_event_encode(ev, raw);
    res->ok = false;
    res->fault = kind;
    res->arch_code = ev->code;
    res->arch_flags = amdvi_event_linux_flags(raw);
    res->cpl = PCIE_CPL_CA;
    if (suppress) {
        a->st.events_suppressed++;
        res->logged = false;
    } else {
        res->logged = log_event(a, raw);
    }
}

/* ---- caches ---- */

static void se_clear(struct amdvi *a, int devid, int domain, uint64_t base, uint64_t size)
{
    for (unsigned i = 0; i < SE_SLOTS && a->se_used; i++) {
        struct se_slot *s = &a->se[i];
        if (!s->valid)
            continue;
        if (devid >= 0 && s->devid != devid)
            continue;
        if (domain >= 0 && (s->domain != domain ||
                            (size && (s->page < base || s->page - base >= size))))
            continue;
        s->valid = false;
        a->se_used--;
    }
}

/* True when this (device, page) already logged a fault under SE = 1. */
static bool se_seen(struct amdvi *a, uint16_t devid, uint16_t domain, uint64_t addr)
{
    uint64_t page = addr & ~0xfffull;
    unsigned h = (unsigned)((page >> 12) * 0x9e3779b1u + devid) & (SE_SLOTS - 1);
    struct se_slot *s = &a->se[h];
    if (s->valid && s->devid == devid && s->domain == domain && s->page == page)
        return true;
    if (!s->valid)
        a->se_used++;
    *s = (struct se_slot){.valid = true, .devid = devid, .domain = domain, .page = page};
    return false;
}

static void flush_all(struct amdvi *a)
{
    iommu_iotlb_flush_all(a->tlb);
    for (unsigned i = 0; i <= a->dtc_mask; i++)
        a->dtc[i].valid = false;
    for (unsigned i = 0; i <= a->irc_mask; i++)
        a->irc[i].valid = false;
    a->irc_used = 0;
    memset(a->se, 0, sizeof a->se);
    a->se_used = 0;
}

/* ---- device table (2.2.2) ---- */

enum dte_status { DTE_OK, DTE_BEYOND, DTE_HWERR };

/* The DTE of devid from the cache or memory. On DTE_HWERR *hw_addr and
 * *hwtype say what failed. */
static enum dte_status dte_load(struct amdvi *a, uint16_t devid, const struct dte_slot **out,
                                sim_time_t *lat, uint64_t *hw_addr, uint8_t *hwtype);

static inline enum dte_status dte_get(struct amdvi *a, uint16_t devid,
                                      const struct dte_slot **out, sim_time_t *lat,
                                      uint64_t *hw_addr, uint8_t *hwtype)
{
    const struct dte_slot *s = &a->dtc[devid & a->dtc_mask];
    if (s->valid && s->devid == devid) {
        *out = s;
        return DTE_OK;
    }
    return dte_load(a, devid, out, lat, hw_addr, hwtype);
}

/* The cache missed: read the DTE from the device table in memory. */
static enum dte_status dte_load(struct amdvi *a, uint16_t devid, const struct dte_slot **out,
                                sim_time_t *lat, uint64_t *hw_addr, uint8_t *hwtype)
{
    struct dte_slot *s = &a->dtc[devid & a->dtc_mask];
    uint64_t bytes = ((a->dev_tab & AMDVI_DEV_TAB_SIZE_MASK) + 1) << 12;
    if ((uint64_t)devid * AMDVI_DTE_SIZE >= bytes)
        return DTE_BEYOND;
    uint64_t pa = (a->dev_tab & AMDVI_BASE_ADDR_MASK) + (uint64_t)devid * AMDVI_DTE_SIZE;
    uint8_t raw[AMDVI_DTE_SIZE];
    *lat += a->walk_lat;
    a->st.dte_reads++;
    if (mem_rd(a, pa, raw, sizeof raw, hwtype) < 0) {
        *hw_addr = pa;
        return DTE_HWERR;
    }
    uint64_t rsvd[4];
    amdvi_dte_check(raw, a->cfg.efr, rsvd);
    s->valid = true;
    s->devid = devid;
    amdvi_dte_decode(raw, &s->dte);
    unsigned bad = amdvi_dte_bad_encoding(&s->dte);
    s->bad_mode = bad & AMDVI_DTE_BAD_MODE;
    s->rsvd_lo = rsvd[0] || rsvd[1] || (bad & AMDVI_DTE_BAD_IOCTL);
    s->rsvd_hi = rsvd[2] || rsvd[3] || (bad & (AMDVI_DTE_BAD_INTCTL | AMDVI_DTE_BAD_INTTABLEN));
    s->walks = s->dte.v && s->dte.tv && s->dte.mode != AMDVI_MODE_NONE && !s->bad_mode &&
               !s->rsvd_lo && !s->dte.ex;
    *out = s;
    return DTE_OK;
}

/* ---- translation (2.2.3, 2.3) ---- */

static void res_init(struct iommu_result *res)
{
    res->ok = false;
    res->pa = 0;
    res->perm = 0;
    res->page_shift = 0;
    res->domain = 0;
    res->iotlb_hit = false;
    res->fault = IOMMU_FAULT_NONE;
    res->arch_code = 0;
    res->arch_flags = 0;
    res->logged = false;
    res->cpl = PCIE_CPL_SC;
    res->latency = 0;
}

static void pass(struct iommu_result *res, const struct iommu_req *req, uint8_t perm)
{
    res->ok = true;
    res->pa = req->addr;
    res->perm = perm;
    res->page_shift = 64;
    res->cpl = PCIE_CPL_SC;
}

static uint8_t want_perm(const struct iommu_req *req)
{
    uint8_t w = req->access & (IOMMU_PERM_R | IOMMU_PERM_W);
    if (req->access & IOMMU_PERM_X)
        w |= IOMMU_PERM_R; /* v1 tables have no execute right: execute needs read */
    return w;
}

/* Flags common to every event about this request (2.5.3): RW, US, NX. */
static uint16_t req_flags(const struct iommu_req *req)
{
    uint16_t f = 0;
    if (req->access & IOMMU_PERM_W)
        f |= AMDVI_EVF_RW;
    if (req->has_pasid) {
        if (!req->priv)
            f |= AMDVI_EVF_US;
        if (req->access & IOMMU_PERM_X)
            f |= AMDVI_EVF_NX;
    }
    return f;
}

enum walk_status { WALK_OK, WALK_NOT_PRESENT, WALK_RSVD, WALK_LEVEL, WALK_HWERR };

struct walk_out {
    uint64_t pa;        /* page base */
    unsigned shift;
    uint8_t perm;
    uint64_t hw_addr;   /* WALK_HWERR: entry address */
    uint8_t hwtype;
    unsigned reads;
};

static enum walk_status walk(struct amdvi *a, const struct amdvi_dte *d, uint64_t addr,
                             struct walk_out *w)
{
    unsigned level = d->mode;
    uint64_t table = d->pt_root;
    uint8_t perm = (d->ir ? IOMMU_PERM_R : 0) | (d->iw ? IOMMU_PERM_W : 0);
    w->reads = 0;
    /* Address bits above what the top level covers must be zero (2.2.3). */
    if (level < 6 && (addr >> (amdvi_level_shift(level) + 9)) != 0)
        return WALK_LEVEL;
    for (;;) {
        unsigned shift = amdvi_level_shift(level);
        uint64_t ea = table + (((addr >> shift) & 0x1ff) << 3);
        uint8_t raw[8];
        w->reads++;
        if (mem_rd(a, ea, raw, 8, &w->hwtype) < 0) {
            w->hw_addr = ea;
            return WALK_HWERR;
        }
        uint64_t e = sim_get_le64(raw);
        if (!(e & 1))
            return WALK_NOT_PRESENT;
        if (amdvi_pte_reserved(e))
            return WALK_RSVD;
        perm &= (uint8_t)(((e >> 61) & 1 ? IOMMU_PERM_R : 0) | ((e >> 62) & 1 ? IOMMU_PERM_W : 0));
        unsigned nl = (unsigned)((e >> 9) & 7);
        uint64_t ta = e & AMDVI_BASE_ADDR_MASK;
        if (nl == 0) { /* PTE of this level's default size */
            w->shift = shift;
            w->pa = ta & ~((1ull << shift) - 1);
            w->perm = perm;
            return WALK_OK;
        }
        if (nl == AMDVI_NL_LARGE) { /* PTE of an encoded size */
            unsigned s = amdvi_pte_large_shift(ta);
            unsigned upper = level == 6 ? 64 : shift + 9;
            if (s <= shift || s >= upper)
                return WALK_LEVEL;
            w->shift = s;
            w->pa = ta & ~((1ull << s) - 1);
            w->perm = perm;
            return WALK_OK;
        }
        if (nl >= level)
            return WALK_LEVEL;
        /* Skipped levels: their index bits must be zero (2.2.3). */
        uint64_t skip = ((1ull << shift) - 1) & ~((1ull << amdvi_level_shift(nl + 1)) - 1);
        if (addr & skip)
            return WALK_LEVEL;
        table = ta;
        level = nl;
    }
}

/* Special address ranges (see amdvi.h). */
enum range_kind { RANGE_NORMAL, RANGE_MSI, RANGE_HT_INTR, RANGE_HT_RSVD, RANGE_SYSMGT, RANGE_IO };

static enum range_kind classify(uint64_t addr)
{
    if (addr >= AMDVI_MSI_BASE && addr <= AMDVI_MSI_LAST)
        return RANGE_MSI;
    if (addr < 0xfd00000000ull)
        return RANGE_NORMAL;
    if (addr <= 0xfdf7ffffffull)
        return RANGE_HT_INTR;
    if (addr >= 0xfdf9000000ull && addr <= 0xfdf90fffffull)
        return RANGE_SYSMGT;
    if (addr >= 0xfdfc000000ull && addr <= 0xfdfdffffffull)
        return RANGE_IO;
    if (addr <= 0xffffffffffull)
        return RANGE_HT_RSVD;
    return RANGE_NORMAL;
}

static void invalid_request(struct amdvi *a, const struct iommu_req *req, uint8_t type,
                            struct iommu_result *res)
{
    struct amdvi_event ev = {.code = AMDVI_EV_INVALID_DEVICE_REQUEST, .devid = req->rid,
                             .type = type, .addr = req->addr};
    if (req->has_pasid) {
        ev.pasid = req->pasid;
        ev.flags = AMDVI_EVF_GN | (req->priv ? 0 : AMDVI_EVF_US);
    }
    report(a, &ev, false, IOMMU_FAULT_REQUEST, res);
}

static void page_fault(struct amdvi *a, const struct iommu_req *req, const struct amdvi_dte *d,
                       uint16_t flags, enum iommu_fault_kind kind, struct iommu_result *res)
{
    struct amdvi_event ev = {.code = AMDVI_EV_IO_PAGE_FAULT, .devid = req->rid,
                             .domain = d ? d->domain_id : 0, .flags = flags | req_flags(req),
                             .addr = req->addr};
    if (flags & AMDVI_EVF_GN)
        ev.pasid = req->pasid;
    bool suppress = false;
    if (d && d->v) {
        if (d->sa)
            suppress = true;
        else if (d->se)
            suppress = se_seen(a, req->rid, d->domain_id, req->addr);
    }
    report(a, &ev, suppress, kind, res);
}

/* A successful translation of req through a page of 2^shift bytes at pa. */
static inline void translated(struct iommu_result *res, const struct iommu_req *req, uint64_t pa,
                              unsigned shift, uint8_t perm)
{
    res->ok = true;
    res->pa = shift >= 64 ? req->addr : pa | (req->addr & ((1ull << shift) - 1));
    res->perm = perm;
    res->page_shift = (uint8_t)shift;
}

/* An IOTLB miss: walk the tables (2.2.3), cache the translation, check the
 * access. res->latency already holds the DTE's share. */
static void miss_walk(struct amdvi *a, const struct iommu_req *req, const struct amdvi_dte *d,
                      struct iommu_result *res)
{
    uint16_t rw = (req->access & IOMMU_PERM_W) ? AMDVI_EVF_RW : 0;
    uint8_t want = want_perm(req);
    res->latency += a->hit_lat;
    struct walk_out w = {0};
    enum walk_status ws = walk(a, d, req->addr, &w);
    a->st.table_reads += w.reads;
    res->latency += w.reads * a->walk_lat;
    switch (ws) {
    case WALK_OK:
        break;
    case WALK_NOT_PRESENT:
        page_fault(a, req, d, 0, IOMMU_FAULT_NOT_PRESENT, res);
        return;
    case WALK_RSVD:
        page_fault(a, req, d, AMDVI_EVF_PR | AMDVI_EVF_RZ, IOMMU_FAULT_PAGE_TABLE, res);
        return;
    case WALK_LEVEL:
        page_fault(a, req, d, AMDVI_EVF_PR, IOMMU_FAULT_PAGE_TABLE, res);
        return;
    case WALK_HWERR: {
        struct amdvi_event ev = {.code = AMDVI_EV_PAGE_TAB_HARDWARE_ERROR, .devid = req->rid,
                                 .domain = d->domain_id, .flags = rw, .type = w.hwtype,
                                 .addr = w.hw_addr};
        report(a, &ev, false, IOMMU_FAULT_HW_ERROR, res);
        return;
    }
    }
    /* the lookup just missed: no entry covers the address (iotlb.h) */
    iommu_iotlb_insert_missed(a->tlb, d->domain_id, IOMMU_IOTLB_NO_PASID, req->addr, w.pa,
                              w.shift, w.perm);
    if ((want & w.perm) != want) {
        page_fault(a, req, d, AMDVI_EVF_PR | AMDVI_EVF_PE, IOMMU_FAULT_PERMISSION, res);
        return;
    }
    translated(res, req, w.pa, w.shift, w.perm);
}

static void amdvi_translate(void *hw, const struct iommu_req *req, struct iommu_result *res)
{
    struct amdvi *a = hw;
    res_init(res);
    /* The fast path: an untranslated request without PASID to an ordinary
     * address, from a device whose cached DTE walks page tables, with no
     * exclusion range: exactly what the full path below does for it, minus
     * the checks that cannot apply. */
    if ((a->control & AMDVI_CTL_IOMMU_EN) && !req->translated && !req->has_pasid &&
        req->addr < AMDVI_MSI_BASE && !(a->excl_base & AMDVI_EXCL_EN)) {
        const struct dte_slot *fs = &a->dtc[req->rid & a->dtc_mask];
        if (fs->valid && fs->devid == req->rid && fs->walks) {
            res->domain = fs->dte.domain_id;
            const struct iommu_iotlb_entry *e =
                iommu_iotlb_lookup(a->tlb, fs->dte.domain_id, IOMMU_IOTLB_NO_PASID, req->addr);
            if (e) {
                uint8_t want = want_perm(req);
                res->latency = a->hit_lat;
                res->iotlb_hit = true;
                if ((want & e->perm) != want) {
                    page_fault(a, req, &fs->dte, AMDVI_EVF_PR | AMDVI_EVF_PE,
                               IOMMU_FAULT_PERMISSION, res);
                    return;
                }
                translated(res, req, e->pa, e->page_shift, e->perm);
                return;
            }
            /* a miss: the full path walks (the lookup above counted it) */
            miss_walk(a, req, &fs->dte, res);
            return;
        }
    }
    if (!(a->control & AMDVI_CTL_IOMMU_EN)) {
        pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
        return;
    }
    sim_time_t lat = 0;
    const struct dte_slot *s;
    uint64_t hw_addr = 0;
    uint8_t hwtype = 0;
    uint16_t rw = (req->access & IOMMU_PERM_W) ? AMDVI_EVF_RW : 0;
    switch (dte_get(a, req->rid, &s, &lat, &hw_addr, &hwtype)) {
    case DTE_BEYOND:
        page_fault(a, req, NULL, 0, IOMMU_FAULT_DEVICE_INVALID, res);
        res->latency = lat;
        return;
    case DTE_HWERR: {
        struct amdvi_event ev = {.code = AMDVI_EV_DEV_TAB_HARDWARE_ERROR, .devid = req->rid,
                                 .flags = rw, .type = hwtype, .addr = hw_addr};
        report(a, &ev, false, IOMMU_FAULT_HW_ERROR, res);
        res->latency = lat;
        return;
    }
    case DTE_OK:
        break;
    }
    const struct amdvi_dte *d = &s->dte;
    res->latency = lat;
    if (!d->v) { /* 2.2.2: V = 0, the request passes untranslated */
        pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
        return;
    }
    res->domain = d->domain_id;
    if (s->rsvd_lo || s->bad_mode) {
        struct amdvi_event ev = {.code = AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY, .devid = req->rid,
                                 .flags = rw | (s->rsvd_lo ? AMDVI_EVF_RZ : 0),
                                 .addr = req->addr};
        report(a, &ev, false, IOMMU_FAULT_DEVICE_ENTRY, res);
        return;
    }
    if (req->translated) { /* AT = 10b: allowed only with DTE.I (2.2.2, 2.5.9) */
        if (!d->i) {
            invalid_request(a, req, AMDVI_INVDEV_PRETRANSLATED, res);
            res->fault = IOMMU_FAULT_TRANSLATED;
            return;
        }
        pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
        return;
    }
    switch (classify(req->addr)) {
    case RANGE_NORMAL:
        break;
    case RANGE_MSI: /* a read (writes go to remap_msi through is_interrupt) */
        invalid_request(a, req, AMDVI_INVDEV_READ_INTR, res);
        return;
    case RANGE_HT_INTR:
        invalid_request(a, req, AMDVI_INVDEV_INTR_RANGE, res);
        return;
    case RANGE_HT_RSVD:
        invalid_request(a, req, AMDVI_INVDEV_RSVD_RANGE, res);
        return;
    case RANGE_SYSMGT:
        if (d->sysmgt == 3) {
            pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
            return;
        }
        invalid_request(a, req, AMDVI_INVDEV_SYSMGT, res);
        return;
    case RANGE_IO:
        if (d->ioctl == AMDVI_IOCTL_FORWARD) {
            pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
            return;
        }
        if (d->ioctl == AMDVI_IOCTL_ABORT) {
            invalid_request(a, req, AMDVI_INVDEV_PORT_IO, res);
            return;
        }
        break;
    }
    if (req->has_pasid && d->gv) { /* guest translation: not modelled */
        page_fault(a, req, d, AMDVI_EVF_GN, IOMMU_FAULT_NOT_PRESENT, res);
        return;
    }
    /* Exclusion range (3.4.5, 3.4.6): untranslated for every device (Allow)
     * or for devices with DTE.EX. */
    if ((a->excl_base & AMDVI_EXCL_EN) && (d->ex || (a->excl_base & AMDVI_EXCL_ALLOW))) {
        uint64_t lo = a->excl_base & AMDVI_BASE_ADDR_MASK;
        uint64_t hi = (a->excl_limit & AMDVI_BASE_ADDR_MASK) | 0xfff;
        if (req->addr >= lo && req->addr <= hi) {
            pass(res, req, IOMMU_PERM_R | IOMMU_PERM_W);
            return;
        }
    }
    uint8_t want = want_perm(req);
    if (!d->tv || d->mode == AMDVI_MODE_NONE) {
        uint8_t perm = (d->ir ? IOMMU_PERM_R : 0) | (d->iw ? IOMMU_PERM_W : 0);
        if ((want & perm) != want) {
            page_fault(a, req, d, AMDVI_EVF_PR | AMDVI_EVF_PE, IOMMU_FAULT_PERMISSION, res);
            return;
        }
        pass(res, req, perm);
        return;
    }
    const struct iommu_iotlb_entry *e =
        iommu_iotlb_lookup(a->tlb, d->domain_id, IOMMU_IOTLB_NO_PASID, req->addr);
    if (!e) {
        miss_walk(a, req, d, res);
        return;
    }
    res->latency += a->hit_lat;
    res->iotlb_hit = true;
    if ((want & e->perm) != want) {
        page_fault(a, req, d, AMDVI_EVF_PR | AMDVI_EVF_PE, IOMMU_FAULT_PERMISSION, res);
        return;
    }
    translated(res, req, e->pa, e->page_shift, e->perm);
}

/* ---- interrupt remapping (2.2.5) ---- */

static bool amdvi_is_interrupt(void *hw, uint16_t rid, uint64_t addr)
{
    (void)hw;
    (void)rid;
    return addr >= AMDVI_MSI_BASE && addr <= AMDVI_MSI_LAST;
}

static void irq_fault(struct amdvi *a, uint16_t rid, const struct amdvi_dte *d,
                      const struct iommu_msi *in, uint16_t flags, bool suppress,
                      struct iommu_irq_result *res)
{
    struct amdvi_event ev = {.code = AMDVI_EV_IO_PAGE_FAULT, .devid = rid,
                             .domain = d->domain_id, .flags = AMDVI_EVF_I | flags,
                             .addr = in->addr};
    struct iommu_result r;
    res_init(&r);
    report(a, &ev, suppress, IOMMU_FAULT_INTERRUPT, &r);
    res->ok = false;
    res->fault = IOMMU_FAULT_INTERRUPT;
    res->arch_code = AMDVI_EV_IO_PAGE_FAULT;
    res->logged = r.logged;
}

static void amdvi_remap_msi(void *hw, uint16_t rid, const struct iommu_msi *in,
                            struct iommu_irq_result *res)
{
    struct amdvi *a = hw;
    memset(res, 0, sizeof *res);
    if (!(a->control & AMDVI_CTL_IOMMU_EN) || !a->cfg.intremap) {
        res->ok = true;
        res->out = *in;
        return;
    }
    const struct dte_slot *s;
    uint64_t hw_addr = 0;
    uint8_t hwtype = 0;
    sim_time_t lat = 0;
    struct iommu_result r;
    res_init(&r);
    switch (dte_get(a, rid, &s, &lat, &hw_addr, &hwtype)) {
    case DTE_BEYOND: {
        struct amdvi_event ev = {.code = AMDVI_EV_IO_PAGE_FAULT, .devid = rid,
                                 .flags = AMDVI_EVF_I, .addr = in->addr};
        report(a, &ev, false, IOMMU_FAULT_INTERRUPT, &r);
        res->fault = IOMMU_FAULT_DEVICE_INVALID;
        res->arch_code = ev.code;
        res->logged = r.logged;
        res->latency = lat;
        return;
    }
    case DTE_HWERR: {
        struct amdvi_event ev = {.code = AMDVI_EV_DEV_TAB_HARDWARE_ERROR, .devid = rid,
                                 .flags = AMDVI_EVF_I, .type = hwtype, .addr = hw_addr};
        report(a, &ev, false, IOMMU_FAULT_HW_ERROR, &r);
        res->fault = IOMMU_FAULT_HW_ERROR;
        res->arch_code = ev.code;
        res->logged = r.logged;
        res->latency = lat;
        return;
    }
    case DTE_OK:
        break;
    }
    const struct amdvi_dte *d = &s->dte;
    res->latency = lat;
    if (!d->v || !d->iv) { /* interrupts forwarded unmapped (2.2.2 IV) */
        res->ok = true;
        res->out = *in;
        return;
    }
    if (s->rsvd_hi) {
        struct amdvi_event ev = {.code = AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY, .devid = rid,
                                 .flags = AMDVI_EVF_I | AMDVI_EVF_RZ, .addr = in->addr};
        report(a, &ev, false, IOMMU_FAULT_DEVICE_ENTRY, &r);
        res->fault = IOMMU_FAULT_DEVICE_ENTRY;
        res->arch_code = ev.code;
        res->logged = r.logged;
        return;
    }
    unsigned dm = (in->data >> 8) & 7;
    bool fwd;
    switch (dm) {
    case AMDVI_DM_FIXED:
    case AMDVI_DM_ARB:
        if (d->int_ctl == AMDVI_INTCTL_ABORT) { /* target abort, no event (2.2.5) */
            res->fault = IOMMU_FAULT_INTERRUPT;
            return;
        }
        if (d->int_ctl == AMDVI_INTCTL_FORWARD) {
            fwd = true;
            break;
        }
        goto remap;
    case AMDVI_DM_SMI:    fwd = true; break; /* SMI filtering (SmiFEn) not modelled */
    case AMDVI_DM_NMI:    fwd = d->nmi_pass; break;
    case AMDVI_DM_INIT:   fwd = d->init_pass; break;
    case AMDVI_DM_EXTINT: fwd = d->eint_pass; break;
    default:              fwd = false; break; /* reserved delivery modes */
    }
    if (!fwd) {
        res->fault = IOMMU_FAULT_INTERRUPT;
        return;
    }
    res->ok = true;
    res->out = *in;
    return;

remap:;
    unsigned index = amdvi_msi_index(in->data);
    if (index >= amdvi_int_tab_entries(d->int_tab_len)) {
        irq_fault(a, rid, d, in, 0, d->ig, res);
        return;
    }
    bool ga = (a->control & AMDVI_CTL_GA_EN) && (a->cfg.efr & AMDVI_EFR_GA_SUP);
    struct irte_slot *is = &a->irc[(rid * 31u + index) & a->irc_mask];
    if (!(is->valid && is->devid == rid && is->index == index && is->is128 == ga)) {
        unsigned sz = ga ? AMDVI_IRTE128_SIZE : AMDVI_IRTE32_SIZE;
        uint8_t raw[AMDVI_IRTE128_SIZE];
        uint64_t ea = d->int_root + (uint64_t)index * sz;
        res->latency += a->walk_lat;
        a->st.irte_reads++;
        if (mem_rd(a, ea, raw, sz, &hwtype) < 0) {
            /* The spec names no event for this; the model reports the table
             * read like a page table read. */
            struct amdvi_event ev = {.code = AMDVI_EV_PAGE_TAB_HARDWARE_ERROR, .devid = rid,
                                     .domain = d->domain_id, .flags = AMDVI_EVF_I,
                                     .type = hwtype, .addr = ea};
            report(a, &ev, false, IOMMU_FAULT_HW_ERROR, &r);
            res->fault = IOMMU_FAULT_HW_ERROR;
            res->arch_code = ev.code;
            res->logged = r.logged;
            return;
        }
        if (!is->valid)
            a->irc_used++;
        is->valid = true;
        is->devid = rid;
        is->index = (uint16_t)index;
        is->is128 = ga;
        if (ga) {
            uint64_t rsvd[2];
            is->rsvd = amdvi_irte128_decode(raw, &is->irte, rsvd);
        } else {
            uint32_t w = (uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 |
                         (uint32_t)raw[3] << 24;
            is->rsvd = amdvi_irte32_decode(w, &is->irte) != 0;
            /* GuestMode is defined only in the 128-bit format. */
            is->rsvd = is->rsvd || is->irte.guest_mode;
        }
    }
    const struct amdvi_irte *e = &is->irte;
    bool suppress = e->sup_iopf || d->ig;
    if (!e->remap_en) {
        irq_fault(a, rid, d, in, 0, suppress, res);
        return;
    }
    if (is->rsvd || (!e->guest_mode && e->int_type > AMDVI_DM_ARB)) {
        irq_fault(a, rid, d, in, AMDVI_EVF_PR | AMDVI_EVF_RZ, suppress, res);
        return;
    }
    if (e->guest_mode || e->destination > 0xff) {
        /* Posting to a guest virtual APIC and x2APIC destinations are not
         * modelled: refused without an event. */
        res->fault = IOMMU_FAULT_INTERRUPT;
        return;
    }
    res->ok = true;
    res->out.addr = amdvi_msi_addr((uint8_t)e->destination, e->dm);
    res->out.data = amdvi_msi_data(e->vector, e->int_type);
}

/* ---- commands (2.4) ---- */

static void cmd_error(struct amdvi *a, const struct amdvi_event *ev)
{
    uint8_t raw[AMDVI_EVENT_SIZE];
    amdvi_event_encode(ev, raw);
    log_event(a, raw);
    a->status &= ~AMDVI_ST_CMD_BUF_RUN;
}

static bool cmd_supported(const struct amdvi_config *cfg, unsigned op)
{
    switch (op) {
    case AMDVI_CMD_INVALIDATE_IOTLB_PAGES: return cfg->iotlb_sup;
    case AMDVI_CMD_PREFETCH_IOMMU_PAGES: return cfg->efr & AMDVI_EFR_PREF_SUP;
    case AMDVI_CMD_COMPLETE_PPR_REQUEST: return cfg->efr & AMDVI_EFR_PPR_SUP;
    case AMDVI_CMD_INVALIDATE_IOMMU_ALL: return cfg->efr & AMDVI_EFR_IA_SUP;
    default: return true;
    }
}

/* Executes one command; false when it failed (an event was logged and the
 * command buffer stopped). */
static bool cmd_exec(struct amdvi *a, const uint8_t raw[AMDVI_CMD_SIZE], uint64_t cmd_pa)
{
    struct amdvi_cmd c;
    if (amdvi_cmd_decode(raw, &c) || !(a->cmd_ok >> c.opcode & 1)) {
        struct amdvi_event ev = {.code = AMDVI_EV_ILLEGAL_COMMAND_ERROR, .addr = cmd_pa};
        cmd_error(a, &ev);
        return false;
    }
    a->st.commands++;
    a->st.cmd_time += a->cfg.cmd_latency;
    switch (c.opcode) {
    case AMDVI_CMD_COMPLETION_WAIT:
        if (c.s) {
            uint8_t data[8], hw;
            for (int i = 0; i < 8; i++)
                data[i] = (uint8_t)(c.data >> (8 * i));
            if (mem_wr(a, c.addr, data, 8, &hw) < 0) {
                struct amdvi_event ev = {.code = AMDVI_EV_COMMAND_HARDWARE_ERROR, .type = hw,
                                         .addr = c.addr};
                cmd_error(a, &ev);
                return false;
            }
        }
        if (c.i) {
            a->status |= AMDVI_ST_COM_WAIT_INT;
            if (a->control & AMDVI_CTL_COM_WAIT_INT_EN)
                raise_msi(a);
        }
        break;
    case AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY: {
        struct dte_slot *s = &a->dtc[c.devid & a->dtc_mask];
        if (s->devid == c.devid)
            s->valid = false;
        se_clear(a, c.devid, -1, 0, 0);
        break;
    }
    case AMDVI_CMD_INVALIDATE_IOMMU_PAGES: {
        uint64_t base, size;
        amdvi_inv_range(c.addr, c.s, &base, &size);
        /* Host translations are cached without a PASID tag; GN = 1 targets
         * guest translations, which the model never caches. */
        if (!c.gn)
            iommu_iotlb_flush_range(a->tlb, c.domain, IOMMU_IOTLB_NO_PASID, base, size);
        se_clear(a, -1, c.domain, base, size);
        break;
    }
    case AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE:
        for (unsigned i = 0; i <= a->irc_mask && a->irc_used; i++)
            if (a->irc[i].devid == c.devid && a->irc[i].valid) {
                a->irc[i].valid = false;
                a->irc_used--;
            }
        break;
    case AMDVI_CMD_INVALIDATE_IOMMU_ALL:
        flush_all(a);
        break;
    default: /* IOTLB_PAGES (no device IOTLBs modelled), PREFETCH, COMPLETE_PPR: no effect */
        break;
    }
    return true;
}

/* One command entry: where in DRAM it lies, when mem_rd's remembered RAM
 * region holds it (an entry lies at the 4 KiB-aligned base plus a multiple
 * of 16, so one never crosses a page: read in place, not copied), else
 * copied into buf by mem_rd. NULL when the read failed (*hw says how).
 * The page of the last entry read in place is kept with the map's
 * generation and the memory's count of page moves: the next entry in the
 * same page (255 of 256) is found by three compares, no lookup. */
static inline const uint8_t *cmd_fetch(struct amdvi *a, uint64_t pa,
                                       uint8_t buf[AMDVI_CMD_SIZE], uint8_t *hw)
{
    static const uint8_t zero[AMDVI_CMD_SIZE];
    if ((pa >> MEM_PAGE_SHIFT) == a->cmd_pfn && a->cmd_pg_gen == *a->map_gen &&
        a->cmd_pg_moves == *a->phys_moves)
        return a->cmd_pg + (pa & MEM_PAGE_MASK);
    if (a->ram_gen == *a->map_gen && pa >= a->ram_lo && pa <= a->ram_hi &&
        AMDVI_CMD_SIZE - 1 <= a->ram_hi - pa) {
        const uint8_t *pg = mem_phys_peek(a->mem, pa);
        if (!pg)
            return zero; /* a page never written reads 0 (not kept: it may be written) */
        a->cmd_pfn = pa >> MEM_PAGE_SHIFT;
        a->cmd_pg = pg;
        a->cmd_pg_gen = a->ram_gen;
        a->cmd_pg_moves = *a->phys_moves;
        return pg + (pa & MEM_PAGE_MASK);
    }
    return mem_rd(a, pa, buf, AMDVI_CMD_SIZE, hw) < 0 ? NULL : buf;
}

/* wrap: the ring's size - 1 (the registers stay while commands run) */
static void process_ring(struct amdvi *a, uint32_t wrap)
{
    uint64_t base = a->cmd_base & AMDVI_BASE_ADDR_MASK;
    while ((a->status & AMDVI_ST_CMD_BUF_RUN) && a->cmd_head != a->cmd_tail) {
        uint64_t pa = base + a->cmd_head;
        uint8_t buf[AMDVI_CMD_SIZE], hw;
        const uint8_t *raw = cmd_fetch(a, pa, buf, &hw);
        if (!raw) {
            struct amdvi_event ev = {.code = AMDVI_EV_COMMAND_HARDWARE_ERROR, .type = hw,
                                     .addr = pa};
            cmd_error(a, &ev);
            return;
        }
        if (!cmd_exec(a, raw, pa))
            return; /* the head stays on the failed command */
        a->cmd_head = (a->cmd_head + AMDVI_CMD_SIZE) & wrap;
    }
}

static void process_commands(struct amdvi *a)
{
    process_ring(a, a->cmd_wrap);
}

/* ---- registers (3.4) ---- */

static uint64_t reg_read(const struct amdvi *a, uint64_t off)
{
    switch (off) {
    case AMDVI_REG_DEV_TAB_BASE: return a->dev_tab;
    case AMDVI_REG_CMD_BUF_BASE: return a->cmd_base;
    case AMDVI_REG_EVT_LOG_BASE: return a->evt_base;
    case AMDVI_REG_CONTROL: return a->control;
    case AMDVI_REG_EXCL_BASE: return a->excl_base;
    case AMDVI_REG_EXCL_LIMIT: return a->excl_limit;
    case AMDVI_REG_EFR: return a->cfg.efr;
    case AMDVI_REG_PPR_LOG_BASE: return a->ppr_base;
    case AMDVI_REG_CMD_HEAD: return a->cmd_head;
    case AMDVI_REG_CMD_TAIL: return a->cmd_tail;
    case AMDVI_REG_EVT_HEAD: return a->evt_head;
    case AMDVI_REG_EVT_TAIL: return a->evt_tail;
    case AMDVI_REG_STATUS: return a->status;
    case AMDVI_REG_PPR_HEAD: return a->ppr_head;
    case AMDVI_REG_PPR_TAIL: return a->ppr_tail;
    default: return 0;
    }
}

static void control_write(struct amdvi *a, uint64_t v)
{
    uint64_t old = a->control;
    a->control = v & AMDVI_CTL_WRITABLE;
    uint64_t cmd_on = AMDVI_CTL_IOMMU_EN | AMDVI_CTL_CMD_BUF_EN;
    uint64_t evt_on = AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVENT_LOG_EN;
    if ((a->control & cmd_on) != cmd_on)
        a->status &= ~AMDVI_ST_CMD_BUF_RUN;
    else if ((old & cmd_on) != cmd_on)
        a->status |= AMDVI_ST_CMD_BUF_RUN;
    if ((a->control & evt_on) != evt_on)
        a->status &= ~AMDVI_ST_EVENT_LOG_RUN;
    else if ((old & evt_on) != evt_on)
        a->status |= AMDVI_ST_EVENT_LOG_RUN;
    process_commands(a);
}

/* Writes the bytes of `mask` of register `off` with v (already positioned). */
static void reg_write(struct amdvi *a, uint64_t off, uint64_t v, uint64_t mask)
{
    uint64_t cur = reg_read(a, off);
    uint64_t nv = (cur & ~mask) | (v & mask);
    switch (off) {
    case AMDVI_REG_DEV_TAB_BASE:
        if (!(a->control & AMDVI_CTL_IOMMU_EN))
            a->dev_tab = nv & (AMDVI_BASE_ADDR_MASK | AMDVI_DEV_TAB_SIZE_MASK);
        break;
    case AMDVI_REG_CMD_BUF_BASE:
        if (!(a->status & AMDVI_ST_CMD_BUF_RUN)) {
            a->cmd_base = nv & (AMDVI_BASE_ADDR_MASK | AMDVI_LEN_MASK << AMDVI_LEN_SHIFT);
            a->cmd_wrap = ring_bytes(a->cmd_base) - 1;
        }
        break;
    case AMDVI_REG_EVT_LOG_BASE:
        if (!(a->status & AMDVI_ST_EVENT_LOG_RUN))
            a->evt_base = nv & (AMDVI_BASE_ADDR_MASK | AMDVI_LEN_MASK << AMDVI_LEN_SHIFT);
        break;
    case AMDVI_REG_PPR_LOG_BASE:
        a->ppr_base = nv & (AMDVI_BASE_ADDR_MASK | AMDVI_LEN_MASK << AMDVI_LEN_SHIFT);
        break;
    case AMDVI_REG_CONTROL:
        control_write(a, nv);
        break;
    case AMDVI_REG_EXCL_BASE:
        a->excl_base = nv & (AMDVI_BASE_ADDR_MASK | AMDVI_EXCL_EN | AMDVI_EXCL_ALLOW);
        break;
    case AMDVI_REG_EXCL_LIMIT:
        a->excl_limit = nv & AMDVI_BASE_ADDR_MASK;
        break;
    case AMDVI_REG_CMD_HEAD:
        if (!(a->status & AMDVI_ST_CMD_BUF_RUN))
            a->cmd_head = ring_wrap(a->cmd_base, nv & AMDVI_PTR_MASK);
        break;
    case AMDVI_REG_CMD_TAIL:
        a->cmd_tail = ring_wrap(a->cmd_base, nv & AMDVI_PTR_MASK);
        process_commands(a);
        break;
    case AMDVI_REG_EVT_HEAD:
        a->evt_head = ring_wrap(a->evt_base, nv & AMDVI_PTR_MASK);
        break;
    case AMDVI_REG_EVT_TAIL:
        if (!(a->status & AMDVI_ST_EVENT_LOG_RUN))
            a->evt_tail = ring_wrap(a->evt_base, nv & AMDVI_PTR_MASK);
        break;
    case AMDVI_REG_STATUS:
        a->status &= ~(v & mask & AMDVI_ST_RW1C);
        break;
    case AMDVI_REG_PPR_HEAD:
        a->ppr_head = (uint32_t)(nv & AMDVI_PTR_MASK);
        break;
    case AMDVI_REG_PPR_TAIL:
        a->ppr_tail = (uint32_t)(nv & AMDVI_PTR_MASK);
        break;
    default: /* EFR and unimplemented offsets: read-only / ignored */
        break;
    }
}

static int mmio_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct amdvi *a = ctx;
    if ((len != 4 && len != 8) || (off & (len - 1)) || off + len > AMDVI_MMIO_SIZE)
        return -PCILAB_EINVAL;
    uint64_t v = reg_read(a, off & ~7ull) >> (8 * (off & 7));
    if (len == 4)
        sim_put_le32(buf, (uint32_t)v);
    else
        sim_put_le64(buf, v);
    return 0;
}

static int mmio_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct amdvi *a = ctx;
    if ((len != 4 && len != 8) || (off & (len - 1)) || off + len > AMDVI_MMIO_SIZE)
        return -PCILAB_EINVAL;
    uint64_t v = len == 4 ? sim_get_le32(buf) : sim_get_le64(buf);
    unsigned sh = (unsigned)(8 * (off & 7));
    uint64_t mask = (len == 8 ? ~0ull : 0xffffffffull) << sh;
    reg_write(a, off & ~7ull, v << sh, mask);
    return 0;
}

/* readl/writel of one register, what mmio_read/mmio_write do for 4 bytes
 * (the address map calls these for a CPU's 32-bit accesses). The driver polls
 * the command buffer's head and tail and writes the tail once per command
 * (200,000 times in a 4.x boot): those skip the general path. */
static int mmio_read32(void *ctx, uint64_t off, uint32_t *v)
{
    const struct amdvi *a = ctx;
    /* the two offsets are aligned and inside the block: tested first, the
     * general checks only for the other registers */
    if (off == AMDVI_REG_CMD_HEAD) {
        *v = a->cmd_head;
        return 0;
    }
    if (off == AMDVI_REG_CMD_TAIL) {
        *v = a->cmd_tail;
        return 0;
    }
    if ((off & 3) || off + 4 > AMDVI_MMIO_SIZE)
        return -PCILAB_EINVAL;
    *v = (uint32_t)(reg_read(a, off & ~7ull) >> (8 * (off & 7)));
    return 0;
}

static int mmio_write32(void *ctx, uint64_t off, uint32_t v)
{
    struct amdvi *a = ctx;
    if (off == AMDVI_REG_CMD_TAIL) { /* reg_write's case with all 32 bits written */
        a->cmd_tail = v & AMDVI_PTR_MASK & a->cmd_wrap; /* ring_wrap */
        process_ring(a, a->cmd_wrap);
        return 0;
    }
    if ((off & 3) || off + 4 > AMDVI_MMIO_SIZE)
        return -PCILAB_EINVAL;
    unsigned sh = (unsigned)(8 * (off & 7));
    reg_write(a, off & ~7ull, (uint64_t)v << sh, 0xffffffffull << sh);
    return 0;
}

static const struct mem_mmio_ops amdvi_mmio_ops = {
    .read = mmio_read, .write = mmio_write, .read32 = mmio_read32, .write32 = mmio_write32};

/* ---- life cycle ---- */

static void amdvi_reset(void *hw)
{
    struct amdvi *a = hw;
    a->dev_tab = a->cmd_base = a->evt_base = a->control = 0;
    a->excl_base = a->excl_limit = a->ppr_base = a->status = 0;
    a->cmd_head = a->cmd_tail = a->evt_head = a->evt_tail = a->ppr_head = a->ppr_tail = 0;
    a->cmd_wrap = ring_bytes(0) - 1;
    flush_all(a);
}

static const struct iommu_ops amdvi_ops = {
    .arch = "amd-vi",
    .translate = amdvi_translate,
    .remap_msi = amdvi_remap_msi,
    .reset = amdvi_reset,
    .is_interrupt = amdvi_is_interrupt,
};

void amdvi_config_default(struct amdvi_config *c)
{
    memset(c, 0, sizeof *c);
    c->mmio_base = 0xfeb80000ull;
    c->devid = 0x0002;
    c->efr = AMDVI_EFR_PREF_SUP | AMDVI_EFR_PPR_SUP | AMDVI_EFR_IA_SUP | AMDVI_EFR_GA_SUP |
             2ull << AMDVI_EFR_HATS_SHIFT;
    c->iotlb_sup = true;
    c->intremap = true;
    iommu_iotlb_config_default(&c->iotlb);
    c->dte_cache_entries = 256;
    c->irte_cache_entries = 256;
    c->cmd_latency = 10 * SIM_NS;
}

static void amdvi_destroy(void *obj)
{
    struct amdvi *a = obj;
    if (!a)
        return;
    iommu_iotlb_destroy(a->tlb);
    free(a->dtc);
    free(a->irc);
    free(a);
}

static bool pow2(unsigned v)
{
    return v && !(v & (v - 1));
}

struct amdvi *amdvi_create(struct pcilab_sim *sim, struct mem_phys *mem, struct mem_addrmap *map,
                           const struct amdvi_config *cfg, struct pcilab_err *err)
{
    if (!sim || !mem || !map || !cfg) {
        pcilab_errf(err, PCILAB_EINVAL, "amdvi: sim, memory, address map and config are needed");
        return NULL;
    }
    if (!pow2(cfg->dte_cache_entries) || cfg->dte_cache_entries > 65536 ||
        !pow2(cfg->irte_cache_entries) || cfg->irte_cache_entries > 65536) {
        pcilab_errf(err, PCILAB_EINVAL,
                    "amdvi: DTE and IRTE cache sizes must be powers of two up to 65536 (%u, %u)",
                    cfg->dte_cache_entries, cfg->irte_cache_entries);
        return NULL;
    }
    if (cfg->mmio_base & (AMDVI_MMIO_SIZE - 1)) {
        pcilab_errf(err, PCILAB_EINVAL, "amdvi: MMIO base 0x%llx is not 16 KiB aligned",
                    (unsigned long long)cfg->mmio_base);
        return NULL;
    }
    struct amdvi *a = calloc(1, sizeof *a);
    if (!a) {
        pcilab_errf(err, PCILAB_ENOMEM, "amdvi: out of memory");
        return NULL;
    }
    a->cfg = *cfg;
    a->sim = sim;
    a->mem = mem;
    a->map = map;
    a->map_gen = mem_addrmap_generation_ptr(map);
    a->phys_moves = mem_phys_moves_ptr(mem);
    a->cmd_pfn = ~0ull;
    a->ram_lo = 1;
    a->ram_hi = 0; /* nothing remembered yet */
    a->cmd_wrap = ring_bytes(0) - 1;
    a->dtc_mask = cfg->dte_cache_entries - 1;
    a->irc_mask = cfg->irte_cache_entries - 1;
    for (unsigned op = 0; op < 16; op++)
        a->cmd_ok |= (unsigned)cmd_supported(cfg, op) << op;
    a->dtc = calloc(cfg->dte_cache_entries, sizeof *a->dtc);
    a->irc = calloc(cfg->irte_cache_entries, sizeof *a->irc);
    a->tlb = iommu_iotlb_create(&cfg->iotlb, err);
    if (!a->dtc || !a->irc || !a->tlb) {
        if (a->tlb || !err || !err->code)
            pcilab_errf(err, PCILAB_ENOMEM, "amdvi: out of memory");
        amdvi_destroy(a);
        return NULL;
    }
    a->hit_lat = cfg->iotlb.hit_latency;
    a->walk_lat = cfg->iotlb.walk_latency;
    a->io.ops = &amdvi_ops;
    a->io.hw = a;
    snprintf(a->io.name, sizeof a->io.name, "AMD-Vi %04x:%02x:%02x.%x", 0u,
             (unsigned)(cfg->devid >> 8), (unsigned)((cfg->devid >> 3) & 0x1f),
             (unsigned)(cfg->devid & 7));
    if (mem_addrmap_add_mmio(map, cfg->mmio_base, AMDVI_MMIO_SIZE, "AMD-Vi MMIO",
                             &amdvi_mmio_ops, a, err) < 0) {
        amdvi_destroy(a);
        return NULL;
    }
    if (sim_own(sim, a, amdvi_destroy) < 0) {
        mem_addrmap_remove(map, cfg->mmio_base, NULL);
        amdvi_destroy(a);
        pcilab_errf(err, PCILAB_ENOMEM, "amdvi: out of memory");
        return NULL;
    }
    return a;
}

const struct amdvi_config *amdvi_get_config(const struct amdvi *a) { return &a->cfg; }

struct iommu *amdvi_iommu(struct amdvi *a)
{
    return &a->io;
}

void amdvi_get_stats(const struct amdvi *a, struct amdvi_stats *st)
{
    *st = a->st;
}
