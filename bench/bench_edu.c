/* The edu scenarios against the real kernel under QEMU (issue 7).
 *
 * For each edu scenario (docs/edu.md) under VT-d and AMD-Vi, the pcilab
 * binary beside pcilab-bench is spawned as a user types it, `pcilab run
 * edu-<mistake> --set iommu=<vtd|amd-vi>` (the whole run: boot, the driver's
 * round, the diagnosis with its re-run, the output), best of SPAWNS wall
 * times. The reference is the wall time of the real boot of the same
 * scenario: Debian's 6.1 kernel under QEMU (TCG, q35) with the same driver
 * source as a module, from power-on to power-off, as tests/linux/edu_bugs.sh
 * measured it into tests/linux/captured/boot-times.txt (`make linux-parity`
 * refreshes it; its first line says when and on what). The figure is the
 * ratio, real boot / pcilab run; its target is the seed's, 1000x (issue 5:
 * a thousand tries of a change in the time one real boot takes). */
#include "bench.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPAWNS 5
#define TARGET_X 1000.0

#ifndef PCILAB_SOURCE_DIR
#define PCILAB_SOURCE_DIR "."
#endif

static const char *const mistakes[] = {"ok", "unmapped-iova", "phys-addr", "write-to-device-map",
                                       "read-from-device-map", "use-after-unmap", "straddle-end"};
static const struct {
    const char *config;  /* edu_bugs.sh's name */
    const char *iommu;   /* pcilab's --set iommu= */
} configs[] = {{"vtd", "vtd"}, {"amd", "amd-vi"}};

/* The real boot's seconds for edu-<config>-<mistake>, or -1. */
static double real_boot(const char *config, const char *mistake, char *when, size_t wlen)
{
    const char *path = PCILAB_SOURCE_DIR "/tests/linux/captured/boot-times.txt";
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char want[128], line[512];
    snprintf(want, sizeof want, "edu-%s-%s", config, mistake);
    double s = -1;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') {
            if (when && wlen)
                snprintf(when, wlen, "%.*s", (int)strcspn(line + 2, "\n"), line + 2);
            continue;
        }
        char name[128];
        double v;
        if (sscanf(line, "%127s %lf", name, &v) == 2 && !strcmp(name, want))
            s = v;
    }
    fclose(f);
    return s;
}

void bench_edu(struct bench_report *r)
{
    char prog[PATH_MAX + 16], when[256] = "";
    if (!bench_pcilab_path(prog, sizeof prog)) {
        fprintf(stderr, "bench edu: no pcilab binary beside pcilab-bench\n");
        return;
    }
    bool noted = false;
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        for (size_t m = 0; m < sizeof mistakes / sizeof mistakes[0]; m++) {
            char scn[64], set[64];
            snprintf(scn, sizeof scn, "edu-%s", mistakes[m]);
            snprintf(set, sizeof set, "iommu=%s", configs[c].iommu);
            char *argv[] = {prog, "run", scn, "--set", set, NULL};
            double best = -1;
            struct bench_spawn_times st;
            for (int k = 0; k < SPAWNS; k++) {
                if (!bench_spawn_time(argv, NULL, &st)) {
                    fprintf(stderr, "bench edu: 'pcilab run %s --set %s' failed\n", scn, set);
                    return;
                }
                if (best < 0 || st.end < best)
                    best = st.end;
            }
            double real = real_boot(configs[c].config, mistakes[m], when, sizeof when);
            if (!noted && when[0]) {
                bench_note(r, "  edu: the real boots: %s\n", when);
                noted = true;
            }
            char name[128];
            snprintf(name, sizeof name, "edu.%s.%s.x_vs_qemu", configs[c].config, mistakes[m]);
            if (real < 0) {
                bench_note(r, "  edu: %s --set %s: %.1f ms; no real boot time in "
                              "tests/linux/captured/boot-times.txt (make linux-parity)\n",
                           scn, set, best * 1e3);
                continue;
            }
            bench_note(r, "  edu: %s --set %s: pcilab %.1f ms (best of %d), the real boot %.2f s\n",
                       scn, set, best * 1e3, SPAWNS, real);
            bench_figure(r, name, real / best, "x", TARGET_X, BENCH_AT_LEAST, 0);
        }
    }
}
