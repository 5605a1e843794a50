/* pcilab run: the configuration notes (run_setup.h, src/diag/setup.h). */
#include "cli/run_setup.h"

#include <stdlib.h>
#include <string.h>

#include "diag/setup.h"

#define WIDTH 80

/* Words of text after a first line's prefix, wrapped at WIDTH with the
 * continuation indented by indent spaces. */
static void wrap(FILE *out, const char *prefix, size_t indent, const char *text)
{
    size_t col = (size_t)fprintf(out, "%s", prefix);
    const char *p = text;
    bool first = true;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t w = strcspn(p, " ");
        if (!w)
            break;
        if (!first && col + 1 + w > WIDTH) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
            first = true;
        }
        col += (size_t)fprintf(out, "%s%.*s", first ? "" : " ", (int)w, p);
        first = false;
        p += w;
    }
    fputc('\n', out);
}

static struct diag_setup *explain(const struct cli_machine *m)
{
    if (!m->kernel)
        return NULL;
    struct diag_setup *s = malloc(sizeof *s);
    if (s && diag_setup_explain(m->kernel, m->sys, s, NULL) < 0) {
        free(s);
        s = NULL;
    }
    return s;
}

void run_setup_print(const struct cli_machine *m, FILE *out)
{
    struct diag_setup *s = explain(m);
    if (!s)
        return;
    fprintf(out, "\nConfiguration:\n");
    for (size_t i = 0; i < s->n; i++) {
        const struct diag_setup_note *n = &s->notes[i];
        char head[256];
        snprintf(head, sizeof head, "  [%s] ", n->key);
        wrap(out, head, 6, n->title);
        wrap(out, "      ", 6, n->text);
        wrap(out, "      rule: ", 12, n->source);
        for (unsigned a = 0; a < n->nalt; a++)
            wrap(out, "      instead: ", 15, n->alt[a]);
    }
    free(s);
}

json_t *run_setup_json(const struct cli_machine *m)
{
    struct diag_setup *s = explain(m);
    if (!s)
        return json_null();
    const struct diag_setup_facts *f = &s->facts;
    json_t *facts = json_pack(
        "{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:I}", "kernel", f->version, "iommu_off",
        f->no_iommu, "iommu_soft", f->soft, "iommu_force", f->force, "iommu_pt", f->pt,
        "amdvi", f->amdvi, "irq_remap", f->irq_remap, "faults", (json_int_t)f->faults);
    if (f->board) {
        char rid[8];
        pcie_bdf_str(f->board_rid, rid);
        json_object_set_new(
            facts, "board",
            json_pack("{s:s, s:s, s:i, s:i, s:i, s:b, s:s, s:I, s:I, s:I, s:i, s:I, s:I, s:i}",
                      "bdf", f->board_bdf, "write_rid", rid, "msi_capable", f->msi_capable,
                      "msi_enabled", f->msi_enabled, "vectors", f->nvec, "msix", f->msix_cap,
                      "irq_sharing", f->irq_sharing, "uart_events", (json_int_t)f->uart_events,
                      "uart_folded", (json_int_t)f->uart_folded, "uart_lost",
                      (json_int_t)f->uart_lost, "dma_bits", f->dma_bits, "dma_handle",
                      (json_int_t)f->handle, "payload", (json_int_t)f->payload, "mps", f->mps));
    }
    json_t *notes = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const struct diag_setup_note *n = &s->notes[i];
        json_t *alts = json_array();
        for (unsigned a = 0; a < n->nalt; a++)
            json_array_append_new(alts, json_string(n->alt[a]));
        json_array_append_new(notes, json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", n->key,
                                               "title", n->title, "text", n->text, "source",
                                               n->source, "alternatives", alts));
    }
    free(s);
    return json_pack("{s:o, s:o}", "facts", facts, "notes", notes);
}
