/* libFuzzer target for the whole explain pipeline on a kernel log: the
 * reader (klog.c), the message recognisers (kmsg*.c) and the explainer's
 * grouping and analysis (explain.c). Invariants: the counts add up, every
 * finding has a category of the taxonomy, a non-empty verdict and a
 * signature, and every text is NUL-terminated within its
 * buffer; and the same input gives the same findings twice. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag/explain.h"
#include "diag/klog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t run(const uint8_t *data, size_t size)
{
    struct explain_opts o;
    memset(&o, 0, sizeof o);
    struct explain *e = explain_create(&o);
    struct klog_reader *r = klog_reader_new(4096);
    if (!e || !r)
        abort();
    /* two chunks, split where the first byte says */
    size_t cut = size ? data[0] % (size + 1) : 0;
    klog_feed(r, data, cut, explain_klog_rec, e);
    klog_feed(r, data + cut, size - cut, explain_klog_rec, e);
    klog_finish(r, explain_klog_rec, e);
    explain_finish(e);
    struct pcilab_err err;
    pcilab_err_clear(&err);
    if (explain_analyse(e, &err) < 0)
        abort();
    const struct explain_counts *c = explain_get_counts(e);
    /* each record ends recognised, unrecognised or joined to another */
    if (c->recognised + c->unrecognised > c->records || c->faults > c->recognised)
        abort();
    uint64_t h = explain_nfindings(e);
    for (size_t i = 0; i < explain_nfindings(e); i++) {
        const struct explain_finding *f = explain_finding_at(e, i);
        if (!f || !f->sig || (unsigned)f->category > DIAG_UNKNOWN)
            abort();
        if (!memchr(f->what, '\0', sizeof f->what) || !f->what[0] ||
            !memchr(f->why, '\0', sizeof f->why) || !memchr(f->change, '\0', sizeof f->change))
            abort();
        if (f->nfields > EXPLAIN_MAX_FIELDS || f->nruled > EXPLAIN_MAX_RULED ||
            f->nfixes > EXPLAIN_MAX_FIXES || f->ncollect > EXPLAIN_MAX_COLLECT)
            abort();
        h = h * 1099511628211ull ^ (uint64_t)f->category ^ (uint64_t)f->confidence << 8;
        for (const char *p = f->what; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
    }
    klog_reader_free(r);
    explain_destroy(e);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (run(data, size) != run(data, size))
        abort();
    return 0;
}
