/* The one table of kernel-version behaviour.
 *
 * Every behaviour of the modelled Linux that changed between the kernel
 * versions pcilab models is a field of struct host_kver, and every module of
 * the host layer reads it from here instead of testing version numbers. Each
 * entry names, in kver.c, the source trees its facts were read from.
 *
 * Versions: 4.9 (modelled on 4.9.80), 4.20 (4.20.17), 5.15 and 6.1 (the tags).
 * A user names a kernel by any string that starts with major.minor ("4.9",
 * "4.9.80", "5.15.0-91-generic", "6.1.0-13-amd64"); the entry of the same
 * major.minor is used, whatever the sublevel and the distribution suffix.
 *
 * Kernel configuration assumed (Debian's amd64 kernels; where Debian's file
 * was not at hand, the Kconfig default, said so in kver.c):
 *   CONFIG_X86_64, CONFIG_HZ=250, CONFIG_INIT_ENV_ARG_LIMIT=32, CONFIG_SWIOTLB,
 *   CONFIG_GART_IOMMU=y, CONFIG_AMD_IOMMU=y, CONFIG_INTEL_IOMMU=y,
 *   CONFIG_IOMMU_DEFAULT_PASSTHROUGH off, CONFIG_INTEL_IOMMU_DEFAULT_ON off,
 *   CONFIG_IOMMU_LEAK off, CONFIG_CALGARY_IOMMU off,
 *   5.15/6.1: CONFIG_IOMMU_DEFAULT_DMA_LAZY=y (not ..._STRICT). */
#ifndef PCILAB_HOST_KVER_H
#define PCILAB_HOST_KVER_H

#include <stdbool.h>
#include <stddef.h>

#include "host/iova.h"
#include "sim/err.h"
#include "sim/log.h"

/* Where the host kernel's printk lines go: level is 0..7 (KERN_EMERG ..
 * KERN_DEBUG) and text is one whole line without the trailing newline, with
 * its pr_fmt prefix ("software IO TLB: ", "AMD-Vi: ") already in it. The host
 * kernel puts them in its printk ring; fn may be NULL (lines are dropped). */
struct host_log_sink {
    void (*fn)(void *ctx, int level, const char *text);
    void *ctx;
};

/* Sends one formatted line to the sink (no-op when sink or sink->fn is NULL). */
void host_logf(const struct host_log_sink *sink, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Which implementation of the software IO TLB the version has. */
enum host_swiotlb_flavour {
    HOST_SWIOTLB_4_9,  /* lib/swiotlb.c: one global io_tlb_list/io_tlb_index,
                          32 KiB overflow buffer, swiotlb_full() */
    HOST_SWIOTLB_4_20, /* kernel/dma/swiotlb.c: same search, no overflow buffer */
    HOST_SWIOTLB_5_15, /* struct io_tlb_mem with slots[], used count,
                          min_align_mask, alloc_align_mask */
    HOST_SWIOTLB_6_1,  /* the 5.15 search run per area (one per possible CPU) */
};

/* The form of the swiotlb_print_info() line. */
enum host_swiotlb_info_fmt {
    HOST_SWIOTLB_INFO_4_9,  /* "software IO TLB [mem %#010llx-%#010llx] (%luMB)
                               mapped at [%p-%p]" */
    HOST_SWIOTLB_INFO_4_20, /* "software IO TLB: mapped [mem %#010llx-%#010llx]
                               (%luMB)" */
    HOST_SWIOTLB_INFO_PA,   /* "software IO TLB: mapped [mem %pa-%pa] (%luMB)",
                               %pa = 0x + 16 hex digits */
};

/* How the "swiotlb buffer is full" warning is worded and rate limited. */
enum host_swiotlb_full_fmt {
    HOST_SWIOTLB_FULL_SZ,        /* "swiotlb buffer is full (sz: %zd bytes)",
                                    gated by printk_ratelimit() (one state shared
                                    by every printk_ratelimit() caller) */
    HOST_SWIOTLB_FULL_SZ_SLOTS,  /* "... (sz: %zd bytes), total %lu (slots), used
                                    %lu (slots)", dev_warn_ratelimited (a state of
                                    its own for this call site) */
};

/* How amd_iommu= is scanned (parse_amd_iommu_options). */
enum host_amd_iommu_parse {
    HOST_AMD_PARSE_EVERY_CHAR, /* strncmp at every character position: "xoff"
                                  disables, unknown text is silently ignored */
    HOST_AMD_PARSE_COMMA_LIST, /* comma list, first match wins, unknown words get
                                  "AMD-Vi: Unknown option - '%s'" */
};

/* How the x86 interrupt code of the version hands out vectors and writes
 * MSI messages (flat logical APIC driver: at most 8 CPUs, xAPIC). */
enum host_irq_flavour {
    HOST_IRQ_4_9,   /* __assign_irq_vector: one global cursor stepping by 16
                       from 0x21, a vector taken on every CPU; messages to all
                       CPUs, lowest priority: address 0xfee00000 | mask << 12 |
                       RH | DM, data 0x4100 | vector */
    HOST_IRQ_4_20,  /* the matrix allocator: the CPU with the most free
                       vectors, its lowest free one; fixed delivery to one CPU
                       (dest 1 << cpu, DM logical), data 0x4000 | vector;
                       MSI with per-vector masking and MSI-X get the
                       shutdown vector 0xef until request_irq */
    HOST_IRQ_5_X,   /* as 4.20, data = vector */
};

/* What a streaming mapping beyond the device's mask does on the direct path. */
enum host_dma_overflow {
    HOST_DMA_OVF_NOMMU,     /* 4.9 pci-nommu.c check_addr: printk(KERN_ERR
                               "nommu_%s: overflow %Lx+%zu of device mask %Lx\n")
                               when the mask is >= 32 bits; returns 0 */
    HOST_DMA_OVF_DIRECT,    /* 4.20 direct.c check_addr: dev_err("%s: overflow
                               %pad+%zu of device mask %llx bus mask %llx\n") */
    HOST_DMA_OVF_SWIOTLB,   /* 5.15: dma_direct_map_page bounces through
                               swiotlb even when it has no pool: "swiotlb buffer
                               is full (sz: %zd bytes), total 0 (slots), used 0
                               (slots)"; only swiotlb=noforce reaches the
                               warning below */
    HOST_DMA_OVF_WARN,      /* 6.1: no pool -> dev_WARN_ONCE("DMA addr %pad+%zu
                               overflow (mask %llx, bus limit %llx).\n") */
};

/* Wording of the AMD-Vi driver's lines (docs/linux/amd-iommu.md a, b). */
enum host_amd_msg {
    HOST_AMD_MSG_4_9,  /* no pr_fmt; event: printk(KERN_ERR "AMD-Vi: Event logged [")
                          then printk("IO_PAGE_FAULT ...]\n") without a level; no
                          rate limit; "AMD-Vi: Found IOMMU at %s cap 0x%hx";
                          "iommu: Adding device %s to group %d" */
    HOST_AMD_MSG_4_20, /* as 4.9 for boot; IO_PAGE_FAULT through
                          amd_iommu_report_page_fault: dev_err with the device's
                          ratelimit, else pr_err under printk_ratelimit; domain=
                          from the PPR PASID bits */
    HOST_AMD_MSG_5_15, /* pr_fmt "AMD-Vi: "; pci_err / pr_err_ratelimited; %llx
                          addresses; "pci ...: AMD-Vi: Found IOMMU cap 0x%x";
                          dev_info "Adding to iommu group %d" */
    HOST_AMD_MSG_6_1,  /* as 5.15, device=%04x:%02x:%02x.%x with the segment;
                          "Extended features (%#llx, %#llx):"; no "Virtual APIC
                          enabled" line */
};

/* The flush queue of lazy unmapping. */
enum host_amd_fq {
    HOST_AMD_FQ_DRIVER, /* amd_iommu.c 4.9: per-CPU queue of FLUSH_QUEUE_SIZE 256
                           shared by every domain; full or 10 ms timer -> flush
                           every domain's TLB, then free_iova_fast the entries */
    HOST_AMD_FQ_IOVA,   /* iova.c queue_iova (4.20, 5.15) / dma-iommu.c (6.1): per
                           domain, per-CPU ring of IOVA_FQ_SIZE 256 (255 usable),
                           entries freed once a flush that started after them
                           finished; IOVA_FQ_TIMEOUT 10 ms per domain */
};

/* When dma_debug_init runs during boot (CONFIG_DMA_API_DEBUG). */
enum host_dma_debug_init_at {
    HOST_DMA_DEBUG_AT_PCI_IOMMU_INIT, /* 4.9: arch/x86/kernel/pci-dma.c pci_iommu_init
                                         (rootfs_initcall, after the PCI scan)
                                         calls dma_debug_init(PREALLOC_DMA_DEBUG_ENTRIES
                                         = 65536) and dma_debug_add_bus, then the
                                         IOMMU driver's init */
    HOST_DMA_DEBUG_AT_CORE_INITCALL,  /* 4.20+: core_initcall(dma_debug_init) in
                                         kernel/dma/debug.c: after swiotlb_init
                                         (mm_init), before the PCI scan; the bus
                                         notifier from pci_driver_init (postcore) */
};

struct host_kver {
    const char *name;         /* "4.9.80": the release modelled */
    unsigned major, minor, sublevel;
    const char *sources;      /* the trees read for this entry (kver.c has more) */

    /* ---- printk (kernel/printk/printk.c) ---- */
    enum sim_log_cont_mode printk_cont;
    unsigned hz;              /* CONFIG_HZ: jiffies per second, for ratelimits */

    /* ---- command line (init/main.c, kernel/params.c, lib/cmdline.c) ---- */
    unsigned cmdline_max_init_args; /* MAX_INIT_ARGS = MAX_INIT_ENVS =
                                       CONFIG_INIT_ENV_ARG_LIMIT */
    bool cmdline_reports_unknown;   /* print_unknown_bootoptions(): "Unknown kernel
                                       command line parameters \"...\", will be
                                       passed to user space." (5.8 and later) */
    bool kstrtobool_true_false;     /* kstrtobool also takes t/T and f/F (6.0+) */

    /* ---- iommu= (arch/x86/kernel/pci-dma.c iommu_setup) ---- */
    bool iommu_has_nopt;            /* "nopt" understood (4.20+; absent in 4.9) */
    bool iommu_dac_options_ignored; /* forcesac/allowdac/nodac only warn "... option
                                       ignored." and usedac sets disable_dac_quirk
                                       (4.20+); 4.9 sets iommu_sac_force/forbid_dac */
    bool iommu_pt_sets_default_domain; /* iommu=pt/nopt call
                                       iommu_set_default_passthrough/translated
                                       (5.x); before, the x86 iommu_pass_through
                                       variable */

    /* ---- IOMMU core (drivers/iommu/iommu.c) ---- */
    bool iommu_has_passthrough_param; /* early_param "iommu.passthrough" (4.20+) */
    bool iommu_has_strict_param;      /* early_param "iommu.strict" (4.20+) */
    bool iommu_default_passthrough;   /* CONFIG_IOMMU_DEFAULT_PASSTHROUGH (off) */
    bool iommu_has_forcedac_param;    /* early_param "iommu.forcedac" of dma-iommu.c
                                         (5.13+): PCI devices skip the 32-bit-first
                                         IOVA attempt; "Forcing DAC for PCI devices" */
    bool iommu_dma_strict_default;    /* initial iommu_dma_strict: 4.20 true (only
                                         iommu-dma/arm-smmu read it), 5.15+
                                         IS_ENABLED(CONFIG_IOMMU_DEFAULT_DMA_STRICT)
                                         = false on x86 */
    bool iommu_core_prints_default_domain; /* iommu_subsys_init(): "iommu: Default
                                         domain type: ..." and "iommu: DMA domain TLB
                                         invalidation policy: ..." (5.x) */
    bool amd_flush_follows_iommu_strict;  /* the AMD driver's lazy/strict unmap
                                         flushing is iommu_dma_strict (5.15+); before
                                         it is amd_iommu_unmap_flush, false (lazy,
                                         flush queue) unless amd_iommu=fullflush */

    /* ---- amd_iommu= (drivers/iommu/amd{_iommu_init.c,/init.c}) ---- */
    enum host_amd_iommu_parse amd_iommu_parse;
    bool amd_iommu_has_force_enable;  /* "force_enable" (5.15 tree read) */
    bool amd_iommu_has_pgtbl;         /* "pgtbl_v1" / "pgtbl_v2" (6.1) */
    bool amd_iommu_fullflush_deprecated; /* "AMD-Vi: amd_iommu=fullflush deprecated;
                                         use iommu.strict=1 instead" (5.15+) */

    /* ---- intel_iommu= (drivers/iommu/intel{-iommu.c,/iommu.c}) ---- */
    bool intel_iommu_setup_handled;   /* intel_iommu_setup() returns 1 (5.x); 4.x
                                         returns 0, so the parameter also goes to
                                         init's environment */
    bool intel_iommu_has_ecs_pasid28; /* "ecs_off", "pasid28" (4.9) */
    bool intel_iommu_has_tboot_noforce; /* 4.20+ */
    bool intel_iommu_has_sm;          /* "sm_on" / "sm_off" (5.x) */
    bool intel_iommu_unknown_notice;  /* "DMAR: Unknown option - '%s'" (5.x) */
    bool intel_iommu_deprecations;    /* forcedac/strict print "deprecated" (5.x) */
    bool intel_iommu_default_on;      /* DMA remapping on without intel_iommu=on:
                                         dmar_disabled starts 0 (Debian 6.1's
                                         INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y) */
    bool amd_iommu_v2_builtin;        /* CONFIG_AMD_IOMMU_V2=y (Debian 6.1's config): its
                                         module_init prints "AMD-Vi: AMD IOMMUv2 loaded and
                                         initialized" or "... functionality not available on
                                         this system - This is not a bug." on every boot */
    bool intel_iommu_intgpu_off;      /* Debian's intgpu patch: an Intel display
                                         device on the root bus gets an identity
                                         domain unless intel_iommu=on (IDENTMAP_INTGPU) */
    bool intel_iommu_sm_default_on;   /* CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON */

    /* ---- The Intel IOMMU driver (drivers/iommu/dmar.c, intel-iommu.c,
     * intel_irq_remapping.c in 4.x; drivers/iommu/intel/ in 5.x). Read by
     * src/host/intel_iommu*.c; docs/linux/intel-iommu.md has the facts. ---- */
    bool vtd_msg_5x;                  /* dmar_fault_do_one: "[DMA Write NO_PASID] ...
                                         fault addr 0x%llx [fault reason 0x%02x]"
                                         (5.x); 4.x "[DMA Write] ... fault addr %llx
                                         [fault reason %02d]" */
    bool vtd_ratelimit_per_record;    /* dmar_fault asks __ratelimit for the status
                                         line and again per record (4.20+); 4.9 once
                                         per interrupt */
    bool vtd_knows_satc;              /* DMAR type 5 printed ("SATC flags: 0x%x")
                                         and "No SATC found" (5.15+); 4.x skips it */
    bool vtd_own_dma_ops;             /* intel_dma_ops with its own IOVA use and
                                         deferred flush (4.x); dma-iommu (5.x) */
    bool vtd_read_without_zlr;        /* __intel_map_single sets DMA_PTE_READ on every
                                         mapping when CAP.ZLR is clear (4.x); 5.x maps
                                         IOMMU_READ/IOMMU_WRITE as asked */
    bool vtd_groups_before_banner;    /* "Adding to iommu group" lines come before
                                         "Intel(R) Virtualization Technology for
                                         Directed I/O" (5.x: iommu_device_register /
                                         bus_set_iommu first); after it in 4.x */
    bool vtd_lazy_domains;            /* 4.x: a DMA domain is made at the first
                                         mapping (get_valid_domain_for_dev); 5.x at
                                         probe (the default domain) */

    /* ---- swiotlb (lib/swiotlb.c, kernel/dma/swiotlb.c) ---- */
    enum host_swiotlb_flavour swiotlb;
    enum host_swiotlb_info_fmt swiotlb_info;
    enum host_swiotlb_full_fmt swiotlb_full;
    bool swiotlb_out_of_space_msg;    /* swiotlb_full(): "DMA: Out of SW-IOMMU space
                                         for %zu bytes at device %s" and the panics
                                         past the 32 KiB overflow buffer (4.9) */
    bool swiotlb_noforce_one_slab;    /* swiotlb=noforce sets io_tlb_nslabs = 1
                                         (4.x); 5.15+ allocates no pool at all */
    bool swiotlb_has_nareas;          /* swiotlb=<slabs>,<areas>,... and the
                                         "software IO TLB: area num %d." line (6.1) */
    bool swiotlb_soft_skips_iommu;    /* iommu=soft: pci_swiotlb_detect_override is
                                         detected first and ends the IOMMU_INIT
                                         table walk, so AMD-Vi/VT-d are never
                                         detected (4.x, 5.15); 6.1's
                                         pci_iommu_alloc runs them anyway */
    bool swiotlb_freed_by_iommu;      /* an active IOMMU without passthrough sets
                                         swiotlb = 0 and pci_swiotlb_late_init frees
                                         the pool, no "PCI-DMA: Using software
                                         bounce buffering" line (4.x, 5.15); 6.1
                                         keeps it when RAM is above 4 GiB */
    bool swiotlb_map_bounces_always;  /* map copies the original into the bounce
                                         slot whatever the direction (the info-leak
                                         fix, 5.18, in 6.1; also 5.15.y stable,
                                         not the 5.15 tag) */

    /* ---- IOVA allocator (drivers/iommu/iova.c) and who calls it ---- */
    enum host_iova_flavour iova;      /* docs/iova.md */
    bool amd_own_dma_ops;             /* the AMD driver has its own dma_ops
                                         (amd_iommu_dma_ops, dma_ops_alloc_iova) in
                                         4.9 and 4.20; 5.x uses dma-iommu
                                         (iommu_dma_alloc_iova) */

    /* ---- ACPI IVRS as the AMD driver reads it (amd_iommu_init.c 4.x,
     * amd/init.c 5.x; docs/linux/amd-iommu.md g) ---- */
    bool ivrs_pr_fmt;                 /* pr_fmt "AMD-Vi: " puts the prefix before
                                         FW_BUG ("AMD-Vi: [Firmware Bug]: ...", 5.x);
                                         4.x writes "AMD-Vi: " into some strings only */
    bool ivrs_excl_as_unity;          /* IVMD exclusion ranges become r/w unity maps
                                         (init_unity_map_range, 5.x); 4.x sets DTE.EX
                                         and the exclusion registers */
    bool ivrs_empty_ivhd_fails;       /* an IVHD without device entries makes
                                         find_last_devid_from_ivhd fail and AMD-Vi
                                         stays off (6.1) */
    bool ivrs_per_segment;            /* one device table per PCI segment (6.1):
                                         pcilab models segment 0's; before, segments
                                         share one table */

    /* ---- AMD IOMMU driver messages and behaviour (drivers/iommu/amd) ----
     * Read by src/host/amd_iommu*.c; docs/linux/amd-iommu.md has the facts. */
    enum host_amd_msg amd_msg;        /* event-log and boot line formats */
    enum host_amd_fq amd_fq;          /* the lazy-unmap flush queue */
    bool amd_irq_index_align;         /* alloc_irq_index(devid, count, align):
                                         multi-MSI index blocks aligned to
                                         roundup_pow_of_two(count) (4.20+); 4.9
                                         takes the first free run */
    bool amd_cmd_sem_counter;         /* COMPLETION_WAIT stores ++cmd_sem_val and
                                         wait_on_sem compares with it (5.x); before,
                                         it stores 1 into a zeroed cmd_sem */
    bool amd_inv_natural_range;       /* build_inv_address: a multi-page flush is
                                         the smallest naturally aligned S=1 range
                                         (5.x); 4.x flushes the whole domain */
    bool amd_evt_overflow_restart;    /* EventOverflow in the interrupt mask:
                                         "IOMMU event log overflow" and
                                         amd_iommu_restart_event_logging (5.15.y,
                                         6.1); 4.x ignores it */
    bool amd_efr_from_ivhd;           /* with IVinfo EFRSup, features = the IVHD
                                         11h/40h EFR image (5.15+); else MMIO 0x30 */
    bool amd_prints_flush_mode;       /* "AMD-Vi: Lazy IO/TLB flushing enabled" /
                                         "... IO/TLB flush on unmap enabled" (4.x) */

    /* ---- Interrupts (arch/x86/kernel/apic/{vector,msi}.c, kernel/irq/matrix.c,
     * arch/x86/kernel/irq.c); docs: /work notes in docs/host-kernel.md ----
     * The multi-MSI rule (one vector without an interrupt remapping domain)
     * is the same in every modelled version, so it has no field. */
    enum host_irq_flavour irq;
    const char *irq_no_handler_fn;    /* __func__ in "%s: %d.%d No irq handler for
                                         vector": do_IRQ (4.x), __common_interrupt
                                         (5.x) */
    bool irq_first_stray_silent;      /* a freed vector is VECTOR_SHUTDOWN: the
                                         first stray interrupt on it is silent
                                         (5.x) */

    /* ---- The direct DMA path (arch/x86/kernel/pci-nommu.c 4.9,
     * kernel/dma/direct.c later) ---- */
    enum host_dma_overflow dma_overflow;
    bool dma_direct_error_zero;       /* a failed direct mapping returns 0
                                         (DMA_ERROR_CODE on x86, 4.9); later
                                         ~(dma_addr_t)0 */
    bool dma_map_single_rejects_vmalloc; /* dma_map_single_attrs:
                                         dev_WARN_ONCE(is_vmalloc_addr(ptr), "rejecting
                                         DMA map of vmalloc memory\n") and
                                         DMA_MAPPING_ERROR, debugging or not (5.10+,
                                         include/linux/dma-mapping.h); before, the
                                         bogus page of virt_to_page is mapped */
    bool dma_sync_range_is_single;    /* dma_sync_single_range_for_{cpu,device} is
                                         dma_sync_single_for_*(addr + offset, size)
                                         (5.x inline); 4.x calls
                                         debug_dma_sync_single_range_* which checks
                                         [addr, addr + offset + size) */

    /* ---- DMA API debugging, CONFIG_DMA_API_DEBUG (lib/dma-debug.c 4.9,
     * kernel/dma/debug.c 4.20+). Read by src/host/dma_debug.c;
     * docs/linux/dma-debug.md has the facts and what is the same in every
     * version (formats, the single error shown, the matching rules). ---- */
    bool dma_debug_pr_fmt;            /* pr_fmt "DMA-API: " (5.x): err_printk's WARN
                                         text is pr_fmt("%s %s: ") format = "DMA-API:
                                         <driver> <device>: <text>", and "DMA-API:
                                         Mapped at:"; 4.x writes "DMA-API: " inside
                                         each format, after "<driver> <device>: ",
                                         and "Mapped at:" bare */
    unsigned dma_debug_hash_size;     /* HASH_SIZE: 1024 (4.x), 16384 (5.x);
                                         hash_fn = (dev_addr >> 13) & (HASH_SIZE - 1) */
    unsigned dma_debug_entries_per_page; /* 5.x: the pool is pages of
                                         DMA_DEBUG_DYNAMIC_ENTRIES = PAGE_SIZE /
                                         sizeof(struct dma_debug_entry) = 4096 / 128
                                         (cacheline aligned) = 32, and grows when
                                         empty; 0: 4.x, a fixed pool of kzalloc'd
                                         entries whose exhaustion disables
                                         debugging ("debugging out of memory -
                                         disabling") */
    enum host_dma_debug_init_at dma_debug_init_at;
    bool dma_debug_setup_handled;     /* __setup dma_debug= and dma_debug_entries=
                                         return 1 (5.x); 0 in 4.x, so the parameter
                                         also goes to init's environment */
    bool dma_debug_entries_zero_default; /* 4.9 req_entries: 0 (given or not) means
                                         the arch's 65536; 4.20+ nr_prealloc_entries
                                         takes 0 as given */
    bool dma_debug_page_type;         /* dma_map_page entries have type "page"
                                         (dma_debug_page, 4.x), so unmapping them
                                         with dma_unmap_single is "wrong function";
                                         5.x types both "single" */
    bool dma_debug_map_single_check;  /* debug_dma_map_single: "device driver maps
                                         memory from invalid area" (!virt_addr_valid)
                                         and "... from vmalloc area" (4.20+) */
    bool dma_debug_overlap_err;       /* add_dma_entry: a second mapping of an
                                         active cacheline is the error "cacheline
                                         tracking EEXIST, overlapping mappings aren't
                                         supported" (5.x); 4.x only counts it */
    bool dma_debug_contain_walk_addr; /* bucket_find_contain walks back min(HASH_SIZE,
                                         (addr >> 13) + 1) buckets (6.1); before, a
                                         dma_get_max_seg_size (64 KiB for PCI) range:
                                         9 buckets */
    bool dma_debug_sg_needs_ents;     /* debug_dma_map_sg is called only when
                                         dma_map_sg mapped something (5.x) */
};

/* The modelled versions, oldest first. */
size_t host_kver_count(void);
/* NULL when i >= host_kver_count(). */
const struct host_kver *host_kver_at(size_t i);
/* The entry of the same major.minor as text ("4.9", "4.9.80",
 * "5.15.0-91-generic", "6.1.0-13-amd64"). On failure returns -PCILAB_EINVAL and
 * an error that names the offending text and lists the modelled versions. */
int host_kver_find(const char *text, const struct host_kver **out,
                   struct pcilab_err *err);
/* "4.9.80" */
const char *host_kver_name(const struct host_kver *kv);
/* kv is at least major.minor */
bool host_kver_at_least(const struct host_kver *kv, unsigned major, unsigned minor);

#endif
