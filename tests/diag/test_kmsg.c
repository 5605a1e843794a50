/* kmsg_parse: every AMD-Vi, SMMU, dma-debug, swiotlb, AER and context form,
 * each line exactly as the named kernel version prints it (built from the
 * format string cited in src/diag/kmsg_amdvi.c / kmsg_other.c and
 * docs/explain-messages.md), flag decoding, KMSG_PARTIAL cases and lines
 * that look alike but must not match. One cmocka test per table row. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/kmsg.h"

/* Table rows name only the fields they check; the rest are zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define BDF(b, d, f) ((uint16_t)((b) << 8 | (d) << 3 | (f)))

enum { C_REASON = 1, C_NUMBER = 2, C_DETAIL = 4, C_PASID = 8, C_PRINTER = 16 };

struct kcase {
    const char *name;  /* format and version */
    const char *line;
    enum kmsg_status st;
    enum kmsg_family fam;
    enum kmsg_kind kind;
    const char *format;
    int has_bdf; uint16_t seg, bdf;
    int has_domain; uint32_t domain;
    int has_addr; uint64_t addr;
    int has_flags; uint32_t flags;
    enum kmsg_dir dir;
    unsigned chk;
    uint32_t reason;
    uint64_t number;
    const char *detail;
    uint32_t pasid;
    const char *printer; uint16_t pbdf;
};

#define SEED_ADDR 0xffbf8000ull

static const struct kcase cases[] = {
    /* ---- AMD-Vi IO_PAGE_FAULT ---- */
    /* v4.9.80 amd_iommu.c iommu_print_event: printk(KERN_ERR "AMD-Vi: Event
     * logged [") then printk("IO_PAGE_FAULT device=%02x:%02x.%x domain=0x%04x
     * address=0x%016llx flags=0x%04x]\n"): two records */
    {"amdvi 4.9 split head", "AMD-Vi: Event logged [", KMSG_PARTIAL},
    {"amdvi 4.9 split record (the seed's fault)",
     "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-split",
     1, 0, BDF(0, 0, 0), 1, 0, 1, SEED_ADDR, 1, 0x70, KMSG_DIR_WRITE},
    /* the seed's mail-wrapped first line */
    {"amdvi seed wrapped line", "IO_PAGE_FAULT device=00:00.0 domain=0x0000 ", KMSG_PARTIAL},
    {"amdvi seed wrapped line trimmed", "IO_PAGE_FAULT device=00:00.0 domain=0x0000",
     KMSG_PARTIAL},
    {"amdvi seed joined by the reader",
     "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-split",
     1, 0, BDF(0, 0, 0), 1, 0, 1, SEED_ADDR, 1, 0x70, KMSG_DIR_WRITE},
    {"amdvi wrapped inside a key", "IO_PAGE_FAULT device=00:00.0 domain=0x0000 addr",
     KMSG_PARTIAL},
    {"amdvi wrapped inside a number", "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x0000",
     KMSG_PARTIAL},
    {"amdvi 4.9 head and record joined with a space",
     "AMD-Vi: Event logged [ IO_PAGE_FAULT device=03:00.0 domain=0x000e address=0x00000000fee00000 flags=0x0010]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-4.x",
     1, 0, BDF(3, 0, 0), 1, 0xe, 1, 0xfee00000ull, 1, 0x10, KMSG_DIR_READ},
    /* <= 4.8 (printk joins the fragment) and v4.20 amd_iommu_report_page_fault
     * pr_err("AMD-Vi: Event logged [IO_PAGE_FAULT device=%02x:%02x.%x
     * domain=0x%04x address=0x%016llx flags=0x%04x]\n") */
    {"amdvi 4.4/4.20 one record",
     "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-4.x",
     1, 0, BDF(0, 0, 0), 1, 0, 1, SEED_ADDR, 1, 0x70, KMSG_DIR_WRITE},
    /* v4.20 dev_err(&pdev->dev, "AMD-Vi: Event logged [IO_PAGE_FAULT
     * domain=0x%04x address=0x%016llx flags=0x%04x]\n") */
    {"amdvi 4.20 dev_err",
     "ecp5_dma 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x000b address=0x00000000ffbf8000 flags=0x0070]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-dev-4.x",
     1, 0, BDF(1, 0, 0), 1, 0xb, 1, SEED_ADDR, 1, 0x70, KMSG_DIR_WRITE,
     C_PRINTER, .printer = "ecp5_dma", .pbdf = BDF(1, 0, 0)},
    /* v5.10.13/v5.15 amd/iommu.c pr_err_ratelimited("Event logged
     * [IO_PAGE_FAULT device=%02x:%02x.%x domain=0x%04x address=0x%llx
     * flags=0x%04x]\n") with pr_fmt "AMD-Vi: " */
    {"amdvi 5.15 pr_err",
     "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0xffbf8000 flags=0x0070]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-5.x",
     1, 0, BDF(0, 0, 0), 1, 0, 1, SEED_ADDR, 1, 0x70, KMSG_DIR_WRITE},
    /* v5.15 pci_err(pdev, "Event logged [IO_PAGE_FAULT domain=0x%04x
     * address=0x%llx flags=0x%04x]\n") (dev_fmt = pr_fmt) */
    {"amdvi 5.15 pci_err",
     "pci 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x000b address=0xffbf8000 flags=0x0020]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-dev",
     1, 0, BDF(1, 0, 0), 1, 0xb, 1, SEED_ADDR, 1, 0x20, KMSG_DIR_WRITE,
     C_PRINTER, .printer = "pci", .pbdf = BDF(1, 0, 0)},
    /* the pci_err form quoted without its device prefix (amd/xdna-driver
     * PR 181): the event is whole, the requester unknown */
    {"amdvi pci_err without its prefix",
     "AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x001a address=0xfffc8000 flags=0x0050]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-dev-5.x-cut",
     0, 0, 0, 1, 0x1a, 1, 0xfffc8000ull, 1, 0x50, KMSG_DIR_READ},
    {"amdvi 4.20 dev_err without its prefix",
     "AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x000b address=0x00000000ffbf8000 flags=0x0070]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-dev-4.x-cut",
     0, 0, 0, 1, 0xb, 1, SEED_ADDR, 1, 0x70, KMSG_DIR_WRITE},
    /* an event that always names device= is not completed by the cut rule */
    {"amdvi IOTLB_INV_TIMEOUT without device=",
     "AMD-Vi: Event logged [IOTLB_INV_TIMEOUT address=0x100215ba0]",
     KMSG_NO_MATCH},
    {"amdvi 6.1 pci_err on segment 1",
     "nvme 0001:02:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0010 address=0x0 flags=0x0000]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-dev",
     1, 1, BDF(2, 0, 0), 1, 0x10, 1, 0, 1, 0, KMSG_DIR_READ},
    /* v6.1 pr_err_ratelimited("Event logged [IO_PAGE_FAULT device=%04x:%02x:
     * %02x.%x domain=0x%04x address=0x%llx flags=0x%04x]\n") */
    {"amdvi 6.1 segment",
     "AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:00.0 domain=0x0000 address=0xffbf8000 flags=0x0070]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IO_PAGE_FAULT, "amdvi-6.1-seg",
     1, 0, BDF(0, 0, 0), 1, 0, 1, SEED_ADDR, 1, 0x70, KMSG_DIR_WRITE},
    {"amdvi 6.1 segment split mid-line",
     "AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:00.0 domain=0x0000", KMSG_PARTIAL},

    /* ---- the other AMD-Vi events ---- */
    /* v4.9.80: "ILLEGAL_DEV_TABLE_ENTRY device=%02x:%02x.%x address=0x%016llx
     * flags=0x%04x]\n" after the head */
    {"amdvi 4.9 ILLEGAL_DEV_TABLE_ENTRY",
     "ILLEGAL_DEV_TABLE_ENTRY device=01:00.0 address=0x00000000ffbf8000 flags=0x0a00]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY, "amdvi-split",
     1, 0, BDF(1, 0, 0), 0, 0, 1, SEED_ADDR, 1, 0xa00},
    /* v4.20 dev_err(dev, "ILLEGAL_DEV_TABLE_ENTRY device=%02x:%02x.%x
     * pasid=0x%05x address=0x%016llx flags=0x%04x]\n"), dev = ivhd0 */
    {"amdvi 4.20 ivhd head", "iommu ivhd0: AMD-Vi: Event logged [", KMSG_PARTIAL},
    {"amdvi 4.20 ILLEGAL_DEV_TABLE_ENTRY",
     "iommu ivhd0: ILLEGAL_DEV_TABLE_ENTRY device=01:00.0 pasid=0x00000 address=0x00000000ffbf8000 flags=0x0a00]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY, "amdvi-split",
     1, 0, BDF(1, 0, 0), 0, 0, 1, SEED_ADDR, 1, 0xa00, 0, C_PASID, .pasid = 0},
    /* v5.15 "Event logged [ILLEGAL_DEV_TABLE_ENTRY device=%02x:%02x.%x
     * pasid=0x%05x address=0x%llx flags=0x%04x]\n" */
    {"amdvi 5.15 ILLEGAL_DEV_TABLE_ENTRY",
     "iommu ivhd0: AMD-Vi: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=01:00.0 pasid=0x00001 address=0xffbf8000 flags=0x0a00]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY, "amdvi-5.x-ivhd",
     1, 0, BDF(1, 0, 0), 0, 0, 1, SEED_ADDR, 1, 0xa00, 0, C_PASID, .pasid = 1},
    /* dump_dte_entry v4.9.80 pr_err("AMD-Vi: DTE[%d]: %016llx\n"); v5.15
     * pr_err("DTE[%d]: %016llx\n") + pr_fmt: the same text */
    {"amdvi DTE dump", "AMD-Vi: DTE[2]: 0000000000000000", KMSG_MATCH, KMSG_FAM_AMDVI,
     KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY, "amdvi-dte-dump", .chk = C_REASON | C_NUMBER,
     .reason = 2, .number = 0},
    {"amdvi DTE dump value", "AMD-Vi: DTE[0]: 6000000000000003", KMSG_MATCH, KMSG_FAM_AMDVI,
     KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY, "amdvi-dte-dump", .chk = C_REASON | C_NUMBER,
     .reason = 0, .number = 0x6000000000000003ull},
    /* v4.9.80 "DEV_TAB_HARDWARE_ERROR device=%02x:%02x.%x address=0x%016llx
     * flags=0x%04x]\n" */
    {"amdvi 4.9 DEV_TAB_HARDWARE_ERROR",
     "DEV_TAB_HARDWARE_ERROR device=00:14.0 address=0x00000000deadb000 flags=0x0100]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_DEV_TAB_HARDWARE_ERROR, "amdvi-split",
     1, 0, BDF(0, 0x14, 0), 0, 0, 1, 0xdeadb000ull, 1, 0x100},
    /* v6.1 "Event logged [DEV_TAB_HARDWARE_ERROR device=%04x:%02x:%02x.%x
     * address=0x%llx flags=0x%04x]\n" */
    {"amdvi 6.1 DEV_TAB_HARDWARE_ERROR",
     "iommu ivhd0: AMD-Vi: Event logged [DEV_TAB_HARDWARE_ERROR device=0000:00:14.0 address=0xdeadb000 flags=0x0100]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_DEV_TAB_HARDWARE_ERROR, "amdvi-6.1-seg-ivhd",
     1, 0, BDF(0, 0x14, 0), 0, 0, 1, 0xdeadb000ull, 1, 0x100},
    /* v4.9.80 "PAGE_TAB_HARDWARE_ERROR device=%02x:%02x.%x domain=0x%04x
     * address=0x%016llx flags=0x%04x]\n" */
    {"amdvi 4.9 PAGE_TAB_HARDWARE_ERROR",
     "PAGE_TAB_HARDWARE_ERROR device=01:00.0 domain=0x0003 address=0x0000000123456000 flags=0x0000]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_PAGE_TAB_HARDWARE_ERROR, "amdvi-split",
     1, 0, BDF(1, 0, 0), 1, 3, 1, 0x123456000ull, 1, 0},
    /* v5.15 "... PAGE_TAB_HARDWARE_ERROR device=%02x:%02x.%x pasid=0x%04x
     * address=0x%llx flags=0x%04x]" */
    {"amdvi 5.15 PAGE_TAB_HARDWARE_ERROR",
     "iommu ivhd0: AMD-Vi: Event logged [PAGE_TAB_HARDWARE_ERROR device=01:00.0 pasid=0x0003 address=0x123456000 flags=0x0000]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_PAGE_TAB_HARDWARE_ERROR, "amdvi-5.x-ivhd",
     1, 0, BDF(1, 0, 0), 0, 0, 1, 0x123456000ull, 1, 0, 0, C_PASID, .pasid = 3},
    /* v4.9.80 "ILLEGAL_COMMAND_ERROR address=0x%016llx]\n" */
    {"amdvi 4.9 ILLEGAL_COMMAND_ERROR", "ILLEGAL_COMMAND_ERROR address=0x0000000012345670]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_ILLEGAL_COMMAND_ERROR, "amdvi-split",
     0, 0, 0, 0, 0, 1, 0x12345670ull},
    {"amdvi CMD dump", "AMD-Vi: CMD[3]: 20000000", KMSG_MATCH, KMSG_FAM_AMDVI,
     KMSG_AMDVI_ILLEGAL_COMMAND_ERROR, "amdvi-cmd-dump", .chk = C_REASON | C_NUMBER,
     .reason = 3, .number = 0x20000000},
    /* v4.20 dev_err "COMMAND_HARDWARE_ERROR address=0x%016llx flags=0x%04x]" */
    {"amdvi 4.20 COMMAND_HARDWARE_ERROR",
     "iommu ivhd0: COMMAND_HARDWARE_ERROR address=0x0000000012345670 flags=0x0020]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_COMMAND_HARDWARE_ERROR, "amdvi-split",
     0, 0, 0, 0, 0, 1, 0x12345670ull, 1, 0x20},
    /* v5.15 "Event logged [IOTLB_INV_TIMEOUT device=%02x:%02x.%x
     * address=0x%llx]\n" */
    {"amdvi 5.15 IOTLB_INV_TIMEOUT",
     "iommu ivhd0: AMD-Vi: Event logged [IOTLB_INV_TIMEOUT device=02:00.1 address=0x7fff0000]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IOTLB_INV_TIMEOUT, "amdvi-5.x-ivhd",
     1, 0, BDF(2, 0, 1), 0, 0, 1, 0x7fff0000ull},
    /* v4.9.80 "IOTLB_INV_TIMEOUT device=%02x:%02x.%x address=0x%016llx]\n" */
    {"amdvi 4.9 IOTLB_INV_TIMEOUT",
     "IOTLB_INV_TIMEOUT device=02:00.1 address=0x000000007fff0000]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_IOTLB_INV_TIMEOUT, "amdvi-split",
     1, 0, BDF(2, 0, 1), 0, 0, 1, 0x7fff0000ull},
    /* v4.9.80 "INVALID_DEVICE_REQUEST device=%02x:%02x.%x address=0x%016llx
     * flags=0x%04x]\n" */
    {"amdvi 4.9 INVALID_DEVICE_REQUEST",
     "INVALID_DEVICE_REQUEST device=01:00.0 address=0x00000000fee00000 flags=0x0040]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_INVALID_DEVICE_REQUEST, "amdvi-split",
     1, 0, BDF(1, 0, 0), 0, 0, 1, 0xfee00000ull, 1, 0x40},
    /* v6.1 "Event logged [INVALID_DEVICE_REQUEST device=%04x:%02x:%02x.%x
     * pasid=0x%05x address=0x%llx flags=0x%04x]\n" */
    {"amdvi 6.1 INVALID_DEVICE_REQUEST",
     "iommu ivhd1: AMD-Vi: Event logged [INVALID_DEVICE_REQUEST device=0000:01:00.0 pasid=0x00000 address=0xfee00000 flags=0x0040]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_INVALID_DEVICE_REQUEST, "amdvi-6.1-seg-ivhd",
     1, 0, BDF(1, 0, 0), 0, 0, 1, 0xfee00000ull, 1, 0x40},
    /* v4.20 "INVALID_PPR_REQUEST device=%02x:%02x.%x pasid=0x%05x
     * address=0x%016llx flags=0x%04x]\n" */
    {"amdvi 4.20 INVALID_PPR_REQUEST",
     "iommu ivhd0: INVALID_PPR_REQUEST device=01:00.0 pasid=0x00005 address=0x0000000000001000 flags=0x0010]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_INVALID_PPR_REQUEST, "amdvi-split",
     1, 0, BDF(1, 0, 0), 0, 0, 1, 0x1000, 1, 0x10, 0, C_PASID, .pasid = 5},
    /* v5.15 "... flags=0x%04x tag=0x%03x]\n" */
    {"amdvi 5.15 INVALID_PPR_REQUEST",
     "iommu ivhd0: AMD-Vi: Event logged [INVALID_PPR_REQUEST device=01:00.0 pasid=0x00005 address=0x1000 flags=0x0010 tag=0x01f]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_INVALID_PPR_REQUEST, "amdvi-5.x-ivhd",
     1, 0, BDF(1, 0, 0), 0, 0, 1, 0x1000, 1, 0x10, 0, C_PASID | C_NUMBER, .pasid = 5,
     .number = 0x1f},
    /* v5.15 amd_iommu_report_rmp_fault pr_err_ratelimited("Event logged
     * [RMP_PAGE_FAULT device=%02x:%02x.%x, vmg_tag=0x%04x, gpa=0x%llx,
     * flags_rmp=0x%04x, flags=0x%04x]\n") */
    {"amdvi 5.15 RMP_PAGE_FAULT",
     "AMD-Vi: Event logged [RMP_PAGE_FAULT device=01:00.0, vmg_tag=0x0001, gpa=0x7f000, flags_rmp=0x0003, flags=0x0020]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_RMP_PAGE_FAULT, "amdvi-5.x",
     1, 0, BDF(1, 0, 0), 0, 0, 1, 0x7f000, 1, 0x20, 0, C_REASON | C_NUMBER, .reason = 3,
     .number = 1},
    /* v6.1 pci_err(pdev, "Event logged [RMP_PAGE_FAULT vmg_tag=0x%04x,
     * gpa=0x%llx, flags_rmp=0x%04x, flags=0x%04x]\n") */
    {"amdvi 6.1 RMP_PAGE_FAULT pci_err",
     "pci 0000:01:00.0: AMD-Vi: Event logged [RMP_PAGE_FAULT vmg_tag=0x0001, gpa=0x7f000, flags_rmp=0x0003, flags=0x0020]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_RMP_PAGE_FAULT, "amdvi-dev",
     1, 0, BDF(1, 0, 0), 0, 0, 1, 0x7f000, 1, 0x20},
    /* v6.1 pr_err_ratelimited("Event logged [RMP_HW_ERROR device=%04x:%02x:
     * %02x.%x, vmg_tag=0x%04x, spa=0x%llx, flags=0x%04x]\n") */
    {"amdvi 6.1 RMP_HW_ERROR",
     "AMD-Vi: Event logged [RMP_HW_ERROR device=0000:01:00.0, vmg_tag=0x0002, spa=0x100000, flags=0x0001]",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_RMP_HW_ERROR, "amdvi-6.1-seg",
     1, 0, BDF(1, 0, 0), 0, 0, 1, 0x100000, 1, 0x1, 0, C_NUMBER, .number = 2},
    /* v4.9.80 printk(KERN_ERR "UNKNOWN type=0x%02x]\n") */
    {"amdvi 4.9 UNKNOWN type", "UNKNOWN type=0x09]", KMSG_MATCH, KMSG_FAM_AMDVI,
     KMSG_AMDVI_UNKNOWN_EVENT, "amdvi-unknown-4.x", .chk = C_REASON, .reason = 9},
    /* v4.20 dev_err(dev, "UNKNOWN event[0]=0x%08x event[1]=0x%08x
     * event[2]=0x%08x event[3]=0x%08x\n") */
    {"amdvi 4.20 UNKNOWN event",
     "iommu ivhd0: UNKNOWN event[0]=0x00000100 event[1]=0xd0000000 event[2]=0x00001000 event[3]=0x00000000",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_UNKNOWN_EVENT, "amdvi-unknown",
     0, 0, 0, 0, 0, 1, 0x1000, .chk = C_REASON | C_DETAIL, .reason = 0xd,
     .detail = "0x00000100 0xd0000000 0x00001000 0x00000000"},
    /* v5.15 / v6.1 "Event logged [UNKNOWN event[0]=0x%08x ..." */
    {"amdvi 6.1 UNKNOWN event",
     "iommu ivhd0: AMD-Vi: Event logged [UNKNOWN event[0]=0x00000100 event[1]=0xa0000000 event[2]=0x00000000 event[3]=0x00000001",
     KMSG_MATCH, KMSG_FAM_AMDVI, KMSG_AMDVI_UNKNOWN_EVENT, "amdvi-unknown",
     0, 0, 0, 0, 0, 1, 0x100000000ull, .chk = C_REASON, .reason = 0xa},
    /* wait_on_sem v4.9.80 pr_alert("AMD-Vi: Completion-Wait loop timed
     * out\n"); v5.15/v6.1 pr_alert("Completion-Wait loop timed out\n") */
    {"amdvi Completion-Wait", "AMD-Vi: Completion-Wait loop timed out", KMSG_MATCH,
     KMSG_FAM_AMDVI, KMSG_AMDVI_COMPLETION_WAIT_TIMEOUT, "amdvi-completion-wait"},
    /* v5.15.55 / v6.1 amd_iommu_int_thread pr_info_ratelimited("IOMMU event
     * log overflow\n") */
    {"amdvi event log overflow", "AMD-Vi: IOMMU event log overflow", KMSG_MATCH,
     KMSG_FAM_AMDVI, KMSG_AMDVI_EVENT_OVERFLOW, "amdvi-evt-overflow"},

    /* ---- AMD-Vi look-alikes that must not match ---- */
    {"amdvi neg: trailing text",
     "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070] x",
     KMSG_NO_MATCH},
    {"amdvi neg: longer event name", "IO_PAGE_FAULTS device=00:00.0 domain=0x0000", KMSG_NO_MATCH},
    {"amdvi neg: IO_PAGE_FAULT without domain",
     "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 address=0xffbf8000 flags=0x0070]",
     KMSG_NO_MATCH},
    {"amdvi neg: unknown key",
     "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0xffbf8000 flags=0x0070 vflags=0x1]",
     KMSG_NO_MATCH},
    {"amdvi neg: device twice",
     "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 device=00:00.0 domain=0x0000 address=0x0 flags=0x0070]",
     KMSG_NO_MATCH},
    {"amdvi neg: slot out of range",
     "IO_PAGE_FAULT device=00:20.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]",
     KMSG_NO_MATCH},
    {"amdvi neg: pci_err form that also names device=",
     "pci 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.0 domain=0x000b address=0xffbf8000 flags=0x0020]",
     /* not an AMD-Vi event: only a driver's line naming its device */
     KMSG_MATCH, KMSG_FAM_CONTEXT, KMSG_CTX_DEVICE, "ctx-dev-line"},
    {"amdvi neg: boot line", "AMD-Vi: Lazy IO/TLB flushing enabled", KMSG_MATCH, KMSG_FAM_CONTEXT,
     KMSG_CTX_IOMMU_ON, "ctx-amdvi-lazy"},
    {"amdvi neg: a sentence mentioning the event",
     "I see IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x0 flags=0x0070]", KMSG_NO_MATCH},
    {"amdvi neg: no hex after 0x",
     "IO_PAGE_FAULT device=00:00.0 domain=0x address=0x00000000ffbf8000 flags=0x0070]",
     KMSG_NO_MATCH},

    /* ---- ARM SMMU v2 ---- */
    /* v4.9.80 drivers/iommu/arm-smmu.c arm_smmu_context_fault
     * dev_err_ratelimited(smmu->dev, "Unhandled context fault: fsr=0x%x,
     * iova=0x%08lx, fsynr=0x%x, cb=%d\n") */
    {"smmu v2 4.9",
     "arm-smmu 2b400000.iommu: Unhandled context fault: fsr=0x402, iova=0xffbf8000, fsynr=0x10011, cb=0",
     KMSG_MATCH, KMSG_FAM_SMMU, KMSG_SMMU_CONTEXT_FAULT, "smmu-v2-4.x",
     0, 0, 0, 1, 0, 1, SEED_ADDR, 1, 0x402, KMSG_DIR_WRITE, C_NUMBER, .number = 0x10011},
    /* v6.1 arm/arm-smmu/arm-smmu.c "... fsynr=0x%x, cbfrsynra=0x%x, cb=%d\n" */
    {"smmu v2 6.1",
     "arm-smmu 2b400000.iommu: Unhandled context fault: fsr=0x402, iova=0x00001000, fsynr=0x1, cbfrsynra=0x100, cb=3",
     KMSG_MATCH, KMSG_FAM_SMMU, KMSG_SMMU_CONTEXT_FAULT, "smmu-v2-5.x",
     0, 0, 0, 1, 3, 1, 0x1000, 1, 0x402, KMSG_DIR_READ, C_REASON, .reason = 0x100},
    {"smmu v2 neg: missing cb",
     "arm-smmu 2b400000.iommu: Unhandled context fault: fsr=0x402, iova=0x00001000, fsynr=0x1",
     KMSG_NO_MATCH},
    /* ---- SMMUv3 ---- */
    /* v4.9.80/v6.1 arm-smmu-v3.c: dev_info(smmu->dev, "event 0x%02x
     * received:\n") and "\t0x%016llx\n" per dword */
    {"smmuv3 event head", "arm-smmu-v3 arm-smmu-v3.0.auto: event 0x10 received:", KMSG_MATCH,
     KMSG_FAM_SMMU, KMSG_SMMU_EVENT, "smmuv3-event", .chk = C_REASON | C_DETAIL, .reason = 0x10,
     .detail = "F_TRANSLATION"},
    {"smmuv3 raw dword", "arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000010000000010", KMSG_MATCH,
     KMSG_FAM_SMMU, KMSG_SMMU_EVENT, "smmuv3-dword", .chk = C_NUMBER,
     .number = 0x0000010000000010ull},
    /* mainline arm_smmu_dump_event: "event: %s client: %s sid: %#x ssid: %#x
     * iova: %#llx ipa: %#llx" */
    {"smmuv3 named event",
     "arm-smmu-v3 arm-smmu-v3.0.auto: event: F_TRANSLATION client: 0000:01:00.0 sid: 0x100 ssid: 0 iova: 0xffbf8000 ipa: 0",
     KMSG_MATCH, KMSG_FAM_SMMU, KMSG_SMMU_EVENT, "smmuv3-named",
     1, 0, BDF(1, 0, 0), 0, 0, 1, SEED_ADDR, .chk = C_REASON | C_NUMBER, .reason = 0x10,
     .number = 0x100},
    {"smmuv3 attributes",
     "arm-smmu-v3 arm-smmu-v3.0.auto: unpriv data write s1 \"Input address caused fault\" stag: 0",
     KMSG_MATCH, KMSG_FAM_SMMU, KMSG_SMMU_EVENT, "smmuv3-attrs", .dir = KMSG_DIR_WRITE},
    {"smmuv3 neg: made-up event name",
     "arm-smmu-v3 arm-smmu-v3.0.auto: event: F_NOPE client: x sid: 0x1 ssid: 0", KMSG_NO_MATCH},

    /* ---- dma-debug ---- */
    /* v6.1 kernel/dma/debug.c err_printk WARN(1, pr_fmt("%s %s: ") format)
     * check_unmap "device driver tries to free DMA memory it has not
     * allocated [device address=0x%016llx] [size=%llu bytes]\n" */
    {"dma-debug 6.1 free unallocated",
     "DMA-API: ecp5_dma 0000:01:00.0: device driver tries to free DMA memory it has not allocated [device address=0x00000000ffbf8000] [size=4096 bytes]",
     KMSG_MATCH, KMSG_FAM_DMA_DEBUG, KMSG_DMA_DEBUG, "dma-debug-5.x",
     1, 0, BDF(1, 0, 0), 0, 0, 1, SEED_ADDR, .chk = C_NUMBER | C_PRINTER, .number = 4096,
     .printer = "ecp5_dma", .pbdf = BDF(1, 0, 0)},
    /* v4.9.80 lib/dma-debug.c WARN(1, "%s %s: " format) with "DMA-API: device
     * driver ..." formats */
    {"dma-debug 4.9 free unallocated",
     "ecp5_dma 0000:01:00.0: DMA-API: device driver tries to free DMA memory it has not allocated [device address=0x00000000ffbf8000] [size=4096 bytes]",
     KMSG_MATCH, KMSG_FAM_DMA_DEBUG, KMSG_DMA_DEBUG, "dma-debug-4.x",
     1, 0, BDF(1, 0, 0), 0, 0, 1, SEED_ADDR, .chk = C_NUMBER | C_DETAIL, .number = 4096,
     .detail = "device driver tries to free DMA memory it has not allocated [device address=0x00000000ffbf8000] [size=4096 bytes]"},
    {"dma-debug 4.9 as WARN prints it",
     "DMA-API: ecp5_dma 0000:01:00.0: DMA-API: device driver frees DMA memory with different size [device address=0x0000000012340000] [map size=8192 bytes] [unmap size=4096 bytes]",
     KMSG_MATCH, KMSG_FAM_DMA_DEBUG, KMSG_DMA_DEBUG, "dma-debug-4.x",
     1, 0, BDF(1, 0, 0), 0, 0, 1, 0x12340000ull},
    /* 4.x WARN text on a device that is no PCI function (kuba-moo/mt7601u#23):
     * check_for_stack "device driver maps memory from stack [addr=%p]" */
    {"dma-debug 4.x on a platform device",
     "dwc_otg bcm2708_usb: DMA-API: device driver maps memory from stack [addr=aa217c54]",
     KMSG_MATCH, KMSG_FAM_DMA_DEBUG, KMSG_DMA_DEBUG, "dma-debug-4.x",
     0, 0, 0, .chk = C_DETAIL,
     .detail = "device driver maps memory from stack [addr=aa217c54]"},
    /* wrapped before its bracketed values (boundarydevices/linux PR 4) */
    {"dma-debug 4.x wrapped before the values",
     "net eth0: DMA-API: device driver tries to free DMA memory it", KMSG_PARTIAL},
    {"dma-debug 4.x joined, cut inside [size=",
     "net eth0: DMA-API: device driver tries to free DMA memory it has not allocated [device address=0x00000000443d7040] [size=2048",
     KMSG_MATCH, KMSG_FAM_DMA_DEBUG, KMSG_DMA_DEBUG, "dma-debug-4.x",
     0, 0, 0, 0, 0, 1, 0x443d7040ull, .chk = C_NUMBER, .number = 2048},
    {"dma-debug 6.1 wrapped before the values",
     "DMA-API: ecp5_dma 0000:01:00.0: device driver frees DMA memory with", KMSG_PARTIAL},
    /* check_unmap's one sentence without values: whole as it is */
    {"dma-debug free invalid address",
     "DMA-API: ecp5_dma 0000:01:00.0: device driver tries to free an invalid DMA memory address",
     KMSG_MATCH, KMSG_FAM_DMA_DEBUG, KMSG_DMA_DEBUG, "dma-debug-5.x", 1, 0, BDF(1, 0, 0)},
    {"dma-debug out of memory", "DMA-API: debugging out of memory - disabling", KMSG_MATCH,
     KMSG_FAM_DMA_DEBUG, KMSG_DMA_DEBUG, "dma-debug-global", .chk = C_DETAIL,
     .detail = "debugging out of memory - disabling"},
    {"dma-debug neg: preallocated", "DMA-API: preallocated 65536 debug entries", KMSG_NO_MATCH},
    {"dma-debug neg: 4.x prefix, other sentence",
     "ecp5_dma 0000:01:00.0: DMA-API: hello", KMSG_NO_MATCH},

    /* ---- swiotlb ---- */
    /* v4.9.80 lib/swiotlb.c dev_warn(hwdev, "swiotlb buffer is full (sz: %zd
     * bytes)\n") */
    {"swiotlb 4.9", "ecp5_dma 0000:01:00.0: swiotlb buffer is full (sz: 8192 bytes)", KMSG_MATCH,
     KMSG_FAM_SWIOTLB, KMSG_SWIOTLB_FULL, "swiotlb-full-4.x", 1, 0, BDF(1, 0, 0),
     .chk = C_NUMBER, .number = 8192},
    /* v6.1 kernel/dma/swiotlb.c "swiotlb buffer is full (sz: %zd bytes), total
     * %lu (slots), used %lu (slots)\n" */
    {"swiotlb 6.1",
     "ecp5_dma 0000:01:00.0: swiotlb buffer is full (sz: 8192 bytes), total 32768 (slots), used 32760 (slots)",
     KMSG_MATCH, KMSG_FAM_SWIOTLB, KMSG_SWIOTLB_FULL, "swiotlb-full-5.x", 1, 0, BDF(1, 0, 0),
     1, 32768, 0, 0, 1, 32760, .chk = C_NUMBER, .number = 8192},
    /* v4.9.80 swiotlb_full printk(KERN_ERR "DMA: Out of SW-IOMMU space for
     * %zu bytes at device %s\n") */
    {"SW-IOMMU space", "DMA: Out of SW-IOMMU space for 65536 bytes at device 0000:01:00.0",
     KMSG_MATCH, KMSG_FAM_SWIOTLB, KMSG_SW_IOMMU_SPACE, "sw-iommu-space", 1, 0, BDF(1, 0, 0),
     .chk = C_NUMBER, .number = 65536},
    /* the 6.1 line wrapped after "bytes)," (Dstack-TEE/dstack PR 1192) */
    {"swiotlb 6.1 wrapped after bytes),",
     "virtio-pci 0000:00:02.0: swiotlb buffer is full (sz: 262144 bytes),", KMSG_PARTIAL},
    {"swiotlb 6.1 wrapped inside a number",
     "virtio-pci 0000:00:02.0: swiotlb buffer is full (sz: 262144 bytes), total 5242", KMSG_PARTIAL},
    {"swiotlb 6.1 joined",
     "virtio-pci 0000:00:02.0: swiotlb buffer is full (sz: 262144 bytes), total 524288 (slots), used 523564 (slots)",
     KMSG_MATCH, KMSG_FAM_SWIOTLB, KMSG_SWIOTLB_FULL, "swiotlb-full-5.x", 1, 0, BDF(0, 2, 0),
     1, 524288, 0, 0, 1, 523564, .chk = C_NUMBER, .number = 262144},
    {"swiotlb neg: other text after",
     "virtio-pci 0000:00:02.0: swiotlb buffer is full (sz: 262144 bytes); later", KMSG_NO_MATCH},
    {"swiotlb neg: size missing", "ecp5_dma 0000:01:00.0: swiotlb buffer is full (sz: bytes)",
     KMSG_NO_MATCH},

    /* ---- AER ---- */
    /* v4.9.80 aerdrv_errprint.c dev_info "AER: %s%s error received: id=%04x" */
    {"aer 4.9 received", "pcieport 0000:00:1c.0: AER: Corrected error received: id=00e0",
     KMSG_MATCH, KMSG_FAM_AER, KMSG_AER, "aer-4.x-received", 1, 0, BDF(0, 0x1c, 0),
     .chk = C_DETAIL, .detail = "Corrected"},
    /* v6.1 aer.c pci_info "%s%s error received: %04x:%02x:%02x.%d" + "AER: " */
    {"aer 6.1 received",
     "pcieport 0000:00:1c.0: AER: Multiple Uncorrected (Non-Fatal) error received: 0000:01:00.0",
     KMSG_MATCH, KMSG_FAM_AER, KMSG_AER, "aer-5.x-received", 1, 0, BDF(1, 0, 0),
     .chk = C_DETAIL | C_PRINTER, .detail = "Multiple Uncorrected (Non-Fatal)",
     .printer = "pcieport", .pbdf = BDF(0, 0x1c, 0)},
    /* v4.9.80 "PCIe Bus Error: severity=%s, type=%s, id=%04x(%s)" */
    {"aer 4.9 bus error",
     "pcieport 0000:00:1c.0: PCIe Bus Error: severity=Corrected, type=Physical Layer, id=00e0(Receiver ID)",
     KMSG_MATCH, KMSG_FAM_AER, KMSG_AER, "aer-4.x-bus-error", 1, 0, BDF(0, 0x1c, 0)},
    /* v6.1 "PCIe Bus Error: severity=%s, type=%s, (%s)" */
    {"aer 6.1 bus error",
     "ecp5_dma 0000:01:00.0: AER: PCIe Bus Error: severity=Uncorrected (Non-Fatal), type=Transaction Layer, (Requester ID)",
     KMSG_MATCH, KMSG_FAM_AER, KMSG_AER, "aer-5.x-bus-error", 1, 0, BDF(1, 0, 0),
     .chk = C_DETAIL,
     .detail = "Uncorrected (Non-Fatal), type=Transaction Layer, (Requester ID)"},
    /* "  device [%04x:%04x] error status/mask=%08x/%08x" (4.9.80, 6.1) */
    {"aer status/mask", "igb 0000:01:00.0:   device [8086:15b8] error status/mask=00100000/00000000",
     KMSG_MATCH, KMSG_FAM_AER, KMSG_AER, "aer-status", 1, 0, BDF(1, 0, 0), 0, 0, 0, 0, 1,
     0x00100000, .chk = C_DETAIL | C_NUMBER, .detail = "8086:15b8", .number = 0},
    /* "   [%2d] %-22s%s": 6.1 names (Timeout, UnsupReq, CmpltAbrt, UnxCmplt)
     * and 4.9.80 names (Unsupported Request, Completer Abort, ...) */
    {"aer 6.1 bit Timeout", "pcieport 0000:00:1c.0: AER:    [12] Timeout               ",
     KMSG_MATCH, KMSG_FAM_AER, KMSG_AER, "aer-bit", 1, 0, BDF(0, 0x1c, 0),
     .chk = C_REASON | C_DETAIL, .reason = 12,
     .detail = "Timeout"},
    {"aer 4.9 bit Unsupported Request",
     "ecp5_dma 0000:01:00.0:    [20] Unsupported Request    (First)", KMSG_MATCH, KMSG_FAM_AER,
     KMSG_AER, "aer-bit", 1, 0, BDF(1, 0, 0), .chk = C_REASON | C_DETAIL, .reason = 20,
     .detail = "Unsupported Request    (First)"},
    {"aer 4.9 bit Completer Abort", "ecp5_dma 0000:01:00.0:    [15] Completer Abort       ",
     KMSG_MATCH, KMSG_FAM_AER, KMSG_AER, "aer-bit", 1, 0, BDF(1, 0, 0),
     .chk = C_REASON | C_DETAIL, .reason = 15,
     .detail = "Completer Abort"},
    {"aer 4.9 bit Unexpected Completion", "ecp5_dma 0000:01:00.0:    [16] Unexpected Completion ",
     KMSG_MATCH, KMSG_FAM_AER, KMSG_AER, "aer-bit", 1, 0, BDF(1, 0, 0),
     .chk = C_REASON | C_DETAIL, .reason = 16,
     .detail = "Unexpected Completion"},
    {"aer TLP header", "ecp5_dma 0000:01:00.0:   TLP Header: 40000001 0000000f ffbf8000 00000000",
     KMSG_MATCH, KMSG_FAM_AER, KMSG_AER, "aer-tlp-header", 1, 0, BDF(1, 0, 0), .chk = C_DETAIL,
     .detail = "40000001 0000000f ffbf8000 00000000"},
    {"aer neg: received without AER tag",
     "pcieport 0000:00:1c.0: Corrected error received: id=00e0", KMSG_MATCH, KMSG_FAM_CONTEXT,
     KMSG_CTX_DEVICE, "ctx-dev-line"},

    /* ---- context ---- */
    {"ctx Linux version", "Linux version 4.9.80 (root@build) (gcc version 6.3.0 20170516) #1 SMP",
     KMSG_MATCH, KMSG_FAM_CONTEXT, KMSG_CTX_KERNEL_VERSION, "ctx-linux-version",
     .chk = C_DETAIL, .detail = "4.9.80"},
    {"ctx Kernel command line", "Kernel command line: BOOT_IMAGE=/vmlinuz root=/dev/sda1 iommu=soft",
     KMSG_MATCH, KMSG_FAM_CONTEXT, KMSG_CTX_CMDLINE, "ctx-cmdline", .chk = C_DETAIL,
     .detail = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 iommu=soft"},
    {"ctx Command line (x86 setup)", "Command line: iommu=off", KMSG_MATCH, KMSG_FAM_CONTEXT,
     KMSG_CTX_CMDLINE, "ctx-cmdline", .chk = C_DETAIL, .detail = "iommu=off"},
    {"ctx AMD-Vi found 4.9", "AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40", KMSG_MATCH,
     KMSG_FAM_CONTEXT, KMSG_CTX_IOMMU_ON, "ctx-amdvi-found"},
    {"ctx AMD-Vi found 5.15", "pci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40", KMSG_MATCH,
     KMSG_FAM_CONTEXT, KMSG_CTX_IOMMU_ON, "ctx-amdvi-found"},
    {"ctx AMD-Vi IR", "AMD-Vi: Interrupt remapping enabled", KMSG_MATCH, KMSG_FAM_CONTEXT,
     KMSG_CTX_IOMMU_ON, "ctx-amdvi-ir"},
    {"ctx swiotlb (IOMMU off)", "PCI-DMA: Using software bounce buffering for IO (SWIOTLB)",
     KMSG_MATCH, KMSG_FAM_CONTEXT, KMSG_CTX_IOMMU_OFF, "ctx-swiotlb"},
    {"ctx group 4.9", "iommu: Adding device 0000:01:00.0 to group 5", KMSG_MATCH,
     KMSG_FAM_CONTEXT, KMSG_CTX_IOMMU_GROUP, "ctx-group-4.x", 1, 0, BDF(1, 0, 0),
     .chk = C_NUMBER, .number = 5},
    {"ctx group 5.15", "pci 0000:01:00.0: Adding to iommu group 5", KMSG_MATCH, KMSG_FAM_CONTEXT,
     KMSG_CTX_IOMMU_GROUP, "ctx-group-5.x", 1, 0, BDF(1, 0, 0), .chk = C_NUMBER, .number = 5},
    {"ctx pci enumeration", "pci 0000:01:00.0: [1204:5045] type 00 class 0x118000", KMSG_MATCH,
     KMSG_FAM_CONTEXT, KMSG_CTX_DEVICE, "ctx-pci-enum", 1, 0, BDF(1, 0, 0),
     .chk = C_REASON | C_NUMBER, .reason = 0x118000, .number = 0x12045045},
    {"ctx driver line", "ecp5_dma 0000:01:00.0: enabling device (0000 -> 0002)", KMSG_MATCH,
     KMSG_FAM_CONTEXT, KMSG_CTX_DEVICE, "ctx-dev-line", 1, 0, BDF(1, 0, 0), .chk = C_DETAIL,
     .detail = "enabling device (0000 -> 0002)"},
    {"neg: plain text", "hello world", KMSG_NO_MATCH},
    {"neg: usb device line", "usb 1-1: new high-speed USB device number 2 using xhci_hcd",
     KMSG_NO_MATCH},
    {"neg: empty", "", KMSG_NO_MATCH},
};

static void run_case(void **state)
{
    const struct kcase *k = *state;
    struct kmsg m;
    memset(&m, 0, sizeof m);
    enum kmsg_status st = kmsg_parse(k->line, strlen(k->line), &m);
    if (st != k->st)
        fail_msg("%s: status %d, want %d for \"%s\"", k->name, st, k->st, k->line);
    if (st != KMSG_MATCH)
        return;
    assert_int_equal(m.family, k->fam);
    assert_int_equal(m.kind, k->kind);
    assert_string_equal(m.format, k->format);
    if (k->fam == KMSG_FAM_CONTEXT && !k->has_bdf)
        goto opt;
    assert_int_equal(m.has_bdf, k->has_bdf);
    if (k->has_bdf) {
        assert_int_equal(m.segment, k->seg);
        assert_int_equal(m.bdf, k->bdf);
    }
    if (k->fam != KMSG_FAM_AER) {
        assert_int_equal(m.has_domain, k->has_domain);
        if (k->has_domain)
            assert_int_equal(m.domain, k->domain);
        assert_int_equal(m.has_addr, k->has_addr);
    }
    if (k->has_addr)
        assert_int_equal(m.addr, k->addr);
    if (k->has_flags) {
        assert_true(m.has_flags);
        assert_int_equal(m.flags, k->flags);
    }
    assert_int_equal(m.dir, k->dir);
opt:
    if (k->chk & C_REASON) {
        assert_true(m.has_reason);
        assert_int_equal(m.reason, k->reason);
    }
    if (k->chk & C_NUMBER)
        assert_int_equal(m.number, k->number);
    if (k->chk & C_DETAIL)
        assert_string_equal(m.detail, k->detail);
    if (k->chk & C_PASID) {
        assert_true(m.has_pasid);
        assert_int_equal(m.pasid, k->pasid);
    }
    if (k->chk & C_PRINTER) {
        assert_true(m.has_printer);
        assert_string_equal(m.printer_driver, k->printer);
        assert_int_equal(m.printer_bdf, k->pbdf);
    }
}

/* The split 4.9 form read the way a caller does it: the head alone is
 * PARTIAL, the head with the next record appended matches. */
static void test_partial_then_join(void **state)
{
    (void)state;
    struct kmsg m;
    const char *head = "AMD-Vi: Event logged [";
    const char *rest = "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]";
    char joined[256];
    assert_int_equal(kmsg_parse(head, strlen(head), &m), KMSG_PARTIAL);
    snprintf(joined, sizeof joined, "%s%s", head, rest);
    assert_int_equal(kmsg_parse(joined, strlen(joined), &m), KMSG_MATCH);
    assert_int_equal(m.addr, SEED_ADDR);
    /* the seed's wrapped line, then the two pieces joined */
    const char *a = "IO_PAGE_FAULT device=00:00.0 domain=0x0000";
    const char *b = "address=0x00000000ffbf8000 flags=0x0070]";
    assert_int_equal(kmsg_parse(a, strlen(a), &m), KMSG_PARTIAL);
    assert_int_equal(kmsg_parse(b, strlen(b), &m), KMSG_NO_MATCH);
    snprintf(joined, sizeof joined, "%s %s", a, b);
    assert_int_equal(kmsg_parse(joined, strlen(joined), &m), KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_AMDVI_IO_PAGE_FAULT);
    assert_int_equal(m.bdf, 0);
    assert_int_equal(m.flags, 0x70);
}

/* text need not be NUL-terminated: a length that cuts a line short. */
static void test_not_nul_terminated(void **state)
{
    (void)state;
    struct kmsg m;
    const char *s = "AMD-Vi: Completion-Wait loop timed outXYZ";
    assert_int_equal(kmsg_parse(s, strlen(s) - 3, &m), KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_AMDVI_COMPLETION_WAIT_TIMEOUT);
    assert_int_equal(kmsg_parse(s, strlen(s), &m), KMSG_NO_MATCH);
    /* a line cut inside the address */
    s = "AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0xffbf8000 flags=0x0070]";
    assert_int_equal(kmsg_parse(s, 60, &m), KMSG_PARTIAL);
}

/* 48882 2.5.3: flags 0x0070 = PR|RW|PE (the seed's: a write, to a present
 * page, denied by permission); every bit's name; reserved bits as hex. */
static void test_amdvi_flags(void **state)
{
    (void)state;
    char b[64];
    kmsg_amdvi_flags_str(0x0070, b, sizeof b);
    assert_string_equal(b, "PR|RW|PE");
    kmsg_amdvi_flags_str(0x0000, b, sizeof b);
    assert_string_equal(b, "-");
    kmsg_amdvi_flags_str(0x01ff, b, sizeof b);
    assert_string_equal(b, "GN|NX|US|I|PR|RW|PE|RZ|TR");
    kmsg_amdvi_flags_str(0x0a08, b, sizeof b);
    assert_string_equal(b, "I|0xa00");
    kmsg_amdvi_flags_str(0x0070, b, 4); /* truncated, still terminated */
    assert_true(strlen(b) < 4);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(kmsg_kind_name(KMSG_AMDVI_IO_PAGE_FAULT), "IO_PAGE_FAULT");
    assert_string_equal(kmsg_kind_name(KMSG_AMDVI_ILLEGAL_DEV_TABLE_ENTRY), "ILLEGAL_DEV_TABLE_ENTRY");
    assert_string_equal(kmsg_kind_name(KMSG_AMDVI_RMP_HW_ERROR), "RMP_HW_ERROR");
    assert_string_equal(kmsg_family_name(KMSG_FAM_AMDVI), "amd-vi");
    assert_string_equal(kmsg_family_name(KMSG_FAM_VTD), "vt-d");
    assert_string_equal(kmsg_family_name(KMSG_FAM_SMMU), "smmu");
    assert_string_equal(kmsg_family_name(KMSG_FAM_DMA_DEBUG), "dma-debug");
    assert_string_equal(kmsg_family_name(KMSG_FAM_SWIOTLB), "swiotlb");
    assert_string_equal(kmsg_family_name(KMSG_FAM_AER), "aer");
    for (int k = KMSG_UNKNOWN_KIND; k <= KMSG_CTX_RMRR_IVMD; k++)
        assert_non_null(kmsg_kind_name((enum kmsg_kind)k));
}

/* The dispatcher reaches the VT-d parser (kmsg_vtd.c) behind its keyword. */
static void test_dispatch_vtd(void **state)
{
    (void)state;
    struct kmsg m;
    const char *s = "DMAR: [DMA Write NO_PASID] Request device [00:00.0] fault addr 0xffbf8000 "
                    "[fault reason 0x05] PTE Write access is not set";
    assert_int_equal(kmsg_parse(s, strlen(s), &m), KMSG_MATCH);
    assert_int_equal(m.family, KMSG_FAM_VTD);
    assert_int_equal(m.kind, KMSG_VTD_DMA_FAULT);
}

int main(void)
{
    size_t n = sizeof cases / sizeof cases[0];
    struct CMUnitTest *t = calloc(n + 5, sizeof *t);
    if (!t)
        return 1;
    for (size_t i = 0; i < n; i++) {
        t[i].name = cases[i].name;
        t[i].test_func = run_case;
        t[i].initial_state = (void *)&cases[i];
    }
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_partial_then_join),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_amdvi_flags),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_dispatch_vtd),
    };
    memcpy(t + n, fixed, sizeof fixed);
    int rc = _cmocka_run_group_tests("kmsg", t, n + 5, NULL, NULL);
    free(t);
    return rc;
}
