/* pcilab lspci: the scenario's machine as the user's own lspci shows it.
 *
 * pcilab does not print configuration space itself: it writes every function's
 * 4 KiB in pciutils' dump format (what `lspci -xxxx` prints and `lspci -F`
 * reads back) and runs the real lspci on it with the user's options, so device
 * names come from pci.ids and every capability is decoded by pciutils. */
#include <errno.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/machine.h"
#include "pcie/cfgdump.h"

extern char **environ;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pcilab lspci [SCENARIO] [--dump [-x|-xxx|-xxxx]] [LSPCI OPTIONS...]\n"
            "\n"
            "Shows the scenario's machine (default: the built-in 'seed') after enumeration\n"
            "as the real lspci (pciutils) prints it: pcilab writes the configuration space\n"
            "of every function as an lspci dump and runs 'lspci -F DUMP' with the options\n"
            "given, e.g. -t, -tv, -v, -vv, -vvv, -nn, -s BDF, -d VENDOR:DEVICE, -x.\n"
            "\n"
            "  --dump     print the dump itself (4096 bytes per function, as lspci -xxxx;\n"
            "             with -x: 64 bytes, -xxx: 256 bytes); 'lspci -F FILE' reads it\n"
            "  -h, --help this help\n"
            "\n"
            "SCENARIO is a built-in name (see 'pcilab scenarios') or a scenario file.\n");
}

/* lspci looks up kernel drivers with libkmod when verbose; for a dump of a
 * simulated machine there are none, and on a machine without modules for the
 * running kernel it says so on stderr. That line (only) is dropped. */
static bool noise(const char *line)
{
    return strstr(line, "Unable to load libkmod resources") != NULL;
}

/* Runs lspci -F dump ARGS..., returns its exit status (127 when it cannot run). */
static int run_lspci(const char *dump, int nargs, char **args)
{
    char **av = calloc((size_t)nargs + 4, sizeof *av);
    int fds[2];
    if (!av || pipe(fds) != 0) {
        free(av);
        fprintf(stderr, "pcilab lspci: cannot start lspci: %s\n", strerror(errno));
        return 1;
    }
    av[0] = "lspci";
    av[1] = "-F";
    av[2] = (char *)dump;
    for (int i = 0; i < nargs; i++)
        av[3 + i] = args[i];
    fflush(stdout);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    pid_t pid;
    int r = posix_spawnp(&pid, "lspci", &fa, NULL, av, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(av);
    close(fds[1]);
    if (r != 0) {
        close(fds[0]);
        fprintf(stderr, "pcilab lspci: cannot run lspci: %s (it comes with Debian's pciutils; "
                        "scripts/deps.sh installs it)\n", strerror(r));
        return 127;
    }
    FILE *err = fdopen(fds[0], "r");
    if (err) {
        char line[1024];
        while (fgets(line, sizeof line, err))
            if (!noise(line))
                fputs(line, stderr);
        fclose(err);
    } else {
        close(fds[0]);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int cmd_lspci(int argc, char **argv)
{
    const char *scenario = NULL;
    bool dump = false;
    unsigned bytes = 4096;
    int first = 1;
    if (argc > 1 && argv[1][0] != '-') {
        scenario = argv[1];
        first = 2;
    }
    /* Our own options are taken out; everything else goes to lspci. */
    char **pass = calloc((size_t)argc + 1, sizeof *pass);
    if (!pass)
        return 1;
    int npass = 0;
    for (int i = first; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(pass);
            return 0;
        } else if (!strcmp(argv[i], "--dump")) {
            dump = true;
        } else if (!strncmp(argv[i], "-F", 2) || !strncmp(argv[i], "-A", 2) ||
                   !strncmp(argv[i], "-O", 2)) {
            fprintf(stderr, "pcilab lspci: '%s' selects lspci's access method; pcilab "
                            "supplies its own dump (see --help)\n", argv[i]);
            free(pass);
            return 2;
        } else {
            pass[npass++] = argv[i];
        }
    }
    if (dump) {
        /* Only the -x family makes sense with --dump. */
        for (int i = 0; i < npass; i++) {
            if (!strcmp(pass[i], "-x"))
                bytes = 64;
            else if (!strcmp(pass[i], "-xxx"))
                bytes = 256;
            else if (!strcmp(pass[i], "-xxxx"))
                bytes = 4096;
            else {
                fprintf(stderr, "pcilab lspci: --dump takes -x, -xxx or -xxxx, not '%s'\n",
                        pass[i]);
                free(pass);
                return 2;
            }
        }
    }

    struct pcilab_err err;
    pcilab_err_clear(&err);
    struct cli_machine m;
    if (cli_machine_up(&m, scenario, NULL, &err) < 0) {
        free(pass);
        return cli_fail("lspci", &err);
    }
    int status = 0;
    if (dump) {
        if (scn_system_write_dump(m.sys, stdout, bytes, 0, &err) < 0)
            status = cli_fail("lspci", &err);
    } else {
        const char *tmpdir = getenv("TMPDIR");
        if (!tmpdir || !*tmpdir)
            tmpdir = "/tmp";
        char path[4096];
        snprintf(path, sizeof path, "%s/pcilab-lspci-XXXXXX", tmpdir);
        int fd = mkstemp(path);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!f) {
            fprintf(stderr, "pcilab lspci: cannot create a temporary file in %s: %s\n",
                    tmpdir, strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(path);
            }
            status = 1;
        } else {
            int w = scn_system_write_dump(m.sys, f, 4096, 0, &err);
            if (fclose(f) != 0 && w == 0)
                w = pcilab_errf(&err, PCILAB_EIO, "writing %s: %s", path, strerror(errno));
            status = w < 0 ? cli_fail("lspci", &err) : run_lspci(path, npass, pass);
            unlink(path);
        }
    }
    cli_machine_down(&m);
    free(pass);
    return status;
}
