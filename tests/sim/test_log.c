#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim/log.h"

static struct sim_log *make(size_t buf_len, int level, enum sim_log_cont_mode mode)
{
    struct sim_log_config c = {buf_len, level, mode};
    struct pcilab_err err;
    struct sim_log *log = sim_log_create(&c, &err);
    assert_non_null(log);
    return log;
}

static const char *text_of(const struct sim_log *log, size_t i)
{
    static struct sim_log_rec rec;
    assert_true(sim_log_get(log, i, &rec));
    return rec.text;
}

/* Captures sim_log_dump output. */
static char *dump(const struct sim_log *log, unsigned flags)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(sim_log_dump(log, f, flags), 0);
    fclose(f);
    return buf;
}

static void test_timestamp_format(void **state)
{
    (void)state;
    struct sim_log *log = sim_log_create(NULL, NULL);
    char line[256];
    struct sim_log_rec rec;
    static const struct {
        sim_time_t ts;
        const char *want;
    } cases[] = {
        {0, "[    0.000000] x\n"},
        {49 * SIM_S + 1605 * SIM_US, "[   49.001605] x\n"},
        /* Sub-microsecond parts are cut, not rounded (do_div in print_time). */
        {1 * SIM_S + 1999 * SIM_NS, "[    1.000001] x\n"},
        {99999 * SIM_S + 999999 * SIM_US, "[99999.999999] x\n"},
        /* More than five digits of seconds widen the field. */
        {123456 * SIM_S + 789 * SIM_MS, "[123456.789000] x\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sim_log_printk(log, cases[i].ts, "x\n");
        assert_true(sim_log_get(log, i, &rec));
        size_t n = sim_log_format(&rec, line, sizeof line);
        assert_string_equal(line, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
    }
    /* The seed case's line, byte for byte. */
    sim_log_printk(log, 49 * SIM_S + 1605 * SIM_US,
                   KERN_ERR "IO_PAGE_FAULT device=%02x:%02x.%x domain=0x%04x "
                            "address=0x%016llx flags=0x%04x]\n",
                   0, 0, 0, 0, 0xffbf8000ull, 0x70);
    assert_true(sim_log_get(log, 5, &rec));
    sim_log_format(&rec, line, sizeof line);
    assert_string_equal(line, "[   49.001605] IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                              "address=0x00000000ffbf8000 flags=0x0070]\n");
    /* snprintf-like truncation. */
    char small[8];
    size_t n = sim_log_format(&rec, small, sizeof small);
    assert_int_equal(n, strlen(line));
    assert_string_equal(small, "[   49.");
    sim_log_destroy(log);
}

static void test_levels_and_raw(void **state)
{
    (void)state;
    struct sim_log *log = make(0, 6, SIM_LOG_CONT_EXPLICIT);
    sim_log_printk(log, 0, KERN_EMERG "a\n");
    sim_log_printk(log, 0, KERN_DEBUG "b\n");
    sim_log_printk(log, 0, "c\n");            /* default_message_loglevel */
    sim_log_printk(log, 0, KERN_DEFAULT "d\n");
    sim_log_printk(log, 0, "\001" "9e\n");     /* not a level: stays in the text */
    sim_log_printk(log, 0, KERN_ERR KERN_INFO "f\n"); /* first level wins */
    struct sim_log_rec rec;
    int want_level[] = {0, 7, 6, 6, 6, 3};
    const char *want_text[] = {"a", "b", "c", "d", "\0019e", "f"};
    for (int i = 0; i < 6; i++) {
        assert_true(sim_log_get(log, (size_t)i, &rec));
        assert_int_equal(rec.level, want_level[i]);
        assert_string_equal(rec.text, want_text[i]);
        assert_int_equal(rec.seq, (uint64_t)i);
        assert_int_equal(rec.facility, 0);
    }
    sim_log_store(log, 2 * SIM_S, SIM_LOG_FAC_USER, SIM_LOG_NOTICE, "from user\n", 10);
    char *out = dump(log, SIM_LOG_FMT_RAW);
    assert_string_equal(out, "<0>[    0.000000] a\n"
                             "<7>[    0.000000] b\n"
                             "<6>[    0.000000] c\n"
                             "<6>[    0.000000] d\n"
                             "<6>[    0.000000] \001" "9e\n"
                             "<3>[    0.000000] f\n"
                             "<13>[    2.000000] from user\n");
    free(out);
    out = dump(log, SIM_LOG_FMT_NOTIME);
    assert_string_equal(out, "a\nb\nc\nd\n\001" "9e\nf\nfrom user\n");
    free(out);
    out = dump(log, SIM_LOG_FMT_RAW | SIM_LOG_FMT_NOTIME);
    assert_true(strncmp(out, "<0>a\n<7>b\n", 10) == 0);
    free(out);
    sim_log_destroy(log);
}

static void test_multiline_record(void **state)
{
    (void)state;
    struct sim_log *log = sim_log_create(NULL, NULL);
    sim_log_printk(log, 3 * SIM_S, KERN_INFO "first\nsecond\n\nfourth\n");
    assert_int_equal(sim_log_count(log), 1);
    char *out = dump(log, 0);
    assert_string_equal(out, "[    3.000000] first\n"
                             "[    3.000000] second\n"
                             "[    3.000000] \n"
                             "[    3.000000] fourth\n");
    free(out);
    sim_log_destroy(log);
}

static void test_cont_explicit(void **state)
{
    (void)state;
    struct sim_log *log = make(0, -1, SIM_LOG_CONT_EXPLICIT);
    struct sim_log_rec rec;
    sim_log_printk(log, 1 * SIM_S, KERN_INFO "pci 0000:01:00.0: [%04x:%04x]", 0x1204, 0xe250);
    assert_int_equal(sim_log_count(log), 1);
    assert_true(sim_log_get(log, 0, &rec));
    assert_true(rec.open);
    sim_log_printk(log, 2 * SIM_S, KERN_CONT " type %02x", 0);
    sim_log_printk(log, 3 * SIM_S, KERN_CONT " class 0x%06x\n", 0x118000);
    assert_int_equal(sim_log_count(log), 1);
    assert_true(sim_log_get(log, 0, &rec));
    assert_false(rec.open);
    assert_string_equal(rec.text, "pci 0000:01:00.0: [1204:e250] type 00 class 0x118000");
    assert_int_equal(rec.ts, 1 * SIM_S); /* the first fragment's time */
    assert_int_equal(rec.level, SIM_LOG_INFO);

    /* Without KERN_CONT a fragment does not continue: the open line stays a
     * record of its own (4.9+). */
    sim_log_printk(log, 4 * SIM_S, KERN_ERR "partial");
    sim_log_printk(log, 5 * SIM_S, " not continued\n");
    assert_int_equal(sim_log_count(log), 3);
    assert_string_equal(text_of(log, 1), "partial");
    assert_string_equal(text_of(log, 2), " not continued");
    assert_true(sim_log_get(log, 1, &rec));
    assert_false(rec.open);
    assert_int_equal(rec.level, SIM_LOG_ERR);
    assert_true(sim_log_get(log, 2, &rec));
    assert_int_equal(rec.level, SIM_LOG_DEFAULT_LEVEL);

    /* KERN_CONT after a complete line starts a new record at the default level. */
    sim_log_printk(log, 6 * SIM_S, KERN_CONT "orphan\n");
    assert_int_equal(sim_log_count(log), 4);
    assert_string_equal(text_of(log, 3), "orphan");
    /* 5.10+: an empty continuation that cannot be merged still makes a record. */
    sim_log_printk(log, 7 * SIM_S, KERN_CONT "\n");
    assert_int_equal(sim_log_count(log), 5);
    assert_string_equal(text_of(log, 4), "");
    /* ...and one that can be merged only closes the line. */
    sim_log_printk(log, 8 * SIM_S, KERN_INFO "x");
    sim_log_printk(log, 8 * SIM_S, KERN_CONT "\n");
    assert_int_equal(sim_log_count(log), 6);
    assert_true(sim_log_get(log, 5, &rec));
    assert_false(rec.open);
    assert_string_equal(rec.text, "x");
    /* KERN_CONT together with a level: continues (the level is ignored). */
    sim_log_printk(log, 9 * SIM_S, KERN_INFO "y");
    sim_log_printk(log, 9 * SIM_S, KERN_CONT KERN_ERR "z\n");
    assert_int_equal(sim_log_count(log), 7);
    assert_string_equal(text_of(log, 6), "yz");
    sim_log_destroy(log);
}

static void test_cont_buffered(void **state)
{
    (void)state;
    struct sim_log *log = make(0, -1, SIM_LOG_CONT_BUFFERED);
    sim_log_printk(log, 0, KERN_INFO "a");
    sim_log_printk(log, 0, KERN_CONT "b\n");
    sim_log_printk(log, 0, KERN_CONT "\n"); /* 4.9: skipped, it only flushes */
    sim_log_printk(log, 0, KERN_INFO "");   /* empty cont buffer: no record */
    sim_log_printk(log, 0, "c\n");
    assert_int_equal(sim_log_count(log), 2);
    assert_string_equal(text_of(log, 0), "ab");
    assert_string_equal(text_of(log, 1), "c");
    /* Past 80% of LOG_LINE_MAX the line is flushed; the next fragment starts a
     * new record. */
    char chunk[101];
    memset(chunk, 'x', 100);
    chunk[100] = '\0';
    sim_log_printk(log, 0, KERN_INFO "%s", chunk);
    for (int i = 0; i < 8; i++)
        sim_log_printk(log, 0, KERN_CONT "%s", chunk);
    sim_log_printk(log, 0, KERN_CONT "tail\n");
    assert_int_equal(sim_log_count(log), 4);
    struct sim_log_rec rec;
    assert_true(sim_log_get(log, 2, &rec));
    assert_int_equal(rec.len, 800);
    assert_string_equal(text_of(log, 3), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxtail");
    sim_log_destroy(log);
}

static void test_cont_implicit(void **state)
{
    (void)state;
    struct sim_log *log = make(0, -1, SIM_LOG_CONT_IMPLICIT);
    struct sim_log_rec rec;
    /* Before 4.9 a fragment without a level continues the open line. */
    sim_log_printk(log, 1 * SIM_S, KERN_INFO "part one");
    sim_log_printk(log, 2 * SIM_S, ", part two");
    sim_log_printk(log, 3 * SIM_S, KERN_CONT ", part three\n");
    assert_int_equal(sim_log_count(log), 1);
    assert_true(sim_log_get(log, 0, &rec));
    assert_string_equal(rec.text, "part one, part two, part three");
    assert_int_equal(rec.ts, 1 * SIM_S);
    assert_int_equal(rec.level, SIM_LOG_INFO);
    /* A message with a level closes the open line. */
    sim_log_printk(log, 4 * SIM_S, KERN_INFO "open");
    sim_log_printk(log, 5 * SIM_S, KERN_WARNING "new\n");
    assert_int_equal(sim_log_count(log), 3);
    assert_string_equal(text_of(log, 1), "open");
    assert_string_equal(text_of(log, 2), "new");
    /* Without an open line, a fragment without a level starts a new record. */
    sim_log_printk(log, 6 * SIM_S, "plain\n");
    assert_int_equal(sim_log_count(log), 4);
    assert_true(sim_log_get(log, 3, &rec));
    assert_int_equal(rec.level, SIM_LOG_DEFAULT_LEVEL);
    /* 4.4 parses one prefix only: the second stays in the text. */
    sim_log_printk(log, 7 * SIM_S, KERN_ERR KERN_INFO "two\n");
    assert_string_equal(text_of(log, 4), KERN_INFO "two");
    /* A line that would pass LOG_LINE_MAX is not merged. */
    char big[700];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sim_log_printk(log, 8 * SIM_S, KERN_INFO "%s", big);
    sim_log_printk(log, 8 * SIM_S, "%s\n", big);
    assert_int_equal(sim_log_count(log), 7);
    sim_log_destroy(log);
}

static void test_long_message_truncated(void **state)
{
    (void)state;
    struct sim_log *log = sim_log_create(NULL, NULL);
    char big[2000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    int n = sim_log_printk(log, 0, KERN_INFO "%s\n", big);
    /* vscnprintf into textbuf[LOG_LINE_MAX]: 991 bytes including the prefix. */
    assert_int_equal(n, SIM_LOG_LINE_MAX - 1 - 2);
    struct sim_log_rec rec;
    assert_true(sim_log_get(log, 0, &rec));
    assert_int_equal(rec.len, SIM_LOG_LINE_MAX - 3);
    sim_log_destroy(log);
}

static void test_ring_overflow(void **state)
{
    (void)state;
    /* 512 bytes: each 24-byte text takes 16 + 25 -> 48 bytes, so 10 fit. */
    struct sim_log *log = make(512, -1, SIM_LOG_CONT_EXPLICIT);
    for (int i = 0; i < 1000; i++) {
        sim_log_printk(log, (sim_time_t)i * SIM_MS, KERN_INFO "message number %09d\n", i);
        size_t count = sim_log_count(log);
        assert_true(count >= 1 && count <= 10);
        /* The retained records are always the newest, consecutive, in order. */
        struct sim_log_rec rec;
        for (size_t k = 0; k < count; k++) {
            assert_true(sim_log_get(log, k, &rec));
            int want = i - (int)(count - 1 - k);
            char expect[64];
            snprintf(expect, sizeof expect, "message number %09d", want);
            assert_string_equal(rec.text, expect);
            assert_int_equal(rec.seq, (uint64_t)want);
            assert_int_equal(rec.ts, (sim_time_t)want * SIM_MS);
        }
        assert_int_equal(sim_log_dropped(log) + count, (uint64_t)i + 1);
    }
    assert_int_equal(sim_log_count(log), 10);
    assert_int_equal(sim_log_dropped(log), 990);
    assert_int_equal(sim_log_next_seq(log), 1000);
    assert_false(sim_log_get(log, 10, &(struct sim_log_rec){0}));

    /* Mixed sizes and continuations keep the ring consistent. */
    for (int i = 0; i < 2000; i++) {
        int len = (i * 37) % 200;
        sim_log_printk(log, 0, KERN_INFO "%0*d", len + 1, i);
        if (i % 3 == 0)
            sim_log_printk(log, 0, KERN_CONT "%0*d", (i * 11) % 150 + 1, i);
        sim_log_printk(log, 0, KERN_CONT "!\n");
        struct sim_log_rec rec;
        assert_true(sim_log_get(log, sim_log_count(log) - 1, &rec));
        assert_int_equal(rec.text[rec.len - 1], '!');
        assert_int_equal(rec.seq + 1, sim_log_next_seq(log));
    }
    /* A message bigger than the whole ring is cut to a quarter of it. */
    char big[900];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sim_log_printk(log, 0, KERN_INFO "%s\n", big);
    struct sim_log_rec rec;
    assert_true(sim_log_get(log, sim_log_count(log) - 1, &rec));
    assert_int_equal(rec.len, 128);
    assert_string_equal(rec.text + 128 - 11, "<truncated>");
    sim_log_destroy(log);
}

static void test_clear_and_configure(void **state)
{
    (void)state;
    struct sim_log *log = sim_log_create(NULL, NULL);
    for (int i = 0; i < 50; i++)
        sim_log_printk(log, 0, KERN_INFO "line %d\n", i);
    struct sim_log_config small = {1024, 3, SIM_LOG_CONT_IMPLICIT};
    assert_int_equal(sim_log_configure(log, &small, NULL), 0);
    assert_int_equal(sim_log_config(log)->cont, SIM_LOG_CONT_IMPLICIT);
    assert_int_equal(sim_log_config(log)->default_level, 3);
    size_t count = sim_log_count(log);
    assert_true(count > 10 && count < 50);
    assert_string_equal(text_of(log, count - 1), "line 49");
    struct sim_log_rec rec;
    assert_true(sim_log_get(log, 0, &rec));
    assert_int_equal(rec.seq, 50 - count);
    assert_int_equal(sim_log_dropped(log), 50 - count);
    sim_log_clear(log);
    assert_int_equal(sim_log_count(log), 0);
    sim_log_printk(log, 0, "after\n");
    assert_true(sim_log_get(log, 0, &rec));
    assert_int_equal(rec.seq, 50);
    assert_int_equal(rec.level, 3);

    struct pcilab_err err = {0};
    struct sim_log_config bad = {16, -1, SIM_LOG_CONT_EXPLICIT};
    assert_int_equal(sim_log_configure(log, &bad, &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "log_buf_len"));
    struct sim_log_config bad_level = {0, 8, SIM_LOG_CONT_EXPLICIT};
    assert_null(sim_log_create(&bad_level, &err));
    assert_int_equal(err.code, PCILAB_EINVAL);
    sim_log_destroy(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamp_format),
        cmocka_unit_test(test_levels_and_raw),
        cmocka_unit_test(test_multiline_record),
        cmocka_unit_test(test_cont_explicit),
        cmocka_unit_test(test_cont_buffered),
        cmocka_unit_test(test_cont_implicit),
        cmocka_unit_test(test_long_message_truncated),
        cmocka_unit_test(test_ring_overflow),
        cmocka_unit_test(test_clear_and_configure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
