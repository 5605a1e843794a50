/* Scenario files: a YAML description of one machine's PCI Express topology and
 * devices, parsed into a plain description (struct scn_machine). Nothing here
 * creates fabric objects; scenario/build.h turns a description into a running
 * simulation. The format is documented in docs/scenario-format.md.
 *
 * Hardware fields follow the PCI Express Base Specification 5.0 (PCIe 5.0); the
 * section is named beside each field whose encoding matters.
 *
 * Every load is strict: an unknown key, a wrong type, an out-of-range value or an
 * inconsistent topology is an error naming FILE:LINE:COLUMN of the offending YAML
 * node (struct pcilab_err file/line/col). */
#ifndef PCILAB_SCENARIO_SCENARIO_H
#define PCILAB_SCENARIO_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"
#include "sim/time.h"

#define SCN_NAME_MAX   64   /* names, models, kinds: at most 63 bytes */
#define SCN_DESC_MAX   256  /* one-line description */
#define SCN_PATH_MAX   256
#define SCN_MAX_FUNCS  4096 /* functions in one machine */
#define SCN_MAX_PARAMS 64   /* params: entries per function */
#define SCN_MAX_TEXT   (4u << 20) /* largest scenario file accepted, bytes */

/* What a function is, and so where it may sit and which PCI Express Capability
 * Device/Port Type it carries (PCIe 5.0 7.5.3.2, bits 7:4). */
enum scn_kind {
    SCN_HOST_BRIDGE = 0, /* class 06 00 on the root bus, no PCIe capability */
    SCN_INTEGRATED,      /* RC-integrated function without PCIe capability (AMD IOMMU, FCH) */
    SCN_RCIEP,           /* Root Complex Integrated Endpoint, port type 1001b */
    SCN_ROOT_PORT,       /* Root Port of a Root Complex, port type 0100b */
    SCN_UPSTREAM_PORT,   /* Upstream Port of a Switch, port type 0101b */
    SCN_DOWNSTREAM_PORT, /* Downstream Port of a Switch, port type 0110b */
    SCN_ENDPOINT,        /* PCI Express Endpoint, port type 0000b */
    SCN_LEGACY_ENDPOINT, /* Legacy PCI Express Endpoint, port type 0001b */
    SCN_KIND_COUNT
};

enum scn_bar_type { SCN_BAR_NONE = 0, SCN_BAR_MEM32, SCN_BAR_MEM64, SCN_BAR_IO };

/* Capabilities a description can carry; the order of a function's caps[] is the
 * order of its capability list. */
enum scn_cap {
    SCN_CAP_PM = 0, /* Power Management, cap ID 01h (PCI PM 1.2 / PCIe 5.0 7.5.2) */
    SCN_CAP_MSI,    /* MSI, cap ID 05h (PCIe 5.0 7.7.1) */
    SCN_CAP_MSIX,   /* MSI-X, cap ID 11h (PCIe 5.0 7.7.2) */
    SCN_CAP_PCIE,   /* PCI Express, cap ID 10h (PCIe 5.0 7.5.3) */
    SCN_CAP_IOMMU,  /* AMD IOMMU, cap ID 0Fh, type 3 (AMD I/O Virtualization Technology spec 48882, 3.2.1) */
    SCN_CAP_AER,    /* Advanced Error Reporting, ext cap ID 0001h (PCIe 5.0 7.8.4) */
    SCN_CAP_ACS,    /* Access Control Services, ext cap ID 000Dh (PCIe 5.0 7.7.8) */
    SCN_CAP_COUNT
};

struct scn_bar {
    enum scn_bar_type type; /* NONE: not implemented (the upper half of a MEM64 is NONE too) */
    bool prefetchable;
    uint64_t size;          /* bytes, power of two */
};

/* Power Management capability, PMC register (PCI PM 1.2 3.2.3). */
struct scn_pm {
    uint8_t version;        /* PMC bits 2:0, 3 = PCI PM 1.2 */
    bool d1, d2;            /* D1/D2 Support, PMC bits 9/10 */
    uint8_t pme_support;    /* PME_Support, PMC bits 15:11: bit0 D0 .. bit3 D3hot, bit4 D3cold */
    bool no_soft_reset;     /* PMCSR bit 3 */
};

/* MSI capability (PCIe 5.0 7.7.1.2, Message Control). */
struct scn_msi {
    unsigned vectors;       /* 1..32, power of two: Multiple Message Capable = log2 */
    bool addr64;            /* 64 bit address capable, bit 7 */
    bool per_vector_mask;   /* Per-Vector Masking Capable, bit 8 */
};

/* MSI-X capability (PCIe 5.0 7.7.2). */
struct scn_msix {
    unsigned table_size;    /* 1..2048 entries (Table Size field + 1) */
    uint8_t table_bir;      /* Table BIR, 7.7.2.3 */
    uint32_t table_offset;  /* QWORD aligned */
    uint8_t pba_bir;        /* PBA BIR, 7.7.2.4 */
    uint32_t pba_offset;    /* QWORD aligned */
};

/* PCI Express capability (PCIe 5.0 7.5.3). Speeds are generations: 1 = 2.5 GT/s,
 * 2 = 5 GT/s, 3 = 8 GT/s, 4 = 16 GT/s, 5 = 32 GT/s (Link Capabilities, 7.5.3.6,
 * Max Link Speed encodes the Supported Link Speeds Vector bit). */
struct scn_pcie {
    uint8_t version;        /* Capability Version, 7.5.3.2 bits 3:0 (2) */
    uint8_t port_type;      /* Device/Port Type, 7.5.3.2 bits 7:4 (from the kind) */
    uint8_t max_speed;      /* Link Capabilities Max Link Speed, 7.5.3.6 */
    uint8_t max_width;      /* Link Capabilities Maximum Link Width: 1,2,4,8,12,16,32 */
    uint8_t speed, width;   /* trained link (Link Status 7.5.3.8); 0/0 = link down */
    uint16_t mps;           /* Max_Payload_Size Supported, bytes 128..4096 (7.5.3.3) */
    bool ext_tags;          /* Extended Tag Field Supported, 7.5.3.3 bit 5 */
    bool tag10_completer;   /* 10-Bit Tag Completer Supported, Device Capabilities 2 bit 16 (7.5.3.15) */
    bool tag10_requester;   /* 10-Bit Tag Requester Supported, Device Capabilities 2 bit 17 */
    bool flr;               /* Function Level Reset Capability, 7.5.3.3 bit 28 */
    bool slot;              /* Slot Implemented, 7.5.3.2 bit 8 (ports only) */
    uint16_t slot_number;   /* Physical Slot Number, Slot Capabilities 7.5.3.9 bits 31:19 */
    bool hot_plug;          /* Hot-Plug Capable, 7.5.3.9 bit 6 */
};

/* AMD IOMMU capability block (AMD 48882, 3.2.1): where the MMIO registers live. */
struct scn_iommu_cap {
    uint64_t base;          /* IOMMU Base Address, 16 KiB aligned */
    bool np_cache;          /* Capability Header NpCache (bit 26): the IOMMU caches
                               not-present entries (QEMU's amd-iommu sets it) */
    bool has_efr;           /* efr: given */
    uint64_t efr;           /* Extended Feature Register (3.4.7; default: the model's) */
};

/* ACS Capability register bits, PCIe 5.0 7.7.8.2. */
#define SCN_ACS_SV 0x01u    /* Source Validation */
#define SCN_ACS_TB 0x02u    /* Translation Blocking */
#define SCN_ACS_RR 0x04u    /* P2P Request Redirect */
#define SCN_ACS_CR 0x08u    /* P2P Completion Redirect */
#define SCN_ACS_UF 0x10u    /* Upstream Forwarding */
#define SCN_ACS_EC 0x20u    /* P2P Egress Control */
#define SCN_ACS_DT 0x40u    /* Direct Translated P2P */

struct scn_param {
    char *key, *value;
};

struct scn_capref {
    enum scn_cap id;
    uint16_t offset;        /* 0: the builder places it */
};

struct scn_func {
    unsigned line, col;     /* where the function's entry starts in the source */
    char name[SCN_NAME_MAX];/* label; "" when none */
    enum scn_kind kind;
    int bus;                /* fixed bus number (root bus, or from a dump); -1: enumeration assigns */
    uint8_t dev, fn;        /* Device (0..31) and Function (0..7) number */
    int parent;             /* index of the bridge above in scn_machine.funcs; -1 on the root bus */

    uint16_t vendor_id, device_id;
    uint8_t revision;
    uint32_t class_code;    /* 24 bits: base, sub-class, programming interface */
    uint16_t subsys_vendor_id, subsys_id;
    uint8_t header_type;    /* 0 or 1, bit 7 set when the device has several functions */
    uint8_t interrupt_pin;  /* 0 none, 1..4 INTA..INTD */
    struct scn_bar bars[6]; /* Type 1 functions use 0..1 */
    uint32_t rom_size;      /* Expansion ROM BAR size; 0 = none */

    unsigned ncaps;
    struct scn_capref caps[SCN_CAP_COUNT];
    struct scn_pm pm;
    struct scn_msi msi;
    struct scn_msix msix;
    struct scn_pcie pcie;
    struct scn_iommu_cap iommu;
    uint32_t acs;           /* SCN_ACS_* bits */

    char model[SCN_NAME_MAX]; /* device behaviour; "" = configuration space only */
    unsigned nparams;
    struct scn_param *params; /* in file order */

    /* config_from (or machine_from): the function's configuration space from an
     * lspci -x/-xxx/-xxxx dump. The description's identity, header type and (when
     * the dump covers 256 bytes or more) capabilities were replaced by what the
     * bytes say; the builder builds that, then lays every given byte over it. */
    char config_file[SCN_PATH_MAX]; /* "" when none; the path as opened */
    uint8_t *config;         /* config_len bytes, or NULL */
    unsigned config_len;     /* highest offset given + 1: 64, 256, 4096 (or less) */
    uint8_t *config_given;   /* (config_len + 7) / 8 bytes, bit per byte given */
    unsigned config_line;    /* line of the function's "BB:DD.F" header in the dump */
    char config_bdf[16];     /* the function's address in the dump, "0000:03:00.0" */
    bool caps_from_dump;     /* the capability list came from the dump */
};

/* One range of the physical address map (memory:). */
#define SCN_MAX_RANGES 32
struct scn_range {
    uint64_t base, size;
    char name[SCN_NAME_MAX]; /* "" : "System RAM" / "Reserved" */
    unsigned line, col;      /* where it was written; 0 when derived from `size` */
};

struct scn_memory {
    uint64_t total;          /* RAM bytes in all ranges */
    unsigned nram;
    struct scn_range ram[SCN_MAX_RANGES];      /* ascending, non-overlapping */
    unsigned nreserved;
    struct scn_range reserved[SCN_MAX_RANGES]; /* as written, plus the legacy hole */
};

struct scn_window {
    uint64_t base, size;    /* size 0: absent */
};

struct scn_root_complex {
    uint16_t segment;       /* PCI Segment Group */
    uint8_t bus_first, bus_last;
    uint64_t ecam_base;     /* ECAM: 1 MiB per bus (PCIe 5.0 7.2.2), from bus_first */
    struct scn_window mmio32, mmio64, io;
};

/* kernel: modules: a driver pcilab has (drivers/drivers.h) loaded by insmod
 * at simulated time `at` with its module parameters. */
#define SCN_MAX_MODULES 16
struct scn_module {
    char name[SCN_NAME_MAX];  /* the module's name: ecp5_dma, ecp3_can */
    sim_time_t at;            /* when insmod runs (0: as soon as boot ends) */
    char params[512];         /* "dma_bits=32 foo=1", as insmod takes them; "" none */
    unsigned line, col;       /* the entry's mapping */
};

/* kernel: the host kernel that runs on the machine (src/host). */
struct scn_kernel {
    char version[32];        /* "4.9.80", "5.15" ...; "" = the default (host/kernel.h) */
    char cmdline[1024];      /* the kernel command line; "" when none */
    unsigned cpus;           /* 0 = the default (4) */
    bool dma_debug;          /* CONFIG_DMA_API_DEBUG built in (host/dma_debug.h) */
    struct scn_module modules[SCN_MAX_MODULES]; /* in file order */
    unsigned nmodules;
    unsigned line, col;      /* where `kernel:` is; 0 when absent */
};

/* firmware: ivrs: the ACPI IVRS table the machine's firmware gives (AMD I/O
 * Virtualization Technology spec 48882, 5.2; Linux reads it, host/ivrs.h).
 * Device IDs are requester IDs: bus << 8 | device << 3 | function. */
enum scn_ivhd_kind {
    SCN_IVHD_ALL = 0,        /* type 01h: every device ID, with `data` (first = last = 0) */
    SCN_IVHD_SELECT,         /* 02h: one device ID */
    SCN_IVHD_RANGE,          /* 03h + 04h: first..last */
    SCN_IVHD_ALIAS,          /* 42h: `first` uses requester ID `source` */
    SCN_IVHD_ALIAS_RANGE,    /* 43h + 04h: first..last all use `source` */
    SCN_IVHD_SPECIAL,        /* 48h: an IOAPIC or HPET (`variety`, `handle`) at `first` */
};

struct scn_ivhd_entry {
    enum scn_ivhd_kind kind;
    uint16_t first, last;    /* last == first except for ranges */
    uint16_t source;         /* aliases */
    uint8_t data;            /* DTE setting bits (INITPass, EIntPass, NMIPass, SysMgt, Lint0/1), every kind */
    uint8_t variety;         /* special: 1 IOAPIC, 2 HPET */
    uint8_t handle;          /* special: IOAPIC ID / HPET number */
    unsigned line, col;      /* the entry's one-key mapping */
};

#define SCN_MAX_IVHD 8
#define SCN_MAX_IVHD_ENTRIES 64
#define SCN_MAX_IVMD 16

struct scn_ivhd {
    int iommu;               /* index in scn_machine.funcs of the IOMMU function */
    uint8_t types[3];        /* IVHD block types to emit: 0x10, 0x11, 0x40 (in the order written, no repeats; default 0x10, 0x11) */
    unsigned ntypes;
    uint8_t flags;           /* IVHD flags byte, bits 0..7: HtTunEn, PassPW, ResPassPW, Isoc, IotlbSup, Coherent, PreFSup, PPRSup (default 0xb0);
                                bits 7:6 are defined for type 10h only, reserved in 11h/40h (5.2.2.1) */
    uint16_t info;           /* IOMMU Info: MSINum 4:0, UnitID 12:8 (default 0) */
    bool has_efr;            /* efr: given */
    uint64_t efr;            /* 11h/40h IOMMU EFR Image (5.2.2.1; default: the IOMMU's EFR) */
    unsigned nentries;
    struct scn_ivhd_entry entries[SCN_MAX_IVHD_ENTRIES];
    unsigned line, col;      /* the block's mapping */
};

enum scn_ivmd_kind { SCN_IVMD_ALL = 0, SCN_IVMD_SELECT, SCN_IVMD_RANGE };

struct scn_ivmd {
    enum scn_ivmd_kind kind; /* 20h, 21h, 22h */
    uint16_t first, last;
    uint8_t flags;           /* bit 0 Unity, 1 IR, 2 IW, 3 ExclusionRange */
    uint64_t start, length;
    unsigned line, col;
};

/* firmware: dmar: the ACPI DMAR table (Intel VT-d specification chapter 8;
 * host/dmar.h). `q35` and `client` name the builders of host/dmar.h; a
 * mapping describes the table. Device scopes have a one-entry path: the
 * scope's start bus and device.function are the BDF's. */
enum scn_dmar_kind {
    SCN_DMAR_ABSENT = 0,     /* no dmar: key: no DMAR table */
    SCN_DMAR_Q35,            /* `dmar: q35`: QEMU q35 + intel-iommu (one DRHD, root-bus scopes) */
    SCN_DMAR_CLIENT,         /* `dmar: client`: integrated-graphics DRHD, INCLUDE_PCI_ALL DRHD, two RMRRs */
    SCN_DMAR_DESCRIBED,      /* a mapping */
};

#define SCN_MAX_DMAR_UNITS 8
#define SCN_MAX_DMAR_RMRR 16
#define SCN_MAX_DMAR_SCOPES 32

struct scn_dmar_scope {
    uint8_t type;            /* 1 endpoint, 2 bridge, 3 IOAPIC, 4 HPET (VT-d 8.3.1) */
    uint8_t enum_id;         /* IOAPIC id / HPET number */
    uint8_t bus, dev, fn;
    unsigned line, col;
};

/* One DRHD, RMRR or ATSR. */
struct scn_dmar_unit {
    uint8_t flags;           /* DRHD INCLUDE_PCI_ALL / ATSR ALL_PORTS (bit 0) */
    uint64_t base, limit;    /* DRHD register base; RMRR base and limit (inclusive) */
    unsigned nscopes;
    struct scn_dmar_scope scopes[SCN_MAX_DMAR_SCOPES];
    unsigned line, col;
};

struct scn_dmar {
    enum scn_dmar_kind kind;
    uint8_t haw;             /* host address width in bits (39 unless given) */
    uint8_t flags;           /* DMAR Flags: bit 0 INTR_REMAP, 1 X2APIC_OPT_OUT, 2 DMA_CTRL_PLATFORM_OPT_IN */
    unsigned ndrhd, nrmrr, natsr;
    struct scn_dmar_unit drhd[SCN_MAX_DMAR_UNITS];
    struct scn_dmar_unit rmrr[SCN_MAX_DMAR_RMRR];
    struct scn_dmar_unit atsr[SCN_MAX_DMAR_UNITS];
    unsigned line, col;      /* where `dmar:` is */
};

struct scn_firmware {
    struct scn_dmar dmar;    /* dmar: */
    bool ivrs;               /* an ivrs: was given (else the builder makes the default) */
    bool no_ivrs;            /* `ivrs: none`: the firmware has no IVRS at all */
    uint32_t ivinfo;         /* IVinfo (5.2.1): EFRSup, DMA remap, VA/PA/GVA sizes; 0x00203041 unless given (0 without a mapping) */
    unsigned nivhd;
    struct scn_ivhd ivhd[SCN_MAX_IVHD];
    unsigned nivmd;
    struct scn_ivmd ivmd[SCN_MAX_IVMD];
    unsigned line, col;      /* where `ivrs:` is */
};

/* iommu: the machine's IOMMU kind, one key for a machine described with an
 * IOMMU (docs/scenario-format.md, "iommu"; scn_set_iommu). */
enum scn_iommu {
    SCN_IOMMU_AUTO = 0,  /* not given: whatever IOMMU functions the machine has */
    SCN_IOMMU_AMD_VI,    /* "amd-vi": the machine's AMD IOMMU function(s) */
    SCN_IOMMU_VTD,       /* "vtd": the AMD functions and IVRS are removed, a DMAR given */
    SCN_IOMMU_VTD_SM,    /* "vtd-sm": the same, every DRHD's unit with QEMU 7.2's
                            x-scalable-mode=on registers (ECAP.SMTS: scalable mode) */
    SCN_IOMMU_NONE,      /* "none": no IOMMU (its functions, IVRS and DMAR are removed) */
};

struct scn_iommu_stash;      /* what iommu: vtd|none removed (scenario.c) */

struct scn_machine {
    char source[SCN_PATH_MAX]; /* file the description came from */
    enum scn_iommu iommu;      /* iommu: */
    char name[SCN_NAME_MAX];
    char description[SCN_DESC_MAX];
    uint64_t seed;
    struct scn_root_complex rc;
    struct scn_memory memory;  /* RAM and reserved ranges (memory:, or the default) */
    struct scn_kernel kernel;  /* kernel: */
    struct scn_firmware firmware; /* firmware: */
    /* machine_from: the functions came from this dump ("" when described in YAML) */
    char machine_from[SCN_PATH_MAX];
    unsigned nfuncs;
    struct scn_func *funcs; /* depth first, every bridge before its children */
    /* the AMD IOMMU functions and the firmware iommu: vtd or none removed,
     * so that a later iommu: amd-vi (a --set over a scenario based on one
     * with iommu: vtd) puts the machine's AMD-Vi back; NULL when none */
    struct scn_iommu_stash *iommu_stash;
};

/* Loading. On success *m is filled and must be released with scn_free; on
 * failure *m is left empty (scn_free on it is harmless) and err names the
 * offending file:line:col. Relative config_from paths are taken from the
 * scenario file's folder (from the current folder for strings and built-ins). */
int scn_load_file(const char *path, struct scn_machine *m, struct pcilab_err *err);
int scn_load_string(const char *name, const char *text, size_t len, struct scn_machine *m,
                    struct pcilab_err *err);
int scn_load_builtin(const char *name, struct scn_machine *m, struct pcilab_err *err);
void scn_free(struct scn_machine *m);

/* Deep comparison (parameters and dumped configuration bytes included). */
bool scn_machine_equal(const struct scn_machine *a, const struct scn_machine *b);

/* Built-in scenarios (compiled in from src/scenario/builtin/). */
struct scn_builtin;
const struct scn_builtin *scn_builtin_find(const char *name);
/* The one-line description of a built-in (its `description:`), read without a full
 * load. Returns -PCILAB_E* when the built-in does not parse. */
int scn_builtin_describe(const struct scn_builtin *b, char *buf, size_t len,
                         struct pcilab_err *err);

/* One `set:` entry / `--set` option on a description (docs/scenarios.md):
 *   kernel.version, kernel.cmdline, kernel.cpus, kernel.dma_debug
 *                       the kernel: keys (versions checked as kernel: does);
 *   MODULE.PARAM        a parameter of a module the description's kernel
 *                       loads (replaced or added in its insmod words); PARAM
 *                       must be one the driver declares, value of its type;
 *   TARGET.KEY          a device-model parameter: TARGET is a function's
 *                       label, a root-bus "BB:DD.F" or a model's name when
 *                       one function has that model; KEY one of the model's
 *                       parameters, the value checked as the model checks it.
 * A set means what the same --set does once the machine runs: it applies
 * after the function's own params, so a set of "requester_id" (which sets
 * every engine) also drops the function's per-engine requester-ID params.
 * When a name is both a module and a model (ecp5_dma), the key decides.
 * Errors (PCILAB_ENOENT unknown target or key, PCILAB_EINVAL bad value) name
 * the key and list what is allowed; nothing is changed then. */
int scn_set(struct scn_machine *m, const char *key, const char *value, struct pcilab_err *err);

/* The `iommu:` key / `--set iommu=VALUE`: "amd-vi" needs a function with the
 * AMD IOMMU capability in the machine; "none" removes every such function and
 * the firmware's IVRS (as a machine without the IOMMU device: QEMU without
 * -device amd-iommu); "vtd" is refused (PCILAB_EINVAL, "VT-d is not modelled
 * yet"). Errors name the value and list the kinds. */
int scn_set_iommu(struct scn_machine *m, const char *value, struct pcilab_err *err);
const char *scn_iommu_name(enum scn_iommu k);

/* Module parameters the driver `module` declares (module_param), i-th or
 * NULL past the last: their name and a type word (int, uint, bool ...). */
const char *scn_module_param_at(const char *module, size_t i, const char **type);
/* Its MODULE_PARM_DESC text, NULL without one. */
const char *scn_module_param_desc(const char *module, const char *name);

/* Names, for messages and listings. */
const char *scn_kind_name(enum scn_kind k);
const char *scn_cap_name(enum scn_cap c);
const char *scn_bar_type_name(enum scn_bar_type t);
/* Finds a function's index by its label or "BB:DD.F"; -1 when none. */
int scn_find_func(const struct scn_machine *m, const char *name);
const char *scn_param_get(const struct scn_func *f, const char *key);

#endif
