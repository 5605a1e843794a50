#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "host/pages.h"

struct fx {
    struct mem_phys *ram;
    struct mem_addrmap *map;
};

/* RAM 0-640K, 1M-3G, 4G-6G; a hole (MMIO) between 3G and 4G. */
static void mk(struct fx *f)
{
    f->ram = mem_phys_create();
    f->map = mem_addrmap_create(f->ram);
    assert_int_equal(mem_addrmap_add_ram(f->map, 0, 0xa0000, "low", NULL), 0);
    assert_int_equal(mem_addrmap_add_ram(f->map, 0x100000, 0xbff00000ull, "ram", NULL), 0);
    assert_int_equal(mem_addrmap_add_ram(f->map, 0x100000000ull, 0x80000000ull, "high", NULL), 0);
}

static void fx_free(struct fx *f)
{
    mem_addrmap_destroy(f->map);
    mem_phys_destroy(f->ram);
}

static void test_zones_top_down(void **state)
{
    (void)state;
    struct fx f;
    mk(&f);
    struct host_pages *p = host_pages_create(f.map, 0, NULL);
    assert_non_null(p);
    assert_int_equal(host_pages_end(p), 0x180000000ull);
    /* Normal: the top of RAM; DMA32: the top below 4 GiB is the hole, so 3 GiB */
    assert_int_equal(host_pages_alloc(p, 0, HOST_ZONE_NORMAL), 0x17ffff000ull);
    assert_int_equal(host_pages_alloc(p, 0, HOST_ZONE_DMA32), 0xbffff000ull);
    assert_int_equal(host_pages_alloc(p, 0, HOST_ZONE_DMA32), 0xbfffe000ull);
    /* order 3 is naturally aligned: skips the two used pages' block */
    assert_int_equal(host_pages_alloc(p, 3, HOST_ZONE_DMA32), 0xbfff0000ull);
    assert_int_equal(host_pages_alloc(p, 0, HOST_ZONE_DMA32), 0xbfffd000ull);
    assert_int_equal(host_pages_alloc(p, 0, HOST_ZONE_DMA), 0xfff000ull);
    /* free then allocate again: the same block */
    assert_int_equal(host_pages_free(p, 0xbfff0000ull, 3, NULL), 0);
    assert_int_equal(host_pages_alloc(p, 3, HOST_ZONE_DMA32), 0xbfff0000ull);
    struct pcilab_err err;
    assert_true(host_pages_free(p, 0xbfff0000ull, 2, &err) < 0);
    assert_non_null(strstr(err.msg, "0xbfff0000"));
    assert_true(host_pages_free(p, 0x5000, 0, NULL) < 0);
    host_pages_destroy(p);
    fx_free(&f);
}

static void test_fallback_and_limit(void **state)
{
    (void)state;
    struct fx f;
    mk(&f);
    /* mem=2G: nothing above 2 GiB, so a Normal request falls back to DMA32 */
    struct host_pages *p = host_pages_create(f.map, 2ull << 30, NULL);
    assert_non_null(p);
    assert_int_equal(host_pages_managed(p, HOST_ZONE_NORMAL), 0);
    assert_int_equal(host_pages_alloc(p, 0, HOST_ZONE_NORMAL), 0x7ffff000ull);
    /* the low 640K: DMA zone holds 0..0x9ffff and 1M..16M */
    assert_int_equal(host_pages_managed(p, HOST_ZONE_DMA), (0xa0000 >> 12) + (15 << 8));
    host_pages_destroy(p);
    fx_free(&f);
}

static void test_reserve_and_exhaust(void **state)
{
    (void)state;
    struct mem_phys *ram = mem_phys_create();
    struct mem_addrmap *map = mem_addrmap_create(ram);
    assert_int_equal(mem_addrmap_add_ram(map, 0, 0x40000, "tiny", NULL), 0); /* 64 pages */
    struct host_pages *p = host_pages_create(map, 0, NULL);
    host_pages_reserve(p, 0, 0x1000);          /* page 0, as Linux keeps it */
    host_pages_reserve(p, 0x20000, 0x1);       /* one byte reserves its page (32) */
    assert_int_equal(host_pages_free_count(p, HOST_NR_ZONES), 62);
    /* order 5 (32 pages): [32,64) holds the reserved page, [0,32) page 0 */
    assert_int_equal(host_pages_alloc(p, 5, HOST_ZONE_DMA), UINT64_MAX);
    assert_int_equal(host_pages_alloc(p, 4, HOST_ZONE_DMA), 0x30000);
    assert_int_equal(host_pages_alloc(p, 4, HOST_ZONE_DMA), 0x10000);
    assert_int_equal(host_pages_alloc(p, 3, HOST_ZONE_DMA), 0x28000);
    assert_int_equal(host_pages_alloc(p, 2, HOST_ZONE_DMA), 0x24000);
    assert_int_equal(host_pages_alloc(p, 1, HOST_ZONE_DMA), 0x22000);
    assert_int_equal(host_pages_alloc(p, 1, HOST_ZONE_DMA), 0xe000);
    uint64_t n = 0;
    while (host_pages_alloc(p, 0, HOST_ZONE_DMA) != UINT64_MAX)
        n++;
    assert_int_equal(n, 62 - 16 - 16 - 8 - 4 - 2 - 2);
    assert_int_equal(host_pages_free_count(p, HOST_NR_ZONES), 0);
    assert_int_equal(host_get_order(1), 0);
    assert_int_equal(host_get_order(4096), 0);
    assert_int_equal(host_get_order(4097), 1);
    assert_int_equal(host_get_order(256 * 1024), 6);
    host_pages_destroy(p);
    mem_addrmap_destroy(map);
    mem_phys_destroy(ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zones_top_down),
        cmocka_unit_test(test_fallback_and_limit),
        cmocka_unit_test(test_reserve_and_exhaust),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
