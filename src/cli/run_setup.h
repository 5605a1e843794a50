/* pcilab run's "Configuration" section and its "setup" JSON value: the
 * configuration notes of src/diag/setup.h for the machine after its run. */
#ifndef PCILAB_CLI_RUN_SETUP_H
#define PCILAB_CLI_RUN_SETUP_H

#include <jansson.h>
#include <stdio.h>

#include "cli/machine.h"

/* Prints the section (nothing when the machine has no kernel). */
void run_setup_print(const struct cli_machine *m, FILE *out);
/* The "setup" value: an object {facts, notes: [...]}, or JSON null without a
 * kernel. */
json_t *run_setup_json(const struct cli_machine *m);

#endif
