#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A disk slower than the traffic (an ext4 loop device throttled to 4 MB/s by
# the blkio cgroup): drops must be counted as writer_nobuf (disk backlog),
# exactly, every file valid, and sluice must stop promptly.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for a loop device and a cgroup"
blkio=/sys/fs/cgroup/blkio
[ -w "$blkio/blkio.throttle.write_bps_device" ] || skip "no blkio throttling (cgroup v1 blkio)"
command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null || skip "needs losetup, mkfs.ext4"

ram_image 256M
mkfs.ext4 -q -F "$IMG"
loop=$(losetup --find --show "$IMG") || skip "no free loop device"
on_exit "losetup -d $loop"
mkdir "$T_DIR/mnt"
mount "$loop" "$T_DIR/mnt" || skip "cannot mount a loop device"
on_exit "umount $T_DIR/mnt"
mkdir "$T_DIR/mnt/out"
cg="$blkio/sluice-e2e-$$"
mkdir "$cg"
on_exit "rmdir $cg"
echo "$(lsblk -ndo MAJ:MIN "$loop" | tr -d ' ') 4194304" >"$cg/blkio.throttle.write_bps_device"

"$MKPCAP" -o "$T_DIR/in.pcap" -n 20000 -s 1000-1514 --seed 9
note "looping replay for 3 s onto a 4 MB/s disk"
rc=0
# shellcheck disable=SC2046
bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' _ "$cg" \
	timeout --signal=INT --kill-after=20 60 "$SLUICE" $(eal_args 2) \
	--vdev="net_pcap0,rx_pcap=$T_DIR/in.pcap,infinite_rx=1" -- --dir="$T_DIR/mnt/out" \
	--mbufs=65536 --format=pcapng --duration=3 --snaplen=65535 --write-buffer=256K --write-buffers=8 --idle-sleep=20 \
	--stats-json="$T_DIR/stats.json" >"$T_DIR/sluice.log" 2>&1 || rc=$?
[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "sluice hung on a slow disk"
[ "$rc" -eq 0 ] || { cat "$T_DIR/sluice.log"; fail "sluice exited $rc"; }
elapsed=$(json "$T_DIR/stats.json" 'j["elapsed_s"]')
js="$T_DIR/stats.json"
check_balanced "$js"
nobuf=$(json "$js" 'j["total"]["drops"]["writer_nobuf"]')
w=$(json "$js" 'j["total"]["written"]')
[ "$nobuf" -gt 0 ] || fail "a 4 MB/s disk caused no writer_nobuf drops"
[ "$(json "$js" 'j["total"]["drops"]["write_error"]')" -eq 0 ] || fail "unexpected write errors"
mapfile -t files < <(capture_files "$T_DIR/mnt/out")
check_files_clean "${files[@]}"
[ "$(count_packets "${files[@]}")" -eq "$w" ] || fail "files do not hold exactly written=$w"
note "ok: written $w, writer_nobuf $nobuf in ${elapsed}s"
