#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Live counters over DPDK telemetry: while a capture runs, dpdk-telemetry.py
# (an independent client, from the Debian package dpdk) reads /sluice/stats,
# /sluice/ports, /sluice/writers and /sluice/rings from the telemetry socket;
# the replies have the documented shape, agree with each other, and move.
. "$(dirname "$0")/lib.sh"

TELEMETRY=$(command -v dpdk-telemetry.py || true)
[ -n "$TELEMETRY" ] || skip "dpdk-telemetry.py not found (Debian package dpdk)"
command -v python3 >/dev/null || skip "python3 not found"

# eal_args passes --file-prefix=sl-$T_NAME-$$; the socket lives in the
# runtime directory that EAL and dpdk-telemetry.py both derive the same way.
prefix="sl-$T_NAME-$$"
if [ -n "${RUNTIME_DIRECTORY:-}" ]; then
	run_dir=$RUNTIME_DIRECTORY
elif [ "$(id -u)" -eq 0 ]; then
	run_dir=/var/run
else
	run_dir=${XDG_RUNTIME_DIR:-/tmp}
fi
sock="$run_dir/dpdk/$prefix/dpdk_telemetry.v2"

# tel OUT CMD...: send the commands over one connection; one JSON reply a line.
# dpdk-telemetry.py exits 0 even when it cannot connect, so callers parse OUT.
tel() {
	local out=$1
	shift
	printf '%s\n' "$@" | "$TELEMETRY" -f "$prefix" >"$out" 2>&1 || true
}

# val OUT EXPR: print EXPR (Python) evaluated on r, the list of reply values
# in OUT (r[i] is the i-th command's value, None for a refused command).
val() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
r = []
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        r.extend(json.loads(line).values())
print(eval(sys.argv[2]))
EOF
}

# holds OUT EXPR: EXPR is true of r.
holds() {
	[ "$(val "$1" "bool($2)" 2>/dev/null)" = "True" ]
}

# check OUT EXPR MESSAGE
check() {
	holds "$1" "$2" || { cat "$1" >&2; fail "$3"; }
}

"$MKPCAP" -o "$T_DIR/in.pcap" -n 5000 -s 60-1514 --seed 9
mkdir "$T_DIR/out"

note "capturing from an endless net_pcap replay (stopped after the readings); file prefix $prefix"
# --duration only bounds a run that goes wrong, and generously: under ASan and
# UBSan sluice takes seconds to start, and each python (dpdk-telemetry.py, the
# readiness checks) takes seconds to start while the lcores keep the CPUs busy.
# shellcheck disable=SC2046
timeout --signal=INT --kill-after=20 200 "$SLUICE" $(eal_args 2) \
	--vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap,infinite_rx=1" -- \
	--dir="$T_DIR/out" --mbufs=32768 --idle-sleep=20 --duration=180 \
	--stats-json="$T_DIR/stats.json" >"$T_DIR/sluice.log" 2>&1 &
pid=$!
on_exit "kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null"

# The socket appears in rte_eal_init(); the commands answer once sluice has
# registered them, and count packets once the capture runs.
ready=0 seen_sock=0
for _ in $(seq 1 100); do
	kill -0 "$pid" 2>/dev/null || break
	if [ -S "$sock" ]; then
		seen_sock=1
		tel "$T_DIR/ready.json" /sluice/stats /
		# Keep the last reply that came through, to say what was wrong.
		! holds "$T_DIR/ready.json" 'len(r) == 2' || cp "$T_DIR/ready.json" "$T_DIR/last.json"
		if holds "$T_DIR/ready.json" 'r[0]["state"] == "running" and r[0]["received"] > 0'; then
			ready=1
			break
		fi
	fi
	sleep 0.1
done
if [ "$ready" -ne 1 ]; then
	cat "$T_DIR/sluice.log" >&2
	[ "$seen_sock" -eq 1 ] || fail "no telemetry socket at $sock"
	[ -f "$T_DIR/last.json" ] || fail "telemetry never answered: $(cat "$T_DIR/ready.json")"
	holds "$T_DIR/last.json" '"/sluice/stats" in r[1]' ||
		fail "sluice registers no /sluice/stats command: $(head -c 300 "$T_DIR/last.json")"
	fail "/sluice/stats never showed a running capture: $(head -c 600 "$T_DIR/last.json")"
fi

t1="$T_DIR/t1.json"
tel "$t1" /sluice/stats /sluice/ports /sluice/ports,0 /sluice/writers /sluice/rings \
	/sluice/ports,99 /sluice/writers,0 /sluice/writers,7 /sluice/rings,no_such_ring
# A second reading a second later, while the capture runs (--duration is only
# a bound: a loaded machine may take long to start python). Then sluice is
# stopped, before the checks: each starts python, which is slow while the
# lcores keep the CPUs busy, and the checks only read the saved replies.
sleep 1
t2="$T_DIR/t2.json"
tel "$t2" /sluice/stats
# Stopped by SIGINT, the final report must agree with what telemetry saw (below).
rc=0
kill -INT "$pid" 2>/dev/null || true
wait "$pid" || rc=$?
note "$(head -c 400 "$t1")..."
check "$t1" 'len(r) == 9' "expected 9 replies"

# /sluice/stats: totals.
check "$t1" 'r[0]["mode"] == "capture" and r[0]["state"] == "running"' "stats: mode/state"
check "$t1" 'r[0]["received"] > 0 and r[0]["written"] > 0' "stats: nothing received or written"
check "$t1" 'r[0]["nb_ports"] == 1 and r[0]["nb_rx_lcores"] == 1 and r[0]["nb_writers"] == 1' \
	"stats: counts of ports, RX lcores, writers"
check "$t1" 'all(k in r[0] for k in ("written_bytes", "filtered", "dropped", "ring_full",
	"writer_nobuf", "write_error", "truncated", "unaccounted", "nic_ipackets", "nic_imissed",
	"nic_rx_nombuf", "nic_ierrors", "elapsed_s", "elapsed_ms"))' "stats: missing keys"
check "$t1" 'r[0]["dropped"] == r[0]["ring_full"] + r[0]["writer_nobuf"] + r[0]["write_error"]' \
	"stats: dropped is not the sum of the drops"
check "$t1" 'r[0]["received"] == r[0]["written"] + r[0]["filtered"] + r[0]["dropped"]
	+ r[0]["unaccounted"]' "stats: the fates do not add up to received"

# /sluice/ports: keyed by port id; with a parameter, the port alone.
check "$t1" 'list(r[1]) == ["0"] and r[1]["0"]["name"] == "net_pcap0"
	and r[1]["0"]["port_id"] == 0 and r[1]["0"]["received"] > 0' "ports: port 0 net_pcap0"
check "$t1" 'r[2]["name"] == "net_pcap0" and r[2]["port_id"] == 0
	and r[2]["received"] >= r[1]["0"]["received"] >= r[0]["received"]' \
	"ports,0: port 0 alone, counters not going back"
check "$t1" 'r[1]["0"]["nic_ipackets"] > 0' "ports: NIC counters missing"
check "$t1" 'r[5] is None' "ports,99 must answer null"

# /sluice/writers: one writer, keyed "0", with its io_uring counters.
check "$t1" 'list(r[3]) == ["0"] and r[3]["0"]["writer"] == 0 and r[3]["0"]["written"] > 0' \
	"writers: writer 0"
check "$t1" 'r[3]["0"]["io"]["submit_calls"] > 0 and r[3]["0"]["io"]["sqes"] >= r[3]["0"]["io"]["submit_calls"]
	and 1 <= r[3]["0"]["io"]["avg_batch"] <= r[3]["0"]["io"]["max_batch"]' "writers: io counters"
check "$t1" 'r[3]["0"]["written"] <= r[3]["0"]["dequeued"]' "writers: written > dequeued"
check "$t1" 'all(k in r[3]["0"] for k in ("lcore", "written_bytes", "nobuf", "write_error",
	"file_bytes", "files_opened", "files_closed", "file_errors", "partial_flushes",
	"buffers_in_flight", "buffers_free")) and all(k in r[3]["0"]["io"] for k in ("writes",
	"write_bytes", "short_writes", "retries", "errors", "enospc", "fsyncs", "sq_full",
	"write_latency_avg_us", "write_latency_max_us"))' "writers: missing keys"
check "$t1" 'r[6]["writer"] == 0 and r[6]["written"] >= r[3]["0"]["written"]' "writers,0"
check "$t1" 'r[7] is None' "writers,7 must answer null"

# /sluice/rings: the one ring from RX lcore 0 to writer 0.
check "$t1" 'len(r[4]) == 1' "rings: expected one ring"
check "$t1" '[(k, v["name"]) for k, v in r[4].items()] == [("sl_rx0_w0", "sl_rx0_w0")]' \
	"rings: keyed by name"
check "$t1" 'r[4]["sl_rx0_w0"]["size"] > 0 and 0 <= r[4]["sl_rx0_w0"]["count"] <= r[4]["sl_rx0_w0"]["size"]' \
	"rings: size/count"
check "$t1" 'r[4]["sl_rx0_w0"]["rx"] == 0 and r[4]["sl_rx0_w0"]["writer"] == 0
	and r[4]["sl_rx0_w0"]["enqueued"] > 0' "rings: rx/writer/enqueued"
# Read later than writers and ports,0, so never behind them.
check "$t1" 'r[4]["sl_rx0_w0"]["enqueued"] >= r[3]["0"]["dequeued"]' \
	"rings: fewer enqueued than the writer dequeued"
check "$t1" 'r[4]["sl_rx0_w0"]["enqueued"] + r[4]["sl_rx0_w0"]["full_drops"]
	>= r[2]["received"] - r[2]["filtered"]' "rings: enqueued + drops behind port received"
check "$t1" 'r[8] is None' "rings,no_such_ring must answer null"

# The counters moved between the two readings.
check "$t2" "r[0][\"state\"] == \"running\" and r[0][\"elapsed_ms\"] > $(val "$t1" 'r[0]["elapsed_ms"]')" \
	"stats: elapsed_ms does not grow"
w1=$(val "$t1" 'r[0]["written"]')
check "$t2" "r[0][\"written\"] > $w1 and r[0][\"received\"] > $(val "$t1" 'r[0]["received"]')" \
	"stats: counters do not grow"
w2=$(val "$t2" 'r[0]["written"]')

# The final report, after SIGINT, agrees with what telemetry saw.
[ "$rc" -eq 0 ] || { cat "$T_DIR/sluice.log"; fail "sluice exited with $rc"; }
check_balanced "$T_DIR/stats.json"
[ "$(json "$T_DIR/stats.json" 'j["total"]["written"]')" -ge "$w2" ] ||
	fail "final written below what telemetry reported"
note "ok: written $w1 -> $w2 while running"
