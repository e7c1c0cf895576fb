#!/usr/bin/env python3
"""Real-client checks for the SDK apps (httpd.wasm, echo.wasm), driven by
tests/integration/sdk_*.sh. Every socket has a timeout and every loop a
bound; addresses come from the test (loopback or its own namespace).

    sdk_peer.py http-client HOST PORT     python's http.client against httpd
    sdk_peer.py echo-many HOST PORT N SIZE  N concurrent echo connections
    sdk_peer.py hostile CASE HOST PORT [ARGS]  misbehaving clients
    sdk_peer.py status HOST PORT KEY...   print values from httpd's /status
"""
import asyncio
import hashlib
import http.client
import io
import json
import os
import socket
import sys
import time

PERIOD = bytes(range(251))


def pattern(n):
    return (PERIOD * (n // 251 + 1))[:n]


def die(msg):
    print("FAIL: " + msg)
    sys.exit(1)


# --- http.client ---------------------------------------------------------

def http_client(host, port):
    port = int(port)
    c = http.client.HTTPConnection(host, port, timeout=20)
    c.request("GET", "/")
    r = c.getresponse()
    body = r.read()
    if r.status != 200 or b"Hello from NeoBoot" not in body:
        die("GET / -> %d %r" % (r.status, body[:60]))
    sock = c.sock
    # keep-alive: the same socket carries the next requests
    c.request("HEAD", "/")
    r = c.getresponse()
    if r.status != 200 or r.read() != b"" or int(r.getheader("Content-Length")) != len(body):
        die("HEAD / on a kept-alive connection")
    for i in range(5):
        c.request("GET", "/bytes/%d" % (1000 * i + 1))
        r = c.getresponse()
        if r.read() != pattern(1000 * i + 1):
            die("GET /bytes/%d: wrong body" % (1000 * i + 1))
    if c.sock is not sock:
        die("http.client opened a new connection: keep-alive broken")
    # POST with a body, echoed
    data = os.urandom(200000)
    c.request("POST", "/echo", body=data)
    r = c.getresponse()
    if r.status != 200 or r.read() != data:
        die("POST /echo")
    # chunked upload from an iterable, hashed by the sink
    chunks = [os.urandom(n) for n in (1, 1000, 65536, 7, 300000)]
    c.request("PUT", "/sink", body=iter(chunks), encode_chunked=True,
              headers={"Transfer-Encoding": "chunked"})
    r = c.getresponse()
    whole = b"".join(chunks)
    want = "%d %s" % (len(whole), hashlib.sha256(whole).hexdigest())
    got = r.read().decode().strip()
    if got != want:
        die("chunked PUT /sink: %r, want %r" % (got, want))
    # a chunked response
    c.request("GET", "/chunked/1000000")
    r = c.getresponse()
    if r.getheader("Transfer-Encoding") != "chunked" or r.read() != pattern(1000000):
        die("GET /chunked/1000000")
    # 404 and 405 keep the connection
    c.request("GET", "/nope")
    r = c.getresponse()
    r.read()
    if r.status != 404:
        die("GET /nope -> %d" % r.status)
    c.request("DELETE", "/")
    r = c.getresponse()
    r.read()
    if r.status != 405:
        die("DELETE / -> %d" % r.status)
    c.request("GET", "/status")
    r = c.getresponse()
    st = json.loads(r.read())
    if c.sock is not sock:
        die("a new connection after 404/405")
    if st["server"]["requests"] < 12 or "runtime" not in st or "packets" not in st["runtime"]:
        die("status JSON: %r" % st)
    c.close()
    # pipelining: four requests in one write, answered in order
    s = socket.create_connection((host, port), timeout=20)
    s.sendall(b"GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
              b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
              b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    raw = read_all(s)
    s.close()

    class Stream(io.BytesIO):
        def close(self):   # each response "closes" it when read; the next follows
            pass

    class Replay:
        def __init__(self, data):
            self.f = Stream(data)

        def makefile(self, *a, **k):
            return self.f
    rs = Replay(raw)
    got = []
    for _ in range(4):
        r = http.client.HTTPResponse(rs)
        r.begin()
        got.append((r.status, r.read()))
    if [g[0] for g in got] != [200, 404, 200, 200] or got[0][1] != pattern(5) or got[2][1] != b"abc":
        die("pipelined responses: %r" % [(st, b[:20]) for st, b in got])
    print("python http.client: GET, HEAD, 5 downloads, POST echo, chunked PUT, "
          "chunked GET, 404, 405, /status on one kept-alive connection; 4 pipelined requests answered in order")


# --- many echo connections --------------------------------------------------

async def echo_one(host, port, size, sem_open, results):
    data = os.urandom(size)
    # At most HANDSHAKES connects in flight: a burst of SYNs beyond the
    # server's half-open queue (lwIP: 128 per listener) gets handshakes
    # evicted and reset, as a real client pool would avoid. All N
    # connections are still open at the same time below.
    async with results["handshakes"]:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
    sem_open.append(1)
    # wait until every connection is open: they are concurrent for real
    while len(sem_open) < results["n"]:
        await asyncio.sleep(0.05)
        if time.monotonic() > results["deadline"]:
            raise TimeoutError("only %d of %d connections opened in 60 s" % (len(sem_open), results["n"]))
    w.write(data)
    await w.drain()
    got = await asyncio.wait_for(r.readexactly(size), 60)
    w.write_eof()
    rest = await asyncio.wait_for(r.read(), 30)
    w.close()
    if got != data or rest:
        raise ValueError("echo differs")
    results["ok"] += 1


async def echo_many_main(host, port, n, size):
    opened = []
    results = {"ok": 0, "n": n, "deadline": time.monotonic() + 60,
               "handshakes": asyncio.Semaphore(100)}
    t0 = time.monotonic()
    tasks = [echo_one(host, port, size, opened, results) for _ in range(n)]
    out = await asyncio.gather(*tasks, return_exceptions=True)
    errs = [e for e in out if isinstance(e, BaseException)]
    dt = time.monotonic() - t0
    if errs:
        die("%d of %d connections failed, first: %r" % (len(errs), n, errs[0]))
    print("%d concurrent connections open at once, %d bytes each echoed and verified in %.2f s"
          % (results["ok"], size, dt))


def echo_many(host, port, n, size):
    asyncio.run(echo_many_main(host, int(port), int(n), int(size)))


# --- hostile clients -------------------------------------------------------

def connect(host, port, timeout=10):
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_all(s, limit=1 << 20):
    out = b""
    try:
        while len(out) < limit:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (ConnectionResetError, socket.timeout):
        pass
    return out


def status_of(resp):
    if not resp.startswith(b"HTTP/1.1 "):
        return None
    return int(resp[9:12])


def legit(host, port, path="/"):
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        die("legit GET %s -> %d" % (path, r.status))
    return body


def hostile(case, host, port, *args):
    if case == "big-header":
        s = connect(host, port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 16384 + b"\r\n\r\n")
        resp = read_all(s)
        if status_of(resp) != 431 or b"Connection: close" not in resp:
            die("oversized header: %r" % resp[:80])
        # too many headers is the same limit
        s = connect(host, port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(100)) + b"\r\n")
        resp = read_all(s)
        if status_of(resp) != 431:
            die("100 headers: %r" % resp[:80])
        print("oversized header (16 KiB) and 100 headers: 431 and closed")
    elif case == "big-body":
        s = connect(host, port)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 65536)
        resp = read_all(s)
        if status_of(resp) != 413:
            die("oversized body: %r" % resp[:80])
        s = connect(host, port)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(64):   # 4 MiB of chunks, past the 1 MiB limit
                s.sendall(b"10000\r\n" + b"y" * 65536 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = read_all(s)
        if status_of(resp) != 413:
            die("oversized chunked body: %r" % resp[:80])
        print("oversized body (Content-Length 100 MB, and 4 MiB chunked): 413 and closed")
    elif case == "slowloris":
        timeout = float(args[0])
        s = connect(host, port, timeout=timeout + 10)
        t0 = time.monotonic()
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        closed_at = None
        served = 0
        deadline = t0 + timeout + 8
        while time.monotonic() < deadline:
            try:
                s.sendall(b"X")       # a byte of a header that never ends
            except (BrokenPipeError, ConnectionResetError):
                closed_at = time.monotonic()
                break
            s.settimeout(0.3)
            try:
                b = s.recv(4096)
                if not b or status_of(b) == 408:
                    closed_at = time.monotonic()
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed_at = time.monotonic()
                break
            legit(host, port)         # others are served meanwhile
            served += 1
        if closed_at is None:
            die("slowloris connection still open after %.1f s" % (time.monotonic() - t0))
        dt = closed_at - t0
        if dt < timeout - 0.5:
            die("slowloris closed too early (%.1f s, timeout %.1f s)" % (dt, timeout))
        print("slowloris: closed after %.1f s (header timeout %.1f s); %d legit requests served meanwhile"
              % (dt, timeout, served))
    elif case == "truncated":
        for req in (b"GET / HTTP/1.1\r\nHost: x\r\nAcc",
                    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789",
                    b"PUT /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"):
            s = connect(host, port)
            s.sendall(req)
            s.shutdown(socket.SHUT_WR)
            resp = read_all(s)
            if resp:
                die("truncated request got an answer: %r" % resp[:80])
            s.close()
        print("truncated requests (head, Content-Length body, chunked body): closed without an answer")
    elif case == "garbage":
        import random
        rnd = random.Random(5)
        answers = {}
        for i in range(20):
            s = connect(host, port)
            junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 3000)))
            if i == 0:
                junk = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + junk  # a TLS hello
            if i == 1:
                junk = b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n"
            if i == 2:
                junk = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
            if i == 3:
                junk = b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"
            try:
                s.sendall(junk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            resp = read_all(s)
            st = status_of(resp)
            if resp and st not in (400, 431, 501, 505):
                die("garbage %d got %r" % (i, resp[:80]))
            answers[st] = answers.get(st, 0) + 1
            s.close()
        print("garbage (20 kinds incl. TLS hello, smuggling, HTTP/2.0): answers %s"
              % ", ".join("%s x%d" % ("closed" if k is None else k, v) for k, v in sorted(answers.items(), key=str)))
    elif case == "flood":
        n = int(args[0])
        keep = http.client.HTTPConnection(host, int(port), timeout=10)
        keep.request("GET", "/")
        keep.getresponse().read()
        socks = []
        refused = 0
        for i in range(n):
            try:
                s = socket.create_connection((host, int(port)), timeout=5)
                socks.append(s)
            except OSError:
                refused += 1
        time.sleep(0.5)
        # the connection we had keeps being served during the flood
        for i in range(5):
            keep.request("GET", "/bytes/100")
            r = keep.getresponse()
            if r.status != 200 or r.read() != pattern(100):
                die("kept connection not served during the flood")
        rejected = 0
        for s in socks:
            s.settimeout(0.01)
            try:
                b = s.recv(200)
                if status_of(b) == 503:
                    rejected += 1
            except (socket.timeout, ConnectionResetError):
                pass
        for s in socks:
            s.close()
        keep.close()
        print("flood: %d connections at once (%d not opened); %d answered 503; a kept connection "
              "was served throughout" % (n, refused, rejected))
    else:
        die("unknown case " + case)


def status(host, port, *keys):
    st = json.loads(legit(host, port, "/status"))
    vals = []
    for k in keys:
        v = st
        for part in k.split("."):
            v = v[int(part)] if isinstance(v, list) else v[part]
        vals.append(str(v))
    print(" ".join(vals))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"http-client": http_client, "echo-many": echo_many, "hostile": hostile,
     "status": status}[cmd](*args)
