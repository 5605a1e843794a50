/* The Intel IOMMU driver's domains, second-level page tables and DMA API
 * (intel_iommu.h): 4.x intel_dma_ops (__intel_map_single, intel_unmap,
 * intel_alloc_coherent: drivers/iommu/intel-iommu.c 4.9.80 and 4.20),
 * 5.x dma-iommu over intel_iommu_map/unmap (drivers/iommu/dma-iommu.c,
 * drivers/iommu/intel/iommu.c 5.15 and 6.1). */
#include "host/intel_iommu_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/pages.h"
#include "host/pci.h"

/* ---- Page-table pages (alloc_pgtable_page: zeroed) ---- */

/* ---- Domains ---- */

static int did_alloc(struct vtd_unit *u)
{
    /* iommu_attach_domain: find_first_zero_bit of the unit's domain ids,
     * limited by CAP.ND */
    unsigned max = 1u << vtd_cap_nd_bits(u->cap);
    if (max > 65536)
        max = 65536;
    for (unsigned i = 1; i < max; i++)
        if (!(u->did_map[i / 8] >> (i % 8) & 1)) {
            u->did_map[i / 8] |= (uint8_t)(1u << (i % 8));
            return (int)i;
        }
    return -1;
}

/* first_level_by_default (iommu.c 6.1 :1732, 5.15 :1900): only when every
 * unit runs scalable mode (scalable_mode_support); 6.1: with FLTS xor SLTS
 * on every unit (intel_cap_flts_sanity / intel_cap_slts_sanity) the one
 * there is, with both first level except for unmanaged domains; 5.15: first
 * level whenever every unit has FLTS. */
static bool first_level_by_default(struct host_intel_iommu *v, bool unmanaged)
{
    bool fl = v->n > 0, sl = v->n > 0;
    for (unsigned i = 0; i < v->n; i++) {
        if (!v->unit[i].sm)
            return false;
        fl = fl && (v->unit[i].ecap & VTD_ECAP_FLTS);
        sl = sl && (v->unit[i].ecap & VTD_ECAP_SLTS);
    }
    if (v->kv->major < 6)
        return fl;
    if (fl != sl)
        return fl;
    return !unmanaged;
}

struct vtd_domain *vtd_domain_alloc(struct host_intel_iommu *v, struct vtd_unit *u,
                                    bool identity, struct pcilab_err *err)
{
    return vtd_domain_alloc_type(v, u, identity, false, err);
}

struct vtd_domain *vtd_domain_alloc_type(struct host_intel_iommu *v, struct vtd_unit *u,
                                         bool identity, bool unmanaged, struct pcilab_err *err)
{
    struct vtd_domain *d = calloc(1, sizeof *d);
    int did = d ? did_alloc(u) : -1;
    if (!d || did < 0) {
        free(d);
        pcilab_errf(err, PCILAB_ENOMEM, "%s: No free domain ids", u->name);
        return NULL;
    }
    d->did = (uint16_t)did;
    d->unit = u;
    d->identity = identity;
    d->unmanaged = unmanaged;
    /* an identity domain with hardware pass-through has no tables; pcilab's
     * identity domain without it keeps second-level (empty) tables */
    d->first_level = !identity && first_level_by_default(v, unmanaged);
    d->agaw = u->agaw;
    d->levels = vtd_aw_levels(u->agaw);
    if (identity && v->hw_pass_through) {
        d->pass_through = true;
    } else {
        /* an identity domain without hardware pass-through would map all of
         * RAM 1:1 (si_domain_init); pcilab gives it an empty table and says
         * so in docs/linux/intel-iommu.md */
        d->pgd = host_iopt_alloc(v->k, d->levels > 1);
        if (!d->pgd) {
            free(d);
            pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a page directory");
            return NULL;
        }
    }
    if (!identity) {
        const struct host_bootparams *bp = &v->k->bootparams;
        struct host_iova_params ip = {.flavour = v->kv->iova, .granule = 4096, .start_pfn = 1,
                                      .ncpus = v->k->ncpus ? v->k->ncpus : 1,
                                      .forcedac = bp->iommu_dma_forcedac || bp->dmar_forcedac};
        d->iovad = host_iova_create(&ip, err);
        if (!d->iovad) {
            host_iopt_free(v->k, d->pgd);
            free(d);
            return NULL;
        }
        /* the interrupt window is never an IOVA (IOAPIC_RANGE_START..END in
         * dmar_init_reserved_ranges, 4.x; the MSI resv region, 5.x) */
        host_reserve_iova(d->iovad, 0xfee00000ull >> 12, 0xfeefffffull >> 12, NULL, NULL);
        d->fq = v->lazy;
    }
    d->next = v->domains;
    v->domains = d;
    return d;
}

void vtd_domain_free(struct host_intel_iommu *v, struct vtd_domain *d)
{
    if (!d)
        return;
    for (struct vtd_domain **pp = &v->domains; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    if (d->fq_timer_on)
        sim_cancel(v->k->sim, d->fq_timer);
    d->unit->did_map[d->did / 8] &= (uint8_t)~(1u << (d->did % 8));
    host_iopt_free(v->k, d->pgd);
    if (d->iovad)
        host_iova_destroy(d->iovad);
    free(d);
}

/* ---- Second-level tables (pfn_to_dma_pte, __domain_mapping) ---- */

static unsigned pt_index(unsigned level, uint64_t iova)
{
    return (unsigned)(iova >> vtd_level_shift(level)) & 511;
}

static uint64_t *leaf_pte(struct host_intel_iommu *v, struct vtd_domain *d, uint64_t iova,
                          bool alloc)
{
    struct host_iopt *pt = d->pgd;
    for (unsigned level = d->levels; level > 1; level--) {
        unsigned i = pt_index(level, iova);
        if (!pt->child[i]) {
            if (!alloc)
                return NULL;
            struct host_iopt *n = host_iopt_alloc(v->k, level - 1 > 1);
            if (!n)
                return NULL;
            pt->child[i] = n;
            /* a directory entry: the next table, DMA_PTE_READ | DMA_PTE_WRITE,
             * and for first level DMA_FL_PTE_XD | DMA_FL_PTE_US |
             * DMA_FL_PTE_ACCESS (pfn_to_dma_pte, iommu.c 6.1 :963) */
            if (d->first_level) {
                struct vtd_fl_pte e = {.p = true, .rw = true, .us = true, .a = true,
                                       .xd = true, .addr = n->pa};
                pt->cpu[i] = vtd_fl_pte_encode(&e, level);
            } else {
                struct vtd_sl_pte e = {.r = true, .w = true, .addr = n->pa};
                pt->cpu[i] = vtd_sl_pte_encode(&e);
            }
        }
        pt = pt->child[i];
    }
    return &pt->cpu[pt_index(1, iova)];
}

int vtd_map_range(struct host_intel_iommu *v, struct vtd_domain *d, uint64_t iova, uint64_t pa,
                  uint64_t size, bool r, bool w)
{
    if (!d->pgd)
        return 0; /* pass-through: nothing to map */
    if (!r && !w)
        return -PCILAB_EINVAL; /* __domain_mapping: -EINVAL */
    for (uint64_t off = 0; off < size; off += 4096) {
        uint64_t *pte = leaf_pte(v, d, iova + off, true);
        if (!pte)
            return -PCILAB_ENOMEM;
        if (d->first_level) {
            /* __domain_mapping (6.1 :2212): prot | DMA_FL_PTE_PRESENT | XD | US
             * | ACCESS, DIRTY with write: a first-level page is always
             * readable */
            struct vtd_fl_pte e = {.p = true, .rw = w, .us = true, .a = true, .d = w,
                                   .xd = true, .addr = (pa + off) & ~0xfffull};
            *pte = vtd_fl_pte_encode(&e, 1);
        } else {
            struct vtd_sl_pte e = {.r = r, .w = w, .addr = (pa + off) & ~0xfffull};
            *pte = vtd_sl_pte_encode(&e);
        }
    }
    return 0;
}

void vtd_unmap_range(struct host_intel_iommu *v, struct vtd_domain *d, uint64_t iova,
                     uint64_t size)
{
    if (!d->pgd)
        return;
    for (uint64_t off = 0; off < size; off += 4096) {
        uint64_t *pte = leaf_pte(v, d, iova + off, false);
        if (pte)
            *pte = 0; /* dma_clear_pte; the tables stay (freed with the domain) */
    }
}

bool vtd_walk(const struct vtd_domain *d, uint64_t iova, uint64_t *pte)
{
    const struct host_iopt *pt = d->pgd;
    for (unsigned level = d->levels; pt && level > 1; level--)
        pt = pt->child[pt_index(level, iova)];
    if (!pt)
        return false;
    *pte = pt->cpu[pt_index(1, iova)];
    return vtd_sl_pte_present(*pte);
}

/* ---- The flush queue (4.9 add_unmap / 4.20 queue_iova / 5.x iommu_dma
 * fq): entries freed after one domain-selective IOTLB flush, when the queue
 * is full or 10 ms after the first entry. One queue per domain (4.9 keeps
 * one per CPU for every domain, 250 entries: see docs). ---- */

void vtd_domain_flush_psi(struct vtd_domain *d, uint64_t addr, uint64_t pages)
{
    /* iommu_flush_iotlb_psi (6.1 :1513): qi_flush_piotlb(iommu, did,
     * PASID_RID2PASID, addr, pages, ih) for first level */
    if (d->first_level)
        vtd_flush_piotlb(d->unit, d->did, VTD_PASID_RID2PASID, addr, pages);
    else
        vtd_flush_iotlb_psi(d->unit, d->did, addr, pages);
}

void vtd_domain_flush_all(struct vtd_domain *d)
{
    /* intel_flush_iotlb_all (6.1 :1583): qi_flush_piotlb(..., 0, -1, 0) */
    if (d->first_level)
        vtd_flush_piotlb(d->unit, d->did, VTD_PASID_RID2PASID, 0, 0);
    else
        vtd_flush_iotlb_domain(d->unit, d->did);
}

static void fq_flush(struct vtd_domain *d)
{
    if (!d->fq_n)
        return;
    vtd_domain_flush_all(d);
    for (unsigned i = 0; i < d->fq_n; i++)
        host_iova_dma_free(d->iovad, d->fq_e[i].addr, d->fq_e[i].size, 0, NULL);
    d->fq_n = 0;
}

static void fq_timeout(void *ctx, uint64_t arg)
{
    struct host_intel_iommu *v = ctx;
    for (struct vtd_domain *d = v->domains; d; d = d->next)
        if ((uint64_t)(uintptr_t)d == arg) {
            d->fq_timer_on = false;
            struct host_kernel *prev = host_enter(v->k);
            fq_flush(d);
            host_leave(prev);
            return;
        }
}

static void fq_add(struct host_intel_iommu *v, struct vtd_domain *d, uint64_t addr,
                   uint64_t size)
{
    if (d->fq_n == VTD_FQ_SIZE)
        fq_flush(d);
    d->fq_e[d->fq_n].addr = addr;
    d->fq_e[d->fq_n].size = size;
    d->fq_n++;
    if (!d->fq_timer_on) {
        d->fq_timer_on = true;
        d->fq_timer = sim_after(v->k->sim, 10 * SIM_MS, fq_timeout, v,
                                   (uint64_t)(uintptr_t)d);
    }
}

void host_intel_iommu_flush_queue(struct host_intel_iommu *v)
{
    if (!v)
        return;
    struct host_kernel *prev = host_enter(v->k);
    for (struct vtd_domain *d = v->domains; d; d = d->next)
        fq_flush(d);
    host_leave(prev);
}

void vtd_fq_destroy(struct host_intel_iommu *v)
{
    for (struct vtd_domain *d = v->domains; d; d = d->next)
        if (d->fq_timer_on) {
            sim_cancel(v->k->sim, d->fq_timer);
            d->fq_timer_on = false;
        }
}

/* ---- DMA API ---- */

/* The device's DMA domain; made at the first mapping in 4.x
 * (get_valid_domain_for_dev), the default domain in 5.x. NULL with *why:
 * -EINVAL not ours (identity: the direct path), -ENOMEM. */
static struct vtd_domain *dma_domain_of(struct host_intel_iommu *v, struct device *dev, int *why)
{
    struct pci_dev *p = vtd_pdev_of(dev);
    struct vtd_dev *d = vtd_dev_of(v, p);
    *why = -EINVAL;
    if (!d)
        return NULL;
    if (v->kv->vtd_lazy_domains) {
        /* iommu_no_mapping: identity-mapped devices keep physical
         * addresses, but with iommu=pt a device whose mask cannot reach all
         * of RAM is taken out of si_domain ("32bit %s uses non-identity
         * mapping") */
        if (d->domain && d->domain->identity) {
            uint64_t mask = dev->dma_mask ? *dev->dma_mask : ~0ull;
            if (mask >= host_pages_end(v->k->pages) - 1)
                return NULL;
            vtd_pr(v, 6, "DMAR: 32bit %s uses non-identity mapping\n", dev_name(dev));
            d->domain = NULL;
        }
        if (!d->domain) {
            struct pcilab_err e;
            pcilab_err_clear(&e);
            struct vtd_domain *dom = vtd_domain_alloc(v, d->unit, false, &e);
            if (!dom || vtd_attach(v, d, dom) < 0) {
                *why = -ENOMEM;
                return NULL;
            }
        }
    }
    if (!d->domain || d->domain->identity)
        return NULL;
    return d->domain;
}

/* The PTE bits for a direction: 4.x __intel_map_single (READ also for
 * writes when CAP.ZLR is clear), 5.x dma_info_to_prot + intel_iommu_map. */
static void dir_prot(struct host_intel_iommu *v, struct vtd_unit *u, enum dma_data_direction dir,
                     bool *r, bool *w)
{
    *r = dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL ||
         (v->kv->vtd_read_without_zlr && !(u->cap & VTD_CAP_ZLR));
    *w = dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL;
}

static dma_addr_t map_single(struct host_intel_iommu *v, struct device *dev, struct vtd_domain *d,
                             uint64_t paddr, size_t size, bool r, bool w, uint64_t mask)
{
    uint64_t offset = paddr & 0xfff;
    uint64_t len = (offset + size + 0xfff) & ~0xfffull; /* aligned_nrpages */
    if (!size)
        len = 4096;
    /* the domain's width bounds the mask (DOMAIN_MAX_ADDR(gaw)) */
    unsigned gaw = vtd_aw_bits(d->agaw);
    if (gaw < 64 && mask > (1ull << gaw) - 1)
        mask = (1ull << gaw) - 1;
    uint64_t iova;
    if (host_iova_dma_alloc(d->iovad, mask, true, len, 0, &iova, NULL) < 0 || !iova)
        return host_dma_error_code(dev);
    if (vtd_map_range(v, d, iova, paddr & ~0xfffull, len, r, w) < 0) {
        vtd_unmap_range(v, d, iova, len);
        host_iova_dma_free(d->iovad, iova, len, 0, NULL);
        return host_dma_error_code(dev);
    }
    /* non-present -> present: a flush only in caching mode, and not for
     * first level (__mapping_notify_one 6.1 :1567) */
    if ((d->unit->cap & VTD_CAP_CM) && !d->first_level)
        vtd_flush_iotlb_psi(d->unit, d->did, iova, len >> 12);
    return iova + offset;
}

static void unmap_single(struct host_intel_iommu *v, struct vtd_domain *d, dma_addr_t addr,
                         size_t size)
{
    uint64_t offset = addr & 0xfff;
    uint64_t start = addr & ~0xfffull;
    uint64_t len = (offset + size + 0xfff) & ~0xfffull;
    if (!size)
        len = 4096;
    vtd_unmap_range(v, d, start, len);
    if (d->fq) {
        fq_add(v, d, start, len);
        return;
    }
    /* strict: the page-selective flush, then the IOVA back */
    vtd_domain_flush_psi(d, start, len >> 12);
    host_iova_dma_free(d->iovad, start, len, 0, NULL);
}

static struct host_intel_iommu *drv_of(struct device *dev) { return dev->kernel->intel_iommu; }

static void *ops_alloc(struct device *dev, size_t size, dma_addr_t *handle, gfp_t gfp)
{
    struct host_intel_iommu *v = drv_of(dev);
    int why = 0;
    struct vtd_domain *d = v ? dma_domain_of(v, dev, &why) : NULL;
    if (!d && why == -ENOMEM)
        return NULL;
    size = (size + 0xfff) & ~(size_t)0xfff;
    uint64_t pa;
    void *p = host_alloc_pages(dev->kernel, (d ? gfp & ~(GFP_DMA | GFP_DMA32) : gfp) | __GFP_ZERO,
                               host_get_order(size), &pa);
    if (!p)
        return NULL;
    if (!d) {
        *handle = pa;
        return p;
    }
    uint64_t mask = dev->coherent_dma_mask;
    if (!mask && dev->dma_mask)
        mask = *dev->dma_mask;
    *handle = map_single(v, dev, d, pa, size, true, true, mask);
    if (*handle == host_dma_error_code(dev)) {
        host_free_pages(dev->kernel, p, host_get_order(size));
        return NULL;
    }
    return p;
}

static void ops_free(struct device *dev, size_t size, void *cpu_addr, dma_addr_t handle)
{
    struct host_intel_iommu *v = drv_of(dev);
    size = (size + 0xfff) & ~(size_t)0xfff;
    struct vtd_dev *vd = v ? vtd_dev_of(v, vtd_pdev_of(dev)) : NULL;
    if (vd && vd->domain && !vd->domain->identity)
        unmap_single(v, vd->domain, handle, size);
    host_free_pages(dev->kernel, cpu_addr, host_get_order(size));
}

static dma_addr_t ops_map(struct device *dev, uint64_t phys, size_t size,
                          enum dma_data_direction dir)
{
    struct host_intel_iommu *v = drv_of(dev);
    int why = 0;
    struct vtd_domain *d = v ? dma_domain_of(v, dev, &why) : NULL;
    if (!d)
        return why == -EINVAL ? phys : host_dma_error_code(dev);
    bool r, w;
    dir_prot(v, d->unit, dir, &r, &w);
    uint64_t mask = dev->dma_mask ? *dev->dma_mask : DMA_BIT_MASK(32);
    return map_single(v, dev, d, phys, size, r, w, mask);
}

static void ops_unmap(struct device *dev, dma_addr_t addr, size_t size,
                      enum dma_data_direction dir)
{
    (void)dir;
    struct host_intel_iommu *v = drv_of(dev);
    struct vtd_dev *vd = v ? vtd_dev_of(v, vtd_pdev_of(dev)) : NULL;
    if (vd && vd->domain && !vd->domain->identity)
        unmap_single(v, vd->domain, addr, size);
}

/* One IOVA range for the whole list, each entry from its page offset. */
static int ops_map_sg(struct device *dev, struct scatterlist *sg, int nents,
                      enum dma_data_direction dir)
{
    struct host_intel_iommu *v = drv_of(dev);
    int why = 0;
    struct vtd_domain *d = v ? dma_domain_of(v, dev, &why) : NULL;
    struct scatterlist *s = sg;
    if (!d) {
        if (why != -EINVAL)
            return 0;
        for (int i = 0; i < nents; i++, s = sg_next(s)) {
            s->dma_address = host_virt_to_phys(dev->kernel, s->buf);
            s->dma_length = s->length;
        }
        return nents;
    }
    uint64_t npages = 0;
    for (int i = 0; i < nents; i++, s = sg_next(s)) {
        uint64_t phys = host_virt_to_phys(dev->kernel, s->buf);
        if (phys == UINT64_MAX)
            return 0;
        s->dma_address = npages << 12;
        npages += ((phys & 0xfff) + s->length + 0xfff) >> 12;
    }
    uint64_t mask = dev->dma_mask ? *dev->dma_mask : DMA_BIT_MASK(32);
    unsigned gaw = vtd_aw_bits(d->agaw);
    if (gaw < 64 && mask > (1ull << gaw) - 1)
        mask = (1ull << gaw) - 1;
    uint64_t iova;
    if (host_iova_dma_alloc(d->iovad, mask, true, npages << 12, 0, &iova, NULL) < 0 || !iova)
        return 0;
    bool r, w;
    dir_prot(v, d->unit, dir, &r, &w);
    s = sg;
    for (int i = 0; i < nents; i++, s = sg_next(s)) {
        uint64_t phys = host_virt_to_phys(dev->kernel, s->buf);
        uint64_t pages = ((phys & 0xfff) + s->length + 0xfff) >> 12;
        if (vtd_map_range(v, d, iova + s->dma_address, phys & ~0xfffull, pages << 12, r, w) < 0) {
            vtd_unmap_range(v, d, iova, npages << 12);
            host_iova_dma_free(d->iovad, iova, npages << 12, 0, NULL);
            return 0;
        }
        s->dma_address += iova + (phys & 0xfff);
        s->dma_length = s->length;
    }
    return nents;
}

static void ops_unmap_sg(struct device *dev, struct scatterlist *sg, int nents,
                         enum dma_data_direction dir)
{
    (void)dir;
    struct host_intel_iommu *v = drv_of(dev);
    struct vtd_dev *vd = v ? vtd_dev_of(v, vtd_pdev_of(dev)) : NULL;
    if (!vd || !vd->domain || vd->domain->identity || nents <= 0)
        return;
    uint64_t npages = 0;
    struct scatterlist *s = sg;
    for (int i = 0; i < nents && s; i++, s = sg_next(s))
        npages += ((s->dma_address & 0xfff) + s->dma_length + 0xfff) >> 12;
    unmap_single(v, vd->domain, sg->dma_address & ~0xfffull, npages << 12);
}

void vtd_dma_ops_init(struct host_intel_iommu *v)
{
    v->ops = (struct host_dma_ops){
        .name = v->kv->vtd_own_dma_ops ? "intel_dma_ops" : "iommu-dma",
        .alloc = ops_alloc,
        .free = ops_free,
        .map_phys = ops_map,
        .unmap = ops_unmap,
        .map_sg = ops_map_sg,
        .unmap_sg = ops_unmap_sg,
        .ctx = v,
    };
}
