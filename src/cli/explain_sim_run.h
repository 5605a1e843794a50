/* pcilab explain --simulate: runs the scenario src/diag/explain_sim.h builds
 * for one finding, twice, in-process (cli_machine_up, as run_diag.c's re-run
 * does): once as the log shows it, once with the fix; docs/explain-simulate.md.
 *
 * Entry for cmd_explain.c's hook:
 *
 *   int explain_sim_run(const struct explain_sim_req *req, FILE *out, json_t **json);
 *
 * req: the finding (explain_sim.h; explain_sim_req_from_kmsg fills the
 * line's part). out: where the human text goes (NULL: none); it prints
 *     Simulation (--simulate):
 *       scenario    seed --set kernel.version=4.9.80 --set ecp5.write_rid=zero
 *       assumed     ... (one line per assumption)
 *       log         IO_PAGE_FAULT device=00:00.0 ... (or a DMAR fault line)
 *       reproduced: [    0.102500] IO_PAGE_FAULT device=00:00.0 ... (matches the log's:
 *                   requester, flags, domain, address)
 *       with the fix (--set ecp5.requester_id=captured): 0 faults, the ISR reads the data
 *                   (DMA done: ec5d0001 00010001)
 * or "not reproduced: ..." / "not simulated: <why>" (a VT-d wrong requester ID, a category
 * the model cannot send ...). json: when not NULL, receives a new object (the
 * "simulation" value of pcilab-explain/1, documented in
 * docs/explain-simulate.md) or NULL when out of memory.
 *
 * Returns 0 when the run reproduced the log's line (requester, domain and
 * flags) and the fix removed every fault; 1 when it ran but did not
 * reproduce the line or the fix left faults; 2 when the request is not
 * simulated (refused, said in out and json); -1 when a machine could not be
 * brought up (the error is in out and json).
 *
 * With a configuration dump among the --lspci files (explain_sim_dump_load
 * below), the scenario's machine is the user's (docs/explain-simulate.md).
 *
 * cmd_explain_sim is `pcilab explain-simulate LINE [options]`, the same from
 * one pasted line (for tests and for users without a whole log).
 */
#ifndef PCILAB_CLI_EXPLAIN_SIM_RUN_H
#define PCILAB_CLI_EXPLAIN_SIM_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "diag/explain_sim.h"
#include "pcie/cfgdump.h"

int explain_sim_run(const struct explain_sim_req *req, FILE *out, json_t **json);

/* The configuration dump among the --lspci files (lspci -x / -xxx / -xxxx,
 * alone or with -vvv lines): the first file with a line of 16 hex bytes is
 * read with the scenario files' reader (pcie_dump_parse). have: it parsed;
 * error: it did not (the reader's file:line:col), and --simulate refuses with
 * that; neither: no file holds a dump. */
struct explain_sim_dump {
    struct pcie_dump d;
    bool have;
    char path[4096];             /* absolute, for the scenario's config_from */
    char name[512];              /* as the user gave it, for messages */
    char error[600];
};
void explain_sim_dump_load(struct explain_sim_dump *x, char *const *files, size_t n);
void explain_sim_dump_free(struct explain_sim_dump *x);
/* Points the request at the dump (or its error); x may be NULL. */
void explain_sim_req_dump(struct explain_sim_req *req, const struct explain_sim_dump *x);

int cmd_explain_sim(int argc, char **argv);

#endif
