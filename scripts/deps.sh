#!/bin/sh
# Installs the Debian packages pcilab needs to build, test, fuzz and run.
# Idempotent: prints nothing and changes nothing when everything is present.
# linux-headers-amd64 (Debian's current kernel headers, with linux-kbuild and
# the kernel's compiler as dependencies) is for `make modules`, which builds
# src/drivers as real kernel modules. python3 checks JSON output in tests/cli.
set -eu

PKGS="build-essential cmake pkg-config \
libfyaml-dev libjansson-dev libcmocka-dev \
pciutils pci.ids python3 \
clang libclang-rt-14-dev \
linux-headers-amd64"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "deps.sh: missing packages:$missing" >&2
        echo "deps.sh: run as root (or install sudo) so they can be installed" >&2
        exit 1
    fi
else
    SUDO=""
fi

echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists; refresh them only when needed.
if ! $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
