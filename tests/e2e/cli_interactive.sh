#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The sluice> prompt (-i), typed into a real terminal (tmux): every command
# answers; bad commands and arguments are refused and change nothing; a filter
# changed while packets flow lets no other packet through; stop, set dir and
# start again work; quit exits 0 with balanced counters and clean files.
# Then --cmdline-file with the prompt's stdin on a pipe: a filter set before
# start keeps exactly the matching packets, in order, and EOF quits.
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || skip "tmux is not installed"
command -v tshark >/dev/null || skip "tshark is not installed"
command -v capinfos >/dev/null || skip "capinfos is not installed"

# Small frames and many flows: the infinite replay runs at full speed, and
# every packet that passes the filter (one flow in 256) goes to disk.
"$MKPCAP" -o "$T_DIR/in.pcap" -n 20000 -s 60-200 --flows 256 --seed 5
# The finite replay of --cmdline-file: one flow in 64 of 5000 packets.
"$MKPCAP" -o "$T_DIR/in2.pcap" -n 5000 -s 60-200 --flows 64 --seed 5
mkdir "$T_DIR/out" "$T_DIR/out2" "$T_DIR/out3"

# mkpcap's flows use UDP source ports 1024, 1025, ...: each filter below
# keeps one flow.
FILTER_A="udp src port 1024"
FILTER_B="udp src port 1027"
FILTER_EXACT="udp src port 1025"

# Our own tmux server, with its socket in $T_DIR, so that no session of the
# user's is touched.
unset TMUX
SESSION=cli
printf 'set -g history-limit 100000\nset -g remain-on-exit on\nset -g default-shell /bin/sh\n' >"$T_DIR/tmux.conf"
tm() { tmux -S "$T_DIR/tmux.sock" -f "$T_DIR/tmux.conf" "$@"; }
on_exit "tm kill-server 2>/dev/null"

# The whole pane, wrapped lines joined.
pane() { tm capture-pane -p -J -S - -t "$SESSION"; }
# Prompts printed so far (lines that start with one).
prompts() { pane | grep -c '^sluice> ' || true; }
dump() {
	pane >"$T_DIR/pane.txt" 2>&1 || true
	echo "---- terminal ----" >&2
	tail -n 60 "$T_DIR/pane.txt" >&2
}

# cli COMMAND [TIMEOUT_S]: type COMMAND and Enter, wait for the next prompt,
# and leave what the command printed in $T_DIR/cmd.out.
cli() {
	local cmd=$1 limit=${2:-30} n i
	n=$(prompts)
	tm send-keys -t "$SESSION" -l -- "$cmd"
	tm send-keys -t "$SESSION" Enter
	for ((i = 0; i < limit * 10; i++)); do
		[ "$(prompts)" -gt "$n" ] && break
		[ ! -e "$T_DIR/exit" ] || { dump; fail "sluice exited during '$cmd'"; }
		sleep 0.1
	done
	[ "$(prompts)" -gt "$n" ] || { dump; fail "no prompt within $limit s after '$cmd'"; }
	# Between the prompt that took the command and the next one.
	pane | awk -v n="$n" '/^sluice> /{k++; next} k == n' >"$T_DIR/cmd.out"
	LAST_CMD=$cmd
}

# expect TEXT...: each TEXT (a fixed string) is in the last command's output.
expect() {
	local t
	for t in "$@"; do
		grep -qF -- "$t" "$T_DIR/cmd.out" ||
			{ dump; fail "'$LAST_CMD' did not print '$t'"; }
	done
}

# not_expect TEXT: TEXT is not in the last command's output.
not_expect() {
	! grep -qF -- "$1" "$T_DIR/cmd.out" || { dump; fail "'$LAST_CMD' printed '$1'"; }
}

# wait_pane TEXT TIMEOUT_S: TEXT appears anywhere in the terminal.
wait_pane() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		pane | grep -qF -- "$1" && return 0
		[ ! -e "$T_DIR/exit" ] || { dump; fail "sluice exited before printing '$1'"; }
		sleep 0.1
	done
	dump
	fail "'$1' did not appear within $2 s"
}

# srcports FILE...: the UDP source port of every packet, one per line, as
# tshark reads them (an empty line for a packet without UDP).
srcports() {
	local f
	for f in "$@"; do
		tshark -r "$f" -T fields -e udp.srcport 2>/dev/null
	done
}

note "interactive session in tmux"
# shellcheck disable=SC2046
tm new-session -d -s "$SESSION" -x 200 -y 50 \
	"$SLUICE $(eal_args 2) --vdev=net_pcap0,rx_pcap=$T_DIR/in.pcap,infinite_rx=1 -- -i --dir=$T_DIR/out --mbufs=32768 --idle-sleep=20 --stats-json=$T_DIR/stats.json; echo EXIT=\$? > $T_DIR/exit"
wait_pane "sluice> " 60

cli "help"
expect "start " "stop " "quit " "show port info <port_id>|all" "show port stats <port_id>|all" \
	"show port xstats" "clear port stats" "show lcores" "show ring stats" \
	"show writer stats" "show config" "set capture filter" "set snaplen" "set rotate size" \
	"set rotate seconds" "set format" "set dir" "set stats-period" "balance"
cli "bogus"
expect "Command not found"
cli "show port stats"
expect "Bad arguments"
cli "show config"
expect "Capture: stopped" "--dir=$T_DIR/out" "--format=pcapng" "--snaplen=262144" \
	"--rotate-size=1G" "--idle-sleep=20" "--mbufs=32768" "--rx-lcores=1" \
	"--writer-lcores=2" "no --filter"

note "bad arguments are refused"
cli "set snaplen 0"
expect "Invalid snaplen '0'"
cli "set snaplen 12abc"
expect "Invalid snaplen '12abc'"
cli "set rotate size 1K"
expect "Invalid rotate size '1K'"
cli "set rotate size 12Q"
expect "Invalid rotate size '12Q'"
cli "set rotate seconds 31536001"
expect "Invalid rotate seconds"
cli "set format pcapx"
expect "Invalid format 'pcapx'"
cli "set stats-period 86401"
expect "Invalid stats-period"
cli "show port stats 7"
expect "Invalid port '7'"
cli "show config"
expect "--snaplen=262144" "--rotate-size=1G" "--rotate-seconds=0" "--format=pcapng" \
	"--stats-period=0"

note "good arguments are taken"
cli "set snaplen 262144"
expect "Snaplen set to 262144"
cli "set rotate size 64M"
expect "Rotate size set to 64M"
cli "show config"
expect "--rotate-size=64M"

note "start with filter A"
cli "set capture filter $FILTER_A"
expect "Capture filter set: $FILTER_A ("
cli "start"
expect "Capture started."
cli "start"
expect "Already started."
cli "set dir /nonexistent"
expect "Stop the capture first: set dir is refused while started."
sleep 1

cli "show port stats 0"
expect "NIC statistics for port 0" "RX-packets:" "RX-missed:" "RX-nombuf:" "Written:" \
	"Filtered:" "Dropped:" "Throughput (since last show)" "Rx-pps:"
rx=$(awk '/RX-packets:/ {print $2}' "$T_DIR/cmd.out")
[ "$rx" -gt 0 ] || { dump; fail "no packet received after start"; }
cli "show port stats all"
expect "NIC statistics for port 0"
cli "show port info all"
expect "Infos for port 0" "Driver: net_pcap" "MAC address:" "Link: up" "Promiscuous mode:" \
	"RX queues in use: 1" "RX queue 0: polled by lcore 1 (rx 0), written by lcore 2 (writer 0)"
cli "show port xstats 0"
expect "rx_good_packets:" "rx_q0_packets:"
cli "show lcores"
grep -qE '^lcore 0 +main .*running' "$T_DIR/cmd.out" || { dump; fail "show lcores: main"; }
grep -qE '^lcore 1 +rx .*running +polls port 0 queue 0' "$T_DIR/cmd.out" ||
	{ dump; fail "show lcores: rx lcore"; }
grep -qE '^lcore 2 +writer .*running +drains sl_rx0_w0' "$T_DIR/cmd.out" ||
	{ dump; fail "show lcores: writer lcore"; }
cli "show ring stats"
expect "ring sl_rx0_w0" "capacity" "count" "enqueued" "full-drops"
cli "show writer stats"
expect "Writer 0 (lcore 2)" "Written:" "Files: opened" "Buffers: in flight" "I/O: writes" \
	"avg batch" "Write latency:" "Last error:"

note "a bad filter keeps the old one"
cli "set capture filter port port"
expect "Bad capture filter 'port port'" "kept the previous filter ($FILTER_A)"
cli "show config"
expect "--filter='$FILTER_A'" "Capture: started"

note "filter B while packets flow, then pcap files"
cli "set capture filter $FILTER_B"
expect "Capture filter set: $FILTER_B ("
sleep 1
cli "set format pcap"
expect "Format set to pcap"
sleep 1
cli "stop" 60
expect "Capture stopped; files flushed."
cli "stop"
expect "Not started."

note "stopped: set dir, filter off and back, clear port stats"
cli "set dir /nonexistent"
expect "Cannot use /nonexistent: No such file or directory"
cli "set dir $T_DIR/in.pcap"
expect "not a directory"
cli "set dir $T_DIR/out2"
expect "Directory set to $T_DIR/out2"
cli "set capture filter off"
expect "Capture filter removed"
cli "show config"
expect "no --filter" "--dir=$T_DIR/out2" "--format=pcap" "Capture: stopped"
cli "set capture filter $FILTER_B"
expect "Capture filter set: $FILTER_B"
cli "clear port stats 0"
expect "NIC statistics for port 0 cleared"
cli "show port stats 0"
expect "RX-packets: 0 "
cli "show lcores"
grep -qE '^lcore 1 +rx .*stopped' "$T_DIR/cmd.out" || { dump; fail "show lcores: rx not stopped"; }

note "start again into out2, with periodic statistics"
cli "start"
expect "Capture started."
cli "set stats-period 1"
expect "every 1 s"
wait_pane "writer 0:" 10
cli "set stats-period 0"
expect "Periodic statistics off."
cli "stop" 60
expect "Capture stopped; files flushed."
tm send-keys -t "$SESSION" -l -- "quit"
tm send-keys -t "$SESSION" Enter
for ((i = 0; i < 600; i++)); do
	[ -e "$T_DIR/exit" ] && break
	sleep 0.1
done
[ -e "$T_DIR/exit" ] || { dump; fail "sluice did not exit after quit"; }
[ "$(cat "$T_DIR/exit")" = "EXIT=0" ] || { dump; fail "sluice exited with $(cat "$T_DIR/exit")"; }
pane | grep -q "(balanced)" || { dump; fail "no balanced summary"; }
tm kill-server 2>/dev/null || true

note "checking the files of the interactive session"
[ -z "$(find "$T_DIR/out" "$T_DIR/out2" -name '*.part')" ] || fail "a .part file was left behind"
mapfile -t files1 < <(capture_files "$T_DIR/out")
mapfile -t files2 < <(capture_files "$T_DIR/out2")
[ "${#files1[@]}" -ge 2 ] || fail "expected pcapng and pcap files in out"
[ "${#files2[@]}" -ge 1 ] || fail "set dir: nothing written in out2"
printf '%s\n' "${files1[@]}" | grep -q '\.pcapng$' || fail "no pcapng file before set format"
printf '%s\n' "${files1[@]}" | grep -q '\.pcap$' || fail "set format pcap: no pcap file"
for f in "${files2[@]}"; do
	case "$f" in *.pcap) ;; *) fail "out2 has a file of the old format: $f" ;; esac
done
all=("${files1[@]}" "${files2[@]}")
check_files_clean "${all[@]}"
srcports "${files1[@]}" >"$T_DIR/ports1.txt"
srcports "${files2[@]}" >"$T_DIR/ports2.txt"
bad=$(cat "$T_DIR/ports1.txt" "$T_DIR/ports2.txt" | grep -cvxE '1024|1027' || true)
[ "$bad" -eq 0 ] || fail "$bad packets match neither '$FILTER_A' nor '$FILTER_B'"
grep -qx 1024 "$T_DIR/ports1.txt" || fail "nothing of '$FILTER_A' written"
grep -qx 1027 "$T_DIR/ports1.txt" || fail "'$FILTER_B' not applied while capturing"
! grep -qx 1024 "$T_DIR/ports2.txt" || fail "'$FILTER_A' still in force after '$FILTER_B'"
js="$T_DIR/stats.json"
check_balanced "$js"
[ "$(json "$js" 'j["total"]["filtered"]')" -gt 0 ] || fail "nothing filtered"
written=$(json "$js" 'j["total"]["written"]')
[ "$(count_packets "${all[@]}")" -eq "$written" ] || fail "files do not hold the $written written"

note "--cmdline-file, stdin on a pipe, finite input"
cat >"$T_DIR/cmds" <<EOF
set capture filter $FILTER_EXACT
bogus
start
EOF
mkfifo "$T_DIR/ctl"
# shellcheck disable=SC2046
"$SLUICE" $(eal_args 2) --vdev="net_pcap0,rx_pcap=$T_DIR/in2.pcap" -- -i \
	--cmdline-file="$T_DIR/cmds" --dir="$T_DIR/out3" --max-packets=5000 --idle-sleep=20 \
	--stats-json="$T_DIR/stats3.json" <"$T_DIR/ctl" >"$T_DIR/file.log" 2>&1 &
pid=$!
on_exit "kill -KILL $pid 2>/dev/null"
exec 3>"$T_DIR/ctl"
# 5000 packets take well under a second; the bound is for a hang (CI's sanitized run on
# a loaded machine once printed nothing in 60 s).
for ((i = 0; i < 1800; i++)); do
	grep -q "Capture stopped" "$T_DIR/file.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
grep -q "Capture stopped" "$T_DIR/file.log" || {
	cat "$T_DIR/file.log" >&2
	fail "--max-packets did not stop the capture within $((i / 10)) s (sluice $(kill -0 "$pid" 2>/dev/null && echo running || echo gone))"
}
echo "show port stats 0" >&3
# EOF on stdin quits.
exec 3>&-
for ((i = 0; i < 600; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && { cat "$T_DIR/file.log" >&2; fail "EOF on stdin did not quit"; }
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T_DIR/file.log" >&2; fail "sluice exited with $rc"; }
for t in "Capture filter set: $FILTER_EXACT" "Command not found" "Capture started." \
	"Read CLI commands from $T_DIR/cmds" "RX-packets: 5000 " "(balanced)"; do
	grep -qF -- "$t" "$T_DIR/file.log" || { cat "$T_DIR/file.log" >&2; fail "no '$t'"; }
done

mapfile -t files3 < <(capture_files "$T_DIR/out3")
[ "${#files3[@]}" -ge 1 ] || fail "--cmdline-file run wrote no file"
check_files_clean "${files3[@]}"
tshark -r "$T_DIR/in2.pcap" -Y "udp.srcport == 1025" -F pcap -w "$T_DIR/sel.pcap" 2>/dev/null
kept=$("$PCAPDUMP" "$T_DIR/sel.pcap" | wc -l)
[ "$kept" -gt 0 ] || fail "no packet of flow 1025 in the input"
"$PCAPDUMP" "$T_DIR/sel.pcap" >"$T_DIR/sel.txt"
"$PCAPDUMP" "${files3[@]}" >"$T_DIR/out3.txt"
cmp -s "$T_DIR/sel.txt" "$T_DIR/out3.txt" ||
	fail "output is not the input's matching packets: $(diff "$T_DIR/sel.txt" "$T_DIR/out3.txt" | head -5)"
js="$T_DIR/stats3.json"
check_balanced "$js"
[ "$(json "$js" 'j["total"]["received"]')" -eq 5000 ] || fail "received != 5000"
[ "$(json "$js" 'j["total"]["written"]')" -eq "$kept" ] || fail "written != $kept"
[ "$(json "$js" 'j["total"]["filtered"]')" -eq $((5000 - kept)) ] ||
	fail "filtered != $((5000 - kept))"

note "missing --cmdline-file is an error message, not a crash"
rc=0
# shellcheck disable=SC2046
echo quit | timeout --kill-after=10 60 "$SLUICE" $(eal_args 2) \
	--vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap" -- -i --cmdline-file="$T_DIR/nope" \
	--dir="$T_DIR/out3" >"$T_DIR/nofile.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$T_DIR/nofile.log" >&2; fail "exit $rc with a missing command file"; }
grep -q "Cannot read commands from $T_DIR/nope: No such file or directory" "$T_DIR/nofile.log" ||
	{ cat "$T_DIR/nofile.log" >&2; fail "no message for a missing command file"; }
note "ok: ${#all[@]} interactive file(s), $kept of 5000 packets kept by '$FILTER_EXACT'"
