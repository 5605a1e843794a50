/* The software IO TLB per version. The expected slot placements are derived
 * by hand from the Linux search (src/host/swiotlb.c has the algorithm):
 *
 * 4.9 / 4.20 / 5.15, pool of 512 slots, sequence A:
 *   map 100 B   nslots 1, stride 1, io_tlb_index 0 -> slot 0; index 1
 *   map 4096 B  nslots 2, stride 2 (size >= PAGE_SIZE): ALIGN(1, 2) = 2,
 *               list[2] = 126 >= 2 -> slots 2-3; index 4; slot 1 is renumbered
 *               list[1] = 1 (free run before the allocation ends at it)
 *   map 2048 B  nslots 1, stride 1, index 4 -> slot 4; index 5
 *   map 256 KiB nslots 128, stride 2: ALIGN(5, 2) = 6, list[6] = 122, then
 *               8, 10, ... list[i] = 128 - i < 128 until i = 128 -> slots
 *               128-255; index 256
 *   map 256 KiB + 1: 129 slots, no list entry exceeds 128 -> full
 * 6.1, the same pool with 4 CPUs: 4 areas of 128 slots. A map from CPU c
 *   starts in area c & 3: CPU 0 -> slot 0, CPU 1 -> slot 128, CPU 6 -> slot
 *   256; then 256 KiB from CPU 0: areas 0, 1, 2 each have 127 free slots
 *   (nslots > area_nslabs - used), area 3 is empty -> slot 384.
 *   5.15 with the same calls: slots 0, 1, 2, then ALIGN(3, 2) = 4 ... -> 128. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "host/swiotlb.h"

#define BASE 0x10000000ull

struct lines {
    int n;
    int level[64];
    char text[64][256];
};

static void collect(void *ctx, int level, const char *text)
{
    struct lines *l = ctx;
    if (l->n < 64) {
        l->level[l->n] = level;
        snprintf(l->text[l->n], sizeof l->text[0], "%s", text);
    }
    l->n++;
}

static const struct host_kver *kv(const char *v)
{
    const struct host_kver *k = NULL;
    assert_int_equal(host_kver_find(v, &k, NULL), 0);
    return k;
}

static const struct host_swiotlb_dev ecp5 = {"ecp5_dma", "0000:01:00.0", 0, 0, 0, 0};

static struct host_swiotlb *pool(const char *ver, struct mem_phys *m, unsigned long nslabs,
                                 unsigned nareas, unsigned ncpus, struct lines *l)
{
    memset(l, 0, sizeof *l);
    struct host_swiotlb_config cfg = {kv(ver), m, BASE, nslabs, nareas, ncpus, 0,
                                      {collect, l}};
    struct pcilab_err e = {0};
    struct host_swiotlb *p = host_swiotlb_create(&cfg, &e);
    assert_non_null(p);
    return p;
}

static uint64_t map_ok(struct host_swiotlb *p, const struct host_swiotlb_dev *d, uint64_t orig,
                       size_t size, enum host_dma_dir dir)
{
    struct host_swiotlb_mapping m;
    struct pcilab_err e = {0};
    assert_int_equal(host_swiotlb_map(p, d, orig, size, dir, 0, 0, &m, &e), 0);
    assert_true(host_swiotlb_owns(p, m.tlb_addr));
    return m.tlb_addr;
}

static void placement_sequence_a(void **state)
{
    (void)state;
    static const char *vers[] = {"4.9", "4.20", "5.15"};
    for (size_t v = 0; v < 3; v++) {
        struct mem_phys *m = mem_phys_create();
        struct lines l;
        struct host_swiotlb *p = pool(vers[v], m, 512, 0, 1, &l);
        assert_true(map_ok(p, &ecp5, 0x1000, 100, HOST_DMA_TO_DEVICE) == BASE);
        assert_int_equal(host_swiotlb_next_index(p, 0), 1);
        assert_true(map_ok(p, &ecp5, 0x2000, 4096, HOST_DMA_TO_DEVICE) == BASE + 0x1000);
        assert_int_equal(host_swiotlb_slot_list(p, 1), 1);
        assert_int_equal(host_swiotlb_slot_list(p, 0), 0);
        assert_true(map_ok(p, &ecp5, 0x4000, 2048, HOST_DMA_TO_DEVICE) == BASE + 0x2000);
        assert_true(map_ok(p, &ecp5, 0x100000, HOST_SWIOTLB_MAX_MAPPING, HOST_DMA_TO_DEVICE) ==
                    BASE + 128 * 2048);
        assert_int_equal(host_swiotlb_next_index(p, 0), 256);
        assert_int_equal(host_swiotlb_used(p), 1 + 2 + 1 + 128);
        assert_int_equal(host_swiotlb_slot_list(p, 5), 123);
        /* more than 256 KiB never fits */
        struct host_swiotlb_mapping mp;
        assert_int_equal(host_swiotlb_map(p, &ecp5, 0x200000, HOST_SWIOTLB_MAX_MAPPING + 1,
                                          HOST_DMA_TO_DEVICE, 0, 0, &mp, NULL),
                         -PCILAB_ENOMEM);
        /* unmapping the 4 KiB one merges slots 1-3 with the run from 5 */
        assert_int_equal(host_swiotlb_unmap(p, &ecp5, BASE + 0x1000, 4096, HOST_DMA_TO_DEVICE,
                                            0, NULL), 0);
        assert_int_equal(host_swiotlb_slot_list(p, 3), 1);
        assert_int_equal(host_swiotlb_slot_list(p, 2), 2);
        assert_int_equal(host_swiotlb_slot_list(p, 1), 3);
        assert_int_equal(host_swiotlb_used(p), 130);
        host_swiotlb_destroy(p);
        mem_phys_destroy(m);
    }
}

static void placement_areas_6_1(void **state)
{
    (void)state;
    struct mem_phys *m = mem_phys_create();
    struct lines l;
    struct host_swiotlb *p = pool("6.1", m, 512, 0, 4, &l);
    assert_int_equal(host_swiotlb_nareas(p), 4);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0], "software IO TLB: area num 4.");
    struct host_swiotlb_dev d = ecp5;
    assert_true(map_ok(p, &d, 0x1000, 100, HOST_DMA_TO_DEVICE) == BASE);
    d.cpu = 1;
    assert_true(map_ok(p, &d, 0x1000, 100, HOST_DMA_TO_DEVICE) == BASE + 128 * 2048);
    d.cpu = 6;
    assert_true(map_ok(p, &d, 0x1000, 100, HOST_DMA_TO_DEVICE) == BASE + 256 * 2048);
    d.cpu = 0;
    assert_true(map_ok(p, &d, 0x1000, HOST_SWIOTLB_MAX_MAPPING, HOST_DMA_TO_DEVICE) ==
                BASE + 384 * 2048);
    assert_int_equal(host_swiotlb_next_index(p, 1), 1);
    assert_int_equal(host_swiotlb_next_index(p, 3), 0); /* 0 + 128 wraps the area */
    host_swiotlb_destroy(p);

    /* 5.15, the same calls (cpu is not read) */
    p = pool("5.15", m, 512, 0, 4, &l);
    assert_int_equal(l.n, 0);
    assert_true(map_ok(p, &d, 0x1000, 100, HOST_DMA_TO_DEVICE) == BASE);
    d.cpu = 1;
    assert_true(map_ok(p, &d, 0x1000, 100, HOST_DMA_TO_DEVICE) == BASE + 2048);
    assert_true(map_ok(p, &d, 0x1000, 100, HOST_DMA_TO_DEVICE) == BASE + 2 * 2048);
    assert_true(map_ok(p, &d, 0x1000, HOST_SWIOTLB_MAX_MAPPING, HOST_DMA_TO_DEVICE) ==
                BASE + 128 * 2048);
    host_swiotlb_destroy(p);
    mem_phys_destroy(m);
}

static void min_align_mask_5_15(void **state)
{
    (void)state;
    /* min_align_mask 0xfff: the offset 0xa00 & 0x7ff = 0x200 is kept and the
     * slot must have bit 11 of orig (set): stride 2 from slot 0, slot 0 fails
     * the check, index + 1 = 1 fits -> BASE + 0x800 + 0x200. 4.9 ignores it. */
    struct mem_phys *m = mem_phys_create();
    struct lines l;
    struct host_swiotlb_dev nvme = {"nvme", "0000:02:00.0", 0, 0xfff, 0, 0};
    struct host_swiotlb *p = pool("5.15", m, 256, 0, 1, &l);
    assert_true(map_ok(p, &nvme, 0x12345a00, 100, HOST_DMA_TO_DEVICE) == BASE + 0xa00);
    assert_int_equal(host_swiotlb_unmap(p, &nvme, BASE + 0xa00, 100, HOST_DMA_TO_DEVICE, 0,
                                        NULL), 0);
    assert_int_equal(host_swiotlb_used(p), 0);
    assert_int_equal(host_swiotlb_slot_list(p, 0), 128);
    host_swiotlb_destroy(p);
    p = pool("4.9", m, 256, 0, 1, &l);
    assert_true(map_ok(p, &nvme, 0x12345a00, 100, HOST_DMA_TO_DEVICE) == BASE);
    host_swiotlb_destroy(p);
    mem_phys_destroy(m);
}

static void fill_to_exhaustion_messages(void **state)
{
    (void)state;
    struct mem_phys *m = mem_phys_create();
    struct lines l;
    struct host_swiotlb_mapping mp;
    struct pcilab_err e = {0};
    static const char *vers[] = {"4.9", "4.20", "5.15", "6.1"};
    for (size_t v = 0; v < 4; v++) {
        struct host_swiotlb *p = pool(vers[v], m, 256, 1, 1, &l);
        map_ok(p, &ecp5, 0x100000, HOST_SWIOTLB_MAX_MAPPING, HOST_DMA_FROM_DEVICE);
        map_ok(p, &ecp5, 0x200000, HOST_SWIOTLB_MAX_MAPPING, HOST_DMA_FROM_DEVICE);
        assert_int_equal(host_swiotlb_used(p), 256);
        l.n = 0;
        assert_int_equal(host_swiotlb_map(p, &ecp5, 0x300000, 2048, HOST_DMA_FROM_DEVICE, 0,
                                          0, &mp, &e), -PCILAB_ENOMEM);
        assert_null(mp.panic);
        assert_non_null(strstr(e.msg, "swiotlb buffer is full"));
        if (v <= 1) {
            assert_string_equal(l.text[0],
                                "ecp5_dma 0000:01:00.0: swiotlb buffer is full (sz: 2048 bytes)");
        } else {
            assert_string_equal(l.text[0], "ecp5_dma 0000:01:00.0: swiotlb buffer is full "
                                           "(sz: 2048 bytes), total 256 (slots), used 256 "
                                           "(slots)");
        }
        assert_int_equal(l.level[0], 4);
        if (v == 0) {
            assert_int_equal(l.n, 2);
            assert_string_equal(l.text[1],
                                "DMA: Out of SW-IOMMU space for 2048 bytes at device 0000:01:00.0");
            assert_int_equal(l.level[1], 3);
            /* larger than the 32 KiB overflow buffer: 4.9 panics */
            assert_int_equal(host_swiotlb_map(p, &ecp5, 0x300000, 65536, HOST_DMA_FROM_DEVICE,
                                              0, 0, &mp, NULL), -PCILAB_ENOMEM);
            assert_string_equal(mp.panic, "DMA: Random memory could be DMA written");
            assert_int_equal(host_swiotlb_map(p, &ecp5, 0x300000, 65536, HOST_DMA_TO_DEVICE, 0,
                                              0, &mp, NULL), -PCILAB_ENOMEM);
            assert_string_equal(mp.panic, "DMA: Random memory could be DMA read");
        } else {
            assert_int_equal(l.n, 1);
            /* DMA_ATTR_NO_WARN silences it (not in 4.9) */
            l.n = 0;
            assert_int_equal(host_swiotlb_map(p, &ecp5, 0x300000, 2048, HOST_DMA_TO_DEVICE,
                                              HOST_DMA_ATTR_NO_WARN, 0, &mp, NULL),
                             -PCILAB_ENOMEM);
            assert_int_equal(l.n, 0);
        }
        host_swiotlb_destroy(p);
    }
    mem_phys_destroy(m);
}

static void full_warning_is_ratelimited(void **state)
{
    (void)state;
    struct mem_phys *m = mem_phys_create();
    struct lines l;
    struct host_swiotlb_mapping mp;
    struct host_swiotlb *p = pool("5.15", m, 128, 0, 1, &l);
    map_ok(p, &ecp5, 0x100000, HOST_SWIOTLB_MAX_MAPPING, HOST_DMA_TO_DEVICE);
    for (int i = 0; i < 13; i++)
        host_swiotlb_map(p, &ecp5, 0, 4096, HOST_DMA_TO_DEVICE, 0, SIM_MS * (sim_time_t)i, &mp,
                         NULL);
    assert_int_equal(l.n, 10); /* burst 10, 3 missed */
    /* at 5 s (1250 jiffies at HZ 250) the window has not passed yet */
    host_swiotlb_map(p, &ecp5, 0, 4096, HOST_DMA_TO_DEVICE, 0, 5 * SIM_S, &mp, NULL);
    assert_int_equal(l.n, 10);
    host_swiotlb_map(p, &ecp5, 0, 4096, HOST_DMA_TO_DEVICE, 0, 5 * SIM_S + 4 * SIM_MS, &mp, NULL);
    assert_int_equal(l.n, 12);
    assert_string_equal(l.text[10], "swiotlb_tbl_map_single: 4 callbacks suppressed");
    assert_non_null(strstr(l.text[11], "swiotlb buffer is full (sz: 4096 bytes)"));
    host_swiotlb_destroy(p);
    mem_phys_destroy(m);
}

static void fill_pattern(struct mem_phys *m, uint64_t pa, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(mem_phys_write8(m, pa + i, (uint8_t)(seed + i * 7), NULL), 0);
}

static bool has_pattern(struct mem_phys *m, uint64_t pa, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b;
        mem_phys_read8(m, pa + i, &b, NULL);
        if (b != (uint8_t)(seed + i * 7))
            return false;
    }
    return true;
}

static void copy_directions(void **state)
{
    (void)state;
    static const char *vers[] = {"4.9", "4.20", "5.15", "6.1"};
    for (size_t v = 0; v < 4; v++) {
        struct mem_phys *m = mem_phys_create();
        struct lines l;
        struct host_swiotlb *p = pool(vers[v], m, 256, 1, 1, &l);
        const uint64_t orig = 0x500123;
        const size_t n = 5000;
        fill_pattern(m, orig, n, 1);
        /* TO_DEVICE: copied at map; unmap does not copy back */
        uint64_t t = map_ok(p, &ecp5, orig, n, HOST_DMA_TO_DEVICE);
        assert_true(has_pattern(m, t, n, 1));
        fill_pattern(m, t, n, 9); /* the device cannot write, but say it did */
        assert_int_equal(host_swiotlb_unmap(p, &ecp5, t, n, HOST_DMA_TO_DEVICE, 0, NULL), 0);
        assert_true(has_pattern(m, orig, n, 1));
        /* FROM_DEVICE: the bounce holds the original only where the version
         * bounces at every map (6.1); unmap copies the device's data back */
        t = map_ok(p, &ecp5, orig, n, HOST_DMA_FROM_DEVICE);
        assert_int_equal(has_pattern(m, t, n, 1), v == 3);
        fill_pattern(m, t, n, 42);
        assert_int_equal(host_swiotlb_unmap(p, &ecp5, t, n, HOST_DMA_FROM_DEVICE, 0, NULL), 0);
        assert_true(has_pattern(m, orig, n, 42));
        /* BIDIRECTIONAL both ways */
        fill_pattern(m, orig, n, 3);
        t = map_ok(p, &ecp5, orig, n, HOST_DMA_BIDIRECTIONAL);
        assert_true(has_pattern(m, t, n, 3));
        fill_pattern(m, t, n, 77);
        assert_int_equal(host_swiotlb_unmap(p, &ecp5, t, n, HOST_DMA_BIDIRECTIONAL, 0, NULL), 0);
        assert_true(has_pattern(m, orig, n, 77));
        /* SKIP_CPU_SYNC on unmap: no copy back (4.20+) */
        t = map_ok(p, &ecp5, orig, n, HOST_DMA_FROM_DEVICE);
        fill_pattern(m, t, n, 11);
        assert_int_equal(host_swiotlb_unmap(p, &ecp5, t, n, HOST_DMA_FROM_DEVICE,
                                            HOST_DMA_ATTR_SKIP_CPU_SYNC, NULL), 0);
        assert_int_equal(has_pattern(m, orig, n, 11), v == 0);
        assert_int_equal(host_swiotlb_used(p), 0);
        /* not mapped */
        assert_int_equal(host_swiotlb_unmap(p, &ecp5, t, n, HOST_DMA_FROM_DEVICE, 0, NULL),
                         -PCILAB_ERANGE);
        host_swiotlb_destroy(p);
        mem_phys_destroy(m);
    }
}

static void sync_round_trip(void **state)
{
    (void)state;
    static const char *vers[] = {"4.9", "5.15", "6.1"};
    for (size_t v = 0; v < 3; v++) {
        struct mem_phys *m = mem_phys_create();
        struct lines l;
        struct host_swiotlb *p = pool(vers[v], m, 256, 1, 1, &l);
        const uint64_t orig = 0x700000;
        const size_t n = 8192;
        fill_pattern(m, orig, n, 5);
        uint64_t t = map_ok(p, &ecp5, orig, n, HOST_DMA_BIDIRECTIONAL);
        /* the device writes, the CPU looks */
        fill_pattern(m, t, n, 50);
        assert_int_equal(host_swiotlb_sync_for_cpu(p, &ecp5, t, n, HOST_DMA_BIDIRECTIONAL, NULL),
                         0);
        assert_true(has_pattern(m, orig, n, 50));
        /* the CPU writes, gives it back */
        fill_pattern(m, orig, n, 60);
        assert_int_equal(host_swiotlb_sync_for_device(p, &ecp5, t, n, HOST_DMA_BIDIRECTIONAL,
                                                      NULL), 0);
        assert_true(has_pattern(m, t, n, 60));
        /* a part in the middle: the offset carries to the original */
        fill_pattern(m, t + 3000, 100, 90);
        assert_int_equal(host_swiotlb_sync_for_cpu(p, &ecp5, t + 3000, 100,
                                                   HOST_DMA_BIDIRECTIONAL, NULL), 0);
        assert_true(has_pattern(m, orig + 3000, 100, 90));
        /* the direction that copies nothing, and the one Linux BUG()s on */
        assert_int_equal(host_swiotlb_sync_for_cpu(p, &ecp5, t, n, HOST_DMA_TO_DEVICE, NULL), 0);
        assert_int_equal(host_swiotlb_sync_for_device(p, &ecp5, t, n, HOST_DMA_NONE, NULL),
                         -PCILAB_EINVAL);
        assert_int_equal(host_swiotlb_sync_for_cpu(p, &ecp5, BASE + 0x10000, 4, HOST_DMA_FROM_DEVICE,
                                                   NULL), -PCILAB_ERANGE);
        host_swiotlb_destroy(p);
        mem_phys_destroy(m);
    }
}

static void boot_lines(void **state)
{
    (void)state;
    struct mem_phys *m = mem_phys_create();
    static const struct { const char *ver, *line; } cases[] = {
        {"4.9", "software IO TLB [mem 0xbbe00000-0xbfe00000] (64MB) mapped at "
                "[ffff8800bbe00000-ffff8800bfdfffff]"},
        {"4.20", "software IO TLB: mapped [mem 0xbbe00000-0xbfe00000] (64MB)"},
        {"5.15", "software IO TLB: mapped [mem 0x00000000bbe00000-0x00000000bfe00000] (64MB)"},
        {"6.1", "software IO TLB: mapped [mem 0x00000000bbe00000-0x00000000bfe00000] (64MB)"},
    };
    for (size_t i = 0; i < 4; i++) {
        struct lines l = {0};
        struct host_swiotlb_config cfg = {kv(cases[i].ver), m, 0xbbe00000, 0, 0, 2, 0,
                                          {collect, &l}};
        struct host_swiotlb *p = host_swiotlb_create(&cfg, NULL);
        assert_non_null(p);
        assert_int_equal(host_swiotlb_nslabs(p), 32768);
        host_swiotlb_print_info(p);
        assert_string_equal(l.text[l.n - 1], cases[i].line);
        assert_int_equal(l.level[l.n - 1], 6);
        if (i == 3) {
            assert_int_equal(l.n, 2);
            assert_string_equal(l.text[0], "software IO TLB: area num 2.");
        } else {
            assert_int_equal(l.n, 1);
        }
        host_swiotlb_destroy(p);
    }
    /* nothing was materialised by the zeroing */
    struct mem_phys_stats st;
    mem_phys_get_stats(m, &st);
    assert_int_equal(st.pages, 0);
    /* bad configs */
    struct pcilab_err e = {0};
    struct host_swiotlb_config bad = {kv("5.15"), m, 0x1234, 0, 0, 1, 0, {NULL, NULL}};
    assert_null(host_swiotlb_create(&bad, &e));
    assert_int_equal(e.code, PCILAB_EINVAL);
    bad.start = 0xfffffffffffff000ull;
    assert_null(host_swiotlb_create(&bad, &e));
    assert_int_equal(e.code, PCILAB_ERANGE);
    mem_phys_destroy(m);
}

static void pick_base_like_memblock(void **state)
{
    (void)state;
    const struct host_mem_range ram[] = {
        {0x1000, 0x9e000}, {0x100000, 0xbfee0000 - 0x100000}, {0x100000000, 0x140000000}};
    const struct host_mem_range res[] = {{0xbfe00000, 0xe0000}, {0x1000000, 0x2000000}};
    uint64_t b = 0;
    assert_int_equal(host_swiotlb_pick_base(ram, 3, res, 2, 64 << 20, &b, NULL), 0);
    assert_true(b == 0xbbe00000);
    /* nothing reserved: the top of low RAM, page aligned */
    assert_int_equal(host_swiotlb_pick_base(ram, 3, NULL, 0, 64 << 20, &b, NULL), 0);
    assert_true(b == 0xbbee0000);
    /* RAM up to 4 GiB: the limit 0xffffffff is an exclusive end */
    const struct host_mem_range hi[] = {{0xc0000000, 0x40000000}};
    assert_int_equal(host_swiotlb_pick_base(hi, 1, NULL, 0, 64 << 20, &b, NULL), 0);
    assert_true(b == 0xfbfff000);
    /* RAM only above 4 GiB: no room */
    struct pcilab_err e = {0};
    assert_int_equal(host_swiotlb_pick_base(&ram[2], 1, NULL, 0, 64 << 20, &b, &e),
                     -PCILAB_ENOMEM);
    /* the reserved range leaves a hole too small at the top */
    const struct host_mem_range small[] = {{0x100000, 0x10000000}};
    const struct host_mem_range r2[] = {{0x8000000, 0x8000000}};
    assert_int_equal(host_swiotlb_pick_base(small, 1, r2, 1, 64 << 20, &b, NULL), 0);
    assert_true(b == 0x4000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placement_sequence_a),
        cmocka_unit_test(placement_areas_6_1),
        cmocka_unit_test(min_align_mask_5_15),
        cmocka_unit_test(fill_to_exhaustion_messages),
        cmocka_unit_test(full_warning_is_ratelimited),
        cmocka_unit_test(copy_directions),
        cmocka_unit_test(sync_round_trip),
        cmocka_unit_test(boot_lines),
        cmocka_unit_test(pick_base_like_memblock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
