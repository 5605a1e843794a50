/* Zeroed, aligned tables (sim/table.h). */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/table.h"

static const size_t sizes[] = {1, 16, 4095, 4096, 4097, 65535, 65536, 200000, 1u << 20};

static void check_table(size_t bytes)
{
    uint8_t *p = sim_table_alloc(bytes);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p & 4095u, 0);
    for (size_t i = 0; i < bytes; i++)
        if (p[i]) {
            print_error("byte %zu of a %zu-byte table is 0x%02x\n", i, bytes, p[i]);
            fail();
        }
    memset(p, 0xa5, bytes); /* writable over its whole length (ASan checks) */
    sim_table_free(p, bytes);
}

/* Zeroed even where the memory was used and freed before: the same sizes
 * twice over, each table dirtied before it is freed. */
static void zeroed_and_aligned(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            check_table(sizes[i]);
    /* malloc's own dirty memory handed back to calloc */
    for (int i = 0; i < 8; i++) {
        uint8_t *d = malloc(8192);
        assert_non_null(d);
        memset(d, 0xff, 8192);
        free(d);
        check_table(4096);
    }
    assert_null(sim_table_alloc(0));
    assert_null(sim_table_alloc(SIZE_MAX - 100));
    sim_table_free(NULL, 0);
}

/* Several tables at once do not overlap. */
static void distinct(void **state)
{
    (void)state;
    uint8_t *t[6];
    for (int i = 0; i < 6; i++) {
        t[i] = sim_table_alloc(5000);
        assert_non_null(t[i]);
        memset(t[i], i + 1, 5000);
    }
    for (int i = 0; i < 6; i++) {
        for (size_t b = 0; b < 5000; b++)
            assert_int_equal(t[i][b], i + 1);
        sim_table_free(t[i], 5000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zeroed_and_aligned),
        cmocka_unit_test(distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
