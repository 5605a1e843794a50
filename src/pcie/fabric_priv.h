/* Private to topology.c, route.c and enumerate.c: the fabric's internals. */
#ifndef PCILAB_PCIE_FABRIC_PRIV_H
#define PCILAB_PCIE_FABRIC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcie/route.h"
#include "pcie/topology.h"
#include "sim/evq.h"

enum pcie_bus_kind {
    PCIE_BUS_ROOT,   /* the root complex's root bus */
    PCIE_BUS_LINK,   /* a link below a downstream-facing port: one device */
    PCIE_BUS_SWITCH, /* a switch's internal bus */
};

struct pcie_bus {
    struct pcie_fabric *fabric;
    enum pcie_bus_kind kind;
    struct pcie_fn *bridge;      /* the bridge whose secondary bus this is; NULL: root */
    struct pcie_fn *fns[256];    /* by devfn */
    struct pcie_link *link;      /* PCIE_BUS_LINK (owned by the sim) */
    char link_name[64];
    struct pcie_switch *sw;      /* PCIE_BUS_SWITCH */
};

struct pcie_switch {
    char name[48];
    struct pcie_fn *up;
    struct pcie_bus *internal;
    unsigned n;
    struct pcie_fn *down[32];
};

/* One outstanding non-posted request of a requester (one tag). */
struct pcie_tag_slot {
    bool busy;
    uint32_t op;                 /* index in the requester's ops */
    uint64_t addr;               /* first byte this MRd asked for */
    uint32_t len;                /* bytes asked for */
    uint32_t received;           /* bytes received so far */
    sim_event_id timeout;
};

/* One read operation (several tags when split by MRRS). */
struct pcie_read_op {
    bool busy;
    uint8_t *buf;
    uint64_t addr;
    uint32_t len;
    uint32_t tags_left;
    enum pcie_req_status status;
    pcie_read_done_fn done;
    void *ctx;
    bool mem;                    /* memory read (else configuration/I/O: one DW) */
    /* synchronous host requests */
    bool sync;
    bool finished;
};

#define PCIE_MAX_TAGS 256

struct pcie_requester {
    struct pcie_fabric *fabric;
    struct pcie_fn *fn;          /* NULL: the host (root complex) */
    struct pcie_tag_slot tags[PCIE_MAX_TAGS];
    struct pcie_read_op ops[PCIE_MAX_TAGS];
    unsigned in_use;
    unsigned next_tag;           /* round-robin allocation start */
};

struct pcie_fn {
    struct pcie_fabric *fabric;
    enum pcie_fn_kind kind;
    struct pcie_cfg *cfg;
    struct pcie_cfg *own_cfg;    /* fabric-built functions: allocated here */
    const struct pcie_fn_ops *ops;
    void *ctx;
    char name[48];
    struct pcie_bus *bus;        /* the bus it sits on */
    uint8_t devfn;
    struct pcie_bus *secondary;  /* Type 1: the bus below, else NULL */
    struct pcie_switch *sw;
    uint16_t captured;
    bool has_captured;
    bool rid_fixed;
    uint16_t rid;
    size_t index;
    struct pcie_requester *req;  /* allocated on first use of the read helpers */
};

/* A TLP in flight: its bytes and where it is. */
struct pcie_inflight {
    uint8_t bytes[PCIE_TLP_MAX_BYTES];
    size_t len;
    uint32_t index;
    bool in_use;
    bool sync;
    struct pcie_bus *bus;        /* the bus it is about to arrive on */
    struct pcie_fn *from;        /* the function/bridge that put it there */
    struct pcie_fn *origin;      /* the function that sent it */
    struct pcie_fn *ingress_rp;  /* root port it came up through (upstream sink) */
    bool down;                   /* travelling away from the root complex */
    sim_time_t elapsed;          /* synchronous mode: time it would have taken */
};

struct pcie_fabric {
    struct pcilab_sim *sim;
    struct pcie_fabric_config cfg;
    struct pcie_bus *root;
    struct pcie_fn *host_bridge;
    struct pcie_fn **fns;
    size_t nfns, capfns;
    struct pcie_bus **buses;
    size_t nbuses, capbuses;
    struct pcie_switch **switches;
    size_t nswitches, capswitches;

    pcie_upstream_fn upstream;
    void *upstream_ctx;
    struct mem_addrmap *memory;
    pcie_interrupt_fn irq;
    void *irq_ctx;
    pcie_message_fn msg;
    void *msg_ctx;

    /* route.c: the in-flight pool (stable addresses: one allocation per chunk) */
    struct pcie_inflight **pool;
    size_t pool_n;               /* slots (all chunks) */
    uint32_t *pool_free;         /* stack of free indices */
    size_t pool_nfree;
    struct pcie_inflight **chunks;
    size_t nchunks, capchunks;
    struct pcie_requester host_req; /* the root complex as requester (host accesses) */
    uint8_t scratch[4096];       /* completer's read data */
    struct pcie_fabric_stats stats;
};

/* topology.c */
unsigned pcie_bus_number(const struct pcie_bus *bus);
bool pcie_fn_is_bridge(const struct pcie_fn *fn);

/* route.c */
int pcie_route_init(struct pcie_fabric *f, struct pcilab_err *err);
void pcie_route_fini(struct pcie_fabric *f);

#endif
