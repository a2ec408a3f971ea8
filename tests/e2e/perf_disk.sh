#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# --perf-test=disk: the writers alone write synthetic records for --duration,
# report GB/s per writer and in total (text and JSON), leave nothing behind,
# stop early on SIGINT, and fail cleanly on a full disk or without a worker.
. "$(dirname "$0")/lib.sh"

out="$T_DIR/out"
mkdir "$out"

note "one writer, 1.5 s, pcapng O_DIRECT"
run_sluice 1 60 -- --perf-test=disk --duration=1.5 --dir="$out" \
	--stats-json="$T_DIR/one.json" || { cat "$T_DIR/sluice.log"; fail "perf-test failed"; }
js="$T_DIR/one.json"
[ "$(json "$js" 'j["perf_test"]')" = disk ] || fail "JSON lacks perf_test"
[ "$(json "$js" 'len(j["writers"])')" -eq 1 ] || fail "not one writer"
bytes=$(json "$js" 'j["total"]["bytes"]')
[ "$bytes" -gt 10000000 ] || fail "only $bytes bytes landed"
[ "$(json "$js" 'j["writers"]["0"]["bytes"]')" -eq "$bytes" ] || fail "writer and total differ"
[ "$(json "$js" 'j["total"]["write_errors"]')" -eq 0 ] || fail "write errors"
[ "$(json "$js" '1 if 1.4 <= j["duration_s"] < 30 else 0')" -eq 1 ] || fail "duration off: $(cat "$js")"
[ "$(json "$js" '1 if abs(j["total"]["GBps"] - j["total"]["bytes"] / j["duration_s"] / 1e9) < 0.01 else 0')" -eq 1 ] ||
	fail "GB/s is not bytes / duration: $(cat "$js")"
grep -Eq '^sluice: perf-test disk: writer 0 \(lcore 1\): [0-9.]+ GB/s' "$T_DIR/sluice.log" ||
	fail "no per-writer line"
grep -Eq '^sluice: perf-test disk: total: [0-9.]+ GB/s' "$T_DIR/sluice.log" || fail "no total line"
[ -z "$(ls -A "$out")" ] || fail "files left behind: $(ls -A "$out")"

note "two writers, pcap, page cache, 1500 B frames"
run_sluice 2 60 -- --perf-test=disk --duration=1 --dir="$out" --format=pcap --no-direct \
	--perf-frame-size=1500 --rotate-size=16M --stats-json="$T_DIR/two.json" ||
	{ cat "$T_DIR/sluice.log"; fail "perf-test with two writers failed"; }
js="$T_DIR/two.json"
[ "$(json "$js" 'len(j["writers"])')" -eq 2 ] || fail "not two writers"
[ "$(json "$js" 'j["writers"]["0"]["bytes"] + j["writers"]["1"]["bytes"] == j["total"]["bytes"]')" = True ] ||
	fail "writers do not add up to the total"
[ "$(json "$js" 'min(w["bytes"] for w in j["writers"].values())')" -gt 0 ] || fail "a writer wrote nothing"
[ "$(json "$js" 'j["frame_size"]')" -eq 1500 ] || fail "frame size not taken"
[ -z "$(ls -A "$out")" ] || fail "files left behind"

note "SIGINT ends a 60 s run early, files still finished"
# SIGINT only once the writers write (sluice's handler is in place by then): EAL
# alone may take seconds to start under sanitizers or on a loaded machine, and a
# SIGINT before the handler would kill sluice instead of testing its stop.
# shellcheck disable=SC2046
timeout --preserve-status --signal=INT --kill-after=20 120 "$SLUICE" $(eal_args 1) -- \
	--perf-test=disk --duration=60 --dir="$out" --stats-json="$T_DIR/int.json" \
	>"$T_DIR/int.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
	[ -z "$(find "$out" -mindepth 2 -type f -print -quit)" ] || break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
sleep 1
kill -INT "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T_DIR/int.log"; fail "interrupted perf-test exited $rc"; }
[ "$(json "$T_DIR/int.json" '1 if j["duration_s"] < 20 else 0')" -eq 1 ] || fail "SIGINT did not stop it"
[ "$(json "$T_DIR/int.json" 'j["total"]["bytes"]')" -gt 0 ] || fail "nothing landed before SIGINT"
[ -z "$(ls -A "$out")" ] || fail "files left behind after SIGINT"

note "bad uses exit 2 and create nothing"
run_sluice 1 30 -- --perf-test=network --dir="$out" && fail "--perf-test=network accepted"
grep -q -- "--perf-test" "$T_DIR/sluice.log" || fail "no message naming --perf-test"
rc=0
# shellcheck disable=SC2046
timeout 30 "$SLUICE" --no-huge -m 256 --no-pci --file-prefix="sl-perf-$$" -l 0 \
	--log-level=lib.eal:error -- --perf-test=disk --duration=1 --dir="$out" \
	>"$T_DIR/nolcore.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || { cat "$T_DIR/nolcore.log"; fail "no worker lcore: exit $rc, not 2"; }
grep -q "worker lcore" "$T_DIR/nolcore.log" || fail "no message about the worker lcore"
[ -z "$(ls -A "$out")" ] || fail "files left behind"

if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	note "a 4 MiB tmpfs: the disk fills, the error is reported, exit 1, nothing left"
	mkdir "$T_DIR/small"
	rc=0
	# shellcheck disable=SC2016,SC2046
	unshare -m bash -c '
		small=$1; shift
		mount -t tmpfs -o size=4m sluice-e2e "$small" || exit 90
		"$@"; rc=$?
		left=$(ls -A "$small")
		[ -z "$left" ] || { echo "left behind: $left"; exit 91; }
		exit $rc' _ "$T_DIR/small" \
		timeout --signal=INT --kill-after=20 60 "$SLUICE" $(eal_args 1) -- --perf-test=disk \
		--duration=1 --dir="$T_DIR/small" --stats-json="$T_DIR/full.json" \
		>"$T_DIR/full.log" 2>&1 || rc=$?
	[ "$rc" -ne 90 ] || skip "cannot mount tmpfs here"
	[ "$rc" -ne 91 ] || { cat "$T_DIR/full.log"; fail "files left on the full disk"; }
	[ "$rc" -eq 1 ] || { cat "$T_DIR/full.log"; fail "full disk: exit $rc, not 1"; }
	grep -q "write errors" "$T_DIR/full.log" || fail "write errors not reported"
	[ "$(json "$T_DIR/full.json" 'j["total"]["write_errors"]')" -gt 0 ] || fail "JSON lacks the write errors"
fi
note "ok"
