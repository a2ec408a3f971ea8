#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGKILL in capture mode (issue #6): sluice is killed three times at random moments
# while it writes, and restarted each time on the same --dir for a short run that stops
# cleanly. Each restart must make the files the dead run left unfinished (.part, torn
# last record, preallocated or padded zeros) valid again and report every trim. At the
# end: no .part left, every file read cleanly by capinfos, tshark and our strict reader,
# sequence numbers unique and increasing, and the packets of every run the input stream,
# byte for byte and in order, from its first frame.
# Usage: capture_kill.sh [--no-direct]   (KILL_SEED=N repeats a run's kill times)
. "$(dirname "$0")/lib.sh"
export LC_ALL=C

mode=${1:-direct}
extra=()
[ "$mode" = --no-direct ] && extra=(--no-direct)
seed=${KILL_SEED:-$(((RANDOM << 15) | RANDOM))}
RANDOM=$seed
note "$mode, kill times from seed $seed (KILL_SEED=$seed repeats them)"

# 8192 frames in 256 flows; the filter keeps flow 0, every 256th frame, so that the
# writer takes some 7000 frames per second (about 2 MB/s: a few files, quick to check)
# while net_pcap replays at full speed. The kept frames carry their sequence number:
# each is unique.
"$MKPCAP" -o "$T_DIR/in.pcap" -n 8192 -s 60-400 --flows 256 --seed 21
tshark -r "$T_DIR/in.pcap" -Y 'udp.srcport == 1024' -w "$T_DIR/expect.pcap" 2>/dev/null ||
	fail "tshark cannot filter the input"
"$PCAPDUMP" "$T_DIR/expect.pcap" >"$T_DIR/expect.txt"
[ "$(wc -l <"$T_DIR/expect.txt")" -eq 32 ] || fail "expected 32 frames of flow 0"
mkdir "$T_DIR/out"
opts=(--vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap,infinite_rx=1" -- --dir="$T_DIR/out"
	--filter='udp src port 1024' --mbufs=16384 --ring-size=4096 --rotate-size=4M
	--write-buffer=256K --write-buffers=16 --snaplen=2048 --idle-sleep=20 "${extra[@]}")

# Names of the files so far, without .part (a recovery keeps them).
names() { find "$T_DIR/out" -maxdepth 1 -type f -printf '%f\n' | sed 's/\.part$//' | sort; }

# Validates a clean run's JSON in one python (a loaded machine takes seconds to start
# one): the counters balance as check_balanced wants, and the recovery handled every
# .part the kill left, each by a repair (never a failure) whose numbers match the file.
# Prints "FILE RECORDS" for each recovered file.
check_clean_json() {
	python3 - "$1" "$2" "$T_DIR/out" <<'EOF'
import json, os, sys
j = json.load(open(sys.argv[1]))
parts = open(sys.argv[2]).read().split()
out = sys.argv[3]
t = j["total"]
assert j["balanced"] and t["unaccounted"] == 0, "counters do not balance"
assert t["received"] == t["written"] + t["served"] + t["filtered"] + sum(t["drops"].values())
rec = {r["part"]: r for r in j["recovered"]}
assert sorted(rec) == sorted(parts), f"reported {sorted(rec)}, left {parts}"
assert j["recovery"]["files"] == len(parts) and j["recovery"]["failed"] == 0, j["recovery"]
for p, r in sorted(rec.items()):
    print(f'  {r["action"]:>17} {p}: records {r["records"]} kept {r["kept_bytes"]} '
          f'trimmed {r["trimmed_bytes"]} ({r["why"]})', file=sys.stderr)
    assert r["action"] in ("recovered", "removed_empty", "removed_no_record"), r
    if r["action"] != "recovered":
        assert not os.path.exists(os.path.join(out, p)) and r["trimmed_bytes"] == r["size"], r
        continue
    assert not r["renamed_aside"] and r["file"] + ".part" == p, r
    assert r["kept_bytes"] + r["trimmed_bytes"] == r["size"], r
    assert os.path.getsize(os.path.join(out, r["file"])) == r["kept_bytes"], r
    assert r["records"] > 0 and (r["trimmed_bytes"] == 0 or r["why"]), r
    print(r["file"], r["records"])
EOF
}

runs=()
for k in 1 2 3; do
	fmt=pcap
	[ $((k % 2)) -eq 0 ] && fmt=pcapng
	# Killed run k: capture, and die mid-write.
	names >"$T_DIR/before-kill$k"
	# shellcheck disable=SC2046
	"$SLUICE" $(eal_args 2) "${opts[@]}" --format="$fmt" >"$T_DIR/kill$k.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 600); do
		grep -qs "^sluice: capture on" "$T_DIR/kill$k.log" && break
		kill -0 "$pid" 2>/dev/null || { cat "$T_DIR/kill$k.log"; fail "sluice died at start"; }
		sleep 0.1
	done
	grep -q "^sluice: capture on" "$T_DIR/kill$k.log" || fail "sluice did not start"
	ms=$((700 + RANDOM % 1801))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	find "$T_DIR/out" -name '*.part' -printf '%f\n' | sort >"$T_DIR/parts$k"
	note "kill$k ($fmt): SIGKILL after $ms ms, $(wc -l <"$T_DIR/parts$k") .part file(s) left"
	[ -s "$T_DIR/parts$k" ] || fail "the kill left no .part file: nothing was being written?"
	names | comm -13 "$T_DIR/before-kill$k" - >"$T_DIR/files-kill$k"
	runs+=("kill$k")

	# Clean run k: recovers what the kill left, captures half a second, stops.
	names >"$T_DIR/before-clean$k"
	rc=0
	run_sluice 2 90 "${opts[@]}" --format=pcapng --duration=0.5 \
		--stats-json="$T_DIR/clean$k.json" || rc=$?
	cp "$T_DIR/sluice.log" "$T_DIR/clean$k.log"
	[ "$rc" -eq 0 ] || { cat "$T_DIR/clean$k.log"; fail "clean run $k exited $rc"; }
	names | comm -13 "$T_DIR/before-clean$k" - >"$T_DIR/files-clean$k"
	runs+=("clean$k")
	check_clean_json "$T_DIR/clean$k.json" "$T_DIR/parts$k" >"$T_DIR/recovered$k" ||
		fail "recovery of kill$k"
	# Each repair was said on stdout too.
	n_said=$(grep -cE '^sluice: (recovered|recovery removed) ' "$T_DIR/clean$k.log" || true)
	[ "$n_said" -eq "$(wc -l <"$T_DIR/parts$k")" ] || fail "recovery lines on stdout: $n_said"
	# Each recovered file holds the records the report says, and Wireshark's reader
	# (editcap rewriting it as pcap) finds the same frames, byte for byte, as ours.
	while read -r f n; do
		"$PCAPDUMP" "$T_DIR/out/$f" | cut -d' ' -f2- >"$T_DIR/ours.txt"
		[ "$(wc -l <"$T_DIR/ours.txt")" -eq "$n" ] || fail "$f: records != $n"
		editcap -F pcap "$T_DIR/out/$f" - | "$PCAPDUMP" - | cut -d' ' -f2- >"$T_DIR/theirs.txt"
		cmp -s "$T_DIR/ours.txt" "$T_DIR/theirs.txt" ||
			fail "$f: pcapdump and Wireshark read different frames"
	done <"$T_DIR/recovered$k"
done

# Over the three kills, at least one repair cut something off (a torn record or the
# zeros past the last one), and said so on stdout.
grep -hE '^sluice: recovered .* trimmed [1-9][0-9]* bytes: ' "$T_DIR"/clean?.log ||
	fail "no recovery trimmed anything in three kills"

[ -z "$(find "$T_DIR/out" -name '*.part')" ] || fail "a .part file was left behind"
[ -z "$(find "$T_DIR/out" -name '*.corrupt')" ] || fail "a file was judged corrupt"
mapfile -t files < <(capture_files "$T_DIR/out")
[ "$(find "$T_DIR/out" -type f | wc -l)" -eq "${#files[@]}" ] || fail "files other than captures"
# Every file read by capinfos and pcapdump, a sample by tshark (check_files_clean), and
# every repaired file by tshark too.
check_files_clean "${files[@]}"
while read -r name _; do
	tshark -r "$T_DIR/out/$name" -q >"$T_DIR/tshark.out" 2>&1 || fail "tshark failed on $name"
	out=$(grep -v 'Running as user "root"' "$T_DIR/tshark.out" || true)
	[ -z "$out" ] || fail "tshark warns on $name: $out"
done < <(cat "$T_DIR"/recovered?)
# capinfos counts in each recovered file the records the recovery reported.
capinfos -M -c -T -r "${files[@]}" | awk -F'\t' '{ sub(".*/", "", $1); print $1, $2 }' |
	sort >"$T_DIR/counts.txt"
sort "$T_DIR"/recovered? | comm -23 - "$T_DIR/counts.txt" | grep . &&
	fail "capinfos counts differ from the recovery's records"

# Sequence numbers: unique, and increasing in time (name) order.
printf '%s\n' "${files[@]##*/}" | sed -E 's/.*_w([0-9]+)_([0-9]+)\..*/\1 \2/' |
	awk '{ if ($1 in last && $2 + 0 <= last[$1]) bad = 1; last[$1] = $2 + 0 }
		END { exit bad }' || fail "sequence numbers not unique and increasing"

# Each run's packets, file after file, are the replayed stream from its first frame:
# byte for byte (pcapdump hashes every frame) and in order. A clean run misses exactly
# the frames it counted as dropped, modulo the input's length: the replay loops, so a
# starved writer that drops more than a whole pass (seen in CI: 348900 drops, a 0.5 s
# run on a loaded machine) leaves a gap of drops mod n in the sequence. A killed run
# could count nothing, so its gaps are only shown.
for r in "${runs[@]}"; do
	mapfile -t rf < <(sed "s|^|$T_DIR/out/|" "$T_DIR/files-$r" | while read -r f; do
		[ -f "$f" ] && echo "$f"; done)
	[ "${#rf[@]}" -ge 1 ] || fail "run $r left no file"
	"$PCAPDUMP" "${rf[@]}" >"$T_DIR/$r.txt" || fail "pcapdump rejects a file of $r"
done
python3 - "$T_DIR" "${runs[@]}" <<'EOF' || fail "a run's packets are not the input stream"
import json, os, sys
d = sys.argv[1]
exp = [l.split()[1:] for l in open(f"{d}/expect.txt")]
pos = {tuple(e): i for i, e in enumerate(exp)}
assert len(pos) == len(exp), "input frames not unique"
n = len(exp)
for run in sys.argv[2:]:
    js = f"{d}/{run}.json"
    drops = json.load(open(js))["total"]["dropped"] if os.path.exists(js) else -1
    nxt, gaps, where, got = 0, 0, [], 0
    for k, line in enumerate(open(f"{d}/{run}.txt")):
        i = pos.get(tuple(line.split()[1:]))
        assert i is not None, f"frame {k} of {run} is no input frame: {line}"
        if i != nxt:
            gaps += (i - nxt) % n
            where.append(k)
        nxt = (i + 1) % n
        got += 1
    print(f"  {run}: {got} frames, in order from the first, {gaps} missing"
          + (f" (at frames {where[:5]})" if where else ""))
    assert drops < 0 or (drops - gaps) % n == 0, \
        f"{run}: {gaps} frames missing, {drops} counted (the input has {n})"
EOF
note "ok: ${#files[@]} files (${SECONDS}s)"
