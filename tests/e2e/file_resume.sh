#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Crash and resume: sluice is killed with SIGKILL in the middle of a 64 MiB
# transfer, restarted on the same directory, and the file sent again. The
# file must arrive identical, with only the missing part sent the second
# time (the durable chunks survive in the staging area and its sidecar).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

ns_setup
SRC=$T_DIR/src
size=$((64 * 1024 * 1024))
mkfile "$SRC/big.bin" "$size"

start_sluice 2
# A slow sender, so that the transfer lasts a few seconds.
ip netns exec "$NS" "$SENDER" --json --timeout=5 --rate=120M "$SLUICE_IP" "$SRC/big.bin" \
	>"$T_DIR/send1.json" 2>"$T_DIR/send1.log" &
spid=$!
on_exit "kill $spid 2>/dev/null"
# Kill once some chunks are durable (the sidecar exists) but well before the end.
for ((i = 0; i < 200; i++)); do
	[ -n "$(find "$OUT/.sluice/staging" -name '*.state' 2>/dev/null)" ] && break
	sleep 0.05
done
sleep 1
kill -KILL "$SLUICE_PID"
wait "$SLUICE_PID" 2>/dev/null || true
SLUICE_PID=""
[ ! -e "$OUT/big.bin" ] || fail "the final name appeared before the file was complete"
ls "$OUT/.sluice/staging/"*.state >/dev/null 2>&1 || fail "no sidecar after the crash"
rc=0
wait "$spid" || rc=$?
[ "$rc" -ne 0 ] || fail "the first sender reported success although sluice died"

note "restart and send again"
start_sluice 2
send --json "$SLUICE_IP" "$SRC/big.bin" || {
	cat "$T_DIR/send.log"
	fail "second send failed"
}
cmp "$SRC/big.bin" "$OUT/big.bin" || fail "resumed file differs"
sent=$(json "$T_DIR/send.json" 'j["files"][0]["sent_bytes"]')
note "second send: $sent of $size bytes"
[ "$sent" -lt $((size * 9 / 10)) ] || fail "the resend sent $sent bytes: not only the missing part"
stop_sluice || fail "sluice exited $?"
check_balanced "$T_DIR/stats.json"
[ "$(json "$T_DIR/stats.json" 'j["file"]["files_resumed"]')" -eq 1 ] || fail "resume not counted"
staging_empty
note "ok"
