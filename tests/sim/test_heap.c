/* The heap on transparent huge pages (sim/heap.h). Its own program: the
 * advice is given first thing, as pcilab's main() does, on a heap that only
 * the C library's start-up has used. */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/heap.h"
#include "sim/table.h"

/* Is [p, p+len) inside a mapping advised MADV_HUGEPAGE ("hg" in smaps)? */
static int in_hugepage_mapping(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    int inside = 0, hg = 0;
    uintptr_t a = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = a >= lo && a < hi;
        } else if (inside && !strncmp(line, "VmFlags:", 8)) {
            hg = strstr(line, " hg") != NULL;
            break;
        }
    }
    fclose(f);
    return hg;
}

/* When the advice is given, small and large blocks come from the advised
 * heap (not from the start-up's heap, nor from mmap), and malloc keeps
 * working. */
static void heap_on_huge_pages(void **state)
{
    int done = *(int *)*state;
    void *small = malloc(100), *large = malloc(1u << 20);
    uint8_t *table = sim_table_alloc(800u << 10);
    assert_non_null(small);
    assert_non_null(large);
    assert_non_null(table);
    if (done) {
        assert_int_equal(in_hugepage_mapping(small), 1);
        assert_int_equal(in_hugepage_mapping(large), 1);
        assert_int_equal(in_hugepage_mapping(table), 1);
    } else {
        print_message("no huge page advice here (sanitizer build or no THP): not checked\n");
    }
    memset(large, 1, 1u << 20);
    for (size_t i = 0; i < (800u << 10); i++)
        assert_int_equal(table[i], 0);
    free(small);
    free(large);
    sim_table_free(table, 800u << 10);
}

int main(void)
{
    int done = sim_heap_use_huge_pages(); /* before cmocka allocates */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(heap_on_huge_pages, &done),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
