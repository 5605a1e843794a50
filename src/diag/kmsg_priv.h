/* Inside kmsg: one parser per family, each called by kmsg_parse (kmsg.c)
 * after its cheap pre-filter has seen the family's keyword. Each returns a
 * kmsg_status and fills out only on KMSG_MATCH. */
#ifndef PCILAB_DIAG_KMSG_PRIV_H
#define PCILAB_DIAG_KMSG_PRIV_H

#include "diag/kmsg.h"

enum kmsg_status kmsg_parse_amdvi(const char *text, size_t len, struct kmsg *out);  /* kmsg_amdvi.c */
enum kmsg_status kmsg_parse_vtd(const char *text, size_t len, struct kmsg *out);    /* kmsg_vtd.c */
enum kmsg_status kmsg_parse_other(const char *text, size_t len, struct kmsg *out);  /* kmsg_other.c:
                                       SMMU, dma-debug, swiotlb, AER, context lines */

#endif
