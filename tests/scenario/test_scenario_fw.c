/* Scenario reader, kernel: and firmware: ivrs: — every form parsed into its
 * values (device IDs, flag bits, defaults, positions) and every error with
 * its exact message and line:col. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"
#include "scn_load_fixture.h"

/* A host bridge at 00:00.0 and an AMD IOMMU at 00:00.2 (lines 6 and 7); what a
 * test appends starts at line 8. */
#define HEAD                                                                              \
    "name: t\n"                                                                           \
    "root_complex:\n"                                                                     \
    "  ecam: 0xe0000000\n"                                                                \
    "  mmio32: {base: 0xc0000000, size: 256M}\n"                                          \
    "  functions:\n"                                                                      \
    "    - {bdf: 00:00.0, kind: host_bridge, vendor: 0x1022, device: 0x1576}\n"           \
    "    - {bdf: 00:00.2, name: iommu, kind: integrated, vendor: 0x1022, device: 0x1577, " \
    "class: 0x080600, capabilities: {iommu: {base: 0xfeb80000}}}\n"

/* Line 8 onwards: an ivrs mapping with one IVHD block whose entries start at line 13. */
#define IVHD_HEAD                                                                         \
    HEAD                                                                                  \
    "firmware:\n"                                                                         \
    "  ivrs:\n"                                                                           \
    "    ivhd:\n"                                                                         \
    "      - iommu: iommu\n"                                                              \
    "        entries:\n"

#define DEVID(b, d, f) ((uint16_t)((b) << 8 | (d) << 3 | (f)))

/* Loads text, expects failure with exactly `want` as "file:line:col: msg". */
static void expect_error(const char *text, int code, const char *want)
{
    struct scn_machine m;
    struct pcilab_err err;
    char buf[1024];
    int rc = scn_t_load(text, &m, &err);
    if (rc == 0)
        scn_free(&m);
    assert_int_equal(rc, -code);
    assert_string_equal(pcilab_err_str(&err, buf, sizeof buf), want);
    assert_int_equal(m.nfuncs, 0);
    assert_false(m.firmware.ivrs);
    assert_int_equal(m.firmware.nivhd, 0);
    assert_string_equal(m.kernel.version, "");
}

/* ------------------------------------------------------------------------ */

static void test_absent_means_defaults(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok(HEAD, &m);
    assert_string_equal(m.kernel.version, "");
    assert_string_equal(m.kernel.cmdline, "");
    assert_int_equal(m.kernel.cpus, 0);
    assert_int_equal(m.kernel.line, 0);
    assert_false(m.firmware.ivrs);
    assert_false(m.firmware.no_ivrs);
    assert_int_equal(m.firmware.ivinfo, 0);
    assert_int_equal(m.firmware.nivhd, 0);
    assert_int_equal(m.firmware.nivmd, 0);
    assert_int_equal(m.firmware.line, 0);
    scn_free(&m);
    /* empty mappings are allowed and change nothing but the positions */
    scn_t_load_ok(HEAD "kernel: {}\nfirmware: {}\n", &m);
    assert_int_equal(m.kernel.line, 8);
    assert_int_equal(m.kernel.col, 1);
    assert_false(m.firmware.ivrs);
    scn_free(&m);
}

/* kernel: modules: drivers by name, their insmod time and parameters. */
static void test_kernel_modules(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok(HEAD "kernel:\n"
                 "  modules:\n"
                 "    - {name: ecp5_dma, at: 49s, params: {dma_bits: 32, foo: bar}}\n"
                 "    - name: ecp3_can\n"
                 "      at: 2.5ms\n", &m);
    assert_int_equal(m.kernel.nmodules, 2);
    assert_string_equal(m.kernel.modules[0].name, "ecp5_dma");
    assert_int_equal(m.kernel.modules[0].at, 49 * SIM_S);
    assert_string_equal(m.kernel.modules[0].params, "dma_bits=32 foo=bar");
    assert_int_equal(m.kernel.modules[0].line, 10);
    assert_int_equal(m.kernel.modules[0].col, 7);
    assert_string_equal(m.kernel.modules[1].name, "ecp3_can");
    assert_int_equal(m.kernel.modules[1].at, 2500 * SIM_US);
    assert_string_equal(m.kernel.modules[1].params, "");
    assert_int_equal(m.kernel.modules[1].line, 11);
    struct scn_machine m2;
    scn_t_load_ok(HEAD "kernel:\n"
                 "  modules:\n"
                 "    - {name: ecp5_dma, at: 49s, params: {dma_bits: 32, foo: bar}}\n"
                 "    - name: ecp3_can\n"
                 "      at: 2.5ms\n", &m2);
    assert_true(scn_machine_equal(&m, &m2));
    m2.kernel.modules[1].at++;
    assert_false(scn_machine_equal(&m, &m2));
    scn_free(&m);
    scn_free(&m2);
    /* at defaults to 0 */
    scn_t_load_ok(HEAD "kernel: {modules: [{name: ecp5_dma}]}\n", &m);
    assert_int_equal(m.kernel.modules[0].at, 0);
    scn_free(&m);

    expect_error(HEAD "kernel: {modules: [{name: e1000e}]}\n", PCILAB_ENOENT,
                 "t.yaml:8:27: no driver 'e1000e' in pcilab (drivers: ecp5_dma, ecp3_can)");
    expect_error(HEAD "kernel: {modules: [{at: 1s}]}\n", PCILAB_EINVAL,
                 "t.yaml:8:20: a module needs a 'name' (ecp5_dma, ecp3_can)");
    expect_error(HEAD "kernel: {modules: [{name: ecp5_dma, at: 49}]}\n", PCILAB_EINVAL,
                 "t.yaml:8:41: ecp5_dma: parameter 'at': '49' needs a unit (ps, ns, us, ms or "
                 "s), e.g. 2.5ms");
    expect_error(HEAD "kernel: {modules: [{name: ecp5_dma, colour: red}]}\n", PCILAB_EINVAL,
                 "t.yaml:8:37: unknown key 'colour' in a module of 'modules' (known keys: "
                 "name, at, params)");
    expect_error(HEAD "kernel: {modules: {name: ecp5_dma}}\n", PCILAB_EINVAL,
                 "t.yaml:8:19: 'modules' must be a sequence, got a mapping");
    expect_error(HEAD "kernel: {modules: [{name: ecp5_dma, params: {dma_bits: \"3 2\"}}]}\n",
                 PCILAB_EINVAL,
                 "t.yaml:8:57: module parameter names and values cannot hold blanks or '='");
    expect_error(HEAD "kernel: {modules: [{name: ecp5_dma}, {name: ecp5_dma}]}\n",
                 PCILAB_EEXIST, "t.yaml:8:38: module 'ecp5_dma' listed twice (first at line 8)");
}

static void test_kernel(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok(HEAD "kernel:\n  version: 4.9.80\n  cmdline: \"iommu=pt amd_iommu=off  quiet\"\n  cpus: 4\n", &m);
    assert_string_equal(m.kernel.version, "4.9.80");
    assert_string_equal(m.kernel.cmdline, "iommu=pt amd_iommu=off  quiet");
    assert_int_equal(m.kernel.cpus, 4);
    assert_false(m.kernel.dma_debug);
    assert_int_equal(m.kernel.line, 8);
    assert_int_equal(m.kernel.col, 1);
    scn_free(&m);
    /* CONFIG_DMA_API_DEBUG built in */
    scn_t_load_ok(HEAD "kernel:\n  version: 5.15\n  dma_debug: true\n", &m);
    assert_true(m.kernel.dma_debug);
    scn_free(&m);
    scn_t_load_ok(HEAD "kernel: {dma_debug: false}\n", &m);
    assert_false(m.kernel.dma_debug);
    scn_free(&m);
    /* any text host/kver.h takes: a distribution's release string, 64 CPUs */
    scn_t_load_ok(HEAD "kernel: {version: 5.15.0-91-generic, cpus: 64}\n", &m);
    assert_string_equal(m.kernel.version, "5.15.0-91-generic");
    assert_int_equal(m.kernel.cpus, 64);
    scn_free(&m);
    scn_t_load_ok(HEAD "kernel: {version: \"6.1\", cpus: 1}\n", &m);
    assert_string_equal(m.kernel.version, "6.1");
    assert_int_equal(m.kernel.cpus, 1);
    scn_free(&m);
    /* the longest command line: 1023 bytes */
    char text[2048 + sizeof HEAD];
    char *p = text + snprintf(text, sizeof text, "%skernel: {cmdline: \"", HEAD);
    memset(p, 'a', 1023);
    p += 1023;
    strcpy(p, "\"}\n");
    scn_t_load_ok(text, &m);
    assert_int_equal(strlen(m.kernel.cmdline), 1023);
    assert_int_equal(m.kernel.cmdline[1022], 'a');
    scn_free(&m);
}

static void test_kernel_errors(void **state)
{
    (void)state;
    expect_error(HEAD "kernel: {version: 4.9, colour: red}\n", PCILAB_EINVAL,
                 "t.yaml:8:24: unknown key 'colour' in 'kernel' (known keys: version, cmdline, cpus, dma_debug, modules)");
    expect_error(HEAD "kernel:\n  version: 4.8.1\n", PCILAB_EINVAL,
                 "t.yaml:9:12: kernel version '4.8.1': 4.8 is not modelled; modelled versions: "
                 "4.9 (4.9.80), 4.20 (4.20.17), 5.15 (5.15), 6.1 (6.1)");
    expect_error(HEAD "kernel:\n  version: linux\n", PCILAB_EINVAL,
                 "t.yaml:9:12: kernel version 'linux' is not of the form major.minor[.sublevel][-suffix]; "
                 "modelled versions: 4.9 (4.9.80), 4.20 (4.20.17), 5.15 (5.15), 6.1 (6.1)");
    expect_error(HEAD "kernel:\n  version: \"\"\n", PCILAB_EINVAL,
                 "t.yaml:9:13: no kernel version given; modelled versions: "
                 "4.9 (4.9.80), 4.20 (4.20.17), 5.15 (5.15), 6.1 (6.1)");
    expect_error(HEAD "kernel: {version: 4.9.80-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n", PCILAB_EINVAL,
                 "t.yaml:8:19: 'version' is too long (37 bytes, at most 31)");
    expect_error(HEAD "kernel: {cpus: 0}\n", PCILAB_ERANGE,
                 "t.yaml:8:16: 'cpus' out of range: 0 (allowed 1..64)");
    expect_error(HEAD "kernel: {cpus: 65}\n", PCILAB_ERANGE,
                 "t.yaml:8:16: 'cpus' out of range: 65 (allowed 1..64)");
    expect_error(HEAD "kernel: 4.9\n", PCILAB_EINVAL,
                 "t.yaml:8:9: 'kernel' must be a mapping, got '4.9'");
    expect_error(HEAD "kernel: {cmdline: [a, b]}\n", PCILAB_EINVAL,
                 "t.yaml:8:19: 'cmdline' must be a string, got a sequence");
    /* one byte over the 1023 */
    char text[2048 + sizeof HEAD];
    char *p = text + snprintf(text, sizeof text, "%skernel:\n  cmdline: ", HEAD);
    memset(p, 'b', 1024);
    strcpy(p + 1024, "\n");
    expect_error(text, PCILAB_EINVAL, "t.yaml:9:12: 'cmdline' is too long (1024 bytes, at most 1023)");
}

/* ------------------------------------------------------------------------ */

static void test_ivrs_none(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok(HEAD "firmware:\n  ivrs: none\n", &m);
    assert_true(m.firmware.ivrs);
    assert_true(m.firmware.no_ivrs);
    assert_int_equal(m.firmware.ivinfo, 0);
    assert_int_equal(m.firmware.nivhd, 0);
    assert_int_equal(m.firmware.line, 9);
    assert_int_equal(m.firmware.col, 3);
    scn_free(&m);
    /* the word none, not a quoted string or anything else */
    expect_error(HEAD "firmware:\n  ivrs: \"none\"\n", PCILAB_EINVAL,
                 "t.yaml:9:10: 'ivrs' must be none or a mapping (ivinfo, ivhd, ivmd), got 'none'");
    expect_error(HEAD "firmware:\n  ivrs: off\n", PCILAB_EINVAL,
                 "t.yaml:9:9: 'ivrs' must be none or a mapping (ivinfo, ivhd, ivmd), got 'off'");
    expect_error(HEAD "firmware:\n  ivrs: [1]\n", PCILAB_EINVAL,
                 "t.yaml:9:9: 'ivrs' must be none or a mapping (ivinfo, ivhd, ivmd), got a sequence");
}

static void test_ivrs_defaults(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - iommu: iommu\n", &m);
    const struct scn_firmware *fw = &m.firmware;
    assert_true(fw->ivrs);
    assert_false(fw->no_ivrs);
    assert_int_equal(fw->ivinfo, 0x00203041);
    assert_int_equal(fw->ivinfo & 1, 1);                 /* EFRSup */
    assert_int_equal((fw->ivinfo >> 1) & 1, 0);          /* DMA remap */
    assert_int_equal((fw->ivinfo >> 5) & 7, 2);          /* GVAsize 48 bits */
    assert_int_equal((fw->ivinfo >> 8) & 0x7f, 48);      /* PAsize */
    assert_int_equal((fw->ivinfo >> 15) & 0x7f, 64);     /* VAsize */
    assert_int_equal(fw->nivhd, 1);
    const struct scn_ivhd *h = &fw->ivhd[0];
    assert_int_equal(h->iommu, 1);
    assert_int_equal(h->ntypes, 2);
    assert_int_equal(h->types[0], 0x10);
    assert_int_equal(h->types[1], 0x11);
    assert_int_equal(h->flags, 0xb0);
    assert_int_equal(h->info, 0);
    assert_int_equal(h->nentries, 0);
    assert_int_equal(h->line, 11);
    assert_int_equal(h->col, 9);
    assert_int_equal(fw->nivmd, 0);
    assert_int_equal(fw->line, 9);
    scn_free(&m);
    /* an ivrs mapping without blocks: a table with no IVHD */
    scn_t_load_ok(HEAD "firmware: {ivrs: {ivinfo: 0}}\n", &m);
    assert_true(m.firmware.ivrs);
    assert_int_equal(m.firmware.ivinfo, 0);
    assert_int_equal(m.firmware.nivhd, 0);
    scn_free(&m);
}

static void test_ivhd_every_form(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok(HEAD
            "firmware:\n"                                                      /*  8 */
            "  ivrs:\n"                                                        /*  9 */
            "    ivinfo: 0x00203040\n"                                         /* 10 */
            "    ivhd:\n"                                                      /* 11 */
            "      - iommu: 00:00.2\n"                                         /* 12 */
            "        types: [0x40, 0x10]\n"                                    /* 13 */
            "        flags: 0x33\n"                                            /* 14 */
            "        info: 0x1f05\n"                                           /* 15 */
            "        entries:\n"                                               /* 16 */
            "          - all: {data: 0x01}\n"                                  /* 17 */
            "          - all: {}\n"                                            /* 18 */
            "          - select: 00:14.0\n"                                    /* 19 */
            "          - select: {devid: 0000:00:14.3, data: 0xd7}\n"          /* 20 */
            "          - range: [01:00.0, 01:1f.7]\n"                          /* 21 */
            "          - range: {first: 02:00.0, last: 02:00.0, data: 0x40}\n" /* 22 */
            "          - alias: {devid: 03:00.0, source: 00:02.2, data: 0x80}\n" /* 23 */
            "          - alias_range: {first: 04:00.0, last: 04:1f.7, source: 04:00.0}\n" /* 24 */
            "          - special: {ioapic: 4, devid: 00:14.0, data: 0xd7}\n"   /* 25 */
            "          - special: {hpet: 0, devid: ff:1f.7}\n"                 /* 26 */
            "          - {select: 00:18.5}\n",                                 /* 27 */
            &m);
    const struct scn_firmware *fw = &m.firmware;
    assert_int_equal(fw->ivinfo, 0x00203040);
    assert_int_equal(fw->nivhd, 1);
    const struct scn_ivhd *h = &fw->ivhd[0];
    assert_int_equal(h->iommu, 1);
    assert_int_equal(h->ntypes, 2);
    assert_int_equal(h->types[0], 0x40); /* in the order written */
    assert_int_equal(h->types[1], 0x10);
    assert_int_equal(h->flags, 0x33);
    assert_int_equal(h->info, 0x1f05);
    assert_int_equal(h->line, 12);
    assert_int_equal(h->col, 9);
    assert_int_equal(h->nentries, 11);
    const struct scn_ivhd_entry *e = h->entries;

    assert_int_equal(e[0].kind, SCN_IVHD_ALL);
    assert_int_equal(e[0].data, 0x01);
    assert_int_equal(e[0].first, 0);
    assert_int_equal(e[0].last, 0);
    assert_int_equal(e[0].line, 17);
    assert_int_equal(e[0].col, 13);
    assert_int_equal(e[1].kind, SCN_IVHD_ALL);
    assert_int_equal(e[1].data, 0);

    assert_int_equal(e[2].kind, SCN_IVHD_SELECT);
    assert_int_equal(e[2].first, 0x00a0); /* 00:14.0 = 0 << 8 | 0x14 << 3 | 0 */
    assert_int_equal(e[2].last, 0x00a0);
    assert_int_equal(e[2].data, 0);
    assert_int_equal(e[2].line, 19);
    assert_int_equal(e[3].kind, SCN_IVHD_SELECT);
    assert_int_equal(e[3].first, 0x00a3);
    assert_int_equal(e[3].data, 0xd7);

    assert_int_equal(e[4].kind, SCN_IVHD_RANGE);
    assert_int_equal(e[4].first, 0x0100);
    assert_int_equal(e[4].last, 0x01ff);
    assert_int_equal(e[4].data, 0);
    assert_int_equal(e[5].kind, SCN_IVHD_RANGE);
    assert_int_equal(e[5].first, 0x0200);
    assert_int_equal(e[5].last, 0x0200);
    assert_int_equal(e[5].data, 0x40);

    assert_int_equal(e[6].kind, SCN_IVHD_ALIAS);
    assert_int_equal(e[6].first, 0x0300);
    assert_int_equal(e[6].last, 0x0300);
    assert_int_equal(e[6].source, 0x0012); /* 00:02.2 */
    assert_int_equal(e[6].data, 0x80);

    assert_int_equal(e[7].kind, SCN_IVHD_ALIAS_RANGE);
    assert_int_equal(e[7].first, 0x0400);
    assert_int_equal(e[7].last, 0x04ff);
    assert_int_equal(e[7].source, 0x0400);
    assert_int_equal(e[7].data, 0);

    assert_int_equal(e[8].kind, SCN_IVHD_SPECIAL);
    assert_int_equal(e[8].variety, 1);
    assert_int_equal(e[8].handle, 4);
    assert_int_equal(e[8].first, 0x00a0);
    assert_int_equal(e[8].data, 0xd7);
    assert_int_equal(e[9].kind, SCN_IVHD_SPECIAL);
    assert_int_equal(e[9].variety, 2);
    assert_int_equal(e[9].handle, 0);
    assert_int_equal(e[9].first, 0xffff);
    assert_int_equal(e[9].line, 26);

    assert_int_equal(e[10].kind, SCN_IVHD_SELECT);
    assert_int_equal(e[10].first, DEVID(0, 0x18, 5));
    assert_int_equal(e[10].line, 27);
    assert_int_equal(e[10].col, 13);
    scn_free(&m);
}

static void test_ivhd_several_iommus(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok("name: t\n"
            "root_complex:\n"
            "  segment: 2\n"
            "  ecam: 0xe0000000\n"
            "  mmio32: {base: 0xc0000000, size: 256M}\n"
            "  functions:\n"
            "    - {bdf: 00:00.0, kind: host_bridge, vendor: 0x1022, device: 0x1450}\n"
            "    - {bdf: 00:00.2, name: iommu0, kind: integrated, vendor: 0x1022, device: 0x1451, class: 0x080600, capabilities: {iommu: {base: 0xfeb80000}}}\n"
            "    - {bdf: 00:01.0, kind: host_bridge, vendor: 0x1022, device: 0x1452}\n"
            "    - {bdf: 00:01.2, kind: integrated, vendor: 0x1022, device: 0x1451, class: 0x080600, capabilities: {iommu: {base: 0xfeb84000}}}\n"
            "firmware:\n"
            "  ivrs:\n"
            "    ivhd:\n"
            "      - {iommu: 0002:00:01.2, types: [0x11], entries: [{select: 0002:00:01.0}]}\n"
            "      - {iommu: iommu0, types: [0x10, 0x11, 0x40]}\n",
            &m);
    assert_int_equal(m.firmware.nivhd, 2);
    assert_int_equal(m.firmware.ivhd[0].iommu, 3);
    assert_int_equal(m.firmware.ivhd[0].ntypes, 1);
    assert_int_equal(m.firmware.ivhd[0].types[0], 0x11);
    assert_int_equal(m.firmware.ivhd[0].entries[0].first, 0x0008);
    assert_int_equal(m.firmware.ivhd[1].iommu, 1);
    assert_int_equal(m.firmware.ivhd[1].ntypes, 3);
    assert_int_equal(m.firmware.ivhd[1].types[2], 0x40);
    assert_int_equal(m.firmware.ivhd[1].line, 15);
    scn_free(&m);
}

static void test_ivmd_every_form(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok(HEAD
            "firmware:\n"                                                                   /*  8 */
            "  ivrs:\n"                                                                     /*  9 */
            "    ivmd:\n"                                                                   /* 10 */
            "      - {all: true, start: 0x9f000000, length: 1M, unity: true, read: true}\n" /* 11 */
            "      - devid: 00:12.0\n"                                                      /* 12 */
            "        start: 0xdf000000\n"
            "        length: 0x1000\n"
            "        unity: true\n"
            "        read: true\n"
            "        write: true\n"
            "      - {range: [00:10.0, 00:10.7], start: 0x100000000, length: 16M, exclusion: true}\n" /* 18 */
            "      - {devid: 01:00.0, start: 0, length: 4097, write: true, unity: false}\n", /* 19 */
            &m);
    const struct scn_firmware *fw = &m.firmware;
    assert_int_equal(fw->nivhd, 0);
    assert_int_equal(fw->nivmd, 4);
    const struct scn_ivmd *b = fw->ivmd;
    assert_int_equal(b[0].kind, SCN_IVMD_ALL);
    assert_int_equal(b[0].flags, 0x03); /* Unity | IR */
    assert_int_equal(b[0].start, 0x9f000000u);
    assert_int_equal(b[0].length, 1u << 20);
    assert_int_equal(b[0].line, 11);
    assert_int_equal(b[0].col, 9);
    assert_int_equal(b[1].kind, SCN_IVMD_SELECT);
    assert_int_equal(b[1].first, 0x0090);
    assert_int_equal(b[1].last, 0x0090);
    assert_int_equal(b[1].flags, 0x07); /* Unity | IR | IW */
    assert_int_equal(b[1].start, 0xdf000000u);
    assert_int_equal(b[1].length, 0x1000);
    assert_int_equal(b[1].line, 12);
    assert_int_equal(b[1].col, 9);
    assert_int_equal(b[2].kind, SCN_IVMD_RANGE);
    assert_int_equal(b[2].first, 0x0080);
    assert_int_equal(b[2].last, 0x0087);
    assert_int_equal(b[2].flags, 0x08); /* ExclusionRange */
    assert_int_equal(b[2].start, 0x100000000ull);
    assert_int_equal(b[2].length, 16u << 20);
    assert_int_equal(b[3].flags, 0x04); /* IW alone */
    assert_int_equal(b[3].length, 4097); /* Linux page-aligns it, the table keeps it */
    scn_free(&m);
}

static void test_equal_compares_kernel_and_firmware(void **state)
{
    (void)state;
    const char *text = HEAD
        "kernel: {version: 4.20.17, cmdline: iommu=soft, cpus: 2}\n"
        "firmware:\n"
        "  ivrs:\n"
        "    ivhd:\n"
        "      - iommu: iommu\n"
        "        entries: [{select: 00:14.0}, {alias: {devid: 03:00.0, source: 00:02.2}}]\n"
        "    ivmd: [{devid: 00:12.0, start: 0xdf000000, length: 4K, unity: true}]\n";
    struct scn_machine a, b;
    scn_t_load_ok(text, &a);
    scn_t_load_ok(text, &b);
    assert_true(scn_machine_equal(&a, &b));
    b.kernel.cpus = 3;
    assert_false(scn_machine_equal(&a, &b));
    b.kernel.cpus = 2;
    strcpy(b.kernel.cmdline, "iommu=pt");
    assert_false(scn_machine_equal(&a, &b));
    strcpy(b.kernel.cmdline, "iommu=soft");
    strcpy(b.kernel.version, "4.20");
    assert_false(scn_machine_equal(&a, &b));
    strcpy(b.kernel.version, "4.20.17");
    assert_true(scn_machine_equal(&a, &b));
    b.kernel.dma_debug = true;
    assert_false(scn_machine_equal(&a, &b));
    b.kernel.dma_debug = false;
    b.firmware.ivhd[0].entries[1].source++;
    assert_false(scn_machine_equal(&a, &b));
    b.firmware.ivhd[0].entries[1].source--;
    b.firmware.ivhd[0].flags ^= 1;
    assert_false(scn_machine_equal(&a, &b));
    b.firmware.ivhd[0].flags ^= 1;
    b.firmware.ivhd[0].types[1] = 0x40;
    assert_false(scn_machine_equal(&a, &b));
    b.firmware.ivhd[0].types[1] = 0x11;
    b.firmware.ivmd[0].flags |= 2;
    assert_false(scn_machine_equal(&a, &b));
    b.firmware.ivmd[0].flags &= (uint8_t)~2u;
    b.firmware.ivinfo = 0;
    assert_false(scn_machine_equal(&a, &b));
    b.firmware.ivinfo = a.firmware.ivinfo;
    b.firmware.no_ivrs = true;
    assert_false(scn_machine_equal(&a, &b));
    b.firmware.no_ivrs = false;
    assert_true(scn_machine_equal(&a, &b));
    scn_free(&a);
    scn_free(&b);
}

/* ------------------------------------------------------------------------ */

static void test_firmware_key_errors(void **state)
{
    (void)state;
    expect_error(HEAD "firmware: {acpi: 1}\n", PCILAB_EINVAL,
                 "t.yaml:8:12: unknown key 'acpi' in 'firmware' (known keys: ivrs, dmar)");
    expect_error(HEAD "firmware:\n  ivrs: {ivhd: [], dmar: 1}\n", PCILAB_EINVAL,
                 "t.yaml:9:20: unknown key 'dmar' in 'ivrs' (known keys: ivinfo, ivhd, ivmd)");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - {iommu: iommu, efr2: 1}\n", PCILAB_EINVAL,
                 "t.yaml:11:24: unknown key 'efr2' in an 'ivhd' block (known keys: iommu, types, flags, info, efr, entries)");
    expect_error(IVHD_HEAD "          - selekt: 00:14.0\n", PCILAB_EINVAL,
                 "t.yaml:13:13: unknown key 'selekt' in an IVHD entry (known keys: all, select, range, alias, alias_range, special)");
    expect_error(IVHD_HEAD "          - select: {devid: 00:14.0, date: 1}\n", PCILAB_EINVAL,
                 "t.yaml:13:38: unknown key 'date' in 'select' (known keys: devid, data)");
    expect_error(IVHD_HEAD "          - special: {ioapic: 1, devid: 00:14.0, uid: 1}\n", PCILAB_EINVAL,
                 "t.yaml:13:50: unknown key 'uid' in 'special' (known keys: ioapic, hpet, devid, data)");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivmd: [{all: true, start: 0, length: 4K, execute: true}]\n", PCILAB_EINVAL,
                 "t.yaml:10:46: unknown key 'execute' in an 'ivmd' block (known keys: all, devid, range, start, length, unity, read, write, exclusion)");
    expect_error(HEAD "firmware:\n  ivrs: {ivinfo: 0x100000000}\n", PCILAB_ERANGE,
                 "t.yaml:9:18: 'ivinfo' out of range: 0x100000000 (allowed 0x0..0xffffffff)");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd: {iommu: iommu}\n", PCILAB_EINVAL,
                 "t.yaml:10:11: 'ivhd' must be a sequence of IVHD blocks, got a mapping");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - {types: [0x10]}\n", PCILAB_EINVAL,
                 "t.yaml:11:9: an 'ivhd' block is missing required key 'iommu'");
}

static void test_ivhd_iommu_errors(void **state)
{
    (void)state;
    /* the host bridge is a function, but no IOMMU */
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - iommu: 00:00.0\n", PCILAB_EINVAL,
                 "t.yaml:11:9: 'iommu' 00:00.0 is function 00:00.0, which has no iommu capability (an IVHD describes an AMD IOMMU, AMD 48882 5.2.2.1)");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - iommu: 00:00.3\n", PCILAB_ENOENT,
                 "t.yaml:11:9: 'iommu' 00:00.3 names no function of this machine");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - iommu: 0001:00:00.2\n", PCILAB_ENOENT,
                 "t.yaml:11:9: 'iommu' 0001:00:00.2 is in segment 0001, but the root complex is segment 0000");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - {types: [0x10], iommu: gpu}\n", PCILAB_ENOENT,
                 "t.yaml:11:25: 'iommu' gpu names no function of this machine");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - iommu: [00:00.2]\n", PCILAB_EINVAL,
                 "t.yaml:11:16: 'iommu' must be a function name or BDF, got a sequence");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - iommu: iommu\n      - iommu: 00:00.2\n", PCILAB_EEXIST,
                 "t.yaml:12:9: IOMMU 00:00.2 already has an 'ivhd' block (line 11); list several IVHD types in its 'types'");
    /* types */
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - {iommu: iommu, types: [0x10, 0x12]}\n", PCILAB_EINVAL,
                 "t.yaml:11:38: IVHD type 0x12 is not one of 0x10, 0x11, 0x40 (AMD 48882 5.2.2)");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - {iommu: iommu, types: [0x11, 17]}\n", PCILAB_EEXIST,
                 "t.yaml:11:38: 'types' lists 0x11 twice");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - {iommu: iommu, types: []}\n", PCILAB_EINVAL,
                 "t.yaml:11:31: 'types' must list at least one IVHD type (0x10, 0x11, 0x40)");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - {iommu: iommu, types: 0x10}\n", PCILAB_EINVAL,
                 "t.yaml:11:31: 'types' must be a sequence of IVHD types (0x10, 0x11, 0x40), got '0x10'");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - {iommu: iommu, flags: 0x100}\n", PCILAB_ERANGE,
                 "t.yaml:11:31: 'flags' out of range: 0x100 (allowed 0x0..0xff)");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivhd:\n      - {iommu: iommu, info: 0x10000}\n", PCILAB_ERANGE,
                 "t.yaml:11:30: 'info' out of range: 0x10000 (allowed 0x0..0xffff)");
}

static void test_ivhd_entry_errors(void **state)
{
    (void)state;
    /* BDF syntax: device 20 is beyond 1f */
    expect_error(IVHD_HEAD "          - select: 00:20.0\n", PCILAB_EINVAL,
                 "t.yaml:13:21: 'select' must be BB:DD.F or SSSS:BB:DD.F in hex (device 00..1f, function 0..7), got '00:20.0'");
    expect_error(IVHD_HEAD "          - range: [00:01.0, 0:02.0]\n", PCILAB_EINVAL,
                 "t.yaml:13:30: 'range' must be BB:DD.F or SSSS:BB:DD.F in hex (device 00..1f, function 0..7), got '0:02.0'");
    expect_error(IVHD_HEAD "          - alias: {devid: 03:00.0, source: 00:02.8}\n", PCILAB_EINVAL,
                 "t.yaml:13:45: 'source' must be BB:DD.F or SSSS:BB:DD.F in hex (device 00..1f, function 0..7), got '00:02.8'");
    expect_error(IVHD_HEAD "          - select: 0001:00:14.0\n", PCILAB_EINVAL,
                 "t.yaml:13:21: 'select' 0001:00:14.0 is in segment 0001, but the root complex is segment 0000");
    expect_error(IVHD_HEAD "          - select: 20\n", PCILAB_EINVAL,
                 "t.yaml:13:21: 'select' must be BB:DD.F or SSSS:BB:DD.F in hex (device 00..1f, function 0..7), got '20'");
    /* first > last, in every form that has both */
    expect_error(IVHD_HEAD "          - range: [00:02.0, 00:01.7]\n", PCILAB_EINVAL,
                 "t.yaml:13:30: 'range': first 00:02.0 (device ID 0x0010) is above last 00:01.7 (0x000f)");
    expect_error(IVHD_HEAD "          - range: {first: 02:00.0, last: 01:1f.7, data: 1}\n", PCILAB_EINVAL,
                 "t.yaml:13:43: 'range': first 02:00.0 (device ID 0x0200) is above last 01:1f.7 (0x01ff)");
    expect_error(IVHD_HEAD "          - alias_range: {first: 04:00.1, last: 04:00.0, source: 04:00.0}\n", PCILAB_EINVAL,
                 "t.yaml:13:49: 'alias_range': first 04:00.1 (device ID 0x0401) is above last 04:00.0 (0x0400)");
    /* data is a byte */
    expect_error(IVHD_HEAD "          - all: {data: 256}\n", PCILAB_ERANGE,
                 "t.yaml:13:25: 'data' out of range: 0x100 (allowed 0x0..0xff)");
    /* forms */
    expect_error(IVHD_HEAD "          - {select: 00:14.0, range: [01:00.0, 01:00.7]}\n", PCILAB_EINVAL,
                 "t.yaml:13:31: an IVHD entry has one key: 'select' and 'range' are two entries (write each as its own item of 'entries')");
    expect_error(IVHD_HEAD "          - {}\n", PCILAB_EINVAL,
                 "t.yaml:13:13: an IVHD entry must have one key (all, select, range, alias, alias_range or special), this one has none");
    expect_error(IVHD_HEAD "          - 00:14.0\n", PCILAB_EINVAL,
                 "t.yaml:13:13: an IVHD entry must be a mapping with one key (all, select, range, alias, alias_range or special), got '00:14.0'");
    expect_error(IVHD_HEAD "          - all: true\n", PCILAB_EINVAL,
                 "t.yaml:13:18: 'all' must be a mapping, got 'true'");
    expect_error(IVHD_HEAD "          - range: [00:01.0]\n", PCILAB_EINVAL,
                 "t.yaml:13:20: 'range' must be [first, last] or {first, last, data}, got a sequence of 1");
    expect_error(IVHD_HEAD "          - range: 00:01.0\n", PCILAB_EINVAL,
                 "t.yaml:13:20: 'range' must be [first, last] or {first, last, data}, got '00:01.0'");
    expect_error(IVHD_HEAD "          - alias_range: [04:00.0, 04:00.7]\n", PCILAB_EINVAL,
                 "t.yaml:13:26: 'alias_range' must be {first, last, source, data}, got a sequence");
    expect_error(IVHD_HEAD "          - alias_range: {first: 04:00.0, last: 04:00.7}\n", PCILAB_EINVAL,
                 "t.yaml:13:26: 'alias_range' is missing required key 'source'");
    expect_error(IVHD_HEAD "          - alias: {devid: 03:00.0}\n", PCILAB_EINVAL,
                 "t.yaml:13:20: 'alias' is missing required key 'source'");
    expect_error(IVHD_HEAD "          - special: {devid: 00:14.0}\n", PCILAB_EINVAL,
                 "t.yaml:13:22: 'special' is missing required key 'ioapic' or 'hpet'");
    expect_error(IVHD_HEAD "          - special: {ioapic: 4, hpet: 0, devid: 00:14.0}\n", PCILAB_EINVAL,
                 "t.yaml:13:34: 'special' names an ioapic or an hpet, not both");
    expect_error(IVHD_HEAD "          - special: {hpet: 256, devid: 00:14.0}\n", PCILAB_ERANGE,
                 "t.yaml:13:29: 'hpet' out of range: 256 (allowed 0..255)");
    expect_error(IVHD_HEAD "          - special: {ioapic: 5}\n", PCILAB_EINVAL,
                 "t.yaml:13:22: 'special' is missing required key 'devid'");
    expect_error(IVHD_HEAD "          - select: {data: 1}\n", PCILAB_EINVAL,
                 "t.yaml:13:21: 'select' is missing required key 'devid'");
}

static void test_limits(void **state)
{
    (void)state;
    /* SCN_MAX_IVHD_ENTRIES + 1 entries: the error is at the sequence */
    char text[8192];
    size_t off = (size_t)snprintf(text, sizeof text, "%s", HEAD
                                  "firmware:\n  ivrs:\n    ivhd:\n      - iommu: iommu\n        entries: [");
    for (unsigned i = 0; i <= SCN_MAX_IVHD_ENTRIES; i++)
        off += (size_t)snprintf(text + off, sizeof text - off, "%s{select: 01:00.%u}", i ? ", " : "", i & 7);
    snprintf(text + off, sizeof text - off, "]\n");
    expect_error(text, PCILAB_ERANGE, "t.yaml:12:18: too many IVHD 'entries' (65, at most 64)");
    /* exactly the limit loads */
    char *cut = strstr(text, ", {select: 01:00.0}]");
    assert_non_null(cut);
    strcpy(cut, "]\n");
    struct scn_machine m;
    scn_t_load_ok(text, &m);
    assert_int_equal(m.firmware.ivhd[0].nentries, SCN_MAX_IVHD_ENTRIES);
    assert_int_equal(m.firmware.ivhd[0].entries[63].first, 0x0107);
    scn_free(&m);

    off = (size_t)snprintf(text, sizeof text, "%s", HEAD "firmware:\n  ivrs:\n    ivhd: [");
    for (unsigned i = 0; i <= SCN_MAX_IVHD; i++)
        off += (size_t)snprintf(text + off, sizeof text - off, "%s{iommu: iommu}", i ? ", " : "");
    snprintf(text + off, sizeof text - off, "]\n");
    expect_error(text, PCILAB_ERANGE, "t.yaml:10:11: too many 'ivhd' blocks (9, at most 8)");

    off = (size_t)snprintf(text, sizeof text, "%s", HEAD "firmware:\n  ivrs:\n    ivmd:\n");
    for (unsigned i = 0; i <= SCN_MAX_IVMD; i++)
        off += (size_t)snprintf(text + off, sizeof text - off,
                                "      - {devid: 00:12.0, start: 0x%x, length: 4K, unity: true}\n",
                                0xdf000000u + i * 0x1000u);
    expect_error(text, PCILAB_ERANGE, "t.yaml:11:7: too many 'ivmd' blocks (17, at most 16)");
}

static void test_ivmd_errors(void **state)
{
#define IVMD "firmware:\n  ivrs:\n    ivmd:\n      - "
    (void)state;
    expect_error(HEAD IVMD "{start: 0x1000, length: 4K, unity: true}\n", PCILAB_EINVAL,
                 "t.yaml:11:9: an 'ivmd' block needs one of 'all', 'devid' or 'range' (IVMD types 20h, 21h, 22h, AMD 48882 5.2.3)");
    expect_error(HEAD IVMD "{all: true, devid: 00:12.0, start: 0x1000, length: 4K}\n", PCILAB_EINVAL,
                 "t.yaml:11:21: an 'ivmd' block takes one of 'all', 'devid' or 'range', not both 'all' and 'devid'");
    expect_error(HEAD IVMD "{all: false, start: 0x1000, length: 4K}\n", PCILAB_EINVAL,
                 "t.yaml:11:15: 'all' must be true (for fewer devices write 'devid' or 'range')");
    expect_error(HEAD IVMD "{range: [00:12.0, 00:11.0], start: 0x1000, length: 4K}\n", PCILAB_EINVAL,
                 "t.yaml:11:27: 'range': first 00:12.0 (device ID 0x0090) is above last 00:11.0 (0x0088)");
    expect_error(HEAD IVMD "{range: {first: 00:11.0, last: 00:12.0}, start: 0x1000, length: 4K}\n", PCILAB_EINVAL,
                 "t.yaml:11:17: 'range' must be [first, last], got a mapping");
    expect_error(HEAD IVMD "{devid: 00:12.9, start: 0x1000, length: 4K}\n", PCILAB_EINVAL,
                 "t.yaml:11:17: 'devid' must be BB:DD.F or SSSS:BB:DD.F in hex (device 00..1f, function 0..7), got '00:12.9'");
    expect_error(HEAD IVMD "{devid: 00:12.0, start: 0x1800, length: 4K}\n", PCILAB_EINVAL,
                 "t.yaml:11:33: 'start' 0x1800 must be 4 KiB aligned (IVMD Start Address, AMD 48882 5.2.3)");
    expect_error(HEAD IVMD "{devid: 00:12.0, length: 4K}\n", PCILAB_EINVAL,
                 "t.yaml:11:9: an 'ivmd' block is missing required key 'start'");
    expect_error(HEAD IVMD "{devid: 00:12.0, start: 0x1000}\n", PCILAB_EINVAL,
                 "t.yaml:11:9: an 'ivmd' block is missing required key 'length'");
    expect_error(HEAD IVMD "{devid: 00:12.0, start: 0x1000, length: 0}\n", PCILAB_EINVAL,
                 "t.yaml:11:49: 'length' must not be 0");
    expect_error(HEAD IVMD "{devid: 00:12.0, start: 0xfffffffffffff000, length: 8K}\n", PCILAB_ERANGE,
                 "t.yaml:11:61: IVMD 0xfffffffffffff000+0x2000 runs past 2^64");
    expect_error(HEAD IVMD "{devid: 00:12.0, start: 0x1000, length: 4K, unity: yes}\n", PCILAB_EINVAL,
                 "t.yaml:11:60: 'unity' must be true or false, got 'yes'");
    expect_error(HEAD "firmware:\n  ivrs:\n    ivmd: {all: true}\n", PCILAB_EINVAL,
                 "t.yaml:10:11: 'ivmd' must be a sequence of IVMD blocks, got a mapping");
#undef IVMD
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absent_means_defaults),
        cmocka_unit_test(test_kernel),
        cmocka_unit_test(test_kernel_modules),
        cmocka_unit_test(test_kernel_errors),
        cmocka_unit_test(test_ivrs_none),
        cmocka_unit_test(test_ivrs_defaults),
        cmocka_unit_test(test_ivhd_every_form),
        cmocka_unit_test(test_ivhd_several_iommus),
        cmocka_unit_test(test_ivmd_every_form),
        cmocka_unit_test(test_equal_compares_kernel_and_firmware),
        cmocka_unit_test(test_firmware_key_errors),
        cmocka_unit_test(test_ivhd_iommu_errors),
        cmocka_unit_test(test_ivhd_entry_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_ivmd_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
