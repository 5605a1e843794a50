/* Scenario builder: built-ins become fabrics with the described configuration
 * spaces and trained links; enumeration numbers switch-demo like Linux; the
 * memory: key; config_from and machine_from with the real PEX 8747 dump; the
 * dump writer round-trips; errors carry file:line:col. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "pcie/caps.h"
#include "pcie/cfgdump.h"
#include "pcie/config.h"
#include "scenario/build.h"
#include "scenario/builtin.h"
#include "pcie/link.h"

#define DATA PCILAB_SOURCE_DIR "/tests/scenario/data/"
#define PEX_DUMP PCILAB_SOURCE_DIR "/tests/pcie/data/pex8747-switch.lspci"

static void must(int rc, const struct pcilab_err *err)
{
    char buf[1024];
    if (rc)
        print_error("unexpected error: %s\n", pcilab_err_str(err, buf, sizeof buf));
    assert_int_equal(rc, 0);
}

struct built {
    struct scn_machine m;
    struct pcilab_sim *sim;
    struct scn_system *sys;
};

static void build_machine(struct built *b, bool enumerate)
{
    struct pcilab_err err;
    pcilab_err_clear(&err);
    b->sim = sim_create(b->m.seed);
    assert_non_null(b->sim);
    must(scn_build(&b->m, b->sim, &b->sys, &err), &err);
    if (enumerate)
        must(scn_enumerate(b->sys, NULL, &err), &err);
}

static void build_builtin(struct built *b, const char *name, bool enumerate)
{
    struct pcilab_err err;
    must(scn_load_builtin(name, &b->m, &err), &err);
    build_machine(b, enumerate);
}

static void build_file(struct built *b, const char *path, bool enumerate)
{
    struct pcilab_err err;
    must(scn_load_file(path, &b->m, &err), &err);
    build_machine(b, enumerate);
}

static void built_free(struct built *b)
{
    sim_destroy(b->sim);
    scn_free(&b->m);
}

static const struct scn_sysfn *fn_named(const struct built *b, const char *name)
{
    const struct scn_sysfn *f = scn_system_find(b->sys, name);
    if (!f)
        print_error("no function '%s'\n", name);
    assert_non_null(f);
    return f;
}

static struct pcie_cfg *cfg_of(const struct built *b, const char *name)
{
    return pcie_fn_cfg(fn_named(b, name)->fn);
}

/* Every function's identity and capability offsets are what the description says. */
static void check_described(const struct built *b)
{
    assert_int_equal(scn_system_count(b->sys), b->m.nfuncs);
    assert_int_equal(pcie_fabric_fn_count(scn_system_fabric(b->sys)), b->m.nfuncs);
    for (size_t i = 0; i < b->m.nfuncs; i++) {
        const struct scn_func *f = &b->m.funcs[i];
        const struct scn_sysfn *sf = scn_system_at(b->sys, i);
        struct pcie_cfg *cfg = pcie_fn_cfg(sf->fn);
        assert_int_equal(sf->kind, f->kind);
        assert_int_equal(pcie_cfg_raw_read16(cfg, PCIE_CFG_VENDOR_ID), f->vendor_id);
        assert_int_equal(pcie_cfg_raw_read16(cfg, PCIE_CFG_DEVICE_ID), f->device_id);
        assert_int_equal(pcie_cfg_raw_read32(cfg, 0x08) >> 8, f->class_code);
        assert_int_equal(pcie_cfg_raw_read8(cfg, PCIE_CFG_HEADER_TYPE), f->header_type);
        assert_int_equal(pcie_fn_devfn(sf->fn), (unsigned)(f->dev << 3 | f->fn));
        for (unsigned c = 0; c < f->ncaps; c++) {
            static const uint8_t ids[] = {PCIE_CAP_ID_PM, PCIE_CAP_ID_MSI, PCIE_CAP_ID_MSIX,
                                          PCIE_CAP_ID_EXP, 0x0f};
            enum scn_cap id = f->caps[c].id;
            unsigned off = id == SCN_CAP_AER   ? pcie_ecap_find(cfg, PCIE_ECAP_ID_AER)
                           : id == SCN_CAP_ACS ? pcie_ecap_find(cfg, PCIE_ECAP_ID_ACS)
                                               : pcie_cap_find(cfg, ids[id]);
            assert_int_not_equal(off, 0);
            if (f->caps[c].offset)
                assert_int_equal(off, f->caps[c].offset);
        }
        bool has_exp = false;
        for (unsigned c = 0; c < f->ncaps; c++)
            has_exp |= f->caps[c].id == SCN_CAP_PCIE;
        if (has_exp)
            assert_int_equal(pcie_exp_port_type(cfg), f->pcie.port_type);
    }
}

static void test_seed(void **state)
{
    (void)state;
    struct built b;
    build_builtin(&b, "seed", false);
    check_described(&b);
    /* The ECP5 trains gen2 x1, the ECP3 CAN card gen1 x1, both ends agree. */
    int e = scn_find_func(&b.m, "ecp5");
    assert_true(e >= 0);
    const struct scn_sysfn *ecp5 = scn_system_at(b.sys, (size_t)e);
    uint8_t speed, width;
    bool dll;
    pcie_exp_link(pcie_fn_cfg(ecp5->fn), &speed, &width, &dll);
    assert_int_equal(speed, 2);
    assert_int_equal(width, 1);
    pcie_exp_link(pcie_fn_cfg(pcie_fn_parent(ecp5->fn)), &speed, &width, &dll);
    assert_int_equal(speed, 2);
    assert_int_equal(width, 1);
    assert_true(dll);
    assert_string_equal(ecp5->model, b.m.funcs[e].model);
    /* its device model is attached, with the scenario's params */
    assert_non_null(ecp5->dev);
    assert_string_equal(dev_model_name(ecp5->dev), "ecp5_dma");
    assert_ptr_equal(dev_model_fn(ecp5->dev), ecp5->fn);
    assert_non_null(pcie_fn_ops(ecp5->fn));
    assert_string_equal(dev_model_param(ecp5->dev, "period"), "2.5ms");
    assert_string_equal(dev_model_param(ecp5->dev, "write_rid"), "zero");
    assert_string_equal(dev_model_param(ecp5->dev, "read_rid"), "captured");
    const struct scn_sysfn *can = scn_system_find(b.sys, "can");
    assert_non_null(can->dev);
    assert_string_equal(dev_model_name(can->dev), "ecp3_can");
    assert_string_equal(dev_model_param(can->dev, "batch"), "1");
    /* functions without a model have none */
    assert_null(scn_system_find(b.sys, "gpu")->dev);
    /* the MSI capability has 2 vectors, 64-bit */
    struct pcie_cfg *cfg = pcie_fn_cfg(ecp5->fn);
    unsigned msi = pcie_cap_find(cfg, PCIE_CAP_ID_MSI);
    uint16_t ctl = pcie_cfg_raw_read16(cfg, msi + PCIE_MSI_CTRL);
    assert_int_equal((ctl & PCIE_MSI_CTRL_MMC_MASK) >> PCIE_MSI_CTRL_MMC_SHIFT, 1);
    assert_true(ctl & PCIE_MSI_CTRL_64BIT);
    /* memory: the default 4 GiB in the PC layout, the ECAM region reserved */
    struct mem_addrmap *map = scn_system_addrmap(b.sys);
    const struct mem_region *r = mem_addrmap_lookup(map, 0x1000);
    assert_non_null(r);
    assert_int_equal(r->kind, MEM_REGION_RAM);
    r = mem_addrmap_lookup(map, 0xb8000);
    assert_non_null(r);
    assert_int_equal(r->kind, MEM_REGION_RESERVED);
    r = mem_addrmap_lookup(map, b.m.rc.ecam_base);
    assert_non_null(r);
    assert_string_equal(r->name, "PCI ECAM");
    assert_int_equal(b.m.memory.total, 4ull << 30);
    /* not enumerated yet: the dump writer refuses */
    struct pcilab_err err;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_int_equal(scn_system_write_dump(b.sys, fp, 256, 0, &err), -PCILAB_EINVAL);
    fclose(fp);
    free(text);
    built_free(&b);
}

static uint16_t bdf_of(const struct built *b, const char *name)
{
    return pcie_fn_bdf(fn_named(b, name)->fn);
}

static void test_switch_demo_enumerated(void **state)
{
    (void)state;
    struct built b;
    build_builtin(&b, "switch-demo", true);
    check_described(&b);
    /* Depth-first bus numbers, as Linux assigns them. */
    assert_int_equal(bdf_of(&b, "rp0"), 0x00e0);
    assert_int_equal(bdf_of(&b, "swA_up"), 0x0100);
    assert_int_equal(bdf_of(&b, "swA_dp0"), 0x0208);
    assert_int_equal(bdf_of(&b, "edu"), 0x0300);
    assert_int_equal(bdf_of(&b, "swB_up"), 0x0400);
    assert_int_equal(bdf_of(&b, "nic"), 0x0600);
    assert_int_equal(bdf_of(&b, "nvme"), 0x0700);
    assert_int_equal(bdf_of(&b, "mf_dma"), 0x0900);
    assert_int_equal(bdf_of(&b, "mf_uart"), 0x0901);
    assert_int_equal(bdf_of(&b, "rp1"), 0x00e1);
    uint8_t pri, sec, sub;
    pcie_cfg_bridge_buses(cfg_of(&b, "rp0"), &pri, &sec, &sub);
    assert_int_equal(sec, 1);
    assert_int_equal(sub, 9);
    pcie_cfg_bridge_buses(cfg_of(&b, "swB_up"), &pri, &sec, &sub);
    assert_int_equal(pri, 4);
    assert_int_equal(sec, 5);
    assert_int_equal(sub, 8);
    /* Every memory BAR lies inside each bridge window above it. */
    const char *eps[] = {"edu", "nic", "nvme", "mf_dma"};
    for (unsigned i = 0; i < 4; i++) {
        const struct scn_sysfn *f = fn_named(&b, eps[i]);
        uint64_t addr = pcie_cfg_bar_addr(pcie_fn_cfg(f->fn), 0);
        uint64_t size = pcie_cfg_bar_size(pcie_fn_cfg(f->fn), 0);
        assert_int_not_equal(addr, 0);
        for (struct pcie_fn *up = pcie_fn_parent(f->fn); up; up = pcie_fn_parent(up)) {
            uint64_t base, limit;
            /* all four BAR 0s are non-prefetchable: the memory window */
            assert_true(pcie_cfg_bridge_window(pcie_fn_cfg(up), PCIE_WINDOW_MEM, &base, &limit));
            assert_true(addr >= base && addr + size - 1 <= limit);
        }
    }
    /* Links: nvme gen4 x4 below a gen3 x4 port trains gen3 x4; the 82574L gen1 x1;
     * the switch A uplink gen3 x8; the empty swB_dp2 is down: width 0, and the
     * speed field holds 2.5 GT/s, not the reserved 0000b (7.5.3.8). */
    struct { const char *name; uint8_t speed, width; } links[] = {
        {"nvme", 3, 4}, {"nic", 1, 1}, {"swA_up", 3, 8}, {"rp0", 3, 8}, {"swB_dp2", 1, 0},
        {"edu", 1, 1}, {"mf_uart", 2, 1},
    };
    for (unsigned i = 0; i < sizeof links / sizeof links[0]; i++) {
        uint8_t s, w;
        bool dll;
        pcie_exp_link(cfg_of(&b, links[i].name), &s, &w, &dll);
        assert_int_equal(s, links[i].speed);
        assert_int_equal(w, links[i].width);
        /* Data Link Layer Link Active: reported by downstream-facing ports (7.5.3.8) */
        if (!strcmp(links[i].name, "rp0") || !strcmp(links[i].name, "swB_dp2"))
            assert_int_equal(dll, links[i].width != 0);
    }
    /* ACS with Egress Control on swA_dp0 only; the slot numbers per port. */
    struct pcie_cfg *dp0 = cfg_of(&b, "swA_dp0");
    unsigned acs = pcie_ecap_find(dp0, PCIE_ECAP_ID_ACS);
    assert_true(pcie_cfg_raw_read16(dp0, acs + PCIE_ACS_CAP) & PCIE_ACS_EC);
    struct pcie_cfg *dp1 = cfg_of(&b, "swA_dp1");
    acs = pcie_ecap_find(dp1, PCIE_ECAP_ID_ACS);
    assert_false(pcie_cfg_raw_read16(dp1, acs + PCIE_ACS_CAP) & PCIE_ACS_EC);
    unsigned exp = pcie_cap_find(dp1, PCIE_CAP_ID_EXP);
    assert_int_equal(pcie_cfg_raw_read32(dp1, exp + PCIE_EXP_SLTCAP) >> 19, 11);
    /* params stay with the function */
    assert_string_equal(scn_sysfn_param(fn_named(&b, "mf_dma"), "period"), "1ms");
    assert_null(scn_sysfn_param(fn_named(&b, "mf_dma"), "nope"));
    built_free(&b);
}

/* The writer's output read back by the dump reader gives every function's bytes. */
static void test_dump_roundtrip(void **state)
{
    (void)state;
    struct built b;
    build_builtin(&b, "switch-demo", true);
    struct pcilab_err err;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    must(scn_system_write_dump(b.sys, fp, 4096, 0, &err), &err);
    fclose(fp);
    struct pcie_dump d;
    pcie_dump_init(&d);
    must(pcie_dump_parse(&d, text, len, "out", &err), &err);
    assert_int_equal(d.count, b.m.nfuncs);
    uint16_t prev = 0;
    for (size_t i = 0; i < d.count; i++) {
        uint16_t bdf = (uint16_t)(d.funcs[i].bus << 8 | d.funcs[i].dev << 3 | d.funcs[i].fn);
        if (i)
            assert_true(bdf > prev); /* BDF order */
        prev = bdf;
        const struct pcie_fn *fn = pcie_fabric_find(scn_system_fabric(b.sys), bdf);
        assert_non_null(fn);
        const struct pcie_cfg *cfg = pcie_fn_cfg(fn);
        assert_memory_equal(d.funcs[i].bytes, cfg->data, cfg->size);
    }
    pcie_dump_free(&d);
    free(text);
    built_free(&b);
}

static void test_config_from(void **state)
{
    (void)state;
    struct built b;
    build_file(&b, DATA "config-from.yaml", false);
    struct pcie_cfg *cfg = cfg_of(&b, "ecp5");
    /* identity and capabilities from the dump */
    assert_int_equal(pcie_cfg_raw_read16(cfg, PCIE_CFG_VENDOR_ID), 0x1204);
    assert_int_equal(pcie_cfg_raw_read16(cfg, PCIE_CFG_DEVICE_ID), 0xe250);
    assert_int_equal(pcie_cfg_raw_read32(cfg, 0x08) >> 8, 0x118000);
    assert_int_equal(pcie_cap_find(cfg, PCIE_CAP_ID_PM), 0x50);
    assert_int_equal(pcie_cap_find(cfg, PCIE_CAP_ID_MSI), 0x70);
    assert_int_equal(pcie_cap_find(cfg, PCIE_CAP_ID_EXP), 0x90);
    assert_int_equal(pcie_ecap_find(cfg, PCIE_ECAP_ID_AER), 0x100);
    /* the dumped bytes, exactly, outside what the link and enumeration change */
    const struct scn_func *f = &b.m.funcs[scn_find_func(&b.m, "ecp5")];
    assert_memory_equal(cfg->data + 0x40, f->config + 0x40, 0x90 - 0x40);
    /* write semantics survive: MSI Enable is writable, Vendor ID is not */
    struct pcilab_err err;
    unsigned msi = pcie_cap_find(cfg, PCIE_CAP_ID_MSI);
    must(pcie_cfg_write(cfg, msi + PCIE_MSI_CTRL, 2, 0, &err), &err);
    uint32_t v;
    must(pcie_cfg_read(cfg, msi + PCIE_MSI_CTRL, 2, &v, &err), &err);
    assert_int_equal(v & PCIE_MSI_CTRL_ENABLE, 0);
    must(pcie_cfg_write(cfg, 0, 2, 0x1111, &err), &err);
    assert_int_equal(pcie_cfg_raw_read16(cfg, 0), 0x1204);
    /* link: the port (gen3 x4) and the dumped ECP5 (gen2 x1) */
    uint8_t s, w;
    bool dll;
    pcie_exp_link(pcie_fn_cfg(fn_named(&b, "rp")->fn), &s, &w, &dll);
    assert_int_equal(s, 2);
    assert_int_equal(w, 1);
    /* enumeration re-sizes and re-assigns the described BARs */
    must(scn_enumerate(b.sys, NULL, &err), &err);
    assert_int_equal(pcie_cfg_bar_size(cfg, 0), 4096);
    uint64_t a0 = pcie_cfg_bar_addr(cfg, 0);
    assert_true(a0 >= 0xc0000000ull && a0 < 0xe0000000ull);
    assert_int_equal(bdf_of(&b, "ecp5"), 0x0100);
    assert_string_equal(fn_named(&b, "ecp5")->model, "ecp5_dma");
    built_free(&b);
}

static void test_machine_from(void **state)
{
    (void)state;
    struct built b;
    build_file(&b, DATA "machine-from.yaml", false);
    assert_int_equal(b.m.nfuncs, 7);
    assert_true(scn_system_configured(b.sys));
    static const struct { uint16_t bdf; enum scn_kind kind; } want[] = {
        {0x0011, SCN_ROOT_PORT}, {0x0100, SCN_UPSTREAM_PORT}, {0x0240, SCN_DOWNSTREAM_PORT},
        {0x0300, SCN_ENDPOINT},  {0x0248, SCN_DOWNSTREAM_PORT}, {0x0400, SCN_ENDPOINT},
        {0x0280, SCN_DOWNSTREAM_PORT},
    };
    for (unsigned i = 0; i < 7; i++) {
        const struct scn_sysfn *f = scn_system_at(b.sys, i);
        assert_int_equal(pcie_fn_bdf(f->fn), want[i].bdf);
        assert_int_equal(f->kind, want[i].kind);
        assert_int_not_equal(strstr(f->file, "pex8747-switch.lspci"), NULL);
    }
    /* enumeration keeps the real machine's numbers */
    struct pcilab_err err;
    must(scn_enumerate(b.sys, NULL, &err), &err);
    assert_int_equal(pcie_fn_bdf(scn_system_at(b.sys, 5)->fn), 0x0400);
    /* writing it back reproduces the real lspci dump byte for byte */
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    must(scn_system_write_dump(b.sys, fp, 4096, 0, &err), &err);
    fclose(fp);
    struct pcie_dump ours, real;
    pcie_dump_init(&ours);
    pcie_dump_init(&real);
    must(pcie_dump_parse(&ours, text, len, "ours", &err), &err);
    must(pcie_dump_load(&real, PEX_DUMP, &err), &err);
    assert_int_equal(ours.count, real.count);
    for (size_t i = 0; i < real.count; i++) {
        const struct pcie_dump_func *r = &real.funcs[i];
        const struct pcie_dump_func *o = pcie_dump_find(&ours, 0, r->bus, r->dev, r->fn);
        assert_non_null(o);
        assert_memory_equal(o->bytes, r->bytes, PCIE_CFG_SPACE_SIZE);
    }
    pcie_dump_free(&ours);
    pcie_dump_free(&real);
    free(text);
    /* memory: 8 GiB, the I/O APIC page reserved */
    const struct mem_region *reg = mem_addrmap_lookup(scn_system_addrmap(b.sys), 0xfec00000);
    assert_non_null(reg);
    assert_string_equal(reg->name, "I/O APIC");
    assert_int_equal(b.m.memory.total, 8ull << 30);
    built_free(&b);
}

/* ---- errors ---- */

static void expect_load_error(const char *name, const char *text, int code, const char *want)
{
    struct scn_machine m;
    struct pcilab_err err;
    char buf[1024];
    pcilab_err_clear(&err);
    int rc = scn_load_string(name, text, strlen(text), &m, &err);
    if (rc == 0)
        scn_free(&m);
    assert_int_equal(rc, -code);
    pcilab_err_str(&err, buf, sizeof buf);
    if (!strstr(buf, want))
        print_error("got: %s\nwant: %s\n", buf, want);
    assert_non_null(strstr(buf, want));
}

#define HEAD                                                   \
    "name: t\n"                                                \
    "root_complex:\n"                                          \
    "  ecam: 0xe0000000\n"                                     \
    "  mmio32: {base: 0xc0000000, size: 256M}\n"               \
    "  functions:\n"                                           \
    "    - bdf: 00:01.0\n"                                     \
    "      kind: root_port\n"                                  \
    "      vendor: 0x1022\n"                                   \
    "      device: 0x157c\n"                                   \
    "      capabilities: {pcie: {max_speed: gen3, max_width: 4}}\n"

static void test_errors(void **state)
{
    (void)state;
    /* the dump's bytes contradict the kind: both named */
    expect_load_error("t.yaml", HEAD
                      "      children:\n"
                      "        - devfn: 00.0\n"
                      "          kind: endpoint\n"
                      "          config_from: {file: " PEX_DUMP ", bdf: \"02:08.0\"}\n",
                      PCILAB_EINVAL,
                      "t.yaml:14:24: " PEX_DUMP ":517: 0000:02:08.0 is a downstream_port "
                      "(Header Type 1, Device/Port Type ");
    /* a dumped BAR without a size */
    expect_load_error("t.yaml", HEAD
                      "      children:\n"
                      "        - devfn: 00.0\n"
                      "          kind: endpoint\n"
                      "          config_from: {file: " PEX_DUMP ", bdf: \"03:00.0\"}\n",
                      PCILAB_EINVAL, "has BAR 0 = 0xfe000000 (mem32), but a dump holds addresses, not sizes");
    /* a dumped BAR of another type than described */
    expect_load_error("t.yaml", HEAD
                      "      children:\n"
                      "        - devfn: 00.0\n"
                      "          kind: endpoint\n"
                      "          bars: [{index: 0, type: mem64, size: 4K}, {index: 2, type: mem32, size: 4K}]\n"
                      "          config_from: {file: " PEX_DUMP ", bdf: \"03:00.0\"}\n",
                      PCILAB_EINVAL, "BAR 0 = 0xfe000000 (mem32), but the description says mem64");
    /* a wrong vendor next to config_from */
    expect_load_error("t.yaml", HEAD
                      "      children:\n"
                      "        - devfn: 00.0\n"
                      "          kind: endpoint\n"
                      "          vendor: 0x8086\n"
                      "          bars: [{index: 0, type: mem32, size: 4K}, {index: 1, type: mem32, size: 4K}]\n"
                      "          config_from: {file: " PEX_DUMP ", bdf: \"03:00.0\"}\n",
                      PCILAB_EINVAL, "t.yaml:14:19: 'vendor' is 0x8086 but ");
    /* a BDF the dump does not have: the column of the bdf value depends on the
     * length of the dump's path */
    char want[512];
    snprintf(want, sizeof want, "t.yaml:14:%zu: '%s' has no function 07:00.0 (it has 7)",
             strlen("          config_from: {file: " PEX_DUMP ", bdf: \"") + 1, PEX_DUMP);
    expect_load_error("t.yaml", HEAD
                      "      children:\n"
                      "        - devfn: 00.0\n"
                      "          kind: endpoint\n"
                      "          config_from: {file: " PEX_DUMP ", bdf: \"07:00.0\"}\n",
                      PCILAB_ENOENT, want);
    /* a missing dump file: the scenario line that wants it */
    expect_load_error("t.yaml", HEAD
                      "      children:\n"
                      "        - devfn: 00.0\n"
                      "          kind: endpoint\n"
                      "          config_from: {file: /nonexistent.lspci, bdf: \"03:00.0\"}\n",
                      PCILAB_EIO, "t.yaml:14:31: cannot read dump '/nonexistent.lspci'");
    /* machine_from: a function on a bus no bridge leads to, at the dump's line */
    expect_load_error("t.yaml",
                      "name: t\nmachine_from: " DATA "orphan.lspci\n"
                      "root_complex: {ecam: 0xe0000000, mmio32: {base: 0xc0000000, size: 256M}}\n",
                      PCILAB_EINVAL,
                      DATA "orphan.lspci:7:1: 05:00.0 is on bus 05, which no bridge in the dump leads to");
    expect_load_error("t.yaml",
                      "name: t\nmachine_from: " DATA "orphan.lspci\n"
                      "root_complex: {ecam: 0xe0000000, mmio32: {base: 0xc0000000, size: 256M}, functions: []}\n",
                      PCILAB_EINVAL, "t.yaml:3:74: 'functions' and 'machine_from' exclude each other");
    /* memory: overlaps and layout */
    expect_load_error("t.yaml",
                      "name: t\nmemory:\n  ram:\n    - {base: 0, size: 1G}\n    - {base: 0x20000000, size: 1G}\n"
                      "root_complex: {ecam: 0xe0000000, mmio32: {base: 0xc0000000, size: 256M}, functions: []}\n",
                      PCILAB_EEXIST,
                      "t.yaml:5:7: RAM range 0x20000000-0x5fffffff overlaps the RAM range 0x0-0x3fffffff");
    expect_load_error("t.yaml",
                      "name: t\nmemory:\n  ram: [{base: 0xc0000000, size: 4K}]\n"
                      "root_complex: {ecam: 0xe0000000, mmio32: {base: 0xc0000000, size: 256M}, functions: []}\n",
                      PCILAB_EEXIST, "t.yaml:3:9: RAM range 0xc0000000-0xc0000fff overlaps the mmio32 aperture");
    expect_load_error("t.yaml",
                      "name: t\nmemory: {size: 4G, ram: []}\n"
                      "root_complex: {ecam: 0xe0000000, mmio32: {base: 0xc0000000, size: 256M}, functions: []}\n",
                      PCILAB_EINVAL, "t.yaml:2:25: give either memory 'size' or 'ram' ranges");
}

/* A description the reader accepts but the builders refuse: named at its function. */
static void test_build_errors(void **state)
{
    (void)state;
    const char *text = HEAD
        "    - bdf: 00:02.0\n"
        "      kind: rciep\n"
        "      vendor: 0x1022\n"
        "      device: 0x1234\n"
        "      class: 0x088000\n"
        "      capabilities:\n"
        "        pcie: {max_speed: gen1, max_width: 1}\n"
        "        aer: {offset: 0x148}\n";
    struct scn_machine m;
    struct pcilab_err err;
    char buf[1024];
    must(scn_load_string("t.yaml", text, strlen(text), &m, &err), &err);
    struct pcilab_sim *sim = sim_create(0);
    struct scn_system *sys;
    int rc = scn_build(&m, sim, &sys, &err);
    assert_int_equal(rc, -PCILAB_EINVAL);
    assert_null(sys);
    pcilab_err_str(&err, buf, sizeof buf);
    assert_non_null(strstr(buf, "t.yaml:11:7: aer capability: "));
    sim_destroy(sim);
    scn_free(&m);
}

/* Device models: an unknown model, an unknown parameter and a bad value are
 * errors at the function's file:line:col. */
static void expect_model_error(const char *model_and_params, int code, const char *want)
{
    char text[2048];
    snprintf(text, sizeof text, "%s"
             "      children:\n"
             "        - devfn: 00.0\n"
             "          kind: endpoint\n"
             "          vendor: 0x1204\n"
             "          device: 0x5045\n"
             "          class: 0x118000\n"
             "          bars: [{index: 0, type: mem32, size: 4K}]\n"
             "          capabilities: {msi: {vectors: 2, addr64: true}, pcie: {max_speed: gen2, max_width: 1}}\n"
             "%s", HEAD, model_and_params);
    struct scn_machine m;
    struct pcilab_err err;
    char buf[1024];
    must(scn_load_string("t.yaml", text, strlen(text), &m, &err), &err);
    struct pcilab_sim *sim = sim_create(0);
    struct scn_system *sys = NULL;
    int rc = scn_build(&m, sim, &sys, &err);
    pcilab_err_str(&err, buf, sizeof buf);
    if (!strstr(buf, want))
        print_error("got: %s\nwant: %s\n", buf, want);
    assert_int_equal(rc, -code);
    assert_null(sys);
    assert_non_null(strstr(buf, want));
    sim_destroy(sim);
    scn_free(&m);
}

static void test_model_errors(void **state)
{
    (void)state;
    expect_model_error("          model: edu9\n", PCILAB_ENOENT, "t.yaml:12:11: model: ");
    expect_model_error("          model: edu9\n", PCILAB_ENOENT, "edu9");
    expect_model_error("          model: ecp5_dma\n          params: {transfer_bytes: 128}\n",
                       PCILAB_EINVAL, "t.yaml:12:11: model: ");
    expect_model_error("          model: ecp5_dma\n          params: {transfer_bytes: 128}\n",
                       PCILAB_EINVAL, "transfer_bytes");
    expect_model_error("          model: ecp5_dma\n          params: {period: 2500}\n",
                       PCILAB_EINVAL, "period");
    /* and a good one builds, the model answering on BAR0 */
    const char *ok = HEAD
        "      children:\n"
        "        - devfn: 00.0\n"
        "          name: b\n"
        "          kind: endpoint\n"
        "          vendor: 0x1204\n"
        "          device: 0x5045\n"
        "          class: 0x118000\n"
        "          bars: [{index: 0, type: mem32, size: 4K}]\n"
        "          capabilities: {msi: {vectors: 2, addr64: true}, pcie: {max_speed: gen2, max_width: 1}}\n"
        "          model: ecp5_dma\n"
        "          params: {payload: 512, requester_id: captured}\n";
    struct scn_machine m;
    struct pcilab_err err;
    must(scn_load_string("t.yaml", ok, strlen(ok), &m, &err), &err);
    struct pcilab_sim *sim = sim_create(0);
    struct scn_system *sys = NULL;
    must(scn_build(&m, sim, &sys, &err), &err);
    const struct scn_sysfn *f = scn_system_find(sys, "b");
    assert_string_equal(dev_model_param(f->dev, "payload"), "512");
    assert_string_equal(dev_model_param(f->dev, "write_rid"), "captured");
    sim_destroy(sim);
    scn_free(&m);
}

/* Memory layout of the size form. */
/* The seed's ECP5 strapped to 2.5 GT/s: both ends' Link Status and the link
 * model (its timing) run at Gen1. */
static void test_degraded_link(void **state)
{
    (void)state;
    const char *from = "pcie: {max_speed: gen2, max_width: 1, offset: 0x90}";
    const char *to = "pcie: {max_speed: gen2, max_width: 1, speed: gen1, offset: 0x90}";
    const char *seed = scn_builtin_find("seed")->text;
    const char *at = strstr(seed, from);
    assert_non_null(at);
    size_t n = strlen(seed) + strlen(to);
    char *text = malloc(n);
    assert_non_null(text);
    snprintf(text, n, "%.*s%s%s", (int)(at - seed), seed, to, at + strlen(from));
    struct built b;
    struct pcilab_err err;
    must(scn_load_string("slow.yaml", text, strlen(text), &b.m, &err), &err);
    free(text);
    build_machine(&b, true);
    const struct scn_sysfn *ecp5 = fn_named(&b, "ecp5");
    struct pcie_link *l = pcie_fn_link(ecp5->fn);
    assert_non_null(l);
    assert_int_equal(pcie_link_gen(l), 1);
    assert_int_equal(pcie_link_width(l), 1);
    uint8_t s, w;
    bool dll;
    pcie_exp_link(cfg_of(&b, "ecp5"), &s, &w, &dll);
    assert_int_equal(s, 1);
    pcie_exp_link(cfg_of(&b, "rp_ecp5"), &s, &w, &dll);
    assert_int_equal(s, 1);
    assert_int_equal(w, 1);
    built_free(&b);
}

static void test_memory_layout(void **state)
{
    (void)state;
    const char *text = "name: t\nmemory: {size: 6G}\n"
                       "root_complex: {ecam: 0xe0000000, mmio32: {base: 0xc0000000, size: 256M}, functions: "
                       "[{bdf: 00:00.0, kind: host_bridge, vendor: 0x1022, device: 0x1576}]}\n";
    struct scn_machine m;
    struct pcilab_err err;
    must(scn_load_string("t.yaml", text, strlen(text), &m, &err), &err);
    assert_int_equal(m.memory.nram, 3);
    assert_int_equal(m.memory.ram[0].base, 0);
    assert_int_equal(m.memory.ram[0].size, 0xa0000);
    assert_int_equal(m.memory.ram[1].base, 0x100000);
    assert_int_equal(m.memory.ram[1].size, 0xc0000000ull - 0x100000);
    assert_int_equal(m.memory.ram[2].base, 1ull << 32);
    assert_int_equal(m.memory.ram[2].size, (6ull << 30) - 0xc0000000ull + 0x60000);
    assert_int_equal(m.memory.total, 6ull << 30);
    struct pcilab_sim *sim = sim_create(0);
    struct scn_system *sys;
    must(scn_build(&m, sim, &sys, &err), &err);
    struct mem_addrmap *map = scn_system_addrmap(sys);
    uint32_t x = 0x12345678, y = 0;
    assert_int_equal(mem_addrmap_write(map, 0x140000000ull, &x, 4, NULL), 0);
    assert_int_equal(mem_addrmap_read(map, 0x140000000ull, &y, 4, NULL), 0);
    assert_int_equal(y, x);
    assert_int_not_equal(mem_addrmap_write(map, 0xc0000000ull, &x, 4, NULL), 0);
    sim_destroy(sim);
    scn_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed),
        cmocka_unit_test(test_switch_demo_enumerated),
        cmocka_unit_test(test_dump_roundtrip),
        cmocka_unit_test(test_config_from),
        cmocka_unit_test(test_machine_from),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_memory_layout),
        cmocka_unit_test(test_degraded_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
