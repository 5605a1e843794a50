/* Bringing a built machine's host kernel up: the firmware tables the machine
 * has (the description's firmware:, or what a board of its kind carries),
 * the kernel of the description's kernel: (or the command line's choice), and
 * Linux's boot on it (host/boot.h).
 *
 * The default IVRS, when the description has an AMD IOMMU function and no
 * firmware: ivrs:, is laid out as AMD's AGESA firmware does on Family 15h/16h
 * boards: per IOMMU an IVHD of type 10h (flags 0xb0: IotlbSup, Coherent,
 * PPRSup) and one of type 11h (flags 0x30, the EFR image of the hardware),
 * each with a range of device IDs from 00:01.0 to the last bus's 1f.7 (the
 * host bridge 00:00.0 and the IOMMU itself are not in it) and the southbridge
 * IOAPIC (id 4) and HPET (0) at 00:14.0 as special devices; IVinfo 0x00203041
 * (EFRSup, 48-bit physical, 64-bit virtual, 48-bit guest virtual addresses). */
#ifndef PCILAB_SCENARIO_BOOT_H
#define PCILAB_SCENARIO_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "host/kernel.h"
#include "pcie/enumerate.h"
#include "scenario/build.h"
#include "scenario/scenario.h"

/* The IVRS bytes of the machine: *bytes (malloc'd, free them) and *len; both
 * 0/NULL when the machine has none (no AMD IOMMU, or ivrs: none). */
int scn_firmware_ivrs(const struct scn_machine *m, const struct scn_system *s, uint8_t **bytes,
                      size_t *len, struct pcilab_err *err);

/* The DMAR bytes of the machine (firmware: dmar:; host/dmar.h builds the
 * q35 and client forms; for q35 the root-bus functions of the description in
 * devfn order are its device scopes): *bytes (malloc'd) and *len, both
 * 0/NULL when the machine has none. */
int scn_firmware_dmar(const struct scn_machine *m, uint8_t **bytes, size_t *len,
                      struct pcilab_err *err);

/* What the command line may override. NULL fields: the description's. */
struct scn_boot_opts {
    const char *version;
    const char *cmdline;
    bool dma_debug;          /* CONFIG_DMA_API_DEBUG built in, whatever the description says */
};

/* Creates the host kernel on the system and boots it. rep: the enumeration
 * (its lines are printed as boot's PCI lines), may be NULL. */
int scn_boot(struct scn_system *s, const struct scn_machine *m, const struct scn_boot_opts *o,
             const struct pcie_enum_report *rep, struct host_kernel **out,
             struct pcilab_err *err);

#endif
