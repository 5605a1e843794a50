/* Event queue: a 4-ary min-heap of (time, slot) nodes over a slot pool.
 *
 * Layout for speed (bench_evq): a heap node is 16 bytes and the heap array is
 * 64-byte aligned with three unused nodes in front, so the four children of a
 * node share one cache line. The insertion sequence that breaks ties between
 * equal times lives in the slot; it is read only when two times are equal.
 * Every move records the node's heap position (per slot), which makes
 * cancellation O(log n).
 *
 * Popping leaves a hole at the root instead of restoring the heap at once: a
 * push that follows (the usual case: an event schedules its successor) drops
 * the new node into the hole and sifts it down, one pass instead of two. Any
 * other operation fills the hole first. */
#include "sim/evq.h"

#include <stdlib.h>
#include <string.h>

#include "sim/err.h"

#define POS_FREE  UINT32_MAX
#define NO_SLOT   UINT32_MAX
#define MAX_SLOTS ((size_t)1 << 31)
#define ARITY     4
#define PAD       3  /* heap[i] is stored at base[i + PAD] */

struct node {
    sim_time_t time;
    uint32_t slot;
};

struct slot {
    sim_event_fn fn;
    void *ctx;
    uint64_t arg;      /* while free: index of the next free slot */
    uint64_t seq;      /* insertion sequence: breaks ties between equal times */
    uint32_t gen;
};

struct sim_evq {
    struct node *heap; /* = base + PAD */
    struct node *base;
    struct slot *slots;
    uint32_t *pos;     /* per slot: heap index, or POS_FREE; kept apart from the
                          slots so that the writes of every heap move stay in a
                          small, hot array */
    size_t len;        /* nodes in the heap, the hole included */
    size_t cap;
    bool hole;         /* heap[0] is empty (popped, not yet refilled) */
    uint32_t free_head;
    uint64_t next_seq;
};

static inline bool node_less(const struct sim_evq *q, const struct node *a,
                             const struct node *b)
{
    if (__builtin_expect(a->time != b->time, 1))
        return a->time < b->time;
    return q->slots[a->slot].seq < q->slots[b->slot].seq;
}

/* Index of the smallest of the children [first, end) of a node. Selected with
 * arithmetic, not branches: which child is smaller is a coin flip that a branch
 * predictor cannot learn. */
static inline size_t min_child(const struct sim_evq *q, size_t first, size_t end)
{
    const struct node *h = q->heap;
    if (end - first == ARITY) {
        size_t a = first + (size_t)node_less(q, &h[first + 1], &h[first]);
        size_t b = first + 2 + (size_t)node_less(q, &h[first + 3], &h[first + 2]);
        size_t lt = (size_t)node_less(q, &h[b], &h[a]);
        return a + ((b - a) & (0 - lt));
    }
    size_t best = first;
    for (size_t c = first + 1; c < end; c++)
        if (node_less(q, &h[c], &h[best]))
            best = c;
    return best;
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
    free(q->base);
    free(q->slots);
    free(q->pos);
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
    /* (ncap + PAD + 1) nodes rounded up to whole 64-byte lines. */
    size_t bytes = ((ncap + PAD + 1) * sizeof(struct node) + 63) & ~(size_t)63;
    struct node *base = aligned_alloc(64, bytes);
    if (!base)
        return -PCILAB_ENOMEM;
    uint32_t *pos = realloc(q->pos, ncap * sizeof *pos);
    if (!pos) {
        free(base);
        return -PCILAB_ENOMEM;
    }
    q->pos = pos;
    struct slot *s = realloc(q->slots, ncap * sizeof *s);
    if (!s) {
        free(base);
        return -PCILAB_ENOMEM;
    }
    if (q->len)
        memcpy(base + PAD, q->heap, q->len * sizeof *base);
    free(q->base);
    q->base = base;
    q->heap = base + PAD;
    q->slots = s;
    /* Chain the new slots onto the free list, lowest index first. */
    for (size_t i = ncap; i-- > q->cap;) {
        s[i].fn = NULL;
        s[i].ctx = NULL;
        s[i].gen = 0;
        pos[i] = POS_FREE;
        s[i].arg = q->free_head;
        q->free_head = (uint32_t)i;
    }
    q->cap = ncap;
    return 0;
}

int sim_evq_reserve(struct sim_evq *q, size_t n)
{
    /* One more than n: a hole may be held while n events are pending. */
    return grow(q, n + 1);
}

static inline void place(struct sim_evq *q, size_t i, struct node n)
{
    q->heap[i] = n;
    q->pos[n.slot] = (uint32_t)i;
}

static void sift_up(struct sim_evq *q, size_t i, struct node n)
{
    while (i > 0) {
        size_t parent = (i - 1) / ARITY;
        if (!node_less(q, &n, &q->heap[parent]))
            break;
        place(q, i, q->heap[parent]);
        i = parent;
    }
    place(q, i, n);
}

static void sift_down(struct sim_evq *q, size_t i, struct node n)
{
    size_t len = q->len;
    for (;;) {
        size_t first = i * ARITY + 1;
        if (first >= len)
            break;
        size_t end = first + ARITY < len ? first + ARITY : len;
        size_t best = min_child(q, first, end);
        if (!node_less(q, &q->heap[best], &n))
            break;
        place(q, i, q->heap[best]);
        i = best;
    }
    place(q, i, n);
}

/* Restores a full heap after a pop: the last node fills the root's hole. */
static void fill_hole(struct sim_evq *q)
{
    if (!q->hole)
        return;
    q->hole = false;
    size_t last = --q->len;
    if (last > 0)
        sift_down(q, 0, q->heap[last]);
}

static inline void free_slot(struct sim_evq *q, uint32_t idx)
{
    struct slot *s = &q->slots[idx];
    s->gen++;
    q->pos[idx] = POS_FREE;
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
    s->seq = q->next_seq++;
    struct node n = {t, idx};
    if (q->hole) {
        q->hole = false;
        sift_down(q, 0, n);
    } else {
        sift_up(q, q->len++, n);
    }
    return make_id(idx, s->gen);
}

static inline struct slot *lookup(const struct sim_evq *q, sim_event_id id)
{
    uint64_t low = id & 0xffffffffu;
    if (low == 0 || low > q->cap)
        return NULL;
    struct slot *s = &q->slots[low - 1];
    if (q->pos[low - 1] == POS_FREE || s->gen != (uint32_t)(id >> 32))
        return NULL;
    return s;
}

bool sim_evq_pending(const struct sim_evq *q, sim_event_id id)
{
    return lookup(q, id) != NULL;
}

bool sim_evq_cancel(struct sim_evq *q, sim_event_id id)
{
    struct slot *s = lookup(q, id);
    if (!s)
        return false;
    fill_hole(q); /* moves nodes: read the position afterwards */
    uint32_t idx = (uint32_t)((id & 0xffffffffu) - 1);
    size_t i = q->pos[idx];
    free_slot(q, idx);
    size_t last = --q->len;
    if (i != last) {
        struct node n = q->heap[last];
        if (i > 0 && node_less(q, &n, &q->heap[(i - 1) / ARITY]))
            sift_up(q, i, n);
        else
            sift_down(q, i, n);
    }
    return true;
}

bool sim_evq_pop(struct sim_evq *q, struct sim_event *out)
{
    fill_hole(q);
    if (q->len == 0)
        return false;
    uint32_t idx = q->heap[0].slot;
    struct slot *s = &q->slots[idx];
    out->time = q->heap[0].time;
    out->fn = s->fn;
    out->ctx = s->ctx;
    out->arg = s->arg;
    out->id = make_id(idx, s->gen);
    free_slot(q, idx);
    q->hole = true;
    return true;
}

bool sim_evq_peek_time(const struct sim_evq *q, sim_time_t *t)
{
    if (!q->hole) {
        if (q->len == 0)
            return false;
        *t = q->heap[0].time;
        return true;
    }
    /* With a hole at the root the earliest event is one of its children. */
    if (q->len <= 1)
        return false;
    size_t end = q->len < 1 + ARITY ? q->len : 1 + ARITY;
    *t = q->heap[min_child(q, 1, end)].time;
    return true;
}

size_t sim_evq_len(const struct sim_evq *q)
{
    return q->len - (q->hole ? 1 : 0);
}

void sim_evq_clear(struct sim_evq *q)
{
    /* The order only affects which slots get reused first, never event order. */
    for (size_t i = q->len; i-- > (q->hole ? 1u : 0u);)
        free_slot(q, q->heap[i].slot);
    q->len = 0;
    q->hole = false;
}
