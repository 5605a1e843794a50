#!/bin/sh
# pcilab run, the seed end to end: both drivers probe (insmod at 0.1 s), the
# ECP5 board's DMA writes fault through AMD-Vi with requester ID 0000 at the
# handle its driver was given, the ISR prints zeros, the CAN card runs cleanly.
. "$SRC/tests/lib/cli.inc"

run run 0
# the drivers' probe lines
# the CAN driver loads first (seed.yaml: its buffers are part of the layout)
has out "] ecp3_can: loading out-of-tree module taints kernel."
lacks out "] ecp5_dma: loading out-of-tree module taints kernel."
has out "] ecp5_dma 0000:01:00.0: enabling device (0000 -> 0002)"
has out "] ecp5_dma 0000:01:00.0: DMA mask: 32 bits"
has out "] ecp5_dma 0000:01:00.0: 2 MSI vectors: DMA done on IRQ "
has out "] ecp5_dma 0000:01:00.0: DMA enabled: 128 bytes every 2500 us, read-back at offset 0x40"
has out "] ecp3_can 0000:02:00.0: enabling device (0000 -> 0002)"
# the layout of the shared DMA domain of group 1 (docs/seed-layout.md): below
# the firmware's unity map of 0xffc00000-0xffffffff, the CAN driver's three
# buffers, top-down and size-aligned, then the ECP5 buffer
has out "[    0.100000] ecp3_can 0000:02:00.0: frame ring: 1024 frames, handle 0x00000000ffbfc000"
has out "[    0.100000] ecp3_can 0000:02:00.0: transmit ring: 8192 bytes, handle 0x00000000ffbfa000"
has out "[    0.100000] ecp3_can 0000:02:00.0: status block: 4096 bytes, handle 0x00000000ffbf9000"
has out "] ecp3_can 0000:02:00.0: 1 MSI vector: IRQ "
has out "] ecp3_can 0000:02:00.0: receiving: 1 frames per interrupt"
has out "[    0.100000] ecp5_dma 0000:01:00.0: DMA buffer: 4096 bytes, handle 0x00000000ffbf8000"

# The fault: 4.9 prints "AMD-Vi: Event logged [" as one record and the event as
# the next, at the handle the driver logged (an IOVA from the modelled
# allocator, not a constant), from requester 00:00.0, domain 0, flags 0x0070.
handle=$(sed -n 's/.*ecp5_dma 0000:01:00.0: DMA buffer: 4096 bytes, handle 0x\([0-9a-f]*\)$/\1/p' "$tmp/out")
[ -n "$handle" ] || { echo "FAIL: no handle line"; fails=$((fails + 1)); }
fault="IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x$handle flags=0x0070]"
has out "$fault"
first=$(grep -n -F -- "$fault" "$tmp/out" | head -1 | cut -d: -f1)
prev=$(sed -n "$((first - 1))p" "$tmp/out")
case "$prev" in
    *"] AMD-Vi: Event logged [") ;;
    *) echo "FAIL: the line before the first fault is '$prev'"; fails=$((fails + 1)) ;;
esac
# the first at the first DMA cycle: one interval (2.5 ms) after the insmod
has out "[    0.102500] $fault"
# and it is the seed's own record, word for word
has out "] IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]"
# every fault is this one: no other device, address or flags
nfault=$(grep -c 'IO_PAGE_FAULT' "$tmp/out")
nsame=$(grep -c -F -- "$fault" "$tmp/out")
[ "$nfault" -gt 300 ] && [ "$nfault" = "$nsame" ] ||
    { echo "FAIL: $nfault faults, $nsame of them the seed's"; fails=$((fails + 1)); }
nlogged=$(grep -c '] AMD-Vi: Event logged \[$' "$tmp/out")
[ "$nlogged" = "$nfault" ] || { echo "FAIL: $nlogged event lines, $nfault faults"; fails=$((fails + 1)); }

# The ISR prints zeros: nothing the board wrote reached the buffer.
has out "] ecp5_dma 0000:01:00.0: DMA done: 00000000 00000000"
ndone=$(grep -c 'ecp5_dma 0000:01:00.0: DMA done: ' "$tmp/out")
nzero=$(grep -c 'ecp5_dma 0000:01:00.0: DMA done: 00000000 00000000$' "$tmp/out")
[ "$ndone" -gt 300 ] && [ "$ndone" = "$nzero" ] ||
    { echo "FAIL: $ndone DMA done lines, $nzero with zeros"; fails=$((fails + 1)); }

# The CAN card runs cleanly: frames 1, 2, 3 ... each printed once, in order,
# with its own bytes (docs/devices.md: identifier 0x100 + n, data n), no
# overrun, no fault of its own.
bad=$(sed -n 's/.*ecp3_can 0000:02:00.0: rx \([0-9a-f]*\) \[8\] \([0-9a-f]*\) .*/\1 \2/p' "$tmp/out" |
      awk '{ n++; want = sprintf("%03x %02x", 256 + n % 256, n % 256);
             if ($1 " " $2 != want) { print "frame " n ": " $0 " want " want; exit } }
           END { if (n < 80) print "only " n " frames" }')
[ -z "$bad" ] || { echo "FAIL: CAN frames: $bad"; fails=$((fails + 1)); }
lacks out "device=02:00.0"
lacks out "overrun"
lacks out "dropped a batch"
has out "  ecp3_can at 02:00.0: 90 DMA cycles, 90 write TLPs (1440 bytes), 0 read TLPs, 90 MSIs"
has out "  ecp5_dma at 01:00.0: 360 DMA cycles, 360 write TLPs (46080 bytes), 360 read TLPs"

# Deterministic: byte-identical on a second run.
cp "$tmp/out" "$tmp/first"
run run 0
cmp -s "$tmp/first" "$tmp/out" || { echo "FAIL: two seed runs differ"; fails=$((fails + 1)); }

# A module parameter the driver refuses: the run fails at the module's entry.
sed 's/- {name: ecp5_dma, at: 0.1s, params: {dma_bits: 32}}/- {name: ecp5_dma, at: 0.1s, params: {dma_bits: abc}}/' \
    "$SRC/src/scenario/builtin/seed.yaml" >"$tmp/bad.yaml"
line=$(grep -n 'dma_bits: abc' "$tmp/bad.yaml" | cut -d: -f1)
run run 1 "$tmp/bad.yaml"
has err "bad.yaml:$line:7: module 'ecp5_dma': "
has err "dma_bits"
# A driver pcilab does not have: at the name.
sed 's/- {name: ecp3_can,/- {name: ecp3_cam,/' "$SRC/src/scenario/builtin/seed.yaml" >"$tmp/bad2.yaml"
line=$(grep -n 'ecp3_cam' "$tmp/bad2.yaml" | cut -d: -f1)
run run 1 "$tmp/bad2.yaml"
has err "bad2.yaml:$line:14: no driver 'ecp3_cam' in pcilab"
# The fix, shown by running it: the write engine puts the captured requester
# ID into its TLPs; no fault, the handler sees the data.
run run 0 --set ecp5.write_rid=captured
lacks out "IO_PAGE_FAULT"
has out "DMA done: ec5d0001 00010001"
run run 0 --set 01:00.0.write_rid=captured
lacks out "IO_PAGE_FAULT"
# --set errors name the option and the key
run run 2 --set ecp5.nosuch=1
has err "--set 'ecp5.nosuch=1': ecp5_dma (function 'ecp5') has no parameter 'nosuch' (its parameters: payload,"
run run 2 --set gpu.x=1
has err "'gpu' has no device model"
run run 2 --set nothing
has err "expected KEY=VALUE"
# a BB:DD.F behind a bridge is only known once enumerated: the model's own message
run run 2 --set 01:00.0.nosuch=1
has err "--set '01:00.0.nosuch=1': ecp5_dma: unknown parameter 'nosuch'"
finish
