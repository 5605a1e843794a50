/* Boot's swiotlb decision on the seed machine (RAM above 4 GiB, an AMD IOMMU):
 * which kernels keep the bounce pool once the AMD IOMMU driver has run.
 * amd_iommu_init_dma_ops decides: swiotlb = iommu_pass_through in 4.9 and
 * 4.20 (iommu=pt), iommu_default_passthrough() in 5.15 (iommu=pt and
 * iommu.passthrough=1); 6.1 never frees it (pci-dma.c pci_iommu_init). A kept
 * pool moves the next coherent allocation below it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "host/swiotlb.h"
#include "scenario/boot.h"
#include "scenario/build.h"

static bool pool_kept(const char *version, const char *cmdline, bool *printed)
{
    struct scn_machine m;
    struct scn_system *sys;
    struct pcie_enum_report rep;
    struct pcilab_err err;
    assert_int_equal(scn_load_builtin("seed", &m, &err), 0);
    struct pcilab_sim *sim = sim_create(1);
    assert_int_equal(scn_build(&m, sim, &sys, &err), 0);
    assert_int_equal(scn_enumerate(sys, &rep, &err), 0);
    struct host_kernel *k;
    struct scn_boot_opts o = {version, cmdline, false};
    assert_int_equal(scn_boot(sys, &m, &o, &rep, &k, &err), 0);
    bool kept = k->swiotlb != NULL;
    *printed = false;
    struct sim_log *log = sim_log(sim);
    for (size_t i = 0; i < sim_log_count(log); i++) {
        struct sim_log_rec rec;
        if (sim_log_get(log, i, &rec) &&
            !strcmp(rec.text, "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)"))
            *printed = true;
    }
    pcie_enum_report_free(&rep);
    sim_destroy(sim);
    scn_free(&m);
    return kept;
}

static void test_pool_per_version(void **state)
{
    (void)state;
    static const struct {
        const char *version, *cmdline;
        bool kept;
    } cases[] = {
        {"4.9.80", "", false},
        {"4.9.80", "iommu=pt", true},
        {"4.20.17", "", false},
        {"4.20.17", "iommu=pt", true},
        {"4.20.17", "iommu.passthrough=1", false}, /* iommu_pass_through stays 0 */
        {"5.15", "", false},
        {"5.15", "iommu=pt", true},                /* the fixed case */
        {"5.15", "iommu.passthrough=1", true},
        {"6.1", "", true},
        {"6.1", "iommu=pt", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool printed;
        bool kept = pool_kept(cases[i].version, cases[i].cmdline, &printed);
        if (kept != cases[i].kept || printed != cases[i].kept)
            fail_msg("%s '%s': pool %s, line %s, expected %s", cases[i].version,
                     cases[i].cmdline, kept ? "kept" : "freed", printed ? "printed" : "absent",
                     cases[i].kept ? "kept" : "freed");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_per_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
