/* Moving TLPs through a fabric: ID routing (configuration requests,
 * completions, ID-routed messages) and address routing (memory and I/O
 * requests), upstream and downstream, through root ports and switches using
 * the bridges' programmed bus numbers and windows and the functions' BARs.
 *
 * PCI Express Base Specification 5.0, sections:
 *   2.2.4   routing (address 2.2.4.1, ID 2.2.4.2)
 *   2.3.1   request handling rules: Unsupported Request (UR) for requests no
 *           one claims; non-posted get a Cpl with status UR, posted are dropped
 *   2.3.1.1 data return for read requests: completions split at RCB, each at
 *           most Max_Payload_Size, Byte Count and Lower Address rules
 *   2.3.2   completion handling: Unexpected Completion
 *   2.8     completion timeout
 *   7.3.3   configuration request routing: a bridge turns a Type 1 request
 *           for its secondary bus into Type 0, forwards Type 1 unchanged for a
 *           bus in (secondary, subordinate], claims nothing else
 *   7.5.1.1.3 Command: Memory/I/O Space Enable gate a function's (and a
 *           bridge's downstream) decoding, Bus Master Enable gates a bridge's
 *           upstream forwarding
 *   7.5.1.1.4, 7.5.3.5, 7.8.4 status bits set on errors
 *
 * Every TLP carries its real encoded bytes: it is encoded once by the source
 * (pcie_tlp_encode) into an in-flight buffer from the fabric's pool and
 * decoded at every hop (routing reads header fields only) and at the
 * destination. A configuration request converted from Type 1 to Type 0 has
 * only Type[0] changed in its bytes, a variant bit not covered by ECRC
 * (2.7.1).
 *
 * Time: each hop is an event. Crossing a link costs its serialisation time
 * (pcie/link.h); crossing a switch costs pcie_fabric_config.switch_latency;
 * crossing a root port costs root_port_latency. The synchronous host
 * accessors route the same way, hop by hop, in zero simulated time.
 *
 * Fast path: routing allocates nothing; the in-flight pool grows only when
 * more TLPs are in flight than ever before (doubling).
 *
 * Peer-to-peer: a switch routes a request from one downstream port to a
 * sibling whose window claims it. With ACS P2P Request Redirect enabled on
 * the ingress downstream port (7.7.8), the request goes upstream instead.
 * The root complex routes between root ports by their windows.
 *
 * Tracing: with sim_trace_enabled, one record per TLP per hop: where is the
 * link name ("00:02.1<->01:00.0") or "switch 01:00.0" / "root complex".
 */
#ifndef PCILAB_PCIE_ROUTE_H
#define PCILAB_PCIE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcie/tlp.h"
#include "pcie/topology.h"
#include "sim/err.h"

/* Largest TLP: 4 DW header + 4096 bytes of payload + ECRC (2.2.1, 2.2.2, 2.2.3). */
#define PCIE_TLP_MAX_BYTES (16u + 4096u + 4u)

/* Outcome of a request made through the helpers below. */
enum pcie_req_status {
    PCIE_REQ_SC = PCIE_CPL_SC,   /* all data arrived */
    PCIE_REQ_UR = PCIE_CPL_UR,   /* a completion with Unsupported Request */
    PCIE_REQ_CRS = PCIE_CPL_CRS, /* Configuration Request Retry Status */
    PCIE_REQ_CA = PCIE_CPL_CA,   /* Completer Abort */
    PCIE_REQ_TIMEOUT = 8,        /* Completion Timeout (2.8) */
    PCIE_REQ_POISONED,           /* a completion had EP set (2.7.2) */
    PCIE_REQ_MALFORMED,          /* a completion broke a rule (Byte Count, Lower Address) */
    PCIE_REQ_DROPPED,            /* posted request dropped on the way (UR, BME clear) */
};
/* "SC", "UR", "CRS", "CA", "timeout", "poisoned", "malformed", "dropped". */
const char *pcie_req_status_name(enum pcie_req_status s);

/* ---- From the host (CPU), entering at the root complex ----
 * Requester ID: the host bridge's (root_bus:00.0). */

/* Synchronous: configuration access as through ECAM. The root complex sends
 * Type 0 for the root bus and Type 1 otherwise. A read that fails returns
 * all-ones in *val (the root complex's answer to a UR, which is how software
 * sees an absent function: Vendor ID 0xFFFF). size 1, 2, 4, off aligned. */
enum pcie_req_status pcie_host_cfg_read(struct pcie_fabric *f, uint16_t bdf, unsigned off,
                                        unsigned size, uint32_t *val);
enum pcie_req_status pcie_host_cfg_write(struct pcie_fabric *f, uint16_t bdf, unsigned off,
                                         unsigned size, uint32_t val);
/* Synchronous MMIO: len 1..4096 not crossing 4 KiB. A failed read fills buf
 * with 0xff. A write is posted: the status says whether it reached a
 * completer (SC) or was dropped (PCIE_REQ_DROPPED). */
enum pcie_req_status pcie_host_mem_read(struct pcie_fabric *f, uint64_t addr, void *buf,
                                        uint32_t len);
enum pcie_req_status pcie_host_mem_write(struct pcie_fabric *f, uint64_t addr, const void *buf,
                                         uint32_t len);

/* done(ctx, status, buf, len) when the last completion arrives or on timeout.
 * buf is the caller's buffer (valid until done). */
typedef void (*pcie_read_done_fn)(void *ctx, enum pcie_req_status st, void *buf, uint32_t len);

/* Timed MMIO: the request travels as events. Read: len 1..4096, not crossing
 * 4 KiB. Returns 0 or a negative PCILAB_E* code (no free tag:
 * -PCILAB_ERANGE). */
int pcie_host_mem_read_async(struct pcie_fabric *f, uint64_t addr, void *buf, uint32_t len,
                             pcie_read_done_fn done, void *ctx, struct pcilab_err *err);
int pcie_host_mem_write_async(struct pcie_fabric *f, uint64_t addr, const void *buf,
                              uint32_t len, struct pcilab_err *err);

/* ---- From a function (device model), entering at the function ---- */

/* Sends a TLP exactly as built (any requester ID, any fields, even malformed
 * ones: the fabric encodes it with pcie_tlp_encode and receivers check it).
 * Completions to a request sent this way are given to ops->receive. */
int pcie_fn_send_tlp(struct pcie_fn *fn, const struct pcie_tlp *tlp, struct pcilab_err *err);
/* Sends raw bytes (at most PCIE_TLP_MAX_BYTES). */
int pcie_fn_send_bytes(struct pcie_fn *fn, const uint8_t *bytes, size_t len,
                       struct pcilab_err *err);

/* Memory write of len bytes at addr with pcie_fn_requester_id(fn), split
 * into MWr TLPs at 4 KiB boundaries and at the function's Max_Payload_Size
 * (2.2.2, 2.2.7). Needs Bus Master Enable (7.5.1.1.3): without it the write
 * is refused with -PCILAB_EINVAL, as the hardware must not issue it. */
int pcie_fn_mem_write(struct pcie_fn *fn, uint64_t addr, const void *data, uint32_t len,
                      struct pcilab_err *err);
/* Memory read of len bytes (1..1 MiB) into buf, split into MRd TLPs at 4 KiB
 * boundaries and Max_Read_Request_Size, one tag each (32 tags without
 * Extended Tag Field Enable, 256 with, 2.2.6.2); completions are matched by
 * tag and reassembled; each MRd has a completion timeout. done runs once.
 * -PCILAB_ERANGE when not enough tags are free (nothing is sent). */
int pcie_fn_mem_read(struct pcie_fn *fn, uint64_t addr, void *buf, uint32_t len,
                     pcie_read_done_fn done, void *ctx, struct pcilab_err *err);
/* Tags in use / usable by the function's own reads. */
unsigned pcie_fn_tags_in_use(const struct pcie_fn *fn);
unsigned pcie_fn_tags_max(const struct pcie_fn *fn);

/* Signals interrupt vector `vector` of the function's MSI capability: a DW
 * MWr of the vector's data to its address (PCIe 5.0 6.1.4, msi.h computes
 * them), with pcie_fn_requester_id. Honours MSI Enable, Multiple Message
 * Enable, Bus Master Enable and per-vector Mask: a masked vector sets its
 * Pending bit and sends nothing (returns 0). -PCILAB_EINVAL when disabled or
 * out of range, -PCILAB_ENOENT without an MSI capability. */
int pcie_fn_msi_send(struct pcie_fn *fn, unsigned vector, struct pcilab_err *err);
/* The same for MSI-X: the table and PBA live in the device model's BAR
 * memory, given here as bytes (Function Mask / per-vector Mask set the PBA
 * bit instead of sending). */
int pcie_fn_msix_send(struct pcie_fn *fn, const uint8_t *table, size_t table_len, uint8_t *pba,
                      size_t pba_len, unsigned vector, struct pcilab_err *err);

/* ---- Messages and errors that reach the root complex ---- */
/* Messages routed to the root complex (INTx, ERR_*, PME, ...); ingress is the
 * root port they came through (NULL from an RCiEP). */
typedef void (*pcie_message_fn)(void *ctx, struct pcie_fn *ingress, const struct pcie_tlp *tlp);
void pcie_fabric_set_message_sink(struct pcie_fabric *f, pcie_message_fn fn, void *ctx);

struct pcie_fabric_stats {
    uint64_t tlps;                  /* TLPs sent into the fabric */
    uint64_t hops;                  /* bus-to-bus moves */
    uint64_t ur_posted_dropped;     /* posted requests dropped as UR */
    uint64_t ur_completions;        /* Cpl with UR sent */
    uint64_t ca_completions;        /* Cpl with CA sent */
    uint64_t unexpected_completions;/* completions no requester expected (2.3.2) */
    uint64_t malformed;             /* TLPs dropped as malformed at a receiver */
    uint64_t mps_violations;        /* of those: payload above the receiver's MPS (2.2.2) */
    uint64_t timeouts;              /* completion timeouts */
    uint64_t upstream_requests;     /* requests handed to the upstream sink */
    uint64_t pool_size, pool_in_use, pool_high_water;
};
void pcie_fabric_get_stats(const struct pcie_fabric *f, struct pcie_fabric_stats *st);

#endif
