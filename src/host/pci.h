/* The host kernel's PCI core, with Linux's names (drivers/pci: probe.c,
 * pci.c, setup-res.c, iomap.c; arch/x86/pci), over the simulated fabric.
 *
 * Every access is the CPU's: configuration reads and writes are CfgRd/CfgWr
 * TLPs from the root complex (pcie_host_cfg_*), ioread32/iowrite32 are MRd
 * and MWr TLPs to the BAR (pcie_host_mem_*). What the device model does with
 * them is its business; without Bus Master Enable the fabric refuses its
 * DMA, as hardware does.
 *
 * Messages are Linux's (dev_printk format "<bus or driver> <device>: text"):
 *   pci 0000:01:00.0: enabling device (0000 -> 0002)
 *   pci 0000:01:00.0: BAR 0: can't reserve [mem 0xc0000000-0xc0000fff]
 * (drivers/pci/setup-res.c pci_enable_resources, drivers/pci/pci.c
 * __pci_request_region, 4.9 through 6.1; the wording is the same in every
 * modelled version). */
#ifndef PCILAB_HOST_PCI_H
#define PCILAB_HOST_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/kernel.h"

/* include/linux/ioport.h */
#define HOST_IORESOURCE_IO       0x00000100ul
#define HOST_IORESOURCE_MEM      0x00000200ul
#define HOST_IORESOURCE_PREFETCH 0x00002000ul
#define HOST_IORESOURCE_MEM_64   0x00100000ul
#define HOST_IORESOURCE_BUSY     0x80000000ul

struct resource {
    uint64_t start, end;         /* inclusive, as Linux */
    unsigned long flags;
    const char *name;            /* owner after pci_request_region, else NULL */
};

#define HOST_PCI_ROM_RESOURCE    6
#define HOST_PCI_NUM_RESOURCES   7   /* BARs 0..5 and the expansion ROM */

struct host_dma_ops;

/* include/linux/device.h, the part pcilab models. */
struct device {
    struct host_kernel *kernel;
    char name[16];               /* dev_name(): "0000:01:00.0" */
    const char *bus_name;        /* "pci" */
    const char *driver_name;     /* bound driver, NULL when none */
    uint64_t *dma_mask;          /* points at dma_mask_store for PCI devices */
    uint64_t coherent_dma_mask;
    uint64_t dma_mask_store;
    void *driver_data;
    const struct host_dma_ops *dma_ops;  /* dma.h; NULL: direct */
    void *iommu;                 /* the IOMMU layer's per-device data */
};

struct pci_bus {
    unsigned char number;
    uint16_t domain;
};

struct pci_dev {
    struct device dev;
    struct pci_bus *bus;         /* &bus_store */
    struct pci_bus bus_store;
    unsigned int devfn;
    uint16_t vendor, device;
    uint16_t subsystem_vendor, subsystem_device;
    uint32_t class;              /* 24 bits: base, sub, prog-if */
    uint8_t revision;
    uint8_t hdr_type;            /* without the multi-function bit */
    uint8_t pin;
    uint8_t msi_cap, msix_cap, pcie_cap;   /* config offsets, 0 when absent */
    unsigned int irq;
    bool msi_enabled, msix_enabled;
    bool is_busmaster;
    struct resource resource[HOST_PCI_NUM_RESOURCES];

    /* pcilab's side */
    struct pcie_fn *fn;          /* the function on the fabric */
    int enable_cnt;
    unsigned regions;            /* bit n: BAR n requested */
    unsigned nvec;               /* MSI/MSI-X vectors allocated (irq.h), from irq */
    bool msi_remapped;           /* its messages go through the interrupt remapper */
    struct pci_dev *upstream;    /* the bridge above, NULL on the root bus */
};

/* ---- The scan (pci_scan_root_bus): one pci_dev per function, from what
 * configuration requests return, in BDF order. BARs are sized the way
 * __pci_read_base does (decode disabled, all-ones written, restored). ---- */
int host_pci_scan(struct host_kernel *k, struct pcilab_err *err);
void host_pci_destroy_all(struct host_kernel *k);
struct pci_dev *host_pci_find(struct host_kernel *k, uint16_t segment, uint16_t bdf);
struct pci_dev *host_pci_of_fn(struct host_kernel *k, const struct pcie_fn *fn);
static inline uint16_t host_pci_bdf(const struct pci_dev *p)
{
    return (uint16_t)(p->bus->number << 8 | p->devfn);
}

/* ---- Linux's API (drivers/pci/access.c, pci.c, iomap.c). Return 0 or a
 * negative errno as Linux does (-EINVAL, -EBUSY, -ENOMEM, -EIO). ---- */
int pci_read_config_byte(const struct pci_dev *dev, int where, uint8_t *val);
int pci_read_config_word(const struct pci_dev *dev, int where, uint16_t *val);
int pci_read_config_dword(const struct pci_dev *dev, int where, uint32_t *val);
int pci_write_config_byte(const struct pci_dev *dev, int where, uint8_t val);
int pci_write_config_word(const struct pci_dev *dev, int where, uint16_t val);
int pci_write_config_dword(const struct pci_dev *dev, int where, uint32_t val);
/* drivers/pci/pci.c pci_acs_enabled(pdev, REQ_ACS_FLAGS) as the IOMMU
 * drivers ask it: the device has an ACS extended capability offering SV, RR,
 * CR and UF (Linux enables them once an IOMMU is found, pci_request_acs). */
bool pci_acs_req_enabled(const struct pci_dev *dev);
/* Offset of capability `cap`, 0 when absent (walks the list by config reads). */
uint8_t pci_find_capability(struct pci_dev *dev, int cap);

int pci_enable_device(struct pci_dev *dev);
int pci_enable_device_mem(struct pci_dev *dev);
void pci_disable_device(struct pci_dev *dev);
void pci_set_master(struct pci_dev *dev);
void pci_clear_master(struct pci_dev *dev);
int pci_request_regions(struct pci_dev *dev, const char *name);
int pci_request_region(struct pci_dev *dev, int bar, const char *name);
void pci_release_regions(struct pci_dev *dev);
void pci_release_region(struct pci_dev *dev, int bar);

static inline uint64_t pci_resource_start(const struct pci_dev *d, int bar)
{
    return d->resource[bar].start;
}
static inline uint64_t pci_resource_end(const struct pci_dev *d, int bar)
{
    return d->resource[bar].end;
}
static inline unsigned long pci_resource_flags(const struct pci_dev *d, int bar)
{
    return d->resource[bar].flags;
}
static inline uint64_t pci_resource_len(const struct pci_dev *d, int bar)
{
    const struct resource *r = &d->resource[bar];
    return r->end || r->start ? r->end - r->start + 1 : 0;
}

/* MMIO. pci_iomap returns a cookie (NULL when the BAR is absent or I/O);
 * ioread / iowrite on cookie + offset become TLPs to BAR start + offset. The
 * cookie is address space reserved with no access rights, so a driver that
 * dereferences it instead of using the accessors crashes, as an unmapped
 * access would. Accessors need the current kernel (kernel.h). A read that the
 * fabric fails returns all-ones, as on hardware. */
void *pci_iomap(struct pci_dev *dev, int bar, unsigned long maxlen);
void pci_iounmap(struct pci_dev *dev, void *addr);
uint8_t ioread8(const void *addr);
uint16_t ioread16(const void *addr);
uint32_t ioread32(const void *addr);
void iowrite8(uint8_t v, void *addr);
void iowrite16(uint16_t v, void *addr);
void iowrite32(uint32_t v, void *addr);

/* dev_printk: "<driver or bus> <name>: " then the text; level is a KERN_*
 * string. */
void host_dev_printk(const char *level, const struct device *dev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *dev_name(const struct device *dev);

/* "[mem 0xc0000000-0xc0000fff]" / "[mem ... 64bit pref]" / "[io  0x1000-0x10ff]"
 * as %pR prints a resource. */
size_t host_resource_format(const struct resource *r, char *buf, size_t len);

#endif
