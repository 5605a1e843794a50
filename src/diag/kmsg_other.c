/* ARM SMMU, dma-debug, swiotlb, AER and the context lines (kmsg.h). */
#include <string.h>

#include "diag/kmsg_priv.h"

enum kmsg_status kmsg_parse_other(const char *text, size_t len, struct kmsg *out)
{
    (void)text;
    (void)len;
    (void)out;
    return KMSG_NO_MATCH;
}
