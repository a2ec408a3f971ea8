#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGINT and SIGTERM stop a running capture cleanly: RX stops, rings drain,
# files are finished and valid, the summary balances, exit code 0.
. "$(dirname "$0")/lib.sh"

"$MKPCAP" -o "$T_DIR/in.pcap" -n 5000 -s 60-1514 --seed 4
for sig in INT TERM; do
	mkdir "$T_DIR/out-$sig"
	# shellcheck disable=SC2046
	"$SLUICE" $(eal_args 2) --vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap,infinite_rx=1" -- \
		--mbufs=32768 --dir="$T_DIR/out-$sig" --idle-sleep=20 --stats-json="$T_DIR/$sig.json" \
		>"$T_DIR/$sig.log" 2>&1 &
	pid=$!
	sleep 2.5
	kill -s "$sig" "$pid"
	rc=0
	for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; fail "SIG$sig did not stop sluice"; }
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$T_DIR/$sig.log"; fail "exit $rc after SIG$sig"; }
	check_balanced "$T_DIR/$sig.json"
	mapfile -t files < <(capture_files "$T_DIR/out-$sig")
	check_files_clean "${files[@]}"
	w=$(json "$T_DIR/$sig.json" 'j["total"]["written"]')
	[ "$w" -gt 0 ] || fail "nothing written before SIG$sig"
	[ "$(count_packets "${files[@]}")" -eq "$w" ] || fail "files hold != written"
done
note "ok"
