/* Data Link Layer Packets and the link-level CRCs.
 * PCI Express Base Specification 5.0 (non-Flit mode):
 *   3.5.1  DLLP types (Table 3-1) and formats: Ack/Nak (Figure 3-10),
 *          InitFC1/InitFC2/UpdateFC (Figures 3-11..3-13, scale fields of 3.4.2),
 *          PM DLLPs, Vendor-specific, NOP, Data_Link_Feature
 *   3.5.2  the 16-bit DLLP CRC
 *   3.6.2.1 sequence number and the 32-bit LCRC over sequence number + TLP
 *   4.2.1 / 4.2.2.3 framing: SDP+DLLP+END (8b/10b), SDP token + DLLP (128b/130b);
 *          both are 8 Symbols on the wire.
 *
 * A DLLP is 6 bytes: 4 bytes of content (byte 0 = type) then the 2-byte CRC. */
#ifndef PCILAB_PCIE_DLLP_H
#define PCILAB_PCIE_DLLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"

#define PCIE_DLLP_BYTES 6       /* content + CRC (3.5.1) */
#define PCIE_DLLP_WIRE_BYTES 8  /* with framing: SDP+END (4.2.1.1) or SDP token (4.2.2.3.1) */

/* DLLP Type byte encodings, Table 3-1. FC types carry VC ID in bits 2:0. */
enum pcie_dllp_type {
    PCIE_DLLP_ACK = 0x00,
    PCIE_DLLP_MRINIT = 0x01,            /* MR-IOV: recognised, not modelled */
    PCIE_DLLP_DATA_LINK_FEATURE = 0x02,
    PCIE_DLLP_NAK = 0x10,
    PCIE_DLLP_PM_ENTER_L1 = 0x20,
    PCIE_DLLP_PM_ENTER_L23 = 0x21,
    PCIE_DLLP_PM_AS_REQUEST_L1 = 0x23,  /* PM_Active_State_Request_L1 */
    PCIE_DLLP_PM_REQUEST_ACK = 0x24,
    PCIE_DLLP_VENDOR = 0x30,
    PCIE_DLLP_NOP = 0x31,
    PCIE_DLLP_INITFC1_P = 0x40,
    PCIE_DLLP_INITFC1_NP = 0x50,
    PCIE_DLLP_INITFC1_CPL = 0x60,
    PCIE_DLLP_INITFC2_P = 0xc0,
    PCIE_DLLP_INITFC2_NP = 0xd0,
    PCIE_DLLP_INITFC2_CPL = 0xe0,
    PCIE_DLLP_UPDATEFC_P = 0x80,
    PCIE_DLLP_UPDATEFC_NP = 0x90,
    PCIE_DLLP_UPDATEFC_CPL = 0xa0,
};

/* Flow control credit classes (2.6.1): Posted, Non-Posted, Completion. */
enum pcie_fc_class {
    PCIE_FC_P = 0,
    PCIE_FC_NP = 1,
    PCIE_FC_CPL = 2,
};
#define PCIE_FC_CLASSES 3

/* FC DLLP phase: InitFC1, InitFC2, UpdateFC. */
enum pcie_fc_phase {
    PCIE_FC_INIT1,
    PCIE_FC_INIT2,
    PCIE_FC_UPDATE,
};

struct pcie_dllp {
    enum pcie_dllp_type type; /* FC types: base encoding, VC in vc */
    /* Ack/Nak: AckNak_Seq_Num[11:0] (byte 2 bits 3:0, byte 3) */
    uint16_t seq;
    /* InitFC1/InitFC2/UpdateFC (3.5.1, Figure 3-11): */
    uint8_t vc;          /* Type[2:0] */
    uint8_t hdr_scale;   /* HdrScale[1:0], byte 1 bits 7:6 (00b: scaling not used) */
    uint8_t hdr_fc;      /* HdrFC[7:0]: byte 1 bits 5:0 = [7:2], byte 2 bits 7:6 = [1:0] */
    uint8_t data_scale;  /* DataScale[1:0], byte 2 bits 5:4 */
    uint16_t data_fc;    /* DataFC[11:0]: byte 2 bits 3:0 = [11:8], byte 3 = [7:0] */
    /* Vendor-specific / Data_Link_Feature / NOP: bytes 1..3 as received */
    uint8_t raw[3];
    uint16_t crc;        /* the CRC field as bytes 4 (low) and 5 (high) (decode) */
};

/* Encodes into 6 bytes, computing the CRC. Returns 0 or -PCILAB_EINVAL when a
 * field does not fit (seq > 0xfff, vc > 7, data_fc > 0xfff, scale > 3). */
int pcie_dllp_encode(const struct pcie_dllp *d, uint8_t out[PCIE_DLLP_BYTES],
                     struct pcilab_err *err);
/* Decodes 6 bytes. -PCILAB_EMALFORMED for a bad CRC or a reserved type
 * encoding (the message names which). */
int pcie_dllp_decode(const uint8_t in[PCIE_DLLP_BYTES], struct pcie_dllp *d,
                     struct pcilab_err *err);

/* Builders */
struct pcie_dllp pcie_dllp_ack(uint16_t seq);
struct pcie_dllp pcie_dllp_nak(uint16_t seq);
/* hdr_fc / data_fc are the field values (credits >> scale shift when scaled). */
struct pcie_dllp pcie_dllp_fc(enum pcie_fc_phase phase, enum pcie_fc_class cls, uint8_t vc,
                              uint8_t hdr_fc, uint16_t data_fc, uint8_t hdr_scale,
                              uint8_t data_scale);
/* Class and phase of an FC DLLP type byte; false when not an FC DLLP. */
bool pcie_dllp_fc_kind(uint8_t type_byte, enum pcie_fc_phase *phase, enum pcie_fc_class *cls);

/* "Ack", "UpdateFC-P", "PM_Enter_L1", ...; "reserved" for unknown encodings. */
const char *pcie_dllp_type_name(uint8_t type_byte);
/* One line: "Ack seq 0x123", "UpdateFC-P VC0 Hdr 32 Data 512" ... Returns buf. */
const char *pcie_dllp_str(const struct pcie_dllp *d, char *buf, size_t len);

/* 3.5.2: CRC-16 over the 4 content bytes (polynomial 100Bh, seed FFFFh, bit 0
 * of byte 0 first, result complemented). Returned as the two CRC bytes packed
 * little-endian: byte 4 = value & 0xff, byte 5 = value >> 8. */
uint16_t pcie_dllp_crc16(const uint8_t content[4]);

/* 3.6.2.1: LCRC over the 2-byte sequence number field (4 reserved bits 0000b +
 * seq[11:0], most significant byte first) and the TLP bytes. out gets the 4
 * LCRC bytes in transmit order. */
void pcie_lcrc(uint16_t seq, const uint8_t *tlp, size_t len, uint8_t out[4]);

#endif
