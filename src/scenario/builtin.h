/* Built-in scenarios, compiled in from src/scenario/builtin/ (one .yaml each). */
#ifndef PCILAB_SCENARIO_BUILTIN_H
#define PCILAB_SCENARIO_BUILTIN_H

struct scn_builtin {
    const char *name; /* file name without .yaml */
    const char *path; /* "builtin:<name>.yaml", used in error messages */
    const char *text; /* the YAML text */
};

/* Terminated by an entry whose name is NULL. */
extern const struct scn_builtin scn_builtins[];

#endif
