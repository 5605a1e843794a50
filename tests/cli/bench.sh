#!/bin/sh
# pcilab bench runs the benchmark program beside it (the figures themselves
# are `make bench`'s business: timing has no place in tests).
. "$SRC/tests/lib/cli.inc"
run bench 0 --help
has out "usage: pcilab bench [--json] [NAME]"
run bench 2 nosuch
has err "no benchmark 'nosuch'; there are: evq"
run bench 2 --frobnicate
has err "unknown option '--frobnicate'"
finish
