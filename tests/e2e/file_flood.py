# SPDX-License-Identifier: BSD-3-Clause
"""The flooder of file_flood.sh, run in the sender's namespace while real
transfers go on. Bounded in count and time; it only ever sends to sluice's
address on the test's veth.

  python3 file_flood.py SLUICE_IP IFACE BIG_SIZE READY_FILE OUT_JSON

It first watches the real senders' frames on IFACE (AF_PACKET): sluice's MAC,
the big file's session, file id and source port, and a few hundred
legitimate datagrams to replay. Then it sends each class of garbage, paced,
and writes how many of each it sent to OUT_JSON.
"""

import json
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_e2e as P  # noqa: E402

ETH_P_ALL = 3
PACKET_OUTGOING = 4
PORT = 7400
CAPTURE = 300  # legitimate frames of the big file's session kept for the replays
KEEP = 20000  # frames kept while watching (the big file's session is found late)
DEADLINE = 40.0  # seconds: the flooder gives up after this, whatever happens
PACE = 20  # datagrams between two pauses of 5 ms: about 4000 per second


def main():
    sluice_ip, iface, big_size, ready, out = sys.argv[1:6]
    big_size = int(big_size)
    start = time.monotonic()
    rnd = random.Random(11)

    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniff.bind((iface, 0))
    sniff.settimeout(0.2)
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((iface, 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    open(ready, "w").close()

    # ---- watch: who is who, and what to replay ----
    frames, per_session = [], {}
    peer = None  # (src mac, dst mac, src ip, src port, session, file id) of the big file
    sluice_ip_b = socket.inet_aton(sluice_ip)
    while time.monotonic() - start < DEADLINE / 2:
        try:
            f, addr = sniff.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] != PACKET_OUTGOING or len(f) < 42 or f[12:14] != b"\x08\x00":
            continue
        ihl = (f[14] & 15) * 4
        if f[23] != 17 or f[30:34] != sluice_ip_b:
            continue
        sport, dport = struct.unpack("!HH", f[14 + ihl:18 + ihl])
        msg = f[22 + ihl:]
        h = P.header(msg)
        if dport != PORT or h is None or h[0] == P.BYE:
            continue
        if len(frames) < KEEP:
            frames.append((h, f))
            per_session[h[3]] = per_session.get(h[3], 0) + 1
        if h[0] == P.DATA and peer is None:
            file_id, offset = struct.unpack(">IQ", msg[20:32])
            if offset >= 4 << 20:  # only the big file has such offsets
                peer = (f[6:12], f[0:6], socket.inet_ntoa(f[26:30]), sport, h[3], file_id)
        if peer is not None and per_session.get(peer[4], 0) >= CAPTURE:
            break
    if peer is None:
        sys.exit("no big-file DATA seen on %s" % iface)
    src_mac, dst_mac, src_ip, src_port, session, file_id = peer

    sent = {}

    def paced(name, items, send):
        n = 0
        for it in items:
            if time.monotonic() - start > DEADLINE:
                break
            send(it)
            n += 1
            if n % PACE == 0:
                time.sleep(0.005)
        sent[name] = sent.get(name, 0) + n

    def to_sluice(m):
        udp.sendto(m, (sluice_ip, PORT))

    def spoofed(m):
        raw.send(P.udp_frame(src_mac, dst_mac, src_ip, sluice_ip, src_port, PORT, m))

    def rand_session():
        return rnd.getrandbits(64) | 1

    # Classes that need the big file in progress come first.
    paced("past_end", [P.data(session, file_id, big_size + 1400 * i, bytes(100))
                       for i in range(300)], spoofed)
    paced("wrong_peer", [P.data(session, file_id, 0, bytes(200)) for _ in range(300)],
          to_sluice)
    paced("manifest_huge", [P.manifest(session, 0x70000000 + i, 1 << 50, 1 << 20, bytes(32),
                                       "flood/huge%d" % i) for i in range(200)], spoofed)
    paced("manifest_bad", [P.manifest(session, 0x71000000 + i, 1 << 20, 1 << 20, bytes(32),
                                      "flood/bad%d" % i, first=3) for i in range(200)],
          spoofed)
    # Replays and duplicates of the real senders' datagrams, each twice: the
    # big file's session (still running: the tree's may be over, and its
    # datagrams would only count as unknown sessions) and HELLOs.
    replay, replay_bytes = [], 0
    for h, f in frames:
        if (h[3] == session and len(replay) < CAPTURE) or h[0] == P.HELLO:
            replay.append(f)
            if h[0] == P.DATA:
                replay_bytes += 2 * (h[2] - 32)
    paced("replayed", [f for f in replay for _ in range(2)], raw.send)
    sent["replayed_data_bytes"] = replay_bytes
    # Garbage from anywhere.
    paced("truncated", [b"SL\x01\x08"[:n] + os.urandom(max(0, n - 4))
                        for n in (rnd.randint(1, 19) for _ in range(500))], to_sluice)
    paced("bad_udp_csum", [P.udp_frame(src_mac, dst_mac, src_ip, sluice_ip, 50000 + i % 1000,
                                       PORT, P.data(rand_session(), 1, 0, bytes(64)),
                                       bad_csum=True) for i in range(500)], raw.send)
    paced("bad_crc", [P.message(P.DATA, rand_session(), bytes(80), crc=rnd.getrandbits(32))
                      for _ in range(500)], to_sluice)
    paced("unknown_session", [P.data(rand_session(), 1, 0, bytes(100)) for _ in range(500)],
          to_sluice)
    paced("hello", [P.hello(os.urandom(8)) for _ in range(1000)], to_sluice)
    paced("connect", [P.connect(os.urandom(8), int(time.time()), os.urandom(16))
                      for _ in range(500)], to_sluice)
    sent["elapsed_s"] = round(time.monotonic() - start, 3)
    sent["session"] = "%016x" % session
    with open(out, "w") as fo:
        json.dump(sent, fo)


if __name__ == "__main__":
    main()
