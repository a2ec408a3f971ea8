#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The sluice> prompt in file mode: commands from --cmdline-file start it,
# a file is sent, then commands typed on stdin show the engine's counters,
# refuse capture-only settings, stop, start again and quit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

ns_setup
mkfile "$T_DIR/src/f.bin" 300000
OUT=$T_DIR/out
mkdir -p "$OUT"
printf 'start\n' >"$T_DIR/cmds"
mkfifo "$T_DIR/stdin"
# shellcheck disable=SC2046
"$SLUICE" $(eal_args 2) --vdev="net_af_packet0,iface=$VH,qpairs=2" -- --mode=file \
	--ip="$SLUICE_IP/24" --dir="$OUT" --idle-sleep=50 -i --cmdline-file="$T_DIR/cmds" \
	--stats-json="$T_DIR/stats.json" <"$T_DIR/stdin" >"$T_DIR/cli.out" 2>&1 &
SLUICE_PID=$!
on_exit "kill -KILL $SLUICE_PID 2>/dev/null"
exec 9>"$T_DIR/stdin"
for ((i = 0; i < 100; i++)); do
	ip netns exec "$NS" ping -c 1 -W 0.2 "$SLUICE_IP" >/dev/null 2>&1 && break
	sleep 0.1
done
send --json "$SLUICE_IP" "$T_DIR/src/f.bin" || fail "send through the prompt-driven sluice failed"
printf 'show writer stats\nset snaplen 100\nshow config\nstop\nstart\nquit\n' >&9
exec 9>&-
rc=0
for ((i = 0; i < 300; i++)); do
	kill -0 "$SLUICE_PID" 2>/dev/null || break
	sleep 0.1
done
wait "$SLUICE_PID" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T_DIR/cli.out"; fail "sluice exited $rc"; }
out=$T_DIR/cli.out
grep -q "File mode started: receiving on UDP port 7400." "$out" || fail "no start message"
grep -q "files: 1 ok (300000 bytes)" "$out" || fail "show writer stats lacks the file"
grep -q "Refused: this setting is for --mode=capture" "$out" || fail "set snaplen not refused"
grep -q -- "--ip=$SLUICE_IP/24@0" "$out" || fail "show config lacks --ip"
grep -q "File mode stopped" "$out" || fail "no stop message"
cmp "$T_DIR/src/f.bin" "$OUT/f.bin" || fail "f.bin differs"
check_balanced "$T_DIR/stats.json"
note "ok"
