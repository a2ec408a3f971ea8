#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# --profile: a bad profile is refused with exit 2 before EAL starts, creating
# nothing; a shipped profile is applied to its virtual device; options on the
# command line win over it in either order; its devargs reach the devices of
# its driver (the --vdev's own keys win) and no other device.
. "$(dirname "$0")/lib.sh"

profiles=$(cd "$(dirname "$0")/../../drivers-config" && pwd)
[ -r "$profiles/pcap.ini" ] && [ -r "$profiles/null.ini" ] || fail "no profiles in $profiles"

# ini_value FILE SECTION KEY: the value of KEY in [SECTION], as the profile says.
ini_value() {
	awk -v want="$2" -v key="$3" '
		{ sub(/#.*/, "") }
		/^[ \t]*\[/ { s = $0; gsub(/[][ \t]/, "", s); next }
		s == want && index($0, "=") {
			k = substr($0, 1, index($0, "=") - 1); v = substr($0, index($0, "=") + 1)
			gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v)
			if (k == key) print v
		}' "$1"
}

mkdir "$T_DIR/out"
n=2000
"$MKPCAP" -o "$T_DIR/in.pcap" -n "$n" -s 60-1514 --flows 4 --seed 5
pcap_vdev="--vdev=net_pcap0,rx_pcap=$T_DIR/in.pcap"

"$SLUICE" -h >"$T_DIR/help.txt"
grep -q -- "--profile=FILE" "$T_DIR/help.txt" || fail "-h does not document --profile"

# First, while EAL has created nothing under this test's file prefix: a bad
# profile stops sluice before EAL starts.
expect_refused() {
	local want=$1 rc=0
	shift
	run_sluice 2 30 "$pcap_vdev" -- --dir="$T_DIR/out" "$@" || rc=$?
	[ "$rc" -eq 2 ] || { cat "$T_DIR/sluice.log"; fail "expected exit 2 for: $*"; }
	grep -qF -- "$want" "$T_DIR/sluice.log" || { cat "$T_DIR/sluice.log"; fail "no '$want' for: $*"; }
}
printf '[device]\ndriver = net_pcap\nbus = vdev\n[rx]\nburst = 32\nbogus_key = 1\n' >"$T_DIR/unknown.ini"
expect_refused "--profile: $T_DIR/unknown.ini: unknown key 'bogus_key' in section [rx]" \
	--profile="$T_DIR/unknown.ini"
expect_refused "--profile: $T_DIR/unknown.ini: unknown key 'bogus_key' in section [rx]" \
	--rxd=2048 --profile="$T_DIR/unknown.ini" --burst=8
printf '[device]\ndriver = net_pcap\nbus = vdev\n[rx]\ndescriptors = 10\n' >"$T_DIR/range.ini"
expect_refused "[rx] descriptors: '10' is out of range (64..16384)" --profile="$T_DIR/range.ini"
printf '[device]\ndriver = net_pcap\nbus = vdev\n[wire]\nspeed = 1\n' >"$T_DIR/section.ini"
expect_refused "unknown section [wire]" --profile="$T_DIR/section.ini"
expect_refused "--profile: $T_DIR/none.ini: No such file or directory" --profile="$T_DIR/none.ini"
[ -z "$(ls -A "$T_DIR/out")" ] || fail "a refused profile created files"
for d in /var/run/dpdk "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk"; do
	[ ! -e "$d/sl-$T_NAME-$$" ] || fail "EAL started for a refused profile ($d/sl-$T_NAME-$$)"
done

# capture NAME VDEV [options...]: a capture of up to $n packets into $T_DIR/NAME.
capture() {
	local name=$1 vdev=$2 count=$3
	shift 3
	mkdir "$T_DIR/$name"
	run_sluice 2 60 "$vdev" -- --dir="$T_DIR/$name" --max-packets="$count" --idle-sleep=20 \
		--stats-json="$T_DIR/$name.json" "$@" ||
		{ cat "$T_DIR/sluice.log"; fail "$name: sluice exited with an error"; }
	cp "$T_DIR/sluice.log" "$T_DIR/$name.log"
	# One interpreter per run: the machine is shared.
	python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
t = j["total"]
if not j["balanced"] or t["unaccounted"] != 0:
    sys.exit("counters do not balance")
if t["written"] != int(sys.argv[2]):
    sys.exit("written %d, not %s" % (t["written"], sys.argv[2]))
' "$T_DIR/$name.json" "$count" || fail "$name: $(cat "$T_DIR/$name.json")"
}
# has NAME TEXT: the log of run NAME holds TEXT.
has() {
	grep -qF -- "$2" "$T_DIR/$1.log" || { cat "$T_DIR/$1.log"; fail "$1: no '$2' in the log"; }
}

note "the shipped pcap profile on net_pcap"
ini="$profiles/pcap.ini"
rxd=$(ini_value "$ini" rx descriptors)
burst=$(ini_value "$ini" rx burst)
room=$(ini_value "$ini" rx mbuf_size)
[ -n "$rxd" ] && [ -n "$burst" ] && [ -n "$room" ] || fail "pcap.ini lacks descriptors, burst or mbuf_size"
capture shipped "$pcap_vdev" "$n" --profile="$ini"
has shipped "sluice: profile pcap ($ini): driver net_pcap, rx descriptors $rxd, burst $burst,"
has shipped "port 0 (net_pcap): 1 RX queue(s) of $rxd descriptors"
has shipped "data room $room"
! grep -q "is driven by" "$T_DIR/shipped.log" || fail "net_pcap is pcap.ini's own driver"
mapfile -t files < <(capture_files "$T_DIR/shipped")
"$PCAPDUMP" "$T_DIR/in.pcap" >"$T_DIR/in.txt"
"$PCAPDUMP" "${files[@]}" >"$T_DIR/shipped.txt"
cmp -s "$T_DIR/in.txt" "$T_DIR/shipped.txt" || fail "the capture differs from its input"

note "options on the command line win over the profile, before or after it"
want_rxd=4096 want_burst=16
[ "$want_rxd" != "$rxd" ] && [ "$want_burst" != "$burst" ] || fail "pick other override values"
capture before "$pcap_vdev" "$n" --rxd="$want_rxd" --burst="$want_burst" --profile="$ini"
capture after "$pcap_vdev" "$n" --profile="$ini" --rxd="$want_rxd" --burst="$want_burst"
for run in before after; do
	has $run "rx descriptors $want_rxd (command line), burst $want_burst (command line)"
	has $run "port 0 (net_pcap): 1 RX queue(s) of $want_rxd descriptors"
done

note "the profile's devargs reach net_null, and the --vdev's own keys win"
# null.ini leaves the frame size to the user; this profile sets it, so that
# its effect shows in the files.
grep -v '^devargs' "$profiles/null.ini" | sed '/^\[device\]/a devargs = size=200,copy=1' \
	>"$T_DIR/null200.ini"
capture devargs --vdev=net_null0 500 --profile="$T_DIR/null200.ini"
has devargs "profile null200: EAL argument --vdev=net_null0 -> --vdev=net_null0,size=200,copy=1"
has devargs "burst $(ini_value "$profiles/null.ini" rx burst),"
[ "$("$PCAPDUMP" "$T_DIR"/devargs/*.pcapng | awk '$2 != 200' | wc -l)" -eq 0 ] ||
	fail "net_null did not make 200-byte frames"
capture user_wins --vdev=net_null0,size=100 500 --profile="$T_DIR/null200.ini"
has user_wins "EAL argument --vdev=net_null0,size=100 -> --vdev=net_null0,size=100,copy=1"
[ "$("$PCAPDUMP" "$T_DIR"/user_wins/*.pcapng | awk '$2 != 100' | wc -l)" -eq 0 ] ||
	fail "the --vdev's size=100 did not win"

note "another driver's device is left alone, with warnings"
capture other "$pcap_vdev" "$n" --profile="$T_DIR/null200.ini"
! grep -q "EAL argument" "$T_DIR/other.log" || fail "net_pcap0 received net_null's devargs"
has other "profile null200: no --vdev of its driver on the command line: its devargs size=200,copy=1 reach no device"
has other "port 0 is driven by net_pcap, not by net_null of profile null200"
cmp -s "$T_DIR/in.txt" <("$PCAPDUMP" "$(capture_files "$T_DIR/other")") ||
	fail "the net_pcap capture differs from its input"

note "offloads the device lacks are warned about"
printf '[device]\ndriver = net_null\nbus = vdev\n[rx]\ntimestamp = on\n' >"$T_DIR/ts.ini"
capture timestamp --vdev=net_null0 100 --profile="$T_DIR/ts.ini"
has timestamp "port 0 (net_null) offers no RX timestamp offload; timestamp = on is ignored"
note "ok"
