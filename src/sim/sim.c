#include "sim/sim.h"

#include <stdlib.h>

#include "sim/err.h"

struct owned {
    void *obj;
    sim_destroy_fn destroy;
};

struct pcilab_sim {
    sim_time_t now;
    uint64_t seed;
    struct sim_evq *q;
    struct sim_rng rng;
    struct sim_log *log;
    struct sim_trace *trace;
    bool stop_requested, stopped;
    uint64_t events_run, late;
    sim_advance_fn advance;
    void *advance_ctx;
    struct owned *owned;
    size_t n_owned, cap_owned;
};

struct pcilab_sim *sim_create(uint64_t seed)
{
    struct pcilab_sim *sim = calloc(1, sizeof *sim);
    if (!sim)
        return NULL;
    sim->seed = seed;
    sim_rng_seed(&sim->rng, seed);
    sim->q = sim_evq_create();
    sim->log = sim_log_create(NULL, NULL);
    sim->trace = sim_trace_create();
    if (!sim->q || !sim->log || !sim->trace) {
        sim_destroy(sim);
        return NULL;
    }
    return sim;
}

void sim_destroy(struct pcilab_sim *sim)
{
    if (!sim)
        return;
    /* Reverse order of registration: an object registered later may refer to
     * one registered earlier (a device to its link, a driver to its device). */
    while (sim->n_owned > 0) {
        struct owned o = sim->owned[--sim->n_owned];
        if (o.destroy)
            o.destroy(o.obj);
    }
    free(sim->owned);
    sim_trace_destroy(sim->trace);
    sim_log_destroy(sim->log);
    sim_evq_destroy(sim->q);
    free(sim);
}

sim_time_t sim_now(const struct pcilab_sim *sim)
{
    return sim->now;
}

uint64_t sim_seed(const struct pcilab_sim *sim)
{
    return sim->seed;
}

sim_event_id sim_at(struct pcilab_sim *sim, sim_time_t t, sim_event_fn fn, void *ctx,
                    uint64_t arg)
{
    if (t < sim->now) {
        /* Never go back in time: the caller has a bug; keep running, count it. */
        sim->late++;
        t = sim->now;
    }
    return sim_evq_push(sim->q, t, fn, ctx, arg);
}

sim_event_id sim_after(struct pcilab_sim *sim, sim_time_t delay, sim_event_fn fn, void *ctx,
                       uint64_t arg)
{
    return sim_evq_push(sim->q, sim_time_add(sim->now, delay), fn, ctx, arg);
}

bool sim_cancel(struct pcilab_sim *sim, sim_event_id id)
{
    return sim_evq_cancel(sim->q, id);
}

bool sim_pending(const struct pcilab_sim *sim, sim_event_id id)
{
    return sim_evq_pending(sim->q, id);
}

size_t sim_queued(const struct pcilab_sim *sim)
{
    return sim_evq_len(sim->q);
}

bool sim_next_time(const struct pcilab_sim *sim, sim_time_t *t)
{
    return sim_evq_peek_time(sim->q, t);
}

void sim_set_advance_hook(struct pcilab_sim *sim, sim_advance_fn fn, void *ctx)
{
    sim->advance = fn;
    sim->advance_ctx = fn ? ctx : NULL;
}

static void run_one(struct pcilab_sim *sim, const struct sim_event *ev)
{
    if (sim->advance && ev->time != sim->now)
        sim->advance(sim->advance_ctx, sim->now, ev->time);
    sim->now = ev->time;
    sim->events_run++;
    if (ev->fn)
        ev->fn(ev->ctx, ev->arg);
}

bool sim_step(struct pcilab_sim *sim)
{
    struct sim_event ev;
    if (!sim_evq_pop(sim->q, &ev))
        return false;
    run_one(sim, &ev);
    return true;
}

uint64_t sim_run_until(struct pcilab_sim *sim, sim_time_t end)
{
    uint64_t n = 0;
    sim_time_t t;
    struct sim_event ev;
    sim->stop_requested = false;
    sim->stopped = false;
    while (sim_evq_peek_time(sim->q, &t) && t <= end) {
        sim_evq_pop(sim->q, &ev);
        run_one(sim, &ev);
        n++;
        if (sim->stop_requested) {
            sim->stop_requested = false;
            sim->stopped = true;
            return n;
        }
    }
    if (end > sim->now) {
        if (sim->advance)
            sim->advance(sim->advance_ctx, sim->now, end);
        sim->now = end;
    }
    return n;
}

uint64_t sim_run(struct pcilab_sim *sim, uint64_t max_events)
{
    uint64_t n = 0;
    struct sim_event ev;
    sim->stop_requested = false;
    sim->stopped = false;
    while ((max_events == 0 || n < max_events) && sim_evq_pop(sim->q, &ev)) {
        run_one(sim, &ev);
        n++;
        if (sim->stop_requested) {
            sim->stop_requested = false;
            sim->stopped = true;
            break;
        }
    }
    return n;
}

void sim_stop(struct pcilab_sim *sim)
{
    sim->stop_requested = true;
}

bool sim_stopped(const struct pcilab_sim *sim)
{
    return sim->stopped;
}

uint64_t sim_events_run(const struct pcilab_sim *sim)
{
    return sim->events_run;
}

uint64_t sim_late_count(const struct pcilab_sim *sim)
{
    return sim->late;
}

int sim_own(struct pcilab_sim *sim, void *obj, sim_destroy_fn destroy)
{
    if (sim->n_owned == sim->cap_owned) {
        size_t ncap = sim->cap_owned ? sim->cap_owned * 2 : 16;
        struct owned *o = realloc(sim->owned, ncap * sizeof *o);
        if (!o)
            return -PCILAB_ENOMEM;
        sim->owned = o;
        sim->cap_owned = ncap;
    }
    sim->owned[sim->n_owned++] = (struct owned){obj, destroy};
    return 0;
}

struct sim_rng *sim_rng(struct pcilab_sim *sim)
{
    return &sim->rng;
}

struct sim_log *sim_log(struct pcilab_sim *sim)
{
    return sim->log;
}

struct sim_trace *sim_trace(struct pcilab_sim *sim)
{
    return sim->trace;
}

int sim_vprintk(struct pcilab_sim *sim, const char *fmt, va_list ap)
{
    return sim_log_vprintk(sim->log, sim->now, fmt, ap);
}

int sim_printk(struct pcilab_sim *sim, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = sim_vprintk(sim, fmt, ap);
    va_end(ap);
    return r;
}
