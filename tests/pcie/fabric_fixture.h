/* Shared by the fabric tests: a two-level switch topology and a simple
 * device model with BAR memory. */
#ifndef PCILAB_TESTS_FABRIC_FIXTURE_H
#define PCILAB_TESTS_FABRIC_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "mem/addrmap.h"
#include "mem/physmem.h"
#include "pcie/caps.h"
#include "pcie/config.h"
#include "pcie/enumerate.h"
#include "pcie/route.h"
#include "pcie/topology.h"
#include "sim/sim.h"

struct tdev {
    struct pcie_cfg cfg;
    uint8_t bar[6][65536];
    unsigned writes, reads;
    struct pcie_tlp rx[16];
    uint8_t rx_payload[16][256];
    unsigned nrx;
};

static enum pcie_cpl_status tdev_read(void *ctx, struct pcie_fn *fn, unsigned bar, uint64_t off,
                                      void *buf, unsigned len)
{
    (void)fn;
    struct tdev *d = ctx;
    d->reads++;
    if (off + len > sizeof d->bar[0])
        return PCIE_CPL_CA;
    memcpy(buf, d->bar[bar] + off, len);
    return PCIE_CPL_SC;
}

static enum pcie_cpl_status tdev_write(void *ctx, struct pcie_fn *fn, unsigned bar, uint64_t off,
                                       const void *buf, unsigned len)
{
    (void)fn;
    struct tdev *d = ctx;
    d->writes++;
    if (off + len > sizeof d->bar[0])
        return PCIE_CPL_CA;
    memcpy(d->bar[bar] + off, buf, len);
    return PCIE_CPL_SC;
}

static void tdev_receive(void *ctx, struct pcie_fn *fn, const struct pcie_tlp *t,
                         const uint8_t *bytes, size_t len)
{
    (void)fn;
    (void)bytes;
    (void)len;
    struct tdev *d = ctx;
    if (d->nrx < 16) {
        d->rx[d->nrx] = *t;
        if (t->payload && t->payload_len <= 256)
            memcpy(d->rx_payload[d->nrx], t->payload, t->payload_len);
        d->rx[d->nrx].payload = NULL;
        d->nrx++;
    }
}

static const struct pcie_fn_ops tdev_ops = {
    .name = "tdev",
    .mmio_read = tdev_read,
    .mmio_write = tdev_write,
    .receive = tdev_receive,
};

struct tbar {
    enum pcie_bar_type type;
    uint64_t size;
    bool pref;
};

/* An endpoint: PCIe capability (Gen2 x1, MPS supported 256), AER, MSI with 2
 * vectors, the BARs given (bars[i].size 0: none). */
static struct tdev *tdev_new(uint16_t vendor, uint16_t device, uint32_t cls, bool multifunction,
                             const struct tbar *bars, unsigned nbars)
{
    struct tdev *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    struct pcie_cfg_ident id = {.vendor_id = vendor, .device_id = device, .class_code = cls,
                                .multifunction = multifunction, .pcie = true,
                                .interrupt_pin = 1};
    pcie_cfg_init(&d->cfg);
    if (pcie_cfg_init_type0(&d->cfg, &id, NULL) < 0)
        abort();
    struct pcie_exp_params ep;
    memset(&ep, 0, sizeof ep);
    ep.type = PCIE_PORT_ENDPOINT;
    ep.mps_supported = 256;
    ep.max_speed = 2;
    ep.max_width = 1;
    ep.rber = true;
    ep.l0s_acceptable = 7;
    ep.l1_acceptable = 7;
    if (pcie_cap_add_exp(&d->cfg, &ep, 0, NULL) < 0)
        abort();
    struct pcie_msi_params mp = {.addr64 = true, .vectors = 2, .per_vector_mask = true};
    if (pcie_cap_add_msi(&d->cfg, &mp, 0, NULL) < 0)
        abort();
    struct pcie_aer_params ap;
    memset(&ap, 0, sizeof ap);
    if (pcie_ecap_add_aer(&d->cfg, &ap, 0, NULL) < 0)
        abort();
    for (unsigned i = 0; i < nbars; i++)
        if (bars[i].size &&
            pcie_cfg_bar_declare(&d->cfg, i, bars[i].type, bars[i].size, bars[i].pref, NULL) < 0)
            abort();
    return d;
}

/* The topology of the enumeration test:
 *   00:00.0 host bridge, 00:02.0 host bridge, 00:02.1 root port A, 00:02.2 root port B
 *   A -> switch S1 (up + downstream ports dev 0, 1, 2)
 *        dsp0 -> E1 (BAR0 64-bit 64 KiB, BAR2 32-bit 4 KiB)
 *        dsp1 -> switch S2 (dsp dev 0, 1)
 *                dsp0 -> E2 (BAR0 32-bit 1 MiB, BAR2 64-bit prefetchable 16 MiB)
 *                dsp1 -> MF functions 0, 1, 3 (4 KiB each; fn 1 also I/O 256)
 *        dsp2 -> nothing
 *   B -> E3 (BAR0 32-bit 16 KiB) */
struct tfab {
    struct pcilab_sim *sim;
    struct pcie_fabric *f;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct pcie_fn *hb2, *rpa, *rpb, *e1, *e2, *mf0, *mf1, *mf3, *e3;
    struct pcie_switch *s1, *s2;
    struct tdev *d1, *d2, *dmf0, *dmf1, *dmf3, *d3;
    unsigned irqs;
    uint16_t irq_rid;
    uint64_t irq_addr;
    uint32_t irq_data;
};

static void tfab_irq(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    struct tfab *t = ctx;
    t->irqs++;
    t->irq_rid = rid;
    t->irq_addr = addr;
    t->irq_data = data;
}

static void tfab_build(struct tfab *t, bool acs)
{
    memset(t, 0, sizeof *t);
    t->sim = sim_create(1);
    struct pcilab_err err;
    t->f = pcie_fabric_create(t->sim, NULL, &err);
    if (!t->f)
        abort();
    struct pcie_cfg_ident hb = {.vendor_id = 0x1022, .device_id = 0x157b};
    t->hb2 = pcie_fabric_add_host_bridge(t->f, 2, 0, &hb, &err);
    struct pcie_port_desc rp = {.ident = {.vendor_id = 0x1022, .device_id = 0x157c},
                                .max_link_speed = 3, .max_link_width = 4, .acs = acs};
    t->rpa = pcie_fabric_add_root_port(t->f, 2, 1, &rp, &err);
    t->rpb = pcie_fabric_add_root_port(t->f, 2, 2, &rp, &err);
    struct pcie_switch_desc sd = {.name = "S1", .n_downstream = 3};
    sd.upstream.ident.vendor_id = 0x10b5;
    sd.upstream.ident.device_id = 0x8724;
    sd.downstream = sd.upstream;
    sd.downstream.acs = acs;
    t->s1 = pcie_fabric_add_switch(t->f, t->rpa, &sd, &err);
    sd.name = "S2";
    sd.n_downstream = 2;
    t->s2 = pcie_fabric_add_switch(t->f, pcie_switch_downstream(t->s1, 1), &sd, &err);
    if (!t->hb2 || !t->rpa || !t->rpb || !t->s1 || !t->s2)
        abort();
    struct tbar b1[] = {{PCIE_BAR_MEM64, 65536, false}, {0, 0, 0}, {PCIE_BAR_MEM32, 4096, false}};
    t->d1 = tdev_new(0x1204, 0xe250, 0x118000, false, b1, 3);
    t->e1 = pcie_fabric_add_endpoint(t->f, pcie_switch_downstream(t->s1, 0), &t->d1->cfg,
                                     &tdev_ops, t->d1, &err);
    struct tbar b2[] = {{PCIE_BAR_MEM32, 1u << 20, false}, {0, 0, 0}, {PCIE_BAR_MEM64, 16u << 20, true}};
    t->d2 = tdev_new(0x8086, 0x10d3, 0x020000, false, b2, 3);
    t->e2 = pcie_fabric_add_endpoint(t->f, pcie_switch_downstream(t->s2, 0), &t->d2->cfg,
                                     &tdev_ops, t->d2, &err);
    struct tbar bm[] = {{PCIE_BAR_MEM32, 4096, false}};
    struct tbar bm1[] = {{PCIE_BAR_MEM32, 4096, false}, {PCIE_BAR_IO, 256, false}};
    t->dmf0 = tdev_new(0x10ee, 0x7011, 0x058000, true, bm, 1);
    t->dmf1 = tdev_new(0x10ee, 0x7012, 0x078000, true, bm1, 2);
    t->dmf3 = tdev_new(0x10ee, 0x7013, 0x088000, true, bm, 1);
    struct pcie_fn *p = pcie_switch_downstream(t->s2, 1);
    t->mf0 = pcie_fabric_add_function(t->f, p, 0, 0, &t->dmf0->cfg, &tdev_ops, t->dmf0, &err);
    t->mf1 = pcie_fabric_add_function(t->f, p, 0, 1, &t->dmf1->cfg, &tdev_ops, t->dmf1, &err);
    t->mf3 = pcie_fabric_add_function(t->f, p, 0, 3, &t->dmf3->cfg, &tdev_ops, t->dmf3, &err);
    struct tbar b3[] = {{PCIE_BAR_MEM32, 16384, false}};
    t->d3 = tdev_new(0x1204, 0xe250, 0x118000, false, b3, 1);
    t->e3 = pcie_fabric_add_endpoint(t->f, t->rpb, &t->d3->cfg, &tdev_ops, t->d3, &err);
    if (!t->e1 || !t->e2 || !t->mf0 || !t->mf1 || !t->mf3 || !t->e3)
        abort();
    t->ram = mem_phys_create();
    t->map = mem_addrmap_create(t->ram);
    if (mem_addrmap_add_ram(t->map, 0, 0x80000000ull, "System RAM", &err) < 0)
        abort();
    pcie_fabric_set_memory(t->f, t->map);
    pcie_fabric_set_interrupt_sink(t->f, tfab_irq, t);
}

static void tfab_free(struct tfab *t)
{
    sim_destroy(t->sim);
    mem_addrmap_destroy(t->map);
    mem_phys_destroy(t->ram);
    free(t->d1);
    free(t->d2);
    free(t->dmf0);
    free(t->dmf1);
    free(t->dmf3);
    free(t->d3);
}

#endif
