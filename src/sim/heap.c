/* The process's heap on transparent huge pages (heap.h). */
#define _DEFAULT_SOURCE /* sbrk, madvise, MADV_HUGEPAGE */
#include "sim/heap.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_TUNE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define HEAP_TUNE 0
#endif
#endif
#if !defined(HEAP_TUNE) && defined(__GLIBC__) && defined(__linux__)
#include <malloc.h>
#include <sys/mman.h>
#if defined(MADV_HUGEPAGE) && defined(M_TOP_PAD) && defined(M_MMAP_THRESHOLD)
#define HEAP_TUNE 1
#endif
#endif
#if !defined(HEAP_TUNE)
#define HEAP_TUNE 0
#endif

#define HUGE_SIZE ((uintptr_t)2 << 20) /* x86-64 PMD-mapped page */
#define SMALL_SIZE ((uintptr_t)4096)

int sim_heap_use_huge_pages(void)
{
#if HEAP_TUNE
    /* The top chunk (keepcost) is what is left of the heap glibc made for
     * the allocations before main() (the static start-up's _dl_get_origin).
     * It is taken and kept for good: freed, it would serve the next small
     * blocks from 4 KiB pages; kept, its pages (never touched) cost
     * nothing but some 130 KiB of address space. */
    struct mallinfo2 mi = mallinfo2();
    if (mallopt(M_TOP_PAD, (int)SIM_HEAP_PAD) != 1 ||
        mallopt(M_MMAP_THRESHOLD, (int)SIM_HEAP_PAD) != 1)
        return 0;
    void *rest = mi.keepcost > 256 ? malloc(mi.keepcost - 64) : NULL;
    uintptr_t cur = (uintptr_t)sbrk(0);
    if (cur == (uintptr_t)-1) {
        free(rest);
        return 0;
    }
    /* one page short of the next 2 MiB boundary after a page of margin */
    uintptr_t below = ((cur + SMALL_SIZE + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1)) - SMALL_SIZE;
    if (sbrk((intptr_t)(below - cur)) == (void *)-1) {
        free(rest);
        return 0;
    }
    /* glibc finds the break moved (a "foreign sbrk"), starts the new top
     * chunk there and carves this block from it: both headers on the page
     * below the boundary */
    void *first = malloc(256);
    uintptr_t end = (uintptr_t)sbrk(0), huge = below + SMALL_SIZE;
    int done = 0;
    if (first && (uintptr_t)first >= below && (uintptr_t)first + 256 <= huge &&
        end >= huge + HUGE_SIZE)
        done = madvise((void *)huge, (end - huge) & ~(HUGE_SIZE - 1), MADV_HUGEPAGE) == 0;
    free(first);
    return done;
#else
    return 0;
#endif
}
