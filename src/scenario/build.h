/* Turning a scenario description (scenario.h) into a running machine on a
 * struct pcilab_sim: physical memory and the address map, the PCI Express
 * fabric (pcie/topology.h) with every function's configuration space built
 * from the description (or from an lspci dump, config_from / machine_from),
 * links trained at the description's speeds and widths, and the device model
 * each function's `model:` names attached with its `params:` (devices/devices.h).
 *
 * Hardware fields follow the PCI Express Base Specification 5.0 (PCIe 5.0).
 *
 * Ownership: the system and everything it builds belong to the sim
 * (sim_own); sim_destroy frees them. After a failed build the sim may hold
 * part of a machine: destroy it. The description may be freed after the
 * build (the system copies what it keeps).
 *
 * Typical use (pcilab lspci):
 *     scn_load_file -> sim_create(m.seed) -> scn_build -> scn_enumerate
 *     -> scn_system_write_dump(sys, stdout, 4096, 0, &err) -> sim_destroy
 */
#ifndef PCILAB_SCENARIO_BUILD_H
#define PCILAB_SCENARIO_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mem/addrmap.h"
#include "mem/physmem.h"
#include "pcie/enumerate.h"
#include "pcie/topology.h"
#include "scenario/scenario.h"
#include "sim/err.h"
#include "sim/sim.h"

struct dev_model;

/* One function of the built machine, in the description's order. */
struct scn_sysfn {
    struct pcie_fn *fn;          /* the fabric's function */
    enum scn_kind kind;
    char name[SCN_NAME_MAX];     /* label from the description, "" when none */
    char model[SCN_NAME_MAX];    /* device model to attach, "" = configuration space only */
    unsigned nparams;
    struct scn_param *params;    /* copies, in file order */
    struct dev_model *dev;       /* the attached model (owned by the sim), NULL when none */
    int parent;                  /* index of the bridge above, -1 on the root bus */
    char file[SCN_PATH_MAX];     /* where the function is described (scenario or dump) */
    unsigned line, col;
};

/* An IOMMU of the built machine: the hardware model behind a function with
 * the iommu capability (AMD-Vi, iommu/amdvi.h), attached to the fabric. */
#define SCN_MAX_IOMMUS 8
struct amdvi;
struct iommu;
struct scn_sysiommu {
    struct pcie_fn *fn;          /* its PCI function (00:00.2) */
    size_t index;                /* that function's index (scn_system_at) */
    uint16_t devid;              /* its requester ID */
    struct amdvi *amdvi;
    struct iommu *iommu;         /* the common handle */
};

struct scn_system;

/* Builds the machine and attaches its device models. On success *out is the
 * system (owned by sim). Errors name the scenario file:line:col of the function
 * concerned (for machine_from, the dump's line), including an unknown model or
 * model parameter. */
int scn_build(const struct scn_machine *m, struct pcilab_sim *sim, struct scn_system **out,
              struct pcilab_err *err);

/* Runs Linux-like enumeration (pcie/enumerate.h): bus numbers, BARs, bridge
 * windows. rep may be NULL (else free it with pcie_enum_report_free). A
 * machine_from system was enumerated by its real machine already: nothing is
 * changed and rep stays empty. Running it twice re-enumerates. */
int scn_enumerate(struct scn_system *s, struct pcie_enum_report *rep, struct pcilab_err *err);
/* True once bus numbers are assigned (scn_enumerate ran, or machine_from). */
bool scn_system_configured(const struct scn_system *s);

struct pcilab_sim *scn_system_sim(const struct scn_system *s);
struct pcie_fabric *scn_system_fabric(const struct scn_system *s);
struct mem_phys *scn_system_ram(const struct scn_system *s);
struct mem_addrmap *scn_system_addrmap(const struct scn_system *s);
/* The machine's IOMMUs, in description order. */
size_t scn_system_iommu_count(const struct scn_system *s);
const struct scn_sysiommu *scn_system_iommu(const struct scn_system *s, size_t i);
/* The VT-d units (one per DRHD of firmware: dmar:), in DRHD order. */
struct vtd;
struct iommu_router;
size_t scn_system_vtd_count(const struct scn_system *s);
struct vtd *scn_system_vtd(const struct scn_system *s, size_t i);
/* The router that sends each function's requests to its DRHD's unit
 * (iommu/router.h), NULL when the machine has no DRHD. */
struct iommu_router *scn_system_vtd_router(const struct scn_system *s);

/* Machine name and the scenario file it came from. */
const char *scn_system_name(const struct scn_system *s);

/* Functions in the description's order (depth first). */
size_t scn_system_count(const struct scn_system *s);
const struct scn_sysfn *scn_system_at(const struct scn_system *s, size_t i);
/* By label or by "BB:DD.F" / "SSSS:BB:DD.F" as addressed now; NULL when none. */
const struct scn_sysfn *scn_system_find(const struct scn_system *s, const char *name);
/* The function's param value, NULL when absent. */
const char *scn_sysfn_param(const struct scn_sysfn *f, const char *key);

/* Indices (into scn_system_at) of every function sorted by segment, bus,
 * device, function as addressed now: idx must hold scn_system_count entries.
 * -PCILAB_EINVAL when two functions answer to the same BDF (not enumerated). */
int scn_system_bdf_order(const struct scn_system *s, size_t *idx, struct pcilab_err *err);

/* Writes every function's configuration space in BDF order in the pciutils
 * dump format (pcie/cfgdump.h): bytes 64 (lspci -x), 256 (-xxx) or 4096
 * (-xxxx); flags PCIE_DUMP_DOMAINS prints domains. `lspci -F FILE` reads it.
 * Needs scn_system_configured (else two functions share bus numbers). */
int scn_system_write_dump(const struct scn_system *s, FILE *out, unsigned bytes, unsigned flags,
                          struct pcilab_err *err);

#endif
