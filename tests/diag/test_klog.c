/* The kernel log reader (src/diag/klog.c): every accepted form, times, level
 * prefixes, mail damage, junk, bounds, and the same records under any
 * chunking. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/klog.h"

#define MAXREC 64

struct rec {
    char text[512];
    size_t len;
    uint64_t line, line_last;
    enum klog_form form;
    bool has_mono, has_wall;
    int64_t mono_ns;
    char wall[40], host[64];
    int level;
};

struct out {
    struct rec r[MAXREC];
    size_t n;
    size_t total;   /* records seen, even past MAXREC */
    uint64_t hash;  /* of every record, for big inputs */
    int stop_at;    /* return 7 at this record (1-based), 0: never */
};

static int collect(void *ctx, const struct klog_rec *k)
{
    struct out *o = ctx;
    o->total++;
    /* the contract: NUL at text[len], no CR/LF inside, no trailing blank */
    assert_int_equal(k->text[k->len], '\0');
    assert_null(memchr(k->text, '\n', k->len));
    assert_null(memchr(k->text, '\r', k->len));
    if (k->len)
        assert_true(k->text[k->len - 1] != ' ' && k->text[k->len - 1] != '\t');
    assert_true(k->line_last >= k->line);
    uint64_t h = o->hash ^ (k->line * 1000003u) ^ k->line_last ^ (uint64_t)k->form;
    for (size_t i = 0; i < k->len; i++)
        h = (h ^ (unsigned char)k->text[i]) * 1099511628211ull;
    h = (h ^ (uint64_t)k->mono_ns) * 1099511628211ull;
    o->hash = h;
    if (o->n < MAXREC) {
        struct rec *r = &o->r[o->n++];
        size_t l = k->len < sizeof r->text - 1 ? k->len : sizeof r->text - 1;
        memcpy(r->text, k->text, l);
        r->text[l] = '\0';
        r->len = k->len;
        r->line = k->line;
        r->line_last = k->line_last;
        r->form = k->form;
        r->has_mono = k->has_mono;
        r->has_wall = k->has_wall;
        r->mono_ns = k->mono_ns;
        memcpy(r->wall, k->wall, sizeof r->wall);
        memcpy(r->host, k->host, sizeof r->host);
        r->level = k->level;
    }
    if (o->stop_at && (int)o->total == o->stop_at)
        return 7;
    return 0;
}

/* Whole input in one feed. */
static void read_all(const char *s, size_t len, size_t max_line, struct out *o,
                     struct klog_stats *st)
{
    memset(o, 0, sizeof *o);
    struct klog_reader *r = klog_reader_new(max_line);
    assert_non_null(r);
    assert_int_equal(klog_feed(r, s, len, collect, o), 0);
    assert_int_equal(klog_finish(r, collect, o), 0);
    if (st)
        klog_get_stats(r, st);
    klog_reader_free(r);
}

static void read_str(const char *s, struct out *o, struct klog_stats *st)
{
    read_all(s, strlen(s), 0, o, st);
}

/* ---- forms ------------------------------------------------------------ */

static void test_dmesg(void **state)
{
    (void)state;
    struct out o;
    struct klog_stats st;
    read_str("[    0.000000] Linux version 4.9.80 (gcc version 6.3.0)\n"
             "[   49.001605] AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
             "address=0x00000000ffbf8000 flags=0x0070]\n"
             "[12345678.5] x\n",
             &o, &st);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.r[0].text, "Linux version 4.9.80 (gcc version 6.3.0)");
    assert_int_equal(o.r[0].form, KLOG_FORM_DMESG);
    assert_true(o.r[0].has_mono);
    assert_int_equal(o.r[0].mono_ns, 0);
    assert_false(o.r[0].has_wall);
    assert_string_equal(o.r[0].host, "");
    assert_int_equal(o.r[0].level, -1);
    assert_int_equal(o.r[0].line, 1);
    assert_int_equal(o.r[1].mono_ns, 49001605000ll);
    assert_int_equal(o.r[1].line, 2);
    assert_int_equal(o.r[1].line_last, 2);
    assert_string_equal(o.r[1].text,
                        "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                        "address=0x00000000ffbf8000 flags=0x0070]");
    /* fewer fraction digits scale: .5 s */
    assert_int_equal(o.r[2].mono_ns, 12345678500000000ll);
    assert_int_equal(st.lines, 3);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.joined, 0);
    assert_string_equal(klog_form_name(KLOG_FORM_DMESG), "dmesg");
}

static void test_dmesg_levels(void **state)
{
    (void)state;
    struct out o;
    /* dmesg -r / /proc/kmsg: <pri>; dmesg -x: "kern  :warn  : " */
    read_str("<4>[   49.001605] AMD-Vi: x\n"
             "<14>[    1.000000] user message\n"
             "kern  :err   : [    2.000000] DMAR: y\n"
             "kern  :info  : no time\n"
             "<6>no time either\n"
             "\n"
             "kern : foo\n",
             &o, NULL);
    assert_int_equal(o.n, 6);
    assert_int_equal(o.r[0].level, 4);
    assert_string_equal(o.r[0].text, "AMD-Vi: x");
    assert_int_equal(o.r[0].mono_ns, 49001605000ll);
    assert_int_equal(o.r[1].level, 6); /* facility user (1): 14 = 8 + 6 */
    assert_int_equal(o.r[2].level, 3);
    assert_string_equal(o.r[2].text, "DMAR: y");
    assert_int_equal(o.r[2].mono_ns, 2000000000ll);
    assert_int_equal(o.r[3].level, 6);
    assert_string_equal(o.r[3].text, "no time");
    assert_false(o.r[3].has_mono);
    assert_int_equal(o.r[4].level, 6);
    assert_string_equal(o.r[4].text, "no time either");
    /* not a level name: plain text */
    assert_int_equal(o.r[5].level, -1);
    assert_string_equal(o.r[5].text, "kern : foo");
}

static void test_dmesg_wall(void **state)
{
    (void)state;
    struct out o;
    read_str("[Sun Dec  6 15:00:01 2026] AMD-Vi: Event logged\n"
             "[Mon Dec 14 09:10:11 2026] pci 0000:00:00.0: x\n",
             &o, NULL);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.r[0].form, KLOG_FORM_DMESG_WALL);
    assert_true(o.r[0].has_wall);
    assert_false(o.r[0].has_mono);
    assert_string_equal(o.r[0].wall, "Sun Dec  6 15:00:01 2026");
    assert_string_equal(o.r[0].text, "AMD-Vi: Event logged");
    assert_string_equal(o.r[1].wall, "Mon Dec 14 09:10:11 2026");
    assert_string_equal(o.r[1].text, "pci 0000:00:00.0: x");
}

static void test_journal(void **state)
{
    (void)state;
    struct out o;
    struct klog_stats st;
    read_str("Dec 06 15:00:01 ecp5box kernel: AMD-Vi: Event logged [IO_PAGE_FAULT]\n"
             "Dec 06 15:00:01.123456 ecp5box kernel: precise\n"
             "[   49.001605] ecp5box kernel: monotonic\n"
             "-- Boot 3f1c0a0e2b8d4c5e9a7b6c5d4e3f2a1b --\n"
             "Dec 16 15:00:01 ecp5box systemd[1]: Started foo.\n",
             &o, &st);
    assert_int_equal(o.n, 4);
    assert_int_equal(o.r[0].form, KLOG_FORM_JOURNAL);
    assert_string_equal(o.r[0].host, "ecp5box");
    assert_string_equal(o.r[0].wall, "Dec 06 15:00:01");
    assert_string_equal(o.r[0].text, "AMD-Vi: Event logged [IO_PAGE_FAULT]");
    assert_false(o.r[0].has_mono);
    assert_string_equal(o.r[1].wall, "Dec 06 15:00:01.123456");
    assert_string_equal(o.r[1].text, "precise");
    assert_int_equal(o.r[2].form, KLOG_FORM_JOURNAL);
    assert_true(o.r[2].has_mono);
    assert_int_equal(o.r[2].mono_ns, 49001605000ll);
    assert_string_equal(o.r[2].host, "ecp5box");
    assert_string_equal(o.r[2].text, "monotonic");
    /* the boot marker is no record; another identifier keeps its tag */
    assert_int_equal(o.r[3].line, 5);
    assert_string_equal(o.r[3].text, "systemd[1]: Started foo.");
    assert_int_equal(o.r[3].form, KLOG_FORM_JOURNAL);
    assert_int_equal(st.lines, 5);
}

static void test_syslog(void **state)
{
    (void)state;
    struct out o;
    read_str("Dec  6 15:00:01 ecp5box kernel: [   49.001605] AMD-Vi: Event logged\n"
             "Dec  6 15:00:02 ecp5box kernel: no inner time\n"
             "Dec 16 15:00:03 ecp5box kernel: two-digit day\n"
             "<4>Dec 16 15:00:04 ecp5box kernel: [    1.5] with pri\n",
             &o, NULL);
    assert_int_equal(o.n, 4);
    assert_int_equal(o.r[0].form, KLOG_FORM_SYSLOG);
    assert_string_equal(o.r[0].wall, "Dec  6 15:00:01");
    assert_string_equal(o.r[0].host, "ecp5box");
    assert_true(o.r[0].has_mono);
    assert_int_equal(o.r[0].mono_ns, 49001605000ll);
    assert_string_equal(o.r[0].text, "AMD-Vi: Event logged");
    assert_int_equal(o.r[1].form, KLOG_FORM_SYSLOG);
    assert_false(o.r[1].has_mono);
    assert_string_equal(o.r[1].text, "no inner time");
    /* a two-digit day is ambiguous: the log's form decides */
    assert_int_equal(o.r[2].form, KLOG_FORM_SYSLOG);
    assert_int_equal(o.r[3].level, 4);
    assert_int_equal(o.r[3].mono_ns, 1500000000ll);
    assert_string_equal(o.r[3].text, "with pri");

    read_str("Dec 16 15:00:03 h kernel: x\n", &o, NULL);
    assert_int_equal(o.r[0].form, KLOG_FORM_JOURNAL);
}

/* Posters' cuts of syslog lines: the date and host gone, "kernel: " and the
 * inner time kept (pcengines/apu2-documentation#240); the host name blanked,
 * its spaces kept (gnif/vendor-reset#81). */
static void test_syslog_cut(void **state)
{
    (void)state;
    struct out o;
    read_str("kernel: [   13.134460] AMD-Vi: Event logged [\n"
             "kernel: [   13.137925] INVALID_DEVICE_REQUEST device=00:00.1]\n"
             "\n"
             "kernel: not a time\n",
             &o, NULL);
    assert_int_equal(o.n, 3);
    assert_int_equal(o.r[0].form, KLOG_FORM_SYSLOG);
    assert_true(o.r[0].has_mono);
    assert_int_equal(o.r[0].mono_ns, 13134460000ll);
    assert_string_equal(o.r[0].text, "AMD-Vi: Event logged [");
    assert_int_equal(o.r[1].mono_ns, 13137925000ll);
    assert_string_equal(o.r[1].text, "INVALID_DEVICE_REQUEST device=00:00.1]");
    /* without the time it may be any text: kept whole */
    assert_false(o.r[2].has_mono);
    assert_string_equal(o.r[2].text, "kernel: not a time");

    read_str("Jun 15 11:58:56   kernel: iommu ivhd0: AMD-Vi: Event logged\n", &o, NULL);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.r[0].text, "iommu ivhd0: AMD-Vi: Event logged");
    assert_string_equal(o.r[0].host, "");
    assert_string_equal(o.r[0].wall, "Jun 15 11:58:56");
    assert_int_equal(o.r[0].form, KLOG_FORM_JOURNAL);
}

static void test_iso(void **state)
{
    (void)state;
    struct out o;
    read_str("2026-12-06T15:00:01.123456+00:00 ecp5box kernel: AMD-Vi: x\n"
             "2026-12-06T15:00:01+0000 ecp5box kernel: short-iso\n"
             "2026-12-06T15:00:01.123456+01:00 ecp5box kernel: [   49.001605] inner\n"
             "2026-12-06T15:00:01,123456+00:00 pci 0000:00:00.0: dmesg iso\n"
             "2026-12-06T15:00:01Z h kernel: zulu\n",
             &o, NULL);
    assert_int_equal(o.n, 5);
    assert_int_equal(o.r[0].form, KLOG_FORM_ISO);
    assert_string_equal(o.r[0].wall, "2026-12-06T15:00:01.123456+00:00");
    assert_string_equal(o.r[0].host, "ecp5box");
    assert_string_equal(o.r[0].text, "AMD-Vi: x");
    assert_string_equal(o.r[1].wall, "2026-12-06T15:00:01+0000");
    assert_string_equal(o.r[1].text, "short-iso");
    assert_true(o.r[2].has_mono);
    assert_int_equal(o.r[2].mono_ns, 49001605000ll);
    assert_string_equal(o.r[2].text, "inner");
    /* the comma is dmesg's: no host, the text is all of it */
    assert_int_equal(o.r[3].form, KLOG_FORM_DMESG_WALL);
    assert_string_equal(o.r[3].host, "");
    assert_string_equal(o.r[3].text, "pci 0000:00:00.0: dmesg iso");
    assert_string_equal(o.r[4].wall, "2026-12-06T15:00:01Z");
    assert_string_equal(o.r[4].text, "zulu");
}

static void test_plain(void **state)
{
    (void)state;
    struct out o;
    struct klog_stats st;
    read_str("AMD-Vi: Event logged [\n  IO_PAGE_FAULT device=00:00.0\n[Firmware Bug]: x\n",
             &o, &st);
    /* no prefixed line: nothing is joined (kmsg's business) */
    assert_int_equal(o.n, 3);
    assert_int_equal(o.r[0].form, KLOG_FORM_PLAIN);
    assert_false(o.r[0].has_mono);
    assert_string_equal(o.r[1].text, "IO_PAGE_FAULT device=00:00.0");
    assert_string_equal(o.r[2].text, "[Firmware Bug]: x");
    assert_int_equal(st.joined, 0);
}

static void test_more_forms(void **state)
{
    (void)state;
    struct out o;
    struct klog_stats st;
    /* cat /dev/kmsg: faclev,seq,usec,flag;text and its dictionary lines */
    read_str("3,1234,49001605,-;AMD-Vi: Event logged [\n"
             " SUBSYSTEM=pci\n"
             " DEVICE=+pci:0000:00:00.0\n"
             "6,1235,49001700,c,caller=T1;next\n",
             &o, &st);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.r[0].form, KLOG_FORM_DMESG);
    assert_int_equal(o.r[0].level, 3);
    assert_int_equal(o.r[0].mono_ns, 49001605000ll);
    assert_string_equal(o.r[0].text, "AMD-Vi: Event logged [");
    assert_int_equal(o.r[0].line_last, 1);
    assert_string_equal(o.r[1].text, "next");
    assert_int_equal(o.r[1].line, 4);
    assert_int_equal(st.joined, 0);

    /* CONFIG_PRINTK_CALLER: the kernel's "[time][  T123]" and dmesg's
     * "[time] [  T123] " */
    read_str("<4>[   49.001605][    T1] a\n[   49.001605] [  C12] b\n", &o, NULL);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.r[0].text, "a");
    assert_int_equal(o.r[0].level, 4);
    assert_string_equal(o.r[1].text, "b");
    assert_int_equal(o.r[1].mono_ns, 49001605000ll);

    /* dmesg -e (reltime) and -d (delta) */
    read_str("[Dec 6 15:00] first\n[  +0.000123] second\n[ +12.000000] third\n"
             "[<    0.000123>] delta\n[   49.001605 <    0.000123>] both\n"
             "[Dec16 15:01] day\n",
             &o, &st);
    assert_int_equal(o.n, 6);
    assert_int_equal(o.r[0].form, KLOG_FORM_DMESG_WALL);
    assert_string_equal(o.r[0].wall, "Dec 6 15:00");
    assert_string_equal(o.r[0].text, "first");
    assert_string_equal(o.r[1].text, "second");
    assert_false(o.r[1].has_mono);
    assert_string_equal(o.r[2].text, "third");
    assert_string_equal(o.r[3].text, "delta");
    assert_string_equal(o.r[4].text, "both");
    assert_int_equal(o.r[4].mono_ns, 49001605000ll);
    assert_string_equal(o.r[5].wall, "Dec16 15:01");
    assert_int_equal(st.joined, 0);

    /* journalctl short-unix, short-full, short-delta, --no-hostname */
    read_str("1796569201.123456 box kernel: unix\n"
             "Sun 2026-12-06 15:00:01 UTC box kernel: full\n"
             "[   49.001605 <    0.000123 >] box kernel: delta\n"
             "Dec 06 15:00:01 kernel: nohost\n"
             "[   49.001605] kernel: nohost mono\n",
             &o, NULL);
    assert_int_equal(o.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(o.r[i].form, KLOG_FORM_JOURNAL);
    assert_string_equal(o.r[0].wall, "1796569201.123456");
    assert_string_equal(o.r[0].text, "unix");
    assert_string_equal(o.r[1].wall, "Sun 2026-12-06 15:00:01 UTC");
    assert_string_equal(o.r[1].host, "box");
    assert_string_equal(o.r[1].text, "full");
    assert_int_equal(o.r[2].mono_ns, 49001605000ll);
    assert_string_equal(o.r[2].text, "delta");
    assert_string_equal(o.r[3].host, "");
    assert_string_equal(o.r[3].text, "nohost");
    assert_string_equal(o.r[4].text, "nohost mono");
    assert_true(o.r[4].has_mono);

    /* a kernel message that merely looks like "word word:" stays whole */
    read_str("[    1.000000] pci 0000:00:00.0: [1022:1576] type 00 class 0x060000\n", &o, NULL);
    assert_int_equal(o.r[0].form, KLOG_FORM_DMESG);
    assert_string_equal(o.r[0].host, "");
    assert_string_equal(o.r[0].text, "pci 0000:00:00.0: [1022:1576] type 00 class 0x060000");
}

/* ---- mail damage -------------------------------------------------------- */

static void test_seed_fragment(void **state)
{
    (void)state;
    /* /work/shared/seed/iommu-page-faults-ecp5.txt, as pasted */
    const char *seed = "[   49.001605] IO_PAGE_FAULT device=00:00.0 domain=0x0000 \n"
                       "address=0x00000000ffbf8000 flags=0x0070]\n";
    struct out o;
    struct klog_stats st;
    read_str(seed, &o, &st);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.r[0].text, "IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                                     "address=0x00000000ffbf8000 flags=0x0070]");
    assert_int_equal(o.r[0].line, 1);
    assert_int_equal(o.r[0].line_last, 2);
    assert_int_equal(o.r[0].mono_ns, 49001605000ll);
    assert_int_equal(st.joined, 1);

    /* inside the whole mail: prose around it, blank lines between */
    const char *mail = "zeros:\n\n"
                       "[   49.001605] IO_PAGE_FAULT device=00:00.0 domain=0x0000 \n"
                       "address=0x00000000ffbf8000 flags=0x0070]\n"
                       "\n"
                       "Where the device ID corresponds to the Host bridge, and the address \n"
                       "corresponds to the DMA handle I got from dma_alloc_coherent.\n";
    read_str(mail, &o, &st);
    assert_int_equal(o.n, 4);
    assert_string_equal(o.r[1].text, "IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                                     "address=0x00000000ffbf8000 flags=0x0070]");
    assert_int_equal(o.r[1].line, 3);
    assert_int_equal(o.r[1].line_last, 4);
    /* prose lines are plain, never joined */
    assert_int_equal(o.r[2].form, KLOG_FORM_PLAIN);
    assert_int_equal(o.r[2].line, 6);
    assert_int_equal(o.r[3].line, 7);
    assert_int_equal(st.joined, 1);

    /* the same, CRLF and quoted twice */
    const char *quoted = "> > [   49.001605] IO_PAGE_FAULT device=00:00.0 domain=0x0000 \r\n"
                         ">> address=0x00000000ffbf8000 flags=0x0070]\r\n";
    read_str(quoted, &o, &st);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.r[0].text, "IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                                     "address=0x00000000ffbf8000 flags=0x0070]");
    assert_int_equal(st.crlf, 2);
    assert_int_equal(st.quoted, 2);
}

static void test_join_evidence(void **state)
{
    (void)state;
    struct out o;
    struct klog_stats st;
    /* within a prefixed log, an unprefixed line continues the one before */
    read_str("[    1.000000] a\n[    2.000000] b\nshort\n[    3.000000] c\n", &o, &st);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.r[1].text, "b short");
    assert_int_equal(o.r[1].line_last, 3);
    assert_string_equal(o.r[2].text, "c");

    /* after prose and a blank line, a short log line followed by a short
     * prose line: no evidence of a wrap, two records */
    read_str("Hi,\n\n[    1.000000] done\nThanks, Patrick\n", &o, &st);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.r[1].text, "done");
    assert_string_equal(o.r[2].text, "Thanks, Patrick");
    assert_int_equal(st.joined, 0);

    /* ... but a long one the next word would not have fit after is */
    read_str("Hi,\n\n[    1.000000] AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0\n"
             "domain=0x0000 address=0x0 flags=0x0070]\n",
             &o, &st);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.r[1].text, "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 "
                                     "domain=0x0000 address=0x0 flags=0x0070]");

    /* a different quote depth is the reply, not the log */
    read_str("> [    1.000000] a\n> [    2.000000] b\nI see.\n", &o, &st);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.r[2].text, "I see.");

    /* a shell prompt is never a continuation */
    read_str("[    1.000000] a\n[    2.000000] b\n$ lspci -tv\nuser@box:~$ uname\n", &o, &st);
    assert_int_equal(o.n, 4);
    assert_string_equal(o.r[2].text, "$ lspci -tv");

    /* util-linux dmesg indents the further lines of a multi-line record */
    read_str("[    1.000000] first\n               second\n               third\n", &o,
             &st);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.r[0].text, "first second third");
    assert_int_equal(o.r[0].line_last, 3);
    assert_int_equal(st.joined, 2);

    /* a bounded number of pieces */
    char big[4096] = "[    1.000000] x\n";
    for (int i = 0; i < 40; i++)
        strcat(big, "y\n");
    read_str(big, &o, &st);
    assert_int_equal(o.n, 1 + (40 - 15 + 0));
    assert_int_equal(o.r[0].line_last, 16);
    assert_int_equal(st.joined, 15);
}

static void test_crlf_and_blanks(void **state)
{
    (void)state;
    struct out o;
    struct klog_stats st;
    read_str("[    1.000000] a \t\r\n\r\n   \n\t[    2.000000] b\r\n", &o, &st);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.r[0].text, "a");
    assert_string_equal(o.r[1].text, "b");
    assert_int_equal(o.r[1].line, 4);
    assert_int_equal(st.crlf, 3);
    assert_int_equal(st.lines, 4);
}

/* ---- junk and bounds ---------------------------------------------------- */

static void test_binary(void **state)
{
    (void)state;
    struct out o;
    struct klog_stats st;
    const char in[] = "[    1.000000] a\nELF\0\x01\x02garbage\n\x7f\x7f\n[    2.000000] b\n";
    read_all(in, sizeof in - 1, 0, &o, &st);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.r[0].text, "a");
    assert_string_equal(o.r[1].text, "b");
    assert_int_equal(o.r[1].line, 4);
    assert_int_equal(st.binary, 2);
    assert_int_equal(st.lines, 4);

    /* colour from dmesg --color=always is removed, not binary */
    read_str("\x1b[32m[    1.000000] \x1b[0m\x1b[33mAMD-Vi: \x1b[0mEvent\n", &o, &st);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.r[0].text, "AMD-Vi: Event");
    assert_int_equal(o.r[0].mono_ns, 1000000000ll);
    assert_int_equal(st.binary, 0);
}

static void test_utf8(void **state)
{
    (void)state;
    struct out o;
    struct klog_stats st;
    /* valid: é (c3 a9), € (e2 82 ac), 😀 (f0 9f 98 80); invalid: lone ff,
     * overlong c0 af, truncated e2 82, surrogate ed a0 80 */
    read_str("[    1.000000] caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n"
             "[    2.000000] a\xff" "b\xc0\xaf" "c\xe2\x82" "d\xed\xa0\x80" "e\n",
             &o, &st);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.r[0].text, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* maximal subparts: ff | c0 | af | e2 82 | ed | a0 | 80 */
    assert_string_equal(o.r[1].text, "a?b??c?d???e");
    assert_int_equal(st.bad_utf8, 7);
    assert_int_equal(st.binary, 0);

    /* a file saved with a byte order mark; no-break spaces from a web
     * archive inside the time */
    read_str("\xef\xbb\xbf[    1.000000] bom\n[\xc2\xa0\xc2\xa0 49.001605]\xc2\xa0nbsp\n", &o, &st);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.r[0].form, KLOG_FORM_DMESG);
    assert_string_equal(o.r[0].text, "bom");
    assert_int_equal(o.r[1].mono_ns, 49001605000ll);
    assert_string_equal(o.r[1].text, "nbsp");
    assert_int_equal(st.bad_utf8, 0);
}

static void test_too_long(void **state)
{
    (void)state;
    /* a 1 MB line between two records, fed in 1000-byte chunks, with a
     * 4 KiB limit: skipped, counted, memory stays near the limit */
    size_t n = 1u << 20;
    char *big = malloc(n + 64);
    assert_non_null(big);
    strcpy(big, "[    1.000000] a\n");
    size_t o0 = strlen(big);
    memset(big + o0, 'x', n);
    strcpy(big + o0 + n, "\n[    2.000000] b");
    size_t len = strlen(big);
    struct out o;
    memset(&o, 0, sizeof o);
    struct klog_reader *r = klog_reader_new(4096);
    assert_non_null(r);
    for (size_t i = 0; i < len; i += 1000)
        assert_int_equal(klog_feed(r, big + i, len - i < 1000 ? len - i : 1000, collect, &o), 0);
    assert_int_equal(klog_finish(r, collect, &o), 0);
    struct klog_stats st;
    klog_get_stats(r, &st);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.r[0].text, "a");
    assert_string_equal(o.r[1].text, "b"); /* no trailing newline */
    assert_int_equal(o.r[1].line, 3);
    assert_int_equal(st.too_long, 1);
    assert_int_equal(st.lines, 3);
    assert_int_equal(st.bytes, len);
    assert_true(klog_reader_mem_peak(r) <= 3 * (4096 + 1) + 1024);
    klog_reader_free(r);

    /* the same in one feed */
    read_all(big, len, 4096, &o, &st);
    assert_int_equal(o.n, 2);
    assert_int_equal(st.too_long, 1);
    free(big);

    /* exactly max_line is kept */
    char line[101];
    memset(line, 'z', 100);
    line[100] = '\n';
    read_all(line, 101, 100, &o, &st);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.r[0].len, 100);
    read_all(line, 101, 99, &o, &st);
    assert_int_equal(o.n, 0);
    assert_int_equal(st.too_long, 1);
}

static int count_only(void *ctx, const struct klog_rec *k)
{
    (void)k;
    (*(uint64_t *)ctx)++;
    return 0;
}

static void test_memory_independent_of_size(void **state)
{
    (void)state;
    /* the same kind of log, 100 KB and 10 MB, in odd chunks: the reader
     * holds the same memory */
    const char *lines[] = {
        "[   49.001605] AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
        "address=0x00000000ffbf8000 flags=0x0070]\n",
        "[   49.001606] IO_PAGE_FAULT device=00:00.0 domain=0x0000 \naddress=0x0 flags=0x0070]\n",
        "Dec  6 15:00:01 box kernel: [    1.000000] pci 0000:00:00.0: [1022:1576] type 00\r\n",
    };
    size_t peak[2];
    uint64_t recs[2];
    size_t sizes[2] = {100000, 10000000};
    char *buf = malloc(sizes[1] + 256);
    assert_non_null(buf);
    for (int k = 0; k < 2; k++) {
        size_t o = 0;
        for (unsigned i = 0; o < sizes[k]; i++) {
            size_t l = strlen(lines[i % 3]);
            memcpy(buf + o, lines[i % 3], l);
            o += l;
        }
        struct klog_reader *r = klog_reader_new(0);
        recs[k] = 0;
        for (size_t at = 0; at < o; at += 4093)
            klog_feed(r, buf + at, o - at < 4093 ? o - at : 4093, count_only, &recs[k]);
        klog_finish(r, count_only, &recs[k]);
        peak[k] = klog_reader_mem_peak(r);
        klog_reader_free(r);
    }
    free(buf);
    assert_true(recs[1] > 50 * recs[0]);
    assert_int_equal(peak[0], peak[1]);
    assert_true(peak[1] < 4096);
}

static void test_empty_and_no_newline(void **state)
{
    (void)state;
    struct out o;
    struct klog_stats st;
    read_all("", 0, 0, &o, &st);
    assert_int_equal(o.n, 0);
    assert_int_equal(st.lines, 0);
    assert_int_equal(st.records, 0);
    read_str("\n\n", &o, &st);
    assert_int_equal(o.n, 0);
    assert_int_equal(st.lines, 2);
    read_str("[    1.000000] last", &o, &st);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.r[0].text, "last");
    assert_int_equal(st.lines, 1);
    /* a held record and an unterminated continuation */
    read_str("[    1.000000] a\n[    2.000000] b\ncont", &o, &st);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.r[1].text, "b cont");
}

static void test_callback_stops(void **state)
{
    (void)state;
    struct out o;
    memset(&o, 0, sizeof o);
    o.stop_at = 2;
    struct klog_reader *r = klog_reader_new(0);
    const char *s = "a\nb\nc\n";
    assert_int_equal(klog_feed(r, s, strlen(s), collect, &o), 7);
    assert_int_equal(o.total, 2);
    klog_reader_free(r);
}

/* ---- chunking invariance --------------------------------------------- */

static const char *mixed =
    "[    0.000000] Linux version 4.9.80\r\n"
    "[   49.001605] IO_PAGE_FAULT device=00:00.0 domain=0x0000 \r\n"
    "address=0x00000000ffbf8000 flags=0x0070]\r\n"
    "\n"
    "> > Dec  6 15:00:01 h kernel: [   49.001605] AMD-Vi: Event logged [\n"
    "> > Dec  6 15:00:01 h kernel: [   49.001606] IO_PAGE_FAULT x\n"
    "\x1b[32mcolour\x1b[0m caf\xc3\xa9 bad\xff\n"
    "bin\x01ary\n"
    "2026-12-06T15:00:01.123456+00:00 h kernel: DMAR: [DMA Write] Request device [01:00.0]\n"
    "kern  :err   : [    2.000000] DMAR: y\n"
    "<4>[    3.000000] z\n"
    "[Sun Dec  6 15:00:01 2026] wall\n"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
    "Dec 06 15:00:01 h kernel: journal\n"
    "tail without newline";

static void feed_split(const char *s, size_t len, const size_t *cuts, size_t ncuts,
                       size_t max_line, struct out *o, struct klog_stats *st)
{
    memset(o, 0, sizeof *o);
    struct klog_reader *r = klog_reader_new(max_line);
    assert_non_null(r);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        assert_int_equal(klog_feed(r, s + at, end - at, collect, o), 0);
        at = end;
    }
    assert_int_equal(klog_finish(r, collect, o), 0);
    klog_get_stats(r, st);
    klog_reader_free(r);
}

static void same(const struct out *a, const struct klog_stats *sa, const struct out *b,
                 const struct klog_stats *sb)
{
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->hash, b->hash);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->r[i].text, b->r[i].text);
        assert_int_equal(a->r[i].line, b->r[i].line);
        assert_int_equal(a->r[i].line_last, b->r[i].line_last);
        assert_int_equal(a->r[i].form, b->r[i].form);
        assert_int_equal(a->r[i].mono_ns, b->r[i].mono_ns);
        assert_int_equal(a->r[i].level, b->r[i].level);
        assert_string_equal(a->r[i].wall, b->r[i].wall);
        assert_string_equal(a->r[i].host, b->r[i].host);
    }
    assert_memory_equal(sa, sb, sizeof *sa);
}

static void test_chunking(void **state)
{
    (void)state;
    size_t len = strlen(mixed);
    struct out whole, part;
    struct klog_stats sw, sp;
    /* max_line 100: the x line (162) is too long, so the limit is crossed at
     * every possible split too */
    feed_split(mixed, len, NULL, 0, 100, &whole, &sw);
    assert_true(whole.n >= 10);
    assert_int_equal(sw.too_long, 1);
    assert_int_equal(sw.binary, 1);
    assert_int_equal(sw.joined, 1);
    /* every single split point */
    for (size_t c = 0; c <= len; c++) {
        feed_split(mixed, len, &c, 1, 100, &part, &sp);
        same(&whole, &sw, &part, &sp);
    }
    /* one byte at a time */
    size_t *cuts = malloc(len * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t i = 0; i < len; i++)
        cuts[i] = i;
    feed_split(mixed, len, cuts, len, 100, &part, &sp);
    same(&whole, &sw, &part, &sp);
    /* random splits (fixed seed: the test is reproducible) */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 2000; round++) {
        size_t n = 0;
        for (size_t i = 1; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (x % 7 == 0)
                cuts[n++] = i;
        }
        feed_split(mixed, len, cuts, n, 100, &part, &sp);
        same(&whole, &sw, &part, &sp);
    }
    free(cuts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dmesg),
        cmocka_unit_test(test_dmesg_levels),
        cmocka_unit_test(test_dmesg_wall),
        cmocka_unit_test(test_journal),
        cmocka_unit_test(test_syslog),
        cmocka_unit_test(test_syslog_cut),
        cmocka_unit_test(test_iso),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_more_forms),
        cmocka_unit_test(test_seed_fragment),
        cmocka_unit_test(test_join_evidence),
        cmocka_unit_test(test_crlf_and_blanks),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_memory_independent_of_size),
        cmocka_unit_test(test_empty_and_no_newline),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_chunking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
