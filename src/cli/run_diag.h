/* pcilab run's diagnosis of the IOMMU faults of the run (src/diag): the
 * recorder is attached before the simulation runs, the findings are printed
 * under the kernel log (text) or as the "diagnosis" value (--json), and a
 * requester-ID fix a device model offers is shown by running the same
 * scenario again with it, in-process. */
#ifndef PCILAB_CLI_RUN_DIAG_H
#define PCILAB_CLI_RUN_DIAG_H

#include <jansson.h>

#include "cli/machine.h"
#include "sim/time.h"

struct run_diag;

/* Attaches a recorder to m's (first) IOMMU. scenario, opts and until are
 * kept (not copied: they must outlive the run_diag) for the re-run. NULL
 * when out of memory (the run goes on without a diagnosis). */
struct run_diag *run_diag_start(struct cli_machine *m, const char *scenario,
                                const struct cli_machine_opts *opts, sim_time_t until);
/* The run's DMA watch (diag/dma_watch.h), kept (not copied): the diagnosis
 * reads its map/unmap history to say what a faulting address was at the time
 * of the fault. Call before run_diag_print/run_diag_json; NULL is fine. */
struct diag_dma_watch;
void run_diag_use_watch(struct run_diag *d, const struct diag_dma_watch *w);
/* After the run: analyses and, for a fix a model offers, re-runs. */
void run_diag_print(struct run_diag *d);
/* The "diagnosis" value: an array of findings (new reference, NULL on
 * allocation failure). */
json_t *run_diag_json(struct run_diag *d);
void run_diag_end(struct run_diag *d);

#endif
