# SPDX-License-Identifier: BSD-3-Clause
# Shared helpers for the end-to-end tests. Each test is a bash script run by
# meson with SLUICE, MKPCAP, PCAPDUMP and CHECK_PCAPDUMP in the environment.
# Exit 77 means skipped (a prerequisite is missing), as meson expects.

set -euo pipefail

: "${SLUICE:?}" "${MKPCAP:?}" "${PCAPDUMP:?}" "${CHECK_PCAPDUMP:?}"
T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$T_NAME.XXXXXX")
T_CLEANUP=()

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

# The system's python3 (a package "deps" installs) before any version manager's shim
# in PATH: a pyenv shim costs a second or more per start, and the tests start python
# often, some of them while busy-polling lcores hold the CPUs. Only stdlib is used.
if [ -x /usr/bin/python3 ]; then
	mkdir "$T_DIR/.bin"
	ln -s /usr/bin/python3 "$T_DIR/.bin/python3"
	export PATH="$T_DIR/.bin:$PATH"
fi

on_exit() { T_CLEANUP+=("$*"); }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "== $*"; }

# EAL arguments for a run on this small machine: no hugepages, no PCI, a
# file prefix of our own, lcores mapped onto the CPUs there are.
# Usage: eal_args NB_WORKERS -> prints the EAL options.
eal_args() {
	local workers=$1 cpus lc=0 map
	cpus=$(nproc)
	map="0@0"
	for ((lc = 1; lc <= workers; lc++)); do
		map="$map,$lc@$((lc % cpus))"
	done
	echo "--no-huge -m 768 --no-pci --file-prefix=sl-$T_NAME-$$ --log-level=lib.eal:error --lcores=$map"
}

# run_sluice NB_WORKERS TIMEOUT_S [EAL args...] -- [app args...]
# Runs sluice with a time limit, output to $T_DIR/sluice.log; returns its status.
run_sluice() {
	local workers=$1 limit=$2 rc=0
	shift 2
	# shellcheck disable=SC2046
	timeout --signal=INT --kill-after=20 "$limit" "$SLUICE" $(eal_args "$workers") "$@" \
		>"$T_DIR/sluice.log" 2>&1 || rc=$?
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		cat "$T_DIR/sluice.log" >&2
		fail "sluice did not stop within $limit s"
	fi
	return "$rc"
}

# json FILE EXPR: print a value from a JSON file (EXPR in Python syntax on `j`).
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# The capture files of a directory, in name order (which is time order).
capture_files() {
	find "$1" -maxdepth 1 -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort
}

# rss_sampler PID FILE: "EPOCH_S VMRSS_KB" of PID into FILE once a second, in the
# background (its pid in RSS_PID, killed at exit), until PID is gone. Bash builtins
# only: no process per sample.
rss_sampler() {
	local pid=$1 out=$2
	(
		while kill -0 "$pid" 2>/dev/null; do
			while read -r k v _; do
				[ "$k" = VmRSS: ] && printf '%(%s)T %s\n' -1 "$v"
			done </proc/"$pid"/status
			sleep 1
		done
	) >"$out" 2>/dev/null &
	RSS_PID=$!
	on_exit "kill $RSS_PID 2>/dev/null"
}

# ram_image SIZE: an empty file of SIZE (as truncate takes it) in /dev/shm, in $IMG, for a
# filesystem on a loop device, removed at exit. In RAM, a throttle on the loop device is
# the only slow disk: on the host's disk, the first fsync would flush the image's page
# cache at whatever speed that disk has at the moment (seconds to tens of seconds on a
# busy VM).
ram_image() {
	IMG=$(mktemp /dev/shm/sluice-e2e-XXXXXX.img)
	on_exit "rm -f $IMG"
	truncate -s "$1" "$IMG"
}

# Every file must be read by capinfos and by our strict reader without a warning, and
# tshark must dissect them without one. capinfos reads each file with libwiretap, the
# reader tshark uses, in one process for all of them; tshark costs most of a second per
# start, so it reads the first and the last file and at most four between them.
check_files_clean() {
	local f out i n=$# step
	[ "$n" -gt 0 ] || return 0
	out=$(capinfos -M "$@" 2>&1 >/dev/null) || fail "capinfos failed: $out"
	[ -z "$out" ] || fail "capinfos warns: $out"
	"$PCAPDUMP" -q "$@" || fail "pcapdump rejects one of: $*"
	step=$(((n + 4) / 5))
	for ((i = 1; i <= n; i++)); do
		[ "$i" -eq 1 ] || [ "$i" -eq "$n" ] || [ $((i % step)) -eq 0 ] || continue
		f=${!i}
		# tshark's notice about running as root is not about the file.
		tshark -r "$f" -q >"$T_DIR/tshark.out" 2>&1 || fail "tshark failed on $f"
		out=$(grep -v 'Running as user "root"' "$T_DIR/tshark.out" || true)
		[ -z "$out" ] || fail "tshark warns on $f: $out"
	done
}

# Packets in files according to capinfos.
count_packets() {
	local total=0 f n
	for f in "$@"; do
		n=$(capinfos -M -c -T -r "$f" | awk -F'\t' '{print $2}')
		total=$((total + n))
	done
	echo "$total"
}

# The counters must balance exactly once sluice has stopped.
check_balanced() {
	local js=$1
	[ "$(json "$js" 'j["balanced"]')" = "True" ] || fail "counters do not balance: $(cat "$js")"
	[ "$(json "$js" 'j["total"]["unaccounted"]')" = "0" ] || fail "unaccounted packets"
	local rcv w s f d
	rcv=$(json "$js" 'j["total"]["received"]')
	w=$(json "$js" 'j["total"]["written"]')
	s=$(json "$js" 'j["total"]["served"]')
	f=$(json "$js" 'j["total"]["filtered"]')
	d=$(json "$js" 'sum(j["total"]["drops"].values())')
	[ "$rcv" -eq $((w + s + f + d)) ] ||
		fail "received $rcv != written $w + served $s + filtered $f + drops $d"
}
