#!/bin/sh
# Installs what tests/linux/iova_parity.sh needs, from Debian's packages:
# QEMU (x86_64 system emulator), Debian's 6.1 kernel image and its headers (to
# build the probe module), busybox-static and cpio (the initramfs), kmod
# (modinfo). Idempotent: prints nothing and asks no mirror when all is present.
# Run as root. Not part of scripts/deps.sh: the unit tests do not need any of it.
set -eu

PKGS="qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio kmod make gcc"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

# Every tests/**/*.sh is also a ctest test (BUILD set): there it only reports.
if [ -n "${BUILD:-}" ]; then
    echo "setup.sh: SKIP: not installed:$missing (run tests/linux/setup.sh as root to install)"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: missing packages:$missing (run as root)" >&2
    exit 1
fi
echo "setup.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
