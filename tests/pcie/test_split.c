#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include "pcie/split.h"

/* Independent checks of one request split: pieces contiguous, totals right,
 * each within the size limit and one 4 KiB page, DW/BE fields consistent. */
static void check_reqs(uint64_t addr, uint64_t len, unsigned max, unsigned flags, bool read)
{
    struct pcie_split_req out[1024];
    long n = read ? pcie_split_read(addr, len, max, flags, out, 1024, NULL)
                  : pcie_split_write(addr, len, max, flags, out, 1024, NULL);
    assert_true(n >= 0 && n <= 1024);
    if (!len) {
        assert_int_equal(n, read ? 1 : 0);
        return;
    }
    uint64_t cur = addr, total = 0;
    for (long i = 0; i < n; i++) {
        assert_true(out[i].addr == cur);
        assert_true(out[i].len >= 1 && out[i].len <= max);
        /* no 4 KiB crossing (2.2.7) */
        assert_true((out[i].addr >> 12) == ((out[i].addr + out[i].len - 1) >> 12));
        if (flags & PCIE_SPLIT_ALIGN && i > 0)
            assert_int_equal(out[i].addr % max, 0);
        /* DW span and BEs */
        uint64_t dw0 = out[i].addr >> 2, dw1 = (out[i].addr + out[i].len - 1) >> 2;
        assert_int_equal(out[i].len_dw, dw1 - dw0 + 1);
        assert_int_equal(out[i].first_be & 0xf, out[i].first_be);
        if (out[i].len_dw > 1) {
            assert_int_equal(out[i].first_be, (0xf << (out[i].addr & 3)) & 0xf);
            assert_int_not_equal(out[i].last_be, 0);
        } else {
            assert_int_equal(out[i].last_be, 0);
        }
        cur += out[i].len;
        total += out[i].len;
    }
    assert_true(total == len);
    /* greedy split: a piece smaller than the limit ends on a page (or is last) */
    if (!(flags & PCIE_SPLIT_ALIGN))
        for (long i = 0; i + 1 < n; i++)
            assert_true(out[i].len == max || ((out[i].addr + out[i].len) & 0xfff) == 0);
}

static void write_split_counts(void **state)
{
    (void)state;
    struct pcie_split_req out[64];
    /* 4 KiB aligned, MPS 128: 32 TLPs */
    assert_int_equal(pcie_split_write(0x1000, 4096, 128, 0, out, 64, NULL), 32);
    /* 4 KiB at 0x...f80, MPS 256: 128 to the boundary, then 15 x 256, then 128 */
    long n = pcie_split_write(0x10f80, 4096, 256, 0, out, 64, NULL);
    assert_int_equal(n, 17);
    assert_int_equal(out[0].len, 128);
    assert_true(out[1].addr == 0x11000);
    assert_int_equal(out[16].len, 128);
    /* unaligned start, MPS 128: 0x10 + 256 -> 128 + 128 greedy, 3 aligned */
    assert_int_equal(pcie_split_write(0x10, 256, 128, 0, out, 64, NULL), 2);
    assert_int_equal(pcie_split_write(0x10, 256, 128, PCIE_SPLIT_ALIGN, out, 64, NULL), 3);
    assert_int_equal(out[0].len, 0x70);
    assert_int_equal(out[2].len, 0x10);
    /* byte enables: 5 bytes at 0x...3 -> DW span 2, first BE 1000b, last 1111b */
    assert_int_equal(pcie_split_write(0x1003, 5, 128, 0, out, 64, NULL), 1);
    assert_int_equal(out[0].len_dw, 2);
    assert_int_equal(out[0].first_be, 0x8);
    assert_int_equal(out[0].last_be, 0xf);
    /* 2 bytes inside one DW: first BE 0110b, last 0000b */
    pcie_split_write(0x1001, 2, 128, 0, out, 64, NULL);
    assert_int_equal(out[0].len_dw, 1);
    assert_int_equal(out[0].first_be, 0x6);
    assert_int_equal(out[0].last_be, 0);
    /* cap 0 counts only */
    assert_int_equal(pcie_split_write(0, 1 << 20, 256, 0, NULL, 0, NULL), 4096);
    /* errors */
    struct pcilab_err e = {0};
    assert_int_equal(pcie_split_write(0, 10, 100, 0, out, 64, &e), -PCILAB_EINVAL);
    assert_int_equal(pcie_split_write(0, 10, 8192, 0, out, 64, NULL), -PCILAB_EINVAL);
    assert_int_equal(pcie_split_write(UINT64_MAX - 4, 10, 128, 0, out, 64, NULL),
                     -PCILAB_EINVAL);
    /* the seed's 128-byte write at its DMA handle: one TLP */
    assert_int_equal(pcie_split_write(0xffbf8000, 128, 128, 0, out, 64, NULL), 1);
    assert_int_equal(pcie_split_write(0xffbf8000, 128, 256, 0, out, 64, NULL), 1);
}

static void many_combinations(void **state)
{
    (void)state;
    static const unsigned sizes[] = {128, 256, 512, 1024, 2048, 4096};
    static const uint64_t addrs[] = {0, 1, 2, 3, 4, 0x7c, 0x80, 0xffd, 0xfff, 0x1000, 0x12345,
                                     0xffbf8000, 0xfffffff0, 0x100000ffcull};
    static const uint64_t lens[] = {0, 1, 2, 3, 4, 5, 63, 64, 65, 127, 128, 129, 255, 256,
                                    257, 4095, 4096, 4097, 10000, 65536};
    for (size_t s = 0; s < 6; s++)
        for (size_t a = 0; a < sizeof addrs / sizeof addrs[0]; a++)
            for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
                for (unsigned f = 0; f < 2; f++) {
                    check_reqs(addrs[a], lens[l], sizes[s], f ? PCIE_SPLIT_ALIGN : 0, false);
                    check_reqs(addrs[a], lens[l], sizes[s], f ? PCIE_SPLIT_ALIGN : 0, true);
                }
}

static void read_split(void **state)
{
    (void)state;
    struct pcie_split_req out[64];
    /* MRRS 512, 4 KiB from 0x100: 512 x 7 then 256 (to 0x1000)... greedy:
     * 0x100..0x300.. pieces of 512 until the page end at 0x1000 (7.5 pieces) */
    long n = pcie_split_read(0x100, 4096, 512, 0, out, 64, NULL);
    assert_int_equal(n, 9); /* 7 x 512 + 256 (to 0x1000) + 256 */
    assert_int_equal(out[7].len, 256);
    assert_true(out[8].addr == 0x1000);
    /* zero-length read: one request, 1 DW, no byte enabled */
    assert_int_equal(pcie_split_read(0x2000, 0, 512, 0, out, 64, NULL), 1);
    assert_int_equal(out[0].len, 0);
    assert_int_equal(out[0].len_dw, 1);
    assert_int_equal(out[0].first_be, 0);
}

static void check_cpls(uint64_t addr, uint32_t len, unsigned rcb, unsigned mps, unsigned flags)
{
    struct pcie_split_cpl out[128];
    long n = pcie_split_completions(addr, len, rcb, mps, flags, out, 128, NULL);
    assert_true(n >= 1 && n <= 128);
    uint64_t cur = addr;
    uint32_t total = 0;
    for (long i = 0; i < n; i++) {
        assert_true(out[i].addr == cur);
        assert_int_equal(out[i].byte_count, len - total);
        assert_int_equal(out[i].lower_addr, cur & 0x7f);
        assert_true(out[i].len_dw * 4u <= mps);
        uint64_t end = cur + out[i].len;
        assert_int_equal(out[i].len_dw, ((end + 3) / 4) - cur / 4);
        if (i + 1 < n) /* 2.3.1.1: all but the last end on an RCB boundary */
            assert_int_equal(end % rcb, 0);
        if (i > 0) /* later completions start on an RCB boundary */
            assert_int_equal(cur % rcb, 0);
        cur = end;
        total += out[i].len;
    }
    assert_int_equal(total, len);
}

static void completions(void **state)
{
    (void)state;
    struct pcie_split_cpl out[128];
    /* 512-byte read at 0x1010, RCB 64, MPS 128. First completion may end at the
     * first RCB boundary; greedy: DW span limit 0x1010 + 128 = 0x1090 -> RCB
     * boundary 0x1080. Then 0x1080..0x1100, 0x1100..0x1180, 0x1180..0x1200,
     * 0x1200..0x1210. */
    long n = pcie_split_completions(0x1010, 512, 64, 128, 0, out, 128, NULL);
    assert_int_equal(n, 5);
    assert_int_equal(out[0].len, 0x70);
    assert_int_equal(out[0].byte_count, 512);
    assert_int_equal(out[0].lower_addr, 0x10);
    assert_int_equal(out[1].byte_count, 512 - 0x70);
    assert_int_equal(out[1].lower_addr, 0x00);
    assert_int_equal(out[3].lower_addr, 0x00);
    assert_int_equal(out[2].lower_addr, 0x00);
    assert_int_equal(out[4].len, 0x10);
    assert_int_equal(out[4].byte_count, 0x10);
    /* RCB 128 with lower address 0x40 in the first */
    n = pcie_split_completions(0x2040, 256, 128, 128, 0, out, 128, NULL);
    assert_int_equal(n, 3); /* 0x40..0x80, 0x80..0x100, 0x100..0x140 */
    assert_int_equal(out[0].lower_addr, 0x40);
    assert_int_equal(out[0].len, 0x40);
    assert_int_equal(out[1].lower_addr, 0x00);
    assert_int_equal(out[2].byte_count, 0x40);
    /* every-RCB policy: 256 bytes aligned with RCB 64 -> 4 completions */
    assert_int_equal(pcie_split_completions(0x3000, 256, 64, 256, PCIE_SPLIT_CPL_EVERY_RCB, out,
                                            128, NULL),
                     4);
    assert_int_equal(out[1].lower_addr, 0x40);
    assert_int_equal(out[2].byte_count, 128);
    /* whole read fits MPS: one completion */
    assert_int_equal(pcie_split_completions(0x3004, 200, 64, 256, 0, out, 128, NULL), 1);
    assert_int_equal(out[0].len_dw, 50);
    assert_int_equal(out[0].byte_count, 200);
    /* unaligned last piece whose DW span would exceed MPS by one DW: split */
    n = pcie_split_completions(0x4002, 128, 64, 128, 0, out, 128, NULL);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].len, 126); /* 0x4002..0x4080 */
    assert_int_equal(out[1].len_dw, 1);
    /* 4096-byte read: Byte Count 4096 (encoded 0 by the TLP encoder) */
    n = pcie_split_completions(0x5000, 4096, 128, 512, 0, out, 128, NULL);
    assert_int_equal(n, 8);
    assert_int_equal(out[0].byte_count, 4096);
    /* zero-length read: Byte Count 1, 1 DW */
    assert_int_equal(pcie_split_completions(0x6008, 0, 64, 128, 0, out, 128, NULL), 1);
    assert_int_equal(out[0].byte_count, 1);
    assert_int_equal(out[0].len_dw, 1);
    assert_int_equal(out[0].lower_addr, 0x08);
    /* errors */
    assert_int_equal(pcie_split_completions(0x6000, 128, 32, 128, 0, out, 128, NULL),
                     -PCILAB_EINVAL);
    assert_int_equal(pcie_split_completions(0x6f80, 256, 64, 128, 0, out, 128, NULL),
                     -PCILAB_EINVAL); /* crosses 4 KiB: not one request */

    static const unsigned rcbs[] = {64, 128};
    static const unsigned mpss[] = {128, 256, 512, 4096};
    static const uint64_t addrs[] = {0x0, 0x1, 0x3, 0x4, 0x3c, 0x40, 0x7f, 0x81, 0x100};
    static const uint32_t lens[] = {1, 3, 4, 60, 64, 65, 127, 128, 129, 500, 1000, 2048, 3500};
    for (size_t r = 0; r < 2; r++)
        for (size_t m = 0; m < 4; m++)
            for (size_t a = 0; a < sizeof addrs / sizeof addrs[0]; a++)
                for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
                    for (unsigned f = 0; f < 2; f++)
                        check_cpls(0x10000 + addrs[a], lens[l], rcbs[r], mpss[m],
                                   f ? PCIE_SPLIT_CPL_EVERY_RCB : 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_split_counts),
        cmocka_unit_test(many_combinations),
        cmocka_unit_test(read_split),
        cmocka_unit_test(completions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
