/* TLP formatting for people and tools: the one-line trace summary, the
 * analyser-style field dump of `pcilab decode`, and JSON. These format into
 * buffers (only src/cli prints). PCI Express Base Specification 5.0. */
#ifndef PCILAB_PCIE_TLP_PRINT_H
#define PCILAB_PCIE_TLP_PRINT_H

#include <stddef.h>

#include <jansson.h>

#include "pcie/tlp.h"

/* One line, like an analyser's packet list:
 *   MWr32 len=32 RID=00:00.0 tag=0x01 BE=f/f addr=0xffbf8000
 *   CplD len=1 CID=01:00.0 SC BC=4 RID=00:00.0 tag=0x05 LA=0x10
 * snprintf semantics: returns the length the full line needs; writes at most
 * len bytes (NUL included). Allocates nothing. */
size_t pcie_tlp_summary(const struct pcie_tlp *tlp, char *buf, size_t len);

/* The multi-line, field-by-field dump: each header field with its raw bits,
 * value and meaning, the spec section, the payload as hex, and notes
 * (warnings, and hints such as a request from 00:00.0). raw/raw_len are the
 * bytes decoded (may be NULL). snprintf semantics. */
size_t pcie_tlp_dump(const struct pcie_tlp *tlp, const uint8_t *raw, size_t raw_len, char *buf,
                     size_t len);

/* A JSON object with every field (new reference; NULL on allocation failure). */
json_t *pcie_tlp_to_json(const struct pcie_tlp *tlp);

#endif
