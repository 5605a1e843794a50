/* PCIe link timing and the event-driven link model; PCI Express Base
 * Specification 5.0 (section numbers in link.h and beside each rule). */
#include "pcie/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Pure computations                                                         */

int pcie_link_check(unsigned gen, unsigned width, struct pcilab_err *err)
{
    if (gen < 1 || gen > 5)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "link speed Gen%u: 1..5 (2.5, 5.0, 8.0, 16.0, 32.0 GT/s) are modelled",
                           gen);
    switch (width) {
    case 1: case 2: case 4: case 8: case 12: case 16: case 32:
        return 0;
    }
    return pcilab_errf(err, PCILAB_EINVAL, "link width x%u: x1, x2, x4, x8, x12, x16, x32 (4.2.4.x)",
                       width);
}

unsigned pcie_link_mts(unsigned gen)
{
    static const unsigned mts[6] = {0, 2500, 5000, 8000, 16000, 32000};
    return gen <= 5 ? mts[gen] : 0;
}

unsigned pcie_link_ui_qps(unsigned gen)
{
    /* UI = 1 / rate: 400, 200, 125, 62.5, 31.25 ps, in quarter picoseconds */
    static const unsigned qps[6] = {0, 1600, 800, 500, 250, 125};
    return gen <= 5 ? qps[gen] : 0;
}

bool pcie_link_is_8b10b(unsigned gen)
{
    return gen <= 2; /* 4.2: 8b/10b at 2.5 and 5.0 GT/s, 128b/130b from 8.0 GT/s */
}

void pcie_link_ps_per_byte(unsigned gen, uint64_t *num, uint64_t *den)
{
    uint64_t q = pcie_link_ui_qps(gen);
    if (pcie_link_is_8b10b(gen)) { /* 10 UI per Symbol */
        *num = q * 10;
        *den = 4;
    } else { /* 130 UI per 16 Symbols */
        *num = q * 130;
        *den = 4 * 16;
    }
    /* reduce */
    uint64_t a = *num, b = *den;
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    *num /= a;
    *den /= a;
}

double pcie_link_raw_bytes_per_s(unsigned gen, unsigned width)
{
    uint64_t num, den;
    pcie_link_ps_per_byte(gen, &num, &den);
    return (double)width * 1e12 * (double)den / (double)num;
}

size_t pcie_link_tlp_wire_bytes(unsigned gen, size_t tlp_bytes)
{
    /* 8b/10b (4.2.1.1 + 3.6.2.1): STP 1, Sequence Number 2, LCRC 4, END 1.
     * 128b/130b (4.2.2.3.1): STP Token 4 (incl. sequence number), LCRC 4. */
    (void)gen;
    return tlp_bytes + 8;
}

size_t pcie_link_tlp_bytes(unsigned hdr_dw, size_t payload_bytes, bool ecrc)
{
    return hdr_dw * 4u + payload_bytes + (ecrc ? 4u : 0u);
}

uint64_t pcie_link_packet_slots(unsigned width, size_t wire_bytes)
{
    return (wire_bytes + width - 1) / width;
}

sim_time_t pcie_link_wire_time(unsigned gen, unsigned width, size_t wire_bytes)
{
    uint64_t num, den;
    pcie_link_ps_per_byte(gen, &num, &den);
    unsigned __int128 slots = pcie_link_packet_slots(width, wire_bytes);
    return (sim_time_t)((slots * num + den / 2) / den);
}

sim_time_t pcie_link_symbol_time(unsigned gen)
{
    unsigned q = pcie_link_ui_qps(gen);
    return (pcie_link_is_8b10b(gen) ? 10u * q : 8u * q) / 4u;
}

unsigned pcie_link_ack_latency_symbols(unsigned gen, unsigned width, unsigned mps)
{
    /* 3.6.3.1: ((Max_Payload_Size + TLPOverhead) * AckFactor / LinkWidth)
     * + InternalDelay, Symbol times, the tables' entries being this value
     * rounded down. TLPOverhead = 28 Symbols. AckFactor (x10): */
    unsigned af10;
    if (mps <= 256)
        af10 = width <= 4 ? 14 : width == 8 ? 25 : 30;
    else
        af10 = width <= 8 ? 10 : 20;
    static const unsigned internal_delay[6] = {0, 19, 70, 115, 200, 220};
    unsigned id = internal_delay[gen <= 5 ? gen : 0];
    return (unsigned)(((uint64_t)(mps + 28) * af10 + 10ull * width * id) / (10ull * width));
}

void pcie_link_cfg_default(struct pcie_link_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->name = "link";
    cfg->gen = 2;
    cfg->width = 1;
    cfg->mps = 128;
    for (int d = 0; d < PCIE_LINK_DIRS; d++) {
        cfg->credits[d][PCIE_FC_P][0] = 32;
        cfg->credits[d][PCIE_FC_P][1] = 512;
        cfg->credits[d][PCIE_FC_NP][0] = 32;
        cfg->credits[d][PCIE_FC_NP][1] = 32;
    }
    /* up: received by the root port; down: received by the endpoint, which
     * advertises infinite completion credits (2.6.1.1) */
    cfg->credits[PCIE_LINK_UP][PCIE_FC_CPL][0] = 32;
    cfg->credits[PCIE_LINK_UP][PCIE_FC_CPL][1] = 512;
}

const char *pcie_link_dir_name(enum pcie_link_dir dir)
{
    return dir == PCIE_LINK_UP ? "up" : "down";
}

/* ------------------------------------------------------------------------ */
/* Event-driven model                                                        */

enum pkt_kind { PKT_NONE = 0, PKT_TLP = 1, PKT_DLLP = 2, PKT_SKP = 3 };

struct qtlp {
    struct pcie_link_tlp t;
    enum pcie_fc_class fc;
    uint32_t hdr_credits, data_credits;
    uint32_t tlp_bytes, payload;
    uint16_t seq;
    sim_time_t arrive;
};

struct ring {
    struct qtlp *v;
    size_t cap, head, count; /* cap is a power of two */
};

struct direction {
    struct pcie_link *link;
    enum pcie_link_dir d;

    /* ---- transmitter of this direction ---- */
    struct ring queue;    /* waiting to be sent */
    struct ring flight;   /* sent, not yet delivered (in order) */
    uint64_t pos;         /* byte position (slot * width + lane) free for the next packet */
    uint64_t busy_slot;   /* slots before this are already counted as busy */
    uint64_t next_skp;    /* slot at which the next SKP OS is scheduled */
    bool busy;
    enum pkt_kind cur;    /* what is being sent */
    struct pcie_dllp cur_dllp;
    uint16_t next_seq;    /* NEXT_TRANSMIT_SEQ (3.6.2.1) */
    uint16_t acked_seq;   /* ACKD_SEQ */
    struct pcie_fc_tx fc[PCIE_FC_CLASSES][2];
    bool stalled;         /* head TLP waiting for credits */
    sim_time_t stall_since;
    struct pcie_link_stats st;
    int sig_busy, sig_kind; /* VCD signals, -1 when not declared */

    /* ---- receiver at the far end of this direction; its DLLPs go out on
     * the other direction's transmitter ---- */
    uint16_t next_rcv_seq;  /* NEXT_RCV_SEQ */
    bool ack_timer, ack_due;
    sim_event_id ack_ev;  /* the pending AckNak_LATENCY_TIMER expiry */
    unsigned unacked;     /* TLPs received since the last Ack was scheduled */
    struct pcie_fc_rx rx[PCIE_FC_CLASSES][2];
    uint32_t advertised[PCIE_FC_CLASSES][2]; /* CA last sent in an UpdateFC (field) */
    bool fc_timer[PCIE_FC_CLASSES], fc_due[PCIE_FC_CLASSES], fc_urgent[PCIE_FC_CLASSES];
    sim_time_t fc_last[PCIE_FC_CLASSES];
    bool refresh_armed;
    sim_time_t last_rx;     /* last TLP received */
};

struct pcie_link {
    struct pcilab_sim *sim;
    struct pcie_link_cfg cfg;
    char name[64];
    bool enc8b10b;
    unsigned qps;           /* UI in quarter ps */
    unsigned width;
    uint64_t skp_interval;  /* slots */
    uint64_t skp_slots;     /* slots per SKP OS */
    uint64_t eds_slots;     /* 128b/130b: slots the EDS Token needs (4 bytes) */
    sim_time_t t0;
    sim_time_t ack_latency, fc_latency, fc_period;
    struct direction dir[PCIE_LINK_DIRS];
};

/* Event arguments for DLLP arrival: kind in bits 63:56. */
#define ARG_ACK 1ull
#define ARG_FC 2ull

/* ---- slot <-> time ---- */

static uint64_t slot_ui(const struct pcie_link *l, uint64_t k)
{
    if (l->enc8b10b)
        return k * 10;
    /* 128b/130b: each Block is a 2-UI Sync Header then 16 Symbols of 8 UI */
    return (k / 16) * 130 + (k % 16 ? 2 + (k % 16) * 8 : 0);
}

static sim_time_t slot_time(const struct pcie_link *l, uint64_t k)
{
    unsigned __int128 ps = (unsigned __int128)slot_ui(l, k) * l->qps / 4;
    return l->t0 + (sim_time_t)ps;
}

/* Smallest slot k with slot_time(k) >= t. */
static uint64_t slot_ceil(const struct pcie_link *l, sim_time_t t)
{
    if (t <= l->t0)
        return 0;
    unsigned __int128 d4 = (unsigned __int128)(t - l->t0) * 4;
    uint64_t ui = (uint64_t)((d4 + l->qps - 1) / l->qps);
    if (l->enc8b10b)
        return (ui + 9) / 10;
    uint64_t block = ui / 130, r = ui % 130;
    if (!r)
        return block * 16;
    uint64_t j = r <= 10 ? 1 : (r - 2 + 7) / 8;
    return block * 16 + j;
}

static uint64_t pos_slot_ceil(const struct pcie_link *l, uint64_t pos)
{
    return (pos + l->width - 1) / l->width;
}

/* ---- rings ---- */

static int ring_push(struct ring *r, const struct qtlp *e)
{
    if (r->count == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 64;
        struct qtlp *n = malloc(ncap * sizeof *n);
        if (!n)
            return -PCILAB_ENOMEM;
        for (size_t i = 0; i < r->count; i++)
            n[i] = r->v[(r->head + i) & (r->cap - 1)];
        free(r->v);
        r->v = n;
        r->cap = ncap;
        r->head = 0;
    }
    r->v[(r->head + r->count) & (r->cap - 1)] = *e;
    r->count++;
    return 0;
}

static struct qtlp *ring_front(struct ring *r)
{
    return r->count ? &r->v[r->head] : NULL;
}

static void ring_pop(struct ring *r)
{
    r->head = (r->head + 1) & (r->cap - 1);
    r->count--;
}

/* ---- tracing ---- */

static void trace_packet(struct direction *dr, const char *kind, sim_time_t t, sim_time_t dur,
                         const char *text, const char *json)
{
    struct sim_trace *tr = sim_trace(dr->link->sim);
    if (!sim_trace_enabled(tr))
        return;
    struct sim_trace_rec rec = {
        .t = t,
        .duration = dur,
        .where = dr->link->name,
        .dir = dr->d == PCIE_LINK_UP ? SIM_TRACE_UP : SIM_TRACE_DOWN,
        .kind = kind,
        .text = text,
        .json = json,
    };
    sim_trace_emit(tr, &rec);
}

static void trace_signals(struct direction *dr, bool busy, enum pkt_kind kind)
{
    if (dr->sig_busy < 0)
        return;
    struct sim_trace *tr = sim_trace(dr->link->sim);
    sim_time_t now = sim_now(dr->link->sim);
    sim_trace_change(tr, now, dr->sig_busy, busy);
    sim_trace_change(tr, now, dr->sig_kind, (uint64_t)kind);
}

/* ---- SKP ordered sets (4.2.7) ---- */

/* Places one SKP OS due at slot `due` after everything already placed. */
static void place_skp(struct direction *dr, uint64_t due)
{
    struct pcie_link *l = dr->link;
    uint64_t after = pos_slot_ceil(l, dr->pos); /* PAD to the end of the Symbol time */
    uint64_t start;
    if (l->enc8b10b) {
        /* 4.2.7.1: sent between packets, at its scheduled time if idle */
        start = after > due ? after : due;
    } else {
        /* 4.2.2.3 / 4.2.7.2: an EDS Token in the last DW of the Data Block, then
         * the SKP OS Block; packets never share a Block with the EDS */
        uint64_t s = after + l->eds_slots;
        if (s < due)
            s = due;
        start = (s + 15) / 16 * 16;
        dr->st.wire_bytes += 4; /* the EDS Token */
    }
    uint64_t end = start + l->skp_slots;
    /* busy: the SKP OS, and at 128b/130b the EDS Symbol time(s) before it */
    uint64_t from = l->enc8b10b || start < l->eds_slots ? start : start - l->eds_slots;
    if (from < dr->busy_slot)
        from = dr->busy_slot;
    if (end > from)
        dr->st.busy += slot_time(l, end) - slot_time(l, from);
    dr->busy_slot = end;
    dr->pos = end * l->width;
    dr->st.skps++;
    dr->st.wire_bytes += l->skp_slots * l->width;
    if (sim_trace_enabled(sim_trace(l->sim)))
        trace_packet(dr, "SKP", slot_time(l, start), slot_time(l, end) - slot_time(l, start),
                     l->enc8b10b ? "SKP OS (COM SKP SKP SKP)" : "EDS, SKP OS block", NULL);
}

/* m more SKPs, the first due at dr->next_skp, on an idle transmitter whose
 * last SKP ended early enough that each one starts at its due time: what m
 * calls of place_skp would do, in closed form (an idle second of a 5 GT/s
 * link is some 420,000 SKPs per direction). Each SKP k is then the same
 * Symbol-time pattern shifted by k intervals, and slot_ui(x + k * interval)
 * = slot_ui(x) + k * J (J: the UI of an interval; at 128b/130b the interval
 * and every due slot are whole Blocks), so its busy time
 * floor((U_end + kJ) qps / 4) - floor((U_from + kJ) qps / 4) repeats with a
 * period of 4 in k: the sum is m / 4 periods plus the rest, all exact. */
static void place_idle_skps(struct direction *dr, uint64_t m)
{
    struct pcie_link *l = dr->link;
    uint64_t due = dr->next_skp, iv = l->skp_interval;
    uint64_t first_from = l->enc8b10b ? due : due - l->eds_slots;
    sim_time_t per[4], period = 0;
    for (uint64_t k = 0; k < 4; k++) {
        per[k] = slot_time(l, due + k * iv + l->skp_slots) - slot_time(l, first_from + k * iv);
        period += per[k];
    }
    sim_time_t busy = (sim_time_t)(m / 4) * period;
    for (uint64_t k = 0; k < m % 4; k++)
        busy += per[k];
    uint64_t last_end = due + (m - 1) * iv + l->skp_slots;
    dr->st.busy += busy;
    dr->st.skps += m;
    dr->st.wire_bytes += m * (l->skp_slots * l->width + (l->enc8b10b ? 0 : 4));
    dr->busy_slot = last_end;
    dr->pos = last_end * l->width;
    dr->next_skp = due + m * iv;
}

/* Sends every SKP scheduled at or before slot `upto`. */
static void flush_skps(struct direction *dr, uint64_t upto)
{
    struct pcie_link *l = dr->link;
    bool traced = sim_trace_enabled(sim_trace(l->sim));
    while (dr->next_skp <= upto) {
        /* the previous SKP (or packet) is over in time for this one: place_skp
         * would start it and all the rest at their due slots (4.2.7) */
        uint64_t due = dr->next_skp;
        bool on_time = l->enc8b10b
                           ? pos_slot_ceil(l, dr->pos) <= due && dr->busy_slot <= due
                           : due % 16 == 0 && l->skp_interval % 16 == 0 &&
                                 pos_slot_ceil(l, dr->pos) + l->eds_slots <= due &&
                                 dr->busy_slot + l->eds_slots <= due;
        if (!traced && on_time && l->skp_interval >= l->skp_slots + l->eds_slots) {
            place_idle_skps(dr, (upto - due) / l->skp_interval + 1);
            return;
        }
        place_skp(dr, due);
        dr->next_skp += l->skp_interval;
    }
}

/* ---- transmitter ---- */

static void tx_kick(struct direction *dr);
static void on_tx_done(void *ctx, uint64_t arg);

/* Starts a packet of wire_bytes now (after due SKPs); returns its start time. */
static sim_time_t start_packet(struct direction *dr, enum pkt_kind kind, size_t wire_bytes,
                               sim_time_t *end_time)
{
    struct pcie_link *l = dr->link;
    sim_time_t now = sim_now(l->sim);
    uint64_t now_slot = slot_ceil(l, now);
    uint64_t start;
    for (;;) {
        /* Still sending (a decision made as the previous packet ends): continue
         * right after it, on the next Lane (packets are DW multiples, so this
         * is the Lane 4n that 4.2.1.1 / 4.2.2.3 require on wide links). Idle:
         * start on Lane 0 of the next Symbol time. */
        uint64_t free_slot = pos_slot_ceil(l, dr->pos);
        start = slot_time(l, free_slot) < now ? now_slot * l->width : dr->pos;
        if (dr->next_skp > start / l->width)
            break;
        flush_skps(dr, start / l->width); /* scheduled SKPs go first (4.2.7) */
    }
    uint64_t end = start + wire_bytes;
    uint64_t s_slot = start / l->width, e_slot = pos_slot_ceil(l, end);
    uint64_t from = s_slot > dr->busy_slot ? s_slot : dr->busy_slot;
    if (e_slot > from)
        dr->st.busy += slot_time(l, e_slot) - slot_time(l, from);
    if (e_slot > dr->busy_slot)
        dr->busy_slot = e_slot;
    dr->pos = end;
    dr->busy = true;
    dr->cur = kind;
    dr->st.wire_bytes += wire_bytes;
    *end_time = slot_time(l, e_slot);
    sim_time_t st = slot_time(l, s_slot);
    if (*end_time < now)
        *end_time = now;
    sim_after(l->sim, *end_time - now, on_tx_done, dr, 0);
    trace_signals(dr, true, kind);
    return st;
}

static struct direction *other(struct direction *dr)
{
    return &dr->link->dir[!dr->d];
}

static void send_dllp(struct direction *dr, const struct pcie_dllp *d)
{
    struct pcie_link *l = dr->link;
    sim_time_t end;
    sim_time_t start = start_packet(dr, PKT_DLLP, PCIE_DLLP_WIRE_BYTES, &end);
    dr->cur_dllp = *d;
    dr->st.dllps++;
    if (sim_trace_enabled(sim_trace(l->sim))) {
        char text[96], json[96];
        pcie_dllp_str(d, text, sizeof text);
        snprintf(json, sizeof json, "\"dllp\":\"%s\"", pcie_dllp_type_name((uint8_t)d->type));
        trace_packet(dr, "DLLP", start, end - start, text, json);
    }
}

/* The credits a TLP of the class needs at most (for the "may be starved" test). */
static uint32_t max_need(const struct pcie_link *l, enum pcie_fc_class c, int data)
{
    if (!data)
        return 1;
    return c == PCIE_FC_NP ? 1 : pcie_fc_data_credits(l->cfg.mps);
}

static void send_update_fc(struct direction *dr, struct direction *rx, enum pcie_fc_class c)
{
    /* rx is the receiver whose credits are returned; dr carries the DLLP */
    uint32_t h = pcie_fc_rx_field(&rx->rx[c][0]), d = pcie_fc_rx_field(&rx->rx[c][1]);
    struct pcie_dllp u =
        pcie_dllp_fc(PCIE_FC_UPDATE, c, 0, (uint8_t)h, (uint16_t)d,
                     rx->link->cfg.fc_scale ? (uint8_t)rx->rx[c][0].scale : 0,
                     rx->link->cfg.fc_scale ? (uint8_t)rx->rx[c][1].scale : 0);
    rx->advertised[c][0] = rx->rx[c][0].allocated;
    rx->advertised[c][1] = rx->rx[c][1].allocated;
    rx->fc_due[c] = rx->fc_urgent[c] = false;
    rx->fc_last[c] = sim_now(dr->link->sim);
    dr->st.update_fcs++;
    send_dllp(dr, &u);
}

static bool seq_window_full(const struct direction *dr)
{
    /* 3.6.2.1: block when (NEXT_TRANSMIT_SEQ - ACKD_SEQ) mod 4096 >= 2048 */
    return ((dr->next_seq - dr->acked_seq) & 0xfff) >= 2048;
}

static void tx_kick(struct direction *dr)
{
    if (dr->busy)
        return;
    struct pcie_link *l = dr->link;
    struct direction *rx = other(dr); /* the receiver whose DLLPs we carry */
    sim_time_t now = sim_now(l->sim);

    /* Priorities, after 3.6.2 "Recommended priority of scheduled transmissions":
     * Ack (timer expired), FC updates a starved transmitter needs, TLPs, other
     * FC updates. */
    if (rx->ack_due) {
        struct pcie_dllp a = pcie_dllp_ack((uint16_t)((rx->next_rcv_seq - 1) & 0xfff));
        rx->ack_due = false;
        if (rx->ack_timer)
            sim_cancel(l->sim, rx->ack_ev); /* sent early (ack_every) */
        rx->ack_timer = false;
        rx->unacked = 0;
        dr->st.acks++;
        send_dllp(dr, &a);
        return;
    }
    for (int c = 0; c < PCIE_FC_CLASSES; c++)
        if (rx->fc_urgent[c]) {
            send_update_fc(dr, rx, (enum pcie_fc_class)c);
            return;
        }
    struct qtlp *q = ring_front(&dr->queue);
    if (q) {
        bool ok = pcie_fc_tx_can_send(&dr->fc[q->fc][0], q->hdr_credits) &&
                  pcie_fc_tx_can_send(&dr->fc[q->fc][1], q->data_credits);
        bool seq_ok = !seq_window_full(dr);
        if (ok && seq_ok) {
            if (dr->stalled) {
                dr->st.credit_stall += now - dr->stall_since;
                dr->stalled = false;
            }
            pcie_fc_tx_consume(&dr->fc[q->fc][0], q->hdr_credits);
            pcie_fc_tx_consume(&dr->fc[q->fc][1], q->data_credits);
            struct qtlp e = *q;
            ring_pop(&dr->queue);
            e.seq = dr->next_seq;
            dr->next_seq = (dr->next_seq + 1) & 0xfff;
            sim_time_t end;
            size_t wire = pcie_link_tlp_wire_bytes(l->cfg.gen, e.tlp_bytes);
            sim_time_t start = start_packet(dr, PKT_TLP, wire, &end);
            e.arrive = sim_time_add(end, l->cfg.latency);
            dr->st.tlps++;
            dr->st.tlp_bytes += e.tlp_bytes;
            dr->st.payload_bytes += e.payload;
            if (ring_push(&dr->flight, &e) < 0) {
                /* cannot track it (out of memory): it is lost, like a TLP
                 * dropped by the receiver; the transmitter stays consistent */
                dr->cur = PKT_NONE;
                return;
            }
            if (sim_trace_enabled(sim_trace(l->sim))) {
                static const char *const cls[] = {"P", "NP", "Cpl"};
                char text[96], json[128];
                snprintf(text, sizeof text, "TLP seq 0x%03x %s %u B (payload %u B)", e.seq,
                         cls[e.fc], e.tlp_bytes, e.payload);
                snprintf(json, sizeof json, "\"seq\":%u,\"fc\":\"%s\",\"bytes\":%u,\"payload\":%u",
                         e.seq, cls[e.fc], e.tlp_bytes, e.payload);
                trace_packet(dr, "TLP", start, end - start, text, json);
            }
            return;
        }
        if (!ok && !dr->stalled) {
            dr->stalled = true;
            dr->stall_since = now;
            dr->st.credit_stalls++;
        }
        if (!seq_ok)
            dr->st.seq_stalls++;
    }
    for (int c = 0; c < PCIE_FC_CLASSES; c++)
        if (rx->fc_due[c]) {
            send_update_fc(dr, rx, (enum pcie_fc_class)c);
            return;
        }
}

/* ---- receiver side ---- */

static void on_ack_timer(void *ctx, uint64_t arg)
{
    (void)arg;
    struct direction *rx = ctx;
    if (!rx->ack_timer)
        return;
    rx->ack_due = true;
    tx_kick(other(rx));
}

static void on_fc_timer(void *ctx, uint64_t arg)
{
    struct direction *rx = ctx;
    rx->fc_timer[arg] = false;
    if (rx->rx[arg][0].allocated != rx->advertised[arg][0] ||
        rx->rx[arg][1].allocated != rx->advertised[arg][1]) {
        rx->fc_due[arg] = true;
        tx_kick(other(rx));
    }
}

static void on_refresh(void *ctx, uint64_t arg)
{
    (void)arg;
    struct direction *rx = ctx;
    struct pcie_link *l = rx->link;
    sim_time_t now = sim_now(l->sim);
    bool any = false;
    /* 2.6.1.2: an UpdateFC for each non-infinite type at least every 30 us */
    for (int c = 0; c < PCIE_FC_CLASSES; c++) {
        if (rx->rx[c][0].infinite && rx->rx[c][1].infinite)
            continue;
        if (now - rx->fc_last[c] >= l->fc_period) {
            rx->fc_due[c] = true;
            any = true;
        }
    }
    if (any)
        tx_kick(other(rx));
    /* keep refreshing only while TLPs flow, so an idle simulation drains */
    if (now - rx->last_rx < l->fc_period)
        sim_after(l->sim, l->fc_period, on_refresh, rx, 0);
    else
        rx->refresh_armed = false;
}

static void release_credits(struct direction *rx, enum pcie_fc_class c, uint32_t h, uint32_t d)
{
    struct pcie_link *l = rx->link;
    bool starved = false;
    for (int k = 0; k < 2; k++) {
        struct pcie_fc_rx *cr = &rx->rx[c][k];
        if (cr->infinite)
            continue;
        uint32_t m = (uint32_t)((1ull << cr->bits) - 1);
        /* what the transmitter can still use of what we last advertised */
        uint32_t avail = (rx->advertised[c][k] - cr->received) & m;
        if (avail < max_need(l, c, k))
            starved = true;
        pcie_fc_rx_release(cr, k ? d : h);
    }
    if (rx->rx[c][0].infinite && rx->rx[c][1].infinite)
        return;
    if (starved) {
        rx->fc_urgent[c] = true; /* 2.6.1.2: return credits at once */
        tx_kick(other(rx));
    } else if (!rx->fc_timer[c] && !rx->fc_due[c]) {
        rx->fc_timer[c] = true;
        sim_after(l->sim, l->fc_latency, on_fc_timer, rx, (uint64_t)c);
    }
}

static void on_release(void *ctx, uint64_t arg)
{
    /* arg: class in bits 63:62, header credits in 61:32, data in 31:0 */
    release_credits(ctx, (enum pcie_fc_class)(arg >> 62), (uint32_t)((arg >> 32) & 0x3fffffff),
                    (uint32_t)arg);
}

static void on_deliver(void *ctx, uint64_t arg)
{
    (void)arg;
    struct direction *dr = ctx; /* TLP sent in direction dr arrives at dr's far end */
    struct pcie_link *l = dr->link;
    struct qtlp *q = ring_front(&dr->flight);
    if (!q)
        return;
    struct qtlp e = *q;
    ring_pop(&dr->flight);
    sim_time_t now = sim_now(l->sim);

    /* Data Link Layer receive (3.6.2.2): in-sequence TLP, NEXT_RCV_SEQ++ */
    dr->next_rcv_seq = (uint16_t)((dr->next_rcv_seq + 1) & 0xfff);
    dr->last_rx = now;
    pcie_fc_rx_receive(&dr->rx[e.fc][0], e.hdr_credits);
    pcie_fc_rx_receive(&dr->rx[e.fc][1], e.data_credits);
    if (!dr->ack_timer && !dr->ack_due) {
        dr->ack_timer = true; /* 3.6.3.1: AckNak_LATENCY_TIMER starts */
        dr->ack_ev = sim_after(l->sim, l->ack_latency, on_ack_timer, dr, 0);
    }
    if (l->cfg.ack_every && ++dr->unacked >= l->cfg.ack_every && !dr->ack_due) {
        dr->ack_due = true;
        tx_kick(other(dr));
    }
    if (!dr->refresh_armed) {
        dr->refresh_armed = true;
        sim_after(l->sim, l->fc_period, on_refresh, dr, 0);
    }
    if (e.t.deliver)
        e.t.deliver(e.t.ctx, &e.t, now);
    uint64_t rel = ((uint64_t)e.fc << 62) | ((uint64_t)e.hdr_credits << 32) | e.data_credits;
    if (l->cfg.rx_process)
        sim_after(l->sim, l->cfg.rx_process, on_release, dr, rel);
    else
        on_release(dr, rel);
}

/* A DLLP sent on direction dr arrived at its far end (the transmitter of the
 * other direction learns of Acks and credits). */
static void on_dllp_arrive(void *ctx, uint64_t arg)
{
    struct direction *dr = ctx;
    struct direction *tx = other(dr);
    uint64_t kind = arg >> 56;
    if (kind == ARG_ACK) {
        tx->acked_seq = (uint16_t)(arg & 0xfff); /* 3.6.2.1: purge up to seq */
    } else if (kind == ARG_FC) {
        enum pcie_fc_class c = (enum pcie_fc_class)((arg >> 48) & 3);
        pcie_fc_tx_update(&tx->fc[c][0], (uint32_t)((arg >> 16) & 0xff));
        pcie_fc_tx_update(&tx->fc[c][1], (uint32_t)(arg & 0xffff));
    }
    tx_kick(tx);
}

static void on_tx_done(void *ctx, uint64_t arg)
{
    (void)arg;
    struct direction *dr = ctx;
    struct pcie_link *l = dr->link;
    dr->busy = false;
    if (dr->cur == PKT_TLP) {
        const struct qtlp *last = &dr->flight.v[(dr->flight.head + dr->flight.count - 1) &
                                                (dr->flight.cap - 1)];
        sim_at(l->sim, last->arrive, on_deliver, dr, 0);
    } else if (dr->cur == PKT_DLLP) {
        const struct pcie_dllp *d = &dr->cur_dllp;
        enum pcie_fc_phase ph;
        enum pcie_fc_class c;
        uint64_t a = 0;
        if (d->type == PCIE_DLLP_ACK)
            a = ARG_ACK << 56 | d->seq;
        else if (pcie_dllp_fc_kind((uint8_t)d->type, &ph, &c) && ph == PCIE_FC_UPDATE)
            a = ARG_FC << 56 | (uint64_t)c << 48 | (uint64_t)d->hdr_fc << 16 | d->data_fc;
        if (a)
            sim_after(l->sim, l->cfg.latency, on_dllp_arrive, dr, a);
    }
    dr->cur = PKT_NONE;
    trace_signals(dr, false, PKT_NONE);
    tx_kick(dr);
}

/* ---- TLP classification from bytes (2.2.1) ---- */

static int parse_tlp(const struct pcie_link_tlp *t, struct qtlp *e, struct pcilab_err *err)
{
    if (!t->bytes) {
        if (t->hdr_dw != 3 && t->hdr_dw != 4)
            return pcilab_errf(err, PCILAB_EINVAL, "TLP header of %u DW (3 or 4, 2.2.1)",
                               t->hdr_dw);
        if (t->payload > 4096 || (t->payload & 3))
            return pcilab_errf(err, PCILAB_EINVAL, "TLP payload of %u bytes (DW multiple <= 4096, 2.2.2)",
                               t->payload);
        if ((unsigned)t->fc >= PCIE_FC_CLASSES)
            return pcilab_errf(err, PCILAB_EINVAL, "bad flow-control class %d", (int)t->fc);
        e->fc = t->fc;
        e->payload = t->payload;
        e->tlp_bytes = (uint32_t)pcie_link_tlp_bytes(t->hdr_dw, t->payload, t->ecrc);
        return 0;
    }
    if (t->len < 12)
        return pcilab_errf(err, PCILAB_EINVAL, "TLP of %zu bytes is shorter than a header",
                           t->len);
    const uint8_t *b = t->bytes;
    unsigned fmt = b[0] >> 5, type = b[0] & 0x1f;
    if (fmt & 4)
        return pcilab_errf(err, PCILAB_EUNSUPPORTED, "TLP prefixes (Fmt 100b, 2.2.10) are not modelled");
    unsigned hdr = (fmt & 1) ? 4 : 3;
    bool data = fmt & 2, td = b[2] & 0x80;
    unsigned length = ((b[2] & 3u) << 8) | b[3];
    if (!length)
        length = 1024;
    uint32_t payload = data ? length * 4 : 0;
    size_t want = pcie_link_tlp_bytes(hdr, payload, td);
    if (t->len != want)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "TLP is %zu bytes but its header says %zu (Fmt/Length/TD, 2.2.1)",
                           t->len, want);
    /* credit class (2.6.1, Table 2-3 / 2.4.1) */
    enum pcie_fc_class c;
    if (type == 0x00)
        c = data ? PCIE_FC_P : PCIE_FC_NP; /* MWr / MRd */
    else if ((type & 0x18) == 0x10)
        c = PCIE_FC_P;                     /* Msg, MsgD: 10rrr */
    else if (type == 0x0a || type == 0x0b)
        c = PCIE_FC_CPL;                   /* Cpl, CplD, CplLk, CplDLk */
    else
        c = PCIE_FC_NP;                    /* MRdLk, IO, Cfg, AtomicOps */
    e->fc = c;
    e->payload = payload;
    e->tlp_bytes = (uint32_t)want;
    return 0;
}

int pcie_link_send(struct pcie_link *l, enum pcie_link_dir dir, const struct pcie_link_tlp *t,
                   struct pcilab_err *err)
{
    if (dir != PCIE_LINK_UP && dir != PCIE_LINK_DOWN)
        return pcilab_errf(err, PCILAB_EINVAL, "bad link direction %d", (int)dir);
    struct qtlp e = {.t = *t};
    int r = parse_tlp(t, &e, err);
    if (r)
        return r;
    e.hdr_credits = 1;
    e.data_credits = pcie_fc_data_credits(e.payload);
    struct direction *dr = &l->dir[dir];
    /* a TLP needing more credits than the receiver ever advertised would wait forever */
    const struct pcie_fc_tx *fd = &dr->fc[e.fc][1];
    if (!fd->infinite && e.data_credits > l->cfg.credits[dir][e.fc][1])
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%s: TLP needs %u data credits but the receiver advertises %u",
                           l->name, e.data_credits, l->cfg.credits[dir][e.fc][1]);
    r = ring_push(&dr->queue, &e);
    if (r)
        return pcilab_errf(err, PCILAB_ENOMEM, "%s: out of memory queueing a TLP", l->name);
    if (dr->queue.count > dr->st.queued_max)
        dr->st.queued_max = dr->queue.count;
    tx_kick(dr);
    return 0;
}

/* ---- create / destroy ---- */

static void link_destroy_cb(void *obj)
{
    pcie_link_destroy(obj);
}

void pcie_link_destroy(struct pcie_link *l)
{
    if (!l)
        return;
    for (int d = 0; d < PCIE_LINK_DIRS; d++) {
        free(l->dir[d].queue.v);
        free(l->dir[d].flight.v);
    }
    free(l);
}

static void declare_signals(struct pcie_link *l)
{
    struct sim_trace *tr = sim_trace(l->sim);
    for (int d = 0; d < PCIE_LINK_DIRS; d++)
        l->dir[d].sig_busy = l->dir[d].sig_kind = -1;
    if (!sim_trace_signals_enabled(tr))
        return;
    char scope[80];
    snprintf(scope, sizeof scope, "link.");
    size_t n = strlen(scope);
    for (const char *p = l->name; *p && n + 1 < sizeof scope; p++)
        scope[n++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                    (*p >= '0' && *p <= '9')
                                ? *p
                                : '_');
    scope[n] = '\0';
    for (int d = 0; d < PCIE_LINK_DIRS; d++) {
        char name[32];
        snprintf(name, sizeof name, "%s_busy", pcie_link_dir_name((enum pcie_link_dir)d));
        int a = sim_trace_signal(tr, scope, name, 1, NULL);
        /* kind: 0 idle, 1 TLP, 2 DLLP, 3 SKP */
        snprintf(name, sizeof name, "%s_kind", pcie_link_dir_name((enum pcie_link_dir)d));
        int b = sim_trace_signal(tr, scope, name, 2, NULL);
        if (a >= 0 && b >= 0) {
            l->dir[d].sig_busy = a;
            l->dir[d].sig_kind = b;
        }
    }
}

/* Everything that follows from the link's rate: symbol timing, SKP and EDS
 * sizes, Ack/UpdateFC latencies (3.6.3.1), and a new time base for the
 * Symbol slots starting now. */
static void set_rate(struct pcie_link *l, unsigned gen, unsigned width)
{
    bool enc = pcie_link_is_8b10b(gen);
    unsigned skp = l->cfg.skp_interval;
    if (enc ? (skp < 1180 || skp > 1538) : (skp < 370 || skp > 375))
        skp = enc ? 1180 : 370; /* unset, or set for the other encoding (4.2.7) */
    l->cfg.gen = gen;
    l->cfg.width = width;
    l->enc8b10b = enc;
    l->qps = pcie_link_ui_qps(gen);
    l->width = width;
    l->skp_interval = enc ? skp : (uint64_t)skp * 16;
    l->skp_slots = enc ? 4 : 16;
    l->eds_slots = (4 + width - 1) / width;
    l->t0 = sim_now(l->sim);
    sim_time_t sym = pcie_link_symbol_time(gen);
    l->ack_latency = l->cfg.ack_latency
                         ? l->cfg.ack_latency
                         : sym * pcie_link_ack_latency_symbols(gen, width, l->cfg.mps);
    l->fc_latency = l->cfg.fc_update_latency ? l->cfg.fc_update_latency : l->ack_latency;
    for (int d = 0; d < PCIE_LINK_DIRS; d++) {
        l->dir[d].pos = 0;
        l->dir[d].busy_slot = 0;
        l->dir[d].next_skp = l->skp_interval;
    }
}

int pcie_link_retrain(struct pcie_link *l, unsigned gen, unsigned width, struct pcilab_err *err)
{
    int r = pcie_link_check(gen, width, err);
    if (r < 0)
        return r;
    for (int d = 0; d < PCIE_LINK_DIRS; d++) {
        struct direction *dr = &l->dir[d];
        if (dr->busy || ring_front(&dr->queue) || ring_front(&dr->flight))
            return pcilab_errf(err, PCILAB_EINVAL,
                               "%s: cannot retrain while packets are queued or on the wire",
                               l->name);
    }
    set_rate(l, gen, width);
    return 0;
}

int pcie_link_create(struct pcilab_sim *sim, const struct pcie_link_cfg *cfg,
                     struct pcie_link **out, struct pcilab_err *err)
{
    *out = NULL;
    int r = pcie_link_check(cfg->gen, cfg->width, err);
    if (r)
        return r;
    if (cfg->mps < 128 || cfg->mps > 4096 || (cfg->mps & (cfg->mps - 1)))
        return pcilab_errf(err, PCILAB_EINVAL, "MPS %u: 128..4096, a power of two (7.5.3.4)",
                           cfg->mps);
    bool enc = pcie_link_is_8b10b(cfg->gen);
    unsigned skp = cfg->skp_interval;
    if (!skp)
        skp = enc ? 1180 : 370;
    if (enc ? (skp < 1180 || skp > 1538) : (skp < 370 || skp > 375))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "SKP interval %u: %s (4.2.7)", skp,
                           enc ? "1180..1538 Symbol times at 8b/10b" : "370..375 Blocks at 128b/130b");
    if (cfg->fc_scale > 3)
        return pcilab_errf(err, PCILAB_EINVAL, "FC scale %u does not fit 2 bits", cfg->fc_scale);

    struct pcie_link *l = calloc(1, sizeof *l);
    if (!l)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory creating a link");
    l->sim = sim;
    l->cfg = *cfg;
    snprintf(l->name, sizeof l->name, "%s", cfg->name ? cfg->name : "link");
    l->cfg.name = l->name;
    set_rate(l, cfg->gen, cfg->width);
    l->fc_period = cfg->fc_update_period ? cfg->fc_update_period : 30 * SIM_US;

    for (int d = 0; d < PCIE_LINK_DIRS; d++) {
        struct direction *dr = &l->dir[d];
        dr->link = l;
        dr->d = (enum pcie_link_dir)d;
        dr->acked_seq = 0xfff; /* 3.6.2.1: ACKD_SEQ starts at FFFh */
        for (int c = 0; c < PCIE_FC_CLASSES; c++)
            for (int k = 0; k < 2; k++) {
                uint32_t cr = cfg->credits[d][c][k];
                unsigned s = cfg->fc_scale;
                /* both ends of the link: InitFC1/InitFC2 done (2.6.1.1) */
                r = pcie_fc_tx_init(&dr->fc[c][k], k == 0, s, cr, err);
                if (!r)
                    r = pcie_fc_rx_init(&dr->rx[c][k], k == 0, s, cr, err);
                if (r) {
                    pcie_link_destroy(l);
                    return r;
                }
                dr->advertised[c][k] = cr;
            }
    }
    declare_signals(l);
    r = sim_own(sim, l, link_destroy_cb);
    if (r) {
        pcie_link_destroy(l);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory registering link %s", l->name);
    }
    *out = l;
    return 0;
}

void pcie_link_set_name(struct pcie_link *l, const char *name)
{
    snprintf(l->name, sizeof l->name, "%s", name ? name : "link");
}

unsigned pcie_link_gen(const struct pcie_link *l)
{
    return l->cfg.gen;
}

unsigned pcie_link_width(const struct pcie_link *l)
{
    return l->cfg.width;
}

const char *pcie_link_name(const struct pcie_link *l)
{
    return l->name;
}

void pcie_link_get_stats(struct pcie_link *l, enum pcie_link_dir dir, struct pcie_link_stats *st)
{
    struct direction *dr = &l->dir[dir];
    sim_time_t now = sim_now(l->sim);
    /* SKPs scheduled while the transmitter sat idle up to now */
    if (!dr->busy) {
        uint64_t s = slot_ceil(l, now);
        if (slot_time(l, s) > now && s)
            s--;
        flush_skps(dr, s);
    }
    *st = dr->st;
    if (dr->stalled)
        st->credit_stall += now - dr->stall_since;
}

const struct pcie_link_cfg *pcie_link_get_cfg(const struct pcie_link *l)
{
    return &l->cfg;
}

size_t pcie_link_queued(const struct pcie_link *l, enum pcie_link_dir dir)
{
    return l->dir[dir].queue.count;
}

uint32_t pcie_link_credits_available(const struct pcie_link *l, enum pcie_link_dir dir,
                                     enum pcie_fc_class cls, int data)
{
    return pcie_fc_tx_available(&l->dir[dir].fc[cls][data ? 1 : 0]);
}
