#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# --filter keeps exactly the frames tshark's own filter selects, in order,
# and counts the others as filtered (not dropped); a bad expression is
# refused before anything starts.
. "$(dirname "$0")/lib.sh"

n=12000
"$MKPCAP" -o "$T_DIR/in.pcap" -n "$n" -s 60-1514 --flows 8 --seed 21
mkdir "$T_DIR/out"
run_sluice 2 120 --vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap" -- --dir="$T_DIR/out" \
	--filter="udp src port 1026 or greater 1400" --max-packets="$n" --ring-size=16384 \
	--idle-sleep=20 --stats-json="$T_DIR/stats.json" ||
	{ cat "$T_DIR/sluice.log"; fail "sluice failed"; }

tshark -r "$T_DIR/in.pcap" -Y "udp.srcport == 1026 or frame.len >= 1400" \
	-w "$T_DIR/expected.pcap" 2>/dev/null
mapfile -t files < <(capture_files "$T_DIR/out")
check_files_clean "${files[@]}"
"$PCAPDUMP" "$T_DIR/expected.pcap" >"$T_DIR/expected.txt"
"$PCAPDUMP" "${files[@]}" >"$T_DIR/out.txt"
kept=$(wc -l <"$T_DIR/expected.txt")
[ "$kept" -gt 100 ] && [ "$kept" -lt "$n" ] || fail "the filter should keep some, not all ($kept)"
cmp -s "$T_DIR/expected.txt" "$T_DIR/out.txt" || fail "kept frames differ from tshark's selection"
js="$T_DIR/stats.json"
check_balanced "$js"
[ "$(json "$js" 'j["total"]["written"]')" -eq "$kept" ] || fail "written != $kept"
[ "$(json "$js" 'j["total"]["filtered"]')" -eq $((n - kept)) ] || fail "filtered != $((n - kept))"
[ "$(json "$js" 'j["total"]["dropped"]')" -eq 0 ] || fail "filtered frames counted as drops"

rc=0
run_sluice 2 30 --vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap" -- --dir="$T_DIR/out" \
	--filter="port port" || rc=$?
[ "$rc" -eq 2 ] || fail "a bad filter must exit 2 (got $rc)"
grep -q -- "--filter: .*syntax error" "$T_DIR/sluice.log" || fail "no syntax error reported"
note "ok: $kept of $n frames kept"
