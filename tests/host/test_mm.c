#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "host/kernel.h"
#include "host/mm.h"

struct fx {
    struct pcilab_sim *sim;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct pcie_fabric *f;
    struct host_kernel *k, *prev;
};

static void up(struct fx *x)
{
    x->sim = sim_create(1);
    x->ram = mem_phys_create();
    x->map = mem_addrmap_create(x->ram);
    assert_int_equal(mem_addrmap_add_ram(x->map, 0, 0xc0000000ull, "ram", NULL), 0);
    assert_int_equal(mem_addrmap_add_ram(x->map, 0x100000000ull, 0x40000000ull, "hi", NULL), 0);
    x->f = pcie_fabric_create(x->sim, NULL, NULL);
    x->k = host_kernel_create(x->sim, x->f, x->ram, x->map, NULL, NULL);
    assert_non_null(x->k);
    x->prev = host_enter(x->k);
}

static void down(struct fx *x)
{
    host_leave(x->prev);
    sim_destroy(x->sim);
    mem_addrmap_destroy(x->map);
    mem_phys_destroy(x->ram);
}

static void test_pages_direct_map(void **state)
{
    (void)state;
    struct fx x;
    up(&x);
    uint64_t pa = 0;
    uint8_t *p = host_alloc_pages(x.k, GFP_KERNEL, 1, &pa);
    assert_non_null(p);
    assert_int_equal(pa, 0x13fffe000ull); /* Normal zone, top */
    uint8_t *d = host_alloc_pages(x.k, GFP_DMA32 | __GFP_ZERO, 0, &pa);
    assert_int_equal(pa, 0xbffff000ull);
    assert_int_equal(host_virt_to_phys(x.k, d + 0x123), 0xbffff123ull);
    assert_ptr_equal(host_phys_to_virt(x.k, 0xbffff123ull), d + 0x123);
    /* a device writes the page, the CPU sees it */
    assert_int_equal(mem_phys_write32(x.ram, 0xbffff010ull, 0xcafe0001u, NULL), 0);
    uint32_t v;
    memcpy(&v, d + 0x10, 4);
    assert_int_equal(v, 0xcafe0001u);
    memcpy(d + 0x20, "\x01\x02\x03\x04", 4);
    assert_int_equal(mem_phys_read32(x.ram, 0xbffff020ull, &v, NULL), 0);
    assert_int_equal(v, 0x04030201u);
    host_free_pages(x.k, d, 0);
    assert_int_equal(host_virt_to_phys(x.k, d), UINT64_MAX);
    /* the freed page comes back, holding its old bytes unless zeroed */
    uint8_t *d2 = host_alloc_pages(x.k, GFP_DMA32, 0, &pa);
    assert_int_equal(pa, 0xbffff000ull);
    memcpy(&v, d2 + 0x10, 4);
    assert_int_equal(v, 0xcafe0001u);
    uint64_t dma_pa;
    assert_non_null(host_alloc_pages(x.k, GFP_DMA, 0, &dma_pa));
    assert_true(dma_pa < 16u << 20);
    host_free_pages(x.k, p, 1);
    down(&x);
}

static void test_kmalloc(void **state)
{
    (void)state;
    struct fx x;
    up(&x);
    uint8_t *a = kmalloc(100, GFP_KERNEL), *b = kmalloc(100, GFP_KERNEL);
    assert_non_null(a);
    assert_int_equal(b - a, 128); /* kmalloc-128 objects in address order */
    assert_int_equal(ksize(a), 128);
    assert_int_equal(virt_to_phys(b) - virt_to_phys(a), 128);
    assert_int_equal(virt_to_phys(a) & 0xfff, 0);
    kfree(a);
    uint8_t *c = kmalloc(120, GFP_KERNEL);
    assert_ptr_equal(c, a); /* last freed, first reused */
    uint8_t *z = kzalloc(64, GFP_KERNEL);
    for (int i = 0; i < 64; i++)
        assert_int_equal(z[i], 0);
    /* large: whole pages */
    uint8_t *big = kmalloc(20000, GFP_KERNEL);
    assert_non_null(big);
    assert_int_equal(virt_to_phys(big) & 0x7fff, 0); /* order 3 block */
    assert_int_equal(ksize(big), 32768);
    kfree(big);
    assert_int_equal(virt_to_phys(big), UINT64_MAX);
    /* unknown pointers */
    int local;
    assert_int_equal(virt_to_phys(&local), UINT64_MAX);
    kfree(&local);
    struct sim_log_rec rec;
    assert_true(sim_log_get(sim_log(x.sim), sim_log_count(sim_log(x.sim)) - 1, &rec));
    assert_non_null(strstr(rec.text, "kmalloc did not return"));
    kfree(b);
    kfree(b); /* double free reported too */
    assert_true(sim_log_get(sim_log(x.sim), sim_log_count(sim_log(x.sim)) - 1, &rec));
    assert_non_null(strstr(rec.text, "freed already"));
    assert_null(kmalloc(0, GFP_KERNEL));
    kfree(NULL);
    kfree(c);
    kfree(z);
    down(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_direct_map),
        cmocka_unit_test(test_kmalloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
