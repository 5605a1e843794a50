#include "cli/machine.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "devices/devices.h"
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

/* --set TARGET.KEY=VALUE: TARGET is a function's label or "BB:DD.F" with a
 * device model, or a model's name when one function has it. */
static int apply_set(struct cli_machine *m, const char *set, struct pcilab_err *err)
{
    const char *eq = strchr(set, '=');
    const char *dot = eq ? memchr(set, '.', (size_t)(eq - set)) : NULL;
    /* "00:02.2" has a dot of its own: the key starts after the last one */
    for (const char *p = dot; p && p < eq; p = memchr(p + 1, '.', (size_t)(eq - p - 1)))
        dot = p;
    if (!eq || !dot || dot == set || dot + 1 == eq)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "--set '%s': expected TARGET.KEY=VALUE, e.g. ecp5.write_rid=captured",
                           set);
    char target[SCN_NAME_MAX], key[64];
    snprintf(target, sizeof target, "%.*s", (int)(dot - set), set);
    snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
    const struct scn_sysfn *f = scn_system_find(m->sys, target);
    if (!f) {
        for (size_t i = 0; i < scn_system_count(m->sys); i++) {
            const struct scn_sysfn *g = scn_system_at(m->sys, i);
            if (g->dev && !strcmp(g->model, target)) {
                if (f)
                    return pcilab_errf(err, PCILAB_EINVAL,
                                       "--set '%s': several functions have the model '%s': "
                                       "name one by its label or BB:DD.F", set, target);
                f = g;
            }
        }
    }
    if (!f)
        return pcilab_errf(err, PCILAB_ENOENT,
                           "--set '%s': no function or device model named '%s'", set, target);
    if (!f->dev)
        return pcilab_errf(err, PCILAB_EINVAL, "--set '%s': '%s' has no device model", set,
                           target);
    struct pcilab_err inner;
    pcilab_err_clear(&inner);
    if (dev_model_set(f->dev, key, eq + 1, &inner) < 0)
        return pcilab_errf(err, inner.code ? inner.code : PCILAB_EINVAL, "--set '%s': %s", set,
                           inner.msg);
    return 0;
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
    /* after enumeration, so that BB:DD.F names the function as addressed */
    for (unsigned i = 0; r == 0 && opts && i < opts->nsets; i++)
        r = apply_set(m, opts->sets[i], err);
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
