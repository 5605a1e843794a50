/* A small AMD machine for the driver tests, booted by host_boot as pcilab
 * boots the seed: the AMD IOMMU as RCiEP 00:00.2, root port 00:01.0 with a
 * test model of the ECP5 DMA board at 01:00.0, root port 00:02.0 with a test
 * model of the ECP3 CAN card at 02:00.0, the AMD-Vi model at 0xfeb80000,
 * an IVRS selecting all four and the southbridge IOAPIC (so interrupt
 * remapping is on unless the command line turns the IOMMU off).
 *
 * The models implement the boards' register maps (src/devices/ecp5_dma.h
 * and ecp3_can.h, docs/devices.md) and nothing else: the tests trigger
 * their DMA, UART and frame events by hand, with data of their choosing
 * (the real device models live in src/devices; the ECP5 model below also
 * offers MSI-X, which the real board does not). */
#ifndef PCILAB_TESTS_DRIVERS_DRV_MACHINE_H
#define PCILAB_TESTS_DRIVERS_DRV_MACHINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/drivers.h"
#include "../host/amd_iommu_fn.h"
#include "../host/machine_common.h"
#include "host/amd_iommu.h"
#include "host/boot.h"
#include "host/dma.h"
#include "host/irq.h"
#include "host/ivrs.h"
#include "host/kernel.h"
#include "host/module.h"
#include "host/pages.h"
#include "host/pci.h"
#include "iommu/amdvi.h"
#include "mem/addrmap.h"
#include "mem/physmem.h"
#include "pcie/caps.h"
#include "pcie/config.h"
#include "pcie/enumerate.h"
#include "pcie/msi.h"
#include "pcie/route.h"
#include "pcie/topology.h"
#include "sim/sim.h"

#define DRV_AMD_MMIO 0xfeb80000ull

/* ---- The register-level test model (both boards share its shape) ---- */

struct regdev {
    struct pcie_cfg cfg;
    struct pcie_fn *fn;
    uint32_t reg[16];            /* BAR0, dword registers */
    uint8_t bar2[4096];          /* MSI-X table at 0, PBA at 0x800 */
    bool can;                    /* the CAN card's register semantics */
    unsigned uart_acks;          /* writes clearing UART_STATUS.RX_PENDING */
};

/* Dword indices of the registers, both boards (src/devices/ecp5_dma.h,
 * ecp3_can.h). */
enum { R_ID = 0, R_CTRL = 1, R_STATUS = 2, R_SEQ = 3, R_ADDR_LO = 4, R_ADDR_HI = 5,
       R_PAYLOAD = 6, R_INTERVAL = 7, R_READ_OFFSET = 8, R_READ_LEN = 9, R_UART_STATUS = 12,
       R_UART_COUNT = 13 };
enum { C_FRAME_COUNT = 3, C_RING_SIZE = 6, C_FRAME_PERIOD = 7, C_BATCH = 8, C_WR_PTR = 9 };

static enum pcie_cpl_status regdev_read(void *ctx, struct pcie_fn *fn, unsigned bar,
                                        uint64_t off, void *buf, unsigned len)
{
    (void)fn;
    struct regdev *d = ctx;
    if (bar == 2) {
        if (off + len > sizeof d->bar2)
            return PCIE_CPL_CA;
        memcpy(buf, d->bar2 + off, len);
        return PCIE_CPL_SC;
    }
    if (bar != 0 || len != 4 || (off & 3) || off >= sizeof d->reg)
        return PCIE_CPL_CA;
    uint32_t v = d->reg[off / 4];
    memcpy(buf, &v, 4);
    return PCIE_CPL_SC;
}

static enum pcie_cpl_status regdev_write(void *ctx, struct pcie_fn *fn, unsigned bar,
                                         uint64_t off, const void *buf, unsigned len)
{
    (void)fn;
    struct regdev *d = ctx;
    if (bar == 2) {
        if (off + len > sizeof d->bar2)
            return PCIE_CPL_CA;
        memcpy(d->bar2 + off, buf, len);
        return PCIE_CPL_SC;
    }
    if (bar != 0 || len != 4 || (off & 3) || off >= sizeof d->reg)
        return PCIE_CPL_CA;
    uint32_t v;
    memcpy(&v, buf, 4);
    unsigned r = (unsigned)off / 4;
    if (r == R_STATUS)
        d->reg[r] &= ~v;                 /* RW1C */
    else if (!d->can && r == R_UART_STATUS) {
        if (v & d->reg[r] & 1u)
            d->uart_acks++;
        d->reg[r] &= ~v;                 /* RW1C */
    } else if (r == R_ID || r == R_SEQ || (!d->can && r == R_UART_COUNT) ||
               (d->can && r == C_WR_PTR))
        ;                                /* read-only */
    else {
        d->reg[r] = v;
        if (r == R_ADDR_LO) {            /* start=address: the board starts */
            d->reg[R_CTRL] |= 1u;
            if (d->can)
                d->reg[C_WR_PTR] = 0;
        }
    }
    return PCIE_CPL_SC;
}

static const struct pcie_fn_ops regdev_ops = {
    .name = "regdev",
    .mmio_read = regdev_read,
    .mmio_write = regdev_write,
};

static void regdev_init(struct regdev *d, uint16_t device, unsigned msi_vectors, bool msix)
{
    memset(d, 0, sizeof *d);
    struct pcie_cfg_ident id = {.vendor_id = 0x1204, .device_id = device, .class_code = 0x118000,
                                .pcie = true, .interrupt_pin = 1};
    pcie_cfg_init(&d->cfg);
    if (pcie_cfg_init_type0(&d->cfg, &id, NULL) < 0)
        abort();
    struct pcie_exp_params ep;
    memset(&ep, 0, sizeof ep);
    ep.type = PCIE_PORT_ENDPOINT;
    ep.mps_supported = 256;
    ep.max_speed = 2;
    ep.max_width = 1;
    if (pcie_cap_add_exp(&d->cfg, &ep, 0, NULL) < 0)
        abort();
    struct pcie_msi_params mp = {.addr64 = true, .vectors = msi_vectors};
    if (pcie_cap_add_msi(&d->cfg, &mp, 0, NULL) < 0)
        abort();
    if (pcie_cfg_bar_declare(&d->cfg, 0, PCIE_BAR_MEM32, 4096, false, NULL) < 0)
        abort();
    if (msix) {
        if (pcie_cfg_bar_declare(&d->cfg, 2, PCIE_BAR_MEM32, 4096, false, NULL) < 0)
            abort();
        struct pcie_msix_params xp = {.table_size = 2, .table_bir = 2, .table_offset = 0,
                                      .pba_bir = 2, .pba_offset = 0x800};
        struct pcilab_err err;
        if (pcie_cap_add_msix(&d->cfg, &xp, 0, &err) < 0) {
            fprintf(stderr, "msix: %s\n", err.msg);
            abort();
        }
        pcie_msix_table_reset(d->bar2, 2);
    }
    if (device == 0xe3ca) {              /* ecp3_can's reset values */
        d->reg[R_ID] = 0xEC3C0100u;
        d->reg[R_CTRL] = 0x2u;
        d->reg[C_RING_SIZE] = 4096;
        d->reg[C_FRAME_PERIOD] = 1000000;
        d->reg[C_BATCH] = 1;
    } else {                             /* ecp5_dma's */
        d->reg[R_ID] = 0xEC5D0100u;
        d->reg[R_CTRL] = 0xeu;
        d->reg[R_PAYLOAD] = 128;
        d->reg[R_INTERVAL] = 2500000;
        d->reg[R_READ_OFFSET] = 0x40;
        d->reg[R_READ_LEN] = 4;
    }
}

static uint64_t regdev_dma_addr(const struct regdev *d)
{
    return (uint64_t)d->reg[R_ADDR_HI] << 32 | d->reg[R_ADDR_LO];
}

/* Raises interrupt source src (0 DMA/RX, 1 UART): MSI-X entry src when
 * MSI-X is on, else the MSI vector src within what Multiple Message Enable
 * granted (a function granted fewer vectors than it asked for folds its
 * sources onto them, PCIe 5.0 7.7.1.2). */
static int regdev_signal(struct regdev *d, unsigned src)
{
    unsigned x = pcie_cap_find(&d->cfg, PCIE_CAP_ID_MSIX);
    if (x && (pcie_cfg_raw_read16(&d->cfg, x + PCIE_MSIX_CTRL) & 0x8000u))
        return pcie_fn_msix_send(d->fn, d->bar2, 32, d->bar2 + 0x800, 8, src, NULL);
    unsigned m = pcie_cap_find(&d->cfg, PCIE_CAP_ID_MSI);
    unsigned mme = (pcie_cfg_raw_read16(&d->cfg, m + PCIE_MSI_CTRL) >> 4) & 7u;
    return pcie_fn_msi_send(d->fn, src & ((1u << mme) - 1u), NULL);
}

/* The ECP5 board's cycle: the payload (its first dwords given) written to
 * the DMA address, then DMA done. */
static inline int ecp5_cycle(struct regdev *d, uint32_t w0, uint32_t w1)
{
    if ((d->reg[R_CTRL] & 3u) != 3u)     /* EN, DMA_IRQ_EN */
        return -1;
    uint8_t buf[4096];
    memset(buf, 0xa5, sizeof buf);
    memcpy(buf, &w0, 4);
    memcpy(buf + 4, &w1, 4);
    if (pcie_fn_mem_write(d->fn, regdev_dma_addr(d), buf, d->reg[R_PAYLOAD], NULL) < 0)
        return -1;
    d->reg[R_SEQ]++;
    d->reg[R_STATUS] |= 1u;              /* DMA_DONE */
    return regdev_signal(d, 0);
}

/* A UART event: UART_STATUS.RX_PENDING, then the UART vector. */
static inline int ecp5_uart_event(struct regdev *d)
{
    if (!(d->reg[R_CTRL] & 4u))          /* UART_IRQ_EN */
        return -1;
    d->reg[R_UART_COUNT]++;
    d->reg[R_UART_STATUS] |= 1u;
    return regdev_signal(d, 1);
}

/* The CAN card receives one frame: written at WR_PTR, which wraps at
 * RING_SIZE (the card has no read pointer: it overwrites), counted, and
 * signalled (a batch of one) when signal is set. */
static inline int can_rx_frame(struct regdev *d, uint32_t id, unsigned dlc, const uint8_t *data,
                               bool signal)
{
    if (!(d->reg[R_CTRL] & 1u))
        return -1;
    uint8_t f[16] = {0};
    memcpy(f, &id, 4);
    f[4] = (uint8_t)dlc;
    if (data)
        memcpy(f + 8, data, dlc > 8 ? 8 : dlc);
    uint64_t at = regdev_dma_addr(d) + d->reg[C_WR_PTR];
    if (pcie_fn_mem_write(d->fn, at, f, 16, NULL) < 0)
        return -1;
    d->reg[C_WR_PTR] = (d->reg[C_WR_PTR] + 16u) % d->reg[C_RING_SIZE];
    d->reg[C_FRAME_COUNT]++;
    if (!signal)
        return 0;
    d->reg[R_STATUS] |= 1u;              /* BATCH_DONE */
    return (d->reg[R_CTRL] & 2u) ? regdev_signal(d, 0) : 0;
}

static inline int can_rx(struct regdev *d, uint32_t id, unsigned dlc, const uint8_t *data)
{
    return can_rx_frame(d, id, dlc, data, true);
}

/* ---- The machine ---- */

struct drv_machine {
    struct pcilab_sim *sim;
    struct pcie_fabric *f;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct pcie_cfg iommu_cfg;
    struct pcie_fn *iommu_fn, *rp1, *rp2;
    struct regdev ecp5, can;
    struct amdvi *amdvi;
    struct host_kernel *k;
    struct pci_dev *ecp5_pdev, *can_pdev;
    uint8_t ivrs[512];
    long ivrs_len;
    struct pcilab_err err;
};

struct drv_machine_opts {
    const char *version;         /* NULL: 4.9.80, the seed's */
    const char *cmdline;
    bool msix;                   /* the ECP5 model also offers MSI-X (2 entries) */
};

static void drv_machine_build(struct drv_machine *m, const struct drv_machine_opts *o)
{
    memset(m, 0, sizeof *m);
    m->sim = sim_create(1);
    struct pcilab_err *err = &m->err;
    m->f = pcie_fabric_create(m->sim, NULL, err);
    if (!m->f)
        abort();
    amd_iommu_fn_cfg(&m->iommu_cfg, DRV_AMD_MMIO);
    m->iommu_fn = pcie_fabric_add_function(m->f, NULL, 0, 2, &m->iommu_cfg, NULL, NULL, err);
    struct pcie_port_desc rp = {.ident = {.vendor_id = 0x1022, .device_id = 0x157c},
                                .max_link_speed = 3, .max_link_width = 4, .acs = true};
    m->rp1 = pcie_fabric_add_root_port(m->f, 1, 0, &rp, err);
    m->rp2 = pcie_fabric_add_root_port(m->f, 2, 0, &rp, err);
    if (!m->iommu_fn || !m->rp1 || !m->rp2)
        abort();
    regdev_init(&m->ecp5, 0x5045, 2, o->msix);
    regdev_init(&m->can, 0xe3ca, 1, false);
    m->can.can = true;
    m->ecp5.fn = pcie_fabric_add_endpoint(m->f, m->rp1, &m->ecp5.cfg, &regdev_ops, &m->ecp5, err);
    m->can.fn = pcie_fabric_add_endpoint(m->f, m->rp2, &m->can.cfg, &regdev_ops, &m->can, err);
    if (!m->ecp5.fn || !m->can.fn)
        abort();
    tmach_memory_enumerate(m->f, &m->ram, &m->map, err);

    struct amdvi_config ac;
    amdvi_config_default(&ac);
    ac.mmio_base = DRV_AMD_MMIO;
    ac.devid = 0x0002;
    host_amd_iommu_wire_msi(&ac, m->iommu_fn);
    m->amdvi = amdvi_create(m->sim, m->ram, m->map, &ac, err);
    if (!m->amdvi)
        abort();
    iommu_attach_fabric(amdvi_iommu(m->amdvi), m->f, true, 0x0002);

    struct host_ivrs *t = host_ivrs_create();
    struct host_ivhd h = {.type = HOST_IVHD_TYPE_11, .flags = 0xb0, .devid = 0x0002,
                          .cap_offset = 0x40, .mmio_base = DRV_AMD_MMIO, .efr = ac.efr};
    t->hdr.revision = 2;
    t->ivinfo = 1u | 48u << 8 | 64u << 15;
    memcpy(t->hdr.oem_id, "AMD   ", 6);
    int blk = host_ivrs_add_ivhd(t, &h, err);
    const uint16_t sel[] = {0x0008, 0x0100, 0x0010, 0x0200}; /* 00:01.0 01:00.0 00:02.0 02:00.0 */
    for (size_t i = 0; i < sizeof sel / sizeof sel[0]; i++) {
        struct host_ivhd_entry e = host_ivhd_select(sel[i], 0);
        host_ivrs_add_entry(t, (size_t)blk, &e, err);
    }
    struct host_ivhd_entry e = host_ivhd_special(HOST_IVHD_SPECIAL_IOAPIC, 4, 0x00a0, 0xd7);
    host_ivrs_add_entry(t, (size_t)blk, &e, err);
    m->ivrs_len = host_ivrs_encode(t, m->ivrs, sizeof m->ivrs, err);
    host_ivrs_destroy(t);
    if (m->ivrs_len <= 0)
        abort();

    struct host_kernel_config kc = {.version = o->version ? o->version : "4.9.80",
                                    .cmdline = o->cmdline, .ncpus = 2};
    m->k = host_kernel_create(m->sim, m->f, m->ram, m->map, &kc, err);
    if (!m->k)
        abort();
    struct host_firmware fw = {.ivrs = m->ivrs, .ivrs_len = (size_t)m->ivrs_len};
    if (host_boot(m->k, NULL, &fw, err) < 0) {
        fprintf(stderr, "boot: %s\n", err->msg);
        abort();
    }
    m->ecp5_pdev = host_pci_of_fn(m->k, m->ecp5.fn);
    m->can_pdev = host_pci_of_fn(m->k, m->can.fn);
    if (!m->ecp5_pdev || !m->can_pdev)
        abort();
}

static void drv_machine_free(struct drv_machine *m)
{
    tmach_free(m->sim, m->ram, m->map);
}

/* Runs the simulation for d of simulated time. */
static void drv_run(struct drv_machine *m, sim_time_t d)
{
    sim_run_until(m->sim, sim_now(m->sim) + d);
}

/* The log record whose text starts with prefix, from index `from` on; its
 * index, or -1. */
static long drv_log_find(struct drv_machine *m, size_t from, const char *prefix,
                         struct sim_log_rec *out)
{
    const struct sim_log *log = sim_log(m->sim);
    for (size_t i = from; i < sim_log_count(log); i++) {
        struct sim_log_rec r;
        if (sim_log_get(log, i, &r) && strncmp(r.text, prefix, strlen(prefix)) == 0) {
            if (out)
                *out = r;
            return (long)i;
        }
    }
    return -1;
}

static inline size_t drv_log_count_prefix(struct drv_machine *m, const char *prefix)
{
    size_t n = 0;
    const struct sim_log *log = sim_log(m->sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec r;
        if (sim_log_get(log, i, &r) && strncmp(r.text, prefix, strlen(prefix)) == 0)
            n++;
    }
    return n;
}

static inline void drv_log_dump(struct drv_machine *m)
{
    sim_log_dump(sim_log(m->sim), stderr, 0);
}

static inline uint64_t drv_free_pages(struct drv_machine *m)
{
    uint64_t n = 0;
    for (int z = 0; z < 3; z++)
        n += host_pages_free_count(m->k->pages, (enum host_zone)z);
    return n;
}

#endif
