/* Configuration space semantics: RO/RW/RW1C/self-clearing/sticky, alignment,
 * BAR sizing of every type, expansion ROM, Type 1 bus numbers and windows, hooks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pcie/caps.h"
#include "pcie/config.h"

static const struct pcie_cfg_ident ep_id = {
    .vendor_id = 0x1204, .device_id = 0xe250, .revision = 0x01, .class_code = 0x118000,
    .subsys_vendor_id = 0x1204, .subsys_id = 0x3010, .interrupt_pin = 1, .pcie = true,
};

static uint32_t rd(struct pcie_cfg *c, unsigned off, unsigned size)
{
    uint32_t v = 0xdeadbeef;
    assert_int_equal(pcie_cfg_read(c, off, size, &v, NULL), 0);
    return v;
}

static void wr(struct pcie_cfg *c, unsigned off, unsigned size, uint32_t v)
{
    assert_int_equal(pcie_cfg_write(c, off, size, v, NULL), 0);
}

static void test_type0_header(void **state)
{
    (void)state;
    struct pcie_cfg *c = pcie_cfg_create(NULL);
    assert_non_null(c);
    assert_int_equal(pcie_cfg_init_type0(c, &ep_id, NULL), 0);
    assert_int_equal(rd(c, 0, 4), 0xe2501204);
    assert_int_equal(rd(c, 0x08, 4), 0x11800001);
    assert_int_equal(rd(c, 0x2c, 4), 0x30101204);
    assert_int_equal(rd(c, 0x3d, 1), 1);
    assert_int_equal(pcie_cfg_header_type(c), 0);
    assert_false(pcie_cfg_is_multifunction(c));
    /* RO: vendor/device/class ignore writes */
    wr(c, 0, 4, 0xffffffff);
    wr(c, 0x08, 4, 0);
    assert_int_equal(rd(c, 0, 4), 0xe2501204);
    assert_int_equal(rd(c, 0x08, 4), 0x11800001);
    /* Command: only the PCIe RW bits stick */
    wr(c, PCIE_CFG_COMMAND, 2, 0xffff);
    assert_int_equal(rd(c, PCIE_CFG_COMMAND, 2), 0x0547);
    /* Status: hardware sets RW1C bits, software clears only what it writes 1 to */
    pcie_cfg_status_set(c, PCIE_STS_REC_MASTER_ABORT | PCIE_STS_SIG_TARGET_ABORT);
    assert_int_equal(rd(c, PCIE_CFG_STATUS, 2), 0x2800);
    wr(c, PCIE_CFG_STATUS, 2, PCIE_STS_REC_MASTER_ABORT);
    assert_int_equal(rd(c, PCIE_CFG_STATUS, 2), 0x0800);
    /* writing 0 to RW1C changes nothing; a dword write to Command touches Status too */
    wr(c, PCIE_CFG_COMMAND, 4, 0x00000002);
    assert_int_equal(rd(c, PCIE_CFG_STATUS, 2), 0x0800);
    assert_int_equal(rd(c, PCIE_CFG_COMMAND, 2), 0x0002);
    wr(c, PCIE_CFG_COMMAND, 4, 0x08000006);
    assert_int_equal(rd(c, PCIE_CFG_COMMAND, 4), 0x00000006);
    /* Interrupt Line is RW scratch, Interrupt Pin RO */
    wr(c, PCIE_CFG_INTERRUPT_LINE, 2, 0x020b);
    assert_int_equal(rd(c, PCIE_CFG_INTERRUPT_LINE, 2), 0x010b);
    /* Capabilities List bit appears with the first capability */
    assert_int_equal(rd(c, PCIE_CFG_STATUS, 2) & PCIE_STS_CAP_LIST, 0);
    struct pcie_pm_params pm = {.pme_support = PCIE_PM_PME_D0 | PCIE_PM_PME_D3HOT};
    assert_int_equal(pcie_cap_add_pm(c, &pm, 0, NULL), 0x40);
    assert_int_equal(rd(c, PCIE_CFG_STATUS, 2) & PCIE_STS_CAP_LIST, PCIE_STS_CAP_LIST);
    assert_int_equal(rd(c, PCIE_CFG_CAP_PTR, 1), 0x40);
    pcie_cfg_destroy(c);
}

static void test_alignment_and_range(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcilab_err err;
    uint32_t v;
    assert_int_equal(pcie_cfg_init_type0(&c, &ep_id, NULL), 0);
    assert_int_equal(pcie_cfg_read(&c, 0x02, 4, &v, &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "aligned"));
    assert_int_equal(pcie_cfg_read(&c, 0x01, 2, &v, &err), -PCILAB_EINVAL);
    assert_int_equal(pcie_cfg_write(&c, 0x06, 4, 0, &err), -PCILAB_EINVAL);
    assert_int_equal(pcie_cfg_read(&c, 0x00, 3, &v, &err), -PCILAB_EINVAL);
    assert_int_equal(pcie_cfg_read(&c, 0x1000, 4, &v, &err), -PCILAB_ERANGE);
    assert_int_equal(pcie_cfg_read(&c, 0xffc, 4, &v, &err), 0);
    assert_int_equal(pcie_cfg_read(&c, 0x03, 1, &v, &err), 0);
    assert_int_equal(v, 0xe2);
    assert_int_equal(pcie_cfg_read(&c, 0x02, 2, &v, &err), 0);
    assert_int_equal(v, 0xe250);
    /* a conventional PCI function reads 0 in extended space and ignores writes */
    struct pcie_cfg_ident legacy = ep_id;
    legacy.pcie = false;
    assert_int_equal(pcie_cfg_init_type0(&c, &legacy, NULL), 0);
    c.data[0x100] = 0x55;
    assert_int_equal(pcie_cfg_read(&c, 0x100, 4, &v, NULL), 0);
    assert_int_equal(v, 0);
    assert_int_equal(pcie_cfg_write(&c, 0x100, 4, 1, NULL), 0);
    /* bad idents */
    struct pcie_cfg_ident bad = ep_id;
    bad.class_code = 0x1000000;
    assert_int_equal(pcie_cfg_init_type0(&c, &bad, &err), -PCILAB_EINVAL);
    bad = ep_id;
    bad.interrupt_pin = 5;
    assert_int_equal(pcie_cfg_init_type0(&c, &bad, &err), -PCILAB_EINVAL);
}

static uint32_t size_bar(struct pcie_cfg *c, unsigned off)
{
    uint32_t orig = rd(c, off, 4);
    wr(c, off, 4, 0xffffffff);
    uint32_t v = rd(c, off, 4);
    wr(c, off, 4, orig);
    return v;
}

static void test_bar_sizing(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcilab_err err;
    assert_int_equal(pcie_cfg_init_type0(&c, &ep_id, NULL), 0);
    assert_int_equal(pcie_cfg_bar_declare(&c, 0, PCIE_BAR_MEM32, 0x1000, false, NULL), 0);
    assert_int_equal(pcie_cfg_bar_declare(&c, 1, PCIE_BAR_IO, 0x20, false, NULL), 0);
    assert_int_equal(pcie_cfg_bar_declare(&c, 2, PCIE_BAR_MEM64, 0x200000000ull, true, NULL), 0);
    assert_int_equal(pcie_cfg_bar_declare(&c, 4, PCIE_BAR_MEM32, 0x100000, true, NULL), 0);
    assert_int_equal(pcie_cfg_rom_declare(&c, 0x10000, NULL), 0);
    /* conflicting / invalid declarations */
    assert_int_equal(pcie_cfg_bar_declare(&c, 3, PCIE_BAR_MEM32, 0x1000, false, &err),
                     -PCILAB_EEXIST);
    assert_int_equal(pcie_cfg_bar_declare(&c, 5, PCIE_BAR_MEM64, 0x1000, false, &err),
                     -PCILAB_EINVAL);
    assert_int_equal(pcie_cfg_bar_declare(&c, 5, PCIE_BAR_MEM32, 0x1800, false, &err),
                     -PCILAB_EINVAL);
    assert_int_equal(pcie_cfg_bar_declare(&c, 5, PCIE_BAR_IO, 512, false, &err), -PCILAB_EINVAL);
    assert_int_equal(pcie_cfg_bar_declare(&c, 6, PCIE_BAR_MEM32, 4096, false, &err),
                     -PCILAB_EINVAL);

    /* sizing: all-ones, read the mask back with the type bits (7.5.1.2.1) */
    assert_int_equal(size_bar(&c, 0x10), 0xfffff000);
    assert_int_equal(size_bar(&c, 0x14), 0xffffffe1);
    assert_int_equal(size_bar(&c, 0x18), 0x0000000c);     /* 8 GiB: low half all type bits */
    assert_int_equal(size_bar(&c, 0x1c), 0xfffffffe);     /* upper half */
    assert_int_equal(size_bar(&c, 0x20), 0xfff00008);
    assert_int_equal(size_bar(&c, 0x24), 0);              /* not implemented */
    assert_int_equal(size_bar(&c, 0x30), 0xffff0001);     /* ROM: address mask + enable */

    /* programming and reading back */
    wr(&c, 0x10, 4, 0xfe001234);
    assert_int_equal(rd(&c, 0x10, 4), 0xfe001000);
    wr(&c, 0x18, 4, 0x00000000);
    wr(&c, 0x1c, 4, 0x00000004);
    assert_int_equal(pcie_cfg_bar_addr(&c, 2), 0x400000000ull);
    assert_int_equal(pcie_cfg_bar_set_addr(&c, 1, 0xe020, NULL), 0);
    assert_int_equal(rd(&c, 0x14, 4), 0xe021);
    assert_int_equal(pcie_cfg_bar_set_addr(&c, 0, 0xfe000800, &err), -PCILAB_EINVAL);
    assert_int_equal(pcie_cfg_bar_set_addr(&c, 3, 0, &err), -PCILAB_ENOENT);

    struct pcie_bar_info bi;
    assert_int_equal(pcie_cfg_bar_get(&c, 2, &bi, NULL), 0);
    assert_int_equal(bi.type, PCIE_BAR_MEM64);
    assert_true(bi.prefetchable);
    assert_int_equal(bi.size, 0x200000000ull);
    assert_int_equal(pcie_cfg_bar_get(&c, 3, &bi, NULL), 0);
    assert_int_equal(bi.type, PCIE_BAR_NONE);
    assert_int_equal(pcie_cfg_bar_count(&c), 6);
    assert_int_equal(pcie_cfg_bar_size(&c, 1), 0x20);
    assert_int_equal(pcie_cfg_bar_type(&c, 4), PCIE_BAR_MEM32);

    /* decoding needs Memory/IO Space Enable */
    uint64_t off = 0;
    assert_int_equal(pcie_cfg_bar_decode(&c, false, 0xfe001010, 4, &off), -1);
    wr(&c, PCIE_CFG_COMMAND, 2, PCIE_CMD_MEMORY);
    assert_int_equal(pcie_cfg_bar_decode(&c, false, 0xfe001010, 4, &off), 0);
    assert_int_equal(off, 0x10);
    assert_int_equal(pcie_cfg_bar_decode(&c, false, 0xfe001ffe, 4, &off), -1); /* crosses end */
    assert_int_equal(pcie_cfg_bar_decode(&c, false, 0x400000100ull, 8, &off), 2);
    assert_int_equal(pcie_cfg_bar_decode(&c, true, 0xe024, 1, &off), -1);
    wr(&c, PCIE_CFG_COMMAND, 2, PCIE_CMD_MEMORY | PCIE_CMD_IO);
    assert_int_equal(pcie_cfg_bar_decode(&c, true, 0xe024, 1, &off), 1);
    assert_int_equal(off, 4);

    bool en = true;
    wr(&c, 0x30, 4, 0xfff80001);
    assert_int_equal(pcie_cfg_rom_addr(&c, &en), 0xfff80000);
    assert_true(en);
    assert_int_equal(pcie_cfg_rom_declare(&c, 1024, &err), -PCILAB_EINVAL);
}

static void test_type1_bridge(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcilab_err err;
    struct pcie_cfg_ident id = {.vendor_id = 0x10b5, .device_id = 0x8747, .revision = 0xca,
                                .class_code = 0x060400, .subsys_vendor_id = 0x10b5,
                                .subsys_id = 0x8747, .pcie = true, .multifunction = false};
    struct pcie_bridge_params bp = {.io_window = true, .io_32bit = true, .pref_window = true,
                                    .pref_64bit = true};
    assert_int_equal(pcie_cfg_init_type1(&c, &id, &bp, NULL), 0);
    assert_int_equal(pcie_cfg_header_type(&c), 1);
    assert_int_equal(pcie_cfg_bar_count(&c), 2);
    assert_int_equal(rd(&c, PCIE_CFG_IO_BASE, 2), 0x0101);
    assert_int_equal(rd(&c, PCIE_CFG_PREF_BASE, 4), 0x00010001);

    /* bus numbers by config writes (one dword, as Linux does) */
    wr(&c, PCIE_CFG_PRIMARY_BUS, 4, 0x00050302);
    uint8_t p, s, sub;
    pcie_cfg_bridge_buses(&c, &p, &s, &sub);
    assert_int_equal(p, 2);
    assert_int_equal(s, 3);
    assert_int_equal(sub, 5);
    assert_int_equal(rd(&c, PCIE_CFG_SEC_LATENCY, 1), 0); /* RO 0 on PCIe */

    /* windows: written as registers, read back through the helper */
    wr(&c, PCIE_CFG_MEM_BASE, 4, 0xfe1ffe00);  /* base fe000000 limit fe1fffff */
    uint64_t b, l;
    assert_true(pcie_cfg_bridge_window(&c, PCIE_WINDOW_MEM, &b, &l));
    assert_int_equal(b, 0xfe000000);
    assert_int_equal(l, 0xfe1fffff);
    wr(&c, PCIE_CFG_MEM_BASE, 4, 0xffffffff);  /* low nibbles RO 0 */
    assert_int_equal(rd(&c, PCIE_CFG_MEM_BASE, 4), 0xfff0fff0);
    wr(&c, PCIE_CFG_IO_BASE, 2, 0xffff);       /* capability nibble RO */
    assert_int_equal(rd(&c, PCIE_CFG_IO_BASE, 2), 0xf1f1);

    assert_int_equal(pcie_cfg_bridge_set_window(&c, PCIE_WINDOW_PREF, 0x3800000000ull,
                                                0x38001fffffull, NULL), 0);
    assert_int_equal(rd(&c, PCIE_CFG_PREF_BASE, 4), 0x00110001);
    assert_int_equal(rd(&c, PCIE_CFG_PREF_BASE_UPPER, 4), 0x38);
    assert_true(pcie_cfg_bridge_window(&c, PCIE_WINDOW_PREF, &b, &l));
    assert_int_equal(b, 0x3800000000ull);
    assert_int_equal(l, 0x38001fffffull);
    assert_int_equal(pcie_cfg_bridge_set_window(&c, PCIE_WINDOW_IO, 0x1000, 0x1fff, NULL), 0);
    assert_true(pcie_cfg_bridge_window(&c, PCIE_WINDOW_IO, &b, &l));
    assert_int_equal(b, 0x1000);
    assert_int_equal(l, 0x1fff);
    /* closing */
    assert_int_equal(pcie_cfg_bridge_set_window(&c, PCIE_WINDOW_IO, 1, 0, NULL), 0);
    assert_false(pcie_cfg_bridge_window(&c, PCIE_WINDOW_IO, &b, &l));
    /* misaligned, beyond 32-bit for the non-prefetchable window */
    assert_int_equal(pcie_cfg_bridge_set_window(&c, PCIE_WINDOW_MEM, 0xfe080000, 0xfe0fffff, &err),
                     -PCILAB_EINVAL);
    assert_int_equal(pcie_cfg_bridge_set_window(&c, PCIE_WINDOW_MEM, 0x100000000ull,
                                                0x1000fffffull, &err), -PCILAB_ERANGE);
    /* no prefetchable window on a bridge without one */
    struct pcie_bridge_params nopref = {.io_window = false, .pref_window = false};
    assert_int_equal(pcie_cfg_init_type1(&c, &id, &nopref, NULL), 0);
    assert_false(pcie_cfg_bridge_has_window(&c, PCIE_WINDOW_PREF));
    assert_false(pcie_cfg_bridge_has_window(&c, PCIE_WINDOW_IO));
    assert_true(pcie_cfg_bridge_has_window(&c, PCIE_WINDOW_MEM));
    assert_int_equal(pcie_cfg_bridge_set_window(&c, PCIE_WINDOW_PREF, 0, 0xfffff, &err),
                     -PCILAB_ENOENT);
    wr(&c, PCIE_CFG_PREF_BASE, 4, 0xffffffff);
    assert_int_equal(rd(&c, PCIE_CFG_PREF_BASE, 4), 0);
    /* secondary status RW1C, bridge control RW subset */
    pcie_cfg_sec_status_set(&c, PCIE_STS_REC_MASTER_ABORT);
    wr(&c, PCIE_CFG_SEC_STATUS, 2, 0xffff);
    assert_int_equal(rd(&c, PCIE_CFG_SEC_STATUS, 2), 0);
    wr(&c, PCIE_CFG_BRIDGE_CONTROL, 2, 0xffff);
    assert_int_equal(rd(&c, PCIE_CFG_BRIDGE_CONTROL, 2), 0x005f);
    /* bridge BARs: 2 slots, and a 64-bit BAR fits in 0..1 */
    assert_int_equal(pcie_cfg_bar_declare(&c, 0, PCIE_BAR_MEM64, 0x40000, false, NULL), 0);
    assert_int_equal(size_bar(&c, 0x10), 0xfffc0004);
    assert_int_equal(pcie_cfg_bar_declare(&c, 2, PCIE_BAR_MEM32, 0x1000, false, &err),
                     -PCILAB_EINVAL);
}

struct hook_log {
    unsigned writes, written;
    unsigned last_off, last_size;
    uint32_t last_old, last_now;
    int verdict;
};

static int hook_write(void *ctx, struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t val)
{
    (void)cfg;
    (void)val;
    struct hook_log *h = ctx;
    h->writes++;
    h->last_off = off;
    h->last_size = size;
    return h->verdict;
}

static void hook_written(void *ctx, struct pcie_cfg *cfg, unsigned off, unsigned size,
                         uint32_t old, uint32_t now)
{
    (void)cfg;
    (void)off;
    (void)size;
    struct hook_log *h = ctx;
    h->written++;
    h->last_old = old;
    h->last_now = now;
}

static int hook_read(void *ctx, struct pcie_cfg *cfg, unsigned off, unsigned size, uint32_t *val)
{
    (void)ctx;
    (void)cfg;
    (void)size;
    if (off == 0x2c)
        *val = 0xabcd1234;
    return 0;
}

static void test_hooks_and_self_clearing(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct hook_log h = {0};
    assert_int_equal(pcie_cfg_init_type0(&c, &ep_id, NULL), 0);
    struct pcie_exp_params ep = {.type = PCIE_PORT_ENDPOINT, .mps_supported = 256, .flr = true,
                                 .rber = true, .max_speed = 2, .max_width = 1};
    int e = pcie_cap_add_exp(&c, &ep, 0, NULL);
    assert_true(e > 0);
    struct pcie_cfg_hooks hooks = {.ctx = &h, .write = hook_write, .written = hook_written,
                                   .read = hook_read};
    pcie_cfg_set_hooks(&c, &hooks);
    wr(&c, PCIE_CFG_COMMAND, 2, PCIE_CMD_BUS_MASTER);
    assert_int_equal(h.writes, 1);
    assert_int_equal(h.written, 1);
    assert_int_equal(h.last_off, PCIE_CFG_COMMAND);
    assert_int_equal(h.last_size, 2);
    assert_int_equal(h.last_old, 0);
    assert_int_equal(h.last_now, PCIE_CMD_BUS_MASTER);
    /* Initiate FLR: the hook sees the bit, the register reads 0 there */
    unsigned devctl = (unsigned)e + PCIE_EXP_DEVCTL;
    uint32_t before = rd(&c, devctl, 2);
    wr(&c, devctl, 2, before | PCIE_DEVCTL_BCR_FLR);
    assert_true(h.last_now & PCIE_DEVCTL_BCR_FLR);
    assert_int_equal(rd(&c, devctl, 2), before);
    /* read hook overrides */
    assert_int_equal(rd(&c, 0x2c, 4), 0xabcd1234);
    /* write hook handles the write itself */
    h.verdict = 1;
    wr(&c, PCIE_CFG_COMMAND, 2, 0);
    assert_int_equal(pcie_cfg_command(&c), PCIE_CMD_BUS_MASTER);
    /* write hook fails the request */
    h.verdict = -PCILAB_EUNSUPPORTED;
    assert_int_equal(pcie_cfg_write(&c, PCIE_CFG_COMMAND, 2, 0, NULL), -PCILAB_EUNSUPPORTED);
    pcie_cfg_set_hooks(&c, NULL);
    wr(&c, PCIE_CFG_COMMAND, 2, 0);
    assert_int_equal(pcie_cfg_command(&c), 0);
}

static void test_reset_keeps_sticky(void **state)
{
    (void)state;
    struct pcie_cfg c;
    assert_int_equal(pcie_cfg_init_type0(&c, &ep_id, NULL), 0);
    struct pcie_aer_params ap = {.ecrc_gen_capable = true};
    struct pcie_exp_params ep = {.type = PCIE_PORT_ENDPOINT, .mps_supported = 256,
                                 .max_speed = 2, .max_width = 1};
    int e = pcie_cap_add_exp(&c, &ep, 0, NULL);
    assert_true(e > 0);
    int a = pcie_ecap_add_aer(&c, &ap, 0, NULL);
    assert_int_equal(a, 0x100);
    wr(&c, PCIE_CFG_COMMAND, 2, PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER);
    wr(&c, (unsigned)a + PCIE_AER_UNCOR_MASK, 4, PCIE_AER_UNC_UNSUP_REQ);
    wr(&c, (unsigned)e + PCIE_EXP_DEVCTL, 2, 0x2030); /* MPS 256, MRRS 512 -> 0x2030 */
    assert_int_equal(pcie_exp_mps(&c), 256);
    pcie_aer_record_cor(&c, PCIE_AER_COR_BAD_TLP);
    pcie_cfg_reset(&c);
    assert_int_equal(pcie_cfg_command(&c), 0);
    assert_int_equal(pcie_exp_mps(&c), 128);
    assert_int_equal(pcie_exp_mrrs(&c), 512);
    assert_int_equal(rd(&c, (unsigned)a + PCIE_AER_UNCOR_MASK, 4), PCIE_AER_UNC_UNSUP_REQ);
    assert_int_equal(rd(&c, (unsigned)a + PCIE_AER_COR_STATUS, 4), PCIE_AER_COR_BAD_TLP);
    /* the device status bit is not sticky */
    assert_int_equal(rd(&c, (unsigned)e + PCIE_EXP_DEVSTA, 2) & PCIE_DEVSTA_CED, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type0_header),
        cmocka_unit_test(test_alignment_and_range),
        cmocka_unit_test(test_bar_sizing),
        cmocka_unit_test(test_type1_bridge),
        cmocka_unit_test(test_hooks_and_self_clearing),
        cmocka_unit_test(test_reset_keeps_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
