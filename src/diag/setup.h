/* Configuration notes: what the booted kernel's configuration (version,
 * command line, IOMMU mode, interrupt remapping, what each driver got) and
 * the device models' settings (payload, requester IDs, MSI) did to a run,
 * why, and which rule of Linux or of the specifications says so
 * (docs/variations.md). Built from the machine after the run; nothing here
 * prints (src/cli/run_setup.c does) and nothing is global.
 *
 * One note per thing that matters, in a fixed order: the kernel and its
 * IOMMU mode (off, soft, force, pt, the default, or a machine without an
 * IOMMU), the MSI vectors the seed's board got and what happened to its
 * UART interrupts, the DMA mask, the payload against one page and against
 * Max_Payload_Size. Every note is derived from the machine that ran: the
 * ECP5 board's notes and advice (its requester ID, its MSI vectors, its
 * payload) appear only when the machine has that board (model ecp5_dma);
 * other machines get what applies to their own devices (their models,
 * drivers and DMA domains). Each note has
 * a stable key, a one-line title, an explanation whose numbers come from the
 * run, the source of the rule (file:line of the version's Linux tree, or the
 * specification's section) and the alternatives a user has. */
#ifndef PCILAB_DIAG_SETUP_H
#define PCILAB_DIAG_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/kernel.h"
#include "scenario/build.h"
#include "sim/err.h"

enum diag_setup_id {
    DIAG_SETUP_IOMMU_DEFAULT, /* no iommu= option: translated DMA domains */
    DIAG_SETUP_IOMMU_OFF,
    DIAG_SETUP_IOMMU_SOFT,
    DIAG_SETUP_IOMMU_FORCE,
    DIAG_SETUP_IOMMU_PT,
    DIAG_SETUP_MSI_VECTORS,   /* the board's MSI vectors and its UART interrupts */
    DIAG_SETUP_DMA_MASK,
    DIAG_SETUP_PAYLOAD_PAGE,  /* the write runs past the buffer's page */
    DIAG_SETUP_PAYLOAD_MPS,   /* the write is split into several TLPs */
    DIAG_SETUP_NO_IOMMU,      /* the machine has no IOMMU (no IVRS, no DMAR): direct DMA */
    DIAG_SETUP_VTD_OFF,       /* VT-d present, DMA remapping off (intel_iommu=off, or the
                                 version's default) */
};

#define DIAG_SETUP_MAX_NOTES 10
#define DIAG_SETUP_MAX_ALTS 4
#define DIAG_SETUP_MAX_DEVS 8

struct diag_setup_note {
    enum diag_setup_id id;
    const char *key;             /* "iommu=soft", "msi-vectors", "payload-page" ... */
    char title[192];
    char text[1600];
    char source[1024];
    unsigned nalt;
    char alt[DIAG_SETUP_MAX_ALTS][400];
};

/* What the notes were derived from, as read from the machine. */
struct diag_setup_facts {
    char version[32];
    bool no_iommu, soft, force, pt;  /* iommu=off / soft / force / pt (or
                                        iommu.passthrough=1 where it exists) */
    bool amdvi;                      /* the AMD IOMMU driver translates */
    /* VT-d (the DMAR's DRHDs; host/intel_iommu.h) */
    size_t vtd_units;                /* remapping units the machine has */
    bool vtd_dma;                    /* the Intel IOMMU driver enabled DMA remapping */
    bool vtd_irq_remap;              /* it enabled interrupt remapping */
    bool vtd_lazy;                   /* unmaps go through a flush queue (lazy) */
    bool dmar_disabled;              /* dmar_disabled after the command line */
    bool intel_off_cmdline;          /* "intel_iommu=off" is on the command line */
    bool intel_default_on;           /* the version's default (dmar_disabled starts 0) */
    bool irq_remap;                  /* AMD-Vi interrupt remapping is on */
    uint64_t faults;                 /* event log entries the driver handled */
    /* the ECP5 board (model ecp5_dma), when the machine has one */
    bool board;
    char board_bdf[8];
    uint16_t board_rid;              /* what its write engine puts in MWr headers */
    bool board_driver;               /* a driver is bound and enabled MSI */
    unsigned msi_capable;            /* Multiple Message Capable, vectors */
    unsigned msi_enabled;            /* Multiple Message Enable, vectors (0: MSI off) */
    bool msix_cap;                   /* the function has an MSI-X capability */
    unsigned nvec;                   /* vectors the driver got */
    bool msi_remapped;
    char irq_sharing[16];            /* the driver's parameter, "" when unknown */
    uint64_t uart_events;            /* UART events the board raised (UART_COUNT) */
    uint64_t uart_folded;            /* of their MSIs: sent as vector 0's message */
    uint64_t uart_lost;              /* arrived where no handler looks at the UART */
    unsigned dma_bits;               /* the device's DMA mask, bits */
    uint64_t handle;                 /* the board's DMA address registers */
    uint64_t payload;                /* bytes per cycle */
    unsigned mps;                    /* Max_Payload_Size, bytes */
    uint64_t cycles, write_tlps;
    bool handle_domain;              /* the board's RID has a translating DTE */
    uint16_t board_domain;           /* its domain id when handle_domain */
    /* pages of [handle + 4096 - handle % 4096, handle + payload) that the
     * board's own domain maps (another buffer of a device in the same
     * domain: no fault, that buffer is overwritten), and those it does not
     * (IO_PAGE_FAULT); the first mapped one */
    uint64_t overrun_mapped, overrun_unmapped, overrun_first_mapped;
    uint16_t overrun_sharers[8];     /* other DeviceIDs in the board's domain */
    unsigned n_overrun_sharers;
    bool dte0_blocks_writes;         /* DTE of 00:00.0: V=1, TV=1, IW=0 */
    bool dte0_read;                  /* dte0_blocks_writes was read from memory */
    /* the machine's IOMMU hardware: functions with the iommu capability */
    size_t iommu_fns;
    /* the device models with a bound driver, in the machine's order */
    struct diag_setup_dev {
        char bdf[8];
        const char *model;           /* "edu" */
        const char *driver;          /* "edu" */
        bool domain_known, identity; /* its AMD-Vi domain or VT-d DID */
        uint16_t domain;
        int unit;                    /* VT-d: its DRHD (dmar<unit>), -1 none or AMD-Vi */
        bool unit_ignored;           /* the kernel ignores that unit (no translation) */
        bool unit_gfx;               /* the unit covers only graphics devices */
    } devs[DIAG_SETUP_MAX_DEVS];
    size_t ndevs;
};

struct diag_setup {
    struct diag_setup_facts facts;
    size_t n;
    struct diag_setup_note notes[DIAG_SETUP_MAX_NOTES];
};

/* Reads the machine after a run and writes the notes. k: the booted kernel
 * (non-NULL); sys: the machine. Fails only on a NULL argument
 * (PCILAB_EINVAL). */
int diag_setup_explain(struct host_kernel *k, const struct scn_system *sys,
                       struct diag_setup *out, struct pcilab_err *err);

/* The note with that id, NULL when the run gave none. */
const struct diag_setup_note *diag_setup_find(const struct diag_setup *s, enum diag_setup_id id);

#endif
