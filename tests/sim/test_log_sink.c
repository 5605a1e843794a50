/* The printk ring's sink (dmesg -w) and the clock's advance hook, which
 * together let pcilab run print the kernel log as the simulation makes it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/log.h"
#include "sim/sim.h"

/* What a sink saw: each record printed as sim_log_dump prints it. */
struct seen {
    FILE *f;
    char *buf;
    size_t len;
    size_t n;
    uint64_t next_seq;
    bool gap;       /* a record came out of sequence order */
    bool open_seen; /* a record came still open */
};

static void seen_open(struct seen *s)
{
    memset(s, 0, sizeof *s);
    s->f = open_memstream(&s->buf, &s->len);
    assert_non_null(s->f);
}

static void sink(void *ctx, const struct sim_log_rec *rec)
{
    struct seen *s = ctx;
    if (s->n && rec->seq != s->next_seq)
        s->gap = true;
    if (rec->open)
        s->open_seen = true;
    assert_int_equal(sim_log_write(rec, s->f, 0), 0);
    s->next_seq = rec->seq + 1;
    s->n++;
}

static struct sim_log *make(size_t buf_len, enum sim_log_cont_mode mode)
{
    struct sim_log_config c = {buf_len, -1, mode};
    struct pcilab_err err;
    struct sim_log *log = sim_log_create(&c, &err);
    assert_non_null(log);
    return log;
}

static char *dump_from(const struct sim_log *log, uint64_t seq)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(sim_log_dump_from(log, seq, f, 0), 0);
    fclose(f);
    return buf;
}

static void test_complete_records_only(void **state)
{
    (void)state;
    struct sim_log *log = make(0, SIM_LOG_CONT_BUFFERED);
    struct seen s;
    seen_open(&s);
    sim_log_set_sink(log, sink, &s);
    sim_log_printk(log, 1 * SIM_US, KERN_INFO "first\n");
    fflush(s.f);
    assert_string_equal(s.buf, "[    0.000001] first\n");
    sim_log_printk(log, 2 * SIM_US, KERN_ERR "AMD-Vi: Event logged [");
    fflush(s.f);
    assert_int_equal(s.n, 1); /* open: it may still be continued */
    sim_log_printk(log, 3 * SIM_US, KERN_CONT "IO_PAGE_FAULT");
    assert_int_equal(s.n, 1);
    /* 4.9: a message without KERN_CONT closes the open record */
    sim_log_printk(log, 4 * SIM_US, KERN_ERR "next]\n");
    fflush(s.f);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.buf, "[    0.000001] first\n"
                               "[    0.000002] AMD-Vi: Event logged [IO_PAGE_FAULT\n"
                               "[    0.000004] next]\n");
    /* a continuation that ends the line completes the record */
    sim_log_printk(log, 5 * SIM_US, KERN_INFO "a ");
    sim_log_printk(log, 6 * SIM_US, KERN_CONT "b\n");
    fflush(s.f);
    assert_int_equal(s.n, 4);
    assert_non_null(strstr(s.buf, "[    0.000005] a b\n"));
    /* /dev/kmsg-style records are complete at once; multi-line ones get a
     * prefix per line */
    sim_log_store(log, 7 * SIM_US, SIM_LOG_FAC_USER, SIM_LOG_NOTICE, "x\ny\n", 4);
    fflush(s.f);
    assert_int_equal(s.n, 5);
    assert_non_null(strstr(s.buf, "[    0.000007] x\n[    0.000007] y\n"));
    /* removed: no more calls */
    sim_log_set_sink(log, NULL, &s);
    sim_log_printk(log, 8 * SIM_US, KERN_INFO "unseen\n");
    assert_int_equal(s.n, 5);
    assert_false(s.gap);
    assert_false(s.open_seen);
    fclose(s.f);
    free(s.buf);
    sim_log_destroy(log);
}

/* A little deterministic generator of printk traffic: levels, continuations,
 * open fragments, empty messages, multi-line texts and long lines that make
 * the continuation reallocate its record or pass 80 % of LOG_LINE_MAX. */
static void traffic(struct sim_log *log, unsigned seed, int n)
{
    static const char *const pfx[] = {KERN_INFO, KERN_ERR, KERN_CONT, "", KERN_DEFAULT,
                                      KERN_CONT, KERN_WARNING KERN_CONT};
    char text[700];
    uint32_t x = seed * 2654435761u + 1;
    for (int i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        unsigned r = x >> 8;
        size_t len = (r & 3) == 0 ? (r >> 4) % 600 : (r >> 4) % 24;
        for (size_t k = 0; k < len; k++)
            text[k] = (char)('a' + (k + r) % 26);
        if (len > 3 && (r & 0x30) == 0x30)
            text[len / 2] = '\n';
        text[len] = '\0';
        bool nl = (r >> 12) % 3 != 0;
        sim_log_printk(log, (sim_time_t)i * 1000 * SIM_NS, "%s%s%s", pfx[(r >> 16) % 7], text,
                       nl ? "\n" : "");
    }
}

/* What the sink printed, then the records left open at the end, is what a
 * dump after the fact prints, in every continuation mode, unless the ring
 * dropped something. */
static void test_stream_equals_dump(void **state)
{
    (void)state;
    static const enum sim_log_cont_mode modes[] = {SIM_LOG_CONT_EXPLICIT, SIM_LOG_CONT_BUFFERED,
                                                   SIM_LOG_CONT_IMPLICIT};
    for (size_t m = 0; m < 3; m++) {
        for (unsigned seed = 1; seed <= 20; seed++) {
            struct sim_log *log = make((size_t)1 << 20, modes[m]);
            /* records before the sink is set are printed by the caller */
            traffic(log, seed + 100, 5);
            struct seen s;
            seen_open(&s);
            size_t before = sim_log_count(log);
            struct sim_log_rec rec;
            uint64_t next = sim_log_next_seq(log);
            for (size_t i = 0; i < before && sim_log_get(log, i, &rec); i++) {
                if (rec.open) {
                    next = rec.seq;
                    break;
                }
                sim_log_write(&rec, s.f, 0);
            }
            s.next_seq = next;
            s.n = 1; /* check the order from the first sink call on */
            sim_log_set_sink(log, sink, &s);
            traffic(log, seed, 400);
            sim_log_set_sink(log, NULL, NULL);
            assert_int_equal(sim_log_dropped(log), 0);
            char *rest = dump_from(log, s.next_seq);
            fputs(rest, s.f);
            fclose(s.f);
            char *all = dump_from(log, 0);
            assert_string_equal(s.buf, all);
            assert_false(s.gap);
            assert_false(s.open_seen);
            free(rest);
            free(all);
            free(s.buf);
            sim_log_destroy(log);
        }
    }
}

/* A ring that overflows: the sink has seen every record, as dmesg -w does,
 * the ring keeps the newest; a reconfiguration (a kernel booting) does not
 * send the records again. */
static void test_sink_sees_dropped_records(void **state)
{
    (void)state;
    struct sim_log *log = make(4096, SIM_LOG_CONT_BUFFERED);
    struct seen s;
    seen_open(&s);
    sim_log_set_sink(log, sink, &s);
    for (int i = 0; i < 500; i++)
        sim_log_printk(log, i, KERN_INFO "record %d\n", i);
    assert_int_equal(s.n, 500);
    assert_true(sim_log_dropped(log) > 0);
    assert_true(sim_log_count(log) < 500);
    struct sim_log_config c = {8192, -1, SIM_LOG_CONT_BUFFERED};
    struct pcilab_err err;
    assert_int_equal(sim_log_configure(log, &c, &err), 0);
    assert_int_equal(s.n, 500);
    sim_log_printk(log, 501, KERN_INFO "after\n");
    assert_int_equal(s.n, 501);
    assert_false(s.gap);
    /* what is retained starts where the ring says */
    char *tail = dump_from(log, 0);
    char *again = dump_from(log, sim_log_next_seq(log) - sim_log_count(log));
    assert_string_equal(tail, again);
    free(tail);
    free(again);
    fclose(s.f);
    free(s.buf);
    sim_log_destroy(log);
}

/* ---- the clock's advance hook ---- */

struct adv {
    struct pcilab_sim *sim;
    sim_time_t from[16], to[16];
    size_t n;
    size_t events;          /* events run so far */
    size_t events_at[16];   /* events run when each call came */
};

static void on_advance(void *ctx, sim_time_t now, sim_time_t next)
{
    struct adv *a = ctx;
    assert_true(a->n < 16);
    assert_int_equal(now, sim_now(a->sim));
    a->from[a->n] = now;
    a->to[a->n] = next;
    a->events_at[a->n++] = a->events;
}

static void ev(void *ctx, uint64_t arg)
{
    struct adv *a = ctx;
    a->events++;
    /* an event scheduled at the same instant runs before the clock moves */
    if (arg == 1)
        sim_at(a->sim, sim_now(a->sim), ev, a, 0);
}

static void test_advance_hook(void **state)
{
    (void)state;
    struct adv a;
    memset(&a, 0, sizeof a);
    a.sim = sim_create(1);
    sim_set_advance_hook(a.sim, on_advance, &a);
    sim_at(a.sim, 0, ev, &a, 0);
    sim_at(a.sim, 10, ev, &a, 1);
    sim_at(a.sim, 10, ev, &a, 0);
    sim_at(a.sim, 30, ev, &a, 0);
    sim_run_until(a.sim, 100);
    /* no call for the events at 0 (the clock does not move), then 0 -> 10,
     * 10 -> 30 after the three events at 10, 30 -> 100 at the end */
    assert_int_equal(a.n, 3);
    assert_int_equal(a.from[0], 0);
    assert_int_equal(a.to[0], 10);
    assert_int_equal(a.events_at[0], 1);
    assert_int_equal(a.from[1], 10);
    assert_int_equal(a.to[1], 30);
    assert_int_equal(a.events_at[1], 4);
    assert_int_equal(a.from[2], 30);
    assert_int_equal(a.to[2], 100);
    assert_int_equal(a.events_at[2], 5);
    /* sim_run and sim_step call it too; removed, it is not called */
    sim_at(a.sim, 150, ev, &a, 0);
    sim_run(a.sim, 0);
    assert_int_equal(a.n, 4);
    assert_int_equal(a.to[3], 150);
    sim_set_advance_hook(a.sim, NULL, &a);
    sim_at(a.sim, 200, ev, &a, 0);
    sim_run_until(a.sim, 300);
    assert_int_equal(a.n, 4);
    assert_int_equal(a.events, 7);
    sim_destroy(a.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_records_only),
        cmocka_unit_test(test_stream_equals_dump),
        cmocka_unit_test(test_sink_sees_dropped_records),
        cmocka_unit_test(test_advance_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
