#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Rotation by size (every file within the limit, the series in order) and by
# time (with a looping replay stopped by --duration), and a periodic stats line.
. "$(dirname "$0")/lib.sh"

n=20000
"$MKPCAP" -o "$T_DIR/in.pcap" -n "$n" -s 60-1514 --seed 5
mkdir "$T_DIR/size" "$T_DIR/time"

note "rotation by size: 256K"
run_sluice 2 120 --vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap" -- \
	--dir="$T_DIR/size" --format=pcap --rotate-size=256K --max-packets="$n" \
	--ring-size=32768 --idle-sleep=20 --stats-json="$T_DIR/size.json" ||
	{ cat "$T_DIR/sluice.log"; fail "sluice failed"; }
mapfile -t files < <(capture_files "$T_DIR/size")
[ "${#files[@]}" -ge 20 ] || fail "expected >= 20 files, got ${#files[@]}"
check_files_clean "${files[@]}"
for f in "${files[@]}"; do
	sz=$(stat -c %s "$f")
	# A file closes after the record that reaches the limit.
	[ "$sz" -le $((256 * 1024 + 16 + 1514)) ] || fail "$f is $sz bytes"
done
seqs=$(for f in "${files[@]}"; do basename "$f" | sed -E 's/.*_w00_0*([0-9]+)\.pcap/\1/'; done)
[ "$seqs" = "$(seq 1 "${#files[@]}")" ] || fail "sequence numbers are not 1..N in name order"
"$PCAPDUMP" "$T_DIR/in.pcap" >"$T_DIR/in.txt"
"$PCAPDUMP" "${files[@]}" >"$T_DIR/out.txt"
cmp -s "$T_DIR/in.txt" "$T_DIR/out.txt" || fail "rotated series differs from the input"
check_balanced "$T_DIR/size.json"

note "rotation by time: 1 s, looping replay for 3.5 s"
run_sluice 2 60 --vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap,infinite_rx=1" -- \
	--mbufs=65536 --dir="$T_DIR/time" --format=pcapng --snaplen=96 --rotate-seconds=1 --rotate-size=0 --duration=3.5 \
	--stats-period=1 --idle-sleep=20 --stats-json="$T_DIR/time.json" ||
	{ cat "$T_DIR/sluice.log"; fail "sluice failed"; }
mapfile -t files < <(capture_files "$T_DIR/time")
[ "${#files[@]}" -ge 3 ] && [ "${#files[@]}" -le 6 ] || fail "expected 3..6 files, got ${#files[@]}"
check_files_clean "${files[@]}"
check_balanced "$T_DIR/time.json"
w=$(json "$T_DIR/time.json" 'j["total"]["written"]')
[ "$(count_packets "${files[@]}")" -eq "$w" ] || fail "files hold a different count than written=$w"
[ "$(grep -c '\] port 0: rx' "$T_DIR/sluice.log")" -ge 2 ] || fail "no periodic stats lines"
note "ok"
