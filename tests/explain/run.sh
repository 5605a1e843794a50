#!/bin/sh
# The corpus of pcilab explain (tests/explain/README.md): for every
# cases/NAME.log with a NAME.expect, runs
#     pcilab explain --json [--lspci NAME.lspci] NAME.log
# (and the human form, for `mentions:`) and checks each sidecar key against
# the first finding. Keys: category (required), family, kind, requester,
# address, count, confidence, findings, mentions (repeatable), disagree
# ("CATEGORY -- why": the tool's first finding is CATEGORY where the thread
# says category:; checked instead, with a "disagree:" note), simulate
# (the first finding's `pcilab explain --simulate --json` status:
# reproduced, not-reproduced, refused) and simulate-mentions (a phrase its
# scenario's assumptions or refusal reason must contain; repeatable); source and
# resolution are documentation. An unknown key fails (a typo would otherwise
# pass silently).
#   PCILAB=build/pcilab SRC=. sh tests/explain/run.sh [NAME...]
set -u
: "${PCILAB:?PCILAB must point at the pcilab binary}"
: "${SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
dir="$SRC/tests/explain/cases"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ncases=0

if [ $# -gt 0 ]; then names="$*"; else
    names=$(for f in "$dir"/*.expect; do basename "$f" .expect; done)
fi

for name in $names; do
    log="$dir/$name.log"
    [ -f "$log" ] || { echo "FAIL: $name: no $name.log"; fails=$((fails + 1)); continue; }
    ncases=$((ncases + 1))
    set --
    [ -f "$dir/$name.lspci" ] && set -- --lspci "$dir/$name.lspci"
    "$PCILAB" explain --json "$@" "$log" >"$tmp/json" 2>"$tmp/err"
    st=$?
    "$PCILAB" explain "$@" "$log" >"$tmp/human" 2>>"$tmp/err"
    st2=$?
    if [ "$st" != 0 ] || [ "$st2" != 0 ]; then
        echo "FAIL: $name: exit $st/$st2"; cat "$tmp/err"; fails=$((fails + 1)); continue
    fi
    : >"$tmp/sim"
    if grep -q '^simulate' "$dir/$name.expect"; then
        "$PCILAB" explain --json --simulate "$@" "$log" >"$tmp/sim" 2>>"$tmp/err" || {
            echo "FAIL: $name: explain --simulate exit $?"; cat "$tmp/err"; fails=$((fails + 1))
            continue
        }
    fi
    if ! python3 - "$dir/$name.expect" "$tmp/json" "$tmp/human" "$name" "$tmp/sim" <<'EOF'
import json, sys
expect, jpath, hpath, name, spath = sys.argv[1:6]
doc = json.load(open(jpath))
human = " ".join(open(hpath).read().split())
bad = []
if doc.get("schema") != "pcilab-explain/1":
    bad.append("schema is %r" % doc.get("schema"))
finds = doc.get("findings", [])
first = finds[0] if finds else None
keys = set()
rows = []
for n, raw in enumerate(open(expect), 1):
    line = raw.strip()
    if not line or line.startswith("#"):
        continue
    if ":" not in line:
        bad.append("line %d: not 'key: value': %s" % (n, line))
        continue
    rows.append((n, *(s.strip() for s in line.split(":", 1))))
# disagree: CATEGORY -- why: the tool's first finding is CATEGORY where the
# thread's answer (category:) differs; checked instead of category, noted.
disagree = None
for n, key, val in rows:
    if key != "disagree":
        continue
    cat, sep, why = (s.strip() for s in val.partition("--"))
    if disagree is not None or not sep or not cat or not why:
        bad.append("line %d: want one 'disagree: CATEGORY -- why'" % n)
        continue
    disagree = (cat, why)
for n, key, val in rows:
    keys.add(key)
    if key in ("source", "resolution", "disagree"):
        continue
    if key in ("simulate", "simulate-mentions"):
        sdoc = json.load(open(spath))
        sf = sdoc.get("findings", [])
        sim = sf[0].get("simulation") if sf else None
        if not sim:
            bad.append("%s: no simulation of the first finding" % key)
        elif key == "simulate":
            if sim.get("status") != val:
                bad.append("simulate: %s (%s), want %s" % (sim.get("status"),
                           sim.get("reason", ""), val))
        else:
            text = " ".join(((sim.get("scenario") or {}).get("assumptions") or [])
                            + [sim.get("reason", "")])
            if " ".join(val.split()) not in " ".join(text.split()):
                bad.append("the simulation does not say %r" % val)
        continue
    if key == "category" and disagree is not None:
        if disagree[0] == val:
            bad.append("disagree: %s is the sidecar's category too" % val)
        got = first.get("category") if first else "no finding at all"
        if got != disagree[0]:
            bad.append("category: %s, want %s (disagree; the thread says %s)"
                       % (got, disagree[0], val))
        else:
            print("disagree: %s: the tool says %s, the thread %s -- %s"
                  % (name, disagree[0], val, disagree[1]))
        continue
    if key == "findings":
        if len(finds) != int(val):
            bad.append("findings: %d, want %s" % (len(finds), val))
        continue
    if key == "mentions":
        if " ".join(val.split()) not in human:
            bad.append("the human output does not mention %r" % val)
        continue
    if key not in ("category", "family", "kind", "requester", "address", "count",
                   "confidence"):
        bad.append("line %d: unknown key %r" % (n, key))
        continue
    if first is None:
        bad.append("%s: no finding at all, want %s" % (key, val))
        continue
    if key == "requester":
        r = first.get("requester")
        got = "%04x:%s" % (r["segment"], r["bdf"]) if r else None
        ok = got is not None and got.lower() == val.lower()
    elif key == "address":
        got = first.get("address")
        ok = got is not None and int(got, 16) == int(val, 16)
    elif key == "count":
        got = first.get("count")
        ok = got == int(val)
    else:
        got = first.get(key)
        ok = got == val
    if not ok:
        bad.append("%s: %s, want %s" % (key, got, val))
if "category" not in keys:
    bad.append("the sidecar has no category")
for b in bad:
    print("FAIL: %s: %s" % (name, b))
sys.exit(1 if bad else 0)
EOF
    then
        fails=$((fails + 1))
    fi
done

echo "explain corpus: $ncases cases, $fails failing"
[ "$ncases" -gt 0 ] || { echo "FAIL: no cases in $dir"; exit 1; }
[ "$fails" = 0 ] || exit 1
exit 0
