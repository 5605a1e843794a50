#!/bin/sh
# make modules: every src/drivers/*.c builds, unchanged and warning-free, as
# a real Linux module against Debian's kernel headers (scripts/deps.sh
# installs linux-headers-amd64). Skips, saying why, when no headers are
# installed. The modules' modinfo carries the PCI aliases and parameters.
set -eu
kdir=${KDIR:-}
if [ -z "$kdir" ]; then
    d=/lib/modules/$(uname -r)/build
    if [ -f "$d/Makefile" ]; then kdir=$d; else
        kdir=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n1 || true)
    fi
fi
if [ -z "$kdir" ] || [ ! -f "$kdir/Makefile" ]; then
    echo "SKIPPED: no kernel headers (install linux-headers-amd64: scripts/deps.sh does)"
    exit 0
fi
out="$BUILD/modules-test"
sh "$SRC/scripts/build-modules.sh" "$kdir" "$out"
for c in "$SRC"/src/drivers/*.c; do
    ko="$out/$(basename "$c" .c).ko"
    [ -s "$ko" ] || { echo "FAIL: $ko missing" >&2; exit 1; }
done
modinfo=$(command -v modinfo || echo /sbin/modinfo)
if [ -x "$modinfo" ]; then
    check() { # module field expected
        got=$("$modinfo" -F "$2" "$out/$1.ko" | tr '\n' '|')
        case "$got" in
            *"$3"*) ;;
            *) echo "FAIL: $1.ko $2 is '$got', expected '$3'" >&2; exit 1 ;;
        esac
    }
    check ecp5_dma alias 'pci:v00001204d00005045sv*sd*bc*sc*i*'
    check ecp3_can alias 'pci:v00001204d0000E3CAsv*sd*bc*sc*i*'
    check ecp5_dma parm 'dma_bits:DMA mask width: 32 (default) or 64 (int)'
    check ecp5_dma name 'ecp5_dma'
    check ecp5_dma license 'Dual MIT/GPL'
    ver=$(basename "$(readlink -f "$kdir")" | sed 's/^linux-headers-//')
    check ecp5_dma vermagic "$ver "
else
    echo "note: modinfo (kmod) is missing: the modules' modinfo is not checked"
fi
echo "ok: $(ls "$out"/*.ko | wc -l) modules built against $kdir"
