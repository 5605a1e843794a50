/* MSI/MSI-X message computation: address/data, vector number in the low data
 * bits under Multiple Message Enable, masking, pending bits, disabled states,
 * MSI-X table layout (PCIe 5.0 6.1.4, 7.7.1, 7.7.2). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pcie/caps.h"
#include "pcie/msi.h"

static const struct pcie_cfg_ident id = {.vendor_id = 0x1204, .device_id = 0xe250,
                                         .class_code = 0x118000, .interrupt_pin = 1,
                                         .pcie = true};

static void wr(struct pcie_cfg *c, unsigned off, unsigned size, uint32_t v)
{
    assert_int_equal(pcie_cfg_write(c, off, size, v, NULL), 0);
}

static void test_msi_registers(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcilab_err err;
    assert_int_equal(pcie_cfg_init_type0(&c, &id, NULL), 0);
    struct pcie_msi_params bad = {.vectors = 3};
    assert_int_equal(pcie_cap_add_msi(&c, &bad, 0, &err), -PCILAB_EINVAL);
    bad.vectors = 64;
    assert_int_equal(pcie_cap_add_msi(&c, &bad, 0, &err), -PCILAB_EINVAL);
    /* 32-bit, no masking: data at +8, 12 bytes */
    struct pcie_msi_params p32 = {.vectors = 4};
    int m = pcie_cap_add_msi(&c, &p32, 0, NULL);
    assert_int_equal(m, 0x40);
    assert_int_equal(pcie_msi_data_off(&c, 0x40), 0x48);
    assert_int_equal(pcie_msi_mask_off(&c, 0x40), 0);
    assert_int_equal(pcie_cfg_raw_read16(&c, 0x42), 0x0004); /* MMC = 2 (4 vectors) */
    /* MMC, 64-bit, PVM read-only; Enable and MME writable; address bits 1:0 RO 0 */
    wr(&c, 0x42, 2, 0xffff);
    assert_int_equal(pcie_cfg_raw_read16(&c, 0x42), 0x0075);
    wr(&c, 0x44, 4, 0xfee0100f);
    assert_int_equal(pcie_cfg_raw_read32(&c, 0x44), 0xfee0100c);
    /* 64-bit with masking: upper at +8, data +c, mask +10, pending +14 */
    struct pcie_msi_params p64 = {.addr64 = true, .vectors = 8, .per_vector_mask = true};
    m = pcie_cap_add_msi(&c, &p64, 0, NULL);
    assert_int_equal(m, 0x4c);
    assert_int_equal(pcie_msi_data_off(&c, 0x4c), 0x58);
    assert_int_equal(pcie_msi_mask_off(&c, 0x4c), 0x5c);
    assert_int_equal(pcie_msi_pending_off(&c, 0x4c), 0x60);
    wr(&c, 0x5c, 4, 0xffffffff); /* only the 8 implemented mask bits stick */
    assert_int_equal(pcie_cfg_raw_read32(&c, 0x5c), 0xff);
    wr(&c, 0x60, 4, 0xffffffff); /* pending bits are RO */
    assert_int_equal(pcie_cfg_raw_read32(&c, 0x60), 0);
    assert_int_equal(c.cap_next_free, 0x64);
}

static void test_msi_vectors(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcie_msi_vector v;
    struct pcilab_err err;
    assert_int_equal(pcie_cfg_init_type0(&c, &id, NULL), 0);
    assert_int_equal(pcie_msi_vector(&c, 0, &v, &err), -PCILAB_ENOENT);
    struct pcie_msi_params p = {.addr64 = true, .vectors = 8, .per_vector_mask = true};
    unsigned m = (unsigned)pcie_cap_add_msi(&c, &p, 0, NULL);
    unsigned data = pcie_msi_data_off(&c, m), mask = pcie_msi_mask_off(&c, m);
    wr(&c, m + 4, 4, 0xfee00000);
    wr(&c, m + 8, 4, 0x00000001);
    wr(&c, data, 2, 0x4023);

    /* disabled until MSI Enable */
    assert_int_equal(pcie_msi_vector(&c, 0, &v, NULL), 0);
    assert_int_equal(v.status, PCIE_MSI_DISABLED);
    assert_int_equal(pcie_msi_signal(&c, 0, &v, NULL), 0);
    wr(&c, m + PCIE_MSI_CTRL, 2, PCIE_MSI_CTRL_ENABLE); /* MME 0: one vector */
    assert_int_equal(pcie_msi_vector(&c, 0, &v, NULL), 0);
    assert_int_equal(v.status, PCIE_MSI_NO_BUS_MASTER);  /* MSI is a memory write */
    wr(&c, PCIE_CFG_COMMAND, 2, PCIE_CMD_BUS_MASTER);
    assert_int_equal(pcie_msi_vector(&c, 0, &v, NULL), 0);
    assert_int_equal(v.status, PCIE_MSI_SEND);
    assert_int_equal(v.addr, 0x1fee00000ull);
    assert_int_equal(v.data, 0x4023); /* one vector: data unchanged */
    assert_int_equal(v.vectors, 1);
    assert_true(v.addr64);
    assert_int_equal(pcie_msi_vector(&c, 1, &v, NULL), 0);
    assert_int_equal(v.status, PCIE_MSI_OUT_OF_RANGE);

    /* MME = 2 (4 vectors): vector number replaces the low 2 data bits */
    wr(&c, m + PCIE_MSI_CTRL, 2, PCIE_MSI_CTRL_ENABLE | (2u << 4));
    wr(&c, data, 2, 0x4020);
    for (unsigned n = 0; n < 4; n++) {
        assert_int_equal(pcie_msi_vector(&c, n, &v, NULL), 0);
        assert_int_equal(v.status, PCIE_MSI_SEND);
        assert_int_equal(v.data, 0x4020 | n);
    }
    assert_int_equal(pcie_msi_vector(&c, 4, &v, NULL), 0);
    assert_int_equal(v.status, PCIE_MSI_OUT_OF_RANGE);
    /* software left low bits set in the base: the function overwrites them */
    wr(&c, data, 2, 0x4023);
    assert_int_equal(pcie_msi_vector(&c, 1, &v, NULL), 0);
    assert_int_equal(v.data, 0x4021);
    /* MME above MMC is clamped to what the function can do (8) */
    wr(&c, m + PCIE_MSI_CTRL, 2, PCIE_MSI_CTRL_ENABLE | (5u << 4));
    assert_int_equal(pcie_msi_vector(&c, 7, &v, NULL), 0);
    assert_int_equal(v.vectors, 8);
    assert_int_equal(v.data, 0x4027);

    /* per-vector masking: held as pending, sent after unmask */
    wr(&c, m + PCIE_MSI_CTRL, 2, PCIE_MSI_CTRL_ENABLE | (3u << 4));
    wr(&c, data, 2, 0x0040);
    wr(&c, mask, 4, 0x00000020);
    assert_int_equal(pcie_msi_signal(&c, 5, &v, NULL), 0);
    assert_int_equal(v.status, PCIE_MSI_MASKED);
    assert_true(v.pending);
    assert_int_equal(pcie_cfg_raw_read32(&c, mask + 4), 0x20);
    assert_int_equal(pcie_msi_signal(&c, 4, &v, NULL), 1);
    assert_int_equal(v.data, 0x0044);
    assert_int_equal(pcie_msi_poll_pending(&c, 5, &v), 0); /* still masked */
    wr(&c, mask, 4, 0);
    assert_int_equal(pcie_msi_poll_pending(&c, 5, &v), 1);
    assert_int_equal(v.data, 0x0045);
    assert_int_equal(pcie_cfg_raw_read32(&c, mask + 4), 0);
    assert_int_equal(pcie_msi_poll_pending(&c, 5, &v), 0);
    assert_string_equal(pcie_msi_status_name(PCIE_MSI_MASKED), "masked");

    /* 32-bit MSI: upper address is 0 whatever follows */
    struct pcie_cfg c32;
    assert_int_equal(pcie_cfg_init_type0(&c32, &id, NULL), 0);
    struct pcie_msi_params p32 = {.vectors = 2};
    m = (unsigned)pcie_cap_add_msi(&c32, &p32, 0x60, NULL);
    wr(&c32, PCIE_CFG_COMMAND, 2, PCIE_CMD_BUS_MASTER);
    wr(&c32, m + 4, 4, 0xfee0f00c);
    wr(&c32, m + 8, 2, 0xabcd);
    wr(&c32, m + 2, 2, PCIE_MSI_CTRL_ENABLE | (1u << 4));
    assert_int_equal(pcie_msi_vector(&c32, 0, &v, NULL), 0);
    assert_int_equal(v.addr, 0xfee0f00c);
    assert_false(v.addr64);
    assert_int_equal(v.data, 0xabcc);
    assert_int_equal(pcie_msi_vector(&c32, 1, &v, NULL), 0);
    assert_int_equal(v.data, 0xabcd);
    assert_false(v.masked);
}

static void test_msix(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcilab_err err;
    assert_int_equal(pcie_cfg_init_type0(&c, &id, NULL), 0);
    struct pcie_msix_params p = {.table_size = 5, .table_bir = 3, .table_offset = 0,
                                 .pba_bir = 3, .pba_offset = 0x2000};
    /* BAR3 must exist and be memory */
    assert_int_equal(pcie_cap_add_msix(&c, &p, 0, &err), -PCILAB_EINVAL);
    assert_int_equal(pcie_cfg_bar_declare(&c, 3, PCIE_BAR_MEM32, 0x4000, false, NULL), 0);
    struct pcie_msix_params badp = p;
    badp.pba_offset = 0x2004;
    assert_int_equal(pcie_cap_add_msix(&c, &badp, 0, &err), -PCILAB_EINVAL);
    badp = p;
    badp.pba_offset = 0x40; /* overlaps the 80-byte table */
    assert_int_equal(pcie_cap_add_msix(&c, &badp, 0, &err), -PCILAB_EINVAL);
    badp = p;
    badp.table_size = 2049;
    assert_int_equal(pcie_cap_add_msix(&c, &badp, 0, &err), -PCILAB_EINVAL);
    badp = p;
    badp.table_offset = 0x3ff0;
    badp.table_size = 2;
    assert_int_equal(pcie_cap_add_msix(&c, &badp, 0, &err), -PCILAB_ERANGE);
    unsigned m = (unsigned)pcie_cap_add_msix(&c, &p, 0, NULL);
    assert_int_equal(m, 0x40);
    assert_int_equal(pcie_cfg_raw_read32(&c, m), 0x00040011); /* ID 11h, size-1 = 4 */
    assert_int_equal(pcie_cfg_raw_read32(&c, m + 4), 0x00000003);
    assert_int_equal(pcie_cfg_raw_read32(&c, m + 8), 0x00002003);
    wr(&c, m + 4, 4, 0xffffffff); /* RO */
    assert_int_equal(pcie_cfg_raw_read32(&c, m + 4), 0x00000003);
    wr(&c, m + 2, 2, 0xffff);     /* only Enable and Function Mask are writable */
    assert_int_equal(pcie_cfg_raw_read16(&c, m + 2), 0xc004);
    wr(&c, m + 2, 2, 0);
    unsigned entries, tb, pb;
    uint32_t to, po;
    assert_int_equal(pcie_msix_layout(&c, &entries, &tb, &to, &pb, &po, NULL), 0);
    assert_int_equal(entries, 5);
    assert_int_equal(tb, 3);
    assert_int_equal(to, 0);
    assert_int_equal(pb, 3);
    assert_int_equal(po, 0x2000);

    uint8_t table[5 * 16], pba[8] = {0};
    pcie_msix_table_reset(table, 5);
    struct pcie_msix_entry e;
    pcie_msix_entry_read(table, 4, &e);
    assert_int_equal(e.vector_control, 1);
    /* entry layout 7.7.2: addr lo, addr hi, data, vector control, little-endian */
    e = (struct pcie_msix_entry){.addr_lo = 0xfee00000, .addr_hi = 0x2, .data = 0x00004041,
                                 .vector_control = 0};
    pcie_msix_entry_write(table, 2, &e);
    static const uint8_t want[16] = {0x00, 0x00, 0xe0, 0xfe, 0x02, 0, 0, 0,
                                     0x41, 0x40, 0, 0,    0,    0, 0, 0};
    assert_memory_equal(table + 32, want, 16);

    struct pcie_msi_vector v;
    assert_int_equal(pcie_msix_vector(&c, table, sizeof table, pba, sizeof pba, 2, &v, NULL), 0);
    assert_int_equal(v.status, PCIE_MSI_DISABLED);
    wr(&c, PCIE_CFG_COMMAND, 2, PCIE_CMD_BUS_MASTER | PCIE_CMD_MEMORY);
    wr(&c, m + 2, 2, PCIE_MSIX_CTRL_ENABLE);
    assert_int_equal(pcie_msix_signal(&c, table, sizeof table, pba, sizeof pba, 2, &v, NULL), 1);
    assert_int_equal(v.status, PCIE_MSI_SEND);
    assert_int_equal(v.addr, 0x2fee00000ull);
    assert_int_equal(v.data, 0x4041);
    assert_int_equal(v.vectors, 5);
    /* entry 1 still masked from reset: pending */
    assert_int_equal(pcie_msix_signal(&c, table, sizeof table, pba, sizeof pba, 1, &v, NULL), 0);
    assert_int_equal(v.status, PCIE_MSI_MASKED);
    assert_true(pcie_msix_pba_get(pba, 1));
    assert_int_equal(pba[0], 0x02);
    /* Function Mask masks every vector, whatever its own mask bit */
    wr(&c, m + 2, 2, PCIE_MSIX_CTRL_ENABLE | PCIE_MSIX_CTRL_MASKALL);
    assert_int_equal(pcie_msix_signal(&c, table, sizeof table, pba, sizeof pba, 2, &v, NULL), 0);
    assert_true(v.masked);
    assert_int_equal(pba[0], 0x06);
    assert_int_equal(pcie_msix_poll_pending(&c, table, sizeof table, pba, sizeof pba, 2, &v), 0);
    wr(&c, m + 2, 2, PCIE_MSIX_CTRL_ENABLE);
    assert_int_equal(pcie_msix_poll_pending(&c, table, sizeof table, pba, sizeof pba, 2, &v), 1);
    assert_int_equal(v.data, 0x4041);
    assert_int_equal(pba[0], 0x02);
    /* out of range and short tables */
    assert_int_equal(pcie_msix_vector(&c, table, sizeof table, pba, sizeof pba, 5, &v, NULL), 0);
    assert_int_equal(v.status, PCIE_MSI_OUT_OF_RANGE);
    assert_int_equal(pcie_msix_vector(&c, table, 32, pba, sizeof pba, 2, &v, &err), -PCILAB_ERANGE);
    /* bits 1:0 of the address are not part of it */
    e.addr_lo = 0xfee00003;
    pcie_msix_entry_write(table, 0, &e);
    assert_int_equal(pcie_msix_vector(&c, table, sizeof table, NULL, 0, 0, &v, NULL), 0);
    assert_int_equal(v.addr & 3, 0);
    assert_false(v.pending);
    pcie_msix_pba_set(pba, 1, false);
    assert_int_equal(pba[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msi_registers),
        cmocka_unit_test(test_msi_vectors),
        cmocka_unit_test(test_msix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
