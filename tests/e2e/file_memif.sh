#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# File mode over net_memif, no kernel networking at all: sluice is the memif
# server, `sluice-send --dpdk` the memif client (it probes the queues the
# server takes, answers and sends ARP itself). Both run without hugepages
# on the two CPUs with idle back-off. Files of awkward sizes (0 B, 1 B,
# around 4 KiB, across chunk boundaries, 64 MiB), a tree of a few hundred
# small files, then 9000-byte frames, must arrive identical with every
# status "ok" and nothing left in staging; sluice's counters must balance.
# DPDK-mode options without --dpdk, a host name and other misuse are usage
# errors, and SIGINT stops a transfer with its summary.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

compgen -G "/usr/lib/*/dpdk/pmds-*/librte_net_memif.so*" >/dev/null ||
	compgen -G "/usr/local/lib*/dpdk/pmds-*/librte_net_memif.so*" >/dev/null ||
	skip "no net_memif PMD installed"

SOCK=$T_DIR/memif.sock
OUT=$T_DIR/out
SRC=$T_DIR/src
mkdir -p "$OUT" "$SRC"
TX_PREFIX=sl-memif-tx-$$

# start_memif_sluice BSIZE [sluice args...]: file mode as memif server (its socket
# is abstract: no file), in the background; waits until it has set up its port
# (the sender retries until the server takes it in any case).
start_memif_sluice() {
	local bsize=$1 i
	shift
	# shellcheck disable=SC2046
	"$SLUICE" $(eal_args 2) --vdev="net_memif0,role=server,socket=$SOCK,bsize=$bsize" -- \
		--mode=file --ip="$SLUICE_IP/24" --dir="$OUT" --stats-json="$T_DIR/stats.json" \
		--idle-sleep=50 "$@" >>"$T_DIR/sluice.log" 2>&1 &
	SLUICE_PID=$!
	on_exit "kill -KILL $SLUICE_PID 2>/dev/null"
	for ((i = 0; i < 200; i++)); do
		kill -0 "$SLUICE_PID" 2>/dev/null || {
			cat "$T_DIR/sluice.log" >&2
			fail "sluice exited at start"
		}
		grep -qs "^sluice: port 0" "$T_DIR/sluice.log" && return 0
		sleep 0.1
	done
	cat "$T_DIR/sluice.log" >&2
	fail "sluice did not start its memif server"
}

# dsend BSIZE [sluice-send args after --]: the DPDK-mode sender as memif client,
# bounded in time. Output: $T_DIR/send.json, $T_DIR/send.log.
dsend() {
	local bsize=$1 rc=0
	shift
	timeout --kill-after=5 "${SEND_LIMIT:-90}" "$SENDER" --dpdk --no-huge -m 256 --no-pci \
		--file-prefix="$TX_PREFIX" --log-level=lib.eal:error --lcores=0@1 \
		--vdev="net_memif0,role=client,socket=$SOCK,bsize=$bsize" -- \
		--src-ip="$SENDER_IP/24" "$@" >"$T_DIR/send.json" 2>"$T_DIR/send.log" || rc=$?
	[ "$rc" -ne 124 ] || {
		cat "$T_DIR/send.log" >&2
		fail "sluice-send --dpdk did not finish within ${SEND_LIMIT:-90} s"
	}
	return "$rc"
}

# send_failed MESSAGE: fail, showing the end of the summary, then the sender's log and
# sluice's (last: CI shows the end of a failed test's output).
send_failed() {
	tail -c 600 "$T_DIR/send.json" >&2
	echo >&2
	cat "$T_DIR/send.log" >&2
	tail -n 30 "$T_DIR/sluice.log" >&2
	fail "$1"
}

# usage_error EXPECTED_TEXT ARGS...: sluice-send ARGS exits 2 saying EXPECTED_TEXT.
usage_error() {
	local want=$1 rc=0
	shift
	timeout 20 "$SENDER" "$@" >"$T_DIR/usage.out" 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || fail "sluice-send $* exited $rc, not 2: $(cat "$T_DIR/usage.out")"
	grep -qF -- "$want" "$T_DIR/usage.out" ||
		fail "sluice-send $* did not say '$want': $(head -3 "$T_DIR/usage.out")"
}

# check_send FILE FILES [MAX_PAYLOAD]: the --json summary lists FILES files, all "ok"
# (and that max_payload). One python process per check: it starts slowly on a busy machine.
check_send() {
	python3 - "$@" <<'PY' || fail "$(cat "$T_DIR/check.out")"
import json, sys
j = json.load(open(sys.argv[1]))
bad = [f["name"] + ": " + f["status"] for f in j["files"] if f["status"] != "ok"]
out = open(sys.argv[1].rsplit("/", 1)[0] + "/check.out", "w")
if len(j["files"]) != int(sys.argv[2]):
    out.write("sender reported %d files, not %s" % (len(j["files"]), sys.argv[2]))
    sys.exit(1)
if bad:
    out.write("%d files not ok: %s" % (len(bad), ", ".join(bad[:5])))
    sys.exit(1)
if len(sys.argv) > 3 and j["max_payload"] != int(sys.argv[3]):
    out.write("max_payload %d, not %s" % (j["max_payload"], sys.argv[3]))
    sys.exit(1)
PY
}

# check_stats FILES_OK: sluice's final counters balance (as lib.sh's check_balanced
# checks them), FILES_OK files were published and ARP was served.
check_stats() {
	python3 - "$T_DIR/stats.json" "$1" <<'PY' || fail "$(cat "$T_DIR/check.out")"
import json, sys
j = json.load(open(sys.argv[1]))
t = j["total"]
out = open(sys.argv[1].rsplit("/", 1)[0] + "/check.out", "w")
problems = []
if not j["balanced"] or t["unaccounted"] != 0:
    problems.append("counters do not balance")
if t["received"] != t["written"] + t["served"] + t["filtered"] + sum(t["drops"].values()):
    problems.append("received != written + served + filtered + drops")
if j["file"]["files_ok"] != int(sys.argv[2]):
    problems.append("files_ok %d, not %s" % (j["file"]["files_ok"], sys.argv[2]))
if t["served"] < 1:
    problems.append("no ARP request served")
if problems:
    out.write("; ".join(problems) + ": " + json.dumps(j)[:1500])
    sys.exit(1)
PY
}

note "usage errors [${SECONDS}s]"
mkfile "$SRC/one.bin" 1
usage_error "only in DPDK mode" --src-ip=10.0.0.2/24 127.0.0.1 "$SRC/one.bin"
usage_error "only in DPDK mode" --json --mtu 9000 127.0.0.1 "$SRC/one.bin"
usage_error "first argument" --json --dpdk -- 127.0.0.1 "$SRC/one.bin"
usage_error "'--'" --dpdk --no-huge 127.0.0.1 "$SRC/one.bin"
usage_error "numeric" --dpdk --no-huge -- --src-ip=10.0.0.2/24 receiver.example "$SRC/one.bin"
usage_error "needs --src-ip" --dpdk --no-huge -- 10.0.0.1 "$SRC/one.bin"
usage_error "--bind" --dpdk -- --src-ip=10.0.0.2/24 --bind=10.0.0.2 10.0.0.1 "$SRC/one.bin"
usage_error "--gateway" --dpdk -- --src-ip=10.0.0.2/24 10.0.1.1 "$SRC/one.bin"
usage_error "--mtu: 1280 to 9000" --dpdk -- --mtu=100 --src-ip=10.0.0.2/24 10.0.0.1 "$SRC/one.bin"
usage_error "no DPDK port" --dpdk --no-huge -m 64 --no-pci --file-prefix="$TX_PREFIX" \
	--log-level=lib.eal:error -- --src-ip=10.0.0.2/24 10.0.0.1 "$SRC/one.bin"
timeout 20 "$SENDER" --dpdk -- -h | grep -q -- "--src-ip=ADDR/PREFIX" || fail "no DPDK mode in -h"

note "files of awkward sizes, 64 MiB and a tree of 300 small files over net_memif [${SECONDS}s]"
: >"$SRC/zero.bin"
for s in 4095 4096 4097 1048575 1048577 3145733; do
	mkfile "$SRC/f$s.bin" "$s"
done
mkfile "$SRC/big.bin" $((64 * 1024 * 1024 + 3))
# One process for the 300 files: forks are slow on a busy machine.
python3 - "$SRC/tree" <<'PY'
import os, sys
for d in range(6):
    for i in range(50):
        p = os.path.join(sys.argv[1], "d%d" % d, "sub%d" % (i % 3))
        os.makedirs(p, exist_ok=True)
        with open(os.path.join(p, "s%d.dat" % i), "wb") as f:
            f.write(os.urandom((i * 997 + d * 131) % 5000))
PY
start_memif_sluice 2048
t0=$SECONDS
dsend 2048 --json -v "$SLUICE_IP" "$SRC/zero.bin" "$SRC/one.bin" "$SRC"/f*.bin "$SRC/big.bin" \
	"$SRC/tree" || send_failed "sluice-send --dpdk failed"
note "sent in $((SECONDS - t0)) s: $(grep -o '"elapsed_s":[0-9.]*' "$T_DIR/send.json")"
# sluice sends on one TX queue per RX and writer lcore: 2 rings towards us, 1 from us.
grep -q "net_memif: the server takes 2 RX and 1 TX queue(s)" "$T_DIR/send.log" ||
	fail "memif queues not probed: $(grep memif "$T_DIR/send.log")"
check_send "$T_DIR/send.json" 309
for f in zero.bin one.bin f4095.bin f4096.bin f4097.bin f1048575.bin f1048577.bin \
	f3145733.bin big.bin; do
	cmp "$SRC/$f" "$OUT/$f" || fail "$f differs"
done
same_tree "$SRC/tree" "$OUT/tree"
staging_empty
grep -q "ARP: .* is at" "$T_DIR/send.log" || fail "the sender did not resolve sluice by ARP"

note "9000-byte frames (--mtu=9000 on both sides, memif buffers of 9216 bytes) [${SECONDS}s]"
stop_sluice || fail "sluice exited $?"
check_stats 309
mkdir -p "$SRC/jumbo"
mkfile "$SRC/jumbo/j.bin" $((8 * 1024 * 1024 + 9))
start_memif_sluice 9216 --mtu=9000
t0=$SECONDS
dsend 9216 --json -v --mtu=9000 "$SLUICE_IP" "$SRC/jumbo" ||
	send_failed "sluice-send --dpdk --mtu=9000 failed"
note "sent in $((SECONDS - t0)) s: $(grep -o '"elapsed_s":[0-9.]*' "$T_DIR/send.json")"
check_send "$T_DIR/send.json" 1 8972
cmp "$SRC/jumbo/j.bin" "$OUT/jumbo/j.bin" || fail "jumbo file differs"
staging_empty

note "SIGINT stops a transfer, with the summary [${SECONDS}s]"
timeout --kill-after=5 60 "$SENDER" --dpdk --no-huge -m 256 --no-pci \
	--file-prefix="$TX_PREFIX" --log-level=lib.eal:error --lcores=0@1 \
	--vdev="net_memif0,role=client,socket=$SOCK,bsize=9216" -- --json --rate=50M \
	--mtu=9000 --name=cut.bin --src-ip="$SENDER_IP/24" "$SLUICE_IP" "$SRC/big.bin" \
	>"$T_DIR/cut.json" 2>"$T_DIR/cut.log" &
cut=$!
for ((i = 0; i < 100; i++)); do
	[ -n "$(find "$OUT/.sluice/staging" -name '*.state' 2>/dev/null)" ] && break
	sleep 0.1
done
kill -INT "$cut"
t0=$SECONDS
rc=0
wait "$cut" || rc=$?
[ "$rc" -eq 1 ] || fail "an interrupted sluice-send exited $rc, not 1: $(cat "$T_DIR/cut.log")"
[ $((SECONDS - t0)) -lt 10 ] || fail "sluice-send took $((SECONDS - t0)) s to stop"
grep -q interrupted "$T_DIR/cut.log" || fail "no word of the interruption: $(cat "$T_DIR/cut.log")"
grep -q '"name":"cut.bin",.*"status":"pending"' "$T_DIR/cut.json" ||
	fail "the cut file's status is not pending: $(cat "$T_DIR/cut.json")"
[ ! -e "$OUT/cut.bin" ] || fail "a cut file was published"
stop_sluice || fail "sluice exited $?"
check_stats 1
note "ok [${SECONDS}s]"
