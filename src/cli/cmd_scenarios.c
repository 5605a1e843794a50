/* pcilab scenarios: the built-in scenarios, one aligned line each (or --json). */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "scenario/builtin.h"
#include "scenario/scenario.h"

int cmd_scenarios(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: pcilab scenarios [--json]\n\n"
                   "Lists the built-in scenarios with their one-line description.\n"
                   "Run one with 'pcilab run NAME'.\n");
            return 0;
        } else {
            fprintf(stderr, "pcilab scenarios: unknown option '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    size_t width = 4;
    for (const struct scn_builtin *b = scn_builtins; b->name; b++)
        if (strlen(b->name) > width)
            width = strlen(b->name);

    json_t *arr = json ? json_array() : NULL;
    int status = 0;
    if (!json)
        printf("%-*s  %s\n", (int)width, "NAME", "DESCRIPTION");
    for (const struct scn_builtin *b = scn_builtins; b->name; b++) {
        char desc[SCN_DESC_MAX];
        struct pcilab_err err;
        pcilab_err_clear(&err);
        if (scn_builtin_describe(b, desc, sizeof desc, &err)) {
            /* A broken built-in is a bug; say so and keep listing. */
            status = cli_fail("scenarios", &err);
            continue;
        }
        if (json)
            json_array_append_new(arr, json_pack("{s:s, s:s}", "name", b->name,
                                                 "description", desc));
        else
            printf("%-*s  %s\n", (int)width, b->name, desc);
    }
    if (json) {
        char *s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s) {
            printf("%s\n", s);
            free(s);
        }
        json_decref(arr);
    }
    return status;
}
