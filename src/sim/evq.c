/* Event queue: a 4-ary min-heap of (time, sequence, slot) nodes over a slot pool.
 * The sort key lives in the heap node so that sifting never touches the slots
 * except to record each node's new position (which makes cancellation O(log n)).
 * A 4-ary heap halves the depth of a binary one and keeps the four children of a
 * node in one or two cache lines. */
#include "sim/evq.h"

#include <stdlib.h>
#include <string.h>

#include "sim/err.h"

#define POS_FREE UINT32_MAX
#define NO_SLOT  UINT32_MAX
#define MAX_SLOTS ((size_t)1 << 31)
#define ARITY 4

struct node {
    sim_time_t time;
    uint64_t seq;
    uint32_t slot;
};

struct slot {
    sim_event_fn fn;
    void *ctx;
    uint64_t arg;      /* while free: index of the next free slot */
    uint32_t gen;
    uint32_t pos;      /* heap index, or POS_FREE */
};

struct sim_evq {
    struct node *heap;
    struct slot *slots;
    size_t len, cap;
    uint32_t free_head;
    uint64_t next_seq;
};

static inline int node_less(const struct node *a, const struct node *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static inline sim_event_id make_id(uint32_t idx, uint32_t gen)
{
    return ((uint64_t)gen << 32) | ((uint64_t)idx + 1);
}

struct sim_evq *sim_evq_create(void)
{
    struct sim_evq *q = calloc(1, sizeof *q);
    if (q)
        q->free_head = NO_SLOT;
    return q;
}

void sim_evq_destroy(struct sim_evq *q)
{
    if (!q)
        return;
    free(q->heap);
    free(q->slots);
    free(q);
}

static int grow(struct sim_evq *q, size_t want)
{
    if (want <= q->cap)
        return 0;
    size_t ncap = q->cap ? q->cap : 64;
    while (ncap < want)
        ncap *= 2;
    if (ncap > MAX_SLOTS)
        ncap = MAX_SLOTS;
    if (want > ncap)
        return -PCILAB_ENOMEM;
    struct node *h = realloc(q->heap, ncap * sizeof *h);
    if (!h)
        return -PCILAB_ENOMEM;
    q->heap = h;
    struct slot *s = realloc(q->slots, ncap * sizeof *s);
    if (!s)
        return -PCILAB_ENOMEM;
    q->slots = s;
    /* Chain the new slots onto the free list, lowest index first. */
    for (size_t i = ncap; i-- > q->cap;) {
        s[i].fn = NULL;
        s[i].ctx = NULL;
        s[i].gen = 0;
        s[i].pos = POS_FREE;
        s[i].arg = q->free_head;
        q->free_head = (uint32_t)i;
    }
    q->cap = ncap;
    return 0;
}

int sim_evq_reserve(struct sim_evq *q, size_t n)
{
    return grow(q, n);
}

static inline void place(struct sim_evq *q, size_t i, const struct node *n)
{
    q->heap[i] = *n;
    q->slots[n->slot].pos = (uint32_t)i;
}

static void sift_up(struct sim_evq *q, size_t i, struct node n)
{
    while (i > 0) {
        size_t parent = (i - 1) / ARITY;
        if (!node_less(&n, &q->heap[parent]))
            break;
        place(q, i, &q->heap[parent]);
        i = parent;
    }
    place(q, i, &n);
}

static void sift_down(struct sim_evq *q, size_t i, struct node n)
{
    size_t len = q->len;
    for (;;) {
        size_t first = i * ARITY + 1;
        if (first >= len)
            break;
        size_t best = first;
        size_t end = first + ARITY < len ? first + ARITY : len;
        for (size_t c = first + 1; c < end; c++)
            if (node_less(&q->heap[c], &q->heap[best]))
                best = c;
        if (!node_less(&q->heap[best], &n))
            break;
        place(q, i, &q->heap[best]);
        i = best;
    }
    place(q, i, &n);
}

static inline void free_slot(struct sim_evq *q, uint32_t idx)
{
    struct slot *s = &q->slots[idx];
    s->gen++;
    s->pos = POS_FREE;
    s->arg = q->free_head;
    q->free_head = idx;
}

sim_event_id sim_evq_push(struct sim_evq *q, sim_time_t t, sim_event_fn fn, void *ctx,
                          uint64_t arg)
{
    if (q->free_head == NO_SLOT && grow(q, q->cap + 1) < 0)
        return 0;
    uint32_t idx = q->free_head;
    struct slot *s = &q->slots[idx];
    q->free_head = (uint32_t)s->arg;
    s->fn = fn;
    s->ctx = ctx;
    s->arg = arg;
    struct node n = {t, q->next_seq++, idx};
    size_t i = q->len++;
    sift_up(q, i, n);
    return make_id(idx, s->gen);
}

static inline struct slot *lookup(const struct sim_evq *q, sim_event_id id)
{
    uint64_t low = id & 0xffffffffu;
    if (low == 0 || low > q->cap)
        return NULL;
    struct slot *s = &q->slots[low - 1];
    if (s->pos == POS_FREE || s->gen != (uint32_t)(id >> 32))
        return NULL;
    return s;
}

bool sim_evq_pending(const struct sim_evq *q, sim_event_id id)
{
    return lookup(q, id) != NULL;
}

/* Removes the node at heap index i, keeping the heap ordered. */
static void remove_at(struct sim_evq *q, size_t i)
{
    size_t last = --q->len;
    if (i == last)
        return;
    struct node n = q->heap[last];
    if (i > 0 && node_less(&n, &q->heap[(i - 1) / ARITY]))
        sift_up(q, i, n);
    else
        sift_down(q, i, n);
}

bool sim_evq_cancel(struct sim_evq *q, sim_event_id id)
{
    struct slot *s = lookup(q, id);
    if (!s)
        return false;
    size_t pos = s->pos;
    uint32_t idx = (uint32_t)((id & 0xffffffffu) - 1);
    remove_at(q, pos);
    free_slot(q, idx);
    return true;
}

bool sim_evq_pop(struct sim_evq *q, struct sim_event *out)
{
    if (q->len == 0)
        return false;
    const struct node *top = &q->heap[0];
    uint32_t idx = top->slot;
    struct slot *s = &q->slots[idx];
    out->time = top->time;
    out->fn = s->fn;
    out->ctx = s->ctx;
    out->arg = s->arg;
    out->id = make_id(idx, s->gen);
    remove_at(q, 0);
    free_slot(q, idx);
    return true;
}

bool sim_evq_peek_time(const struct sim_evq *q, sim_time_t *t)
{
    if (q->len == 0)
        return false;
    *t = q->heap[0].time;
    return true;
}

size_t sim_evq_len(const struct sim_evq *q)
{
    return q->len;
}

void sim_evq_clear(struct sim_evq *q)
{
    /* Free in heap order; the order only affects which slots get reused first,
     * never event order. */
    for (size_t i = q->len; i-- > 0;)
        free_slot(q, q->heap[i].slot);
    q->len = 0;
}
