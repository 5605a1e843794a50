/* The ACPI IVRS table (I/O Virtualization Reporting Structure) as data.
 *
 * Firmware tells the AMD IOMMU driver which requester IDs each IOMMU
 * translates, with which DTE settings, which IDs alias, where the IOAPICs and
 * HPETs sit, and which memory must stay unity-mapped. pcilab keeps that table
 * as a description (struct host_ivrs), turns it into the exact bytes firmware
 * would place in memory (host_ivrs_encode) and reads such bytes back
 * (host_ivrs_parse). host_ivrs_linux_run then reads a description the way a
 * given Linux version does: the IOMMUs it will set up, last_bdf, the
 * per-devid rlookup/DTE-flag/alias tables, the IVMD ranges, and Linux's exact
 * log lines for what it finds wrong. The facts and their sources are in
 * docs/linux/amd-iommu.md, section g.
 *
 * Formats: AMD I/O Virtualization Technology (IOMMU) Specification, 48882
 * rev 3.05, chapter 5 ("I/O Virtualization ACPI Table"); the common table
 * header is ACPI 6.4 section 5.2.6.
 */
#ifndef PCILAB_HOST_IVRS_H
#define PCILAB_HOST_IVRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/kver.h"
#include "host/acpi_table.h"
#include "sim/err.h"

#define HOST_IVRS_HEADER_LEN 48u /* ACPI header (36) + IVinfo (4) + reserved (8) */

/* Subtable types (48882 5.2.2, 5.2.3). */
#define HOST_IVHD_TYPE_10 0x10u
#define HOST_IVHD_TYPE_11 0x11u
#define HOST_IVHD_TYPE_40 0x40u
#define HOST_IVMD_TYPE_ALL 0x20u
#define HOST_IVMD_TYPE_SELECT 0x21u
#define HOST_IVMD_TYPE_RANGE 0x22u

/* IVHD device entry types (48882 5.2.2.2). Types below 0x40 are 4 bytes,
 * 0x40..0x7f are 8 bytes, 0xf0 is variable; other types >= 0x80 have no
 * length Linux knows (4.9..6.1 ivhd_entry_length returns 0). */
#define HOST_IVHD_DEV_PAD4 0x00u
#define HOST_IVHD_DEV_ALL 0x01u
#define HOST_IVHD_DEV_SELECT 0x02u
#define HOST_IVHD_DEV_RANGE_START 0x03u
#define HOST_IVHD_DEV_RANGE_END 0x04u
#define HOST_IVHD_DEV_PAD8 0x40u
#define HOST_IVHD_DEV_ALIAS 0x42u
#define HOST_IVHD_DEV_ALIAS_RANGE 0x43u
#define HOST_IVHD_DEV_EXT_SELECT 0x46u
#define HOST_IVHD_DEV_EXT_RANGE 0x47u
#define HOST_IVHD_DEV_SPECIAL 0x48u
#define HOST_IVHD_DEV_ACPI_HID 0xf0u

/* Special device variety (byte 7 of a type 48h entry). */
#define HOST_IVHD_SPECIAL_IOAPIC 1u
#define HOST_IVHD_SPECIAL_HPET 2u

/* The DTE setting byte ("Data") of a device entry (48882 5.2.2.2). */
#define HOST_IVRS_DATA_INITPASS 0x01u
#define HOST_IVRS_DATA_EINTPASS 0x02u
#define HOST_IVRS_DATA_NMIPASS 0x04u
#define HOST_IVRS_DATA_SYSMGT1 0x10u
#define HOST_IVRS_DATA_SYSMGT2 0x20u
#define HOST_IVRS_DATA_LINT0PASS 0x40u
#define HOST_IVRS_DATA_LINT1PASS 0x80u

/* IVHD flags (byte 1): HtTunEn, PassPW, ResPassPW, Isoc, IotlbSup, Coherent,
 * PreFSup, PPRSup. */
#define HOST_IVHD_FLAG_HTTUNEN 0x01u
#define HOST_IVHD_FLAG_PASSPW 0x02u
#define HOST_IVHD_FLAG_RESPASSPW 0x04u
#define HOST_IVHD_FLAG_ISOC 0x08u
#define HOST_IVHD_FLAG_IOTLBSUP 0x10u
#define HOST_IVHD_FLAG_COHERENT 0x20u
#define HOST_IVHD_FLAG_PREFSUP 0x40u
#define HOST_IVHD_FLAG_PPRSUP 0x80u

/* IVMD flags (byte 1). */
#define HOST_IVMD_FLAG_UNITY 0x01u
#define HOST_IVMD_FLAG_IR 0x02u
#define HOST_IVMD_FLAG_IW 0x04u
#define HOST_IVMD_FLAG_EXCL 0x08u

/* One IVHD device entry. `ext` is the little-endian dword at offset 4 of an
 * 8-byte entry: for alias entries the source devid is ext >> 8 (bytes 5..6),
 * for extended entries the extended DTE setting, for special entries
 * handle | devid << 8 | variety << 24. */
struct host_ivhd_entry {
    uint8_t type;
    uint16_t devid;
    uint8_t data;
    uint32_t ext;
    /* type 0xf0 only (48882 5.2.2.2 "ACPI HID device entry") */
    uint8_t hid[8];
    uint8_t cid[8];
    uint8_t uid_format; /* 0 none, 1 integer, 2 string */
    uint8_t uid_len;
    uint8_t uid[255];
};

struct host_ivhd_entry host_ivhd_select(uint16_t devid, uint8_t data);
struct host_ivhd_entry host_ivhd_all(uint8_t data);
struct host_ivhd_entry host_ivhd_range(uint16_t first, uint8_t data); /* start of range */
struct host_ivhd_entry host_ivhd_range_end(uint16_t last);
struct host_ivhd_entry host_ivhd_alias(uint16_t devid, uint8_t data, uint16_t source);
struct host_ivhd_entry host_ivhd_alias_range(uint16_t first, uint8_t data, uint16_t source);
struct host_ivhd_entry host_ivhd_ext_select(uint16_t devid, uint8_t data, uint32_t ext);
struct host_ivhd_entry host_ivhd_ext_range(uint16_t first, uint8_t data, uint32_t ext);
struct host_ivhd_entry host_ivhd_special(uint8_t variety, uint8_t handle, uint16_t devid,
                                         uint8_t data);
/* hid/cid: up to 8 characters; uid: NULL for none, else a string (format 2). */
struct host_ivhd_entry host_ivhd_acpi_hid(uint16_t devid, uint8_t data, const char *hid,
                                          const char *cid, const char *uid);
/* Bytes the entry takes in the table; 0 for a type with no known length. */
size_t host_ivhd_entry_len(const struct host_ivhd_entry *e);

/* IVHD header (48882 5.2.2.1): 24 bytes for type 10h, 40 for 11h and 40h. */
struct host_ivhd {
    uint8_t type;
    uint8_t flags;
    uint16_t devid;      /* the IOMMU's own requester ID, e.g. 00:00.2 = 0x0002 */
    uint16_t cap_offset; /* capability offset in its config space, e.g. 0x40 */
    uint64_t mmio_base;
    uint16_t segment;
    uint16_t info;       /* IOMMU info: MSInum 4:0, UnitID 12:8 */
    uint32_t feature;    /* 10h: IOMMU feature reporting; 11h/40h: IOMMU attributes */
    uint64_t efr;        /* 11h/40h: EFR register image */
    uint64_t efr2;       /* 11h/40h: EFR2 image (reserved in older revisions) */
};

/* IVMD (48882 5.2.3), 32 bytes. */
struct host_ivmd {
    uint8_t type;
    uint8_t flags;
    uint16_t devid;
    uint16_t aux;        /* type 22h: last devid of the range */
    uint64_t reserved;
    uint64_t start;
    uint64_t length;
};

enum host_ivrs_block_kind { HOST_IVRS_IVHD, HOST_IVRS_IVMD, HOST_IVRS_RAW };

/* One subtable after the IVRS header, in table order. A subtable of a type
 * that is neither IVHD nor IVMD is kept as raw bytes (Linux skips it by its
 * length). */
struct host_ivrs_block {
    enum host_ivrs_block_kind kind;
    struct host_ivhd ivhd;
    struct host_ivhd_entry *entries;
    size_t n_entries, cap_entries;
    struct host_ivmd ivmd;
    uint8_t *raw;        /* whole subtable, raw[2..3] is its length */
    size_t raw_len;
};

struct host_ivrs {
    struct host_acpi_header hdr; /* ACPI 6.4 5.2.6 (revision: 2) */
    uint32_t ivinfo;         /* EFRSup 0, DMA remap 1, GVAsize 7:5, PAsize 14:8, VAsize 21:15 */
    uint64_t reserved;
    struct host_ivrs_block *blocks;
    size_t n_blocks, cap_blocks;
};

struct host_ivrs *host_ivrs_create(void);
void host_ivrs_destroy(struct host_ivrs *t);
/* Appends a block; returns its index, or a negative PCILAB_E* code. */
int host_ivrs_add_ivhd(struct host_ivrs *t, const struct host_ivhd *h, struct pcilab_err *err);
int host_ivrs_add_entry(struct host_ivrs *t, size_t block, const struct host_ivhd_entry *e,
                        struct pcilab_err *err);
int host_ivrs_add_ivmd(struct host_ivrs *t, const struct host_ivmd *m, struct pcilab_err *err);
int host_ivrs_add_raw(struct host_ivrs *t, const uint8_t *bytes, size_t len,
                      struct pcilab_err *err);

/* Table length in bytes, or a negative code when the description cannot be
 * encoded (a block over 64 KiB, an entry type with no length). */
long host_ivrs_encoded_len(const struct host_ivrs *t, struct pcilab_err *err);
/* Writes the exact table bytes; returns the length or a negative code. */
long host_ivrs_encode(const struct host_ivrs *t, uint8_t *buf, size_t cap, struct pcilab_err *err);
/* Reads table bytes into a new description (*out, destroy with
 * host_ivrs_destroy). A bad checksum is not an error here (it is Linux's
 * business: host_ivrs_linux_run); bytes that cannot be split into header,
 * subtables and entries are, with the offset named. */
int host_ivrs_parse(const uint8_t *bytes, size_t len, struct host_ivrs **out,
                    struct pcilab_err *err);
bool host_ivrs_checksum_ok(const uint8_t *bytes, size_t len);

/* ---- Linux's reading of the table ---------------------------------------- */


#define HOST_IVRS_MAX_IOMMUS 32   /* Linux MAX_IOMMUS */
#define HOST_IVRS_MAX_UNITY 64
#define HOST_IVRS_MAX_SPECIAL 32
#define HOST_IVRS_MAX_ACPIHID 32
#define HOST_IVRS_MAX_LOG 32

struct host_ivrs_devid {
    int8_t iommu;          /* rlookup: index into iommus, -1 when none */
    uint8_t data;          /* DTE setting bits collected from the entries (ORed) */
    uint32_t ext;          /* last extended setting (Linux passes it, sets nothing) */
    uint16_t alias;        /* alias table: the requester ID the IOMMU sees */
    bool erratum63_iw;     /* SysMgt == 01b: Linux sets DTE.IW (amd_iommu_apply_erratum_63) */
    bool excl;             /* 4.x: DTE.EX from an IVMD exclusion range */
};

struct host_ivrs_iommu {
    uint8_t type, flags;
    uint16_t devid, cap_offset, segment, info;
    uint64_t mmio_base;
    uint32_t feature;
    uint64_t efr;
    uint64_t excl_start, excl_length; /* 4.x: last exclusion range of its devids */
};

struct host_ivrs_unity {
    uint8_t ivmd_type;
    uint16_t devid_start, devid_end;
    uint64_t start, end;   /* start = PAGE_ALIGN(range start), end = start + PAGE_ALIGN(length) */
    uint8_t prot;          /* flags >> 1: bit 0 IR, bit 1 IW */
};

struct host_ivrs_special {
    uint8_t variety, handle;
    uint16_t devid;
};

struct host_ivrs_acpihid {
    char hid[9];
    char uid[256];
    uint16_t devid;
};

struct host_ivrs_klog {
    uint8_t level;         /* printk level, 3 = KERN_ERR, 4 = KERN_WARNING */
    char text[160];        /* without the trailing newline */
};

struct host_ivrs_linux {
    const struct host_kver *kver; /* the version the table was read as */
    bool enabled;          /* Linux goes on to set up AMD-Vi with this table */
    uint8_t target_type;   /* IVHD type Linux uses (get_highest_supported_ivhd_type) */
    uint16_t last_bdf;     /* segment 0 */
    struct host_ivrs_devid dev[65536];
    struct host_ivrs_iommu iommus[HOST_IVRS_MAX_IOMMUS];
    size_t n_iommus;
    struct host_ivrs_unity unity[HOST_IVRS_MAX_UNITY];
    size_t n_unity;
    struct host_ivrs_special special[HOST_IVRS_MAX_SPECIAL];
    size_t n_special;
    struct host_ivrs_acpihid acpihid[HOST_IVRS_MAX_ACPIHID];
    size_t n_acpihid;
    struct host_ivrs_klog log[HOST_IVRS_MAX_LOG];
    size_t n_log;
    char note[256];        /* pcilab's own word on why Linux gave up or what it skipped, "" if none */
};

struct host_ivrs_linux *host_ivrs_linux_create(void);
void host_ivrs_linux_destroy(struct host_ivrs_linux *lx);
/* Reads the table as kernel `k` does (early_amd_iommu_init up to
 * init_memory_definitions). `bytes` are the table bytes (Linux checks the
 * checksum over them); `t` their description. Returns 0 whether or not Linux
 * accepts the table (see lx->enabled and lx->log), a negative code only for
 * bad arguments. */
int host_ivrs_linux_run(struct host_ivrs_linux *lx, const uint8_t *bytes, size_t len,
                        const struct host_ivrs *t, const struct host_kver *kv,
                        struct pcilab_err *err);
/* check_ioapic_information: given the IOAPIC ids of the MADT, appends Linux's
 * messages and returns whether interrupt remapping stays enabled. */
bool host_ivrs_linux_check_ioapics(struct host_ivrs_linux *lx, const uint8_t *ioapic_ids,
                                   size_t n);

#endif
