#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Hostile names and a full disk. Names that escape --dir ("..", absolute,
# through a symlink planted in --dir), control characters and over-long
# components get BAD_PATH and write nothing anywhere; an existing file is
# refused unless --overwrite; a file that does not fit gets NO_SPACE up
# front while other files keep flowing; keys and --allow refuse strangers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

ns_setup
command -v mkfs.ext4 >/dev/null || skip "needs e2fsprogs"
SRC=$T_DIR/src
mkfile "$SRC/x.bin" 5000
mkfile "$SRC/big.bin" $((40 * 1024 * 1024))

# A 32 MiB ext4 disk as --dir.
truncate -s 32M "$T_DIR/disk.img"
mkfs.ext4 -q -F "$T_DIR/disk.img"
OUT=$T_DIR/disk
mkdir -p "$OUT" "$T_DIR/elsewhere"
mount -o loop "$T_DIR/disk.img" "$OUT" || skip "cannot mount a loop device here"
on_exit "umount -l $OUT"
ln -s "$T_DIR/elsewhere" "$OUT/link"

start_sluice 2

expect_status() { # NAME STATUS [extra sender args]
	local name=$1 want=$2 got
	shift 2
	send --json --name="$name" "$@" "$SLUICE_IP" "$SRC/x.bin" && fail "'$name' was accepted"
	got=$(json "$T_DIR/send.json" 'j["files"][0]["status"]')
	[ "$got" = "$want" ] || fail "'$name': status $got, not $want"
}
note "names that must be refused"
expect_status "../escape" bad_path
expect_status "/etc/sluice-escape" bad_path
expect_status "a/../../escape" bad_path
expect_status "link/through-symlink" bad_path
expect_status "./x" bad_path
expect_status "a//b" bad_path
expect_status "$(printf 'ctl\001name')" bad_path
expect_status "$(head -c 300 /dev/zero | tr '\0' a)" bad_path
expect_status ".sluice/staging/evil" bad_path
[ -z "$(ls -A "$T_DIR/elsewhere")" ] || fail "a file was written through the symlink"
[ ! -e "$T_DIR/escape" ] && [ ! -e /etc/sluice-escape ] || fail "a file escaped --dir"

note "garbage, truncated and fragmented datagrams are counted, and sluice keeps serving"
ip netns exec "$NS" python3 - "$SLUICE_IP" <<'PY'
import os, random, socket, sys, time
r = random.Random(7)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    n = r.choice([0, 1, 19, 20, 28, 255, 256, 1000, 1472])
    data = bytearray(os.urandom(n))
    if n >= 20 and i % 2:
        data[0:4] = b"SL\x01\x08"  # magic, version, DATA: fails later, on length or CRC
    s.sendto(bytes(data), (sys.argv[1], 7400))
    # Paced: net_af_packet's kernel ring (512 frames) overflows silently
    # when sluice runs slowly (sanitizers, a loaded machine), and DPDK 22.11's
    # net_af_packet does not report those drops as imissed.
    if i % 64 == 63:
        time.sleep(0.005)
for _ in range(3):
    time.sleep(0.1)
    s.sendto(b"x" * 100, (sys.argv[1], 7401))  # another port
PY
# A ping of 3000 bytes leaves the sender's kernel as IPv4 fragments.
ip netns exec "$NS" ping -c 1 -W 1 -s 3000 -M dont "$SLUICE_IP" >/dev/null 2>&1 &&
	fail "a fragmented ping was answered"
sleep 1
send --json --name=after-garbage.bin "$SLUICE_IP" "$SRC/x.bin" || fail "no transfer after garbage"
cmp "$SRC/x.bin" "$OUT/after-garbage.bin" || fail "after-garbage.bin differs"
garbage=1

note "an existing name"
send --json --name=keep.bin "$SLUICE_IP" "$SRC/x.bin" || fail "first keep.bin failed"
expect_status keep.bin exists

note "two files that fit together are both accepted (space that fallocate took is not counted twice)"
mkdir -p "$SRC/pair"
mkfile "$SRC/pair/one.bin" $((11 * 1024 * 1024))
mkfile "$SRC/pair/two.bin" $((9 * 1024 * 1024))
df -k "$OUT" | tail -1
send --json "$SLUICE_IP" "$SRC/pair" || fail "two files that fit were refused: $(cat "$T_DIR/send.json")"
same_tree "$SRC/pair" "$OUT/pair"
rm -rf "$OUT/pair"

note "a file larger than the disk: NO_SPACE up front, the others still flow"
send --json "$SLUICE_IP" "$SRC/big.bin" && fail "40 MiB fit a 32 MiB disk?"
[ "$(send_status big.bin)" = no_space ] || fail "big.bin: $(send_status big.bin), not no_space"
send --json --name=after.bin "$SLUICE_IP" "$SRC/x.bin" || fail "a small file after NO_SPACE failed"
cmp "$SRC/x.bin" "$OUT/after.bin"
stop_sluice || fail "sluice exited $?"
check_balanced "$T_DIR/stats.json"
js=$T_DIR/stats.json
# net_af_packet's fanout reassembles fragments (PACKET_FANOUT_FLAG_DEFRAG) into
# one frame longer than its ring slots, which arrives cut short: either way
# the datagram is dropped and counted.
frag=$(json "$js" 'sum(r["verdicts"]["fragment"] + r["verdicts"]["bad_ip_header"] for r in j["rx_lcores"])')
port=$(json "$js" 'sum(r["verdicts"]["wrong_port"] for r in j["rx_lcores"])')
dec=$(json "$js" 'sum(v for k, v in j["file"]["drops"].items() if k.startswith("decode_")) + sum(r["unroutable"] for r in j["rx_lcores"])')
note "fragments $frag, wrong port $port, undecodable $dec"
[ "$frag" -ge 1 ] || fail "the fragmented datagram was not counted"
[ "$port" -ge 1 ] || fail "the datagram to another port was not counted"
[ "$dec" -ge 2000 ] || fail "only $dec of 2000 garbage datagrams counted"
staging_empty

note "--overwrite replaces"
mkfile "$SRC/y.bin" 7000
start_sluice 2 --overwrite
send --json --name=keep.bin "$SLUICE_IP" "$SRC/y.bin" || fail "--overwrite did not replace"
cmp "$SRC/y.bin" "$OUT/keep.bin" || fail "keep.bin not replaced"
stop_sluice || fail "sluice exited $?"

note "keys and --allow"
printf 'alpha %s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$T_DIR/keys"
chmod 600 "$T_DIR/keys"
printf 'alpha %s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$T_DIR/wrong"
chmod 600 "$T_DIR/wrong"
start_sluice 2 --psk-file="$T_DIR/keys"
rc=0
SEND_LIMIT=30 send --json --timeout=3 --name=nokey.bin "$SLUICE_IP" "$SRC/x.bin" || rc=$?
[ "$rc" -eq 3 ] || fail "a sender without the key got exit $rc, not 3"
rc=0
SEND_LIMIT=30 send --json --timeout=3 --psk-file="$T_DIR/wrong" --name=wrong.bin "$SLUICE_IP" \
	"$SRC/x.bin" || rc=$?
[ "$rc" -eq 3 ] || fail "a sender with a wrong key got exit $rc, not 3"
send --json --psk-file="$T_DIR/keys" --name=keyed.bin "$SLUICE_IP" "$SRC/x.bin" ||
	fail "a sender with the key failed"
stop_sluice || fail "sluice exited $?"
[ ! -e "$OUT/nokey.bin" ] && [ ! -e "$OUT/wrong.bin" ] || fail "an unauthenticated file landed"
start_sluice 2 --allow=10.99.0.0/16
rc=0
SEND_LIMIT=30 send --json --timeout=3 --name=denied.bin "$SLUICE_IP" "$SRC/x.bin" || rc=$?
[ "$rc" -eq 3 ] || fail "a sender outside --allow got exit $rc, not 3"
stop_sluice || fail "sluice exited $?"
check_balanced "$T_DIR/stats.json"
note "ok"
