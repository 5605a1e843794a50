/* Kernel-log ring modelled on Linux printk. What was read, for the facts only
 * (kernel/printk/printk.c; no code taken):
 *
 *  4.4  vprintk_emit(): the trailing '\n' is stripped first (LOG_NEWLINE), then ONE
 *       prefix is parsed by printk_get_level(); '0'..'7' and 'd' set LOG_PREFIX,
 *       'c' is only skipped. A fragment without LOG_NEWLINE flushes the cont
 *       buffer when it has LOG_PREFIX ("An earlier newline was missing"), then is
 *       added to it by cont_add(); a line with LOG_NEWLINE is merged into the cont
 *       buffer when it has no LOG_PREFIX, else the buffer is flushed and the line
 *       stored alone. cont_add() keeps the level, facility and timestamp of the
 *       first fragment, refuses a fragment that would overflow cont.buf
 *       (LOG_LINE_MAX) and flushes once the line passes 80% of it.
 *  4.9  (commit 4bcc595ccd80 "printk: reinstate KERN_CONT for printing continuation
 *       lines") vprintk_emit() loops over all prefixes, 'c' sets LOG_CONT;
 *       log_output(): an open cont buffer takes the fragment only with LOG_CONT,
 *       otherwise it is flushed; "Skip empty continuation lines that couldn't be
 *       added - they just flush"; a fragment without '\n' opens a new cont buffer.
 *  5.15, 6.1  vprintk_store() with the lockless ringbuffer: printk_parse_prefix()
 *       loops over the prefixes, the first digit wins; with LOG_CONT,
 *       prb_reserve_in_last(..., LOG_LINE_MAX) extends the last record if it is
 *       not finalized (no '\n' yet, same caller); otherwise a new record is always
 *       reserved, even for empty text, and a record without LOG_NEWLINE stays open.
 *       truncate_msg() cuts a message that does not fit an empty buffer to a
 *       quarter of it and appends "<truncated>".
 *  Output: print_time()/print_syslog() (4.x msg_print_text, 5.x record_print_text)
 *       print "<%u>" (syslog, facility << 3 | level) and "[%5lu.%06lu] " before
 *       EVERY line of a record that holds '\n'.
 *
 * The ring layout follows 4.x log_buf: a 16-byte header (timestamp, total length,
 * text length, facility, level) then the text, each record 8-byte aligned; we
 * also store a NUL after the text. An index of record offsets (oldest first)
 * makes lookup by index O(1). */
#include "sim/log.h"

#include <stdlib.h>
#include <string.h>

#define HDR_SIZE   16
#define ALIGN      8
#define MIN_BUF    256
#define MAX_BUF    ((size_t)1 << 30)
#define TRUNC_MSG  "<truncated>"
#define CONT_FLUSH_PCT 80

struct rec_hdr {
    uint64_t ts;
    uint16_t len;       /* whole record including header and padding */
    uint16_t text_len;
    uint8_t facility;
    uint8_t level;      /* bits 0..2 level, bit 7 open */
    uint8_t pad[2];
};
_Static_assert(sizeof(struct rec_hdr) == HDR_SIZE, "record header is 16 bytes like printk_log");

#define LEVEL_OPEN 0x80u

struct sim_log {
    struct sim_log_config cfg;
    unsigned char *buf;
    size_t size;
    size_t first_off, next_off;
    /* Offsets of retained records, a circular array, oldest at head. */
    uint32_t *offs;
    size_t offs_cap, head, count;
    uint64_t first_seq, dropped;
    bool open;          /* the newest record may still be continued */
    sim_log_sink_fn sink;
    void *sink_ctx;
    char line[SIM_LOG_LINE_MAX];
    char merged[SIM_LOG_LINE_MAX + 1];
};

static size_t rec_size(size_t text_len)
{
    return (HDR_SIZE + text_len + 1 + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static struct rec_hdr *hdr_at(const struct sim_log *log, size_t off)
{
    return (struct rec_hdr *)(void *)(log->buf + off);
}

static size_t off_index(const struct sim_log *log, size_t i)
{
    return log->offs[(log->head + i) % log->offs_cap];
}

static int check_config(const struct sim_log_config *in, struct sim_log_config *out,
                        struct pcilab_err *err)
{
    struct sim_log_config c = {SIM_LOG_DEFAULT_BUF_LEN, SIM_LOG_DEFAULT_LEVEL,
                               SIM_LOG_CONT_EXPLICIT};
    if (in) {
        if (in->buf_len)
            c.buf_len = in->buf_len;
        if (in->default_level >= 0)
            c.default_level = in->default_level;
        c.cont = in->cont;
    }
    if (c.buf_len < MIN_BUF || c.buf_len > MAX_BUF)
        return pcilab_errf(err, PCILAB_EINVAL, "log_buf_len %zu out of range (%d .. %zu bytes)",
                           c.buf_len, MIN_BUF, MAX_BUF);
    if (c.default_level > SIM_LOG_DEBUG)
        return pcilab_errf(err, PCILAB_EINVAL, "default message level %d out of range (0 .. 7)",
                           c.default_level);
    if (c.cont != SIM_LOG_CONT_EXPLICIT && c.cont != SIM_LOG_CONT_BUFFERED &&
        c.cont != SIM_LOG_CONT_IMPLICIT)
        return pcilab_errf(err, PCILAB_EINVAL, "unknown continuation mode %d", (int)c.cont);
    *out = c;
    return 0;
}

static void reset_ring(struct sim_log *log)
{
    log->first_off = log->next_off = 0;
    log->head = log->count = 0;
    log->open = false;
}

static int alloc_ring(struct sim_log *log, size_t size)
{
    unsigned char *buf = malloc(size);
    /* The smallest record is HDR_SIZE + 8 bytes. */
    size_t cap = size / (HDR_SIZE + ALIGN) + 1;
    uint32_t *offs = malloc(cap * sizeof *offs);
    if (!buf || !offs) {
        free(buf);
        free(offs);
        return -PCILAB_ENOMEM;
    }
    free(log->buf);
    free(log->offs);
    log->buf = buf;
    log->size = size;
    log->offs = offs;
    log->offs_cap = cap;
    reset_ring(log);
    return 0;
}

struct sim_log *sim_log_create(const struct sim_log_config *cfg, struct pcilab_err *err)
{
    struct sim_log_config c;
    if (check_config(cfg, &c, err) < 0)
        return NULL;
    struct sim_log *log = calloc(1, sizeof *log);
    if (!log || alloc_ring(log, c.buf_len) < 0) {
        free(log);
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for a %zu-byte log buffer", c.buf_len);
        return NULL;
    }
    log->cfg = c;
    return log;
}

void sim_log_destroy(struct sim_log *log)
{
    if (!log)
        return;
    free(log->buf);
    free(log->offs);
    free(log);
}

const struct sim_log_config *sim_log_config(const struct sim_log *log)
{
    return &log->cfg;
}

static void drop_oldest(struct sim_log *log)
{
    log->head = (log->head + 1) % log->offs_cap;
    log->count--;
    log->first_seq++;
    log->dropped++;
    if (log->count == 0) {
        log->first_off = log->next_off = 0;
        log->head = 0;
        log->open = false;
    } else {
        log->first_off = off_index(log, 0);
    }
}

/* Finds room for sz bytes, dropping the oldest records as needed; sz <= size. */
static size_t make_room(struct sim_log *log, size_t sz)
{
    for (;;) {
        if (log->count == 0) {
            log->first_off = log->next_off = 0;
            return 0;
        }
        size_t first = log->first_off, next = log->next_off;
        if (next > first) {
            /* Live data is [first, next): room after it, or at the start. */
            if (sz <= log->size - next)
                return next;
            if (sz <= first)
                return 0;
        } else if (next < first && sz <= first - next) {
            /* Wrapped: the only free space is [next, first). */
            return next;
        }
        drop_oldest(log);
    }
}

/* The newest record is complete: the sink sees it. */
static void emit_newest(struct sim_log *log)
{
    struct sim_log_rec rec;
    if (sim_log_get(log, log->count - 1, &rec))
        log->sink(log->sink_ctx, &rec);
}

/* Appends a record; text_len must already fit the ring. */
static void append_rec(struct sim_log *log, sim_time_t ts, int facility, int level, bool open,
                       const char *text, size_t text_len)
{
    size_t sz = rec_size(text_len);
    size_t off = make_room(log, sz);
    struct rec_hdr *h = hdr_at(log, off);
    memset(h, 0, sz);
    h->ts = ts;
    h->len = (uint16_t)sz;
    h->text_len = (uint16_t)text_len;
    h->facility = (uint8_t)facility;
    h->level = (uint8_t)((level & 7) | (open ? LEVEL_OPEN : 0));
    memcpy(log->buf + off + HDR_SIZE, text, text_len);
    log->offs[(log->head + log->count) % log->offs_cap] = (uint32_t)off;
    log->count++;
    log->next_off = off + sz;
    if (log->next_off == log->size)
        log->next_off = 0;
    log->open = open;
    if (!open && log->sink)
        emit_newest(log);
}

/* Stores a new record, truncating a text that would not fit an empty ring the
 * way truncate_msg() does. Returns the stored text length. */
static size_t store_new(struct sim_log *log, sim_time_t ts, int facility, int level, bool open,
                        const char *text, size_t len)
{
    if (rec_size(len) > log->size) {
        size_t max = log->size / 4; /* MAX_LOG_TAKE_PART */
        size_t tl = sizeof TRUNC_MSG - 1;
        size_t keep = max > tl ? max - tl : 0;
        if (keep > len)
            keep = len;
        memmove(log->merged, text, keep);
        memcpy(log->merged + keep, TRUNC_MSG, tl);
        text = log->merged;
        len = keep + tl;
    }
    append_rec(log, ts, facility, level, open, text, len);
    return len;
}

static void close_open(struct sim_log *log)
{
    if (!log->open)
        return;
    struct rec_hdr *h = hdr_at(log, off_index(log, log->count - 1));
    h->level &= (uint8_t)~LEVEL_OPEN;
    log->open = false;
    if (log->sink)
        emit_newest(log);
}

/* Appends text to the open record. False (nothing changed) when the result would
 * pass LOG_LINE_MAX. */
static bool extend_open(struct sim_log *log, const char *text, size_t len, bool newline)
{
    size_t last = off_index(log, log->count - 1);
    struct rec_hdr *h = hdr_at(log, last);
    size_t old = h->text_len;
    if (old + len > SIM_LOG_LINE_MAX)
        return false;
    bool still_open = !newline;
    if (still_open && log->cfg.cont != SIM_LOG_CONT_EXPLICIT &&
        old + len > SIM_LOG_LINE_MAX * CONT_FLUSH_PCT / 100)
        still_open = false; /* cont_add(): flush once past 80% of cont.buf */
    if (rec_size(old + len) <= h->len) {
        /* Fits in the record's padding. */
        memcpy(log->buf + last + HDR_SIZE + old, text, len);
        log->buf[last + HDR_SIZE + old + len] = '\0';
        h->text_len = (uint16_t)(old + len);
        if (!still_open)
            h->level &= (uint8_t)~LEVEL_OPEN;
        log->open = still_open;
        if (!still_open && log->sink)
            emit_newest(log);
        return true;
    }
    /* Take the record out (it is the newest) and store it again, larger. */
    uint64_t ts = h->ts;
    int facility = h->facility, level = h->level & 7;
    memcpy(log->merged, log->buf + last + HDR_SIZE, old);
    memcpy(log->merged + old, text, len);
    log->count--;
    log->next_off = last;
    if (log->count == 0)
        log->first_off = log->next_off = 0;
    append_rec(log, ts, facility, level, still_open, log->merged, old + len);
    return true;
}

int sim_log_vprintk(struct sim_log *log, sim_time_t now, const char *fmt, va_list ap)
{
    int n = vsnprintf(log->line, sizeof log->line, fmt, ap);
    if (n < 0)
        return 0;
    size_t len = (size_t)n < sizeof log->line ? (size_t)n : sizeof log->line - 1;
    const char *text = log->line;
    enum sim_log_cont_mode mode = log->cfg.cont;
    int level = -1;
    bool prefix = false, cont = false, newline = false;

    if (len && text[len - 1] == '\n') {
        len--;
        newline = true;
    }
    /* KERN_SOH + one of '0'..'7', 'd', 'c' (printk_get_level); anything else after
     * SOH is not a prefix and stays in the text. */
    while (len >= 2 && text[0] == KERN_SOH_ASCII) {
        char c = text[1];
        if (c >= '0' && c <= '7') {
            if (level < 0)
                level = c - '0';
            prefix = true;
        } else if (c == 'd') {
            prefix = true;
        } else if (c == 'c') {
            cont = true;
        } else {
            break;
        }
        text += 2;
        len -= 2;
        if (mode == SIM_LOG_CONT_IMPLICIT)
            break; /* 4.4 parses one prefix only */
    }
    if (level < 0)
        level = log->cfg.default_level;

    if (mode == SIM_LOG_CONT_IMPLICIT) {
        /* Anything without an explicit level continues an open line. */
        if (log->open && !prefix && extend_open(log, text, len, newline))
            return (int)len;
        close_open(log);
        if (!newline && len == 0)
            return 0; /* an empty cont buffer is no record */
        return (int)store_new(log, now, SIM_LOG_FAC_KERN, level, !newline, text, len);
    }

    if (cont && log->open && extend_open(log, text, len, newline))
        return (int)len;
    close_open(log);
    if (mode == SIM_LOG_CONT_BUFFERED && len == 0 && (cont || !newline))
        return 0; /* log_output(): empty continuations only flush */
    return (int)store_new(log, now, SIM_LOG_FAC_KERN, level, !newline, text, len);
}

int sim_log_printk(struct sim_log *log, sim_time_t now, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = sim_log_vprintk(log, now, fmt, ap);
    va_end(ap);
    return r;
}

int sim_log_store(struct sim_log *log, sim_time_t now, int facility, int level,
                  const char *text, size_t len)
{
    if (len > SIM_LOG_LINE_MAX)
        len = SIM_LOG_LINE_MAX;
    if (len && text[len - 1] == '\n')
        len--;
    close_open(log);
    return (int)store_new(log, now, facility & 0xff, level & 7, false, text, len);
}

int sim_log_configure(struct sim_log *log, const struct sim_log_config *cfg,
                      struct pcilab_err *err)
{
    struct sim_log_config c;
    int r = check_config(cfg, &c, err);
    if (r < 0)
        return r;
    if (c.buf_len != log->size) {
        struct sim_log *tmp = sim_log_create(&c, err);
        if (!tmp)
            return -PCILAB_ENOMEM;
        struct sim_log_rec rec;
        tmp->first_seq = log->first_seq;
        tmp->dropped = log->dropped;
        for (size_t i = 0; i < log->count; i++) {
            sim_log_get(log, i, &rec);
            store_new(tmp, rec.ts, rec.facility, rec.level, rec.open, rec.text, rec.len);
        }
        /* Swap the rings. */
        unsigned char *b = log->buf;
        uint32_t *o = log->offs;
        log->buf = tmp->buf;
        log->offs = tmp->offs;
        log->size = tmp->size;
        log->offs_cap = tmp->offs_cap;
        log->first_off = tmp->first_off;
        log->next_off = tmp->next_off;
        log->head = tmp->head;
        log->count = tmp->count;
        log->first_seq = tmp->first_seq;
        log->dropped = tmp->dropped;
        log->open = tmp->open;
        tmp->buf = b;
        tmp->offs = o;
        sim_log_destroy(tmp);
    }
    log->cfg = c;
    return 0;
}

size_t sim_log_count(const struct sim_log *log)
{
    return log->count;
}

bool sim_log_get(const struct sim_log *log, size_t index, struct sim_log_rec *out)
{
    if (index >= log->count)
        return false;
    size_t off = off_index(log, index);
    const struct rec_hdr *h = hdr_at(log, off);
    out->seq = log->first_seq + index;
    out->ts = h->ts;
    out->level = h->level & 7;
    out->facility = h->facility;
    out->open = (h->level & LEVEL_OPEN) != 0;
    out->len = h->text_len;
    out->text = (const char *)log->buf + off + HDR_SIZE;
    return true;
}

uint64_t sim_log_dropped(const struct sim_log *log)
{
    return log->dropped;
}

uint64_t sim_log_next_seq(const struct sim_log *log)
{
    return log->first_seq + log->count;
}

void sim_log_clear(struct sim_log *log)
{
    log->first_seq += log->count;
    reset_ring(log);
}

/* Writes into buf at *pos without passing len - 1; counts the full length. */
static void put(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
    if (*pos < len) {
        size_t room = len - 1 - *pos;
        memcpy(buf + *pos, s, n < room ? n : room);
    }
    *pos += n;
}

static size_t prefix_of(const struct sim_log_rec *rec, unsigned flags, char *p, size_t plen)
{
    int n = 0;
    if (flags & SIM_LOG_FMT_RAW)
        n += snprintf(p + n, plen - (size_t)n, "<%u>",
                      (unsigned)((rec->facility << 3) | rec->level));
    if (!(flags & SIM_LOG_FMT_NOTIME)) {
        /* print_time(): seconds and microseconds of the nanosecond clock,
         * truncated (do_div), not rounded. */
        uint64_t ns = rec->ts / SIM_NS;
        n += snprintf(p + n, plen - (size_t)n, "[%5lu.%06lu] ",
                      (unsigned long)(ns / 1000000000u),
                      (unsigned long)(ns % 1000000000u / 1000u));
    }
    return (size_t)n;
}

size_t sim_log_format_flags(const struct sim_log_rec *rec, unsigned flags, char *buf,
                            size_t len)
{
    char pfx[64];
    size_t plen = prefix_of(rec, flags, pfx, sizeof pfx);
    size_t pos = 0;
    const char *t = rec->text, *end = rec->text + rec->len;
    for (;;) {
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        const char *stop = nl ? nl : end;
        put(buf, len, &pos, pfx, plen);
        put(buf, len, &pos, t, (size_t)(stop - t));
        put(buf, len, &pos, "\n", 1);
        if (!nl)
            break;
        t = nl + 1;
    }
    if (len)
        buf[pos < len ? pos : len - 1] = '\0';
    return pos;
}

size_t sim_log_format(const struct sim_log_rec *rec, char *buf, size_t len)
{
    return sim_log_format_flags(rec, 0, buf, len);
}

void sim_log_set_sink(struct sim_log *log, sim_log_sink_fn fn, void *ctx)
{
    log->sink = fn;
    log->sink_ctx = fn ? ctx : NULL;
}

int sim_log_write(const struct sim_log_rec *rec, FILE *f, unsigned flags)
{
    char pfx[64];
    size_t plen = prefix_of(rec, flags, pfx, sizeof pfx);
    const char *t = rec->text, *end = rec->text + rec->len;
    for (;;) {
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        const char *stop = nl ? nl : end;
        if (fwrite(pfx, 1, plen, f) != plen ||
            fwrite(t, 1, (size_t)(stop - t), f) != (size_t)(stop - t) || fputc('\n', f) == EOF)
            return -PCILAB_EIO;
        if (!nl)
            break;
        t = nl + 1;
    }
    return 0;
}

int sim_log_dump_from(const struct sim_log *log, uint64_t from_seq, FILE *f, unsigned flags)
{
    struct sim_log_rec rec;
    size_t i = from_seq > log->first_seq ? (size_t)(from_seq - log->first_seq) : 0;
    for (; i < log->count; i++) {
        sim_log_get(log, i, &rec);
        if (sim_log_write(&rec, f, flags) < 0)
            return -PCILAB_EIO;
    }
    return ferror(f) ? -PCILAB_EIO : 0;
}

int sim_log_dump(const struct sim_log *log, FILE *f, unsigned flags)
{
    return sim_log_dump_from(log, 0, f, flags);
}
