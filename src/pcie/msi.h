/* MSI and MSI-X messages: what memory write a function sends for vector N.
 *
 * PCI Express Base Specification 5.0: 6.1.4 (MSI and MSI-X operation), 7.7.1 (MSI
 * capability), 7.7.2 (MSI-X capability, table and PBA). The MSI state lives in
 * configuration space; the MSI-X table and PBA live in the function's BAR memory,
 * which the device model owns and passes here as bytes.
 *
 * The caller (fabric) turns an enabled, unmasked message into a MWr TLP; a masked
 * one sets the pending bit and is sent when unmasked.
 */
#ifndef PCILAB_PCIE_MSI_H
#define PCILAB_PCIE_MSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcie/config.h"
#include "sim/err.h"

/* One MSI-X table entry, PCIe 5.0 7.7.2 figure 7-33 (16 bytes, little-endian):
 * Message Address (DW0, bits 1:0 must be 0), Message Upper Address (DW1),
 * Message Data (DW2), Vector Control (DW3, bit 0 = Mask Bit). */
#define PCIE_MSIX_ENTRY_SIZE      16
#define PCIE_MSIX_ENTRY_ADDR_LO   0x0
#define PCIE_MSIX_ENTRY_ADDR_HI   0x4
#define PCIE_MSIX_ENTRY_DATA      0x8
#define PCIE_MSIX_ENTRY_VCTRL     0xc
#define PCIE_MSIX_VCTRL_MASK      0x1u

struct pcie_msix_entry {
    uint32_t addr_lo, addr_hi, data, vector_control;
};

/* Why a vector would not be sent now. */
enum pcie_msi_status {
    PCIE_MSI_SEND = 0,        /* enabled and unmasked: send msg now */
    PCIE_MSI_DISABLED,        /* MSI Enable / MSI-X Enable clear */
    PCIE_MSI_NO_BUS_MASTER,   /* Command.Bus Master Enable clear: no memory writes (7.5.1.1.3) */
    PCIE_MSI_MASKED,          /* per-vector mask or MSI-X Function Mask */
    PCIE_MSI_OUT_OF_RANGE,    /* vector beyond the enabled/table count */
};
const char *pcie_msi_status_name(enum pcie_msi_status s);

struct pcie_msi_vector {
    enum pcie_msi_status status;
    uint64_t addr;            /* Message Address (64-bit; upper 0 for 32-bit MSI) */
    uint32_t data;            /* the DWORD payload of the MWr */
    bool addr64;              /* the function supports 64-bit addresses */
    bool pending;             /* pending bit for this vector */
    bool masked;              /* per-vector mask or function mask set */
    unsigned vectors;         /* MSI: vectors enabled (MME); MSI-X: table size */
};

/* ---- MSI (PCIe 5.0 7.7.1, 6.1.4.3) ---- */
/* Computes the message for `vector` of the function's MSI capability. With
 * Multiple Message Enable = 2^k, the function puts the vector number in the low k
 * bits of Message Data (6.1.4.3). The upper 16 bits of the payload are 0
 * (7.7.1.5). -PCILAB_ENOENT without MSI capability. */
int pcie_msi_vector(const struct pcie_cfg *cfg, unsigned vector, struct pcie_msi_vector *out,
                    struct pcilab_err *err);
/* Hardware side: the function wants to signal `vector`. Returns 1 and fills msg
 * when the message must be sent now; 0 when it was held (pending bit set when
 * masked, 7.7.1.8) or dropped (disabled/out of range: out->status tells). */
int pcie_msi_signal(struct pcie_cfg *cfg, unsigned vector, struct pcie_msi_vector *out,
                    struct pcilab_err *err);
/* Hardware side: after software unmasks, a pending vector is sent. Returns 1 and
 * clears the pending bit when `vector` is pending and now deliverable. */
int pcie_msi_poll_pending(struct pcie_cfg *cfg, unsigned vector, struct pcie_msi_vector *out);

/* ---- MSI-X (PCIe 5.0 7.7.2) ---- */
/* Table helpers over the device's BAR bytes. `table` is the table's first byte. */
void pcie_msix_entry_read(const uint8_t *table, unsigned n, struct pcie_msix_entry *e);
void pcie_msix_entry_write(uint8_t *table, unsigned n, const struct pcie_msix_entry *e);
/* Reset state of a table (7.7.2: every entry masked, other fields undefined -> 0). */
void pcie_msix_table_reset(uint8_t *table, unsigned entries);
bool pcie_msix_pba_get(const uint8_t *pba, unsigned n);
void pcie_msix_pba_set(uint8_t *pba, unsigned n, bool pending);
/* Table/PBA location from the capability (BIR, offset), entries = table size. */
int pcie_msix_layout(const struct pcie_cfg *cfg, unsigned *entries, unsigned *table_bir,
                     uint32_t *table_offset, unsigned *pba_bir, uint32_t *pba_offset,
                     struct pcilab_err *err);
/* Message for `vector`: table_len/pba_len are the bytes available at table/pba
 * (pba may be NULL: pending reported false). */
int pcie_msix_vector(const struct pcie_cfg *cfg, const uint8_t *table, size_t table_len,
                     const uint8_t *pba, size_t pba_len, unsigned vector,
                     struct pcie_msi_vector *out, struct pcilab_err *err);
/* Hardware side, as pcie_msi_signal: sets the PBA bit when masked (7.7.2.5). */
int pcie_msix_signal(const struct pcie_cfg *cfg, const uint8_t *table, size_t table_len,
                     uint8_t *pba, size_t pba_len, unsigned vector,
                     struct pcie_msi_vector *out, struct pcilab_err *err);
int pcie_msix_poll_pending(const struct pcie_cfg *cfg, const uint8_t *table, size_t table_len,
                           uint8_t *pba, size_t pba_len, unsigned vector,
                           struct pcie_msi_vector *out);

#endif
