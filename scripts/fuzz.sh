#!/bin/sh
# Runs every fuzz target for SECONDS over its corpus in fuzz/corpus/<target>.
# With --grow, new interesting inputs are added to the committed corpus;
# otherwise they go to a scratch directory so a short run changes nothing.
set -eu
build=$1; seconds=$2; grow=${3:-}
top=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bin in "$build"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin"); target=${name#fuzz_}
    corpus="$top/fuzz/corpus/$target"
    mkdir -p "$corpus"
    if [ "$grow" = "--grow" ]; then dirs="$corpus"; else
        scratch=$(mktemp -d); dirs="$scratch $corpus"; fi
    printf 'fuzz %-10s %ss ... ' "$target" "$seconds"
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=0 -artifact_prefix="$build/crash-$target-" $dirs \
            >"$build/fuzz-$target.log" 2>&1; then
        echo ok
    else
        echo "FAILED (see $build/fuzz-$target.log)"; tail -30 "$build/fuzz-$target.log"; status=1
    fi
    [ "$grow" = "--grow" ] || rm -rf "$scratch"
done
exit $status
