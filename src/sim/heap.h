/* The process's heap on transparent huge pages.
 *
 * A fresh process pays a page fault on the first touch of every 4 KiB page it
 * uses; under this project's hypervisor that is 10-40 us each, and the seed
 * machine's bring-up touches some 1,000 of them (configuration spaces, the
 * IVRS view, the device table, the IOVA trees, the page allocator's bitmaps).
 * With the heap on 2 MiB transparent huge pages a first touch maps 2 MiB at
 * once: one fault, the kernel clearing the huge page, instead of 512 faults.
 *
 * glibc's malloc takes memory with brk(), and a brk extension is a new
 * mapping without the huge page advice, so the advice must be given on a
 * heap that is already as large as the process will need, before malloc
 * touches any of it (a 2 MiB range with one 4 KiB page present stays on
 * small pages). sim_heap_use_huge_pages() therefore, once, at the start of
 * main():
 *   - sets M_TOP_PAD so that the next extension of the heap is
 *     SIM_HEAP_PAD bytes larger than asked, and M_MMAP_THRESHOLD to the same,
 *     so that large blocks (the IVRS view, the device table) come from the
 *     heap instead of mmap();
 *   - uses up the rest of the heap glibc made before main(), and moves the
 *     break one page short of a 2 MiB boundary, so that the next allocation
 *     extends the heap there and writes its chunk headers in that one page;
 *   - advises MADV_HUGEPAGE on the whole 2 MiB ranges of the new heap.
 * The memory used up stays allocated (it would put the next small blocks
 * on 4 KiB pages), the gap up to the boundary is left unused: some 130 KiB
 * of address space, never touched.
 *
 * Where transparent huge pages are off ("never") or absent, the advice does
 * nothing (or fails, which is ignored): the heap then behaves as before but
 * large blocks come from brk instead of mmap. Sanitizer and fuzzer builds
 * replace malloc, so nothing is done there. Not thread-safe: call it before
 * any thread exists. Returns 1 when the advice was given, else 0.
 *
 * Only programs call this (pcilab, pcilab-bench), never the library: it
 * changes process-wide malloc settings. */
#ifndef PCILAB_SIM_HEAP_H
#define PCILAB_SIM_HEAP_H

#define SIM_HEAP_PAD ((unsigned long)32 << 20)

int sim_heap_use_huge_pages(void);

#endif
