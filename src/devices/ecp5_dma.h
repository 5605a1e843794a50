/* ecp5_dma: the seed's board. A Lattice ECP5-45 with the Lattice PCI Express
 * x1 Endpoint soft IP and DMA user logic (../shared/seed/, docs/devices.md).
 *
 * Every `period` of simulated time while enabled, the board
 *   1. writes `payload` bytes of a numbered pattern to the DMA address
 *      (MWr TLPs, split at Max_Payload_Size and 4 KiB boundaries),
 *   2. signals MSI vector `dma_vector` (DMA done),
 *   3. reads READ_LEN bytes at DMA address + READ_OFFSET (MRd; the
 *      completion, or its UR/CA status, or a timeout is recorded).
 * The UARTs raise MSI vector `uart_vector` every `uart_period` on their own
 * schedule, while MSI is enabled.
 *
 * With a soft IP the user logic builds each TLP header, requester ID included:
 * `write_rid`, `read_rid` and `msi_rid` choose it per header builder
 * (captured / zero / bb:dd.f), `requester_id` sets all three. The defaults
 * are the seed's board: writes with 0000, reads and MSIs with the captured
 * ID (docs/devices.md gives the reasoning).
 *
 * Link speed and width are the scenario's (the function's PCI Express
 * capability and link); a 5 GT/s link needs an ECP5-5G part (LFE5UM5G).
 *
 * ---- BAR0 register map (32-bit little-endian registers; BAR0 >= 64 bytes;
 *      offsets 0x40 and above read 0, writes ignored) ----
 *
 *  0x00 ID          RO   0xEC5D0100: design 0xEC5D, version 1.0
 *  0x04 CONTROL     RW   bit 0 EN          run the DMA cycle every INTERVAL
 *                        bit 1 DMA_IRQ_EN  MSI dma_vector after each write
 *                        bit 2 UART_IRQ_EN MSI uart_vector on each UART event
 *                        bit 3 READ_EN     the MemRd after the MSI
 *                        reset: 0x0000000E (bits 1-3; bit 3 from `read`)
 *  0x08 STATUS      RW1C bit 0 DMA_DONE      a write was sent
 *                        bit 1 READ_DONE     a read completed with SC
 *                        bit 2 READ_UR       a read's completion had status UR
 *                        bit 3 READ_CA       a read's completion had status CA
 *                        bit 4 READ_TIMEOUT  a read got no completion in read_timeout
 *                        bit 5 NO_MASTER     a cycle was skipped: Bus Master Enable clear
 *                        bit 6 NO_TAG        a read was skipped: every tag outstanding
 *  0x0C SEQ         RO   sequence number of the last transfer (first is 1)
 *  0x10 DMA_ADDR_LO RW   DMA address bits 31:2 (bits 1:0 read 0)
 *  0x14 DMA_ADDR_HI RW   DMA address bits 63:32
 *  0x18 PAYLOAD     RW   bytes per write, 1..65536 (other values are ignored);
 *                        reset: `payload`
 *  0x1C INTERVAL    RW   DMA period in ns, 1000..4294967295 (smaller values
 *                        read back as 1000); reset: `period`
 *  0x20 READ_OFFSET RW   read address = DMA address + READ_OFFSET (bits 1:0
 *                        read 0); reset: `read_offset`
 *  0x24 READ_LEN    RW   bytes per read, 1..4096 (other values are ignored);
 *                        reset: `read_len`
 *  0x28 READ_DATA0  RO   bytes 0..3 of the last successful read
 *  0x2C READ_DATA1  RO   bytes 4..7 of the last successful read
 *  0x30 UART_STATUS RW1C bit 0 RX_PENDING: set at each UART event
 *  0x34 UART_COUNT  RO   UART events so far
 *
 * Starting: with `start=address` (the default, what the seed's driver needs:
 * it only writes the DMA address) a write to DMA_ADDR_LO sets CONTROL.EN;
 * with `start=control` only CONTROL.EN does. The first cycle runs one
 * INTERVAL after EN is set; clearing EN stops the cycles.
 *
 * ---- The payload pattern (little-endian DWORDs; seq = SEQ & 0xffff) ----
 *   DW 0      0xEC5D0000 | seq
 *   DW i > 0  seq << 16 | (i & 0xffff)
 * so transfer 1 starts "ec5d0001 00010001", and a buffer of zeros means
 * nothing arrived. A payload that is not a multiple of 4 ends with the first
 * bytes of the next DWORD.
 */
#ifndef PCILAB_DEVICES_ECP5_DMA_H
#define PCILAB_DEVICES_ECP5_DMA_H

#include <stdint.h>

#include "pcie/config.h"
#include "sim/err.h"

#define ECP5_DMA_ID             0xEC5D0100u

#define ECP5_DMA_REG_ID          0x00
#define ECP5_DMA_REG_CONTROL     0x04
#define ECP5_DMA_REG_STATUS      0x08
#define ECP5_DMA_REG_SEQ         0x0C
#define ECP5_DMA_REG_DMA_ADDR_LO 0x10
#define ECP5_DMA_REG_DMA_ADDR_HI 0x14
#define ECP5_DMA_REG_PAYLOAD     0x18
#define ECP5_DMA_REG_INTERVAL    0x1C
#define ECP5_DMA_REG_READ_OFFSET 0x20
#define ECP5_DMA_REG_READ_LEN    0x24
#define ECP5_DMA_REG_READ_DATA0  0x28
#define ECP5_DMA_REG_READ_DATA1  0x2C
#define ECP5_DMA_REG_UART_STATUS 0x30
#define ECP5_DMA_REG_UART_COUNT  0x34
#define ECP5_DMA_REGS_SIZE       0x40

#define ECP5_DMA_CTL_EN          0x1u
#define ECP5_DMA_CTL_DMA_IRQ_EN  0x2u
#define ECP5_DMA_CTL_UART_IRQ_EN 0x4u
#define ECP5_DMA_CTL_READ_EN     0x8u

#define ECP5_DMA_STS_DMA_DONE     0x01u
#define ECP5_DMA_STS_READ_DONE    0x02u
#define ECP5_DMA_STS_READ_UR      0x04u
#define ECP5_DMA_STS_READ_CA      0x08u
#define ECP5_DMA_STS_READ_TIMEOUT 0x10u
#define ECP5_DMA_STS_NO_MASTER    0x20u
#define ECP5_DMA_STS_NO_TAG       0x40u

#define ECP5_DMA_UART_RX_PENDING  0x1u

#define ECP5_DMA_PAYLOAD_MAX      65536u

/* DWORD i of transfer seq's payload (the pattern above). */
static inline uint32_t ecp5_dma_pattern(uint32_t seq, uint32_t i)
{
    seq &= 0xffffu;
    return i == 0 ? 0xEC5D0000u | seq : seq << 16 | (i & 0xffffu);
}

/* A configuration space for the board as the seed's scenario describes it
 * (for tests and machines built without a scenario file): Lattice 1204:5045
 * rev 01, class 118000, subsystem 1204:5045, INTA; BAR0 32-bit 4 KiB; PM at
 * 0x50, MSI at 0x70 (2 vectors, 64-bit), PCI Express at 0x90 (endpoint,
 * 5 GT/s x1, MPS supported 512). cfg is initialised here. */
int ecp5_dma_cfg_init(struct pcie_cfg *cfg, struct pcilab_err *err);

#endif
