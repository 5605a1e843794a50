#!/bin/sh
# pcilab run: the default (seed) machine comes up, enumerates as Linux does,
# and the output, JSON and traces are deterministic; bad input is refused.
. "$SRC/tests/lib/cli.inc"

# Default: the seed machine. The ECP5 board at 01:00.0 behind 00:02.2 (5GT/s x1),
# the CAN card at 02:00.0 behind 00:02.3 (2.5GT/s x1), the IOMMU at 00:00.2.
run run 0
has out "seed: AMD RX-416GD"
has out "pci 0000:01:00.0: [1204:5045] type 00 class 0x118000"
has out "pci 0000:00:02.2: PCI bridge to [bus 01]"
has out "pci 0000:01:00.0: BAR 0: assigned [mem 0xc0000000-0xc0000fff]"
has out "01:00.0  endpoint               1204:5045  118000  5GT/s x1     ecp5 / ecp5_dma"
has out "02:00.0  endpoint               1204:e3ca  0c0900  2.5GT/s x1   can / ecp3_can"
has out "00:00.2  RCiEP                  1022:1577  080600"
has out "00:03.1  root port              1022:157c  060400  down"
has out "simulated 1.000000000 s"
# the scenario's device models are attached (the drivers and what the boards did: seed.sh)
has out "device models attached:"
has out "  ecp5_dma at 01:00.0: "
has out "  ecp3_can at 02:00.0: "
lacks out "configuration space only"
cp "$tmp/out" "$tmp/first"
# No trailing blanks in the table (kernel log lines keep Linux's own).
if grep -v '^\[' "$tmp/out" | grep -q ' $'; then echo "FAIL: trailing blanks"; fails=$((fails + 1)); fi
# The kernel boots: the seed's 4.9.80 with AMD-Vi on, as Linux 4.9 prints it.
has out "Kernel log (Linux 4.9.80"
has out "AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40"
has out "AMD-Vi: Interrupt remapping enabled"
has out "AMD-Vi: Lazy IO/TLB flushing enabled"
# --kernel and --cmdline override the scenario
run run 0 --kernel 5.15 --cmdline "iommu=pt"
has out "Kernel log (Linux 5.15, command line \"iommu=pt\")"
has out "iommu: Default domain type: Passthrough (set via kernel command line)"
run run 0 --cmdline "amd_iommu=off"
lacks out "AMD-Vi: Found IOMMU"
run run 0 --dma-debug
has out "DMA-API: debugging enabled by kernel config"
long=$(printf 'x%.0s' $(seq 1 1100))
run run 1 --cmdline "$long"
has err "kernel command line of 1100 characters"
run run 1 --kernel 3.10
has err "3.10"
has err "4.9"
run run 2 --kernel
has err "--kernel needs a value"

# Deterministic: byte-identical on a second run; 'pcilab' alone is 'pcilab run'.
"$PCILAB" >"$tmp/second" 2>&1
cmp -s "$tmp/first" "$tmp/second" || { echo "FAIL: pcilab and pcilab run differ"; fails=$((fails + 1)); }

run run 0 switch-demo --until 2.5ms
has out "simulated 0.002500000 s"
has out "PCI bridge to [bus"
# Long runs stay exact: 1e6 s = 1e18 ps, just below the 2^63 ps limit's order
# (switch-demo: no driver starts its models, so the second is cheap to simulate).
run run 0 switch-demo --until 1e6
has out "simulated 1000000.000000000 s"

# JSON parses and carries the same facts.
run run 0 --json
has out '"schema": "pcilab-run/1"'
has out '"name": "seed"'
has out '"bdf": "01:00.0"'
has out '"model": "ecp5_dma"'

# Traces: enumeration's configuration TLPs, as text, JSON lines and VCD.
run run 0 --trace "$tmp/t.txt" --until 1ms
has out "simulated 0.001000000 s"
grep -q "CfgRd0" "$tmp/t.txt" || { echo "FAIL: text trace lacks CfgRd0"; fails=$((fails + 1)); }
# Behind a switch, Type 1 requests cross the root port's link (7.3.3).
run run 0 switch-demo --trace "$tmp/sw.txt" --until 1ms
grep -q "CfgRd1" "$tmp/sw.txt" || { echo "FAIL: switch-demo trace lacks CfgRd1"; fails=$((fails + 1)); }
run run 0 --trace "$tmp/t.jsonl" --until 1ms
head -1 "$tmp/t.jsonl" | grep -q '^{.*"t_ps"' || { echo "FAIL: JSON lines trace"; fails=$((fails + 1)); }
run run 0 --trace "$tmp/t.vcd" --until 1ms
grep -q '^\$timescale' "$tmp/t.vcd" && grep -q '^\$enddefinitions' "$tmp/t.vcd" ||
    { echo "FAIL: VCD header"; fails=$((fails + 1)); }
# --vcd besides --trace: both written at once; --duration as --until
run run 0 --trace "$tmp/b.txt" --vcd "$tmp/b.vcd" --duration=1ms
grep -q '^\$enddefinitions' "$tmp/b.vcd" && grep -q "CfgRd0" "$tmp/b.txt" ||
    { echo "FAIL: --vcd with --trace"; fails=$((fails + 1)); }
cmp -s "$tmp/b.vcd" "$tmp/t.vcd" || { echo "FAIL: --vcd differs from --trace x.vcd"; fails=$((fails + 1)); }
"$PCILAB" run --trace "$tmp/t2.txt" --until 1ms >/dev/null 2>&1
cmp -s "$tmp/t.txt" "$tmp/t2.txt" || { echo "FAIL: traces differ between runs"; fails=$((fails + 1)); }

# Bad input: a clear message and a non-zero status.
run run 1 nosuch
has err "'nosuch' is neither a built-in scenario (edu-ok, edu-phys-addr, edu-read-from-device-map, edu-straddle-end, edu-unmapped-iova, edu-use-after-unmap, edu-write-to-device-map, edu, q35-vtd, seed-fixed, seed, switch-demo) nor a scenario file"
run run 1 "$tmp/missing.yaml"
has err "missing.yaml"
# A copy of the seed with one misspelt kind: the error names its line and column.
sed '0,/kind: host_bridge/s//kind: host_bridg/' "$SRC/src/scenario/builtin/seed.yaml" >"$tmp/bad.yaml"
line=$(grep -n 'kind: host_bridg$' "$tmp/bad.yaml" | cut -d: -f1)
col=$(( $(sed -n "${line}p" "$tmp/bad.yaml" | sed 's/kind:.*//' | wc -c) + 6 ))  # indent + newline + "kind: "
run run 1 "$tmp/bad.yaml"
has err "bad.yaml:$line:$col:"
has err "host_bridg"
run run 2 --until 3x
has err "--until '3x': expected a time"
run run 2 --until 1.9e7
has err "about 106 days"
run run 2 --frobnicate
has err "unknown option '--frobnicate'"
run run 2 seed switch-demo
has err "one scenario only"
run run 1 --trace "$tmp/t.txt" --trace-format pcap
has err "pcap"
run run 0 --help
has out "usage: pcilab run"
finish
