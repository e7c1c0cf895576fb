#!/usr/bin/env python3
"""Count test frames arriving on an interface (run inside the test's
network namespace, as root): pc_qemu.py's txburst check.

    count_frames.py IFNAME ETHERTYPE EXPECTED

Prints "ready" once listening ("ready limited" when it could not enlarge
its receive buffer, i.e. without CAP_NET_ADMIN), then "frames N unique M" when EXPECTED
distinct sequence numbers arrived, 2 s passed without a frame, or 60 s
passed in all. Frames carry a 32-bit big-endian sequence number right
after the Ethernet header.
"""
import select
import socket
import struct
import sys
import time

ifname, ethertype, expected = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
try:
    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE: hold a burst
    state = "ready"
except PermissionError:
    # unprivileged (user namespace): rmem_max caps the buffer, so a burst
    # may overflow it; the caller then relies on the device's counters
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    state = "ready limited"
s.bind((ifname, ethertype))
print(state, flush=True)
n, seen = 0, set()
start = last = time.monotonic()
while len(seen) < expected and time.monotonic() - start < 60:
    if n and time.monotonic() - last > 2:
        break
    r, _, _ = select.select([s], [], [], 0.5)
    if not r:
        continue
    frame = s.recv(65536)
    if len(frame) >= 18:
        n += 1
        seen.add(struct.unpack("!I", frame[14:18])[0])
        last = time.monotonic()
print("frames %d unique %d" % (n, len(seen)), flush=True)
