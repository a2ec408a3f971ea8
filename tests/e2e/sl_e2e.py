# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the file-mode fault, flood and staging tests, in one Python
process per check (a Python start costs seconds on a loaded test machine).

- The wire format of docs/protocol.md, written from the document: encode any
  message with its CRC32C, decode the header and the bodies a test reads.
- A minimal client (handshake, MANIFEST, DATA, BYE) over a UDP socket.
- Raw frames for what a socket cannot send: any source port, a wrong UDP
  checksum.
- The checks on sluice's --stats-json that every test repeats.
"""

import json
import os
import socket
import struct
import time

HEADER = 20
HELLO, COOKIE, CONNECT, WELCOME, MANIFEST, DIGESTS, FILE_STATUS, DATA, ACK, BYE, REJECT = range(1, 12)
STATUS = ["ready", "ok", "exists", "bad_path", "no_space", "digest_mismatch", "io_error",
          "refused", "bad_manifest"]

# ---- CRC32C (Castagnoli, reflected, init and final XOR 0xFFFFFFFF) ----

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# ---- messages ----

def message(mtype, session, body, flags=0, crc=None):
    """A whole message: header with the right length and CRC32C (or @crc)."""
    n = HEADER + len(body)
    hdr = struct.pack(">2sBBHHQI", b"SL", 1, mtype, flags, n, session, 0)
    if crc is None:
        crc = crc32c(hdr + body)
    return hdr[:16] + struct.pack(">I", crc) + body


def hello(nonce, max_payload=1472):
    body = struct.pack(">8sHH", nonce, max_payload, 0)
    return message(HELLO, 0, body + bytes(256 - HEADER - len(body)))


def connect(nonce, issued, cookie, max_payload=1472):
    body = struct.pack(">8sQ16sHB", nonce, issued, cookie, max_payload, 0)
    return message(CONNECT, 0, body + bytes(256 - HEADER - len(body)))


def manifest(session, file_id, size, chunk_size, sha256, path, digests=(), mode=0o644,
             mtime_ns=0, first=0):
    p = path.encode()
    body = struct.pack(">IQIqI32sH", file_id, size, mode, mtime_ns, chunk_size, sha256, len(p))
    body += p + struct.pack(">IH", first, len(digests))
    body += b"".join(struct.pack(">I", d) for d in digests)
    return message(MANIFEST, session, body)


def data(session, file_id, offset, payload, flags=0):
    return message(DATA, session, struct.pack(">IQ", file_id, offset) + payload, flags)


def bye(session):
    return message(BYE, session, b"")


def header(msg):
    """(type, flags, length, session) of a message, or None if it is not one."""
    if len(msg) < HEADER or msg[:3] != b"SL\x01":
        return None
    _, _, mtype, flags, n, session, _ = struct.unpack(">2sBBHHQI", msg[:HEADER])
    return mtype, flags, n, session


# ---- a minimal client ----

class Client:
    """One session from a UDP socket: enough to open files and walk away."""

    def __init__(self, host, port=7400, timeout=2.0):
        self.addr = (host, port)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(timeout)
        self.session = 0

    def recv(self, want, file_id=None, deadline=3.0):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                m, _ = self.s.recvfrom(9000)
            except socket.timeout:
                return None
            h = header(m)
            if h is None or h[0] != want:
                continue
            if file_id is not None and struct.unpack(">I", m[20:24])[0] != file_id:
                continue
            return m
        return None

    def open(self, tries=5):
        for _ in range(tries):
            nonce = os.urandom(8)
            self.s.sendto(hello(nonce), self.addr)
            m = self.recv(COOKIE)
            if m is None:
                continue
            issued, cookie = struct.unpack(">Q16s", m[28:52])
            self.s.sendto(connect(nonce, issued, cookie), self.addr)
            m = self.recv(WELCOME)
            if m is not None:
                self.session = header(m)[3]
                return self.session
        raise RuntimeError("no session with %s:%d" % self.addr)

    def manifest(self, file_id, content, path, chunk_size=1 << 20, ndigests=None):
        """MANIFEST of @content with the digests of its first @ndigests chunks
        (all by default); returns the status name of the FILE_STATUS."""
        import hashlib
        n = (len(content) + chunk_size - 1) // chunk_size if ndigests is None else ndigests
        crcs = [crc32c(content[i * chunk_size:(i + 1) * chunk_size]) for i in range(n)]
        m = manifest(self.session, file_id, len(content), chunk_size,
                     hashlib.sha256(content).digest(), path, crcs)
        for _ in range(5):
            self.s.sendto(m, self.addr)
            r = self.recv(FILE_STATUS, file_id)
            if r is not None:
                return STATUS[r[24]] if r[24] < len(STATUS) else str(r[24])
        return None

    def send_range(self, file_id, content, start, end, chunk_size, piece=1400):
        """DATA for bytes [start, end) in pieces that never cross a chunk."""
        off, i = start, 0
        while off < end:
            n = min(piece, end - off, chunk_size - off % chunk_size)
            self.s.sendto(data(self.session, file_id, off, content[off:off + n]), self.addr)
            off += n
            i += 1
            if i % 32 == 0:
                time.sleep(0.002)  # paced: a veth's receiving ring is small

    def wait_durable(self, file_id, upto, content, chunk_size, deadline=10.0):
        """Until an ACK shows chunks below @upto durable, sending them again now and then."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            m = self.recv(ACK, deadline=0.5)
            if m is None:
                self.send_range(file_id, content, 0, upto * chunk_size, chunk_size)
                continue
            count, off = struct.unpack(">H", m[28:30])[0], 30
            for _ in range(count):
                fid, _, durable, nmiss = struct.unpack(">IIIH", m[off:off + 14])
                off += 14 + 12 * nmiss
                if fid == file_id and durable >= upto:
                    return True
        return False

    def bye(self):
        self.s.sendto(bye(self.session), self.addr)
        return self.recv(BYE) is not None


# ---- raw frames (AF_PACKET) ----

def ip_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, payload, bad_csum=False):
    """An Ethernet/IPv4/UDP frame; with @bad_csum its UDP checksum is wrong (never 0)."""
    sip, dip = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    ulen = 8 + len(payload)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = ip_checksum(sip + dip + struct.pack("!BBH", 0, 17, ulen) + udp) or 0xFFFF
    if bad_csum:
        c = c ^ 0x5A5A or 0x1234
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0, sip, dip)
    iph = iph[:10] + struct.pack("!H", ip_checksum(iph)) + iph[12:]
    return dst_mac + src_mac + b"\x08\x00" + iph + udp


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


# ---- sluice's statistics ----

def load(path):
    with open(path) as f:
        return json.load(f)


def check_balanced(j):
    """As lib.sh's check_balanced, in this process."""
    t = j["total"]
    assert j["balanced"] is True, "counters do not balance"
    assert t["unaccounted"] == 0, "unaccounted packets: %d" % t["unaccounted"]
    drops = sum(t["drops"].values())
    assert t["received"] == t["written"] + t["served"] + t["filtered"] + drops, \
        "received %d != written + served + filtered + drops" % t["received"]


def verdicts(j, name):
    return sum(r["verdicts"][name] for r in j["rx_lcores"])


def rss_kib(pid):
    """VmRSS of a process in KiB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main(argv):
    """python3 sl_e2e.py check STATS.json [EXPR...]: the counters balance and
    every Python expression on j (the JSON) holds; exit 1 naming the first
    that does not."""
    import sys
    if len(argv) < 3 or argv[1] != "check":
        print(main.__doc__, file=sys.stderr)
        return 2
    j = load(argv[2])
    try:
        check_balanced(j)
        for expr in argv[3:]:
            assert eval(expr, {"j": j, "verdicts": verdicts}), "does not hold: " + expr
    except AssertionError as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv))
