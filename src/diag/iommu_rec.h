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
 * The tables are fixed arrays inside the recorder: the observer allocates
 * nothing. Signatures and streams beyond the capacity are counted, not kept.
 */
#ifndef PCILAB_DIAG_IOMMU_REC_H
#define PCILAB_DIAG_IOMMU_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/iommu.h"
#include "pcie/tlp.h"
#include "sim/time.h"

struct pcie_fn;

#define DIAG_REC_MAX_SIGS    32
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
