/* The kernel-version table. Each entry cites the trees its facts come from.
 *
 * Trees read (snapshots of public repositories; the files named were compared
 * between versions with diff):
 *  4.9.80  mincepi/linux-4.9.80 (Makefile 4.9.80): lib/swiotlb.c,
 *          arch/x86/kernel/{pci-dma.c,pci-swiotlb.c,amd_gart_64.c,e820.c},
 *          drivers/iommu/{iommu.c,amd_iommu_init.c,intel-iommu.c},
 *          init/main.c, kernel/params.c, lib/{cmdline.c,kstrtox.c,ratelimit.c}
 *  4.20    a4913994/linux-4.20 (Makefile 4.20.0; no 4.20.17 tree was at hand,
 *          the stable releases 4.20.1..17 are taken to leave these files'
 *          behaviour alone): kernel/dma/swiotlb.c and the same list
 *  5.15    wowk/linux-5.15 (Makefile 5.15.55) for everything; the v5.15 tag's
 *          swiotlb map (bounce only for TO_DEVICE/BIDIRECTIONAL) from the state
 *          before commit ddbd89deb7d3 ("swiotlb: fix info leak with
 *          DMA_FROM_DEVICE", 5.17-rc), which 5.15.y later took
 *  6.1     krr-io/linux-6.1.0 (Makefile 6.1.0-rc7): kernel/dma/swiotlb.c,
 *          arch/x86/kernel/pci-dma.c, drivers/iommu/{iommu.c,amd/init.c,
 *          intel/iommu.c}, init/main.c, lib/{cmdline.c,kstrtox.c}
 * DMA API debugging (CONFIG_DMA_API_DEBUG, off in Debian's kernels, on when
 * the host kernel config says dma_debug): lib/dma-debug.c of mincepi/linux-4.9.80,
 * kernel/dma/debug.c of a4913994/linux-4.20, wowk/linux-5.15 and
 * krr-io/linux-6.1.0, with include/linux/dma-mapping.h, kernel/dma/mapping.c,
 * kernel/panic.c and include/asm-generic/bug.h of the same trees; arch/Kconfig
 * of each: VMAP_STACK "default y" (stacks are vmalloc memory).
 * Debian configuration: linux-config-6.1 (6.1.192-3), config.amd64_none_amd64:
 *   CONFIG_HZ=250, CONFIG_INIT_ENV_ARG_LIMIT=32, CONFIG_GART_IOMMU=y,
 *   CONFIG_IOMMU_DEFAULT_DMA_LAZY=y, CONFIG_IOMMU_DEFAULT_PASSTHROUGH unset,
 *   CONFIG_INTEL_IOMMU_DEFAULT_ON unset but CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y
 *   (a Debian patch: DMA remapping on by default, Intel integrated graphics
 *   identity-mapped; read in linux-source-6.1 drivers/iommu/intel/{Kconfig,iommu.c}),
 *   CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON=y.
 * For 4.9, 4.20 and 5.15 Debian's files were not at hand: the same choices
 * are assumed, with the Kconfig defaults (drivers/iommu/Kconfig of each tree:
 * IOMMU_DEFAULT_PASSTHROUGH "If unsure, say N"; 5.15's
 * INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON default y, drivers/iommu/intel/Kconfig:87
 * of wowk/linux-5.15, as 6.1's). */
#include "host/kver.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void host_logf(const struct host_log_sink *sink, int level, const char *fmt, ...)
{
    if (!sink || !sink->fn)
        return;
    char line[SIM_LOG_LINE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sink->fn(sink->ctx, level, line);
}

static const struct host_kver kvers[] = {
    {
        .name = "4.9.80", .major = 4, .minor = 9, .sublevel = 80,
        .sources = "mincepi/linux-4.9.80",
        /* printk.c 4.9: the cont buffer; only KERN_CONT continues */
        .printk_cont = SIM_LOG_CONT_BUFFERED,
        .hz = 250,
        .cmdline_max_init_args = 32,
        /* init/main.c 4.9: unknown_bootoption() stores, prints nothing */
        .cmdline_reports_unknown = false,
        /* lib/kstrtox.c 4.9: y Y 1 n N 0 on off */
        .kstrtobool_true_false = false,
        /* pci-dma.c 4.9: no "nopt"; forcesac/allowdac/nodac/usedac set
         * iommu_sac_force / forbid_dac; "pt" sets iommu_pass_through */
        .iommu_has_nopt = false,
        .iommu_dac_options_ignored = false,
        .iommu_pt_sets_default_domain = false,
        /* drivers/iommu/iommu.c 4.9 has neither early_param */
        .iommu_has_passthrough_param = false,
        .iommu_has_strict_param = false,
        .iommu_default_passthrough = false,
        .iommu_dma_strict_default = false, /* no such variable in 4.9 */
        .iommu_core_prints_default_domain = false,
        .amd_flush_follows_iommu_strict = false,
        /* amd_iommu_init.c 4.9 parse_amd_iommu_options: fullflush, off,
         * force_isolation, strncmp at every character */
        .amd_iommu_parse = HOST_AMD_PARSE_EVERY_CHAR,
        .amd_iommu_has_force_enable = false,
        .amd_iommu_has_pgtbl = false,
        .amd_iommu_fullflush_deprecated = false,
        /* intel-iommu.c 4.9 intel_iommu_setup: returns 0 */
        .intel_iommu_setup_handled = false,
        .intel_iommu_has_ecs_pasid28 = true,
        .intel_iommu_has_tboot_noforce = false,
        .intel_iommu_has_sm = false,
        .intel_iommu_unknown_notice = false,
        .intel_iommu_deprecations = false,
        /* dmar.c 4.9 dmar_fault_do_one/dmar_fault; intel-iommu.c 4.9
         * intel_iommu_init (bus_set_iommu after the banner), __intel_map_single */
        .intel_iommu_default_on = false,
        .amd_iommu_v2_builtin = false,
        .intel_iommu_intgpu_off = false,
        .vtd_msg_5x = false,
        .vtd_ratelimit_per_record = false,
        .vtd_knows_satc = false,
        .vtd_own_dma_ops = true,
        .vtd_read_without_zlr = true,
        .vtd_groups_before_banner = false,
        .vtd_lazy_domains = true,
        .intel_iommu_sm_default_on = false,
        /* lib/swiotlb.c 4.9 */
        .swiotlb = HOST_SWIOTLB_4_9,
        .swiotlb_info = HOST_SWIOTLB_INFO_4_9,
        .swiotlb_full = HOST_SWIOTLB_FULL_SZ,
        .swiotlb_out_of_space_msg = true,
        .swiotlb_noforce_one_slab = true,
        .swiotlb_has_nareas = false,
        .swiotlb_map_bounces_always = false,
        /* drivers/iommu/iova.c 4.9.80; amd_iommu.c 4.9 dma_ops_alloc_iova */
        .iova = HOST_IOVA_V4_9,
        .amd_own_dma_ops = true,
        /* arch/x86/kernel/apic/vector.c 4.9 __assign_irq_vector, apic_flat_64.c,
         * msi.c irq_msi_compose_msg; irq.c do_IRQ; pci-nommu.c check_addr,
         * DMA_ERROR_CODE 0 (asm/dma-mapping.h) */
        .irq = HOST_IRQ_4_9,
        .irq_no_handler_fn = "do_IRQ",
        .irq_first_stray_silent = false,
        .dma_overflow = HOST_DMA_OVF_NOMMU,
        .dma_direct_error_zero = true,
        /* include/linux/dma-mapping.h 4.9 (no vmalloc check; the range syncs
         * call debug_dma_sync_single_range_*); lib/dma-debug.c 4.9.80;
         * arch/x86/kernel/pci-dma.c pci_iommu_init */
        .dma_map_single_rejects_vmalloc = false,
        .dma_sync_range_is_single = false,
        .dma_debug_pr_fmt = false,
        .dma_debug_hash_size = 1024,
        .dma_debug_entries_per_page = 0,
        .dma_debug_init_at = HOST_DMA_DEBUG_AT_PCI_IOMMU_INIT,
        .dma_debug_setup_handled = false,
        .dma_debug_entries_zero_default = true,
        .dma_debug_page_type = true,
        .dma_debug_map_single_check = false,
        .dma_debug_overlap_err = false,
        .dma_debug_contain_walk_addr = false,
        .dma_debug_sg_needs_ents = false,
        /* arch/x86/kernel/pci-swiotlb.c, pci-dma.c pci_iommu_alloc 4.9 */
        .swiotlb_soft_skips_iommu = true,
        .swiotlb_freed_by_iommu = true,
        /* amd_iommu.c / amd_iommu_init.c 4.9.80: iommu_print_event (two printk
         * calls), print_iommu_info, queue_add (per-CPU flush queue),
         * alloc_irq_index(devid, count) unaligned, build_completion_wait data 1,
         * build_inv_iommu_pages (>1 page: all), AMD_IOMMU_INT_MASK without
         * overflow, features from MMIO, amd_iommu_init_dma_ops prints the mode */
        .amd_msg = HOST_AMD_MSG_4_9,
        .amd_fq = HOST_AMD_FQ_DRIVER,
        .amd_irq_index_align = false,
        .amd_cmd_sem_counter = false,
        .amd_inv_natural_range = false,
        .amd_evt_overflow_restart = false,
        .amd_efr_from_ivhd = false,
        .amd_prints_flush_mode = true,
        /* amd_iommu_init.c 4.9.80 */
        .ivrs_pr_fmt = false,
        .ivrs_excl_as_unity = false,
        .ivrs_empty_ivhd_fails = false,
        .ivrs_per_segment = false,
        /* drivers/iommu/dma-iommu.c iommu_dma_forcedac_setup (absent before 5.13) */
        .iommu_has_forcedac_param = false,
    },
    {
        .name = "4.20.17", .major = 4, .minor = 20, .sublevel = 17,
        .sources = "a4913994/linux-4.20 (4.20.0)",
        .printk_cont = SIM_LOG_CONT_BUFFERED,
        .hz = 250,
        .cmdline_max_init_args = 32,
        .cmdline_reports_unknown = false,
        .kstrtobool_true_false = false,
        /* pci-dma.c 4.20: "nopt" clears iommu_pass_through; the DAC options
         * warn "... option ignored." */
        .iommu_has_nopt = true,
        .iommu_dac_options_ignored = true,
        .iommu_pt_sets_default_domain = false,
        /* iommu.c 4.20: iommu.passthrough, iommu.strict (strict = true) */
        .iommu_has_passthrough_param = true,
        .iommu_has_strict_param = true,
        .iommu_default_passthrough = false,
        .iommu_dma_strict_default = true,
        .iommu_core_prints_default_domain = false,
        .amd_flush_follows_iommu_strict = false,
        .amd_iommu_parse = HOST_AMD_PARSE_EVERY_CHAR,
        .amd_iommu_has_force_enable = false,
        .amd_iommu_has_pgtbl = false,
        .amd_iommu_fullflush_deprecated = false,
        .intel_iommu_setup_handled = false,
        .intel_iommu_has_ecs_pasid28 = true,
        .intel_iommu_has_tboot_noforce = true,
        .intel_iommu_has_sm = false,
        .intel_iommu_unknown_notice = false,
        .intel_iommu_deprecations = false,
        /* dmar.c, intel-iommu.c 4.20 (iommu_device_register, bus_set_iommu
         * after the banner) */
        .intel_iommu_default_on = false,
        .amd_iommu_v2_builtin = false,
        .intel_iommu_intgpu_off = false,
        .vtd_msg_5x = false,
        .vtd_ratelimit_per_record = true,
        .vtd_knows_satc = false,
        .vtd_own_dma_ops = true,
        .vtd_read_without_zlr = true,
        .vtd_groups_before_banner = false,
        .vtd_lazy_domains = true,
        .intel_iommu_sm_default_on = false,
        /* kernel/dma/swiotlb.c 4.20: pr_fmt "software IO TLB: " */
        .swiotlb = HOST_SWIOTLB_4_20,
        .swiotlb_info = HOST_SWIOTLB_INFO_4_20,
        .swiotlb_full = HOST_SWIOTLB_FULL_SZ,
        .swiotlb_out_of_space_msg = false,
        .swiotlb_noforce_one_slab = true,
        .swiotlb_has_nareas = false,
        .swiotlb_map_bounces_always = false,
        /* iova.c 4.20.0; amd_iommu.c 4.20 still has amd_iommu_dma_ops */
        .iova = HOST_IOVA_V4_20,
        .amd_own_dma_ops = true,
        /* kernel/irq/matrix.c, apic/vector.c, apic/msi.c 4.20; irq.c do_IRQ;
         * kernel/dma/direct.c check_addr, DIRECT_MAPPING_ERROR ~0 */
        .irq = HOST_IRQ_4_20,
        .irq_no_handler_fn = "do_IRQ",
        .irq_first_stray_silent = false,
        .dma_overflow = HOST_DMA_OVF_DIRECT,
        .dma_direct_error_zero = false,
        /* include/linux/dma-mapping.h 4.20 (debug_dma_map_single before
         * map_page); kernel/dma/debug.c 4.20: core_initcall, HASH_SIZE 1024,
         * nr_prealloc_entries, still "DMA-API: " in each format */
        .dma_map_single_rejects_vmalloc = false,
        .dma_sync_range_is_single = false,
        .dma_debug_pr_fmt = false,
        .dma_debug_hash_size = 1024,
        .dma_debug_entries_per_page = 0,
        .dma_debug_init_at = HOST_DMA_DEBUG_AT_CORE_INITCALL,
        .dma_debug_setup_handled = false,
        .dma_debug_entries_zero_default = false,
        .dma_debug_page_type = true,
        .dma_debug_map_single_check = true,
        .dma_debug_overlap_err = false,
        .dma_debug_contain_walk_addr = false,
        .dma_debug_sg_needs_ents = false,
        /* pci-swiotlb.c 4.20 */
        .swiotlb_soft_skips_iommu = true,
        .swiotlb_freed_by_iommu = true,
        /* amd_iommu.c 4.20: amd_iommu_report_page_fault, init_iova_flush_queue
         * + queue_iova (iova.c), alloc_irq_index(.., align), otherwise as 4.9 */
        .amd_msg = HOST_AMD_MSG_4_20,
        .amd_fq = HOST_AMD_FQ_IOVA,
        .amd_irq_index_align = true,
        .amd_cmd_sem_counter = false,
        .amd_inv_natural_range = false,
        .amd_evt_overflow_restart = false,
        .amd_efr_from_ivhd = false,
        .amd_prints_flush_mode = true,
        /* amd_iommu_init.c 4.20 */
        .ivrs_pr_fmt = false,
        .ivrs_excl_as_unity = false,
        .ivrs_empty_ivhd_fails = false,
        .ivrs_per_segment = false,
        /* drivers/iommu/dma-iommu.c iommu_dma_forcedac_setup (absent before 5.13) */
        .iommu_has_forcedac_param = false,
    },
    {
        .name = "5.15", .major = 5, .minor = 15, .sublevel = 0,
        .sources = "wowk/linux-5.15 (5.15.55)",
        /* 5.10+: lockless ringbuffer */
        .printk_cont = SIM_LOG_CONT_EXPLICIT,
        .hz = 250,
        .cmdline_max_init_args = 32,
        .cmdline_reports_unknown = true,
        .kstrtobool_true_false = false,
        .iommu_has_nopt = true,
        .iommu_dac_options_ignored = true,
        .iommu_pt_sets_default_domain = true,
        .iommu_has_passthrough_param = true,
        .iommu_has_strict_param = true,
        .iommu_default_passthrough = false,
        .iommu_dma_strict_default = false, /* CONFIG_IOMMU_DEFAULT_DMA_LAZY */
        .iommu_core_prints_default_domain = true,
        .amd_flush_follows_iommu_strict = true,
        .amd_iommu_parse = HOST_AMD_PARSE_EVERY_CHAR,
        .amd_iommu_has_force_enable = true,
        .amd_iommu_has_pgtbl = false,
        .amd_iommu_fullflush_deprecated = true,
        .intel_iommu_setup_handled = true,
        .intel_iommu_has_ecs_pasid28 = false,
        .intel_iommu_has_tboot_noforce = true,
        .intel_iommu_has_sm = true,
        .intel_iommu_unknown_notice = true,
        .intel_iommu_deprecations = true,
        /* drivers/iommu/intel/{dmar,iommu}.c 5.15 */
        .intel_iommu_default_on = false,
        .amd_iommu_v2_builtin = false,
        .intel_iommu_intgpu_off = false,
        .vtd_msg_5x = true,
        .vtd_ratelimit_per_record = true,
        .vtd_knows_satc = true,
        .vtd_own_dma_ops = false,
        .vtd_read_without_zlr = false,
        .vtd_groups_before_banner = true,
        .vtd_lazy_domains = false,
        /* intel/iommu.c:332 IS_ENABLED(CONFIG_..._SCALABLE_MODE_DEFAULT_ON),
         * Kconfig default y (5.15) */
        .intel_iommu_sm_default_on = true,
        .swiotlb = HOST_SWIOTLB_5_15,
        .swiotlb_info = HOST_SWIOTLB_INFO_PA,
        .swiotlb_full = HOST_SWIOTLB_FULL_SZ_SLOTS,
        .swiotlb_out_of_space_msg = false,
        .swiotlb_noforce_one_slab = false,
        .swiotlb_has_nareas = false,
        .swiotlb_map_bounces_always = false,
        /* iova.c 5.15; amd/iommu.c 5.15 uses iommu_setup_dma_ops (dma-iommu) */
        .iova = HOST_IOVA_V5_15,
        .amd_own_dma_ops = false,
        /* apic/apic.c __irq_msi_compose_msg 5.15 (data = vector);
         * irq.c __common_interrupt, VECTOR_SHUTDOWN; direct.h
         * dma_direct_map_page -> swiotlb_map even without a pool */
        .irq = HOST_IRQ_5_X,
        .irq_no_handler_fn = "__common_interrupt",
        .irq_first_stray_silent = true,
        .dma_overflow = HOST_DMA_OVF_SWIOTLB,
        .dma_direct_error_zero = false,
        /* include/linux/dma-mapping.h 5.15 (dev_WARN_ONCE on vmalloc, the
         * range syncs inline), kernel/dma/mapping.c; kernel/dma/debug.c 5.15:
         * pr_fmt, HASH_SIZE 16384, dma_debug_create_entries, EEXIST error */
        .dma_map_single_rejects_vmalloc = true,
        .dma_sync_range_is_single = true,
        .dma_debug_pr_fmt = true,
        .dma_debug_hash_size = 16384,
        .dma_debug_entries_per_page = 32,
        .dma_debug_init_at = HOST_DMA_DEBUG_AT_CORE_INITCALL,
        .dma_debug_setup_handled = true,
        .dma_debug_entries_zero_default = false,
        .dma_debug_page_type = false,
        .dma_debug_map_single_check = true,
        .dma_debug_overlap_err = true,
        .dma_debug_contain_walk_addr = false,
        .dma_debug_sg_needs_ents = true,
        /* pci-swiotlb.c 5.15 */
        .swiotlb_soft_skips_iommu = true,
        .swiotlb_freed_by_iommu = true,
        /* amd/iommu.c 5.15.55: pr_fmt, pci_err/pr_err_ratelimited,
         * build_inv_address, cmd_sem_val, MMIO_STATUS_EVT_OVERFLOW_INT_MASK;
         * amd/init.c early_iommu_features_init; dma-iommu.c flush queue */
        .amd_msg = HOST_AMD_MSG_5_15,
        .amd_fq = HOST_AMD_FQ_IOVA,
        .amd_irq_index_align = true,
        .amd_cmd_sem_counter = true,
        .amd_inv_natural_range = true,
        .amd_evt_overflow_restart = true,
        .amd_efr_from_ivhd = true,
        .amd_prints_flush_mode = false,
        /* amd/init.c 5.15 */
        .ivrs_pr_fmt = true,
        .ivrs_excl_as_unity = true,
        .ivrs_empty_ivhd_fails = false,
        .ivrs_per_segment = false,
        /* drivers/iommu/dma-iommu.c iommu_dma_forcedac_setup (absent before 5.13) */
        .iommu_has_forcedac_param = true,
    },
    {
        .name = "6.1", .major = 6, .minor = 1, .sublevel = 0,
        .sources = "krr-io/linux-6.1.0 (6.1.0-rc7)",
        .printk_cont = SIM_LOG_CONT_EXPLICIT,
        .hz = 250,
        .cmdline_max_init_args = 32,
        .cmdline_reports_unknown = true,
        /* lib/kstrtox.c 6.1: t T f F too */
        .kstrtobool_true_false = true,
        .iommu_has_nopt = true,
        .iommu_dac_options_ignored = true,
        .iommu_pt_sets_default_domain = true,
        .iommu_has_passthrough_param = true,
        .iommu_has_strict_param = true,
        .iommu_default_passthrough = false,
        .iommu_dma_strict_default = false,
        .iommu_core_prints_default_domain = true,
        .amd_flush_follows_iommu_strict = true,
        /* amd/init.c 6.1: comma list with else-if and "Unknown option" */
        .amd_iommu_parse = HOST_AMD_PARSE_COMMA_LIST,
        .amd_iommu_has_force_enable = true,
        .amd_iommu_has_pgtbl = true,
        .amd_iommu_fullflush_deprecated = true,
        .intel_iommu_setup_handled = true,
        .intel_iommu_has_ecs_pasid28 = false,
        .intel_iommu_has_tboot_noforce = true,
        .intel_iommu_has_sm = true,
        .intel_iommu_unknown_notice = true,
        .intel_iommu_deprecations = true,
        /* drivers/iommu/intel/{dmar,iommu}.c 6.1; Debian 6.1.192-3 (linux-source-6.1,
         * /boot/config-6.1.0-57-amd64): CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y,
         * so dmar_disabled = IS_ENABLED(CONFIG_INTEL_IOMMU_DEFAULT_OFF) = 0 */
        .intel_iommu_default_on = true,
        .amd_iommu_v2_builtin = true,
        .intel_iommu_intgpu_off = true,
        .vtd_msg_5x = true,
        .vtd_ratelimit_per_record = true,
        .vtd_knows_satc = true,
        .vtd_own_dma_ops = false,
        .vtd_read_without_zlr = false,
        .vtd_groups_before_banner = true,
        .vtd_lazy_domains = false,
        .intel_iommu_sm_default_on = true, /* Debian linux-config-6.1 */
        .swiotlb = HOST_SWIOTLB_6_1,
        .swiotlb_info = HOST_SWIOTLB_INFO_PA,
        .swiotlb_full = HOST_SWIOTLB_FULL_SZ_SLOTS,
        .swiotlb_out_of_space_msg = false,
        .swiotlb_noforce_one_slab = false,
        .swiotlb_has_nareas = true,
        .swiotlb_map_bounces_always = true,
        /* iova.c 6.1; dma-iommu */
        .iova = HOST_IOVA_V6_1,
        .amd_own_dma_ops = false,
        /* as 5.15; direct.h 6.1: is_swiotlb_active() gates the bounce, else
         * dev_WARN_ONCE */
        .irq = HOST_IRQ_5_X,
        .irq_no_handler_fn = "__common_interrupt",
        .irq_first_stray_silent = true,
        .dma_overflow = HOST_DMA_OVF_WARN,
        .dma_direct_error_zero = false,
        /* as 5.15; kernel/dma/debug.c 6.1 bucket_find_contain walks back by
         * address, not by max segment size */
        .dma_map_single_rejects_vmalloc = true,
        .dma_sync_range_is_single = true,
        .dma_debug_pr_fmt = true,
        .dma_debug_hash_size = 16384,
        .dma_debug_entries_per_page = 32,
        .dma_debug_init_at = HOST_DMA_DEBUG_AT_CORE_INITCALL,
        .dma_debug_setup_handled = true,
        .dma_debug_entries_zero_default = false,
        .dma_debug_page_type = false,
        .dma_debug_map_single_check = true,
        .dma_debug_overlap_err = true,
        .dma_debug_contain_walk_addr = true,
        .dma_debug_sg_needs_ents = true,
        /* pci-dma.c 6.1 pci_iommu_alloc / pci_iommu_init */
        .swiotlb_soft_skips_iommu = false,
        .swiotlb_freed_by_iommu = false,
        /* amd/iommu.c, amd/init.c 6.1-rc7: as 5.15 plus the segment in
         * device=, EFR2 in the features line */
        .amd_msg = HOST_AMD_MSG_6_1,
        .amd_fq = HOST_AMD_FQ_IOVA,
        .amd_irq_index_align = true,
        .amd_cmd_sem_counter = true,
        .amd_inv_natural_range = true,
        .amd_evt_overflow_restart = true,
        .amd_efr_from_ivhd = true,
        .amd_prints_flush_mode = false,
        /* amd/init.c 6.1 (alloc_pci_segment) */
        .ivrs_pr_fmt = true,
        .ivrs_excl_as_unity = true,
        .ivrs_empty_ivhd_fails = true,
        .ivrs_per_segment = true,
        /* drivers/iommu/dma-iommu.c iommu_dma_forcedac_setup (absent before 5.13) */
        .iommu_has_forcedac_param = true,
    },
};

size_t host_kver_count(void)
{
    return sizeof kvers / sizeof kvers[0];
}

const struct host_kver *host_kver_at(size_t i)
{
    return i < host_kver_count() ? &kvers[i] : NULL;
}

const char *host_kver_name(const struct host_kver *kv)
{
    return kv ? kv->name : "";
}

bool host_kver_at_least(const struct host_kver *kv, unsigned major, unsigned minor)
{
    return kv->major > major || (kv->major == major && kv->minor >= minor);
}

/* Reads a decimal number of at most 4 digits; returns chars used, 0 if none. */
static size_t read_num(const char *s, unsigned *v)
{
    size_t n = 0;
    unsigned x = 0;
    while (isdigit((unsigned char)s[n]) && n < 5) {
        x = x * 10 + (unsigned)(s[n] - '0');
        n++;
    }
    if (n == 0 || n > 4)
        return 0;
    *v = x;
    return n;
}

int host_kver_find(const char *text, const struct host_kver **out,
                   struct pcilab_err *err)
{
    char list[128] = "";
    for (size_t i = 0; i < host_kver_count(); i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%u.%u (%s)", i ? ", " : "",
                 kvers[i].major, kvers[i].minor, kvers[i].name);
    }
    if (!text || !*text)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "no kernel version given; modelled versions: %s", list);

    unsigned major = 0, minor = 0, sub = 0;
    size_t n = read_num(text, &major);
    bool ok = n > 0 && text[n] == '.';
    size_t m = ok ? read_num(text + n + 1, &minor) : 0;
    ok = ok && m > 0;
    if (ok) {
        /* After major.minor: end, ".sublevel" then anything, or a suffix
         * that starts with '-' or '+' ("5.15-rc1", "4.9+"). */
        const char *rest = text + n + 1 + m;
        if (*rest == '.') {
            size_t k = read_num(rest + 1, &sub);
            ok = k > 0 && (rest[1 + k] == '\0' || rest[1 + k] == '-' ||
                           rest[1 + k] == '+');
        } else {
            ok = *rest == '\0' || *rest == '-' || *rest == '+';
        }
    }
    if (!ok)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "kernel version '%s' is not of the form major.minor[.sublevel]"
                           "[-suffix]; modelled versions: %s", text, list);
    for (size_t i = 0; i < host_kver_count(); i++) {
        if (kvers[i].major == major && kvers[i].minor == minor) {
            if (out)
                *out = &kvers[i];
            return 0;
        }
    }
    return pcilab_errf(err, PCILAB_EINVAL,
                       "kernel version '%s': %u.%u is not modelled; modelled versions: %s",
                       text, major, minor, list);
}
