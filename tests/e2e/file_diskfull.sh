#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The disk fills in the middle of a transfer. On a 48 MiB ext4 (no blocks
# reserved for root), a 20 MiB file passes the free-space check of its
# MANIFEST and starts; once some of its chunks are durable, a filler takes
# every free block. The file's data was preallocated, but its next sidecar
# update has no block: it ends NO_SPACE at the sender, nothing appears under
# its final name, its durable chunks stay staged and the rest of its
# preallocation is given back, so another session's file still fits and
# completes. sluice keeps serving and exits 0. Once the filler is gone the
# same file is sent again: only the missing chunks go, and it arrives
# identical.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
ns_setup
command -v mkfs.ext4 >/dev/null || skip "needs e2fsprogs"
command -v fallocate >/dev/null || skip "needs fallocate (util-linux)"
SRC=$T_DIR/src
size=$((20 * 1024 * 1024))
mkfile "$SRC/a.bin" "$size"
mkfile "$SRC/b.bin" $((4 * 1024 * 1024))

truncate -s 48M "$T_DIR/disk.img"
mkfs.ext4 -q -F -m 0 "$T_DIR/disk.img"
OUT=$T_DIR/disk
mkdir -p "$OUT"
mount -o loop "$T_DIR/disk.img" "$OUT" || skip "cannot mount a loop device here"
on_exit "umount -l $OUT"

start_sluice 2
note "a.bin starts, then a filler takes every free block"
# 40 Mbit/s: about four seconds for a.bin.
ip netns exec "$NS" timeout 60 "$SENDER" --json --timeout=5 --rate=40M --name=a.bin \
	"$SLUICE_IP" "$SRC/a.bin" >"$T_DIR/a1.json" 2>"$T_DIR/a1.log" &
apid=$!
for ((i = 0; i < 200; i++)); do
	[ -n "$(find "$OUT/.sluice/staging" -name '*.state' 2>/dev/null)" ] && break
	sleep 0.05
done
[ -n "$(find "$OUT/.sluice/staging" -name '*.state')" ] || fail "no durable chunk of a.bin"
sleep 0.5
# Each sidecar update writes a new block, then frees the old one by its rename: a block
# freed between the look at the free count and the fallocate would let the updates go on
# for ever in it. So the filler takes what is free, then the few blocks such renames
# freed meanwhile, until none is; more than a few free means a.bin has already failed and
# given its preallocation back, which b.bin needs below.
read -r avail bsize < <(stat -f -c '%a %S' "$OUT")
fallocate -l $((avail * bsize)) "$OUT/filler.0" || fail "the filler did not get the free space"
took=$((avail * bsize))
# None free may be a sidecar written into the last block whose rename is about to free
# the old one: none must stay free for a while (ten looks, 20 ms apart).
zero=0
for ((k = 1; k < 200 && zero < 10; k++)); do
	read -r avail bsize < <(stat -f -c '%a %S' "$OUT")
	if [ "$avail" -eq 0 ]; then
		zero=$((zero + 1))
		sleep 0.02
		continue
	fi
	[ "$avail" -le 64 ] || break
	zero=0
	# The last blocks may not fit one extent: one block at a time then.
	if fallocate -l $((avail * bsize)) "$OUT/filler.$k" 2>/dev/null; then
		took=$((took + avail * bsize))
	elif fallocate -l "$bsize" "$OUT/filler.$k" 2>/dev/null; then
		took=$((took + bsize))
	fi
done
note "filler took $((took / 1024)) KiB in $k step(s); $(stat -f -c '%a' "$OUT") blocks left"
rc=0
wait "$apid" || rc=$?
[ "$rc" -eq 1 ] || fail "the sender of a.bin exited $rc, not 1: $(cat "$T_DIR/a1.json")"
st=$(json "$T_DIR/a1.json" 'j["files"][0]["status"]')
[ "$st" = no_space ] || fail "a.bin ended $st, not no_space"
[ ! -e "$OUT/a.bin" ] || fail "a.bin is visible after NO_SPACE"
ls "$OUT/.sluice/staging/"*.data "$OUT/.sluice/staging/"*.state >/dev/null ||
	fail "the durable chunks of a.bin were not kept staged"
kill -0 "$SLUICE_PID" || fail "sluice died"

note "another session: b.bin fits into what a.bin gave back"
send --json --name=b.bin "$SLUICE_IP" "$SRC/b.bin" ||
	fail "b.bin failed: $(cat "$T_DIR/send.json")"
cmp "$SRC/b.bin" "$OUT/b.bin" || fail "b.bin differs"

note "space freed: a.bin again resumes from its durable chunks"
rm -f "$OUT"/filler.*
send --json --name=a.bin "$SLUICE_IP" "$SRC/a.bin" ||
	fail "a.bin failed again: $(cat "$T_DIR/send.json")"
cmp "$SRC/a.bin" "$OUT/a.bin" || fail "a.bin differs after the resume"
stop_sluice || fail "sluice exited $?"
E2E_DIR=$E2E_DIR python3 -c '
import json, os, sys
sys.path.insert(0, os.environ["E2E_DIR"])
import sl_e2e as P
tdir, size = sys.argv[1], int(sys.argv[2])
j = P.load(os.path.join(tdir, "stats.json"))
P.check_balanced(j)
fm = j["file"]
sent = json.load(open(os.path.join(tdir, "send.json")))["files"][0]["sent_bytes"]
print("a.bin: %d of %d bytes sent the second time; no_space %d, resumed %d, trimmed %d"
      % (sent, size, fm["files_failed"]["no_space"], fm["files_resumed"],
         fm["staging"]["trimmed"]))
assert sent < size, "a.bin was sent whole again"
assert fm["files_failed"]["no_space"] == 1, "no_space not counted once"
assert fm["files_resumed"] == 1 and fm["files_ok"] == 2
assert fm["staging"]["trimmed"] >= 1, "the preallocation of a.bin was not given back"
' "$T_DIR" "$size" || fail "counters"
grep -q "sidecar of a.bin: No space left on device" "$T_DIR/sluice.log" ||
	fail "the ENOSPC of the sidecar was not logged"
staging_empty
note "ok"
