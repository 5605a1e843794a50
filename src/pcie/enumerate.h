/* PCI enumeration and resource assignment, as Linux does it at boot on a
 * machine whose firmware left everything unconfigured (facts from Linux
 * drivers/pci/probe.c and setup-bus.c, read, not copied).
 *
 * Everything is done by configuration requests through the fabric
 * (route.h pcie_host_cfg_*): CfgRd0/CfgWr0 on the root bus, Type 1 beyond,
 * converted by the bridges (PCIe 5.0 7.3.3); absent functions answer UR and
 * read Vendor ID 0xFFFF.
 *
 * Scan (probe.c pci_scan_child_bus / pci_scan_slot / pci_scan_bridge_extend,
 * "pass 1" since nothing is configured): depth first; on each bus, devices
 * 0..31 (only device 0 below a PCIe downstream port: Linux's only_one_child),
 * function 0 first, functions 1..7 only when function 0's Header Type has
 * the multi-function bit (PCIe 5.0 7.5.1.1.9); each function's BARs are sized
 * (write all-ones, read back, restore; 7.5.1.2.1). Then each bridge in devfn
 * order gets Primary = this bus, Secondary = max + 1, Subordinate = 0xff,
 * its bus is scanned, and Subordinate is set to the largest bus found below.
 *
 * Resources (setup-bus.c): windows sized bottom-up (memory 1 MiB, I/O 4 KiB
 * granularity, PCIe 5.0 7.5.1.3.6/7.5.1.3.8/7.5.1.3.9), assigned top-down
 * from the root complex's apertures, largest alignment first, naturally
 * aligned; prefetchable BARs go to a bridge's prefetchable window (64-bit:
 * above 4 GiB when the root complex has a 64-bit aperture, as Linux prefers
 * for 64-bit resources), everything else below 4 GiB. Expansion ROMs are not
 * assigned. Command registers are left as found (Linux enables a device and
 * the bridges above it only in pci_enable_device: pcie_enum_enable below).
 * Hot-plug bus/window reservation is not modelled. */
#ifndef PCILAB_PCIE_ENUMERATE_H
#define PCILAB_PCIE_ENUMERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcie/topology.h"
#include "sim/err.h"

enum pcie_res_type { PCIE_RES_IO, PCIE_RES_MEM, PCIE_RES_BUS };

/* A resource as Linux prints it with %pR. */
struct pcie_res {
    enum pcie_res_type type;
    uint64_t start, end;     /* inclusive */
    bool mem64;              /* " 64bit" */
    bool pref;               /* " pref" */
    bool disabled;           /* window closed: "[mem disabled]" */
};

enum pcie_enum_step_kind {
    PCIE_ENUM_DEVICE,        /* pci BDF: [vvvv:dddd] type 00 class 0x0c0330 */
    PCIE_ENUM_BAR,           /* pci BDF: reg 0x10: [mem 0x00000000-0x00000fff 64bit] */
    PCIE_ENUM_BUSN_UPDATED,  /* pci_bus SSSS:BB: busn_res: [bus 01-ff] end is updated to 02 */
    PCIE_ENUM_ASSIGNED,      /* pci BDF: BAR 0: assigned [mem ...] */
    PCIE_ENUM_NO_SPACE,      /* pci BDF: BAR 0: no space for [mem size 0x...] */
    PCIE_ENUM_BRIDGE_BUSES,  /* pci BDF: PCI bridge to [bus 01-02] */
    PCIE_ENUM_BRIDGE_WINDOW, /* pci BDF:   bridge window [mem ...] */
};

struct pcie_enum_step {
    enum pcie_enum_step_kind kind;
    uint16_t bdf;            /* the function; BUSN_UPDATED: bus << 8 */
    uint16_t vendor_id, device_id;
    uint8_t header_type;     /* without the multi-function bit */
    uint32_t class_code;
    unsigned reg;            /* BAR: config offset (0x10..0x24) */
    unsigned index;          /* ASSIGNED/NO_SPACE: Linux resource number: 0..5 BARs,
                                13 I/O window, 14 memory window, 15 prefetchable window */
    struct pcie_res res;     /* BAR, ASSIGNED, BRIDGE_* */
    unsigned bus_end_new;    /* BUSN_UPDATED */
};

struct pcie_enum_report {
    struct pcie_enum_step *steps;
    size_t n, cap;
    unsigned max_bus;        /* largest bus number assigned */
    unsigned functions;      /* functions found */
    unsigned cfg_reads, cfg_writes;
};

struct pcie_enum_options {
    bool no_assign;          /* scan and number buses only */
};

/* Enumerates the fabric from the root bus. rep (may be NULL) receives the
 * steps; free it with pcie_enum_report_free. Returns 0, or a negative
 * PCILAB_E* code (out of memory; running out of aperture space is reported
 * as NO_SPACE steps, not an error). */
int pcie_enumerate(struct pcie_fabric *f, const struct pcie_enum_options *opt,
                   struct pcie_enum_report *rep, struct pcilab_err *err);
void pcie_enum_report_free(struct pcie_enum_report *rep);

/* "[mem 0xfe900000-0xfe9fffff 64bit pref]", "[io  0x1000-0x1fff]", "[bus 01-02]". */
size_t pcie_res_format(const struct pcie_res *r, char *buf, size_t len);
/* One step as Linux 4.x prints it (without the "[    0.000000] " time stamp),
 * snprintf semantics. */
size_t pcie_enum_step_format(const struct pcie_enum_step *s, uint16_t segment, char *buf,
                             size_t len);

/* What pci_enable_device + pci_set_master do to configuration space: every
 * bridge above fn gets Memory, I/O (when it has an I/O window) and Bus Master
 * Enable, top down; fn gets Memory/I/O Space Enable for the BAR types it has
 * and Bus Master Enable when master. By configuration writes. */
int pcie_enum_enable(struct pcie_fabric *f, struct pcie_fn *fn, bool master,
                     struct pcilab_err *err);

#endif
