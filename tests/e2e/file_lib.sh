# SPDX-License-Identifier: BSD-3-Clause
# Helpers for the file-mode end-to-end tests, sourced after lib.sh.
#
# Topology, created by each test and torn down on exit:
#
#   [ sluice: net_af_packet (or net_af_xdp) on veth "slh<pid>" ]  <->
#   [ netns "sl-<test>-<pid>": veth "sls<pid>" 10.77.N.2/24, fd77:N::2/64,
#     sluice-send on the kernel stack ]
#
# The host end carries no address: the kernel never answers for sluice's
# addresses, sluice does (ARP, NDP, echo) from user space.

: "${SENDER:?}"

NS=""
VH=""
VS=""
SUBNET=$((($$ % 200) + 20))
SLUICE_IP=10.77.$SUBNET.1
SENDER_IP=10.77.$SUBNET.2
SLUICE_IP6=fd77:$SUBNET::1
SENDER_IP6=fd77:$SUBNET::2
SLUICE_PID=""
OUT=""

need_root_net() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
	command -v ip >/dev/null || skip "needs iproute2"
	command -v ethtool >/dev/null || skip "needs ethtool"
	ip netns add "sl-probe-$$" 2>/dev/null || skip "cannot create network namespaces here"
	ip netns del "sl-probe-$$"
}

# ns_setup: the veth pair and the sender's namespace.
ns_setup() {
	need_root_net
	NS="sl-$T_NAME-$$"
	VH="slh$$"
	VS="sls$$"
	ip netns add "$NS"
	on_exit "ip netns del $NS"
	ip link add "$VH" type veth peer name "$VS"
	on_exit "ip link del $VH"
	ip link set "$VS" netns "$NS"
	# The kernel must not speak for the host end (no IPv6 autoconf either).
	sysctl -qw "net.ipv6.conf.$VH.disable_ipv6=1" || true
	ip link set "$VH" up
	# The sender computes its checksums and segments in software: a veth
	# would otherwise hand sluice partial checksums and unsegmented GSO
	# packets, which no real wire carries.
	ip netns exec "$NS" ethtool -K "$VS" tx off gso off tso off >/dev/null 2>&1 || true
	ethtool -K "$VH" rx off gro off >/dev/null 2>&1 || true
	ip -n "$NS" link set lo up
	ip -n "$NS" addr add "$SENDER_IP/24" dev "$VS"
	ip -n "$NS" addr add "$SENDER_IP6/64" dev "$VS" nodad
	ip -n "$NS" link set "$VS" up
}

# netem_set ARGS...: impairments on the sender's egress (e.g. "loss 2%").
netem_set() {
	ip netns exec "$NS" tc qdisc replace dev "$VS" root netem "$@"
}

netem_clear() {
	ip netns exec "$NS" tc qdisc del dev "$VS" root 2>/dev/null || true
}

# start_sluice WORKERS [app args...]: file mode on the host end, in the
# background; waits until it answers ping. $OUT is the output directory.
start_sluice() {
	local workers=$1 driver=${SL_DRIVER:-af_packet} vdev
	shift
	OUT=${OUT:-$T_DIR/out}
	mkdir -p "$OUT"
	case "$driver" in
	af_packet) vdev="net_af_packet0,iface=$VH,qpairs=$((workers + 1))" ;;
	af_xdp) vdev="net_af_xdp0,iface=$VH,start_queue=0,queue_count=1" ;;
	esac
	# shellcheck disable=SC2046
	"$SLUICE" $(eal_args "$workers") --vdev="$vdev" -- --mode=file \
		--ip="$SLUICE_IP/24" --ip="$SLUICE_IP6/64" --dir="$OUT" \
		--stats-json="$T_DIR/stats.json" --idle-sleep=50 "$@" \
		>>"$T_DIR/sluice.log" 2>&1 &
	SLUICE_PID=$!
	on_exit "kill -KILL $SLUICE_PID 2>/dev/null"
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SLUICE_PID" 2>/dev/null || {
			cat "$T_DIR/sluice.log" >&2
			[ "$driver" != af_xdp ] || ! grep -q "no Ethernet port" "$T_DIR/sluice.log" ||
				skip "net_af_xdp cannot open $VH here"
			fail "sluice exited at start"
		}
		if ip netns exec "$NS" ping -c 1 -W 0.2 "$SLUICE_IP" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	cat "$T_DIR/sluice.log" >&2
	fail "sluice does not answer ping on $SLUICE_IP"
}

# stop_sluice: SIGINT, wait; returns sluice's exit status.
stop_sluice() {
	local rc=0 i
	kill -INT "$SLUICE_PID" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$SLUICE_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$SLUICE_PID" 2>/dev/null && {
		cat "$T_DIR/sluice.log" >&2
		fail "sluice did not stop within 30 s of SIGINT"
	}
	wait "$SLUICE_PID" || rc=$?
	SLUICE_PID=""
	return "$rc"
}

# send [sluice-send args...]: run the sender in the namespace, bounded in time.
# Output: $T_DIR/send.json (with --json) and $T_DIR/send.log.
send() {
	local rc=0
	ip netns exec "$NS" timeout --kill-after=5 "${SEND_LIMIT:-120}" "$SENDER" "$@" \
		>"$T_DIR/send.json" 2>"$T_DIR/send.log" || rc=$?
	[ "$rc" -ne 124 ] || fail "sluice-send did not finish within ${SEND_LIMIT:-120} s"
	return "$rc"
}

# mkfile PATH SIZE: a file of SIZE random bytes.
mkfile() {
	mkdir -p "$(dirname "$1")"
	head -c "$2" /dev/urandom >"$1"
}

# same_tree SRC DST: every file of SRC is in DST with identical bytes.
same_tree() {
	local src=$1 dst=$2
	(cd "$src" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) >"$T_DIR/a.sum"
	(cd "$dst" && find . -path ./.sluice -prune -o -type f -print0 | sort -z |
		xargs -0 -r sha256sum) >"$T_DIR/b.sum"
	diff -u "$T_DIR/a.sum" "$T_DIR/b.sum" >&2 || fail "$dst differs from $src"
}

# staging_empty: nothing left half-written in the staging area.
staging_empty() {
	local left
	left=$(find "$OUT/.sluice/staging" -type f 2>/dev/null | head -5)
	[ -z "$left" ] || fail "staging not empty: $left"
}

# send_status NAME: the status sluice-send reported for NAME in send.json.
send_status() {
	json "$T_DIR/send.json" "[f['status'] for f in j['files'] if f['name'] == '$1'][0]"
}
