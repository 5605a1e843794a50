/* Routing TLPs through the fabric (PCIe 5.0 2.2.4, 2.3, 7.3.3). See route.h. */
#include "pcie/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem/addrmap.h"
#include "pcie/caps.h"
#include "pcie/fabric_priv.h"
#include "pcie/link.h"
#include "pcie/msi.h"
#include "pcie/split.h"
#include "pcie/tlp_print.h"
#include "sim/sim.h"

const char *pcie_req_status_name(enum pcie_req_status s)
{
    switch (s) {
    case PCIE_REQ_SC: return "SC";
    case PCIE_REQ_UR: return "UR";
    case PCIE_REQ_CRS: return "CRS";
    case PCIE_REQ_CA: return "CA";
    case PCIE_REQ_TIMEOUT: return "timeout";
    case PCIE_REQ_POISONED: return "poisoned";
    case PCIE_REQ_MALFORMED: return "malformed";
    case PCIE_REQ_DROPPED: return "dropped";
    }
    return "unknown";
}

/* ------------------------------------------------------------------ */
/* The in-flight pool. Slots live in chunks that never move, so an event's
 * argument (the slot index) and pointers to slots stay valid while the pool
 * grows; growth doubles the slot count, so it is amortised. */

static int pool_grow(struct pcie_fabric *f)
{
    size_t add = f->pool_n ? f->pool_n : (f->cfg.pool_tlps ? f->cfg.pool_tlps : 64);
    size_t ncap = f->pool_n + add;
    struct pcie_inflight **np = realloc(f->pool, ncap * sizeof *np);
    if (!np)
        return -PCILAB_ENOMEM;
    f->pool = np;
    uint32_t *nf = realloc(f->pool_free, ncap * sizeof *nf);
    if (!nf)
        return -PCILAB_ENOMEM;
    f->pool_free = nf;
    if (f->nchunks == f->capchunks) {
        size_t cc = f->capchunks ? f->capchunks * 2 : 8;
        struct pcie_inflight **nc = realloc(f->chunks, cc * sizeof *nc);
        if (!nc)
            return -PCILAB_ENOMEM;
        f->chunks = nc;
        f->capchunks = cc;
    }
    struct pcie_inflight *chunk = calloc(add, sizeof *chunk);
    if (!chunk)
        return -PCILAB_ENOMEM;
    f->chunks[f->nchunks++] = chunk;
    /* a slot's index is written when it is handed out: a slot carries a
     * whole TLP (4 KiB and more), and most never leave calloc's untouched
     * pages */
    for (size_t i = 0; i < add; i++)
        f->pool[f->pool_n + i] = &chunk[i];
    /* Lowest indices are handed out first (deterministic). */
    for (size_t i = add; i-- > 0;)
        f->pool_free[f->pool_nfree++] = (uint32_t)(f->pool_n + i);
    f->pool_n = ncap;
    return 0;
}

static struct pcie_inflight *slot_get(struct pcie_fabric *f)
{
    if (!f->pool_nfree && pool_grow(f) < 0)
        return NULL;
    uint32_t index = f->pool_free[--f->pool_nfree];
    struct pcie_inflight *s = f->pool[index];
    s->index = index;
    s->in_use = true;
    s->sync = false;
    s->elapsed = 0;
    s->bus = NULL;
    s->from = s->origin = s->ingress_rp = NULL;
    s->len = 0;
    size_t used = f->pool_n - f->pool_nfree;
    if (used > f->stats.pool_high_water)
        f->stats.pool_high_water = used;
    return s;
}

static void slot_put(struct pcie_fabric *f, struct pcie_inflight *s)
{
    s->in_use = false;
    f->pool_free[f->pool_nfree++] = s->index;
}

static void requester_init(struct pcie_requester *r, struct pcie_fabric *f, struct pcie_fn *fn)
{
    memset(r, 0, sizeof *r);
    r->fabric = f;
    r->fn = fn;
}

int pcie_route_init(struct pcie_fabric *f, struct pcilab_err *err)
{
    requester_init(&f->host_req, f, NULL);
    if (pool_grow(f) < 0)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the in-flight TLP pool");
    return 0;
}

void pcie_route_fini(struct pcie_fabric *f)
{
    for (size_t i = 0; i < f->nchunks; i++)
        free(f->chunks[i]);
    free(f->chunks);
    free(f->pool);
    free(f->pool_free);
    f->chunks = NULL;
    f->pool = NULL;
    f->pool_free = NULL;
}

void pcie_fabric_get_stats(const struct pcie_fabric *f, struct pcie_fabric_stats *st)
{
    *st = f->stats;
    st->pool_size = f->pool_n;
    st->pool_in_use = f->pool_n - f->pool_nfree;
}

/* ------------------------------------------------------------------ */
/* Small helpers over configuration space */

static uint16_t fn_id(const struct pcie_fn *fn)
{
    /* The ID a function answers with as completer: what it captured
     * (PCIe 5.0 2.2.6.2); the root complex's functions know theirs. */
    return pcie_fn_captured_bdf(fn);
}

static uint16_t host_id(const struct pcie_fabric *f)
{
    return f->host_bridge ? fn_id(f->host_bridge) : pcie_bdf(f->cfg.root_bus, 0, 0);
}

static void bus_range(const struct pcie_fn *b, unsigned *sec, unsigned *sub)
{
    /* PCIe 5.0 7.5.1.3.4/7.5.1.3.5 */
    *sec = pcie_cfg_raw_read8(b->cfg, PCIE_CFG_SECONDARY_BUS);
    *sub = pcie_cfg_raw_read8(b->cfg, PCIE_CFG_SUBORDINATE_BUS);
}

static bool bridge_has_bus(const struct pcie_fn *b, unsigned bus)
{
    unsigned sec, sub;
    bus_range(b, &sec, &sub);
    return sec != 0 && bus >= sec && bus <= sub;
}

/* Does the bridge forward [addr, addr+len) downstream? PCIe 5.0 7.5.1.3.6,
 * 7.5.1.3.8, 7.5.1.3.9 windows, gated by Memory/I/O Space Enable (7.5.1.1.3). */
static bool bridge_window_claims(const struct pcie_fn *b, bool io, uint64_t addr, uint64_t len)
{
    uint16_t cmd = pcie_cfg_command(b->cfg);
    uint64_t base, limit, last = addr + (len ? len - 1 : 0);
    if (io) {
        if (!(cmd & PCIE_CMD_IO))
            return false;
        return pcie_cfg_bridge_window(b->cfg, PCIE_WINDOW_IO, &base, &limit) && addr >= base &&
               last <= limit;
    }
    if (!(cmd & PCIE_CMD_MEMORY))
        return false;
    if (pcie_cfg_bridge_window(b->cfg, PCIE_WINDOW_MEM, &base, &limit) && addr >= base &&
        last <= limit)
        return true;
    return pcie_cfg_bridge_window(b->cfg, PCIE_WINDOW_PREF, &base, &limit) && addr >= base &&
           last <= limit;
}

/* Header log for AER: the first 4 header DWs as transmitted (7.8.4.8). */
static void header_log(const uint8_t *bytes, size_t len, uint32_t h[4])
{
    for (unsigned i = 0; i < 4; i++) {
        h[i] = 0;
        for (unsigned j = 0; j < 4; j++) {
            size_t k = i * 4 + j;
            h[i] = (h[i] << 8) | (k < len ? bytes[k] : 0);
        }
    }
}

/* A function detected an Unsupported Request (PCIe 5.0 6.2.7, 7.5.3.5 URD,
 * 7.8.4.2 UR Status). */
static void note_ur(struct pcie_fn *fn, const uint8_t *bytes, size_t len)
{
    if (!fn)
        return;
    uint32_t h[4];
    header_log(bytes, len, h);
    if (pcie_exp_present(fn->cfg))
        pcie_exp_devsta_set(fn->cfg, PCIE_DEVSTA_URD);
    bool fatal = false;
    (void)pcie_aer_record_uncor(fn->cfg, PCIE_AER_UNC_UNSUP_REQ, h, &fatal);
}

/* A function completed a request with Completer Abort (7.5.1.1.4 Signaled
 * Target Abort, 7.8.4.2 Completer Abort Status). */
static void note_ca(struct pcie_fn *fn, const uint8_t *bytes, size_t len)
{
    if (!fn)
        return;
    uint32_t h[4];
    header_log(bytes, len, h);
    pcie_cfg_status_set(fn->cfg, PCIE_STS_SIG_TARGET_ABORT);
    bool fatal = false;
    (void)pcie_aer_record_uncor(fn->cfg, PCIE_AER_UNC_COMP_ABORT, h, &fatal);
}

static void note_unexpected_cpl(struct pcie_fabric *f, struct pcie_fn *fn, const uint8_t *bytes,
                                size_t len)
{
    f->stats.unexpected_completions++;
    if (!fn)
        return;
    uint32_t h[4];
    header_log(bytes, len, h);
    bool fatal = false;
    (void)pcie_aer_record_uncor(fn->cfg, PCIE_AER_UNC_UNEXP_COMP, h, &fatal);
}

/* ------------------------------------------------------------------ */
/* Time and trace */

static struct pcie_fn *link_device(const struct pcie_bus *b)
{
    for (unsigned i = 0; i < 256; i++)
        if (b->fns[i])
            return b->fns[i];
    return NULL;
}

/* Time a TLP of s->len bytes spends on an idle link (synchronous mode and
 * traces): framing + serialisation (link.h) + the link's fixed latency. */
static sim_time_t link_idle_time(const struct pcie_link *link, size_t len)
{
    const struct pcie_link_cfg *lc = pcie_link_get_cfg(link);
    size_t wire = pcie_link_tlp_wire_bytes(lc->gen, len);
    return sim_time_add(pcie_link_wire_time(lc->gen, lc->width, wire), lc->latency);
}

/* Fixed cost of crossing `via` onto bus `to`, before any link: a root port's
 * latency, a switch's latency when entering its internal bus. */
static sim_time_t port_cost(const struct pcie_fabric *f, const struct pcie_bus *to,
                            const struct pcie_fn *via)
{
    sim_time_t c = 0;
    if (via && via->kind == PCIE_FN_ROOT_PORT)
        c += f->cfg.root_port_latency;
    if (to->kind == PCIE_BUS_SWITCH)
        c += f->cfg.switch_latency;
    return c;
}

static void trace_hop(struct pcie_fabric *f, struct pcie_inflight *s, struct pcie_bus *to,
                      bool down, sim_time_t cost)
{
    struct sim_trace *tr = sim_trace(f->sim);
    if (!sim_trace_enabled(tr))
        return;
    struct pcie_tlp tlp;
    char text[160], where[48];
    if (pcie_tlp_decode_ex(s->bytes, s->len, PCIE_TLP_DECODE_NO_ECRC_CHECK, &tlp, NULL, NULL) < 0)
        snprintf(text, sizeof text, "malformed TLP (%zu bytes)", s->len);
    else
        pcie_tlp_summary(&tlp, text, sizeof text);
    if (to->kind == PCIE_BUS_LINK) {
        struct pcie_fn *dev = link_device(to);
        pcie_fn_link_name(dev ? dev : to->bridge, where);
    } else if (to->kind == PCIE_BUS_SWITCH) {
        char b[PCIE_FN_ADDR_LEN];
        snprintf(where, sizeof where, "switch %s", pcie_fn_addr_str(to->bridge, b) + 5);
    } else {
        snprintf(where, sizeof where, "root complex");
    }
    struct sim_trace_rec rec = {
        .t = sim_time_add(sim_now(f->sim), s->elapsed),
        .duration = cost,
        .where = where,
        .dir = down ? SIM_TRACE_DOWN : SIM_TRACE_UP,
        .kind = "TLP",
        .text = text,
        .json = NULL,
    };
    sim_trace_emit(tr, &rec);
}

static void arrive(struct pcie_fabric *f, struct pcie_inflight *s);

static void hop_event(void *ctx, uint64_t arg)
{
    struct pcie_fabric *f = ctx;
    arrive(f, f->pool[arg]);
}

static void link_delivered(void *ctx, const struct pcie_link_tlp *lt, sim_time_t arrived)
{
    (void)arrived;
    struct pcie_fabric *f = ctx;
    arrive(f, f->pool[lt->arg]);
}

/* Puts s on its bus's link now. */
static void link_send(struct pcie_fabric *f, struct pcie_inflight *s)
{
    struct pcie_link_tlp lt = {
        .bytes = s->bytes,
        .len = s->len,
        .deliver = link_delivered,
        .ctx = f,
        .arg = s->index,
    };
    if (pcie_link_send(s->bus->link, s->down ? PCIE_LINK_DOWN : PCIE_LINK_UP, &lt, NULL) < 0) {
        /* The link refuses it (payload above the link's MPS, unparsable): the
         * receiver would see a Malformed TLP (2.2.2); dropped. */
        f->stats.malformed++;
        slot_put(f, s);
    }
}

static void link_event(void *ctx, uint64_t arg)
{
    struct pcie_fabric *f = ctx;
    link_send(f, f->pool[arg]);
}

/* Moves s onto bus `to` across `via` (NULL: from its origin) after `extra`
 * (a completer's turnaround): the port's cost, then the link if `to` is one. */
static void move(struct pcie_fabric *f, struct pcie_inflight *s, struct pcie_bus *to,
                 struct pcie_fn *via, bool down, sim_time_t extra)
{
    sim_time_t pre = sim_time_add(extra, port_cost(f, to, via));
    bool on_link = to->kind == PCIE_BUS_LINK && to->link;
    sim_time_t cost = pre;
    if (on_link && (s->sync || sim_trace_enabled(sim_trace(f->sim))))
        cost = sim_time_add(cost, link_idle_time(to->link, s->len));
    trace_hop(f, s, to, down, cost);
    s->bus = to;
    s->from = via ? via : s->origin;
    s->down = down;
    f->stats.hops++;
    if (s->sync) {
        s->elapsed = sim_time_add(s->elapsed, cost);
        arrive(f, s);
        return;
    }
    if (on_link && pre == 0) {
        link_send(f, s);
        return;
    }
    if (!sim_after(f->sim, pre, on_link ? link_event : hop_event, f, s->index)) {
        /* Out of memory in the event queue: the TLP is lost. */
        slot_put(f, s);
    }
}

/* Starts a TLP already in s->bytes from `origin` (on origin's bus); NULL or
 * the host bridge: the host, entering at the root complex. */
static void launch(struct pcie_fabric *f, struct pcie_inflight *s, struct pcie_fn *origin,
                   sim_time_t extra)
{
    f->stats.tlps++;
    s->origin = origin;
    s->from = origin;
    struct pcie_bus *b = origin ? origin->bus : f->root;
    /* The host's requests go down; everything a function sends starts up. */
    bool down = !origin || origin->kind == PCIE_FN_HOST_BRIDGE;
    if (b->kind != PCIE_BUS_ROOT) {
        move(f, s, b, NULL, down, extra);
        return;
    }
    s->bus = b;
    s->down = down;
    if (s->sync) {
        s->elapsed = sim_time_add(s->elapsed, extra);
        arrive(f, s);
    } else if (!sim_after(f->sim, extra, hop_event, f, s->index)) {
        slot_put(f, s);
    }
}

/* ------------------------------------------------------------------ */
/* Completions */

/* Sends a completion for request `req` (decoded) from completer `cpl_fn` on
 * bus `bus` (the completion starts where the request is). */
static void send_cpl(struct pcie_fabric *f, const struct pcie_inflight *rq, const struct pcie_tlp *req,
                     struct pcie_fn *completer, uint16_t completer_id, enum pcie_cpl_status st,
                     uint8_t lower_addr, uint16_t byte_count, const uint8_t *payload,
                     uint16_t len_dw, sim_time_t delay)
{
    struct pcie_tlp c;
    if (pcie_tlp_completion(&c, completer_id, st, req->requester_id, req->tag, lower_addr,
                            byte_count, payload, len_dw, NULL) < 0)
        return;
    if (req->kind == PCIE_TLP_MRDLK)
        c.kind = payload ? PCIE_TLP_CPLDLK : PCIE_TLP_CPLLK, c.type = 0x0b;
    c.tc = req->tc;
    c.attr = req->attr;
    struct pcie_inflight *s = slot_get(f);
    if (!s)
        return;
    int n = pcie_tlp_encode(&c, s->bytes, sizeof s->bytes, NULL);
    if (n < 0) {
        slot_put(f, s);
        return;
    }
    s->len = (size_t)n;
    s->sync = rq->sync;
    s->elapsed = rq->elapsed;
    f->stats.tlps++;
    if (st == PCIE_CPL_UR)
        f->stats.ur_completions++;
    else if (st == PCIE_CPL_CA)
        f->stats.ca_completions++;
    s->origin = completer;
    /* The completion leaves the completer onto the bus the request was on
     * (crossing that link back if it is one). */
    move(f, s, rq->bus, NULL, !rq->down, delay);
}

/* Byte count and lower address of a completion without data for request
 * `req` (PCIe 5.0 2.2.9): a memory read reports the whole remaining span and
 * the first byte's address; everything else Byte Count 4, Lower Address 0. */
static void nodata_fields(const struct pcie_tlp *req, uint16_t *bc, uint8_t *la)
{
    if (req->kind == PCIE_TLP_MRD || req->kind == PCIE_TLP_MRDLK) {
        uint32_t span = pcie_tlp_byte_span(req);
        *bc = (uint16_t)(span >= 4096 ? 0 : (span ? span : 1));
        *la = (uint8_t)(pcie_tlp_first_byte_addr(req) & 0x7f);
    } else {
        *bc = 4;
        *la = 0;
    }
}

/* Unsupported Request (PCIe 5.0 2.3.1): detector records it; non-posted get a
 * UR completion, posted are dropped. */
static void unsupported(struct pcie_fabric *f, struct pcie_inflight *s, const struct pcie_tlp *t,
                        struct pcie_fn *detector)
{
    note_ur(detector, s->bytes, s->len);
    if (pcie_tlp_is_nonposted(t)) {
        uint16_t bc;
        uint8_t la;
        nodata_fields(t, &bc, &la);
        uint16_t cid = detector ? fn_id(detector) : host_id(f);
        send_cpl(f, s, t, detector, cid, PCIE_CPL_UR, la, bc, NULL, 0, 0);
    } else {
        f->stats.ur_posted_dropped++;
    }
}

/* Completer side of a successful read: data in buf for the request's byte
 * span, split at RCB and MPS (2.3.1.1). */
static void send_read_data(struct pcie_fabric *f, struct pcie_inflight *s, const struct pcie_tlp *t,
                           struct pcie_fn *completer, uint16_t cid, const uint8_t *data,
                           unsigned rcb, unsigned mps, sim_time_t delay)
{
    uint64_t addr = pcie_tlp_first_byte_addr(t);
    uint32_t len = pcie_tlp_byte_span(t);
    struct pcie_split_cpl pieces[64];
    long n = pcie_split_completions(addr, len, rcb, mps, 0, pieces, 64, NULL);
    if (n < 0 || n > 64) {
        send_cpl(f, s, t, completer, cid, PCIE_CPL_CA, 0, 4, NULL, 0, delay);
        return;
    }
    uint8_t dw[4096 + 8];
    for (long i = 0; i < n; i++) {
        const struct pcie_split_cpl *p = &pieces[i];
        /* payload: whole DWs; the first byte sits at lower_addr & 3 */
        size_t off = p->addr & 3u;
        memset(dw, 0, (size_t)p->len_dw * 4);
        if (p->len)
            memcpy(dw + off, data + (p->addr - addr), p->len);
        send_cpl(f, s, t, completer, cid, PCIE_CPL_SC, p->lower_addr, p->byte_count, dw,
                 p->len_dw, delay);
    }
}

/* ------------------------------------------------------------------ */
/* Requester side: tags, reassembly, timeouts */

static unsigned tags_max(const struct pcie_fn *fn)
{
    if (!fn)
        return PCIE_MAX_TAGS;
    /* 2.2.6.2: 5-bit tags unless Extended Tag Field Enable (7.5.3.4). */
    return pcie_exp_ext_tag_enabled(fn->cfg) ? 256 : 32;
}

static void op_finish(struct pcie_requester *r, uint32_t opi)
{
    struct pcie_read_op *op = &r->ops[opi];
    op->finished = true;
    if (op->sync)
        return; /* the synchronous caller collects it */
    op->busy = false;
    if (op->done)
        op->done(op->ctx, op->status, op->buf, op->len);
}

static void tag_release(struct pcie_requester *r, unsigned tag)
{
    struct pcie_tag_slot *ts = &r->tags[tag];
    if (ts->timeout)
        sim_cancel(r->fabric->sim, ts->timeout);
    ts->timeout = 0;
    ts->busy = false;
    r->in_use--;
    struct pcie_read_op *op = &r->ops[ts->op];
    if (--op->tags_left == 0)
        op_finish(r, ts->op);
}

static void timeout_event(void *ctx, uint64_t arg)
{
    struct pcie_requester *r = ctx;
    unsigned tag = (unsigned)arg;
    struct pcie_tag_slot *ts = &r->tags[tag];
    if (!ts->busy)
        return;
    ts->timeout = 0;
    r->fabric->stats.timeouts++;
    struct pcie_read_op *op = &r->ops[ts->op];
    if (op->status == PCIE_REQ_SC)
        op->status = PCIE_REQ_TIMEOUT;
    /* 6.2.5 / 7.8.4.2: Completion Timeout Status in the requester. */
    if (r->fn) {
        bool fatal = false;
        (void)pcie_aer_record_uncor(r->fn->cfg, PCIE_AER_UNC_COMP_TIMEOUT, NULL, &fatal);
    }
    tag_release(r, tag);
}

/* Gives a completion to requester r. False when r has no such tag
 * outstanding (not r's completion). */
static bool requester_cpl(struct pcie_requester *r, const struct pcie_tlp *t)
{
    unsigned tag = t->tag;
    if (tag >= PCIE_MAX_TAGS || !r->tags[tag].busy)
        return false;
    struct pcie_tag_slot *ts = &r->tags[tag];
    struct pcie_read_op *op = &r->ops[ts->op];
    if (t->cpl_status != PCIE_CPL_SC) {
        if (op->status == PCIE_REQ_SC)
            op->status = (enum pcie_req_status)t->cpl_status;
        tag_release(r, tag);
        return true;
    }
    if (t->ep && op->status == PCIE_REQ_SC)
        op->status = PCIE_REQ_POISONED;
    uint32_t remaining = ts->len - ts->received;
    uint32_t bc = t->byte_count ? t->byte_count : 4096;
    uint32_t avail = t->payload ? (uint32_t)t->payload_len : 0;
    uint32_t off = t->lower_addr & 3u;
    uint32_t n;
    if (op->mem) {
        /* 2.2.9 / 2.3.1.1: Byte Count = bytes left; Lower Address = next byte. */
        uint64_t next = ts->addr + ts->received;
        if (bc != remaining || t->lower_addr != (next & 0x7f) || avail < off) {
            op->status = PCIE_REQ_MALFORMED;
            tag_release(r, tag);
            return true;
        }
        n = avail - off;
        if (n > remaining)
            n = remaining;
        if (ts->len)
            memcpy(op->buf + (ts->addr - op->addr) + ts->received, t->payload + off, n);
    } else {
        /* configuration/I/O: one DW, data in the enabled byte lanes */
        n = remaining;
        if (avail >= 4 && ts->len)
            memcpy(op->buf, t->payload + (ts->addr & 3u), ts->len);
    }
    ts->received += n;
    if (ts->received >= ts->len)
        tag_release(r, tag);
    return true;
}

static int tag_alloc(struct pcie_requester *r, unsigned max)
{
    for (unsigned i = 0; i < max; i++) {
        unsigned t = (r->next_tag + i) % max;
        if (!r->tags[t].busy) {
            r->next_tag = (t + 1) % max;
            return (int)t;
        }
    }
    return -1;
}

static int op_alloc(struct pcie_requester *r)
{
    for (unsigned i = 0; i < PCIE_MAX_TAGS; i++)
        if (!r->ops[i].busy)
            return (int)i;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Delivery to a function */

/* Applies a configuration write with byte enables (2.2.5) as the
 * configuration space's registers of sizes 1/2/4 see it. */
static int cfg_write_be(struct pcie_cfg *cfg, unsigned off, uint8_t be, uint32_t val)
{
    if (be == 0xf)
        return pcie_cfg_write(cfg, off, 4, val, NULL);
    if (be == 0x3)
        return pcie_cfg_write(cfg, off, 2, val & 0xffff, NULL);
    if (be == 0xc)
        return pcie_cfg_write(cfg, off + 2, 2, val >> 16, NULL);
    for (unsigned i = 0; i < 4; i++)
        if (be & (1u << i)) {
            int r = pcie_cfg_write(cfg, off + i, 1, (val >> (8 * i)) & 0xff, NULL);
            if (r < 0)
                return r;
        }
    return 0;
}

static void deliver_cfg(struct pcie_fabric *f, struct pcie_inflight *s, const struct pcie_tlp *t,
                        struct pcie_fn *fn)
{
    unsigned off = (unsigned)t->cfg_reg * 4u;
    bool write = t->kind == PCIE_TLP_CFGWR0;
    if (write && fn->kind != PCIE_FN_HOST_BRIDGE && fn->kind != PCIE_FN_RCIEP &&
        fn->kind != PCIE_FN_ROOT_PORT) {
        /* 2.2.6.2: capture Bus and Device Number from every Type 0 write. */
        fn->captured = (uint16_t)((t->target_id & 0xfff8u) | (fn->devfn & 7u));
        fn->has_captured = true;
    }
    uint16_t cid = fn_id(fn);
    if (write) {
        uint32_t val = 0;
        if (t->payload && t->payload_len >= 4)
            val = (uint32_t)t->payload[0] | (uint32_t)t->payload[1] << 8 |
                  (uint32_t)t->payload[2] << 16 | (uint32_t)t->payload[3] << 24;
        uint32_t old = pcie_cfg_raw_read32(fn->cfg, off);
        int r = cfg_write_be(fn->cfg, off, t->first_be, val);
        if (r < 0) {
            note_ca(fn, s->bytes, s->len);
            send_cpl(f, s, t, fn, cid, PCIE_CPL_CA, 0, 4, NULL, 0, 0);
            return;
        }
        if (fn->ops && fn->ops->cfg_written)
            fn->ops->cfg_written(fn->ctx, fn, off, 4, old, pcie_cfg_raw_read32(fn->cfg, off));
        send_cpl(f, s, t, fn, cid, PCIE_CPL_SC, 0, 4, NULL, 0, 0);
        return;
    }
    uint32_t val = 0;
    if (pcie_cfg_read(fn->cfg, off, 4, &val, NULL) < 0) {
        note_ca(fn, s->bytes, s->len);
        send_cpl(f, s, t, fn, cid, PCIE_CPL_CA, 0, 4, NULL, 0, 0);
        return;
    }
    uint8_t d[4] = {(uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16), (uint8_t)(val >> 24)};
    send_cpl(f, s, t, fn, cid, PCIE_CPL_SC, 0, 4, d, 1, 0);
}

static void deliver_mem(struct pcie_fabric *f, struct pcie_inflight *s, const struct pcie_tlp *t,
                        struct pcie_fn *fn, int bar, uint64_t off)
{
    uint32_t len = pcie_tlp_byte_span(t);
    uint16_t cid = fn_id(fn);
    const struct pcie_fn_ops *ops = fn->ops;
    if (t->kind == PCIE_TLP_MWR || t->kind == PCIE_TLP_IOWR) {
        enum pcie_cpl_status st = PCIE_CPL_UR;
        if (ops && ops->mmio_write)
            st = ops->mmio_write(fn->ctx, fn, (unsigned)bar, off,
                                 t->payload + (pcie_tlp_first_byte_addr(t) & 3u), len);
        if (st == PCIE_CPL_CA)
            note_ca(fn, s->bytes, s->len);
        if (t->kind == PCIE_TLP_MWR) {
            if (st == PCIE_CPL_UR) {
                note_ur(fn, s->bytes, s->len);
                f->stats.ur_posted_dropped++;
            }
            return;
        }
        /* IOWr is non-posted: Cpl (2.2.9). */
        if (st == PCIE_CPL_UR)
            note_ur(fn, s->bytes, s->len);
        send_cpl(f, s, t, fn, cid, st, 0, 4, NULL, 0, 0);
        return;
    }
    if (t->kind == PCIE_TLP_MRD || t->kind == PCIE_TLP_MRDLK || t->kind == PCIE_TLP_IORD) {
        enum pcie_cpl_status st = PCIE_CPL_UR;
        memset(f->scratch, 0, len); /* a model filling less reads as zeros */
        if (ops && ops->mmio_read)
            st = len ? ops->mmio_read(fn->ctx, fn, (unsigned)bar, off, f->scratch, len)
                     : PCIE_CPL_SC;
        if (st != PCIE_CPL_SC) {
            if (st == PCIE_CPL_UR)
                note_ur(fn, s->bytes, s->len);
            else if (st == PCIE_CPL_CA)
                note_ca(fn, s->bytes, s->len);
            uint16_t bc;
            uint8_t la;
            nodata_fields(t, &bc, &la);
            send_cpl(f, s, t, fn, cid, st, la, bc, NULL, 0, 0);
            return;
        }
        if (t->kind == PCIE_TLP_IORD) {
            uint8_t d[4] = {0};
            memcpy(d + (pcie_tlp_first_byte_addr(t) & 3u), f->scratch, len);
            send_cpl(f, s, t, fn, cid, PCIE_CPL_SC, 0, 4, d, 1, 0);
            return;
        }
        unsigned rcb = pcie_exp_present(fn->cfg) ? pcie_exp_rcb(fn->cfg) : 64;
        unsigned mps = pcie_exp_present(fn->cfg) ? pcie_exp_mps(fn->cfg) : 128;
        send_read_data(f, s, t, fn, cid, f->scratch, rcb, mps, 0);
        return;
    }
    /* AtomicOps and anything else the fabric does not complete itself. */
    if (ops && ops->receive)
        ops->receive(fn->ctx, fn, t, s->bytes, s->len);
    else
        unsupported(f, s, t, fn);
}

/* A completion or message reached function fn (its ID matched). */
static void deliver_id(struct pcie_fabric *f, struct pcie_inflight *s, const struct pcie_tlp *t,
                       struct pcie_fn *fn)
{
    if (pcie_tlp_is_completion(t)) {
        /* 7.5.1.1.4: Received Master Abort (UR) / Received Target Abort (CA). */
        if (t->cpl_status == PCIE_CPL_UR)
            pcie_cfg_status_set(fn->cfg, PCIE_STS_REC_MASTER_ABORT);
        else if (t->cpl_status == PCIE_CPL_CA)
            pcie_cfg_status_set(fn->cfg, PCIE_STS_REC_TARGET_ABORT);
        struct pcie_requester *r = fn == f->host_bridge ? &f->host_req : fn->req;
        if (r && requester_cpl(r, t))
            return;
        if (fn->ops && fn->ops->receive) {
            fn->ops->receive(fn->ctx, fn, t, s->bytes, s->len);
            return;
        }
        note_unexpected_cpl(f, fn, s->bytes, s->len);
        return;
    }
    if (fn->ops && fn->ops->receive)
        fn->ops->receive(fn->ctx, fn, t, s->bytes, s->len);
}

/* ------------------------------------------------------------------ */
/* The root complex as the target of requests from below */

static void to_system(struct pcie_fabric *f, struct pcie_inflight *s, const struct pcie_tlp *t)
{
    struct pcie_fn *rp = s->from && s->from->kind == PCIE_FN_ROOT_PORT ? s->from : NULL;
    if (t->kind != PCIE_TLP_MRD && t->kind != PCIE_TLP_MWR) {
        /* I/O, locked reads, AtomicOps to system memory: not modelled -> UR at
         * the root port (or host bridge). */
        unsupported(f, s, t, rp ? rp : f->host_bridge);
        return;
    }
    struct pcie_upstream_req req = {
        .fabric = f,
        .ingress = rp,
        .origin = s->origin,
        .tlp = t,
        .bytes = s->bytes,
        .nbytes = s->len,
        .requester_id = t->requester_id,
        .write = t->kind == PCIE_TLP_MWR,
        .addr = pcie_tlp_first_byte_addr(t),
        .len = pcie_tlp_byte_span(t),
        .data = t->kind == PCIE_TLP_MWR ? t->payload + (pcie_tlp_first_byte_addr(t) & 3u) : NULL,
    };
    f->stats.upstream_requests++;
    sim_time_t delay = 0;
    if (!req.write)
        memset(f->scratch, 0, req.len); /* only what the completion will carry */
    enum pcie_cpl_status st =
        f->upstream ? f->upstream(f->upstream_ctx, &req, f->scratch, &delay)
                    : pcie_fabric_system_access(f, &req, f->scratch, &delay);
    struct pcie_fn *completer = rp ? rp : f->host_bridge;
    if (req.write) {
        if (st == PCIE_CPL_UR) {
            note_ur(completer, s->bytes, s->len);
            f->stats.ur_posted_dropped++;
        }
        return;
    }
    uint16_t cid = completer ? fn_id(completer) : host_id(f);
    sim_time_t d = sim_time_add(f->cfg.memory_latency, delay);
    if (st != PCIE_CPL_SC) {
        if (st == PCIE_CPL_UR)
            note_ur(completer, s->bytes, s->len);
        uint16_t bc;
        uint8_t la;
        nodata_fields(t, &bc, &la);
        send_cpl(f, s, t, completer, cid, st, la, bc, NULL, 0, d);
        return;
    }
    unsigned mps = rp && pcie_exp_present(rp->cfg) ? pcie_exp_mps(rp->cfg) : 128;
    send_read_data(f, s, t, completer, cid, f->scratch, f->cfg.rcb, mps, d);
}

enum pcie_cpl_status pcie_fabric_system_access(struct pcie_fabric *f,
                                               const struct pcie_upstream_req *req,
                                               uint8_t *read_buf, sim_time_t *delay)
{
    (void)delay;
    bool msi = req->addr >= PCIE_MSI_WINDOW_BASE &&
               req->addr < PCIE_MSI_WINDOW_BASE + PCIE_MSI_WINDOW_SIZE;
    if (msi) {
        /* An interrupt message: a DW write (6.1.4); reads of the window fail. */
        if (!req->write || req->len != 4 || !f->irq)
            return PCIE_CPL_UR;
        uint32_t data = (uint32_t)req->data[0] | (uint32_t)req->data[1] << 8 |
                        (uint32_t)req->data[2] << 16 | (uint32_t)req->data[3] << 24;
        f->irq(f->irq_ctx, req->requester_id, req->addr, data);
        return PCIE_CPL_SC;
    }
    if (!f->memory)
        return PCIE_CPL_UR;
    struct mem_access_info info;
    int r = req->write ? mem_addrmap_write(f->memory, req->addr, req->data, req->len, &info)
                       : mem_addrmap_read(f->memory, req->addr, read_buf, req->len, &info);
    if (r == 0)
        return PCIE_CPL_SC;
    return info.result == MEM_ACCESS_DEVICE_ERROR ? PCIE_CPL_CA : PCIE_CPL_UR;
}

/* ------------------------------------------------------------------ */
/* Routing decisions on one bus */

/* The component that receives a TLP arriving on bus b from `from` and must
 * deal with it when no one claims it. */
static struct pcie_fn *receiver(struct pcie_fabric *f, struct pcie_bus *b, struct pcie_fn *from)
{
    switch (b->kind) {
    case PCIE_BUS_LINK:
        /* from above: the device (function 0 first) */
        return from == b->bridge ? link_device(b) : b->bridge;
    case PCIE_BUS_SWITCH:
        return from;
    case PCIE_BUS_ROOT:
        break;
    }
    if (from && from->kind == PCIE_FN_ROOT_PORT)
        return from;
    return f->host_bridge;
}

static bool route_cfg(struct pcie_fabric *f, struct pcie_inflight *s, struct pcie_tlp *t)
{
    struct pcie_bus *b = s->bus;
    struct pcie_fn *from = s->from;
    if (!s->down) {
        /* 7.3.3: configuration requests only travel downstream. */
        unsupported(f, s, t, receiver(f, b, from));
        return false;
    }
    unsigned tbus = pcie_bdf_bus(t->target_id);
    unsigned devfn = t->target_id & 0xffu;
    if (t->kind == PCIE_TLP_CFGRD0 || t->kind == PCIE_TLP_CFGWR0) {
        /* (the host may address its own host bridge: from == fn there) */
        struct pcie_fn *fn = b->fns[devfn];
        if (!fn) {
            unsupported(f, s, t, receiver(f, b, from));
            return false;
        }
        deliver_cfg(f, s, t, fn);
        return false;
    }
    for (unsigned i = 0; i < 256; i++) {
        struct pcie_fn *br = b->fns[i];
        if (!br || br == from || !br->secondary || !bridge_has_bus(br, tbus))
            continue;
        unsigned sec, sub;
        bus_range(br, &sec, &sub);
        if (tbus == sec) {
            /* 7.3.3: Type 1 for the secondary bus becomes Type 0; on a link
             * only Device 0 exists (7.3.1), other devices get UR. */
            if (br->secondary->kind == PCIE_BUS_LINK && pcie_bdf_dev(t->target_id) != 0) {
                unsupported(f, s, t, br);
                return false;
            }
            s->bytes[0] &= 0xfe; /* Type[0]: a variant bit outside ECRC (2.7.1) */
        }
        move(f, s, br->secondary, br, true, 0);
        return true;
    }
    unsupported(f, s, t, receiver(f, b, from));
    return false;
}

/* ACS Control bit enabled on port p (7.7.8.3)? */
static bool acs_ctrl(const struct pcie_fn *p, uint16_t bit)
{
    if (!p || (p->kind != PCIE_FN_SWITCH_DOWN && p->kind != PCIE_FN_ROOT_PORT))
        return false;
    unsigned c = pcie_ecap_find(p->cfg, PCIE_ECAP_ID_ACS);
    return c && (pcie_cfg_raw_read16(p->cfg, c + PCIE_ACS_CTRL) & bit);
}

/* P2P Request Redirect on the downstream port a request came up through. */
static bool acs_redirect(const struct pcie_fn *p)
{
    return p && p->kind == PCIE_FN_SWITCH_DOWN && acs_ctrl(p, PCIE_ACS_RR);
}

static bool route_addr(struct pcie_fabric *f, struct pcie_inflight *s, struct pcie_tlp *t,
                       uint64_t addr, uint32_t len, bool io)
{
    struct pcie_bus *b = s->bus;
    struct pcie_fn *from = s->from;
    bool up = !s->down;
    bool on_link_up = b->kind == PCIE_BUS_LINK && up;
    bool redirect = up && acs_redirect(from);
    if (!on_link_up && !redirect) {
        /* Functions and downstream bridges on this bus, in devfn order. */
        for (unsigned i = 0; i < 256; i++) {
            struct pcie_fn *fn = b->fns[i];
            /* On the root bus a request may go back down the root port it
             * came up through (root complex peer-to-peer, and redirected
             * requests after ACS Upstream Forwarding). */
            if (!fn || (fn == from && !(b->kind == PCIE_BUS_ROOT && fn->secondary)))
                continue;
            if (fn->secondary) {
                if (bridge_window_claims(fn, io, addr, len)) {
                    move(f, s, fn->secondary, fn, true, 0);
                    return true;
                }
                continue;
            }
            uint64_t off;
            int bar = pcie_cfg_bar_decode(fn->cfg, io, addr, len ? len : 1, &off);
            if (bar >= 0) {
                deliver_mem(f, s, t, fn, bar, off);
                return false;
            }
        }
    }
    if (up) {
        struct pcie_fn *ub = b->bridge;
        if (!ub) {
            /* Root bus: the root complex takes what no one below claims. */
            if (pcie_tlp_is_memory(t) || io)
                to_system(f, s, t);
            else
                unsupported(f, s, t, receiver(f, b, from));
            return false;
        }
        /* 7.7.8.3 Upstream Forwarding: a port forwards upstream requests that
         * target its own secondary side (they were redirected below it). */
        if (redirect || acs_ctrl(ub, PCIE_ACS_UF) || !bridge_window_claims(ub, io, addr, len)) {
            /* 7.5.1.1.3: a Type 1 function forwards requests upstream only with
             * Bus Master Enable; else they are Unsupported Requests. */
            if (!(pcie_cfg_command(ub->cfg) & PCIE_CMD_BUS_MASTER)) {
                unsupported(f, s, t, ub);
                return false;
            }
            move(f, s, ub->bus, ub, false, 0);
            return true;
        }
    }
    /* Host requests no one decodes, requests into a port's own window from
     * below: Unsupported Request at the receiver. */
    unsupported(f, s, t, receiver(f, b, from));
    return false;
}

static bool route_id(struct pcie_fabric *f, struct pcie_inflight *s, struct pcie_tlp *t,
                     uint16_t id)
{
    struct pcie_bus *b = s->bus;
    struct pcie_fn *from = s->from;
    bool up = !s->down;
    unsigned tbus = pcie_bdf_bus(id);
    bool on_link_up = b->kind == PCIE_BUS_LINK && up;
    if (!on_link_up) {
        if (tbus == pcie_bus_number(b)) {
            /* Without a host bridge function the root complex still answers to
             * its requester ID root_bus:00.0 (topology.h), whatever sits there. */
            if (!b->bridge && !f->host_bridge && id == host_id(f) &&
                pcie_tlp_is_completion(t) && requester_cpl(&f->host_req, t))
                return false;
            struct pcie_fn *fn = b->fns[id & 0xffu];
            if (fn) {
                deliver_id(f, s, t, fn);
                return false;
            }
        }
        for (unsigned i = 0; i < 256; i++) {
            struct pcie_fn *br = b->fns[i];
            if (br && br->secondary && bridge_has_bus(br, tbus)) {
                move(f, s, br->secondary, br, true, 0);
                return true;
            }
        }
    }
    if (up && b->bridge && !bridge_has_bus(b->bridge, tbus)) {
        move(f, s, b->bridge->bus, b->bridge, false, 0);
        return true;
    }
    /* No one: an Unexpected Completion at the receiver (2.3.2), or a message
     * for no one (dropped). */
    if (pcie_tlp_is_completion(t))
        note_unexpected_cpl(f, receiver(f, b, from), s->bytes, s->len);
    return false;
}

static bool route_msg(struct pcie_fabric *f, struct pcie_inflight *s, struct pcie_tlp *t)
{
    struct pcie_bus *b = s->bus;
    struct pcie_fn *from = s->from;
    switch (t->msg_routing) {
    case PCIE_MSG_TO_RC:
    case PCIE_MSG_GATHER_TO_RC:
        if (b->bridge) {
            move(f, s, b->bridge->bus, b->bridge, false, 0);
            return true;
        }
        if (f->msg)
            f->msg(f->msg_ctx, from && from->kind == PCIE_FN_ROOT_PORT ? from : NULL, t);
        return false;
    case PCIE_MSG_BY_ID:
        return route_id(f, s, t, pcie_msg_target_id(t));
    case PCIE_MSG_BY_ADDR:
        return route_addr(f, s, t, pcie_msg_addr(t), 4, false);
    case PCIE_MSG_BROADCAST:
        /* Copies to every function and down every bridge of this bus. */
        for (unsigned i = 0; i < 256; i++) {
            struct pcie_fn *fn = b->fns[i];
            if (!fn || fn == from)
                continue;
            if (fn->ops && fn->ops->receive)
                fn->ops->receive(fn->ctx, fn, t, s->bytes, s->len);
            if (fn->secondary) {
                struct pcie_inflight *c = slot_get(f);
                if (!c)
                    break;
                memcpy(c->bytes, s->bytes, s->len);
                c->len = s->len;
                c->sync = s->sync;
                c->elapsed = s->elapsed;
                c->origin = s->origin;
                move(f, c, fn->secondary, fn, true, 0);
            }
        }
        return false;
    default: {
        /* Local (and reserved routing): terminates at the receiver. */
        struct pcie_fn *rx = receiver(f, b, from);
        if (rx && rx->ops && rx->ops->receive)
            rx->ops->receive(rx->ctx, rx, t, s->bytes, s->len);
        return false;
    }
    }
}

/* A TLP arrived on s->bus. Decides, delivers or moves it on. */
static void arrive(struct pcie_fabric *f, struct pcie_inflight *s)
{
    struct pcie_tlp t;
    enum pcie_tlp_error kind = PCIE_TLP_OK;
    int r = pcie_tlp_decode_ex(s->bytes, s->len, 0, &t, &kind, NULL);
    /* 2.2.2: the receiver at the end of a link checks the payload against its
     * own programmed Max_Payload_Size; larger is a Malformed TLP. */
    if (r >= 0 && t.payload_len && s->bus->kind == PCIE_BUS_LINK) {
        struct pcie_fn *rx = receiver(f, s->bus, s->from);
        unsigned mps = rx && pcie_exp_present(rx->cfg) ? pcie_exp_mps(rx->cfg) : 0;
        if (mps && pcie_tlp_check_mps(&t, mps, NULL) < 0) {
            r = -PCILAB_EMALFORMED;
            kind = PCIE_TLP_E_MPS;
            f->stats.mps_violations++;
        }
    }
    if (r < 0 && kind != PCIE_TLP_E_4DW_LOW_ADDR) {
        /* 2.3 / 6.2.7: Malformed TLP (or ECRC error) at the receiver: dropped. */
        f->stats.malformed++;
        struct pcie_fn *rx = receiver(f, s->bus, s->from);
        if (rx) {
            uint32_t h[4];
            bool fatal = false;
            header_log(s->bytes, s->len, h);
            (void)pcie_aer_record_uncor(rx->cfg,
                                        kind == PCIE_TLP_E_ECRC ? PCIE_AER_UNC_ECRC
                                                                : PCIE_AER_UNC_MALFORMED,
                                        h, &fatal);
        }
        slot_put(f, s);
        return;
    }
    bool moved;
    switch (t.kind) {
    case PCIE_TLP_CFGRD0:
    case PCIE_TLP_CFGWR0:
    case PCIE_TLP_CFGRD1:
    case PCIE_TLP_CFGWR1:
        moved = route_cfg(f, s, &t);
        break;
    case PCIE_TLP_CPL:
    case PCIE_TLP_CPLD:
    case PCIE_TLP_CPLLK:
    case PCIE_TLP_CPLDLK:
        moved = route_id(f, s, &t, t.requester_id);
        break;
    case PCIE_TLP_MSG:
    case PCIE_TLP_MSGD:
        moved = route_msg(f, s, &t);
        break;
    case PCIE_TLP_IORD:
    case PCIE_TLP_IOWR:
        moved = route_addr(f, s, &t, pcie_tlp_first_byte_addr(&t), pcie_tlp_byte_span(&t), true);
        break;
    default:
        moved = route_addr(f, s, &t, pcie_tlp_first_byte_addr(&t), pcie_tlp_byte_span(&t), false);
        break;
    }
    /* Moved on: the slot travels (and a synchronous journey has already been
     * run to its end, which released it). Else it ended here. */
    if (!moved)
        slot_put(f, s);
}

/* ------------------------------------------------------------------ */
/* Requests: the host's and the functions' */

static struct pcie_requester *fn_requester(struct pcie_fn *fn)
{
    if (!fn->req) {
        fn->req = malloc(sizeof *fn->req);
        if (!fn->req)
            return NULL;
        requester_init(fn->req, fn->fabric, fn);
    }
    return fn->req;
}

/* Encodes t into a fresh slot. NULL with err filled on failure. */
static struct pcie_inflight *encode_slot(struct pcie_fabric *f, const struct pcie_tlp *t,
                                         struct pcilab_err *err)
{
    struct pcie_inflight *s = slot_get(f);
    if (!s) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for an in-flight TLP");
        return NULL;
    }
    int n = pcie_tlp_encode(t, s->bytes, sizeof s->bytes, err);
    if (n < 0) {
        slot_put(f, s);
        return NULL;
    }
    s->len = (size_t)n;
    return s;
}

/* Reserves an op and `ntags` tags' worth of bookkeeping. */
static int op_begin(struct pcie_requester *r, uint8_t *buf, uint64_t addr, uint32_t len,
                    bool mem, bool sync, pcie_read_done_fn done, void *ctx)
{
    int opi = op_alloc(r);
    if (opi < 0)
        return -1;
    struct pcie_read_op *op = &r->ops[opi];
    memset(op, 0, sizeof *op);
    op->busy = true;
    op->buf = buf;
    op->addr = addr;
    op->len = len;
    op->mem = mem;
    op->sync = sync;
    op->status = PCIE_REQ_SC;
    op->done = done;
    op->ctx = ctx;
    return opi;
}

static void tag_begin(struct pcie_requester *r, unsigned tag, uint32_t opi, uint64_t addr,
                      uint32_t len)
{
    struct pcie_tag_slot *ts = &r->tags[tag];
    ts->busy = true;
    ts->op = opi;
    ts->addr = addr;
    ts->len = len;
    ts->received = 0;
    ts->timeout = 0;
    r->in_use++;
    r->ops[opi].tags_left++;
}

/* Runs a synchronous non-posted request from the host: t gets the tag. */
static enum pcie_req_status host_sync(struct pcie_fabric *f, struct pcie_tlp *t, uint8_t *buf,
                                      uint64_t addr, uint32_t len, bool mem)
{
    struct pcie_requester *r = &f->host_req;
    int opi = op_begin(r, buf, addr, len, mem, true, NULL, NULL);
    int tag = tag_alloc(r, PCIE_MAX_TAGS);
    if (opi < 0 || tag < 0) {
        if (opi >= 0)
            r->ops[opi].busy = false;
        return PCIE_REQ_TIMEOUT; /* no tag: the request cannot be issued */
    }
    tag_begin(r, (unsigned)tag, (uint32_t)opi, addr, len);
    t->tag = (uint16_t)tag;
    struct pcie_inflight *s = encode_slot(f, t, NULL);
    struct pcie_read_op *op = &r->ops[opi];
    if (s) {
        s->sync = true;
        launch(f, s, f->host_bridge, 0);
    }
    if (!op->finished) {
        /* Nothing came back: in zero time this is the completion timeout. */
        struct pcie_tag_slot *ts = &r->tags[tag];
        if (ts->busy) {
            ts->busy = false;
            r->in_use--;
        }
        op->status = PCIE_REQ_TIMEOUT;
        f->stats.timeouts++;
    }
    op->busy = false;
    return op->status;
}

static uint8_t be_for(unsigned off, unsigned size)
{
    return (uint8_t)(((1u << size) - 1u) << (off & 3u));
}

static bool cfg_args_ok(unsigned off, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && off % size == 0 && off + size <= 4096;
}

enum pcie_req_status pcie_host_cfg_read(struct pcie_fabric *f, uint16_t bdf, unsigned off,
                                        unsigned size, uint32_t *val)
{
    *val = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1u;
    if (!cfg_args_ok(off, size))
        return PCIE_REQ_MALFORMED;
    struct pcie_tlp t;
    int type = pcie_bdf_bus(bdf) == f->cfg.root_bus ? 0 : 1;
    if (pcie_tlp_cfg(&t, false, type, host_id(f), 0, bdf, (uint16_t)(off & ~3u),
                     be_for(off, size), NULL, NULL) < 0)
        return PCIE_REQ_MALFORMED;
    uint8_t b[4] = {0};
    enum pcie_req_status st = host_sync(f, &t, b, off, size, false);
    if (st == PCIE_REQ_SC) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= (uint32_t)b[i] << (8 * i);
        *val = v;
    }
    return st;
}

enum pcie_req_status pcie_host_cfg_write(struct pcie_fabric *f, uint16_t bdf, unsigned off,
                                         unsigned size, uint32_t val)
{
    if (!cfg_args_ok(off, size))
        return PCIE_REQ_MALFORMED;
    uint32_t dw = val << (8 * (off & 3u));
    uint8_t d[4] = {(uint8_t)dw, (uint8_t)(dw >> 8), (uint8_t)(dw >> 16), (uint8_t)(dw >> 24)};
    struct pcie_tlp t;
    int type = pcie_bdf_bus(bdf) == f->cfg.root_bus ? 0 : 1;
    if (pcie_tlp_cfg(&t, true, type, host_id(f), 0, bdf, (uint16_t)(off & ~3u),
                     be_for(off, size), d, NULL) < 0)
        return PCIE_REQ_MALFORMED;
    return host_sync(f, &t, NULL, off, 0, false);
}

static bool mem_args_ok(uint64_t addr, uint32_t len)
{
    return len >= 1 && len <= 4096 && (addr & ~0xfffull) == ((addr + len - 1) & ~0xfffull);
}

enum pcie_req_status pcie_host_mem_read(struct pcie_fabric *f, uint64_t addr, void *buf,
                                        uint32_t len)
{
    memset(buf, 0xff, len);
    if (!mem_args_ok(addr, len))
        return PCIE_REQ_MALFORMED;
    struct pcie_tlp t;
    if (pcie_tlp_mem_read(&t, host_id(f), 0, addr, len, NULL) < 0)
        return PCIE_REQ_MALFORMED;
    enum pcie_req_status st = host_sync(f, &t, buf, addr, len, true);
    if (st != PCIE_REQ_SC)
        memset(buf, 0xff, len);
    return st;
}

/* Builds the whole-DW payload of a write (tlp.h: payload[addr & 3] is the
 * first byte). */
static const uint8_t *dw_payload(uint8_t *tmp, uint64_t addr, const void *data, uint32_t len)
{
    size_t off = addr & 3u;
    size_t total = (off + len + 3) / 4 * 4;
    memset(tmp, 0, total);
    memcpy(tmp + off, data, len);
    return tmp;
}

enum pcie_req_status pcie_host_mem_write(struct pcie_fabric *f, uint64_t addr, const void *buf,
                                         uint32_t len)
{
    if (!mem_args_ok(addr, len))
        return PCIE_REQ_MALFORMED;
    uint8_t tmp[4096 + 8];
    struct pcie_tlp t;
    if (pcie_tlp_mem_write(&t, host_id(f), addr, dw_payload(tmp, addr, buf, len), len, NULL) < 0)
        return PCIE_REQ_MALFORMED;
    struct pcie_inflight *s = encode_slot(f, &t, NULL);
    if (!s)
        return PCIE_REQ_DROPPED;
    uint64_t dropped = f->stats.ur_posted_dropped + f->stats.malformed;
    s->sync = true;
    launch(f, s, f->host_bridge, 0);
    return f->stats.ur_posted_dropped + f->stats.malformed == dropped ? PCIE_REQ_SC
                                                                       : PCIE_REQ_DROPPED;
}

/* Issues the MRd TLPs of one read for requester r (origin: the function, or
 * NULL for the host). */
static int issue_read(struct pcie_fabric *f, struct pcie_requester *r, struct pcie_fn *origin,
                      uint16_t rid, unsigned mrrs, unsigned max_tags, uint64_t addr, void *buf,
                      uint32_t len, pcie_read_done_fn done, void *ctx, struct pcilab_err *err)
{
    struct pcie_split_req pieces[PCIE_MAX_TAGS];
    long n = pcie_split_read(addr, len, mrrs, 0, pieces, PCIE_MAX_TAGS, err);
    if (n < 0)
        return (int)n;
    if ((unsigned long)n > max_tags - r->in_use || n > PCIE_MAX_TAGS)
        return pcilab_errf(err, PCILAB_ERANGE,
                           "read of %u bytes needs %ld tags, %u of %u free (PCIe 5.0 2.2.6.2)",
                           len, n, max_tags - r->in_use, max_tags);
    int opi = op_begin(r, buf, addr, len, true, false, done, ctx);
    if (opi < 0)
        return pcilab_errf(err, PCILAB_ERANGE, "no free read slot");
    /* Every MRd is encoded before the first is sent, so a failure sends
     * nothing and leaves no op or tag behind (the caller may free buf). */
    struct pcie_inflight *slots[PCIE_MAX_TAGS];
    unsigned tags[PCIE_MAX_TAGS];
    for (long i = 0; i < n; i++) {
        tags[i] = (unsigned)tag_alloc(r, max_tags);
        struct pcie_tlp t;
        int rc = pcie_tlp_mem_read(&t, rid, (uint16_t)tags[i], pieces[i].addr, pieces[i].len,
                                   err) < 0
                     ? -PCILAB_EINVAL
                     : 0;
        if (!rc && !(slots[i] = encode_slot(f, &t, err)))
            rc = -PCILAB_ENOMEM;
        if (rc) {
            while (i-- > 0) {
                slot_put(f, slots[i]);
                r->tags[tags[i]].busy = false;
                r->in_use--;
            }
            r->ops[opi].busy = false;
            return rc;
        }
        tag_begin(r, tags[i], (uint32_t)opi, pieces[i].addr, pieces[i].len);
    }
    for (long i = 0; i < n; i++) {
        r->tags[tags[i]].timeout =
            sim_after(f->sim, f->cfg.completion_timeout, timeout_event, r, (uint64_t)tags[i]);
        launch(f, slots[i], origin, 0);
    }
    return 0;
}

int pcie_host_mem_read_async(struct pcie_fabric *f, uint64_t addr, void *buf, uint32_t len,
                             pcie_read_done_fn done, void *ctx, struct pcilab_err *err)
{
    if (!mem_args_ok(addr, len))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "host read of %u bytes at 0x%llx: 1..4096 bytes within 4 KiB", len,
                           (unsigned long long)addr);
    return issue_read(f, &f->host_req, f->host_bridge, host_id(f), 4096, PCIE_MAX_TAGS, addr, buf,
                      len, done, ctx, err);
}

int pcie_host_mem_write_async(struct pcie_fabric *f, uint64_t addr, const void *buf,
                              uint32_t len, struct pcilab_err *err)
{
    if (!mem_args_ok(addr, len))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "host write of %u bytes at 0x%llx: 1..4096 bytes within 4 KiB", len,
                           (unsigned long long)addr);
    uint8_t tmp[4096 + 8];
    struct pcie_tlp t;
    if (pcie_tlp_mem_write(&t, host_id(f), addr, dw_payload(tmp, addr, buf, len), len, err) < 0)
        return -PCILAB_EINVAL;
    struct pcie_inflight *s = encode_slot(f, &t, err);
    if (!s)
        return -PCILAB_ENOMEM;
    launch(f, s, f->host_bridge, 0);
    return 0;
}

int pcie_fn_send_bytes(struct pcie_fn *fn, const uint8_t *bytes, size_t len,
                       struct pcilab_err *err)
{
    if (len > PCIE_TLP_MAX_BYTES || len == 0)
        return pcilab_errf(err, PCILAB_EINVAL, "TLP of %zu bytes: 1..%u", len,
                           PCIE_TLP_MAX_BYTES);
    struct pcie_fabric *f = fn->fabric;
    struct pcie_inflight *s = slot_get(f);
    if (!s)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for an in-flight TLP");
    memcpy(s->bytes, bytes, len);
    s->len = len;
    launch(f, s, fn, 0);
    return 0;
}

int pcie_fn_send_tlp(struct pcie_fn *fn, const struct pcie_tlp *tlp, struct pcilab_err *err)
{
    struct pcie_inflight *s = encode_slot(fn->fabric, tlp, err);
    if (!s)
        return -PCILAB_EINVAL;
    launch(fn->fabric, s, fn, 0);
    return 0;
}

static int need_bus_master(const struct pcie_fn *fn, const char *what, struct pcilab_err *err)
{
    if (!(pcie_cfg_command(fn->cfg) & PCIE_CMD_BUS_MASTER))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%s: %s without Bus Master Enable (PCIe 5.0 7.5.1.1.3)",
                           pcie_fn_name(fn), what);
    return 0;
}

int pcie_fn_mem_write(struct pcie_fn *fn, uint64_t addr, const void *data, uint32_t len,
                      struct pcilab_err *err)
{
    if (need_bus_master(fn, "memory write", err) < 0)
        return -PCILAB_EINVAL;
    unsigned mps = pcie_exp_present(fn->cfg) ? pcie_exp_mps(fn->cfg) : 128;
    uint16_t rid = pcie_fn_requester_id(fn);
    const uint8_t *p = data;
    uint8_t tmp[4096 + 8];
    while (len) {
        /* One 4 KiB page at a time: at most 4096/128 pieces. */
        uint32_t chunk = (uint32_t)(0x1000 - (addr & 0xfff));
        if (chunk > len)
            chunk = len;
        struct pcie_split_req pieces[32];
        long n = pcie_split_write(addr, chunk, mps, 0, pieces, 32, err);
        if (n < 0)
            return (int)n;
        for (long i = 0; i < n; i++) {
            struct pcie_tlp t;
            const uint8_t *src = p + (pieces[i].addr - addr);
            if (pcie_tlp_mem_write(&t, rid, pieces[i].addr,
                                   dw_payload(tmp, pieces[i].addr, src, pieces[i].len),
                                   pieces[i].len, err) < 0)
                return -PCILAB_EINVAL;
            int r = pcie_fn_send_tlp(fn, &t, err);
            if (r < 0)
                return r;
        }
        addr += chunk;
        p += chunk;
        len -= chunk;
    }
    return 0;
}

int pcie_fn_mem_read(struct pcie_fn *fn, uint64_t addr, void *buf, uint32_t len,
                     pcie_read_done_fn done, void *ctx, struct pcilab_err *err)
{
    if (len == 0 || len > (1u << 20))
        return pcilab_errf(err, PCILAB_EINVAL, "read of %u bytes: 1..1 MiB", len);
    if (need_bus_master(fn, "memory read", err) < 0)
        return -PCILAB_EINVAL;
    struct pcie_requester *r = fn_requester(fn);
    if (!r)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory for %s's tags", pcie_fn_name(fn));
    unsigned mrrs = pcie_exp_present(fn->cfg) ? pcie_exp_mrrs(fn->cfg) : 4096;
    return issue_read(fn->fabric, r, fn, pcie_fn_requester_id(fn), mrrs, tags_max(fn), addr, buf,
                      len, done, ctx, err);
}

unsigned pcie_fn_tags_in_use(const struct pcie_fn *fn) { return fn->req ? fn->req->in_use : 0; }
unsigned pcie_fn_tags_max(const struct pcie_fn *fn) { return tags_max(fn); }

static int send_msi_write(struct pcie_fn *fn, const struct pcie_msi_vector *v,
                          struct pcilab_err *err)
{
    uint8_t d[4] = {(uint8_t)v->data, (uint8_t)(v->data >> 8), (uint8_t)(v->data >> 16),
                    (uint8_t)(v->data >> 24)};
    struct pcie_tlp t;
    if (pcie_tlp_mem_write(&t, pcie_fn_requester_id(fn), v->addr, d, 4, err) < 0)
        return -PCILAB_EINVAL;
    return pcie_fn_send_tlp(fn, &t, err);
}

static int msi_result(struct pcie_fn *fn, int r, const struct pcie_msi_vector *v, unsigned vector,
                      struct pcilab_err *err)
{
    if (r < 0)
        return r;
    if (r == 1)
        return send_msi_write(fn, v, err);
    if (v->status == PCIE_MSI_MASKED)
        return 0; /* held: Pending bit set, sent on unmask */
    return pcilab_errf(err, PCILAB_EINVAL, "%s: vector %u not sent: %s", pcie_fn_name(fn),
                       vector, pcie_msi_status_name(v->status));
}

int pcie_fn_msi_send(struct pcie_fn *fn, unsigned vector, struct pcilab_err *err)
{
    struct pcie_msi_vector v;
    int r = pcie_msi_signal(fn->cfg, vector, &v, err);
    return msi_result(fn, r, &v, vector, err);
}

int pcie_fn_msix_send(struct pcie_fn *fn, const uint8_t *table, size_t table_len, uint8_t *pba,
                      size_t pba_len, unsigned vector, struct pcilab_err *err)
{
    struct pcie_msi_vector v;
    int r = pcie_msix_signal(fn->cfg, table, table_len, pba, pba_len, vector, &v, err);
    return msi_result(fn, r, &v, vector, err);
}
