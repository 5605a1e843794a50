/* Several remapping units on one root complex (router.h). */
#include "iommu/router.h"

#include <stdlib.h>

#include "pcie/topology.h"

struct iommu_router {
    struct pcie_fabric *fabric;
    size_t nfns;
    struct iommu **unit_of;     /* by pcie_fn_index: the function's unit */
    unsigned char *named;       /* by pcie_fn_index: iommu_router_set named it */
    struct iommu *dflt;
    struct iommu *units[IOMMU_ROUTER_MAX_UNITS];
    size_t nunits;
    uint64_t untranslated;
};

struct iommu_router *iommu_router_create(struct pcie_fabric *f, struct pcilab_err *err)
{
    struct iommu_router *r = calloc(1, sizeof *r);
    size_t n = pcie_fabric_fn_count(f);
    if (r) {
        r->fabric = f;
        r->nfns = n;
        r->unit_of = calloc(n ? n : 1, sizeof *r->unit_of);
        r->named = calloc(n ? n : 1, 1);
    }
    if (!r || !r->unit_of || !r->named) {
        iommu_router_destroy(r);
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the IOMMU router");
        return NULL;
    }
    return r;
}

void iommu_router_destroy(struct iommu_router *r)
{
    if (!r)
        return;
    free(r->unit_of);
    free(r->named);
    free(r);
}

/* Adds io to the distinct units (NULL is no unit). */
static int note_unit(struct iommu_router *r, struct iommu *io, struct pcilab_err *err)
{
    if (!io)
        return 0;
    for (size_t i = 0; i < r->nunits; i++)
        if (r->units[i] == io)
            return 0;
    if (r->nunits == IOMMU_ROUTER_MAX_UNITS)
        return pcilab_errf(err, PCILAB_EINVAL, "more than %d remapping units on one root complex",
                           IOMMU_ROUTER_MAX_UNITS);
    r->units[r->nunits++] = io;
    return 0;
}

int iommu_router_set(struct iommu_router *r, const struct pcie_fn *fn, struct iommu *io,
                     struct pcilab_err *err)
{
    size_t i = fn ? pcie_fn_index(fn) : r->nfns;
    if (!fn || pcie_fn_fabric(fn) != r->fabric || i >= r->nfns)
        return pcilab_errf(err, PCILAB_EINVAL, "the router does not know function %s",
                           fn ? pcie_fn_name(fn) : "(none)");
    int rc = note_unit(r, io, err);
    if (rc < 0)
        return rc;
    r->unit_of[i] = io;
    r->named[i] = 1;
    return 0;
}

int iommu_router_set_default(struct iommu_router *r, struct iommu *io, struct pcilab_err *err)
{
    int rc = note_unit(r, io, err);
    if (rc < 0)
        return rc;
    r->dflt = io;
    return 0;
}

struct iommu *iommu_router_unit_of(const struct iommu_router *r, const struct pcie_fn *fn)
{
    size_t i = pcie_fn_index(fn);
    return i < r->nfns && r->named[i] && pcie_fn_fabric(fn) == r->fabric ? r->unit_of[i]
                                                                          : r->dflt;
}

struct iommu *iommu_router_route(const struct iommu_router *r, const struct pcie_upstream_req *req)
{
    const struct pcie_fn *from = req->origin ? req->origin : req->ingress;
    if (!from)
        return r->dflt;
    size_t i = pcie_fn_index(from);
    return i < r->nfns && r->named[i] ? r->unit_of[i] : r->dflt;
}

size_t iommu_router_unit_count(const struct iommu_router *r) { return r->nunits; }

struct iommu *iommu_router_unit_at(const struct iommu_router *r, size_t i)
{
    return i < r->nunits ? r->units[i] : NULL;
}

uint64_t iommu_router_untranslated(const struct iommu_router *r) { return r->untranslated; }

static enum pcie_cpl_status upstream(void *ctx, const struct pcie_upstream_req *req,
                                     uint8_t *read_buf, sim_time_t *delay)
{
    struct iommu_router *r = ctx;
    struct iommu *io = iommu_router_route(r, req);
    if (io)
        return iommu_fabric_request(io, req, read_buf, delay);
    r->untranslated++;
    return pcie_fabric_system_access(r->fabric, req, read_buf, delay);
}

void iommu_router_attach(struct iommu_router *r)
{
    for (size_t i = 0; i < r->nunits; i++)
        iommu_join_fabric(r->units[i], r->fabric, false, 0);
    pcie_fabric_set_upstream(r->fabric, upstream, r);
}

void iommu_router_detach(struct iommu_router *r)
{
    pcie_upstream_fn fn;
    void *ctx;
    pcie_fabric_get_upstream(r->fabric, &fn, &ctx);
    if (fn == upstream && ctx == r)
        pcie_fabric_set_upstream(r->fabric, NULL, NULL);
}
