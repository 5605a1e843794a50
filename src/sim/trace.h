/* Trace sinks. Higher layers decode what they trace (the pcie layer formats
 * TLPs) and hand generic records here; each open sink writes them in its form:
 *  - text:  analyzer-style aligned columns, one line per record, a header line;
 *  - jsonl: one JSON object per line: t_ps, duration_ps, where, dir, kind, text,
 *           then the record's own members;
 *  - vcd:   IEEE 1364 value change dump of the declared signals, for GTKWave.
 * Several sinks may be open at once. Nothing is written when no sink is open;
 * callers check sim_trace_enabled() before formatting. */
#ifndef PCILAB_SIM_TRACE_H
#define PCILAB_SIM_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/err.h"
#include "sim/time.h"

enum sim_trace_dir {
    SIM_TRACE_NONE = 0,
    SIM_TRACE_UP,   /* towards the root complex */
    SIM_TRACE_DOWN, /* away from the root complex */
};

enum sim_trace_format {
    SIM_TRACE_AUTO = 0, /* from the file name: .txt/.log, .jsonl/.json, .vcd */
    SIM_TRACE_TEXT,
    SIM_TRACE_JSONL,
    SIM_TRACE_VCD,
};

struct sim_trace_rec {
    sim_time_t t, duration;
    const char *where;       /* link or object name */
    enum sim_trace_dir dir;
    const char *kind;        /* "TLP", "DLLP", "event", ... */
    const char *text;        /* one-line decoded summary */
    const char *json;        /* members of a JSON object without the braces
                                (e.g. "\"fmt\":\"MWr\",\"len\":32"), or NULL */
};

struct sim_trace;

struct sim_trace *sim_trace_create(void);
/* Closes every sink first. */
void sim_trace_destroy(struct sim_trace *tr);

/* Parses "auto", "text", "jsonl" (or "json"), "vcd"; NULL means auto. */
int sim_trace_parse_format(const char *name, enum sim_trace_format *out,
                           struct pcilab_err *err);

/* Opens a sink writing to path ("-" is stdout). format: a name as above or NULL.
 * Returns 0 or a negative PCILAB_E* code (unknown format, cannot open, auto
 * format with an unknown extension). */
int sim_trace_open(struct sim_trace *tr, const char *path, const char *format,
                   struct pcilab_err *err);
/* Opens a sink on an open stream that stays the caller's (not closed). AUTO is
 * not allowed here. */
int sim_trace_open_stream(struct sim_trace *tr, FILE *f, enum sim_trace_format format,
                          struct pcilab_err *err);

/* True when at least one sink would write records. */
bool sim_trace_enabled(const struct sim_trace *tr);
/* True when at least one VCD sink is open. */
bool sim_trace_signals_enabled(const struct sim_trace *tr);

void sim_trace_emit(struct sim_trace *tr, const struct sim_trace_rec *rec);

/* Declares a VCD signal "scope.sub.name" of width bits (1..64). scope is dotted
 * ("fabric.link0"); each part becomes a nested $scope module. All signals must be
 * declared before the first change (the header is written then). Returns the
 * signal id (>= 0) or a negative PCILAB_E* code. */
int sim_trace_signal(struct sim_trace *tr, const char *scope, const char *name,
                     unsigned width, struct pcilab_err *err);
/* Records a value change at time t (times must not decrease; an earlier t is
 * written at the last time). Values are masked to the signal's width. */
void sim_trace_change(struct sim_trace *tr, sim_time_t t, int sig, uint64_t value);

/* Flushes and closes every sink. Returns 0, or -PCILAB_EIO if any write
 * failed since the sink was opened. */
int sim_trace_close(struct sim_trace *tr, struct pcilab_err *err);

#endif
