#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Floods while real transfers run. A 64 MiB file and a tree of small files
# are sent while a flooder (file_flood.py, raw and UDP sockets in the sender's
# namespace, bounded in count and time) sends truncated headers, bad UDP
# checksums, bad CRC32Cs, random session ids, DATA past the end of the big
# file and DATA of its session from another port (both spoofed from the real
# sender), HELLO and CONNECT floods without valid cookies, MANIFESTs over the
# limits or inconsistent, and replays (twice each) of the real senders'
# datagrams (IP fragments are file_hostile.sh's). The transfers arrive identical; every class is counted under
# its own counter, exactly where the class has one of its own; nothing is
# unaccounted; sluice's resident memory stays within a bound of its steady
# state (sampled every second).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
ns_setup
SRC=$T_DIR/src
big=$((64 * 1024 * 1024))
mkfile "$SRC/big.bin" "$big"
for i in $(seq 1 40); do
	mkfile "$SRC/tree/d$((i % 4))/f$i.bin" $((i * 5000))
done

start_sluice 2
# VmRSS every second while the test runs.
rss_sampler "$SLUICE_PID" "$T_DIR/rss.log"

ip netns exec "$NS" timeout 60 python3 "$E2E_DIR/file_flood.py" "$SLUICE_IP" "$VS" "$big" \
	"$T_DIR/flood.ready" "$T_DIR/flood.json" >"$T_DIR/flood.log" 2>&1 &
fpid=$!
on_exit "kill $fpid 2>/dev/null"
for ((i = 0; i < 200; i++)); do
	[ -e "$T_DIR/flood.ready" ] && break
	sleep 0.05
done
[ -e "$T_DIR/flood.ready" ] || fail "the flooder did not start: $(cat "$T_DIR/flood.log")"
start_rss=$(tail -1 "$T_DIR/rss.log" | cut -d' ' -f2)
date +%s >"$T_DIR/t0"

note "transfers with the flood"
# 100 Mbit/s: the big file takes about 6 s, long enough for every class.
ip netns exec "$NS" timeout 90 "$SENDER" --json --rate=100M "$SLUICE_IP" "$SRC/big.bin" \
	>"$T_DIR/big.json" 2>"$T_DIR/big.log" &
bpid=$!
ip netns exec "$NS" timeout 90 "$SENDER" --json --rate=50M "$SLUICE_IP" "$SRC/tree" \
	>"$T_DIR/tree.json" 2>"$T_DIR/tree.log" &
tpid=$!
rc=0
wait "$fpid" || rc=$?
[ "$rc" -eq 0 ] || fail "the flooder failed ($rc): $(cat "$T_DIR/flood.log")"
wait "$bpid" || fail "the big file failed under the flood: $(cat "$T_DIR/big.json")"
wait "$tpid" || fail "the tree failed under the flood: $(cat "$T_DIR/tree.json")"
cmp "$SRC/big.bin" "$OUT/big.bin" || fail "big.bin differs"
same_tree "$SRC/tree" "$OUT/tree"
sleep 1
vh_rx=$(cat "/sys/class/net/$VH/statistics/rx_packets")
stop_sluice || fail "sluice exited $?"
kill "$RSS_PID" 2>/dev/null || true
note "flooder: $(cat "$T_DIR/flood.json")"

E2E_DIR=$E2E_DIR python3 -c '
import json, os, sys
sys.path.insert(0, os.environ["E2E_DIR"])
import sl_e2e as P
tdir, start_rss, vh_rx = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
j = P.load(os.path.join(tdir, "stats.json"))
f = json.load(open(os.path.join(tdir, "flood.json")))
P.check_balanced(j)
fm, drops = j["file"], j["file"]["drops"]
rx = sum(p["nic"]["ipackets"] for p in j["ports"])
# Frames the veth took that net_af_packet never delivered (its kernel ring
# overflowed, which DPDK 22.11 does not report): each class may miss at most
# these, and with pacing there should be none.
lost = max(0, vh_rx - rx)
print("veth rx %d, sluice received %d: %d lost before sluice" % (vh_rx, rx, lost))
def exact(name, got, want):
    print("%-16s sent %5d  counted %5d" % (name, want, got))
    assert want - lost <= got <= want, "%s: %d counted, %d sent" % (name, got, want)
def at_least(name, got, want, why):
    print("%-16s sent %5d  counted %5d (%s)" % (name, want, got, why))
    assert got >= want - lost, "%s: %d counted, %d sent" % (name, got, want)
exact("truncated", sum(r["unroutable"] for r in j["rx_lcores"]), f["truncated"])
exact("bad_udp_csum", P.verdicts(j, "bad_udp_csum"), f["bad_udp_csum"])
exact("bad_crc", drops["decode_crc"], f["bad_crc"])
exact("past_end", drops["data_bad_range"], f["past_end"])
exact("wrong_peer", drops["wrong_peer"], f["wrong_peer"])
exact("manifests", drops["bad_manifest"], f["manifest_huge"] + f["manifest_bad"])
assert fm["files_failed"]["refused"] == f["manifest_huge"], "huge MANIFESTs not REFUSED"
assert fm["files_failed"]["bad_manifest"] == f["manifest_bad"], "bad MANIFESTs not BAD_MANIFEST"
at_least("unknown_session", drops["unknown_session"], f["unknown_session"],
         "and late datagrams of ended sessions")
at_least("connect", drops["handshake_refused"], f["connect"], "and rate-limited HELLOs")
at_least("hello", fm["handshake"]["cookies"] + drops["handshake_refused"] - f["connect"],
         f["hello"], "and the real senders\x27 HELLOs")
# A replayed datagram whose original was lost on the way brings new bytes.
print("%-16s sent %5d  counted %5d (and the real retransmissions)"
      % ("replayed bytes", f["replayed_data_bytes"], fm["data"]["dup_bytes"]))
assert fm["data"]["dup_bytes"] >= f["replayed_data_bytes"] - 1472 * lost, "replays not counted"
assert j["total"]["unaccounted"] == 0
assert fm["files_ok"] == 41, "files_ok %d" % fm["files_ok"]
# Memory: hugepages are not RSS, but with --no-huge the DPDK memory is: the
# mbuf pool is written whole at start and the chunk buffers are pinned by
# io_uring registration, so the steady state is reached before any
# transfer. What a flood can make sluice allocate is bounded by its limits:
# sessions (max_sessions, never created without a valid cookie), remembered
# final statuses (65536 a session, about 2 MiB of hash table), files in
# progress (max_files a session, their maps and digests) and the kernel
# socket buffers of net_af_packet. 32 MiB over the state at the start is
# far above all of that for this test and far below a leak per datagram
# (over 6000 datagrams of garbage, plus the replays).
rss = [int(l.split()[1]) for l in open(os.path.join(tdir, "rss.log"))]
peak = max(rss)
print("VmRSS: at start %d KiB, peak %d KiB (+%d KiB) over %d samples"
      % (start_rss, peak, peak - start_rss, len(rss)))
assert len(rss) >= 5, "too few RSS samples"
assert peak - start_rss <= 32 * 1024, "VmRSS grew by %d KiB" % (peak - start_rss)
' "$T_DIR" "$start_rss" "$vh_rx" || fail "the flood was not counted as it should be"
note "ok"
