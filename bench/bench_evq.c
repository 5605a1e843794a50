/* Event-queue throughput, the way a model uses it: about 1000 events pending at
 * random times, each event run (pop) schedules one successor (push) a random
 * delay later. Delays come from sim_rng, drawn before the timed loop so that
 * the figure is the queue's cost alone. */
#include "bench.h"

#include <stdlib.h>

#include "sim/evq.h"
#include "sim/rng.h"
#include "sim/sim.h"

#define PENDING   1000
#define DELAYS    4096 /* power of two */
#define OPS       20000000u

static void nop(void *ctx, uint64_t arg)
{
    (void)ctx;
    (void)arg;
}

static sim_time_t *make_delays(uint64_t seed)
{
    struct sim_rng r;
    sim_rng_seed(&r, seed);
    sim_time_t *d = malloc(DELAYS * sizeof *d);
    if (!d)
        abort();
    /* 0 .. 1 us: link serialisation, IOMMU walks and timers all fall here. */
    for (size_t i = 0; i < DELAYS; i++)
        d[i] = sim_rng_below(&r, SIM_US);
    return d;
}

/* Self-rescheduling model events, through the whole simulation (sim_after +
 * dispatch by sim_run_until). */
struct ticker {
    struct pcilab_sim *sim;
    const sim_time_t *delays;
    size_t i;
};

static void tick(void *ctx, uint64_t arg)
{
    struct ticker *t = ctx;
    sim_after(t->sim, t->delays[t->i++ & (DELAYS - 1)], tick, t, arg);
}

/* The same, and each of the PENDING chains keeps a timeout armed that every
 * event re-arms (cancel + push, the way a link re-arms its ACK timer): the
 * cancelled timeouts are far in the future, so they stay in the queue as dead
 * entries until it compacts them. */
#define TIMEOUT (10 * SIM_US)

struct rearming_ticker {
    struct ticker base;
    sim_event_id timeout[PENDING];
};

static void rearm_tick(void *ctx, uint64_t arg)
{
    struct rearming_ticker *t = ctx;
    sim_cancel(t->base.sim, t->timeout[arg]);
    t->timeout[arg] = sim_after(t->base.sim, TIMEOUT, nop, NULL, arg);
    sim_after(t->base.sim, t->base.delays[t->base.i++ & (DELAYS - 1)], rearm_tick, t, arg);
}

void bench_evq(struct bench_report *r)
{
    sim_time_t *delays = make_delays(1);
    volatile uint64_t sink = 0;

    /* push + pop */
    struct sim_evq *q = sim_evq_create();
    for (size_t i = 0; i < PENDING; i++)
        sim_evq_push(q, delays[i], nop, NULL, i);
    struct sim_event ev;
    double t0 = bench_seconds();
    for (unsigned i = 0; i < OPS; i++) {
        sim_evq_pop(q, &ev);
        sink += ev.arg;
        sim_evq_push(q, ev.time + delays[i & (DELAYS - 1)], nop, NULL, ev.arg);
    }
    double dt = bench_seconds() - t0;
    bench_figure(r, "evq push+pop, 1000 pending", OPS / dt / 1e6, "M ev/s", 30, BENCH_AT_LEAST, 0);

    /* push + cancel of a random pending event (a timeout re-armed before it
     * fires) */
    sim_event_id *ids = malloc(PENDING * sizeof *ids);
    if (!ids)
        abort();
    sim_evq_clear(q);
    for (size_t i = 0; i < PENDING; i++)
        ids[i] = sim_evq_push(q, delays[i], nop, NULL, i);
    struct sim_rng pick;
    sim_rng_seed(&pick, 2);
    uint32_t *victims = malloc(DELAYS * sizeof *victims);
    if (!victims)
        abort();
    for (size_t i = 0; i < DELAYS; i++)
        victims[i] = (uint32_t)sim_rng_below(&pick, PENDING);
    t0 = bench_seconds();
    for (unsigned i = 0; i < OPS; i++) {
        uint32_t v = victims[i & (DELAYS - 1)];
        sink += sim_evq_cancel(q, ids[v]);
        ids[v] = sim_evq_push(q, delays[(i * 7) & (DELAYS - 1)] + i, nop, NULL, v);
    }
    dt = bench_seconds() - t0;
    bench_figure(r, "evq cancel+push, 1000 pending", OPS / dt / 1e6, "M ops/s", 15,
                 BENCH_AT_LEAST, 0);
    sim_evq_destroy(q);
    free(ids);
    free(victims);

    /* whole simulation: dispatch + sim_after */
    struct pcilab_sim *sim = sim_create(3);
    struct ticker tk = {sim, delays, 0};
    for (size_t i = 0; i < PENDING; i++)
        sim_at(sim, delays[i], tick, &tk, i);
    t0 = bench_seconds();
    uint64_t n = 0;
    while (n < OPS)
        n += sim_run_until(sim, sim_now(sim) + 100 * SIM_US);
    dt = bench_seconds() - t0;
    bench_figure(r, "sim dispatch+sim_after, 1000 pending", (double)n / dt / 1e6, "M ev/s", 25,
                 BENCH_AT_LEAST, 0);
    sim_destroy(sim);

    /* whole simulation with re-armed timeouts: pop + cancel + 2 pushes per
     * event, 2000 pending. The target is what the queue before lazy
     * cancellation reached (15 M ev/s): no regression. */
    sim = sim_create(4);
    struct rearming_ticker *rt = calloc(1, sizeof *rt);
    if (!sim || !rt)
        abort();
    rt->base = (struct ticker){sim, delays, 0};
    for (size_t i = 0; i < PENDING; i++) {
        sim_at(sim, delays[i], rearm_tick, rt, i);
        rt->timeout[i] = sim_at(sim, TIMEOUT, nop, NULL, i);
    }
    t0 = bench_seconds();
    n = 0;
    while (n < OPS / 2)
        n += sim_run_until(sim, sim_now(sim) + 100 * SIM_US);
    dt = bench_seconds() - t0;
    bench_figure(r, "sim dispatch+re-armed timeout, 2000 pending", (double)n / dt / 1e6,
                 "M ev/s", 15, BENCH_AT_LEAST, 0);
    sim_destroy(sim);
    free(rt);
    free(delays);
    (void)sink;
}
