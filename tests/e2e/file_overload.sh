#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Senders faster than the disk. The ingest disk (ext4 on a loop device) is
# throttled to 8 MiB/s of writes with a cgroup (v2 io.max wbps, or v1
# blkio.throttle.write_bps_device where the io controller is v1's), and
# sluice's whole process (every writer lcore and io_uring worker is one of
# its threads) is put in it; two unthrottled senders push 24 MiB each. The
# credit window slows the senders to the disk's pace: both files arrive
# identical, no DATA is dropped for want of a chunk buffer or a ring slot,
# the transfer takes about (size - buffered) / throttle, and sluice's
# resident memory stays flat.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
[ "$(id -u)" -eq 0 ] || skip "needs root for cgroups and loop devices"
command -v mkfs.ext4 >/dev/null || skip "needs e2fsprogs"
command -v losetup >/dev/null || skip "needs losetup (util-linux)"
BPS=$((8 * 1024 * 1024))
CG=""
CG_KIND=""
if [ -e /sys/fs/cgroup/cgroup.controllers ] && grep -qw io /sys/fs/cgroup/cgroup.controllers; then
	CG_KIND=v2
	grep -qw io /sys/fs/cgroup/cgroup.subtree_control ||
		echo +io >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null ||
		skip "cgroup v2 is mounted but its io controller cannot be enabled at the root"
	CG=/sys/fs/cgroup/sluice-$T_NAME-$$
elif [ -e /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device ]; then
	CG_KIND=v1
	CG=/sys/fs/cgroup/blkio/sluice-$T_NAME-$$
else
	skip "no cgroup io controller here: cgroup v2 without io (see /sys/fs/cgroup/cgroup.controllers) and no v1 blkio throttling"
fi

ns_setup
SRC=$T_DIR/src
size=$((24 * 1024 * 1024))
mkfile "$SRC/one.bin" "$size"
mkfile "$SRC/two.bin" "$size"

ram_image 160M
mkfs.ext4 -q -F "$IMG"
LOOP=$(losetup -f --show "$IMG") || skip "no loop device here"
on_exit "losetup -d $LOOP"
OUT=$T_DIR/disk
mkdir -p "$OUT"
mount "$LOOP" "$OUT" || skip "cannot mount $LOOP"
on_exit "umount -l $OUT"
dev=$(lsblk -dno MAJ:MIN "$LOOP" | tr -d ' ')

mkdir "$CG" || skip "cannot create a cgroup in $(dirname "$CG")"
# Everything in it is moved back out before it goes.
on_exit "for p in \$(cat $CG/cgroup.procs 2>/dev/null); do echo \$p > $(dirname "$CG")/cgroup.procs; done; rmdir $CG"
if [ "$CG_KIND" = v2 ]; then
	echo "$dev wbps=$BPS" >"$CG/io.max" || skip "io.max refused $dev"
else
	echo "$dev $BPS" >"$CG/blkio.throttle.write_bps_device" || skip "blkio refused $dev"
fi
note "writes to $LOOP ($dev) throttled to $((BPS / 1048576)) MiB/s (cgroup $CG_KIND)"

start_sluice 2
echo "$SLUICE_PID" >"$CG/cgroup.procs" || fail "cannot move sluice into $CG"
rss_sampler "$SLUICE_PID" "$T_DIR/rss.log"
sleep 1.5

note "two unthrottled senders"
t0=$(date +%s.%N)
ip netns exec "$NS" timeout 90 "$SENDER" --json "$SLUICE_IP" "$SRC/one.bin" \
	>"$T_DIR/one.json" 2>"$T_DIR/one.log" &
p1=$!
ip netns exec "$NS" timeout 90 "$SENDER" --json "$SLUICE_IP" "$SRC/two.bin" \
	>"$T_DIR/two.json" 2>"$T_DIR/two.log" &
p2=$!
wait "$p1" || fail "one.bin failed: $(cat "$T_DIR/one.json")"
wait "$p2" || fail "two.bin failed: $(cat "$T_DIR/two.json")"
t1=$(date +%s.%N)
cmp "$SRC/one.bin" "$OUT/one.bin" || fail "one.bin differs"
cmp "$SRC/two.bin" "$OUT/two.bin" || fail "two.bin differs"
written=$(awk '$1 == "'"$dev"'" && $2 == "Write" {print $3}' "$CG/blkio.throttle.io_service_bytes" 2>/dev/null || true)
stop_sluice || fail "sluice exited $?"
kill "$RSS_PID" 2>/dev/null || true

E2E_DIR=$E2E_DIR python3 -c '
import json, os, sys
sys.path.insert(0, os.environ["E2E_DIR"])
import sl_e2e as P
tdir, size, bps, t0, t1, written = sys.argv[1:7]
size, bps, elapsed = int(size), int(bps), float(t1) - float(t0)
j = P.load(os.path.join(tdir, "stats.json"))
P.check_balanced(j)
fm, t = j["file"], j["total"]
# The credit window lets each session have up to --window (8 MiB) in
# sluice'"'"'s buffers before the disk is waited for, so the disk must
# still take the rest at the throttled rate.
floor = (2 * size - 2 * 8 * 2**20) / bps
rss = [int(l.split()[1]) for l in open(os.path.join(tdir, "rss.log"))]
print("48 MiB in %.1f s (%.1f MiB/s; throttle %.0f MiB/s, at least %.1f s); "
      "no_buffer %d, ring_full %d, writer_nobuf %d, retransmitted %d bytes; "
      "throttled writes %s bytes; VmRSS %d..%d KiB"
      % (elapsed, 2 * size / elapsed / 2**20, bps / 2**20, floor, fm["drops"]["data_no_buffer"],
         t["drops"]["ring_full"], t["drops"]["writer_nobuf"],
         sum(f["retransmitted_bytes"] for n in ("one.json", "two.json")
             for f in json.load(open(os.path.join(tdir, n)))["files"]), written or "?",
         min(rss), max(rss)))
assert elapsed >= 0.9 * floor, "faster than the throttled disk: not throttled?"
assert elapsed <= 4 * 2 * size / bps + 10, "far slower than the disk allows"
assert fm["drops"]["data_no_buffer"] == 0, "DATA dropped for want of a chunk buffer"
assert fm["drops"]["data_fragmented"] == 0 and fm["chunks"]["evicted"] == 0
assert t["drops"]["ring_full"] == 0, "datagrams dropped on a full ring"
assert fm["files_ok"] == 2 and sum(fm["files_failed"].values()) == 0
# Memory is preallocated (see file_flood.sh): a slow disk must not grow it.
assert max(rss) - rss[0] <= 16 * 1024, "VmRSS grew by %d KiB" % (max(rss) - rss[0])
' "$T_DIR" "$size" "$BPS" "$t0" "$t1" "${written:-}" || fail "overload"
staging_empty
note "ok"
