/* The fault recorder (iommu_rec.h). */
#include "diag/iommu_rec.h"

#include <stdlib.h>
#include <string.h>

#include "pcie/topology.h"
#include "sim/sim.h"

struct diag_rec {
    struct iommu *io;
    struct diag_fault_sig sigs[DIAG_REC_MAX_SIGS];
    size_t nsigs;
    struct diag_stream streams[DIAG_REC_MAX_STREAMS];
    size_t nstreams;
    struct diag_rec_totals tot;
    uint64_t xfer_seq;            /* transfer numbers, all streams */
    uint64_t stream_xfer[DIAG_REC_MAX_STREAMS]; /* current transfer of each stream */
};

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

void diag_rec_detach(struct diag_rec *r)
{
    if (r->io && r->io->observer == diag_rec_observe && r->io->observer_ctx == r)
        iommu_set_observer(r->io, NULL, NULL);
    r->io = NULL;
}

void diag_rec_clear(struct diag_rec *r)
{
    struct iommu *io = r->io;
    memset(r, 0, sizeof *r);
    r->io = io;
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

static struct diag_fault_sig *sig_of(struct diag_rec *r, const struct iommu_req *req,
                                     const struct iommu_result *res)
{
    bool write = (req->access & IOMMU_PERM_W) != 0;
    uint64_t page = req->addr >> 12;
    for (size_t i = 0; i < r->nsigs; i++) {
        struct diag_fault_sig *g = &r->sigs[i];
        if (g->rid == req->rid && g->write == write && g->domain == res->domain &&
            g->arch_code == res->arch_code && g->arch_flags == res->arch_flags &&
            g->kind == res->fault && g->page == page)
            return g;
    }
    if (r->nsigs == DIAG_REC_MAX_SIGS)
        return NULL;
    struct diag_fault_sig *g = &r->sigs[r->nsigs++];
    memset(g, 0, sizeof *g);
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
    struct diag_fault_sig *g = sig_of(r, req, res);
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
