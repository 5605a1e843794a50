#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem/addrmap.h"

struct fixture {
    struct mem_phys *ram;
    struct mem_addrmap *map;
};

/* A tiny MMIO device: 256 bytes of registers, logs the last access. */
struct regs {
    uint8_t r[256];
    uint64_t last_off;
    size_t last_len;
    int reads, writes;
    int refuse; /* return this (negative) from every access when set */
};

static int regs_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct regs *d = ctx;
    d->reads++;
    d->last_off = off;
    d->last_len = len;
    if (d->refuse)
        return d->refuse;
    memcpy(buf, d->r + off, len);
    return 0;
}

static int regs_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct regs *d = ctx;
    d->writes++;
    d->last_off = off;
    d->last_len = len;
    if (d->refuse)
        return d->refuse;
    memcpy(d->r + off, buf, len);
    return 0;
}

static const struct mem_mmio_ops regs_ops = {.read = regs_read, .write = regs_write};

/* The same registers with the 32-bit register path; counts its calls. */
struct regs32 {
    struct regs r;
    int reads32, writes32;
};

static int regs32_read(void *ctx, uint64_t off, uint32_t *v)
{
    struct regs32 *d = ctx;
    d->reads32++;
    if (d->r.refuse)
        return d->r.refuse;
    *v = (uint32_t)d->r.r[off] | (uint32_t)d->r.r[off + 1] << 8 |
         (uint32_t)d->r.r[off + 2] << 16 | (uint32_t)d->r.r[off + 3] << 24;
    return 0;
}

static int regs32_write(void *ctx, uint64_t off, uint32_t v)
{
    struct regs32 *d = ctx;
    d->writes32++;
    if (d->r.refuse)
        return d->r.refuse;
    for (int i = 0; i < 4; i++)
        d->r.r[off + (uint64_t)i] = (uint8_t)(v >> (8 * i));
    return 0;
}

static const struct mem_mmio_ops regs32_ops = {.read = regs_read, .write = regs_write,
                                               .read32 = regs32_read, .write32 = regs32_write};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->ram = mem_phys_create();
    f->map = mem_addrmap_create(f->ram);
    *state = f;
    return f->ram && f->map ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    mem_addrmap_destroy(f->map);
    mem_phys_destroy(f->ram);
    free(f);
    return 0;
}

static void overlap_is_an_error_naming_both(void **state)
{
    struct fixture *f = *state;
    struct pcilab_err e = {0};
    assert_int_equal(mem_addrmap_add_ram(f->map, 0, 0x80000000, "System RAM", &e), 0);
    assert_int_equal(mem_addrmap_add_reserved(f->map, 0xfee00000, 0x100000, "MSI", &e), 0);
    assert_int_equal(mem_addrmap_add_ram(f->map, 0x7fff0000, 0x20000, "more RAM", &e),
                     -PCILAB_EEXIST);
    assert_non_null(strstr(e.msg, "'more RAM'"));
    assert_non_null(strstr(e.msg, "'System RAM'"));
    /* fully containing two regions: the lowest one is named */
    assert_int_equal(mem_addrmap_add_reserved(f->map, 0, 0xffffffff, "everything", &e),
                     -PCILAB_EEXIST);
    assert_non_null(strstr(e.msg, "'System RAM'"));
    /* ends in the middle of MSI */
    assert_int_equal(mem_addrmap_add_mmio(f->map, 0xfe000000, 0xe00001, "BAR", &regs_ops, NULL,
                                          &e),
                     -PCILAB_EEXIST);
    assert_non_null(strstr(e.msg, "'MSI'"));
    /* abutting is fine on both sides */
    assert_int_equal(mem_addrmap_add_mmio(f->map, 0xfe000000, 0xe00000, "BAR", &regs_ops, NULL,
                                          &e),
                     0);
    assert_int_equal(mem_addrmap_add_ram(f->map, 0xfef00000, 0x100000, "after", &e), 0);
    assert_int_equal(mem_addrmap_count(f->map), 4);
    /* sorted */
    for (size_t i = 1; i < mem_addrmap_count(f->map); i++)
        assert_true(mem_addrmap_at(f->map, i)->base > mem_addrmap_at(f->map, i - 1)->base);
    /* bad regions */
    assert_int_equal(mem_addrmap_add_ram(f->map, 0x100000000ull, 0, "empty", &e), -PCILAB_EINVAL);
    assert_int_equal(mem_addrmap_add_ram(f->map, 0xfffffffffffff000ull, 0x2000, "wrap", &e),
                     -PCILAB_EINVAL);
    assert_int_equal(mem_addrmap_add_mmio(f->map, 0x200000000ull, 0x1000, "no ops", NULL, NULL,
                                          &e),
                     -PCILAB_EINVAL);
    /* a region ending exactly at 2^64 is allowed */
    assert_int_equal(mem_addrmap_add_reserved(f->map, 0xfffffffffffff000ull, 0x1000, "top", &e),
                     0);
    assert_int_equal(mem_addrmap_remove(f->map, 0xfe000001, &e), -PCILAB_ENOENT);
    assert_int_equal(mem_addrmap_remove(f->map, 0xfe000000, &e), 0);
    assert_int_equal(mem_addrmap_count(f->map), 4);
    assert_null(mem_addrmap_lookup(f->map, 0xfe000000));
}

static void ram_without_memory_is_refused(void **state)
{
    (void)state;
    struct mem_addrmap *m = mem_addrmap_create(NULL);
    struct pcilab_err e = {0};
    assert_int_equal(mem_addrmap_add_ram(m, 0, 0x1000, "RAM", &e), -PCILAB_EINVAL);
    mem_addrmap_destroy(m);
}

static void lookup_binary_search(void **state)
{
    struct fixture *f = *state;
    /* 100 MMIO windows of 4 KiB every 64 KiB, added in a scrambled order */
    for (unsigned i = 0; i < 100; i++) {
        unsigned k = (i * 37) % 100;
        char name[16];
        snprintf(name, sizeof name, "w%u", k);
        assert_int_equal(mem_addrmap_add_mmio(f->map, 0xc0000000ull + k * 0x10000ull, 0x1000,
                                              name, &regs_ops, NULL, NULL),
                         0);
    }
    for (unsigned k = 0; k < 100; k++) {
        uint64_t b = 0xc0000000ull + k * 0x10000ull;
        char name[16];
        snprintf(name, sizeof name, "w%u", k);
        const struct mem_region *r = mem_addrmap_lookup(f->map, b + 0xfff);
        assert_non_null(r);
        assert_string_equal(r->name, name);
        assert_null(mem_addrmap_lookup(f->map, b + 0x1000));
        assert_null(mem_addrmap_lookup(f->map, b - 1));
    }
    assert_null(mem_addrmap_lookup(f->map, 0));
    assert_null(mem_addrmap_lookup(f->map, UINT64_MAX));
}

static void dispatch_ram_and_mmio(void **state)
{
    struct fixture *f = *state;
    struct regs dev = {0};
    assert_int_equal(mem_addrmap_add_ram(f->map, 0, 0x80000000, "System RAM", NULL), 0);
    assert_int_equal(mem_addrmap_add_mmio(f->map, 0xfeb00000, 0x100, "0000:01:00.0 BAR0",
                                          &regs_ops, &dev, NULL),
                     0);
    struct mem_access_info info;
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];
    /* RAM write lands in physical memory at the same address */
    assert_int_equal(mem_addrmap_write(f->map, 0x1000, buf, 8, &info), 0);
    assert_int_equal(info.result, MEM_ACCESS_OK);
    assert_string_equal(info.region->name, "System RAM");
    uint64_t v;
    assert_int_equal(mem_phys_read64(f->ram, 0x1000, &v, NULL), 0);
    assert_true(v == 0x0807060504030201ull);
    assert_int_equal(mem_addrmap_read(f->map, 0x1000, out, 8, &info), 0);
    assert_memory_equal(buf, out, 8);
    /* MMIO goes to the callbacks with the offset in the window and the size */
    assert_int_equal(mem_addrmap_write(f->map, 0xfeb00010, buf, 4, &info), 0);
    assert_int_equal(dev.writes, 1);
    assert_int_equal(dev.last_off, 0x10);
    assert_int_equal(dev.last_len, 4);
    assert_int_equal(dev.r[0x13], 4);
    memset(out, 0, sizeof out);
    assert_int_equal(mem_addrmap_read(f->map, 0xfeb00010, out, 2, &info), 0);
    assert_int_equal(dev.reads, 1);
    assert_int_equal(dev.last_len, 2);
    assert_int_equal(out[1], 2);
    /* a device that refuses */
    dev.refuse = -PCILAB_EUNSUPPORTED;
    assert_int_equal(mem_addrmap_read(f->map, 0xfeb00000, out, 4, &info), -PCILAB_EUNSUPPORTED);
    assert_int_equal(info.result, MEM_ACCESS_DEVICE_ERROR);
    assert_int_equal(info.device_code, -PCILAB_EUNSUPPORTED);
    char s[160];
    assert_non_null(strstr(mem_access_info_str(&info, s, sizeof s), "BAR0"));
}

static void dispatch_failures(void **state)
{
    struct fixture *f = *state;
    struct regs dev = {0};
    assert_int_equal(mem_addrmap_add_ram(f->map, 0, 0x80000000, "System RAM", NULL), 0);
    assert_int_equal(mem_addrmap_add_mmio(f->map, 0x80000000, 0x100, "BAR0", &regs_ops, &dev,
                                          NULL),
                     0);
    assert_int_equal(mem_addrmap_add_reserved(f->map, 0xfee00000, 0x100000, "MSI", NULL), 0);
    struct mem_access_info info;
    uint8_t buf[16] = {0};
    char s[200];

    /* unclaimed: the seed's address, above a 2 GiB RAM */
    assert_int_equal(mem_addrmap_write(f->map, 0xffbf8000, buf, 16, &info), -PCILAB_ERANGE);
    assert_int_equal(info.result, MEM_ACCESS_UNCLAIMED);
    assert_string_equal(mem_access_info_str(&info, s, sizeof s),
                        "unclaimed address 0x00000000ffbf8000");
    assert_string_equal(mem_access_result_name(info.result), "unclaimed address");

    /* reserved */
    assert_int_equal(mem_addrmap_read(f->map, 0xfee00004, buf, 4, &info), -PCILAB_ERANGE);
    assert_int_equal(info.result, MEM_ACCESS_RESERVED);
    assert_string_equal(mem_access_info_str(&info, s, sizeof s),
                        "reserved address 0x00000000fee00004 (MSI)");

    /* RAM into MMIO: spans two regions; nothing written on either side */
    memset(buf, 0x77, sizeof buf);
    assert_int_equal(mem_addrmap_write(f->map, 0x7ffffff8, buf, 16, &info), -PCILAB_ERANGE);
    assert_int_equal(info.result, MEM_ACCESS_SPANS_REGIONS);
    assert_true(info.addr == 0x80000000ull);
    assert_string_equal(info.region->name, "System RAM");
    assert_string_equal(info.next->name, "BAR0");
    assert_int_equal(dev.writes, 0);
    struct mem_phys_stats st;
    mem_phys_get_stats(f->ram, &st);
    assert_int_equal(st.pages, 0);
    assert_non_null(strstr(mem_access_info_str(&info, s, sizeof s), "'System RAM' into 'BAR0'"));

    /* MMIO into unclaimed space */
    assert_int_equal(mem_addrmap_read(f->map, 0x800000f8, buf, 16, &info), -PCILAB_ERANGE);
    assert_int_equal(info.result, MEM_ACCESS_SPANS_REGIONS);
    assert_null(info.next);
    assert_true(info.addr == 0x80000100ull);
    assert_int_equal(dev.reads, 0);

    /* wrap */
    assert_int_equal(mem_addrmap_read(f->map, 0xfffffffffffffff0ull, buf, 32, &info),
                     -PCILAB_ERANGE);
    assert_int_equal(info.result, MEM_ACCESS_WRAPS);

    /* zero-length access is ok anywhere */
    assert_int_equal(mem_addrmap_read(f->map, 0xffbf8000, buf, 0, &info), 0);
    assert_int_equal(info.result, MEM_ACCESS_OK);
}

static void abutting_ram_regions_form_one_stretch(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mem_addrmap_add_ram(f->map, 0, 0x1000, "low", NULL), 0);
    assert_int_equal(mem_addrmap_add_ram(f->map, 0x1000, 0x1000, "mid", NULL), 0);
    assert_int_equal(mem_addrmap_add_ram(f->map, 0x2000, 0x1000, "high", NULL), 0);
    assert_int_equal(mem_addrmap_add_ram(f->map, 0x4000, 0x1000, "after gap", NULL), 0);
    uint8_t buf[0x2100];
    memset(buf, 0x3c, sizeof buf);
    struct mem_access_info info;
    assert_int_equal(mem_addrmap_write(f->map, 0xf80, buf, 0x2000, &info), 0);
    assert_string_equal(info.region->name, "low");
    uint8_t b;
    assert_int_equal(mem_phys_read8(f->ram, 0x2f7f, &b, NULL), 0);
    assert_int_equal(b, 0x3c);
    /* ... but not over the gap */
    assert_int_equal(mem_addrmap_write(f->map, 0x2f00, buf, 0x200, &info), -PCILAB_ERANGE);
    assert_int_equal(info.result, MEM_ACCESS_SPANS_REGIONS);
    assert_true(info.addr == 0x3000);
    assert_string_equal(info.region->name, "high");
}

/* readl/writel through the map: the register path when the owner has one,
 * else the byte path, little-endian either way, and RAM and failures as a
 * 4-byte mem_addrmap_read/write. */
static void register_accesses(void **state)
{
    struct fixture *f = *state;
    struct pcilab_err e = {0};
    struct regs plain;
    struct regs32 fast;
    memset(&plain, 0, sizeof plain);
    memset(&fast, 0, sizeof fast);
    assert_int_equal(mem_addrmap_add_ram(f->map, 0, 0x10000, "RAM", &e), 0);
    assert_int_equal(mem_addrmap_add_mmio(f->map, 0xa0000, 0x100, "plain", &regs_ops, &plain, &e),
                     0);
    assert_int_equal(mem_addrmap_add_mmio(f->map, 0xb0000, 0x100, "fast", &regs32_ops, &fast, &e),
                     0);
    uint32_t v = 0;
    /* without read32/write32: the byte callbacks, 4 bytes */
    assert_int_equal(mem_addrmap_write32(f->map, 0xa0010, 0x11223344u), 0);
    assert_int_equal(plain.writes, 1);
    assert_int_equal(plain.last_len, 4);
    assert_int_equal(plain.r[0x10], 0x44);
    assert_int_equal(plain.r[0x13], 0x11);
    assert_int_equal(mem_addrmap_read32(f->map, 0xa0010, &v), 0);
    assert_int_equal(v, 0x11223344u);
    assert_int_equal(plain.reads, 1);
    /* with them: no byte callback, the same bytes */
    assert_int_equal(mem_addrmap_write32(f->map, 0xb0020, 0xcafef00du), 0);
    assert_int_equal(mem_addrmap_write32(f->map, 0xb0020, 0xdeadbeefu), 0);
    assert_int_equal(fast.writes32, 2);
    assert_int_equal(fast.r.writes, 0);
    assert_int_equal(fast.r.r[0x20], 0xef);
    uint8_t b[4];
    assert_int_equal(mem_addrmap_read(f->map, 0xb0020, b, 4, NULL), 0);
    assert_int_equal(b[3], 0xde);
    assert_int_equal(mem_addrmap_read32(f->map, 0xb0020, &v), 0);
    assert_int_equal(v, 0xdeadbeefu);
    assert_int_equal(fast.reads32, 1); /* and the byte read went to read */
    assert_int_equal(fast.r.reads, 1);
    /* RAM, little-endian */
    assert_int_equal(mem_addrmap_write32(f->map, 0x100, 0x01020304u), 0);
    assert_int_equal(mem_addrmap_read(f->map, 0x100, b, 4, NULL), 0);
    assert_int_equal(b[0], 0x04);
    assert_int_equal(mem_addrmap_read32(f->map, 0x100, &v), 0);
    assert_int_equal(v, 0x01020304u);
    /* failures: the device's code, unclaimed space, across a region's end;
     * *v untouched */
    fast.r.refuse = -PCILAB_EIO;
    v = 7;
    assert_int_equal(mem_addrmap_read32(f->map, 0xb0020, &v), -PCILAB_EIO);
    assert_int_equal(mem_addrmap_write32(f->map, 0xb0020, 1), -PCILAB_EIO);
    assert_int_equal(v, 7);
    assert_int_equal(mem_addrmap_read32(f->map, 0xc0000, &v), -PCILAB_ERANGE);
    assert_int_equal(mem_addrmap_write32(f->map, 0xc0000, 1), -PCILAB_ERANGE);
    assert_int_equal(mem_addrmap_read32(f->map, 0xb00fe, &v), -PCILAB_ERANGE);
    assert_int_equal(v, 7);
    /* the remembered register region: its last register, then gone once the
     * region is removed, and a new owner at another address reached */
    fast.r.refuse = 0;
    assert_int_equal(mem_addrmap_write32(f->map, 0xb00fc, 0x5a5a5a5au), 0);
    assert_int_equal(fast.r.r[0xff], 0x5a);
    assert_int_equal(mem_addrmap_remove(f->map, 0xb0000, &e), 0);
    assert_int_equal(mem_addrmap_read32(f->map, 0xb00fc, &v), -PCILAB_ERANGE);
    assert_int_equal(mem_addrmap_write32(f->map, 0xb00fc, 1), -PCILAB_ERANGE);
    struct regs32 moved;
    memset(&moved, 0, sizeof moved);
    assert_int_equal(mem_addrmap_add_mmio(f->map, 0xd0000, 0x100, "moved", &regs32_ops, &moved, &e),
                     0);
    unsigned before = fast.writes32;
    assert_int_equal(mem_addrmap_write32(f->map, 0xd0004, 0x12345678u), 0);
    assert_int_equal(mem_addrmap_read32(f->map, 0xd0004, &v), 0);
    assert_int_equal(v, 0x12345678u);
    assert_int_equal(moved.writes32, 1);
    assert_int_equal(fast.writes32, before);
    assert_int_equal(mem_addrmap_read32(f->map, 0xb00fc, &v), -PCILAB_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(overlap_is_an_error_naming_both, setup, teardown),
        cmocka_unit_test(ram_without_memory_is_refused),
        cmocka_unit_test_setup_teardown(lookup_binary_search, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_ram_and_mmio, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(abutting_ram_regions_form_one_stretch, setup, teardown),
        cmocka_unit_test_setup_teardown(register_accesses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
