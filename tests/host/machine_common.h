/* What the test machines share (amd_machine.h, vtd_machine.h,
 * ../drivers/drv_machine.h): 2 GiB of RAM at 0 as the fabric's memory, then
 * enumeration; and the tear-down of the simulation and memory. Set-up
 * failures abort (they are the test's, not the code under test's). */
#ifndef PCILAB_TESTS_HOST_MACHINE_COMMON_H
#define PCILAB_TESTS_HOST_MACHINE_COMMON_H

#include <stdlib.h>

#include "mem/addrmap.h"
#include "mem/physmem.h"
#include "pcie/enumerate.h"
#include "pcie/topology.h"
#include "sim/err.h"
#include "sim/sim.h"

#define TMACH_RAM_SIZE 0x80000000ull

/* RAM "System RAM" 0 .. 2 GiB into *ram and *map, set as f's memory; then
 * the fabric enumerated. */
static inline void tmach_memory_enumerate(struct pcie_fabric *f, struct mem_phys **ram,
                                          struct mem_addrmap **map, struct pcilab_err *err)
{
    *ram = mem_phys_create();
    *map = mem_addrmap_create(*ram);
    if (mem_addrmap_add_ram(*map, 0, TMACH_RAM_SIZE, "System RAM", err) < 0)
        abort();
    pcie_fabric_set_memory(f, *map);
    if (pcie_enumerate(f, NULL, NULL, NULL) < 0)
        abort();
}

static inline void tmach_free(struct pcilab_sim *sim, struct mem_phys *ram,
                              struct mem_addrmap *map)
{
    sim_destroy(sim);
    mem_addrmap_destroy(map);
    mem_phys_destroy(ram);
}

#endif
