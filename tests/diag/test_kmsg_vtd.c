/* kmsg_parse_vtd: every VT-d message form, each line as the named kernel
 * version prints it (built from that version's format string, see the
 * comments in src/diag/kmsg_vtd.c), every fault reason's text, partial and
 * negative cases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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
        cmocka_unit_test(test_reason_table),
        cmocka_unit_test(test_negative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
