#include "bench.h"
#include "sim/heap.h"

#include <ctype.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

struct bench_report {
    int figures, missed;
    json_t *json;   /* --json: the figures by key, printed at the end */
};

/* A figure's key in --json: names already in "area.figure" form stay; others
 * become their first word, a dot, and the rest in lower case with every run
 * of other characters as one '_' ("evq push+pop, 1000 pending" ->
 * "evq.push_pop_1000_pending"). */
static void figure_key(const char *name, char *key, size_t len)
{
    size_t o = 0;
    while (*name == ' ')
        name++;
    bool dot = strchr(name, ' ') == NULL, gap = false;
    for (const char *p = name; *p && o + 2 < len; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) || (dot && (c == '.' || c == '_'))) {
            if (gap && o)
                key[o++] = '_';
            gap = false;
            key[o++] = (char)tolower(c);
        } else if (!dot && c == ' ') {
            key[o++] = '.';
            dot = true;
            gap = false;
        } else {
            gap = true;
        }
    }
    key[o] = '\0';
}

void bench_note(struct bench_report *r, const char *fmt, ...)
{
    if (r->json)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

double bench_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_figure(struct bench_report *r, const char *name, double value, const char *unit,
                  double target, enum bench_goal goal, double tolerance_pct)
{
    double ratio = target != 0 ? value / target : 0;
    int ok;
    char want[48];
    if (goal == BENCH_AT_LEAST) {
        ok = value >= target;
        snprintf(want, sizeof want, ">= %.4g", target);
    } else if (goal == BENCH_AT_MOST) {
        ok = value <= target;
        snprintf(want, sizeof want, "<= %.4g", target);
    } else {
        double dev = target != 0 ? (value - target) / target * 100.0 : 0;
        ok = dev <= tolerance_pct && dev >= -tolerance_pct;
        snprintf(want, sizeof want, "%.4g +-%.3g%%", target, tolerance_pct);
    }
    if (r->json) {
        char key[128];
        figure_key(name, key, sizeof key);
        json_object_set_new(r->json, key,
                            json_pack("{s:s, s:f, s:s, s:f, s:s, s:f, s:f, s:b}", "name", name,
                                      "value", value, "unit", unit, "target", target, "goal",
                                      goal == BENCH_AT_LEAST  ? "at_least"
                                      : goal == BENCH_AT_MOST ? "at_most"
                                                              : "within",
                                      "tolerance_pct", tolerance_pct, "ratio", ratio, "ok", ok));
    } else {
        printf("%-46s %12.4g %-8s target %-16s ratio %6.3f  %s\n", name, value, unit, want,
               ratio, ok ? "ok" : "MISSED");
    }
    r->figures++;
    if (!ok)
        r->missed++;
}

static const struct {
    const char *name;
    void (*fn)(struct bench_report *);
} benches[] = {
    /* one line per bench/bench_<name>.c */
    {"evq", bench_evq},
    {"tlp", bench_tlp},
    {"link", bench_link},
    {"iova", bench_iova},
    {"amdvi", bench_amdvi},
    {"amd_dma", bench_amd_dma},
    {"vtd", bench_vtd},
    {"seed", bench_seed},
    {"explain", bench_explain},
    {"edu", bench_edu},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    sim_heap_use_huge_pages(); /* as pcilab does: in-process figures alike */
    const char *only = NULL;
    struct bench_report r = {0, 0, NULL};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            r.json = json_object();
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: pcilab-bench [--json] [NAME]\n\nRuns every benchmark (or the one "
                   "named) and prints each figure with\nits target and the ratio to it; "
                   "--json prints one object with a key per figure.\n");
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "pcilab-bench: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (!only) {
            only = argv[i];
        } else {
            fprintf(stderr, "pcilab-bench: one benchmark name only\n");
            return 2;
        }
    }
    bool found = false;
    for (size_t i = 0; benches[i].fn; i++)
        if (!only || !strcmp(only, benches[i].name)) {
            benches[i].fn(&r);
            found = true;
        }
    if (!found) {
        fprintf(stderr, "pcilab-bench: no benchmark '%s'; there are:", only);
        for (size_t i = 0; benches[i].fn; i++)
            fprintf(stderr, " %s", benches[i].name);
        fprintf(stderr, "\n");
        json_decref(r.json);
        return 2;
    }
    if (r.json) {
        char *text = json_dumps(r.json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(r.json);
        if (!text)
            return 2;
        printf("%s\n", text);
        free(text);
    } else {
        printf("%d figures, %d missed\n", r.figures, r.missed);
    }
    return r.missed ? 1 : 0;
}
