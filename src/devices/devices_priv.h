/* Private to src/devices: the common part of every model object, the table
 * each model kind fills, and the engines the models share (a DMA write engine
 * that builds its own MWr headers, the MSI path, register-block MMIO). */
#ifndef PCILAB_DEVICES_DEVICES_PRIV_H
#define PCILAB_DEVICES_DEVICES_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/devices.h"
#include "pcie/tlp.h"

#define DEV_MAX_PARAMS 24
#define DEV_VALUE_LEN 48

struct dev_model_ops {
    const struct dev_model_info *info;
    /* Allocates the model for fn and checks fn's configuration space; the
     * parameters' defaults are applied afterwards through set. */
    struct dev_model *(*create)(struct pcilab_sim *sim, struct pcie_fn *fn,
                                struct pcilab_err *err);
    /* Parameter info->params[idx] takes value v. */
    int (*set)(struct dev_model *m, size_t idx, const union dev_value *v, struct pcilab_err *err);
    /* After every parameter: checks their combination, installs the pcie_fn_ops. */
    int (*start)(struct dev_model *m, struct pcilab_err *err);
    void (*destroy)(struct dev_model *m);
};

/* The first member of every model object. */
struct dev_model {
    const struct dev_model_ops *ops;
    struct pcilab_sim *sim;
    struct pcie_fn *fn;
    struct dev_counters counters;
    char values[DEV_MAX_PARAMS][DEV_VALUE_LEN]; /* current text of each parameter */
    char error[256]; /* a hardware error that stopped the device ("" none): dev_model_error */
};

/* The kinds, in registry order (devices.c). */
extern const struct dev_model_ops dev_ecp5_dma_ops;
extern const struct dev_model_ops dev_ecp3_can_ops;
extern const struct dev_model_ops dev_edu_ops;

/* Index of key in info->params, or -1. */
int dev_param_index(const struct dev_model_info *info, const char *key);

/* ---- Configuration-space checks at attach ---- */
/* BAR `bar` must be a memory BAR of at least min_size bytes. */
int dev_check_mem_bar(const struct dev_model *m, unsigned bar, uint64_t min_size,
                      struct pcilab_err *err);
/* The function must have an MSI capability. */
int dev_check_msi(const struct dev_model *m, struct pcilab_err *err);

/* ---- Life cycle ---- */
/* A zeroed model object of `size` bytes (its struct dev_model first) for fn,
 * of kind ops, after checking that fn has BAR0 as a memory BAR of at least
 * regs_size bytes and an MSI capability; NULL with err filled if not. */
struct dev_model *dev_model_new(size_t size, struct pcie_fn *fn, const struct dev_model_ops *ops,
                                uint64_t regs_size, struct pcilab_err *err);

/* ---- Read completions (PCIe 5.0 2.2.9), for a model's own read engine ---- */
enum dev_cpl {
    DEV_CPL_CA,    /* Completer Abort: counted in cpl_ca */
    DEV_CPL_UR,    /* UR or a reserved status (2.2.9: treated as UR): counted in cpl_ur */
    DEV_CPL_EMPTY, /* successful, without data */
    DEV_CPL_DATA,  /* data: *n bytes at t->payload + *skip, counted in read_bytes */
    DEV_CPL_LAST,  /* as DATA, and they are the read's last: counted in reads_completed too */
};
/* Classifies completion t, already matched to one of the model's reads of
 * `len` bytes, `received` of them so far. With data, the bytes start at
 * Lower Address[1:0] of the first DW and are at most Byte Count and what the
 * read still awaits. */
enum dev_cpl dev_read_cpl(struct dev_model *m, const struct pcie_tlp *t, uint32_t received,
                          uint32_t len, uint32_t *skip, uint32_t *n);

/* ---- Register blocks (little-endian DWORD registers) ---- */
typedef uint32_t (*dev_reg_read_fn)(void *ctx, unsigned off);
/* mask: the bytes the request enabled, as a bit mask over the DWORD. */
typedef void (*dev_reg_write_fn)(void *ctx, unsigned off, uint32_t val, uint32_t mask);
/* Splits an MMIO access of any length/alignment into DWORD accesses. Offsets
 * at or beyond `size` read 0 and ignore writes. */
void dev_mmio_read(void *ctx, dev_reg_read_fn rd, unsigned size, uint64_t off, void *buf,
                   unsigned len);
void dev_mmio_write(void *ctx, dev_reg_write_fn wr, unsigned size, uint64_t off,
                    const void *buf, unsigned len);
/* A register write through mask: (old & ~mask) | (val & mask). */
static inline uint32_t dev_reg_merge(uint32_t old, uint32_t val, uint32_t mask)
{
    return (old & ~mask) | (val & mask);
}

/* ---- TLP engines, as user logic behind a soft PCIe IP builds them ---- */
enum dev_addr64 {
    DEV_ADDR64_AUTO = 0, /* 3 DW header below 4 GiB, 4 DW above (PCIe 5.0 2.2.4.1) */
    DEV_ADDR64_ALWAYS,   /* 4 DW whatever the address */
};
enum dev_split {
    DEV_SPLIT_MPS = 0,   /* at Max_Payload_Size and 4 KiB boundaries (2.2.2, 2.2.7) */
    DEV_SPLIT_NONE,      /* at 4 KiB boundaries only: payloads above MPS are sent */
};
struct dev_write_engine {
    struct dev_rid rid;
    enum dev_addr64 addr64;
    enum dev_split split;
};
/* Sends len bytes (addr DWORD aligned; len 1..any) as MWr TLPs. Returns 0, or
 * the first send error (counted in nothing; the caller decides). */
int dev_dma_write(struct dev_model *m, const struct dev_write_engine *e, uint64_t addr,
                  const uint8_t *data, uint32_t len, struct pcilab_err *err);
/* Applies the engine's header rule to a memory request built by pcie_tlp_*. */
void dev_tlp_apply_addr64(struct pcie_tlp *t, enum dev_addr64 a);

/* Signals MSI `vector` from the function's MSI capability with requester ID
 * from rid: enable, Bus Master Enable and per-vector masking as
 * pcie_msi_signal has them; a vector at or beyond the number enabled
 * (Multiple Message Enable) is folded onto the vector its low bits give, as
 * the function may only change those bits of Message Data (PCIe 5.0
 * 6.1.4.3). The message is a DWORD MWr built here (3 DW header below 4 GiB). */
void dev_msi(struct dev_model *m, const struct dev_rid *rid, unsigned vector);
/* After a configuration write: sends the vectors whose Pending bit is set and
 * that can now be delivered (7.7.1.8). */
void dev_msi_pending(struct dev_model *m, const struct dev_rid *rid);

/* The configuration space of a board with Lattice's PCIe endpoint IP as the
 * seed scenario describes it: Type 0 header with the ID (vendor and
 * subsystem 1204h), BAR0 32-bit 4 KiB, PM at 50h, MSI (64-bit) at 70h with
 * msi_vectors, the PCI Express capability at 90h (endpoint, x1 at
 * max_speed, Max_Payload_Size supported mps). */
struct pcie_cfg;
int dev_lattice_cfg_init(struct pcie_cfg *cfg, uint16_t device_id, uint32_t class_code,
                         unsigned msi_vectors, unsigned mps, unsigned max_speed,
                         struct pcilab_err *err);
/* True when MSI Enable is set. */
bool dev_msi_enabled(const struct dev_model *m);

/* Pattern helpers: little-endian stores. */
static inline void dev_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t dev_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
