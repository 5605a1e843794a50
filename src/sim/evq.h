/* The event queue: a 4-ary min-heap of (time, insertion sequence) entries over
 * a pool of event slots with a free list. Events are ordered by (time,
 * insertion sequence), so events at equal times run in the order they were
 * pushed. Usable on its own; struct pcilab_sim wraps one.
 *
 * Costs: push and pop are O(log n) amortized, cancel O(1) amortized (a
 * cancelled event's heap entry is dropped later: when it reaches the top, or
 * when cancelled entries outnumber pending ones and the heap is compacted).
 * None of them allocates once the pool has grown to the largest number of
 * pending events (growth doubles). */
#ifndef PCILAB_SIM_EVQ_H
#define PCILAB_SIM_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/time.h"

typedef void (*sim_event_fn)(void *ctx, uint64_t arg);

/* Identifies one pushed event: the slot index plus one in the low 32 bits and the
 * slot's generation in the high 32 bits, so an id of an event that has run or been
 * cancelled never matches the slot's next occupant. 0 is never a valid id. */
typedef uint64_t sim_event_id;

struct sim_event {
    sim_time_t time;
    sim_event_fn fn;
    void *ctx;
    uint64_t arg;
    sim_event_id id;
};

struct sim_evq;

/* NULL when out of memory. */
struct sim_evq *sim_evq_create(void);
void sim_evq_destroy(struct sim_evq *q);

/* Pre-grows the pool to hold n pending events; 0 or -PCILAB_ENOMEM. */
int sim_evq_reserve(struct sim_evq *q, size_t n);

/* Queues fn(ctx, arg) at time t. Returns the event's id, or 0 when the pool
 * could not grow (out of memory). */
sim_event_id sim_evq_push(struct sim_evq *q, sim_time_t t, sim_event_fn fn, void *ctx,
                          uint64_t arg);

/* Removes a pending event. False when id is 0, unknown, already popped or
 * already cancelled (stale ids never cancel a reused slot). */
bool sim_evq_cancel(struct sim_evq *q, sim_event_id id);

/* True while the event is queued. */
bool sim_evq_pending(const struct sim_evq *q, sim_event_id id);

/* Removes the earliest event into *out; false when the queue is empty. The
 * event's id is no longer pending once popped. */
bool sim_evq_pop(struct sim_evq *q, struct sim_event *out);

/* Time of the earliest event into *t; false (and *t untouched) when empty. */
bool sim_evq_peek_time(const struct sim_evq *q, sim_time_t *t);

/* Number of pending events. */
size_t sim_evq_len(const struct sim_evq *q);

/* Drops every pending event (their ids become stale); keeps the pool. */
void sim_evq_clear(struct sim_evq *q);

#endif
