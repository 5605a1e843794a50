#!/bin/sh
# Regenerates tests/cli/golden/*.out from tests/cli/golden/cases with the
# built pcilab (default build/pcilab; or give its path), and the key tables
# of docs/scenarios.md. Run it after an intended change of pcilab run's
# output, then review `git diff tests/cli/golden docs/scenarios.md`.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
pcilab=${1:-$root/build/pcilab}
[ -x "$pcilab" ] || { echo "update-golden: no $pcilab (build first: make build)" >&2; exit 1; }
dir=$root/tests/cli/golden
rm -f "$dir"/*.out
n=0
while read -r name args; do
    case "$name" in ''|'#'*) continue ;; esac
    # shellcheck disable=SC2086
    if ! "$pcilab" run $args >"$dir/$name.out"; then
        echo "update-golden: pcilab run $args failed" >&2
        exit 1
    fi
    n=$((n + 1))
done <"$dir/cases"
echo "update-golden: $n golden files in tests/cli/golden"

# docs/scenarios.md: the key tables between its markers (tests/cli/keys.sh)
doc=$root/docs/scenarios.md
"$pcilab" scenarios --keys >"$doc.keys"
awk -v keys="$doc.keys" '
    /^<!-- keys: end/ { skip = 0 }
    !skip { print }
    /^<!-- keys: begin/ { while ((getline l < keys) > 0) print l; skip = 1 }
' "$doc" >"$doc.new"
rm -f "$doc.keys"
mv "$doc.new" "$doc"
echo "update-golden: key tables of docs/scenarios.md"
