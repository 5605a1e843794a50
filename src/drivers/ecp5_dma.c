// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ecp5_dma: driver for the Lattice ECP5-45 DMA board of pcilab's seed case
 * (Lattice PCIe x1 Endpoint soft IP with DMA user logic, PCI ID 1204:5045).
 *
 * One source for two builds: inside pcilab against its <linux/...> headers,
 * and unchanged as a real kernel module (make modules). docs/drivers.md
 * describes the register block and what the driver prints.
 *
 * The board writes a payload into host memory at the DMA address every
 * interval, signals "DMA done", then reads from the DMA address plus the
 * read offset. Its UARTs raise an interrupt of their own. The driver:
 *   - enables the device, claims its regions, makes it a bus master and
 *     maps BAR0;
 *   - sets the DMA mask (module parameter dma_bits, 32 or 64; 64 falls back
 *     to 32 when the platform refuses it);
 *   - allocates one 4096-byte coherent buffer and writes its DMA handle (an
 *     IOVA behind an IOMMU, never a physical address) to the board;
 *   - asks for 2 interrupt vectors, MSI-X first when the board offers it,
 *     else MSI. x86 grants several MSI vectors only through interrupt
 *     remapping, so without it (iommu=off) MSI gives 1 vector: then one
 *     handler serves both sources and tells them apart by the status
 *     register, and the driver says so;
 *   - enables the DMA and UART interrupt sources.
 * Module parameter irq_sharing chooses what happens when only one vector is
 * granted: "status" (the default) is the fallback above; "none" is the
 * seed's own driver: MSI only, a handler per vector, so with one vector the
 * UART events (which the board must then send as vector 0's message: with
 * Multiple Message Enable at one vector it may not change the Message Data,
 * PCI Local Bus 3.0 6.8.3.4) reach the DMA-done handler, which only dumps the
 * buffer, and are lost.
 * The DMA-done handler prints the buffer's first two dwords and acknowledges;
 * the UART handler takes the byte and acknowledges.
 */
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#define ECP5_VENDOR_ID		0x1204	/* Lattice Semiconductor */
#define ECP5_DEVICE_ID		0x5045

/* BAR0 registers, 32 bits each, little-endian: the board's map as
 * src/devices/ecp5_dma.h and docs/devices.md define it (docs/drivers.md) */
#define ECP5_ID			0x00	/* design 0xEC5D in 31:16, version in 15:0 */
#define  ECP5_ID_DESIGN		0xec5d
#define ECP5_CTRL		0x04
#define  ECP5_CTRL_EN		BIT(0)	/* run the DMA cycle every INTERVAL */
#define  ECP5_CTRL_DMA_IRQ_EN	BIT(1)	/* MSI "DMA done" after each write */
#define  ECP5_CTRL_UART_IRQ_EN	BIT(2)	/* MSI on each UART event */
#define  ECP5_CTRL_READ_EN	BIT(3)	/* read back after each write (bitstream default) */
#define ECP5_STATUS		0x08	/* write 1 to clear */
#define  ECP5_STATUS_DMA_DONE	BIT(0)	/* a write was sent */
#define  ECP5_STATUS_READ_DONE	BIT(1)	/* a read completed successfully */
#define  ECP5_STATUS_READ_UR	BIT(2)	/* a read completed with Unsupported Request */
#define  ECP5_STATUS_READ_CA	BIT(3)	/* a read completed with Completer Abort */
#define  ECP5_STATUS_READ_TMO	BIT(4)	/* a read got no completion */
#define  ECP5_STATUS_NO_MASTER	BIT(5)	/* a cycle skipped: bus mastering off */
#define  ECP5_STATUS_NO_TAG	BIT(6)	/* a read skipped: no free tag */
#define  ECP5_STATUS_ALL	0x7f
#define ECP5_SEQ		0x0c	/* sequence number of the last transfer */
#define ECP5_DMA_ADDR_LO	0x10	/* DMA address bits 31:2; writing it starts the board */
#define ECP5_DMA_ADDR_HI	0x14	/* DMA address bits 63:32 */
#define ECP5_PAYLOAD		0x18	/* bytes written per cycle */
#define ECP5_INTERVAL		0x1c	/* nanoseconds between cycles */
#define ECP5_READ_OFFSET	0x20	/* read address = DMA address + this */
#define ECP5_READ_LEN		0x24	/* bytes read per cycle */
#define ECP5_UART_STATUS	0x30	/* write 1 to clear */
#define  ECP5_UART_RX_PENDING	BIT(0)	/* a UART event happened */
#define ECP5_UART_COUNT		0x34	/* UART events so far */
#define ECP5_REGS_SIZE		0x40

#define ECP5_BAR		0
#define ECP5_BUF_SIZE		4096

static int dma_bits = 32;
module_param(dma_bits, int, 0444);
MODULE_PARM_DESC(dma_bits, "DMA mask width: 32 (default) or 64");

static char *irq_sharing = "status";
module_param(irq_sharing, charp, 0444);
MODULE_PARM_DESC(irq_sharing, "with one vector for both sources: status (one handler reads the status registers, default) or none (the seed's driver: the UART interrupts are lost)");

struct ecp5_dma {
	struct pci_dev *pdev;
	void __iomem *regs;
	void *buf;
	dma_addr_t handle;
	int nvec;
	int irq_dma, irq_uart;	/* equal when the vector is shared; irq_uart < 0: no handler */
	bool share_by_status;	/* irq_sharing=status */
	unsigned long dma_irqs, uart_irqs;
};

static void ecp5_dma_done(struct ecp5_dma *e)
{
	const u32 *d = e->buf;
	u32 d0 = d[0], d1 = d[1];

	e->dma_irqs++;
	iowrite32(ECP5_STATUS_DMA_DONE, e->regs + ECP5_STATUS);
	dev_info(&e->pdev->dev, "DMA done: %08x %08x\n", d0, d1);
}

static void ecp5_uart(struct ecp5_dma *e)
{
	e->uart_irqs++;
	iowrite32(ECP5_UART_RX_PENDING, e->regs + ECP5_UART_STATUS);
}

static irqreturn_t ecp5_irq_dma(int irq, void *data)
{
	(void)irq;
	ecp5_dma_done(data);
	return IRQ_HANDLED;
}

static irqreturn_t ecp5_irq_uart(int irq, void *data)
{
	(void)irq;
	ecp5_uart(data);
	return IRQ_HANDLED;
}

/* One vector for both sources: the status register says which fired. */
static irqreturn_t ecp5_irq_shared(int irq, void *data)
{
	struct ecp5_dma *e = data;
	u32 status = ioread32(e->regs + ECP5_STATUS);
	u32 uart = ioread32(e->regs + ECP5_UART_STATUS);

	(void)irq;
	if (status == 0xffffffff)
		return IRQ_NONE;	/* the board is gone */
	if (!(status & ECP5_STATUS_DMA_DONE) && !(uart & ECP5_UART_RX_PENDING))
		return IRQ_NONE;
	if (status & ECP5_STATUS_DMA_DONE)
		ecp5_dma_done(e);
	if (uart & ECP5_UART_RX_PENDING)
		ecp5_uart(e);
	return IRQ_HANDLED;
}

static int ecp5_set_dma_mask(struct ecp5_dma *e, int bits)
{
	struct device *dev = &e->pdev->dev;
	int rc;

	if (bits != 32 && bits != 64) {
		dev_err(dev, "dma_bits=%d: must be 32 or 64\n", bits);
		return -EINVAL;
	}
	rc = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(bits));
	if (rc && bits == 64) {
		dev_warn(dev, "64-bit DMA mask refused (%d), using 32 bits\n", rc);
		bits = 32;
		rc = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
	}
	if (rc) {
		dev_err(dev, "no usable %d-bit DMA mask (%d)\n", bits, rc);
		return rc;
	}
	dev_info(dev, "DMA mask: %d bits\n", bits);
	return 0;
}

static int ecp5_setup_irqs(struct ecp5_dma *e)
{
	struct pci_dev *pdev = e->pdev;
	struct device *dev = &pdev->dev;
	const char *kind;
	int rc;

	/* the seed's driver asks MSI only; ours asks MSI-X first */
	e->nvec = pci_alloc_irq_vectors(pdev, 1, 2,
					e->share_by_status ? PCI_IRQ_MSIX | PCI_IRQ_MSI : PCI_IRQ_MSI);
	if (e->nvec < 0) {
		dev_err(dev, "no MSI or MSI-X vectors (%d)\n", e->nvec);
		return e->nvec;
	}
	kind = pdev->msix_enabled ? "MSI-X" : "MSI";
	e->irq_dma = pci_irq_vector(pdev, 0);
	if (e->nvec >= 2) {
		e->irq_uart = pci_irq_vector(pdev, 1);
		dev_info(dev, "2 %s vectors: DMA done on IRQ %d, UART on IRQ %d\n", kind,
			 e->irq_dma, e->irq_uart);
		rc = request_irq(e->irq_dma, ecp5_irq_dma, 0, "ecp5_dma", e);
		if (rc)
			goto fail;
		rc = request_irq(e->irq_uart, ecp5_irq_uart, 0, "ecp5_dma-uart", e);
		if (rc) {
			free_irq(e->irq_dma, e);
			goto fail;
		}
		return 0;
	}
	if (!e->share_by_status) {
		/* the seed's driver: vector 1 does not exist, the UART has no
		 * handler, and its interrupts arrive at the DMA-done handler */
		e->irq_uart = -1;
		dev_info(dev, "1 %s vector of the 2 asked for: DMA done on IRQ %d, no UART handler (irq_sharing=none)\n",
			 kind, e->irq_dma);
		rc = request_irq(e->irq_dma, ecp5_irq_dma, 0, "ecp5_dma", e);
		if (rc)
			goto fail;
		return 0;
	}
	e->irq_uart = e->irq_dma;
	dev_info(dev, "1 %s vector of the 2 asked for: DMA done and UART share IRQ %d, told apart by the status register\n",
		 kind, e->irq_dma);
	rc = request_irq(e->irq_dma, ecp5_irq_shared, 0, "ecp5_dma", e);
	if (rc)
		goto fail;
	return 0;
fail:
	dev_err(dev, "request_irq failed (%d)\n", rc);
	pci_free_irq_vectors(pdev);
	return rc;
}

static void ecp5_free_irqs(struct ecp5_dma *e)
{
	free_irq(e->irq_dma, e);
	if (e->irq_uart >= 0 && e->irq_uart != e->irq_dma)
		free_irq(e->irq_uart, e);
	pci_free_irq_vectors(e->pdev);
}

static int ecp5_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct ecp5_dma *e;
	u32 design, payload, read_en;
	int rc;

	(void)id;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->pdev = pdev;
	pci_set_drvdata(pdev, e);
	if (!strcmp(irq_sharing, "status")) {
		e->share_by_status = true;
	} else if (strcmp(irq_sharing, "none")) {
		dev_err(dev, "irq_sharing=%s: must be status or none\n", irq_sharing);
		kfree(e);
		return -EINVAL;
	}

	rc = pci_enable_device(pdev);
	if (rc) {
		dev_err(dev, "pci_enable_device failed (%d)\n", rc);
		goto err_free;
	}
	rc = pci_request_regions(pdev, "ecp5_dma");
	if (rc) {
		dev_err(dev, "pci_request_regions failed (%d)\n", rc);
		goto err_disable;
	}
	pci_set_master(pdev);
	if (pci_resource_len(pdev, ECP5_BAR) < ECP5_REGS_SIZE) {
		dev_err(dev, "BAR0 is missing or smaller than the 64-byte register block\n");
		rc = -ENODEV;
		goto err_release;
	}
	e->regs = pci_iomap(pdev, ECP5_BAR, 0);
	if (!e->regs) {
		dev_err(dev, "cannot map BAR0\n");
		rc = -ENOMEM;
		goto err_release;
	}
	design = ioread32(e->regs + ECP5_ID);
	if (design >> 16 != ECP5_ID_DESIGN) {
		dev_err(dev, "unknown design ID 0x%08x (expected 0x%04xnnnn)\n", design, ECP5_ID_DESIGN);
		rc = -ENODEV;
		goto err_unmap;
	}
	/* quiet until the buffer and the handlers are in place; whether the
	 * board reads back after each write is the bitstream's choice */
	read_en = ioread32(e->regs + ECP5_CTRL) & ECP5_CTRL_READ_EN;
	iowrite32(0, e->regs + ECP5_CTRL);
	iowrite32(ECP5_STATUS_ALL, e->regs + ECP5_STATUS);
	iowrite32(ECP5_UART_RX_PENDING, e->regs + ECP5_UART_STATUS);

	rc = ecp5_set_dma_mask(e, dma_bits);
	if (rc)
		goto err_unmap;
	e->buf = dma_alloc_coherent(dev, ECP5_BUF_SIZE, &e->handle, GFP_KERNEL);
	if (!e->buf) {
		dev_err(dev, "cannot allocate the %d-byte DMA buffer\n", ECP5_BUF_SIZE);
		rc = -ENOMEM;
		goto err_unmap;
	}
	dev_info(dev, "DMA buffer: %d bytes, handle 0x%016llx\n", ECP5_BUF_SIZE,
		 (unsigned long long)e->handle);

	rc = ecp5_setup_irqs(e);
	if (rc)
		goto err_dma;

	payload = ioread32(e->regs + ECP5_PAYLOAD);
	if (payload > ECP5_BUF_SIZE)
		dev_warn(dev, "payload of %u bytes overruns the %d-byte DMA buffer\n", payload,
			 ECP5_BUF_SIZE);
	/* interrupts first, then the address: the high half first, because
	 * the board starts its cycles when the low half is written */
	iowrite32(ECP5_CTRL_DMA_IRQ_EN | ECP5_CTRL_UART_IRQ_EN | read_en, e->regs + ECP5_CTRL);
	iowrite32(upper_32_bits(e->handle), e->regs + ECP5_DMA_ADDR_HI);
	iowrite32(lower_32_bits(e->handle), e->regs + ECP5_DMA_ADDR_LO);
	iowrite32(ECP5_CTRL_EN | ECP5_CTRL_DMA_IRQ_EN | ECP5_CTRL_UART_IRQ_EN | read_en,
		  e->regs + ECP5_CTRL);
	dev_info(dev, "DMA enabled: %u bytes every %u us, read-back at offset 0x%x\n", payload,
		 ioread32(e->regs + ECP5_INTERVAL) / 1000, ioread32(e->regs + ECP5_READ_OFFSET));
	return 0;

err_dma:
	dma_free_coherent(dev, ECP5_BUF_SIZE, e->buf, e->handle);
err_unmap:
	pci_iounmap(pdev, e->regs);
err_release:
	pci_clear_master(pdev);
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
err_free:
	pci_set_drvdata(pdev, NULL);
	kfree(e);
	return rc;
}

static void ecp5_remove(struct pci_dev *pdev)
{
	struct ecp5_dma *e = pci_get_drvdata(pdev);
	u32 uart_events = ioread32(e->regs + ECP5_UART_COUNT);

	/* stop the board before its buffer and vectors go away */
	iowrite32(0, e->regs + ECP5_CTRL);
	iowrite32(ECP5_STATUS_ALL, e->regs + ECP5_STATUS);
	iowrite32(ECP5_UART_RX_PENDING, e->regs + ECP5_UART_STATUS);
	iowrite32(0, e->regs + ECP5_DMA_ADDR_HI);
	iowrite32(0, e->regs + ECP5_DMA_ADDR_LO);
	iowrite32(0, e->regs + ECP5_CTRL);	/* writing the address restarted it */
	ecp5_free_irqs(e);
	dma_free_coherent(&pdev->dev, ECP5_BUF_SIZE, e->buf, e->handle);
	pci_iounmap(pdev, e->regs);
	pci_clear_master(pdev);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	dev_info(&pdev->dev, "removed after %lu DMA and %lu UART interrupts; the board counted %u UART events\n",
		 e->dma_irqs, e->uart_irqs, uart_events);
	pci_set_drvdata(pdev, NULL);
	kfree(e);
}

static const struct pci_device_id ecp5_ids[] = {
	{ PCI_DEVICE(ECP5_VENDOR_ID, ECP5_DEVICE_ID) },
	{ 0, }
};
MODULE_DEVICE_TABLE(pci, ecp5_ids);

static struct pci_driver ecp5_driver = {
	.name = KBUILD_MODNAME,
	.id_table = ecp5_ids,
	.probe = ecp5_probe,
	.remove = ecp5_remove,
};

module_pci_driver(ecp5_driver);

MODULE_DESCRIPTION("Lattice ECP5 PCIe DMA board (pcilab seed case)");
MODULE_AUTHOR("pcilab");
MODULE_LICENSE("Dual MIT/GPL");
