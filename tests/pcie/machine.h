/* A small machine for the configuration-space tests, programmed the way Linux
 * leaves it after enumeration: a root port, a PLX PEX 8747 switch (upstream port,
 * three downstream ports with slots, one empty), a Lattice ECP5 endpoint with two
 * MSI vectors and an Intel I210 with MSI-X. Used by test_lspci.c (decoded by the
 * real lspci) and to produce tests/pcie/data/pex8747-switch.lspci (which the
 * dump reader test compares against this same machine). */
#ifndef PCILAB_TESTS_PCIE_MACHINE_H
#define PCILAB_TESTS_PCIE_MACHINE_H

#include <stdint.h>
#include <string.h>

#include "pcie/caps.h"
#include "pcie/config.h"

#define MACHINE_FUNCS 7

struct machine_func {
    uint8_t bus, dev, fn;
    struct pcie_cfg cfg;
};

struct machine {
    struct machine_func f[MACHINE_FUNCS];
    /* offsets of interesting capabilities, for the tests */
    unsigned ecp5_msi, i210_msix, i210_exp, rp_exp, dsp_exp;
};

#define MCHK(x) do { if ((x) < 0) return -1; } while (0)

static int machine_bridge(struct machine_func *m, uint8_t bus, uint8_t dev, uint8_t fn,
                          uint16_t vendor, uint16_t device, uint8_t rev, uint8_t pri,
                          uint8_t sec, uint8_t sub)
{
    m->bus = bus;
    m->dev = dev;
    m->fn = fn;
    struct pcie_cfg_ident id = {.vendor_id = vendor, .device_id = device, .revision = rev,
                                .class_code = 0x060400, .interrupt_pin = 1, .pcie = true};
    struct pcie_bridge_params bp = {.io_window = true, .io_32bit = true, .pref_window = true,
                                    .pref_64bit = true};
    MCHK(pcie_cfg_init_type1(&m->cfg, &id, &bp, NULL));
    pcie_cfg_bridge_set_buses(&m->cfg, pri, sec, sub);
    /* closed I/O and prefetchable windows, as Linux leaves unused ones */
    MCHK(pcie_cfg_bridge_set_window(&m->cfg, PCIE_WINDOW_IO, 1, 0, NULL));
    MCHK(pcie_cfg_bridge_set_window(&m->cfg, PCIE_WINDOW_PREF, 1, 0, NULL));
    MCHK(pcie_cfg_bridge_set_window(&m->cfg, PCIE_WINDOW_MEM, 1, 0, NULL));
    return 0;
}

static int machine_build(struct machine *mc)
{
    memset(mc, 0, sizeof *mc);
    struct pcie_cfg *c;
    int off;

    /* 00:02.1 root port (AMD family 15h model 60h), Gen3 x4, AER + ACS */
    MCHK(machine_bridge(&mc->f[0], 0x00, 0x02, 1, 0x1022, 0x157c, 0x00, 0x00, 0x01, 0x05));
    c = &mc->f[0].cfg;
    c->data[PCIE_CFG_HEADER_TYPE] |= PCIE_HEADER_MULTIFUNCTION;
    MCHK(pcie_cfg_bridge_set_window(c, PCIE_WINDOW_MEM, 0xfe000000, 0xfe4fffff, NULL));
    pcie_cfg_raw_write16(c, PCIE_CFG_COMMAND, PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER |
                                                  PCIE_CMD_SERR | PCIE_CMD_INTX_DISABLE);
    pcie_cfg_raw_write8(c, PCIE_CFG_INTERRUPT_LINE, 0xff);
    pcie_cfg_raw_write16(c, PCIE_CFG_BRIDGE_CONTROL, PCIE_BCTL_SERR);
    struct pcie_pm_params pm_rp = {.pme_support = 0x19, .no_soft_reset = false};
    MCHK(pcie_cap_add_pm(c, &pm_rp, 0x50, NULL));
    struct pcie_exp_params rp = {
        .type = PCIE_PORT_ROOT_PORT, .mps_supported = 512, .rber = true, .max_speed = 3,
        .max_width = 4, .aspm_support = 3, .l0s_exit_latency = 1, .l1_exit_latency = 2,
        .dll_active_reporting = true, .link_bw_notification = true,
        .surprise_down_reporting = false, .port_number = 0, .link_up = true,
        .completion_timeout_ranges = 0xf, .completion_timeout_disable = true,
        .ari_forwarding = true, .ltr = true, .crs_visibility = true, .slot_clock = true,
        .tag10_completer = true,
    };
    MCHK(off = pcie_cap_add_exp(c, &rp, 0x58, NULL));
    mc->rp_exp = (unsigned)off;
    struct pcie_msi_params rp_msi = {.addr64 = true, .vectors = 1};
    MCHK(off = pcie_cap_add_msi(c, &rp_msi, 0xa0, NULL));
    pcie_cfg_raw_write16(c, (unsigned)off + PCIE_MSI_CTRL,
                         pcie_cfg_raw_read16(c, (unsigned)off + PCIE_MSI_CTRL) | 1);
    pcie_cfg_raw_write32(c, (unsigned)off + PCIE_MSI_ADDR_LO, 0xfee00000);
    pcie_cfg_raw_write16(c, pcie_msi_data_off(c, (unsigned)off), 0x0024);
    MCHK(pcie_cap_add_ssvid(c, 0x1022, 0x1234, 0xb0, NULL));
    struct pcie_aer_params rp_aer = {.ecrc_gen_capable = true, .ecrc_check_capable = true,
                                     .root = true};
    MCHK(pcie_ecap_add_aer(c, &rp_aer, 0, NULL));
    struct pcie_acs_params rp_acs = {.capabilities = PCIE_ACS_SV | PCIE_ACS_TB | PCIE_ACS_RR |
                                                     PCIE_ACS_CR | PCIE_ACS_UF};
    MCHK(off = pcie_ecap_add_acs(c, &rp_acs, 0x150, NULL));
    /* Linux enables SV, RR, CR, UF when the IOMMU is on */
    pcie_cfg_raw_write16(c, (unsigned)off + PCIE_ACS_CTRL, 0x001d);

    /* 01:00.0 PLX PEX 8747 upstream port: Gen3 x16 capable, running 8GT/s x4 */
    MCHK(machine_bridge(&mc->f[1], 0x01, 0x00, 0, 0x10b5, 0x8747, 0xca, 0x01, 0x02, 0x05));
    c = &mc->f[1].cfg;
    MCHK(pcie_cfg_bar_declare(c, 0, PCIE_BAR_MEM32, 0x40000, false, NULL));
    MCHK(pcie_cfg_bar_set_addr(c, 0, 0xfe400000, NULL));
    MCHK(pcie_cfg_bridge_set_window(c, PCIE_WINDOW_MEM, 0xfe000000, 0xfe3fffff, NULL));
    pcie_cfg_raw_write16(c, PCIE_CFG_COMMAND, PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER |
                                                  PCIE_CMD_SERR);
    pcie_cfg_raw_write8(c, PCIE_CFG_INTERRUPT_LINE, 0xff);
    pcie_cfg_raw_write16(c, PCIE_CFG_BRIDGE_CONTROL, PCIE_BCTL_SERR);
    struct pcie_pm_params pm_sw = {.pme_support = 0x19};
    MCHK(pcie_cap_add_pm(c, &pm_sw, 0x40, NULL));
    struct pcie_msi_params sw_msi = {.addr64 = true, .vectors = 8, .per_vector_mask = true};
    MCHK(pcie_cap_add_msi(c, &sw_msi, 0x48, NULL));
    struct pcie_exp_params up = {
        .type = PCIE_PORT_UPSTREAM, .mps_supported = 2048, .rber = true, .max_speed = 3,
        .max_width = 16, .aspm_support = 2, .l1_exit_latency = 6, .port_number = 0,
        .link_up = true, .slot_power_value = 25, .slot_power_scale = 0,
        .completion_timeout_ranges = 0, .ltr = true, .atomic_routing = false,
    };
    MCHK(pcie_cap_add_exp(c, &up, 0x68, NULL));
    pcie_exp_set_link(c, 3, 4, true);
    MCHK(pcie_cap_add_ssvid(c, 0x10b5, 0x8747, 0xa4, NULL));
    MCHK(pcie_ecap_add_dsn(c, 0x000edfb5100087abull, 0x100, NULL));
    struct pcie_aer_params sw_aer = {.ecrc_gen_capable = true, .ecrc_check_capable = true};
    MCHK(pcie_ecap_add_aer(c, &sw_aer, 0xfb4, NULL));

    /* 02:08.0, 02:09.0, 02:10.0 downstream ports with slots */
    static const struct {
        uint8_t dev, sec, speed, width;
        bool present;
        uint32_t mem_lo, mem_hi;
    } dsp[3] = {
        {0x08, 0x03, 2, 1, true, 0xfe000000, 0xfe0fffff},
        {0x09, 0x04, 1, 1, true, 0xfe100000, 0xfe1fffff},
        {0x10, 0x05, 1, 0, false, 1, 0},
    };
    for (unsigned i = 0; i < 3; i++) {
        struct machine_func *m = &mc->f[2 + i];
        MCHK(machine_bridge(m, 0x02, dsp[i].dev, 0, 0x10b5, 0x8747, 0xca, 0x02, dsp[i].sec,
                            dsp[i].sec));
        c = &m->cfg;
        MCHK(pcie_cfg_bridge_set_window(c, PCIE_WINDOW_MEM, dsp[i].mem_lo, dsp[i].mem_hi, NULL));
        pcie_cfg_raw_write16(c, PCIE_CFG_COMMAND, PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER |
                                                      PCIE_CMD_SERR | PCIE_CMD_INTX_DISABLE);
        pcie_cfg_raw_write8(c, PCIE_CFG_INTERRUPT_LINE, 0xff);
        pcie_cfg_raw_write16(c, PCIE_CFG_BRIDGE_CONTROL, PCIE_BCTL_SERR);
        MCHK(pcie_cap_add_pm(c, &pm_sw, 0x40, NULL));
        MCHK(off = pcie_cap_add_msi(c, &sw_msi, 0x48, NULL));
        pcie_cfg_raw_write16(c, (unsigned)off + PCIE_MSI_CTRL,
                             pcie_cfg_raw_read16(c, (unsigned)off + PCIE_MSI_CTRL) | 1);
        pcie_cfg_raw_write32(c, (unsigned)off + PCIE_MSI_ADDR_LO, 0xfee00000);
        pcie_cfg_raw_write16(c, pcie_msi_data_off(c, (unsigned)off), (uint16_t)(0x0025 + i));
        struct pcie_exp_params dp = {
            .type = PCIE_PORT_DOWNSTREAM, .mps_supported = 2048, .rber = true,
            .max_speed = 3, .max_width = 4, .aspm_support = 2, .l1_exit_latency = 6,
            .dll_active_reporting = true, .link_bw_notification = true,
            .surprise_down_reporting = true, .port_number = dsp[i].dev,
            .ari_forwarding = true, .slot_implemented = true,
            .slot = {.attention_button = true, .power_controller = true,
                     .attention_indicator = true, .power_indicator = true,
                     .hotplug_capable = true, .power_limit_value = 25,
                     .slot_number = (uint16_t)(dsp[i].dev), .present = dsp[i].present},
        };
        MCHK(off = pcie_cap_add_exp(c, &dp, 0x68, NULL));
        if (i == 0)
            mc->dsp_exp = (unsigned)off;
        pcie_exp_set_link(c, dsp[i].speed, dsp[i].width, dsp[i].present);
        /* hot-plug driver state: slot powered, indicators on, events enabled */
        pcie_cfg_raw_write16(c, (unsigned)off + PCIE_EXP_SLTCTL,
                             dsp[i].present ? 0x1128 | 0x0100 | 0x00c0 : 0x1128 | 0x0300 |
                                                                           0x00c0 | 0x0400);
        pcie_cfg_raw_write16(c, (unsigned)off + PCIE_EXP_SLTSTA,
                             pcie_cfg_raw_read16(c, (unsigned)off + PCIE_EXP_SLTSTA) &
                                 (uint16_t)~PCIE_SLTSTA_DLLSC);
        MCHK(pcie_cap_add_ssvid(c, 0x10b5, 0x8747, 0xa4, NULL));
        MCHK(pcie_ecap_add_dsn(c, 0x000edfb5100087abull, 0x100, NULL));
        struct pcie_acs_params acs = {.capabilities = PCIE_ACS_SV | PCIE_ACS_TB | PCIE_ACS_RR |
                                                      PCIE_ACS_CR | PCIE_ACS_UF | PCIE_ACS_EC |
                                                      PCIE_ACS_DT,
                                      .egress_vector_bits = 32};
        MCHK(off = pcie_ecap_add_acs(c, &acs, 0xf24, NULL));
        pcie_cfg_raw_write16(c, (unsigned)off + PCIE_ACS_CTRL, 0x001d);
        MCHK(pcie_ecap_add_aer(c, &sw_aer, 0xfb4, NULL));
    }

    /* 03:00.0 Lattice ECP5 endpoint (seed): Gen2 x1, two MSI vectors enabled */
    struct machine_func *m = &mc->f[5];
    m->bus = 0x03;
    struct pcie_cfg_ident ecp5 = {.vendor_id = 0x1204, .device_id = 0xe250, .revision = 0x01,
                                  .class_code = 0x118000, .subsys_vendor_id = 0x1204,
                                  .subsys_id = 0x3010, .interrupt_pin = 1, .pcie = true};
    c = &m->cfg;
    MCHK(pcie_cfg_init_type0(c, &ecp5, NULL));
    MCHK(pcie_cfg_bar_declare(c, 0, PCIE_BAR_MEM32, 0x10000, false, NULL));
    MCHK(pcie_cfg_bar_declare(c, 1, PCIE_BAR_MEM32, 0x1000, false, NULL));
    MCHK(pcie_cfg_bar_set_addr(c, 0, 0xfe000000, NULL));
    MCHK(pcie_cfg_bar_set_addr(c, 1, 0xfe010000, NULL));
    pcie_cfg_raw_write16(c, PCIE_CFG_COMMAND, PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER |
                                                  PCIE_CMD_INTX_DISABLE);
    pcie_cfg_raw_write8(c, PCIE_CFG_INTERRUPT_LINE, 0xff);
    struct pcie_pm_params pm_ep = {.d1 = true, .d2 = true, .pme_support = 0x0f};
    MCHK(pcie_cap_add_pm(c, &pm_ep, 0x50, NULL));
    struct pcie_msi_params ep_msi = {.addr64 = true, .vectors = 2};
    MCHK(off = pcie_cap_add_msi(c, &ep_msi, 0x70, NULL));
    mc->ecp5_msi = (unsigned)off;
    pcie_cfg_raw_write16(c, (unsigned)off + PCIE_MSI_CTRL,
                         pcie_cfg_raw_read16(c, (unsigned)off + PCIE_MSI_CTRL) | 0x11);
    pcie_cfg_raw_write32(c, (unsigned)off + PCIE_MSI_ADDR_LO, 0xfee00000);
    pcie_cfg_raw_write16(c, pcie_msi_data_off(c, (unsigned)off), 0x4022);
    struct pcie_exp_params ep = {
        .type = PCIE_PORT_ENDPOINT, .mps_supported = 512, .rber = true, .ext_tag = false,
        .l0s_acceptable = 7, .l1_acceptable = 7, .max_speed = 2, .max_width = 1,
        .aspm_support = 1, .l0s_exit_latency = 5, .link_up = true, .slot_clock = true,
    };
    MCHK(pcie_cap_add_exp(c, &ep, 0x90, NULL));
    /* Linux: MPS 256 (the path's minimum), MRRS 512, Relaxed Ordering, No Snoop */
    pcie_cfg_raw_write16(c, 0x90 + PCIE_EXP_DEVCTL, 0x2830);
    pcie_cfg_raw_write16(c, 0x90 + PCIE_EXP_LNKCTL, PCIE_LNKCTL_CCC);
    MCHK(pcie_ecap_add_aer(c, &sw_aer, 0x100, NULL));

    /* 04:00.0 Intel I210 Gigabit Network Connection: MSI-X with 5 vectors */
    m = &mc->f[6];
    m->bus = 0x04;
    struct pcie_cfg_ident i210 = {.vendor_id = 0x8086, .device_id = 0x1533, .revision = 0x03,
                                  .class_code = 0x020000, .subsys_vendor_id = 0x8086,
                                  .subsys_id = 0x0001, .interrupt_pin = 1, .pcie = true};
    c = &m->cfg;
    MCHK(pcie_cfg_init_type0(c, &i210, NULL));
    MCHK(pcie_cfg_bar_declare(c, 0, PCIE_BAR_MEM32, 0x80000, false, NULL));
    MCHK(pcie_cfg_bar_declare(c, 2, PCIE_BAR_IO, 32, false, NULL));
    MCHK(pcie_cfg_bar_declare(c, 3, PCIE_BAR_MEM32, 0x4000, false, NULL));
    MCHK(pcie_cfg_bar_set_addr(c, 0, 0xfe100000, NULL));
    MCHK(pcie_cfg_bar_set_addr(c, 3, 0xfe180000, NULL));
    pcie_cfg_raw_write16(c, PCIE_CFG_COMMAND, PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER |
                                                  PCIE_CMD_INTX_DISABLE);
    pcie_cfg_raw_write8(c, PCIE_CFG_INTERRUPT_LINE, 0xff);
    struct pcie_pm_params pm_nic = {.pme_support = 0x19, .dsi = true, .aux_current = 0};
    MCHK(pcie_cap_add_pm(c, &pm_nic, 0x40, NULL));
    struct pcie_msi_params nic_msi = {.addr64 = true, .vectors = 1, .per_vector_mask = true};
    MCHK(pcie_cap_add_msi(c, &nic_msi, 0x50, NULL));
    struct pcie_msix_params nic_msix = {.table_size = 5, .table_bir = 3, .table_offset = 0,
                                        .pba_bir = 3, .pba_offset = 0x2000};
    MCHK(off = pcie_cap_add_msix(c, &nic_msix, 0x70, NULL));
    mc->i210_msix = (unsigned)off;
    pcie_cfg_raw_write16(c, (unsigned)off + PCIE_MSIX_CTRL,
                         pcie_cfg_raw_read16(c, (unsigned)off + PCIE_MSIX_CTRL) |
                             PCIE_MSIX_CTRL_ENABLE);
    struct pcie_exp_params nic = {
        .type = PCIE_PORT_ENDPOINT, .mps_supported = 512, .rber = true, .flr = true,
        .l0s_acceptable = 3, .l1_acceptable = 6, .max_speed = 1, .max_width = 1,
        .aspm_support = 3, .l0s_exit_latency = 6, .l1_exit_latency = 6, .link_up = true,
        .slot_clock = true, .completion_timeout_ranges = 0xf,
        .completion_timeout_disable = true, .ltr = true, .aspm_optionality = true,
    };
    MCHK(off = pcie_cap_add_exp(c, &nic, 0xa0, NULL));
    mc->i210_exp = (unsigned)off;
    pcie_cfg_raw_write16(c, (unsigned)off + PCIE_EXP_DEVCTL, 0x2830 | 0x000f);
    pcie_cfg_raw_write16(c, (unsigned)off + PCIE_EXP_LNKCTL, PCIE_LNKCTL_CCC | PCIE_LNKCTL_RCB);
    struct pcie_aer_params nic_aer = {.ecrc_gen_capable = true, .ecrc_check_capable = true};
    MCHK(pcie_ecap_add_aer(c, &nic_aer, 0x100, NULL));
    MCHK(pcie_ecap_add_dsn(c, 0x001b21fffe8a9c10ull, 0x140, NULL));
    return 0;
}

#endif
