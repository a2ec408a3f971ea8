#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# More RX lcores than queues: the lcore that polls nothing must still end a
# --max-packets run (it used to spin until a signal).
. "$(dirname "$0")/lib.sh"

n=5000
"$MKPCAP" -o "$T_DIR/in.pcap" -n "$n" -s 60-1514 --seed 11
mkdir "$T_DIR/out"
# Lcores 1 and 2 receive (net_pcap has one queue: lcore 2 gets none), 3 writes.
run_sluice 3 60 --vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap,infinite_rx=1" -- \
	--dir="$T_DIR/out" --rx-lcores=1,2 --writer-lcores=3 --max-packets="$n" --idle-sleep=20 \
	--stats-json="$T_DIR/stats.json" || { cat "$T_DIR/sluice.log"; fail "sluice failed"; }
check_balanced "$T_DIR/stats.json"
[ "$(json "$T_DIR/stats.json" 'j["total"]["received"]')" -eq "$n" ] || fail "not $n received"
note "ok"
