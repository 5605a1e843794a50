/* Scenario reader: built-ins, every error class with its exact message and
 * position, numbers and sizes, determinism. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/builtin.h"
#include "scenario/scenario.h"

#define HEAD                                                   \
    "name: t\n"                                                \
    "root_complex:\n"                                          \
    "  ecam: 0xe0000000\n"                                     \
    "  mmio32: {base: 0xc0000000, size: 256M}\n"               \
    "  functions:\n"
/* A root port at 00:01.0, taking lines 6..10 after HEAD. */
#define RP                                                     \
    "    - bdf: 00:01.0\n"                                     \
    "      kind: root_port\n"                                  \
    "      vendor: 0x1022\n"                                   \
    "      device: 0x157c\n"                                   \
    "      capabilities: {pcie: {max_speed: gen3, max_width: 4}}\n"

static int load(const char *text, struct scn_machine *m, struct pcilab_err *err)
{
    pcilab_err_clear(err);
    return scn_load_string("t.yaml", text, strlen(text), m, err);
}

/* Loads text, expects failure with exactly `want` as "file:line:col: msg". */
static void expect_error(const char *text, int code, const char *want)
{
    struct scn_machine m;
    struct pcilab_err err;
    char buf[1024];
    int rc = load(text, &m, &err);
    if (rc == 0)
        scn_free(&m);
    assert_int_equal(rc, -code);
    assert_string_equal(pcilab_err_str(&err, buf, sizeof buf), want);
    assert_int_equal(m.nfuncs, 0);
    assert_null(m.funcs);
}

static void test_builtins_parse(void **state)
{
    (void)state;
    unsigned n = 0;
    for (const struct scn_builtin *b = scn_builtins; b->name; b++, n++) {
        struct scn_machine m;
        struct pcilab_err err;
        char buf[1024];
        int rc = scn_load_builtin(b->name, &m, &err);
        if (rc)
            fail_msg("built-in %s: %s", b->name, pcilab_err_str(&err, buf, sizeof buf));
        assert_string_equal(m.name, b->name);
        assert_true(m.description[0] != '\0');
        assert_true(m.nfuncs > 0);
        assert_ptr_equal(scn_builtin_find(b->name), b);
        assert_int_equal(scn_builtin_describe(b, buf, sizeof buf, &err), 0);
        assert_string_equal(buf, m.description);
        scn_free(&m);
    }
    assert_true(n >= 1);
    assert_null(scn_builtin_find("no-such"));
    struct scn_machine m;
    struct pcilab_err err;
    assert_int_equal(scn_load_builtin("no-such", &m, &err), -PCILAB_ENOENT);
    assert_non_null(strstr(err.msg, "no built-in scenario 'no-such' (built-in: "));
}

static void test_seed_machine(void **state)
{
    (void)state;
    struct scn_machine m;
    struct pcilab_err err;
    assert_int_equal(scn_load_builtin("seed", &m, &err), 0);
    assert_string_equal(m.source, "builtin:seed.yaml");
    assert_int_equal(m.rc.ecam_base, 0xf8000000u);
    assert_int_equal(m.rc.mmio32.size, 896u << 20);

    int i = scn_find_func(&m, "00:00.2");
    assert_true(i >= 0);
    const struct scn_func *iommu = &m.funcs[i];
    assert_int_equal(iommu->vendor_id, 0x1022);
    assert_int_equal(iommu->device_id, 0x1577);
    assert_int_equal(iommu->class_code, 0x080600);
    assert_int_equal(iommu->kind, SCN_INTEGRATED);
    assert_int_equal(iommu->caps[0].id, SCN_CAP_IOMMU);
    assert_int_equal(iommu->iommu.base, 0xfeb80000u);
    assert_int_equal(iommu->header_type, 0x80); /* 00:00.0 and 00:00.2 */

    i = scn_find_func(&m, "ecp5");
    assert_true(i >= 0);
    const struct scn_func *e = &m.funcs[i];
    assert_int_equal(e->vendor_id, 0x1204);
    assert_string_equal(e->model, "ecp5_dma");
    assert_int_equal(e->msi.vectors, 2);
    assert_true(e->msi.addr64);
    assert_int_equal(e->pcie.max_speed, 2);
    assert_int_equal(e->pcie.speed, 2); /* gen3 port, gen2 device: trains at gen2 */
    assert_int_equal(e->pcie.width, 1);
    assert_int_equal(e->bars[0].type, SCN_BAR_MEM32);
    assert_int_equal(e->bars[0].size, 4096);
    assert_int_equal(e->bus, -1);
    assert_string_equal(m.funcs[e->parent].name, "rp_ecp5");
    assert_int_equal(m.funcs[e->parent].pcie.speed, 2);
    assert_string_equal(scn_param_get(e, "period"), "2.5ms");
    assert_null(scn_param_get(e, "nope"));

    i = scn_find_func(&m, "can");
    assert_true(i >= 0);
    assert_string_equal(m.funcs[i].model, "ecp3_can");
    assert_int_equal(m.funcs[i].msi.vectors, 1);
    assert_int_equal(m.funcs[i].pcie.speed, 1);
    /* An empty slot: link down. */
    i = scn_find_func(&m, "rp_peg");
    assert_int_equal(m.funcs[i].pcie.speed, 0);
    assert_int_equal(m.funcs[i].pcie.width, 0);
    scn_free(&m);
}

static void test_switch_demo(void **state)
{
    (void)state;
    struct scn_machine m;
    struct pcilab_err err;
    char buf[1024];
    const char *path = PCILAB_SOURCE_DIR "/src/scenario/builtin/switch-demo.yaml";
    if (scn_load_file(path, &m, &err))
        fail_msg("%s", pcilab_err_str(&err, buf, sizeof buf));
    int up = scn_find_func(&m, "swB_up");
    assert_true(up >= 0);
    assert_int_equal(m.funcs[up].kind, SCN_UPSTREAM_PORT);
    /* Two switch levels: swB_up <- swA_dp1 <- swA_up <- rp0 (root bus). */
    int p = m.funcs[up].parent;
    assert_string_equal(m.funcs[p].name, "swA_dp1");
    p = m.funcs[p].parent;
    assert_string_equal(m.funcs[p].name, "swA_up");
    p = m.funcs[p].parent;
    assert_string_equal(m.funcs[p].name, "rp0");
    assert_int_equal(m.funcs[p].parent, -1);
    int nvme = scn_find_func(&m, "nvme");
    assert_int_equal(m.funcs[nvme].pcie.speed, 3); /* gen4 device, gen3 port */
    assert_int_equal(m.funcs[nvme].pcie.width, 4);
    assert_int_equal(m.funcs[nvme].bars[0].type, SCN_BAR_MEM64);
    assert_int_equal(m.funcs[nvme].bars[1].type, SCN_BAR_NONE);
    assert_int_equal(m.funcs[nvme].msix.table_size, 65);
    int mf = scn_find_func(&m, "mf_uart");
    assert_int_equal(m.funcs[mf].fn, 1);
    assert_int_equal(m.funcs[mf].header_type, 0x80);
    assert_int_equal(m.funcs[mf].bars[0].type, SCN_BAR_IO);
    int dp0 = scn_find_func(&m, "swA_dp0");
    assert_int_equal(m.funcs[dp0].acs, SCN_ACS_SV | SCN_ACS_RR | SCN_ACS_CR | SCN_ACS_UF | SCN_ACS_EC);
    /* Every parent precedes its children. */
    for (unsigned i = 0; i < m.nfuncs; i++)
        assert_true(m.funcs[i].parent < (int)i);
    scn_free(&m);
}

static void test_numbers_and_sizes(void **state)
{
    (void)state;
    const char *text = HEAD RP
        "      children:\n"
        "        - devfn: 00.0\n"
        "          kind: endpoint\n"
        "          vendor: 4660\n"
        "          device: 0xABcd\n"
        "          class: 0x118000\n"
        "          bars:\n"
        "            - {index: 0, type: mem32, size: 4K}\n"
        "            - {index: 1, type: mem32, size: 0x1000}\n"
        "            - {index: 2, type: mem64, prefetchable: true, size: 2G}\n"
        "            - {index: 4, type: mem64, size: 1T}\n"
        "          rom: 64KiB\n"
        "          capabilities:\n"
        "            pcie: {max_speed: 5GT/s, max_width: x2, mps: 512}\n"
        "            msi: {vectors: 32, per_vector_masking: true}\n"
        "          params: {a: 1, b: \"two words\", c: 0x10}\n";
    struct scn_machine m;
    struct pcilab_err err;
    char buf[1024];
    if (load(text, &m, &err))
        fail_msg("%s", pcilab_err_str(&err, buf, sizeof buf));
    assert_int_equal(m.nfuncs, 2);
    const struct scn_func *f = &m.funcs[1];
    assert_int_equal(f->vendor_id, 4660);
    assert_int_equal(f->device_id, 0xabcd);
    assert_int_equal(f->bars[0].size, 4096);
    assert_int_equal(f->bars[1].size, 4096);
    assert_int_equal(f->bars[2].size, 2ull << 30);
    assert_true(f->bars[2].prefetchable);
    assert_int_equal(f->bars[3].type, SCN_BAR_NONE);
    assert_int_equal(f->bars[4].size, 1ull << 40);
    assert_int_equal(f->rom_size, 65536);
    assert_int_equal(f->pcie.max_speed, 2);
    assert_int_equal(f->pcie.max_width, 2);
    assert_int_equal(f->pcie.speed, 2);
    assert_int_equal(f->pcie.width, 2);
    assert_int_equal(f->pcie.mps, 512);
    assert_int_equal(f->pcie.port_type, 0);
    assert_int_equal(m.funcs[0].pcie.port_type, 4);
    assert_int_equal(f->msi.vectors, 32);
    assert_true(f->msi.addr64);
    assert_true(f->msi.per_vector_mask);
    assert_int_equal(f->nparams, 3);
    assert_string_equal(f->params[1].key, "b");
    assert_string_equal(f->params[1].value, "two words");
    assert_string_equal(scn_param_get(f, "c"), "0x10");
    assert_int_equal(m.rc.bus_first, 0);
    assert_int_equal(m.rc.bus_last, 255);
    assert_int_equal(m.rc.mmio32.size, 256u << 20);
    scn_free(&m);
}

static void test_two_loads_equal(void **state)
{
    (void)state;
    struct scn_machine a, b;
    struct pcilab_err err;
    assert_int_equal(scn_load_builtin("seed", &a, &err), 0);
    assert_int_equal(scn_load_builtin("seed", &b, &err), 0);
    assert_true(scn_machine_equal(&a, &b));
    b.funcs[3].bars[0].size *= 2;
    assert_false(scn_machine_equal(&a, &b));
    b.funcs[3].bars[0].size /= 2;
    free(b.funcs[6].params[0].value);
    b.funcs[6].params[0].value = strdup("other");
    assert_false(scn_machine_equal(&a, &b));
    scn_free(&a);
    scn_free(&b);

    /* The same text from a file twice. */
    const char *path = PCILAB_SOURCE_DIR "/src/scenario/builtin/switch-demo.yaml";
    assert_int_equal(scn_load_file(path, &a, &err), 0);
    assert_int_equal(scn_load_file(path, &b, &err), 0);
    assert_true(scn_machine_equal(&a, &b));
    scn_free(&a);
    scn_free(&b);
    scn_free(&b); /* harmless on an emptied struct */
}

static void test_file_errors(void **state)
{
    (void)state;
    struct scn_machine m;
    struct pcilab_err err;
    char buf[1024];
    assert_int_equal(scn_load_file("/nonexistent/x.yaml", &m, &err), -PCILAB_EIO);
    assert_string_equal(pcilab_err_str(&err, buf, sizeof buf),
                        "/nonexistent/x.yaml: cannot open: No such file or directory");
    /* Positions come from the file's own name. */
    const char *path = PCILAB_BINARY_DIR "/test_scenario_bad.yaml";
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("name: t\nroot_complex: [1, 2\n", fp);
    fclose(fp);
    assert_int_equal(scn_load_file(path, &m, &err), -PCILAB_EINVAL);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "YAML syntax: "));
    remove(path);
    /* A dump with one function too many: the error names the first function
     * past the limit, at its line in the dump. */
    const char *dump = PCILAB_BINARY_DIR "/test_scenario_big.lspci";
    fp = fopen(dump, "w");
    assert_non_null(fp);
    for (unsigned i = 0; i <= SCN_MAX_FUNCS; i++)
        fprintf(fp, "%02x:%02x.%u Host bridge: x\n00: 22 10 76 15 00 00 00 00 00 00 00 06 00 00 00 00\n\n",
                i >> 8, (i >> 3) & 31, i & 7);
    fclose(fp);
    char text[600];
    snprintf(text, sizeof text,
             "name: t\nmachine_from: %s\nroot_complex: {ecam: 0xf0000000, mmio32: {base: 0xe0000000, size: 256M}}\n",
             dump);
    assert_int_equal(load(text, &m, &err), -PCILAB_ERANGE);
    assert_string_equal(err.file, dump);
    assert_int_equal(err.line, 3 * SCN_MAX_FUNCS + 1);
    assert_non_null(strstr(err.msg, "4097 functions"));
    remove(dump);
}

static void test_yaml_errors(void **state)
{
    (void)state;
    expect_error("name: t\nroot_complex: {a: 1\n", PCILAB_EINVAL,
                 "t.yaml:3:1: YAML syntax: missing comma in flow mapping");
    expect_error("name: \"x\n", PCILAB_EINVAL,
                 "t.yaml:1:8: YAML syntax: double-quoted scalar without closing quote");
    expect_error("", PCILAB_EINVAL, "t.yaml:1:1: empty scenario: expected a mapping");
    expect_error("name: &a t\n", PCILAB_EINVAL,
                 "t.yaml:1:8: YAML anchors (&name) are not supported in scenarios");
    expect_error("name: !!str t\n", PCILAB_EINVAL,
                 "t.yaml:1:7: YAML tags (!tag) are not supported in scenarios");
    expect_error("name: t\n---\nname: u\n", PCILAB_EINVAL,
                 "t.yaml:2:1: a scenario file holds one YAML document (found a second '---')");
    expect_error("? [a]\n: 1\n", PCILAB_EINVAL, "t.yaml:1:3: a mapping key must be a scalar, not a mapping or sequence");
    expect_error("- 1\n", PCILAB_EINVAL, "t.yaml:1:1: the scenario must be a mapping, got a sequence");
}

static void test_schema_errors(void **state)
{
    (void)state;
    /* unknown key, with the list of known ones */
    expect_error("name: t\ncolour: red\n", PCILAB_EINVAL,
                 "t.yaml:2:1: unknown key 'colour' in the scenario (known keys: name, description, seed, memory, machine_from, root_complex, kernel, firmware, iommu)");
    expect_error(HEAD RP "      colour: red\n", PCILAB_EINVAL,
                 "t.yaml:11:7: unknown key 'colour' in a function (known keys: name, kind, bdf, devfn, vendor, device, revision, class, subsystem, header_type, interrupt_pin, bars, rom, capabilities, model, params, config_from, children)");
    /* duplicate key */
    expect_error("name: t\nname: u\n", PCILAB_EINVAL, "t.yaml:2:1: duplicate key 'name' (first at line 1)");
    /* missing key */
    expect_error("name: t\nroot_complex:\n  ecam: 0\n  mmio32: {base: 0xc0000000}\n", PCILAB_EINVAL,
                 "t.yaml:4:11: 'mmio32' is missing required key 'size'");
    /* wrong types */
    expect_error(HEAD "    - bdf: 00:00.0\n      kind: host_bridge\n      vendor: AMD\n", PCILAB_EINVAL,
                 "t.yaml:8:15: 'vendor' must be an integer (decimal or 0x hex), got 'AMD'");
    expect_error(HEAD "    - bdf: 00:00.0\n      kind: host_bridge\n      vendor: {a: 1}\n", PCILAB_EINVAL,
                 "t.yaml:8:15: 'vendor' must be an integer, got a mapping");
    expect_error("name: t\nroot_complex: 5\n", PCILAB_EINVAL,
                 "t.yaml:2:15: 'root_complex' must be a mapping, got '5'");
    expect_error(HEAD "    - bdf: 00:00.0\n      kind: bridge\n", PCILAB_EINVAL,
                 "t.yaml:7:13: 'kind' must be one of host_bridge, integrated, rciep, root_port, upstream_port, downstream_port, endpoint, legacy_endpoint, got 'bridge'");
    expect_error(HEAD RP "      capabilities: {pcie: {max_speed: gen3, max_width: 4, ext_tags: yes}}\n",
                 PCILAB_EINVAL, "t.yaml:11:7: duplicate key 'capabilities' (first at line 10)");
    expect_error(HEAD "    - {bdf: 00:00.0, kind: rciep, vendor: 1, device: 2, class: 3, capabilities: {pcie: {max_speed: gen3, max_width: 4, ext_tags: yes}}}\n",
                 PCILAB_EINVAL, "t.yaml:6:130: 'ext_tags' must be true or false, got 'yes'");
    /* out of range */
    expect_error(HEAD "    - bdf: 00:00.0\n      kind: host_bridge\n      vendor: 0x12345\n", PCILAB_ERANGE,
                 "t.yaml:8:15: 'vendor' out of range: 0x12345 (allowed 0x0..0xffff)");
    expect_error(HEAD "    - {bdf: 00:00.0, kind: rciep, vendor: 1, device: 2, class: 3, capabilities: {msi: {vectors: 3}}}\n",
                 PCILAB_EINVAL, "t.yaml:6:97: 'vectors' must be 1, 2, 4, 8, 16 or 32 (Multiple Message Capable is a power of two, PCIe 5.0 7.7.1.2), got 3");
    expect_error(HEAD "    - {bdf: 00:00.0, kind: rciep, vendor: 1, device: 2, class: 3, capabilities: {msi: {vectors: 64}}}\n",
                 PCILAB_ERANGE, "t.yaml:6:97: 'vectors' out of range: 64 (allowed 1..32)");
    expect_error(HEAD "    - bdf: 00:00.0\n      kind: host_bridge\n      vendor: 99999999999999999999999\n", PCILAB_EINVAL,
                 "t.yaml:8:15: 'vendor' must be an integer (decimal or 0x hex), got '99999999999999999999999'");
    /* sizes */
    expect_error(HEAD "    - {bdf: 00:00.0, kind: rciep, vendor: 1, device: 2, class: 3, bars: [{index: 0, type: mem32, size: 4X}]}\n",
                 PCILAB_EINVAL, "t.yaml:6:104: 'size' has an unknown unit 'X' (use K, M, G or T: powers of 1024)");
    expect_error(HEAD "    - {bdf: 00:00.0, kind: rciep, vendor: 1, device: 2, class: 3, bars: [{index: 0, type: mem32, size: 3K}]}\n",
                 PCILAB_EINVAL, "t.yaml:6:104: BAR 0 size 3K must be a power of two from 16 to 2147483648 bytes for mem32 (PCIe 5.0 7.5.1.2.1)");
    expect_error(HEAD "    - {bdf: 00:00.0, kind: rciep, vendor: 1, device: 2, class: 3, bars: [{index: 5, type: mem64, size: 4K}]}\n",
                 PCILAB_EINVAL, "t.yaml:6:82: a mem64 BAR takes two registers: BAR 5 has no BAR 6 after it in a Type 0 header");
    expect_error(HEAD "    - {bdf: 00:00.0, kind: rciep, vendor: 1, device: 2, class: 3, bars: [{index: 0, type: mem64, size: 4K}, {index: 1, type: io, size: 4}]}\n",
                 PCILAB_EEXIST, "t.yaml:6:117: BAR 1 overlaps BAR register 1, already used (a mem64 BAR uses two registers)");
    expect_error(HEAD "    - {bdf: 00:00.0, kind: rciep, vendor: 1, device: 2, class: 3, bars: [{index: 0, type: io, prefetchable: true, size: 4}]}\n",
                 PCILAB_EINVAL, "t.yaml:6:109: an I/O BAR cannot be prefetchable (PCIe 5.0 7.5.1.2.1)");
}

static void test_topology_errors(void **state)
{
    (void)state;
    /* duplicate BDF */
    expect_error(HEAD "    - {bdf: 00:00.0, kind: host_bridge, vendor: 1, device: 2}\n"
                      "    - {bdf: 00:00.0, kind: host_bridge, vendor: 1, device: 3}\n",
                 PCILAB_EEXIST, "t.yaml:7:13: duplicate function 00:00.0 (first defined at line 6)");
    expect_error(HEAD RP "      children:\n"
                         "        - {devfn: 00.0, kind: endpoint, vendor: 1, device: 2, class: 3, capabilities: {pcie: {max_speed: 1, max_width: 1}}}\n"
                         "        - {devfn: 00.0, kind: endpoint, vendor: 1, device: 2, class: 3, capabilities: {pcie: {max_speed: 1, max_width: 1}}}\n",
                 PCILAB_EEXIST, "t.yaml:13:19: duplicate function 00.0 below 00:01.0 (first defined at line 12)");
    /* a device on a bus no bridge leads to */
    expect_error(HEAD "    - {bdf: 03:00.0, kind: rciep, vendor: 1, device: 2, class: 3}\n", PCILAB_EINVAL,
                 "t.yaml:6:13: function 03:00.0 is on bus 03, but no bridge leads there: the root bus is 00, and a device behind a port goes in that port's 'children'");
    expect_error(HEAD "    - {bdf: 00:00.0, kind: endpoint, vendor: 1, device: 2, class: 3}\n", PCILAB_EINVAL,
                 "t.yaml:6:28: an endpoint cannot sit on the root bus (there: host_bridge, integrated, rciep, root_port); put it in a port's 'children'");
    expect_error(HEAD "    - {bdf: 00:00.0, kind: rciep, vendor: 1, device: 2, class: 3, capabilities: {pcie: {max_speed: 1, max_width: 1}}, children: []}\n",
                 PCILAB_EINVAL, "t.yaml:6:119: 'children' is only for root_port, upstream_port and downstream_port (an rciep has no secondary bus)");
    expect_error(HEAD RP "      children:\n"
                         "        - {devfn: 01.0, kind: endpoint, vendor: 1, device: 2, class: 3}\n",
                 PCILAB_EINVAL, "t.yaml:12:19: the link below a root_port leads to device 0 only (PCIe 5.0 7.3.1): '01.0' names device 01");
    expect_error(HEAD RP "      children:\n"
                         "        - {bdf: 01:00.0, kind: endpoint, vendor: 1, device: 2, class: 3}\n",
                 PCILAB_EINVAL, "t.yaml:12:17: 'bdf' fixes the bus and is only for functions on the root bus; below a bridge use 'devfn'");
    /* a root port without its PCI Express capability */
    expect_error(HEAD "    - {bdf: 00:01.0, kind: root_port, vendor: 1, device: 2}\n", PCILAB_EINVAL,
                 "t.yaml:6:7: a root_port needs a pcie capability (every PCI Express function has one, PCIe 5.0 7.5.3)");
    expect_error(HEAD "    - {bdf: 00:01.0, kind: root_port, vendor: 1, device: 2, capabilities: {pm: true}}\n", PCILAB_EINVAL,
                 "t.yaml:6:75: a root_port needs a pcie capability (every PCI Express function has one, PCIe 5.0 7.5.3)");
    expect_error(HEAD "    - {bdf: 00:00.0, kind: host_bridge, vendor: 1, device: 2, capabilities: {aer: true}}\n", PCILAB_EINVAL,
                 "t.yaml:6:78: aer is an extended capability: it needs a PCI Express function (with a pcie capability, PCIe 5.0 7.6)");
    /* function without function 0 */
    expect_error(HEAD "    - {bdf: 00:00.1, kind: host_bridge, vendor: 1, device: 2}\n", PCILAB_EINVAL,
                 "t.yaml:6:7: function 00:00.1 has no function 0 in its device: software finds a device by function 0 (PCIe 5.0 7.5.1.1.9)");
    /* switches: only downstream ports below an upstream port */
    expect_error(HEAD RP "      children:\n"
                         "        - devfn: 00.0\n"
                         "          kind: upstream_port\n"
                         "          vendor: 1\n"
                         "          device: 2\n"
                         "          capabilities: {pcie: {max_speed: 1, max_width: 1}}\n"
                         "          children:\n"
                         "            - {devfn: 00.0, kind: endpoint, vendor: 1, device: 2, class: 3}\n",
                 PCILAB_EINVAL, "t.yaml:18:35: the children of an upstream_port are the switch's downstream_port functions, not an endpoint");
    /* link training beyond what both ends support */
    expect_error(HEAD RP "      children:\n"
                         "        - {devfn: 00.0, kind: endpoint, vendor: 1, device: 2, class: 3, capabilities: {pcie: {max_speed: gen2, max_width: 8, width: 8}}}\n",
                 PCILAB_EINVAL, "t.yaml:12:11: the link cannot train at x8: the port has x4 and the device x8");
    /* bus numbers */
    expect_error("name: t\nroot_complex:\n  buses: [0, 0]\n  ecam: 0xe0000000\n  mmio32: {base: 0xc0000000, size: 256M}\n  functions:\n" RP,
                 PCILAB_ERANGE, "t.yaml:7:5: the topology needs 2 bus numbers (the root bus and one per bridge), but the root complex has 1");
    /* windows */
    expect_error("name: t\nroot_complex:\n  ecam: 0xe0000001\n", PCILAB_EINVAL,
                 "t.yaml:3:9: 'ecam' 0xe0000001 must be 1 MiB aligned (PCIe 5.0 7.2.2)");
    expect_error("name: t\nroot_complex:\n  ecam: 0xe0000000\n  mmio32: {base: 0xf0000000, size: 1G}\n", PCILAB_ERANGE,
                 "t.yaml:4:11: 'mmio32' 0xf0000000+1G ends beyond 0xffffffff");
    expect_error("name: t\nroot_complex:\n  ecam: 0xe0000000\n  mmio32: {base: 0xc0000000, size: 1G}\n  functions: []\n", PCILAB_EEXIST,
                 "t.yaml:4:11: 'mmio32' overlaps the ECAM region");
    /* msix table outside its BAR */
    expect_error(HEAD "    - {bdf: 00:00.0, kind: rciep, vendor: 1, device: 2, class: 3, bars: [{index: 0, type: mem32, size: 4K}],\n"
                      "       capabilities: {pcie: {max_speed: 1, max_width: 1}, msix: {table_size: 300, table: {bar: 0, offset: 0}, pba: {bar: 0, offset: 0xff8}}}}\n",
                 PCILAB_ERANGE, "t.yaml:7:107: msix table (0x0 + 4800 bytes) does not fit in BAR 0 (4096 bytes)");
}

/* iommu: one key for the machine's IOMMU (docs/scenario-format.md) */
static void test_iommu_key(void **state)
{
    (void)state;
    struct scn_machine m;
    struct pcilab_err err;
    pcilab_err_clear(&err);
    assert_int_equal(scn_load_builtin("edu", &m, &err), 0);
    assert_int_equal(scn_set(&m, "iommu", "amd-vi", &err), 0);
    assert_int_equal(m.iommu, SCN_IOMMU_AMD_VI);
    unsigned n = m.nfuncs;
    assert_int_equal(scn_find_func(&m, "amdvi"), 1);
    assert_int_equal(m.firmware.nivhd, 1);
    assert_int_equal(scn_set(&m, "iommu", "intel", &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "not an IOMMU kind"));
    assert_int_equal(m.nfuncs, n); /* refused: nothing changed */
    /* vtd: the AMD-Vi function and the IVRS go, QEMU q35's DMAR comes */
    assert_int_equal(scn_set(&m, "iommu", "vtd", &err), 0);
    assert_int_equal(m.iommu, SCN_IOMMU_VTD);
    assert_int_equal(m.nfuncs, n - 1);
    assert_int_equal(scn_find_func(&m, "amdvi"), -1);
    assert_int_equal(scn_find_func(&m, "edu"), 1);
    assert_true(m.firmware.no_ivrs);
    assert_int_equal(m.firmware.nivhd, 0);
    assert_int_equal(m.firmware.dmar.kind, SCN_DMAR_Q35);
    /* amd-vi after it: the function and the IVRS come back where they were */
    assert_int_equal(scn_set(&m, "iommu", "amd-vi", &err), 0);
    assert_int_equal(m.iommu, SCN_IOMMU_AMD_VI);
    assert_int_equal(m.nfuncs, n);
    assert_int_equal(scn_find_func(&m, "amdvi"), 1);
    assert_int_equal(scn_find_func(&m, "edu"), 2);
    assert_int_equal(m.firmware.nivhd, 1);
    assert_false(m.firmware.no_ivrs);
    assert_int_equal(m.firmware.dmar.kind, SCN_DMAR_ABSENT);
    /* none: the function, the IVRS and the DMAR go */
    assert_int_equal(scn_set(&m, "iommu", "vtd", &err), 0);
    assert_int_equal(scn_set(&m, "iommu", "none", &err), 0);
    assert_int_equal(m.iommu, SCN_IOMMU_NONE);
    assert_int_equal(m.nfuncs, n - 1);
    assert_int_equal(m.firmware.dmar.kind, SCN_DMAR_ABSENT);
    assert_true(m.firmware.no_ivrs);
    scn_free(&m);
    /* a machine that never had an AMD-Vi function */
    assert_int_equal(scn_load_builtin("q35-vtd", &m, &err), 0);
    assert_int_equal(scn_set(&m, "iommu", "amd-vi", &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "no AMD-Vi function"));
    scn_free(&m);

    /* in a file: at the value, and in a based scenario */
    static const char bad[] = "base: edu\nname: e\niommu: intel\n";
    assert_int_equal(scn_load_string("t.yaml", bad, strlen(bad), &m, &err), -PCILAB_EINVAL);
    char buf[512];
    pcilab_err_str(&err, buf, sizeof buf);
    assert_non_null(strstr(buf, "t.yaml:3:8: iommu: 'intel' is not an IOMMU kind"));
    static const char vtd[] = "base: edu\nname: e\niommu: vtd\n";
    assert_int_equal(scn_load_string("t.yaml", vtd, strlen(vtd), &m, &err), 0);
    assert_int_equal(m.iommu, SCN_IOMMU_VTD);
    assert_int_equal(m.firmware.dmar.kind, SCN_DMAR_Q35);
    assert_int_equal(scn_find_func(&m, "amdvi"), -1);
    scn_free(&m);
    static const char none[] = "base: edu\nname: e\niommu: none\nset:\n  edu.mistake: phys-addr\n";
    assert_int_equal(scn_load_string("t.yaml", none, strlen(none), &m, &err), 0);
    assert_int_equal(m.iommu, SCN_IOMMU_NONE);
    assert_int_equal(scn_find_func(&m, "amdvi"), -1);
    assert_non_null(strstr(m.kernel.modules[0].params, "mistake=phys-addr"));
    scn_free(&m);
    /* amd-vi on a machine without an AMD IOMMU function */
    static const char noamd[] = "base: switch-demo\nname: e\niommu: amd-vi\n";
    assert_int_equal(scn_load_string("t.yaml", noamd, strlen(noamd), &m, &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "no AMD-Vi function"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins_parse),
        cmocka_unit_test(test_seed_machine),
        cmocka_unit_test(test_switch_demo),
        cmocka_unit_test(test_numbers_and_sizes),
        cmocka_unit_test(test_two_loads_equal),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_topology_errors),
        cmocka_unit_test(test_iommu_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
