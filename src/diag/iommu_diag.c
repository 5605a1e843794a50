/* The diagnosis of a run's IOMMU faults (iommu_diag.h, docs/diagnosis.md). */
#include "diag/iommu_diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "host/intel_iommu.h"
#include "host/kernel.h"
#include "host/pci.h"
#include "mem/addrmap.h"
#include "pcie/caps.h"
#include "pcie/config.h"
#include "pcie/split.h"
#include "pcie/topology.h"
#include "sim/bytes.h"
#include "sim/log.h"

/* ---- the Device Table Entry, through the IOMMU's registers ---- */

/* AMD 48882 3.2.1: the IOMMU capability block (Capability ID 0Fh, "Secure
 * Device") holds the register block's base: IOMMU Base Address Low at +04h
 * (bits 31:14 address, bit 0 Enable), High at +08h. */
#define AMDVI_CAP_ID        0x0f
#define AMDVI_CAP_BASE_LO   0x04
#define AMDVI_CAP_BASE_HI   0x08

void diag_read_dte(const struct diag_machine *m, uint16_t devid, struct diag_dte *out)
{
    memset(out, 0, sizeof *out);
    if (!m->map || !m->iommu_fn)
        return;
    const struct pcie_cfg *cfg = pcie_fn_cfg(m->iommu_fn);
    unsigned cap = pcie_cap_find(cfg, AMDVI_CAP_ID);
    if (!cap)
        return;
    uint32_t lo = pcie_cfg_raw_read32(cfg, cap + AMDVI_CAP_BASE_LO);
    uint32_t hi = pcie_cfg_raw_read32(cfg, cap + AMDVI_CAP_BASE_HI);
    if (!(lo & 1))
        return;
    out->mmio_base = (uint64_t)hi << 32 | (lo & 0xffffc000u);
    /* Device Table Base Address Register, MMIO offset 0000h (3.4.1) */
    uint8_t reg[8];
    if (mem_addrmap_read(m->map, out->mmio_base + AMDVI_REG_DEV_TAB_BASE, reg, 8, NULL) < 0)
        return;
    uint64_t v = sim_get_le64(reg);
    out->table_pa = v & AMDVI_BASE_ADDR_MASK;
    out->table_size = (uint32_t)(((v & AMDVI_DEV_TAB_SIZE_MASK) + 1) * 4096);
    out->entry_pa = out->table_pa + (uint64_t)devid * AMDVI_DTE_SIZE;
    if ((uint64_t)devid * AMDVI_DTE_SIZE >= out->table_size) {
        out->beyond = true;
        return;
    }
    if (mem_addrmap_read(m->map, out->entry_pa, out->raw, AMDVI_DTE_SIZE, NULL) < 0)
        return;
    amdvi_dte_decode(out->raw, &out->dte);
    out->read = true;
}

/* ---- the flags, bit by bit (2.5.3) ---- */

static void explain_flags(struct diag_finding *f)
{
    static const struct {
        const char *name;
        uint16_t mask;
    } bits[DIAG_FLAG_BITS] = {
        {"GN", AMDVI_EVF_GN}, {"NX", AMDVI_EVF_NX}, {"US", AMDVI_EVF_US},
        {"I", AMDVI_EVF_I},   {"PR", AMDVI_EVF_PR}, {"RW", AMDVI_EVF_RW},
        {"PE", AMDVI_EVF_PE}, {"RZ", AMDVI_EVF_RZ}, {"TR", AMDVI_EVF_TR},
    };
    const struct amdvi_dte *d = &f->dte.dte;
    bool no_pt = f->dte.read && d->v && (!d->tv || d->mode == AMDVI_MODE_NONE);
    for (unsigned i = 0; i < DIAG_FLAG_BITS; i++) {
        struct diag_flag_bit *b = &f->flags[i];
        b->name = bits[i].name;
        b->mask = bits[i].mask;
        b->bit = 48 + i;
        b->set = (f->sig.arch_flags & bits[i].mask) != 0;
        b->why = DIAG_WHY_NONE;
        switch (bits[i].mask) {
        case AMDVI_EVF_RW:
            b->why = b->set ? DIAG_WHY_WRITE : DIAG_WHY_READ;
            break;
        case AMDVI_EVF_PR:
            b->why = !b->set ? DIAG_WHY_NOT_PRESENT
                     : no_pt ? DIAG_WHY_DTE_PRESENT_NOPT : DIAG_WHY_PTE_PRESENT;
            break;
        case AMDVI_EVF_PE:
            b->why = !b->set ? DIAG_WHY_NOT_PERM
                     : no_pt ? DIAG_WHY_DTE_NO_RIGHTS : DIAG_WHY_PTE_NO_RIGHTS;
            break;
        default:
            if (b->set)
                b->why = DIAG_WHY_OTHER;
            break;
        }
    }
}

/* ---- the topology ---- */

static const struct diag_fn *fn_info(const struct diag_machine *m, const struct pcie_fn *fn)
{
    for (size_t i = 0; fn && i < m->nfns; i++)
        if (m->fns[i].fn == fn)
            return &m->fns[i];
    return NULL;
}

/* Is fn below port (anywhere in its subtree)? */
static bool below(const struct pcie_fn *fn, const struct pcie_fn *port)
{
    for (const struct pcie_fn *p = pcie_fn_parent(fn); p; p = pcie_fn_parent(p))
        if (p == port)
            return true;
    return false;
}

/* The functions that can originate a TLP entering at the root complex
 * through `ingress`: endpoints below it. A TLP from the root bus (ingress
 * NULL) has no port to tell its origin by: the root complex's integrated
 * endpoints sit side by side, and only the requester ID names one. When the
 * ID names an RCiEP that has a device model (something that does DMA), that
 * function is taken as the sender, so its ID is its own BDF by construction;
 * otherwise (an ID naming the host bridge, a function without a model, or
 * nothing) the sender is unknown. */
static const struct pcie_fn *sender_of(const struct diag_machine *m, const struct pcie_fn *ingress,
                                       uint16_t rid, size_t *candidates)
{
    const struct pcie_fn *one = NULL;
    *candidates = 0;
    if (!ingress) {
        const struct pcie_fn *named = m->fabric ? pcie_fabric_find(m->fabric, rid) : NULL;
        const struct diag_fn *info = fn_info(m, named);
        if (!named || pcie_fn_kind(named) != PCIE_FN_RCIEP || pcie_fn_parent(named) ||
            !info || !info->dev)
            return NULL;
        *candidates = 1;
        return named;
    }
    for (size_t i = 0; i < pcie_fabric_fn_count(m->fabric); i++) {
        const struct pcie_fn *fn = pcie_fabric_fn_at(m->fabric, i);
        enum pcie_fn_kind k = pcie_fn_kind(fn);
        if (k != PCIE_FN_ENDPOINT || !below(fn, ingress))
            continue;
        (*candidates)++;
        one = fn;
    }
    return *candidates == 1 ? one : NULL;
}

/* Which of the model's requester-ID parameters produces rid for this
 * direction (write_rid for writes, read_rid for reads, else any). */
static void engine_of(struct diag_sender *s, uint16_t rid, bool write)
{
    const struct dev_model_info *mi = dev_model_info(s->dev);
    const char *prefer = write ? "write" : "read";
    for (int pass = 0; pass < 2 && !s->engine_key; pass++) {
        for (size_t i = 0; i < mi->nparams; i++) {
            const struct dev_param_desc *p = &mi->params[i];
            if (p->type != DEV_PARAM_RID)
                continue;
            if (!strcmp(p->key, "requester_id")) {
                s->has_rid_param = true;
                continue;
            }
            if (pass == 0 && strncmp(p->key, prefer, strlen(prefer)))
                continue;
            const char *val = dev_model_param(s->dev, p->key);
            union dev_value v;
            struct pcilab_err e;
            if (!val || dev_param_parse(mi->name, p, val, &v, &e) < 0)
                continue;
            if (dev_rid_resolve(&v.rid, s->fn) == rid) {
                s->engine_key = p->key;
                s->engine_value = val;
                break;
            }
        }
    }
    for (size_t i = 0; i < mi->nparams; i++)
        if (mi->params[i].type == DEV_PARAM_RID && !strcmp(mi->params[i].key, "requester_id"))
            s->has_rid_param = true;
}

static void find_sender(const struct diag_machine *m, const struct diag_rec *rec,
                        struct diag_finding *f)
{
    struct diag_sender *s = &f->sender;
    s->ingress = f->sig.ingress;
    s->label = "";
    s->model = "";
    s->fn = sender_of(m, s->ingress, f->sig.rid, &s->candidates);
    if (!s->fn)
        return;
    s->bdf = pcie_fn_bdf(s->fn);
    const struct diag_fn *info = fn_info(m, s->fn);
    if (info) {
        s->label = info->label ? info->label : "";
        s->dev = info->dev;
    }
    if (s->dev) {
        s->model = dev_model_name(s->dev);
        engine_of(s, f->sig.rid, f->sig.write);
    }
    const struct pcie_cfg *cfg = pcie_fn_cfg(s->fn);
    if (pcie_cap_find(cfg, 0x10))
        s->mps = pcie_exp_mps(cfg);
    const struct diag_stream *st = diag_rec_stream_find(rec, s->bdf, false);
    if (st) {
        s->reads = *st;
        s->has_reads = true;
    }
    st = diag_rec_stream_find(rec, s->bdf, true);
    if (st) {
        s->writes = *st;
        s->has_writes = true;
    }
    diag_read_dte(m, s->bdf, &s->own_dte);
    struct host_amd_iommu *a = m->kernel ? host_amd_iommu_of(m->kernel) : NULL;
    struct pci_dev *pd = m->kernel ? host_pci_of_fn(m->kernel, s->fn) : NULL;
    if (m->vtd) {
        struct host_intel_iommu *v = m->kernel ? host_intel_iommu_of(m->kernel) : NULL;
        if (v && pd)
            s->own_domain_known =
                host_intel_iommu_dev_domain(v, pd, &s->own_domain, &s->own_identity, NULL);
        return;
    }
    if (a && pd)
        s->own_domain_known =
            host_amd_iommu_dev_domain(a, pd, &s->own_domain, &s->own_identity, NULL);
}

/* ---- the owner of the address ---- */

/* VT-d: the domains of the machine's devices whose second-level table maps
 * the address (host_intel_iommu_lookup), one entry per domain ID. */
static void find_owner_vtd(const struct diag_machine *m, struct diag_finding *f)
{
    struct host_intel_iommu *v = m->kernel ? host_intel_iommu_of(m->kernel) : NULL;
    struct diag_owner *o = &f->owner;
    if (!v)
        return;
    for (size_t i = 0; i < m->nfns; i++) {
        struct pci_dev *pd = host_pci_of_fn(m->kernel, m->fns[i].fn);
        struct host_intel_iommu_mapping mp;
        bool identity = false;
        uint16_t did;
        if (!pd || !host_intel_iommu_dev_domain(v, pd, &did, &identity, NULL) || identity ||
            !host_intel_iommu_lookup(v, pd, f->sig.first_addr, &mp))
            continue;
        size_t k = 0;
        while (k < o->nmaps && o->map[k].domain_id != mp.did)
            k++;
        if (k == o->nmaps) {
            if (o->nmaps == 4)
                continue;
            o->nmaps++;
            o->map[k] = (struct host_amd_iommu_mapping){
                .domain_id = mp.did, .pa = mp.pa, .page_size = 4096, .ir = mp.r, .iw = mp.w};
        }
        uint16_t bdf = pcie_fn_bdf(m->fns[i].fn);
        if (o->ndevids[k] < DIAG_MAX_DEVIDS)
            o->devids[k][o->ndevids[k]++] = bdf;
        if (f->sender.fn && bdf == f->sender.bdf && !f->owner_has_sender) {
            f->owner_has_sender = true;
            f->owner_domain = mp.did;
        }
    }
}

static void find_owner(const struct diag_machine *m, struct diag_finding *f)
{
    if (m->vtd) {
        find_owner_vtd(m, f);
        return;
    }
    struct host_amd_iommu *a = m->kernel ? host_amd_iommu_of(m->kernel) : NULL;
    struct diag_owner *o = &f->owner;
    if (!a)
        return;
    size_t n = host_amd_iommu_iova_lookup(a, f->sig.first_addr, o->map, 4);
    o->nmaps = n < 4 ? n : 4;
    for (size_t i = 0; i < o->nmaps; i++) {
        size_t k = host_amd_iommu_domain_devids(a, o->map[i].domain_id, o->devids[i],
                                                DIAG_MAX_DEVIDS);
        o->ndevids[i] = k < DIAG_MAX_DEVIDS ? k : DIAG_MAX_DEVIDS;
        for (size_t j = 0; f->sender.fn && j < o->ndevids[i]; j++)
            if (o->devids[i][j] == f->sender.bdf && !f->owner_has_sender) {
                f->owner_has_sender = true;
                f->owner_domain = o->map[i].domain_id;
            }
    }
}

/* ---- the address at the time of the fault (the DMA watch) ---- */

const char *diag_mistake_name(enum diag_mistake m)
{
    switch (m) {
    case DIAG_MISTAKE_UNMAPPED_IOVA: return "unmapped-iova";
    case DIAG_MISTAKE_PHYS_ADDR: return "phys-addr";
    case DIAG_MISTAKE_DIRECTION: return "direction";
    case DIAG_MISTAKE_USE_AFTER_UNMAP: return "use-after-unmap";
    case DIAG_MISTAKE_PAST_END: return "past-end";
    case DIAG_MISTAKE_NONE: break;
    }
    return "none";
}

#define PG 4096ull

static bool live_at(const struct diag_dma_map *mp, sim_time_t t)
{
    return mp->mapped <= t && (mp->live || mp->unmapped > t);
}

/* The I/O pages a mapping occupies: the IOMMU maps whole pages. */
static bool in_pages(const struct diag_dma_map *mp, uint64_t addr)
{
    uint64_t lo = mp->dma & ~(PG - 1), hi = (mp->dma + mp->size + PG - 1) & ~(PG - 1);
    return addr >= lo && addr < hi;
}

static bool dir_allows(enum dma_data_direction d, bool write)
{
    return d == DMA_BIDIRECTIONAL || d == (write ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

/* The rights Linux gives a direction in the I/O page table (iommu_diag.h). */
static void dir_rights(enum dma_data_direction d, bool *r, bool *w)
{
    *r = d == DMA_BIDIRECTIONAL || d == DMA_TO_DEVICE;
    *w = d == DMA_BIDIRECTIONAL || d == DMA_FROM_DEVICE;
}

/* Reads the watch's history for the device the requester ID names, at the
 * time of the first fault (iommu_diag.h, enum diag_mistake). */
static void find_at_fault(const struct diag_machine *m, struct diag_finding *f)
{
    struct diag_at_fault *a = &f->at_fault;
    if (!m->watch || f->category == DIAG_REQUESTER_ID_MISMATCH)
        return;
    a->known = true;
    a->at = f->sig.first;
    const uint64_t addr = f->sig.first_addr, t = f->sig.first;
    const bool write = f->sig.write;
    struct diag_dma_map mp, direction = {0}, gone = {0}, past = {0}, phys = {0};
    bool has_dir = false, has_gone = false, has_live_cover = false, has_past = false,
         has_phys = false;
    for (size_t i = 0; diag_dma_watch_map_at(m->watch, i, &mp); i++) {
        if (mp.rid != f->sig.rid || mp.mapped > t)
            continue;
        bool live = live_at(&mp, t);
        a->nlive += live;
        if (in_pages(&mp, addr)) {
            if (live) {
                has_live_cover = true;
                if (!dir_allows(mp.dir, write) && !has_dir) {
                    direction = mp;
                    has_dir = true;
                }
            } else {
                gone = mp; /* the latest one unmapped before the access */
                has_gone = true;
            }
            continue;
        }
        uint64_t end = (mp.dma + mp.size + PG - 1) & ~(PG - 1);
        if (live && addr >= end && addr - end < PG && !has_past) {
            past = mp;
            has_past = true;
        }
        if (live && addr >= mp.phys && addr - mp.phys < mp.size && !has_phys) {
            phys = mp;
            has_phys = true;
        }
    }
    const struct diag_dma_map *pick = NULL;
    if (f->sig.kind == IOMMU_FAULT_PERMISSION) {
        if (has_dir) {
            a->mistake = DIAG_MISTAKE_DIRECTION;
            pick = &direction;
        }
    } else if (f->sig.kind == IOMMU_FAULT_NOT_PRESENT && !has_live_cover) {
        if (has_gone) {
            a->mistake = DIAG_MISTAKE_USE_AFTER_UNMAP;
            pick = &gone;
        } else if (has_past) {
            a->mistake = DIAG_MISTAKE_PAST_END;
            pick = &past;
        } else if (has_phys) {
            a->mistake = DIAG_MISTAKE_PHYS_ADDR;
            pick = &phys;
        } else {
            a->mistake = DIAG_MISTAKE_UNMAPPED_IOVA;
        }
    }
    if (pick) {
        a->has_map = true;
        a->map = *pick;
        dir_rights(pick->dir, &a->pt_read, &a->pt_write);
        /* 4.x __intel_map_single sets DMA_PTE_READ on every mapping when
         * CAP.ZLR is clear (docs/linux/intel-iommu.md e) */
        if (m->vtd && m->kernel && m->kernel->kver->vtd_read_without_zlr &&
            f->vtd.read && !(f->vtd.cap & VTD_CAP_ZLR))
            a->pt_read = true;
    }
    if (a->mistake != DIAG_MISTAKE_NONE)
        f->confidence = DIAG_CONF_HIGH;
}

/* ---- evidence: the kernel's fault lines ---- */

/* The value after "key" in text, or false. */
static bool field_hex(const char *text, const char *key, uint64_t *v)
{
    const char *p = strstr(text, key);
    if (!p)
        return false;
    char *end;
    *v = strtoull(p + strlen(key), &end, 16);
    return end != p + strlen(key);
}

/* VT-d: dmar_fault_do_one's line for the record of this fault (4.x "[DMA
 * Write] Request device [00:03.0] fault addr ffff000 [fault reason 05] ...",
 * 5.x "[DMA Write NO_PASID] ... fault addr 0xffff000 [fault reason 0x05]",
 * docs/linux/intel-iommu.md g), and dmar_fault's "DRHD: handling fault
 * status reg" line before it. */
static void find_evidence_vtd(const struct diag_machine *m, struct diag_finding *f)
{
    char dev[16];
    char b[8];
    snprintf(dev, sizeof dev, "[%s]", pcie_bdf_str(f->sig.rid, b));
    const char *dir = f->sig.write ? "[DMA Write" : "[DMA Read";
    for (size_t i = 0; i < sim_log_count(m->log); i++) {
        struct sim_log_rec rec;
        if (!sim_log_get(m->log, i, &rec) || !strstr(rec.text, "Request device ") ||
            !strstr(rec.text, dir))
            continue;
        const char *d = strstr(rec.text, "Request device ");
        if (strncmp(d + 15, dev, strlen(dev)))
            continue;
        const char *a = strstr(rec.text, "fault addr ");
        if (!a)
            continue;
        a += 11;
        if (!strncmp(a, "0x", 2))
            a += 2;
        char *end;
        uint64_t addr = strtoull(a, &end, 16);
        if (end == a || addr >> 12 != f->sig.page)
            continue;
        const char *r = strstr(rec.text, "[fault reason ");
        if (r) {
            r += 14;
            bool hex = !strncmp(r, "0x", 2);
            unsigned long fr = strtoul(hex ? r + 2 : r, NULL, hex ? 16 : 10);
            if (fr != f->sig.arch_code)
                continue;
        }
        f->log_lines++;
        if (f->nevidence)
            continue;
        struct sim_log_rec prev;
        for (size_t j = i; j-- > 0;) {
            if (!sim_log_get(m->log, j, &prev) || prev.ts != rec.ts)
                break;
            if (strstr(prev.text, "handling fault status reg")) {
                snprintf(f->evidence[f->nevidence++], DIAG_TEXT_MAX, "%s", prev.text);
                break;
            }
        }
        if (!sim_log_get(m->log, i, &rec))
            continue;
        snprintf(f->evidence[f->nevidence++], DIAG_TEXT_MAX, "%s", rec.text);
        f->evidence_ts = rec.ts;
    }
}

static void find_evidence(const struct diag_machine *m, struct diag_finding *f)
{
    if (!m->log)
        return;
    if (m->vtd) {
        find_evidence_vtd(m, f);
        return;
    }
    char dev[8];
    pcie_bdf_str(f->sig.rid, dev);
    for (size_t i = 0; i < sim_log_count(m->log); i++) {
        struct sim_log_rec rec;
        if (!sim_log_get(m->log, i, &rec) || !strstr(rec.text, "IO_PAGE_FAULT"))
            continue;
        uint64_t addr, dom, flags;
        /* every version prints device=bb:dd.f (or the device's own name in
         * 5.x's per-device form), domain=, address= and flags= */
        if (!field_hex(rec.text, "address=0x", &addr) || addr >> 12 != f->sig.page)
            continue;
        if (field_hex(rec.text, "domain=0x", &dom) && dom != f->sig.domain)
            continue;
        if (field_hex(rec.text, "flags=0x", &flags) && flags != f->sig.arch_flags)
            continue;
        const char *d = strstr(rec.text, "device=");
        if (d && strncmp(d + 7, dev, strlen(dev)))
            continue;
        f->log_lines++;
        if (f->nevidence)
            continue;
        /* 4.9 prints "Event logged [" as a record of its own before the
         * event's line (docs/linux/amd-iommu.md): it belongs to the evidence */
        struct sim_log_rec prev;
        if (i > 0 && sim_log_get(m->log, i - 1, &prev) && prev.ts == rec.ts &&
            prev.len > 0 && prev.text[prev.len - 1] == '[') {
            snprintf(f->evidence[f->nevidence++], DIAG_TEXT_MAX, "%s", prev.text);
            if (!sim_log_get(m->log, i, &rec))
                continue;
        }
        snprintf(f->evidence[f->nevidence++], DIAG_TEXT_MAX, "%s", rec.text);
        f->evidence_ts = rec.ts;
    }
}

/* ---- the verdict ---- */

static void classify(struct diag_finding *f)
{
    const struct diag_sender *s = &f->sender;
    bool mismatch = s->fn && s->bdf != f->sig.rid;
    if (mismatch) {
        f->category = DIAG_REQUESTER_ID_MISMATCH;
        /* the ID names something else than the only device that could have
         * sent the TLP; more certain when the address is the sender's own
         * mapping or its correct ID translates */
        bool corroborated = f->owner_has_sender ||
                            (s->has_reads && s->reads.any_ok) ||
                            (s->has_writes && s->writes.any_ok);
        f->confidence = corroborated ? DIAG_CONF_HIGH : DIAG_CONF_MEDIUM;
        if (s->dev && s->has_rid_param) {
            f->fix_param = true;
            snprintf(f->fix_target, sizeof f->fix_target, "%s",
                     s->label[0] ? s->label : s->model);
            snprintf(f->fix_key, sizeof f->fix_key, "requester_id");
            snprintf(f->fix_value, sizeof f->fix_value, "captured");
        }
        return;
    }
    switch (f->sig.kind) {
    case IOMMU_FAULT_NOT_PRESENT:
        f->category = DIAG_MISSING_MAPPING;
        f->confidence = f->owner.nmaps ? DIAG_CONF_MEDIUM : DIAG_CONF_HIGH;
        break;
    case IOMMU_FAULT_PERMISSION:
        f->category = DIAG_PERMISSION;
        f->confidence = DIAG_CONF_HIGH;
        break;
    default:
        f->category = DIAG_UNKNOWN;
        f->confidence = DIAG_CONF_LOW;
        break;
    }
}

static void split_of(const struct diag_rec *rec, struct diag_finding *f)
{
    struct diag_split *sp = &f->split;
    const struct diag_stream *st = diag_rec_stream_find(rec, f->sig.rid, f->sig.write);
    if (!st || !st->transfers)
        return;
    sp->transfers = st->transfers;
    sp->bytes_per_transfer = st->bytes / st->transfers;
    sp->tlps_per_transfer = st->max_tlps_per_xfer;
    sp->mps = f->sender.mps;
    if (sp->mps && f->sig.write) {
        struct pcilab_err e;
        sp->tlps_expected = pcie_split_write(st->first_addr, sp->bytes_per_transfer, sp->mps, 0,
                                             NULL, 0, &e);
    }
}

int diag_analyse(const struct diag_rec *rec, const struct diag_machine *m,
                 struct diag_report *out, struct pcilab_err *err)
{
    memset(out, 0, sizeof *out);
    diag_rec_totals(rec, &out->totals);
    size_t ns = diag_rec_sig_count(rec);
    if (ns) {
        out->findings = calloc(ns, sizeof *out->findings);
        if (!out->findings)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the diagnosis");
    }
    for (size_t i = 0; i < ns; i++) {
        struct diag_finding *f = &out->findings[out->n++];
        f->sig = *diag_rec_sig_at(rec, i);
        f->named = m->fabric ? pcie_fabric_find(m->fabric, f->sig.rid) : NULL;
        f->named_is_host_bridge = f->named && pcie_fn_kind(f->named) == PCIE_FN_HOST_BRIDGE;
        if (m->vtd && f->sig.has_vtd)
            f->vtd = f->sig.vtd;
        else if (m->vtd)
            diag_vtd_read(m->map, f->sig.unit ? f->sig.unit : m->vtd, f->sig.rid,
                          f->sig.first_addr, f->sig.write, &f->vtd);
        else {
            diag_read_dte(m, f->sig.rid, &f->dte);
            explain_flags(f);
        }
        find_sender(m, rec, f);
        find_owner(m, f);
        find_evidence(m, f);
        split_of(rec, f);
        classify(f);
        find_at_fault(m, f);
    }
    size_t nst = diag_rec_stream_count(rec);
    if (nst) {
        out->clean = calloc(nst, sizeof *out->clean);
        if (!out->clean) {
            diag_report_free(out);
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the diagnosis");
        }
    }
    for (size_t i = 0; i < nst; i++) {
        const struct diag_stream *st = diag_rec_stream_at(rec, i);
        if (st->faults || !st->ok)
            continue;
        struct diag_clean *c = &out->clean[out->nclean++];
        c->st = *st;
        c->fn = m->fabric ? pcie_fabric_find(m->fabric, st->rid) : NULL;
        const struct diag_fn *info = fn_info(m, c->fn);
        c->label = info && info->label ? info->label : "";
        c->model = info && info->dev ? dev_model_name(info->dev) : "";
        size_t cand;
        const struct pcie_fn *s = m->fabric ? sender_of(m, st->ingress, st->rid, &cand) : NULL;
        c->rid_is_own_bdf = s && pcie_fn_bdf(s) == st->rid;
    }
    return 0;
}

void diag_report_free(struct diag_report *r)
{
    free(r->findings);
    free(r->clean);
    memset(r, 0, sizeof *r);
}
