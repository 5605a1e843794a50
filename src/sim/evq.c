/* Event queue: a 4-ary min-heap of self-contained (time, key) entries over a
 * pool of event slots.
 *
 * Heap entries. An entry is 16 bytes: the time and a key word holding the
 * insertion sequence (high 32 bits) and the slot index (low 32 bits). Sequence
 * numbers are unique among queued entries, so comparing (time, key) as one
 * 128-bit number orders by (time, insertion sequence) without touching the
 * slots, and every sift reads and writes one contiguous array. The array is
 * 64-byte aligned with PAD unused entries in front, so the four children of an
 * entry share one cache line.
 *
 * Sequence space. 32 bits run out after about 4.3e9 pushes; the push that
 * would take the last number first renumbers the queued entries 0..n-1 in
 * their (time, sequence) order, which keeps every comparison's result (and so
 * the heap) as it was. The slot ids users hold do not change.
 *
 * Lazy cancellation. Cancelling frees the slot at once (its generation and
 * sequence change, so the id goes stale and the slot can be reused) but leaves
 * the heap entry in place: an entry is dead when its sequence no longer matches
 * its slot's. Dead entries are dropped when they reach the top, and when they
 * outnumber the live ones the heap is compacted (filtered and rebuilt, O(n),
 * paid for by the cancels that made the garbage). So no entry carries a
 * back-pointer and no sift has to update one. Invariants between calls:
 *   - dead <= live, so the heap holds at most twice the pending events;
 *   - the earliest entry is live: the root, or while the root is a hole (next
 *     paragraph) the smallest of its children.
 *
 * Root hole. Popping leaves a hole at the root instead of restoring the heap:
 * the push that usually follows (an event schedules its successor) fills it,
 * one pass instead of two. Any other operation fills it first with the last
 * entry.
 *
 * Bottom-up passes. Removing the root or filling the hole moves the hole down
 * to a leaf along the smaller children (two comparisons per level of the 4-ary
 * tree, none against the entry being placed), then sifts the entry up from
 * there; entries placed this way (the last one, or a new event some time in
 * the future) belong near the bottom, so the climb is short. The way down is
 * one chain of dependent loads and comparisons, so its steps are kept short:
 * see descend().
 *
 * Measured with bench_evq against the previous heap (per-slot positions, the
 * tie-breaking sequence in the slots, top-down sift with branch-free index
 * selection): push+pop with 1000 pending 473 -> 310 instructions per event
 * under callgrind, 28.7 -> 53 M events/s on a quiet machine. */
#include "sim/evq.h"

#include <stdlib.h>
#include <string.h>

#include "sim/err.h"

/* The sequence number after the last usable one; UINT32_MAX itself marks a
 * free slot. Tests build a copy of this file with a small limit so that
 * renumbering runs often. */
#ifndef SIM_EVQ_SEQ_LIMIT
#define SIM_EVQ_SEQ_LIMIT UINT32_MAX
#endif
#define SEQ_FREE  UINT32_MAX
#define NO_SLOT   UINT32_MAX
/* Renumbering needs room after the queued entries: at most half the space. */
#define MAX_SLOTS                                                                  \
    ((size_t)1 << 31 < (size_t)SIM_EVQ_SEQ_LIMIT / 2 ? (size_t)1 << 31             \
                                                      : (size_t)SIM_EVQ_SEQ_LIMIT / 2)
#define ARITY     4
#define PAD       3 /* heap[i] is stored at base[i + PAD] */
#define SLOT_MASK 0xffffffffu

struct entry {
    sim_time_t time;
    uint64_t key; /* sequence << 32 | slot index */
};

struct slot {
    sim_event_fn fn;
    void *ctx;
    uint64_t arg; /* while free: index of the next free slot */
    uint32_t seq; /* sequence of the slot's heap entry; SEQ_FREE while free */
    uint32_t gen; /* high half of the slot's ids */
};

struct sim_evq {
    struct entry *heap; /* = base + PAD; room for 2 * cap entries */
    struct entry *base;
    struct slot *slots;
    size_t len;   /* heap entries, dead ones and the hole included */
    size_t live;  /* pending events */
    size_t dead;  /* cancelled entries still in the heap */
    size_t cap;   /* slots */
    bool hole;    /* heap[0] is empty (popped, not yet refilled) */
    uint32_t free_head;
    uint32_t next_seq;
};

static inline uint64_t make_key(uint32_t seq, uint32_t idx)
{
    return ((uint64_t)seq << 32) | idx;
}

static inline uint32_t key_slot(uint64_t key)
{
    return (uint32_t)(key & SLOT_MASK);
}

static inline sim_event_id make_id(uint32_t idx, uint32_t gen)
{
    return ((uint64_t)gen << 32) | ((uint64_t)idx + 1);
}

#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 evq_u128;
static inline bool entry_less(const struct entry *a, const struct entry *b)
{
    return (((evq_u128)a->time << 64) | a->key) < (((evq_u128)b->time << 64) | b->key);
}
#else
static inline bool entry_less(const struct entry *a, const struct entry *b)
{
    return a->time < b->time || (a->time == b->time && a->key < b->key);
}
#endif

static inline bool entry_dead(const struct sim_evq *q, const struct entry *e)
{
    return q->slots[key_slot(e->key)].seq != (uint32_t)(e->key >> 32);
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
    free(q);
}

static int grow(struct sim_evq *q, size_t want)
{
    if (want <= q->cap)
        return 0;
    /* Checked first: doubling towards a larger want would overflow size_t. */
    if (want > MAX_SLOTS)
        return -PCILAB_ENOMEM;
    size_t ncap = q->cap ? q->cap : 64;
    while (ncap < want)
        ncap *= 2;
    if (ncap > MAX_SLOTS)
        ncap = MAX_SLOTS;
    if (ncap > (SIZE_MAX / sizeof(struct entry) - PAD - 4) / 2)
        return -PCILAB_ENOMEM;
    /* 2 * ncap + PAD entries rounded up to whole 64-byte lines. */
    size_t bytes = ((2 * ncap + PAD) * sizeof(struct entry) + 63) & ~(size_t)63;
    struct entry *base = aligned_alloc(64, bytes);
    if (!base)
        return -PCILAB_ENOMEM;
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
        s[i].seq = SEQ_FREE;
        s[i].gen = 0;
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

/* Places e at the hole i, or higher up (not above top) while it is smaller
 * than the parent. */
static inline void sift_up(struct entry *h, size_t top, size_t i, struct entry e)
{
    while (i > top) {
        size_t parent = (i - 1) / ARITY;
        if (!entry_less(&e, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

/* The smallest of the four entries at c. */
static inline const struct entry *min_of_4(const struct entry *c)
{
    const struct entry *a = entry_less(&c[1], &c[0]) ? c + 1 : c;
    const struct entry *b = entry_less(&c[3], &c[2]) ? c + 3 : c + 2;
    return entry_less(b, a) ? b : a;
}

/* (*t, *p) = (t2, p2) when t2 < *t. Which child is smaller is a coin flip that
 * no branch predictor learns, so on x86-64 this is a compare and two
 * conditional moves. GCC 12 compiles the plain C (and ?: selections) into
 * branches here, which cost a third of the push+pop rate in bench_evq.
 * SIM_EVQ_PORTABLE selects the C (the tests build a copy that way). */
static inline void take_if_below(sim_time_t *t, const struct entry **p, sim_time_t t2,
                                 const struct entry *p2)
{
#if defined(__GNUC__) && defined(__x86_64__) && !defined(SIM_EVQ_PORTABLE)
    __asm__("cmp %[t], %[t2]\n\t"
            "cmovb %[t2], %[t]\n\t"
            "cmovb %[p2], %[p]"
            : [t] "+r"(*t), [p] "+r"(*p)
            : [t2] "r"(t2), [p2] "r"(p2)
            : "cc");
#else
    if (t2 < *t) {
        *t = t2;
        *p = p2;
    }
#endif
}

/* Moves the hole at i down to a leaf of h[0 .. len), each time filling it with
 * the smallest child; returns where the hole ends up.
 *
 * The loop is one chain of dependent steps (which child, then its children's
 * address, then their times), so each step is kept short: the times are
 * compared with conditional moves (the keys only on a tie, rare and
 * predicted), and the children of the entry at p are found with one
 * multiply-add on addresses, 4 * p - 3 * h + 1 entry (from index 4i + 1). */
__attribute__((always_inline)) static inline size_t descend(struct entry *h, size_t i,
                                                            size_t len)
{
    if (len >= 1 + ARITY) {
        const uintptr_t base = (uintptr_t)h;
        const uintptr_t skew = sizeof(struct entry) - 3 * base;
        /* Address of the last child group that is complete. */
        const uintptr_t last_full = base + (len - ARITY) * sizeof(struct entry);
        struct entry *p = h + i;
        uintptr_t c_addr = 4 * (uintptr_t)p + skew;
        while (c_addr <= last_full) {
            const struct entry *c = (const struct entry *)c_addr;
            sim_time_t t0 = c[0].time, t1 = c[1].time, t2 = c[2].time, t3 = c[3].time;
            const struct entry *a = c, *b = c + 2;
            if (__builtin_expect(t0 == t1 || t2 == t3, 0)) {
                a = min_of_4(c);
            } else {
                take_if_below(&t0, &a, t1, c + 1);
                take_if_below(&t2, &b, t3, c + 3);
                if (__builtin_expect(t0 == t2, 0))
                    a = b->key < a->key ? b : a;
                else
                    take_if_below(&t0, &a, t2, b);
            }
            *p = *a;
            p = (struct entry *)a;
            c_addr = 4 * (uintptr_t)p + skew;
        }
        i = (size_t)(p - h);
    }
    size_t first = i * ARITY + 1;
    if (first < len) { /* a node with fewer than ARITY children */
        size_t best = first;
        for (size_t c = first + 1; c < len; c++)
            if (entry_less(&h[c], &h[best]))
                best = c;
        h[i] = h[best];
        i = best;
    }
    return i;
}

/* Fills the hole at the root with the last entry. */
static void remove_root(struct sim_evq *q)
{
    size_t last = --q->len;
    if (last == 0)
        return;
    struct entry e = q->heap[last];
    sift_up(q->heap, 0, descend(q->heap, 0, last), e);
}

static inline void fill_hole(struct sim_evq *q)
{
    if (q->hole) {
        q->hole = false;
        remove_root(q);
    }
}

/* Index of the smallest child of the root (the hole); len > 1. */
static inline size_t min_root_child(const struct entry *h, size_t len)
{
    size_t end = len < 1 + ARITY ? len : 1 + ARITY;
    size_t best = 1;
    for (size_t c = 2; c < end; c++)
        if (entry_less(&h[c], &h[best]))
            best = c;
    return best;
}

/* Drops every dead entry and rebuilds the heap bottom-up (Floyd). No hole. */
static void compact(struct sim_evq *q)
{
    struct entry *h = q->heap;
    size_t k = 0;
    /* Branch-free: live or dead is random, a branch would mispredict half the
     * time. */
    for (size_t i = 0; i < q->len; i++) {
        h[k] = h[i];
        k += !entry_dead(q, &h[i]);
    }
    q->len = k;
    q->dead = 0;
    if (k < 2)
        return;
    for (size_t i = (k - 2) / ARITY + 1; i-- > 0;) {
        struct entry e = h[i];
        sift_up(h, i, descend(h, i, k), e);
    }
}

/* Restores the invariants after a removal: live root, dead <= live. No hole. */
static void tidy(struct sim_evq *q)
{
    while (q->len > 0 && entry_dead(q, &q->heap[0])) {
        remove_root(q);
        q->dead--;
    }
    if (q->dead > q->live)
        compact(q);
}

/* Gives the queued entries the sequence numbers 0..n-1 in their (time,
 * sequence) order. The order of any two entries stays the same, so does the
 * heap; only the sequence space is reclaimed. */
static void renumber(struct sim_evq *q)
{
    fill_hole(q);
    compact(q);
    size_t n = q->len;
    /* Pop them all in order into the free second half of the array (the heap
     * holds at most cap entries now, the array 2 * cap). */
    struct entry *sorted = q->heap + n;
    for (size_t j = 0; j < n; j++) {
        sorted[j] = q->heap[0];
        remove_root(q);
    }
    /* A sorted array is a heap. */
    for (size_t j = 0; j < n; j++) {
        uint32_t idx = key_slot(sorted[j].key);
        q->slots[idx].seq = (uint32_t)j;
        q->heap[j] = (struct entry){sorted[j].time, make_key((uint32_t)j, idx)};
    }
    q->len = n;
    q->next_seq = (uint32_t)n;
}

static inline void free_slot(struct sim_evq *q, uint32_t idx)
{
    struct slot *s = &q->slots[idx];
    s->gen++;
    s->seq = SEQ_FREE;
    s->arg = q->free_head;
    q->free_head = idx;
}

sim_event_id sim_evq_push(struct sim_evq *q, sim_time_t t, sim_event_fn fn, void *ctx,
                          uint64_t arg)
{
    if (q->free_head == NO_SLOT && grow(q, q->cap + 1) < 0)
        return 0;
    if (__builtin_expect(q->next_seq == SIM_EVQ_SEQ_LIMIT, 0))
        renumber(q);
    uint32_t idx = q->free_head;
    struct slot *s = &q->slots[idx];
    q->free_head = (uint32_t)s->arg;
    s->fn = fn;
    s->ctx = ctx;
    s->arg = arg;
    uint32_t seq = q->next_seq++;
    s->seq = seq;
    struct entry e = {t, make_key(seq, idx)};
    if (q->hole) {
        /* The root becomes the smallest of its children (live, by the
         * invariant) or e. */
        q->hole = false;
        sift_up(q->heap, 0, descend(q->heap, 0, q->len), e);
    } else {
        sift_up(q->heap, 0, q->len++, e);
    }
    q->live++;
    return make_id(idx, s->gen);
}

static inline struct slot *lookup(const struct sim_evq *q, sim_event_id id)
{
    uint64_t low = id & SLOT_MASK;
    if (low == 0 || low > q->cap)
        return NULL;
    struct slot *s = &q->slots[low - 1];
    if (s->seq == SEQ_FREE || s->gen != (uint32_t)(id >> 32))
        return NULL;
    return s;
}

bool sim_evq_pending(const struct sim_evq *q, sim_event_id id)
{
    return lookup(q, id) != NULL;
}

bool sim_evq_cancel(struct sim_evq *q, sim_event_id id)
{
    if (!lookup(q, id))
        return false;
    fill_hole(q);
    free_slot(q, (uint32_t)((id & SLOT_MASK) - 1));
    q->live--;
    q->dead++;
    tidy(q);
    return true;
}

bool sim_evq_pop(struct sim_evq *q, struct sim_event *out)
{
    if (q->hole) {
        q->hole = false;
        remove_root(q);
        tidy(q);
    }
    if (q->len == 0)
        return false;
    uint32_t idx = key_slot(q->heap[0].key);
    struct slot *s = &q->slots[idx];
    out->time = q->heap[0].time;
    out->fn = s->fn;
    out->ctx = s->ctx;
    out->arg = s->arg;
    out->id = make_id(idx, s->gen);
    free_slot(q, idx);
    q->live--;
    q->hole = true;
    /* Keep the hole only while the smallest child is live and the garbage
     * within bounds. */
    if (q->dead != 0 &&
        (q->dead > q->live ||
         (q->len > 1 && entry_dead(q, &q->heap[min_root_child(q->heap, q->len)])))) {
        q->hole = false;
        remove_root(q);
        tidy(q);
    }
    return true;
}

bool sim_evq_peek_time(const struct sim_evq *q, sim_time_t *t)
{
    if (q->hole) {
        if (q->len <= 1)
            return false;
        *t = q->heap[min_root_child(q->heap, q->len)].time;
        return true;
    }
    if (q->len == 0)
        return false;
    *t = q->heap[0].time;
    return true;
}

size_t sim_evq_len(const struct sim_evq *q)
{
    return q->live;
}

void sim_evq_clear(struct sim_evq *q)
{
    /* The order only affects which slots get reused first, never event order. */
    for (size_t i = q->len; i-- > (q->hole ? 1u : 0u);)
        if (!entry_dead(q, &q->heap[i]))
            free_slot(q, key_slot(q->heap[i].key));
    q->len = 0;
    q->live = 0;
    q->dead = 0;
    q->hole = false;
    q->next_seq = 0;
}
