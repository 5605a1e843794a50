/* The Intel IOMMU driver: the DMAR as Linux reads it, the units, their
 * registers and invalidation, groups, domains and context entries
 * (intel_iommu.h). Sources, per version, in docs/linux/intel-iommu.md:
 * drivers/iommu/dmar.c and intel-iommu.c (4.9.80: mincepi/linux-4.9.80;
 * 4.20: a4913994/linux-4.20), drivers/iommu/intel/dmar.c and iommu.c (5.15:
 * wowk/linux-5.15; 6.1: krr-io/linux-6.1.0 and Debian's linux-source-6.1). */
#include "host/intel_iommu_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/irq.h"
#include "host/pages.h"
#include "mem/addrmap.h"
#include "pcie/caps.h"
#include "pcie/topology.h"

/* ---- printk and registers ---- */

/* Linux's vsnprintf puts "0x" before a zero too (the SPECIAL flag), and
 * counts it in the field width: "%#016Lx" of 0xfed90000 is
 * "0x000000fed90000", "%#x" of 0 is "0x0" (glibc prints "0" for both). */
static const char *lx016(char buf[24], uint64_t x)
{
    snprintf(buf, 24, "0x%014llx", (unsigned long long)x);
    return buf;
}

void vtd_pr(struct host_intel_iommu *v, int level, const char *fmt, ...)
{
    char text[SIM_LOG_LINE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    host_printk(v->k, "\001%c%s", '0' + (level & 7), text);
}

uint32_t vtd_read32(struct vtd_unit *u, unsigned off)
{
    uint32_t x;
    if (mem_addrmap_read32(u->drv->k->map, u->reg + off, &x) < 0)
        return ~0u; /* an unanswered read returns all ones */
    return x;
}

void vtd_write32(struct vtd_unit *u, unsigned off, uint32_t x)
{
    mem_addrmap_write32(u->drv->k->map, u->reg + off, x);
}

/* dmar_readq / dmar_writeq: one 64-bit access */
uint64_t vtd_read64(struct vtd_unit *u, unsigned off)
{
    uint64_t x;
    if (mem_addrmap_read64(u->drv->k->map, u->reg + off, &x) < 0)
        return ~0ull;
    return x;
}

void vtd_write64(struct vtd_unit *u, unsigned off, uint64_t x)
{
    mem_addrmap_write64(u->drv->k->map, u->reg + off, x);
}

/* IOMMU_WAIT_OP: poll GSTS until the bit follows the command (the model
 * answers at once; DMAR_OPERATION_TIMEOUT is not reached). */
static bool gsts_wait(struct vtd_unit *u, uint32_t bit, bool set)
{
    for (int i = 0; i < 1000; i++) {
        uint32_t s = vtd_read32(u, VTD_REG_GSTS);
        if (!!(s & bit) == set)
            return true;
    }
    return false;
}

static void gcmd_set(struct vtd_unit *u, uint32_t bit, bool on)
{
    if (on)
        u->gcmd |= bit;
    else
        u->gcmd &= ~bit;
    vtd_write32(u, VTD_REG_GCMD, u->gcmd);
    gsts_wait(u, bit, on);
}

/* ---- Queued invalidation (dmar.c qi_submit_sync, dmar_enable_qi) ---- */

int vtd_qi_submit(struct vtd_unit *u, const struct vtd_inv_desc *d)
{
    /* the descriptor, then a wait descriptor whose status write says done.
     * With ECAP.SMTS (5.x) each is 256 bits, qw2 and qw3 zero, and the
     * tail register counts in 32-byte units (qi_shift: DMAR_IQ_SHIFT + 1;
     * dmar.c qi_submit_sync 5.15, 6.1). */
    unsigned size = u->qi_dw ? VTD_DESC_SIZE_256 : VTD_DESC_SIZE;
    unsigned i = u->qi_tail, w = (i + 1) % VTD_QI_ENTRIES;
    memset(u->qi + i * size, 0, size);
    vtd_inv_desc_encode(d, u->qi + i * size);
    *u->qi_status = 1; /* QI_IN_USE */
    struct vtd_inv_desc wd = {.type = VTD_DESC_WAIT, .sw = true, .fn = true,
                              .status = VTD_QI_DONE, .status_addr = u->qi_status_pa};
    memset(u->qi + w * size, 0, size);
    vtd_inv_desc_encode(&wd, u->qi + w * size);
    u->qi_tail = (w + 1) % VTD_QI_ENTRIES;
    vtd_write64(u, VTD_REG_IQT, (uint64_t)u->qi_tail << (u->qi_dw ? 5 : 4)); /* qi_shift */
    for (int spin = 0; spin < 1000; spin++)
        if (*(volatile uint32_t *)u->qi_status == VTD_QI_DONE)
            return 0;
    u->qi_timeouts++;
    return -1;
}

/* qi_flush_pasid_cache (dmar.c 5.15, 6.1): QI_PC_TYPE with DID, granularity
 * (QI_PC_ALL_PASIDS 0, QI_PC_PASID_SEL 1, QI_PC_GLOBAL 3) and PASID. Scalable
 * mode runs on queued invalidation only. */
void vtd_flush_pasid_cache(struct vtd_unit *u, uint16_t did, unsigned gran, uint32_t pasid)
{
    if (!u->qi_on)
        return;
    struct vtd_inv_desc d = {.type = VTD_DESC_PC, .g = (uint8_t)gran, .did = did,
                             .pasid = pasid};
    vtd_qi_submit(u, &d);
}

/* qi_flush_piotlb (dmar.c 5.15, 6.1): npages 0 means -1 there, the
 * PASID-selective form (QI_GRAN_NONG_PASID); else page-selective within the
 * PASID (QI_GRAN_PSI_PASID), mask ilog2(roundup_pow_of_two(npages)). */
void vtd_flush_piotlb(struct vtd_unit *u, uint16_t did, uint32_t pasid, uint64_t addr,
                      uint64_t npages)
{
    if (!u->qi_on)
        return;
    struct vtd_inv_desc d = {.type = VTD_DESC_PIOTLB, .did = did, .pasid = pasid};
    if (!npages) {
        d.g = VTD_PIOTLB_G_PASID;
    } else {
        unsigned mask = 0;
        while ((1ull << mask) < npages)
            mask++;
        d.g = VTD_PIOTLB_G_PAGE;
        d.addr = addr & ~((4096ull << mask) - 1);
        d.am = (uint8_t)mask;
    }
    vtd_qi_submit(u, &d);
}

/* Register-based invalidation (__iommu_flush_context, __iommu_flush_iotlb). */
static void flush_context_reg(struct vtd_unit *u)
{
    vtd_write64(u, VTD_REG_CCMD, VTD_CCMD_ICC | (uint64_t)VTD_GRAN_GLOBAL << VTD_CCMD_CIRG_SHIFT);
    for (int i = 0; i < 1000 && (vtd_read64(u, VTD_REG_CCMD) & VTD_CCMD_ICC); i++)
        ;
}

static void flush_iotlb_reg(struct vtd_unit *u, unsigned gran, uint16_t did, uint64_t addr,
                            unsigned am)
{
    unsigned off = vtd_ecap_iro(u->ecap);
    if (gran == VTD_GRAN_PAGE)
        vtd_write64(u, off + VTD_IVA_OFF, (addr & VTD_IVA_ADDR_MASK) | am);
    uint64_t x = VTD_IOTLB_IVT | (uint64_t)gran << VTD_IOTLB_IIRG_SHIFT | VTD_IOTLB_DR |
                 VTD_IOTLB_DW | (gran != VTD_GRAN_GLOBAL ? (uint64_t)did << VTD_IOTLB_DID_SHIFT : 0);
    vtd_write64(u, off + VTD_IOTLB_OFF, x);
    for (int i = 0; i < 1000 && (vtd_read64(u, off + VTD_IOTLB_OFF) & VTD_IOTLB_IVT); i++)
        ;
}

static void flush_context_device(struct vtd_unit *u, uint16_t did, uint16_t sid)
{
    if (!u->qi_on) {
        flush_context_reg(u); /* pcilab's register path is global only */
        return;
    }
    struct vtd_inv_desc d = {.type = VTD_DESC_CC, .g = VTD_GRAN_DEVICE, .did = did, .sid = sid};
    vtd_qi_submit(u, &d);
}

static void flush_context_global(struct vtd_unit *u)
{
    if (!u->qi_on) {
        flush_context_reg(u);
        return;
    }
    struct vtd_inv_desc d = {.type = VTD_DESC_CC, .g = VTD_GRAN_GLOBAL};
    vtd_qi_submit(u, &d);
}

static void flush_iotlb(struct vtd_unit *u, unsigned gran, uint16_t did, uint64_t addr,
                        unsigned am)
{
    if (!u->qi_on) {
        flush_iotlb_reg(u, gran, did, addr, am);
        return;
    }
    /* qi_flush_iotlb: drain reads/writes when CAP says so */
    struct vtd_inv_desc d = {.type = VTD_DESC_IOTLB, .g = (uint8_t)gran, .did = did,
                             .dr = (u->cap & VTD_CAP_DRD) != 0,
                             .dw = (u->cap & VTD_CAP_DWD) != 0, .addr = addr, .am = (uint8_t)am};
    vtd_qi_submit(u, &d);
}

void vtd_flush_iotlb_domain(struct vtd_unit *u, uint16_t did)
{
    flush_iotlb(u, VTD_GRAN_DOMAIN, did, 0, 0);
}

/* iommu_flush_iotlb_psi: a naturally aligned power-of-two run of pages when
 * CAP.PSI allows and the mask fits MAMV, else domain-selective. */
void vtd_flush_iotlb_psi(struct vtd_unit *u, uint16_t did, uint64_t addr, uint64_t pages)
{
    unsigned mask = 0;
    while ((1ull << mask) < pages)
        mask++;
    if (!(u->cap & VTD_CAP_PSI) || mask > vtd_cap_mamv(u->cap)) {
        flush_iotlb(u, VTD_GRAN_DOMAIN, did, 0, 0);
        return;
    }
    flush_iotlb(u, VTD_GRAN_PAGE, did, addr & ~((4096ull << mask) - 1), mask);
}

int vtd_qi_init(struct host_intel_iommu *v, struct vtd_unit *u)
{
    /* dmar_enable_qi: the queue is order !!ecap_smts pages (5.x) */
    if (!u->qi)
        u->qi = host_alloc_pages(v->k, GFP_KERNEL | __GFP_ZERO, u->qi_dw ? 1 : 0, &u->qi_pa);
    if (!u->qi_status)
        u->qi_status = host_alloc_pages(v->k, GFP_KERNEL | __GFP_ZERO, 0, &u->qi_status_pa);
    if (!u->qi || !u->qi_status)
        return -PCILAB_ENOMEM;
    if (!(u->ecap & VTD_ECAP_QI) || u->qi_on)
        return 0;
    /* __dmar_enable_qi: IQT 0, IQA (QS 0: one page; with ECAP.SMTS, 5.x, "Set
     * DW=1 and QS=1 in IQA_REG when Scalable Mode capability is present",
     * whether scalable mode is used or not), QIE */
    u->qi_tail = 0;
    vtd_write64(u, VTD_REG_IQT, 0);
    vtd_write64(u, VTD_REG_IQA, u->qi_pa | (u->qi_dw ? VTD_IQA_DW | 1 : 0));
    gcmd_set(u, VTD_GCMD_QIE, true);
    u->qi_on = true;
    return 0;
}

/* intel_iommu_init_qi */
static int enable_qi(struct host_intel_iommu *v, struct vtd_unit *u)
{
    if (vtd_qi_init(v, u) < 0)
        return -PCILAB_ENOMEM;
    if (!u->qi_on)
        vtd_pr(v, 6, "DMAR: %s: Using Register based invalidation\n", u->name);
    else
        vtd_pr(v, 6, "DMAR: %s: Using Queued invalidation\n", u->name);
    return 0;
}

/* ---- Detection: the DMAR as the version reads it ---- */

static unsigned calc_agaw(uint64_t cap, unsigned max_width)
{
    /* __iommu_calculate_agaw: the highest SAGAW bit at or below width_to_agaw */
    int agaw = (int)(max_width - 30) / 9;
    for (; agaw >= 0; agaw--)
        if (vtd_cap_sagaw(cap) >> agaw & 1)
            return (unsigned)agaw;
    return ~0u;
}

static void state_destroy(void *obj)
{
    struct host_intel_iommu *v = obj;
    if (v->k && v->k->intel_iommu == v) {
        v->k->intel_iommu = NULL;
        for (size_t i = 0; i < v->k->npdevs; i++) {
            struct pci_dev *p = v->k->pdevs[i];
            if (p->dev.dma_ops == &v->ops)
                p->dev.dma_ops = NULL;
        }
        if (v->irq_remap)
            host_irq_set_remap(v->k, NULL);
    }
    vtd_fq_destroy(v);
    for (struct vtd_domain *d = v->domains, *n; d; d = n) {
        n = d->next;
        vtd_domain_free(v, d);
    }
    for (unsigned i = 0; i < v->ngroups; i++)
        free(v->groups[i]);
    free(v->groups);
    free(v->dev);
    host_dmar_destroy(v->t);
    free(v);
}

/* alloc_iommu: map the registers, read VER/CAP/ECAP, the line. */
static int alloc_unit(struct host_intel_iommu *v, const struct host_dmar_struct *s,
                      struct pcilab_err *err)
{
    if (v->n >= VTD_MAX_UNITS)
        return 0;
    struct vtd_unit *u = &v->unit[v->n];
    const struct mem_region *r = mem_addrmap_lookup(v->k->map, s->base);
    if (!r || r->kind != MEM_REGION_MMIO)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "DRHD %u: nothing answers at MMIO 0x%llx (a VT-d model's registers "
                           "must be mapped there)", v->n, (unsigned long long)s->base);
    memset(u, 0, sizeof *u);
    u->drv = v;
    u->seq = v->n;
    u->irq = -1;
    snprintf(u->name, sizeof u->name, "dmar%u", v->n);
    u->drhd = s;
    u->reg = s->base;
    u->include_all = (s->flags & HOST_DRHD_INCLUDE_PCI_ALL) != 0;
    u->ver = vtd_read32(u, VTD_REG_VER);
    u->cap = vtd_read64(u, VTD_REG_CAP);
    u->ecap = vtd_read64(u, VTD_REG_ECAP);
    /* DEFAULT_DOMAIN_ADDRESS_WIDTH: 48 (4.x), 57 (5.x) */
    u->agaw = calc_agaw(u->cap, v->kv->vtd_msg_5x ? 57 : 48);
    u->msagaw = calc_agaw(u->cap, 64);
    if (u->agaw == ~0u) {
        vtd_pr(v, 3, "DMAR: Cannot get a valid agaw for iommu (seq_id = %u)\n", u->seq);
        return 0;
    }
    u->did_map[0] = 1; /* domain id 0 is reserved (caching mode, and by habit) */
    /* 5.x dmar_enable_qi keys the descriptor size on ECAP.SMTS alone (4.x
     * has no scalable mode: 4.20's intel-iommu.c knows neither sm_on nor
     * ECAP.SMTS) */
    u->qi_dw = v->kv->intel_iommu_has_sm && (u->ecap & VTD_ECAP_SMTS);
    v->n++;
    vtd_pr(v, 6, "DMAR: %s: reg_base_addr %llx ver %u:%u cap %llx ecap %llx\n", u->name,
           (unsigned long long)u->reg, (u->ver >> 4) & 0xf, u->ver & 0xf,
           (unsigned long long)u->cap, (unsigned long long)u->ecap);
    return 0;
}

int host_intel_iommu_detect(struct host_kernel *k, const uint8_t *dmar, size_t len,
                            struct pcilab_err *err)
{
    if (!dmar || !len || k->intel_iommu)
        return 0;
    struct host_kernel *prev = host_enter(k);
    int ret = 0;
    struct host_intel_iommu *v = calloc(1, sizeof *v);
    if (!v) {
        ret = pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the Intel IOMMU driver");
        goto out;
    }
    v->k = k;
    v->kv = k->kver;
    if (sim_own(k->sim, v, state_destroy) < 0) {
        free(v);
        ret = pcilab_errf(err, PCILAB_ENOMEM, "out of memory registering the Intel IOMMU driver");
        goto out;
    }
    k->intel_iommu = v;
    /* acpi_get_table gives the bytes; a table pcilab cannot split is one
     * Linux would not walk either */
    if (host_dmar_parse(dmar, len, &v->t, NULL) < 0) {
        v->t = NULL;
        goto out;
    }
    /* parse_dmar_table */
    if (v->t->haw < 11) { /* PAGE_SHIFT - 1 */
        vtd_pr(v, 4, "DMAR: Invalid DMAR haw\n");
        goto out;
    }
    vtd_pr(v, 6, "DMAR: Host address width %u\n", v->t->haw + 1u);
    unsigned drhd_count = 0;
    char hb[24], hb2[24];
    for (size_t i = 0; i < v->t->n; i++) {
        const struct host_dmar_struct *s = &v->t->s[i];
        /* dmar_table_print_dmar_entry, then the structure's parser */
        switch (s->type) {
        case HOST_DMAR_DRHD:
            vtd_pr(v, 6, "DMAR: DRHD base: %s flags: 0x%x\n", lx016(hb, s->base), s->flags);
            drhd_count++;
            if ((ret = alloc_unit(v, s, err)) < 0)
                goto out;
            break;
        case HOST_DMAR_RMRR:
            vtd_pr(v, 6, "DMAR: RMRR base: %s end: %s\n", lx016(hb, s->base),
                   lx016(hb2, s->limit));
            break;
        case HOST_DMAR_ATSR:
            vtd_pr(v, 6, "DMAR: ATSR flags: 0x%x\n", s->flags);
            break;
        case HOST_DMAR_RHSA:
            vtd_pr(v, 6, "DMAR: RHSA base: %s proximity domain: 0x%x\n", lx016(hb, s->base),
                   s->proximity);
            break;
        case HOST_DMAR_ANDD:
            /* dmar_parse_one_andd: the name must end inside the structure */
            if (!s->name_len || !memchr(s->name, 0, s->name_len))
                vtd_pr(v, 4, "DMAR: [Firmware Bug]: Your BIOS is broken; ANDD object name is "
                             "not NUL-terminated\n");
            else
                vtd_pr(v, 6, "DMAR: ANDD device: %x name: %s\n", s->device_number,
                       (const char *)s->name);
            break;
        case HOST_DMAR_SATC:
            if (v->kv->vtd_knows_satc)
                vtd_pr(v, 6, "DMAR: SATC flags: 0x%x\n", s->flags);
            break;
        default:
            break; /* pr_debug "Unknown DMAR structure type" */
        }
    }
    if (!drhd_count)
        vtd_pr(v, 4, "DMAR: [Firmware Bug]: No DRHD structure found in DMAR table\n");
    /* enable_IR_x2apic -> irq_remapping_prepare / intel_enable_irq_remapping */
    /* the DRHD list order (dmar_register_drhd_unit, 4.9 dmar.c:85, 6.1
     * intel/dmar.c:75): INCLUDE_PCI_ALL units at the tail in table order,
     * the others at the head, so in reverse table order */
    unsigned no = 0;
    for (unsigned i = v->n; i-- > 0;)
        if (!v->unit[i].include_all)
            v->order[no++] = i;
    for (unsigned i = 0; i < v->n; i++)
        if (v->unit[i].include_all)
            v->order[no++] = i;
    /* enable_IR_x2apic -> irq_remapping_prepare (dmar_ir_support: the
     * table's INTR_REMAP flag) / intel_enable_irq_remapping */
    if (v->n && (v->t->flags & HOST_DMAR_INTR_REMAP))
        vtd_ir_setup(v);
out:
    host_leave(prev);
    return ret;
}

struct host_intel_iommu *host_intel_iommu_of(struct host_kernel *k)
{
    return k ? k->intel_iommu : NULL;
}

/* ---- Which unit a device is under (dmar_find_matched_drhd_unit) ---- */

/* dmar_match_pci_path (4.9 dmar.c:184, 4.20 :185, 5.15 intel/dmar.c:182, 6.1
 * :179) against the path dmar_alloc_pci_notify_info builds for p: its root
 * bus number and the {device, function} of p and each bridge above it, from
 * the root down. 1: the scope names p (start bus = root bus, same length,
 * same entries); 2: the one-entry fallback (start bus = p's own bus and the
 * entry = p's devfn, for firmware that writes a deep device's bus and devfn
 * instead of its path: "RMRR entry for device ... is broken - applying
 * workaround"); 0: no. */
static int path_match(const struct host_dmar_scope *sc, const struct pci_dev *p)
{
    unsigned level = 0;
    for (const struct pci_dev *q = p; q; q = q->upstream)
        level++;
    if (level == sc->npath) {
        bool ok = true;
        unsigned i = level;
        for (const struct pci_dev *q = p; q && ok; q = q->upstream) {
            i--;
            ok = sc->path[i].dev == (q->devfn >> 3) && sc->path[i].fn == (q->devfn & 7);
            if (ok && !q->upstream)
                ok = q->bus->number == sc->bus; /* info->bus: the root bus */
        }
        if (ok)
            return 1;
    }
    if (sc->npath == 1 && sc->bus == p->bus->number && sc->path[0].dev == (p->devfn >> 3) &&
        sc->path[0].fn == (p->devfn & 7))
        return 2;
    return 0;
}

static bool pci_scope(const struct host_dmar_scope *sc)
{
    return sc->type == HOST_DMAR_SCOPE_ENDPOINT || sc->type == HOST_DMAR_SCOPE_BRIDGE;
}

/* The device scope entry of a structure names p itself (dmar_insert_dev_scope
 * would put p in that slot); the match kind of path_match. */
static int scope_names(const struct host_dmar_struct *s, const struct pci_dev *p)
{
    for (size_t j = 0; j < s->n_scopes; j++) {
        const struct host_dmar_scope *sc = &s->scopes[j];
        int m = pci_scope(sc) ? path_match(sc, p) : 0;
        if (m)
            return m;
    }
    return 0;
}

/* dmar_pci_device_match / is_downstream_to_pci_bridge: an entry names p, or
 * (a bridge scope) a bridge above p. */
static bool scope_matches(const struct host_dmar_scope *sc, const struct pci_dev *p)
{
    if (!pci_scope(sc))
        return false;
    for (const struct pci_dev *q = p; q; q = q->upstream)
        if (path_match(sc, q) && (q == p || sc->type == HOST_DMAR_SCOPE_BRIDGE))
            return true;
    return false;
}

struct vtd_unit *vtd_device_to_unit(struct host_intel_iommu *v, const struct pci_dev *p)
{
    /* dmar_find_matched_drhd_unit: for_each_drhd_unit, an INCLUDE_PCI_ALL
     * unit of the device's segment or one whose scope covers the device;
     * ignored units too */
    uint16_t seg = pcie_fabric_config(v->k->fabric)->segment;
    for (unsigned o = 0; o < v->n; o++) {
        struct vtd_unit *u = vtd_iter(v, o);
        const struct host_dmar_struct *s = u->drhd;
        if (u->include_all) {
            if (s->segment == seg)
                return u;
            continue;
        }
        if (s->segment != seg)
            continue;
        for (size_t j = 0; j < s->n_scopes; j++)
            if (scope_matches(&s->scopes[j], p))
                return u;
    }
    return NULL;
}

struct vtd_dev *vtd_dev_of(struct host_intel_iommu *v, const struct pci_dev *p)
{
    for (size_t i = 0; i < v->ndev; i++)
        if (v->dev[i].pdev == p)
            return v->dev[i].unit ? &v->dev[i] : NULL;
    return NULL;
}

/* ---- Context entries (domain_context_mapping_one) ---- */

/* iommu_context_addr(alloc = 1): the context table holding devfn; in
 * scalable mode (sm_supported) the root entry's lower half (LP, bit 0)
 * points at devfn 0-127's table and its upper half (UP, bit 64) at devfn
 * 128-255's, each entry 256 bits (iommu.c 5.15, 6.1: "devfn -= 0x80; entry =
 * &root->hi; devfn *= 2"). Returns the entry's bytes, NULL without memory. */
static uint8_t *context_addr(struct host_intel_iommu *v, struct vtd_unit *u, uint8_t bus,
                             uint8_t devfn)
{
    bool hi = u->sm && devfn >= 0x80;
    uint8_t **tbl = hi ? &u->ctx_hi[bus] : &u->ctx[bus];
    uint64_t *pa = hi ? &u->ctx_hi_pa[bus] : &u->ctx_pa[bus];
    if (!*tbl) {
        *tbl = host_alloc_pages(v->k, GFP_KERNEL | __GFP_ZERO, 0, pa);
        if (!*tbl)
            return NULL;
        uint8_t *re = u->root + bus * VTD_ROOT_ENTRY_SIZE;
        if (u->sm) {
            struct vtd_sm_root_entry sr;
            vtd_sm_root_entry_decode(re, &sr);
            if (hi) {
                sr.up = true;
                sr.uctp = *pa;
            } else {
                sr.lp = true;
                sr.lctp = *pa;
            }
            vtd_sm_root_entry_encode(&sr, re);
        } else {
            struct vtd_root_entry r = {.p = true, .ctp = *pa};
            vtd_root_entry_encode(&r, re);
        }
    }
    if (u->sm)
        return *tbl + (devfn & 0x7f) * VTD_SM_CTX_ENTRY_SIZE;
    return *tbl + devfn * VTD_CTX_ENTRY_SIZE;
}

/* pasid.c's two forms: 6.1 sets SRE in a pass-through entry only with
 * ECAP.SRS and PGSNP only for force_snooping; 5.15 sets SRE always there
 * and PGSNP for every unmanaged domain (a version test here: kver.h has no
 * field for it yet) */
static bool sm_6x(const struct host_intel_iommu *v) { return v->kv->major >= 6; }

/* intel_pasid_alloc_table (pasid.c 5.15, 6.1): without the PCI PASID
 * capability (pcilab's devices have none) max_pasid 0, an order-0 directory,
 * table->max_pasid = 1 << (0 + PAGE_SHIFT + 3) = 32768 PASIDs: 512
 * directory entries of 64 PASIDs each. */
static int pasid_alloc_table(struct host_intel_iommu *v, struct vtd_dev *d)
{
    if (!d->pasid_dir)
        d->pasid_dir = host_alloc_pages(v->k, GFP_KERNEL | __GFP_ZERO, 0, &d->pasid_dir_pa);
    return d->pasid_dir ? 0 : -PCILAB_ENOMEM;
}

/* context_get_sm_pds: max_pde = max_pasid >> PASID_PDE_SHIFT (6) = 512,
 * pds = its first set bit (9) - 7 */
#define VTD_SM_PDS 2

/* intel_pasid_get_entry (pasid.c): directory entry pasid >> 6, allocated
 * with its table page at first use ("virt_to_phys(entries) |
 * PASID_PTE_PRESENT"), entry pasid & 0x3f. Only PASID 0 is used here. */
static uint8_t *pasid_get_entry(struct host_intel_iommu *v, struct vtd_dev *d)
{
    if (!d->pasid_tbl) {
        d->pasid_tbl = host_alloc_pages(v->k, GFP_KERNEL | __GFP_ZERO, 0, &d->pasid_tbl_pa);
        if (!d->pasid_tbl)
            return NULL;
        struct vtd_pasid_dir_entry de = {.p = true, .smptblptr = d->pasid_tbl_pa};
        uint64_t raw = vtd_pasid_dir_entry_encode(&de);
        for (int b = 0; b < 8; b++)
            d->pasid_dir[b] = (uint8_t)(raw >> (8 * b));
    }
    return d->pasid_tbl; /* entry VTD_PASID_RID2PASID & 0x3f = 0 */
}

/* pasid_flush_caches: caching mode wants the PASID cache and the PASID's
 * IOTLB entries flushed; else the write buffer (a no-op without CAP.RWBF). */
static void pasid_flush_caches(struct vtd_unit *u, uint16_t did)
{
    if (u->cap & VTD_CAP_CM) {
        vtd_flush_pasid_cache(u, did, VTD_PC_G_PASID, VTD_PASID_RID2PASID);
        vtd_flush_piotlb(u, did, VTD_PASID_RID2PASID, 0, 0);
    }
}

/* The RID2PASID entry of a device (dmar_domain_attach_device 6.1 /
 * dmar_insert_one_dev_info 5.15): intel_pasid_setup_pass_through for the
 * identity domain with hardware pass-through, else
 * intel_pasid_setup_second_level (first level, ECAP.FLTS, is not modelled:
 * QEMU 7.2's unit has SLTS only; docs/linux/intel-iommu.md). */
static int pasid_setup(struct host_intel_iommu *v, struct vtd_dev *d, struct vtd_domain *dom)
{
    struct vtd_unit *u = d->unit;
    uint8_t *pte = pasid_get_entry(v, d);
    if (!pte)
        return -PCILAB_ENOMEM;
    struct vtd_pasid_entry pe = {.p = true};
    /* pasid_set_page_snoop(pte, !!ecap_smpwc(iommu->ecap)) */
    pe.pwsnp = (u->ecap & VTD_ECAP_SMPWCS) != 0;
    if (dom->pass_through) {
        pe.did = VTD_FLPT_DEFAULT_DID;
        pe.aw = (uint8_t)u->agaw; /* pasid_set_address_width(pte, iommu->agaw) */
        pe.pgtt = VTD_PGTT_PT;
        /* "We should set SRE bit as well since the addresses are expected
         * to be GPAs": always in 5.15, with ECAP.SRS in 6.1 */
        pe.sre = sm_6x(v) ? (u->ecap & VTD_ECAP_SRS) != 0 : true;
    } else if (dom->first_level) {
        /* domain_setup_first_level / intel_pasid_setup_first_level (6.1
         * iommu.c :2340, pasid.c :493): 4- or 5-level tables only (FLPM 1
         * with CAP.FL5LP), FLPTPTR, DID, AW the unit's agaw; SRE and WPE only
         * for a PASID other than RID2PASID (supervisor mode) */
        if (dom->levels != 4 && dom->levels != 5)
            return -PCILAB_EINVAL;
        if (dom->levels == 5 && !(u->cap & VTD_CAP_FL5LP))
            return -PCILAB_EINVAL;
        pe.did = dom->did;
        pe.flptptr = dom->pgd->pa;
        pe.flpm = dom->levels == 5;
        pe.aw = (uint8_t)u->agaw;
        pe.pgtt = VTD_PGTT_FL;
        /* 5.15: PASID_FLAG_PAGE_SNOOP for an unmanaged domain (6.1: only
         * force_snooping) */
        pe.pgsnp = !sm_6x(v) && dom->unmanaged;
    } else {
        pe.did = dom->did;
        pe.slptptr = dom->pgd->pa; /* iommu_skip_agaw: the domain's agaw is the unit's */
        pe.aw = (uint8_t)dom->agaw;
        pe.pgtt = VTD_PGTT_SL;
        /* 5.15: pasid_set_pgsnp for an unmanaged domain (6.1 only with
         * force_snooping, which pcilab's users never ask); SRE only for a
         * PASID other than RID2PASID */
        pe.pgsnp = !sm_6x(v) && dom->unmanaged;
    }
    memset(pte, 0, VTD_PASID_ENTRY_SIZE); /* pasid_clear_entry */
    vtd_pasid_entry_encode(&pe, pte);
    pasid_flush_caches(u, pe.did);
    return 0;
}

/* Detaching a scalable-mode device from its domain (dmar_remove_one_dev_info
 * 6.1 / __dmar_remove_one_dev_info 5.15): intel_pasid_tear_down_entry (the
 * entry cleared, PASID-selective PASID-cache flush, the IOTLB: PASID-based
 * for pass-through and first level, domain-selective for second level), then
 * domain_context_clear_one (context cleared, device context flush, the
 * PASID cache of every PASID of the old DID, domain IOTLB flush). */
static void sm_detach(struct vtd_dev *d, uint8_t *ctx)
{
    struct vtd_unit *u = d->unit;
    struct vtd_domain *old = d->domain;
    uint16_t sid = host_pci_bdf(d->pdev);
    uint16_t did_old = old->pass_through ? VTD_FLPT_DEFAULT_DID : old->did;
    if (d->pasid_tbl) {
        struct vtd_pasid_entry pe;
        vtd_pasid_entry_decode(d->pasid_tbl, &pe);
        if (pe.p) {
            memset(d->pasid_tbl, 0, VTD_PASID_ENTRY_SIZE);
            vtd_flush_pasid_cache(u, pe.did, VTD_PC_G_PASID, VTD_PASID_RID2PASID);
            if (pe.pgtt == VTD_PGTT_PT || pe.pgtt == VTD_PGTT_FL)
                vtd_flush_piotlb(u, pe.did, VTD_PASID_RID2PASID, 0, 0);
            else
                vtd_flush_iotlb_domain(u, pe.did);
        }
    }
    memset(ctx, 0, VTD_SM_CTX_ENTRY_SIZE);
    flush_context_device(u, did_old, sid);
    vtd_flush_pasid_cache(u, did_old, VTD_PC_G_DOMAIN, 0);
    vtd_flush_iotlb_domain(u, did_old);
}

int vtd_attach(struct host_intel_iommu *v, struct vtd_dev *d, struct vtd_domain *dom)
{
    struct vtd_unit *u = d->unit;
    uint16_t bdf = host_pci_bdf(d->pdev);
    uint8_t *ctx = context_addr(v, u, (uint8_t)(bdf >> 8), (uint8_t)bdf);
    if (!ctx)
        return -PCILAB_ENOMEM;
    if (u->sm) {
        /* "PASID table is mandatory for a PCI device in scalable mode":
         * the RID2PASID entry first, then the context entry */
        if (d->domain && d->domain != dom)
            sm_detach(d, ctx);
        int r = pasid_alloc_table(v, d);
        if (r < 0 || (r = pasid_setup(v, d, dom)) < 0)
            return r;
        /* domain_context_mapping_one, sm_supported: PASIDDIRPTR | PDTS,
         * RID_PASID = PASID_RID2PASID, DTE / PRE / PASIDE only for ATS / PRI
         * / PASID capable devices (none here), FPD clear, present */
        struct vtd_sm_context_entry ce = {.p = true, .pdts = VTD_SM_PDS,
                                          .pasiddirptr = d->pasid_dir_pa,
                                          .rid_pasid = VTD_PASID_RID2PASID};
        memset(ctx, 0, VTD_SM_CTX_ENTRY_SIZE); /* context_clear_entry */
        vtd_sm_context_entry_encode(&ce, ctx);
    } else {
        struct vtd_context_entry ce = {.p = true, .did = dom->did};
        if (dom->pass_through) {
            ce.tt = VTD_TT_PT;
            ce.aw = (uint8_t)u->msagaw; /* context_set_address_width(iommu->msagaw) */
        } else {
            ce.tt = VTD_TT_SLT;
            ce.aw = (uint8_t)dom->agaw;
            ce.slptptr = dom->pgd->pa;
        }
        vtd_context_entry_encode(&ce, ctx);
    }
    /* not present -> present: with caching mode a device-selective context
     * flush and a domain IOTLB flush; else the write buffer flush (a no-op
     * without CAP.RWBF) */
    if (u->cap & VTD_CAP_CM) {
        if (u->qi_on)
            flush_context_device(u, 0, bdf);
        else
            flush_context_reg(u);
        vtd_flush_iotlb_domain(u, dom->did);
    }
    d->domain = dom;
    return 0;
}

/* ---- Groups (pci_device_group, simplified: the functions of one slot
 * share a group unless the device has ACS; see docs) ---- */

static struct vtd_group *group_for(struct host_intel_iommu *v, size_t idx)
{
    struct pci_dev *p = v->dev[idx].pdev;
    if (!pci_acs_req_enabled(p))
        for (size_t i = 0; i < idx; i++) {
            struct pci_dev *q = v->dev[i].pdev;
            if (v->dev[i].group && q->bus->number == p->bus->number &&
                (q->devfn >> 3) == (p->devfn >> 3))
                return v->dev[i].group;
        }
    if (v->ngroups == v->cap_groups) {
        unsigned cap = v->cap_groups ? 2 * v->cap_groups : 16;
        struct vtd_group **n = realloc(v->groups, cap * sizeof *n);
        if (!n)
            return NULL;
        v->groups = n;
        v->cap_groups = cap;
    }
    struct vtd_group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->id = (int)v->ngroups;
    v->groups[v->ngroups++] = g;
    return g;
}

static void group_line(struct host_intel_iommu *v, struct vtd_dev *d)
{
    if (v->kv->vtd_msg_5x)
        host_dev_printk(KERN_INFO, &d->pdev->dev, "Adding to iommu group %d\n", d->group->id);
    else
        vtd_pr(v, 6, "iommu: Adding device %s to group %d\n", dev_name(&d->pdev->dev),
               d->group->id);
}

/* ---- Identity rules (device_def_domain_type 5.x, iommu_should_identity_map 4.x) ---- */

#define IS_GFX(p) (((p)->class >> 16) == 0x03)
#define IS_USB(p) (((p)->class >> 8) == 0x0c03)
#define IS_ISA(p) (((p)->class >> 8) == 0x0601)
#define IS_AZALIA(p) ((p)->vendor == 0x8086 && (p)->device == 0x3a3e)

static bool wants_identity(struct host_intel_iommu *v, const struct pci_dev *p)
{
    const struct host_bootparams *bp = &v->k->bootparams;
    if (IS_AZALIA(p)) /* IDENTMAP_AZALIA: check_tylersburg_isoch quirk only; not set here */
        return false;
    if (!bp->dmar_map_gfx && IS_GFX(p))
        return true;
    /* Debian 6.1 IDENTMAP_INTGPU */
    if (v->kv->intel_iommu_intgpu_off && !bp->dmar_map_intgpu && IS_GFX(p) &&
        p->vendor == 0x8086 && !p->upstream)
        return true;
    return false;
}

static bool pass_through_default(struct host_intel_iommu *v)
{
    const struct host_bootparams *bp = &v->k->bootparams;
    return v->kv->iommu_pt_sets_default_domain ? bp->iommu_def_passthrough : bp->iommu_pass_through;
}

/* RMRRs naming the device: identity-map each into dom. */
static int map_rmrrs(struct host_intel_iommu *v, struct vtd_dev *d, struct vtd_domain *dom,
                     bool print_4x)
{
    for (size_t i = 0; i < v->t->n; i++) {
        const struct host_dmar_struct *s = &v->t->s[i];
        if (s->type != HOST_DMAR_RMRR)
            continue;
        for (size_t j = 0; j < s->n_scopes; j++) {
            if (!scope_matches(&s->scopes[j], d->pdev))
                continue;
            /* domain_prepare_identity_map (4.9 intel-iommu.c:2635, 4.20
             * :2671): nothing for si_domain under hardware pass-through */
            if (print_4x && dom->pass_through) {
                vtd_pr(v, 4, "DMAR: Ignoring identity map for HW passthrough device %s "
                             "[0x%llx - 0x%llx]\n", dev_name(&d->pdev->dev),
                       (unsigned long long)s->base, (unsigned long long)s->limit);
                continue;
            }
            if (print_4x)
                vtd_pr(v, 6, "DMAR: Setting identity map for device %s [0x%llx - 0x%llx]\n",
                       dev_name(&d->pdev->dev), (unsigned long long)s->base,
                       (unsigned long long)s->limit);
            if (dom->iovad)
                host_reserve_iova(dom->iovad, s->base >> 12, s->limit >> 12, NULL, NULL);
            int r = vtd_map_range(v, dom, s->base, s->base, s->limit + 1 - s->base, true, true);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static void note_rmrrs(struct host_intel_iommu *v, struct vtd_dev *d)
{
    for (size_t i = 0; i < v->t->n; i++) {
        const struct host_dmar_struct *s = &v->t->s[i];
        if (s->type != HOST_DMAR_RMRR)
            continue;
        for (size_t j = 0; j < s->n_scopes; j++)
            if (scope_matches(&s->scopes[j], d->pdev)) {
                d->rmrr = true;
                /* USB and graphics: 5.x device_rmrr_is_relaxable, and
                 * already 4.x device_is_rmrr_locked (4.9 intel-iommu.c:2838,
                 * 4.20 :2874) */
                d->rmrr_relaxable = IS_USB(d->pdev) || IS_GFX(d->pdev);
            }
    }
}

/* The floppy workaround (CONFIG_INTEL_IOMMU_FLOPPY_WA, y in Debian): an ISA
 * bridge gets 0..16 MiB identity-mapped. */
static int map_isa(struct host_intel_iommu *v, struct vtd_dev *d, struct vtd_domain *dom,
                   bool print_4x)
{
    if (!IS_ISA(d->pdev))
        return 0;
    if (print_4x) {
        vtd_pr(v, 6, "DMAR: Prepare 0-16MiB unity mapping for LPC\n");
        vtd_pr(v, 6, "DMAR: Setting identity map for device %s [0x0 - 0xffffff]\n",
               dev_name(&d->pdev->dev));
    }
    if (dom->iovad)
        host_reserve_iova(dom->iovad, 0, (16u << 20 >> 12) - 1, NULL, NULL);
    return vtd_map_range(v, dom, 0, 0, 16u << 20, true, true);
}

static struct vtd_domain *identity_domain(struct host_intel_iommu *v, struct vtd_unit *u,
                                          struct pcilab_err *err)
{
    if (!v->si_domain)
        v->si_domain = vtd_domain_alloc(v, u, true, err);
    return v->si_domain;
}

/* 5.x: bus_iommu_probe -> every device's group (the lines), then per group
 * its default domain, the direct mappings (RMRRs, the ISA range), attach. */
static int add_devices_5x(struct host_intel_iommu *v, struct pcilab_err *err)
{
    for (size_t i = 0; i < v->ndev; i++) {
        struct vtd_dev *d = &v->dev[i];
        if (!d->unit)
            continue;
        if (!(d->group = group_for(v, i)))
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for an IOMMU group");
        group_line(v, d);
    }
    for (unsigned g = 0; g < v->ngroups; g++) {
        struct vtd_group *gr = v->groups[g];
        bool identity = pass_through_default(v);
        struct vtd_unit *u = NULL;
        for (size_t i = 0; i < v->ndev; i++)
            if (v->dev[i].group == gr) {
                u = v->dev[i].unit;
                if (wants_identity(v, v->dev[i].pdev))
                    identity = true;
            }
        gr->domain = identity ? identity_domain(v, u, err) : vtd_domain_alloc(v, u, false, err);
        if (!gr->domain)
            return -PCILAB_ENOMEM;
        for (size_t i = 0; i < v->ndev; i++) {
            struct vtd_dev *d = &v->dev[i];
            if (d->group != gr)
                continue;
            if (!identity && (map_rmrrs(v, d, gr->domain, false) < 0 ||
                              map_isa(v, d, gr->domain, false) < 0))
                return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for direct mappings");
            if (vtd_attach(v, d, gr->domain) < 0)
                return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a context table");
            if (!identity)
                host_dma_set_ops(&d->pdev->dev, &v->ops);
        }
    }
    return 0;
}

/* 4.x init_dmars: static identity maps, "Setting RMRR:", the ISA range;
 * the rest of the devices get a domain at their first mapping. */
static int domains_4x(struct host_intel_iommu *v, struct pcilab_err *err)
{
    const struct host_bootparams *bp = &v->k->bootparams;
    bool identmap = bp->iommu_pass_through || !bp->dmar_map_gfx;
    if (identmap) {
        for (size_t i = 0; i < v->ndev; i++) {
            struct vtd_dev *d = &v->dev[i];
            /* iommu_should_identity_map: not a device_is_rmrr_locked one */
            if (!d->unit || (d->rmrr && !d->rmrr_relaxable))
                continue;
            if (!(bp->iommu_pass_through || wants_identity(v, d->pdev)))
                continue;
            struct vtd_domain *si = identity_domain(v, d->unit, err);
            if (!si || vtd_attach(v, d, si) < 0)
                return -PCILAB_ENOMEM;
            vtd_pr(v, 6, "DMAR: %s identity mapping for device %s\n",
                   v->hw_pass_through ? "Hardware" : "Software", dev_name(&d->pdev->dev));
        }
    }
    vtd_pr(v, 6, "DMAR: Setting RMRR:\n");
    for (size_t i = 0; i < v->ndev; i++) {
        struct vtd_dev *d = &v->dev[i];
        if (!d->unit || !d->rmrr)
            continue;
        /* get_domain_for_dev: the device's domain, si_domain included */
        if (!d->domain) {
            struct vtd_domain *dom = vtd_domain_alloc(v, d->unit, false, err);
            if (!dom || vtd_attach(v, d, dom) < 0)
                return -PCILAB_ENOMEM;
        }
        if (map_rmrrs(v, d, d->domain, true) < 0)
            return -PCILAB_ENOMEM;
    }
    /* iommu_prepare_isa: the first ISA bridge pci_get_class finds */
    for (size_t i = 0; i < v->ndev; i++) {
        struct vtd_dev *d = &v->dev[i];
        if (!d->unit || !IS_ISA(d->pdev))
            continue;
        if (!d->domain || d->domain->identity) {
            struct vtd_domain *dom = vtd_domain_alloc(v, d->unit, false, err);
            if (!dom || vtd_attach(v, d, dom) < 0)
                return -PCILAB_ENOMEM;
        }
        if (map_isa(v, d, d->domain, true) < 0)
            return -PCILAB_ENOMEM;
        break;
    }
    /* intel_dma_ops for every device a unit covers */
    for (size_t i = 0; i < v->ndev; i++)
        if (v->dev[i].unit)
            host_dma_set_ops(&v->dev[i].pdev->dev, &v->ops);
    return 0;
}

static int groups_4x(struct host_intel_iommu *v, struct pcilab_err *err)
{
    for (size_t i = 0; i < v->ndev; i++) {
        struct vtd_dev *d = &v->dev[i];
        if (!d->unit)
            continue;
        if (!(d->group = group_for(v, i)))
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for an IOMMU group");
        group_line(v, d);
    }
    return 0;
}

/* dmar_dev_scope_init -> dmar_pci_bus_add_dev for every device
 * (for_each_pci_dev): the DRHDs without INCLUDE_PCI_ALL in list order until
 * one's scope names the device (dmar_insert_dev_scope; "if (ret) break"),
 * then the RMRR, ATSR and SATC structures (dmar_iommu_notify_scope_dev;
 * pcilab walks them in table order). A match through the one-entry fallback
 * prints dmar_match_pci_path's line. Counts, per unit, the devices its scope
 * names and whether one is not graphics (for init_no_remapping_devices). */
static void dev_scope_init(struct host_intel_iommu *v, unsigned active[], bool other[])
{
    uint16_t seg = pcie_fabric_config(v->k->fabric)->segment;
    for (size_t i = 0; i < v->k->npdevs; i++) {
        const struct pci_dev *p = v->k->pdevs[i];
        for (unsigned o = 0; o < v->n; o++) {
            struct vtd_unit *u = vtd_iter(v, o);
            if (u->include_all || u->drhd->segment != seg)
                continue;
            int m = scope_names(u->drhd, p);
            if (!m)
                continue;
            if (m == 2)
                vtd_pr(v, 6, "DMAR: [Firmware Bug]: RMRR entry for device %02x:%02x.%x is "
                             "broken - applying workaround\n", p->bus->number, p->devfn >> 3,
                       p->devfn & 7);
            active[u->seq]++;
            if (!IS_GFX(p))
                other[u->seq] = true;
            break;
        }
        for (size_t j = 0; j < v->t->n; j++) {
            const struct host_dmar_struct *s = &v->t->s[j];
            if (s->type != HOST_DMAR_RMRR && s->type != HOST_DMAR_ATSR &&
                !(s->type == HOST_DMAR_SATC && v->kv->vtd_knows_satc))
                continue;
            if (s->segment == seg && scope_names(s, p) == 2)
                vtd_pr(v, 6, "DMAR: [Firmware Bug]: RMRR entry for device %02x:%02x.%x is "
                             "broken - applying workaround\n", p->bus->number, p->devfn >> 3,
                       p->devfn & 7);
        }
    }
}

/* init_no_remapping_devices (4.9 intel-iommu.c:4074, 4.20 :3976, 5.15
 * intel/iommu.c:3461, 6.1 :3062; Debian's 6.1 :3136, unchanged): a unit without INCLUDE_PCI_ALL whose scope
 * names no present device is ignored; one whose devices are all graphics
 * is gfx dedicated (4.x: intel_iommu_gfx_mapped = 1; 5.x:
 * drhd->gfx_dedicated) and ignored with intel_iommu=igfx_off (4.x also
 * marks its devices DUMMY_DEVICE_DOMAIN_INFO: no IOMMU for them; 5.x:
 * device_to_iommu -> iommu_is_dummy gives NULL, the same). Debian 6.1's
 * intgpu_off does not come here: it only asks an identity domain
 * (wants_identity). */
static void init_no_remapping_devices(struct host_intel_iommu *v, const unsigned active[],
                                      const bool other[])
{
    for (unsigned i = 0; i < v->n; i++) {
        struct vtd_unit *u = &v->unit[i];
        if (!u->include_all && !active[i])
            u->ignored = true;
    }
    for (unsigned i = 0; i < v->n; i++) {
        struct vtd_unit *u = &v->unit[i];
        if (u->ignored || u->include_all || other[i])
            continue;
        u->gfx_dedicated = true;
        if (!v->k->bootparams.dmar_map_gfx)
            u->ignored = true;
    }
}

int host_intel_iommu_init(struct host_kernel *k, struct pcilab_err *err)
{
    struct host_intel_iommu *v = k->intel_iommu;
    if (!v || !v->t)
        return 0;
    const struct host_kver *kv = v->kv;
    const struct host_bootparams *bp = &k->bootparams;
    struct host_kernel *prev = host_enter(k);
    int ret = 0;

    /* iommu_subsys_init (subsys_initcall, 5.x), unless the AMD driver's
     * init printed it already */
    if (kv->iommu_core_prints_default_domain && !k->amd_iommu) {
        bool pt = bp->iommu_def_passthrough;
        host_printk(k, KERN_INFO "iommu: Default domain type: %s %s\n",
                    pt ? "Passthrough" : "Translated",
                    bp->iommu_cmdline_dma_api ? "(set via kernel command line)" : "");
        if (!pt)
            host_printk(k, KERN_INFO "iommu: DMA domain TLB invalidation policy: %s mode %s\n",
                        bp->iommu_dma_strict ? "strict" : "lazy",
                        bp->iommu_cmdline_strict ? "(set via kernel command line)" : "");
    }
    /* intel_iommu_init: dmar_dev_scope_init (whatever intel_iommu= says),
     * then iommu=off or DMA remapping disabled -> the units stay off */
    unsigned active[VTD_MAX_UNITS] = {0};
    bool other[VTD_MAX_UNITS] = {false};
    if (v->n)
        dev_scope_init(v, active, other);
    if (!v->n || bp->no_iommu || bp->dmar_disabled)
        goto out;

    bool rmrr = false, atsr = false, satc = false;
    for (size_t i = 0; i < v->t->n; i++) {
        rmrr |= v->t->s[i].type == HOST_DMAR_RMRR;
        atsr |= v->t->s[i].type == HOST_DMAR_ATSR;
        satc |= v->t->s[i].type == HOST_DMAR_SATC;
    }
    if (!rmrr)
        vtd_pr(v, 6, "DMAR: No RMRR found\n");
    if (!atsr)
        vtd_pr(v, 6, "DMAR: No ATSR found\n");
    if (kv->vtd_knows_satc && !satc)
        vtd_pr(v, 6, "DMAR: No SATC found\n");

    init_no_remapping_devices(v, active, other);

    /* lazy or strict: 4.x intel_iommu_strict (intel_iommu=strict), 5.x
     * iommu_dma_strict; caching mode forces strict in 6.1 ("IOMMU batching
     * disallowed due to virtualization", not modelled: QEMU's default
     * intel-iommu has CM clear) */
    v->lazy = kv->vtd_own_dma_ops ? !bp->intel_iommu_strict : !bp->iommu_dma_strict;
    v->hw_pass_through = true;

    /* the device list */
    v->dev = calloc(k->npdevs ? k->npdevs : 1, sizeof *v->dev);
    if (!v->dev) {
        ret = pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the VT-d device list");
        goto out;
    }
    v->ndev = k->npdevs;
    for (size_t i = 0; i < k->npdevs; i++) {
        v->dev[i].pdev = k->pdevs[i];
        v->dev[i].drhd = vtd_device_to_unit(v, k->pdevs[i]);
        /* device_to_iommu: NULL under an ignored unit (4.x iommu_dummy,
         * 5.x iommu_is_dummy) */
        v->dev[i].unit = v->dev[i].drhd && !v->dev[i].drhd->ignored ? v->dev[i].drhd : NULL;
        if (v->dev[i].unit)
            note_rmrrs(v, &v->dev[i]);
    }

    /* init_dmars: per active unit (for_each_active_iommu) the root table,
     * QI; an ignored one is skipped (5.x: iommu_disable_translation first) */
    for (unsigned o = 0; o < v->n; o++) {
        struct vtd_unit *u = vtd_iter(v, o);
        if (u->ignored) {
            if (!kv->vtd_lazy_domains)
                gcmd_set(u, VTD_GCMD_TE, false);
            continue;
        }
        if (!(u->ecap & VTD_ECAP_PT))
            v->hw_pass_through = false;
        /* sm_supported(iommu) = intel_iommu_sm && ecap_smts(iommu->ecap):
         * each unit on its own (5.15, 6.1); iommu_init_domains reserves
         * FLPT_DEFAULT_DID in scalable mode ("each pasid entry for
         * first-level or pass-through translation modes should be
         * programmed with a domain id different from those used for
         * second-level") */
        u->sm = kv->intel_iommu_has_sm && bp->intel_iommu_sm && (u->ecap & VTD_ECAP_SMTS);
        if (u->sm)
            u->did_map[VTD_FLPT_DEFAULT_DID / 8] |= 1u << (VTD_FLPT_DEFAULT_DID % 8);
        if (!u->root)
            u->root = host_alloc_pages(k, GFP_KERNEL | __GFP_ZERO, 0, &u->root_pa);
        if (!u->root) {
            ret = pcilab_errf(err, PCILAB_ENOMEM, "no memory for the VT-d tables");
            goto out;
        }
    }
    for (unsigned o = 0; o < v->n; o++)
        if (!vtd_iter(v, o)->ignored && enable_qi(v, vtd_iter(v, o)) < 0) {
            ret = pcilab_errf(err, PCILAB_ENOMEM, "no memory for the invalidation queue");
            goto out;
        }
    for (unsigned o = 0; o < v->n; o++) {
        /* iommu_set_root_entry, then the global flushes */
        struct vtd_unit *u = vtd_iter(v, o);
        if (u->ignored)
            continue;
        /* sm_supported: "addr |= DMA_RTADDR_SMT" (TTM 01b) */
        vtd_write64(u, VTD_REG_RTADDR,
                    u->root_pa | (u->sm ? (uint64_t)VTD_TTM_SCALABLE << VTD_RTADDR_TTM_SHIFT : 0));
        vtd_write32(u, VTD_REG_GCMD, u->gcmd | VTD_GCMD_SRTP);
        gsts_wait(u, VTD_GSTS_RTPS, true);
        flush_context_global(u);
        if (u->sm) /* qi_flush_pasid_cache(iommu, 0, QI_PC_GLOBAL, 0) */
            vtd_flush_pasid_cache(u, 0, VTD_PC_G_GLOBAL, 0);
        flush_iotlb(u, VTD_GRAN_GLOBAL, 0, 0, 0);
    }
    vtd_dma_ops_init(v);
    if (kv->vtd_lazy_domains)
        ret = domains_4x(v, err);
    else
        ret = add_devices_5x(v, err);
    if (ret < 0)
        goto out;

    /* the fault interrupt, then translation (dmar_set_interrupt,
     * iommu_enable_translation) */
    for (unsigned o = 0; o < v->n; o++) {
        struct vtd_unit *u = vtd_iter(v, o);
        /* an ignored unit: no fault interrupt from init_dmars, but with
         * interrupt remapping enable_drhd_fault_handling (apic_bsp_setup ->
         * irq_remap_enable_fault_handling, for_each_iommu: 4.9 dmar.c:1702,
         * 6.1 intel/dmar.c:2052) gave every unit one */
        if (u->ignored && !v->irq_remap)
            continue;
        if ((ret = vtd_set_interrupt(v, u, err)) < 0)
            goto out;
        if (u->ignored)
            continue;
        gcmd_set(u, VTD_GCMD_TE, true);
        u->te = true;
    }
    v->dma_on = true;
    if (!kv->vtd_groups_before_banner)
        vtd_pr(v, 6, "DMAR: Intel(R) Virtualization Technology for Directed I/O\n");
    if (kv->vtd_lazy_domains && (ret = groups_4x(v, err)) < 0)
        goto out;
    if (kv->vtd_groups_before_banner)
        vtd_pr(v, 6, "DMAR: Intel(R) Virtualization Technology for Directed I/O\n");
out:
    host_leave(prev);
    return ret;
}

/* ---- Inspection ---- */

void host_intel_iommu_get_info(const struct host_intel_iommu *v, struct host_intel_iommu_info *o)
{
    memset(o, 0, sizeof *o);
    o->irq = -1;
    if (!v)
        return;
    o->dma_remapping = v->dma_on;
    o->irq_remapping = v->irq_remap;
    o->qi = v->n && v->unit[0].qi_on;
    o->scalable = v->n && v->unit[0].sm;
    o->lazy = v->lazy;
    o->n_units = v->n;
    o->root_pa = v->n && v->unit[0].root ? v->unit[0].root_pa : 0;
    o->faults_printed = v->faults_printed;
    o->irq = v->n ? v->unit[0].irq : -1;
}

bool host_intel_iommu_dev_domain(const struct host_intel_iommu *v, const struct pci_dev *pdev,
                                 uint16_t *did, bool *identity, int *group)
{
    if (!v)
        return false;
    struct vtd_dev *d = vtd_dev_of((struct host_intel_iommu *)v, pdev);
    if (!d || !d->domain)
        return false;
    if (did)
        *did = d->domain->did;
    if (identity)
        *identity = d->domain->identity;
    if (group)
        *group = d->group ? d->group->id : -1;
    return true;
}

bool host_intel_iommu_lookup(const struct host_intel_iommu *v, const struct pci_dev *pdev,
                             uint64_t iova, struct host_intel_iommu_mapping *out)
{
    if (!v)
        return false;
    struct vtd_dev *d = vtd_dev_of((struct host_intel_iommu *)v, pdev);
    uint64_t pte;
    if (!d || !d->domain || !d->domain->pgd || !vtd_walk(d->domain, iova, &pte))
        return false;
    struct vtd_sl_pte e;
    vtd_sl_pte_decode(pte, &e);
    out->did = d->domain->did;
    out->pa = e.addr | (iova & 0xfff);
    out->r = e.r;
    out->w = e.w;
    return true;
}

int host_intel_iommu_attach_unmanaged(struct host_intel_iommu *v, struct pci_dev *pdev)
{
    struct vtd_dev *d = v ? vtd_dev_of(v, pdev) : NULL;
    if (!d || !v->dma_on)
        return -ENODEV;
    /* intel_iommu_attach_device: device_is_rmrr_locked */
    if (d->rmrr && !d->rmrr_relaxable) {
        struct host_kernel *prev = host_enter(v->k);
        host_dev_printk(KERN_WARNING, &pdev->dev,
                        "Device is ineligible for IOMMU domain attach due to platform RMRR "
                        "requirement.  Contact your platform vendor.\n");
        host_leave(prev);
        return -EPERM;
    }
    struct pcilab_err e;
    pcilab_err_clear(&e);
    struct vtd_domain *dom = vtd_domain_alloc_type(v, d->unit, false, true, &e);
    if (!dom)
        return -ENOMEM;
    if (d->domain && d->domain != dom && d->domain->fq)
        host_intel_iommu_flush_queue(v);
    int r = vtd_attach(v, d, dom);
    if (r == 0)
        vtd_domain_flush_all(dom);
    return r < 0 ? -ENOMEM : 0;
}

int host_intel_iommu_unit_info(const struct host_intel_iommu *v, unsigned i,
                               struct host_intel_iommu_unit_info *o)
{
    memset(o, 0, sizeof *o);
    o->irq = -1;
    if (!v || i >= v->n)
        return -ENODEV;
    const struct vtd_unit *u = &v->unit[i];
    o->reg_base = u->reg;
    snprintf(o->name, sizeof o->name, "%s", u->name);
    o->include_all = u->include_all;
    o->ignored = u->ignored;
    o->gfx_dedicated = u->gfx_dedicated;
    o->translation = u->te;
    o->qi = u->qi_on;
    o->ir = u->ir_on;
    o->root_pa = u->root ? u->root_pa : 0;
    o->ir_table_pa = u->ir_table ? u->ir_pa : 0;
    o->ir_entries = u->ir_table ? u->ir_used : 0;
    o->irq = u->irq;
    struct host_intel_iommu *w = (struct host_intel_iommu *)v;
    for (size_t j = 0; v->k && j < v->k->npdevs; j++)
        if (vtd_device_to_unit(w, v->k->pdevs[j]) == u)
            o->n_devices++;
    return 0;
}

bool host_intel_iommu_dev_unit(const struct host_intel_iommu *v, const struct pci_dev *pdev,
                               unsigned *index, uint64_t *reg_base)
{
    if (!v || !pdev)
        return false;
    const struct vtd_unit *u = vtd_device_to_unit((struct host_intel_iommu *)v, pdev);
    if (!u)
        return false;
    if (index)
        *index = u->seq;
    if (reg_base)
        *reg_base = u->reg;
    return true;
}
