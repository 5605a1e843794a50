/* A small YAML document tree for the scenario reader: libfyaml's event parser
 * turned into nodes that keep their 1-based line and column, so every error can
 * name FILE:LINE:COLUMN. Internal to src/scenario. */
#ifndef PCILAB_SCENARIO_YAML_H
#define PCILAB_SCENARIO_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/err.h"

enum scn_ytype { SCN_Y_SCALAR, SCN_Y_MAP, SCN_Y_SEQ };

struct scn_ynode {
    enum scn_ytype type;
    unsigned line, col;      /* 1-based */
    char *text;              /* scalars: NUL-terminated value (may hold NULs; see len) */
    size_t len;
    bool plain;              /* scalars: unquoted */
    struct scn_ynode **kids; /* maps: key, value, key, value...; sequences: items */
    size_t nkids, cap;
};

#define SCN_YAML_MAX_DEPTH 64

/* Parses one YAML document. Anchors, aliases, tags and multi-document streams are
 * refused. libfyaml's own diagnostics come back as errors at their position. */
int scn_yaml_parse(const char *file, const char *text, size_t len, struct scn_ynode **root,
                   struct pcilab_err *err);
void scn_yaml_free(struct scn_ynode *n);

/* A plain scalar that YAML reads as null: empty, ~, null. */
bool scn_yaml_is_null(const struct scn_ynode *n);
/* "a mapping", "a sequence", "'text'" (shortened) for messages. */
const char *scn_yaml_describe(const struct scn_ynode *n, char *buf, size_t len);

#endif
