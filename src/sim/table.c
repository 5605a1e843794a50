/* Large zeroed tables (table.h). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_POPULATE */
#include "sim/table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define TABLE_ALIGN 4096u

#if defined(__SANITIZE_ADDRESS__)
#define TABLE_MMAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TABLE_MMAP 0
#endif
#endif
#if !defined(TABLE_MMAP) && defined(MAP_POPULATE) && defined(MAP_ANONYMOUS)
#define TABLE_MMAP 1
#elif !defined(TABLE_MMAP)
#define TABLE_MMAP 0
#endif

static size_t round_up(size_t bytes)
{
    return (bytes + TABLE_ALIGN - 1) & ~(size_t)(TABLE_ALIGN - 1);
}

void *sim_table_alloc(size_t bytes)
{
    if (!bytes || bytes > SIZE_MAX - TABLE_ALIGN)
        return NULL;
    size_t len = round_up(bytes);
#if TABLE_MMAP
    if (bytes >= SIM_TABLE_POPULATE) {
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
#endif
    void *p = aligned_alloc(TABLE_ALIGN, len);
    if (p)
        memset(p, 0, len);
    return p;
}

void sim_table_free(void *p, size_t bytes)
{
    if (!p)
        return;
#if TABLE_MMAP
    if (bytes >= SIM_TABLE_POPULATE) {
        munmap(p, round_up(bytes));
        return;
    }
#else
    (void)bytes;
#endif
    free(p);
}
