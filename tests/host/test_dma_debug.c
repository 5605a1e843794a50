/* DMA API debugging (CONFIG_DMA_API_DEBUG) on the small test machine, per
 * version: the boot lines and the command line, each misuse with the exact
 * lines Linux prints (lib/dma-debug.c 4.9, kernel/dma/debug.c 4.20/5.15/6.1),
 * one error shown per boot, correct use silent, and nothing at all (not even
 * an allocation) when debugging is not built in or is switched off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "../pcie/fabric_fixture.h"
#include "host/boot.h"
#include "host/dma.h"
#include "host/dma_debug.h"
#include "host/kernel.h"
#include "host/pci.h"

static const char *const versions[] = {"4.9", "4.20", "5.15", "6.1"};
#define NVERS (sizeof versions / sizeof versions[0])

struct fx {
    struct tfab t;
    struct host_kernel *k, *prev;
    struct pci_dev *p;
    struct device *dev;
    bool v5;                     /* 5.15 or 6.1: pr_fmt "DMA-API: " */
    size_t mark;
};

static void up_cfg(struct fx *x, const char *version, const char *cmdline, bool dma_debug)
{
    tfab_build(&x->t, false);
    assert_int_equal(pcie_enumerate(x->t.f, NULL, NULL, NULL), 0);
    struct host_kernel_config kc = {.version = version, .cmdline = cmdline,
                                    .dma_debug = dma_debug};
    struct pcilab_err err;
    x->k = host_kernel_create(x->t.sim, x->t.f, x->t.ram, x->t.map, &kc, &err);
    assert_non_null(x->k);
    assert_int_equal(host_boot(x->k, NULL, NULL, &err), 0);
    x->prev = host_enter(x->k);
    x->p = host_pci_of_fn(x->k, x->t.e1);
    x->dev = &x->p->dev;
    x->v5 = version[0] != '4';
    assert_int_equal(pci_enable_device(x->p), 0);
    pci_set_master(x->p);
    assert_int_equal(dma_set_mask_and_coherent(x->dev, DMA_BIT_MASK(64)), 0);
    x->mark = sim_log_count(sim_log(x->t.sim));
}

static void up(struct fx *x, const char *version)
{
    up_cfg(x, version, "", true);
}

static void down(struct fx *x)
{
    host_leave(x->prev);
    tfab_free(&x->t);
}

/* The records stored since the last mark; the mark moves past them. */
static size_t take(struct fx *x, char lines[][1100], int *levels, size_t max)
{
    struct sim_log *log = sim_log(x->t.sim);
    size_t n = 0, end = sim_log_count(log);
    for (size_t i = x->mark; i < end && n < max; i++, n++) {
        struct sim_log_rec rec;
        assert_true(sim_log_get(log, i, &rec));
        snprintf(lines[n], 1100, "%s", rec.text);
        if (levels)
            levels[n] = rec.level;
    }
    x->mark = end;
    return n;
}

/* err_printk's WARN text for the device. */
static void warn_text(const struct fx *x, char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void warn_text(const struct fx *x, char *buf, size_t len, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (x->v5)
        snprintf(buf, len, "DMA-API: pci %s: %s", dev_name(x->dev), text);
    else
        snprintf(buf, len, "pci %s: DMA-API: %s", dev_name(x->dev), text);
}

/* Exactly one error shown since the mark: cut here, the message, and
 * "Mapped at:" when the error names an entry. */
static void expect_error(struct fx *x, bool entry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expect_error(struct fx *x, bool entry, const char *fmt, ...)
{
    char text[1024], want[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    warn_text(x, want, sizeof want, "%s", text);
    char lines[8][1100];
    int lv[8];
    size_t n = take(x, lines, lv, 8);
    assert_int_equal(n, entry ? 3 : 2);
    assert_string_equal(lines[0], "------------[ cut here ]------------");
    assert_int_equal(lv[0], SIM_LOG_WARNING);
    assert_string_equal(lines[1], want);
    assert_int_equal(lv[1], SIM_LOG_WARNING); /* the default level */
    if (entry) {
        assert_string_equal(lines[2], x->v5 ? "DMA-API: Mapped at:" : "Mapped at:");
        assert_int_equal(lv[2], SIM_LOG_WARNING);
    }
}

static void expect_none(struct fx *x)
{
    char lines[4][1100];
    size_t n = take(x, lines, NULL, 4);
    if (n)
        fail_msg("unexpected line: %s", lines[0]);
}

static uint32_t errors(const struct fx *x)
{
    struct host_dma_debug_stats st;
    assert_int_equal(host_dma_debug_get_stats(x->k, &st), 0);
    return st.error_count;
}

/* A mapping whose error was checked, as a correct driver does it. */
static dma_addr_t map_ok(struct fx *x, void *buf, size_t size, enum dma_data_direction dir)
{
    dma_addr_t a = dma_map_single(x->dev, buf, size, dir);
    assert_false(dma_mapping_error(x->dev, a));
    return a;
}

/* ---- Boot and the command line ---- */

static bool has_line(struct fx *x, size_t from, const char *text, size_t *at)
{
    struct sim_log *log = sim_log(x->t.sim);
    for (size_t i = from; i < sim_log_count(log); i++) {
        struct sim_log_rec rec;
        sim_log_get(log, i, &rec);
        if (!strcmp(rec.text, text)) {
            if (at)
                *at = i;
            return true;
        }
    }
    return false;
}

static void test_boot_lines(void **state)
{
    (void)state;
    static const struct {
        const char *cmdline;
        unsigned n[NVERS];       /* the preallocated count per version */
    } cases[] = {
        {"", {65536, 65536, 65536, 65536}},
        /* 5.x: pages of 32 entries */
        {"dma_debug_entries=1000", {1000, 1000, 1024, 1024}},
        /* 4.9: 0 means the arch's default; 4.20+: none */
        {"dma_debug_entries=0", {65536, 0, 0, 0}},
        {"dma_debug_entries=x", {65536, 65536, 65536, 65536}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t v = 0; v < NVERS; v++) {
            struct fx x;
            up_cfg(&x, versions[v], cases[c].cmdline, true);
            char want[64];
            snprintf(want, sizeof want, "DMA-API: preallocated %u debug entries",
                     cases[c].n[v]);
            size_t at;
            assert_true(has_line(&x, 0, want, &at));
            struct sim_log_rec rec;
            assert_true(sim_log_get(sim_log(x.t.sim), at, &rec));
            assert_int_equal(rec.level, SIM_LOG_INFO);
            assert_true(sim_log_get(sim_log(x.t.sim), at + 1, &rec));
            assert_string_equal(rec.text, "DMA-API: debugging enabled by kernel config");
            struct host_dma_debug_stats st;
            assert_int_equal(host_dma_debug_get_stats(x.k, &st), 0);
            assert_int_equal(st.nr_total_entries, cases[c].n[v]);
            assert_int_equal(st.num_free_entries, cases[c].n[v]);
            assert_int_equal(st.num_errors, 1);
            assert_int_equal(st.all_errors, 0);
            assert_false(st.disabled);
            /* 4.x's __setup returns 0: the parameter also goes to init */
            bool to_init = strstr(x.k->bootparams.init_envp, "dma_debug_entries=") != NULL;
            assert_int_equal(to_init, cases[c].cmdline[0] && versions[v][0] == '4');
            down(&x);
        }
    }
}

static void test_off_and_not_built(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        /* built in, switched off: the parse-time line and nothing else */
        struct fx x;
        up_cfg(&x, versions[v], "dma_debug=off", true);
        assert_null(x.k->dma_debug);
        assert_true(has_line(&x, 0, "DMA-API: debugging disabled on kernel command line", NULL));
        assert_false(has_line(&x, 0, "DMA-API: debugging enabled by kernel config", NULL));
        assert_int_equal(strstr(x.k->bootparams.init_envp, "dma_debug=off") != NULL,
                         versions[v][0] == '4');
        struct host_dma_debug_stats st;
        assert_int_equal(host_dma_debug_get_stats(x.k, &st), -PCILAB_ENOENT);
        dma_unmap_single(x.dev, 0x12345000, 4096, DMA_TO_DEVICE);
        expect_none(&x);
        down(&x);

        /* not built in: no handler, so 5.x names the parameter unknown */
        up_cfg(&x, versions[v], "dma_debug=off", false);
        assert_null(x.k->dma_debug);
        assert_false(has_line(&x, 0, "DMA-API: debugging disabled on kernel command line", NULL));
        assert_int_equal(has_line(&x, 0, "Unknown kernel command line parameters \"dma_debug=off\","
                                         " will be passed to user space.", NULL),
                         versions[v][0] != '4');
        assert_non_null(strstr(x.k->bootparams.init_envp, "dma_debug=off"));
        down(&x);
    }
}

/* ---- Misuse, one kernel per case and version ---- */

static void test_unmap_never_mapped(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        up(&x, versions[v]);
        dma_unmap_single(x.dev, 0x12345000, 4096, DMA_TO_DEVICE);
        expect_error(&x, false, "device driver tries to free DMA memory it has not allocated "
                                "[device address=0x0000000012345000] [size=4096 bytes]");
        assert_int_equal(errors(&x), 1);
        down(&x);

        /* the error value itself: "an invalid DMA memory address" (4.9's is 0) */
        up(&x, versions[v]);
        dma_unmap_single(x.dev, v == 0 ? 0 : DMA_MAPPING_ERROR, 4096, DMA_TO_DEVICE);
        expect_error(&x, false, "device driver tries to free an invalid DMA memory address");
        down(&x);
    }
}

static void test_unmap_size_and_direction(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        up(&x, versions[v]);
        void *b = kmalloc(256, GFP_KERNEL);
        dma_addr_t a = map_ok(&x, b, 256, DMA_TO_DEVICE);
        dma_unmap_single(x.dev, a, 128, DMA_TO_DEVICE);
        expect_error(&x, true, "device driver frees DMA memory with different size [device "
                               "address=0x%016llx] [map size=256 bytes] [unmap size=128 bytes]",
                     (unsigned long long)a);
        assert_int_equal(errors(&x), 1);
        assert_int_equal(host_dma_debug_count(x.dev), 0); /* the entry is gone */
        kfree(b);
        down(&x);

        up(&x, versions[v]);
        b = kmalloc(256, GFP_KERNEL);
        a = map_ok(&x, b, 256, DMA_TO_DEVICE);
        dma_unmap_single(x.dev, a, 256, DMA_FROM_DEVICE);
        expect_error(&x, true, "device driver frees DMA memory with different direction "
                               "[device address=0x%016llx] [size=256 bytes] [mapped with "
                               "DMA_TO_DEVICE] [unmapped with DMA_FROM_DEVICE]",
                     (unsigned long long)a);
        kfree(b);
        down(&x);
    }
}

static void test_wrong_function(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        /* dma_map_page + dma_unmap_single: "page" vs "single" in 4.x only */
        struct fx x;
        up(&x, versions[v]);
        void *b = kmalloc(4096, GFP_KERNEL);
        struct page *pg = virt_to_page(b);
        assert_non_null(pg);
        dma_addr_t a = dma_map_page(x.dev, pg, 0, 4096, DMA_FROM_DEVICE);
        assert_int_equal(a, virt_to_phys(b));
        assert_false(dma_mapping_error(x.dev, a));
        dma_unmap_single(x.dev, a, 4096, DMA_FROM_DEVICE);
        if (versions[v][0] == '4')
            expect_error(&x, true, "device driver frees DMA memory with wrong function "
                                   "[device address=0x%016llx] [size=4096 bytes] [mapped as "
                                   "page] [unmapped as single]", (unsigned long long)a);
        else
            expect_none(&x);
        kfree(b);
        down(&x);

        /* a coherent buffer given back with dma_unmap_single */
        up(&x, versions[v]);
        dma_addr_t h;
        void *c = dma_alloc_coherent(x.dev, 4096, &h, GFP_KERNEL);
        assert_non_null(c);
        expect_none(&x);
        dma_unmap_single(x.dev, h, 4096, DMA_TO_DEVICE);
        expect_error(&x, true, "device driver frees DMA memory with wrong function [device "
                               "address=0x%016llx] [size=4096 bytes] [mapped as coherent] "
                               "[unmapped as single]", (unsigned long long)h);
        /* the direction differed too: counted, not shown */
        assert_int_equal(errors(&x), 2);
        /* the entry went with the unmap: the free is now of memory not allocated */
        dma_free_coherent(x.dev, 4096, c, h);
        expect_none(&x);
        assert_int_equal(errors(&x), 3);
        down(&x);
    }
}

static void test_sync(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        /* beyond the mapping: no mapping contains it */
        struct fx x;
        up(&x, versions[v]);
        void *b = kmalloc(256, GFP_KERNEL);
        dma_addr_t a = map_ok(&x, b, 256, DMA_FROM_DEVICE);
        dma_sync_single_for_cpu(x.dev, a, 512, DMA_FROM_DEVICE);
        expect_error(&x, false, "device driver tries to sync DMA memory it has not allocated "
                                "[device address=0x%016llx] [size=512 bytes]",
                     (unsigned long long)a);
        kfree(b);
        down(&x);

        /* a part, in the wrong direction */
        up(&x, versions[v]);
        b = kmalloc(256, GFP_KERNEL);
        a = map_ok(&x, b, 256, DMA_FROM_DEVICE);
        dma_sync_single_for_cpu(x.dev, a + 64, 64, DMA_TO_DEVICE);
        expect_error(&x, true, "device driver syncs DMA memory with different direction "
                               "[device address=0x%016llx] [size=256 bytes] [mapped with "
                               "DMA_FROM_DEVICE] [synced with DMA_TO_DEVICE]",
                     (unsigned long long)(a + 64));
        kfree(b);
        down(&x);

        /* for the device, memory the device only writes */
        up(&x, versions[v]);
        b = kmalloc(256, GFP_KERNEL);
        a = map_ok(&x, b, 256, DMA_FROM_DEVICE);
        dma_sync_single_for_device(x.dev, a, 256, DMA_BIDIRECTIONAL);
        expect_error(&x, true, "device driver syncs DMA memory with different direction "
                               "[device address=0x%016llx] [size=256 bytes] [mapped with "
                               "DMA_FROM_DEVICE] [synced with DMA_BIDIRECTIONAL]",
                     (unsigned long long)a);
        assert_int_equal(errors(&x), 2); /* and "device write-only DMA memory to device" */
        kfree(b);
        down(&x);

        /* a range past the end: 4.x checks [a, a + offset + size), 5.x the
         * single sync of [a + offset, + size) */
        up(&x, versions[v]);
        b = kmalloc(4096, GFP_KERNEL);
        a = map_ok(&x, b, 4096, DMA_FROM_DEVICE);
        dma_sync_single_range_for_cpu(x.dev, a, 4000, 200, DMA_FROM_DEVICE);
        if (versions[v][0] == '4')
            expect_error(&x, false, "device driver tries to sync DMA memory it has not "
                                    "allocated [device address=0x%016llx] [size=4200 bytes]",
                         (unsigned long long)a);
        else
            expect_error(&x, false, "device driver tries to sync DMA memory it has not "
                                    "allocated [device address=0x%016llx] [size=200 bytes]",
                         (unsigned long long)(a + 4000));
        /* inside: fine */
        dma_sync_single_range_for_cpu(x.dev, a, 3000, 1000, DMA_FROM_DEVICE);
        assert_int_equal(errors(&x), 1);
        dma_unmap_single(x.dev, a, 4096, DMA_FROM_DEVICE);
        assert_int_equal(errors(&x), 1);
        kfree(b);
        down(&x);
    }
}

static void test_map_error_not_checked(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        up(&x, versions[v]);
        void *b = kmalloc(256, GFP_KERNEL);
        dma_addr_t a = dma_map_single(x.dev, b, 256, DMA_BIDIRECTIONAL);
        dma_unmap_single(x.dev, a, 256, DMA_BIDIRECTIONAL);
        /* Linux's format has no space before '[' and no final newline */
        expect_error(&x, true, "device driver failed to check map error[device "
                               "address=0x%016llx] [size=256 bytes] [mapped as single]",
                     (unsigned long long)a);
        assert_int_equal(errors(&x), 1);
        kfree(b);
        down(&x);
    }
}

static void test_memory_not_the_kernels(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        up(&x, versions[v]);
        char local[64];
        memset(local, 0, sizeof local);
        dma_addr_t a = dma_map_single(x.dev, local, sizeof local, DMA_TO_DEVICE);
        assert_true(dma_mapping_error(x.dev, a));
        char lines[8][1100], want[1100];
        size_t n = take(&x, lines, NULL, 8);
        switch (v) {
        case 0: /* 4.9: a vmalloc'd stack gives a bogus page: no DMA-API line */
            assert_int_equal(n, 1);
            assert_non_null(strstr(lines[0], "is not memory the kernel allocated"));
            assert_int_equal(errors(&x), 0);
            break;
        case 1: /* 4.20: debug_dma_map_single, invalid area then vmalloc (not shown) */
            assert_int_equal(n, 3);
            assert_string_equal(lines[0], "------------[ cut here ]------------");
            warn_text(&x, want, sizeof want, "device driver maps memory from invalid area "
                                              "[addr=(____ptrval____)] [len=64]");
            assert_string_equal(lines[1], want);
            assert_int_equal(errors(&x), 2);
            break;
        default: /* 5.x: dma_map_single_attrs rejects vmalloc memory, once */
            assert_int_equal(n, 2);
            assert_string_equal(lines[0], "------------[ cut here ]------------");
            snprintf(want, sizeof want, "pci %s: rejecting DMA map of vmalloc memory",
                     dev_name(x.dev));
            assert_string_equal(lines[1], want);
            assert_int_equal(errors(&x), 0);
            assert_true(dma_mapping_error(x.dev, dma_map_single(x.dev, local, 8, DMA_TO_DEVICE)));
            expect_none(&x);
            break;
        }
        down(&x);

        /* read-only data of the program: not the direct map, not vmalloc */
        static const char ro[64] = "rodata";
        up(&x, versions[v]);
        assert_true(dma_mapping_error(x.dev, dma_map_single(x.dev, (void *)ro, 64, DMA_TO_DEVICE)));
        n = take(&x, lines, NULL, 8);
        if (v == 0) {
            assert_int_equal(n, 1);
        } else {
            assert_int_equal(n, 3);
            warn_text(&x, want, sizeof want, "device driver maps memory from invalid area "
                                              "[addr=(____ptrval____)] [len=64]");
            assert_string_equal(lines[1], want);
            assert_int_equal(errors(&x), 1);
        }
        down(&x);
    }
}

static void test_leak_at_unbind(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        up(&x, versions[v]);
        void *b[3];
        dma_addr_t a[3];
        static const size_t sz[3] = {8192, 4096, 16384};
        static const enum dma_data_direction dir[3] = {DMA_TO_DEVICE, DMA_FROM_DEVICE,
                                                       DMA_BIDIRECTIONAL};
        for (int i = 0; i < 3; i++) {
            b[i] = kmalloc(sz[i], GFP_KERNEL);
            a[i] = map_ok(&x, b[i], sz[i], dir[i]);
        }
        assert_int_equal(host_dma_debug_count(x.dev), 3);
        /* the one reported: the last in hash order */
        unsigned hs = versions[v][0] == '4' ? 1024 : 16384, best = 0;
        for (unsigned i = 1; i < 3; i++)
            if (((a[i] >> 13) & (hs - 1)) >= ((a[best] >> 13) & (hs - 1)))
                best = i;
        static const char *const dn[] = {"DMA_BIDIRECTIONAL", "DMA_TO_DEVICE",
                                         "DMA_FROM_DEVICE"};
        /* on demand: the dump, in hash order */
        debug_dma_dump_mappings(x.dev);
        char lines[8][1100];
        int lv[8];
        assert_int_equal(take(&x, lines, lv, 8), 3);
        for (int i = 0; i < 3; i++) {
            bool found = false;
            char want[256];
            snprintf(want, sizeof want, "pci %s: single idx %u P=%llx N=%llx D=%llx L=%llx %s "
                                        "dma map error checked", dev_name(x.dev),
                     (unsigned)((a[i] >> 13) & (hs - 1)), (unsigned long long)a[i],
                     (unsigned long long)(a[i] >> 12), (unsigned long long)a[i],
                     (unsigned long long)sz[i], dn[dir[i]]);
            for (int j = 0; j < 3; j++)
                found |= !strcmp(lines[j], want);
            assert_true(found);
            assert_int_equal(lv[i], SIM_LOG_INFO);
        }
        host_dma_debug_unbound(x.dev);
        expect_error(&x, true, "device driver has pending DMA allocations while released from "
                               "device [count=3]\nOne of leaked entries details: [device "
                               "address=0x%016llx] [size=%zu bytes] [mapped with %s] [mapped as "
                               "single]", (unsigned long long)a[best], sz[best], dn[dir[best]]);
        for (int i = 0; i < 3; i++) {
            dma_unmap_single(x.dev, a[i], sz[i], dir[i]);
            kfree(b[i]);
        }
        assert_int_equal(host_dma_debug_count(x.dev), 0);
        host_dma_debug_unbound(x.dev); /* nothing left: nothing said */
        expect_none(&x);
        assert_int_equal(errors(&x), 1);
        down(&x);
    }
}

static void test_sg(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        up(&x, versions[v]);
        struct scatterlist sg[3];
        void *b[3];
        sg_init_table(sg, 3);
        for (int i = 0; i < 3; i++) {
            b[i] = kmalloc(2048, GFP_KERNEL);
            sg_set_buf(&sg[i], b[i], 2048);
        }
        assert_int_equal(dma_map_sg(x.dev, sg, 3, DMA_FROM_DEVICE), 3);
        assert_int_equal(host_dma_debug_count(x.dev), 3);
        dma_sync_sg_for_cpu(x.dev, sg, 3, DMA_FROM_DEVICE);
        dma_sync_sg_for_device(x.dev, sg, 3, DMA_FROM_DEVICE);
        expect_none(&x);
        /* unmapped with a different count */
        dma_unmap_sg(x.dev, sg, 2, DMA_FROM_DEVICE);
        expect_error(&x, true, "device driver frees DMA sg list with different entry count "
                               "[map count=3] [unmap count=2]");
        assert_int_equal(host_dma_debug_count(x.dev), 1);
        for (int i = 0; i < 3; i++)
            kfree(b[i]);
        down(&x);
    }
}

static void test_correct_use_is_silent(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        up(&x, versions[v]);
        host_dma_debug_set_all_errors(x.k, 1);
        void *b = kmalloc(1024, GFP_KERNEL);
        dma_addr_t a = map_ok(&x, b, 1024, DMA_FROM_DEVICE);
        dma_sync_single_for_cpu(x.dev, a, 1024, DMA_FROM_DEVICE);
        dma_sync_single_for_device(x.dev, a + 512, 512, DMA_FROM_DEVICE);
        dma_sync_single_range_for_cpu(x.dev, a, 256, 256, DMA_FROM_DEVICE);
        dma_unmap_single(x.dev, a, 1024, DMA_FROM_DEVICE);
        /* the same buffer mapped again after the unmap */
        a = map_ok(&x, b, 1024, DMA_TO_DEVICE);
        dma_addr_t a2 = map_ok(&x, b, 1024, DMA_TO_DEVICE); /* twice: the device only reads */
        dma_unmap_single(x.dev, a, 1024, DMA_TO_DEVICE);
        dma_unmap_single(x.dev, a2, 1024, DMA_TO_DEVICE);
        dma_addr_t h;
        void *c = dma_alloc_coherent(x.dev, 8192, &h, GFP_KERNEL);
        dma_free_coherent(x.dev, 8192, c, h);
        struct page *pg = virt_to_page(b);
        size_t off = (size_t)virt_to_phys(b) & 4095;
        assert_ptr_equal((char *)page_address(pg) + off, b);
        a = dma_map_page(x.dev, pg, off, 512, DMA_BIDIRECTIONAL);
        assert_false(dma_mapping_error(x.dev, a));
        dma_unmap_page(x.dev, a, 512, DMA_BIDIRECTIONAL);
        kfree(b);
        expect_none(&x);
        assert_int_equal(errors(&x), 0);
        assert_int_equal(host_dma_debug_count(x.dev), 0);
        struct host_dma_debug_stats st;
        assert_int_equal(host_dma_debug_get_stats(x.k, &st), 0);
        assert_int_equal(st.num_free_entries, 65536);
        assert_int_equal(st.min_free_entries, 65536 - 2);
        down(&x);
    }
}

/* Not built in (the default) or dma_debug=off: misuse goes unremarked, and
 * the DMA API's cost is the one test of k->dma_debug: no object exists. */
static void test_disabled_is_silent(void **state)
{
    (void)state;
    static const struct {
        const char *cmdline;
        bool built;
    } cases[] = {{"", false}, {"dma_debug=off", true}, {"dma_debug=offline", true}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t v = 0; v < NVERS; v++) {
            struct fx x;
            up_cfg(&x, versions[v], cases[c].cmdline, cases[c].built);
            assert_null(x.k->dma_debug);
            void *b = kmalloc(256, GFP_KERNEL);
            dma_addr_t a = dma_map_single(x.dev, b, 256, DMA_TO_DEVICE);
            dma_sync_single_for_cpu(x.dev, a, 4096, DMA_FROM_DEVICE);
            dma_unmap_single(x.dev, a, 128, DMA_FROM_DEVICE);
            dma_unmap_single(x.dev, 0x12345000, 4096, DMA_TO_DEVICE);
            host_dma_debug_unbound(x.dev);
            debug_dma_dump_mappings(x.dev);
            expect_none(&x);
            assert_null(x.k->dma_debug);
            assert_int_equal(host_dma_debug_count(x.dev), 0);
            kfree(b);
            down(&x);
        }
    }
}

/* One error shown per boot for the whole system (show_num_errors = 1), all
 * counted; all_errors shows every one. */
static void test_one_error_shown(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        up(&x, versions[v]);
        dma_unmap_single(x.dev, 0x10000000, 4096, DMA_TO_DEVICE);
        expect_error(&x, false, "device driver tries to free DMA memory it has not allocated "
                                "[device address=0x0000000010000000] [size=4096 bytes]");
        /* another device, another error: counted, not shown; debugging goes on */
        struct device *d3 = &host_pci_of_fn(x.k, x.t.e3)->dev;
        dma_unmap_single(d3, 0x20000000, 4096, DMA_TO_DEVICE);
        dma_unmap_single(x.dev, 0x30000000, 4096, DMA_TO_DEVICE);
        expect_none(&x);
        struct host_dma_debug_stats st;
        assert_int_equal(host_dma_debug_get_stats(x.k, &st), 0);
        assert_int_equal(st.error_count, 3);
        assert_int_equal(st.num_errors, 0);
        assert_false(st.disabled);
        host_dma_debug_set_num_errors(x.k, 1);
        dma_unmap_single(x.dev, 0x40000000, 4096, DMA_TO_DEVICE);
        expect_error(&x, false, "device driver tries to free DMA memory it has not allocated "
                                "[device address=0x0000000040000000] [size=4096 bytes]");
        host_dma_debug_set_all_errors(x.k, 1);
        dma_unmap_single(x.dev, 0x50000000, 4096, DMA_TO_DEVICE);
        expect_error(&x, false, "device driver tries to free DMA memory it has not allocated "
                                "[device address=0x0000000050000000] [size=4096 bytes]");
        dma_unmap_single(x.dev, 0x60000000, 4096, DMA_TO_DEVICE);
        expect_error(&x, false, "device driver tries to free DMA memory it has not allocated "
                                "[device address=0x0000000060000000] [size=4096 bytes]");
        down(&x);
    }
}

/* The driver filter hides other drivers' errors, which still use up the
 * one error shown. */
static void test_driver_filter(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        up_cfg(&x, versions[v], "dma_debug_driver=ecp5_dma", true);
        assert_true(has_line(&x, 0, "DMA-API: enable driver filter for driver [ecp5_dma]", NULL));
        dma_unmap_single(x.dev, 0x10000000, 4096, DMA_TO_DEVICE); /* no driver: hidden */
        expect_none(&x);
        x.dev->driver_name = "ecp5_dma";
        dma_unmap_single(x.dev, 0x20000000, 4096, DMA_TO_DEVICE);
        expect_none(&x); /* show_num_errors was used up */
        host_dma_debug_set_num_errors(x.k, 1);
        dma_unmap_single(x.dev, 0x20000000, 4096, DMA_TO_DEVICE);
        char lines[4][1100], want[256];
        assert_int_equal(take(&x, lines, NULL, 4), 2);
        snprintf(want, sizeof want, "%secp5_dma %s: %sdevice driver tries to free DMA memory it "
                 "has not allocated [device address=0x0000000020000000] [size=4096 bytes]",
                 x.v5 ? "DMA-API: " : "", dev_name(x.dev), x.v5 ? "" : "DMA-API: ");
        assert_string_equal(lines[1], want);
        host_dma_debug_set_driver_filter(x.k, "\n");
        assert_int_equal(take(&x, lines, NULL, 4), 1);
        assert_string_equal(lines[0], "DMA-API: switching off dma-debug driver filter");
        x.dev->driver_name = NULL;
        down(&x);
    }
}

/* 5.x: a second mapping a device may write of an active cache line. */
static void test_overlap(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        up(&x, versions[v]);
        void *b = kmalloc(512, GFP_KERNEL);
        dma_addr_t a1 = map_ok(&x, b, 512, DMA_FROM_DEVICE);
        dma_addr_t a2 = dma_map_single(x.dev, b, 512, DMA_FROM_DEVICE);
        if (versions[v][0] == '4') {
            expect_none(&x);
        } else {
            expect_error(&x, true, "cacheline tracking EEXIST, overlapping mappings aren't "
                                   "supported");
        }
        assert_false(dma_mapping_error(x.dev, a2));
        /* both mapped at the same address: best fit finds one each time */
        dma_unmap_single(x.dev, a1, 512, DMA_FROM_DEVICE);
        dma_unmap_single(x.dev, a2, 512, DMA_FROM_DEVICE);
        expect_none(&x);
        assert_int_equal(errors(&x), versions[v][0] == '4' ? 0 : 1);
        /* eight overlapping mappings: the counter's WARN_ONCE, in every version */
        host_dma_debug_set_num_errors(x.k, 0);
        dma_addr_t m[9];
        for (int i = 0; i < 9; i++)
            m[i] = map_ok(&x, b, 512, DMA_FROM_DEVICE);
        char lines[4][1100], want[128];
        assert_int_equal(take(&x, lines, NULL, 4), 2);
        snprintf(want, sizeof want, "DMA-API: exceeded 7 overlapping mappings of cacheline "
                 "0x%016llx", (unsigned long long)(virt_to_phys(b) >> 6));
        assert_string_equal(lines[1], want);
        for (int i = 0; i < 9; i++)
            dma_unmap_single(x.dev, m[i], 512, DMA_FROM_DEVICE);
        kfree(b);
        down(&x);
    }
}

/* The pool: 4.x disables debugging when it is empty, 5.x grows it. */
static void test_pool(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        bool v4 = versions[v][0] == '4';
        struct fx x;
        up_cfg(&x, versions[v], v4 ? "dma_debug_entries=2" : "dma_debug_entries=32", true);
        unsigned n = v4 ? 2 : 32;
        void *b = kmalloc(64, GFP_KERNEL);
        dma_addr_t *a = calloc(n + 1, sizeof *a);
        for (unsigned i = 0; i < n; i++)
            a[i] = map_ok(&x, b, 64, DMA_TO_DEVICE);
        expect_none(&x);
        a[n] = dma_map_single(x.dev, b, 64, DMA_TO_DEVICE);
        char lines[4][1100];
        int lv[4];
        assert_int_equal(take(&x, lines, lv, 4), 1);
        struct host_dma_debug_stats st;
        assert_int_equal(host_dma_debug_get_stats(x.k, &st), 0);
        if (v4) {
            assert_string_equal(lines[0], "DMA-API: debugging out of memory - disabling");
            assert_int_equal(lv[0], SIM_LOG_ERR);
            assert_true(st.disabled);
            /* from now on nothing is checked */
            dma_unmap_single(x.dev, 0x12345000, 4096, DMA_TO_DEVICE);
            expect_none(&x);
        } else {
            assert_string_equal(lines[0], "DMA-API: dma_debug_entry pool grown to 64 (200%)");
            assert_int_equal(lv[0], SIM_LOG_INFO);
            assert_false(st.disabled);
            assert_int_equal(st.nr_total_entries, 64);
            assert_int_equal(st.num_free_entries, 31);
            assert_int_equal(host_dma_debug_count(x.dev), 33);
        }
        free(a);
        kfree(b);
        down(&x);
    }
}

/* The boot order: 4.20+ initialise at core_initcall, before the PCI scan's
 * lines; 4.9 in pci_iommu_init, after them. */
static void test_init_point(void **state)
{
    (void)state;
    for (size_t v = 0; v < NVERS; v++) {
        struct fx x;
        tfab_build(&x.t, false);
        struct pcie_enum_report rep;
        memset(&rep, 0, sizeof rep);
        assert_int_equal(pcie_enumerate(x.t.f, NULL, &rep, NULL), 0);
        struct host_kernel_config kc = {.version = versions[v], .dma_debug = true};
        struct pcilab_err err;
        x.k = host_kernel_create(x.t.sim, x.t.f, x.t.ram, x.t.map, &kc, &err);
        assert_non_null(x.k);
        assert_int_equal(host_boot(x.k, &rep, NULL, &err), 0);
        size_t dd = 0, pci = 0;
        assert_true(has_line(&x, 0, "DMA-API: debugging enabled by kernel config", &dd));
        struct sim_log *log = sim_log(x.t.sim);
        bool found = false;
        for (size_t i = 0; i < sim_log_count(log) && !found; i++) {
            struct sim_log_rec rec;
            sim_log_get(log, i, &rec);
            if (!strncmp(rec.text, "pci ", 4)) {
                pci = i;
                found = true;
            }
        }
        assert_true(found);
        if (v == 0)
            assert_true(dd > pci);
        else
            assert_true(dd < pci);
        pcie_enum_report_free(&rep);
        tfab_free(&x.t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot_lines),
        cmocka_unit_test(test_off_and_not_built),
        cmocka_unit_test(test_unmap_never_mapped),
        cmocka_unit_test(test_unmap_size_and_direction),
        cmocka_unit_test(test_wrong_function),
        cmocka_unit_test(test_sync),
        cmocka_unit_test(test_map_error_not_checked),
        cmocka_unit_test(test_memory_not_the_kernels),
        cmocka_unit_test(test_leak_at_unbind),
        cmocka_unit_test(test_sg),
        cmocka_unit_test(test_correct_use_is_silent),
        cmocka_unit_test(test_disabled_is_silent),
        cmocka_unit_test(test_one_error_shown),
        cmocka_unit_test(test_driver_filter),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_init_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
