/* What the scenario reader's tests share (test_scenario_dmar.c,
 * test_scenario_fw.c): a description loaded from a string as "t.yaml", and
 * loaded where it must load. Include after cmocka.h. */
#ifndef PCILAB_TESTS_SCENARIO_SCN_LOAD_FIXTURE_H
#define PCILAB_TESTS_SCENARIO_SCN_LOAD_FIXTURE_H

#include <string.h>

#include "scenario/scenario.h"

/* scn_load_string of text as "t.yaml"; err cleared first. */
static inline int scn_t_load(const char *text, struct scn_machine *m, struct pcilab_err *err)
{
    pcilab_err_clear(err);
    return scn_load_string("t.yaml", text, strlen(text), m, err);
}

/* Loads text into m; a failure fails the test with its message. */
static inline void scn_t_load_ok(const char *text, struct scn_machine *m)
{
    struct pcilab_err err;
    char buf[1024];
    if (scn_t_load(text, m, &err))
        fail_msg("%s", pcilab_err_str(&err, buf, sizeof buf));
}

#endif
