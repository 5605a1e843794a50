/* Capabilities in configuration space: building them with their real register
 * layouts and write semantics, walking the lists, and reading the fields other
 * layers need (MPS, MRRS, link speed/width, port type).
 *
 * Specifications:
 *   - PCI Local Bus Specification 3.0 (PCI 3.0) 6.7 (capability list), 6.8 (MSI, MSI-X);
 *   - PCI Bus Power Management Interface Specification 1.2 (PM 1.2) chapter 3;
 *   - PCI Express Base Specification 5.0 (PCIe 5.0): 7.5.2 PM, 7.5.3 PCI Express
 *     Capability, 7.6 extended capabilities, 7.7.1 MSI, 7.7.2 MSI-X, 7.8.4 AER,
 *     7.7.8 ACS, 7.9.3 Device Serial Number, 7.9.21 Subsystem ID (SSVID, PCI 3.0 H).
 *   - PCI Code and ID Assignment Specification 1.11 for the capability IDs.
 *
 * Every builder takes a small parameter struct, places the capability at `at`
 * (0 = the first free DWORD-aligned gap that fits) and links it at the end of the
 * list (so the chain is in build order, as on real devices). It
 * returns the capability's offset (> 0) or a negative PCILAB_E* code.
 */
#ifndef PCILAB_PCIE_CAPS_H
#define PCILAB_PCIE_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "pcie/config.h"
#include "sim/err.h"

/* Capability IDs, PCI Code and ID Assignment 1.11 chapter 2. */
#define PCIE_CAP_ID_PM      0x01
#define PCIE_CAP_ID_MSI     0x05
#define PCIE_CAP_ID_VENDOR  0x09
#define PCIE_CAP_ID_SSVID   0x0d
#define PCIE_CAP_ID_EXP     0x10
#define PCIE_CAP_ID_MSIX    0x11
/* Extended capability IDs, chapter 3. */
#define PCIE_ECAP_ID_AER    0x0001
#define PCIE_ECAP_ID_DSN    0x0003
#define PCIE_ECAP_ID_ACS    0x000d
#define PCIE_ECAP_ID_ARI    0x000e

/* ---- Power Management, PM 1.2 3.2 / PCIe 5.0 7.5.2 ---- */
#define PCIE_PM_PMC   0x02  /* Power Management Capabilities (16 bits, RO) */
#define PCIE_PM_PMCSR 0x04  /* Control/Status (16 bits) */
#define PCIE_PM_PMCSR_BSE 0x06
#define PCIE_PM_DATA  0x07
/* PME_Support bits (PMC 15:11) */
#define PCIE_PM_PME_D0     0x01
#define PCIE_PM_PME_D1     0x02
#define PCIE_PM_PME_D2     0x04
#define PCIE_PM_PME_D3HOT  0x08
#define PCIE_PM_PME_D3COLD 0x10

struct pcie_pm_params {
    bool d1, d2;               /* D1/D2 supported */
    uint8_t pme_support;       /* PCIE_PM_PME_* bits */
    bool no_soft_reset;        /* PMCSR bit 3: D3hot->D0 keeps state */
    uint8_t aux_current;       /* PMC 8:6, encoded (0 = self powered .. 7 = 375 mA) */
    bool dsi;                  /* Device Specific Initialization */
};
enum pcie_dstate { PCIE_D0 = 0, PCIE_D1 = 1, PCIE_D2 = 2, PCIE_D3HOT = 3 };

/* ---- MSI, PCIe 5.0 7.7.1 (PCI 3.0 6.8.1) ---- */
#define PCIE_MSI_CTRL        0x02  /* Message Control */
#define PCIE_MSI_ADDR_LO     0x04
#define PCIE_MSI_CTRL_ENABLE     0x0001u
#define PCIE_MSI_CTRL_MMC_MASK   0x000eu  /* Multiple Message Capable, log2 */
#define PCIE_MSI_CTRL_MMC_SHIFT  1
#define PCIE_MSI_CTRL_MME_MASK   0x0070u  /* Multiple Message Enable, log2 */
#define PCIE_MSI_CTRL_MME_SHIFT  4
#define PCIE_MSI_CTRL_64BIT      0x0080u
#define PCIE_MSI_CTRL_PVM        0x0100u  /* Per-Vector Masking Capable */
struct pcie_msi_params {
    bool addr64;               /* 64-bit Address Capable */
    unsigned vectors;          /* Multiple Message Capable: 1, 2, 4, 8, 16 or 32 */
    bool per_vector_mask;      /* mask and pending bits present */
};
/* Register offsets inside an MSI capability (depend on 64-bit / masking). */
unsigned pcie_msi_data_off(const struct pcie_cfg *cfg, unsigned cap);
unsigned pcie_msi_mask_off(const struct pcie_cfg *cfg, unsigned cap);     /* 0 when absent */
unsigned pcie_msi_pending_off(const struct pcie_cfg *cfg, unsigned cap);  /* 0 when absent */

/* ---- MSI-X, PCIe 5.0 7.7.2 ---- */
#define PCIE_MSIX_CTRL       0x02
#define PCIE_MSIX_TABLE      0x04  /* Table Offset/BIR */
#define PCIE_MSIX_PBA        0x08  /* PBA Offset/BIR */
#define PCIE_MSIX_CTRL_SIZE_MASK  0x07ffu  /* Table Size, N-1 */
#define PCIE_MSIX_CTRL_MASKALL    0x4000u  /* Function Mask */
#define PCIE_MSIX_CTRL_ENABLE     0x8000u
struct pcie_msix_params {
    unsigned table_size;       /* 1..2048 entries */
    uint8_t table_bir;         /* BAR (0..5) holding the table */
    uint32_t table_offset;     /* 8-byte aligned offset within that BAR */
    uint8_t pba_bir;
    uint32_t pba_offset;       /* 8-byte aligned */
};

/* ---- PCI Express Capability, PCIe 5.0 7.5.3 ---- */
#define PCIE_EXP_FLAGS    0x02  /* 7.5.3.2 PCI Express Capabilities Register */
#define PCIE_EXP_DEVCAP   0x04  /* 7.5.3.3 */
#define PCIE_EXP_DEVCTL   0x08  /* 7.5.3.4 */
#define PCIE_EXP_DEVSTA   0x0a  /* 7.5.3.5 */
#define PCIE_EXP_LNKCAP   0x0c  /* 7.5.3.6 */
#define PCIE_EXP_LNKCTL   0x10  /* 7.5.3.7 */
#define PCIE_EXP_LNKSTA   0x12  /* 7.5.3.8 */
#define PCIE_EXP_SLTCAP   0x14  /* 7.5.3.9 */
#define PCIE_EXP_SLTCTL   0x18  /* 7.5.3.10 */
#define PCIE_EXP_SLTSTA   0x1a  /* 7.5.3.11 */
#define PCIE_EXP_RTCTL    0x1c  /* 7.5.3.12 */
#define PCIE_EXP_RTCAP    0x1e  /* 7.5.3.13 */
#define PCIE_EXP_RTSTA    0x20  /* 7.5.3.14 */
#define PCIE_EXP_DEVCAP2  0x24  /* 7.5.3.15 */
#define PCIE_EXP_DEVCTL2  0x28  /* 7.5.3.16 */
#define PCIE_EXP_DEVSTA2  0x2a
#define PCIE_EXP_LNKCAP2  0x2c  /* 7.5.3.18 */
#define PCIE_EXP_LNKCTL2  0x30  /* 7.5.3.19 */
#define PCIE_EXP_LNKSTA2  0x32  /* 7.5.3.20 */
#define PCIE_EXP_SLTCAP2  0x34
#define PCIE_EXP_SLTCTL2  0x38
#define PCIE_EXP_SLTSTA2  0x3a
#define PCIE_EXP_SIZEOF   0x3c

/* Device Control bits, 7.5.3.4 */
#define PCIE_DEVCTL_CERE      0x0001u
#define PCIE_DEVCTL_NFERE     0x0002u
#define PCIE_DEVCTL_FERE      0x0004u
#define PCIE_DEVCTL_URRE      0x0008u
#define PCIE_DEVCTL_RELAXED   0x0010u
#define PCIE_DEVCTL_MPS_MASK  0x00e0u
#define PCIE_DEVCTL_EXT_TAG   0x0100u
#define PCIE_DEVCTL_PHANTOM   0x0200u
#define PCIE_DEVCTL_AUX_PM    0x0400u
#define PCIE_DEVCTL_NOSNOOP   0x0800u
#define PCIE_DEVCTL_MRRS_MASK 0x7000u
#define PCIE_DEVCTL_BCR_FLR   0x8000u  /* Bridge Config Retry Enable / Initiate FLR */
/* Device Status bits, 7.5.3.5 */
#define PCIE_DEVSTA_CED       0x0001u
#define PCIE_DEVSTA_NFED      0x0002u
#define PCIE_DEVSTA_FED       0x0004u
#define PCIE_DEVSTA_URD       0x0008u
#define PCIE_DEVSTA_AUXPD     0x0010u
#define PCIE_DEVSTA_TRPND     0x0020u
/* Link Control / Status bits, 7.5.3.7 / 7.5.3.8 */
#define PCIE_LNKCTL_ASPM_MASK 0x0003u
#define PCIE_LNKCTL_RCB       0x0008u
#define PCIE_LNKCTL_DISABLE   0x0010u
#define PCIE_LNKCTL_RETRAIN   0x0020u
#define PCIE_LNKCTL_CCC       0x0040u
#define PCIE_LNKSTA_SPEED     0x000fu
#define PCIE_LNKSTA_WIDTH     0x03f0u
#define PCIE_LNKSTA_TRAINING  0x0800u
#define PCIE_LNKSTA_SLOTCLK   0x1000u
#define PCIE_LNKSTA_DLLLA     0x2000u  /* Data Link Layer Link Active */
#define PCIE_LNKSTA_LBMS      0x4000u
#define PCIE_LNKSTA_LABS      0x8000u
/* Slot Status bits, 7.5.3.11 */
#define PCIE_SLTSTA_ABP       0x0001u
#define PCIE_SLTSTA_PFD       0x0002u
#define PCIE_SLTSTA_MRLSC     0x0004u
#define PCIE_SLTSTA_PDC       0x0008u
#define PCIE_SLTSTA_CC        0x0010u
#define PCIE_SLTSTA_MRLSS     0x0020u
#define PCIE_SLTSTA_PDS       0x0040u  /* Presence Detect State */
#define PCIE_SLTSTA_EIS       0x0080u
#define PCIE_SLTSTA_DLLSC     0x0100u

/* Device/Port Type, 7.5.3.2 bits 7:4 */
enum pcie_port_type {
    PCIE_PORT_ENDPOINT = 0x0,
    PCIE_PORT_LEGACY_ENDPOINT = 0x1,
    PCIE_PORT_ROOT_PORT = 0x4,
    PCIE_PORT_UPSTREAM = 0x5,
    PCIE_PORT_DOWNSTREAM = 0x6,
    PCIE_PORT_PCIE_TO_PCI = 0x7,      /* PCI Express to PCI/PCI-X Bridge */
    PCIE_PORT_PCI_TO_PCIE = 0x8,      /* PCI/PCI-X to PCI Express Bridge */
    PCIE_PORT_RC_INTEGRATED_EP = 0x9, /* Root Complex Integrated Endpoint */
    PCIE_PORT_RC_EVENT_COLLECTOR = 0xa,
};
const char *pcie_port_type_name(enum pcie_port_type t);

/* Slot Capabilities, 7.5.3.9 */
struct pcie_slot_params {
    bool attention_button, power_controller, mrl_sensor, attention_indicator;
    bool power_indicator, hotplug_surprise, hotplug_capable;
    uint8_t power_limit_value, power_limit_scale;  /* e.g. 25 and 0 = 25 W */
    bool interlock, no_command_completed;
    uint16_t slot_number;      /* Physical Slot Number, 13 bits */
    bool present;              /* Slot Status Presence Detect State at reset */
};

struct pcie_exp_params {
    enum pcie_port_type type;
    uint8_t interrupt_message; /* 7.5.3.2 bits 13:9: MSI/MSI-X vector for PME/hot-plug */
    /* Device Capabilities, 7.5.3.3 */
    unsigned mps_supported;    /* 128, 256, 512, 1024, 2048 or 4096 */
    uint8_t phantom_functions; /* 0..3: function number bits usable as tag bits */
    bool ext_tag;              /* 8-bit Tag Field Supported */
    uint8_t l0s_acceptable, l1_acceptable;  /* endpoints: encoded 0..7 (7 = no limit) */
    bool rber;                 /* Role-Based Error Reporting (required since 1.1) */
    bool flr;                  /* Function Level Reset Capability (endpoints) */
    uint8_t slot_power_value, slot_power_scale;  /* Captured Slot Power Limit (upstream) */
    /* Device Capabilities 2, 7.5.3.15 */
    uint8_t completion_timeout_ranges;  /* bits 3:0, 0 = not supported */
    bool completion_timeout_disable;
    bool ari_forwarding;       /* downstream/root ports */
    bool atomic_routing, atomic32, atomic64, cas128;
    bool ltr;
    bool tag10_completer, tag10_requester;  /* 10-Bit Tag Completer/Requester Supported */
    bool ext_fmt;              /* Extended Fmt Field Supported */
    /* Link Capabilities, 7.5.3.6 (ignored for RC integrated endpoints/RCECs) */
    uint8_t max_speed;         /* 1 = 2.5 GT/s, 2 = 5, 3 = 8, 4 = 16, 5 = 32 */
    uint8_t max_width;         /* 1, 2, 4, 8, 12, 16 or 32 */
    uint8_t aspm_support;      /* bit 0 L0s, bit 1 L1 */
    uint8_t l0s_exit_latency, l1_exit_latency;  /* encoded 0..7 */
    bool clock_pm;
    bool surprise_down_reporting;
    bool dll_active_reporting; /* Data Link Layer Link Active Reporting Capable */
    bool link_bw_notification;
    bool aspm_optionality;
    uint8_t port_number;
    uint8_t supported_speeds;  /* Link Capabilities 2 vector, bit 0 = 2.5 GT/s; 0 = all up to max */
    /* Link state at reset: trained at max speed/width with DLL active when true
     * (the fabric updates it later with pcie_exp_set_link). */
    bool link_up;
    bool slot_clock;           /* Link Status Slot Clock Configuration */
    /* Slot registers, for root/downstream ports with a slot */
    bool slot_implemented;
    struct pcie_slot_params slot;
    /* Root Capabilities, 7.5.3.13 */
    bool crs_visibility;
};

/* ---- AER, PCIe 5.0 7.8.4 ---- */
#define PCIE_AER_UNCOR_STATUS 0x04
#define PCIE_AER_UNCOR_MASK   0x08
#define PCIE_AER_UNCOR_SEVER  0x0c
#define PCIE_AER_COR_STATUS   0x10
#define PCIE_AER_COR_MASK     0x14
#define PCIE_AER_CAP_CTRL     0x18
#define PCIE_AER_HEADER_LOG   0x1c
#define PCIE_AER_ROOT_CMD     0x2c
#define PCIE_AER_ROOT_STATUS  0x30
#define PCIE_AER_ERR_SRC_ID   0x34
#define PCIE_AER_PREFIX_LOG   0x38
/* Uncorrectable error bits, 7.8.4.2 */
#define PCIE_AER_UNC_DLP          (1u << 4)
#define PCIE_AER_UNC_SURPRISE     (1u << 5)
#define PCIE_AER_UNC_POISONED     (1u << 12)
#define PCIE_AER_UNC_FCP          (1u << 13)
#define PCIE_AER_UNC_COMP_TIMEOUT (1u << 14)
#define PCIE_AER_UNC_COMP_ABORT   (1u << 15)
#define PCIE_AER_UNC_UNEXP_COMP   (1u << 16)
#define PCIE_AER_UNC_RX_OVERFLOW  (1u << 17)
#define PCIE_AER_UNC_MALFORMED    (1u << 18)
#define PCIE_AER_UNC_ECRC         (1u << 19)
#define PCIE_AER_UNC_UNSUP_REQ    (1u << 20)
#define PCIE_AER_UNC_ACS_VIOL     (1u << 21)
#define PCIE_AER_UNC_INTERNAL     (1u << 22)
/* Correctable error bits, 7.8.4.5 */
#define PCIE_AER_COR_RX_ERR       (1u << 0)
#define PCIE_AER_COR_BAD_TLP      (1u << 6)
#define PCIE_AER_COR_BAD_DLLP     (1u << 7)
#define PCIE_AER_COR_ROLLOVER     (1u << 8)
#define PCIE_AER_COR_TIMEOUT      (1u << 12)
#define PCIE_AER_COR_ADV_NONFATAL (1u << 13)
#define PCIE_AER_COR_INTERNAL     (1u << 14)
#define PCIE_AER_COR_HDR_OVERFLOW (1u << 15)
struct pcie_aer_params {
    bool ecrc_gen_capable, ecrc_check_capable;
    bool multiple_header_capable;
    bool root;                 /* Root Error Command/Status/Source ID (root ports, RCECs) */
    uint8_t root_interrupt_message; /* Advanced Error Interrupt Message Number */
};

/* ---- ACS, PCIe 5.0 7.7.8 ---- */
#define PCIE_ACS_CAP   0x04
#define PCIE_ACS_CTRL  0x06
#define PCIE_ACS_SV    0x0001u  /* Source Validation */
#define PCIE_ACS_TB    0x0002u  /* Translation Blocking */
#define PCIE_ACS_RR    0x0004u  /* P2P Request Redirect */
#define PCIE_ACS_CR    0x0008u  /* P2P Completion Redirect */
#define PCIE_ACS_UF    0x0010u  /* Upstream Forwarding */
#define PCIE_ACS_EC    0x0020u  /* P2P Egress Control */
#define PCIE_ACS_DT    0x0040u  /* Direct Translated P2P */
struct pcie_acs_params {
    uint16_t capabilities;     /* PCIE_ACS_* bits */
    unsigned egress_vector_bits; /* with PCIE_ACS_EC: 1..256 */
};

/* ---- builders ---- */
int pcie_cap_add_pm(struct pcie_cfg *cfg, const struct pcie_pm_params *p, unsigned at,
                    struct pcilab_err *err);
int pcie_cap_add_msi(struct pcie_cfg *cfg, const struct pcie_msi_params *p, unsigned at,
                     struct pcilab_err *err);
int pcie_cap_add_msix(struct pcie_cfg *cfg, const struct pcie_msix_params *p, unsigned at,
                      struct pcilab_err *err);
int pcie_cap_add_exp(struct pcie_cfg *cfg, const struct pcie_exp_params *p, unsigned at,
                     struct pcilab_err *err);
/* Subsystem ID and Subsystem Vendor ID capability (bridges), PCI-PCI Bridge 1.2 H. */
int pcie_cap_add_ssvid(struct pcie_cfg *cfg, uint16_t vendor, uint16_t id, unsigned at,
                       struct pcilab_err *err);
int pcie_ecap_add_aer(struct pcie_cfg *cfg, const struct pcie_aer_params *p, unsigned at,
                      struct pcilab_err *err);
int pcie_ecap_add_acs(struct pcie_cfg *cfg, const struct pcie_acs_params *p, unsigned at,
                      struct pcilab_err *err);
int pcie_ecap_add_dsn(struct pcie_cfg *cfg, uint64_t serial, unsigned at,
                      struct pcilab_err *err);
/* ARI, PCIe 5.0 7.8.7: next_function is the next function number in the device. */
int pcie_ecap_add_ari(struct pcie_cfg *cfg, uint8_t next_function, unsigned at,
                      struct pcilab_err *err);

/* ---- walking ---- */
struct pcie_cap_entry {
    uint16_t offset;
    uint16_t id;
    uint8_t version;           /* extended capabilities only */
    bool extended;
};
/* Walks the standard list from 34h and the extended list from 100h, checking
 * alignment and loops (-PCILAB_EMALFORMED names the offending offset). Returns
 * the number of capabilities (may exceed max; only max are stored). */
int pcie_cap_list(const struct pcie_cfg *cfg, struct pcie_cap_entry *out, unsigned max,
                  struct pcilab_err *err);
/* Offset of the first capability with that ID, 0 when absent or the list is broken. */
unsigned pcie_cap_find(const struct pcie_cfg *cfg, uint8_t id);
unsigned pcie_ecap_find(const struct pcie_cfg *cfg, uint16_t id);

/* ---- PCI Express capability queries (0 / defaults when absent) ---- */
bool pcie_exp_present(const struct pcie_cfg *cfg);
enum pcie_port_type pcie_exp_port_type(const struct pcie_cfg *cfg);
unsigned pcie_exp_mps_supported(const struct pcie_cfg *cfg);  /* bytes */
unsigned pcie_exp_mps(const struct pcie_cfg *cfg);            /* Max_Payload_Size, bytes */
unsigned pcie_exp_mrrs(const struct pcie_cfg *cfg);           /* Max_Read_Request_Size */
uint16_t pcie_exp_devctl(const struct pcie_cfg *cfg);
bool pcie_exp_ext_tag_enabled(const struct pcie_cfg *cfg);
bool pcie_exp_tag10_enabled(const struct pcie_cfg *cfg);      /* DevCtl2 bit 12 */
unsigned pcie_exp_rcb(const struct pcie_cfg *cfg);            /* 64 or 128 bytes */
uint8_t pcie_exp_max_speed(const struct pcie_cfg *cfg);
uint8_t pcie_exp_max_width(const struct pcie_cfg *cfg);
/* Current link from Link Status (speed code, width). */
void pcie_exp_link(const struct pcie_cfg *cfg, uint8_t *speed, uint8_t *width, bool *dll_active);
/* Hardware side: Link Status after training (or link down with dll_active false). */
void pcie_exp_set_link(struct pcie_cfg *cfg, uint8_t speed, uint8_t width, bool dll_active);
/* Hardware side: Device Status error bits (PCIE_DEVSTA_*), RW1C for software. */
void pcie_exp_devsta_set(struct pcie_cfg *cfg, uint16_t bits);
/* Hardware side: Slot Status presence (with Presence Detect Changed when it changes). */
void pcie_exp_set_presence(struct pcie_cfg *cfg, bool present);
/* "2.5GT/s" .. "32GT/s", "unknown" */
const char *pcie_link_speed_name(uint8_t speed);

/* ---- PM queries ---- */
enum pcie_dstate pcie_pm_state(const struct pcie_cfg *cfg);  /* D0 when no PM capability */

/* ---- AER: hardware side records an error (PCIe 5.0 6.2.5, 7.8.4) ----
 * Sets the status bit; for an unmasked uncorrectable error that is the first
 * one, records First Error Pointer and the TLP header (4 DWORDs, may be NULL).
 * Returns 1 when the error is unmasked (the function must send ERR_COR /
 * ERR_NONFATAL / ERR_FATAL per severity), 0 when masked, negative when no AER. */
int pcie_aer_record_uncor(struct pcie_cfg *cfg, uint32_t bit, const uint32_t header[4],
                          bool *fatal);
int pcie_aer_record_cor(struct pcie_cfg *cfg, uint32_t bit);

/* Used by pcie_cfg_write: rules that per-bit masks cannot express (e.g. a write
 * of an unsupported D-state is discarded, PM 1.2 3.2.4). Returns the value to
 * apply. */
uint32_t pcie_caps_filter_write(const struct pcie_cfg *cfg, unsigned off, unsigned size,
                                uint32_t val);

#endif
