#!/usr/bin/env python3
"""Parity between a real kernel's log and pcilab's simulation of the same
edu scenario (issue 7; docs/parity.md).

For every configuration (IOMMU x mode) and every mistake of src/drivers/edu.c,
this reads the real kernel log that tests/linux/edu_bugs.sh captured
(edu-<config>-<mistake>.log) and runs `pcilab run edu-<mistake>` with the
same IOMMU and command line. Both logs go through `pcilab explain --json`
(the project's own reader of fault lines, so there is one parser), and the
script compares, field by field:

  faults     the IOMMU's fault lines: how many (lines; 0 when none), the
             VT-d fault status register the first interrupt printed, and of
             the first line the requester, the direction, the VT-d fault
             reason or the AMD-Vi flags, and the address (an address that is
             one of the driver's buffers' physical addresses is compared as
             that name: the page allocator's choices differ)
  handles    the DMA handles the driver printed, in order (addresses an IOMMU
             hands out are deterministic; without translation they are
             physical addresses of the machine's RAM and are not compared)
  outcome    what the driver found in its store buffer afterwards ("store: N
             bytes of the device's data ...")

A difference is either explained in tests/linux/parity-known.txt (a gap of
QEMU's virtual IOMMU, named with the QEMU version, or a choice pcilab made
and says why) or a failure.

  parity.py --pcilab BIN [--real DIR] [--write FILE | --check FILE] [--quiet]

--real defaults to tests/linux/captured (the committed captures: no QEMU
needed, which is what `make test` runs); `make linux-parity` boots the real
kernel first and passes the fresh captures. --write writes the table
(docs/parity.md); --check fails when the table FILE would change.
Exit status: 0 when every difference is explained, 1 otherwise, 2 on bad use.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

MISTAKES = ["ok", "unmapped-iova", "phys-addr", "write-to-device-map",
            "read-from-device-map", "use-after-unmap", "straddle-end"]

# configuration: (IOMMU, mode, pcilab arguments, what edu_bugs.sh gives QEMU)
CONFIGS = [
    ("vtd", "VT-d", "translated",
     ["--set", "iommu=vtd", "--cmdline", "intel_iommu=on"],
     "-device intel-iommu,intremap=on; intel_iommu=on"),
    ("vtd-pt", "VT-d", "iommu=pt",
     ["--set", "iommu=vtd", "--cmdline", "intel_iommu=on iommu=pt"],
     "the same plus iommu=pt"),
    ("vtd-sm", "VT-d", "scalable mode",
     ["--set", "iommu=vtd-sm", "--cmdline", "intel_iommu=on,sm_on"],
     "-device intel-iommu,intremap=on,x-scalable-mode=on; intel_iommu=on,sm_on"),
    ("vtd-off", "VT-d", "intel_iommu=off",
     ["--set", "iommu=vtd", "--cmdline", "intel_iommu=off"],
     "the same device, intel_iommu=off"),
    ("amd", "AMD-Vi", "translated",
     ["--set", "iommu=amd-vi"],
     "-device amd-iommu"),
]

FIELDS = ["lines", "status", "requester", "direction", "reason", "address", "handles", "outcome"]


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


def explain(pcilab, path):
    r = run([pcilab, "explain", "--json", path])
    if r.returncode not in (0, 1):
        raise RuntimeError("pcilab explain %s: exit %d: %s" % (path, r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)


FAULT_LINE = re.compile(r"(IO_PAGE_FAULT|DMAR: \[(DMA|INTR)|DMAR:\[(DMA|INTR))")
HANDLE = re.compile(r"handle (0x[0-9a-f]+)")
STORE = re.compile(r"store: (\d+ bytes of the device's data in the store buffer.*)$")
STATUS = re.compile(r"DMAR: DRHD: handling fault status reg ([0-9a-f]+)")
PHYS = re.compile(r"edu 0000:00:03.0: (store|source) buffer: .* at phys (0x[0-9a-f]+)")
TIME = re.compile(r"^\[\s*\d+\.\d+\]\s*")


def facts(pcilab, path, translated):
    """What one log says, as the fields compared."""
    with open(path, errors="replace") as f:
        lines = [TIME.sub("", l.rstrip("\n")) for l in f]
    faults = [l for l in lines if FAULT_LINE.search(l)]
    out = {"lines": str(len(faults)), "first": faults[0] if faults else ""}
    st = [m.group(1) for l in lines for m in [STATUS.search(l)] if m]
    out["status"] = st[0] if st else ""
    ex = explain(pcilab, path)
    fnd = [x for x in ex.get("findings", []) if x.get("family") in ("amd-vi", "vt-d")]
    if fnd:
        x = fnd[0]
        flds = x.get("fields", {})
        out["requester"] = (x.get("requester") or {}).get("bdf") or ""
        out["direction"] = (flds.get("direction") or "").split(" ")[0]
        if x.get("family") == "vt-d":
            out["reason"] = (flds.get("reason") or "").split(" ")[0]
        else:
            out["reason"] = (flds.get("flags") or "").split(" ")[0]
        out["address"] = x.get("address") or ""
        # a buffer's physical address is the page allocator's choice, which
        # differs between the real boot and the model: named, not compared
        phys = {int(m.group(2), 16): m.group(1) for l in lines for m in [PHYS.search(l)] if m}
        if out["address"] and int(out["address"], 16) in phys:
            out["address"] = "the %s buffer's physical address" % phys[int(out["address"], 16)]
    else:
        for k in ("requester", "direction", "reason", "address"):
            out[k] = ""
    edu = [l for l in lines if l.startswith("edu 0000:00:03.0:")]
    hs = [m.group(1) for l in edu for m in [HANDLE.search(l)] if m]
    out["handles"] = " ".join(hs) if translated else "(physical)"
    st = [m.group(1) for l in edu for m in [STORE.search(l)] if m]
    out["outcome"] = st[0] if st else ""
    return out


def pcilab_log(pcilab, mistake, args, tmp):
    r = run([pcilab, "run", "edu-" + mistake, "--no-diagnose"] + args)
    if r.returncode != 0:
        raise RuntimeError("pcilab run edu-%s %s: exit %d: %s" %
                           (mistake, " ".join(args), r.returncode, r.stderr.strip()))
    path = os.path.join(tmp, "pcilab-%s-%d.log" % (mistake, abs(hash(" ".join(args)))))
    with open(path, "w") as f:
        for l in r.stdout.splitlines():
            if l.startswith("["):
                f.write(l + "\n")
    return path


def load_known(path):
    """tests/linux/parity-known.txt: CONFIG MISTAKE FIELD[,FIELD...] -- why
    (CONFIG and MISTAKE may be *)."""
    known = []
    with open(path) as f:
        for n, l in enumerate(f, 1):
            l = l.strip()
            if not l or l.startswith("#"):
                continue
            m = re.match(r"^(\S+)\s+(\S+)\s+(\S+)\s+--\s+(.+)$", l)
            fields = m.group(3).split(",") if m else []
            if not m or not fields or any(f not in FIELDS for f in fields):
                raise SystemExit("%s:%d: expected 'CONFIG MISTAKE FIELD[,FIELD...] -- why' with "
                                 "FIELD one of %s" % (path, n, ", ".join(FIELDS)))
            known.append((m.group(1), m.group(2), fields, m.group(4), n))
    return known


def why_known(known, cfg, mistake, field, used):
    for i, (c, mk, fl, why, n) in enumerate(known):
        if c in (cfg, "*") and mk in (mistake, "*") and field in fl:
            used.add(i)
            return why
    return None


def cell(s):
    return (s or "-").replace("|", "\\|")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pcilab", required=True)
    ap.add_argument("--real", default=os.path.join(HERE, "captured"))
    ap.add_argument("--known", default=os.path.join(HERE, "parity-known.txt"))
    ap.add_argument("--write")
    ap.add_argument("--check")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--configs", help="comma-separated subset of " +
                    ",".join(c[0] for c in CONFIGS))
    a = ap.parse_args()
    configs = CONFIGS
    if a.configs:
        want = a.configs.split(",")
        bad = [w for w in want if w not in [c[0] for c in CONFIGS]]
        if bad:
            ap.error("unknown configuration %s" % bad[0])
        configs = [c for c in CONFIGS if c[0] in want]
    known = load_known(a.known)
    used = set()
    rows, failures, explained = [], [], []
    with tempfile.TemporaryDirectory(prefix="pcilab-parity.") as tmp:
        for cfg, iommu, mode, args, qemu in configs:
            for mk in MISTAKES:
                real = os.path.join(a.real, "edu-%s-%s.log" % (cfg, mk))
                if not os.path.exists(real):
                    failures.append("%s %s: no real log %s" % (cfg, mk, real))
                    continue
                translated = mode == "translated"
                rf = facts(a.pcilab, real, translated)
                pf = facts(a.pcilab, pcilab_log(a.pcilab, mk, args, tmp), translated)
                diffs = []
                for fl in FIELDS:
                    if rf[fl] == pf[fl]:
                        continue
                    w = why_known(known, cfg, mk, fl, used)
                    if w:
                        explained.append((cfg, mk, fl, rf[fl], pf[fl], w))
                        diffs.append(fl + "*")
                    else:
                        failures.append("%s %s: %s differs: real %r, pcilab %r"
                                        % (cfg, mk, fl, rf[fl], pf[fl]))
                        diffs.append(fl + "!")
                rows.append((mk, iommu, mode, rf, pf, diffs))
    for i, (c, mk, fl, why, n) in enumerate(known):
        if i not in used:
            failures.append("%s:%d: '%s %s %s' explains no difference any more"
                            % (a.known, n, c, mk, ",".join(fl)))

    out = []
    out.append("# Parity with real Linux\n")
    out.append("Generated by `tests/linux/parity.py` (`make linux-parity` boots the real "
               "kernel first; `make test` compares with the committed captures in "
               "tests/linux/captured). Do not edit by hand.\n")
    out.append("Real: Debian's 6.1 kernel under QEMU 7.2 (TCG, q35, the edu device at "
               "00:03.0) with src/drivers/edu.c built as a real module, one boot per "
               "row (tests/linux/edu_bugs.sh). pcilab: `pcilab run edu-<mistake>` with "
               "the same IOMMU and command line, kernel 6.1, the same driver source. Only 6.1 "
               "is compared with a real kernel: it is the one Debian 12 ships; pcilab's 4.9, "
               "4.20 and 5.15 models were read from those trees' source.\n")
    out.append("Compared: the number of fault lines, the VT-d fault status register the "
               "first fault interrupt printed, and of the first fault line the requester, "
               "direction, VT-d fault reason or AMD-Vi flags and address (as `pcilab "
               "explain` reads them; a buffer's physical address is compared as that name, "
               "since page allocators differ); the DMA handles the driver printed (when an IOMMU "
               "translates); what the driver found in its store buffer. *match* means "
               "every field is the same; *known* names the fields that differ for a "
               "reason given below the table.\n")
    out.append("| scenario | IOMMU | mode | real (first fault line) | pcilab (first fault line) | match |")
    out.append("|---|---|---|---|---|---|")
    for mk, iommu, mode, rf, pf, diffs in rows:
        if not diffs:
            m = "match"
        elif all(d.endswith("*") for d in diffs):
            m = "known: " + ", ".join(d[:-1] for d in diffs)
        else:
            m = "**differs**: " + ", ".join(d.rstrip("*!") for d in diffs)
        r1 = rf["first"] or "(none; %s)" % rf["outcome"].split(" of ")[0]
        p1 = pf["first"] or "(none; %s)" % pf["outcome"].split(" of ")[0]
        out.append("| edu-%s | %s | %s | `%s` | `%s` | %s |" % (mk, iommu, mode, cell(r1), cell(p1), m))
    out.append("\n## Known differences\n")
    for c, mk, fl, why, n in known:
        out.append("- **%s %s, %s**: %s" % (c, mk, ", ".join(fl), why))
    if explained:
        out.append("\n## The differing values (real -> pcilab)\n")
        out.append("| configuration | scenario | values |")
        out.append("|---|---|---|")
        groups = {}
        for c, mk, fl, rv, pv, why in explained:
            groups.setdefault((c, mk), []).append("%s %s -> %s" % (fl, rv or "-", pv or "-"))
        for (c, mk), vals in groups.items():
            out.append("| %s | edu-%s | %s |" % (c, mk, cell("; ".join(vals))))
    text = "\n".join(out) + "\n"

    if a.write:
        with open(a.write, "w") as f:
            f.write(text)
    if a.check:
        with open(a.check) as f:
            if f.read() != text:
                failures.append("%s is not what the comparison gives: regenerate it with "
                                "tests/linux/parity.py --pcilab BIN --write %s" % (a.check, a.check))
    if not a.quiet or failures:
        print("parity: %d rows, %d explained differences, %d failures"
              % (len(rows), len(explained), len(failures)))
    for f in failures:
        print("parity: FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print("parity: " + str(e), file=sys.stderr)
        sys.exit(1)
