/* Zeroed memory for large tables that are written all over as soon as they
 * are made (the IVRS device tables Linux keeps per device ID, the page
 * allocator's bitmaps, the contiguous blocks of simulated memory behind a
 * device table). A fresh process pays a page fault on the first touch of
 * each 4 KiB page; under a hypervisor that is some 10-40 us each, more than
 * the work the tables are made for. A table of SIM_TABLE_POPULATE bytes or
 * more is mapped with its pages already present (one system call for all of
 * them); smaller ones come from malloc. Either way it is zeroed and aligned
 * to 4096 bytes. Sanitizer builds always use malloc, so that leaks are
 * found. Never use it for tables that stay mostly untouched (those are
 * cheapest from calloc, whose untouched pages cost nothing). */
#ifndef PCILAB_SIM_TABLE_H
#define PCILAB_SIM_TABLE_H

#include <stddef.h>

#define SIM_TABLE_POPULATE (64u << 10)

/* NULL when out of memory (or bytes is 0). */
void *sim_table_alloc(size_t bytes);
/* bytes: as given to sim_table_alloc. p may be NULL. */
void sim_table_free(void *p, size_t bytes);

#endif
