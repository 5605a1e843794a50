/* The fault recorder (iommu_rec.h). */
#include "diag/iommu_rec.h"

#include <stdlib.h>
#include <string.h>

#include "mem/addrmap.h"
#include "pcie/topology.h"
#include "sim/bytes.h"
#include "sim/sim.h"

/* One VT-d unit the recorder observes (diag_rec_attach_vtd). */
struct diag_rec_tap {
    struct diag_rec *r;
    struct iommu *io;
    struct vtd *vtd;
};

struct diag_rec {
    struct iommu *io;             /* diag_rec_attach */
    struct mem_addrmap *map;      /* VT-d snapshots: how to read the unit and its tables */
    struct vtd *vtd;              /* diag_rec_set_vtd: the unit behind io */
    struct diag_rec_tap taps[DIAG_REC_MAX_UNITS];
    size_t ntaps;
    struct diag_fault_sig sigs[DIAG_REC_MAX_SIGS];
    size_t nsigs;
    struct diag_stream streams[DIAG_REC_MAX_STREAMS];
    size_t nstreams;
    struct diag_rec_totals tot;
    uint64_t xfer_seq;            /* transfer numbers, all streams */
    uint64_t stream_xfer[DIAG_REC_MAX_STREAMS]; /* current transfer of each stream */
};

static void record(struct diag_rec *r, struct vtd *unit, const struct pcie_upstream_req *up,
                   const struct iommu_req *req, const struct iommu_result *res);

struct diag_rec *diag_rec_create(void)
{
    return calloc(1, sizeof(struct diag_rec));
}

void diag_rec_destroy(struct diag_rec *r)
{
    if (!r)
        return;
    diag_rec_detach(r);
    free(r);
}

void diag_rec_attach(struct diag_rec *r, struct iommu *io)
{
    diag_rec_detach(r);
    r->io = io;
    iommu_set_observer(io, diag_rec_observe, r);
}

static void tap_observe(void *ctx, const struct pcie_upstream_req *up, const struct iommu_req *req,
                        const struct iommu_result *res)
{
    struct diag_rec_tap *t = ctx;
    record(t->r, t->vtd, up, req, res);
}

int diag_rec_attach_vtd(struct diag_rec *r, struct mem_addrmap *map, struct vtd *v)
{
    if (r->ntaps == DIAG_REC_MAX_UNITS)
        return -1;
    struct diag_rec_tap *t = &r->taps[r->ntaps++];
    *t = (struct diag_rec_tap){r, vtd_iommu(v), v};
    r->map = map;
    iommu_set_observer(t->io, tap_observe, t);
    return 0;
}

void diag_rec_detach(struct diag_rec *r)
{
    if (r->io && r->io->observer == diag_rec_observe && r->io->observer_ctx == r)
        iommu_set_observer(r->io, NULL, NULL);
    r->io = NULL;
    for (size_t i = 0; i < r->ntaps; i++)
        if (r->taps[i].io->observer == tap_observe && r->taps[i].io->observer_ctx == &r->taps[i])
            iommu_set_observer(r->taps[i].io, NULL, NULL);
    r->ntaps = 0;
}

void diag_rec_set_vtd(struct diag_rec *r, struct mem_addrmap *map, struct vtd *v)
{
    r->map = map;
    r->vtd = v;
}

void diag_rec_clear(struct diag_rec *r)
{
    struct iommu *io = r->io;
    struct mem_addrmap *map = r->map;
    struct vtd *v = r->vtd;
    struct diag_rec_tap taps[DIAG_REC_MAX_UNITS];
    size_t ntaps = r->ntaps;
    memcpy(taps, r->taps, sizeof taps);
    memset(r, 0, sizeof *r);
    r->io = io;
    r->map = map;
    r->vtd = v;
    memcpy(r->taps, taps, sizeof taps);
    r->ntaps = ntaps;
}

/* ---- VT-d: root entry, context entry and walk, through the unit's registers ---- */

static bool reg_read(struct mem_addrmap *map, uint64_t pa, void *buf, size_t len)
{
    return mem_addrmap_read(map, pa, buf, len, NULL) >= 0;
}

const char *diag_vtd_why_name(enum diag_vtd_why w)
{
    switch (w) {
    case DIAG_VTD_WHY_ROOT_NOT_PRESENT: return "the root entry of the bus is not present (P=0)";
    case DIAG_VTD_WHY_CTX_NOT_PRESENT: return "the context entry is not present (P=0)";
    case DIAG_VTD_WHY_NOT_PRESENT: return "no present entry maps the page (R=0 W=0)";
    case DIAG_VTD_WHY_NO_WRITE: return "the page is mapped without write permission (W=0)";
    case DIAG_VTD_WHY_NO_READ: return "the page is mapped without read permission (R=0)";
    case DIAG_VTD_WHY_PASID_DIR_NOT_PRESENT:
        return "the PASID directory entry is not present (P=0)";
    case DIAG_VTD_WHY_PASID_NOT_PRESENT: return "the PASID table entry is not present (P=0)";
    case DIAG_VTD_WHY_CHANGED: return "the tables allow the access now (mapped after the fault)";
    case DIAG_VTD_WHY_NONE: break;
    }
    return "see VT-d 7.2 (the fault reason table)";
}

/* The second-level walk of addr from table (the context entry's or the
 * PASID entry's SLPTPTR), AW levels (3.7, 9.8): each entry read and decoded;
 * stops at the first entry that is not present (R = W = 0) or at a leaf. */
static void vtd_walk_read(struct mem_addrmap *m, uint64_t addr, uint64_t table, unsigned aw,
                          struct diag_vtd *o)
{
    unsigned levels = vtd_aw_levels(aw);
    if (levels > DIAG_VTD_LEVELS)
        return;
    o->walk_r = o->walk_w = true;
    for (unsigned level = levels; level >= 1; level--) {
        struct diag_vtd_level *l = &o->lv[o->nlevels];
        l->level = level;
        l->table_pa = table;
        l->index = (unsigned)(addr >> vtd_level_shift(level)) & 0x1ff;
        l->entry_pa = table + 8ull * l->index;
        uint8_t b[8];
        if (!reg_read(m, l->entry_pa, b, 8))
            return;
        o->nlevels++;
        l->raw = sim_get_le64(b);
        vtd_sl_pte_decode(l->raw, &l->pte);
        l->present = vtd_sl_pte_present(l->raw);
        if (!l->present) {
            o->walk_r = o->walk_w = false;
            return;
        }
        o->walk_r &= l->pte.r;
        o->walk_w &= l->pte.w;
        l->leaf = vtd_sl_pte_is_leaf(l->raw, level);
        if (l->leaf) {
            o->leaf_found = true;
            return;
        }
        table = l->pte.addr;
    }
}

static void sm_read(struct mem_addrmap *m, uint16_t rid, uint64_t addr, bool write,
                    struct diag_vtd *o);
static void walk_why(bool write, struct diag_vtd *o);

void diag_vtd_read(struct mem_addrmap *m, struct vtd *vtd, uint16_t rid, uint64_t addr,
                   bool write, struct diag_vtd *o)
{
    memset(o, 0, sizeof *o);
    if (!m || !vtd)
        return;
    o->mmio_base = vtd_get_config(vtd)->mmio_base;
    uint8_t b[8];
    if (!reg_read(m, o->mmio_base + VTD_REG_CAP, b, 8))
        return;
    o->cap = sim_get_le64(b);
    if (!reg_read(m, o->mmio_base + VTD_REG_RTADDR, b, 8))
        return;
    o->rtaddr = sim_get_le64(b);
    if (!reg_read(m, o->mmio_base + VTD_REG_GSTS, b, 4))
        return;
    o->gsts = sim_get_le32(b);
    if (!reg_read(m, o->mmio_base + VTD_REG_FSTS, b, 4))
        return;
    o->fsts = sim_get_le32(b);
    o->read = true;
    o->nfr = vtd_cap_nfr(o->cap);
    vtd_get_stats(vtd, &o->stats);
    if (o->fsts & VTD_FSTS_PPF) {
        uint8_t fr[VTD_FRCD_SIZE];
        o->frcd_index = (o->fsts & VTD_FSTS_FRI_MASK) >> VTD_FSTS_FRI_SHIFT;
        uint64_t at = o->mmio_base + vtd_cap_fro(o->cap) + (uint64_t)o->frcd_index * VTD_FRCD_SIZE;
        if (o->frcd_index < o->nfr && reg_read(m, at, fr, 8) && reg_read(m, at + 8, fr + 8, 8)) {
            vtd_fault_record_decode(fr, &o->frcd);
            o->frcd_read = true;
        }
    }
    if (!(o->gsts & VTD_GSTS_RTPS))
        return;
    /* root entry by bus (9.1), context entry by devfn (9.3) */
    o->root_table = o->rtaddr & VTD_RTADDR_RTA_MASK;
    o->root_pa = o->root_table + (uint64_t)(rid >> 8) * VTD_ROOT_ENTRY_SIZE;
    if (!reg_read(m, o->root_pa, o->root_raw, VTD_ROOT_ENTRY_SIZE))
        return;
    o->root_read = true;
    o->sm = ((o->rtaddr & VTD_RTADDR_TTM_MASK) >> VTD_RTADDR_TTM_SHIFT) == VTD_TTM_SCALABLE;
    if (o->sm) {
        sm_read(m, rid, addr, write, o);
        return;
    }
    vtd_root_entry_decode(o->root_raw, &o->root);
    if (!o->root.p) {
        o->why = DIAG_VTD_WHY_ROOT_NOT_PRESENT;
        return;
    }
    o->ctx_table = o->root.ctp;
    o->ctx_pa = o->ctx_table + (uint64_t)(rid & 0xff) * VTD_CTX_ENTRY_SIZE;
    if (!reg_read(m, o->ctx_pa, o->ctx_raw, VTD_CTX_ENTRY_SIZE))
        return;
    vtd_context_entry_decode(o->ctx_raw, &o->ctx);
    o->ctx_read = true;
    if (!o->ctx.p) {
        o->why = DIAG_VTD_WHY_CTX_NOT_PRESENT;
        return;
    }
    if (o->ctx.tt != VTD_TT_SLT && o->ctx.tt != VTD_TT_SLT_DEVTLB)
        return;
    vtd_walk_read(m, addr, o->ctx.slptptr, o->ctx.aw, o);
    walk_why(write, o);
}

/* Scalable mode, from the root entry on: the half of the root entry for the
 * devfn (9.2), the context entry (9.4), the PASID directory and table
 * entries of RID_PASID (9.5, 9.6: directory index PASID >> 6, table index
 * PASID & 0x3f), and for PGTT second-level the walk. */
static void sm_read(struct mem_addrmap *m, uint16_t rid, uint64_t addr, bool write,
                    struct diag_vtd *o)
{
    vtd_sm_root_entry_decode(o->root_raw, &o->sm_root);
    unsigned devfn = rid & 0xff;
    bool upper = devfn >= 0x80;
    if (!(upper ? o->sm_root.up : o->sm_root.lp)) {
        o->why = DIAG_VTD_WHY_ROOT_NOT_PRESENT;
        return;
    }
    o->ctx_table = upper ? o->sm_root.uctp : o->sm_root.lctp;
    o->ctx_pa = o->ctx_table + (uint64_t)(devfn & 0x7f) * VTD_SM_CTX_ENTRY_SIZE;
    if (!reg_read(m, o->ctx_pa, o->sm_ctx_raw, VTD_SM_CTX_ENTRY_SIZE))
        return;
    vtd_sm_context_entry_decode(o->sm_ctx_raw, &o->sm_ctx);
    o->ctx_read = true;
    if (!o->sm_ctx.p) {
        o->why = DIAG_VTD_WHY_CTX_NOT_PRESENT;
        return;
    }
    o->pasid = o->sm_ctx.rid_pasid;
    o->pdir_pa = o->sm_ctx.pasiddirptr + (uint64_t)(o->pasid >> 6) * VTD_PASID_DIR_ENTRY_SIZE;
    uint8_t b[8];
    if (!reg_read(m, o->pdir_pa, b, 8))
        return;
    o->pdir_raw = sim_get_le64(b);
    vtd_pasid_dir_entry_decode(o->pdir_raw, &o->pdir);
    o->pdir_read = true;
    if (!o->pdir.p) {
        o->why = DIAG_VTD_WHY_PASID_DIR_NOT_PRESENT;
        return;
    }
    o->pasid_pa = o->pdir.smptblptr + (uint64_t)(o->pasid & 0x3f) * VTD_PASID_ENTRY_SIZE;
    if (!reg_read(m, o->pasid_pa, o->pasid_raw, VTD_PASID_ENTRY_SIZE))
        return;
    vtd_pasid_entry_decode(o->pasid_raw, &o->pe);
    o->pasid_read = true;
    if (!o->pe.p) {
        o->why = DIAG_VTD_WHY_PASID_NOT_PRESENT;
        return;
    }
    if (o->pe.pgtt != VTD_PGTT_SL)
        return; /* pass-through, or first-level tables: no second-level walk */
    vtd_walk_read(m, addr, o->pe.slptptr, o->pe.aw, o);
    walk_why(write, o);
}

/* Why a walk read to its end gave the reason (5/6, 0x85/0x86 ...). */
static void walk_why(bool write, struct diag_vtd *o)
{
    if (!o->leaf_found)
        o->why = DIAG_VTD_WHY_NOT_PRESENT;
    else if (write && !o->walk_w)
        o->why = DIAG_VTD_WHY_NO_WRITE;
    else if (!write && !o->walk_r)
        o->why = DIAG_VTD_WHY_NO_READ;
    else
        o->why = DIAG_VTD_WHY_CHANGED;
}


/* The stream of (rid, write): index, or -1 when the table is full. */
static long stream_of(struct diag_rec *r, uint16_t rid, bool write,
                      const struct pcie_fn *ingress)
{
    for (size_t i = 0; i < r->nstreams; i++)
        if (r->streams[i].rid == rid && r->streams[i].write == write)
            return (long)i;
    if (r->nstreams == DIAG_REC_MAX_STREAMS)
        return -1;
    struct diag_stream *s = &r->streams[r->nstreams];
    memset(s, 0, sizeof *s);
    s->rid = rid;
    s->write = write;
    s->ingress = ingress;
    s->next_addr = UINT64_MAX;
    return (long)r->nstreams++;
}

static struct diag_fault_sig *sig_of(struct diag_rec *r, struct vtd *unit,
                                     const struct iommu_req *req, const struct iommu_result *res)
{
    bool write = (req->access & IOMMU_PERM_W) != 0;
    uint64_t page = req->addr >> 12;
    for (size_t i = 0; i < r->nsigs; i++) {
        struct diag_fault_sig *g = &r->sigs[i];
        if (g->unit == unit && g->rid == req->rid && g->write == write && g->domain == res->domain &&
            g->arch_code == res->arch_code && g->arch_flags == res->arch_flags &&
            g->kind == res->fault && g->page == page)
            return g;
    }
    if (r->nsigs == DIAG_REC_MAX_SIGS)
        return NULL;
    struct diag_fault_sig *g = &r->sigs[r->nsigs++];
    memset(g, 0, sizeof *g);
    g->unit = unit;
    g->rid = req->rid;
    g->write = write;
    g->domain = res->domain;
    g->arch_code = res->arch_code;
    g->arch_flags = res->arch_flags;
    g->kind = res->fault;
    g->page = page;
    g->last_xfer = UINT64_MAX;
    return g;
}

void diag_rec_observe(void *ctx, const struct pcie_upstream_req *up, const struct iommu_req *req,
                      const struct iommu_result *res)
{
    struct diag_rec *r = ctx;
    record(r, r->vtd, up, req, res);
}

static void record(struct diag_rec *r, struct vtd *unit, const struct pcie_upstream_req *up,
                   const struct iommu_req *req, const struct iommu_result *res)
{
    sim_time_t now = up && up->fabric ? sim_now(pcie_fabric_sim(up->fabric)) : 0;
    bool write = (req->access & IOMMU_PERM_W) != 0;
    const struct pcie_fn *ingress = up ? up->ingress : NULL;
    r->tot.translations++;

    /* the stream, and the transfer this TLP belongs to */
    uint64_t xfer = 0;
    long si = stream_of(r, req->rid, write, ingress);
    if (si < 0) {
        r->tot.streams_dropped++;
    } else {
        struct diag_stream *s = &r->streams[si];
        if (!s->tlps)
            s->first_addr = req->addr;
        s->tlps++;
        s->bytes += req->size;
        if (req->size > s->max_tlp_len)
            s->max_tlp_len = req->size;
        if (req->addr != s->next_addr) { /* not the continuation: a new transfer */
            s->transfers++;
            s->cur_tlps = 0;
            r->stream_xfer[si] = ++r->xfer_seq;
        }
        s->cur_tlps++;
        if (s->cur_tlps > s->max_tlps_per_xfer)
            s->max_tlps_per_xfer = s->cur_tlps;
        s->next_addr = req->addr + req->size;
        xfer = r->stream_xfer[si];
        if (res->ok) {
            s->ok++;
            s->ok_bytes += req->size;
            s->any_ok = true;
            s->ok_domain = res->domain;
            s->ok_perm = res->perm;
            s->ok_page_shift = res->page_shift;
            s->ok_addr = req->addr;
            s->ok_pa = res->pa;
        } else {
            s->faults++;
        }
    }
    if (res->ok)
        return;

    r->tot.faults++;
    struct diag_fault_sig *g = sig_of(r, unit, req, res);
    if (!g) {
        r->tot.sigs_dropped++;
        return;
    }
    if (!g->count) {
        g->first = now;
        g->first_addr = req->addr;
        g->first_len = req->size;
        g->ingress = ingress;
        if (up && up->tlp) {
            g->tlp = *up->tlp;
            g->tlp.payload = NULL;
            size_t h = pcie_tlp_header_dw(up->tlp) * 4u;
            if (h > DIAG_TLP_HDR_MAX)
                h = DIAG_TLP_HDR_MAX;
            if (up->bytes && up->nbytes >= h) {
                memcpy(g->hdr, up->bytes, h);
                g->hdr_len = h;
            }
        }
    }
    if (!g->count && unit && r->map) {
        diag_vtd_read(r->map, unit, req->rid, req->addr, write, &g->vtd);
        g->has_vtd = g->vtd.read;
    }
    g->count++;
    g->bytes += req->size;
    g->last = now;
    if (res->logged)
        g->logged++;
    if (xfer != g->last_xfer || si < 0) {
        g->transfers++;
        g->last_xfer = xfer;
    }
}

size_t diag_rec_sig_count(const struct diag_rec *r)
{
    return r->nsigs;
}

const struct diag_fault_sig *diag_rec_sig_at(const struct diag_rec *r, size_t i)
{
    return i < r->nsigs ? &r->sigs[i] : NULL;
}

size_t diag_rec_stream_count(const struct diag_rec *r)
{
    return r->nstreams;
}

const struct diag_stream *diag_rec_stream_at(const struct diag_rec *r, size_t i)
{
    return i < r->nstreams ? &r->streams[i] : NULL;
}

const struct diag_stream *diag_rec_stream_find(const struct diag_rec *r, uint16_t rid, bool write)
{
    for (size_t i = 0; i < r->nstreams; i++)
        if (r->streams[i].rid == rid && r->streams[i].write == write)
            return &r->streams[i];
    return NULL;
}

void diag_rec_totals(const struct diag_rec *r, struct diag_rec_totals *out)
{
    *out = r->tot;
}
