#!/bin/sh
# Boots Debian's real 6.1 kernel under QEMU (TCG, q35) with a virtual IOMMU and
# QEMU's edu device, loads tests/linux/iova_probe and records the DMA handles
# it prints, for tests/host/test_iova_parity.c (docs/linux/iova-parity.md).
#
#   sh tests/linux/iova_parity.sh [OUTDIR]
#
# One boot per configuration (CONFIGS, default "amd amd-strict intel
# intel-strict": AMD-Vi and VT-d, each with the default unmap policy and with
# iommu.strict=1); each console log goes to OUTDIR/<config>.log (default: a
# new directory under /tmp); the probe's lines and the wall time of each boot
# are printed, and the handles are compared with tests/linux/captured/ (the
# run fails when they differ). Needs what tests/linux/setup.sh installs;
# without it, it says so and exits 0 (skip).
#
# Every tests/**/*.sh is also a ctest test; the four boots take 35-60 s on
# two cores, so under ctest (BUILD set) it only runs when
# PCILAB_LINUX_PARITY=1.
set -u

here=$(cd "$(dirname "$0")" && pwd)

NAME=iova_parity
WHAT="boots a real kernel under QEMU 4 times (about 40 s here, longer on a busy machine)"
. "$here/qemu.inc"

OUT=${1:-$(mktemp -d /tmp/pcilab-iova-parity.XXXXXX)}
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/pcilab-iova-work.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# the module, built out of tree against the installed headers
mkdir "$WORK/mod"
cp "$here/iova_probe/iova_probe.c" "$here/iova_probe/Kbuild" "$WORK/mod/"
if ! make -C "/lib/modules/$KVER/build" M="$WORK/mod" modules >"$WORK/build.log" 2>&1; then
    cp "$WORK/build.log" "$OUT/module-build.log"
    echo "iova_parity: FAIL: module build (see $OUT/module-build.log)"
    exit 1
fi

# the initramfs: static busybox, the module, an init that loads it, shows
# the edu device's IOMMU group and powers off
R="$WORK/root"
mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev"
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh mount insmod cat ls poweroff echo sleep od; do ln -s busybox "$R/bin/$a"; done
cp "$WORK/mod/iova_probe.ko" "$R/iova_probe.ko"
cat >"$R/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
insmod /iova_probe.ko
echo "iova_probe: insmod rc=$?"
for g in /sys/kernel/iommu_groups/*; do
    for d in "$g"/devices/*; do
        if [ "$(cat "$d/vendor" "$d/device" 2>/dev/null)" = "0x1234
0x11e8" ]; then
            echo "iova_probe: group ${g##*/} type $(cat "$g/type" 2>/dev/null)"
            while read -r lo hi kind; do
                echo "iova_probe: reserved $lo $hi $kind"
            done <"$g/reserved_regions"
        fi
    done
done
# the firmware's IOMMU table as QEMU built it (docs/linux/iova-parity.md)
for t in IVRS DMAR; do
    [ -r /sys/firmware/acpi/tables/$t ] && od -A x -t x1 /sys/firmware/acpi/tables/$t |
        while read -r line; do echo "iova_probe: acpi $t $line"; done
done
poweroff -f
EOF
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$WORK/initrd.gz"

QEMU_VER=$(qemu-system-x86_64 --version | head -1)
echo "iova_parity: $QEMU_VER; kernel $KVER ($(cat "/lib/modules/$KVER/build/include/config/kernel.release" 2>/dev/null || echo ?)); $(date -u +%Y-%m-%d)"

# name | QEMU IOMMU device | extra kernel command line
CONFIGS=${CONFIGS:-"amd amd-strict intel intel-strict"}
status=0
for c in $CONFIGS; do
    case $c in
    amd*) iommu="-device amd-iommu" ;;
    intel*) iommu="-device intel-iommu" ;;
    *) echo "iova_parity: unknown config $c"; exit 2 ;;
    esac
    case $c in
    *-strict) extra="iommu.strict=1" ;;
    *) extra="" ;;
    esac
    case $c in intel*) extra="$extra intel_iommu=on" ;; esac
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    timeout "${QEMU_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg -machine q35 -smp 1 -m 512 \
        -nographic -no-reboot -monitor none -serial stdio \
        $iommu -device edu,addr=0x10,dma_mask=0xffffffffffffffff \
        -device edu,addr=0x11,dma_mask=0xffffffffffffffff \
        -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
        -append "console=ttyS0 panic=-1 loglevel=7 $extra" \
        </dev/null >"$OUT/$c.log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    secs=$(echo "$t1 - $t0" | bc 2>/dev/null || awk "BEGIN{print $t1 - $t0}")
    echo "== $c: qemu rc $rc, ${secs} s wall"
    grep -a -E 'iova_probe|AMD-Vi|DMAR: |iommu' "$OUT/$c.log" | sed 's/\r$//' | grep -a -v -E 'ACPI: |iova_probe: (burst [ab] [0-9]|acpi )' |
        sed 's/^/   /'
    if ! grep -a -q 'iova_probe: done' "$OUT/$c.log" || ! grep -a -q 'iova_probe: fresh done' "$OUT/$c.log"; then
        echo "   FAIL: the probe did not finish"
        status=1
        continue
    fi
    # the handles against the committed capture that test_iova_parity.c
    # quotes (timestamps left out)
    ref="$here/captured/$c.log"
    if [ -r "$ref" ] && [ "$(cd "$OUT" && pwd)" != "$here/captured" ]; then
        steps() { grep -a -o -E 'iova_probe: (step|burst|low|fresh) .*' "$1" | sed 's/\r$//'; }
        if [ "$(steps "$OUT/$c.log")" = "$(steps "$ref")" ]; then
            echo "   handles: same as tests/linux/captured/$c.log"
        else
            echo "   FAIL: handles differ from tests/linux/captured/$c.log:"
            steps "$OUT/$c.log" >"$WORK/new"
            steps "$ref" >"$WORK/old"
            diff "$WORK/old" "$WORK/new" | sed 's/^/   /'
            status=1
        fi
    fi
done
echo "iova_parity: logs in $OUT"
[ $status = 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $status
