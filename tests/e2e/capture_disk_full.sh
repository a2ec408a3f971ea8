#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A disk far too small: the writer must count every packet it cannot write,
# leave only valid files whose packets match the written counter, and stop
# without crashing or hanging. Runs in a private mount namespace.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small filesystem"
command -v unshare >/dev/null || skip "needs unshare (util-linux)"

n=30000
"$MKPCAP" -o "$T_DIR/in.pcap" -n "$n" -s 200-1514 --seed 3
mkdir "$T_DIR/small"

for mode in direct no-direct; do
	extra=()
	[ "$mode" = no-direct ] && extra=(--no-direct)
	note "tmpfs of 3 MiB, $n frames (~25 MB), $mode"
	rc=0
	rm -rf "$T_DIR/kept" && mkdir "$T_DIR/kept"
	# The files live only in the namespace: copy them out before it ends.
	# shellcheck disable=SC2016,SC2046
	unshare -m bash -c '
		small=$1 kept=$2
		shift 2
		mount -t tmpfs -o size=3m sluice-e2e "$small" || exit 90
		"$@"
		rc=$?
		cp -a "$small"/. "$kept"/
		exit $rc' _ "$T_DIR/small" "$T_DIR/kept" \
		timeout --signal=INT --kill-after=20 90 "$SLUICE" $(eal_args 2) \
		--vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap" -- --dir="$T_DIR/small" --format=pcap \
		--max-packets="$n" --snaplen=65535 --rotate-size=512K --write-buffer=256K --write-buffers=8 \
		--ring-size=32768 --idle-sleep=20 --stats-json="$T_DIR/stats-$mode.json" "${extra[@]}" \
		>"$T_DIR/sluice-$mode.log" 2>&1 || rc=$?
	[ "$rc" -ne 90 ] || skip "cannot mount tmpfs here"
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "sluice hung on a full disk"
	[ "$rc" -eq 0 ] || { cat "$T_DIR/sluice-$mode.log"; fail "sluice exited $rc"; }
	js="$T_DIR/stats-$mode.json"
	check_balanced "$js"
	w=$(json "$js" 'j["total"]["written"]')
	e=$(json "$js" 'j["total"]["drops"]["write_error"]')
	[ "$e" -gt 0 ] || fail "no write_error drops on a full disk"
	[ "$w" -gt 0 ] || fail "nothing written at all"
	[ "$(json "$js" 'j["writers"][0]["io"]["enospc"]')" -gt 0 ] || fail "ENOSPC not counted"
	grep -q "No space left on device" "$T_DIR/sluice-$mode.log" || fail "ENOSPC not reported"
	[ -z "$(find "$T_DIR/kept" -name '*.part')" ] || fail "a .part file was left behind"
	mapfile -t files < <(capture_files "$T_DIR/kept")
	[ "${#files[@]}" -ge 1 ] || fail "no file survived"
	check_files_clean "${files[@]}"
	[ "$(count_packets "${files[@]}")" -eq "$w" ] || fail "files do not hold exactly written=$w"
	note "written $w, write_error $e, ${#files[@]} files"
done
note "ok"
