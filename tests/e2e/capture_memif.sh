#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sluice as a net_memif server, fed by a second DPDK process: dpdk-testpmd
# (Debian package dpdk) as the memif client in txonly mode, the stand-in for
# pktgen-dpdk of docs/pktgen.md. For each frame size, what left the generator
# is exactly what sluice received, and every received frame is written or
# counted in one of sluice's fates; the files hold exactly the written frames,
# all of the txonly length and all identical, in valid files.
#
# How the frames are counted on each side (drivers/net/memif, DPDK 22.11):
#  - testpmd txonly builds bursts and calls rte_eth_tx_burst(). The memif
#    client copies frames into the shared ring as long as it has free slots
#    and returns how many it took; only those count in its opackets. A frame
#    that found the ring full (sluice not polling fast enough) is returned,
#    and txonly frees it and counts it as its own "TX-dropped": it was never
#    sent, sluice never saw it, and it is in no sluice counter.
#  - testpmd "TX-packets" (forward statistics, and the port's NIC TX-packets)
#    is the memif client's opackets: the frames in the ring.
#  - sluice's RX lcore takes them with rte_eth_rx_burst(): that is sluice's
#    "received", and the memif server's ipackets (sluice's nic.ipackets). A
#    server short of mbufs leaves frames in the ring (no loss, no counter; the
#    client sees a full ring), so the memif rx_nombuf and imissed stay 0.
#  - So, once the ring is drained: testpmd TX-packets == sluice received ==
#    nic.ipackets, and received == written + filtered + ring_full +
#    writer_nobuf + write_error (the fates of --stats-json).
# The order matters: sluice first (a client that connects before sluice has
# started its port is refused, "ID not found", and never retries); stop the
# generator, let sluice drain the ring, stop sluice while the client is still
# connected (the memif PMD reports no queue counters once its peer is gone, so
# nic.ipackets would read 0), then quit testpmd.
#
# A memif server refuses a client that asks for an S2C ring it has no TX queue
# for ("Invalid ring index"); sluice gives memif ports as many TX queues as RX
# queues in capture mode, so testpmd runs with an RX queue, as pktgen does.
#
# Frames of more than one memif buffer (2048 B) are not tested: the memif PMD
# of DPDK 22.11 advertises max_rx_pktlen 1518, and chained descriptors were
# seen merged, split and lost between two testpmd processes alone.
. "$(dirname "$0")/lib.sh"

TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
[ -n "$TESTPMD" ] || skip "dpdk-testpmd not found (Debian package dpdk)"
command -v capinfos >/dev/null || skip "capinfos is not installed"
command -v tshark >/dev/null || skip "tshark is not installed"

SIZES=${SL_MEMIF_SIZES:-64 1500}
SECONDS_PER_SIZE=${SL_MEMIF_SECONDS:-1}
cpus=$(nproc)
# sluice's lcores are 0@0,1@1,2@0 on two CPUs (eal_args); the generator's
# forwarding lcore shares CPU 0 with sluice's writer and main lcore, and gets
# a CPU of its own where there are four.
gen_cpu=$((cpus > 3 ? 3 : 0))

# wait_for FILE PATTERN SECONDS [PID]: until FILE has a line matching
# PATTERN; fails at once if process PID has gone.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		[ -z "${4:-}" ] || kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# One size: a fresh sluice and a fresh testpmd.
run_size() {
	local size=$1 d="$T_DIR/s$1" sock pid tpid rc tx txd nic_tx js
	local rcv w f rf wn we un nic_rx bal
	mkdir -p "$d/out"
	sock="$d/memif.sock"
	note "size $size: sluice memif server, testpmd txonly client for $SECONDS_PER_SIZE s (at ${SECONDS}s)"

	# shellcheck disable=SC2046
	timeout --signal=INT --kill-after=20 120 "$SLUICE" $(eal_args 2) \
		--vdev="net_memif0,role=server,socket=$sock,socket-abstract=no" -- \
		--dir="$d/out" --format=pcapng --rotate-size=2M --idle-sleep=20 \
		--stats-period=1 --stats-json="$d/stats.json" >"$d/sluice.log" 2>&1 &
	pid=$!
	on_exit "kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f '$sock'"
	# The socket exists from rte_eal_init(); the port (and so the memif
	# server) is started only when the first periodic line is printed.
	if ! wait_for "$d/sluice.log" '^\[ *[0-9.]+s\] port 0:' 30 "$pid" || [ ! -S "$sock" ]; then
		cat "$d/sluice.log" >&2
		fail "sluice did not start its memif server at $sock"
	fi

	# testpmd reads its commands from a FIFO that we hold open; its stdout
	# is a file, so make it line buffered to follow what it prints.
	mkfifo "$d/tp.in"
	timeout --signal=INT --kill-after=10 120 stdbuf -oL -eL "$TESTPMD" --no-huge -m 256 --no-pci \
		--file-prefix="tp-$T_NAME-$$" --log-level=lib.eal:error --lcores="0@0,1@$gen_cpu" \
		--vdev="net_memif0,role=client,socket=$sock,socket-abstract=no" -- \
		-i --auto-start --forward-mode=txonly --txpkts="$size" --nb-cores=1 \
		--rxq=1 --txq=1 --total-num-mbufs=8192 <"$d/tp.in" >"$d/testpmd.log" 2>&1 &
	tpid=$!
	exec 3>"$d/tp.in"
	on_exit "exec 3>&- 2>/dev/null; kill -INT $tpid 2>/dev/null; wait $tpid 2>/dev/null"
	wait_for "$d/testpmd.log" '^Start automatic packet forwarding' 30 "$tpid" ||
		{ cat "$d/testpmd.log" >&2; fail "testpmd did not start forwarding"; }
	# The memif client connects in the background (and retries): count the
	# seconds from the first frames sluice sees, not from the start.
	wait_for "$d/sluice.log" '^\[ *[0-9.]+s\] port 0: rx [1-9]' 30 "$pid" ||
		{ cat "$d/testpmd.log" >&2; fail "no frame reached sluice in 30 s"; }
	sleep "$SECONDS_PER_SIZE"
	echo stop >&3
	wait_for "$d/testpmd.log" 'Accumulated forward statistics' 30 "$tpid" ||
		{ cat "$d/testpmd.log" >&2; fail "testpmd did not stop"; }
	# Forward statistics of port 0: what the memif client took (TX-packets)
	# and what it handed back because the ring was full (TX-dropped).
	read -r tx txd < <(awk '/TX-packets:/ && /TX-dropped:/ {print $2, $4; exit}' "$d/testpmd.log")
	[ "${tx:-0}" -gt 0 ] || { cat "$d/testpmd.log" >&2; fail "testpmd sent nothing"; }
	echo "show port stats 0" >&3
	wait_for "$d/testpmd.log" 'TX-errors:' 30 "$tpid" || fail "testpmd shows no port statistics"
	nic_tx=$(awk '/TX-packets:/ && /TX-errors:/ {print $2; exit}' "$d/testpmd.log")
	# sluice drains the ring: its periodic line reaches what was sent.
	wait_for "$d/sluice.log" "port 0: rx $tx " 20 "$pid" || note "sluice did not reach rx $tx"

	# Stop sluice while the client is still connected, then quit testpmd.
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$d/sluice.log" >&2; fail "sluice exited with $rc"; }
	echo quit >&3
	exec 3>&-
	rc=0
	wait "$tpid" || rc=$?
	[ "$rc" -eq 0 ] || { tail -20 "$d/testpmd.log" >&2; fail "testpmd exited with $rc"; }
	grep -q 'Invalid ring index\|ID not found' "$d/testpmd.log" &&
		fail "memif refused the connection: $(grep -m1 'Disconnect' "$d/testpmd.log")"

	# One python for all of the JSON (each start costs seconds on a loaded
	# machine): the port's fates, in the order printed.
	js="$d/stats.json"
	read -r rcv w f rf wn we un nic_rx bal < <(python3 - "$js" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
p, t = j["ports"][0], j["total"]
assert p["name"] == "net_memif0" and len(j["ports"]) == 1, p["name"]
# The totals balance over every fate, drops included (as check_balanced).
ok = j["balanced"] and t["unaccounted"] == 0 and \
    t["received"] == t["written"] + t["served"] + t["filtered"] + sum(t["drops"].values()) and \
    t["dropped"] == sum(t["drops"].values())
print(p["received"], p["written"], p["filtered"], p["drops"]["ring_full"],
      p["drops"]["writer_nobuf"], p["drops"]["write_error"], p["unaccounted"],
      p["nic"]["ipackets"], int(ok))
EOF
	) || fail "cannot read $js"
	[ -n "$bal" ] || fail "cannot read $js"
	note "size $size: testpmd TX-packets $tx (NIC $nic_tx, TX-dropped at the full memif ring $txd);" \
		"sluice received $rcv = written $w + filtered $f + ring_full $rf + writer_nobuf $wn + write_error $we"
	[ "$bal" -eq 1 ] || fail "counters do not balance: $(cat "$js")"
	[ "$nic_tx" -eq "$tx" ] || fail "testpmd port TX-packets $nic_tx != forward TX-packets $tx"
	[ "$rcv" -eq "$tx" ] || fail "sluice received $rcv != testpmd TX-packets $tx"
	[ "$nic_rx" -eq "$tx" ] || fail "memif ipackets $nic_rx != testpmd TX-packets $tx"
	[ "$un" -eq 0 ] || fail "port 0: $un packets unaccounted"
	[ "$rcv" -eq $((w + f + rf + wn + we)) ] || fail "port 0: received $rcv does not balance"
	[ "$f" -eq 0 ] || fail "filtered $f without a filter"
	[ "$w" -gt 0 ] || fail "nothing written"

	# The files: complete, valid, holding exactly the written frames, every
	# one of them the txonly frame (all identical: one flow, one payload).
	local files n err hex
	mapfile -t files < <(capture_files "$d/out")
	[ "${#files[@]}" -ge 1 ] || fail "no capture file"
	[ -z "$(find "$d/out" -name '*.part')" ] || fail "a .part file was left behind"
	note "size $size: checking ${#files[@]} file(s) (at ${SECONDS}s)"
	# capinfos (one run for all files): no warning, and its packet counts
	# add up to written.
	err=$(capinfos -M -c -T -r "${files[@]}" 2>&1 >"$d/capinfos.out") || fail "capinfos failed: $err"
	[ -z "$err" ] || fail "capinfos warns: $err"
	n=$(awk -F'\t' '{n += $2} END {print n + 0}' "$d/capinfos.out")
	[ "$n" -eq "$w" ] || fail "capinfos counts $n packets, written $w"
	# pcapdump (strict): one line per frame, <iface> <len> <caplen> <hash>.
	"$PCAPDUMP" "${files[@]}" >"$d/dump.txt" || fail "pcapdump rejects the files"
	n=$(awk -v s="$size" '{ n++; if ($2 != s || $3 != s) bad++; h[$4]++ }
		END { k = 0; for (x in h) k++; print n + 0, bad + 0, k }' "$d/dump.txt")
	[ "$n" = "$w 0 1" ] ||
		fail "pcapdump: frames, frames not of $size B, distinct frames = $n (want $w 0 1)"
	# The first file (at most --rotate-size) byte for byte as tshark reads it;
	# and the frame is testpmd's: IPv4 (ethertype 0800), UDP (protocol 17),
	# IP total length = frame - 14.
	"$CHECK_PCAPDUMP" "${files[0]}" >/dev/null || fail "pcapdump and tshark disagree on ${files[0]}"
	read -r _ _ _ hex < <("$PCAPDUMP" -x "${files[0]}")
	n="${hex:24:4} ${hex:46:2} $((16#${hex:32:4}))"
	[ "$n" = "0800 11 $((size - 14))" ] || fail "not a txonly frame: ${hex:0:96}"
}

for size in $SIZES; do
	run_size "$size"
done
note "ok: sizes $SIZES (${SECONDS}s)"
