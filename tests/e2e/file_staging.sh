#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Bounded staging (docs/protocol.md, notes for implementers). A sender
# without a key opens four 6 MiB files on a 32 MiB disk, whose
# preallocation holds the disk while its session lives (a real file then
# gets NO_SPACE), sends 1 MiB of one of them and walks away. The files with
# nothing durable are removed at once, the other keeps only its durable
# chunks and its sidecar, and the disk is free again. At the next start,
# staged files older than the TTL (24 h), data without a sidecar (a crash
# before the first one) and interrupted sidecar updates are removed; a
# resumable transfer of the day is kept.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
ns_setup
command -v mkfs.ext4 >/dev/null || skip "needs e2fsprogs"
SRC=$T_DIR/src
mkfile "$SRC/real.bin" $((10 * 1024 * 1024))
truncate -s 32M "$T_DIR/disk.img"
mkfs.ext4 -q -F -m 0 "$T_DIR/disk.img"
OUT=$T_DIR/disk
mkdir -p "$OUT"
mount -o loop "$T_DIR/disk.img" "$OUT" || skip "cannot mount a loop device here"
on_exit "umount -l $OUT"
free_kib() { echo $(($(stat -f -c '%a * %S' "$OUT") / 1024)); }

start_sluice 2
free0=$(free_kib)
note "a stranger opens four 6 MiB files ($free0 KiB free)"
# The stranger holds its session open until told to go (a file in $T_DIR).
ip netns exec "$NS" timeout 60 python3 -c '
import os, sys, time
sys.path.insert(0, sys.argv[1])
import sl_e2e as P
c = P.Client(sys.argv[2])
c.open()
size, cs = 6 << 20, 64 << 10
first = os.urandom(size)
for i in range(4):
    st = c.manifest(i + 1, first if i == 0 else os.urandom(size), "stranger/f%d" % i,
                    chunk_size=cs, ndigests=16 if i == 0 else 0)
    assert st == "ready", "f%d: %s" % (i, st)
c.send_range(1, first, 0, 16 * cs, cs)  # 1 MiB with its digests: it becomes durable
assert c.wait_durable(1, 16, first, cs), "the first MiB did not become durable"
open(sys.argv[3] + ".opened", "w").close()
for _ in range(300):
    if os.path.exists(sys.argv[3] + ".go"):
        break
    time.sleep(0.1)
assert c.bye(), "no BYE back"
' "$E2E_DIR" "$SLUICE_IP" "$T_DIR/stranger" >"$T_DIR/stranger.log" 2>&1 &
xpid=$!
for ((i = 0; i < 300; i++)); do
	[ -e "$T_DIR/stranger.opened" ] && break
	kill -0 "$xpid" 2>/dev/null || fail "the stranger failed: $(cat "$T_DIR/stranger.log")"
	sleep 0.1
done
[ -e "$T_DIR/stranger.opened" ] || fail "the stranger did not open its files"
held=$((free0 - $(free_kib)))
note "while its session lives it holds $held KiB"
[ "$held" -ge $((20 * 1024)) ] || fail "the preallocation holds only $held KiB"
send --json --name=real.bin "$SLUICE_IP" "$SRC/real.bin" && fail "real.bin fit a full disk?"
[ "$(send_status real.bin)" = no_space ] || fail "real.bin: $(send_status real.bin), not no_space"

note "the stranger walks away (BYE)"
touch "$T_DIR/stranger.go"
wait "$xpid" || fail "the stranger failed: $(cat "$T_DIR/stranger.log")"
sleep 1
held=$((free0 - $(free_kib)))
mapfile -t left < <(cd "$OUT/.sluice/staging" && ls)
note "after its BYE: $held KiB held, staged: ${left[*]}"
[ "${#left[@]}" -eq 2 ] || fail "staged after the BYE: ${left[*]} (want one .data and its .state)"
[ "$held" -le 2048 ] || fail "$held KiB still held after the BYE (1 MiB was durable)"
send --json --name=real.bin "$SLUICE_IP" "$SRC/real.bin" ||
	fail "real.bin failed once the stranger left: $(cat "$T_DIR/send.json")"
cmp "$SRC/real.bin" "$OUT/real.bin" || fail "real.bin differs"
stop_sluice || fail "sluice exited $?"

note "restart: expired, sidecar-less and interrupted staged files go; today's resumable one stays"
st=$OUT/.sluice/staging
kept=$(cd "$st" && ls ./*.data)
kept=${kept#./}
kept=${kept%.data}
for h in aaaa bbbb cccc; do
	printf -v "hex_$h" '%s' "$(printf "$h%.0s" $(seq 16))"
done
# shellcheck disable=SC2154
{
	echo x >"$st/$hex_aaaa.data"              # a crash before its first sidecar
	echo x >"$st/$hex_bbbb.state.tmp"         # a crash in a sidecar update
	echo x >"$st/$hex_cccc.data"              # abandoned two days ago
	echo x >"$st/$hex_cccc.state"
	touch -d '2 days ago' "$st/$hex_cccc.data" "$st/$hex_cccc.state"
}
start_sluice 2
mapfile -t left < <(cd "$st" && ls)
[ "${left[*]}" = "$kept.data $kept.state" ] || fail "staged after the restart: ${left[*]}"
stop_sluice || fail "sluice exited $?"
E2E_DIR=$E2E_DIR python3 "$E2E_DIR/sl_e2e.py" check "$T_DIR/stats.json" \
	'j["file"]["staging"]["removed"] == 2' || fail "staged files removed at start not counted"
note "ok"
