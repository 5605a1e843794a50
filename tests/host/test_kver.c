#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "host/kver.h"

static void table_is_ordered_and_named(void **state)
{
    (void)state;
    assert_true(host_kver_count() >= 4);
    assert_string_equal(host_kver_name(host_kver_at(0)), "4.9.80");
    assert_string_equal(host_kver_name(host_kver_at(1)), "4.20.17");
    assert_string_equal(host_kver_name(host_kver_at(2)), "5.15");
    assert_string_equal(host_kver_name(host_kver_at(3)), "6.1");
    assert_null(host_kver_at(host_kver_count()));
    for (size_t i = 1; i < host_kver_count(); i++) {
        const struct host_kver *a = host_kver_at(i - 1), *b = host_kver_at(i);
        assert_true(host_kver_at_least(b, a->major, a->minor));
        assert_false(host_kver_at_least(a, b->major, b->minor));
    }
}

static void find_accepts_user_spellings(void **state)
{
    (void)state;
    static const struct { const char *text, *name; } cases[] = {
        {"4.9", "4.9.80"},         {"4.9.80", "4.9.80"},  {"4.9.0-6-amd64", "4.9.80"},
        {"4.20.17", "4.20.17"},    {"4.20", "4.20.17"},   {"5.15.0-91-generic", "5.15"},
        {"5.15", "5.15"},          {"6.1.0-13-amd64", "6.1"}, {"6.1", "6.1"},
        {"5.15-rc1", "5.15"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct host_kver *kv = NULL;
        struct pcilab_err e = {0};
        assert_int_equal(host_kver_find(cases[i].text, &kv, &e), 0);
        assert_string_equal(kv->name, cases[i].name);
    }
}

static void find_rejects_with_the_list(void **state)
{
    (void)state;
    static const char *bad[] = {"5.10", "4.1", "6.10.3", "49", "4.", "x4.9", "4.9x",
                                "4.9.", "", "6.1.0.0x", "12345.1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const struct host_kver *kv = NULL;
        struct pcilab_err e = {0};
        assert_int_equal(host_kver_find(bad[i], &kv, &e), -PCILAB_EINVAL);
        assert_null(kv);
        assert_int_equal(e.code, PCILAB_EINVAL);
        assert_non_null(strstr(e.msg, "4.9 (4.9.80), 4.20 (4.20.17), 5.15 (5.15), 6.1 (6.1)"));
        if (*bad[i]) {
            char quoted[32];
            snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
            assert_non_null(strstr(e.msg, quoted));
        }
    }
    struct pcilab_err e = {0};
    assert_int_equal(host_kver_find("5.10.0", NULL, &e), -PCILAB_EINVAL);
    assert_non_null(strstr(e.msg, "5.10 is not modelled"));
    assert_int_equal(host_kver_find(NULL, NULL, &e), -PCILAB_EINVAL);
}

static void facts_differ_where_linux_does(void **state)
{
    (void)state;
    const struct host_kver *v49, *v420, *v515, *v61;
    assert_int_equal(host_kver_find("4.9", &v49, NULL), 0);
    assert_int_equal(host_kver_find("4.20", &v420, NULL), 0);
    assert_int_equal(host_kver_find("5.15", &v515, NULL), 0);
    assert_int_equal(host_kver_find("6.1", &v61, NULL), 0);
    assert_false(v49->iommu_has_nopt);
    assert_true(v420->iommu_has_nopt);
    assert_false(v49->iommu_has_strict_param);
    assert_true(v420->iommu_has_strict_param);
    assert_false(v420->cmdline_reports_unknown);
    assert_true(v515->cmdline_reports_unknown);
    assert_int_equal(v49->swiotlb, HOST_SWIOTLB_4_9);
    assert_int_equal(v61->swiotlb, HOST_SWIOTLB_6_1);
    assert_true(v49->swiotlb_out_of_space_msg);
    assert_false(v420->swiotlb_out_of_space_msg);
    assert_true(v61->swiotlb_has_nareas);
    assert_false(v515->swiotlb_has_nareas);
    for (size_t i = 0; i < host_kver_count(); i++)
        assert_false(host_kver_at(i)->iommu_default_passthrough);
    assert_int_equal(v49->printk_cont, SIM_LOG_CONT_BUFFERED);
    assert_int_equal(v61->printk_cont, SIM_LOG_CONT_EXPLICIT);
}

struct sinkrec { int n, level; char last[256]; };
static void rec(void *ctx, int level, const char *text)
{
    struct sinkrec *r = ctx;
    r->n++;
    r->level = level;
    snprintf(r->last, sizeof r->last, "%s", text);
}

static void logf_formats_and_tolerates_no_sink(void **state)
{
    (void)state;
    struct sinkrec r = {0};
    struct host_log_sink s = {rec, &r};
    host_logf(&s, 4, "a %d b", 7);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.level, 4);
    assert_string_equal(r.last, "a 7 b");
    host_logf(NULL, 4, "x");
    struct host_log_sink none = {NULL, NULL};
    host_logf(&none, 4, "x");
    assert_int_equal(r.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_ordered_and_named),
        cmocka_unit_test(find_accepts_user_spellings),
        cmocka_unit_test(find_rejects_with_the_list),
        cmocka_unit_test(facts_differ_where_linux_does),
        cmocka_unit_test(logf_formats_and_tolerates_no_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
