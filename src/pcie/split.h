/* Splitting transfers into TLPs. PCI Express Base Specification 5.0:
 *   2.2.2    a TLP's payload must not exceed Max_Payload_Size (MPS)
 *   2.2.5    First/Last DW Byte Enables of a request covering a byte range
 *   2.2.7    memory requests must not cross a 4 KiB boundary; read requests must
 *            not exceed Max_Read_Request_Size (MRRS, 7.5.3.4)
 *   2.2.9    completion Byte Count (remaining bytes) and Lower Address
 *   2.3.1.1  a completer may split a read's data into several completions, each
 *            ending on a naturally aligned Read Completion Boundary (RCB, 64 or
 *            128 bytes), except the last; each completion's payload <= MPS.
 *
 * Every function writes into a caller-provided array and allocates nothing. It
 * returns the number of pieces the transfer needs (which may exceed cap: then
 * only cap pieces were written, so a caller may size its array by calling with
 * cap 0 first), or a negative PCILAB_E* code for bad parameters. */
#ifndef PCILAB_PCIE_SPLIT_H
#define PCILAB_PCIE_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"

/* One request TLP's share of a write or read. */
struct pcie_split_req {
    uint64_t addr;      /* first byte */
    uint32_t len;       /* bytes, 1..4096 (a zero-length read has len 0) */
    uint16_t len_dw;    /* Length field in DW (2.2.2): the DW-aligned span */
    uint8_t first_be;   /* First DW Byte Enables (2.2.5) */
    uint8_t last_be;    /* Last DW Byte Enables; 0 when len_dw == 1 */
};

/* One completion's share of a read. */
struct pcie_split_cpl {
    uint64_t addr;       /* first byte returned by this completion */
    uint32_t len;        /* bytes of the request's data it returns */
    uint16_t len_dw;     /* Length field in DW (the DW-aligned span, 2.2.9) */
    uint16_t byte_count; /* Byte Count field: bytes left including these (2.2.9);
                            4096 is encoded as 0 in the header */
    uint8_t lower_addr;  /* Lower Address[6:0] (2.2.9) */
};

/* Flags */
#define PCIE_SPLIT_ALIGN 0x1u      /* write/read: after the first piece, pieces start on
                                    * MPS (MRRS) aligned addresses, as many DMA engines
                                    * do; default: as large as allowed */
#define PCIE_SPLIT_CPL_EVERY_RCB 0x2u /* completions: one per RCB block (what many root
                                       * complexes do); default: as large as MPS allows */

/* Length DW and byte enables for the bytes [addr, addr+len) (2.2.5); len 1..4096.
 * len 0 gives the zero-length read form: 1 DW, first_be 0. */
void pcie_split_dw(uint64_t addr, uint32_t len, uint16_t *len_dw, uint8_t *first_be,
                   uint8_t *last_be);

/* Memory write of len bytes (any length; 0 gives 0 pieces) at addr, by MPS and
 * 4 KiB boundaries. -PCILAB_EINVAL for a bad MPS or a range past 2^64. */
long pcie_split_write(uint64_t addr, uint64_t len, unsigned mps, unsigned flags,
                      struct pcie_split_req *out, size_t cap, struct pcilab_err *err);
/* Memory read requests by MRRS and 4 KiB boundaries. len 0 gives one
 * zero-length read. */
long pcie_split_read(uint64_t addr, uint64_t len, unsigned mrrs, unsigned flags,
                     struct pcie_split_req *out, size_t cap, struct pcilab_err *err);
/* Completions with data for one read request of len bytes (0..4096, within one
 * 4 KiB page) at addr, by RCB and MPS. A zero-length read gets one completion
 * of 1 DW with Byte Count 1 (2.2.9). */
long pcie_split_completions(uint64_t addr, uint32_t len, unsigned rcb, unsigned mps,
                            unsigned flags, struct pcie_split_cpl *out, size_t cap,
                            struct pcilab_err *err);

#endif
