#!/bin/sh
# Golden output: every case of tests/cli/golden/cases is run and its stdout
# compared byte for byte with tests/cli/golden/NAME.out (exit status 0, no
# stderr). After an intended change: scripts/update-golden.sh (make golden).
. "$SRC/tests/lib/cli.inc"

dir="$SRC/tests/cli/golden"
ncase=0
while read -r name args; do
    case "$name" in ''|'#'*) continue ;; esac
    ncase=$((ncase + 1))
    # shellcheck disable=SC2086  # the arguments are words
    run run 0 $args
    [ -s "$tmp/err" ] && { echo "FAIL: $name: stderr:"; cat "$tmp/err"; fails=$((fails + 1)); }
    if [ ! -f "$dir/$name.out" ]; then
        echo "FAIL: $name: no $dir/$name.out (scripts/update-golden.sh makes it)"
        fails=$((fails + 1))
    elif ! cmp -s "$dir/$name.out" "$tmp/out"; then
        echo "FAIL: $name (pcilab run $args) differs from golden/$name.out:"
        diff -u "$dir/$name.out" "$tmp/out" | head -40
        fails=$((fails + 1))
    fi
done <"$dir/cases"
[ "$ncase" -ge 9 ] || { echo "FAIL: only $ncase cases"; fails=$((fails + 1)); }
# a built-in is an ordinary scenario file: run as a file, the seed prints its
# golden output but for the line naming the source
run run 0 "$SRC/src/scenario/builtin/seed.yaml"
grep -v '^scenario ' "$tmp/out" >"$tmp/asfile"
grep -v '^scenario ' "$dir/seed.out" | cmp -s - "$tmp/asfile" ||
    { echo "FAIL: seed.yaml run as a file differs from golden/seed.out"; fails=$((fails + 1)); }
# no stale golden files
for f in "$dir"/*.out; do
    n=$(basename "$f" .out)
    grep -q "^$n\( \|$\)" "$dir/cases" || { echo "FAIL: $f has no case"; fails=$((fails + 1)); }
done
finish
