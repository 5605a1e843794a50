/* Configuration notes (setup.h). Every source line named here was read in
 * the trees docs/linux/x86-dma-irq.md lists: mincepi/linux-4.9.80 (4.9.80),
 * a4913994/linux-4.20 (4.20.0), sndrzt/linux-5.15 (5.15.0) and
 * krr-io/linux-6.1.0 (6.1-rc7); docs/variations.md quotes them. */
#include "diag/setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devices/devices.h"
#include "devices/ecp5_dma.h"
#include "host/amd_iommu.h"
#include "host/intel_iommu.h"
#include "host/module.h"
#include "host/pci.h"
#include "iommu/amdvi_fmt.h"
#include "mem/physmem.h"
#include "pcie/caps.h"
#include "pcie/topology.h"

/* Where each version keeps the rules the notes cite. */
struct src_lines {
    unsigned major, minor;
    const char *msi;      /* one MSI vector without interrupt remapping */
    const char *soft;     /* iommu=soft and the IOMMU detection walk */
    const char *off;      /* iommu=off */
    const char *dte;      /* init_device_table_dma */
    const char *iova;     /* the DMA-API's IOVA allocation for a mask */
    const char *noivrs;   /* no IVRS table: no AMD-Vi */
};

static const struct src_lines srcs[] = {
    {4, 9,
     "arch/x86/kernel/apic/msi.c:99-115 pci_msi_prepare sets X86_IRQ_ALLOC_CONTIGUOUS_VECTORS "
     "for MSI; :130 pci_msi_domain_info (the default MSI domain) lacks MSI_FLAG_MULTI_PCI_MSI, "
     ":161 pci_msi_ir_domain_info (interrupt remapping) has it; drivers/pci/msi.c:1371 "
     "pci_msi_domain_check_cap returns 1 for multi-MSI on a domain without it; :1100-1109 "
     "__pci_enable_msi_range retries with nvec = 1; arch/x86/kernel/apic/vector.c:342 refuses "
     "contiguous vectors (Linux 4.9.80)",
     "arch/x86/kernel/pci-dma.c:194 iommu=soft sets swiotlb = 1; pci-swiotlb.c:69-81 "
     "pci_swiotlb_detect_override returns it and is IOMMU_INIT_FINISH; pci-dma.c:66-76 "
     "pci_iommu_alloc stops at the first FINISH entry detected, before amd_iommu_detect "
     "(drivers/iommu/amd_iommu_init.c:2698); early_amd_iommu_init (:2214) then refuses "
     "interrupt remapping too (amd_iommu_detected false) (Linux 4.9.80)",
     "arch/x86/kernel/pci-dma.c:159 iommu=off sets no_iommu; drivers/iommu/amd_iommu_init.c:2539 "
     "amd_iommu_detect returns -ENODEV (Linux 4.9.80)",
     "drivers/iommu/amd_iommu_init.c:1885-1893 init_device_table_dma sets V and TV for every "
     "devid up to last_bdf; drivers/iommu/amd_iommu.c:411-430 check_device skips devids the "
     "IVRS does not list, :1808 set_dte_entry gives IR|IW only to attached devices (Linux 4.9.80)",
     "drivers/iommu/amd_iommu.c:1537-1553 dma_ops_alloc_iova tries below 4 GiB first when the "
     "mask is wider (Linux 4.9.80)",
     "drivers/iommu/amd_iommu_init.c:2217 early_amd_iommu_init finds no IVRS "
     "(acpi_get_table_with_size), so amd_iommu_detect (:2535) fails: direct DMA (Linux 4.9.80)"},
    {4, 20,
     "arch/x86/kernel/apic/msi.c:108 pci_msi_prepare (X86_IRQ_ALLOC_CONTIGUOUS_VECTORS), :127 "
     "pci_msi_domain_info without MSI_FLAG_MULTI_PCI_MSI, :165 pci_msi_ir_domain_info with it; "
     "drivers/pci/msi.c:1351 pci_msi_domain_check_cap; :1058-1067 __pci_enable_msi_range "
     "retries with nvec = 1; arch/x86/kernel/apic/vector.c:531 (Linux 4.20)",
     "arch/x86/kernel/pci-dma.c:139 iommu=soft sets swiotlb = 1; pci-swiotlb.c:26-33 "
     "pci_swiotlb_detect_override, IOMMU_INIT_FINISH; pci-dma.c:75 the walk stops before "
     "amd_iommu_detect (drivers/iommu/amd_iommu_init.c:2966); early_amd_iommu_init (:2448) "
     "refuses interrupt remapping (Linux 4.20)",
     "drivers/iommu/amd_iommu_init.c:2807 amd_iommu_detect returns -ENODEV for no_iommu "
     "(Linux 4.20)",
     "drivers/iommu/amd_iommu_init.c:2074 init_device_table_dma: V and TV for every devid up to "
     "last_bdf (Linux 4.20)",
     "drivers/iommu/amd_iommu.c dma_ops_alloc_iova: below 4 GiB first (Linux 4.20)",
     "drivers/iommu/amd_iommu_init.c:2451 early_amd_iommu_init finds no IVRS, so "
     "amd_iommu_detect (:2803) fails: direct DMA (Linux 4.20)"},
    {5, 15,
     "arch/x86/kernel/apic/msi.c:170 pci_msi_prepare (X86_IRQ_ALLOC_CONTIGUOUS_VECTORS), :181 "
     "pci_msi_domain_info without MSI_FLAG_MULTI_PCI_MSI, :229 pci_msi_ir_domain_info with it; "
     "drivers/pci/msi.c:1312 pci_msi_domain_check_cap; :1026-1035 __pci_enable_msi_range "
     "retries with nvec = 1; arch/x86/kernel/apic/vector.c:543 (Linux 5.15)",
     "arch/x86/kernel/pci-dma.c:104 iommu=soft sets swiotlb = 1; pci-swiotlb.c:25-32 "
     "pci_swiotlb_detect_override, IOMMU_INIT_FINISH; pci-dma.c:52 the walk stops before "
     "amd_iommu_detect (drivers/iommu/amd/init.c:3225); early_amd_iommu_init (:2680) refuses "
     "interrupt remapping (Linux 5.15)",
     "drivers/iommu/amd/init.c:3062 amd_iommu_detect returns -ENODEV for no_iommu (Linux 5.15)",
     "drivers/iommu/amd/init.c:2302 init_device_table_dma: V and TV for every devid up to "
     "last_bdf (Linux 5.15)",
     "drivers/iommu/dma-iommu.c iommu_dma_alloc_iova: below 4 GiB first for PCI devices unless "
     "iommu.forcedac=1 (Linux 5.15)",
     "drivers/iommu/amd/init.c:2704 early_amd_iommu_init finds no IVRS, so amd_iommu_detect "
     "(:3079) fails: direct DMA (Linux 5.15)"},
    {6, 1,
     "arch/x86/kernel/apic/msi.c:168 pci_msi_prepare (X86_IRQ_ALLOC_CONTIGUOUS_VECTORS), :179 "
     "pci_msi_domain_info without MSI_FLAG_MULTI_PCI_MSI, :227 pci_msi_ir_domain_info with it; "
     "drivers/pci/msi/irqdomain.c:83 pci_msi_domain_check_cap; drivers/pci/msi/msi.c:905-914 "
     "__pci_enable_msi_range retries with nvec = 1; arch/x86/kernel/apic/vector.c:543 "
     "(Linux 6.1)",
     "arch/x86/kernel/pci-dma.c:173 iommu=soft only sets x86_swiotlb_enable; :113-121 "
     "pci_iommu_alloc has no detection walk any more and calls amd_iommu_detect anyway "
     "(Linux 6.1)",
     "arch/x86/kernel/pci-dma.c:138 iommu=off sets no_iommu; drivers/iommu/amd/init.c:3325 "
     "amd_iommu_detect returns -ENODEV (Linux 6.1)",
     "drivers/iommu/amd/init.c:2549 init_device_table_dma: V and TV for every devid up to "
     "last_bdf (Linux 6.1)",
     "drivers/iommu/dma-iommu.c iommu_dma_alloc_iova: below 4 GiB first for PCI devices unless "
     "iommu.forcedac=1 (Linux 6.1)",
     "drivers/iommu/amd/init.c:2983 early_amd_iommu_init finds no IVRS, so amd_iommu_detect "
     "(:3331 iommu_go_to_state(IOMMU_IVRS_DETECTED)) fails: direct DMA (Linux 6.1)"},
};

static const struct src_lines *src_of(const struct host_kver *kv)
{
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++)
        if (srcs[i].major == kv->major && srcs[i].minor == kv->minor)
            return &srcs[i];
    return &srcs[sizeof srcs / sizeof srcs[0] - 1];
}

static struct diag_setup_note *note_add(struct diag_setup *s, enum diag_setup_id id,
                                        const char *key)
{
    if (s->n == DIAG_SETUP_MAX_NOTES)
        return NULL;
    struct diag_setup_note *n = &s->notes[s->n++];
    memset(n, 0, sizeof *n);
    n->id = id;
    n->key = key;
    return n;
}

__attribute__((format(printf, 3, 4))) static void put(char *buf, size_t len, const char *fmt,
                                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void alt(struct diag_setup_note *n,
                                                      const char *fmt, ...)
{
    if (n->nalt == DIAG_SETUP_MAX_ALTS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->alt[n->nalt++], sizeof n->alt[0], fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Reading the machine */

static const struct scn_sysfn *find_board(const struct scn_system *sys)
{
    for (size_t i = 0; i < scn_system_count(sys); i++) {
        const struct scn_sysfn *f = scn_system_at(sys, i);
        if (f->dev && !strcmp(dev_model_name(f->dev), "ecp5_dma"))
            return f;
    }
    return NULL;
}

static bool param_value(const struct dev_model *m, const char *key, union dev_value *v)
{
    const struct dev_model_info *info = dev_model_info(m);
    const char *text = dev_model_param(m, key);
    for (size_t i = 0; text && i < info->nparams; i++)
        if (!strcmp(info->params[i].key, key))
            return dev_param_parse(info->name, &info->params[i], text, v, NULL) == 0;
    return false;
}

/* A register of the board as its BAR0 holds it now (the model's own read
 * callback: no TLP, no side effect on these registers). */
static uint32_t board_reg(const struct pcie_fn *fn, unsigned off)
{
    const struct pcie_fn_ops *ops = pcie_fn_ops(fn);
    uint32_t v = 0;
    uint8_t b[4];
    if (ops && ops->mmio_read &&
        ops->mmio_read(pcie_fn_ctx(fn), (struct pcie_fn *)fn, 0, off, b, 4) == PCIE_CPL_SC)
        v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return v;
}

static unsigned mask_bits(uint64_t mask)
{
    unsigned n = 0;
    while (n < 64 && (mask >> n) & 1)
        n++;
    return n;
}

/* Which pages past the buffer's page the board's own domain maps: a write
 * running past its buffer faults only where nothing is mapped. */
static void read_overrun(const struct host_amd_iommu *a, uint16_t self,
                         struct diag_setup_facts *f)
{
    uint64_t end = f->handle + f->payload;
    for (uint64_t pg = (f->handle | 4095) + 1; pg < end; pg += 4096) {
        struct host_amd_iommu_mapping mp[8];
        size_t n = host_amd_iommu_iova_lookup(a, pg, mp, 8);
        bool mine = false;
        for (size_t i = 0; i < n && i < 8; i++)
            mine |= mp[i].domain_id == f->board_domain && mp[i].iw;
        if (mine && !f->overrun_mapped++)
            f->overrun_first_mapped = pg;
        f->overrun_unmapped += !mine;
    }
    uint16_t ids[64];
    size_t n = host_amd_iommu_domain_devids(a, f->board_domain, ids, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (ids[i] != self && f->n_overrun_sharers < 8)
            f->overrun_sharers[f->n_overrun_sharers++] = ids[i];
}

static void read_board(struct host_kernel *k, const struct scn_system *sys,
                       const struct scn_sysfn *sf, struct diag_setup_facts *f)
{
    const struct pcie_fn *fn = sf->fn;
    const struct pcie_cfg *cfg = pcie_fn_cfg(fn);
    f->board = true;
    pcie_bdf_str(pcie_fn_bdf(fn), f->board_bdf);
    union dev_value v;
    f->board_rid = param_value(sf->dev, "write_rid", &v) ? dev_rid_resolve(&v.rid, fn) : 0;
    struct dev_counters c;
    dev_model_counters(sf->dev, &c);
    f->uart_events = c.events;
    f->uart_folded = c.msis_folded;
    f->cycles = c.cycles;
    f->write_tlps = c.write_tlps;
    if (c.cycles)
        f->payload = c.write_bytes / c.cycles;
    else if (param_value(sf->dev, "payload", &v))
        f->payload = v.u;
    f->mps = pcie_exp_present(cfg) ? pcie_exp_mps(cfg) : 4096;
    f->handle = (uint64_t)board_reg(fn, ECP5_DMA_REG_DMA_ADDR_HI) << 32 |
                board_reg(fn, ECP5_DMA_REG_DMA_ADDR_LO);
    uint8_t msi = pcie_cap_find(cfg, 0x05); /* MSI capability ID, PCI 3.0 6.8.1 */
    f->msix_cap = pcie_cap_find(cfg, 0x11) != 0;
    if (msi) {
        /* Message Control (PCI Local Bus 3.0 6.8.1.3): MMC 3:1, MME 6:4, Enable 0 */
        uint16_t mc = pcie_cfg_raw_read16(cfg, msi + 2u);
        f->msi_capable = 1u << (mc >> 1 & 7);
        f->msi_enabled = (mc & 1) ? 1u << (mc >> 4 & 7) : 0;
    }
    struct pci_dev *p = host_pci_of_fn(k, fn);
    if (p) {
        f->board_driver = p->dev.driver_name && (p->msi_enabled || p->msix_enabled);
        f->nvec = p->nvec;
        f->msi_remapped = p->msi_remapped;
        f->dma_bits = mask_bits(p->dev.dma_mask ? *p->dev.dma_mask : 0);
        struct host_amd_iommu *a = host_amd_iommu_of(k);
        uint16_t dom;
        bool identity;
        int grp;
        if (a && host_amd_iommu_dev_domain(a, p, &dom, &identity, &grp)) {
            f->handle_domain = !identity && f->board_rid == pcie_fn_bdf(fn);
            f->board_domain = dom;
        }
        if (f->handle_domain)
            read_overrun(a, pcie_fn_bdf(fn), f);
    }
    const struct host_module_inst *mi = host_module_find(k, "ecp5_dma");
    if (mi && host_module_param_get(mi, "irq_sharing", f->irq_sharing, sizeof f->irq_sharing) < 0)
        f->irq_sharing[0] = '\0';
    /* With fewer vectors enabled than the UARTs' vector needs, their MSIs go
     * out as vector 0's message (the folded count); only a handler that
     * reads UART_STATUS serves them. */
    bool shared = f->msi_enabled == 1 && !f->msix_cap;
    if (shared && !strcmp(f->irq_sharing, "none"))
        f->uart_lost = f->uart_folded;
    (void)sys;
}

/* The device models with a bound driver, and the DMA domain each got. */
static void read_devs(struct host_kernel *k, const struct scn_system *sys,
                      struct diag_setup_facts *f)
{
    struct host_amd_iommu *a = host_amd_iommu_of(k);
    for (size_t i = 0; i < scn_system_count(sys) && f->ndevs < DIAG_SETUP_MAX_DEVS; i++) {
        const struct scn_sysfn *sf = scn_system_at(sys, i);
        struct pci_dev *pd = sf->dev ? host_pci_of_fn(k, sf->fn) : NULL;
        if (!pd || !pd->dev.driver_name)
            continue;
        struct diag_setup_dev *d = &f->devs[f->ndevs++];
        pcie_bdf_str(pcie_fn_bdf(sf->fn), d->bdf);
        d->model = dev_model_name(sf->dev);
        d->driver = pd->dev.driver_name;
        d->domain_known = a && host_amd_iommu_dev_domain(a, pd, &d->domain, &d->identity, NULL);
        struct host_intel_iommu *v = host_intel_iommu_of(k);
        d->unit = -1;
        if (!a && v) {
            d->domain_known = host_intel_iommu_dev_domain(v, pd, &d->domain, &d->identity, NULL);
            unsigned ui;
            struct host_intel_iommu_unit_info u;
            if (host_intel_iommu_dev_unit(v, pd, &ui, NULL) &&
                host_intel_iommu_unit_info(v, ui, &u) == 0) {
                d->unit = (int)ui;
                d->unit_ignored = u.ignored;
                d->unit_gfx = u.gfx_dedicated;
            }
        }
    }
}

static void read_dte0(struct host_kernel *k, const struct scn_system *sys,
                      struct diag_setup_facts *f)
{
    struct host_amd_iommu *a = host_amd_iommu_of(k);
    if (!a)
        return;
    struct host_amd_iommu_info info;
    host_amd_iommu_get_info(a, &info);
    uint8_t raw[AMDVI_DTE_SIZE];
    if (!info.dev_table_pa ||
        mem_phys_read(scn_system_ram(sys), info.dev_table_pa, raw, sizeof raw, NULL) < 0)
        return;
    struct amdvi_dte d;
    amdvi_dte_decode(raw, &d);
    f->dte0_read = true;
    f->dte0_blocks_writes = d.v && d.tv && !d.iw;
}

static void read_facts(struct host_kernel *k, const struct scn_system *sys,
                       struct diag_setup_facts *f)
{
    const struct host_bootparams *bp = &k->bootparams;
    memset(f, 0, sizeof *f);
    snprintf(f->version, sizeof f->version, "%s", host_kver_name(k->kver));
    f->no_iommu = bp->no_iommu;
    f->soft = bp->x86_swiotlb;
    f->force = bp->force_iommu;
    f->pt = k->kver->iommu_pt_sets_default_domain ? bp->iommu_def_passthrough
                                                  : bp->iommu_pass_through;
    struct host_amd_iommu *a = host_amd_iommu_of(k);
    if (a) {
        struct host_amd_iommu_info info;
        host_amd_iommu_get_info(a, &info);
        f->amdvi = info.enabled;
        f->irq_remap = info.irq_remap;
        f->faults = info.events_printed;
    }
    const struct scn_sysfn *b = find_board(sys);
    if (b)
        read_board(k, sys, b, f);
    read_dte0(k, sys, f);
    f->iommu_fns = scn_system_iommu_count(sys);
    f->vtd_units = scn_system_vtd_count(sys);
    struct host_intel_iommu *v = host_intel_iommu_of(k);
    if (v) {
        struct host_intel_iommu_info info;
        host_intel_iommu_get_info(v, &info);
        f->vtd_dma = info.dma_remapping;
        f->vtd_irq_remap = info.irq_remapping;
        f->vtd_lazy = info.lazy;
        if (!a)
            f->faults = info.faults_printed;
    }
    f->dmar_disabled = bp->dmar_disabled;
    f->intel_default_on = k->kver->intel_iommu_default_on;
    for (const char *p = k->cmdline; (p = strstr(p, "intel_iommu=")) != NULL; p++) {
        /* the option takes a comma-separated list (intel_iommu_setup) */
        const char *o = p + 12;
        size_t n = strcspn(o, " ");
        for (const char *q = o; q < o + n; q += strcspn(q, ", ") + 1)
            if (!strncmp(q, "off", 3) && (q[3] == ',' || q[3] == ' ' || !q[3]))
                f->intel_off_cmdline = true;
            else if (!strncmp(q, "on", 2) && (q[2] == ',' || q[2] == ' ' || !q[2]))
                f->intel_off_cmdline = false;
    }
    read_devs(k, sys, f);
}

/* ------------------------------------------------------------------ */
/* The notes */

static const char *rid_words(const struct diag_setup_facts *f, char *buf)
{
    if (f->board_rid == 0)
        return "0000 (00:00.0, the host bridge)";
    pcie_bdf_str(f->board_rid, buf);
    return buf;
}

/* "00:03.0 (model edu, driver edu): translated DMA domain 2; ..." for the
 * machine's devices with a driver; "" when none. */
static void devs_words(const struct diag_setup_facts *f, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->ndevs && used < len; i++) {
        const struct diag_setup_dev *d = &f->devs[i];
        char dom[160];
        int k = 0;
        if (d->domain_known && d->identity)
            k = snprintf(dom, sizeof dom, "identity domain %u", d->domain);
        else if (d->domain_known)
            k = snprintf(dom, sizeof dom, "translated DMA domain %u", d->domain);
        else
            k = snprintf(dom, sizeof dom, "no IOMMU domain");
        /* several DRHDs: which unit, and why an ignored one does nothing */
        if (f->vtd_units > 1 && k > 0 && (size_t)k < sizeof dom) {
            if (d->unit < 0)
                snprintf(dom + k, sizeof dom - (size_t)k, " (in no DRHD's scope)");
            else if (d->unit_ignored)
                snprintf(dom + k, sizeof dom - (size_t)k, " (dmar%d, ignored by the kernel: %s)",
                         d->unit, d->unit_gfx ? "its scope has only graphics devices and "
                                                "intel_iommu=igfx_off"
                                              : "no device of its scope is present");
            else
                snprintf(dom + k, sizeof dom - (size_t)k, " on dmar%d", d->unit);
        }
        int n = snprintf(buf + used, len - used, "%s%s (model %s, driver %s): %s",
                         i ? "; " : "", d->bdf, d->model, d->driver, dom);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (used && used + 1 < len)
        snprintf(buf + used, len - used, ".");
}

/* ------------------------------------------------------------------ */
/* VT-d: where each version keeps the Intel IOMMU driver's rules
 * (docs/linux/intel-iommu.md, which names the trees; line numbers are
 * given where that document read them, else the function). */
struct vtd_src {
    unsigned major, minor;
    const char *dflt;     /* dmar_disabled's initial value */
    const char *off;      /* intel_iommu=off / iommu=off stop intel_iommu_init */
    const char *ir;       /* interrupt remapping, independent of DMA remapping */
    const char *dom;      /* the default domain: DMA or identity (iommu=pt) */
    const char *flush;    /* strict or lazy unmap */
    const char *fault;    /* dmar_fault */
};

static const struct vtd_src vsrcs[] = {
    {4, 9,
     "drivers/iommu/intel-iommu.c:497 dmar_disabled = 1 unless "
     "CONFIG_INTEL_IOMMU_DEFAULT_ON (taken as unset) (Linux 4.9.80)",
     "drivers/iommu/intel-iommu.c:4812 intel_iommu_init returns before \"No RMRR found\" "
     "when dmar_disabled or no_iommu (Linux 4.9.80)",
     "drivers/iommu/intel_irq_remapping.c:790 \"Enabled IRQ remapping\", set up from the "
     "DMAR by enable_IR_x2apic whatever intel_iommu= says (Linux 4.9.80)",
     "drivers/iommu/intel-iommu.c init_dmars: iommu=pt gives devices si_domain, context "
     "entries TT 2 with hw_pass_through; DMA domains at the first mapping "
     "(get_valid_domain_for_dev) (Linux 4.9.80)",
     "drivers/iommu/intel-iommu.c add_unmap: lazy unmap, a deferred flush at 250 entries "
     "or 10 ms; intel_iommu=strict flushes at unmap (Linux 4.9.80)",
     "drivers/iommu/dmar.c:1604 dmar_fault, :1582 dmar_fault_do_one (Linux 4.9.80)"},
    {4, 20,
     "drivers/iommu/intel-iommu.c:395 dmar_disabled = 1 unless "
     "CONFIG_INTEL_IOMMU_DEFAULT_ON (taken as unset) (Linux 4.20)",
     "drivers/iommu/intel-iommu.c intel_iommu_init returns before \"No RMRR found\" when "
     "dmar_disabled or no_iommu (Linux 4.20)",
     "drivers/iommu/intel_irq_remapping.c \"Enabled IRQ remapping\", set up from the DMAR "
     "by enable_IR_x2apic whatever intel_iommu= says (Linux 4.20)",
     "drivers/iommu/intel-iommu.c init_dmars: iommu=pt gives devices si_domain, context "
     "entries TT 2 with hw_pass_through (Linux 4.20)",
     "drivers/iommu/intel-iommu.c queue_iova: lazy unmap through the IOVA flush queue; "
     "intel_iommu=strict flushes at unmap (Linux 4.20)",
     "drivers/iommu/dmar.c:1615 dmar_fault, :1593 dmar_fault_do_one (Linux 4.20)"},
    {5, 15,
     "drivers/iommu/intel/iommu.c:331 dmar_disabled = "
     "!IS_ENABLED(CONFIG_INTEL_IOMMU_DEFAULT_ON) (taken as unset) (Linux 5.15)",
     "drivers/iommu/intel/iommu.c intel_iommu_init returns before \"No RMRR found\" "
     "(:4376) when dmar_disabled or no_iommu (Linux 5.15)",
     "drivers/iommu/intel/irq_remapping.c \"Enabled IRQ remapping\", set up from the DMAR "
     "by enable_IR_x2apic whatever intel_iommu= says (Linux 5.15)",
     "drivers/iommu/iommu.c iommu_subsys_init \"Default domain type: Translated\" (iommu=pt: "
     "Passthrough); drivers/iommu/intel/iommu.c device_def_domain_type, "
     "domain_context_mapping_one: TT 2 for identity with hw_pass_through (Linux 5.15)",
     "drivers/iommu/dma-iommu.c flush queue (CONFIG_IOMMU_DEFAULT_DMA_LAZY: \"DMA domain TLB "
     "invalidation policy: lazy mode\"); iommu.strict=1 flushes at unmap (Linux 5.15)",
     "drivers/iommu/intel/dmar.c:1966 dmar_fault, :1935 dmar_fault_do_one (Linux 5.15)"},
    {6, 1,
     "drivers/iommu/intel/iommu.c:282 dmar_disabled = "
     "!IS_ENABLED(CONFIG_INTEL_IOMMU_DEFAULT_ON); Debian's linux-source-6.1 iommu.c:308 "
     "dmar_disabled = IS_ENABLED(CONFIG_INTEL_IOMMU_DEFAULT_OFF), unset in Debian's config: "
     "on by default (Linux 6.1)",
     "drivers/iommu/intel/iommu.c:3980 intel_iommu_init returns before \"No RMRR found\" "
     "(:4003) when dmar_disabled or no_iommu (Linux 6.1)",
     "drivers/iommu/intel/irq_remapping.c:850 \"Enabled IRQ remapping\", set up from the "
     "DMAR by enable_IR_x2apic whatever intel_iommu= says (Linux 6.1)",
     "drivers/iommu/iommu.c iommu_subsys_init \"Default domain type: Translated\" (iommu=pt: "
     "Passthrough); drivers/iommu/intel/iommu.c:2681 device_def_domain_type, "
     "domain_context_mapping_one: TT 2 for identity with hw_pass_through (Linux 6.1)",
     "drivers/iommu/dma-iommu.c flush queue (CONFIG_IOMMU_DEFAULT_DMA_LAZY: \"DMA domain TLB "
     "invalidation policy: lazy mode\"); iommu.strict=1 flushes at unmap; strict forced "
     "with CAP.CM (Linux 6.1)",
     "drivers/iommu/intel/dmar.c:1949 dmar_fault, :1912 dmar_fault_do_one (Linux 6.1)"},
};

static const struct vtd_src *vsrc_of(const struct host_kver *kv)
{
    for (size_t i = 0; i < sizeof vsrcs / sizeof vsrcs[0]; i++)
        if (vsrcs[i].major == kv->major && vsrcs[i].minor == kv->minor)
            return &vsrcs[i];
    return &vsrcs[sizeof vsrcs / sizeof vsrcs[0] - 1];
}

/* Where the version ignores a DRHD (docs/linux/intel-iommu.md j). */
static const char *ignore_src(const struct host_kver *kv)
{
    if (kv->major == 4 && kv->minor == 9)
        return "drivers/iommu/intel-iommu.c:4074 init_no_remapping_devices: a DRHD whose scope "
               "has no present device, or only graphics devices with igfx_off, is ignored "
               "(Linux 4.9.80)";
    if (kv->major == 4)
        return "drivers/iommu/intel-iommu.c:3976 init_no_remapping_devices: a DRHD whose scope "
               "has no present device, or only graphics devices with igfx_off, is ignored "
               "(Linux 4.20)";
    if (kv->major == 5)
        return "drivers/iommu/intel/iommu.c:3461 init_no_remapping_devices: a DRHD whose scope "
               "has no present device, or only graphics devices with igfx_off, is ignored "
               "(Linux 5.15)";
    return "drivers/iommu/intel/iommu.c:3062 init_no_remapping_devices: a DRHD whose scope has "
           "no present device, or only graphics devices with igfx_off, is ignored (Linux 6.1)";
}

/* The IOMMU note of a machine whose IOMMU is VT-d (a DMAR with DRHDs). */
static void note_iommu_vtd(struct diag_setup *s, const struct host_kernel *k, const char *devs)
{
    const struct diag_setup_facts *f = &s->facts;
    const struct vtd_src *src = vsrc_of(k->kver);
    const char *ir = f->vtd_irq_remap ? "on" : "off";
    const char *lands = "an access outside a device's buffers lands in memory silently (the "
                        "DMA watch names such accesses)";
    struct diag_setup_note *n;
    if (f->no_iommu || (f->dmar_disabled && !f->vtd_dma)) {
        bool cmd = f->no_iommu || f->intel_off_cmdline;
        n = note_add(s, f->no_iommu ? DIAG_SETUP_IOMMU_OFF : DIAG_SETUP_VTD_OFF,
                     f->no_iommu ? "iommu=off" : "intel_iommu=off");
        if (f->no_iommu)
            put(n->title, sizeof n->title, "iommu=off: the DMAR is read, no DMA remapping; "
                "interrupt remapping %s", ir);
        else if (cmd)
            put(n->title, sizeof n->title, "intel_iommu=off: the DMAR is read, no DMA "
                "remapping; interrupt remapping %s", ir);
        else
            put(n->title, sizeof n->title, "VT-d DMA remapping off by default in Linux %s; "
                "interrupt remapping %s", f->version, ir);
        put(n->text, sizeof n->text,
            "The firmware's DMAR lists %zu remapping unit%s and the kernel reads it (the DRHD "
            "lines), but %s, so intel_iommu_init stops before \"No RMRR found\": no root table, "
            "translation stays disabled (GSTS.TES=0), a device's DMA address is a physical "
            "address and nothing checks its accesses (%llu DMAR faults); %s. Interrupt "
            "remapping is set up from the same table independently and is %s. %s",
            f->vtd_units, f->vtd_units == 1 ? "" : "s",
            f->no_iommu ? "iommu=off sets no_iommu"
            : cmd       ? "intel_iommu=off sets dmar_disabled"
                        : "this version's dmar_disabled starts at 1 "
                          "(CONFIG_INTEL_IOMMU_DEFAULT_ON unset)",
            (unsigned long long)f->faults, lands, ir, devs);
        put(n->source, sizeof n->source, "%s; %s; %s", cmd ? src->off : src->dflt,
            cmd ? src->dflt : src->off, src->ir);
        alt(n, f->no_iommu || cmd ? "without it (or intel_iommu=on) the unit translates and "
                                    "refuses (and logs) every access outside a device's "
                                    "mappings"
                                  : "intel_iommu=on: the unit translates and refuses (and "
                                    "logs) every access outside a device's mappings");
    } else if (f->pt) {
        n = note_add(s, DIAG_SETUP_IOMMU_PT, "iommu=pt");
        put(n->title, sizeof n->title, "iommu=pt: identity domains (context entries TT=2, "
            "pass-through); interrupt remapping stays %s", ir);
        put(n->text, sizeof n->text,
            "Every device gets the identity domain: its context entry has Translation Type "
            "2 (pass-through, ECAP.PT), so its DMA is not translated and its DMA addresses are "
            "physical; nothing checks the accesses, so %s (%llu DMAR faults in this run). %s",
            lands, (unsigned long long)f->faults, devs);
        put(n->source, sizeof n->source, "%s; VT-d 9.3 (context entry TT 10b: "
            "pass-through)", src->dom);
        alt(n, "without iommu=pt the unit translates and refuses (and logs) every access "
               "outside a device's mappings");
    } else {
        n = note_add(s, f->force ? DIAG_SETUP_IOMMU_FORCE : DIAG_SETUP_IOMMU_DEFAULT,
                     f->force ? "iommu=force" : "iommu");
        put(n->title, sizeof n->title, "VT-d %s: translated DMA domains, %s invalidation",
            f->vtd_dma ? "on" : "not translating", f->vtd_lazy ? "lazy" : "strict");
        put(n->text, sizeof n->text,
            "DMA remapping is on (%s): every device gets a translated DMA domain; the DMA "
            "API hands out IOVAs, the unit finds the device's context entry by the "
            "requester ID of each TLP (root entry by bus, context entry by device and "
            "function) and walks its domain's second-level table, and an access outside the "
            "device's mappings faults and is logged (%llu DMAR faults). Unmapping is %s. "
            "Interrupt remapping is %s. %s",
            f->intel_default_on ? "this version's default" : "intel_iommu=on",
            (unsigned long long)f->faults,
            f->vtd_lazy ? "lazy: the IOTLB entry of an unmapped IOVA is flushed later (flush "
                          "queue), so a late access may still land until then"
                        : "strict: the IOTLB is flushed at each unmap",
            ir, devs);
        bool ignored = false;
        for (size_t i = 0; i < f->ndevs; i++)
            ignored |= f->devs[i].unit >= 0 && f->devs[i].unit_ignored;
        put(n->source, sizeof n->source, "%s; %s; %s%s%s", src->dom, src->flush, src->fault,
            ignored ? "; " : "", ignored ? ignore_src(k->kver) : "");
        alt(n, "iommu=pt (identity domains: no translation, no DMAR faults) only hides "
               "a driver's DMA mistakes");
    }
}

/* The IOMMU note of a machine without the seed's ECP5 board: what the mode
 * does to its own devices' DMA, nothing about the board. */
static void note_iommu_generic(struct diag_setup *s, const struct host_kernel *k)
{
    const struct diag_setup_facts *f = &s->facts;
    const struct src_lines *src = src_of(k->kver);
    bool walk = k->kver->swiotlb_soft_skips_iommu;
    char devs[700];
    devs_words(f, devs, sizeof devs);
    struct diag_setup_note *n;
    const char *unchecked = "a device's DMA address is a physical address and nothing checks "
                            "its accesses";
    const char *lands = "an access outside a device's buffers lands in memory silently (the "
                        "DMA watch names such accesses)";
    if (!f->iommu_fns && f->vtd_units) {
        note_iommu_vtd(s, k, devs);
    } else if (!f->iommu_fns) {
        n = note_add(s, DIAG_SETUP_NO_IOMMU, "iommu");
        put(n->title, sizeof n->title, "no IOMMU in this machine: direct DMA");
        put(n->text, sizeof n->text,
            "The machine has no IOMMU function and its firmware no IVRS and no DMAR, so "
            "neither the AMD nor the Intel IOMMU driver starts and there is no interrupt "
            "remapping: %s (%llu IOMMU faults); "
            "%s. %s",
            unchecked, (unsigned long long)f->faults, lands, devs);
        put(n->source, sizeof n->source, "%s", src->noivrs);
        alt(n, "an IOMMU (scenario key iommu: amd-vi) refuses and logs every access outside "
               "a device's mappings");
    } else if (f->no_iommu) {
        n = note_add(s, DIAG_SETUP_IOMMU_OFF, "iommu=off");
        put(n->title, sizeof n->title, "iommu=off: no IOMMU translation and no interrupt "
            "remapping");
        put(n->text, sizeof n->text,
            "no_iommu is set, so the AMD IOMMU driver never starts: %s (%llu IOMMU faults); "
            "%s. %s",
            unchecked, (unsigned long long)f->faults, lands, devs);
        put(n->source, sizeof n->source, "%s", src->off);
        alt(n, "without iommu=off the IOMMU translates and refuses (and logs) every access "
               "outside a device's mappings");
    } else if (f->soft && walk) {
        n = note_add(s, DIAG_SETUP_IOMMU_SOFT, "iommu=soft");
        put(n->title, sizeof n->title,
            "iommu=soft on %s: AMD-Vi is never initialised, so no IO_PAGE_FAULT can appear",
            f->version);
        put(n->text, sizeof n->text,
            "iommu=soft selects swiotlb, and the x86 IOMMU_INIT detection walk ends at "
            "pci_swiotlb_detect_override before amd_iommu_detect runs: no DMA translation, no "
            "interrupt remapping, so %s (%llu IOMMU faults); %s. %s",
            unchecked, (unsigned long long)f->faults, lands, devs);
        put(n->source, sizeof n->source, "%s", src->soft);
        alt(n, "to test without translation on purpose use iommu=off (or amd_iommu=off); "
               "to keep interrupt remapping use iommu=pt");
    } else if (f->pt) {
        n = note_add(s, DIAG_SETUP_IOMMU_PT, "iommu=pt");
        put(n->title, sizeof n->title, "iommu=pt: identity domains for listed devices; "
            "interrupt remapping stays %s", f->irq_remap ? "on" : "off");
        put(n->text, sizeof n->text,
            "Devices the IVRS lists get an identity domain (DTE mode 0 with IR and IW set): "
            "their DMA addresses are physical and pass untranslated, so an access outside a "
            "device's buffers lands in memory without a fault (%llu IOMMU faults in this "
            "run). %s",
            (unsigned long long)f->faults, devs);
        put(n->source, sizeof n->source, "%s; AMD I/O Virtualization Technology (48882) "
            "2.2.2 (DTE Mode 0: IR/IW decide)", src->dte);
        alt(n, "without iommu=pt the IOMMU translates and refuses (and logs) every access "
               "outside a device's mappings");
    } else {
        enum diag_setup_id id = f->soft    ? DIAG_SETUP_IOMMU_SOFT
                                : f->force ? DIAG_SETUP_IOMMU_FORCE
                                           : DIAG_SETUP_IOMMU_DEFAULT;
        n = note_add(s, id, f->soft ? "iommu=soft" : f->force ? "iommu=force" : "iommu");
        if (f->force && !f->soft)
            put(n->title, sizeof n->title, "iommu=force: the same as no option for AMD-Vi");
        else if (f->soft)
            put(n->title, sizeof n->title,
                "iommu=soft on %s: swiotlb is enabled but AMD-Vi still translates", f->version);
        else
            put(n->title, sizeof n->title, "IOMMU %s: translated DMA domains",
                f->amdvi ? "on" : "not translating");
        put(n->text, sizeof n->text,
            "Every device the IVRS lists gets a translated DMA domain: the DMA API hands out "
            "IOVAs, the IOMMU looks up the device table by the requester ID of each TLP and "
            "walks that domain's page table, and an access outside the device's mappings "
            "faults and is logged (%llu IOMMU faults). %s",
            (unsigned long long)f->faults, devs);
        put(n->source, sizeof n->source, "%s", f->soft ? src->soft : src->dte);
    }
}

/* The IOMMU note of the seed's machine: about the ECP5 board's requester ID. */
static void note_iommu_board(struct diag_setup *s, const struct host_kernel *k)
{
    const struct diag_setup_facts *f = &s->facts;
    const struct src_lines *src = src_of(k->kver);
    bool walk = k->kver->swiotlb_soft_skips_iommu;
    char rb[8];
    struct diag_setup_note *n;
    if (f->no_iommu) {
        n = note_add(s, DIAG_SETUP_IOMMU_OFF, "iommu=off");
        put(n->title, sizeof n->title, "iommu=off: no IOMMU translation and no interrupt "
            "remapping");
        put(n->text, sizeof n->text,
            "no_iommu is set, so the AMD IOMMU driver never starts: DMA addresses are "
            "physical addresses and nothing looks at the requester ID, so the board's writes "
            "with requester ID %s land (%llu IOMMU faults). Without the interrupt-remapping "
            "MSI domain x86 grants one MSI vector per device (see msi-vectors).",
            rid_words(f, rb), (unsigned long long)f->faults);
        put(n->source, sizeof n->source, "%s", src->off);
        alt(n, "keep the IOMMU and fix the requester ID: the write engine must use the "
               "bus/device numbers captured from Type 0 configuration writes (PCIe 5.0 "
               "2.2.6.2): --set ecp5.requester_id=captured");
        alt(n, "iommu=pt keeps interrupt remapping (2 MSI vectors) with identity DMA for "
               "the devices the IVRS lists");
    } else if (f->soft) {
        n = note_add(s, DIAG_SETUP_IOMMU_SOFT, "iommu=soft");
        if (walk) {
            put(n->title, sizeof n->title,
                "iommu=soft on %s: AMD-Vi is never initialised, so no IO_PAGE_FAULT can appear",
                f->version);
            put(n->text, sizeof n->text,
                "iommu=soft selects swiotlb, and the x86 IOMMU_INIT detection walk ends at "
                "pci_swiotlb_detect_override before amd_iommu_detect runs: no DMA translation, "
                "no interrupt remapping. The board's writes with requester ID %s land and the "
                "handler sees the data (%llu IOMMU faults in this run). The seed reports "
                "IO_PAGE_FAULT with iommu=soft: that contradicts %s's code. The likely "
                "explanation is that iommu=soft was not on the command line of the kernel that "
                "booted (a GRUB entry edited but not regenerated, another boot entry): check "
                "/proc/cmdline, and that dmesg has no 'AMD-Vi:' lines ('Found IOMMU', "
                "'Interrupt remapping enabled') after such a boot.",
                rid_words(f, rb), (unsigned long long)f->faults, f->version);
        } else {
            put(n->title, sizeof n->title,
                "iommu=soft on %s: swiotlb is enabled but AMD-Vi still translates", f->version);
            put(n->text, sizeof n->text,
                "Since the IOMMU table walk was removed (6.0), iommu=soft only enables swiotlb; "
                "amd_iommu_detect runs anyway, so the IOMMU and interrupt remapping are on and "
                "requester ID %s faults as without the option (%llu IOMMU faults).",
                rid_words(f, rb), (unsigned long long)f->faults);
        }
        put(n->source, sizeof n->source, "%s", src->soft);
        alt(n, "to test without translation on purpose use iommu=off (or amd_iommu=off); "
               "to keep interrupt remapping use iommu=pt");
    } else if (f->pt) {
        n = note_add(s, DIAG_SETUP_IOMMU_PT, "iommu=pt");
        put(n->title, sizeof n->title, "iommu=pt: identity domains for listed devices; "
            "interrupt remapping stays %s", f->irq_remap ? "on" : "off");
        put(n->text, sizeof n->text,
            "Devices the IVRS lists get an identity domain (DTE mode 0 with IR and IW set): "
            "their DMA addresses are physical and pass. Requester ID 0000 (00:00.0) is not one "
            "of them: its device table entry keeps what init_device_table_dma wrote for every "
            "devid (V=1, TV=1, IR=IW=0)%s, so a write with requester ID %s %s (%llu IOMMU "
            "faults in this run). A board that sends the captured requester ID gets its data "
            "through untranslated; interrupt remapping stays on, so multi-vector MSI works.",
            f->dte0_read ? (f->dte0_blocks_writes ? ", read from the device table in memory"
                                                  : " (but the table read here says otherwise)")
                         : "",
            rid_words(f, rb), f->board_rid == 0 ? "still faults" : "does not hit it",
            (unsigned long long)f->faults);
        put(n->source, sizeof n->source, "%s; AMD I/O Virtualization Technology (48882) "
            "2.2.2 (DTE Mode 0: IR/IW decide)", src->dte);
        alt(n, "--set ecp5.requester_id=captured: with pt the data then arrives "
               "untranslated and both MSI vectors stay");
    } else {
        enum diag_setup_id id = f->force ? DIAG_SETUP_IOMMU_FORCE : DIAG_SETUP_IOMMU_DEFAULT;
        n = note_add(s, id, f->force ? "iommu=force" : "iommu");
        if (f->force)
            put(n->title, sizeof n->title, "iommu=force: the same as no option for AMD-Vi");
        else
            put(n->title, sizeof n->title, "IOMMU %s: translated DMA domains",
                f->amdvi ? "on" : "off");
        put(n->text, sizeof n->text,
            "%sEvery device the IVRS lists gets a translated DMA domain: the DMA API hands "
            "out IOVAs, and the IOMMU looks up the device table by the requester ID of each "
            "TLP. A write with requester ID %s %s (%llu IOMMU faults).",
            f->force ? "force_iommu is read only by the GART driver (arch/x86/kernel/"
                       "amd_gart_64.c) and a few early quirks; AMD-Vi translates by default "
                       "anyway. "
                     : "",
            rid_words(f, rb),
            f->board_rid == 0 ? "hits 00:00.0's entry (V=1, TV=1, no write permission) and "
                                "faults"
                              : "uses the board's own entry",
            (unsigned long long)f->faults);
        put(n->source, sizeof n->source, "%s%s", src->dte,
            f->force ? "; arch/x86/kernel/pci-dma.c:162 (4.9) iommu=force sets force_iommu"
                     : "");
        alt(n, "--set ecp5.requester_id=captured (the seed's fix)");
    }
}

static void note_iommu(struct diag_setup *s, const struct host_kernel *k)
{
    if (s->facts.board)
        note_iommu_board(s, k);
    else
        note_iommu_generic(s, k);
}

static void note_msi(struct diag_setup *s, const struct host_kernel *k)
{
    const struct diag_setup_facts *f = &s->facts;
    if (!f->board || !f->board_driver || f->msi_capable < 2)
        return;
    struct diag_setup_note *n = note_add(s, DIAG_SETUP_MSI_VECTORS, "msi-vectors");
    if (f->nvec >= 2) {
        put(n->title, sizeof n->title, "%s: %u MSI vectors, through interrupt remapping",
            f->board_bdf, f->nvec);
        put(n->text, sizeof n->text,
            "The board offers %u MSI vectors and got %u: its MSIs go through the AMD-Vi "
            "interrupt-remapping MSI domain, the only x86 MSI domain with "
            "MSI_FLAG_MULTI_PCI_MSI. The UARTs have their own vector: %llu UART events, none "
            "lost.",
            f->msi_capable, f->nvec, (unsigned long long)f->uart_events);
    } else {
        put(n->title, sizeof n->title, "%s: 1 of %u MSI vectors; %llu of %llu UART "
            "interrupts lost", f->board_bdf, f->msi_capable,
            (unsigned long long)f->uart_lost, (unsigned long long)f->uart_events);
        put(n->text, sizeof n->text,
            "Without interrupt remapping x86 grants a device one MSI vector: the default "
            "MSI domain lacks MSI_FLAG_MULTI_PCI_MSI (the vector allocator cannot promise "
            "the contiguous, aligned vectors multi-MSI needs), so pci_alloc_irq_vectors("
            "pdev, 1, 2, PCI_IRQ_MSI) returns 1. With Multiple Message Enable at %u vector "
            "the function may not change the Message Data, so the board sends every "
            "interrupt as vector 0's message: %llu UART interrupts arrived at vector 0. "
            "The driver's irq_sharing=%s: %s",
            f->msi_enabled, (unsigned long long)f->uart_folded,
            f->irq_sharing[0] ? f->irq_sharing : "?",
            f->uart_lost ? "the DMA-done handler (the seed's driver) only dumps the buffer, "
                           "so every UART event is lost (and the dump runs once more per "
                           "UART event)"
                         : "one handler reads STATUS and UART_STATUS and serves both "
                           "sources, nothing is lost");
        alt(n, "one vector, one handler that tells the sources apart by the status "
               "registers (ecp5_dma irq_sharing=status, the default)");
        alt(n, "keep interrupt remapping on with iommu=pt (and fix the requester ID): "
               "2 vectors");
        alt(n, "MSI-X, which x86 grants per vector without remapping, if the IP core "
               "offers it; the Lattice ECP5 PCIe x1 Endpoint IP's MSI-X support is not "
               "confirmed (its MSI comes from an 8-bit msi request port), so the model "
               "keeps MSI only");
    }
    put(n->source, sizeof n->source, "%s; PCI Local Bus 3.0 6.8.1.3 (Multiple Message "
        "Enable) and 6.8.3.4 (a function with fewer vectors enabled may modify only the "
        "low bits of Message Data)", src_of(k->kver)->msi);
}

static void note_mask(struct diag_setup *s, const struct host_kernel *k)
{
    const struct diag_setup_facts *f = &s->facts;
    if (!f->board || !f->dma_bits)
        return;
    struct diag_setup_note *n = note_add(s, DIAG_SETUP_DMA_MASK, "dma-mask");
    bool below4g = f->handle + (f->payload ? f->payload : 1) - 1 < (1ull << 32);
    put(n->title, sizeof n->title, "%u-bit DMA mask: buffer at 0x%llx", f->dma_bits,
        (unsigned long long)f->handle);
    put(n->text, sizeof n->text,
        "%s The handle 0x%llx is %s. The mask does not change which requester ID the "
        "IOMMU sees: the seed's 32 and 64 give the same faults.",
        f->amdvi ? "Behind the IOMMU the handle is an IOVA, allocated below 4 GiB first even "
                   "with a 64-bit mask, so both masks give a 32-bit address and 3 DW headers."
                 : "Without translation the handle is a physical address from the page "
                   "allocator (or the swiotlb pool).",
        (unsigned long long)f->handle, below4g ? "below 4 GiB" : "above 4 GiB");
    put(n->source, sizeof n->source, "%s", src_of(k->kver)->iova);
}

static void note_payload(struct diag_setup *s)
{
    const struct diag_setup_facts *f = &s->facts;
    if (!f->board || !f->payload)
        return;
    char rb[8];
    uint64_t in_page = 4096 - (f->handle & 4095);
    if (f->payload > in_page) {
        struct diag_setup_note *n = note_add(s, DIAG_SETUP_PAYLOAD_PAGE, "payload-page");
        uint64_t over = f->handle + in_page;
        put(n->title, sizeof n->title, "payload %llu B runs %llu B past the buffer's page "
            "(0x%llx..0x%llx)", (unsigned long long)f->payload,
            (unsigned long long)(f->payload - in_page), (unsigned long long)over,
            (unsigned long long)(f->handle + f->payload - 1));
        const char *what;
        char overrun[640];
        if (!f->amdvi)
            what = "Without translation those bytes overwrite whatever physical memory "
                   "follows the buffer, silently.";
        else if (f->board_rid == 0)
            what = "With requester ID 0000 every TLP faults anyway; once the requester ID "
                   "is fixed, the TLPs beyond the page still fault: a second fault class.";
        else if (f->handle_domain && f->overrun_mapped) {
            char sh[8 * 9 + 1] = "";
            size_t o = 0;
            for (unsigned i = 0; i < f->n_overrun_sharers && o + 9 < sizeof sh; i++)
                o += (size_t)snprintf(sh + o, sizeof sh - o, "%s%02x:%02x.%x", i ? " " : "",
                                      f->overrun_sharers[i] >> 8, f->overrun_sharers[i] >> 3 & 31,
                                      f->overrun_sharers[i] & 7);
            snprintf(overrun, sizeof overrun,
                     "The requester ID is right, and %llu of the %llu pages beyond the "
                     "buffer (the first at 0x%llx) are mapped in the board's own domain %u, which "
                     "it shares with %s: another driver's DMA buffer. Those writes do not "
                     "fault; they silently overwrite that buffer. %llu page(s) are not "
                     "mapped for writing and fault from the board's own BDF (flags 0x0020: "
                     "write, not present; 0x0070 on a read-only mapping).",
                     (unsigned long long)f->overrun_mapped,
                     (unsigned long long)(f->overrun_mapped + f->overrun_unmapped),
                     (unsigned long long)f->overrun_first_mapped, f->board_domain,
                     sh[0] ? sh : "no other device", (unsigned long long)f->overrun_unmapped);
            what = overrun;
        } else if (f->handle_domain)
            what = "The requester ID is right, yet the IOVAs beyond the mapped page are "
                   "not present: IO_PAGE_FAULT from the board's own BDF with flags 0x0020 "
                   "(write, not present), a second fault class.";
        else
            what = "An identity domain lets them through to the physical memory after the "
                   "buffer: silent corruption.";
        put(n->text, sizeof n->text,
            "The driver's coherent buffer is one 4096-byte page at 0x%llx; the board writes "
            "%llu bytes per cycle from there with requester ID %s. %s",
            (unsigned long long)f->handle, (unsigned long long)f->payload,
            rid_words(f, rb), what);
        put(n->source, sizeof n->source, "dma_alloc_coherent maps whole pages "
            "(PAGE_SIZE 4096); AMD I/O Virtualization Technology (48882) 2.5.3 (event "
            "IO_PAGE_FAULT, PR clear: not present)");
        alt(n, "keep PAYLOAD within the buffer, or allocate a buffer as large as the "
               "payload");
    }
    if (f->mps && f->payload > f->mps) {
        struct diag_setup_note *n = note_add(s, DIAG_SETUP_PAYLOAD_MPS, "payload-mps");
        uint64_t per = f->cycles ? f->write_tlps / f->cycles
                                 : (f->payload + f->mps - 1) / f->mps;
        put(n->title, sizeof n->title, "payload %llu B > Max_Payload_Size %u B: %llu write "
            "TLPs per cycle", (unsigned long long)f->payload, f->mps, (unsigned long long)per);
        put(n->text, sizeof n->text,
            "A write larger than Max_Payload_Size is split into TLPs of at most %u bytes "
            "that do not cross 4 KiB; the IOMMU checks each TLP on its own, so a faulting "
            "requester ID gives one IO_PAGE_FAULT per TLP: %llu per cycle here (the seed's "
            "'sometimes even more, depending on the payload size'). %llu faults in %llu "
            "cycles.",
            f->mps, (unsigned long long)per, (unsigned long long)f->faults,
            (unsigned long long)f->cycles);
        put(n->source, sizeof n->source, "PCIe 5.0 2.2.2 (Max_Payload_Size), 2.2.7 (a "
            "request must not cross a 4 KiB boundary), 7.5.3.4 (Device Control: MPS)");
        alt(n, "fix the requester ID; the split itself is normal");
    }
}

int diag_setup_explain(struct host_kernel *k, const struct scn_system *sys,
                       struct diag_setup *out, struct pcilab_err *err)
{
    if (!k || !sys || !out)
        return pcilab_errf(err, PCILAB_EINVAL, "diag_setup_explain: no kernel or machine");
    memset(out, 0, sizeof *out);
    read_facts(k, sys, &out->facts);
    note_iommu(out, k);
    note_msi(out, k);
    note_mask(out, k);
    note_payload(out);
    return 0;
}

const struct diag_setup_note *diag_setup_find(const struct diag_setup *s, enum diag_setup_id id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->notes[i].id == id)
            return &s->notes[i];
    return NULL;
}
