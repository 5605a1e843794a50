/* What the IOMMU model tests' fixtures share (test_vtd.c, test_amdvi.c): a
 * simulation with 2 GiB of RAM behind an address map, 64-bit register
 * accesses through the map as a driver makes them, 64-bit table entries in
 * memory, and zeroed 4 KiB table pages. Include after cmocka.h; every access
 * is asserted. */
#ifndef PCILAB_TESTS_IOMMU_FIXTURE_H
#define PCILAB_TESTS_IOMMU_FIXTURE_H

#include <stdint.h>

#include "mem/addrmap.h"
#include "mem/physmem.h"
#include "sim/sim.h"

#define IFX_RAM_SIZE 0x80000000ull /* "System RAM" at 0 */

static inline void ifx_mem_up(struct pcilab_sim **sim, struct mem_phys **ram,
                              struct mem_addrmap **map)
{
    *sim = sim_create(1);
    *ram = mem_phys_create();
    *map = mem_addrmap_create(*ram);
    assert_int_equal(mem_addrmap_add_ram(*map, 0, IFX_RAM_SIZE, "System RAM", NULL), 0);
}

static inline void ifx_mem_down(struct pcilab_sim *sim, struct mem_phys *ram,
                                struct mem_addrmap *map)
{
    sim_destroy(sim);
    mem_addrmap_destroy(map);
    mem_phys_destroy(ram);
}

/* An 8-byte little-endian MMIO write / read at addr. */
static inline void ifx_w64(struct mem_addrmap *map, uint64_t addr, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    assert_int_equal(mem_addrmap_write(map, addr, b, 8, NULL), 0);
}

static inline uint64_t ifx_r64(struct mem_addrmap *map, uint64_t addr)
{
    uint8_t b[8];
    assert_int_equal(mem_addrmap_read(map, addr, b, 8, NULL), 0);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static inline void ifx_put64(struct mem_phys *ram, uint64_t pa, uint64_t v)
{
    assert_int_equal(mem_phys_write64(ram, pa, v, NULL), 0);
}

static inline uint64_t ifx_get64(struct mem_phys *ram, uint64_t pa)
{
    uint64_t v;
    assert_int_equal(mem_phys_read64(ram, pa, &v, NULL), 0);
    return v;
}

/* The zeroed page at *next, which moves on by 4 KiB. */
static inline uint64_t ifx_table(struct mem_phys *ram, uint64_t *next)
{
    uint64_t t = *next;
    *next += 0x1000;
    assert_int_equal(mem_phys_fill(ram, t, 0, 0x1000, NULL), 0);
    return t;
}

#endif
