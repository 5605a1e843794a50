/* What the diagnosis tests that run a built-in scenario in process share
 * (test_dma_watch.c, test_iommu_diag.c, test_setup.c): load it, build it on a
 * simulation, enumerate, boot the host kernel, and free it all. Each step
 * asserts; a test changes the description or the devices between steps.
 * Include after cmocka.h. */
#ifndef PCILAB_TESTS_DIAG_FIXTURE_H
#define PCILAB_TESTS_DIAG_FIXTURE_H

#include <stdint.h>

#include "host/kernel.h"
#include "pcie/enumerate.h"
#include "scenario/boot.h"
#include "scenario/build.h"
#include "scenario/scenario.h"
#include "sim/sim.h"

struct diag_fx {
    struct scn_machine m;
    struct pcilab_sim *sim;
    struct scn_system *sys;
    struct pcie_enum_report rep;
    struct host_kernel *k;
};

/* The built-in scenario into x->m; its IOMMU replaced by `iommu` unless NULL. */
static inline void diag_fx_load(struct diag_fx *x, const char *scenario, const char *iommu)
{
    struct pcilab_err err;
    pcilab_err_clear(&err);
    assert_int_equal(scn_load_builtin(scenario, &x->m, &err), 0);
    if (iommu)
        assert_int_equal(scn_set(&x->m, "iommu", iommu, &err), 0);
}

/* x->m built on a new simulation with `seed`, then enumerated. */
static inline void diag_fx_build(struct diag_fx *x, uint64_t seed)
{
    struct pcilab_err err;
    pcilab_err_clear(&err);
    x->sim = sim_create(seed);
    if (scn_build(&x->m, x->sim, &x->sys, &err) != 0 || scn_enumerate(x->sys, &x->rep, &err) != 0)
        fail_msg("%s", err.msg);
}

/* The host kernel booted: version and cmdline NULL are the description's. */
static inline void diag_fx_boot(struct diag_fx *x, const char *version, const char *cmdline)
{
    struct pcilab_err err;
    pcilab_err_clear(&err);
    struct scn_boot_opts o = {version, cmdline, false};
    assert_int_equal(scn_boot(x->sys, &x->m, &o, &x->rep, &x->k, &err), 0);
}

static inline void diag_fx_free(struct diag_fx *x)
{
    sim_destroy(x->sim);
    pcie_enum_report_free(&x->rep);
    scn_free(&x->m);
}

#endif
