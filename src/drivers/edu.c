// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * edu: driver for QEMU's educational PCI device (PCI ID 1234:11e8), written
 * to commit one deliberate DMA mistake per load, so that the kernel log of a
 * real Linux under QEMU with a virtual IOMMU (tests/linux/edu_bugs.sh) and
 * pcilab's simulation of the same machine can be put side by side
 * (docs/linux/real-dma-bugs.md).
 *
 * One source for two builds: inside pcilab against its <linux/...> headers,
 * and unchanged as a real kernel module (make modules). The device's facts
 * come from QEMU's docs/specs/edu.rst and hw/misc/edu.c (read for the
 * register map and behaviour only):
 *   - BAR0, 1 MiB of MMIO; registers below 0x80 take 4-byte accesses only,
 *     the DMA registers 4 or 8 bytes. A 4-byte write to a DMA register sets
 *     the whole 64-bit value (high half zero), so 32-bit writes suffice for
 *     the device's 28-bit addresses;
 *   - 0x00 identification 0xRRrr00ed, 0x04 liveness (reads back inverted),
 *     0x24 interrupt status, 0x60 raise, 0x64 acknowledge;
 *   - DMA: 0x80 source, 0x88 destination, 0x90 count, 0x98 command (bit 0
 *     start, reads 1 while running; bit 1 direction, 0 = RAM to the device,
 *     1 = device to RAM; bit 2 raise interrupt 0x100 when done). The
 *     device's side of a transfer is its 4096-byte buffer at 0x40000. The
 *     transfer runs 100 ms (QEMU's virtual clock) after the command;
 *   - the device keeps only the low 28 bits of the host address (its
 *     dma_mask property, 0x0fffffff by default: "students shall set dma_mask
 *     for the device in the OS driver properly"), so the driver sets a 28-bit
 *     DMA mask;
 *   - one MSI vector; the interrupt status must be acknowledged.
 *
 * Module parameter mistake= chooses what the driver gets wrong:
 *   ok                    every transfer through a proper mapping;
 *   unmapped-iova         the device writes at an address the driver never
 *                         mapped (two pages below the store buffer's handle);
 *   phys-addr             the device is given the buffer's physical address
 *                         instead of its DMA handle;
 *   write-to-device-map   the device writes a DMA_TO_DEVICE mapping;
 *   read-from-device-map  the device reads a DMA_FROM_DEVICE mapping;
 *   use-after-unmap       the device writes the store buffer again after the
 *                         driver unmapped it;
 *   straddle-end          the device writes 2048 bytes at offset 3072 of the
 *                         4096-byte store buffer: 1024 bytes past its end.
 *
 * Probe runs one round and reports: a "load" transfer of EDU_XFER bytes (RAM
 * to the device's buffer) from the source buffer, filled with a pattern, then
 * a "store" transfer of EDU_XFER bytes (the device's buffer to RAM) into the
 * store buffer, then it checks what arrived. The store buffer is the third page of a zeroed four-page
 * allocation: the pages around it are guards, so that without an IOMMU,
 * where the mistakes corrupt memory silently, the driver can say where the
 * device wrote (unmapped-iova lands in guard page 0, straddle-end in guard
 * page 3). The store buffer is mapped first, then the source buffer: behind
 * an IOMMU with Linux's top-down IOVA allocator, the store buffer gets the
 * highest page under the 28-bit limit and the source buffer the one below.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#define EDU_VENDOR_ID		0x1234	/* QEMU */
#define EDU_DEVICE_ID		0x11e8

/* BAR0 registers (QEMU docs/specs/edu.rst, "MMIO area spec") */
#define EDU_ID			0x00	/* 0xRRrr00ed: major, minor version */
#define  EDU_ID_MAGIC		0xed	/* bits 7:0 */
#define EDU_LIVENESS		0x04	/* reads back the inverse of what was written */
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_CNT		0x90
#define EDU_DMA_CMD		0x98
#define  EDU_DMA_CMD_RUN	BIT(0)	/* start; reads 1 while the transfer runs */
#define  EDU_DMA_CMD_TO_RAM	BIT(1)	/* 0: RAM to the device, 1: device to RAM */
#define  EDU_DMA_CMD_IRQ	BIT(2)	/* raise EDU_IRQ_DMA when done */
#define EDU_IRQ_DMA		0x100	/* interrupt status bit of a finished DMA */
#define EDU_REGS_SIZE		0x100

#define EDU_BUF_ADDR		0x40000	/* the device's buffer, in its DMA space */
#define EDU_BUF_SIZE		4096	/* the driver's buffers */
/* Bytes per transfer. Not the device's whole 4096-byte buffer: QEMU 7.2's
 * edu rejects a transfer that ends exactly at its buffer's end (its range
 * check wants the end address inside the buffer) and stops the emulator
 * with "hardware error: EDU: DMA range ... out of bounds"
 * (docs/linux/real-dma-bugs.md). */
#define EDU_XFER		2048
#define EDU_DMA_BITS		28	/* QEMU's default dma_mask, 0x0fffffff */

#define EDU_PAGE		4096	/* x86's page: the IOMMU's granule */
#define EDU_STORE_PAGES		4	/* guard, guard, store buffer, guard */
#define EDU_STORE_PAGE		2

#define EDU_POLL_MS		10
#define EDU_POLL_MAX		100	/* 1 s; the device takes 100 ms */

enum edu_mistake {
	EDU_OK,
	EDU_UNMAPPED_IOVA,
	EDU_PHYS_ADDR,
	EDU_WRITE_TO_DEVICE_MAP,
	EDU_READ_FROM_DEVICE_MAP,
	EDU_USE_AFTER_UNMAP,
	EDU_STRADDLE_END,
	EDU_NR_MISTAKES
};

static const char *const edu_mistake_names[EDU_NR_MISTAKES] = {
	"ok", "unmapped-iova", "phys-addr", "write-to-device-map", "read-from-device-map",
	"use-after-unmap", "straddle-end",
};

static char *mistake = "ok";
module_param(mistake, charp, 0444);
MODULE_PARM_DESC(mistake, "the DMA mistake to make: ok, unmapped-iova, phys-addr, write-to-device-map, read-from-device-map, use-after-unmap, straddle-end");

struct edu {
	struct pci_dev *pdev;
	void __iomem *regs;
	int irq;		/* < 0: no MSI, the driver polls only */
	unsigned int dma_irqs;
	enum edu_mistake mistake;
	u32 *src;		/* the load's source: EDU_BUF_SIZE bytes of pattern */
	u8 *store_alloc;	/* EDU_STORE_PAGES pages; the store buffer is page 2 */
	u32 *dst;
	dma_addr_t src_handle, dst_handle;
	bool src_mapped, dst_mapped;
	enum dma_data_direction src_dir, dst_dir;
	bool stuck;		/* a transfer did not finish: keep the buffers */
};

static const char *edu_dir_name(enum dma_data_direction dir)
{
	switch (dir) {
	case DMA_TO_DEVICE:
		return "DMA_TO_DEVICE";
	case DMA_FROM_DEVICE:
		return "DMA_FROM_DEVICE";
	case DMA_BIDIRECTIONAL:
		return "DMA_BIDIRECTIONAL";
	default:
		return "DMA_NONE";
	}
}

/* The source buffer's dword i; the store buffer and its guards start
 * zeroed, so a dword that looks like this came from the device. */
static u32 edu_pattern(unsigned int i)
{
	return 0xedc00000u | (i & 0xfff);
}

static bool edu_is_pattern(u32 v)
{
	return (v & 0xfffff000u) == 0xedc00000u;
}

static irqreturn_t edu_irq(int irq, void *data)
{
	struct edu *e = data;
	u32 status = ioread32(e->regs + EDU_IRQ_STATUS);

	(void)irq;
	if (!status || status == 0xffffffff)
		return IRQ_NONE;
	iowrite32(status, e->regs + EDU_IRQ_ACK);
	if (status & EDU_IRQ_DMA)
		WRITE_ONCE(e->dma_irqs, READ_ONCE(e->dma_irqs) + 1);
	return IRQ_HANDLED;
}

/*
 * One transfer: to_ram false reads len bytes at bus address addr into the
 * device's buffer at offset 0, true writes the device's buffer to addr.
 * Polls the command register (the interrupt is counted by the handler).
 */
static int edu_dma(struct edu *e, bool to_ram, u64 addr, u32 len, const char *what)
{
	struct device *dev = &e->pdev->dev;
	unsigned int irqs = READ_ONCE(e->dma_irqs), polls = 0;
	u32 cmd = EDU_DMA_CMD_RUN | (to_ram ? EDU_DMA_CMD_TO_RAM : 0);

	if (addr > 0xffffffffull) {
		dev_err(dev, "%s: address 0x%llx does not fit the 32-bit register writes\n",
			what, (unsigned long long)addr);
		return -ERANGE;
	}
	if (addr & ~DMA_BIT_MASK(EDU_DMA_BITS))
		dev_warn(dev, "%s: address 0x%llx is beyond the device's %d address bits\n",
			 what, (unsigned long long)addr, EDU_DMA_BITS);
	if (e->irq >= 0)
		cmd |= EDU_DMA_CMD_IRQ;
	dev_info(dev, "%s: device %s %u bytes at 0x%llx\n", what,
		 to_ram ? "writes" : "reads", len, (unsigned long long)addr);
	iowrite32(to_ram ? EDU_BUF_ADDR : lower_32_bits(addr), e->regs + EDU_DMA_SRC);
	iowrite32(to_ram ? lower_32_bits(addr) : EDU_BUF_ADDR, e->regs + EDU_DMA_DST);
	iowrite32(len, e->regs + EDU_DMA_CNT);
	iowrite32(cmd, e->regs + EDU_DMA_CMD);
	while (ioread32(e->regs + EDU_DMA_CMD) & EDU_DMA_CMD_RUN) {
		if (++polls > EDU_POLL_MAX) {
			dev_err(dev, "%s: the device is still busy after %d ms\n", what,
				EDU_POLL_MS * EDU_POLL_MAX);
			e->stuck = true;
			return -ETIMEDOUT;
		}
		msleep(EDU_POLL_MS);
	}
	if (e->irq >= 0 && READ_ONCE(e->dma_irqs) == irqs)
		msleep(EDU_POLL_MS);	/* let the MSI arrive */
	if (e->irq >= 0)
		dev_info(dev, "%s: done, %s\n", what,
			 READ_ONCE(e->dma_irqs) != irqs ? "DMA interrupt received" : "no DMA interrupt");
	else
		dev_info(dev, "%s: done\n", what);
	return 0;
}

static int edu_map(struct edu *e, void *buf, enum dma_data_direction dir, dma_addr_t *handle,
		   const char *name)
{
	struct device *dev = &e->pdev->dev;

	*handle = dma_map_single(dev, buf, EDU_BUF_SIZE, dir);
	if (dma_mapping_error(dev, *handle)) {
		dev_err(dev, "%s buffer: dma_map_single failed\n", name);
		return -ENOMEM;
	}
	dev_info(dev, "%s buffer: %d bytes at phys 0x%llx, handle 0x%llx (%s)\n", name,
		 EDU_BUF_SIZE, (unsigned long long)virt_to_phys(buf), (unsigned long long)*handle,
		 edu_dir_name(dir));
	return 0;
}

static void edu_unmap_dst(struct edu *e)
{
	if (e->dst_mapped) {
		dma_unmap_single(&e->pdev->dev, e->dst_handle, EDU_BUF_SIZE, e->dst_dir);
		e->dst_mapped = false;
	}
}

/* What the store left in the store buffer and the guard pages around it:
 * the dwords that hold the device's data, per page. */
static void edu_report(struct edu *e, const char *what)
{
	struct device *dev = &e->pdev->dev;
	const u32 *w = (const u32 *)e->store_alloc;
	unsigned int i, page, got[EDU_STORE_PAGES] = { 0 };

	for (page = 0; page < EDU_STORE_PAGES; page++)
		for (i = 0; i < EDU_PAGE / 4; i++)
			got[page] += edu_is_pattern(w[page * EDU_PAGE / 4 + i]);
	dev_info(dev, "%s: %u bytes of the device's data in the store buffer (first dwords %08x %08x)\n",
		 what, got[EDU_STORE_PAGE] * 4, e->dst[0], e->dst[1]);
	for (page = 0; page < EDU_STORE_PAGES; page++)
		if (page != EDU_STORE_PAGE && got[page])
			dev_warn(dev, "%s: %u bytes of the device's data in guard page %u (phys 0x%llx): the device wrote outside its buffer\n",
				 what, got[page] * 4, page,
				 (unsigned long long)virt_to_phys(e->store_alloc + page * EDU_PAGE));
}

static int edu_round(struct edu *e)
{
	struct device *dev = &e->pdev->dev;
	u64 addr;
	u32 len = EDU_XFER;
	unsigned int i;
	int rc;

	e->src = kmalloc(EDU_BUF_SIZE, GFP_KERNEL);
	e->store_alloc = kzalloc(EDU_STORE_PAGES * EDU_PAGE, GFP_KERNEL);
	if (!e->src || !e->store_alloc) {
		dev_err(dev, "cannot allocate the buffers\n");
		return -ENOMEM;
	}
	e->dst = (u32 *)(e->store_alloc + EDU_STORE_PAGE * EDU_PAGE);
	for (i = 0; i < EDU_BUF_SIZE / 4; i++)
		e->src[i] = edu_pattern(i);

	e->dst_dir = e->mistake == EDU_WRITE_TO_DEVICE_MAP ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	e->src_dir = e->mistake == EDU_READ_FROM_DEVICE_MAP ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
	rc = edu_map(e, e->dst, e->dst_dir, &e->dst_handle, "store");
	if (rc)
		return rc;
	e->dst_mapped = true;
	rc = edu_map(e, e->src, e->src_dir, &e->src_handle, "source");
	if (rc)
		return rc;
	e->src_mapped = true;

	if (e->mistake == EDU_READ_FROM_DEVICE_MAP)
		dev_info(dev, "mistake: the device reads the source buffer, mapped DMA_FROM_DEVICE\n");
	rc = edu_dma(e, false, e->src_handle, len, "load");
	if (rc)
		return rc;

	addr = e->dst_handle;
	switch (e->mistake) {
	case EDU_UNMAPPED_IOVA:
		addr = e->dst_handle - EDU_STORE_PAGE * EDU_PAGE;
		dev_info(dev, "mistake: the device writes at 0x%llx, an address this driver never mapped (store handle - %d pages)\n",
			 (unsigned long long)addr, EDU_STORE_PAGE);
		break;
	case EDU_PHYS_ADDR:
		addr = virt_to_phys(e->dst);
		dev_info(dev, "mistake: the device writes at the store buffer's physical address 0x%llx, not its handle 0x%llx\n",
			 (unsigned long long)addr, (unsigned long long)e->dst_handle);
		break;
	case EDU_WRITE_TO_DEVICE_MAP:
		dev_info(dev, "mistake: the device writes the store buffer, mapped DMA_TO_DEVICE\n");
		break;
	case EDU_USE_AFTER_UNMAP:
		rc = edu_dma(e, true, addr, len, "store");
		if (rc)
			return rc;
		edu_unmap_dst(e);
		edu_report(e, "store");
		memset(e->dst, 0, EDU_BUF_SIZE);
		dev_info(dev, "mistake: the device writes at 0x%llx again, after dma_unmap_single\n",
			 (unsigned long long)addr);
		break;
	case EDU_STRADDLE_END:
		addr = e->dst_handle + EDU_BUF_SIZE - len / 2;
		dev_info(dev, "mistake: the device writes %u bytes at offset %u of the %d-byte store buffer, %u bytes past its end (up to 0x%llx)\n",
			 len, EDU_BUF_SIZE - len / 2, EDU_BUF_SIZE, len / 2,
			 (unsigned long long)(addr + len - 1));
		break;
	default:
		break;
	}
	rc = edu_dma(e, true, addr, len, e->mistake == EDU_USE_AFTER_UNMAP ? "store again" : "store");
	if (rc)
		return rc;
	edu_unmap_dst(e);
	edu_report(e, e->mistake == EDU_USE_AFTER_UNMAP ? "store again" : "store");
	return 0;
}

/* Unmaps and frees what the round left, unless the device may still write. */
static void edu_round_end(struct edu *e)
{
	if (e->stuck) {
		dev_warn(&e->pdev->dev, "buffers kept: the device may still use them\n");
		return;
	}
	edu_unmap_dst(e);
	if (e->src_mapped)
		dma_unmap_single(&e->pdev->dev, e->src_handle, EDU_BUF_SIZE, e->src_dir);
	e->src_mapped = false;
	kfree(e->src);
	kfree(e->store_alloc);
	e->src = NULL;
	e->store_alloc = NULL;
}

static int edu_parse_mistake(struct device *dev, const char *s)
{
	int i;

	for (i = 0; i < EDU_NR_MISTAKES; i++)
		if (!strcmp(s, edu_mistake_names[i]))
			return i;
	dev_err(dev, "mistake=%s: must be one of ok, unmapped-iova, phys-addr, write-to-device-map, read-from-device-map, use-after-unmap, straddle-end\n",
		s);
	return -EINVAL;
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct edu *e;
	u32 ident, live;
	int rc;

	(void)id;
	rc = edu_parse_mistake(dev, mistake);
	if (rc < 0)
		return rc;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->pdev = pdev;
	e->mistake = rc;
	e->irq = -1;
	pci_set_drvdata(pdev, e);

	rc = pci_enable_device(pdev);
	if (rc) {
		dev_err(dev, "pci_enable_device failed (%d)\n", rc);
		goto err_free;
	}
	rc = pci_request_regions(pdev, "edu");
	if (rc) {
		dev_err(dev, "pci_request_regions failed (%d)\n", rc);
		goto err_disable;
	}
	pci_set_master(pdev);
	if (pci_resource_len(pdev, 0) < EDU_REGS_SIZE) {
		dev_err(dev, "BAR0 is missing or too small\n");
		rc = -ENODEV;
		goto err_release;
	}
	e->regs = pci_iomap(pdev, 0, EDU_REGS_SIZE);
	if (!e->regs) {
		dev_err(dev, "cannot map BAR0\n");
		rc = -ENOMEM;
		goto err_release;
	}
	ident = ioread32(e->regs + EDU_ID);
	iowrite32(0x12345678, e->regs + EDU_LIVENESS);
	live = ioread32(e->regs + EDU_LIVENESS);
	if ((ident & 0xff) != EDU_ID_MAGIC || live != ~0x12345678u) {
		dev_err(dev, "not an edu device: ID 0x%08x, liveness 0x%08x\n", ident, live);
		rc = -ENODEV;
		goto err_unmap;
	}
	dev_info(dev, "edu %u.%u, mistake=%s\n", ident >> 24, (ident >> 16) & 0xff,
		 edu_mistake_names[e->mistake]);

	rc = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (rc) {
		dev_err(dev, "no usable %d-bit DMA mask (%d)\n", EDU_DMA_BITS, rc);
		goto err_unmap;
	}
	dev_info(dev, "DMA mask: %d bits\n", EDU_DMA_BITS);

	if (pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI) == 1) {
		e->irq = pci_irq_vector(pdev, 0);
		rc = request_irq(e->irq, edu_irq, 0, "edu", e);
		if (rc) {
			dev_warn(dev, "request_irq failed (%d): polling only\n", rc);
			pci_free_irq_vectors(pdev);
			e->irq = -1;
		}
	}
	if (e->irq >= 0)
		dev_info(dev, "MSI: IRQ %d\n", e->irq);
	else
		dev_info(dev, "no MSI: polling only\n");

	rc = edu_round(e);
	edu_round_end(e);
	if (rc && !e->stuck)
		goto err_irq;
	dev_info(dev, "mistake=%s: round %s\n", edu_mistake_names[e->mistake],
		 rc ? "did not finish" : "finished");
	return 0;	/* stays bound: rmmod cleans up */

err_irq:
	if (e->irq >= 0) {
		free_irq(e->irq, e);
		pci_free_irq_vectors(pdev);
	}
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

static void edu_remove(struct pci_dev *pdev)
{
	struct edu *e = pci_get_drvdata(pdev);

	if (e->irq >= 0) {
		free_irq(e->irq, e);
		pci_free_irq_vectors(pdev);
	}
	pci_iounmap(pdev, e->regs);
	pci_clear_master(pdev);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	dev_info(&pdev->dev, "removed after %u DMA interrupts\n", e->dma_irqs);
	pci_set_drvdata(pdev, NULL);
	kfree(e);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{ 0, }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = KBUILD_MODNAME,
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};

module_pci_driver(edu_driver);

MODULE_DESCRIPTION("QEMU edu device, with deliberate DMA mistakes (pcilab)");
MODULE_AUTHOR("pcilab");
MODULE_LICENSE("Dual MIT/GPL");
