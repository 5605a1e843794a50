/* A PCIe link: wire timing and an event-driven model of both directions.
 * PCI Express Base Specification 5.0 (non-Flit mode). Sections:
 *   4.2        encodings: 8b/10b at 2.5 and 5.0 GT/s (Gen1/2: 10 UI per Symbol),
 *              128b/130b at 8, 16, 32 GT/s (Gen3-5: 16 Symbols per Lane in a
 *              130-UI Block, 2-UI Sync Header)
 *   4.2.1.1    8b/10b framing: STP + Sequence Number (2) + TLP + LCRC (4) + END;
 *              SDP + DLLP (6) + END; on links wider than x4, STP/SDP start on a
 *              Lane number divisible by 4 and PAD fills the rest of a Symbol time
 *   4.2.2.3    128b/130b framing: STP Token (4 Symbols, carries the sequence
 *              number) + TLP + LCRC (4); SDP Token (2) + DLLP (6); EDS Token (4)
 *              in the last DW of the Data Block before an Ordered Set Block
 *   4.2.7      Clock tolerance compensation: SKP Ordered Sets. 8b/10b: COM +
 *              3 SKP (4 Symbols on every Lane), scheduled every 1180..1538 Symbol
 *              times, sent between packets, accumulated while a packet is in
 *              flight. 128b/130b: one 16-Symbol SKP OS Block scheduled every
 *              370..375 Blocks, preceded by an EDS Token
 *   3.6.2.1    sequence numbers (12 bits, at most 2048 TLPs unacknowledged)
 *   3.6.3.1    AckNak_LATENCY_TIMER: Acks coalesced, sent when the timer expires,
 *              limit from the spec's table (MPS, width, rate)
 *   2.6.1.2    flow-control gating and UpdateFC scheduling (on credit return,
 *              immediately when the transmitter may be starved, and at least
 *              every 30 us while the link is active)
 *
 * Time is picoseconds (sim/time.h). Internally the model counts Symbol slots
 * (one byte per Lane) from the link's start; a slot's time is exact in UI and
 * rounded down to the picosecond, so no rounding error accumulates. */
#ifndef PCILAB_PCIE_LINK_H
#define PCILAB_PCIE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcie/dllp.h"
#include "pcie/fc.h"
#include "sim/err.h"
#include "sim/sim.h"

/* ---- Pure computations ---- */

/* Valid: gen 1..5, width 1, 2, 4, 8, 12, 16, 32. */
int pcie_link_check(unsigned gen, unsigned width, struct pcilab_err *err);
/* Transfer rate in MT/s: 2500, 5000, 8000, 16000, 32000. */
unsigned pcie_link_mts(unsigned gen);
/* Unit interval in quarter picoseconds (exact): 1600, 800, 500, 250, 125. */
unsigned pcie_link_ui_qps(unsigned gen);
bool pcie_link_is_8b10b(unsigned gen);
/* Picoseconds per byte per Lane on the wire, exactly, as a fraction
 * num/den (Gen1 4000/1, Gen2 2000/1, Gen3 1015625/1000 = 130*125/16 ...). */
void pcie_link_ps_per_byte(unsigned gen, uint64_t *num, uint64_t *den);
/* Raw data bandwidth after encoding, bytes per second, all lanes. */
double pcie_link_raw_bytes_per_s(unsigned gen, unsigned width);

/* Bytes a TLP of tlp_bytes (header + payload + ECRC) occupies on the wire:
 * tlp_bytes + 8 at every rate (4.2.1.1: STP 1 + seq 2 + LCRC 4 + END 1;
 * 4.2.2.3: STP Token 4 + LCRC 4). */
size_t pcie_link_tlp_wire_bytes(unsigned gen, size_t tlp_bytes);
/* Bytes of one TLP from its header size, payload and ECRC flag. */
size_t pcie_link_tlp_bytes(unsigned hdr_dw, size_t payload_bytes, bool ecrc);
/* Symbol times (slots per Lane) a packet of wire_bytes needs when it starts on
 * Lane 0 of an idle link: ceil(bytes / width) (remaining Lanes are PAD/IDL). */
uint64_t pcie_link_packet_slots(unsigned width, size_t wire_bytes);
/* Time on the wire of such a packet, rounded to the nearest picosecond, at the
 * long-run rate (128b/130b Sync Headers spread evenly, 130/128).
 * Gen2 x1, 64-byte MWr with a 4 DW header: 88 bytes, 176000 ps. */
sim_time_t pcie_link_wire_time(unsigned gen, unsigned width, size_t wire_bytes);

/* AckNak_LATENCY_TIMER limit in Symbol times (3.6.3.1, the tables for each
 * rate), from ((MPS + TLPOverhead) * AckFactor / width) + InternalDelay with
 * TLPOverhead 28 Symbols, AckFactor from the table (1.4 / 2.5 / 3.0 for MPS
 * 128-256, 1.0 / 2.0 above) and InternalDelay 19 (2.5 GT/s), 70 (5.0),
 * 115 (8.0), 200 (16.0), 220 (32.0, see docs/link-throughput.md). */
unsigned pcie_link_ack_latency_symbols(unsigned gen, unsigned width, unsigned mps);
/* A Symbol time in ps (10 UI at 8b/10b, 8 UI at 128b/130b), rounded down. */
sim_time_t pcie_link_symbol_time(unsigned gen);

/* ---- Event-driven model ---- */

enum pcie_link_dir {
    PCIE_LINK_UP = 0,   /* towards the root complex */
    PCIE_LINK_DOWN = 1, /* away from the root complex */
};
#define PCIE_LINK_DIRS 2

struct pcie_link_cfg {
    const char *name;    /* for traces and messages ("00:1c.0-01:00.0") */
    unsigned gen;        /* 1..5 */
    unsigned width;      /* 1, 2, 4, 8, 12, 16, 32 */
    unsigned mps;        /* Max_Payload_Size, bytes: Ack/UpdateFC latency (3.6.3.1) and
                            the largest data credit need of a TLP */
    sim_time_t latency;  /* fixed delay from the last Symbol leaving the transmitter
                            to delivery at the far end (PHY pipeline, channel) */
    sim_time_t rx_process; /* receiver's delay from delivery to freeing the TLP's
                              buffer space (credits); 0 = at delivery */
    unsigned skp_interval; /* 0 = 1180 Symbol times (8b/10b) / 370 Blocks (128b/130b) */
    sim_time_t ack_latency; /* 0 = from pcie_link_ack_latency_symbols */
    unsigned ack_every;  /* the receiver also Acks as soon as this many TLPs arrived
                            unacknowledged (3.6.3.1 only bounds how late an Ack may
                            be; many receivers Ack every TLP); 0 = timer only */
    sim_time_t fc_update_latency; /* 0 = same as the Ack latency (the spec's UpdateFC
                                     guideline uses the same formula) */
    sim_time_t fc_update_period;  /* 0 = 30 us (2.6.1.2); refresh while active */
    /* Credits the receiver at the end of each direction advertises
     * [class][0 header, 1 data], in credits; 0 = infinite. */
    uint32_t credits[PCIE_LINK_DIRS][PCIE_FC_CLASSES][2];
    unsigned fc_scale;   /* 0 = no scaled FC; 1..3 = the scale field for every type */
};

/* Fills cfg with defaults: Gen2 x1, MPS 128, 0 latency, and credits like a
 * typical root port / endpoint pair: P 32 hdr / 512 data, NP 32 / 32 (NP data
 * for AtomicOps), Cpl infinite for the endpoint's receiver (2.6.1: endpoints
 * advertise infinite completion credits) and 32 / 512 for the root port's. */
void pcie_link_cfg_default(struct pcie_link_cfg *cfg);

/* A TLP handed to the link. */
struct pcie_link_tlp;
typedef void (*pcie_link_deliver_fn)(void *ctx, const struct pcie_link_tlp *tlp,
                                     sim_time_t arrived);
struct pcie_link_tlp {
    /* Either the encoded TLP (bytes/len, which must stay valid until delivery;
     * header size, payload, ECRC and credit class are read from it, 2.2.1) ... */
    const uint8_t *bytes;
    size_t len;
    /* ... or, with bytes NULL, a descriptor: */
    unsigned hdr_dw;          /* 3 or 4 */
    uint32_t payload;         /* bytes of data payload (multiple of 4) */
    bool ecrc;
    enum pcie_fc_class fc;    /* P (MWr, Msg), NP (MRd, IO, Cfg, AtomicOp), Cpl */
    /* Called at the far end when the TLP has arrived. */
    pcie_link_deliver_fn deliver;
    void *ctx;
    uint64_t arg;
};

struct pcie_link_stats {
    uint64_t tlps, dllps, skps;       /* packets / ordered sets transmitted */
    uint64_t acks, naks, update_fcs;  /* DLLPs by kind */
    uint64_t tlp_bytes;               /* TLP bytes (header + payload + ECRC) */
    uint64_t payload_bytes;           /* TLP payload bytes */
    uint64_t wire_bytes;              /* framed TLP/DLLP bytes + SKP Symbols x width */
    sim_time_t busy;                  /* time the transmitter was sending something */
    sim_time_t credit_stall;          /* time the head TLP waited for credits */
    uint64_t credit_stalls;           /* number of such waits */
    uint64_t seq_stalls;              /* waits for Acks (2048 TLPs unacknowledged) */
    uint64_t queued_max;              /* deepest transmit queue seen */
};

struct pcie_link;

/* Creates the link on sim (InitFC done: both ends start with the advertised
 * credits) and registers it with sim_own, so sim_destroy frees it. */
int pcie_link_create(struct pcilab_sim *sim, const struct pcie_link_cfg *cfg,
                     struct pcie_link **out, struct pcilab_err *err);
/* Only for links not owned by a sim (sim_own failed) or before sim_destroy. */
void pcie_link_destroy(struct pcie_link *link);

/* Queues a TLP in direction dir. It is transmitted in order after the TLPs
 * before it, when credits allow, and delivered at the far end. Copies the
 * descriptor (not the bytes). -PCILAB_EINVAL for a TLP whose length does not
 * match its header (or a bad descriptor), or that needs more data credits than
 * the receiver advertises (it could never be sent); -PCILAB_EUNSUPPORTED for
 * TLP prefixes; -PCILAB_ENOMEM if the queue cannot grow. The payload is not
 * checked against MPS here: that is the receiver's rule (2.2.2,
 * pcie_tlp_check_mps). */
int pcie_link_send(struct pcie_link *link, enum pcie_link_dir dir,
                   const struct pcie_link_tlp *tlp, struct pcilab_err *err);

/* Retrains an idle link at another rate and width (the LTSSM's Recovery/
 * Configuration, 4.2.6; e.g. a board strapped or forced below what both ends
 * support). Refused with PCILAB_EINVAL while packets are queued or on the
 * wire. Timing, SKP scheduling and Ack/UpdateFC latencies follow the new rate. */
int pcie_link_retrain(struct pcie_link *link, unsigned gen, unsigned width,
                      struct pcilab_err *err);
unsigned pcie_link_gen(const struct pcie_link *link);
unsigned pcie_link_width(const struct pcie_link *link);

/* Renames the link in the trace records it emits from now on (the fabric
 * names links by bus numbers once enumeration has assigned them). VCD signals
 * keep the scope they were declared with. */
void pcie_link_set_name(struct pcie_link *link, const char *name);
const char *pcie_link_name(const struct pcie_link *link);
/* Counters for dir up to the current simulated time. */
void pcie_link_get_stats(struct pcie_link *link, enum pcie_link_dir dir,
                         struct pcie_link_stats *st);
const struct pcie_link_cfg *pcie_link_get_cfg(const struct pcie_link *link);
/* TLPs queued (not yet started) in dir. */
size_t pcie_link_queued(const struct pcie_link *link, enum pcie_link_dir dir);
/* Credits the transmitter of dir has left for class/header(0)/data(1);
 * UINT32_MAX for infinite. */
uint32_t pcie_link_credits_available(const struct pcie_link *link, enum pcie_link_dir dir,
                                     enum pcie_fc_class cls, int data);
const char *pcie_link_dir_name(enum pcie_link_dir dir);

#endif
