/* ecp3_can: the seed's Mini-PCIe CAN adapter, a Lattice ECP3 with the same
 * Lattice PCIe endpoint soft IP and a driver that follows the same
 * initialisation (BAR0 with the DMA address registers, written by the
 * driver), but with correct requester IDs: every header carries the ID the
 * function captured (PCIe 5.0 2.2.6.2). It never faults under an IOMMU.
 *
 * While CONTROL.EN is set, a CAN frame is received every `frame_period`;
 * each `batch` frames are written with one DMA write (MWr TLPs, split at MPS
 * and 4 KiB) into a ring of RING_SIZE bytes at the DMA address, 16 bytes per
 * frame, then one MSI (vector `vector`) signals the batch.
 *
 * ---- BAR0 register map (32-bit little-endian; BAR0 >= 64 bytes; offsets
 *      0x40 and above read 0, writes ignored) ----
 *  0x00 ID           RO   0xEC3C0100: design 0xEC3C, version 1.0
 *  0x04 CONTROL      RW   bit 0 EN      receive and write frames
 *                         bit 1 IRQ_EN  MSI after each batch
 *                         reset: 0x00000002
 *  0x08 STATUS       RW1C bit 0 BATCH_DONE  a batch was written
 *                         bit 5 NO_MASTER   a batch was dropped: Bus Master Enable clear
 *  0x0C FRAME_COUNT  RO   frames written to the ring so far
 *  0x10 DMA_ADDR_LO  RW   ring address bits 31:2 (bits 1:0 read 0)
 *  0x14 DMA_ADDR_HI  RW   ring address bits 63:32
 *  0x18 RING_SIZE    RW   ring bytes, a multiple of 16, 16..65536 (others
 *                         ignored); reset: `ring_size`
 *  0x1C FRAME_PERIOD RW   ns between received frames, >= 1000; reset: `frame_period`
 *  0x20 BATCH        RW   frames per DMA write and MSI, 1..256; reset: `batch`
 *  0x24 WR_PTR       RO   ring offset the next frame goes to
 *
 * Starting: as ecp5_dma, `start=address` (default) sets CONTROL.EN on a
 * write to DMA_ADDR_LO; `start=control` needs CONTROL.EN. Writing
 * DMA_ADDR_LO also resets WR_PTR to 0.
 *
 * ---- A frame in the ring (16 bytes, little-endian DWORDs; n = 1, 2, ...
 *      the frame's number since attach) ----
 *   DW 0  bits 10:0 CAN identifier 0x100 + (n & 0xff) (standard frame:
 *         bit 31 IDE = 0, bit 30 RTR = 0)
 *   DW 1  bits 3:0 DLC = 8; bits 31:16 n & 0xffff
 *   DW 2  data bytes 0..3: n bits 31:0
 *   DW 3  data bytes 4..7: n bits 63:32
 * so frame n can be checked for loss or invention from its bytes alone.
 */
#ifndef PCILAB_DEVICES_ECP3_CAN_H
#define PCILAB_DEVICES_ECP3_CAN_H

#include <stdint.h>

#include "pcie/config.h"
#include "sim/err.h"

#define ECP3_CAN_ID              0xEC3C0100u

#define ECP3_CAN_REG_ID           0x00
#define ECP3_CAN_REG_CONTROL      0x04
#define ECP3_CAN_REG_STATUS       0x08
#define ECP3_CAN_REG_FRAME_COUNT  0x0C
#define ECP3_CAN_REG_DMA_ADDR_LO  0x10
#define ECP3_CAN_REG_DMA_ADDR_HI  0x14
#define ECP3_CAN_REG_RING_SIZE    0x18
#define ECP3_CAN_REG_FRAME_PERIOD 0x1C
#define ECP3_CAN_REG_BATCH        0x20
#define ECP3_CAN_REG_WR_PTR       0x24
#define ECP3_CAN_REGS_SIZE        0x40

#define ECP3_CAN_CTL_EN           0x1u
#define ECP3_CAN_CTL_IRQ_EN       0x2u

#define ECP3_CAN_STS_BATCH_DONE   0x01u
#define ECP3_CAN_STS_NO_MASTER    0x20u

#define ECP3_CAN_FRAME_SIZE       16u
#define ECP3_CAN_BATCH_MAX        256u
#define ECP3_CAN_RING_MAX         65536u

/* The 16 bytes of frame n (the layout above). */
void ecp3_can_frame(uint64_t n, uint8_t out[ECP3_CAN_FRAME_SIZE]);

/* A configuration space for the card as the seed's scenario describes it:
 * Lattice 1204:e3ca rev 01, class 0c0900 (CANbus), subsystem 1204:e3ca, INTA;
 * BAR0 32-bit 4 KiB; PM at 0x50, MSI at 0x70 (1 vector, 64-bit), PCI Express
 * at 0x90 (endpoint, 2.5 GT/s x1, MPS supported 256). cfg is initialised here. */
int ecp3_can_cfg_init(struct pcie_cfg *cfg, struct pcilab_err *err);

#endif
