/* The PCI Express fabric of one PCI segment: what is connected to what.
 *
 * Follows the PCI Express Base Specification, Revision 5.0 (PCIe 5.0); section
 * numbers are 5.0's.
 *
 * Objects
 *  - struct pcie_fabric: one hierarchy domain (one PCI segment), created on a
 *    struct pcilab_sim and owned by it (sim_own). It holds the root complex: a
 *    root bus with host bridge function(s), Root Complex Integrated Endpoints
 *    (RCiEPs, e.g. the AMD IOMMU at 00:00.2) and root ports.
 *  - struct pcie_fn: one function (PCIe 5.0 1.3): a host bridge, an RCiEP, a
 *    root port, a switch upstream or downstream port, or an endpoint function.
 *    Each has its configuration space (struct pcie_cfg, config.h), its place
 *    (the bridge above it and its device/function number on that bridge's
 *    secondary bus), a device-model ops table and a ctx.
 *  - struct pcie_switch: one upstream port (Type 1 header) above an internal
 *    bus holding N downstream ports (Type 1 headers), PCIe 5.0 1.3.3.
 *  - links: every downstream-facing port (root port, switch downstream port)
 *    that has something attached owns the link to it (struct pcie_link from
 *    link.h, for serialisation time and credits). Only one device sits below
 *    a downstream port, as device number 0 (point-to-point, PCIe 5.0 7.3.1).
 *
 * Bus numbers do not exist until enumeration (enumerate.h) programs the
 * bridges' Primary/Secondary/Subordinate Bus Number registers; before that
 * the tree is structural only, and pcie_fn_bdf() reports bus numbers read
 * from those registers (so 0 below an unprogrammed bridge), as hardware would.
 *
 * Building is the slow path (allocates). Routing TLPs through a built fabric
 * is route.h; enumeration is enumerate.h.
 *
 * Function numbers 0..7 per device; ARI (PCIe 5.0 6.13, function numbers up
 * to 255 on device 0) is not modelled and refused with PCILAB_EUNSUPPORTED.
 */
#ifndef PCILAB_PCIE_TOPOLOGY_H
#define PCILAB_PCIE_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcie/config.h"
#include "pcie/tlp.h"
#include "sim/err.h"
#include "sim/time.h"

struct pcilab_sim;
struct mem_addrmap;
struct pcie_link;
struct pcie_fabric;
struct pcie_fn;
struct pcie_switch;

/* What a function is. The PCI Express Capability's Device/Port Type
 * (PCIe 5.0 7.5.3.2) is given for each; the fabric writes it for the ports
 * it builds and checks it (when present) for functions handed to it. */
enum pcie_fn_kind {
    PCIE_FN_HOST_BRIDGE,  /* class 06 00 00 on the root bus; no PCIe capability */
    PCIE_FN_RCIEP,        /* Root Complex Integrated Endpoint, type 1001b */
    PCIE_FN_ROOT_PORT,    /* Root Port of PCI Express Root Complex, type 0100b */
    PCIE_FN_SWITCH_UP,    /* Upstream Port of PCI Express Switch, type 0101b */
    PCIE_FN_SWITCH_DOWN,  /* Downstream Port of PCI Express Switch, type 0110b */
    PCIE_FN_ENDPOINT,     /* PCI Express Endpoint, type 0000b (legacy 0001b accepted) */
};
/* "host bridge", "RCiEP", "root port", "switch upstream port",
 * "switch downstream port", "endpoint". */
const char *pcie_fn_kind_name(enum pcie_fn_kind k);

/* What a device model does. Every member may be NULL. fn is the function the
 * call is about (one ops table may serve several functions). Calls happen when
 * the TLP reaches the function, at simulated time sim_now(). */
struct pcie_fn_ops {
    const char *name;  /* model name for messages and traces, e.g. "ecp5_dma" */
    /* A Configuration Write was applied to the function's pcie_cfg (with the
     * register's RO/RW/RW1C semantics): old and now as in pcie_cfg_hooks. */
    void (*cfg_written)(void *ctx, struct pcie_fn *fn, unsigned off, unsigned size,
                        uint32_t old, uint32_t now);
    /* A memory (or I/O) request hit BAR `bar` at `offset` (from the BAR's base),
     * len bytes (1..4096; only enabled bytes, first byte at offset). Return the
     * Completion Status (PCIE_CPL_SC, or PCIE_CPL_UR / PCIE_CPL_CA to refuse);
     * for reads buf must be filled on SC. A missing callback answers UR. */
    enum pcie_cpl_status (*mmio_read)(void *ctx, struct pcie_fn *fn, unsigned bar,
                                      uint64_t offset, void *buf, unsigned len);
    enum pcie_cpl_status (*mmio_write)(void *ctx, struct pcie_fn *fn, unsigned bar,
                                       uint64_t offset, const void *buf, unsigned len);
    /* Any other TLP delivered to the function: Messages routed to it,
     * completions that match no read the fabric tracks for it (the device sent
     * the request itself with pcie_fn_send_tlp), and requests of kinds the
     * fabric does not complete itself (AtomicOps). tlp->payload points into
     * bytes, valid only during the call. For a non-posted request the device
     * must answer with pcie_fn_send_tlp (a completion) or the requester times
     * out, as on real hardware. */
    void (*receive)(void *ctx, struct pcie_fn *fn, const struct pcie_tlp *tlp,
                    const uint8_t *bytes, size_t len);
};

/* ---- The fabric ---- */

/* A CPU-visible address range the root complex decodes for PCI (what Linux
 * calls the host bridge windows, "pci_bus 0000:00: root bus resource
 * [mem 0x...]"). size 0: none. */
struct pcie_aperture {
    uint64_t base, size;
};

struct pcie_fabric_config {
    uint16_t segment;               /* PCI segment (domain), printed as 0000: */
    uint8_t root_bus;               /* bus number of the root bus, normally 0 */
    /* Host bridge at root_bus:00.0, created with the fabric. vendor_id 0: none
     * (then host-originated requests use requester ID root_bus:00.0 anyway,
     * PCIe 5.0 2.2.6.2 lets the root complex pick). */
    struct pcie_cfg_ident host_bridge;
    struct pcie_aperture mem32;     /* non-prefetchable MMIO below 4 GiB */
    struct pcie_aperture mem64;     /* 64-bit (prefetchable) MMIO; size 0: none */
    struct pcie_aperture io;        /* I/O port space */
    sim_time_t root_port_latency;   /* per TLP through a root port (either direction) */
    sim_time_t switch_latency;      /* per TLP through a switch (ingress to egress port) */
    sim_time_t memory_latency;      /* root complex: memory read request to first completion */
    sim_time_t completion_timeout;  /* PCIe 5.0 2.8: default range 50 us .. 50 ms */
    unsigned rcb;                   /* root complex Read Completion Boundary: 64 or 128
                                       (PCIe 5.0 2.3.1.1, 7.5.3.7 RCB) */
    unsigned pool_tlps;             /* in-flight TLP buffers preallocated (grows amortised) */
};

/* Defaults: segment 0, root bus 0, host bridge 1022:1576 (AMD Family 15h
 * Models 60h-6Fh root complex, as in the seed), mem32 0xe000_0000 +
 * 0x1f00_0000, mem64 0x80_0000_0000 + 64 GiB, io 0x1000 + 0xf000,
 * root port 150 ns, switch 150 ns, memory 80 ns, completion timeout 50 ms,
 * RCB 64, 64 buffers. */
void pcie_fabric_config_default(struct pcie_fabric_config *cfg);

/* Creates an empty fabric (root bus with its host bridge) owned by sim
 * (destroyed by sim_destroy). NULL and err filled on failure. */
struct pcie_fabric *pcie_fabric_create(struct pcilab_sim *sim,
                                       const struct pcie_fabric_config *cfg,
                                       struct pcilab_err *err);

struct pcilab_sim *pcie_fabric_sim(const struct pcie_fabric *f);
const struct pcie_fabric_config *pcie_fabric_config(const struct pcie_fabric *f);
/* The host bridge at root_bus:00.0, or NULL when configured without one. */
struct pcie_fn *pcie_fabric_host_bridge(const struct pcie_fabric *f);

/* ---- Building the tree (slow path). Each returns a handle owned by the
 * fabric, or NULL with err filled:
 *   PCILAB_EEXIST  device/function number already taken on that bus, or a
 *                  device already attached below that downstream port;
 *   PCILAB_EINVAL  dev > 31, fn > 7 without ARI, a parent that is not a
 *                  downstream-facing port, dev != 0 below a downstream port
 *                  (PCIe 5.0 7.3.1), a cfg whose header type or PCIe
 *                  Device/Port Type contradicts the kind being added;
 *   PCILAB_EUNSUPPORTED  ARI function numbers;
 *   PCILAB_ENOMEM. ---- */

/* A port (Type 1 header) the fabric builds: identity, windows, link. */
struct pcie_port_desc {
    const char *name;                 /* label for messages; NULL: derived from place */
    struct pcie_cfg_ident ident;      /* vendor/device/revision/subsystem; class_code 0
                                         means 0x060400 (PCI-to-PCI bridge); multifunction
                                         is managed by the fabric */
    struct pcie_bridge_params bridge; /* which windows exist (all zero: I/O 32-bit,
                                         prefetchable 64-bit, as most PCIe ports) */
    unsigned max_link_speed;          /* Link Capabilities Max Link Speed (7.5.3.6):
                                         1 = 2.5, 2 = 5, 3 = 8, 4 = 16, 5 = 32 GT/s; 0: 3 */
    unsigned max_link_width;          /* lanes: 1, 2, 4, 8, 12, 16, 32; 0: 16 (root port),
                                         4 (switch port) */
    unsigned mps_supported;           /* Max_Payload_Size Supported in bytes 128..4096;
                                         0: 512 */
    bool acs;                         /* downstream-facing ports: an ACS capability
                                         (7.7.8) with SV, RR, CR, UF */
};

/* Another host bridge function on the root bus (e.g. AMD's 00:02.0 next to
 * its root ports 00:02.1..). ident.class_code 0 means 0x060000. */
struct pcie_fn *pcie_fabric_add_host_bridge(struct pcie_fabric *f, unsigned dev, unsigned fn,
                                            const struct pcie_cfg_ident *ident,
                                            struct pcilab_err *err);

/* A root port at root_bus:dev.fn. desc may be NULL for defaults. */
struct pcie_fn *pcie_fabric_add_root_port(struct pcie_fabric *f, unsigned dev, unsigned fn,
                                          const struct pcie_port_desc *desc,
                                          struct pcilab_err *err);

struct pcie_switch_desc {
    const char *name;                 /* e.g. "PEX 8724"; NULL: "switch" */
    struct pcie_port_desc upstream;   /* the upstream port (device 0 function 0 below
                                         the parent port) */
    struct pcie_port_desc downstream; /* every downstream port */
    unsigned n_downstream;            /* 1..32 */
    /* Device number of each downstream port on the internal bus; NULL means
     * 0, 1, ..., n_downstream-1. Downstream ports are function 0. */
    const uint8_t *downstream_dev;
};

/* A switch whose upstream port is linked below the downstream-facing port
 * `port` (a root port or another switch's downstream port). */
struct pcie_switch *pcie_fabric_add_switch(struct pcie_fabric *f, struct pcie_fn *port,
                                           const struct pcie_switch_desc *desc,
                                           struct pcilab_err *err);
struct pcie_fn *pcie_switch_upstream(const struct pcie_switch *sw);
unsigned pcie_switch_downstream_count(const struct pcie_switch *sw);
/* Downstream port i (0..count-1, in the order given at creation), or NULL. */
struct pcie_fn *pcie_switch_downstream(const struct pcie_switch *sw, unsigned i);

/* A function described by a device model. port: the downstream-facing port it
 * sits below (then dev must be 0), or NULL for the root bus (an RCiEP). cfg is
 * the model's configuration space, already initialised (pcie_cfg_init_type0,
 * BARs, capabilities); the fabric does not own it, and it must stay valid
 * until the fabric is destroyed. The kind is PCIE_FN_ENDPOINT below a port,
 * PCIE_FN_RCIEP on the root bus. A Type 1 cfg is refused (bridges are built
 * with the port/switch builders). Functions 1..7 are only probed by
 * enumeration if function 0's Header Type has the multi-function bit, as
 * hardware and Linux behave; the fabric does not set it for the model. */
struct pcie_fn *pcie_fabric_add_function(struct pcie_fabric *f, struct pcie_fn *port,
                                         unsigned dev, unsigned fn, struct pcie_cfg *cfg,
                                         const struct pcie_fn_ops *ops, void *ctx,
                                         struct pcilab_err *err);
/* Function 0 of device 0 below port: pcie_fabric_add_function(f, port, 0, 0, ...). */
struct pcie_fn *pcie_fabric_add_endpoint(struct pcie_fabric *f, struct pcie_fn *port,
                                         struct pcie_cfg *cfg, const struct pcie_fn_ops *ops,
                                         void *ctx, struct pcilab_err *err);

/* ---- Looking at the tree ---- */

/* Every function in creation order (deterministic), index 0..count-1. */
size_t pcie_fabric_fn_count(const struct pcie_fabric *f);
struct pcie_fn *pcie_fabric_fn_at(const struct pcie_fabric *f, size_t i);
/* The function's place in that order (pcie_fabric_fn_at(f, i) == fn). */
size_t pcie_fn_index(const struct pcie_fn *fn);
/* The function that answers to bdf with the bus numbers programmed now, or NULL. */
struct pcie_fn *pcie_fabric_find(const struct pcie_fabric *f, uint16_t bdf);

struct pcie_fabric *pcie_fn_fabric(const struct pcie_fn *fn);
enum pcie_fn_kind pcie_fn_kind(const struct pcie_fn *fn);
struct pcie_cfg *pcie_fn_cfg(const struct pcie_fn *fn);
/* Label: the port desc name, or the ops name, or the kind name. */
const char *pcie_fn_name(const struct pcie_fn *fn);
const struct pcie_fn_ops *pcie_fn_ops(const struct pcie_fn *fn);
void *pcie_fn_ctx(const struct pcie_fn *fn);
void pcie_fn_set_ops(struct pcie_fn *fn, const struct pcie_fn_ops *ops, void *ctx);
/* The bridge whose secondary bus the function sits on (root port, switch
 * upstream or downstream port), NULL on the root bus. */
struct pcie_fn *pcie_fn_parent(const struct pcie_fn *fn);
/* For switch ports: their switch; else NULL. */
struct pcie_switch *pcie_fn_switch(const struct pcie_fn *fn);
/* devfn = dev << 3 | fn on its bus. */
unsigned pcie_fn_devfn(const struct pcie_fn *fn);
/* Bus number the function sits on now: the root bus, or the parent bridge's
 * Secondary Bus Number register. */
unsigned pcie_fn_bus(const struct pcie_fn *fn);
/* Its ID as software addresses it now: pcie_bdf(bus, dev, fn). */
uint16_t pcie_fn_bdf(const struct pcie_fn *fn);
/* "0000:01:00.0"; buf needs PCIE_FN_ADDR_LEN bytes. Returns buf. */
#define PCIE_FN_ADDR_LEN 16
char *pcie_fn_addr_str(const struct pcie_fn *fn, char *buf);

/* Requester ID capture, PCIe 5.0 2.2.6.2: "Functions must capture the Bus and
 * Device Numbers supplied with all Type 0 Configuration Write Requests
 * completed by the Function", and use them (with their own function number)
 * as requester/completer ID. Before the first such write the captured ID is
 * bus 0 device 0 and pcie_fn_has_captured() is false (the function must not
 * initiate non-posted requests then). Ports and host bridges are assigned
 * their IDs by the root complex/switch and report them as captured too. */
uint16_t pcie_fn_captured_bdf(const struct pcie_fn *fn);
bool pcie_fn_has_captured(const struct pcie_fn *fn);
/* The requester ID the function puts in the requests it builds with the
 * route.h helpers: the captured ID by default. A device model that hard-codes
 * another (e.g. soft IP that sends 0000 whatever it was assigned, the seed
 * case) sets it here; pcie_fn_send_tlp can always send any ID. */
void pcie_fn_set_requester_id(struct pcie_fn *fn, bool fixed, uint16_t rid);
uint16_t pcie_fn_requester_id(const struct pcie_fn *fn);

/* For a downstream-facing port: the link below it (NULL when nothing is
 * attached). For a function below a downstream port: the link above it. */
struct pcie_link *pcie_fn_link(const struct pcie_fn *fn);
/* Trains the link above or below fn (a downstream port, or a function of the
 * device below one) at speed (1 = 2.5 .. 5 = 32 GT/s) and width, below what
 * both ends support (a board strapped to Gen1, a x1 card in a x4 slot): the
 * link model's timing and every end's Link Status (7.5.3.8) follow. Errors:
 * no link, a rate above either end's maximum, or packets in flight. */
int pcie_fn_train_link(struct pcie_fn *fn, uint8_t speed, uint8_t width,
                       struct pcilab_err *err);
/* "00:02.1<->01:00.0" from the bus numbers programmed now; buf needs
 * PCIE_LINK_NAME_LEN bytes. For a function without a link: its "bb:dd.f". */
#define PCIE_LINK_NAME_LEN 40
char *pcie_fn_link_name(const struct pcie_fn *fn, char *buf);

/* ---- Where requests to system memory go ---- */

/* A request that reached the root complex from below and is not claimed by a
 * root-bus function's BAR: memory read/write to system memory, or an MSI. */
struct pcie_upstream_req {
    struct pcie_fabric *fabric;
    struct pcie_fn *ingress;        /* root port it came through; NULL from an RCiEP */
    struct pcie_fn *origin;         /* the function that sent it (whatever requester ID
                                       it carries); NULL: injected with no sender */
    const struct pcie_tlp *tlp;     /* decoded header (payload points into bytes) */
    const uint8_t *bytes;           /* the TLP as received */
    size_t nbytes;
    uint16_t requester_id;          /* from the TLP: what the IOMMU indexes by */
    bool write;                     /* MWr (else MRd) */
    uint64_t addr;                  /* first enabled byte (pcie_tlp_first_byte_addr) */
    uint32_t len;                   /* enabled bytes (pcie_tlp_byte_span); 0: zero-length read */
    const uint8_t *data;            /* write: the len bytes written */
};

/* The sink answers with a Completion Status (SC, UR or CA; for writes, which
 * are posted, anything but SC means the write was dropped and the error
 * logged at the root complex) and, for reads with SC, fills read_buf with len
 * bytes. *delay (0 on entry) may be raised by the time the sink takes (an
 * IOMMU table walk); the completion leaves the root complex after
 * memory_latency + *delay. */
typedef enum pcie_cpl_status (*pcie_upstream_fn)(void *ctx, const struct pcie_upstream_req *req,
                                                 uint8_t *read_buf, sim_time_t *delay);
/* Replaces the sink (NULL fn restores the default). The IOMMU model sits here
 * and calls pcie_fabric_system_access with the translated request. */
void pcie_fabric_set_upstream(struct pcie_fabric *f, pcie_upstream_fn fn, void *ctx);
/* The sink installed now (NULL fn: the default), so a wrapper can call it. */
void pcie_fabric_get_upstream(const struct pcie_fabric *f, pcie_upstream_fn *fn, void **ctx);

/* Memory the default sink reads and writes (not owned). Without one, every
 * memory request to system memory completes with UR. */
void pcie_fabric_set_memory(struct pcie_fabric *f, struct mem_addrmap *map);

/* MSI: a DW memory write to 0xFEE0_0000..0xFEEF_FFFF (the x86 interrupt
 * address range) is an interrupt message, not a memory write. */
#define PCIE_MSI_WINDOW_BASE 0xfee00000ull
#define PCIE_MSI_WINDOW_SIZE 0x00100000ull
typedef void (*pcie_interrupt_fn)(void *ctx, uint16_t requester_id, uint64_t addr,
                                  uint32_t data);
void pcie_fabric_set_interrupt_sink(struct pcie_fabric *f, pcie_interrupt_fn fn, void *ctx);

/* The default sink: MWr in the MSI window -> interrupt sink (UR when none),
 * MRd in the MSI window -> UR, else the memory map (UR when an address is
 * unclaimed or reserved, CA when an MMIO owner refuses). Callable by a sink
 * that replaced it (with a translated copy of req). */
enum pcie_cpl_status pcie_fabric_system_access(struct pcie_fabric *f,
                                               const struct pcie_upstream_req *req,
                                               uint8_t *read_buf, sim_time_t *delay);

#endif
