# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Helpers of the benchmark, sourced by bench.sh: logging, bounded processes, results,
# DPDK runtime files, the veth pair and its namespace. Globals set by bench.sh:
#   OUT (results), WORK (scratch under --dir), RAW (raw.csv), STATUS (status.csv),
#   LOGS (per-process logs), CPU_A and CPU_B (the two CPUs used), RUN_ID.

# ---- messages --------------------------------------------------------------------------

say() { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# A scenario step failed: the message goes to stderr and the scenario's subshell exits
# non-zero; bench.sh records the error and the run fails at the end.
fail() {
	printf 'FAILED: %s\n' "$*" >&2
	exit 1
}

# Seconds since the epoch with microseconds.
now() { printf '%s\n' "$EPOCHREALTIME"; }

# Floating point arithmetic: fcalc EXPR.
fcalc() { python3 -c "import sys; print(f'{eval(sys.argv[1]):.6f}')" "$1"; }

# ---- results ---------------------------------------------------------------------------

# status_row SCENARIO TOOL FRAME skipped|error REASON
status_row() {
	local reason=${5//,/;}
	printf '%s,%s,%s,%s,%s,%s\n' "$RUN_NO" "$1" "$2" "$3" "$4" "${reason//$'\n'/ }" \
		>>"$STATUS"
}

# skip SCENARIO TOOL FRAME REASON: a cell that cannot run here, said once per run.
skip() {
	status_row "$1" "$2" "$3" skipped "$4"
	local what=$2
	[[ $3 == - ]] || what+=" $3 B"
	say "  $what: skipped ($4)"
}

# ---- bounded processes -----------------------------------------------------------------

# Every process of the benchmark runs under timeout(1) and is stopped with SIGTERM, which
# timeout forwards: a background job of a non-interactive shell ignores SIGINT, so SIGINT
# would be lost. sluice, tcpdump, testpmd, uftpd and krecv all stop cleanly on SIGTERM.
# The PIDs of the timeout processes are kept in $WORK/pids so that the exit trap can end
# whatever a failed scenario left running.

# finish PID: wait for a launched process; prints nothing, returns its status, and fails
# the scenario if it ran into its time limit.
finish() {
	local rc=0
	wait "$1" || rc=$?
	if ((rc == 124 || rc == 137)); then
		fail "process $1 ran into its time limit (status $rc)"
	fi
	return "$rc"
}

# stop_launched PID [GRACE_S]: SIGTERM, then wait up to GRACE_S (default 30) seconds
# before SIGKILL; returns the exit status of the process.
stop_launched() {
	local pid=$1 grace=${2:-30} i rc=0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill_tree "$pid"
		wait "$pid" 2>/dev/null || true
		fail "process $pid did not stop within $grace s of SIGTERM"
	fi
	wait "$pid" || rc=$?
	return "$rc"
}

# kill_tree PID: SIGKILL a launched timeout process and its direct children.
kill_tree() {
	local child
	for child in $(pgrep -P "$1" 2>/dev/null); do
		kill -KILL "$child" 2>/dev/null || true
	done
	kill -KILL "$1" 2>/dev/null || true
}

# The PID of the program that a launched timeout process runs (its child).
child_of() {
	local i pid
	for ((i = 0; i < 50; i++)); do
		pid=$(pgrep -P "$1" 2>/dev/null | head -1) || true
		[[ -n $pid ]] && {
			printf '%s\n' "$pid"
			return 0
		}
		sleep 0.02
	done
	return 1
}

# run_bounded LOG LIMIT_S CMD...: run CMD in the foreground under a time limit; returns
# its status, fails the scenario if the limit was hit.
run_bounded() {
	local log=$1 limit=$2 rc=0
	shift 2
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1 || rc=$?
	if ((rc == 124 || rc == 137)); then
		fail "${1##*/} ran into its time limit of $limit s (log: $log)"
	fi
	return "$rc"
}

# wait_for_log LOG REGEX TIMEOUT_S PID: wait until LOG matches or PID dies.
wait_for_log() {
	local log=$1 re=$2 limit=$3 pid=$4 i
	for ((i = 0; i < limit * 10; i++)); do
		grep -qE "$re" "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Memory of a running process: sample_memory PID FILE writes "rss_kb peak_rss_kb
# peak_hugetlb_kb" to FILE every 0.5 s while PID lives, in the background; the sampler
# ends with the process.
sample_memory() {
	local pid=$1 file=$2
	(
		max_huge=0
		while [[ -r /proc/$pid/status ]]; do
			read -r rss hwm huge < <(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 }
				/^HugetlbPages:/ { g = $2 } END { print r + 0, h + 0, g + 0 }' \
				"/proc/$pid/status" 2>/dev/null || echo "0 0 0")
			((huge > max_huge)) && max_huge=$huge
			((hwm > 0)) && printf '%s %s %s\n' "$rss" "$hwm" "$max_huge" >"$file"
			sleep 0.5
		done
	) &
}

# ---- DPDK ------------------------------------------------------------------------------

# A file prefix of our own per process, and removal of what EAL leaves behind under it
# (runtime directory, hugepage files when a process was killed).
dpdk_prefix() { printf 'slbench%s-%s\n' "$$" "$1"; }

dpdk_cleanup() {
	local prefix=$1 mnt
	[[ $prefix == slbench* ]] || return 0
	rm -rf "/var/run/dpdk/$prefix"
	while read -r mnt; do
		rm -f "$mnt/$prefix"map_* 2>/dev/null || true
	done < <(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts)
}

# The EAL arguments of every sluice run of a comparison: two CPUs, main lcore 0 sharing
# CPU A with the writer (lcore 2), the RX lcore 1 alone on CPU B, hugepages, no PCI.
# Sets the array EAL.
sluice_eal() {
	# shellcheck disable=SC2034 # used by scenarios.sh
	EAL=("--lcores=0@$CPU_A,1@$CPU_B,2@$CPU_A" --no-pci "--file-prefix=$1")
}

# sluice_has OPTION: the sluice binary knows OPTION (from its -h text).
sluice_has() { grep -qe "$1" "$WORK/sluice-help.txt"; }
sender_has() { grep -qe "$1" "$WORK/sender-help.txt"; }

# Sum of the sizes of the regular files under DIR (bytes).
tree_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# fsync every file and directory under DIR: how a receiver that writes through the page
# cache is made as durable as sluice's files before its clock stops.
sync_tree() {
	find "$1" -type f -print0 | xargs -0 -r sync --
	find "$1" -type d -print0 | xargs -0 -r sync --
}

# same_tree SRC DST: every file of SRC is in DST with the same bytes (SHA-256).
same_tree() {
	local src=$1 dst=$2 tag=$3
	(cd "$src" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) \
		>"$WORK/$tag-a.sum"
	(cd "$dst" && find . -path ./.sluice -prune -o -type f -print0 | sort -z |
		xargs -0 -r sha256sum) >"$WORK/$tag-b.sum"
	cmp -s "$WORK/$tag-a.sum" "$WORK/$tag-b.sum"
}

# ---- the veth pair ---------------------------------------------------------------------
#
#   root namespace: veth $VH (MAC $VH_MAC), no address while sluice owns it;
#                   $KERNEL_IP added for the kernel receivers (krecv, uftpd, socat)
#   namespace $NS:  veth $VS, $PEER_IP, the senders (kgen, sluice-send, uftp, socat, tar)
# sluice answers for $SLUICE_IP itself (ARP, ping) from user space.

NET_UP=0

net_setup() {
	local subnet=$((($$ % 200) + 20))
	NS=slbench-$$
	VH=sbh$$
	VS=sbs$$
	# shellcheck disable=SC2034 # used by scenarios.sh
	SLUICE_IP=10.203.$subnet.1
	PEER_IP=10.203.$subnet.2
	KERNEL_IP=10.203.$subnet.3
	ip netns add "$NS" || return 1
	NET_UP=1
	ip link add "$VH" type veth peer name "$VS" || return 1
	ip link set "$VS" netns "$NS"
	sysctl -qw "net.ipv6.conf.$VH.disable_ipv6=1" || true
	# No forwarding of what is addressed to sluice back out of the same veth.
	sysctl -qw "net.ipv4.conf.$VH.forwarding=0" || true
	ip link set "$VH" up
	# As in tests/e2e/file_lib.sh: the sender side checksums and segments in software, so
	# sluice never gets partial checksums or GSO super-frames that no wire would carry.
	ip netns exec "$NS" ethtool -K "$VS" tx off gso off tso off >/dev/null 2>&1 || true
	ethtool -K "$VH" rx off gro off >/dev/null 2>&1 || true
	ip -n "$NS" link set lo up
	ip -n "$NS" addr add "$PEER_IP/24" dev "$VS"
	ip -n "$NS" link set "$VS" up
	# shellcheck disable=SC2034 # used by scenarios.sh
	VH_MAC=$(<"/sys/class/net/$VH/address")
}

net_teardown() {
	((NET_UP)) || return 0
	ip netns del "$NS" 2>/dev/null || true
	ip link del "$VH" 2>/dev/null || true
	NET_UP=0
}

kernel_addr_on() {
	ip addr add "$KERNEL_IP/24" dev "$VH" 2>/dev/null || true
	ip -n "$NS" neigh flush all 2>/dev/null || true
}

kernel_addr_off() {
	ip addr del "$KERNEL_IP/24" dev "$VH" 2>/dev/null || true
	ip -n "$NS" neigh flush all 2>/dev/null || true
}

# in_ns CMD...: run CMD in the senders' namespace.
in_ns() { ip netns exec "$NS" "$@"; }
