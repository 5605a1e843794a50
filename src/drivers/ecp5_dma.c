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

#define ECP5_VENDOR_ID		0x1204	/* Lattice Semiconductor */
#define ECP5_DEVICE_ID		0x5045

/* BAR0 registers (docs/drivers.md), 32 bits each, little-endian */
#define ECP5_DMA_ADDR_LO	0x00	/* DMA address bits 31:0 */
#define ECP5_DMA_ADDR_HI	0x04	/* DMA address bits 63:32 */
#define ECP5_CTRL		0x08
#define  ECP5_CTRL_DMA_EN	BIT(0)	/* start the periodic DMA */
#define  ECP5_CTRL_UART_IRQ_EN	BIT(1)	/* let the UARTs interrupt */
#define ECP5_STATUS		0x0c	/* write 1 to clear */
#define  ECP5_STATUS_DMA_DONE	BIT(0)
#define  ECP5_STATUS_UART	BIT(1)
#define ECP5_PAYLOAD		0x10	/* bytes written per cycle */
#define ECP5_INTERVAL		0x14	/* microseconds between cycles */
#define ECP5_READ_OFFSET	0x18	/* read-back offset from the DMA address */
#define ECP5_UART		0x1c	/* read: byte in 7:0, bit 8 valid; write: ack */
#define  ECP5_UART_VALID	BIT(8)

#define ECP5_BAR		0
#define ECP5_BUF_SIZE		4096

static int dma_bits = 32;
module_param(dma_bits, int, 0444);
MODULE_PARM_DESC(dma_bits, "DMA mask width: 32 (default) or 64");

struct ecp5_dma {
	struct pci_dev *pdev;
	void __iomem *regs;
	void *buf;
	dma_addr_t handle;
	int nvec;
	int irq_dma, irq_uart;	/* equal when the vector is shared */
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
	u32 v = ioread32(e->regs + ECP5_UART);

	e->uart_irqs++;
	iowrite32(0, e->regs + ECP5_UART);
	if (v & ECP5_UART_VALID)
		dev_dbg(&e->pdev->dev, "UART: %02x\n", v & 0xff);
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

	(void)irq;
	if (status == 0xffffffff || !(status & (ECP5_STATUS_DMA_DONE | ECP5_STATUS_UART)))
		return IRQ_NONE;
	if (status & ECP5_STATUS_DMA_DONE)
		ecp5_dma_done(e);
	if (status & ECP5_STATUS_UART)
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

	e->nvec = pci_alloc_irq_vectors(pdev, 1, 2, PCI_IRQ_MSIX | PCI_IRQ_MSI);
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
	if (e->irq_uart != e->irq_dma)
		free_irq(e->irq_uart, e);
	pci_free_irq_vectors(e->pdev);
}

static int ecp5_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct ecp5_dma *e;
	u32 payload;
	int rc;

	(void)id;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->pdev = pdev;
	pci_set_drvdata(pdev, e);

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
	if (pci_resource_len(pdev, ECP5_BAR) < 0x20) {
		dev_err(dev, "BAR0 is missing or smaller than the 32-byte register block\n");
		rc = -ENODEV;
		goto err_release;
	}
	e->regs = pci_iomap(pdev, ECP5_BAR, 0);
	if (!e->regs) {
		dev_err(dev, "cannot map BAR0\n");
		rc = -ENOMEM;
		goto err_release;
	}
	/* quiet until the buffer and the handlers are in place */
	iowrite32(0, e->regs + ECP5_CTRL);
	iowrite32(ECP5_STATUS_DMA_DONE | ECP5_STATUS_UART, e->regs + ECP5_STATUS);

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

	iowrite32(lower_32_bits(e->handle), e->regs + ECP5_DMA_ADDR_LO);
	iowrite32(upper_32_bits(e->handle), e->regs + ECP5_DMA_ADDR_HI);
	payload = ioread32(e->regs + ECP5_PAYLOAD);
	if (payload > ECP5_BUF_SIZE)
		dev_warn(dev, "payload of %u bytes overruns the %d-byte DMA buffer\n", payload,
			 ECP5_BUF_SIZE);
	iowrite32(ECP5_CTRL_DMA_EN | ECP5_CTRL_UART_IRQ_EN, e->regs + ECP5_CTRL);
	dev_info(dev, "DMA enabled: %u bytes every %u us, read-back at offset 0x%x\n", payload,
		 ioread32(e->regs + ECP5_INTERVAL), ioread32(e->regs + ECP5_READ_OFFSET));
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

	/* stop the board before its buffer and vectors go away */
	iowrite32(0, e->regs + ECP5_CTRL);
	iowrite32(ECP5_STATUS_DMA_DONE | ECP5_STATUS_UART, e->regs + ECP5_STATUS);
	iowrite32(0, e->regs + ECP5_DMA_ADDR_LO);
	iowrite32(0, e->regs + ECP5_DMA_ADDR_HI);
	ecp5_free_irqs(e);
	dma_free_coherent(&pdev->dev, ECP5_BUF_SIZE, e->buf, e->handle);
	pci_iounmap(pdev, e->regs);
	pci_clear_master(pdev);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	dev_info(&pdev->dev, "removed after %lu DMA and %lu UART interrupts\n", e->dma_irqs,
		 e->uart_irqs);
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
