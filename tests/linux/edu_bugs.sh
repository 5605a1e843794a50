#!/bin/sh
# Boots Debian's real kernel under QEMU (TCG, q35) with a virtual IOMMU and
# QEMU's edu device at 00:03.0, loads src/drivers/edu.c (built as a real
# module) with one deliberate DMA mistake per boot, and keeps the kernel log
# of each boot: the real logs of pcilab explain's corpus
# (tests/explain/cases/real-*) and of issue 7's parity table
# (docs/linux/real-dma-bugs.md).
#
#   sh tests/linux/edu_bugs.sh [OUTDIR]
#
# CONFIGS (default "vtd amd vtd-pt vtd-off vtd-sm") x MISTAKES (default: all seven
# of edu.c's mistake= values); one boot each, about 8 s under TCG. Each
# boot's dmesg (the whole ring buffer, dumped by the initramfs after the
# module ran) goes to OUTDIR/edu-<config>-<mistake>.log, the raw serial
# console to OUTDIR/raw/, each boot's wall time to OUTDIR/boot-times.txt
# (read by make bench's edu figures). OUTDIR defaults to a new directory under /tmp; with
# OUTDIR=tests/linux/captured the run refreshes the committed captures.
# Otherwise the driver's and the IOMMU's lines (times left out) are compared
# with tests/linux/captured/: a difference fails the run.
#
# Configurations (QEMU device; kernel command line besides console=ttyS0
# panic=-1 edu.mistake=M, which the initramfs reads and passes to insmod):
#   vtd       -device intel-iommu,intremap=on; intel_iommu=on
#   vtd-strict  the same with iommu.strict=1
#   vtd-pt    the same as vtd plus iommu=pt
#   vtd-off   the same device, intel_iommu=off
#   vtd-sm    -device intel-iommu,intremap=on,x-scalable-mode=on;
#             intel_iommu=on,sm_on (scalable mode)
#   amd       -device amd-iommu (QEMU's AMD-Vi); nothing to add, it is on by default
#   amd-pt    the same with iommu=pt
#   none      no IOMMU device at all
#
# Needs what tests/linux/setup.sh installs; without it, it says so and exits
# 0 (skip). Every tests/**/*.sh is also a ctest test: under ctest (BUILD
# set) it runs only when PCILAB_LINUX_PARITY=1, as iova_parity.sh does.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

NAME=edu_bugs
WHAT="boots a real kernel under QEMU 35 times (about 8 minutes)"
. "$here/qemu.inc"

OUT=${1:-$(mktemp -d /tmp/pcilab-edu-bugs.XXXXXX)}
mkdir -p "$OUT/raw"
rm -f "$OUT/boot-times.new"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/pcilab-edu-work.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# the module: the same build as make modules (scripts/build-modules.sh), of
# every driver, against the headers of the kernel that boots
if ! sh "$top/scripts/build-modules.sh" "/lib/modules/$KVER/build" "$WORK/mod" >"$WORK/build.out" 2>&1; then
    cp "$WORK/build.out" "$OUT/module-build.log"
    echo "edu_bugs: FAIL: module build (see $OUT/module-build.log)"
    echo "0 passed, 1 failed"
    exit 1
fi

# the initramfs: static busybox, edu.ko, an init that loads it with the
# command line's edu.mistake=, unloads it, and prints the whole kernel log
# between markers (the console is quietened first, so the dump is not
# interleaved with console output)
R="$WORK/root"
mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev"
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh mount insmod rmmod cat echo sleep dmesg poweroff; do ln -s busybox "$R/bin/$a"; done
cp "$WORK/mod/edu.ko" "$R/edu.ko"
cat >"$R/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
dmesg -n 1
m=ok
for w in $(cat /proc/cmdline); do
    case $w in edu.mistake=*) m=${w#edu.mistake=} ;; esac
done
insmod /edu.ko mistake=$m
echo "edu_bugs: insmod rc=$?"
sleep 1
rmmod edu
echo "edu_bugs: rmmod rc=$?"
echo "edu_bugs: ==== dmesg begin"
dmesg
echo "edu_bugs: ==== dmesg end"
poweroff -f
EOF
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$WORK/initrd.gz"

QEMU_VER=$(qemu-system-x86_64 --version | head -1)
echo "edu_bugs: $QEMU_VER; kernel $KVER ($(cat "/lib/modules/$KVER/build/include/config/kernel.release" 2>/dev/null || echo ?)); $(date -u +%Y-%m-%d)"
echo "$QEMU_VER" >"$OUT/raw/qemu-version"

CONFIGS=${CONFIGS:-"vtd amd vtd-pt vtd-off vtd-sm"}
MISTAKES=${MISTAKES:-"ok unmapped-iova phys-addr write-to-device-map read-from-device-map use-after-unmap straddle-end"}
# the lines compared with the committed captures: the driver's, the IOMMU's
# faults and the DMA layer's complaints, without their times, every address
# inside a buffer's allocation written as the buffer's name plus its offset
# (the physical pages differ from boot to boot by a page or two)
lines() {
    python3 "$here/log_lines.py" "$1"
}
status=0
runs=0
for c in $CONFIGS; do
    case $c in
    vtd-sm) iommu="-device intel-iommu,intremap=on,x-scalable-mode=on" ;;
    vtd*) iommu="-device intel-iommu,intremap=on" ;;
    amd*) iommu="-device amd-iommu" ;;
    none) iommu="" ;;
    *) echo "edu_bugs: unknown config $c"; exit 2 ;;
    esac
    case $c in
    vtd) extra="intel_iommu=on" ;;
    vtd-strict) extra="intel_iommu=on iommu.strict=1" ;;
    vtd-pt) extra="intel_iommu=on iommu=pt" ;;
    vtd-off) extra="intel_iommu=off" ;;
    vtd-sm) extra="intel_iommu=on,sm_on" ;;
    amd-pt) extra="iommu=pt" ;;
    *) extra="" ;;
    esac
    for m in $MISTAKES; do
        name="edu-$c-$m"
        runs=$((runs + 1))
        t0=$(date +%s.%N)
        # Under TCG on a busy host the kernel's check that the timer
        # interrupt works through the remapped IO-APIC sometimes fails
        # ("Kernel panic - not syncing: timer doesn't work through
        # Interrupt-remapped IO-APIC", check_timer in 6.1): that boot is
        # tried again, up to TRIES times, rather than changing the command
        # line (no_timer_check would hide it).
        try=1
        while :; do
            # shellcheck disable=SC2086
            timeout "${QEMU_TIMEOUT:-300}" qemu-system-x86_64 -accel tcg -machine q35 -smp 1 -m 256 \
                -nodefaults -display none -no-reboot -monitor none -serial stdio \
                $iommu -device edu,addr=0x3 \
                -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
                -append "console=ttyS0 panic=-1 $extra edu.mistake=$m" \
                </dev/null >"$OUT/raw/$name.console" 2>&1
            rc=$?
            grep -a -q "timer doesn't work through Interrupt-remapped IO-APIC" "$OUT/raw/$name.console" || break
            [ $try -lt "${TRIES:-5}" ] || break
            echo "   (boot $try: the timer check failed under TCG; booting again)"
            try=$((try + 1))
        done
        t1=$(date +%s.%N)
        wall=$(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}')
        sed 's/\r$//' "$OUT/raw/$name.console" |
            sed -n '/^edu_bugs: ==== dmesg begin/,/^edu_bugs: ==== dmesg end/p' |
            sed '1d;$d' >"$OUT/$name.log"
        echo "== $name: qemu rc $rc, $wall s wall"
        # the boot's wall time, for make bench's edu figures (bench/bench_edu.c)
        echo "$name $wall $try" >>"$OUT/boot-times.new"
        if ! grep -a -q 'mistake=.*: round ' "$OUT/$name.log"; then
            echo "   FAIL: the driver did not finish its round (console: $OUT/raw/$name.console)"
            status=1
            continue
        fi
        lines "$OUT/$name.log" | sed 's/^/   /'
        ref="$here/captured/$name.log"
        if [ -r "$ref" ] && [ "$OUT" != "$here/captured" ]; then
            lines "$OUT/$name.log" >"$WORK/new"
            lines "$ref" >"$WORK/old"
            if cmp -s "$WORK/old" "$WORK/new"; then
                echo "   same lines as tests/linux/captured/$name.log"
            else
                echo "   FAIL: lines differ from tests/linux/captured/$name.log:"
                diff "$WORK/old" "$WORK/new" | sed 's/^/   /'
                status=1
            fi
        fi
    done
done
# boot-times.txt: one line per boot, "edu-<config>-<mistake> SECONDS TRIES"
# (wall time of the QEMU process, from start to power-off, all tries)
if [ -f "$OUT/boot-times.new" ]; then
    { echo "# $QEMU_VER, kernel $KVER, TCG, $(nproc) CPUs, $(date -u +%Y-%m-%d): edu_bugs.sh"
      cat "$OUT/boot-times.new"; } >"$OUT/boot-times.txt"
    rm -f "$OUT/boot-times.new"
fi
echo "edu_bugs: logs in $OUT"
if [ $status = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $status
