#!/bin/sh
# pcilab run --json: the documented schema (docs/run-json.md) parses and its
# counters are right. For the seed's second: every ECP5 write that reached
# the root complex was refused (one may be in flight at the end), and those
# are exactly the IOMMU's faults and the AMD-Vi events; nothing of the ECP5
# reached memory, everything of the CAN card did, no fault of its own.
. "$SRC/tests/lib/cli.inc"

check() { # ARGS -- python assertions on d (the parsed document)
    script=$1; shift
    "$PCILAB" run "$@" --json >"$tmp/j.json" 2>"$tmp/err" || { echo "FAIL: pcilab run $* --json"; fails=$((fails + 1)); return; }
    python3 -m json.tool "$tmp/j.json" >/dev/null || { echo "FAIL: not JSON: pcilab run $* --json"; fails=$((fails + 1)); return; }
    python3 - "$tmp/j.json" "$script" <<'PY' || fails=$((fails + 1))
import json, sys
d = json.load(open(sys.argv[1]))
dev = {x["name"]: x for x in d["counters"]["devices"]}
io = d["counters"]["iommus"]
tot = d["counters"]["totals"]
try:
    exec(sys.argv[2])
except AssertionError as e:
    print("FAIL:", e)
    sys.exit(1)
PY
}

check '
assert d["schema"] == "pcilab-run/1", d["schema"]
for k in ["scenario", "simulation", "enumeration", "kernel", "functions", "counters"]:
    assert k in d, "missing " + k
assert d["scenario"]["name"] == "seed" and d["scenario"]["seed"] == 1, d["scenario"]
assert d["simulation"]["simulated_ps"] == 10**12 == d["simulation"]["duration_ps"], d["simulation"]
k = d["kernel"]
assert k["version"] == "4.9.80" and k["cmdline"] == "", k["version"]
line = [l for l in k["log"] if l["text"].startswith("IO_PAGE_FAULT")][0]
assert line["ts_ps"] == 102500 * 10**6 or line["ts_ps"] // 10**6 == 102500, line
assert line["level"] in range(8) and "level_name" in line, line
e, c = dev["ecp5"], dev["can"]
assert e["bdf"] == "01:00.0" and e["model"] == "ecp5_dma", e
assert e["tlps_sent"]["mem_write"] == 360 and e["tlps_sent"]["mem_read"] == 360, e["tlps_sent"]
assert e["tlps_sent"]["mem_write_bytes"] == 360 * 128, e["tlps_sent"]
arrived = e["at_root_complex"]["mem_write"]
assert e["tlps_sent"]["mem_write"] - arrived in (0, 1), (arrived, e["tlps_sent"])
assert e["faults"]["mem_write"] == arrived > 300, e["faults"]
assert e["faults"]["mem_read"] == 0 and e["faults"]["msi"] == 0, e["faults"]
assert e["bytes_delivered"] == 0, e["bytes_delivered"]
assert e["tlps_sent"]["tlps"] == e["tlps_sent"]["mem_write"] + e["tlps_sent"]["mem_read"] + e["tlps_sent"]["msi"], e["tlps_sent"]
assert e["interrupts"]["msis_sent"] - e["interrupts"]["msis_handled"] in (0, 1, 2), e["interrupts"]
assert c["faults"]["total"] == 0, c["faults"]
assert c["bytes_delivered"] == 16 * c["at_root_complex"]["mem_write"] > 0, c
assert len(io) == 1 and io[0]["bdf"] == "00:00.2" and io[0]["arch"] == "amd-vi", io
assert io[0]["faults"] == e["faults"]["mem_write"] == io[0]["events_logged"], io
assert io[0]["iotlb_hits"] + io[0]["iotlb_misses"] <= io[0]["translations"], io
assert tot["device_faults"] == io[0]["faults"] == tot["iommu_faults"], tot
assert tot["bytes_delivered"] == c["bytes_delivered"], tot
assert tot["tlps_sent"] == e["tlps_sent"]["tlps"] + c["tlps_sent"]["tlps"], tot
'
# the fix: no fault anywhere, every byte that arrived was delivered
check '
e = dev["ecp5"]
assert e["faults"]["total"] == 0 and tot["iommu_faults"] == 0, (e["faults"], tot)
assert e["bytes_delivered"] == 128 * e["at_root_complex"]["mem_write"] > 0, e
assert d["scenario"]["name"] == "seed-fixed", d["scenario"]
' seed-fixed
# iommu=off: nothing refused, every byte that arrived delivered
check '
assert tot["iommu_faults"] == 0 and tot["device_faults"] == 0, tot
e = dev["ecp5"]
assert e["bytes_delivered"] == 128 * e["at_root_complex"]["mem_write"] > 0, e
assert d["kernel"]["cmdline"] == "iommu=off", d["kernel"]["cmdline"]
' --cmdline iommu=off --duration 110ms
# a payload over a page: more faults per cycle (8192 bytes at MPS 128: 64 TLPs a cycle)
check '
e = dev["ecp5"]
assert e["tlps_sent"]["mem_write"] == 4 * 64, e["tlps_sent"]
assert e["faults"]["mem_write"] == e["at_root_complex"]["mem_write"], e
' --set ecp5.payload=8192 --duration 110ms
finish
