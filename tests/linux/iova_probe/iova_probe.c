// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * iova_probe: pcilab's probe of a real kernel's DMA addresses (IOVAs).
 *
 * Binds to QEMU's "edu" device (PCI 1234:11e8), runs a fixed sequence of DMA
 * API calls in the device's fresh DMA domain and prints every handle, so that
 * tests/host/test_iova_parity.c can run the same sequence in pcilab's model
 * and compare. Written for pcilab (no code taken from elsewhere); it uses only
 * the public DMA API of include/linux/dma-mapping.h.
 *
 * The handles are kept in an array and printed after the sequence, so that
 * the (slow, emulated) serial console does not stretch the time between the
 * calls: with the default lazy unmapping, a freed IOVA comes back only after
 * the flush queue's timer (IOVA_FQ_TIMEOUT 10 ms in 6.1 dma-iommu.c) ran.
 * Step 14 sleeps 100 ms on purpose so that it has.
 *
 * The sequence (each line is one "iova_probe: step NN ..." record):
 *   mask 32 (dma_set_mask_and_coherent(DMA_BIT_MASK(32)))
 *    1 c1 = dma_alloc_coherent 4096
 *    2 c2 = dma_alloc_coherent 8192
 *    3 c3 = dma_alloc_coherent 4096
 *    4 s1 = dma_map_single kmalloc(4096)  DMA_TO_DEVICE
 *    5 s2 = dma_map_single kmalloc(16384) DMA_FROM_DEVICE
 *    6 unmap s1, unmap s2 (no handle)
 *    7 c4 = dma_alloc_coherent 4096
 *    8 s3 = dma_map_single kmalloc(16384) DMA_BIDIRECTIONAL
 *   mask 64
 *    9 c5 = dma_alloc_coherent 4096
 *   10 c6 = dma_alloc_coherent 8192
 *   11 s4 = dma_map_single kmalloc(4096)
 *   12 s5 = dma_map_single kmalloc(16384)
 *   13 unmap s4, unmap s5
 *   14 msleep(100)
 *   15 s6 = dma_map_single kmalloc(4096)
 *   16 s7 = dma_map_single kmalloc(16384)
 *   17 c7 = dma_alloc_coherent 4096
 *   then everything is unmapped and freed in step order, a burst of 2 x 300
 *   mappings runs (see burst()), and "iova_probe: done" is printed.
 * A second edu at slot 0x11 runs fresh() instead (see there).
 * When the device's DMA engine reaches memory (edu,dma_mask wide enough), a
 * last check copies 16 bytes from c1 into the device and back into c3 through
 * the IOMMU ("iova_probe: edu dma ...").
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8

/* QEMU docs/specs/edu.rst: DMA registers in BAR0, the device's own buffer at
 * 0x40000 (4 KiB) in its DMA address space. */
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_START 0x1
#define EDU_DMA_TO_RAM 0x2 /* direction: 0 RAM -> edu, 1 edu -> RAM */
#define EDU_BUF 0x40000

#define NSTEPS 18
#define FRESH_SLOT 0x11 /* the second edu: fresh() instead of the sequence */
#define BURST 300

struct probe_step {
	const char *what;
	size_t size;
	dma_addr_t handle;
	enum dma_data_direction dir;
	int ok;
};

struct iova_probe {
	struct pci_dev *pdev;
	void __iomem *bar;
	struct probe_step step[NSTEPS];
	void *cpu[NSTEPS];
	void *kbuf[NSTEPS];
};

static void rec(struct iova_probe *p, int n, const char *what, size_t size, dma_addr_t h,
		int ok)
{
	p->step[n].what = what;
	p->step[n].size = size;
	p->step[n].handle = h;
	p->step[n].ok = ok;
}

static void coherent(struct iova_probe *p, int n, size_t size)
{
	dma_addr_t h = 0;

	p->cpu[n] = dma_alloc_coherent(&p->pdev->dev, size, &h, GFP_KERNEL);
	rec(p, n, "dma_alloc_coherent", size, h, p->cpu[n] != NULL);
}

static void single(struct iova_probe *p, int n, size_t size, enum dma_data_direction dir)
{
	dma_addr_t h;

	p->kbuf[n] = kmalloc(size, GFP_KERNEL);
	if (!p->kbuf[n]) {
		rec(p, n, "dma_map_single", size, 0, 0);
		return;
	}
	h = dma_map_single(&p->pdev->dev, p->kbuf[n], size, dir);
	rec(p, n, "dma_map_single", size, h, !dma_mapping_error(&p->pdev->dev, h));
	p->step[n].dir = dir;
}

static void unmap(struct iova_probe *p, int n)
{
	if (p->step[n].ok)
		dma_unmap_single(&p->pdev->dev, p->step[n].handle, p->step[n].size,
				 p->step[n].dir);
	p->step[n].ok = 0;
	kfree(p->kbuf[n]);
	p->kbuf[n] = NULL;
}

static int edu_dma(struct iova_probe *p, dma_addr_t src, dma_addr_t dst, u32 cmd)
{
	int i;

	writeq(src, p->bar + EDU_DMA_SRC);
	writeq(dst, p->bar + EDU_DMA_DST);
	writeq(16, p->bar + EDU_DMA_CNT);
	writeq(EDU_DMA_START | cmd, p->bar + EDU_DMA_CMD);
	/* edu runs the transfer from a 100 ms timer */
	for (i = 0; i < 50; i++) {
		msleep(20);
		if (!(readq(p->bar + EDU_DMA_CMD) & EDU_DMA_START))
			return 0;
	}
	return -ETIMEDOUT;
}

static void edu_dma_check(struct iova_probe *p)
{
	u8 *src = p->cpu[1], *dst = p->cpu[3];
	int i, rc;

	if (!src || !dst)
		return;
	for (i = 0; i < 16; i++) {
		src[i] = 0xa0 + i;
		dst[i] = 0;
	}
	rc = edu_dma(p, p->step[1].handle, EDU_BUF, 0);
	if (!rc)
		rc = edu_dma(p, EDU_BUF, p->step[3].handle, EDU_DMA_TO_RAM);
	pr_info("iova_probe: edu dma %pad -> dev -> %pad: %s, %*phN\n", &p->step[1].handle,
		&p->step[3].handle, rc ? "timeout" : (memcmp(src, dst, 16) ? "MISMATCH" : "ok"),
		16, dst);
}

/* 64-bit FNV-1a over the handles' bytes, little-endian */
static u64 fnv1a(const dma_addr_t *h, int n)
{
	u64 x = 0xcbf29ce484222325ULL;
	int i, b;

	for (i = 0; i < n; i++)
		for (b = 0; b < 8; b++) {
			x ^= (u8)((u64)h[i] >> (8 * b));
			x *= 0x100000001b3ULL;
		}
	return x;
}

static void burst_print(const char *name, const dma_addr_t *h)
{
	int i;

	for (i = 0; i < BURST; i += 10)
		pr_info("iova_probe: %s %03d: %05llx %05llx %05llx %05llx %05llx %05llx %05llx %05llx %05llx %05llx\n",
			name, i, (u64)h[i] >> 12, (u64)h[i + 1] >> 12, (u64)h[i + 2] >> 12,
			(u64)h[i + 3] >> 12, (u64)h[i + 4] >> 12, (u64)h[i + 5] >> 12,
			(u64)h[i + 6] >> 12, (u64)h[i + 7] >> 12, (u64)h[i + 8] >> 12,
			(u64)h[i + 9] >> 12);
	pr_info("iova_probe: %s fnv1a %016llx\n", name, fnv1a(h, BURST));
}

/*
 * The burst, after the steps and their clean-up (mask still 64 bits): sleep
 * 100 ms (a lazy domain's flush queue drains), map one kmalloc'd page BURST
 * times (handles a[]), unmap them in mapping order, sleep 100 ms, map it
 * BURST times again (b[]), unmap them. 300 frees of one order fill a CPU's
 * two magazines and put one in the depot, so b[] shows the magazine size
 * (IOVA_MAG_SIZE); a lazy domain's 300 queued unmaps also fill its flush
 * queue (IOVA_FQ_SIZE 256). A lazy domain's timer may also run in the middle
 * of the unmaps: its burst depends on timing, a strict one's does not.
 */
static void burst(struct iova_probe *p)
{
	struct device *dev = &p->pdev->dev;
	dma_addr_t *a, *b;
	void *page;
	int i;

	a = kcalloc(2 * BURST, sizeof(*a), GFP_KERNEL);
	page = kmalloc(4096, GFP_KERNEL);
	if (!a || !page)
		goto out;
	b = a + BURST;
	msleep(100);
	for (i = 0; i < BURST; i++)
		a[i] = dma_map_single(dev, page, 4096, DMA_TO_DEVICE);
	for (i = 0; i < BURST; i++)
		if (!dma_mapping_error(dev, a[i]))
			dma_unmap_single(dev, a[i], 4096, DMA_TO_DEVICE);
	msleep(100);
	for (i = 0; i < BURST; i++)
		b[i] = dma_map_single(dev, page, 4096, DMA_TO_DEVICE);
	for (i = 0; i < BURST; i++)
		if (!dma_mapping_error(dev, b[i]))
			dma_unmap_single(dev, b[i], 4096, DMA_TO_DEVICE);
	burst_print("burst a", a);
	burst_print("burst b", b);
out:
	kfree(page);
	kfree(a);
}

/*
 * Small masks, after the burst: how the 32-bit cache (cached32_node) and
 * max32_alloc_size of iova.c react when a device's mask changes. 32 KiB
 * mappings (order 3: nothing of that order is in the range caches yet), then
 * 4 KiB ones under a 16-bit mask until the 64 KiB space is full. Each line is
 * "iova_probe: low NN <mask> <size> -> <handle>".
 */
#define LOW_N 24
static void low(struct iova_probe *p)
{
	static const struct { int mask; size_t size; int unmap; } seq[LOW_N] = {
		/*  1 */ { 32, 32768, 0 }, /*  2 */ { 24, 32768, 0 },
		/*  3 */ { 32, 32768, 0 }, /*  4 */ { 24, 32768, 0 },
		/*  5 */ { 64, 32768, 0 },
		/*  6: unmap 2, then map under 24 bits */ { 24, 32768, 2 },
		/*  7..22: 4 KiB under 16 bits, 16 times: 15 pages fit (pfn 1..15) */
		{ 16, 4096, 0 }, { 16, 4096, 0 }, { 16, 4096, 0 }, { 16, 4096, 0 },
		{ 16, 4096, 0 }, { 16, 4096, 0 }, { 16, 4096, 0 }, { 16, 4096, 0 },
		{ 16, 4096, 0 }, { 16, 4096, 0 }, { 16, 4096, 0 }, { 16, 4096, 0 },
		{ 16, 4096, 0 }, { 16, 4096, 0 }, { 16, 4096, 0 }, { 16, 4096, 0 },
		/* 23: after the failure, 32 KiB under 32 bits */ { 32, 32768, 0 },
		/* 24: unmap 7, 4 KiB under 16 bits again */ { 16, 4096, 7 },
	};
	struct device *dev = &p->pdev->dev;
	dma_addr_t *h;
	u8 *ok, *live;
	void *buf;
	int i;

	h = kcalloc(LOW_N + 1, sizeof(*h), GFP_KERNEL);
	ok = kcalloc(2 * (LOW_N + 1), 1, GFP_KERNEL);
	buf = kmalloc(32768, GFP_KERNEL);
	if (!h || !ok || !buf)
		goto out;
	live = ok + LOW_N + 1;
	msleep(100);
	for (i = 1; i <= LOW_N; i++) {
		int u = seq[i - 1].unmap;

		if (u && live[u]) {
			dma_unmap_single(dev, h[u], seq[u - 1].size, DMA_TO_DEVICE);
			live[u] = 0;
		}
		if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(seq[i - 1].mask))) {
			pr_info("iova_probe: low %02d mask %d refused\n", i, seq[i - 1].mask);
			continue;
		}
		h[i] = dma_map_single(dev, buf, seq[i - 1].size, DMA_TO_DEVICE);
		ok[i] = live[i] = !dma_mapping_error(dev, h[i]);
	}
	for (i = 1; i <= LOW_N; i++)
		pr_info("iova_probe: low %02d mask %d %zu -> %s%pad\n", i, seq[i - 1].mask,
			seq[i - 1].size, ok[i] ? "" : "error ", &h[i]);
	for (i = 1; i <= LOW_N; i++)
		if (live[i])
			dma_unmap_single(dev, h[i], seq[i - 1].size, DMA_TO_DEVICE);
out:
	kfree(buf);
	kfree(ok);
	kfree(h);
}

/*
 * The second edu (slot 0x11), in its own fresh domain: a mapping under a
 * 12-bit mask (no room: pfn 0 is never handed out), then 32-bit and 64-bit
 * mappings, then the 64-bit one's IOVA is unmapped and a 32-bit mapping
 * tried again. In a fresh domain the 12-bit failure starts from the anchor
 * node, which is where iova.c's retry overflowed before "iommu/iova: Fix alloc
 * iova overflows issue" (placing a range at pfn 0). Lines: "iova_probe: fresh
 * NN <mask> -> <handle>", and the edu DMA through the 64-bit mapping.
 */
static void fresh(struct iova_probe *p)
{
	static const int mask[5] = { 0, 12, 32, 64, 32 };
	struct device *dev = &p->pdev->dev;
	dma_addr_t h[5] = { 0 };
	int ok[5] = { 0 }, i, rc;
	u8 *buf;

	buf = kzalloc(4096, GFP_KERNEL);
	if (!buf)
		return;
	for (i = 1; i <= 4; i++) {
		if (i == 4 && ok[3]) {
			dma_unmap_single(dev, h[3], 4096, DMA_BIDIRECTIONAL);
			ok[3] = 0;
		}
		if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(mask[i]))) {
			pr_info("iova_probe: fresh %02d mask %d refused\n", i, mask[i]);
			continue;
		}
		h[i] = dma_map_single(dev, buf, 4096, DMA_BIDIRECTIONAL);
		ok[i] = !dma_mapping_error(dev, h[i]);
		pr_info("iova_probe: fresh %02d mask %d -> %s%pad\n", i, mask[i],
			ok[i] ? "" : "error ", &h[i]);
		if (i == 3 && ok[3]) {
			for (rc = 0; rc < 16; rc++)
				buf[rc] = 0x50 + rc;
			rc = edu_dma(p, h[3], EDU_BUF, 0);
			if (!rc)
				rc = edu_dma(p, EDU_BUF, h[3] + 64, EDU_DMA_TO_RAM);
			pr_info("iova_probe: fresh edu dma %pad -> dev -> +64: %s, %*phN\n", &h[3],
				rc ? "timeout" : (memcmp(buf, buf + 64, 16) ? "MISMATCH" : "ok"), 16,
				buf + 64);
		}
	}
	for (i = 1; i <= 4; i++)
		if (ok[i])
			dma_unmap_single(dev, h[i], 4096, DMA_BIDIRECTIONAL);
	kfree(buf);
}

static int iova_probe_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct iova_probe *p;
	int rc, n;

	p = devm_kzalloc(&pdev->dev, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->pdev = pdev;
	rc = pcim_enable_device(pdev);
	if (rc)
		return rc;
	pci_set_master(pdev);
	p->bar = pcim_iomap(pdev, 0, 0);
	if (!p->bar)
		return -ENOMEM;
	pci_set_drvdata(pdev, p);

	pr_info("iova_probe: device %s, iommu group %d\n", pci_name(pdev),
		pdev->dev.iommu_group ? iommu_group_id(pdev->dev.iommu_group) : -1);
	if (PCI_SLOT(pdev->devfn) == FRESH_SLOT) {
		fresh(p);
		pr_info("iova_probe: fresh done\n");
		return 0;
	}

	rc = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	pr_info("iova_probe: mask 32: %d\n", rc);
	coherent(p, 1, 4096);
	coherent(p, 2, 8192);
	coherent(p, 3, 4096);
	single(p, 4, 4096, DMA_TO_DEVICE);
	single(p, 5, 16384, DMA_FROM_DEVICE);
	unmap(p, 4);
	unmap(p, 5);
	coherent(p, 7, 4096);
	single(p, 8, 16384, DMA_BIDIRECTIONAL);

	rc = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	coherent(p, 9, 4096);
	coherent(p, 10, 8192);
	single(p, 11, 4096, DMA_TO_DEVICE);
	single(p, 12, 16384, DMA_TO_DEVICE);
	unmap(p, 11);
	unmap(p, 12);
	msleep(100);
	single(p, 15, 4096, DMA_TO_DEVICE);
	single(p, 16, 16384, DMA_TO_DEVICE);
	coherent(p, 17, 4096);

	for (n = 1; n < NSTEPS; n++)
		if (p->step[n].what)
			pr_info("iova_probe: step %02d %s %zu -> %pad%s\n", n, p->step[n].what,
				p->step[n].size, &p->step[n].handle,
				p->step[n].ok || p->kbuf[n] == NULL ? "" : " (error)");
	pr_info("iova_probe: mask 64: %d\n", rc);

	edu_dma_check(p);

	for (n = 1; n < NSTEPS; n++) {
		if (p->cpu[n])
			dma_free_coherent(&pdev->dev, p->step[n].size, p->cpu[n],
					  p->step[n].handle);
		p->cpu[n] = NULL;
		if (p->kbuf[n])
			unmap(p, n);
	}
	burst(p);
	low(p);
	pr_info("iova_probe: done\n");
	return 0;
}

static void iova_probe_remove(struct pci_dev *pdev)
{
}

static const struct pci_device_id iova_probe_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, iova_probe_ids);

static struct pci_driver iova_probe_driver = {
	.name = "iova_probe",
	.id_table = iova_probe_ids,
	.probe = iova_probe_probe,
	.remove = iova_probe_remove,
};
module_pci_driver(iova_probe_driver);

MODULE_DESCRIPTION("pcilab: print the DMA handles of a fixed DMA API sequence on QEMU's edu");
MODULE_LICENSE("Dual MIT/GPL");
