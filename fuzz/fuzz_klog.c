/* libFuzzer target for the kernel log reader (src/diag/klog.c). Invariants:
 * every record's text is NUL-terminated at len and holds no CR or LF and no
 * trailing blank; line numbers never go back and line <= line_last; counts
 * add up; and the records are the same whether the input comes whole or in
 * chunks (the chunk sizes are taken from the input's first byte). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag/klog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sum {
    uint64_t n, hash, last_line, max_line_seen;
};

static int check(void *ctx, const struct klog_rec *k)
{
    struct sum *s = ctx;
    if (k->text[k->len] != '\0' || memchr(k->text, '\n', k->len) || memchr(k->text, '\r', k->len))
        abort();
    if (k->len && (k->text[k->len - 1] == ' ' || k->text[k->len - 1] == '\t'))
        abort();
    if (k->line == 0 || k->line_last < k->line || k->line <= s->last_line)
        abort();
    if (k->level < -1 || k->level > 7 || (!k->has_mono && k->mono_ns != 0))
        abort();
    if (memchr(k->wall, '\0', sizeof k->wall) == NULL || memchr(k->host, '\0', sizeof k->host) == NULL)
        abort();
    if (k->len > s->max_line_seen)
        abort();
    s->last_line = k->line_last;
    uint64_t h = s->hash ^ (k->line * 0x9e3779b97f4a7c15ull) ^ k->line_last ^ (uint64_t)k->form;
    for (size_t i = 0; i < k->len; i++)
        h = (h ^ (unsigned char)k->text[i]) * 1099511628211ull;
    h = (h ^ (uint64_t)k->mono_ns ^ (uint64_t)(k->level + 1)) * 1099511628211ull;
    for (const char *c = k->wall; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    for (const char *c = k->host; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    s->hash = h;
    s->n++;
    return 0;
}

static void run(const uint8_t *data, size_t size, size_t max_line, unsigned step,
                struct sum *s, struct klog_stats *st)
{
    memset(s, 0, sizeof *s);
    s->max_line_seen = max_line;
    struct klog_reader *r = klog_reader_new(max_line);
    if (!r)
        abort();
    size_t at = 0;
    unsigned k = 0;
    while (at < size) {
        size_t n = step ? 1 + (k++ * 7 + step) % (2 * step + 1) : size - at;
        if (n > size - at)
            n = size - at;
        if (klog_feed(r, data + at, n, check, s) != 0)
            abort();
        at += n;
    }
    if (klog_finish(r, check, s) != 0)
        abort();
    klog_get_stats(r, st);
    /* memory is bounded by the line limit, not the input */
    if (klog_reader_mem_peak(r) > 3 * (max_line + 1) + 4096)
        abort();
    klog_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned step = data[0] % 17; /* 0: one feed */
    size_t max_line = 32 + (size_t)(data[0] >> 3) * 16;
    data++;
    size--;
    struct sum whole, part;
    struct klog_stats sw, sp;
    run(data, size, max_line, 0, &whole, &sw);
    run(data, size, max_line, step ? step : 3, &part, &sp);
    if (whole.n != part.n || whole.hash != part.hash || memcmp(&sw, &sp, sizeof sw) != 0)
        abort();
    if (sw.bytes != size || sw.records != whole.n)
        abort();
    /* every line is accounted for at most once as junk */
    if (sw.binary + sw.too_long + sw.joined > sw.lines || sw.crlf > sw.lines ||
        sw.quoted > sw.lines || sw.records + sw.joined > sw.lines)
        abort();
    return 0;
}
