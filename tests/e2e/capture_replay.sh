#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Replay a capture through net_pcap and prove the output holds the same
# packets, byte for byte and in order, in valid files, with balanced counters.
# Usage: capture_replay.sh FORMAT SIZES [extra sluice options...]
. "$(dirname "$0")/lib.sh"

fmt=$1 sizes=$2
shift 2
# About 16-20 MB of input whatever the sizes, so the byte-for-byte check
# against tshark stays quick.
n=20000
[ "${sizes#*-}" -gt 1514 ] && n=4000
"$MKPCAP" -o "$T_DIR/in.pcap" -n "$n" -s "$sizes" --flows 8 --seed 11
mkdir "$T_DIR/out"

note "replaying $n frames ($sizes B) into $fmt $*"
run_sluice 2 120 --vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap" -- \
	--dir="$T_DIR/out" --format="$fmt" --max-packets="$n" --ring-size=32768 \
	--idle-sleep=20 --stats-json="$T_DIR/stats.json" "$@" ||
	{ cat "$T_DIR/sluice.log"; fail "sluice exited with an error"; }

mapfile -t files < <(capture_files "$T_DIR/out")
[ "${#files[@]}" -ge 1 ] || fail "no capture file written"
[ -z "$(find "$T_DIR/out" -name '*.part')" ] || fail "a .part file was left behind"
for f in "${files[@]}"; do
	case "$(basename "$f")" in
	sluice_[0-9]*T[0-9]*.[0-9]*Z_w00_[0-9][0-9][0-9][0-9][0-9][0-9].$fmt) ;;
	*) fail "unexpected file name $f" ;;
	esac
done
check_files_clean "${files[@]}"

"$PCAPDUMP" "$T_DIR/in.pcap" >"$T_DIR/in.txt"
"$PCAPDUMP" "${files[@]}" >"$T_DIR/out.txt"
cmp -s "$T_DIR/in.txt" "$T_DIR/out.txt" ||
	fail "output differs from input: $(diff "$T_DIR/in.txt" "$T_DIR/out.txt" | head -5)"
# Our reader agrees with tshark on the output, byte for byte.
"$CHECK_PCAPDUMP" "${files[0]}" >/dev/null || fail "pcapdump and tshark disagree on ${files[0]}"

js="$T_DIR/stats.json"
check_balanced "$js"
[ "$(json "$js" 'j["total"]["written"]')" -eq "$n" ] || fail "written != $n"
[ "$(json "$js" 'j["total"]["dropped"]')" -eq 0 ] || fail "unexpected drops"
[ "$(json "$js" 'j["ports"][0]["written"]')" -eq "$n" ] || fail "port written != $n"
[ "$(json "$js" 'j["writers"][0]["written"]')" -eq "$n" ] || fail "writer written != $n"
[ "$(json "$js" 'j["writers"][0]["files_closed"]')" -eq "${#files[@]}" ] || fail "files_closed"
[ "$(count_packets "${files[@]}")" -eq "$n" ] || fail "capinfos counts differ from $n"
grep -q "balanced" "$T_DIR/sluice.log" || fail "no summary printed"
note "ok: ${#files[@]} file(s), $n packets identical"
