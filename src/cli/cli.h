#ifndef PCILAB_CLI_H
#define PCILAB_CLI_H

struct cli_command {
    const char *name;
    const char *summary;
    int (*fn)(int argc, char **argv); /* argv[0] is the command's name */
};

int cmd_help(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_scenarios(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_lspci(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_explain(int argc, char **argv);

struct pcilab_err;
/* Prints "pcilab CMD: file:line:col: message" to stderr; returns 1. */
int cli_fail(const char *cmd, const struct pcilab_err *err);

#endif
