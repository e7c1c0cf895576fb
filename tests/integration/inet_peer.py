#!/usr/bin/env python3
"""Linux-side peers for the inet integration tests: clients and servers
written against Python's socket module (so the Linux kernel's TCP/IP is the
peer), a SYN flooder, and a seeded lossy frame relay between two TAPs.

Every command bounds its own running time and exits non-zero on failure
with a one-line reason on stderr.

  echo-clients HOST PORT N SIZE       N concurrent connections, SIZE random
                                      bytes each, half-close, check the echo
  half-close HOST PORT SIZE           send, shut down writing, pause, then
                                      read the whole echo
  reset-server HOST PORT AFTER        accept one connection, read AFTER
                                      bytes, reset it (SO_LINGER 0)
  udp-echo-server HOST PORT           echo datagrams (until killed)
  udp-client HOST PORT SIZE...        one datagram per SIZE, check echoes
  udp-blast HOST PORT N SIZE          N datagrams of SIZE bytes, no waiting
  dns-blackhole HOST                  a DNS server that never answers
  pattern N                           NeoBoot's test pattern, N bytes
  syn-flood TAP MAC IP PORT SECONDS [RATE]
                                      TCP SYNs from random sources
  relay TAPA TAPB SEED DROP REORDER DUP SECONDS
                                      frames both ways between a TAP fd and
                                      an AF_PACKET socket, lossy
  tap-mac TAP                         a TAP device's MAC (from sysfs)
  strip-http SRC DST                  the body of the HTTP response in SRC
"""
import asyncio
import fcntl
import os
import random
import select
import socket
import struct
import sys
import time


def die(msg):
    sys.stderr.write("inet_peer: " + msg + "\n")
    sys.exit(1)


def pattern(n):
    block = bytes(((i * 2654435761) >> 13) & 0xFF for i in range(65536))
    full, rest = divmod(n, 65536)
    return block * full + block[:rest]


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


# --- TCP ---

async def one_echo(host, port, size, idx):
    data = os.urandom(size)
    reader, writer = await asyncio.open_connection(host, port)
    async def send():
        writer.write(data)
        await writer.drain()
        writer.write_eof()
    sender = asyncio.ensure_future(send())
    got = bytearray()
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            break
        got += chunk
    await sender
    writer.close()
    if bytes(got) != data:
        raise RuntimeError("connection %d: echo differs (%d of %d bytes)" % (idx, len(got), size))


async def echo_clients(host, port, n, size):
    tasks = [one_echo(host, port, size, i) for i in range(n)]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)


def cmd_echo_clients(host, port, n, size):
    t = time.time()
    asyncio.run(echo_clients(host, int(port), int(n), int(size)))
    print("%s connections x %s bytes echoed in %.2f s" % (n, size, time.time() - t))


def cmd_half_close(host, port, size):
    import threading
    size = int(size)
    data = os.urandom(size)
    s = socket.create_connection((host, int(port)), timeout=30)
    got = bytearray()
    fin_at = [0.0]

    def reader():
        while True:
            c = s.recv(65536)
            if not c:
                break
            got.extend(c)
    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    fin_at[0] = len(got)
    t.join(60)
    s.close()
    if bytes(got) != data:
        die("half-close: echo differs (%d of %d bytes)" % (len(got), size))
    print("half-close: all %d bytes came back, %d of them after our FIN" % (size, size - fin_at[0]))


def cmd_reset_server(host, port, after):
    after = int(after)
    ls = socket.socket(family_of(host), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(1)
    ls.settimeout(60)
    c, _ = ls.accept()
    c.settimeout(30)
    got = 0
    while got < after:
        d = c.recv(65536)
        if not d:
            die("reset-server: peer closed after %d bytes" % got)
        got += len(d)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    print("reset after %d bytes" % got)


# --- UDP ---

def cmd_udp_echo_server(host, port):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((host, int(port)))
    end = time.time() + 300
    while time.time() < end:
        r, _, _ = select.select([s], [], [], 1)
        if r:
            d, a = s.recvfrom(65535)
            s.sendto(d, a)


def cmd_udp_client(host, port, *sizes):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((host, int(port)))
    for size in map(int, sizes):
        data = os.urandom(size)
        for attempt in range(3):
            s.send(data)
            try:
                got = s.recv(65535)
            except socket.timeout:
                continue
            if got != data:
                die("udp: %d-byte datagram came back as %d bytes / different" % (size, len(got)))
            print("udp: %d-byte datagram echoed" % size)
            break
        else:
            die("udp: no echo for a %d-byte datagram" % size)


def cmd_udp_blast(host, port, n, size):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    data = os.urandom(int(size))
    for _ in range(int(n)):
        s.sendto(data, (host, int(port)))
    print("sent %s datagrams of %s bytes" % (n, size))


def cmd_dns_blackhole(host):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.bind((host, 53))
    end = time.time() + 300
    n = 0
    while time.time() < end:
        r, _, _ = select.select([s], [], [], 1)
        if r:
            s.recvfrom(4096)
            n += 1
            sys.stdout.write("query %d ignored\n" % n)
            sys.stdout.flush()


def cmd_pattern(n):
    n = int(n)
    out = sys.stdout.buffer
    block = pattern(65536)
    while n > 0:
        k = min(n, 65536)
        out.write(block[:k])
        n -= k


# --- raw frames ---

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def syn_frame(dst_mac, src_mac, src_ip, dst_ip, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), seq & 0xFFFF, 0, 64, 6, 0,
                     src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + tcp


def cmd_syn_flood(tap, mac, ip, port, seconds, rate="0"):
    """SYNs for SECONDS from random, unreachable sources (off-link, so
    NeoBoot's SYN-ACKs go to its gateway and are never answered): pure
    half-open load, RATE per second (0: as fast as the TAP takes them)."""
    rate = float(rate)
    dst_mac = bytes.fromhex(mac.replace(":", ""))
    src_mac = bytes.fromhex("02feedbeef01")
    dst_ip = socket.inet_aton(ip)
    rnd = random.Random(7)
    frames = []
    for i in range(4096):
        src = bytes([10, 99, rnd.randrange(256), rnd.randrange(1, 255)])
        frames.append(syn_frame(dst_mac, src_mac, src, dst_ip, rnd.randrange(1024, 65535),
                                int(port), rnd.getrandbits(32)))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((tap, 0))
    import signal
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    t = time.time()
    end = t + float(seconds)
    sent = 0
    while time.time() < end and not stop:
        for i, f in enumerate(frames):
            if stop:
                break
            try:
                s.send(f)
                sent += 1
            except OSError:
                time.sleep(0.0005)
            if rate and i % 64 == 63:
                ahead = sent / rate - (time.time() - t)
                if ahead > 0:
                    time.sleep(ahead)
    dt = time.time() - t
    print("flood: %d SYNs offered in %.1f s (%.0f/s; the TAP queue drops what "
          "NeoBoot cannot take)" % (sent, dt, sent / dt))


TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def cmd_relay(tap_a, tap_b, seed, drop, reorder, dup, seconds):
    """Frames between NeoBoot and Linux through a faulty wire.

    NeoBoot owns TAP A's fd; its Linux side (no address, ARP off) is read
    and written with an AF_PACKET socket. We own TAP B's fd; Linux's side of
    TAP B has the peer's address. So every frame of the conversation passes
    here once, and each direction independently loses DROP, duplicates DUP
    and holds back REORDER of its frames (a held frame goes out after the
    next one, or after 2 ms)."""
    rnd = random.Random(int(seed))
    drop, reorder, dup = float(drop), float(reorder), float(dup)
    pa = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    pa.bind((tap_a, 0))
    pa.setblocking(False)
    fb = open_tap(tap_b)
    stats = {"frames": 0, "dropped": 0, "reordered": 0, "duplicated": 0}
    held = {"ab": None, "ba": None}
    held_at = {"ab": 0.0, "ba": 0.0}

    def out(direction, frame):
        if direction == "ab":
            try:
                os.write(fb, frame)
            except OSError:
                pass
        else:
            try:
                pa.send(frame)
            except OSError:
                pass

    def forward(direction, frame):
        stats["frames"] += 1
        if rnd.random() < drop:
            stats["dropped"] += 1
            return
        copies = 2 if rnd.random() < dup else 1
        stats["duplicated"] += copies - 1
        for _ in range(copies):
            if held[direction] is None and rnd.random() < reorder:
                held[direction] = frame
                held_at[direction] = time.time()
                stats["reordered"] += 1
                continue
            out(direction, frame)
            if held[direction] is not None:
                out(direction, held[direction])
                held[direction] = None

    end = time.time() + float(seconds)
    import signal
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    sys.stdout.write("relay ready\n")
    sys.stdout.flush()
    while time.time() < end and not stop:
        r, _, _ = select.select([pa, fb], [], [], 0.002)
        if pa in r:
            for _ in range(64):
                try:
                    f, addr = pa.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    continue  # our own transmissions towards NeoBoot
                forward("ab", f)
        if fb in r:
            for _ in range(64):
                try:
                    f = os.read(fb, 65536)
                except BlockingIOError:
                    break
                forward("ba", f)
        now = time.time()
        for d in ("ab", "ba"):
            if held[d] is not None and now - held_at[d] > 0.002:
                out(d, held[d])
                held[d] = None
    print("relay: %(frames)d frames, %(dropped)d dropped, %(reordered)d reordered, "
          "%(duplicated)d duplicated" % stats)


def cmd_strip_http(src, dst):
    """Copy an HTTP response's body (after the blank line) from SRC to DST."""
    import shutil
    with open(src, "rb") as f, open(dst, "wb") as o:
        head = b""
        while b"\r\n\r\n" not in head:
            c = f.read(1)
            if not c:
                die("strip-http: no end of header")
            head += c
        if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0]:
            die("strip-http: not a 200 response: %r" % head[:60])
        shutil.copyfileobj(f, o, 1 << 20)


def cmd_tap_mac(tap):
    print(open("/sys/class/net/%s/address" % tap).read().strip())


COMMANDS = {
    "echo-clients": cmd_echo_clients,
    "half-close": cmd_half_close,
    "reset-server": cmd_reset_server,
    "udp-echo-server": cmd_udp_echo_server,
    "udp-client": cmd_udp_client,
    "udp-blast": cmd_udp_blast,
    "dns-blackhole": cmd_dns_blackhole,
    "pattern": cmd_pattern,
    "syn-flood": cmd_syn_flood,
    "relay": cmd_relay,
    "tap-mac": cmd_tap_mac,
    "strip-http": cmd_strip_http,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except Exception as e:  # one line, for the test log
        die("%s: %s" % (sys.argv[1], e))
