/* Spawning a pcilab process and timing it from outside, as a user runs it
 * (bench_seed.c, bench_edu.c). */
#define _DEFAULT_SOURCE /* readlink */
#include "bench.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Spawns argv with stdout on a pipe and reads it as it comes (the child's
 * stdout is a pipe, so pcilab run flushes the kernel log as it makes it),
 * noting when the first complete line containing `want` (if not NULL)
 * arrived; then reads the rest and waits. False when it could not run or
 * did not exit with status 0. */
bool bench_spawn_time(char *const argv[], const char *want, struct bench_spawn_times *t)
{
    t->line = -1;
    t->end = -1;
    t->bytes = 0;
    int fd[2];
    if (pipe(fd) < 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    posix_spawn_file_actions_addclose(&fa, fd[1]);
    double t0 = bench_seconds();
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (rc != 0) {
        close(fd[0]);
        fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(rc));
        return false;
    }
    /* the current line is kept (up to 4 KiB; longer lines are not looked
     * into), the rest only counted */
    char line[4096];
    size_t used = 0;
    bool skip = false;
    char buf[1 << 16];
    ssize_t n;
    while ((n = read(fd[0], buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        t->bytes += (size_t)n;
        for (ssize_t i = 0; want && t->line < 0 && i < n; i++) {
            if (buf[i] != '\n') {
                if (used + 1 < sizeof line)
                    line[used++] = buf[i];
                else
                    skip = true;
                continue;
            }
            line[used] = '\0';
            if (!skip && strstr(line, want))
                t->line = bench_seconds() - t0;
            used = 0;
            skip = false;
        }
    }
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    t->end = bench_seconds() - t0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The pcilab binary beside this one. */
bool bench_pcilab_path(char *path, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return snprintf(path, len, "%s/pcilab", self) < (int)len && access(path, X_OK) == 0;
}

