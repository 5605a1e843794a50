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

/* A scanning cursor over one record's text, shared by the family parsers
 * (kmsg.c). Every kc_* that fails leaves the cursor where it was; when it
 * failed only because the text ended (what was there matched so far), it
 * sets short_text, which is how a parser tells KMSG_PARTIAL from
 * KMSG_NO_MATCH. */
struct kmsg_cur {
    const char *p, *end;
    bool short_text;
};

/* memmem for a NUL-terminated needle; NULL when absent. */
const char *kmsg_find(const char *text, size_t len, const char *needle);
bool kc_lit(struct kmsg_cur *c, const char *lit);       /* exact literal */
bool kc_hex(struct kmsg_cur *c, int min, int max, uint64_t *v);  /* min..max hex digits */
bool kc_dec(struct kmsg_cur *c, int max, uint64_t *v);  /* 1..max decimal digits */
size_t kc_spaces(struct kmsg_cur *c);                   /* skip blanks, how many */
bool kc_at_end(const struct kmsg_cur *c);               /* only blanks left */
/* "bb:dd.f" (has_seg false) or "ssss:bb:dd.f"; bus/dev/fn in range. */
bool kc_bdf(struct kmsg_cur *c, bool *has_seg, uint16_t *seg, uint16_t *bdf);
/* "<driver> <ssss:bb:dd.f>: " (a dev_printk prefix naming a PCI function);
 * fills out->printer_*. */
bool kc_printer(struct kmsg_cur *c, struct kmsg *out);
/* Copy [p, p+n) into dst (size dstlen), trimmed, NUL-terminated. */
void kmsg_copy(char *dst, size_t dstlen, const char *p, size_t n);

#endif
