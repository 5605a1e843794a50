/* The simulation: a clock, an event queue, a seeded RNG, the kernel log and the
 * trace, and ownership of every model object built on top of it. Two
 * simulations share nothing, so several can run in one process. */
#ifndef PCILAB_SIM_SIM_H
#define PCILAB_SIM_SIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/evq.h"
#include "sim/log.h"
#include "sim/rng.h"
#include "sim/time.h"
#include "sim/trace.h"

struct pcilab_sim;

/* NULL when out of memory. The log starts with the default configuration. */
struct pcilab_sim *sim_create(uint64_t seed);
/* Destroys owned objects in reverse order of registration, then the trace
 * (closing its sinks), the log and the queue. Pending events are dropped. */
void sim_destroy(struct pcilab_sim *sim);

sim_time_t sim_now(const struct pcilab_sim *sim);
uint64_t sim_seed(const struct pcilab_sim *sim);

/* Schedules fn(ctx, arg) at absolute time t. t < now is a programming error: the
 * event is clamped to now and counted (sim_late_count). Returns 0 only when out
 * of memory. */
sim_event_id sim_at(struct pcilab_sim *sim, sim_time_t t, sim_event_fn fn, void *ctx,
                    uint64_t arg);
/* Schedules at now + delay (saturating). */
sim_event_id sim_after(struct pcilab_sim *sim, sim_time_t delay, sim_event_fn fn, void *ctx,
                       uint64_t arg);
bool sim_cancel(struct pcilab_sim *sim, sim_event_id id);
bool sim_pending(const struct pcilab_sim *sim, sim_event_id id);
/* Number of events pending. */
size_t sim_queued(const struct pcilab_sim *sim);
/* Time of the next event into *t; false when none. */
bool sim_next_time(const struct pcilab_sim *sim, sim_time_t *t);

/* Runs the earliest event (now becomes its time). False when none is pending. */
bool sim_step(struct pcilab_sim *sim);
/* Runs every event with time <= end, including those scheduled meanwhile, then
 * sets now = end (never backwards). If an event calls sim_stop, returns right
 * after it with now at that event's time. Returns the number of events run. */
uint64_t sim_run_until(struct pcilab_sim *sim, sim_time_t end);
/* Runs until the queue is empty, sim_stop is called or max_events have run
 * (0: no limit). Returns the number of events run. */
uint64_t sim_run(struct pcilab_sim *sim, uint64_t max_events);
/* From inside an event: ends the current sim_run/sim_run_until after this event. */
void sim_stop(struct pcilab_sim *sim);
/* True when the last run ended because of sim_stop. */
bool sim_stopped(const struct pcilab_sim *sim);

/* fn(ctx, now, next) is called whenever the clock is about to move from now
 * to a later time: every event of time `now` has run (a caller streaming
 * output flushes what those events produced). NULL fn removes it; fn must not
 * schedule or cancel events. */
typedef void (*sim_advance_fn)(void *ctx, sim_time_t now, sim_time_t next);
void sim_set_advance_hook(struct pcilab_sim *sim, sim_advance_fn fn, void *ctx);

/* Total events run, and sim_at calls clamped because t < now. */
uint64_t sim_events_run(const struct pcilab_sim *sim);
uint64_t sim_late_count(const struct pcilab_sim *sim);

/* Registers obj to be destroyed by sim_destroy, in reverse order of
 * registration. 0 or -PCILAB_ENOMEM (then obj is not owned). */
typedef void (*sim_destroy_fn)(void *obj);
int sim_own(struct pcilab_sim *sim, void *obj, sim_destroy_fn destroy);

struct sim_rng *sim_rng(struct pcilab_sim *sim);
struct sim_log *sim_log(struct pcilab_sim *sim);
struct sim_trace *sim_trace(struct pcilab_sim *sim);

/* printk at the current simulated time. */
int sim_printk(struct pcilab_sim *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sim_vprintk(struct pcilab_sim *sim, const char *fmt, va_list ap);

#endif
