/* libFuzzer target for the lspci reader (src/diag/lspci.c): any input either
 * parses or fails with a positioned error; never a crash or a leak. What it
 * returns must hold together: sorted unique functions, valid BDFs, parents
 * that exist in the same segment, paths that end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag/lspci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lspci_db db;
    struct pcilab_err err;
    size_t skipped = 0;
    pcilab_err_clear(&err);
    int r = lspci_parse(&db, (const char *)data, size, "fuzz", &skipped, &err);
    if (r < 0) {
        /* an error says where (out of memory aside) */
        if (err.code == 0 || err.msg[0] == '\0' ||
            (err.code != PCILAB_ENOMEM && err.line == 0))
            abort();
        if (db.n != 0 || db.fn != NULL)
            abort();
        return 0;
    }
    for (size_t i = 0; i < db.n; i++) {
        const struct lspci_fn *f = &db.fn[i];
        if (i > 0) {
            uint32_t a = (uint32_t)db.fn[i - 1].segment << 16 | db.fn[i - 1].bdf;
            uint32_t b = (uint32_t)f->segment << 16 | f->bdf;
            if (a >= b)
                abort();
        }
        if (lspci_find(&db, f->segment, f->bdf) != f)
            abort();
        if (memchr(f->name, '\0', sizeof f->name) == NULL ||
            memchr(f->driver, '\0', sizeof f->driver) == NULL)
            abort();
        if (f->has_config && f->config_len != 64 && f->config_len != 256 &&
            f->config_len != 4096)
            abort();
        if ((unsigned)f->role > LSPCI_ROLE_IOMMU)
            abort();
        uint16_t path[64];
        size_t k = lspci_path(&db, f, path, 64);
        if (k == 0 || k > 64 || path[0] != f->bdf)
            abort();
    }
    lspci_free(&db);
    return 0;
}
