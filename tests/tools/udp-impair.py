#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A UDP relay that loses, duplicates, reorders and corrupts datagrams.

Used by the file-mode tests where the kernel has no netem qdisc. Each client
(address, port) gets its own upstream socket, so several senders keep
separate sessions. Corrupted datagrams get a valid UDP checksum from the
relay's kernel: only the protocol's own CRC32C can catch them, which is the
harder case for the receiver.

    udp-impair.py --listen 127.0.0.1:7401 --to 10.0.0.1:7400 --loss 0.03 ...

Runs until killed, or --max-seconds. Prints its counts to stderr at exit.
"""
import argparse
import random
import select
import signal
import socket
import sys
import time


def addr(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=addr, required=True)
    ap.add_argument("--to", type=addr, required=True)
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--dup", type=float, default=0.0)
    ap.add_argument("--corrupt", type=float, default=0.0)
    ap.add_argument("--reorder", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=600)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    counts = {"in": 0, "lost": 0, "dup": 0, "corrupt": 0, "reordered": 0}

    lsock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lsock.bind(a.listen)
    up = {}  # client address -> upstream socket
    down = {}  # upstream socket fileno -> (socket, client address)
    held = {}  # direction key -> (datagram, send function)

    def impair(key, data, send):
        counts["in"] += 1
        if rng.random() < a.loss:
            counts["lost"] += 1
            return
        if rng.random() < a.corrupt:
            b = bytearray(data)
            bit = rng.randrange(len(b) * 8)
            b[bit // 8] ^= 1 << (bit % 8)
            data = bytes(b)
            counts["corrupt"] += 1
        copies = 2 if rng.random() < a.dup else 1
        counts["dup"] += copies - 1
        if key not in held and rng.random() < a.reorder:
            # Hold it until the next datagram in this direction has gone.
            held[key] = (data, send, copies)
            counts["reordered"] += 1
            return
        for _ in range(copies):
            send(data)
        if key in held:
            hd, hs, hc = held.pop(key)
            for _ in range(hc):
                hs(hd)

    def flush_held():
        for key in list(held):
            hd, hs, hc = held.pop(key)
            for _ in range(hc):
                hs(hd)

    def stop(*_):
        print(f"udp-impair: {counts}", file=sys.stderr)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    end = time.monotonic() + a.max_seconds
    while time.monotonic() < end:
        socks = [lsock] + [s for s, _ in down.values()]
        r, _, _ = select.select(socks, [], [], 0.002)
        if not r:
            flush_held()
            continue
        for s in r:
            if s is lsock:
                data, client = lsock.recvfrom(65535)
                u = up.get(client)
                if u is None:
                    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    u.connect(a.to)
                    up[client] = u
                    down[u.fileno()] = (u, client)
                impair(("up", client), data, lambda d, u=u: u.send(d))
            else:
                u, client = down[s.fileno()]
                try:
                    data = u.recv(65535)
                except OSError:
                    continue
                impair(("down", client), data,
                       lambda d, c=client: lsock.sendto(d, c))
    stop()


if __name__ == "__main__":
    main()
