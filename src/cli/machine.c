#include "cli/machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "devices/devices.h"
#include "iommu/iommu.h"
#include "pcie/tlp.h"
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

/* --set TARGET.KEY=VALUE on a running machine's device model: TARGET is a
 * function's label or "BB:DD.F" with a device model, or a model's name when
 * one function has it. Used for the BB:DD.F the description cannot know
 * (functions behind a bridge get their bus at enumeration); everything else
 * goes through scn_set on the description, as a scenario's set: does. */
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

/* True when --set's TARGET is a "BB:DD.F" the description does not place
 * (bus numbers behind bridges come from enumeration). */
static bool set_after_enumeration(const struct scn_machine *d, const char *set)
{
    const char *eq = strchr(set, '=');
    if (!eq)
        return false;
    char key[128];
    snprintf(key, sizeof key, "%.*s", (int)(eq - set), set);
    char *dot = strrchr(key, '.');
    if (!dot)
        return false;
    *dot = '\0';
    uint16_t bdf;
    return pcie_bdf_parse(key, &bdf, NULL) == 0 && scn_find_func(d, key) < 0;
}

static int set_description(struct scn_machine *d, const char *set, struct pcilab_err *err)
{
    const char *eq = strchr(set, '=');
    if (!eq || eq == set)
        return pcilab_errf(err, PCILAB_EINVAL, "--set '%s': expected KEY=VALUE, e.g. "
                           "ecp5.requester_id=captured ('--set help' lists the keys)", set);
    char key[128];
    if ((size_t)(eq - set) >= sizeof key)
        return pcilab_errf(err, PCILAB_EINVAL, "--set '%.40s...': the key is too long", set);
    snprintf(key, sizeof key, "%.*s", (int)(eq - set), set);
    struct pcilab_err inner;
    pcilab_err_clear(&inner);
    if (scn_set(d, key, eq + 1, &inner) < 0)
        return pcilab_errf(err, inner.code ? inner.code : PCILAB_EINVAL, "--set '%s': %s", set,
                           inner.msg);
    return 0;
}

/* ---- Counting what reaches the root complex, per function ---- */

struct cli_counting {
    struct scn_system *sys;
    struct pcie_fabric *fabric;
    struct iommu *iommu;          /* the IOMMU in the fabric's upstream path, or NULL */
    size_t n;
    struct cli_fn_counts *c;      /* per scn_system_at index */
    pcie_upstream_fn next;        /* the sink count_upstream wraps (NULL: default) */
    void *next_ctx;
};

/* The function with a device model that sent req (see cli_fn_counts). */
static struct cli_fn_counts *counts_for(struct cli_counting *k,
                                        const struct pcie_upstream_req *req)
{
    struct cli_fn_counts *first = NULL;
    for (size_t i = 0; i < k->n; i++) {
        const struct scn_sysfn *sf = scn_system_at(k->sys, i);
        if (!sf->dev)
            continue;
        const struct scn_sysfn *top = sf;
        while (top->parent >= 0)
            top = scn_system_at(k->sys, (size_t)top->parent);
        /* an RCiEP's requests have no ingress port */
        bool below = req->ingress ? top != sf && top->fn == req->ingress : top == sf;
        if (!below)
            continue;
        if (pcie_fn_captured_bdf(sf->fn) == req->requester_id)
            return &k->c[i];
        if (!first)
            first = &k->c[i];
    }
    return first;
}

/* The fabric's upstream sink, counting: it wraps the sink installed before
 * it (the IOMMU's adapter, iommu_attach_fabric, or the default) and counts
 * what that sink answered. A message is an interrupt when the IOMMU says so
 * (is_interrupt), else when it is a write to the MSI window. The IOMMU's own
 * requests are not counted. */
static enum pcie_cpl_status count_upstream(void *ctx, const struct pcie_upstream_req *req,
                                           uint8_t *read_buf, sim_time_t *delay)
{
    struct cli_counting *k = ctx;
    struct iommu *io = k->iommu;
    enum pcie_cpl_status st = k->next ? k->next(k->next_ctx, req, read_buf, delay)
                                      : pcie_fabric_system_access(k->fabric, req, read_buf, delay);
    if (io && io->has_own_rid && req->requester_id == io->own_rid)
        return st;
    struct cli_fn_counts *c = counts_for(k, req);
    bool msi = false;
    if (req->write)
        msi = io && io->ops->is_interrupt
                  ? io->ops->is_interrupt(io->hw, req->requester_id, req->addr)
                  : req->addr >= PCIE_MSI_WINDOW_BASE &&
                        req->addr < PCIE_MSI_WINDOW_BASE + PCIE_MSI_WINDOW_SIZE;
    if (c) {
        bool ok = st == PCIE_CPL_SC;
        if (msi) {
            c->msis++;
            c->msi_faults += !ok;
        } else if (req->write) {
            c->writes++;
            c->write_faults += !ok;
            if (ok)
                c->bytes_delivered += req->len;
        } else {
            c->reads++;
            c->read_faults += !ok;
        }
    }
    return st;
}

static void counting_free(void *p)
{
    struct cli_counting *k = p;
    free(k->c);
    free(k);
}

static int counting_start(struct cli_machine *m, struct pcilab_err *err)
{
    struct cli_counting *k = calloc(1, sizeof *k);
    size_t n = scn_system_count(m->sys);
    if (k)
        k->c = calloc(n ? n : 1, sizeof *k->c);
    if (!k || !k->c || sim_own(m->sim, k, counting_free) < 0) {
        if (k)
            free(k->c);
        free(k);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory");
    }
    k->sys = m->sys;
    k->n = n;
    k->fabric = scn_system_fabric(m->sys);
    for (size_t i = 0; i < scn_system_iommu_count(m->sys); i++) {
        struct iommu *io = scn_system_iommu(m->sys, i)->iommu;
        if (io && io->fabric == k->fabric)
            k->iommu = io;
    }
    pcie_fabric_get_upstream(k->fabric, &k->next, &k->next_ctx);
    pcie_fabric_set_upstream(k->fabric, count_upstream, k);
    m->counting = k;
    return 0;
}

const struct cli_fn_counts *cli_machine_counts(const struct cli_machine *m, size_t i)
{
    if (!m->counting || i >= m->counting->n || !scn_system_at(m->sys, i)->dev)
        return NULL;
    return &m->counting->c[i];
}

int cli_machine_up(struct cli_machine *m, const char *arg, const struct cli_machine_opts *opts,
                   struct pcilab_err *err)
{
    memset(m, 0, sizeof *m);
    int r = load(&m->desc, arg, err);
    if (r < 0)
        return r;
    /* --set on the description first: as a scenario's set: would */
    for (unsigned i = 0; r == 0 && opts && i < opts->nsets; i++)
        if (!set_after_enumeration(&m->desc, opts->sets[i]) &&
            (r = set_description(&m->desc, opts->sets[i], err)) < 0 && opts->set_refused)
            *opts->set_refused = true;
    if (r < 0) {
        scn_free(&m->desc);
        return r;
    }
    m->sim = sim_create(m->desc.seed);
    if (!m->sim) {
        scn_free(&m->desc);
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory creating the simulation");
    }
    if (opts && opts->trace)
        r = sim_trace_open(sim_trace(m->sim), opts->trace, opts->trace_format, err);
    if (r == 0 && opts && opts->vcd)
        r = sim_trace_open(sim_trace(m->sim), opts->vcd, "vcd", err);
    if (r == 0)
        r = scn_build(&m->desc, m->sim, &m->sys, err);
    if (r == 0)
        r = scn_enumerate(m->sys, &m->rep, err);
    /* after enumeration, so that BB:DD.F names the function as addressed */
    for (unsigned i = 0; r == 0 && opts && i < opts->nsets; i++)
        if (set_after_enumeration(&m->desc, opts->sets[i]) &&
            (r = apply_set(m, opts->sets[i], err)) < 0 && opts->set_refused)
            *opts->set_refused = true;
    if (r == 0 && opts && opts->boot) {
        struct scn_boot_opts bo = {opts->version, opts->cmdline, opts->dma_debug};
        r = scn_boot(m->sys, &m->desc, &bo, &m->rep, &m->kernel, err);
    }
    if (r == 0 && opts && opts->count)
        r = counting_start(m, err);
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
