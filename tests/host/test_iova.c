/* The IOVA allocator against addresses derived by hand from each version's
 * drivers/iommu/iova.c (and amd_iommu.c / dma-iommu.c for the DMA policy).
 * Names used in the derivations: "L" is the limit as the version's
 * __alloc_and_insert_iova_range sees it (4.9 inclusive, 4.20+ exclusive =
 * limit_pfn + 1), "c32" cached32_node, "dma32" dma_32bit_pfn (4.9: 0xfffff as
 * the AMD driver passes it; 4.20+: 1 << (32 - 12) = 0x100000). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "host/iova.h"

#define V49 HOST_IOVA_V4_9
#define V420 HOST_IOVA_V4_20
#define V515 HOST_IOVA_V5_15
#define V61 HOST_IOVA_V6_1
#define NFLAV 4
#define LIM32 0xfffffull               /* DMA_BIT_MASK(32) >> 12 */
#define LIM64 0xfffffffffffffull       /* DMA_BIT_MASK(64) >> 12 */

static struct host_iova_domain *mk(enum host_iova_flavour f, uint64_t start_pfn, unsigned ncpus)
{
    struct host_iova_params p = {.flavour = f, .granule = 4096, .start_pfn = start_pfn,
                                 .ncpus = ncpus};
    struct pcilab_err e = {0};
    struct host_iova_domain *d = host_iova_create(&p, &e);
    assert_non_null(d);
    return d;
}

static uint64_t fast(struct host_iova_domain *d, uint64_t size, uint64_t limit, unsigned cpu)
{
    uint64_t pfn = 99;
    assert_int_equal(host_alloc_iova_fast(d, size, limit, true, cpu, &pfn, NULL), 0);
    return pfn;
}

static void ffree(struct host_iova_domain *d, uint64_t pfn, uint64_t size, unsigned cpu)
{
    assert_int_equal(host_free_iova_fast(d, pfn, size, cpu, NULL), 0);
}

static uint64_t slow(struct host_iova_domain *d, uint64_t size, uint64_t limit)
{
    struct host_iova r = {0, 0};
    assert_int_equal(host_alloc_iova(d, size, limit, true, &r, NULL), 0);
    assert_int_equal(r.pfn_hi, r.pfn_lo + size - 1);
    return r.pfn_lo;
}

static void slow_fails(struct host_iova_domain *d, uint64_t size, uint64_t limit)
{
    struct pcilab_err e = {0};
    assert_int_equal(host_alloc_iova(d, size, limit, true, NULL, &e), -PCILAB_ERANGE);
    assert_int_equal(e.code, PCILAB_ERANGE);
}

/* Fresh domain, start_pfn 1 (AMD's IOVA_START_PFN), 32-bit limit.
 * 1st page: 4.9: L == dma32 but c32 NULL -> rb_last (none) -> pfn_lo = L =
 *   0xfffff, c32 = it. 4.20+: c32 = anchor, high = min(0x100000, ~0),
 *   new = 0x100000 - 1 = 0xfffff.
 * 2nd page: 4.9: walk from rb_prev(c32) with L = c32.lo - 1 = 0xffffe;
 *   4.20+: high = c32.lo = 0xfffff, new = 0xffffe.
 * 8 pages, size-aligned: 4.9: L = 0xffffd, pad = (L + 1 - 8) & 7 = 6,
 *   lo = L - 14 + 1 = 0xffff0. 4.20+: (0xffffe - 8) & ~7 = 0xffff0.
 * Then 1 page: below c32 (0xffff0) -> 0xfffef: the hole 0xffff8..0xffffd
 *   left by the alignment is not looked at again (top-down from the cache).
 * 64-bit limit: 4.9: L != dma32 -> walk from rb_last (0xfffff): L >= its
 *   pfn_hi + 1 -> lo = L = 0xfffffffffffff. 4.20+: L = 2^52 > dma32 ->
 *   cached_node (anchor) -> new = 2^52 - 1. */
static void first_allocations_go_top_down(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        assert_int_equal(fast(d, 1, LIM32, 0), 0xfffff);
        assert_int_equal(fast(d, 1, LIM32, 0), 0xffffe);
        assert_int_equal(fast(d, 8, LIM32, 0), 0xffff0);
        assert_int_equal(fast(d, 1, LIM32, 0), 0xfffef);
        assert_int_equal(fast(d, 1, LIM64, 0), LIM64);
        struct host_iova r;
        assert_true(host_find_iova(d, 0xffff5, &r));
        assert_int_equal(r.pfn_lo, 0xffff0);
        assert_int_equal(r.pfn_hi, 0xffff7);
        assert_false(host_find_iova(d, 0xffff8, &r));
        struct host_iova_state s;
        host_iova_get_state(d, &s);
        assert_int_equal(s.nodes, 5);
        assert_true(s.cached32_valid);
        assert_int_equal(s.cached32_pfn_lo, 0xfffef);
        if (f == V49) {
            assert_int_equal(s.dma_32bit_pfn, 0xfffff);
        } else {
            assert_int_equal(s.dma_32bit_pfn, 0x100000);
            assert_int_equal(s.cached_pfn_lo, LIM64); /* insert_update: pfn_hi >= dma32 */
        }
        host_iova_destroy(d);
    }
}

/* The MSI window 0xfee00000-0xfeefffff reserved (as AMD's reserved ranges
 * and dma-iommu's IOMMU_RESV_MSI regions do). Single pages come from
 * 0xfffff down to 0xfef00 (0x1100 of them); the next one must skip the
 * window: 4.9: c32 = 0xfef00, L = 0xfeeff, rb_prev = the window: L is not
 * < its pfn_hi, pfn_hi + 1 > L -> L = 0xfee00 - 1 = 0xfedff, no node left ->
 * 0xfedff. 4.20+: high = 0xfef00, new = 0xfeeff <= window.pfn_hi -> go on,
 * high = 0xfee00, new = 0xfedff. */
static void msi_window_is_skipped(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        struct host_iova r;
        assert_int_equal(host_reserve_iova(d, 0xfee00, 0xfeeff, &r, NULL), 0);
        assert_int_equal(r.pfn_lo, 0xfee00);
        for (uint64_t k = 0; k < 0x1100; k++)
            assert_int_equal(fast(d, 1, LIM32, 0), 0xfffff - k);
        assert_int_equal(fast(d, 1, LIM32, 0), 0xfedff);
        assert_int_equal(fast(d, 1, LIM32, 0), 0xfedfe);
        host_iova_destroy(d);
    }
}

/* 16 MiB (0x1000 pages) aligned allocations around the window.
 * 1st: 4.9: rb_last = window, pad = (0xfffff + 1 - 0x1000) & 0xfff = 0,
 *   window.hi + 0x1000 <= 0xfffff -> lo = 0xff000. 4.20+: new =
 *   (0x100000 - 0x1000) & ~0xfff = 0xff000 > window.hi -> 0xff000.
 * 2nd: 4.9: L = 0xfefff, window does not leave room (0xfeeff + 0x1000 >
 *   L) -> L = 0xfedff, pad = (0xfedff + 1 - 0x1000) & 0xfff = 0xe00,
 *   lo = 0xfedff - 0x1e00 + 1 = 0xfd000. 4.20+: new = 0xfe000 <= window.hi
 *   -> high = 0xfee00, new = 0xfde00 & ~0xfff = 0xfd000. */
static void aligned_blocks_around_msi_window(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        assert_int_equal(host_reserve_iova(d, 0xfee00, 0xfeeff, NULL, NULL), 0);
        assert_int_equal(slow(d, 0x1000, LIM32), 0xff000);
        assert_int_equal(slow(d, 0x1000, LIM32), 0xfd000);
        host_iova_destroy(d);
    }
}

/* reserve_iova's merging (the same code in all four versions):
 * [0x100,0x1ff] then [0x180,0x2ff]: overlaps the first, whose pfn_hi is
 *   below 0x2ff -> pfn_lo = 0x200, the next node does not overlap -> a new
 *   node [0x200,0x2ff] (returned).
 * [0x50,0x150]: overlaps [0x100,..] which grows down to 0x50 and holds the
 *   rest -> that node is returned, no new node.
 * [0x10,0x20]: new node.
 * [0,0x400]: [0x10,0x20] grows to 0, lo = 0x21; [0x50,0x1ff] grows down to
 *   0x21 (the gap 0x21..0x4f is swallowed), lo = 0x200; [0x200,0x2ff] ->
 *   lo = 0x300; then no overlap -> new node [0x300,0x400]. */
static void reserve_merges_like_linux(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        struct host_iova r;
        assert_int_equal(host_reserve_iova(d, 0x100, 0x1ff, &r, NULL), 0);
        assert_int_equal(host_reserve_iova(d, 0x180, 0x2ff, &r, NULL), 0);
        assert_int_equal(r.pfn_lo, 0x200);
        assert_int_equal(r.pfn_hi, 0x2ff);
        assert_int_equal(host_reserve_iova(d, 0x50, 0x150, &r, NULL), 0);
        assert_int_equal(r.pfn_lo, 0x50);
        assert_int_equal(r.pfn_hi, 0x1ff);
        assert_int_equal(host_reserve_iova(d, 0x10, 0x20, &r, NULL), 0);
        assert_int_equal(host_reserve_iova(d, 0, 0x400, &r, NULL), 0);
        assert_int_equal(r.pfn_lo, 0x300);
        assert_int_equal(r.pfn_hi, 0x400);
        struct host_iova l[8];
        assert_int_equal(host_iova_list(d, l, 8), 4);
        const uint64_t want[4][2] = {{0, 0x20}, {0x21, 0x1ff}, {0x200, 0x2ff}, {0x300, 0x400}};
        for (int i = 0; i < 4; i++) {
            assert_int_equal(l[i].pfn_lo, want[i][0]);
            assert_int_equal(l[i].pfn_hi, want[i][1]);
        }
        host_iova_destroy(d);
    }
}

/* 4.20+ refuse pfns beyond ULLONG_MAX >> shift ("Don't allow nonsensical
 * pfns"); 4.9 has no such check. */
static void reserve_refuses_nonsense_from_4_20(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        int rc = host_reserve_iova(d, 0x10000000000000ull, 0x10000000000001ull, NULL, NULL);
        assert_int_equal(rc, f == V49 ? 0 : -PCILAB_ERANGE);
        host_iova_destroy(d);
    }
}

/* A = 0xfffff, B = 0xffffe, C = 0xffffd (c32 = C). free(B):
 * 4.9: B.lo >= c32.lo -> rb_next(B) = A, but A.lo < dma32 (0xfffff) is
 *   false -> c32 = NULL; the next allocation walks from rb_last (A): L =
 *   0xfffff has no room above A -> L = 0xffffe, C.hi + 1 <= L -> 0xffffe.
 * 4.20+: B.lo >= c32.lo -> c32 = rb_next(B) = A -> high = 0xfffff, new =
 *   0xffffe, C.hi < new -> 0xffffe. Both reuse B. */
static void free_moves_the_cached_node(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        assert_int_equal(slow(d, 1, LIM32), 0xfffff);
        assert_int_equal(slow(d, 1, LIM32), 0xffffe);
        assert_int_equal(slow(d, 1, LIM32), 0xffffd);
        assert_true(host_free_iova(d, 0xffffe));
        assert_false(host_free_iova(d, 0xffffe));
        struct host_iova_state s;
        host_iova_get_state(d, &s);
        if (f == V49) {
            assert_false(s.cached32_valid);
        } else {
            assert_int_equal(s.cached32_pfn_lo, 0xfffff);
        }
        assert_int_equal(slow(d, 1, LIM32), 0xffffe);
        assert_int_equal(slow(d, 1, LIM32), 0xffffc);
        host_iova_destroy(d);
    }
}

/* start_pfn 0xffff0 (16 pages below 4 GiB).
 * 1. 4 pages -> 0xffffc (4.9: pad (0x100000 - 4) & 3 = 0).
 * 2. free it: c32 -> rb_next = none (4.9: NULL) / the anchor (4.20+).
 * 3. 1 page below 0xffff3 -> 0xffff3. 4.9: L != dma32, no cache change.
 *    4.20+: its pfn_hi < dma32, so c32 = 0xffff3.
 * 4. 4 pages, 32-bit limit:
 *    4.9: c32 NULL -> rb_last (0xffff3), room above -> 0xffffc.
 *    4.20: from c32: high = 0xffff3, new = 0xfffec < start_pfn -> fails,
 *      though 0xffff4..0xfffff is free; max32_alloc_size = 4.
 *    5.15/6.1: the same first pass fails, then the retry (low_pfn =
 *      c32.hi + 1 = 0xffff4) walks from iova_find_limit (the anchor) ->
 *      0xffffc.
 * 4.20 then: 1 page still works (1 < max32 = 4): from c32, 0xffff2; 4 pages
 * fail at once (size >= max32_alloc_size). */
static void retry_above_the_cached_node_from_5_15(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 0xffff0, 1);
        assert_int_equal(slow(d, 4, LIM32), 0xffffc);
        assert_true(host_free_iova(d, 0xffffc));
        assert_int_equal(slow(d, 1, 0xffff3), 0xffff3);
        if (f == V420) {
            slow_fails(d, 4, LIM32);
            struct host_iova_state s;
            host_iova_get_state(d, &s);
            assert_int_equal(s.max32_alloc_size, 4);
            assert_int_equal(slow(d, 1, LIM32), 0xffff2);
            slow_fails(d, 4, LIM32);
        } else {
            assert_int_equal(slow(d, 4, LIM32), 0xffffc);
        }
        host_iova_destroy(d);
    }
}

/* 5.15 and 6.1: the anchor's pfn_hi + 1 wraps to 0, so when the first pass
 * fails from the anchor the retry runs with low_pfn = 0 and may place a range
 * below start_pfn (fixed after 6.1 by "iommu/iova: Fix alloc iova overflows
 * issue"). 8 pages under limit 7: L = 8, new = 0 < start_pfn 1 -> retry with
 * low 0 -> [0, 7]. alloc_iova_fast then returns pfn 0, which callers take for
 * failure: the range leaks. 4.9: rb_last none, start 1 + 8 > 7 -> fails;
 * 4.20: new 0 < start -> fails. */
static void retry_can_hand_out_pfn_0_in_5_15_and_6_1(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        if (f == V515 || f == V61) {
            assert_int_equal(slow(d, 8, 7), 0);
            struct host_iova_domain *d2 = mk(f, 1, 1);
            assert_int_equal(fast(d2, 8, 7, 0), 0);
            struct host_iova_state s;
            host_iova_get_state(d2, &s);
            assert_int_equal(s.nodes, 1); /* leaked */
            host_iova_destroy(d2);
        } else {
            slow_fails(d, 8, 7);
        }
        host_iova_destroy(d);
    }
}

/* 6.1 resets max32_alloc_size on any free below 4 GiB; 4.20 and 5.15 only
 * when cached32_node moves. start_pfn 0xffff0: 16 pages 0xfffff..0xffff0,
 * the 17th fails (max32 = 1). free 0xffff5 (c32 -> 0xffff6, reset), alloc ->
 * 0xffff5 (c32 = 0xffff5), alloc -> walks down to start, fails (5.15: the
 * retry above 0xffff5 finds nothing either), max32 = 1. free 0xffff2: below
 * c32, so 4.20/5.15 keep max32 = 1 and the next page fails at once; 6.1
 * resets it and walks from c32 down to the hole: 0xffff2. */
static void max32_reset_by_any_low_free_in_6_1(void **state)
{
    (void)state;
    for (int f = V420; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 0xffff0, 1);
        for (uint64_t k = 0; k < 16; k++)
            assert_int_equal(slow(d, 1, LIM32), 0xfffff - k);
        slow_fails(d, 1, LIM32);
        assert_true(host_free_iova(d, 0xffff5));
        assert_int_equal(slow(d, 1, LIM32), 0xffff5);
        slow_fails(d, 1, LIM32);
        assert_true(host_free_iova(d, 0xffff2));
        if (f == V61)
            assert_int_equal(slow(d, 1, LIM32), 0xffff2);
        else
            slow_fails(d, 1, LIM32);
        host_iova_destroy(d);
    }
}

/* 4.9's start_pfn check (start + size + pad > L) refuses pfn_lo == start_pfn:
 * with start 0xffff0, 15 single pages fit, not 16. */
static void exhaustion_counts(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 0xffff0, 1);
        unsigned n = 0;
        uint64_t pfn;
        while ((pfn = fast(d, 1, LIM32, 0)) != 0) {
            assert_int_equal(pfn, 0xfffff - n);
            n++;
            assert_true(n <= 16);
        }
        assert_int_equal(n, f == V49 ? 15 : 16);
        host_iova_destroy(d);
    }
}

/* free_iova_fast puts the range into the CPU's loaded magazine (it stays in
 * the tree). 0xfffff freed on CPU 0, then:
 * - CPU 1 (empty rcache) allocates from the tree: c32 is still 0xfffff ->
 *   0xffffe.
 * - CPU 0: 4.20+: iova_magazine_pop takes the top pfn <= L + 1 - size =
 *   0xfffff -> 0xfffff again. 4.9: pop refuses a top pfn >= limit_pfn
 *   (0xfffff, inclusive) -> the tree: 0xffffd. */
static void rcache_reuse_is_per_cpu(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 2);
        assert_int_equal(fast(d, 1, LIM32, 0), 0xfffff);
        ffree(d, 0xfffff, 1, 0);
        struct host_iova_rcache_state rs;
        host_iova_rcache_state(d, 0, 0, &rs);
        assert_int_equal(rs.loaded, 1);
        assert_true(host_find_iova(d, 0xfffff, NULL));
        assert_int_equal(fast(d, 1, LIM32, 1), 0xffffe);
        assert_int_equal(fast(d, 1, LIM32, 0), f == V49 ? 0xffffd : 0xfffff);
        host_iova_rcache_state(d, 0, 0, &rs);
        assert_int_equal(rs.loaded, f == V49 ? 1 : 0);
        host_iova_destroy(d);
    }
}

/* Magazine pop with a 32-bit limit when the top pfn is a 64-bit one:
 * 4.20+ scan down for a fitting pfn and swap it out; 4.9 gives up. Pushed:
 * 0xfffff (32-bit), then 2^52 - 1. 4.20+: 0xfffff. 4.9: the tree -> below
 * c32 (0xfffff) -> 0xffffe. Then a 64-bit allocation on the same CPU takes
 * the 64-bit pfn from the magazine in all versions. */
static void magazine_pop_scans_from_4_20(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        assert_int_equal(fast(d, 1, LIM32, 0), 0xfffff);
        assert_int_equal(fast(d, 1, LIM64, 0), LIM64);
        ffree(d, 0xfffff, 1, 0);
        ffree(d, LIM64, 1, 0);
        assert_int_equal(fast(d, 1, LIM32, 0), f == V49 ? 0xffffe : 0xfffff);
        /* 4.9: the top pfn LIM64 >= limit_pfn LIM64 is refused too; the
         * tree walk from rb_last (LIM64 itself, no room above it: L = its
         * pfn_hi) goes on with L = LIM64 - 1, which is free. */
        assert_int_equal(fast(d, 1, LIM64, 0), f == V49 ? LIM64 - 1 : LIM64);
        host_iova_destroy(d);
    }
}

/* 300 single pages freed on one CPU: magazines of 128 (4.9..5.15) fill
 * loaded (1..128), swap with the empty prev (129..256), then push loaded to
 * the depot and take a new one (257..300): loaded 44, prev 128, depot 1x128.
 * 6.1's 127: loaded 46, prev 127, depot 1x127. */
static void magazines_and_depot(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        for (uint64_t k = 0; k < 300; k++)
            assert_int_equal(fast(d, 1, LIM32, 0), 0xfffff - k);
        for (uint64_t k = 0; k < 300; k++)
            ffree(d, 0xfffff - k, 1, 0);
        struct host_iova_rcache_state rs;
        host_iova_rcache_state(d, 0, 0, &rs);
        unsigned m = f == V61 ? 127 : 128;
        assert_int_equal(rs.loaded, 300 - 2 * m);
        assert_int_equal(rs.prev, m);
        assert_int_equal(rs.depot_mags, 1);
        assert_int_equal(rs.depot_pfns, m);
        /* LIFO: the last freed (0xfffff - 299 = 0xffed4) comes back first
         * (4.9 too: 0xffed4 < limit_pfn) */
        assert_int_equal(fast(d, 1, LIM32, 0), 0xffed4);
        host_iova_destroy(d);
    }
}

/* Exhaustion, then the flush-and-retry. start_pfn 0x100000 - 300: 300 pages
 * (4.9: 299, see exhaustion_counts) allocated top-down as p_k = 0xfffff - k,
 * all freed on CPU 0 in order k = 0, 1, ...: prev = A (k 0..127), depot = B
 * (k 128..255), loaded = C (the rest). A 2-page allocation on CPU 1 fails in
 * the tree and flushes: each CPU's loaded then prev, order 0 first; from
 * 5.15 on also the depot. 4.20: freeing C's first pfn (0xffeff) moves c32 to
 * its rb_next 0xfff00 (in B, still allocated), A's first (0xfffff) moves it
 * to the anchor -> retry: from the anchor, new = 0xffffe. 4.9: c32 ends
 * NULL (rb_next of 0xfffff is none) -> rb_last = 0xfff7f (B's top) -> room
 * above -> 0xffffe. 5.15/6.1: c32 ends at the anchor as well -> 0xffffe. The
 * depot's ranges stay allocated in 4.9 and 4.20 (free_cpu_cached_iovas does
 * not touch the depot). */
static void flush_and_retry_on_exhaustion(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 0x100000 - 300, 2);
        unsigned n = 0;
        while (fast(d, 1, LIM32, 0))
            n++;
        assert_int_equal(n, f == V49 ? 299 : 300);
        for (uint64_t k = 0; k < n; k++)
            ffree(d, 0xfffff - k, 1, 0);
        assert_int_equal(fast(d, 2, LIM32, 1), 0xffffe);
        struct host_iova_rcache_state rs;
        host_iova_rcache_state(d, 0, 0, &rs);
        assert_int_equal(rs.loaded, 0);
        assert_int_equal(rs.prev, 0);
        struct host_iova_state s;
        host_iova_get_state(d, &s);
        unsigned m = f == V61 ? 127 : 128;
        if (f == V49 || f == V420) {
            assert_int_equal(rs.depot_mags, 1);
            assert_int_equal(s.nodes, m + 1);
        } else {
            assert_int_equal(rs.depot_mags, 0);
            assert_int_equal(s.nodes, 1);
        }
        host_iova_destroy(d);
    }
}

/* 4.20.17 leaves cached32_node on a freed node when that node lies above
 * 4 GiB (fixed in 5.3 by "iommu/iova: Remove stale cached32_node"). X =
 * 0xfffff, Y = 2^52 - 1. free(X) moves c32 to rb_next(X) = Y; free(Y): its
 * pfn_hi >= dma32, so 4.20 does not move c32: the model counts it. */
static void stale_cached32_in_4_20(void **state)
{
    (void)state;
    for (int f = V420; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        assert_int_equal(slow(d, 1, LIM32), 0xfffff);
        assert_int_equal(slow(d, 1, LIM64), LIM64);
        assert_true(host_free_iova(d, 0xfffff));
        struct host_iova_state s;
        host_iova_get_state(d, &s);
        assert_int_equal(s.cached32_pfn_lo, LIM64);
        assert_true(host_free_iova(d, LIM64));
        host_iova_get_state(d, &s);
        assert_int_equal(s.stale_cached32, f == V420 ? 1 : 0);
        assert_int_equal(s.cached32_pfn_lo, UINT64_MAX);
        assert_int_equal(slow(d, 1, LIM32), 0xfffff);
        host_iova_destroy(d);
    }
}

/* The DMA layer, one fresh domain per flavour, 4 KiB pages:
 * - 24-bit mask: limit 0xfff -> 0xfff000. 4.9: L != dma32, no cache update.
 *   4.20+: pfn_hi < dma32 -> c32 = 0xfff.
 * - 32-bit mask: 4.9: from rb_last -> 0xfffff000. 4.20+: from c32 (0xfff)
 *   -> 0xffe000: the low allocation dragged the 32-bit cache down.
 * - 64-bit mask, not PCI: 4.9/4.20 (AMD dma_ops_alloc_iova) ignore that and
 *   go 32-bit first: 4.9 below c32 (0xfffff) 0xffffe000; 4.20 0xffd000.
 *   5.15/6.1: no SAC attempt: 2^52 - 1 -> 0xfffffffffffff000.
 * - 64-bit mask, PCI, 33 pages: 4.9/4.20 round to 64 pages, 5.15/6.1 keep
 *   33 (>= 32). Size-aligned to 64 in all. 4.9: c32 0xffffe, L = 0xffffd,
 *   rb_prev is 0xfff (24-bit) far below, pad = (0xffffd + 1 - 64) & 63 =
 *   0x3e -> 0xfff80. 4.20: below 0xffd: (0xffd - 64) & ~63 = 0xf80.
 *   5.15/6.1: below c32 0xffe: (0xffe - 33) & ~63 = 0xfc0, pfn_hi 0xfe0. */
static void dma_policy_per_version(void **state)
{
    (void)state;
    static const uint64_t want32[NFLAV] = {0xfffff000, 0xffe000, 0xffe000, 0xffe000};
    static const uint64_t want64np[NFLAV] = {0xffffe000, 0xffd000, 0xfffffffffffff000,
                                             0xfffffffffffff000};
    static const uint64_t want33[NFLAV] = {0xfff80000, 0xf80000, 0xfc0000, 0xfc0000};
    static const uint64_t want33hi[NFLAV] = {0xfffbf, 0xfbf, 0xfe0, 0xfe0};
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        uint64_t a = 1;
        assert_int_equal(host_iova_dma_alloc(d, 0xffffff, true, 4096, 0, &a, NULL), 0);
        assert_int_equal(a, 0xfff000);
        assert_int_equal(host_iova_dma_alloc(d, 0xffffffff, true, 4096, 0, &a, NULL), 0);
        assert_int_equal(a, want32[f]);
        assert_int_equal(host_iova_dma_alloc(d, ~0ull, false, 4096, 0, &a, NULL), 0);
        assert_int_equal(a, want64np[f]);
        assert_int_equal(host_iova_dma_alloc(d, ~0ull, true, 33 * 4096, 0, &a, NULL), 0);
        assert_int_equal(a, want33[f]);
        struct host_iova r;
        assert_true(host_find_iova(d, a >> 12, &r));
        assert_int_equal(r.pfn_hi, want33hi[f]);
        /* 64 pages (4.9/4.20) and 33 (5.15/6.1) are both order 6: too big
         * for the rcaches, so the unmap frees the range in the tree. */
        assert_int_equal(host_iova_dma_free(d, a, 33 * 4096, 0, NULL), 0);
        assert_false(host_find_iova(d, a >> 12, NULL));
        host_iova_destroy(d);
    }
}

/* 3 pages round up to 4 in every version (AMD always; dma-iommu below 32
 * pages), so a fresh domain gives 0xffffc000; unmapping 3 pages puts it in
 * the order-2 rcache (order_base_2(3) == order_base_2(4)) and the next
 * 3-page mapping gets it back. A 64-bit PCI device gets it below 4 GiB. */
static void dma_small_sizes_round_and_reuse(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        uint64_t a;
        assert_int_equal(host_iova_dma_alloc(d, ~0ull, true, 3 * 4096, 0, &a, NULL), 0);
        assert_int_equal(a, 0xffffc000);
        assert_int_equal(host_iova_dma_free(d, a, 3 * 4096, 0, NULL), 0);
        struct host_iova_rcache_state rs;
        host_iova_rcache_state(d, 2, 0, &rs);
        assert_int_equal(rs.loaded, 1);
        assert_int_equal(host_iova_dma_alloc(d, ~0ull, true, 3 * 4096, 0, &a, NULL), 0);
        assert_int_equal(a, 0xffffc000);
        host_iova_destroy(d);
    }
}

/* 32-bit space full (start_pfn 0xffff0): a 64-bit PCI device falls back to
 * the full mask: 2^52 - 1; a 32-bit device gets a mapping error. */
static void dma_falls_back_above_4g(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 0xffff0, 1);
        while (fast(d, 1, LIM32, 0))
            ;
        uint64_t a = 1;
        assert_int_equal(host_iova_dma_alloc(d, ~0ull, true, 4096, 0, &a, NULL), 0);
        assert_int_equal(a, 0xfffffffffffff000);
        struct pcilab_err e = {0};
        assert_int_equal(host_iova_dma_alloc(d, 0xffffffff, true, 4096, 0, &a, &e),
                         -PCILAB_ERANGE);
        assert_int_equal(a, 0);
        host_iova_destroy(d);
    }
}

/* iommu.forcedac=1 (5.15/6.1): no 32-bit attempt for PCI devices. */
static void forcedac_skips_the_sac_attempt(void **state)
{
    (void)state;
    for (int f = V515; f < NFLAV; f++) {
        struct host_iova_params p = {.flavour = f, .granule = 4096, .start_pfn = 1,
                                     .ncpus = 1, .forcedac = true};
        struct host_iova_domain *d = host_iova_create(&p, NULL);
        assert_non_null(d);
        uint64_t a;
        assert_int_equal(host_iova_dma_alloc(d, ~0ull, true, 4096, 0, &a, NULL), 0);
        assert_int_equal(a, 0xfffffffffffff000);
        host_iova_destroy(d);
    }
}

/* alloc_iova_fast on 6.1 rounds sizes below 32 pages itself; 5.15's does
 * not: 3 pages aligned to 4 either way, but 5.15's range is 3 pages long. */
static void alloc_iova_fast_rounding_in_6_1(void **state)
{
    (void)state;
    for (int f = V515; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        assert_int_equal(fast(d, 3, LIM32, 0), 0xffffc);
        struct host_iova r;
        assert_true(host_find_iova(d, 0xffffc, &r));
        assert_int_equal(r.pfn_hi, f == V61 ? 0xfffff : 0xffffe);
        host_iova_destroy(d);
    }
}

/* A warm cache allocates no memory: 10000 alloc/free pairs of 1 page on two
 * CPUs leave the malloc count where it was. */
static void warm_fast_path_does_not_malloc(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 2);
        uint64_t p0 = fast(d, 1, LIM32, 0), p1 = fast(d, 1, LIM32, 1);
        ffree(d, p0, 1, 0);
        ffree(d, p1, 1, 1);
        struct host_iova_state before, after;
        host_iova_get_state(d, &before);
        for (int i = 0; i < 10000; i++) {
            unsigned cpu = (unsigned)i & 1;
            uint64_t p = fast(d, 1, LIM64, cpu);
            assert_int_not_equal(p, 0);
            ffree(d, p, 1, cpu);
        }
        host_iova_get_state(d, &after);
        assert_int_equal(after.mallocs, before.mallocs);
        assert_int_equal(after.nodes, before.nodes);
        host_iova_destroy(d);
    }
}

/* Many ranges through the tree: allocate 5000 mixed sizes, free every third,
 * allocate again; the ranges never overlap and the list is sorted. Checks
 * the balanced tree against its own invariants (the order semantics). */
static void tree_stays_ordered_under_churn(void **state)
{
    (void)state;
    for (int f = 0; f < NFLAV; f++) {
        struct host_iova_domain *d = mk(f, 1, 1);
        uint64_t *pf = calloc(5000, sizeof *pf);
        assert_non_null(pf);
        for (int i = 0; i < 5000; i++)
            pf[i] = slow(d, 1 + (uint64_t)(i % 7), i % 3 ? LIM32 : LIM64);
        for (int i = 0; i < 5000; i += 3)
            assert_true(host_free_iova(d, pf[i]));
        for (int i = 0; i < 2000; i++)
            slow(d, 1 + (uint64_t)(i % 5), LIM32);
        struct host_iova_state s;
        host_iova_get_state(d, &s);
        struct host_iova *l = calloc(s.nodes, sizeof *l);
        assert_non_null(l);
        assert_int_equal(host_iova_list(d, l, s.nodes), s.nodes);
        assert_int_equal(s.nodes, 5000 - 1667 + 2000);
        for (uint64_t i = 1; i < s.nodes; i++)
            assert_true(l[i].pfn_lo > l[i - 1].pfn_hi);
        for (uint64_t i = 0; i < s.nodes; i += 97) {
            struct host_iova r;
            assert_true(host_find_iova(d, l[i].pfn_hi, &r));
            assert_int_equal(r.pfn_lo, l[i].pfn_lo);
        }
        free(l);
        free(pf);
        host_iova_destroy(d);
    }
}

static void bad_arguments_are_errors(void **state)
{
    (void)state;
    struct pcilab_err e = {0};
    struct host_iova_params p = {.flavour = V61, .granule = 3000, .start_pfn = 1, .ncpus = 1};
    assert_null(host_iova_create(&p, &e));
    assert_int_equal(e.code, PCILAB_EINVAL);
    p.granule = 4096;
    p.ncpus = 0;
    assert_null(host_iova_create(&p, &e));
    p.ncpus = 2;
    struct host_iova_domain *d = host_iova_create(&p, &e);
    assert_non_null(d);
    uint64_t pfn;
    assert_int_equal(host_alloc_iova_fast(d, 1, LIM32, true, 2, &pfn, &e), -PCILAB_EINVAL);
    assert_int_equal(host_alloc_iova_fast(d, 0, LIM32, true, 0, &pfn, &e), -PCILAB_EINVAL);
    assert_int_equal(host_alloc_iova(d, 0, LIM32, true, NULL, &e), -PCILAB_EINVAL);
    assert_int_equal(host_free_iova_fast(d, 5, 1, 7, &e), -PCILAB_EINVAL);
    assert_false(host_free_iova(d, UINT64_MAX)); /* the anchor stays */
    host_iova_destroy(d);
    host_iova_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_allocations_go_top_down),
        cmocka_unit_test(msi_window_is_skipped),
        cmocka_unit_test(aligned_blocks_around_msi_window),
        cmocka_unit_test(reserve_merges_like_linux),
        cmocka_unit_test(reserve_refuses_nonsense_from_4_20),
        cmocka_unit_test(free_moves_the_cached_node),
        cmocka_unit_test(retry_above_the_cached_node_from_5_15),
        cmocka_unit_test(retry_can_hand_out_pfn_0_in_5_15_and_6_1),
        cmocka_unit_test(max32_reset_by_any_low_free_in_6_1),
        cmocka_unit_test(exhaustion_counts),
        cmocka_unit_test(rcache_reuse_is_per_cpu),
        cmocka_unit_test(magazine_pop_scans_from_4_20),
        cmocka_unit_test(magazines_and_depot),
        cmocka_unit_test(flush_and_retry_on_exhaustion),
        cmocka_unit_test(stale_cached32_in_4_20),
        cmocka_unit_test(dma_policy_per_version),
        cmocka_unit_test(dma_small_sizes_round_and_reuse),
        cmocka_unit_test(dma_falls_back_above_4g),
        cmocka_unit_test(forcedac_skips_the_sac_attempt),
        cmocka_unit_test(alloc_iova_fast_rounding_in_6_1),
        cmocka_unit_test(warm_fast_path_does_not_malloc),
        cmocka_unit_test(tree_stays_ordered_under_churn),
        cmocka_unit_test(bad_arguments_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
