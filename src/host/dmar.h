/* The ACPI DMAR table (DMA Remapping Reporting structure) as data.
 *
 * Firmware tells the Intel IOMMU driver where each remapping hardware unit
 * (DRHD) has its registers and which devices it translates, which memory must
 * stay identity mapped for which devices (RMRR), which root ports can do ATS
 * (ATSR), the NUMA node of each unit (RHSA), ACPI namespace devices (ANDD) and
 * SoC devices with an address translation cache (SATC). The counterpart of
 * host/ivrs.h: pcilab keeps the table as a description (struct host_dmar),
 * turns it into the exact bytes firmware places in memory (host_dmar_encode)
 * and reads such bytes back (host_dmar_parse). Linux's reading of the table is
 * the Intel IOMMU driver's (host/intel_iommu.h).
 *
 * Formats: Intel Virtualization Technology for Directed I/O Architecture
 * Specification (rev 3.x/4.x), chapter 8 "BIOS Considerations"; the common
 * table header is ACPI 6.4 section 5.2.6. Linux's names for the same fields
 * are in include/acpi/actbl1.h (struct acpi_table_dmar and friends). */
#ifndef PCILAB_HOST_DMAR_H
#define PCILAB_HOST_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/acpi_table.h"
#include "sim/err.h"

#define HOST_DMAR_HEADER_LEN 48u /* ACPI header (36) + HAW + Flags + 10 reserved (8.1) */

/* DMAR Flags (VT-d 8.1 table "DMA Remapping Reporting Structure"). */
#define HOST_DMAR_INTR_REMAP 0x01u              /* bit 0: interrupt remapping supported */
#define HOST_DMAR_X2APIC_OPT_OUT 0x02u          /* bit 1: firmware asks not to enable x2APIC */
#define HOST_DMAR_DMA_CTRL_PLATFORM_OPT_IN 0x04u /* bit 2: DMA protection requested by platform */

/* Remapping structure types (VT-d 8.2). */
#define HOST_DMAR_DRHD 0u
#define HOST_DMAR_RMRR 1u
#define HOST_DMAR_ATSR 2u
#define HOST_DMAR_RHSA 3u
#define HOST_DMAR_ANDD 4u
#define HOST_DMAR_SATC 5u

/* Structure flags. */
#define HOST_DRHD_INCLUDE_PCI_ALL 0x01u /* 8.3 DRHD Flags bit 0 */
#define HOST_ATSR_ALL_PORTS 0x01u       /* 8.5 ATSR Flags bit 0 */
#define HOST_SATC_ATC_REQUIRED 0x01u    /* 8.8 SATC Flags bit 0 */

/* Device scope entry types (VT-d 8.3.1). */
#define HOST_DMAR_SCOPE_ENDPOINT 1u
#define HOST_DMAR_SCOPE_BRIDGE 2u      /* PCI sub-hierarchy */
#define HOST_DMAR_SCOPE_IOAPIC 3u
#define HOST_DMAR_SCOPE_HPET 4u        /* MSI-capable HPET */
#define HOST_DMAR_SCOPE_ACPI 5u        /* ACPI namespace device */

#define HOST_DMAR_MAX_PATH 16u         /* (255 - 6) / 2 would be 124; no real table nests deeper */

/* One device scope entry (8.3.1): Type, Length = 6 + 2 x path entries,
 * Flags, Reserved, Enumeration ID (IOAPIC id, HPET number, ANDD device
 * number), Start Bus Number, then {Device, Function} pairs from that bus. */
struct host_dmar_scope {
    uint8_t type;
    uint8_t flags;           /* byte 2 (reserved before VT-d 3.x) */
    uint8_t reserved;        /* byte 3 */
    uint8_t enum_id;         /* byte 4 */
    uint8_t bus;             /* byte 5 */
    uint8_t npath;
    struct { uint8_t dev, fn; } path[HOST_DMAR_MAX_PATH];
};

/* A scope with a one-element path: (type, enum_id, bus, dev, fn). */
struct host_dmar_scope host_dmar_scope1(uint8_t type, uint8_t enum_id, uint8_t bus, uint8_t dev,
                                        uint8_t fn);
size_t host_dmar_scope_len(const struct host_dmar_scope *s);

/* One remapping structure after the DMAR header, in table order. Fields a
 * type does not have are 0. A type from 6 up (reserved in VT-d 8.2 as Linux
 * reads it) is kept as raw bytes. */
struct host_dmar_struct {
    uint16_t type;
    uint8_t flags;           /* DRHD, ATSR, SATC byte 4 */
    uint32_t reserved;       /* the type's reserved bytes, little endian: DRHD byte 5 (Size in
                                VT-d 3.x), RMRR bytes 4..5, ATSR/SATC byte 5, RHSA bytes 4..7,
                                ANDD bytes 4..6 */
    uint16_t segment;        /* DRHD bytes 6..7, RMRR 6..7, ATSR/SATC 6..7 */
    uint64_t base;           /* DRHD Register Base Address (8..15), RMRR Base Address
                                (8..15), RHSA Register Base Address (8..15) */
    uint64_t limit;          /* RMRR Reserved Memory Region Limit Address (16..23), inclusive */
    uint32_t proximity;      /* RHSA Proximity Domain (16..19) */
    uint8_t device_number;   /* ANDD ACPI Device Number (byte 7) */
    uint8_t *name;           /* ANDD ACPI Object Name from byte 8, name_len bytes as in the
                                table (normally a string and its NUL) */
    size_t name_len;
    struct host_dmar_scope *scopes; /* DRHD, RMRR, ATSR, SATC */
    size_t n_scopes, cap_scopes;
    uint8_t *raw;            /* reserved types: the whole structure */
    size_t raw_len;
};

struct host_dmar {
    struct host_acpi_header hdr; /* ACPI 6.4 5.2.6 (revision: 1) */
    uint8_t haw;             /* Host Address Width field: N - 1 for N address bits (8.1) */
    uint8_t flags;           /* HOST_DMAR_INTR_REMAP ... */
    uint8_t reserved[10];
    struct host_dmar_struct *s;
    size_t n, cap;
};

struct host_dmar *host_dmar_create(void);
void host_dmar_destroy(struct host_dmar *t);

/* Appending structures; each returns the new structure's index or a
 * negative PCILAB_E* code. */
int host_dmar_add_drhd(struct host_dmar *t, uint8_t flags, uint16_t segment, uint64_t base,
                       struct pcilab_err *err);
int host_dmar_add_rmrr(struct host_dmar *t, uint16_t segment, uint64_t base, uint64_t limit,
                       struct pcilab_err *err);
int host_dmar_add_atsr(struct host_dmar *t, uint8_t flags, uint16_t segment,
                       struct pcilab_err *err);
int host_dmar_add_rhsa(struct host_dmar *t, uint64_t base, uint32_t proximity,
                       struct pcilab_err *err);
/* name: the object path ("\\_SB.PCI0.I2C0"), stored with its NUL */
int host_dmar_add_andd(struct host_dmar *t, uint8_t device_number, const char *name,
                       struct pcilab_err *err);
int host_dmar_add_satc(struct host_dmar *t, uint8_t flags, uint16_t segment,
                       struct pcilab_err *err);
int host_dmar_add_raw(struct host_dmar *t, const uint8_t *bytes, size_t len,
                      struct pcilab_err *err);
/* A device scope for structure i (a DRHD, RMRR, ATSR or SATC). */
int host_dmar_add_scope(struct host_dmar *t, size_t i, const struct host_dmar_scope *s,
                        struct pcilab_err *err);

/* Table length in bytes, or a negative code (a structure over 64 KiB). */
long host_dmar_encoded_len(const struct host_dmar *t, struct pcilab_err *err);
/* Writes the exact table bytes; returns the length or a negative code. */
long host_dmar_encode(const struct host_dmar *t, uint8_t *buf, size_t cap,
                      struct pcilab_err *err);
/* Reads table bytes into a new description (*out, destroy with
 * host_dmar_destroy). A wrong checksum is kept (keep_checksum), not refused:
 * Linux does not check it for the DMAR. Bytes that cannot be split into
 * header, structures and scopes are refused with the offset and field
 * named. */
int host_dmar_parse(const uint8_t *bytes, size_t len, struct host_dmar **out,
                    struct pcilab_err *err);
bool host_dmar_checksum_ok(const uint8_t *bytes, size_t len);
/* "DRHD", "RMRR", ... "type 7" */
const char *host_dmar_type_name(uint16_t type, char *buf, size_t len);

/* ---- Default tables ---------------------------------------------------- */

/* A device on the root bus, for the builders. */
struct host_dmar_dev {
    uint8_t bus, dev, fn;
    bool bridge;             /* a PCI-PCI bridge (a sub-hierarchy scope) */
};

/* QEMU's q35 machine with -device intel-iommu (hw/i386/acpi-build.c
 * build_dmar_q35, QEMU 7.x/8.x): OEM "BOCHS "/"BXPC    ", HAW aw_bits - 1
 * (39 bits by default), Flags INTR_REMAP when intremap is on, one DRHD at
 * 0xfed90000 with Flags 0 (not INCLUDE_PCI_ALL), the IOAPIC scope (id 0,
 * bus 0xff, 00.0: QEMU's pseudo IOAPIC requester ID) and one endpoint or
 * bridge scope per device of the root bus in `devs` order, then an ATSR
 * with ALL_PORTS when device-iotlb is on. include_pci_all: the form older
 * QEMUs (before the per-device scopes) built: INCLUDE_PCI_ALL and the IOAPIC
 * scope alone. */
struct host_dmar_q35 {
    uint8_t aw_bits;         /* 39 unless 48 is asked */
    bool intr_remap;         /* intel-iommu,intremap=on */
    bool device_iotlb;       /* intel-iommu,device-iotlb=on: the ATSR */
    bool include_pci_all;
    const struct host_dmar_dev *devs;
    size_t n_devs;
};
int host_dmar_build_q35(struct host_dmar *t, const struct host_dmar_q35 *q,
                        struct pcilab_err *err);

/* An Intel client platform (a laptop or desktop with integrated graphics),
 * laid out as such firmware does: Flags INTR_REMAP | DMA_CTRL_PLATFORM_OPT_IN,
 * HAW 39; DRHD 0 at 0xfed90000 for the integrated graphics alone (endpoint
 * 00:02.0); DRHD 1 at 0xfed91000 with INCLUDE_PCI_ALL and the IOAPIC (id 2,
 * path 1f.0 from bus 0xf0) and HPET (number 0, path 1f.0 from bus 0) scopes; an RMRR for
 * the USB controller 00:14.0 (its legacy keyboard emulation buffer) and one
 * for the graphics' stolen memory. */
struct host_dmar_client {
    uint64_t usb_rmrr_base, usb_rmrr_limit;   /* 0/0: 0x7b7f9000..0x7b818fff */
    uint64_t gfx_rmrr_base, gfx_rmrr_limit;   /* 0/0: 0x7d000000..0x7f7fffff */
};
int host_dmar_build_client(struct host_dmar *t, const struct host_dmar_client *c,
                           struct pcilab_err *err);

#endif
