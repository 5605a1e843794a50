/* PCI configuration space of one function, as real bytes with hardware write
 * semantics.
 *
 * Specifications followed:
 *   - PCI Local Bus Specification 3.0 (PCI 3.0), chapter 6 (Type 0 header) and the
 *     PCI-to-PCI Bridge Architecture Specification 1.2 chapter 3 (Type 1 header);
 *   - PCI Express Base Specification 5.0 (PCIe 5.0), section 7.5.1 (the same
 *     headers as seen from PCI Express) and 7.2 (4 KiB extended configuration space).
 *
 * Every byte has a write mask (RW bits), a write-1-to-clear mask (RW1C), a
 * self-clearing mask (bits that take effect when written with 1 but always read 0,
 * e.g. Initiate FLR, Retrain Link), a sticky mask (kept across a function or hot
 * reset, PCIe 5.0 7.4 "RWS/RW1CS/ROS") and a reset image. Bits with no mask are RO
 * or HwInit: config writes never change them, the device model changes them with
 * the raw accessors (pcie_cfg_raw_*), e.g. Link Status after training.
 *
 * Capabilities (PM, MSI, MSI-X, PCI Express, AER, ACS, ...) are built by
 * pcie/caps.h; MSI/MSI-X messages are computed by pcie/msi.h.
 */
#ifndef PCILAB_PCIE_CONFIG_H
#define PCILAB_PCIE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/err.h"

#define PCIE_CFG_SPACE_SIZE   4096u  /* PCIe 5.0 7.2.2: 4 KiB per function */
#define PCIE_CFG_LEGACY_SIZE  256u   /* PCI 3.0 6.1: conventional PCI function */

/* ---- Common header, PCI 3.0 6.1 / PCIe 5.0 7.5.1.1 ---- */
#define PCIE_CFG_VENDOR_ID        0x00  /* 16 bits, RO */
#define PCIE_CFG_DEVICE_ID        0x02  /* 16 bits, RO */
#define PCIE_CFG_COMMAND          0x04  /* 16 bits, PCIe 5.0 7.5.1.1.3 */
#define PCIE_CFG_STATUS           0x06  /* 16 bits, PCIe 5.0 7.5.1.1.4 */
#define PCIE_CFG_REVISION_ID      0x08  /* 8 bits, RO */
#define PCIE_CFG_CLASS_PROG       0x09  /* class code: programming interface */
#define PCIE_CFG_CLASS_SUB        0x0a  /* class code: sub-class */
#define PCIE_CFG_CLASS_BASE       0x0b  /* class code: base class */
#define PCIE_CFG_CACHE_LINE_SIZE  0x0c  /* RW, no effect on PCIe (7.5.1.1.7) */
#define PCIE_CFG_LATENCY_TIMER    0x0d  /* RO 0 on PCIe (7.5.1.1.8) */
#define PCIE_CFG_HEADER_TYPE      0x0e  /* 7.5.1.1.9: bit 7 multi-function */
#define PCIE_CFG_BIST             0x0f
#define PCIE_CFG_CAP_PTR          0x34  /* 7.5.1.1.11 */
#define PCIE_CFG_INTERRUPT_LINE   0x3c  /* RW scratch for software */
#define PCIE_CFG_INTERRUPT_PIN    0x3d  /* 0 none, 1..4 INTA..INTD */

/* ---- Type 0 header, PCIe 5.0 7.5.1.2 ---- */
#define PCIE_CFG_BAR0             0x10  /* BARs 0..5 at 0x10 + 4*n */
#define PCIE_CFG_CARDBUS_CIS      0x28
#define PCIE_CFG_SUBSYS_VENDOR_ID 0x2c
#define PCIE_CFG_SUBSYS_ID        0x2e
#define PCIE_CFG_ROM_ADDRESS      0x30  /* 7.5.1.2.4 */
#define PCIE_CFG_MIN_GNT          0x3e
#define PCIE_CFG_MAX_LAT          0x3f

/* ---- Type 1 header, PCIe 5.0 7.5.1.3 / PCI-PCI Bridge 1.2 3.2 ---- */
#define PCIE_CFG_PRIMARY_BUS      0x18
#define PCIE_CFG_SECONDARY_BUS    0x19
#define PCIE_CFG_SUBORDINATE_BUS  0x1a
#define PCIE_CFG_SEC_LATENCY      0x1b
#define PCIE_CFG_IO_BASE          0x1c  /* 7.5.1.3.6: low nibble 0 = 16-bit, 1 = 32-bit */
#define PCIE_CFG_IO_LIMIT         0x1d
#define PCIE_CFG_SEC_STATUS       0x1e  /* 7.5.1.3.7 */
#define PCIE_CFG_MEM_BASE         0x20  /* 7.5.1.3.8 */
#define PCIE_CFG_MEM_LIMIT        0x22
#define PCIE_CFG_PREF_BASE        0x24  /* 7.5.1.3.9: low nibble 0 = 32-bit, 1 = 64-bit */
#define PCIE_CFG_PREF_LIMIT       0x26
#define PCIE_CFG_PREF_BASE_UPPER  0x28  /* 7.5.1.3.10 */
#define PCIE_CFG_PREF_LIMIT_UPPER 0x2c
#define PCIE_CFG_IO_BASE_UPPER    0x30  /* 7.5.1.3.11 */
#define PCIE_CFG_IO_LIMIT_UPPER   0x32
#define PCIE_CFG_BRIDGE_ROM       0x38  /* 7.5.1.3.12 */
#define PCIE_CFG_BRIDGE_CONTROL   0x3e  /* 7.5.1.3.13 */

/* Command register bits, PCIe 5.0 7.5.1.1.3 */
#define PCIE_CMD_IO               0x0001u
#define PCIE_CMD_MEMORY           0x0002u
#define PCIE_CMD_BUS_MASTER       0x0004u
#define PCIE_CMD_SPECIAL          0x0008u
#define PCIE_CMD_MWI              0x0010u
#define PCIE_CMD_VGA_SNOOP        0x0020u
#define PCIE_CMD_PARITY           0x0040u
#define PCIE_CMD_WAIT             0x0080u
#define PCIE_CMD_SERR             0x0100u
#define PCIE_CMD_FAST_BACK        0x0200u
#define PCIE_CMD_INTX_DISABLE     0x0400u

/* Status register bits, PCIe 5.0 7.5.1.1.4 */
#define PCIE_STS_IMM_READINESS    0x0001u
#define PCIE_STS_INTX             0x0008u  /* RO, Interrupt Status */
#define PCIE_STS_CAP_LIST         0x0010u  /* RO, set when a capability exists */
#define PCIE_STS_66MHZ            0x0020u
#define PCIE_STS_FAST_BACK        0x0080u
#define PCIE_STS_MASTER_PARITY    0x0100u  /* RW1C, Master Data Parity Error */
#define PCIE_STS_DEVSEL_MASK      0x0600u
#define PCIE_STS_SIG_TARGET_ABORT 0x0800u  /* RW1C, Signaled Target Abort */
#define PCIE_STS_REC_TARGET_ABORT 0x1000u  /* RW1C, Received Target Abort */
#define PCIE_STS_REC_MASTER_ABORT 0x2000u  /* RW1C, Received Master Abort */
#define PCIE_STS_SIG_SYSTEM_ERROR 0x4000u  /* RW1C, Signaled System Error */
#define PCIE_STS_PARITY_ERROR     0x8000u  /* RW1C, Detected Parity Error */

/* Bridge Control bits, PCIe 5.0 7.5.1.3.13 */
#define PCIE_BCTL_PARITY          0x0001u
#define PCIE_BCTL_SERR            0x0002u
#define PCIE_BCTL_ISA             0x0004u
#define PCIE_BCTL_VGA             0x0008u
#define PCIE_BCTL_VGA16           0x0010u
#define PCIE_BCTL_MASTER_ABORT    0x0020u
#define PCIE_BCTL_BUS_RESET       0x0040u  /* Secondary Bus Reset */
#define PCIE_BCTL_FAST_BACK       0x0080u

/* Header Type, PCIe 5.0 7.5.1.1.9 */
#define PCIE_HEADER_TYPE_MASK     0x7fu
#define PCIE_HEADER_MULTIFUNCTION 0x80u
#define PCIE_HEADER_TYPE0         0x00u
#define PCIE_HEADER_TYPE1         0x01u

/* Base address register low bits, PCIe 5.0 7.5.1.2.1 */
#define PCIE_BAR_SPACE_IO         0x1u
#define PCIE_BAR_MEM_TYPE_MASK    0x6u
#define PCIE_BAR_MEM_TYPE_32      0x0u
#define PCIE_BAR_MEM_TYPE_64      0x4u
#define PCIE_BAR_MEM_PREFETCH     0x8u
#define PCIE_ROM_ENABLE           0x1u

#define PCIE_TYPE0_BARS 6
#define PCIE_TYPE1_BARS 2

enum pcie_bar_type {
    PCIE_BAR_NONE = 0,  /* not implemented: reads 0, writes ignored */
    PCIE_BAR_MEM32,     /* 32-bit memory space */
    PCIE_BAR_MEM64,     /* 64-bit memory space: takes this BAR and the next */
    PCIE_BAR_IO,        /* I/O space */
};

/* A BAR as software sees it. */
struct pcie_bar_info {
    enum pcie_bar_type type;
    bool prefetchable;
    uint64_t size;      /* bytes, power of two; 0 when not implemented */
    uint64_t addr;      /* the address programmed now (type bits removed) */
};

struct pcie_cfg;

/* Observation/override of configuration accesses, for device models (e.g. a
 * device that captures its Bus/Device Number from Type 0 Configuration Writes,
 * PCIe 5.0 2.2.6.2, or that reacts to Initiate FLR). Every member may be NULL. */
struct pcie_cfg_hooks {
    void *ctx;
    /* Called before a config write takes effect. Return 0 to apply the normal
     * hardware semantics, 1 when the hook has handled the write itself (the bytes
     * are left as the hook left them), or a negative PCILAB_E* code to fail the
     * request (the caller completes it with UR/CA). */
    int (*write)(void *ctx, struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t val);
    /* Called after a write took effect: `old` is the value before, `now` the value
     * read back (self-clearing bits included as written, so FLR/retrain are seen). */
    void (*written)(void *ctx, struct pcie_cfg *cfg, unsigned off, unsigned size,
                    uint32_t old, uint32_t now);
    /* Called after the normal read; may replace *val. Negative fails the request. */
    int (*read)(void *ctx, struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t *val);
};

/* One function's configuration space. Embeddable (init/fini) or allocated
 * (create/destroy). Fields are public for tests and the capability builders;
 * device models use the functions. */
struct pcie_cfg {
    uint8_t data[PCIE_CFG_SPACE_SIZE];   /* current register bytes */
    uint8_t wmask[PCIE_CFG_SPACE_SIZE];  /* RW bits */
    uint8_t w1c[PCIE_CFG_SPACE_SIZE];    /* RW1C bits */
    uint8_t wzero[PCIE_CFG_SPACE_SIZE];  /* self-clearing bits: written, then read 0 */
    uint8_t sticky[PCIE_CFG_SPACE_SIZE]; /* bits kept across pcie_cfg_reset */
    uint8_t reset[PCIE_CFG_SPACE_SIZE];  /* value after reset */
    unsigned size;                       /* 256 (conventional) or 4096 (PCIe) */
    enum pcie_bar_type bar_type[PCIE_TYPE0_BARS];
    uint64_t bar_size[PCIE_TYPE0_BARS];  /* for MEM64 the size is kept on the low BAR */
    uint32_t rom_size;                   /* 0 = no expansion ROM BAR */
    uint16_t cap_next_free;              /* end of the highest standard capability */
    uint16_t ecap_next_free;             /* end of the highest extended capability */
    uint32_t used[PCIE_CFG_SPACE_SIZE / 128]; /* one bit per DWORD taken by header/capabilities */
    struct pcie_cfg_hooks hooks;
};

/* Identity and header fields common to both header types (PCIe 5.0 7.5.1.1). */
struct pcie_cfg_ident {
    uint16_t vendor_id, device_id;
    uint8_t revision;
    uint32_t class_code;        /* 24 bits: base << 16 | sub << 8 | prog-if */
    uint16_t subsys_vendor_id;  /* Type 0: header 0x2c; Type 1: SSVID capability if non-zero */
    uint16_t subsys_id;
    bool multifunction;         /* Header Type bit 7 */
    uint8_t interrupt_pin;      /* 0 = none, 1..4 = INTA..INTD */
    bool pcie;                  /* true: 4 KiB PCI Express space; false: 256-byte conventional */
};

/* Type 1 (PCI-PCI bridge) options, PCIe 5.0 7.5.1.3. */
struct pcie_bridge_params {
    bool io_window;             /* I/O base/limit implemented */
    bool io_32bit;              /* 32-bit I/O addressing (I/O Base low nibble = 1) */
    bool pref_window;           /* prefetchable window implemented */
    bool pref_64bit;            /* 64-bit prefetchable (Prefetchable Base low nibble = 1) */
};

enum pcie_window { PCIE_WINDOW_IO, PCIE_WINDOW_MEM, PCIE_WINDOW_PREF };

/* ---- life cycle ---- */
struct pcie_cfg *pcie_cfg_create(struct pcilab_err *err);
void pcie_cfg_destroy(struct pcie_cfg *cfg);
/* Clears everything: all bytes 0 and read-only. */
void pcie_cfg_init(struct pcie_cfg *cfg);

/* Type 0 (endpoint) header. Command: I/O, Memory, Bus Master, Parity, SERR,
 * INTx Disable are RW; Status error bits RW1C. */
int pcie_cfg_init_type0(struct pcie_cfg *cfg, const struct pcie_cfg_ident *id,
                        struct pcilab_err *err);
/* Type 1 (PCI-PCI bridge) header: bus numbers, windows, secondary status, bridge
 * control. A non-zero subsys_vendor_id adds the SSVID capability. */
int pcie_cfg_init_type1(struct pcie_cfg *cfg, const struct pcie_cfg_ident *id,
                        const struct pcie_bridge_params *bp, struct pcilab_err *err);
/* Returns the function to its reset image, keeping sticky bits (PCIe 5.0 6.6). */
void pcie_cfg_reset(struct pcie_cfg *cfg);
void pcie_cfg_set_hooks(struct pcie_cfg *cfg, const struct pcie_cfg_hooks *hooks);

/* ---- configuration requests (what a Configuration Read/Write TLP does) ----
 * size 1, 2 or 4, off aligned to size and off + size <= 4096.
 * Misaligned or bad size: -PCILAB_EINVAL; beyond the space: -PCILAB_ERANGE.
 * Offsets at or above cfg->size read 0 and ignore writes (no extended space). */
int pcie_cfg_read(struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t *val,
                  struct pcilab_err *err);
int pcie_cfg_write(struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t val,
                   struct pcilab_err *err);

/* ---- raw (hardware-side) access: no masks, no hooks, little-endian ---- */
uint8_t pcie_cfg_raw_read8(const struct pcie_cfg *cfg, unsigned off);
uint16_t pcie_cfg_raw_read16(const struct pcie_cfg *cfg, unsigned off);
uint32_t pcie_cfg_raw_read32(const struct pcie_cfg *cfg, unsigned off);
void pcie_cfg_raw_write8(struct pcie_cfg *cfg, unsigned off, uint8_t v);
void pcie_cfg_raw_write16(struct pcie_cfg *cfg, unsigned off, uint16_t v);
void pcie_cfg_raw_write32(struct pcie_cfg *cfg, unsigned off, uint32_t v);
/* Sets/clears bits of a status register from the hardware side (e.g. RW1C error
 * bits, Link Status): data = (data & ~mask) | (val & mask), width 1/2/4. */
void pcie_cfg_raw_update(struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t mask,
                         uint32_t val);
/* Declares the semantics of bits [off, off+size): rw, w1c, wzero, sticky masks
 * (little-endian 1/2/4 bytes); `val` becomes both current and reset value. */
void pcie_cfg_define(struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t val,
                     uint32_t rw, uint32_t w1c);
void pcie_cfg_define_ex(struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t val,
                        uint32_t rw, uint32_t w1c, uint32_t wzero, uint32_t sticky);

/* ---- header queries ---- */
uint8_t pcie_cfg_header_type(const struct pcie_cfg *cfg);   /* 0 or 1 (bit 7 removed) */
bool pcie_cfg_is_multifunction(const struct pcie_cfg *cfg);
uint16_t pcie_cfg_command(const struct pcie_cfg *cfg);
uint16_t pcie_cfg_status(const struct pcie_cfg *cfg);
/* Hardware sets a Status bit (e.g. PCIE_STS_REC_MASTER_ABORT after a UR completion). */
void pcie_cfg_status_set(struct pcie_cfg *cfg, uint16_t bits);
void pcie_cfg_sec_status_set(struct pcie_cfg *cfg, uint16_t bits);

/* ---- BARs, PCIe 5.0 7.5.1.2.1 ---- */
/* Declares BAR `bar` (0..5 Type 0, 0..1 Type 1). size: power of two, >= 16 for
 * memory (>= 128 recommended, 4096 for PCIe spec compliance is not enforced),
 * >= 4 and <= 256 for I/O; MEM64 uses bar and bar+1. Sizing then behaves as
 * hardware: writing all-ones reads back ~(size-1) | type bits. */
int pcie_cfg_bar_declare(struct pcie_cfg *cfg, unsigned bar, enum pcie_bar_type type,
                         uint64_t size, bool prefetchable, struct pcilab_err *err);
/* Expansion ROM BAR (7.5.1.2.4 / 7.5.1.3.12), size power of two >= 2 KiB. */
int pcie_cfg_rom_declare(struct pcie_cfg *cfg, uint32_t size, struct pcilab_err *err);
unsigned pcie_cfg_bar_count(const struct pcie_cfg *cfg);      /* 6 or 2 register slots */
/* Fills *out; the upper half of a MEM64 BAR reports type PCIE_BAR_NONE. */
int pcie_cfg_bar_get(const struct pcie_cfg *cfg, unsigned bar, struct pcie_bar_info *out,
                     struct pcilab_err *err);
uint64_t pcie_cfg_bar_addr(const struct pcie_cfg *cfg, unsigned bar);
uint64_t pcie_cfg_bar_size(const struct pcie_cfg *cfg, unsigned bar);
enum pcie_bar_type pcie_cfg_bar_type(const struct pcie_cfg *cfg, unsigned bar);
/* Programs the BAR address as software would (no hooks). */
int pcie_cfg_bar_set_addr(struct pcie_cfg *cfg, unsigned bar, uint64_t addr,
                          struct pcilab_err *err);
/* Expansion ROM: size 0 when absent; *enabled from bit 0. */
uint64_t pcie_cfg_rom_addr(const struct pcie_cfg *cfg, bool *enabled);
/* Which BAR (0..5) decodes `addr` of `len` bytes in memory (io=false) or I/O space,
 * honouring Command.Memory/IO enable; -1 when none. *offset = addr - BAR base. */
int pcie_cfg_bar_decode(const struct pcie_cfg *cfg, bool io, uint64_t addr, uint64_t len,
                        uint64_t *offset);

/* ---- Type 1 bus numbers and windows, PCIe 5.0 7.5.1.3.2-7.5.1.3.11 ---- */
void pcie_cfg_bridge_buses(const struct pcie_cfg *cfg, uint8_t *primary, uint8_t *secondary,
                           uint8_t *subordinate);
void pcie_cfg_bridge_set_buses(struct pcie_cfg *cfg, uint8_t primary, uint8_t secondary,
                               uint8_t subordinate);
/* Programs a window as software would. base/limit are byte addresses; limit is the
 * last byte (inclusive). Granularity: I/O 4 KiB, memory 1 MiB. base > limit (e.g.
 * base = 1 MiB, limit = 0) closes the window. -PCILAB_EINVAL when misaligned or
 * beyond the window's addressing capability or the window is not implemented. */
int pcie_cfg_bridge_set_window(struct pcie_cfg *cfg, enum pcie_window w, uint64_t base,
                               uint64_t limit, struct pcilab_err *err);
/* Returns true when the window is open (base <= limit) and fills base/limit. */
bool pcie_cfg_bridge_window(const struct pcie_cfg *cfg, enum pcie_window w, uint64_t *base,
                            uint64_t *limit);
/* True when the window is implemented at all. */
bool pcie_cfg_bridge_has_window(const struct pcie_cfg *cfg, enum pcie_window w);

#endif
