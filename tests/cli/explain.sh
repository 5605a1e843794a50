#!/bin/sh
# pcilab explain (src/cli/cmd_explain.c, src/diag/explain.c): the seed's pasted
# fragment with its broken line comes out as requester-id-mismatch naming the
# device's TLP requester ID as the thing to fix; stdin; the whole seed mail; a
# log without faults; lspci naming the requester; a missing file; bad options;
# --json parses with the pcilab-explain/1 schema. docs/explain.md.
. "$SRC/tests/lib/cli.inc"
seed="$SRC/tests/explain/cases/seed-paste.log"

# the fragment is the seed mail's own two lines, broken where the mail broke it
mail="$SRC/../../shared/seed/iommu-page-faults-ecp5.txt"
[ -f "$mail" ] || mail=/work/shared/seed/iommu-page-faults-ecp5.txt
if [ -f "$mail" ]; then
    grep -A1 '^\[   49.001605\] IO_PAGE_FAULT' "$mail" | cmp -s - "$seed" ||
        { echo "FAIL: seed-paste.log is not the mail's fragment"; fails=$((fails + 1)); }
fi

run explain 0 "$seed"
# the short verdict first: what, why, what to change
has out "pcilab explain: $seed: 1 finding from 1 fault event in 2 lines"
has out "[1] requester-id-mismatch (high): 1 DMA write from 00:00.0 at 0xffbf8000"
has out "00:00.0 is the host bridge (by x86 convention, no lspci given), which does no DMA"
has out "Fix the device's TLP requester ID"
has out "its own captured bus/device/function in its TLPs, not 00:00.0."
verdict=$(grep -n '^Verdict' "$tmp/out" | cut -d: -f1)
finding=$(grep -n '^Finding 1' "$tmp/out" | cut -d: -f1)
[ -n "$verdict" ] && [ -n "$finding" ] && [ "$verdict" -lt "$finding" ] ||
    { echo "FAIL: the verdict does not come before the details"; fails=$((fails + 1)); }
# the details: decoded fields, evidence with the joined lines, ruled out, fixes
has out "flags      0x0070 = PR|RW|PE (AMD 48882 2.5.3)"
has out "flags.PR   1 (bit 52)"
has out "flags.RW   1 (bit 53): a write"
has out "flags.I    0 (bit 51): a memory request, not an interrupt"
has out "domain     0x0000: Linux never allocates AMD-Vi domain 0"
has out "just below 4 GiB where Linux's IOVA allocator starts"
has out "line 1-2:"
has out "IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]"
has out "- missing-mapping: a missing mapping is reported under the device's own"
has out "- interrupt-remapping: the I flag is clear"
has out "1. [device-logic] Put the captured bus/device/function"
has out "Requester ID of every TLP it sends"
has out "PCIe Base 5.0 2.2.6.2"
has out "not a fix [kernel-parameter]: iommu=pt does not fix it"
has out "not a fix [kernel-parameter]: iommu=off"
has out "pci_add_dma_alias"
has out "lspci -vvv and lspci -tv"
has out "/proc/cmdline"
has out "Unrecognised: 0 records"
has out "Reader: 100 bytes, 2 lines, 1 records (1 continuation lines joined)"
lacks out "driver-api-misuse (high)"
wide=$(sed 1d "$tmp/out" | grep -v 'IO_PAGE_FAULT' | awk 'length > 80' | head -1)
[ -z "$wide" ] || { echo "FAIL: a line is too wide: $wide"; fails=$((fails + 1)); }

# stdin, as '-' and as no argument: the same answer
"$PCILAB" explain - <"$seed" >"$tmp/stdin1" 2>"$tmp/err" || { echo "FAIL: explain -"; fails=$((fails + 1)); }
"$PCILAB" explain <"$seed" >"$tmp/stdin2" 2>"$tmp/err" || { echo "FAIL: explain <"; fails=$((fails + 1)); }
sed 1d "$tmp/out" >"$tmp/file.body"
for s in stdin1 stdin2; do
    head -1 "$tmp/$s" | grep -qF "pcilab explain: <stdin>: 1 finding" ||
        { echo "FAIL: $s: no <stdin> header"; fails=$((fails + 1)); }
    sed 1d "$tmp/$s" | cmp -s - "$tmp/file.body" ||
        { echo "FAIL: $s differs from the file's output"; fails=$((fails + 1)); }
done

# the whole mail, prose and all: the same finding, the prose counted, not guessed at
if [ -f "$mail" ]; then
    run explain 0 "$mail"
    has out "[1] requester-id-mismatch (high): 1 DMA write from 00:00.0 at 0xffbf8000"
    has out "(not guessed at)"
    lacks out "Finding 2"
fi

# 4.9's two records, CRLF and mail quoting, with a driver printing on 01:00.0
printf '> [   49.001600] AMD-Vi: Event logged [\r\n> [   49.001605] IO_PAGE_FAULT device=00:00.0 domain=0x0000 address=0x00000000ffbf8000 flags=0x0070]\r\n' >"$tmp/split.log"
run explain 0 "$tmp/split.log"
has out "[1] requester-id-mismatch (high)"
has out "line 1-2:"

# lspci names the requester and the candidate sender
cat >"$tmp/lspci.txt" <<'EOF'
00:00.0 Host bridge [0600]: Advanced Micro Devices, Inc. [AMD] Family 15h (Models 60h-6fh) Processor Root Complex [1022:1576]
00:02.2 PCI bridge [0604]: Advanced Micro Devices, Inc. [AMD] Family 15h (Models 60h-6fh) Processor Root Port [1022:157c]
	Kernel driver in use: pcieport
01:00.0 Signal processing controller [1180]: Lattice Semiconductor Corporation Device [1204:5045]
	Kernel driver in use: ecp5_dma
EOF
run explain 0 --lspci "$tmp/lspci.txt" "$seed"
has out "Requester   0000:00:00.0: host bridge (lspci: host bridge)"
has out "Processor Root Complex"
has out "Fix the TLP requester ID of 01:00.0 (ecp5_dma)"

# no faults: said in one sentence, the lines counted
printf 'Linux version 6.1.0 (gcc)\nhello world\n' >"$tmp/none.log"
run explain 0 "$tmp/none.log"
has out "0 findings from 0 fault events in 2 lines"
has out "No IOMMU or DMA fault recognised."

# errors: a missing file, a missing lspci file, an unknown option, two logs
run explain 1 "$tmp/no-such.log"
has err "pcilab explain: $tmp/no-such.log"
has err "No such file or directory"
run explain 1 --lspci "$tmp/no-such.lspci" "$seed"
has err "no-such.lspci"
run explain 2 --frobnicate "$seed"
has err "unknown option '--frobnicate'"
run explain 2 "$seed" "$seed"
run explain 0 --help
has out "usage: pcilab explain [LOG|-] [--lspci FILE]... [--json] [--simulate]"

# --json: parses, the schema's keys, the seed's values
run explain 0 --json "$seed"
python3 - "$tmp/out" <<'EOF' || fails=$((fails + 1))
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
want(d["schema"] == "pcilab-explain/1", "schema")
want(len(d["findings"]) == 1, "one finding")
f = d["findings"][0]
want(f["category"] == "requester-id-mismatch", "category")
want(f["confidence"] == "high", "confidence")
want(f["requester"]["segment"] == 0 and f["requester"]["bdf"] == "00:00.0", "requester")
want(f["requester"]["role"] == "host bridge", "role")
want(f["count"] == 1 and f["family"] == "amd-vi" and f["kind"] == "IO_PAGE_FAULT", "count/family/kind")
want(f["address"] == "0xffbf8000", "address")
want(abs(f["first"]["time"] - 49.001605) < 1e-9 and f["first"]["line"] == 1, "first")
want(f["fields"]["flags"].startswith("0x0070 = PR|RW|PE"), "flags")
want(f["fields"]["flags.PE"].startswith("1 (bit 54)"), "flags.PE")
want(f["evidence"][0]["line"] == 1 and f["evidence"][0]["line_last"] == 2, "evidence lines")
want(any(r["category"] == "missing-mapping" for r in f["ruled_out"]), "ruled_out")
want(f["fixes"][0]["kind"] == "device-logic" and not f["fixes"][0]["not_a_fix"], "first fix")
want(any(x["not_a_fix"] and "iommu=pt" in x["text"] and x["cost"] for x in f["fixes"]), "iommu=pt")
want("TLP requester ID" in f["summary"]["change"], "summary.change")
want(isinstance(f["collect"], list) and f["collect"], "collect")
want(f["simulation"] is None, "simulation without --simulate")
want(d["unrecognised"]["count"] == 0, "unrecognised")
want(d["stats"]["lines"] == 2 and d["stats"]["joined"] == 1, "stats")
for b in bad:
    print("FAIL: --json: " + b)
sys.exit(1 if bad else 0)
EOF

# --simulate: the seed's line reproduced on the model, and gone with the fix
run explain 0 --simulate "$seed"
has out "(matches the log's: requester, flags, domain, address)"
has out "with the fix: 0 faults"
run explain 0 --simulate --json "$seed"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["findings"][0]["simulation"]; sys.exit(0 if s and s["status"] == "reproduced" else 1)' "$tmp/out" ||
    { echo "FAIL: --simulate --json: not reproduced"; fails=$((fails + 1)); }

finish
