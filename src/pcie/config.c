/* Configuration space of one function: bytes plus per-bit semantics.
 * PCI Local Bus Specification 3.0 chapter 6, PCI-PCI Bridge Architecture 1.2
 * chapter 3, PCI Express Base Specification 5.0 sections 7.2, 7.4, 7.5.1. */
#include "pcie/config.h"

#include "pcie/caps.h"

#include <stdlib.h>
#include <string.h>

/* pcie_cfg_init's fields beyond the zeroes */
static void init_fields(struct pcie_cfg *cfg)
{
    cfg->size = PCIE_CFG_SPACE_SIZE;
    cfg->cap_next_free = 0x40;   /* PCI 3.0 6.7: capabilities live above the header */
    cfg->ecap_next_free = 0x100; /* PCIe 5.0 7.6: extended capabilities start at 100h */
    cfg->used[0] = 0xffff;       /* the 64-byte header: DWORDs 0..15 */
}

/* Allocated zeroed (calloc: fresh memory is not written again), not cleared
 * a second time: 24 KiB a function, and the header's init clears it anyway. */
struct pcie_cfg *pcie_cfg_create(struct pcilab_err *err)
{
    struct pcie_cfg *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a configuration space");
        return NULL;
    }
    init_fields(cfg);
    return cfg;
}

void pcie_cfg_destroy(struct pcie_cfg *cfg)
{
    free(cfg);
}

void pcie_cfg_init(struct pcie_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    init_fields(cfg);
}

/* ---- little-endian helpers over the byte arrays ---- */

static uint32_t get_le(const uint8_t *a, unsigned off, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)a[off + i] << (8 * i);
    return v;
}

static void put_le(uint8_t *a, unsigned off, unsigned size, uint32_t v)
{
    for (unsigned i = 0; i < size; i++)
        a[off + i] = (uint8_t)(v >> (8 * i));
}

uint8_t pcie_cfg_raw_read8(const struct pcie_cfg *cfg, unsigned off)
{
    return off < PCIE_CFG_SPACE_SIZE ? cfg->data[off] : 0;
}

uint16_t pcie_cfg_raw_read16(const struct pcie_cfg *cfg, unsigned off)
{
    return off + 2 <= PCIE_CFG_SPACE_SIZE ? (uint16_t)get_le(cfg->data, off, 2) : 0;
}

uint32_t pcie_cfg_raw_read32(const struct pcie_cfg *cfg, unsigned off)
{
    return off + 4 <= PCIE_CFG_SPACE_SIZE ? get_le(cfg->data, off, 4) : 0;
}

void pcie_cfg_raw_write8(struct pcie_cfg *cfg, unsigned off, uint8_t v)
{
    if (off < PCIE_CFG_SPACE_SIZE)
        cfg->data[off] = v;
}

void pcie_cfg_raw_write16(struct pcie_cfg *cfg, unsigned off, uint16_t v)
{
    if (off + 2 <= PCIE_CFG_SPACE_SIZE)
        put_le(cfg->data, off, 2, v);
}

void pcie_cfg_raw_write32(struct pcie_cfg *cfg, unsigned off, uint32_t v)
{
    if (off + 4 <= PCIE_CFG_SPACE_SIZE)
        put_le(cfg->data, off, 4, v);
}

void pcie_cfg_raw_update(struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t mask,
                         uint32_t val)
{
    if ((size != 1 && size != 2 && size != 4) || off + size > PCIE_CFG_SPACE_SIZE)
        return;
    uint32_t cur = get_le(cfg->data, off, size);
    put_le(cfg->data, off, size, (cur & ~mask) | (val & mask));
}

void pcie_cfg_define_ex(struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t val,
                        uint32_t rw, uint32_t w1c, uint32_t wzero, uint32_t sticky)
{
    if ((size != 1 && size != 2 && size != 4) || off + size > PCIE_CFG_SPACE_SIZE)
        return;
    put_le(cfg->data, off, size, val);
    put_le(cfg->reset, off, size, val);
    put_le(cfg->wmask, off, size, rw & ~w1c);
    put_le(cfg->w1c, off, size, w1c);
    put_le(cfg->wzero, off, size, wzero);
    put_le(cfg->sticky, off, size, sticky);
}

void pcie_cfg_define(struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t val,
                     uint32_t rw, uint32_t w1c)
{
    pcie_cfg_define_ex(cfg, off, size, val, rw, w1c, 0, 0);
}

/* ---- headers ---- */

static int init_common(struct pcie_cfg *cfg, const struct pcie_cfg_ident *id, uint8_t type,
                       struct pcilab_err *err)
{
    if (id->class_code > 0xffffff)
        return pcilab_errf(err, PCILAB_EINVAL, "class code %#x is wider than 24 bits",
                           id->class_code);
    if (id->interrupt_pin > 4)
        return pcilab_errf(err, PCILAB_EINVAL, "interrupt pin %u is not 0 (none) or 1..4 (INTA..INTD)",
                           id->interrupt_pin);
    if (id->vendor_id == 0xffff)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "vendor ID ffff is what an absent function returns (PCI 3.0 6.2.1)");
    pcie_cfg_init(cfg);
    cfg->size = id->pcie ? PCIE_CFG_SPACE_SIZE : PCIE_CFG_LEGACY_SIZE;
    pcie_cfg_define(cfg, PCIE_CFG_VENDOR_ID, 2, id->vendor_id, 0, 0);
    pcie_cfg_define(cfg, PCIE_CFG_DEVICE_ID, 2, id->device_id, 0, 0);
    /* Command, PCIe 5.0 7.5.1.1.3: I/O Space, Memory Space, Bus Master, Parity Error
     * Response, SERR# Enable and Interrupt Disable are RW; the others are RO 0 on
     * PCI Express (VGA Palette Snoop, MWI, Special Cycles, IDSEL, Fast B2B). */
    uint16_t cmd_rw = PCIE_CMD_IO | PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER | PCIE_CMD_PARITY |
                      PCIE_CMD_SERR | PCIE_CMD_INTX_DISABLE;
    pcie_cfg_define(cfg, PCIE_CFG_COMMAND, 2, 0, cmd_rw, 0);
    /* Status, 7.5.1.1.4: error bits RW1C; Capabilities List, Interrupt Status RO. */
    pcie_cfg_define(cfg, PCIE_CFG_STATUS, 2, 0, 0,
                    PCIE_STS_MASTER_PARITY | PCIE_STS_SIG_TARGET_ABORT |
                        PCIE_STS_REC_TARGET_ABORT | PCIE_STS_REC_MASTER_ABORT |
                        PCIE_STS_SIG_SYSTEM_ERROR | PCIE_STS_PARITY_ERROR);
    pcie_cfg_define(cfg, PCIE_CFG_REVISION_ID, 1, id->revision, 0, 0);
    pcie_cfg_define(cfg, PCIE_CFG_CLASS_PROG, 1, id->class_code & 0xff, 0, 0);
    pcie_cfg_define(cfg, PCIE_CFG_CLASS_SUB, 1, (id->class_code >> 8) & 0xff, 0, 0);
    pcie_cfg_define(cfg, PCIE_CFG_CLASS_BASE, 1, (id->class_code >> 16) & 0xff, 0, 0);
    /* Cache Line Size is RW for compatibility (7.5.1.1.7), Latency Timer RO 0. */
    pcie_cfg_define(cfg, PCIE_CFG_CACHE_LINE_SIZE, 1, 0, 0xff, 0);
    pcie_cfg_define(cfg, PCIE_CFG_HEADER_TYPE, 1,
                    type | (id->multifunction ? PCIE_HEADER_MULTIFUNCTION : 0), 0, 0);
    /* Interrupt Line: RW scratch (7.5.1.1.13); Interrupt Pin RO (7.5.1.1.14). */
    pcie_cfg_define(cfg, PCIE_CFG_INTERRUPT_LINE, 1, id->interrupt_pin ? 0xff : 0,
                    id->interrupt_pin ? 0xff : 0, 0);
    pcie_cfg_define(cfg, PCIE_CFG_INTERRUPT_PIN, 1, id->interrupt_pin, 0, 0);
    return 0;
}

int pcie_cfg_init_type0(struct pcie_cfg *cfg, const struct pcie_cfg_ident *id,
                        struct pcilab_err *err)
{
    int r = init_common(cfg, id, PCIE_HEADER_TYPE0, err);
    if (r < 0)
        return r;
    /* Subsystem IDs, 7.5.1.2.3: HwInit. */
    pcie_cfg_define(cfg, PCIE_CFG_SUBSYS_VENDOR_ID, 2, id->subsys_vendor_id, 0, 0);
    pcie_cfg_define(cfg, PCIE_CFG_SUBSYS_ID, 2, id->subsys_id, 0, 0);
    return 0;
}

int pcie_cfg_init_type1(struct pcie_cfg *cfg, const struct pcie_cfg_ident *id,
                        const struct pcie_bridge_params *bp, struct pcilab_err *err)
{
    static const struct pcie_bridge_params defaults = {
        .io_window = true, .io_32bit = false, .pref_window = true, .pref_64bit = true,
    };
    if (!bp)
        bp = &defaults;
    int r = init_common(cfg, id, PCIE_HEADER_TYPE1, err);
    if (r < 0)
        return r;
    /* Bus numbers, 7.5.1.3.3-7.5.1.3.5: RW, reset 0. */
    pcie_cfg_define(cfg, PCIE_CFG_PRIMARY_BUS, 1, 0, 0xff, 0);
    pcie_cfg_define(cfg, PCIE_CFG_SECONDARY_BUS, 1, 0, 0xff, 0);
    pcie_cfg_define(cfg, PCIE_CFG_SUBORDINATE_BUS, 1, 0, 0xff, 0);
    /* Secondary Latency Timer: RO 0 on PCI Express (7.5.1.3.6). */
    pcie_cfg_define(cfg, PCIE_CFG_SEC_LATENCY, 1, 0, 0, 0);
    /* I/O Base/Limit, 7.5.1.3.6: bits 7:4 RW = address bits 15:12; bits 3:0 RO give
     * the addressing capability (0 = 16-bit, 1 = 32-bit). */
    if (bp->io_window) {
        uint8_t cap = bp->io_32bit ? 1 : 0;
        pcie_cfg_define(cfg, PCIE_CFG_IO_BASE, 1, cap, 0xf0, 0);
        pcie_cfg_define(cfg, PCIE_CFG_IO_LIMIT, 1, cap, 0xf0, 0);
        if (bp->io_32bit) {
            pcie_cfg_define(cfg, PCIE_CFG_IO_BASE_UPPER, 2, 0, 0xffff, 0);
            pcie_cfg_define(cfg, PCIE_CFG_IO_LIMIT_UPPER, 2, 0, 0xffff, 0);
        }
    }
    /* Secondary Status, 7.5.1.3.7: same error bits as Status, RW1C. */
    pcie_cfg_define(cfg, PCIE_CFG_SEC_STATUS, 2, 0, 0,
                    PCIE_STS_MASTER_PARITY | PCIE_STS_SIG_TARGET_ABORT |
                        PCIE_STS_REC_TARGET_ABORT | PCIE_STS_REC_MASTER_ABORT |
                        PCIE_STS_SIG_SYSTEM_ERROR | PCIE_STS_PARITY_ERROR);
    /* Memory Base/Limit, 7.5.1.3.8: bits 15:4 = address bits 31:20, bits 3:0 RO 0. */
    pcie_cfg_define(cfg, PCIE_CFG_MEM_BASE, 2, 0, 0xfff0, 0);
    pcie_cfg_define(cfg, PCIE_CFG_MEM_LIMIT, 2, 0, 0xfff0, 0);
    /* Prefetchable Base/Limit, 7.5.1.3.9-10: low nibble 1 = 64-bit addressing. */
    if (bp->pref_window) {
        uint16_t cap = bp->pref_64bit ? 1 : 0;
        pcie_cfg_define(cfg, PCIE_CFG_PREF_BASE, 2, cap, 0xfff0, 0);
        pcie_cfg_define(cfg, PCIE_CFG_PREF_LIMIT, 2, cap, 0xfff0, 0);
        if (bp->pref_64bit) {
            pcie_cfg_define(cfg, PCIE_CFG_PREF_BASE_UPPER, 4, 0, 0xffffffffu, 0);
            pcie_cfg_define(cfg, PCIE_CFG_PREF_LIMIT_UPPER, 4, 0, 0xffffffffu, 0);
        }
    }
    /* Bridge Control, 7.5.1.3.13: Parity Error Response, SERR# Enable, ISA Enable,
     * VGA Enable, VGA 16-bit Decode, Secondary Bus Reset RW; Master Abort Mode and
     * Fast Back-to-Back are RO 0 on PCI Express. */
    pcie_cfg_define(cfg, PCIE_CFG_BRIDGE_CONTROL, 2, 0,
                    PCIE_BCTL_PARITY | PCIE_BCTL_SERR | PCIE_BCTL_ISA | PCIE_BCTL_VGA |
                        PCIE_BCTL_VGA16 | PCIE_BCTL_BUS_RESET,
                    0);
    return 0;
}

void pcie_cfg_reset(struct pcie_cfg *cfg)
{
    /* PCIe 5.0 7.4: sticky bits (RWS, RW1CS, ROS) keep their value across a
     * Function Level Reset or a hot reset; everything else returns to its
     * default. */
    for (unsigned i = 0; i < PCIE_CFG_SPACE_SIZE; i++)
        cfg->data[i] = (uint8_t)((cfg->data[i] & cfg->sticky[i]) |
                                 (cfg->reset[i] & (uint8_t)~cfg->sticky[i]));
}

void pcie_cfg_set_hooks(struct pcie_cfg *cfg, const struct pcie_cfg_hooks *hooks)
{
    if (hooks)
        cfg->hooks = *hooks;
    else
        memset(&cfg->hooks, 0, sizeof cfg->hooks);
}

/* ---- configuration requests ---- */

static int check_access(const struct pcie_cfg *cfg, unsigned off, unsigned size,
                        struct pcilab_err *err)
{
    (void)cfg;
    if (size != 1 && size != 2 && size != 4)
        return pcilab_errf(err, PCILAB_EINVAL, "configuration access of %u bytes (1, 2 or 4)",
                           size);
    if (off & (size - 1))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "configuration access of %u bytes at %#x is not naturally aligned",
                           size, off);
    if (off + size > PCIE_CFG_SPACE_SIZE)
        return pcilab_errf(err, PCILAB_ERANGE,
                           "configuration offset %#x is beyond the 4 KiB space", off);
    return 0;
}

int pcie_cfg_read(struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t *val,
                  struct pcilab_err *err)
{
    int r = check_access(cfg, off, size, err);
    if (r < 0)
        return r;
    /* PCIe 5.0 7.2.2.2: a function without extended space reads 0 there. */
    *val = off < cfg->size ? get_le(cfg->data, off, size) : 0;
    if (cfg->hooks.read)
        return cfg->hooks.read(cfg->hooks.ctx, cfg, off, size, val);
    return 0;
}

int pcie_cfg_write(struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t val,
                   struct pcilab_err *err)
{
    int r = check_access(cfg, off, size, err);
    if (r < 0)
        return r;
    if (size < 4)
        val &= (1u << (8 * size)) - 1;
    uint32_t old = get_le(cfg->data, off, size);
    if (cfg->hooks.write) {
        r = cfg->hooks.write(cfg->hooks.ctx, cfg, off, size, val);
        if (r < 0)
            return r;
        if (r > 0) {
            if (cfg->hooks.written)
                cfg->hooks.written(cfg->hooks.ctx, cfg, off, size, old,
                                   get_le(cfg->data, off, size));
            return 0;
        }
    }
    if (off >= cfg->size)
        return 0;
    val = pcie_caps_filter_write(cfg, off, size, val);
    uint32_t seen = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned o = off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t cur = cfg->data[o];
        uint8_t rw = cfg->wmask[o], wc = cfg->w1c[o], wz = cfg->wzero[o];
        /* RW bits take the written value, RW1C bits clear where a 1 is written,
         * everything else keeps its value (RO, HwInit). */
        uint8_t now = (uint8_t)(((cur & ~rw) | (b & rw)) & ~(b & wc));
        /* Self-clearing bits: the write is seen (by the hooks) but reads 0. */
        seen |= (uint32_t)(uint8_t)(now | (b & wz)) << (8 * i);
        cfg->data[o] = (uint8_t)(now & ~wz);
    }
    if (cfg->hooks.written)
        cfg->hooks.written(cfg->hooks.ctx, cfg, off, size, old, seen);
    return 0;
}

/* ---- header queries ---- */

uint8_t pcie_cfg_header_type(const struct pcie_cfg *cfg)
{
    return cfg->data[PCIE_CFG_HEADER_TYPE] & PCIE_HEADER_TYPE_MASK;
}

bool pcie_cfg_is_multifunction(const struct pcie_cfg *cfg)
{
    return (cfg->data[PCIE_CFG_HEADER_TYPE] & PCIE_HEADER_MULTIFUNCTION) != 0;
}

uint16_t pcie_cfg_command(const struct pcie_cfg *cfg)
{
    return pcie_cfg_raw_read16(cfg, PCIE_CFG_COMMAND);
}

uint16_t pcie_cfg_status(const struct pcie_cfg *cfg)
{
    return pcie_cfg_raw_read16(cfg, PCIE_CFG_STATUS);
}

void pcie_cfg_status_set(struct pcie_cfg *cfg, uint16_t bits)
{
    pcie_cfg_raw_update(cfg, PCIE_CFG_STATUS, 2, bits, bits);
}

void pcie_cfg_sec_status_set(struct pcie_cfg *cfg, uint16_t bits)
{
    if (pcie_cfg_header_type(cfg) == PCIE_HEADER_TYPE1)
        pcie_cfg_raw_update(cfg, PCIE_CFG_SEC_STATUS, 2, bits, bits);
}

/* ---- BARs ---- */

unsigned pcie_cfg_bar_count(const struct pcie_cfg *cfg)
{
    return pcie_cfg_header_type(cfg) == PCIE_HEADER_TYPE1 ? PCIE_TYPE1_BARS : PCIE_TYPE0_BARS;
}

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

int pcie_cfg_bar_declare(struct pcie_cfg *cfg, unsigned bar, enum pcie_bar_type type,
                         uint64_t size, bool prefetchable, struct pcilab_err *err)
{
    unsigned n = pcie_cfg_bar_count(cfg);
    if (bar >= n)
        return pcilab_errf(err, PCILAB_EINVAL, "BAR%u does not exist in a Type %u header",
                           bar, pcie_cfg_header_type(cfg));
    if (type == PCIE_BAR_MEM64 && bar + 1 >= n)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "64-bit BAR%u needs BAR%u for its upper half", bar, bar + 1);
    if (cfg->bar_type[bar] != PCIE_BAR_NONE || cfg->data[PCIE_CFG_BAR0 + 4 * bar] ||
        (bar > 0 && cfg->bar_type[bar - 1] == PCIE_BAR_MEM64) ||
        (type == PCIE_BAR_MEM64 && cfg->bar_type[bar + 1] != PCIE_BAR_NONE))
        return pcilab_errf(err, PCILAB_EEXIST, "BAR%u is already declared", bar);
    unsigned off = PCIE_CFG_BAR0 + 4 * bar;
    switch (type) {
    case PCIE_BAR_NONE:
        return pcilab_errf(err, PCILAB_EINVAL, "BAR%u: no type given", bar);
    case PCIE_BAR_IO:
        /* 7.5.1.2.1: I/O BARs request at most 256 bytes; bit 0 = 1, bit 1 reserved. */
        if (!is_pow2(size) || size < 4 || size > 256)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "BAR%u: I/O size %llu is not a power of two in 4..256", bar,
                               (unsigned long long)size);
        if (prefetchable)
            return pcilab_errf(err, PCILAB_EINVAL, "BAR%u: I/O space is not prefetchable", bar);
        pcie_cfg_define(cfg, off, 4, PCIE_BAR_SPACE_IO, (uint32_t)~(size - 1), 0);
        break;
    case PCIE_BAR_MEM32:
        if (!is_pow2(size) || size < 16 || size > (1ull << 31))
            return pcilab_errf(err, PCILAB_EINVAL,
                               "BAR%u: 32-bit memory size %llu is not a power of two in 16..2G",
                               bar, (unsigned long long)size);
        pcie_cfg_define(cfg, off, 4,
                        PCIE_BAR_MEM_TYPE_32 | (prefetchable ? PCIE_BAR_MEM_PREFETCH : 0),
                        (uint32_t)~(size - 1) & ~0xfu, 0);
        break;
    case PCIE_BAR_MEM64:
        if (!is_pow2(size) || size < 16 || size > (1ull << 63))
            return pcilab_errf(err, PCILAB_EINVAL,
                               "BAR%u: 64-bit memory size %llu is not a power of two >= 16",
                               bar, (unsigned long long)size);
        pcie_cfg_define(cfg, off, 4,
                        PCIE_BAR_MEM_TYPE_64 | (prefetchable ? PCIE_BAR_MEM_PREFETCH : 0),
                        (uint32_t)~(size - 1) & ~0xfu, 0);
        pcie_cfg_define(cfg, off + 4, 4, 0, (uint32_t)(~(size - 1) >> 32), 0);
        break;
    default:
        return pcilab_errf(err, PCILAB_EINVAL, "BAR%u: unknown type %d", bar, (int)type);
    }
    cfg->bar_type[bar] = type;
    cfg->bar_size[bar] = size;
    return 0;
}

int pcie_cfg_rom_declare(struct pcie_cfg *cfg, uint32_t size, struct pcilab_err *err)
{
    /* 7.5.1.2.4: bits 31:11 address, bit 0 enable; at least 2 KiB. */
    if (!is_pow2(size) || size < 2048)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "expansion ROM size %u is not a power of two >= 2048", size);
    unsigned off = pcie_cfg_header_type(cfg) == PCIE_HEADER_TYPE1 ? PCIE_CFG_BRIDGE_ROM
                                                                  : PCIE_CFG_ROM_ADDRESS;
    pcie_cfg_define(cfg, off, 4, 0, (~(size - 1) & 0xfffff800u) | PCIE_ROM_ENABLE, 0);
    cfg->rom_size = size;
    return 0;
}

enum pcie_bar_type pcie_cfg_bar_type(const struct pcie_cfg *cfg, unsigned bar)
{
    return bar < pcie_cfg_bar_count(cfg) ? cfg->bar_type[bar] : PCIE_BAR_NONE;
}

uint64_t pcie_cfg_bar_size(const struct pcie_cfg *cfg, unsigned bar)
{
    return pcie_cfg_bar_type(cfg, bar) != PCIE_BAR_NONE ? cfg->bar_size[bar] : 0;
}

uint64_t pcie_cfg_bar_addr(const struct pcie_cfg *cfg, unsigned bar)
{
    enum pcie_bar_type t = pcie_cfg_bar_type(cfg, bar);
    uint32_t lo = pcie_cfg_raw_read32(cfg, PCIE_CFG_BAR0 + 4 * bar);
    switch (t) {
    case PCIE_BAR_IO:
        return lo & ~0x3u;
    case PCIE_BAR_MEM32:
        return lo & ~0xfu;
    case PCIE_BAR_MEM64:
        return ((uint64_t)pcie_cfg_raw_read32(cfg, PCIE_CFG_BAR0 + 4 * (bar + 1)) << 32) |
               (lo & ~0xfu);
    default:
        return 0;
    }
}

int pcie_cfg_bar_get(const struct pcie_cfg *cfg, unsigned bar, struct pcie_bar_info *out,
                     struct pcilab_err *err)
{
    if (bar >= pcie_cfg_bar_count(cfg))
        return pcilab_errf(err, PCILAB_EINVAL, "BAR%u does not exist in a Type %u header",
                           bar, pcie_cfg_header_type(cfg));
    memset(out, 0, sizeof *out);
    out->type = cfg->bar_type[bar];
    if (out->type == PCIE_BAR_NONE)
        return 0;
    out->size = cfg->bar_size[bar];
    out->addr = pcie_cfg_bar_addr(cfg, bar);
    out->prefetchable = out->type != PCIE_BAR_IO &&
                        (cfg->data[PCIE_CFG_BAR0 + 4 * bar] & PCIE_BAR_MEM_PREFETCH);
    return 0;
}

int pcie_cfg_bar_set_addr(struct pcie_cfg *cfg, unsigned bar, uint64_t addr,
                          struct pcilab_err *err)
{
    enum pcie_bar_type t = pcie_cfg_bar_type(cfg, bar);
    if (t == PCIE_BAR_NONE)
        return pcilab_errf(err, PCILAB_ENOENT, "BAR%u is not implemented", bar);
    uint64_t size = cfg->bar_size[bar];
    if (addr & (size - 1))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "BAR%u address %#llx is not aligned to its size %#llx", bar,
                           (unsigned long long)addr, (unsigned long long)size);
    uint64_t limit = t == PCIE_BAR_MEM64 ? UINT64_MAX : 0xffffffffull;
    if (addr > limit - (size - 1))
        return pcilab_errf(err, PCILAB_ERANGE, "BAR%u address %#llx does not fit its type",
                           bar, (unsigned long long)addr);
    unsigned off = PCIE_CFG_BAR0 + 4 * bar;
    uint32_t lo = pcie_cfg_raw_read32(cfg, off);
    uint32_t mask = get_le(cfg->wmask, off, 4);
    pcie_cfg_raw_write32(cfg, off, (lo & ~mask) | ((uint32_t)addr & mask));
    if (t == PCIE_BAR_MEM64)
        pcie_cfg_raw_write32(cfg, off + 4, (uint32_t)(addr >> 32));
    return 0;
}

uint64_t pcie_cfg_rom_addr(const struct pcie_cfg *cfg, bool *enabled)
{
    unsigned off = pcie_cfg_header_type(cfg) == PCIE_HEADER_TYPE1 ? PCIE_CFG_BRIDGE_ROM
                                                                  : PCIE_CFG_ROM_ADDRESS;
    uint32_t v = pcie_cfg_raw_read32(cfg, off);
    if (enabled)
        *enabled = cfg->rom_size && (v & PCIE_ROM_ENABLE);
    return cfg->rom_size ? (v & 0xfffff800u) : 0;
}

int pcie_cfg_bar_decode(const struct pcie_cfg *cfg, bool io, uint64_t addr, uint64_t len,
                        uint64_t *offset)
{
    uint16_t cmd = pcie_cfg_command(cfg);
    /* 7.5.1.1.3: Memory Space / I/O Space Enable gate all decoding. */
    if (!(cmd & (io ? PCIE_CMD_IO : PCIE_CMD_MEMORY)) || len == 0)
        return -1;
    for (unsigned bar = 0; bar < pcie_cfg_bar_count(cfg); bar++) {
        enum pcie_bar_type t = cfg->bar_type[bar];
        if (t == PCIE_BAR_NONE || (t == PCIE_BAR_IO) != io)
            continue;
        uint64_t base = pcie_cfg_bar_addr(cfg, bar), size = cfg->bar_size[bar];
        if (addr >= base && addr - base < size && len <= size - (addr - base)) {
            if (offset)
                *offset = addr - base;
            return (int)bar;
        }
    }
    return -1;
}

/* ---- Type 1 bus numbers and windows ---- */

void pcie_cfg_bridge_buses(const struct pcie_cfg *cfg, uint8_t *primary, uint8_t *secondary,
                           uint8_t *subordinate)
{
    if (primary)
        *primary = cfg->data[PCIE_CFG_PRIMARY_BUS];
    if (secondary)
        *secondary = cfg->data[PCIE_CFG_SECONDARY_BUS];
    if (subordinate)
        *subordinate = cfg->data[PCIE_CFG_SUBORDINATE_BUS];
}

void pcie_cfg_bridge_set_buses(struct pcie_cfg *cfg, uint8_t primary, uint8_t secondary,
                               uint8_t subordinate)
{
    if (pcie_cfg_header_type(cfg) != PCIE_HEADER_TYPE1)
        return;
    cfg->data[PCIE_CFG_PRIMARY_BUS] = primary;
    cfg->data[PCIE_CFG_SECONDARY_BUS] = secondary;
    cfg->data[PCIE_CFG_SUBORDINATE_BUS] = subordinate;
}

bool pcie_cfg_bridge_has_window(const struct pcie_cfg *cfg, enum pcie_window w)
{
    if (pcie_cfg_header_type(cfg) != PCIE_HEADER_TYPE1)
        return false;
    switch (w) {
    case PCIE_WINDOW_IO:
        return cfg->wmask[PCIE_CFG_IO_BASE] != 0;
    case PCIE_WINDOW_MEM:
        return true; /* 7.5.1.3.8: the memory window is mandatory */
    case PCIE_WINDOW_PREF:
        return cfg->wmask[PCIE_CFG_PREF_BASE + 1] != 0;
    }
    return false;
}

bool pcie_cfg_bridge_window(const struct pcie_cfg *cfg, enum pcie_window w, uint64_t *base,
                            uint64_t *limit)
{
    uint64_t b = 0, l = 0;
    if (!pcie_cfg_bridge_has_window(cfg, w))
        return false;
    switch (w) {
    case PCIE_WINDOW_IO: {
        /* 7.5.1.3.6: address bits 15:12 from bits 7:4; limit's low 12 bits are FFFh. */
        uint8_t bb = cfg->data[PCIE_CFG_IO_BASE], lb = cfg->data[PCIE_CFG_IO_LIMIT];
        b = (uint64_t)(bb & 0xf0) << 8;
        l = ((uint64_t)(lb & 0xf0) << 8) | 0xfff;
        if ((bb & 0x0f) == 1) {
            b |= (uint64_t)pcie_cfg_raw_read16(cfg, PCIE_CFG_IO_BASE_UPPER) << 16;
            l |= (uint64_t)pcie_cfg_raw_read16(cfg, PCIE_CFG_IO_LIMIT_UPPER) << 16;
        }
        break;
    }
    case PCIE_WINDOW_MEM:
        /* 7.5.1.3.8: bits 15:4 are address bits 31:20; limit's low 20 bits FFFFFh. */
        b = (uint64_t)(pcie_cfg_raw_read16(cfg, PCIE_CFG_MEM_BASE) & 0xfff0) << 16;
        l = ((uint64_t)(pcie_cfg_raw_read16(cfg, PCIE_CFG_MEM_LIMIT) & 0xfff0) << 16) | 0xfffff;
        break;
    case PCIE_WINDOW_PREF: {
        uint16_t bb = pcie_cfg_raw_read16(cfg, PCIE_CFG_PREF_BASE);
        uint16_t lb = pcie_cfg_raw_read16(cfg, PCIE_CFG_PREF_LIMIT);
        b = (uint64_t)(bb & 0xfff0) << 16;
        l = ((uint64_t)(lb & 0xfff0) << 16) | 0xfffff;
        if ((bb & 0x0f) == 1) { /* 7.5.1.3.10: upper 32 bits */
            b |= (uint64_t)pcie_cfg_raw_read32(cfg, PCIE_CFG_PREF_BASE_UPPER) << 32;
            l |= (uint64_t)pcie_cfg_raw_read32(cfg, PCIE_CFG_PREF_LIMIT_UPPER) << 32;
        }
        break;
    }
    }
    if (base)
        *base = b;
    if (limit)
        *limit = l;
    return b <= l;
}

int pcie_cfg_bridge_set_window(struct pcie_cfg *cfg, enum pcie_window w, uint64_t base,
                               uint64_t limit, struct pcilab_err *err)
{
    static const char *const names[] = {"I/O", "memory", "prefetchable memory"};
    if ((unsigned)w > PCIE_WINDOW_PREF)
        return pcilab_errf(err, PCILAB_EINVAL, "unknown bridge window %d", (int)w);
    if (!pcie_cfg_bridge_has_window(cfg, w))
        return pcilab_errf(err, PCILAB_ENOENT, "the bridge has no %s window", names[w]);
    bool closed = base > limit;
    uint64_t gran = w == PCIE_WINDOW_IO ? 0x1000 : 0x100000;
    uint64_t max;
    if (w == PCIE_WINDOW_IO)
        max = (cfg->data[PCIE_CFG_IO_BASE] & 0x0f) == 1 ? 0xffffffffull : 0xffffull;
    else if (w == PCIE_WINDOW_MEM)
        max = 0xffffffffull;
    else
        max = (cfg->data[PCIE_CFG_PREF_BASE] & 0x0f) == 1 ? UINT64_MAX : 0xffffffffull;
    if (closed) {
        /* Any base above limit closes the window; use base = granule, limit = 0. */
        base = gran;
        limit = 0;
    } else {
        if (base & (gran - 1))
            return pcilab_errf(err, PCILAB_EINVAL,
                               "%s window base %#llx is not aligned to %#llx", names[w],
                               (unsigned long long)base, (unsigned long long)gran);
        if ((limit & (gran - 1)) != gran - 1)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "%s window limit %#llx does not end a %#llx granule", names[w],
                               (unsigned long long)limit, (unsigned long long)gran);
        if (limit > max)
            return pcilab_errf(err, PCILAB_ERANGE,
                               "%s window limit %#llx is beyond the bridge's addressing",
                               names[w], (unsigned long long)limit);
    }
    switch (w) {
    case PCIE_WINDOW_IO:
        pcie_cfg_raw_update(cfg, PCIE_CFG_IO_BASE, 1, 0xf0, (uint32_t)(base >> 8));
        pcie_cfg_raw_update(cfg, PCIE_CFG_IO_LIMIT, 1, 0xf0, (uint32_t)(limit >> 8));
        if ((cfg->data[PCIE_CFG_IO_BASE] & 0x0f) == 1) {
            pcie_cfg_raw_write16(cfg, PCIE_CFG_IO_BASE_UPPER, (uint16_t)(base >> 16));
            pcie_cfg_raw_write16(cfg, PCIE_CFG_IO_LIMIT_UPPER, (uint16_t)(limit >> 16));
        }
        break;
    case PCIE_WINDOW_MEM:
        pcie_cfg_raw_update(cfg, PCIE_CFG_MEM_BASE, 2, 0xfff0, (uint32_t)(base >> 16));
        pcie_cfg_raw_update(cfg, PCIE_CFG_MEM_LIMIT, 2, 0xfff0, (uint32_t)(limit >> 16));
        break;
    case PCIE_WINDOW_PREF:
        pcie_cfg_raw_update(cfg, PCIE_CFG_PREF_BASE, 2, 0xfff0, (uint32_t)(base >> 16));
        pcie_cfg_raw_update(cfg, PCIE_CFG_PREF_LIMIT, 2, 0xfff0, (uint32_t)(limit >> 16));
        if ((cfg->data[PCIE_CFG_PREF_BASE] & 0x0f) == 1) {
            pcie_cfg_raw_write32(cfg, PCIE_CFG_PREF_BASE_UPPER, (uint32_t)(base >> 32));
            pcie_cfg_raw_write32(cfg, PCIE_CFG_PREF_LIMIT_UPPER, (uint32_t)(limit >> 32));
        }
        break;
    }
    return 0;
}
