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

/* The keywords the pre-filter looks for, found in one pass over a record
 * (kmsg_keywords, kmsg.c): the families' parsers run only where theirs are. */
enum {
    KMSG_KW_AMDVI = 1u << 0,        /* "AMD-Vi" */
    KMSG_KW_DEVICE_EQ = 1u << 1,    /* "device=" */
    KMSG_KW_ADDRESS_EQ = 1u << 2,   /* "address=0x" */
    KMSG_KW_UNKNOWN = 1u << 3,      /* "UNKNOWN " */
    KMSG_KW_DMAR = 1u << 4,         /* "DMAR" */
    KMSG_KW_DRHD = 1u << 5,         /* "DRHD" */
    KMSG_KW_INTR_REMAP = 1u << 6,   /* "INTR-REMAP" */
    KMSG_KW_RMRR = 1u << 7,         /* "RMRR" */
    KMSG_KW_CTX_FAULT = 1u << 8,    /* "Unhandled context fault: " */
    KMSG_KW_DMA_API = 1u << 9,      /* "DMA-API: " */
    KMSG_KW_SWIOTLB = 1u << 10,     /* "swiotlb buffer is full" */
    KMSG_KW_SW_IOMMU = 1u << 11,    /* "SW-IOMMU" */
    KMSG_KW_SMMU = 1u << 12,        /* "smmu" */
};
unsigned kmsg_keywords(const char *text, size_t len);
/* kmsg_parse_other with the keywords already found */
enum kmsg_status kmsg_parse_other_kw(const char *text, size_t len, unsigned kw, struct kmsg *out);

#endif
