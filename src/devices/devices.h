/* Device models: a small registry by name and one way to attach any of them.
 *
 * A device model gives a PCIe function behaviour: it answers MMIO on the
 * function's BARs and, over simulated time, sends the TLPs the real device
 * would (DMA writes and reads, MSIs), built byte for byte by the model. The
 * function itself (its configuration space, BARs, capabilities, its place in
 * the fabric) is made first, by the scenario builder or a test; the model is
 * then attached to it with the parameters the scenario's `params:` gives, as
 * key/value strings, and later `--set model.key=value` changes them through
 * dev_model_set.
 *
 * Parameter values:
 *   size      decimal or 0x hex bytes, optional K/KiB or M/MiB suffix ("4K")
 *   time      a number with a unit: ps, ns, us, ms or s ("2.5ms", "2500us");
 *             a bare number is an error (which unit was meant is unknowable)
 *   bool      true/false, yes/no, on/off, 1/0
 *   choice    one of the words the parameter lists
 *   rid       a requester ID source: "captured" (the Bus/Device Number the
 *             function captured from Type 0 Configuration Writes, PCIe 5.0
 *             2.2.6.2, with its own function number), "zero" (0000, which
 *             is 00:00.0, the host bridge) or a fixed "bb:dd.f"
 * Unknown keys, values that do not parse or are out of range are errors
 * whose message names the model, the key and the value; the caller (the
 * scenario builder) adds the file position.
 *
 * Ownership: an attached model is owned by the sim (sim_own) and destroyed by
 * sim_destroy; its events live on the sim's queue. Nothing here is global
 * except const tables.
 */
#ifndef PCILAB_DEVICES_DEVICES_H
#define PCILAB_DEVICES_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"
#include "sim/time.h"

struct pcilab_sim;
struct pcie_fn;
struct dev_model;

/* One key/value pair as the scenario's `params:` gives it. */
struct dev_param {
    const char *key;
    const char *value;
};

/* What a model did, for --json, diagnoses and tests. Counters only grow. */
struct dev_counters {
    uint64_t tlps;            /* every TLP the model sent (DMA writes, reads, MSIs) */
    uint64_t write_tlps;      /* DMA MWr TLPs */
    uint64_t write_bytes;     /* payload bytes in them, as sent (delivered or not) */
    uint64_t read_tlps;       /* MRd TLPs */
    uint64_t reads_completed; /* MRds completed with Successful Completion */
    uint64_t read_bytes;      /* data bytes received in completions */
    uint64_t cpl_ur;          /* MRds answered with Unsupported Request (PCIe 5.0 2.2.9) */
    uint64_t cpl_ca;          /* MRds answered with Completer Abort */
    uint64_t read_timeouts;   /* MRds with no completion within the model's timeout (2.8) */
    uint64_t msis;            /* MSI messages sent */
    uint64_t msis_folded;     /* of those: for a vector beyond the enabled count, sent
                                 as the vector its low bits give (6.1.4.3) */
    uint64_t msis_held;       /* masked: Pending bit set instead (7.7.1.8) */
    uint64_t msis_dropped;    /* not sent: MSI Enable or Bus Master Enable clear */
    uint64_t cycles;          /* DMA cycles (ecp5_dma) / DMA batches (ecp3_can) */
    uint64_t skipped;         /* cycles not run: Bus Master Enable clear, no free tag */
    uint64_t events;          /* UART events (ecp5_dma) / CAN frames received (ecp3_can) */
};

/* ---- Requester ID sources (the "rid" parameter type) ---- */
enum dev_rid_mode {
    DEV_RID_CAPTURED = 0, /* pcie_fn_captured_bdf(fn) at the time of sending */
    DEV_RID_ZERO,         /* 0000 */
    DEV_RID_FIXED,        /* bdf below */
};
struct dev_rid {
    enum dev_rid_mode mode;
    uint16_t bdf;
};
/* The requester ID to put in a header now. */
uint16_t dev_rid_resolve(const struct dev_rid *r, const struct pcie_fn *fn);
/* "captured", "zero" or "bb:dd.f"; buf needs 16 bytes. Returns buf. */
char *dev_rid_str(const struct dev_rid *r, char *buf);

/* ---- Parameters: how each model describes its own (const tables) ---- */
enum dev_param_type {
    DEV_PARAM_SIZE,   /* bytes: u in [min, max] */
    DEV_PARAM_UINT,   /* plain number: u in [min, max] */
    DEV_PARAM_TIME,   /* picoseconds: t in [min, max] */
    DEV_PARAM_BOOL,
    DEV_PARAM_CHOICE, /* index into choices */
    DEV_PARAM_RID,
};

struct dev_param_desc {
    const char *key;
    enum dev_param_type type;
    uint64_t min, max;          /* SIZE, UINT, TIME (ps) */
    const char *const *choices; /* CHOICE: NULL-terminated */
    const char *def;            /* the default, as text (parsed like a user's value) */
    const char *help;           /* one line */
};

union dev_value {
    uint64_t u;     /* SIZE, UINT */
    sim_time_t t;   /* TIME */
    bool b;         /* BOOL */
    unsigned c;     /* CHOICE */
    struct dev_rid rid;
};

/* What values desc takes, in words for listings and messages: "size 1..8192
 * bytes", "time 1us..4.294967295s", "true or false", "auto, always",
 * "captured, zero or bb:dd.f", "0..31". Returns buf. */
char *dev_param_values_str(const struct dev_param_desc *desc, char *buf, size_t len);

/* Parses one value for desc; errors name the key and the value. */
int dev_param_parse(const char *model, const struct dev_param_desc *desc, const char *text,
                    union dev_value *out, struct pcilab_err *err);

/* One kind of model. */
struct dev_model_info {
    const char *name;                    /* "ecp5_dma" */
    const char *summary;                 /* one line */
    const struct dev_param_desc *params; /* its parameters */
    size_t nparams;
};

/* The registry (const): count, and entry i in a fixed order. */
size_t dev_model_type_count(void);
const struct dev_model_info *dev_model_type_at(size_t i);
/* NULL when no model has that name. */
const struct dev_model_info *dev_model_type_find(const char *name);

/* ---- Attaching and using a model ---- */

/* Attaches the model `model` to fn: applies every parameter's default, then
 * `params` (a key "requester_id" first, as it sets the per-engine keys that
 * may follow; a key given twice is an error), checks that fn's configuration
 * space has what the model needs (e.g. BAR0, an MSI capability), installs
 * the model as fn's pcie_fn_ops and hands it to sim (sim_own). fn must belong
 * to a fabric on sim and have no model yet. On error nothing is attached
 * and *out is NULL. Errors: PCILAB_ENOENT unknown model (the message lists
 * the known ones), PCILAB_EINVAL bad parameter or configuration space,
 * PCILAB_EEXIST fn already has a model, PCILAB_ENOMEM. */
int dev_model_attach(const char *model, struct pcilab_sim *sim, struct pcie_fn *fn,
                     const struct dev_param *params, size_t nparams, struct dev_model **out,
                     struct pcilab_err *err);

/* Changes one parameter (what `--set model.key=value` does). Parameters that
 * are the reset value of a register also set that register now; the others
 * take effect from the model's next action. */
int dev_model_set(struct dev_model *m, const char *key, const char *value,
                  struct pcilab_err *err);

/* The current text of a parameter (as given, or the default), NULL when the
 * model has no such key. Valid until the next dev_model_set of that key. */
const char *dev_model_param(const struct dev_model *m, const char *key);

const struct dev_model_info *dev_model_info(const struct dev_model *m);
const char *dev_model_name(const struct dev_model *m);
struct pcie_fn *dev_model_fn(const struct dev_model *m);
void dev_model_counters(const struct dev_model *m, struct dev_counters *out);
/* The hardware error that stopped the device, in words for the user (an
 * emulator would abort there: QEMU's hw_error), NULL while there is none. */
const char *dev_model_error(const struct dev_model *m);

#endif
