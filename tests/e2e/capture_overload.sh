#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Overload (issue #6): senders far faster than the disk. The ingest filesystem (ext4 on a
# loop device) is throttled to 8 MB/s of writes by a cgroup (v2 io.max where the io
# controller is on the unified hierarchy, else v1 blkio), and net_null delivers 1500-byte
# frames as fast as an lcore can take them. Capture mode must count every drop exactly
# (received = written + ring_full + writer_nobuf + ..., with writer_nobuf > 0: the loss is
# put on the disk), keep valid files holding exactly the written packets, keep its memory
# flat after warm-up, and stop within a bounded time at SIGINT with the disk still slow.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for a loop device and a cgroup"
command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup, mkfs.ext4"

rate=$((8 << 20))
ring=1024
wbuf=256
nbufs=8
run_s=12
warm_s=4

# The cgroup: v2 io.max if a cgroup2 hierarchy has the io controller, else v1 blkio.
cg="" cg_kind=""
v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -n "$v2" ] && grep -qw io "$v2/cgroup.controllers" 2>/dev/null; then
	cg_kind=v2
elif [ -w /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device ]; then
	cg_kind=v1
else
	skip "no write throttling: the io controller is on no cgroup2 hierarchy${v2:+ ($v2 has: $(cat "$v2/cgroup.controllers"))} and there is no v1 blkio"
fi

ram_image 512M
mkfs.ext4 -q -F "$IMG"
loop=$(losetup --find --show "$IMG") || skip "no free loop device"
on_exit "losetup -d $loop"
mkdir "$T_DIR/mnt"
mount "$loop" "$T_DIR/mnt" || skip "cannot mount a loop device"
on_exit "umount $T_DIR/mnt"
mkdir "$T_DIR/mnt/out"
dev=$(lsblk -ndo MAJ:MIN "$loop" | tr -d ' ')

if [ "$cg_kind" = v2 ]; then
	# io.max works in a cgroup whose parent's subtree_control enables io.
	grep -qw io "$v2/cgroup.subtree_control" || echo +io >"$v2/cgroup.subtree_control" ||
		skip "cannot enable the io controller in $v2/cgroup.subtree_control"
	cg="$v2/sluice-e2e-$$"
	mkdir "$cg"
	on_exit "rmdir $cg"
	echo "$dev wbps=$rate" >"$cg/io.max" || skip "io.max refused $dev"
else
	cg="/sys/fs/cgroup/blkio/sluice-e2e-$$"
	mkdir "$cg"
	on_exit "rmdir $cg"
	echo "$dev $rate" >"$cg/blkio.throttle.write_bps_device"
fi
note "ext4 on $loop ($dev) throttled to $((rate >> 20)) MB/s of writes (cgroup $cg_kind)"

# shellcheck disable=SC2046,SC2016
bash -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' _ "$cg" \
	"$SLUICE" $(eal_args 2) --vdev=net_null0,size=1500,copy=1 -- --dir="$T_DIR/mnt/out" \
	--format=pcapng --snaplen=2048 --rotate-size=32M --ring-size=$ring --write-buffer=${wbuf}K \
	--write-buffers=$nbufs --idle-sleep=20 --stats-json="$T_DIR/stats.json" \
	>"$T_DIR/sluice.log" 2>&1 &
pid=$!
live=$pid
# shellcheck disable=SC2016
on_exit '[ -z "$live" ] || kill -9 "$live" 2>/dev/null'

for _ in $(seq 1 600); do
	grep -qs "^sluice: capture on" "$T_DIR/sluice.log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$T_DIR/sluice.log"; fail "sluice died at start"; }
	sleep 0.1
done
grep -q "^sluice: capture on" "$T_DIR/sluice.log" || fail "sluice did not start"
grep -qx "$pid" "$cg/cgroup.procs" || fail "sluice is not in the throttled cgroup"

# VmRSS once a second while the disk is the bottleneck.
: >"$T_DIR/rss"
for ((s = 0; s < run_s; s++)); do
	sleep 1
	awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" >>"$T_DIR/rss" ||
		fail "sluice died while overloaded"
done

# SIGINT with the disk still throttled: RX stops, the writer drains its ring and buffers
# at the disk's pace and finishes its files. That is at most ring + buffers + one record
# of data, a second or less at the throttle's rate, then an fsync per file.
#
# But the kernel does not always keep to that rate: on a loaded machine, sluice's last
# writes were seen held for seconds, once (in CI) for about 90 s, with none of them at
# the loop device and the writer asleep in io_uring's wait for their completions (the
# kernel's view below, taken in such holds); lifting the throttle 1 s into a stop did not
# keep stops short either (23 to 56 s followed, in a trial). sluice cannot make the
# kernel finish a write it submitted, and it must not give up on one (what is in flight
# would be lost): it waits while any I/O operation finishes, saying every 12 s what it
# waits for, and gives up after 120 s in which none did (sl_capture_finish()). So the bound that holds sluice to account is that one, with
# room: the test fails after $stall s in which sluice gave the cgroup no new write (its
# counter counts a write as it enters the throttle) and nothing reached the loop device
# (where a write must land before it completes), or $limit s in all, printing
# sluice's log and then where each thread waits; and it prints the stop time with the
# writer's largest write and fsync latencies.
limit=300 stall=150
loop_dev=$(basename "$loop")
# submitted: bytes of writes from the cgroup's processes that entered the throttle.
submitted() {
	if [ "$cg_kind" = v2 ]; then
		awk -v d="$dev" '$1 == d { for (i = 2; i <= NF; i++) if ($i ~ /^wbytes=/) print substr($i, 8) }' \
			"$cg/io.stat"
	else
		awk -v d="$dev" '$1 == d && $2 == "Write" { print $3 }' \
			"$cg/blkio.throttle.io_service_bytes"
	fi
}
# landed: sectors written at the loop device, whoever wrote them (the throttle's
# output, ext4's journal, and a dead process's writes).
landed() { awk '{ print $7 }' "/sys/block/$loop_dev/stat"; }
stop_progress() { echo "$(submitted) $(landed)"; }
set_throttle() { # BYTES_PER_S
	if [ "$cg_kind" = v2 ]; then
		echo "$dev wbps=$1" >"$cg/io.max"
	else
		echo "$dev $1" >"$cg/blkio.throttle.write_bps_device"
	fi
}
# Where PID's threads wait, what the loop device has in flight, what reached it.
kernel_view() {
	local t c
	echo "  loop device $loop_dev: in flight (reads, writes) $(tr -s ' ' <"/sys/block/$loop_dev/inflight"), $(landed) sectors written"
	for t in /proc/"$1"/task/*; do
		c=$(cat "$t/comm" 2>/dev/null) || continue
		echo "  thread $c: $(cat "$t/wchan" 2>/dev/null || true)" \
			"[$({ head -3 "$t/stack" 2>/dev/null || true; } | awk '{ printf "%s ", $2 }')]"
	done
	grep -E '^(write_bytes|wchar)' "/proc/$1/io" 2>/dev/null | tr '\n' ' ' || true
	echo
}
# watch_exit PID WHAT LOG PROGRESS: wait for PID (WHAT, for messages) to end; PROGRESS (a
# function) prints something that changes while PID's writes advance. Fails after $stall s
# without a change or $limit s in all, with LOG and the kernel's view printed last (CI
# keeps the tail). Sets watched_ms.
watch_exit() {
	local pid=$1 what=$2 log=$3 progress=$4 t0 now moved last cur
	t0=$(date +%s%N)
	moved=$t0 last=$($progress)
	while kill -0 "$pid" 2>/dev/null; do
		now=$(date +%s%N)
		cur=$($progress)
		if [ "$cur" != "$last" ]; then
			last=$cur moved=$now
		fi
		if [ $(((now - t0) / 1000000000)) -gt "$limit" ] ||
			[ $(((now - moved) / 1000000000)) -gt "$stall" ]; then
			cat "$log"
			kernel_view "$pid"
			fail "$what did not end: $(((now - t0) / 1000000)) ms, the last progress $(((now - moved) / 1000000)) ms ago (limits $limit s, $stall s)"
		fi
		sleep 0.1
	done
	watched_ms=$((($(date +%s%N) - t0) / 1000000))
}
kill -INT "$pid"
watch_exit "$pid" "sluice's stop" "$T_DIR/sluice.log" stop_progress
stop_ms=$watched_ms
rc=0
wait "$pid" || rc=$?
live=""
[ "$rc" -eq 0 ] || { cat "$T_DIR/sluice.log"; fail "sluice exited $rc"; }
note "stopped $stop_ms ms after SIGINT (bounds: $limit s, or $stall s without a new write)"
grep -E "stopping: waiting for" "$T_DIR/sluice.log" || true

mapfile -t files < <(capture_files "$T_DIR/mnt/out")
[ "${#files[@]}" -ge 1 ] || fail "no file written"
[ -z "$(find "$T_DIR/mnt/out" -name '*.part')" ] || fail "a .part file was left behind"
check_files_clean "${files[@]}"
in_files=$("$PCAPDUMP" -c "${files[@]}" | awk '{ n += $1 } END { print n + 0 }')

# One python for every check of the counters and of memory (a loaded machine takes
# seconds to start one).
python3 - "$T_DIR/stats.json" "$T_DIR/rss" "$in_files" "$warm_s" <<'EOF' || fail "overload checks"
import json, sys
j = json.load(open(sys.argv[1]))
t, d = j["total"], j["total"]["drops"]
in_files, warm = int(sys.argv[3]), int(sys.argv[4])
# check_balanced: every received frame has exactly one fate.
assert j["balanced"] and t["unaccounted"] == 0, "counters do not balance"
assert t["received"] == t["written"] + t["served"] + t["filtered"] + sum(d.values()), t
assert t["written"] == in_files, f"written {t['written']} but the files hold {in_files}"
assert d["writer_nobuf"] > 0, "a throttled disk caused no writer_nobuf drops"
assert d["write_error"] == 0, "a slow disk is no write error"
w = j["writers"][0]
mb_s = w["file_bytes"] / j["elapsed_s"] / 1e6
print(f"  received {t['received']}, written {t['written']} ({mb_s:.1f} MB/s landed), "
      f"writer_nobuf {d['writer_nobuf']}, ring_full {d['ring_full']}; largest write "
      f"latency {w['io']['write_latency_max_us'] / 1e6:.2f} s, fsync "
      f"{w['io']['fsync_latency_max_us'] / 1e6:.2f} s ({w['io']['fsyncs']} fsyncs)")
# The disk was the bottleneck: what landed is about the throttle's rate, no more.
assert mb_s < 8 * 1.048576 * 1.5, f"{mb_s:.1f} MB/s landed: the throttle did not hold"
# Memory: every buffer of the data path (mbuf pool, rings, write buffers, io_uring) is
# allocated at start, and a drop frees its mbuf at once, so nothing grows with the
# backlog or with the drops (millions here). After warm-up, while every mbuf has already
# cycled, RSS may still take the odd page (stats, libc, the telemetry thread): 4 MiB is
# far below what a leak of even a byte per dropped frame would add.
rss = [int(x) for x in open(sys.argv[2]).read().split()]
after = rss[warm:]
grow = max(after) - after[0]
print(f"  VmRSS kB per second: {rss}; after {warm} s of warm-up it moved {grow} kB")
assert len(after) >= 5, "too few samples"
assert grow <= 4096, f"RSS grew by {grow} kB after warm-up"
EOF
note "ok: ${#files[@]} file(s)"

# SIGKILL while overloaded, on a disk now throttled to 2 MB/s with 16 MiB of writes in
# flight: the dead writer's io_uring keeps its file, and finishes its writes, for
# seconds after the process is gone (7 s measured with 8 MiB at 1 MB/s). The restart's
# recovery must wait for them (the writer's flock lives as long as its io_uring) before
# it walks and cuts the file, which then no longer changes.
slow=$((2 << 20))
set_throttle $slow
# shellcheck disable=SC2046,SC2016
bash -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' _ "$cg" \
	"$SLUICE" $(eal_args 2) --vdev=net_null0,size=1500,copy=1 -- --dir="$T_DIR/mnt/out" \
	--format=pcap --snaplen=2048 --rotate-size=32M --ring-size=$ring --write-buffer=1M \
	--write-buffers=16 --idle-sleep=20 >"$T_DIR/killed.log" 2>&1 &
pid=$!
live=$pid
for _ in $(seq 1 600); do
	grep -qs "^sluice: capture on" "$T_DIR/killed.log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$T_DIR/killed.log"; fail "sluice died at start"; }
	sleep 0.1
done
sleep 3
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
live=""
mapfile -t parts < <(find "$T_DIR/mnt/out" -name '*.part' -printf '%f\n')
[ "${#parts[@]}" -ge 1 ] || fail "the kill left no .part file"
# The restart (outside the cgroup) waits for the dead writer's writes, which only the
# loop device's counter shows moving.
# shellcheck disable=SC2046
timeout --signal=INT --kill-after=20 "$limit" "$SLUICE" $(eal_args 2) \
	--vdev=net_null0,size=1500,copy=1 -- --dir="$T_DIR/mnt/out" --format=pcap \
	--snaplen=2048 --max-packets=1000 --stats-json="$T_DIR/restart.json" \
	>"$T_DIR/sluice.log" 2>&1 &
pid=$!
live=$pid
watch_exit "$pid" "the restart after SIGKILL" "$T_DIR/sluice.log" landed
rc=0
wait "$pid" || rc=$?
live=""
[ "$rc" -eq 0 ] || { cat "$T_DIR/sluice.log"; fail "the restart failed ($rc)"; }
note "restart after SIGKILL took $watched_ms ms (recovery included)"
grep -E '^sluice: (recovered|recovery)' "$T_DIR/sluice.log" || fail "no recovery reported"
python3 - "$T_DIR/restart.json" "${parts[@]}" <<'EOF' || fail "recovery after SIGKILL"
import json, sys
j = json.load(open(sys.argv[1]))
rec = {r["part"]: r for r in j["recovered"]}
assert sorted(rec) == sorted(sys.argv[2:]), f"reported {sorted(rec)}, left {sys.argv[2:]}"
assert j["recovery"]["failed"] == 0, j["recovery"]
for r in rec.values():
    assert r["action"] in ("recovered", "removed_empty", "removed_no_record"), r
assert any(r["action"] == "recovered" for r in rec.values()), "nothing recovered"
assert j["balanced"] and j["total"]["written"] == 1000, j["total"]
EOF
[ -z "$(find "$T_DIR/mnt/out" -name '*.part')" ] || fail "a .part file was left behind"
mapfile -t files2 < <(capture_files "$T_DIR/mnt/out" | grep -vxF -f <(printf '%s\n' "${files[@]}"))
check_files_clean "${files2[@]}"
note "ok: the killed run's files recovered after its writes landed"
