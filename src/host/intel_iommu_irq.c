/* The Intel IOMMU driver's interrupts (intel_iommu.h): the fault event
 * interrupt and its lines (dmar_fault, dmar_fault_do_one: drivers/iommu/
 * dmar.c 4.9.80 and 4.20, drivers/iommu/intel/dmar.c 5.15 and 6.1), and
 * interrupt remapping (intel_irq_remapping.c 4.x, intel/irq_remapping.c
 * 5.x): the IOAPIC lines, the remapping table, one IRTE per MSI vector. */
#include "host/intel_iommu_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host/pages.h"
#include "host/pci.h"

/* ---- The fault lines ---- */

void host_intel_fault_line(const struct host_kver *kv, bool type_read, uint8_t reason,
                           long pasid, uint16_t sid, uint64_t addr, char *buf, size_t len)
{
    enum vtd_linux_fault_type ft;
    /* dmar_get_fault_reason: the scalable-mode table from 5.5 on */
    const char *text = vtd_fault_reason_linux(reason, kv->vtd_msg_5x, &ft);
    unsigned bus = sid >> 8, dev = (sid >> 3) & 0x1f, fn = sid & 7;
    const char *dir = type_read ? "DMA Read" : "DMA Write";
    if (!kv->vtd_msg_5x) {
        if (ft == VTD_LINUX_INTR_REMAP)
            snprintf(buf, len,
                     "[INTR-REMAP] Request device [%02x:%02x.%u] fault index %llx "
                     "[fault reason %02d] %s", bus, dev, fn,
                     (unsigned long long)(addr >> 48), reason, text);
        else
            snprintf(buf, len,
                     "[%s] Request device [%02x:%02x.%u] fault addr %llx [fault reason %02d] %s",
                     dir, bus, dev, fn, (unsigned long long)addr, reason, text);
        return;
    }
    if (ft == VTD_LINUX_INTR_REMAP)
        snprintf(buf, len,
                 "[INTR-REMAP] Request device [%02x:%02x.%u] fault index 0x%llx "
                 "[fault reason 0x%02x] %s", bus, dev, fn, (unsigned long long)(addr >> 48),
                 reason, text);
    else if (pasid < 0)
        snprintf(buf, len,
                 "[%s NO_PASID] Request device [%02x:%02x.%u] fault addr 0x%llx "
                 "[fault reason 0x%02x] %s", dir, bus, dev, fn, (unsigned long long)addr,
                 reason, text);
    else
        snprintf(buf, len,
                 "[%s PASID 0x%lx] Request device [%02x:%02x.%u] fault addr 0x%llx "
                 "[fault reason 0x%02x] %s", dir, (unsigned long)pasid, bus, dev, fn,
                 (unsigned long long)addr, reason, text);
}

/* lib/ratelimit.c with DEFAULT_RATELIMIT_INTERVAL (5 * HZ) and BURST (10);
 * the "callbacks suppressed" line is not modelled. */
static bool ratelimit(struct host_intel_iommu *v, struct vtd_ratelimit *rs)
{
    uint64_t hz = v->kv->hz ? v->kv->hz : 250;
    uint64_t jiffies = sim_now(v->k->sim) * hz / SIM_S;
    if (!rs->started || jiffies > rs->begin + 5 * hz) {
        rs->started = true;
        rs->begin = jiffies;
        rs->printed = 0;
    }
    if (rs->printed < 10) {
        rs->printed++;
        return true;
    }
    return false;
}

/* dmar_fault */
static irqreturn_t dmar_fault(int irq, void *dev_id)
{
    (void)irq;
    struct vtd_unit *u = dev_id;
    struct host_intel_iommu *v = u->drv;
    const struct host_kver *kv = v->kv;
    /* 4.9: one __ratelimit for the whole interrupt */
    bool ratelimited = !kv->vtd_ratelimit_per_record && !ratelimit(v, &v->fault_rs);
    uint32_t fsts = vtd_read32(u, VTD_REG_FSTS);
    if (fsts && (kv->vtd_ratelimit_per_record ? ratelimit(v, &v->fault_rs) : !ratelimited))
        vtd_pr(v, 3, "DMAR: DRHD: handling fault status reg %x\n", fsts);
    if (!(fsts & VTD_FSTS_PPF))
        return IRQ_HANDLED;
    unsigned idx = (fsts & VTD_FSTS_FRI_MASK) >> VTD_FSTS_FRI_SHIFT;
    unsigned reg = vtd_cap_fro(u->cap), nfr = vtd_cap_nfr(u->cap);
    for (unsigned guard = 0; guard < 256; guard++) {
        unsigned at = reg + idx * VTD_FRCD_SIZE;
        uint32_t hi = vtd_read32(u, at + 12);
        if (!(hi & (1u << 31))) /* DMA_FRCD_F */
            break;
        if (kv->vtd_ratelimit_per_record)
            ratelimited = !ratelimit(v, &v->fault_rs);
        uint8_t reason = 0;
        bool type_read = false, pasid_present = false;
        uint32_t pasid = 0;
        uint16_t sid = 0;
        uint64_t addr = 0;
        if (!ratelimited) {
            reason = (uint8_t)hi;                  /* dma_frcd_fault_reason */
            type_read = (hi >> 30) & 1;            /* dma_frcd_type */
            pasid = (hi >> 8) & 0xfffff;           /* dma_frcd_pasid_value */
            uint32_t w2 = vtd_read32(u, at + 8);
            sid = (uint16_t)w2;                    /* dma_frcd_source_id */
            pasid_present = (w2 >> 31) & 1;        /* dma_frcd_pasid_present */
            addr = vtd_read64(u, at) & ~0xfffull;  /* dma_frcd_page_addr */
        }
        vtd_write32(u, at + 12, 1u << 31);         /* clear the fault */
        if (!ratelimited) {
            char line[256];
            host_intel_fault_line(kv, type_read, reason,
                                  kv->vtd_msg_5x && pasid_present ? (long)pasid : -1, sid, addr,
                                  line, sizeof line);
            vtd_pr(v, 3, "DMAR: %s\n", line);
        }
        v->faults_printed++;
        if (++idx >= nfr)
            idx = 0;
    }
    vtd_write32(u, VTD_REG_FSTS,
                VTD_FSTS_PFO | VTD_FSTS_PPF | (kv->vtd_msg_5x ? VTD_FSTS_PRO : 0));
    return IRQ_HANDLED;
}

/* The compatibility-format message for a kernel IRQ (irq_msi_compose_msg),
 * which the unit's FEDATA/FEADDR hold: its own interrupts are never
 * remapped. */
static void compose(struct host_intel_iommu *v, unsigned irq, uint64_t *addr, uint32_t *data)
{
    const struct host_irq_desc *d = host_irq_desc(v->k, irq);
    uint8_t dest;
    bool logical, lowest;
    host_irq_msg_target(v->k, irq, &dest, &logical, &lowest);
    *addr = 0xfee00000ull | (uint64_t)dest << 12 | (logical ? 1u << 2 : 0) | (lowest ? 1u << 3 : 0);
    *data = d ? d->vector : 0;
    if (v->kv->irq != HOST_IRQ_5_X)
        *data |= 1u << 14; /* MSI_DATA_LEVEL_ASSERT */
    if (lowest)
        *data |= 1u << 8;
}

int vtd_set_interrupt(struct host_intel_iommu *v, struct vtd_unit *u, struct pcilab_err *err)
{
    if (u->irq >= 0)
        return 0;
    /* "Clear any previous faults" (intel_iommu_init_qi: dmar_fault(-1, iommu)) */
    dmar_fault(-1, u);
    int irq = host_irq_alloc(v->k, 1);
    if (irq < 0)
        return pcilab_errf(err, PCILAB_ENOMEM, "%s: no IRQ for the fault interrupt", u->name);
    if (request_irq((unsigned)irq, dmar_fault, 0, u->name, u) < 0)
        return pcilab_errf(err, PCILAB_EINVAL, "%s: request_irq failed", u->name);
    u->irq = irq;
    uint64_t addr;
    uint32_t data;
    compose(v, (unsigned)irq, &addr, &data);
    /* dmar_msi_write, then dmar_msi_unmask */
    vtd_write32(u, VTD_REG_FEDATA, data);
    vtd_write32(u, VTD_REG_FEADDR, (uint32_t)addr);
    vtd_write32(u, VTD_REG_FEUADDR, (uint32_t)(addr >> 32));
    vtd_write32(u, VTD_REG_FECTL, 0);
    return 0;
}

/* ---- Interrupt remapping ---- */

bool vtd_ir_capable(struct host_intel_iommu *v)
{
    /* dmar_ir_support: the table's INTR_REMAP flag; intel_irq_remap_supported:
     * every unit's ECAP.IR */
    if (!(v->t->flags & HOST_DMAR_INTR_REMAP))
        return false;
    for (unsigned i = 0; i < v->n; i++)
        if (!(v->unit[i].ecap & VTD_ECAP_IR))
            return false;
    return true;
}

static void iec_flush(struct vtd_unit *u, bool global, uint16_t index)
{
    struct vtd_inv_desc d = {.type = VTD_DESC_IEC, .g = global ? 0 : 1, .iidx = index};
    vtd_qi_submit(u, &d);
}

static bool ir_remaps(void *ctx, struct pci_dev *dev)
{
    struct host_intel_iommu *v = ctx;
    /* map_dev_to_ir: every device a DRHD covers, whatever DMA remapping
     * does (an ignored unit's too: dmar_find_matched_drhd_unit does not
     * look at drhd->ignored) */
    struct vtd_unit *u = v->irq_remap ? vtd_device_to_unit(v, dev) : NULL;
    return u && u->ir_table;
}

/* alloc_irte: a naturally aligned block of roundup_pow_of_two(count) in
 * the unit's own table (bitmap_find_free_region on iommu->ir_table) */
static int alloc_irte(struct vtd_unit *u, unsigned count)
{
    unsigned n = 1;
    while (n < count)
        n <<= 1;
    for (unsigned base = 0; base + n <= 65536; base += n) {
        bool free_run = true;
        for (unsigned i = 0; i < n && free_run; i++)
            free_run = !(u->ir_bitmap[(base + i) / 8] >> ((base + i) % 8) & 1);
        if (!free_run)
            continue;
        for (unsigned i = 0; i < n; i++)
            u->ir_bitmap[(base + i) / 8] |= (uint8_t)(1u << ((base + i) % 8));
        u->ir_used += n;
        return (int)base;
    }
    return -ENOSPC;
}

static void write_irte(struct host_intel_iommu *v, struct vtd_unit *u, unsigned index,
                       unsigned irq, uint16_t sid)
{
    const struct host_irq_desc *d = host_irq_desc(v->k, irq);
    uint8_t dest;
    bool logical, lowest;
    host_irq_msg_target(v->k, irq, &dest, &logical, &lowest);
    /* prepare_irte: P, DM/DLM from the APIC driver, vector, destination;
     * set_msi_sid: SVT verify SID, SQ all 16 bits */
    struct vtd_irte e = {.p = true, .dm = logical, .rh = lowest, .dlm = lowest ? 1 : 0,
                         .vector = d ? d->vector : 0, .dst = vtd_irte_dst(dest, false),
                         .sid = sid, .sq = 0, .svt = VTD_SVT_SID};
    vtd_irte_encode(&e, u->ir_table + (size_t)index * VTD_IRTE_SIZE);
    /* modify_irte -> qi_flush_iec on the unit that owns the table */
    iec_flush(u, false, (uint16_t)index);
}

static int ir_alloc(void *ctx, struct pci_dev *dev, unsigned irq_base, unsigned nvec, bool msix,
                    uint64_t *addr, uint32_t *data)
{
    struct host_intel_iommu *v = ctx;
    /* intel_irq_remapping_alloc on the device's unit's domain (map_dev_to_ir) */
    struct vtd_unit *u = vtd_device_to_unit(v, dev);
    if (!u || !u->ir_table)
        return -ENODEV;
    struct host_kernel *prev = host_enter(v->k);
    int r = 0;
    unsigned blocks = msix ? nvec : 1, per = msix ? 1 : nvec;
    for (unsigned b = 0; b < blocks; b++) {
        int index = alloc_irte(u, per);
        if (index < 0) {
            /* alloc_irte's pr_warn, pr_fmt "DMAR-IR: " */
            vtd_pr(v, 4, "DMAR-IR: IR%u: can't allocate an IRTE\n", u->seq);
            r = index;
            break;
        }
        for (unsigned i = 0; i < per; i++) {
            unsigned k = b * per + i;
            write_irte(v, u, (unsigned)index + i, irq_base + k, host_pci_bdf(dev));
            /* fill_msi_msg: remappable format with SHV, the handle an index
             * into this unit's table, the subhandle in data */
            addr[k] = vtd_msi_remap_addr((uint16_t)index, true);
            data[k] = i;
        }
    }
    host_leave(prev);
    return r;
}

static void ir_free(void *ctx, struct pci_dev *dev, unsigned nvec, bool msix)
{
    (void)msix;
    struct host_intel_iommu *v = ctx;
    struct vtd_unit *u = vtd_device_to_unit(v, dev);
    if (!u || !u->ir_table)
        return;
    struct host_kernel *prev = host_enter(v->k);
    for (unsigned i = 0; i < nvec; i++) {
        struct host_irq_desc *d = host_irq_desc(v->k, dev->irq + i);
        if (!d)
            continue;
        struct vtd_msi m;
        vtd_msi_decode(d->msg_addr, d->msg_data, &m);
        if (!m.remappable)
            continue;
        /* clear_entries: the IRTE of the handle (+ subhandle) in the unit's
         * table, then qi_flush_iec on that unit */
        unsigned index = m.index;
        if (!(u->ir_bitmap[index / 8] >> (index % 8) & 1))
            continue;
        memset(u->ir_table + (size_t)index * VTD_IRTE_SIZE, 0, VTD_IRTE_SIZE);
        u->ir_bitmap[index / 8] &= (uint8_t)~(1u << (index % 8));
        u->ir_used--;
        iec_flush(u, false, (uint16_t)index);
    }
    host_leave(prev);
}

/* intel_setup_irq_remapping for one unit: the table (order 8: 65536 IRTEs
 * of 16 bytes), queued invalidation if not on yet (dmar_enable_qi, no line:
 * "Using Queued invalidation" is intel_iommu_init_qi's), then
 * iommu_set_irq_remapping: IRTA (size field 0xf: 2^16 entries, xAPIC mode),
 * SIRTP, the global IEC flush. */
static int setup_unit(struct host_intel_iommu *v, struct vtd_unit *u)
{
    if (u->ir_table)
        return 0;
    u->ir_table = host_alloc_pages(v->k, GFP_KERNEL | __GFP_ZERO, 8, &u->ir_pa);
    if (!u->ir_table)
        return -1;
    if (vtd_qi_init(v, u) < 0 || !u->qi_on) {
        vtd_pr(v, 3, "DMAR-IR: Failed to enable queued invalidation\n");
        return -1;
    }
    vtd_write64(u, VTD_REG_IRTA, u->ir_pa | 0xf);
    vtd_write32(u, VTD_REG_GCMD, u->gcmd | VTD_GCMD_SIRTP);
    for (int i = 0; i < 1000 && !(vtd_read32(u, VTD_REG_GSTS) & VTD_GSTS_IRTPS); i++)
        ;
    iec_flush(u, true, 0);
    return 0;
}

/* iommu_enable_irq_remapping: IRE, then CFI clear (compatibility format
 * blocked) */
static void enable_unit(struct vtd_unit *u)
{
    u->gcmd |= VTD_GCMD_IRE;
    u->gcmd &= ~VTD_GCMD_CFI;
    vtd_write32(u, VTD_REG_GCMD, u->gcmd);
    for (int i = 0; i < 1000 && !(vtd_read32(u, VTD_REG_GSTS) & VTD_GSTS_IRES); i++)
        ;
    u->ir_on = true;
}

/* intel_prepare_irq_remapping + intel_enable_irq_remapping (4.9
 * intel_irq_remapping.c:671/759, 6.1 intel/irq_remapping.c:728/828): every
 * loop is for_each_iommu, in dmar_drhd_units order. */
void vtd_ir_setup(struct host_intel_iommu *v)
{
    /* parse_ioapics_under_ir -> ir_parse_ioapic_hpet_scope: the lines per
     * unit, each scope of the unit in table order */
    for (unsigned o = 0; o < v->n; o++) {
        struct vtd_unit *u = vtd_iter(v, o);
        const struct host_dmar_struct *s = u->drhd;
        if (!(u->ecap & VTD_ECAP_IR))
            continue;
        for (size_t j = 0; j < s->n_scopes; j++) {
            const struct host_dmar_scope *sc = &s->scopes[j];
            if (sc->type == HOST_DMAR_SCOPE_IOAPIC)
                vtd_pr(v, 6, "DMAR-IR: IOAPIC id %u under DRHD base  0x%llx IOMMU %u\n",
                       sc->enum_id, (unsigned long long)s->base, u->seq);
            else if (sc->type == HOST_DMAR_SCOPE_HPET)
                vtd_pr(v, 6, "DMAR-IR: HPET id %u under DRHD base 0x%llx\n", sc->enum_id,
                       (unsigned long long)s->base);
        }
    }
    /* parse_ioapics_under_ir: -ENODEV when no unit has ECAP.IR; then "First
     * make sure all IOMMUs support IRQ remapping" (silent) */
    bool any = false;
    for (unsigned i = 0; i < v->n; i++)
        any |= (v->unit[i].ecap & VTD_ECAP_IR) != 0;
    if (!any) {
        vtd_pr(v, 6, "DMAR-IR: Not enabling interrupt remapping\n");
        return;
    }
    if (!vtd_ir_capable(v))
        return;
    /* "Do the initializations early": every unit its own table */
    for (unsigned o = 0; o < v->n; o++) {
        struct vtd_unit *u = vtd_iter(v, o);
        if (setup_unit(v, u) < 0) {
            vtd_pr(v, 3, "DMAR-IR: Failed to setup irq remapping for %s\n", u->name);
            /* intel_cleanup_irq_remapping: IR stays off on every unit (the
             * x2APIC "vulnerable" warning needs x2apic_supported()) */
            for (unsigned i = 0; i < v->n; i++) {
                struct vtd_unit *w = &v->unit[i];
                if (w->ir_table) {
                    vtd_write32(w, VTD_REG_GCMD, w->gcmd & ~VTD_GCMD_IRE);
                    w->ir_table = NULL; /* the pages stay with the kernel */
                    w->ir_pa = 0;
                }
            }
            return;
        }
    }
    for (unsigned o = 0; o < v->n; o++)
        enable_unit(vtd_iter(v, o));
    v->irq_remap = true;
    v->remap = (struct host_irq_remap){.ctx = v, .remaps = ir_remaps, .alloc = ir_alloc,
                                       .free = ir_free};
    host_irq_set_remap(v->k, &v->remap);
    /* once, after every unit (intel_enable_irq_remapping) */
    vtd_pr(v, 6, "DMAR-IR: Enabled IRQ remapping in xapic mode\n");
}
