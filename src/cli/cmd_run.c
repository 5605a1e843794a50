/* pcilab run: bring a scenario's machine up and simulate it.
 *
 * A run loads the scenario, builds the fabric with its device models and
 * IOMMUs, enumerates it by configuration TLPs the way Linux does at boot,
 * applies --set to the device models, boots the modelled kernel (firmware
 * tables, IOMMU driver, the scenario's modules at their times) and runs the
 * simulation for the requested time; it prints the kernel log as dmesg does,
 * the machine and what the device models did. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devices/devices.h"
#include "diag/dma_watch.h"
#include "cli/cli.h"
#include "cli/machine.h"
#include "cli/run_diag.h"
#include "cli/run_setup.h"
#include "host/irq.h"
#include "host/pci.h"
#include "iommu/amdvi.h"
#include "iommu/iommu.h"
#include "iommu/router.h"
#include "iommu/vtd.h"
#include "pcie/caps.h"
#include "pcie/link.h"
#include "sim/log.h"
#include "sim/sim.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pcilab run [SCENARIO|FILE.yaml] [--kernel VER] [--cmdline \"...\"]\n"
            "                  [--set KEY=VALUE]... [--duration TIME] [--trace FILE]\n"
            "                  [--vcd FILE] [--json]\n"
            "\n"
            "Brings the scenario's machine up (default: the built-in 'seed'), enumerates\n"
            "its PCI Express fabric as Linux does at boot, boots the modelled Linux kernel\n"
            "on it and simulates it. The kernel log is printed as dmesg prints it.\n"
            "\n"
            "  --kernel VERSION      the kernel to model: 4.9, 4.20, 5.15 or 6.1 (any\n"
            "                        release of those, e.g. 4.9.80 or 6.1.0-13-amd64;\n"
            "                        default: the scenario's kernel:, else 6.1)\n"
            "  --cmdline \"ARGS\"      the kernel command line (default: the scenario's),\n"
            "                        e.g. \"iommu=pt\" or \"amd_iommu=off\"\n"
            "  --set KEY=VALUE       change the scenario, as its set: would; repeatable.\n"
            "                        KEY is TARGET.NAME: kernel.version, kernel.cmdline,\n"
            "                        a device model's parameter (ecp5.requester_id=captured,\n"
            "                        ecp5.payload=512; TARGET: the function's label, its\n"
            "                        BB:DD.F or the model's name) or a driver's module\n"
            "                        parameter (ecp5_dma.dma_bits=64); or iommu=KIND, the\n"
            "                        machine's IOMMU: vtd, vtd-sm (VT-d in scalable mode),\n"
            "                        amd-vi or none (edu-ok --set iommu=vtd-sm). '--set\n"
            "                        help' lists every key (docs/scenarios.md)\n"
            "  --dma-debug           a kernel built with CONFIG_DMA_API_DEBUG: DMA API\n"
            "                        misuse is reported as Linux's dma-debug does\n"
            "  --duration TIME       simulated time to run, e.g. 1s, 20ms, 100us (default 1s;\n"
            "                        --until is the same)\n"
            "  --trace FILE          write a TLP/DLLP trace ('-' for stdout)\n"
            "  --trace-format FMT    text, jsonl or vcd (default: from FILE's extension,\n"
            "                        .vcd, .jsonl/.json, else text)\n"
            "  --vcd FILE            write the links' signals as a VCD waveform (GTKWave),\n"
            "                        alone or besides --trace\n"
            "  --json                print the result as JSON (docs/run-json.md)\n"
            "  --no-diagnose         no diagnosis of the IOMMU faults (and no re-run with a fix)\n"
            "  -h, --help            this help\n"
            "\n"
            "Options taking a value also take it as --option=VALUE. SCENARIO is a built-in\n"
            "name (see 'pcilab scenarios') or a scenario file.\n");
}

/* "1s", "2.5ms", "100us", "500ns", "1000ps" or plain seconds. NULL when
 * parsed, else what is wrong with s. */
static const char *parse_time(const char *s, sim_time_t *out)
{
    static const char *const bad = "expected a time such as 1s, 2.5ms, 100us or 500ns";
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0))
        return bad;
    static const struct {
        const char *unit;
        double ps;
    } units[] = {{"", 1e12}, {"s", 1e12}, {"ms", 1e9}, {"us", 1e6}, {"ns", 1e3}, {"ps", 1}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].unit)) {
            double ps = round(v * units[i].ps);
            /* 2^63 ps keeps every time exact in --json (64-bit signed integers) */
            if (ps >= 9223372036854775807.0)
                return "longer than a run may be (2^63 ps, about 106 days)";
            *out = (sim_time_t)ps;
            return NULL;
        }
    return bad;
}

static const char *speed_name(unsigned gen)
{
    static const char *const n[] = {"?", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s"};
    return gen < sizeof n / sizeof n[0] ? n[gen] : "?";
}

/* "5GT/s x1", "down" or "" for functions without a PCI Express link. */
static void link_text(const struct pcie_fn *fn, char *buf, size_t len)
{
    const struct pcie_cfg *cfg = pcie_fn_cfg(fn);
    enum pcie_fn_kind k = pcie_fn_kind(fn);
    buf[0] = '\0';
    if (k == PCIE_FN_HOST_BRIDGE || k == PCIE_FN_RCIEP || !pcie_cap_find(cfg, 0x10))
        return;
    uint8_t speed, width;
    bool active;
    pcie_exp_link(cfg, &speed, &width, &active);
    if (!width)
        snprintf(buf, len, "down");
    else
        snprintf(buf, len, "%s x%u", speed_name(speed), width);
}

/* One function as both the table and the JSON show it. */
struct fn_row {
    char bdf[8], id[10], cls[8], link[32];
    const char *kind;
};

static void fn_row(const struct scn_sysfn *sf, struct fn_row *r)
{
    const struct pcie_cfg *cfg = pcie_fn_cfg(sf->fn);
    pcie_bdf_str(pcie_fn_bdf(sf->fn), r->bdf);
    r->kind = pcie_fn_kind_name(pcie_fn_kind(sf->fn));
    snprintf(r->id, sizeof r->id, "%04x:%04x", pcie_cfg_raw_read16(cfg, 0),
             pcie_cfg_raw_read16(cfg, 2));
    snprintf(r->cls, sizeof r->cls, "%06x", pcie_cfg_raw_read32(cfg, 8) >> 8);
    link_text(sf->fn, r->link, sizeof r->link);
}

/* Indices of the machine's functions in BDF order (free it); NULL when that
 * cannot be had. */
static size_t *bdf_order(const struct cli_machine *m)
{
    size_t n = scn_system_count(m->sys);
    size_t *order = calloc(n ? n : 1, sizeof *order);
    if (order && scn_system_bdf_order(m->sys, order, NULL) != 0) {
        free(order);
        order = NULL;
    }
    return order;
}

/* ---- What one device did: the model's own counters, what reached the root
 * complex from it, and the interrupts its driver handled. ---- */
struct dev_summary {
    struct dev_counters dev;       /* as the model counts (sent) */
    struct cli_fn_counts rc;       /* at the root complex (cli_machine_counts) */
    uint64_t msis_handled;         /* by its driver's handlers (/proc/interrupts) */
};

static void dev_summary(const struct cli_machine *m, size_t i, struct dev_summary *d)
{
    const struct scn_sysfn *sf = scn_system_at(m->sys, i);
    memset(d, 0, sizeof *d);
    dev_model_counters(sf->dev, &d->dev);
    const struct cli_fn_counts *c = cli_machine_counts(m, i);
    if (c)
        d->rc = *c;
    for (unsigned irq = 0; m->kernel && irq < HOST_NR_IRQS; irq++) {
        const struct host_irq_desc *desc = host_irq_desc(m->kernel, irq);
        if (desc && desc->pdev && desc->pdev->fn == sf->fn)
            d->msis_handled += desc->count;
    }
}

/* ---- Text output, one function per section ---- */

static void text_header(const struct cli_machine *m)
{
    const struct pcie_fabric *f = scn_system_fabric(m->sys);
    printf("%s: %s\n", m->desc.name, m->desc.description);
    printf("scenario %s, seed %llu\n\n", m->desc.source, (unsigned long long)m->desc.seed);
    printf("PCI enumeration: %u functions, buses %02x-%02x, %u configuration reads, "
           "%u writes\n", m->rep.functions, pcie_fabric_config(f)->root_bus, m->rep.max_bus,
           m->rep.cfg_reads, m->rep.cfg_writes);
    /* with a kernel, its log carries these lines where boot prints them */
    for (size_t i = 0; !m->kernel && i < m->rep.n; i++) {
        char line[256];
        pcie_enum_step_format(&m->rep.steps[i], pcie_fabric_config(f)->segment, line,
                              sizeof line);
        printf("  %s\n", line);
    }
}

/* The kernel log as it is produced, like dmesg -w: the records stored so far,
 * then each one as it completes (sim_log_set_sink), then after the run what is
 * left open. The output is the same as printing the log after the run as long
 * as the ring drops nothing (when it does, the stream has shown the records it
 * dropped, as dmesg -w would have).
 *
 * When a reader may be waiting (stdout a pipe, a socket or a terminal), stdout
 * is flushed when the clock is about to move past records just printed, but
 * not sooner than FLUSH_GAP_NS of wall time after the previous flush: a write
 * per batch of records costs some 7 us here, 800 batches (6 ms) per simulated
 * second of the seed machine, several times the simulation itself; with the gap
 * a line reaches the reader at most 0.1 ms after the simulation made it. A
 * file is left to stdio's buffering. */
#define FLUSH_GAP_NS 100000

struct log_stream {
    uint64_t next_seq;  /* the first record not printed yet */
    bool dirty;         /* printed since the last flush */
    bool flush;         /* a reader may be waiting */
    uint64_t flushed;   /* CLOCK_MONOTONIC of the last flush, ns */
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void stream_rec(void *ctx, const struct sim_log_rec *rec)
{
    struct log_stream *s = ctx;
    sim_log_write(rec, stdout, 0);
    s->next_seq = rec->seq + 1;
    s->dirty = true;
}

/* sim_set_advance_hook: the events of one instant have run. */
static void stream_flush(void *ctx, sim_time_t now, sim_time_t next)
{
    struct log_stream *s = ctx;
    (void)now;
    (void)next;
    if (!s->dirty)
        return;
    uint64_t t = mono_ns();
    if (t - s->flushed < FLUSH_GAP_NS)
        return;
    fflush(stdout);
    s->dirty = false;
    s->flushed = t;
}

static void text_kernel_log_header(const struct cli_machine *m)
{
    printf("\nKernel log (Linux %s, command line \"%s\"):\n", host_kver_name(m->kernel->kver),
           m->kernel->cmdline);
}

static void text_kernel_log_start(const struct cli_machine *m, struct log_stream *s)
{
    text_kernel_log_header(m);
    struct sim_log *log = sim_log(m->sim);
    s->next_seq = sim_log_next_seq(log);
    s->dirty = true;
    struct sim_log_rec rec;
    for (size_t i = 0; i < sim_log_count(log) && sim_log_get(log, i, &rec); i++) {
        if (rec.open) { /* the newest, still open: the sink gets it when it completes */
            s->next_seq = rec.seq;
            break;
        }
        sim_log_write(&rec, stdout, 0);
    }
    sim_log_set_sink(log, stream_rec, s);
    struct stat st;
    s->flush = fstat(STDOUT_FILENO, &st) == 0 &&
               (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(STDOUT_FILENO));
    if (s->flush) {
        sim_set_advance_hook(m->sim, stream_flush, s);
        fflush(stdout);
        s->dirty = false;
        s->flushed = mono_ns();
    }
}

/* After the run: what is still open; the reader gets the log whole before the
 * diagnosis (which runs the machine again) is worked out. */
static void text_kernel_log_end(const struct cli_machine *m, struct log_stream *s)
{
    sim_log_set_sink(sim_log(m->sim), NULL, NULL);
    sim_set_advance_hook(m->sim, NULL, NULL);
    sim_log_dump_from(sim_log(m->sim), s->next_seq, stdout, 0);
    if (s->flush)
        fflush(stdout);
}

static void text_functions(const struct cli_machine *m)
{
    size_t n = scn_system_count(m->sys);
    size_t *order = bdf_order(m);
    if (order) {
        printf("\n  %-8s %-22s %-10s %-7s %-12s %s\n", "BDF", "kind", "ID", "class", "link",
               "name / model");
        for (size_t j = 0; j < n; j++) {
            const struct scn_sysfn *sf = scn_system_at(m->sys, order[j]);
            struct fn_row r;
            fn_row(sf, &r);
            char who[2 * SCN_NAME_MAX + 4];
            snprintf(who, sizeof who, "%s%s%s", sf->name, sf->name[0] && sf->model[0] ? " / " : "",
                     sf->model);
            char row[256];
            int len = snprintf(row, sizeof row, "  %-8s %-22s %-10s %-7s %-12s %s", r.bdf, r.kind,
                               r.id, r.cls, r.link, who);
            while (len > 0 && (size_t)len < sizeof row && row[len - 1] == ' ')
                row[--len] = '\0';
            printf("%s\n", row);
        }
    }
    free(order);
}

static void text_devices(const struct cli_machine *m)
{
    bool any = false;
    for (size_t i = 0; i < scn_system_count(m->sys); i++) {
        const struct scn_sysfn *sf = scn_system_at(m->sys, i);
        if (!sf->model[0])
            continue;
        char bdf[8];
        pcie_bdf_str(pcie_fn_bdf(sf->fn), bdf);
        printf("%s%s at %s", any ? "\n  " : "\ndevice models attached:\n  ", sf->model, bdf);
        if (sf->dev) {
            struct dev_summary d;
            dev_summary(m, i, &d);
            printf(": %llu DMA cycles, %llu write TLPs (%llu bytes), %llu read TLPs, "
                   "%llu MSIs", (unsigned long long)d.dev.cycles,
                   (unsigned long long)d.dev.write_tlps, (unsigned long long)d.dev.write_bytes,
                   (unsigned long long)d.dev.read_tlps, (unsigned long long)d.dev.msis);
            printf("\n    at the root complex: %llu writes (%llu refused), %llu bytes "
                   "delivered, %llu reads (%llu refused), %llu MSIs (%llu refused, %llu "
                   "handled)", (unsigned long long)d.rc.writes,
                   (unsigned long long)d.rc.write_faults,
                   (unsigned long long)d.rc.bytes_delivered, (unsigned long long)d.rc.reads,
                   (unsigned long long)d.rc.read_faults, (unsigned long long)d.rc.msis,
                   (unsigned long long)d.rc.msi_faults, (unsigned long long)d.msis_handled);
            const char *e = dev_model_error(sf->dev);
            if (e)
                printf("\n    stopped: %s", e);
        }
        any = true;
    }
    if (any)
        printf("\n");
}

static void text_footer(const struct cli_machine *m)
{
    sim_time_t now = sim_now(m->sim);
    printf("\nsimulated %llu.%09llu s, %llu events\n", (unsigned long long)(now / SIM_S),
           (unsigned long long)(now % SIM_S / SIM_NS), (unsigned long long)sim_events_run(m->sim));
}

/* The DMA watch (src/diag/dma_watch.h): on the machine's fabric and its
 * IOMMU there, when a kernel runs. */
static struct diag_dma_watch *watch_start(const struct cli_machine *m)
{
    struct pcie_fabric *f = scn_system_fabric(m->sys);
    struct iommu *io = NULL;
    for (size_t i = 0; i < scn_system_iommu_count(m->sys) && !io; i++)
        if (scn_system_iommu(m->sys, i)->iommu &&
            scn_system_iommu(m->sys, i)->iommu->fabric == f)
            io = scn_system_iommu(m->sys, i)->iommu;
    struct diag_dma_watch *w = m->kernel ? diag_dma_watch_create(m->kernel, f, io) : NULL;
    /* VT-d: every DRHD's unit on the fabric's upstream path */
    for (size_t i = 0; w && !io && i < scn_system_vtd_count(m->sys); i++)
        diag_dma_watch_add_iommu(w, vtd_iommu(scn_system_vtd(m->sys, i)));
    return w;
}

static void print_line(void *ctx, const char *text)
{
    fprintf(ctx, "%s\n", text);
}

static json_t *json_dma_watch(const struct diag_dma_watch *w)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < diag_dma_watch_count(w); i++) {
        const struct diag_dma_stray *s = diag_dma_watch_at(w, i);
        char rid[8];
        pcie_bdf_str(s->rid, rid);
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s}",
                         "requester", rid, "device", s->device,
                         "access", s->write ? "write" : "read",
                         "kind", s->kind == DIAG_STRAY_OUTSIDE ? "outside" : "direction",
                         "page", (json_int_t)(s->page << 12), "first_pa", (json_int_t)s->first_pa,
                         "last_pa", (json_int_t)s->last_pa, "first_device_addr",
                         (json_int_t)s->first_bus, "bytes", (json_int_t)s->bytes,
                         "requests", (json_int_t)s->tlps, "first_ps", (json_int_t)s->first,
                         "owner", s->owner, "near", s->near, "mappings", s->mappings));
    }
    return a;
}

/* What comes after the kernel log. */
static void print_machine(const struct cli_machine *m, struct run_diag *dg,
                          const struct diag_dma_watch *dw)
{
    text_functions(m);
    text_devices(m);
    run_diag_print(dg); /* "Diagnosis" (src/diag/iommu_diag.h), with the fix re-run */
    if (dw && diag_dma_watch_count(dw)) {
        printf("\n");
        diag_dma_watch_report(dw, print_line, stdout);
    }
    if (m->kernel)
        run_setup_print(m, stdout); /* "Configuration" (src/diag/setup.h) */
    text_footer(m);
}

/* ---- JSON output (docs/run-json.md), one function per section ---- */

#define RUN_JSON_SCHEMA "pcilab-run/1"

static json_t *json_u64(uint64_t v)
{
    /* every count and time stays below 2^63 (parse_time bounds the run) */
    return json_integer((json_int_t)v);
}

static json_t *json_scenario(const struct cli_machine *m)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "name", m->desc.name, "description",
                     m->desc.description, "source", m->desc.source, "seed",
                     json_u64(m->desc.seed));
}

static json_t *json_simulation(const struct cli_machine *m, sim_time_t duration)
{
    return json_pack("{s:o, s:o, s:o}", "duration_ps", json_u64(duration), "simulated_ps",
                     json_u64(sim_now(m->sim)), "events", json_u64(sim_events_run(m->sim)));
}

static json_t *json_enumeration(const struct cli_machine *m)
{
    const struct pcie_fabric *f = scn_system_fabric(m->sys);
    json_t *steps = json_array();
    for (size_t i = 0; i < m->rep.n; i++) {
        char line[256];
        pcie_enum_step_format(&m->rep.steps[i], pcie_fabric_config(f)->segment, line,
                              sizeof line);
        json_array_append_new(steps, json_string(line));
    }
    return json_pack("{s:i, s:i, s:i, s:i, s:o}", "functions", m->rep.functions, "max_bus",
                     m->rep.max_bus, "config_reads", m->rep.cfg_reads, "config_writes",
                     m->rep.cfg_writes, "log", steps);
}

static json_t *json_kernel(const struct cli_machine *m)
{
    if (!m->kernel)
        return json_null();
    static const char *const levels[] = {"emerg", "alert", "crit", "err",
                                         "warning", "notice", "info", "debug"};
    json_t *lines = json_array();
    struct sim_log *log = sim_log(m->sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec rec;
        if (!sim_log_get(log, i, &rec))
            continue;
        /* the text without its ending newline, as dmesg shows it */
        size_t len = rec.len;
        while (len && rec.text[len - 1] == '\n')
            len--;
        json_array_append_new(lines, json_pack("{s:o, s:i, s:s, s:s%}", "ts_ps", json_u64(rec.ts),
                                               "level", rec.level, "level_name",
                                               levels[rec.level & 7], "text", rec.text, len));
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "version", host_kver_name(m->kernel->kver),
                     "cmdline", m->kernel->cmdline, "log", lines, "log_dropped",
                     json_u64(sim_log_dropped(log)));
}

static json_t *json_functions(const struct cli_machine *m)
{
    json_t *fns = json_array();
    size_t n = scn_system_count(m->sys);
    size_t *order = bdf_order(m);
    for (size_t j = 0; order && j < n; j++) {
        const struct scn_sysfn *sf = scn_system_at(m->sys, order[j]);
        struct fn_row r;
        fn_row(sf, &r);
        json_array_append_new(fns, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "bdf", r.bdf,
                                             "kind", r.kind, "id", r.id, "class", r.cls, "link",
                                             r.link, "name", sf->name, "model", sf->model));
    }
    free(order);
    return fns;
}

/* One IOMMU's counters (counters.iommus[]): bdf is its function's, or null
 * for a VT-d unit. */
static json_t *json_iommu(json_t *bdf, const struct iommu *io, uint64_t events_logged)
{
    const struct iommu_stats *st = &io->stats;
    return json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "bdf", bdf,
                     "name", io->name, "arch", io->ops->arch, "translations",
                     json_u64(st->translations), "faults", json_u64(st->faults), "iotlb_hits",
                     json_u64(st->iotlb_hits), "iotlb_misses", json_u64(st->iotlb_misses),
                     "interrupts_remapped", json_u64(st->interrupts), "interrupts_blocked",
                     json_u64(st->interrupts_blocked), "passthrough", json_u64(st->passthrough),
                     "events_logged", json_u64(events_logged));
}

/* counters.devices[], counters.iommus[] and counters.totals */
static json_t *json_counters(const struct cli_machine *m)
{
    json_t *devs = json_array();
    struct dev_summary t;
    memset(&t, 0, sizeof t);
    size_t n = scn_system_count(m->sys);
    size_t *order = bdf_order(m);
    for (size_t j = 0; order && j < n; j++) {
        const struct scn_sysfn *sf = scn_system_at(m->sys, order[j]);
        if (!sf->dev)
            continue;
        struct dev_summary d;
        dev_summary(m, order[j], &d);
        char bdf[8];
        pcie_bdf_str(pcie_fn_bdf(sf->fn), bdf);
        json_t *sent = json_pack(
            "{s:o, s:o, s:o, s:o, s:o}", "tlps", json_u64(d.dev.tlps), "mem_write",
            json_u64(d.dev.write_tlps), "mem_write_bytes", json_u64(d.dev.write_bytes),
            "mem_read", json_u64(d.dev.read_tlps), "msi", json_u64(d.dev.msis));
        json_t *recv = json_pack(
            "{s:o, s:o, s:o, s:o, s:o, s:o}", "completions",
            json_u64(d.dev.reads_completed + d.dev.cpl_ur + d.dev.cpl_ca), "cpl_sc",
            json_u64(d.dev.reads_completed), "cpl_ur", json_u64(d.dev.cpl_ur), "cpl_ca",
            json_u64(d.dev.cpl_ca), "read_bytes", json_u64(d.dev.read_bytes), "read_timeouts",
            json_u64(d.dev.read_timeouts));
        json_t *rc = json_pack("{s:o, s:o, s:o}", "mem_write", json_u64(d.rc.writes),
                               "mem_read", json_u64(d.rc.reads), "msi", json_u64(d.rc.msis));
        uint64_t faults = d.rc.write_faults + d.rc.read_faults + d.rc.msi_faults;
        json_t *fj = json_pack("{s:o, s:o, s:o, s:o}", "total", json_u64(faults), "mem_write",
                               json_u64(d.rc.write_faults), "mem_read",
                               json_u64(d.rc.read_faults), "msi", json_u64(d.rc.msi_faults));
        json_t *irq = json_pack("{s:o, s:o, s:o, s:o, s:o}", "msis_sent", json_u64(d.dev.msis),
                                "msis_handled", json_u64(d.msis_handled), "msis_folded",
                                json_u64(d.dev.msis_folded), "msis_held",
                                json_u64(d.dev.msis_held), "msis_dropped",
                                json_u64(d.dev.msis_dropped));
        json_t *model = json_pack("{s:o, s:o, s:o}", "cycles", json_u64(d.dev.cycles), "skipped",
                                  json_u64(d.dev.skipped), "events", json_u64(d.dev.events));
        json_array_append_new(
            devs, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "bdf", bdf,
                            "name", sf->name, "model", sf->model, "tlps_sent", sent,
                            "tlps_received", recv, "at_root_complex", rc, "faults", fj,
                            "interrupts", irq, "bytes_delivered",
                            json_u64(d.rc.bytes_delivered), "model_counters", model));
        t.dev.tlps += d.dev.tlps;
        t.dev.msis += d.dev.msis;
        t.rc.write_faults += faults;
        t.rc.bytes_delivered += d.rc.bytes_delivered;
        t.msis_handled += d.msis_handled;
    }
    free(order);

    json_t *ios = json_array();
    struct iommu_stats it;
    memset(&it, 0, sizeof it);
    for (size_t i = 0; i < scn_system_iommu_count(m->sys); i++) {
        const struct scn_sysiommu *si = scn_system_iommu(m->sys, i);
        if (!si->iommu)
            continue;
        const struct iommu_stats *st = &si->iommu->stats;
        struct amdvi_stats as;
        memset(&as, 0, sizeof as);
        if (si->amdvi)
            amdvi_get_stats(si->amdvi, &as);
        char bdf[8];
        pcie_bdf_str(pcie_fn_bdf(si->fn), bdf);
        json_array_append_new(ios, json_iommu(json_string(bdf), si->iommu, as.events_logged));
        it.translations += st->translations;
        it.faults += st->faults;
    }
    /* VT-d: one unit per DRHD, not a PCI function (bdf null) */
    for (size_t i = 0; i < scn_system_vtd_count(m->sys); i++) {
        struct vtd *v = scn_system_vtd(m->sys, i);
        const struct iommu *io = vtd_iommu(v);
        const struct iommu_stats *st = &io->stats;
        struct vtd_stats vs;
        vtd_get_stats(v, &vs);
        json_t *o = json_iommu(json_null(), io, vs.faults_recorded);
        json_object_set_new(o, "base", json_u64(vtd_get_config(v)->mmio_base));
        json_object_set_new(o, "events_lost", json_u64(vs.faults_dropped));
        json_array_append_new(ios, o);
        it.translations += st->translations;
        it.faults += st->faults;
    }
    struct iommu_router *r = scn_system_vtd_router(m->sys);
    json_t *tot = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "tlps_sent",
                            json_u64(t.dev.tlps), "device_faults", json_u64(t.rc.write_faults),
                            "msis_sent", json_u64(t.dev.msis), "msis_handled",
                            json_u64(t.msis_handled), "bytes_delivered",
                            json_u64(t.rc.bytes_delivered), "iommu_translations",
                            json_u64(it.translations), "iommu_faults", json_u64(it.faults),
                            "iommu_bypassed", json_u64(r ? iommu_router_untranslated(r) : 0));
    return json_pack("{s:o, s:o, s:o}", "devices", devs, "iommus", ios, "totals", tot);
}

static int print_json(const struct cli_machine *m, sim_time_t duration, struct run_diag *dg,
                      const struct diag_dma_watch *dw)
{
    json_t *root = json_object();
    json_object_set_new(root, "schema", json_string(RUN_JSON_SCHEMA));
    json_object_set_new(root, "scenario", json_scenario(m));
    json_object_set_new(root, "simulation", json_simulation(m, duration));
    json_object_set_new(root, "enumeration", json_enumeration(m));
    if (m->kernel)
        json_object_set_new(root, "setup", run_setup_json(m));
    json_object_set_new(root, "kernel", json_kernel(m));
    json_object_set_new(root, "functions", json_functions(m));
    json_object_set_new(root, "counters", json_counters(m));
    if (dg)
        json_object_set_new(root, "diagnosis", run_diag_json(dg));
    if (dw && diag_dma_watch_count(dw))
        json_object_set_new(root, "dma_watch", json_dma_watch(dw));
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s)
        return 1;
    printf("%s\n", s);
    free(s);
    return 0;
}

/* Options that take a value; the value is the next word or after '='. */
static const char *const value_opts[] = {"--duration", "--until", "--trace", "--trace-format",
                                         "--vcd", "--kernel", "--cmdline", "--set", NULL};

int cmd_run(int argc, char **argv)
{
    const char *scenario = NULL;
    struct cli_machine_opts opts = {0};
    bool json = false, diagnose = true, set_help = false, set_refused = false;
    sim_time_t until = SIM_S;
    const char *sets[64];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char name[32];
        const char *v = NULL, *why;
        const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
        bool takes = false;
        for (const char *const *o = value_opts; *o; o++)
            takes |= !strcmp(name, *o);
        if (takes) {
            if (eq) {
                v = eq + 1;
            } else if (i + 1 >= argc) {
                fprintf(stderr, "pcilab run: %s needs a value (try --help)\n", a);
                return 2;
            } else {
                v = argv[++i];
            }
        } else if (eq) {
            fprintf(stderr, "pcilab run: unknown option '%s' (try --help)\n", a);
            return 2;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-diagnose")) {
            diagnose = false;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--dma-debug")) {
            opts.dma_debug = true;
        } else if (!strcmp(name, "--trace")) {
            opts.trace = v;
        } else if (!strcmp(name, "--vcd")) {
            opts.vcd = v;
        } else if (!strcmp(name, "--kernel")) {
            opts.version = v;
        } else if (!strcmp(name, "--cmdline")) {
            opts.cmdline = v;
        } else if (!strcmp(name, "--trace-format")) {
            opts.trace_format = v;
        } else if (!strcmp(name, "--set")) {
            if (!strcmp(v, "help") || !strcmp(v, "list")) {
                set_help = true;
                continue;
            }
            if (opts.nsets == sizeof sets / sizeof sets[0]) {
                fprintf(stderr, "pcilab run: --set '%s': at most %zu --set options\n", v,
                        sizeof sets / sizeof sets[0]);
                return 2;
            }
            sets[opts.nsets++] = v;
        } else if (!strcmp(name, "--duration") || !strcmp(name, "--until")) {
            if ((why = parse_time(v, &until))) {
                fprintf(stderr, "pcilab run: %s '%s': %s\n", name, v, why);
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "pcilab run: unknown option '%s' (try --help)\n", a);
            return 2;
        } else if (!scenario) {
            scenario = a;
        } else {
            fprintf(stderr, "pcilab run: one scenario only ('%s' and '%s')\n", scenario, a);
            return 2;
        }
    }
    if (set_help)
        return cli_print_keys(stdout, false);
    if (opts.trace_format && !opts.trace) {
        fprintf(stderr, "pcilab run: --trace-format '%s' without --trace\n", opts.trace_format);
        return 2;
    }
    if (opts.vcd && opts.trace && !strcmp(opts.vcd, opts.trace)) {
        fprintf(stderr, "pcilab run: --vcd '%s': the same file as --trace\n", opts.vcd);
        return 2;
    }
    if (json && ((opts.trace && !strcmp(opts.trace, "-")) || (opts.vcd && !strcmp(opts.vcd, "-")))) {
        fprintf(stderr, "pcilab run: --json with a trace on stdout ('-'): write the trace to a "
                        "file\n");
        return 2;
    }

    opts.boot = true;
    opts.count = true;
    opts.sets = sets;
    opts.set_refused = &set_refused;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    struct cli_machine m;
    if (cli_machine_up(&m, scenario, &opts, &err) < 0) {
        int st = cli_fail("run", &err);
        return set_refused ? 2 : st;
    }
    struct run_diag *dg = diagnose ? run_diag_start(&m, scenario, &opts, until) : NULL;
    /* after the diagnosis' recorder: the watch chains the IOMMU observer */
    struct diag_dma_watch *dw = diagnose ? watch_start(&m) : NULL;
    run_diag_use_watch(dg, dw); /* the diagnosis reads its map/unmap history */
    /* text: the header, then the kernel log as the run makes it (with a trace
     * on stdout, both after the run as before: the trace comes first) */
    struct log_stream ls = {0, false, false, 0};
    bool stream = !json && !(opts.trace && !strcmp(opts.trace, "-")) &&
                  !(opts.vcd && !strcmp(opts.vcd, "-"));
    if (stream) {
        text_header(&m);
        if (m.kernel)
            text_kernel_log_start(&m, &ls);
    }
    sim_run_until(m.sim, until);
    if (stream) {
        if (m.kernel)
            text_kernel_log_end(&m, &ls);
    } else if (!json) {
        text_header(&m);
        if (m.kernel) {
            text_kernel_log_header(&m);
            sim_log_dump(sim_log(m.sim), stdout, 0);
        }
    }
    int status = json ? print_json(&m, until, dg, dw) : (print_machine(&m, dg, dw), 0);
    diag_dma_watch_destroy(dw);
    run_diag_end(dg);
    if ((opts.trace || opts.vcd) && sim_trace_close(sim_trace(m.sim), &err) < 0)
        status = cli_fail("run", &err);
    cli_machine_down(&m);
    return status;
}
