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
    struct host_kernel *kernel;  /* the DMA API mappings */
    const struct sim_log *log;   /* the kernel log: evidence */
    const struct diag_fn *fns;
    size_t nfns;
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

#define DIAG_EVIDENCE_MAX 2
#define DIAG_TEXT_MAX 192
struct diag_finding {
    enum diag_category category;
    enum diag_confidence confidence;
    struct diag_fault_sig sig;   /* the signature (copy) */
    const struct pcie_fn *named; /* the function the requester ID names, NULL when none */
    bool named_is_host_bridge;
    struct diag_sender sender;
    struct diag_dte dte;         /* the DTE the requester ID hits */
    struct diag_flag_bit flags[DIAG_FLAG_BITS];
    struct diag_owner owner;
    bool owner_has_sender;       /* a domain mapping the address holds the sender */
    uint16_t owner_domain;       /* that domain */
    struct diag_split split;
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
