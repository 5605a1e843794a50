/* One interface for every IOMMU architecture (AMD-Vi, Intel VT-d).
 *
 * A hardware IOMMU model (amdvi.h, vtd.h) fills a struct iommu with its ops
 * and its state. Everything above it (the fabric adapter below, the host
 * kernel's IOMMU drivers through the model's registers, benchmarks, tests)
 * asks for translations through iommu_translate and for interrupt remapping
 * through iommu_remap_msi, whatever the architecture.
 *
 * What travels is what the hardware sees of a request: the requester ID from
 * the TLP header, an optional PASID (TLP prefix), the address and size, the
 * access (read, write, execute; privileged), and whether the request claims to
 * carry an already translated address (PCIe 5.0 2.2.4.1, Address Type AT:
 * 00b untranslated, 10b translated). The answer is either a physical address
 * with the permissions the translation grants and the size of the page it
 * came from, or a fault: a generic kind common to all architectures, the
 * architecture's own code (AMD-Vi event code and flags, VT-d fault reason)
 * and the PCIe completion status the root complex must return.
 *
 * Time: each answer says how long the IOMMU took (IOTLB hit latency, or the
 * table reads of a walk); the fabric adapter adds it to the completion delay.
 *
 * Fast path: iommu_translate on an IOTLB hit allocates nothing.
 */
#ifndef PCILAB_IOMMU_IOMMU_H
#define PCILAB_IOMMU_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "pcie/tlp.h"
#include "sim/err.h"
#include "sim/time.h"

struct pcie_fabric;
struct pcie_upstream_req;
struct pcilab_sim;

/* Access rights, as requested and as granted. */
#define IOMMU_PERM_R 0x1u
#define IOMMU_PERM_W 0x2u
#define IOMMU_PERM_X 0x4u

struct iommu_req {
    uint16_t rid;          /* requester ID: bus << 8 | device << 3 | function */
    bool has_pasid;        /* a PASID TLP prefix was present (PCIe 5.0 6.20) */
    bool priv;             /* Privileged Mode Requested (with a PASID) */
    uint32_t pasid;        /* 20 bits */
    uint64_t addr;         /* first byte */
    uint32_t size;         /* bytes, >= 1 (a zero-length read is size 1) */
    uint8_t access;        /* IOMMU_PERM_R or IOMMU_PERM_W, X only with R */
    bool translated;       /* AT = 10b: the address was translated by ATS */
};

/* What went wrong, in words common to every architecture. */
enum iommu_fault_kind {
    IOMMU_FAULT_NONE = 0,
    IOMMU_FAULT_DEVICE_INVALID,  /* no valid device table / context entry */
    IOMMU_FAULT_DEVICE_ENTRY,    /* the device / context entry is malformed */
    IOMMU_FAULT_NOT_PRESENT,     /* no translation for the address (page not present) */
    IOMMU_FAULT_PERMISSION,      /* present, but the access is not allowed */
    IOMMU_FAULT_PAGE_TABLE,      /* a page table entry is malformed (reserved bits, level) */
    IOMMU_FAULT_ADDRESS,         /* the address is beyond what the tables cover */
    IOMMU_FAULT_HW_ERROR,        /* reading a table failed (master/target abort) */
    IOMMU_FAULT_TRANSLATED,      /* a translated request that is not allowed */
    IOMMU_FAULT_INTERRUPT,       /* an interrupt blocked or not remappable */
    IOMMU_FAULT_REQUEST,         /* a request of a kind the IOMMU refuses (e.g. to its own range) */
};
/* "none", "invalid device entry", "malformed device entry", "page not present",
 * "permission", "malformed page table", "address out of range", "hardware error",
 * "translated request refused", "interrupt blocked", "invalid request". */
const char *iommu_fault_kind_name(enum iommu_fault_kind k);

struct iommu_result {
    bool ok;                     /* translated: pa is valid */
    uint64_t pa;                 /* physical address of req->addr */
    uint8_t perm;                /* rights the translation grants (IOMMU_PERM_*) */
    uint8_t page_shift;          /* log2 of the translation's size: 12, 21, 30 ...;
                                    64 for untranslated pass-through */
    uint16_t domain;             /* domain ID the request was looked up in */
    bool iotlb_hit;
    /* On a fault: */
    enum iommu_fault_kind fault;
    uint16_t arch_code;          /* AMD-Vi event code, VT-d fault reason */
    uint16_t arch_flags;         /* AMD-Vi event flags; VT-d: 0 */
    bool logged;                 /* an event / fault record was written */
    enum pcie_cpl_status cpl;    /* what the root complex answers (SC when ok) */
    sim_time_t latency;          /* time the IOMMU took */
};

/* An MSI as the device sent it, and as it leaves the IOMMU. */
struct iommu_msi {
    uint64_t addr;
    uint32_t data;
};

struct iommu_irq_result {
    bool ok;                     /* deliver `out` */
    struct iommu_msi out;        /* remapped (or passed through) message */
    enum iommu_fault_kind fault; /* IOMMU_FAULT_INTERRUPT and friends when !ok */
    uint16_t arch_code;
    bool logged;
    sim_time_t latency;
};

struct iommu_ops {
    const char *arch;            /* "amd-vi", "vt-d" */
    void (*translate)(void *hw, const struct iommu_req *req, struct iommu_result *res);
    void (*remap_msi)(void *hw, uint16_t rid, const struct iommu_msi *in,
                      struct iommu_irq_result *res);
    /* Back to the state after power-on: registers, caches, logs. */
    void (*reset)(void *hw);
    /* True when `addr` (a write from rid) is an interrupt message the IOMMU
     * must remap rather than translate (the x86 interrupt window). */
    bool (*is_interrupt)(void *hw, uint16_t rid, uint64_t addr);
};

struct iommu_stats {
    uint64_t translations, faults, iotlb_hits, iotlb_misses;
    uint64_t interrupts, interrupts_blocked;
    uint64_t passthrough;        /* requests the adapter let through untranslated */
};

/* An observer of the fabric adapter (iommu_attach_fabric): called after every
 * translation of a memory request that came up through the fabric, faulting
 * or not, with the TLP as it reached the root complex (up: its bytes, decoded
 * header and the root port it came through), the request the IOMMU was asked
 * and its answer. Interrupt remapping and the IOMMU's own requests are not
 * observed. The observer must not send TLPs or change the IOMMU; whatever it
 * keeps it copies (the pointers are valid only during the call). Unset (NULL,
 * the default) it costs one predictable branch per request and nothing on
 * iommu_translate's own path. */
typedef void (*iommu_observer_fn)(void *ctx, const struct pcie_upstream_req *up,
                                  const struct iommu_req *req, const struct iommu_result *res);

/* The common handle: a model fills ops and hw (its own state). */
struct iommu {
    const struct iommu_ops *ops;
    void *hw;
    char name[32];               /* "AMD-Vi 0000:00:00.2" */
    struct iommu_stats stats;
    /* Fabric attachment (iommu_attach_fabric). */
    struct pcie_fabric *fabric;
    uint16_t own_rid;            /* the IOMMU's own requester ID: its writes bypass it */
    bool has_own_rid;
    iommu_observer_fn observer;  /* iommu_set_observer; NULL: none */
    void *observer_ctx;
};

static inline void iommu_translate(struct iommu *io, const struct iommu_req *req,
                                   struct iommu_result *res)
{
    io->ops->translate(io->hw, req, res);
    io->stats.translations++;
    if (!res->ok)
        io->stats.faults++;
    if (res->iotlb_hit)
        io->stats.iotlb_hits++;
    else if (res->ok)
        io->stats.iotlb_misses++;
}

void iommu_remap_msi(struct iommu *io, uint16_t rid, const struct iommu_msi *in,
                     struct iommu_irq_result *res);
void iommu_reset(struct iommu *io);

/* Puts the IOMMU between the fabric's root complex and system memory
 * (pcie_fabric_set_upstream): every upstream memory request is translated
 * (or, in the interrupt window, remapped) before it reaches memory or the
 * interrupt sink; faults complete with the status the model chose. Requests
 * from own_rid (has_own_rid) pass untranslated: the IOMMU does not translate
 * its own table and log accesses nor remap its own interrupts. */
void iommu_attach_fabric(struct iommu *io, struct pcie_fabric *f, bool has_own_rid,
                         uint16_t own_rid);
void iommu_detach_fabric(struct iommu *io);
/* What the adapter does with one upstream request, for a sink that chose
 * this IOMMU itself (iommu/router.h: several units on one root complex):
 * io must have joined the fabric (iommu_join_fabric or iommu_attach_fabric). */
enum pcie_cpl_status iommu_fabric_request(struct iommu *io, const struct pcie_upstream_req *req,
                                          uint8_t *read_buf, sim_time_t *delay);
/* Records the fabric the IOMMU sits in (where its translated requests go and
 * its own requester ID) without installing it as the fabric's sink. */
void iommu_join_fabric(struct iommu *io, struct pcie_fabric *f, bool has_own_rid,
                       uint16_t own_rid);
/* Installs (fn non-NULL) or removes (fn NULL) the one observer; replaces any
 * previous one. */
void iommu_set_observer(struct iommu *io, iommu_observer_fn fn, void *ctx);

/* "R", "W", "RW", "RX", "RWX", "-": buf needs 4 bytes. */
const char *iommu_perm_str(uint8_t perm, char *buf);

#endif
