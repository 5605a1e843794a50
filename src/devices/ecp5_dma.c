/* ecp5_dma: the Lattice ECP5-45 DMA board of the seed. See ecp5_dma.h for
 * the behaviour and register map, docs/devices.md for the defaults. */
#include "devices/ecp5_dma.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices_priv.h"
#include "pcie/caps.h"
#include "pcie/route.h"
#include "pcie/split.h"
#include "pcie/topology.h"
#include "sim/sim.h"

#define ECP5_TAGS 32 /* 5-bit tags: valid whatever Extended Tag Field Enable says (2.2.6.2) */

enum {
    P_PAYLOAD,
    P_PERIOD,
    P_READ_OFFSET,
    P_READ_LEN,
    P_READ,
    P_REQUESTER_ID,
    P_WRITE_RID,
    P_READ_RID,
    P_MSI_RID,
    P_ADDR64,
    P_SPLIT,
    P_DMA_VECTOR,
    P_UART_VECTOR,
    P_UART_PERIOD,
    P_START,
    P_READ_TIMEOUT,
    P_COUNT
};

static const char *const addr64_choices[] = {"auto", "always", NULL};
static const char *const split_choices[] = {"mps", "none", NULL};
static const char *const start_choices[] = {"address", "control", NULL};

static const struct dev_param_desc ecp5_params[P_COUNT] = {
    [P_PAYLOAD] = {"payload", DEV_PARAM_SIZE, 1, ECP5_DMA_PAYLOAD_MAX, NULL, "128",
                   "bytes written per cycle (PAYLOAD reset value)"},
    [P_PERIOD] = {"period", DEV_PARAM_TIME, SIM_US, 4294967295ull * SIM_NS, NULL, "2.5ms",
                  "time between DMA cycles (INTERVAL reset value, whole ns)"},
    [P_READ_OFFSET] = {"read_offset", DEV_PARAM_SIZE, 0, 0xfffffffcull, NULL, "0x40",
                       "the read's address is DMA address + this (READ_OFFSET reset value, "
                       "a multiple of 4)"},
    [P_READ_LEN] = {"read_len", DEV_PARAM_SIZE, 1, 4096, NULL, "4",
                    "bytes read per cycle (READ_LEN reset value)"},
    [P_READ] = {"read", DEV_PARAM_BOOL, 0, 0, NULL, "true",
                "CONTROL.READ_EN reset value: read after each write"},
    [P_REQUESTER_ID] = {"requester_id", DEV_PARAM_RID, 0, 0, NULL, NULL,
                        "sets write_rid, read_rid and msi_rid at once"},
    [P_WRITE_RID] = {"write_rid", DEV_PARAM_RID, 0, 0, NULL, "zero",
                     "requester ID the write engine puts in its MWr headers"},
    [P_READ_RID] = {"read_rid", DEV_PARAM_RID, 0, 0, NULL, "captured",
                    "requester ID the read engine puts in its MRd headers"},
    [P_MSI_RID] = {"msi_rid", DEV_PARAM_RID, 0, 0, NULL, "captured",
                   "requester ID of the MSI writes"},
    [P_ADDR64] = {"addr64", DEV_PARAM_CHOICE, 0, 0, addr64_choices, "auto",
                  "auto: 3 DW headers below 4 GiB; always: 4 DW headers (PCIe 5.0 2.2.4.1 "
                  "forbids them below 4 GiB)"},
    [P_SPLIT] = {"split", DEV_PARAM_CHOICE, 0, 0, split_choices, "mps",
                 "mps: split writes at Max_Payload_Size; none: send them oversized (the link "
                 "receiver drops them as malformed)"},
    [P_DMA_VECTOR] = {"dma_vector", DEV_PARAM_UINT, 0, 31, NULL, "0",
                      "MSI vector of DMA done"},
    [P_UART_VECTOR] = {"uart_vector", DEV_PARAM_UINT, 0, 31, NULL, "1",
                       "MSI vector of the UARTs"},
    [P_UART_PERIOD] = {"uart_period", DEV_PARAM_TIME, 0, 1000 * SIM_S, NULL, "10ms",
                       "time between UART events while MSI is enabled (0s: none)"},
    [P_START] = {"start", DEV_PARAM_CHOICE, 0, 0, start_choices, "address",
                 "address: writing DMA_ADDR_LO sets CONTROL.EN; control: only CONTROL.EN"},
    [P_READ_TIMEOUT] = {"read_timeout", DEV_PARAM_TIME, SIM_US, 10 * SIM_S, NULL, "50ms",
                        "completion timeout of the reads (PCIe 5.0 2.8)"},
};

static const struct dev_model_info ecp5_info = {
    .name = "ecp5_dma",
    .summary = "Lattice ECP5-45 with the PCIe x1 Endpoint soft IP and DMA user logic (the seed's board)",
    .params = ecp5_params,
    .nparams = P_COUNT,
};

struct ecp5_read {
    bool busy;
    uint16_t rid;
    uint32_t pos;      /* offset of this MRd's first byte within the cycle's read */
    uint32_t len, received;
    sim_event_id timeout;
};

struct ecp5_dma {
    struct dev_model base; /* first */
    /* bitstream parameters */
    struct dev_write_engine wr;
    struct dev_rid read_rid, msi_rid;
    enum dev_addr64 read_addr64;
    unsigned dma_vector, uart_vector;
    sim_time_t uart_period, read_timeout;
    bool start_on_addr;
    bool read_reset;
    /* registers */
    uint32_t control, status, seq, addr_lo, addr_hi, payload, interval, read_offset, read_len;
    uint8_t read_data[8];
    uint32_t uart_status, uart_count;
    /* engines */
    sim_event_id cycle_ev, uart_ev;
    unsigned next_tag;
    struct ecp5_read reads[ECP5_TAGS];
    uint8_t *buf; /* ECP5_DMA_PAYLOAD_MAX + 4: payloads are whole DWs */
};

static struct ecp5_dma *to_ecp5(void *p) { return p; }

/* ------------------------------------------------------------------ */
/* Behaviour over time */

static void cycle_event(void *ctx, uint64_t arg);
static void uart_event(void *ctx, uint64_t arg);

static void cycle_schedule(struct ecp5_dma *d)
{
    if (!d->cycle_ev)
        d->cycle_ev = sim_after(d->base.sim, (sim_time_t)d->interval * SIM_NS, cycle_event, d, 0);
}

static void cycle_stop(struct ecp5_dma *d)
{
    if (d->cycle_ev)
        sim_cancel(d->base.sim, d->cycle_ev);
    d->cycle_ev = 0;
}

static void uart_update(struct ecp5_dma *d)
{
    bool run = d->uart_period && dev_msi_enabled(&d->base);
    if (run && !d->uart_ev)
        d->uart_ev = sim_after(d->base.sim, d->uart_period, uart_event, d, 0);
    else if (!run && d->uart_ev) {
        sim_cancel(d->base.sim, d->uart_ev);
        d->uart_ev = 0;
    }
}

static void read_free(struct ecp5_dma *d, unsigned tag)
{
    struct ecp5_read *r = &d->reads[tag];
    if (r->timeout)
        sim_cancel(d->base.sim, r->timeout);
    memset(r, 0, sizeof *r);
}

static void read_timeout_event(void *ctx, uint64_t tag)
{
    struct ecp5_dma *d = ctx;
    struct ecp5_read *r = &d->reads[tag];
    if (!r->busy)
        return;
    r->timeout = 0;
    d->base.counters.read_timeouts++;
    d->status |= ECP5_DMA_STS_READ_TIMEOUT;
    read_free(d, (unsigned)tag);
}

static unsigned tags_free(const struct ecp5_dma *d)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ECP5_TAGS; i++)
        n += !d->reads[i].busy;
    return n;
}

/* The read engine: MRds of len bytes at addr, split at MRRS and 4 KiB. */
static void start_read(struct ecp5_dma *d, uint64_t addr, uint32_t len)
{
    const struct pcie_cfg *cfg = pcie_fn_cfg(d->base.fn);
    unsigned mrrs = pcie_exp_present(cfg) ? pcie_exp_mrrs(cfg) : 4096;
    struct pcie_split_req pieces[ECP5_TAGS + 1];
    long n = pcie_split_read(addr, len, mrrs, 0, pieces, ECP5_TAGS + 1, NULL);
    if (n <= 0 || (unsigned long)n > tags_free(d)) {
        d->status |= ECP5_DMA_STS_NO_TAG;
        d->base.counters.skipped++;
        return;
    }
    uint16_t rid = dev_rid_resolve(&d->read_rid, d->base.fn);
    for (long i = 0; i < n; i++) {
        unsigned tag = d->next_tag;
        while (d->reads[tag].busy)
            tag = (tag + 1) % ECP5_TAGS;
        d->next_tag = (tag + 1) % ECP5_TAGS;
        struct pcie_tlp t;
        if (pcie_tlp_mem_read(&t, rid, (uint16_t)tag, pieces[i].addr, pieces[i].len, NULL) < 0)
            return;
        dev_tlp_apply_addr64(&t, d->read_addr64);
        if (pcie_fn_send_tlp(d->base.fn, &t, NULL) < 0)
            return;
        struct ecp5_read *r = &d->reads[tag];
        r->busy = true;
        r->rid = rid;
        r->pos = (uint32_t)(pieces[i].addr - addr);
        r->len = pieces[i].len;
        r->received = 0;
        r->timeout = sim_after(d->base.sim, d->read_timeout, read_timeout_event, d, tag);
        d->base.counters.tlps++;
        d->base.counters.read_tlps++;
    }
}

static void cycle_event(void *ctx, uint64_t arg)
{
    (void)arg;
    struct ecp5_dma *d = ctx;
    d->cycle_ev = 0;
    if (!(d->control & ECP5_DMA_CTL_EN))
        return;
    cycle_schedule(d); /* the next cycle one INTERVAL after this one started */
    /* 7.5.1.1.3: without Bus Master Enable the function must not issue requests. */
    if (!(pcie_cfg_command(pcie_fn_cfg(d->base.fn)) & PCIE_CMD_BUS_MASTER)) {
        d->status |= ECP5_DMA_STS_NO_MASTER;
        d->base.counters.skipped++;
        return;
    }
    d->seq++;
    d->base.counters.cycles++;
    uint32_t ndw = (d->payload + 3) / 4;
    for (uint32_t i = 0; i < ndw; i++)
        dev_put32(d->buf + 4 * i, ecp5_dma_pattern(d->seq, i));
    uint64_t addr = (uint64_t)d->addr_hi << 32 | d->addr_lo;
    (void)dev_dma_write(&d->base, &d->wr, addr, d->buf, d->payload, NULL);
    d->status |= ECP5_DMA_STS_DMA_DONE;
    if (d->control & ECP5_DMA_CTL_DMA_IRQ_EN)
        dev_msi(&d->base, &d->msi_rid, d->dma_vector);
    if (d->control & ECP5_DMA_CTL_READ_EN)
        start_read(d, addr + d->read_offset, d->read_len);
}

static void uart_event(void *ctx, uint64_t arg)
{
    (void)arg;
    struct ecp5_dma *d = ctx;
    d->uart_ev = 0;
    if (!d->uart_period || !dev_msi_enabled(&d->base))
        return;
    d->uart_ev = sim_after(d->base.sim, d->uart_period, uart_event, d, 0);
    d->uart_count++;
    d->uart_status |= ECP5_DMA_UART_RX_PENDING;
    d->base.counters.events++;
    if (d->control & ECP5_DMA_CTL_UART_IRQ_EN)
        dev_msi(&d->base, &d->msi_rid, d->uart_vector);
}

/* ------------------------------------------------------------------ */
/* The function: registers, configuration writes, completions */

static uint32_t reg_read(void *ctx, unsigned off)
{
    struct ecp5_dma *d = ctx;
    switch (off) {
    case ECP5_DMA_REG_ID: return ECP5_DMA_ID;
    case ECP5_DMA_REG_CONTROL: return d->control;
    case ECP5_DMA_REG_STATUS: return d->status;
    case ECP5_DMA_REG_SEQ: return d->seq;
    case ECP5_DMA_REG_DMA_ADDR_LO: return d->addr_lo;
    case ECP5_DMA_REG_DMA_ADDR_HI: return d->addr_hi;
    case ECP5_DMA_REG_PAYLOAD: return d->payload;
    case ECP5_DMA_REG_INTERVAL: return d->interval;
    case ECP5_DMA_REG_READ_OFFSET: return d->read_offset;
    case ECP5_DMA_REG_READ_LEN: return d->read_len;
    case ECP5_DMA_REG_READ_DATA0: return dev_get32(d->read_data);
    case ECP5_DMA_REG_READ_DATA1: return dev_get32(d->read_data + 4);
    case ECP5_DMA_REG_UART_STATUS: return d->uart_status;
    case ECP5_DMA_REG_UART_COUNT: return d->uart_count;
    }
    return 0;
}

static void control_write(struct ecp5_dma *d, uint32_t v)
{
    bool was = d->control & ECP5_DMA_CTL_EN;
    d->control = v & 0xfu;
    if (!was && (d->control & ECP5_DMA_CTL_EN))
        cycle_schedule(d);
    else if (was && !(d->control & ECP5_DMA_CTL_EN))
        cycle_stop(d);
}

static void reg_write(void *ctx, unsigned off, uint32_t val, uint32_t mask)
{
    struct ecp5_dma *d = ctx;
    uint32_t v;
    switch (off) {
    case ECP5_DMA_REG_CONTROL:
        control_write(d, dev_reg_merge(d->control, val, mask));
        break;
    case ECP5_DMA_REG_STATUS:
        d->status &= ~(val & mask);
        break;
    case ECP5_DMA_REG_DMA_ADDR_LO:
        d->addr_lo = dev_reg_merge(d->addr_lo, val, mask) & ~3u;
        if (d->start_on_addr)
            control_write(d, d->control | ECP5_DMA_CTL_EN);
        break;
    case ECP5_DMA_REG_DMA_ADDR_HI:
        d->addr_hi = dev_reg_merge(d->addr_hi, val, mask);
        break;
    case ECP5_DMA_REG_PAYLOAD:
        v = dev_reg_merge(d->payload, val, mask);
        if (v >= 1 && v <= ECP5_DMA_PAYLOAD_MAX)
            d->payload = v;
        break;
    case ECP5_DMA_REG_INTERVAL:
        v = dev_reg_merge(d->interval, val, mask);
        d->interval = v < 1000 ? 1000 : v;
        break;
    case ECP5_DMA_REG_READ_OFFSET:
        d->read_offset = dev_reg_merge(d->read_offset, val, mask) & ~3u;
        break;
    case ECP5_DMA_REG_READ_LEN:
        v = dev_reg_merge(d->read_len, val, mask);
        if (v >= 1 && v <= 4096)
            d->read_len = v;
        break;
    case ECP5_DMA_REG_UART_STATUS:
        d->uart_status &= ~(val & mask);
        break;
    default:
        break; /* read-only or unused */
    }
}

static enum pcie_cpl_status ecp5_mmio_read(void *ctx, struct pcie_fn *fn, unsigned bar,
                                           uint64_t off, void *buf, unsigned len)
{
    (void)fn;
    if (bar != 0)
        return PCIE_CPL_UR;
    dev_mmio_read(ctx, reg_read, ECP5_DMA_REGS_SIZE, off, buf, len);
    return PCIE_CPL_SC;
}

static enum pcie_cpl_status ecp5_mmio_write(void *ctx, struct pcie_fn *fn, unsigned bar,
                                            uint64_t off, const void *buf, unsigned len)
{
    (void)fn;
    if (bar != 0)
        return PCIE_CPL_UR;
    dev_mmio_write(ctx, reg_write, ECP5_DMA_REGS_SIZE, off, buf, len);
    return PCIE_CPL_SC;
}

static void ecp5_cfg_written(void *ctx, struct pcie_fn *fn, unsigned off, unsigned size,
                             uint32_t old, uint32_t now)
{
    (void)fn;
    (void)off;
    (void)size;
    (void)old;
    (void)now;
    struct ecp5_dma *d = ctx;
    /* MSI Enable, Multiple Message Enable, Mask Bits, Bus Master Enable may
     * have changed: held messages may go now, the UARTs' interrupts start or
     * stop with MSI Enable. */
    dev_msi_pending(&d->base, &d->msi_rid);
    uart_update(d);
}

static void ecp5_receive(void *ctx, struct pcie_fn *fn, const struct pcie_tlp *t,
                         const uint8_t *bytes, size_t len)
{
    (void)fn;
    (void)bytes;
    (void)len;
    struct ecp5_dma *d = ctx;
    if (!pcie_tlp_is_completion(t) || t->tag >= ECP5_TAGS)
        return;
    struct ecp5_read *r = &d->reads[t->tag];
    if (!r->busy || r->rid != t->requester_id)
        return; /* not ours: an unexpected completion (2.3.2), ignored */
    uint32_t skip = 0, n = 0;
    enum dev_cpl c = dev_read_cpl(&d->base, t, r->received, r->len, &skip, &n);
    switch (c) {
    case DEV_CPL_CA:
        d->status |= ECP5_DMA_STS_READ_CA;
        read_free(d, t->tag);
        return;
    case DEV_CPL_UR:
        d->status |= ECP5_DMA_STS_READ_UR;
        read_free(d, t->tag);
        return;
    case DEV_CPL_EMPTY:
        return;
    case DEV_CPL_DATA:
    case DEV_CPL_LAST:
        break;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t at = r->pos + r->received + i;
        if (at < sizeof d->read_data)
            d->read_data[at] = t->payload[skip + i];
    }
    r->received += n;
    if (c == DEV_CPL_LAST) {
        d->status |= ECP5_DMA_STS_READ_DONE;
        read_free(d, t->tag);
    }
}

static const struct pcie_fn_ops ecp5_fn_ops = {
    .name = "ecp5_dma",
    .cfg_written = ecp5_cfg_written,
    .mmio_read = ecp5_mmio_read,
    .mmio_write = ecp5_mmio_write,
    .receive = ecp5_receive,
};

/* ------------------------------------------------------------------ */
/* Model life cycle */

static struct dev_model *ecp5_create(struct pcilab_sim *sim, struct pcie_fn *fn,
                                     struct pcilab_err *err)
{
    (void)sim;
    struct ecp5_dma *d = (struct ecp5_dma *)dev_model_new(sizeof *d, fn, &dev_ecp5_dma_ops,
                                                          ECP5_DMA_REGS_SIZE, err);
    if (!d)
        return NULL;
    d->buf = calloc(1, ECP5_DMA_PAYLOAD_MAX + 4);
    if (!d->buf) {
        free(d);
        pcilab_errf(err, PCILAB_ENOMEM, "ecp5_dma: out of memory");
        return NULL;
    }
    d->control = ECP5_DMA_CTL_DMA_IRQ_EN | ECP5_DMA_CTL_UART_IRQ_EN | ECP5_DMA_CTL_READ_EN;
    return &d->base;
}

static void rid_texts(struct ecp5_dma *d)
{
    /* requester_id reads as the common ID, or "mixed". */
    struct dev_model *m = &d->base;
    bool same = !strcmp(m->values[P_WRITE_RID], m->values[P_READ_RID]) &&
                !strcmp(m->values[P_WRITE_RID], m->values[P_MSI_RID]);
    snprintf(m->values[P_REQUESTER_ID], DEV_VALUE_LEN, "%s",
             same ? m->values[P_WRITE_RID] : "mixed");
}

static int ecp5_set(struct dev_model *m, size_t idx, const union dev_value *v,
                    struct pcilab_err *err)
{
    struct ecp5_dma *d = to_ecp5(m);
    char txt[16];
    switch (idx) {
    case P_PAYLOAD:
        d->payload = (uint32_t)v->u;
        break;
    case P_PERIOD:
        if (v->t % SIM_NS)
            return pcilab_errf(err, PCILAB_EINVAL, "ecp5_dma: parameter 'period': the INTERVAL "
                               "register counts whole nanoseconds");
        d->interval = (uint32_t)(v->t / SIM_NS);
        break;
    case P_READ_OFFSET:
        if (v->u & 3)
            return pcilab_errf(err, PCILAB_EINVAL, "ecp5_dma: parameter 'read_offset': %#llx "
                               "is not a multiple of 4 (the read engine reads whole DWs)",
                               (unsigned long long)v->u);
        d->read_offset = (uint32_t)v->u;
        break;
    case P_READ_LEN:
        d->read_len = (uint32_t)v->u;
        break;
    case P_READ:
        d->read_reset = v->b;
        d->control = v->b ? d->control | ECP5_DMA_CTL_READ_EN : d->control & ~ECP5_DMA_CTL_READ_EN;
        break;
    case P_REQUESTER_ID:
        d->wr.rid = d->read_rid = d->msi_rid = v->rid;
        dev_rid_str(&v->rid, txt);
        snprintf(m->values[P_WRITE_RID], DEV_VALUE_LEN, "%s", txt);
        snprintf(m->values[P_READ_RID], DEV_VALUE_LEN, "%s", txt);
        snprintf(m->values[P_MSI_RID], DEV_VALUE_LEN, "%s", txt);
        return 0; /* dev_model_set stores the text as given */
    case P_WRITE_RID:
        d->wr.rid = v->rid;
        break;
    case P_READ_RID:
        d->read_rid = v->rid;
        break;
    case P_MSI_RID:
        d->msi_rid = v->rid;
        break;
    case P_ADDR64:
        d->wr.addr64 = d->read_addr64 = (enum dev_addr64)v->c;
        break;
    case P_SPLIT:
        d->wr.split = (enum dev_split)v->c;
        break;
    case P_DMA_VECTOR:
        d->dma_vector = (unsigned)v->u;
        break;
    case P_UART_VECTOR:
        d->uart_vector = (unsigned)v->u;
        break;
    case P_UART_PERIOD:
        d->uart_period = v->t;
        if (d->base.sim && pcie_fn_ctx(d->base.fn) == d) {
            /* a running UART restarts on its new schedule */
            if (d->uart_ev)
                sim_cancel(d->base.sim, d->uart_ev);
            d->uart_ev = 0;
            uart_update(d);
        }
        break;
    case P_START:
        d->start_on_addr = v->c == 0;
        break;
    case P_READ_TIMEOUT:
        d->read_timeout = v->t;
        break;
    default:
        return pcilab_errf(err, PCILAB_EINVAL, "ecp5_dma: parameter %zu unknown", idx);
    }
    return 0;
}

static int ecp5_start(struct dev_model *m, struct pcilab_err *err)
{
    (void)err;
    struct ecp5_dma *d = to_ecp5(m);
    pcie_fn_set_ops(m->fn, &ecp5_fn_ops, d);
    uart_update(d);
    return 0;
}

static void ecp5_destroy(struct dev_model *m)
{
    struct ecp5_dma *d = to_ecp5(m);
    if (d->base.sim) {
        cycle_stop(d);
        if (d->uart_ev)
            sim_cancel(d->base.sim, d->uart_ev);
        for (unsigned i = 0; i < ECP5_TAGS; i++)
            if (d->reads[i].timeout)
                sim_cancel(d->base.sim, d->reads[i].timeout);
    }
    free(d->buf);
    free(d);
}

/* Runs after every set: the requester_id text follows the engines. Wrapped
 * here so devices.c stays generic. */
static int ecp5_set_wrapped(struct dev_model *m, size_t idx, const union dev_value *v,
                            struct pcilab_err *err)
{
    int r = ecp5_set(m, idx, v, err);
    if (r == 0 && idx != P_REQUESTER_ID && (idx == P_WRITE_RID || idx == P_READ_RID ||
                                            idx == P_MSI_RID)) {
        /* values[idx] is stored by the caller after we return: store it now
         * so the comparison sees it. */
        char txt[16];
        dev_rid_str(&v->rid, txt);
        snprintf(m->values[idx], DEV_VALUE_LEN, "%s", txt);
        rid_texts(to_ecp5(m));
    }
    return r;
}

const struct dev_model_ops dev_ecp5_dma_ops = {
    .info = &ecp5_info,
    .create = ecp5_create,
    .set = ecp5_set_wrapped,
    .start = ecp5_start,
    .destroy = ecp5_destroy,
};

/* ------------------------------------------------------------------ */
/* A configuration space for the board */

int ecp5_dma_cfg_init(struct pcie_cfg *cfg, struct pcilab_err *err)
{
    return dev_lattice_cfg_init(cfg, 0x5045, 0x118000, 2, 512, 2, err);
}
