/* The kernel command line, parsed as the modelled Linux parses it.
 *
 * Linux reads the command line twice (init/main.c):
 *  1. parse_early_param() from setup_arch(): every early_param handler whose
 *     name equals the parameter (parameq: '-' and '_' are the same) is called;
 *     a non-zero return prints "Malformed early option '%s'".
 *  2. after "Kernel command line: %s", parse_args("Booting kernel"):
 *     unknown_bootoption() gives each parameter to the __setup handlers whose
 *     name is a prefix of it (obsolete_checksetup); a parameter no handler took
 *     and without a '.' in its name goes to init, as an environment variable
 *     when it has a value, as an argument when not. 5.8 and later then print
 *     "Unknown kernel command line parameters \"%s\", will be passed to user
 *     space." A '.' in the name marks a module parameter: ignored silently.
 * Tokens are split by next_arg() (kernel/params.c; lib/cmdline.c from 4.20):
 * whitespace outside double quotes separates, a quote toggles quoting, the
 * quotes around a value or a whole parameter are dropped, and a bare "--" ends
 * the kernel's parameters (what follows goes to init as arguments).
 *
 * Modelled parameters: iommu= (x86 and GART), iommu.passthrough=,
 * iommu.strict=, amd_iommu=, amd_iommu_dump, amd_iommu_intr=, intel_iommu=,
 * swiotlb=, mem=. Other parameters of the kernel that are well known (root=,
 * quiet, console= ...: the list is in cmdline.c) are taken silently, as their
 * handlers would; the rest are unknown and go to init as in Linux.
 *
 * Parse errors never stop parsing: Linux carries on, and so does this. The
 * lines Linux prints go to the caller's sink, in Linux's order. */
#ifndef PCILAB_HOST_CMDLINE_H
#define PCILAB_HOST_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "host/kver.h"
#include "sim/err.h"

/* COMMAND_LINE_SIZE on x86 (arch/x86/include/asm/setup.h): longer command
 * lines are cut to HOST_CMDLINE_SIZE - 1 bytes, as the boot code's strlcpy. */
#define HOST_CMDLINE_SIZE 2048

enum host_swiotlb_force {
    HOST_SWIOTLB_NORMAL = 0, /* bounce only what the device cannot reach */
    HOST_SWIOTLB_FORCE,      /* swiotlb=force: bounce everything */
    HOST_SWIOTLB_NO_FORCE,   /* swiotlb=noforce: never bounce */
};

enum host_amd_guest_ir {
    HOST_AMD_GUEST_IR_DEFAULT = 0, /* not given on the command line */
    HOST_AMD_GUEST_IR_LEGACY,      /* amd_iommu_intr=legacy (4.x) */
    HOST_AMD_GUEST_IR_LEGACY_GA,   /* amd_iommu_intr=legacy (5.x) */
    HOST_AMD_GUEST_IR_VAPIC,       /* amd_iommu_intr=vapic */
};

/* Plain values, named after the Linux variables they stand for. Defaults are
 * those of the version (host_bootparams_defaults). */
struct host_bootparams {
    /* iommu= : arch/x86/kernel/pci-dma.c */
    bool no_iommu;          /* "off" */
    bool force_iommu;       /* "force", "biomerge", "merge"; "noforce" clears */
    bool iommu_merge;       /* set to 1 by every iommu= (even an empty one) */
    bool panic_on_overflow; /* "panic" / "nopanic" */
    bool x86_swiotlb;       /* "soft": swiotlb (x86_swiotlb_enable in 6.1) */
    bool iommu_sac_force;   /* "forcesac" (4.9) */
    int forbid_dac;         /* "allowdac" 0, "nodac" 1, "usedac" -1 (4.9) */
    bool disable_dac_quirk; /* "usedac" (4.20+) */
    bool iommu_pass_through; /* "pt" / "nopt" (4.x: the x86 variable) */
    bool use_calgary;       /* not modelled (CONFIG_CALGARY_IOMMU off) */
    /* iommu=<options> read by gart_parse_options (amd_gart_64.c) */
    long gart_iommu_size;   /* leading number; -1 when not given */
    bool gart_fullflush;    /* "fullflush" / "nofullflush" */
    bool gart_no_agp;       /* "noagp" */
    bool gart_fix_aperture; /* true; "noaperture" clears */
    bool gart_aperture_allowed; /* "force", "allowed" */
    bool gart_fallback_aper_force; /* "memaper" */
    int gart_fallback_aper_order;  /* "memaper=N"; -1 when not given */

    /* IOMMU core: drivers/iommu/iommu.c */
    bool iommu_def_passthrough;  /* iommu_def_domain_type == IDENTITY */
    bool iommu_dma_strict;       /* iommu_dma_strict */
    bool iommu_cmdline_dma_api;  /* IOMMU_CMD_LINE_DMA_API (5.x) */
    bool iommu_cmdline_strict;   /* IOMMU_CMD_LINE_STRICT (5.x) */
    bool iommu_dma_forcedac;     /* iommu.forcedac=1 (5.13+); intel_iommu=forcedac sets
                                    it too in 5.x (dmar_forcedac above) */

    /* amd_iommu=, amd_iommu_dump, amd_iommu_intr= */
    bool amd_iommu_disabled;        /* "off" */
    bool amd_iommu_unmap_flush;     /* "fullflush" (4.x) */
    bool amd_iommu_force_isolation; /* "force_isolation" */
    bool amd_iommu_force_enable;    /* "force_enable" (5.15+) */
    int amd_iommu_pgtable;          /* 0 default, 1 "pgtbl_v1", 2 "pgtbl_v2" (6.1) */
    bool amd_iommu_dump;
    enum host_amd_guest_ir amd_iommu_guest_ir;

    /* intel_iommu= */
    bool dmar_disabled;
    bool dmar_map_gfx;         /* true; "igfx_off" clears */
    bool dmar_map_intgpu;      /* Debian 6.1: false by default (integrated GPU identity-mapped);
                                  "on" sets it, "intgpu_off" clears */
    bool dmar_forcedac;        /* "forcedac" (iommu_dma_forcedac in 5.x) */
    bool intel_iommu_strict;   /* "strict" (4.x; 5.x sets iommu_dma_strict) */
    bool intel_iommu_superpage; /* true; "sp_off" clears */
    bool intel_iommu_ecs;      /* true; "ecs_off" clears (4.9) */
    bool intel_iommu_pasid28;  /* "pasid28" (4.9) */
    bool intel_iommu_sm;       /* "sm_on" / "sm_off" (5.x) */
    bool intel_iommu_tboot_noforce;
    bool intel_no_platform_optin; /* "off" (5.x) */

    /* swiotlb= */
    unsigned long swiotlb_nslabs; /* 4.x io_tlb_nslabs (0: the default at init);
                                     5.15+ default_nslabs (32768 unless given) */
    unsigned swiotlb_nareas;      /* 6.1 default_nareas; 0 when not given */
    enum host_swiotlb_force swiotlb_force;

    /* dma_debug=, dma_debug_entries=, dma_debug_driver= : lib/dma-debug.c 4.9,
     * kernel/dma/debug.c 4.20+; handlers only when CONFIG_DMA_API_DEBUG is
     * built in (HOST_BUILT_DMA_API_DEBUG) */
    bool dma_debug_off;           /* global_disable: "dma_debug=off..." */
    bool dma_debug_entries_given; /* dma_debug_entries= was given */
    uint32_t dma_debug_entries;   /* its value, as get_option leaves it (u32) */
    char dma_debug_driver[64];    /* current_driver_name (NAME_MAX_LEN 64) */

    /* mem= : arch/x86/kernel/e820.c parse_memopt */
    uint64_t mem_limit;  /* 0 when not given */
    bool mem_userdef;

    /* What init receives (init/main.c argv_init, envp_init). */
    unsigned init_argc;  /* arguments after "init" */
    unsigned init_envc;  /* environment entries, "HOME=/" "TERM=linux" included */
    char init_argv[HOST_CMDLINE_SIZE]; /* the arguments after "init", ' '-separated */
    char init_envp[HOST_CMDLINE_SIZE]; /* the environment, ' '-separated */
    char panic_later[HOST_CMDLINE_SIZE]; /* "Too many boot env vars at `x'", or "" */

    /* A parameter whose handler would dereference NULL in Linux ("swiotlb"
     * without '='): Linux oopses during boot; pcilab records it and goes on. */
    bool oops;
    char oops_param[64];
};

/* The values a version has with an empty command line. */
void host_bootparams_defaults(struct host_bootparams *bp, const struct host_kver *kv);

/* Parses cmdline (NULL means "") for kernel kv into bp (set to the defaults
 * first) and sends the lines Linux prints to sink (may be NULL). Returns 0, or
 * -PCILAB_EINVAL when kv or bp is NULL. Bad parameters are never an error here:
 * Linux warns (or not) and carries on, and so does this. */
int host_cmdline_parse(const struct host_kver *kv, const char *cmdline,
                       struct host_bootparams *bp, const struct host_log_sink *sink,
                       struct pcilab_err *err);

/* Options built into the kernel that bring their own parameters: without
 * them the parameter has no handler (4.x passes it to init, 5.8+ also names
 * it "Unknown"). */
#define HOST_BUILT_DMA_API_DEBUG 0x1u  /* CONFIG_DMA_API_DEBUG: dma_debug=,
                                          dma_debug_entries=, dma_debug_driver= */

/* host_cmdline_parse for a kernel built with the options in `built`
 * (HOST_BUILT_* bits); host_cmdline_parse is this with built = 0. */
int host_cmdline_parse_built(const struct host_kver *kv, unsigned built, const char *cmdline,
                             struct host_bootparams *bp, const struct host_log_sink *sink,
                             struct pcilab_err *err);

/* The helpers of the kernel that the parameters use, exposed for tests and for
 * the modules that read other parameters later. */
/* lib/cmdline.c memparse: number (base 0) with an optional K/M/G/T/P/E suffix
 * (either case); *end (may be NULL) is set past what was used. */
uint64_t host_memparse(const char *s, const char **end);
/* lib/kstrtox.c kstrtobool of version kv: 0 and *res, or -PCILAB_EINVAL. */
int host_kstrtobool(const struct host_kver *kv, const char *s, bool *res);
/* lib/vsprintf.c simple_strtoull (base 0: 0x hex, 0 octal), wraps on overflow. */
uint64_t host_simple_strtoull(const char *s, const char **end, unsigned base);

#endif
