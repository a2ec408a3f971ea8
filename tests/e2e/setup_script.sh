#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The bare-metal commands of dpdk-setup.sh (hugepages, bind, unbind, status), run
# against fake sysfs and procfs trees in a temporary directory (SLUICE_SYSFS,
# SLUICE_PROCFS, SLUICE_STATE_DIR), plus read-only checks and a reversible hugepage
# reservation on the real machine. It needs none of the binaries, only root (the script
# writes through as_root, which would ask sudo for a password otherwise).
# Exit 77 means skipped, as meson expects.

set -euo pipefail

SETUP=$(readlink -f "$(dirname "$(readlink -f "$0")")/../../dpdk-setup.sh")
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-setup_script.XXXXXX")
T_CLEANUP=()
CHECKS=0

cleanup() {
	local rc=$?
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUP[i]}" || true
	done
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
		rm -rf "$T_DIR"
	else
		echo "test failed (rc=$rc); files kept in $T_DIR" >&2
	fi
}
trap cleanup EXIT

on_exit() { T_CLEANUP+=("$*"); }
fail() {
	echo "FAIL: $*" >&2
	for f in "$T_DIR/out" "$T_DIR/err"; do
		[ -s "$f" ] && sed "s|^|  ${f##*/}: |" "$f" >&2
	done
	exit 1
}
skip() {
	echo "SKIP: $*"
	exit 77
}
note() { echo "== $*"; }
ok() { CHECKS=$((CHECKS + 1)); }

[ "$(id -u)" -eq 0 ] || skip "needs root (the script writes sysfs through sudo otherwise)"
[ -f "$SETUP" ] || fail "no dpdk-setup.sh at $SETUP"

# The fake tree the next commands run against.
F=

# run ARGS...: dpdk-setup.sh ARGS against the fake tree $F; output in $T_DIR/out and
# $T_DIR/err, exit status in RC.
run() {
	RC=0
	SLUICE_SYSFS=$F/sys SLUICE_PROCFS=$F/proc SLUICE_STATE_DIR=$F/state \
		timeout 60 bash "$SETUP" "$@" >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
	[ "$RC" -ne 124 ] || fail "dpdk-setup.sh $* did not finish within 60 s"
}

# run_real ARGS...: dpdk-setup.sh ARGS on the real machine.
run_real() {
	RC=0
	env -u SLUICE_SYSFS -u SLUICE_PROCFS -u SLUICE_STATE_DIR \
		timeout 120 bash "$SETUP" "$@" >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
}

expect_rc() {
	[ "$RC" -eq "$1" ] || fail "$2: exit status $RC, expected $1"
	ok
}

expect_fail() {
	[ "$RC" -ne 0 ] || fail "$1: succeeded, expected a failure"
	[ "$RC" -ne 2 ] || fail "$1: exit status 2 (usage error), expected a refusal"
	ok
}

# expect_text out|err TEXT WHAT
expect_text() {
	grep -qF -- "$2" "$T_DIR/$1" || fail "$3: no '$2' in std$1"
	ok
}

expect_file() {
	local got
	got=$(cat "$1" 2>/dev/null || echo "<missing>")
	[ "$got" = "$2" ] || fail "$3: $1 holds '$got', expected '$2'"
	ok
}

expect_line() {
	grep -qxF -- "$2" "$1" 2>/dev/null || fail "$3: no line '$2' in $1"
	ok
}

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# add_nic ADDR CLASS DRIVER NODE [IFACE [FLAGS [VIA]]]: a PCI device of the fake tree.
# The kernel's choice of driver by modalias is DRIVER (or modalias_driver). VIA puts
# the interface below a child device, as virtio does.
add_nic() {
	local addr=$1 class=$2 driver=$3 node=$4 iface=${5:-} flags=${6:-0x1002} via=${7:-}
	local dev=$F/sys/bus/pci/devices/$addr

	mkdir -p "$dev"
	echo "$class" >"$dev/class"
	echo 0x8086 >"$dev/vendor"
	echo 0x10fb >"$dev/device"
	echo "$node" >"$dev/numa_node"
	echo "(null)" >"$dev/driver_override"
	echo "${driver:-ixgbe}" >"$dev/modalias_driver"
	if [ -n "$driver" ]; then
		mkdir -p "$F/sys/bus/pci/drivers/$driver"
		ln -s "$F/sys/bus/pci/drivers/$driver" "$dev/driver"
	fi
	if [ -n "$iface" ]; then
		mkdir -p "$F/sys/class/net/$iface" "$dev/$via"
		ln -s "$dev${via:+/$via}" "$F/sys/class/net/$iface/device"
		echo "$flags" >"$F/sys/class/net/$iface/flags"
		if [ $((flags & 1)) -eq 1 ]; then
			echo up >"$F/sys/class/net/$iface/operstate"
		else
			echo down >"$F/sys/class/net/$iface/operstate"
		fi
	fi
}

# add_node N CPULIST PAGES: a NUMA node with PAGES 2M hugepages reserved.
add_node() {
	local node=$F/sys/devices/system/node/node$1
	mkdir -p "$node/hugepages/hugepages-2048kB"
	echo "$2" >"$node/cpulist"
	echo "Node $1 MemTotal:       16777216 kB" >"$node/meminfo"
	echo "$3" >"$node/hugepages/hugepages-2048kB/nr_hugepages"
	echo "$3" >"$node/hugepages/hugepages-2048kB/free_hugepages"
}

# make_fake NAME [iommu=0] [noiommu=Y]: a new fake machine in $F. Two NUMA nodes
# (CPUs 0-3 and 4-7, 64 hugepages on node 0 only, CPUs 2-3 isolated) and these NICs:
#   0000:03:00.0  ixgbe, enp3s0f0, down, node 0          (bindable)
#   0000:03:00.1  ixgbe, enp3s0f1, UP, node 0            (needs --force)
#   0000:00:19.0  e1000e, eno1 below virtio3, up, IPv4 default route
#   0000:00:1f.6  e1000e, eno2, enslaved to bond0, which has the IPv6 default route
#   0000:81:00.0  vfio-pci, node 1, no remembered driver (modalias picks ice)
#   0000:00:17.0  a SATA controller
make_fake() {
	local opt iommu=1 noiommu=
	F=$T_DIR/$1
	shift
	for opt in "$@"; do
		case $opt in
		iommu=0) iommu=0 ;;
		noiommu=*) noiommu=${opt#noiommu=} ;;
		esac
	done
	mkdir -p "$F/sys/bus/pci/drivers/vfio-pci" "$F/sys/kernel/iommu_groups" \
		"$F/sys/kernel/mm/hugepages/hugepages-2048kB" "$F/sys/devices/system/cpu" \
		"$F/proc/net" "$F/proc/sys/kernel" "$F/state"
	: >"$F/sys/bus/pci/drivers_probe"
	[ "$iommu" -eq 0 ] || mkdir -p "$F/sys/kernel/iommu_groups/"{1,2,3}
	if [ -n "$noiommu" ]; then
		mkdir -p "$F/sys/module/vfio/parameters"
		echo "$noiommu" >"$F/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
	fi
	add_node 0 0-3 64
	add_node 1 4-7 0
	echo 64 >"$F/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
	echo 64 >"$F/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
	echo 0-7 >"$F/sys/devices/system/cpu/online"
	echo 2-3 >"$F/sys/devices/system/cpu/isolated"
	echo "(null)" >"$F/sys/devices/system/cpu/nohz_full"

	add_nic 0000:03:00.0 0x020000 ixgbe 0 enp3s0f0 0x1002
	add_nic 0000:03:00.1 0x020000 ixgbe 0 enp3s0f1 0x1003
	add_nic 0000:00:19.0 0x020000 e1000e 0 eno1 0x1003 virtio3
	add_nic 0000:00:1f.6 0x020000 e1000e 0 eno2 0x1803
	add_nic 0000:81:00.0 0x020000 vfio-pci 1
	echo ice >"$F/sys/bus/pci/devices/0000:81:00.0/modalias_driver"
	mkdir -p "$F/sys/bus/pci/drivers/ice"
	add_nic 0000:00:17.0 0x010601 ahci 0
	mkdir -p "$F/sys/class/net/bond0" "$F/sys/class/net/lo"
	ln -s ../eno2 "$F/sys/class/net/bond0/lower_eno2"
	echo 0x1403 >"$F/sys/class/net/bond0/flags"

	printf '%s\n' \
		$'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT' \
		$'eno1\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0' \
		$'eno1\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0' \
		$'enp3s0f1\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0' \
		>"$F/proc/net/route"
	# The IPv6 default goes through bond0; the ones on lo and enp3s0f0 are unreachable
	# (RTF_REJECT) routes, which are no way out.
	printf '%s\n' \
		'00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003    bond0' \
		'fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 enp3s0f1' \
		'00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo' \
		'00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 enp3s0f0' \
		>"$F/proc/net/ipv6_route"
	echo 'nodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0' >"$F/proc/mounts"
	echo 'Hugepagesize:       2048 kB' >"$F/proc/meminfo"
	printf '%s\n' 'model name	: Fake CPU' 'flags		: fpu vme de pse tsc msr pae' >"$F/proc/cpuinfo"
	echo 0 >"$F/proc/sys/kernel/io_uring_disabled"
}

# The fake kernel: it does not react to writes, except this loop, which moves a device
# to its new driver once the script wrote its address to drivers_probe (to the driver
# in driver_override, else to the one its modalias picks) or to a driver's bind file.
FAKE_KERNEL=
fake_kernel_loop() {
	set +e
	local f i addr dev target written=()
	declare -A seen=()
	while :; do
		for f in "$F"/sys/bus/pci/drivers_probe "$F"/sys/bus/pci/drivers/*/bind; do
			[ -f "$f" ] || continue
			mapfile -t written <"$f"
			for ((i = ${seen[$f]:-0}; i < ${#written[@]}; i++)); do
				addr=${written[i]}
				dev=$F/sys/bus/pci/devices/$addr
				if [ -z "$addr" ] || [ ! -d "$dev" ]; then continue; fi
				if [ "${f##*/}" = drivers_probe ]; then
					read -r target <"$dev/driver_override"
					if [ -z "$target" ] || [ "$target" = "(null)" ]; then
						read -r target <"$dev/modalias_driver"
					fi
				else
					target=${f%/bind}
					target=${target##*/}
				fi
				if [ -d "$F/sys/bus/pci/drivers/$target" ]; then
					ln -sfn "$F/sys/bus/pci/drivers/$target" "$dev/driver"
				fi
			done
			seen[$f]=${#written[@]}
		done
		sleep 0.1
	done
}
start_fake_kernel() {
	fake_kernel_loop &
	FAKE_KERNEL=$!
	on_exit "kill $FAKE_KERNEL 2>/dev/null"
}
stop_fake_kernel() {
	if [ -n "$FAKE_KERNEL" ]; then
		kill "$FAKE_KERNEL" 2>/dev/null || true
		wait "$FAKE_KERNEL" 2>/dev/null || true
		FAKE_KERNEL=
	fi
}

driver_of() { basename "$(readlink "$F/sys/bus/pci/devices/$1/driver")"; }

# --- Help and usage errors ---------------------------------------------------------
note "--help of every command"
F=$T_DIR/none
for cmd in deps build demo test bench fuzz hugepages bind unbind status; do
	run "$cmd" --help
	expect_rc 0 "$cmd --help"
	expect_text out "Usage: ./dpdk-setup.sh $cmd" "$cmd --help"
done
run help
expect_rc 0 "help"
for cmd in deps build demo test bench fuzz hugepages bind unbind status; do
	grep -qE "^  $cmd( |$)" "$T_DIR/out" || fail "help does not list $cmd"
	ok
done
run bench --help
expect_text out "tests/perf" "bench --help"
expect_text out "not part of \"test\"" "bench --help"
expect_text out "docs/performance.md" "bench --help"

note "bad flags and arguments: one line, exit 2"
make_fake usage
bad_args=(
	"bind --bogus 0000:03:00.0"
	"bind"
	"bind 12345"
	"bind 0000:03:00.0 --driver e1000e"
	"bind 0000:03:00.0 --driver"
	"unbind --driver vfio-pci 0000:03:00.0"
	"unbind"
	"hugepages --page 3M"
	"hugepages 64M --node x"
	"hugepages 64M 128M"
	"hugepages 12Q"
	"hugepages --node"
	"status --nope"
	"status --dir"
	"build --nope"
	"test --nope"
	"test --sanitize --valgrind"
	"test --valgrind --suite e2e"
	"test --no-suite"
	"fuzz --bogus"
	"fuzz 0"
	"fuzz 5 no_such_target"
	"deps extra"
	"demo extra"
	"frobnicate"
)
for args in "${bad_args[@]}"; do
	# shellcheck disable=SC2086 # one argument per word
	run $args
	expect_rc 2 "$args"
	[ "$(wc -l <"$T_DIR/err")" -eq 1 ] || fail "$args: the error is not one line"
	expect_text err "error: " "$args"
	[ "$(lines "$F/sys/bus/pci/drivers_probe")" -eq 0 ] || fail "$args wrote to sysfs"
done

# --- bind and unbind ---------------------------------------------------------------
note "bind: driver_override, unbind, drivers_probe, original driver remembered"
make_fake bind
start_fake_kernel
DEV=$F/sys/bus/pci/devices/0000:03:00.0
run bind 03:00.0
expect_rc 0 "bind 03:00.0"
expect_file "$DEV/driver_override" vfio-pci "bind"
expect_line "$F/sys/bus/pci/drivers/ixgbe/unbind" 0000:03:00.0 "bind unbinds from ixgbe"
expect_line "$F/sys/bus/pci/drivers_probe" 0000:03:00.0 "bind probes"
expect_line "$F/state/bindings" "0000:03:00.0 ixgbe" "bind remembers ixgbe"
[ "$(driver_of 0000:03:00.0)" = vfio-pci ] || fail "the fake device is not on vfio-pci"
expect_text out "0000:03:00.0 is bound to vfio-pci" "bind"

note "bind again: nothing to do, nothing written"
probes=$(lines "$F/sys/bus/pci/drivers_probe")
unbinds=$(lines "$F/sys/bus/pci/drivers/ixgbe/unbind")
run bind 0000:03:00.0 --driver vfio-pci
expect_rc 0 "second bind"
expect_text out "already bound to vfio-pci" "second bind"
[ "$(lines "$F/sys/bus/pci/drivers_probe")" -eq "$probes" ] || fail "second bind probed again"
[ "$(lines "$F/sys/bus/pci/drivers/ixgbe/unbind")" -eq "$unbinds" ] || fail "second bind unbound"
[ ! -e "$F/sys/bus/pci/drivers/vfio-pci/unbind" ] || fail "second bind unbound from vfio-pci"
ok

note "status shows the binding"
run status --dir "$T_DIR"
expect_rc 0 "status"
grep -F "0000:03:00.0" "$T_DIR/out" | grep -qF "vfio-pci (DPDK)" || fail "status: 03:00.0 not on vfio-pci (DPDK)"
grep -F "0000:03:00.0" "$T_DIR/out" | grep -qF "taken by bind from ixgbe" || fail "status: remembered driver not shown"
ok

note "unbind: back to the remembered driver"
run unbind 0000:03:00.0
expect_rc 0 "unbind"
expect_file "$DEV/driver_override" "" "unbind clears driver_override"
expect_line "$F/sys/bus/pci/drivers/vfio-pci/unbind" 0000:03:00.0 "unbind unbinds from vfio-pci"
expect_line "$F/sys/bus/pci/drivers/ixgbe/bind" 0000:03:00.0 "unbind binds ixgbe"
[ "$(driver_of 0000:03:00.0)" = ixgbe ] || fail "the fake device is not back on ixgbe"
! grep -q 0000:03:00.0 "$F/state/bindings" || fail "unbind left the binding remembered"
ok
expect_text out "back on ixgbe" "unbind"

note "unbind again: nothing to do"
binds=$(lines "$F/sys/bus/pci/drivers/ixgbe/bind")
run unbind 0000:03:00.0
expect_rc 0 "second unbind"
expect_text out "nothing to do" "second unbind"
[ "$(lines "$F/sys/bus/pci/drivers/ixgbe/bind")" -eq "$binds" ] || fail "second unbind bound again"
ok

note "unbind of a device bind did not take: the kernel picks its driver"
probes=$(lines "$F/sys/bus/pci/drivers_probe")
run unbind 0000:81:00.0
expect_rc 0 "unbind 81:00.0"
expect_file "$F/sys/bus/pci/devices/0000:81:00.0/driver_override" "" "unbind 81:00.0"
expect_line "$F/sys/bus/pci/drivers/vfio-pci/unbind" 0000:81:00.0 "unbind 81:00.0"
[ "$(lines "$F/sys/bus/pci/drivers_probe")" -eq $((probes + 1)) ] || fail "unbind 81:00.0 did not probe"
[ "$(driver_of 0000:81:00.0)" = ice ] || fail "81:00.0 not on ice"
ok

note "an interface that is up needs --force"
run bind 0000:03:00.1
expect_fail "bind of an up interface"
expect_text err "enp3s0f1 is up" "bind of an up interface"
expect_text err "--force" "bind of an up interface"
expect_file "$F/sys/bus/pci/devices/0000:03:00.1/driver_override" "(null)" "refused bind"
run bind 0000:03:00.1 --force
expect_rc 0 "bind --force of an up interface"
expect_text err "enp3s0f1" "bind --force warns"
expect_file "$F/sys/bus/pci/devices/0000:03:00.1/driver_override" vfio-pci "bind --force"

note "the default route's NIC is refused, for bind and unbind, even with --force"
for args in "bind 0000:00:19.0" "bind 0000:00:19.0 --force" "unbind 0000:00:19.0" \
	"unbind 0000:00:19.0 --force" "bind 0000:00:1f.6 --force" "unbind 0000:00:1f.6 --force" \
	"bind 0000:03:00.0 0000:00:19.0"; do
	# shellcheck disable=SC2086
	run $args
	expect_fail "$args"
	expect_text err "default route" "$args"
done
expect_text err "eno1 IPv4" "IPv4 default route named"
run bind 0000:00:1f.6 --force
expect_text err "bond0 IPv6" "IPv6 default route through bond0 named"
for a in 0000:00:19.0 0000:00:1f.6; do
	expect_file "$F/sys/bus/pci/devices/$a/driver_override" "(null)" "refused $a"
	[ "$(driver_of $a)" = e1000e ] || fail "$a moved"
done
# The refused list held 03:00.0 too: nothing is touched unless every address passes.
expect_file "$DEV/driver_override" "" "03:00.0 untouched when a later address is refused"

note "non-network and unknown devices are refused"
run bind 0000:00:17.0
expect_fail "bind of a SATA controller"
expect_text err "not a network device" "bind of a SATA controller"
run unbind 0000:00:17.0
expect_fail "unbind of a SATA controller"
run bind 0000:09:00.0
expect_fail "bind of an unknown address"
expect_text err "no PCI device 0000:09:00.0" "bind of an unknown address"
expect_file "$F/sys/bus/pci/devices/0000:00:17.0/driver_override" "(null)" "SATA untouched"

note "a device that does not reach the driver: error, and given back"
stop_fake_kernel
make_fake stuck
run bind 0000:03:00.0
expect_fail "bind without the device moving"
expect_text err "did not bind to vfio-pci" "bind without the device moving"
expect_file "$F/sys/bus/pci/devices/0000:03:00.0/driver_override" "" "given back"
expect_line "$F/sys/bus/pci/drivers/ixgbe/bind" 0000:03:00.0 "given back to ixgbe"

note "no IOMMU: error with the kernel command line"
make_fake noiommu iommu=0
run bind 0000:03:00.0
expect_fail "bind without an IOMMU"
expect_text err "intel_iommu=on iommu=pt" "bind without an IOMMU"
expect_text err "amd_iommu=on" "bind without an IOMMU"
expect_text err "enable_unsafe_noiommu_mode" "bind without an IOMMU"
expect_file "$F/sys/bus/pci/devices/0000:03:00.0/driver_override" "(null)" "nothing written"
[ "$(lines "$F/sys/bus/pci/drivers_probe")" -eq 0 ] || fail "probed without an IOMMU"

note "no-IOMMU mode: loud warning, then bound"
make_fake unsafe iommu=0 noiommu=Y
start_fake_kernel
run bind 0000:03:00.0
expect_rc 0 "bind in no-IOMMU mode"
expect_text err "NO-IOMMU MODE" "bind in no-IOMMU mode"
expect_file "$F/sys/bus/pci/devices/0000:03:00.0/driver_override" vfio-pci "bind in no-IOMMU mode"
run status
expect_text out "no-IOMMU mode: ON" "status in no-IOMMU mode"
stop_fake_kernel

note "uio_pci_generic: warned about"
make_fake uio
mkdir -p "$F/sys/bus/pci/drivers/uio_pci_generic"
start_fake_kernel
run bind 0000:03:00.0 --driver uio_pci_generic
expect_rc 0 "bind to uio_pci_generic"
expect_text err "unprotected" "bind to uio_pci_generic"
expect_file "$F/sys/bus/pci/devices/0000:03:00.0/driver_override" uio_pci_generic "uio bind"
stop_fake_kernel

# --- hugepages ---------------------------------------------------------------------
note "hugepages --node: 64M of 2M pages is 32 on node 0"
make_fake huge
NODE0=$F/sys/devices/system/node/node0/hugepages/hugepages-2048kB
echo 0 >"$NODE0/nr_hugepages"
run hugepages 64M --node 0 --page 2M
expect_rc 0 "hugepages 64M --node 0"
expect_file "$NODE0/nr_hugepages" 32 "hugepages 64M --node 0"
expect_file "$F/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages" 64 "global pool untouched"
expect_text out "mounted at /dev/hugepages" "hugetlbfs seen mounted"
run hugepages 64M --node=0 --page=2M
expect_rc 0 "hugepages again"
expect_text out "nothing changed" "hugepages again"
expect_file "$NODE0/nr_hugepages" 32 "hugepages again"
run hugepages 32M --node 0
expect_rc 0 "hugepages smaller"
expect_file "$NODE0/nr_hugepages" 32 "hugepages never shrinks"
run hugepages 64M --node 2
expect_fail "hugepages on a missing node"
expect_text err "no NUMA node 2" "hugepages on a missing node"

note "hugepages: the kernel gives fewer than asked"
mkdir -p "$T_DIR/fifo" # the node's count is a FIFO: it reads 4, takes the write, reads 10
rm -f "$NODE0/nr_hugepages"
mkfifo "$NODE0/nr_hugepages"
(
	echo 4 >"$NODE0/nr_hugepages"
	cat "$NODE0/nr_hugepages" >"$T_DIR/fifo/written"
	echo 10 >"$NODE0/nr_hugepages"
) &
FIFO_PID=$!
on_exit "kill $FIFO_PID 2>/dev/null"
run hugepages 64M --node 0
wait "$FIFO_PID" || fail "the FIFO was not read and written as expected"
expect_file "$T_DIR/fifo/written" 32 "short hugepages: 32 asked"
expect_rc 1 "short hugepages"
expect_text err "reserved only 10" "short hugepages"
expect_text err "hugepagesz=2M hugepages=0:32" "short hugepages: boot advice"
expect_text err "drop_caches" "short hugepages: drop caches advice"

note "hugepages: 1G pages on a CPU without them"
run hugepages 2G --page 1G
expect_fail "1G hugepages without pdpe1gb"
expect_text err "pdpe1gb" "1G hugepages without pdpe1gb"

# --- status --------------------------------------------------------------------------
note "status on the fake machine: sections, NICs, cross-socket warnings"
make_fake status
run status --dir "$T_DIR/not-yet"
expect_rc 0 "status"
for section in "Hugepages" "NICs" "NUMA layout" "Isolated CPUs" "IOMMU and VFIO" "io_uring" \
	"Ingest directory" "Cross-socket checks"; do
	expect_text out "$section" "status section $section"
done
expect_text out "node0: 64 / 64" "status: hugepages per node"
expect_text out "node1: 0 / 0" "status: hugepages per node"
expect_text out "hugetlbfs mounted at /dev/hugepages" "status: mounts"
expect_text out "node1: CPUs 4-7, memory 16384 MiB" "status: NUMA layout"
expect_text out "isolcpus: 2-3 (NUMA node 0)" "status: isolated CPUs"
expect_text out "nohz_full: none" "status: nohz_full"
expect_text out "IOMMU: on (3 groups)" "status: IOMMU"
expect_text out "io_uring: enabled" "status: io_uring"
expect_text out "not-yet does not exist yet" "status: ingest directory"
grep -F "0000:00:19.0" "$T_DIR/out" | grep -qF "DEFAULT ROUTE (eno1 IPv4)" || fail "status: no default route mark on 00:19.0"
grep -F "0000:00:1f.6" "$T_DIR/out" | grep -qF "DEFAULT ROUTE (bond0 IPv6)" || fail "status: no default route mark on 00:1f.6"
grep -F "0000:03:00.1" "$T_DIR/out" | grep -qF "enp3s0f1 (link up)" || fail "status: link state"
grep -F "0000:81:00.0" "$T_DIR/out" | grep -qF "vfio-pci (DPDK)" || fail "status: 81:00.0 on vfio-pci"
grep -F "0000:81:00.0" "$T_DIR/out" | grep -qF "NUMA node 1" || fail "status: 81:00.0 NUMA node"
! grep -qF "0000:00:17.0" "$T_DIR/out" || fail "status lists the SATA controller as a NIC"
ok
expect_text out "WARNING: 0000:81:00.0 (vfio-pci) is on NUMA node 1, which has no hugepages" \
	"status: cross-socket hugepages warning"
expect_text out "hugepages SIZE --node 1" "status: cross-socket advice"
expect_text out "WARNING: the isolated CPUs (2-3) are all on NUMA node 0" \
	"status: cross-socket isolated CPUs warning"

note "status on an empty machine: none lines, no errors"
F=$T_DIR/empty
mkdir -p "$F/sys" "$F/proc"
run status
expect_rc 0 "status on an empty tree"
[ ! -s "$T_DIR/err" ] || fail "status on an empty tree wrote errors"
expect_text out "none: no PCI network device" "empty status"
expect_text out "none: this kernel offers no hugepages" "empty status"
expect_text out "none: no NUMA nodes" "empty status"
expect_text out "none to check" "empty status"

# --- the real machine ----------------------------------------------------------------
note "status on this machine"
run_real status --dir /tmp
expect_rc 0 "status on this machine"
expect_text out "Cross-socket checks" "status on this machine"
# If the default route goes out through a PCI NIC, status marks it.
route_dev=$(ip -o route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
if [ -n "$route_dev" ] && [ -e "/sys/class/net/$route_dev/device" ]; then
	expect_text out "DEFAULT ROUTE ($route_dev" "status marks the default route's NIC"
fi

note "hugepages on this machine: two more pages, then again (nothing changed), then restored"
pool=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ -w "$pool" ] && grep -q ' hugetlbfs ' /proc/mounts; then
	before=$(cat "$pool")
	# Put the pool back only if nobody else changed it meanwhile (others share this machine).
	restore_pool() {
		[ "$(cat "$pool")" != $((before + 2)) ] || echo "$before" >"$pool"
	}
	on_exit restore_pool
	run_real hugepages $(((before + 2) * 2))M
	if [ "$RC" -eq 0 ] && grep -qF "nothing changed" "$T_DIR/out"; then
		note "someone else grew the pool meanwhile ($(cat "$pool") pages); skipped that part"
	elif [ "$RC" -eq 0 ]; then
		expect_file "$pool" $((before + 2)) "real hugepages"
		run_real hugepages $(((before + 2) * 2))M
		expect_rc 0 "real hugepages again"
		expect_text out "nothing changed" "real hugepages again"
		expect_file "$pool" $((before + 2)) "real hugepages again"
	else
		grep -qF "reserved only" "$T_DIR/err" || fail "real hugepages failed: $(cat "$T_DIR/err")"
		note "the kernel had no 4 MiB of free contiguous memory; skipped that part"
	fi
	restore_pool
else
	note "no writable $pool or no hugetlbfs mounted; skipped that part"
fi

echo "setup_script: $CHECKS checks passed"
