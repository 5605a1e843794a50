#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "mem/physmem.h"

static int setup(void **state)
{
    *state = mem_phys_create();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    mem_phys_destroy(*state);
    return 0;
}

static void zero_reads_do_not_allocate(void **state)
{
    struct mem_phys *m = *state;
    uint8_t buf[10000];
    memset(buf, 0xa5, sizeof buf);
    assert_int_equal(mem_phys_read(m, 0x12345678, buf, sizeof buf, NULL), 0);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0);
    uint64_t v = 1;
    assert_int_equal(mem_phys_read64(m, 0xffffffffffff0000ull, &v, NULL), 0);
    assert_int_equal(v, 0);
    /* filling with zero does not materialise either */
    assert_int_equal(mem_phys_fill(m, 0x100000, 0, 1 << 20, NULL), 0);
    struct mem_phys_stats st;
    mem_phys_get_stats(m, &st);
    assert_int_equal(st.pages, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.zero_reads, sizeof buf + 8);
    assert_int_equal(st.bytes_read, sizeof buf + 8);
    assert_false(mem_phys_page_present(m, 0x12345678));
}

static void write_then_read_back(void **state)
{
    struct mem_phys *m = *state;
    assert_int_equal(mem_phys_write32(m, 0xffbf8000, 0xdeadbeef, NULL), 0);
    uint8_t b[4];
    assert_int_equal(mem_phys_read(m, 0xffbf8000, b, 4, NULL), 0);
    /* little-endian */
    assert_int_equal(b[0], 0xef);
    assert_int_equal(b[1], 0xbe);
    assert_int_equal(b[2], 0xad);
    assert_int_equal(b[3], 0xde);
    uint16_t h;
    assert_int_equal(mem_phys_read16(m, 0xffbf8002, &h, NULL), 0);
    assert_int_equal(h, 0xdead);
    uint8_t by;
    assert_int_equal(mem_phys_read8(m, 0xffbf8001, &by, NULL), 0);
    assert_int_equal(by, 0xbe);
    assert_int_equal(mem_phys_write64(m, 0x1000, 0x0123456789abcdefull, NULL), 0);
    uint64_t q;
    assert_int_equal(mem_phys_read64(m, 0x1000, &q, NULL), 0);
    assert_true(q == 0x0123456789abcdefull);
    uint32_t w;
    assert_int_equal(mem_phys_read32(m, 0x1004, &w, NULL), 0);
    assert_int_equal(w, 0x01234567);
    assert_int_equal(mem_phys_write16(m, 0x1000, 0xbeef, NULL), 0);
    assert_int_equal(mem_phys_write8(m, 0x1007, 0x77, NULL), 0);
    assert_int_equal(mem_phys_read64(m, 0x1000, &q, NULL), 0);
    assert_true(q == 0x7723456789abbeefull);
    struct mem_phys_stats st;
    mem_phys_get_stats(m, &st);
    assert_int_equal(st.pages, 2);
    assert_int_equal(st.bytes, 2 * MEM_PAGE_SIZE);
    assert_true(mem_phys_page_present(m, 0xffbf8fff));
    assert_false(mem_phys_page_present(m, 0xffbf9000));
}

static void page_crossing(void **state)
{
    struct mem_phys *m = *state;
    uint8_t in[3 * 4096 + 100], out[sizeof in];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 + 3);
    uint64_t pa = 0x7ffff000 - 50; /* starts 50 bytes before a page boundary */
    assert_int_equal(mem_phys_write(m, pa, in, sizeof in, NULL), 0);
    struct mem_phys_stats st;
    mem_phys_get_stats(m, &st);
    assert_int_equal(st.pages, 5); /* 50 B + 3 full + 50 B */
    memset(out, 0, sizeof out);
    assert_int_equal(mem_phys_read(m, pa, out, sizeof out, NULL), 0);
    assert_memory_equal(in, out, sizeof in);
    /* a u32 straddling the boundary */
    assert_int_equal(mem_phys_write32(m, 0x20ffe, 0x11223344, NULL), 0);
    uint32_t v;
    assert_int_equal(mem_phys_read32(m, 0x20ffe, &v, NULL), 0);
    assert_int_equal(v, 0x11223344);
    uint8_t b;
    assert_int_equal(mem_phys_read8(m, 0x21000, &b, NULL), 0);
    assert_int_equal(b, 0x22);
    /* bytes around the written block stay zero */
    assert_int_equal(mem_phys_read8(m, pa - 1, &b, NULL), 0);
    assert_int_equal(b, 0);
    assert_int_equal(mem_phys_read8(m, pa + sizeof in, &b, NULL), 0);
    assert_int_equal(b, 0);
    /* partial read of present + absent pages */
    uint8_t mix[8192];
    memset(mix, 0xff, sizeof mix);
    assert_int_equal(mem_phys_read(m, 0x20000, mix, sizeof mix, NULL), 0);
    assert_int_equal(mix[0xffe], 0x44);
    assert_int_equal(mix[0x1001], 0x11);
    assert_int_equal(mix[0x1002], 0);
    assert_int_equal(mix[0], 0);
}

static void wrap_is_an_error(void **state)
{
    struct mem_phys *m = *state;
    struct pcilab_err e = {0};
    uint8_t b[16] = {1};
    assert_int_equal(mem_phys_write(m, 0xfffffffffffffff8ull, b, 16, &e), -PCILAB_ERANGE);
    assert_int_equal(e.code, PCILAB_ERANGE);
    assert_non_null(strstr(e.msg, "wraps"));
    uint64_t v;
    assert_int_equal(mem_phys_read64(m, 0xfffffffffffffffcull, &v, NULL), -PCILAB_ERANGE);
    assert_int_equal(mem_phys_fill(m, 0xffffffffffffff00ull, 1, 0x101, NULL), -PCILAB_ERANGE);
    struct mem_phys_stats st;
    mem_phys_get_stats(m, &st);
    assert_int_equal(st.pages, 0); /* nothing written */
    /* ending exactly at 2^64 is fine */
    assert_int_equal(mem_phys_write64(m, 0xfffffffffffffff8ull, 0x8877665544332211ull, NULL), 0);
    assert_int_equal(mem_phys_read64(m, 0xfffffffffffffff8ull, &v, NULL), 0);
    assert_true(v == 0x8877665544332211ull);
    uint8_t last;
    assert_int_equal(mem_phys_read8(m, 0xffffffffffffffffull, &last, NULL), 0);
    assert_int_equal(last, 0x88);
    assert_int_equal(mem_phys_fill(m, 0xffffffffffffff00ull, 0x5a, 0x100, NULL), 0);
    assert_int_equal(mem_phys_read8(m, 0xffffffffffffffffull, &last, NULL), 0);
    assert_int_equal(last, 0x5a);
    /* zero-length at the top is fine too */
    assert_int_equal(mem_phys_read(m, 0xffffffffffffffffull, b, 0, NULL), 0);
}

static void fill_values(void **state)
{
    struct mem_phys *m = *state;
    assert_int_equal(mem_phys_fill(m, 0x5000 + 10, 0xab, 5000, NULL), 0);
    uint8_t b[5100];
    assert_int_equal(mem_phys_read(m, 0x5000, b, sizeof b, NULL), 0);
    for (size_t i = 0; i < sizeof b; i++)
        assert_int_equal(b[i], i >= 10 && i < 5010 ? 0xab : 0);
    /* zero fill over existing pages clears them (pages stay) */
    assert_int_equal(mem_phys_fill(m, 0x5000, 0, 0x3000, NULL), 0);
    assert_int_equal(mem_phys_read(m, 0x5000, b, sizeof b, NULL), 0);
    for (size_t i = 0; i < sizeof b; i++)
        assert_int_equal(b[i], 0);
    struct mem_phys_stats st;
    mem_phys_get_stats(m, &st);
    assert_int_equal(st.pages, 2);
}

struct walk {
    uint64_t prev;
    size_t n;
    int stop_after;
};

static int walk_fn(void *ctx, uint64_t pa, const uint8_t *data)
{
    struct walk *w = ctx;
    if (w->n)
        assert_true(pa > w->prev);
    assert_int_equal(pa & MEM_PAGE_MASK, 0);
    /* each page holds its own pfn in its first 8 bytes (see many_pages) */
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | data[i];
    assert_true(v == pa >> MEM_PAGE_SHIFT);
    w->prev = pa;
    w->n++;
    return w->stop_after && (int)w->n == w->stop_after ? 42 : 0;
}

static void many_pages(void **state)
{
    struct mem_phys *m = *state;
    /* 20000 pages scattered over the address space, in a scrambled order */
    const size_t n = 20000;
    for (size_t i = 0; i < n; i++) {
        uint64_t pfn = ((uint64_t)i * 2654435761u) % 1000003u; /* distinct for i < 1000003 */
        pfn |= (uint64_t)(i & 3) << 40;                         /* spread high bits too */
        assert_int_equal(mem_phys_write64(m, pfn << MEM_PAGE_SHIFT, pfn, NULL), 0);
    }
    struct mem_phys_stats st;
    mem_phys_get_stats(m, &st);
    assert_int_equal(st.pages, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t pfn = ((uint64_t)i * 2654435761u) % 1000003u;
        pfn |= (uint64_t)(i & 3) << 40;
        uint64_t v;
        assert_int_equal(mem_phys_read64(m, pfn << MEM_PAGE_SHIFT, &v, NULL), 0);
        assert_true(v == pfn);
    }
    struct walk w = {0};
    assert_int_equal(mem_phys_for_each_page(m, walk_fn, &w, NULL), 0);
    assert_int_equal(w.n, n);
    struct walk w2 = {.stop_after = 5};
    assert_int_equal(mem_phys_for_each_page(m, walk_fn, &w2, NULL), 42);
    assert_int_equal(w2.n, 5);
    mem_phys_get_stats(m, &st);
    assert_int_equal(st.pages, n); /* reads added nothing */
}

static void empty_walk(void **state)
{
    struct walk w = {0};
    assert_int_equal(mem_phys_for_each_page(*state, walk_fn, &w, NULL), 0);
    assert_int_equal(w.n, 0);
}

static void two_instances_are_independent(void **state)
{
    struct mem_phys *a = *state, *b = mem_phys_create();
    assert_non_null(b);
    assert_int_equal(mem_phys_write32(a, 0x1000, 1, NULL), 0);
    assert_int_equal(mem_phys_write32(b, 0x1000, 2, NULL), 0);
    uint32_t va, vb;
    mem_phys_read32(a, 0x1000, &va, NULL);
    mem_phys_read32(b, 0x1000, &vb, NULL);
    assert_int_equal(va, 1);
    assert_int_equal(vb, 2);
    mem_phys_destroy(b);
}

/* The host view: one contiguous block aliasing the simulated pages, with
 * existing bytes kept, re-blocking a partly overlapping range, and growth of
 * the table afterwards keeping the block's pages. */
static void contiguous_view(void **state)
{
    struct mem_phys *m = *state;
    assert_int_equal(mem_phys_write32(m, 0x201004, 0xabcd1234, NULL), 0);
    uint8_t *h = NULL;
    assert_int_equal(mem_phys_contiguous(m, 0x200000, 4, &h, NULL), 0);
    uint32_t v;
    memcpy(&v, h + 0x1004, 4);
    assert_int_equal(v, 0xabcd1234); /* kept */
    memcpy(h + 0x3ffc, "\x11\x22\x33\x44", 4);
    assert_int_equal(mem_phys_read32(m, 0x203ffc, &v, NULL), 0);
    assert_int_equal(v, 0x44332211); /* a store through the view is memory */
    assert_int_equal(mem_phys_write32(m, 0x202000, 0x5a5a5a5a, NULL), 0);
    assert_int_equal(h[0x2000], 0x5a); /* a write to memory shows in the view */
    /* the same range again: the same block */
    uint8_t *h2 = NULL;
    assert_int_equal(mem_phys_contiguous(m, 0x200000, 4, &h2, NULL), 0);
    assert_ptr_equal(h, h2);
    assert_int_equal(mem_phys_contiguous(m, 0x201000, 2, &h2, NULL), 0);
    assert_ptr_equal(h2, h + 0x1000);
    /* overlapping the block's end and beyond: a new block with the bytes */
    uint8_t *h3 = NULL;
    assert_int_equal(mem_phys_contiguous(m, 0x203000, 2, &h3, NULL), 0);
    assert_true(h3 != h + 0x3000);
    memcpy(&v, h3 + 0xffc, 4);
    assert_int_equal(v, 0x44332211);
    h3[0] = 0x77;
    assert_int_equal(mem_phys_read8(m, 0x203000, &h3[1], NULL), 0);
    assert_int_equal(h3[1], 0x77);
    /* many more pages: the table grows, the views still alias */
    for (uint64_t p = 0; p < 300; p++)
        assert_int_equal(mem_phys_write8(m, 0x10000000 + p * 4096, 1, NULL), 0);
    h[0x2001] = 0x99;
    uint8_t b;
    assert_int_equal(mem_phys_read8(m, 0x202001, &b, NULL), 0);
    assert_int_equal(b, 0x99);
    struct pcilab_err err;
    assert_int_equal(mem_phys_contiguous(m, 0x200010, 1, &h, &err), -PCILAB_EINVAL);
    assert_int_equal(mem_phys_contiguous(m, 0x200000, 0, &h, &err), -PCILAB_EINVAL);
    assert_int_equal(mem_phys_contiguous(m, 0xfffffffffffff000ull, 2, &h, &err), -PCILAB_ERANGE);
    struct mem_phys_stats st;
    mem_phys_get_stats(m, &st);
    assert_int_equal(st.pages, 4 + 1 + 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(zero_reads_do_not_allocate, setup, teardown),
        cmocka_unit_test_setup_teardown(write_then_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(page_crossing, setup, teardown),
        cmocka_unit_test_setup_teardown(wrap_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(fill_values, setup, teardown),
        cmocka_unit_test_setup_teardown(many_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(two_instances_are_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(contiguous_view, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
