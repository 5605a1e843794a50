#include "mem/addrmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/bytes.h"

struct mem_addrmap {
    /* The MMIO region of the last 32-bit register access whose owner has
     * read32 and write32 (ops NULL: none): an access with
     * pa - reg.base <= reg.span lies inside it. Forgotten on every add and
     * remove. A driver writing a command ring's tail per command (200,000
     * times in a 4.x boot) reaches the owner with one compare. First, so
     * that mem_addrmap_read32/write32 (addrmap.h, inline) find it. */
    struct mem_addrmap_reg reg;
    struct mem_phys *ram;
    struct mem_region *regions; /* sorted by base, non-overlapping */
    size_t count, cap;
    uint64_t gen;               /* changes on every add and remove */
    size_t hint;                /* index of the region the last access hit (a guess:
                                   checked before use, so never stale) */
};

const char *mem_access_result_name(enum mem_access_result r)
{
    switch (r) {
    case MEM_ACCESS_OK: return "ok";
    case MEM_ACCESS_UNCLAIMED: return "unclaimed address";
    case MEM_ACCESS_RESERVED: return "reserved address";
    case MEM_ACCESS_SPANS_REGIONS: return "access spans two regions";
    case MEM_ACCESS_WRAPS: return "access wraps past 2^64";
    case MEM_ACCESS_DEVICE_ERROR: return "device error";
    case MEM_ACCESS_NO_MEMORY: return "out of memory";
    }
    return "unknown access result";
}

static const char *kind_name(enum mem_region_kind k)
{
    switch (k) {
    case MEM_REGION_RAM: return "RAM";
    case MEM_REGION_MMIO: return "MMIO";
    case MEM_REGION_RESERVED: return "reserved";
    }
    return "?";
}

struct mem_addrmap *mem_addrmap_create(struct mem_phys *ram)
{
    struct mem_addrmap *map = calloc(1, sizeof *map);
    if (map)
        map->ram = ram;
    return map;
}

void mem_addrmap_destroy(struct mem_addrmap *map)
{
    if (!map)
        return;
    free(map->regions);
    free(map);
}

/* Index of the last region with base <= pa, or -1. */
static ptrdiff_t floor_index(const struct mem_addrmap *map, uint64_t pa)
{
    size_t lo = 0, hi = map->count; /* answer in [lo-1, hi-1] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (map->regions[mid].base <= pa)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

const struct mem_region *mem_addrmap_lookup(const struct mem_addrmap *map, uint64_t pa)
{
    ptrdiff_t i = floor_index(map, pa);
    if (i < 0)
        return NULL;
    const struct mem_region *r = &map->regions[i];
    return pa <= mem_region_last(r) ? r : NULL;
}

size_t mem_addrmap_count(const struct mem_addrmap *map)
{
    return map->count;
}

const struct mem_region *mem_addrmap_at(const struct mem_addrmap *map, size_t i)
{
    return i < map->count ? &map->regions[i] : NULL;
}

int mem_addrmap_add(struct mem_addrmap *map, const struct mem_region *r, struct pcilab_err *err)
{
    const char *name = r->name[0] ? r->name : "(unnamed)";
    if (!r->size)
        return pcilab_errf(err, PCILAB_EINVAL, "region '%s' at 0x%016llx has size 0", name,
                           (unsigned long long)r->base);
    if (r->base + (r->size - 1) < r->base)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "region '%s' at 0x%016llx size 0x%llx runs past 2^64", name,
                           (unsigned long long)r->base, (unsigned long long)r->size);
    if (r->kind == MEM_REGION_RAM && !map->ram)
        return pcilab_errf(err, PCILAB_EINVAL, "RAM region '%s' but the map has no memory",
                           name);
    if (r->kind == MEM_REGION_MMIO && !r->ops)
        return pcilab_errf(err, PCILAB_EINVAL, "MMIO region '%s' has no owner callbacks", name);
    if (r->kind != MEM_REGION_RAM && r->kind != MEM_REGION_MMIO &&
        r->kind != MEM_REGION_RESERVED)
        return pcilab_errf(err, PCILAB_EINVAL, "region '%s' has unknown kind %d", name,
                           (int)r->kind);

    uint64_t last = mem_region_last(r);
    ptrdiff_t i = floor_index(map, last); /* last region starting at or below our end */
    if (i >= 0 && mem_region_last(&map->regions[i]) >= r->base) {
        const struct mem_region *o = &map->regions[i];
        /* report the lowest overlapping one */
        while (i > 0 && mem_region_last(&map->regions[i - 1]) >= r->base)
            o = &map->regions[--i];
        return pcilab_errf(err, PCILAB_EEXIST,
                           "%s region '%s' [0x%016llx-0x%016llx] overlaps %s region '%s' "
                           "[0x%016llx-0x%016llx]",
                           kind_name(r->kind), name, (unsigned long long)r->base,
                           (unsigned long long)last, kind_name(o->kind), o->name,
                           (unsigned long long)o->base, (unsigned long long)mem_region_last(o));
    }
    if (map->count == map->cap) {
        size_t ncap = map->cap ? map->cap * 2 : 16;
        struct mem_region *n = realloc(map->regions, ncap * sizeof *n);
        if (!n)
            return pcilab_errf(err, PCILAB_ENOMEM, "out of memory adding region '%s'", name);
        map->regions = n;
        map->cap = ncap;
    }
    size_t at = (size_t)(i + 1);
    memmove(&map->regions[at + 1], &map->regions[at], (map->count - at) * sizeof *map->regions);
    struct mem_region *d = &map->regions[at];
    *d = *r;
    snprintf(d->name, sizeof d->name, "%s", name);
    if (d->kind != MEM_REGION_MMIO) {
        d->ops = NULL;
        d->ctx = NULL;
    }
    map->count++;
    map->gen++;
    map->reg.ops = NULL;
    return 0;
}

static int add_simple(struct mem_addrmap *map, uint64_t base, uint64_t size, const char *name,
                      enum mem_region_kind kind, const struct mem_mmio_ops *ops, void *ctx,
                      struct pcilab_err *err)
{
    struct mem_region r = {.base = base, .size = size, .kind = kind, .ops = ops, .ctx = ctx};
    snprintf(r.name, sizeof r.name, "%s", name ? name : "");
    return mem_addrmap_add(map, &r, err);
}

int mem_addrmap_add_ram(struct mem_addrmap *map, uint64_t base, uint64_t size, const char *name,
                        struct pcilab_err *err)
{
    return add_simple(map, base, size, name, MEM_REGION_RAM, NULL, NULL, err);
}

int mem_addrmap_add_reserved(struct mem_addrmap *map, uint64_t base, uint64_t size,
                             const char *name, struct pcilab_err *err)
{
    return add_simple(map, base, size, name, MEM_REGION_RESERVED, NULL, NULL, err);
}

int mem_addrmap_add_mmio(struct mem_addrmap *map, uint64_t base, uint64_t size, const char *name,
                         const struct mem_mmio_ops *ops, void *ctx, struct pcilab_err *err)
{
    return add_simple(map, base, size, name, MEM_REGION_MMIO, ops, ctx, err);
}

int mem_addrmap_remove(struct mem_addrmap *map, uint64_t base, struct pcilab_err *err)
{
    ptrdiff_t i = floor_index(map, base);
    if (i < 0 || map->regions[i].base != base)
        return pcilab_errf(err, PCILAB_ENOENT, "no region starts at 0x%016llx",
                           (unsigned long long)base);
    size_t at = (size_t)i;
    memmove(&map->regions[at], &map->regions[at + 1],
            (map->count - at - 1) * sizeof *map->regions);
    map->count--;
    map->gen++;
    map->reg.ops = NULL;
    return 0;
}

static int fail(struct mem_access_info *info, enum mem_access_result res, uint64_t addr,
                const struct mem_region *region, const struct mem_region *next, int code)
{
    if (info) {
        info->result = res;
        info->addr = addr;
        info->region = region;
        info->next = next;
        info->device_code = res == MEM_ACCESS_DEVICE_ERROR ? code : 0;
    }
    return code < 0 ? code : -PCILAB_ERANGE;
}

/* Validates [pa, pa+len); returns the region at pa, or NULL with *rc set (0
 * for an empty access, else the error, with info filled). */
static const struct mem_region *resolve(struct mem_addrmap *map, uint64_t pa, size_t len,
                                        struct mem_access_info *info, int *rc)
{
    *rc = 0;
    if (!len) {
        if (info)
            *info = (struct mem_access_info){.result = MEM_ACCESS_OK, .addr = pa};
        return NULL;
    }
    uint64_t last = pa + (len - 1);
    if (last < pa) {
        *rc = fail(info, MEM_ACCESS_WRAPS, pa, mem_addrmap_lookup(map, pa), NULL, 0);
        return NULL;
    }
    /* Accesses come in runs to one region (a driver polling a register, a
     * device writing a buffer): the region of the last one, when it holds pa,
     * is the one the search would find (regions do not overlap). */
    ptrdiff_t i;
    if (map->hint < map->count && map->regions[map->hint].base <= pa &&
        pa <= mem_region_last(&map->regions[map->hint])) {
        i = (ptrdiff_t)map->hint;
    } else {
        i = floor_index(map, pa);
        if (i >= 0)
            map->hint = (size_t)i;
    }
    const struct mem_region *r = i >= 0 ? &map->regions[i] : NULL;
    if (!r || pa > mem_region_last(r)) {
        *rc = fail(info, MEM_ACCESS_UNCLAIMED, pa, NULL, NULL, 0);
        return NULL;
    }
    if (r->kind == MEM_REGION_RESERVED) {
        *rc = fail(info, MEM_ACCESS_RESERVED, pa, r, NULL, 0);
        return NULL;
    }
    if (last > mem_region_last(r)) {
        /* Allowed only across RAM regions that abut each other. */
        const struct mem_region *cur = r;
        size_t j = (size_t)i;
        while (last > mem_region_last(cur)) {
            uint64_t next_addr = mem_region_last(cur) + 1;
            const struct mem_region *n = j + 1 < map->count ? &map->regions[j + 1] : NULL;
            if (!n || n->base != next_addr || cur->kind != MEM_REGION_RAM ||
                n->kind != MEM_REGION_RAM) {
                *rc = fail(info, MEM_ACCESS_SPANS_REGIONS, next_addr, cur,
                           n && n->base == next_addr ? n : NULL, 0);
                return NULL;
            }
            cur = n;
            j++;
        }
    }
    if (info)
        *info = (struct mem_access_info){.result = MEM_ACCESS_OK, .addr = pa, .region = r};
    return r;
}

/* The region of the last access when [pa, pa + len) lies inside it and it is
 * RAM or MMIO: what resolve would return, without its checks' cost (a
 * device polling a register, a driver writing one, take this way). */
static inline const struct mem_region *hint_hit(const struct mem_addrmap *map, uint64_t pa,
                                                size_t len)
{
    if (map->hint >= map->count || !len)
        return NULL;
    const struct mem_region *r = &map->regions[map->hint];
    uint64_t off = pa - r->base;
    if (pa < r->base || off > r->size - 1 || len - 1 > r->size - 1 - off ||
        r->kind == MEM_REGION_RESERVED)
        return NULL;
    return r;
}

int mem_addrmap_read(struct mem_addrmap *map, uint64_t pa, void *buf, size_t len,
                     struct mem_access_info *info)
{
    int rc;
    const struct mem_region *r = hint_hit(map, pa, len);
    if (r) {
        if (info)
            *info = (struct mem_access_info){.result = MEM_ACCESS_OK, .addr = pa, .region = r};
    } else if (!(r = resolve(map, pa, len, info, &rc))) {
        return rc;
    }
    if (r->kind == MEM_REGION_RAM)
        return mem_phys_read(map->ram, pa, buf, len, NULL); /* range already checked */
    int d = r->ops->read ? r->ops->read(r->ctx, pa - r->base, buf, len) : -PCILAB_EUNSUPPORTED;
    if (d < 0)
        return fail(info, MEM_ACCESS_DEVICE_ERROR, pa, r, NULL, d);
    return 0;
}

int mem_addrmap_write(struct mem_addrmap *map, uint64_t pa, const void *buf, size_t len,
                      struct mem_access_info *info)
{
    int rc;
    const struct mem_region *r = hint_hit(map, pa, len);
    if (r) {
        if (info)
            *info = (struct mem_access_info){.result = MEM_ACCESS_OK, .addr = pa, .region = r};
    } else if (!(r = resolve(map, pa, len, info, &rc))) {
        return rc;
    }
    if (r->kind == MEM_REGION_RAM) {
        rc = mem_phys_write(map->ram, pa, buf, len, NULL);
        if (rc < 0)
            return fail(info, MEM_ACCESS_NO_MEMORY, pa, r, NULL, rc);
        return 0;
    }
    int d = r->ops->write ? r->ops->write(r->ctx, pa - r->base, buf, len) : -PCILAB_EUNSUPPORTED;
    if (d < 0)
        return fail(info, MEM_ACCESS_DEVICE_ERROR, pa, r, NULL, d);
    return 0;
}

/* r: an MMIO region just reached by read32 or write32 */
static void remember_reg(struct mem_addrmap *map, const struct mem_region *r)
{
    if (r->ops->read32 && r->ops->write32 && r->size >= 4) {
        map->reg.base = r->base;
        map->reg.span = r->size - 4;
        map->reg.ops = r->ops;
        map->reg.ctx = r->ctx;
    }
}

/* mem_addrmap_read32/write32 when the register path does not apply: the
 * search, RAM, a byte callback, or a failure. Out of line so that the fast
 * path has nothing to save and restore. */
static __attribute__((noinline)) int read32_slow(struct mem_addrmap *map, uint64_t pa,
                                                 uint32_t *v)
{
    int rc;
    const struct mem_region *r = hint_hit(map, pa, 4);
    if (!r && !(r = resolve(map, pa, 4, NULL, &rc)))
        return rc;
    if (r->kind == MEM_REGION_MMIO && r->ops->read32) {
        remember_reg(map, r);
        return r->ops->read32(r->ctx, pa - r->base, v);
    }
    uint8_t b[4];
    if (r->kind == MEM_REGION_RAM)
        rc = mem_phys_read(map->ram, pa, b, 4, NULL);
    else
        rc = r->ops->read ? r->ops->read(r->ctx, pa - r->base, b, 4) : -PCILAB_EUNSUPPORTED;
    if (rc < 0)
        return rc;
    *v = sim_get_le32(b);
    return 0;
}

static __attribute__((noinline)) int write32_slow(struct mem_addrmap *map, uint64_t pa,
                                                  uint32_t v)
{
    int rc;
    const struct mem_region *r = hint_hit(map, pa, 4);
    if (!r && !(r = resolve(map, pa, 4, NULL, &rc)))
        return rc;
    if (r->kind == MEM_REGION_MMIO && r->ops->write32) {
        remember_reg(map, r);
        return r->ops->write32(r->ctx, pa - r->base, v);
    }
    uint8_t b[4];
    sim_put_le32(b, v);
    if (r->kind == MEM_REGION_RAM) {
        rc = mem_phys_write(map->ram, pa, b, 4, NULL);
        return rc < 0 ? rc : 0;
    }
    return r->ops->write ? r->ops->write(r->ctx, pa - r->base, b, 4) : -PCILAB_EUNSUPPORTED;
}

/* mem_addrmap_read32/write32 (addrmap.h) when the remembered register
 * region does not hold the access. */
int mem_addrmap_read32_other(struct mem_addrmap *map, uint64_t pa, uint32_t *v)
{
    const struct mem_region *r = hint_hit(map, pa, 4);
    if (r && r->kind == MEM_REGION_MMIO && r->ops->read32) {
        remember_reg(map, r);
        return r->ops->read32(r->ctx, pa - r->base, v);
    }
    return read32_slow(map, pa, v);
}

int mem_addrmap_write32_other(struct mem_addrmap *map, uint64_t pa, uint32_t v)
{
    const struct mem_region *r = hint_hit(map, pa, 4);
    if (r && r->kind == MEM_REGION_MMIO && r->ops->write32) {
        remember_reg(map, r);
        return r->ops->write32(r->ctx, pa - r->base, v);
    }
    return write32_slow(map, pa, v);
}

const char *mem_access_info_str(const struct mem_access_info *info, char *buf, size_t len)
{
    unsigned long long a = (unsigned long long)info->addr;
    const char *rn = info->region ? info->region->name : "";
    switch (info->result) {
    case MEM_ACCESS_OK:
        snprintf(buf, len, "ok at 0x%016llx", a);
        break;
    case MEM_ACCESS_UNCLAIMED:
        snprintf(buf, len, "unclaimed address 0x%016llx", a);
        break;
    case MEM_ACCESS_RESERVED:
        snprintf(buf, len, "reserved address 0x%016llx (%s)", a, rn);
        break;
    case MEM_ACCESS_SPANS_REGIONS:
        snprintf(buf, len, "access spans two regions at 0x%016llx: '%s' into %s%s%s", a, rn,
                 info->next ? "'" : "", info->next ? info->next->name : "unclaimed space",
                 info->next ? "'" : "");
        break;
    case MEM_ACCESS_WRAPS:
        snprintf(buf, len, "access at 0x%016llx wraps past 2^64", a);
        break;
    case MEM_ACCESS_DEVICE_ERROR:
        snprintf(buf, len, "device error at 0x%016llx (%s): %s", a, rn,
                 pcilab_errcode_name(info->device_code));
        break;
    case MEM_ACCESS_NO_MEMORY:
        snprintf(buf, len, "out of memory at 0x%016llx", a);
        break;
    default:
        snprintf(buf, len, "%s at 0x%016llx", mem_access_result_name(info->result), a);
        break;
    }
    return buf;
}

uint64_t mem_addrmap_generation(const struct mem_addrmap *map)
{
    return map->gen;
}

const uint64_t *mem_addrmap_generation_ptr(const struct mem_addrmap *map)
{
    return &map->gen;
}

