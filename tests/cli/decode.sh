#!/bin/sh
# pcilab decode: output and exit codes (0 decoded, 1 malformed or bad hex, 2 usage).
. "$SRC/tests/lib/cli.inc"

# The seed's write, header only: decoded, payload reported absent, host-bridge hint.
run decode 0 40000020 000001ff ffbf8000
has out "MWr32 len=32 RID=00:00.0 tag=0x01 BE=f/f addr=0xffbf8000"
has out "Length             00 0010 0000b    32 DW = 128 bytes (2.2.2)"
has out "Requester ID       0000h            00:00.0"
has out "payload absent (header only)"
has out "host bridge"

# The same as bytes, with 0x and commas, and from stdin.
run decode 0 0x40,0x00,0x00,0x20, 00 00 01 ff ff bf 80 00
has out "MWr32 len=32 RID=00:00.0 tag=0x01 BE=f/f addr=0xffbf8000"
printf '40000020 000001ff\nffbf8000\n' | "$PCILAB" decode - >"$tmp/out" 2>&1 || { echo "FAIL: stdin"; fails=$((fails + 1)); }
has out "MWr32 len=32"

# A complete CplD with ECRC, as JSON.
run decode 0 --json 4a008001 00000004 01000500 deadbeef e3eb111b
has out '"kind": "CplD"'
has out '"payload": "deadbeef"'
has out '"valid": true'

# Malformed: the rule and its section named, exit 1.
run decode 1 00000001 000000ff 00001000
has err "Last DW BE=1111b"
has err "2.2.5"
run decode 1 00000002 000000ff 00001ffc
has err "4 KiB"
run decode 1 04000002 000000ff 01000010
has err "configuration requests must have Length=1 (2.2.7)"
run decode 1 4a008001 00000004 01000500 deadbeef e3eb111c
has err "ECRC"
run decode 1 a0000000 00000000 00000000
has err "Fmt=101b is a reserved encoding"
run decode 1 --json 4a000001 00002004 01000500 00000000
has out '"rule": "completion"'
has out '"valid": false'

# 4 DW header below 4 GiB: decoded, warned, exit 0.
run decode 0 20000001 0100010f 00000000 ffbf8000
has out "MRd64"
has err "warning"
has err "2.2.4.1"

# MPS check on request.
run decode 1 --mps 128 40000040 010000ff 00001000 $(i=0; while [ $i -lt 64 ]; do printf '00000000 '; i=$((i+1)); done)
has err "Max_Payload_Size 128"

# Bad hex: the token and its position.
run decode 1 40000020 0001ff
has err "token 2 '0001ff'"
run decode 1 40 00 00 20 000001ff
has err "do not mix"

# Usage.
run decode 2
has err "no TLP given"
run decode 2 --frobnicate 40000020
has err "unknown option"
run decode 0 --help
has out "usage: pcilab decode"
"$PCILAB" help | grep -qF "decode a TLP given as hex dwords or bytes" || { echo "FAIL: help lists decode"; fails=$((fails + 1)); }

finish
