#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# File mode end to end over a veth pair: sluice on net_af_packet (or
# net_af_xdp, first argument) answers ARP, NDP and ping, and receives files
# of awkward sizes (0 B, 1 B, around 4 KiB and chunk boundaries, 64 MiB),
# nested directories, names with spaces and non-ASCII, over IPv4 and IPv6,
# from sluice-send on the kernel stack. Every file must arrive identical,
# with its mode and mtime, nothing may stay in staging, an existing name is
# refused, and every frame sluice received is accounted for.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/file_lib.sh"

SL_DRIVER=${1:-af_packet}
ns_setup
SRC=$T_DIR/src
mkdir -p "$SRC/tree/sub dir/ünïcødé"
for s in 0 1 4095 4096 4097 65535 65536 65537 1048575 1048576 1048577 3145733; do
	mkfile "$SRC/tree/f$s.bin" "$s"
done
mkfile "$SRC/tree/sub dir/with space.txt" 12345
mkfile "$SRC/tree/sub dir/ünïcødé/naïve résumé.dat" 70000
chmod 0640 "$SRC/tree/f1.bin"
touch -d '2001-02-03 04:05:06.789' "$SRC/tree/f4096.bin"
big=$((64 * 1024 * 1024 + 3))
if [ "$SL_DRIVER" = af_xdp ]; then
	SL_DRIVER=af_xdp start_sluice 2
	# The tests run without hugepages: the pool must be packed for the UMEM.
	grep -q "packed for net_af_xdp" "$T_DIR/sluice.log" ||
		fail "the mbuf pool was not packed for net_af_xdp"
else
	start_sluice 2
fi
mkfile "$SRC/big.bin" "$big"

note "ARP, ping and IPv6 neighbour discovery are answered by sluice"
ip netns exec "$NS" ping -c 3 -i 0.2 -W 1 "$SLUICE_IP" >/dev/null || fail "no IPv4 ping reply"
ip netns exec "$NS" ping -6 -c 3 -i 0.2 -W 1 "$SLUICE_IP6" >/dev/null || fail "no IPv6 ping reply"
ip -n "$NS" neigh show "$SLUICE_IP6" | grep -q lladdr || fail "NDP did not resolve sluice"

note "a tree, 64 MiB, over IPv4"
send --json "$SLUICE_IP" "$SRC/tree" "$SRC/big.bin" || {
	cat "$T_DIR/send.log" "$T_DIR/send.json"
	fail "sluice-send failed"
}
n=$(json "$T_DIR/send.json" 'len(j["files"])')
[ "$n" -eq 15 ] || fail "sender reported $n files, not 15"
ok=$(json "$T_DIR/send.json" 'sum(1 for f in j["files"] if f["status"] == "ok")')
[ "$ok" -eq 15 ] || fail "only $ok files ok: $(cat "$T_DIR/send.json")"
same_tree "$SRC/tree" "$OUT/tree"
cmp "$SRC/big.bin" "$OUT/big.bin" || fail "big.bin differs"
[ "$(stat -c %a "$OUT/tree/f1.bin")" = 640 ] || fail "mode not applied"
[ "$(stat -c %Y.%y "$OUT/tree/f4096.bin")" = "$(stat -c %Y.%y "$SRC/tree/f4096.bin")" ] ||
	fail "mtime not applied"
staging_empty

note "the same file again: EXISTS, nothing replaced, exit 1"
send --json --name=tree/f1.bin "$SLUICE_IP" "$SRC/tree/f1.bin" && fail "a resend of an existing file succeeded"
[ "$(send_status tree/f1.bin)" = exists ] || fail "status $(send_status tree/f1.bin), not exists"

note "--name renames, over IPv6"
send --json --name="renamed/été 2.bin" "[$SLUICE_IP6]:7400" "$SRC/tree/f65537.bin" || {
	cat "$T_DIR/send.log"
	fail "IPv6 send failed"
}
cmp "$SRC/tree/f65537.bin" "$OUT/renamed/été 2.bin" || fail "renamed file differs"

note "a progress bar on a terminal, none otherwise"
! grep -q "ETA" "$T_DIR/send.log" || fail "a progress bar went to a non-terminal"
ip netns exec "$NS" script -qec "$SENDER --name=tty.bin $SLUICE_IP $SRC/tree/f3145733.bin" \
	/dev/null >"$T_DIR/tty.out" </dev/null || fail "a send on a terminal failed"
grep -q "ETA" "$T_DIR/tty.out" || fail "no progress bar on a terminal: $(cat "$T_DIR/tty.out")"
cmp "$SRC/tree/f3145733.bin" "$OUT/tty.bin" || fail "tty.bin differs"

if ip -n "$NS" link add link "$VS" name "v7$$" type vlan id 7 2>/dev/null; then
	note "VLAN-tagged: the sender moves onto VLAN 7, sluice answers with the tag"
	ip -n "$NS" addr del "$SENDER_IP/24" dev "$VS"
	ip -n "$NS" addr add "$SENDER_IP/24" dev "v7$$"
	ip -n "$NS" link set "v7$$" up
	ip -n "$NS" neigh flush all
	ip netns exec "$NS" ping -c 2 -i 0.2 -W 1 "$SLUICE_IP" >/dev/null ||
		fail "no ping reply on VLAN 7"
	send --json --name=vlan.bin "$SLUICE_IP" "$SRC/tree/f1048577.bin" ||
		fail "send on VLAN 7 failed"
	cmp "$SRC/tree/f1048577.bin" "$OUT/vlan.bin" || fail "vlan.bin differs"
	vlan_ok=1
else
	note "no VLAN devices in this kernel: tagged ARP and echo from a raw socket instead"
	ip netns exec "$NS" python3 "$(dirname "$0")/../tools/vlan-probe.py" "$VS" 7 \
		"$SENDER_IP" "$SLUICE_IP" || fail "sluice did not answer on VLAN 7 with the tag"
	vlan_ok=0
fi

stop_sluice || fail "sluice exited $?"
check_balanced "$T_DIR/stats.json"
js=$T_DIR/stats.json
[ "$(json "$js" 'j["file"]["files_ok"]')" -eq $((17 + vlan_ok)) ] || fail "files_ok wrong"
[ "$(json "$js" 'j["total"]["served"]')" -ge 6 ] || fail "pings and neighbour requests not served"
[ "$(json "$js" 'j["file"]["files_failed"]["exists"]')" -eq 1 ] || fail "exists not counted"
staging_empty

note "stopping sluice in the middle of a transfer says BYE to the sender at once"
[ "$SL_DRIVER" = af_xdp ] && export SL_DRIVER
start_sluice 2
ip netns exec "$NS" timeout 60 "$SENDER" -v --rate=40M --name=cut.bin "$SLUICE_IP" \
	"$SRC/big.bin" 2>"$T_DIR/cut.log" &
cut=$!
for ((i = 0; i < 100; i++)); do
	[ -n "$(find "$OUT/.sluice/staging" -name '*.state' 2>/dev/null)" ] && break
	sleep 0.1
done
stop_sluice || fail "sluice exited $? when stopped mid-transfer"
t0=$SECONDS
rc=0
wait "$cut" || rc=$?
[ "$rc" -ne 0 ] || fail "the cut transfer reported success"
[ $((SECONDS - t0)) -lt 10 ] || fail "the sender waited $((SECONDS - t0)) s instead of hearing BYE"
grep -q "BYE from the receiver" "$T_DIR/cut.log" || fail "the sender did not hear BYE"
[ ! -e "$OUT/cut.bin" ] || fail "a cut file was published"
ls "$OUT/.sluice/staging/"*.state >/dev/null || fail "the cut file was not kept for resume"
note "ok"
