/* make bench: every figure is printed with its target and the ratio to it. */
#ifndef PCILAB_BENCH_H
#define PCILAB_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bench_goal {
    BENCH_AT_LEAST,  /* value >= target */
    BENCH_AT_MOST,   /* value <= target (times) */
    BENCH_WITHIN,    /* |value - target| <= tolerance_pct % of target */
};

struct bench_report;

void bench_figure(struct bench_report *r, const char *name, double value, const char *unit,
                  double target, enum bench_goal goal, double tolerance_pct);
/* An information line (not a figure): printed in text mode only, so that
 * --json stays one JSON object. */
void bench_note(struct bench_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Monotonic wall-clock seconds, for measuring rates (benchmarks only). */
double bench_seconds(void);

/* One spawn: when the first line holding `want` arrived on the pipe and when
 * the process had ended (seconds from the spawn), and its output's size. */
struct bench_spawn_times {
    double line;    /* negative when no such line came */
    double end;
    size_t bytes;
};
/* Spawns argv with stdout on a pipe and reads it as it comes, noting when
 * the first complete line containing `want` (if not NULL) arrived; then
 * reads the rest and waits. False when it could not run or did not exit
 * with status 0 (bench_spawn.c). */
bool bench_spawn_time(char *const argv[], const char *want, struct bench_spawn_times *t);
/* The pcilab binary beside pcilab-bench, into path; false if there is none. */
bool bench_pcilab_path(char *path, size_t len);

/* One function per benchmark file. */
void bench_evq(struct bench_report *r);
void bench_tlp(struct bench_report *r);
void bench_link(struct bench_report *r);
void bench_iova(struct bench_report *r);
void bench_amdvi(struct bench_report *r);
void bench_amd_dma(struct bench_report *r);
void bench_vtd(struct bench_report *r);
void bench_seed(struct bench_report *r);
void bench_explain(struct bench_report *r);
void bench_edu(struct bench_report *r);

#endif
