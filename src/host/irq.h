/* The host kernel's interrupt core, x86 flavour: IRQ numbers and their
 * descriptors, CPU vectors, MSI and MSI-X set-up of PCI devices
 * (pci_alloc_irq_vectors and friends, drivers/pci/msi.c), request_irq, and
 * delivery of the messages that reach the CPUs' local APICs.
 *
 * Message format (Intel SDM vol. 3 10.11, "Message Signalled Interrupts"):
 *   address 0xFEE0_0000 | Destination ID << 12 | RH << 3 | DM << 2
 *   data    Vector | Delivery Mode << 8 | Level << 14 | Trigger Mode << 15
 * Linux programs physical destination mode with fixed delivery (its default
 * on 64-bit machines with the default APIC driver: flat logical mode is not
 * modelled), so a message names one CPU by APIC ID and one vector.
 *
 * IRQ numbers: 0..gsi_top-1 belong to the legacy and I/O APIC interrupts;
 * MSIs get the lowest free range above them (arch_dynirq_lower_bound).
 * Vectors: each IRQ gets one vector on one CPU: the CPU with the most free
 * vectors (lowest number on a tie), the lowest free vector from 0x21 up
 * (FIRST_EXTERNAL_VECTOR + 1), skipping the legacy range 0x30-0x3f and the
 * syscall vector 0x80, below the first system vector 0xec — the matrix
 * allocator of 4.15 and later (kernel/irq/matrix.c). 4.9's allocator steps by
 * 16 vectors instead: a difference in which vector numbers appear in MSI data,
 * not in behaviour; docs/host-kernel.md notes it.
 *
 * Multiple MSI: a device asking for more than one MSI vector (not MSI-X) gets
 * them only when its interrupts go through an interrupt-remapping domain,
 * which on x86 is the only MSI domain with MSI_FLAG_MULTI_PCI_MSI; without
 * remapping msi_capability_init is told to retry with one vector, so
 * pci_alloc_irq_vectors(dev, 1, 2, PCI_IRQ_MSI) returns 1 (the seed's
 * "only 1 of the 2 MSIs with iommu=off"). An interrupt remapper (the IOMMU
 * driver) plugs in through struct host_irq_remap. */
#ifndef PCILAB_HOST_IRQ_H
#define PCILAB_HOST_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "host/kernel.h"
#include "host/pci.h"

/* include/linux/interrupt.h */
typedef enum { IRQ_NONE = 0, IRQ_HANDLED = 1, IRQ_WAKE_THREAD = 2 } irqreturn_t;
typedef irqreturn_t (*irq_handler_t)(int irq, void *dev_id);
#define IRQF_SHARED 0x00000080ul

/* include/linux/pci.h */
#define PCI_IRQ_LEGACY   (1u << 0)
#define PCI_IRQ_MSI      (1u << 1)
#define PCI_IRQ_MSIX     (1u << 2)
#define PCI_IRQ_AFFINITY (1u << 3)
#define PCI_IRQ_ALL_TYPES (PCI_IRQ_LEGACY | PCI_IRQ_MSI | PCI_IRQ_MSIX)

#define HOST_NR_VECTORS          256
#define HOST_FIRST_EXTERNAL_VECTOR 0x20
#define HOST_FIRST_SYSTEM_VECTOR 0xec
#define HOST_IRQ_GSI_TOP         24   /* one I/O APIC with 24 pins */
#define HOST_NR_IRQS             1024

struct host_irq_desc {
    bool used;
    unsigned irq;
    unsigned cpu;                /* destination CPU (APIC ID) */
    bool all_cpus;               /* 4.9 flat: the vector is taken on every CPU */
    uint8_t vector;
    bool reserved;               /* 4.20+ reservation mode: no vector until
                                    request_irq (the message targets 0xef) */
    irq_handler_t handler;       /* NULL until request_irq */
    void *dev_id;
    const char *name;
    bool masked;
    struct pci_dev *pdev;        /* MSI/MSI-X owner */
    unsigned msi_index;          /* vector number within the device */
    uint64_t count;              /* handled, as /proc/interrupts counts */
    uint64_t spurious;           /* handler said IRQ_NONE */
    /* The message the device sends (before remapping). */
    uint64_t msg_addr;
    uint32_t msg_data;
};

/* An interrupt remapper (the IOMMU driver). For a device whose interrupts it
 * remaps, alloc gives the messages the device must send for its nvec vectors,
 * IRQs irq_base .. irq_base + nvec - 1 (contiguous MSI data for multi-MSI),
 * after programming its tables so that each arrives as that IRQ's vector at
 * the destination the kernel's APIC mode gives it (host_irq_desc's vector,
 * host_irq_msg_target); free undoes it. */
struct host_irq_remap {
    void *ctx;
    bool (*remaps)(void *ctx, struct pci_dev *dev);
    int (*alloc)(void *ctx, struct pci_dev *dev, unsigned irq_base, unsigned nvec, bool msix,
                 uint64_t *addr, uint32_t *data);
    void (*free)(void *ctx, struct pci_dev *dev, unsigned nvec, bool msix);
};

struct host_irq;

int host_irq_init(struct host_kernel *k, struct pcilab_err *err);
void host_irq_destroy(struct host_kernel *k);
void host_irq_set_remap(struct host_kernel *k, const struct host_irq_remap *r);
/* The descriptor of irq, NULL when not allocated. */
struct host_irq_desc *host_irq_desc(struct host_kernel *k, unsigned irq);

/* Where the kernel sends irq's interrupts, as the APIC driver programs it
 * (an interrupt remapper puts this in its table entries): the destination
 * field, logical or physical mode, lowest-priority or fixed delivery. */
void host_irq_msg_target(const struct host_kernel *k, unsigned irq, uint8_t *dest,
                         bool *logical, bool *lowest_prio);

/* A message arriving at the local APICs (the fabric's interrupt sink, wired
 * by host_irq_init). The handler runs as an event at the current time. */
void host_irq_deliver_msi(struct host_kernel *k, uint64_t addr, uint32_t data);

/* Allocates `n` contiguous IRQ numbers with a vector each for a non-PCI user
 * (the IOMMU's own event interrupt, root port services). Returns the first
 * IRQ or a negative errno. */
int host_irq_alloc(struct host_kernel *k, unsigned n);
void host_irq_free(struct host_kernel *k, unsigned irq, unsigned n);

/* ---- Linux's API ---- */
int pci_alloc_irq_vectors(struct pci_dev *dev, unsigned int min_vecs, unsigned int max_vecs,
                          unsigned int flags);
void pci_free_irq_vectors(struct pci_dev *dev);
int pci_irq_vector(struct pci_dev *dev, unsigned int nr);
int pci_msi_vec_count(struct pci_dev *dev);
int pci_enable_msi(struct pci_dev *dev);
void pci_disable_msi(struct pci_dev *dev);
int request_irq(unsigned int irq, irq_handler_t handler, unsigned long flags, const char *name,
                void *dev_id);
const void *free_irq(unsigned int irq, void *dev_id);
void disable_irq(unsigned int irq);
void enable_irq(unsigned int irq);

#endif
