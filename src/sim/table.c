/* Large zeroed tables (table.h). */
#include "sim/table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_ALIGN 4096u

static size_t round_up(size_t bytes)
{
    return (bytes + TABLE_ALIGN - 1) & ~(size_t)(TABLE_ALIGN - 1);
}

/* calloc's block, long enough for the table to start at the first aligned
 * address past the block's address, which is kept just below the table.
 * calloc does not clear memory it knows to be fresh (new heap, or mmap), so
 * the pages are first touched by the table's user. */
void *sim_table_alloc(size_t bytes)
{
    if (!bytes || bytes > SIZE_MAX - 2 * TABLE_ALIGN)
        return NULL;
    uint8_t *raw = calloc(1, round_up(bytes) + TABLE_ALIGN + sizeof raw);
    if (!raw)
        return NULL;
    uint8_t *p = raw + sizeof raw;
    p += (TABLE_ALIGN - ((uintptr_t)p & (TABLE_ALIGN - 1))) & (TABLE_ALIGN - 1);
    memcpy(p - sizeof raw, &raw, sizeof raw);
    return p;
}

void sim_table_free(void *p, size_t bytes)
{
    (void)bytes;
    if (!p)
        return;
    uint8_t *raw;
    memcpy(&raw, (uint8_t *)p - sizeof raw, sizeof raw);
    free(raw);
}
