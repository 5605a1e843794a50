#!/bin/sh
# The parity table (docs/parity.md) against the committed real-kernel
# captures (tests/linux/captured): every edu scenario under each IOMMU
# configuration is run in pcilab and compared with the real 6.1 kernel's log,
# field by field (tests/linux/parity.py). A difference that
# tests/linux/parity-known.txt does not explain fails, and so does a
# docs/parity.md that is not what the comparison gives. No QEMU needed: the
# real boots are `make linux-parity`'s.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${PCILAB:=${BUILD:+$BUILD/pcilab}}"
[ -n "${PCILAB:-}" ] && [ -x "$PCILAB" ] || { echo "parity_cached: PCILAB must point at the pcilab binary"; exit 2; }
if python3 "$here/parity.py" --pcilab "$PCILAB" --check "$top/docs/parity.md"; then
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
    exit 1
fi
