#!/bin/sh
# Enforces docs/design.md: a layer includes only itself and lower layers.
# Order, lowest first: sim mem pcie iommu host {devices,drivers} {scenario,diag} cli
set -eu
src=${1:-src}
rank() {
    case $1 in
        sim) echo 0 ;; mem) echo 1 ;; pcie) echo 2 ;; iommu) echo 3 ;; host) echo 4 ;;
        devices|drivers) echo 5 ;; scenario) echo 6 ;; diag) echo 7 ;; cli) echo 8 ;; *) echo 99 ;;
    esac
}
bad=0
for f in $(find "$src" -name '*.[ch]' | sort); do
    layer=$(echo "${f#"$src"/}" | cut -d/ -f1)
    lr=$(rank "$layer")
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*/\1/p' "$f"); do
        ir=$(rank "$inc")
        [ "$ir" = 99 ] && continue
        if [ "$ir" -gt "$lr" ] || { [ "$ir" = "$lr" ] && [ "$inc" != "$layer" ]; }; then
            echo "$f: layer '$layer' includes higher or sibling layer '$inc'" >&2
            bad=1
        fi
    done
done
exit $bad
