/* The VT-d model as a host driver sees it: root, context and page tables
 * built in simulated memory with the vtd_fmt encoders, registers programmed
 * through the address map, faults read back from the fault recording
 * registers the way Linux's dmar_fault() reads them. One test per rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "iommu/vtd.h"
#include "sim/sim.h"
#include "iommu_fixture.h"

#define MMIO     0xfed90000ull
#define ROOT     0x00100000ull
#define CTX      0x00200000ull /* one 4 KiB context table per bus */
#define IQ       0x00400000ull
#define STATUS   0x00410000ull
#define IRT      0x00500000ull /* 256 entries */
#define TABLES   0x01000000ull
#define DEV      0x0018        /* 00:03.0, the edu device in QEMU's q35 */
#define FRO      (f->fro) /* CAP.FRO * 16 of the unit under test */
#define IRO      (f->iro) /* ECAP.IRO * 16 */

struct fx {
    struct pcilab_sim *sim;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct vtd *v;
    struct iommu *io;
    struct vtd_config cfg;
    uint64_t next_table;
    unsigned fro, iro;
    unsigned msis[2];
    uint64_t msi_addr;
    uint32_t msi_data;
};

static void on_msi(void *ctx, enum vtd_event ev, uint64_t addr, uint32_t data)
{
    struct fx *f = ctx;
    f->msis[ev]++;
    f->msi_addr = addr;
    f->msi_data = data;
}

static void w64(struct fx *f, uint64_t off, uint64_t v) { ifx_w64(f->map, MMIO + off, v); }
static uint64_t r64(struct fx *f, uint64_t off) { return ifx_r64(f->map, MMIO + off); }

static void w32(struct fx *f, uint64_t off, uint32_t v)
{
    assert_int_equal(mem_addrmap_write32(f->map, MMIO + off, v), 0);
}

static uint32_t r32(struct fx *f, uint64_t off)
{
    uint32_t v;
    assert_int_equal(mem_addrmap_read32(f->map, MMIO + off, &v), 0);
    return v;
}

static void put64(struct fx *f, uint64_t pa, uint64_t v) { ifx_put64(f->ram, pa, v); }

static uint64_t get64(struct fx *f, uint64_t pa) { return ifx_get64(f->ram, pa); }

/* GCMD the way Linux writes it: the status of the persistent commands plus
 * the one being issued (intel-iommu.c iommu->gcmd). */
static void gcmd(struct fx *f, uint32_t set, uint32_t clear)
{
    uint32_t keep = r32(f, VTD_REG_GSTS) &
                    (VTD_GSTS_TES | VTD_GSTS_QIES | VTD_GSTS_IRES | VTD_GSTS_CFIS);
    w32(f, VTD_REG_GCMD, (keep | set) & ~clear);
}

static int fx_setup_cfg(void **state, void (*tweak)(struct vtd_config *))
{
    struct fx *f = calloc(1, sizeof *f);
    ifx_mem_up(&f->sim, &f->ram, &f->map);
    vtd_config_qemu(&f->cfg);
    f->cfg.msi = on_msi;
    f->cfg.msi_ctx = f;
    if (tweak)
        tweak(&f->cfg);
    struct pcilab_err err = {0};
    f->v = vtd_create(f->sim, f->ram, f->map, &f->cfg, &err);
    assert_non_null(f->v);
    f->io = vtd_iommu(f->v);
    f->next_table = TABLES;
    f->fro = vtd_cap_fro(r64(f, VTD_REG_CAP));
    f->iro = vtd_ecap_iro(r64(f, VTD_REG_ECAP));
    /* What Linux's intel-iommu does: root table, fault event, then TE. */
    w64(f, VTD_REG_RTADDR, ROOT);
    gcmd(f, VTD_GCMD_SRTP, 0);
    assert_true(r32(f, VTD_REG_GSTS) & VTD_GSTS_RTPS);
    w32(f, VTD_REG_FEDATA, 0x4041);
    w32(f, VTD_REG_FEADDR, 0xfee00000);
    w32(f, VTD_REG_FEUADDR, 0);
    w32(f, VTD_REG_FECTL, 0);
    gcmd(f, VTD_GCMD_TE, 0);
    assert_true(r32(f, VTD_REG_GSTS) & VTD_GSTS_TES);
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

static uint64_t table(struct fx *f)
{
    return ifx_table(f->ram, &f->next_table);
}

/* Root entry for sid's bus and its context entry. */
static void set_ctx(struct fx *f, uint16_t sid, const struct vtd_context_entry *ce)
{
    uint8_t raw[16];
    uint64_t ctp = CTX + (uint64_t)(sid >> 8) * 0x1000;
    struct vtd_root_entry re = {.p = true, .ctp = ctp};
    vtd_root_entry_encode(&re, raw);
    assert_int_equal(mem_phys_write(f->ram, ROOT + (uint64_t)(sid >> 8) * 16, raw, 16, NULL), 0);
    vtd_context_entry_encode(ce, raw);
    assert_int_equal(mem_phys_write(f->ram, ctp + (uint64_t)(sid & 0xff) * 16, raw, 16, NULL), 0);
}

/* Maps iova -> pa in the tables under root (`levels` deep), the leaf at
 * leaf_level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB), with R / W as given; upper
 * levels grant R and W. Returns the leaf entry's address. */
static uint64_t map_page(struct fx *f, uint64_t root, unsigned levels, uint64_t iova,
                         uint64_t pa, bool r, bool w, unsigned leaf_level)
{
    uint64_t t = root;
    for (unsigned l = levels; l > leaf_level; l--) {
        uint64_t ea = t + ((iova >> vtd_level_shift(l)) & 0x1ff) * 8;
        uint64_t e = get64(f, ea);
        if (!(e & 3)) {
            struct vtd_sl_pte p = {.r = true, .w = true, .addr = table(f)};
            e = vtd_sl_pte_encode(&p);
            put64(f, ea, e);
        }
        t = e & 0x000ffffffffff000ull;
    }
    uint64_t ea = t + ((iova >> vtd_level_shift(leaf_level)) & 0x1ff) * 8;
    struct vtd_sl_pte p = {.r = r, .w = w, .ps = leaf_level > 1, .addr = pa};
    put64(f, ea, vtd_sl_pte_encode(&p));
    return ea;
}

/* A 3-level (AW 39) domain for DEV; returns its top table. */
static uint64_t domain3(struct fx *f, uint16_t did)
{
    uint64_t root = table(f);
    struct vtd_context_entry ce = {.p = true, .tt = VTD_TT_SLT, .slptptr = root,
                                   .aw = VTD_AW_39, .did = did};
    set_ctx(f, DEV, &ce);
    return root;
}

static void xlate(struct fx *f, uint64_t addr, uint8_t access, struct iommu_result *r)
{
    struct iommu_req q = {.rid = DEV, .addr = addr, .size = 4, .access = access};
    iommu_translate(f->io, &q, r);
}

/* The fault recording register i as Linux v6.1 dmar_fault() reads it. */
struct seen {
    bool f;
    bool read;
    uint8_t reason;
    uint16_t sid;
    uint64_t addr;
};

static struct seen frcd(struct fx *f, unsigned i)
{
    uint64_t off = FRO + 16ull * i;
    uint32_t hi = r32(f, off + 12), mid = r32(f, off + 8);
    struct seen s = {.f = hi >> 31, .read = hi >> 30 & 1, .reason = hi & 0xff,
                     .sid = mid & 0xffff, .addr = r64(f, off) & ~0xfffull};
    return s;
}

static void clear_frcd(struct fx *f, unsigned i)
{
    w32(f, FRO + 16ull * i + 12, 1u << 31);
}

/* ---- DMA remapping ---- */

static void translation_through_three_levels(void **state)
{
    struct fx *f = *state;
    uint64_t root = domain3(f, 5);
    map_page(f, root, 3, 0x12345000ull, 0x40000000ull, true, true, 1);
    struct iommu_result r;
    xlate(f, 0x12345678ull, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x40000678ull);
    assert_int_equal(r.page_shift, 12);
    assert_int_equal(r.domain, 5);
    assert_false(r.iotlb_hit);
    xlate(f, 0x12345010ull, IOMMU_PERM_R, &r);
    assert_true(r.ok && r.iotlb_hit);
    assert_int_equal(r.pa, 0x40000010ull);
    assert_false(frcd(f, 0).f);
}

static void root_entry_not_present(void **state)
{
    struct fx *f = *state;
    struct iommu_result r;
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_ROOT_P);
    assert_int_equal(r.fault, IOMMU_FAULT_DEVICE_INVALID);
    assert_int_equal(r.cpl, PCIE_CPL_UR);
    assert_true(r.logged);
    struct seen s = frcd(f, 0);
    assert_true(s.f && s.read);
    assert_int_equal(s.reason, 1);
    assert_int_equal(s.sid, DEV);
    assert_int_equal(s.addr, 0x1000);
}

static void context_entry_not_present(void **state)
{
    struct fx *f = *state;
    struct vtd_context_entry ce = {.p = false};
    set_ctx(f, DEV, &ce); /* the root entry is present, the context entry not */
    struct iommu_result r;
    xlate(f, 0x2000, IOMMU_PERM_W, &r);
    assert_int_equal(r.arch_code, VTD_FR_CTX_P);
    struct seen s = frcd(f, 0);
    assert_true(s.f);
    assert_false(s.read);
    assert_int_equal(s.reason, 2);
}

static void fpd_suppresses_qualified_faults_only(void **state)
{
    struct fx *f = *state;
    uint64_t root = domain3(f, 1);
    struct vtd_context_entry ce = {.p = true, .fpd = true, .tt = VTD_TT_SLT, .slptptr = root,
                                   .aw = VTD_AW_39, .did = 1};
    set_ctx(f, DEV, &ce);
    struct iommu_result r;
    xlate(f, 0x3000, IOMMU_PERM_R, &r); /* not mapped: reason 6, qualified */
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_READ);
    assert_false(r.logged);
    assert_false(frcd(f, 0).f);
    assert_int_equal(r32(f, VTD_REG_FSTS), 0);
    /* a reserved bit in the context entry (0xb) is not qualified: recorded */
    ce.avail = 0;
    uint8_t raw[16];
    vtd_context_entry_encode(&ce, raw);
    raw[0] |= 0x10; /* bit 4 */
    mem_phys_write(f->ram, CTX + (DEV & 0xff) * 16, raw, 16, NULL);
    xlate(f, 0x3000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_READ); /* the cached context entry still */
    w64(f, VTD_REG_CCMD, VTD_CCMD_ICC | (uint64_t)VTD_GRAN_GLOBAL << VTD_CCMD_CIRG_SHIFT);
    xlate(f, 0x3000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_CTX_RSVD);
    assert_true(r.logged);
    assert_int_equal(frcd(f, 0).reason, 0xb);
    struct vtd_stats st;
    vtd_get_stats(f->v, &st);
    assert_int_equal(st.faults_suppressed, 2);
}

static void reserved_bits_in_a_page_table_entry(void **state)
{
    struct fx *f = *state;
    uint64_t root = domain3(f, 1);
    uint64_t ea = map_page(f, root, 3, 0x5000, 0x50000000ull, true, true, 1);
    put64(f, ea, get64(f, ea) | 1ull << 11); /* SNP: reserved without ECAP.SC (QEMU) */
    struct iommu_result r;
    xlate(f, 0x5000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_PTE_RSVD);
    assert_int_equal(r.fault, IOMMU_FAULT_PAGE_TABLE);
    assert_int_equal(frcd(f, 0).reason, 0xc);
}

static void read_of_a_write_only_page_is_reason_6(void **state)
{
    struct fx *f = *state;
    uint64_t root = domain3(f, 1);
    map_page(f, root, 3, 0x6000, 0x60000000ull, false, true, 1); /* DMA_FROM_DEVICE */
    struct iommu_result r;
    xlate(f, 0x6000, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    xlate(f, 0x6000, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, 6);
    assert_int_equal(r.fault, IOMMU_FAULT_PERMISSION);
    struct seen s = frcd(f, 0);
    assert_true(s.read);
    assert_int_equal(s.reason, 6);
    assert_string_equal(vtd_fault_reason_linux(s.reason, true, NULL),
                        "PTE Read access is not set");
}

static void write_of_a_read_only_page_is_reason_5(void **state)
{
    struct fx *f = *state;
    uint64_t root = domain3(f, 1);
    map_page(f, root, 3, 0x7000, 0x70000000ull, true, false, 1); /* DMA_TO_DEVICE */
    struct iommu_result r;
    xlate(f, 0x7004, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    xlate(f, 0x7008, IOMMU_PERM_W, &r); /* an IOTLB hit, still refused */
    assert_false(r.ok);
    assert_true(r.iotlb_hit);
    assert_int_equal(r.arch_code, 5);
    struct seen s = frcd(f, 0);
    assert_false(s.read);
    assert_int_equal(s.reason, 5);
    assert_int_equal(s.addr, 0x7000);
}

static void unmapped_page_is_reason_5_or_6_by_direction(void **state)
{
    struct fx *f = *state;
    domain3(f, 1);
    struct iommu_result r;
    xlate(f, 0x8000, IOMMU_PERM_W, &r);
    assert_int_equal(r.arch_code, 5);
    assert_int_equal(r.fault, IOMMU_FAULT_NOT_PRESENT);
    clear_frcd(f, 0);
    w32(f, VTD_REG_FSTS, VTD_FSTS_PFO);
    xlate(f, 0x8000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, 6);
}

static void beyond_the_address_width_is_reason_4(void **state)
{
    struct fx *f = *state;
    domain3(f, 1); /* AW 39 */
    struct iommu_result r;
    xlate(f, 1ull << 39, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_BEYOND_AW);
    assert_int_equal(r.fault, IOMMU_FAULT_ADDRESS);
    assert_int_equal(frcd(f, 0).reason, 4);
    assert_int_equal(frcd(f, 0).addr, 1ull << 39);
}

static void aw_not_in_sagaw_and_bad_tt_are_reason_3(void **state)
{
    struct fx *f = *state;
    struct vtd_context_entry ce = {.p = true, .tt = VTD_TT_SLT, .slptptr = table(f),
                                   .aw = VTD_AW_48, .did = 1}; /* QEMU: SAGAW 39 only */
    set_ctx(f, DEV, &ce);
    struct iommu_result r;
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_CTX_INVALID);
    ce.aw = VTD_AW_39;
    ce.tt = VTD_TT_RESERVED;
    set_ctx(f, DEV, &ce);
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_CTX_INVALID);
    ce.tt = VTD_TT_SLT_DEVTLB; /* QEMU default: no ECAP.DT */
    set_ctx(f, DEV, &ce);
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_CTX_INVALID);
}

static void pass_through(void **state)
{
    struct fx *f = *state;
    struct vtd_context_entry ce = {.p = true, .tt = VTD_TT_PT, .aw = VTD_AW_39, .did = 2};
    set_ctx(f, DEV, &ce);
    struct iommu_result r;
    xlate(f, 0x123456789ull, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x123456789ull);
    assert_int_equal(r.page_shift, 64);
    /* a translated request (AT = 10b) is blocked by TT 10b: reason 0xd */
    struct iommu_req q = {.rid = DEV, .addr = 0x1000, .size = 4, .access = IOMMU_PERM_R,
                          .translated = true};
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.arch_code, VTD_FR_TT_BLOCKED);
    assert_int_equal(r.fault, IOMMU_FAULT_TRANSLATED);
}

static void large_pages(void **state)
{
    struct fx *f = *state;
    uint64_t root = domain3(f, 1);
    map_page(f, root, 3, 0x40000000ull, 0x00000000ull, true, true, 3);  /* 1 GiB */
    map_page(f, root, 3, 0x80200000ull, 0x10400000ull, true, false, 2); /* 2 MiB */
    struct iommu_result r;
    xlate(f, 0x7fffffffull, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x3fffffffull);
    assert_int_equal(r.page_shift, 30);
    xlate(f, 0x803fff00ull, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x105fff00ull);
    assert_int_equal(r.page_shift, 21);
}

static void no_1g_pages_on_the_client_preset_without_sllps(struct vtd_config *c)
{
    vtd_config_client(c);
    c->mmio_base = MMIO;
    c->cap &= ~(2ull << VTD_CAP_SLLPS_SHIFT); /* 2 MiB only */
}

static void four_levels_on_the_client_preset(void **state)
{
    struct fx *f = *state;
    uint64_t root = table(f);
    struct vtd_context_entry ce = {.p = true, .tt = VTD_TT_SLT, .slptptr = root,
                                   .aw = VTD_AW_48, .did = 0x80};
    set_ctx(f, DEV, &ce);
    map_page(f, root, 4, 0x7f00001000ull, 0x20000000ull, true, true, 1);
    struct iommu_result r;
    xlate(f, 0x7f00001234ull, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x20000234ull);
    struct vtd_stats st;
    vtd_get_stats(f->v, &st);
    assert_int_equal(st.table_reads, 4);
    /* MGAW 39 with a 48-bit AGAW: bit 39 is beyond (reason 4) */
    xlate(f, 1ull << 40, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_BEYOND_AW);
    /* a DID beyond CAP.ND (8 bits here) is a reserved field (0xb) */
    clear_frcd(f, 0);
    ce.did = 0x100;
    set_ctx(f, 0x0020, &ce);
    struct iommu_req q = {.rid = 0x0020, .addr = 0x1000, .size = 4, .access = IOMMU_PERM_R};
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.arch_code, VTD_FR_CTX_RSVD);
    /* a 1 GiB page without CAP.SLLPS bit 1: reserved PS (0xc) */
    ce.did = 0x81;
    ce.slptptr = table(f);
    set_ctx(f, 0x0028, &ce);
    map_page(f, ce.slptptr, 4, 0x40000000ull, 0, true, true, 3);
    q.rid = 0x0028;
    q.addr = 0x40000000ull;
    clear_frcd(f, 0);
    w32(f, VTD_REG_FSTS, VTD_FSTS_PFO);
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.arch_code, VTD_FR_PTE_RSVD);
}

static void five_levels(struct vtd_config *c)
{
    c->cap |= (1ull << VTD_AW_57) << VTD_CAP_SAGAW_SHIFT;
    c->cap = (c->cap & ~VTD_CAP_MGAW_MASK) | 56ull << VTD_CAP_MGAW_SHIFT;
    c->haw = 46;
}

static void five_level_walk(void **state)
{
    struct fx *f = *state;
    uint64_t root = table(f);
    struct vtd_context_entry ce = {.p = true, .tt = VTD_TT_SLT, .slptptr = root,
                                   .aw = VTD_AW_57, .did = 9};
    set_ctx(f, DEV, &ce);
    uint64_t iova = 0x0123456789abc000ull & ((1ull << 57) - 1);
    map_page(f, root, 5, iova, 0x30000000ull, true, true, 1);
    struct iommu_result r;
    xlate(f, iova | 0x10, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x30000010ull);
    struct vtd_stats st;
    vtd_get_stats(f->v, &st);
    assert_int_equal(st.table_reads, 5);
}

static void translation_disabled_passes(void **state)
{
    struct fx *f = *state;
    gcmd(f, 0, VTD_GCMD_TE);
    assert_false(r32(f, VTD_REG_GSTS) & VTD_GSTS_TES);
    struct iommu_result r;
    xlate(f, 0x9000, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x9000);
}

/* ---- caches and invalidation ---- */

static void stale_iotlb_used_until_invalidated(void **state)
{
    struct fx *f = *state;
    uint64_t root = domain3(f, 3);
    uint64_t ea = map_page(f, root, 3, 0xa000, 0x11000000ull, true, true, 1);
    struct iommu_result r;
    xlate(f, 0xa000, IOMMU_PERM_R, &r);
    assert_int_equal(r.pa, 0x11000000ull);
    /* unmap without invalidating: the IOTLB still translates */
    put64(f, ea, 0);
    xlate(f, 0xa000, IOMMU_PERM_R, &r);
    assert_true(r.ok && r.iotlb_hit);
    assert_int_equal(r.pa, 0x11000000ull);
    /* page-selective invalidation of another domain: no effect */
    w64(f, IRO + VTD_IVA_OFF, 0xa000);
    w64(f, IRO + VTD_IOTLB_OFF, VTD_IOTLB_IVT | 3ull << VTD_IOTLB_IIRG_SHIFT |
                                    4ull << VTD_IOTLB_DID_SHIFT);
    xlate(f, 0xa000, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    /* the right domain: the next access walks and faults */
    w64(f, IRO + VTD_IOTLB_OFF, VTD_IOTLB_IVT | 3ull << VTD_IOTLB_IIRG_SHIFT |
                                    3ull << VTD_IOTLB_DID_SHIFT);
    uint64_t reg = r64(f, IRO + VTD_IOTLB_OFF);
    assert_false(reg & VTD_IOTLB_IVT); /* done */
    assert_int_equal((reg & VTD_IOTLB_IAIG_MASK) >> VTD_IOTLB_IAIG_SHIFT, VTD_GRAN_PAGE);
    xlate(f, 0xa000, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, 6);
}

static void stale_context_used_until_invalidated(void **state)
{
    struct fx *f = *state;
    uint64_t root = domain3(f, 3);
    map_page(f, root, 3, 0xb000, 0x12000000ull, true, true, 1);
    struct iommu_result r;
    xlate(f, 0xb000, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    /* detach the device (context entry cleared) without invalidating */
    struct vtd_context_entry none = {0};
    set_ctx(f, DEV, &none);
    xlate(f, 0xb000, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    /* device-selective context invalidation with CCMD, 32-bit halves */
    uint64_t cmd = VTD_CCMD_ICC | (uint64_t)VTD_GRAN_DEVICE << VTD_CCMD_CIRG_SHIFT |
                   (uint64_t)DEV << VTD_CCMD_SID_SHIFT | 3;
    w32(f, VTD_REG_CCMD, (uint32_t)cmd);
    xlate(f, 0xb000, IOMMU_PERM_R, &r);
    assert_true(r.ok); /* the low half alone does nothing */
    w32(f, VTD_REG_CCMD + 4, (uint32_t)(cmd >> 32));
    uint64_t reg = r64(f, VTD_REG_CCMD);
    assert_false(reg & VTD_CCMD_ICC);
    assert_int_equal((reg & VTD_CCMD_CAIG_MASK) >> VTD_CCMD_CAIG_SHIFT, VTD_GRAN_DEVICE);
    xlate(f, 0xb000, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_CTX_P);
}

static void qi_enable(struct fx *f)
{
    w64(f, VTD_REG_IQA, IQ); /* QS 0: 256 descriptors */
    w64(f, VTD_REG_IQT, 0);
    gcmd(f, VTD_GCMD_QIE, 0);
    assert_true(r32(f, VTD_REG_GSTS) & VTD_GSTS_QIES);
}

static uint64_t qi_push(struct fx *f, const struct vtd_inv_desc *d)
{
    uint64_t tail = r64(f, VTD_REG_IQT);
    uint8_t raw[16];
    vtd_inv_desc_encode(d, raw);
    mem_phys_write(f->ram, IQ + tail, raw, 16, NULL);
    return (tail + 16) & 0xfff;
}

static void qi_wait_writes_status_and_invalidates(void **state)
{
    struct fx *f = *state;
    qi_enable(f);
    uint64_t root = domain3(f, 7);
    uint64_t ea = map_page(f, root, 3, 0xc000, 0x13000000ull, true, true, 1);
    struct iommu_result r;
    xlate(f, 0xc000, IOMMU_PERM_R, &r);
    put64(f, ea, 0);
    put64(f, STATUS, 0xdead);
    struct vtd_inv_desc inv = {.type = VTD_DESC_IOTLB, .g = VTD_GRAN_DOMAIN, .did = 7};
    struct vtd_inv_desc wait = {.type = VTD_DESC_WAIT, .sw = true, .fn = true, .status = 1,
                                .status_addr = STATUS};
    uint64_t t = qi_push(f, &inv);
    w64(f, VTD_REG_IQT, t);
    t = qi_push(f, &wait);
    xlate(f, 0xc000, IOMMU_PERM_R, &r);
    assert_false(r.ok); /* the IOTLB descriptor ran when the tail moved past it */
    assert_int_equal(get64(f, STATUS), 0xdead); /* the wait did not run yet */
    w64(f, VTD_REG_IQT, t);
    assert_int_equal(get64(f, STATUS) & 0xffffffff, 1);
    assert_int_equal(r64(f, VTD_REG_IQH), t);
    assert_int_equal(f->msis[VTD_EVENT_INV_COMPLETION], 0);
    /* IF: ICS.IWC and the completion event once unmasked */
    w32(f, VTD_REG_IEDATA, 0x55);
    w32(f, VTD_REG_IEADDR, 0xfee01000);
    wait.iflag = true;
    wait.sw = false;
    t = qi_push(f, &wait);
    w64(f, VTD_REG_IQT, t);
    assert_int_equal(r32(f, VTD_REG_ICS), VTD_ICS_IWC);
    assert_int_equal(r32(f, VTD_REG_IECTL), VTD_ECTL_IM | VTD_ECTL_IP); /* masked at reset */
    w32(f, VTD_REG_IECTL, 0);
    assert_int_equal(f->msis[VTD_EVENT_INV_COMPLETION], 1);
    assert_int_equal(f->msi_addr, 0xfee01000ull);
    assert_int_equal(f->msi_data, 0x55);
    assert_int_equal(r32(f, VTD_REG_IECTL), 0);
}

static void qi_invalid_descriptor_stops_the_queue(void **state)
{
    struct fx *f = *state;
    qi_enable(f);
    struct vtd_inv_desc bad = {.type = VTD_DESC_PIOTLB}; /* scalable mode only */
    struct vtd_inv_desc wait = {.type = VTD_DESC_WAIT, .sw = true, .status = 2,
                                .status_addr = STATUS};
    qi_push(f, &bad);
    w64(f, VTD_REG_IQT, 0x10);
    uint64_t t = qi_push(f, &wait);
    w64(f, VTD_REG_IQT, t);
    assert_true(r32(f, VTD_REG_FSTS) & VTD_FSTS_IQE);
    assert_int_equal(r64(f, VTD_REG_IQH), 0); /* on the bad descriptor */
    assert_int_equal(get64(f, STATUS), 0);
    assert_int_equal(f->msis[VTD_EVENT_FAULT], 1); /* IQE is a fault event */
    /* what Linux's qi_check_fault does: overwrite it with the wait, clear IQE */
    uint8_t raw[16];
    vtd_inv_desc_encode(&wait, raw);
    mem_phys_write(f->ram, IQ, raw, 16, NULL);
    w32(f, VTD_REG_FSTS, VTD_FSTS_IQE);
    assert_int_equal(r64(f, VTD_REG_IQH), t);
    assert_int_equal(get64(f, STATUS), 2);
}

/* ---- fault recording and the fault event ---- */

static void four_frcds(struct vtd_config *c)
{
    c->nfr = 4;
}

static void fault_overflow(void **state)
{
    struct fx *f = *state;
    assert_int_equal(vtd_cap_nfr(r64(f, VTD_REG_CAP)), 4);
    domain3(f, 1);
    struct iommu_result r;
    for (unsigned i = 0; i < 4; i++) {
        xlate(f, 0x1000ull * (i + 1), IOMMU_PERM_W, &r);
        assert_true(r.logged);
    }
    assert_int_equal(r32(f, VTD_REG_FSTS), VTD_FSTS_PPF); /* FRI 0 */
    xlate(f, 0x9000, IOMMU_PERM_W, &r);
    assert_false(r.logged);
    assert_int_equal(r32(f, VTD_REG_FSTS), VTD_FSTS_PPF | VTD_FSTS_PFO);
    /* software services records 0 and 1; PFO still blocks recording */
    clear_frcd(f, 0);
    clear_frcd(f, 1);
    xlate(f, 0xa000, IOMMU_PERM_W, &r);
    assert_false(r.logged);
    w32(f, VTD_REG_FSTS, VTD_FSTS_PFO);
    xlate(f, 0xb000, IOMMU_PERM_W, &r);
    assert_true(r.logged);
    assert_int_equal(frcd(f, 0).addr, 0xb000); /* the next index wrapped to 0 */
    assert_int_equal(frcd(f, 2).addr, 0x3000);
    struct vtd_stats st;
    vtd_get_stats(f->v, &st);
    assert_int_equal(st.faults_recorded, 5);
    assert_int_equal(st.faults_dropped, 2);
    /* FRI: index of the first pending record when PPF was set */
    for (unsigned i = 0; i < 4; i++)
        clear_frcd(f, i);
    assert_int_equal(r32(f, VTD_REG_FSTS), 0);
    xlate(f, 0xc000, IOMMU_PERM_W, &r);
    assert_int_equal(r32(f, VTD_REG_FSTS), VTD_FSTS_PPF | 1u << VTD_FSTS_FRI_SHIFT);
}

static void fault_event_interrupt(void **state)
{
    struct fx *f = *state;
    domain3(f, 1);
    struct iommu_result r;
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_int_equal(f->msis[VTD_EVENT_FAULT], 1);
    assert_int_equal(f->msi_addr, 0xfee00000ull);
    assert_int_equal(f->msi_data, 0x4041);
    assert_int_equal(r32(f, VTD_REG_FECTL), 0);
    /* PPF already set: the overflow is no new interrupt condition */
    xlate(f, 0x2000, IOMMU_PERM_R, &r);
    assert_int_equal(f->msis[VTD_EVENT_FAULT], 1);
    /* what Linux's dmar_fault does, then a masked fault: IP, no message */
    clear_frcd(f, 0);
    w32(f, VTD_REG_FSTS, VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_PRO);
    assert_int_equal(r32(f, VTD_REG_FSTS), 0);
    w32(f, VTD_REG_FECTL, VTD_ECTL_IM);
    xlate(f, 0x3000, IOMMU_PERM_R, &r);
    assert_int_equal(f->msis[VTD_EVENT_FAULT], 1);
    assert_int_equal(r32(f, VTD_REG_FECTL), VTD_ECTL_IM | VTD_ECTL_IP);
    w32(f, VTD_REG_FECTL, 0); /* unmasking sends the pending message */
    assert_int_equal(f->msis[VTD_EVENT_FAULT], 2);
    assert_int_equal(r32(f, VTD_REG_FECTL), 0);
}

/* ---- interrupt remapping ---- */

static void ir_enable(struct fx *f, uint64_t irta)
{
    w64(f, VTD_REG_IRTA, irta);
    gcmd(f, VTD_GCMD_SIRTP, 0);
    assert_true(r32(f, VTD_REG_GSTS) & VTD_GSTS_IRTPS);
    gcmd(f, VTD_GCMD_IRE, 0);
    assert_true(r32(f, VTD_REG_GSTS) & VTD_GSTS_IRES);
}

static void set_irte(struct fx *f, unsigned index, const struct vtd_irte *e)
{
    uint8_t raw[16];
    vtd_irte_encode(e, raw);
    mem_phys_write(f->ram, IRT + index * 16ull, raw, 16, NULL);
}

static void remap(struct fx *f, uint16_t rid, uint64_t addr, uint32_t data,
                  struct iommu_irq_result *res)
{
    struct iommu_msi m = {.addr = addr, .data = data};
    iommu_remap_msi(f->io, rid, &m, res);
}

static void interrupt_remapping(void **state)
{
    struct fx *f = *state;
    ir_enable(f, IRT | 7); /* 256 entries, xAPIC */
    assert_true(f->io->ops->is_interrupt(f->io->hw, DEV, 0xfee00000ull));
    assert_false(f->io->ops->is_interrupt(f->io->hw, DEV, 0xfef00000ull));
    struct vtd_irte e = {.p = true, .vector = 0x41, .dst = vtd_irte_dst(2, false),
                         .sid = DEV, .svt = VTD_SVT_SID};
    set_irte(f, 3, &e);
    struct iommu_irq_result r;
    remap(f, DEV, vtd_msi_remap_addr(3, false), 0, &r);
    assert_true(r.ok);
    assert_int_equal(r.out.addr, 0xfee02000ull);
    assert_int_equal(r.out.data, 0x41);
    /* SHV: handle 1 + subhandle 2 */
    remap(f, DEV, vtd_msi_remap_addr(1, true), 2, &r);
    assert_true(r.ok);
    assert_int_equal(r.out.data, 0x41);
    /* source-id verification (0x26) */
    remap(f, 0x0020, vtd_msi_remap_addr(3, false), 0, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_IR_SID);
    struct seen s = frcd(f, 0);
    assert_int_equal(s.reason, 0x26);
    assert_int_equal(s.sid, 0x0020);
    assert_int_equal(r64(f, FRO) >> 48, 3); /* the index in FI 63:48 */
    enum vtd_linux_fault_type t;
    vtd_fault_reason_linux(s.reason, true, &t);
    assert_int_equal(t, VTD_LINUX_INTR_REMAP);
}

static void interrupt_remapping_faults(void **state)
{
    struct fx *f = *state;
    ir_enable(f, IRT | 3); /* 16 entries */
    struct iommu_irq_result r;
    remap(f, DEV, vtd_msi_remap_addr(16, false), 0, &r);
    assert_int_equal(r.arch_code, VTD_FR_IR_INDEX);
    assert_true(r.logged);
    clear_frcd(f, 0);
    remap(f, DEV, vtd_msi_remap_addr(4, false), 0, &r); /* a zero IRTE */
    assert_int_equal(r.arch_code, VTD_FR_IR_P);
    assert_true(r.logged);
    clear_frcd(f, 0);
    struct vtd_irte e = {.p = false, .fpd = true};
    set_irte(f, 4, &e);
    remap(f, DEV, vtd_msi_remap_addr(4, false), 0, &r);
    assert_int_equal(r.arch_code, VTD_FR_IR_P);
    assert_false(r.logged); /* qualified, FPD */
    e = (struct vtd_irte){.p = true, .vector = 0x30, .dst = 0x01020300}; /* xAPIC: reserved */
    set_irte(f, 5, &e);
    remap(f, DEV, vtd_msi_remap_addr(5, false), 0, &r);
    assert_int_equal(r.arch_code, VTD_FR_IR_RSVD);
    assert_int_equal(frcd(f, 0).reason, 0x24);
    clear_frcd(f, 0);
    remap(f, DEV, vtd_msi_remap_addr(5, false), 0x10000, &r); /* data 31:16 */
    assert_int_equal(r.arch_code, VTD_FR_IR_REQ_RSVD);
}

static void compatibility_format_blocked_unless_cfis(void **state)
{
    struct fx *f = *state;
    struct iommu_irq_result r;
    /* IRE = 0: everything passes */
    remap(f, DEV, 0xfee01000ull, 0x31, &r);
    assert_true(r.ok);
    assert_int_equal(r.out.addr, 0xfee01000ull);
    ir_enable(f, IRT | 7);
    remap(f, DEV, 0xfee01000ull, 0x31, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_IR_COMPAT);
    assert_int_equal(frcd(f, 0).reason, 0x25);
    assert_string_equal(vtd_fault_reason_linux(0x25, true, NULL),
                        "Blocked a compatibility format interrupt request");
    gcmd(f, VTD_GCMD_CFI, 0);
    assert_true(r32(f, VTD_REG_GSTS) & VTD_GSTS_CFIS);
    remap(f, DEV, 0xfee01000ull, 0x31, &r);
    assert_true(r.ok);
    assert_int_equal(r.out.data, 0x31);
}

static void stale_irte_used_until_iec_invalidation(void **state)
{
    struct fx *f = *state;
    qi_enable(f);
    ir_enable(f, IRT | 7);
    struct vtd_irte e = {.p = true, .vector = 0x50, .dst = vtd_irte_dst(1, false)};
    set_irte(f, 9, &e);
    struct iommu_irq_result r;
    remap(f, DEV, vtd_msi_remap_addr(9, false), 0, &r);
    assert_int_equal(r.out.data, 0x50);
    e.vector = 0x51;
    set_irte(f, 9, &e);
    remap(f, DEV, vtd_msi_remap_addr(9, false), 0, &r);
    assert_int_equal(r.out.data, 0x50);
    struct vtd_inv_desc iec = {.type = VTD_DESC_IEC, .g = 1, .iidx = 8, .im = 1}; /* 8..9 */
    w64(f, VTD_REG_IQT, qi_push(f, &iec));
    remap(f, DEV, vtd_msi_remap_addr(9, false), 0, &r);
    assert_int_equal(r.out.data, 0x51);
}

/* ---- registers ---- */

static void registers(void **state)
{
    struct fx *f = *state;
    assert_int_equal(r32(f, VTD_REG_VER), 0x10);
    assert_int_equal(r64(f, VTD_REG_CAP), 0x00d2008c22260206ull);
    assert_int_equal(r64(f, VTD_REG_ECAP), 0x0000000000f00f4aull);
    w64(f, VTD_REG_CAP, 0);
    assert_int_equal(r64(f, VTD_REG_CAP), 0x00d2008c22260206ull); /* read-only */
    assert_int_equal(r32(f, VTD_REG_GCMD), 0);                     /* write-only */
    assert_int_equal(r32(f, VTD_REG_GSTS), VTD_GSTS_TES | VTD_GSTS_RTPS);
    assert_int_equal(r64(f, VTD_REG_RTADDR), ROOT);
    /* a fault is reset away */
    struct iommu_result r;
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_true(r32(f, VTD_REG_FSTS) & VTD_FSTS_PPF);
    iommu_reset(f->io);
    assert_int_equal(r32(f, VTD_REG_FSTS), 0);
    assert_int_equal(r32(f, VTD_REG_GSTS), 0);
    assert_int_equal(r32(f, VTD_REG_FECTL), VTD_ECTL_IM);
    assert_false(frcd(f, 0).f);
}

static void bad_configurations(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct mem_phys *ram = mem_phys_create();
    struct mem_addrmap *map = mem_addrmap_create(ram);
    struct vtd_config c;
    struct pcilab_err err = {0};
    vtd_config_qemu(&c);
    c.nfr = 250; /* 0x220 + 250 * 16 > 4 KiB */
    assert_null(vtd_create(sim, ram, map, &c, &err));
    assert_int_equal(err.code, PCILAB_EINVAL);
    vtd_config_qemu(&c);
    c.mmio_base = 0xfed90100ull;
    assert_null(vtd_create(sim, ram, map, &c, &err));
    vtd_config_qemu(&c);
    c.ctx_cache_entries = 3;
    assert_null(vtd_create(sim, ram, map, &c, &err));
    vtd_config_client(&c);
    assert_non_null(vtd_create(sim, ram, map, &c, &err));
    sim_destroy(sim);
    mem_addrmap_destroy(map);
    mem_phys_destroy(ram);
}

static int fx_setup_4frcd(void **state)
{
    return fx_setup_cfg(state, four_frcds);
}

static int fx_setup_client(void **state)
{
    return fx_setup_cfg(state, no_1g_pages_on_the_client_preset_without_sllps);
}

static int fx_setup_5l(void **state)
{
    return fx_setup_cfg(state, five_levels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(translation_through_three_levels, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(root_entry_not_present, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(context_entry_not_present, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fpd_suppresses_qualified_faults_only, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(reserved_bits_in_a_page_table_entry, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(read_of_a_write_only_page_is_reason_6, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(write_of_a_read_only_page_is_reason_5, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(unmapped_page_is_reason_5_or_6_by_direction, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(beyond_the_address_width_is_reason_4, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(aw_not_in_sagaw_and_bad_tt_are_reason_3, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(pass_through, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(large_pages, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(four_levels_on_the_client_preset, fx_setup_client,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(five_level_walk, fx_setup_5l, fx_teardown),
        cmocka_unit_test_setup_teardown(translation_disabled_passes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(stale_iotlb_used_until_invalidated, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(stale_context_used_until_invalidated, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(qi_wait_writes_status_and_invalidates, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(qi_invalid_descriptor_stops_the_queue, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(fault_overflow, fx_setup_4frcd, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_event_interrupt, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(interrupt_remapping, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(interrupt_remapping_faults, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(compatibility_format_blocked_unless_cfis, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(stale_irte_used_until_iec_invalidation, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(registers, fx_setup, fx_teardown),
        cmocka_unit_test(bad_configurations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
