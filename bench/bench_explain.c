/* pcilab explain's front end: the kernel log reader (src/diag/klog.c) and the
 * message recogniser (src/diag/kmsg.c) on a 100 MB synthetic dmesg built in
 * memory (issue 6: >= 100 MB/s on a 100 MB log, peak memory bounded and
 * independent of the log's size).
 *
 * The log is a realistic mix, from a fixed seed: boot lines of many
 * subsystems (PCI enumeration, ACPI, USB, network, memory), AMD-Vi
 * IO_PAGE_FAULT lines in the 4.9 split form and the one-line form, VT-d
 * DMAR fault lines, and lines wrapped in two the way a mail client wraps
 * them (an unprefixed continuation). It is fed in 64 KiB chunks, as a file
 * read would, to a callback that keeps a count (klog alone) or runs
 * kmsg_parse on each record (klog + kmsg). Best of 3.
 *
 * Memory is what the reader itself holds (klog_reader_mem_peak: its
 * structure and line buffers), for the first 1 MB and for all 100 MB. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/klog.h"
#include "diag/kmsg.h"

#define LOG_BYTES (100u * 1000u * 1000u)
#define SMALL_BYTES (1u * 1000u * 1000u)
#define CHUNK (64u * 1024u)

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static const char *const boot[] = {
    "pci 0000:00:02.0: [1022:1576] type 00 class 0x030000",
    "pci 0000:00:02.0: reg 0x10: [mem 0xe0000000-0xefffffff 64bit pref]",
    "pci 0000:01:00.0: [1204:e250] type 00 class 0x118000",
    "pci_bus 0000:00: root bus resource [mem 0x80000000-0xfebfffff window]",
    "ACPI: PCI Root Bridge [PCI0] (domain 0000 [bus 00-ff])",
    "usb 1-1: new high-speed USB device number 2 using ehci-pci",
    "e1000e 0000:02:00.0 eth0: (PCI Express:2.5GT/s:Width x1) 00:1b:21:aa:bb:cc",
    "EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)",
    "AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40",
    "AMD-Vi: Interrupt remapping enabled",
    "iommu: Adding device 0000:01:00.0 to group 9",
    "Memory: 3951112K/4173268K available (8200K kernel code, 1300K rwdata)",
    "clocksource: tsc: mask: 0xffffffffffffffff max_cycles: 0x2b3e459bf4c, max_idle_ns: 440795289890 ns",
    "random: crng init done",
    "systemd[1]: Started Journal Service.",
    "ecp5_dma 0000:01:00.0: enabling device (0000 -> 0002)",
};

/* Fills buf with len bytes of log (whole lines; the rest padded with a
 * final partial line is avoided by stopping at the last full one). */
static size_t make_log(char *buf, size_t len)
{
    uint64_t x = 0x2545f4914f6cdd1dull;
    size_t o = 0;
    double t = 0;
    char line[512];
    while (o < len) {
        uint64_t r = next(&x);
        t += (double)(r % 5000) * 1e-6;
        unsigned sec = (unsigned)t, usec = (unsigned)((t - sec) * 1e6);
        int n;
        unsigned kind = (unsigned)(r >> 32) % 100;
        uint32_t addr = 0xffbf8000u + (uint32_t)((r >> 40) & 0xff) * 0x1000u;
        if (kind < 60) {
            n = snprintf(line, sizeof line, "[%5u.%06u] %s\n", sec, usec,
                         boot[(r >> 8) % (sizeof boot / sizeof boot[0])]);
        } else if (kind < 75) { /* 4.9: the split form, two records */
            n = snprintf(line, sizeof line,
                         "[%5u.%06u] AMD-Vi: Event logged [\n"
                         "[%5u.%06u] IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                         "address=0x00000000%08x flags=0x0070]\n",
                         sec, usec, sec, usec, addr);
        } else if (kind < 85) { /* 4.20-style one line */
            n = snprintf(line, sizeof line,
                         "[%5u.%06u] AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.0 "
                         "domain=0x0003 address=0x%016x flags=0x0020]\n",
                         sec, usec, addr);
        } else if (kind < 93) { /* VT-d, 5.x */
            n = snprintf(line, sizeof line,
                         "[%5u.%06u] DMAR: DRHD: handling fault status reg 2\n"
                         "[%5u.%06u] DMAR: [DMA Write NO_PASID] Request device [01:00.0] "
                         "fault addr 0x%x [fault reason 0x05] PTE Write access is not set\n",
                         sec, usec, sec, usec, addr);
        } else { /* wrapped by a mail client */
            n = snprintf(line, sizeof line,
                         "[%5u.%06u] IO_PAGE_FAULT device=00:00.0 domain=0x0000 \n"
                         "address=0x00000000%08x flags=0x0070]\n",
                         sec, usec, addr);
        }
        if (n <= 0 || o + (size_t)n > len)
            break;
        memcpy(buf + o, line, (size_t)n);
        o += (size_t)n;
    }
    return o;
}

struct sink {
    uint64_t records, bytes, matched;
    int parse;
};

static int on_rec(void *ctx, const struct klog_rec *rec)
{
    struct sink *s = ctx;
    s->records++;
    s->bytes += rec->len;
    if (s->parse) {
        struct kmsg m;
        if (kmsg_parse(rec->text, rec->len, &m) != KMSG_NO_MATCH)
            s->matched++;
    }
    return 0;
}

/* One pass; returns MB/s (1 MB = 1e6 bytes); *mem the reader's peak. */
static double pass(const char *log, size_t len, int parse, size_t *mem, struct sink *s)
{
    memset(s, 0, sizeof *s);
    s->parse = parse;
    struct klog_reader *r = klog_reader_new(0);
    if (!r)
        abort();
    double t0 = bench_seconds();
    for (size_t at = 0; at < len; at += CHUNK)
        klog_feed(r, log + at, len - at < CHUNK ? len - at : CHUNK, on_rec, s);
    klog_finish(r, on_rec, s);
    double dt = bench_seconds() - t0;
    *mem = klog_reader_mem_peak(r);
    klog_reader_free(r);
    return (double)len / dt / 1e6;
}

void bench_explain(struct bench_report *rep)
{
    char *log = malloc(LOG_BYTES);
    if (!log)
        abort();
    size_t len = make_log(log, LOG_BYTES);
    size_t small_len = len < SMALL_BYTES ? len : SMALL_BYTES;
    while (small_len && log[small_len - 1] != '\n')
        small_len--;
    struct sink s;
    size_t mem_big = 0, mem_small = 0;
    double best = 0, best_kmsg = 0;
    for (int k = 0; k < 3; k++) {
        double v = pass(log, len, 0, &mem_big, &s);
        if (v > best)
            best = v;
    }
    bench_note(rep, "explain: %.1f MB synthetic dmesg, %llu records (%llu bytes of text)\n",
               (double)len / 1e6, (unsigned long long)s.records, (unsigned long long)s.bytes);
    bench_figure(rep, "explain klog parse MB/s (100 MB dmesg)", best, "MB/s", 100,
                 BENCH_AT_LEAST, 0);
    for (int k = 0; k < 3; k++) {
        size_t m;
        double v = pass(log, len, 1, &m, &s);
        if (v > best_kmsg)
            best_kmsg = v;
    }
    bench_note(rep, "explain: kmsg_parse recognised %llu of %llu records\n",
               (unsigned long long)s.matched, (unsigned long long)s.records);
    bench_figure(rep, "explain klog+kmsg parse MB/s (100 MB dmesg)", best_kmsg, "MB/s", 100,
                 BENCH_AT_LEAST, 0);
    pass(log, small_len, 0, &mem_small, &s);
    bench_figure(rep, "explain klog peak memory KiB (1 MB log)", (double)mem_small / 1024.0,
                 "KiB", (double)mem_small / 1024.0, BENCH_WITHIN, 0);
    bench_figure(rep, "explain klog peak memory KiB (100 MB log)", (double)mem_big / 1024.0,
                 "KiB", (double)mem_small / 1024.0, BENCH_WITHIN, 0);
    free(log);
}
