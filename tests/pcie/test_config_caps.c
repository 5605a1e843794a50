/* Capability lists and registers: placement, chains, walking with loop detection,
 * PM D-states, PCI Express capability fields and queries, AER logging, ACS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pcie/caps.h"

static const struct pcie_cfg_ident ep_id = {.vendor_id = 0x8086, .device_id = 0x1533,
                                            .class_code = 0x020000, .interrupt_pin = 1,
                                            .pcie = true};
static const struct pcie_cfg_ident br_id = {.vendor_id = 0x10b5, .device_id = 0x8747,
                                            .class_code = 0x060400, .pcie = true};

static uint32_t rd(struct pcie_cfg *c, unsigned off, unsigned size)
{
    uint32_t v;
    assert_int_equal(pcie_cfg_read(c, off, size, &v, NULL), 0);
    return v;
}

static void wr(struct pcie_cfg *c, unsigned off, unsigned size, uint32_t v)
{
    assert_int_equal(pcie_cfg_write(c, off, size, v, NULL), 0);
}

static void test_chain_and_walk(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcilab_err err;
    assert_int_equal(pcie_cfg_init_type0(&c, &ep_id, NULL), 0);
    assert_int_equal(pcie_cfg_bar_declare(&c, 0, PCIE_BAR_MEM32, 0x4000, false, NULL), 0);
    struct pcie_pm_params pm = {.pme_support = 0x19};
    struct pcie_msi_params msi = {.addr64 = true, .vectors = 1, .per_vector_mask = true};
    struct pcie_msix_params msix = {.table_size = 4, .pba_offset = 0x2000};
    struct pcie_exp_params exp = {.type = PCIE_PORT_ENDPOINT, .mps_supported = 256,
                                  .max_speed = 1, .max_width = 1};
    /* extended capabilities: first one must be at 100h */
    struct pcie_aer_params aer = {0};
    assert_int_equal(pcie_ecap_add_aer(&c, &aer, 0x140, &err), -PCILAB_EINVAL);
    assert_int_equal(pcie_cap_add_pm(&c, &pm, 0, NULL), 0x40);
    assert_int_equal(pcie_cap_add_msix(&c, &msix, 0x70, NULL), 0x70);
    assert_int_equal(pcie_cap_add_msi(&c, &msi, 0, NULL), 0x48);   /* fills the gap */
    assert_int_equal(pcie_cap_add_exp(&c, &exp, 0, NULL), 0x7c);
    assert_int_equal(pcie_cap_add_pm(&c, &pm, 0x42, &err), -PCILAB_EINVAL);  /* unaligned */
    assert_int_equal(pcie_cap_add_pm(&c, &pm, 0x74, &err), -PCILAB_EEXIST);  /* overlaps */
    assert_int_equal(pcie_cap_add_pm(&c, &pm, 0x3c, &err), -PCILAB_EINVAL);  /* header */
    assert_int_equal(pcie_ecap_add_aer(&c, &aer, 0, NULL), 0x100);
    assert_int_equal(pcie_ecap_add_dsn(&c, 0x1122334455667788ull, 0, NULL), 0x138);
    assert_int_equal(pcie_ecap_add_ari(&c, 0, 0xf00, NULL), 0xf00);
    assert_int_equal(pcie_ecap_add_dsn(&c, 1, 0xffc, &err), -PCILAB_ERANGE);

    /* chain order is the order of building, next pointers RO */
    assert_int_equal(rd(&c, PCIE_CFG_CAP_PTR, 1), 0x40);
    assert_int_equal(rd(&c, 0x40, 2), 0x7001);
    assert_int_equal(rd(&c, 0x70, 2), 0x4811);
    assert_int_equal(rd(&c, 0x48, 2), 0x7c05);
    assert_int_equal(rd(&c, 0x7c, 2), 0x0010);
    wr(&c, 0x40, 2, 0);
    assert_int_equal(rd(&c, 0x40, 2), 0x7001);
    assert_int_equal(rd(&c, 0x100, 4), 0x13820001); /* AER v2, next 138h */
    assert_int_equal(rd(&c, 0x138, 4), 0xf0010003); /* DSN v1, next f00h */
    assert_int_equal(rd(&c, 0xf00, 4), 0x0001000e); /* ARI v1, end */
    assert_int_equal(rd(&c, 0x13c, 4), 0x55667788);
    assert_int_equal(rd(&c, 0x140, 4), 0x11223344);

    struct pcie_cap_entry list[16];
    assert_int_equal(pcie_cap_list(&c, list, 16, NULL), 7);
    static const struct { uint16_t off, id; bool ext; } want[] = {
        {0x40, 1, false}, {0x70, 0x11, false}, {0x48, 5, false}, {0x7c, 0x10, false},
        {0x100, 1, true}, {0x138, 3, true}, {0xf00, 0xe, true}};
    for (unsigned i = 0; i < 7; i++) {
        assert_int_equal(list[i].offset, want[i].off);
        assert_int_equal(list[i].id, want[i].id);
        assert_int_equal(list[i].extended, want[i].ext);
    }
    assert_int_equal(list[4].version, 2);
    assert_int_equal(pcie_cap_list(&c, list, 2, NULL), 7); /* counts beyond max */
    assert_int_equal(pcie_cap_find(&c, PCIE_CAP_ID_EXP), 0x7c);
    assert_int_equal(pcie_cap_find(&c, PCIE_CAP_ID_VENDOR), 0);
    assert_int_equal(pcie_ecap_find(&c, PCIE_ECAP_ID_DSN), 0x138);
    assert_int_equal(pcie_ecap_find(&c, PCIE_ECAP_ID_ACS), 0);

    /* broken lists are reported, not followed forever */
    c.data[0x7d] = 0x40;
    assert_int_equal(pcie_cap_list(&c, list, 16, &err), -PCILAB_EMALFORMED);
    assert_non_null(strstr(err.msg, "loops"));
    assert_int_equal(pcie_cap_find(&c, PCIE_CAP_ID_VENDOR), 0);
    c.data[0x7d] = 0x20;
    assert_int_equal(pcie_cap_list(&c, list, 16, &err), -PCILAB_EMALFORMED);
    c.data[0x7d] = 0;
    pcie_cfg_raw_write32(&c, 0xf00, 0x1000000e); /* next = 100h: loop */
    assert_int_equal(pcie_cap_list(&c, list, 16, &err), -PCILAB_EMALFORMED);
    assert_int_equal(pcie_ecap_find(&c, PCIE_ECAP_ID_ACS), 0);

    /* conventional PCI: no extended capabilities */
    struct pcie_cfg_ident legacy = ep_id;
    legacy.pcie = false;
    assert_int_equal(pcie_cfg_init_type0(&c, &legacy, NULL), 0);
    assert_int_equal(pcie_ecap_add_dsn(&c, 1, 0, &err), -PCILAB_EINVAL);
    assert_int_equal(pcie_cap_list(&c, list, 16, NULL), 0);
}

static void test_pm(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcilab_err err;
    assert_int_equal(pcie_cfg_init_type0(&c, &ep_id, NULL), 0);
    struct pcie_pm_params bad = {.pme_support = PCIE_PM_PME_D1};
    assert_int_equal(pcie_cap_add_pm(&c, &bad, 0, &err), -PCILAB_EINVAL);
    struct pcie_pm_params pm = {.d1 = true, .pme_support = 0x1b, .no_soft_reset = true,
                                .aux_current = 1};
    unsigned p = (unsigned)pcie_cap_add_pm(&c, &pm, 0, NULL);
    assert_int_equal(rd(&c, p + PCIE_PM_PMC, 2), 0xda43);
    assert_int_equal(rd(&c, p + PCIE_PM_PMCSR, 2), 0x0008);
    assert_int_equal(pcie_pm_state(&c), PCIE_D0);
    wr(&c, p + PCIE_PM_PMCSR, 2, 3);
    assert_int_equal(pcie_pm_state(&c), PCIE_D3HOT);
    /* D2 unsupported: write discarded, state unchanged */
    wr(&c, p + PCIE_PM_PMCSR, 2, 2);
    assert_int_equal(pcie_pm_state(&c), PCIE_D3HOT);
    wr(&c, p + PCIE_PM_PMCSR, 4, 1); /* dword write covering PMCSR */
    assert_int_equal(pcie_pm_state(&c), PCIE_D1);
    /* PME_En RW, PME_Status RW1C, No_Soft_Reset RO */
    wr(&c, p + PCIE_PM_PMCSR, 2, 0x0100);
    assert_int_equal(rd(&c, p + PCIE_PM_PMCSR, 2), 0x0108);
    pcie_cfg_raw_update(&c, p + PCIE_PM_PMCSR, 2, 0x8000, 0x8000);
    wr(&c, p + PCIE_PM_PMCSR, 2, 0x8100);
    assert_int_equal(rd(&c, p + PCIE_PM_PMCSR, 2), 0x0108);
    /* PME from D3cold: PME_En and PME_Status are sticky across reset */
    pcie_cfg_raw_update(&c, p + PCIE_PM_PMCSR, 2, 0x8000, 0x8000);
    pcie_cfg_reset(&c);
    assert_int_equal(rd(&c, p + PCIE_PM_PMCSR, 2), 0x8108);
    assert_int_equal(pcie_pm_state(&c), PCIE_D0);
}

static void test_express_endpoint(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcilab_err err;
    assert_int_equal(pcie_cfg_init_type0(&c, &ep_id, NULL), 0);
    struct pcie_exp_params p = {.type = PCIE_PORT_ROOT_PORT, .max_speed = 1, .max_width = 1};
    assert_int_equal(pcie_cap_add_exp(&c, &p, 0, &err), -PCILAB_EINVAL); /* needs Type 1 */
    p = (struct pcie_exp_params){.type = PCIE_PORT_ENDPOINT, .mps_supported = 384,
                                 .max_speed = 1, .max_width = 1};
    assert_int_equal(pcie_cap_add_exp(&c, &p, 0, &err), -PCILAB_EINVAL);
    p.mps_supported = 512;
    p.max_width = 3;
    assert_int_equal(pcie_cap_add_exp(&c, &p, 0, &err), -PCILAB_EINVAL);
    p.max_width = 8;
    p.max_speed = 6;
    assert_int_equal(pcie_cap_add_exp(&c, &p, 0, &err), -PCILAB_EINVAL);
    p.max_speed = 3;
    p.supported_speeds = 0x5; /* 2.5 and 8 without 5: not allowed (8.2.1) */
    assert_int_equal(pcie_cap_add_exp(&c, &p, 0, &err), -PCILAB_EINVAL);
    p.supported_speeds = 0;
    p.type = (enum pcie_port_type)3;
    assert_int_equal(pcie_cap_add_exp(&c, &p, 0, &err), -PCILAB_EINVAL);
    p.type = PCIE_PORT_ENDPOINT;
    p.phantom_functions = 1;
    p.ext_tag = true;
    p.flr = true;
    p.rber = true;
    p.l0s_acceptable = 2;
    p.l1_acceptable = 3;
    p.tag10_requester = true;
    p.tag10_completer = true;
    p.port_number = 0;
    p.link_up = true;
    p.aspm_support = 2;
    p.clock_pm = true;
    unsigned e = (unsigned)pcie_cap_add_exp(&c, &p, 0, NULL);
    assert_int_equal(e, 0x40);
    assert_int_equal(rd(&c, e, 4), 0x00020010);         /* v2, endpoint */
    /* DevCap: MPS 010b, phantom 01b, ext tag, L0s 2, L1 3, RBER, FLR */
    assert_int_equal(rd(&c, e + PCIE_EXP_DEVCAP, 4), 0x10008000u | 0x2 | 0x8 | 0x20 |
                                                         (2u << 6) | (3u << 9));
    assert_int_equal(rd(&c, e + PCIE_EXP_DEVCTL, 2), 0x2810); /* RO+, NS+, MRRS 512 */
    assert_int_equal(pcie_exp_mps_supported(&c), 512);
    assert_int_equal(pcie_exp_mps(&c), 128);
    assert_int_equal(pcie_exp_mrrs(&c), 512);
    wr(&c, e + PCIE_EXP_DEVCTL, 2, 0x5330);  /* MRRS 4096, ext tag, phantom, MPS 256 */
    assert_int_equal(pcie_exp_mps(&c), 256);
    assert_int_equal(pcie_exp_mrrs(&c), 4096);
    assert_true(pcie_exp_ext_tag_enabled(&c));
    assert_int_equal(pcie_exp_devctl(&c), 0x5330);
    /* DevCap2 10-bit tags; DevCtl2 10-Bit Tag Requester Enable RW */
    assert_int_equal(rd(&c, e + PCIE_EXP_DEVCAP2, 4), 0x00030000);
    assert_false(pcie_exp_tag10_enabled(&c));
    wr(&c, e + PCIE_EXP_DEVCTL2, 2, 0xffff);
    assert_true(pcie_exp_tag10_enabled(&c));
    assert_int_equal(rd(&c, e + PCIE_EXP_DEVCTL2, 2), 0x1300); /* + IDO; no CT, no LTR */
    /* Link: speed/width, ASPM, Clock PM, RCB RW for endpoints, retrain absent */
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKCAP, 4), 0x00040883);
    assert_int_equal(pcie_exp_max_speed(&c), 3);
    assert_int_equal(pcie_exp_max_width(&c), 8);
    assert_int_equal(pcie_exp_rcb(&c), 64);
    wr(&c, e + PCIE_EXP_LNKCTL, 2, 0xffff);
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKCTL, 2), 0x03cb);
    assert_int_equal(pcie_exp_rcb(&c), 128);
    uint8_t sp, w;
    bool dll;
    pcie_exp_link(&c, &sp, &w, &dll);
    assert_int_equal(sp, 3);
    assert_int_equal(w, 8);
    assert_false(dll); /* not DLL Link Active Reporting capable */
    pcie_exp_set_link(&c, 2, 4, true);
    pcie_exp_link(&c, &sp, &w, &dll);
    assert_int_equal(sp, 2);
    assert_int_equal(w, 4);
    wr(&c, e + PCIE_EXP_LNKSTA, 2, 0xffff); /* all RO here */
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKSTA, 2), 0x0042);
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKCAP2, 4), 0x0000000e);
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKCTL2, 2), 3);
    /* Device Status: hardware sets, software clears RW1C */
    pcie_exp_devsta_set(&c, PCIE_DEVSTA_CED | PCIE_DEVSTA_URD);
    wr(&c, e + PCIE_EXP_DEVSTA, 2, PCIE_DEVSTA_URD);
    assert_int_equal(rd(&c, e + PCIE_EXP_DEVSTA, 2), PCIE_DEVSTA_CED);
    assert_int_equal(pcie_exp_port_type(&c), PCIE_PORT_ENDPOINT);
    assert_string_equal(pcie_port_type_name(PCIE_PORT_RC_EVENT_COLLECTOR),
                        "Root Complex Event Collector");
    assert_string_equal(pcie_link_speed_name(4), "16GT/s");

    /* Root Complex integrated endpoint: no link registers */
    assert_int_equal(pcie_cfg_init_type0(&c, &ep_id, NULL), 0);
    struct pcie_exp_params rciep = {.type = PCIE_PORT_RC_INTEGRATED_EP, .flr = true};
    e = (unsigned)pcie_cap_add_exp(&c, &rciep, 0, NULL);
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKCAP, 4), 0);
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKCAP2, 4), 0);
    assert_int_equal(rd(&c, e + PCIE_EXP_DEVCAP, 4) & (1u << 28), 1u << 28);
}

static void test_express_ports(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcilab_err err;
    assert_int_equal(pcie_cfg_init_type1(&c, &br_id, NULL, NULL), 0);
    struct pcie_exp_params p = {
        .type = PCIE_PORT_DOWNSTREAM, .mps_supported = 256, .max_speed = 4, .max_width = 16,
        .dll_active_reporting = true, .link_bw_notification = true, .port_number = 9,
        .ari_forwarding = true, .slot_implemented = true,
        .slot = {.power_indicator = true, .hotplug_capable = true, .slot_number = 0x1abc,
                 .power_limit_value = 75}};
    unsigned e = (unsigned)pcie_cap_add_exp(&c, &p, 0, NULL);
    assert_int_equal(rd(&c, e + PCIE_EXP_FLAGS, 2), 0x0162); /* v2, downstream, slot */
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKCAP, 4), 0x09300104u);
    assert_int_equal(rd(&c, e + PCIE_EXP_SLTCAP, 4), (0x1abcu << 19) | (75u << 7) | 0x50);
    /* Retrain Link: seen by hooks, reads 0; Link Disable RW */
    wr(&c, e + PCIE_EXP_LNKCTL, 2, PCIE_LNKCTL_RETRAIN | PCIE_LNKCTL_DISABLE);
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKCTL, 2), PCIE_LNKCTL_DISABLE);
    /* link up: DLL Link Active and Data Link Layer State Changed */
    pcie_exp_set_link(&c, 3, 4, true);
    uint8_t sp, w;
    bool dll;
    pcie_exp_link(&c, &sp, &w, &dll);
    assert_true(dll);
    assert_int_equal(rd(&c, e + PCIE_EXP_SLTSTA, 2), PCIE_SLTSTA_DLLSC);
    wr(&c, e + PCIE_EXP_SLTSTA, 2, 0xffff);
    assert_int_equal(rd(&c, e + PCIE_EXP_SLTSTA, 2), 0);
    pcie_exp_set_presence(&c, true);
    assert_int_equal(rd(&c, e + PCIE_EXP_SLTSTA, 2), PCIE_SLTSTA_PDS | PCIE_SLTSTA_PDC);
    wr(&c, e + PCIE_EXP_SLTSTA, 2, PCIE_SLTSTA_PDC | PCIE_SLTSTA_PDS);
    assert_int_equal(rd(&c, e + PCIE_EXP_SLTSTA, 2), PCIE_SLTSTA_PDS); /* PDS is RO */
    /* link bandwidth status bits RW1C */
    pcie_cfg_raw_update(&c, e + PCIE_EXP_LNKSTA, 2, PCIE_LNKSTA_LBMS, PCIE_LNKSTA_LBMS);
    wr(&c, e + PCIE_EXP_LNKSTA, 2, PCIE_LNKSTA_LBMS);
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKSTA, 2) & PCIE_LNKSTA_LBMS, 0);
    /* Slot Control: power indicator RW (reset Off), attention indicator absent RO 0 */
    assert_int_equal(rd(&c, e + PCIE_EXP_SLTCTL, 2), 0x0300);
    wr(&c, e + PCIE_EXP_SLTCTL, 2, 0xffff);
    assert_int_equal(rd(&c, e + PCIE_EXP_SLTCTL, 2), 0x133f);
    /* DevCtl2 ARI Forwarding Enable RW */
    wr(&c, e + PCIE_EXP_DEVCTL2, 2, 0x0020);
    assert_int_equal(rd(&c, e + PCIE_EXP_DEVCTL2, 2), 0x0020);
    /* Target Link Speed is sticky */
    wr(&c, e + PCIE_EXP_LNKCTL2, 2, 2);
    pcie_cfg_reset(&c);
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKCTL2, 2), 2);
    assert_int_equal(rd(&c, e + PCIE_EXP_LNKCTL, 2), 0);

    /* slots only on root/downstream ports; root ports get root registers */
    assert_int_equal(pcie_cfg_init_type1(&c, &br_id, NULL, NULL), 0);
    p.type = PCIE_PORT_UPSTREAM;
    assert_int_equal(pcie_cap_add_exp(&c, &p, 0, &err), -PCILAB_EINVAL);
    p.type = PCIE_PORT_ROOT_PORT;
    p.slot_implemented = false;
    p.crs_visibility = true;
    e = (unsigned)pcie_cap_add_exp(&c, &p, 0, NULL);
    assert_int_equal(rd(&c, e + PCIE_EXP_RTCAP, 2), 1);
    wr(&c, e + PCIE_EXP_RTCTL, 2, 0xffff);
    assert_int_equal(rd(&c, e + PCIE_EXP_RTCTL, 2), 0x1f);
    pcie_cfg_raw_update(&c, e + PCIE_EXP_RTSTA, 4, 0x1ffff, 0x10100);
    wr(&c, e + PCIE_EXP_RTSTA, 4, 0xffffffff);
    assert_int_equal(rd(&c, e + PCIE_EXP_RTSTA, 4), 0x00100);
    /* root port RCB is RO */
    wr(&c, e + PCIE_EXP_LNKCTL, 2, PCIE_LNKCTL_RCB);
    assert_int_equal(pcie_exp_rcb(&c), 64);
}

static void test_aer(void **state)
{
    (void)state;
    struct pcie_cfg c;
    assert_int_equal(pcie_cfg_init_type0(&c, &ep_id, NULL), 0);
    uint32_t hdr[4] = {0x40000001, 0x0000000f, 0, 0xffbf8000};
    bool fatal = true;
    /* no AER: Device Status still logs, the call says there is no AER */
    struct pcie_exp_params p = {.type = PCIE_PORT_ENDPOINT, .max_speed = 2, .max_width = 1};
    unsigned e = (unsigned)pcie_cap_add_exp(&c, &p, 0, NULL);
    assert_int_equal(pcie_aer_record_uncor(&c, PCIE_AER_UNC_UNSUP_REQ, hdr, &fatal),
                     -PCILAB_ENOENT);
    assert_false(fatal);
    assert_int_equal(rd(&c, e + PCIE_EXP_DEVSTA, 2), PCIE_DEVSTA_NFED | PCIE_DEVSTA_URD);
    struct pcie_aer_params ap = {.ecrc_check_capable = true, .multiple_header_capable = true};
    unsigned a = (unsigned)pcie_ecap_add_aer(&c, &ap, 0, NULL);
    assert_int_equal(rd(&c, a + PCIE_AER_UNCOR_SEVER, 4), 0x00462030);
    assert_int_equal(rd(&c, a + PCIE_AER_COR_MASK, 4), 0x00002000);
    assert_int_equal(rd(&c, a + PCIE_AER_CAP_CTRL, 4), 0x00000280);
    wr(&c, a + PCIE_AER_CAP_CTRL, 4, 0xffffffff); /* only the capable enables */
    assert_int_equal(rd(&c, a + PCIE_AER_CAP_CTRL, 4), 0x00000780);
    wr(&c, a + PCIE_AER_UNCOR_MASK, 4, 0xffffffff);
    assert_int_equal(rd(&c, a + PCIE_AER_UNCOR_MASK, 4), 0x007ff030);
    wr(&c, a + PCIE_AER_UNCOR_MASK, 4, PCIE_AER_UNC_COMP_TIMEOUT);

    /* first unmasked error: status, First Error Pointer, Header Log */
    assert_int_equal(pcie_aer_record_uncor(&c, PCIE_AER_UNC_UNSUP_REQ, hdr, &fatal), 1);
    assert_false(fatal);
    assert_int_equal(rd(&c, a + PCIE_AER_UNCOR_STATUS, 4), PCIE_AER_UNC_UNSUP_REQ);
    assert_int_equal(rd(&c, a + PCIE_AER_CAP_CTRL, 4) & 0x1f, 20);
    assert_int_equal(rd(&c, a + PCIE_AER_HEADER_LOG + 12, 4), 0xffbf8000);
    /* a second error does not overwrite the first's log; fatal by severity */
    uint32_t hdr2[4] = {1, 2, 3, 4};
    assert_int_equal(pcie_aer_record_uncor(&c, PCIE_AER_UNC_MALFORMED, hdr2, &fatal), 1);
    assert_true(fatal);
    assert_int_equal(rd(&c, a + PCIE_AER_CAP_CTRL, 4) & 0x1f, 20);
    assert_int_equal(rd(&c, a + PCIE_AER_HEADER_LOG, 4), 0x40000001);
    /* masked: status set, not reported, no log */
    assert_int_equal(pcie_aer_record_uncor(&c, PCIE_AER_UNC_COMP_TIMEOUT, hdr2, NULL), 0);
    assert_true(rd(&c, a + PCIE_AER_UNCOR_STATUS, 4) & PCIE_AER_UNC_COMP_TIMEOUT);
    /* clearing the first error's status frees the pointer for the next one */
    wr(&c, a + PCIE_AER_UNCOR_STATUS, 4, 0xffffffff);
    assert_int_equal(rd(&c, a + PCIE_AER_UNCOR_STATUS, 4), 0);
    assert_int_equal(pcie_aer_record_uncor(&c, PCIE_AER_UNC_POISONED, hdr2, &fatal), 1);
    assert_int_equal(rd(&c, a + PCIE_AER_CAP_CTRL, 4) & 0x1f, 12);
    assert_int_equal(rd(&c, a + PCIE_AER_HEADER_LOG, 4), 1);
    assert_int_equal(pcie_aer_record_uncor(&c, 3u << 12, hdr2, NULL), -PCILAB_EINVAL);
    /* correctable: Advisory Non-Fatal masked by default */
    assert_int_equal(pcie_aer_record_cor(&c, PCIE_AER_COR_ADV_NONFATAL), 0);
    assert_int_equal(pcie_aer_record_cor(&c, PCIE_AER_COR_RX_ERR), 1);
    assert_int_equal(rd(&c, a + PCIE_AER_COR_STATUS, 4), 0x2001);
    /* sticky across reset; the root registers are absent on an endpoint */
    pcie_cfg_reset(&c);
    assert_int_equal(rd(&c, a + PCIE_AER_COR_STATUS, 4), 0x2001);
    assert_int_equal(rd(&c, a + PCIE_AER_CAP_CTRL, 4) & 0x1f, 12);
    wr(&c, a + PCIE_AER_ROOT_CMD, 4, 7);
    assert_int_equal(rd(&c, a + PCIE_AER_ROOT_CMD, 4), 0);
}

static void test_acs(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcilab_err err;
    assert_int_equal(pcie_cfg_init_type1(&c, &br_id, NULL, NULL), 0);
    struct pcie_acs_params bad = {.capabilities = PCIE_ACS_EC};
    assert_int_equal(pcie_ecap_add_acs(&c, &bad, 0, &err), -PCILAB_EINVAL);
    bad.capabilities = 0x80;
    assert_int_equal(pcie_ecap_add_acs(&c, &bad, 0, &err), -PCILAB_EINVAL);
    struct pcie_acs_params p = {.capabilities = PCIE_ACS_SV | PCIE_ACS_RR | PCIE_ACS_CR |
                                                PCIE_ACS_UF | PCIE_ACS_EC,
                                .egress_vector_bits = 40};
    unsigned a = (unsigned)pcie_ecap_add_acs(&c, &p, 0, NULL);
    assert_int_equal(a, 0x100);
    assert_int_equal(rd(&c, a, 4), 0x0001000d);
    assert_int_equal(rd(&c, a + PCIE_ACS_CAP, 2), 0x283d);
    wr(&c, a + PCIE_ACS_CTRL, 2, 0xffff);
    assert_int_equal(rd(&c, a + PCIE_ACS_CTRL, 2), 0x003d); /* no TB, no DT */
    wr(&c, a + 8, 4, 0xffffffff);
    wr(&c, a + 12, 4, 0xffffffff);
    assert_int_equal(rd(&c, a + 12, 4), 0xff); /* 40 bits */
    assert_int_equal(pcie_ecap_add_dsn(&c, 7, 0, NULL), 0x110);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_and_walk),
        cmocka_unit_test(test_pm),
        cmocka_unit_test(test_express_endpoint),
        cmocka_unit_test(test_express_ports),
        cmocka_unit_test(test_aer),
        cmocka_unit_test(test_acs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
