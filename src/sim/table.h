/* Zeroed memory for large tables that are written all over as soon as they
 * are made (the IVRS device tables Linux keeps per device ID, the page
 * allocator's bitmaps, the contiguous blocks of simulated memory behind a
 * device table), aligned to 4096 bytes.
 *
 * A fresh process pays a page fault on the first touch of each 4 KiB page;
 * under a hypervisor that is some 10-40 us each. The tables used to be
 * mapped with MAP_POPULATE (one system call for all their pages); now that
 * the programs put the heap on 2 MiB transparent huge pages (sim/heap.h) a
 * table comes from the heap, from calloc, which leaves fresh memory alone:
 * its first touch costs one fault per 2 MiB, shared with everything else
 * on the heap. Without huge pages (tests, sanitizer builds, a kernel with
 * them off) large tables are calloc's own mappings, faulted in as touched. */
#ifndef PCILAB_SIM_TABLE_H
#define PCILAB_SIM_TABLE_H

#include <stddef.h>

/* NULL when out of memory (or bytes is 0). */
void *sim_table_alloc(size_t bytes);
/* bytes: as given to sim_table_alloc. p may be NULL. */
void sim_table_free(void *p, size_t bytes);

#endif
