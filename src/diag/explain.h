/* pcilab explain (issue 6): from a real kernel log (klog.h records, each
 * recognised by kmsg.h) and optionally the machine's lspci output (lspci.h),
 * what happened, why, and what to change.
 *
 * The explainer is fed records in log order. It
 *   - joins a KMSG_PARTIAL record with the next one (4.9's two-record
 *     "AMD-Vi: Event logged [" / "IO_PAGE_FAULT ...]" form, a line wrapped
 *     in a mail with no time prefix on its second half);
 *   - keeps the context the log gives (kernel version, command line, IOMMU
 *     on/off, IOMMU groups, which driver printed on which BDF);
 *   - groups fault events into signatures: family, kind, requester, direction,
 *     domain, flags or reason, address page (or, past a few pages of one key,
 *     an address range), with count, first/last time and line numbers;
 *   - counts the records it does not recognise and keeps the first few.
 * Memory is bounded (explain_opts caps); counts keep going past the caps.
 *
 * explain_analyse then turns each signature into a finding: a category of
 * diag.h's taxonomy with a confidence, the evidence lines, the alternatives
 * ruled out and why, the decoded fields, the address and the requester
 * classified, the fixes and what to collect. Every rule reads parsed fields
 * (docs/explain.md lists them); none knows a particular address or device.
 * Nothing here prints: src/cli/cmd_explain.c formats the report.
 */
#ifndef PCILAB_DIAG_EXPLAIN_H
#define PCILAB_DIAG_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag/diag.h"
#include "diag/klog.h"
#include "diag/kmsg.h"
#include "diag/lspci.h"
#include "sim/err.h"

struct explain_opts {
    size_t max_sigs;          /* fault signatures kept (0: 64) */
    size_t max_evidence;      /* evidence lines kept per signature (0: 6) */
    size_t max_unrecognised;  /* unrecognised lines kept (0: 5) */
    const struct lspci_db *lspci; /* NULL without --lspci; must outlive the explainer */
};

/* Where a message came from in the log. */
struct explain_src {
    uint64_t line, line_last;
    bool has_mono;
    int64_t mono_ns;
    const char *text;         /* the record's text (may be NULL in tests) */
    size_t len;
};

/* ---- what the log says about the machine ---- */

enum explain_iommu_state { EXPLAIN_IOMMU_UNKNOWN, EXPLAIN_IOMMU_ON, EXPLAIN_IOMMU_OFF };

#define EXPLAIN_MAX_DEVS 64
struct explain_dev {
    uint16_t segment, bdf;
    char driver[32];          /* the last driver that printed on it, "" when none */
    bool enumerated;          /* a "pci 0000:..." enumeration line named it */
    bool has_class;
    uint32_t class_code;      /* from "class 0x060000" in the enumeration line */
    bool has_group;
    uint32_t group;
    uint64_t first_line;
};

#define EXPLAIN_MAX_ADDRS 16
struct explain_range {
    uint64_t start, end;      /* inclusive */
    uint64_t line;
};

/* A driver's line on a device that names DMA addresses with a direction
 * ("store buffer ... handle 0xffff000 (DMA_TO_DEVICE)"): the log's own
 * word on how a buffer was mapped. */
#define EXPLAIN_MAX_DIRLINES 16
#define EXPLAIN_DIRLINE_ADDRS 4
struct explain_dirline {
    uint16_t segment, bdf;
    bool to_device;           /* DMA_TO_DEVICE: the device may only read; else
                                 DMA_FROM_DEVICE: it may only write */
    uint64_t addr[EXPLAIN_DIRLINE_ADDRS]; /* the 0x... numbers, not "phys 0x..." */
    size_t naddr;
    uint64_t size;            /* "N bytes", 0 when none */
    uint64_t line, line_last;
    char text[240];
};

struct explain_ctx {
    char kernel[64];          /* "4.9.80" ..., "" when not seen */
    char cmdline[256];
    enum explain_iommu_state iommu;
    uint64_t iommu_line;      /* the line that said so */
    char iommu_text[96];
    struct explain_dev dev[EXPLAIN_MAX_DEVS];
    size_t ndev;
    uint64_t dev_dropped;
    size_t nprinters;         /* devices some driver (not pci, not pcieport) printed on */
    struct explain_range phys[EXPLAIN_MAX_ADDRS]; /* addresses context lines printed */
    size_t nphys;
    struct explain_range reserved[EXPLAIN_MAX_ADDRS]; /* RMRR / IVMD / unity ranges */
    size_t nreserved;
    struct explain_dirline dirline[EXPLAIN_MAX_DIRLINES]; /* the last ones */
    size_t ndirline;
    uint64_t overflow_line;   /* AMD-Vi event log overflow seen (0: not) */
    uint64_t context_records;
};

/* ---- fault signatures ---- */

struct explain_line {
    uint64_t line, line_last;
    char text[240];
};

struct explain_sig {
    enum kmsg_family family;
    enum kmsg_kind kind;
    char format[32];
    bool has_bdf;
    uint16_t segment, bdf;
    bool has_printer;
    char printer_driver[32];
    uint16_t printer_segment, printer_bdf;
    bool has_domain;
    uint32_t domain;
    bool has_flags;
    uint32_t flags;
    bool has_reason;
    uint32_t reason;
    bool has_pasid;
    uint32_t pasid;
    enum kmsg_dir dir;
    bool has_addr;
    uint64_t addr;            /* the first event's address */
    uint64_t addr_min, addr_max;
    uint64_t npages;          /* distinct pages seen (1 until a range) */
    bool range;               /* several pages merged into this signature */
    uint64_t number;
    char detail[192];
    uint64_t count;
    bool has_time;
    int64_t first_ns, last_ns;
    uint64_t first_line, last_line;
    struct explain_line *evidence; /* max_evidence entries */
    size_t nevidence;
};

/* ---- findings ---- */

enum explain_fix_kind {
    EXPLAIN_FIX_DRIVER,
    EXPLAIN_FIX_DEVICE_LOGIC,
    EXPLAIN_FIX_KERNEL_PARAMETER,
    EXPLAIN_FIX_PCI_QUIRK,
    EXPLAIN_FIX_FIRMWARE,
};
/* "driver", "device-logic", "kernel-parameter", "pci-quirk", "firmware" */
const char *explain_fix_kind_name(enum explain_fix_kind k);

struct explain_fix {
    enum explain_fix_kind kind;
    bool not_a_fix;           /* a change people try that does not fix it */
    char text[480];
    char cost[240];           /* what it costs (safety, memory), "" when nothing */
};

struct explain_field {
    char key[24];             /* "flags", "flags.PR", "reason", "address", ... */
    char value[480];
};

struct explain_ruled {
    enum diag_category category;
    char why[400];
};

/* What the log and lspci say about the requester. */
enum explain_req_role {
    EXPLAIN_REQ_UNKNOWN,      /* nothing known */
    EXPLAIN_REQ_HOST_BRIDGE,
    EXPLAIN_REQ_ROOT_PORT,
    EXPLAIN_REQ_BRIDGE,
    EXPLAIN_REQ_IOMMU,
    EXPLAIN_REQ_ENDPOINT,
    EXPLAIN_REQ_NO_DEVICE,    /* lspci (or the log's enumeration) has no function there */
};
/* "unknown", "host bridge", "root port", "bridge", "iommu", "endpoint", "no device" */
const char *explain_req_role_name(enum explain_req_role r);

struct explain_requester {
    bool known;               /* the event named one */
    uint16_t segment, bdf;
    enum explain_req_role role;
    char name[160];           /* lspci's name, "" when none */
    char driver[32];          /* from lspci or the log, "" when none */
    char how[200];            /* how the role is known: "lspci", "x86 convention" ... */
    uint16_t path[8];         /* lspci_path: the function first, up to its root */
    size_t npath;
    bool suspicious;          /* names no DMA master: RID evidence */
};

#define EXPLAIN_MAX_FIELDS 20
#define EXPLAIN_MAX_RULED 8
#define EXPLAIN_MAX_FIXES 6
#define EXPLAIN_MAX_COLLECT 8
#define EXPLAIN_MAX_SENDERS 4

struct explain_finding {
    const struct explain_sig *sig;
    enum diag_category category;
    enum diag_confidence confidence;
    char what[200];           /* one line: what happened */
    char why[480];            /* why, in a sentence or two */
    char change[320];         /* what to change, in a sentence */
    struct explain_requester req;
    /* the devices that may really have sent it (endpoints with a driver) */
    uint16_t sender_bdf[EXPLAIN_MAX_SENDERS];
    char sender_driver[EXPLAIN_MAX_SENDERS][32];
    size_t nsenders;
    struct explain_field field[EXPLAIN_MAX_FIELDS];
    size_t nfields;
    struct explain_ruled ruled[EXPLAIN_MAX_RULED];
    size_t nruled;
    struct explain_fix fix[EXPLAIN_MAX_FIXES];
    size_t nfixes;
    char collect[EXPLAIN_MAX_COLLECT][160];
    size_t ncollect;
};

struct explain_unrec_line {
    uint64_t line;
    char text[160];
};

struct explain_counts {
    uint64_t records;         /* records seen (after joins) */
    uint64_t recognised;      /* faults + context */
    uint64_t faults;          /* fault events grouped */
    uint64_t context;
    uint64_t partial_joins;   /* records joined after KMSG_PARTIAL */
    uint64_t partial_dropped; /* a partial head whose next record did not complete it */
    uint64_t unrecognised;
    uint64_t sigs_dropped;    /* events with no room for their signature */
};

struct explain;

/* NULL when out of memory. */
struct explain *explain_create(const struct explain_opts *opts);
void explain_destroy(struct explain *e);

/* A klog_rec_fn: parses rec with kmsg_parse and adds it. Always returns 0. */
int explain_klog_rec(void *e, const struct klog_rec *rec);
/* Adds one parsed message (tests feed struct kmsg values through this). */
void explain_add(struct explain *e, const struct kmsg *m, const struct explain_src *src);
/* A record no parser knew. */
void explain_add_unrecognised(struct explain *e, const struct explain_src *src);
/* End of input: a pending partial record is counted as unrecognised. */
void explain_finish(struct explain *e);

/* Builds the findings, most important first. Call after explain_finish;
 * may be called again (it starts over). Fails only out of memory. */
int explain_analyse(struct explain *e, struct pcilab_err *err);

size_t explain_nfindings(const struct explain *e);
const struct explain_finding *explain_finding_at(const struct explain *e, size_t i);
size_t explain_nsigs(const struct explain *e);
const struct explain_sig *explain_sig_at(const struct explain *e, size_t i);
const struct explain_ctx *explain_context(const struct explain *e);
const struct explain_counts *explain_get_counts(const struct explain *e);
/* The first few unrecognised lines. */
size_t explain_nunrec(const struct explain *e);
const struct explain_unrec_line *explain_unrec_at(const struct explain *e, size_t i);

#endif
