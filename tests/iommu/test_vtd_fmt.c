/* VT-d formats: known byte patterns computed by hand from the spec's
 * figures (and the field macros of Linux v6.1 intel-iommu.h), every field
 * round-tripping, reserved-bit detection, Linux's fault reason strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "iommu/vtd_fmt.h"
#include "sim/bytes.h"

static void root_entry_bytes_and_reserved(void **state)
{
    (void)state;
    struct vtd_root_entry r = {.p = true, .ctp = 0x12345000ull}, b;
    uint8_t raw[16];
    uint64_t rsvd[2];
    vtd_root_entry_encode(&r, raw);
    assert_int_equal(sim_get_le64(raw), 0x12345001ull);
    assert_int_equal(sim_get_le64(raw + 8), 0);
    vtd_root_entry_decode(raw, &b);
    assert_true(b.p);
    assert_int_equal(b.ctp, 0x12345000ull);
    assert_false(vtd_root_entry_reserved(raw, 39, rsvd));
    sim_put_le64(raw, 0x12345001ull | 1ull << 40 | 1ull << 3); /* above HAW, bit 3 */
    assert_true(vtd_root_entry_reserved(raw, 39, rsvd));
    assert_int_equal(rsvd[0], 1ull << 40 | 1ull << 3);
    assert_true(vtd_root_entry_reserved(raw, 48, rsvd)); /* bit 40 fits 48 bits, bit 3 not */
    assert_int_equal(rsvd[0], 1ull << 3);
    sim_put_le64(raw, 0x12345001ull);
    sim_put_le64(raw + 8, 1); /* upper half reserved in legacy mode */
    assert_true(vtd_root_entry_reserved(raw, 39, rsvd));
    assert_int_equal(rsvd[1], 1);
}

static void context_entry_bytes_round_trip_reserved(void **state)
{
    (void)state;
    struct vtd_context_entry c = {.p = true, .fpd = true, .tt = VTD_TT_PT,
                                  .slptptr = 0xabc000ull, .aw = VTD_AW_39, .avail = 0xa,
                                  .did = 0x1234}, b;
    uint8_t raw[16];
    uint64_t rsvd[2];
    vtd_context_entry_encode(&c, raw);
    assert_int_equal(sim_get_le64(raw), 0xabc000ull | 1 | 2 | 2 << 2);
    assert_int_equal(sim_get_le64(raw + 8), 1 | 0xa << 3 | 0x1234ull << 8);
    vtd_context_entry_decode(raw, &b);
    assert_true(b.p);
    assert_true(b.fpd);
    assert_int_equal(b.tt, VTD_TT_PT);
    assert_int_equal(b.slptptr, 0xabc000ull);
    assert_int_equal(b.aw, VTD_AW_39);
    assert_int_equal(b.avail, 0xa);
    assert_int_equal(b.did, 0x1234);
    assert_false(vtd_context_entry_reserved(raw, 39, 16, rsvd));
    /* 8 domain-id bits (CAP.ND = 2): DID 0x1234 uses bits 12 and 9: reserved */
    assert_true(vtd_context_entry_reserved(raw, 39, 8, rsvd));
    assert_int_equal(rsvd[1], 0x1200ull << 8);
    /* bit 71 (hi bit 7), bit 4 */
    sim_put_le64(raw + 8, 1 | 1ull << 7);
    sim_put_le64(raw, 0xabc001ull | 1ull << 4);
    assert_true(vtd_context_entry_reserved(raw, 39, 16, rsvd));
    assert_int_equal(rsvd[0], 1ull << 4);
    assert_int_equal(rsvd[1], 1ull << 7);
}

static void sl_pte_bits_and_reserved(void **state)
{
    (void)state;
    struct vtd_sl_pte p = {.r = true, .w = true, .snp = true, .addr = 0x40000000ull}, b;
    uint64_t v = vtd_sl_pte_encode(&p);
    assert_int_equal(v, 0x40000000ull | 3 | 1ull << 11);
    vtd_sl_pte_decode(v, &b);
    assert_true(b.r && b.w && b.snp);
    assert_false(b.ps || b.tm || b.x);
    assert_int_equal(b.addr, 0x40000000ull);
    uint64_t cap = 3ull << VTD_CAP_SLLPS_SHIFT; /* 2M and 1G */
    /* SNP reserved without ECAP.SC (QEMU's default), allowed with it on a leaf */
    assert_int_equal(vtd_sl_pte_reserved(v, 1, 39, cap, 0), 1ull << 11);
    assert_int_equal(vtd_sl_pte_reserved(v, 1, 39, cap, VTD_ECAP_SC), 0);
    /* ... but not in a non-leaf entry */
    assert_int_equal(vtd_sl_pte_reserved(v, 2, 39, cap, VTD_ECAP_SC), 1ull << 11);
    /* PS in a PML4E */
    assert_int_equal(vtd_sl_pte_reserved(0x1000ull | 3 | 1ull << 7, 4, 48, cap, 0), 1ull << 7);
    /* a 2 MiB page: address bits 20:12 reserved */
    uint64_t big = 0x200000ull | 0x3000ull | 3 | 1ull << 7;
    assert_int_equal(vtd_sl_pte_reserved(big, 2, 39, cap, 0), 0x3000ull);
    /* a 1 GiB page without CAP.SLLPS bit 1 */
    assert_int_equal(vtd_sl_pte_reserved(0x40000000ull | 3 | 1ull << 7, 3, 39, 1ull << 34, 0),
                     1ull << 7);
    /* address above the host address width; ignored bits 61:52 and 63 */
    assert_int_equal(vtd_sl_pte_reserved(1ull << 40 | 3, 1, 39, cap, 0), 1ull << 40);
    assert_int_equal(vtd_sl_pte_reserved(1ull << 63 | 1ull << 55 | 3, 1, 39, cap, 0), 0);
    /* TM reserved without ECAP.DT */
    assert_int_equal(vtd_sl_pte_reserved(1ull << 62 | 3, 1, 39, cap, 0), 1ull << 62);
    assert_int_equal(vtd_sl_pte_reserved(1ull << 62 | 3, 1, 39, cap, VTD_ECAP_DT), 0);
    assert_true(vtd_sl_pte_present(1));
    assert_false(vtd_sl_pte_present(0x1000));
}

/* The fault record as Linux v6.1 dmar_fault() reads it: the dword at +12
 * (F bit 31, T bit 30, FR 7:0, PASID (>> 8) & 0xfffff), the dword at +8
 * (SID 15:0, PASID present bit 31), the qword at +0 (page address). */
static void fault_record_as_linux_reads_it(void **state)
{
    (void)state;
    struct vtd_fault_record f = {.fi = 0xfeed1234ull, .sid = 0x0318, .pp = true,
                                 .pv = 0xabcde, .fr = VTD_FR_READ, .t1 = true, .f = true,
                                 .priv = true, .exe = true, .at = 2, .t2 = true}, b;
    uint8_t raw[16];
    vtd_fault_record_encode(&f, raw);
    uint32_t d12 = sim_get_le32(raw + 12), d8 = sim_get_le32(raw + 8);
    assert_true(d12 >> 31 & 1);
    assert_int_equal(d12 >> 30 & 1, 1);
    assert_int_equal(d12 & 0xff, 6);
    assert_int_equal((d12 >> 8) & 0xfffff, 0xabcde);
    assert_int_equal(d8 & 0xffff, 0x0318);
    assert_int_equal(d8 >> 31, 1);
    assert_int_equal(sim_get_le64(raw), 0xfeed1000ull); /* bits 11:0 reserved */
    vtd_fault_record_decode(raw, &b);
    assert_int_equal(b.fi, 0xfeed1000ull);
    assert_int_equal(b.sid, 0x0318);
    assert_true(b.pp && b.priv && b.exe && b.t1 && b.f && b.t2);
    assert_int_equal(b.pv, 0xabcde);
    assert_int_equal(b.fr, 6);
    assert_int_equal(b.at, 2);
    assert_int_equal(vtd_fault_fi_index(0x1f) >> 48, 0x1f);
}

static void fault_reasons_linux_strings(void **state)
{
    (void)state;
    enum vtd_linux_fault_type t;
    assert_string_equal(vtd_fault_reason_linux(5, true, &t), "PTE Write access is not set");
    assert_int_equal(t, VTD_LINUX_DMA_REMAP);
    assert_string_equal(vtd_fault_reason_linux(6, false, &t), "PTE Read access is not set");
    assert_string_equal(vtd_fault_reason_linux(2, true, NULL),
                        "Present bit in context entry is clear");
    assert_string_equal(vtd_fault_reason_linux(0xd, true, NULL),
                        "PCE for translation request specifies blocking");
    assert_string_equal(vtd_fault_reason_linux(0x25, true, &t),
                        "Blocked a compatibility format interrupt request");
    assert_int_equal(t, VTD_LINUX_INTR_REMAP);
    assert_string_equal(vtd_fault_reason_linux(0x26, false, &t),
                        "Blocked an interrupt request due to source-id verification failure");
    /* 0x27 is past Linux's interrupt table: Unknown */
    assert_string_equal(vtd_fault_reason_linux(0x27, true, &t), "Unknown");
    assert_int_equal(t, VTD_LINUX_UNKNOWN);
    assert_string_equal(vtd_fault_reason_linux(0xe, true, &t), "Unknown");
    /* scalable-mode table only from v5.5 */
    assert_string_equal(vtd_fault_reason_linux(0x30, true, &t), "SM: Invalid Root Table Address");
    assert_int_equal(t, VTD_LINUX_DMA_REMAP);
    assert_string_equal(vtd_fault_reason_linux(0x30, false, &t), "Unknown");
    assert_string_equal(vtd_fault_reason_linux(0x33, true, &t), "Unknown");
    assert_int_equal(t, VTD_LINUX_DMA_REMAP);
    assert_string_equal(vtd_fault_reason_linux(0x90, true, NULL),
                        "SM: A/D bit update needed in first-level entry when set up in no snoop");
    assert_string_equal(vtd_fault_reason_linux(0x91, true, NULL), "Unknown");
    /* qualified faults (7.2, 5.1.4.1) */
    assert_false(vtd_fault_qualified(VTD_FR_ROOT_P));
    assert_true(vtd_fault_qualified(VTD_FR_CTX_P));
    assert_true(vtd_fault_qualified(VTD_FR_WRITE));
    assert_false(vtd_fault_qualified(VTD_FR_CTX_RSVD));
    assert_false(vtd_fault_qualified(VTD_FR_IR_COMPAT));
    assert_true(vtd_fault_qualified(VTD_FR_IR_P));
    assert_string_equal(vtd_fault_reason_name(4), "address beyond the address width");
    assert_true(vtd_fault_is_interrupt(0x21));
    assert_false(vtd_fault_is_interrupt(0x30));
}

/* Descriptors as Linux v6.1 builds them (QI_* macros of intel-iommu.h). */
static void inv_descriptors(void **state)
{
    (void)state;
    uint8_t raw[16];
    uint64_t rsvd[2];
    struct vtd_inv_desc d;
    /* wait: QI_IWD_TYPE | QI_IWD_STATUS_DATA(QI_DONE = 1) | QI_IWD_STATUS_WRITE | FENCE */
    sim_put_le64(raw, 0x5 | 1ull << 32 | 1ull << 5 | 1ull << 6);
    sim_put_le64(raw + 8, 0x7fff1234ull);
    assert_false(vtd_inv_desc_decode(raw, &d, rsvd));
    assert_int_equal(d.type, VTD_DESC_WAIT);
    assert_true(d.sw && d.fn);
    assert_false(d.iflag || d.pd);
    assert_int_equal(d.status, 1);
    assert_int_equal(d.status_addr, 0x7fff1234ull);
    uint8_t back[16];
    vtd_inv_desc_encode(&d, back);
    assert_memory_equal(raw, back, 16);
    /* status address not dword aligned: bits 65:64 reserved */
    sim_put_le64(raw + 8, 0x7fff1236ull);
    assert_true(vtd_inv_desc_decode(raw, &d, rsvd));
    assert_int_equal(rsvd[1], 2);
    /* IOTLB page-selective: QI_IOTLB_TYPE | DID | GRAN page | DW | DR; addr | IH | AM */
    struct vtd_inv_desc t = {.type = VTD_DESC_IOTLB, .g = VTD_GRAN_PAGE, .did = 7, .dw = true,
                             .dr = true, .addr = 0x12345000ull, .ih = true, .am = 3};
    vtd_inv_desc_encode(&t, raw);
    assert_int_equal(sim_get_le64(raw), 0x2 | 3 << 4 | 1 << 6 | 1 << 7 | 7 << 16);
    assert_int_equal(sim_get_le64(raw + 8), 0x12345000ull | 1 << 6 | 3);
    assert_false(vtd_inv_desc_decode(raw, &d, NULL));
    assert_int_equal(d.g, 3);
    assert_int_equal(d.did, 7);
    assert_int_equal(d.am, 3);
    assert_true(d.ih && d.dw && d.dr);
    assert_int_equal(d.addr, 0x12345000ull);
    /* context-cache device-selective */
    struct vtd_inv_desc c = {.type = VTD_DESC_CC, .g = VTD_GRAN_DEVICE, .did = 3, .sid = 0x0318,
                             .fm = 2};
    vtd_inv_desc_encode(&c, raw);
    assert_int_equal(sim_get_le64(raw), 0x1 | 3 << 4 | 3 << 16 | 0x0318ull << 32 | 2ull << 48);
    assert_false(vtd_inv_desc_decode(raw, &d, NULL));
    assert_int_equal(d.sid, 0x0318);
    assert_int_equal(d.fm, 2);
    /* IEC index-selective: QI_IEC_SELECTIVE | QI_IEC_IIDEX | QI_IEC_IM */
    sim_put_le64(raw, 0x4 | 1 << 4 | 2ull << 27 | 0x40ull << 32);
    sim_put_le64(raw + 8, 0);
    assert_false(vtd_inv_desc_decode(raw, &d, NULL));
    assert_int_equal(d.g, 1);
    assert_int_equal(d.im, 2);
    assert_int_equal(d.iidx, 0x40);
    /* device-TLB: PFSID split over 15:12 and 63:52 */
    struct vtd_inv_desc dt = {.type = VTD_DESC_DEVTLB, .sid = 0x100, .pfsid = 0xabc, .qdep = 5,
                              .s = true, .addr = 0x1000};
    vtd_inv_desc_encode(&dt, raw);
    assert_int_equal(sim_get_le64(raw), 0x3 | 0xcull << 12 | 5 << 16 | 0x100ull << 32 |
                                            0xabull << 52);
    assert_false(vtd_inv_desc_decode(raw, &d, NULL));
    assert_int_equal(d.pfsid, 0xabc);
    /* scalable-mode and unknown types are invalid here */
    sim_put_le64(raw, 0x6);
    assert_true(vtd_inv_desc_decode(raw, &d, NULL));
    sim_put_le64(raw, 0x0);
    assert_true(vtd_inv_desc_decode(raw, &d, NULL));
    /* type bits 11:9 set (256-bit types) */
    sim_put_le64(raw, 0x5 | 1 << 9);
    sim_put_le64(raw + 8, 0);
    assert_true(vtd_inv_desc_decode(raw, &d, NULL));
    assert_string_equal(vtd_desc_name(VTD_DESC_WAIT), "invalidation wait");
}

static void irte_and_msi(void **state)
{
    (void)state;
    struct vtd_irte e = {.p = true, .dlm = 0, .vector = 0x31, .dst = vtd_irte_dst(5, false),
                         .sid = 0x0018, .sq = 0, .svt = VTD_SVT_SID}, b;
    uint8_t raw[16];
    uint64_t rsvd[2];
    vtd_irte_encode(&e, raw);
    assert_int_equal(sim_get_le64(raw), 1 | 0x31ull << 16 | 0x500ull << 32);
    assert_int_equal(sim_get_le64(raw + 8), 0x18 | 1ull << 18);
    vtd_irte_decode(raw, &b);
    assert_true(b.p);
    assert_int_equal(b.vector, 0x31);
    assert_int_equal(vtd_irte_apic_id(b.dst, false), 5);
    assert_int_equal(b.svt, 1);
    assert_false(vtd_irte_reserved(raw, false, 0, rsvd));
    /* xAPIC mode: DST bits 39:32 reserved; x2APIC: not */
    sim_put_le64(raw, 1 | 0x31ull << 16 | 0x501ull << 32);
    assert_true(vtd_irte_reserved(raw, false, 0, rsvd));
    assert_int_equal(rsvd[0], 1ull << 32);
    assert_false(vtd_irte_reserved(raw, true, 0, rsvd));
    /* IM (posted) without CAP.PI; SVT 11b */
    sim_put_le64(raw, 1 | 1ull << 15);
    assert_true(vtd_irte_reserved(raw, true, 0, rsvd));
    assert_false(vtd_irte_reserved(raw, true, VTD_CAP_PI, rsvd));
    sim_put_le64(raw, 1);
    sim_put_le64(raw + 8, 3ull << 18);
    assert_true(vtd_irte_reserved(raw, true, 0, rsvd));

    /* remappable address: handle 0x8003 with SHV, subhandle 2 */
    uint64_t a = vtd_msi_remap_addr(0x8003, true);
    assert_int_equal(a, 0xfee00000ull | 3 << 5 | 1 << 4 | 1 << 3 | 1 << 2);
    struct vtd_msi m;
    vtd_msi_decode(a, 2, &m);
    assert_true(m.remappable && m.shv);
    assert_int_equal(m.handle, 0x8003);
    assert_int_equal(m.index, 0x8005);
    assert_false(m.rsvd);
    vtd_msi_decode(a, 0x10000, &m);
    assert_true(m.rsvd);
    /* compatibility format */
    vtd_msi_decode(0xfee05008ull, 0x8031, &m);
    assert_false(m.remappable);
    assert_int_equal(m.dest, 5);
    assert_true(m.rh);
    assert_int_equal(m.vector, 0x31);
    assert_true(m.tm);
    /* the message an IRTE delivers */
    uint64_t oa;
    uint32_t od;
    e.dm = true;
    e.tm = false;
    vtd_irte_msi(&e, false, &oa, &od);
    assert_int_equal(oa, 0xfee05004ull);
    assert_int_equal(od, 0x31);
    e.dst = 0x1234;
    vtd_irte_msi(&e, true, &oa, &od);
    assert_int_equal(oa, 0xfee34004ull | 0x1200ull << 32);
}

static void register_helpers(void **state)
{
    (void)state;
    uint64_t cap = 0x00d2008c22260206ull; /* QEMU 7.2 q35 intel-iommu,intremap=on */
    assert_int_equal(vtd_cap_nd_bits(cap), 16);
    assert_int_equal(vtd_cap_sagaw(cap), 1u << VTD_AW_39);
    assert_int_equal(vtd_cap_mgaw(cap), 39);
    assert_int_equal(vtd_cap_fro(cap), 0x220);
    assert_int_equal(vtd_cap_sllps(cap), 3);
    assert_int_equal(vtd_cap_nfr(cap), 1);
    assert_int_equal(vtd_cap_mamv(cap), 18);
    assert_true(cap & VTD_CAP_PSI);
    uint64_t ecap = 0xf00f4aull;
    assert_int_equal(vtd_ecap_iro(ecap), 0xf0);
    assert_int_equal(vtd_ecap_mhmv(ecap), 15);
    assert_true(ecap & VTD_ECAP_IR);
    assert_true(ecap & VTD_ECAP_PT);
    assert_true(ecap & VTD_ECAP_QI);
    assert_false(ecap & VTD_ECAP_EIM);
    uint64_t ccap = 0x00d2008c40660462ull, cecap = 0xf050daull; /* client INCLUDE_PCI_ALL unit */
    assert_int_equal(vtd_cap_fro(ccap), 0x400);
    assert_int_equal(vtd_ecap_iro(cecap), 0x500);
    assert_int_equal(vtd_cap_nd_bits(ccap), 8);
    assert_int_equal(vtd_cap_sagaw(ccap), 1u << VTD_AW_48);
    assert_int_equal(vtd_aw_levels(VTD_AW_48), 4);
    assert_int_equal(vtd_aw_bits(VTD_AW_57), 57);
    assert_int_equal(vtd_iq_entries(0), 256);
    assert_int_equal(vtd_irta_entries(0xf), 65536);
    assert_int_equal(VTD_VER(1, 0), 0x10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(root_entry_bytes_and_reserved),
        cmocka_unit_test(context_entry_bytes_round_trip_reserved),
        cmocka_unit_test(sl_pte_bits_and_reserved),
        cmocka_unit_test(fault_record_as_linux_reads_it),
        cmocka_unit_test(fault_reasons_linux_strings),
        cmocka_unit_test(inv_descriptors),
        cmocka_unit_test(irte_and_msi),
        cmocka_unit_test(register_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
