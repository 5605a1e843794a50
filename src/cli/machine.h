/* Loading a scenario named on the command line and bringing its machine up. */
#ifndef PCILAB_CLI_MACHINE_H
#define PCILAB_CLI_MACHINE_H

#include <stdbool.h>
#include <stdio.h>

#include "host/kernel.h"
#include "pcie/enumerate.h"
#include "scenario/build.h"
#include "scenario/scenario.h"
#include "sim/err.h"

/* What reached the root complex from one function with a device model,
 * counted where the fabric hands requests to system memory (through the
 * IOMMU when the machine has one). A request is the function's when it came
 * through the root port above it (of several functions below one port: the
 * one whose captured BDF is the requester ID, else the first). */
struct cli_fn_counts {
    uint64_t writes, write_faults;    /* MWr to memory; refused (UR/CA: dropped, posted) */
    uint64_t reads, read_faults;      /* MRd; answered UR/CA */
    uint64_t msis, msi_faults;        /* MWr in the interrupt window; refused */
    uint64_t bytes_delivered;         /* write bytes that reached memory */
};

struct cli_counting;

struct cli_machine {
    struct scn_machine desc;
    struct pcilab_sim *sim;
    struct scn_system *sys;
    struct pcie_enum_report rep;
    struct host_kernel *kernel;  /* booted host kernel (opts->boot), else NULL */
    struct cli_counting *counting; /* per-function counts (opts->count), else NULL */
};

struct cli_machine_opts {
    const char *trace;        /* trace file ("-" = stdout) or NULL */
    const char *trace_format; /* text, jsonl, vcd or NULL (from the file's extension) */
    bool boot;                /* boot the host kernel after enumeration */
    const char *version;      /* --kernel: overrides the scenario's kernel version */
    const char *cmdline;      /* --cmdline: overrides the scenario's command line */
    bool dma_debug;           /* --dma-debug: a kernel with CONFIG_DMA_API_DEBUG */
    const char *vcd;          /* --vcd: a VCD waveform file, besides trace */
    const char *const *sets;  /* --set TARGET.KEY=VALUE (scn_set; a "BB:DD.F" behind a
                                 bridge: the device model once enumerated) */
    unsigned nsets;
    bool count;               /* keep struct cli_fn_counts (cli_machine_counts) */
    bool *set_refused;        /* out, may be NULL: true when a --set was refused */
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

/* Every --set key: the kernel's, each device model's parameters (from its
 * descriptors) and each driver's module parameters; markdown: as the tables
 * of docs/scenarios.md. Returns 0 (cmd_scenarios.c). */
int cli_print_keys(FILE *out, bool markdown);

/* The counts of the function scn_system_at(m->sys, i); NULL without
 * opts->count or for a function without a device model. */
const struct cli_fn_counts *cli_machine_counts(const struct cli_machine *m, size_t i);

#endif
