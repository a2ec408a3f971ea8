#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# File mode under a hostile network: loss, reordering, duplication and
# corruption, with several senders at once. The impairments come from tc
# netem on the sender's side where the kernel has it, and otherwise from a
# user-space relay in the namespace (tests/tools/udp-impair.py), whose
# corrupted datagrams carry valid UDP checksums so that only the protocol's
# CRC32C catches them. Every file must still arrive whole and identical,
# every corrupted datagram must be counted, and no transfer may stall.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

ns_setup
SRC=$T_DIR/src
mkfile "$SRC/a/big.bin" $((16 * 1024 * 1024 + 7))
mkfile "$SRC/b/mid.bin" $((5 * 1024 * 1024 + 1))
for ((i = 0; i < 2000; i++)); do
	mkfile "$SRC/c/small/d$((i % 10))/e$((i % 7))/f$i" $(((i * 37) % 3000))
done

start_sluice 2
target=$SLUICE_IP
if netem_set loss 3% duplicate 2% corrupt 1% delay 2ms 1ms reorder 25% 50% 2>/dev/null; then
	impair=netem
	note "impairments by tc netem"
else
	impair=relay
	note "no netem qdisc in this kernel: impairments by a user-space relay"
	ip netns exec "$NS" python3 "$(dirname "$0")/../tools/udp-impair.py" \
		--listen 127.0.0.1:7401 --to "$SLUICE_IP:7400" --loss 0.03 --dup 0.02 \
		--corrupt 0.01 --reorder 0.25 --seed $$ --max-seconds 300 \
		2>"$T_DIR/impair.log" &
	relay=$!
	on_exit "kill $relay 2>/dev/null"
	target=127.0.0.1:7401
	sleep 0.5
fi

note "three senders at once: 16 MiB, 5 MiB and 2000 small files in nested directories"
pids=()
for d in a b c; do
	ip netns exec "$NS" timeout --kill-after=5 240 "$SENDER" --json --chunk-size=256K \
		"$target" "$SRC/$d" >"$T_DIR/send-$d.json" 2>"$T_DIR/send-$d.log" &
	pids+=($!)
done
for i in 0 1 2; do
	rc=0
	wait "${pids[$i]}" || rc=$?
	[ "$rc" -eq 0 ] || {
		cat "$T_DIR/send-$(echo a b c | cut -d' ' -f$((i + 1))).log" >&2
		fail "sender $i exited $rc"
	}
done
netem_clear
for d in a b c; do
	same_tree "$SRC/$d" "$OUT/$d"
	bad=$(json "$T_DIR/send-$d.json" 'sum(1 for f in j["files"] if f["status"] != "ok")')
	[ "$bad" -eq 0 ] || fail "sender $d reports $bad files not ok"
done
resent=$(json "$T_DIR/send-a.json" 'j["files"][0]["retransmitted_bytes"]')
note "16 MiB file: $resent bytes retransmitted"
[ "$resent" -gt 0 ] || fail "no retransmission under 3% loss?"

stop_sluice || fail "sluice exited $?"
js=$T_DIR/stats.json
check_balanced "$js"
if [ "$impair" = netem ]; then
	bad=$(json "$js" 'sum(r["verdicts"]["bad_udp_csum"] + r["verdicts"]["bad_ip_csum"] for r in j["rx_lcores"])')
else
	kill "$relay" 2>/dev/null || true
	wait "$relay" 2>/dev/null || true
	cat "$T_DIR/impair.log"
	bad=$(json "$js" 'j["file"]["drops"]["decode_crc"]')
fi
note "corrupted datagrams counted: $bad"
[ "$bad" -gt 0 ] || fail "corrupted datagrams were not counted"
[ "$(json "$js" 'j["file"]["files_ok"]')" -eq 2002 ] || fail "files_ok != 2002"
staging_empty
note "ok"
