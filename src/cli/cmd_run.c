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

#include "devices/devices.h"
#include "cli/cli.h"
#include "cli/machine.h"
#include "cli/run_diag.h"
#include "cli/run_setup.h"
#include "pcie/caps.h"
#include "pcie/link.h"
#include "sim/log.h"
#include "sim/sim.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pcilab run [SCENARIO] [OPTIONS]\n"
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
            "  --set TARGET.KEY=VALUE  change a device model's parameter (TARGET: the\n"
            "                        function's label, its BB:DD.F or the model's name),\n"
            "                        e.g. --set ecp5.write_rid=captured; repeatable\n"
            "  --dma-debug           a kernel built with CONFIG_DMA_API_DEBUG: DMA API\n"
            "                        misuse is reported as Linux's dma-debug does\n"
            "  --until TIME          simulated time to run, e.g. 1s, 2.5ms, 100us (default 1s)\n"
            "  --trace FILE          write a TLP/DLLP trace ('-' for stdout)\n"
            "  --trace-format FMT    text, jsonl or vcd (default: from FILE's extension,\n"
            "                        .vcd, .jsonl/.json, else text)\n"
            "  --json                print the result as JSON\n"
            "  --no-diagnose         no diagnosis of the IOMMU faults (and no re-run with a fix)\n"
            "  -h, --help            this help\n"
            "\n"
            "SCENARIO is a built-in name (see 'pcilab scenarios') or a scenario file.\n");
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

static void print_machine(const struct cli_machine *m)
{
    const struct pcie_fabric *f = scn_system_fabric(m->sys);
    size_t n = scn_system_count(m->sys);
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

    if (m->kernel) {
        printf("\nKernel log (Linux %s, command line \"%s\"):\n",
               host_kver_name(m->kernel->kver), m->kernel->cmdline);
        sim_log_dump(sim_log(m->sim), stdout, 0);
    }

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

    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const struct scn_sysfn *sf = scn_system_at(m->sys, i);
        if (!sf->model[0])
            continue;
        char bdf[8];
        pcie_bdf_str(pcie_fn_bdf(sf->fn), bdf);
        printf("%s%s at %s", any ? "\n  " : "\ndevice models attached:\n  ", sf->model, bdf);
        if (sf->dev) {
            struct dev_counters c;
            dev_model_counters(sf->dev, &c);
            printf(": %llu DMA cycles, %llu write TLPs (%llu bytes), %llu read TLPs, "
                   "%llu MSIs", (unsigned long long)c.cycles, (unsigned long long)c.write_tlps,
                   (unsigned long long)c.write_bytes, (unsigned long long)c.read_tlps,
                   (unsigned long long)c.msis);
        }
        any = true;
    }
    if (any)
        printf("\n");
    sim_time_t now = sim_now(m->sim);
    printf("\nsimulated %llu.%09llu s, %llu events\n", (unsigned long long)(now / SIM_S),
           (unsigned long long)(now % SIM_S / SIM_NS), (unsigned long long)sim_events_run(m->sim));
}

static int print_json(const struct cli_machine *m, struct run_diag *dg)
{
    const struct pcie_fabric *f = scn_system_fabric(m->sys);
    json_t *root = json_object();
    json_object_set_new(root, "scenario", json_string(m->desc.name));
    json_object_set_new(root, "description", json_string(m->desc.description));
    json_object_set_new(root, "source", json_string(m->desc.source));
    json_object_set_new(root, "seed", json_integer((json_int_t)m->desc.seed));
    json_t *en = json_object();
    json_object_set_new(en, "functions", json_integer(m->rep.functions));
    json_object_set_new(en, "max_bus", json_integer(m->rep.max_bus));
    json_object_set_new(en, "config_reads", json_integer(m->rep.cfg_reads));
    json_object_set_new(en, "config_writes", json_integer(m->rep.cfg_writes));
    json_t *steps = json_array();
    for (size_t i = 0; i < m->rep.n; i++) {
        char line[256];
        pcie_enum_step_format(&m->rep.steps[i], pcie_fabric_config(f)->segment, line,
                              sizeof line);
        json_array_append_new(steps, json_string(line));
    }
    json_object_set_new(en, "log", steps);
    json_object_set_new(root, "enumeration", en);
    if (m->kernel) {
        json_t *kj = json_object();
        json_object_set_new(kj, "version", json_string(host_kver_name(m->kernel->kver)));
        json_object_set_new(kj, "cmdline", json_string(m->kernel->cmdline));
        json_t *lines = json_array();
        struct sim_log *log = sim_log(m->sim);
        for (size_t i = 0; i < sim_log_count(log); i++) {
            struct sim_log_rec rec;
            if (!sim_log_get(log, i, &rec))
                continue;
            json_array_append_new(lines, json_pack("{s:I, s:i, s:s}", "ts_ps", (json_int_t)rec.ts,
                                                   "level", rec.level, "text", rec.text));
        }
        json_object_set_new(kj, "log", lines);
        json_object_set_new(root, "kernel", kj);
    }
    json_t *fns = json_array();
    size_t n = scn_system_count(m->sys);
    size_t *order = bdf_order(m);
    if (order) {
        for (size_t j = 0; j < n; j++) {
            const struct scn_sysfn *sf = scn_system_at(m->sys, order[j]);
            struct fn_row r;
            fn_row(sf, &r);
            json_array_append_new(fns, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "bdf",
                                                 r.bdf, "kind", r.kind, "id", r.id, "class",
                                                 r.cls, "link", r.link, "name", sf->name,
                                                 "model", sf->model));
        }
    }
    free(order);
    json_object_set_new(root, "functions", fns);
    if (dg)
        json_object_set_new(root, "diagnosis", run_diag_json(dg));
    json_object_set_new(root, "setup", run_setup_json(m));
    json_object_set_new(root, "simulated_ps", json_integer((json_int_t)sim_now(m->sim)));
    json_object_set_new(root, "events", json_integer((json_int_t)sim_events_run(m->sim)));
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s)
        return 1;
    printf("%s\n", s);
    free(s);
    return 0;
}

int cmd_run(int argc, char **argv)
{
    const char *scenario = NULL;
    struct cli_machine_opts opts = {0};
    bool json = false, diagnose = true;
    sim_time_t until = SIM_S;
    const char *sets[64];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--no-diagnose")) {
            diagnose = false;
        } else if (!strcmp(a, "--dma-debug")) {
            opts.dma_debug = true;
        } else if (!strcmp(a, "--until") || !strcmp(a, "--trace") ||
                   !strcmp(a, "--trace-format") || !strcmp(a, "--kernel") ||
                   !strcmp(a, "--cmdline") || !strcmp(a, "--set")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "pcilab run: %s needs a value (try --help)\n", a);
                return 2;
            }
            const char *v = argv[++i], *why;
            if (!strcmp(a, "--trace")) {
                opts.trace = v;
            } else if (!strcmp(a, "--kernel")) {
                opts.version = v;
            } else if (!strcmp(a, "--cmdline")) {
                opts.cmdline = v;
            } else if (!strcmp(a, "--set")) {
                if (opts.nsets == sizeof sets / sizeof sets[0]) {
                    fprintf(stderr, "pcilab run: at most %zu --set options\n",
                            sizeof sets / sizeof sets[0]);
                    return 2;
                }
                sets[opts.nsets++] = v;
            } else if (!strcmp(a, "--trace-format")) {
                opts.trace_format = v;
            } else if ((why = parse_time(v, &until))) {
                fprintf(stderr, "pcilab run: --until '%s': %s\n", v, why);
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
    if (opts.trace_format && !opts.trace) {
        fprintf(stderr, "pcilab run: --trace-format without --trace\n");
        return 2;
    }

    opts.boot = true;
    opts.sets = sets;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    struct cli_machine m;
    if (cli_machine_up(&m, scenario, &opts, &err) < 0)
        return cli_fail("run", &err);
    struct run_diag *dg = diagnose ? run_diag_start(&m, scenario, &opts, until) : NULL;
    sim_run_until(m.sim, until);
    int status = json ? print_json(&m, dg) : (print_machine(&m), run_diag_print(dg),
                                                 m.kernel ? run_setup_print(&m, stdout) : (void)0, 0);
    run_diag_end(dg);
    if (opts.trace && sim_trace_close(sim_trace(m.sim), &err) < 0)
        status = cli_fail("run", &err);
    cli_machine_down(&m);
    return status;
}
