#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark of sluice against the disk ceiling and its peers (issue #5). Run it as
# "./dpdk-setup.sh bench [ARGS]", which installs the tools and builds first, or directly.
# "tests/perf/bench.sh --help" says what it does; docs/performance.md says how and why.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"
# shellcheck source-path=SCRIPTDIR
. "$HERE/scenarios.sh"

ALL_SCENARIOS=(fio disk capture-null capture-pcap dumpcap veth-capture file-veth file-dpdk soak)

usage() {
	cat <<EOF
Usage: tests/perf/bench.sh [options]    (or: ./dpdk-setup.sh bench [options])

Measures sluice against the disk ceiling and against its peers, in one go, and prints a
table of medians over several runs with min..max, the ratios of the targets of issue #5
with PASS/MISS, drops by class and memory. Runs are interleaved (run 1 of every scenario,
then run 2, ...), so that a noisy neighbour hits every scenario alike.

Options:
  --runs N            runs of every scenario, 1..100 (default 3)
  --duration S        seconds of every timed load, 1..600 (default 10)
  --dir DIR           ingest directory: where every tool writes, on the filesystem
                      being measured (default /var/tmp/sluice-bench); the data of each
                      run is deleted after it
  --quick             smoke pass: 1 run, 3 s, smaller files (explicit --runs or
                      --duration still win)
  --only LIST         comma-separated scenarios (default: all but soak):
                      ${ALL_SCENARIOS[*]}
  --frames LIST       frame sizes in bytes, 64..1514 (default 64,512,1500)
  --soak              also run the memory soak (sluice capture from net_null)
  --soak-minutes M    length of the soak, 1..1440 (default 10)
  --out DIR           where the results go (default build/perf/<YYYYmmdd-HHMMSS>)
  --build DIR         build directory of sluice (default \$SLUICE_BUILD, else
                      \$SL_BUILD_DIR as ./dpdk-setup.sh uses it, else build/)
  -h, --help          this text

Scenarios:
  fio           disk ceiling: fio, io_uring, sequential 1 MiB O_DIRECT writes, QD 32
  disk          sluice --perf-test=disk: one writer lcore alone through the real path
  capture-null  sluice capture from net_null (1 RX + 1 writer lcore) per frame size
  capture-pcap  the same from net_pcap replaying a pcap of that frame size in a loop
  dumpcap       dpdk-testpmd rxonly on net_null + dpdk-dumpcap -w, same CPUs
  veth-capture  kgen on a veth in a namespace -> sluice (net_af_packet, net_af_xdp),
                tcpdump -w, krecv (recvmmsg + write) on the other end
  file-veth     the same files over the veth: sluice-send -> sluice, uftp -> uftpd,
                tar | socat -> socat | tar (TCP), each until durable and verified
  file-dpdk     sluice-send --dpdk over net_memif -> sluice file mode
  soak          --soak: VmRSS and hugepages of sluice every 10 s over --soak-minutes

Output in --out: table.md (also printed), raw.csv (every number of every run),
results.json, plot.png (GB/s and Mpps landed), soak.png, meta.json, logs/.
Exit status: 0 when every scenario that ran produced trustworthy numbers (targets may
be missed: the table says so), 1 when a scenario failed, 2 on a usage error.
Needs root (network namespaces, hugepages, DPDK).
EOF
}

usage_error() {
	printf 'error: %s (see --help)\n' "$*" >&2
	exit 2
}

# ---- options ---------------------------------------------------------------------------

RUNS=
DURATION=
DIR=/var/tmp/sluice-bench
QUICK=0
ONLY=
FRAMES_ARG=64,512,1500
SOAK=0
SOAK_MINUTES=10
OUT=
# ./dpdk-setup.sh bench builds into build/ or $SL_BUILD_DIR (relative to the top).
BUILD=${SLUICE_BUILD:-}
[[ -n $BUILD || -z ${SL_BUILD_DIR:-} ]] || BUILD=$TOP/$SL_BUILD_DIR

need_arg() { [[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
	opt=$1 val=
	if [[ $opt == --*=* ]]; then
		val=${opt#*=}
		opt=${opt%%=*}
		set -- "$opt" "$val" "${@:2}"
	fi
	case $opt in
	--runs | --duration | --dir | --only | --frames | --soak-minutes | --out | --build)
		need_arg "$@"
		val=$2
		shift
		;;
	esac
	case $opt in
	--runs) RUNS=$val ;;
	--duration) DURATION=$val ;;
	--dir) DIR=$val ;;
	--quick) QUICK=1 ;;
	--only) ONLY=$val ;;
	--frames) FRAMES_ARG=$val ;;
	--soak) SOAK=1 ;;
	--soak-minutes) SOAK_MINUTES=$val ;;
	--out) OUT=$val ;;
	--build) BUILD=$val ;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown option: $1" ;;
	esac
	shift
done

if ((QUICK)); then
	: "${RUNS:=1}" "${DURATION:=3}"
fi
: "${RUNS:=3}" "${DURATION:=10}"
# int_in VALUE MIN MAX: VALUE is a whole number within MIN..MAX.
int_in() { [[ $1 =~ ^[0-9]{1,9}$ ]] && (($1 >= $2 && $1 <= $3)); }
int_in "$RUNS" 1 100 || usage_error "--runs must be 1..100"
int_in "$DURATION" 1 600 || usage_error "--duration must be a whole number of seconds, 1..600"
int_in "$SOAK_MINUTES" 1 1440 || usage_error "--soak-minutes must be 1..1440"

FRAMES=()
IFS=, read -ra FRAMES <<<"$FRAMES_ARG"
((${#FRAMES[@]} > 0)) || usage_error "--frames is empty"
for f in "${FRAMES[@]}"; do
	int_in "$f" 64 1514 || usage_error "frame size $f is not 64..1514"
done

SCENARIOS=()
if [[ -n $ONLY ]]; then
	IFS=, read -ra SCENARIOS <<<"$ONLY"
	for s in "${SCENARIOS[@]}"; do
		[[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || usage_error "unknown scenario: $s"
	done
else
	SCENARIOS=("${ALL_SCENARIOS[@]:0:${#ALL_SCENARIOS[@]}-1}")
fi
if ((SOAK)) && [[ " ${SCENARIOS[*]} " != *" soak "* ]]; then
	SCENARIOS+=(soak)
fi
selected() { [[ " ${SCENARIOS[*]} " == *" $1 "* ]]; }

[[ $DIR == /* ]] || DIR=$PWD/$DIR
BUILD=${BUILD:-$TOP/build}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$TOP/build/perf/$STAMP}
[[ $OUT == /* ]] || OUT=$PWD/$OUT

# ---- checks of the machine -------------------------------------------------------------

[[ $EUID -eq 0 ]] || die "the benchmark needs root (namespaces, hugepages, DPDK)"
SLUICE=$BUILD/app/sluice
SENDER=$BUILD/app/sluice-send
[[ -x $SLUICE && -x $SENDER ]] ||
	die "no sluice build in $BUILD (run ./dpdk-setup.sh build, or give --build DIR)"
for tool in python3 timeout taskset pgrep ip awk sha256sum findmnt; do
	command -v "$tool" >/dev/null || die "$tool is missing"
done

mapfile -t CPUS < <(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status |
	tr ',' '\n' | awk -F- '{ for (i = $1; i <= ($2 == "" ? $1 : $2); i++) print i }')
((${#CPUS[@]} >= 2)) || die "the benchmark needs 2 CPUs, this process may use ${#CPUS[@]}"
CPU_A=${CPUS[0]}
CPU_B=${CPUS[1]}

mkdir -p "$DIR" "$OUT" || die "cannot create $DIR or $OUT"
WORK=$(mktemp -d "$DIR/run-$$.XXXXXX")
LOGS=$OUT/logs
RAW=$OUT/raw.csv
STATUS=$OUT/status.csv
mkdir -p "$LOGS"
printf 'run,scenario,tool,frame,metric,value\n' >"$RAW"
printf 'run,scenario,tool,frame,status,reason\n' >"$STATUS"
: >"$WORK/pids"
FAILURES=0
RUN_NO=0

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	if [[ -s $WORK/pids ]]; then
		while read -r pid; do
			kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
		done <"$WORK/pids"
		sleep 1
		while read -r pid; do
			kill -0 "$pid" 2>/dev/null && kill_tree "$pid"
		done <"$WORK/pids"
	fi
	net_teardown
	local d
	for d in "/var/run/dpdk/slbench$$-"*; do
		[[ -e $d ]] && dpdk_cleanup "${d##*/}"
	done
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Space: the largest single load is fio (or a capture) writing at up to 3 GB/s for
# --duration; the file scenarios keep their source trees (1.2 GB, and 4.3 GB for
# file-dpdk) and one received copy at a time.
FIO_SIZE_GB=$((DURATION * 3 < 8 ? 8 : DURATION * 3))
NEED_GB=$((FIO_SIZE_GB + 4))
if selected file-veth || selected file-dpdk; then
	NEED_GB=$((NEED_GB + 3))
fi
if selected file-dpdk; then
	NEED_GB=$((NEED_GB + 9))
fi
FREE_GB=$(df -P -BG "$WORK" | awk 'NR == 2 { sub("G", "", $4); print $4 }')
((FREE_GB >= NEED_GB)) ||
	die "$DIR has $FREE_GB GB free; the benchmark needs $NEED_GB GB with --duration $DURATION"
FS_INFO=$(findmnt -n -o SOURCE,FSTYPE,OPTIONS -T "$DIR" | awk '{ print $1 " " $2 " (" $3 ")" }')

"$SLUICE" -h >"$WORK/sluice-help.txt" 2>&1 || true
"$SENDER" --help >"$WORK/sender-help.txt" 2>&1 || true

# Hugepages: sluice, dpdk-testpmd and dpdk-dumpcap (a secondary process of testpmd,
# which must share its hugepages) all run on 2 MiB hugepages, the same setup for all.
hugepages_mb() {
	awk '/^HugePages_Total:/ { t = $2 } /^HugePages_Free:/ { f = $2 }
		/^Hugepagesize:/ { s = $2 } END { printf "%d %d\n", t * s / 1024, f * s / 1024 }' \
		/proc/meminfo
}
read -r HUGE_TOTAL0 HUGE_FREE0 < <(hugepages_mb)
HUGE_RESERVED=""
if ((HUGE_FREE0 < 1536)); then
	want=$((HUGE_TOTAL0 - HUGE_FREE0 + 2048))
	say "Free hugepages: $HUGE_FREE0 MiB of $HUGE_TOTAL0; raising the pool to $want MiB"
	if "$TOP/dpdk-setup.sh" hugepages "${want}M" >"$LOGS/hugepages.log" 2>&1; then
		HUGE_RESERVED="reserved by the benchmark: total raised to ${want} MiB"
	else
		warn "could not reserve hugepages (see $LOGS/hugepages.log)"
	fi
fi
read -r HUGE_TOTAL1 HUGE_FREE1 < <(hugepages_mb)
((HUGE_FREE1 >= 512)) ||
	die "only $HUGE_FREE1 MiB of hugepages are free; run ./dpdk-setup.sh hugepages 2G"

# The helpers: built with the project (tests/perf/meson.build), or here with cc when the
# build directory has no tests (meson -Dtests=disabled).
# shellcheck disable=SC2034 # used by scenarios.sh
KRECV=$BUILD/tests/perf/krecv
# shellcheck disable=SC2034
KGEN=$BUILD/tests/perf/kgen
MKPCAP=$BUILD/tests/tools/mkpcap
for helper in krecv kgen; do
	var=${helper^^}
	if [[ ! -x ${!var} ]]; then
		mkdir -p "$WORK/bin"
		cc -O2 -Wall -Wextra -D_GNU_SOURCE -o "$WORK/bin/$helper" "$HERE/$helper.c" ||
			die "cannot build $helper"
		printf -v "$var" '%s' "$WORK/bin/$helper"
	fi
done
[[ -x $MKPCAP ]] || MKPCAP=

START_DATE=$(date -Is)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

say "sluice benchmark: ${SCENARIOS[*]}"
say "  runs $RUNS x ${DURATION} s, frames ${FRAMES[*]} B, CPUs $CPU_A and $CPU_B"
say "  ingest directory $DIR on $FS_INFO, $FREE_GB GB free"
say "  hugepages: $HUGE_FREE1 MiB free of $HUGE_TOTAL1${HUGE_RESERVED:+ ($HUGE_RESERVED)}"
say "  load average at start: $LOAD0"
say "  results in $OUT"

prepare_inputs

# ---- the runs --------------------------------------------------------------------------

for ((RUN_NO = 1; RUN_NO <= RUNS; RUN_NO++)); do
	for s in "${SCENARIOS[@]}"; do
		[[ $s == soak ]] && continue
		say "== run $RUN_NO/$RUNS: $s"
		"scenario_${s//-/_}"
	done
done
if selected soak; then
	RUN_NO=1
	say "== soak: $SOAK_MINUTES minute(s)"
	scenario_soak
fi

# ---- the report ------------------------------------------------------------------------

read -r HUGE_TOTAL2 HUGE_FREE2 < <(hugepages_mb)
export START_DATE LOAD0 FS_INFO DIR RUNS DURATION QUICK CPU_A CPU_B FREE_GB SLUICE TOP
export HUGE_TOTAL0 HUGE_FREE0 HUGE_TOTAL2 HUGE_FREE2 HUGE_RESERVED
export SCEN_LIST="${SCENARIOS[*]}" FRAME_LIST="${FRAMES[*]}" FILESET_DESC
python3 - "$OUT/meta.json" <<'EOF'
import json, os, platform, subprocess, sys

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except Exception:
        return ""

e = os.environ
with open("/proc/loadavg") as f:
    load_end = " ".join(f.read().split()[:3])
cpu = sh("awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo") or platform.processor()
mem = sh("awk '/^MemTotal:/ { printf \"%.1f GiB\", $2 / 1048576 }' /proc/meminfo")
meta = {
    "date": e["START_DATE"],
    "machine": {
        "CPU": f"{cpu}, {os.cpu_count()} CPU(s); used: {e['CPU_A']} and {e['CPU_B']}",
        "memory": mem,
        "kernel": platform.release(),
        "ingest filesystem": f"{e['DIR']}: {e['FS_INFO']}, {e['FREE_GB']} GB free at start",
        "DPDK": sh("pkg-config --modversion libdpdk") or "?",
        "sluice": sh(f"git -C {e['TOP']} describe --always --dirty") or "?",
        "tools": "; ".join(x for x in [
            sh("fio --version"), sh("tcpdump --version 2>&1 | head -1"),
            sh("socat -V 2>/dev/null | awk '/socat version/ { print \"socat \" $3 }'"),
            sh("dpkg-query -W -f='uftp ${Version}' uftp 2>/dev/null"),
            sh("dpkg-query -W -f='dpdk ${Version}' dpdk 2>/dev/null")] if x),
        "hugepages (2 MiB)": f"start {e['HUGE_TOTAL0']} MiB ({e['HUGE_FREE0']} free), end"
                             f" {e['HUGE_TOTAL2']} MiB ({e['HUGE_FREE2']} free)"
                             + (f"; {e['HUGE_RESERVED']}" if e.get("HUGE_RESERVED") else ""),
        "load average": f"start {e['LOAD0']}, end {load_end}",
    },
    "config": {
        "runs x duration": f"{e['RUNS']} x {e['DURATION']} s" +
                           (" (--quick)" if e["QUICK"] == "1" else ""),
        "scenarios": e["SCEN_LIST"],
        "frame sizes": e["FRAME_LIST"] + " B (without FCS)",
        "file set": e.get("FILESET_DESC") or "-",
    },
    "runs": int(e["RUNS"]),
}
with open(sys.argv[1], "w") as f:
    json.dump(meta, f, indent=1)
EOF

say ""
report_rc=0
python3 "$HERE/perf.py" report "$OUT" | tee "$OUT/report.log" || report_rc=$?
say ""
say "Results: $OUT"
if ((FAILURES > 0 || report_rc != 0)); then
	say "FAILED: $FAILURES scenario run(s) failed (see the table and $LOGS)" >&2
	exit 1
fi
