# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# The scenarios of the benchmark, sourced by bench.sh. Each scenario_NAME runs the cells
# of one run (one tool at one frame size each); every cell runs in a subshell of its own
# with "set -e", so that a failure ends that cell only, is recorded with its reason, and
# makes the benchmark exit non-zero at the end. A cell's numbers reach raw.csv only when
# the whole cell succeeded and its outputs were validated (perf.py extract).

# ---- cells -----------------------------------------------------------------------------

# cell SCENARIO TOOL FRAME FUNCTION [ARGS...]
cell() {
	local scen=$1 tool=$2 frame=$3 rc=0 reason
	shift 3
	CELL_SCEN=$scen CELL_TOOL=$tool CELL_FRAME=$frame
	CELL_DIR=$WORK/data/$scen-$tool-$frame
	CELL_LOG=$LOGS/r$RUN_NO-$scen-$tool-$frame
	CELL_ROWS=$WORK/cell.rows
	CELL_ERR=$WORK/cell.err
	: >"$CELL_ROWS"
	: >"$CELL_ERR"
	: >"$WORK/cell.pids"
	: >"$WORK/cell.prefixes"
	rm -rf "$CELL_DIR"
	mkdir -p "$CELL_DIR/out"
	if [[ $frame == - ]]; then say "  $tool"; else say "  $tool $frame B"; fi
	set +e
	(
		set -e
		trap cell_cleanup EXIT
		"$@"
	) 2> >(tee -a "$CELL_ERR" >&2)
	rc=$?
	set -e
	# The tee of the cell's stderr may still be writing.
	sleep 0.1
	rm -rf "$CELL_DIR"
	sync -f "$WORK" 2>/dev/null || true
	case $rc in
	0) cat "$CELL_ROWS" >>"$RAW" ;;
	77) ;;
	*)
		reason=$(grep -E '^FAILED: ' "$CELL_ERR" | tail -1 | sed 's/^FAILED: //')
		[[ -n $reason ]] || reason="exit status $rc: $(tail -n 2 "$CELL_ERR" | tr '\n' ' ')"
		status_row "$scen" "$tool" "$frame" error "$reason"
		FAILURES=$((FAILURES + 1))
		;;
	esac
	return 0
}

# Inside a cell: record and skip.
rec() { printf '%s,%s,%s,%s,%s,%s\n' "$RUN_NO" "$CELL_SCEN" "$CELL_TOOL" "$CELL_FRAME" \
	"$1" "$2" >>"$CELL_ROWS"; }

cell_skip() {
	skip "$CELL_SCEN" "$CELL_TOOL" "$CELL_FRAME" "$1"
	exit 77
}

# cell_note TEXT: something worth knowing about this cell that does not make its
# numbers wrong; listed under the table.
cell_note() {
	status_row "$CELL_SCEN" "$CELL_TOOL" "$CELL_FRAME" note "$1"
	say "    note: $1"
}

# extract KIND FILE [perf.py options]: validate a tool's output and record its numbers.
extract() {
	local metric value
	python3 "$HERE/perf.py" extract "$@" >"$WORK/extract.out" 2>"$WORK/extract.err" ||
		fail "$(cat "$WORK/extract.err")"
	while read -r metric value; do
		[[ -n $metric ]] && rec "$metric" "$value"
	done <"$WORK/extract.out"
}

# Memory of the sampled process (see sample_memory).
rec_memory() {
	local rss hwm huge
	[[ -s $1 ]] || return 0
	read -r rss hwm huge <"$1"
	rec rss_peak_mb "$(fcalc "$hwm / 1024")"
	rec hugepages_mb "$(fcalc "$huge / 1024")"
}

cell_cleanup() {
	local pid prefix
	while read -r pid; do
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null || true
		sleep 1
		kill -0 "$pid" 2>/dev/null && kill_tree "$pid"
	done <"$WORK/cell.pids"
	while read -r prefix; do
		dpdk_cleanup "$prefix"
	done <"$WORK/cell.prefixes"
	if ((NET_UP)); then
		kernel_addr_off
	fi
}

# Overrides lib.sh's launch: the cell also remembers what it started.
launch() {
	local log=$1 limit=$2
	shift 2
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1 &
	LAUNCHED=$!
	printf '%s\n' "$LAUNCHED" >>"$WORK/pids"
	printf '%s\n' "$LAUNCHED" >>"$WORK/cell.pids"
}

# launch_stdin INPUT LOG LIMIT_S CMD...: launch with standard input from INPUT.
launch_stdin() {
	local input=$1 log=$2 limit=$3
	shift 3
	timeout --kill-after=10 "$limit" "$@" <"$input" >"$log" 2>&1 &
	LAUNCHED=$!
	printf '%s\n' "$LAUNCHED" >>"$WORK/pids"
	printf '%s\n' "$LAUNCHED" >>"$WORK/cell.pids"
}

# A DPDK file prefix for this cell, cleaned up after it.
cell_prefix() {
	local p
	p=$(dpdk_prefix "$1")
	printf '%s\n' "$p" >>"$WORK/cell.prefixes"
	printf '%s\n' "$p"
}

# run_out STDOUT STDERR LIMIT CMD...: like run_bounded, stdout and stderr apart.
run_out() {
	local o=$1 e=$2 limit=$3 rc=0
	shift 3
	timeout --kill-after=10 "$limit" "$@" >"$o" 2>"$e" || rc=$?
	if ((rc == 124 || rc == 137)); then
		fail "${1##*/} ran into its time limit of $limit s (log: $e)"
	fi
	return "$rc"
}

# sluice_finish PID LOG: wait for a sluice run that stops by itself; fail unless exit 0.
sluice_finish() {
	local rc=0
	finish "$1" || rc=$?
	((rc == 0)) || fail "sluice exited with status $rc: $(tail -n 3 "$2" | tr '\n' ' ')"
}

# sluice_stop PID LOG: SIGTERM a sluice run; fail unless it exits 0.
sluice_stop() {
	local rc=0
	stop_launched "$1" 60 || rc=$?
	((rc == 0)) || fail "sluice exited with status $rc: $(tail -n 3 "$2" | tr '\n' ' ')"
}

# ---- inputs ----------------------------------------------------------------------------

FILESET_DESC=
prepare_inputs() {
	local i
	if selected capture-pcap && [[ -n $MKPCAP ]]; then
		local f n=16384
		((QUICK)) && n=4096
		for f in "${FRAMES[@]}"; do
			"$MKPCAP" -o "$WORK/in-$f.pcap" -n "$n" -s "$f" --flows 16 ||
				die "mkpcap failed"
		done
		PCAP_FRAMES=$n
	fi
	if selected veth-capture || selected file-veth; then
		command -v ip >/dev/null || die "iproute2 is missing"
		if ! net_setup >"$LOGS/net-setup.log" 2>&1; then
			net_teardown
			NET_ERROR="cannot create a namespace and veth pair here: $(tail -1 "$LOGS/net-setup.log")"
			warn "$NET_ERROR"
		else
			# Nothing but the benchmark's frames on the pair: no IPv6 chatter.
			in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
		fi
	fi
	if selected file-veth || selected file-dpdk; then
		local big=4 big_mb=256 small=2000
		if ((QUICK)); then
			big=2 big_mb=32 small=200
		fi
		SRC=$WORK/src
		mkdir -p "$SRC/big" "$SRC/small"
		say "Making the file set: $big x $big_mb MiB random + $small small files ..."
		for ((i = 0; i < big; i++)); do
			head -c $((big_mb << 20)) /dev/urandom >"$SRC/big/file-$i.bin"
		done
		# Small files of 1 B .. 64 KiB, sizes spread evenly, random bytes.
		python3 - "$SRC/small" "$small" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    size = 1 + (i * 7919) % 65536
    with open(os.path.join(d, f"s{i:05d}.dat"), "wb") as f:
        f.write(os.urandom(size))
EOF
		SRC_FILES=$(find "$SRC" -type f | wc -l)
		SRC_BYTES=$(tree_bytes "$SRC")
		FILESET_DESC="$big x $big_mb MiB + $small files of 1 B..64 KiB: $SRC_FILES files,"
		FILESET_DESC+=" $(printf '%.3f' "$(fcalc "$SRC_BYTES / 1e9")") GB"
		# Room for the time limit of a transfer: 10 MB/s at the very least.
		XFER_LIMIT=$((SRC_BYTES / 10000000 + 120))
	fi
	if selected file-dpdk; then
		# Large files only, for the streaming rate of file mode: 4 x 1 GiB.
		local n=4 mb=1024
		((QUICK)) && n=2 mb=128
		SRC_STREAM=$WORK/src-stream
		mkdir -p "$SRC_STREAM"
		say "Making the stream set: $n x $mb MiB random ..."
		for ((i = 0; i < n; i++)); do
			head -c $((mb << 20)) /dev/urandom >"$SRC_STREAM/stream-$i.bin"
		done
		FILESET_DESC+="${FILESET_DESC:+; }stream set (file-dpdk sluice-stream): $n x $mb MiB"
		local stream_limit=$((n * mb * 1048576 / 10000000 + 120))
		((${XFER_LIMIT:-0} > stream_limit)) || XFER_LIMIT=$stream_limit
	fi
}

# ---- fio: the disk ceiling -------------------------------------------------------------

scenario_fio() {
	if ! command -v fio >/dev/null; then
		skip fio fio - "fio is not installed"
		return 0
	fi
	cell fio fio - cell_fio
}

cell_fio() {
	local json=$CELL_LOG.json
	run_bounded "$CELL_LOG.log" $((DURATION + 180)) \
		fio --name=ceiling --filename="$CELL_DIR/out/fio.dat" --ioengine=io_uring \
		--rw=write --bs=1M --direct=1 --iodepth=32 --fixedbufs --registerfiles \
		--size="${FIO_SIZE_GB}G" --time_based --runtime="$DURATION" --end_fsync=1 \
		--output-format=json --output="$json" || fail "fio exited with status $?"
	extract fio "$json"
}

# ---- disk: sluice --perf-test=disk -----------------------------------------------------

scenario_disk() {
	if ! sluice_has -- '--perf-test'; then
		skip disk sluice - "this sluice has no --perf-test (not in the build yet)"
		return 0
	fi
	cell disk sluice - cell_disk
}

cell_disk() {
	local prefix json=$CELL_LOG.json pid left
	prefix=$(cell_prefix disk)
	launch "$CELL_LOG.log" $((DURATION + 120)) "$SLUICE" "--lcores=0@$CPU_A,1@$CPU_B" \
		--no-pci "--file-prefix=$prefix" -- --perf-test=disk "--duration=$DURATION" \
		"--dir=$CELL_DIR/out" --writer-lcores=1 "--stats-json=$json"
	pid=$LAUNCHED
	sample_memory "$(child_of "$pid")" "$CELL_DIR/mem"
	sluice_finish "$pid" "$CELL_LOG.log"
	extract sluice-disk "$json"
	rec_memory "$CELL_DIR/mem"
	left=$(find "$CELL_DIR/out" -type f | wc -l)
	((left == 0)) || fail "--perf-test=disk left $left file(s) in its --dir"
}

# ---- capture from net_null and net_pcap ------------------------------------------------

# cell_capture VDEV [sluice options...]: 1 RX + 1 writer lcore, --duration, pcapng.
cell_capture() {
	local vdev=$1 prefix json=$CELL_LOG.json pid
	shift
	prefix=$(cell_prefix "$CELL_SCEN-$CELL_FRAME")
	sluice_eal "$prefix"
	launch "$CELL_LOG.log" $((DURATION + 120)) "$SLUICE" "${EAL[@]}" \
		"--vdev=$vdev" -- --rx-lcores=1 --writer-lcores=2 "--dir=$CELL_DIR/out" \
		"--duration=$DURATION" "--stats-json=$json" "$@"
	pid=$LAUNCHED
	sample_memory "$(child_of "$pid")" "$CELL_DIR/mem"
	sluice_finish "$pid" "$CELL_LOG.log"
	extract sluice-capture "$json" --dir "$CELL_DIR/out"
	rec_memory "$CELL_DIR/mem"
}

scenario_capture_null() {
	local f
	for f in "${FRAMES[@]}"; do
		cell capture-null sluice "$f" cell_capture "net_null0,size=$f"
	done
}

scenario_capture_pcap() {
	local f
	for f in "${FRAMES[@]}"; do
		if [[ -z $MKPCAP ]]; then
			skip capture-pcap sluice "$f" "no mkpcap in $BUILD/tests/tools"
			continue
		fi
		# net_pcap holds the whole file in mbufs while it replays it.
		cell capture-pcap sluice "$f" cell_capture \
			"net_pcap0,rx_pcap=$WORK/in-$f.pcap,infinite_rx=1" \
			--mbufs=$((PCAP_FRAMES * 2 + 32768))
	done
}

# ---- dpdk-dumpcap attached to dpdk-testpmd ---------------------------------------------

scenario_dumpcap() {
	local f why=
	command -v dpdk-testpmd >/dev/null || why="dpdk-testpmd is not installed"
	command -v dpdk-dumpcap >/dev/null || why="dpdk-dumpcap is not installed"
	for f in "${FRAMES[@]}"; do
		if [[ -n $why ]]; then
			skip dumpcap dumpcap "$f" "$why"
			continue
		fi
		cell dumpcap dumpcap "$f" cell_dumpcap "$f"
	done
}

cell_dumpcap() {
	local f=$1 prefix tp file=$CELL_DIR/out/dumpcap.pcapng t_exit t_sync rc=0 preload=
	local lib fifo=$CELL_DIR/testpmd.stdin ctl
	prefix=$(cell_prefix "dumpcap-$f")
	# testpmd without a command line forwards until it reads a line on its standard
	# input: its clean way out (its SIGTERM handler sometimes crashes while a secondary
	# process detaches).
	mkfifo "$fifo"
	exec {ctl}<>"$fifo"
	# The same CPUs as sluice: the forwarding lcore (RX and the pdump copy) alone on
	# CPU B, testpmd's main lcore and dumpcap (the writer) on CPU A.
	launch_stdin "$fifo" "$CELL_LOG-testpmd.log" $((DURATION + 180)) stdbuf -oL dpdk-testpmd \
		"--lcores=0@$CPU_A,1@$CPU_B" --no-pci "--file-prefix=$prefix" \
		"--vdev=net_null0,size=$f" -- --forward-mode=rxonly --nb-cores=1
	tp=$LAUNCHED
	wait_for_log "$CELL_LOG-testpmd.log" "Press enter to exit" 60 "$tp" ||
		fail "dpdk-testpmd did not start: $(tail -n 3 "$CELL_LOG-testpmd.log" | tr '\n' ' ')"
	# Debian's dumpcap captures nothing from testpmd unless it loads the mempool driver
	# that testpmd links, so that both number their mempool ops alike.
	for lib in /usr/lib/*/librte_mempool_dpaa.so.23; do
		[[ -e $lib ]] && preload=$lib
	done
	run_bounded "$CELL_LOG.log" $((DURATION + 60)) env ${preload:+LD_PRELOAD=$preload} \
		taskset -c "$CPU_A" dpdk-dumpcap "--file-prefix=$prefix" -i net_null0 \
		-w "$file" -a "duration:$DURATION" || fail "dpdk-dumpcap exited with status $?"
	t_exit=$(now)
	[[ -f $file ]] || fail "dpdk-dumpcap wrote no file"
	sync "$file"
	t_sync=$(now)
	printf '\n' >&"$ctl"
	finish "$tp" || rc=$?
	exec {ctl}>&-
	if ((rc == 139)); then
		# dumpcap frees its mempool as it leaves while testpmd's RX callback may still
		# copy into it (a pdump race of DPDK 22.11): testpmd, not the measured dumpcap,
		# crashes after the capture is complete and its file written.
		cell_note "dpdk-testpmd crashed (SIGSEGV) as dpdk-dumpcap detached; dumpcap had finished"
	elif ((rc != 0)); then
		fail "dpdk-testpmd exited with status $rc"
	fi
	extract dumpcap "$CELL_LOG.log" --pcap "$file" \
		--elapsed "$(fcalc "$DURATION + $t_sync - $t_exit")"
}

# ---- veth capture: sluice, tcpdump and krecv on the same input --------------------------

scenario_veth_capture() {
	local f tool
	for f in "${FRAMES[@]}"; do
		for tool in sluice-af_packet sluice-af_xdp tcpdump krecv; do
			if [[ -n ${NET_ERROR:-} ]]; then
				skip veth-capture "$tool" "$f" "$NET_ERROR"
			elif [[ $tool == tcpdump ]] && ! command -v tcpdump >/dev/null; then
				skip veth-capture "$tool" "$f" "tcpdump is not installed"
			elif [[ $tool == sluice-af_xdp && -n ${AF_XDP_ERROR:-} ]]; then
				skip veth-capture "$tool" "$f" "$AF_XDP_ERROR"
			else
				cell veth-capture "$tool" "$f" cell_veth "$tool" "$f"
				if [[ $tool == sluice-af_xdp && -s $WORK/af_xdp.error ]]; then
					AF_XDP_ERROR=$(<"$WORK/af_xdp.error")
				fi
			fi
		done
	done
}

cell_veth() {
	local tool=$1 f=$2 prefix json=$CELL_LOG.json pid out=$CELL_DIR/out
	local t0 t1 rcvbuf0 rcvbuf1 sent elapsed vdev
	rcvbuf0=$(udp_rcvbuf_errors)
	case $tool in
	sluice-af_packet | sluice-af_xdp)
		prefix=$(cell_prefix "veth-$f")
		sluice_eal "$prefix"
		if [[ $tool == sluice-af_packet ]]; then
			# A deep PACKET_MMAP ring, as tcpdump gets a 256 MiB buffer.
			vdev="net_af_packet0,iface=$VH,qpairs=1,blocksz=4096,framesz=2048,framecnt=65536"
		else
			vdev="net_af_xdp0,iface=$VH,start_queue=0,queue_count=1"
		fi
		# One CPU per receiver, as tcpdump and krecv get: all of sluice's lcores on
		# CPU B, sleeping when idle so that RX and writer share it; the generator
		# keeps CPU A to itself.
		EAL[0]="--lcores=0@$CPU_B,1@$CPU_B,2@$CPU_B"
		launch "$CELL_LOG.log" $((DURATION + 120)) "$SLUICE" "${EAL[@]}" \
			"--vdev=$vdev" -- --rx-lcores=1 --writer-lcores=2 "--dir=$out" \
			--idle-sleep=50 "--stats-json=$json"
		pid=$LAUNCHED
		if ! wait_for_log "$CELL_LOG.log" "capture on" 60 "$pid"; then
			if [[ $tool == sluice-af_xdp ]]; then
				printf 'net_af_xdp does not open the veth here: %s\n' \
					"$(grep -m1 -iE 'error|fail|cannot' "$CELL_LOG.log" || echo '?')" \
					>"$WORK/af_xdp.error"
				cell_skip "$(<"$WORK/af_xdp.error")"
			fi
			fail "sluice did not start: $(tail -n 3 "$CELL_LOG.log" | tr '\n' ' ')"
		fi
		sample_memory "$(child_of "$pid")" "$CELL_DIR/mem"
		;;
	tcpdump)
		# -Q in: the frames from the generator only; -Z root: write where root can.
		launch "$CELL_LOG.log" $((DURATION + 120)) taskset -c "$CPU_B" tcpdump -i "$VH" \
			-Q in -n -s 0 -B 262144 -Z root -w "$out/tcpdump.pcap"
		pid=$LAUNCHED
		wait_for_log "$CELL_LOG.log" "listening on" 30 "$pid" ||
			fail "tcpdump did not start: $(tail -n 2 "$CELL_LOG.log" | tr '\n' ' ')"
		;;
	krecv)
		kernel_addr_on
		launch "$CELL_LOG.log" $((DURATION + 120)) taskset -c "$CPU_B" "$KRECV" \
			--bind "$KERNEL_IP" --port 9000 --output "$out/krecv.dat"
		pid=$LAUNCHED
		wait_for_log "$CELL_LOG.log" "krecv: ready" 30 "$pid" ||
			fail "krecv did not start: $(tail -n 2 "$CELL_LOG.log" | tr '\n' ' ')"
		;;
	esac
	sleep 0.5
	t0=$(now)
	# The generator alone on CPU A, where the kernel also does the veth's receive work.
	run_out "$CELL_DIR/kgen.json" "$CELL_LOG-kgen.log" $((DURATION + 30)) \
		ip netns exec "$NS" taskset -c "$CPU_A" "$KGEN" --iface "$VS" --dst-mac "$VH_MAC" \
		--src-ip "$PEER_IP" --dst-ip "$KERNEL_IP" --port 9000 --size "$f" \
		--seconds "$DURATION" || fail "kgen exited with status $?"
	cp "$CELL_DIR/kgen.json" "$CELL_LOG-kgen.json"
	sleep 0.5
	case $tool in
	sluice-*) sluice_stop "$pid" "$CELL_LOG.log" ;;
	*) stop_launched "$pid" 30 || fail "$tool exited with status $?" ;;
	esac
	case $tool in
	tcpdump) sync "$out/tcpdump.pcap" ;;
	esac
	t1=$(now)
	elapsed=$(fcalc "$t1 - $t0")
	rcvbuf1=$(udp_rcvbuf_errors)
	sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' \
		"$CELL_DIR/kgen.json")
	extract kgen "$CELL_DIR/kgen.json"
	case $tool in
	sluice-*)
		extract sluice-capture "$json" --dir "$out" --elapsed "$elapsed" --offered "$sent"
		rec_memory "$CELL_DIR/mem"
		;;
	tcpdump)
		extract tcpdump "$CELL_LOG.log" --pcap "$out/tcpdump.pcap" --elapsed "$elapsed" \
			--offered "$sent"
		;;
	krecv)
		grep '^{' "$CELL_LOG.log" >"$CELL_DIR/krecv.json" || fail "krecv printed no summary"
		extract krecv "$CELL_DIR/krecv.json" --elapsed "$elapsed" --offered "$sent" \
			--rcvbuf-errors $((rcvbuf1 - rcvbuf0))
		;;
	esac
}

# UDP datagrams the kernel dropped for a full socket buffer (root namespace).
udp_rcvbuf_errors() {
	awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["RcvbufErrors"] }' /proc/net/snmp
}

# ---- file mode over the veth: sluice-send -> sluice, uftp -> uftpd, socat --------------

scenario_file_veth() {
	local tool
	for tool in sluice uftp socat; do
		if [[ -n ${NET_ERROR:-} ]]; then
			skip file-veth "$tool" - "$NET_ERROR"
		elif [[ $tool == uftp ]] && ! command -v uftp >/dev/null; then
			skip file-veth uftp - "uftp is not installed"
		elif [[ $tool == uftp ]] && ! command -v uftpd >/dev/null; then
			skip file-veth uftp - "uftpd is not installed"
		elif [[ $tool == socat ]] && ! command -v socat >/dev/null; then
			skip file-veth socat - "socat is not installed"
		else
			cell file-veth "$tool" - "cell_file_$tool"
		fi
	done
}

# verify_and_record T0 T1 DIR: the received tree must equal the source; then the rate.
verify_and_record() {
	local t0=$1 t1=$2 dst=$3
	same_tree "$SRC" "$dst" "$CELL_TOOL" ||
		fail "the files received by $CELL_TOOL differ from the originals"
	extract transfer - --elapsed "$(fcalc "$t1 - $t0")" --bytes "$SRC_BYTES"
}

cell_file_sluice() {
	local prefix json=$CELL_LOG.json pid t0 t1 i rc=0
	kernel_addr_off
	prefix=$(cell_prefix file-veth)
	sluice_eal "$prefix"
	launch "$CELL_LOG.log" $((XFER_LIMIT + 120)) "$SLUICE" "${EAL[@]}" \
		"--vdev=net_af_packet0,iface=$VH,qpairs=3" -- --mode=file \
		"--ip=$SLUICE_IP/24" "--dir=$CELL_DIR/out" --rx-lcores=1 --writer-lcores=2 \
		--idle-sleep=50 "--stats-json=$json"
	pid=$LAUNCHED
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null ||
			fail "sluice exited at start: $(tail -n 3 "$CELL_LOG.log" | tr '\n' ' ')"
		in_ns ping -c 1 -W 0.2 "$SLUICE_IP" >/dev/null 2>&1 && break
		sleep 0.1
	done
	((i < 300)) || fail "sluice does not answer ping on $SLUICE_IP"
	sample_memory "$(child_of "$pid")" "$CELL_DIR/mem"
	t0=$(now)
	# sluice-send exits 0 only once every file is durable and published on sluice.
	run_out "$CELL_DIR/send.json" "$CELL_LOG-send.log" "$XFER_LIMIT" \
		ip netns exec "$NS" "$SENDER" --json "$SLUICE_IP" "$SRC/big" "$SRC/small" || rc=$?
	t1=$(now)
	((rc == 0)) || fail "sluice-send exited with status $rc: $(tail -n 2 "$CELL_LOG-send.log")"
	cp "$CELL_DIR/send.json" "$CELL_LOG-send.json"
	sluice_stop "$pid" "$CELL_LOG.log"
	extract sluice-file "$json" --files "$SRC_FILES"
	extract sender "$CELL_DIR/send.json" --files "$SRC_FILES" --bytes "$SRC_BYTES"
	rec_memory "$CELL_DIR/mem"
	verify_and_record "$t0" "$t1" "$CELL_DIR/out"
}

cell_file_uftp() {
	local pid t0 t1 rc=0 i
	kernel_addr_on
	# uftpd: foreground (-d), into the ingest directory, the largest socket buffer.
	launch "$CELL_LOG-uftpd.log" $((XFER_LIMIT + 120)) uftpd -d -D "$CELL_DIR/out" \
		-B 104857600 -x 1
	pid=$LAUNCHED
	for ((i = 0; i < 100; i++)); do
		ss -uln 2>/dev/null | grep -q ':1044 ' && break
		kill -0 "$pid" 2>/dev/null || fail "uftpd exited: $(tail -n 2 "$CELL_LOG-uftpd.log")"
		sleep 0.1
	done
	t0=$(now)
	# Unicast to uftpd (-M), unencrypted, the largest buffer, blocks that fill a
	# 1500 B MTU, and the rate that measured best here (UFTP_RATE, see docs).
	run_bounded "$CELL_LOG.log" "$XFER_LIMIT" ip netns exec "$NS" uftp -M "$KERNEL_IP" \
		-Y none -B 104857600 -b 1400 "${UFTP_RATE_ARGS[@]}" -x 1 \
		-S "$CELL_DIR/uftp-status.txt" "$SRC/big" "$SRC/small" || rc=$?
	((rc == 0)) || fail "uftp exited with status $rc: $(tail -n 2 "$CELL_LOG.log")"
	# uftpd writes through the page cache: made durable before the clock stops.
	sync_tree "$CELL_DIR/out"
	t1=$(now)
	cp "$CELL_DIR/uftp-status.txt" "$CELL_LOG-status.txt" 2>/dev/null || true
	stop_launched "$pid" 30 || true
	verify_and_record "$t0" "$t1" "$CELL_DIR/out"
}

# uftp's rate: -R -1 is "as fast as the interface takes"; the benchmark's default.
UFTP_RATE_ARGS=(-R -1)

cell_file_socat() {
	local pid t0 t1 rc=0 i port=7410
	kernel_addr_on
	# shellcheck disable=SC2016 # expanded by the inner bash
	launch "$CELL_LOG-recv.log" $((XFER_LIMIT + 60)) bash -c \
		'socat -u -b 1048576 "TCP-LISTEN:$1,bind=$2,reuseaddr" STDOUT | tar -C "$3" -xf -' \
		_ "$port" "$KERNEL_IP" "$CELL_DIR/out"
	pid=$LAUNCHED
	for ((i = 0; i < 100; i++)); do
		ss -tln 2>/dev/null | grep -q "$KERNEL_IP:$port " && break
		kill -0 "$pid" 2>/dev/null || fail "socat exited: $(tail -n 2 "$CELL_LOG-recv.log")"
		sleep 0.1
	done
	t0=$(now)
	# shellcheck disable=SC2016 # expanded by the inner bash
	run_bounded "$CELL_LOG.log" "$XFER_LIMIT" ip netns exec "$NS" bash -c \
		'tar -C "$1" -cf - big small | socat -u -b 1048576 STDIN "TCP:$2:$3"' \
		_ "$SRC" "$KERNEL_IP" "$port" || rc=$?
	((rc == 0)) || fail "tar | socat exited with status $rc: $(tail -n 2 "$CELL_LOG.log")"
	finish "$pid" || fail "socat | tar exited with status $?: $(tail -n 2 "$CELL_LOG-recv.log")"
	sync_tree "$CELL_DIR/out"
	t1=$(now)
	verify_and_record "$t0" "$t1" "$CELL_DIR/out"
}

# ---- file mode from the DPDK sender over net_memif --------------------------------------

scenario_file_dpdk() {
	local tool
	for tool in sluice sluice-stream; do
		if ! sender_has -- '--dpdk'; then
			skip file-dpdk "$tool" - "this sluice-send has no --dpdk mode (not in the build yet)"
		elif [[ $tool == sluice ]]; then
			cell file-dpdk "$tool" - cell_file_dpdk "$SRC" big small
		else
			cell file-dpdk "$tool" - cell_file_dpdk "$SRC_STREAM" .
		fi
	done
}

# cell_file_dpdk ROOT ENTRY...: send ROOT/ENTRY... from sluice-send --dpdk over memif.
cell_file_dpdk() {
	local root=$1 prefix sprefix json=$CELL_LOG.json pid t0 t1 rc=0 files bytes e
	local sock=$WORK/memif.sock net=10.204.$((($$ % 200) + 20)) sources=()
	shift
	for e in "$@"; do
		if [[ $e == . ]]; then
			sources+=("$root"/*)
		else
			sources+=("$root/$e")
		fi
	done
	files=$(find "${sources[@]}" -type f | wc -l)
	bytes=$(find "${sources[@]}" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')
	prefix=$(cell_prefix file-dpdk)
	sluice_eal "$prefix"
	sprefix=$(cell_prefix file-dpdk-send)
	rm -f "$sock"
	launch "$CELL_LOG.log" $((XFER_LIMIT + 120)) "$SLUICE" "${EAL[@]}" \
		"--vdev=net_memif0,role=server,socket=$sock" -- --mode=file "--ip=$net.1/24" \
		"--dir=$CELL_DIR/out" --rx-lcores=1 --writer-lcores=2 --idle-sleep=20 \
		"--stats-json=$json"
	pid=$LAUNCHED
	wait_for_log "$CELL_LOG.log" "file mode on" 60 "$pid" ||
		fail "sluice did not start: $(tail -n 3 "$CELL_LOG.log" | tr '\n' ' ')"
	sample_memory "$(child_of "$pid")" "$CELL_DIR/mem"
	t0=$(now)
	# The sender's lcore on CPU B with sluice's RX lcore; both sleep when idle.
	run_out "$CELL_DIR/send.json" "$CELL_LOG-send.log" "$XFER_LIMIT" \
		"$SENDER" --dpdk "--lcores=0@$CPU_B" --no-pci "--file-prefix=$sprefix" \
		"--vdev=net_memif0,role=client,socket=$sock" -- --json "--src-ip=$net.2/24" \
		--idle-sleep=20 "$net.1" "${sources[@]}" || rc=$?
	t1=$(now)
	((rc == 0)) ||
		fail "sluice-send --dpdk exited with status $rc: $(tail -n 2 "$CELL_LOG-send.log")"
	cp "$CELL_DIR/send.json" "$CELL_LOG-send.json"
	sluice_stop "$pid" "$CELL_LOG.log"
	extract sluice-file "$json" --files "$files"
	extract sender "$CELL_DIR/send.json" --files "$files" --bytes "$bytes"
	rec_memory "$CELL_DIR/mem"
	if [[ $root == "$SRC" ]]; then
		same_tree "$SRC" "$CELL_DIR/out" "$CELL_TOOL" ||
			fail "the files received by $CELL_TOOL differ from the originals"
	else
		same_tree "$root" "$CELL_DIR/out" "$CELL_TOOL" ||
			fail "the files received by $CELL_TOOL differ from the originals"
	fi
	extract transfer - --elapsed "$(fcalc "$t1 - $t0")" --bytes "$bytes"
}

# ---- soak: memory of a long capture ----------------------------------------------------

scenario_soak() {
	cell soak sluice 1500 cell_soak
}

cell_soak() {
	local prefix json=$CELL_LOG.json pid spid janitor t0 t seconds=$((SOAK_MINUTES * 60))
	local csv=$OUT/soak.csv rss huge sys
	prefix=$(cell_prefix soak)
	sluice_eal "$prefix"
	# Small files, so that rotation (open, fallocate, finish, rename) repeats thousands
	# of times; finished files are deleted as they appear, so the disk never fills.
	launch "$CELL_LOG.log" $((seconds + 180)) "$SLUICE" "${EAL[@]}" \
		"--vdev=net_null0,size=1500" -- --rx-lcores=1 --writer-lcores=2 \
		"--dir=$CELL_DIR/out" "--duration=$seconds" --rotate-size=256M \
		"--stats-json=$json"
	pid=$LAUNCHED
	spid=$(child_of "$pid")
	wait_for_log "$CELL_LOG.log" "capture on" 60 "$pid" ||
		fail "sluice did not start: $(tail -n 3 "$CELL_LOG.log" | tr '\n' ' ')"
	(
		while kill -0 "$pid" 2>/dev/null; do
			find "$CELL_DIR/out" -maxdepth 1 -type f -name '*.pcapng' -delete 2>/dev/null
			sleep 2
		done
	) &
	janitor=$!
	printf 't_s,rss_mb,hugetlb_mb,sys_huge_used_mb\n' >"$csv"
	t0=$(now)
	# Few processes per sample: sluice busy-polls both CPUs during the soak.
	while kill -0 "$spid" 2>/dev/null; do
		read -r rss huge sys < <(awk '/^VmRSS:/ { r = $2 } /^HugetlbPages:/ { h = $2 }
			END { print r + 0, h + 0 }' "/proc/$spid/status" 2>/dev/null || echo "0 0"
		)
		sys=$(awk '/^HugePages_Total:/ { t = $2 } /^HugePages_Free:/ { f = $2 }
			/^Hugepagesize:/ { s = $2 } END { print (t - f) * s / 1024 }' /proc/meminfo)
		t=$(now)
		((rss > 0)) && printf '%s\n' "$(python3 -c 'import sys; a = sys.argv
print(f"{float(a[1]) - float(a[2]):.1f},{int(a[3]) / 1024:.1f},{int(a[4]) / 1024:.1f},{a[5]}")' \
			"$t" "$t0" "$rss" "$huge" "$sys")" >>"$csv"
		# Ten seconds, or less if sluice ends first.
		timeout 10 tail --pid="$spid" -s 0.5 -f /dev/null || true
	done
	sluice_finish "$pid" "$CELL_LOG.log"
	kill "$janitor" 2>/dev/null || true
	wait "$janitor" 2>/dev/null || true
	extract sluice-capture "$json"
}
