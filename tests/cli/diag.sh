#!/bin/sh
# pcilab run's Diagnosis section (src/diag, src/cli/run_diag.c): the seed's
# faults come out as requester-id-mismatch with every part derived from the
# run, the fix is shown by running it, and runs without faults say so in one
# line. docs/diagnosis.md describes each line.
. "$SRC/tests/lib/cli.inc"

run run 0
# the short verdict first
has out "Diagnosis: 359 IOMMU faults, 1 signature"
has out "  [1] requester-id-mismatch: 359 x write from 00:00.0 at 0x"
has out "  [1] requester-id-mismatch (confidence high): 359 write faults"
has out "ecp5's write engine puts 0000 in its TLP headers, not its own ID"
# the section comes after the kernel log and the machine
log_end=$(grep -n '^device models attached' "$tmp/out" | cut -d: -f1)
diag_at=$(grep -n '^Diagnosis' "$tmp/out" | cut -d: -f1)
[ -n "$diag_at" ] && [ "$diag_at" -gt "$log_end" ] ||
    { echo "FAIL: the Diagnosis section is not under the log"; fails=$((fails + 1)); }
# the details, from the run
has out "    Faults      359 TLPs in 359 transfers, 45952 bytes"
has out "    Evidence    [    0.102500] AMD-Vi: Event logged ["
has out "                [    0.102500] IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x"
has out "    TLP         MWr32 len=32 RID=00:00.0 tag=0x"
has out "                3 DW header: 40000020 0000"
has out "    Requester   0000 = 00:00.0 names rc, the host bridge (no DMA master)"
has out "                not the device at its real BDF 01:00.0"
has out "    Sent by     01:00.0 ecp5 (ecp5_dma), only endpoint below root port 00:02.2"
has out "                its write_rid=zero builds this header"
has out "    DTE 00:00.0 V=1 TV=1 Mode=0 IR=0 IW=0 DomainID=0: no page table"
has out "    Flags       0x0070 = PR|RW|PE (AMD 48882 2.5.3)"
has out "                PR bit 52: DTE valid (V=1), no page table (TV=0 or Mode 0)"
has out "                RW bit 53: the TLP is a memory write (MWr)"
has out "                PE bit 54: the DTE's IR/IW refuse this access"
has out "    Domain      0x0000: DTE 00:00.0's DomainID (0: in no driver's domain)"
has out "so the address is 01:00.0's own DMA buffer mapping"
has out "    Reads       01:00.0's MRds carry 01:00.0: 359 translated, 0 faulted"
has out "    Others      02:00.0 can (ecp3_can): RID = its BDF"
has out "    Payload     128 bytes per transfer at MPS 128: 1 TLP each, all fault"
has out "                in pcilab: --set ecp5.requester_id=captured"
# the fix, run
has out "  The fix, shown by running it again with --set ecp5.requester_id=captured:"
grep -Eq '^    IOMMU faults +359 +0$' "$tmp/out" ||
    { echo "FAIL: no faults before/after row"; fails=$((fails + 1)); }
grep -Eq '^    data delivered +0 bytes +45952 bytes$' "$tmp/out" ||
    { echo "FAIL: no data delivered row"; fails=$((fails + 1)); }
has out "    ISR printed before     DMA done: 00000000 00000000"
has out "    ISR printed after      DMA done: ec5d0001 00010001"
# about 80 columns, log lines quoted as evidence aside
wide=$(sed -n '/^Diagnosis/,$p' "$tmp/out" | grep -v 'IO_PAGE_FAULT' | awk 'length > 80' | head -1)
[ -z "$wide" ] || { echo "FAIL: a diagnosis line is too wide: $wide"; fails=$((fails + 1)); }

# more payload, more faults: 512 bytes at MPS 128 are 4 TLPs per transfer
run run 0 --set ecp5.payload=512
has out "Diagnosis: 1436 IOMMU faults, 1 signature"
has out "    Faults      1436 TLPs in 359 transfers, 183808 bytes"
has out "    Payload     512 bytes per transfer at MPS 128: 4 TLPs each, all fault"
has out "                (4 by the split at MPS and 4 KiB, PCIe 5.0 2.2.2, 2.2.7);"

# the fixed machine: one line
run run 0 --set ecp5.requester_id=captured
has out "Diagnosis: no IOMMU faults"
lacks out "requester-id-mismatch"
run run 0 --cmdline iommu=off
has out "Diagnosis: no IOMMU faults"
# --no-diagnose: no section
run run 0 --no-diagnose
lacks out "Diagnosis"

# JSON: the diagnosis value
run run 0 --json
python3 - "$tmp/out" <<'PY' || fails=$((fails + 1))
import json, sys
d = json.load(open(sys.argv[1]))["diagnosis"]
assert len(d) == 1, d
f = d[0]
assert f["category"] == "requester-id-mismatch", f["category"]
assert f["confidence"] == "high"
assert f["requester"] == "00:00.0" and f["sender"]["bdf"] == "01:00.0"
assert f["count"] == 359 and f["domain"] == 0 and f["flags"] == 0x70
assert f["flags_decoded"] == "PR|RW|PE"
assert [b["name"] for b in f["flag_bits"]] == ["PR", "RW", "PE"]
assert f["tlp"]["requester_id"] is not None and f["tlp"]["header_dw"] == 3
assert f["dte"]["V"] and f["dte"]["TV"] and f["dte"]["Mode"] == 0
assert not f["dte"]["IR"] and not f["dte"]["IW"] and f["dte"]["DomainID"] == 0
assert f["sender"]["param"] == {"key": "write_rid", "value": "zero"}
assert f["evidence"][0] == "AMD-Vi: Event logged ["
assert f["evidence"][1].startswith("IO_PAGE_FAULT device=00:00.0 domain=0x0000")
assert "--set ecp5.requester_id=captured" in f["fixes"]
v = f["verified"]
assert v["faults_before"] == 359 and v["faults_after"] == 0
assert v["delivered_after"] == 45952 and v["isr_after"].endswith("DMA done: ec5d0001 00010001")
PY
run run 0 --json --set ecp5.requester_id=captured
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["diagnosis"] == []' "$tmp/out" ||
    fails=$((fails + 1))
finish
