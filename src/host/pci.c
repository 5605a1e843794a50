/* The host kernel's PCI core (pci.h). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "host/pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pcie/caps.h"
#include "pcie/config.h"
#include "host/pages.h"
#include "pcie/route.h"

struct host_iomap {
    uintptr_t cookie;            /* first byte of the reserved range */
    uint64_t len;                /* bytes mapped */
    uint64_t reserved;           /* bytes of address space reserved */
    uint64_t phys;               /* BAR start */
};

/* ------------------------------------------------------------------ */
/* Configuration access: CfgRd/CfgWr from the root complex. */

static uint16_t fabric_segment(const struct host_kernel *k)
{
    return pcie_fabric_config(k->fabric)->segment;
}

static int cfg_read(const struct pci_dev *d, int where, unsigned size, uint32_t *v)
{
    if (where < 0 || where + (int)size > (int)PCIE_CFG_SPACE_SIZE || (where & (int)(size - 1)))
        return -EINVAL;
    enum pcie_req_status st =
        pcie_host_cfg_read(d->dev.kernel->fabric, host_pci_bdf(d), (unsigned)where, size, v);
    return st == PCIE_REQ_SC ? 0 : -EIO;
}

static int cfg_write(const struct pci_dev *d, int where, unsigned size, uint32_t v)
{
    if (where < 0 || where + (int)size > (int)PCIE_CFG_SPACE_SIZE || (where & (int)(size - 1)))
        return -EINVAL;
    enum pcie_req_status st =
        pcie_host_cfg_write(d->dev.kernel->fabric, host_pci_bdf(d), (unsigned)where, size, v);
    return st == PCIE_REQ_SC ? 0 : -EIO;
}

int pci_read_config_byte(const struct pci_dev *dev, int where, uint8_t *val)
{
    uint32_t v = 0xff;
    int r = cfg_read(dev, where, 1, &v);
    *val = (uint8_t)v;
    return r;
}

int pci_read_config_word(const struct pci_dev *dev, int where, uint16_t *val)
{
    uint32_t v = 0xffff;
    int r = cfg_read(dev, where, 2, &v);
    *val = (uint16_t)v;
    return r;
}

int pci_read_config_dword(const struct pci_dev *dev, int where, uint32_t *val)
{
    uint32_t v = 0xffffffffu;
    int r = cfg_read(dev, where, 4, &v);
    *val = v;
    return r;
}

int pci_write_config_byte(const struct pci_dev *dev, int where, uint8_t val)
{
    return cfg_write(dev, where, 1, val);
}

int pci_write_config_word(const struct pci_dev *dev, int where, uint16_t val)
{
    return cfg_write(dev, where, 2, val);
}

int pci_write_config_dword(const struct pci_dev *dev, int where, uint32_t val)
{
    return cfg_write(dev, where, 4, val);
}

uint8_t pci_find_capability(struct pci_dev *dev, int cap)
{
    uint16_t status;
    if (pci_read_config_word(dev, PCIE_CFG_STATUS, &status) || !(status & 0x10))
        return 0; /* Capabilities List bit (PCIe 5.0 7.5.1.1.4) */
    uint8_t pos;
    pci_read_config_byte(dev, PCIE_CFG_CAP_PTR, &pos);
    /* at most 48 capabilities fit (PCI_FIND_CAP_TTL) */
    for (int ttl = 48; ttl-- && pos >= 0x40;) {
        pos &= ~3;
        uint16_t ent;
        pci_read_config_word(dev, pos, &ent);
        if ((ent & 0xff) == 0xff)
            break;
        if ((ent & 0xff) == cap)
            return pos;
        pos = (uint8_t)(ent >> 8);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Printing */

const char *dev_name(const struct device *dev)
{
    return dev->name;
}

void host_dev_printk(const char *level, const struct device *dev, const char *fmt, ...)
{
    char text[SIM_LOG_LINE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    host_printk(dev->kernel, "%s%s %s: %s", level,
                dev->driver_name ? dev->driver_name : dev->bus_name, dev->name, text);
}

size_t host_resource_format(const struct resource *r, char *buf, size_t len)
{
    bool io = r->flags & HOST_IORESOURCE_IO;
    int n = snprintf(buf, len, "[%s 0x%0*llx-0x%0*llx%s%s]", io ? "io " : "mem", io ? 4 : 8,
                     (unsigned long long)r->start, io ? 4 : 8, (unsigned long long)r->end,
                     (r->flags & HOST_IORESOURCE_MEM_64) ? " 64bit" : "",
                     (r->flags & HOST_IORESOURCE_PREFETCH) ? " pref" : "");
    return n < 0 ? 0 : (size_t)n;
}

/* ------------------------------------------------------------------ */
/* The scan */

static int add_pdev(struct host_kernel *k, struct pci_dev *p)
{
    struct pci_dev **n = realloc(k->pdevs, (k->npdevs + 1) * sizeof *n);
    if (!n)
        return -1;
    k->pdevs = n;
    k->pdevs[k->npdevs++] = p;
    return 0;
}

/* __pci_read_base: size BAR `i` (and its upper half for 64-bit memory).
 * Returns how many BAR registers it used (1 or 2). */
static unsigned read_base(struct pci_dev *p, unsigned i)
{
    int reg = PCIE_CFG_BAR0 + 4 * (int)i;
    uint32_t l, sz;
    pci_read_config_dword(p, reg, &l);
    pci_write_config_dword(p, reg, 0xffffffffu);
    pci_read_config_dword(p, reg, &sz);
    pci_write_config_dword(p, reg, l);
    struct resource *r = &p->resource[i];
    memset(r, 0, sizeof *r);
    if (sz == 0 || sz == 0xffffffffu)
        return 1;
    if (l & 1) { /* I/O space (PCIe 5.0 7.5.1.2.1) */
        uint32_t mask = sz & ~3u & 0xffffu;
        if (!mask)
            return 1;
        r->flags = HOST_IORESOURCE_IO;
        r->start = l & ~3u;
        r->end = r->start + ((~mask & 0xffffu) | 3u);
        return 1;
    }
    uint64_t base = l & ~0xfull, mask = sz & ~0xfull;
    unsigned used = 1;
    r->flags = HOST_IORESOURCE_MEM;
    if (l & 8)
        r->flags |= HOST_IORESOURCE_PREFETCH;
    if (((l >> 1) & 3) == 2 && i < 5) {
        uint32_t lh, szh;
        pci_read_config_dword(p, reg + 4, &lh);
        pci_write_config_dword(p, reg + 4, 0xffffffffu);
        pci_read_config_dword(p, reg + 4, &szh);
        pci_write_config_dword(p, reg + 4, lh);
        base |= (uint64_t)lh << 32;
        mask |= (uint64_t)szh << 32;
        r->flags |= HOST_IORESOURCE_MEM_64;
        used = 2;
    } else {
        mask |= 0xffffffff00000000ull;
    }
    uint64_t size = ~mask + 1;
    if (!size) {
        r->flags = 0;
        return used;
    }
    r->start = base;
    r->end = base + size - 1;
    return used;
}

static void read_bases(struct pci_dev *p, unsigned nbars)
{
    uint16_t cmd;
    pci_read_config_word(p, PCIE_CFG_COMMAND, &cmd);
    /* Decoding off while the BARs hold all-ones (pci_read_bases, 4.9+). */
    if (cmd & (PCIE_CMD_IO | PCIE_CMD_MEMORY))
        pci_write_config_word(p, PCIE_CFG_COMMAND, cmd & ~(PCIE_CMD_IO | PCIE_CMD_MEMORY));
    for (unsigned i = 0; i < nbars;)
        i += read_base(p, i);
    if (cmd & (PCIE_CMD_IO | PCIE_CMD_MEMORY))
        pci_write_config_word(p, PCIE_CFG_COMMAND, cmd);
}

static struct pci_dev *new_pdev(struct host_kernel *k, unsigned bus, unsigned devfn,
                                struct pci_dev *upstream)
{
    struct pci_dev *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->dev.kernel = k;
    p->dev.bus_name = "pci";
    p->bus = &p->bus_store;
    p->bus_store.number = (unsigned char)bus;
    p->bus_store.domain = fabric_segment(k);
    p->devfn = devfn;
    p->upstream = upstream;
    snprintf(p->dev.name, sizeof p->dev.name, "%04x:%02x:%02x.%u", p->bus_store.domain,
             (unsigned)(uint8_t)bus, (devfn >> 3) & 0x1fu, devfn & 7u);
    /* pci_setup_device: the default DMA mask is 32 bits. */
    p->dev.dma_mask_store = 0xffffffffull;
    p->dev.dma_mask = &p->dev.dma_mask_store;
    p->dev.coherent_dma_mask = 0xffffffffull;
    return p;
}

static int scan_bus(struct host_kernel *k, unsigned bus, struct pci_dev *bridge, int depth,
                    struct pcilab_err *err);

static int scan_fn(struct host_kernel *k, unsigned bus, unsigned devfn, struct pci_dev *bridge,
                   int depth, bool *multi, struct pcilab_err *err)
{
    struct pci_dev probe;
    memset(&probe, 0, sizeof probe);
    probe.dev.kernel = k;
    probe.bus = &probe.bus_store;
    probe.bus_store.number = (unsigned char)bus;
    probe.devfn = devfn;
    uint32_t id;
    pci_read_config_dword(&probe, 0, &id);
    if (id == 0xffffffffu || id == 0 || (id & 0xffff) == 0xffff)
        return 0;
    struct pci_dev *p = new_pdev(k, bus, devfn, bridge);
    if (!p || add_pdev(k, p) < 0) {
        free(p);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory scanning PCI bus %02x", bus);
    }
    p->vendor = (uint16_t)id;
    p->device = (uint16_t)(id >> 16);
    uint32_t cr;
    uint8_t ht;
    pci_read_config_dword(p, 0x08, &cr);
    p->revision = (uint8_t)cr;
    p->class = cr >> 8;
    pci_read_config_byte(p, PCIE_CFG_HEADER_TYPE, &ht);
    p->hdr_type = ht & 0x7f;
    if (multi)
        *multi = ht & 0x80;
    pci_read_config_byte(p, PCIE_CFG_INTERRUPT_PIN, &p->pin);
    p->fn = pcie_fabric_find(k->fabric, (uint16_t)(bus << 8 | devfn));
    p->msi_cap = pci_find_capability(p, PCIE_CAP_ID_MSI);
    p->msix_cap = pci_find_capability(p, PCIE_CAP_ID_MSIX);
    p->pcie_cap = pci_find_capability(p, PCIE_CAP_ID_EXP);
    if (p->hdr_type == 0) {
        pci_read_config_word(p, PCIE_CFG_SUBSYS_VENDOR_ID, &p->subsystem_vendor);
        pci_read_config_word(p, PCIE_CFG_SUBSYS_ID, &p->subsystem_device);
        read_bases(p, 6);
        return 0;
    }
    if (p->hdr_type != 1)
        return 0;
    read_bases(p, 2);
    uint8_t sec;
    pci_read_config_byte(p, PCIE_CFG_SECONDARY_BUS, &sec);
    if (sec == 0 || sec <= bus || depth > 255)
        return 0; /* not configured: nothing behind it is reachable */
    return scan_bus(k, sec, p, depth + 1, err);
}

/* Below a root port or a switch downstream port only device 0 exists
 * (Linux's only_one_child: PCIe 5.0 7.3.1). */
static bool only_one_child(struct pci_dev *bridge)
{
    if (!bridge || !bridge->pcie_cap)
        return false;
    uint16_t flags;
    pci_read_config_word(bridge, bridge->pcie_cap + PCIE_EXP_FLAGS, &flags);
    unsigned type = (flags >> 4) & 0xf;
    return type == PCIE_PORT_ROOT_PORT || type == PCIE_PORT_DOWNSTREAM;
}

static int scan_bus(struct host_kernel *k, unsigned bus, struct pci_dev *bridge, int depth,
                    struct pcilab_err *err)
{
    unsigned ndev = only_one_child(bridge) ? 1 : 32;
    for (unsigned dev = 0; dev < ndev; dev++) {
        bool multi = false;
        size_t before = k->npdevs;
        int r = scan_fn(k, bus, dev << 3, bridge, depth, &multi, err);
        if (r < 0)
            return r;
        if (k->npdevs == before || !multi)
            continue;
        for (unsigned fn = 1; fn < 8; fn++)
            if ((r = scan_fn(k, bus, dev << 3 | fn, bridge, depth, NULL, err)) < 0)
                return r;
    }
    return 0;
}

static int by_bdf(const void *a, const void *b)
{
    const struct pci_dev *x = *(struct pci_dev *const *)a, *y = *(struct pci_dev *const *)b;
    return (int)host_pci_bdf(x) - (int)host_pci_bdf(y);
}

int host_pci_scan(struct host_kernel *k, struct pcilab_err *err)
{
    host_pci_destroy_all(k);
    unsigned root = pcie_fabric_config(k->fabric)->root_bus;
    int r = scan_bus(k, root, NULL, 0, err);
    if (r < 0)
        return r;
    qsort(k->pdevs, k->npdevs, sizeof *k->pdevs, by_bdf);
    return 0;
}

void host_pci_destroy_all(struct host_kernel *k)
{
    for (size_t i = 0; i < k->niomaps; i++)
        munmap((void *)k->iomaps[i].cookie, k->iomaps[i].reserved);
    free(k->iomaps);
    k->iomaps = NULL;
    k->niomaps = k->iomap_cap = 0;
    for (size_t i = 0; i < k->npdevs; i++)
        free(k->pdevs[i]);
    free(k->pdevs);
    k->pdevs = NULL;
    k->npdevs = 0;
}

struct pci_dev *host_pci_find(struct host_kernel *k, uint16_t segment, uint16_t bdf)
{
    for (size_t i = 0; i < k->npdevs; i++)
        if (k->pdevs[i]->bus->domain == segment && host_pci_bdf(k->pdevs[i]) == bdf)
            return k->pdevs[i];
    return NULL;
}

struct pci_dev *host_pci_of_fn(struct host_kernel *k, const struct pcie_fn *fn)
{
    for (size_t i = 0; i < k->npdevs; i++)
        if (k->pdevs[i]->fn == fn)
            return k->pdevs[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Enabling */

/* pci_enable_resources (drivers/pci/setup-res.c): Memory / I/O Space Enable
 * for the kinds of BAR the device has. */
static int enable_resources(struct pci_dev *dev, unsigned long mask)
{
    uint16_t old, cmd;
    if (pci_read_config_word(dev, PCIE_CFG_COMMAND, &old))
        return -EIO;
    cmd = old;
    unsigned nbars = dev->hdr_type == 1 ? 2 : 6;
    for (unsigned i = 0; i < nbars; i++) {
        const struct resource *r = &dev->resource[i];
        if (!(mask & (1ul << i)) || !(r->flags & (HOST_IORESOURCE_IO | HOST_IORESOURCE_MEM)))
            continue;
        if (r->flags & HOST_IORESOURCE_IO)
            cmd |= PCIE_CMD_IO;
        if (r->flags & HOST_IORESOURCE_MEM)
            cmd |= PCIE_CMD_MEMORY;
    }
    /* A bridge forwards its windows whatever its own BARs are
     * (pci_enable_bridge -> pci_enable_device on the bridge enables both). */
    if (dev->hdr_type == 1)
        cmd |= PCIE_CMD_MEMORY | PCIE_CMD_IO;
    if (cmd != old) {
        host_dev_printk(KERN_INFO, &dev->dev, "enabling device (%04x -> %04x)\n", old, cmd);
        if (pci_write_config_word(dev, PCIE_CFG_COMMAND, cmd))
            return -EIO;
    }
    return 0;
}

static int enable_flags(struct pci_dev *dev, unsigned long mask)
{
    /* pci_enable_bridge: the bridges above first, with bus mastering, so
     * that the device's requests and completions can pass them. */
    if (dev->upstream && dev->upstream->enable_cnt == 0) {
        int r = enable_flags(dev->upstream, ~0ul);
        if (r)
            return r;
        pci_set_master(dev->upstream);
    }
    if (dev->enable_cnt++ > 0)
        return 0;
    int r = enable_resources(dev, mask);
    if (r)
        dev->enable_cnt--;
    return r;
}

int pci_enable_device(struct pci_dev *dev)
{
    return enable_flags(dev, ~0ul);
}

int pci_enable_device_mem(struct pci_dev *dev)
{
    unsigned long mask = 0;
    for (unsigned i = 0; i < 6; i++)
        if (dev->resource[i].flags & HOST_IORESOURCE_MEM)
            mask |= 1ul << i;
    return enable_flags(dev, mask);
}

void pci_disable_device(struct pci_dev *dev)
{
    if (dev->enable_cnt <= 0) {
        host_dev_printk(KERN_WARNING, &dev->dev, "disabling already-disabled device\n");
        return;
    }
    if (--dev->enable_cnt > 0)
        return;
    /* do_pci_disable_device: only Bus Master Enable is cleared. */
    pci_clear_master(dev);
}

static void set_master(struct pci_dev *dev, bool enable)
{
    uint16_t old, cmd;
    pci_read_config_word(dev, PCIE_CFG_COMMAND, &old);
    cmd = enable ? old | PCIE_CMD_BUS_MASTER : old & ~PCIE_CMD_BUS_MASTER;
    if (cmd != old)
        pci_write_config_word(dev, PCIE_CFG_COMMAND, cmd);
    dev->is_busmaster = enable;
}

void pci_set_master(struct pci_dev *dev)
{
    set_master(dev, true);
    /* pcibios_set_master (arch/x86/pci/i386.c): a latency timer below 16
     * becomes 64. It is read-only zero on PCI Express functions (PCIe 5.0
     * 7.5.1.1.8), so the write changes nothing there. */
    uint8_t lat;
    pci_read_config_byte(dev, PCIE_CFG_LATENCY_TIMER, &lat);
    if (lat < 16)
        pci_write_config_byte(dev, PCIE_CFG_LATENCY_TIMER, 64);
}

void pci_clear_master(struct pci_dev *dev)
{
    set_master(dev, false);
}

/* ------------------------------------------------------------------ */
/* Regions */

static bool overlaps(const struct resource *a, const struct resource *b)
{
    return a->start <= b->end && b->start <= a->end;
}

int pci_request_region(struct pci_dev *dev, int bar, const char *name)
{
    if (bar < 0 || bar >= HOST_PCI_NUM_RESOURCES)
        return -EINVAL;
    struct resource *r = &dev->resource[bar];
    if (!pci_resource_len(dev, bar))
        return 0;
    struct host_kernel *k = dev->dev.kernel;
    bool busy = dev->regions & (1u << bar);
    for (size_t i = 0; i < k->npdevs && !busy; i++) {
        struct pci_dev *o = k->pdevs[i];
        for (int b = 0; b < HOST_PCI_NUM_RESOURCES && !busy; b++)
            if ((o->regions & (1u << b)) && !(o == dev && b == bar) &&
                ((o->resource[b].flags ^ r->flags) & HOST_IORESOURCE_IO) == 0 &&
                overlaps(&o->resource[b], r))
                busy = true;
    }
    if (busy) {
        char res[80];
        host_resource_format(r, res, sizeof res);
        host_dev_printk(KERN_WARNING, &dev->dev, "BAR %d: can't reserve %s\n", bar, res);
        return -EBUSY;
    }
    dev->regions |= 1u << bar;
    r->name = name;
    return 0;
}

void pci_release_region(struct pci_dev *dev, int bar)
{
    if (bar < 0 || bar >= HOST_PCI_NUM_RESOURCES)
        return;
    dev->regions &= ~(1u << bar);
    dev->resource[bar].name = NULL;
}

int pci_request_regions(struct pci_dev *dev, const char *name)
{
    for (int i = 0; i < 6; i++) {
        int r = pci_request_region(dev, i, name);
        if (r) {
            while (--i >= 0)
                pci_release_region(dev, i);
            return r;
        }
    }
    return 0;
}

void pci_release_regions(struct pci_dev *dev)
{
    for (int i = 0; i < 6; i++)
        pci_release_region(dev, i);
}

/* ------------------------------------------------------------------ */
/* MMIO */

void *pci_iomap(struct pci_dev *dev, int bar, unsigned long maxlen)
{
    if (bar < 0 || bar >= 6 || !(dev->resource[bar].flags & HOST_IORESOURCE_MEM))
        return NULL;
    uint64_t len = pci_resource_len(dev, bar);
    if (!len)
        return NULL;
    if (maxlen && maxlen < len)
        len = maxlen;
    struct host_kernel *k = dev->dev.kernel;
    uint64_t reserved = (len + HOST_PAGE_SIZE - 1) & ~(HOST_PAGE_SIZE - 1);
    void *p = mmap(NULL, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (k->niomaps == k->iomap_cap) {
        size_t cap = k->iomap_cap ? k->iomap_cap * 2 : 8;
        struct host_iomap *n = realloc(k->iomaps, cap * sizeof *n);
        if (!n) {
            munmap(p, reserved);
            return NULL;
        }
        k->iomaps = n;
        k->iomap_cap = cap;
    }
    size_t i = k->niomaps;
    while (i > 0 && k->iomaps[i - 1].cookie > (uintptr_t)p) {
        k->iomaps[i] = k->iomaps[i - 1];
        i--;
    }
    k->iomaps[i] = (struct host_iomap){(uintptr_t)p, len, reserved, dev->resource[bar].start};
    k->niomaps++;
    return p;
}

void pci_iounmap(struct pci_dev *dev, void *addr)
{
    struct host_kernel *k = dev->dev.kernel;
    for (size_t i = 0; i < k->niomaps; i++)
        if (k->iomaps[i].cookie == (uintptr_t)addr) {
            munmap(addr, k->iomaps[i].reserved);
            memmove(k->iomaps + i, k->iomaps + i + 1, (k->niomaps - i - 1) * sizeof *k->iomaps);
            k->niomaps--;
            return;
        }
}

/* The current kernel, and the physical address behind cookie + offset for
 * an access of len bytes (false when it is outside every mapping: logged as
 * the driver bug it is, the access then does nothing). */
static struct host_kernel *resolve(const void *addr, unsigned len, uint64_t *phys, bool *found)
{
    struct host_kernel *k = host_current();
    if (!k) {
        fprintf(stderr, "pcilab: MMIO accessor called outside a running host kernel\n");
        abort();
    }
    uintptr_t a = (uintptr_t)addr;
    size_t lo = 0, hi = k->niomaps;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (k->iomaps[mid].cookie + k->iomaps[mid].reserved <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < k->niomaps && a >= k->iomaps[lo].cookie &&
             a - k->iomaps[lo].cookie + len <= k->iomaps[lo].len;
    if (*found)
        *phys = k->iomaps[lo].phys + (a - k->iomaps[lo].cookie);
    else
        host_printk(k, KERN_ERR "pcilab: %u-byte MMIO access at %p is outside every pci_iomap "
                    "mapping\n", len, addr);
    return k;
}

static uint32_t mmio_read(const void *addr, unsigned len)
{
    uint64_t phys = 0;
    bool found;
    struct host_kernel *k = resolve(addr, len, &phys, &found);
    uint8_t b[4] = {0xff, 0xff, 0xff, 0xff};
    if (found)
        pcie_host_mem_read(k->fabric, phys, b, len);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void mmio_write(void *addr, uint32_t v, unsigned len)
{
    uint64_t phys = 0;
    bool found;
    struct host_kernel *k = resolve(addr, len, &phys, &found);
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    if (found)
        pcie_host_mem_write(k->fabric, phys, b, len);
}

uint8_t ioread8(const void *addr)
{
    return (uint8_t)mmio_read(addr, 1);
}

uint16_t ioread16(const void *addr)
{
    return (uint16_t)mmio_read(addr, 2);
}

uint32_t ioread32(const void *addr)
{
    return mmio_read(addr, 4);
}

void iowrite8(uint8_t v, void *addr)
{
    mmio_write(addr, v, 1);
}

void iowrite16(uint16_t v, void *addr)
{
    mmio_write(addr, v, 2);
}

void iowrite32(uint32_t v, void *addr)
{
    mmio_write(addr, v, 4);
}

bool pci_acs_req_enabled(const struct pci_dev *p)
{
    uint32_t hdr;
    unsigned off = 0x100;
    for (unsigned n = 0; n < 64 && off >= 0x100; n++) {
        if (pci_read_config_dword(p, (int)off, &hdr) || hdr == 0 || hdr == ~0u)
            return false;
        if ((hdr & 0xffff) == PCIE_ECAP_ID_ACS) {
            uint16_t cap;
            pci_read_config_word(p, (int)off + PCIE_ACS_CAP, &cap);
            uint16_t need = PCIE_ACS_SV | PCIE_ACS_RR | PCIE_ACS_CR | 0x0010 /* UF */;
            return (cap & need) == need;
        }
        off = hdr >> 20;
    }
    return false;
}
