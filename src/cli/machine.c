#include "cli/machine.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "scenario/boot.h"
#include "scenario/builtin.h"
#include "sim/sim.h"
#include "sim/trace.h"

static bool names_file(const char *arg)
{
    size_t n = strlen(arg);
    struct stat st;
    if (strchr(arg, '/'))
        return true;
    if ((n > 5 && !strcmp(arg + n - 5, ".yaml")) || (n > 4 && !strcmp(arg + n - 4, ".yml")))
        return true;
    return stat(arg, &st) == 0 && S_ISREG(st.st_mode);
}

static int load(struct scn_machine *d, const char *arg, struct pcilab_err *err)
{
    if (!arg)
        arg = "seed";
    if (names_file(arg))
        return scn_load_file(arg, d, err);
    if (scn_builtin_find(arg))
        return scn_load_builtin(arg, d, err);
    char list[256] = "";
    for (const struct scn_builtin *b = scn_builtins; b->name; b++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", b->name);
    }
    return pcilab_errf(err, PCILAB_ENOENT,
                       "'%s' is neither a built-in scenario (%s) nor a scenario file", arg,
                       list);
}

int cli_machine_up(struct cli_machine *m, const char *arg, const struct cli_machine_opts *opts,
                   struct pcilab_err *err)
{
    memset(m, 0, sizeof *m);
    int r = load(&m->desc, arg, err);
    if (r < 0)
        return r;
    m->sim = sim_create(m->desc.seed);
    if (!m->sim) {
        scn_free(&m->desc);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory creating the simulation");
    }
    if (opts && opts->trace)
        r = sim_trace_open(sim_trace(m->sim), opts->trace, opts->trace_format, err);
    if (r == 0)
        r = scn_build(&m->desc, m->sim, &m->sys, err);
    if (r == 0)
        r = scn_enumerate(m->sys, &m->rep, err);
    if (r == 0 && opts && opts->boot) {
        struct scn_boot_opts bo = {opts->version, opts->cmdline, opts->dma_debug};
        r = scn_boot(m->sys, &m->desc, &bo, &m->rep, &m->kernel, err);
    }
    if (r < 0)
        cli_machine_down(m);
    return r;
}

void cli_machine_down(struct cli_machine *m)
{
    pcie_enum_report_free(&m->rep);
    if (m->sim) {
        sim_trace_close(sim_trace(m->sim), NULL);
        sim_destroy(m->sim);
    }
    scn_free(&m->desc);
    memset(m, 0, sizeof *m);
}

int cli_fail(const char *cmd, const struct pcilab_err *err)
{
    char msg[1024];
    fprintf(stderr, "pcilab %s: %s\n", cmd, pcilab_err_str(err, msg, sizeof msg));
    return 1;
}
