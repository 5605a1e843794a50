#!/bin/sh
# pcilab explain --simulate's runner (src/cli/explain_sim_run.c), through
# `pcilab explain-simulate LINE`: the seed's pasted line is reproduced exactly
# on the seed machine and the fix removes it; a 6.1 line from another BDF on
# a generic machine (address differs, said so); VT-d refused; JSON.
. "$SRC/tests/lib/cli.inc"

seed='IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]'

# the seed: 4.9 two-record form, no "Linux version" line -> 4.9.80, base seed
run explain-simulate 0 "$seed"
has out "scenario    seed --set kernel.version=4.9.80 --set ecp5.write_rid=zero"
has out "the 4.9 two-record form of the line is what 4.9.80 prints"
has out "the seed's machine (built-in scenario seed)"
has out "reproduced: [    0.102500] IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]"
has out "(matches the log's: requester, flags, domain, address)"
has out "with the fix: 0 faults, the ISR reads the data"
has out "(--set ecp5.requester_id=captured; DMA done: ec5d0001 00010001, before it 00000000 00000000)"
lacks out "not reproduced"
lacks out "differs"
# every line of the text within 80 columns but the log's own lines
awk 'length > 80 && !/IO_PAGE_FAULT/ { print "too long: " $0; bad = 1 } END { exit bad }' "$tmp/out" ||
    fails=$((fails + 1))

# the same pasted with its time and the mail's line break joined, with the
# log's own kernel and rate: 4 lines over 7.5 ms
run explain-simulate 0 "[   49.001605] $seed" --kernel 4.9.80 --count 4 --first 49.001605 --last 49.009105
has out "kernel 4.9.80, from the log's \"Linux version\" line"
has out "4 lines in 4 transfers over 0.007500 s: one transfer every 2500 us"
has out "(matches the log's: requester, flags, domain, address)"

# the scenario file it prints is the seed with the two keys
run explain-simulate 0 "$seed" --print-scenario
has out "base: seed"
has out "  ecp5.write_rid: \"zero\""

# another machine: 6.1's segment form, the driver printing on 03:00.0
line61='AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:00.0 domain=0x0000 address=0xfff00000 flags=0x0070]'
run explain-simulate 0 "$line61" --device 0000:03:00.0
has out "scenario    a generic machine, --set kernel.version=6.1 --set fpga.write_rid=zero"
has out "the board at 0000:03:00.0 behind a root port"
has out "reproduced: [    0.102500] AMD-Vi: Event logged [IO_PAGE_FAULT device=0000:00:00.0 domain=0x0000 address=0xfffff000 flags=0x0070]"
has out "(matches the log's: requester, flags, domain; address differs: 0xfff00000 (log) vs 0xfffff000 (run))"
has out "with the fix: 0 faults, the ISR reads the data"
has out "(--set fpga.requester_id=captured; DMA done: ec5d0001 00010001, before it 00000000 00000000)"
lacks out "warning"

# VT-d: a pasted DMAR line of reason 5 is a missing mapping, run on the edu machine
run explain-simulate 0 'DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0xfffd000 [fault reason 0x05] PTE Write access is not set'
has out "scenario    edu --set iommu=vtd --set kernel.version=6.1 --set"
has out "mistake=unmapped-iova makes the same mistake"
has out "reproduced: [    0.312000] DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0xfffd000 [fault reason 0x05] PTE Write access is not set"
has out "(matches the log's: requester, direction, reason, address)"
has out "with the fix: 0 faults, the data arrives"
# 4.4's two records: 4.9.80 prints the one-line form (said), reproduced
run explain-simulate 0 'DMAR:[DMA Write] Request device [00:03.0] fault addr fffd000 
DMAR:[fault reason 05] PTE Write access is not set'
has out "kernel.version=4.9.80"
has out "printed in the VT-d 4.7 form, the log's is VT-d 4.4 two-record"
# a wrong requester ID under VT-d: the generic machine with QEMU's VT-d unit
run explain-simulate 0 'DMAR: [DMA Write NO_PASID] Request device [03:00.0] fault addr 0xfffff000 [fault reason 0x01] Present bit in root entry is clear' --device 05:00.0 --category requester-id-mismatch
has out "--set iommu=vtd"
has out "(fault reason 0x01: the IOMMU has no root entry for it)"
has out "(matches the log's: requester, direction, reason, address)"
has out "with the fix: 0 faults, the ISR reads the data"
run explain-simulate 0 'DMAR: [DMA Write NO_PASID] Request device [00:00.0] fault addr 0xfffff000 [fault reason 0x05] PTE Write access is not set' --category requester-id-mismatch
has out "requester 0000:00:00.0 as a host bridge"
# reason 2 on a bus the generic machine leaves empty: run, and the difference said
run explain-simulate 1 'DMAR: [DMA Read NO_PASID] Request device [02:00.0] fault addr 0xfffff000 [fault reason 0x02] Present bit in context entry is clear' --category requester-id-mismatch
has out "reason differs"
# the real 6.1 capture under QEMU's intel-iommu
run explain-simulate 0 --log "$SRC/tests/linux/captured/edu-vtd-unmapped-iova.log"
has out "Finding 1: missing-mapping"
has out "kernel 6.1, from the log's \"Linux version\" line"
has out "(matches the log's: requester, direction, reason, address)"
# a category the board model cannot send
run explain-simulate 2 "$seed" --category iotlb-invalidation
has out "not simulated: a iotlb-invalidation finding is not reproduced"
# not a fault line, a bad option
run explain-simulate 1 'hello'
has err "not an AMD-Vi IO_PAGE_FAULT or VT-d DMA fault line"
run explain-simulate 2 "$seed" --frobnicate
has err "unknown option or missing value '--frobnicate'"

# a whole log through pcilab explain's reader: the seed's fragment as pasted
# in the mail (../shared/seed/iommu-page-faults-ecp5.txt), its line wrapped
cat >"$tmp/seed.txt" <<'LOG'
is enabled (iommu=soft or force), I receive an IO page fault (sometimes even
more, depending on the payload size) on every transfer, and the data is all
zeros:

[   49.001605] IO_PAGE_FAULT device=00:00.0 domain=0x0000
address=0x00000000ffbf8000 flags=0x0070]

Where the device ID corresponds to the Host bridge, and the address
corresponds to the DMA handle I got from dma_alloc_coherent respectively.
LOG
run explain-simulate 0 --log "$tmp/seed.txt"
has out "Finding 1: requester-id-mismatch"
has out "scenario    seed --set kernel.version=4.9.80 --set ecp5.write_rid=zero"
has out "reproduced: [    0.102500] IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]"
has out "(matches the log's: requester, flags, domain, address)"
has out "with the fix: 0 faults, the ISR reads the data"

# pcilab's own 6.1 run of the seed with its lspci -nn: lspci agrees with the
# seed's shape, the driver printing on 01:00.0 is taken as the sender
run explain-simulate 0 --log "$SRC/tests/explain/cases/sim-seed-6.1.log" \
    --lspci "$SRC/tests/explain/cases/sim-seed-6.1.lspci"
has out "scenario    seed --set kernel.version=6.1 --set ecp5.write_rid=zero"
has out "lspci lists 01:00.0 and gives no tree to contradict it"
has out "0000:01:00.0 (ecp5_dma) is taken as the sender"
has out "(matches the log's: requester, flags, domain, address)"
# 4.9's two records joined by the reader are still the 4.9 form
run explain-simulate 0 --log "$SRC/tests/explain/cases/sim-seed-4.9.log"
has out "the 4.9 two-record form of the line is what 4.9.80 prints"
has out "(matches the log's: requester, flags, domain, address)"

# JSON
run explain-simulate 0 "$seed" --json
python3 - "$tmp/out" <<'PY' || fails=$((fails + 1))
import json, sys
j = json.load(open(sys.argv[1]))
assert j["status"] == "reproduced", j["status"]
assert j["exact"] is True
assert j["scenario"]["base"] == "seed" and j["scenario"]["kernel"] == "4.9.80"
assert j["scenario"]["set"] == ["kernel.version=4.9.80", "ecp5.write_rid=zero"], j["scenario"]["set"]
assert j["logged"]["address"] == 0xffbf8000 and j["simulated"]["address"] == 0xffbf8000
assert j["simulated"]["requester"] == "0000:00:00.0" and j["simulated"]["flags"] == 0x70
assert j["fields"] == {"requester": "same", "domain": "same", "address": "same",
                       "flags": "same", "direction": "absent", "reason": "absent",
                       "form": "same"}, j["fields"]
f = j["fix"]
assert f["set"] == "ecp5.requester_id=captured"
assert f["faults_before"] > 0 and f["faults_after"] == 0 and f["fault_lines_after"] == 0
assert f["data_arrives"] is True and f["isr_after"].startswith("DMA done: ec5d0001")
PY
run explain-simulate 0 --json 'DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0xffff000 [fault reason 0x05] PTE Write access is not set' --category permission
python3 - "$tmp/out" <<'PY' || fails=$((fails + 1))
import json, sys
j = json.load(open(sys.argv[1]))
assert j["status"] == "reproduced", j
assert j["scenario"]["base"] == "edu" and j["scenario"]["mistake"] == "write-to-device-map", j
assert j["scenario"]["set"] == ["iommu=vtd", "kernel.version=6.1", "kernel.cmdline=intel_iommu=on",
                                "edu.mistake=write-to-device-map"], j["scenario"]["set"]
assert j["logged"]["family"] == "vt-d" and j["logged"]["reason"] == 5
assert j["simulated"]["direction"] == "write" and j["simulated"]["address"] == 0xffff000
assert j["fields"]["reason"] == "same" and j["fields"]["direction"] == "same"
assert j["fields"]["flags"] == "absent" and j["exact"] is True
f = j["fix"]
assert f["set"] == "edu.mistake=ok" and f["faults_after"] == 0 and f["data_arrives"] is True
assert f["isr_after"].startswith("store: 2048 bytes of the device's data"), f
PY

finish
