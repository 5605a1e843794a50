/* The host kernel's interrupt core (irq.h). */
#include "host/irq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcie/caps.h"
#include "pcie/config.h"
#include "pcie/route.h"

#define MSI_ADDR_BASE 0xfee00000u

/* vector_irq values besides irq + 1 */
#define VEC_FREE 0u
#define VEC_SYSTEM 0xffffu           /* exceptions, system vectors, legacy ISA */
#define VEC_SHUTDOWN 0xfffeu         /* freed, 5.x: the first stray is silent */

struct host_irq {
    struct host_irq_desc desc[HOST_NR_IRQS];
    bool pending[HOST_NR_IRQS];      /* arrived while disabled */
    uint16_t *vector_irq;            /* [cpu * 256 + vector] */
    unsigned ncpus;
    enum host_irq_flavour flavour;
    unsigned first_system;           /* 0xef (4.9), 0xec (matrix) */
    unsigned cursor_vector, cursor_offset; /* 4.9 __assign_irq_vector state */
    struct host_irq_remap remap;
    bool has_remap;
    uint64_t lost;                   /* messages to no CPU / no vector */
};

/* The vectors nobody may allocate (arch/x86/include/asm/irq_vectors.h,
 * kernel/traps.c used_vectors, apic/vector.c lapic_assign_system_vectors):
 * 0x00-0x1f exceptions, 0x20 IRQ_MOVE_CLEANUP_VECTOR, 0x80 the syscall gate,
 * the system vectors from first_system up; and the legacy ISA vectors
 * 0x30 + irq: in 4.9 busy on every CPU (init_IRQ, setup_vector_irq); with the
 * matrix allocator 0x32 (the cascade) is a system vector everywhere and only
 * the timer's 0x30 stays assigned, on CPU0 (vector_configure_legacy frees the
 * others until their IRQ is activated: pcilab activates none of them). */
static void mark_system(struct host_irq *q)
{
    for (unsigned c = 0; c < q->ncpus; c++) {
        uint16_t *t = q->vector_irq + c * HOST_NR_VECTORS;
        for (unsigned v = 0; v < HOST_NR_VECTORS; v++) {
            bool sys = v <= HOST_FIRST_EXTERNAL_VECTOR || v == 0x80 || v >= q->first_system;
            if (q->flavour == HOST_IRQ_4_9)
                sys = sys || (v >= 0x30 && v <= 0x3f);
            else
                sys = sys || v == 0x32 || (c == 0 && v == 0x30);
            if (sys)
                t[v] = VEC_SYSTEM;
        }
    }
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
    q->flavour = k->kver->irq;
    q->first_system = q->flavour == HOST_IRQ_4_9 ? 0xef : HOST_FIRST_SYSTEM_VECTOR;
    q->cursor_vector = HOST_FIRST_EXTERNAL_VECTOR + 1; /* + VECTOR_OFFSET_START */
    q->cursor_offset = 1;
    mark_system(q);
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
    for (unsigned v = 0; v < HOST_NR_VECTORS; v++) {
        uint16_t e = q->vector_irq[cpu * HOST_NR_VECTORS + v];
        if (e == VEC_FREE || e == VEC_SHUTDOWN)
            n++;
    }
    return n;
}

static bool vec_free(const struct host_irq *q, unsigned cpu, unsigned v)
{
    uint16_t e = q->vector_irq[cpu * HOST_NR_VECTORS + v];
    return e == VEC_FREE || e == VEC_SHUTDOWN;
}

/* 4.9 __assign_irq_vector with the flat APIC driver: the allocation domain is
 * every CPU, so a vector must be free on all of them and is taken on all. */
static int assign_vector_4_9(struct host_irq *q, unsigned irq)
{
    unsigned vector = q->cursor_vector, offset = q->cursor_offset;
    for (;;) {
        vector += 16;
        if (vector >= q->first_system) {
            offset = (offset + 1) % 16;
            vector = HOST_FIRST_EXTERNAL_VECTOR + offset;
        }
        if (vector == q->cursor_vector)
            return -ENOSPC;
        bool ok = true;
        for (unsigned c = 0; c < q->ncpus && ok; c++)
            ok = vec_free(q, c, vector);
        if (!ok)
            continue;
        q->cursor_vector = vector;
        q->cursor_offset = offset;
        for (unsigned c = 0; c < q->ncpus; c++)
            q->vector_irq[c * HOST_NR_VECTORS + vector] = (uint16_t)(irq + 1);
        q->desc[irq].cpu = 0;
        q->desc[irq].all_cpus = true;
        q->desc[irq].vector = (uint8_t)vector;
        return 0;
    }
}

/* irq_matrix_alloc: matrix_find_best_cpu (most available, the lowest CPU
 * number on a tie), then the lowest free vector from 0x20 on it. */
static int assign_vector_matrix(struct host_irq *q, unsigned irq)
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
    for (unsigned v = HOST_FIRST_EXTERNAL_VECTOR; v < q->first_system; v++)
        if (vec_free(q, best, v)) {
            q->vector_irq[best * HOST_NR_VECTORS + v] = (uint16_t)(irq + 1);
            q->desc[irq].cpu = best;
            q->desc[irq].all_cpus = false;
            q->desc[irq].vector = (uint8_t)v;
            return 0;
        }
    return -ENOSPC;
}

static int assign_vector(struct host_irq *q, unsigned irq)
{
    return q->flavour == HOST_IRQ_4_9 ? assign_vector_4_9(q, irq) : assign_vector_matrix(q, irq);
}

static void clear_vector(struct host_irq *q, unsigned irq)
{
    struct host_irq_desc *d = &q->desc[irq];
    if (d->reserved)
        return;
    uint16_t mark = q->flavour == HOST_IRQ_5_X ? VEC_SHUTDOWN : VEC_FREE;
    for (unsigned c = 0; c < q->ncpus; c++)
        if (d->all_cpus || c == d->cpu) {
            uint16_t *e = &q->vector_irq[c * HOST_NR_VECTORS + d->vector];
            if (*e == irq + 1)
                *e = mark;
        }
}

static void release(struct host_irq *q, unsigned irq)
{
    struct host_irq_desc *d = &q->desc[irq];
    if (!d->used)
        return;
    clear_vector(q, irq);
    memset(d, 0, sizeof *d);
    d->irq = irq;
    q->pending[irq] = false;
}

void host_irq_msg_target(const struct host_kernel *k, unsigned irq, uint8_t *dest,
                         bool *logical, bool *lowest_prio)
{
    const struct host_irq *q = k->irq;
    const struct host_irq_desc *d = &q->desc[irq];
    if (q->ncpus > 8) {
        /* physflat: the APIC ID, physical, fixed */
        *dest = (uint8_t)d->cpu;
        *logical = false;
        *lowest_prio = false;
    } else if (d->all_cpus) {
        /* 4.9 flat: every online CPU, lowest priority */
        *dest = (uint8_t)((1u << q->ncpus) - 1);
        *logical = true;
        *lowest_prio = true;
    } else {
        *dest = (uint8_t)(1u << d->cpu);
        *logical = true;
        *lowest_prio = false;
    }
}

/* irq_msi_compose_msg (4.x apic/msi.c) / __irq_msi_compose_msg (5.x). */
static void compose_direct(const struct host_kernel *k, unsigned irq, uint64_t *addr,
                           uint32_t *data)
{
    const struct host_irq_desc *d = &k->irq->desc[irq];
    uint8_t dest;
    bool logical, lowest;
    host_irq_msg_target(k, irq, &dest, &logical, &lowest);
    *addr = MSI_ADDR_BASE | (uint64_t)dest << 12 | (logical ? 1u << 2 : 0) |
            (lowest ? 1u << 3 : 0);
    *data = d->vector;
    if (k->irq->flavour != HOST_IRQ_5_X)
        *data |= 1u << 14; /* MSI_DATA_LEVEL_ASSERT */
    if (lowest)
        *data |= 1u << 8;  /* MSI_DATA_DELIVERY_LOWPRI */
}

/* MANAGED_IRQ_SHUTDOWN_VECTOR: where a reserved (not yet activated) MSI
 * points, on the first online CPU (apic/vector.c vector_assign_managed_shutdown). */
#define SHUTDOWN_VECTOR 0xef

/* __irq_alloc_descs: the lowest free range of n above the GSIs; each gets a
 * vector now, or (reserve) only at request_irq. */
static int alloc_descs(struct host_kernel *k, unsigned n, bool reserve)
{
    struct host_irq *q = k->irq;
    if (!n)
        return -EINVAL;
    for (unsigned base = HOST_IRQ_GSI_TOP; base + n <= HOST_NR_IRQS; base++) {
        unsigned i;
        for (i = 0; i < n && !q->desc[base + i].used; i++)
            ;
        if (i < n) {
            base += i;
            continue;
        }
        for (i = 0; i < n; i++) {
            struct host_irq_desc *d = &q->desc[base + i];
            d->used = true;
            d->masked = true;
            if (reserve) {
                d->reserved = true;
                d->cpu = 0;
                d->vector = SHUTDOWN_VECTOR;
            } else if (assign_vector(q, base + i) < 0) {
                for (unsigned j = 0; j <= i; j++)
                    release(q, base + j);
                return -ENOSPC;
            }
        }
        return (int)base;
    }
    return -ENOSPC;
}

int host_irq_alloc(struct host_kernel *k, unsigned n)
{
    return alloc_descs(k, n, false);
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

/* One CPU's local APIC accepts vector. */
static void accept(struct host_kernel *k, unsigned cpu, unsigned vector)
{
    struct host_irq *q = k->irq;
    uint16_t *e = &q->vector_irq[cpu * HOST_NR_VECTORS + vector];
    if (*e == VEC_SYSTEM) {
        /* a system vector (the shutdown vector 0xef a reserved MSI points at
         * among them): spurious, no device handler runs */
        q->lost++;
        return;
    }
    if (*e == VEC_FREE || *e == VEC_SHUTDOWN) {
        q->lost++;
        if (*e == VEC_SHUTDOWN) {
            /* 5.x: the first stray interrupt on a freed vector only resets it */
            *e = VEC_FREE;
            return;
        }
        host_printk(k, KERN_EMERG "%s: %u.%u No irq handler for vector\n",
                    k->kver->irq_no_handler_fn, cpu, vector);
        return;
    }
    unsigned irq = *e - 1u;
    struct host_irq_desc *d = &q->desc[irq];
    if (d->masked) {
        q->pending[irq] = true;
        return;
    }
    sim_after(k->sim, 0, run_handler, k, irq);
}

/* Intel SDM vol. 3 10.11.1-2: address bits 19:12 destination, bit 2 DM
 * (logical when set), data bits 7:0 vector, 10:8 delivery mode (000 fixed,
 * 001 lowest priority). Flat logical destinations are CPU bit masks; a
 * lowest-priority message goes to one CPU of the mask (pcilab: the lowest
 * numbered, all priorities being equal), a fixed one to every CPU in it. */
void host_irq_deliver_msi(struct host_kernel *k, uint64_t addr, uint32_t data)
{
    struct host_irq *q = k->irq;
    unsigned dest = (unsigned)(addr >> 12) & 0xff;
    unsigned vector = data & 0xff;
    bool logical = addr & (1u << 2);
    unsigned mode = (data >> 8) & 7;
    if ((addr & 0xfff00000u) != MSI_ADDR_BASE || (mode != 0 && mode != 1)) {
        q->lost++;
        return;
    }
    if (!logical) {
        if (dest >= q->ncpus) {
            q->lost++;
            return;
        }
        accept(k, dest, vector);
        return;
    }
    bool any = false;
    for (unsigned c = 0; c < q->ncpus && c < 8; c++)
        if (dest & (1u << c)) {
            any = true;
            accept(k, c, vector);
            if (mode == 1)
                break;
        }
    if (!any)
        q->lost++;
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
    if (dev->msi_remapped)
        return q->remap.alloc(q->remap.ctx, dev, base, n, msix, addr, data);
    for (unsigned i = 0; i < n; i++)
        compose_direct(k, base + i, &addr[i], &data[i]);
    return 0;
}

/* 4.20+ (apic/vector.c reserve_irq_vector, kernel/irq/msi.c): an MSI with
 * per-vector masking or an MSI-X vector is only reserved at enable time and
 * points at the shutdown vector until request_irq activates it. Through an
 * interrupt remapper pcilab assigns the vector at once (the remapper's table
 * entry is written once). */
static bool reservation_mode(struct pci_dev *dev, bool maskable)
{
    return maskable && dev->dev.kernel->irq->flavour != HOST_IRQ_4_9 && !dev->msi_remapped;
}

/* Writes the message of vector `index` of dev (MSI: the capability, only
 * index 0 can change alone; MSI-X: its table entry). */
static void write_msg(struct pci_dev *dev, unsigned index, uint64_t addr, uint32_t data)
{
    if (dev->msix_enabled) {
        uint64_t e = msix_entry_addr(dev, index);
        msix_write(dev, e, (uint32_t)addr);
        msix_write(dev, e + 4, (uint32_t)(addr >> 32));
        msix_write(dev, e + 8, data);
        return;
    }
    uint16_t ctrl;
    pci_read_config_word(dev, dev->msi_cap + PCIE_MSI_CTRL, &ctrl);
    pci_write_config_dword(dev, dev->msi_cap + PCIE_MSI_ADDR_LO, (uint32_t)addr);
    if (ctrl & PCIE_MSI_CTRL_64BIT)
        pci_write_config_dword(dev, dev->msi_cap + 8, (uint32_t)(addr >> 32));
    pci_write_config_word(dev, (int)msi_data_off(dev, ctrl), (uint16_t)data);
}

static int msi_setup(struct pci_dev *dev, unsigned nvec)
{
    struct host_kernel *k = dev->dev.kernel;
    uint16_t ctrl;
    pci_read_config_word(dev, dev->msi_cap + PCIE_MSI_CTRL, &ctrl);
    /* msi_capability_init: MSI off while it is set up */
    pci_write_config_word(dev, dev->msi_cap + PCIE_MSI_CTRL, ctrl & ~PCIE_MSI_CTRL_ENABLE);
    int base = alloc_descs(k, nvec, reservation_mode(dev, ctrl & PCIE_MSI_CTRL_PVM));
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
    int base = alloc_descs(k, nvec, reservation_mode(dev, true));
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
    if (d->reserved) {
        /* activation: the real vector, and the message that names it */
        d->reserved = false;
        if (assign_vector(k->irq, irq) < 0) {
            d->reserved = true;
            return -ENOSPC;
        }
        uint64_t addr;
        uint32_t data;
        compose_direct(k, irq, &addr, &data);
        d->msg_addr = addr;
        d->msg_data = data;
        if (d->pdev)
            write_msg(d->pdev, d->msi_index, addr, data);
    }
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
