/* The kernel-log ring, modelled on Linux printk (kernel/printk/printk.c).
 *
 * Messages carry their level inside the format string, as in Linux: a two-byte
 * prefix KERN_SOH followed by '0'..'7' (level), 'd' (default level) or 'c'
 * (continuation), from include/linux/kern_levels.h. Records are kept in a byte
 * ring of log_buf_len bytes laid out like Linux 4.x's log_buf (a 16-byte header
 * plus the text, 8-byte aligned); when it is full the oldest records are dropped
 * and counted.
 *
 * Continuation (a message that does not end in '\n' leaves its record open):
 *  - SIM_LOG_CONT_IMPLICIT, Linux before 4.9: any following message without an
 *    explicit level ('0'..'7' or 'd') continues the open record; a message with
 *    a level closes it and starts a new record.
 *  - SIM_LOG_CONT_BUFFERED (Linux 4.9 .. 5.9) and SIM_LOG_CONT_EXPLICIT (5.10 and
 *    later), after commit 4bcc595ccd80 ("printk: reinstate KERN_CONT for printing
 *    continuation lines", 4.9): only a KERN_CONT message continues; any other
 *    message closes the open record, which stays a line of its own. The two
 *    differ in corner cases listed with the enum.
 * See log.c for what was read in each kernel version. The simulation has one
 * caller context, so Linux's "same task" condition always holds. */
#ifndef PCILAB_SIM_LOG_H
#define PCILAB_SIM_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/err.h"
#include "sim/time.h"

/* include/linux/kern_levels.h. Guarded so that pcilab's <linux/...> headers for
 * drivers may define the same macros. */
#ifndef KERN_SOH
#define KERN_SOH       "\001"
#endif
#ifndef KERN_SOH_ASCII
#define KERN_SOH_ASCII '\001'
#endif
#ifndef KERN_EMERG
#define KERN_EMERG     KERN_SOH "0" /* system is unusable */
#endif
#ifndef KERN_ALERT
#define KERN_ALERT     KERN_SOH "1" /* action must be taken immediately */
#endif
#ifndef KERN_CRIT
#define KERN_CRIT      KERN_SOH "2" /* critical conditions */
#endif
#ifndef KERN_ERR
#define KERN_ERR       KERN_SOH "3" /* error conditions */
#endif
#ifndef KERN_WARNING
#define KERN_WARNING   KERN_SOH "4" /* warning conditions */
#endif
#ifndef KERN_NOTICE
#define KERN_NOTICE    KERN_SOH "5" /* normal but significant condition */
#endif
#ifndef KERN_INFO
#define KERN_INFO      KERN_SOH "6" /* informational */
#endif
#ifndef KERN_DEBUG
#define KERN_DEBUG     KERN_SOH "7" /* debug-level messages */
#endif
#ifndef KERN_DEFAULT
#define KERN_DEFAULT   KERN_SOH "d" /* the default kernel loglevel */
#endif
#ifndef KERN_CONT
#define KERN_CONT      KERN_SOH "c" /* continues the previous line */
#endif

enum sim_log_level {
    SIM_LOG_EMERG = 0,
    SIM_LOG_ALERT,
    SIM_LOG_CRIT,
    SIM_LOG_ERR,
    SIM_LOG_WARNING,
    SIM_LOG_NOTICE,
    SIM_LOG_INFO,
    SIM_LOG_DEBUG,
};

/* syslog facilities as the kernel stores them: 0 for printk, 1 (LOG_USER) for
 * lines written to /dev/kmsg. */
#define SIM_LOG_FAC_KERN 0
#define SIM_LOG_FAC_USER 1

enum sim_log_cont_mode {
    SIM_LOG_CONT_EXPLICIT = 0, /* Linux >= 5.10 (lockless ringbuffer): only KERN_CONT
                                  continues; an unmerged message always makes a
                                  record, even an empty one */
    SIM_LOG_CONT_BUFFERED,     /* Linux 4.9 .. 5.9 (cont buffer): only KERN_CONT
                                  continues; empty fragments that cannot be merged
                                  are dropped; a line past 80% of LOG_LINE_MAX is
                                  closed */
    SIM_LOG_CONT_IMPLICIT,     /* Linux < 4.9: a message without a level continues;
                                  only the first KERN_* prefix is parsed */
};

/* Defaults: CONFIG_LOG_BUF_SHIFT=17 and CONFIG_MESSAGE_LOGLEVEL_DEFAULT=4. */
#define SIM_LOG_DEFAULT_BUF_LEN ((size_t)1 << 17)
#define SIM_LOG_DEFAULT_LEVEL   SIM_LOG_WARNING
/* LOG_LINE_MAX (1024 - PREFIX_MAX 32): the longest text of one record. */
#define SIM_LOG_LINE_MAX 992

struct sim_log_config {
    size_t buf_len;          /* log_buf_len in bytes; 0 means the default */
    int default_level;       /* default_message_loglevel, 0..7; -1 means the default */
    enum sim_log_cont_mode cont;
};

/* One record, as read back. text is NUL-terminated (len excludes the NUL) and
 * valid until the next call that writes to the log. */
struct sim_log_rec {
    uint64_t seq;       /* 0 for the first record ever stored; gaps mean drops */
    sim_time_t ts;      /* time of the record's first fragment */
    int level;          /* 0..7 */
    int facility;
    bool open;          /* did not end in '\n' yet: may still be continued */
    size_t len;
    const char *text;   /* without the trailing newline; may hold inner '\n' */
};

struct sim_log;

/* cfg may be NULL (defaults). NULL with err filled on a bad config or no memory. */
struct sim_log *sim_log_create(const struct sim_log_config *cfg, struct pcilab_err *err);
void sim_log_destroy(struct sim_log *log);

/* Changes the configuration (a host kernel of a given version calls this at
 * boot). Records that fit in the new size are kept, newest first. */
int sim_log_configure(struct sim_log *log, const struct sim_log_config *cfg,
                      struct pcilab_err *err);
const struct sim_log_config *sim_log_config(const struct sim_log *log);

/* printk: fmt is printf-like and may start with KERN_* prefixes. Returns the
 * number of text bytes stored (after the prefix is stripped and truncation to
 * SIM_LOG_LINE_MAX). */
int sim_log_printk(struct sim_log *log, sim_time_t now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sim_log_vprintk(struct sim_log *log, sim_time_t now, const char *fmt, va_list ap);
/* Stores one complete record as is (no prefix parsing, no continuation), like a
 * write to /dev/kmsg with "<N>". Returns the stored length. */
int sim_log_store(struct sim_log *log, sim_time_t now, int facility, int level,
                  const char *text, size_t len);

/* Records retained, oldest first: index 0 .. count-1. */
size_t sim_log_count(const struct sim_log *log);
bool sim_log_get(const struct sim_log *log, size_t index, struct sim_log_rec *out);
/* Records dropped because the ring was full, since creation. */
uint64_t sim_log_dropped(const struct sim_log *log);
/* Sequence number the next new record will get. */
uint64_t sim_log_next_seq(const struct sim_log *log);
/* Empties the ring (dmesg -C); sequence numbers continue. */
void sim_log_clear(struct sim_log *log);

/* A sink sees every record once, when it is complete: stored with its ending
 * '\n', or closed by a later message (a record left open can still be
 * continued, so it is not complete yet). Records arrive in sequence order, so
 * a sink that is set on a log with records already stored sees the ones that
 * complete from then on (an open newest record among them); records open when
 * the caller stops listening were never sent. The sink runs inside printk and
 * must not write to this log. rec is valid only during the call. NULL fn
 * removes it. Like dmesg -w, a sink sees records the ring drops later. */
typedef void (*sim_log_sink_fn)(void *ctx, const struct sim_log_rec *rec);
void sim_log_set_sink(struct sim_log *log, sim_log_sink_fn fn, void *ctx);

/* Output forms, as dmesg prints them. */
enum {
    SIM_LOG_FMT_RAW    = 1u << 0, /* "<6>[    1.000000] text", as dmesg -r */
    SIM_LOG_FMT_NOTIME = 1u << 1, /* no "[...] " timestamp, as dmesg -t */
};

/* One record as Linux prints it: "[%5lu.%06lu] text\n" (seconds and
 * microseconds of ts); every line of a multi-line record gets the prefix.
 * Works like snprintf: returns the full length, writes at most len-1 bytes. */
size_t sim_log_format(const struct sim_log_rec *rec, char *buf, size_t len);
size_t sim_log_format_flags(const struct sim_log_rec *rec, unsigned flags, char *buf,
                            size_t len);
/* Every retained record, like dmesg. 0 or -PCILAB_EIO. */
int sim_log_dump(const struct sim_log *log, FILE *f, unsigned flags);
/* The retained records whose sequence number is from_seq or later. */
int sim_log_dump_from(const struct sim_log *log, uint64_t from_seq, FILE *f, unsigned flags);
/* One record as sim_log_dump prints it. 0 or -PCILAB_EIO. */
int sim_log_write(const struct sim_log_rec *rec, FILE *f, unsigned flags);

#endif
