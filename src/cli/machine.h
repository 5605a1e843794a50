/* Loading a scenario named on the command line and bringing its machine up. */
#ifndef PCILAB_CLI_MACHINE_H
#define PCILAB_CLI_MACHINE_H

#include <stdbool.h>

#include "host/kernel.h"
#include "pcie/enumerate.h"
#include "scenario/build.h"
#include "scenario/scenario.h"
#include "sim/err.h"

struct cli_machine {
    struct scn_machine desc;
    struct pcilab_sim *sim;
    struct scn_system *sys;
    struct pcie_enum_report rep;
    struct host_kernel *kernel;  /* booted host kernel (opts->boot), else NULL */
};

struct cli_machine_opts {
    const char *trace;        /* trace file ("-" = stdout) or NULL */
    const char *trace_format; /* text, jsonl, vcd or NULL (from the file's extension) */
    bool boot;                /* boot the host kernel after enumeration */
    const char *version;      /* --kernel: overrides the scenario's kernel version */
    const char *cmdline;      /* --cmdline: overrides the scenario's command line */
    bool dma_debug;           /* --dma-debug: a kernel with CONFIG_DMA_API_DEBUG */
    const char *const *sets;  /* --set TARGET.KEY=VALUE, applied to device models */
    unsigned nsets;
};

/* arg: a built-in scenario's name, or a scenario file (a path with '/', a name
 * ending in .yaml/.yml, or an existing file); NULL: the built-in "seed".
 * Loads, opens the trace (before anything is built, so every link declares its
 * signals and enumeration's TLPs are traced), builds and enumerates, and with
 * opts->boot boots the host kernel on it (scenario/boot.h); on failure
 * fills err and leaves nothing to free. opts may be NULL. */
int cli_machine_up(struct cli_machine *m, const char *arg, const struct cli_machine_opts *opts,
                   struct pcilab_err *err);
void cli_machine_down(struct cli_machine *m);

#endif
