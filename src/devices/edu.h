/* edu: QEMU's educational PCI device (QEMU hw/misc/edu.c and
 * docs/specs/edu.rst, read for behaviour only; the facts below cite them as
 * "edu.rst" and "edu.c"). It is what src/drivers/edu.c drives, in pcilab and
 * under a real kernel in QEMU (tests/linux/edu_bugs.sh, docs/edu.md).
 *
 * Configuration space (edu.c edu_class_init, pci_edu_realize): vendor 1234
 * (QEMU), device 11e8, revision 10, class 00ff00 (PCI_CLASS_OTHERS),
 * Interrupt Pin INTA, BAR0 32-bit memory of 1 MiB, an MSI capability with
 * one vector, 64-bit address, no per-vector masking. QEMU's edu is a
 * conventional PCI device: no PCI Express capability. The scenario describes
 * this space (src/scenario/builtin/edu.yaml) and the model checks BAR0 and
 * MSI at attach; edu_cfg_init builds it for tests.
 *
 * ---- BAR0 (edu.rst "MMIO area spec") ----
 * Accesses below 0x80 must be 4 bytes, from 0x80 4 or 8 bytes; anything else
 * reads all ones and writes are ignored (edu.c edu_mmio_read/_write; pcilab
 * takes an access as its TLP gives it: 4 bytes at a 4-aligned offset or 8 at
 * an 8-aligned one, and treats other lengths the same way). Offsets that are
 * not registers read all ones.
 *  0x00 ID        RO  0x010000ed: edu 1.0 ("0xRRrr00ed")
 *  0x04 LIVENESS  RW  reads the bitwise inversion of the last value written
 *  0x08 FACT      RW  a write (ignored while computing) stores n and starts
 *                     n! (32-bit, wrapping) computed `fact_delay` later;
 *                     reads n while computing, then the result
 *  0x20 STATUS    RW  bit 0 COMPUTING (RO), bit 7 IRQFACT: raise interrupt
 *                     0x00000001 when the factorial is done
 *  0x24 IRQ_STATUS RO the raised interrupt bits
 *  0x60 IRQ_RAISE WO  IRQ_STATUS |= value, then the interrupt is signalled
 *                     (MSI when enabled, else INTA asserted) if IRQ_STATUS
 *                     is not 0 -- an MSI on every raise, as edu.c sends
 *  0x64 IRQ_ACK   WO  IRQ_STATUS &= ~value; INTA deasserted when it is 0
 *  0x80 DMA_SRC   RW  64 bits } a 4-byte write at the register's offset
 *  0x88 DMA_DST   RW  64 bits } sets the whole value (upper half 0); the
 *  0x90 DMA_CNT   RW  64 bits } 4 bytes above it are not a register. Writes
 *  0x98 DMA_CMD   RW  64 bits } are ignored while a transfer runs.
 *       DMA_CMD: bit 0 RUN (start; reads 1 until the transfer is done), bit 1
 *       direction (0: RAM -> device, 1: device -> RAM), bit 2 raise interrupt
 *       0x100 when done. A write without bit 0 is ignored.
 *
 * ---- DMA (edu.c edu_dma_timer) ----
 * `dma_delay` (QEMU: 100 ms of its virtual clock) after the command, the
 * device moves DMA_CNT bytes between host address (DMA_SRC or DMA_DST) and
 * its 4 KiB buffer at device address 0x40000..0x40fff. The host address is
 * clamped to the device's DMA address mask (`dma_bits`, QEMU's dma_mask
 * property, 28 bits by default): address & mask, the start only -- a
 * transfer that crosses the mask's limit carries on above it, as QEMU's
 * does (docs/linux/real-dma-bugs.md, QEMU gap 4). Clamping is counted.
 * RAM -> device is memory reads (MRd, split at Max_Read_Request_Size and
 * 4 KiB boundaries, 32 tags); device -> RAM memory writes (MWr, split at
 * Max_Payload_Size and 4 KiB). Without a PCI Express capability the sizes
 * are the specification's reset values (MPS 128, MRRS 512, PCIe 5.0
 * 7.5.3.4). A read completed with UR or CA leaves those bytes of the buffer
 * as they were; a write the IOMMU refuses is lost (posted). The command is
 * done when every read has completed (or timed out after `read_timeout`).
 * Without Bus Master Enable no request is sent (PCIe 5.0 7.5.1.1.3) and the
 * transfer counts as skipped.
 *
 * A transfer whose buffer side leaves 0x40000..0x40fff is a guest error.
 * QEMU 7.2 stops the whole emulator there ("hardware error: EDU: DMA range
 * ... out of bounds"), with an off-by-one that also refuses a transfer ending
 * exactly at 0x41000; newer QEMU logs it and goes on. pcilab's device accepts
 * the whole buffer, and on an out-of-range transfer halts: nothing is moved,
 * RUN stays set, later commands are ignored, and dev_model_error names the
 * range (the user sees it under the run; the driver sees a device that never
 * finishes).
 *
 * The requester ID of every request and MSI is `requester_id` (captured by
 * default).
 */
#ifndef PCILAB_DEVICES_EDU_H
#define PCILAB_DEVICES_EDU_H

#include <stdint.h>

#include "pcie/config.h"
#include "sim/err.h"

#define EDU_VENDOR_ID   0x1234u
#define EDU_DEVICE_ID   0x11e8u
#define EDU_REVISION    0x10u
#define EDU_CLASS       0x00ff00u
#define EDU_BAR0_SIZE   (1u << 20)
#define EDU_ID_VALUE    0x010000edu

#define EDU_REG_ID         0x00
#define EDU_REG_LIVENESS   0x04
#define EDU_REG_FACT       0x08
#define EDU_REG_STATUS     0x20
#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE  0x60
#define EDU_REG_IRQ_ACK    0x64
#define EDU_REG_DMA_SRC    0x80
#define EDU_REG_DMA_DST    0x88
#define EDU_REG_DMA_CNT    0x90
#define EDU_REG_DMA_CMD    0x98

#define EDU_STATUS_COMPUTING 0x01u
#define EDU_STATUS_IRQFACT   0x80u

#define EDU_IRQ_FACT 0x00000001u
#define EDU_IRQ_DMA  0x00000100u

#define EDU_DMA_RUN    0x1u
#define EDU_DMA_TO_RAM 0x2u
#define EDU_DMA_IRQ    0x4u

#define EDU_DMA_START 0x40000u
#define EDU_DMA_SIZE  4096u

/* The configuration space QEMU gives the device (above): cfg is
 * initialised here. MSI at 0x40 as QEMU places it. */
int edu_cfg_init(struct pcie_cfg *cfg, struct pcilab_err *err);

#endif
