/* pcilab scenarios: the built-in scenarios, one aligned line each (or --json). */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/machine.h"
#include "devices/devices.h"
#include "drivers/drivers.h"
#include "scenario/builtin.h"
#include "scenario/scenario.h"

/* Markdown tables of every --set / set: key. docs/scenarios.md carries this
 * output between its "keys" markers; tests/cli/keys.sh compares them. */
int cli_print_keys(FILE *out, bool markdown)
{
    if (!markdown)
        fprintf(out, "Keys of 'pcilab run --set KEY=VALUE' and of a scenario's set: "
                     "(docs/scenarios.md).\n\n");
    fprintf(out, "### The kernel\n\n"
                 "| key | values | meaning |\n|---|---|---|\n"
                 "| `kernel.version` | 4.9, 4.20, 5.15, 6.1 (or a release of one: 4.9.80, "
                 "6.1.0-13-amd64) | the Linux modelled |\n"
                 "| `kernel.cmdline` | text, at most 1023 bytes | the kernel command line |\n"
                 "| `kernel.cpus` | 1..64 | possible CPUs |\n"
                 "| `kernel.dma_debug` | true or false | CONFIG_DMA_API_DEBUG built in |\n");
    fprintf(out, "\n### The machine's IOMMU\n\n"
                 "| key | values | meaning |\n|---|---|---|\n"
                 "| `iommu` | amd-vi, vtd, vtd-sm, none | the IOMMU kind (scenario key "
                 "`iommu:`): amd-vi keeps the machine's AMD IOMMU function; vtd removes it and "
                 "the IVRS and gives the firmware QEMU q35's DMAR unless it has one; vtd-sm is "
                 "vtd with QEMU's x-scalable-mode=on units (scalable mode); none removes the "
                 "AMD function, the IVRS and the DMAR |\n");
    for (size_t i = 0; i < dev_model_type_count(); i++) {
        const struct dev_model_info *info = dev_model_type_at(i);
        fprintf(out, "\n### Device model `%s`: TARGET.KEY\n\n%s. TARGET: the function's label, "
                     "its BB:DD.F, or `%s` when one function has this model.\n\n"
                     "| key | values | default | meaning |\n|---|---|---|---|\n",
                info->name, info->summary, info->name);
        for (size_t j = 0; j < info->nparams; j++) {
            const struct dev_param_desc *d = &info->params[j];
            char vals[160];
            fprintf(out, "| `%s` | %s | %s%s%s | %s |\n", d->key,
                    dev_param_values_str(d, vals, sizeof vals), d->def ? "`" : "",
                    d->def ? d->def : "(per engine)", d->def ? "`" : "", d->help);
        }
    }
    for (size_t i = 0; i < dev_model_type_count(); i++) {
        const char *name = dev_model_type_at(i)->name;
        if (!drivers_find(name))
            continue;
        fprintf(out, "\n### Driver `%s`: module parameters, %s.KEY\n\n"
                     "| key | type | meaning |\n|---|---|---|\n", name, name);
        const char *p, *type;
        for (size_t j = 0; (p = scn_module_param_at(name, j, &type)); j++) {
            const char *desc = scn_module_param_desc(name, p);
            fprintf(out, "| `%s.%s` | %s | %s |\n", name, p, type, desc ? desc : "");
        }
    }
    fprintf(out, "\n### Targets of the built-in scenarios\n\n"
                 "| scenario | function label: device model | modules loaded |\n|---|---|---|\n");
    for (const struct scn_builtin *b = scn_builtins; b->name; b++) {
        struct scn_machine m;
        struct pcilab_err err;
        pcilab_err_clear(&err);
        if (scn_load_builtin(b->name, &m, &err) < 0) {
            cli_fail("scenarios", &err);
            continue;
        }
        fprintf(out, "| `%s` |", b->name);
        bool any = false;
        for (unsigned j = 0; j < m.nfuncs; j++)
            if (m.funcs[j].model[0]) {
                fprintf(out, "%s `%s`: %s", any ? "," : "", m.funcs[j].name[0] ? m.funcs[j].name
                        : "(no label)", m.funcs[j].model);
                any = true;
            }
        fprintf(out, "%s |", any ? "" : " none");
        for (unsigned j = 0; j < m.kernel.nmodules; j++)
            fprintf(out, "%s `%s`%s%s", j ? "," : "", m.kernel.modules[j].name,
                    m.kernel.modules[j].params[0] ? " " : "", m.kernel.modules[j].params);
        fprintf(out, "%s |\n", m.kernel.nmodules ? "" : " none");
        scn_free(&m);
    }
    return 0;
}

int cmd_scenarios(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--keys")) {
            return cli_print_keys(stdout, true);
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: pcilab scenarios [--json | --keys]\n\n"
                   "Lists the built-in scenarios with their one-line description.\n"
                   "Run one with 'pcilab run NAME'. --keys: every key of\n"
                   "'pcilab run --set KEY=VALUE' and of a scenario's set:, as the\n"
                   "markdown tables of docs/scenarios.md.\n");
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
