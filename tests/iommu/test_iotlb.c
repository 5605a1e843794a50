#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "iommu/iommu.h"
#include "iommu/iotlb.h"

static struct iommu_iotlb *mk(unsigned entries, unsigned ways, enum iommu_iotlb_policy p)
{
    struct iommu_iotlb_config c;
    iommu_iotlb_config_default(&c);
    c.entries = entries;
    c.ways = ways;
    c.policy = p;
    struct iommu_iotlb *t = iommu_iotlb_create(&c, NULL);
    assert_non_null(t);
    return t;
}

static void test_geometry_errors(void **state)
{
    (void)state;
    struct iommu_iotlb_config c;
    iommu_iotlb_config_default(&c);
    struct pcilab_err err;
    c.entries = 48;
    assert_null(iommu_iotlb_create(&c, &err));
    assert_int_equal(err.code, PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "entries 48"));
    c.entries = 64;
    c.ways = 128;
    assert_null(iommu_iotlb_create(&c, &err));
    assert_non_null(strstr(err.msg, "ways 128"));
    c.ways = 3;
    assert_null(iommu_iotlb_create(&c, &err));
}

static void test_hit_miss_domain_tag(void **state)
{
    (void)state;
    struct iommu_iotlb *t = mk(64, 8, IOMMU_IOTLB_LRU);
    assert_null(iommu_iotlb_lookup(t, 1, IOMMU_IOTLB_NO_PASID, 0xffbf8000));
    iommu_iotlb_insert(t, 1, IOMMU_IOTLB_NO_PASID, 0xffbf8123, 0x12345000, 12, IOMMU_PERM_R);
    const struct iommu_iotlb_entry *e = iommu_iotlb_lookup(t, 1, IOMMU_IOTLB_NO_PASID, 0xffbf8ffc);
    assert_non_null(e);
    assert_int_equal(e->pa, 0x12345000);
    assert_int_equal(e->perm, IOMMU_PERM_R);
    /* another domain, another page, another PASID: misses */
    assert_null(iommu_iotlb_lookup(t, 2, IOMMU_IOTLB_NO_PASID, 0xffbf8000));
    assert_null(iommu_iotlb_lookup(t, 1, IOMMU_IOTLB_NO_PASID, 0xffbf9000));
    assert_null(iommu_iotlb_lookup(t, 1, 7, 0xffbf8000));
    /* re-insert of the same page replaces, not duplicates */
    iommu_iotlb_insert(t, 1, IOMMU_IOTLB_NO_PASID, 0xffbf8000, 0x22222000, 12,
                       IOMMU_PERM_R | IOMMU_PERM_W);
    assert_int_equal(iommu_iotlb_count(t), 1);
    e = iommu_iotlb_lookup(t, 1, IOMMU_IOTLB_NO_PASID, 0xffbf8000);
    assert_int_equal(e->pa, 0x22222000);
    struct iommu_iotlb_stats st;
    iommu_iotlb_get_stats(t, &st);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 4);
    assert_int_equal(st.inserts, 2);
    iommu_iotlb_destroy(t);
}

static void test_large_pages(void **state)
{
    (void)state;
    struct iommu_iotlb *t = mk(64, 4, IOMMU_IOTLB_LRU);
    iommu_iotlb_insert(t, 3, IOMMU_IOTLB_NO_PASID, 0x40000000, 0x80000000, 21, IOMMU_PERM_W);
    iommu_iotlb_insert(t, 3, IOMMU_IOTLB_NO_PASID, 0x80000000, 0x1c0000000ull, 30, IOMMU_PERM_R);
    iommu_iotlb_insert(t, 3, IOMMU_IOTLB_NO_PASID, 0x1000, 0x5000, 12, IOMMU_PERM_R);
    const struct iommu_iotlb_entry *e = iommu_iotlb_lookup(t, 3, IOMMU_IOTLB_NO_PASID, 0x401fffff);
    assert_non_null(e);
    assert_int_equal(e->page_shift, 21);
    assert_null(iommu_iotlb_lookup(t, 3, IOMMU_IOTLB_NO_PASID, 0x40200000));
    e = iommu_iotlb_lookup(t, 3, IOMMU_IOTLB_NO_PASID, 0xbfffffff);
    assert_non_null(e);
    assert_int_equal(e->page_shift, 30);
    assert_int_equal(e->pa, 0x1c0000000ull);
    /* a 4 KiB flush inside the 2 MiB page drops the whole 2 MiB entry */
    assert_int_equal(iommu_iotlb_flush_range(t, 3, IOMMU_IOTLB_NO_PASID, 0x40123000, 4096), 1);
    assert_null(iommu_iotlb_lookup(t, 3, IOMMU_IOTLB_NO_PASID, 0x40000000));
    assert_non_null(iommu_iotlb_lookup(t, 3, IOMMU_IOTLB_NO_PASID, 0x1000));
    iommu_iotlb_destroy(t);
}

static void test_flush_scopes(void **state)
{
    (void)state;
    struct iommu_iotlb *t = mk(256, 4, IOMMU_IOTLB_LRU);
    for (unsigned d = 1; d <= 2; d++)
        for (uint64_t p = 0; p < 16; p++)
            iommu_iotlb_insert(t, (uint16_t)d, IOMMU_IOTLB_NO_PASID, 0x100000 + p * 4096,
                               0x900000 + p * 4096, 12, IOMMU_PERM_R);
    assert_int_equal(iommu_iotlb_count(t), 32);
    /* range [0x103800, 0x105800) overlaps pages 3, 4, 5 of domain 1 only */
    assert_int_equal(iommu_iotlb_flush_range(t, 1, IOMMU_IOTLB_NO_PASID, 0x103800, 0x2000), 3);
    assert_null(iommu_iotlb_lookup(t, 1, IOMMU_IOTLB_NO_PASID, 0x104000));
    assert_non_null(iommu_iotlb_lookup(t, 1, IOMMU_IOTLB_NO_PASID, 0x106000));
    assert_non_null(iommu_iotlb_lookup(t, 2, IOMMU_IOTLB_NO_PASID, 0x104000));
    /* a range that reaches past 2^64 means "to the end" */
    assert_int_equal(iommu_iotlb_flush_range(t, 1, IOMMU_IOTLB_NO_PASID, 0x10a000, UINT64_MAX), 6);
    assert_int_equal(iommu_iotlb_flush_domain(t, 1), 7);
    assert_int_equal(iommu_iotlb_count(t), 16);
    assert_int_equal(iommu_iotlb_flush_all(t), 16);
    assert_int_equal(iommu_iotlb_count(t), 0);
    iommu_iotlb_destroy(t);
}

static void test_pasid_flush(void **state)
{
    (void)state;
    struct iommu_iotlb *t = mk(64, 64, IOMMU_IOTLB_FIFO);
    iommu_iotlb_insert(t, 1, 5, 0x1000, 0xa000, 12, IOMMU_PERM_R);
    iommu_iotlb_insert(t, 1, 6, 0x1000, 0xb000, 12, IOMMU_PERM_R);
    assert_int_equal(iommu_iotlb_lookup(t, 1, 6, 0x1000)->pa, 0xb000);
    assert_int_equal(iommu_iotlb_flush_range(t, 1, 5, 0, 0), 1);
    assert_null(iommu_iotlb_lookup(t, 1, 5, 0x1000));
    assert_non_null(iommu_iotlb_lookup(t, 1, 6, 0x1000));
    assert_int_equal(iommu_iotlb_flush_range(t, 1, IOMMU_IOTLB_NO_PASID, 0x1000, 1), 1);
    iommu_iotlb_destroy(t);
}

/* One set of 4 ways: LRU evicts the least recently used, FIFO the oldest. */
static void fill4(struct iommu_iotlb *t)
{
    for (uint64_t p = 0; p < 4; p++)
        iommu_iotlb_insert(t, 0, IOMMU_IOTLB_NO_PASID, p << 12, p << 12, 12, IOMMU_PERM_R);
}

static void test_replacement(void **state)
{
    (void)state;
    struct iommu_iotlb *t = mk(4, 4, IOMMU_IOTLB_LRU);
    fill4(t);
    assert_non_null(iommu_iotlb_lookup(t, 0, IOMMU_IOTLB_NO_PASID, 0x0000)); /* 0 used again */
    iommu_iotlb_insert(t, 0, IOMMU_IOTLB_NO_PASID, 0x9000, 0x9000, 12, IOMMU_PERM_R);
    assert_non_null(iommu_iotlb_lookup(t, 0, IOMMU_IOTLB_NO_PASID, 0x0000));
    assert_null(iommu_iotlb_lookup(t, 0, IOMMU_IOTLB_NO_PASID, 0x1000)); /* LRU victim */
    struct iommu_iotlb_stats st;
    iommu_iotlb_get_stats(t, &st);
    assert_int_equal(st.evictions, 1);
    iommu_iotlb_destroy(t);

    t = mk(4, 4, IOMMU_IOTLB_FIFO);
    fill4(t);
    assert_non_null(iommu_iotlb_lookup(t, 0, IOMMU_IOTLB_NO_PASID, 0x0000));
    iommu_iotlb_insert(t, 0, IOMMU_IOTLB_NO_PASID, 0x9000, 0x9000, 12, IOMMU_PERM_R);
    assert_null(iommu_iotlb_lookup(t, 0, IOMMU_IOTLB_NO_PASID, 0x0000)); /* oldest */
    assert_non_null(iommu_iotlb_lookup(t, 0, IOMMU_IOTLB_NO_PASID, 0x1000));
    iommu_iotlb_destroy(t);

    /* RANDOM: deterministic for a seed, and always one of the four */
    unsigned gone[2];
    for (int run = 0; run < 2; run++) {
        t = mk(4, 4, IOMMU_IOTLB_RANDOM);
        fill4(t);
        iommu_iotlb_insert(t, 0, IOMMU_IOTLB_NO_PASID, 0x9000, 0x9000, 12, IOMMU_PERM_R);
        unsigned missing = 0, which = 99;
        for (unsigned p = 0; p < 4; p++)
            if (!iommu_iotlb_lookup(t, 0, IOMMU_IOTLB_NO_PASID, (uint64_t)p << 12)) {
                missing++;
                which = p;
            }
        assert_int_equal(missing, 1);
        gone[run] = which;
        iommu_iotlb_destroy(t);
    }
    assert_int_equal(gone[0], gone[1]);
}

/* Reach: 64 entries of 4 KiB hold a 256 KiB working set without misses. */
static void test_reach(void **state)
{
    (void)state;
    struct iommu_iotlb *t = mk(64, 8, IOMMU_IOTLB_LRU);
    for (uint64_t p = 0; p < 64; p++)
        iommu_iotlb_insert(t, 9, IOMMU_IOTLB_NO_PASID, 0xfff00000 + (p << 12), p << 12, 12,
                           IOMMU_PERM_R);
    assert_int_equal(iommu_iotlb_count(t), 64);
    for (uint64_t p = 0; p < 64; p++)
        assert_non_null(iommu_iotlb_lookup(t, 9, IOMMU_IOTLB_NO_PASID, 0xfff00000 + (p << 12)));
    iommu_iotlb_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry_errors),
        cmocka_unit_test(test_hit_miss_domain_tag),
        cmocka_unit_test(test_large_pages),
        cmocka_unit_test(test_flush_scopes),
        cmocka_unit_test(test_pasid_flush),
        cmocka_unit_test(test_replacement),
        cmocka_unit_test(test_reach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
