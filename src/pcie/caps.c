/* Capability builders, list walking and field queries. Register layouts and
 * attributes follow PCI Express Base Specification 5.0 chapter 7 (sections named
 * beside each register), PCI Bus PM Interface Specification 1.2 and PCI Local Bus
 * Specification 3.0 6.7/6.8. */
#include "pcie/caps.h"

#include <string.h>

#define DW_USED(cfg, off) ((cfg)->used[(off) / 128] & (1u << (((off) / 4) % 32)))

static void mark_used(struct pcie_cfg *cfg, unsigned off, unsigned len)
{
    for (unsigned o = off & ~3u; o < off + len; o += 4)
        cfg->used[o / 128] |= 1u << ((o / 4) % 32);
}

static bool range_free(const struct pcie_cfg *cfg, unsigned off, unsigned len)
{
    for (unsigned o = off & ~3u; o < off + len; o += 4)
        if (DW_USED(cfg, o))
            return false;
    return true;
}

/* Finds room for a capability of `len` bytes and links it into the list. */
static int cap_place(struct pcie_cfg *cfg, bool extended, unsigned at, unsigned len,
                     const char *what, struct pcilab_err *err)
{
    unsigned lo = extended ? 0x100 : 0x40, hi = extended ? PCIE_CFG_SPACE_SIZE : 0x100;
    len = (len + 3) & ~3u;
    if (extended && cfg->size < PCIE_CFG_SPACE_SIZE)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%s: a conventional PCI function has no extended configuration "
                           "space (PCIe 5.0 7.2.2)", what);
    if (at == 0) {
        /* first free DWORD-aligned gap large enough, from the start of the area */
        at = lo;
        while (at + len <= hi && !range_free(cfg, at, len))
            at += 4;
    } else {
        if (at & 3)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "%s at %#x: capabilities are DWORD aligned (PCI 3.0 6.7)", what,
                               at);
        if (at < lo)
            return pcilab_errf(err, PCILAB_EINVAL, "%s at %#x: below %#x", what, at, lo);
        if (at + len > hi)
            return pcilab_errf(err, PCILAB_ERANGE, "%s (%u bytes) at %#x does not fit below %#x",
                               what, len, at, hi);
        if (!range_free(cfg, at, len))
            return pcilab_errf(err, PCILAB_EEXIST, "%s at %#x overlaps another capability",
                               what, at);
    }
    if (at + len > hi)
        return pcilab_errf(err, PCILAB_ERANGE, "%s (%u bytes) does not fit below %#x", what,
                           len, hi);
    if (extended) {
        /* PCIe 5.0 7.6.2: the extended list always starts at 100h. */
        if (!DW_USED(cfg, 0x100) && at != 0x100)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "%s at %#x: the first extended capability must be at 100h",
                               what, at);
        if (DW_USED(cfg, 0x100)) {
            unsigned p = 0x100, guard = 0;
            for (;;) {
                unsigned next = pcie_cfg_raw_read32(cfg, p) >> 20;
                if (!next || ++guard > 1024)
                    break;
                p = next;
            }
            uint32_t h = pcie_cfg_raw_read32(cfg, p);
            h = (h & 0x000fffffu) | ((uint32_t)at << 20);
            pcie_cfg_raw_write32(cfg, p, h);
            cfg->reset[p + 2] = cfg->data[p + 2];
            cfg->reset[p + 3] = cfg->data[p + 3];
        }
    } else {
        unsigned p = cfg->data[PCIE_CFG_CAP_PTR];
        if (!p) {
            pcie_cfg_define(cfg, PCIE_CFG_CAP_PTR, 1, at, 0, 0);
            /* 7.5.1.1.4: Capabilities List is RO 1 once a capability exists. */
            cfg->data[PCIE_CFG_STATUS] |= PCIE_STS_CAP_LIST;
            cfg->reset[PCIE_CFG_STATUS] |= PCIE_STS_CAP_LIST;
        } else {
            unsigned guard = 0;
            while (cfg->data[p + 1] && ++guard < 64)
                p = cfg->data[p + 1] & ~3u;
            cfg->data[p + 1] = (uint8_t)at;
            cfg->reset[p + 1] = (uint8_t)at;
        }
    }
    mark_used(cfg, at, len);
    if (extended) {
        if (at + len > cfg->ecap_next_free)
            cfg->ecap_next_free = (uint16_t)(at + len);
    } else if (at + len > cfg->cap_next_free) {
        cfg->cap_next_free = (uint16_t)(at + len);
    }
    return (int)at;
}

static void std_header(struct pcie_cfg *cfg, unsigned at, uint8_t id)
{
    pcie_cfg_define(cfg, at, 1, id, 0, 0);
    /* the next pointer was already set by cap_place if this is not the last; a
     * new capability is always last */
    pcie_cfg_define(cfg, at + 1, 1, 0, 0, 0);
}

static void ext_header(struct pcie_cfg *cfg, unsigned at, uint16_t id, uint8_t version)
{
    /* PCIe 5.0 7.6.3: ID 15:0, Capability Version 19:16, Next Offset 31:20. */
    pcie_cfg_define(cfg, at, 4, id | (uint32_t)(version & 0xf) << 16, 0, 0);
}

/* ---- Power Management ---- */

int pcie_cap_add_pm(struct pcie_cfg *cfg, const struct pcie_pm_params *p, unsigned at,
                    struct pcilab_err *err)
{
    if (p->aux_current > 7 || p->pme_support > 0x1f)
        return pcilab_errf(err, PCILAB_EINVAL, "PM: aux current or PME support out of range");
    if ((p->pme_support & PCIE_PM_PME_D1 && !p->d1) || (p->pme_support & PCIE_PM_PME_D2 && !p->d2))
        return pcilab_errf(err, PCILAB_EINVAL, "PM: PME from D1/D2 needs D1/D2 support");
    int r = cap_place(cfg, false, at, 8, "power management capability", err);
    if (r < 0)
        return r;
    at = (unsigned)r;
    std_header(cfg, at, PCIE_CAP_ID_PM);
    /* PMC, PM 1.2 3.2.3 / PCIe 5.0 7.5.2.1: Version 011b (PM 1.2), PME Clock 0,
     * DSI bit 5, Aux_Current 8:6, D1 bit 9, D2 bit 10, PME_Support 15:11. */
    uint16_t pmc = 0x3 | (p->dsi ? 1u << 5 : 0) | (uint16_t)(p->aux_current << 6) |
                   (p->d1 ? 1u << 9 : 0) | (p->d2 ? 1u << 10 : 0) |
                   (uint16_t)(p->pme_support << 11);
    pcie_cfg_define(cfg, at + PCIE_PM_PMC, 2, pmc, 0, 0);
    /* PMCSR, PM 1.2 3.2.4 / 7.5.2.2: PowerState 1:0 RW, No_Soft_Reset bit 3 RO,
     * PME_En bit 8 RW (sticky when PME from D3cold is supported), Data_Select /
     * Data_Scale RO 0 (no Data register), PME_Status bit 15 RW1C (sticky). */
    bool d3cold = p->pme_support & PCIE_PM_PME_D3COLD;
    uint32_t pmcsr = p->no_soft_reset ? 1u << 3 : 0;
    pcie_cfg_define_ex(cfg, at + PCIE_PM_PMCSR, 2, pmcsr, p->pme_support ? 0x0103u : 0x0003u,
                       p->pme_support ? 0x8000u : 0, 0, d3cold ? 0x8100u : 0);
    /* PMCSR_BSE and Data: RO 0 on PCI Express (7.5.2.2). */
    pcie_cfg_define(cfg, at + PCIE_PM_PMCSR_BSE, 2, 0, 0, 0);
    return (int)at;
}

enum pcie_dstate pcie_pm_state(const struct pcie_cfg *cfg)
{
    unsigned pm = pcie_cap_find(cfg, PCIE_CAP_ID_PM);
    return pm ? (enum pcie_dstate)(cfg->data[pm + PCIE_PM_PMCSR] & 3) : PCIE_D0;
}

/* ---- MSI ---- */

unsigned pcie_msi_data_off(const struct pcie_cfg *cfg, unsigned cap)
{
    uint16_t ctl = pcie_cfg_raw_read16(cfg, cap + PCIE_MSI_CTRL);
    return cap + ((ctl & PCIE_MSI_CTRL_64BIT) ? 0x0c : 0x08);
}

unsigned pcie_msi_mask_off(const struct pcie_cfg *cfg, unsigned cap)
{
    uint16_t ctl = pcie_cfg_raw_read16(cfg, cap + PCIE_MSI_CTRL);
    if (!(ctl & PCIE_MSI_CTRL_PVM))
        return 0;
    return cap + ((ctl & PCIE_MSI_CTRL_64BIT) ? 0x10 : 0x0c);
}

unsigned pcie_msi_pending_off(const struct pcie_cfg *cfg, unsigned cap)
{
    unsigned m = pcie_msi_mask_off(cfg, cap);
    return m ? m + 4 : 0;
}

int pcie_cap_add_msi(struct pcie_cfg *cfg, const struct pcie_msi_params *p, unsigned at,
                     struct pcilab_err *err)
{
    unsigned log2 = 0;
    while (log2 < 6 && (1u << log2) < p->vectors)
        log2++;
    if (p->vectors == 0 || log2 > 5 || (1u << log2) != p->vectors)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "MSI: %u vectors; Multiple Message Capable allows 1, 2, 4, 8, 16 "
                           "or 32 (PCIe 5.0 7.7.1.2)", p->vectors);
    /* 7.7.1: sizes 0Ah/0Eh without masking, 14h/18h with Per-Vector Masking. */
    unsigned len = p->per_vector_mask ? (p->addr64 ? 0x18 : 0x14) : (p->addr64 ? 0x10 : 0x0c);
    int r = cap_place(cfg, false, at, len, "MSI capability", err);
    if (r < 0)
        return r;
    at = (unsigned)r;
    std_header(cfg, at, PCIE_CAP_ID_MSI);
    /* Message Control, 7.7.1.2: Enable RW, MMC RO, MME RW, 64-bit and PVM RO. */
    uint16_t ctl = (uint16_t)(log2 << PCIE_MSI_CTRL_MMC_SHIFT) |
                   (p->addr64 ? PCIE_MSI_CTRL_64BIT : 0) |
                   (p->per_vector_mask ? PCIE_MSI_CTRL_PVM : 0);
    pcie_cfg_define(cfg, at + PCIE_MSI_CTRL, 2, ctl,
                    PCIE_MSI_CTRL_ENABLE | PCIE_MSI_CTRL_MME_MASK, 0);
    /* Message Address, 7.7.1.3: bits 1:0 RO 0 (DWORD aligned). */
    pcie_cfg_define(cfg, at + PCIE_MSI_ADDR_LO, 4, 0, 0xfffffffcu, 0);
    if (p->addr64) /* Message Upper Address, 7.7.1.4 */
        pcie_cfg_define(cfg, at + 0x08, 4, 0, 0xffffffffu, 0);
    /* Message Data, 7.7.1.5: 16 bits RW. */
    unsigned data = pcie_msi_data_off(cfg, at);
    pcie_cfg_define(cfg, data, 2, 0, 0xffff, 0);
    if (p->per_vector_mask) {
        /* Mask Bits 7.7.1.7: RW for implemented vectors; Pending Bits 7.7.1.8: RO. */
        uint32_t impl = p->vectors == 32 ? 0xffffffffu : (1u << p->vectors) - 1;
        pcie_cfg_define(cfg, pcie_msi_mask_off(cfg, at), 4, 0, impl, 0);
        pcie_cfg_define(cfg, pcie_msi_pending_off(cfg, at), 4, 0, 0, 0);
    }
    return (int)at;
}

/* ---- MSI-X ---- */

int pcie_cap_add_msix(struct pcie_cfg *cfg, const struct pcie_msix_params *p, unsigned at,
                      struct pcilab_err *err)
{
    if (p->table_size < 1 || p->table_size > 2048)
        return pcilab_errf(err, PCILAB_EINVAL, "MSI-X: table size %u is not 1..2048 (7.7.2.2)",
                           p->table_size);
    if (p->table_bir > 5 || p->pba_bir > 5)
        return pcilab_errf(err, PCILAB_EINVAL, "MSI-X: BIR must name BAR 0..5 (7.7.2.3)");
    if ((p->table_offset & 7) || (p->pba_offset & 7))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "MSI-X: table/PBA offsets must be QWORD aligned (7.7.2.3/7.7.2.4)");
    for (int which = 0; which < 2; which++) {
        unsigned bir = which ? p->pba_bir : p->table_bir;
        uint64_t off = which ? p->pba_offset : p->table_offset;
        uint64_t len = which ? ((p->table_size + 63) / 64) * 8 : (uint64_t)p->table_size * 16;
        enum pcie_bar_type t = pcie_cfg_bar_type(cfg, bir);
        if (t == PCIE_BAR_NONE || t == PCIE_BAR_IO)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "MSI-X: %s BIR %u is not a memory BAR", which ? "PBA" : "table",
                               bir);
        if (off + len > pcie_cfg_bar_size(cfg, bir))
            return pcilab_errf(err, PCILAB_ERANGE, "MSI-X: %s does not fit in BAR%u",
                               which ? "PBA" : "table", bir);
    }
    if (p->table_bir == p->pba_bir) {
        uint64_t t0 = p->table_offset, t1 = t0 + (uint64_t)p->table_size * 16;
        uint64_t p0 = p->pba_offset, p1 = p0 + ((p->table_size + 63) / 64) * 8;
        if (t0 < p1 && p0 < t1)
            return pcilab_errf(err, PCILAB_EINVAL, "MSI-X: table and PBA overlap");
    }
    int r = cap_place(cfg, false, at, 12, "MSI-X capability", err);
    if (r < 0)
        return r;
    at = (unsigned)r;
    std_header(cfg, at, PCIE_CAP_ID_MSIX);
    /* Message Control 7.7.2.2: Table Size RO (N-1), Function Mask and Enable RW. */
    pcie_cfg_define(cfg, at + PCIE_MSIX_CTRL, 2, p->table_size - 1,
                    PCIE_MSIX_CTRL_MASKALL | PCIE_MSIX_CTRL_ENABLE, 0);
    /* Table Offset/Table BIR 7.7.2.3 and PBA Offset/PBA BIR 7.7.2.4: RO. */
    pcie_cfg_define(cfg, at + PCIE_MSIX_TABLE, 4, p->table_offset | p->table_bir, 0, 0);
    pcie_cfg_define(cfg, at + PCIE_MSIX_PBA, 4, p->pba_offset | p->pba_bir, 0, 0);
    return (int)at;
}

/* ---- PCI Express capability ---- */

const char *pcie_port_type_name(enum pcie_port_type t)
{
    switch (t) {
    case PCIE_PORT_ENDPOINT: return "Endpoint";
    case PCIE_PORT_LEGACY_ENDPOINT: return "Legacy Endpoint";
    case PCIE_PORT_ROOT_PORT: return "Root Port";
    case PCIE_PORT_UPSTREAM: return "Upstream Port";
    case PCIE_PORT_DOWNSTREAM: return "Downstream Port";
    case PCIE_PORT_PCIE_TO_PCI: return "PCI Express to PCI/PCI-X Bridge";
    case PCIE_PORT_PCI_TO_PCIE: return "PCI/PCI-X to PCI Express Bridge";
    case PCIE_PORT_RC_INTEGRATED_EP: return "Root Complex Integrated Endpoint";
    case PCIE_PORT_RC_EVENT_COLLECTOR: return "Root Complex Event Collector";
    }
    return "unknown";
}

const char *pcie_link_speed_name(uint8_t speed)
{
    static const char *const names[] = {"unknown", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s",
                                        "32GT/s"};
    return speed < sizeof names / sizeof names[0] ? names[speed] : "unknown";
}

static bool is_downstream_port(enum pcie_port_type t)
{
    return t == PCIE_PORT_ROOT_PORT || t == PCIE_PORT_DOWNSTREAM || t == PCIE_PORT_PCI_TO_PCIE;
}

static bool is_endpoint(enum pcie_port_type t)
{
    return t == PCIE_PORT_ENDPOINT || t == PCIE_PORT_LEGACY_ENDPOINT ||
           t == PCIE_PORT_RC_INTEGRATED_EP;
}

static bool has_link(enum pcie_port_type t)
{
    /* 7.5.3: Link registers are reserved for RC integrated endpoints and RCECs. */
    return t != PCIE_PORT_RC_INTEGRATED_EP && t != PCIE_PORT_RC_EVENT_COLLECTOR;
}

static int mps_code(unsigned bytes)
{
    for (int c = 0; c <= 5; c++)
        if (bytes == 128u << c)
            return c;
    return -1;
}

int pcie_cap_add_exp(struct pcie_cfg *cfg, const struct pcie_exp_params *p, unsigned at,
                     struct pcilab_err *err)
{
    enum pcie_port_type t = p->type;
    switch (t) {
    case PCIE_PORT_ENDPOINT: case PCIE_PORT_LEGACY_ENDPOINT: case PCIE_PORT_ROOT_PORT:
    case PCIE_PORT_UPSTREAM: case PCIE_PORT_DOWNSTREAM: case PCIE_PORT_PCIE_TO_PCI:
    case PCIE_PORT_PCI_TO_PCIE: case PCIE_PORT_RC_INTEGRATED_EP:
    case PCIE_PORT_RC_EVENT_COLLECTOR:
        break;
    default:
        return pcilab_errf(err, PCILAB_EINVAL, "PCIe capability: device/port type %#x is "
                           "reserved (PCIe 5.0 7.5.3.2)", (unsigned)t);
    }
    bool bridge_hdr = pcie_cfg_header_type(cfg) == PCIE_HEADER_TYPE1;
    bool wants_bridge = t == PCIE_PORT_ROOT_PORT || t == PCIE_PORT_UPSTREAM ||
                        t == PCIE_PORT_DOWNSTREAM || t == PCIE_PORT_PCIE_TO_PCI ||
                        t == PCIE_PORT_PCI_TO_PCIE;
    if (bridge_hdr != wants_bridge)
        return pcilab_errf(err, PCILAB_EINVAL, "PCIe capability: a %s needs a Type %d header",
                           pcie_port_type_name(t), wants_bridge ? 1 : 0);
    int mps = mps_code(p->mps_supported ? p->mps_supported : 128);
    if (mps < 0)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "PCIe capability: Max_Payload_Size Supported %u is not 128..4096",
                           p->mps_supported);
    if (p->phantom_functions > 3 || p->l0s_acceptable > 7 || p->l1_acceptable > 7 ||
        p->l0s_exit_latency > 7 || p->l1_exit_latency > 7 || p->interrupt_message > 31 ||
        p->aspm_support > 3 || p->completion_timeout_ranges > 15 || p->slot_power_scale > 3 ||
        p->slot.power_limit_scale > 3 || p->slot.slot_number > 0x1fff)
        return pcilab_errf(err, PCILAB_EINVAL, "PCIe capability: a field is out of range");
    bool link = has_link(t);
    uint8_t speed = p->max_speed ? p->max_speed : 1, width = p->max_width ? p->max_width : 1;
    if (link) {
        if (speed > 5)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "PCIe capability: max link speed %u is not 1..5 (2.5..32 GT/s)",
                               speed);
        if (width != 1 && width != 2 && width != 4 && width != 8 && width != 12 &&
            width != 16 && width != 32)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "PCIe capability: link width x%u is not 1, 2, 4, 8, 12, 16, 32",
                               width);
    }
    uint8_t speeds = p->supported_speeds ? p->supported_speeds : (uint8_t)((1u << speed) - 1);
    if (link && (!(speeds & 1) || speeds > 0x1f || (speeds & (speeds + 1)) ||
                 (31 - __builtin_clz(speeds)) + 1 != speed))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "PCIe capability: supported speeds vector %#x must be contiguous "
                           "from 2.5 GT/s up to the max link speed (8.2.1)", speeds);
    bool slot = p->slot_implemented;
    if (slot && !(t == PCIE_PORT_ROOT_PORT || t == PCIE_PORT_DOWNSTREAM))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "PCIe capability: only root and downstream ports have slots");

    int r = cap_place(cfg, false, at, PCIE_EXP_SIZEOF, "PCI Express capability", err);
    if (r < 0)
        return r;
    at = (unsigned)r;
    std_header(cfg, at, PCIE_CAP_ID_EXP);

    /* 7.5.3.2 PCI Express Capabilities: version 2, type, Slot Implemented, IMN. */
    pcie_cfg_define(cfg, at + PCIE_EXP_FLAGS, 2,
                    0x2 | (uint32_t)t << 4 | (slot ? 1u << 8 : 0) |
                        (uint32_t)p->interrupt_message << 9,
                    0, 0);

    /* 7.5.3.3 Device Capabilities. */
    uint32_t devcap = (uint32_t)mps | (uint32_t)p->phantom_functions << 3 |
                      (p->ext_tag ? 1u << 5 : 0) | (p->rber ? 1u << 15 : 0);
    if (is_endpoint(t) && t != PCIE_PORT_RC_INTEGRATED_EP)
        devcap |= (uint32_t)p->l0s_acceptable << 6 | (uint32_t)p->l1_acceptable << 9;
    if (t == PCIE_PORT_UPSTREAM || t == PCIE_PORT_ENDPOINT || t == PCIE_PORT_LEGACY_ENDPOINT ||
        t == PCIE_PORT_PCIE_TO_PCI)
        devcap |= (uint32_t)p->slot_power_value << 18 | (uint32_t)p->slot_power_scale << 26;
    bool flr = p->flr && is_endpoint(t);
    if (flr)
        devcap |= 1u << 28;
    pcie_cfg_define(cfg, at + PCIE_EXP_DEVCAP, 4, devcap, 0, 0);

    /* 7.5.3.4 Device Control: error reporting enables, Relaxed Ordering (default 1),
     * MPS, Extended Tag, Phantom Functions, Aux Power (sticky), No Snoop (default 1),
     * MRRS (default 010b = 512 bytes); bit 15 is Bridge Configuration Retry Enable
     * for PCIe-to-PCI bridges, Initiate FLR (reads 0) for functions with FLR. */
    uint16_t devctl_rw = PCIE_DEVCTL_CERE | PCIE_DEVCTL_NFERE | PCIE_DEVCTL_FERE |
                         PCIE_DEVCTL_URRE | PCIE_DEVCTL_RELAXED | PCIE_DEVCTL_MPS_MASK |
                         PCIE_DEVCTL_AUX_PM | PCIE_DEVCTL_NOSNOOP | PCIE_DEVCTL_MRRS_MASK;
    if (p->ext_tag)
        devctl_rw |= PCIE_DEVCTL_EXT_TAG;
    if (p->phantom_functions)
        devctl_rw |= PCIE_DEVCTL_PHANTOM;
    uint16_t devctl_wz = 0;
    if (t == PCIE_PORT_PCIE_TO_PCI)
        devctl_rw |= PCIE_DEVCTL_BCR_FLR;
    else if (flr)
        devctl_wz = PCIE_DEVCTL_BCR_FLR;
    pcie_cfg_define_ex(cfg, at + PCIE_EXP_DEVCTL, 2,
                       PCIE_DEVCTL_RELAXED | PCIE_DEVCTL_NOSNOOP | (2u << 12), devctl_rw, 0,
                       devctl_wz, PCIE_DEVCTL_AUX_PM);
    /* 7.5.3.5 Device Status: error detected bits RW1C, AUX/Transactions Pending RO. */
    pcie_cfg_define(cfg, at + PCIE_EXP_DEVSTA, 2, 0, 0,
                    PCIE_DEVSTA_CED | PCIE_DEVSTA_NFED | PCIE_DEVSTA_FED | PCIE_DEVSTA_URD);

    if (link) {
        /* 7.5.3.6 Link Capabilities. */
        uint32_t lnkcap = speed | (uint32_t)width << 4 | (uint32_t)p->aspm_support << 10 |
                          (uint32_t)p->l0s_exit_latency << 12 |
                          (uint32_t)p->l1_exit_latency << 15 | (p->clock_pm ? 1u << 18 : 0) |
                          (p->surprise_down_reporting ? 1u << 19 : 0) |
                          (p->dll_active_reporting ? 1u << 20 : 0) |
                          (p->link_bw_notification ? 1u << 21 : 0) |
                          (p->aspm_optionality ? 1u << 22 : 0) |
                          (uint32_t)p->port_number << 24;
        pcie_cfg_define(cfg, at + PCIE_EXP_LNKCAP, 4, lnkcap, 0, 0);
        /* 7.5.3.7 Link Control: ASPM Control, Common Clock, Extended Synch RW; RCB
         * RW for endpoints and bridges (RO for root ports: we report 64 bytes);
         * Link Disable and Retrain Link (reads 0) for downstream ports; Clock PM,
         * Autonomous Width Disable, bandwidth interrupt enables where capable. */
        uint16_t lnkctl_rw = 0x0003 | PCIE_LNKCTL_CCC | 0x0080;
        uint16_t lnkctl_wz = 0;
        if (is_endpoint(t) || t == PCIE_PORT_PCIE_TO_PCI)
            lnkctl_rw |= PCIE_LNKCTL_RCB;
        if (is_downstream_port(t)) {
            lnkctl_rw |= PCIE_LNKCTL_DISABLE;
            lnkctl_wz |= PCIE_LNKCTL_RETRAIN;
            if (p->link_bw_notification)
                lnkctl_rw |= 0x0c00;
        }
        if (p->clock_pm)
            lnkctl_rw |= 0x0100;
        lnkctl_rw |= 0x0200; /* Hardware Autonomous Width Disable */
        pcie_cfg_define_ex(cfg, at + PCIE_EXP_LNKCTL, 2, 0, lnkctl_rw, 0, lnkctl_wz, 0);
        /* 7.5.3.8 Link Status: speed, width, training, slot clock, DLLLA RO; the two
         * bandwidth status bits RW1C. */
        uint16_t lnksta = p->slot_clock ? PCIE_LNKSTA_SLOTCLK : 0;
        if (p->link_up)
            lnksta |= speed | (uint16_t)(width << 4) |
                      (p->dll_active_reporting ? PCIE_LNKSTA_DLLLA : 0);
        else
            lnksta |= 1; /* 2.5 GT/s, x0: link not trained */
        pcie_cfg_define(cfg, at + PCIE_EXP_LNKSTA, 2, lnksta, 0,
                        p->link_bw_notification && is_downstream_port(t)
                            ? PCIE_LNKSTA_LBMS | PCIE_LNKSTA_LABS
                            : 0);
    }

    if (slot) {
        const struct pcie_slot_params *s = &p->slot;
        /* 7.5.3.9 Slot Capabilities (HwInit). */
        uint32_t sltcap = (s->attention_button ? 1u : 0) | (s->power_controller ? 2u : 0) |
                          (s->mrl_sensor ? 4u : 0) | (s->attention_indicator ? 8u : 0) |
                          (s->power_indicator ? 0x10u : 0) | (s->hotplug_surprise ? 0x20u : 0) |
                          (s->hotplug_capable ? 0x40u : 0) |
                          (uint32_t)s->power_limit_value << 7 |
                          (uint32_t)s->power_limit_scale << 15 | (s->interlock ? 1u << 17 : 0) |
                          (s->no_command_completed ? 1u << 18 : 0) |
                          (uint32_t)s->slot_number << 19;
        pcie_cfg_define(cfg, at + PCIE_EXP_SLTCAP, 4, sltcap, 0, 0);
        /* 7.5.3.10 Slot Control: event enables RW; indicator controls RW where the
         * indicator exists (reset 11b = Off), Power Controller Control RW where a
         * controller exists; Electromechanical Interlock Control reads 0. */
        uint16_t sltctl_rw = 0x003f | 0x1000;
        uint16_t sltctl = 0;
        if (s->attention_indicator) {
            sltctl_rw |= 0x00c0;
            sltctl |= 0x00c0;
        }
        if (s->power_indicator) {
            sltctl_rw |= 0x0300;
            sltctl |= 0x0300;
        }
        if (s->power_controller)
            sltctl_rw |= 0x0400;
        pcie_cfg_define_ex(cfg, at + PCIE_EXP_SLTCTL, 2, sltctl, sltctl_rw, 0,
                           s->interlock ? 0x0800 : 0, 0);
        /* 7.5.3.11 Slot Status: change bits RW1C, states RO. */
        pcie_cfg_define(cfg, at + PCIE_EXP_SLTSTA, 2, s->present ? PCIE_SLTSTA_PDS : 0, 0,
                        PCIE_SLTSTA_ABP | PCIE_SLTSTA_PFD | PCIE_SLTSTA_MRLSC |
                            PCIE_SLTSTA_PDC | PCIE_SLTSTA_CC | PCIE_SLTSTA_DLLSC);
    }

    if (t == PCIE_PORT_ROOT_PORT || t == PCIE_PORT_RC_EVENT_COLLECTOR) {
        /* 7.5.3.12 Root Control: system error enables and PME Interrupt Enable RW,
         * CRS Software Visibility Enable RW when capable. */
        pcie_cfg_define(cfg, at + PCIE_EXP_RTCTL, 2, 0, p->crs_visibility ? 0x1f : 0x0f, 0);
        /* 7.5.3.13 Root Capabilities. */
        pcie_cfg_define(cfg, at + PCIE_EXP_RTCAP, 2, p->crs_visibility ? 1 : 0, 0, 0);
        /* 7.5.3.14 Root Status: PME Requester ID RO, PME Status RW1C, PME Pending RO. */
        pcie_cfg_define(cfg, at + PCIE_EXP_RTSTA, 4, 0, 0, 1u << 16);
    }

    /* 7.5.3.15 Device Capabilities 2. */
    bool ports_route = t == PCIE_PORT_ROOT_PORT || t == PCIE_PORT_UPSTREAM ||
                       t == PCIE_PORT_DOWNSTREAM;
    uint32_t devcap2 = p->completion_timeout_ranges | (p->completion_timeout_disable ? 0x10u : 0) |
                       (p->ari_forwarding && is_downstream_port(t) ? 0x20u : 0) |
                       (p->atomic_routing && ports_route ? 0x40u : 0) |
                       (p->atomic32 ? 0x80u : 0) | (p->atomic64 ? 0x100u : 0) |
                       (p->cas128 ? 0x200u : 0) | (p->ltr ? 1u << 11 : 0) |
                       (p->tag10_completer ? 1u << 16 : 0) |
                       (p->tag10_requester ? 1u << 17 : 0) | (p->ext_fmt ? 1u << 20 : 0);
    pcie_cfg_define(cfg, at + PCIE_EXP_DEVCAP2, 4, devcap2, 0, 0);
    /* 7.5.3.16 Device Control 2: fields RW only where the capability exists. */
    uint16_t devctl2_rw = 0;
    if (p->completion_timeout_ranges)
        devctl2_rw |= 0x000f;
    if (p->completion_timeout_disable)
        devctl2_rw |= 0x0010;
    if (p->ari_forwarding && is_downstream_port(t))
        devctl2_rw |= 0x0020;
    if ((p->atomic32 || p->atomic64 || p->cas128) &&
        (is_endpoint(t) || t == PCIE_PORT_ROOT_PORT))
        devctl2_rw |= 0x0040; /* AtomicOp Requester Enable */
    if (p->atomic_routing && ports_route)
        devctl2_rw |= 0x0080; /* AtomicOp Egress Blocking */
    devctl2_rw |= 0x0300;     /* IDO Request/Completion Enable */
    if (p->ltr)
        devctl2_rw |= 0x0400;
    if (p->tag10_requester)
        devctl2_rw |= 0x1000; /* 10-Bit Tag Requester Enable */
    pcie_cfg_define(cfg, at + PCIE_EXP_DEVCTL2, 2, 0, devctl2_rw, 0);
    pcie_cfg_define(cfg, at + PCIE_EXP_DEVSTA2, 2, 0, 0, 0);

    if (link) {
        /* 7.5.3.18 Link Capabilities 2: Supported Link Speeds Vector, bits 7:1. */
        pcie_cfg_define(cfg, at + PCIE_EXP_LNKCAP2, 4, (uint32_t)speeds << 1, 0, 0);
        /* 7.5.3.19 Link Control 2: Target Link Speed RWS (default: highest speed),
         * Enter Compliance, Hardware Autonomous Speed Disable, Transmit Margin,
         * Enter Modified Compliance, Compliance SOS, Compliance Preset RWS;
         * Selectable De-emphasis HwInit (downstream ports). */
        uint16_t lnkctl2_rw = 0xffbf; /* all but bit 6 */
        pcie_cfg_define_ex(cfg, at + PCIE_EXP_LNKCTL2, 2, speed, lnkctl2_rw, 0, 0, lnkctl2_rw);
        /* 7.5.3.20 Link Status 2: Current De-emphasis Level etc. RO;
         * Link Equalization Request (bit 5) RW1CS. */
        pcie_cfg_define_ex(cfg, at + PCIE_EXP_LNKSTA2, 2, 0, 0, 0x0020, 0, 0x0020);
    }
    return (int)at;
}

static unsigned exp_cap(const struct pcie_cfg *cfg)
{
    return pcie_cap_find(cfg, PCIE_CAP_ID_EXP);
}

bool pcie_exp_present(const struct pcie_cfg *cfg)
{
    return exp_cap(cfg) != 0;
}

enum pcie_port_type pcie_exp_port_type(const struct pcie_cfg *cfg)
{
    unsigned c = exp_cap(cfg);
    return c ? (enum pcie_port_type)((cfg->data[c + PCIE_EXP_FLAGS] >> 4) & 0xf)
             : PCIE_PORT_ENDPOINT;
}

unsigned pcie_exp_mps_supported(const struct pcie_cfg *cfg)
{
    unsigned c = exp_cap(cfg);
    return c ? 128u << (pcie_cfg_raw_read32(cfg, c + PCIE_EXP_DEVCAP) & 7) : 128;
}

uint16_t pcie_exp_devctl(const struct pcie_cfg *cfg)
{
    unsigned c = exp_cap(cfg);
    return c ? pcie_cfg_raw_read16(cfg, c + PCIE_EXP_DEVCTL) : 0;
}

unsigned pcie_exp_mps(const struct pcie_cfg *cfg)
{
    /* 7.5.3.4: 000b = 128 bytes .. 101b = 4096 bytes; 110b/111b reserved. */
    unsigned code = (pcie_exp_devctl(cfg) & PCIE_DEVCTL_MPS_MASK) >> 5;
    return 128u << (code > 5 ? 0 : code);
}

unsigned pcie_exp_mrrs(const struct pcie_cfg *cfg)
{
    unsigned c = exp_cap(cfg);
    if (!c)
        return 4096; /* conventional PCI: no MRRS limit modelled */
    unsigned code = (pcie_exp_devctl(cfg) & PCIE_DEVCTL_MRRS_MASK) >> 12;
    return 128u << (code > 5 ? 0 : code);
}

bool pcie_exp_ext_tag_enabled(const struct pcie_cfg *cfg)
{
    return (pcie_exp_devctl(cfg) & PCIE_DEVCTL_EXT_TAG) != 0;
}

bool pcie_exp_tag10_enabled(const struct pcie_cfg *cfg)
{
    unsigned c = exp_cap(cfg);
    return c && (pcie_cfg_raw_read16(cfg, c + PCIE_EXP_DEVCTL2) & 0x1000);
}

unsigned pcie_exp_rcb(const struct pcie_cfg *cfg)
{
    unsigned c = exp_cap(cfg);
    return c && (pcie_cfg_raw_read16(cfg, c + PCIE_EXP_LNKCTL) & PCIE_LNKCTL_RCB) ? 128 : 64;
}

uint8_t pcie_exp_max_speed(const struct pcie_cfg *cfg)
{
    unsigned c = exp_cap(cfg);
    return c ? cfg->data[c + PCIE_EXP_LNKCAP] & 0xf : 0;
}

uint8_t pcie_exp_max_width(const struct pcie_cfg *cfg)
{
    unsigned c = exp_cap(cfg);
    return c ? (uint8_t)((pcie_cfg_raw_read32(cfg, c + PCIE_EXP_LNKCAP) >> 4) & 0x3f) : 0;
}

void pcie_exp_link(const struct pcie_cfg *cfg, uint8_t *speed, uint8_t *width, bool *dll_active)
{
    unsigned c = exp_cap(cfg);
    uint16_t s = c ? pcie_cfg_raw_read16(cfg, c + PCIE_EXP_LNKSTA) : 0;
    if (speed)
        *speed = s & PCIE_LNKSTA_SPEED;
    if (width)
        *width = (uint8_t)((s & PCIE_LNKSTA_WIDTH) >> 4);
    if (dll_active)
        *dll_active = (s & PCIE_LNKSTA_DLLLA) != 0;
}

void pcie_exp_set_link(struct pcie_cfg *cfg, uint8_t speed, uint8_t width, bool dll_active)
{
    unsigned c = exp_cap(cfg);
    if (!c || !has_link(pcie_exp_port_type(cfg)))
        return;
    uint16_t old = pcie_cfg_raw_read16(cfg, c + PCIE_EXP_LNKSTA);
    /* 7.5.3.8: Current Link Speed is undefined while the Link is down; ports
     * report the 2.5 GT/s encoding (0001b) then, never the reserved 0000b. */
    if (!speed)
        speed = 1;
    bool reporting = pcie_cfg_raw_read32(cfg, c + PCIE_EXP_LNKCAP) & (1u << 20);
    uint16_t v = (uint16_t)((speed & 0xf) | ((width & 0x3f) << 4));
    if (dll_active && reporting)
        v |= PCIE_LNKSTA_DLLLA;
    pcie_cfg_raw_update(cfg, c + PCIE_EXP_LNKSTA, 2,
                        PCIE_LNKSTA_SPEED | PCIE_LNKSTA_WIDTH | PCIE_LNKSTA_DLLLA, v);
    /* 7.5.3.11: Data Link Layer State Changed is set when DLLLA changes. */
    if (pcie_exp_port_type(cfg) == PCIE_PORT_ROOT_PORT ||
        pcie_exp_port_type(cfg) == PCIE_PORT_DOWNSTREAM) {
        if ((cfg->data[c + PCIE_EXP_FLAGS + 1] & 1) && reporting &&
            ((old ^ v) & PCIE_LNKSTA_DLLLA))
            pcie_cfg_raw_update(cfg, c + PCIE_EXP_SLTSTA, 2, PCIE_SLTSTA_DLLSC,
                                PCIE_SLTSTA_DLLSC);
    }
}

void pcie_exp_devsta_set(struct pcie_cfg *cfg, uint16_t bits)
{
    unsigned c = exp_cap(cfg);
    if (c)
        pcie_cfg_raw_update(cfg, c + PCIE_EXP_DEVSTA, 2, bits, bits);
}

void pcie_exp_set_presence(struct pcie_cfg *cfg, bool present)
{
    unsigned c = exp_cap(cfg);
    if (!c || !(cfg->data[c + PCIE_EXP_FLAGS + 1] & 1))
        return;
    uint16_t s = pcie_cfg_raw_read16(cfg, c + PCIE_EXP_SLTSTA);
    bool was = s & PCIE_SLTSTA_PDS;
    if (was == present)
        return;
    s = (uint16_t)((s & ~PCIE_SLTSTA_PDS) | (present ? PCIE_SLTSTA_PDS : 0) | PCIE_SLTSTA_PDC);
    pcie_cfg_raw_write16(cfg, c + PCIE_EXP_SLTSTA, s);
}

/* ---- Subsystem ID capability ---- */

int pcie_cap_add_ssvid(struct pcie_cfg *cfg, uint16_t vendor, uint16_t id, unsigned at,
                       struct pcilab_err *err)
{
    int r = cap_place(cfg, false, at, 8, "subsystem ID capability", err);
    if (r < 0)
        return r;
    at = (unsigned)r;
    std_header(cfg, at, PCIE_CAP_ID_SSVID);
    pcie_cfg_define(cfg, at + 2, 2, 0, 0, 0);
    pcie_cfg_define(cfg, at + 4, 2, vendor, 0, 0);
    pcie_cfg_define(cfg, at + 6, 2, id, 0, 0);
    return (int)at;
}

/* ---- AER ---- */

#define AER_UNC_IMPL (PCIE_AER_UNC_DLP | PCIE_AER_UNC_SURPRISE | PCIE_AER_UNC_POISONED | \
                      PCIE_AER_UNC_FCP | PCIE_AER_UNC_COMP_TIMEOUT | PCIE_AER_UNC_COMP_ABORT | \
                      PCIE_AER_UNC_UNEXP_COMP | PCIE_AER_UNC_RX_OVERFLOW | \
                      PCIE_AER_UNC_MALFORMED | PCIE_AER_UNC_ECRC | PCIE_AER_UNC_UNSUP_REQ | \
                      PCIE_AER_UNC_ACS_VIOL | PCIE_AER_UNC_INTERNAL)
/* 7.8.4.4: Uncorrectable Error Severity default, the errors that are fatal
 * after reset: DLP, Surprise Down, FCP, Receiver Overflow, Malformed TLP,
 * Uncorrectable Internal Error. */
#define AER_UNC_SEVER_DEFAULT (PCIE_AER_UNC_DLP | PCIE_AER_UNC_SURPRISE | PCIE_AER_UNC_FCP | \
                               PCIE_AER_UNC_RX_OVERFLOW | PCIE_AER_UNC_MALFORMED |           \
                               PCIE_AER_UNC_INTERNAL)
_Static_assert(AER_UNC_SEVER_DEFAULT == 0x00462030u, "7.8.4.4 default severity");
#define AER_COR_IMPL (PCIE_AER_COR_RX_ERR | PCIE_AER_COR_BAD_TLP | PCIE_AER_COR_BAD_DLLP | \
                      PCIE_AER_COR_ROLLOVER | PCIE_AER_COR_TIMEOUT | PCIE_AER_COR_ADV_NONFATAL)

int pcie_ecap_add_aer(struct pcie_cfg *cfg, const struct pcie_aer_params *p, unsigned at,
                      struct pcilab_err *err)
{
    if (p->root_interrupt_message > 31)
        return pcilab_errf(err, PCILAB_EINVAL, "AER: interrupt message number > 31");
    int r = cap_place(cfg, true, at, 0x38, "AER capability", err);
    if (r < 0)
        return r;
    at = (unsigned)r;
    /* 7.8.4.1: version 2 since PCIe 2.0 (multiple header recording). */
    ext_header(cfg, at, PCIE_ECAP_ID_AER, 2);
    /* 7.8.4.2 Uncorrectable Error Status RW1CS; 7.8.4.3 Mask RWS; 7.8.4.4 Severity
     * RWS with the spec defaults. */
    pcie_cfg_define_ex(cfg, at + PCIE_AER_UNCOR_STATUS, 4, 0, 0, AER_UNC_IMPL, 0, AER_UNC_IMPL);
    pcie_cfg_define_ex(cfg, at + PCIE_AER_UNCOR_MASK, 4, 0, AER_UNC_IMPL, 0, 0, AER_UNC_IMPL);
    pcie_cfg_define_ex(cfg, at + PCIE_AER_UNCOR_SEVER, 4, AER_UNC_SEVER_DEFAULT, AER_UNC_IMPL,
                       0, 0, AER_UNC_IMPL);
    /* 7.8.4.5 Correctable Error Status RW1CS; 7.8.4.6 Mask RWS (Advisory
     * Non-Fatal masked by default). */
    pcie_cfg_define_ex(cfg, at + PCIE_AER_COR_STATUS, 4, 0, 0, AER_COR_IMPL, 0, AER_COR_IMPL);
    pcie_cfg_define_ex(cfg, at + PCIE_AER_COR_MASK, 4, PCIE_AER_COR_ADV_NONFATAL, AER_COR_IMPL,
                       0, 0, AER_COR_IMPL);
    /* 7.8.4.7 Advanced Error Capabilities and Control: First Error Pointer ROS,
     * ECRC Generation/Check Capable RO with their enables RWS, Multiple Header
     * Recording Capable RO / Enable RWS. */
    uint32_t cc = (p->ecrc_gen_capable ? 1u << 5 : 0) | (p->ecrc_check_capable ? 1u << 7 : 0) |
                  (p->multiple_header_capable ? 1u << 9 : 0);
    uint32_t cc_rw = (p->ecrc_gen_capable ? 1u << 6 : 0) | (p->ecrc_check_capable ? 1u << 8 : 0) |
                     (p->multiple_header_capable ? 1u << 10 : 0);
    pcie_cfg_define_ex(cfg, at + PCIE_AER_CAP_CTRL, 4, cc, cc_rw, 0, 0, cc_rw | 0x1f);
    /* 7.8.4.8 Header Log: ROS. */
    for (unsigned i = 0; i < 4; i++)
        pcie_cfg_define_ex(cfg, at + PCIE_AER_HEADER_LOG + 4 * i, 4, 0, 0, 0, 0, 0xffffffffu);
    if (p->root) {
        /* 7.8.4.9 Root Error Command: three reporting enables RW. */
        pcie_cfg_define(cfg, at + PCIE_AER_ROOT_CMD, 4, 0, 0x7, 0);
        /* 7.8.4.10 Root Error Status: bits 6:0 RW1CS; message number 31:27 RO. */
        pcie_cfg_define_ex(cfg, at + PCIE_AER_ROOT_STATUS, 4,
                           (uint32_t)p->root_interrupt_message << 27, 0, 0x7f, 0, 0x7f);
        /* 7.8.4.11 Error Source Identification: ROS. */
        pcie_cfg_define_ex(cfg, at + PCIE_AER_ERR_SRC_ID, 4, 0, 0, 0, 0, 0xffffffffu);
    }
    return (int)at;
}

int pcie_aer_record_uncor(struct pcie_cfg *cfg, uint32_t bit, const uint32_t header[4],
                          bool *fatal)
{
    unsigned a = pcie_ecap_find(cfg, PCIE_ECAP_ID_AER);
    bool sev = false;
    if (a)
        sev = pcie_cfg_raw_read32(cfg, a + PCIE_AER_UNCOR_SEVER) & bit;
    else
        sev = bit & AER_UNC_SEVER_DEFAULT;
    if (fatal)
        *fatal = sev;
    /* 7.5.3.5: Device Status logs the error whatever the masks say. */
    pcie_exp_devsta_set(cfg, (uint16_t)((sev ? PCIE_DEVSTA_FED : PCIE_DEVSTA_NFED) |
                                        (bit == PCIE_AER_UNC_UNSUP_REQ ? PCIE_DEVSTA_URD : 0)));
    if (!a)
        return -PCILAB_ENOENT;
    if (!(bit & AER_UNC_IMPL) || (bit & (bit - 1)))
        return -PCILAB_EINVAL;
    uint32_t status = pcie_cfg_raw_read32(cfg, a + PCIE_AER_UNCOR_STATUS);
    pcie_cfg_raw_write32(cfg, a + PCIE_AER_UNCOR_STATUS, status | bit);
    /* 7.8.4.3: a masked error still sets its status bit but is not recorded in
     * the First Error Pointer or Header Log and is not reported. */
    if (pcie_cfg_raw_read32(cfg, a + PCIE_AER_UNCOR_MASK) & bit)
        return 0;
    uint32_t ctrl = pcie_cfg_raw_read32(cfg, a + PCIE_AER_CAP_CTRL);
    unsigned fep = ctrl & 0x1f;
    /* 7.8.4.7: the First Error Pointer is valid while its status bit is set. */
    if (!(status & (1u << fep))) {
        unsigned n = (unsigned)__builtin_ctz(bit);
        pcie_cfg_raw_write32(cfg, a + PCIE_AER_CAP_CTRL, (ctrl & ~0x1fu) | n);
        for (unsigned i = 0; i < 4; i++)
            pcie_cfg_raw_write32(cfg, a + PCIE_AER_HEADER_LOG + 4 * i, header ? header[i] : 0);
    }
    return 1;
}

int pcie_aer_record_cor(struct pcie_cfg *cfg, uint32_t bit)
{
    pcie_exp_devsta_set(cfg, PCIE_DEVSTA_CED);
    unsigned a = pcie_ecap_find(cfg, PCIE_ECAP_ID_AER);
    if (!a)
        return -PCILAB_ENOENT;
    if (!(bit & AER_COR_IMPL) || (bit & (bit - 1)))
        return -PCILAB_EINVAL;
    uint32_t status = pcie_cfg_raw_read32(cfg, a + PCIE_AER_COR_STATUS);
    pcie_cfg_raw_write32(cfg, a + PCIE_AER_COR_STATUS, status | bit);
    return (pcie_cfg_raw_read32(cfg, a + PCIE_AER_COR_MASK) & bit) ? 0 : 1;
}

/* ---- ACS ---- */

int pcie_ecap_add_acs(struct pcie_cfg *cfg, const struct pcie_acs_params *p, unsigned at,
                      struct pcilab_err *err)
{
    if (p->capabilities & ~0x7fu)
        return pcilab_errf(err, PCILAB_EINVAL, "ACS: capability bits %#x beyond bit 6",
                           p->capabilities);
    unsigned vbits = 0;
    if (p->capabilities & PCIE_ACS_EC) {
        vbits = p->egress_vector_bits;
        if (vbits < 1 || vbits > 256)
            return pcilab_errf(err, PCILAB_EINVAL,
                               "ACS: egress control vector of %u bits (1..256)", vbits);
    }
    unsigned vdw = (vbits + 31) / 32;
    int r = cap_place(cfg, true, at, 8 + 4 * vdw, "ACS capability", err);
    if (r < 0)
        return r;
    at = (unsigned)r;
    ext_header(cfg, at, PCIE_ECAP_ID_ACS, 1);
    /* 7.7.8.2 ACS Capability: bits 6:0 RO; Egress Control Vector Size 15:8
     * (00h means 256). */
    pcie_cfg_define(cfg, at + PCIE_ACS_CAP, 2,
                    p->capabilities | (uint32_t)((vbits & 0xff) << 8), 0, 0);
    /* 7.7.8.3 ACS Control: each enable RW only when its capability is present. */
    pcie_cfg_define(cfg, at + PCIE_ACS_CTRL, 2, 0, p->capabilities, 0);
    /* 7.7.8.4 Egress Control Vector: RW for the implemented bits. */
    for (unsigned i = 0; i < vdw; i++) {
        unsigned left = vbits - 32 * i;
        pcie_cfg_define(cfg, at + 8 + 4 * i, 4, 0,
                        left >= 32 ? 0xffffffffu : (1u << left) - 1, 0);
    }
    return (int)at;
}

/* ---- Device Serial Number, 7.9.3 ---- */

int pcie_ecap_add_dsn(struct pcie_cfg *cfg, uint64_t serial, unsigned at,
                      struct pcilab_err *err)
{
    int r = cap_place(cfg, true, at, 12, "device serial number capability", err);
    if (r < 0)
        return r;
    at = (unsigned)r;
    ext_header(cfg, at, PCIE_ECAP_ID_DSN, 1);
    pcie_cfg_define(cfg, at + 4, 4, (uint32_t)serial, 0, 0);
    pcie_cfg_define(cfg, at + 8, 4, (uint32_t)(serial >> 32), 0, 0);
    return (int)at;
}

/* ---- ARI, 7.8.7 ---- */

int pcie_ecap_add_ari(struct pcie_cfg *cfg, uint8_t next_function, unsigned at,
                      struct pcilab_err *err)
{
    int r = cap_place(cfg, true, at, 8, "ARI capability", err);
    if (r < 0)
        return r;
    at = (unsigned)r;
    ext_header(cfg, at, PCIE_ECAP_ID_ARI, 1);
    /* 7.8.7.2 ARI Capability: MFVC/ACS Function Groups not capable, Next Function
     * Number 15:8. 7.8.7.3 ARI Control: all RO 0 without function groups. */
    pcie_cfg_define(cfg, at + 4, 2, (uint32_t)next_function << 8, 0, 0);
    pcie_cfg_define(cfg, at + 6, 2, 0, 0, 0);
    return (int)at;
}

/* ---- walking ---- */

int pcie_cap_list(const struct pcie_cfg *cfg, struct pcie_cap_entry *out, unsigned max,
                  struct pcilab_err *err)
{
    unsigned n = 0;
    uint8_t seen[PCIE_CFG_SPACE_SIZE / 4];
    memset(seen, 0, sizeof seen);
    if (pcie_cfg_status(cfg) & PCIE_STS_CAP_LIST) {
        unsigned p = cfg->data[PCIE_CFG_CAP_PTR];
        while (p) {
            /* PCI 3.0 6.7: pointers are DWORD aligned (bits 1:0 are reserved and
             * masked by software) and point above the 64-byte header. */
            p &= ~3u;
            if (p < 0x40)
                return pcilab_errf(err, PCILAB_EMALFORMED,
                                   "capability pointer %#x points into the header", p);
            if (seen[p / 4]++)
                return pcilab_errf(err, PCILAB_EMALFORMED,
                                   "capability list loops back to %#x", p);
            if (n < max)
                out[n] = (struct pcie_cap_entry){.offset = (uint16_t)p, .id = cfg->data[p]};
            n++;
            p = cfg->data[p + 1];
        }
    }
    if (cfg->size >= PCIE_CFG_SPACE_SIZE) {
        unsigned p = 0x100;
        for (;;) {
            uint32_t h = pcie_cfg_raw_read32(cfg, p);
            /* 7.6.3: an all-zero header at 100h means no extended capabilities. */
            if (h == 0 || h == 0xffffffffu)
                break;
            if (seen[p / 4]++)
                return pcilab_errf(err, PCILAB_EMALFORMED,
                                   "extended capability list loops back to %#x", p);
            if (n < max)
                out[n] = (struct pcie_cap_entry){.offset = (uint16_t)p, .id = (uint16_t)h,
                                                 .version = (h >> 16) & 0xf, .extended = true};
            n++;
            unsigned next = h >> 20;
            if (!next)
                break;
            if (next < 0x100 || (next & 3))
                return pcilab_errf(err, PCILAB_EMALFORMED,
                                   "extended capability at %#x has next offset %#x", p, next);
            p = next;
        }
    }
    return (int)n;
}

unsigned pcie_cap_find(const struct pcie_cfg *cfg, uint8_t id)
{
    if (!(pcie_cfg_status(cfg) & PCIE_STS_CAP_LIST))
        return 0;
    unsigned p = cfg->data[PCIE_CFG_CAP_PTR] & ~3u;
    for (unsigned guard = 0; p >= 0x40 && guard < 48; guard++) {
        if (cfg->data[p] == id)
            return p;
        p = cfg->data[p + 1] & ~3u;
    }
    return 0;
}

unsigned pcie_ecap_find(const struct pcie_cfg *cfg, uint16_t id)
{
    if (cfg->size < PCIE_CFG_SPACE_SIZE)
        return 0;
    unsigned p = 0x100;
    for (unsigned guard = 0; guard < 960; guard++) {
        uint32_t h = pcie_cfg_raw_read32(cfg, p);
        if (h == 0 || h == 0xffffffffu)
            return 0;
        if ((h & 0xffff) == id)
            return p;
        p = h >> 20;
        if (p < 0x100 || (p & 3))
            return 0;
    }
    return 0;
}

/* ---- write side effects that bit masks cannot express ---- */

uint32_t pcie_caps_filter_write(const struct pcie_cfg *cfg, unsigned off, unsigned size,
                                uint32_t val)
{
    /* PM 1.2 3.2.4 / PCIe 5.0 7.5.2.2: writing an unsupported D-state to PowerState
     * completes normally but the data is discarded and the state does not change. */
    unsigned pm = pcie_cap_find(cfg, PCIE_CAP_ID_PM);
    unsigned ps = pm + PCIE_PM_PMCSR;
    if (pm && ps >= off && ps < off + size) {
        unsigned shift = 8 * (ps - off);
        unsigned state = (val >> shift) & 3;
        uint16_t pmc = pcie_cfg_raw_read16(cfg, pm + PCIE_PM_PMC);
        if ((state == 1 && !(pmc & (1u << 9))) || (state == 2 && !(pmc & (1u << 10)))) {
            val = (val & ~(3u << shift)) | ((uint32_t)(cfg->data[ps] & 3) << shift);
        }
    }
    return val;
}
