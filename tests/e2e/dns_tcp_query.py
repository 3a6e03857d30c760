#!/usr/bin/env python3
"""Ask SERVER:53 over TCP (RFC 7766 framing) for the A records of NAME; print them, one a
line. A stand-in for `dig +tcp`, which this machine does not have. Exit 1 on an error rcode
or a truncated answer."""
import socket
import struct
import sys

server, name = sys.argv[1], sys.argv[2]
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
for label in name.rstrip(".").split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\x00" + struct.pack(">HH", 1, 1)
with socket.create_connection((server, 53), timeout=3) as s:
    s.sendall(struct.pack(">H", len(q)) + q)
    buf = b""
    while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("connection closed before the answer")
        buf += chunk
msg = buf[2:2 + struct.unpack(">H", buf[:2])[0]]
ident, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
if ident != 0x4242 or flags & 0x000F or flags & 0x0200:
    sys.exit("bad answer: id %#x flags %#x" % (ident, flags))


def skip_name(m, off):
    while True:
        n = m[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


off = 12
for _ in range(qd):
    off = skip_name(msg, off) + 4
for _ in range(an):
    off = skip_name(msg, off)
    rtype, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
    off += 10
    if rtype == 1 and rdlen == 4:
        print(socket.inet_ntoa(msg[off:off + 4]))
    off += rdlen
