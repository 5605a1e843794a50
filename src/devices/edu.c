/* edu: QEMU's educational PCI device. See edu.h for the behaviour and the
 * register map, docs/edu.md for the scenarios that use it. */
#include "devices/edu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices_priv.h"
#include "pcie/caps.h"
#include "pcie/route.h"
#include "pcie/split.h"
#include "pcie/topology.h"
#include "sim/sim.h"

#define EDU_TAGS 32      /* 5-bit tags (PCIe 5.0 2.2.6.2) */
#define EDU_MAX_PIECES 48 /* 4096 bytes at MRRS 128, plus a 4 KiB crossing */
#define EDU_MRRS_RESET 512 /* Max_Read_Request_Size reset value 010b (PCIe 5.0 7.5.3.4) */
#define EDU_MPS_RESET 128  /* Max_Payload_Size reset value 000b */

enum {
    P_DMA_BITS,
    P_REQUESTER_ID,
    P_DMA_DELAY,
    P_FACT_DELAY,
    P_READ_TIMEOUT,
    P_COUNT
};

static const struct dev_param_desc edu_params[P_COUNT] = {
    [P_DMA_BITS] = {"dma_bits", DEV_PARAM_UINT, 1, 64, NULL, "28",
                    "DMA address bits: QEMU's dma_mask property is 2^dma_bits - 1 "
                    "(0x0fffffff by default); a host address is clamped to it"},
    [P_REQUESTER_ID] = {"requester_id", DEV_PARAM_RID, 0, 0, NULL, "captured",
                        "requester ID of the DMA requests and MSIs"},
    [P_DMA_DELAY] = {"dma_delay", DEV_PARAM_TIME, 0, 10 * SIM_S, NULL, "100ms",
                     "time from the DMA command to the transfer (QEMU: 100 ms of its "
                     "virtual clock)"},
    [P_FACT_DELAY] = {"fact_delay", DEV_PARAM_TIME, 0, 10 * SIM_S, NULL, "10us",
                      "time the factorial takes (QEMU computes it in a thread)"},
    [P_READ_TIMEOUT] = {"read_timeout", DEV_PARAM_TIME, SIM_US, 10 * SIM_S, NULL, "50ms",
                        "completion timeout of the DMA reads (PCIe 5.0 2.8)"},
};

static const struct dev_model_info edu_info = {
    .name = "edu",
    .summary = "QEMU's educational PCI device (1234:11e8): factorial, interrupts, DMA with "
               "a 4 KiB buffer and a 28-bit DMA mask",
    .params = edu_params,
    .nparams = P_COUNT,
};

struct edu_read {
    bool busy;
    uint32_t pos, len, received; /* pos: offset in the transfer */
    sim_event_id timeout;
};

struct edu {
    struct dev_model base; /* first */
    /* parameters */
    unsigned dma_bits;
    struct dev_rid rid;
    sim_time_t dma_delay, fact_delay, read_timeout;
    /* registers */
    uint32_t liveness, fact, status, irq_status;
    uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
    uint8_t buf[EDU_DMA_SIZE];
    bool intx;     /* INTA asserted */
    bool halted;   /* an out-of-range transfer stopped the device */
    /* the transfer in progress */
    sim_event_id dma_ev, fact_ev;
    struct edu_read reads[EDU_TAGS];
    struct pcie_split_req pieces[EDU_MAX_PIECES];
    size_t npieces, next_piece, reads_open;
    uint64_t host; /* the clamped host address */
    uint32_t off;  /* the transfer's offset in buf */
    unsigned next_tag;
};

static struct edu *to_edu(void *p) { return p; }

/* ------------------------------------------------------------------ */
/* Interrupts (edu.c edu_raise_irq / edu_lower_irq) */

static void intx_set(struct edu *d, bool on)
{
    struct pcie_cfg *cfg = pcie_fn_cfg(d->base.fn);
    if (on && (pcie_cfg_command(cfg) & PCIE_CMD_INTX_DISABLE))
        on = false; /* 7.5.1.1.10: the function may not assert INTx */
    if (on == d->intx)
        return;
    d->intx = on;
    /* 7.5.1.1.12 Interrupt Status; 2.2.8.1 Assert_INTA / Deassert_INTA */
    pcie_cfg_raw_update(cfg, PCIE_CFG_STATUS, 2, PCIE_STS_INTX, on ? PCIE_STS_INTX : 0);
    struct pcie_tlp t;
    if (pcie_tlp_message(&t, on ? PCIE_MSG_ASSERT_INTA : PCIE_MSG_DEASSERT_INTA, PCIE_MSG_LOCAL,
                         dev_rid_resolve(&d->rid, d->base.fn), 0, 0, NULL, 0, NULL) == 0 &&
        pcie_fn_send_tlp(d->base.fn, &t, NULL) == 0)
        d->base.counters.tlps++;
}

static void raise_irq(struct edu *d, uint32_t val)
{
    d->irq_status |= val;
    if (!d->irq_status)
        return;
    if (dev_msi_enabled(&d->base))
        dev_msi(&d->base, &d->rid, 0);
    else
        intx_set(d, true);
}

static void lower_irq(struct edu *d, uint32_t val)
{
    d->irq_status &= ~val;
    if (!d->irq_status && !dev_msi_enabled(&d->base))
        intx_set(d, false);
}

/* ------------------------------------------------------------------ */
/* Factorial */

static void fact_event(void *ctx, uint64_t arg)
{
    (void)arg;
    struct edu *d = ctx;
    d->fact_ev = 0;
    uint32_t n = d->fact, r = 1;
    while (n > 0)
        r *= n--; /* 32-bit, wrapping, as edu.c's uint32_t */
    d->fact = r;
    d->status &= ~EDU_STATUS_COMPUTING;
    if (d->status & EDU_STATUS_IRQFACT)
        raise_irq(d, EDU_IRQ_FACT);
}

/* ------------------------------------------------------------------ */
/* DMA */

static uint64_t dma_mask(const struct edu *d)
{
    return d->dma_bits >= 64 ? ~0ull : (1ull << d->dma_bits) - 1;
}

static void dma_done(struct edu *d)
{
    d->dma_cmd &= ~(uint64_t)EDU_DMA_RUN;
    if (d->dma_cmd & EDU_DMA_IRQ)
        raise_irq(d, EDU_IRQ_DMA);
}

static void read_free(struct edu *d, unsigned tag)
{
    struct edu_read *r = &d->reads[tag];
    if (r->timeout)
        sim_cancel(d->base.sim, r->timeout);
    memset(r, 0, sizeof *r);
    d->reads_open--;
}

static void reads_issue(struct edu *d);

static void read_finished(struct edu *d, unsigned tag)
{
    read_free(d, tag);
    reads_issue(d);
    if (!d->reads_open && d->next_piece >= d->npieces)
        dma_done(d);
}

static void read_timeout_event(void *ctx, uint64_t tag)
{
    struct edu *d = ctx;
    struct edu_read *r = &d->reads[tag];
    if (!r->busy)
        return;
    r->timeout = 0;
    d->base.counters.read_timeouts++;
    read_finished(d, (unsigned)tag);
}

/* Sends the pieces not sent yet while tags are free. */
static void reads_issue(struct edu *d)
{
    uint16_t rid = dev_rid_resolve(&d->rid, d->base.fn);
    while (d->next_piece < d->npieces && d->reads_open < EDU_TAGS) {
        const struct pcie_split_req *p = &d->pieces[d->next_piece];
        unsigned tag = d->next_tag;
        while (d->reads[tag].busy)
            tag = (tag + 1) % EDU_TAGS;
        d->next_tag = (tag + 1) % EDU_TAGS;
        struct pcie_tlp t;
        d->next_piece++;
        if (pcie_tlp_mem_read(&t, rid, (uint16_t)tag, p->addr, p->len, NULL) < 0 ||
            pcie_fn_send_tlp(d->base.fn, &t, NULL) < 0)
            continue; /* not sent: those bytes of the buffer stay as they were */
        struct edu_read *r = &d->reads[tag];
        r->busy = true;
        r->pos = (uint32_t)(p->addr - d->host);
        r->len = p->len;
        r->received = 0;
        r->timeout = sim_after(d->base.sim, d->read_timeout, read_timeout_event, d, tag);
        d->reads_open++;
        d->base.counters.tlps++;
        d->base.counters.read_tlps++;
    }
}

static void dma_write(struct edu *d, uint32_t len)
{
    const struct pcie_cfg *cfg = pcie_fn_cfg(d->base.fn);
    unsigned mps = pcie_exp_present(cfg) ? pcie_exp_mps(cfg) : EDU_MPS_RESET;
    uint16_t rid = dev_rid_resolve(&d->rid, d->base.fn);
    long n = pcie_split_write(d->host, len, mps, 0, d->pieces, EDU_MAX_PIECES, NULL);
    for (long i = 0; i < n; i++) {
        const struct pcie_split_req *p = &d->pieces[i];
        /* pcie_tlp_mem_write takes whole DWs with the first byte at
         * payload[addr & 3] */
        uint8_t dw[4096 + 8];
        memset(dw, 0, sizeof dw);
        memcpy(dw + (p->addr & 3), d->buf + d->off + (p->addr - d->host), p->len);
        struct pcie_tlp t;
        if (pcie_tlp_mem_write(&t, rid, p->addr, dw, p->len, NULL) < 0 ||
            pcie_fn_send_tlp(d->base.fn, &t, NULL) < 0)
            continue;
        d->base.counters.tlps++;
        d->base.counters.write_tlps++;
        d->base.counters.write_bytes += p->len;
    }
}

static void dma_event(void *ctx, uint64_t arg)
{
    (void)arg;
    struct edu *d = ctx;
    d->dma_ev = 0;
    if (!(d->dma_cmd & EDU_DMA_RUN) || d->halted)
        return;
    bool to_ram = d->dma_cmd & EDU_DMA_TO_RAM;
    uint64_t dev_addr = to_ram ? d->dma_src : d->dma_dst;
    uint64_t host = to_ram ? d->dma_dst : d->dma_src;
    uint64_t cnt = d->dma_cnt, end = dev_addr + cnt;
    /* edu.c edu_check_range: the buffer side must lie in 0x40000..0x40fff */
    if (end < dev_addr || dev_addr < EDU_DMA_START || end > EDU_DMA_START + EDU_DMA_SIZE) {
        d->halted = true;
        snprintf(d->base.error, sizeof d->base.error,
                 "DMA range 0x%016llx-0x%016llx out of bounds (0x%016x-0x%016x): the device "
                 "stopped (QEMU 7.2 aborts the emulator here: \"hardware error: EDU: DMA "
                 "range ... out of bounds\")",
                 (unsigned long long)dev_addr, (unsigned long long)(end - 1), EDU_DMA_START,
                 EDU_DMA_START + EDU_DMA_SIZE - 1);
        return;
    }
    d->base.counters.cycles++;
    /* edu.c edu_clamp_addr: the start address only */
    d->host = host & dma_mask(d);
    d->off = (uint32_t)(dev_addr - EDU_DMA_START);
    /* 7.5.1.1.3: without Bus Master Enable the function issues no request */
    if (!(pcie_cfg_command(pcie_fn_cfg(d->base.fn)) & PCIE_CMD_BUS_MASTER)) {
        d->base.counters.skipped++;
        dma_done(d);
        return;
    }
    if (!cnt) {
        dma_done(d);
        return;
    }
    if (to_ram) {
        dma_write(d, (uint32_t)cnt);
        dma_done(d);
        return;
    }
    const struct pcie_cfg *cfg = pcie_fn_cfg(d->base.fn);
    unsigned mrrs = pcie_exp_present(cfg) ? pcie_exp_mrrs(cfg) : EDU_MRRS_RESET;
    long n = pcie_split_read(d->host, cnt, mrrs, 0, d->pieces, EDU_MAX_PIECES, NULL);
    d->npieces = n > 0 ? (size_t)n : 0;
    d->next_piece = 0;
    reads_issue(d);
    if (!d->reads_open && d->next_piece >= d->npieces)
        dma_done(d);
}

/* ------------------------------------------------------------------ */
/* Registers */

static bool dma_reg(unsigned off)
{
    return off == EDU_REG_DMA_SRC || off == EDU_REG_DMA_DST || off == EDU_REG_DMA_CNT ||
           off == EDU_REG_DMA_CMD;
}

static uint64_t *dma_field(struct edu *d, unsigned off)
{
    switch (off) {
    case EDU_REG_DMA_SRC: return &d->dma_src;
    case EDU_REG_DMA_DST: return &d->dma_dst;
    case EDU_REG_DMA_CNT: return &d->dma_cnt;
    default: return &d->dma_cmd;
    }
}

/* edu.c edu_mmio_read: size 4 below 0x80, 4 or 8 from 0x80. */
static bool access_ok(uint64_t off, unsigned len)
{
    if (len == 4)
        return (off & 3) == 0;
    return len == 8 && off >= 0x80 && (off & 7) == 0;
}

static uint64_t reg_read(struct edu *d, unsigned off)
{
    switch (off) {
    case EDU_REG_ID: return EDU_ID_VALUE;
    case EDU_REG_LIVENESS: return d->liveness;
    case EDU_REG_FACT: return d->fact;
    case EDU_REG_STATUS: return d->status;
    case EDU_REG_IRQ_STATUS: return d->irq_status;
    }
    if (dma_reg(off))
        return *dma_field(d, off);
    return ~0ull;
}

static void reg_write(struct edu *d, unsigned off, uint64_t val)
{
    switch (off) {
    case EDU_REG_LIVENESS:
        d->liveness = ~(uint32_t)val;
        return;
    case EDU_REG_FACT:
        if (d->status & EDU_STATUS_COMPUTING)
            return;
        d->fact = (uint32_t)val;
        d->status |= EDU_STATUS_COMPUTING;
        d->fact_ev = sim_after(d->base.sim, d->fact_delay, fact_event, d, 0);
        return;
    case EDU_REG_STATUS:
        d->status = (d->status & ~EDU_STATUS_IRQFACT) | ((uint32_t)val & EDU_STATUS_IRQFACT);
        return;
    case EDU_REG_IRQ_RAISE:
        raise_irq(d, (uint32_t)val);
        return;
    case EDU_REG_IRQ_ACK:
        lower_irq(d, (uint32_t)val);
        return;
    }
    if (!dma_reg(off) || (d->dma_cmd & EDU_DMA_RUN) || d->halted)
        return; /* edu.c dma_rw: no change while a transfer runs */
    if (off == EDU_REG_DMA_CMD) {
        if (!(val & EDU_DMA_RUN))
            return;
        d->dma_cmd = val;
        if (d->dma_ev)
            sim_cancel(d->base.sim, d->dma_ev);
        d->dma_ev = sim_after(d->base.sim, d->dma_delay, dma_event, d, 0);
        return;
    }
    *dma_field(d, off) = val;
}

static enum pcie_cpl_status edu_mmio_read(void *ctx, struct pcie_fn *fn, unsigned bar,
                                          uint64_t off, void *buf, unsigned len)
{
    (void)fn;
    if (bar != 0)
        return PCIE_CPL_UR;
    uint64_t v = access_ok(off, len) ? reg_read(ctx, (unsigned)off) : ~0ull;
    uint8_t *out = buf;
    for (unsigned i = 0; i < len; i++)
        out[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0xff;
    return PCIE_CPL_SC;
}

static enum pcie_cpl_status edu_mmio_write(void *ctx, struct pcie_fn *fn, unsigned bar,
                                           uint64_t off, const void *buf, unsigned len)
{
    (void)fn;
    if (bar != 0)
        return PCIE_CPL_UR;
    if (!access_ok(off, len))
        return PCIE_CPL_SC; /* ignored, as QEMU's memory core drops it */
    const uint8_t *in = buf;
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint64_t)in[i] << (8 * i);
    reg_write(ctx, (unsigned)off, v);
    return PCIE_CPL_SC;
}

static void edu_cfg_written(void *ctx, struct pcie_fn *fn, unsigned off, unsigned size,
                            uint32_t old, uint32_t now)
{
    (void)fn;
    (void)off;
    (void)size;
    (void)old;
    (void)now;
    struct edu *d = ctx;
    /* INTx Disable set: the asserted INTA goes (7.5.1.1.10) */
    if (d->intx && (pcie_cfg_command(pcie_fn_cfg(d->base.fn)) & PCIE_CMD_INTX_DISABLE))
        intx_set(d, false);
}

static void edu_receive(void *ctx, struct pcie_fn *fn, const struct pcie_tlp *t,
                        const uint8_t *bytes, size_t len)
{
    (void)fn;
    (void)bytes;
    (void)len;
    struct edu *d = ctx;
    if (!pcie_tlp_is_completion(t) || t->tag >= EDU_TAGS)
        return;
    struct edu_read *r = &d->reads[t->tag];
    if (!r->busy || t->requester_id != dev_rid_resolve(&d->rid, d->base.fn))
        return; /* an unexpected completion (2.3.2) */
    uint32_t skip = 0, n = 0;
    enum dev_cpl c = dev_read_cpl(&d->base, t, r->received, r->len, &skip, &n);
    switch (c) {
    case DEV_CPL_CA:
    case DEV_CPL_UR:
        read_finished(d, t->tag);
        return;
    case DEV_CPL_EMPTY:
        return;
    case DEV_CPL_DATA:
    case DEV_CPL_LAST:
        break;
    }
    uint32_t at = d->off + r->pos + r->received;
    if (at < EDU_DMA_SIZE) {
        uint32_t m = n < EDU_DMA_SIZE - at ? n : EDU_DMA_SIZE - at;
        memcpy(d->buf + at, t->payload + skip, m);
    }
    r->received += n;
    if (c == DEV_CPL_LAST)
        read_finished(d, t->tag);
}

static const struct pcie_fn_ops edu_fn_ops = {
    .name = "edu",
    .cfg_written = edu_cfg_written,
    .mmio_read = edu_mmio_read,
    .mmio_write = edu_mmio_write,
    .receive = edu_receive,
};

/* ------------------------------------------------------------------ */
/* Life cycle */

static struct dev_model *edu_create(struct pcilab_sim *sim, struct pcie_fn *fn,
                                    struct pcilab_err *err)
{
    (void)sim;
    return dev_model_new(sizeof(struct edu), fn, &dev_edu_ops, EDU_REG_DMA_CMD + 8, err);
}

static int edu_set(struct dev_model *m, size_t idx, const union dev_value *v,
                   struct pcilab_err *err)
{
    struct edu *d = to_edu(m);
    switch (idx) {
    case P_DMA_BITS: d->dma_bits = (unsigned)v->u; break;
    case P_REQUESTER_ID: d->rid = v->rid; break;
    case P_DMA_DELAY: d->dma_delay = v->t; break;
    case P_FACT_DELAY: d->fact_delay = v->t; break;
    case P_READ_TIMEOUT: d->read_timeout = v->t; break;
    default:
        return pcilab_errf(err, PCILAB_EINVAL, "edu: parameter %zu unknown", idx);
    }
    return 0;
}

static int edu_start(struct dev_model *m, struct pcilab_err *err)
{
    (void)err;
    pcie_fn_set_ops(m->fn, &edu_fn_ops, m);
    return 0;
}

static void edu_destroy(struct dev_model *m)
{
    struct edu *d = to_edu(m);
    if (d->base.sim) {
        if (d->dma_ev)
            sim_cancel(d->base.sim, d->dma_ev);
        if (d->fact_ev)
            sim_cancel(d->base.sim, d->fact_ev);
        for (unsigned i = 0; i < EDU_TAGS; i++)
            if (d->reads[i].timeout)
                sim_cancel(d->base.sim, d->reads[i].timeout);
    }
    free(d);
}

const struct dev_model_ops dev_edu_ops = {
    .info = &edu_info,
    .create = edu_create,
    .set = edu_set,
    .start = edu_start,
    .destroy = edu_destroy,
};

/* ------------------------------------------------------------------ */

int edu_cfg_init(struct pcie_cfg *cfg, struct pcilab_err *err)
{
    /* QEMU's default subsystem for its devices: 1af4:1100 (hw/pci/pci.c,
     * pci_set_default_subsystem_id: Red Hat / QEMU) */
    struct pcie_cfg_ident id = {.vendor_id = EDU_VENDOR_ID, .device_id = EDU_DEVICE_ID,
                                .revision = EDU_REVISION, .class_code = EDU_CLASS,
                                .subsys_vendor_id = 0x1af4, .subsys_id = 0x1100,
                                .interrupt_pin = 1, .pcie = false};
    pcie_cfg_init(cfg);
    int r = pcie_cfg_init_type0(cfg, &id, err);
    if (r < 0)
        return r;
    if ((r = pcie_cfg_bar_declare(cfg, 0, PCIE_BAR_MEM32, EDU_BAR0_SIZE, false, err)) < 0)
        return r;
    struct pcie_msi_params msi = {.addr64 = true, .vectors = 1};
    r = pcie_cap_add_msi(cfg, &msi, 0x40, err);
    return r < 0 ? r : 0;
}
