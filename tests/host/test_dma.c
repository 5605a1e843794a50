/* The DMA API over the direct and swiotlb back-ends, on a machine with RAM
 * above 4 GiB: masks, coherent allocations in the zone the mask reaches,
 * streaming mappings that a 32-bit device cannot reach (refused directly,
 * bounced by swiotlb), the device's DMA through the fabric, and copies back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "../pcie/fabric_fixture.h"
#include "host/dma.h"
#include "host/kernel.h"
#include "host/pci.h"
#include "host/swiotlb.h"

struct fx {
    struct tfab t;
    struct host_kernel *k, *prev;
    struct pci_dev *p;
};

static void up(struct fx *x, const char *version, const char *cmdline)
{
    tfab_build(&x->t, false);
    /* 1 GiB above 4 GiB too */
    assert_int_equal(mem_addrmap_add_ram(x->t.map, 0x100000000ull, 0x40000000ull, "high", NULL),
                     0);
    assert_int_equal(pcie_enumerate(x->t.f, NULL, NULL, NULL), 0);
    struct host_kernel_config kc = {.version = version, .cmdline = cmdline};
    struct pcilab_err err;
    x->k = host_kernel_create(x->t.sim, x->t.f, x->t.ram, x->t.map, &kc, &err);
    assert_non_null(x->k);
    assert_int_equal(host_pci_scan(x->k, &err), 0);
    x->prev = host_enter(x->k);
    x->p = host_pci_of_fn(x->k, x->t.e1);
    assert_int_equal(pci_enable_device(x->p), 0);
    pci_set_master(x->p);
}

static void down(struct fx *x)
{
    host_leave(x->prev);
    tfab_free(&x->t);
}

static const char *last(struct fx *x)
{
    static char buf[512];
    struct sim_log_rec rec;
    struct sim_log *log = sim_log(x->t.sim);
    if (!sim_log_get(log, sim_log_count(log) - 1, &rec))
        return "";
    snprintf(buf, sizeof buf, "%s", rec.text);
    return buf;
}

static void test_masks_and_coherent(void **state)
{
    (void)state;
    struct fx x;
    up(&x, "5.15", "");
    struct device *dev = &x.p->dev;
    assert_int_equal(dma_get_mask(dev), DMA_BIT_MASK(32));
    assert_int_equal(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(16)), -EIO);
    assert_int_equal(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)), 0);
    dma_addr_t h;
    uint32_t *buf = dma_alloc_coherent(dev, 4096, &h, GFP_KERNEL);
    assert_non_null(buf);
    assert_true(h >= 0x100000000ull); /* 64-bit mask: the Normal zone, above 4 GiB */
    assert_int_equal(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32)), 0);
    dma_addr_t h32;
    uint32_t *b32 = dma_alloc_coherent(dev, 8192, &h32, GFP_KERNEL);
    assert_true(h32 + 8191 <= 0xffffffffull);
    assert_int_equal(h32 & 0x1fff, 0);
    assert_int_equal(b32[5], 0); /* zeroed */
    /* the device writes, the CPU pointer sees it */
    uint32_t v = 0x600dcafe;
    assert_int_equal(pcie_fn_mem_write(x.t.e1, h32 + 20, &v, 4, NULL), 0);
    sim_run(x.t.sim, 0);
    assert_int_equal(b32[5], 0x600dcafe);
    /* 24-bit mask: ZONE_DMA */
    assert_int_equal(dma_set_coherent_mask(dev, DMA_BIT_MASK(24)), 0);
    dma_addr_t h24;
    assert_non_null(dma_alloc_coherent(dev, 4096, &h24, GFP_KERNEL));
    assert_true(h24 < (16u << 20));
    dma_free_coherent(dev, 4096, buf, h);
    dma_free_coherent(dev, 8192, b32, h32);
    down(&x);
}

/* A buffer above 4 GiB mapped for a 32-bit device on the direct path: what
 * each version prints and returns. */
static void test_direct_refuses_unreachable(void **state)
{
    (void)state;
    static const struct {
        const char *version, *want;
        dma_addr_t err;
    } cases[] = {
        {"4.9", "nommu_map_single: overflow %llx+256 of device mask ffffffff", 0},
        {"4.20", "pci 0000:03:00.0: dma_direct_map_page: overflow 0x%016llx+256 of device mask "
                 "ffffffff bus mask 0", DMA_MAPPING_ERROR},
        {"5.15", "pci 0000:03:00.0: swiotlb buffer is full (sz: 256 bytes), total 0 (slots), "
                 "used 0 (slots)", DMA_MAPPING_ERROR},
        {"6.1", "pci 0000:03:00.0: DMA addr 0x%016llx+256 overflow (mask ffffffff, bus limit 0).",
         DMA_MAPPING_ERROR},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct fx x;
        up(&x, cases[c].version, "");
        struct device *dev = &x.p->dev;
        uint8_t *buf = kmalloc(256, GFP_KERNEL); /* Normal zone: above 4 GiB */
        uint64_t pa = virt_to_phys(buf);
        assert_true(pa >= 0x100000000ull);
        dma_addr_t a = dma_map_single(dev, buf, 256, DMA_TO_DEVICE);
        assert_int_equal(a, cases[c].err);
        assert_true(dma_mapping_error(dev, a));
        char want[256];
        snprintf(want, sizeof want, cases[c].want, (unsigned long long)pa);
        assert_string_equal(last(&x), want);
        /* a stack buffer is not kernel memory; a bad direction is refused */
        uint8_t local[16];
        assert_true(dma_mapping_error(dev, dma_map_single(dev, local, 16, DMA_TO_DEVICE)));
        assert_true(dma_mapping_error(dev, dma_map_single(dev, buf, 16, DMA_NONE)));
        assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(64)), 0);
        a = dma_map_single(dev, buf, 256, DMA_TO_DEVICE);
        assert_int_equal(a, pa);
        assert_false(dma_mapping_error(dev, a));
        dma_unmap_single(dev, a, 256, DMA_TO_DEVICE);
        kfree(buf);
        down(&x);
    }
}

struct rd {
    int done;
    uint8_t data[64];
};

static void rd_done(void *ctx, enum pcie_req_status st, void *buf, uint32_t len)
{
    (void)buf;
    (void)len;
    struct rd *r = ctx;
    r->done = st == PCIE_REQ_SC ? 1 : -1;
}

static void test_swiotlb_bounce(void **state)
{
    (void)state;
    struct fx x;
    up(&x, "5.15", "");
    struct device *dev = &x.p->dev;
    assert_int_equal(host_dma_swiotlb_init(x.k, NULL), 0);
    /* the pool: the top 64 MiB below the 2 GiB end of low RAM */
    assert_int_equal(host_swiotlb_start(x.k->swiotlb), 0x7c000000ull);
    assert_non_null(strstr(last(&x), "software IO TLB: mapped [mem 0x000000007c000000-"
                                     "0x0000000080000000] (64MB)"));
    host_dma_set_ops(dev, &host_dma_swiotlb_ops);
    uint8_t *buf = kmalloc(64, GFP_KERNEL);
    for (int i = 0; i < 64; i++)
        buf[i] = (uint8_t)(i * 3);
    dma_addr_t a = dma_map_single(dev, buf, 64, DMA_BIDIRECTIONAL);
    assert_false(dma_mapping_error(dev, a));
    assert_true(host_swiotlb_owns(x.k->swiotlb, a));
    /* the device reads the bounce copy, then writes new data */
    struct rd r = {0, {0}};
    assert_int_equal(pcie_fn_mem_read(x.t.e1, a, r.data, 64, rd_done, &r, NULL), 0);
    sim_run(x.t.sim, 0);
    assert_int_equal(r.done, 1);
    assert_memory_equal(r.data, buf, 64);
    uint8_t w[64];
    memset(w, 0xee, sizeof w);
    assert_int_equal(pcie_fn_mem_write(x.t.e1, a, w, 64, NULL), 0);
    sim_run(x.t.sim, 0);
    assert_int_equal(buf[0], 0); /* not yet: still in the bounce buffer */
    dma_sync_single_for_cpu(dev, a, 64, DMA_BIDIRECTIONAL);
    assert_memory_equal(buf, w, 64);
    memset(w, 0x11, sizeof w);
    assert_int_equal(pcie_fn_mem_write(x.t.e1, a, w, 64, NULL), 0);
    sim_run(x.t.sim, 0);
    dma_unmap_single(dev, a, 64, DMA_BIDIRECTIONAL);
    assert_memory_equal(buf, w, 64);
    assert_int_equal(host_swiotlb_used(x.k->swiotlb), 0);
    /* a reachable buffer is not bounced */
    assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(64)), 0);
    a = dma_map_single(dev, buf, 64, DMA_TO_DEVICE);
    assert_int_equal(a, virt_to_phys(buf));
    kfree(buf);
    down(&x);
}

static void test_sg(void **state)
{
    (void)state;
    struct fx x;
    up(&x, "6.1", "");
    struct device *dev = &x.p->dev;
    assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(64)), 0);
    struct scatterlist sg[3];
    void *b[3];
    sg_init_table(sg, 3);
    for (int i = 0; i < 3; i++) {
        b[i] = kmalloc(1000, GFP_KERNEL);
        sg_set_buf(&sg[i], b[i], 1000);
    }
    assert_int_equal(dma_map_sg(dev, sg, 3, DMA_TO_DEVICE), 3);
    struct scatterlist *s;
    int i;
    for_each_sg(sg, s, 3, i) {
        assert_int_equal(sg_dma_address(s), virt_to_phys(b[i]));
        assert_int_equal(sg_dma_len(s), 1000);
    }
    assert_null(sg_next(&sg[2]));
    /* one unreachable entry: nothing is mapped */
    assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(32)), 0);
    assert_int_equal(dma_map_sg(dev, sg, 3, DMA_TO_DEVICE), 0);
    dma_unmap_sg(dev, sg, 3, DMA_TO_DEVICE);
    for (i = 0; i < 3; i++)
        kfree(b[i]);
    down(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masks_and_coherent),
        cmocka_unit_test(test_direct_refuses_unreachable),
        cmocka_unit_test(test_swiotlb_bounce),
        cmocka_unit_test(test_sg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
