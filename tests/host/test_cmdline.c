/* Kernel command line parsing per version: every expected line below is the
 * text the named Linux source prints (see src/host/cmdline.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "host/cmdline.h"

struct lines {
    int n;
    int level[32];
    char text[32][512];
};

static void collect(void *ctx, int level, const char *text)
{
    struct lines *l = ctx;
    if (l->n < 32) {
        l->level[l->n] = level;
        snprintf(l->text[l->n], sizeof l->text[0], "%s", text);
    }
    l->n++;
}

static const struct host_kver *kv(const char *v)
{
    const struct host_kver *k = NULL;
    assert_int_equal(host_kver_find(v, &k, NULL), 0);
    return k;
}

/* Parses and returns the lines; the "Kernel command line:" line is checked
 * and removed so that the tests list only the others. */
static void parse(const char *ver, const char *cmd, struct host_bootparams *bp,
                  struct lines *l)
{
    memset(l, 0, sizeof *l);
    struct host_log_sink sink = {collect, l};
    assert_int_equal(host_cmdline_parse(kv(ver), cmd, bp, &sink, NULL), 0);
    char want[HOST_CMDLINE_SIZE + 32];
    snprintf(want, sizeof want, "Kernel command line: %s", cmd);
    int at = -1;
    for (int i = 0; i < l->n; i++)
        if (!strncmp(l->text[i], "Kernel command line: ", 21))
            at = i;
    assert_true(at >= 0);
    assert_string_equal(l->text[at], want);
    assert_int_equal(l->level[at], 5);
    for (int i = at; i + 1 < l->n; i++) {
        l->level[i] = l->level[i + 1];
        memcpy(l->text[i], l->text[i + 1], sizeof l->text[0]);
    }
    l->n--;
}

static void empty_line_gives_defaults(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    for (size_t i = 0; i < host_kver_count(); i++) {
        parse(host_kver_at(i)->name, "", &bp, &l);
        assert_int_equal(l.n, 0);
        assert_false(bp.no_iommu);
        assert_false(bp.iommu_def_passthrough);
        /* Debian 6.1 turns DMA remapping on by default (intgpu patch) */
        assert_int_equal(bp.dmar_disabled, !host_kver_at(i)->intel_iommu_default_on);
        assert_int_equal(bp.dmar_map_intgpu, !host_kver_at(i)->intel_iommu_intgpu_off);
        assert_int_equal(bp.init_argc, 0);
        assert_string_equal(bp.init_envp, "HOME=/ TERM=linux");
        assert_int_equal(bp.swiotlb_force, HOST_SWIOTLB_NORMAL);
    }
    parse("6.1", "", &bp, &l);
    assert_false(bp.dmar_disabled);
    parse("5.15", "", &bp, &l);
    assert_true(bp.dmar_disabled);
    parse("6.1", "intel_iommu=intgpu_off", &bp, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0], "DMAR: Disable integrated GPU device mapping");
    parse("6.1", "intel_iommu=on", &bp, &l);
    assert_true(bp.dmar_map_intgpu);
    parse("4.9", "", &bp, &l);
    assert_int_equal(bp.swiotlb_nslabs, 0);
    parse("5.15", "", &bp, &l);
    assert_int_equal(bp.swiotlb_nslabs, 32768);
    assert_false(bp.iommu_dma_strict);
    parse("4.20", "", &bp, &l);
    assert_true(bp.iommu_dma_strict);
    parse("6.1", "", &bp, &l);
    assert_true(bp.intel_iommu_sm);
}

static void iommu_words(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    parse("4.9", "iommu=off", &bp, &l);
    assert_true(bp.no_iommu);
    assert_true(bp.iommu_merge);
    assert_int_equal(l.n, 0);
    parse("4.9", "iommu=soft", &bp, &l);
    assert_true(bp.x86_swiotlb);
    parse("4.9", "iommu=force", &bp, &l);
    assert_true(bp.force_iommu);
    assert_true(bp.gart_aperture_allowed); /* gart_parse_options sees it too */
    parse("4.9", "iommu=pt", &bp, &l);
    assert_true(bp.iommu_pass_through);
    assert_false(bp.iommu_def_passthrough);
    /* a comma list, each word tested as a prefix, not exclusively */
    parse("4.9", "iommu=noforce,forcesac,allowdac,panic,512M,noagp", &bp, &l);
    assert_true(bp.iommu_sac_force);
    assert_true(bp.force_iommu); /* "forcesac" starts with "force" */
    assert_false(bp.iommu_merge); /* noforce cleared it */
    assert_int_equal(bp.forbid_dac, 0);
    assert_true(bp.panic_on_overflow);
    assert_int_equal(bp.gart_iommu_size, 512); /* get_option: 512, "M" left */
    assert_true(bp.gart_no_agp);
    assert_int_equal(l.n, 0);
    parse("4.9", "iommu=memaper=3,noaperture,fullflush", &bp, &l);
    assert_true(bp.gart_fallback_aper_force);
    assert_int_equal(bp.gart_fallback_aper_order, 3);
    assert_false(bp.gart_fix_aperture);
    assert_true(bp.gart_fullflush);
    /* unknown words: silently ignored in every version */
    parse("6.1", "iommu=bogus,off", &bp, &l);
    assert_true(bp.no_iommu);
    assert_int_equal(l.n, 0);
}

static void iommu_nopt_and_dac_by_version(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    /* 4.9 has no "nopt": pt stays */
    parse("4.9", "iommu=pt,nopt", &bp, &l);
    assert_true(bp.iommu_pass_through);
    parse("4.20", "iommu=pt,nopt", &bp, &l);
    assert_false(bp.iommu_pass_through);
    /* 5.x: the default domain, marked as set on the command line */
    parse("5.15", "iommu=pt", &bp, &l);
    assert_true(bp.iommu_def_passthrough);
    assert_true(bp.iommu_cmdline_dma_api);
    assert_false(bp.iommu_pass_through);
    parse("6.1", "iommu=pt,nopt", &bp, &l);
    assert_false(bp.iommu_def_passthrough);
    assert_true(bp.iommu_cmdline_dma_api);
    /* DAC options: 4.9 sets, 4.20+ warns */
    parse("4.9", "iommu=nodac", &bp, &l);
    assert_int_equal(bp.forbid_dac, 1);
    assert_int_equal(l.n, 0);
    parse("4.20", "iommu=forcesac,allowdac,nodac", &bp, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.text[0], "forcesac option ignored.");
    assert_string_equal(l.text[1], "allowdac option ignored.");
    assert_string_equal(l.text[2], "nodac option ignored.");
    assert_int_equal(l.level[0], 4);
    /* usedac returns 1 from iommu_setup: do_early_param calls that malformed,
     * and the words after it are not read */
    parse("5.15", "iommu=usedac,off", &bp, &l);
    assert_true(bp.disable_dac_quirk);
    assert_false(bp.no_iommu);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0], "Malformed early option 'iommu'");
    parse("4.9", "iommu=usedac", &bp, &l);
    assert_int_equal(bp.forbid_dac, -1);
    assert_string_equal(l.text[0], "Malformed early option 'iommu'");
    /* bare "iommu": iommu_setup(NULL) is -EINVAL */
    parse("4.9", "iommu", &bp, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0], "Malformed early option 'iommu'");
    assert_int_equal(l.level[0], 4);
}

static void iommu_core_params_by_version(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    /* 4.9 has neither: dotted names are module parameters, dropped silently */
    parse("4.9", "iommu.passthrough=1 iommu.strict=0", &bp, &l);
    assert_false(bp.iommu_def_passthrough);
    assert_int_equal(l.n, 0);
    assert_int_equal(bp.init_envc, 2);
    parse("4.20", "iommu.passthrough=on iommu.strict=off", &bp, &l);
    assert_true(bp.iommu_def_passthrough);
    assert_false(bp.iommu_dma_strict);
    assert_false(bp.iommu_cmdline_strict); /* no such flag before 5.x */
    parse("5.15", "iommu.strict=1", &bp, &l);
    assert_true(bp.iommu_dma_strict);
    assert_true(bp.iommu_cmdline_strict);
    /* kstrtobool: t/f only from 6.x */
    parse("5.15", "iommu.strict=true", &bp, &l);
    assert_false(bp.iommu_dma_strict);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0], "Malformed early option 'iommu.strict'");
    parse("6.1", "iommu.strict=true", &bp, &l);
    assert_true(bp.iommu_dma_strict);
    assert_int_equal(l.n, 0);
    /* without a value */
    parse("6.1", "iommu.passthrough", &bp, &l);
    assert_string_equal(l.text[0], "Malformed early option 'iommu.passthrough'");
    /* dash and underscore are the same in names; the line shows the user's */
    parse("5.15", "iommu.passthrough=Y", &bp, &l);
    assert_true(bp.iommu_def_passthrough);
    parse("4.20", "iommu.passthrough=maybe", &bp, &l);
    assert_string_equal(l.text[0], "Malformed early option 'iommu.passthrough'");
    /* iommu.forcedac (dma-iommu.c, 5.13+) */
    parse("5.15", "iommu.forcedac=1", &bp, &l);
    assert_true(bp.iommu_dma_forcedac);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0], "Forcing DAC for PCI devices");
    assert_int_equal(l.level[0], 6);
    parse("6.1", "iommu.forcedac=0", &bp, &l);
    assert_false(bp.iommu_dma_forcedac);
    assert_int_equal(l.n, 0);
    parse("6.1", "iommu.forcedac=perhaps", &bp, &l);
    assert_string_equal(l.text[0], "Malformed early option 'iommu.forcedac'");
    parse("4.20", "iommu.forcedac=1", &bp, &l);
    assert_false(bp.iommu_dma_forcedac);
    assert_int_equal(l.n, 0);
}

static void amd_iommu_by_version(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    parse("4.9", "amd_iommu=off", &bp, &l);
    assert_true(bp.amd_iommu_disabled);
    assert_int_equal(l.n, 0);
    /* 4.x/5.15 scan every character: "xoff" disables, "nofullflush" flushes */
    parse("4.20", "amd_iommu=nofullflush,xoff,whatever", &bp, &l);
    assert_true(bp.amd_iommu_unmap_flush);
    assert_true(bp.amd_iommu_disabled);
    assert_int_equal(l.n, 0);
    parse("4.9", "amd_iommu=force_isolation", &bp, &l);
    assert_true(bp.amd_iommu_force_isolation);
    parse("5.15", "amd_iommu=fullflush", &bp, &l);
    assert_false(bp.amd_iommu_unmap_flush);
    assert_true(bp.iommu_dma_strict);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0],
                        "AMD-Vi: amd_iommu=fullflush deprecated; use iommu.strict=1 instead");
    /* amd_iommu= is a __setup: it runs after the early iommu.strict */
    parse("6.1", "amd_iommu=fullflush iommu.strict=0", &bp, &l);
    assert_true(bp.iommu_dma_strict);
    /* 6.1: comma list, unknown words named with the rest of the string */
    parse("6.1", "amd_iommu=bogus,off,pgtbl_v2", &bp, &l);
    assert_true(bp.amd_iommu_disabled);
    assert_int_equal(bp.amd_iommu_pgtable, 2);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0], "AMD-Vi: Unknown option - 'bogus,off,pgtbl_v2'");
    assert_int_equal(l.level[0], 5);
    parse("6.1", "amd_iommu=xoff", &bp, &l);
    assert_false(bp.amd_iommu_disabled);
    assert_string_equal(l.text[0], "AMD-Vi: Unknown option - 'xoff'");
    parse("5.15", "amd_iommu=force_enable amd_iommu_dump amd_iommu_intr=legacy", &bp, &l);
    assert_true(bp.amd_iommu_force_enable);
    assert_true(bp.amd_iommu_dump);
    assert_int_equal(bp.amd_iommu_guest_ir, HOST_AMD_GUEST_IR_LEGACY_GA);
    parse("4.9", "amd_iommu=force_enable amd_iommu_intr=vapic", &bp, &l);
    assert_false(bp.amd_iommu_force_enable);
    assert_int_equal(bp.amd_iommu_guest_ir, HOST_AMD_GUEST_IR_VAPIC);
    /* dashes: "amd-iommu=off" is the same parameter */
    parse("6.1", "amd-iommu=off", &bp, &l);
    assert_true(bp.amd_iommu_disabled);
    /* bare "amd_iommu" matches no handler ("amd_iommu=" needs the '='):
     * unknown, an argument for init */
    parse("6.1", "amd_iommu", &bp, &l);
    assert_int_equal(bp.init_argc, 1);
    assert_string_equal(bp.init_argv, "amd_iommu");
    assert_string_equal(l.text[0], "Unknown kernel command line parameters \"amd_iommu\", "
                                   "will be passed to user space.");
}

static void intel_iommu_by_version(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    parse("4.9", "intel_iommu=on,igfx_off", &bp, &l);
    assert_false(bp.dmar_disabled);
    assert_false(bp.dmar_map_gfx);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.text[0], "DMAR: IOMMU enabled");
    assert_string_equal(l.text[1], "DMAR: Disable GFX device mapping");
    assert_int_equal(l.level[0], 6);
    /* 4.x returns 0: the parameter also lands in init's environment */
    assert_int_equal(bp.init_envc, 3);
    assert_string_equal(bp.init_envp, "HOME=/ TERM=linux intel_iommu=on,igfx_off");
    parse("5.15", "intel_iommu=on,sm_on,strict,frob", &bp, &l);
    assert_int_equal(bp.init_envc, 2);
    assert_true(bp.intel_iommu_sm);
    assert_true(bp.iommu_dma_strict);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.text[1], "DMAR: Enable scalable mode if hardware supports");
    assert_string_equal(l.text[2],
                        "DMAR: intel_iommu=strict deprecated; use iommu.strict=1 instead");
    assert_string_equal(l.text[3], "DMAR: Unknown option - 'frob'");
    parse("4.9", "intel_iommu=strict,sm_on,pasid28", &bp, &l);
    assert_true(bp.intel_iommu_strict);
    assert_true(bp.intel_iommu_pasid28);
    assert_false(bp.intel_iommu_sm);
    assert_int_equal(l.n, 2); /* sm_on: silently skipped in 4.9 */
    assert_string_equal(l.text[1], "DMAR: Intel-IOMMU: enable pre-production PASID support");
}

static void swiotlb_by_version(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    parse("4.9", "swiotlb=65536,force", &bp, &l);
    assert_int_equal(bp.swiotlb_nslabs, 65536);
    assert_int_equal(bp.swiotlb_force, HOST_SWIOTLB_FORCE);
    /* rounded up to whole segments of 128 */
    parse("5.15", "swiotlb=1000", &bp, &l);
    assert_int_equal(bp.swiotlb_nslabs, 1024);
    parse("5.15", "swiotlb=0x100", &bp, &l);
    assert_int_equal(bp.swiotlb_nslabs, 256);
    /* noforce: 4.x io_tlb_nslabs = 1, 5.15 leaves the size */
    parse("4.20", "swiotlb=noforce", &bp, &l);
    assert_int_equal(bp.swiotlb_nslabs, 1);
    assert_int_equal(bp.swiotlb_force, HOST_SWIOTLB_NO_FORCE);
    parse("5.15", "swiotlb=noforce", &bp, &l);
    assert_int_equal(bp.swiotlb_nslabs, 32768);
    /* junk after the number: ignored silently */
    parse("5.15", "swiotlb=4096,forced", &bp, &l);
    assert_int_equal(bp.swiotlb_force, HOST_SWIOTLB_NORMAL);
    assert_int_equal(l.n, 0);
    /* 6.1: areas, rounded to a power of two, with their lines */
    parse("6.1", "swiotlb=40000,3,force", &bp, &l);
    assert_int_equal(bp.swiotlb_nareas, 4);
    assert_int_equal(bp.swiotlb_nslabs, 65536);
    assert_int_equal(bp.swiotlb_force, HOST_SWIOTLB_FORCE);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.text[0], "software IO TLB: area num 4.");
    assert_string_equal(l.text[1], "software IO TLB: SWIOTLB bounce buffer size roundup to 128MB");
    /* 5.15 reads no area count: "3,force" is not "force" */
    parse("5.15", "swiotlb=40000,3,force", &bp, &l);
    assert_int_equal(bp.swiotlb_force, HOST_SWIOTLB_NORMAL);
    assert_int_equal(bp.swiotlb_nareas, 0);
    /* bare "swiotlb": Linux dereferences NULL */
    parse("6.1", "swiotlb", &bp, &l);
    assert_true(bp.oops);
    assert_string_equal(bp.oops_param, "swiotlb");
}

static void mem_suffixes(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    static const struct { const char *arg; uint64_t v; } cases[] = {
        {"mem=4096", 4096},        {"mem=4K", 4096},          {"mem=512m", 512ull << 20},
        {"mem=3G", 3ull << 30},    {"mem=1T", 1ull << 40},    {"mem=2p", 2ull << 50},
        {"mem=1E", 1ull << 60},    {"mem=0x1000k", 0x400000}, {"mem=010M", 8ull << 20},
        {"mem=2Gx", 2ull << 30},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parse("5.15", cases[i].arg, &bp, &l);
        assert_int_equal(l.n, 0);
        assert_true(bp.mem_limit == cases[i].v);
        assert_true(bp.mem_userdef);
    }
    parse("4.9", "mem=junk", &bp, &l);
    assert_int_equal(bp.mem_limit, 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0], "Malformed early option 'mem'");
    parse("6.1", "mem=nopentium", &bp, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.text[0], "mem=nopentium ignored! (only supported on x86_32)");
    assert_string_equal(l.text[1], "Malformed early option 'mem'");
    const char *end;
    assert_true(host_memparse("16M,rest", &end) == 16ull << 20);
    assert_string_equal(end, ",rest");
    assert_true(host_memparse("-1", &end) == 0);
}

static void unknown_parameters(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    const char *cmd = "BOOT_IMAGE=/boot/vmlinuz-5.15.0-91-generic root=/dev/sda1 ro quiet "
                      "splash vt.handoff=7 iommu=soft";
    parse("5.15", cmd, &bp, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.text[0],
                        "Unknown kernel command line parameters \"splash "
                        "BOOT_IMAGE=/boot/vmlinuz-5.15.0-91-generic\", will be passed to "
                        "user space.");
    assert_int_equal(l.level[0], 5);
    assert_string_equal(bp.init_argv, "splash");
    assert_string_equal(bp.init_envp,
                        "HOME=/ TERM=linux BOOT_IMAGE=/boot/vmlinuz-5.15.0-91-generic");
    /* 4.x: the same goes to init, but nothing is printed */
    parse("4.20", cmd, &bp, &l);
    assert_int_equal(l.n, 0);
    assert_string_equal(bp.init_argv, "splash");
    /* an environment entry of the same name replaces the earlier one; TERM
     * replaces the kernel's own and is then not listed (index 1) */
    parse("6.1", "FOO=1 FOO=2 TERM=vt100", &bp, &l);
    assert_string_equal(bp.init_envp, "HOME=/ TERM=vt100 FOO=2");
    assert_string_equal(l.text[0], "Unknown kernel command line parameters \"FOO=2\", "
                                   "will be passed to user space.");
    /* prefix matching of early names needs the exact name */
    parse("6.1", "iommux=1", &bp, &l);
    assert_string_equal(bp.init_envp, "HOME=/ TERM=linux iommux=1");
}

static void quoting_and_dashes(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    /* a quoted value keeps its spaces, the quotes go */
    parse("6.1", "foo=\"a b\" amd_iommu=\"off\"", &bp, &l);
    assert_true(bp.amd_iommu_disabled);
    assert_string_equal(bp.init_envp, "HOME=/ TERM=linux foo=a b");
    /* a quoted whole parameter */
    parse("5.15", "\"bar baz\"  \t iommu=off", &bp, &l);
    assert_true(bp.no_iommu);
    assert_string_equal(bp.init_argv, "bar baz");
    /* quotes in the middle stay */
    parse("5.15", "x=a\"b c\"d", &bp, &l);
    assert_string_equal(bp.init_envp, "HOME=/ TERM=linux x=a\"b c\"d");
    /* "--" ends the kernel's parameters, early ones included */
    parse("5.15", "iommu=pt -- iommu=off single foo=1", &bp, &l);
    assert_true(bp.iommu_def_passthrough);
    assert_false(bp.no_iommu);
    assert_int_equal(l.n, 0);
    assert_string_equal(bp.init_argv, "iommu=off single foo=1");
    assert_int_equal(bp.init_argc, 3);
    /* "--=x" has a value: not the end marker */
    parse("5.15", "--=x iommu=off", &bp, &l);
    assert_true(bp.no_iommu);
    /* a lone quote and empty values survive */
    parse("6.1", "amd_iommu= \"", &bp, &l);
    parse("4.9", "\"", &bp, &l);
    parse("4.9", "iommu=", &bp, &l);
    assert_true(bp.iommu_merge);
    assert_int_equal(l.n, 0);
    /* unterminated quote: the rest is one parameter */
    parse("5.15", "a=\"x iommu=off", &bp, &l);
    assert_false(bp.no_iommu);
    assert_string_equal(bp.init_envp, "HOME=/ TERM=linux a=x iommu=off");
}

static void limits_and_truncation(void **state)
{
    (void)state;
    struct host_bootparams bp;
    struct lines l;
    char cmd[HOST_CMDLINE_SIZE * 2] = "";
    for (int i = 0; i < 40; i++) {
        char w[16];
        snprintf(w, sizeof w, "a%d ", i);
        strcat(cmd, w);
    }
    parse("5.15", cmd, &bp, &l);
    /* argv_init holds "init" + 32; the 33rd unknown argument is stored and
     * panic_later names it; later ones are dropped; nothing is printed */
    assert_string_equal(bp.panic_later, "Too many boot init vars at `a32'");
    assert_int_equal(bp.init_argc, 33);
    assert_int_equal(l.n, 0);
    /* longer than COMMAND_LINE_SIZE: cut */
    memset(cmd, 'x', sizeof cmd - 1);
    cmd[sizeof cmd - 1] = '\0';
    /* " iommu=off" placed so that the cut leaves " iommu" */
    memcpy(cmd + HOST_CMDLINE_SIZE - 7, " iommu=off", 10);
    memset(&l, 0, sizeof l);
    struct host_log_sink sink = {collect, &l};
    assert_int_equal(host_cmdline_parse(kv("4.9"), cmd, &bp, &sink, NULL), 0);
    assert_false(bp.no_iommu);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.text[0], "Malformed early option 'iommu'");
    assert_int_equal(strncmp(l.text[1], "Kernel command line: xxx", 24), 0);
    assert_int_equal(host_cmdline_parse(NULL, "", &bp, NULL, NULL), -PCILAB_EINVAL);
    /* no sink: fine */
    assert_int_equal(host_cmdline_parse(kv("6.1"), NULL, &bp, NULL, NULL), 0);
}

static void kstrtobool_table(void **state)
{
    (void)state;
    bool b = false;
    const struct host_kver *v4 = kv("4.9"), *v6 = kv("6.1");
    assert_int_equal(host_kstrtobool(v4, "on", &b), 0);
    assert_true(b);
    assert_int_equal(host_kstrtobool(v4, "OFF", &b), 0);
    assert_false(b);
    assert_int_equal(host_kstrtobool(v4, "Yes", &b), 0);
    assert_true(b);
    assert_int_equal(host_kstrtobool(v4, "o", &b), -PCILAB_EINVAL);
    assert_int_equal(host_kstrtobool(v4, "", &b), -PCILAB_EINVAL);
    assert_int_equal(host_kstrtobool(v4, "false", &b), -PCILAB_EINVAL);
    assert_int_equal(host_kstrtobool(v6, "false", &b), 0);
    assert_false(b);
    assert_int_equal(host_kstrtobool(v6, NULL, &b), -PCILAB_EINVAL);
    const char *end;
    assert_true(host_simple_strtoull("0x1fz", &end, 0) == 0x1f);
    assert_string_equal(end, "z");
    assert_true(host_simple_strtoull("0x", &end, 0) == 0); /* octal 0, "x" left */
    assert_string_equal(end, "x");
    assert_true(host_simple_strtoull("0778", &end, 0) == 077);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_line_gives_defaults),
        cmocka_unit_test(iommu_words),
        cmocka_unit_test(iommu_nopt_and_dac_by_version),
        cmocka_unit_test(iommu_core_params_by_version),
        cmocka_unit_test(amd_iommu_by_version),
        cmocka_unit_test(intel_iommu_by_version),
        cmocka_unit_test(swiotlb_by_version),
        cmocka_unit_test(mem_suffixes),
        cmocka_unit_test(unknown_parameters),
        cmocka_unit_test(quoting_and_dashes),
        cmocka_unit_test(limits_and_truncation),
        cmocka_unit_test(kstrtobool_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
