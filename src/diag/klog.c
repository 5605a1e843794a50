/* The kernel log reader of pcilab explain (klog.h): bytes in any chunking,
 * logical records out, in bounded memory.
 *
 * Each physical line goes through one pass:
 *   1. the line is found with memchr; a line that does not end in this chunk
 *      is carried in `part` (at most max_line bytes; a longer one is skipped
 *      to its newline and counted, never buffered);
 *   2. a trailing CR is dropped (CRLF), the bytes are checked eight at a time
 *      for anything that is not printable ASCII; only a line that has such
 *      bytes takes the slow path (ANSI colour sequences of `dmesg --color`
 *      removed, invalid UTF-8 replaced, control bytes make it binary);
 *   3. mail quoting (`>`, `> >`, `>>`) is removed and its depth noted;
 *   4. the outer prefix is parsed (parse_prefix below: one function per
 *      form, each citing where the form is printed);
 *   5. the line starts a record (held until the next line shows whether it
 *      continues), continues the held one (join_evidence), or is a record of
 *      its own.
 * Nothing here allocates per line: three buffers grow (doubling) to the
 * longest line seen, at most max_line each.
 */
#include "diag/klog.h"

#include <stdlib.h>
#include <string.h>

#define KLOG_DEFAULT_MAX_LINE (64u * 1024u)
#define KLOG_MIN_BUF 256u
/* A record joined from more pieces than this is no longer a wrapped line. */
#define KLOG_MAX_PIECES 16u
/* The narrowest wrap width a mail client or terminal plausibly uses: a line
 * that, with the next line's first word, would exceed it was wrapped there
 * (mail user agents wrap at 72..78 columns; RFC 5322 section 2.1.1 asks for
 * lines of at most 78 characters). */
#define KLOG_WRAP_MIN 72u

enum prev_kind {
    PREV_NONE,     /* start of input, a blank line, junk: no context */
    PREV_PREFIXED, /* a line with a prefix (it started a record) */
    PREV_CONT,     /* a continuation joined to a prefixed record */
    PREV_PLAIN,    /* a line without prefix that stood alone */
};

struct klog_buf {
    char *p;
    size_t len, cap;
};

struct klog_reader {
    size_t max_line;
    uint64_t line;          /* physical lines started so far */
    /* the physical line being assembled across chunks */
    struct klog_buf part;
    bool skipping;          /* the current line exceeded max_line */
    /* the cleaned copy of a line that needed the slow path */
    struct klog_buf scratch;
    /* the held (or about to be emitted) record's text and description */
    struct klog_buf hold;
    bool held;
    unsigned pieces;
    int hold_depth;         /* quote depth of the record's lines */
    bool hold_ctx;          /* the record began in a run of prefixed lines */
    bool hold_devkmsg;      /* the record is a /dev/kmsg one */
    struct klog_rec rec;
    /* the previous physical line, for the join evidence */
    enum prev_kind prev;
    size_t prev_width;      /* its width after CR/trailing blanks removed */
    bool prev_soft;         /* it ended in a blank (RFC 3676 soft break) */
    bool seen_text;         /* any non-blank line so far */
    enum klog_form log_form; /* the first prefixed line's form */
    struct klog_stats st;
    size_t mem, mem_peak;
};

const char *klog_form_name(enum klog_form f)
{
    switch (f) {
    case KLOG_FORM_PLAIN: return "plain";
    case KLOG_FORM_DMESG: return "dmesg";
    case KLOG_FORM_DMESG_WALL: return "dmesg-wall";
    case KLOG_FORM_JOURNAL: return "journal";
    case KLOG_FORM_SYSLOG: return "syslog";
    case KLOG_FORM_ISO: return "iso";
    }
    return "plain";
}

/* ---- memory ---------------------------------------------------------- */

/* Grows b to hold at least need bytes (need <= max_line + 1). false when
 * out of memory: the caller then skips the line as too long. */
static bool buf_reserve(struct klog_reader *r, struct klog_buf *b, size_t need)
{
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : KLOG_MIN_BUF;
    while (cap < need)
        cap *= 2;
    if (cap > r->max_line + 1 && need <= r->max_line + 1)
        cap = r->max_line + 1;
    char *p = realloc(b->p, cap);
    if (!p)
        return false;
    r->mem += cap - b->cap;
    if (r->mem > r->mem_peak)
        r->mem_peak = r->mem;
    b->p = p;
    b->cap = cap;
    return true;
}

struct klog_reader *klog_reader_new(size_t max_line)
{
    struct klog_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->max_line = max_line ? max_line : KLOG_DEFAULT_MAX_LINE;
    r->mem = r->mem_peak = sizeof *r;
    r->log_form = KLOG_FORM_PLAIN;
    return r;
}

void klog_reader_free(struct klog_reader *r)
{
    if (!r)
        return;
    free(r->part.p);
    free(r->scratch.p);
    free(r->hold.p);
    free(r);
}

void klog_get_stats(const struct klog_reader *r, struct klog_stats *out)
{
    *out = r->st;
}

size_t klog_reader_mem_peak(const struct klog_reader *r)
{
    return r->mem_peak;
}

/* ---- byte classes ---------------------------------------------------- */

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Index of the first byte that is not printable ASCII (0x20..0x7e), or len.
 * Eight bytes per step: a byte below 0x20 (Hacker's Delight 6-1 "has less
 * than"), 0x7f (zero after xor) or with bit 7 set stops the word. */
static size_t first_special(const unsigned char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t low = (w - ONES * 0x20) & ~w;
        uint64_t del = w ^ (ONES * 0x7f);
        del = (del - ONES) & ~del;
        if ((low | del | w) & HIGHS)
            break;
    }
    for (; i < len; i++)
        if (s[i] < 0x20 || s[i] >= 0x7f)
            return i;
    return len;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid; *bad is
 * then the length of its maximal subpart (the bytes to replace by one '?',
 * Unicode 15.0 section 3.9, "U+FFFD Substitution of Maximal Subparts"). */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    size_t k = 1;
    for (; k < need; k++) {
        if (k >= n)
            break;
        unsigned char b = s[k];
        unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xbf;
        if (b < l || b > h)
            break;
    }
    if (k == need)
        return need;
    *bad = k;
    return 0;
}

/* The slow path: copies s into scratch without ANSI escape sequences (ECMA-48
 * section 5.4 control sequences: ESC '[' parameters 0x30-0x3f, intermediates
 * 0x20-0x2f, final 0x40-0x7e; and two-byte ESC Fe sequences) and with each
 * invalid UTF-8 subpart replaced by '?', U+00A0 made a space and U+FEFF
 * dropped. Returns the new length, or -1 when the line holds other control
 * bytes (binary), -2 when out of memory. TAB is text. */
static long clean_line(struct klog_reader *r, const unsigned char *s, size_t len,
                       uint64_t *bad_utf8)
{
    if (!buf_reserve(r, &r->scratch, len + 1))
        return -2;
    char *o = r->scratch.p;
    size_t n = 0, i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f) {
            o[n++] = (char)c;
            i++;
        } else if (c == '\t') {
            o[n++] = '\t';
            i++;
        } else if (c == 0x1b) {
            if (i + 1 < len && s[i + 1] == '[') {
                size_t j = i + 2;
                while (j < len && s[j] >= 0x30 && s[j] <= 0x3f)
                    j++;
                while (j < len && s[j] >= 0x20 && s[j] <= 0x2f)
                    j++;
                if (j >= len || s[j] < 0x40 || s[j] > 0x7e)
                    return -1;
                i = j + 1;
            } else if (i + 1 < len && s[i + 1] >= 0x40 && s[i + 1] <= 0x5f) {
                i += 2;
            } else {
                return -1;
            }
        } else if (c >= 0x80) {
            size_t bad = 1, k = utf8_seq(s + i, len - i, &bad);
            if (k == 2 && c == 0xc2 && s[i + 1] == 0xa0) {
                /* U+00A0 NO-BREAK SPACE: what web archives and HTML mail
                 * turn the spaces of "[   49.001605]" into */
                o[n++] = ' ';
                i += 2;
            } else if (k == 3 && c == 0xef && s[i + 1] == 0xbb && s[i + 2] == 0xbf) {
                /* U+FEFF, the byte order mark an editor puts at the start
                 * of a saved file: no text */
                i += 3;
            } else if (k) {
                memcpy(o + n, s + i, k);
                n += k;
                i += k;
            } else {
                o[n++] = '?';
                (*bad_utf8)++;
                i += bad;
            }
        } else {
            return -1; /* NUL, other C0 controls, DEL */
        }
    }
    o[n] = '\0';
    return (long)n;
}

/* ---- prefixes -------------------------------------------------------- */

struct pfx {
    bool any;             /* some prefix was recognised */
    enum klog_form form;
    const char *text;     /* the message after the prefixes */
    int level;
    bool has_mono;
    int64_t mono_ns;
    const char *wall;     /* as written */
    size_t wall_len;
    const char *host;
    size_t host_len;
    bool devkmsg;         /* a /dev/kmsg record (its " KEY=value" lines follow) */
};

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* [    49.001605] : `[%5lu.%06lu]`, as printed by the kernel's print_time()
 * (kernel/printk/printk.c, v4.9.80 and v6.1) and util-linux dmesg's
 * print_record() for --time-format=raw (the default). Also the forms with a
 * delta, `[   49.001605 <    0.000123>]` (dmesg -d). Returns the position
 * after ']', or NULL. */
static const char *parse_mono(const char *p, const char *e, int64_t *ns)
{
    if (p >= e || *p != '[')
        return NULL;
    p++;
    while (p < e && *p == ' ')
        p++;
    uint64_t sec = 0;
    int nd = 0;
    while (p < e && is_digit(*p)) {
        if (++nd > 12)
            return NULL;
        sec = sec * 10 + (uint64_t)(*p++ - '0');
    }
    if (!nd || p >= e || *p != '.')
        return NULL;
    p++;
    uint64_t frac = 0;
    int nf = 0;
    while (p < e && is_digit(*p)) {
        if (++nf > 9)
            return NULL;
        frac = frac * 10 + (uint64_t)(*p++ - '0');
    }
    if (!nf)
        return NULL;
    for (int k = nf; k < 9; k++)
        frac *= 10;
    if (p < e && *p == ' ') { /* " <    0.000123>" (dmesg -d) */
        p++;
        if (p >= e || *p != '<')
            return NULL;
        while (p < e && *p != '>')
            p++;
        if (p >= e)
            return NULL;
        p++;
    }
    if (p >= e || *p != ']')
        return NULL;
    *ns = (int64_t)(sec * 1000000000ull + frac);
    return p + 1;
}

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
static const char wdays[] = "MonTueWedThuFriSatSun";

static bool is_name3(const char *p, const char *e, const char *table, size_t n)
{
    if (e - p < 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[0] == table[3 * i] && p[1] == table[3 * i + 1] && p[2] == table[3 * i + 2])
            return true;
    return false;
}

/* hh:mm:ss */
static const char *parse_hms(const char *p, const char *e)
{
    if (e - p < 8 || !is_digit(p[0]) || !is_digit(p[1]) || p[2] != ':' || !is_digit(p[3]) ||
        !is_digit(p[4]) || p[5] != ':' || !is_digit(p[6]) || !is_digit(p[7]))
        return NULL;
    return p + 8;
}

/* "Mmm dd hh:mm:ss" with the day zero-padded (journalctl: "%b %d %H:%M:%S")
 * or space-padded (RFC 3164 section 4.1.2: "Mmm  d"); *pad tells which
 * (' ', '0', or 0 for a two-digit day). Optional ".uuuuuu" (journalctl -o
 * short-precise). */
static const char *parse_bsd_time(const char *p, const char *e, char *pad)
{
    if (!is_name3(p, e, months, 12) || e - p < 15 || p[3] != ' ')
        return NULL;
    const char *q = p + 4;
    if (*q == ' ' && is_digit(q[1])) {
        *pad = ' ';
        q += 2;
    } else if (is_digit(q[0]) && is_digit(q[1])) {
        *pad = q[0] == '0' ? '0' : 0;
        q += 2;
    } else {
        return NULL;
    }
    if (q >= e || *q != ' ')
        return NULL;
    q = parse_hms(q + 1, e);
    if (!q)
        return NULL;
    if (q < e && *q == '.' && q + 1 < e && is_digit(q[1])) {
        q++;
        while (q < e && is_digit(*q))
            q++;
    }
    return q;
}

/* "YYYY-MM-DDThh:mm:ss" [.frac | ,frac] [Z | +hh:mm | +hhmm]. *comma when
 * the fraction is written with a comma (util-linux dmesg --time-format=iso). */
static const char *parse_iso(const char *p, const char *e, bool *comma)
{
    if (e - p < 19)
        return NULL;
    for (int i = 0; i < 19; i++) {
        char c = p[i];
        bool ok = (i == 4 || i == 7) ? c == '-' : i == 10 ? c == 'T' : (i == 13 || i == 16) ? c == ':'
                                                                                      : is_digit(c);
        if (!ok)
            return NULL;
    }
    const char *q = p + 19;
    *comma = false;
    if (q < e && (*q == '.' || *q == ',') && q + 1 < e && is_digit(q[1])) {
        *comma = *q == ',';
        q++;
        while (q < e && is_digit(*q))
            q++;
    }
    if (q < e && *q == 'Z') {
        q++;
    } else if (q < e && (*q == '+' || *q == '-') && e - q >= 5 && is_digit(q[1]) &&
               is_digit(q[2])) {
        if (q[3] == ':' && e - q >= 6 && is_digit(q[4]) && is_digit(q[5]))
            q += 6;
        else if (is_digit(q[3]) && is_digit(q[4]))
            q += 5;
        else
            return NULL;
    }
    return q;
}

/* "host tag: " after a syslog/journal time. The tag is the syslog
 * identifier with an optional [pid] (RFC 3164 section 4.1.3, "TAG");
 * journalctl prints " hostname" (left out with --no-hostname), then
 * " identifier[pid]: " (systemd src/shared/logs-show.c, output_short()).
 * For the kernel's own "kernel: " the text is what follows; for any other
 * tag the text keeps "tag: " so a reader can tell it is not a kernel
 * message. kernel_only: accept only "kernel". */
static bool parse_host_tag(const char *p, const char *e, struct pfx *o, bool kernel_only)
{
    /* a host name blanked out by the poster leaves its spaces:
     * "Jun 15 11:58:56   kernel: " */
    while (p < e && *p == ' ')
        p++;
    const char *h = p;
    while (p < e && *p != ' ')
        p++;
    size_t hl = (size_t)(p - h);
    const char *t, *te;
    if (hl >= 2 && h[hl - 1] == ':') { /* no host name */
        t = h;
        te = p - 1;
        hl = 0;
        h = p;
    } else {
        if (!hl || hl >= sizeof(((struct klog_rec *)0)->host) || p >= e)
            return false;
        t = ++p;
        while (p < e && *p != ' ' && *p != ':')
            p++;
        if (p == t || p >= e || *p != ':' || (p + 1 < e && p[1] != ' '))
            return false;
        te = p;
        p++;
    }
    /* p: after the ':' */
    bool kernel = te - t == 6 && !memcmp(t, "kernel", 6);
    if (kernel_only && !kernel)
        return false;
    for (const char *c = t; c < te; c++) /* a tag has no '=' or quotes */
        if (*c == '=' || *c == '"' || *c == '\'')
            return false;
    o->host = h;
    o->host_len = hl;
    o->text = kernel ? (p < e ? p + 1 : e) : t;
    return true;
}

static int level_by_name(const char *p, size_t n)
{
    /* util-linux dmesg -x: the names of sys-utils/dmesg.c level_names[] */
    static const char names[8][7] = {"emerg", "alert", "crit", "err",
                                     "warn", "notice", "info", "debug"};
    for (int i = 0; i < 8; i++)
        if (strlen(names[i]) == n && !memcmp(names[i], p, n))
            return i;
    return -1;
}

static bool is_facility(const char *p, size_t n)
{
    /* util-linux dmesg facility_names[] */
    static const char names[][9] = {"kern", "user", "mail", "daemon", "auth", "syslog",
                                    "lpr", "news", "uucp", "cron", "authpriv", "ftp",
                                    "res0", "res1", "res2", "res3", "local0", "local1",
                                    "local2", "local3", "local4", "local5", "local6", "local7"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && !memcmp(names[i], p, n))
            return true;
    return false;
}

/* The inner `[    49.001605] ` a syslog line carries when the kernel's time
 * was kept in the message (rsyslog imklog reading /proc/kmsg). */
static void inner_mono(const char *e, struct pfx *o)
{
    int64_t ns;
    const char *q = parse_mono(o->text, e, &ns);
    if (q) {
        o->has_mono = true;
        o->mono_ns = ns;
        o->text = q < e && *q == ' ' ? q + 1 : q;
    }
}

/* The caller id of CONFIG_PRINTK_CALLER after the time: "[%6s]" right
 * after it in the kernel's own prefix (kernel/printk/printk.c
 * print_caller(), v6.1: "T123" a task, "C1" a CPU) and "[%*s] " after a
 * space in util-linux dmesg. */
static const char *skip_caller(const char *q, const char *e)
{
    const char *c = q < e && *q == ' ' ? q + 1 : q;
    if (c >= e || *c != '[')
        return q;
    c++;
    while (c < e && *c == ' ')
        c++;
    if (c >= e || (*c != 'T' && *c != 'C'))
        return q;
    c++;
    const char *d = c;
    while (c < e && is_digit(*c))
        c++;
    if (c == d || c >= e || *c != ']')
        return q;
    return c + 1;
}

/* /dev/kmsg as read by `cat /dev/kmsg`: "faclev,seqnum,usec,flag[,...];text"
 * (kernel/printk/printk.c info_print_ext_header(), v6.1:
 * "%u,%llu,%llu,%c%s;"; Documentation/ABI/testing/dev-kmsg). */
static bool parse_devkmsg(const char *p, const char *e, struct pfx *o)
{
    uint64_t v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        const char *d = p;
        while (p < e && is_digit(*p) && p - d < 20)
            v[i] = v[i] * 10 + (uint64_t)(*p++ - '0');
        if (p == d || p >= e || *p != ',')
            return false;
        p++;
    }
    if (p >= e || (*p != '-' && *p != 'c' && *p != '+'))
        return false;
    while (p < e && *p != ';' && *p != ' ')
        p++;
    if (p >= e || *p != ';' || v[2] > UINT64_C(9000000000000000))
        return false;
    o->any = true;
    o->form = KLOG_FORM_DMESG;
    o->level = (int)(v[0] & 7);
    o->has_mono = true;
    o->mono_ns = (int64_t)(v[2] * 1000);
    o->devkmsg = true;
    o->text = p + 1;
    return true;
}

static void parse_prefix(const char *s, const char *e, enum klog_form log_form, struct pfx *o)
{
    const char *p = s;
    o->any = false;
    o->form = KLOG_FORM_PLAIN;
    o->level = -1;
    o->has_mono = false;
    o->devkmsg = false;
    o->wall = o->host = NULL;
    o->wall_len = o->host_len = 0;

    /* <N>: the syslog priority the kernel's /proc/kmsg and syslog(2) put in
     * front of each line (kernel/printk/printk.c print_syslog()) and dmesg
     * -r prints; the level is its low three bits (LOG_PRI). */
    if (p < e && *p == '<' && e - p >= 3 && is_digit(p[1])) {
        const char *q = p + 1;
        int v = 0;
        while (q < e && is_digit(*q) && q - p <= 4)
            v = v * 10 + (*q++ - '0');
        if (q < e && *q == '>') {
            o->level = v & 7;
            o->any = true;
            o->form = KLOG_FORM_DMESG;
            p = q + 1;
        }
    }
    /* dmesg -x: "kern  :warn  : " (util-linux sys-utils/dmesg.c
     * print_record(): "%-6s:%-6s: " facility and level names). */
    if (p < e && *p >= 'a' && *p <= 'z') {
        const char *f = p;
        while (p < e && ((*p >= 'a' && *p <= 'z') || is_digit(*p)))
            p++;
        const char *fe = p;
        while (p < e && *p == ' ')
            p++;
        int lv = -1;
        if (p < e && *p == ':' && is_facility(f, (size_t)(fe - f))) {
            const char *l = ++p;
            while (p < e && *p >= 'a' && *p <= 'z')
                p++;
            lv = level_by_name(l, (size_t)(p - l));
            while (p < e && *p == ' ')
                p++;
            if (lv >= 0 && p < e && *p == ':') {
                p++;
                if (p < e && *p == ' ')
                    p++;
                o->level = lv;
                o->any = true;
                o->form = KLOG_FORM_DMESG;
            } else {
                lv = -1;
            }
        }
        if (lv < 0)
            p = f;
    }

    o->text = p;
    if (p >= e)
        return;
    if (!o->any && is_digit(*p) && parse_devkmsg(p, e, o))
        return;
    /* A syslog line with its date and host cut away by the poster, the
     * kernel's time kept inside: "kernel: [   13.134460] text" (the tail of
     * RFC 3164's "Mmm dd hh:mm:ss host kernel: " with rsyslog imklog's
     * inner time). Only with that time, so a text "kernel: ..." stays text. */
    if (e - p > 8 && !memcmp(p, "kernel: [", 9)) {
        int64_t ns;
        const char *q = parse_mono(p + 8, e, &ns);
        if (q) {
            o->any = true;
            o->form = KLOG_FORM_SYSLOG;
            o->has_mono = true;
            o->mono_ns = ns;
            o->text = q < e && *q == ' ' ? q + 1 : q;
            return;
        }
    }
    if (*p == '[') {
        int64_t ns;
        const char *q = parse_mono(p, e, &ns);
        if (q) {
            o->any = true;
            o->form = KLOG_FORM_DMESG;
            o->has_mono = true;
            o->mono_ns = ns;
            q = skip_caller(q, e);
            o->text = q < e && *q == ' ' ? q + 1 : q;
            /* journalctl -o short-monotonic: "[%5llu.%06llu] host kernel: " */
            struct pfx t = *o;
            if (parse_host_tag(o->text, e, &t, true)) {
                *o = t;
                o->form = KLOG_FORM_JOURNAL;
            }
            return;
        }
        /* dmesg -T: "[%s] " with "%a %b %e %H:%M:%S %Y" (util-linux
         * record_ctime()); "[Sun Dec  6 15:00:01 2026]" */
        const char *w = p + 1;
        if (is_name3(w, e, wdays, 7) && e - w >= 24 && w[3] == ' ' &&
            is_name3(w + 4, e, months, 12) && w[7] == ' ' &&
            (w[8] == ' ' || is_digit(w[8])) && is_digit(w[9]) && w[10] == ' ' &&
            parse_hms(w + 11, e) && w[19] == ' ' && is_digit(w[20]) && is_digit(w[21]) &&
            is_digit(w[22]) && is_digit(w[23])) {
            q = w + 24;
            if (q < e && *q == ' ' && q + 1 < e && q[1] == '<') { /* -T -d */
                while (q < e && *q != '>')
                    q++;
                if (q < e)
                    q++;
            }
            if (q < e && *q == ']') {
                o->any = true;
                o->form = KLOG_FORM_DMESG_WALL;
                o->wall = w;
                o->wall_len = 24;
                q++;
                o->text = q < e && *q == ' ' ? q + 1 : q;
                return;
            }
        }
        /* dmesg -d alone "[<    0.000123>] " and dmesg -e's
         * "[  +0.000123] " / "[ +12.000000] ": relative times, no clock;
         * dmesg -e's "[%b%e %H:%M] " ("[Dec 6 15:00] "): a wall clock
         * without seconds (util-linux print_record(), DMESG_TIMEFTM_DELTA
         * and DMESG_TIMEFTM_RELTIME, short_ctime()) */
        q = p + 1;
        while (q < e && *q == ' ')
            q++;
        if (q < e && (*q == '<' || *q == '+')) {
            const char *d = q + (*q == '<');
            if (d < e && *d == '+')
                d++;
            const char *ds = d;
            while (d < e && (is_digit(*d) || *d == '.' || *d == ' '))
                d++;
            if (d > ds && *q == '<' && d < e && *d == '>')
                d++;
            if (d > ds && d < e && *d == ']') {
                o->any = true;
                o->form = KLOG_FORM_DMESG;
                o->text = d + 1 < e && d[1] == ' ' ? d + 2 : d + 1;
            }
            return;
        }
        if (is_name3(w, e, months, 12) && e - w >= 11 && (w[3] == ' ' || is_digit(w[3])) &&
            is_digit(w[4]) && w[5] == ' ' && is_digit(w[6]) && is_digit(w[7]) && w[8] == ':' &&
            is_digit(w[9]) && is_digit(w[10]) && w + 11 < e && w[11] == ']') {
            o->any = true;
            o->form = KLOG_FORM_DMESG_WALL;
            o->wall = w;
            o->wall_len = 11;
            o->text = w + 12 < e && w[12] == ' ' ? w + 13 : w + 12;
        }
        return;
    }
    char pad = 0;
    const char *q;
    if ((q = parse_bsd_time(p, e, &pad)) && q < e && *q == ' ') {
        struct pfx t = *o;
        if (parse_host_tag(q + 1, e, &t, false)) {
            *o = t;
            o->any = true;
            o->wall = p;
            o->wall_len = (size_t)(q - p);
            inner_mono(e, o);
            /* The kernel's time inside, or RFC 3164's space-padded day:
             * syslog; journalctl pads with zero. */
            if (o->has_mono || pad == ' ')
                o->form = KLOG_FORM_SYSLOG;
            else if (pad == '0')
                o->form = KLOG_FORM_JOURNAL;
            else
                o->form = log_form == KLOG_FORM_SYSLOG ? KLOG_FORM_SYSLOG : KLOG_FORM_JOURNAL;
        }
        return;
    }
    /* journalctl -o short-full: "%a %Y-%m-%d %H:%M:%S %Z" (systemd
     * format_timestamp()), "Sun 2026-12-06 15:00:01 UTC host kernel: " */
    if (is_name3(p, e, wdays, 7) && e - p > 24 && p[3] == ' ' && is_digit(p[4]) &&
        p[8] == '-' && p[11] == '-' && p[14] == ' ' && parse_hms(p + 15, e) && p[23] == ' ') {
        q = p + 24;
        while (q < e && *q != ' ')
            q++;
        struct pfx t = *o;
        if (q < e && q - p <= 38 && parse_host_tag(q + 1, e, &t, false)) {
            *o = t;
            o->any = true;
            o->form = KLOG_FORM_JOURNAL;
            o->wall = p;
            o->wall_len = (size_t)(q - p);
        }
        return;
    }
    /* journalctl -o short-unix: "%10lu.%06lu" seconds since the epoch */
    if (is_digit(*p)) {
        q = p;
        while (q < e && is_digit(*q))
            q++;
        if (q - p >= 9 && q - p <= 12 && q < e && *q == '.') {
            const char *f = ++q;
            while (q < e && is_digit(*q))
                q++;
            struct pfx t = *o;
            if (q - f == 6 && q < e && *q == ' ' && parse_host_tag(q + 1, e, &t, false)) {
                *o = t;
                o->any = true;
                o->form = KLOG_FORM_JOURNAL;
                o->wall = p;
                o->wall_len = (size_t)(q - p);
                return;
            }
        }
    }
    bool comma;
    if (is_digit(*p) && (q = parse_iso(p, e, &comma)) && q < e && *q == ' ') {
        struct pfx t = *o;
        if (!comma && parse_host_tag(q + 1, e, &t, false)) {
            /* rsyslog RSYSLOG_FileFormat / journalctl -o short-iso */
            *o = t;
            o->form = KLOG_FORM_ISO;
            inner_mono(e, o);
        } else {
            /* util-linux dmesg --time-format=iso: wall clock, no host */
            o->form = KLOG_FORM_DMESG_WALL;
            o->text = q + 1;
        }
        o->any = true;
        o->wall = p;
        o->wall_len = (size_t)(q - p);
        return;
    }
}

/* ---- records --------------------------------------------------------- */

static int emit_held(struct klog_reader *r, klog_rec_fn fn, void *ctx)
{
    if (!r->held)
        return 0;
    r->held = false;
    r->rec.text = r->hold.p;
    r->rec.len = r->hold.len;
    r->st.records++;
    return fn(ctx, &r->rec);
}

/* A line that is not text or could not be kept: it ends any record. */
static int barrier(struct klog_reader *r, klog_rec_fn fn, void *ctx)
{
    r->prev = PREV_NONE;
    return emit_held(r, fn, ctx);
}

static size_t first_word(const char *p, const char *e)
{
    const char *s = p;
    while (p < e && *p != ' ' && *p != '\t')
        p++;
    return (size_t)(p - s);
}

/* A shell prompt a user pasted with the log ("$ dmesg", "# lspci",
 * "user@host:~$ ..."): never a continuation. */
static bool is_prompt(const char *p, const char *e)
{
    if (e - p >= 2 && (*p == '$' || *p == '#') && p[1] == ' ')
        return true;
    const char *q = p;
    bool at = false;
    while (q < e && *q != ' ' && q - p < 64) {
        if (*q == '@')
            at = true;
        q++;
    }
    return at && q > p && q < e && (q[-1] == '$' || q[-1] == '#');
}

static void copy_rec_meta(struct klog_reader *r, const struct pfx *x)
{
    struct klog_rec *k = &r->rec;
    k->line = k->line_last = r->line;
    k->form = x->form;
    k->has_mono = x->has_mono;
    k->mono_ns = x->has_mono ? x->mono_ns : 0;
    k->has_wall = x->wall != NULL;
    size_t wl = x->wall_len < sizeof k->wall ? x->wall_len : sizeof k->wall - 1;
    if (wl)
        memcpy(k->wall, x->wall, wl);
    k->wall[wl] = '\0';
    size_t hl = x->host_len < sizeof k->host ? x->host_len : sizeof k->host - 1;
    if (hl)
        memcpy(k->host, x->host, hl);
    k->host[hl] = '\0';
    k->level = x->level;
}

/* One physical line, without its '\n'. */
static int process_line(struct klog_reader *r, const char *s, size_t len, klog_rec_fn fn,
                        void *ctx)
{
    r->line++;
    r->st.lines++;
    if (len > r->max_line) {
        r->st.too_long++;
        return barrier(r, fn, ctx);
    }
    if (len && s[len - 1] == '\r') {
        r->st.crlf++;
        len--;
    }
    size_t sp = first_special((const unsigned char *)s, len);
    if (sp < len) {
        long n = clean_line(r, (const unsigned char *)s, len, &r->st.bad_utf8);
        if (n < 0) {
            if (n == -1)
                r->st.binary++;
            else
                r->st.too_long++;
            return barrier(r, fn, ctx);
        }
        s = r->scratch.p;
        len = (size_t)n;
    }
    const char *e = s + len;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    bool soft = e < s + len;
    size_t width = (size_t)(e - s);
    /* mail quoting: '>' markers, each with an optional space (RFC 3676
     * section 4.5 "> > " and the compact ">>" of other agents) */
    const char *p = s;
    int depth = 0;
    for (;;) {
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        if (p < e && *p == '>') {
            depth++;
            p++;
            continue;
        }
        break;
    }
    if (depth)
        r->st.quoted++;
    if (p == e) { /* blank: ends any record */
        return barrier(r, fn, ctx);
    }
    /* journalctl's "-- Boot 0123... --", "-- Logs begin at ... --",
     * "-- No entries --" markers (systemd src/journal/journalctl.c) */
    if (e - p >= 6 && p[0] == '-' && p[1] == '-' && p[2] == ' ' && e[-1] == '-' &&
        e[-2] == '-' && e[-3] == ' ')
        return barrier(r, fn, ctx);
    /* the " KEY=value" dictionary lines under a /dev/kmsg record
     * (Documentation/ABI/testing/dev-kmsg): not text of the message */
    if (r->held && r->hold_devkmsg && p > s && p[-1] == ' ' && p < e && *p >= 'A' && *p <= 'Z') {
        const char *k = p;
        while (k < e && ((*k >= 'A' && *k <= 'Z') || is_digit(*k) || *k == '_'))
            k++;
        if (k < e && *k == '=')
            return 0;
    }
    struct pfx x;
    parse_prefix(p, e, r->log_form, &x);
    int rc;
    if (!x.any) {
        /* a continuation of the held prefixed record? */
        if (r->held && depth == r->hold_depth && (r->prev == PREV_PREFIXED || r->prev == PREV_CONT) &&
            r->pieces < KLOG_MAX_PIECES && !is_prompt(p, e) &&
            (r->hold_ctx || r->prev_soft ||
             r->prev_width + 1 + first_word(p, e) > KLOG_WRAP_MIN) &&
            r->hold.len + 1 + (size_t)(e - p) <= r->max_line &&
            buf_reserve(r, &r->hold, r->hold.len + 2 + (size_t)(e - p))) {
            char *h = r->hold.p + r->hold.len;
            *h++ = ' ';
            memcpy(h, p, (size_t)(e - p));
            r->hold.len += 1 + (size_t)(e - p);
            r->hold.p[r->hold.len] = '\0';
            r->rec.line_last = r->line;
            r->pieces++;
            r->st.joined++;
            r->prev = PREV_CONT;
            r->prev_width = width;
            r->prev_soft = soft;
            return 0;
        }
        if ((rc = emit_held(r, fn, ctx)))
            return rc;
        x.text = p;
    } else {
        if ((rc = emit_held(r, fn, ctx)))
            return rc;
        if (r->log_form == KLOG_FORM_PLAIN)
            r->log_form = x.form;
    }
    size_t tl = (size_t)(e - x.text);
    if (!buf_reserve(r, &r->hold, tl + 1)) {
        r->st.too_long++;
        return barrier(r, fn, ctx);
    }
    memcpy(r->hold.p, x.text, tl);
    r->hold.p[tl] = '\0';
    r->hold.len = tl;
    copy_rec_meta(r, &x);
    r->held = true;
    r->pieces = 1;
    r->hold_depth = depth;
    r->hold_devkmsg = x.devkmsg;
    bool first = !r->seen_text;
    r->seen_text = true;
    r->hold_ctx = r->prev == PREV_PREFIXED || r->prev == PREV_CONT || first;
    r->prev_width = width;
    r->prev_soft = soft;
    if (x.any) {
        r->prev = PREV_PREFIXED;
        return 0;
    }
    r->prev = PREV_PLAIN;
    return emit_held(r, fn, ctx);
}

int klog_feed(struct klog_reader *r, const void *buf, size_t len, klog_rec_fn fn, void *ctx)
{
    const char *p = buf, *e = p + len;
    r->st.bytes += len;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t n = (size_t)((nl ? nl : e) - p);
        int rc = 0;
        if (r->skipping) {
            if (nl) {
                r->skipping = false;
                rc = process_line(r, NULL, r->max_line + 1, fn, ctx);
            }
        } else if (r->part.len == 0 && nl) {
            rc = process_line(r, p, n, fn, ctx); /* the common case: no copy */
        } else if (r->part.len + n > r->max_line ||
                   !buf_reserve(r, &r->part, r->part.len + n + 1)) {
            r->part.len = 0;
            if (nl)
                rc = process_line(r, NULL, r->max_line + 1, fn, ctx);
            else
                r->skipping = true;
        } else {
            memcpy(r->part.p + r->part.len, p, n);
            r->part.len += n;
            if (nl) {
                size_t l = r->part.len;
                r->part.len = 0;
                rc = process_line(r, r->part.p, l, fn, ctx);
            }
        }
        if (rc)
            return rc;
        p += n + (nl ? 1 : 0);
    }
    return 0;
}

int klog_finish(struct klog_reader *r, klog_rec_fn fn, void *ctx)
{
    int rc = 0;
    if (r->skipping) {
        r->skipping = false;
        rc = process_line(r, NULL, r->max_line + 1, fn, ctx);
    } else if (r->part.len) {
        size_t l = r->part.len;
        r->part.len = 0;
        rc = process_line(r, r->part.p, l, fn, ctx);
    }
    if (rc)
        return rc;
    return barrier(r, fn, ctx);
}
