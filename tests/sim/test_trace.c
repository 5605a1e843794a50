#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sim/trace.h"

struct capture {
    char *buf;
    size_t len;
    FILE *f;
};

static void cap_open(struct capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

static void cap_close(struct capture *c)
{
    fclose(c->f);
}

static const struct sim_trace_rec recs[] = {
    {49001605000000ull, 8000, "rp0-ep", SIM_TRACE_UP, "TLP",
     "MWr64 req=01:00.0 tag=0 addr=0xffbf8000 len=32", "\"fmt\":\"MWr\",\"len\":32"},
    {49001605123456ull, 0, "iommu", SIM_TRACE_NONE, "event", "IO_PAGE_FAULT\nlogged", NULL},
    {999, 1, "a-very-long-object-name-for-the-column", SIM_TRACE_DOWN, "DLLP",
     "Ack seq=5", "\"seq\":5"},
};

static void test_text_sink(void **state)
{
    (void)state;
    struct sim_trace *tr = sim_trace_create();
    assert_false(sim_trace_enabled(tr));
    struct capture c;
    cap_open(&c);
    assert_int_equal(sim_trace_open_stream(tr, c.f, SIM_TRACE_TEXT, NULL), 0);
    assert_true(sim_trace_enabled(tr));
    assert_false(sim_trace_signals_enabled(tr));
    for (size_t i = 0; i < 3; i++)
        sim_trace_emit(tr, &recs[i]);
    assert_int_equal(sim_trace_close(tr, NULL), 0);
    assert_false(sim_trace_enabled(tr));
    cap_close(&c);
    assert_string_equal(c.buf,
        "         time (ns)  duration (ns)  dir  where                kind  summary\n"
        "   49001605000.000          8.000  up   rp0-ep               TLP   MWr64 req=01:00.0 tag=0 addr=0xffbf8000 len=32\n"
        "   49001605123.456              -  -    iommu                event IO_PAGE_FAULT logged\n"
        "             0.999          0.001  down a-very-long-object-name-for-the-column DLLP  Ack seq=5\n");
    free(c.buf);
    sim_trace_destroy(tr);
}

static void test_jsonl_sink(void **state)
{
    (void)state;
    struct sim_trace *tr = sim_trace_create();
    struct capture c;
    cap_open(&c);
    assert_int_equal(sim_trace_open_stream(tr, c.f, SIM_TRACE_JSONL, NULL), 0);
    for (size_t i = 0; i < 3; i++)
        sim_trace_emit(tr, &recs[i]);
    struct sim_trace_rec odd = {5, 0, "q\"uote\\", SIM_TRACE_NONE, "event",
                                "tab\there \001 ctrl", NULL};
    sim_trace_emit(tr, &odd);
    assert_int_equal(sim_trace_close(tr, NULL), 0);
    cap_close(&c);

    /* Every line is one JSON object that jansson parses back. */
    char *save = NULL;
    char *line = strtok_r(c.buf, "\n", &save);
    for (size_t i = 0; i < 4; i++, line = strtok_r(NULL, "\n", &save)) {
        assert_non_null(line);
        json_error_t jerr;
        json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
        if (!o)
            fail_msg("line %zu: %s: %s", i, jerr.text, line);
        assert_true(json_is_object(o));
        const struct sim_trace_rec *r = i < 3 ? &recs[i] : &odd;
        assert_int_equal(json_integer_value(json_object_get(o, "t_ps")), r->t);
        assert_int_equal(json_integer_value(json_object_get(o, "duration_ps")), r->duration);
        assert_string_equal(json_string_value(json_object_get(o, "where")), r->where);
        assert_string_equal(json_string_value(json_object_get(o, "kind")), r->kind);
        assert_string_equal(json_string_value(json_object_get(o, "text")), r->text);
        const char *dir = json_string_value(json_object_get(o, "dir"));
        assert_string_equal(dir, r->dir == SIM_TRACE_UP ? "up" : r->dir == SIM_TRACE_DOWN ? "down" : "none");
        if (i == 0) {
            assert_string_equal(json_string_value(json_object_get(o, "fmt")), "MWr");
            assert_int_equal(json_integer_value(json_object_get(o, "len")), 32);
        }
        if (i == 2)
            assert_int_equal(json_integer_value(json_object_get(o, "seq")), 5);
        json_decref(o);
    }
    assert_null(line);
    free(c.buf);
    sim_trace_destroy(tr);
}

static void test_vcd_sink(void **state)
{
    (void)state;
    struct sim_trace *tr = sim_trace_create();
    struct capture c;
    cap_open(&c);
    assert_int_equal(sim_trace_open_stream(tr, c.f, SIM_TRACE_VCD, NULL), 0);
    assert_true(sim_trace_signals_enabled(tr));
    assert_false(sim_trace_enabled(tr)); /* records are not for VCD */
    int l0 = sim_trace_signal(tr, "fabric.link0", "ltssm_l0", 1, NULL);
    int cr = sim_trace_signal(tr, "fabric.link0", "credits", 8, NULL);
    int busy = sim_trace_signal(tr, "fabric", "busy", 1, NULL);
    int flt = sim_trace_signal(tr, "iommu", "faults", 16, NULL);
    assert_int_equal(l0, 0);
    assert_int_equal(flt, 3);
    struct pcilab_err err = {0};
    assert_int_equal(sim_trace_signal(tr, "x", "w", 0, &err), -PCILAB_EINVAL);
    assert_int_equal(sim_trace_signal(tr, "x", "w", 65, &err), -PCILAB_EINVAL);
    sim_trace_emit(tr, &recs[0]); /* ignored by VCD */
    sim_trace_change(tr, 0, l0, 0);
    sim_trace_change(tr, 0, cr, 0x20);
    sim_trace_change(tr, 1500, l0, 1);
    sim_trace_change(tr, 1500, busy, 1);
    sim_trace_change(tr, 2000, cr, 0x1ff);   /* masked to 8 bits */
    sim_trace_change(tr, 2000, l0, 1);       /* no change: not written */
    sim_trace_change(tr, 1000, flt, 5);      /* earlier time: written at 2000 */
    sim_trace_change(tr, 3000, cr, 0);
    assert_int_equal(sim_trace_signal(tr, "late", "sig", 1, &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "after the first value change"));
    assert_int_equal(sim_trace_signal(tr, "late", NULL, 1, &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "without a name"));
    assert_int_equal(sim_trace_close(tr, NULL), 0);
    cap_close(&c);
    assert_string_equal(c.buf,
        "$version pcilab $end\n"
        "$timescale 1ps $end\n"
        "$scope module fabric $end\n"
        "$var wire 1 # busy $end\n"
        "$scope module link0 $end\n"
        "$var wire 1 ! ltssm_l0 $end\n"
        "$var wire 8 \" credits [7:0] $end\n"
        "$upscope $end\n"
        "$upscope $end\n"
        "$scope module iommu $end\n"
        "$var wire 16 $ faults [15:0] $end\n"
        "$upscope $end\n"
        "$enddefinitions $end\n"
        "#0\n"
        "$dumpvars\n"
        "x!\n"
        "bx \"\n"
        "x#\n"
        "bx $\n"
        "$end\n"
        "0!\n"
        "b100000 \"\n"
        "#1500\n"
        "1!\n"
        "1#\n"
        "#2000\n"
        "b11111111 \"\n"
        "b101 $\n"
        "#3000\n"
        "b0 \"\n");
    free(c.buf);
    sim_trace_destroy(tr);
}

static void test_vcd_identifier_codes(void **state)
{
    (void)state;
    struct sim_trace *tr = sim_trace_create();
    struct capture c;
    cap_open(&c);
    sim_trace_open_stream(tr, c.f, SIM_TRACE_VCD, NULL);
    char name[16];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "s%d", i);
        assert_int_equal(sim_trace_signal(tr, "top", name, 1, NULL), i);
    }
    sim_trace_close(tr, NULL);
    cap_close(&c);
    /* 94 one-character codes '!'..'~', then two characters, least significant
     * digit first. */
    assert_non_null(strstr(c.buf, "$var wire 1 ! s0 $end\n"));
    assert_non_null(strstr(c.buf, "$var wire 1 ~ s93 $end\n"));
    assert_non_null(strstr(c.buf, "$var wire 1 !\" s94 $end\n"));
    assert_non_null(strstr(c.buf, "$var wire 1 \"\" s95 $end\n"));
    /* Closed without any change: the header and the initial dump are still there. */
    assert_non_null(strstr(c.buf, "$enddefinitions $end\n#0\n$dumpvars\n"));
    free(c.buf);
    sim_trace_destroy(tr);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_open_by_extension_and_errors(void **state)
{
    (void)state;
    struct sim_trace *tr = sim_trace_create();
    struct pcilab_err err = {0};
    char txt[512], jsonl[512], vcd[512], bad[512];
    snprintf(txt, sizeof txt, "%s/test_trace_out.log", PCILAB_BINARY_DIR);
    snprintf(jsonl, sizeof jsonl, "%s/test_trace_out.json", PCILAB_BINARY_DIR);
    snprintf(vcd, sizeof vcd, "%s/test_trace_out.vcd", PCILAB_BINARY_DIR);
    snprintf(bad, sizeof bad, "%s/test_trace_out.bin", PCILAB_BINARY_DIR);
    assert_int_equal(sim_trace_open(tr, txt, "auto", &err), 0);
    assert_int_equal(sim_trace_open(tr, jsonl, NULL, &err), 0);
    assert_int_equal(sim_trace_open(tr, vcd, "auto", &err), 0);
    assert_int_equal(sim_trace_open(tr, bad, "auto", &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "extension"));
    assert_int_equal(sim_trace_open(tr, bad, "yaml", &err), -PCILAB_EINVAL);
    assert_non_null(strstr(err.msg, "unknown trace format 'yaml'"));
    assert_int_equal(sim_trace_open(tr, "/nonexistent-dir/x.txt", "auto", &err), -PCILAB_EIO);
    assert_string_equal(err.file, "/nonexistent-dir/x.txt");
    assert_int_equal(sim_trace_open_stream(tr, stdout, SIM_TRACE_AUTO, &err), -PCILAB_EINVAL);
    int s = sim_trace_signal(tr, "top", "clk", 1, NULL);
    sim_trace_emit(tr, &recs[2]);
    sim_trace_change(tr, 10, s, 1);
    assert_int_equal(sim_trace_close(tr, &err), 0);
    assert_non_null(strstr(slurp(txt), "Ack seq=5"));
    assert_true(strncmp(slurp(jsonl), "{\"t_ps\":999,", 12) == 0);
    assert_non_null(strstr(slurp(vcd), "#10\n1!\n"));
    enum sim_trace_format f;
    assert_int_equal(sim_trace_parse_format("text", &f, NULL), 0);
    assert_int_equal(f, SIM_TRACE_TEXT);
    assert_int_equal(sim_trace_parse_format("json", &f, NULL), 0);
    assert_int_equal(f, SIM_TRACE_JSONL);
    sim_trace_destroy(tr);
}

static void test_vcd_sink_joining_late(void **state)
{
    (void)state;
    struct sim_trace *tr = sim_trace_create();
    int s = sim_trace_signal(tr, "", "v", 4, NULL);
    sim_trace_change(tr, 100, s, 9);
    struct capture c;
    cap_open(&c);
    sim_trace_open_stream(tr, c.f, SIM_TRACE_VCD, NULL);
    sim_trace_change(tr, 200, s, 3);
    sim_trace_close(tr, NULL);
    cap_close(&c);
    assert_non_null(strstr(c.buf, "$scope module pcilab $end\n$var wire 4 ! v [3:0] $end\n"));
    assert_non_null(strstr(c.buf, "#100\n$dumpvars\nb1001 !\n$end\n#200\nb11 !\n"));
    free(c.buf);
    sim_trace_destroy(tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_sink),
        cmocka_unit_test(test_jsonl_sink),
        cmocka_unit_test(test_vcd_sink),
        cmocka_unit_test(test_vcd_identifier_codes),
        cmocka_unit_test(test_open_by_extension_and_errors),
        cmocka_unit_test(test_vcd_sink_joining_late),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
