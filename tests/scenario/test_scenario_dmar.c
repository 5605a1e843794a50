/* firmware: dmar: — the forms parsed into their values, the errors with
 * their line:col, and the bytes scenario/boot.c makes of them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dmar.h"
#include "scenario/boot.h"
#include "scenario/scenario.h"
#include "scn_load_fixture.h"

/* A q35-like root bus (lines 6..8); what a test appends starts at line 9. */
#define HEAD                                                                              \
    "name: t\n"                                                                           \
    "root_complex:\n"                                                                     \
    "  ecam: 0xb0000000\n"                                                                \
    "  mmio32: {base: 0xc0000000, size: 256M}\n"                                          \
    "  functions:\n"                                                                      \
    "    - {bdf: 00:00.0, kind: host_bridge, vendor: 0x8086, device: 0x29c0}\n"           \
    "    - {bdf: 00:1f.0, kind: integrated, vendor: 0x8086, device: 0x2918, class: 0x060100}\n" \
    "    - {bdf: 00:03.0, kind: integrated, vendor: 0x1234, device: 0x11e8, class: 0x00ff00}\n"

static void expect_error(const char *text, const char *want)
{
    struct scn_machine m;
    struct pcilab_err err;
    char buf[1024];
    assert_int_not_equal(scn_t_load(text, &m, &err), 0);
    pcilab_err_str(&err, buf, sizeof buf);
    if (!strstr(buf, want))
        fail_msg("got '%s', want '%s'", buf, want);
    scn_free(&m);
}

static void test_absent_and_none(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok(HEAD, &m);
    assert_int_equal(m.firmware.dmar.kind, SCN_DMAR_ABSENT);
    uint8_t *b = (uint8_t *)1;
    size_t n = 1;
    assert_int_equal(scn_firmware_dmar(&m, &b, &n, NULL), 0);
    assert_null(b);
    assert_int_equal(n, 0);
    scn_free(&m);
    scn_t_load_ok(HEAD "firmware:\n  dmar: none\n", &m);
    assert_int_equal(m.firmware.dmar.kind, SCN_DMAR_ABSENT);
    scn_free(&m);
}

/* dmar: q35 gives QEMU's table: the root-bus functions in devfn order. */
static void test_q35(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok(HEAD "firmware:\n  dmar: q35\n", &m);
    assert_int_equal(m.firmware.dmar.kind, SCN_DMAR_Q35);
    assert_int_equal(m.firmware.dmar.line, 10);
    uint8_t *b;
    size_t n;
    assert_int_equal(scn_firmware_dmar(&m, &b, &n, NULL), 0);
    assert_int_equal(n, 48 + 16 + 8 + 3 * 8);
    assert_int_equal(b[37], HOST_DMAR_INTR_REMAP);
    /* 00:00.0, 00:03.0, 00:1f.0 */
    assert_int_equal(b[48 + 24 + 6], 0);
    assert_int_equal(b[48 + 32 + 6], 3);
    assert_int_equal(b[48 + 40 + 6], 0x1f);
    assert_int_equal(b[48 + 40 + 7], 0);
    free(b);
    scn_free(&m);
}

static void test_described(void **state)
{
    (void)state;
    struct scn_machine m;
    scn_t_load_ok(HEAD "firmware:\n"
                 "  dmar:\n"
                 "    haw: 46\n"
                 "    intr_remap: true\n"
                 "    x2apic_opt_out: true\n"
                 "    drhd:\n"
                 "      - {base: 0xfed90000, devices: [00:03.0, {bridge: 00:1c.0}]}\n"
                 "      - base: 0xfed91000\n"
                 "        include_pci_all: true\n"
                 "        devices: [{ioapic: 2, at: f0:1f.0}, {hpet: 0, at: 00:1f.0}]\n"
                 "    rmrr:\n"
                 "      - {base: 0x7b7f9000, limit: 0x7b818fff, devices: [00:14.0]}\n"
                 "    atsr:\n"
                 "      - {all_ports: true}\n",
            &m);
    const struct scn_dmar *d = &m.firmware.dmar;
    assert_int_equal(d->kind, SCN_DMAR_DESCRIBED);
    assert_int_equal(d->haw, 46);
    assert_int_equal(d->flags, 3);
    assert_int_equal(d->ndrhd, 2);
    assert_int_equal(d->drhd[0].scopes[1].type, HOST_DMAR_SCOPE_BRIDGE);
    assert_int_equal(d->drhd[0].scopes[1].dev, 0x1c);
    assert_int_equal(d->drhd[1].flags, 1);
    assert_int_equal(d->drhd[1].scopes[0].type, HOST_DMAR_SCOPE_IOAPIC);
    assert_int_equal(d->drhd[1].scopes[0].enum_id, 2);
    assert_int_equal(d->drhd[1].scopes[0].bus, 0xf0);
    assert_int_equal(d->rmrr[0].limit, 0x7b818fffull);
    assert_int_equal(d->natsr, 1);
    uint8_t *b;
    size_t n;
    assert_int_equal(scn_firmware_dmar(&m, &b, &n, NULL), 0);
    struct host_dmar *t = NULL;
    assert_int_equal(host_dmar_parse(b, n, &t, NULL), 0);
    assert_int_equal(t->haw, 45);
    assert_int_equal(t->n, 4);
    assert_int_equal(t->s[1].base, 0xfed91000ull);
    assert_int_equal(t->s[2].type, HOST_DMAR_RMRR);
    assert_int_equal(t->s[2].scopes[0].path[0].dev, 0x14);
    assert_int_equal(t->s[3].flags, HOST_ATSR_ALL_PORTS);
    host_dmar_destroy(t);
    free(b);
    scn_free(&m);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error(HEAD "firmware:\n  dmar: yes\n",
                 "t.yaml:10:9: 'dmar' must be none, q35, client or a mapping");
    expect_error(HEAD "firmware:\n  dmar: {haw: 39}\n",
                 "t.yaml:10:9: 'dmar' needs at least one 'drhd' block");
    expect_error(HEAD "firmware:\n  dmar:\n    drhd:\n      - {base: 0xfed90010}\n",
                 "t.yaml:12:16: 'base' 0xfed90010 must be 4 KiB aligned");
    expect_error(HEAD "firmware:\n  dmar:\n    drhd:\n      - {base: 0xfed90000, devices: [{ioapic: 2}]}\n",
                 "t.yaml:12:38: an ioapic or hpet scope is missing required key 'at'");
    expect_error(HEAD "firmware:\n  dmar:\n    drhd: [{base: 0xfed90000}]\n"
                      "    rmrr:\n      - {base: 0x1000, limit: 0x1ffe, devices: [00:14.0]}\n",
                 "t.yaml:13:31: 'limit' 0x1ffe must be the last byte of a 4 KiB page");
    expect_error(HEAD "firmware:\n  dmar:\n    drhd: [{base: 0xfed90000}]\n"
                      "    rmrr:\n      - {base: 0x1000, limit: 0x1fff}\n",
                 "an 'rmrr' block needs 'devices'");
    expect_error(HEAD "firmware:\n  dmar:\n    drhd: [{base: 0xfed90000, flags: 1}]\n",
                 "unknown key 'flags'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absent_and_none),
        cmocka_unit_test(test_q35),
        cmocka_unit_test(test_described),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
