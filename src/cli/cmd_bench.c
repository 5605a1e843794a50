/* pcilab bench: the performance figures against their targets.
 *
 * The benchmarks are a program of their own, pcilab-bench (built beside
 * pcilab; `make bench` runs it), so the pcilab binary carries no benchmark
 * code: this command runs it with the same arguments. */
#define _DEFAULT_SOURCE /* readlink */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cmd_bench(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: pcilab bench [--json] [NAME]\n\n"
                   "Runs pcilab's benchmarks (all, or the one named: evq, tlp, link, iova,\n"
                   "amdvi, amd_dma, seed) and prints each figure, its target and the ratio to it;\n"
                   "--json prints one object with a key per figure. Exit status 1 when a\n"
                   "target is missed.\n");
            return 0;
        }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "pcilab bench: cannot find pcilab's own directory: %s\n",
                strerror(errno));
        return 2;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    char prog[PATH_MAX + 16];
    snprintf(prog, sizeof prog, "%.*s/pcilab-bench", slash ? (int)(slash - self) : 1,
             slash ? self : ".");
    char *args[64];
    int k = 0;
    args[k++] = prog;
    for (int i = 1; i < argc && k < 63; i++)
        args[k++] = argv[i];
    args[k] = NULL;
    fflush(stdout);
    execv(prog, args);
    fprintf(stderr, "pcilab bench: cannot run %s: %s (it is built beside pcilab: make bench)\n",
            prog, strerror(errno));
    return 2;
}
