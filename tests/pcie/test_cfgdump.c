/* pciutils dump format: exact writer output, round trips, the PEX 8747 switch
 * fixtures (real lspci output), pasted-text tolerance and errors with positions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcie/cfgdump.h"
#include "machine.h"

#define FIXTURE PCILAB_SOURCE_DIR "/tests/pcie/data/pex8747-switch.lspci"
#define FIXTURE_VVV PCILAB_SOURCE_DIR "/tests/pcie/data/pex8747-switch-vvv.lspci"

static struct machine *new_machine(void)
{
    struct machine *m = malloc(sizeof *m);
    assert_non_null(m);
    assert_int_equal(machine_build(m), 0);
    return m;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void test_writer_exact(void **state)
{
    (void)state;
    struct pcie_cfg c;
    struct pcie_cfg_ident id = {.vendor_id = 0x1204, .device_id = 0xe250, .revision = 0x01,
                                .class_code = 0x118000, .subsys_vendor_id = 0x1204,
                                .subsys_id = 0x3010, .interrupt_pin = 1, .pcie = true};
    assert_int_equal(pcie_cfg_init_type0(&c, &id, NULL), 0);
    struct pcie_dump_entry e;
    pcie_dump_entry_from_cfg(&e, 0, 0x03, 0x00, 0, &c);
    char *out;
    size_t len;
    assert_int_equal(pcie_dump_format(&e, 1, 64, 0, &out, &len, NULL), 0);
    const char *want =
        "03:00.0 1180: 1204:e250 (rev 01)\n"
        "00: 04 12 50 e2 00 00 00 00 01 00 80 11 00 00 00 00\n"
        "10: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
        "20: 00 00 00 00 00 00 00 00 00 00 00 00 04 12 10 30\n"
        "30: 00 00 00 00 00 00 00 00 00 00 00 00 ff 01 00 00\n"
        "\n";
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    free(out);
    /* a non-zero domain puts domains on every function; a description is kept */
    struct pcie_dump_entry two[2];
    pcie_dump_entry_from_cfg(&two[0], 0, 0, 0, 0, &c);
    pcie_dump_entry_from_cfg(&two[1], 0x10000, 0xe1, 0x1f, 7, &c);
    two[1].desc = "Signal processing controller: Lattice\nignored";
    assert_int_equal(pcie_dump_format(two, 2, 256, 0, &out, &len, NULL), 0);
    assert_non_null(strstr(out, "0000:00:00.0 1180: 1204:e250 (rev 01)\n00: 04 12"));
    assert_non_null(strstr(out, "\n10000:e1:1f.7 Signal processing controller: Lattice\n00:"));
    assert_non_null(strstr(out, "\nf0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n\n"));
    assert_null(strstr(out, "100: "));
    free(out);
    /* -D */
    assert_int_equal(pcie_dump_format(&e, 1, 64, PCIE_DUMP_DOMAINS, &out, &len, NULL), 0);
    assert_int_equal(strncmp(out, "0000:03:00.0 ", 13), 0);
    free(out);
    /* a conventional function under -xxxx prints its 256 bytes */
    id.pcie = false;
    assert_int_equal(pcie_cfg_init_type0(&c, &id, NULL), 0);
    pcie_dump_entry_from_cfg(&e, 0, 3, 0, 0, &c);
    assert_int_equal(pcie_dump_format(&e, 1, 4096, 0, &out, &len, NULL), 0);
    assert_non_null(strstr(out, "\nf0: "));
    assert_null(strstr(out, "\n100: "));
    free(out);
    struct pcilab_err err;
    assert_int_equal(pcie_dump_format(&e, 1, 128, 0, &out, &len, &err), -PCILAB_EINVAL);
}

static void check_against_machine(const struct machine *mc, const struct pcie_dump *d, unsigned bytes)
{
    assert_int_equal(d->count, MACHINE_FUNCS);
    for (unsigned i = 0; i < MACHINE_FUNCS; i++) {
        const struct pcie_dump_func *f = &d->funcs[i];
        assert_int_equal(f->domain, 0);
        assert_int_equal(f->bus, mc->f[i].bus);
        assert_int_equal(f->dev, mc->f[i].dev);
        assert_int_equal(f->fn, mc->f[i].fn);
        assert_int_equal(f->len, bytes);
        assert_int_equal(f->present, bytes);
        assert_memory_equal(f->bytes, mc->f[i].cfg.data, bytes);
        if (bytes < 4096)
            assert_int_equal(f->bytes[bytes], 0xff);
        assert_true(pcie_dump_func_has(f, 0, bytes));
        assert_false(pcie_dump_func_has(f, bytes - 2, 4));
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    struct machine *mc = new_machine();
    static const unsigned sizes[] = {64, 256, 4096};
    for (unsigned s = 0; s < 3; s++) {
        struct pcie_dump_entry e[MACHINE_FUNCS];
        for (unsigned i = 0; i < MACHINE_FUNCS; i++)
            pcie_dump_entry_from_cfg(&e[i], 0, mc->f[i].bus, mc->f[i].dev, mc->f[i].fn,
                                     &mc->f[i].cfg);
        char *out;
        size_t len;
        assert_int_equal(pcie_dump_format(e, MACHINE_FUNCS, sizes[s], 0, &out, &len, NULL), 0);
        struct pcie_dump d;
        pcie_dump_init(&d);
        assert_int_equal(pcie_dump_parse(&d, out, len, "mem", NULL), 0);
        check_against_machine(mc, &d, sizes[s]);
        /* and formatting the parsed functions again gives the same text */
        struct pcie_dump_entry back[MACHINE_FUNCS];
        for (unsigned i = 0; i < MACHINE_FUNCS; i++) {
            back[i] = (struct pcie_dump_entry){.bus = d.funcs[i].bus, .dev = d.funcs[i].dev,
                                               .fn = d.funcs[i].fn, .bytes = d.funcs[i].bytes,
                                               .len = d.funcs[i].len};
        }
        char *again;
        size_t alen;
        assert_int_equal(pcie_dump_format(back, MACHINE_FUNCS, sizes[s], 0, &again, &alen, NULL),
                         0);
        assert_int_equal(alen, len);
        assert_memory_equal(again, out, len);
        free(again);
        free(out);
        pcie_dump_free(&d);
    }
    free(mc);
}

static void test_fixtures(void **state)
{
    (void)state;
    struct machine *mc = new_machine();
    struct pcie_dump d;
    pcie_dump_init(&d);
    struct pcilab_err err;
    assert_int_equal(pcie_dump_load(&d, FIXTURE, &err), 0);
    check_against_machine(mc, &d, 4096);
    assert_non_null(pcie_dump_find(&d, 0, 2, 0x10, 0));
    assert_null(pcie_dump_find(&d, 0, 2, 0x11, 0));
    /* each function: header, 256 hex lines, blank line */
    assert_int_equal(pcie_dump_find(&d, 0, 4, 0, 0)->line, 1 + 258 * 6);
    pcie_dump_free(&d);
    /* lspci -D -vvv -xxx: domains, verbose lines between header and hex */
    assert_int_equal(pcie_dump_load(&d, FIXTURE_VVV, &err), 0);
    check_against_machine(mc, &d, 256);
    assert_int_equal(d.funcs[0].line, 1);
    pcie_dump_free(&d);
    assert_int_equal(pcie_dump_load(&d, PCILAB_SOURCE_DIR "/tests/pcie/data/missing", &err),
                     -PCILAB_EIO);
    assert_non_null(strstr(err.file, "missing"));
    free(mc);
}

/* As a user pastes it: CRLF, trailing blanks, extra blank lines, indentation. */
static void test_pasted(void **state)
{
    (void)state;
    struct machine *mc = new_machine();
    size_t len;
    char *text = slurp(FIXTURE, &len);
    size_t cap = len * 3 + 64, n = 0;
    char *p = malloc(cap);
    assert_non_null(p);
    n += (size_t)sprintf(p, "$ sudo lspci -xxxx\r\n\r\n");
    unsigned line = 0;
    for (size_t i = 0; i < len; i++) {
        if (i == 0 || text[i - 1] == '\n') {
            line++;
            if (line % 3 == 0)
                p[n++] = ' ';
        }
        if (text[i] == '\n') {
            if (line % 2)
                p[n++] = ' ';
            p[n++] = '\r';
            p[n++] = '\n';
            if (line % 7 == 0) {
                p[n++] = '\r';
                p[n++] = '\n';
            }
        } else {
            p[n++] = text[i];
        }
    }
    struct pcie_dump d;
    pcie_dump_init(&d);
    struct pcilab_err err;
    int r = pcie_dump_parse(&d, p, n, "paste", &err);
    if (r)
        fail_msg("%s:%u:%u %s", err.file, err.line, err.col, err.msg);
    check_against_machine(mc, &d, 4096);
    pcie_dump_free(&d);
    free(p);
    free(text);
    free(mc);
}

struct bad_case {
    const char *text;
    int code;
    unsigned line, col;
    const char *needle;
};

static void test_errors(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"00:00.0 Host bridge\n00: 86 80 0g 12\n", -PCILAB_EINVAL, 2, 11, "'0g'"},
        {"00:00.0 x\n00: 86 80 123 12\n", -PCILAB_EINVAL, 2, 11, "'123'"},
        {"00:00.0 x\r\n  10: 86  zz\r\n", -PCILAB_EINVAL, 2, 11, "'zz'"},
        {"00: 86 80\n", -PCILAB_EINVAL, 1, 1, "before any device"},
        {"00:00.0 x\n1000: 00\n", -PCILAB_ERANGE, 2, 1, "beyond"},
        {"00:00.0 x\nff0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n",
         -PCILAB_ERANGE, 2, 54, "runs past"},
        {"00:00.0 x\n00: 86\n\n00:00.0 again\n", -PCILAB_EINVAL, 4, 1, "line 1"},
        {"00:20.0 x\n", -PCILAB_EINVAL, 1, 4, "'20'"},
        {"0000:00:1f.8 x\n", -PCILAB_EINVAL, 1, 12, "'8'"},
        {"00:00.0 x\n00: 86 80 34 12\n00: 01\n", -PCILAB_EINVAL, 3, 5, "already given"},
        {"00:00.0 x\n00: 86 80 34 12 00 00\n00 00 00 00\n", -PCILAB_EINVAL, 3, 1, "wrapped"},
        {"hello\nworld\n", -PCILAB_EINVAL, 2, 0, "no device line"},
        {"", -PCILAB_EINVAL, 1, 0, "no device line"},
        {"00:00.0 x\n00: 86\0 80\n", -PCILAB_EINVAL, 2, 0, "NUL"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *c = &cases[i];
        size_t len = strlen(c->text);
        if (strstr(c->needle, "NUL"))
            len = 21;
        struct pcie_dump d;
        pcie_dump_init(&d);
        struct pcilab_err err;
        pcilab_err_clear(&err);
        int r = pcie_dump_parse(&d, c->text, len, "in.txt", &err);
        if (r != c->code || err.line != c->line || err.col != c->col ||
            !strstr(err.msg, c->needle))
            fail_msg("case %u: got %d %u:%u '%s'", i, r, err.line, err.col, err.msg);
        assert_string_equal(err.file, "in.txt");
        pcie_dump_free(&d);
    }
}

static void test_accepts(void **state)
{
    (void)state;
    /* domains of 4..6 digits, text after the BDF, other text ignored, partial
     * dumps, uppercase hex, a header without description */
    const char *text =
        "Some mail text: 00 11 22 (not a dump)\n"
        "10000:e1:00.0 Non-Volatile memory controller: X\n"
        "\tSubsystem: lspci -v line\n"
        "00: 86 80 F3 0A 06 04 10 00\n"
        "\n"
        "0001:02:03.4\n"
        "40: 01 02\n"
        "c0: ff\n";
    struct pcie_dump d;
    pcie_dump_init(&d);
    struct pcilab_err err;
    assert_int_equal(pcie_dump_parse(&d, text, strlen(text), NULL, &err), 0);
    assert_int_equal(d.count, 2);
    assert_int_equal(d.funcs[0].domain, 0x10000);
    assert_int_equal(d.funcs[0].bus, 0xe1);
    assert_int_equal(d.funcs[0].len, 8);
    assert_int_equal(d.funcs[0].bytes[2], 0xf3);
    assert_int_equal(d.funcs[0].line, 2);
    assert_int_equal(d.funcs[1].domain, 1);
    assert_int_equal(d.funcs[1].dev, 3);
    assert_int_equal(d.funcs[1].fn, 4);
    assert_int_equal(d.funcs[1].len, 0xc1);
    assert_int_equal(d.funcs[1].present, 3);
    assert_int_equal(d.funcs[1].bytes[0], 0xff);
    assert_true(pcie_dump_func_has(&d.funcs[1], 0x40, 2));
    assert_false(pcie_dump_func_has(&d.funcs[1], 0x40, 3));
    /* appending a second dump to the same set; duplicates across them are errors */
    const char *more = "0001:02:03.4 again\n";
    assert_int_equal(pcie_dump_parse(&d, more, strlen(more), "b", &err), -PCILAB_EINVAL);
    pcie_dump_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_exact),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_pasted),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_accepts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
