/* The fabric's structure: buses, functions, switches, links (PCIe 5.0 1.3). */
#include "pcie/topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcie/caps.h"
#include "pcie/fabric_priv.h"
#include "pcie/link.h"
#include "sim/sim.h"

const char *pcie_fn_kind_name(enum pcie_fn_kind k)
{
    switch (k) {
    case PCIE_FN_HOST_BRIDGE: return "host bridge";
    case PCIE_FN_RCIEP: return "RCiEP";
    case PCIE_FN_ROOT_PORT: return "root port";
    case PCIE_FN_SWITCH_UP: return "switch upstream port";
    case PCIE_FN_SWITCH_DOWN: return "switch downstream port";
    case PCIE_FN_ENDPOINT: return "endpoint";
    }
    return "unknown";
}

void pcie_fabric_config_default(struct pcie_fabric_config *c)
{
    memset(c, 0, sizeof *c);
    c->segment = 0;
    c->root_bus = 0;
    /* AMD Family 15h (Models 60h-6Fh) Processor Root Complex, as in the seed. */
    c->host_bridge.vendor_id = 0x1022;
    c->host_bridge.device_id = 0x1576;
    c->host_bridge.class_code = 0x060000;
    c->host_bridge.pcie = false;
    c->mem32.base = 0xe0000000ull;
    c->mem32.size = 0x1f000000ull;
    c->mem64.base = 0x8000000000ull;
    c->mem64.size = 64ull << 30;
    c->io.base = 0x1000;
    c->io.size = 0xf000;
    c->root_port_latency = 150 * SIM_NS;
    c->switch_latency = 150 * SIM_NS;
    c->memory_latency = 80 * SIM_NS;
    c->completion_timeout = 50 * SIM_MS;
    c->rcb = 64;
    c->pool_tlps = 64;
}

unsigned pcie_bus_number(const struct pcie_bus *bus)
{
    if (!bus->bridge)
        return bus->fabric->cfg.root_bus;
    /* PCIe 5.0 7.5.1.3.4: Secondary Bus Number as programmed. */
    return pcie_cfg_raw_read8(bus->bridge->cfg, PCIE_CFG_SECONDARY_BUS);
}

bool pcie_fn_is_bridge(const struct pcie_fn *fn)
{
    return fn->secondary != NULL;
}

static void fabric_destroy(void *obj)
{
    struct pcie_fabric *f = obj;
    if (!f)
        return;
    pcie_route_fini(f);
    for (size_t i = 0; i < f->nfns; i++) {
        struct pcie_fn *fn = f->fns[i];
        if (fn->own_cfg)
            pcie_cfg_destroy(fn->own_cfg);
        free(fn->req);
        free(fn);
    }
    /* Links are owned by the sim (pcie_link_create registers them). */
    for (size_t i = 0; i < f->nbuses; i++)
        free(f->buses[i]);
    for (size_t i = 0; i < f->nswitches; i++)
        free(f->switches[i]);
    free(f->fns);
    free(f->buses);
    free(f->switches);
    free(f);
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return -PCILAB_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

static struct pcie_bus *bus_new(struct pcie_fabric *f, enum pcie_bus_kind kind,
                                struct pcie_fn *bridge, struct pcilab_err *err)
{
    if (grow((void **)&f->buses, &f->capbuses, f->nbuses, sizeof *f->buses) < 0) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a bus");
        return NULL;
    }
    struct pcie_bus *b = calloc(1, sizeof *b);
    if (!b) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a bus");
        return NULL;
    }
    b->fabric = f;
    b->kind = kind;
    b->bridge = bridge;
    f->buses[f->nbuses++] = b;
    return b;
}

static struct pcie_fn *fn_new(struct pcie_fabric *f, enum pcie_fn_kind kind, struct pcilab_err *err)
{
    if (grow((void **)&f->fns, &f->capfns, f->nfns, sizeof *f->fns) < 0) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a function");
        return NULL;
    }
    struct pcie_fn *fn = calloc(1, sizeof *fn);
    if (!fn) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a function");
        return NULL;
    }
    fn->fabric = f;
    fn->kind = kind;
    fn->index = f->nfns;
    f->fns[f->nfns++] = fn;
    return fn;
}

/* Checks that dev.fn is free on bus. */
static int place_check(struct pcie_bus *bus, unsigned dev, unsigned fn, struct pcilab_err *err)
{
    if (dev > 31)
        return pcilab_errf(err, PCILAB_EINVAL, "device number %u out of range 0..31", dev);
    if (fn > 255)
        return pcilab_errf(err, PCILAB_EINVAL, "function number %u out of range", fn);
    if (fn > 7)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED,
                           "function number %u needs ARI (PCIe 5.0 6.13), which is not modelled",
                           fn);
    if (bus->kind == PCIE_BUS_LINK && dev != 0)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "device %u below a downstream port: a link carries only device 0 "
                           "(PCIe 5.0 7.3.1)",
                           dev);
    struct pcie_fn *other = bus->fns[(dev << 3) | fn];
    if (other)
        return pcilab_errf(err, PCILAB_EEXIST, "device %02x.%u already taken by %s", dev, fn,
                           pcie_fn_name(other));
    return 0;
}

/* After a function was placed: Header Type multi-function bit of fabric-built
 * function 0 (PCIe 5.0 7.5.1.1.9). Model-built functions say it themselves. */
static void update_multifunction(struct pcie_bus *bus, unsigned dev)
{
    unsigned count = 0;
    for (unsigned i = 0; i < 8; i++)
        count += bus->fns[(dev << 3) | i] != NULL;
    for (unsigned i = 0; i < 8; i++) {
        struct pcie_fn *x = bus->fns[(dev << 3) | i];
        if (!x || !x->own_cfg)
            continue;
        uint8_t ht = pcie_cfg_raw_read8(x->cfg, PCIE_CFG_HEADER_TYPE);
        uint8_t want = count > 1 ? (uint8_t)(ht | PCIE_HEADER_MULTIFUNCTION)
                                 : (uint8_t)(ht & ~PCIE_HEADER_MULTIFUNCTION);
        if (want != ht)
            pcie_cfg_define(x->cfg, PCIE_CFG_HEADER_TYPE, 1, want, 0, 0);
    }
}

static void place(struct pcie_fn *fn, struct pcie_bus *bus, unsigned dev, unsigned func)
{
    fn->bus = bus;
    fn->devfn = (uint8_t)((dev << 3) | func);
    bus->fns[fn->devfn] = fn;
    update_multifunction(bus, dev);
}

struct pcie_fabric *pcie_fabric_create(struct pcilab_sim *sim,
                                       const struct pcie_fabric_config *cfg,
                                       struct pcilab_err *err)
{
    struct pcie_fabric *f = calloc(1, sizeof *f);
    if (!f) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the fabric");
        return NULL;
    }
    f->sim = sim;
    if (cfg)
        f->cfg = *cfg;
    else
        pcie_fabric_config_default(&f->cfg);
    if (f->cfg.rcb != 64 && f->cfg.rcb != 128) {
        pcilab_errf(err, PCILAB_EINVAL, "root complex RCB %u: must be 64 or 128 (PCIe 5.0 2.3.1.1)",
                    f->cfg.rcb);
        free(f);
        return NULL;
    }
    f->root = bus_new(f, PCIE_BUS_ROOT, NULL, err);
    if (!f->root || pcie_route_init(f, err) < 0) {
        fabric_destroy(f);
        return NULL;
    }
    if (f->cfg.host_bridge.vendor_id) {
        f->host_bridge = pcie_fabric_add_host_bridge(f, 0, 0, &f->cfg.host_bridge, err);
        if (!f->host_bridge) {
            fabric_destroy(f);
            return NULL;
        }
    }
    if (sim_own(sim, f, fabric_destroy) < 0) {
        fabric_destroy(f);
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory registering the fabric");
        return NULL;
    }
    return f;
}

struct pcilab_sim *pcie_fabric_sim(const struct pcie_fabric *f) { return f->sim; }
const struct pcie_fabric_config *pcie_fabric_config(const struct pcie_fabric *f) { return &f->cfg; }
struct pcie_fn *pcie_fabric_host_bridge(const struct pcie_fabric *f) { return f->host_bridge; }

struct pcie_fn *pcie_fabric_add_host_bridge(struct pcie_fabric *f, unsigned dev, unsigned func,
                                            const struct pcie_cfg_ident *ident,
                                            struct pcilab_err *err)
{
    if (place_check(f->root, dev, func, err) < 0)
        return NULL;
    struct pcie_cfg_ident id = *ident;
    if (!id.class_code)
        id.class_code = 0x060000; /* bridge, host bridge (PCI Code and ID 1.11 D.7) */
    id.multifunction = false;
    struct pcie_cfg *cfg = pcie_cfg_create(err);
    if (!cfg)
        return NULL;
    if (pcie_cfg_init_type0(cfg, &id, err) < 0) {
        pcie_cfg_destroy(cfg);
        return NULL;
    }
    struct pcie_fn *fn = fn_new(f, PCIE_FN_HOST_BRIDGE, err);
    if (!fn) {
        pcie_cfg_destroy(cfg);
        return NULL;
    }
    fn->cfg = fn->own_cfg = cfg;
    snprintf(fn->name, sizeof fn->name, "host bridge");
    place(fn, f->root, dev, func);
    fn->has_captured = true; /* the root complex knows its own IDs */
    fn->captured = pcie_bdf(f->cfg.root_bus, dev, func);
    return fn;
}

/* Builds a port's Type 1 configuration space with its PCI Express capability
 * (7.5.3), MSI, AER (7.8.4) and optionally ACS (7.7.8). */
static struct pcie_cfg *port_cfg(const struct pcie_port_desc *d, enum pcie_port_type type,
                                 unsigned default_width, struct pcilab_err *err)
{
    struct pcie_cfg_ident id = d->ident;
    if (!id.class_code)
        id.class_code = 0x060400; /* PCI-to-PCI bridge, normal decode */
    if (!id.vendor_id) {
        /* An unnamed port: PCI-SIG's example IDs would be misleading; use a
         * recognisable generic bridge (AMD root port / PLX switch port). */
        id.vendor_id = type == PCIE_PORT_ROOT_PORT ? 0x1022 : 0x10b5;
        id.device_id = type == PCIE_PORT_ROOT_PORT ? 0x157c : 0x8724;
    }
    id.multifunction = false;
    id.pcie = true;
    struct pcie_bridge_params bp = d->bridge;
    if (!bp.io_window && !bp.pref_window && !bp.io_32bit && !bp.pref_64bit) {
        bp.io_window = true;
        bp.pref_window = true;
        bp.pref_64bit = true;
    }
    struct pcie_cfg *cfg = pcie_cfg_create(err);
    if (!cfg)
        return NULL;
    if (pcie_cfg_init_type1(cfg, &id, &bp, err) < 0)
        goto fail;
    struct pcie_exp_params ep;
    memset(&ep, 0, sizeof ep);
    ep.type = type;
    ep.mps_supported = d->mps_supported ? d->mps_supported : 512;
    ep.ext_tag = true;
    ep.rber = true;
    ep.max_speed = (uint8_t)(d->max_link_speed ? d->max_link_speed : 3);
    ep.max_width = (uint8_t)(d->max_link_width ? d->max_link_width : default_width);
    ep.aspm_support = 0x2;
    ep.dll_active_reporting = type != PCIE_PORT_UPSTREAM;
    ep.link_bw_notification = type != PCIE_PORT_UPSTREAM;
    ep.completion_timeout_ranges = 0xf;
    ep.link_up = false;
    if (pcie_cap_add_exp(cfg, &ep, 0, err) < 0)
        goto fail;
    struct pcie_msi_params mp = {.addr64 = true, .vectors = 1, .per_vector_mask = false};
    if (pcie_cap_add_msi(cfg, &mp, 0, err) < 0)
        goto fail;
    struct pcie_aer_params ap;
    memset(&ap, 0, sizeof ap);
    ap.root = type == PCIE_PORT_ROOT_PORT;
    if (pcie_ecap_add_aer(cfg, &ap, 0, err) < 0)
        goto fail;
    if (d->acs && type != PCIE_PORT_UPSTREAM) {
        struct pcie_acs_params acs = {
            .capabilities = PCIE_ACS_SV | PCIE_ACS_RR | PCIE_ACS_CR | PCIE_ACS_UF,
        };
        if (pcie_ecap_add_acs(cfg, &acs, 0, err) < 0)
            goto fail;
    }
    return cfg;
fail:
    pcie_cfg_destroy(cfg);
    return NULL;
}

/* A new bridge function with its secondary bus. */
static struct pcie_fn *bridge_new(struct pcie_fabric *f, enum pcie_fn_kind kind,
                                  struct pcie_bus *on, unsigned dev, unsigned func,
                                  const struct pcie_port_desc *d, enum pcie_bus_kind below,
                                  struct pcilab_err *err)
{
    static const struct pcie_port_desc none;
    if (!d)
        d = &none;
    enum pcie_port_type pt = kind == PCIE_FN_ROOT_PORT   ? PCIE_PORT_ROOT_PORT
                             : kind == PCIE_FN_SWITCH_UP ? PCIE_PORT_UPSTREAM
                                                         : PCIE_PORT_DOWNSTREAM;
    struct pcie_cfg *cfg = port_cfg(d, pt, kind == PCIE_FN_ROOT_PORT ? 16 : 4, err);
    if (!cfg)
        return NULL;
    struct pcie_fn *fn = fn_new(f, kind, err);
    if (!fn) {
        pcie_cfg_destroy(cfg);
        return NULL;
    }
    fn->cfg = fn->own_cfg = cfg;
    if (d->name)
        snprintf(fn->name, sizeof fn->name, "%s", d->name);
    else
        snprintf(fn->name, sizeof fn->name, "%s", pcie_fn_kind_name(kind));
    fn->secondary = bus_new(f, below, fn, err);
    if (!fn->secondary)
        return NULL; /* fn stays in the list and is freed with the fabric */
    place(fn, on, dev, func);
    return fn;
}

struct pcie_fn *pcie_fabric_add_root_port(struct pcie_fabric *f, unsigned dev, unsigned func,
                                          const struct pcie_port_desc *desc,
                                          struct pcilab_err *err)
{
    if (place_check(f->root, dev, func, err) < 0)
        return NULL;
    struct pcie_fn *fn = bridge_new(f, PCIE_FN_ROOT_PORT, f->root, dev, func, desc,
                                    PCIE_BUS_LINK, err);
    if (fn) {
        fn->has_captured = true;
        fn->captured = pcie_bdf(f->cfg.root_bus, dev, func);
    }
    return fn;
}

static bool is_downstream_port(const struct pcie_fn *p)
{
    return p && (p->kind == PCIE_FN_ROOT_PORT || p->kind == PCIE_FN_SWITCH_DOWN);
}

/* Trains the link below port: both ends' Link Status get the common speed
 * and width (PCIe 5.0 4.2.6: the highest rate and widest width both support). */
/* The fastest, widest rate a link can train at (4.2.6): the lower of the
 * port's and the device's Link Capabilities, function 0 speaking for the
 * device (dev0 NULL or without a PCIe capability: the port's alone). */
static void link_max(const struct pcie_fn *port, const struct pcie_fn *dev0, uint8_t *speed,
                     uint8_t *width)
{
    *speed = pcie_exp_max_speed(port->cfg);
    *width = pcie_exp_max_width(port->cfg);
    if (dev0 && pcie_exp_present(dev0->cfg)) {
        uint8_t s = pcie_exp_max_speed(dev0->cfg), w = pcie_exp_max_width(dev0->cfg);
        if (s && s < *speed)
            *speed = s;
        if (w && w < *width)
            *width = w;
    }
}

static int link_up(struct pcie_fabric *f, struct pcie_fn *port, struct pcie_fn *dev0,
                   struct pcilab_err *err)
{
    struct pcie_bus *b = port->secondary;
    uint8_t speed, width;
    link_max(port, dev0, &speed, &width);
    if (!b->link) {
        struct pcie_link_cfg lc;
        pcie_link_cfg_default(&lc);
        snprintf(b->link_name, sizeof b->link_name, "link below %s %02x.%u", port->name,
                 port->devfn >> 3, port->devfn & 7u);
        lc.name = b->link_name;
        lc.gen = speed;
        lc.width = width;
        /* The link carries what both ends can take; each receiver checks its
         * own programmed Max_Payload_Size (2.2.2). */
        unsigned mps = pcie_exp_mps_supported(port->cfg);
        unsigned dmps = pcie_exp_present(dev0->cfg) ? pcie_exp_mps_supported(dev0->cfg) : mps;
        lc.mps = dmps < mps ? dmps : mps;
        int r = pcie_link_create(f->sim, &lc, &b->link, err);
        if (r < 0)
            return r;
    }
    pcie_exp_set_link(port->cfg, speed, width, true);
    if (pcie_exp_present(dev0->cfg))
        pcie_exp_set_link(dev0->cfg, speed, width, true);
    return 0;
}

static int attach_check(struct pcie_fn *port, struct pcilab_err *err)
{
    if (!is_downstream_port(port))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%s is not a downstream-facing port (root port or switch downstream "
                           "port): nothing can be linked below it",
                           port ? pcie_fn_name(port) : "(null)");
    return 0;
}

struct pcie_switch *pcie_fabric_add_switch(struct pcie_fabric *f, struct pcie_fn *port,
                                           const struct pcie_switch_desc *desc,
                                           struct pcilab_err *err)
{
    if (attach_check(port, err) < 0)
        return NULL;
    struct pcie_bus *link = port->secondary;
    for (unsigned i = 0; i < 256; i++)
        if (link->fns[i]) {
            pcilab_errf(err, PCILAB_EEXIST, "%s already has %s linked below it",
                        pcie_fn_name(port), pcie_fn_name(link->fns[i]));
            return NULL;
        }
    if (!desc || desc->n_downstream < 1 || desc->n_downstream > 32) {
        pcilab_errf(err, PCILAB_EINVAL, "a switch needs 1..32 downstream ports");
        return NULL;
    }
    bool used[32] = {false};
    for (unsigned i = 0; i < desc->n_downstream; i++) {
        unsigned d = desc->downstream_dev ? desc->downstream_dev[i] : i;
        if (d > 31) {
            pcilab_errf(err, PCILAB_EINVAL, "switch downstream port device number %u > 31", d);
            return NULL;
        }
        if (used[d]) {
            pcilab_errf(err, PCILAB_EEXIST, "switch downstream port device number %u used twice", d);
            return NULL;
        }
        used[d] = true;
    }
    if (grow((void **)&f->switches, &f->capswitches, f->nswitches, sizeof *f->switches) < 0) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a switch");
        return NULL;
    }
    struct pcie_switch *sw = calloc(1, sizeof *sw);
    if (!sw) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a switch");
        return NULL;
    }
    f->switches[f->nswitches++] = sw;
    snprintf(sw->name, sizeof sw->name, "%s", desc->name ? desc->name : "switch");
    sw->up = bridge_new(f, PCIE_FN_SWITCH_UP, link, 0, 0, &desc->upstream, PCIE_BUS_SWITCH, err);
    if (!sw->up)
        return NULL;
    sw->up->sw = sw;
    sw->internal = sw->up->secondary;
    sw->internal->sw = sw;
    for (unsigned i = 0; i < desc->n_downstream; i++) {
        unsigned d = desc->downstream_dev ? desc->downstream_dev[i] : i;
        struct pcie_fn *dp = bridge_new(f, PCIE_FN_SWITCH_DOWN, sw->internal, d, 0,
                                        &desc->downstream, PCIE_BUS_LINK, err);
        if (!dp)
            return NULL;
        dp->sw = sw;
        sw->down[sw->n++] = dp;
    }
    if (link_up(f, port, sw->up, err) < 0)
        return NULL;
    return sw;
}

struct pcie_fn *pcie_switch_upstream(const struct pcie_switch *sw) { return sw->up; }
unsigned pcie_switch_downstream_count(const struct pcie_switch *sw) { return sw->n; }
struct pcie_fn *pcie_switch_downstream(const struct pcie_switch *sw, unsigned i)
{
    return i < sw->n ? sw->down[i] : NULL;
}

struct pcie_fn *pcie_fabric_add_function(struct pcie_fabric *f, struct pcie_fn *port,
                                         unsigned dev, unsigned func, struct pcie_cfg *cfg,
                                         const struct pcie_fn_ops *ops, void *ctx,
                                         struct pcilab_err *err)
{
    struct pcie_bus *bus = f->root;
    if (port) {
        if (attach_check(port, err) < 0)
            return NULL;
        bus = port->secondary;
        for (unsigned i = 0; i < 256; i++)
            if (bus->fns[i] && pcie_fn_is_bridge(bus->fns[i])) {
                pcilab_errf(err, PCILAB_EEXIST, "%s already has %s linked below it",
                            pcie_fn_name(port), pcie_fn_name(bus->fns[i]));
                return NULL;
            }
    }
    if (!cfg) {
        pcilab_errf(err, PCILAB_EINVAL, "a function needs a configuration space");
        return NULL;
    }
    if (place_check(bus, dev, func, err) < 0)
        return NULL;
    if (pcie_cfg_header_type(cfg) != PCIE_HEADER_TYPE0) {
        pcilab_errf(err, PCILAB_EINVAL,
                    "header type %u: device models add Type 0 functions; bridges are built "
                    "with the root port and switch builders",
                    pcie_cfg_header_type(cfg));
        return NULL;
    }
    if (pcie_exp_present(cfg)) {
        enum pcie_port_type t = pcie_exp_port_type(cfg);
        bool ok = port ? (t == PCIE_PORT_ENDPOINT || t == PCIE_PORT_LEGACY_ENDPOINT)
                       : (t == PCIE_PORT_RC_INTEGRATED_EP || t == PCIE_PORT_RC_EVENT_COLLECTOR);
        if (!ok) {
            pcilab_errf(err, PCILAB_EINVAL,
                        "Device/Port Type %s (PCIe 5.0 7.5.3.2) does not fit %s",
                        pcie_port_type_name(t),
                        port ? "a function below a downstream port (Endpoint expected)"
                             : "a function on the root bus (RC Integrated Endpoint expected)");
            return NULL;
        }
    }
    struct pcie_fn *fn = fn_new(f, port ? PCIE_FN_ENDPOINT : PCIE_FN_RCIEP, err);
    if (!fn)
        return NULL;
    fn->cfg = cfg;
    fn->ops = ops;
    fn->ctx = ctx;
    snprintf(fn->name, sizeof fn->name, "%s",
             ops && ops->name ? ops->name : pcie_fn_kind_name(fn->kind));
    place(fn, bus, dev, func);
    if (!port) {
        /* The root complex assigns RCiEP IDs; they need no capture. */
        fn->has_captured = true;
        fn->captured = pcie_bdf(f->cfg.root_bus, dev, func);
    } else if (link_up(f, port, fn, err) < 0) {
        return NULL;
    }
    return fn;
}

struct pcie_fn *pcie_fabric_add_endpoint(struct pcie_fabric *f, struct pcie_fn *port,
                                         struct pcie_cfg *cfg, const struct pcie_fn_ops *ops,
                                         void *ctx, struct pcilab_err *err)
{
    return pcie_fabric_add_function(f, port, 0, 0, cfg, ops, ctx, err);
}

size_t pcie_fabric_fn_count(const struct pcie_fabric *f) { return f->nfns; }
size_t pcie_fn_index(const struct pcie_fn *fn) { return fn->index; }

struct pcie_fn *pcie_fabric_fn_at(const struct pcie_fabric *f, size_t i)
{
    return i < f->nfns ? f->fns[i] : NULL;
}

struct pcie_fn *pcie_fabric_find(const struct pcie_fabric *f, uint16_t bdf)
{
    for (size_t i = 0; i < f->nfns; i++)
        if (pcie_fn_bdf(f->fns[i]) == bdf)
            return f->fns[i];
    return NULL;
}

struct pcie_fabric *pcie_fn_fabric(const struct pcie_fn *fn) { return fn->fabric; }
enum pcie_fn_kind pcie_fn_kind(const struct pcie_fn *fn) { return fn->kind; }
struct pcie_cfg *pcie_fn_cfg(const struct pcie_fn *fn) { return fn->cfg; }
const char *pcie_fn_name(const struct pcie_fn *fn) { return fn->name; }
const struct pcie_fn_ops *pcie_fn_ops(const struct pcie_fn *fn) { return fn->ops; }
void *pcie_fn_ctx(const struct pcie_fn *fn) { return fn->ctx; }
void pcie_fn_set_ops(struct pcie_fn *fn, const struct pcie_fn_ops *ops, void *ctx)
{
    fn->ops = ops;
    fn->ctx = ctx;
    if (ops && ops->name && !fn->own_cfg)
        snprintf(fn->name, sizeof fn->name, "%s", ops->name);
}
struct pcie_fn *pcie_fn_parent(const struct pcie_fn *fn) { return fn->bus->bridge; }
struct pcie_switch *pcie_fn_switch(const struct pcie_fn *fn) { return fn->sw; }
unsigned pcie_fn_devfn(const struct pcie_fn *fn) { return fn->devfn; }
unsigned pcie_fn_bus(const struct pcie_fn *fn) { return pcie_bus_number(fn->bus); }
uint16_t pcie_fn_bdf(const struct pcie_fn *fn)
{
    return (uint16_t)((pcie_fn_bus(fn) << 8) | fn->devfn);
}

char *pcie_fn_addr_str(const struct pcie_fn *fn, char *buf)
{
    snprintf(buf, PCIE_FN_ADDR_LEN, "%04x:%02x:%02x.%u", fn->fabric->cfg.segment, pcie_fn_bus(fn),
             fn->devfn >> 3, fn->devfn & 7u);
    return buf;
}

uint16_t pcie_fn_captured_bdf(const struct pcie_fn *fn)
{
    /* Root complex functions have theirs from creation (has_captured). */
    return fn->has_captured ? fn->captured : (uint16_t)(fn->devfn & 7u);
}
bool pcie_fn_has_captured(const struct pcie_fn *fn) { return fn->has_captured; }
void pcie_fn_set_requester_id(struct pcie_fn *fn, bool fixed, uint16_t rid)
{
    fn->rid_fixed = fixed;
    fn->rid = rid;
}
uint16_t pcie_fn_requester_id(const struct pcie_fn *fn)
{
    return fn->rid_fixed ? fn->rid : pcie_fn_captured_bdf(fn);
}

/* The link bus below a downstream port or above a function of the device
 * below one; NULL for others. */
static struct pcie_bus *link_bus(const struct pcie_fn *fn)
{
    if (fn->secondary && fn->secondary->kind == PCIE_BUS_LINK)
        return fn->secondary;
    if (fn->bus->kind == PCIE_BUS_LINK)
        return fn->bus;
    return NULL;
}

struct pcie_link *pcie_fn_link(const struct pcie_fn *fn)
{
    struct pcie_bus *b = link_bus(fn);
    return b ? b->link : NULL;
}

int pcie_fn_train_link(struct pcie_fn *fn, uint8_t speed, uint8_t width,
                       struct pcilab_err *err)
{
    struct pcie_bus *b = link_bus(fn);
    if (!b || !b->link)
        return pcilab_errf(err, PCILAB_EINVAL, "%s has no link to train", fn->name);
    struct pcie_fn *port = b->bridge;
    uint8_t max_s, max_w;
    link_max(port, b->fns[0], &max_s, &max_w);
    if (!speed || !width || speed > max_s || width > max_w)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "link below %s cannot train at gen %u x%u: both ends support up to "
                           "gen %u x%u (7.5.3.6)", port->name, speed, width, max_s, max_w);
    int r = pcie_link_retrain(b->link, speed, width, err);
    if (r < 0)
        return r;
    pcie_exp_set_link(port->cfg, speed, width, true);
    for (unsigned i = 0; i < 8; i++)
        if (b->fns[i] && pcie_exp_present(b->fns[i]->cfg))
            pcie_exp_set_link(b->fns[i]->cfg, speed, width, true);
    return 0;
}

static void bdf_short(const struct pcie_fn *fn, char *buf, size_t len)
{
    snprintf(buf, len, "%02x:%02x.%u", pcie_fn_bus(fn), fn->devfn >> 3, fn->devfn & 7u);
}

char *pcie_fn_link_name(const struct pcie_fn *fn, char *buf)
{
    const struct pcie_fn *up = NULL, *down = NULL;
    if (fn->secondary && fn->secondary->kind == PCIE_BUS_LINK) {
        up = fn;
        for (unsigned i = 0; i < 256 && !down; i++)
            down = fn->secondary->fns[i];
    } else if (fn->bus->kind == PCIE_BUS_LINK) {
        up = fn->bus->bridge;
        down = fn->bus->fns[fn->devfn & ~7u] ? fn->bus->fns[fn->devfn & ~7u] : fn;
    }
    char a[12], b[12];
    if (!up || !down) {
        bdf_short(fn, buf, PCIE_LINK_NAME_LEN);
        return buf;
    }
    bdf_short(up, a, sizeof a);
    bdf_short(down, b, sizeof b);
    snprintf(buf, PCIE_LINK_NAME_LEN, "%.11s<->%.11s", a, b);
    return buf;
}

void pcie_fabric_set_upstream(struct pcie_fabric *f, pcie_upstream_fn fn, void *ctx)
{
    f->upstream = fn;
    f->upstream_ctx = ctx;
}
void pcie_fabric_get_upstream(const struct pcie_fabric *f, pcie_upstream_fn *fn, void **ctx)
{
    *fn = f->upstream;
    *ctx = f->upstream_ctx;
}
void pcie_fabric_set_memory(struct pcie_fabric *f, struct mem_addrmap *map) { f->memory = map; }
void pcie_fabric_set_interrupt_sink(struct pcie_fabric *f, pcie_interrupt_fn fn, void *ctx)
{
    f->irq = fn;
    f->irq_ctx = ctx;
}
void pcie_fabric_set_message_sink(struct pcie_fabric *f, pcie_message_fn fn, void *ctx)
{
    f->msg = fn;
    f->msg_ctx = ctx;
}
