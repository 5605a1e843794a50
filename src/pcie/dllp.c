/* DLLP encode/decode and the link CRCs; PCI Express Base Specification 5.0.
 *
 * The 16-bit DLLP CRC (3.5.2). The spec's register is shifted with the bits of
 * each content byte bit 0 first (byte 0 first), polynomial 100Bh
 * (x^16 + x^12 + x^3 + x + 1), seed FFFFh; the remainder is complemented and
 * its bits are mapped into the CRC field reversed within each byte: remainder
 * bit 15 -> bit 0 of byte 4 ... bit 8 -> bit 7 of byte 4, bit 7 -> bit 0 of
 * byte 5 ... bit 0 -> bit 7 of byte 5 (3.5.2, the figure "Diagram of CRC
 * Calculation for DLLPs"). As for the LCRC (see crc.c), feeding bits LSB
 * first through an MSB-first register equals running the mirrored register (polynomial D008h)
 * with each byte XORed into its low end; there the x^15 coefficient sits in
 * bit 0, so byte 4 is the low byte of the complemented mirrored register and
 * byte 5 its high byte.
 *
 * Cross-check with a real capture: the InitFC1-Cpl DLLP 60 00 00 00 (VC0,
 * infinite completion credits) sent by a Rockchip RK3399 root port gives the
 * complemented mirrored remainder 92D8h, i.e. CRC bytes D8 92 (the value is
 * quoted from the ecp5-pcie project's notes; tests/pcie/test_dllp.c also checks
 * the table-free code here against a bit-serial model of the spec's
 * register). */
#include "pcie/dllp.h"

#include <stdio.h>

#include "pcie/crc.h"

uint16_t pcie_dllp_crc16(const uint8_t content[4])
{
    uint16_t r = 0xffff; /* mirrored register; 100Bh reversed is D008h */
    for (int i = 0; i < 4; i++) {
        r ^= content[i];
        for (int b = 0; b < 8; b++)
            r = (r & 1) ? (uint16_t)((r >> 1) ^ 0xd008) : (uint16_t)(r >> 1);
    }
    return (uint16_t)~r;
}

void pcie_lcrc(uint16_t seq, const uint8_t *tlp, size_t len, uint8_t out[4])
{
    /* 3.6.2.1: the LCRC covers the sequence number field (reserved bits 0000b
     * and Sequence Number[11:0], sent most significant byte first) and the TLP */
    uint8_t s[2] = {(uint8_t)((seq >> 8) & 0x0f), (uint8_t)seq};
    uint32_t rem = pcie_crc32_update(PCIE_CRC32_SEED, s, 2);
    rem = pcie_crc32_update(rem, tlp, len);
    pcie_crc32_final(rem, out);
}

bool pcie_dllp_fc_kind(uint8_t t, enum pcie_fc_phase *phase, enum pcie_fc_class *cls)
{
    if (t & 0x08)
        return false; /* bit 3 is 0 in every FC encoding (Type[2:0] = VC) */
    enum pcie_fc_phase ph;
    enum pcie_fc_class c;
    switch (t & 0xf0) {
    case 0x40: ph = PCIE_FC_INIT1; c = PCIE_FC_P; break;
    case 0x50: ph = PCIE_FC_INIT1; c = PCIE_FC_NP; break;
    case 0x60: ph = PCIE_FC_INIT1; c = PCIE_FC_CPL; break;
    case 0xc0: ph = PCIE_FC_INIT2; c = PCIE_FC_P; break;
    case 0xd0: ph = PCIE_FC_INIT2; c = PCIE_FC_NP; break;
    case 0xe0: ph = PCIE_FC_INIT2; c = PCIE_FC_CPL; break;
    case 0x80: ph = PCIE_FC_UPDATE; c = PCIE_FC_P; break;
    case 0x90: ph = PCIE_FC_UPDATE; c = PCIE_FC_NP; break;
    case 0xa0: ph = PCIE_FC_UPDATE; c = PCIE_FC_CPL; break;
    default: return false; /* 0111b/1111b/1011b: MR-IOV MRInitFC/MRUpdateFC */
    }
    if (phase)
        *phase = ph;
    if (cls)
        *cls = c;
    return true;
}

const char *pcie_dllp_type_name(uint8_t t)
{
    enum pcie_fc_phase ph;
    enum pcie_fc_class c;
    if (pcie_dllp_fc_kind(t, &ph, &c)) {
        static const char *const names[3][3] = {
            {"InitFC1-P", "InitFC1-NP", "InitFC1-Cpl"},
            {"InitFC2-P", "InitFC2-NP", "InitFC2-Cpl"},
            {"UpdateFC-P", "UpdateFC-NP", "UpdateFC-Cpl"},
        };
        return names[ph][c];
    }
    switch (t) {
    case PCIE_DLLP_ACK: return "Ack";
    case PCIE_DLLP_MRINIT: return "MRInit";
    case PCIE_DLLP_DATA_LINK_FEATURE: return "Data_Link_Feature";
    case PCIE_DLLP_NAK: return "Nak";
    case PCIE_DLLP_PM_ENTER_L1: return "PM_Enter_L1";
    case PCIE_DLLP_PM_ENTER_L23: return "PM_Enter_L23";
    case PCIE_DLLP_PM_AS_REQUEST_L1: return "PM_Active_State_Request_L1";
    case PCIE_DLLP_PM_REQUEST_ACK: return "PM_Request_Ack";
    case PCIE_DLLP_VENDOR: return "Vendor-specific";
    case PCIE_DLLP_NOP: return "NOP";
    }
    return "reserved";
}

static bool plain_type(uint8_t t)
{
    switch (t) {
    case PCIE_DLLP_ACK: case PCIE_DLLP_DATA_LINK_FEATURE: case PCIE_DLLP_NAK:
    case PCIE_DLLP_PM_ENTER_L1: case PCIE_DLLP_PM_ENTER_L23: case PCIE_DLLP_PM_AS_REQUEST_L1:
    case PCIE_DLLP_PM_REQUEST_ACK: case PCIE_DLLP_VENDOR: case PCIE_DLLP_NOP:
        return true;
    }
    return false;
}

int pcie_dllp_encode(const struct pcie_dllp *d, uint8_t out[PCIE_DLLP_BYTES],
                     struct pcilab_err *err)
{
    uint8_t t = (uint8_t)d->type;
    enum pcie_fc_phase ph;
    enum pcie_fc_class c;
    if (pcie_dllp_fc_kind(t, &ph, &c)) {
        if (d->vc > 7 || (t & 7))
            return pcilab_errf(err, PCILAB_EINVAL, "%s: VC %u does not fit Type[2:0] (3.5.1)",
                               pcie_dllp_type_name(t), d->vc);
        if (d->data_fc > 0xfff || d->hdr_scale > 3 || d->data_scale > 3)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "%s: DataFC 0x%x / scale fields do not fit (3.5.1)",
                               pcie_dllp_type_name(t), d->data_fc);
        out[0] = (uint8_t)(t | d->vc);
        /* Figure 3-11: byte 1 = HdrScale[1:0] HdrFC[7:2]; byte 2 = HdrFC[1:0]
         * DataScale[1:0] DataFC[11:8]; byte 3 = DataFC[7:0] */
        out[1] = (uint8_t)((d->hdr_scale << 6) | (d->hdr_fc >> 2));
        out[2] = (uint8_t)(((d->hdr_fc & 3) << 6) | (d->data_scale << 4) | (d->data_fc >> 8));
        out[3] = (uint8_t)d->data_fc;
    } else if (t == PCIE_DLLP_ACK || t == PCIE_DLLP_NAK) {
        if (d->seq > 0xfff)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "%s: sequence number 0x%x does not fit 12 bits (3.5.1)",
                               pcie_dllp_type_name(t), d->seq);
        /* Figure 3-10: byte 1 reserved, byte 2 bits 3:0 = seq[11:8], byte 3 = seq[7:0] */
        out[0] = t;
        out[1] = 0;
        out[2] = (uint8_t)(d->seq >> 8);
        out[3] = (uint8_t)d->seq;
    } else if (plain_type(t)) {
        /* PM DLLPs: bytes 1-3 reserved (Figure 3-12); Vendor-specific, NOP and
         * Data_Link_Feature carry their bytes raw */
        out[0] = t;
        out[1] = d->raw[0];
        out[2] = d->raw[1];
        out[3] = d->raw[2];
    } else {
        return pcilab_errf(err, PCILAB_EINVAL, "DLLP type 0x%02x is reserved or not modelled",
                           t);
    }
    uint16_t crc = pcie_dllp_crc16(out);
    out[4] = (uint8_t)crc;
    out[5] = (uint8_t)(crc >> 8);
    return 0;
}

int pcie_dllp_decode(const uint8_t in[PCIE_DLLP_BYTES], struct pcie_dllp *d,
                     struct pcilab_err *err)
{
    *d = (struct pcie_dllp){0};
    uint16_t want = pcie_dllp_crc16(in), got = (uint16_t)(in[4] | in[5] << 8);
    d->crc = got;
    if (want != got)
        return pcilab_errf(err, PCILAB_EMALFORMED,
                           "DLLP CRC bytes %02x %02x, expected %02x %02x (3.5.2)", in[4],
                           in[5], want & 0xff, want >> 8);
    uint8_t t = in[0];
    if (pcie_dllp_fc_kind(t, NULL, NULL)) {
        d->type = (enum pcie_dllp_type)(t & 0xf8);
        d->vc = t & 7;
        d->hdr_scale = in[1] >> 6;
        d->hdr_fc = (uint8_t)((in[1] & 0x3f) << 2 | in[2] >> 6);
        d->data_scale = (in[2] >> 4) & 3;
        d->data_fc = (uint16_t)((in[2] & 0xf) << 8 | in[3]);
        return 0;
    }
    if (t == PCIE_DLLP_ACK || t == PCIE_DLLP_NAK) {
        d->type = (enum pcie_dllp_type)t;
        d->seq = (uint16_t)((in[2] & 0xf) << 8 | in[3]);
        /* reserved bits (byte 1, byte 2 bits 7:4) are ignored by receivers */
        return 0;
    }
    if (plain_type(t)) {
        d->type = (enum pcie_dllp_type)t;
        d->raw[0] = in[1];
        d->raw[1] = in[2];
        d->raw[2] = in[3];
        return 0;
    }
    return pcilab_errf(err, PCILAB_EMALFORMED, "DLLP type 0x%02x: %s encoding (Table 3-1)", t,
                       t == PCIE_DLLP_MRINIT || (t & 0xf0) == 0x70 || (t & 0xf0) == 0xf0 ||
                               (t & 0xf0) == 0xb0
                           ? "MR-IOV, not modelled"
                           : "reserved");
}

struct pcie_dllp pcie_dllp_ack(uint16_t seq)
{
    return (struct pcie_dllp){.type = PCIE_DLLP_ACK, .seq = seq & 0xfff};
}

struct pcie_dllp pcie_dllp_nak(uint16_t seq)
{
    return (struct pcie_dllp){.type = PCIE_DLLP_NAK, .seq = seq & 0xfff};
}

struct pcie_dllp pcie_dllp_fc(enum pcie_fc_phase phase, enum pcie_fc_class cls, uint8_t vc,
                              uint8_t hdr_fc, uint16_t data_fc, uint8_t hdr_scale,
                              uint8_t data_scale)
{
    static const uint8_t base[3] = {0x40, 0xc0, 0x80}; /* InitFC1, InitFC2, UpdateFC -P */
    return (struct pcie_dllp){.type = (enum pcie_dllp_type)(base[phase] + 0x10 * cls),
                              .vc = vc,
                              .hdr_fc = hdr_fc,
                              .data_fc = data_fc,
                              .hdr_scale = hdr_scale,
                              .data_scale = data_scale};
}

const char *pcie_dllp_str(const struct pcie_dllp *d, char *buf, size_t len)
{
    uint8_t t = (uint8_t)d->type;
    if (pcie_dllp_fc_kind(t, NULL, NULL))
        snprintf(buf, len, "%s VC%u Hdr %u Data %u%s", pcie_dllp_type_name(t), d->vc, d->hdr_fc,
                 d->data_fc, d->hdr_scale || d->data_scale ? " (scaled)" : "");
    else if (t == PCIE_DLLP_ACK || t == PCIE_DLLP_NAK)
        snprintf(buf, len, "%s seq 0x%03x", pcie_dllp_type_name(t), d->seq);
    else
        snprintf(buf, len, "%s", pcie_dllp_type_name(t));
    return buf;
}
