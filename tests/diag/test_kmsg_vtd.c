/* kmsg_parse_vtd: every VT-d message form, each line as the named kernel
 * version prints it (built from that version's format string, see the
 * comments in src/diag/kmsg_vtd.c), every fault reason's text, partial and
 * negative cases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "diag/kmsg.h"
#include "diag/kmsg_priv.h"

static enum kmsg_status parse(const char *s, struct kmsg *m)
{
    memset(m, 0xa5, sizeof *m); /* the parser must set every field it reports */
    return kmsg_parse_vtd(s, strlen(s), m);
}

#define BDF(b, d, f) ((uint16_t)((b) << 8 | (d) << 3 | (f)))

/* ---- DMA faults, one form per version range ---------------------------- */

/* v5.15 .. current: "[%s NO_PASID] Request device [%02x:%02x.%d] fault addr
 * 0x%llx [fault reason 0x%02x] %s" */
static void test_dma_5_15_no_pasid(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr "
                           "0x7fffe000 [fault reason 0x06] PTE Read access is not set",
                           &m),
                     KMSG_MATCH);
    assert_int_equal(m.family, KMSG_FAM_VTD);
    assert_int_equal(m.kind, KMSG_VTD_DMA_FAULT);
    assert_string_equal(m.format, "vtd-5.15");
    assert_true(m.has_bdf);
    assert_int_equal(m.segment, 0);
    assert_int_equal(m.bdf, BDF(0, 2, 0));
    assert_true(m.has_addr);
    assert_int_equal(m.addr, 0x7fffe000);
    assert_true(m.has_reason);
    assert_int_equal(m.reason, 6);
    assert_string_equal(m.detail, "PTE Read access is not set");
    assert_int_equal(m.dir, KMSG_DIR_READ);
    assert_false(m.has_pasid);
}

static void test_dma_5_15_write(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: [DMA Write NO_PASID] Request device [01:00.0] fault addr "
                           "0xffbf8000 [fault reason 0x05] PTE Write access is not set",
                           &m),
                     KMSG_MATCH);
    assert_int_equal(m.bdf, BDF(1, 0, 0));
    assert_int_equal(m.addr, 0xffbf8000u);
    assert_int_equal(m.reason, 5);
    assert_int_equal(m.dir, KMSG_DIR_WRITE);
    assert_string_equal(m.detail, "PTE Write access is not set");
}

/* v5.15 .. current with a PASID: "[%s PASID 0x%x] Request device ..." */
static void test_dma_5_15_pasid(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: [DMA Write PASID 0x1] Request device [3a:00.1] fault addr "
                           "0x7f12a000 [fault reason 0x71] SM: Present bit in first-level "
                           "paging entry is clear",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-5.15-pasid");
    assert_true(m.has_pasid);
    assert_int_equal(m.pasid, 1);
    assert_int_equal(m.bdf, BDF(0x3a, 0, 1));
    assert_int_equal(m.reason, 0x71);
    assert_string_equal(m.detail, "SM: Present bit in first-level paging entry is clear");
}

/* v4.7 .. v4.20: "[%s] Request device [%02x:%02x.%d] fault addr %llx
 * [fault reason %02d] %s" */
static void test_dma_4_7(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: [DMA Write] Request device [01:00.0] fault addr ffbf8000 "
                           "[fault reason 05] PTE Write access is not set",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-4.7");
    assert_int_equal(m.addr, 0xffbf8000u);
    assert_int_equal(m.reason, 5);
    assert_int_equal(m.dir, KMSG_DIR_WRITE);
    assert_false(m.has_pasid);
}

/* v5.1 .. v5.14: "[%s] Request device [..] PASID %x fault addr %llx
 * [fault reason %02d] %s"; pasid -1 when the record has none */
static void test_dma_5_1_pasid(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: [DMA Read] Request device [00:1f.6] PASID ffffffff fault "
                           "addr fffd3000 [fault reason 06] PTE Read access is not set",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-5.1-pasid");
    assert_false(m.has_pasid);
    assert_int_equal(m.bdf, BDF(0, 0x1f, 6));
    assert_int_equal(m.addr, 0xfffd3000u);
    assert_int_equal(m.dir, KMSG_DIR_READ);
}

/* v4.4 .. v4.6: the head alone is partial; the tail alone and both parse */
static void test_dma_4_4_split(void **state)
{
    (void)state;
    struct kmsg m;
    const char *head = "DMAR: DMAR:[DMA Write] Request device [01:00.0] fault addr ffbf8000 ";
    assert_int_equal(parse(head, &m), KMSG_PARTIAL);
    assert_int_equal(parse("DMAR:[fault reason 05] PTE Write access is not set", &m),
                     KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_VTD_DMA_FAULT);
    assert_string_equal(m.format, "vtd-4.4-tail");
    assert_int_equal(m.reason, 5);
    assert_false(m.has_bdf);
    assert_string_equal(m.detail, "PTE Write access is not set");
    assert_int_equal(parse("DMAR: DMAR:[DMA Write] Request device [01:00.0] fault addr ffbf8000 \n"
                           "DMAR:[fault reason 05] PTE Write access is not set",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-4.4-split");
    assert_int_equal(m.bdf, BDF(1, 0, 0));
    assert_int_equal(m.addr, 0xffbf8000u);
    assert_int_equal(m.reason, 5);
}

/* The segment is never printed in a fault line by any version read; a
 * "[ssss:bb:dd.f]" (as some vendor kernels and hand edits show) still parses. */
static void test_dma_segment(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: [DMA Read NO_PASID] Request device [0001:80:02.0] fault addr "
                           "0x1000 [fault reason 0x02] Present bit in context entry is clear",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-5.15-seg");
    assert_int_equal(m.segment, 1);
    assert_int_equal(m.bdf, BDF(0x80, 2, 0));
    assert_int_equal(m.reason, 2);
}

/* greearb/linux-ct-7.2 (7.2-based tree) prints iommu->segment:
 * "[%s NO_PASID] Request device [%04x:%02x:%02x.%d] fault addr 0x%llx ..." and
 * "[INTR-REMAP] Request device [%04x:%02x:%02x.%d] fault index 0x%llx ...". */
static void test_7x_segment(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: [DMA Write NO_PASID] Request device [0000:01:00.0] fault addr "
                           "0xffbf8000 [fault reason 0x05] PTE Write access is not set",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-5.15-seg");
    assert_int_equal(m.segment, 0);
    assert_int_equal(m.bdf, BDF(1, 0, 0));
    assert_int_equal(m.addr, 0xffbf8000u);
    assert_int_equal(parse("DMAR: [DMA Read PASID 0x2] Request device [0002:3b:00.0] fault addr "
                           "0x7000 [fault reason 0x79] SM: Read/Write permission error in "
                           "second-level paging entry",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-5.15-pasid-seg");
    assert_int_equal(m.segment, 2);
    assert_int_equal(m.pasid, 2);
    assert_int_equal(parse("DMAR: [INTR-REMAP] Request device [0000:00:1f.0] fault index 0x3 "
                           "[fault reason 0x22] Present field in the IRTE entry is clear",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-ir-5.15-seg");
    assert_int_equal(m.number, 3);
}

/* A one-line form wrapped by a mail after the address: the head is partial,
 * head + next record parses. */
static void test_dma_wrapped(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: [DMA Write NO_PASID] Request device [01:00.0] fault addr "
                           "0xffbf8000",
                           &m),
                     KMSG_PARTIAL);
    assert_int_equal(parse("DMAR: [DMA Write NO_PASID] Request device [01:00.0] fault addr "
                           "0xffbf8000 [fault rea",
                           &m),
                     KMSG_PARTIAL);
    assert_int_equal(parse("DMAR: [DMA Write NO_PASID] Request device [01:00.0] fault addr "
                           "0xffbf8000 [fault reason 0x05] PTE Write access",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.detail, "PTE Write access");
    /* reason cut after its number: the table's words */
    assert_int_equal(parse("DMAR: [DMA Write] Request device [01:00.0] fault addr ffbf8000 "
                           "[fault reason 05]",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.detail, "PTE Write access is not set");
}

/* ---- interrupt-remapping faults ---------------------------------------- */

/* v5.15 .. current: "[INTR-REMAP] Request device [%02x:%02x.%d] fault index
 * 0x%llx [fault reason 0x%02x] %s" */
static void test_ir_5_15(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: [INTR-REMAP] Request device [f0:1f.0] fault index 0x17 "
                           "[fault reason 0x26] Blocked an interrupt request due to source-id "
                           "verification failure",
                           &m),
                     KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_VTD_IR_FAULT);
    assert_string_equal(m.format, "vtd-ir-5.15");
    assert_int_equal(m.bdf, BDF(0xf0, 0x1f, 0));
    assert_int_equal(m.number, 0x17);
    assert_false(m.has_addr);
    assert_int_equal(m.reason, 0x26);
    assert_int_equal(m.dir, KMSG_DIR_NONE);
    assert_string_equal(m.detail,
                        "Blocked an interrupt request due to source-id verification failure");
}

/* v4.7 .. v5.14: "[INTR-REMAP] Request device [..] fault index %llx [fault
 * reason %02d] %s" (decimal: 0x22 prints as 34) */
static void test_ir_4_7(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: [INTR-REMAP] Request device [00:1f.2] fault index 1b "
                           "[fault reason 34] Present field in the IRTE entry is clear",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-ir-4.7");
    assert_int_equal(m.number, 0x1b);
    assert_int_equal(m.reason, 0x22);
}

/* v4.4 .. v4.6: "INTR-REMAP: Request device [[%02x:%02x.%d] fault index
 * %llx\nINTR-REMAP:[fault reason %02d] %s" */
static void test_ir_4_4_split(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: INTR-REMAP: Request device [[00:1f.2] fault index 1b", &m),
                     KMSG_PARTIAL);
    assert_int_equal(parse("INTR-REMAP:[fault reason 34] Present field in the IRTE entry is "
                           "clear",
                           &m),
                     KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_VTD_IR_FAULT);
    assert_string_equal(m.format, "vtd-ir-4.4-tail");
    assert_int_equal(m.reason, 0x22);
    assert_int_equal(parse("DMAR: INTR-REMAP: Request device [[00:1f.2] fault index 1b\n"
                           "INTR-REMAP:[fault reason 34] Present field in the IRTE entry is clear",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-ir-4.4-split");
    assert_int_equal(m.bdf, BDF(0, 0x1f, 2));
    assert_int_equal(m.number, 0x1b);
    /* a bare tail decides the kind by the code */
    assert_int_equal(parse("[fault reason 37] Blocked a compatibility format interrupt request",
                           &m),
                     KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_VTD_IR_FAULT);
    assert_int_equal(m.reason, 0x25);
}

/* ---- fault status, tables, RMRR, context --------------------------------- */

static void test_fault_status(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: DRHD: handling fault status reg 2", &m), KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_VTD_FAULT_STATUS);
    assert_int_equal(m.number, 2);
    assert_string_equal(m.format, "vtd-fsts");
    assert_int_equal(parse("DMAR: DRHD: handling fault status reg 40", &m), KMSG_MATCH);
    assert_int_equal(m.number, 0x40);
    assert_int_equal(parse("dmar: DRHD: handling fault status reg 3", &m), KMSG_MATCH);
    assert_int_equal(m.number, 3);
    assert_int_equal(parse("DMAR: DRHD: handling fault status reg", &m), KMSG_NO_MATCH);
    assert_int_equal(parse("DMAR: DRHD: handling fault status reg 2 x", &m), KMSG_NO_MATCH);
}

static void test_rmrr_table(void **state)
{
    (void)state;
    struct kmsg m;
    /* "%#016Lx": 0x and 14 digits */
    assert_int_equal(parse("DMAR: RMRR base: 0x000000bbd1b000 end: 0x000000bbd3afff", &m),
                     KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_CTX_RMRR_IVMD);
    assert_string_equal(m.format, "vtd-rmrr");
    assert_int_equal(m.addr, 0xbbd1b000u);
    assert_int_equal(m.number, 0xbbd3afffu);
    assert_string_equal(m.detail, "RMRR base: 0x000000bbd1b000 end: 0x000000bbd3afff");
    assert_int_equal(parse("DMAR: DRHD base: 0x000000fed90000 flags: 0x1", &m), KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_CTX_IOMMU_ON);
    assert_string_equal(m.format, "vtd-drhd");
    assert_int_equal(m.addr, 0xfed90000u);
    assert_int_equal(m.flags, 1);
    assert_int_equal(parse("DMAR: Setting identity map for device 0000:00:1d.0 "
                           "[0xbb7d8000 - 0xbb7e4fff]",
                           &m),
                     KMSG_MATCH);
    assert_string_equal(m.format, "vtd-identity-map");
    assert_true(m.has_bdf);
    assert_int_equal(m.bdf, BDF(0, 0x1d, 0));
    assert_int_equal(m.addr, 0xbb7d8000u);
    assert_int_equal(m.number, 0xbb7e4fffu);
    assert_int_equal(parse("IOMMU: Setting identity map for device 0000:00:02.0 "
                           "[0xad000000 - 0xaf1fffff]",
                           &m),
                     KMSG_MATCH);
    assert_int_equal(m.bdf, BDF(0, 2, 0));
    assert_int_equal(parse("DMAR: RMRR base: 0x000000bbd1b000", &m), KMSG_NO_MATCH);
}

static void test_rmrr_ineligible(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("vfio-pci 0000:01:00.1: Device is ineligible for IOMMU domain attach "
                           "due to platform RMRR requirement.  Contact your platform vendor.",
                           &m),
                     KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_VTD_RMRR_INELIGIBLE);
    assert_true(m.has_printer);
    assert_string_equal(m.printer_driver, "vfio-pci");
    assert_int_equal(m.printer_bdf, BDF(1, 0, 1));
    assert_true(m.has_bdf);
    assert_int_equal(m.bdf, BDF(1, 0, 1));
    /* v5.15 dev_fmt = pr_fmt "DMAR: " between the prefix and the text
     * (harvester/harvester#7340) */
    memset(&m, 0, sizeof m);
    assert_int_equal(parse("vfio-pci 0000:04:00.1: DMAR: Device is ineligible for IOMMU domain "
                           "attach due to platform RMRR requirement.  Contact your platform vendor.",
                           &m),
                     KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_VTD_RMRR_INELIGIBLE);
    assert_true(m.has_printer);
    assert_string_equal(m.printer_driver, "vfio-pci");
    assert_true(m.has_bdf);
    assert_int_equal(m.segment, 0);
    assert_int_equal(m.bdf, BDF(4, 0, 1));
    /* another tag there is not the dev_warn prefix */
    assert_int_equal(parse("vfio-pci 0000:04:00.1: XYZ: Device is ineligible for IOMMU domain "
                           "attach due to platform RMRR requirement.",
                           &m),
                     KMSG_MATCH);
    assert_false(m.has_bdf);
    /* without the dev_warn prefix (a pasted fragment) */
    assert_int_equal(parse("Device is ineligible for IOMMU domain attach due to platform RMRR "
                           "requirement. Contact your platform vendor.",
                           &m),
                     KMSG_MATCH);
    assert_false(m.has_printer);
    assert_false(m.has_bdf);
}

static void test_context(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("DMAR: IOMMU enabled", &m), KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_CTX_IOMMU_ON);
    assert_int_equal(m.family, KMSG_FAM_VTD);
    assert_int_equal(parse("DMAR: IOMMU disabled", &m), KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_CTX_IOMMU_OFF);
    assert_string_equal(m.format, "vtd-cmdline-off");
    assert_int_equal(parse("DMAR: Intel(R) Virtualization Technology for Directed I/O", &m),
                     KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_CTX_IOMMU_ON);
    assert_string_equal(m.format, "vtd-init");
    assert_int_equal(parse("DMAR-IR: Enabled IRQ remapping in x2apic mode", &m), KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_CTX_IOMMU_ON);
    assert_string_equal(m.detail, "Enabled IRQ remapping in x2apic mode");
    assert_int_equal(parse("DMAR-IR: Enabled IRQ remapping in xapic mode", &m), KMSG_MATCH);
    assert_int_equal(parse("DMAR: Intel-IOMMU force enabled due to platform opt in", &m),
                     KMSG_MATCH);
    assert_int_equal(m.kind, KMSG_CTX_IOMMU_ON);
    /* another driver's words are not ours */
    assert_int_equal(parse("AMD-Vi: IOMMU enabled", &m), KMSG_NO_MATCH);
    assert_int_equal(parse("IOMMU enabled", &m), KMSG_NO_MATCH);
    assert_int_equal(parse("DMAR: IOMMU enabled (really)", &m), KMSG_NO_MATCH);
}

/* ---- the reason tables -------------------------------------------------- */

static void test_reason_table(void **state)
{
    (void)state;
    assert_string_equal(kmsg_vtd_reason_text(0x00), "Software");
    assert_string_equal(kmsg_vtd_reason_text(0x05), "PTE Write access is not set");
    assert_string_equal(kmsg_vtd_reason_text(0x0d),
                        "PCE for translation request specifies blocking");
    assert_null(kmsg_vtd_reason_text(0x0e));
    assert_string_equal(kmsg_vtd_reason_text(0x22), "Present field in the IRTE entry is clear");
    assert_null(kmsg_vtd_reason_text(0x27));
    assert_string_equal(kmsg_vtd_reason_text(0x30), "SM: Invalid Root Table Address");
    assert_null(kmsg_vtd_reason_text(0x33));
    assert_string_equal(kmsg_vtd_reason_text(0x90),
                        "SM: A/D bit update needed in first-level entry when set up in no snoop");
    assert_null(kmsg_vtd_reason_text(0x91));
    assert_null(kmsg_vtd_reason_text(0xffffffffu));
}

/* Every code of every table, against the kernel's words (dmar.c tables,
 * v4.4 .. current; 0x30.. from v5.1): a line with each code parses back to
 * the same code and text, in both the decimal and the hex form. */
static const struct {
    uint32_t code;
    const char *text;
} all_reasons[] = {
    {0x00, "Software"},
    {0x01, "Present bit in root entry is clear"},
    {0x02, "Present bit in context entry is clear"},
    {0x03, "Invalid context entry"},
    {0x04, "Access beyond MGAW"},
    {0x05, "PTE Write access is not set"},
    {0x06, "PTE Read access is not set"},
    {0x07, "Next page table ptr is invalid"},
    {0x08, "Root table address invalid"},
    {0x09, "Context table ptr is invalid"},
    {0x0a, "non-zero reserved fields in RTP"},
    {0x0b, "non-zero reserved fields in CTP"},
    {0x0c, "non-zero reserved fields in PTE"},
    {0x0d, "PCE for translation request specifies blocking"},
    {0x20, "Detected reserved fields in the decoded interrupt-remapped request"},
    {0x21, "Interrupt index exceeded the interrupt-remapping table size"},
    {0x22, "Present field in the IRTE entry is clear"},
    {0x23, "Error accessing interrupt-remapping table pointed by IRTA_REG"},
    {0x24, "Detected reserved fields in the IRTE entry"},
    {0x25, "Blocked a compatibility format interrupt request"},
    {0x26, "Blocked an interrupt request due to source-id verification failure"},
    {0x30, "SM: Invalid Root Table Address"},
    {0x31, "SM: TTM 0 for request with PASID"},
    {0x32, "SM: TTM 0 for page group request"},
    {0x38, "SM: Error attempting to access Root Entry"},
    {0x39, "SM: Present bit in Root Entry is clear"},
    {0x3a, "SM: Non-zero reserved field set in Root Entry"},
    {0x40, "SM: Error attempting to access Context Entry"},
    {0x41, "SM: Present bit in Context Entry is clear"},
    {0x42, "SM: Non-zero reserved field set in the Context Entry"},
    {0x43, "SM: Invalid Context Entry"},
    {0x44, "SM: DTE field in Context Entry is clear"},
    {0x45, "SM: PASID Enable field in Context Entry is clear"},
    {0x46, "SM: PASID is larger than the max in Context Entry"},
    {0x47, "SM: PRE field in Context-Entry is clear"},
    {0x48, "SM: RID_PASID field error in Context-Entry"},
    {0x50, "SM: Error attempting to access the PASID Directory Entry"},
    {0x51, "SM: Present bit in Directory Entry is clear"},
    {0x52, "SM: Non-zero reserved field set in PASID Directory Entry"},
    {0x58, "SM: Error attempting to access PASID Table Entry"},
    {0x59, "SM: Present bit in PASID Table Entry is clear"},
    {0x5a, "SM: Non-zero reserved field set in PASID Table Entry"},
    {0x5b, "SM: Invalid Scalable-Mode PASID Table Entry"},
    {0x5c, "SM: ERE field is clear in PASID Table Entry"},
    {0x5d, "SM: SRE field is clear in PASID Table Entry"},
    {0x70, "SM: Error attempting to access first-level paging entry"},
    {0x71, "SM: Present bit in first-level paging entry is clear"},
    {0x72, "SM: Non-zero reserved field set in first-level paging entry"},
    {0x73, "SM: Error attempting to access FL-PML4 entry"},
    {0x74, "SM: First-level entry address beyond MGAW in Nested translation"},
    {0x75, "SM: Read permission error in FL-PML4 entry in Nested translation"},
    {0x76, "SM: Read permission error in first-level paging entry in Nested translation"},
    {0x77, "SM: Write permission error in first-level paging entry in Nested translation"},
    {0x78, "SM: Error attempting to access second-level paging entry"},
    {0x79, "SM: Read/Write permission error in second-level paging entry"},
    {0x7a, "SM: Non-zero reserved field set in second-level paging entry"},
    {0x7b, "SM: Invalid second-level page table pointer"},
    {0x7c, "SM: A/D bit update needed in second-level entry when set up in no snoop"},
    {0x80, "SM: Address in first-level translation is not canonical"},
    {0x81, "SM: U/S set 0 for first-level translation with user privilege"},
    {0x82, "SM: No execute permission for request with PASID and ER=1"},
    {0x83, "SM: Address beyond the DMA hardware max"},
    {0x84, "SM: Second-level entry address beyond the max"},
    {0x85, "SM: No write permission for Write/AtomicOp request"},
    {0x86, "SM: No read permission for Read/AtomicOp request"},
    {0x87, "SM: Invalid address-interrupt address"},
    {0x90, "SM: A/D bit update needed in first-level entry when set up in no snoop"},
};

static void test_every_reason(void **state)
{
    (void)state;
    size_t n = sizeof all_reasons / sizeof all_reasons[0];
    assert_int_equal(n, 14 + 7 + 46);
    int known = 0;
    for (uint32_t code = 0; code <= 0xff; code++) {
        const char *want = NULL;
        for (size_t i = 0; i < n; i++)
            if (all_reasons[i].code == code)
                want = all_reasons[i].text;
        const char *got = kmsg_vtd_reason_text(code);
        if (want) {
            assert_non_null(got);
            assert_string_equal(got, want);
            known++;
        } else {
            assert_null(got);
        }
    }
    assert_int_equal(known, (int)n);

    for (size_t i = 0; i < n; i++) {
        char line[256];
        struct kmsg m;
        bool ir = all_reasons[i].code >= 0x20 && all_reasons[i].code <= 0x26;
        if (ir)
            snprintf(line, sizeof line,
                     "DMAR: [INTR-REMAP] Request device [00:1f.0] fault index 0x2 "
                     "[fault reason 0x%02x] %s",
                     all_reasons[i].code, all_reasons[i].text);
        else
            snprintf(line, sizeof line,
                     "DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr 0x1000 "
                     "[fault reason 0x%02x] %s",
                     all_reasons[i].code, all_reasons[i].text);
        assert_int_equal(parse(line, &m), KMSG_MATCH);
        assert_int_equal(m.reason, all_reasons[i].code);
        assert_int_equal(m.kind, ir ? KMSG_VTD_IR_FAULT : KMSG_VTD_DMA_FAULT);
        assert_string_equal(m.detail, all_reasons[i].text);
        /* the decimal "%02d" of 4.7 .. 5.14 */
        snprintf(line, sizeof line,
                 "DMAR: [DMA Write] Request device [00:02.0] fault addr 1000 "
                 "[fault reason %02u] %s",
                 all_reasons[i].code, all_reasons[i].text);
        assert_int_equal(parse(line, &m), KMSG_MATCH);
        assert_int_equal(m.reason, all_reasons[i].code);
    }
}

/* ---- negative ------------------------------------------------------------ */

static void test_negative(void **state)
{
    (void)state;
    struct kmsg m;
    assert_int_equal(parse("", &m), KMSG_NO_MATCH);
    assert_int_equal(parse("AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0 domain=0x0000 "
                           "address=0x00000000ffbf8000 flags=0x0070]",
                           &m),
                     KMSG_NO_MATCH);
    assert_int_equal(parse("DMAR: [DMA Exec] Request device [00:02.0] fault addr 0x1000 "
                           "[fault reason 0x06] PTE Read access is not set",
                           &m),
                     KMSG_NO_MATCH);
    assert_int_equal(parse("DMAR: [DMA Read NO_PASID] Request device [00:2g.0] fault addr "
                           "0x1000 [fault reason 0x06] x",
                           &m),
                     KMSG_NO_MATCH);
    /* device 0x20 and function 8 do not exist */
    assert_int_equal(parse("DMAR: [DMA Read NO_PASID] Request device [00:20.0] fault addr "
                           "0x1000 [fault reason 0x06] x",
                           &m),
                     KMSG_NO_MATCH);
    assert_int_equal(parse("DMAR: [DMA Read NO_PASID] Request device [00:02.8] fault addr "
                           "0x1000 [fault reason 0x06] x",
                           &m),
                     KMSG_NO_MATCH);
    /* a reason that is not a byte, junk after the address */
    assert_int_equal(parse("DMAR: [DMA Read] Request device [00:02.0] fault addr 1000 "
                           "[fault reason 300] x",
                           &m),
                     KMSG_NO_MATCH);
    assert_int_equal(parse("DMAR: [DMA Read] Request device [00:02.0] fault addr 1000 zz", &m),
                     KMSG_NO_MATCH);
    /* an address of more than 64 bits */
    assert_int_equal(parse("DMAR: [DMA Read] Request device [00:02.0] fault addr "
                           "1234567890abcdef0 [fault reason 06] x",
                           &m),
                     KMSG_NO_MATCH);
    /* text before the head that is not a prefix we know */
    assert_int_equal(parse("foo: [DMA Read] Request device [00:02.0] fault addr 1000 "
                           "[fault reason 06] x",
                           &m),
                     KMSG_NO_MATCH);
    /* the reason table's words outside a VT-d line */
    assert_int_equal(parse("PTE Write access is not set", &m), KMSG_NO_MATCH);
    assert_int_equal(parse("DMAR: Host address width 39", &m), KMSG_NO_MATCH);
    /* not NUL-terminated: only len bytes are read */
    const char buf[] = "DMAR: DRHD: handling fault status reg 2XXXX";
    assert_int_equal(kmsg_parse_vtd(buf, strlen("DMAR: DRHD: handling fault status reg 2"), &m),
                     KMSG_MATCH);
    assert_int_equal(m.number, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dma_5_15_no_pasid),
        cmocka_unit_test(test_dma_5_15_write),
        cmocka_unit_test(test_dma_5_15_pasid),
        cmocka_unit_test(test_dma_4_7),
        cmocka_unit_test(test_dma_5_1_pasid),
        cmocka_unit_test(test_dma_4_4_split),
        cmocka_unit_test(test_dma_segment),
        cmocka_unit_test(test_7x_segment),
        cmocka_unit_test(test_dma_wrapped),
        cmocka_unit_test(test_ir_5_15),
        cmocka_unit_test(test_ir_4_7),
        cmocka_unit_test(test_ir_4_4_split),
        cmocka_unit_test(test_fault_status),
        cmocka_unit_test(test_rmrr_table),
        cmocka_unit_test(test_rmrr_ineligible),
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_reason_table),
        cmocka_unit_test(test_every_reason),
        cmocka_unit_test(test_negative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
