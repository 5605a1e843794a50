/* The real Debian lspci (pciutils) decodes our configuration spaces: every
 * capability without "<?>" or unknown values, with the values we programmed; and
 * `lspci -F dump -n -x/-xxx/-xxxx` prints back exactly what our writer wrote.
 * Skipped (with a message) only when /usr/bin/lspci is absent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcie/cfgdump.h"
#include "pcie/msi.h"
#include "machine.h"

#define LSPCI "/usr/bin/lspci"

static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[len] = '\0';
    assert_int_equal(pclose(p), 0);
    return buf;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *dump_machine(const struct machine *mc, unsigned bytes, uint32_t domain,
                          size_t *len)
{
    struct pcie_dump_entry e[MACHINE_FUNCS];
    for (unsigned i = 0; i < MACHINE_FUNCS; i++)
        pcie_dump_entry_from_cfg(&e[i], domain, mc->f[i].bus, mc->f[i].dev, mc->f[i].fn,
                                 &mc->f[i].cfg);
    char *out;
    assert_int_equal(pcie_dump_format(e, MACHINE_FUNCS, bytes, 0, &out, len, NULL), 0);
    return out;
}

/* The text of one function's block in lspci output ("BDF ..." up to the blank line). */
static char *block(const char *all, const char *bdf)
{
    const char *p = all;
    size_t bl = strlen(bdf);
    while (p && strncmp(p, bdf, bl) != 0) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    assert_non_null(p);
    const char *e = strstr(p, "\n\n");
    size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
    char *b = malloc(n + 1);
    assert_non_null(b);
    memcpy(b, p, n);
    b[n] = '\0';
    return b;
}

static void expect(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("lspci output lacks \"%s\" in:\n%s", needle, text);
}

static int have_lspci(void)
{
    if (access(LSPCI, X_OK) == 0)
        return 1;
    fprintf(stderr, "SKIP: %s is not installed; the real-lspci decoding checks did not run\n",
            LSPCI);
    return 0;
}

static void test_decodes_everything(void **state)
{
    (void)state;
    if (!have_lspci())
        skip();
    struct machine *mc = malloc(sizeof *mc);
    assert_non_null(mc);
    assert_int_equal(machine_build(mc), 0);
    /* some live state: an uncorrectable error logged by the I210, a masked and
     * pending MSI vector on the switch, a correctable error on the root port */
    uint32_t hdr[4] = {0x40000001, 0x0300000f, 0x00000000, 0xffbf8000};
    assert_int_equal(pcie_aer_record_uncor(&mc->f[6].cfg, PCIE_AER_UNC_UNSUP_REQ, hdr, NULL), 1);
    assert_int_equal(pcie_aer_record_cor(&mc->f[0].cfg, PCIE_AER_COR_BAD_TLP), 1);
    struct pcie_cfg *up = &mc->f[1].cfg;
    unsigned msi = pcie_cap_find(up, PCIE_CAP_ID_MSI);
    pcie_cfg_raw_write16(up, msi + PCIE_MSI_CTRL, pcie_cfg_raw_read16(up, msi + PCIE_MSI_CTRL) |
                                                      PCIE_MSI_CTRL_ENABLE | (3u << 4));
    pcie_cfg_raw_write32(up, msi + PCIE_MSI_ADDR_LO, 0xfee01000);
    pcie_cfg_raw_write16(up, pcie_msi_data_off(up, msi), 0x4030);
    pcie_cfg_raw_write32(up, pcie_msi_mask_off(up, msi), 0x00000004);
    struct pcie_msi_vector v;
    assert_int_equal(pcie_msi_signal(up, 2, &v, NULL), 0);

    size_t len;
    char *dump = dump_machine(mc, 4096, 0, &len);
    char path[512];
    snprintf(path, sizeof path, "%s/test_lspci-%ld.dump", PCILAB_BINARY_DIR, (long)getpid());
    write_file(path, dump, len);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, LSPCI " -F '%s' -vvv -nn 2>/dev/null", path);
    char *out = run(cmd);

    /* nothing lspci could not decode */
    assert_null(strstr(out, "<?>"));
    assert_null(strstr(out, "nknown"));
    assert_null(strstr(out, "<access denied>"));
    assert_null(strstr(out, "overdriven"));
    assert_null(strstr(out, "RsvdP"));
    assert_null(strstr(out, "Reserved"));
    for (unsigned i = 0; i < MACHINE_FUNCS; i++) {
        char bdf[16];
        snprintf(bdf, sizeof bdf, "%02x:%02x.%u ", mc->f[i].bus, mc->f[i].dev, mc->f[i].fn);
        expect(out, bdf);
    }

    char *b = block(out, "00:02.1 ");
    expect(b, "[1022:157c]");
    expect(b, "Bus: primary=00, secondary=01, subordinate=05, sec-latency=0");
    expect(b, "Memory behind bridge: fe000000-fe4fffff [size=5M] [32-bit]");
    expect(b, "I/O behind bridge: 00001000-00000fff [disabled] [32-bit]");
    expect(b, "Prefetchable memory behind bridge: 0000000000100000-00000000000fffff [disabled] [64-bit]");
    expect(b, "Capabilities: [50] Power Management version 3");
    expect(b, "PME(D0+,D1-,D2-,D3hot+,D3cold+)");
    expect(b, "Capabilities: [58] Express (v2) Root Port (Slot-), MSI 00");
    expect(b, "LnkCap:\tPort #0, Speed 8GT/s, Width x4, ASPM L0s L1, Exit Latency L0s <128ns, L1 <4us");
    expect(b, "ClockPM- Surprise- LLActRep+ BwNot+ ASPMOptComp-");
    expect(b, "LnkSta:\tSpeed 8GT/s, Width x4\n");
    expect(b, "TrErr- Train- SlotClk+ DLActive+ BWMgmt- ABWMgmt-");
    expect(b, "RootCap: CRSVisible+");
    expect(b, "RootCtl: ErrCorrectable- ErrNon-Fatal- ErrFatal- PMEIntEna- CRSVisible-");
    expect(b, "Completion Timeout: Range ABCD, TimeoutDis+ NROPrPrP- LTR+");
    expect(b, "10BitTagComp+ 10BitTagReq-");
    expect(b, "ARIFwd+");
    expect(b, "LnkCap2: Supported Link Speeds: 2.5-8GT/s");
    expect(b, "LnkCtl2: Target Link Speed: 8GT/s");
    expect(b, "Capabilities: [a0] MSI: Enable+ Count=1/1 Maskable- 64bit+");
    expect(b, "Address: 00000000fee00000  Data: 0024");
    expect(b, "Capabilities: [b0] Subsystem: ");
    expect(b, "Capabilities: [100 v2] Advanced Error Reporting");
    expect(b, "CESta:\tRxErr- BadTLP+ BadDLLP-");
    expect(b, "CEMsk:\tRxErr- BadTLP- BadDLLP- Rollover- Timeout- AdvNonFatalErr+");
    expect(b, "UESvrt:\tDLP+ SDES+ TLP- FCP+ CmpltTO- CmpltAbrt- UnxCmplt- RxOF+ MalfTLP+ ECRC- UnsupReq- ACSViol-");
    expect(b, "AERCap:\tFirst Error Pointer: 00, ECRCGenCap+ ECRCGenEn- ECRCChkCap+ ECRCChkEn-");
    expect(b, "RootCmd: CERptEn- NFERptEn- FERptEn-");
    expect(b, "ErrorSrc: ERR_COR: 0000 ERR_FATAL/NONFATAL: 0000");
    expect(b, "Capabilities: [150 v1] Access Control Services");
    expect(b, "ACSCap:\tSrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-");
    expect(b, "ACSCtl:\tSrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-");
    free(b);

    b = block(out, "01:00.0 ");
    expect(b, "[10b5:8747] (rev ca)");
    expect(b, "Region 0: Memory at fe400000 (32-bit, non-prefetchable)");
    expect(b, "Capabilities: [48] MSI: Enable+ Count=8/8 Maskable+ 64bit+");
    expect(b, "Address: 00000000fee01000  Data: 4030");
    expect(b, "Masking: 00000004  Pending: 00000004");
    expect(b, "Capabilities: [68] Express (v2) Upstream Port, MSI 00");
    expect(b, "DevCap:\tMaxPayload 2048 bytes, PhantFunc 0");
    expect(b, "ExtTag- AttnBtn- AttnInd- PwrInd- RBE+ SlotPowerLimit 25W");
    expect(b, "MaxPayload 128 bytes, MaxReadReq 512 bytes");
    expect(b, "LnkCap:\tPort #0, Speed 8GT/s, Width x16, ASPM L1, Exit Latency L1 <64us");
    expect(b, "LnkSta:\tSpeed 8GT/s, Width x4 (downgraded)");
    expect(b, "Capabilities: [a4] Subsystem: ");
    expect(b, "Capabilities: [100 v1] Device Serial Number 00-0e-df-b5-10-00-87-ab");
    expect(b, "Capabilities: [fb4 v2] Advanced Error Reporting");
    free(b);

    b = block(out, "02:08.0 ");
    expect(b, "Bus: primary=02, secondary=03, subordinate=03, sec-latency=0");
    expect(b, "Capabilities: [68] Express (v2) Downstream Port (Slot+), MSI 00");
    expect(b, "LnkCap:\tPort #8, Speed 8GT/s, Width x4, ASPM L1, Exit Latency L1 <64us");
    expect(b, "ClockPM- Surprise+ LLActRep+ BwNot+ ASPMOptComp-");
    expect(b, "LnkSta:\tSpeed 5GT/s, Width x1\n");
    expect(b, "DLActive+");
    expect(b, "SltCap:\tAttnBtn+ PwrCtrl+ MRL- AttnInd+ PwrInd+ HotPlug+ Surprise-");
    expect(b, "Slot #8, PowerLimit 25W; Interlock- NoCompl-");
    expect(b, "Control: AttnInd Off, PwrInd On, Power- Interlock-");
    expect(b, "SltSta:\tStatus: AttnBtn- PowerFlt- MRL- CmdCplt- PresDet+ Interlock-");
    expect(b, "LnkCtl2: Target Link Speed: 8GT/s, EnterCompliance- SpeedDis-, Selectable De-emphasis: -6dB");
    expect(b, "Capabilities: [f24 v1] Access Control Services");
    expect(b, "EgressCtrl+ DirectTrans+");
    free(b);

    b = block(out, "02:10.0 ");
    expect(b, "LnkSta:\tSpeed 2.5GT/s, Width x0\n");
    expect(b, "DLActive-");
    expect(b, "PresDet- Interlock-");
    expect(b, "Control: AttnInd Off, PwrInd Off, Power+ Interlock-");
    expect(b, "Memory behind bridge: 00100000-000fffff [disabled] [32-bit]");
    free(b);

    b = block(out, "03:00.0 ");
    expect(b, "[1180]: Lattice Semiconductor Corporation Device [1204:e250] (rev 01)");
    expect(b, "Region 0: Memory at fe000000 (32-bit, non-prefetchable)");
    expect(b, "Region 1: Memory at fe010000 (32-bit, non-prefetchable)");
    expect(b, "Flags: PMEClk- DSI- D1+ D2+ AuxCurrent=0mA PME(D0+,D1+,D2+,D3hot+,D3cold-)");
    expect(b, "Capabilities: [70] MSI: Enable+ Count=2/2 Maskable- 64bit+");
    expect(b, "Address: 00000000fee00000  Data: 4022");
    expect(b, "Capabilities: [90] Express (v2) Endpoint, MSI 00");
    expect(b, "DevCap:\tMaxPayload 512 bytes, PhantFunc 0, Latency L0s unlimited, L1 unlimited");
    expect(b, "MaxPayload 256 bytes, MaxReadReq 512 bytes");
    expect(b, "LnkCap:\tPort #0, Speed 5GT/s, Width x1, ASPM L0s, Exit Latency L0s <2us");
    expect(b, "LnkCtl:\tASPM Disabled; RCB 64 bytes, Disabled- CommClk+");
    expect(b, "LnkSta:\tSpeed 5GT/s, Width x1\n");
    expect(b, "LnkCap2: Supported Link Speeds: 2.5-5GT/s");
    free(b);

    b = block(out, "04:00.0 ");
    expect(b, "[0200]: Intel Corporation I210 Gigabit Network Connection [8086:1533] (rev 03)");
    expect(b, "Region 0: Memory at fe100000 (32-bit, non-prefetchable)");
    expect(b, "Region 2: I/O ports at <unassigned> [disabled]");
    expect(b, "Region 3: Memory at fe180000 (32-bit, non-prefetchable)");
    expect(b, "Capabilities: [50] MSI: Enable- Count=1/1 Maskable+ 64bit+");
    expect(b, "Capabilities: [70] MSI-X: Enable+ Count=5 Masked-");
    expect(b, "Vector table: BAR=3 offset=00000000");
    expect(b, "PBA: BAR=3 offset=00002000");
    expect(b, "RBE+ FLReset+ SlotPowerLimit 0W");
    expect(b, "DevCtl:\tCorrErr+ NonFatalErr+ FatalErr+ UnsupReq+");
    expect(b, "NoSnoop+ FLReset-");
    expect(b, "DevSta:\tCorrErr- NonFatalErr+ FatalErr- UnsupReq+ AuxPwr- TransPend-");
    expect(b, "LnkCtl:\tASPM Disabled; RCB 128 bytes, Disabled- CommClk+");
    expect(b, "ClockPM- Surprise- LLActRep- BwNot- ASPMOptComp+");
    expect(b, "UESta:\tDLP- SDES- TLP- FCP- CmpltTO- CmpltAbrt- UnxCmplt- RxOF- MalfTLP- ECRC- UnsupReq+ ACSViol-");
    expect(b, "AERCap:\tFirst Error Pointer: 14,");
    expect(b, "HeaderLog: 40000001 0300000f 00000000 ffbf8000");
    expect(b, "Capabilities: [140 v1] Device Serial Number 00-1b-21-ff-fe-8a-9c-10");
    free(b);
    free(out);

    /* lspci re-prints the bytes exactly as our writer wrote them (-n: no names) */
    static const struct { unsigned bytes; const char *opt; } sizes[] = {
        {64, "-x"}, {256, "-xxx"}, {4096, "-xxxx"}};
    for (unsigned s = 0; s < 3; s++) {
        size_t l2;
        char *mine = dump_machine(mc, sizes[s].bytes, 0, &l2);
        snprintf(cmd, sizeof cmd, LSPCI " -F '%s' -n %s 2>/dev/null", path, sizes[s].opt);
        out = run(cmd);
        assert_string_equal(out, mine);
        free(out);
        free(mine);
    }
    free(dump);

    /* a non-zero domain: lspci shows domains on every function */
    dump = dump_machine(mc, 256, 0x10, &len);
    write_file(path, dump, len);
    snprintf(cmd, sizeof cmd, LSPCI " -F '%s' -n -xxx 2>/dev/null", path);
    out = run(cmd);
    assert_string_equal(out, dump);
    expect(out, "0010:04:00.0 0200: 8086:1533 (rev 03)\n");
    free(out);
    free(dump);
    unlink(path);
    free(mc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decodes_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
