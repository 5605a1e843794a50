/* The AMD IOMMU driver's DMA side: protection domains, v1 I/O page tables in
 * simulated memory, the DMA ops (4.x amd_iommu_dma_ops, 5.x dma-iommu), the
 * reserved IOVA ranges and the flush queues of lazy unmapping.
 *
 * Sources (read, not copied):
 *   4.9.80  drivers/iommu/amd_iommu.c: increase_address_space, alloc_pte,
 *           fetch_pte, iommu_map_page, iommu_unmap_page, dma_ops_alloc_iova,
 *           dma_ops_free_iova, dir2prot, __map_single, __unmap_single,
 *           map_page, unmap_page, map_sg, alloc_coherent, free_coherent,
 *           queue_add, __queue_flush, queue_flush_timeout,
 *           init_reserved_iova_ranges, amd_iommu_apply_dm_region;
 *           drivers/iommu/iommu.c iommu_group_create_direct_mappings
 *   4.20.0  the same, __unmap_single flushing before the free, and
 *           drivers/iommu/iova.c queue_iova, fq_ring_free, fq_flush_timeout
 *   5.15.55 drivers/iommu/amd/io_pgtable.c (v1 map/unmap), amd/iommu.c
 *           (amd_iommu_iotlb_sync, amd_iommu_flush_iotlb_all,
 *           amd_iommu_get_resv_regions), drivers/iommu/dma-iommu.c
 *           (__iommu_dma_map, __iommu_dma_unmap, dma_info_to_prot,
 *           iova_reserve_pci_windows, iova_reserve_iommu_regions),
 *           drivers/iommu/iommu.c iommu_pgsize
 *   6.1-rc7 the same files (the flush queue moved into dma-iommu.c). */
#include "host/amd_iommu_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/mm.h"
#include "host/pages.h"
#include "pcie/config.h"

/* ---- Page-table pages ---- */

/* PM_LEVEL_SHIFT, PM_LEVEL_SIZE, PM_LEVEL_INDEX, PM_LEVEL_PDE (amd_iommu_types.h) */
static unsigned level_shift(int level)
{
    return 12u + 9u * (unsigned)level;
}

static uint64_t level_size(int mode)
{
    return mode < 6 ? (1ull << level_shift(mode)) - 1 : ~0ull;
}

static unsigned level_index(int level, uint64_t addr)
{
    return (unsigned)((addr >> level_shift(level)) & 0x1ff);
}

static uint64_t pde(int level, uint64_t pa)
{
    return pa | (uint64_t)(level & 7) << 9 | AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW;
}

/* increase_address_space: a new root whose entry 0 points at the old one. */
static bool increase_address_space(struct host_amd_iommu *a, struct amd_domain *d)
{
    if (d->mode == AMD_PAGE_MODE_6_LEVEL)
        return false;
    struct host_iopt *pt = host_iopt_alloc(a->k, true);
    if (!pt)
        return false;
    pt->cpu[0] = pde(d->mode, d->root->pa);
    pt->child[0] = d->root;
    d->root = pt;
    d->mode++;
    d->updated = true;
    return true;
}

/* alloc_pte: the entry of `address` at the level of page_size, creating
 * directory pages on the way. */
static uint64_t *alloc_pte(struct host_amd_iommu *a, struct amd_domain *d, uint64_t address,
                           uint64_t page_size)
{
    while (address > level_size(d->mode))
        if (!increase_address_space(a, d))
            return NULL;
    int level = d->mode - 1;
    int end_lvl = (int)((__builtin_ctzll(page_size) - 12) / 9);
    struct host_iopt *t = d->root;
    while (level > end_lvl) {
        unsigned idx = level_index(level, address);
        uint64_t e = t->cpu[idx];
        if (!(e & AMD_PTE_PR)) {
            struct host_iopt *n = host_iopt_alloc(a->k, level - 1 > 0);
            if (!n)
                return NULL;
            t->child[idx] = n;
            t->cpu[idx] = pde(level, n->pa);
            e = t->cpu[idx];
        }
        if ((int)((e >> 9) & 7) != level) /* no level skipping */
            return NULL;
        t = t->child[idx];
        level--;
    }
    return &t->cpu[level_index(level, address)];
}

/* fetch_pte: the entry mapping address and the size it maps, NULL when not
 * present (page_size is then the size of the level where the walk stopped). */
static uint64_t *fetch_pte(struct amd_domain *d, uint64_t address, uint64_t *page_size)
{
    if (address > level_size(d->mode))
        return NULL;
    int level = d->mode - 1;
    struct host_iopt *t = d->root;
    uint64_t *pte = &t->cpu[level_index(level, address)];
    *page_size = 1ull << level_shift(level);
    while (level > 0) {
        if (!(*pte & AMD_PTE_PR))
            return NULL;
        unsigned nl = (unsigned)((*pte >> 9) & 7);
        if (nl == 7 || nl == 0)
            break;
        if ((int)nl != level)
            return NULL;
        t = t->child[level_index(level, address)];
        level--;
        pte = &t->cpu[level_index(level, address)];
        *page_size = 1ull << level_shift(level);
    }
    if (!(*pte & AMD_PTE_PR))
        return NULL;
    if (((*pte >> 9) & 7) == 7) {
        /* PTE_PAGE_SIZE: 1 << (1 + ffz(pte | 0xfff)), first of the series */
        uint64_t v = *pte | 0xfff;
        uint64_t size = 1ull << (1 + __builtin_ctzll(~v));
        *page_size = size;
        uint64_t count = 1ull << ((__builtin_ctzll(size) - 12) % 9);
        uintptr_t mask = ~(uintptr_t)((count << 3) - 1);
        pte = (uint64_t *)((uintptr_t)pte & mask);
    }
    return pte;
}

/* iommu_map_page (4.9) / iommu_v1_map_page (5.x): one page of page_size. */
static int map_page(struct host_amd_iommu *a, struct amd_domain *d, uint64_t bus_addr,
                    uint64_t phys, uint64_t page_size, int prot)
{
    if (!(prot & (AMD_PROT_IR | AMD_PROT_IW)))
        return -EINVAL;
    uint64_t count = 1ull << ((__builtin_ctzll(page_size) - 12) % 9);
    uint64_t *pte = alloc_pte(a, d, bus_addr, page_size);
    if (!pte)
        return -ENOMEM;
    /* 4.x iommu_map_page refuses a present entry (-EBUSY); 5.15/6.1
     * iommu_v1_map_page clears it (free_clear_pte) and maps over it: an IOVA
     * handed out over a unity map that was not reserved replaces the 1:1
     * page silently. Replacing a directory entry (freeing its table) is not
     * modelled: still -EBUSY. */
    for (uint64_t i = 0; i < count; i++) {
        unsigned nl = (unsigned)((pte[i] >> 9) & 7);
        if ((pte[i] & AMD_PTE_PR) && (a->kv->amd_own_dma_ops || (nl != 0 && nl != 7)))
            return -EBUSY;
    }
    uint64_t v;
    if (count > 1) {
        /* PAGE_SIZE_PTE | PM_LEVEL_ENC(7) */
        v = ((phys | (page_size - 1)) & ~(page_size >> 1) & AMD_PTE_ADDR_MASK) | 7ull << 9 |
            AMD_PTE_PR | AMD_PTE_FC;
    } else {
        v = phys | AMD_PTE_PR | AMD_PTE_FC;
    }
    if (prot & AMD_PROT_IR)
        v |= AMD_PTE_IR;
    if (prot & AMD_PROT_IW)
        v |= AMD_PTE_IW;
    for (uint64_t i = 0; i < count; i++)
        pte[i] = v;
    amd_update_domain(a, d);
    return 0;
}

/* iommu_unmap_page (4.9) / iommu_v1_unmap_page (5.x) */
static uint64_t unmap_page(struct amd_domain *d, uint64_t bus_addr, uint64_t page_size)
{
    uint64_t unmapped = 0;
    while (unmapped < page_size) {
        uint64_t unmap_size = 4096;
        uint64_t *pte = fetch_pte(d, bus_addr, &unmap_size);
        if (pte) {
            uint64_t count = 1ull << ((__builtin_ctzll(unmap_size) - 12) % 9);
            for (uint64_t i = 0; i < count; i++)
                pte[i] = 0;
        }
        bus_addr = (bus_addr & ~(unmap_size - 1)) + unmap_size;
        unmapped += unmap_size;
    }
    return unmapped;
}

/* iommu_pgsize (5.x, AMD_IOMMU_PGSIZES: every power of two from 4 KiB but
 * 512 GiB); 4.x maps PAGE_SIZE pages only. */
static uint64_t pgsize(struct host_amd_iommu *a, uint64_t iova, uint64_t paddr, uint64_t size)
{
    if (a->kv->amd_own_dma_ops)
        return 4096;
    unsigned hi = 63 - (unsigned)__builtin_clzll(size);
    uint64_t merge = iova | paddr;
    if (merge) {
        unsigned lo = (unsigned)__builtin_ctzll(merge);
        if (lo < hi)
            hi = lo;
    }
    if (hi == 39)
        hi = 38;
    return 1ull << hi;
}

int amd_map_range(struct host_amd_iommu *a, struct amd_domain *d, uint64_t iova, uint64_t pa,
                  uint64_t size, int prot)
{
    while (size) {
        uint64_t ps = pgsize(a, iova, pa, size);
        int r = map_page(a, d, iova, pa, ps, prot);
        if (r)
            return r;
        iova += ps;
        pa += ps;
        size -= ps;
    }
    return 0;
}

static void unmap_range(struct host_amd_iommu *a, struct amd_domain *d, uint64_t iova,
                        uint64_t size)
{
    while (size) {
        uint64_t ps = pgsize(a, iova, iova, size);
        uint64_t n = unmap_page(d, iova, ps);
        if (n >= size)
            break;
        iova += n;
        size -= n;
    }
}

static bool iova_to_phys(struct amd_domain *d, uint64_t iova, uint64_t *pa)
{
    uint64_t ps;
    uint64_t *pte = fetch_pte(d, iova, &ps);
    if (!pte)
        return false;
    *pa = (*pte & AMD_PTE_ADDR_MASK & ~(ps - 1)) | (iova & (ps - 1));
    return true;
}

size_t host_amd_iommu_iova_lookup(const struct host_amd_iommu *a, uint64_t iova,
                                  struct host_amd_iommu_mapping *out, size_t max)
{
    size_t n = 0;
    if (!a)
        return 0;
    /* by ascending domain id, whatever the list order (deterministic output) */
    int last = -1;
    for (;;) {
        struct amd_domain *best = NULL;
        for (struct amd_domain *d = a->pd_list; d; d = d->next)
            if (d->dma && d->root && d->mode > 0 && (int)d->id > last &&
                (!best || d->id < best->id))
                best = d;
        if (!best)
            return n;
        last = best->id;
        uint64_t ps;
        const uint64_t *pte = fetch_pte(best, iova, &ps);
        if (!pte)
            continue;
        if (n < max) {
            out[n].domain_id = best->id;
            out[n].pa = (*pte & AMD_PTE_ADDR_MASK & ~(ps - 1)) | (iova & (ps - 1));
            out[n].page_size = ps;
            out[n].ir = (*pte & AMD_PTE_IR) != 0;
            out[n].iw = (*pte & AMD_PTE_IW) != 0;
        }
        n++;
    }
}

size_t host_amd_iommu_domain_devids(const struct host_amd_iommu *a, uint16_t domain_id,
                                    uint16_t *out, size_t max)
{
    if (!a || !a->dev_data)
        return 0;
    /* a device and its alias: both DTEs point at the domain (set_dte_entry) */
    uint8_t in[65536 / 8] = {0};
    for (uint32_t devid = 0; devid <= a->last_bdf; devid++) {
        const struct amd_dev_data *dd = a->dev_data[devid];
        if (!dd || !dd->domain || dd->domain->id != domain_id)
            continue;
        in[dd->devid / 8] |= (uint8_t)(1u << (dd->devid % 8));
        in[dd->alias / 8] |= (uint8_t)(1u << (dd->alias % 8));
    }
    size_t n = 0;
    for (uint32_t devid = 0; devid < 65536; devid++) {
        if (!(in[devid / 8] & (1u << (devid % 8))))
            continue;
        if (n < max)
            out[n] = (uint16_t)devid;
        n++;
    }
    return n;
}

/* ---- Domains ---- */

static int domain_id_alloc(struct host_amd_iommu *a)
{
    for (unsigned id = 1; id < 65536; id++)
        if (!(a->pd_bitmap[id / 8] & (1u << (id % 8)))) {
            a->pd_bitmap[id / 8] |= (uint8_t)(1u << (id % 8));
            return (int)id;
        }
    return 0;
}

struct amd_domain *amd_domain_alloc(struct host_amd_iommu *a, bool dma, struct pcilab_err *err)
{
    struct amd_domain *d = calloc(1, sizeof *d);
    if (!d) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a protection domain");
        return NULL;
    }
    d->id = (uint16_t)domain_id_alloc(a);
    d->dma = dma;
    d->fq_timer = 0;
    if (dma) {
        d->mode = AMD_PAGE_MODE_3_LEVEL;
        d->root = host_iopt_alloc(a->k, true);
        /* dma-iommu (5.x) reads iommu_dma_forcedac, which iommu.forcedac=1 and
         * (5.x) intel_iommu=forcedac set; 4.x's AMD ops have no such switch */
        const struct host_bootparams *bp = &a->k->bootparams;
        struct host_iova_params ip = {.flavour = a->kv->iova, .granule = 4096, .start_pfn = 1,
                                      .ncpus = a->k->ncpus ? a->k->ncpus : 1,
                                      .forcedac = !a->kv->amd_own_dma_ops &&
                                                  (bp->iommu_dma_forcedac || bp->dmar_forcedac)};
        d->iovad = d->root ? host_iova_create(&ip, err) : NULL;
        if (!d->iovad) {
            host_iopt_free(a->k, d->root);
            free(d);
            pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a DMA domain");
            return NULL;
        }
        /* 4.x copy_reserved_iova: the template's ranges in order */
        if (a->resv) {
            struct host_iova r[256];
            uint64_t n = host_iova_list(a->resv, r, 256);
            for (uint64_t i = 0; i < n && i < 256; i++)
                host_reserve_iova(d->iovad, r[i].pfn_lo, r[i].pfn_hi, NULL, NULL);
        }
        d->fq = a->lazy && (a->kv->amd_fq != HOST_AMD_FQ_DRIVER || a->q49);
        if (d->fq && a->kv->amd_fq == HOST_AMD_FQ_IOVA) {
            d->fq_ring = calloc(a->k->ncpus ? a->k->ncpus : 1, sizeof *d->fq_ring);
            if (!d->fq_ring) {
                host_iova_destroy(d->iovad);
                host_iopt_free(a->k, d->root);
                free(d);
                pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a flush queue");
                return NULL;
            }
        }
    }
    d->next = a->pd_list;
    a->pd_list = d;
    return d;
}

void amd_domain_free(struct host_amd_iommu *a, struct amd_domain *d)
{
    if (!d)
        return;
    for (struct amd_domain **pp = &a->pd_list; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    if (d->fq_timer_on)
        sim_cancel(a->k->sim, d->fq_timer);
    /* 4.9's shared queue may still hold entries of this domain */
    if (a->q49)
        for (unsigned c = 0; c < (a->k->ncpus ? a->k->ncpus : 1); c++)
            for (unsigned i = 0; i < a->q49[c].tail; i++)
                if (a->q49[c].e[i].dom == d)
                    a->q49[c].e[i].dom = NULL;
    if (d->id)
        a->pd_bitmap[d->id / 8] &= (uint8_t)~(1u << (d->id % 8));
    free(d->fq_ring);
    host_iova_destroy(d->iovad);
    host_iopt_free(a->k, d->root);
    free(d);
}

/* ---- Reserved ranges ---- */

static void reserve(struct host_iova_domain *iovad, uint64_t start, uint64_t end)
{
    host_reserve_iova(iovad, start >> 12, end >> 12, NULL, NULL);
}

/* Memory resources of a bridge (Linux's PCI_BRIDGE_RESOURCES): its memory
 * and prefetchable windows, read from configuration space. */
static void reserve_bridge_windows(struct host_iova_domain *iovad, struct pci_dev *p)
{
    uint8_t hdr = 0;
    pci_read_config_byte(p, PCIE_CFG_HEADER_TYPE, &hdr);
    if ((hdr & 0x7f) != 1)
        return;
    uint16_t mb, ml;
    pci_read_config_word(p, 0x20, &mb);
    pci_read_config_word(p, 0x22, &ml);
    uint64_t base = (uint64_t)(mb & 0xfff0) << 16, limit = ((uint64_t)(ml & 0xfff0) << 16) | 0xfffff;
    if (base <= limit)
        reserve(iovad, base, limit);
    uint16_t pb, pl;
    uint32_t pbu = 0, plu = 0;
    pci_read_config_word(p, 0x24, &pb);
    pci_read_config_word(p, 0x26, &pl);
    if ((pb & 0xf) == 1) {
        pci_read_config_dword(p, 0x28, &pbu);
        pci_read_config_dword(p, 0x2c, &plu);
    }
    base = (uint64_t)pbu << 32 | (uint64_t)(pb & 0xfff0) << 16;
    limit = (uint64_t)plu << 32 | ((uint64_t)(pl & 0xfff0) << 16) | 0xfffff;
    if (base <= limit)
        reserve(iovad, base, limit);
}

/* init_reserved_iova_ranges (4.x): MSI, HT, every IORESOURCE_MEM of every
 * PCI device (BARs, ROM, bridge windows). */
int amd_init_reserved_iova_ranges(struct host_amd_iommu *a, struct pcilab_err *err)
{
    struct host_iova_params ip = {.flavour = a->kv->iova, .granule = 4096, .start_pfn = 1,
                                  .ncpus = a->k->ncpus ? a->k->ncpus : 1};
    a->resv = host_iova_create(&ip, err);
    if (!a->resv)
        return -PCILAB_ENOMEM;
    reserve(a->resv, AMD_MSI_RANGE_START, AMD_MSI_RANGE_END);
    reserve(a->resv, AMD_HT_RANGE_START, AMD_HT_RANGE_END);
    for (size_t i = 0; i < a->k->npdevs; i++) {
        struct pci_dev *p = a->k->pdevs[i];
        for (int r = 0; r < HOST_PCI_NUM_RESOURCES; r++)
            if (p->resource[r].flags & HOST_IORESOURCE_MEM)
                reserve(a->resv, p->resource[r].start, p->resource[r].end);
        reserve_bridge_windows(a->resv, p);
    }
    return 0;
}

int amd_domain_prepare_for_dev(struct host_amd_iommu *a, struct amd_domain *d,
                               struct amd_dev_data *dd, struct pcilab_err *err)
{
    (void)err;
    const struct host_ivrs_linux *lx = a->lx;
    bool v5 = !a->kv->amd_own_dma_ops;
    /* 5.15/6.1 dma-iommu.c iommu_dma_init_domain: the IOVA domain is set up
     * once, by the first device of the group whose DMA ops are set up
     * (amd_iommu_probe_finalize -> iommu_setup_dma_ops, group order), and
     * only that device's reserved regions are reserved
     * (iova_reserve_iommu_regions); later devices find start_pfn set and
     * return. Their direct (unity) regions are still mapped 1:1
     * (iommu_create_device_direct_mappings) but not reserved. 4.x reserves
     * every device's dm regions (apply_dm_region / apply_resv_region). */
    bool reserve_resv = !v5 || host_iova_list(d->iovad, NULL, 0) == 0;
    if (v5 && reserve_resv) {
        /* iova_reserve_pci_windows: the host bridge's memory windows */
        const struct pcie_fabric_config *fc = pcie_fabric_config(a->k->fabric);
        if (fc->mem32.size)
            reserve(d->iovad, fc->mem32.base, fc->mem32.base + fc->mem32.size - 1);
        if (fc->mem64.size)
            reserve(d->iovad, fc->mem64.base, fc->mem64.base + fc->mem64.size - 1);
    }
    /* unity maps of this device (4.x apply_dm_region + direct mappings; 5.x
     * IOMMU_RESV_DIRECT) */
    for (size_t i = 0; i < lx->n_unity; i++) {
        const struct host_ivrs_unity *u = &lx->unity[i];
        if (dd->devid < u->devid_start || dd->devid > u->devid_end || u->end <= u->start)
            continue;
        if (reserve_resv)
            reserve(d->iovad, u->start, u->end - 1);
        int prot = ((u->prot & 1) ? AMD_PROT_IR : 0) | ((u->prot & 2) ? AMD_PROT_IW : 0);
        for (uint64_t addr = u->start; addr < u->end; addr += 4096) {
            uint64_t pa;
            if (!iova_to_phys(d, addr, &pa))
                map_page(a, d, addr, addr, 4096, prot);
        }
    }
    if (v5 && reserve_resv) {
        /* amd_iommu_get_resv_regions: MSI and HT ranges */
        reserve(d->iovad, AMD_MSI_RANGE_START, AMD_MSI_RANGE_END);
        reserve(d->iovad, AMD_HT_RANGE_START, AMD_HT_RANGE_END);
    }
    return 0;
}

/* ---- Flush queues ---- */

static unsigned ncpus(struct host_amd_iommu *a)
{
    return a->k->ncpus ? a->k->ncpus : 1;
}

static unsigned cpu_now(struct host_amd_iommu *a)
{
    return a->k->cpu < ncpus(a) ? a->k->cpu : 0;
}

/* mod_timer(jiffies + msecs_to_jiffies(10)): with HZ 250, 3 jiffies; the
 * timer runs at the tick that reaches the expiry. */
static sim_time_t fq_timer_delay(struct host_amd_iommu *a)
{
    uint64_t hz = a->kv->hz ? a->kv->hz : 250;
    uint64_t j10 = (10 * hz + 999) / 1000;
    sim_time_t now = sim_now(a->k->sim);
    uint64_t jiffies = now * hz / SIM_S;
    sim_time_t at = (sim_time_t)((jiffies + j10) * SIM_S / hz);
    return at > now ? at - now : 0;
}

/* 4.9 __queue_flush: every domain's TLB, one completion wait per IOMMU, then
 * the entries' IOVAs back to the allocator. */
static void queue49_flush(struct host_amd_iommu *a, struct amd_fq_ring *q)
{
    for (struct amd_domain *d = a->pd_list; d; d = d->next)
        amd_domain_flush_tlb(a, d, false);
    amd_domain_flush_complete(a, NULL);
    for (unsigned i = 0; i < q->tail; i++) {
        struct amd_fq_entry *e = &q->e[i];
        if (e->dom)
            host_iova_dma_free(e->dom->iovad, e->dma_addr, e->size, cpu_now(a), NULL);
        e->dom = NULL;
    }
    q->tail = 0;
    a->fq_flushes++;
}

static void queue49_timeout(void *ctx, uint64_t arg)
{
    (void)arg;
    struct host_amd_iommu *a = ctx;
    struct host_kernel *prev = host_enter(a->k);
    a->q49_timer_on = false;
    for (unsigned c = 0; c < ncpus(a); c++)
        if (a->q49[c].tail > 0)
            queue49_flush(a, &a->q49[c]);
    host_leave(prev);
}

static void queue49_add(struct host_amd_iommu *a, struct amd_domain *d, uint64_t addr,
                        uint64_t size)
{
    struct amd_fq_ring *q = &a->q49[cpu_now(a)];
    if (q->tail == AMD_FQ_SIZE)
        queue49_flush(a, q);
    struct amd_fq_entry *e = &q->e[q->tail++];
    e->dma_addr = addr;
    e->size = size;
    e->dom = d;
    if (!a->q49_timer_on) {
        a->q49_timer_on = true;
        a->q49_timer = sim_after(a->k->sim, fq_timer_delay(a), queue49_timeout, a, 0);
    }
}

/* iova.c iova_domain_flush: the flush callback between the two counters.
 * 4.20: dma_ops_domain_flush_tlb (no PDE); 5.x flush_iotlb_all (PDE). */
static void iova_domain_flush(struct host_amd_iommu *a, struct amd_domain *d)
{
    d->fq_start_cnt++;
    amd_domain_flush_tlb(a, d, !a->kv->amd_own_dma_ops);
    amd_domain_flush_complete(a, d);
    d->fq_finish_cnt++;
    a->fq_flushes++;
}

static void fq_ring_free(struct host_amd_iommu *a, struct amd_domain *d, struct amd_fq_ring *r)
{
    while (r->head != r->tail) {
        struct amd_fq_entry *e = &r->e[r->head];
        if (e->counter >= d->fq_finish_cnt)
            break;
        host_iova_dma_free(d->iovad, e->dma_addr, e->size, cpu_now(a), NULL);
        r->head = (r->head + 1) % AMD_FQ_SIZE;
    }
}

static void fq_flush_timeout(void *ctx, uint64_t arg)
{
    struct amd_domain *d = (struct amd_domain *)(uintptr_t)arg;
    struct host_amd_iommu *a = ctx;
    struct host_kernel *prev = host_enter(a->k);
    d->fq_timer_on = false;
    iova_domain_flush(a, d);
    for (unsigned c = 0; c < ncpus(a); c++)
        fq_ring_free(a, d, &d->fq_ring[c]);
    host_leave(prev);
}

static void queue_iova(struct host_amd_iommu *a, struct amd_domain *d, uint64_t addr,
                       uint64_t size)
{
    struct amd_fq_ring *r = &d->fq_ring[cpu_now(a)];
    fq_ring_free(a, d, r);
    if ((r->tail + 1) % AMD_FQ_SIZE == r->head) {
        iova_domain_flush(a, d);
        fq_ring_free(a, d, r);
    }
    struct amd_fq_entry *e = &r->e[r->tail];
    r->tail = (r->tail + 1) % AMD_FQ_SIZE;
    e->dma_addr = addr;
    e->size = size;
    e->counter = d->fq_start_cnt;
    e->dom = d;
    if (!d->fq_timer_on) {
        d->fq_timer_on = true;
        d->fq_timer = sim_after(a->k->sim, fq_timer_delay(a), fq_flush_timeout, a,
                                (uint64_t)(uintptr_t)d);
    }
}

void host_amd_iommu_flush_queue(struct host_amd_iommu *a)
{
    if (!a)
        return;
    struct host_kernel *prev = host_enter(a->k);
    if (a->q49) {
        if (a->q49_timer_on)
            sim_cancel(a->k->sim, a->q49_timer);
        a->q49_timer_on = false;
        for (unsigned c = 0; c < ncpus(a); c++)
            if (a->q49[c].tail > 0)
                queue49_flush(a, &a->q49[c]);
    }
    for (struct amd_domain *d = a->pd_list; d; d = d->next) {
        if (!d->fq_ring)
            continue;
        if (d->fq_timer_on)
            sim_cancel(a->k->sim, d->fq_timer);
        d->fq_timer_on = false;
        iova_domain_flush(a, d);
        for (unsigned c = 0; c < ncpus(a); c++)
            fq_ring_free(a, d, &d->fq_ring[c]);
    }
    host_leave(prev);
}

void amd_fq_destroy(struct host_amd_iommu *a)
{
    if (a->q49_timer_on)
        sim_cancel(a->k->sim, a->q49_timer);
    a->q49_timer_on = false;
    free(a->q49);
    a->q49 = NULL;
}

/* ---- Mapping and unmapping (both generations) ---- */

static struct amd_domain *dma_domain_of(struct device *dev, int *why)
{
    struct amd_dev_data *dd = dev->iommu;
    if (!dd || !dd->domain) {
        *why = -EINVAL; /* check_device false: not ours */
        return NULL;
    }
    if (!dd->domain->dma) {
        *why = -EBUSY;
        return NULL;
    }
    return dd->domain;
}

/* dir2prot (4.9) and dma_info_to_prot (5.x) agree: */
static int dir_prot(enum dma_data_direction dir)
{
    switch (dir) {
    case DMA_TO_DEVICE: return AMD_PROT_IR;
    case DMA_FROM_DEVICE: return AMD_PROT_IW;
    case DMA_BIDIRECTIONAL: return AMD_PROT_IR | AMD_PROT_IW;
    default: return 0;
    }
}

/* __map_single (4.x) / __iommu_dma_map (5.x) */
static dma_addr_t map_single(struct host_amd_iommu *a, struct device *dev, struct amd_domain *d,
                             uint64_t paddr, size_t size, int prot, uint64_t dma_mask)
{
    uint64_t offset = paddr & 0xfff;
    uint64_t len = (offset + size + 0xfff) & ~0xfffull; /* iommu_num_pages / iova_align */
    uint64_t iova;
    if (!size)
        len = 4096;
    if (host_iova_dma_alloc(d->iovad, dma_mask, true, len, cpu_now(a), &iova, NULL) < 0 || !iova)
        return host_dma_error_code(dev);
    if (amd_map_range(a, d, iova, paddr & ~0xfffull, len, prot) < 0) {
        unmap_range(a, d, iova, len);
        amd_domain_flush_tlb(a, d, false);
        amd_domain_flush_complete(a, d);
        host_iova_dma_free(d->iovad, iova, len, cpu_now(a), NULL);
        return host_dma_error_code(dev);
    }
    /* NpCache: the IOMMU may hold the not-present entries just filled in.
     * 4.x __map_single flushes [address + offset, size) and waits (4.9.80
     * drivers/iommu/amd_iommu.c:2408-2411, 4.20 :2359-2362); 5.x/6.1
     * iommu_map calls amd_iommu_iotlb_sync_map -> domain_flush_np_cache: the
     * mapped range with PDE, then the wait (6.1-rc7 drivers/iommu/amd/iommu.c
     * :1437-1448, :2192-2200; drivers/iommu/iommu.c:2303). */
    if (a->np_cache) {
        if (a->kv->amd_own_dma_ops)
            amd_domain_flush_pages(a, d, iova + offset, size, false);
        else
            amd_domain_flush_pages(a, d, iova, len, true);
        amd_domain_flush_complete(a, d);
    }
    return iova + offset;
}

/* __unmap_single (4.x) / __iommu_dma_unmap (5.x) */
static void unmap_single(struct host_amd_iommu *a, struct amd_domain *d, dma_addr_t dma_addr,
                         size_t size)
{
    uint64_t offset = dma_addr & 0xfff;
    uint64_t start = dma_addr & ~0xfffull;
    uint64_t len = (offset + size + 0xfff) & ~0xfffull;
    if (!size)
        len = 4096;
    unmap_range(a, d, start, len);
    if (d->fq) {
        if (a->kv->amd_fq == HOST_AMD_FQ_DRIVER)
            queue49_add(a, d, start, len);
        else
            queue_iova(a, d, start, len);
        return;
    }
    switch (a->kv->amd_msg) {
    case HOST_AMD_MSG_4_9: /* free, then flush the domain */
        host_iova_dma_free(d->iovad, start, len, cpu_now(a), NULL);
        amd_domain_flush_tlb(a, d, false);
        amd_domain_flush_complete(a, d);
        break;
    case HOST_AMD_MSG_4_20: /* flush, then free */
        amd_domain_flush_tlb(a, d, false);
        amd_domain_flush_complete(a, d);
        host_iova_dma_free(d->iovad, start, len, cpu_now(a), NULL);
        break;
    default: /* iommu_iotlb_sync: the gathered range, PDE; then the free */
        amd_domain_flush_pages(a, d, start, len - 1, true);
        amd_domain_flush_complete(a, d);
        host_iova_dma_free(d->iovad, start, len, cpu_now(a), NULL);
        break;
    }
}

static void *ops_alloc(struct device *dev, size_t size, dma_addr_t *handle, gfp_t gfp)
{
    struct host_amd_iommu *a = dev->kernel->amd_iommu;
    int why = 0;
    struct amd_domain *d = a ? dma_domain_of(dev, &why) : NULL;
    if (!d) {
        if (why != -EINVAL)
            return NULL;
        /* not handled: plain pages, the DMA address is the physical one */
        uint64_t pa;
        void *p = host_alloc_pages(dev->kernel, gfp | __GFP_ZERO, host_get_order(size), &pa);
        if (p)
            *handle = pa;
        return p;
    }
    size = (size + 0xfff) & ~(size_t)0xfff;
    gfp &= ~(GFP_DMA | GFP_DMA32);
    uint64_t pa;
    void *p = host_alloc_pages(dev->kernel, gfp | __GFP_ZERO, host_get_order(size), &pa);
    if (!p)
        return NULL;
    uint64_t mask = dev->coherent_dma_mask;
    if (!mask && dev->dma_mask)
        mask = *dev->dma_mask;
    *handle = map_single(a, dev, d, pa, size, AMD_PROT_IR | AMD_PROT_IW, mask);
    if (*handle == host_dma_error_code(dev)) {
        host_free_pages(dev->kernel, p, host_get_order(size));
        return NULL;
    }
    return p;
}

static void ops_free(struct device *dev, size_t size, void *cpu_addr, dma_addr_t handle)
{
    struct host_amd_iommu *a = dev->kernel->amd_iommu;
    size = (size + 0xfff) & ~(size_t)0xfff;
    int why = 0;
    struct amd_domain *d = a ? dma_domain_of(dev, &why) : NULL;
    if (d)
        unmap_single(a, d, handle, size);
    host_free_pages(dev->kernel, cpu_addr, host_get_order(size));
}

static dma_addr_t ops_map(struct device *dev, uint64_t phys, size_t size,
                          enum dma_data_direction dir)
{
    struct host_amd_iommu *a = dev->kernel->amd_iommu;
    int why = 0;
    struct amd_domain *d = a ? dma_domain_of(dev, &why) : NULL;
    if (!d)
        return why == -EINVAL ? phys : host_dma_error_code(dev);
    uint64_t mask = dev->dma_mask ? *dev->dma_mask : DMA_BIT_MASK(32);
    return map_single(a, dev, d, phys, size, dir_prot(dir), mask);
}

static void ops_unmap(struct device *dev, dma_addr_t addr, size_t size,
                      enum dma_data_direction dir)
{
    (void)dir;
    struct host_amd_iommu *a = dev->kernel->amd_iommu;
    int why = 0;
    struct amd_domain *d = a ? dma_domain_of(dev, &why) : NULL;
    if (d)
        unmap_single(a, d, addr, size);
}

/* map_sg (4.x): one IOVA range for the whole list, each entry at its page
 * offset (sg_num_pages with no segment boundary: every entry starts on a new
 * IOVA page). dma-iommu (5.x) also uses one range; its merging of
 * contiguous entries into fewer DMA segments is not modelled. */
static int ops_map_sg(struct device *dev, struct scatterlist *sg, int nents,
                      enum dma_data_direction dir)
{
    struct host_amd_iommu *a = dev->kernel->amd_iommu;
    int why = 0;
    struct amd_domain *d = a ? dma_domain_of(dev, &why) : NULL;
    if (!d)
        return 0;
    uint64_t npages = 0;
    struct scatterlist *s = sg;
    for (int i = 0; i < nents; i++, s = sg_next(s)) {
        uint64_t phys = host_virt_to_phys(dev->kernel, s->buf);
        if (phys == UINT64_MAX)
            return 0;
        s->dma_address = npages << 12;
        npages += ((phys & 0xfff) + s->length + 0xfff) >> 12;
    }
    uint64_t mask = dev->dma_mask ? *dev->dma_mask : DMA_BIT_MASK(32);
    uint64_t iova;
    if (host_iova_dma_alloc(d->iovad, mask, true, npages << 12, cpu_now(a), &iova, NULL) < 0 ||
        !iova)
        return 0;
    s = sg;
    for (int i = 0; i < nents; i++, s = sg_next(s)) {
        uint64_t phys = host_virt_to_phys(dev->kernel, s->buf);
        uint64_t pages = ((phys & 0xfff) + s->length + 0xfff) >> 12;
        if (amd_map_range(a, d, iova + s->dma_address, phys & ~0xfffull, pages << 12,
                          dir_prot(dir)) < 0) {
            unmap_range(a, d, iova, npages << 12);
            host_iova_dma_free(d->iovad, iova, npages << 12, cpu_now(a), NULL);
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
    struct host_amd_iommu *a = dev->kernel->amd_iommu;
    int why = 0;
    struct amd_domain *d = a ? dma_domain_of(dev, &why) : NULL;
    if (!d || nents <= 0)
        return;
    uint64_t npages = 0;
    struct scatterlist *s = sg;
    for (int i = 0; i < nents && s; i++, s = sg_next(s))
        npages += ((s->dma_address & 0xfff) + s->dma_length + 0xfff) >> 12;
    unmap_single(a, d, sg->dma_address & ~0xfffull, npages << 12);
}

static bool ops_supported(struct device *dev, uint64_t mask)
{
    (void)mask;
    /* amd_iommu_dma_supported = check_device (4.x); dma-iommu has none */
    return dev->iommu != NULL || !dev->kernel->kver->amd_own_dma_ops;
}

void amd_dma_ops_init(struct host_amd_iommu *a)
{
    a->ops = (struct host_dma_ops){
        .name = a->kv->amd_own_dma_ops ? "amd_iommu" : "iommu-dma",
        .alloc = ops_alloc,
        .free = ops_free,
        .map_phys = ops_map,
        .unmap = ops_unmap,
        .map_sg = ops_map_sg,
        .unmap_sg = ops_unmap_sg,
        .supported = ops_supported,
        .ctx = a,
    };
    if (a->lazy && a->kv->amd_fq == HOST_AMD_FQ_DRIVER)
        a->q49 = calloc(ncpus(a), sizeof *a->q49);
}
