/* Reading a kernel log the way users paste it (pcilab explain, issue 6).
 *
 * Input: full `dmesg` (with or without `[    49.001605]` times, `dmesg -T`
 * wall times, `dmesg -x`/`-r` `<4>` or `kern  :warn  :` level prefixes),
 * `journalctl -k` (`Dec 06 15:00:01 host kernel: ...`, `-o short-iso`,
 * `short-monotonic` `[   49.001605] host kernel: ...`), syslog files
 * (RFC 3164 `Dec  6 15:00:01 host kernel: [   49.001605] ...`, RFC 5424 /
 * rsyslog ISO `2026-12-06T15:00:01.123456+00:00 host kernel: ...`), and pasted
 * fragments with mail damage: CRLF, `>`/`> >` quoting, lines wrapped in the
 * middle of a message (the seed's `... domain=0x0000 ` / `address=...]`).
 *
 * The reader is a push parser: feed it any chunks of bytes, it calls back
 * once per logical record, in input order. Memory is bounded by max_line
 * (a longer physical line is skipped and counted, never buffered whole), so
 * a 100 MB log streams in constant memory. Bytes that are not text (NUL,
 * most C0 controls) make a line "binary" (skipped, counted); invalid UTF-8
 * sequences are counted and the line is kept with them replaced by '?'.
 *
 * Wrapped lines are joined when the evidence is strong: a line with no time
 * or syslog prefix that follows a prefixed one in a log whose lines are
 * prefixed is a continuation (joined with one space, the pieces' line
 * numbers kept). Precisely (docs/explain-input.md): same quote depth, not a
 * shell prompt, at most 16 pieces, and either the record began among
 * prefixed lines (or at the start of the input) or the line before shows a
 * wrap (it ended in a blank, or the next word would not have fit in 72
 * columns). Joins the text alone can justify (two unprefixed lines of a
 * known message split in two) are kmsg.h's business (KMSG_PARTIAL).
 */
#ifndef PCILAB_DIAG_KLOG_H
#define PCILAB_DIAG_KLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"

/* Which outer format the line had (the first recognised one sets the log's). */
enum klog_form {
    KLOG_FORM_PLAIN,      /* no prefix at all */
    KLOG_FORM_DMESG,      /* [    49.001605] text */
    KLOG_FORM_DMESG_WALL, /* [Sun Dec  6 15:00:01 2026] text (dmesg -T) */
    KLOG_FORM_JOURNAL,    /* Dec 06 15:00:01 host kernel: text (journalctl -k) */
    KLOG_FORM_SYSLOG,     /* Dec  6 15:00:01 host kernel: [   49.001605] text */
    KLOG_FORM_ISO,        /* 2026-12-06T15:00:01.123456+00:00 host kernel: text */
};
const char *klog_form_name(enum klog_form f);

/* One logical record: a kernel message, prefixes removed. */
struct klog_rec {
    const char *text;     /* the message (no prefix, no trailing CR/LF/blanks);
                             valid only during the callback; not NUL-terminated
                             beyond len (text[len] is '\0' though) */
    size_t len;
    uint64_t line;        /* 1-based physical line of its first piece */
    uint64_t line_last;   /* of its last piece (> line when joined) */
    enum klog_form form;
    bool has_mono;        /* a monotonic time [seconds.micro] was present */
    int64_t mono_ns;      /* that time, ns since boot */
    bool has_wall;        /* a wall-clock time was present */
    char wall[40];        /* as written, e.g. "Dec 06 15:00:01" or ISO */
    char host[64];        /* syslog/journal host name, "" when none */
    int level;            /* 0..7 when a level prefix said so, else -1 */
};

struct klog_stats {
    uint64_t bytes, lines, records;
    uint64_t joined;        /* continuation lines joined to their record */
    uint64_t binary;        /* lines skipped as binary junk */
    uint64_t too_long;      /* lines skipped for exceeding max_line */
    uint64_t bad_utf8;      /* invalid UTF-8 sequences replaced */
    uint64_t quoted;        /* lines that had mail quoting removed */
    uint64_t crlf;          /* lines that ended in CR LF */
};

/* Return 0 to go on, anything else stops the reader (klog_feed returns it). */
typedef int (*klog_rec_fn)(void *ctx, const struct klog_rec *rec);

struct klog_reader;

/* max_line: the longest physical line kept (0: 64 KiB). NULL when out of
 * memory. */
struct klog_reader *klog_reader_new(size_t max_line);
void klog_reader_free(struct klog_reader *r);

/* Any number of bytes, any chunking: the records are the same. Returns 0,
 * or the callback's non-zero value (the reader then stops where it was; the
 * line being read is not delivered). */
int klog_feed(struct klog_reader *r, const void *buf, size_t len, klog_rec_fn fn, void *ctx);
/* End of input: flushes the last line and any record held for joining. */
int klog_finish(struct klog_reader *r, klog_rec_fn fn, void *ctx);

void klog_get_stats(const struct klog_reader *r, struct klog_stats *out);
/* The most memory the reader has held at once (its own structure and line
 * buffers, bytes): it depends on the longest line seen (at most about
 * 3 * max_line), never on the size of the log. */
size_t klog_reader_mem_peak(const struct klog_reader *r);

#endif
