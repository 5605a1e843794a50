/* Reading what `lspci` printed on the user's machine (pcilab explain
 * --lspci FILE, issue 6): any mix of `lspci -tv` (the tree), `lspci -nn`,
 * `lspci -v`/`-vv`/`-vvv` (capabilities, "Kernel driver in use") and a
 * configuration dump (`lspci -x`/`-xxx`/`-xxxx`, read with the same reader
 * the scenario files use: pcie/cfgdump.h), with or without `-D` domains,
 * pasted with the same damage klog.h tolerates. What it yields: one entry per
 * function with what the text says about it, and the topology (who is
 * whose parent) from the tree, or from bridges' bus numbers in a dump.
 */
#ifndef PCILAB_DIAG_LSPCI_H
#define PCILAB_DIAG_LSPCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"

enum lspci_role {
    LSPCI_ROLE_UNKNOWN,
    LSPCI_ROLE_HOST_BRIDGE,   /* class 0600 */
    LSPCI_ROLE_ROOT_PORT,     /* Express Root Port (capability or tree position) */
    LSPCI_ROLE_BRIDGE,        /* other PCI-to-PCI bridge: switch port, PCIe-to-PCI */
    LSPCI_ROLE_ENDPOINT,
    LSPCI_ROLE_RCIEP,         /* Root Complex Integrated Endpoint */
    LSPCI_ROLE_IOMMU,         /* class 0806 / AMD IOMMU function */
};
const char *lspci_role_name(enum lspci_role r);

struct lspci_fn {
    uint16_t segment, bdf;    /* bus << 8 | dev << 3 | fn */
    bool has_ids;
    uint16_t vendor, device;
    bool has_class;
    uint32_t class_code;      /* 24-bit class, e.g. 0x060000 */
    char name[160];           /* "Host bridge: Advanced Micro Devices, Inc. [AMD] ..." */
    char driver[32];          /* "Kernel driver in use", "" when not given */
    enum lspci_role role;
    bool has_parent;          /* the bridge above it (tree or bus numbers) */
    uint16_t parent_bdf;
    uint8_t secondary, subordinate; /* bridges: bus range, when known */
    bool has_config;          /* a configuration dump was given */
    uint8_t config[4096];
    size_t config_len;        /* 64, 256 or 4096 */
};

struct lspci_db {
    struct lspci_fn *fn;      /* sorted by (segment, bdf) */
    size_t n;
    /* The first problem tolerated rather than fatal: a configuration dump
     * block the dump reader rejected (its lines are then skipped and
     * counted); code 0 when there was none. */
    struct pcilab_err note;
};

/* Parses text (any of the forms above, mixed); name is the file name for
 * messages. Lines it cannot place are skipped and counted in *skipped
 * (may be NULL). Fails (negative PCILAB_E*, err names file:line) only on
 * contradictions it cannot resolve or out of memory. */
int lspci_parse(struct lspci_db *db, const char *text, size_t len, const char *name,
                size_t *skipped, struct pcilab_err *err);
void lspci_free(struct lspci_db *db);

const struct lspci_fn *lspci_find(const struct lspci_db *db, uint16_t segment, uint16_t bdf);
/* The chain from fn up to its root port / host bridge: fills up to max BDFs,
 * fn first; returns the chain's length. */
size_t lspci_path(const struct lspci_db *db, const struct lspci_fn *fn, uint16_t *out, size_t max);

#endif
