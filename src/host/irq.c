/* The host kernel's interrupt core (irq.h). */
#include "host/irq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcie/caps.h"
#include "pcie/config.h"
#include "pcie/route.h"

#define MSI_ADDR_BASE 0xfee00000u

struct host_irq {
    struct host_irq_desc desc[HOST_NR_IRQS];
    bool pending[HOST_NR_IRQS];      /* arrived while disabled */
    uint16_t *vector_irq;            /* [cpu * 256 + vector]: irq + 1, 0 = none */
    unsigned ncpus;
    struct host_irq_remap remap;
    bool has_remap;
    uint64_t lost;                   /* messages to no CPU / no vector */
};

static bool vector_reserved(unsigned v)
{
    /* 0x00-0x1f exceptions, 0x20 (IRQ_MOVE_CLEANUP_VECTOR), 0x30-0x3f the
     * legacy ISA vectors, 0x80 the 32-bit syscall gate, 0xec and up the
     * system vectors (arch/x86/include/asm/irq_vectors.h). */
    return v <= HOST_FIRST_EXTERNAL_VECTOR || (v >= 0x30 && v <= 0x3f) || v == 0x80 ||
           v >= HOST_FIRST_SYSTEM_VECTOR;
}

static void deliver_msg(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    (void)rid;
    host_irq_deliver_msi(ctx, addr, data);
}

int host_irq_init(struct host_kernel *k, struct pcilab_err *err)
{
    struct host_irq *q = calloc(1, sizeof *q);
    if (q)
        q->vector_irq = calloc((size_t)k->ncpus * HOST_NR_VECTORS, sizeof *q->vector_irq);
    if (!q || !q->vector_irq) {
        free(q);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the interrupt tables");
    }
    q->ncpus = k->ncpus;
    for (unsigned i = 0; i < HOST_NR_IRQS; i++)
        q->desc[i].irq = i;
    k->irq = q;
    pcie_fabric_set_interrupt_sink(k->fabric, deliver_msg, k);
    return 0;
}

void host_irq_destroy(struct host_kernel *k)
{
    if (!k->irq)
        return;
    free(k->irq->vector_irq);
    free(k->irq);
    k->irq = NULL;
}

void host_irq_set_remap(struct host_kernel *k, const struct host_irq_remap *r)
{
    if (r) {
        k->irq->remap = *r;
        k->irq->has_remap = true;
    } else {
        memset(&k->irq->remap, 0, sizeof k->irq->remap);
        k->irq->has_remap = false;
    }
}

struct host_irq_desc *host_irq_desc(struct host_kernel *k, unsigned irq)
{
    if (!k->irq || irq >= HOST_NR_IRQS || !k->irq->desc[irq].used)
        return NULL;
    return &k->irq->desc[irq];
}

/* ---- Vectors ---- */

static unsigned free_vectors(const struct host_irq *q, unsigned cpu)
{
    unsigned n = 0;
    for (unsigned v = 0; v < HOST_NR_VECTORS; v++)
        if (!vector_reserved(v) && !q->vector_irq[cpu * HOST_NR_VECTORS + v])
            n++;
    return n;
}

/* irq_matrix_alloc: the CPU with the most free vectors, its lowest free one. */
static int assign_vector(struct host_irq *q, unsigned irq)
{
    unsigned best = 0, most = 0;
    for (unsigned c = 0; c < q->ncpus; c++) {
        unsigned n = free_vectors(q, c);
        if (n > most) {
            most = n;
            best = c;
        }
    }
    if (!most)
        return -ENOSPC;
    for (unsigned v = 0; v < HOST_NR_VECTORS; v++)
        if (!vector_reserved(v) && !q->vector_irq[best * HOST_NR_VECTORS + v]) {
            q->vector_irq[best * HOST_NR_VECTORS + v] = (uint16_t)(irq + 1);
            q->desc[irq].cpu = best;
            q->desc[irq].vector = (uint8_t)v;
            return 0;
        }
    return -ENOSPC;
}

static void release(struct host_irq *q, unsigned irq)
{
    struct host_irq_desc *d = &q->desc[irq];
    if (!d->used)
        return;
    q->vector_irq[d->cpu * HOST_NR_VECTORS + d->vector] = 0;
    memset(d, 0, sizeof *d);
    d->irq = irq;
    q->pending[irq] = false;
}

int host_irq_alloc(struct host_kernel *k, unsigned n)
{
    struct host_irq *q = k->irq;
    if (!n)
        return -EINVAL;
    /* __irq_alloc_descs: the lowest free range above the GSIs */
    for (unsigned base = HOST_IRQ_GSI_TOP; base + n <= HOST_NR_IRQS; base++) {
        unsigned i;
        for (i = 0; i < n && !q->desc[base + i].used; i++)
            ;
        if (i < n) {
            base += i;
            continue;
        }
        for (i = 0; i < n; i++) {
            q->desc[base + i].used = true;
            q->desc[base + i].masked = true;
            if (assign_vector(q, base + i) < 0) {
                while (i-- > 0)
                    release(q, base + i);
                q->desc[base].used = false;
                return -ENOSPC;
            }
        }
        return (int)base;
    }
    return -ENOSPC;
}

void host_irq_free(struct host_kernel *k, unsigned irq, unsigned n)
{
    for (unsigned i = 0; i < n && irq + i < HOST_NR_IRQS; i++)
        release(k->irq, irq + i);
}

/* ---- Delivery ---- */

static void run_handler(void *ctx, uint64_t irq)
{
    struct host_kernel *k = ctx;
    struct host_irq_desc *d = &k->irq->desc[irq];
    if (!d->used || !d->handler)
        return;
    struct host_kernel *prev = host_enter(k);
    irqreturn_t r = d->handler((int)irq, d->dev_id);
    host_leave(prev);
    d->count++;
    if (r == IRQ_NONE)
        d->spurious++;
}

void host_irq_deliver_msi(struct host_kernel *k, uint64_t addr, uint32_t data)
{
    struct host_irq *q = k->irq;
    unsigned cpu = (unsigned)(addr >> 12) & 0xff;
    unsigned vector = data & 0xff;
    if ((addr & 0xfff00000u) != MSI_ADDR_BASE || cpu >= q->ncpus) {
        q->lost++;
        return;
    }
    unsigned irq1 = q->vector_irq[cpu * HOST_NR_VECTORS + vector];
    if (!irq1) {
        /* arch/x86/kernel/irq.c: a vector with no descriptor */
        q->lost++;
        host_printk(k, KERN_EMERG "do_IRQ: %u.%u No irq handler for vector\n", cpu, vector);
        return;
    }
    unsigned irq = irq1 - 1;
    struct host_irq_desc *d = &q->desc[irq];
    if (d->masked) {
        q->pending[irq] = true;
        return;
    }
    sim_after(k->sim, 0, run_handler, k, irq);
}

/* ---- MSI programming (drivers/pci/msi.c) ---- */

static unsigned msi_mask_off(struct pci_dev *dev, uint16_t ctrl)
{
    return dev->msi_cap + ((ctrl & PCIE_MSI_CTRL_64BIT) ? 0x10u : 0x0cu);
}

static unsigned msi_data_off(struct pci_dev *dev, uint16_t ctrl)
{
    return dev->msi_cap + ((ctrl & PCIE_MSI_CTRL_64BIT) ? 0x0cu : 0x08u);
}

int pci_msi_vec_count(struct pci_dev *dev)
{
    uint16_t ctrl;
    if (!dev->msi_cap)
        return -EINVAL;
    pci_read_config_word(dev, dev->msi_cap + PCIE_MSI_CTRL, &ctrl);
    return 1 << ((ctrl & PCIE_MSI_CTRL_MMC_MASK) >> PCIE_MSI_CTRL_MMC_SHIFT);
}

static int msix_vec_count(struct pci_dev *dev)
{
    uint16_t ctrl;
    if (!dev->msix_cap)
        return -EINVAL;
    pci_read_config_word(dev, dev->msix_cap + PCIE_MSIX_CTRL, &ctrl);
    return (ctrl & PCIE_MSIX_CTRL_SIZE_MASK) + 1;
}

/* Where MSI-X entry n lives in physical memory (the BAR's address). */
static uint64_t msix_entry_addr(struct pci_dev *dev, unsigned n)
{
    uint32_t table;
    pci_read_config_dword(dev, dev->msix_cap + PCIE_MSIX_TABLE, &table);
    return pci_resource_start(dev, (int)(table & 7)) + (table & ~7u) + 16ull * n;
}

static void msix_write(struct pci_dev *dev, uint64_t pa, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    pcie_host_mem_write(dev->dev.kernel->fabric, pa, b, 4);
}

static void set_vector_mask(struct pci_dev *dev, unsigned index, bool mask)
{
    if (dev->msix_enabled) {
        msix_write(dev, msix_entry_addr(dev, index) + 12, mask ? 1 : 0);
        return;
    }
    uint16_t ctrl;
    pci_read_config_word(dev, dev->msi_cap + PCIE_MSI_CTRL, &ctrl);
    if (!(ctrl & PCIE_MSI_CTRL_PVM))
        return;
    uint32_t bits;
    pci_read_config_dword(dev, (int)msi_mask_off(dev, ctrl), &bits);
    bits = mask ? bits | (1u << index) : bits & ~(1u << index);
    pci_write_config_dword(dev, (int)msi_mask_off(dev, ctrl), bits);
}

/* Messages for n vectors whose IRQs start at base: through the remapper when
 * it handles the device, else composed for the CPU and vector directly. */
static int compose(struct host_kernel *k, struct pci_dev *dev, unsigned base, unsigned n,
                   bool msix, uint64_t *addr, uint32_t *data)
{
    struct host_irq *q = k->irq;
    unsigned cpu[32];
    uint8_t vec[32];
    for (unsigned i = 0; i < n; i++) {
        cpu[i] = q->desc[base + i].cpu;
        vec[i] = q->desc[base + i].vector;
    }
    if (dev->msi_remapped)
        return q->remap.alloc(q->remap.ctx, dev, n, msix, cpu, vec, addr, data);
    for (unsigned i = 0; i < n; i++) {
        /* physical destination, fixed delivery, edge */
        addr[i] = MSI_ADDR_BASE | (uint64_t)cpu[i] << 12;
        data[i] = vec[i];
    }
    return 0;
}

static int msi_setup(struct pci_dev *dev, unsigned nvec)
{
    struct host_kernel *k = dev->dev.kernel;
    uint16_t ctrl;
    pci_read_config_word(dev, dev->msi_cap + PCIE_MSI_CTRL, &ctrl);
    /* msi_capability_init: MSI off while it is set up */
    pci_write_config_word(dev, dev->msi_cap + PCIE_MSI_CTRL, ctrl & ~PCIE_MSI_CTRL_ENABLE);
    int base = host_irq_alloc(k, nvec);
    if (base < 0)
        return base;
    uint64_t addr[32];
    uint32_t data[32];
    int r = compose(k, dev, (unsigned)base, nvec, false, addr, data);
    if (r < 0) {
        host_irq_free(k, (unsigned)base, nvec);
        return r;
    }
    /* Per-vector masks set before enabling; request_irq clears them. */
    if (ctrl & PCIE_MSI_CTRL_PVM)
        pci_write_config_dword(dev, (int)msi_mask_off(dev, ctrl), (nvec >= 32) ? ~0u :
                               (1u << nvec) - 1);
    pci_write_config_dword(dev, dev->msi_cap + PCIE_MSI_ADDR_LO, (uint32_t)addr[0]);
    if (ctrl & PCIE_MSI_CTRL_64BIT)
        pci_write_config_dword(dev, dev->msi_cap + 8, (uint32_t)(addr[0] >> 32));
    pci_write_config_word(dev, (int)msi_data_off(dev, ctrl), (uint16_t)data[0]);
    unsigned mme = 0;
    while ((1u << mme) < nvec)
        mme++;
    ctrl = (uint16_t)((ctrl & ~PCIE_MSI_CTRL_MME_MASK) | mme << PCIE_MSI_CTRL_MME_SHIFT);
    /* pci_intx_for_msi: INTx off */
    uint16_t cmd;
    pci_read_config_word(dev, PCIE_CFG_COMMAND, &cmd);
    if (!(cmd & PCIE_CMD_INTX_DISABLE))
        pci_write_config_word(dev, PCIE_CFG_COMMAND, cmd | PCIE_CMD_INTX_DISABLE);
    pci_write_config_word(dev, dev->msi_cap + PCIE_MSI_CTRL, ctrl | PCIE_MSI_CTRL_ENABLE);
    for (unsigned i = 0; i < nvec; i++) {
        struct host_irq_desc *d = &k->irq->desc[base + (int)i];
        d->pdev = dev;
        d->msi_index = i;
        d->msg_addr = addr[0];
        d->msg_data = data[0] | i;
    }
    dev->msi_enabled = true;
    dev->irq = (unsigned)base;
    dev->nvec = nvec;
    return 0;
}

static int msix_setup(struct pci_dev *dev, unsigned nvec)
{
    struct host_kernel *k = dev->dev.kernel;
    uint16_t ctrl;
    pci_read_config_word(dev, dev->msix_cap + PCIE_MSIX_CTRL, &ctrl);
    /* msix_capability_init: enabled with the whole function masked */
    pci_write_config_word(dev, dev->msix_cap + PCIE_MSIX_CTRL,
                          ctrl | PCIE_MSIX_CTRL_MASKALL | PCIE_MSIX_CTRL_ENABLE);
    int base = host_irq_alloc(k, nvec);
    if (base < 0)
        return base;
    uint64_t addr[32];
    uint32_t data[32];
    int r = compose(k, dev, (unsigned)base, nvec, true, addr, data);
    if (r < 0) {
        host_irq_free(k, (unsigned)base, nvec);
        pci_write_config_word(dev, dev->msix_cap + PCIE_MSIX_CTRL, ctrl);
        return r;
    }
    for (unsigned i = 0; i < nvec; i++) {
        uint64_t e = msix_entry_addr(dev, i);
        msix_write(dev, e + 12, 1);
        msix_write(dev, e, (uint32_t)addr[i]);
        msix_write(dev, e + 4, (uint32_t)(addr[i] >> 32));
        msix_write(dev, e + 8, data[i]);
        struct host_irq_desc *d = &k->irq->desc[base + (int)i];
        d->pdev = dev;
        d->msi_index = i;
        d->msg_addr = addr[i];
        d->msg_data = data[i];
    }
    uint16_t cmd;
    pci_read_config_word(dev, PCIE_CFG_COMMAND, &cmd);
    if (!(cmd & PCIE_CMD_INTX_DISABLE))
        pci_write_config_word(dev, PCIE_CFG_COMMAND, cmd | PCIE_CMD_INTX_DISABLE);
    pci_write_config_word(dev, dev->msix_cap + PCIE_MSIX_CTRL,
                          (ctrl | PCIE_MSIX_CTRL_ENABLE) & ~PCIE_MSIX_CTRL_MASKALL);
    dev->msix_enabled = true;
    dev->irq = (unsigned)base;
    dev->nvec = nvec;
    return 0;
}

/* __pci_enable_msi_range / __pci_enable_msix_range. */
static int enable_range(struct pci_dev *dev, unsigned minv, unsigned maxv, bool msix)
{
    struct host_kernel *k = dev->dev.kernel;
    if (dev->msi_enabled || dev->msix_enabled)
        return -EINVAL;
    int avail = msix ? msix_vec_count(dev) : pci_msi_vec_count(dev);
    if (avail < 0)
        return avail;
    if ((unsigned)avail < minv)
        return -ENOSPC;
    unsigned nvec = maxv < (unsigned)avail ? maxv : (unsigned)avail;
    if (nvec > 32)
        nvec = 32;
    dev->msi_remapped = k->irq->has_remap && k->irq->remap.remaps(k->irq->remap.ctx, dev);
    for (;;) {
        if (nvec < minv)
            return -ENOSPC;
        /* pci_msi_domain_check_cap: without MSI_FLAG_MULTI_PCI_MSI (only the
         * remapping MSI domain has it on x86) a multi-vector MSI request is
         * answered "1": retry with one vector. MSI-X has no such limit. */
        if (!msix && nvec > 1 && !dev->msi_remapped) {
            nvec = 1;
            continue;
        }
        int r = msix ? msix_setup(dev, nvec) : msi_setup(dev, nvec);
        if (r < 0)
            return r;
        return (int)nvec;
    }
}

int pci_alloc_irq_vectors(struct pci_dev *dev, unsigned int min_vecs, unsigned int max_vecs,
                          unsigned int flags)
{
    if (!min_vecs || max_vecs < min_vecs)
        return -EINVAL;
    int r = -ENOSPC;
    if ((flags & PCI_IRQ_MSIX) && dev->msix_cap) {
        r = enable_range(dev, min_vecs, max_vecs, true);
        if (r > 0)
            return r;
    }
    if ((flags & PCI_IRQ_MSI) && dev->msi_cap) {
        r = enable_range(dev, min_vecs, max_vecs, false);
        if (r > 0)
            return r;
    }
    /* Legacy INTx: one vector, the pin's routed IRQ. I/O APIC routing is not
     * modelled, so a device without MSI gets no interrupt here. */
    if ((flags & PCI_IRQ_LEGACY) && min_vecs == 1 && dev->pin)
        return -ENOSYS;
    return r;
}

int pci_enable_msi(struct pci_dev *dev)
{
    int r = enable_range(dev, 1, 1, false);
    return r < 0 ? r : 0;
}

void pci_free_irq_vectors(struct pci_dev *dev)
{
    struct host_kernel *k = dev->dev.kernel;
    if (!dev->msi_enabled && !dev->msix_enabled)
        return;
    bool msix = dev->msix_enabled;
    if (msix) {
        uint16_t ctrl;
        pci_read_config_word(dev, dev->msix_cap + PCIE_MSIX_CTRL, &ctrl);
        pci_write_config_word(dev, dev->msix_cap + PCIE_MSIX_CTRL, ctrl & ~PCIE_MSIX_CTRL_ENABLE);
    } else {
        uint16_t ctrl;
        pci_read_config_word(dev, dev->msi_cap + PCIE_MSI_CTRL, &ctrl);
        pci_write_config_word(dev, dev->msi_cap + PCIE_MSI_CTRL,
                              ctrl & ~(PCIE_MSI_CTRL_ENABLE | PCIE_MSI_CTRL_MME_MASK));
    }
    if (dev->msi_remapped && k->irq->remap.free)
        k->irq->remap.free(k->irq->remap.ctx, dev, dev->nvec, msix);
    host_irq_free(k, dev->irq, dev->nvec);
    dev->msi_enabled = dev->msix_enabled = false;
    dev->nvec = 0;
    dev->irq = 0;
}

void pci_disable_msi(struct pci_dev *dev)
{
    if (dev->msi_enabled)
        pci_free_irq_vectors(dev);
}

int pci_irq_vector(struct pci_dev *dev, unsigned int nr)
{
    if ((dev->msi_enabled || dev->msix_enabled) && nr < dev->nvec)
        return (int)(dev->irq + nr);
    if (!dev->msi_enabled && !dev->msix_enabled && nr == 0 && dev->irq)
        return (int)dev->irq;
    return -EINVAL;
}

/* ---- request_irq ---- */

static struct host_irq_desc *desc_of(unsigned irq)
{
    struct host_kernel *k = host_current();
    return k ? host_irq_desc(k, irq) : NULL;
}

static void unmask(struct host_kernel *k, struct host_irq_desc *d)
{
    d->masked = false;
    if (d->pdev)
        set_vector_mask(d->pdev, d->msi_index, false);
    if (k->irq->pending[d->irq]) {
        k->irq->pending[d->irq] = false;
        sim_after(k->sim, 0, run_handler, k, d->irq);
    }
}

int request_irq(unsigned int irq, irq_handler_t handler, unsigned long flags, const char *name,
                void *dev_id)
{
    (void)flags;
    struct host_kernel *k = host_current();
    struct host_irq_desc *d = desc_of(irq);
    if (!d || !handler)
        return -EINVAL;
    if (d->handler)
        return -EBUSY;
    d->handler = handler;
    d->dev_id = dev_id;
    d->name = name;
    unmask(k, d);
    return 0;
}

const void *free_irq(unsigned int irq, void *dev_id)
{
    struct host_kernel *k = host_current();
    struct host_irq_desc *d = desc_of(irq);
    if (!d || !d->handler || d->dev_id != dev_id) {
        if (k)
            host_printk(k, KERN_WARNING "Trying to free already-free IRQ %u\n", irq);
        return NULL;
    }
    const char *name = d->name;
    d->handler = NULL;
    d->dev_id = NULL;
    d->name = NULL;
    d->masked = true;
    if (d->pdev)
        set_vector_mask(d->pdev, d->msi_index, true);
    return name;
}

void disable_irq(unsigned int irq)
{
    struct host_irq_desc *d = desc_of(irq);
    if (d)
        d->masked = true;
}

void enable_irq(unsigned int irq)
{
    struct host_kernel *k = host_current();
    struct host_irq_desc *d = desc_of(irq);
    if (d && d->handler)
        unmask(k, d);
}
