/* The common IOMMU interface (iommu.h): names, statistics and the adapter
 * that puts an IOMMU between the fabric's root complex and system memory. */
#include "iommu/iommu.h"

#include <string.h>

#include "pcie/route.h"
#include "pcie/topology.h"

const char *iommu_fault_kind_name(enum iommu_fault_kind k)
{
    switch (k) {
    case IOMMU_FAULT_NONE: return "none";
    case IOMMU_FAULT_DEVICE_INVALID: return "invalid device entry";
    case IOMMU_FAULT_DEVICE_ENTRY: return "malformed device entry";
    case IOMMU_FAULT_NOT_PRESENT: return "page not present";
    case IOMMU_FAULT_PERMISSION: return "permission";
    case IOMMU_FAULT_PAGE_TABLE: return "malformed page table";
    case IOMMU_FAULT_ADDRESS: return "address out of range";
    case IOMMU_FAULT_HW_ERROR: return "hardware error";
    case IOMMU_FAULT_TRANSLATED: return "translated request refused";
    case IOMMU_FAULT_INTERRUPT: return "interrupt blocked";
    case IOMMU_FAULT_REQUEST: return "invalid request";
    }
    return "?";
}

const char *iommu_perm_str(uint8_t perm, char *buf)
{
    char *p = buf;
    if (perm & IOMMU_PERM_R)
        *p++ = 'R';
    if (perm & IOMMU_PERM_W)
        *p++ = 'W';
    if (perm & IOMMU_PERM_X)
        *p++ = 'X';
    if (p == buf)
        *p++ = '-';
    *p = '\0';
    return buf;
}

void iommu_remap_msi(struct iommu *io, uint16_t rid, const struct iommu_msi *in,
                     struct iommu_irq_result *res)
{
    memset(res, 0, sizeof *res);
    io->stats.interrupts++;
    if (!io->ops->remap_msi) {
        /* An IOMMU without interrupt remapping passes interrupts unchanged. */
        res->ok = true;
        res->out = *in;
        return;
    }
    io->ops->remap_msi(io->hw, rid, in, res);
    if (!res->ok)
        io->stats.interrupts_blocked++;
}

void iommu_reset(struct iommu *io)
{
    if (io->ops->reset)
        io->ops->reset(io->hw);
    memset(&io->stats, 0, sizeof io->stats);
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

enum pcie_cpl_status iommu_fabric_request(struct iommu *io, const struct pcie_upstream_req *req,
                                          uint8_t *read_buf, sim_time_t *delay)
{
    struct pcie_fabric *f = io->fabric;
    if (io->has_own_rid && req->requester_id == io->own_rid) {
        io->stats.passthrough++;
        return pcie_fabric_system_access(f, req, read_buf, delay);
    }
    if (req->write && io->ops->is_interrupt &&
        io->ops->is_interrupt(io->hw, req->requester_id, req->addr)) {
        /* An interrupt message is one DW (PCIe 5.0 6.1.4); anything else
         * written to the interrupt range is not an interrupt the IOMMU can
         * remap: it aborts it. */
        if (req->len != 4 || (req->addr & 3))
            return PCIE_CPL_CA;
        struct iommu_msi in = {req->addr, le32(req->data)};
        struct iommu_irq_result r;
        iommu_remap_msi(io, req->requester_id, &in, &r);
        *delay = sim_time_add(*delay, r.latency);
        if (!r.ok)
            return PCIE_CPL_CA;
        uint8_t data[4] = {(uint8_t)r.out.data, (uint8_t)(r.out.data >> 8),
                           (uint8_t)(r.out.data >> 16), (uint8_t)(r.out.data >> 24)};
        struct pcie_upstream_req out = *req;
        out.addr = r.out.addr;
        out.data = data;
        return pcie_fabric_system_access(f, &out, read_buf, delay);
    }
    struct iommu_req ir = {
        .rid = req->requester_id,
        .addr = req->addr,
        .size = req->len ? req->len : 1,
        .access = req->write ? IOMMU_PERM_W : IOMMU_PERM_R,
        /* Address Type 10b: Translated (PCIe 5.0 2.2.4.1, 10.2.2). */
        .translated = req->tlp && req->tlp->at == 2,
    };
    struct iommu_result res;
    iommu_translate(io, &ir, &res);
    if (io->observer)
        io->observer(io->observer_ctx, req, &ir, &res);
    *delay = sim_time_add(*delay, res.latency);
    if (!res.ok)
        return res.cpl == PCIE_CPL_SC ? PCIE_CPL_CA : res.cpl;
    struct pcie_upstream_req out = *req;
    out.addr = res.pa;
    return pcie_fabric_system_access(f, &out, read_buf, delay);
}

/* The fabric's upstream sink with the IOMMU in it. */
static enum pcie_cpl_status upstream(void *ctx, const struct pcie_upstream_req *req,
                                     uint8_t *read_buf, sim_time_t *delay)
{
    return iommu_fabric_request(ctx, req, read_buf, delay);
}

void iommu_join_fabric(struct iommu *io, struct pcie_fabric *f, bool has_own_rid,
                       uint16_t own_rid)
{
    io->fabric = f;
    io->has_own_rid = has_own_rid;
    io->own_rid = own_rid;
}

void iommu_attach_fabric(struct iommu *io, struct pcie_fabric *f, bool has_own_rid,
                         uint16_t own_rid)
{
    if (io->fabric && io->fabric != f)
        iommu_detach_fabric(io);
    iommu_join_fabric(io, f, has_own_rid, own_rid);
    pcie_fabric_set_upstream(f, upstream, io);
}

void iommu_set_observer(struct iommu *io, iommu_observer_fn fn, void *ctx)
{
    io->observer = fn;
    io->observer_ctx = fn ? ctx : NULL;
}

void iommu_detach_fabric(struct iommu *io)
{
    if (!io->fabric)
        return;
    pcie_fabric_set_upstream(io->fabric, NULL, NULL);
    io->fabric = NULL;
}
