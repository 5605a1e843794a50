/* The AMD-Vi model as a host driver sees it: tables built in simulated memory
 * with the amdvi_fmt encoders, registers programmed by MMIO writes through
 * the address map, events read back from the event log in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "iommu/amdvi.h"
#include "sim/sim.h"
#include "iommu_fixture.h"

#define MMIO     0xfeb80000ull
#define DEV_TAB  0x00100000ull /* 2 MiB: every DeviceID */
#define CMD_BUF  0x00400000ull /* 256 entries */
#define EVT_LOG  0x00410000ull /* 256 entries */
#define CW_STORE 0x00420000ull
#define IRT      0x00500000ull
#define TABLES   0x01000000ull

struct fx {
    struct pcilab_sim *sim;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct amdvi *a;
    struct iommu *io;
    uint64_t next_table;
    unsigned msis;
    struct amdvi_config cfg;
};

static void on_msi(void *ctx)
{
    ((struct fx *)ctx)->msis++;
}

static void w64(struct fx *f, uint64_t off, uint64_t v) { ifx_w64(f->map, MMIO + off, v); }
static uint64_t r64(struct fx *f, uint64_t off) { return ifx_r64(f->map, MMIO + off); }

static uint64_t mem64(struct fx *f, uint64_t pa) { return ifx_get64(f->ram, pa); }

static void put64(struct fx *f, uint64_t pa, uint64_t v) { ifx_put64(f->ram, pa, v); }

#define CTL_ON (AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVENT_LOG_EN | AMDVI_CTL_EVENT_INT_EN | \
                AMDVI_CTL_CMD_BUF_EN | AMDVI_CTL_COM_WAIT_INT_EN)

static int fx_setup_cfg(void **state, void (*tweak)(struct amdvi_config *))
{
    struct fx *f = calloc(1, sizeof *f);
    ifx_mem_up(&f->sim, &f->ram, &f->map);
    amdvi_config_default(&f->cfg);
    f->cfg.mmio_base = MMIO;
    f->cfg.msi = on_msi;
    f->cfg.msi_ctx = f;
    if (tweak)
        tweak(&f->cfg);
    struct pcilab_err err = {0};
    f->a = amdvi_create(f->sim, f->ram, f->map, &f->cfg, &err);
    assert_non_null(f->a);
    f->io = amdvi_iommu(f->a);
    f->next_table = TABLES;
    /* What Linux's amd_iommu_init does: bases, pointers, then enables. */
    w64(f, AMDVI_REG_DEV_TAB_BASE, amdvi_dev_tab_base(DEV_TAB, 0x1ff));
    w64(f, AMDVI_REG_CMD_BUF_BASE, amdvi_ring_base(CMD_BUF, 8));
    w64(f, AMDVI_REG_EVT_LOG_BASE, amdvi_ring_base(EVT_LOG, 8));
    w64(f, AMDVI_REG_CMD_HEAD, 0);
    w64(f, AMDVI_REG_CMD_TAIL, 0);
    w64(f, AMDVI_REG_EVT_HEAD, 0);
    w64(f, AMDVI_REG_EVT_TAIL, 0);
    w64(f, AMDVI_REG_CONTROL, CTL_ON);
    *state = f;
    return 0;
}

static int fx_setup(void **state)
{
    return fx_setup_cfg(state, NULL);
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    ifx_mem_down(f->sim, f->ram, f->map);
    free(f);
    return 0;
}

static void set_dte(struct fx *f, uint16_t devid, const struct amdvi_dte *d)
{
    uint8_t raw[AMDVI_DTE_SIZE];
    amdvi_dte_encode(d, raw);
    assert_int_equal(mem_phys_write(f->ram, DEV_TAB + devid * 32ull, raw, 32, NULL), 0);
}

static uint64_t new_table(struct fx *f)
{
    return ifx_table(f->ram, &f->next_table);
}

/* Maps iova -> pa in the tables under root (Mode `mode`): a leaf at `leaf`
 * level; large_shift 0 for the level's default size (Next Level 0), else a
 * Next Level 7 page of 2^large_shift bytes replicated over its entries. */
static void map_page(struct fx *f, uint64_t root, unsigned mode, uint64_t iova, uint64_t pa,
                     unsigned leaf, unsigned large_shift, bool ir, bool iw)
{
    uint64_t table = root;
    for (unsigned l = mode; l > leaf; l--) {
        uint64_t ea = table + (((iova >> amdvi_level_shift(l)) & 0x1ff) << 3);
        uint64_t e = mem64(f, ea);
        if (!(e & 1)) {
            struct amdvi_pte p = {.pr = true, .next_level = (uint8_t)(l - 1),
                                  .addr = new_table(f), .ir = true, .iw = true};
            e = amdvi_pte_encode(&p);
            put64(f, ea, e);
        }
        table = e & AMDVI_BASE_ADDR_MASK;
    }
    struct amdvi_pte p = {.pr = true, .ir = ir, .iw = iw, .fc = true};
    unsigned count = 1;
    if (large_shift) {
        p.next_level = AMDVI_NL_LARGE;
        p.addr = amdvi_pte_large_addr(pa, large_shift);
        count = 1u << (large_shift - amdvi_level_shift(leaf));
    } else {
        p.addr = pa;
    }
    unsigned first = (unsigned)((iova >> amdvi_level_shift(leaf)) & 0x1ff) & ~(count - 1);
    for (unsigned i = 0; i < count; i++)
        put64(f, table + ((first + i) << 3), amdvi_pte_encode(&p));
}

static void cmd(struct fx *f, const struct amdvi_cmd *c)
{
    uint8_t raw[AMDVI_CMD_SIZE];
    amdvi_cmd_encode(c, raw);
    uint64_t tail = r64(f, AMDVI_REG_CMD_TAIL);
    assert_int_equal(mem_phys_write(f->ram, CMD_BUF + tail, raw, 16, NULL), 0);
    w64(f, AMDVI_REG_CMD_TAIL, (tail + 16) % 4096);
}

static unsigned events(struct fx *f)
{
    return (unsigned)(r64(f, AMDVI_REG_EVT_TAIL) / 16);
}

/* Event number i of the log, decoded; also its Linux flags. */
static uint16_t event_at(struct fx *f, unsigned i, struct amdvi_event *e)
{
    uint8_t raw[16];
    assert_int_equal(mem_phys_read(f->ram, EVT_LOG + 16ull * i, raw, 16, NULL), 0);
    amdvi_event_decode(raw, e);
    return amdvi_event_linux_flags(raw);
}

static void xlate(struct fx *f, uint16_t rid, uint64_t addr, uint8_t access,
                  struct iommu_result *res)
{
    struct iommu_req req = {.rid = rid, .addr = addr, .size = 4, .access = access};
    iommu_translate(f->io, &req, res);
}

/* A translated domain for rid with a fresh root of `mode` levels. */
static uint64_t attach(struct fx *f, uint16_t rid, uint16_t domain, unsigned mode)
{
    uint64_t root = new_table(f);
    struct amdvi_dte d = {.v = true, .tv = true, .mode = (uint8_t)mode, .pt_root = root,
                          .ir = true, .iw = true, .domain_id = domain};
    set_dte(f, rid, &d);
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY, .devid = rid});
    return root;
}

/* ------------------------------------------------------------------------ */

static void disabled_passes_everything(void **state)
{
    struct fx *f = *state;
    w64(f, AMDVI_REG_CONTROL, 0);
    struct iommu_result r;
    xlate(f, 0x0100, 0xffbf8000, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0xffbf8000);
    assert_int_equal(r.page_shift, 64);
    assert_int_equal(events(f), 0);
}

static void seed_write_to_blocked_device_gives_0x070(void **state)
{
    struct fx *f = *state;
    /* Linux's default DTE for a device without a domain (v4.9.80
     * amd_iommu_init.c init_device_table_dma: DEV_ENTRY_VALID and
     * DEV_ENTRY_TRANSLATION only). */
    struct amdvi_dte d = {.v = true, .tv = true};
    set_dte(f, 0x0100, &d);
    struct iommu_result r;
    xlate(f, 0x0100, 0xffbf8000, IOMMU_PERM_W, &r);
    assert_false(r.ok);
    assert_int_equal(r.fault, IOMMU_FAULT_PERMISSION);
    assert_int_equal(r.arch_code, AMDVI_EV_IO_PAGE_FAULT);
    assert_int_equal(r.arch_flags, 0x070);
    assert_int_equal(r.cpl, PCIE_CPL_CA);
    assert_true(r.logged);
    assert_int_equal(events(f), 1);
    struct amdvi_event e;
    assert_int_equal(event_at(f, 0, &e), 0x070);
    assert_int_equal(e.code, AMDVI_EV_IO_PAGE_FAULT);
    assert_int_equal(e.devid, 0x0100);
    assert_int_equal(e.domain, 0);
    assert_int_equal(e.addr, 0xffbf8000);
    assert_int_equal(f->msis, 1);
    assert_true(r64(f, AMDVI_REG_STATUS) & AMDVI_ST_EVENT_LOG_INT);
    /* A read from the same device: PR | PE without RW. */
    xlate(f, 0x0100, 0xffbf8000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_flags, 0x050);
    assert_int_equal(event_at(f, 1, &e), 0x050);
}

static void dte_v0_passes_untranslated(void **state)
{
    struct fx *f = *state;
    struct iommu_result r;
    xlate(f, 0x0200, 0x12345678, IOMMU_PERM_W, &r); /* never written: all zero */
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x12345678);
    assert_int_equal(events(f), 0);
}

static void tv0_and_mode0_are_gated_by_ir_iw(void **state)
{
    struct fx *f = *state;
    struct amdvi_dte d = {.v = true, .tv = false, .ir = true, .iw = false, .domain_id = 3};
    set_dte(f, 0x0300, &d);
    struct iommu_result r;
    xlate(f, 0x0300, 0x5000, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x5000);
    xlate(f, 0x0300, 0x5000, IOMMU_PERM_W, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_flags, 0x070);
}

static void walks_at_every_level_count(void **state)
{
    struct fx *f = *state;
    for (unsigned mode = 1; mode <= 6; mode++) {
        uint16_t rid = (uint16_t)(0x1000 + mode);
        uint64_t root = attach(f, rid, (uint16_t)(10 + mode), mode);
        uint64_t iova = 0x5000 | (mode > 1 ? 0x00200000ull : 0) |
                        (mode > 2 ? 0x40000000ull : 0) | (mode > 3 ? 1ull << 39 : 0) |
                        (mode > 4 ? 1ull << 48 : 0) | (mode > 5 ? 1ull << 57 : 0);
        uint64_t pa = 0x7000000ull + mode * 0x1000;
        map_page(f, root, mode, iova, pa, 1, 0, true, true);
        struct iommu_result r;
        xlate(f, rid, iova + 0x123, IOMMU_PERM_R | IOMMU_PERM_W, &r);
        assert_true(r.ok);
        assert_int_equal(r.pa, pa + 0x123);
        assert_int_equal(r.page_shift, 12);
        assert_false(r.iotlb_hit);
        /* One DTE read and `mode` table reads on the miss. */
        assert_int_equal(r.latency, f->cfg.iotlb.hit_latency +
                                        (mode + 1) * f->cfg.iotlb.walk_latency);
        xlate(f, rid, iova + 0x200, IOMMU_PERM_R, &r);
        assert_true(r.iotlb_hit);
        assert_int_equal(r.latency, f->cfg.iotlb.hit_latency);
        assert_int_equal(r.domain, 10 + mode);
        if (mode == 3) {
            /* Linux's DMA domains are 3-level: with the DTE cached, a miss adds
             * what a real IOTLB miss adds to a DMA read, 230-290 ns */
            uint64_t other = iova + 0x1000;
            map_page(f, root, mode, other, pa + 0x10000, 1, 0, true, true);
            struct iommu_result hit, miss;
            xlate(f, rid, iova, IOMMU_PERM_R, &hit);
            xlate(f, rid, other, IOMMU_PERM_R, &miss);
            assert_false(miss.iotlb_hit);
            sim_time_t added = miss.latency - hit.latency;
            assert_true(added >= 230 * SIM_NS && added <= 290 * SIM_NS);
        }
    }
    assert_int_equal(events(f), 0);
}

static void large_pages_at_each_level(void **state)
{
    struct fx *f = *state;
    uint64_t root = attach(f, 0x0400, 4, 4);
    struct iommu_result r;
    /* Level 2, Next Level 0: 2 MiB. */
    map_page(f, root, 4, 0x40000000ull, 0x20000000ull, 2, 0, true, true);
    xlate(f, 0x0400, 0x40000000ull + 0x1abcde, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.page_shift, 21);
    assert_int_equal(r.pa, 0x20000000ull + 0x1abcde);
    /* Level 3, Next Level 0: 1 GiB. */
    map_page(f, root, 4, 0x8000000000ull, 0x40000000ull, 3, 0, true, false);
    xlate(f, 0x0400, 0x8000000000ull + 0x3fffffff, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.page_shift, 30);
    assert_int_equal(r.pa, 0x7fffffffull);
    /* Level 1, Next Level 7: 32 KiB (8 entries). */
    map_page(f, root, 4, 0x00600000ull, 0x30008000ull, 1, 15, true, true);
    xlate(f, 0x0400, 0x00600000ull + 0x7ff0, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_int_equal(r.page_shift, 15);
    assert_int_equal(r.pa, 0x30008000ull + 0x7ff0);
    /* Level 2, Next Level 7: 8 MiB (4 entries). */
    map_page(f, root, 4, 0x01000000ull, 0x31000000ull, 2, 23, true, true);
    xlate(f, 0x0400, 0x01000000ull + 0x7fffff, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.page_shift, 23);
    assert_int_equal(r.pa, 0x31000000ull + 0x7fffff);
    /* A Next Level 7 size that is not between the level's default sizes. */
    uint64_t t = root;
    uint64_t e = mem64(f, t); /* level-4 entry 0 -> level 3 table */
    t = e & AMDVI_BASE_ADDR_MASK;
    struct amdvi_pte bad = {.pr = true, .next_level = 7, .ir = true, .iw = true,
                            .addr = amdvi_pte_large_addr(0x40000000ull, 21)};
    put64(f, t + (3 << 3), amdvi_pte_encode(&bad)); /* level 3, 2 MiB: too small */
    xlate(f, 0x0400, 3ull << 30, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_int_equal(r.fault, IOMMU_FAULT_PAGE_TABLE);
    assert_int_equal(r.arch_flags, AMDVI_EVF_PR);
}

static void skipped_levels(void **state)
{
    struct fx *f = *state;
    uint64_t root = attach(f, 0x0500, 5, 4);
    uint64_t l1 = new_table(f);
    /* Level 4 entry 0 -> a level 1 table directly (levels 3 and 2 skipped). */
    struct amdvi_pte pde = {.pr = true, .next_level = 1, .addr = l1, .ir = true, .iw = true};
    put64(f, root, amdvi_pte_encode(&pde));
    struct amdvi_pte pte = {.pr = true, .addr = 0x9000000, .ir = true, .iw = true};
    put64(f, l1 + (7 << 3), amdvi_pte_encode(&pte));
    struct iommu_result r;
    xlate(f, 0x0500, 0x7000 + 8, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x9000008);
    /* The DTE read and 2 table reads: the skip saves two. */
    assert_int_equal(r.latency, f->cfg.iotlb.hit_latency + 3 * f->cfg.iotlb.walk_latency);
    /* A skipped level's index bits must be zero. */
    xlate(f, 0x0500, (1ull << 30) | 0x7000, IOMMU_PERM_W, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_flags, AMDVI_EVF_PR | AMDVI_EVF_RW);
    /* Address bits above the top level (Mode 4: bit 48 up). */
    xlate(f, 0x0500, 1ull << 48, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_int_equal(r.fault, IOMMU_FAULT_PAGE_TABLE);
}

static void page_fault_flag_combinations(void **state)
{
    struct fx *f = *state;
    uint64_t root = attach(f, 0x0600, 6, 3);
    map_page(f, root, 3, 0x10000, 0x20000, 1, 0, true, false); /* read-only */
    struct iommu_result r;
    struct amdvi_event e;
    /* not present, read / write */
    xlate(f, 0x0600, 0x90000, IOMMU_PERM_R, &r);
    assert_int_equal(r.fault, IOMMU_FAULT_NOT_PRESENT);
    assert_int_equal(r.arch_flags, 0x000);
    xlate(f, 0x0600, 0x90000, IOMMU_PERM_W, &r);
    assert_int_equal(r.arch_flags, AMDVI_EVF_RW);
    /* write to a read-only mapping: PR | RW | PE */
    xlate(f, 0x0600, 0x10004, IOMMU_PERM_W, &r);
    assert_int_equal(r.fault, IOMMU_FAULT_PERMISSION);
    assert_int_equal(r.arch_flags, 0x070);
    assert_int_equal(event_at(f, 2, &e), 0x070);
    assert_int_equal(e.domain, 6);
    assert_int_equal(e.addr, 0x10004);
    /* the read works (and the write keeps faulting on the cached entry) */
    xlate(f, 0x0600, 0x10004, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.perm, IOMMU_PERM_R);
    xlate(f, 0x0600, 0x10008, IOMMU_PERM_W, &r);
    assert_true(r.iotlb_hit);
    assert_int_equal(r.arch_flags, 0x070);
    /* a reserved bit in a PTE: PR | RZ */
    struct amdvi_pte p = {.pr = true, .addr = 0x30000, .ir = true, .iw = true};
    uint64_t l1 = mem64(f, mem64(f, root) & AMDVI_BASE_ADDR_MASK) & AMDVI_BASE_ADDR_MASK;
    put64(f, l1 + (0x11 << 3), amdvi_pte_encode(&p) | 1ull << 53);
    xlate(f, 0x0600, 0x11000, IOMMU_PERM_R, &r);
    assert_int_equal(r.fault, IOMMU_FAULT_PAGE_TABLE);
    assert_int_equal(r.arch_flags, AMDVI_EVF_PR | AMDVI_EVF_RZ);
    /* user / execute with a PASID (GV = 0: host tables, PASID ignored) */
    struct iommu_req q = {.rid = 0x0600, .has_pasid = true, .pasid = 0x42, .priv = false,
                          .addr = 0x90000, .size = 4, .access = IOMMU_PERM_R | IOMMU_PERM_X};
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.arch_flags, AMDVI_EVF_US | AMDVI_EVF_NX);
    q.priv = true;
    q.access = IOMMU_PERM_W;
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.arch_flags, AMDVI_EVF_RW);
    /* GV is reserved without GTSup (the default EFR): ILLEGAL_DEV_TABLE_ENTRY, RZ. */
    struct amdvi_dte d = {.v = true, .tv = true, .mode = 3, .pt_root = root, .ir = true,
                          .iw = true, .domain_id = 6, .gv = true};
    set_dte(f, 0x0601, &d);
    q.rid = 0x0601;
    q.access = IOMMU_PERM_R;
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.arch_code, AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY);
    assert_int_equal(r.arch_flags, AMDVI_EVF_RZ);
}

static void gt_sup(struct amdvi_config *c)
{
    c->efr |= AMDVI_EFR_GT_SUP;
}

static int fx_setup_gt(void **state)
{
    return fx_setup_cfg(state, gt_sup);
}

static void guest_request_sets_gn_and_pasid(void **state)
{
    struct fx *f = *state;
    struct amdvi_dte d = {.v = true, .tv = true, .mode = 3, .pt_root = new_table(f),
                          .ir = true, .iw = true, .domain_id = 6, .gv = true};
    set_dte(f, 0x0601, &d);
    struct iommu_req q = {.rid = 0x0601, .has_pasid = true, .pasid = 0xabcde, .priv = false,
                          .addr = 0x90000, .size = 4, .access = IOMMU_PERM_W};
    struct iommu_result r;
    iommu_translate(f->io, &q, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, AMDVI_EV_IO_PAGE_FAULT);
    assert_int_equal(r.arch_flags, AMDVI_EVF_GN | AMDVI_EVF_US | AMDVI_EVF_RW);
    struct amdvi_event e;
    event_at(f, 0, &e);
    assert_int_equal(e.pasid, 0xabcde);
    assert_int_equal(e.flags, AMDVI_EVF_GN | AMDVI_EVF_US | AMDVI_EVF_RW);
    /* Supervisor: US clear. */
    q.priv = true;
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.arch_flags, AMDVI_EVF_GN | AMDVI_EVF_RW);
}

static void stale_translation_until_invalidate_pages(void **state)
{
    struct fx *f = *state;
    uint64_t root = attach(f, 0x0700, 7, 3);
    map_page(f, root, 3, 0x40000, 0x50000, 1, 0, true, true);
    struct iommu_result r;
    xlate(f, 0x0700, 0x40010, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    /* The driver clears the PTE and forgets to invalidate. */
    uint64_t l2 = mem64(f, root) & AMDVI_BASE_ADDR_MASK;
    uint64_t l1 = mem64(f, l2) & AMDVI_BASE_ADDR_MASK;
    put64(f, l1 + (0x40 << 3), 0);
    xlate(f, 0x0700, 0x40020, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_true(r.iotlb_hit);
    assert_int_equal(r.pa, 0x50020);
    /* An invalidation of another domain changes nothing. */
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_IOMMU_PAGES, .domain = 8,
                               .s = true, .addr = AMDVI_INV_ALL_ADDR});
    xlate(f, 0x0700, 0x40020, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    /* The page's invalidation does. */
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_IOMMU_PAGES, .domain = 7,
                               .addr = 0x40000});
    xlate(f, 0x0700, 0x40020, IOMMU_PERM_W, &r);
    assert_false(r.ok);
    assert_int_equal(r.fault, IOMMU_FAULT_NOT_PRESENT);
    /* INVALIDATE_IOMMU_ALL too. */
    map_page(f, root, 3, 0x40000, 0x60000, 1, 0, true, true);
    xlate(f, 0x0700, 0x40020, IOMMU_PERM_W, &r);
    assert_int_equal(r.pa, 0x60020);
    put64(f, l1 + (0x40 << 3), 0);
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_IOMMU_ALL});
    xlate(f, 0x0700, 0x40020, IOMMU_PERM_W, &r);
    assert_false(r.ok);
}

static void stale_dte_until_invalidate_devtab_entry(void **state)
{
    struct fx *f = *state;
    struct amdvi_dte d = {.v = true, .tv = true, .ir = true, .iw = true, .domain_id = 9};
    set_dte(f, 0x0800, &d);
    struct iommu_result r;
    xlate(f, 0x0800, 0x1000, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    d.iw = false;
    set_dte(f, 0x0800, &d);
    xlate(f, 0x0800, 0x1000, IOMMU_PERM_W, &r);
    assert_true(r.ok); /* the cached DTE still allows writes */
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY, .devid = 0x0800});
    xlate(f, 0x0800, 0x1000, IOMMU_PERM_W, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_flags, 0x070);
    struct amdvi_event e;
    event_at(f, events(f) - 1, &e);
    assert_int_equal(e.domain, 9);
}

static void completion_wait_store_and_interrupt(void **state)
{
    struct fx *f = *state;
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_COMPLETION_WAIT, .s = true, .i = true,
                               .addr = CW_STORE, .data = 0x1122334455667788ull});
    assert_int_equal(mem64(f, CW_STORE), 0x1122334455667788ull);
    assert_int_equal(r64(f, AMDVI_REG_CMD_HEAD), 16);
    uint64_t st = r64(f, AMDVI_REG_STATUS);
    assert_true(st & AMDVI_ST_COM_WAIT_INT);
    assert_true(st & AMDVI_ST_CMD_BUF_RUN);
    assert_int_equal(f->msis, 1);
    /* RW1C: writing 1 clears it; the Run bits ignore writes. */
    w64(f, AMDVI_REG_STATUS, AMDVI_ST_COM_WAIT_INT | AMDVI_ST_CMD_BUF_RUN);
    st = r64(f, AMDVI_REG_STATUS);
    assert_false(st & AMDVI_ST_COM_WAIT_INT);
    assert_true(st & AMDVI_ST_CMD_BUF_RUN);
    /* A store to an address nothing claims: COMMAND_HARDWARE_ERROR. */
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_COMPLETION_WAIT, .s = true,
                               .addr = 0x0000900000000000ull, .data = 1});
    struct amdvi_event e;
    event_at(f, 0, &e);
    assert_int_equal(e.code, AMDVI_EV_COMMAND_HARDWARE_ERROR);
    assert_int_equal(e.type, AMDVI_HWERR_MASTER_ABORT);
    assert_int_equal(e.addr, 0x0000900000000000ull);
    assert_false(r64(f, AMDVI_REG_STATUS) & AMDVI_ST_CMD_BUF_RUN);
}

static void illegal_command_stops_the_buffer(void **state)
{
    struct fx *f = *state;
    uint8_t raw[16] = {0};
    raw[7] = 0x90; /* opcode 9 */
    assert_int_equal(mem_phys_write(f->ram, CMD_BUF, raw, 16, NULL), 0);
    struct amdvi_cmd cw = {.opcode = AMDVI_CMD_COMPLETION_WAIT, .s = true, .addr = CW_STORE,
                           .data = 0xabc};
    amdvi_cmd_encode(&cw, raw);
    assert_int_equal(mem_phys_write(f->ram, CMD_BUF + 16, raw, 16, NULL), 0);
    w64(f, AMDVI_REG_CMD_TAIL, 32);
    struct amdvi_event e;
    assert_int_equal(events(f), 1);
    event_at(f, 0, &e);
    assert_int_equal(e.code, AMDVI_EV_ILLEGAL_COMMAND_ERROR);
    assert_int_equal(e.addr, CMD_BUF);
    assert_false(r64(f, AMDVI_REG_STATUS) & AMDVI_ST_CMD_BUF_RUN);
    assert_int_equal(r64(f, AMDVI_REG_CMD_HEAD), 0);
    assert_int_equal(mem64(f, CW_STORE), 0); /* the next command did not run */
    /* Software fixes the entry and restarts (CmdBufEn 0 -> 1). */
    amdvi_cmd_encode(&(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_IOMMU_ALL}, raw);
    assert_int_equal(mem_phys_write(f->ram, CMD_BUF, raw, 16, NULL), 0);
    w64(f, AMDVI_REG_CONTROL, CTL_ON & ~AMDVI_CTL_CMD_BUF_EN);
    w64(f, AMDVI_REG_CONTROL, CTL_ON);
    assert_int_equal(mem64(f, CW_STORE), 0xabc);
    /* Reserved bits make a known opcode illegal too. */
    amdvi_cmd_encode(&(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY}, raw);
    raw[4] = 1; /* bit 32 */
    uint64_t tail = r64(f, AMDVI_REG_CMD_TAIL);
    assert_int_equal(mem_phys_write(f->ram, CMD_BUF + tail, raw, 16, NULL), 0);
    w64(f, AMDVI_REG_CMD_TAIL, tail + 16);
    event_at(f, 1, &e);
    assert_int_equal(e.code, AMDVI_EV_ILLEGAL_COMMAND_ERROR);
    assert_int_equal(e.addr, CMD_BUF + tail);
}

/* The model keeps the page of the last command entry it read in place;
 * pages the memory moves (mem_phys_contiguous copies them into a block and
 * frees the old ones) must be read where they are now. The same stream of
 * completion waits, 600 entries round the 256-entry ring, some after a move
 * of the ring's page (a block starting at the ring or one page before it),
 * some after the page was read from its cached place: every store lands
 * with its own data, in order. Under ASan a read of a freed page fails. */
static void command_page_moves(void **state)
{
    struct fx *f = *state;
    for (unsigned i = 1; i <= 600; i++) {
        if (i % 37 == 0 || i % 101 == 0) {
            uint8_t *host;
            uint64_t at = i % 37 == 0 ? CMD_BUF - 4096 : CMD_BUF;
            assert_int_equal(mem_phys_contiguous(f->ram, at, i % 37 == 0 ? 2 : 3, &host, NULL), 0);
        }
        struct amdvi_cmd cw = {.opcode = AMDVI_CMD_COMPLETION_WAIT, .s = true, .addr = CW_STORE,
                               .data = 0x5000 + i};
        cmd(f, &cw);
        assert_int_equal(mem64(f, CW_STORE), 0x5000 + i);
        assert_int_equal(r64(f, AMDVI_REG_CMD_HEAD), r64(f, AMDVI_REG_CMD_TAIL));
    }
    assert_int_equal(events(f), 0);
}

static void event_log_overflow(void **state)
{
    struct fx *f = *state;
    struct amdvi_dte d = {.v = true, .tv = true};
    set_dte(f, 0x0900, &d);
    struct iommu_result r;
    for (unsigned i = 0; i < 300; i++)
        xlate(f, 0x0900, 0x1000ull * i, IOMMU_PERM_R, &r);
    /* 256 entries hold 255 events: tail + 16 == head is full. */
    assert_int_equal(events(f), 255);
    uint64_t st = r64(f, AMDVI_REG_STATUS);
    assert_true(st & AMDVI_ST_EVENT_OVERFLOW);
    assert_false(st & AMDVI_ST_EVENT_LOG_RUN);
    assert_false(r.logged);
    struct amdvi_event e;
    event_at(f, 254, &e);
    assert_int_equal(e.addr, 254 * 0x1000ull);
    /* Software drains, clears the overflow and restarts logging. */
    w64(f, AMDVI_REG_EVT_HEAD, r64(f, AMDVI_REG_EVT_TAIL));
    w64(f, AMDVI_REG_STATUS, AMDVI_ST_EVENT_OVERFLOW);
    xlate(f, 0x0900, 0x777000, IOMMU_PERM_R, &r);
    assert_false(r.logged); /* still stopped */
    w64(f, AMDVI_REG_CONTROL, CTL_ON & ~AMDVI_CTL_EVENT_LOG_EN);
    w64(f, AMDVI_REG_CONTROL, CTL_ON);
    xlate(f, 0x0900, 0x777000, IOMMU_PERM_R, &r);
    assert_true(r.logged);
    event_at(f, 255, &e);
    assert_int_equal(e.addr, 0x777000);
    assert_int_equal(r64(f, AMDVI_REG_EVT_TAIL), 0); /* wrapped */
}

static void hardware_errors(void **state)
{
    struct fx *f = *state;
    /* A page table root nothing claims: PAGE_TAB_HARDWARE_ERROR. */
    struct amdvi_dte d = {.v = true, .tv = true, .mode = 2, .pt_root = 0x0000a00000000000ull,
                          .ir = true, .iw = true, .domain_id = 0x33};
    set_dte(f, 0x0a00, &d);
    struct iommu_result r;
    xlate(f, 0x0a00, 0x3000, IOMMU_PERM_W, &r);
    assert_int_equal(r.fault, IOMMU_FAULT_HW_ERROR);
    assert_int_equal(r.arch_code, AMDVI_EV_PAGE_TAB_HARDWARE_ERROR);
    struct amdvi_event e;
    event_at(f, 0, &e);
    assert_int_equal(e.code, AMDVI_EV_PAGE_TAB_HARDWARE_ERROR);
    assert_int_equal(e.devid, 0x0a00);
    assert_int_equal(e.domain, 0x33);
    assert_int_equal(e.flags, AMDVI_EVF_RW);
    assert_int_equal(e.type, AMDVI_HWERR_MASTER_ABORT);
    assert_int_equal(e.addr, 0x0000a00000000000ull);
    /* A device table nothing claims: DEV_TAB_HARDWARE_ERROR. */
    w64(f, AMDVI_REG_CONTROL, 0);
    w64(f, AMDVI_REG_DEV_TAB_BASE, amdvi_dev_tab_base(0x0000b00000000000ull, 0x1ff));
    w64(f, AMDVI_REG_CONTROL, CTL_ON);
    xlate(f, 0x0b01, 0x3000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, AMDVI_EV_DEV_TAB_HARDWARE_ERROR);
    event_at(f, 1, &e);
    assert_int_equal(e.code, AMDVI_EV_DEV_TAB_HARDWARE_ERROR);
    assert_int_equal(e.devid, 0x0b01);
    assert_int_equal(e.addr, 0x0000b00000000000ull + 0x0b01 * 32);
}

static void illegal_dte_and_devid_beyond_table(void **state)
{
    struct fx *f = *state;
    uint8_t raw[32] = {0x03 | 0x04}; /* V, TV and reserved bit 2 */
    assert_int_equal(mem_phys_write(f->ram, DEV_TAB + 0x0c00 * 32, raw, 32, NULL), 0);
    struct iommu_result r;
    xlate(f, 0x0c00, 0x4000, IOMMU_PERM_R, &r);
    assert_int_equal(r.fault, IOMMU_FAULT_DEVICE_ENTRY);
    assert_int_equal(r.arch_code, AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY);
    assert_int_equal(r.arch_flags, AMDVI_EVF_RZ);
    struct amdvi_dte d = {.v = true, .tv = true, .mode = 7, .ir = true};
    set_dte(f, 0x0c01, &d);
    xlate(f, 0x0c01, 0x4000, IOMMU_PERM_W, &r);
    assert_int_equal(r.arch_code, AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY);
    assert_int_equal(r.arch_flags, AMDVI_EVF_RW); /* RZ = 0: illegal level */
    struct amdvi_event e;
    event_at(f, 1, &e);
    assert_int_equal(e.devid, 0x0c01);
    assert_int_equal(e.addr, 0x4000);
    /* A 4 KiB device table holds DeviceIDs 0..127. */
    w64(f, AMDVI_REG_CONTROL, 0);
    w64(f, AMDVI_REG_DEV_TAB_BASE, amdvi_dev_tab_base(DEV_TAB, 0));
    w64(f, AMDVI_REG_CONTROL, CTL_ON);
    xlate(f, 0x0080, 0x4000, IOMMU_PERM_R, &r);
    assert_int_equal(r.fault, IOMMU_FAULT_DEVICE_INVALID);
    assert_int_equal(r.arch_code, AMDVI_EV_IO_PAGE_FAULT);
    event_at(f, 2, &e);
    assert_int_equal(e.devid, 0x0080);
    assert_int_equal(e.flags, 0);
    xlate(f, 0x007f, 0x4000, IOMMU_PERM_R, &r);
    assert_true(r.ok); /* inside, all zero: V = 0 */
}

static void translated_requests_need_the_i_bit(void **state)
{
    struct fx *f = *state;
    struct amdvi_dte d = {.v = true, .tv = true, .mode = 3, .pt_root = new_table(f),
                          .ir = true, .iw = true, .domain_id = 1};
    set_dte(f, 0x0d00, &d);
    struct iommu_req q = {.rid = 0x0d00, .addr = 0x88000, .size = 64, .access = IOMMU_PERM_W,
                          .translated = true};
    struct iommu_result r;
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.fault, IOMMU_FAULT_TRANSLATED);
    struct amdvi_event e;
    event_at(f, 0, &e);
    assert_int_equal(e.code, AMDVI_EV_INVALID_DEVICE_REQUEST);
    assert_int_equal(e.type, AMDVI_INVDEV_PRETRANSLATED);
    d.i = true;
    set_dte(f, 0x0d00, &d);
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY, .devid = 0x0d00});
    iommu_translate(f->io, &q, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x88000);
}

static void suppression_sa_se_and_exclusion(void **state)
{
    struct fx *f = *state;
    struct amdvi_dte d = {.v = true, .tv = true, .sa = true};
    set_dte(f, 0x0e00, &d);
    struct iommu_result r;
    xlate(f, 0x0e00, 0x1000, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_false(r.logged);
    d = (struct amdvi_dte){.v = true, .tv = true, .se = true, .domain_id = 2};
    set_dte(f, 0x0e01, &d);
    xlate(f, 0x0e01, 0x1000, IOMMU_PERM_R, &r);
    assert_true(r.logged);
    xlate(f, 0x0e01, 0x1008, IOMMU_PERM_R, &r);
    assert_false(r.logged);
    xlate(f, 0x0e01, 0x2000, IOMMU_PERM_R, &r);
    assert_true(r.logged);
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_IOMMU_PAGES, .domain = 2,
                               .addr = 0x1000});
    xlate(f, 0x0e01, 0x1000, IOMMU_PERM_R, &r);
    assert_true(r.logged);
    assert_int_equal(events(f), 3);
    /* Exclusion range with Allow: untranslated for every device. */
    w64(f, AMDVI_REG_EXCL_BASE, 0x100000 | AMDVI_EXCL_EN | AMDVI_EXCL_ALLOW);
    w64(f, AMDVI_REG_EXCL_LIMIT, 0x1ff000);
    xlate(f, 0x0e01, 0x1ffff8, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x1ffff8);
    xlate(f, 0x0e01, 0x200000, IOMMU_PERM_W, &r);
    assert_false(r.ok);
    /* Without Allow only devices with DTE.EX. */
    w64(f, AMDVI_REG_EXCL_BASE, 0x100000 | AMDVI_EXCL_EN);
    xlate(f, 0x0e01, 0x100000, IOMMU_PERM_W, &r);
    assert_false(r.ok);
}

static void special_ranges(void **state)
{
    struct fx *f = *state;
    struct amdvi_dte d = {.v = true, .tv = true, .ir = true, .iw = true, .sysmgt = 0,
                          .ioctl = AMDVI_IOCTL_ABORT};
    set_dte(f, 0x0f00, &d);
    struct iommu_result r;
    struct amdvi_event e;
    assert_true(f->io->ops->is_interrupt(f->io->hw, 0x0f00, 0xfee00000));
    assert_false(f->io->ops->is_interrupt(f->io->hw, 0x0f00, 0xfed00000));
    xlate(f, 0x0f00, 0xfee00000, IOMMU_PERM_R, &r);
    event_at(f, 0, &e);
    assert_int_equal(e.type, AMDVI_INVDEV_READ_INTR);
    xlate(f, 0x0f00, 0xfd00000000ull, IOMMU_PERM_W, &r);
    event_at(f, 1, &e);
    assert_int_equal(e.type, AMDVI_INVDEV_INTR_RANGE);
    xlate(f, 0x0f00, 0xfdf9000000ull, IOMMU_PERM_W, &r);
    event_at(f, 2, &e);
    assert_int_equal(e.type, AMDVI_INVDEV_SYSMGT);
    xlate(f, 0x0f00, 0xfdfc000000ull, IOMMU_PERM_W, &r);
    event_at(f, 3, &e);
    assert_int_equal(e.type, AMDVI_INVDEV_PORT_IO);
    assert_int_equal(r.fault, IOMMU_FAULT_REQUEST);
}

static void setup_irq_dte(struct fx *f, uint16_t rid, uint8_t intctl, unsigned len)
{
    struct amdvi_dte d = {.v = true, .tv = true, .ir = true, .iw = true, .domain_id = 0x44,
                          .iv = true, .int_tab_len = (uint8_t)len, .int_root = IRT,
                          .int_ctl = intctl, .nmi_pass = true};
    set_dte(f, rid, &d);
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY, .devid = rid});
}

static void remap(struct fx *f, uint16_t rid, uint32_t data, struct iommu_irq_result *res)
{
    struct iommu_msi in = {.addr = 0xfee00000, .data = data};
    f->io->ops->remap_msi(f->io->hw, rid, &in, res);
}

static void interrupt_remapping(void **state)
{
    struct fx *f = *state;
    setup_irq_dte(f, 0x1100, AMDVI_INTCTL_REMAP, 1); /* 2 entries */
    struct amdvi_irte e = {.remap_en = true, .destination = 3, .vector = 0x41};
    assert_int_equal(mem_phys_write32(f->ram, IRT + 4, amdvi_irte32_encode(&e), NULL), 0);
    struct iommu_irq_result r;
    remap(f, 0x1100, 1, &r); /* index 1 */
    assert_true(r.ok);
    assert_int_equal(r.out.addr, 0xfee03000);
    assert_int_equal(r.out.data, 0x41);
    /* Beyond IntTabLen: IO_PAGE_FAULT with I. */
    remap(f, 0x1100, 2, &r);
    assert_false(r.ok);
    assert_true(r.logged);
    struct amdvi_event ev;
    assert_int_equal(event_at(f, 0, &ev), AMDVI_EVF_I);
    assert_int_equal(ev.devid, 0x1100);
    assert_int_equal(ev.domain, 0x44);
    assert_int_equal(ev.addr, 0xfee00000);
    /* RemapEn = 0 (entry 0): I, not present. */
    remap(f, 0x1100, 0, &r);
    assert_false(r.ok);
    assert_int_equal(event_at(f, 1, &ev), AMDVI_EVF_I);
    /* Stale IRTE until INVALIDATE_INTERRUPT_TABLE. */
    e.vector = 0x51;
    assert_int_equal(mem_phys_write32(f->ram, IRT + 4, amdvi_irte32_encode(&e), NULL), 0);
    remap(f, 0x1100, 1, &r);
    assert_int_equal(r.out.data, 0x41);
    cmd(f, &(struct amdvi_cmd){.opcode = AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE, .devid = 0x1100});
    remap(f, 0x1100, 1, &r);
    assert_int_equal(r.out.data, 0x51);
    /* NMI passes with NMIPass; INIT without InitPass is blocked. */
    remap(f, 0x1100, 0x400 | 2, &r);
    assert_true(r.ok);
    assert_int_equal(r.out.data, 0x402);
    remap(f, 0x1100, 0x500, &r);
    assert_false(r.ok);
    /* IntCtl abort: blocked, nothing logged; forward: unmapped. */
    unsigned n = events(f);
    setup_irq_dte(f, 0x1101, AMDVI_INTCTL_ABORT, 1);
    remap(f, 0x1101, 1, &r);
    assert_false(r.ok);
    assert_false(r.logged);
    assert_int_equal(events(f), n);
    setup_irq_dte(f, 0x1102, AMDVI_INTCTL_FORWARD, 1);
    remap(f, 0x1102, 0x4021, &r);
    assert_true(r.ok);
    assert_int_equal(r.out.data, 0x4021);
    /* IV = 0: forwarded unmapped. */
    struct amdvi_dte d = {.v = true, .tv = true};
    set_dte(f, 0x1103, &d);
    remap(f, 0x1103, 7, &r);
    assert_true(r.ok);
    assert_int_equal(r.out.data, 7);
}

static void interrupt_remapping_128bit(void **state)
{
    struct fx *f = *state;
    w64(f, AMDVI_REG_CONTROL, CTL_ON | AMDVI_CTL_GA_EN);
    setup_irq_dte(f, 0x1200, AMDVI_INTCTL_REMAP, 4);
    struct amdvi_irte e = {.remap_en = true, .int_type = AMDVI_DM_ARB, .dm = true,
                           .destination = 0x0f, .vector = 0x99};
    uint8_t raw[16];
    amdvi_irte128_encode(&e, raw);
    assert_int_equal(mem_phys_write(f->ram, IRT + 5 * 16, raw, 16, NULL), 0);
    struct iommu_irq_result r;
    remap(f, 0x1200, 5, &r);
    assert_true(r.ok);
    assert_int_equal(r.out.addr, 0xfee0f004);
    assert_int_equal(r.out.data, 0x199);
}

static void registers_and_reset(void **state)
{
    struct fx *f = *state;
    /* Base registers ignore writes while in use. */
    w64(f, AMDVI_REG_DEV_TAB_BASE, amdvi_dev_tab_base(0x200000, 0));
    assert_int_equal(r64(f, AMDVI_REG_DEV_TAB_BASE), amdvi_dev_tab_base(DEV_TAB, 0x1ff));
    w64(f, AMDVI_REG_EVT_LOG_BASE, amdvi_ring_base(0x300000, 9));
    assert_int_equal(r64(f, AMDVI_REG_EVT_LOG_BASE), amdvi_ring_base(EVT_LOG, 8));
    /* The EFR is read-only. */
    w64(f, AMDVI_REG_EFR, 0);
    assert_int_equal(r64(f, AMDVI_REG_EFR), f->cfg.efr);
    /* Tail pointers wrap modulo the buffer (4 KiB here); low bits are dropped. */
    w64(f, AMDVI_REG_CMD_TAIL, 0x1000 + 0x10 + 0x7);
    assert_int_equal(r64(f, AMDVI_REG_CMD_TAIL), 0x10);
    /* 32-bit accesses reach each half. */
    uint8_t b[4] = {0x05, 0, 0, 0};
    assert_int_equal(mem_addrmap_write(f->map, MMIO + AMDVI_REG_EXCL_BASE, b, 4, NULL), 0);
    assert_int_equal(r64(f, AMDVI_REG_EXCL_BASE), AMDVI_EXCL_EN);
    assert_int_not_equal(mem_addrmap_write(f->map, MMIO + 2, b, 2, NULL), 0);
    /* Reset: registers back to zero. */
    f->io->ops->reset(f->io->hw);
    assert_int_equal(r64(f, AMDVI_REG_CONTROL), 0);
    assert_int_equal(r64(f, AMDVI_REG_DEV_TAB_BASE), 0);
    assert_int_equal(r64(f, AMDVI_REG_STATUS), 0);
    assert_int_equal(r64(f, AMDVI_REG_CMD_TAIL), 0);
    assert_int_equal(r64(f, AMDVI_REG_EFR), f->cfg.efr);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(disabled_passes_everything),
        T(seed_write_to_blocked_device_gives_0x070),
        T(dte_v0_passes_untranslated),
        T(tv0_and_mode0_are_gated_by_ir_iw),
        T(walks_at_every_level_count),
        T(large_pages_at_each_level),
        T(skipped_levels),
        T(page_fault_flag_combinations),
        cmocka_unit_test_setup_teardown(guest_request_sets_gn_and_pasid, fx_setup_gt, fx_teardown),
        T(stale_translation_until_invalidate_pages),
        T(stale_dte_until_invalidate_devtab_entry),
        T(completion_wait_store_and_interrupt),
        T(illegal_command_stops_the_buffer),
        T(command_page_moves),
        T(event_log_overflow),
        T(hardware_errors),
        T(illegal_dte_and_devid_beyond_table),
        T(translated_requests_need_the_i_bit),
        T(suppression_sa_se_and_exclusion),
        T(special_ranges),
        T(interrupt_remapping),
        T(interrupt_remapping_128bit),
        T(registers_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
