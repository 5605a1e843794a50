#!/usr/bin/env python3
"""The lines of one edu boot's kernel log that tests/linux/edu_bugs.sh
compares with the committed capture: the driver's, the IOMMU's faults and the
DMA layer's complaints, without their times. The buffers' physical addresses
differ from boot to boot by a page or two, so every address inside a buffer's
allocation (the store buffer's four pages, from its guard page below, and the
source buffer's page) is written as the buffer's name plus its offset, the
fault lines and the addresses derived from them (an offset into the buffer,
the end of an overrun) included.

  log_lines.py LOG
"""
import re
import sys

KEEP = re.compile(r"^edu |DMAR: \[|DMAR: DRHD: handling|AMD-Vi: Event|IO_PAGE_FAULT|DMA-API|"
                  r"swiotlb|DMAR-IR: .*fault")
TIME = re.compile(r"^\[ *[0-9.]*\] ")
BUF = re.compile(r"(store|source) buffer: .* at phys (0x[0-9a-f]+),")
HEX = re.compile(r"\b0x[0-9a-f]+\b")


def main(path):
    with open(path, errors="replace") as f:
        text = [l.rstrip("\n") for l in f]
    # [start, end) of each buffer's allocation, by name: the store buffer is
    # the third page of four (guards around it), the source one page
    spans = []
    for l in text:
        m = BUF.search(l)
        if m and not any(n == m.group(1).upper() for n, _, _ in spans):
            pa = int(m.group(2), 16)
            name = m.group(1).upper()
            if name == "STORE":
                spans.append((name, pa - 0x2000, pa + 0x2000))
            else:
                spans.append((name, pa, pa + 0x1000))

    def name(m):
        v = int(m.group(0), 16)
        for n, lo, hi in spans:
            if lo <= v < hi:
                base = lo + 0x2000 if n == "STORE" else lo
                off = v - base
                return "%s_PHYS%s" % (n, "" if off == 0 else "%+#x" % off)
        return m.group(0)

    for l in text:
        if not TIME.match(l):
            continue
        l = TIME.sub("", l, count=1)
        if not KEEP.search(l):
            continue
        l = re.sub(r"\(phys 0x[0-9a-f]*\)", "(phys PHYS)", l)
        print(HEX.sub(name, l))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: log_lines.py LOG")
    main(sys.argv[1])
