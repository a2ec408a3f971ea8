#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# File mode under a hostile network (tc netem on the sender's side): loss,
# reordering, duplication and corruption, with several senders at once.
# Every file must still arrive whole and identical, the corrupted frames
# must be counted as bad checksums, and no transfer may stall.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

ns_setup
SRC=$T_DIR/src
mkfile "$SRC/a/big.bin" $((16 * 1024 * 1024 + 7))
mkfile "$SRC/b/mid.bin" $((5 * 1024 * 1024 + 1))
for ((i = 0; i < 1000; i++)); do
	mkfile "$SRC/c/small/d$((i % 10))/e$((i % 7))/f$i" $(((i * 37) % 3000))
done

start_sluice 2
netem_set loss 3% duplicate 2% corrupt 1% delay 2ms 1ms reorder 25% 50%

note "three senders at once: 16 MiB, 5 MiB and 1000 small files in nested directories"
pids=()
for d in a b c; do
	ip netns exec "$NS" timeout --kill-after=5 240 "$SENDER" --json --chunk-size=256K \
		"$SLUICE_IP" "$SRC/$d" >"$T_DIR/send-$d.json" 2>"$T_DIR/send-$d.log" &
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
sent=$(json "$T_DIR/send-a.json" 'j["files"][0]["sent_bytes"]')
note "16 MiB file: $sent bytes sent under loss (retransmissions included)"
[ "$sent" -gt $((16 * 1024 * 1024)) ] || fail "no retransmission under 3% loss?"

stop_sluice || fail "sluice exited $?"
js=$T_DIR/stats.json
check_balanced "$js"
csum=$(json "$js" 'j["rx_lcores"][0]["verdicts"].get("bad_udp_csum", 0) + j["rx_lcores"][0]["verdicts"].get("bad_ip_csum", 0)')
note "frames with bad checksums counted: $csum"
[ "$csum" -gt 0 ] || fail "corrupted frames were not counted as bad checksums"
[ "$(json "$js" 'j["file"]["files_ok"]')" -eq 1002 ] || fail "files_ok != 1002"
staging_empty
note "ok"
