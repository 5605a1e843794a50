/* Kernel command line parsing. What was read, per version (trees in kver.c):
 *  init/main.c      do_early_param, obsolete_checksetup, unknown_bootoption,
 *                   repair_env_string, print_unknown_bootoptions (5.8+),
 *                   start_kernel's "Kernel command line: %s"
 *  kernel/params.c  parse_args, parameq/parameqn (dash == underscore);
 *                   next_arg (moved to lib/cmdline.c in 4.20; 6.1 adds an
 *                   i > 0 guard for a lone '"', same result)
 *  lib/cmdline.c    memparse, get_option; lib/vsprintf.c simple_strtoull;
 *                   lib/kstrtox.c kstrtobool (t/f added in 6.x)
 *  arch/x86/kernel/pci-dma.c iommu_setup, amd_gart_64.c gart_parse_options,
 *                   e820.c parse_memopt
 *  drivers/iommu/iommu.c iommu.passthrough / iommu.strict (4.20+)
 *  drivers/iommu/amd_iommu_init.c, amd/init.c: amd_iommu=, amd_iommu_dump,
 *                   amd_iommu_intr=
 *  drivers/iommu/intel-iommu.c, intel/iommu.c: intel_iommu=
 *  lib/swiotlb.c, kernel/dma/swiotlb.c: setup_io_tlb_npages
 *  lib/dma-debug.c (4.9), kernel/dma/debug.c: dma_debug=, dma_debug_entries=,
 *                   dma_debug_driver= (only with CONFIG_DMA_API_DEBUG) */
#include "host/cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/swiotlb.h"
#include "sim/log.h"

/* lib/ctype.c: the kernel's isspace is also true for 0xa0 (Latin-1 NBSP). */
static bool k_isspace(char c)
{
    unsigned char u = (unsigned char)c;
    return u == ' ' || (u >= '\t' && u <= '\r') || u == 0xa0;
}

static bool k_isdigit(char c)
{
    return c >= '0' && c <= '9';
}

static bool k_isxdigit(char c)
{
    return k_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char *skip_spaces(char *s)
{
    while (k_isspace(*s))
        s++;
    return s;
}

uint64_t host_simple_strtoull(const char *s, const char **end, unsigned base)
{
    /* _parse_integer_fixup_radix */
    if (base == 0) {
        if (s[0] == '0') {
            if ((s[1] | 0x20) == 'x' && k_isxdigit(s[2]))
                base = 16;
            else
                base = 8;
        } else {
            base = 10;
        }
    }
    if (base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x')
        s += 2;
    /* _parse_integer: digits of the base; overflow wraps */
    uint64_t v = 0;
    for (;; s++) {
        unsigned d;
        if (k_isdigit(*s))
            d = (unsigned)(*s - '0');
        else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
            d = (unsigned)((*s | 0x20) - 'a' + 10);
        else
            break;
        if (d >= base)
            break;
        v = v * base + d;
    }
    if (end)
        *end = s;
    return v;
}

uint64_t host_memparse(const char *s, const char **endp)
{
    const char *end;
    uint64_t v = host_simple_strtoull(s, &end, 0);
    unsigned shift = 0;
    switch (*end) {
    case 'E': case 'e': shift = 60; break;
    case 'P': case 'p': shift = 50; break;
    case 'T': case 't': shift = 40; break;
    case 'G': case 'g': shift = 30; break;
    case 'M': case 'm': shift = 20; break;
    case 'K': case 'k': shift = 10; break;
    default: break;
    }
    if (shift) {
        v <<= shift; /* the fall-through chain of <<= 10: bits shifted out are lost */
        end++;
    }
    if (endp)
        *endp = end;
    return v;
}

int host_kstrtobool(const struct host_kver *kv, const char *s, bool *res)
{
    if (!s)
        return -PCILAB_EINVAL;
    switch (s[0]) {
    case 'y': case 'Y': case '1':
        *res = true;
        return 0;
    case 'n': case 'N': case '0':
        *res = false;
        return 0;
    case 't': case 'T':
        if (!kv->kstrtobool_true_false)
            break;
        *res = true;
        return 0;
    case 'f': case 'F':
        if (!kv->kstrtobool_true_false)
            break;
        *res = false;
        return 0;
    case 'o': case 'O':
        if (s[1] == 'n' || s[1] == 'N') {
            *res = true;
            return 0;
        }
        if (s[1] == 'f' || s[1] == 'F') {
            *res = false;
            return 0;
        }
        break;
    default:
        break;
    }
    return -PCILAB_EINVAL;
}

/* lib/cmdline.c get_option: 0 none, 1 int, 2 int and ',', 3 int and '-' */
static int get_option(const char **str, int *pint)
{
    const char *cur = *str;
    if (!cur || !*cur)
        return 0;
    bool neg = *cur == '-';
    const char *end;
    uint64_t v = host_simple_strtoull(cur + neg, &end, 0);
    if (end == cur + neg) {
        return 0;
    }
    *pint = neg ? -(int)(uint32_t)v : (int)(uint32_t)v;
    *str = end;
    if (**str == ',') {
        (*str)++;
        return 2;
    }
    if (**str == '-')
        return 3;
    return 1;
}

/* kernel/params.c parameqn / parameq: '-' and '_' compare equal. */
static bool parameqn(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i] == '-' ? '_' : a[i];
        char y = b[i] == '-' ? '_' : b[i];
        if (x != y)
            return false;
    }
    return true;
}

static bool parameq(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && parameqn(a, b, n + 1);
}

/* kernel/params.c next_arg. args is modified in place as in Linux. */
static char *next_arg(char *args, char **param, char **val)
{
    unsigned i, equals = 0;
    bool in_quote = false, quoted = false;
    if (*args == '"') {
        args++;
        in_quote = quoted = true;
    }
    for (i = 0; args[i]; i++) {
        if (k_isspace(args[i]) && !in_quote)
            break;
        if (equals == 0 && args[i] == '=')
            equals = i;
        if (args[i] == '"')
            in_quote = !in_quote;
    }
    *param = args;
    if (!equals) {
        *val = NULL;
    } else {
        args[equals] = '\0';
        *val = args + equals + 1;
        /* Don't include quotes in value. */
        if (**val == '"') {
            (*val)++;
            if (args[i - 1] == '"')
                args[i - 1] = '\0';
        }
    }
    /* i == 0 only for a lone '"': 6.1 guards args[-1]; before, args[-1] was
     * that quote itself, cleared: the same empty parameter either way. */
    if (quoted && i > 0 && args[i - 1] == '"')
        args[i - 1] = '\0';
    char *next;
    if (args[i]) {
        args[i] = '\0';
        next = args + i + 1;
    } else {
        next = args + i;
    }
    return skip_spaces(next);
}

/* ------------------------------------------------------------------------ */

struct ctx {
    const struct host_kver *kv;
    struct host_bootparams *bp;
    const struct host_log_sink *sink;
    unsigned built;              /* HOST_BUILT_* */
};

#define LOG(c, lvl, ...) host_logf((c)->sink, (lvl), __VA_ARGS__)

static void set_oops(struct ctx *c, const char *param)
{
    c->bp->oops = true;
    snprintf(c->bp->oops_param, sizeof c->bp->oops_param, "%s", param);
}

/* arch/x86/kernel/amd_gart_64.c gart_parse_options (CONFIG_IOMMU_LEAK off).
 * Gets its own copy of the pointer: the caller's position does not move. */
static void gart_parse_options(struct ctx *c, const char *p)
{
    struct host_bootparams *bp = c->bp;
    int arg;
    if (k_isdigit(*p) && get_option(&p, &arg))
        bp->gart_iommu_size = arg;
    if (!strncmp(p, "fullflush", 9))
        bp->gart_fullflush = true;
    if (!strncmp(p, "nofullflush", 11))
        bp->gart_fullflush = false;
    if (!strncmp(p, "noagp", 5))
        bp->gart_no_agp = true;
    if (!strncmp(p, "noaperture", 10))
        bp->gart_fix_aperture = false;
    if (!strncmp(p, "force", 5))
        bp->gart_aperture_allowed = true;
    if (!strncmp(p, "allowed", 7))
        bp->gart_aperture_allowed = true;
    if (!strncmp(p, "memaper", 7)) {
        bp->gart_fallback_aper_force = true;
        p += 7;
        if (*p == '=') {
            ++p;
            if (get_option(&p, &arg))
                bp->gart_fallback_aper_order = arg;
        }
    }
}

/* arch/x86/kernel/pci-dma.c iommu_setup. Every test is a prefix strncmp and
 * they are not exclusive: "forcesac" also matches "force". Words it does not
 * know are skipped without a word. Returns like Linux (usedac returns 1, which
 * do_early_param reports as malformed). */
static int iommu_setup(struct ctx *c, const char *p)
{
    struct host_bootparams *bp = c->bp;
    const struct host_kver *kv = c->kv;
    bp->iommu_merge = true;
    if (!p)
        return -PCILAB_EINVAL;
    while (*p) {
        if (!strncmp(p, "off", 3))
            bp->no_iommu = true;
        if (!strncmp(p, "force", 5))
            bp->force_iommu = true;
        if (!strncmp(p, "noforce", 7)) {
            bp->iommu_merge = false;
            bp->force_iommu = false;
        }
        if (!strncmp(p, "biomerge", 8)) {
            bp->iommu_merge = true;
            bp->force_iommu = true;
        }
        if (!strncmp(p, "panic", 5))
            bp->panic_on_overflow = true;
        if (!strncmp(p, "nopanic", 7))
            bp->panic_on_overflow = false;
        if (!strncmp(p, "merge", 5)) {
            bp->iommu_merge = true;
            bp->force_iommu = true;
        }
        if (!strncmp(p, "nomerge", 7))
            bp->iommu_merge = false;
        if (kv->iommu_dac_options_ignored) {
            if (!strncmp(p, "forcesac", 8))
                LOG(c, SIM_LOG_WARNING, "forcesac option ignored.");
            if (!strncmp(p, "allowdac", 8))
                LOG(c, SIM_LOG_WARNING, "allowdac option ignored.");
            if (!strncmp(p, "nodac", 5))
                LOG(c, SIM_LOG_WARNING, "nodac option ignored.");
            if (!strncmp(p, "usedac", 6)) {
                bp->disable_dac_quirk = true;
                return 1;
            }
        } else {
            if (!strncmp(p, "forcesac", 8))
                bp->iommu_sac_force = true;
            if (!strncmp(p, "allowdac", 8))
                bp->forbid_dac = 0;
            if (!strncmp(p, "nodac", 5))
                bp->forbid_dac = 1;
            if (!strncmp(p, "usedac", 6)) {
                bp->forbid_dac = -1;
                return 1;
            }
        }
        if (!strncmp(p, "soft", 4))
            bp->x86_swiotlb = true;
        if (!strncmp(p, "pt", 2)) {
            if (kv->iommu_pt_sets_default_domain) {
                bp->iommu_def_passthrough = true; /* iommu_set_default_passthrough(true) */
                bp->iommu_cmdline_dma_api = true;
            } else {
                bp->iommu_pass_through = true;
            }
        }
        if (kv->iommu_has_nopt && !strncmp(p, "nopt", 4)) {
            if (kv->iommu_pt_sets_default_domain) {
                bp->iommu_def_passthrough = false; /* iommu_set_default_translated(true) */
                bp->iommu_cmdline_dma_api = true;
            } else {
                bp->iommu_pass_through = false;
            }
        }
        gart_parse_options(c, p);
        p += strcspn(p, ",");
        if (*p == ',')
            ++p;
    }
    return 0;
}

/* drivers/iommu/iommu.c iommu_set_def_domain_type (4.20+) */
static int iommu_passthrough_setup(struct ctx *c, const char *val)
{
    bool pt;
    int r = host_kstrtobool(c->kv, val, &pt);
    if (r)
        return r;
    c->bp->iommu_def_passthrough = pt;
    if (c->kv->iommu_pt_sets_default_domain)
        c->bp->iommu_cmdline_dma_api = true;
    return 0;
}

/* drivers/iommu/iommu.c iommu_dma_setup (4.20+). kstrtobool leaves the value
 * alone when it fails. */
static int iommu_strict_setup(struct ctx *c, const char *val)
{
    bool v;
    int r = host_kstrtobool(c->kv, val, &v);
    if (r)
        return r;
    c->bp->iommu_dma_strict = v;
    if (c->kv->iommu_core_prints_default_domain)
        c->bp->iommu_cmdline_strict = true; /* IOMMU_CMD_LINE_STRICT, 5.x */
    return 0;
}

/* drivers/iommu/dma-iommu.c iommu_dma_forcedac_setup (5.13+): kstrtobool,
 * pr_info without a prefix when it turns DAC on; a bad value is the
 * early_param's error ("Malformed early option"). */
static int iommu_forcedac_setup(struct ctx *c, const char *val)
{
    bool v;
    int r = host_kstrtobool(c->kv, val, &v);
    if (r)
        return r;
    c->bp->iommu_dma_forcedac = v;
    if (v)
        LOG(c, SIM_LOG_INFO, "Forcing DAC for PCI devices");
    return 0;
}

/* setup_io_tlb_npages: lib/swiotlb.c 4.9, kernel/dma/swiotlb.c 4.20/5.15/6.1.
 * Always returns 0: a value it does not understand is ignored silently. */
static int swiotlb_setup(struct ctx *c, const char *str)
{
    struct host_bootparams *bp = c->bp;
    const struct host_kver *kv = c->kv;
    if (!str) {
        set_oops(c, "swiotlb"); /* isdigit(*str) on NULL */
        return 0;
    }
    if (k_isdigit(*str)) {
        uint64_t n = host_simple_strtoull(str, &str, 0);
        /* avoid tail segment of size < IO_TLB_SEGSIZE: ALIGN(n, 128) */
        n = (n + HOST_IO_TLB_SEGSIZE - 1) & ~(uint64_t)(HOST_IO_TLB_SEGSIZE - 1);
        bp->swiotlb_nslabs = (unsigned long)n;
    }
    if (*str == ',')
        ++str;
    if (kv->swiotlb_has_nareas) {
        if (k_isdigit(*str)) {
            uint64_t a = host_simple_strtoull(str, &str, 0);
            host_swiotlb_adjust_nareas(&bp->swiotlb_nslabs, &bp->swiotlb_nareas,
                                       (unsigned)a, c->sink);
        }
        if (*str == ',')
            ++str;
    }
    if (!strcmp(str, "force")) {
        bp->swiotlb_force = HOST_SWIOTLB_FORCE;
    } else if (!strcmp(str, "noforce")) {
        bp->swiotlb_force = HOST_SWIOTLB_NO_FORCE;
        if (kv->swiotlb_noforce_one_slab)
            bp->swiotlb_nslabs = 1;
    }
    return 0;
}

/* arch/x86/kernel/e820.c parse_memopt (x86_64) */
static int mem_setup(struct ctx *c, const char *p)
{
    if (!p)
        return -PCILAB_EINVAL;
    if (!strcmp(p, "nopentium")) {
        LOG(c, SIM_LOG_WARNING, "mem=nopentium ignored! (only supported on x86_32)");
        return -PCILAB_EINVAL;
    }
    c->bp->mem_userdef = true;
    uint64_t size = host_memparse(p, NULL);
    /* Don't remove all memory when getting "mem={invalid}" parameter */
    if (size == 0)
        return -PCILAB_EINVAL;
    c->bp->mem_limit = size;
    return 0;
}

/* amd_iommu= : parse_amd_iommu_options. Returns 1 (handled). */
static int amd_iommu_setup(struct ctx *c, const char *str)
{
    struct host_bootparams *bp = c->bp;
    const struct host_kver *kv = c->kv;
    if (kv->amd_iommu_parse == HOST_AMD_PARSE_EVERY_CHAR) {
        /* 4.9, 4.20, 5.15: a strncmp at every character position */
        for (; *str; ++str) {
            if (strncmp(str, "fullflush", 9) == 0) {
                if (kv->amd_iommu_fullflush_deprecated) {
                    LOG(c, SIM_LOG_WARNING,
                        "AMD-Vi: amd_iommu=fullflush deprecated; use iommu.strict=1 instead");
                    bp->iommu_dma_strict = true; /* iommu_set_dma_strict() */
                } else {
                    bp->amd_iommu_unmap_flush = true;
                }
            }
            if (kv->amd_iommu_has_force_enable && strncmp(str, "force_enable", 12) == 0)
                bp->amd_iommu_force_enable = true;
            if (strncmp(str, "off", 3) == 0)
                bp->amd_iommu_disabled = true;
            if (strncmp(str, "force_isolation", 15) == 0)
                bp->amd_iommu_force_isolation = true;
        }
        return 1;
    }
    /* 6.1: a comma list, first match wins, the rest is named */
    while (*str) {
        if (strncmp(str, "fullflush", 9) == 0) {
            LOG(c, SIM_LOG_WARNING,
                "AMD-Vi: amd_iommu=fullflush deprecated; use iommu.strict=1 instead");
            bp->iommu_dma_strict = true;
        } else if (strncmp(str, "force_enable", 12) == 0) {
            bp->amd_iommu_force_enable = true;
        } else if (strncmp(str, "off", 3) == 0) {
            bp->amd_iommu_disabled = true;
        } else if (strncmp(str, "force_isolation", 15) == 0) {
            bp->amd_iommu_force_isolation = true;
        } else if (kv->amd_iommu_has_pgtbl && strncmp(str, "pgtbl_v1", 8) == 0) {
            bp->amd_iommu_pgtable = 1;
        } else if (kv->amd_iommu_has_pgtbl && strncmp(str, "pgtbl_v2", 8) == 0) {
            bp->amd_iommu_pgtable = 2;
        } else {
            LOG(c, SIM_LOG_NOTICE, "AMD-Vi: Unknown option - '%s'", str);
        }
        str += strcspn(str, ",");
        while (*str == ',')
            str++;
    }
    return 1;
}

static int amd_iommu_dump_setup(struct ctx *c, const char *str)
{
    (void)str; /* any suffix: __setup("amd_iommu_dump") is a prefix match */
    c->bp->amd_iommu_dump = true;
    return 1;
}

static int amd_iommu_intr_setup(struct ctx *c, const char *str)
{
    for (; *str; ++str) {
        if (strncmp(str, "legacy", 6) == 0) {
            c->bp->amd_iommu_guest_ir = c->kv->major >= 5 ? HOST_AMD_GUEST_IR_LEGACY_GA
                                                           : HOST_AMD_GUEST_IR_LEGACY;
            break;
        }
        if (strncmp(str, "vapic", 5) == 0) {
            c->bp->amd_iommu_guest_ir = HOST_AMD_GUEST_IR_VAPIC;
            break;
        }
    }
    return 1;
}

/* intel_iommu= : intel_iommu_setup, pr_fmt "DMAR: ". 4.x returns 0, so the
 * parameter is not taken and also goes to init's environment. */
static int intel_iommu_setup(struct ctx *c, const char *str)
{
    struct host_bootparams *bp = c->bp;
    const struct host_kver *kv = c->kv;
    while (*str) {
        if (!strncmp(str, "on", 2)) {
            bp->dmar_disabled = false;
            bp->dmar_map_intgpu = true; /* Debian 6.1 */
            LOG(c, SIM_LOG_INFO, "DMAR: IOMMU enabled");
        } else if (!strncmp(str, "off", 3)) {
            bp->dmar_disabled = true;
            if (kv->intel_iommu_has_sm)
                bp->intel_no_platform_optin = true;
            LOG(c, SIM_LOG_INFO, "DMAR: IOMMU disabled");
        } else if (!strncmp(str, "igfx_off", 8)) {
            bp->dmar_map_gfx = false;
            LOG(c, SIM_LOG_INFO, "DMAR: Disable GFX device mapping");
        } else if (kv->intel_iommu_intgpu_off && !strncmp(str, "intgpu_off", 10)) {
            /* Debian's patch, linux-source-6.1 drivers/iommu/intel/iommu.c */
            bp->dmar_map_intgpu = false;
            LOG(c, SIM_LOG_INFO, "DMAR: Disable integrated GPU device mapping");
        } else if (!strncmp(str, "forcedac", 8)) {
            if (kv->intel_iommu_deprecations)
                LOG(c, SIM_LOG_WARNING,
                    "DMAR: intel_iommu=forcedac deprecated; use iommu.forcedac instead");
            else
                LOG(c, SIM_LOG_INFO, "DMAR: Forcing DAC for PCI devices");
            bp->dmar_forcedac = true;
        } else if (!strncmp(str, "strict", 6)) {
            if (kv->intel_iommu_deprecations) {
                LOG(c, SIM_LOG_WARNING,
                    "DMAR: intel_iommu=strict deprecated; use iommu.strict=1 instead");
                bp->iommu_dma_strict = true;
            } else {
                LOG(c, SIM_LOG_INFO, "DMAR: Disable batched IOTLB flush");
                bp->intel_iommu_strict = true;
            }
        } else if (!strncmp(str, "sp_off", 6)) {
            LOG(c, SIM_LOG_INFO, "DMAR: Disable supported super page");
            bp->intel_iommu_superpage = false;
        } else if (kv->intel_iommu_has_sm && !strncmp(str, "sm_on", 5)) {
            LOG(c, SIM_LOG_INFO, "DMAR: Enable scalable mode if hardware supports");
            bp->intel_iommu_sm = true;
        } else if (kv->intel_iommu_has_sm && !strncmp(str, "sm_off", 6)) {
            LOG(c, SIM_LOG_INFO, "DMAR: Scalable mode is disallowed");
            bp->intel_iommu_sm = false;
        } else if (kv->intel_iommu_has_ecs_pasid28 && !strncmp(str, "ecs_off", 7)) {
            LOG(c, SIM_LOG_INFO, "DMAR: Intel-IOMMU: disable extended context table support");
            bp->intel_iommu_ecs = false;
        } else if (kv->intel_iommu_has_ecs_pasid28 && !strncmp(str, "pasid28", 7)) {
            LOG(c, SIM_LOG_INFO, "DMAR: Intel-IOMMU: enable pre-production PASID support");
            bp->intel_iommu_pasid28 = true;
        } else if (kv->intel_iommu_has_tboot_noforce && !strncmp(str, "tboot_noforce", 13)) {
            LOG(c, SIM_LOG_INFO, "DMAR: Intel-IOMMU: not forcing on after tboot. "
                                 "This could expose security risk for tboot");
            bp->intel_iommu_tboot_noforce = true;
        } else if (kv->intel_iommu_unknown_notice) {
            LOG(c, SIM_LOG_NOTICE, "DMAR: Unknown option - '%s'", str);
        }
        str += strcspn(str, ",");
        while (*str == ',')
            str++;
    }
    return kv->intel_iommu_setup_handled ? 1 : 0;
}

/* dma_debug= : dma_debug_cmdline (lib/dma-debug.c 4.9, kernel/dma/debug.c
 * 4.20+): "off" as a prefix (strncmp 3) disables; pr_info, with "DMA-API: "
 * in the format (4.x) or from pr_fmt (5.x), the same text. Returns 0 in 4.x
 * (the parameter then also goes to init), 1 in 5.x. */
static int dma_debug_setup(struct ctx *c, const char *str)
{
    if (strncmp(str, "off", 3) == 0) {
        LOG(c, SIM_LOG_INFO, "DMA-API: debugging disabled on kernel command line");
        c->bp->dma_debug_off = true;
    }
    return c->kv->dma_debug_setup_handled ? 1 : 0;
}

/* dma_debug_entries= : dma_debug_entries_cmdline. get_option into a u32;
 * nothing readable: req_entries = 0 (4.9) / PREALLOC_DMA_DEBUG_ENTRIES (4.20+),
 * both "the default" here. */
static int dma_debug_entries_setup(struct ctx *c, const char *str)
{
    int v = 0;
    if (get_option(&str, &v)) {
        c->bp->dma_debug_entries_given = true;
        c->bp->dma_debug_entries = (uint32_t)v;
    } else {
        c->bp->dma_debug_entries_given = false;
        c->bp->dma_debug_entries = 0;
    }
    return c->kv->dma_debug_setup_handled ? 1 : 0;
}

/* dma_debug_driver= : dma_debug_driver_setup copies NAME_MAX_LEN - 1 = 63
 * characters and returns 1 in every version. */
static int dma_debug_driver_setup(struct ctx *c, const char *str)
{
    snprintf(c->bp->dma_debug_driver, sizeof c->bp->dma_debug_driver, "%s", str);
    if (c->bp->dma_debug_driver[0])
        LOG(c, SIM_LOG_INFO, "DMA-API: enable driver filter for driver [%s]",
            c->bp->dma_debug_driver);
    return 1;
}

/* The handlers: early_param entries (name matched exactly, value passed) and
 * __setup entries (name is a prefix, the rest of the parameter passed). */
typedef int (*handler_fn)(struct ctx *c, const char *val);

enum { EARLY, SETUP };

struct handler {
    const char *str;
    int kind;
    handler_fn fn;
    bool (*present)(const struct host_kver *kv); /* NULL: in every version */
    unsigned built;              /* HOST_BUILT_* the handler needs; 0: always there */
};

static bool handler_present(const struct ctx *c, const struct handler *h)
{
    if (h->present && !h->present(c->kv))
        return false;
    return (h->built & c->built) == h->built;
}

static bool has_iommu_pt_param(const struct host_kver *kv)
{
    return kv->iommu_has_passthrough_param;
}

static bool has_iommu_strict_param(const struct host_kver *kv)
{
    return kv->iommu_has_strict_param;
}

static bool has_iommu_forcedac_param(const struct host_kver *kv)
{
    return kv->iommu_has_forcedac_param;
}

static const struct handler handlers[] = {
    {"iommu", EARLY, iommu_setup, NULL, 0},
    {"iommu.passthrough", EARLY, iommu_passthrough_setup, has_iommu_pt_param, 0},
    {"iommu.strict", EARLY, iommu_strict_setup, has_iommu_strict_param, 0},
    {"iommu.forcedac", EARLY, iommu_forcedac_setup, has_iommu_forcedac_param, 0},
    {"swiotlb", EARLY, swiotlb_setup, NULL, 0},
    {"mem", EARLY, mem_setup, NULL, 0},
    {"amd_iommu_dump", SETUP, amd_iommu_dump_setup, NULL, 0},
    {"amd_iommu=", SETUP, amd_iommu_setup, NULL, 0},
    {"amd_iommu_intr=", SETUP, amd_iommu_intr_setup, NULL, 0},
    {"intel_iommu=", SETUP, intel_iommu_setup, NULL, 0},
    {"dma_debug=", SETUP, dma_debug_setup, NULL, HOST_BUILT_DMA_API_DEBUG},
    {"dma_debug_entries=", SETUP, dma_debug_entries_setup, NULL, HOST_BUILT_DMA_API_DEBUG},
    {"dma_debug_driver=", SETUP, dma_debug_driver_setup, NULL, HOST_BUILT_DMA_API_DEBUG},
};

/* Parameters of the kernel that pcilab does not model but that the kernel
 * takes (early_param or __setup handlers that accept them), so that they are
 * not reported as unknown. A name ending in '=' takes "name=..."; any other
 * name takes "name" and "name=...". This list is pcilab's choice, not a
 * kernel table: a parameter missing here is reported as unknown. */
static const char *const known_params[] = {
    "root=", "ro", "rw", "init=", "rdinit=", "rootfstype=", "rootflags=", "rootwait",
    "rootdelay=", "resume=", "resume_offset=", "noresume", "console", "earlycon",
    "earlyprintk", "quiet", "debug", "loglevel", "ignore_loglevel", "log_buf_len",
    "initcall_debug", "panic=", "crashkernel", "nomodeset", "vga=", "video=", "fbcon=",
    "elevator=", "apparmor=", "security=", "selinux=", "audit=", "nosmp", "maxcpus=",
    "nr_cpus", "isolcpus=", "hugepages=", "hugepagesz=", "default_hugepagesz=",
    "transparent_hugepage=", "nowatchdog", "nmi_watchdog=", "irqpoll", "threadirqs",
    "noapic", "nolapic", "pci=", "acpi", "nokaslr", "mitigations", "pti", "nopti",
    "spectre_v2", "efi", "noefi", "memmap", "idle=", "intremap=", "nox2apic",
    "pcie_aspm", "pcie_ports=", "iomem=", "reboot=", "tsc=", "clocksource=", "nohz",
    "nohz_full=", "rcu_nocbs", "cgroup_disable=", "cgroup_enable=", "ivrs_ioapic",
    "ivrs_hpet", "ivrs_acpihid", "noiotrap", "single", "emergency", "S",
};

static bool known_param(const char *line)
{
    for (size_t i = 0; i < sizeof known_params / sizeof known_params[0]; i++) {
        const char *k = known_params[i];
        size_t n = strlen(k);
        if (!parameqn(line, k, n))
            continue;
        if (k[n - 1] == '=' || line[n] == '\0' || line[n] == '=')
            return true;
    }
    return false;
}

/* init/main.c do_early_param */
static void do_early_param(struct ctx *c, const char *param, const char *val)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        const struct handler *h = &handlers[i];
        if (h->kind != EARLY || !handler_present(c, h))
            continue;
        if (parameq(param, h->str) && h->fn(c, val) != 0)
            LOG(c, SIM_LOG_WARNING, "Malformed early option '%s'", param);
    }
}

/* init/main.c obsolete_checksetup: true when a handler took the parameter or
 * it was an early parameter (already handled). */
static bool obsolete_checksetup(struct ctx *c, const char *line)
{
    bool had_early = false;
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        const struct handler *h = &handlers[i];
        if (!handler_present(c, h))
            continue;
        size_t n = strlen(h->str);
        if (!parameqn(line, h->str, n))
            continue;
        if (h->kind == EARLY) {
            if (line[n] == '\0' || line[n] == '=')
                had_early = true;
        } else if (h->fn(c, line + n)) {
            return true;
        }
    }
    return had_early || known_param(line);
}

/* argv_init / envp_init, with the kernel's limits. */
struct initvec {
    const char *v[HOST_CMDLINE_SIZE / 2 + 4];
    unsigned n;
};

static void add_to_init(struct ctx *c, struct initvec *argv, struct initvec *envp,
                        const char *param, size_t namelen, bool has_val)
{
    unsigned max = c->kv->cmdline_max_init_args;
    struct host_bootparams *bp = c->bp;
    if (bp->panic_later[0])
        return;
    if (has_val) {
        unsigned i;
        for (i = 0; i < envp->n; i++) {
            if (i == max) {
                snprintf(bp->panic_later, sizeof bp->panic_later,
                         "Too many boot env vars at `%s'", param);
            }
            if (!strncmp(param, envp->v[i], namelen + 1))
                break;
        }
        envp->v[i] = param;
        if (i == envp->n)
            envp->n++;
    } else {
        unsigned i;
        for (i = 0; i < argv->n; i++) {
            if (i == max) {
                snprintf(bp->panic_later, sizeof bp->panic_later,
                         "Too many boot init vars at `%s'", param);
            }
        }
        argv->v[i] = param;
        argv->n++;
    }
}

static void join(char *dst, size_t len, const struct initvec *v, unsigned from)
{
    dst[0] = '\0';
    size_t used = 0;
    for (unsigned i = from; i < v->n; i++) {
        int w = snprintf(dst + used, len - used, "%s%s", i > from ? " " : "", v->v[i]);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}

void host_bootparams_defaults(struct host_bootparams *bp, const struct host_kver *kv)
{
    memset(bp, 0, sizeof *bp);
    bp->forbid_dac = 0;
    bp->gart_iommu_size = -1;
    bp->gart_fix_aperture = true;
    bp->gart_fallback_aper_order = -1;
    bp->iommu_def_passthrough = kv->iommu_default_passthrough;
    bp->iommu_dma_strict = kv->iommu_dma_strict_default;
    bp->dmar_disabled = !kv->intel_iommu_default_on;
    bp->dmar_map_gfx = true;
    bp->dmar_map_intgpu = !kv->intel_iommu_intgpu_off;
    bp->intel_iommu_superpage = true;
    bp->intel_iommu_ecs = kv->intel_iommu_has_ecs_pasid28;
    bp->intel_iommu_sm = kv->intel_iommu_sm_default_on;
    /* 4.x io_tlb_nslabs starts 0 (default chosen at init); 5.15+ default_nslabs
     * starts at IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT */
    bp->swiotlb_nslabs = kv->swiotlb_noforce_one_slab
                             ? 0
                             : (unsigned long)(HOST_IO_TLB_DEFAULT_SIZE >> HOST_IO_TLB_SHIFT);
    bp->init_envc = 2;
    snprintf(bp->init_envp, sizeof bp->init_envp, "HOME=/ TERM=linux");
}

int host_cmdline_parse(const struct host_kver *kv, const char *cmdline,
                       struct host_bootparams *bp, const struct host_log_sink *sink,
                       struct pcilab_err *err)
{
    return host_cmdline_parse_built(kv, 0, cmdline, bp, sink, err);
}

int host_cmdline_parse_built(const struct host_kver *kv, unsigned built, const char *cmdline,
                             struct host_bootparams *bp, const struct host_log_sink *sink,
                             struct pcilab_err *err)
{
    if (!kv || !bp)
        return pcilab_errf(err, PCILAB_EINVAL, "host_cmdline_parse: no kernel or no result");
    host_bootparams_defaults(bp, kv);
    struct ctx c = {kv, bp, sink, built};

    char line[HOST_CMDLINE_SIZE];
    snprintf(line, sizeof line, "%s", cmdline ? cmdline : "");

    /* 1. parse_early_param (setup_arch): parse_args("early options") */
    char early[HOST_CMDLINE_SIZE];
    memcpy(early, line, sizeof early);
    char *args = skip_spaces(early);
    while (*args) {
        char *param, *val;
        args = next_arg(args, &param, &val);
        if (!val && !strcmp(param, "--"))
            break;
        do_early_param(&c, param, val);
    }

    /* 2. start_kernel */
    LOG(&c, SIM_LOG_NOTICE, "Kernel command line: %s", line);

    /* 3. parse_args("Booting kernel", ..., unknown_bootoption) */
    static const char *const init0 = "init";
    struct initvec *argv = calloc(1, sizeof *argv), *envp = calloc(1, sizeof *envp);
    if (!argv || !envp) {
        free(argv);
        free(envp);
        return pcilab_errf(err, PCILAB_ENOMEM, "no memory for the init arguments");
    }
    argv->v[argv->n++] = init0;
    envp->v[envp->n++] = "HOME=/";
    envp->v[envp->n++] = "TERM=linux";

    char boot[HOST_CMDLINE_SIZE];
    memcpy(boot, line, sizeof boot);
    char *after_dashes = NULL;
    args = skip_spaces(boot);
    while (*args) {
        char *param, *val;
        args = next_arg(args, &param, &val);
        if (!val && !strcmp(param, "--")) {
            after_dashes = args;
            break;
        }
        size_t namelen = strlen(param);
        /* repair_env_string: "name=value" again (quotes around the value
         * already gone) */
        if (val) {
            if (val == param + namelen + 1) {
                val[-1] = '=';
            } else if (val == param + namelen + 2) {
                val[-2] = '=';
                memmove(val - 1, val, strlen(val) + 1);
            }
        }
        if (obsolete_checksetup(&c, param))
            continue;
        if (memchr(param, '.', namelen)) /* unused module parameter */
            continue;
        add_to_init(&c, argv, envp, param, namelen, val != NULL);
    }

    /* 4. print_unknown_bootoptions (5.8+) */
    if (kv->cmdline_reports_unknown && !bp->panic_later[0] &&
        (argv->n > 1 || envp->n > 2)) {
        char a[HOST_CMDLINE_SIZE], e[HOST_CMDLINE_SIZE];
        join(a, sizeof a, argv, 1);
        join(e, sizeof e, envp, 2);
        LOG(&c, SIM_LOG_NOTICE,
            "Unknown kernel command line parameters \"%s%s%s\", will be passed to user space.",
            a, a[0] && e[0] ? " " : "", e);
    }

    /* 5. parse_args("Setting init args", after_dashes, set_init_arg) */
    if (after_dashes) {
        args = skip_spaces(after_dashes);
        while (*args) {
            char *param, *val;
            args = next_arg(args, &param, &val);
            if (val && val == param + strlen(param) + 1)
                val[-1] = '=';
            if (bp->panic_later[0])
                continue;
            if (argv->n > kv->cmdline_max_init_args) {
                snprintf(bp->panic_later, sizeof bp->panic_later,
                         "Too many boot init vars at `%s'", param);
                continue;
            }
            argv->v[argv->n++] = param;
        }
    }

    bp->init_argc = argv->n - 1;
    bp->init_envc = envp->n;
    join(bp->init_argv, sizeof bp->init_argv, argv, 1);
    join(bp->init_envp, sizeof bp->init_envp, envp, 0);
    free(argv);
    free(envp);
    return 0;
}
