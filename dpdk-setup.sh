#!/usr/bin/env bash
# Sets up, builds, tests and demonstrates sluice on Debian 12, and prepares a bare-metal
# machine for it (hugepages per NUMA node, NICs bound to vfio-pci, a status report).
# Run "./dpdk-setup.sh help", or "./dpdk-setup.sh COMMAND --help".
set -euo pipefail

# Everything sluice needs to build, test and run; add new packages here.
PACKAGES=(
	build-essential pkg-config meson ninja-build
	libdpdk-dev dpdk dpdk-dev liburing-dev libnuma-dev libcmocka-dev libpcap-dev
	libssl-dev tshark python3 iproute2 ethtool iputils-ping arping tmux e2fsprogs util-linux kmod pciutils procps
)
# What the benchmarks of tests/perf need on top ("bench").
BENCH_PACKAGES=(fio gnuplot-nox uftp socat tcpdump)

HUGEPAGE_DEFAULT_SIZE=512M
HUGEPAGE_DEFAULT_KB=2048
HUGETLBFS_MOUNT=/dev/hugepages
HUGETLBFS_MOUNT_1G=/dev/hugepages-1G

# Test-only seams: SLUICE_SYSFS and SLUICE_PROCFS point the bare-metal commands
# (hugepages, bind, unbind, status) at a fake sysfs and procfs tree, and SLUICE_STATE_DIR
# keeps the remembered bindings elsewhere; tests/e2e/setup_script.sh uses them. Leave
# them unset on a real machine.
SYSFS=${SLUICE_SYSFS:-/sys}
PROCFS=${SLUICE_PROCFS:-/proc}
STATE_DIR=${SLUICE_STATE_DIR:-/run/sluice}
# One line "PCI_ADDRESS KERNEL_DRIVER" per device that "bind" took from a kernel driver.
# Under /run, as driver_override itself does not outlive a reboot.
BINDINGS=$STATE_DIR/bindings
# Drivers that hand a device to DPDK; any other driver is the kernel's own.
DPDK_DRIVERS=(vfio-pci uio_pci_generic igb_uio)
# How long a device may take to appear on its new driver after drivers_probe or bind, in
# seconds; the kernel usually binds before the write returns.
BIND_WAIT_SECONDS=5

DEMO_FRAMES=20000
DEMO_SECONDS=5

# Set by configure_build(); every command that builds or runs sluice uses them.
BUILD_DIR=
MESON_OPTIONS=()

# Where the script was started from; it works from the top of the tree.
CALLER_DIR=$PWD
ROOT=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# The command being run, for the hint of usage errors.
COMMAND=

# Set by reserve_hugepages() when it fails: what went wrong and what to do.
HUGEPAGE_PROBLEM=

usage() {
	cat <<EOF
Usage: ./dpdk-setup.sh COMMAND [ARGS]     ("./dpdk-setup.sh COMMAND --help" for one command)

Set up, build and try:
  deps                      install the Debian 12 packages sluice needs (skipped when all are present)
  build [--debug] [--sanitize]
                            configure and build with meson/ninja; prints the path of the binary
  demo                      deps + build + hugepages, then capture a generated pcap replayed through
                            the net_pcap virtual device for $DEMO_SECONDS s; no NIC needed
  test [--suite NAME]... [--no-suite NAME]... [--sanitize | --valgrind]
                            deps + build + hugepages, then run the unit and e2e test suites
                            (--sanitize: under ASan and UBSan; --valgrind: unit tests, memcheck)
  bench [ARGS...]           install the benchmark tools, build, run tests/perf/bench.sh ARGS
                            (the benchmarks, not part of test; see docs/performance.md)
  fuzz [SECONDS] [TARGET...]
                            build the libFuzzer targets of tests/fuzz with clang (in build-fuzz/)
                            and run each for SECONDS (default 60); fails on a crash

Bare metal:
  hugepages [SIZE] [--node N] [--page 2M|1G]
                            reserve SIZE of hugepages (default $HUGEPAGE_DEFAULT_SIZE of 2M pages; K/M/G suffixes,
                            bare number = bytes), on NUMA node N if given, and mount hugetlbfs
                            ($HUGETLBFS_MOUNT, $HUGETLBFS_MOUNT_1G); never shrinks
  bind PCI... [--driver vfio-pci|uio_pci_generic|igb_uio] [--force]
                            give NICs to DPDK (default vfio-pci), remembering their kernel driver;
                            checks the IOMMU and the module, refuses the default-route NIC
  unbind PCI... [--force]   give NICs back to their kernel driver
  status [--dir DIR]        show hugepages per node, NICs and drivers, NUMA layout, isolated CPUs,
                            IOMMU, io_uring, build state, free space in DIR (default: current
                            directory), and warn about cross-socket layouts

  help, --help              show this text

Environment:
  SL_BUILD_DIR   build directory, relative to the top of the tree
                 (default: build, or build-san with --sanitize)
  SL_DEMO_DIR    demo work directory (default: /tmp/sluice-demo)

Run as root, or as a user with sudo: deps, hugepages, bind and unbind change the system.
EOF
}

# The --help text of one command.
command_help() {
	case $1 in
	deps)
		cat <<EOF
Usage: ./dpdk-setup.sh deps

Installs the Debian 12 packages sluice needs to build, test and run, with apt-get.
Does nothing when all of them are installed.
EOF
		;;
	build)
		cat <<EOF
Usage: ./dpdk-setup.sh build [--debug] [--sanitize]

Configures and builds sluice with meson and ninja in build/ (build-san/ with
--sanitize, or SL_BUILD_DIR) and prints the path of the binary.

  --debug      debug build (default: release)
  --sanitize   build with AddressSanitizer and UndefinedBehaviorSanitizer
EOF
		;;
	demo)
		cat <<EOF
Usage: ./dpdk-setup.sh demo

Installs the packages, builds, reserves hugepages (falls back to --no-huge), replays a
generated capture through the net_pcap virtual device for $DEMO_SECONDS s and shows the
files and counters; then, as root, transfers files with sluice-send to sluice in file
mode over a veth pair. Works in SL_DEMO_DIR (default /tmp/sluice-demo). No NIC needed.
EOF
		;;
	test)
		cat <<EOF
Usage: ./dpdk-setup.sh test [--suite NAME]... [--no-suite NAME]... [--sanitize | --valgrind]

Installs the packages, builds, reserves hugepages, then runs the test suites one test at
a time (default: unit and e2e).

  --suite NAME      run the suite NAME (unit or e2e); repeatable
  --no-suite NAME   leave out the tests of suite NAME; repeatable
  --sanitize        build and test with ASan and UBSan (in build-san/); any report, a
                    leak included, fails the test (tests/meson.build, docs/security.md)
  --valgrind        run the unit tests of the normal build (build/) under valgrind's
                    memcheck (meson test --setup valgrind); any error or leak fails the
                    test; installs valgrind if missing. Not with --sanitize or e2e
EOF
		;;
	bench)
		cat <<EOF
Usage: ./dpdk-setup.sh bench [ARGS...]

Runs the benchmarks of tests/perf (not part of "test"); see docs/performance.md for what
they measure and how to read them. Installs the benchmark tools if missing
(${BENCH_PACKAGES[*]}, and the packages of "deps"), builds
sluice in build/ (or SL_BUILD_DIR), then runs tests/perf/bench.sh ARGS.
EOF
		;;
	fuzz)
		cat <<EOF
Usage: ./dpdk-setup.sh fuzz [SECONDS] [TARGET...]

Builds the libFuzzer targets of tests/fuzz (one per parser that sees outside bytes:
net, proto, sender, safepath, pcap, config, profile, stage, auth) with clang, ASan and
UBSan in build-fuzz/ (or SL_FUZZ_BUILD_DIR), installing clang and its fuzzer runtime
if missing, then runs each TARGET (default: all), one at a time, for SECONDS (default
60). Each starts from its seeds (tests/fuzz/corpus/TARGET, never written to) and the
inputs earlier runs found (build-fuzz/fuzz-corpus/TARGET). Logs go to
build-fuzz/fuzz-logs/. A target that crashes, leaks, trips a sanitizer or an
invariant fails the command (exit 1), naming the target and the input that did it
(build-fuzz/fuzz-artifacts/); run the target on that file to reproduce it.
CI (.ci/run) runs every target for a few seconds after "test".
EOF
		;;
	hugepages)
		cat <<EOF
Usage: ./dpdk-setup.sh hugepages [SIZE] [--node N] [--page 2M|1G]

Reserves SIZE of hugepages (default $HUGEPAGE_DEFAULT_SIZE; K, M or G suffix, a bare number is bytes),
rounded up to whole pages, and mounts hugetlbfs for that page size if none is mounted:
at $HUGETLBFS_MOUNT for 2M pages, at $HUGETLBFS_MOUNT_1G (pagesize=1G) for 1G pages.
Never shrinks a reservation; running it again changes nothing and says so.

  --node N       reserve on NUMA node N (the node of the NIC, see "status"), through
                 /sys/devices/system/node/nodeN/hugepages; without it the pool is
                 system-wide and the kernel spreads the pages over the nodes
  --page 2M|1G   page size (default 2M); 1G pages need a CPU with pdpe1gb

When the kernel finds too little free contiguous memory it reserves fewer pages: the
command then fails, says how many it got and how to get the rest.

Examples:
  ./dpdk-setup.sh hugepages 2G --node 1
  ./dpdk-setup.sh hugepages 8G --node 0 --page 1G
EOF
		;;
	bind)
		cat <<EOF
Usage: ./dpdk-setup.sh bind PCI... [--driver DRIVER] [--force]

Gives network devices to DPDK. Each PCI address (0000:03:00.0, or 03:00.0) is bound to
DRIVER through sysfs (driver_override, unbind, drivers_probe), and the command checks
that it got there. The kernel driver the device had is remembered in
$BINDINGS for "unbind". A device already on DRIVER is left as it is.

  --driver DRIVER   vfio-pci (default), or uio_pci_generic or igb_uio, which give the
                    NIC unprotected DMA to all memory (warned about)
  --force           bind even if the device's kernel interface is up; its
                    connections drop

Nothing changes unless every address passes these checks: it is a PCI network device
(class 02); its interface does not carry the default route, IPv4 or IPv6 (a refusal
that --force does not lift); its interface is down (or --force). For vfio-pci the
IOMMU must be on (else the command says how to turn it on) and the module loaded
(modprobe; else it says what is missing); vfio's no-IOMMU mode is warned about.
EOF
		;;
	unbind)
		cat <<EOF
Usage: ./dpdk-setup.sh unbind PCI... [--force]

Gives network devices back to the kernel: each goes back to the kernel driver that
"bind" remembered, or, when none was remembered, to the one the kernel picks by
modalias (driver_override cleared, drivers_probe). A device already on a kernel driver
is left as it is. A device whose interface carries the default route is refused.

  --force   unbind even while a process (such as sluice) has the device open; the
            kernel then waits until that process lets go of it
EOF
		;;
	status)
		cat <<EOF
Usage: ./dpdk-setup.sh status [--dir DIR]

Shows what sluice needs from this machine:
  - hugepages per page size and NUMA node (total / free) and the hugetlbfs mounts;
  - every PCI network device: address, vendor:device, driver (kernel or DPDK), kernel
    interface, NUMA node, link state, and whether the default route goes through it;
  - the NUMA nodes with their CPUs and memory; isolated (isolcpus) and nohz_full CPUs;
  - IOMMU, vfio-pci and vfio's no-IOMMU mode; io_uring; whether sluice is built;
  - filesystem type and free space of DIR, the ingest directory (default: the current
    directory);
and warns about cross-socket layouts: a DPDK-bound NIC on a node without hugepages, or
isolated CPUs all on other nodes than the NIC. Changes nothing.
EOF
		;;
	*) usage ;;
	esac
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

# A bad command line: one line, and where the help is.
usage_error() {
	local hint="./dpdk-setup.sh help"

	[[ -n $COMMAND ]] && hint="./dpdk-setup.sh $COMMAND --help"
	printf 'error: %s (see %s)\n' "$*" "$hint" >&2
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


# Sets variable VAR to the first line of a sysfs or procfs FILE, or to DEFAULT when it
# cannot be read or is empty. No subshell: status reads hundreds of these. Like the other
# helpers that set a variable by name, its locals have a prefix no caller uses.
# Usage: read_file VAR FILE [DEFAULT]
read_file() {
	local rf_line=

	if [[ -r $2 ]] && { IFS= read -r rf_line <"$2" || [[ -n $rf_line ]]; } 2>/dev/null &&
		[[ -n $rf_line ]]; then
		printf -v "$1" '%s' "$rf_line"
	else
		printf -v "$1" '%s' "${3:-}"
	fi
}

# Sets variable VAR to the number in FILE, or 0 when it holds none.
# Usage: read_count VAR FILE
read_count() {
	read_file "$1" "$2" 0
	[[ ${!1} =~ ^[0-9]+$ ]] || printf -v "$1" '0'
}

# Prints a page size given in kB as hugetlbfs and the kernel command line spell it: 2M, 1G.
page_name() {
	local kb=$1

	if ((kb % 1048576 == 0)); then
		printf '%dG\n' $((kb / 1048576))
	elif ((kb % 1024 == 0)); then
		printf '%dM\n' $((kb / 1024))
	else
		printf '%dK\n' "$kb"
	fi
}

# The NUMA node numbers, space-separated, or "none".
numa_nodes() {
	local node nodes=()

	for node in "$SYSFS"/devices/system/node/node[0-9]*; do
		[[ -d $node ]] && nodes+=("${node##*/node}")
	done
	if ((${#nodes[@]} == 0)); then
		printf 'none\n'
	else
		printf '%s\n' "${nodes[*]}"
	fi
}

# The sysfs directory for one page size, system-wide or on NUMA node NODE.
# Usage: hugepage_dir PAGE_KB [NODE]
hugepage_dir() {
	local page_kb=$1 node=${2:-}

	if [[ -n $node ]]; then
		printf '%s/devices/system/node/node%s/hugepages/hugepages-%skB\n' "$SYSFS" "$node" "$page_kb"
	else
		printf '%s/kernel/mm/hugepages/hugepages-%skB\n' "$SYSFS" "$page_kb"
	fi
}

# Why there is no pool of PAGE_KB pages at DIR, and what to do instead.
no_page_size_reason() {
	local page_kb=$1 dir=$2 name cpuinfo=$PROCFS/cpuinfo

	name=$(page_name "$page_kb")
	if [[ -d $(hugepage_dir "$page_kb") ]]; then
		printf '%s has no %s hugepages (no %s): it may have no memory of its own\n' \
			"${dir%%/hugepages/*}" "$name" "$dir"
	elif ((page_kb == 1048576)) && grep -q '^flags' "$cpuinfo" 2>/dev/null &&
		! grep -qw pdpe1gb "$cpuinfo"; then
		printf '%s %s\n' "1G hugepages are not supported: this CPU has no pdpe1gb flag in" \
			"/proc/cpuinfo (virtual machines often hide it); use --page 2M"
	elif ((page_kb == 1048576)); then
		printf '%s %s\n' "the kernel offers no 1G hugepages (no $dir):" \
			"use --page 2M, or boot with hugepagesz=1G"
	else
		printf '%s\n' "the kernel offers no $name hugepages (no $dir): it needs CONFIG_HUGETLBFS"
	fi
}

# Mount points of hugetlbfs with pages of PAGE_KB, one per line.
hugetlbfs_mounts() {
	local page_kb=$1 default_kb mnt type opts opt size

	[[ -r $PROCFS/mounts ]] || return 0
	# A mount without a pagesize option has the default page size.
	default_kb=$(awk '$1 == "Hugepagesize:" { print $2 }' "$PROCFS/meminfo" 2>/dev/null) || true
	while read -r _ mnt type opts _; do
		[[ $type == hugetlbfs ]] || continue
		size=$default_kb
		for opt in ${opts//,/ }; do
			if [[ $opt == pagesize=* ]]; then
				size=$(size_to_kb "${opt#pagesize=}") || size=
			fi
		done
		if [[ $size == "$page_kb" ]]; then
			printf '%s\n' "$mnt"
		fi
	done <"$PROCFS/mounts"
}

# Mounts hugetlbfs for pages of PAGE_KB unless one is mounted already.
# Sets HUGEPAGE_PROBLEM and returns 1 when it cannot.
mount_hugetlbfs() {
	local page_kb=$1 name mnt mounted

	name=$(page_name "$page_kb")
	mnt=$HUGETLBFS_MOUNT
	((page_kb == HUGEPAGE_DEFAULT_KB)) || mnt=$HUGETLBFS_MOUNT-$name
	mounted=$(hugetlbfs_mounts "$page_kb" | paste -sd ' ')
	if [[ -n $mounted ]]; then
		info "hugetlbfs with $name pages is mounted at $mounted; nothing to mount."
		return 0
	fi
	if mountpoint -q "$mnt" 2>/dev/null; then
		HUGEPAGE_PROBLEM="$mnt is a mount point, but not of hugetlbfs with $name pages; mount one"
		HUGEPAGE_PROBLEM+=" elsewhere: mkdir -p DIR && mount -t hugetlbfs -o pagesize=$name nodev DIR"
		return 1
	fi
	info "Mounting hugetlbfs (pagesize=$name) at $mnt"
	if ! as_root mkdir -p "$mnt" || ! as_root mount -t hugetlbfs -o "pagesize=$name" nodev "$mnt"; then
		HUGEPAGE_PROBLEM="could not mount hugetlbfs at $mnt: mount -t hugetlbfs -o pagesize=$name nodev $mnt"
		return 1
	fi
}

# What to do when the kernel reserved GOT of WANTED pages of PAGE_KB (on NODE).
# Usage: hugepage_shortage WANTED GOT PAGE_KB [NODE]
hugepage_shortage() {
	local wanted=$1 got=$2 page_kb=$3 node=${4:-}
	local name boot

	name=$(page_name "$page_kb")
	boot="hugepagesz=$name hugepages=${node:+$node:}$wanted"
	((page_kb == 1048576)) && boot="default_hugepagesz=1G $boot"
	cat <<EOF
asked for $wanted hugepages of $name${node:+ on node $node}, but the kernel reserved only $got ($((got * page_kb / 1024)) MiB): it found too little free contiguous memory. The $got stay reserved. To get the rest:
  - reserve them at boot, before memory fragments (the sure way, above all for 1G pages): add
      $boot
    to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot);
  - or free and compact memory, then run this command again:
      sync; echo 3 > /proc/sys/vm/drop_caches; echo 1 > /proc/sys/vm/compact_memory
EOF
}

# Grows the pool of PAGE_KB pages (on NODE, or system-wide) to hold SIZE_KB; never shrinks it,
# and mounts hugetlbfs for that page size. Returns 1 with HUGEPAGE_PROBLEM set if the kernel
# gave fewer pages than asked, has no such pages, or hugetlbfs could not be mounted.
# Usage: reserve_hugepages SIZE_KB PAGE_KB [NODE]
reserve_hugepages() {
	local size_kb=$1 page_kb=$2 node=${3:-}
	local dir name where current wanted got free status=0

	HUGEPAGE_PROBLEM=
	name=$(page_name "$page_kb")
	where=${node:+ on node $node}
	if [[ -n $node && ! -d $SYSFS/devices/system/node/node$node ]]; then
		HUGEPAGE_PROBLEM="there is no NUMA node $node (nodes here: $(numa_nodes))"
		return 1
	fi
	dir=$(hugepage_dir "$page_kb" "$node")
	if [[ ! -d $dir ]]; then
		HUGEPAGE_PROBLEM=$(no_page_size_reason "$page_kb" "$dir")
		return 1
	fi
	wanted=$(((size_kb + page_kb - 1) / page_kb))
	read_count current "$dir/nr_hugepages"
	if ((current >= wanted)); then
		got=$current
		read_count free "$dir/free_hugepages"
		info "$name hugepages$where: $got reserved ($((got * page_kb / 1024)) MiB), $free free;" \
			"at least the $wanted asked for, nothing changed."
	else
		info "Reserving $wanted hugepages of $name$where (had $current)"
		printf '%d\n' "$wanted" | as_root tee "$dir/nr_hugepages" >/dev/null ||
			warn "could not write $dir/nr_hugepages"
		read_count got "$dir/nr_hugepages"
		read_count free "$dir/free_hugepages"
		info "$name hugepages$where: $got reserved ($((got * page_kb / 1024)) MiB), $free free"
	fi
	if ((got < wanted)); then
		HUGEPAGE_PROBLEM=$(hugepage_shortage "$wanted" "$got" "$page_kb" "$node")
		status=1
	fi
	local shortage=$HUGEPAGE_PROBLEM
	if ! mount_hugetlbfs "$page_kb"; then
		[[ -z $shortage ]] || HUGEPAGE_PROBLEM="$shortage"$'\n'"Also: $HUGEPAGE_PROBLEM"
		status=1
	fi
	return "$status"
}

# The default reservation of demo and test. A failure is only a warning there: they fall
# back to --no-huge.
reserve_default_hugepages() {
	local size_kb

	size_kb=$(size_to_kb "$HUGEPAGE_DEFAULT_SIZE")
	if reserve_hugepages "$size_kb" "$HUGEPAGE_DEFAULT_KB"; then
		return 0
	fi
	warn "$HUGEPAGE_PROBLEM"
	return 1
}

cmd_hugepages() {
	local size=$HUGEPAGE_DEFAULT_SIZE node='' page=2M
	local size_given=0 size_kb page_kb

	while [[ $# -gt 0 ]]; do
		case $1 in
		-h | --help)
			command_help hugepages
			return 0
			;;
		--node)
			[[ $# -ge 2 ]] || usage_error "--node needs a NUMA node number"
			node=$2
			shift
			;;
		--node=*) node=${1#--node=} ;;
		--page)
			[[ $# -ge 2 ]] || usage_error "--page needs 2M or 1G"
			page=$2
			shift
			;;
		--page=*) page=${1#--page=} ;;
		-*) usage_error "unknown hugepages option: $1" ;;
		*)
			[[ $size_given -eq 0 ]] || usage_error "hugepages takes one SIZE, not '$1' too"
			size=$1
			size_given=1
			;;
		esac
		shift
	done
	size_kb=$(size_to_kb "$size") || usage_error "bad hugepage size: $size"
	if [[ -n $node ]]; then
		[[ $node =~ ^[0-9]{1,4}$ ]] || usage_error "--node needs a NUMA node number, not '$node'"
		node=$((10#$node))
	fi
	case ${page^^} in
	2M | 2048K) page_kb=2048 ;;
	1G | 1024M | 1048576K) page_kb=1048576 ;;
	*) usage_error "--page takes 2M or 1G, not '$page'" ;;
	esac
	reserve_hugepages "$size_kb" "$page_kb" "$node" || die "$HUGEPAGE_PROBLEM"
}

cmd_deps() {
	if [[ ${1:-} == -h || ${1:-} == --help ]]; then
		command_help deps
		return 0
	fi
	[[ $# -eq 0 ]] || usage_error "deps takes no arguments"
	install_deps
}

cmd_build() {
	local debug=0 sanitize=0

	while [[ $# -gt 0 ]]; do
		case $1 in
		-h | --help)
			command_help build
			return 0
			;;
		--debug) debug=1 ;;
		--sanitize) sanitize=1 ;;
		*) usage_error "unknown build option: $1" ;;
		esac
		shift
	done
	configure_build "$debug" "$sanitize"
	build_sluice
}

# Prints PCI address ADDR in full (domain:bus:device.function, lower case); the domain
# may be left out, as lspci does.
pci_address() {
	local addr=${1,,}

	[[ $addr =~ ^([0-9a-f]{4,8}:)?[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$ ]] || return 1
	[[ -n ${BASH_REMATCH[1]} ]] || addr=0000:$addr
	printf '%s\n' "$addr"
}

is_pci_address() {
	[[ $1 =~ ^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]]
}

is_dpdk_driver() {
	local driver

	for driver in "${DPDK_DRIVERS[@]}"; do
		[[ $1 == "$driver" ]] && return 0
	done
	return 1
}

# The driver PCI device ADDR is bound to; nothing if none.
pci_driver() {
	local link

	if link=$(readlink "$SYSFS/bus/pci/devices/$1/driver" 2>/dev/null); then
		printf '%s\n' "${link##*/}"
	fi
}

# The PCI address of the device behind network interface IFACE itself; nothing for a
# virtual interface. A virtio NIC's interface hangs below the virtio device, which hangs
# below the PCI function, so the path is walked up to the first PCI address.
iface_device_address() {
	local path part

	[[ -e $SYSFS/class/net/$1/device ]] || return 0
	path=$(readlink -f "$SYSFS/class/net/$1/device") || return 0
	while [[ $path == */* ]]; do
		part=${path##*/}
		if is_pci_address "$part"; then
			printf '%s\n' "$part"
			return 0
		fi
		path=${path%/*}
	done
}

# Interface name -> PCI address of its own device, and PCI address -> the default
# routes that go out through it ("eth0 IPv4, eth0 IPv6"); filled by scan_net.
declare -A IFACE_PCI=() ROUTE_VIA=()
NET_SCANNED=0

# Reads the interfaces and default routes once per run (again after NET_SCANNED=0).
scan_net() {
	local netdir addr iface family

	((NET_SCANNED == 0)) || return 0
	IFACE_PCI=()
	ROUTE_VIA=()
	for netdir in "$SYSFS"/class/net/*; do
		[[ -e $netdir ]] || continue
		addr=$(iface_device_address "${netdir##*/}")
		if [[ -n $addr ]]; then
			IFACE_PCI[${netdir##*/}]=$addr
		fi
	done
	while read -r iface family; do
		while read -r addr; do
			if [[ ${ROUTE_VIA[$addr]:-} != *"$iface $family"* ]]; then
				ROUTE_VIA[$addr]+="${ROUTE_VIA[$addr]:+, }$iface $family"
			fi
		done < <(iface_pci_addresses "$iface")
	done < <(default_route_ifaces)
	NET_SCANNED=1
}

# The PCI addresses interface IFACE sends through: its own device's, and for a bond,
# bridge or VLAN those of the interfaces below it.
# Usage: iface_pci_addresses IFACE [DEPTH]
iface_pci_addresses() {
	local iface=$1 depth=${2:-0} lower

	if [[ -n ${IFACE_PCI[$iface]:-} ]]; then
		printf '%s\n' "${IFACE_PCI[$iface]}"
	fi
	((depth < 8)) || return 0
	for lower in "$SYSFS/class/net/$iface"/lower_*; do
		[[ -e $lower ]] || continue
		iface_pci_addresses "${lower##*/lower_}" $((depth + 1))
	done
}

# The kernel interfaces of PCI device ADDR, one per line.
pci_ifaces() {
	local netdir

	scan_net
	for netdir in "$SYSFS"/class/net/*; do
		if [[ ${IFACE_PCI[${netdir##*/}]:-} == "$1" ]]; then
			printf '%s\n' "${netdir##*/}"
		fi
	done
}

# "IFACE FAMILY" for each default route, IPv4 (/proc/net/route) and IPv6
# (/proc/net/ipv6_route): destination and prefix 0, flag RTF_UP, not RTF_REJECT.
default_route_ifaces() {
	local iface dest flags mask plen

	if [[ -r $PROCFS/net/route ]]; then
		while read -r iface dest _ flags _ _ _ mask _; do
			[[ $dest == 00000000 && $mask == 00000000 && $flags =~ ^[0-9A-Fa-f]+$ ]] || continue
			if (((16#$flags & 0x1) != 0)); then
				printf '%s IPv4\n' "$iface"
			fi
		done < <(tail -n +2 "$PROCFS/net/route")
	fi
	if [[ -r $PROCFS/net/ipv6_route ]]; then
		while read -r dest plen _ _ _ _ _ _ flags iface; do
			[[ $dest =~ ^0{32}$ && $plen == 00 && $flags =~ ^[0-9A-Fa-f]+$ ]] || continue
			if (((16#$flags & 0x1) != 0 && (16#$flags & 0x200) == 0)) && [[ $iface != lo ]]; then
				printf '%s IPv6\n' "$iface"
			fi
		done <"$PROCFS/net/ipv6_route"
	fi
}

# The default routes that go out through PCI device ADDR, as "eth0 IPv4, eth0 IPv6";
# nothing if none does.
default_route_via() {
	scan_net
	if [[ -n ${ROUTE_VIA[$1]:-} ]]; then
		printf '%s\n' "${ROUTE_VIA[$1]}"
	fi
}

iface_is_up() {
	local flags

	read_file flags "$SYSFS/class/net/$1/flags" 0x0
	[[ $flags =~ ^0x[0-9a-fA-F]+$ ]] && (((flags & 0x1) != 0))
}

# The addresses of interface IFACE, space-separated. Only a real sysfs has real interfaces.
iface_addresses() {
	[[ $SYSFS == /sys ]] || return 0
	ip -o addr show dev "$1" 2>/dev/null | awk '{ print $4 }' | paste -sd ' ' || true
}

# The kernel driver that "bind" took PCI device ADDR from; nothing if it took none.
remembered_driver() {
	local addr driver

	[[ -r $BINDINGS ]] || return 0
	while read -r addr driver _; do
		if [[ $addr == "$1" && $driver =~ ^[A-Za-z0-9_.-]+$ ]]; then
			printf '%s\n' "$driver"
			return 0
		fi
	done <"$BINDINGS"
}

# Replaces the line of PCI device ADDR in the bindings with LINE, or drops it.
# Usage: set_binding ADDR [LINE]
set_binding() {
	local addr=$1 line=${2:-} others=

	if [[ -r $BINDINGS ]]; then
		others=$(awk -v addr="$addr" '$1 != addr' "$BINDINGS")
	elif [[ -z $line ]]; then
		return 0
	fi
	as_root mkdir -p "$STATE_DIR"
	{
		[[ -z $others ]] || printf '%s\n' "$others"
		[[ -z $line ]] || printf '%s\n' "$line"
	} | as_root tee "$BINDINGS.tmp" >/dev/null
	as_root mv -f "$BINDINGS.tmp" "$BINDINGS"
}

# Remembers kernel driver DRIVER of ADDR for "unbind". A device on a DPDK driver or on
# none keeps what was remembered of it before.
remember_driver() {
	local addr=$1 driver=$2

	if [[ -n $driver ]] && ! is_dpdk_driver "$driver"; then
		set_binding "$addr" "$addr $driver"
	fi
}

forget_driver() {
	set_binding "$1"
}

# Writes VALUE and a newline to sysfs FILE; appends with --append, as dpdk-devbind does
# for unbind, bind and drivers_probe. Returns non-zero if the kernel refused it.
# Usage: sysfs_write FILE VALUE [--append]
sysfs_write() {
	local file=$1 value=$2 mode=${3:-}

	if [[ $mode == --append ]]; then
		printf '%s\n' "$value" | as_root tee -a "$file" >/dev/null
	else
		printf '%s\n' "$value" | as_root tee "$file" >/dev/null
	fi
}

# Waits until PCI device ADDR is on DRIVER, or with DRIVER empty on any kernel driver.
# The kernel binds before the write to drivers_probe or bind returns; the wait is for
# drivers that probe asynchronously.
# Usage: wait_for_driver ADDR [DRIVER]
wait_for_driver() {
	local addr=$1 want=${2:-} now deadline=$((EPOCHSECONDS + BIND_WAIT_SECONDS))

	while :; do
		now=$(pci_driver "$addr")
		if [[ -n $want ]]; then
			[[ $now == "$want" ]] && return 0
		elif [[ -n $now ]] && ! is_dpdk_driver "$now"; then
			return 0
		fi
		((EPOCHSECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# Moves PCI device ADDR to driver TARGET, or with TARGET empty to whichever kernel
# driver the kernel picks by modalias.
# Usage: give_back ADDR [TARGET]
give_back() {
	local addr=$1 target=${2:-} dev=$SYSFS/bus/pci/devices/$1 override=

	# A DPDK driver binds only through driver_override; an empty one (a newline) lets the
	# kernel choose again.
	if [[ -n $target ]] && is_dpdk_driver "$target"; then
		override=$target
	fi
	sysfs_write "$dev/driver_override" "$override" || return 1
	if [[ -n $(pci_driver "$addr") ]]; then
		sysfs_write "$dev/driver/unbind" "$addr" --append || return 1
	fi
	if [[ -n $target && -d $SYSFS/bus/pci/drivers/$target ]] &&
		sysfs_write "$SYSFS/bus/pci/drivers/$target/bind" "$addr" --append; then
		return 0
	fi
	sysfs_write "$SYSFS/bus/pci/drivers_probe" "$addr" --append
}

# The processes that have PCI device ADDR open through DRIVER (DPDK holds
# /dev/vfio/GROUP, or /dev/uioN), as "sluice (pid 123)"; nothing if none has.
device_users() {
	local addr=$1 driver=$2 dev=$SYSFS/bus/pci/devices/$1
	local group uio name fd pid comm names=() expr=() fds=() users=

	case $driver in
	vfio-pci)
		group=$(readlink "$dev/iommu_group" 2>/dev/null) || return 0
		names=("/dev/vfio/${group##*/}" "/dev/vfio/noiommu-${group##*/}")
		;;
	uio_pci_generic | igb_uio)
		for uio in "$dev"/uio/uio*; do
			if [[ -e $uio ]]; then
				names+=("/dev/${uio##*/}")
			fi
		done
		;;
	esac
	((${#names[@]} > 0)) || return 0
	for name in "${names[@]}"; do
		((${#expr[@]} == 0)) || expr+=(-o)
		expr+=(-lname "$name")
	done
	fds=("$PROCFS"/[0-9]*/fd)
	[[ -d ${fds[0]} ]] || return 0
	while read -r fd; do
		pid=${fd#"$PROCFS"/}
		pid=${pid%%/*}
		[[ " $users " == *"(pid $pid)"* ]] && continue
		read_file comm "$PROCFS/$pid/comm" '?'
		users+="${users:+, }$comm (pid $pid)"
	done < <(find "${fds[@]}" -maxdepth 1 \( "${expr[@]}" \) 2>/dev/null || true)
	if [[ -n $users ]]; then
		printf '%s\n' "$users"
	fi
}

# Refuses to take PCI device ADDR from DPDK driver DRIVER while a process uses it,
# unless FORCE is 1: the kernel would wait for that process to let go.
check_unused() {
	local addr=$1 driver=$2 force=$3 users

	users=$(device_users "$addr" "$driver")
	[[ -n $users ]] || return 0
	if ((force)); then
		warn "$addr is in use by $users; going on (--force): the kernel waits until it lets go"
		return 0
	fi
	die "$addr is in use by $users: stop it first, or pass --force (the kernel then waits until it lets go of the device)"
}

# Checks that PCI device ADDR exists, is a network device and does not carry the
# default route; for VERB bind, also that its interfaces are down, unless FORCE is 1.
# Usage: check_nic ADDR bind|unbind FORCE
check_nic() {
	local addr=$1 verb=$2 force=$3 dev=$SYSFS/bus/pci/devices/$1
	local class route iface addresses

	[[ -e $dev ]] || die "there is no PCI device $addr (./dpdk-setup.sh status lists the NICs, lspci -D every device)"
	read_file class "$dev/class" unknown
	[[ $class == 0x02* ]] ||
		die "refusing to $verb $addr: it is not a network device (PCI class $class; NICs are 0x02xxxx)"
	route=$(default_route_via "$addr")
	[[ -z $route ]] || die "refusing to $verb $addr: the default route goes through it ($route)," \
		"so this machine would lose its network connection. --force does not lift this;" \
		"move the default route to another interface first."
	[[ $verb == bind ]] || return 0
	while read -r iface; do
		addresses=$(iface_addresses "$iface")
		if iface_is_up "$iface"; then
			if ((force)); then
				warn "$iface ($addr) is up${addresses:+ with addresses $addresses}; binding it anyway (--force): its connections drop"
			else
				die "refusing to bind $addr: its interface $iface is up${addresses:+ (addresses $addresses)}." \
					"Take it down first (ip link set $iface down), or bind with --force."
			fi
		elif [[ -n $addresses ]]; then
			warn "$iface ($addr) has addresses ($addresses); they go away with the interface"
		fi
	done < <(pci_ifaces "$addr")
}

iommu_enabled() {
	compgen -G "$SYSFS/kernel/iommu_groups/*" >/dev/null
}

noiommu_mode() {
	local mode

	read_file mode "$SYSFS/module/vfio/parameters/enable_unsafe_noiommu_mode" N
	[[ $mode == [Yy1]* ]]
}

noiommu_warning() {
	local line="********************************************************************************"

	warn "$line"
	warn "vfio is in NO-IOMMU MODE (enable_unsafe_noiommu_mode=Y in /sys/module/vfio/parameters):"
	warn "a device on vfio-pci can read and write ANY memory of this machine (no DMA"
	warn "protection), and the kernel is tainted. Use it only on a machine you trust entirely"
	warn "that has no IOMMU, such as a VM without a virtual IOMMU. To leave it, unbind the"
	warn "devices, then: echo N > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
	warn "$line"
}

# What to do when the IOMMU is off.
iommu_advice() {
	cat <<EOF
the IOMMU is off ($SYSFS/kernel/iommu_groups is empty), and vfio-pci needs it to keep the NIC's DMA within DPDK's memory. To turn it on:
  1. enable VT-d (Intel) or AMD-Vi / IOMMU (AMD) in the firmware (BIOS/UEFI) setup;
  2. put on the kernel command line
       intel_iommu=on iommu=pt    (Intel)
       amd_iommu=on iommu=pt      (AMD)
     (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot.
Or, at your own risk and without DMA protection (a machine or VM with no IOMMU at all), turn on vfio's no-IOMMU mode and bind again:
       modprobe vfio enable_unsafe_noiommu_mode=1    (or: echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode)
or bind with --driver uio_pci_generic, which has no DMA protection either.
EOF
}

# Loads the module of DRIVER unless sysfs shows it already (a fake sysfs in tests does).
load_driver() {
	local driver=$1 out kernel option=CONFIG_VFIO_PCI

	[[ ! -d $SYSFS/bus/pci/drivers/$driver ]] || return 0
	command -v modprobe >/dev/null || die "modprobe is missing: apt-get install kmod"
	info "Loading the $driver module (modprobe $driver)"
	if out=$(as_root modprobe "$driver" 2>&1); then
		[[ ! -d $SYSFS/bus/pci/drivers/$driver ]] || return 0
		die "modprobe $driver succeeded, but $SYSFS/bus/pci/drivers/$driver did not appear"
	fi
	out=${out//$'\n'/ }
	kernel=$(uname -r)
	if [[ $driver == igb_uio ]]; then
		die "cannot load igb_uio ($out): it is not part of the kernel. Install it with" \
			"apt-get install dpdk-kmods-dkms linux-headers-$kernel, or use vfio-pci."
	fi
	if [[ ! -d /lib/modules/$kernel ]]; then
		die "cannot load $driver ($out): the modules of the running kernel $kernel are not" \
			"installed (no /lib/modules/$kernel). Reboot into the kernel that is installed" \
			"(after an upgrade), or install linux-image-$kernel."
	fi
	[[ $driver != uio_pci_generic ]] || option=CONFIG_UIO_PCI_GENERIC
	die "cannot load $driver ($out): the running kernel $kernel has no such module. Debian's" \
		"kernels (apt-get install linux-image-amd64) have it; a kernel of your own needs $option=m."
}

# Warns when other devices share the IOMMU group of ADDR on other drivers: vfio hands a
# device to DPDK only when every device of its group is on vfio-pci or on no driver
# (PCI bridges excepted).
check_iommu_group() {
	local addr=$1 dev=$SYSFS/bus/pci/devices/$1 other name driver group

	[[ -d $dev/iommu_group/devices ]] || return 0
	group=$(readlink "$dev/iommu_group") || return 0
	for other in "$dev"/iommu_group/devices/*; do
		name=${other##*/}
		[[ -e $other && $name != "$addr" ]] || continue
		driver=$(pci_driver "$name")
		case $driver in
		"" | vfio-pci | pcieport) continue ;;
		esac
		warn "$name (on $driver) shares IOMMU group ${group##*/} with $addr: DPDK can open $addr" \
			"only when every device of the group is on vfio-pci or on no driver; bind $name too"
	done
}

# Binds PCI device ADDR to DRIVER through driver_override, unbind and drivers_probe,
# and checks that it got there; gives it back to its driver if it did not.
# Usage: bind_device ADDR DRIVER FORCE
bind_device() {
	local addr=$1 driver=$2 force=$3 dev=$SYSFS/bus/pci/devices/$1
	local current now back

	current=$(pci_driver "$addr")
	if [[ $current == "$driver" ]]; then
		info "$addr is already bound to $driver; nothing to do."
		return 0
	fi
	if [[ -n $current ]] && is_dpdk_driver "$current"; then
		check_unused "$addr" "$current" "$force"
	fi
	remember_driver "$addr" "$current"
	info "Binding $addr to $driver (it was on ${current:-no driver})"
	sysfs_write "$dev/driver_override" "$driver" || die "could not write $dev/driver_override"
	if [[ -n $current ]] && ! sysfs_write "$dev/driver/unbind" "$addr" --append; then
		sysfs_write "$dev/driver_override" "" || true
		die "could not unbind $addr from $current"
	fi
	# A refused probe shows as the device not on the driver, checked next.
	sysfs_write "$SYSFS/bus/pci/drivers_probe" "$addr" --append || true
	if wait_for_driver "$addr" "$driver"; then
		info "$addr is bound to $driver${current:+; \"./dpdk-setup.sh unbind $addr\" gives it back to $current}."
		[[ $driver != vfio-pci ]] || check_iommu_group "$addr"
		return 0
	fi
	now=$(pci_driver "$addr")
	back="It was given back to ${current:-the kernel}."
	give_back "$addr" "$current" || back="Giving it back failed too: ./dpdk-setup.sh unbind $addr"
	if [[ -n $current ]] && ! is_dpdk_driver "$current"; then
		forget_driver "$addr"
	fi
	die "$addr did not bind to $driver: it is on ${now:-no driver} (dmesg | tail says why). $back"
}

# Gives PCI device ADDR back to the kernel driver "bind" took it from, or to the one
# the kernel picks.
# Usage: unbind_device ADDR FORCE
unbind_device() {
	local addr=$1 force=$2 dev=$SYSFS/bus/pci/devices/$1
	local current override original now

	current=$(pci_driver "$addr")
	read_file override "$dev/driver_override"
	[[ $override != "(null)" ]] || override=
	if [[ -n $current ]] && ! is_dpdk_driver "$current"; then
		# A stale override would send the device to DPDK at its next probe.
		if is_dpdk_driver "$override"; then
			sysfs_write "$dev/driver_override" "" || die "could not clear $dev/driver_override"
			info "Cleared the driver_override ($override) of $addr."
		fi
		info "$addr is on its kernel driver $current; nothing to do."
		forget_driver "$addr"
		return 0
	fi
	if [[ -n $current ]]; then
		check_unused "$addr" "$current" "$force"
	fi
	original=$(remembered_driver "$addr")
	if [[ -n $original && ! -d $SYSFS/bus/pci/drivers/$original ]] &&
		! as_root modprobe "$original" 2>/dev/null; then
		warn "could not load $original, the driver $addr had; the kernel chooses one instead"
		original=
	fi
	info "Giving $addr back to ${original:-the kernel} (it is on ${current:-no driver})"
	give_back "$addr" "$original" || die "could not give $addr back: the kernel refused the sysfs write"
	if wait_for_driver "$addr" "$original"; then
		forget_driver "$addr"
		NET_SCANNED=0
		scan_net
		now=$(pci_ifaces "$addr" | paste -sd ' ')
		info "$addr is back on $(pci_driver "$addr")${now:+, interface $now}."
		return 0
	fi
	now=$(pci_driver "$addr")
	if [[ -n $original ]]; then
		die "$addr did not go back to $original: it is on ${now:-no driver} (dmesg | tail says why)"
	fi
	die "no kernel driver took $addr (it is on ${now:-no driver}): load the module of its driver" \
		"(lspci -k -s $addr names it), then run this command again"
}

# Parses the PCI addresses and options of bind and unbind into ADDRESSES, DRIVER, FORCE.
ADDRESSES=()
DRIVER=vfio-pci
FORCE=0
parse_bind_args() {
	local verb=$1 addr
	shift

	while [[ $# -gt 0 ]]; do
		case $1 in
		-h | --help)
			command_help "$verb"
			exit 0
			;;
		--force) FORCE=1 ;;
		--driver | --driver=*)
			[[ $verb == bind ]] || usage_error "unknown unbind option: $1"
			if [[ $1 == --driver ]]; then
				[[ $# -ge 2 ]] || usage_error "--driver needs a driver name"
				DRIVER=$2
				shift
			else
				DRIVER=${1#--driver=}
			fi
			;;
		-*) usage_error "unknown $verb option: $1" ;;
		*)
			addr=$(pci_address "$1") ||
				usage_error "not a PCI address: '$1' (such as 0000:03:00.0 or 03:00.0)"
			ADDRESSES+=("$addr")
			;;
		esac
		shift
	done
	case $DRIVER in
	vfio-pci | uio_pci_generic | igb_uio) ;;
	*) usage_error "--driver takes vfio-pci, uio_pci_generic or igb_uio, not '$DRIVER'" ;;
	esac
	[[ ${#ADDRESSES[@]} -gt 0 ]] || usage_error "$verb needs at least one PCI address"
}

cmd_bind() {
	local addr todo=()

	parse_bind_args bind "$@"
	scan_net
	# Every device is checked before any is touched.
	for addr in "${ADDRESSES[@]}"; do
		check_nic "$addr" bind "$FORCE"
		if [[ $(pci_driver "$addr") == "$DRIVER" ]]; then
			info "$addr is already bound to $DRIVER; nothing to do."
		else
			todo+=("$addr")
		fi
	done
	[[ ${#todo[@]} -gt 0 ]] || return 0
	if [[ $DRIVER != vfio-pci ]]; then
		warn "$DRIVER gives the NIC DMA to all of memory, unprotected by the IOMMU; prefer vfio-pci"
	fi
	load_driver "$DRIVER"
	if [[ $DRIVER == vfio-pci ]]; then
		if noiommu_mode; then
			noiommu_warning
		elif ! iommu_enabled; then
			die "$(iommu_advice)"
		fi
	fi
	for addr in "${todo[@]}"; do
		bind_device "$addr" "$DRIVER" "$FORCE"
	done
}

cmd_unbind() {
	local addr

	parse_bind_args unbind "$@"
	scan_net
	for addr in "${ADDRESSES[@]}"; do
		check_nic "$addr" unbind "$FORCE"
	done
	for addr in "${ADDRESSES[@]}"; do
		unbind_device "$addr" "$FORCE"
	done
}

# Sets the array CPUS to the CPU numbers of a kernel CPU list such as 0-3,8,10-11.
CPUS=()
expand_cpulist() {
	local range cpu
	local ranges=()

	CPUS=()
	IFS=, read -ra ranges <<<"$1"
	for range in "${ranges[@]}"; do
		if [[ $range =~ ^([0-9]+)-([0-9]+)$ ]]; then
			for ((cpu = 10#${BASH_REMATCH[1]}; cpu <= 10#${BASH_REMATCH[2]}; cpu++)); do
				CPUS+=("$cpu")
			done
		elif [[ $range =~ ^[0-9]+$ ]]; then
			CPUS+=("$((10#$range))")
		fi
	done
}

# Sets variable VAR to a CPU list file of sysfs, or to nothing when it is empty or says
# "(null)".
# Usage: cpu_list_file VAR FILE
cpu_list_file() {
	read_file "$1" "$2"
	[[ ${!1} != "(null)" ]] || printf -v "$1" '%s' ""
}

# Sets variable VAR to the NUMA nodes of the CPUs in CPU list LIST, as "0 1"; to nothing
# if sysfs has no nodes. (Its locals have a prefix of their own: VAR is set by name.)
# Usage: nodes_of_cpus VAR LIST
nodes_of_cpus() {
	local noc_node noc_cpu noc_list noc_wanted noc_nodes=()

	expand_cpulist "$2"
	noc_wanted=" ${CPUS[*]} "
	for noc_node in "$SYSFS"/devices/system/node/node[0-9]*; do
		[[ -d $noc_node ]] || continue
		cpu_list_file noc_list "$noc_node/cpulist"
		expand_cpulist "$noc_list"
		for noc_cpu in "${CPUS[@]}"; do
			if [[ $noc_wanted == *" $noc_cpu "* ]]; then
				noc_nodes+=("${noc_node##*/node}")
				break
			fi
		done
	done
	printf -v "$1" '%s' "${noc_nodes[*]}"
}

# Sets variable VAR to the hugepages reserved on NUMA node NODE, of every page size.
# Usage: node_hugepages VAR NODE
node_hugepages() {
	local nh_dir nh_count nh_total=0

	for nh_dir in "$SYSFS/devices/system/node/node$2"/hugepages/hugepages-*; do
		[[ -d $nh_dir ]] || continue
		read_count nh_count "$nh_dir/nr_hugepages"
		nh_total=$((nh_total + nh_count))
	done
	printf -v "$1" '%d' "$nh_total"
}

# The PCI network devices, one directory per line.
pci_nics() {
	local dev class

	for dev in "$SYSFS"/bus/pci/devices/*; do
		read_file class "$dev/class"
		if [[ $class == 0x02* ]]; then
			printf '%s\n' "$dev"
		fi
	done
}

show_hugepages() {
	local dir node kb name total free mounts sizes=0 reserved=0

	info "Hugepages (pages total / free):"
	for dir in "$SYSFS"/kernel/mm/hugepages/hugepages-*kB; do
		[[ -d $dir ]] || continue
		sizes=$((sizes + 1))
		kb=${dir##*/hugepages-}
		kb=${kb%kB}
		name=$(page_name "$kb")
		read_count total "$dir/nr_hugepages"
		reserved=$((reserved + total))
		mounts=$(hugetlbfs_mounts "$kb" | paste -sd ' ')
		read_count free "$dir/free_hugepages"
		info "  $name pages: $total / $free ($((total * kb / 1024)) MiB)," \
			"hugetlbfs ${mounts:+mounted at }${mounts:-not mounted}"
		for node in "$SYSFS"/devices/system/node/node[0-9]*; do
			[[ -d $node/hugepages/${dir##*/} ]] || continue
			read_count total "$node/hugepages/${dir##*/}/nr_hugepages"
			read_count free "$node/hugepages/${dir##*/}/free_hugepages"
			info "    ${node##*/}: $total / $free"
		done
	done
	if ((sizes == 0)); then
		info "  none: this kernel offers no hugepages (no $SYSFS/kernel/mm/hugepages)"
	elif ((reserved == 0)); then
		info "  none reserved (./dpdk-setup.sh hugepages SIZE [--node N] reserves them)"
	fi
}

show_nics() {
	local dev addr vendor device driver kind ifaces iface link node route original name count=0

	info "NICs (PCI network devices):"
	while read -r dev; do
		count=$((count + 1))
		addr=${dev##*/}
		driver=$(pci_driver "$addr")
		if [[ -z $driver ]]; then
			kind="no driver"
		elif is_dpdk_driver "$driver"; then
			kind="$driver (DPDK)"
		else
			kind="$driver (kernel)"
		fi
		ifaces=
		while read -r iface; do
			read_file link "$SYSFS/class/net/$iface/operstate" unknown
			ifaces+="${ifaces:+, }$iface (link $link)"
		done < <(pci_ifaces "$addr")
		if [[ -z $ifaces ]] && is_dpdk_driver "$driver"; then
			ifaces="none (link: ask DPDK)"
		fi
		read_file node "$dev/numa_node" -1
		[[ $node != -1 ]] || node="- (not reported)"
		route=$(default_route_via "$addr")
		original=$(remembered_driver "$addr")
		read_file vendor "$dev/vendor" '?'
		read_file device "$dev/device" '?'
		info "  $addr  ${vendor#0x}:${device#0x} " \
			"driver $kind, interface ${ifaces:-none}, NUMA node $node${route:+, DEFAULT ROUTE ($route)}${original:+, taken by bind from $original}"
		if [[ $SYSFS == /sys ]] && command -v lspci >/dev/null; then
			name=$(lspci -s "$addr" 2>/dev/null | cut -d' ' -f2-) || name=
			[[ -z $name ]] || info "      $name"
		fi
	done < <(pci_nics)
	if ((count == 0)); then
		info "  none: no PCI network device (the virtual devices of the demo and tests need none)"
	fi
}

show_numa() {
	local node cpus mem model count=0

	info "NUMA layout:"
	for node in "$SYSFS"/devices/system/node/node[0-9]*; do
		[[ -d $node ]] || continue
		count=$((count + 1))
		mem=$(awk '$3 == "MemTotal:" { print int($4 / 1024) }' "$node/meminfo" 2>/dev/null) || mem=
		cpu_list_file cpus "$node/cpulist"
		info "  ${node##*/}: CPUs ${cpus:-none}, memory ${mem:-?} MiB"
	done
	if ((count == 0)); then
		info "  none: no NUMA nodes in sysfs (a kernel without NUMA): one memory domain"
	elif ((count == 1)); then
		info "  one node: nothing can cross sockets"
	fi
	model=$(awk -F': *' '/^model name/ { print $2; exit }' "$PROCFS/cpuinfo" 2>/dev/null) || model=
	cpu_list_file cpus "$SYSFS/devices/system/cpu/online"
	info "  CPUs online: ${cpus:-?}${model:+ ($model)}"
}

show_isolated() {
	local isolated nohz nodes

	cpu_list_file isolated "$SYSFS/devices/system/cpu/isolated"
	cpu_list_file nohz "$SYSFS/devices/system/cpu/nohz_full"
	info "Isolated CPUs:"
	if [[ -n $isolated ]]; then
		nodes_of_cpus nodes "$isolated"
		info "  isolcpus: $isolated (NUMA node ${nodes:-?})"
	else
		info "  isolcpus: none (isolcpus=LIST on the kernel command line keeps other tasks off the lcores' CPUs)"
	fi
	if [[ -n $nohz ]]; then
		info "  nohz_full: $nohz"
	else
		info "  nohz_full: none (nohz_full=LIST stops the timer tick on busy-polling CPUs)"
	fi
}

show_iommu() {
	local groups=("$SYSFS"/kernel/iommu_groups/*)
	local param=$SYSFS/module/vfio/parameters/enable_unsafe_noiommu_mode

	info "IOMMU and VFIO:"
	if [[ -e ${groups[0]} ]]; then
		info "  IOMMU: on (${#groups[@]} groups)"
	else
		info "  IOMMU: off (vfio-pci needs intel_iommu=on iommu=pt or amd_iommu=on iommu=pt" \
			"on the kernel command line; see ./dpdk-setup.sh bind --help)"
	fi
	if [[ -d $SYSFS/bus/pci/drivers/vfio-pci ]]; then
		info "  vfio-pci: loaded"
	else
		info "  vfio-pci: not loaded (bind loads it)"
	fi
	if [[ ! -e $param ]]; then
		info "  no-IOMMU mode: off (vfio not loaded)"
	elif noiommu_mode; then
		info "  no-IOMMU mode: ON - devices on vfio-pci have unprotected DMA to all memory"
	else
		info "  no-IOMMU mode: off"
	fi
}

show_io_uring() {
	local sysctl=$PROCFS/sys/kernel/io_uring_disabled

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

show_ingest_dir() {
	local target=$1 dir=$1

	info "Ingest directory:"
	while [[ ! -e $dir ]]; do
		dir=$(dirname "$dir")
	done
	[[ $dir == "$target" ]] || info "  $target does not exist yet; shown for $dir, where it would be"
	df -h --output=target,fstype,size,avail "$dir" | sed 's/^/  /' || info "  df cannot tell about $dir"
}

# A DPDK NIC should have hugepages on its own node (its mbufs are allocated there), and
# the isolated CPUs meant for its RX lcores should be on that node too.
show_cross_socket() {
	local dev addr driver node pages cpus isolated iso_nodes dpdk=0 problems=0

	info "Cross-socket checks:"
	cpu_list_file isolated "$SYSFS/devices/system/cpu/isolated"
	nodes_of_cpus iso_nodes "$isolated"
	while read -r dev; do
		addr=${dev##*/}
		driver=$(pci_driver "$addr")
		is_dpdk_driver "$driver" || continue
		dpdk=$((dpdk + 1))
		read_file node "$dev/numa_node" -1
		if [[ ! $node =~ ^[0-9]+$ ]]; then
			info "  $addr ($driver): its NUMA node is not reported; nothing to check"
			continue
		fi
		node_hugepages pages "$node"
		if ((pages == 0)); then
			problems=$((problems + 1))
			info "  WARNING: $addr ($driver) is on NUMA node $node, which has no hugepages reserved:" \
				"DPDK would take its packet buffers from another node, and every packet would cross" \
				"the sockets. Reserve them there: ./dpdk-setup.sh hugepages SIZE --node $node"
		fi
		if [[ -n $isolated && -n $iso_nodes && " $iso_nodes " != *" $node "* ]]; then
			problems=$((problems + 1))
			cpu_list_file cpus "$SYSFS/devices/system/node/node$node/cpulist"
			info "  WARNING: the isolated CPUs ($isolated) are all on NUMA node $iso_nodes, but" \
				"$addr ($driver) is on node $node: RX lcores there would poll it across the sockets." \
				"Isolate CPUs of node $node (${cpus:-?}) for its lcores."
		fi
	done < <(pci_nics)
	if ((dpdk == 0)); then
		info "  none to check: no NIC is bound to a DPDK driver"
	elif ((problems == 0)); then
		info "  ok: every DPDK-bound NIC has hugepages${isolated:+ and isolated CPUs} on its own node"
	fi
}

cmd_status() {
	local target=$CALLER_DIR

	while [[ $# -gt 0 ]]; do
		case $1 in
		-h | --help)
			command_help status
			return 0
			;;
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
	scan_net
	show_hugepages
	show_nics
	show_numa
	show_isolated
	show_iommu
	show_io_uring
	show_build
	show_ingest_dir "$target"
	show_cross_socket
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

	if [[ ${1:-} == -h || ${1:-} == --help ]]; then
		command_help demo
		return 0
	fi
	[[ $# -eq 0 ]] || usage_error "demo takes no arguments"
	install_deps
	configure_build 0 0
	build_sluice
	read -ra eal <<<"$(demo_lcores)"
	if ! reserve_default_hugepages; then
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
	local sanitize=0 valgrind=0 rc=0
	local suites=()
	local args=()

	while [[ $# -gt 0 ]]; do
		case $1 in
		-h | --help)
			command_help test
			return 0
			;;
		--sanitize) sanitize=1 ;;
		--valgrind) valgrind=1 ;;
		--no-suite)
			[[ $# -ge 2 ]] || usage_error "--no-suite needs a name"
			args+=(--no-suite "$2")
			shift
			;;
		--no-suite=*) args+=(--no-suite "${1#--no-suite=}") ;;
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
	# --- valgrind (docs/security.md): the unit tests of the normal build under memcheck,
	# through the "valgrind" test setup of tests/meson.build. Only unit tests: e2e runs
	# whole DPDK processes, and a sanitized binary cannot run under valgrind.
	if [[ $valgrind -eq 1 ]]; then
		[[ $sanitize -eq 0 ]] || usage_error "--valgrind and --sanitize exclude each other"
		[[ ${#suites[@]} -gt 0 ]] || suites=(unit)
		[[ " ${suites[*]} " != *" e2e "* ]] || usage_error "--valgrind runs unit tests only"
		PACKAGES+=(valgrind)
		args+=(--setup valgrind)
	fi
	# --- end of valgrind
	[[ ${#suites[@]} -gt 0 ]] || suites=(unit e2e)

	install_deps
	configure_build 0 "$sanitize"
	build_sluice
	# The tests run with --no-huge, so missing hugepages are not a failure.
	reserve_default_hugepages || warn "continuing without hugepages"

	local suite
	for suite in "${suites[@]}"; do
		args+=(--suite "$suite")
	done
	# Sanitizers slow the binaries down severalfold (the valgrind setup has its own).
	[[ $sanitize -eq 1 ]] && args+=(--timeout-multiplier 4)
	# e2e tests run whole DPDK processes; in parallel they would fight over few CPUs.
	meson test -C "$BUILD_DIR" "${args[@]}" --print-errorlogs --num-processes 1 || rc=$?
	exit "$rc"
}

# The libFuzzer targets of tests/fuzz: clang builds them, with every module
# instrumented, in a build directory of their own (-Dfuzz=enabled).
fuzz_build() {
	local dir=$1 version src
	local targets=()

	PACKAGES+=(clang)
	command -v clang >/dev/null || install_deps
	# The fuzzer runtime comes apart from clang, in the package of its version.
	version=$(clang -dumpversion)
	PACKAGES+=("libclang-rt-${version%%.*}-dev")
	install_deps
	if [[ ! -f $dir/meson-private/coredata.dat ]]; then
		CC=clang meson setup -Dfuzz=enabled -Dtests=disabled -Dbuildtype=debugoptimized \
			"$dir"
	fi
	for src in tests/fuzz/fuzz_*.c; do
		src=${src##*/}
		src=${src%.c}
		[[ $src == fuzz_seeds ]] || targets+=("tests/fuzz/$src")
	done
	ninja -C "$dir" "${targets[@]}"
}

# Usage: fuzz_targets SECONDS [TARGET...]: builds, then runs each target (default: all)
# for SECONDS, one at a time; returns 1 if any failed, after running the others.
fuzz_targets() {
	local seconds=$1
	local dir=${SL_FUZZ_BUILD_DIR:-build-fuzz}
	local names=("${@:2}")
	local failed=()
	local name log artifact rc
	local extra=()

	if [[ ${#names[@]} -eq 0 ]]; then
		for name in tests/fuzz/corpus/*/; do
			name=${name%/}
			names+=("${name##*/}")
		done
	fi
	for name in "${names[@]}"; do
		[[ -f tests/fuzz/fuzz_$name.c ]] ||
			usage_error "no fuzz target '$name' (tests/fuzz/fuzz_$name.c)"
	done
	fuzz_build "$dir"
	mkdir -p "$dir/fuzz-logs" "$dir/fuzz-artifacts"
	for name in "${names[@]}"; do
		log=$dir/fuzz-logs/$name.log
		extra=()
		[[ -f tests/fuzz/$name.dict ]] && extra+=("-dict=tests/fuzz/$name.dict")
		mkdir -p "$dir/fuzz-corpus/$name"
		info "fuzz_$name: $seconds s"
		rc=0
		# New inputs go to the first directory; the seeds in git are only read.
		"$dir/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -rss_limit_mb=2048 \
			-timeout=30 -artifact_prefix="$dir/fuzz-artifacts/$name-" \
			-print_final_stats=1 "${extra[@]}" "$dir/fuzz-corpus/$name" \
			"tests/fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
		grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 | sed 's/^/  /' || true
		if [[ $rc -ne 0 ]]; then
			artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
			warn "fuzz_$name failed (exit $rc): input ${artifact:-(none written)}, log $log"
			grep -m 5 -E 'ERROR|invariant failed|runtime error|SUMMARY' "$log" >&2 || true
			failed+=("fuzz_$name")
		fi
	done
	if [[ ${#failed[@]} -gt 0 ]]; then
		warn "fuzzing failed: ${failed[*]} (reproduce: $dir/tests/fuzz/TARGET INPUT)"
		return 1
	fi
	info "Fuzzing: ${#names[@]} targets, $seconds s each, no failure."
}

cmd_fuzz() {
	local seconds=60

	if [[ ${1:-} == -h || ${1:-} == --help ]]; then
		command_help fuzz
		return 0
	fi
	if [[ ${1:-} =~ ^[0-9]+$ ]]; then
		seconds=$((10#$1))
		shift
		[[ $seconds -gt 0 ]] || usage_error "SECONDS must be at least 1"
	fi
	[[ ${1:-} != -* ]] || usage_error "unknown fuzz option: $1"
	fuzz_targets "$seconds" "$@" || exit 1
}

# The benchmarks live in tests/perf; their arguments go to tests/perf/bench.sh.
cmd_bench() {
	local bench=$ROOT/tests/perf/bench.sh

	if [[ ${1:-} == -h || ${1:-} == --help ]]; then
		command_help bench
		return 0
	fi
	[[ -e $bench ]] || die "$bench does not exist: this tree has no benchmarks yet (tests/perf, docs/performance.md)"
	[[ -x $bench ]] || die "$bench is not executable (chmod +x it)"
	PACKAGES+=("${BENCH_PACKAGES[@]}")
	install_deps
	configure_build 0 0
	build_sluice
	exec "$ROOT/tests/perf/bench.sh" "$@"
}

main() {
	local cmd=${1:-}

	[[ $# -gt 0 ]] && shift
	cd "$ROOT"
	case $cmd in
	deps | build | hugepages | bind | unbind | status | demo | test | bench | fuzz) COMMAND=$cmd ;;
	esac
	case $cmd in
	deps) cmd_deps "$@" ;;
	build) cmd_build "$@" ;;
	hugepages) cmd_hugepages "$@" ;;
	bind) cmd_bind "$@" ;;
	unbind) cmd_unbind "$@" ;;
	status) cmd_status "$@" ;;
	demo) cmd_demo "$@" ;;
	test) cmd_test "$@" ;;
	bench) cmd_bench "$@" ;;
	fuzz) cmd_fuzz "$@" ;;
	help | --help | -h) usage ;;
	"") usage_error "no command given" ;;
	*) usage_error "unknown command: $cmd" ;;
	esac
}

main "$@"
