#!/bin/sh
# Builds every src/drivers/*.c as a Linux kernel module against the kernel
# build tree KDIR, in OUT (the sources are copied there, so the source tree
# stays clean). Fails on any compiler or modpost warning: the drivers must
# build warning-free as real modules too.
# Usage: scripts/build-modules.sh KDIR OUT
set -eu
kdir=${1:-}
out=${2:-build/modules}
src=$(cd "$(dirname "$0")/../src/drivers" && pwd)
if [ -z "$kdir" ] || [ ! -f "$kdir/Makefile" ]; then
    echo "build-modules: no kernel build tree (KDIR='$kdir'); install linux-headers-amd64" >&2
    exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/*.c "$out"/*.h
cp "$src"/*.c "$src"/Kbuild "$out"/
log="$out/build.log"
if ! make -C "$kdir" M="$out" modules >"$log" 2>&1; then
    cat "$log" >&2
    echo "build-modules: the kernel build failed (log: $log)" >&2
    exit 1
fi
if grep -i "warning" "$log" >&2; then
    echo "build-modules: warnings in the kernel build (log: $log)" >&2
    exit 1
fi
for c in "$src"/*.c; do
    ko="$out/$(basename "$c" .c).ko"
    [ -f "$ko" ] || { echo "build-modules: $ko was not built" >&2; exit 1; }
done
echo "build-modules: built $(cd "$out" && ls *.ko | tr '\n' ' ')against $kdir"
