/* pcilab explain --simulate (issue 6): from one finding of a real kernel log,
 * a pcilab scenario whose run prints the same fault line, and the change that
 * removes it (docs/explain-simulate.md).
 *
 * explain_sim_build turns a request (what the log, and optionally lspci, say
 * about one fault signature) into a scenario: YAML text for the scenario
 * loader (scenario.h; `base: seed` when the log is consistent with the seed's
 * machine), plus two lists of `--set` keys (scn_set, docs/scenarios.md): the
 * machine "as seen" (the device model sending what the log shows) and
 * "fixed" (the same plus the fix), and the assumptions made, in words.
 * explain_sim_fault_parse reads an AMD-Vi IO_PAGE_FAULT line (the log's or a
 * run's) into its fields; explain_sim_compare says, field by field, whether a
 * run's line is the log's. Running the scenario is src/cli's business
 * (src/cli/explain_sim_run.h): this layer cannot run a machine.
 *
 * Modelled: AMD-Vi IO_PAGE_FAULT of the requester-id-mismatch category (the
 * device model, ecp5_dma, can send any requester ID; src/devices/ecp5_dma.h).
 * Intel VT-d is issue 7 and has no IOMMU model yet: such a request is
 * refused with PCILAB_EUNSUPPORTED and a sentence saying so; so are the other
 * families, kinds and categories.
 */
#ifndef PCILAB_DIAG_EXPLAIN_SIM_H
#define PCILAB_DIAG_EXPLAIN_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag/diag.h"
#include "diag/explain.h"
#include "diag/kmsg.h"
#include "diag/lspci.h"
#include "pcie/cfgdump.h"
#include "sim/err.h"
#include "sim/time.h"

/* The printed form of an AMD-Vi IO_PAGE_FAULT, which tells the kernel
 * version apart when the log has no "Linux version" line (the format strings,
 * per version: src/host/amd_iommu_irq.c, docs/linux/amd-iommu.md a). */
enum explain_sim_form {
    EXPLAIN_SIM_FORM_UNKNOWN = 0,
    EXPLAIN_SIM_FORM_4_9,  /* 4.9 - 4.19: two records, "AMD-Vi: Event logged [" then
                              "IO_PAGE_FAULT device=%02x:%02x.%x domain=0x%04x
                              address=0x%016llx flags=0x%04x]" (4.9.80 amd_iommu.c
                              iommu_print_event) -> modelled by 4.9.80 */
    EXPLAIN_SIM_FORM_4_20, /* one record, "AMD-Vi: Event logged [IO_PAGE_FAULT
                              device=... address=0x%016llx ...]" or the dev_err form
                              (4.20 amd_iommu_report_page_fault) -> 4.20.17 */
    EXPLAIN_SIM_FORM_5_15, /* pr_fmt "AMD-Vi: ", address=0x%llx, device=%02x:%02x.%x
                              or the pci_err form (5.x, 6.0) -> 5.15 */
    EXPLAIN_SIM_FORM_6_1,  /* device=%04x:%02x:%02x.%x with the PCI segment (6.1 -) -> 6.1 */
};
/* "4.9 two-record", "4.20", "5.x", "6.1 segment", "unknown" */
const char *explain_sim_form_name(enum explain_sim_form f);
/* The form of kmsg's format name (kmsg.h struct kmsg.format: "amdvi-split",
 * "amdvi-4.x", "amdvi-dev-4.x", "amdvi-5.x", "amdvi-dev", "amdvi-6.1-seg" ...);
 * UNKNOWN for anything else. */
enum explain_sim_form explain_sim_form_of_format(const char *format);

/* One IO_PAGE_FAULT line's fields. The requester is the device= field, or
 * for the per-device form ("ecp5_dma 0000:01:00.0: AMD-Vi: Event logged
 * [IO_PAGE_FAULT domain=...") the device the line is printed on: Linux
 * prints that form only when the requester ID names a device it knows. */
struct explain_sim_fault {
    enum explain_sim_form form;
    bool has_rid;
    bool has_segment;       /* the line wrote one (6.1 form, dev_err prefix) */
    uint16_t segment, rid;  /* rid: bus << 8 | dev << 3 | fn */
    bool has_domain;
    uint32_t domain;
    bool has_addr;
    uint64_t addr;
    bool has_flags;
    uint32_t flags;
    char text[256];         /* the line as read (truncated) */
};

/* Reads one record's text (a "[ time]" prefix is skipped). Returns 0 and
 * fills *out, or -PCILAB_EINVAL (err filled) when the text is not an AMD-Vi
 * IO_PAGE_FAULT line. 4.9's first record ("AMD-Vi: Event logged [" alone)
 * is not a fault line; its second record is. */
int explain_sim_fault_parse(const char *text, size_t len, struct explain_sim_fault *out,
                            struct pcilab_err *err);

/* What the log says about one finding. Zero it, then fill what is known. */
struct explain_sim_req {
    enum kmsg_family family;      /* KMSG_FAM_AMDVI is modelled; KMSG_FAM_VTD is issue 7 */
    enum kmsg_kind kind;          /* KMSG_AMDVI_IO_PAGE_FAULT */
    enum diag_category category;  /* DIAG_REQUESTER_ID_MISMATCH is modelled */
    char kernel[64];              /* release of the log's "Linux version" line, "" when none */
    struct explain_sim_fault line;/* the logged line: form, requester, domain, address,
                                     flags (explain_sim_fault_parse, or filled from kmsg) */
    enum kmsg_dir dir;            /* KMSG_DIR_NONE: from the flags' RW bit (AMD 48882 2.5.3) */
    enum lspci_role rid_role;     /* what the requester is, when lspci or the log says */
    bool has_device;              /* a driver printed on the sending device's BDF */
    uint16_t device_segment, device_bdf;
    char device_driver[32];       /* that driver's name, "" when none */
    uint64_t count;               /* how many such lines the log has (0: unknown) */
    uint64_t transfers;           /* distinct times among them (0: assume one line each) */
    bool has_times;
    int64_t first_ns, last_ns;    /* the first and last line's times */
    size_t candidates;            /* devices the log offers as the sender (0 or 1: no choice) */
    const struct lspci_db *lspci; /* optional (lspci.h), not kept */
    /* The user's configuration dump (lspci -x/-xxx/-xxxx), read with the
     * scenario files' own reader (pcie/cfgdump.h pcie_dump_load), and its
     * file as a scenario's config_from takes it (an absolute path is best).
     * With both, the scenario's machine is the dump's (docs/explain-simulate.md
     * "Machine"); either NULL: the seed's or the generic machine. Not kept. */
    const struct pcie_dump *dump;
    const char *dump_file;
    const char *dump_name;        /* the dump's name in messages (NULL: dump_file) */
    const char *dump_error;       /* a dump was given but its reader refused it: why
                                     (file:line:col); the request is refused with it */
};

/* Fills a request's family, kind, form, requester, domain, address, flags,
 * direction and printer (as the device, when it differs from the requester)
 * from one parsed message. The rest (kernel, category, count, times, role,
 * lspci) is the caller's. */
void explain_sim_req_from_kmsg(struct explain_sim_req *req, const struct kmsg *m);

/* The whole request from one finding of pcilab explain (explain.h): the
 * signature's line, count and times, the log's kernel version, the
 * requester's role, the device a driver printed on (the first of the
 * finding's senders) and lspci. db may be NULL. */
void explain_sim_req_from_finding(struct explain_sim_req *req, const struct explain *e,
                                  const struct explain_finding *f, const struct lspci_db *db);

#define EXPLAIN_SIM_MAX_SETS  8
#define EXPLAIN_SIM_MAX_NOTES 16
#define EXPLAIN_SIM_SET_LEN   96
#define EXPLAIN_SIM_NOTE_LEN  400

/* The scenario for one request. */
struct explain_sim_scn {
    char *yaml;                   /* the scenario file's text (malloc) */
    char name[64];                /* its name: */
    char run_arg[32];             /* "seed" when the scenario is the built-in seed plus the
                                     --set keys below (then yaml is its `base: seed` form),
                                     "" when yaml must be loaded */
    char kernel[32];              /* the modelled release chosen: "4.9.80" ... */
    char label[32];               /* label of the sending function: "ecp5", "fpga" */
    uint16_t device_segment, device_bdf; /* where it sits once enumerated */
    struct explain_sim_fault expect; /* the log's line, with its form */
    sim_time_t until;             /* how long to run: a few DMA periods after insmod */
    char seen[EXPLAIN_SIM_MAX_SETS][EXPLAIN_SIM_SET_LEN];  /* --set keys: the machine as seen */
    size_t nseen;
    char fixed[EXPLAIN_SIM_MAX_SETS][EXPLAIN_SIM_SET_LEN]; /* --set keys: seen + the fix */
    size_t nfixed;
    char fix[EXPLAIN_SIM_SET_LEN];/* the fix alone: "ecp5.requester_id=captured" */
    char notes[EXPLAIN_SIM_MAX_NOTES][EXPLAIN_SIM_NOTE_LEN]; /* what was assumed, and why */
    size_t nnotes;
    bool from_dump;               /* the machine is the user's dump (config_from) */
};

/* Builds the scenario. Fails with -PCILAB_EUNSUPPORTED (err says what is
 * not modelled: VT-d is issue 7, other families, kinds, categories) or
 * -PCILAB_EINVAL (the request contradicts itself: no requester, the
 * requester is the device itself for a requester-ID mismatch, a bus no
 * root port can reach); *out is then empty. Free with explain_sim_scn_free. */
int explain_sim_build(const struct explain_sim_req *req, struct explain_sim_scn *out,
                      struct pcilab_err *err);
void explain_sim_scn_free(struct explain_sim_scn *s);

/* ---- comparing a run's line with the log's ---- */

enum explain_sim_same {
    EXPLAIN_SIM_ABSENT = 0, /* one of the lines does not carry the field */
    EXPLAIN_SIM_SAME,
    EXPLAIN_SIM_DIFFERS,
};

struct explain_sim_cmp {
    enum explain_sim_same requester, domain, address, flags, form;
    bool reproduced;        /* requester and flags are the same, and the domain is the same
                               or non-zero in both (each field the log has) */
    bool exact;             /* reproduced, and the domain, address and form are the same */
};

/* logged: the log's line; run: the simulated one. The requester's segment
 * is compared only when both lines write one. */
void explain_sim_compare(const struct explain_sim_fault *logged,
                         const struct explain_sim_fault *run, struct explain_sim_cmp *out);
/* "matches the log's: requester, flags, domain; address differs: 0xffbf8000
 * vs 0xffff8000" into buf. */
void explain_sim_cmp_str(const struct explain_sim_cmp *c, const struct explain_sim_fault *logged,
                         const struct explain_sim_fault *run, char *buf, size_t len);

#endif
