/* The AMD IOMMU driver: detection, tables, registers, commands, device table
 * entries, groups and default domains, boot lines (amd_iommu.h).
 *
 * Sources (read, not copied; docs/linux/amd-iommu.md has the details):
 *   4.9.80  drivers/iommu/amd_iommu_init.c (state_next, early_amd_iommu_init,
 *           early_enable_iommus, iommu_init_flags, iommu_set_device_table,
 *           iommu_enable_command_buffer, iommu_enable_event_buffer,
 *           amd_iommu_init_pci, init_device_table_dma, print_iommu_info),
 *           drivers/iommu/amd_iommu.c (iommu_queue_command_sync, wait_on_sem,
 *           build_* commands, set_dte_entry, do_attach, amd_iommu_add_device,
 *           get_alias), drivers/iommu/iommu.c (iommu_group_get_for_dev,
 *           iommu_group_add_device, iommu_request_dm_for_dev, pci_device_group)
 *   4.20.0  the same files (a4913994/linux-4.20)
 *   5.15.55 drivers/iommu/amd/{init.c,iommu.c}, drivers/iommu/iommu.c
 *           (bus_iommu_probe, iommu_subsys_init) (wowk/linux-5.15)
 *   6.1-rc7 the same (krr-io/linux-6.1.0) */
#include "host/amd_iommu_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/mm.h"
#include "host/pages.h"
#include "mem/addrmap.h"
#include "pcie/caps.h"
#include "pcie/config.h"
#include "sim/table.h"

/* ---- printk ---- */

void amd_pr(struct host_amd_iommu *a, int level, const char *fmt, ...)
{
    char text[SIM_LOG_LINE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (level < 0)
        host_printk(a->k, "%s", text); /* no level: printk("...") */
    else
        host_printk(a->k, "\001%c%s", '0' + (level & 7), text);
}

/* lib/ratelimit.c ___ratelimit with DEFAULT_RATELIMIT_INTERVAL (5 * HZ) and
 * DEFAULT_RATELIMIT_BURST (10), in jiffies of the kernel's HZ. The
 * "callbacks suppressed" line is not modelled. */
bool amd_ratelimit(struct host_amd_iommu *a, struct amd_ratelimit *rs)
{
    uint64_t hz = a->kv->hz ? a->kv->hz : 250;
    uint64_t jiffies = sim_now(a->k->sim) * hz / SIM_S;
    if (!rs->started) {
        rs->started = true;
        rs->begin = jiffies;
    }
    if (jiffies > rs->begin + 5 * hz) {
        rs->begin = jiffies;
        rs->printed = 0;
        rs->missed = 0;
    }
    if (rs->printed < 10) {
        rs->printed++;
        return true;
    }
    rs->missed++;
    return false;
}

/* ---- MMIO: CPU loads and stores to the register block ---- */

uint64_t amd_mmio_read64(struct amd_unit *u, unsigned off)
{
    uint64_t v;
    if (mem_addrmap_read64(u->drv->k->map, u->mmio + off, &v) < 0)
        return ~0ull; /* an unanswered read returns all ones */
    return v;
}

void amd_mmio_write64(struct amd_unit *u, unsigned off, uint64_t v)
{
    mem_addrmap_write64(u->drv->k->map, u->mmio + off, v);
}

/* readl / writel: one 32-bit access (the register path of the address map) */
uint32_t amd_mmio_read32(struct amd_unit *u, unsigned off)
{
    uint32_t v;
    if (mem_addrmap_read32(u->drv->k->map, u->mmio + off, &v) < 0)
        return ~0u;
    return v;
}

void amd_mmio_write32(struct amd_unit *u, unsigned off, uint32_t v)
{
    mem_addrmap_write32(u->drv->k->map, u->mmio + off, v);
}

/* iommu_feature_enable / iommu_feature_disable: read-modify-write of the
 * control register (4.9 uses readq/writeq on MMIO_CONTROL_OFFSET). */
static void feature_set(struct amd_unit *u, uint64_t bits, bool on)
{
    uint64_t ctrl = amd_mmio_read64(u, AMDVI_REG_CONTROL);
    ctrl = on ? ctrl | bits : ctrl & ~bits;
    amd_mmio_write64(u, AMDVI_REG_CONTROL, ctrl);
}

/* ---- Commands (amd_iommu.c: copy_cmd_to_buffer, __iommu_queue_command_sync,
 * iommu_completion_wait, wait_on_sem) ---- */

/* The entry encoded straight into the ring (u->cmd_buf, the buffer's bytes
 * in simulated memory) at tail: what Linux's memcpy of its built command
 * leaves there, without a copy of the 16 bytes. */
static void copy_cmd_to_buffer(struct amd_unit *u, const struct amdvi_cmd *c, uint32_t tail)
{
    amdvi_cmd_encode(c, u->cmd_buf + tail);
    tail = (tail + 16) % AMD_CMD_BUFFER_SIZE;
    amd_mmio_write32(u, AMDVI_REG_CMD_TAIL, tail);
}

/* wait_on_sem: poll the semaphore in memory; the model runs commands when
 * the tail is written, so the store is there or it never comes. Linux spins
 * LOOP_TIMEOUT x udelay(1) (100 ms) before giving up; the model does not
 * advance the clock for it. */
static int wait_on_sem(struct amd_unit *u, uint64_t data)
{
    struct host_amd_iommu *a = u->drv;
    a->completion_waits++;
    if (*u->cmd_sem == data)
        return 0;
    a->completion_timeouts++;
    /* 4.x pr_alert("AMD-Vi: ..."), 5.x pr_alert with pr_fmt: the same text */
    amd_pr(a, 1, "AMD-Vi: Completion-Wait loop timed out\n");
    return -EIO;
}

static void build_completion_wait(struct amd_unit *u, uint64_t data, struct amdvi_cmd *c)
{
    *c = (struct amdvi_cmd){.opcode = AMDVI_CMD_COMPLETION_WAIT, .s = true,
                            .addr = u->cmd_sem_pa, .data = data};
}

/* __iommu_queue_command_sync: the loop from its first check on, head and
 * tail already read. Out of line: the 4.x early flush needs the completion
 * wait of a nearly full buffer once every 500 commands or so. */
static __attribute__((noinline)) int queue_command_sync(struct amd_unit *u,
                                                        const struct amdvi_cmd *c, bool sync,
                                                        uint32_t head, uint32_t tail)
{
    for (;;) {
        if (head == ~0u || tail == ~0u)
            return -EIO;
        uint32_t next_tail = (tail + 16) % AMD_CMD_BUFFER_SIZE;
        uint32_t left = (head - next_tail) % AMD_CMD_BUFFER_SIZE;
        if (left <= 0x20) {
            /* buffer nearly full: a completion wait, then retry */
            struct amdvi_cmd w;
            uint64_t data = 1;
            if (u->drv->kv->amd_cmd_sem_counter)
                data = ++u->cmd_sem_val;
            else
                *u->cmd_sem = 0;
            build_completion_wait(u, data, &w);
            copy_cmd_to_buffer(u, &w, tail);
            int r = wait_on_sem(u, data);
            if (r)
                return r;
            head = amd_mmio_read32(u, AMDVI_REG_CMD_HEAD);
            tail = amd_mmio_read32(u, AMDVI_REG_CMD_TAIL);
            continue;
        }
        copy_cmd_to_buffer(u, c, tail);
        u->need_sync = sync;
        return 0;
    }
}

/* iommu_queue_command_sync, inline where commands are queued: readl of head
 * and tail, and when there is room (the usual case) the entry written at the
 * tail and writel of the tail, the address map looked up once for the three
 * register accesses; else the loop above. Inlined into the early flush's
 * loops, the command's fields are constants and its encoding
 * (amdvi_cmd_encode, inline) comes down to the few words that vary. */
static inline __attribute__((always_inline)) int queue_command(struct amd_unit *u,
                                                               const struct amdvi_cmd *c,
                                                               bool sync)
{
    struct mem_addrmap *map = u->drv->k->map;
    uint32_t head, tail;
    if (mem_addrmap_read32(map, u->mmio + AMDVI_REG_CMD_HEAD, &head) < 0)
        head = ~0u; /* an unanswered read returns all ones (amd_mmio_read32) */
    if (mem_addrmap_read32(map, u->mmio + AMDVI_REG_CMD_TAIL, &tail) < 0)
        tail = ~0u;
    uint32_t next_tail = (tail + 16) % AMD_CMD_BUFFER_SIZE;
    uint32_t left = (head - next_tail) % AMD_CMD_BUFFER_SIZE;
    if (head == ~0u || tail == ~0u || left <= 0x20)
        return queue_command_sync(u, c, sync, head, tail);
    amdvi_cmd_encode(c, u->cmd_buf + tail);
    mem_addrmap_write32(map, u->mmio + AMDVI_REG_CMD_TAIL, next_tail);
    u->need_sync = sync;
    return 0;
}

int amd_queue_command(struct amd_unit *u, const struct amdvi_cmd *c)
{
    return queue_command(u, c, true);
}

int amd_completion_wait(struct amd_unit *u)
{
    if (!u->need_sync)
        return 0;
    uint64_t data = 1;
    if (u->drv->kv->amd_cmd_sem_counter)
        data = ++u->cmd_sem_val;
    else
        *u->cmd_sem = 0;
    struct amdvi_cmd c;
    build_completion_wait(u, data, &c);
    int r = queue_command(u, &c, false);
    if (r)
        return r;
    return wait_on_sem(u, data);
}

void amd_flush_dte(struct amd_unit *u, uint16_t devid)
{
    struct amdvi_cmd c = {.opcode = AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY, .devid = devid};
    queue_command(u, &c, true);
}

/* build_inv_iommu_pages: 4.x flushes the whole domain for more than one page;
 * 5.x (build_inv_address) the smallest naturally aligned range. */
static void build_inv_iommu_pages(struct host_amd_iommu *a, struct amdvi_cmd *c, uint64_t address,
                                  uint64_t size, uint16_t domid, bool pde)
{
    uint64_t pages = ((address & 0xfff) + size + 0xfff) >> 12;
    bool s = false;
    if (pages > 1) {
        if (!a->kv->amd_inv_natural_range) {
            address = AMDVI_INV_ALL_ADDR;
            s = true;
        } else {
            uint64_t end = address + size - 1;
            unsigned msb = 63 - (unsigned)__builtin_clzll(end ^ address);
            if (msb > 51)
                address = AMDVI_INV_ALL_ADDR;
            else
                address |= (1ull << msb) - 1;
            s = true;
        }
    }
    memset(c, 0, sizeof *c);
    c->opcode = AMDVI_CMD_INVALIDATE_IOMMU_PAGES;
    c->domain = domid;
    c->addr = address & ~0xfffull;
    c->s = s;
    c->pde = pde;
}

static void flush_pages_one(struct host_amd_iommu *a, struct amd_domain *d, uint64_t addr,
                            uint64_t size, bool pde)
{
    struct amdvi_cmd c;
    build_inv_iommu_pages(a, &c, addr, size, d->id, pde);
    for (unsigned i = 0; i < a->n; i++)
        if (d->dev_iommu[i])
            amd_queue_command(&a->unit[i], &c);
}

/* domain_flush_pages. With NpCache (5.15+, amd_iommu_np_cache: "we infer that
 * we run in a VM"), Linux flushes naturally aligned pieces until the range is
 * covered, each the smaller of the address's alignment (__ffs) and the
 * largest power of two in what is left (__fls): drivers/iommu/amd/iommu.c
 * 6.1-rc7 :1371-1412 (5.15.55 :1275-1316). 4.9.80/4.20 flush the range in
 * one command whatever NpCache says. */
void amd_domain_flush_pages(struct host_amd_iommu *a, struct amd_domain *d, uint64_t addr,
                            uint64_t size, bool pde)
{
    if (!a->np_cache || !a->kv->amd_flush_follows_iommu_strict ||
        size == AMDVI_INV_ALL_ADDR) {
        flush_pages_one(a, d, addr, size, pde);
        return;
    }
    while (size) {
        unsigned size_align = 63u - (unsigned)__builtin_clzll(size);
        unsigned align = addr ? (unsigned)__builtin_ctzll(addr) : size_align;
        if (align > size_align)
            align = size_align;
        uint64_t piece = 1ull << align;
        flush_pages_one(a, d, addr, piece, pde);
        addr += piece;
        size -= piece;
    }
}

void amd_domain_flush_tlb(struct host_amd_iommu *a, struct amd_domain *d, bool pde)
{
    /* domain_flush_tlb / domain_flush_tlb_pde: CMD_INV_IOMMU_ALL_PAGES_ADDRESS
     * passed as the size, so more than one page */
    struct amdvi_cmd c;
    memset(&c, 0, sizeof c);
    c.opcode = AMDVI_CMD_INVALIDATE_IOMMU_PAGES;
    c.domain = d->id;
    c.addr = AMDVI_INV_ALL_ADDR;
    c.s = true;
    c.pde = pde;
    for (unsigned i = 0; i < a->n; i++)
        if (d->dev_iommu[i])
            amd_queue_command(&a->unit[i], &c);
}

void amd_domain_flush_complete(struct host_amd_iommu *a, struct amd_domain *d)
{
    for (unsigned i = 0; i < a->n; i++)
        if (!d || d->dev_iommu[i])
            amd_completion_wait(&a->unit[i]);
}

/* iommu_flush_all_caches: INVALIDATE_IOMMU_ALL when EFR.IA is known (4.x
 * reads EFR only in iommu_init_pci, so the early flush takes the long way:
 * every DTE, every IRT, every domain's TLB, as Linux does). */
static bool iommu_feature(const struct amd_unit *u, uint64_t f)
{
    if (!u->drv->kv->amd_efr_from_ivhd && !(u->cap & (1u << AMD_IOMMU_CAP_EFR)))
        return false;
    return (u->features & f) != 0;
}

static void flush_all_caches(struct amd_unit *u)
{
    if (iommu_feature(u, AMDVI_EFR_IA_SUP)) {
        struct amdvi_cmd c = {.opcode = AMDVI_CMD_INVALIDATE_IOMMU_ALL};
        amd_queue_command(u, &c);
        amd_completion_wait(u);
        return;
    }
    for (uint32_t devid = 0; devid <= 0xffff; devid++) {
        struct amdvi_cmd c = {.opcode = AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY,
                              .devid = (uint16_t)devid};
        queue_command(u, &c, true); /* amd_flush_dte */
    }
    amd_completion_wait(u);
    for (uint32_t devid = 0; devid <= 0x10000; devid++) {
        struct amdvi_cmd c = {.opcode = AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE,
                              .devid = (uint16_t)devid};
        queue_command(u, &c, true);
    }
    amd_completion_wait(u);
    for (uint32_t dom = 0; dom <= 0xffff; dom++) {
        struct amdvi_cmd c = {.opcode = AMDVI_CMD_INVALIDATE_IOMMU_PAGES, .domain = (uint16_t)dom,
                              .addr = AMDVI_INV_ALL_ADDR, .s = true, .pde = true};
        queue_command(u, &c, true);
    }
    amd_completion_wait(u);
}

/* ---- Device table ---- */

uint64_t *amd_dte(struct host_amd_iommu *a, uint16_t devid)
{
    return (uint64_t *)(a->dev_table + (size_t)devid * 32);
}

static void set_dev_entry_bit(struct host_amd_iommu *a, uint16_t devid, unsigned bit)
{
    amd_dte(a, devid)[bit / 64] |= 1ull << (bit % 64);
}

/* set_dte_entry (4.9.80; same bits in 5.15 and 6.1 without SNP/v2). */
static void set_dte_entry(struct host_amd_iommu *a, uint16_t devid, struct amd_domain *d)
{
    uint64_t *e = amd_dte(a, devid);
    uint64_t pte_root = 0;
    if (d->mode != AMD_PAGE_MODE_NONE)
        pte_root = d->root->pa;
    pte_root |= (uint64_t)(d->mode & 7) << 9;
    pte_root |= AMD_PTE_IR | AMD_PTE_IW | AMD_PTE_PR | (1ull << 1) /* TV */;
    uint64_t flags = e[1];
    flags &= ~0xffffull;
    flags |= d->id;
    e[1] = flags;
    e[0] = pte_root;
}

/* clear_dte_entry: V|TV, the IVRS flags kept, erratum 63 again. */
static void clear_dte_entry(struct host_amd_iommu *a, uint16_t devid)
{
    uint64_t *e = amd_dte(a, devid);
    e[0] = AMD_PTE_PR | (1ull << 1);
    e[1] &= 0x3ffull << 32; /* DTE_FLAG_MASK (amd_iommu_types.h 4.9) */
    if (a->lx->dev[devid].erratum63_iw)
        e[0] |= AMD_PTE_IW;
}

/* device_flush_dte: the device and its alias */
static void device_flush_dte(struct host_amd_iommu *a, struct amd_dev_data *dd)
{
    (void)a;
    amd_flush_dte(dd->iommu, dd->devid);
    if (dd->alias != dd->devid)
        amd_flush_dte(dd->iommu, dd->alias);
}

void amd_update_domain(struct host_amd_iommu *a, struct amd_domain *d)
{
    if (!d->updated)
        return;
    for (uint32_t devid = 0; devid <= a->last_bdf; devid++) {
        struct amd_dev_data *dd = a->dev_data[devid];
        if (!dd || dd->domain != d)
            continue;
        set_dte_entry(a, dd->devid, d);
        if (dd->alias != dd->devid)
            set_dte_entry(a, dd->alias, d);
    }
    for (uint32_t devid = 0; devid <= a->last_bdf; devid++) {
        struct amd_dev_data *dd = a->dev_data[devid];
        if (dd && dd->domain == d)
            device_flush_dte(a, dd);
    }
    amd_domain_flush_tlb(a, d, true);
    d->updated = false;
}

static void do_attach(struct host_amd_iommu *a, struct amd_dev_data *dd, struct amd_domain *d)
{
    dd->domain = d;
    d->dev_iommu[dd->iommu->index]++;
    d->dev_cnt++;
    set_dte_entry(a, dd->devid, d);
    if (dd->alias != dd->devid)
        set_dte_entry(a, dd->alias, d);
    device_flush_dte(a, dd);
}

static void do_detach(struct host_amd_iommu *a, struct amd_dev_data *dd)
{
    struct amd_domain *d = dd->domain;
    if (!d)
        return;
    d->dev_iommu[dd->iommu->index]--;
    d->dev_cnt--;
    dd->domain = NULL;
    clear_dte_entry(a, dd->devid);
    if (dd->alias != dd->devid)
        clear_dte_entry(a, dd->alias);
    device_flush_dte(a, dd);
}

/* amd_iommu_attach_device: detach from the old domain, attach, flush. */
static void attach_device(struct host_amd_iommu *a, struct amd_dev_data *dd, struct amd_domain *d)
{
    if (dd->domain)
        do_detach(a, dd);
    do_attach(a, dd, d);
    amd_domain_flush_tlb(a, d, true);
    amd_completion_wait(dd->iommu);
}

/* ---- Groups (drivers/iommu/iommu.c pci_device_group, simplified) ----
 * A device joins the group of the nearest bridge above it whose path to
 * the root lacks ACS (that bridge, when the IOMMU handles it, was added
 * earlier: bridges come first in BDF order); a function of a multifunction
 * device without ACS joins a sibling function's group; otherwise a new group.
 * PCI DMA alias quirks (pci_for_each_dma_alias through PCI-X bridges) are
 * not modelled: only the IVRS aliases. ACS: pci_acs_req_enabled (host/pci.h). */
static bool acs_path_enabled(struct pci_dev *p)
{
    for (; p; p = p->upstream)
        if (!pci_acs_req_enabled(p))
            return false;
    return true;
}

static bool is_multifunction(struct pci_dev *p)
{
    uint8_t h = 0;
    pci_read_config_byte(p, PCIE_CFG_HEADER_TYPE, &h);
    return (h & 0x80) != 0;
}

static struct amd_group *group_of_pdev(struct host_amd_iommu *a, struct pci_dev *p)
{
    uint16_t bdf = host_pci_bdf(p);
    struct amd_dev_data *dd = a->dev_data[bdf];
    return dd && dd->pdev == p ? dd->group : NULL;
}

static struct amd_group *group_alloc(struct host_amd_iommu *a)
{
    if (a->ngroups == a->cap_groups) {
        unsigned nc = a->cap_groups ? 2 * a->cap_groups : 16;
        struct amd_group **g = realloc(a->groups, nc * sizeof *g);
        if (!g)
            return NULL;
        a->groups = g;
        a->cap_groups = nc;
    }
    struct amd_group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->id = (int)a->ngroups; /* ida_simple_get from 0 */
    a->groups[a->ngroups++] = g;
    return g;
}

static struct amd_group *pci_device_group(struct host_amd_iommu *a, struct pci_dev *pdev)
{
    struct pci_dev *p = pdev;
    for (struct pci_dev *up = pdev->upstream; up; up = up->upstream) {
        if (acs_path_enabled(up))
            break;
        p = up;
        struct amd_group *g = group_of_pdev(a, up);
        if (g)
            return g;
    }
    if (is_multifunction(p) && !acs_path_enabled(p)) {
        for (size_t i = 0; i < a->k->npdevs; i++) {
            struct pci_dev *s = a->k->pdevs[i];
            if (s == p || s->bus->number != p->bus->number ||
                (s->devfn >> 3) != (p->devfn >> 3) || !is_multifunction(s) || pci_acs_req_enabled(s))
                continue;
            struct amd_group *g = group_of_pdev(a, s);
            if (g)
                return g;
        }
    }
    return group_alloc(a);
}

/* ---- Devices ---- */

static bool check_device(struct host_amd_iommu *a, struct pci_dev *p)
{
    if (!p->dev.dma_mask)
        return false;
    if (p->bus->domain != a->unit[0].segment)
        return false;
    uint16_t devid = host_pci_bdf(p);
    if (devid > a->last_bdf)
        return false;
    return a->lx->dev[devid].iommu >= 0;
}

/* get_alias (4.9.80): the IVRS alias wins over the PCI one (which, without
 * PCI-X bridges in the model, is the device itself). */
static uint16_t get_alias(struct host_amd_iommu *a, struct pci_dev *p)
{
    uint16_t devid = host_pci_bdf(p);
    uint16_t ivrs_alias = a->lx->dev[devid].alias;
    if (ivrs_alias == devid)
        return devid;
    if (a->kv->amd_msg == HOST_AMD_MSG_4_9) {
        amd_pr(a, 6, "AMD-Vi: Using IVRS reported alias %02x:%02x.%d for device %s[%04x:%04x], "
               "kernel reported alias %02x:%02x.%d\n", ivrs_alias >> 8, (ivrs_alias >> 3) & 0x1f,
               ivrs_alias & 7, dev_name(&p->dev), p->vendor, p->device, devid >> 8,
               (devid >> 3) & 0x1f, devid & 7);
        if ((ivrs_alias >> 8) == p->bus->number)
            amd_pr(a, 6, "AMD-Vi: Added PCI DMA alias %02x.%d for %s\n", (ivrs_alias >> 3) & 0x1f,
                   ivrs_alias & 7, dev_name(&p->dev));
    }
    return ivrs_alias;
}

int amd_own(struct host_amd_iommu *a, void *p)
{
    if (a->n_owned == a->cap_owned) {
        size_t cap = a->cap_owned ? 2 * a->cap_owned : 32;
        void **n = realloc(a->owned, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        a->owned = n;
        a->cap_owned = cap;
    }
    a->owned[a->n_owned++] = p;
    return 0;
}

static struct amd_dev_data *iommu_init_device(struct host_amd_iommu *a, struct pci_dev *p)
{
    uint16_t devid = host_pci_bdf(p);
    struct amd_dev_data *dd = calloc(1, sizeof *dd);
    if (dd && amd_own(a, dd) < 0) {
        free(dd);
        dd = NULL;
    }
    if (!dd)
        return NULL;
    dd->devid = devid;
    dd->pdev = p;
    dd->iommu = &a->unit[a->lx->dev[devid].iommu];
    dd->alias = get_alias(a, p);
    a->dev_data[devid] = dd;
    p->dev.iommu = dd;
    return dd;
}

static void group_line(struct host_amd_iommu *a, struct amd_dev_data *dd)
{
    if (a->kv->amd_msg >= HOST_AMD_MSG_5_15)
        host_dev_printk(KERN_INFO, &dd->pdev->dev, "Adding to iommu group %d\n", dd->group->id);
    else
        amd_pr(a, 6, "iommu: Adding device %s to group %d\n", dev_name(&dd->pdev->dev),
               dd->group->id);
}

static void set_ops(struct host_amd_iommu *a, struct amd_dev_data *dd)
{
    if (dd->domain && dd->domain->dma) {
        dd->passthrough = false;
        host_dma_set_ops(&dd->pdev->dev, &a->ops);
    } else {
        dd->passthrough = true; /* keeps the kernel's default ops */
    }
}

/* iommu_init_device and iommu_group_get_for_dev: the device's data and its
 * group. NULL (err filled) when out of memory. */
static struct amd_dev_data *probe_device(struct host_amd_iommu *a, struct pci_dev *p,
                                         struct pcilab_err *err)
{
    struct amd_dev_data *dd = iommu_init_device(a, p);
    if (!dd) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for AMD-Vi device data");
        return NULL;
    }
    struct amd_group *g = pci_device_group(a, p);
    if (!g) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for an IOMMU group");
        return NULL;
    }
    dd->group = g;
    return dd;
}

/* 4.x: bus_set_iommu -> amd_iommu_add_device for each device, in order. */
static int add_devices_4x(struct host_amd_iommu *a, struct pcilab_err *err)
{
    const struct host_bootparams *bp = &a->k->bootparams;
    bool def_identity = a->kv->iommu_has_passthrough_param && bp->iommu_def_passthrough;
    for (size_t i = 0; i < a->k->npdevs; i++) {
        struct pci_dev *p = a->k->pdevs[i];
        if (!check_device(a, p))
            continue;
        struct amd_dev_data *dd = probe_device(a, p, err);
        if (!dd)
            return -PCILAB_ENOMEM;
        struct amd_group *g = dd->group;
        if (!g->domain) {
            g->domain = amd_domain_alloc(a, !def_identity, err);
            if (!g->domain)
                return -PCILAB_ENOMEM;
        }
        /* iommu_group_add_device: direct mappings, attach, the line */
        if (g->domain->dma && amd_domain_prepare_for_dev(a, g->domain, dd, err) < 0)
            return -PCILAB_ENOMEM;
        g->ndev++;
        attach_device(a, dd, g->domain);
        group_line(a, dd);
        /* iommu=pt: iommu_request_dm_for_dev, only for a group of one */
        if (bp->iommu_pass_through && g->domain->dma && g->ndev == 1) {
            struct amd_domain *dm = amd_domain_alloc(a, false, err);
            if (!dm)
                return -PCILAB_ENOMEM;
            attach_device(a, dd, dm);
            amd_domain_free(a, g->domain);
            g->domain = dm;
            amd_pr(a, 6, "iommu: Using direct mapping for device %s\n", dev_name(&p->dev));
        }
        set_ops(a, dd);
        amd_completion_wait(dd->iommu);
    }
    return 0;
}

/* 5.x: bus_iommu_probe: every device into its group first (the lines), then
 * per group its default domain, direct mappings, attach, dma ops. */
static int add_devices_5x(struct host_amd_iommu *a, struct pcilab_err *err)
{
    const struct host_bootparams *bp = &a->k->bootparams;
    for (size_t i = 0; i < a->k->npdevs; i++) {
        struct pci_dev *p = a->k->pdevs[i];
        if (!check_device(a, p))
            continue;
        struct amd_dev_data *dd = probe_device(a, p, err);
        if (!dd)
            return -PCILAB_ENOMEM;
        dd->group->ndev++;
        group_line(a, dd);
    }
    for (unsigned gi = 0; gi < a->ngroups; gi++) {
        struct amd_group *g = a->groups[gi];
        g->domain = amd_domain_alloc(a, !bp->iommu_def_passthrough, err);
        if (!g->domain)
            return -PCILAB_ENOMEM;
        for (uint32_t devid = 0; devid <= a->last_bdf; devid++) {
            struct amd_dev_data *dd = a->dev_data[devid];
            if (dd && dd->group == g && g->domain->dma &&
                amd_domain_prepare_for_dev(a, g->domain, dd, err) < 0)
                return -PCILAB_ENOMEM;
        }
        for (uint32_t devid = 0; devid <= a->last_bdf; devid++) {
            struct amd_dev_data *dd = a->dev_data[devid];
            if (dd && dd->group == g) {
                attach_device(a, dd, g->domain);
                set_ops(a, dd);
            }
        }
    }
    return 0;
}

/* ---- Boot ---- */

static void state_destroy(void *obj)
{
    struct host_amd_iommu *a = obj;
    if (a->k && a->k->amd_iommu == a) {
        a->k->amd_iommu = NULL;
        for (size_t i = 0; i < a->k->npdevs; i++) {
            struct pci_dev *p = a->k->pdevs[i];
            if (p->dev.dma_ops == &a->ops)
                p->dev.dma_ops = NULL;
            if (p->dev.iommu && a->dev_data && a->dev_data[host_pci_bdf(p)] == p->dev.iommu)
                p->dev.iommu = NULL;
        }
        if (a->irq_remap)
            host_irq_set_remap(a->k, NULL);
    }
    amd_fq_destroy(a);
    for (struct amd_domain *d = a->pd_list, *n; d; d = n) {
        n = d->next;
        amd_domain_free(a, d);
    }
    for (size_t i = 0; i < a->n_owned; i++) /* what dev_data and irq_table point to */
        free(a->owned[i]);
    free(a->owned);
    if (a->dev_data)
        sim_table_free(a->dev_data, 65536 * sizeof *a->dev_data);
    if (a->irq_table)
        sim_table_free(a->irq_table, 65536 * sizeof *a->irq_table);
    for (unsigned i = 0; i < a->ngroups; i++)
        free(a->groups[i]);
    free(a->groups);
    host_iova_destroy(a->resv);
    host_ivrs_linux_destroy(a->lx);
    host_ivrs_destroy(a->ivrs);
    free(a);
}

static void flush_ivrs_log(struct host_amd_iommu *a, size_t *done)
{
    for (; *done < a->lx->n_log; (*done)++)
        amd_pr(a, a->lx->log[*done].level, "%s\n", a->lx->log[*done].text);
}

/* The DTE bits of the IVRS settings (set_dev_entry_from_acpi, erratum 63,
 * 4.x exclusion EX) and IV for every devid when remapping interrupts
 * (init_device_table). */
static void init_dte_from_ivrs(struct host_amd_iommu *a)
{
    static const struct { uint8_t flag; unsigned bit; } map[] = {
        {HOST_IVRS_DATA_INITPASS, 184}, {HOST_IVRS_DATA_EINTPASS, 185},
        {HOST_IVRS_DATA_NMIPASS, 186},  {HOST_IVRS_DATA_SYSMGT1, 104},
        {HOST_IVRS_DATA_SYSMGT2, 105},  {HOST_IVRS_DATA_LINT0PASS, 190},
        {HOST_IVRS_DATA_LINT1PASS, 191},
    };
    for (uint32_t devid = 0; devid <= a->last_bdf; devid++) {
        const struct host_ivrs_devid *d = &a->lx->dev[devid];
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (d->data & map[i].flag)
                set_dev_entry_bit(a, (uint16_t)devid, map[i].bit);
        if (d->erratum63_iw)
            set_dev_entry_bit(a, (uint16_t)devid, 62);
        if (d->excl)
            set_dev_entry_bit(a, (uint16_t)devid, 103);
    }
    if (a->irq_remap)
        for (uint32_t devid = 0; devid <= a->last_bdf; devid++)
            set_dev_entry_bit(a, (uint16_t)devid, 128);
}

/* early_enable_iommus, one IOMMU, in Linux's order. */
static void early_enable_iommu(struct host_amd_iommu *a, struct amd_unit *u)
{
    /* iommu_disable */
    feature_set(u, AMDVI_CTL_CMD_BUF_EN, false);
    feature_set(u, AMDVI_CTL_EVENT_INT_EN, false);
    feature_set(u, AMDVI_CTL_EVENT_LOG_EN, false);
    feature_set(u, AMDVI_CTL_GA_LOG_EN, false);
    feature_set(u, AMDVI_CTL_GA_INT_EN, false);
    feature_set(u, AMDVI_CTL_IOMMU_EN, false);
    /* iommu_init_flags */
    feature_set(u, AMDVI_CTL_HT_TUN_EN, u->ivhd_flags & HOST_IVHD_FLAG_HTTUNEN);
    feature_set(u, AMDVI_CTL_PASS_PW, u->ivhd_flags & HOST_IVHD_FLAG_PASSPW);
    feature_set(u, AMDVI_CTL_RES_PASS_PW, u->ivhd_flags & HOST_IVHD_FLAG_RESPASSPW);
    feature_set(u, AMDVI_CTL_ISOC, u->ivhd_flags & HOST_IVHD_FLAG_ISOC);
    feature_set(u, AMDVI_CTL_COHERENT, true);
    uint64_t ctrl = amd_mmio_read64(u, AMDVI_REG_CONTROL);
    ctrl = (ctrl & ~AMDVI_CTL_INV_TIMEOUT_MASK) | 4ull << AMDVI_CTL_INV_TIMEOUT_SHIFT; /* 1 s */
    amd_mmio_write64(u, AMDVI_REG_CONTROL, ctrl);
    /* iommu_set_device_table */
    amd_mmio_write64(u, AMDVI_REG_DEV_TAB_BASE,
                     a->dev_table_pa | ((a->dev_table_size >> 12) - 1));
    /* iommu_enable_command_buffer + amd_iommu_reset_cmd_buffer */
    amd_mmio_write64(u, AMDVI_REG_CMD_BUF_BASE, u->cmd_buf_pa | 9ull << 56);
    feature_set(u, AMDVI_CTL_CMD_BUF_EN, false);
    amd_mmio_write32(u, AMDVI_REG_CMD_HEAD, 0);
    amd_mmio_write32(u, AMDVI_REG_CMD_TAIL, 0);
    feature_set(u, AMDVI_CTL_CMD_BUF_EN, true);
    /* iommu_enable_event_buffer */
    amd_mmio_write64(u, AMDVI_REG_EVT_LOG_BASE, u->evt_buf_pa | 9ull << 56);
    amd_mmio_write32(u, AMDVI_REG_EVT_HEAD, 0);
    amd_mmio_write32(u, AMDVI_REG_EVT_TAIL, 0);
    feature_set(u, AMDVI_CTL_EVENT_LOG_EN, true);
    /* iommu_set_exclusion_range (4.x; 5.x turned them into unity maps) */
    if (u->excl_start && !a->kv->amd_efr_from_ivhd) {
        amd_mmio_write64(u, AMDVI_REG_EXCL_BASE, (u->excl_start & AMDVI_BASE_ADDR_MASK) |
                                                     AMDVI_EXCL_EN);
        amd_mmio_write64(u, AMDVI_REG_EXCL_LIMIT,
                         (u->excl_start + u->excl_length - 1) & AMDVI_BASE_ADDR_MASK);
    }
    /* iommu_enable_ga */
    if (a->ga)
        feature_set(u, AMDVI_CTL_GA_EN, true);
    /* iommu_enable */
    feature_set(u, AMDVI_CTL_IOMMU_EN, true);
    flush_all_caches(u);
}

static void print_iommu_info(struct host_amd_iommu *a)
{
    static const char *const feat_str[] = {"PreF", "PPR", "X2APIC", "NX", "GT", "[5]",
                                           "IA",   "GA",  "HE",     "PC"};
    enum host_amd_msg m = a->kv->amd_msg;
    for (unsigned i = 0; i < a->n; i++) {
        struct amd_unit *u = &a->unit[i];
        if (m >= HOST_AMD_MSG_5_15)
            host_dev_printk(KERN_INFO, &u->dev->dev, "AMD-Vi: Found IOMMU cap 0x%x\n", u->cap_ptr);
        else
            amd_pr(a, 6, "AMD-Vi: Found IOMMU at %s cap 0x%hx\n", dev_name(&u->dev->dev),
                   u->cap_ptr);
        if (!(u->cap & (1u << AMD_IOMMU_CAP_EFR)))
            continue;
        /* the kernel's %#llx prints "0x0" for zero (lib/vsprintf.c number():
         * the 0x prefix depends on SPECIAL only, 6.1-rc7 :461), the C
         * library's prints "0": these lines spell the prefix out */
        if (m == HOST_AMD_MSG_6_1)
            amd_pr(a, 6, "AMD-Vi: Extended features (0x%llx, 0x%llx):",
                   (unsigned long long)u->features, (unsigned long long)u->features2);
        else if (m == HOST_AMD_MSG_5_15)
            amd_pr(a, 6, "AMD-Vi: Extended features (0x%llx):", (unsigned long long)u->features);
        else
            amd_pr(a, 6, "AMD-Vi: Extended features (0x%llx):\n", (unsigned long long)u->features);
        for (unsigned b = 0; b < 10; b++)
            if (u->features & (1ull << b))
                host_printk(a->k, KERN_CONT " %s", feat_str[b]);
        if (u->features & (1ull << 21))
            host_printk(a->k, KERN_CONT " GA_vAPIC");
        host_printk(a->k, KERN_CONT "\n");
    }
    if (a->irq_remap) {
        amd_pr(a, 6, "AMD-Vi: Interrupt remapping enabled\n");
        if (a->vapic && m < HOST_AMD_MSG_6_1)
            amd_pr(a, 6, m >= HOST_AMD_MSG_5_15 ? "AMD-Vi: Virtual APIC enabled\n"
                                                : "AMD-Vi: virtual APIC enabled\n");
    }
}

static uint8_t dev_table_order_for(uint16_t last_bdf)
{
    /* tbl_size(DEV_TABLE_ENTRY_SIZE): 1 << (PAGE_SHIFT + get_order(bytes)) */
    return (uint8_t)host_get_order(((uint64_t)last_bdf + 1) * 32);
}

int host_amd_iommu_init(struct host_kernel *k, const uint8_t *ivrs, size_t ivrs_len,
                        struct pcilab_err *err)
{
    return host_amd_iommu_init_platform(k, ivrs, ivrs_len, NULL, err);
}

int host_amd_iommu_init_platform(struct host_kernel *k, const uint8_t *ivrs, size_t ivrs_len,
                                 const struct host_amd_iommu_platform *plat,
                                 struct pcilab_err *err)
{
    const struct host_kver *kv = k->kver;
    const struct host_bootparams *bp = &k->bootparams;
    struct host_kernel *prev = host_enter(k);
    int ret = 0;

    /* iommu_subsys_init (subsys_initcall, 5.x): before the AMD driver */
    if (kv->iommu_core_prints_default_domain) {
        bool pt = bp->iommu_def_passthrough;
        host_printk(k, KERN_INFO "iommu: Default domain type: %s %s\n",
                    pt ? "Passthrough" : "Translated",
                    bp->iommu_cmdline_dma_api ? "(set via kernel command line)" : "");
        if (!pt)
            host_printk(k, KERN_INFO "iommu: DMA domain TLB invalidation policy: %s mode %s\n",
                        bp->iommu_dma_strict ? "strict" : "lazy",
                        bp->iommu_cmdline_strict ? "(set via kernel command line)" : "");
    }
    /* amd_iommu_detect: iommu=off, amd_iommu=off, no IVRS */
    if (bp->no_iommu || bp->amd_iommu_disabled || !ivrs || !ivrs_len || k->amd_iommu)
        goto out;

    struct host_amd_iommu *a = calloc(1, sizeof *a);
    if (!a) {
        ret = pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the AMD IOMMU driver");
        goto out;
    }
    a->k = k;
    a->kv = kv;
    for (unsigned i = 0; i < HOST_IVRS_MAX_IOMMUS; i++)
        a->unit[i].irq = -1;
    if (sim_own(k->sim, a, state_destroy) < 0) {
        free(a);
        ret = pcilab_errf(err, PCILAB_ENOMEM, "out of memory registering the AMD IOMMU driver");
        goto out;
    }
    a->lx = host_ivrs_linux_create();
    if (!a->lx) {
        ret = pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the IVRS reading");
        goto out;
    }
    /* early_amd_iommu_init: the table as this version reads it */
    if (host_ivrs_parse(ivrs, ivrs_len, &a->ivrs, NULL) < 0) {
        a->ivrs = NULL;
        goto out; /* Linux cannot read it either: no AMD-Vi */
    }
    host_ivrs_linux_run(a->lx, ivrs, ivrs_len, a->ivrs, kv, err);
    size_t logged = 0;
    flush_ivrs_log(a, &logged);
    if (!a->lx->enabled || a->lx->n_iommus == 0)
        goto out;

    /* check_ioapic_information (amd_iommu_irq_remap) */
    uint8_t ids[HOST_IVRS_MAX_SPECIAL];
    size_t nids = 0;
    if (plat && plat->n_ioapics) {
        for (size_t i = 0; i < plat->n_ioapics && i < HOST_IVRS_MAX_SPECIAL; i++)
            ids[nids++] = plat->ioapic_ids[i];
    } else {
        for (size_t s = 0; s < a->lx->n_special; s++)
            if (a->lx->special[s].variety == HOST_IVHD_SPECIAL_IOAPIC)
                ids[nids++] = a->lx->special[s].handle;
        if (!nids)
            ids[nids++] = 0;
    }
    a->irq_remap = host_ivrs_linux_check_ioapics(a->lx, ids, nids);
    flush_ivrs_log(a, &logged);

    a->last_bdf = a->lx->last_bdf;
    a->n = (unsigned)a->lx->n_iommus;
    a->lazy = kv->amd_flush_follows_iommu_strict ? !bp->iommu_dma_strict
                                                 : !bp->amd_iommu_unmap_flush;
    /* read all over when the state is destroyed: populated (sim/table.h) */
    a->dev_data = sim_table_alloc(65536 * sizeof *a->dev_data);
    a->irq_table = sim_table_alloc(65536 * sizeof *a->irq_table);
    if (!a->dev_data || !a->irq_table) {
        ret = pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the AMD-Vi tables");
        goto out;
    }
    a->pd_bitmap[0] = 1; /* domain id 0 is never handed out */

    /* the device table, one for all IOMMUs (4.9: GFP_KERNEL | __GFP_ZERO) */
    a->dev_table_order = dev_table_order_for(a->last_bdf);
    a->dev_table_size = (uint32_t)(HOST_PAGE_SIZE << a->dev_table_order);
    a->dev_table = host_alloc_pages(k, GFP_KERNEL | __GFP_ZERO, a->dev_table_order,
                                    &a->dev_table_pa);
    if (!a->dev_table) {
        ret = pcilab_errf(err, PCILAB_ENOMEM, "no memory for the AMD-Vi device table");
        goto out;
    }

    /* interrupt remapping: the IRTE format (amd_iommu_guest_ir) */
    a->ga = true;
    a->vapic = false;
    for (unsigned i = 0; i < a->n; i++) {
        const struct host_ivrs_iommu *h = &a->lx->iommus[i];
        bool gasup = h->type == HOST_IVHD_TYPE_10 ? (h->feature >> 6) & 1 : (h->efr >> 7) & 1;
        if (!gasup)
            a->ga = false;
    }
    if (bp->amd_iommu_guest_ir == HOST_AMD_GUEST_IR_LEGACY)
        a->ga = false;

    /* init_iommu_one: per IVHD, the buffers and the register block */
    for (unsigned i = 0; i < a->n; i++) {
        struct amd_unit *u = &a->unit[i];
        const struct host_ivrs_iommu *h = &a->lx->iommus[i];
        u->drv = a;
        u->index = i;
        u->devid = h->devid;
        u->cap_ptr = h->cap_offset;
        u->segment = h->segment;
        u->mmio = h->mmio_base;
        u->ivhd_flags = h->flags;
        u->ivhd_type = h->type;
        u->excl_start = h->excl_start;
        u->excl_length = h->excl_length;
        snprintf(u->name, sizeof u->name, "ivhd%u", i);
        u->dev = host_pci_find(k, h->segment, h->devid);
        const struct mem_region *r = mem_addrmap_lookup(k->map, u->mmio);
        if (!r || r->kind != MEM_REGION_MMIO) {
            ret = pcilab_errf(err, PCILAB_EINVAL,
                              "IVHD %u: nothing answers at MMIO 0x%llx (the AMD-Vi model's "
                              "registers must be mapped there)", i, (unsigned long long)u->mmio);
            goto out;
        }
        u->cmd_buf = host_alloc_pages(k, GFP_KERNEL | __GFP_ZERO, 1, &u->cmd_buf_pa);
        u->evt_buf = host_alloc_pages(k, GFP_KERNEL | __GFP_ZERO, 1, &u->evt_buf_pa);
        u->cmd_sem = host_alloc_pages(k, GFP_KERNEL | __GFP_ZERO, 0, &u->cmd_sem_pa);
        if (!u->cmd_buf || !u->evt_buf || !u->cmd_sem) {
            ret = pcilab_errf(err, PCILAB_ENOMEM, "no memory for the AMD-Vi buffers");
            goto out;
        }
        /* 5.x early_iommu_features_init: the IVHD's EFR image with EFRSup */
        if (kv->amd_efr_from_ivhd && (a->ivrs->ivinfo & 1) && h->type != HOST_IVHD_TYPE_10)
            u->features = h->efr;
    }
    if (kv->amd_msg == HOST_AMD_MSG_6_1 && (a->ivrs->ivinfo & 1))
        amd_pr(a, 6, "AMD-Vi: Using global IVHD EFR:0x%llx, EFR2:0x%llx\n", /* %#llx, see above */
               (unsigned long long)a->unit[0].features, 0ull);

    init_dte_from_ivrs(a);
    if (a->irq_remap)
        amd_irq_remap_init(a);

    /* IOMMU_ACPI_FINISHED -> IOMMU_ENABLED */
    for (unsigned i = 0; i < a->n; i++)
        early_enable_iommu(a, &a->unit[i]);
    /* enable_iommus_v2 -> iommu_enable_gt (6.1 init.c:2755 in state
     * IOMMU_ENABLED, 4.9 amd_iommu_init.c:2036): GT_EN when the features
     * known now (6.1: the IVHD's EFR image) have GTSup. The PPR log that
     * iommu_enable_ppr_log would enable is not modelled. */
    for (unsigned i = 0; i < a->n; i++)
        if (a->unit[i].features & AMDVI_EFR_GT_SUP)
            feature_set(&a->unit[i], AMDVI_CTL_GT_EN, true);
    k->amd_iommu = a;

    /* amd_iommu_init_pci: iommu_init_pci per IOMMU */
    for (unsigned i = 0; i < a->n; i++) {
        struct amd_unit *u = &a->unit[i];
        if (!u->dev) {
            ret = pcilab_errf(err, PCILAB_ENOENT,
                              "IVHD %u names the IOMMU at %02x:%02x.%u, which the PCI scan did not "
                              "find", i, u->devid >> 8, (u->devid >> 3) & 0x1f, u->devid & 7);
            goto out;
        }
        pci_read_config_dword(u->dev, u->cap_ptr, &u->cap);
        /* iommu_init_pci: an IOMMU that caches not-present entries (NpCache,
         * capability header bit 26, AMD 48882 3.2.1) must be told about new
         * mappings too, and Linux takes it for a virtual IOMMU. All versions
         * set amd_iommu_np_cache (4.9.80 drivers/iommu/amd_iommu_init.c:1602,
         * 4.20 :1788, silently); 5.15 (drivers/iommu/amd/init.c:1863-1867)
         * and 6.1-rc7 (:2061-2065) also print the line and force strict
         * invalidation (iommu_set_dma_strict: no flush queue). The versions
         * that print are those whose flushing follows iommu_dma_strict. */
        if (u->cap & (1u << AMD_IOMMU_CAP_NPCACHE)) {
            if (kv->amd_flush_follows_iommu_strict) {
                amd_pr(a, 6, "AMD-Vi: Using strict mode due to virtualization\n");
                a->lazy = false;
            }
            a->np_cache = true;
        }
        if (!kv->amd_efr_from_ivhd || !u->features)
            u->features = amd_mmio_read64(u, AMDVI_REG_EFR);
        /* iommu_init_pci: GTSup and PPRSup make it an IOMMUv2 (6.1
         * init.c:2052, 4.9 amd_iommu_init.c:1589) */
        if ((u->features & AMDVI_EFR_GT_SUP) && (u->features & AMDVI_EFR_PPR_SUP))
            a->v2_present = true;
        if (kv->amd_msg == HOST_AMD_MSG_6_1)
            u->features2 = 0; /* EFR2 (MMIO 0x01A0) is not in the model: reads 0 */
    }
    amd_dma_ops_init(a);
    if (kv->amd_own_dma_ops && amd_init_reserved_iova_ranges(a, err) < 0) {
        ret = -PCILAB_ENOMEM;
        goto out;
    }
    ret = kv->amd_own_dma_ops ? add_devices_4x(a, err) : add_devices_5x(a, err);
    if (ret < 0)
        goto out;
    /* init_device_table_dma */
    for (uint32_t devid = 0; devid <= a->last_bdf; devid++) {
        set_dev_entry_bit(a, (uint16_t)devid, 0);
        set_dev_entry_bit(a, (uint16_t)devid, 1);
    }
    for (unsigned i = 0; i < a->n; i++)
        flush_all_caches(&a->unit[i]);
    print_iommu_info(a);

    /* amd_iommu_enable_interrupts */
    for (unsigned i = 0; i < a->n; i++) {
        ret = amd_setup_interrupts(a, &a->unit[i], err);
        if (ret < 0)
            goto out;
    }
    /* amd_iommu_init_dma_ops */
    if (kv->amd_prints_flush_mode)
        amd_pr(a, 6, a->lazy ? "AMD-Vi: Lazy IO/TLB flushing enabled\n"
                             : "AMD-Vi: IO/TLB flush on unmap enabled\n");
out:
    host_leave(prev);
    return ret;
}

struct host_amd_iommu *host_amd_iommu_of(struct host_kernel *k)
{
    return k ? k->amd_iommu : NULL;
}

void host_amd_iommu_get_info(const struct host_amd_iommu *a, struct host_amd_iommu_info *out)
{
    memset(out, 0, sizeof *out);
    out->irq = -1;
    if (!a)
        return;
    out->enabled = a->n > 0;
    out->irq_remap = a->irq_remap;
    out->ga_mode = a->ga;
    out->v2 = a->v2_present;
    out->lazy = a->lazy;
    out->n_iommus = a->n;
    out->last_bdf = a->last_bdf;
    out->dev_table_pa = a->dev_table_pa;
    out->dev_table_size = a->dev_table_size;
    if (a->n) {
        out->cmd_buf_pa = a->unit[0].cmd_buf_pa;
        out->evt_buf_pa = a->unit[0].evt_buf_pa;
        out->irq = a->unit[0].irq;
    }
    out->events_printed = a->events_printed;
    out->completion_waits = a->completion_waits;
    out->completion_timeouts = a->completion_timeouts;
    out->fq_flushes = a->fq_flushes;
}

bool host_amd_iommu_dev_domain(const struct host_amd_iommu *a, const struct pci_dev *pdev,
                               uint16_t *domain_id, bool *identity, int *group_id)
{
    if (!a || !pdev)
        return false;
    const struct amd_dev_data *dd = a->dev_data[host_pci_bdf(pdev)];
    if (!dd || dd->pdev != pdev || !dd->domain)
        return false;
    if (domain_id)
        *domain_id = dd->domain->id;
    if (identity)
        *identity = !dd->domain->dma;
    if (group_id)
        *group_id = dd->group ? dd->group->id : -1;
    return true;
}
