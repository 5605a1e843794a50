/* pcilab: the command line. Only this layer prints and exits. */
#include "cli/cli.h"
#include "cli/explain_sim_run.h"
#include "sim/heap.h"

#include <stdio.h>
#include <string.h>

static const struct cli_command commands[] = {
    {"run", "simulate a scenario (default: the built-in seed machine)", cmd_run},
    {"explain", "explain a real kernel log's IOMMU and DMA faults", cmd_explain},
    {"lspci", "show a scenario's machine with the real lspci", cmd_lspci},
    {"scenarios", "list the built-in scenarios", cmd_scenarios},
    {"explain-simulate", "reproduce one AMD-Vi or VT-d fault line by simulation", cmd_explain_sim},
    {"decode", "decode a TLP given as hex dwords or bytes", cmd_decode},
    {"bench", "performance figures against their targets (pcilab-bench)", cmd_bench},
    {"help", "show this help", cmd_help},
};

static const size_t ncommands = sizeof commands / sizeof commands[0];

int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("usage: pcilab COMMAND [ARGS]\n\n"
           "A transaction-level laboratory for DMA from PCIe devices through an IOMMU.\n\n"
           "commands:\n");
    for (size_t i = 0; i < ncommands; i++)
        printf("  %-17s %s\n", commands[i].name, commands[i].summary);
    printf("\n'pcilab COMMAND --help' shows a command's options.\n");
    return 0;
}

int main(int argc, char **argv)
{
    sim_heap_use_huge_pages(); /* before any allocation of ours */
    const char *name = argc > 1 ? argv[1] : "run";
    if (!strcmp(name, "--help") || !strcmp(name, "-h"))
        name = "help";
    for (size_t i = 0; i < ncommands; i++)
        if (!strcmp(commands[i].name, name))
            return commands[i].fn(argc > 1 ? argc - 1 : 1, argc > 1 ? argv + 1 : argv);
    fprintf(stderr, "pcilab: unknown command '%s' (try 'pcilab help')\n", name);
    return 2;
}
