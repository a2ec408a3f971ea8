#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Bad options and layouts are refused with a clear message and exit code 2,
# before any file is created; -h documents every option.
. "$(dirname "$0")/lib.sh"

mkdir "$T_DIR/out"
"$MKPCAP" -o "$T_DIR/in.pcap" -n 10 -s 64
vdev="--vdev=net_pcap0,rx_pcap=$T_DIR/in.pcap"

expect_error() {
	local want=$1 workers=$2
	shift 2
	local rc=0
	run_sluice "$workers" 30 "$@" || rc=$?
	[ "$rc" -eq 2 ] || { cat "$T_DIR/sluice.log"; fail "expected exit 2 for: $*"; }
	grep -q -- "$want" "$T_DIR/sluice.log" || { cat "$T_DIR/sluice.log"; fail "no '$want' for: $*"; }
}

expect_error "snaplen" 2 "$vdev" -- --dir="$T_DIR/out" --snaplen=0
expect_error "unknown option '--bogus'" 2 "$vdev" -- --dir="$T_DIR/out" --bogus
expect_error "format" 2 "$vdev" -- --dir="$T_DIR/out" --format=pcapx
expect_error "rotate-size" 2 "$vdev" -- --dir="$T_DIR/out" --rotate-size=12Q
expect_error "not a directory" 2 "$vdev" -- --dir="$T_DIR/in.pcap"
expect_error "No such file" 2 "$vdev" -- --dir="$T_DIR/nope"
expect_error "at least 2 worker lcores" 1 "$vdev" -- --dir="$T_DIR/out"
expect_error "no Ethernet port" 2 -- --dir="$T_DIR/out"
expect_error "lcore 7 is not an enabled worker" 2 "$vdev" -- --dir="$T_DIR/out" --rx-lcores=7
expect_error "both" 2 "$vdev" -- --dir="$T_DIR/out" --rx-lcores=1 --writer-lcores=1
[ -z "$(ls -A "$T_DIR/out")" ] || fail "a refused run created files"

"$SLUICE" -h >"$T_DIR/help.txt"
for opt in mode dir format snaplen rotate-size rotate-seconds burst ring-size max-packets \
	duration stats-period stats-json idle-sleep no-direct rx-lcores writer-lcores; do
	grep -q -- "--$opt" "$T_DIR/help.txt" || fail "-h does not document --$opt"
done
note "ok"
