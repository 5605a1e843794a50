#!/bin/sh
# pcilab lspci: the seed machine read back by the real lspci (pciutils) from
# pcilab's configuration dump, with the capabilities the scenario describes.
. "$SRC/tests/lib/cli.inc"
command -v lspci >/dev/null || { echo "lspci (pciutils) is missing: run scripts/deps.sh"; exit 1; }

run lspci 0 -tv
has out "+-02.2-[01]----00.0  Lattice Semiconductor Corporation Device 5045"
has out "+-02.3-[02]----00.0  Lattice Semiconductor Corporation Device e3ca"
has out "+-00.2  Advanced Micro Devices, Inc. [AMD] Family 15h (Models 60h-6fh) I/O Memory Management Unit"
has out "-[0000:00]-+-00.0  Advanced Micro Devices, Inc. [AMD] Family 15h (Models 60h-6fh) Processor Root Complex"

run lspci 0 -nn -s 00:00.0
has out "00:00.0 Host bridge [0600]: Advanced Micro Devices, Inc. [AMD] Family 15h (Models 60h-6fh) Processor Root Complex [1022:1576]"

# The ECP5 board: MSI with 2 vectors, 64-bit; PCIe 2.0 x1 trained at 5GT/s x1;
# BAR 0 assigned by enumeration and disabled until a driver enables memory.
run lspci 0 -vvv -s 01:00.0
has out "Region 0: Memory at c0000000 (32-bit, non-prefetchable) [disabled]"
has out "Capabilities: [70] MSI: Enable- Count=1/2 Maskable- 64bit+"
has out "Express (v2) Endpoint, MSI 00"
has out "LnkCap:	Port #0, Speed 5GT/s, Width x1"
has out "LnkSta:	Speed 5GT/s, Width x1"
has out "Power Management version 3"
lacks out "<?>"
lacks err "libkmod"

# The CAN card: Gen1 x1, one MSI vector.
run lspci 0 -vv -s 02:00.0
has out "MSI: Enable- Count=1/1"
has out "LnkSta:	Speed 2.5GT/s, Width x1"

# Root ports: the bus numbers and windows enumeration programmed.
run lspci 0 -vv -s 00:02.2
has out "Bus: primary=00, secondary=01, subordinate=01"
has out "Memory behind bridge: c0000000-c00fffff"
has out "Express (v2) Root Port (Slot"
# An empty port: link down (x0), speed field valid.
run lspci 0 -vv -s 00:03.1
has out "LnkSta:	Speed 2.5GT/s, Width x0"

# Every capability decodes; the only '<?>' is AMD's IOMMU capability (ID 0Fh),
# which pciutils does not decode on real machines either.
run lspci 0 -vvv
grep -F '<?>' "$tmp/out" | grep -vF 'Capabilities: [40] Secure device <?>' >"$tmp/unknown"
[ -s "$tmp/unknown" ] && { echo "FAIL: undecoded lines:"; cat "$tmp/unknown"; fails=$((fails + 1)); }
grep -q "Unknown header type\|Capabilities: \[..\] #" "$tmp/out" && { echo "FAIL: unknown capability"; fails=$((fails + 1)); }

# --dump is what lspci -F reads: feeding it back gives the same tree, and
# lspci -n -xxxx on it reprints the dump byte for byte.
run lspci 0 --dump
cp "$tmp/out" "$tmp/dump"
lspci -F "$tmp/dump" -n -xxxx 2>/dev/null >"$tmp/reprint"
cmp -s "$tmp/dump" "$tmp/reprint" || { echo "FAIL: lspci -xxxx does not reprint the dump"; diff "$tmp/dump" "$tmp/reprint" | head; fails=$((fails + 1)); }
run lspci 0 --dump -x
has out "00:00.0 0600: 1022:1576"
run lspci 0 switch-demo -t
has out "-["

# Errors.
run lspci 1 nosuch
has err "neither a built-in scenario"
run lspci 2 -F /tmp/x
has err "selects lspci's access method"
run lspci 2 --dump -vvv
has err "--dump takes -x, -xxx or -xxxx"
run lspci 0 --help
has out "usage: pcilab lspci"
finish
