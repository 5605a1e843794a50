/* The fault recorder: what a simulation run's IOMMU did with the DMA of each
 * requester, kept for the diagnosis (iommu_diag.h).
 *
 * It sits on the IOMMU's observer hook (iommu_set_observer, iommu.h), so it
 * sees every memory request that came up through the fabric with the TLP
 * bytes that carried it, the request the IOMMU was asked and its answer, and
 * keeps two tables:
 *   - fault signatures: faults grouped by (requester ID, direction, domain,
 *     architecture code and flags, fault kind, 4 KiB page), with a count,
 *     first and last time, bytes, how many transfers they came from, the
 *     first faulting TLP (header bytes and decoded header) and the root port
 *     it came up through;
 *   - streams: every requester ID and direction, faulting or not: TLPs,
 *     translated and faulted, bytes, the domain and rights of the last
 *     successful translation, transfers and TLPs per transfer.
 * A transfer is a run of TLPs of one stream each starting where the previous
 * one ended (what MPS and 4 KiB splitting make of one DMA write or read).
 *
 * For a VT-d unit it also keeps, per signature, the root entry, context
 * entry and second-level walk the first faulting TLP hit, read at that
 * moment (diag_rec_set_vtd).
 *
 * The tables are fixed arrays inside the recorder: the observer allocates
 * nothing. Signatures and streams beyond the capacity are counted, not kept.
 */
#ifndef PCILAB_DIAG_IOMMU_REC_H
#define PCILAB_DIAG_IOMMU_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/iommu.h"
#include "iommu/vtd.h"
#include "iommu/vtd_fmt.h"
#include "pcie/tlp.h"
#include "sim/time.h"

struct pcie_fn;
struct mem_addrmap;

/* VT-d: what the requester ID and the faulting address hit in the unit's
 * tables, read from simulated memory through the unit's registers (RTADDR 10.4.6, GSTS 10.4.5, CAP 10.4.2, FSTS 10.4.9) and
 * decoded with vtd_fmt.h: the root entry of the bus (9.1), the context
 * entry of the device and function (9.3) and the second-level walk to the
 * address (3.7, 9.8), level by level. */
#define DIAG_VTD_LEVELS 5
struct diag_vtd_level {
    unsigned level;              /* 5 .. 1 (1: the PTE) */
    uint64_t table_pa;           /* the table this entry is in */
    unsigned index;              /* address bits of this level */
    uint64_t entry_pa;
    uint64_t raw;
    struct vtd_sl_pte pte;
    bool present;                /* R or W set (VT-d has no present bit) */
    bool leaf;                   /* maps a page (level 1, or PS at 2 or 3) */
};
/* Why the unit gave this fault reason, from the entries read. */
enum diag_vtd_why {
    DIAG_VTD_WHY_NONE,           /* not worked out (reason without a rule here) */
    DIAG_VTD_WHY_ROOT_NOT_PRESENT,  /* reason 1: the bus's root entry has P=0 */
    DIAG_VTD_WHY_CTX_NOT_PRESENT,   /* reason 2: the device's context entry has P=0 */
    DIAG_VTD_WHY_NOT_PRESENT,    /* reasons 5/6: an entry of the walk has R=W=0 */
    DIAG_VTD_WHY_NO_WRITE,       /* reason 5: the translation is present without W */
    DIAG_VTD_WHY_NO_READ,        /* reason 6: present without R */
    DIAG_VTD_WHY_PASID_DIR_NOT_PRESENT, /* scalable mode: the PASID directory entry has P=0 */
    DIAG_VTD_WHY_PASID_NOT_PRESENT, /* scalable mode: the PASID table entry has P=0 */
    DIAG_VTD_WHY_CHANGED,        /* reasons 5/6, but the tables now allow the access
                                    (mapped again after the fault) */
};
struct diag_vtd {
    bool read;                   /* the unit's registers were read */
    uint64_t mmio_base;          /* the DRHD's register page */
    uint32_t gsts, fsts;
    uint64_t cap, rtaddr;
    uint64_t root_table;         /* RTADDR.RTA */
    unsigned nfr;                /* fault recording registers (CAP.NFR + 1) */
    struct vtd_stats stats;      /* the unit's counters (recorded, dropped ...) */
    /* the root entry of the requester's bus */
    bool root_read;
    uint64_t root_pa;            /* root_table + 16 x bus */
    uint8_t root_raw[VTD_ROOT_ENTRY_SIZE];
    struct vtd_root_entry root;
    /* the context entry of its device and function */
    bool ctx_read;
    uint64_t ctx_table, ctx_pa;  /* CTP, CTP + 16 x devfn */
    uint8_t ctx_raw[VTD_CTX_ENTRY_SIZE];
    struct vtd_context_entry ctx;
    /* scalable mode (RTADDR.TTM 01b): the root entry's halves (9.2), the
     * 256-bit context entry at CTP + 32 x (devfn & 0x7f) (9.4), the PASID
     * directory entry (9.5) and PASID table entry (9.6) of the request's
     * PASID (RID_PASID for a request without one); root_pa/ctx_pa/ctx_table
     * above are filled the same way, root/ctx/ctx_raw are not */
    bool sm;
    struct vtd_sm_root_entry sm_root;
    uint8_t sm_ctx_raw[VTD_SM_CTX_ENTRY_SIZE];
    struct vtd_sm_context_entry sm_ctx;
    uint32_t pasid;
    bool pdir_read;
    uint64_t pdir_pa, pdir_raw;
    struct vtd_pasid_dir_entry pdir;
    bool pasid_read;
    uint64_t pasid_pa;
    uint8_t pasid_raw[VTD_PASID_ENTRY_SIZE];
    struct vtd_pasid_entry pe;
    /* the second-level walk to the faulting address (legacy TT 0/1, or
     * scalable-mode PGTT second-level) */
    unsigned nlevels;            /* entries read, from the top */
    struct diag_vtd_level lv[DIAG_VTD_LEVELS];
    bool walk_r, walk_w;         /* R and W AND-ed over the levels read */
    bool leaf_found;             /* the walk reached a present leaf */
    enum diag_vtd_why why;
    /* the fault recording register FSTS.FRI points at (10.4.14), when
     * FSTS.PPF was set at the time of the read */
    bool frcd_read;
    unsigned frcd_index;
    struct vtd_fault_record frcd;
};

/* Reads v's registers (through map: CAP, GSTS, RTADDR, FSTS, the fault
 * recording register at FSTS.FRI), the root and context entries of rid and
 * the second-level walk to addr, and works out why the access (write or
 * read) was refused. Pure reads: nothing in the unit changes. */
void diag_vtd_read(struct mem_addrmap *map, struct vtd *v, uint16_t rid, uint64_t addr,
                   bool write, struct diag_vtd *out);
/* Why in words; never NULL. */
const char *diag_vtd_why_name(enum diag_vtd_why w);


#define DIAG_REC_MAX_SIGS    32
#define DIAG_REC_MAX_UNITS   8   /* VT-d units observed at once (diag_rec_attach_vtd) */
#define DIAG_REC_MAX_STREAMS 64
#define DIAG_TLP_HDR_MAX     16  /* 4 DW header (PCIe 5.0 2.2.1) */

struct diag_fault_sig {
    /* the key */
    uint16_t rid;                 /* requester ID from the TLP header */
    bool write;                   /* MWr (else MRd) */
    uint16_t domain;              /* domain the IOMMU looked the request up in */
    uint16_t arch_code, arch_flags; /* AMD-Vi event code and flags */
    enum iommu_fault_kind kind;
    uint64_t page;                /* address >> 12 */
    /* what was seen */
    uint64_t count;               /* faulting TLPs */
    uint64_t bytes;               /* their payload (writes) / requested bytes (reads) */
    uint64_t transfers;           /* distinct transfers they belong to */
    uint64_t logged;              /* of count: an event was written to the log */
    sim_time_t first, last;
    uint64_t first_addr;          /* first byte of the first faulting TLP */
    uint32_t first_len;
    uint8_t hdr[DIAG_TLP_HDR_MAX];/* the first faulting TLP's header bytes */
    size_t hdr_len;
    struct pcie_tlp tlp;          /* its decoded header (payload NULL) */
    const struct pcie_fn *ingress;/* root port it came up through; NULL: root bus */
    uint64_t last_xfer;           /* internal: transfer number last counted */
    /* VT-d (diag_rec_set_vtd, diag_rec_attach_vtd): the unit that
     * translated it (part of the key: a machine with several DRHDs), and its
     * entries for the first faulting TLP, read at that moment (the driver
     * may unmap the page later) */
    struct vtd *unit;
    bool has_vtd;
    struct diag_vtd vtd;
};

struct diag_stream {
    uint16_t rid;
    bool write;
    const struct pcie_fn *ingress;
    uint64_t tlps, ok, faults;
    uint64_t bytes, ok_bytes;     /* bytes requested / translated successfully */
    uint64_t transfers;
    unsigned max_tlps_per_xfer;
    uint32_t max_tlp_len;
    bool any_ok;
    uint16_t ok_domain;           /* domain of the last successful translation */
    uint8_t ok_perm;              /* rights it granted (IOMMU_PERM_*) */
    uint8_t ok_page_shift;
    uint64_t ok_addr, ok_pa;      /* its address and where it went */
    uint64_t first_addr;
    /* internal: transfer tracking */
    uint64_t next_addr;
    unsigned cur_tlps;
};

struct diag_rec;

/* NULL when out of memory. */
struct diag_rec *diag_rec_create(void);
/* Detaches (when attached) and frees. NULL is fine. */
void diag_rec_destroy(struct diag_rec *r);

/* Installs the recorder as io's observer (replacing any); one IOMMU at a
 * time: attaching again moves it. */
void diag_rec_attach(struct diag_rec *r, struct iommu *io);
void diag_rec_detach(struct diag_rec *r);
/* VT-d: at the first fault of each signature the recorder reads the unit's
 * root and context entries and the walk (diag_vtd_read) through map. v
 * NULL: no snapshot (AMD-Vi). */
void diag_rec_set_vtd(struct diag_rec *r, struct mem_addrmap *map, struct vtd *v);
/* Several VT-d units (one per DRHD, iommu/router.h): observes unit v as well
 * as those attached before, with its snapshots through map; each signature
 * names its unit. -1 when DIAG_REC_MAX_UNITS are attached already.
 * diag_rec_detach (and diag_rec_attach) remove them all. */
int diag_rec_attach_vtd(struct diag_rec *r, struct mem_addrmap *map, struct vtd *v);
/* Forgets everything recorded (stays attached). */
void diag_rec_clear(struct diag_rec *r);

/* The observer itself (iommu_observer_fn), for callers that chain hooks. */
void diag_rec_observe(void *ctx, const struct pcie_upstream_req *up, const struct iommu_req *req,
                      const struct iommu_result *res);

size_t diag_rec_sig_count(const struct diag_rec *r);
/* In order of first occurrence. */
const struct diag_fault_sig *diag_rec_sig_at(const struct diag_rec *r, size_t i);
size_t diag_rec_stream_count(const struct diag_rec *r);
const struct diag_stream *diag_rec_stream_at(const struct diag_rec *r, size_t i);
/* The stream of (rid, write), NULL when none was seen. */
const struct diag_stream *diag_rec_stream_find(const struct diag_rec *r, uint16_t rid, bool write);

struct diag_rec_totals {
    uint64_t translations, faults;
    uint64_t sigs_dropped;        /* faults whose signature did not fit */
    uint64_t streams_dropped;     /* requests whose stream did not fit */
};
void diag_rec_totals(const struct diag_rec *r, struct diag_rec_totals *out);

#endif
