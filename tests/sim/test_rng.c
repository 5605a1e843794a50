#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "sim/rng.h"

/* xoshiro256** from the state {1, 2, 3, 4}: the reference sequence of the
 * authors' C implementation, as published with several ports (e.g. the
 * xoshiro256ss C++ wrapper's self-test, Rust rand_xoshiro). */
static void test_xoshiro_reference(void **state)
{
    (void)state;
    static const uint64_t want[] = {
        11520u, 0u, 1509978240u, UINT64_C(1215971899390074240),
        UINT64_C(1216172134540287360), UINT64_C(607988272756665600),
        UINT64_C(16172922978634559625), UINT64_C(8476171486693032832),
        UINT64_C(10595114339597558777), UINT64_C(2904607092377533576),
    };
    struct sim_rng r = {{1, 2, 3, 4}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(sim_rng_next(&r), want[i]);
}

/* The state is four consecutive splitmix64 outputs. Reference outputs of
 * splitmix64 for seed 1234567 (Rosetta Code, "Pseudo-random numbers/Splitmix64")
 * and for seed 0 (first output 0xe220a8397b1dcdaf). */
static void test_seed_is_splitmix64(void **state)
{
    (void)state;
    struct sim_rng r;
    sim_rng_seed(&r, 1234567);
    assert_int_equal(r.s[0], UINT64_C(6457827717110365317));
    assert_int_equal(r.s[1], UINT64_C(3203168211198807973));
    assert_int_equal(r.s[2], UINT64_C(9817491932198370423));
    assert_int_equal(r.s[3], UINT64_C(4593380528125082431));
    sim_rng_seed(&r, 0);
    assert_int_equal(r.s[0], UINT64_C(0xe220a8397b1dcdaf));
    assert_int_equal(r.s[1], UINT64_C(0x6e789e6aa1b965f4));
    assert_int_equal(r.s[2], UINT64_C(0x06c45d188009454f));
    assert_int_equal(r.s[3], UINT64_C(0xf88bb8a8724c81ec));
}

static void test_same_seed_same_stream(void **state)
{
    (void)state;
    struct sim_rng a, b, c;
    sim_rng_seed(&a, 42);
    sim_rng_seed(&b, 42);
    sim_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_rng_next(&a);
        assert_int_equal(x, sim_rng_next(&b));
        differ += x != sim_rng_next(&c);
    }
    assert_true(differ > 990);
}

static void test_below_bounds_and_uniformity(void **state)
{
    (void)state;
    struct sim_rng r;
    sim_rng_seed(&r, 7);
    assert_int_equal(sim_rng_below(&r, 0), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sim_rng_below(&r, 1), 0);
    /* n = 3 divides 2^64 unevenly; with 60000 draws each bucket expects 20000,
     * sd ~ 115; 6 sd bounds. */
    unsigned hist[3] = {0};
    for (int i = 0; i < 60000; i++) {
        uint64_t v = sim_rng_below(&r, 3);
        assert_true(v < 3);
        hist[v]++;
    }
    for (int i = 0; i < 3; i++)
        assert_true(hist[i] > 20000 - 700 && hist[i] < 20000 + 700);
    /* n just above 2^63: half of all 64-bit values are rejected; the results must
     * still be below n and both halves of the range must occur. */
    uint64_t n = (UINT64_C(1) << 63) + 1;
    int high = 0;
    for (int i = 0; i < 2000; i++) {
        uint64_t v = sim_rng_below(&r, n);
        assert_true(v < n);
        high += v >= (UINT64_C(1) << 62);
    }
    assert_true(high > 850 && high < 1150); /* [2^62, 2^63] is half: expect 1000 */
}

static void test_range(void **state)
{
    (void)state;
    struct sim_rng r;
    sim_rng_seed(&r, 9);
    bool seen[5] = {0};
    for (int i = 0; i < 1000; i++) {
        uint64_t v = sim_rng_range(&r, 10, 14);
        assert_true(v >= 10 && v <= 14);
        seen[v - 10] = true;
    }
    for (int i = 0; i < 5; i++)
        assert_true(seen[i]);
    assert_int_equal(sim_rng_range(&r, 5, 5), 5);
    assert_int_equal(sim_rng_range(&r, 6, 5), 6);
    /* The full 64-bit range is every output as it comes (no rejection). */
    struct sim_rng copy = r;
    for (int i = 0; i < 4; i++)
        assert_int_equal(sim_rng_range(&r, 0, UINT64_MAX), sim_rng_next(&copy));
}

static void test_unit(void **state)
{
    (void)state;
    struct sim_rng r;
    sim_rng_seed(&r, 11);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = sim_rng_unit(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
    }
    double mean = sum / 100000;
    assert_true(mean > 0.495 && mean < 0.505);
}

static void test_fork_independent_and_reproducible(void **state)
{
    (void)state;
    struct sim_rng p1, p2, c1, c2, d1;
    sim_rng_seed(&p1, 5);
    sim_rng_seed(&p2, 5);
    sim_rng_fork(&p1, 1, &c1);
    sim_rng_fork(&p2, 1, &c2);
    assert_memory_equal(&c1, &c2, sizeof c1);
    sim_rng_seed(&p1, 5);
    sim_rng_fork(&p1, 2, &d1);
    assert_memory_not_equal(&c1, &d1, sizeof c1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xoshiro_reference),
        cmocka_unit_test(test_seed_is_splitmix64),
        cmocka_unit_test(test_same_seed_same_stream),
        cmocka_unit_test(test_below_bounds_and_uniformity),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_unit),
        cmocka_unit_test(test_fork_independent_and_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
