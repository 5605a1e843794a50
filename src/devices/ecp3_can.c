/* ecp3_can: the seed's ECP3 Mini-PCIe CAN adapter. See ecp3_can.h. */
#include "devices/ecp3_can.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices_priv.h"
#include "pcie/caps.h"
#include "pcie/route.h"
#include "pcie/topology.h"
#include "sim/sim.h"

enum {
    P_FRAME_PERIOD,
    P_BATCH,
    P_RING_SIZE,
    P_REQUESTER_ID,
    P_WRITE_RID,
    P_MSI_RID,
    P_ADDR64,
    P_SPLIT,
    P_VECTOR,
    P_START,
    P_COUNT
};

static const char *const addr64_choices[] = {"auto", "always", NULL};
static const char *const split_choices[] = {"mps", "none", NULL};
static const char *const start_choices[] = {"address", "control", NULL};

static const struct dev_param_desc can_params[P_COUNT] = {
    [P_FRAME_PERIOD] = {"frame_period", DEV_PARAM_TIME, SIM_US, 4294967295ull * SIM_NS, NULL,
                        "1ms", "time between received CAN frames (FRAME_PERIOD reset value)"},
    [P_BATCH] = {"batch", DEV_PARAM_UINT, 1, ECP3_CAN_BATCH_MAX, NULL, "8",
                 "frames per DMA write and MSI (BATCH reset value)"},
    [P_RING_SIZE] = {"ring_size", DEV_PARAM_SIZE, ECP3_CAN_FRAME_SIZE, ECP3_CAN_RING_MAX, NULL,
                     "4096", "bytes of the frame ring at the DMA address (a multiple of 16)"},
    [P_REQUESTER_ID] = {"requester_id", DEV_PARAM_RID, 0, 0, NULL, NULL,
                        "sets write_rid and msi_rid at once"},
    [P_WRITE_RID] = {"write_rid", DEV_PARAM_RID, 0, 0, NULL, "captured",
                     "requester ID of the frame writes"},
    [P_MSI_RID] = {"msi_rid", DEV_PARAM_RID, 0, 0, NULL, "captured",
                   "requester ID of the MSI writes"},
    [P_ADDR64] = {"addr64", DEV_PARAM_CHOICE, 0, 0, addr64_choices, "auto",
                  "auto: 3 DW headers below 4 GiB; always: 4 DW headers"},
    [P_SPLIT] = {"split", DEV_PARAM_CHOICE, 0, 0, split_choices, "mps",
                 "mps: split writes at Max_Payload_Size; none: send them oversized"},
    [P_VECTOR] = {"vector", DEV_PARAM_UINT, 0, 31, NULL, "0", "MSI vector of a batch"},
    [P_START] = {"start", DEV_PARAM_CHOICE, 0, 0, start_choices, "address",
                 "address: writing DMA_ADDR_LO sets CONTROL.EN; control: only CONTROL.EN"},
};

static const struct dev_model_info can_info = {
    .name = "ecp3_can",
    .summary = "Lattice ECP3 Mini-PCIe CAN adapter: CAN frames by DMA into a ring, one MSI per batch",
    .params = can_params,
    .nparams = P_COUNT,
};

struct ecp3_can {
    struct dev_model base; /* first */
    struct dev_write_engine wr;
    struct dev_rid msi_rid;
    unsigned vector;
    bool start_on_addr;
    /* registers */
    uint32_t control, status, frame_count, addr_lo, addr_hi, ring_size, frame_period, batch, wr_ptr;
    /* receiver */
    uint64_t frames;            /* received since attach (frame numbers 1..frames) */
    unsigned pending;           /* received, not yet written */
    uint8_t fifo[ECP3_CAN_BATCH_MAX * ECP3_CAN_FRAME_SIZE + 4];
    sim_event_id frame_ev;
};

void ecp3_can_frame(uint64_t n, uint8_t out[ECP3_CAN_FRAME_SIZE])
{
    dev_put32(out, 0x100u + (uint32_t)(n & 0xff));
    dev_put32(out + 4, 8u | (uint32_t)(n & 0xffff) << 16);
    dev_put32(out + 8, (uint32_t)n);
    dev_put32(out + 12, (uint32_t)(n >> 32));
}

static void frame_event(void *ctx, uint64_t arg);

static void frame_schedule(struct ecp3_can *c)
{
    if (!c->frame_ev)
        c->frame_ev = sim_after(c->base.sim, (sim_time_t)c->frame_period * SIM_NS, frame_event,
                                c, 0);
}

static void frame_stop(struct ecp3_can *c)
{
    if (c->frame_ev)
        sim_cancel(c->base.sim, c->frame_ev);
    c->frame_ev = 0;
}

/* Writes the pending frames into the ring (two writes where it wraps), then
 * one MSI. */
static void flush_batch(struct ecp3_can *c)
{
    unsigned n = c->pending;
    c->pending = 0;
    if (!(pcie_cfg_command(pcie_fn_cfg(c->base.fn)) & PCIE_CMD_BUS_MASTER)) {
        c->status |= ECP3_CAN_STS_NO_MASTER;
        c->base.counters.skipped++;
        return;
    }
    c->base.counters.cycles++;
    uint64_t base = (uint64_t)c->addr_hi << 32 | c->addr_lo;
    uint32_t bytes = n * ECP3_CAN_FRAME_SIZE, done = 0;
    while (done < bytes) {
        uint32_t room = c->ring_size - c->wr_ptr;
        uint32_t k = bytes - done < room ? bytes - done : room;
        (void)dev_dma_write(&c->base, &c->wr, base + c->wr_ptr, c->fifo + done, k, NULL);
        done += k;
        c->wr_ptr = (c->wr_ptr + k) % c->ring_size;
    }
    c->frame_count += n;
    c->status |= ECP3_CAN_STS_BATCH_DONE;
    if (c->control & ECP3_CAN_CTL_IRQ_EN)
        dev_msi(&c->base, &c->msi_rid, c->vector);
}

static void frame_event(void *ctx, uint64_t arg)
{
    (void)arg;
    struct ecp3_can *c = ctx;
    c->frame_ev = 0;
    if (!(c->control & ECP3_CAN_CTL_EN))
        return;
    frame_schedule(c);
    c->frames++;
    c->base.counters.events++;
    ecp3_can_frame(c->frames, c->fifo + c->pending * ECP3_CAN_FRAME_SIZE);
    if (++c->pending >= c->batch)
        flush_batch(c);
}

static uint32_t reg_read(void *ctx, unsigned off)
{
    struct ecp3_can *c = ctx;
    switch (off) {
    case ECP3_CAN_REG_ID: return ECP3_CAN_ID;
    case ECP3_CAN_REG_CONTROL: return c->control;
    case ECP3_CAN_REG_STATUS: return c->status;
    case ECP3_CAN_REG_FRAME_COUNT: return c->frame_count;
    case ECP3_CAN_REG_DMA_ADDR_LO: return c->addr_lo;
    case ECP3_CAN_REG_DMA_ADDR_HI: return c->addr_hi;
    case ECP3_CAN_REG_RING_SIZE: return c->ring_size;
    case ECP3_CAN_REG_FRAME_PERIOD: return c->frame_period;
    case ECP3_CAN_REG_BATCH: return c->batch;
    case ECP3_CAN_REG_WR_PTR: return c->wr_ptr;
    }
    return 0;
}

static void control_write(struct ecp3_can *c, uint32_t v)
{
    bool was = c->control & ECP3_CAN_CTL_EN;
    c->control = v & 0x3u;
    if (!was && (c->control & ECP3_CAN_CTL_EN))
        frame_schedule(c);
    else if (was && !(c->control & ECP3_CAN_CTL_EN))
        frame_stop(c);
}

static void reg_write(void *ctx, unsigned off, uint32_t val, uint32_t mask)
{
    struct ecp3_can *c = ctx;
    uint32_t v;
    switch (off) {
    case ECP3_CAN_REG_CONTROL:
        control_write(c, dev_reg_merge(c->control, val, mask));
        break;
    case ECP3_CAN_REG_STATUS:
        c->status &= ~(val & mask);
        break;
    case ECP3_CAN_REG_DMA_ADDR_LO:
        c->addr_lo = dev_reg_merge(c->addr_lo, val, mask) & ~3u;
        c->wr_ptr = 0;
        if (c->start_on_addr)
            control_write(c, c->control | ECP3_CAN_CTL_EN);
        break;
    case ECP3_CAN_REG_DMA_ADDR_HI:
        c->addr_hi = dev_reg_merge(c->addr_hi, val, mask);
        break;
    case ECP3_CAN_REG_RING_SIZE:
        v = dev_reg_merge(c->ring_size, val, mask);
        if (v >= ECP3_CAN_FRAME_SIZE && v <= ECP3_CAN_RING_MAX && v % ECP3_CAN_FRAME_SIZE == 0) {
            c->ring_size = v;
            if (c->wr_ptr >= v)
                c->wr_ptr = 0;
        }
        break;
    case ECP3_CAN_REG_FRAME_PERIOD:
        v = dev_reg_merge(c->frame_period, val, mask);
        c->frame_period = v < 1000 ? 1000 : v;
        break;
    case ECP3_CAN_REG_BATCH:
        v = dev_reg_merge(c->batch, val, mask);
        if (v >= 1 && v <= ECP3_CAN_BATCH_MAX)
            c->batch = v;
        break;
    default:
        break;
    }
}

static enum pcie_cpl_status can_mmio_read(void *ctx, struct pcie_fn *fn, unsigned bar,
                                          uint64_t off, void *buf, unsigned len)
{
    (void)fn;
    if (bar != 0)
        return PCIE_CPL_UR;
    dev_mmio_read(ctx, reg_read, ECP3_CAN_REGS_SIZE, off, buf, len);
    return PCIE_CPL_SC;
}

static enum pcie_cpl_status can_mmio_write(void *ctx, struct pcie_fn *fn, unsigned bar,
                                           uint64_t off, const void *buf, unsigned len)
{
    (void)fn;
    if (bar != 0)
        return PCIE_CPL_UR;
    dev_mmio_write(ctx, reg_write, ECP3_CAN_REGS_SIZE, off, buf, len);
    return PCIE_CPL_SC;
}

static void can_cfg_written(void *ctx, struct pcie_fn *fn, unsigned off, unsigned size,
                            uint32_t old, uint32_t now)
{
    (void)fn;
    (void)off;
    (void)size;
    (void)old;
    (void)now;
    struct ecp3_can *c = ctx;
    dev_msi_pending(&c->base, &c->msi_rid);
}

static const struct pcie_fn_ops can_fn_ops = {
    .name = "ecp3_can",
    .cfg_written = can_cfg_written,
    .mmio_read = can_mmio_read,
    .mmio_write = can_mmio_write,
};

static struct dev_model *can_create(struct pcilab_sim *sim, struct pcie_fn *fn,
                                    struct pcilab_err *err)
{
    (void)sim;
    struct ecp3_can *c = (struct ecp3_can *)dev_model_new(sizeof *c, fn, &dev_ecp3_can_ops,
                                                          ECP3_CAN_REGS_SIZE, err);
    if (!c)
        return NULL;
    c->control = ECP3_CAN_CTL_IRQ_EN;
    return &c->base;
}

static int can_set(struct dev_model *m, size_t idx, const union dev_value *v,
                   struct pcilab_err *err)
{
    struct ecp3_can *c = (struct ecp3_can *)m;
    char txt[16];
    switch (idx) {
    case P_FRAME_PERIOD:
        if (v->t % SIM_NS)
            return pcilab_errf(err, PCILAB_EINVAL, "ecp3_can: parameter 'frame_period': the "
                               "FRAME_PERIOD register counts whole nanoseconds");
        c->frame_period = (uint32_t)(v->t / SIM_NS);
        break;
    case P_BATCH:
        c->batch = (uint32_t)v->u;
        break;
    case P_RING_SIZE:
        if (v->u % ECP3_CAN_FRAME_SIZE)
            return pcilab_errf(err, PCILAB_EINVAL, "ecp3_can: parameter 'ring_size': %llu is "
                               "not a multiple of the 16-byte frame", (unsigned long long)v->u);
        c->ring_size = (uint32_t)v->u;
        if (c->wr_ptr >= c->ring_size)
            c->wr_ptr = 0;
        break;
    case P_REQUESTER_ID:
        c->wr.rid = c->msi_rid = v->rid;
        dev_rid_str(&v->rid, txt);
        snprintf(m->values[P_WRITE_RID], DEV_VALUE_LEN, "%s", txt);
        snprintf(m->values[P_MSI_RID], DEV_VALUE_LEN, "%s", txt);
        return 0;
    case P_WRITE_RID:
    case P_MSI_RID:
        if (idx == P_WRITE_RID)
            c->wr.rid = v->rid;
        else
            c->msi_rid = v->rid;
        dev_rid_str(&v->rid, txt);
        snprintf(m->values[idx], DEV_VALUE_LEN, "%s", txt);
        snprintf(m->values[P_REQUESTER_ID], DEV_VALUE_LEN, "%s",
                 !strcmp(m->values[P_WRITE_RID], m->values[P_MSI_RID]) ? m->values[P_WRITE_RID]
                                                                        : "mixed");
        break;
    case P_ADDR64:
        c->wr.addr64 = (enum dev_addr64)v->c;
        break;
    case P_SPLIT:
        c->wr.split = (enum dev_split)v->c;
        break;
    case P_VECTOR:
        c->vector = (unsigned)v->u;
        break;
    case P_START:
        c->start_on_addr = v->c == 0;
        break;
    default:
        return pcilab_errf(err, PCILAB_EINVAL, "ecp3_can: parameter %zu unknown", idx);
    }
    return 0;
}

static int can_start(struct dev_model *m, struct pcilab_err *err)
{
    (void)err;
    pcie_fn_set_ops(m->fn, &can_fn_ops, m);
    return 0;
}

static void can_destroy(struct dev_model *m)
{
    struct ecp3_can *c = (struct ecp3_can *)m;
    if (c->base.sim)
        frame_stop(c);
    free(c);
}

const struct dev_model_ops dev_ecp3_can_ops = {
    .info = &can_info,
    .create = can_create,
    .set = can_set,
    .start = can_start,
    .destroy = can_destroy,
};

int ecp3_can_cfg_init(struct pcie_cfg *cfg, struct pcilab_err *err)
{
    return dev_lattice_cfg_init(cfg, 0xe3ca, 0x0c0900, 1, 256, 1, err);
}
