/* The explainer (src/diag/explain.h): each category's rule on struct kmsg
 * values made by hand, the grouping into signatures, the joins of partial
 * records through kmsg_parse, bounded memory, confidence and the
 * alternatives ruled out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "diag/explain.h"
#include "iommu/amdvi_fmt.h"

/* ---- helpers ---- */

static struct kmsg amd_fault(uint16_t bdf, uint32_t domain, uint64_t addr, uint32_t flags)
{
    struct kmsg m;
    memset(&m, 0, sizeof m);
    m.family = KMSG_FAM_AMDVI;
    m.kind = KMSG_AMDVI_IO_PAGE_FAULT;
    strcpy(m.format, "amdvi-split");
    m.has_bdf = true;
    m.bdf = bdf;
    m.has_domain = true;
    m.domain = domain;
    m.has_addr = true;
    m.addr = addr;
    m.has_flags = true;
    m.flags = flags;
    return m;
}

static struct kmsg vtd_fault(uint16_t bdf, enum kmsg_dir dir, uint64_t addr, uint32_t reason)
{
    struct kmsg m;
    memset(&m, 0, sizeof m);
    m.family = KMSG_FAM_VTD;
    m.kind = KMSG_VTD_DMA_FAULT;
    strcpy(m.format, "vtd-5.x");
    m.has_bdf = true;
    m.bdf = bdf;
    m.has_addr = true;
    m.addr = addr;
    m.has_reason = true;
    m.reason = reason;
    m.dir = dir;
    return m;
}

static struct kmsg simple(enum kmsg_family fam, enum kmsg_kind kind)
{
    struct kmsg m;
    memset(&m, 0, sizeof m);
    m.family = fam;
    m.kind = kind;
    return m;
}

/* a driver's dev_info line on bdf */
static struct kmsg driver_line(const char *drv, uint16_t bdf)
{
    struct kmsg m = simple(KMSG_FAM_CONTEXT, KMSG_CTX_DEVICE);
    m.has_printer = true;
    strcpy(m.printer_driver, drv);
    m.printer_bdf = bdf;
    m.has_bdf = true;
    m.bdf = bdf;
    return m;
}

static void add_at(struct explain *e, const struct kmsg *m, uint64_t line, const char *text)
{
    struct explain_src src = {.line = line, .line_last = line, .has_mono = true,
                              .mono_ns = (int64_t)line * 1000000, .text = text,
                              .len = text ? strlen(text) : 0};
    explain_add(e, m, &src);
}

static struct explain *analysed(struct explain *e)
{
    explain_finish(e);
    struct pcilab_err err;
    assert_int_equal(explain_analyse(e, &err), 0);
    return e;
}

static bool has_ruled(const struct explain_finding *f, enum diag_category c, const char *word)
{
    for (size_t i = 0; i < f->nruled; i++)
        if (f->ruled[i].category == c && (!word || strstr(f->ruled[i].why, word)))
            return true;
    return false;
}

static const struct explain_field *field(const struct explain_finding *f, const char *key)
{
    for (size_t i = 0; i < f->nfields; i++)
        if (!strcmp(f->field[i].key, key))
            return &f->field[i];
    return NULL;
}

static const struct explain_fix *fix_with(const struct explain_finding *f, const char *word)
{
    for (size_t i = 0; i < f->nfixes; i++)
        if (strstr(f->fix[i].text, word))
            return &f->fix[i];
    return NULL;
}

/* ---- the seed's case ---- */

static void test_seed_requester_id(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    assert_non_null(e);
    struct kmsg m = amd_fault(0x0000, 0, 0xffbf8000, 0x70);
    add_at(e, &m, 3, "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 "
                     "flags=0x0070]");
    analysed(e);
    assert_int_equal(explain_nfindings(e), 1);
    const struct explain_finding *f = explain_finding_at(e, 0);
    assert_int_equal(f->category, DIAG_REQUESTER_ID_MISMATCH);
    /* x86 convention (2) + domain 0 (1): high */
    assert_int_equal(f->confidence, DIAG_CONF_HIGH);
    assert_int_equal(f->req.role, EXPLAIN_REQ_HOST_BRIDGE);
    assert_non_null(strstr(f->req.how, "x86 convention"));
    assert_non_null(strstr(f->change, "TLP requester ID"));
    /* flags bit by bit */
    assert_non_null(strstr(field(f, "flags")->value, "0x0070 = PR|RW|PE"));
    assert_non_null(strstr(field(f, "flags.PR")->value, "1 (bit 52)"));
    assert_non_null(strstr(field(f, "flags.RW")->value, "1 (bit 53): a write"));
    assert_non_null(strstr(field(f, "flags.PE")->value, "1 (bit 54)"));
    assert_non_null(strstr(field(f, "flags.I")->value, "0 (bit 51)"));
    assert_non_null(strstr(field(f, "flags.GN")->value, "0 (bit 48)"));
    assert_non_null(strstr(field(f, "domain")->value, "never allocates"));
    assert_non_null(strstr(field(f, "address")->value, "just below 4 GiB"));
    assert_non_null(strstr(field(f, "direction")->value, "write"));
    /* fixes: the device's logic first, the quirk, iommu=pt and =off as not-fixes */
    assert_int_equal(f->fix[0].kind, EXPLAIN_FIX_DEVICE_LOGIC);
    assert_false(f->fix[0].not_a_fix);
    assert_non_null(strstr(f->fix[0].text, "Requester ID"));
    const struct explain_fix *pt = fix_with(f, "iommu=pt");
    assert_non_null(pt);
    assert_true(pt->not_a_fix);
    assert_int_equal(pt->kind, EXPLAIN_FIX_KERNEL_PARAMETER);
    assert_true(pt->cost[0] != '\0');
    const struct explain_fix *off = fix_with(f, "iommu=off");
    assert_non_null(off);
    assert_true(off->not_a_fix);
    assert_non_null(fix_with(f, "pci_add_dma_alias"));
    /* the alternatives, with the facts that rule them out */
    assert_true(has_ruled(f, DIAG_MISSING_MAPPING, "00:00.0"));
    assert_true(has_ruled(f, DIAG_PERMISSION, "domain 0"));
    assert_true(has_ruled(f, DIAG_INTERRUPT_REMAPPING, "I flag is clear"));
    assert_true(has_ruled(f, DIAG_DMA_MASK, "below 4 GiB"));
    /* thin evidence: ask for lspci */
    bool lspci = false;
    for (size_t i = 0; i < f->ncollect; i++)
        lspci |= strstr(f->collect[i], "lspci -vvv") != NULL;
    assert_true(lspci);
    assert_int_equal(f->sig->nevidence, 1);
    assert_int_equal(f->sig->evidence[0].line, 3);
    explain_destroy(e);
}

/* A driver printing on 01:00.0 while nothing printed on 00:00.0 names the
 * candidate sender; a quirk cannot alias a bus-0 ID for a bus-1 device. */
static void test_seed_with_driver_line(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg d = driver_line("ecp5_dma", 0x0100);
    add_at(e, &d, 1, "ecp5_dma 0000:01:00.0: DMA buffer at 0xffbf8000");
    struct kmsg m = amd_fault(0x0000, 0, 0xffbf8000, 0x70);
    add_at(e, &m, 2, "IO_PAGE_FAULT ...");
    analysed(e);
    const struct explain_finding *f = explain_finding_at(e, 0);
    assert_int_equal(f->category, DIAG_REQUESTER_ID_MISMATCH);
    assert_int_equal(f->nsenders, 1);
    assert_int_equal(f->sender_bdf[0], 0x0100);
    assert_string_equal(f->sender_driver[0], "ecp5_dma");
    assert_non_null(strstr(f->change, "01:00.0 (ecp5_dma)"));
    const struct explain_fix *q = fix_with(f, "pci_add_dma_alias");
    assert_non_null(q);
    assert_non_null(strstr(q->text, "own bus"));
    explain_destroy(e);
}

/* The same on 4.20, where the printed domain is not the DTE's: one piece of
 * evidence less (medium), and the field says why. */
static void test_domain_untrusted_on_420(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg v = simple(KMSG_FAM_CONTEXT, KMSG_CTX_KERNEL_VERSION);
    strcpy(v.detail, "4.20.17");
    add_at(e, &v, 1, "Linux version 4.20.17");
    struct kmsg m = amd_fault(0x0000, 0, 0xffbf8000, 0x70);
    add_at(e, &m, 2, "x");
    analysed(e);
    const struct explain_finding *f = explain_finding_at(e, 0);
    assert_string_equal(explain_context(e)->kernel, "4.20.17");
    assert_int_equal(f->category, DIAG_REQUESTER_ID_MISMATCH);
    assert_int_equal(f->confidence, DIAG_CONF_MEDIUM);
    assert_non_null(strstr(field(f, "domain")->value, "PASID"));
    explain_destroy(e);
}

/* The enumeration's class names the host bridge; a BDF the enumeration does
 * not list is no device. */
static void test_requester_from_enumeration(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg hb = simple(KMSG_FAM_CONTEXT, KMSG_CTX_DEVICE);
    hb.has_bdf = true;
    hb.bdf = 0x0000;
    hb.has_printer = true;
    strcpy(hb.printer_driver, "pci");
    add_at(e, &hb, 1, "pci 0000:00:00.0: [1022:1576] type 00 class 0x060000");
    struct kmsg ep = hb;
    ep.bdf = ep.printer_bdf = 0x0100;
    add_at(e, &ep, 2, "pci 0000:01:00.0: [1204:5045] type 00 class 0x118000");
    struct kmsg m = vtd_fault(0x0300, KMSG_DIR_WRITE, 0xfff00000, 5);
    add_at(e, &m, 3, "x");
    struct kmsg m2 = vtd_fault(0x0100, KMSG_DIR_WRITE, 0xfff00000, 5);
    add_at(e, &m2, 4, "y");
    analysed(e);
    assert_int_equal(explain_nfindings(e), 2);
    const struct explain_finding *f = NULL, *g = NULL;
    for (size_t i = 0; i < 2; i++) {
        const struct explain_finding *x = explain_finding_at(e, i);
        if (x->req.bdf == 0x0300)
            f = x;
        else
            g = x;
    }
    assert_int_equal(f->req.role, EXPLAIN_REQ_NO_DEVICE);
    assert_int_equal(f->category, DIAG_REQUESTER_ID_MISMATCH);
    assert_int_equal(g->req.role, EXPLAIN_REQ_ENDPOINT);
    assert_non_null(strstr(g->req.how, "class 0x118000"));
    assert_int_equal(g->category, DIAG_MISSING_MAPPING);
    assert_int_equal(explain_context(e)->dev[0].class_code, 0x060000);
    explain_destroy(e);
}

/* ---- each category's rule ---- */

static const struct explain_finding *one(struct explain *e)
{
    analysed(e);
    assert_true(explain_nfindings(e) >= 1);
    return explain_finding_at(e, 0);
}

static void test_missing_mapping(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg d = driver_line("mydrv", 0x0100);
    add_at(e, &d, 1, "mydrv 0000:01:00.0: probe");
    struct kmsg m = amd_fault(0x0100, 3, 0xfffe1040, AMDVI_EVF_RW);
    add_at(e, &m, 2, "x");
    const struct explain_finding *f = one(e);
    assert_int_equal(f->category, DIAG_MISSING_MAPPING);
    assert_int_equal(f->confidence, DIAG_CONF_HIGH);
    assert_int_equal(f->req.role, EXPLAIN_REQ_ENDPOINT);
    assert_true(has_ruled(f, DIAG_REQUESTER_ID_MISMATCH, "endpoint"));
    assert_true(has_ruled(f, DIAG_PERMISSION, "PR is clear"));
    assert_non_null(strstr(field(f, "address")->value, "page offset 0x040 (64-byte aligned)"));
    assert_non_null(strstr(field(f, "flags.PR")->value, "0 (bit 52): not present"));
    explain_destroy(e);
}

static void test_permission(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg d = driver_line("mydrv", 0x0100);
    add_at(e, &d, 1, "p");
    struct kmsg m = amd_fault(0x0100, 3, 0xfffe1000, AMDVI_EVF_PR | AMDVI_EVF_RW | AMDVI_EVF_PE);
    add_at(e, &m, 2, "x");
    const struct explain_finding *f = one(e);
    assert_int_equal(f->category, DIAG_PERMISSION);
    assert_non_null(strstr(f->change, "DMA_FROM_DEVICE"));
    assert_true(has_ruled(f, DIAG_MISSING_MAPPING, "PR is set"));
    explain_destroy(e);
}

/* VT-d reason 0x05 for a write to a page the driver's own line says it
 * mapped DMA_TO_DEVICE (tests/linux/edu_bugs.sh write-to-device-map): a
 * direction mismatch, with that line as evidence; without such a line (or
 * with one that does not fit) the same fault stays missing-mapping. */
static enum diag_category vtd_write_after(const char *line_text, uint16_t line_bdf,
                                          const struct explain_finding **out, struct explain **pe)
{
    struct explain *e = explain_create(NULL);
    struct kmsg d = driver_line("edu", line_bdf);
    add_at(e, &d, 1, line_text);
    struct kmsg m = vtd_fault(0x0018, KMSG_DIR_WRITE, 0xffff000, 5);
    add_at(e, &m, 2, "DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0xffff000 "
                     "[fault reason 0x05] PTE Write access is not set");
    const struct explain_finding *f = one(e);
    *out = f;
    *pe = e;
    return f->category;
}

static void test_direction_mismatch(void **state)
{
    (void)state;
    const struct explain_finding *f;
    struct explain *e;
    static const char store[] = "edu 0000:00:03.0: store buffer: 4096 bytes at phys 0x2c6a000, "
                                "handle 0xffff000 (DMA_TO_DEVICE)";
    assert_int_equal(vtd_write_after(store, 0x0018, &f, &e), DIAG_PERMISSION);
    assert_int_equal(f->confidence, DIAG_CONF_HIGH);
    assert_non_null(strstr(f->why, "DMA_TO_DEVICE"));
    assert_non_null(strstr(f->why, "line 1"));
    assert_non_null(strstr(f->change, "DMA_FROM_DEVICE"));
    assert_non_null(strstr(field(f, "mapping")->value, "handle 0xffff000"));
    assert_true(has_ruled(f, DIAG_MISSING_MAPPING, "DMA_TO_DEVICE"));
    /* the line is evidence, once, even when analysed again */
    struct pcilab_err err;
    assert_int_equal(explain_analyse(e, &err), 0);
    f = explain_finding_at(e, 0);
    assert_int_equal(f->sig->nevidence, 2);
    assert_int_equal(f->sig->evidence[1].line, 1);
    assert_string_equal(f->sig->evidence[1].text, store);
    explain_destroy(e);

    /* a buffer of N bytes at a handle covering the address, words spelled out */
    assert_int_equal(vtd_write_after("edu 0000:00:03.0: ring: 16384 bytes at 0xfffc000, "
                                     "mapped to device", 0x0018, &f, &e),
                     DIAG_PERMISSION);
    explain_destroy(e);

    /* the contrary cases: no mismatch, so no permission */
    static const char *const neg[] = {
        /* the direction agrees with the write */
        "edu 0000:00:03.0: store buffer: handle 0xffff000 (DMA_FROM_DEVICE)",
        "edu 0000:00:03.0: store buffer: handle 0xffff000 (DMA_BIDIRECTIONAL)",
        /* another page */
        "edu 0000:00:03.0: store buffer: 4096 bytes, handle 0xfffe000 (DMA_TO_DEVICE)",
        /* only a physical address equal to the IOVA */
        "edu 0000:00:03.0: store buffer at phys 0xffff000 (DMA_TO_DEVICE)",
        /* no direction */
        "edu 0000:00:03.0: store: device writes 2048 bytes at 0xffff000",
    };
    for (size_t i = 0; i < sizeof neg / sizeof neg[0]; i++) {
        assert_int_equal(vtd_write_after(neg[i], 0x0018, &f, &e), DIAG_MISSING_MAPPING);
        explain_destroy(e);
    }
    /* printed on another device */
    assert_int_equal(vtd_write_after(store, 0x0020, &f, &e), DIAG_MISSING_MAPPING);
    explain_destroy(e);
}

static void test_interrupt(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg m = amd_fault(0x0100, 3, 0xfee00000, AMDVI_EVF_I | AMDVI_EVF_RW);
    add_at(e, &m, 1, "x");
    const struct explain_finding *f = one(e);
    assert_int_equal(f->category, DIAG_INTERRUPT_REMAPPING);
    assert_int_equal(f->confidence, DIAG_CONF_HIGH);
    assert_non_null(strstr(field(f, "address")->value, "MSI window"));
    explain_destroy(e);
    /* the MSI window alone: medium */
    e = explain_create(NULL);
    struct kmsg v = vtd_fault(0x0100, KMSG_DIR_WRITE, 0xfee01000, 5);
    add_at(e, &v, 1, "x");
    f = one(e);
    assert_int_equal(f->category, DIAG_INTERRUPT_REMAPPING);
    assert_int_equal(f->confidence, DIAG_CONF_MEDIUM);
    explain_destroy(e);
}

static void test_vtd_reasons(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg m = vtd_fault(0x0200, KMSG_DIR_WRITE, 0xffff0000, 5);
    add_at(e, &m, 1, "x");
    const struct explain_finding *f = one(e);
    assert_int_equal(f->category, DIAG_MISSING_MAPPING);
    assert_int_equal(f->confidence, DIAG_CONF_MEDIUM);
    assert_non_null(strstr(field(f, "reason")->value, "0x05 = "));
    bool alike = false;
    for (size_t i = 0; i < f->ncollect; i++)
        alike |= strstr(f->collect[i], "alike") != NULL;
    assert_true(alike);
    explain_destroy(e);

    e = explain_create(NULL);
    m = vtd_fault(0x0200, KMSG_DIR_READ, 0x1ffffffff000000ull, 4);
    add_at(e, &m, 1, "x");
    f = one(e);
    assert_int_equal(f->category, DIAG_DRIVER_API_MISUSE);
    explain_destroy(e);

    /* context entry not present for a device no driver printed on */
    e = explain_create(NULL);
    m = vtd_fault(0x0200, KMSG_DIR_READ, 0xffff0000, 2);
    add_at(e, &m, 1, "x");
    f = one(e);
    assert_int_equal(f->category, DIAG_REQUESTER_ID_MISMATCH);
    explain_destroy(e);

    e = explain_create(NULL);
    m = vtd_fault(0x0200, KMSG_DIR_READ, 0xffff0000, 0x22);
    add_at(e, &m, 1, "x");
    f = one(e);
    assert_int_equal(f->category, DIAG_INTERRUPT_REMAPPING);
    explain_destroy(e);
}

static void test_dma_mask_truncation(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg d = driver_line("mydrv", 0x0100);
    d.has_addr = true;
    d.addr = 0x123456000ull; /* the driver printed its (64-bit) handle */
    add_at(e, &d, 1, "mydrv 0000:01:00.0: buffer at 0x123456000");
    struct kmsg m = amd_fault(0x0100, 3, 0x23456000, AMDVI_EVF_RW);
    add_at(e, &m, 2, "x");
    const struct explain_finding *f = one(e);
    assert_int_equal(f->category, DIAG_DMA_MASK);
    assert_non_null(strstr(field(f, "address")->value, "low 32 bits of 0x123456000"));
    explain_destroy(e);
}

static void test_physical_address(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg d = driver_line("mydrv", 0x0100);
    d.has_addr = true;
    d.addr = 0x2345f000ull;
    add_at(e, &d, 1, "mydrv 0000:01:00.0: phys 0x2345f000");
    struct kmsg m = amd_fault(0x0100, 3, 0x2345f000, AMDVI_EVF_RW);
    add_at(e, &m, 2, "x");
    const struct explain_finding *f = one(e);
    assert_int_equal(f->category, DIAG_DRIVER_API_MISUSE);
    assert_int_equal(f->confidence, DIAG_CONF_HIGH);
    explain_destroy(e);
    /* above 4 GiB, far below the top: not mapped, likely a physical address */
    e = explain_create(NULL);
    m = amd_fault(0x0100, 3, 0x21f000000ull, AMDVI_EVF_RW);
    add_at(e, &m, 2, "x");
    f = one(e);
    assert_int_equal(f->category, DIAG_MISSING_MAPPING);
    assert_non_null(strstr(field(f, "address")->value, "likely a physical address"));
    assert_non_null(strstr(f->why, "physical addresses"));
    assert_non_null(fix_with(f, "never a physical address"));
    explain_destroy(e);
    /* address 0: the log does not say who left it there */
    e = explain_create(NULL);
    m = amd_fault(0x0100, 3, 0x0, AMDVI_EVF_RW);
    add_at(e, &m, 2, "x");
    f = one(e);
    assert_int_equal(f->category, DIAG_UNKNOWN);
    assert_int_equal(f->confidence, DIAG_CONF_LOW);
    assert_non_null(strstr(field(f, "address")->value, "never given"));
    explain_destroy(e);
}

static void test_rmrr(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg r = simple(KMSG_FAM_CONTEXT, KMSG_CTX_RMRR_IVMD);
    r.has_addr = true;
    r.addr = 0xbf7ff000;
    r.number = 0xbf7fffff;
    add_at(e, &r, 1, "DMAR: RMRR base: 0x000000bf7ff000 end: 0x000000bf7fffff");
    struct kmsg m = vtd_fault(0x0014, KMSG_DIR_READ, 0xbf7ff800, 6);
    add_at(e, &m, 2, "x");
    const struct explain_finding *f = one(e);
    assert_int_equal(f->category, DIAG_FIRMWARE_RMRR_IVMD);
    explain_destroy(e);

    e = explain_create(NULL);
    struct kmsg in = simple(KMSG_FAM_VTD, KMSG_VTD_RMRR_INELIGIBLE);
    in.has_printer = true;
    strcpy(in.printer_driver, "vfio-pci");
    in.printer_bdf = 0x0300;
    add_at(e, &in, 1, "x");
    f = one(e);
    assert_int_equal(f->category, DIAG_FIRMWARE_RMRR_IVMD);
    assert_int_equal(f->req.bdf, 0x0300);
    explain_destroy(e);
}

static void test_other_families(void **state)
{
    (void)state;
    static const struct {
        enum kmsg_family fam;
        enum kmsg_kind kind;
        enum diag_category want;
    } cases[] = {
        {KMSG_FAM_SWIOTLB, KMSG_SWIOTLB_FULL, DIAG_SWIOTLB_EXHAUSTION},
        {KMSG_FAM_SWIOTLB, KMSG_SW_IOMMU_SPACE, DIAG_SWIOTLB_EXHAUSTION},
        {KMSG_FAM_DMA_DEBUG, KMSG_DMA_DEBUG, DIAG_DRIVER_API_MISUSE},
        {KMSG_FAM_AMDVI, KMSG_AMDVI_IOTLB_INV_TIMEOUT, DIAG_IOTLB_INVALIDATION},
        {KMSG_FAM_AMDVI, KMSG_AMDVI_COMPLETION_WAIT_TIMEOUT, DIAG_IOTLB_INVALIDATION},
        {KMSG_FAM_AER, KMSG_AER, DIAG_HARDWARE_DEVICE_BUG},
        {KMSG_FAM_AMDVI, KMSG_AMDVI_INVALID_DEVICE_REQUEST, DIAG_HARDWARE_DEVICE_BUG},
        {KMSG_FAM_AMDVI, KMSG_AMDVI_UNKNOWN_EVENT, DIAG_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct explain *e = explain_create(NULL);
        struct kmsg m = simple(cases[i].fam, cases[i].kind);
        if (cases[i].kind == KMSG_AMDVI_INVALID_DEVICE_REQUEST) {
            m.has_bdf = true;
            m.bdf = 0x0100;
        }
        add_at(e, &m, 1, "x");
        const struct explain_finding *f = one(e);
        assert_int_equal(f->category, cases[i].want);
        assert_true(f->nfixes > 0 || cases[i].want == DIAG_UNKNOWN);
        explain_destroy(e);
    }
}

static struct kmsg swiotlb_full(uint64_t sz, bool slots, uint32_t total, uint32_t used)
{
    struct kmsg m = simple(KMSG_FAM_SWIOTLB, KMSG_SWIOTLB_FULL);
    m.number = sz;
    m.has_domain = m.has_flags = slots;
    m.domain = total;
    m.flags = used;
    return m;
}

static void test_swiotlb(void **state)
{
    (void)state;
    /* larger than one mapping may be: the driver's size, whatever the pool */
    struct explain *e = explain_create(NULL);
    struct kmsg m = swiotlb_full(524276, true, 32768, 0);
    add_at(e, &m, 1, "x");
    const struct explain_finding *f = one(e);
    assert_int_equal(f->category, DIAG_DRIVER_API_MISUSE);
    assert_int_equal(f->confidence, DIAG_CONF_HIGH);
    assert_true(has_ruled(f, DIAG_SWIOTLB_EXHAUSTION, "per mapping"));
    explain_destroy(e);
    /* small requests, a full pool: a leak; lines with other "used" counts group */
    e = explain_create(NULL);
    m = swiotlb_full(4000, true, 32768, 32768);
    add_at(e, &m, 1, "x");
    m.flags = 32767;
    add_at(e, &m, 2, "x");
    f = one(e);
    assert_int_equal(explain_nsigs(e), 1);
    assert_int_equal(f->sig->count, 2);
    assert_int_equal(f->category, DIAG_DRIVER_API_MISUSE);
    assert_int_equal(f->confidence, DIAG_CONF_MEDIUM);
    assert_true(fix_with(f, "swiotlb=N")->not_a_fix);
    explain_destroy(e);
    /* a big request in a full big pool: exhaustion */
    e = explain_create(NULL);
    m = swiotlb_full(262144, true, 524288, 523564);
    add_at(e, &m, 1, "x");
    f = one(e);
    assert_int_equal(f->category, DIAG_SWIOTLB_EXHAUSTION);
    assert_false(fix_with(f, "swiotlb=N")->not_a_fix);
    explain_destroy(e);
}

/* ---- grouping, bounds, order ---- */

/* A family's own boot lines are context: VT-d's "DMAR: IOMMU enabled"
 * (family VT-d, kind IOMMU_ON) must not become a finding. */
static void test_family_context_lines(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    static const enum kmsg_kind kinds[] = {KMSG_CTX_IOMMU_ON, KMSG_CTX_RMRR_IVMD,
                                           KMSG_CTX_IOMMU_OFF};
    for (unsigned i = 0; i < 3; i++) {
        struct kmsg m = simple(KMSG_FAM_VTD, kinds[i]);
        add_at(e, &m, 1 + i, "DMAR: IOMMU enabled");
    }
    struct kmsg f = vtd_fault(0x0018, KMSG_DIR_WRITE, 0xffff000, 5);
    add_at(e, &f, 9, "fault");
    explain_finish(e);
    struct pcilab_err err;
    pcilab_err_clear(&err);
    assert_int_equal(explain_analyse(e, &err), 0);
    assert_int_equal(explain_get_counts(e)->context, 3);
    assert_int_equal(explain_nsigs(e), 1);
    assert_int_equal(explain_nfindings(e), 1);
    assert_int_equal(explain_finding_at(e, 0)->sig->kind, KMSG_VTD_DMA_FAULT);
    explain_destroy(e);
}

static void test_grouping(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    for (unsigned i = 0; i < 10; i++) {
        struct kmsg m = amd_fault(0x0000, 0, 0xffbf8000 + 0x80 * (i % 4), 0x70);
        add_at(e, &m, 10 + i, "x");
    }
    /* another direction: its own signature */
    struct kmsg r = amd_fault(0x0000, 0, 0xffbf8000, 0x50);
    add_at(e, &r, 30, "r");
    /* six more pages of the first key: the same signature, now a pattern */
    for (unsigned p = 1; p <= 6; p++) {
        struct kmsg m = amd_fault(0x0000, 0, 0xffbf8000 + 0x1000ull * p, 0x70);
        add_at(e, &m, 40 + p, "x");
    }
    explain_finish(e);
    assert_int_equal(explain_nsigs(e), 2);
    const struct explain_sig *s = explain_sig_at(e, 0);
    assert_int_equal(s->count, 10 + 6);
    assert_true(s->range);
    assert_int_equal(s->npages, 7);
    assert_int_equal(s->first_line, 10);
    assert_int_equal(s->last_line, 46);
    assert_int_equal(s->first_ns, 10 * 1000000);
    assert_int_equal(s->last_ns, 46 * 1000000);
    assert_int_equal(s->addr_max, 0xffbf8000 + 0x6000);
    assert_int_equal(explain_sig_at(e, 1)->count, 1);
    assert_int_equal(explain_sig_at(e, 1)->flags, 0x50);
    assert_int_equal(explain_get_counts(e)->faults, 17);
    analysed(e);
    const struct explain_finding *f = explain_finding_at(e, 0);
    assert_non_null(strstr(field(f, "address")->value, "6 events on other pages"));
    assert_non_null(strstr(field(f, "address")->value, "cross a page boundary"));
    explain_destroy(e);
}

static void test_bounded(void **state)
{
    (void)state;
    struct explain_opts o = {.max_sigs = 8, .max_evidence = 2, .max_unrecognised = 3};
    struct explain *e = explain_create(&o);
    for (unsigned i = 0; i < 1000; i++) {
        struct kmsg m = amd_fault((uint16_t)(i % 100 + 1), 3, 0x1000, AMDVI_EVF_RW);
        add_at(e, &m, i + 1, "x");
    }
    for (unsigned i = 0; i < 50; i++) {
        struct explain_src src = {.line = 2000 + i, .text = "some other line", .len = 15};
        explain_add_unrecognised(e, &src);
    }
    analysed(e);
    assert_int_equal(explain_nsigs(e), 8);
    assert_int_equal(explain_nfindings(e), 8);
    const struct explain_counts *c = explain_get_counts(e);
    assert_int_equal(c->faults, 1000);
    /* requesters 1..8 are kept: 10 events each; 92 others x 10 dropped */
    assert_int_equal(c->sigs_dropped, 920);
    assert_int_equal(explain_sig_at(e, 0)->count, 10);
    assert_int_equal(explain_sig_at(e, 0)->nevidence, 2);
    assert_int_equal(c->unrecognised, 50);
    assert_int_equal(explain_nunrec(e), 3);
    assert_int_equal(explain_unrec_at(e, 2)->line, 2002);
    assert_null(explain_unrec_at(e, 3));
    explain_destroy(e);
}

static void test_order_and_confidence(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    struct kmsg u = simple(KMSG_FAM_AMDVI, KMSG_AMDVI_UNKNOWN_EVENT);
    for (int i = 0; i < 50; i++)
        add_at(e, &u, 1 + (uint64_t)i, "u");
    /* 00:00.0 on VT-d, no driver printing: convention only -> medium */
    struct kmsg v = vtd_fault(0x0000, KMSG_DIR_WRITE, 0xfffff000, 5);
    add_at(e, &v, 100, "v");
    analysed(e);
    assert_int_equal(explain_finding_at(e, 0)->category, DIAG_REQUESTER_ID_MISMATCH);
    assert_int_equal(explain_finding_at(e, 0)->confidence, DIAG_CONF_MEDIUM);
    assert_int_equal(explain_finding_at(e, 1)->category, DIAG_UNKNOWN);
    explain_destroy(e);
    /* a driver printing on another device raises it */
    e = explain_create(NULL);
    struct kmsg d = driver_line("mydrv", 0x0100);
    add_at(e, &d, 1, "p");
    add_at(e, &v, 2, "v");
    analysed(e);
    assert_int_equal(explain_finding_at(e, 0)->confidence, DIAG_CONF_HIGH);
    explain_destroy(e);
}

/* ---- records through kmsg_parse ---- */

static void feed(struct explain *e, uint64_t line, const char *text)
{
    struct klog_rec r;
    memset(&r, 0, sizeof r);
    r.text = text;
    r.len = strlen(text);
    r.line = r.line_last = line;
    r.level = -1;
    explain_klog_rec(e, &r);
}

static void test_split_records(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    /* 4.9's two records */
    feed(e, 1, "AMD-Vi: Event logged [");
    feed(e, 2, "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 "
               "flags=0x0070]");
    feed(e, 3, "nothing we know about");
    analysed(e);
    const struct explain_counts *c = explain_get_counts(e);
    assert_int_equal(c->partial_joins, 1);
    assert_int_equal(c->unrecognised, 1);
    assert_int_equal(explain_nsigs(e), 1);
    const struct explain_sig *s = explain_sig_at(e, 0);
    assert_int_equal(s->addr, 0xffbf8000);
    assert_int_equal(s->flags, 0x70);
    assert_int_equal(s->evidence[0].line, 1);
    assert_int_equal(s->evidence[0].line_last, 2);
    assert_int_equal(explain_finding_at(e, 0)->category, DIAG_REQUESTER_ID_MISMATCH);
    explain_destroy(e);
}

static void test_mail_wrapped(void **state)
{
    (void)state;
    struct explain *e = explain_create(NULL);
    /* the seed's paste: wrapped after "domain=0x0000 ", no prefix on the rest */
    feed(e, 1, "IO_PAGE_FAULT device=00:00.0 domain=0x0000");
    feed(e, 2, "address=0x00000000ffbf8000 flags=0x0070]");
    analysed(e);
    assert_int_equal(explain_nsigs(e), 1);
    assert_int_equal(explain_sig_at(e, 0)->addr, 0xffbf8000);
    assert_int_equal(explain_get_counts(e)->unrecognised, 0);
    explain_destroy(e);
    /* a head whose next record does not complete it: both counted */
    e = explain_create(NULL);
    feed(e, 1, "AMD-Vi: Event logged [");
    feed(e, 2, "Dear all,");
    explain_finish(e);
    assert_int_equal(explain_get_counts(e)->partial_dropped, 1);
    assert_int_equal(explain_get_counts(e)->unrecognised, 2);
    assert_int_equal(explain_nsigs(e), 0);
    /* and a head at the very end */
    e = (explain_destroy(e), explain_create(NULL));
    feed(e, 1, "AMD-Vi: Event logged [");
    explain_finish(e);
    assert_int_equal(explain_get_counts(e)->unrecognised, 1);
    explain_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_requester_id),
        cmocka_unit_test(test_seed_with_driver_line),
        cmocka_unit_test(test_domain_untrusted_on_420),
        cmocka_unit_test(test_requester_from_enumeration),
        cmocka_unit_test(test_missing_mapping),
        cmocka_unit_test(test_permission),
        cmocka_unit_test(test_direction_mismatch),
        cmocka_unit_test(test_interrupt),
        cmocka_unit_test(test_vtd_reasons),
        cmocka_unit_test(test_dma_mask_truncation),
        cmocka_unit_test(test_physical_address),
        cmocka_unit_test(test_rmrr),
        cmocka_unit_test(test_other_families),
        cmocka_unit_test(test_swiotlb),
        cmocka_unit_test(test_family_context_lines),
        cmocka_unit_test(test_grouping),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_order_and_confidence),
        cmocka_unit_test(test_split_records),
        cmocka_unit_test(test_mail_wrapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
