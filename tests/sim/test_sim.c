#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

/* Records (time, arg) of every event run. */
struct recorder {
    struct pcilab_sim *sim;
    sim_time_t t[256];
    uint64_t arg[256];
    size_t n;
    sim_event_id victim;
    bool cancel_result;
    sim_event_id self;
};

static void record(void *ctx, uint64_t arg)
{
    struct recorder *r = ctx;
    assert_true(r->n < 256);
    r->t[r->n] = sim_now(r->sim);
    r->arg[r->n++] = arg;
}

static void test_create_defaults(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    assert_non_null(sim);
    assert_int_equal(sim_now(sim), 0);
    assert_int_equal(sim_seed(sim), 1);
    assert_non_null(sim_rng(sim));
    assert_non_null(sim_log(sim));
    assert_non_null(sim_trace(sim));
    assert_false(sim_trace_enabled(sim_trace(sim)));
    assert_false(sim_step(sim));
    sim_destroy(sim);
    sim_destroy(NULL);
}

static void test_at_after_and_now(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct recorder r = {.sim = sim};
    sim_at(sim, 30 * SIM_NS, record, &r, 3);
    sim_after(sim, 10 * SIM_NS, record, &r, 1);
    sim_at(sim, 20 * SIM_NS, record, &r, 2);
    sim_at(sim, 20 * SIM_NS, record, &r, 22); /* equal time: after 2 */
    assert_int_equal(sim_queued(sim), 4);
    sim_time_t next;
    assert_true(sim_next_time(sim, &next));
    assert_int_equal(next, 10 * SIM_NS);
    assert_true(sim_step(sim));
    assert_int_equal(sim_now(sim), 10 * SIM_NS);
    assert_int_equal(sim_run(sim, 0), 3);
    assert_int_equal(r.n, 4);
    uint64_t want[] = {1, 2, 22, 3};
    sim_time_t wt[] = {10 * SIM_NS, 20 * SIM_NS, 20 * SIM_NS, 30 * SIM_NS};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r.arg[i], want[i]);
        assert_int_equal(r.t[i], wt[i]);
    }
    assert_int_equal(sim_events_run(sim), 4);
    sim_destroy(sim);
}

static void test_late_event_clamped(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct recorder r = {.sim = sim};
    sim_run_until(sim, 100);
    assert_int_equal(sim_now(sim), 100);
    sim_at(sim, 50, record, &r, 1);
    assert_int_equal(sim_late_count(sim), 1);
    sim_at(sim, 100, record, &r, 2); /* now itself is fine */
    assert_int_equal(sim_late_count(sim), 1);
    sim_run(sim, 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.t[0], 100);
    assert_int_equal(r.arg[0], 1);
    assert_int_equal(sim_now(sim), 100);
    /* sim_after saturates instead of wrapping. */
    sim_after(sim, SIM_TIME_MAX, record, &r, 3);
    sim_time_t t;
    assert_true(sim_next_time(sim, &t));
    assert_int_equal(t, SIM_TIME_MAX);
    sim_destroy(sim);
}

static void chain(void *ctx, uint64_t arg)
{
    struct recorder *r = ctx;
    record(ctx, arg);
    if (arg < 5)
        sim_after(r->sim, 10, chain, r, arg + 1);
}

static void test_run_until_boundaries(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct recorder r = {.sim = sim};
    sim_at(sim, 100, record, &r, 1);
    sim_at(sim, 200, record, &r, 2);
    sim_at(sim, 201, record, &r, 3);
    assert_int_equal(sim_run_until(sim, 99), 0);
    assert_int_equal(sim_now(sim), 99);
    assert_int_equal(sim_run_until(sim, 200), 2); /* time <= end runs */
    assert_int_equal(sim_now(sim), 200);
    assert_int_equal(sim_queued(sim), 1);
    /* An earlier end never moves time back. */
    assert_int_equal(sim_run_until(sim, 150), 0);
    assert_int_equal(sim_now(sim), 200);
    assert_int_equal(sim_run_until(sim, 1000), 1);
    assert_int_equal(sim_now(sim), 1000);
    /* Events scheduled by events inside the window run in the same call. */
    r.n = 0;
    sim_at(sim, 1000, chain, &r, 0); /* at now: runs */
    assert_int_equal(sim_run_until(sim, 1030), 4); /* 1000, 1010, 1020, 1030 */
    assert_int_equal(r.n, 4);
    assert_int_equal(r.t[3], 1030);
    assert_int_equal(sim_queued(sim), 1);
    sim_destroy(sim);
}

static void stopper(void *ctx, uint64_t arg)
{
    struct recorder *r = ctx;
    record(ctx, arg);
    sim_stop(r->sim);
}

static void test_stop(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct recorder r = {.sim = sim};
    sim_at(sim, 10, record, &r, 1);
    sim_at(sim, 20, stopper, &r, 2);
    sim_at(sim, 20, record, &r, 3); /* same time, after the stopper */
    sim_at(sim, 30, record, &r, 4);
    assert_int_equal(sim_run_until(sim, 100), 2);
    assert_true(sim_stopped(sim));
    assert_int_equal(sim_now(sim), 20); /* not advanced to end */
    assert_int_equal(sim_queued(sim), 2);
    /* The stop request is consumed: the next run goes on. */
    assert_int_equal(sim_run_until(sim, 100), 2);
    assert_false(sim_stopped(sim));
    assert_int_equal(sim_now(sim), 100);
    assert_int_equal(r.n, 4);
    /* sim_run stops too, and honours max_events. */
    sim_at(sim, 110, stopper, &r, 5);
    sim_at(sim, 120, record, &r, 6);
    sim_at(sim, 130, record, &r, 7);
    assert_int_equal(sim_run(sim, 0), 1);
    assert_true(sim_stopped(sim));
    assert_int_equal(sim_run(sim, 1), 1);
    assert_int_equal(sim_now(sim), 120);
    assert_int_equal(sim_run(sim, 0), 1);
    sim_destroy(sim);
}

static void canceller(void *ctx, uint64_t arg)
{
    struct recorder *r = ctx;
    record(ctx, arg);
    r->cancel_result = sim_cancel(r->sim, r->victim);
}

static void self_canceller(void *ctx, uint64_t arg)
{
    struct recorder *r = ctx;
    record(ctx, arg);
    r->cancel_result = sim_cancel(r->sim, r->self);
}

static void test_cancel_from_inside_event(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct recorder r = {.sim = sim};
    sim_at(sim, 10, canceller, &r, 1);
    r.victim = sim_at(sim, 10, record, &r, 2); /* same time, later in order */
    sim_at(sim, 20, record, &r, 3);
    sim_run(sim, 0);
    assert_true(r.cancel_result);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.arg[1], 3);
    /* Cancelling the running event itself: it has been popped already. */
    r.n = 0;
    r.self = sim_at(sim, 30, self_canceller, &r, 4);
    assert_true(sim_pending(sim, r.self));
    sim_run(sim, 0);
    assert_false(r.cancel_result);
    assert_int_equal(r.n, 1);
    sim_destroy(sim);
}

/* Ownership: destroyed in reverse order of registration. */
struct order_log {
    int seen[8];
    int n;
};
struct owned_obj {
    struct order_log *log;
    int id;
};
static void destroy_obj(void *p)
{
    struct owned_obj *o = p;
    o->log->seen[o->log->n++] = o->id;
    free(o);
}

static void test_ownership_reverse_order(void **state)
{
    (void)state;
    struct order_log log = {{0}, 0};
    struct pcilab_sim *sim = sim_create(1);
    for (int i = 0; i < 5; i++) {
        struct owned_obj *o = malloc(sizeof *o);
        o->log = &log;
        o->id = i;
        assert_int_equal(sim_own(sim, o, destroy_obj), 0);
    }
    /* More than the initial table, to exercise growth. */
    for (int i = 0; i < 40; i++)
        assert_int_equal(sim_own(sim, NULL, NULL), 0);
    sim_destroy(sim);
    assert_int_equal(log.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(log.seen[i], 4 - i);
}

/* Determinism: a small model whose events schedule random successors. */
struct model {
    struct pcilab_sim *sim;
    char trace[8192];
    size_t len;
    int live;
};

static void model_event(void *ctx, uint64_t arg)
{
    struct model *m = ctx;
    struct sim_rng *r = sim_rng(m->sim);
    m->len += (size_t)snprintf(m->trace + m->len, sizeof m->trace - m->len, "%llu:%llu ",
                               (unsigned long long)sim_now(m->sim), (unsigned long long)arg);
    if (m->live < 200) {
        int fanout = (int)sim_rng_below(r, 3);
        for (int i = 0; i < fanout; i++) {
            m->live++;
            sim_after(m->sim, sim_rng_below(r, 4) * SIM_NS, model_event, m,
                      sim_rng_below(r, 1000));
        }
    }
}

static void run_model(uint64_t seed, struct model *m)
{
    memset(m, 0, sizeof *m);
    m->sim = sim_create(seed);
    for (int i = 0; i < 4; i++)
        sim_at(m->sim, 0, model_event, m, (uint64_t)i);
    sim_run_until(m->sim, SIM_US);
    sim_destroy(m->sim);
}

static void test_determinism(void **state)
{
    (void)state;
    static struct model a, b, c;
    run_model(99, &a);
    run_model(99, &b);
    run_model(100, &c);
    assert_true(a.len > 100);
    assert_string_equal(a.trace, b.trace);
    assert_string_not_equal(a.trace, c.trace);
}

static void test_printk_uses_now(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    sim_run_until(sim, 49 * SIM_S + 1605 * SIM_US);
    sim_printk(sim, KERN_ERR "IO_PAGE_FAULT device=%02x:%02x.%x\n", 0, 0, 0);
    struct sim_log_rec rec;
    assert_true(sim_log_get(sim_log(sim), 0, &rec));
    assert_int_equal(rec.ts, 49 * SIM_S + 1605 * SIM_US);
    assert_int_equal(rec.level, SIM_LOG_ERR);
    char line[128];
    sim_log_format(&rec, line, sizeof line);
    assert_string_equal(line, "[   49.001605] IO_PAGE_FAULT device=00:00.0\n");
    sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_defaults),
        cmocka_unit_test(test_at_after_and_now),
        cmocka_unit_test(test_late_event_clamped),
        cmocka_unit_test(test_run_until_boundaries),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_cancel_from_inside_event),
        cmocka_unit_test(test_ownership_reverse_order),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_printk_uses_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
