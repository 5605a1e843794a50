#!/bin/sh
# docs/scenarios.md carries the key tables 'pcilab scenarios --keys' prints
# (from the device models' parameter descriptors and the drivers' module
# parameters) between its markers, so docs and code cannot drift. After a
# change: scripts/update-golden.sh rewrites that part too.
. "$SRC/tests/lib/cli.inc"
run scenarios 0 --keys
sed -n '/^<!-- keys: begin/,/^<!-- keys: end/p' "$SRC/docs/scenarios.md" | sed '1d;$d' >"$tmp/doc"
[ -s "$tmp/doc" ] || { echo "FAIL: docs/scenarios.md has no keys markers"; fails=$((fails + 1)); }
cmp -s "$tmp/doc" "$tmp/out" ||
    { echo "FAIL: docs/scenarios.md's key tables differ from pcilab scenarios --keys:"
      diff "$tmp/doc" "$tmp/out" | head -20; fails=$((fails + 1)); }
finish
