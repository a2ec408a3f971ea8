#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Two RX queues on two RX lcores feeding two writers: each queue lands whole
# and in order in its writer's files, and nothing else does.
. "$(dirname "$0")/lib.sh"

"$MKPCAP" -o "$T_DIR/a.pcap" -n 12000 -s 60-1514 --stream 1 --seed 1
"$MKPCAP" -o "$T_DIR/b.pcap" -n 9000 -s 60-1514 --stream 2 --seed 2
mkdir "$T_DIR/out"
run_sluice 4 120 --vdev="net_pcap0,rx_pcap=$T_DIR/a.pcap,rx_pcap=$T_DIR/b.pcap" -- \
	--rx-lcores=1,2 --writer-lcores=3,4 --dir="$T_DIR/out" --format=pcapng \
	--max-packets=21000 --ring-size=16384 --idle-sleep=20 --stats-json="$T_DIR/stats.json" ||
	{ cat "$T_DIR/sluice.log"; fail "sluice failed"; }

mapfile -t w0 < <(capture_files "$T_DIR/out" | grep '_w00_')
mapfile -t w1 < <(capture_files "$T_DIR/out" | grep '_w01_')
[ "${#w0[@]}" -ge 1 ] && [ "${#w1[@]}" -ge 1 ] || fail "each writer must write files"
check_files_clean "${w0[@]}" "${w1[@]}"
"$PCAPDUMP" "$T_DIR/a.pcap" >"$T_DIR/a.txt"
"$PCAPDUMP" "$T_DIR/b.pcap" >"$T_DIR/b.txt"
"$PCAPDUMP" "${w0[@]}" >"$T_DIR/w0.txt"
"$PCAPDUMP" "${w1[@]}" >"$T_DIR/w1.txt"
# Queue 0 (a.pcap) goes to writer 0, queue 1 (b.pcap) to writer 1, in order.
cmp -s "$T_DIR/a.txt" "$T_DIR/w0.txt" || fail "writer 0 does not hold queue 0 in order"
cmp -s "$T_DIR/b.txt" "$T_DIR/w1.txt" || fail "writer 1 does not hold queue 1 in order"
sort "$T_DIR/a.txt" "$T_DIR/b.txt" >"$T_DIR/in.sorted"
sort "$T_DIR/w0.txt" "$T_DIR/w1.txt" >"$T_DIR/out.sorted"
cmp -s "$T_DIR/in.sorted" "$T_DIR/out.sorted" || fail "multisets differ"
js="$T_DIR/stats.json"
check_balanced "$js"
[ "$(json "$js" 'j["writers"][0]["written"]')" -eq 12000 ] || fail "writer 0 written"
[ "$(json "$js" 'j["writers"][1]["written"]')" -eq 9000 ] || fail "writer 1 written"
[ "$(json "$js" 'len(j["rx_lcores"])')" -eq 2 ] || fail "two RX lcores expected"
note "ok"
