/* MSI / MSI-X message computation, PCI Express Base Specification 5.0 6.1.4,
 * 7.7.1 and 7.7.2. */
#include "pcie/msi.h"

#include <string.h>

#include "pcie/caps.h"

const char *pcie_msi_status_name(enum pcie_msi_status s)
{
    switch (s) {
    case PCIE_MSI_SEND: return "send";
    case PCIE_MSI_DISABLED: return "disabled";
    case PCIE_MSI_NO_BUS_MASTER: return "bus master disabled";
    case PCIE_MSI_MASKED: return "masked";
    case PCIE_MSI_OUT_OF_RANGE: return "vector out of range";
    }
    return "unknown";
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- MSI ---- */

int pcie_msi_vector(const struct pcie_cfg *cfg, unsigned vector, struct pcie_msi_vector *out,
                    struct pcilab_err *err)
{
    memset(out, 0, sizeof *out);
    unsigned cap = pcie_cap_find(cfg, PCIE_CAP_ID_MSI);
    if (!cap)
        return pcilab_errf(err, PCILAB_ENOENT, "the function has no MSI capability");
    uint16_t ctl = pcie_cfg_raw_read16(cfg, cap + PCIE_MSI_CTRL);
    unsigned mmc = (ctl & PCIE_MSI_CTRL_MMC_MASK) >> PCIE_MSI_CTRL_MMC_SHIFT;
    unsigned mme = (ctl & PCIE_MSI_CTRL_MME_MASK) >> PCIE_MSI_CTRL_MME_SHIFT;
    /* 7.7.1.2: MME values above MMC are undefined; a function allocates no more
     * than it is capable of, and 110b/111b are reserved. */
    if (mme > mmc)
        mme = mmc;
    out->vectors = 1u << mme;
    out->addr64 = ctl & PCIE_MSI_CTRL_64BIT;
    /* 7.7.1.3/7.7.1.4: Message Address, DWORD aligned; upper 32 bits if 64-bit. */
    out->addr = pcie_cfg_raw_read32(cfg, cap + PCIE_MSI_ADDR_LO) & ~3u;
    if (out->addr64)
        out->addr |= (uint64_t)pcie_cfg_raw_read32(cfg, cap + 0x08) << 32;
    /* 6.1.4.3: with 2^k vectors enabled the function modifies the low k bits of
     * Message Data to carry the vector number; 7.7.1.5: upper 16 bits zero. */
    uint32_t data = pcie_cfg_raw_read16(cfg, pcie_msi_data_off(cfg, cap));
    uint32_t low = out->vectors - 1;
    out->data = (data & ~low) | (vector & low);
    unsigned mask_off = pcie_msi_mask_off(cfg, cap);
    if (mask_off && vector < 32) {
        out->masked = (pcie_cfg_raw_read32(cfg, mask_off) >> vector) & 1;
        out->pending = (pcie_cfg_raw_read32(cfg, mask_off + 4) >> vector) & 1;
    }
    if (!(ctl & PCIE_MSI_CTRL_ENABLE))
        out->status = PCIE_MSI_DISABLED;
    else if (vector >= out->vectors)
        out->status = PCIE_MSI_OUT_OF_RANGE;
    else if (!(pcie_cfg_command(cfg) & PCIE_CMD_BUS_MASTER))
        out->status = PCIE_MSI_NO_BUS_MASTER;
    else if (out->masked)
        out->status = PCIE_MSI_MASKED;
    else
        out->status = PCIE_MSI_SEND;
    return 0;
}

int pcie_msi_signal(struct pcie_cfg *cfg, unsigned vector, struct pcie_msi_vector *out,
                    struct pcilab_err *err)
{
    int r = pcie_msi_vector(cfg, vector, out, err);
    if (r < 0)
        return r;
    if (out->status == PCIE_MSI_SEND)
        return 1;
    if (out->status == PCIE_MSI_MASKED) {
        /* 7.7.1.8: a masked vector's message is held as a pending bit. */
        unsigned cap = pcie_cap_find(cfg, PCIE_CAP_ID_MSI);
        unsigned pend = pcie_msi_pending_off(cfg, cap);
        pcie_cfg_raw_update(cfg, pend, 4, 1u << vector, 1u << vector);
        out->pending = true;
    }
    return 0;
}

int pcie_msi_poll_pending(struct pcie_cfg *cfg, unsigned vector, struct pcie_msi_vector *out)
{
    if (pcie_msi_vector(cfg, vector, out, NULL) < 0 || !out->pending ||
        out->status != PCIE_MSI_SEND)
        return 0;
    unsigned cap = pcie_cap_find(cfg, PCIE_CAP_ID_MSI);
    pcie_cfg_raw_update(cfg, pcie_msi_pending_off(cfg, cap), 4, 1u << vector, 0);
    out->pending = false;
    return 1;
}

/* ---- MSI-X ---- */

void pcie_msix_entry_read(const uint8_t *table, unsigned n, struct pcie_msix_entry *e)
{
    const uint8_t *p = table + (size_t)n * PCIE_MSIX_ENTRY_SIZE;
    e->addr_lo = le32(p + PCIE_MSIX_ENTRY_ADDR_LO);
    e->addr_hi = le32(p + PCIE_MSIX_ENTRY_ADDR_HI);
    e->data = le32(p + PCIE_MSIX_ENTRY_DATA);
    e->vector_control = le32(p + PCIE_MSIX_ENTRY_VCTRL);
}

void pcie_msix_entry_write(uint8_t *table, unsigned n, const struct pcie_msix_entry *e)
{
    uint8_t *p = table + (size_t)n * PCIE_MSIX_ENTRY_SIZE;
    put32(p + PCIE_MSIX_ENTRY_ADDR_LO, e->addr_lo);
    put32(p + PCIE_MSIX_ENTRY_ADDR_HI, e->addr_hi);
    put32(p + PCIE_MSIX_ENTRY_DATA, e->data);
    put32(p + PCIE_MSIX_ENTRY_VCTRL, e->vector_control);
}

void pcie_msix_table_reset(uint8_t *table, unsigned entries)
{
    /* 7.7.2.5 (Vector Control): Mask Bit is 1 after reset. */
    static const struct pcie_msix_entry masked = {.vector_control = PCIE_MSIX_VCTRL_MASK};
    for (unsigned i = 0; i < entries; i++)
        pcie_msix_entry_write(table, i, &masked);
}

bool pcie_msix_pba_get(const uint8_t *pba, unsigned n)
{
    /* 7.7.2.6: Pending Bits, one per entry, in QWORDs, little-endian. */
    return (pba[n / 8] >> (n % 8)) & 1;
}

void pcie_msix_pba_set(uint8_t *pba, unsigned n, bool pending)
{
    if (pending)
        pba[n / 8] = (uint8_t)(pba[n / 8] | (1u << (n % 8)));
    else
        pba[n / 8] = (uint8_t)(pba[n / 8] & ~(1u << (n % 8)));
}

int pcie_msix_layout(const struct pcie_cfg *cfg, unsigned *entries, unsigned *table_bir,
                     uint32_t *table_offset, unsigned *pba_bir, uint32_t *pba_offset,
                     struct pcilab_err *err)
{
    unsigned cap = pcie_cap_find(cfg, PCIE_CAP_ID_MSIX);
    if (!cap)
        return pcilab_errf(err, PCILAB_ENOENT, "the function has no MSI-X capability");
    uint16_t ctl = pcie_cfg_raw_read16(cfg, cap + PCIE_MSIX_CTRL);
    uint32_t t = pcie_cfg_raw_read32(cfg, cap + PCIE_MSIX_TABLE);
    uint32_t p = pcie_cfg_raw_read32(cfg, cap + PCIE_MSIX_PBA);
    if (entries)
        *entries = (ctl & PCIE_MSIX_CTRL_SIZE_MASK) + 1u;
    if (table_bir)
        *table_bir = t & 7;
    if (table_offset)
        *table_offset = t & ~7u;
    if (pba_bir)
        *pba_bir = p & 7;
    if (pba_offset)
        *pba_offset = p & ~7u;
    return 0;
}

int pcie_msix_vector(const struct pcie_cfg *cfg, const uint8_t *table, size_t table_len,
                     const uint8_t *pba, size_t pba_len, unsigned vector,
                     struct pcie_msi_vector *out, struct pcilab_err *err)
{
    memset(out, 0, sizeof *out);
    unsigned cap = pcie_cap_find(cfg, PCIE_CAP_ID_MSIX);
    if (!cap)
        return pcilab_errf(err, PCILAB_ENOENT, "the function has no MSI-X capability");
    uint16_t ctl = pcie_cfg_raw_read16(cfg, cap + PCIE_MSIX_CTRL);
    out->vectors = (ctl & PCIE_MSIX_CTRL_SIZE_MASK) + 1u;
    out->addr64 = true; /* 7.7.2: MSI-X always supports 64-bit addresses */
    if (vector >= out->vectors) {
        out->status = PCIE_MSI_OUT_OF_RANGE;
        return 0;
    }
    if ((size_t)(vector + 1) * PCIE_MSIX_ENTRY_SIZE > table_len)
        return pcilab_errf(err, PCILAB_ERANGE,
                           "MSI-X entry %u is beyond the %zu table bytes given", vector,
                           table_len);
    struct pcie_msix_entry e;
    pcie_msix_entry_read(table, vector, &e);
    /* 7.7.2: Message Address bits 1:0 are reserved (DWORD aligned). */
    out->addr = ((uint64_t)e.addr_hi << 32) | (e.addr_lo & ~3u);
    out->data = e.data;
    /* 7.7.2.2 Function Mask masks every vector regardless of its Mask Bit. */
    out->masked = (e.vector_control & PCIE_MSIX_VCTRL_MASK) || (ctl & PCIE_MSIX_CTRL_MASKALL);
    if (pba && (size_t)vector / 8 < pba_len)
        out->pending = pcie_msix_pba_get(pba, vector);
    if (!(ctl & PCIE_MSIX_CTRL_ENABLE))
        out->status = PCIE_MSI_DISABLED;
    else if (!(pcie_cfg_command(cfg) & PCIE_CMD_BUS_MASTER))
        out->status = PCIE_MSI_NO_BUS_MASTER;
    else if (out->masked)
        out->status = PCIE_MSI_MASKED;
    else
        out->status = PCIE_MSI_SEND;
    return 0;
}

int pcie_msix_signal(const struct pcie_cfg *cfg, const uint8_t *table, size_t table_len,
                     uint8_t *pba, size_t pba_len, unsigned vector,
                     struct pcie_msi_vector *out, struct pcilab_err *err)
{
    int r = pcie_msix_vector(cfg, table, table_len, pba, pba_len, vector, out, err);
    if (r < 0)
        return r;
    if (out->status == PCIE_MSI_SEND)
        return 1;
    if (out->status == PCIE_MSI_MASKED && pba && (size_t)vector / 8 < pba_len) {
        /* 7.7.2.6: a masked vector's message sets its Pending Bit. */
        pcie_msix_pba_set(pba, vector, true);
        out->pending = true;
    }
    return 0;
}

int pcie_msix_poll_pending(const struct pcie_cfg *cfg, const uint8_t *table, size_t table_len,
                           uint8_t *pba, size_t pba_len, unsigned vector,
                           struct pcie_msi_vector *out)
{
    if (pcie_msix_vector(cfg, table, table_len, pba, pba_len, vector, out, NULL) < 0 ||
        !out->pending || out->status != PCIE_MSI_SEND)
        return 0;
    pcie_msix_pba_set(pba, vector, false);
    out->pending = false;
    return 1;
}
