#!/bin/sh
# pcilab run refuses bad input with a clear message and a non-zero exit:
# scenario files (file:line:column), --set keys and values (the key and what
# is allowed, exit 2), impossible topologies, options (the offending token).
. "$SRC/tests/lib/cli.inc"

# A YAML syntax error: at its line and column.
printf 'name: x\nroot_complex: {ecam: 0xe0000000, functions: [\n' >"$tmp/syntax.yaml"
run run 1 "$tmp/syntax.yaml"
has err "syntax.yaml:3:"
# An unknown key: named with the known ones, at its position.
sed 's/^description:/colour: red\ndescription:/' "$SRC/src/scenario/builtin/seed.yaml" >"$tmp/key.yaml"
line=$(grep -n '^colour:' "$tmp/key.yaml" | cut -d: -f1)
run run 1 "$tmp/key.yaml"
has err "key.yaml:$line:1: unknown key 'colour' in the scenario (known keys: name,"
# An impossible topology: an endpoint on the root bus (PCIe: endpoints sit below a port).
cat >"$tmp/topo.yaml" <<'Y'
name: topo
root_complex:
  ecam: 0xe0000000
  mmio32: {base: 0xc0000000, size: 256M}
  functions:
    - {bdf: 00:00.0, kind: host_bridge, vendor: 0x1022, device: 0x1576}
    - {bdf: 00:01.0, kind: endpoint, vendor: 0x1204, device: 0x5045, class: 0x118000}
Y
run run 1 "$tmp/topo.yaml"
has err "topo.yaml:7:"
has err "endpoint"
# More bridges than bus numbers: the range is named.
sed 's/buses: \[0x00, 0x3f\]/buses: [0x00, 0x01]/' "$SRC/src/scenario/builtin/seed.yaml" >"$tmp/buses.yaml"
run run 1 "$tmp/buses.yaml"
has err "buses.yaml:"
has err "bus"

# base: and set: in a file, errors at the set: entry.
cat >"$tmp/derived.yaml" <<'Y'
base: seed
name: derived
set:
  ecp5.payload: 512
  ecp5.nosuch: 1
Y
run run 1 "$tmp/derived.yaml"
has err "derived.yaml:5:3: set 'ecp5.nosuch': ecp5_dma (function 'ecp5') has no parameter 'nosuch' (its parameters: payload,"
printf 'base: nosuch\nname: d\n' >"$tmp/d2.yaml"
run run 1 "$tmp/d2.yaml"
has err "d2.yaml:1:7: base 'nosuch' is neither a built-in scenario (edu-ok, edu-phys-addr, edu-read-from-device-map, edu-straddle-end, edu-unmapped-iova, edu-use-after-unmap, edu-write-to-device-map, edu, q35-vtd, seed-fixed, seed, switch-demo) nor a file"
printf 'base: loop.yaml\nname: loop\n' >"$tmp/loop.yaml"
run run 1 "$tmp/loop.yaml"
has err "(a loop?)"
printf 'base: seed\nname: d3\nroot_complex: {}\n' >"$tmp/d3.yaml"
run run 1 "$tmp/d3.yaml"
has err "d3.yaml:3:1: unknown key 'root_complex' in a scenario with 'base' (known keys: base, name, description, seed, kernel, iommu, set)"
# A file based on a file, relative to its folder, with kernel: merged over the base's.
mkdir "$tmp/sub"
printf 'base: ../derived-ok.yaml\nname: d4\nkernel: {cmdline: "iommu=pt"}\n' >"$tmp/sub/d4.yaml"
printf 'base: seed\nname: derived-ok\nset: {ecp5.payload: 256, ecp5_dma.dma_bits: 64}\n' >"$tmp/derived-ok.yaml"
run run 0 "$tmp/sub/d4.yaml" --duration 110ms
has out "Kernel log (Linux 4.9.80, command line \"iommu=pt\")"
has out "DMA enabled: 256 bytes every 2500 us"
has out "DMA mask: 64 bits"

# --set: the key, what is allowed, exit 2.
run run 2 --set ecp5.nosuch=1
has err "--set 'ecp5.nosuch=1': ecp5_dma (function 'ecp5') has no parameter 'nosuch' (its parameters: payload, period,"
run run 2 --set ecp5.payload=0
has err "--set 'ecp5.payload=0': ecp5_dma: parameter 'payload': '0' is out of range: 1..65536 bytes"
run run 2 --set ecp5.requester_id=banana
has err "(requester_id takes captured, zero or bb:dd.f)"
run run 2 --set ecp5.addr64=sometimes
has err "'sometimes' is not one of auto, always"
run run 2 --set nosuch.x=1
has err "no target 'nosuch' in scenario 'seed' (targets: kernel, ecp5, ecp5_dma, can, ecp3_can)"
run run 2 --set kernel.version=3.1
has err "--set 'kernel.version=3.1': kernel version '3.1': 3.1 is not modelled; modelled versions: 4.9"
run run 2 --set kernel.colour=red
has err "the kernel has no key 'colour' (kernel keys: version, cmdline, cpus, dma_debug)"
run run 2 --set ecp5_dma.dma_bits=abc
has err "module ecp5_dma: 'abc' is not a value for its int parameter 'dma_bits'"
run run 2 --set ecp5_dma.nosuch=1
has err "'ecp5_dma' is both a device model and a module, and neither has a parameter 'nosuch' (module parameters: dma_bits, irq_sharing;"
run run 2 --set ecp5.payload
has err "--set 'ecp5.payload': expected KEY=VALUE"
run run 2 --set 01:00.0.payload=abc
has err "--set '01:00.0.payload=abc': ecp5_dma: parameter 'payload': 'abc' is not a size"
# '--set help' lists every key (the tables of docs/scenarios.md)
run run 0 --set help
has out "| \`requester_id\` | captured, zero or bb:dd.f |"
has out "| \`ecp5_dma.dma_bits\` | int |"

# Options: the offending token.
run run 2 --duration 5parsecs
has err "--duration '5parsecs': expected a time"
run run 2 --until=3x
has err "--until '3x': expected a time"
run run 2 --bogus
has err "unknown option '--bogus'"
run run 2 --json=yes
has err "unknown option '--json=yes'"
run run 2 --vcd
has err "--vcd needs a value"
run run 2 --vcd "$tmp/same" --trace "$tmp/same"
has err "--vcd '$tmp/same': the same file as --trace"
run run 2 --json --trace -
has err "--json with a trace on stdout"
run run 2 --trace-format vcd
has err "--trace-format 'vcd' without --trace"
finish
