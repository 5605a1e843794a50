/* Scenario description -> memory, address map and PCI Express fabric.
 * PCI Express Base Specification 5.0 (PCIe 5.0) for the register fields. */
#include "scenario/build.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "host/dmar.h"
#include "iommu/amdvi.h"
#include "iommu/router.h"
#include "iommu/vtd.h"
#include "pcie/caps.h"
#include "pcie/route.h"
#include "pcie/cfgdump.h"
#include "pcie/config.h"
#include "pcie/link.h"
#include "scenario/boot.h"

struct scn_system {
    struct pcilab_sim *sim;
    struct pcie_fabric *fabric;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    size_t n;
    struct scn_sysfn *fns;
    struct pcie_cfg **cfgs;     /* configuration spaces of model functions (we own) */
    size_t ncfgs;
    bool configured;
    bool from_dump;             /* machine_from: configured by the real machine */
    uint16_t segment;
    char name[SCN_NAME_MAX];
    /* IOMMUs: the hardware models of functions with the iommu capability. */
    struct scn_sysiommu iommus[SCN_MAX_IOMMUS];
    size_t niommus;
    /* VT-d: one remapping unit per DRHD of firmware: dmar: */
    struct vtd *vtds[SCN_MAX_DMAR_UNITS];
    size_t nvtds;
    struct host_dmar *dmar;     /* the DMAR the units were made from (their scopes) */
    const struct host_dmar_struct *vtd_drhd[SCN_MAX_DMAR_UNITS]; /* each unit's DRHD in it */
    struct iommu_router *router; /* sends each function's requests to its unit */
};

static void system_destroy(void *obj)
{
    struct scn_system *s = obj;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        for (unsigned j = 0; j < s->fns[i].nparams; j++) {
            free(s->fns[i].params[j].key);
            free(s->fns[i].params[j].value);
        }
        free(s->fns[i].params);
    }
    free(s->fns);
    iommu_router_destroy(s->router);
    host_dmar_destroy(s->dmar);
    for (size_t i = 0; i < s->ncfgs; i++)
        pcie_cfg_destroy(s->cfgs[i]);
    free(s->cfgs);
    if (s->map)
        mem_addrmap_destroy(s->map);
    if (s->ram)
        mem_phys_destroy(s->ram);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* errors at a function's place                                               */

__attribute__((format(printf, 4, 5)))
static int fn_fail(struct pcilab_err *err, int code, const struct scn_sysfn *sf, const char *fmt,
                   ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pcilab_err_at(err, code, sf->file, sf->line, sf->col, "%s", msg);
}

/* A lower layer's error (no position) re-reported at the function. */
static int fn_wrap(struct pcilab_err *err, int rc, const struct pcilab_err *inner,
                   const struct scn_sysfn *sf, const char *what)
{
    int code = inner->code ? inner->code : (rc < 0 ? -rc : PCILAB_EINVAL);
    return fn_fail(err, code, sf, "%s: %s", what, inner->msg[0] ? inner->msg : pcilab_errcode_name(code));
}

static const struct scn_capref *find_cap(const struct scn_func *f, enum scn_cap id)
{
    for (unsigned i = 0; i < f->ncaps; i++)
        if (f->caps[i].id == id)
            return &f->caps[i];
    return NULL;
}

static bool byte_given(const struct scn_func *f, unsigned off)
{
    return f->config && off < f->config_len && (f->config_given[off / 8] & (1u << (off % 8)));
}

/* ------------------------------------------------------------------------ */
/* configuration space of one function                                        */

static bool dw_free(const struct pcie_cfg *cfg, unsigned at, unsigned len)
{
    for (unsigned o = at; o < at + len; o += 4)
        if (cfg->used[o / 128] & (1u << ((o / 4) % 32)))
            return false;
    return true;
}

/* AMD IOMMU capability block (AMD I/O Virtualization Technology spec 48882,
 * 3.2.1), 20 bytes, linked at the end of the standard list (caps.h has no
 * builder for it). */
static int add_iommu_cap(struct pcie_cfg *cfg, uint64_t base, bool np_cache, unsigned at,
                         struct pcilab_err *err)
{
    const unsigned len = 20;
    if (!at) {
        for (at = 0x40; at + len <= 0x100 && !dw_free(cfg, at, len); at += 4)
            ;
    }
    if (at < 0x40 || at + len > 0x100 || (at & 3))
        return pcilab_errf(err, PCILAB_ERANGE, "AMD IOMMU capability does not fit at 0x%x", at);
    if (!dw_free(cfg, at, len))
        return pcilab_errf(err, PCILAB_EEXIST, "AMD IOMMU capability at 0x%x overlaps another capability", at);
    /* 00h Capability Header: CapId 0Fh, CapType 011b (18:16), CapRev 00001b
     * (23:19), NpCache (26: not-present entries may be cached, when asked),
     * EFRSup (27: the Extended Feature Register exists), CapExt (28). */
    pcie_cfg_define(cfg, at, 4,
                    0x0fu | 3u << 16 | 1u << 19 | (np_cache ? 1u << 26 : 0) | 1u << 27 | 1u << 28,
                    0, 0);
    /* 04h/08h Base Address Low/High: base[31:14] | Enable (bit 0); locked (RO) as
     * firmware leaves it. */
    pcie_cfg_define(cfg, at + 4, 4, (uint32_t)(base & 0xffffc000u) | 1u, 0, 0);
    pcie_cfg_define(cfg, at + 8, 4, (uint32_t)(base >> 32), 0, 0);
    /* 0Ch Range: RngValid 0 (the IVRS table says which devices). 10h Misc
     * Information 0: GVAsize 010b (48 bits, 7:5), PAsize 48 (14:8), VAsize 64 (21:15). */
    pcie_cfg_define(cfg, at + 12, 4, 0, 0, 0);
    pcie_cfg_define(cfg, at + 16, 4, 2u << 5 | 48u << 8 | 64u << 15, 0, 0);
    for (unsigned o = at; o < at + len; o += 4)
        cfg->used[o / 128] |= 1u << ((o / 4) % 32);
    /* Link at the end of the list (PCI 3.0 6.7). */
    if (!(pcie_cfg_raw_read16(cfg, PCIE_CFG_STATUS) & PCIE_STS_CAP_LIST)) {
        pcie_cfg_define_ex(cfg, PCIE_CFG_CAP_PTR, 1, at, 0, 0, 0, 0);
        uint16_t st = pcie_cfg_raw_read16(cfg, PCIE_CFG_STATUS) | PCIE_STS_CAP_LIST;
        pcie_cfg_define_ex(cfg, PCIE_CFG_STATUS, 2, st,
                           (uint32_t)(cfg->wmask[6] | cfg->wmask[7] << 8),
                           (uint32_t)(cfg->w1c[6] | cfg->w1c[7] << 8), 0,
                           (uint32_t)(cfg->sticky[6] | cfg->sticky[7] << 8));
    } else {
        unsigned off = pcie_cfg_raw_read8(cfg, PCIE_CFG_CAP_PTR) & 0xfc;
        for (unsigned n = 0; n < 48; n++) {
            unsigned next = pcie_cfg_raw_read8(cfg, off + 1) & 0xfc;
            if (!next)
                break;
            off = next;
        }
        pcie_cfg_define_ex(cfg, off + 1, 1, at, 0, 0, 0, 0);
    }
    return (int)at;
}

static int add_cap(struct pcie_cfg *cfg, const struct scn_func *f, const struct scn_capref *c,
                   bool occupied, struct pcilab_err *err)
{
    switch (c->id) {
    case SCN_CAP_PM: {
        struct pcie_pm_params p = {.d1 = f->pm.d1, .d2 = f->pm.d2, .pme_support = f->pm.pme_support,
                                   .no_soft_reset = f->pm.no_soft_reset};
        return pcie_cap_add_pm(cfg, &p, c->offset, err);
    }
    case SCN_CAP_MSI: {
        struct pcie_msi_params p = {.addr64 = f->msi.addr64, .vectors = f->msi.vectors,
                                    .per_vector_mask = f->msi.per_vector_mask};
        return pcie_cap_add_msi(cfg, &p, c->offset, err);
    }
    case SCN_CAP_MSIX: {
        struct pcie_msix_params p = {.table_size = f->msix.table_size, .table_bir = f->msix.table_bir,
                                     .table_offset = f->msix.table_offset, .pba_bir = f->msix.pba_bir,
                                     .pba_offset = f->msix.pba_offset};
        return pcie_cap_add_msix(cfg, &p, c->offset, err);
    }
    case SCN_CAP_PCIE: {
        const struct scn_pcie *q = &f->pcie;
        enum pcie_port_type t = (enum pcie_port_type)q->port_type;
        bool down = t == PCIE_PORT_ROOT_PORT || t == PCIE_PORT_DOWNSTREAM;
        struct pcie_exp_params p;
        memset(&p, 0, sizeof p);
        p.type = t;
        p.mps_supported = q->mps ? q->mps : 128;
        p.ext_tag = q->ext_tags;
        p.rber = true;                       /* required since 1.1 (7.5.3.3 bit 15) */
        p.flr = q->flr;
        p.tag10_completer = q->tag10_completer;
        p.tag10_requester = q->tag10_requester;
        p.completion_timeout_ranges = 0xf;   /* ranges A-D (7.5.3.15) */
        p.max_speed = q->max_speed;
        p.max_width = q->max_width;
        p.dll_active_reporting = down;       /* needed for hot-plug/surprise down (7.5.3.6) */
        p.link_bw_notification = down;
        p.slot_implemented = q->slot && down;
        p.slot.slot_number = q->slot_number;
        p.slot.hotplug_capable = q->hot_plug;
        p.slot.present = occupied;
        p.link_up = false;                   /* set after training */
        return pcie_cap_add_exp(cfg, &p, c->offset, err);
    }
    case SCN_CAP_IOMMU:
        return add_iommu_cap(cfg, f->iommu.base, f->iommu.np_cache, c->offset, err);
    case SCN_CAP_AER: {
        struct pcie_aer_params p;
        memset(&p, 0, sizeof p);
        p.root = f->pcie.port_type == PCIE_PORT_ROOT_PORT;
        return pcie_ecap_add_aer(cfg, &p, c->offset, err);
    }
    case SCN_CAP_ACS: {
        struct pcie_acs_params p = {.capabilities = (uint16_t)(f->acs & 0x7f),
                                    .egress_vector_bits = (f->acs & SCN_ACS_EC) ? 8 : 0};
        return pcie_ecap_add_acs(cfg, &p, c->offset, err);
    }
    case SCN_CAP_COUNT:
        break;
    }
    return pcilab_errf(err, PCILAB_EINVAL, "unknown capability %d", (int)c->id);
}

/* Lays the dumped bytes over the built space, keeping each bit's write
 * semantics. BAR and ROM type bits stay as declared (a dump of an unassigned
 * BAR reads 0). With only the 64-byte header dumped, the capability pointer
 * and Status.Capabilities List stay as the description built them. */
static void overlay(struct pcie_cfg *cfg, const struct scn_func *f)
{
    unsigned hdr = f->header_type & 0x7f;
    unsigned bar_end = hdr == 1 ? 0x18 : 0x28;
    unsigned rom = hdr == 1 ? PCIE_CFG_BRIDGE_ROM : PCIE_CFG_ROM_ADDRESS;
    for (unsigned off = 0; off < f->config_len && off < cfg->size; off++) {
        if (!byte_given(f, off))
            continue;
        uint8_t v = f->config[off];
        if (!f->caps_from_dump && off == PCIE_CFG_CAP_PTR)
            continue;
        if (!f->caps_from_dump && off == PCIE_CFG_STATUS)
            v = (uint8_t)((v & ~PCIE_STS_CAP_LIST) | (cfg->data[off] & PCIE_STS_CAP_LIST));
        bool declared_bar = (off >= PCIE_CFG_BAR0 && off < bar_end &&
                             (cfg->wmask[off & ~3u] | cfg->wmask[(off & ~3u) + 1] |
                              cfg->wmask[(off & ~3u) + 2] | cfg->wmask[(off & ~3u) + 3])) ||
                            (off >= rom && off < rom + 4 && cfg->rom_size);
        if (declared_bar)
            v = (uint8_t)((v & cfg->wmask[off]) | (cfg->data[off] & ~cfg->wmask[off]));
        pcie_cfg_define_ex(cfg, off, 1, v, cfg->wmask[off], cfg->w1c[off], cfg->wzero[off],
                           cfg->sticky[off]);
    }
}

/* Builds f's configuration space into cfg (cleared first, by the header's init). */
static int build_cfg(struct pcie_cfg *cfg, const struct scn_func *f, const struct scn_sysfn *sf,
                     bool occupied, struct pcilab_err *err)
{
    struct pcilab_err inner;
    pcilab_err_clear(&inner);
    int rc;
    unsigned hdr = f->header_type & 0x7f;
    struct pcie_cfg_ident id = {
        .vendor_id = f->vendor_id, .device_id = f->device_id, .revision = f->revision,
        .class_code = f->class_code, .multifunction = (f->header_type & 0x80) != 0,
        .interrupt_pin = f->interrupt_pin,
        .pcie = find_cap(f, SCN_CAP_PCIE) || f->config_len > PCIE_CFG_LEGACY_SIZE,
    };
    /* pcie_cfg_init_type0/1 clear cfg first (not cleared here as well: 24 KiB) */
    if (hdr == 1) {
        struct pcie_bridge_params bp = {.io_window = true, .io_32bit = true, .pref_window = true,
                                        .pref_64bit = true};
        if (f->config && f->config_len >= 0x28) {
            /* From the dumped window registers (7.5.1.3.6, 7.5.1.3.9): absent windows
             * read 0 in both base and limit. */
            const uint8_t *b = f->config;
            bp.io_window = b[0x1c] || b[0x1d];
            bp.io_32bit = (b[0x1c] & 0xf) == 1;
            bp.pref_window = b[0x24] || b[0x25] || b[0x26] || b[0x27];
            bp.pref_64bit = (b[0x24] & 0xf) == 1;
        }
        rc = pcie_cfg_init_type1(cfg, &id, &bp, &inner);
    } else {
        id.subsys_vendor_id = f->subsys_vendor_id;
        id.subsys_id = f->subsys_id;
        rc = pcie_cfg_init_type0(cfg, &id, &inner);
    }
    if (rc < 0)
        return fn_wrap(err, rc, &inner, sf, "header");
    for (unsigned i = 0; i < (hdr == 1 ? 2u : 6u); i++) {
        const struct scn_bar *b = &f->bars[i];
        if (b->type == SCN_BAR_NONE)
            continue;
        enum pcie_bar_type t = b->type == SCN_BAR_MEM32   ? PCIE_BAR_MEM32
                               : b->type == SCN_BAR_MEM64 ? PCIE_BAR_MEM64
                                                          : PCIE_BAR_IO;
        if ((rc = pcie_cfg_bar_declare(cfg, i, t, b->size, b->prefetchable, &inner)) < 0)
            return fn_wrap(err, rc, &inner, sf, "BAR");
    }
    if (f->rom_size && (rc = pcie_cfg_rom_declare(cfg, f->rom_size, &inner)) < 0)
        return fn_wrap(err, rc, &inner, sf, "expansion ROM");
    for (unsigned i = 0; i < f->ncaps; i++) {
        pcilab_err_clear(&inner);
        rc = add_cap(cfg, f, &f->caps[i], occupied, &inner);
        if (rc >= 0)
            continue;
        if (f->caps_from_dump)
            continue; /* a dumped layout our builder cannot lay out: it stays as bytes */
        char what[64];
        snprintf(what, sizeof what, "%s capability", scn_cap_name(f->caps[i].id));
        return fn_wrap(err, rc, &inner, sf, what);
    }
    if (hdr == 1 && f->subsys_vendor_id &&
        (rc = pcie_cap_add_ssvid(cfg, f->subsys_vendor_id, f->subsys_id, 0, &inner)) < 0)
        return fn_wrap(err, rc, &inner, sf, "subsystem ID capability");
    if (f->config)
        overlay(cfg, f);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the machine                                                                */

static int add_cfg(struct scn_system *s, struct pcie_cfg *cfg)
{
    struct pcie_cfg **p = realloc(s->cfgs, (s->ncfgs + 1) * sizeof *p);
    if (!p)
        return -PCILAB_ENOMEM;
    s->cfgs = p;
    s->cfgs[s->ncfgs++] = cfg;
    return 0;
}

static void port_desc(const struct scn_func *f, const char *name, struct pcie_port_desc *d)
{
    memset(d, 0, sizeof *d);
    d->name = name[0] ? name : NULL;
    d->ident.vendor_id = f->vendor_id;
    d->ident.device_id = f->device_id;
    d->ident.revision = f->revision;
    d->ident.class_code = f->class_code;
    d->ident.pcie = true;
    d->max_link_speed = f->pcie.max_speed;
    d->max_link_width = f->pcie.max_width;
    d->mps_supported = f->pcie.mps;
}

static int copy_meta(struct scn_system *s, const struct scn_machine *m, size_t i,
                     struct pcilab_err *err)
{
    const struct scn_func *f = &m->funcs[i];
    struct scn_sysfn *sf = &s->fns[i];
    sf->kind = f->kind;
    sf->parent = f->parent;
    snprintf(sf->name, sizeof sf->name, "%s", f->name);
    snprintf(sf->model, sizeof sf->model, "%s", f->model);
    snprintf(sf->file, sizeof sf->file, "%s", m->machine_from[0] ? m->machine_from : m->source);
    sf->line = f->line;
    sf->col = f->col;
    if (f->nparams) {
        sf->params = calloc(f->nparams, sizeof *sf->params);
        if (!sf->params)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
        for (unsigned j = 0; j < f->nparams; j++) {
            sf->params[j].key = strdup(f->params[j].key);
            sf->params[j].value = strdup(f->params[j].value);
            sf->nparams = j + 1;
            if (!sf->params[j].key || !sf->params[j].value)
                return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
        }
    }
    return 0;
}

static bool has_children(const struct scn_machine *m, size_t i)
{
    for (size_t j = i + 1; j < m->nfuncs; j++)
        if (m->funcs[j].parent == (int)i)
            return true;
    return false;
}

/* A switch: the upstream port at index i and its downstream ports. */
static int build_switch(struct scn_system *s, const struct scn_machine *m, size_t i,
                        struct pcilab_err *err)
{
    const struct scn_func *f = &m->funcs[i];
    struct scn_sysfn *sf = &s->fns[i];
    size_t idx[32];
    uint8_t devs[32];
    unsigned n = 0;
    for (size_t j = i + 1; j < m->nfuncs; j++) {
        if (m->funcs[j].parent != (int)i)
            continue;
        if (n == 32)
            return fn_fail(err, PCILAB_EUNSUPPORTED, &s->fns[j], "a switch has at most 32 downstream ports");
        if (m->funcs[j].fn != 0)
            return fn_fail(err, PCILAB_EUNSUPPORTED, &s->fns[j],
                           "switch downstream ports are function 0 of their device in the fabric model; %02x.%u is not",
                           m->funcs[j].dev, m->funcs[j].fn);
        idx[n] = j;
        devs[n++] = m->funcs[j].dev;
    }
    if (!n)
        return fn_fail(err, PCILAB_EUNSUPPORTED, sf,
                       "a switch upstream port without downstream ports cannot be built (the fabric needs 1..32)");
    struct pcie_switch_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.name = f->name[0] ? f->name : NULL;
    port_desc(f, f->name, &sd.upstream);
    port_desc(&m->funcs[idx[0]], "", &sd.downstream);
    sd.downstream.max_link_width = 0; /* each port's own cap is built below */
    sd.n_downstream = n;
    sd.downstream_dev = devs;
    struct pcilab_err inner;
    pcilab_err_clear(&inner);
    struct pcie_switch *sw = pcie_fabric_add_switch(s->fabric, s->fns[f->parent].fn, &sd, &inner);
    if (!sw)
        return fn_wrap(err, -PCILAB_EINVAL, &inner, sf, "switch");
    sf->fn = pcie_switch_upstream(sw);
    int rc = build_cfg(pcie_fn_cfg(sf->fn), f, sf, true, err);
    for (unsigned k = 0; k < n && !rc; k++) {
        struct scn_sysfn *d = &s->fns[idx[k]];
        d->fn = pcie_switch_downstream(sw, k);
        rc = build_cfg(pcie_fn_cfg(d->fn), &m->funcs[idx[k]], d, has_children(m, idx[k]), err);
    }
    return rc;
}

static int build_memory(struct scn_system *s, const struct scn_machine *m, struct pcilab_err *err)
{
    s->ram = mem_phys_create();
    if (!s->ram)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for physical memory");
    s->map = mem_addrmap_create(s->ram);
    if (!s->map)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the address map");
    const struct scn_memory *mem = &m->memory;
    for (unsigned i = 0; i < mem->nram + mem->nreserved; i++) {
        bool ram = i < mem->nram;
        const struct scn_range *r = ram ? &mem->ram[i] : &mem->reserved[i - mem->nram];
        const char *name = r->name[0] ? r->name : ram ? "System RAM" : "Reserved";
        int rc = ram ? mem_addrmap_add_ram(s->map, r->base, r->size, name, err)
                     : mem_addrmap_add_reserved(s->map, r->base, r->size, name, err);
        if (rc < 0) {
            err->line = r->line;
            err->col = r->col;
            snprintf(err->file, sizeof err->file, "%s", m->source);
            return rc;
        }
    }
    /* ECAM, PCIe 5.0 7.2.2: 1 MiB per bus; host configuration accesses, not memory. */
    uint64_t ecam_size = (uint64_t)(m->rc.bus_last - m->rc.bus_first + 1) << 20;
    int rc = mem_addrmap_add_reserved(s->map, m->rc.ecam_base, ecam_size, "PCI ECAM", err);
    if (rc < 0)
        return rc;
    pcie_fabric_set_memory(s->fabric, s->map);
    return 0;
}

/* The IOMMU's own interrupt: an MSI from its PCI function (AMD 48882 3.2.x:
 * the IOMMU signals through the MSI capability of its function). */
static void iommu_msi(void *ctx)
{
    struct scn_sysiommu *io = ctx;
    /* a disabled or masked MSI is the host's choice: nothing to report */
    pcie_fn_msi_send(io->fn, 0, NULL);
}

/* One AMD-Vi model per function with the iommu capability, its registers at
 * the capability's base address, between the root complex and memory. */
static int build_iommus(struct scn_system *s, const struct scn_machine *m,
                        struct pcilab_err *err)
{
    for (size_t i = 0; i < m->nfuncs; i++) {
        const struct scn_func *f = &m->funcs[i];
        if (!find_cap(f, SCN_CAP_IOMMU))
            continue;
        if (s->niommus == SCN_MAX_IOMMUS)
            return fn_fail(err, PCILAB_EUNSUPPORTED, &s->fns[i],
                           "more than %d IOMMUs in one machine", SCN_MAX_IOMMUS);
        struct scn_sysiommu *io = &s->iommus[s->niommus];
        io->fn = s->fns[i].fn;
        io->index = i;
        struct amdvi_config c;
        amdvi_config_default(&c);
        c.mmio_base = f->iommu.base;
        if (f->iommu.has_efr)
            c.efr = f->iommu.efr;
        c.devid = pcie_bdf(m->rc.bus_first, f->dev, f->fn);
        c.msi = iommu_msi;
        c.msi_ctx = io;
        struct pcilab_err inner;
        pcilab_err_clear(&inner);
        io->amdvi = amdvi_create(s->sim, s->ram, s->map, &c, &inner);
        if (!io->amdvi)
            return fn_fail(err, inner.code ? inner.code : PCILAB_EINVAL, &s->fns[i],
                           "IOMMU: %s", inner.msg);
        io->iommu = amdvi_iommu(io->amdvi);
        io->devid = c.devid;
        iommu_attach_fabric(io->iommu, s->fabric, true, c.devid);
        s->niommus++;
    }
    return 0;
}

/* Does the DMAR device scope sc (VT-d 3.4 8.3.1: Start Bus Number, then
 * {Device, Function} pairs, each but the last a bridge whose secondary bus
 * the next sits on) name fn itself? The first pair sits on the start bus
 * with the bus numbers programmed now (the root bus before enumeration). */
static bool scope_names(const struct host_dmar_scope *sc, const struct pcie_fn *fn)
{
    const struct pcie_fn *x = fn;
    unsigned root = pcie_fabric_config(pcie_fn_fabric(fn))->root_bus;
    for (size_t k = sc->npath; k-- > 0; x = pcie_fn_parent(x)) {
        if (!x || pcie_fn_devfn(x) != (unsigned)(sc->path[k].dev << 3 | sc->path[k].fn))
            return false;
        /* the root bus by position (its number is fixed); a bus below a
         * bridge by the number programmed in the bridge (0 before
         * enumeration, which matches nothing: route_vtds runs again) */
        if (k == 0)
            return sc->bus == root ? !pcie_fn_parent(x)
                                   : pcie_fn_parent(x) && pcie_fn_bus(x) == sc->bus;
    }
    return false;
}

/* Does scope sc cover fn: an endpoint scope naming it, or a bridge scope
 * naming it or a bridge above it (the sub-hierarchy, 8.3.1 Type 02h)? */
static bool scope_covers(const struct host_dmar_scope *sc, const struct pcie_fn *fn)
{
    if (sc->type == HOST_DMAR_SCOPE_ENDPOINT)
        return scope_names(sc, fn);
    if (sc->type != HOST_DMAR_SCOPE_BRIDGE)
        return false;
    for (const struct pcie_fn *x = fn; x; x = pcie_fn_parent(x))
        if (scope_names(sc, x))
            return true;
    return false;
}

/* The platform's routing of each function's requests to a remapping unit
 * (iommu/router.h): the first DRHD of the segment (table order) whose scope
 * covers the function, else the segment's INCLUDE_PCI_ALL DRHD, else none.
 * Run at build and again after enumeration, when secondary bus numbers
 * (which scopes starting below the root bus name) are programmed. */
static int route_vtds(struct scn_system *s, struct pcilab_err *err)
{
    if (!s->router)
        return 0;
    struct iommu *all = NULL;
    for (size_t u = 0; u < s->nvtds && !all; u++) {
        const struct host_dmar_struct *d = s->vtd_drhd[u];
        if (d->segment == s->segment && (d->flags & HOST_DRHD_INCLUDE_PCI_ALL))
            all = vtd_iommu(s->vtds[u]);
    }
    int rc = iommu_router_set_default(s->router, all, err);
    for (size_t j = 0; rc == 0 && j < pcie_fabric_fn_count(s->fabric); j++) {
        const struct pcie_fn *fn = pcie_fabric_fn_at(s->fabric, j);
        struct iommu *unit = all;
        for (size_t u = 0; u < s->nvtds && unit == all; u++) {
            const struct host_dmar_struct *d = s->vtd_drhd[u];
            if (d->segment != s->segment || (d->flags & HOST_DRHD_INCLUDE_PCI_ALL))
                continue;
            for (size_t k = 0; k < d->n_scopes && unit == all; k++)
                if (scope_covers(&d->scopes[k], fn))
                    unit = vtd_iommu(s->vtds[u]);
        }
        rc = iommu_router_set(s->router, fn, unit, err);
    }
    return rc;
}

/* A VT-d unit's own interrupt (fault event): a compatibility-format message
 * from the root complex straight to the interrupt sink (VT-d 10.4.10-13;
 * the unit is not a PCI function and its messages are never remapped). */
static void vtd_msi(void *ctx, enum vtd_event ev, uint64_t addr, uint32_t data)
{
    (void)ev;
    struct scn_system *s = ctx;
    uint8_t b[4] = {(uint8_t)data, (uint8_t)(data >> 8), (uint8_t)(data >> 16),
                    (uint8_t)(data >> 24)};
    struct pcie_upstream_req req = {.fabric = s->fabric, .write = true, .addr = addr, .len = 4,
                                    .data = b};
    pcie_fabric_system_access(s->fabric, &req, NULL, NULL);
}

/* One VT-d model per DRHD of the machine's DMAR (firmware: dmar:, the same
 * bytes the kernel reads: scn_firmware_dmar), with QEMU 7.2's registers
 * (vtd_config_qemu) at the DRHD's base, or a client platform's for
 * `dmar: client`'s INCLUDE_PCI_ALL unit; a router between the root complex
 * and memory sends each function's requests to the unit whose scope covers
 * it (route_vtds). */
static int build_vtds(struct scn_system *s, const struct scn_machine *m, struct pcilab_err *err)
{
    const struct scn_dmar *d = &m->firmware.dmar;
    if (d->kind == SCN_DMAR_ABSENT)
        return 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = scn_firmware_dmar(m, &bytes, &len, err);
    if (rc == 0 && len)
        rc = host_dmar_parse(bytes, len, &s->dmar, err);
    free(bytes);
    if (rc < 0 || !s->dmar)
        return rc;
    for (size_t i = 0; i < s->dmar->n; i++) {
        const struct host_dmar_struct *u = &s->dmar->s[i];
        if (u->type != HOST_DMAR_DRHD)
            continue;
        if (s->nvtds == SCN_MAX_DMAR_UNITS)
            return pcilab_err_at(err, PCILAB_EUNSUPPORTED, m->source, d->line, d->col,
                                 "more than %d DRHDs", SCN_MAX_DMAR_UNITS);
        bool all = u->flags & HOST_DRHD_INCLUDE_PCI_ALL;
        struct vtd_config c;
        if (m->iommu == SCN_IOMMU_VTD_SM)
            vtd_config_qemu_sm(&c); /* iommu: vtd-sm, QEMU's x-scalable-mode=on */
        else if (d->kind == SCN_DMAR_CLIENT && all)
            vtd_config_client(&c);
        else
            vtd_config_qemu(&c);
        c.mmio_base = u->base;
        c.segment = u->segment;
        c.include_pci_all = all;
        c.haw = (uint8_t)(s->dmar->haw + 1u);
        c.msi = vtd_msi;
        c.msi_ctx = s;
        struct pcilab_err inner;
        pcilab_err_clear(&inner);
        s->vtd_drhd[s->nvtds] = u;
        s->vtds[s->nvtds] = vtd_create(s->sim, s->ram, s->map, &c, &inner);
        if (!s->vtds[s->nvtds])
            return pcilab_err_at(err, inner.code ? inner.code : PCILAB_EINVAL, m->source,
                                 d->line, d->col, "DRHD at 0x%llx: %s",
                                 (unsigned long long)u->base, inner.msg);
        s->nvtds++;
    }
    if (!s->nvtds)
        return 0;
    struct pcilab_err inner;
    pcilab_err_clear(&inner);
    s->router = iommu_router_create(s->fabric, &inner);
    if (!s->router)
        return pcilab_errf(err, inner.code, "%s", inner.msg);
    if ((rc = route_vtds(s, &inner)) < 0)
        return pcilab_err_at(err, inner.code ? inner.code : PCILAB_EINVAL, m->source, d->line,
                             d->col, "DMAR: %s", inner.msg);
    iommu_router_attach(s->router);
    return 0;
}

/* The device model each function's `model:` names, with its `params:`
 * (devices/devices.h). Errors (unknown model or parameter, a value that does
 * not parse, a configuration space the model cannot use) name the function. */
static int attach_models(struct scn_system *s, struct pcilab_err *err)
{
    for (size_t i = 0; i < s->n; i++) {
        struct scn_sysfn *sf = &s->fns[i];
        if (!sf->model[0])
            continue;
        struct dev_param ps[SCN_MAX_PARAMS];
        unsigned n = sf->nparams < SCN_MAX_PARAMS ? sf->nparams : SCN_MAX_PARAMS;
        for (unsigned j = 0; j < n; j++) {
            ps[j].key = sf->params[j].key;
            ps[j].value = sf->params[j].value;
        }
        struct pcilab_err inner;
        pcilab_err_clear(&inner);
        int rc = dev_model_attach(sf->model, s->sim, sf->fn, ps, n, &sf->dev, &inner);
        if (rc < 0)
            return fn_wrap(err, rc, &inner, sf, "model");
    }
    return 0;
}

int scn_build(const struct scn_machine *m, struct pcilab_sim *sim, struct scn_system **out,
              struct pcilab_err *err)
{
    *out = NULL;
    if (!m->nfuncs)
        return pcilab_err_at(err, PCILAB_EINVAL, m->source, 0, 0, "the machine has no functions");
    struct scn_system *s = calloc(1, sizeof *s);
    if (!s)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the system");
    s->fns = calloc(m->nfuncs, sizeof *s->fns);
    /* Registered before the fabric so it is destroyed after it: the fabric
     * points at the configuration spaces and the address map kept here. */
    if (!s->fns || sim_own(sim, s, system_destroy) < 0) {
        system_destroy(s);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the system");
    }
    s->n = m->nfuncs;
    s->sim = sim;
    s->segment = m->rc.segment;
    s->from_dump = m->machine_from[0] != '\0';
    s->configured = s->from_dump;
    snprintf(s->name, sizeof s->name, "%s", m->name);
    int rc = 0;
    for (size_t i = 0; i < m->nfuncs && !rc; i++)
        rc = copy_meta(s, m, i, err);
    if (rc)
        return rc;

    /* The root complex. The host bridge at root_bus:00.0, if described, is the
     * fabric's own (host-originated requests carry its ID). */
    struct pcie_fabric_config fc;
    pcie_fabric_config_default(&fc);
    fc.segment = m->rc.segment;
    fc.root_bus = m->rc.bus_first;
    memset(&fc.host_bridge, 0, sizeof fc.host_bridge);
    int hb0 = -1;
    for (size_t i = 0; i < m->nfuncs; i++) {
        const struct scn_func *f = &m->funcs[i];
        if (f->kind == SCN_HOST_BRIDGE && f->parent < 0 && f->dev == 0 && f->fn == 0) {
            hb0 = (int)i;
            fc.host_bridge = (struct pcie_cfg_ident){.vendor_id = f->vendor_id ? f->vendor_id : 0xffff,
                                                     .device_id = f->device_id,
                                                     .class_code = f->class_code};
        }
    }
    fc.mem32 = (struct pcie_aperture){m->rc.mmio32.base, m->rc.mmio32.size};
    fc.mem64 = (struct pcie_aperture){m->rc.mmio64.base, m->rc.mmio64.size};
    fc.io = (struct pcie_aperture){m->rc.io.base, m->rc.io.size};
    struct pcilab_err inner;
    pcilab_err_clear(&inner);
    s->fabric = pcie_fabric_create(sim, &fc, &inner);
    if (!s->fabric)
        return pcilab_err_at(err, inner.code ? inner.code : PCILAB_EINVAL, m->source, 0, 0,
                             "root complex: %s", inner.msg);

    for (size_t i = 0; i < m->nfuncs && !rc; i++) {
        const struct scn_func *f = &m->funcs[i];
        struct scn_sysfn *sf = &s->fns[i];
        struct pcie_fn *port = f->parent >= 0 ? s->fns[f->parent].fn : NULL;
        pcilab_err_clear(&inner);
        switch (f->kind) {
        case SCN_HOST_BRIDGE: {
            if ((int)i == hb0) {
                sf->fn = pcie_fabric_host_bridge(s->fabric);
            } else {
                struct pcie_cfg_ident id = {.vendor_id = f->vendor_id, .device_id = f->device_id,
                                            .class_code = f->class_code};
                sf->fn = pcie_fabric_add_host_bridge(s->fabric, f->dev, f->fn, &id, &inner);
            }
            if (!sf->fn)
                return fn_wrap(err, -PCILAB_EINVAL, &inner, sf, "host bridge");
            rc = build_cfg(pcie_fn_cfg(sf->fn), f, sf, false, err);
            break;
        }
        case SCN_ROOT_PORT: {
            struct pcie_port_desc d;
            port_desc(f, f->name, &d);
            sf->fn = pcie_fabric_add_root_port(s->fabric, f->dev, f->fn, &d, &inner);
            if (!sf->fn)
                return fn_wrap(err, -PCILAB_EINVAL, &inner, sf, "root port");
            rc = build_cfg(pcie_fn_cfg(sf->fn), f, sf, has_children(m, i), err);
            break;
        }
        case SCN_UPSTREAM_PORT:
            rc = build_switch(s, m, i, err);
            break;
        case SCN_DOWNSTREAM_PORT:
            if (!sf->fn) /* the parser puts them below an upstream port only */
                return fn_fail(err, PCILAB_EINVAL, sf, "a downstream port outside a switch");
            break;
        default: {
            struct pcie_cfg *cfg = pcie_cfg_create(&inner);
            if (!cfg)
                return fn_wrap(err, -PCILAB_ENOMEM, &inner, sf, "configuration space");
            if (add_cfg(s, cfg) < 0) {
                pcie_cfg_destroy(cfg);
                return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
            }
            if ((rc = build_cfg(cfg, f, sf, false, err)))
                break;
            sf->fn = pcie_fabric_add_function(s->fabric, port, f->dev, f->fn, cfg, NULL, NULL,
                                              &inner);
            if (!sf->fn)
                return fn_wrap(err, -PCILAB_EINVAL, &inner, sf, scn_kind_name(f->kind));
            break;
        }
        }
    }
    if (rc)
        return rc;

    /* Link Status after training (PCIe 5.0 7.5.3.8): the description's trained
     * speed and width on both ends (the fabric trained its links at the common
     * maximum when each device was attached); dumped functions keep their bytes. */
    for (size_t i = 0; i < m->nfuncs; i++) {
        const struct scn_func *f = &m->funcs[i];
        struct pcie_cfg *cfg = pcie_fn_cfg(s->fns[i].fn);
        if (f->config)
            overlay(cfg, f);
        else if (find_cap(f, SCN_CAP_PCIE) && f->pcie.port_type != PCIE_PORT_RC_INTEGRATED_EP) {
            /* A link trained below the common maximum (speed/width forced in
             * the description) is retrained, so its timing follows too. */
            struct pcie_link *l = pcie_fn_link(s->fns[i].fn);
            if (l && f->pcie.speed &&
                (f->pcie.speed != pcie_link_gen(l) || f->pcie.width != pcie_link_width(l))) {
                struct pcilab_err e;
                pcilab_err_clear(&e);
                if (pcie_fn_train_link(s->fns[i].fn, f->pcie.speed, f->pcie.width, &e) < 0)
                    return fn_fail(err, e.code, &s->fns[i], "%s", e.msg);
            } else {
                pcie_exp_set_link(cfg, f->pcie.speed, f->pcie.width, f->pcie.speed != 0);
            }
        }
    }
    if ((rc = build_memory(s, m, err)) || (rc = build_iommus(s, m, err)) ||
        (rc = build_vtds(s, m, err)) || (rc = attach_models(s, err)))
        return rc;
    *out = s;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* after the build                                                            */

int scn_enumerate(struct scn_system *s, struct pcie_enum_report *rep, struct pcilab_err *err)
{
    if (rep)
        memset(rep, 0, sizeof *rep);
    if (s->from_dump)
        return 0; /* the real machine's firmware and kernel did it: keep their numbers */
    int rc = pcie_enumerate(s->fabric, NULL, rep, err);
    if (rc == 0)
        s->configured = true;
    /* scopes that start below the root bus name secondary bus numbers */
    if (rc == 0)
        rc = route_vtds(s, err);
    return rc;
}

bool scn_system_configured(const struct scn_system *s) { return s->configured; }
struct pcilab_sim *scn_system_sim(const struct scn_system *s) { return s->sim; }
struct pcie_fabric *scn_system_fabric(const struct scn_system *s) { return s->fabric; }
struct mem_phys *scn_system_ram(const struct scn_system *s) { return s->ram; }
struct mem_addrmap *scn_system_addrmap(const struct scn_system *s) { return s->map; }
const char *scn_system_name(const struct scn_system *s) { return s->name; }
size_t scn_system_count(const struct scn_system *s) { return s->n; }
size_t scn_system_iommu_count(const struct scn_system *s) { return s->niommus; }
size_t scn_system_vtd_count(const struct scn_system *s) { return s->nvtds; }
struct iommu_router *scn_system_vtd_router(const struct scn_system *s) { return s->router; }
struct vtd *scn_system_vtd(const struct scn_system *s, size_t i)
{
    return i < s->nvtds ? s->vtds[i] : NULL;
}

const struct scn_sysiommu *scn_system_iommu(const struct scn_system *s, size_t i)
{
    return i < s->niommus ? &s->iommus[i] : NULL;
}

const struct scn_sysfn *scn_system_at(const struct scn_system *s, size_t i)
{
    return i < s->n ? &s->fns[i] : NULL;
}

const struct scn_sysfn *scn_system_find(const struct scn_system *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct scn_sysfn *f = &s->fns[i];
        char full[PCIE_FN_ADDR_LEN];
        pcie_fn_addr_str(f->fn, full);
        if ((f->name[0] && !strcmp(f->name, name)) || !strcmp(full, name) ||
            !strcmp(full + 5, name))
            return f;
    }
    return NULL;
}

const char *scn_sysfn_param(const struct scn_sysfn *f, const char *key)
{
    for (unsigned i = 0; i < f->nparams; i++)
        if (!strcmp(f->params[i].key, key))
            return f->params[i].value;
    return NULL;
}

int scn_system_bdf_order(const struct scn_system *s, size_t *idx, struct pcilab_err *err)
{
    /* Insertion sort by BDF (machines are small; ties are reported). */
    for (size_t i = 0; i < s->n; i++) {
        uint16_t key = pcie_fn_bdf(s->fns[i].fn);
        size_t j = i;
        while (j > 0 && pcie_fn_bdf(s->fns[idx[j - 1]].fn) > key) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    for (size_t i = 1; i < s->n; i++) {
        uint16_t a = pcie_fn_bdf(s->fns[idx[i - 1]].fn), b = pcie_fn_bdf(s->fns[idx[i]].fn);
        if (a == b)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "two functions answer to %02x:%02x.%u: bus numbers are not assigned yet (run scn_enumerate)",
                               a >> 8, (a >> 3) & 31, a & 7);
    }
    return 0;
}

int scn_system_write_dump(const struct scn_system *s, FILE *out, unsigned bytes, unsigned flags,
                          struct pcilab_err *err)
{
    if (bytes != 64 && bytes != 256 && bytes != 4096)
        return pcilab_errf(err, PCILAB_EINVAL, "dump size %u: use 64, 256 or 4096 bytes", bytes);
    size_t *idx = calloc(s->n, sizeof *idx);
    struct pcie_dump_entry *e = calloc(s->n, sizeof *e);
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (!idx || !e)
        rc = pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
    if (!rc)
        rc = scn_system_bdf_order(s, idx, err);
    for (size_t i = 0; i < s->n && !rc; i++) {
        const struct pcie_fn *fn = s->fns[idx[i]].fn;
        uint16_t bdf = pcie_fn_bdf(fn);
        pcie_dump_entry_from_cfg(&e[i], s->segment, (uint8_t)(bdf >> 8), (uint8_t)((bdf >> 3) & 31),
                                 (uint8_t)(bdf & 7), pcie_fn_cfg(fn));
    }
    if (!rc)
        rc = pcie_dump_format(e, s->n, bytes, flags, &text, &len, err);
    if (!rc && fwrite(text, 1, len, out) != len)
        rc = pcilab_errf(err, PCILAB_EIO, "cannot write the dump");
    free(text);
    free(e);
    free(idx);
    return rc;
}
