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
 * Modelled: AMD-Vi IO_PAGE_FAULT and Intel VT-d DMAR DMA faults (every form
 * kmsg_vtd.c reads) of the requester-id-mismatch category (the device model,
 * ecp5_dma, can send any requester ID; src/devices/ecp5_dma.h), and of the
 * missing-mapping and permission categories (and driver-api-misuse when the
 * address is one the log printed as physical), where the QEMU edu device and
 * its driver's mistake= parameter (src/devices/edu.c, src/drivers/edu.c)
 * stand in for the user's device and driver on the built-in edu machine.
 * Other families, kinds and categories are refused with PCILAB_EUNSUPPORTED
 * and a sentence saying why.
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
    /* Intel VT-d DMA faults (dmar_fault_do_one; kmsg_vtd.c has the sources
     * per version, docs/linux/intel-iommu.md g what pcilab prints): */
    EXPLAIN_SIM_FORM_VTD_4_4,  /* 4.4 - 4.6: two records "DMAR:[DMA Write] Request device
                                  [%02x:%02x.%d] fault addr %llx" and "DMAR:[fault reason
                                  %02d] %s" -> 4.9.80, which prints the 4.7 form */
    EXPLAIN_SIM_FORM_VTD_4_7,  /* 4.7 - 4.20: one record "[DMA Write] Request device [..]
                                  fault addr %llx [fault reason %02d] %s" -> 4.9.80 */
    EXPLAIN_SIM_FORM_VTD_5_1,  /* 5.1 - 5.14: "... PASID %x fault addr %llx [fault reason
                                  %02d] %s" -> 5.15, which prints the 5.15 form */
    EXPLAIN_SIM_FORM_VTD_5_15, /* 5.15 - : "[DMA Write NO_PASID] ... fault addr 0x%llx
                                  [fault reason 0x%02x] %s" -> 6.1 (the edu machine's
                                  kernel, the one compared with a real boot) */
    EXPLAIN_SIM_FORM_VTD_SEG,  /* the 5.15 form with "[%04x:%02x:%02x.%d]" (a 7.x tree)
                                  -> 6.1, which prints no segment */
};
/* "4.9 two-record", "4.20", "5.x", "6.1 segment", "VT-d 4.4 two-record",
 * "VT-d 4.7", "VT-d 5.1 PASID", "VT-d 5.15", "VT-d segment", "unknown" */
const char *explain_sim_form_name(enum explain_sim_form f);
/* The form of kmsg's format name (kmsg.h struct kmsg.format: "amdvi-split",
 * "amdvi-4.x", "amdvi-dev-4.x", "amdvi-5.x", "amdvi-dev", "amdvi-6.1-seg" ...,
 * "vtd-4.4-split", "vtd-4.7", "vtd-5.1-pasid", "vtd-5.15[-pasid][-seg]");
 * UNKNOWN for anything else (the interrupt-remapping forms included). */
enum explain_sim_form explain_sim_form_of_format(const char *format);

/* One fault line's fields: an AMD-Vi IO_PAGE_FAULT or a VT-d DMA fault.
 * AMD-Vi: the requester is the device= field, or
 * for the per-device form ("ecp5_dma 0000:01:00.0: AMD-Vi: Event logged
 * [IO_PAGE_FAULT domain=...") the device the line is printed on: Linux
 * prints that form only when the requester ID names a device it knows. */
struct explain_sim_fault {
    enum kmsg_family family;  /* KMSG_FAM_AMDVI or KMSG_FAM_VTD */
    enum explain_sim_form form;
    bool has_rid;
    bool has_segment;       /* the line wrote one (6.1 form, dev_err prefix) */
    uint16_t segment, rid;  /* rid: bus << 8 | dev << 3 | fn */
    bool has_domain;
    uint32_t domain;
    bool has_addr;
    uint64_t addr;
    bool has_flags;
    uint32_t flags;         /* AMD-Vi */
    bool has_reason;
    uint32_t reason;        /* VT-d fault reason (VT-d spec Appendix A) */
    enum kmsg_dir dir;      /* VT-d: the "[DMA Read|Write" head; AMD-Vi: the flags' RW
                               bit (AMD 48882 2.5.3), KMSG_DIR_NONE without flags */
    char text[256];         /* the line as read (truncated) */
};

/* Reads one record's text (a "[ time]" prefix is skipped). Returns 0 and
 * fills *out, or -PCILAB_EINVAL (err filled) when the text is not an AMD-Vi
 * IO_PAGE_FAULT or VT-d DMA fault line. 4.9's first record ("AMD-Vi: Event
 * logged [" alone) is not a fault line; its second record is. VT-d 4.4's two
 * records are one line when given together (a newline, and the second's
 * "[ time]", between them are read as a space); either alone is not. */
int explain_sim_fault_parse(const char *text, size_t len, struct explain_sim_fault *out,
                            struct pcilab_err *err);

/* A driver's line naming a DMA handle with a direction ("store buffer: 4096
 * bytes at phys 0x2c6a000, handle 0xffff000 (DMA_FROM_DEVICE)"; explain.h
 * struct explain_dirline): what the log says the requester's driver mapped. */
struct explain_sim_map {
    uint64_t handle, size;        /* size 0: not said */
    bool has_phys;
    uint64_t phys;                /* "phys 0x..." on the same line */
    bool to_device;               /* DMA_TO_DEVICE, else DMA_FROM_DEVICE */
};
#define EXPLAIN_SIM_MAX_MAPS 8

/* What the log says about one finding. Zero it, then fill what is known. */
struct explain_sim_req {
    enum kmsg_family family;      /* KMSG_FAM_AMDVI or KMSG_FAM_VTD */
    enum kmsg_kind kind;          /* KMSG_AMDVI_IO_PAGE_FAULT, KMSG_VTD_DMA_FAULT */
    enum diag_category category;  /* requester-id-mismatch, missing-mapping, permission,
                                     driver-api-misuse (an address printed as physical) */
    char kernel[64];              /* release of the log's "Linux version" line, "" when none */
    struct explain_sim_fault line;/* the logged line: form, requester, domain, address,
                                     flags (explain_sim_fault_parse, or filled from kmsg) */
    enum kmsg_dir dir;            /* KMSG_DIR_NONE: from the flags' RW bit (AMD 48882 2.5.3) */
    enum lspci_role rid_role;     /* what the requester is, when lspci or the log says */
    bool has_device;              /* a driver printed on the sending device's BDF */
    uint16_t device_segment, device_bdf;
    char device_driver[32];       /* that driver's name, "" when none */
    char rid_driver[32];          /* the driver printing on the requester itself, "" */
    uint64_t count;               /* how many such lines the log has (0: unknown) */
    uint64_t transfers;           /* distinct times among them (0: assume one line each) */
    bool has_times;
    int64_t first_ns, last_ns;    /* the first and last line's times */
    size_t candidates;            /* devices the log offers as the sender (0 or 1: no choice) */
    struct explain_sim_map map[EXPLAIN_SIM_MAX_MAPS]; /* the requester's driver's mapping */
    size_t nmaps;                                     /* lines, in log order */
    uint64_t phys[EXPLAIN_SIM_MAX_MAPS]; /* other addresses the log printed on the requester */
    size_t nphys;                        /* (explain_ctx.phys), pages compared */
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
 * finding's senders), the driver's mapping lines on the requester
 * (explain_ctx.dirline) and lspci. db may be NULL. */
void explain_sim_req_from_finding(struct explain_sim_req *req, const struct explain *e,
                                  const struct explain_finding *f, const struct lspci_db *db);

#define EXPLAIN_SIM_MAX_SETS  8
#define EXPLAIN_SIM_MAX_NOTES 16
#define EXPLAIN_SIM_SET_LEN   96
#define EXPLAIN_SIM_NOTE_LEN  400

/* The edu driver's mistake= (src/drivers/edu.c) that makes the request's
 * fault, from its category, direction, address and the log's mapping lines:
 *   permission, write            write-to-device-map
 *   permission, read             read-from-device-map
 *   missing-mapping (write) or driver-api-misuse, at a page the log printed
 *     as a buffer's physical address                      phys-addr
 *   missing-mapping, write, at a FROM_DEVICE mapping's end (handle + size)
 *                                                          straddle-end
 *   missing-mapping, write, in a FROM_DEVICE mapping the log names (mapped
 *     for that direction, yet not there: it was unmapped)  use-after-unmap
 *   missing-mapping, write, anywhere else                  unmapped-iova
 * Returns the name, or NULL with why (a read from an unmapped address: no
 * mistake of the driver makes one; another category) in why. */
const char *explain_sim_edu_mistake(const struct explain_sim_req *req, char *why, size_t len);

/* The scenario for one request. */
struct explain_sim_scn {
    char *yaml;                   /* the scenario file's text (malloc) */
    char name[64];                /* its name: */
    char run_arg[32];             /* "seed" when the scenario is the built-in seed plus the
                                     --set keys below (then yaml is its `base: seed` form),
                                     "" when yaml must be loaded */
    char kernel[32];              /* the modelled release chosen: "4.9.80" ... */
    char label[32];               /* label of the sending function: "ecp5", "fpga", "edu" */
    char mistake[32];             /* the edu stand-in's mistake=, "" for the board */
    uint16_t device_segment, device_bdf; /* where it sits once enumerated */
    struct explain_sim_fault expect; /* the log's line, with its form */
    sim_time_t until;             /* how long to run: a few DMA periods after insmod */
    char seen[EXPLAIN_SIM_MAX_SETS][EXPLAIN_SIM_SET_LEN];  /* --set keys: the machine as seen */
    size_t nseen;
    char fixed[EXPLAIN_SIM_MAX_SETS][EXPLAIN_SIM_SET_LEN]; /* --set keys: seen + the fix */
    size_t nfixed;
    char fix[EXPLAIN_SIM_SET_LEN];/* the fix alone: "ecp5.requester_id=captured",
                                     "edu.mistake=ok" */
    char notes[EXPLAIN_SIM_MAX_NOTES][EXPLAIN_SIM_NOTE_LEN]; /* what was assumed, and why */
    size_t nnotes;
    bool from_dump;               /* the machine is the user's dump (config_from) */
};

/* Builds the scenario. Fails with -PCILAB_EUNSUPPORTED (err says what is
 * not modelled: other families, kinds, categories, a mistake no model makes) or
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

/* One compare, with per-family fields: a field the family's lines do not
 * carry is ABSENT (AMD-Vi: no reason; VT-d: no domain, no flags; the
 * direction is compared for VT-d, where the line prints it, and is part of
 * the flags for AMD-Vi). */
struct explain_sim_cmp {
    enum explain_sim_same family;  /* DIFFERS: a VT-d line against an AMD-Vi one */
    enum explain_sim_same requester, domain, address, flags, form;
    enum explain_sim_same direction, reason; /* VT-d */
    bool reproduced;        /* the same family and requester, and
                               AMD-Vi: the same flags, the domain the same or non-zero in both;
                               VT-d: the same direction and fault reason
                               (each field the log has) */
    bool exact;             /* reproduced, and the domain, address and form are the same */
};

/* logged: the log's line; run: the simulated one. The requester's segment
 * is compared only when both lines write one. */
void explain_sim_compare(const struct explain_sim_fault *logged,
                         const struct explain_sim_fault *run, struct explain_sim_cmp *out);
/* "matches the log's: requester, flags, domain; address differs: 0xffbf8000
 * vs 0xffff8000" (AMD-Vi), "matches the log's: requester, direction, reason,
 * address" (VT-d) into buf. */
void explain_sim_cmp_str(const struct explain_sim_cmp *c, const struct explain_sim_fault *logged,
                         const struct explain_sim_fault *run, char *buf, size_t len);

#endif
