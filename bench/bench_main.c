#include "bench.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct bench_report {
    int figures, missed;
};

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
    } else {
        double dev = target != 0 ? (value - target) / target * 100.0 : 0;
        ok = dev <= tolerance_pct && dev >= -tolerance_pct;
        snprintf(want, sizeof want, "%.4g +-%.3g%%", target, tolerance_pct);
    }
    printf("%-46s %12.4g %-8s target %-16s ratio %6.3f  %s\n", name, value, unit, want, ratio,
           ok ? "ok" : "MISSED");
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
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    struct bench_report r = {0, 0};
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
        return 2;
    }
    printf("%d figures, %d missed\n", r.figures, r.missed);
    return r.missed ? 1 : 0;
}
