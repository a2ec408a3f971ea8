#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send a VLAN-tagged ARP request and ICMP echo on IFACE; expect tagged replies.

    vlan-probe.py IFACE VLAN_ID OUR_IP TARGET_IP

For kernels without VLAN devices: the frames are written with a raw packet
socket, and the replies read with PACKET_AUXDATA, where the kernel reports a
tag it took off (or found inline). Exit 0 when both replies came back with the
tag, 1 otherwise (saying what was missing).
"""
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    iface, vid, ours, target = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    mac = s.getsockname()[4]
    sip, tip = socket.inet_aton(ours), socket.inet_aton(target)
    tag = struct.pack("!HH", 0x8100, vid)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, sip, b"\0" * 6, tip)
    s.send(b"\xff" * 6 + mac + tag + struct.pack("!H", 0x0806) + arp)

    got_arp = got_echo = False
    peer_mac = None
    deadline = time.monotonic() + 3
    s.settimeout(0.2)
    while time.monotonic() < deadline and not (got_arp and got_echo):
        try:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
        except socket.timeout:
            continue
        tci = None
        for level, typ, val in anc:
            if level == SOL_PACKET and typ == PACKET_AUXDATA and len(val) >= 20:
                status, _, _, _, _, vtci = struct.unpack("IIIHHH", val[:18])
                if status & TP_STATUS_VLAN_VALID:
                    tci = vtci
        etype = struct.unpack("!H", data[12:14])[0]
        body = data[14:]
        if etype == 0x8100:  # tag left inline
            tci = struct.unpack("!H", data[14:16])[0]
            etype = struct.unpack("!H", data[16:18])[0]
            body = data[18:]
        if data[6:12] == mac or tci is None or (tci & 0xFFF) != vid:
            continue
        if etype == 0x0806 and struct.unpack("!H", body[6:8])[0] == 2 and body[14:18] == tip:
            got_arp = True
            peer_mac = body[8:14]
            icmp = struct.pack("!BBHHH", 8, 0, 0, 0x5151, 1) + b"sluice-vlan-probe"
            icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0, sip, tip)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            s.send(peer_mac + mac + tag + struct.pack("!H", 0x0800) + ip + icmp)
        elif etype == 0x0800 and body[9] == 1 and body[20] == 0 and body[12:16] == tip:
            got_echo = True
    if not got_arp:
        print("no tagged ARP reply", file=sys.stderr)
    if not got_echo:
        print("no tagged echo reply", file=sys.stderr)
    sys.exit(0 if got_arp and got_echo else 1)


if __name__ == "__main__":
    main()
