/* Flow-control credit arithmetic and the requester's tag allocator.
 * PCI Express Base Specification 5.0:
 *   2.6.1    credit types: {Posted, Non-Posted, Completion} x {header, data};
 *            one data credit is 4 DW (16 bytes), one header credit one header
 *   2.6.1.1  an initial advertisement of 0 credits means infinite credits
 *   2.6.1.2  transmitter gating: CREDIT_LIMIT (CL) and CREDITS_CONSUMED (CC),
 *            modulo 2^[Field Size]; a TLP needing CR credits may be sent when
 *              (CL - (CC + CR)) mod 2^FieldSize <= 2^FieldSize / 2
 *            receiver: CREDITS_ALLOCATED (CA), CREDITS_RECEIVED (CRCV)
 *   3.4.2    Scaled Flow Control (4.0+): scale 1/4/16 widens the field from
 *            8 to 10/12 bits (headers) and 12 to 14/16 bits (data); the DLLP
 *            HdrFC/DataFC fields carry the counter divided by the scale
 *   2.2.6.2  Tag: 5-bit (32 tags), 8-bit (256), 10-bit: a 10-Bit Tag Requester
 *            does not use Tag[9:8] = 00b, leaving 768 tags (256..1023)
 * Nothing here allocates. */
#ifndef PCILAB_PCIE_FC_H
#define PCILAB_PCIE_FC_H

#include <stdbool.h>
#include <stdint.h>

#include "pcie/dllp.h"
#include "sim/err.h"

#define PCIE_FC_DATA_CREDIT_BYTES 16u

/* Credits a TLP needs (2.6.1): 1 header, ceil(payload / 16) data. */
static inline uint32_t pcie_fc_data_credits(uint32_t payload_bytes)
{
    return (payload_bytes + PCIE_FC_DATA_CREDIT_BYTES - 1) / PCIE_FC_DATA_CREDIT_BYTES;
}

/* Scale field encoding (3.4.2): 0 = scaled FC not in use (factor 1), 1 = x1,
 * 2 = x4, 3 = x16. */
unsigned pcie_fc_scale_factor(unsigned scale_field);
/* [Field Size] in bits for a header (hdr true) or data counter at a scale. */
unsigned pcie_fc_field_bits(bool hdr, unsigned scale_field);

/* One transmit-side credit counter (one class, header or data). */
struct pcie_fc_tx {
    uint8_t bits;       /* Field Size */
    uint8_t scale;      /* scale field (0..3) */
    bool infinite;      /* advertised 0 at initialisation */
    uint32_t limit;     /* CREDIT_LIMIT, mod 2^bits */
    uint32_t consumed;  /* CREDITS_CONSUMED, mod 2^bits */
};

/* Initialises from the InitFC value (in credits; 0 = infinite). -PCILAB_EINVAL
 * when credits exceed what the field can advertise (2^bits/2 - at most half
 * the counter space may be outstanding, 2.6.1.2). */
int pcie_fc_tx_init(struct pcie_fc_tx *c, bool hdr, unsigned scale_field, uint32_t credits,
                    struct pcilab_err *err);
/* The 2.6.1.2 gate: may a TLP needing `need` credits be sent now? */
bool pcie_fc_tx_can_send(const struct pcie_fc_tx *c, uint32_t need);
/* Records that `need` credits were consumed (call only after can_send). */
void pcie_fc_tx_consume(struct pcie_fc_tx *c, uint32_t need);
/* An UpdateFC's field value (the DLLP's HdrFC/DataFC, scaled): sets
 * CREDIT_LIMIT. Ignored for infinite counters (2.6.1.2: field must be 0). */
void pcie_fc_tx_update(struct pcie_fc_tx *c, uint32_t field);
/* Credits available now: (CL - CC) mod 2^bits, or UINT32_MAX when infinite. */
uint32_t pcie_fc_tx_available(const struct pcie_fc_tx *c);

/* One receive-side counter. */
struct pcie_fc_rx {
    uint8_t bits, scale;
    bool infinite;
    uint32_t allocated; /* CREDITS_ALLOCATED, mod 2^bits */
    uint32_t received;  /* CREDITS_RECEIVED, mod 2^bits */
};

int pcie_fc_rx_init(struct pcie_fc_rx *c, bool hdr, unsigned scale_field, uint32_t credits,
                    struct pcilab_err *err);
/* A TLP using n credits arrived. Returns false on receiver overflow (2.6.1.2:
 * (CA - CRCV) mod 2^bits would exceed half the space), a Flow Control
 * Protocol Error. */
bool pcie_fc_rx_receive(struct pcie_fc_rx *c, uint32_t n);
/* The buffer space for n credits is free again: CA += n. */
void pcie_fc_rx_release(struct pcie_fc_rx *c, uint32_t n);
/* The value for an UpdateFC's HdrFC/DataFC field: CA >> scale shift, masked
 * to the DLLP field (8 / 12 bits); 0 for infinite. */
uint32_t pcie_fc_rx_field(const struct pcie_fc_rx *c);

/* ---- Tags (2.2.6.2) ---- */
enum pcie_tag_mode {
    PCIE_TAG_5BIT,  /* tags 0..31 */
    PCIE_TAG_8BIT,  /* tags 0..255 */
    PCIE_TAG_10BIT, /* tags 256..1023 (Tag[9:8] != 00b) */
};

struct pcie_tags {
    uint64_t used[16];   /* bit per tag 0..1023 */
    enum pcie_tag_mode mode;
    unsigned first, count; /* usable range [first, first+count) */
    unsigned limit;      /* outstanding limit (<= count) */
    unsigned outstanding;
    unsigned cursor;     /* next tag to try (round robin, like most requesters) */
};

/* limit 0 = every usable tag. -PCILAB_EINVAL if limit exceeds the mode's tags. */
int pcie_tags_init(struct pcie_tags *t, enum pcie_tag_mode mode, unsigned limit,
                   struct pcilab_err *err);
/* A free tag, or -1 when `limit` requests are outstanding. */
int pcie_tags_alloc(struct pcie_tags *t);
/* Releases a tag (on its final completion). -PCILAB_EINVAL when it was not
 * outstanding (an unexpected completion, 2.3.2). */
int pcie_tags_free(struct pcie_tags *t, unsigned tag, struct pcilab_err *err);
bool pcie_tags_is_outstanding(const struct pcie_tags *t, unsigned tag);
unsigned pcie_tags_capacity(enum pcie_tag_mode mode);

#endif
