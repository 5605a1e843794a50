/* Scalable-mode translation of the VT-d model (RTADDR.TTM = 01b): root,
 * context, PASID directory and PASID table entries built with the vtd_fmt
 * encoders, registers programmed through the address map, faults read back
 * from the fault recording registers the way Linux's dmar_fault() does.
 * Also the formats' round trips and bit positions. One test per rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "iommu/vtd.h"
#include "sim/bytes.h"
#include "sim/sim.h"
#include "iommu_fixture.h"

#define MMIO   0xfed90000ull
#define ROOT   0x00100000ull
#define CTX    0x00200000ull /* one 4 KiB scalable-mode context table (devfn 0-127) per bus */
#define PDIR   0x00300000ull /* the PASID directory */
#define PTBL   0x00310000ull /* the PASID table of directory entry 0 */
#define IQ     0x00400000ull
#define STATUS 0x00410000ull
#define TABLES 0x01000000ull
#define DEV    0x0018        /* 00:03.0 */
#define DID    5

struct fx {
    struct pcilab_sim *sim;
    struct mem_phys *ram;
    struct mem_addrmap *map;
    struct vtd *v;
    struct iommu *io;
    struct vtd_config cfg;
    uint64_t next_table;
    unsigned fro;
};

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
static uint64_t table(struct fx *f) { return ifx_table(f->ram, &f->next_table); }

static void gcmd(struct fx *f, uint32_t set)
{
    uint32_t keep = r32(f, VTD_REG_GSTS) & (VTD_GSTS_TES | VTD_GSTS_QIES | VTD_GSTS_IRES);
    w32(f, VTD_REG_GCMD, keep | set);
}

/* The unit on `preset` (tweaked), root table at ROOT with TTM = ttm, TE on. */
static struct fx *fx_up(void (*preset)(struct vtd_config *), void (*tweak)(struct vtd_config *),
                        unsigned ttm)
{
    struct fx *f = calloc(1, sizeof *f);
    ifx_mem_up(&f->sim, &f->ram, &f->map);
    preset(&f->cfg);
    if (tweak)
        tweak(&f->cfg);
    struct pcilab_err err = {0};
    f->v = vtd_create(f->sim, f->ram, f->map, &f->cfg, &err);
    assert_non_null(f->v);
    f->io = vtd_iommu(f->v);
    f->next_table = TABLES;
    f->fro = vtd_cap_fro(r64(f, VTD_REG_CAP));
    w64(f, VTD_REG_RTADDR, ROOT | (uint64_t)ttm << VTD_RTADDR_TTM_SHIFT);
    gcmd(f, VTD_GCMD_SRTP);
    gcmd(f, VTD_GCMD_TE);
    assert_true(r32(f, VTD_REG_GSTS) & VTD_GSTS_TES);
    return f;
}

static int sm_setup(void **state)
{
    *state = fx_up(vtd_config_qemu_sm, NULL, VTD_TTM_SCALABLE);
    return 0;
}

static void with_flts(struct vtd_config *c)
{
    c->ecap |= VTD_ECAP_FLTS;
    c->cap |= VTD_CAP_FL1GP;
}

static int fl_setup(void **state)
{
    *state = fx_up(vtd_config_qemu_sm, with_flts, VTD_TTM_SCALABLE);
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ifx_mem_down(f->sim, f->ram, f->map);
    free(f);
    return 0;
}

/* Root entry (lower half) and scalable-mode context entry of sid. */
static void set_sm_ctx(struct fx *f, uint16_t sid, const struct vtd_sm_context_entry *ce)
{
    uint8_t raw[VTD_SM_CTX_ENTRY_SIZE];
    uint64_t ctp = CTX + (uint64_t)(sid >> 8) * 0x1000;
    struct vtd_sm_root_entry re = {.lp = true, .lctp = ctp};
    vtd_sm_root_entry_encode(&re, raw);
    assert_int_equal(mem_phys_write(f->ram, ROOT + (uint64_t)(sid >> 8) * 16, raw, 16, NULL), 0);
    vtd_sm_context_entry_encode(ce, raw);
    assert_int_equal(mem_phys_write(f->ram, ctp + (uint64_t)(sid & 0x7f) * 32, raw, 32, NULL),
                     0);
}

static void set_pasid(struct fx *f, uint32_t pasid, const struct vtd_pasid_entry *pe)
{
    uint8_t raw[VTD_PASID_ENTRY_SIZE];
    vtd_pasid_entry_encode(pe, raw);
    assert_int_equal(mem_phys_write(f->ram, PTBL + (uint64_t)(pasid & 63) * 64, raw, 64, NULL),
                     0);
}

/* DEV's context (PDTS 0: 128 directory entries), directory entry 0 -> PTBL,
 * and PASID 0 (the RID_PASID Linux v6.1 uses, PASID_RID2PASID) as pe. */
static void sm_device(struct fx *f, const struct vtd_pasid_entry *pe, bool paside)
{
    struct vtd_sm_context_entry ce = {.p = true, .paside = paside, .pasiddirptr = PDIR};
    set_sm_ctx(f, DEV, &ce);
    struct vtd_pasid_dir_entry de = {.p = true, .smptblptr = PTBL};
    put64(f, PDIR, vtd_pasid_dir_entry_encode(&de));
    set_pasid(f, 0, pe);
}

/* Second-level mapping iova -> pa, 4 KiB, in a 3-level table at root. */
static uint64_t sl_map(struct fx *f, uint64_t root, uint64_t iova, uint64_t pa, bool w)
{
    uint64_t t = root;
    for (unsigned l = 3; l > 1; l--) {
        uint64_t ea = t + ((iova >> vtd_level_shift(l)) & 0x1ff) * 8;
        uint64_t e = get64(f, ea);
        if (!(e & 3)) {
            struct vtd_sl_pte p = {.r = true, .w = true, .addr = table(f)};
            e = vtd_sl_pte_encode(&p);
            put64(f, ea, e);
        }
        t = e & 0x000ffffffffff000ull;
    }
    uint64_t ea = t + ((iova >> 12) & 0x1ff) * 8;
    struct vtd_sl_pte p = {.r = true, .w = w, .addr = pa};
    put64(f, ea, vtd_sl_pte_encode(&p));
    return ea;
}

/* First-level mapping iova -> pa in a 4-level table at root, the leaf at
 * leaf_level with rw / us as given; upper levels R/W, U/S. Returns the
 * addresses of the entries used, top first, in ea[]. */
static void fl_map(struct fx *f, uint64_t root, uint64_t iova, uint64_t pa, unsigned leaf_level,
                   bool rw, bool us, uint64_t ea[4])
{
    uint64_t t = root;
    unsigned n = 0;
    for (unsigned l = 4; l > leaf_level; l--) {
        ea[n] = t + ((iova >> vtd_level_shift(l)) & 0x1ff) * 8;
        uint64_t e = get64(f, ea[n]);
        if (!(e & 1)) {
            struct vtd_fl_pte p = {.p = true, .rw = true, .us = true, .addr = table(f)};
            e = vtd_fl_pte_encode(&p, l);
            put64(f, ea[n], e);
        }
        n++;
        t = e & 0x000ffffffffff000ull;
    }
    ea[n] = t + ((iova >> vtd_level_shift(leaf_level)) & 0x1ff) * 8;
    struct vtd_fl_pte p = {.p = true, .rw = rw, .us = us, .ps = leaf_level > 1, .addr = pa,
                           .xd = true}; /* Linux v6.1 sets XD in first-level leaves */
    put64(f, ea[n], vtd_fl_pte_encode(&p, leaf_level));
}

static void xlate(struct fx *f, uint64_t addr, uint8_t access, struct iommu_result *r)
{
    struct iommu_req q = {.rid = DEV, .addr = addr, .size = 4, .access = access};
    iommu_translate(f->io, &q, r);
}

struct seen {
    bool f, pp;
    uint8_t reason;
    uint16_t sid;
    uint32_t pasid;
    uint64_t addr;
};

/* Fault recording register i as Linux v6.1 dmar_fault() reads it. */
static struct seen frcd(struct fx *f, unsigned i)
{
    uint64_t off = f->fro + 16ull * i;
    uint32_t hi = r32(f, off + 12), mid = r32(f, off + 8);
    struct seen s = {.f = hi >> 31, .pp = mid >> 31, .reason = hi & 0xff,
                     .pasid = (hi >> 8) & 0xfffff, .sid = mid & 0xffff,
                     .addr = r64(f, off) & ~0xfffull};
    return s;
}

static void clear_frcd(struct fx *f, unsigned i)
{
    w32(f, f->fro + 16ull * i + 12, 1u << 31);
}

/* 256-bit queued invalidation, as Linux v6.1 sets it up on a unit with
 * ECAP.SMTS (dmar.c __dmar_enable_qi: IQA.DW, QS 1). */
static void qi_enable_dw(struct fx *f)
{
    w64(f, VTD_REG_IQA, IQ | VTD_IQA_DW | 1);
    assert_int_equal(r64(f, VTD_REG_IQA), IQ | VTD_IQA_DW | 1);
    w64(f, VTD_REG_IQT, 0);
    gcmd(f, VTD_GCMD_QIE);
    assert_true(r32(f, VTD_REG_GSTS) & VTD_GSTS_QIES);
}

static void qi_run1(struct fx *f, const struct vtd_inv_desc *d)
{
    uint64_t tail = r64(f, VTD_REG_IQT);
    uint8_t raw[32] = {0};
    vtd_inv_desc_encode(d, raw);
    assert_int_equal(mem_phys_write(f->ram, IQ + tail, raw, 32, NULL), 0);
    w64(f, VTD_REG_IQT, (tail + 32) & 0x1fff);
    assert_false(r32(f, VTD_REG_FSTS) & VTD_FSTS_IQE);
    assert_int_equal(r64(f, VTD_REG_IQH), (tail + 32) & 0x1fff);
}

/* ---- formats ---- */

static void formats_round_trip_at_their_bits(void **state)
{
    (void)state;
    uint8_t raw[64];
    /* root entry: LP bit 0 / LCTP 63:12, UP bit 64 / UCTP 127:76 */
    struct vtd_sm_root_entry re = {.lp = true, .lctp = 0x12345000, .up = true, .uctp = 0x6789a000},
                             re2;
    vtd_sm_root_entry_encode(&re, raw);
    assert_int_equal(sim_get_le64(raw), 0x12345001ull);
    assert_int_equal(sim_get_le64(raw + 8), 0x6789a001ull);
    uint8_t back[64];
    vtd_sm_root_entry_decode(raw, &re2);
    assert_true(re2.lp && re2.up);
    assert_int_equal(re2.uctp, 0x6789a000);
    vtd_sm_root_entry_encode(&re2, back);
    assert_memory_equal(raw, back, 16);
    assert_int_equal(vtd_sm_root_entry_reserved(raw, false, 39), 0);
    sim_put_le64(raw + 8, 0x8000000001ull | 1 << 5);
    assert_int_equal(vtd_sm_root_entry_reserved(raw, true, 39), 0x8000000000ull | 1 << 5);
    /* context entry (Linux v6.1 iommu.h: PASIDE bit 3, PDTS 11:9, DTE bit 2,
     * PRE bit 4; RID_PASID 83:64) */
    struct vtd_sm_context_entry ce = {.p = true, .fpd = true, .dte = true, .paside = true,
                                      .pre = true, .pdts = 5, .pasiddirptr = 0xabcd000,
                                      .rid_pasid = 0x12345, .rid_priv = true},
                                ce2;
    vtd_sm_context_entry_encode(&ce, raw);
    assert_int_equal(sim_get_le64(raw), 0xabcd000ull | 5 << 9 | 0x1f);
    assert_int_equal(sim_get_le64(raw + 8), 0x112345ull);
    vtd_sm_context_entry_decode(raw, &ce2);
    assert_true(ce2.p && ce2.fpd && ce2.dte && ce2.paside && ce2.pre && ce2.rid_priv);
    assert_int_equal(ce2.pdts, 5);
    assert_int_equal(ce2.rid_pasid, 0x12345);
    assert_int_equal(ce2.pasiddirptr, 0xabcd000);
    vtd_sm_context_entry_encode(&ce2, back);
    assert_memory_equal(raw, back, 32);
    uint64_t r[8];
    assert_true(vtd_sm_context_entry_reserved(raw, 39, 0, r)); /* RID_PASID / PRIV w/o RPS */
    assert_int_equal(r[1], 0x112345ull);
    assert_false(vtd_sm_context_entry_reserved(raw, 39, VTD_ECAP_RPS | VTD_ECAP_RPRIVS, r));
    sim_put_le64(raw, sim_get_le64(raw) | 1 << 5);
    sim_put_le64(raw + 24, 1);
    assert_true(vtd_sm_context_entry_reserved(raw, 39, VTD_ECAP_RPS | VTD_ECAP_RPRIVS, r));
    assert_int_equal(r[0], 1 << 5);
    assert_int_equal(r[3], 1);
    /* PASID directory entry */
    struct vtd_pasid_dir_entry de = {.p = true, .fpd = true, .smptblptr = 0x7000}, de2;
    uint64_t dv = vtd_pasid_dir_entry_encode(&de);
    assert_int_equal(dv, 0x7003);
    vtd_pasid_dir_entry_decode(dv, &de2);
    assert_true(de2.p && de2.fpd);
    assert_int_equal(vtd_pasid_dir_entry_encode(&de2), dv);
    assert_int_equal(vtd_pasid_dir_entry_reserved(dv | 1 << 2 | 1ull << 40, 39),
                     1 << 2 | 1ull << 40);
    /* PASID table entry (Linux v6.1 pasid.c: AW 4:2, PGTT 8:6, SLPTPTR; DID
     * val[1] 15:0, PWSNP 23, PGSNP 24; SRE val[2] bit 0, FLPM 3:2, WPE 4,
     * FLPTPTR) */
    struct vtd_pasid_entry pe = {.p = true, .fpd = true, .aw = 2, .slee = true, .pgtt = 3,
                                 .slade = true, .slptptr = 0x11000, .did = 0x1234,
                                 .pwsnp = true, .pgsnp = true, .cd = true, .emte = true,
                                 .emt = 5, .pwt = true, .pcd = true, .pat = 0x07060504,
                                 .sre = true, .ere = true, .flpm = 1, .wpe = true,
                                 .nxe = true, .smep = true, .eafe = true, .flptptr = 0x22000},
                           pe2;
    vtd_pasid_entry_encode(&pe, raw);
    assert_int_equal(sim_get_le64(raw), 0x11000ull | 1 << 9 | 3 << 6 | 1 << 5 | 2 << 2 | 3);
    assert_int_equal(sim_get_le64(raw + 8), 0x0706050400000000ull | 1ull << 31 | 1 << 30 |
                                                5 << 27 | 1 << 26 | 1 << 25 | 1 << 24 |
                                                1 << 23 | 0x1234);
    assert_int_equal(sim_get_le64(raw + 16), 0x22000ull | 0xf7);
    for (int q = 3; q < 8; q++)
        assert_int_equal(sim_get_le64(raw + 8 * q), 0);
    vtd_pasid_entry_decode(raw, &pe2);
    assert_int_equal(pe2.did, 0x1234);
    assert_int_equal(pe2.pgtt, 3);
    assert_int_equal(pe2.aw, 2);
    assert_int_equal(pe2.emt, 5);
    assert_int_equal(pe2.pat, 0x07060504);
    assert_int_equal(pe2.flpm, 1);
    assert_int_equal(pe2.flptptr, 0x22000);
    assert_true(pe2.sre && pe2.ere && pe2.wpe && pe2.eafe && pe2.slade && pe2.slee);
    vtd_pasid_entry_encode(&pe2, back);
    assert_memory_equal(raw, back, 64);
    /* on QEMU's SM unit: SLADE, ERE, EAFE, NXE, SMEP, FLPM 1 are reserved, SRE is not */
    assert_true(vtd_pasid_entry_reserved(raw, 39, 16, 0x00d2008c22260206ull,
                                         0x0000480080f00f4aull, r));
    assert_int_equal(r[0], 1 << 9);
    assert_int_equal(r[2], 0xe2ull | 1 << 2); /* FLPM 01b without FL5LP */
    struct vtd_pasid_entry ok = {.p = true, .pgtt = VTD_PGTT_SL, .aw = 1, .did = 9,
                                 .slptptr = 0x5000, .sre = true};
    vtd_pasid_entry_encode(&ok, raw);
    assert_false(vtd_pasid_entry_reserved(raw, 39, 16, 0x00d2008c22260206ull,
                                          0x0000480080f00f4aull, r));
    ok.did = 0x100; /* beyond ND 2's 8-bit domain IDs */
    vtd_pasid_entry_encode(&ok, raw);
    assert_true(vtd_pasid_entry_reserved(raw, 39, 8, 0, VTD_ECAP_SRS, r));
    assert_int_equal(r[1], 0x100);
    assert_int_equal(r[2], 0);
    /* first-level entries: the x86 layout */
    struct vtd_fl_pte fp = {.p = true, .rw = true, .us = true, .pwt = true, .pcd = true,
                            .a = true, .d = true, .ps = true, .g = true, .ea = true,
                            .addr = 0x40000000, .pat = true, .xd = true},
                      fp2;
    uint64_t fv = vtd_fl_pte_encode(&fp, 2);
    assert_int_equal(fv, 0x8000000040001000ull | 0x5ff);
    vtd_fl_pte_decode(fv, 2, &fp2);
    assert_true(fp2.ps && fp2.pat && fp2.xd && fp2.ea && fp2.d && fp2.a);
    assert_int_equal(fp2.addr, 0x40000000);
    assert_int_equal(vtd_fl_pte_encode(&fp2, 2), fv);
    vtd_fl_pte_decode(0x1080 | 1, 1, &fp2); /* a 4 KiB page: bit 7 is PAT */
    assert_true(fp2.pat);
    assert_false(fp2.ps);
    assert_int_equal(fp2.addr, 0x1000);
    assert_int_equal(vtd_fl_pte_reserved(fv | 0x2000, 2, 39, 0), 0x2000); /* bit 13 of a 2M page */
    assert_int_equal(vtd_fl_pte_reserved(fv, 3, 39, 0), 1 << 7);         /* 1G without FL1GP */
    assert_int_equal(vtd_fl_pte_reserved(fv, 3, 39, VTD_CAP_FL1GP), 0x40000000ull & 0x3fffe000);
    assert_int_equal(vtd_fl_pte_reserved(0x8000000000ull | 1, 1, 39, 0), 0x8000000000ull);
    /* descriptors of an SMTS unit: PASID cache and PASID-based IOTLB */
    struct vtd_inv_desc pc = {.type = VTD_DESC_PC, .g = VTD_PC_G_PASID, .did = 7,
                              .pasid = 0xabcde}, d;
    memset(raw, 0, sizeof raw);
    vtd_inv_desc_encode(&pc, raw);
    assert_int_equal(sim_get_le64(raw), 0x7 | 1 << 4 | 7 << 16 | 0xabcdeull << 32);
    assert_false(vtd_inv_desc_decode_sm(raw, true, &d, r));
    assert_int_equal(d.pasid, 0xabcde);
    assert_int_equal(d.did, 7);
    assert_true(vtd_inv_desc_decode(raw, &d, NULL)); /* not on a legacy unit */
    sim_put_le64(raw + 16, 1);
    assert_true(vtd_inv_desc_decode_sm(raw, true, &d, r)); /* 255:128 reserved */
    assert_int_equal(r[2], 1);
    assert_false(vtd_inv_desc_decode_sm(raw, false, &d, NULL)); /* a 128-bit queue: not read */
    struct vtd_inv_desc pi = {.type = VTD_DESC_PIOTLB, .g = VTD_PIOTLB_G_PAGE, .did = 3,
                              .pasid = 1, .addr = 0x123000, .am = 2, .ih = true};
    memset(raw, 0, sizeof raw);
    vtd_inv_desc_encode(&pi, raw);
    assert_int_equal(sim_get_le64(raw), 0x6 | 3 << 4 | 3 << 16 | 1ull << 32);
    assert_int_equal(sim_get_le64(raw + 8), 0x123000 | 1 << 6 | 2);
    assert_false(vtd_inv_desc_decode_sm(raw, true, &d, NULL));
    assert_int_equal(d.addr, 0x123000);
    assert_int_equal(d.am, 2);
    assert_true(d.ih);
    sim_put_le64(raw, sim_get_le64(raw) | 1ull << 52);
    assert_true(vtd_inv_desc_decode_sm(raw, true, &d, NULL));
}

/* ---- translation ---- */

/* QEMU 7.2's x-scalable-mode=on unit, read with qtest. */
static void qemu_sm_preset(void **state)
{
    (void)state;
    struct vtd_config c, q;
    vtd_config_qemu_sm(&c);
    vtd_config_qemu(&q);
    assert_int_equal(c.ver, 0x10);
    assert_int_equal(c.cap, 0x00d2008c22260206ull);
    assert_int_equal(c.ecap, 0x0000480080f00f4aull);
    assert_int_equal(c.ecap & ~q.ecap, VTD_ECAP_SRS | VTD_ECAP_SMTS | VTD_ECAP_SLTS);
    assert_int_equal(q.ecap, 0x0000000000f00f4aull); /* the legacy preset is unchanged */
}

static void second_level_through_rid_pasid(void **state)
{
    struct fx *f = *state;
    assert_int_equal(r64(f, VTD_REG_RTADDR), ROOT | 1 << 10); /* TTM reads back */
    uint64_t root = table(f);
    struct vtd_pasid_entry pe = {.p = true, .pgtt = VTD_PGTT_SL, .aw = VTD_AW_39, .did = DID,
                                 .slptptr = root};
    sm_device(f, &pe, false);
    sl_map(f, root, 0x7000, 0x23456000ull, false);
    struct iommu_result r;
    xlate(f, 0x7123, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x23456123ull);
    assert_int_equal(r.domain, DID);
    assert_int_equal(r.page_shift, 12);
    assert_int_equal(r.perm, IOMMU_PERM_R);
    assert_false(r.iotlb_hit);
    struct vtd_stats st;
    vtd_get_stats(f->v, &st);
    assert_int_equal(st.pasid_reads, 2); /* directory entry, table entry */
    assert_int_equal(st.table_reads, 3);
    xlate(f, 0x7ff0, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_true(r.iotlb_hit);
    assert_int_equal(r.pa, 0x23456ff0ull);
    vtd_get_stats(f->v, &st);
    assert_int_equal(st.pasid_reads, 2); /* the PASID cache */
    /* a write to the read-only page: reason 0x85, the PASID entry's DID */
    xlate(f, 0x7000, IOMMU_PERM_W, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_SM_WRITE);
    struct seen s = frcd(f, 0);
    assert_true(s.f);
    assert_int_equal(s.reason, 0x85);
    assert_int_equal(s.sid, DEV);
    assert_false(s.pp); /* no PASID in the request */
    assert_string_equal(vtd_fault_reason_linux(s.reason, true, NULL),
                        "SM: No write permission for Write/AtomicOp request");
    /* an unmapped page and an address beyond AW 39 */
    clear_frcd(f, 0);
    xlate(f, 0x9000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_READ);
    assert_int_equal(r.fault, IOMMU_FAULT_NOT_PRESENT);
    xlate(f, 1ull << 39, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_BEYOND_AW);
    assert_string_equal(vtd_fault_reason_linux(0x83, true, NULL),
                        "SM: Address beyond the DMA hardware max");
}

static void pass_through(void **state)
{
    struct fx *f = *state;
    struct vtd_pasid_entry pe = {.p = true, .pgtt = VTD_PGTT_PT, .did = 2};
    sm_device(f, &pe, false);
    struct iommu_result r;
    xlate(f, 0x12345678ull, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x12345678ull);
    assert_int_equal(r.page_shift, 64);
    assert_int_equal(r.domain, 2);
    /* first-level is not in QEMU 7.2's ECAP (no FLTS): an invalid entry, 0x5b */
    pe.pgtt = VTD_PGTT_FL;
    set_pasid(f, 0, &pe);
    struct vtd_inv_desc pc = {.type = VTD_DESC_PC, .g = VTD_PC_G_GLOBAL};
    qi_enable_dw(f);
    qi_run1(f, &pc);
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_SM_PTE_INVALID);
    assert_int_equal(frcd(f, 0).reason, 0x5b);
    assert_string_equal(vtd_fault_reason_linux(0x5b, true, NULL),
                        "SM: Invalid Scalable-Mode PASID Table Entry");
}

static void first_level_four_levels_with_a_2m_page(void **state)
{
    struct fx *f = *state;
    uint64_t root = table(f), ea[4];
    struct vtd_pasid_entry pe = {.p = true, .pgtt = VTD_PGTT_FL, .did = DID, .flptptr = root};
    sm_device(f, &pe, false);
    fl_map(f, root, 0x40200000ull, 0x80000000ull, 2, true, true, ea);
    struct iommu_result r;
    xlate(f, 0x40212345ull, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x80012345ull);
    assert_int_equal(r.page_shift, 21);
    assert_int_equal(r.domain, DID);
    /* A set at every level, D not (a read) */
    for (int i = 0; i < 3; i++)
        assert_true(get64(f, ea[i]) & 1 << 5);
    assert_false(get64(f, ea[2]) & 1 << 6);
    /* the IOTLB holds it without W until D is set: a write walks and sets D */
    xlate(f, 0x40200000ull, IOMMU_PERM_R, &r);
    assert_true(r.iotlb_hit);
    xlate(f, 0x40200010ull, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_false(r.iotlb_hit);
    assert_true(get64(f, ea[2]) & 1 << 6);
    xlate(f, 0x40200020ull, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    assert_true(r.iotlb_hit);
    /* read-only 4 KiB page: 0x85; supervisor-only page: 0x81 (U/S) */
    fl_map(f, root, 0x1000, 0x5000, 1, false, true, ea);
    xlate(f, 0x1000, IOMMU_PERM_W, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_WRITE);
    fl_map(f, root, 0x2000, 0x6000, 1, true, false, ea);
    xlate(f, 0x2000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_US);
    assert_string_equal(vtd_fault_reason_linux(0x81, true, NULL),
                        "SM: U/S set 0 for first-level translation with user privilege");
    /* not present, non-canonical */
    xlate(f, 0x3000, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_FL_P);
    xlate(f, 0x0000800000000000ull, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_NONCANONICAL);
    /* a 1 GiB page (CAP.FL1GP in this configuration) */
    fl_map(f, root, 0xc0000000ull, 0x40000000ull, 3, true, true, ea);
    xlate(f, 0xc1234567ull, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x41234567ull);
    assert_int_equal(r.page_shift, 30);
    /* reserved bit 13 in a 2 MiB leaf */
    fl_map(f, root, 0x40400000ull, 0x80002000ull & ~0x1000ull, 2, true, true, ea);
    xlate(f, 0x40400000ull, IOMMU_PERM_R, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_FL_RSVD);
}

static void request_with_pasid(void **state)
{
    struct fx *f = *state;
    uint64_t root = table(f), ea[4];
    struct vtd_pasid_entry pe = {.p = true, .pgtt = VTD_PGTT_FL, .did = DID, .flptptr = root};
    sm_device(f, &pe, false);
    set_pasid(f, 3, &pe);
    fl_map(f, root, 0x1000, 0x9000, 1, true, true, ea);
    struct iommu_req q = {.rid = DEV, .has_pasid = true, .pasid = 3, .addr = 0x1000, .size = 4,
                          .access = IOMMU_PERM_R};
    struct iommu_result r;
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_CTX_PASIDE); /* PASIDE = 0 */
    struct seen s = frcd(f, 0);
    assert_true(s.pp);
    assert_int_equal(s.pasid, 3);
    clear_frcd(f, 0);
    sm_device(f, &pe, true);
    struct vtd_inv_desc cc = {.type = VTD_DESC_CC, .g = VTD_GRAN_GLOBAL};
    qi_enable_dw(f);
    qi_run1(f, &cc);
    iommu_translate(f->io, &q, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x9000);
    /* a supervisor request needs SRE (0x5d) */
    q.priv = true;
    q.addr = 0x1800;
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_SRE);
    /* a PASID beyond the 128-entry directory (PDTS 0): 0x46 */
    q.priv = false;
    q.pasid = 128 << 6;
    iommu_translate(f->io, &q, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_PASID_BIG);
}

static void pasid_directory_entry_not_present(void **state)
{
    struct fx *f = *state;
    struct vtd_pasid_entry pe = {.p = true, .pgtt = VTD_PGTT_PT, .did = 1};
    sm_device(f, &pe, false);
    put64(f, PDIR, 0); /* directory entry 0 not present */
    struct iommu_result r;
    xlate(f, 0x4000, IOMMU_PERM_W, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_SM_PDE_P);
    assert_int_equal(r.fault, IOMMU_FAULT_DEVICE_INVALID);
    assert_true(r.logged);
    struct seen s = frcd(f, 0);
    assert_true(s.f);
    assert_int_equal(s.reason, 0x51);
    assert_int_equal(s.addr, 0x4000);
    assert_int_equal(s.sid, DEV);
    assert_string_equal(vtd_fault_reason_linux(0x51, true, NULL),
                        "SM: Present bit in Directory Entry is clear");
    /* FPD in the directory entry suppresses it (a qualified fault) */
    clear_frcd(f, 0);
    put64(f, PDIR, 2);
    xlate(f, 0x4000, IOMMU_PERM_W, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_PDE_P);
    assert_false(r.logged);
    assert_false(frcd(f, 1).f);
    /* reserved bits there: 0x52, recorded whatever FPD */
    put64(f, PDIR, PTBL | 1 | 1 << 5);
    xlate(f, 0x4000, IOMMU_PERM_W, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_PDE_RSVD);
    assert_true(r.logged);
    /* root entry's lower half not present: 0x39 */
    uint8_t z[16] = {0};
    mem_phys_write(f->ram, ROOT, z, 16, NULL);
    struct vtd_inv_desc cc = {.type = VTD_DESC_CC, .g = VTD_GRAN_GLOBAL};
    qi_enable_dw(f);
    qi_run1(f, &cc);
    xlate(f, 0x4000, IOMMU_PERM_W, &r);
    assert_int_equal(r.arch_code, VTD_FR_SM_ROOT_P);
}

static void stale_pasid_cache_until_pasid_cache_invalidation(void **state)
{
    struct fx *f = *state;
    qi_enable_dw(f);
    uint64_t root = table(f);
    struct vtd_pasid_entry pe = {.p = true, .pgtt = VTD_PGTT_SL, .aw = VTD_AW_39, .did = DID,
                                 .slptptr = root};
    sm_device(f, &pe, false);
    sl_map(f, root, 0x1000, 0x31000, true);
    sl_map(f, root, 0x2000, 0x32000, true);
    struct iommu_result r;
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    /* software clears the PASID entry; the unit keeps using its cached copy */
    struct vtd_pasid_entry gone = {0};
    set_pasid(f, 0, &gone);
    xlate(f, 0x2000, IOMMU_PERM_R, &r); /* an IOTLB miss: walks with the stale entry */
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x32000);
    /* an IOTLB invalidation does not drop the PASID cache */
    struct vtd_inv_desc piotlb = {.type = VTD_DESC_PIOTLB, .g = VTD_PIOTLB_G_PASID, .did = DID,
                                  .pasid = 0};
    qi_run1(f, &piotlb);
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_false(r.iotlb_hit);
    /* a PASID-cache invalidation of another PASID neither */
    struct vtd_inv_desc pc = {.type = VTD_DESC_PC, .g = VTD_PC_G_PASID, .did = DID, .pasid = 1};
    qi_run1(f, &pc);
    xlate(f, 0x3000 - 0x1000, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    /* the PASID-selective one for (DID, 0) does */
    pc.pasid = 0;
    qi_run1(f, &pc);
    struct vtd_stats st;
    vtd_get_stats(f->v, &st);
    assert_int_equal(st.pc_invalidations, 2);
    /* the PASID entry is read again (before the IOTLB, whose tag needs its DID) */
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_SM_PTE_P);
    assert_int_equal(frcd(f, 0).reason, 0x59);
    /* a reserved PASID-cache granularity (10b) is a queue error */
    uint64_t tail = r64(f, VTD_REG_IQT);
    struct vtd_inv_desc bad = {.type = VTD_DESC_PC, .g = 2};
    uint8_t raw[32] = {0};
    vtd_inv_desc_encode(&bad, raw);
    mem_phys_write(f->ram, IQ + tail, raw, 32, NULL);
    w64(f, VTD_REG_IQT, tail + 32);
    assert_true(r32(f, VTD_REG_FSTS) & VTD_FSTS_IQE);
    assert_int_equal(r64(f, VTD_REG_IQH), tail);
}

static void stale_iotlb_until_pasid_based_invalidation(void **state)
{
    struct fx *f = *state;
    qi_enable_dw(f);
    uint64_t root = table(f);
    struct vtd_pasid_entry pe = {.p = true, .pgtt = VTD_PGTT_SL, .aw = VTD_AW_39, .did = DID,
                                 .slptptr = root};
    sm_device(f, &pe, false);
    uint64_t ea = sl_map(f, root, 0x5000, 0x45000, true);
    struct iommu_result r;
    xlate(f, 0x5000, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    put64(f, ea, 0);
    xlate(f, 0x5000, IOMMU_PERM_W, &r);
    assert_true(r.ok); /* stale */
    assert_true(r.iotlb_hit);
    /* page-selective for another PASID: still there */
    struct vtd_inv_desc pi = {.type = VTD_DESC_PIOTLB, .g = VTD_PIOTLB_G_PAGE, .did = DID,
                              .pasid = 1, .addr = 0x5000};
    qi_run1(f, &pi);
    xlate(f, 0x5000, IOMMU_PERM_W, &r);
    assert_true(r.ok);
    pi.pasid = 0;
    qi_run1(f, &pi);
    xlate(f, 0x5000, IOMMU_PERM_W, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_SM_WRITE);
}

static void ttm_ignored_without_smts(void **state)
{
    (void)state;
    /* the legacy preset: TTM reads 0 and legacy tables are used */
    struct fx *f = fx_up(vtd_config_qemu, NULL, VTD_TTM_SCALABLE);
    assert_int_equal(r64(f, VTD_REG_RTADDR), ROOT);
    uint64_t root = table(f);
    uint8_t raw[16];
    struct vtd_root_entry re = {.p = true, .ctp = CTX};
    vtd_root_entry_encode(&re, raw);
    mem_phys_write(f->ram, ROOT, raw, 16, NULL);
    struct vtd_context_entry ce = {.p = true, .tt = VTD_TT_SLT, .slptptr = root,
                                   .aw = VTD_AW_39, .did = 4};
    vtd_context_entry_encode(&ce, raw);
    mem_phys_write(f->ram, CTX + (DEV & 0xff) * 16, raw, 16, NULL);
    sl_map(f, root, 0x1000, 0x77000, true);
    struct iommu_result r;
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_true(r.ok);
    assert_int_equal(r.pa, 0x77000);
    assert_int_equal(r.domain, 4);
    /* IQA.DW is not writable either, and type 7 is an unknown descriptor */
    w64(f, VTD_REG_IQA, IQ | VTD_IQA_DW);
    assert_int_equal(r64(f, VTD_REG_IQA), IQ);
    teardown((void **)&f);
}

static void adms(struct vtd_config *c)
{
    c->ecap |= VTD_ECAP_ADMS;
}

static void reserved_ttm_and_abort_dma(void **state)
{
    (void)state;
    struct fx *f = fx_up(vtd_config_qemu_sm, NULL, VTD_TTM_ABORT);
    struct iommu_result r;
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_int_equal(r.arch_code, VTD_FR_SM_RTA_INVALID); /* 11b without ECAP.ADMS */
    assert_int_equal(frcd(f, 0).reason, 0x30);
    teardown((void **)&f);
    f = fx_up(vtd_config_qemu_sm, adms, VTD_TTM_ABORT);
    xlate(f, 0x1000, IOMMU_PERM_R, &r);
    assert_false(r.ok);
    assert_int_equal(r.cpl, PCIE_CPL_UR);
    assert_false(r.logged);
    assert_false(frcd(f, 0).f);
    teardown((void **)&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_round_trip_at_their_bits),
        cmocka_unit_test(qemu_sm_preset),
        cmocka_unit_test_setup_teardown(second_level_through_rid_pasid, sm_setup, teardown),
        cmocka_unit_test_setup_teardown(pass_through, sm_setup, teardown),
        cmocka_unit_test_setup_teardown(first_level_four_levels_with_a_2m_page, fl_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(request_with_pasid, fl_setup, teardown),
        cmocka_unit_test_setup_teardown(pasid_directory_entry_not_present, sm_setup, teardown),
        cmocka_unit_test_setup_teardown(stale_pasid_cache_until_pasid_cache_invalidation,
                                        sm_setup, teardown),
        cmocka_unit_test_setup_teardown(stale_iotlb_until_pasid_based_invalidation, sm_setup,
                                        teardown),
        cmocka_unit_test(ttm_ignored_without_smts),
        cmocka_unit_test(reserved_ttm_and_abort_dma),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
