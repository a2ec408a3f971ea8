#!/usr/bin/env bash
# Sets up, builds, tests and demonstrates sluice on Debian 12. Run "./dpdk-setup.sh help".
set -euo pipefail

# Everything sluice needs to build, test and run; add new packages here.
PACKAGES=(
	build-essential pkg-config meson ninja-build
	libdpdk-dev dpdk dpdk-dev liburing-dev libnuma-dev libcmocka-dev libpcap-dev
	libssl-dev tshark python3 iproute2 ethtool iputils-ping arping tmux e2fsprogs util-linux kmod pciutils procps
)

HUGEPAGE_DEFAULT_SIZE=512M
HUGEPAGE_DEFAULT_KB=2048
HUGETLBFS_MOUNT=/dev/hugepages

DEMO_FRAMES=20000
DEMO_SECONDS=5

# Set by configure_build(); every command that builds or runs sluice uses them.
BUILD_DIR=
MESON_OPTIONS=()

# Where the script was started from; it works from the top of the tree.
CALLER_DIR=$PWD

usage() {
	cat <<EOF
Usage: ./dpdk-setup.sh COMMAND [ARGS]

Commands:
  deps                      install the Debian 12 packages sluice needs (skipped when all are present)
  build [--debug] [--sanitize]
                            configure and build with meson/ninja; prints the path of the binary
  hugepages [SIZE]          reserve SIZE of 2 MiB hugepages (default $HUGEPAGE_DEFAULT_SIZE; K/M/G suffixes,
                            bare number = bytes) and mount hugetlbfs at $HUGETLBFS_MOUNT; never shrinks
  status [--dir DIR]        show hugepages, NICs and drivers, CPUs, NUMA, io_uring, build state,
                            and free space in DIR (default: current directory)
  demo                      deps + build + hugepages, then capture a generated pcap replayed through
                            the net_pcap virtual device for $DEMO_SECONDS s; no NIC needed
  test [--suite NAME]... [--sanitize]
                            deps + build + hugepages, then run the unit and e2e test suites
  help, --help              show this text

Environment:
  SL_BUILD_DIR   build directory, relative to the top of the tree
                 (default: build, or build-san with --sanitize)
  SL_DEMO_DIR    demo work directory (default: /tmp/sluice-demo)

Run as root, or as a user with sudo: deps and hugepages change the system.
EOF
}

info() {
	printf '%s\n' "$*"
}

warn() {
	printf 'warning: %s\n' "$*" >&2
}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

usage_error() {
	printf 'error: %s\n\n' "$*" >&2
	usage >&2
	exit 2
}

as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo -- "$@"
	else
		die "'$*' needs root: run this script as root or install sudo"
	fi
}

missing_packages() {
	local installed
	# dpkg-query fails when any name is unknown to dpkg; those are simply missing.
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" \
		2>/dev/null | awk '$2 == "installed" { print $1 }') || true
	local pkg
	for pkg in "${PACKAGES[@]}"; do
		grep -qxF "$pkg" <<<"$installed" || printf '%s\n' "$pkg"
	done
}

install_deps() {
	local missing
	missing=$(missing_packages)
	if [[ -z $missing ]]; then
		info "All ${#PACKAGES[@]} required packages are installed."
		return 0
	fi
	info "Installing: ${missing//$'\n'/ }"
	as_root apt-get update
	# shellcheck disable=SC2086 # one package per word
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends $missing
}

# Sets BUILD_DIR and the meson options for a build variant.
# Usage: configure_build DEBUG SANITIZE  (each 0 or 1)
configure_build() {
	local debug=$1 sanitize=$2
	local buildtype=release

	[[ $debug -eq 1 ]] && buildtype=debug
	MESON_OPTIONS=(-Dtests=enabled "-Dbuildtype=$buildtype")
	if [[ $sanitize -eq 1 ]]; then
		BUILD_DIR=${SL_BUILD_DIR:-build-san}
		MESON_OPTIONS+=("-Db_sanitize=address,undefined" -Db_lundef=false)
	else
		BUILD_DIR=${SL_BUILD_DIR:-build}
		MESON_OPTIONS+=(-Db_sanitize=none -Db_lundef=true)
	fi
}

# The options this script last set up a build directory with are kept in it, so that
# a change of variant reconfigures while options set by hand with "meson configure" stay.
build_sluice() {
	local stamp="$BUILD_DIR/.dpdk-setup-options"
	local wanted="${MESON_OPTIONS[*]}"

	if [[ ! -f $BUILD_DIR/meson-private/coredata.dat ]]; then
		meson setup "${MESON_OPTIONS[@]}" "$BUILD_DIR"
		printf '%s\n' "$wanted" >"$stamp"
	elif [[ ! -f $stamp || $(<"$stamp") != "$wanted" ]]; then
		meson setup --reconfigure "${MESON_OPTIONS[@]}" "$BUILD_DIR"
		printf '%s\n' "$wanted" >"$stamp"
	fi
	ninja -C "$BUILD_DIR"
	[[ -x $BUILD_DIR/app/sluice ]] || die "build finished but $BUILD_DIR/app/sluice is missing"
	info "Built: $BUILD_DIR/app/sluice"
}

# Prints SIZE (bytes, or with a K/M/G suffix) in KiB, rounded up.
size_to_kb() {
	local size=$1
	local number unit

	[[ $size =~ ^([0-9]+)([KkMmGg]?)(i?[Bb])?$ ]] || return 1
	number=$((10#${BASH_REMATCH[1]}))
	unit=${BASH_REMATCH[2]^^}
	case $unit in
	K) printf '%d\n' "$number" ;;
	M) printf '%d\n' $((number * 1024)) ;;
	G) printf '%d\n' $((number * 1024 * 1024)) ;;
	*) printf '%d\n' $(((number + 1023) / 1024)) ;;
	esac
}

# The sysfs directory for one page size, system-wide or on NUMA node NODE.
# Usage: hugepage_dir PAGE_KB [NODE]
hugepage_dir() {
	local page_kb=$1 node=${2:-}

	if [[ -n $node ]]; then
		printf '/sys/devices/system/node/node%s/hugepages/hugepages-%skB\n' "$node" "$page_kb"
	else
		printf '/sys/kernel/mm/hugepages/hugepages-%skB\n' "$page_kb"
	fi
}

mount_hugetlbfs() {
	if mountpoint -q "$HUGETLBFS_MOUNT" 2>/dev/null; then
		return 0
	fi
	info "Mounting hugetlbfs at $HUGETLBFS_MOUNT"
	if ! as_root mkdir -p "$HUGETLBFS_MOUNT" ||
		! as_root mount -t hugetlbfs nodev "$HUGETLBFS_MOUNT"; then
		warn "could not mount hugetlbfs at $HUGETLBFS_MOUNT"
		return 1
	fi
}

# Grows the pool of PAGE_KB pages (on NODE, or system-wide) to hold SIZE_KB; never shrinks it.
# Returns non-zero if the kernel gave fewer pages than asked or hugetlbfs could not be mounted.
# Usage: reserve_hugepages SIZE_KB PAGE_KB [NODE]
reserve_hugepages() {
	local size_kb=$1 page_kb=$2 node=${3:-}
	local dir where current wanted got

	dir=$(hugepage_dir "$page_kb" "$node")
	where=${node:+ on node $node}
	[[ -d $dir ]] || {
		warn "the kernel has no $page_kb kB hugepages$where ($dir missing)"
		return 1
	}
	wanted=$(((size_kb + page_kb - 1) / page_kb))
	current=$(<"$dir/nr_hugepages")
	if ((current < wanted)); then
		info "Reserving $wanted hugepages of $page_kb kB$where (had $current)"
		printf '%d\n' "$wanted" | as_root tee "$dir/nr_hugepages" >/dev/null ||
			warn "could not write $dir/nr_hugepages"
	fi
	got=$(<"$dir/nr_hugepages")
	info "Hugepages of $page_kb kB$where: $got reserved ($((got * page_kb / 1024)) MiB)," \
		"$(<"$dir/free_hugepages") free"

	local status=0
	if ((got < wanted)); then
		warn "asked for $wanted pages but the kernel reserved $got"
		status=1
	fi
	mount_hugetlbfs || status=1
	return "$status"
}

cmd_deps() {
	[[ $# -eq 0 ]] || usage_error "deps takes no arguments"
	install_deps
}

cmd_build() {
	local debug=0 sanitize=0

	while [[ $# -gt 0 ]]; do
		case $1 in
		--debug) debug=1 ;;
		--sanitize) sanitize=1 ;;
		*) usage_error "unknown build option: $1" ;;
		esac
		shift
	done
	configure_build "$debug" "$sanitize"
	build_sluice
}

cmd_hugepages() {
	local size=${1:-$HUGEPAGE_DEFAULT_SIZE}
	local size_kb

	[[ $# -le 1 ]] || usage_error "hugepages takes at most one SIZE"
	size_kb=$(size_to_kb "$size") || usage_error "bad hugepage size: $size"
	reserve_hugepages "$size_kb" "$HUGEPAGE_DEFAULT_KB"
}

show_hugepages() {
	local dir node

	info "Hugepages (pages: total / free):"
	for dir in /sys/kernel/mm/hugepages/hugepages-*; do
		[[ -d $dir ]] || continue
		info "  ${dir##*/hugepages-}: $(<"$dir/nr_hugepages") / $(<"$dir/free_hugepages")"
		for node in /sys/devices/system/node/node[0-9]*; do
			[[ -d $node/hugepages/${dir##*/} ]] || continue
			info "    ${node##*/}: $(<"$node/hugepages/${dir##*/}/nr_hugepages")" \
				"/ $(<"$node/hugepages/${dir##*/}/free_hugepages")"
		done
	done
	if grep -q ' hugetlbfs ' /proc/mounts; then
		info "hugetlbfs mounted at: $(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts | xargs)"
	else
		info "hugetlbfs: not mounted (./dpdk-setup.sh hugepages mounts it)"
	fi
}

show_nics() {
	local devices=

	info "Network devices:"
	if command -v dpdk-devbind.py >/dev/null; then
		devices=$(dpdk-devbind.py --status-dev net 2>/dev/null | sed '/^$/d') || true
	fi
	if [[ -z $devices ]]; then
		devices=$(ip -br link 2>/dev/null) || true
	fi
	[[ -z $devices ]] || info "  ${devices//$'\n'/$'\n'  }"
}

show_cpus() {
	local node

	info "CPUs and NUMA:"
	if command -v lscpu >/dev/null; then
		lscpu | grep -E '^(Model name|CPU\(s\)|On-line CPU|Thread|Core|Socket|NUMA)' |
			sed 's/^/  /' || true
	else
		info "  CPU(s): $(nproc)"
		for node in /sys/devices/system/node/node[0-9]*; do
			info "  ${node##*/} CPU(s): $(<"$node/cpulist")"
		done
	fi
}

show_io_uring() {
	local sysctl=/proc/sys/kernel/io_uring_disabled

	if [[ ! -r $sysctl ]]; then
		info "io_uring: no $sysctl (kernel $(uname -r)); enabled unless the kernel lacks it"
		return 0
	fi
	case $(<"$sysctl") in
	0) info "io_uring: enabled" ;;
	1) info "io_uring: restricted to root and the kernel.io_uring_group group" ;;
	*) info "io_uring: DISABLED (kernel.io_uring_disabled=$(<"$sysctl")); sluice cannot write" ;;
	esac
}

show_build() {
	local dir

	for dir in "${SL_BUILD_DIR:-build}" build-san; do
		if [[ -x $dir/app/sluice ]]; then
			info "sluice binary: $dir/app/sluice"
		else
			info "sluice binary: not built in $dir"
		fi
	done
}

cmd_status() {
	local target=$CALLER_DIR

	while [[ $# -gt 0 ]]; do
		case $1 in
		--dir)
			[[ $# -ge 2 ]] || usage_error "--dir needs a directory"
			target=$(cd "$CALLER_DIR" && realpath -m -- "$2")
			shift
			;;
		--dir=*) target=$(cd "$CALLER_DIR" && realpath -m -- "${1#--dir=}") ;;
		*) usage_error "unknown status option: $1" ;;
		esac
		shift
	done
	show_hugepages
	show_nics
	show_cpus
	show_io_uring
	show_build
	info "Free space in $target:"
	df -h --output=target,fstype,size,avail "$target" | sed 's/^/  /'
}

# The CPU ids this process may run on, one per line.
allowed_cpus() {
	local list range
	local ranges=()

	list=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
	IFS=, read -ra ranges <<<"$list"
	for range in "${ranges[@]}"; do
		seq "${range%-*}" "${range#*-}"
	done
}

# EAL option for the demo's main, RX and writer lcores (0, 1, 2). With fewer than three
# CPUs the main lcore, which mostly sleeps, shares its CPU with the writer.
demo_lcores() {
	local cpus=()

	mapfile -t cpus < <(allowed_cpus)
	if [[ ${cpus[*]:0:3} == "0 1 2" ]]; then
		printf '%s\n' '-l 0-2'
		return 0
	fi
	printf '%s\n' "--lcores=0@${cpus[0]},1@${cpus[1]:-${cpus[0]}},2@${cpus[2]:-${cpus[0]}}"
}

show_demo_results() {
	local dir=$1
	local files=("$dir"/out/*)

	info ""
	info "Files written to $dir/out (${#files[@]} files; first and last shown):"
	ls -l "${files[0]}" "${files[-1]}"
	if command -v capinfos >/dev/null && [[ -e ${files[0]} ]]; then
		info ""
		info "capinfos on the first and the last file (every file is complete and valid):"
		capinfos -c -s -u "${files[0]}" "${files[-1]}" || warn "capinfos could not read a file"
	fi
	info ""
	if [[ ! -f $dir/stats.json ]]; then
		warn "sluice wrote no $dir/stats.json"
		return 0
	fi
	info "Counters from $dir/stats.json:"
	python3 - "$dir/stats.json" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    stats = json.load(f)
t = stats["total"]
d = t["drops"]
print(json.dumps(t, indent=4))
print(f"received {t['received']} = written {t['written']} + filtered {t['filtered']}"
      f" + ring_full {d['ring_full']} (writer short of CPU)"
      f" + writer_nobuf {d['writer_nobuf']} (disk behind)"
      f" + write_error {d['write_error']} (disk refused)")
EOF
}

cmd_demo() {
	local dir=${SL_DEMO_DIR:-/tmp/sluice-demo}
	local eal=() rc=0

	[[ $# -eq 0 ]] || usage_error "demo takes no arguments"
	install_deps
	configure_build 0 0
	build_sluice
	read -ra eal <<<"$(demo_lcores)"
	if ! cmd_hugepages "$HUGEPAGE_DEFAULT_SIZE"; then
		info "Hugepages are not available; running DPDK with --no-huge -m 1024 instead."
		eal+=(--no-huge -m 1024)
	fi

	mkdir -p "$dir"
	rm -rf "$dir/out" "$dir/stats.json"
	mkdir -p "$dir/out"
	info "Generating $DEMO_FRAMES frames (64-1514 bytes, 16 flows) into $dir/in.pcap ..."
	"$BUILD_DIR/tests/tools/mkpcap" -o "$dir/in.pcap" -n "$DEMO_FRAMES" -s 64-1514 --flows 16

	info "Replaying $DEMO_FRAMES frames through net_pcap for $DEMO_SECONDS s" \
		"(EAL ${eal[*]}), writing rotating pcapng files to $dir/out ..."
	# --no-pci keeps the demo off any real NIC that is bound to a DPDK driver.
	"$BUILD_DIR/app/sluice" "${eal[@]}" --no-pci --file-prefix=sluice-demo \
		"--vdev=net_pcap0,rx_pcap=$dir/in.pcap,infinite_rx=1" -- \
		"--dir=$dir/out" --format=pcapng "--duration=$DEMO_SECONDS" --stats-period=1 \
		--rotate-size=64M --idle-sleep=50 --mbufs=65536 "--stats-json=$dir/stats.json" || rc=$?
	if ((rc != 0)); then
		printf 'error: sluice exited with status %d\n' "$rc" >&2
		exit "$rc"
	fi
	show_demo_results "$dir"
	demo_file "$dir" "${eal[@]}"
}

# The file-mode half of the demo: sluice on one end of a veth pair (through
# net_af_packet, no kernel stack in its path), sluice-send in a network
# namespace at the other end, a directory of files transferred, verified,
# made durable and published.
demo_file() {
	local dir=$1 ns=sl-demo-$$ vh=sldh$$ vs=slds$$ pid rc=0
	shift
	if [[ $(id -u) -ne 0 ]]; then
		warn "The file-transfer demo needs root (network namespaces); skipped."
		return 0
	fi
	rm -rf "$dir/files" "$dir/received" "$dir/file-stats.json"
	mkdir -p "$dir/files/docs" "$dir/received"
	info ""
	info "File mode: making $dir/files (one 256 MiB file and 200 small ones) ..."
	head -c $((256 * 1024 * 1024)) /dev/urandom >"$dir/files/data.bin"
	for ((i = 0; i < 200; i++)); do
		head -c $((i * 97)) /dev/urandom >"$dir/files/docs/note-$i.txt"
	done
	ip netns add "$ns"
	# shellcheck disable=SC2064
	trap "ip netns del $ns 2>/dev/null || true; ip link del $vh 2>/dev/null || true" RETURN
	ip link add "$vh" type veth peer name "$vs"
	ip link set "$vs" netns "$ns"
	sysctl -qw "net.ipv6.conf.$vh.disable_ipv6=1" || true
	ip link set "$vh" up
	ip netns exec "$ns" ethtool -K "$vs" tx off gso off tso off >/dev/null 2>&1 || true
	ip -n "$ns" addr add 10.78.0.2/24 dev "$vs"
	ip -n "$ns" link set "$vs" up
	info "Starting sluice --mode=file on net_af_packet ($vh), address 10.78.0.1 ..."
	"$BUILD_DIR/app/sluice" "$@" --no-pci --file-prefix=sluice-demo-file \
		"--vdev=net_af_packet0,iface=$vh,qpairs=3" -- --mode=file --ip=10.78.0.1/24 \
		"--dir=$dir/received" --idle-sleep=50 "--stats-json=$dir/file-stats.json" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$ns" ping -c 1 -W 0.2 10.78.0.1 >/dev/null 2>&1 && break
		sleep 0.1
	done
	info "sluice-send (kernel UDP sockets, in namespace $ns) -> 10.78.0.1:7400 ..."
	ip netns exec "$ns" "$BUILD_DIR/app/sluice-send" 10.78.0.1 "$dir/files/data.bin" \
		"$dir/files/docs" || rc=$?
	kill -INT "$pid"
	wait "$pid" || rc=$?
	if ((rc != 0)); then
		printf 'error: the file transfer failed (status %d)\n' "$rc" >&2
		exit 1
	fi
	info ""
	info "Received in $dir/received, compared with the originals:"
	(cd "$dir/files" && find . -type f | sort | xargs sha256sum) >"$dir/a.sum"
	(cd "$dir/received" && find . -path ./.sluice -prune -o -type f -print | sort |
		xargs sha256sum) >"$dir/b.sum"
	if cmp -s "$dir/a.sum" "$dir/b.sum"; then
		info "  all $(wc -l <"$dir/a.sum") files identical (SHA-256)."
	else
		warn "the received files differ from the originals"
		exit 1
	fi
}

cmd_test() {
	local sanitize=0 rc=0
	local suites=()
	local args=()

	while [[ $# -gt 0 ]]; do
		case $1 in
		--sanitize) sanitize=1 ;;
		--suite)
			[[ $# -ge 2 ]] || usage_error "--suite needs a name"
			suites+=("$2")
			shift
			;;
		--suite=*) suites+=("${1#--suite=}") ;;
		*) usage_error "unknown test option: $1" ;;
		esac
		shift
	done
	[[ ${#suites[@]} -gt 0 ]] || suites=(unit e2e)

	install_deps
	configure_build 0 "$sanitize"
	build_sluice
	# The tests run with --no-huge, so missing hugepages are not a failure.
	cmd_hugepages "$HUGEPAGE_DEFAULT_SIZE" || warn "continuing without hugepages"

	local suite
	for suite in "${suites[@]}"; do
		args+=(--suite "$suite")
	done
	# Sanitizers slow the binaries down severalfold.
	[[ $sanitize -eq 1 ]] && args+=(--timeout-multiplier 3)
	# e2e tests run whole DPDK processes; in parallel they would fight over few CPUs.
	meson test -C "$BUILD_DIR" "${args[@]}" --print-errorlogs --num-processes 1 || rc=$?
	exit "$rc"
}

main() {
	local cmd=${1:-}

	[[ $# -gt 0 ]] && shift
	cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
	case $cmd in
	deps) cmd_deps "$@" ;;
	build) cmd_build "$@" ;;
	hugepages) cmd_hugepages "$@" ;;
	status) cmd_status "$@" ;;
	demo) cmd_demo "$@" ;;
	test) cmd_test "$@" ;;
	help | --help | -h) usage ;;
	"") usage_error "no command given" ;;
	*) usage_error "unknown command: $cmd" ;;
	esac
}

main "$@"
