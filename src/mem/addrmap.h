/* The physical address map: which agent claims each physical address.
 *
 * A map holds non-overlapping regions, each RAM (backed by a struct mem_phys at
 * the same physical address), MMIO (a window whose accesses go to its owner's
 * callbacks, e.g. a device BAR or the IOMMU's register block) or RESERVED
 * (claimed by the platform but not accessible: a hole, firmware-reserved
 * range, the MSI window when not decoded as memory). Everything else is
 * unclaimed.
 *
 * Accesses are checked whole before any byte moves: an access that is not
 * entirely inside one region is refused with MEM_ACCESS_SPANS_REGIONS, except
 * that an access covering several RAM regions that touch each other without a
 * gap is allowed (it is one contiguous stretch of DRAM to the hardware).
 * Lookup is a binary search over the regions kept sorted by base; adding and
 * removing regions is the slow path, dispatching allocates nothing. */
#ifndef PCILAB_MEM_ADDRMAP_H
#define PCILAB_MEM_ADDRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "mem/physmem.h"
#include "sim/bytes.h"
#include "sim/err.h"

enum mem_region_kind {
    MEM_REGION_RAM,
    MEM_REGION_MMIO,
    MEM_REGION_RESERVED,
};

/* MMIO owner callbacks. offset is relative to the region's base; len is the
 * access size in bytes (1..any: a PCIe memory write may carry up to 4 KiB).
 * Return 0, or a negative PCILAB_E* code when the device refuses the access
 * (reported as MEM_ACCESS_DEVICE_ERROR). A missing callback refuses too. */
struct mem_mmio_ops {
    int (*read)(void *ctx, uint64_t offset, void *buf, size_t len);
    int (*write)(void *ctx, uint64_t offset, const void *buf, size_t len);
    /* Optional: a 4-byte register access with the value as a number (the
     * bytes little-endian), for owners whose registers a CPU polls at a high
     * rate. They must do exactly what read/write of 4 bytes at offset do;
     * without them mem_addrmap_read32/write32 use read/write. */
    int (*read32)(void *ctx, uint64_t offset, uint32_t *v);
    int (*write32)(void *ctx, uint64_t offset, uint32_t v);
};

#define MEM_REGION_NAME_MAX 48

struct mem_region {
    uint64_t base;
    uint64_t size;                  /* bytes, > 0; base + size may equal 2^64 */
    enum mem_region_kind kind;
    char name[MEM_REGION_NAME_MAX]; /* for messages: "System RAM", "0000:01:00.0 BAR0" */
    const struct mem_mmio_ops *ops; /* MMIO only */
    void *ctx;                      /* MMIO only: passed to ops */
};

/* Last byte of a region (no overflow when the region ends at 2^64). */
static inline uint64_t mem_region_last(const struct mem_region *r)
{
    return r->base + (r->size - 1);
}

enum mem_access_result {
    MEM_ACCESS_OK = 0,
    MEM_ACCESS_UNCLAIMED,     /* no region claims (part of) the access */
    MEM_ACCESS_RESERVED,      /* the access hits a RESERVED region */
    MEM_ACCESS_SPANS_REGIONS, /* the access starts in one region and ends in another */
    MEM_ACCESS_WRAPS,         /* the access runs past 0xffff_ffff_ffff_ffff */
    MEM_ACCESS_DEVICE_ERROR,  /* an MMIO owner refused the access */
    MEM_ACCESS_NO_MEMORY,     /* RAM page could not be materialised */
};

/* "ok", "unclaimed address", "reserved address", "access spans two regions",
 * "access wraps past 2^64", "device error", "out of memory". */
const char *mem_access_result_name(enum mem_access_result r);

struct mem_addrmap;

/* ram backs every RAM region (at the same physical address); the map does not
 * own it. ram may be NULL if the map will have no RAM regions. */
struct mem_addrmap *mem_addrmap_create(struct mem_phys *ram);
void mem_addrmap_destroy(struct mem_addrmap *map);

/* Adds a copy of *r. Errors: -PCILAB_EINVAL (size 0, runs past 2^64, RAM with
 * no backing memory, MMIO without ops), -PCILAB_EEXIST when it overlaps an
 * existing region (the message names both), -PCILAB_ENOMEM. */
int mem_addrmap_add(struct mem_addrmap *map, const struct mem_region *r, struct pcilab_err *err);
/* Convenience constructors over mem_addrmap_add. */
int mem_addrmap_add_ram(struct mem_addrmap *map, uint64_t base, uint64_t size, const char *name,
                        struct pcilab_err *err);
int mem_addrmap_add_reserved(struct mem_addrmap *map, uint64_t base, uint64_t size,
                             const char *name, struct pcilab_err *err);
int mem_addrmap_add_mmio(struct mem_addrmap *map, uint64_t base, uint64_t size, const char *name,
                         const struct mem_mmio_ops *ops, void *ctx, struct pcilab_err *err);
/* Removes the region that starts exactly at base (a BAR being moved or
 * disabled). -PCILAB_ENOENT when there is none. */
int mem_addrmap_remove(struct mem_addrmap *map, uint64_t base, struct pcilab_err *err);

/* A number that changes whenever a region is added or removed: a caller may
 * remember a region's bounds (not its pointer) while it stays the same. */
uint64_t mem_addrmap_generation(const struct mem_addrmap *map);
/* Where that number lives, for a caller that checks it on every access (a
 * remembered RAM region, a register port): one load instead of a call.
 * Valid as long as the map. */
const uint64_t *mem_addrmap_generation_ptr(const struct mem_addrmap *map);

/* Region containing pa, or NULL. */
const struct mem_region *mem_addrmap_lookup(const struct mem_addrmap *map, uint64_t pa);
/* Regions in ascending base order: index 0 .. count-1. */
size_t mem_addrmap_count(const struct mem_addrmap *map);
const struct mem_region *mem_addrmap_at(const struct mem_addrmap *map, size_t i);

/* Access outcome beyond the bare result: where it failed and which region(s). */
struct mem_access_info {
    enum mem_access_result result;
    uint64_t addr;                   /* first byte the result is about */
    const struct mem_region *region; /* region at addr, or NULL */
    const struct mem_region *next;   /* SPANS_REGIONS: the region (or NULL) it runs into */
    int device_code;                 /* DEVICE_ERROR: the callback's return value */
};

/* Read/write [pa, pa+len) through the map. Returns 0 when result is
 * MEM_ACCESS_OK, else a negative PCILAB_E* code (ERANGE for unclaimed,
 * reserved, spanning and wrapping accesses, ENOMEM, or the device's code).
 * info may be NULL. Nothing is transferred unless the whole access is valid. */
int mem_addrmap_read(struct mem_addrmap *map, uint64_t pa, void *buf, size_t len,
                     struct mem_access_info *info);
int mem_addrmap_write(struct mem_addrmap *map, uint64_t pa, const void *buf, size_t len,
                      struct mem_access_info *info);

/* A 4-byte CPU load or store (readl/writel), the value little-endian in
 * memory: the same as mem_addrmap_read/write of 4 bytes without info, but an
 * MMIO register whose owner has read32/write32 is reached without a byte
 * buffer. A failed read leaves *v unchanged. */
int mem_addrmap_read32_other(struct mem_addrmap *map, uint64_t pa, uint32_t *v);
int mem_addrmap_write32_other(struct mem_addrmap *map, uint64_t pa, uint32_t v);

/* The map's remembered register region (the first member of struct
 * mem_addrmap; only addrmap.c writes it): inline below, a register access
 * inside it is one compare and the owner's call, no call into the map. */
struct mem_addrmap_reg {
    uint64_t base, span; /* pa - base <= span: inside */
    const struct mem_mmio_ops *ops; /* NULL: nothing remembered */
    void *ctx;
};

static inline int mem_addrmap_read32(struct mem_addrmap *map, uint64_t pa, uint32_t *v)
{
    const struct mem_addrmap_reg *r = (const struct mem_addrmap_reg *)(const void *)map;
    if (r->ops && pa - r->base <= r->span)
        return r->ops->read32(r->ctx, pa - r->base, v);
    return mem_addrmap_read32_other(map, pa, v);
}

static inline int mem_addrmap_write32(struct mem_addrmap *map, uint64_t pa, uint32_t v)
{
    const struct mem_addrmap_reg *r = (const struct mem_addrmap_reg *)(const void *)map;
    if (r->ops && pa - r->base <= r->span)
        return r->ops->write32(r->ctx, pa - r->base, v);
    return mem_addrmap_write32_other(map, pa, v);
}

/* One 64-bit little-endian access, as a CPU's readq / writeq (the bytes
 * through mem_addrmap_read / mem_addrmap_write). */
static inline int mem_addrmap_read64(struct mem_addrmap *map, uint64_t pa, uint64_t *v)
{
    uint8_t b[8];
    int r = mem_addrmap_read(map, pa, b, 8, NULL);
    if (r >= 0)
        *v = sim_get_le64(b);
    return r;
}

static inline int mem_addrmap_write64(struct mem_addrmap *map, uint64_t pa, uint64_t v)
{
    uint8_t b[8];
    sim_put_le64(b, v);
    return mem_addrmap_write(map, pa, b, 8, NULL);
}

/* One line for people: "unclaimed address 0x00000000ffbf8000",
 * "reserved address 0x00000000fee00000 (MSI window)",
 * "access spans two regions at 0x...: 'System RAM' into 'BAR0'". Returns buf. */
const char *mem_access_info_str(const struct mem_access_info *info, char *buf, size_t len);

#endif
