/* Intel VT-d kernel messages: DMAR fault lines of every printed form from
 * Linux 4.4 to current, interrupt-remapping faults, "DRHD: handling fault
 * status reg", the RMRR refusal and the boot lines that say whether the
 * IOMMU is on. Each form is read from the source of the versions named
 * beside it; docs/explain-messages-vtd.md has the table.
 *
 * Sources (Linux, read for the format strings only):
 *   v4.4..v4.6  drivers/iommu/dmar.c dmar_fault_do_one: two lines per fault
 *               "DMAR:[%s] Request device [%02x:%02x.%d] fault addr %llx \n"
 *               "DMAR:[fault reason %02d] %s\n" under pr_fmt "DMAR: "; the
 *               interrupt form "INTR-REMAP: Request device [[%02x:%02x.%d]
 *               fault index %llx\nINTR-REMAP:[fault reason %02d] %s\n".
 *               (The one-line form came with a0fe14d7dcf5 "iommu/vt-d:
 *               Improve fault handler error messages", v4.7-rc1.)
 *   v4.7..v4.20 drivers/iommu/dmar.c (read at torvalds 00ed905ab8e5, 4.1x,
 *               and v4.19): "[%s] Request device [%02x:%02x.%d] fault addr
 *               %llx [fault reason %02d] %s" and "[INTR-REMAP] Request device
 *               [%02x:%02x.%d] fault index %llx [fault reason %02d] %s".
 *   >v4.19..<v5.15 drivers/iommu/intel/dmar.c (read at v5.10.13; absent
 *               at v4.19): "[%s] Request device [%02x:%02x.%d] PASID %x fault
 *               addr %llx [fault reason %02d] %s", pasid -1 (ffffffff) when
 *               the record has none; the scalable-mode reasons 0x30.. added.
 *   v5.15..now  drivers/iommu/intel/dmar.c (absent at v5.10.13; read at
 *               v5.15.85 and torvalds
 *               c34e9ab9a612, 6.1x): "[%s NO_PASID] Request device
 *               [%02x:%02x.%d] fault addr 0x%llx [fault reason 0x%02x] %s",
 *               "[%s PASID 0x%x] Request device ...", "[INTR-REMAP] Request
 *               device [%02x:%02x.%d] fault index 0x%llx [fault reason
 *               0x%02x] %s"; v6.18-based greearb/linux-ct-6.18 the same
 *               under pr_info. These print no PCI segment.
 *   7.x         greearb/linux-ct-7.2 (a 7.2-based tree carrying its
 *               maintainer's patches; not confirmed in torvalds/linux):
 *               "Request device [%04x:%02x:%02x.%d]" with iommu->segment in
 *               all three fault forms. Parsed as the 5.15 forms plus "-seg".
 *   all         "DRHD: handling fault status reg %x" (dmar_fault).
 * %s is "DMA Read" when the record's type bit is set, else "DMA Write".
 * "%02d" prints the reason in decimal (so 0x20 is "32"), "0x%02x" in hex.
 */
#include <stdint.h>
#include <string.h>

#include "diag/kmsg_priv.h"
#include "sim/text.h"

/* ---- the fault reason tables -------------------------------------------
 * drivers/iommu/intel/dmar.c (v4.4 .. current, identical in every version
 * read): dma_remap_fault_reasons (0x00..0x0d), irq_remap_fault_reasons
 * (0x20..0x26), dma_remap_sm_fault_reasons (0x30..0x90; absent at v4.19,
 * read at v5.10.13, v5.15.85 and torvalds c34e9ab9a612). The kernel's
 * "Unknown" fillers inside the scalable-mode table are left NULL here: the
 * kernel prints "Unknown" for them as for any code outside the tables. The
 * meanings are the VT-d specification's (rev 3.x, Appendix A "Non-Recoverable
 * Fault Reason Encodings"); the words are the kernel's, which is what a log
 * shows. */
static const char *const vtd_reasons[0x91] = {
    [0x00] = "Software",
    [0x01] = "Present bit in root entry is clear",
    [0x02] = "Present bit in context entry is clear",
    [0x03] = "Invalid context entry",
    [0x04] = "Access beyond MGAW",
    [0x05] = "PTE Write access is not set",
    [0x06] = "PTE Read access is not set",
    [0x07] = "Next page table ptr is invalid",
    [0x08] = "Root table address invalid",
    [0x09] = "Context table ptr is invalid",
    [0x0a] = "non-zero reserved fields in RTP",
    [0x0b] = "non-zero reserved fields in CTP",
    [0x0c] = "non-zero reserved fields in PTE",
    [0x0d] = "PCE for translation request specifies blocking",
    /* interrupt remapping */
    [0x20] = "Detected reserved fields in the decoded interrupt-remapped request",
    [0x21] = "Interrupt index exceeded the interrupt-remapping table size",
    [0x22] = "Present field in the IRTE entry is clear",
    [0x23] = "Error accessing interrupt-remapping table pointed by IRTA_REG",
    [0x24] = "Detected reserved fields in the IRTE entry",
    [0x25] = "Blocked a compatibility format interrupt request",
    [0x26] = "Blocked an interrupt request due to source-id verification failure",
    /* scalable mode */
    [0x30] = "SM: Invalid Root Table Address",
    [0x31] = "SM: TTM 0 for request with PASID",
    [0x32] = "SM: TTM 0 for page group request",
    [0x38] = "SM: Error attempting to access Root Entry",
    [0x39] = "SM: Present bit in Root Entry is clear",
    [0x3a] = "SM: Non-zero reserved field set in Root Entry",
    [0x40] = "SM: Error attempting to access Context Entry",
    [0x41] = "SM: Present bit in Context Entry is clear",
    [0x42] = "SM: Non-zero reserved field set in the Context Entry",
    [0x43] = "SM: Invalid Context Entry",
    [0x44] = "SM: DTE field in Context Entry is clear",
    [0x45] = "SM: PASID Enable field in Context Entry is clear",
    [0x46] = "SM: PASID is larger than the max in Context Entry",
    [0x47] = "SM: PRE field in Context-Entry is clear",
    [0x48] = "SM: RID_PASID field error in Context-Entry",
    [0x50] = "SM: Error attempting to access the PASID Directory Entry",
    [0x51] = "SM: Present bit in Directory Entry is clear",
    [0x52] = "SM: Non-zero reserved field set in PASID Directory Entry",
    [0x58] = "SM: Error attempting to access PASID Table Entry",
    [0x59] = "SM: Present bit in PASID Table Entry is clear",
    [0x5a] = "SM: Non-zero reserved field set in PASID Table Entry",
    [0x5b] = "SM: Invalid Scalable-Mode PASID Table Entry",
    [0x5c] = "SM: ERE field is clear in PASID Table Entry",
    [0x5d] = "SM: SRE field is clear in PASID Table Entry",
    [0x70] = "SM: Error attempting to access first-level paging entry",
    [0x71] = "SM: Present bit in first-level paging entry is clear",
    [0x72] = "SM: Non-zero reserved field set in first-level paging entry",
    [0x73] = "SM: Error attempting to access FL-PML4 entry",
    [0x74] = "SM: First-level entry address beyond MGAW in Nested translation",
    [0x75] = "SM: Read permission error in FL-PML4 entry in Nested translation",
    [0x76] = "SM: Read permission error in first-level paging entry in Nested translation",
    [0x77] = "SM: Write permission error in first-level paging entry in Nested translation",
    [0x78] = "SM: Error attempting to access second-level paging entry",
    [0x79] = "SM: Read/Write permission error in second-level paging entry",
    [0x7a] = "SM: Non-zero reserved field set in second-level paging entry",
    [0x7b] = "SM: Invalid second-level page table pointer",
    [0x7c] = "SM: A/D bit update needed in second-level entry when set up in no snoop",
    [0x80] = "SM: Address in first-level translation is not canonical",
    [0x81] = "SM: U/S set 0 for first-level translation with user privilege",
    [0x82] = "SM: No execute permission for request with PASID and ER=1",
    [0x83] = "SM: Address beyond the DMA hardware max",
    [0x84] = "SM: Second-level entry address beyond the max",
    [0x85] = "SM: No write permission for Write/AtomicOp request",
    [0x86] = "SM: No read permission for Read/AtomicOp request",
    [0x87] = "SM: Invalid address-interrupt address",
    [0x90] = "SM: A/D bit update needed in first-level entry when set up in no snoop",
};

const char *kmsg_vtd_reason_text(uint32_t reason)
{
    if (reason >= sizeof vtd_reasons / sizeof vtd_reasons[0])
        return NULL;
    return vtd_reasons[reason];
}

/* dmar_get_fault_reason: 0x20..0x26 are interrupt-remapping faults. */
static bool vtd_reason_is_ir(uint32_t reason)
{
    return reason >= 0x20 && reason <= 0x26;
}

/* ---- a small cursor over the record ------------------------------------ */

struct cur {
    const char *p, *end;
};

static bool at_end(const struct cur *c) { return c->p >= c->end; }

static void skip_spaces(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
                             *c->p == '\r'))
        c->p++;
}

/* Consume s if the text continues with it. */
static bool lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Hex number, with or without 0x; at most 16 digits. */
static bool hexnum(struct cur *c, uint64_t *v, int *ndigits)
{
    uint64_t x = 0;
    int n = 0;
    if (c->end - c->p >= 3 && c->p[0] == '0' && (c->p[1] == 'x' || c->p[1] == 'X') &&
        pcilab_hexval(c->p[2]) >= 0)
        c->p += 2;
    while (c->p < c->end && pcilab_hexval(*c->p) >= 0) {
        if (++n > 16)
            return false;
        x = x << 4 | (uint64_t)pcilab_hexval(*c->p);
        c->p++;
    }
    if (ndigits)
        *ndigits = n;
    *v = x;
    return n > 0;
}

static bool decnum(struct cur *c, uint64_t *v)
{
    uint64_t x = 0;
    int n = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (++n > 19)
            return false;
        x = x * 10 + (uint64_t)(*c->p - '0');
        c->p++;
    }
    *v = x;
    return n > 0;
}

/* "bb:dd.f" or "ssss:bb:dd.f" (hex, function decimal 0..7). */
static bool bdf(struct cur *c, bool *has_seg, uint16_t *seg, uint16_t *out)
{
    uint64_t a, b, d, f;
    int na, nb;
    if (!hexnum(c, &a, &na) || !lit(c, ":") || !hexnum(c, &b, &nb))
        return false;
    *has_seg = false;
    *seg = 0;
    if (lit(c, ":")) {
        if (!hexnum(c, &d, NULL) || a > 0xffff) /* a = segment, b = bus */
            return false;
        *has_seg = true;
        *seg = (uint16_t)a;
        a = b;
        b = d;
    }
    if (!lit(c, ".") || !decnum(c, &f))
        return false;
    if (a > 0xff || b > 0x1f || f > 7)
        return false;
    *out = (uint16_t)(a << 8 | b << 3 | f);
    return true;
}

static void set_format(struct kmsg *m, const char *f)
{
    size_t n = strlen(f);
    if (n >= sizeof m->format)
        n = sizeof m->format - 1;
    memcpy(m->format, f, n);
    m->format[n] = '\0';
}

/* Skip the pr_fmt prefixes a VT-d line may carry: "DMAR: " (v4.2 and
 * later), "dmar: " (KBUILD_MODNAME before v4.2), "DMAR-IR: "
 * (irq_remapping.c). Returns which one was seen (0 none, 1 DMAR, 2 DMAR-IR). */
static int skip_prefix(struct cur *c)
{
    int seen = 0;
    for (;;) {
        skip_spaces(c);
        if (lit(c, "DMAR-IR: "))
            seen = 2;
        else if (lit(c, "DMAR: ") || lit(c, "dmar: "))
            seen = seen ? seen : 1;
        else
            return seen;
    }
}

/* "[fault reason NN] text" (decimal) or "[fault reason 0xNN] text". */
static bool fault_reason(struct cur *c, struct kmsg *m, bool *hex)
{
    uint64_t r;
    if (!lit(c, "[fault reason "))
        return false;
    *hex = c->end - c->p >= 2 && c->p[0] == '0' && c->p[1] == 'x';
    if (*hex ? !hexnum(c, &r, NULL) : !decnum(c, &r))
        return false;
    if (r > 0xff || !lit(c, "]"))
        return false;
    m->has_reason = true;
    m->reason = (uint32_t)r;
    kmsg_copy(m->detail, sizeof m->detail, c->p, (size_t)(c->end - c->p));
    if (m->detail[0] == '\0') { /* the text was cut away: the table's words */
        const char *t = kmsg_vtd_reason_text(m->reason);
        if (!t)
            t = "Unknown";
        kmsg_copy(m->detail, sizeof m->detail, t, strlen(t));
    }
    return true;
}

/* The tail of the v4.4..v4.6 two-line form on its own:
 * "DMAR:[fault reason 05] PTE Write access is not set" or
 * "INTR-REMAP:[fault reason 34] Present field in the IRTE entry is clear". */
static enum kmsg_status parse_tail(struct cur c, struct kmsg *out)
{
    struct kmsg m;
    bool hex, ir_prefix = false, dma_prefix = false;
    memset(&m, 0, sizeof m);
    if (lit(&c, "INTR-REMAP:"))
        ir_prefix = true;
    else if (lit(&c, "DMAR:"))
        dma_prefix = true;
    if (!fault_reason(&c, &m, &hex))
        return KMSG_NO_MATCH;
    m.family = KMSG_FAM_VTD;
    bool ir = ir_prefix || (!dma_prefix && vtd_reason_is_ir(m.reason));
    m.kind = ir ? KMSG_VTD_IR_FAULT : KMSG_VTD_DMA_FAULT;
    set_format(&m, ir ? "vtd-ir-4.4-tail" : "vtd-4.4-tail");
    *out = m;
    return KMSG_MATCH;
}

/* A fault line, from its "[DMA ...]" / "[INTR-REMAP]" head; rd points at
 * "Request device [" inside [start, end). */
static enum kmsg_status parse_fault(const char *start, const char *rd,
                                    const char *end, struct kmsg *out)
{
    struct kmsg m;
    struct cur c = {start, rd};
    bool split = false, ir = false, pasid_hdr = false, no_pasid = false;
    bool pasid_mid = false;
    memset(&m, 0, sizeof m);
    m.family = KMSG_FAM_VTD;

    skip_prefix(&c);
    /* the head, which must run up to "Request device [" */
    if (lit(&c, "INTR-REMAP: ")) { /* v4.4..v4.6 */
        ir = split = true;
    } else {
        if (lit(&c, "DMAR:"))      /* v4.4..v4.6: "DMAR:[DMA Write]" */
            split = true;
        if (lit(&c, "[INTR-REMAP]")) {
            ir = true;
        } else if (lit(&c, "[DMA Read")) {
            m.dir = KMSG_DIR_READ;
        } else if (lit(&c, "[DMA Write")) {
            m.dir = KMSG_DIR_WRITE;
        } else {
            return KMSG_NO_MATCH;
        }
        if (!ir) {
            uint64_t v;
            if (lit(&c, " NO_PASID")) {            /* v5.15.. */
                no_pasid = true;
            } else if (lit(&c, " PASID ")) {       /* v5.15..: "PASID 0x%x" */
                if (!hexnum(&c, &v, NULL) || v > 0xfffff)
                    return KMSG_NO_MATCH;
                pasid_hdr = true;
                m.has_pasid = true;
                m.pasid = (uint32_t)v;
            }
            if (!lit(&c, "]"))
                return KMSG_NO_MATCH;
        }
    }
    skip_spaces(&c);
    if (c.p != rd)
        return KMSG_NO_MATCH;

    c.p = rd;
    c.end = end;
    lit(&c, "Request device [");
    if (split && ir)
        lit(&c, "["); /* v4.4's "[[%02x:%02x.%d]" */
    bool has_seg;
    if (!bdf(&c, &has_seg, &m.segment, &m.bdf) || !lit(&c, "]"))
        return KMSG_NO_MATCH;
    m.has_bdf = true;
    skip_spaces(&c);

    bool addr_hex0x = false;
    uint64_t v;
    if (ir) {
        if (!lit(&c, "fault index "))
            return KMSG_NO_MATCH;
        addr_hex0x = c.end - c.p >= 2 && c.p[0] == '0' && c.p[1] == 'x';
        if (!hexnum(&c, &v, NULL))
            return KMSG_NO_MATCH;
        m.has_reason = false;
        m.number = v; /* the IRTE index (addr >> 48 of the record) */
        m.kind = KMSG_VTD_IR_FAULT;
    } else {
        if (lit(&c, "PASID ")) { /* v5.1..v5.14: "PASID %x" before the address */
            if (!hexnum(&c, &v, NULL) || !lit(&c, " "))
                return KMSG_NO_MATCH;
            pasid_mid = true;
            if (v != 0xffffffffu) { /* pasid -1: the record had none */
                m.has_pasid = true;
                m.pasid = (uint32_t)v;
            }
        }
        if (!lit(&c, "fault addr "))
            return KMSG_NO_MATCH;
        addr_hex0x = c.end - c.p >= 2 && c.p[0] == '0' && c.p[1] == 'x';
        if (!hexnum(&c, &v, NULL))
            return KMSG_NO_MATCH;
        m.has_addr = true;
        m.addr = v;
        m.kind = KMSG_VTD_DMA_FAULT;
    }
    skip_spaces(&c);

    /* the reason: on the next line in v4.4..v4.6, wrapped away in a mail */
    if (at_end(&c))
        return KMSG_PARTIAL;
    if (split) {
        if (!lit(&c, ir ? "INTR-REMAP:" : "DMAR:"))
            lit(&c, ir ? "DMAR: INTR-REMAP:" : "DMAR: DMAR:");
    }
    bool hex;
    const char *before = c.p;
    if (!fault_reason(&c, &m, &hex)) {
        /* A prefix of "[fault reason ..." cut by the end of the record is
         * still the head of this message. */
        size_t n = (size_t)(end - before);
        if (n < sizeof "[fault reason " && memcmp(before, "[fault reason ", n) == 0)
            return KMSG_PARTIAL;
        return KMSG_NO_MATCH;
    }

    const char *f;
    if (split)
        f = ir ? "vtd-ir-4.4-split" : "vtd-4.4-split";
    else if (ir)
        f = addr_hex0x || hex ? "vtd-ir-5.15" : "vtd-ir-4.7";
    else if (no_pasid || pasid_hdr)
        f = pasid_hdr ? "vtd-5.15-pasid" : "vtd-5.15";
    else if (pasid_mid) /* between v4.19 and v5.15; read at v5.10.13 */
        f = "vtd-5.1-pasid";
    else
        f = "vtd-4.7";
    char name[32];
    size_t n = strlen(f);
    memcpy(name, f, n + 1);
    if (has_seg && n + 4 < sizeof name)
        memcpy(name + n, "-seg", 5);
    set_format(&m, name);
    *out = m;
    return KMSG_MATCH;
}

/* ---- lines that are not faults ----------------------------------------- */

static void start_line(struct kmsg *m, enum kmsg_kind kind, const char *format,
                       const char *p, const char *end)
{
    memset(m, 0, sizeof *m);
    m->family = KMSG_FAM_VTD;
    m->kind = kind;
    set_format(m, format);
    kmsg_copy(m->detail, sizeof m->detail, p, (size_t)(end - p));
}

/* "DRHD: handling fault status reg %x" (dmar_fault, v4.4 .. current). The
 * register is FSTS (VT-d spec 11.4.9.2): PFO bit 0, PPF bit 1, ... */
static enum kmsg_status parse_fsts(struct cur c, struct kmsg *out)
{
    uint64_t v;
    if (!lit(&c, "DRHD: handling fault status reg ") || !hexnum(&c, &v, NULL) ||
        v > 0xffffffffu)
        return KMSG_NO_MATCH;
    skip_spaces(&c);
    if (!at_end(&c))
        return KMSG_NO_MATCH;
    start_line(out, KMSG_VTD_FAULT_STATUS, "vtd-fsts", "", "");
    out->number = v;
    return KMSG_MATCH;
}

/* The ACPI DMAR table as dmar_table_print_dmar_entry prints it (dmar.c,
 * v4.4 .. current): "RMRR base: %#016Lx end: %#016Lx" and "DRHD base:
 * %#016Lx flags: %#x". An RMRR is a firmware-reserved range (RMRR, VT-d spec
 * 8.4): addr = base, number = end (inclusive). A DRHD line says VT-d
 * hardware is present (not that translation is on: the table is printed
 * with intel_iommu=off too); it is reported as KMSG_CTX_IOMMU_ON with the
 * format "vtd-drhd" so a reader can tell it apart. */
static enum kmsg_status parse_table(struct cur c, const char *line, struct kmsg *out)
{
    uint64_t a, b;
    if (lit(&c, "RMRR base: ")) {
        if (!hexnum(&c, &a, NULL) || !lit(&c, " end: ") || !hexnum(&c, &b, NULL))
            return KMSG_NO_MATCH;
        start_line(out, KMSG_CTX_RMRR_IVMD, "vtd-rmrr", line, c.end);
        out->has_addr = true;
        out->addr = a;
        out->number = b;
        return KMSG_MATCH;
    }
    if (lit(&c, "DRHD base: ")) {
        if (!hexnum(&c, &a, NULL) || !lit(&c, " flags: ") || !hexnum(&c, &b, NULL))
            return KMSG_NO_MATCH;
        start_line(out, KMSG_CTX_IOMMU_ON, "vtd-drhd", line, c.end);
        out->has_addr = true;
        out->addr = a;
        out->has_flags = true;
        out->flags = (uint32_t)b;
        return KMSG_MATCH;
    }
    /* iommu_prepare_identity_map (intel-iommu.c, 4.x): "Setting identity map
     * for device %s [0x%Lx - 0x%Lx]", an RMRR being mapped 1:1 for the
     * device; before v4.2 under "IOMMU: " instead of "DMAR: ". */
    if (lit(&c, "Setting identity map for device ")) {
        bool seg;
        uint16_t s, d;
        if (!bdf(&c, &seg, &s, &d))
            return KMSG_NO_MATCH;
        if (!lit(&c, " [") || !hexnum(&c, &a, NULL) || !lit(&c, " - ") ||
            !hexnum(&c, &b, NULL) || !lit(&c, "]"))
            return KMSG_NO_MATCH;
        start_line(out, KMSG_CTX_RMRR_IVMD, "vtd-identity-map", line, c.end);
        out->has_bdf = true;
        out->segment = s;
        out->bdf = d;
        out->has_addr = true;
        out->addr = a;
        out->number = b;
        return KMSG_MATCH;
    }
    return KMSG_NO_MATCH;
}

/* Boot lines that say whether VT-d is on (intel-iommu.c / intel/iommu.c,
 * v4.4 .. current: intel_iommu_setup "IOMMU enabled" / "IOMMU disabled"
 * for intel_iommu=on/off, intel_iommu_init's last line "Intel(R)
 * Virtualization Technology for Directed I/O", platform_optin_force_iommu
 * (5.x ..) "Intel-IOMMU force enabled due to platform opt in";
 * irq_remapping.c intel_enable_irq_remapping "Enabled IRQ remapping in %s
 * mode" under "DMAR-IR: "). */
static enum kmsg_status parse_context(struct cur c, int prefix, struct kmsg *out)
{
    static const struct {
        const char *text;
        int prefix; /* 1 DMAR, 2 DMAR-IR */
        enum kmsg_kind kind;
        const char *format;
    } lines[] = {
        {"IOMMU enabled", 1, KMSG_CTX_IOMMU_ON, "vtd-cmdline-on"},
        {"IOMMU disabled", 1, KMSG_CTX_IOMMU_OFF, "vtd-cmdline-off"},
        {"Intel(R) Virtualization Technology for Directed I/O", 1, KMSG_CTX_IOMMU_ON,
         "vtd-init"},
        {"Intel-IOMMU force enabled due to platform opt in", 1, KMSG_CTX_IOMMU_ON,
         "vtd-optin"},
        {"Enabled IRQ remapping in x2apic mode", 2, KMSG_CTX_IOMMU_ON, "vtd-ir-on"},
        {"Enabled IRQ remapping in xapic mode", 2, KMSG_CTX_IOMMU_ON, "vtd-ir-on"},
    };
    const char *p = c.p;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        c.p = p;
        if (prefix != lines[i].prefix || !lit(&c, lines[i].text))
            continue;
        skip_spaces(&c);
        if (!at_end(&c))
            continue;
        start_line(out, lines[i].kind, lines[i].format, p, c.end);
        return KMSG_MATCH;
    }
    return KMSG_NO_MATCH;
}

/* dev_warn(dev, "Device is ineligible for IOMMU domain attach due to
 * platform RMRR requirement.  Contact your platform vendor.\n") in
 * intel_iommu_attach_device (intel-iommu.c v4.4 .., intel/iommu.c; dropped
 * when the IOMMU core's RESV_DIRECT check took its place, which prints
 * "Firmware has requested this device have a 1:1 IOMMU mapping ..."). The
 * dev_warn prefix "<driver> <ssss:bb:dd.f>: " (then "DMAR: " where dev_fmt
 * is pr_fmt, v5.15) names the device. */
static enum kmsg_status parse_ineligible(const char *text, const char *hit,
                                         const char *end, struct kmsg *out)
{
    static const char tail[] = "Device is ineligible for IOMMU domain attach due to "
                               "platform RMRR requirement.";
    struct cur c = {hit, end};
    if (!lit(&c, tail))
        return KMSG_NO_MATCH;
    struct kmsg m;
    start_line(&m, KMSG_VTD_RMRR_INELIGIBLE, "vtd-rmrr-ineligible", hit, end);
    /* "<driver> <bdf>: " before the text */
    const char *sp = memchr(text, ' ', (size_t)(hit - text));
    if (sp && sp > text && (size_t)(sp - text) < sizeof m.printer_driver) {
        struct cur b = {sp + 1, hit};
        bool seg;
        uint16_t s, d;
        /* v5.15 intel/iommu.c: dev_fmt(fmt) pr_fmt(fmt), pr_fmt "DMAR: ",
         * so dev_warn prints "<driver> <bdf>: DMAR: Device is ..." */
        if (bdf(&b, &seg, &s, &d) && lit(&b, ": ") && (b.p == hit || lit(&b, "DMAR: ")) &&
            b.p == hit) {
            m.has_printer = true;
            memcpy(m.printer_driver, text, (size_t)(sp - text));
            m.printer_driver[sp - text] = '\0';
            m.printer_segment = s;
            m.printer_bdf = d;
            m.has_bdf = true;
            m.segment = s;
            m.bdf = d;
        }
    }
    *out = m;
    return KMSG_MATCH;
}

enum kmsg_status kmsg_parse_vtd(const char *text, size_t len, struct kmsg *out)
{
    if (!text || !out)
        return KMSG_NO_MATCH;
    const char *end = text + len;
    const char *rd = kmsg_find(text, (size_t)(end - text), "Request device [");
    if (rd)
        return parse_fault(text, rd, end, out);

    const char *inel = kmsg_find(text, (size_t)(end - text), "Device is ineligible for IOMMU");
    if (inel)
        return parse_ineligible(text, inel, end, out);

    struct cur c = {text, end};
    int prefix = skip_prefix(&c);
    if (prefix == 0 && lit(&c, "IOMMU: ")) /* before v4.2 */
        prefix = 1;
    if (c.p >= end)
        return KMSG_NO_MATCH;
    const char *line = c.p;
    enum kmsg_status s;
    switch (*c.p) {
    case '[': /* the 4.4 tail without its prefix */
    case 'D': /* "DMAR:[fault reason", "DRHD: handling", "DRHD base:" */
    case 'I': /* "INTR-REMAP:[fault reason", "IOMMU enabled", "Intel(R) ..." */
        s = parse_tail(c, out);
        if (s != KMSG_NO_MATCH)
            return s;
        break;
    default:
        break;
    }
    if (prefix == 0)
        return KMSG_NO_MATCH;
    if ((s = parse_fsts(c, out)) != KMSG_NO_MATCH)
        return s;
    if ((s = parse_table(c, line, out)) != KMSG_NO_MATCH)
        return s;
    return parse_context(c, prefix, out);
}
