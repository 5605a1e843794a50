/* The diagnosis of a simulation run's IOMMU faults: from what the recorder
 * (iommu_rec.h) saw and what the machine holds, one finding per fault
 * signature, every part derived from data (docs/diagnosis.md):
 *   - the offending TLP's header, decoded;
 *   - whom its requester ID names in the topology, and who really sent it:
 *     the functions below the root port the TLP came up through, with their
 *     device model and which of the model's requester-ID parameters produces
 *     the ID seen (e.g. write_rid=zero);
 *   - the Device Table Entry the requester ID selects, read from simulated
 *     memory (device table base from the IOMMU's MMIO register 0x0000, the
 *     MMIO block from the IOMMU capability's base address, AMD 48882 3.2.1,
 *     3.4.1) and decoded (amdvi_fmt.h);
 *   - the DMA API mapping that owns the faulting address: every domain whose
 *     I/O page table maps it, and the devices attached to each (host layer);
 *   - the sender's own traffic with its real ID (what translated, in which
 *     domain, with which rights) and its Max_Payload_Size split;
 *   - the category from issue 6's taxonomy, a confidence, the kernel log
 *     lines that are the evidence, and the parameter change that fixes it.
 * Nothing here prints: src/cli formats the report.
 */
#ifndef PCILAB_DIAG_IOMMU_DIAG_H
#define PCILAB_DIAG_IOMMU_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag/diag.h"
#include "diag/dma_watch.h"
#include "diag/iommu_rec.h"
#include "host/amd_iommu.h"
#include "iommu/amdvi_fmt.h"
#include "pcie/tlp.h"
#include "sim/err.h"

struct pcie_fabric;
struct pcie_fn;
struct mem_addrmap;
struct host_kernel;
struct sim_log;
struct dev_model;


/* One function of the machine as the caller knows it. */
struct diag_fn {
    const struct pcie_fn *fn;
    const char *label;           /* the scenario's name for it, "" when none */
    const struct dev_model *dev; /* attached device model, NULL when none */
};

/* What the analysis may look at. Every pointer but fabric may be NULL. */
struct diag_machine {
    struct pcie_fabric *fabric;
    struct mem_addrmap *map;     /* reads of the IOMMU registers and tables */
    const struct pcie_fn *iommu_fn; /* the AMD-Vi function (00:00.2) */
    struct vtd *vtd;             /* the VT-d unit that translates the fabric's DMA
                                    (the DRHD on its upstream path); NULL: AMD-Vi */
    struct host_kernel *kernel;  /* the DMA API mappings */
    const struct sim_log *log;   /* the kernel log: evidence */
    const struct diag_fn *fns;
    size_t nfns;
    /* the DMA watch of the run (dma_watch.h): every map and unmap with its
     * time, so a fault is explained by what was mapped WHEN it happened;
     * NULL: only the page tables after the run are known */
    const struct diag_dma_watch *watch;
};

/* A Device Table Entry as read from simulated memory. */
struct diag_dte {
    bool read;                   /* the entry could be read */
    bool beyond;                 /* the DeviceID is past the table's end */
    uint64_t mmio_base;          /* IOMMU register block */
    uint64_t table_pa;           /* Device Table Base Address (3.4.1) */
    uint32_t table_size;         /* bytes */
    uint64_t entry_pa;           /* table_pa + 32 * DeviceID */
    uint8_t raw[AMDVI_DTE_SIZE];
    struct amdvi_dte dte;
};

/* One AMD-Vi event flag bit (2.5.3) as this fault has it, and why. */
enum diag_flag_why {
    DIAG_WHY_NONE,
    DIAG_WHY_WRITE,              /* RW: the TLP is a memory write */
    DIAG_WHY_READ,               /* RW clear: a memory read */
    DIAG_WHY_DTE_PRESENT_NOPT,   /* PR: a valid DTE (V=1) without a page table (TV=0 or Mode 0) */
    DIAG_WHY_PTE_PRESENT,        /* PR: the page table walk found a present entry */
    DIAG_WHY_NOT_PRESENT,        /* PR clear: no present entry for the page */
    DIAG_WHY_DTE_NO_RIGHTS,      /* PE: IR/IW of the DTE refuse the access */
    DIAG_WHY_PTE_NO_RIGHTS,      /* PE: the page's rights refuse the access */
    DIAG_WHY_NOT_PERM,           /* PE clear */
    DIAG_WHY_OTHER,              /* any other bit: as the spec defines it */
};
struct diag_flag_bit {
    const char *name;            /* "PR", "RW", "PE", ... */
    unsigned bit;                /* bit of the event entry (48..56) */
    uint16_t mask;               /* AMDVI_EVF_* */
    bool set;
    enum diag_flag_why why;
};
#define DIAG_FLAG_BITS 9

#define DIAG_MAX_DEVIDS 16
/* The DMA API mapping that owns an address. */
struct diag_owner {
    size_t nmaps;                /* domains mapping the address */
    struct host_amd_iommu_mapping map[4];
    size_t ndevids[4];           /* devices attached to each */
    uint16_t devids[4][DIAG_MAX_DEVIDS];
};

/* Who really sent the TLP. */
struct diag_sender {
    const struct pcie_fn *fn;    /* NULL when not one function */
    size_t candidates;           /* functions below the ingress port */
    const struct pcie_fn *ingress; /* the root port the TLP came up through */
    uint16_t bdf;                /* its BDF now */
    const char *label;           /* "" when none */
    const struct dev_model *dev;
    const char *model;           /* "" without a model */
    const char *engine_key;      /* the model's rid parameter that yields the ID seen,
                                    e.g. "write_rid"; NULL when none */
    const char *engine_value;    /* its value, e.g. "zero" */
    bool has_rid_param;          /* the model has a "requester_id" parameter */
    bool own_domain_known;
    uint16_t own_domain;         /* the domain its real BDF is attached to */
    bool own_identity;
    struct diag_dte own_dte;     /* the DTE of its real BDF */
    /* its real ID's traffic in the other direction / the same one */
    struct diag_stream reads, writes;
    bool has_reads, has_writes;
    unsigned mps;                /* its Max_Payload_Size in effect (bytes), 0 unknown */
};

/* Why more payload means more faults. */
struct diag_split {
    uint64_t bytes_per_transfer; /* of the faulting stream, on average */
    unsigned tlps_per_transfer;  /* observed, most in one transfer */
    long tlps_expected;          /* pcie_split_write(first address, bytes, MPS) */
    unsigned mps;
    uint64_t transfers;
};

/* The driver's DMA mistake, in its own terms, read from the DMA API's
 * history at the time of the fault (the DMA watch), for a requester that is
 * who it claims to be:
 *   - unmapped-iova: the address is in no mapping the driver ever made for
 *     the device (and none of the cases below);
 *   - phys-addr: the address is the PHYSICAL address of one of the device's
 *     live buffers: the driver handed the device a physical address (or a
 *     virt_to_phys) instead of the DMA handle the DMA API returned;
 *   - direction: a live mapping covers the address, for the other
 *     direction: the device wrote into a DMA_TO_DEVICE mapping (read-only in
 *     the IOMMU page table) or read a DMA_FROM_DEVICE one (write-only);
 *   - use-after-unmap: a mapping covered the address, and the driver had
 *     unmapped it before the device's access;
 *   - past-end: the faulting page is the one right after the end of a live
 *     mapping of the device: a transfer longer than the buffer ran on.
 * The rights a direction gives in the page table are Linux's: dir2prot
 * (4.9.80 drivers/iommu/amd_iommu.c), dma_info_to_prot (6.1
 * drivers/iommu/dma-iommu.c): TO_DEVICE -> IOMMU_READ, FROM_DEVICE ->
 * IOMMU_WRITE, BIDIRECTIONAL -> both. */
enum diag_mistake {
    DIAG_MISTAKE_NONE,           /* unknown: no history, or not the device's own ID */
    DIAG_MISTAKE_UNMAPPED_IOVA,
    DIAG_MISTAKE_PHYS_ADDR,
    DIAG_MISTAKE_DIRECTION,
    DIAG_MISTAKE_USE_AFTER_UNMAP,
    DIAG_MISTAKE_PAST_END,
};
/* "unmapped-iova", "phys-addr", "direction", "use-after-unmap", "past-end",
 * "none". */
const char *diag_mistake_name(enum diag_mistake m);

/* What the faulting address was at the time of the first fault. */
struct diag_at_fault {
    bool known;                  /* the DMA watch's history was read */
    enum diag_mistake mistake;
    bool has_map;                /* map: the mapping the mistake is about */
    struct diag_dma_map map;
    bool pt_read, pt_write;      /* the rights map's direction gives in the page table */
    sim_time_t at;               /* the fault's time (sig.first) */
    size_t nlive;                /* the device's mappings live at that time */
};

#define DIAG_EVIDENCE_MAX 2
#define DIAG_TEXT_MAX 192
struct diag_finding {
    enum diag_category category;
    enum diag_confidence confidence;
    struct diag_fault_sig sig;   /* the signature (copy) */
    const struct pcie_fn *named; /* the function the requester ID names, NULL when none */
    bool named_is_host_bridge;
    struct diag_sender sender;
    struct diag_dte dte;         /* the DTE the requester ID hits (AMD-Vi) */
    struct diag_vtd vtd;         /* the VT-d entries it hit at the first fault (the
                                    recorder's snapshot, sig.vtd), else after the run */
    struct diag_flag_bit flags[DIAG_FLAG_BITS];
    struct diag_owner owner;
    bool owner_has_sender;       /* a domain mapping the address holds the sender */
    uint16_t owner_domain;       /* that domain */
    struct diag_split split;
    struct diag_at_fault at_fault;
    /* the kernel log lines of the first such fault */
    size_t nevidence;
    char evidence[DIAG_EVIDENCE_MAX][DIAG_TEXT_MAX];
    sim_time_t evidence_ts;
    uint64_t log_lines;          /* fault records of this signature in the log */
    /* the parameter change that fixes it: TARGET.KEY=VALUE for --set */
    bool fix_param;
    char fix_target[64], fix_key[32], fix_value[16];
};

/* A requester whose DMA translated without a fault. */
struct diag_clean {
    struct diag_stream st;
    const struct pcie_fn *fn;    /* the function its requester ID names */
    const char *label, *model;
    bool rid_is_own_bdf;         /* the ID is the BDF of the function below its port */
};

struct diag_report {
    struct diag_finding *findings;
    size_t n;
    struct diag_clean *clean;
    size_t nclean;
    struct diag_rec_totals totals;
};

/* Builds the report (free it with diag_report_free). Fails only for lack of
 * memory. */
int diag_analyse(const struct diag_rec *rec, const struct diag_machine *m,
                 struct diag_report *out, struct pcilab_err *err);
void diag_report_free(struct diag_report *r);

/* Reads the DTE of devid through the IOMMU function's registers. */
void diag_read_dte(const struct diag_machine *m, uint16_t devid, struct diag_dte *out);

#endif
