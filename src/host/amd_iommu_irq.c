/* The AMD IOMMU driver's interrupts: the IOMMU's own MSI and event-log
 * handler (with each version's printk of the events), and interrupt
 * remapping offered to the IRQ core.
 *
 * Sources (read, not copied; docs/linux/amd-iommu.md a and f):
 *   4.9.80  drivers/iommu/amd_iommu.c: amd_iommu_int_thread, iommu_poll_events,
 *           iommu_print_event, dump_dte_entry, dump_command, set_dte_irq_entry,
 *           get_irq_table, alloc_irq_index, modify_irte, modify_irte_ga,
 *           free_irte, irte_prepare, irte_ga_prepare, irte_*_set_allocated,
 *           irq_remapping_alloc, irq_remapping_prepare_irte;
 *           amd_iommu_init.c: iommu_init_msi, iommu_setup_msi
 *   4.20.0  amd_iommu.c: amd_iommu_report_page_fault, iommu_print_event,
 *           alloc_irq_index(devid, count, align)
 *   5.15.55 amd/iommu.c: the same with pr_fmt, pci_err, pr_err_ratelimited,
 *           amd_iommu_restart_event_logging in amd_iommu_int_thread
 *   6.1-rc7 amd/iommu.c: the segment in device=, report_iommu_fault */
#include "host/amd_iommu_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/mm.h"
#include "iommu/amdvi.h"
#include "pcie/route.h"

/* ---- Event log ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* "device=" as the version prints it */
static void fmt_dev(struct host_amd_iommu *a, struct amd_unit *u, uint16_t devid, char *buf,
                    size_t len)
{
    if (a->kv->amd_msg == HOST_AMD_MSG_6_1)
        snprintf(buf, len, "%04x:%02x:%02x.%x", u->segment, devid >> 8, (devid >> 3) & 0x1f,
                 devid & 7);
    else
        snprintf(buf, len, "%02x:%02x.%x", devid >> 8, (devid >> 3) & 0x1f, devid & 7);
}

static void dump_dte_entry(struct host_amd_iommu *a, uint16_t devid)
{
    const uint64_t *e = devid <= a->last_bdf ? amd_dte(a, devid) : NULL;
    for (int i = 0; i < 4; i++)
        amd_pr(a, 3, "AMD-Vi: DTE[%d]: %016llx\n", i, e ? (unsigned long long)e[i] : 0ull);
}

static void dump_command(struct host_amd_iommu *a, struct amd_unit *u, uint64_t pa)
{
    const uint8_t *cmd = NULL;
    if (pa >= u->cmd_buf_pa && pa + 16 <= u->cmd_buf_pa + AMD_CMD_BUFFER_SIZE)
        cmd = u->cmd_buf + (pa - u->cmd_buf_pa);
    for (int i = 0; i < 4; i++)
        amd_pr(a, 3, "AMD-Vi: CMD[%d]: %08x\n", i, cmd ? rd32(cmd + 4 * i) : 0u);
}

/* amd_iommu_report_page_fault (4.20, 5.15, 6.1) */
static void report_page_fault(struct host_amd_iommu *a, struct amd_unit *u, uint16_t devid,
                              uint16_t domain_id, uint64_t address, unsigned flags)
{
    enum host_amd_msg m = a->kv->amd_msg;
    struct pci_dev *pdev = host_pci_find(a->k, m == HOST_AMD_MSG_6_1 ? u->segment : 0, devid);
    struct amd_dev_data *dd = NULL;
    if (pdev && a->dev_data[devid] && a->dev_data[devid]->pdev == pdev)
        dd = a->dev_data[devid];
    char dev[24];
    fmt_dev(a, u, devid, dev, sizeof dev);
    if (m == HOST_AMD_MSG_4_20) {
        if (dd && amd_ratelimit(a, &dd->rs))
            host_dev_printk(KERN_ERR, &pdev->dev,
                            "AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x%04x address=0x%016llx "
                            "flags=0x%04x]\n", domain_id, (unsigned long long)address, flags);
        else if (amd_ratelimit(a, &a->printk_rs))
            amd_pr(a, 3, "AMD-Vi: Event logged [IO_PAGE_FAULT device=%s domain=0x%04x "
                   "address=0x%016llx flags=0x%04x]\n", dev, domain_id,
                   (unsigned long long)address, flags);
        return;
    }
    /* 5.15 / 6.1 (6.1: report_iommu_fault first for a DMA fault of a device
     * with dev_data; no fault handler is registered, so it goes on to print) */
    if (dd) {
        if (amd_ratelimit(a, &dd->rs))
            host_dev_printk(KERN_ERR, &pdev->dev,
                            "AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x%04x address=0x%llx "
                            "flags=0x%04x]\n", domain_id, (unsigned long long)address, flags);
    } else if (amd_ratelimit(a, &a->fault_rs)) {
        amd_pr(a, 3, "AMD-Vi: Event logged [IO_PAGE_FAULT device=%s domain=0x%04x "
               "address=0x%llx flags=0x%04x]\n", dev, domain_id, (unsigned long long)address,
               flags);
    }
}

/* iommu_print_event, per version. */
static void print_event(struct host_amd_iommu *a, struct amd_unit *u, uint8_t *evt)
{
    enum host_amd_msg m = a->kv->amd_msg;
    uint32_t ev[4] = {rd32(evt), rd32(evt + 4), rd32(evt + 8), rd32(evt + 12)};
    unsigned type = (ev[1] >> 28) & 0xf;
    uint16_t devid = ev[0] & 0xffff;
    unsigned flags = (ev[1] >> 16) & 0xfff;
    uint64_t address = (uint64_t)ev[3] << 32 | ev[2];
    char dev[24];
    fmt_dev(a, u, devid, dev, sizeof dev);

    if (type == 0) {
        /* the erratum loop: Linux re-reads for LOOP_TIMEOUT us; the model's
         * entries are complete when the tail moves, so this is final */
        amd_pr(a, 3, "AMD-Vi: No event written to event log\n");
        return;
    }
    a->events_printed++;
    if (m == HOST_AMD_MSG_4_9) {
        unsigned domid = ev[1] & 0xffff;
        /* printk(KERN_ERR "AMD-Vi: Event logged [") then the rest without a
         * level: the printk ring's 4.9 rules make two records of it */
        amd_pr(a, 3, "AMD-Vi: Event logged [");
        switch (type) {
        case AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY:
            amd_pr(a, -1, "ILLEGAL_DEV_TABLE_ENTRY device=%s address=0x%016llx flags=0x%04x]\n",
                   dev, (unsigned long long)address, flags);
            dump_dte_entry(a, devid);
            break;
        case AMDVI_EV_IO_PAGE_FAULT:
            amd_pr(a, -1, "IO_PAGE_FAULT device=%s domain=0x%04x address=0x%016llx "
                   "flags=0x%04x]\n", dev, domid, (unsigned long long)address, flags);
            break;
        case AMDVI_EV_DEV_TAB_HARDWARE_ERROR:
            amd_pr(a, -1, "DEV_TAB_HARDWARE_ERROR device=%s address=0x%016llx flags=0x%04x]\n",
                   dev, (unsigned long long)address, flags);
            break;
        case AMDVI_EV_PAGE_TAB_HARDWARE_ERROR:
            amd_pr(a, -1, "PAGE_TAB_HARDWARE_ERROR device=%s domain=0x%04x address=0x%016llx "
                   "flags=0x%04x]\n", dev, domid, (unsigned long long)address, flags);
            break;
        case AMDVI_EV_ILLEGAL_COMMAND_ERROR:
            amd_pr(a, -1, "ILLEGAL_COMMAND_ERROR address=0x%016llx]\n",
                   (unsigned long long)address);
            dump_command(a, u, address);
            break;
        case AMDVI_EV_COMMAND_HARDWARE_ERROR:
            amd_pr(a, -1, "COMMAND_HARDWARE_ERROR address=0x%016llx flags=0x%04x]\n",
                   (unsigned long long)address, flags);
            break;
        case AMDVI_EV_IOTLB_INV_TIMEOUT:
            amd_pr(a, -1, "IOTLB_INV_TIMEOUT device=%s address=0x%016llx]\n", dev,
                   (unsigned long long)address);
            break;
        case AMDVI_EV_INVALID_DEVICE_REQUEST:
            amd_pr(a, -1, "INVALID_DEVICE_REQUEST device=%s address=0x%016llx flags=0x%04x]\n",
                   dev, (unsigned long long)address, flags);
            break;
        default:
            amd_pr(a, 3, "UNKNOWN type=0x%02x]\n", type);
        }
        return;
    }

    bool v5 = m >= HOST_AMD_MSG_5_15;
    /* 4.20: PPR_PASID of the first quadword (u16 for IO_PAGE_FAULT);
     * 5.x: EVENT_DOMID_MASK_HI of dword 0 | EVENT_DOMID_MASK_LO of dword 1 */
    uint64_t q0 = (uint64_t)ev[1] << 32 | ev[0];
    unsigned pasid = v5 ? ((ev[0] & 0xf0000) | (ev[1] & 0xffff))
                        : (unsigned)(((q0 >> 42) & 0xf) << 16 | ((q0 >> 16) & 0xffff));
    if (type == AMDVI_EV_IO_PAGE_FAULT) {
        report_page_fault(a, u, devid, (uint16_t)pasid, address, flags);
        return;
    }
    /* The others through dev_err on the IOMMU's sysfs device (class iommu,
     * name ivhdN); 4.20 in two records, 5.x in one. */
    char pre[32], addr[24];
    snprintf(pre, sizeof pre, "iommu %s: ", u->name);
    snprintf(addr, sizeof addr, v5 ? "0x%llx" : "0x%016llx", (unsigned long long)address);
    const char *ev_pre = v5 ? "AMD-Vi: Event logged [" : "";
    if (!v5)
        amd_pr(a, 3, "%sAMD-Vi: Event logged [\n", pre);
    switch (type) {
    case AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY:
        amd_pr(a, 3, "%s%sILLEGAL_DEV_TABLE_ENTRY device=%s pasid=0x%05x address=%s flags=0x%04x]\n",
               pre, ev_pre, dev, pasid, addr, flags);
        dump_dte_entry(a, devid);
        break;
    case AMDVI_EV_DEV_TAB_HARDWARE_ERROR:
        amd_pr(a, 3, "%s%sDEV_TAB_HARDWARE_ERROR device=%s address=%s flags=0x%04x]\n", pre, ev_pre,
               dev, addr, flags);
        break;
    case AMDVI_EV_PAGE_TAB_HARDWARE_ERROR:
        amd_pr(a, 3, v5 ? "%s%sPAGE_TAB_HARDWARE_ERROR device=%s pasid=0x%04x address=%s flags=0x%04x]\n"
                        : "%s%sPAGE_TAB_HARDWARE_ERROR device=%s domain=0x%04x address=%s flags=0x%04x]\n",
               pre, ev_pre, dev, v5 ? pasid : (pasid & 0xffff), addr, flags);
        break;
    case AMDVI_EV_ILLEGAL_COMMAND_ERROR:
        amd_pr(a, 3, "%s%sILLEGAL_COMMAND_ERROR address=%s]\n", pre, ev_pre, addr);
        dump_command(a, u, address);
        break;
    case AMDVI_EV_COMMAND_HARDWARE_ERROR:
        amd_pr(a, 3, "%s%sCOMMAND_HARDWARE_ERROR address=%s flags=0x%04x]\n", pre, ev_pre, addr,
               flags);
        break;
    case AMDVI_EV_IOTLB_INV_TIMEOUT:
        amd_pr(a, 3, "%s%sIOTLB_INV_TIMEOUT device=%s address=%s]\n", pre, ev_pre, dev, addr);
        break;
    case AMDVI_EV_INVALID_DEVICE_REQUEST:
        amd_pr(a, 3, "%s%sINVALID_DEVICE_REQUEST device=%s pasid=0x%05x address=%s flags=0x%04x]\n",
               pre, ev_pre, dev, pasid, addr, flags);
        break;
    case AMDVI_EV_INVALID_PPR_REQUEST: {
        unsigned ppasid = v5 ? pasid : (((ev[0] >> 16) & 0xffff) | ((ev[1] << 6) & 0xf0000));
        if (v5)
            amd_pr(a, 3, "%s%sINVALID_PPR_REQUEST device=%s pasid=0x%05x address=%s flags=0x%04x "
                   "tag=0x%03x]\n", pre, ev_pre, dev, ppasid, addr, flags, ev[1] & 0x3ff);
        else
            amd_pr(a, 3, "%sINVALID_PPR_REQUEST device=%s pasid=0x%05x address=%s flags=0x%04x]\n",
                   pre, dev, ppasid, addr, flags);
        break;
    }
    default:
        amd_pr(a, 3, "%s%sUNKNOWN event[0]=0x%08x event[1]=0x%08x event[2]=0x%08x "
               "event[3]=0x%08x\n", pre, ev_pre, ev[0], ev[1], ev[2], ev[3]);
    }
}

static void poll_events(struct host_amd_iommu *a, struct amd_unit *u)
{
    uint32_t head = amd_mmio_read32(u, AMDVI_REG_EVT_HEAD);
    uint32_t tail = amd_mmio_read32(u, AMDVI_REG_EVT_TAIL);
    if (head == ~0u || tail == ~0u)
        return;
    head %= AMD_EVT_BUFFER_SIZE;
    tail %= AMD_EVT_BUFFER_SIZE;
    while (head != tail) {
        print_event(a, u, u->evt_buf + head);
        memset(u->evt_buf + head, 0, 16);
        head = (head + 16) % AMD_EVT_BUFFER_SIZE;
    }
    amd_mmio_write32(u, AMDVI_REG_EVT_HEAD, head);
}

/* amd_iommu_int_thread (the hard handler only wakes the thread) */
static irqreturn_t amd_iommu_int(int irq, void *data)
{
    (void)irq;
    struct amd_unit *u = data;
    struct host_amd_iommu *a = u->drv;
    /* AMD_IOMMU_INT_MASK: EVT_INT | PPR_INT | GALOG_INT, + EVT_OVERFLOW (5.x) */
    uint32_t mask = (uint32_t)(AMDVI_ST_EVENT_LOG_INT | AMDVI_ST_PPR_INT | AMDVI_ST_GA_INT);
    if (a->kv->amd_evt_overflow_restart)
        mask |= (uint32_t)AMDVI_ST_EVENT_OVERFLOW;
    uint32_t status = amd_mmio_read32(u, AMDVI_REG_STATUS);
    for (unsigned guard = 0; (status & mask) && status != ~0u && guard < 64; guard++) {
        amd_mmio_write32(u, AMDVI_REG_STATUS, mask);
        if (status & AMDVI_ST_EVENT_LOG_INT)
            poll_events(a, u);
        if ((status & AMDVI_ST_EVENT_OVERFLOW) && a->kv->amd_evt_overflow_restart) {
            if (amd_ratelimit(a, &a->ovf_rs))
                amd_pr(a, 6, "AMD-Vi: IOMMU event log overflow\n");
            /* amd_iommu_restart_event_logging */
            uint64_t ctrl = amd_mmio_read64(u, AMDVI_REG_CONTROL);
            amd_mmio_write64(u, AMDVI_REG_CONTROL, ctrl & ~AMDVI_CTL_EVENT_LOG_EN);
            amd_mmio_write64(u, AMDVI_REG_CONTROL, ctrl | AMDVI_CTL_EVENT_LOG_EN);
        }
        status = amd_mmio_read32(u, AMDVI_REG_STATUS);
    }
    return IRQ_HANDLED;
}

/* iommu_init_msi: pci_enable_msi on the IOMMU's function, the threaded
 * handler "AMD-Vi", then EventIntEn. */
int amd_setup_interrupts(struct host_amd_iommu *a, struct amd_unit *u, struct pcilab_err *err)
{
    (void)a;
    if (!u->dev->msi_cap)
        return pcilab_errf(err, PCILAB_ENOENT,
                           "the IOMMU at %s has no MSI capability: Linux's iommu_init_msi fails "
                           "(-ENODEV) and AMD-Vi initialisation with it", dev_name(&u->dev->dev));
    int r = pci_enable_msi(u->dev);
    if (r < 0)
        return pcilab_errf(err, PCILAB_EIO, "pci_enable_msi on the IOMMU %s failed (%d)",
                           dev_name(&u->dev->dev), r);
    u->irq = (int)u->dev->irq;
    r = request_irq(u->dev->irq, amd_iommu_int, 0, "AMD-Vi", u);
    if (r < 0)
        return pcilab_errf(err, PCILAB_EIO, "request_irq for the IOMMU failed (%d)", r);
    uint64_t ctrl = amd_mmio_read64(u, AMDVI_REG_CONTROL);
    amd_mmio_write64(u, AMDVI_REG_CONTROL, ctrl | AMDVI_CTL_EVENT_INT_EN);
    return 0;
}

/* ---- Interrupt remapping ---- */

static size_t irte_size(const struct host_amd_iommu *a)
{
    return a->ga ? AMDVI_IRTE128_SIZE : AMDVI_IRTE32_SIZE;
}

/* set_dte_irq_entry: IRT root, IntCtl = remapped, IntTabLen = 8, IV */
static void set_dte_irq_entry(struct host_amd_iommu *a, uint16_t devid, const struct amd_irt *t)
{
    uint64_t *e = amd_dte(a, devid);
    const uint64_t addr_mask = ((1ull << 45) - 1) << 6; /* DTE_IRQ_PHYS_ADDR_MASK */
    uint64_t v = e[2] & ~addr_mask;
    v |= t->pa;
    v |= 2ull << 60; /* DTE_IRQ_REMAP_INTCTL */
    v |= 8ull << 1;  /* DTE_IRQ_TABLE_LEN */
    v |= 1ull;       /* DTE_IRQ_REMAP_ENABLE */
    e[2] = v;
}

static struct amd_irt *get_irq_table(struct host_amd_iommu *a, uint16_t devid)
{
    int ui = a->lx->dev[devid].iommu;
    if (ui < 0)
        return NULL;
    struct amd_unit *u = &a->unit[ui];
    if (a->irq_table[devid])
        return a->irq_table[devid];
    uint16_t alias = a->lx->dev[devid].alias;
    struct amd_irt *t = a->irq_table[alias];
    if (t) {
        a->irq_table[devid] = t;
        set_dte_irq_entry(a, devid, t);
        amd_flush_dte(u, devid);
        amd_completion_wait(u);
        return t;
    }
    t = calloc(1, sizeof *t);
    if (t && amd_own(a, t) < 0) {
        free(t);
        t = NULL;
    }
    if (!t)
        return NULL;
    /* kmem_cache of MAX_IRQS_PER_TABLE entries, aligned to 128 bytes: a page
     * (the model's allocator has no such cache; the address differs) */
    t->table = host_alloc_pages(a->k, GFP_KERNEL | __GFP_ZERO, 0, &t->pa);
    if (!t->table)
        return NULL; /* t is owned: freed at teardown */
    a->irq_table[devid] = t;
    set_dte_irq_entry(a, devid, t);
    amd_flush_dte(u, devid);
    if (devid != alias) {
        a->irq_table[alias] = t;
        set_dte_irq_entry(a, alias, t);
        amd_flush_dte(u, alias);
    }
    amd_completion_wait(u);
    return t;
}

static bool irte_is_allocated(struct host_amd_iommu *a, struct amd_irt *t, unsigned i)
{
    uint8_t *e = (uint8_t *)t->table + i * irte_size(a);
    if (a->ga)
        return e[8] != 0; /* hi.fields.vector */
    return rd32(e) != 0;
}

static void irte_set_allocated(struct host_amd_iommu *a, struct amd_irt *t, unsigned i)
{
    uint8_t *e = (uint8_t *)t->table + i * irte_size(a);
    if (a->ga) {
        memset(e, 0, 16);
        e[8] = 0xff; /* irte_ga_set_allocated: hi.fields.vector = 0xff */
    } else {
        uint32_t v = ~1u; /* IRTE_ALLOCATED */
        memcpy(e, &v, 4);
    }
}

/* alloc_irq_index: the first run of count free entries (4.20+: starting at
 * a multiple of roundup_pow_of_two(count) when align). */
static int alloc_irq_index(struct host_amd_iommu *a, uint16_t devid, unsigned count, bool align)
{
    struct amd_irt *t = get_irq_table(a, devid);
    if (!t)
        return -ENODEV;
    unsigned alignment = 1;
    if (align)
        while (alignment < count)
            alignment <<= 1;
    unsigned c = 0;
    for (unsigned index = (t->min_index + alignment - 1) & ~(alignment - 1);
         index < AMD_MAX_IRQS_PER_TABLE;) {
        if (!irte_is_allocated(a, t, index)) {
            c++;
        } else {
            c = 0;
            index = (index + 1 + alignment - 1) & ~(alignment - 1);
            continue;
        }
        if (c == count) {
            for (; c; c--)
                irte_set_allocated(a, t, index - c + 1);
            return (int)(index - (count - 1));
        }
        index++;
    }
    return -ENOSPC;
}

/* irte_prepare / irte_ga_prepare + modify_irte(_ga): the delivery mode,
 * destination mode and destination the kernel's APIC driver uses for the IRQ
 * (apic->irq_delivery_mode / irq_dest_mode: flat logical lowest priority to
 * every CPU in 4.9, fixed to 1 << cpu later; irq.h), RemapEn. */
static void modify_irte(struct host_amd_iommu *a, struct amd_unit *u, uint16_t devid,
                        unsigned index, unsigned irq)
{
    struct amd_irt *t = a->irq_table[devid];
    uint8_t *e = (uint8_t *)t->table + index * irte_size(a);
    uint8_t dest;
    bool logical, lowest;
    host_irq_msg_target(a->k, irq, &dest, &logical, &lowest);
    struct amdvi_irte irte = {.remap_en = true,
                              .int_type = lowest ? AMDVI_DM_ARB : AMDVI_DM_FIXED,
                              .dm = logical, .vector = host_irq_desc(a->k, irq)->vector,
                              .destination = dest};
    if (a->ga) {
        uint8_t raw[16];
        amdvi_irte128_encode(&irte, raw);
        e[0] &= (uint8_t)~1u;          /* lo.fields_remap.valid = 0 */
        memcpy(e + 8, raw + 8, 8);     /* hi */
        memcpy(e, raw, 8);             /* lo, valid set with it */
    } else {
        uint32_t v = amdvi_irte32_encode(&irte);
        memcpy(e, &v, 4);
    }
    struct amdvi_cmd c = {.opcode = AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE, .devid = devid};
    amd_queue_command(u, &c);
    amd_completion_wait(u);
}

static void free_irte(struct host_amd_iommu *a, uint16_t devid, unsigned index)
{
    struct amd_irt *t = a->irq_table[devid];
    int ui = a->lx->dev[devid].iommu;
    if (!t || ui < 0)
        return;
    memset((uint8_t *)t->table + index * irte_size(a), 0, irte_size(a));
    struct amd_unit *u = &a->unit[ui];
    struct amdvi_cmd c = {.opcode = AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE, .devid = devid};
    amd_queue_command(u, &c);
    amd_completion_wait(u);
}

static bool remap_remaps(void *ctx, struct pci_dev *dev)
{
    struct host_amd_iommu *a = ctx;
    uint16_t devid = host_pci_bdf(dev);
    /* get_irq_domain: the IR domain when rlookup knows the requester ID */
    return a->irq_remap && devid <= a->last_bdf && a->lx->dev[devid].iommu >= 0;
}

static int remap_alloc(void *ctx, struct pci_dev *dev, unsigned irq_base, unsigned nvec, bool msix,
                       uint64_t *addr, uint32_t *data)
{
    struct host_amd_iommu *a = ctx;
    struct host_kernel *prev = host_enter(a->k);
    uint16_t devid = host_pci_bdf(dev);
    struct amd_unit *u = &a->unit[a->lx->dev[devid].iommu];
    int r = 0;
    /* multi-MSI is one irq_remapping_alloc of nvec; MSI-X one per vector */
    unsigned blocks = msix ? nvec : 1, per = msix ? 1 : nvec;
    for (unsigned b = 0; b < blocks; b++) {
        int index = alloc_irq_index(a, devid, per, a->kv->amd_irq_index_align && !msix);
        if (index < 0) {
            r = index;
            break;
        }
        for (unsigned i = 0; i < per; i++) {
            unsigned v = b * per + i;
            modify_irte(a, u, devid, (unsigned)index + i, irq_base + v);
            addr[v] = AMDVI_MSI_BASE; /* MSI_ADDR_BASE_LO: the destination is in the IRTE */
            data[v] = (uint32_t)index + i;
        }
    }
    host_leave(prev);
    return r;
}

static void remap_free(void *ctx, struct pci_dev *dev, unsigned nvec, bool msix)
{
    struct host_amd_iommu *a = ctx;
    struct host_kernel *prev = host_enter(a->k);
    uint16_t devid = host_pci_bdf(dev);
    /* the indices the device was given: from the messages the IRQ core keeps */
    for (unsigned i = 0; i < nvec; i++) {
        struct host_irq_desc *d = host_irq_desc(a->k, dev->irq + i);
        if (d)
            free_irte(a, devid, (msix ? d->msg_data : d->msg_data) & 0x7ff);
    }
    host_leave(prev);
}

void amd_irq_remap_init(struct host_amd_iommu *a)
{
    a->remap = (struct host_irq_remap){.ctx = a, .remaps = remap_remaps, .alloc = remap_alloc,
                                       .free = remap_free};
    host_irq_set_remap(a->k, &a->remap);
}

/* ---- Wiring the model's interrupt to the function's MSI ---- */

static void send_iommu_msi(void *ctx)
{
    pcie_fn_msi_send((struct pcie_fn *)ctx, 0, NULL);
}

void host_amd_iommu_wire_msi(struct amdvi_config *cfg, struct pcie_fn *iommu_fn)
{
    cfg->msi = send_iommu_msi;
    cfg->msi_ctx = iommu_fn;
}
