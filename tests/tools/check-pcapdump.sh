#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Check a pcap or pcapng file with Wireshark's tools and compare what sluice's reader
# (pcapdump) sees with what tshark sees: the same packets, interface ids, lengths and bytes.
#
# usage: check-pcapdump.sh [PCAPDUMP] FILE
#   PCAPDUMP defaults to $PCAPDUMP, then to pcapdump in $PATH.
# Exit status: 0 match, 1 mismatch or warning, 2 usage error, 77 tshark or capinfos missing.

set -u

prog=check-pcapdump.sh
case $# in
1) pcapdump=${PCAPDUMP:-pcapdump}; file=$1 ;;
2) pcapdump=$1; file=$2 ;;
*) echo "usage: $prog [PCAPDUMP] FILE" >&2; exit 2 ;;
esac

for tool in tshark capinfos; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$prog: $tool not installed, skipping" >&2
		exit 77
	fi
done
if [ ! -r "$file" ]; then
	echo "$prog: $file: not readable" >&2
	exit 2
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# Wireshark tools warn on stderr; the only line allowed there is the one about running them
# as root, which says nothing about the file.
quiet_stderr() {
	if grep -v '^Running as user' "$1" | grep -q .; then
		echo "$prog: $file: $2 complained:" >&2
		grep -v '^Running as user' "$1" >&2
		return 1
	fi
	return 0
}

if ! capinfos "$file" >"$tmp/capinfos.out" 2>"$tmp/capinfos.err"; then
	echo "$prog: $file: capinfos failed:" >&2
	cat "$tmp/capinfos.err" >&2
	exit 1
fi
quiet_stderr "$tmp/capinfos.err" capinfos || exit 1

# With every dissector disabled tshark prints a single data source per frame, so its hex
# dump holds exactly the captured bytes and no reassembled or decoded extras.
if ! tshark -n -r "$file" --disable-protocol ALL -T fields \
	-e frame.interface_id -e frame.len -e frame.cap_len \
	>"$tmp/fields" 2>"$tmp/fields.err"; then
	echo "$prog: $file: tshark failed:" >&2
	cat "$tmp/fields.err" >&2
	exit 1
fi
quiet_stderr "$tmp/fields.err" tshark || exit 1
if ! tshark -n -r "$file" --disable-protocol ALL -x >"$tmp/hex" 2>"$tmp/hex.err"; then
	echo "$prog: $file: tshark -x failed:" >&2
	cat "$tmp/hex.err" >&2
	exit 1
fi
quiet_stderr "$tmp/hex.err" "tshark -x" || exit 1

# Rebuild pcapdump -x lines from tshark: the fields give each frame's interface and lengths,
# the hex dump gives ceil(cap_len / 16) lines per frame (none for an empty frame).
awk -v prog="$prog" '
function die(msg) {
	print prog ": tshark output: " msg > "/dev/stderr"
	failed = 1
	exit 1
}
function emit() {
	printf "%s %s %s%s%s\n", ifc[cur], len[cur], cap[cur], (cap[cur] > 0 ? " " : ""), bytes
	bytes = ""
	off = 0
}
# Emits finished frames (empty ones have no hex lines) and returns whether one is open.
function next_open() {
	while (cur <= n && off >= cap[cur]) {
		emit()
		cur++
	}
	return cur <= n
}
BEGIN {
	cur = 1
	off = 0
	bytes = ""
}
FILENAME == ARGV[1] {
	split($0, f, "\t")
	n++
	ifc[n] = f[1] == "" ? 0 : f[1]
	len[n] = f[2] + 0
	cap[n] = f[3] + 0
	next
}
/^[0-9a-f]+  / {
	if (!next_open())
		die("more hex lines than captured bytes")
	sp = index($0, " ")
	o = substr($0, 1, sp - 1)
	sub(/^0+/, "", o)
	want = sprintf("%x", off)
	if (want == "0")
		want = ""
	if (o != want)
		die("frame " cur ": hex line at offset " substr($0, 1, sp - 1) ", expected " off)
	k = cap[cur] - off
	if (k > 16)
		k = 16
	for (j = 0; j < k; j++) {
		b = substr($0, sp + 2 + 3 * j, 2)
		if (b !~ /^[0-9a-f][0-9a-f]$/)
			die("frame " cur ": bad hex byte \"" b "\"")
		bytes = bytes b
	}
	off += k
	next
}
/^$/ { next }
{ die("unexpected line: " $0) }
END {
	if (failed)
		exit 1
	next_open()
	if (cur <= n)
		die("frame " cur ": hex dump ends after " off " of " cap[cur] " bytes")
}
' "$tmp/fields" "$tmp/hex" >"$tmp/tshark.txt" || exit 1

"$pcapdump" -x "$file" >"$tmp/pcapdump.txt"
rc=$?
if [ $rc -ne 0 ]; then
	echo "$prog: $file: pcapdump exited with status $rc" >&2
	exit 1
fi

if ! cmp -s "$tmp/pcapdump.txt" "$tmp/tshark.txt"; then
	echo "$prog: $file: pcapdump and tshark disagree (< pcapdump, > tshark):" >&2
	diff "$tmp/pcapdump.txt" "$tmp/tshark.txt" | cut -c1-160 | head -20 >&2
	exit 1
fi
echo "$prog: $file: $(wc -l <"$tmp/pcapdump.txt") packets match tshark"
exit 0
