/* Several remapping units on one root complex.
 *
 * A platform with more than one IOMMU in front of one PCI segment (Intel
 * VT-d: one DMA-remapping hardware unit per DRHD structure of the ACPI DMAR
 * table, VT-d 3.4 section 8.3) sends each request that reaches the root
 * complex from below to the unit that covers the function which sent it: the
 * units whose device scopes name that function (or a bridge above it), else
 * the segment's INCLUDE_PCI_ALL unit, else none (the request reaches memory
 * untranslated, and its interrupts are not remapped). The choice is
 * physical: where the request entered the root complex, not the requester ID
 * it carries (a function that sends a wrong requester ID is still translated
 * by its own unit, which then looks that wrong ID up).
 *
 * The router is the fabric's upstream sink (pcie_fabric_set_upstream) and
 * hands each request to its unit's adapter (iommu_fabric_request): the
 * unit's observer, statistics and fault handling are those of one IOMMU
 * attached alone. Choosing a unit is one array index per request and
 * allocates nothing.
 */
#ifndef PCILAB_IOMMU_ROUTER_H
#define PCILAB_IOMMU_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "iommu/iommu.h"
#include "sim/err.h"

struct pcie_fabric;
struct pcie_fn;
struct pcie_upstream_req;

#define IOMMU_ROUTER_MAX_UNITS 16

struct iommu_router;

/* A router for the functions f has now (functions added later go to the
 * default unit). NULL with err filled when out of memory. */
struct iommu_router *iommu_router_create(struct pcie_fabric *f, struct pcilab_err *err);
/* Frees the router. Detach it first if the fabric outlives it. NULL is fine. */
void iommu_router_destroy(struct iommu_router *r);

/* Requests sent by fn go to io (NULL: untranslated). -PCILAB_EINVAL when fn
 * is not one of the router's fabric's functions known at creation, or the
 * router already has IOMMU_ROUTER_MAX_UNITS other units. */
int iommu_router_set(struct iommu_router *r, const struct pcie_fn *fn, struct iommu *io,
                     struct pcilab_err *err);
/* The unit of every function iommu_router_set did not name, and of requests
 * with no known sender (NULL: untranslated). Same limit. */
int iommu_router_set_default(struct iommu_router *r, struct iommu *io, struct pcilab_err *err);

/* The unit that translates what fn sends (NULL: none). */
struct iommu *iommu_router_unit_of(const struct iommu_router *r, const struct pcie_fn *fn);
/* The unit a request goes to: its sender's, else (no sender) the root port it
 * came through's, else the default. */
struct iommu *iommu_router_route(const struct iommu_router *r, const struct pcie_upstream_req *req);

/* The distinct units the router sends to, in the order they were first set. */
size_t iommu_router_unit_count(const struct iommu_router *r);
struct iommu *iommu_router_unit_at(const struct iommu_router *r, size_t i);

/* Installs the router as the fabric's upstream sink; every unit joins the
 * fabric (iommu_join_fabric, no own requester ID: VT-d units are not PCI
 * functions). */
void iommu_router_attach(struct iommu_router *r);
/* Restores the fabric's default sink if the router is the one installed. */
void iommu_router_detach(struct iommu_router *r);

/* Requests that went to memory untranslated (their sender is in no unit). */
uint64_t iommu_router_untranslated(const struct iommu_router *r);

#endif
