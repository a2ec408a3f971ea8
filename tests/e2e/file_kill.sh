#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGKILL at the worst moments of file mode (the SLUICE_TEST_KILL_AT seam):
# right after an fdatasync whose chunks no sidecar records yet, in the middle
# of a sidecar update (the new one durable under its temporary name), right
# before a publish's rename, right after it (before the directory fsync), and
# once it is durable, before the sender is told OK. For each: at the moment
# of death every file under a final name is complete and correct (staging
# may hold partial data); sluice restarted without the seam takes the same
# files again, and every one ends identical; the big file resumes from its
# durable chunks (sent_bytes < size); a file published whose OK its sender
# never had is answered OK, not EXISTS, without resending anything
# (files_recovered: its sidecar stays as a receipt until the sender's BYE).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
ns_setup
SRC=$T_DIR/src
big=$((24 * 1024 * 1024))
mkfile "$SRC/big.bin" "$big"
for i in 1 2 3 4; do
	mkfile "$SRC/small/s$i.bin" $((i * 150000))
done

# The checks of one kill point, in one Python (each start costs on a loaded machine).
# shellcheck disable=SC2016
CHECK_PY='
import filecmp, json, os, sys
sys.path.insert(0, os.environ["E2E_DIR"])
import sl_e2e
phase, point, src, out, tdir = sys.argv[1:6]
def visible():
    for d, dirs, files in os.walk(out):
        if d == out and ".sluice" in dirs:
            dirs.remove(".sluice")
        for f in files:
            yield os.path.relpath(os.path.join(d, f), out)
if phase == "death":
    names = list(visible())
    for n in names:
        assert os.path.exists(os.path.join(src, n)), n + ": not ours"
        assert filecmp.cmp(os.path.join(src, n), os.path.join(out, n), shallow=False), \
            n + ": visible under its final name but not complete and correct"
    print("at death: %d complete file(s) visible: %s" % (len(names), " ".join(sorted(names))))
    with open(os.path.join(tdir, "visible.json"), "w") as fo:
        json.dump(names, fo)
    sys.exit(0)
# phase "after": every file identical; big.bin resumed; statuses agree with the first run.
first = {}
for name in ("big1.json", "small1.json"):
    try:
        for f in json.load(open(os.path.join(tdir, name)))["files"]:
            first[f["name"]] = f["status"]
    except (OSError, ValueError):
        pass
# A file published whose OK the sender never had is answered OK when sent again:
# its receipt (the sidecar) outlived sluice. One whose OK it had gets EXISTS if
# its BYE reached sluice before the kill (the receipt went), else OK too.
visible = set(json.load(open(os.path.join(tdir, "visible.json"))))
sent = {}
for name in ("big2.json", "small2.json"):
    for f in json.load(open(os.path.join(tdir, name)))["files"]:
        if first.get(f["name"]) == "ok":
            want = ("exists", "ok")
        else:
            want = ("ok",)
        assert f["status"] in want, "%s: %s, not %s" % (f["name"], f["status"], want)
        sent[f["name"]] = (f["sent_bytes"], f["size"])
for d, _, files in os.walk(src):
    for f in files:
        n = os.path.relpath(os.path.join(d, f), src)
        assert filecmp.cmp(os.path.join(src, n), os.path.join(out, n), shallow=False), \
            n + " differs after the resend"
b_sent, b_size = sent["big.bin"]
assert b_sent < b_size, "big.bin: %d of %d bytes sent again: no resume" % (b_sent, b_size)
j = sl_e2e.load(os.path.join(tdir, "stats.json"))
sl_e2e.check_balanced(j)
bad = {k: v for k, v in j["file"]["files_failed"].items() if v and k != "exists"}
assert not bad, "files failed: %s" % bad
if point in ("renamed", "published"):
    assert j["file"]["files_recovered"] >= 1, "the interrupted publish was not recovered"
    rec = [n for n, (s, _) in sent.items() if s == 0 and first.get(n) != "ok"]
    assert rec, "no file was taken without resending it"
print("after restart: all identical; big.bin sent %d of %d bytes; recovered %d; resumed %d"
      % (b_sent, b_size, j["file"]["files_recovered"], j["file"]["files_resumed"]))
'

for spec in fsync:8 sidecar:8 rename:1 renamed:1 published:1; do
	point=${spec%%:*}
	note "SIGKILL at $spec"
	rm -rf "$OUT"
	SLUICE_TEST_KILL_AT=$spec start_sluice 2
	# The big file at 200 Mbit/s (about a second), the small ones a little
	# later: the first publish comes while big.bin is half durable.
	ip netns exec "$NS" timeout 60 "$SENDER" --json --timeout=3 --rate=200M "$SLUICE_IP" \
		"$SRC/big.bin" >"$T_DIR/big1.json" 2>"$T_DIR/big1.log" &
	bpid=$!
	sleep 0.3
	ip netns exec "$NS" timeout 60 "$SENDER" --json --timeout=3 "$SLUICE_IP" "$SRC/small" \
		>"$T_DIR/small1.json" 2>"$T_DIR/small1.log" &
	spid=$!
	for ((i = 0; i < 300; i++)); do
		kill -0 "$SLUICE_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$SLUICE_PID" 2>/dev/null && fail "sluice did not die at $spec"
	rc=0
	wait "$SLUICE_PID" || rc=$?
	SLUICE_PID=""
	[ "$rc" -eq 137 ] || fail "sluice ended with $rc, not SIGKILL"
	grep -q "test kill point $point" "$T_DIR/sluice.log" || fail "died, but not at $point"
	E2E_DIR=$E2E_DIR python3 -c "$CHECK_PY" death "$point" "$SRC" "$OUT" "$T_DIR" ||
		fail "wrong files at the moment of death at $spec"
	wait "$bpid" || true
	wait "$spid" || true

	start_sluice 2
	ip netns exec "$NS" timeout 60 "$SENDER" --json --timeout=10 "$SLUICE_IP" "$SRC/big.bin" \
		>"$T_DIR/big2.json" 2>"$T_DIR/big2.log" || true
	ip netns exec "$NS" timeout 60 "$SENDER" --json --timeout=10 "$SLUICE_IP" "$SRC/small" \
		>"$T_DIR/small2.json" 2>"$T_DIR/small2.log" || true
	stop_sluice || fail "sluice exited $? after the restart"
	E2E_DIR=$E2E_DIR python3 -c "$CHECK_PY" after "$point" "$SRC" "$OUT" "$T_DIR" ||
		fail "wrong results after the restart at $spec"
	staging_empty
done
note "ok"
