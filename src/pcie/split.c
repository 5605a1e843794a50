#include "pcie/split.h"

#include <stdbool.h>

#define PAGE_4K 4096u

/* MPS / MRRS: 128..4096, a power of two (7.5.3.4); RCB: 64 or 128 (7.5.3.7). */
static int check_size(const char *what, bool rcb, unsigned size, struct pcilab_err *err)
{
    if (rcb ? (size != 64 && size != 128)
            : (size < 128 || size > 4096 || (size & (size - 1))))
        return pcilab_errf(err, PCILAB_EINVAL, "%s %u is not valid (%s)", what, size,
                           rcb ? "RCB is 64 or 128 bytes, 7.5.3.7"
                               : "128..4096 bytes, a power of two, 7.5.3.4");
    return 0;
}

void pcie_split_dw(uint64_t addr, uint32_t len, uint16_t *len_dw, uint8_t *first_be,
                   uint8_t *last_be)
{
    if (!len) { /* zero-length read: 1 DW, no bytes enabled (2.2.5) */
        *len_dw = 1;
        *first_be = 0;
        *last_be = 0;
        return;
    }
    uint64_t first_dw = addr >> 2, last_dw = (addr + len - 1) >> 2;
    unsigned lo = (unsigned)(addr & 3), hi = (unsigned)((addr + len - 1) & 3);
    *len_dw = (uint16_t)(last_dw - first_dw + 1);
    if (first_dw == last_dw) {
        /* one DW: bytes lo..hi in First DW BE, Last DW BE 0000b */
        *first_be = (uint8_t)(((0xfu << lo) & (0xfu >> (3 - hi))) & 0xf);
        *last_be = 0;
    } else {
        *first_be = (uint8_t)((0xfu << lo) & 0xf);
        *last_be = (uint8_t)(0xfu >> (3 - hi));
    }
}

static void fill_req(struct pcie_split_req *r, uint64_t addr, uint32_t len)
{
    r->addr = addr;
    r->len = len;
    pcie_split_dw(addr, len, &r->len_dw, &r->first_be, &r->last_be);
}

static long split_requests(const char *what, uint64_t addr, uint64_t len, unsigned max,
                           unsigned flags, struct pcie_split_req *out, size_t cap,
                           struct pcilab_err *err)
{
    int r = check_size(what, false, max, err);
    if (r)
        return r;
    if (len && addr + (len - 1) < addr)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "transfer at 0x%016llx of %llu bytes runs past 2^64",
                           (unsigned long long)addr, (unsigned long long)len);
    long n = 0;
    while (len) {
        /* 2.2.7: no 4 KiB crossing; 2.2.2 / 7.5.3.4: at most MPS / MRRS bytes */
        uint64_t to_page = PAGE_4K - (addr & (PAGE_4K - 1));
        uint64_t to_max = (flags & PCIE_SPLIT_ALIGN) ? max - (addr & (max - 1)) : max;
        uint64_t take = len;
        if (take > to_page)
            take = to_page;
        if (take > to_max)
            take = to_max;
        if ((size_t)n < cap)
            fill_req(&out[n], addr, (uint32_t)take);
        n++;
        addr += take;
        len -= take;
    }
    return n;
}

long pcie_split_write(uint64_t addr, uint64_t len, unsigned mps, unsigned flags,
                      struct pcie_split_req *out, size_t cap, struct pcilab_err *err)
{
    return split_requests("MPS", addr, len, mps, flags, out, cap, err);
}

long pcie_split_read(uint64_t addr, uint64_t len, unsigned mrrs, unsigned flags,
                     struct pcie_split_req *out, size_t cap, struct pcilab_err *err)
{
    if (!len) {
        int r = check_size("MRRS", false, mrrs, err);
        if (r)
            return r;
        if (cap)
            fill_req(&out[0], addr, 0);
        return 1;
    }
    return split_requests("MRRS", addr, len, mrrs, flags, out, cap, err);
}

long pcie_split_completions(uint64_t addr, uint32_t len, unsigned rcb, unsigned mps,
                            unsigned flags, struct pcie_split_cpl *out, size_t cap,
                            struct pcilab_err *err)
{
    int r = check_size("RCB", true, rcb, err);
    if (!r)
        r = check_size("MPS", false, mps, err);
    if (r)
        return r;
    if (len > PAGE_4K || (len && (addr & (PAGE_4K - 1)) + len > PAGE_4K))
        return pcilab_errf(err, PCILAB_EINVAL,
                           "read of %u bytes at 0x%016llx is not one legal request "
                           "(<= 4096 bytes, no 4 KiB crossing, 2.2.7)",
                           len, (unsigned long long)addr);
    if (!len) {
        /* 2.2.9: a zero-length read is completed with 1 DW and Byte Count 1 */
        if (cap) {
            out[0] = (struct pcie_split_cpl){.addr = addr, .len = 0, .len_dw = 1,
                                             .byte_count = 1,
                                             .lower_addr = (uint8_t)(addr & 0x7c)};
        }
        return 1;
    }
    uint64_t cur = addr, end = addr + len;
    long n = 0;
    while (cur < end) {
        uint64_t stop;
        /* payload DWs run from cur's DW; at most MPS bytes of them (2.2.2) */
        uint64_t limit = (cur & ~(uint64_t)3) + mps;
        if (flags & PCIE_SPLIT_CPL_EVERY_RCB) {
            stop = (cur | (rcb - 1)) + 1; /* next RCB boundary */
            if (stop > end)
                stop = end;
        } else if (end <= limit) {
            stop = end;
        } else {
            /* 2.3.1.1: a completion that is not the last ends on an RCB boundary */
            stop = limit & ~(uint64_t)(rcb - 1);
        }
        struct pcie_split_cpl c;
        c.addr = cur;
        c.len = (uint32_t)(stop - cur);
        c.len_dw = (uint16_t)((((stop + 3) & ~(uint64_t)3) - (cur & ~(uint64_t)3)) / 4);
        c.byte_count = (uint16_t)(end - cur); /* 4096 is encoded as 0 by the TLP encoder */
        /* 2.2.9: first completion: address of the first enabled byte; later ones
         * start on an RCB boundary, so this is that boundary's low 7 bits */
        c.lower_addr = (uint8_t)(cur & 0x7f);
        if ((size_t)n < cap)
            out[n] = c;
        n++;
        cur = stop;
    }
    return n;
}
