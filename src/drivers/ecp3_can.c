// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ecp3_can: driver for the ECP3 Mini-PCIe CAN adapter of pcilab's seed case
 * (Lattice ECP3 with PCIe endpoint IP, PCI ID 1204:e3ca).
 *
 * One source for two builds: inside pcilab against its <linux/...> headers,
 * and unchanged as a real kernel module (make modules). docs/drivers.md
 * describes the register block, the frame ring and what the driver prints.
 *
 * The initialisation is the ECP5 board's (the seed: "basically the same
 * initialisation sequence"): enable, regions, bus master, BAR0, DMA mask
 * (module parameter dma_bits), a coherent buffer whose DMA handle goes to the
 * card, one MSI vector. The buffer is a ring of frames of 16 bytes
 * (ring_size bytes, 4096 = 256 frames unless the module parameter says
 * otherwise), its size given to the card (RING_SIZE). The card writes the frames
 * it receives in batches at its write pointer, which wraps at the ring's
 * end, counts them (FRAME_COUNT) and signals the MSI after each batch. It
 * has no read pointer: it never waits for the driver, and a driver that
 * falls more than a ring behind finds frames overwritten. The handler
 * prints every frame from the last one it printed up to FRAME_COUNT, and
 * reports overwritten ones as lost.
 *
 * Two more coherent buffers, allocated after the ring when their module
 * parameters ask for them (0, the default, allocates none): a transmit ring
 * (tx_ring_size bytes) and a status block (status_size bytes). Drivers of
 * such CAN cards usually keep both; this card's bitstream, as pcilab models
 * it (src/devices/ecp3_can.h), has no transmit engine and writes no status
 * block, so the driver only allocates them, prints their handles and frees
 * them. They matter for where later allocations land: in pcilab's seed the
 * card shares its IOMMU group, and so its DMA domain and IOVA space, with the
 * ECP5 board (docs/seed-layout.md).
 */
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#define ECP3_CAN_VENDOR_ID	0x1204	/* Lattice Semiconductor */
#define ECP3_CAN_DEVICE_ID	0xe3ca

/* BAR0 registers, 32 bits each, little-endian: the card's map as
 * src/devices/ecp3_can.h and docs/devices.md define it (docs/drivers.md) */
#define CAN_ID			0x00	/* design 0xEC3C in 31:16, version in 15:0 */
#define  CAN_ID_DESIGN		0xec3c
#define CAN_CTRL		0x04
#define  CAN_CTRL_EN		BIT(0)	/* receive frames and write them to the ring */
#define  CAN_CTRL_IRQ_EN	BIT(1)	/* MSI after each batch */
#define CAN_STATUS		0x08	/* write 1 to clear */
#define  CAN_STATUS_BATCH_DONE	BIT(0)	/* a batch was written */
#define  CAN_STATUS_NO_MASTER	BIT(5)	/* a batch was dropped: bus mastering off */
#define CAN_FRAME_COUNT		0x0c	/* frames written to the ring so far */
#define CAN_RING_ADDR_LO	0x10	/* ring address bits 31:2; writing it starts the card */
#define CAN_RING_ADDR_HI	0x14	/* ring address bits 63:32 */
#define CAN_RING_SIZE_REG	0x18	/* ring bytes, a multiple of 16 */
#define CAN_FRAME_PERIOD	0x1c	/* ns between received frames */
#define CAN_BATCH		0x20	/* frames per DMA write and MSI */
#define CAN_WR_PTR		0x24	/* ring offset of the next frame */
#define CAN_REGS_SIZE		0x40

/* Ring entries: 16 bytes, little-endian dwords */
#define CAN_FRAME_SIZE		16
#define CAN_RING_MAX		65536	/* the card's RING_SIZE limit */
#define CAN_ID_EFF		BIT(31)	/* dword 0: 29-bit identifier */
#define CAN_ID_RTR		BIT(30)	/* dword 0: remote request */
#define CAN_ID_MASK		0x1fffffff
#define CAN_DLC_MASK		0xf	/* dword 1: data length code */

#define CAN_BAR			0

static int dma_bits = 32;
module_param(dma_bits, int, 0444);
MODULE_PARM_DESC(dma_bits, "DMA mask width: 32 (default) or 64");

static int ring_size = 4096;
module_param(ring_size, int, 0444);
MODULE_PARM_DESC(ring_size, "receive frame ring in bytes: 16..65536, a multiple of 16 (default 4096)");

static int tx_ring_size;
module_param(tx_ring_size, int, 0444);
MODULE_PARM_DESC(tx_ring_size, "transmit ring in bytes, 0 (default) for none");

static int status_size;
module_param(status_size, int, 0444);
MODULE_PARM_DESC(status_size, "status block in bytes, 0 (default) for none");

struct ecp3_can {
	struct pci_dev *pdev;
	void __iomem *regs;
	u32 *ring;
	dma_addr_t handle;
	u32 ring_frames;
	size_t ring_bytes, tx_bytes, status_bytes;	/* the sizes allocated */
	void *tx;		/* transmit ring (tx_ring_size bytes), or NULL */
	dma_addr_t tx_handle;
	void *status;		/* status block (status_size bytes), or NULL */
	dma_addr_t status_handle;
	int irq;
	u32 tail;		/* FRAME_COUNT of the next frame to print */
	u32 slot;		/* its ring slot */
	unsigned long frames;
	unsigned long lost;
};

static void ecp3_can_print(struct ecp3_can *c, const u32 *f)
{
	u32 id = f[0], dlc = f[1] & CAN_DLC_MASK;
	const u8 *data = (const u8 *)&f[2];
	char text[3 * 8 + 1];
	unsigned int i, n = dlc > 8 ? 8 : dlc;
	int len = 0;

	text[0] = '\0';
	for (i = 0; i < n && !(id & CAN_ID_RTR); i++)
		len += snprintf(text + len, sizeof(text) - len, " %02x", data[i]);
	if (id & CAN_ID_EFF)
		dev_info(&c->pdev->dev, "rx %08x [%u]%s%s\n", id & CAN_ID_MASK, dlc, text,
			 (id & CAN_ID_RTR) ? " remote request" : "");
	else
		dev_info(&c->pdev->dev, "rx %03x [%u]%s%s\n", id & 0x7ff, dlc, text,
			 (id & CAN_ID_RTR) ? " remote request" : "");
}

static irqreturn_t ecp3_can_irq(int irq, void *data)
{
	struct ecp3_can *c = data;
	u32 status, count, lost;

	(void)irq;
	status = ioread32(c->regs + CAN_STATUS);
	if (status == 0xffffffff || !(status & (CAN_STATUS_BATCH_DONE | CAN_STATUS_NO_MASTER)))
		return IRQ_NONE;
	iowrite32(status & (CAN_STATUS_BATCH_DONE | CAN_STATUS_NO_MASTER), c->regs + CAN_STATUS);
	if (status & CAN_STATUS_NO_MASTER)
		dev_warn(&c->pdev->dev, "the card dropped a batch: bus mastering is off\n");
	count = ioread32(c->regs + CAN_FRAME_COUNT);
	if (count - c->tail > c->ring_frames) {
		/* the card wrapped over frames not yet printed */
		lost = count - c->tail - c->ring_frames;
		c->lost += lost;
		dev_warn(&c->pdev->dev, "RX ring overrun: %u frames overwritten before they were read\n",
			 lost);
		c->slot = (c->slot + lost) % c->ring_frames;
		c->tail = count - c->ring_frames;
	}
	while (c->tail != count) {
		ecp3_can_print(c, c->ring + c->slot * (CAN_FRAME_SIZE / 4));
		c->slot = (c->slot + 1) % c->ring_frames;
		c->tail++;
		c->frames++;
	}
	return IRQ_HANDLED;
}

/* the coherent buffers, in the reverse order of their allocation */
static void ecp3_can_free_buffers(struct ecp3_can *c)
{
	struct device *dev = &c->pdev->dev;

	if (c->status)
		dma_free_coherent(dev, c->status_bytes, c->status, c->status_handle);
	if (c->tx)
		dma_free_coherent(dev, c->tx_bytes, c->tx, c->tx_handle);
	dma_free_coherent(dev, c->ring_bytes, c->ring, c->handle);
	c->status = NULL;
	c->tx = NULL;
	c->ring = NULL;
}

static int ecp3_can_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct ecp3_can *c;
	int rc, nvec;

	(void)id;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->pdev = pdev;
	pci_set_drvdata(pdev, c);

	rc = pci_enable_device(pdev);
	if (rc) {
		dev_err(dev, "pci_enable_device failed (%d)\n", rc);
		goto err_free;
	}
	rc = pci_request_regions(pdev, "ecp3_can");
	if (rc) {
		dev_err(dev, "pci_request_regions failed (%d)\n", rc);
		goto err_disable;
	}
	pci_set_master(pdev);
	if (pci_resource_len(pdev, CAN_BAR) < CAN_REGS_SIZE) {
		dev_err(dev, "BAR0 is missing or smaller than the register block\n");
		rc = -ENODEV;
		goto err_release;
	}
	c->regs = pci_iomap(pdev, CAN_BAR, 0);
	if (!c->regs) {
		dev_err(dev, "cannot map BAR0\n");
		rc = -ENOMEM;
		goto err_release;
	}
	if (ioread32(c->regs + CAN_ID) >> 16 != CAN_ID_DESIGN) {
		dev_err(dev, "unknown design ID 0x%08x\n", ioread32(c->regs + CAN_ID));
		rc = -ENODEV;
		goto err_unmap;
	}
	iowrite32(0, c->regs + CAN_CTRL);
	iowrite32(CAN_STATUS_BATCH_DONE | CAN_STATUS_NO_MASTER, c->regs + CAN_STATUS);

	if (dma_bits != 32 && dma_bits != 64) {
		dev_err(dev, "dma_bits=%d: must be 32 or 64\n", dma_bits);
		rc = -EINVAL;
		goto err_unmap;
	}
	rc = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(dma_bits));
	if (rc && dma_bits == 64)
		rc = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
	if (rc) {
		dev_err(dev, "no usable DMA mask (%d)\n", rc);
		goto err_unmap;
	}
	if (ring_size < CAN_FRAME_SIZE || ring_size > CAN_RING_MAX || ring_size % CAN_FRAME_SIZE ||
	    tx_ring_size < 0 || status_size < 0) {
		dev_err(dev, "ring_size=%d tx_ring_size=%d status_size=%d: bad buffer size\n",
			ring_size, tx_ring_size, status_size);
		rc = -EINVAL;
		goto err_unmap;
	}
	c->ring_frames = ring_size / CAN_FRAME_SIZE;
	c->ring_bytes = ring_size;
	c->tx_bytes = tx_ring_size;
	c->status_bytes = status_size;
	c->ring = dma_alloc_coherent(dev, ring_size, &c->handle, GFP_KERNEL);
	if (!c->ring) {
		dev_err(dev, "cannot allocate the %d-byte frame ring\n", ring_size);
		rc = -ENOMEM;
		goto err_unmap;
	}
	dev_info(dev, "frame ring: %u frames, handle 0x%016llx\n", c->ring_frames,
		 (unsigned long long)c->handle);
	if (c->tx_bytes) {
		c->tx = dma_alloc_coherent(dev, tx_ring_size, &c->tx_handle, GFP_KERNEL);
		if (!c->tx) {
			dev_err(dev, "cannot allocate the %d-byte transmit ring\n", tx_ring_size);
			rc = -ENOMEM;
			goto err_dma;
		}
		dev_info(dev, "transmit ring: %d bytes, handle 0x%016llx\n", tx_ring_size,
			 (unsigned long long)c->tx_handle);
	}
	if (c->status_bytes) {
		c->status = dma_alloc_coherent(dev, status_size, &c->status_handle, GFP_KERNEL);
		if (!c->status) {
			dev_err(dev, "cannot allocate the %d-byte status block\n", status_size);
			rc = -ENOMEM;
			goto err_dma;
		}
		dev_info(dev, "status block: %d bytes, handle 0x%016llx\n", status_size,
			 (unsigned long long)c->status_handle);
	}

	nvec = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (nvec < 0) {
		dev_err(dev, "no MSI vector (%d)\n", nvec);
		rc = nvec;
		goto err_dma;
	}
	c->irq = pci_irq_vector(pdev, 0);
	rc = request_irq(c->irq, ecp3_can_irq, 0, "ecp3_can", c);
	if (rc) {
		dev_err(dev, "request_irq failed (%d)\n", rc);
		goto err_vectors;
	}
	dev_info(dev, "1 MSI vector: IRQ %d\n", c->irq);

	/* the card is stopped: FRAME_COUNT holds still until the address
	 * write below starts it at the ring's first slot */
	c->tail = ioread32(c->regs + CAN_FRAME_COUNT);
	c->slot = 0;
	iowrite32(c->ring_bytes, c->regs + CAN_RING_SIZE_REG);
	iowrite32(CAN_CTRL_IRQ_EN, c->regs + CAN_CTRL);
	iowrite32(upper_32_bits(c->handle), c->regs + CAN_RING_ADDR_HI);
	iowrite32(lower_32_bits(c->handle), c->regs + CAN_RING_ADDR_LO);
	iowrite32(CAN_CTRL_EN | CAN_CTRL_IRQ_EN, c->regs + CAN_CTRL);
	dev_info(dev, "receiving: %u frames per interrupt\n", ioread32(c->regs + CAN_BATCH));
	return 0;

err_vectors:
	pci_free_irq_vectors(pdev);
err_dma:
	ecp3_can_free_buffers(c);
err_unmap:
	pci_iounmap(pdev, c->regs);
err_release:
	pci_clear_master(pdev);
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
err_free:
	pci_set_drvdata(pdev, NULL);
	kfree(c);
	return rc;
}

static void ecp3_can_remove(struct pci_dev *pdev)
{
	struct ecp3_can *c = pci_get_drvdata(pdev);

	iowrite32(0, c->regs + CAN_CTRL);
	iowrite32(CAN_STATUS_BATCH_DONE | CAN_STATUS_NO_MASTER, c->regs + CAN_STATUS);
	iowrite32(0, c->regs + CAN_RING_ADDR_HI);
	iowrite32(0, c->regs + CAN_RING_ADDR_LO);
	iowrite32(0, c->regs + CAN_CTRL);	/* writing the address restarted it */
	free_irq(c->irq, c);
	pci_free_irq_vectors(pdev);
	ecp3_can_free_buffers(c);
	pci_iounmap(pdev, c->regs);
	pci_clear_master(pdev);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	dev_info(&pdev->dev, "removed after %lu frames, %lu overwritten unread\n", c->frames,
		 c->lost);
	pci_set_drvdata(pdev, NULL);
	kfree(c);
}

static const struct pci_device_id ecp3_can_ids[] = {
	{ PCI_DEVICE(ECP3_CAN_VENDOR_ID, ECP3_CAN_DEVICE_ID) },
	{ 0, }
};
MODULE_DEVICE_TABLE(pci, ecp3_can_ids);

static struct pci_driver ecp3_can_driver = {
	.name = KBUILD_MODNAME,
	.id_table = ecp3_can_ids,
	.probe = ecp3_can_probe,
	.remove = ecp3_can_remove,
};

module_pci_driver(ecp3_can_driver);

MODULE_DESCRIPTION("ECP3 Mini-PCIe CAN adapter (pcilab seed case)");
MODULE_AUTHOR("pcilab");
MODULE_LICENSE("Dual MIT/GPL");
