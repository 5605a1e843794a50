/* Firmware tables and the host kernel's boot for a built machine (boot.h). */
#include "scenario/boot.h"

#include "drivers/drivers.h"
#include "host/module.h"

#include <stdlib.h>
#include <string.h>

#include "host/boot.h"
#include "host/dmar.h"
#include "host/ivrs.h"
#include "iommu/amdvi.h"
#include "pcie/caps.h"
#include "pcie/route.h"

#define DEFAULT_IVINFO 0x00203041u
#define IVHD_FLAGS_10H 0xb0u     /* IotlbSup | Coherent | PPRSup */
#define IVHD_FLAGS_TYPE10_ONLY 0xc0u /* PPRSup, PreFSup: type 10h only (5.2.2.1) */
#define AMD_IOMMU_CAP_ID 0x0f    /* Secure Device capability (48882 3.2.1) */

/* The IVHD header of one IOMMU function for block type `type`. */
static struct host_ivhd ivhd_header(const struct scn_machine *m, const struct scn_system *s,
                                    size_t fi, uint8_t type, uint8_t flags, uint16_t info)
{
    const struct scn_func *f = &m->funcs[fi];
    const struct scn_sysfn *sf = scn_system_at(s, fi);
    struct host_ivhd h;
    memset(&h, 0, sizeof h);
    h.type = type;
    h.flags = type == HOST_IVHD_TYPE_10 ? flags : flags & (uint8_t)~IVHD_FLAGS_TYPE10_ONLY;
    h.devid = pcie_bdf(m->rc.bus_first, f->dev, f->fn);
    h.cap_offset = (uint16_t)pcie_cap_find(pcie_fn_cfg(sf->fn), AMD_IOMMU_CAP_ID);
    h.mmio_base = f->iommu.base;
    h.segment = m->rc.segment;
    h.info = info;
    if (type != HOST_IVHD_TYPE_10) {
        /* 11h/40h carry an image of the Extended Feature Register
         * (5.2.2.1): the IOMMU model's own unless the IVHD says otherwise */
        for (size_t i = 0; i < scn_system_iommu_count(s); i++) {
            const struct scn_sysiommu *si = scn_system_iommu(s, i);
            if (si->index == fi && si->amdvi)
                h.efr = amdvi_get_config(si->amdvi)->efr;
        }
    }
    return h;
}

static int add_entry(struct host_ivrs *t, size_t b, struct host_ivhd_entry e,
                     struct pcilab_err *err)
{
    return host_ivrs_add_entry(t, b, &e, err);
}

static int default_ivrs(const struct scn_machine *m, const struct scn_system *s,
                        struct host_ivrs *t, struct pcilab_err *err)
{
    t->ivinfo = DEFAULT_IVINFO;
    for (size_t i = 0; i < scn_system_iommu_count(s); i++) {
        size_t fi = scn_system_iommu(s, i)->index;
        static const uint8_t types[2] = {HOST_IVHD_TYPE_10, HOST_IVHD_TYPE_11};
        for (int k = 0; k < 2; k++) {
            struct host_ivhd h = ivhd_header(m, s, fi, types[k], IVHD_FLAGS_10H, 0);
            int b = host_ivrs_add_ivhd(t, &h, err);
            int r;
            if (b < 0)
                return b;
            uint16_t first = pcie_bdf(m->rc.bus_first, 1, 0);
            uint16_t last = pcie_bdf(m->rc.bus_last, 31, 7);
            uint16_t fch = pcie_bdf(m->rc.bus_first, 0x14, 0);
            if ((r = add_entry(t, (size_t)b, host_ivhd_range(first, 0), err)) < 0 ||
                (r = add_entry(t, (size_t)b, host_ivhd_range_end(last), err)) < 0 ||
                (r = add_entry(t, (size_t)b,
                               host_ivhd_special(HOST_IVHD_SPECIAL_IOAPIC, 4, fch, 0xd7), err)) < 0 ||
                (r = add_entry(t, (size_t)b,
                               host_ivhd_special(HOST_IVHD_SPECIAL_HPET, 0, fch, 0), err)) < 0)
                return r;
        }
    }
    return 0;
}

static int described_ivrs(const struct scn_machine *m, const struct scn_system *s,
                          struct host_ivrs *t, struct pcilab_err *err)
{
    const struct scn_firmware *fw = &m->firmware;
    t->ivinfo = fw->ivinfo;
    for (unsigned i = 0; i < fw->nivhd; i++) {
        const struct scn_ivhd *d = &fw->ivhd[i];
        for (unsigned k = 0; k < d->ntypes; k++) {
            struct host_ivhd h = ivhd_header(m, s, (size_t)d->iommu, d->types[k], d->flags, d->info);
            if (d->has_efr && h.type != HOST_IVHD_TYPE_10)
                h.efr = d->efr;
            int b = host_ivrs_add_ivhd(t, &h, err);
            if (b < 0)
                return b;
            for (unsigned j = 0; j < d->nentries; j++) {
                const struct scn_ivhd_entry *e = &d->entries[j];
                int r = 0;
                switch (e->kind) {
                case SCN_IVHD_ALL:
                    r = add_entry(t, (size_t)b, host_ivhd_all(e->data), err);
                    break;
                case SCN_IVHD_SELECT:
                    r = add_entry(t, (size_t)b, host_ivhd_select(e->first, e->data), err);
                    break;
                case SCN_IVHD_RANGE:
                    if ((r = add_entry(t, (size_t)b, host_ivhd_range(e->first, e->data), err)) == 0)
                        r = add_entry(t, (size_t)b, host_ivhd_range_end(e->last), err);
                    break;
                case SCN_IVHD_ALIAS:
                    r = add_entry(t, (size_t)b, host_ivhd_alias(e->first, e->data, e->source), err);
                    break;
                case SCN_IVHD_ALIAS_RANGE:
                    if ((r = add_entry(t, (size_t)b,
                                       host_ivhd_alias_range(e->first, e->data, e->source), err)) == 0)
                        r = add_entry(t, (size_t)b, host_ivhd_range_end(e->last), err);
                    break;
                case SCN_IVHD_SPECIAL:
                    r = add_entry(t, (size_t)b,
                                  host_ivhd_special(e->variety, e->handle, e->first, e->data), err);
                    break;
                }
                if (r < 0)
                    return pcilab_err_at(err, err ? err->code : PCILAB_EINVAL, m->source, e->line,
                                         e->col, "IVRS entry: %s", err ? err->msg : "");
            }
        }
    }
    static const uint8_t ivmd_type[] = {HOST_IVMD_TYPE_ALL, HOST_IVMD_TYPE_SELECT,
                                        HOST_IVMD_TYPE_RANGE};
    for (unsigned i = 0; i < fw->nivmd; i++) {
        const struct scn_ivmd *d = &fw->ivmd[i];
        struct host_ivmd v;
        memset(&v, 0, sizeof v);
        v.type = ivmd_type[d->kind];
        v.flags = d->flags;
        v.devid = d->kind == SCN_IVMD_ALL ? 0 : d->first;
        v.aux = d->kind == SCN_IVMD_RANGE ? d->last : 0;
        v.start = d->start;
        v.length = d->length;
        int r = host_ivrs_add_ivmd(t, &v, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int scn_firmware_ivrs(const struct scn_machine *m, const struct scn_system *s, uint8_t **bytes,
                      size_t *len, struct pcilab_err *err)
{
    *bytes = NULL;
    *len = 0;
    if (m->firmware.no_ivrs || (!m->firmware.ivrs && !scn_system_iommu_count(s)))
        return 0;
    struct host_ivrs *t = host_ivrs_create();
    if (!t)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the IVRS");
    /* OEM fields as AMD reference firmware (AGESA) fills them */
    host_acpi_header_set(&t->hdr, 2, "AMD   ", "AGESA   ", 1, "AMD ", 1);
    int r = m->firmware.ivrs ? described_ivrs(m, s, t, err) : default_ivrs(m, s, t, err);
    long n = r < 0 ? r : host_ivrs_encoded_len(t, err);
    if (n > 0) {
        *bytes = malloc((size_t)n);
        if (!*bytes)
            n = pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the IVRS");
        else
            n = host_ivrs_encode(t, *bytes, (size_t)n, err);
    }
    host_ivrs_destroy(t);
    if (n < 0) {
        free(*bytes);
        *bytes = NULL;
        return (int)n;
    }
    *len = (size_t)n;
    return 0;
}

static int cmp_devfn(const void *a, const void *b)
{
    const struct host_dmar_dev *x = a, *y = b;
    return (x->dev << 3 | x->fn) - (y->dev << 3 | y->fn);
}

static int described_dmar(const struct scn_machine *m, struct host_dmar *t,
                          struct pcilab_err *err)
{
    const struct scn_dmar *d = &m->firmware.dmar;
    t->haw = (uint8_t)(d->haw - 1);
    t->flags = d->flags;
    const struct scn_dmar_unit *arr[3] = {d->drhd, d->rmrr, d->atsr};
    const unsigned cnt[3] = {d->ndrhd, d->nrmrr, d->natsr};
    for (unsigned k = 0; k < 3; k++) {
        for (unsigned i = 0; i < cnt[k]; i++) {
            const struct scn_dmar_unit *u = &arr[k][i];
            int x = k == 0   ? host_dmar_add_drhd(t, u->flags, m->rc.segment, u->base, err)
                    : k == 1 ? host_dmar_add_rmrr(t, m->rc.segment, u->base, u->limit, err)
                             : host_dmar_add_atsr(t, u->flags, m->rc.segment, err);
            if (x < 0)
                return x;
            for (unsigned j = 0; j < u->nscopes; j++) {
                const struct scn_dmar_scope *sc = &u->scopes[j];
                struct host_dmar_scope hs =
                    host_dmar_scope1(sc->type, sc->enum_id, sc->bus, sc->dev, sc->fn);
                int r = host_dmar_add_scope(t, (size_t)x, &hs, err);
                if (r < 0)
                    return r;
            }
        }
    }
    return 0;
}

int scn_firmware_dmar(const struct scn_machine *m, uint8_t **bytes, size_t *len,
                      struct pcilab_err *err)
{
    *bytes = NULL;
    *len = 0;
    const struct scn_dmar *d = &m->firmware.dmar;
    if (d->kind == SCN_DMAR_ABSENT)
        return 0;
    struct host_dmar *t = host_dmar_create();
    if (!t)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the DMAR");
    int r = 0;
    if (d->kind == SCN_DMAR_Q35) {
        /* QEMU walks the root bus in devfn order (pci_for_each_device_under_bus) */
        struct host_dmar_dev *devs = calloc(m->nfuncs ? m->nfuncs : 1, sizeof *devs);
        size_t n = 0;
        if (!devs)
            r = pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the DMAR");
        for (unsigned i = 0; devs && i < m->nfuncs; i++) {
            const struct scn_func *f = &m->funcs[i];
            if (f->parent >= 0)
                continue;
            bool bridge = f->kind == SCN_ROOT_PORT || (f->header_type & 0x7f) == 1;
            devs[n++] = (struct host_dmar_dev){m->rc.bus_first, f->dev, f->fn, bridge};
        }
        if (devs) {
            qsort(devs, n, sizeof *devs, cmp_devfn);
            struct host_dmar_q35 q = {.aw_bits = 39, .intr_remap = true, .devs = devs, .n_devs = n};
            r = host_dmar_build_q35(t, &q, err);
        }
        free(devs);
    } else if (d->kind == SCN_DMAR_CLIENT) {
        r = host_dmar_build_client(t, NULL, err);
    } else {
        r = described_dmar(m, t, err);
    }
    long n = r < 0 ? r : host_dmar_encoded_len(t, err);
    if (n > 0) {
        *bytes = malloc((size_t)n);
        if (!*bytes)
            n = pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the DMAR");
        else
            n = host_dmar_encode(t, *bytes, (size_t)n, err);
    }
    host_dmar_destroy(t);
    if (n < 0) {
        free(*bytes);
        *bytes = NULL;
        return (int)n;
    }
    *len = (size_t)n;
    return 0;
}

int scn_boot(struct scn_system *s, const struct scn_machine *m, const struct scn_boot_opts *o,
             const struct pcie_enum_report *rep, struct host_kernel **out,
             struct pcilab_err *err)
{
    *out = NULL;
    struct host_kernel_config kc = {
        .version = o && o->version ? o->version : (m->kernel.version[0] ? m->kernel.version : NULL),
        .cmdline = o && o->cmdline ? o->cmdline : m->kernel.cmdline,
        .ncpus = m->kernel.cpus,
        .dma_debug = m->kernel.dma_debug || (o && o->dma_debug),
    };
    /* firmware leaves the IOMMU's function able to send its MSI */
    for (size_t i = 0; i < scn_system_iommu_count(s); i++) {
        struct pcie_fn *fn = scn_system_iommu(s, i)->fn;
        struct pcie_cfg *cfg = pcie_fn_cfg(fn);
        pcie_host_cfg_write(scn_system_fabric(s), pcie_fn_bdf(fn), PCIE_CFG_COMMAND, 2,
                            pcie_cfg_command(cfg) | PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER);
    }
    struct host_kernel *k = host_kernel_create(scn_system_sim(s), scn_system_fabric(s),
                                               scn_system_ram(s), scn_system_addrmap(s), &kc, err);
    if (!k)
        return err && err->code ? -err->code : -PCILAB_EINVAL;
    uint8_t *ivrs = NULL;
    size_t ivrs_len = 0;
    int r = scn_firmware_ivrs(m, s, &ivrs, &ivrs_len, err);
    if (r < 0)
        return r;
    uint8_t *dmar = NULL;
    size_t dmar_len = 0;
    if ((r = scn_firmware_dmar(m, &dmar, &dmar_len, err)) < 0) {
        free(ivrs);
        return r;
    }
    struct host_firmware fw = {.ivrs = ivrs, .ivrs_len = ivrs_len, .dmar = dmar,
                               .dmar_len = dmar_len};
    r = host_boot(k, rep, &fw, err);
    free(ivrs);
    free(dmar);
    if (r < 0)
        return r;
    /* kernel: modules: insmod of each driver at its time (or when boot
     * ends, if that is later) */
    for (unsigned i = 0; i < m->kernel.nmodules; i++) {
        const struct scn_module *mo = &m->kernel.modules[i];
        const struct host_module *mod = drivers_find(mo->name);
        if (!mod)
            return pcilab_err_at(err, PCILAB_ENOENT, m->source, mo->line, mo->col,
                                 "no driver '%s' in pcilab", mo->name);
        sim_time_t now = sim_now(scn_system_sim(s));
        struct host_module_load_opts lo = {.params = mo->params[0] ? mo->params : NULL};
        struct pcilab_err inner;
        pcilab_err_clear(&inner);
        r = host_module_load_at(k, mo->at > now ? mo->at : now, mod, &lo, &inner);
        if (r < 0)
            return pcilab_err_at(err, inner.code ? inner.code : PCILAB_EINVAL, m->source,
                                 mo->line, mo->col, "module '%s': %s", mo->name,
                                 inner.msg[0] ? inner.msg : "insmod failed");
    }
    *out = k;
    return 0;
}
