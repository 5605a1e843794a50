#include "pcie/fc.h"

#include <string.h>

unsigned pcie_fc_scale_factor(unsigned s)
{
    /* 3.4.2: 00b not supported (unscaled), 01b x1, 10b x4, 11b x16 */
    return s == 2 ? 4 : s == 3 ? 16 : 1;
}

static unsigned scale_shift(unsigned s)
{
    return s == 2 ? 2 : s == 3 ? 4 : 0;
}

unsigned pcie_fc_field_bits(bool hdr, unsigned s)
{
    return (hdr ? 8 : 12) + scale_shift(s);
}

static uint32_t mask_of(unsigned bits)
{
    return (uint32_t)((1ull << bits) - 1);
}

static int check_init(bool hdr, unsigned s, uint32_t credits, struct pcilab_err *err)
{
    if (s > 3)
        return pcilab_errf(err, PCILAB_EINVAL, "FC scale field %u does not fit 2 bits", s);
    unsigned bits = pcie_fc_field_bits(hdr, s);
    /* the advertised value must fit the DLLP field after scaling, and at most
     * 2^(FieldSize-1) - 1 credits may be advertised (127 PH, 2047 PD unscaled) */
    uint32_t max_field = hdr ? 0xff : 0xfff;
    uint32_t f = pcie_fc_scale_factor(s);
    if (credits % f || credits / f > max_field || credits > (1u << bits) / 2 - 1)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%u %s credits cannot be advertised with scale factor %u "
                           "(field %u bits, 2.6.1.2/3.4.2)",
                           credits, hdr ? "header" : "data", f, hdr ? 8 : 12);
    return 0;
}

int pcie_fc_tx_init(struct pcie_fc_tx *c, bool hdr, unsigned s, uint32_t credits,
                    struct pcilab_err *err)
{
    int r = check_init(hdr, s, credits, err);
    if (r)
        return r;
    *c = (struct pcie_fc_tx){.bits = (uint8_t)pcie_fc_field_bits(hdr, s),
                             .scale = (uint8_t)s,
                             .infinite = credits == 0,
                             .limit = credits,
                             .consumed = 0};
    return 0;
}

bool pcie_fc_tx_can_send(const struct pcie_fc_tx *c, uint32_t need)
{
    if (c->infinite || need == 0)
        return true;
    uint32_t m = mask_of(c->bits);
    /* 2.6.1.2: (CL - (CC + CR)) mod 2^FS <= 2^FS / 2 */
    return ((c->limit - (c->consumed + need)) & m) <= (m + 1) / 2;
}

void pcie_fc_tx_consume(struct pcie_fc_tx *c, uint32_t need)
{
    if (!c->infinite)
        c->consumed = (c->consumed + need) & mask_of(c->bits);
}

void pcie_fc_tx_update(struct pcie_fc_tx *c, uint32_t field)
{
    if (c->infinite)
        return;
    c->limit = (field << scale_shift(c->scale)) & mask_of(c->bits);
}

uint32_t pcie_fc_tx_available(const struct pcie_fc_tx *c)
{
    if (c->infinite)
        return UINT32_MAX;
    uint32_t a = (c->limit - c->consumed) & mask_of(c->bits);
    return a > (mask_of(c->bits) + 1) / 2 ? 0 : a; /* "negative": over the limit */
}

int pcie_fc_rx_init(struct pcie_fc_rx *c, bool hdr, unsigned s, uint32_t credits,
                    struct pcilab_err *err)
{
    int r = check_init(hdr, s, credits, err);
    if (r)
        return r;
    *c = (struct pcie_fc_rx){.bits = (uint8_t)pcie_fc_field_bits(hdr, s),
                             .scale = (uint8_t)s,
                             .infinite = credits == 0,
                             .allocated = credits,
                             .received = 0};
    return 0;
}

bool pcie_fc_rx_receive(struct pcie_fc_rx *c, uint32_t n)
{
    if (c->infinite)
        return true;
    uint32_t m = mask_of(c->bits);
    c->received = (c->received + n) & m;
    /* 2.6.1.2 receiver check: (CA - CRCV) mod 2^FS >= 2^FS/2 means overflow */
    return ((c->allocated - c->received) & m) < (m + 1) / 2;
}

void pcie_fc_rx_release(struct pcie_fc_rx *c, uint32_t n)
{
    if (!c->infinite)
        c->allocated = (c->allocated + n) & mask_of(c->bits);
}

uint32_t pcie_fc_rx_field(const struct pcie_fc_rx *c)
{
    if (c->infinite)
        return 0;
    unsigned sh = scale_shift(c->scale);
    return (c->allocated >> sh) & (c->bits - sh == 8 ? 0xffu : 0xfffu);
}

unsigned pcie_tags_capacity(enum pcie_tag_mode mode)
{
    return mode == PCIE_TAG_5BIT ? 32 : mode == PCIE_TAG_8BIT ? 256 : 768;
}

int pcie_tags_init(struct pcie_tags *t, enum pcie_tag_mode mode, unsigned limit,
                   struct pcilab_err *err)
{
    if (mode != PCIE_TAG_5BIT && mode != PCIE_TAG_8BIT && mode != PCIE_TAG_10BIT)
        return pcilab_errf(err, PCILAB_EINVAL, "unknown tag mode %d", (int)mode);
    unsigned cap = pcie_tags_capacity(mode);
    if (limit > cap)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%u outstanding requests exceed the %u tags of %s tags (2.2.6.2)",
                           limit, cap,
                           mode == PCIE_TAG_5BIT ? "5-bit" : mode == PCIE_TAG_8BIT ? "8-bit"
                                                                                  : "10-bit");
    memset(t, 0, sizeof *t);
    t->mode = mode;
    t->first = mode == PCIE_TAG_10BIT ? 256 : 0;
    t->count = cap;
    t->limit = limit ? limit : cap;
    t->cursor = t->first;
    return 0;
}

static bool tag_used(const struct pcie_tags *t, unsigned tag)
{
    return (t->used[tag >> 6] >> (tag & 63)) & 1;
}

int pcie_tags_alloc(struct pcie_tags *t)
{
    if (t->outstanding >= t->limit)
        return -1;
    /* round robin from the cursor; skip whole used words quickly */
    unsigned end = t->first + t->count;
    for (unsigned n = 0; n < t->count;) {
        unsigned tag = t->cursor;
        uint64_t w = t->used[tag >> 6] >> (tag & 63);
        if (w & 1) {
            /* jump over the run of used tags in this word */
            unsigned run = ~w ? (unsigned)__builtin_ctzll(~w) : 64u;
            if (tag + run > end)
                run = end - tag;
            n += run;
            t->cursor = tag + run >= end ? t->first : tag + run;
            continue;
        }
        t->used[tag >> 6] |= 1ull << (tag & 63);
        t->outstanding++;
        t->cursor = tag + 1 >= end ? t->first : tag + 1;
        return (int)tag;
    }
    return -1; /* not reached while outstanding < limit <= count */
}

int pcie_tags_free(struct pcie_tags *t, unsigned tag, struct pcilab_err *err)
{
    if (tag < t->first || tag >= t->first + t->count || !tag_used(t, tag))
        return pcilab_errf(err, PCILAB_EINVAL, "tag %u is not outstanding", tag);
    t->used[tag >> 6] &= ~(1ull << (tag & 63));
    t->outstanding--;
    return 0;
}

bool pcie_tags_is_outstanding(const struct pcie_tags *t, unsigned tag)
{
    return tag < 1024 && tag >= t->first && tag < t->first + t->count && tag_used(t, tag);
}
