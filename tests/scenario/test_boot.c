/* A built machine's firmware tables and its kernel's boot: the default
 * (AGESA-like) IVRS, a described one, none; the kernel of the description or
 * of the caller; the boot lines of the AMD IOMMU driver that reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/amd_iommu.h"
#include "host/ivrs.h"
#include "scenario/boot.h"
#include "scenario/build.h"

struct fx {
    struct scn_machine m;
    struct pcilab_sim *sim;
    struct scn_system *sys;
    struct pcie_enum_report rep;
};

static void up_text(struct fx *x, const char *text)
{
    struct pcilab_err err;
    memset(x, 0, sizeof *x);
    if (text)
        assert_int_equal(scn_load_string("t.yaml", text, strlen(text), &x->m, &err), 0);
    else
        assert_int_equal(scn_load_builtin("seed", &x->m, &err), 0);
    x->sim = sim_create(1);
    assert_int_equal(scn_build(&x->m, x->sim, &x->sys, &err), 0);
    assert_int_equal(scn_enumerate(x->sys, &x->rep, &err), 0);
}

static void down(struct fx *x)
{
    pcie_enum_report_free(&x->rep);
    sim_destroy(x->sim);
    scn_free(&x->m);
}

static bool log_has(struct fx *x, const char *text)
{
    struct sim_log *log = sim_log(x->sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec rec;
        if (sim_log_get(log, i, &rec) && !strcmp(rec.text, text))
            return true;
    }
    return false;
}

static void test_default_ivrs(void **state)
{
    (void)state;
    struct fx x;
    up_text(&x, NULL);
    /* the seed writes its IVRS out (for its IVMD, docs/seed-layout.md): the
     * builder's default table is what the seed has without firmware: */
    uint8_t *seed_b;
    size_t seed_n;
    assert_int_equal(scn_firmware_ivrs(&x.m, x.sys, &seed_b, &seed_n, NULL), 0);
    x.m.firmware.ivrs = false;
    uint8_t *b;
    size_t n;
    assert_int_equal(scn_firmware_ivrs(&x.m, x.sys, &b, &n, NULL), 0);
    assert_non_null(b);
    /* ... and the seed's own table is that one plus one IVMD block (32 bytes,
     * AMD 48882 5.2.3) at its end: the IVHDs are byte for byte the default's */
    assert_int_equal(seed_n, n + 32);
    assert_memory_equal(seed_b + 48, b + 48, n - 48);
    struct host_ivrs *st;
    assert_int_equal(host_ivrs_parse(seed_b, seed_n, &st, NULL), 0);
    assert_int_equal(st->n_blocks, 3);
    assert_int_equal(st->blocks[2].kind, HOST_IVRS_IVMD);
    assert_int_equal(st->blocks[2].ivmd.type, HOST_IVMD_TYPE_ALL);
    assert_int_equal(st->blocks[2].ivmd.flags, 0x03);   /* Unity | IR */
    assert_int_equal(st->blocks[2].ivmd.start, 0xffc00000ull);
    assert_int_equal(st->blocks[2].ivmd.length, 0x400000ull);
    host_ivrs_destroy(st);
    free(seed_b);
    assert_true(host_ivrs_checksum_ok(b, n));
    assert_memory_equal(b, "IVRS", 4);
    struct host_ivrs *t;
    assert_int_equal(host_ivrs_parse(b, n, &t, NULL), 0);
    assert_int_equal(t->ivinfo, 0x00203041u);
    assert_int_equal(t->n_blocks, 2);
    const uint8_t types[2] = {0x10, 0x11}, flags[2] = {0xb0, 0x30};
    for (size_t i = 0; i < 2; i++) {
        const struct host_ivrs_block *blk = &t->blocks[i];
        assert_int_equal(blk->kind, HOST_IVRS_IVHD);
        assert_int_equal(blk->ivhd.type, types[i]);
        assert_int_equal(blk->ivhd.flags, flags[i]);
        assert_int_equal(blk->ivhd.devid, 0x0002);      /* 00:00.2 */
        assert_int_equal(blk->ivhd.cap_offset, 0x40);   /* the seed's capability */
        assert_int_equal(blk->ivhd.mmio_base, 0xfeb80000ull);
        assert_int_equal(blk->n_entries, 4);
        assert_int_equal(blk->entries[0].type, HOST_IVHD_DEV_RANGE_START);
        assert_int_equal(blk->entries[0].devid, 0x0008); /* 00:01.0 */
        assert_int_equal(blk->entries[1].type, HOST_IVHD_DEV_RANGE_END);
        assert_int_equal(blk->entries[1].devid, 0x3fff); /* the seed's last bus, 3f:1f.7 */
        assert_int_equal(blk->entries[2].type, HOST_IVHD_DEV_SPECIAL);
        assert_int_equal(blk->entries[2].ext, 4u | 0x00a0u << 8 | 1u << 24); /* IOAPIC 4 at 00:14.0 */
    }
    host_ivrs_destroy(t);
    free(b);
    down(&x);
}

/* The seed boots 4.9.80 (its kernel:), the IOMMU is found and set up, the
 * host bridge 00:00.0 is outside the IVRS ranges so it has no group. */
static void test_seed_boots_49(void **state)
{
    (void)state;
    struct fx x;
    up_text(&x, NULL);
    struct host_kernel *k;
    struct pcilab_err err;
    assert_int_equal(scn_boot(x.sys, &x.m, NULL, &x.rep, &k, &err), 0);
    assert_string_equal(host_kver_name(k->kver), "4.9.80");
    assert_true(log_has(&x, "AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40"));
    assert_true(log_has(&x, "iommu: Adding device 0000:01:00.0 to group 1"));
    assert_false(log_has(&x, "iommu: Adding device 0000:00:00.0 to group 0"));
    assert_non_null(host_amd_iommu_of(k));
    /* the caller's version and command line win */
    down(&x);
    up_text(&x, NULL);
    struct scn_boot_opts o = {"6.1", "amd_iommu=off", false};
    assert_int_equal(scn_boot(x.sys, &x.m, &o, &x.rep, &k, &err), 0);
    assert_string_equal(host_kver_name(k->kver), "6.1");
    assert_null(host_amd_iommu_of(k));
    assert_true(log_has(&x, "Kernel command line: amd_iommu=off"));
    down(&x);
}

static const char *described =
    "name: t\n"
    "kernel: {version: '5.15', cmdline: 'iommu.strict=1'}\n"
    "root_complex:\n"
    "  buses: [0, 3]\n"
    "  ecam: 0xe0000000\n"
    "  mmio32: {base: 0xc0000000, size: 256M}\n"
    "  functions:\n"
    "    - {bdf: 00:00.0, kind: host_bridge, vendor: 0x1022, device: 0x1576}\n"
    "    - bdf: 00:00.2\n"
    "      kind: integrated\n"
    "      vendor: 0x1022\n"
    "      device: 0x1577\n"
    "      class: 0x080600\n"
    "      capabilities:\n"
    "        iommu: {base: 0xfeb80000, offset: 0x40}\n"
    "        msi: {vectors: 1, addr64: true, offset: 0x54}\n"
    "    - bdf: 00:02.0\n"
    "      kind: root_port\n"
    "      vendor: 0x1022\n"
    "      device: 0x157c\n"
    "      capabilities: {pcie: {max_speed: gen2, max_width: 1}}\n"
    "      children:\n"
    "        - devfn: 00.0\n"
    "          kind: endpoint\n"
    "          vendor: 0x1204\n"
    "          device: 0x5045\n"
    "          class: 0x118000\n"
    "          bars: [{index: 0, type: mem32, size: 4K}]\n"
    "          capabilities: {msi: {vectors: 2, addr64: true}, pcie: {max_speed: gen2, max_width: 1}}\n"
    "firmware:\n"
    "  ivrs:\n"
    "    ivhd:\n"
    "      - iommu: 00:00.2\n"
    "        types: [0x10]\n"
    "        entries:\n"
    "          - select: 01:00.0\n"
    "          - special: {ioapic: 4, devid: 00:14.0}\n";

static void test_described_ivrs(void **state)
{
    (void)state;
    struct fx x;
    up_text(&x, described);
    uint8_t *b;
    size_t n;
    assert_int_equal(scn_firmware_ivrs(&x.m, x.sys, &b, &n, NULL), 0);
    struct host_ivrs *t;
    assert_int_equal(host_ivrs_parse(b, n, &t, NULL), 0);
    assert_int_equal(t->n_blocks, 1);
    assert_int_equal(t->blocks[0].ivhd.type, 0x10);
    assert_int_equal(t->blocks[0].n_entries, 2);
    assert_int_equal(t->blocks[0].entries[0].type, HOST_IVHD_DEV_SELECT);
    assert_int_equal(t->blocks[0].entries[0].devid, 0x0100);
    host_ivrs_destroy(t);
    free(b);
    struct host_kernel *k;
    struct pcilab_err err;
    assert_int_equal(scn_boot(x.sys, &x.m, NULL, &x.rep, &k, &err), 0);
    assert_string_equal(host_kver_name(k->kver), "5.15");
    assert_true(log_has(&x, "pci 0000:01:00.0: Adding to iommu group 0"));
    assert_true(log_has(&x, "iommu: DMA domain TLB invalidation policy: strict mode (set via kernel command line)"));
    down(&x);
}

/* The IOMMU's EFR (iommu: {efr: ...}) is its register and, unless the IVHD
 * says otherwise (ivhd: {efr: ...}), the 11h block's EFR image; on 6.1 an
 * IOMMU with GTSup and PPRSup is an IOMMUv2 (QEMU's amd-iommu: 0x29d3). */
static void efr_case(const char *cap_efr, const char *ivhd, uint64_t want_image,
                     const char *features, const char *v2)
{
    char text[4096];
    snprintf(text, sizeof text,
             "name: t\n"
             "kernel: {version: '6.1'}\n"
             "root_complex:\n"
             "  ecam: 0xe0000000\n"
             "  mmio32: {base: 0xc0000000, size: 256M}\n"
             "  functions:\n"
             "    - {bdf: 00:00.0, kind: host_bridge, vendor: 0x1022, device: 0x1576}\n"
             "    - bdf: 00:00.2\n"
             "      kind: integrated\n"
             "      vendor: 0x1022\n"
             "      device: 0x1577\n"
             "      class: 0x080600\n"
             "      capabilities:\n"
             "        iommu: {base: 0xfeb80000, offset: 0x40%s}\n"
             "        msi: {vectors: 1, addr64: true, offset: 0x54}\n"
             "%s",
             cap_efr, ivhd);
    struct fx x;
    up_text(&x, text);
    uint8_t *b;
    size_t n;
    assert_int_equal(scn_firmware_ivrs(&x.m, x.sys, &b, &n, NULL), 0);
    struct host_ivrs *t;
    assert_int_equal(host_ivrs_parse(b, n, &t, NULL), 0);
    bool seen = false;
    for (size_t i = 0; i < t->n_blocks; i++)
        if (t->blocks[i].ivhd.type == 0x11) {
            assert_int_equal(t->blocks[i].ivhd.efr, want_image);
            seen = true;
        }
    assert_true(seen);
    host_ivrs_destroy(t);
    free(b);
    struct host_kernel *k;
    struct pcilab_err err;
    assert_int_equal(scn_boot(x.sys, &x.m, NULL, &x.rep, &k, &err), 0);
    if (!log_has(&x, features))
        fail_msg("no line '%s'", features);
    if (!log_has(&x, v2))
        fail_msg("no line '%s'", v2);
    down(&x);
}

static void test_efr(void **state)
{
    (void)state;
    /* the model's default EFR everywhere: no GT, not an IOMMUv2 */
    efr_case("", "", 0x8c3, "AMD-Vi: Extended features (0x8c3, 0x0): PreF PPR IA GA",
             "AMD-Vi: AMD IOMMUv2 functionality not available on this system - This is not a "
             "bug.");
    /* QEMU's: the register and the default IVRS's image */
    efr_case(", efr: 0x29d3", "", 0x29d3,
             "AMD-Vi: Extended features (0x29d3, 0x0): PreF PPR GT IA GA HE",
             "AMD-Vi: AMD IOMMUv2 loaded and initialized");
    /* QEMU's IVRS: no image in 11h, so 6.1 reads the register */
    efr_case(", efr: 0x29d3",
             "firmware:\n  ivrs:\n    ivhd:\n      - {iommu: 00:00.2, types: [0x10, 0x11], efr: 0,"
             " entries: [{all: {data: 0}}]}\n",
             0, "AMD-Vi: Extended features (0x29d3, 0x0): PreF PPR GT IA GA HE",
             "AMD-Vi: AMD IOMMUv2 loaded and initialized");
}

static void test_no_ivrs(void **state)
{
    (void)state;
    char *text = malloc(strlen(described) + 1);
    strcpy(text, described);
    char *fw = strstr(text, "firmware:");
    strcpy(fw, "firmware: {ivrs: none}\n");
    struct fx x;
    up_text(&x, text);
    free(text);
    uint8_t *b;
    size_t n;
    assert_int_equal(scn_firmware_ivrs(&x.m, x.sys, &b, &n, NULL), 0);
    assert_null(b);
    assert_int_equal(n, 0);
    struct host_kernel *k;
    assert_int_equal(scn_boot(x.sys, &x.m, NULL, &x.rep, &k, NULL), 0);
    assert_null(host_amd_iommu_of(k));
    down(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_ivrs),
        cmocka_unit_test(test_seed_boots_49),
        cmocka_unit_test(test_described_ivrs),
        cmocka_unit_test(test_no_ivrs),
        cmocka_unit_test(test_efr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
