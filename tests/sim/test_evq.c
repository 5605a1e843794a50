#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim/evq.h"
#include "sim/rng.h"

/* A second copy of the queue, built into this test with a sequence space of
 * 1024 numbers (and so at most 512 pending events) and the portable C in place
 * of the x86-64 conditional moves, under other names. It renumbers every few
 * hundred pushes, and its internals are visible here for checking the
 * invariants. The tests without "tiny" in their name use the library's
 * queue. */
#define SIM_EVQ_SEQ_LIMIT 1024u
#define SIM_EVQ_PORTABLE
#define sim_evq_create    tiny_create
#define sim_evq_destroy   tiny_destroy
#define sim_evq_reserve   tiny_reserve
#define sim_evq_push      tiny_push
#define sim_evq_cancel    tiny_cancel
#define sim_evq_pending   tiny_pending
#define sim_evq_pop       tiny_pop
#define sim_evq_peek_time tiny_peek_time
#define sim_evq_len       tiny_len
#define sim_evq_clear     tiny_clear
#include "sim/evq.c"
#undef sim_evq_create
#undef sim_evq_destroy
#undef sim_evq_reserve
#undef sim_evq_push
#undef sim_evq_cancel
#undef sim_evq_pending
#undef sim_evq_pop
#undef sim_evq_peek_time
#undef sim_evq_len
#undef sim_evq_clear

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

/* The tiny queue's invariants: heap order, dead entries counted and bounded
 * (dead <= live), the earliest entry live. */
static void tiny_check(const struct sim_evq *q)
{
    size_t from = q->hole ? 1 : 0;
    assert_int_equal(q->len, from + q->live + q->dead);
    assert_true(q->dead <= q->live);
    assert_true(q->len <= 2 * q->cap);
    assert_true(q->next_seq <= SIM_EVQ_SEQ_LIMIT);
    size_t dead = 0;
    for (size_t i = from; i < q->len; i++) {
        dead += entry_dead(q, &q->heap[i]);
        size_t parent = (i - 1) / ARITY;
        if (i > 0 && !(parent == 0 && q->hole))
            assert_false(entry_less(&q->heap[i], &q->heap[parent]));
    }
    assert_int_equal(dead, q->dead);
    if (q->hole && q->len > 1)
        assert_false(entry_dead(q, &q->heap[min_root_child(q->heap, q->len)]));
    if (!q->hole && q->len > 0)
        assert_false(entry_dead(q, &q->heap[0]));
}

struct evq_api {
    struct sim_evq *(*create)(void);
    void (*destroy)(struct sim_evq *q);
    sim_event_id (*push)(struct sim_evq *q, sim_time_t t, sim_event_fn fn, void *ctx,
                         uint64_t arg);
    bool (*cancel)(struct sim_evq *q, sim_event_id id);
    bool (*pending)(const struct sim_evq *q, sim_event_id id);
    bool (*pop)(struct sim_evq *q, struct sim_event *out);
    bool (*peek_time)(const struct sim_evq *q, sim_time_t *t);
    size_t (*len)(const struct sim_evq *q);
    void (*check)(const struct sim_evq *q); /* NULL: internals not visible */
};

static const struct evq_api library_api = {
    sim_evq_create, sim_evq_destroy, sim_evq_push,      sim_evq_cancel, sim_evq_pending,
    sim_evq_pop,    sim_evq_peek_time, sim_evq_len,     NULL,
};

static const struct evq_api tiny_api = {
    tiny_create, tiny_destroy,   tiny_push, tiny_cancel, tiny_pending,
    tiny_pop,    tiny_peek_time, tiny_len,  tiny_check,
};

/* Reference model: an unsorted array searched linearly. */
struct ref_ev {
    sim_time_t t;
    uint64_t seq, arg;
    sim_event_id id;
};

/* Operation mix, in tenths: push, cancel a pending event, cancel a stale id;
 * the rest pop. */
struct mix {
    unsigned push, cancel, stale;
};

static void run_against_reference(const struct evq_api *api, uint64_t seed, int ops,
                                  size_t cap, struct mix mix)
{
    struct sim_evq *q = api->create();
    struct sim_rng r;
    sim_rng_seed(&r, seed);
    size_t n = 0;
    struct ref_ev *ref = calloc(cap, sizeof *ref);
    sim_event_id *dead = calloc((size_t)ops, sizeof *dead);
    assert_non_null(ref);
    assert_non_null(dead);
    size_t ndead = 0;
    uint64_t seq = 0;
    sim_time_t now = 0;
    for (int op = 0; op < ops; op++) {
        uint64_t k = sim_rng_below(&r, 10);
        if (k < mix.push && n < cap) {
            sim_time_t t = now + sim_rng_below(&r, 64); /* many equal times */
            sim_event_id id = api->push(q, t, nop, NULL, seq);
            assert_int_not_equal(id, 0);
            ref[n++] = (struct ref_ev){t, seq, seq, id};
            seq++;
        } else if (k < mix.push + mix.cancel && n > 0) {
            size_t i = sim_rng_below(&r, n);
            assert_true(api->pending(q, ref[i].id));
            assert_true(api->cancel(q, ref[i].id));
            assert_false(api->pending(q, ref[i].id));
            dead[ndead++] = ref[i].id;
            ref[i] = ref[--n];
        } else if (k < mix.push + mix.cancel + mix.stale && ndead > 0) {
            sim_event_id id = dead[sim_rng_below(&r, ndead)];
            assert_false(api->pending(q, id));
            assert_false(api->cancel(q, id));
        } else if (n > 0) {
            size_t best = 0;
            for (size_t i = 1; i < n; i++)
                if (ref[i].t < ref[best].t || (ref[i].t == ref[best].t && ref[i].seq < ref[best].seq))
                    best = i;
            struct sim_event ev;
            assert_true(api->pop(q, &ev));
            assert_int_equal(ev.time, ref[best].t);
            assert_int_equal(ev.arg, ref[best].arg);
            assert_int_equal(ev.id, ref[best].id);
            assert_ptr_equal(ev.fn, nop);
            now = ev.time;
            dead[ndead++] = ev.id;
            ref[best] = ref[--n];
        }
        assert_int_equal(api->len(q), n);
        if (api->check)
            api->check(q);
        /* peek agrees with the reference minimum (also right after a pop,
         * while the queue holds its root empty). */
        sim_time_t pt = 0;
        if (n == 0) {
            assert_false(api->peek_time(q, &pt));
        } else {
            sim_time_t min = ref[0].t;
            for (size_t i = 1; i < n; i++)
                if (ref[i].t < min)
                    min = ref[i].t;
            assert_true(api->peek_time(q, &pt));
            assert_int_equal(pt, min);
        }
    }
    /* Drain: everything left comes out in order. */
    while (n > 0) {
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (ref[i].t < ref[best].t || (ref[i].t == ref[best].t && ref[i].seq < ref[best].seq))
                best = i;
        struct sim_event ev;
        assert_true(api->pop(q, &ev));
        assert_int_equal(ev.id, ref[best].id);
        ref[best] = ref[--n];
        if (api->check)
            api->check(q);
    }
    struct sim_event ev;
    assert_false(api->pop(q, &ev));
    free(ref);
    free(dead);
    api->destroy(q);
}

static void test_random_against_reference(void **state)
{
    (void)state;
    run_against_reference(&library_api, 2024, 200000, 20000, (struct mix){5, 2, 1});
}

/* Cancel-heavy: the garbage crosses the compaction bound again and again. */
static void test_random_cancel_heavy_against_reference(void **state)
{
    (void)state;
    run_against_reference(&library_api, 7, 200000, 3000, (struct mix){5, 3, 1});
}

/* The tiny queue, its invariants checked after every operation: renumbering
 * (every few hundred pushes, with many equal times pending), compaction and
 * the pool limit (cap 500 stays under its 512 slots). */
static void test_tiny_random_against_reference(void **state)
{
    (void)state;
    run_against_reference(&tiny_api, 99, 100000, 500, (struct mix){5, 2, 1});
    run_against_reference(&tiny_api, 100, 100000, 500, (struct mix){5, 3, 1});
}

static void test_growth_and_clear(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_create();
    assert_int_equal(sim_evq_reserve(q, 10), 0);
    /* Beyond the pool limit: refused, not looped on. */
    assert_int_equal(sim_evq_reserve(q, SIZE_MAX), -PCILAB_ENOMEM);
    assert_int_equal(sim_evq_reserve(q, ((size_t)1 << 31) + 1), -PCILAB_ENOMEM);
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


/* Popping leaves the root empty until the next push; cancelling the event that
 * would come next must not leave peek or pop looking at it. */
static void test_cancel_next_while_root_empty(void **state)
{
    (void)state;
    struct sim_evq *q = sim_evq_create();
    sim_evq_push(q, 10, nop, NULL, 10);
    sim_event_id b = sim_evq_push(q, 20, nop, NULL, 20);
    sim_evq_push(q, 30, nop, NULL, 30);
    struct sim_event ev;
    assert_true(sim_evq_pop(q, &ev));
    assert_int_equal(ev.arg, 10);
    assert_true(sim_evq_cancel(q, b));
    sim_time_t t;
    assert_true(sim_evq_peek_time(q, &t));
    assert_int_equal(t, 30);
    assert_int_equal(sim_evq_len(q), 1);
    assert_true(sim_evq_pop(q, &ev));
    assert_int_equal(ev.arg, 30);
    assert_false(sim_evq_peek_time(q, &t));
    assert_false(sim_evq_pop(q, &ev));
    sim_evq_destroy(q);
}

/* Many cancels: the queue drops the cancelled entries (compaction) and what is
 * left still comes out in order, every cancelled id stays dead, and no id of a
 * cancelled event touches the events that reuse its slot. */
static void check_cancel_storm(const struct evq_api *api)
{
    struct sim_evq *q = api->create();
    enum { N = 400 };
    sim_event_id ids[N], old[N];
    struct sim_rng r;
    sim_rng_seed(&r, 5);
    for (uint64_t i = 0; i < N; i++)
        ids[i] = api->push(q, 1000 + sim_rng_below(&r, 50), nop, NULL, i);
    /* Cancel 9 in 10, in a scattered order (i * 7 mod N visits all of them). */
    size_t cancelled = 0;
    for (size_t j = 0; j < N; j++) {
        size_t i = (j * 7) % N;
        old[i] = ids[i];
        if (i % 10 != 0) {
            assert_true(api->cancel(q, ids[i]));
            ids[i] = 0;
            cancelled++;
            if (api->check)
                api->check(q);
        }
    }
    assert_int_equal(api->len(q), N - cancelled);
    /* The slots come back: new events at the same times, ids must differ. */
    sim_event_id fresh[N];
    size_t nfresh = 0;
    for (size_t i = 0; i < N; i++) {
        if (ids[i] != 0)
            continue;
        fresh[nfresh] = api->push(q, 1000 + (sim_time_t)(i % 50), nop, NULL, 1000 + i);
        assert_int_not_equal(fresh[nfresh], 0);
        assert_int_not_equal(fresh[nfresh], old[i]);
        nfresh++;
    }
    for (size_t i = 0; i < N; i++) {
        if (ids[i] == 0) {
            assert_false(api->pending(q, old[i]));
            assert_false(api->cancel(q, old[i]));
        } else {
            assert_true(api->pending(q, ids[i]));
        }
    }
    for (size_t j = 0; j < nfresh; j++)
        assert_true(api->pending(q, fresh[j]));
    assert_int_equal(api->len(q), N);
    /* Everything comes out in (time, push order), cancelled events never. */
    struct sim_event ev;
    sim_time_t last_t = 0;
    uint64_t popped = 0;
    while (api->pop(q, &ev)) {
        assert_true(ev.time >= last_t);
        last_t = ev.time;
        if (ev.arg < 1000)
            assert_int_equal(ev.arg % 10, 0);
        popped++;
        if (api->check)
            api->check(q);
    }
    assert_int_equal(popped, N);
    api->destroy(q);
}

static void test_cancel_storm(void **state)
{
    (void)state;
    check_cancel_storm(&library_api);
    check_cancel_storm(&tiny_api);
}

/* White box: the cancel that makes the dead entries outnumber the live ones
 * compacts the heap; ids from before the compaction keep their meaning. */
static void test_tiny_compaction_bound(void **state)
{
    (void)state;
    struct sim_evq *q = tiny_create();
    sim_event_id ids[100];
    for (uint64_t i = 0; i < 100; i++)
        ids[i] = tiny_push(q, 500 - i, nop, NULL, i); /* the root is the last one */
    /* Cancel from the first pushed (deep in the heap, never the root). */
    for (size_t i = 0; i < 50; i++) {
        assert_true(tiny_cancel(q, ids[i]));
        assert_int_equal(q->dead, i + 1);
        assert_int_equal(q->len, 100);
    }
    assert_true(tiny_cancel(q, ids[50])); /* 51 dead > 49 live */
    assert_int_equal(q->dead, 0);
    assert_int_equal(q->len, 49);
    tiny_check(q);
    for (size_t i = 0; i <= 50; i++) {
        assert_false(tiny_pending(q, ids[i]));
        assert_false(tiny_cancel(q, ids[i]));
    }
    for (size_t i = 51; i < 100; i++)
        assert_true(tiny_pending(q, ids[i]));
    assert_true(tiny_cancel(q, ids[60]));
    struct sim_event ev;
    for (uint64_t i = 99; i >= 51; i--) {
        if (i == 60)
            continue;
        assert_true(tiny_pop(q, &ev));
        assert_int_equal(ev.arg, i);
        assert_int_equal(ev.id, ids[i]);
        tiny_check(q);
    }
    assert_false(tiny_pop(q, &ev));
    assert_int_equal(q->dead, 0);
    tiny_destroy(q);
}

/* Cancelling the earliest event drops its entry at once; a pop that uncovers
 * dead entries drops them too, so peek never reports a cancelled time. */
static void test_tiny_dead_entries_at_the_top(void **state)
{
    (void)state;
    struct sim_evq *q = tiny_create();
    sim_event_id ids[20];
    for (uint64_t i = 0; i < 20; i++)
        ids[i] = tiny_push(q, 100 + i, nop, NULL, i);
    assert_true(tiny_cancel(q, ids[0])); /* the root */
    assert_int_equal(q->dead, 0);
    for (size_t i = 2; i < 8; i++)
        assert_true(tiny_cancel(q, ids[i]));
    assert_int_equal(q->dead, 6);
    sim_time_t t;
    assert_true(tiny_peek_time(q, &t));
    assert_int_equal(t, 101);
    struct sim_event ev;
    assert_true(tiny_pop(q, &ev));
    assert_int_equal(ev.arg, 1);
    tiny_check(q);
    assert_true(tiny_peek_time(q, &t));
    assert_int_equal(t, 108);
    assert_true(tiny_pop(q, &ev));
    assert_int_equal(ev.arg, 8);
    assert_int_equal(q->dead, 0);
    tiny_check(q);
    tiny_destroy(q);
}

/* Renumbering: an event queued long ago keeps its place among equal times and
 * its id through several turns of the sequence space. */
static void test_tiny_renumber_keeps_order_and_ids(void **state)
{
    (void)state;
    struct sim_evq *q = tiny_create();
    sim_event_id first = tiny_push(q, 1000, nop, NULL, 1);
    sim_event_id second = tiny_push(q, 1000, nop, NULL, 2);
    sim_event_id gone = tiny_push(q, 1000, nop, NULL, 3);
    assert_true(tiny_cancel(q, gone));
    struct sim_event ev;
    uint32_t turns = 0, prev = q->next_seq;
    for (uint64_t i = 0; i < 5000; i++) {
        /* Earlier events go through; the three at 1000 wait. */
        tiny_push(q, i % 900, nop, NULL, 100 + i);
        if (q->next_seq < prev) {
            turns++;
            /* Renumbered: still first before second. */
            assert_true(q->slots[(first & 0xffffffffu) - 1].seq <
                        q->slots[(second & 0xffffffffu) - 1].seq);
            tiny_check(q);
        }
        prev = q->next_seq;
        assert_true(tiny_pop(q, &ev));
        assert_int_equal(ev.arg, 100 + i);
    }
    assert_true(turns >= 4);
    assert_true(tiny_pending(q, first));
    assert_true(tiny_pending(q, second));
    assert_false(tiny_pending(q, gone));
    sim_event_id third = tiny_push(q, 1000, nop, NULL, 4);
    tiny_check(q);
    assert_true(tiny_pop(q, &ev));
    assert_int_equal(ev.id, first);
    assert_true(tiny_pop(q, &ev));
    assert_int_equal(ev.id, second);
    assert_true(tiny_pop(q, &ev));
    assert_int_equal(ev.id, third);
    assert_false(tiny_pop(q, &ev));
    tiny_destroy(q);
}

/* The pool stops at its limit (512 for the tiny queue): push reports it with 0
 * and the queue stays intact. */
static void test_tiny_pool_limit(void **state)
{
    (void)state;
    struct sim_evq *q = tiny_create();
    for (uint64_t i = 0; i < 512; i++)
        assert_int_not_equal(tiny_push(q, i, nop, NULL, i), 0);
    assert_int_equal(tiny_push(q, 7, nop, NULL, 7), 0);
    assert_int_equal(tiny_len(q), 512);
    assert_int_equal(tiny_reserve(q, 513), -PCILAB_ENOMEM);
    struct sim_event ev;
    assert_true(tiny_pop(q, &ev));
    assert_int_equal(ev.arg, 0);
    assert_int_not_equal(tiny_push(q, 1000, nop, NULL, 1000), 0);
    tiny_check(q);
    for (uint64_t i = 1; i < 512; i++) {
        assert_true(tiny_pop(q, &ev));
        assert_int_equal(ev.arg, i);
    }
    assert_true(tiny_pop(q, &ev));
    assert_int_equal(ev.arg, 1000);
    tiny_destroy(q);
}

/* Clear with a root hole and dead entries: all ids go stale, nothing is left
 * behind. */
static void test_tiny_clear_with_garbage(void **state)
{
    (void)state;
    struct sim_evq *q = tiny_create();
    sim_event_id ids[100];
    for (uint64_t i = 0; i < 100; i++)
        ids[i] = tiny_push(q, i, nop, NULL, i);
    for (size_t i = 50; i < 80; i++)
        assert_true(tiny_cancel(q, ids[i]));
    struct sim_event ev;
    assert_true(tiny_pop(q, &ev));
    assert_true(q->hole);
    assert_true(q->dead > 0);
    tiny_clear(q);
    assert_int_equal(tiny_len(q), 0);
    assert_int_equal(q->len, 0);
    assert_int_equal(q->dead, 0);
    for (size_t i = 0; i < 100; i++) {
        assert_false(tiny_pending(q, ids[i]));
        assert_false(tiny_cancel(q, ids[i]));
    }
    size_t free_slots = 0;
    for (uint32_t s = q->free_head; s != NO_SLOT; s = (uint32_t)q->slots[s].arg)
        free_slots++;
    assert_int_equal(free_slots, q->cap);
    assert_false(tiny_pop(q, &ev));
    tiny_push(q, 3, nop, NULL, 3);
    assert_true(tiny_pop(q, &ev));
    assert_int_equal(ev.arg, 3);
    tiny_destroy(q);
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
        cmocka_unit_test(test_random_cancel_heavy_against_reference),
        cmocka_unit_test(test_growth_and_clear),
        cmocka_unit_test(test_extreme_times),
        cmocka_unit_test(test_cancel_next_while_root_empty),
        cmocka_unit_test(test_cancel_storm),
        cmocka_unit_test(test_tiny_random_against_reference),
        cmocka_unit_test(test_tiny_compaction_bound),
        cmocka_unit_test(test_tiny_dead_entries_at_the_top),
        cmocka_unit_test(test_tiny_renumber_keeps_order_and_ids),
        cmocka_unit_test(test_tiny_pool_limit),
        cmocka_unit_test(test_tiny_clear_with_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
