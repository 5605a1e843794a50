#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim/evq.h"
#include "sim/rng.h"

static void nop(void *ctx, uint64_t arg)
{
    (void)ctx;
    (void)arg;
}

static void test_empty(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_create();
    struct sim_event ev;
    sim_time_t t = 77;
    assert_int_equal(sim_evq_len(q), 0);
    assert_false(sim_evq_pop(q, &ev));
    assert_false(sim_evq_peek_time(q, &t));
    assert_int_equal(t, 77);
    assert_false(sim_evq_cancel(q, 0));
    assert_false(sim_evq_cancel(q, 12345));
    assert_false(sim_evq_cancel(q, UINT64_MAX));
    sim_evq_destroy(q);
}

static void test_order_by_time(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_create();
    sim_time_t times[] = {50, 10, 40, 30, 20, 0, 60};
    for (size_t i = 0; i < 7; i++)
        assert_int_not_equal(sim_evq_push(q, times[i], nop, NULL, times[i]), 0);
    sim_time_t t;
    assert_true(sim_evq_peek_time(q, &t));
    assert_int_equal(t, 0);
    struct sim_event ev;
    for (sim_time_t want = 0; want <= 60; want += 10) {
        assert_true(sim_evq_pop(q, &ev));
        assert_int_equal(ev.time, want);
        assert_int_equal(ev.arg, want);
        assert_ptr_equal(ev.fn, nop);
    }
    assert_false(sim_evq_pop(q, &ev));
    sim_evq_destroy(q);
}

static void test_equal_times_fifo(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_create();
    /* Interleave two times so that heap moves happen between equal keys. */
    for (uint64_t i = 0; i < 500; i++) {
        sim_evq_push(q, 100, nop, NULL, i);
        sim_evq_push(q, 50, nop, NULL, 1000 + i);
    }
    struct sim_event ev;
    for (uint64_t i = 0; i < 500; i++) {
        assert_true(sim_evq_pop(q, &ev));
        assert_int_equal(ev.time, 50);
        assert_int_equal(ev.arg, 1000 + i);
    }
    for (uint64_t i = 0; i < 500; i++) {
        assert_true(sim_evq_pop(q, &ev));
        assert_int_equal(ev.time, 100);
        assert_int_equal(ev.arg, i);
    }
    sim_evq_destroy(q);
}

static void test_cancel(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_create();
    sim_event_id a = sim_evq_push(q, 10, nop, NULL, 1);
    sim_event_id b = sim_evq_push(q, 20, nop, NULL, 2);
    sim_event_id c = sim_evq_push(q, 30, nop, NULL, 3);
    assert_true(sim_evq_pending(q, b));
    assert_true(sim_evq_cancel(q, b));
    assert_false(sim_evq_pending(q, b));
    assert_false(sim_evq_cancel(q, b)); /* twice */
    assert_int_equal(sim_evq_len(q), 2);
    struct sim_event ev;
    assert_true(sim_evq_pop(q, &ev));
    assert_int_equal(ev.arg, 1);
    assert_int_equal(ev.id, a);
    assert_false(sim_evq_cancel(q, a)); /* already popped */
    assert_true(sim_evq_cancel(q, c));
    assert_int_equal(sim_evq_len(q), 0);
    sim_evq_destroy(q);
}

static void test_stale_id_never_cancels_reused_slot(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_create();
    sim_event_id old = sim_evq_push(q, 10, nop, NULL, 1);
    assert_true(sim_evq_cancel(q, old));
    /* The free list is LIFO: the next push reuses the same slot. */
    sim_event_id fresh = sim_evq_push(q, 20, nop, NULL, 2);
    assert_int_equal(old & 0xffffffffu, fresh & 0xffffffffu);
    assert_int_not_equal(old, fresh);
    assert_false(sim_evq_cancel(q, old));
    assert_false(sim_evq_pending(q, old));
    assert_true(sim_evq_pending(q, fresh));
    struct sim_event ev;
    assert_true(sim_evq_pop(q, &ev));
    assert_int_equal(ev.arg, 2);
    /* And after a pop, the slot's next event is safe from the popped id. */
    sim_event_id again = sim_evq_push(q, 30, nop, NULL, 3);
    assert_false(sim_evq_cancel(q, fresh));
    assert_true(sim_evq_cancel(q, again));
    sim_evq_destroy(q);
}

/* Reference model: an unsorted array searched linearly. */
struct ref_ev {
    sim_time_t t;
    uint64_t seq, arg;
    sim_event_id id;
};

static void test_random_against_reference(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_create();
    struct sim_rng r;
    sim_rng_seed(&r, 2024);
    size_t cap = 20000, n = 0;
    struct ref_ev *ref = calloc(cap, sizeof *ref);
    sim_event_id *dead = calloc(200000, sizeof *dead);
    size_t ndead = 0;
    uint64_t seq = 0;
    sim_time_t now = 0;
    for (int op = 0; op < 200000; op++) {
        uint64_t k = sim_rng_below(&r, 10);
        if (k < 5 && n < cap) {
            sim_time_t t = now + sim_rng_below(&r, 64); /* many equal times */
            sim_event_id id = sim_evq_push(q, t, nop, NULL, seq);
            assert_int_not_equal(id, 0);
            ref[n++] = (struct ref_ev){t, seq, seq, id};
            seq++;
        } else if (k < 7 && n > 0) {
            size_t i = sim_rng_below(&r, n);
            assert_true(sim_evq_cancel(q, ref[i].id));
            dead[ndead++] = ref[i].id;
            ref[i] = ref[--n];
        } else if (k < 8 && ndead > 0) {
            assert_false(sim_evq_cancel(q, dead[sim_rng_below(&r, ndead)]));
        } else if (n > 0) {
            size_t best = 0;
            for (size_t i = 1; i < n; i++)
                if (ref[i].t < ref[best].t || (ref[i].t == ref[best].t && ref[i].seq < ref[best].seq))
                    best = i;
            struct sim_event ev;
            assert_true(sim_evq_pop(q, &ev));
            assert_int_equal(ev.time, ref[best].t);
            assert_int_equal(ev.arg, ref[best].arg);
            assert_int_equal(ev.id, ref[best].id);
            now = ev.time;
            dead[ndead++] = ev.id;
            ref[best] = ref[--n];
        }
        assert_int_equal(sim_evq_len(q), n);
        /* peek agrees with the reference minimum (also right after a pop,
         * while the queue holds its root empty). */
        sim_time_t pt = 0;
        if (n == 0) {
            assert_false(sim_evq_peek_time(q, &pt));
        } else {
            sim_time_t min = ref[0].t;
            for (size_t i = 1; i < n; i++)
                if (ref[i].t < min)
                    min = ref[i].t;
            assert_true(sim_evq_peek_time(q, &pt));
            assert_int_equal(pt, min);
        }
    }
    free(ref);
    free(dead);
    sim_evq_destroy(q);
}

static void test_growth_and_clear(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_create();
    assert_int_equal(sim_evq_reserve(q, 10), 0);
    sim_event_id ids[5000];
    for (uint64_t i = 0; i < 5000; i++)
        ids[i] = sim_evq_push(q, 5000 - i, nop, NULL, i);
    assert_int_equal(sim_evq_len(q), 5000);
    sim_time_t t;
    assert_true(sim_evq_peek_time(q, &t));
    assert_int_equal(t, 1);
    sim_evq_clear(q);
    assert_int_equal(sim_evq_len(q), 0);
    for (int i = 0; i < 5000; i++)
        assert_false(sim_evq_cancel(q, ids[i]));
    struct sim_event ev;
    assert_false(sim_evq_pop(q, &ev));
    sim_evq_push(q, 3, nop, NULL, 3);
    assert_true(sim_evq_pop(q, &ev));
    assert_int_equal(ev.time, 3);
    sim_evq_destroy(q);
}

static void test_extreme_times(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_create();
    sim_evq_push(q, SIM_TIME_MAX, nop, NULL, 1);
    sim_evq_push(q, 0, nop, NULL, 2);
    struct sim_event ev;
    assert_true(sim_evq_pop(q, &ev));
    assert_int_equal(ev.arg, 2);
    assert_true(sim_evq_pop(q, &ev));
    assert_int_equal(ev.time, SIM_TIME_MAX);
    sim_evq_destroy(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_order_by_time),
        cmocka_unit_test(test_equal_times_fifo),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_stale_id_never_cancels_reused_slot),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_growth_and_clear),
        cmocka_unit_test(test_extreme_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
