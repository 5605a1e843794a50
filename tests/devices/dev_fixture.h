/* Shared by the device-model tests: a small fabric (host bridges 00:00.0 and
 * 00:02.0, a root port 00:02.2, Gen2 x1, and one endpoint below it that becomes 01:00.0
 * after enumeration) with RAM at 0..2 GiB and 4 GiB..4 GiB+16 MiB, a sink
 * that records every TLP reaching the root complex as bytes before passing it
 * to memory, and an interrupt sink. The endpoint's configuration space is a
 * model's (ecp5_dma_cfg_init / ecp3_can_cfg_init); a test programs it as a
 * driver would, by configuration and MMIO requests. */
#ifndef PCILAB_TESTS_DEVICES_DEV_FIXTURE_H
#define PCILAB_TESTS_DEVICES_DEV_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "devices/ecp3_can.h"
#include "devices/ecp5_dma.h"
#include "mem/addrmap.h"
#include "mem/physmem.h"
#include "pcie/caps.h"
#include "pcie/config.h"
#include "pcie/enumerate.h"
#include "pcie/route.h"
#include "pcie/topology.h"
#include "sim/sim.h"

#define DFIX_MAX_RECS 512
#define DFIX_HIGH_RAM 0x100000000ull

/* One TLP as it reached the root complex: raw bytes (header + a little data). */
struct dfix_rec {
    sim_time_t t;
    uint8_t b[80];
    size_t len;
};

struct dfix_irq {
    sim_time_t t;
    uint16_t rid;
    uint64_t addr;
    uint32_t data;
};

struct dfix {
    struct pcilab_sim *sim;
    struct pcie_fabric *f;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct pcie_fn *rp, *ep;
    struct pcie_cfg cfg;
    uint16_t bdf;
    uint64_t bar0;
    unsigned msi_cap;
    struct dev_model *m;
    struct dfix_rec recs[DFIX_MAX_RECS];
    size_t nrecs;
    struct dfix_irq irqs[DFIX_MAX_RECS];
    size_t nirqs;
    struct pcilab_err err;
};

static inline enum pcie_cpl_status dfix_up(void *ctx, const struct pcie_upstream_req *req,
                                    uint8_t *buf, sim_time_t *delay)
{
    struct dfix *d = ctx;
    if (d->nrecs < DFIX_MAX_RECS) {
        struct dfix_rec *r = &d->recs[d->nrecs++];
        r->t = sim_now(d->sim);
        r->len = req->nbytes;
        memcpy(r->b, req->bytes, req->nbytes < sizeof r->b ? req->nbytes : sizeof r->b);
    }
    return pcie_fabric_system_access(req->fabric, req, buf, delay);
}

static inline void dfix_irq_sink(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    struct dfix *d = ctx;
    if (d->nirqs < DFIX_MAX_RECS)
        d->irqs[d->nirqs++] = (struct dfix_irq){sim_now(d->sim), rid, addr, data};
}

/* Builds and enumerates the machine; cfg_init builds the endpoint's space. */
static inline struct dfix *dfix_new(int (*cfg_init)(struct pcie_cfg *, struct pcilab_err *))
{
    struct dfix *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    d->sim = sim_create(1);
    d->f = pcie_fabric_create(d->sim, NULL, &d->err);
    if (!d->f)
        abort();
    /* 00:02.0 host bridge, so that function 2 of device 2 is probed */
    struct pcie_cfg_ident hb = {.vendor_id = 0x1022, .device_id = 0x157b};
    if (!pcie_fabric_add_host_bridge(d->f, 2, 0, &hb, &d->err))
        abort();
    struct pcie_port_desc rp = {.ident = {.vendor_id = 0x1022, .device_id = 0x157c},
                                .max_link_speed = 3, .max_link_width = 1};
    d->rp = pcie_fabric_add_root_port(d->f, 2, 2, &rp, &d->err);
    if (!d->rp || cfg_init(&d->cfg, &d->err) < 0)
        abort();
    d->ep = pcie_fabric_add_endpoint(d->f, d->rp, &d->cfg, NULL, NULL, &d->err);
    if (!d->ep)
        abort();
    d->ram = mem_phys_create();
    d->map = mem_addrmap_create(d->ram);
    if (mem_addrmap_add_ram(d->map, 0, 0x80000000ull, "System RAM", &d->err) < 0 ||
        mem_addrmap_add_ram(d->map, DFIX_HIGH_RAM, 16u << 20, "System RAM", &d->err) < 0)
        abort();
    pcie_fabric_set_memory(d->f, d->map);
    pcie_fabric_set_upstream(d->f, dfix_up, d);
    pcie_fabric_set_interrupt_sink(d->f, dfix_irq_sink, d);
    if (pcie_enumerate(d->f, NULL, NULL, &d->err) < 0 ||
        pcie_enum_enable(d->f, d->ep, true, &d->err) < 0)
        abort();
    d->bdf = pcie_fn_bdf(d->ep);
    d->bar0 = pcie_cfg_bar_addr(&d->cfg, 0);
    d->msi_cap = pcie_cap_find(&d->cfg, PCIE_CAP_ID_MSI);
    return d;
}

static inline void dfix_free(struct dfix *d)
{
    sim_destroy(d->sim);
    mem_addrmap_destroy(d->map);
    mem_phys_destroy(d->ram);
    free(d);
}

static inline int dfix_attach(struct dfix *d, const char *model, const struct dev_param *p, size_t n)
{
    pcilab_err_clear(&d->err);
    return dev_model_attach(model, d->sim, d->ep, p, n, &d->m, &d->err);
}

/* MMIO to BAR0 as a driver's iowrite32/ioread32. */
static inline void dfix_w32(struct dfix *d, unsigned off, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    if (pcie_host_mem_write(d->f, d->bar0 + off, b, 4) != PCIE_REQ_SC)
        abort();
}

static inline uint32_t dfix_r32(struct dfix *d, unsigned off)
{
    uint8_t b[4];
    if (pcie_host_mem_read(d->f, d->bar0 + off, b, 4) != PCIE_REQ_SC)
        abort();
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline void dfix_cfgw(struct dfix *d, unsigned off, unsigned size, uint32_t v)
{
    if (pcie_host_cfg_write(d->f, d->bdf, off, size, v) != PCIE_REQ_SC)
        abort();
}

/* Programs MSI as Linux's msi code does: address 0xfee00000, data, then
 * Multiple Message Enable = log2(vectors) and MSI Enable. */
static inline void dfix_msi(struct dfix *d, unsigned vectors, uint16_t data)
{
    unsigned cap = d->msi_cap;
    uint32_t ctl;
    pcie_host_cfg_read(d->f, d->bdf, cap + PCIE_MSI_CTRL, 2, &ctl);
    bool is64 = ctl & PCIE_MSI_CTRL_64BIT;
    dfix_cfgw(d, cap + PCIE_MSI_ADDR_LO, 4, 0xfee00000u);
    if (is64)
        dfix_cfgw(d, cap + 8, 4, 0);
    dfix_cfgw(d, cap + (is64 ? 0xc : 0x8), 2, data);
    unsigned mme = 0;
    while ((1u << mme) < vectors)
        mme++;
    ctl = (ctl & ~PCIE_MSI_CTRL_MME_MASK) | mme << PCIE_MSI_CTRL_MME_SHIFT | PCIE_MSI_CTRL_ENABLE;
    dfix_cfgw(d, cap + PCIE_MSI_CTRL, 2, ctl);
}

/* Header fields read straight from the bytes (PCIe 5.0 2.2.1, 2.2.6.2). */
static inline unsigned rec_fmt(const struct dfix_rec *r) { return r->b[0] >> 5; }
static inline unsigned rec_type(const struct dfix_rec *r) { return r->b[0] & 0x1f; }
static inline unsigned rec_hdr_dw(const struct dfix_rec *r) { return (r->b[0] & 0x20) ? 4 : 3; }
static inline bool rec_is_write(const struct dfix_rec *r) { return (r->b[0] & 0x40) && rec_type(r) == 0; }
static inline bool rec_is_read(const struct dfix_rec *r) { return !(r->b[0] & 0x40) && rec_type(r) == 0; }
static inline uint16_t rec_rid(const struct dfix_rec *r) { return (uint16_t)(r->b[4] << 8 | r->b[5]); }
static inline uint8_t rec_tag(const struct dfix_rec *r) { return r->b[6]; }
static inline unsigned rec_len_dw(const struct dfix_rec *r)
{
    unsigned l = (unsigned)(r->b[2] & 3) << 8 | r->b[3];
    return l ? l : 1024;
}
static inline uint64_t rec_addr(const struct dfix_rec *r)
{
    const uint8_t *a = r->b + 8;
    if (rec_hdr_dw(r) == 3)
        return (uint64_t)((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 |
                          (a[3] & 0xfcu));
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | a[i];
    return v & ~3ull;
}
/* First payload DW of a write, as the little-endian value memory receives. */
static inline uint32_t rec_data0(const struct dfix_rec *r)
{
    const uint8_t *p = r->b + 4 * rec_hdr_dw(r);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
