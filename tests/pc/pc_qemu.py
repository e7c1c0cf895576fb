#!/usr/bin/env python3
"""Integration tests for the pc image under QEMU.

    pc_qemu.py --image neoboot.elf boot --machine pc|q35|microvm[,opts]
    pc_qemu.py --image neoboot.elf ping --machine pc|q35|microvm
    pc_qemu.py --image neoboot.elf fault
    pc_qemu.py --image neoboot.elf idle
    pc_qemu.py --image neoboot.elf minmem [--app]
    pc_qemu.py --image neoboot.elf --neoboot BIN --apps DIR app --machine M
    pc_qemu.py --image neoboot.elf --neoboot BIN --apps DIR fetch [--tap]
    pc_qemu.py --image neoboot.elf --neoboot BIN --apps DIR corrupt
    pc_qemu.py --image neoboot.elf --neoboot BIN --apps DIR idle --app
    pc_qemu.py --image neoboot.elf --neoboot BIN --apps DIR qemu-cmd
    pc_qemu.py --image neoboot.elf --neoboot BIN --apps DIR iso --firmware bios|uefi

The app tests build images with `neoboot image build` (BIN is the hosted
neoboot) around the SDK's apps in DIR (httpd.wasm, fetch.wasm).

QEMU runs with TCG (this machine's /dev/kvm cannot run guests). Set
NB_QEMU_ACCEL=kvm to try KVM first; a KVM start that fails falls back to TCG.
The serial console is QEMU's stdio; a reader thread collects its lines.
Every wait has a timeout, and QEMU, TAP devices and network namespaces are
removed on every exit path. Exit status: 0 pass, 1 fail, 77 skipped.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SKIP = 77
GUEST_IP = "10.0.2.15"
HOST_IP = "10.0.2.2"


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def log(msg):
    print(msg, flush=True)


class Qemu:
    """One QEMU process with the serial console on stdio."""

    def __init__(self, image, machine, mem="128M", append="", net=None,
                 prefix=(), accel=None, monitor=None, initrd=None, cpu=None,
                 cdrom=False, bios=None):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = None
        self.start_time = None
        self.image = image
        self.machine = machine
        self.mem = mem
        self.append = append
        self.net = net or []
        self.prefix = list(prefix)
        self.accel = accel
        self.monitor = monitor  # a UNIX socket path for the human monitor
        self.initrd = initrd
        self.cpu = cpu
        self.cdrom = cdrom  # image is a disk (neoboot image iso), booted by firmware
        self.bios = bios    # firmware file (OVMF) instead of SeaBIOS

    extra = []

    def cmd(self, accel):
        c = self.prefix + [
            "qemu-system-x86_64", "-accel", accel, "-M", self.machine,
            "-m", self.mem, "-nodefaults", "-display", "none",
            "-monitor", ("unix:%s,server=on,wait=off" % self.monitor
                         if self.monitor else "none"),
            "-serial", "stdio", "-no-reboot",
            "-cdrom" if self.cdrom else "-kernel", self.image,
        ]
        if self.bios:
            c += ["-bios", self.bios]
        if self.cpu:
            c += ["-cpu", self.cpu]
        if self.initrd:
            c += ["-initrd", self.initrd]
        if self.append:
            c += ["-append", self.append]
        return c + self.net + Qemu.extra

    def start(self):
        accels = ["tcg"]
        want = os.environ.get("NB_QEMU_ACCEL", "tcg")
        if want in ("kvm", "auto") and os.access("/dev/kvm", os.R_OK | os.W_OK):
            accels = ["kvm", "tcg"]
        for accel in accels:
            self._spawn(accel)
            if accel == "tcg":
                return
            # KVM may start and then die (a software /dev/kvm): give it a
            # few seconds to print the banner, else fall back to TCG.
            if self.wait_for(r"NeoBoot pc", 10, fatal=False):
                return
            log("KVM start failed; falling back to TCG")
            self.stop()
            self.lines = []

    def _spawn(self, accel):
        self.accel = accel
        cmd = self.cmd(accel)
        log("$ " + " ".join(cmd))
        self.start_time = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        t = threading.Thread(target=self._reader, daemon=True)
        t.start()

    def _reader(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self.cond:
                self.lines.append((time.monotonic(), line))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pattern, timeout, start=0, fatal=True):
        """First line matching pattern (from line index start): (index,
        match, seconds since QEMU start)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    t, line = self.lines[i]
                    m = rx.search(line)
                    if m:
                        return i, m, t - self.start_time
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and i >= len(self.lines)):
                    break
                self.cond.wait(min(left, 0.5))
        if fatal:
            self.dump()
            state = "exited %s" % self.proc.returncode if self.proc.poll() is not None else "running"
            raise Fail("no line matching %r within %ss (QEMU %s)" % (pattern, timeout, state))
        return None

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def hmp(self, command):
        """Run one human-monitor command (needs monitor=PATH)."""
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(self.monitor)
            s.sendall((command + "\n").encode())
            time.sleep(0.5)
        finally:
            s.close()

    def hmp_output(self, command, settle=0.5):
        """Run one human-monitor command and return what it printed."""
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(settle)
        out = b""
        try:
            s.connect(self.monitor)
            s.sendall((command + "\n").encode())
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    d = s.recv(1 << 16)
                except socket.timeout:
                    if command.encode() in out:
                        break
                    continue
                if not d:
                    break
                out += d
        finally:
            s.close()
        text = out.decode("utf-8", "replace")
        return text.split(command, 1)[-1]

    def dump(self, last=40):
        with self.cond:
            tail = self.lines[-last:]
        log("---- serial console (last %d lines) ----" % len(tail))
        for _, line in tail:
            log("| " + line)
        log("----")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)


NIC_OPTS = ""
NIC_MODEL = None  # --nic: a QEMU NIC model instead of virtio-net (e.g. e1000)


def nic_device(machine):
    if NIC_MODEL:
        return NIC_MODEL
    return "virtio-net-device" if machine.startswith("microvm") else "virtio-net-pci"


def user_net(machine, fwd=None, restrict=True):
    """A NIC on slirp. restrict=on: it can reach nothing outside (port
    forwards from the host still work)."""
    dev = nic_device(machine)
    nd = "user,id=n0,restrict=%s" % ("on" if restrict else "off")
    if fwd:
        nd += ",hostfwd=tcp:127.0.0.1:%d-:%d" % fwd
    return ["-netdev", nd, "-device", dev + ",netdev=n0" + NIC_OPTS]


def check_qemu():
    if not shutil.which("qemu-system-x86_64"):
        raise Skip("qemu-system-x86_64 not installed (scripts/setup.sh installs it)")


# ---------------------------------------------------------------- boot


def cmd_boot(args):
    check_qemu()
    mon = "/tmp/nbpc-mon-%d.sock" % os.getpid()
    q = Qemu(args.image, args.machine, mem="64M", net=user_net(args.machine),
             monitor=mon)
    try:
        q.start()
        q.wait_for(r"NeoBoot pc", 30)
        _, m, _ = q.wait_for(r"memory: (\d+) MiB RAM", 30)
        if not 55 <= int(m.group(1)) <= 64:
            raise Fail("memory reported as %s MiB for -m 64M" % m.group(1))
        _, cm, _ = q.wait_for(r"clock: TSC ([\d.]+) MHz \(calibrated by ([^)]*)\)", 30)
        mhz = float(cm.group(1))
        if not 100 <= mhz <= 10000:
            raise Fail("implausible TSC frequency %s MHz" % mhz)
        _, m, t = q.wait_for(r"eth0: up, MAC ([0-9a-f:]{17}), link up", 30)
        log("PASS %s: banner, TSC %.3f MHz (%s), eth0 up with MAC %s %.2f s "
            "after QEMU started (%s)" % (args.machine, mhz, cm.group(2),
                                         m.group(1), t, q.accel))
        # a timer deadline: LAPIC timer -> hlt ends -> the loop runs it
        _, tm, _ = q.wait_for(r"timer: a 20 ms sleep took ([\d.]+) ms", 5)
        if not 19.9 <= float(tm.group(1)) < 500:
            raise Fail("a 20 ms sleep took %s ms" % tm.group(1))
        log("timer: a 20 ms sleep took %s ms" % tm.group(1))
        # link state: the config-change interrupt reaches nb_iface_set_link
        q.hmp("set_link n0 off")
        q.wait_for(r"eth0: link down", 10)
        q.hmp("set_link n0 on")
        q.wait_for(r"eth0: link up", 10, q.wait_for(r"eth0: link down", 1)[0])
        log("link: down and up again via config-change interrupts")
        # the image as built carries the empty bundle: no app, and no error
        q.wait_for(r"no app bundled", 30)
        if any(re.search(r"bundle header is bad", line) for _, line in q.lines):
            raise Fail("the empty bundle of the base image read as a bad one")
        # the console answers (serial receive interrupt -> event loop -> shell)
        q.send("stats\npc\n")
        q.wait_for(r"leak check: .*: ok", 20)
    finally:
        q.stop()
        if os.path.exists(mon):
            os.unlink(mon)


# ---------------------------------------------------------------- ping


def run(cmd, check=True, timeout=60, **kw):
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=check, timeout=timeout, text=True,
                          capture_output=True, **kw)


def cmd_ping(args):
    check_qemu()
    if not shutil.which("ping") or not shutil.which("ip"):
        raise Skip("ping/ip not installed (iputils-ping, iproute2)")
    if not os.path.exists("/dev/net/tun"):
        raise Skip("/dev/net/tun missing: no TAP devices here")
    if os.geteuid() != 0:
        # Not root: re-run this command in a new user+network namespace,
        # where QEMU can still create a TAP if /dev/net/tun lets us open it.
        if not os.access("/dev/net/tun", os.R_OK | os.W_OK):
            raise Skip("not root and /dev/net/tun is not accessible: cannot "
                       "make a TAP device (run as root, as CI does)")
        if os.environ.get("NB_IN_USERNS"):
            raise Skip("cannot create a network namespace (need root or unshare -rn)")
        if not shutil.which("unshare"):
            raise Skip("not root and no unshare(1)")
        env = dict(os.environ, NB_IN_USERNS="1")
        r = subprocess.run(["unshare", "-rn", sys.executable] + sys.argv, env=env)
        return r.returncode
    ns = None
    if not os.environ.get("NB_IN_USERNS"):
        ns = "nbpc%d" % os.getpid()
    tap = "nbtap0"
    nsx = ["ip", "netns", "exec", ns] if ns else []
    dev = nic_device(args.machine)
    net = ["-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % tap,
           "-device", "%s,netdev=n0,mac=52:54:00:12:34:56%s" % (dev, NIC_OPTS)]
    q = Qemu(args.image, args.machine, mem="64M",
             append="neoboot.test=echo neoboot.ip=%s" % GUEST_IP, net=net,
             prefix=nsx)
    try:
        if ns:
            run(["ip", "netns", "add", ns])
        run(nsx + ["ip", "link", "set", "lo", "up"])
        q.start()
        q.wait_for(r"test responder for", 30)
        _, drv, _ = q.wait_for(r"(?:virtio_net|e1000): (eth0: .* (?:bytes|tx ring \d+))", 30)
        log("driver: " + drv.group(1))
        q.wait_for(r"eth0: up, MAC", 30)
        run(nsx + ["ip", "addr", "add", HOST_IP + "/24", "dev", tap])
        run(nsx + ["ip", "link", "set", tap, "up"])
        r = run(nsx + ["ping", "-c", "20", "-i", "0.2", "-W", "5", GUEST_IP],
                check=False, timeout=90)
        log(r.stdout.strip())
        m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
        if not m or int(m.group(2)) != 20:
            q.dump()
            raise Fail("ping -c 20: %s" % (m.group(0) if m else r.stdout + r.stderr))
        rtt = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)", r.stdout)
        log("PASS ping: 20/20 replies, rtt min/avg/max %s ms" %
            ("/".join(rtt.groups()) if rtt else "?"))

        # A flood of large echo requests: the receive ring must keep being
        # refilled and every transmitted reply freed on completion.
        t0 = time.monotonic()
        # -l 64: up to 64 requests in flight, so the rings see bursts
        r = run(nsx + ["ping", "-f", "-l", "64", "-c", "2000", "-s", "1400",
                       "-W", "1", GUEST_IP], check=False, timeout=180)
        dt = time.monotonic() - t0
        log("\n".join(r.stdout.strip().splitlines()[-3:]))  # not the dots
        m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
        if not m:
            raise Fail("flood ping gave no summary: %s" % (r.stdout + r.stderr))
        sent, got = int(m.group(1)), int(m.group(2))
        if got < 0.98 * sent:
            q.dump()
            raise Fail("flood ping: only %d of %d replies" % (got, sent))
        log("PASS flood: %d/%d replies of 1400 bytes in %.1f s (%.0f/s)" %
            (got, sent, dt, got / dt))

        start = len(q.lines)
        q.send("stats\npc\n")
        _, m, _ = q.wait_for(r"leak check: (\d+) live packets = (\d+) held by "
                             r"drivers \+ (\d+) queued: (\w+)", 30, start)
        i, st, _ = q.wait_for(r"l2test: (\d+) ARP replies, (\d+) echo replies", 5, start)
        _, rx, _ = q.wait_for(r"  rx (\d+) pkts .* dropped (\d+)", 5, start)
        _, tx, _ = q.wait_for(r"  tx (\d+) pkts .* busy (\d+), errors (\d+)", 5, start)
        _, vn, _ = q.wait_for(r"eth0: (?:virtio-net|e1000 \S+) irqs (\d+).* tx done (\d+)", 5, start)
        log("guest: rx %s frames (%s dropped), tx %s frames (%s busy), %s echo "
            "replies, %s tx completions freed, %s" %
            (rx.group(1), rx.group(2), tx.group(1), tx.group(2), st.group(2),
             vn.group(2), m.group(0)))
        if m.group(4) != "ok":
            raise Fail("packet leak: " + m.group(0))
        if int(st.group(2)) < 20 + got:
            raise Fail("guest counted %s echo replies, host got %d" %
                       (st.group(2), 20 + got))
        # every transmitted frame was completed and freed
        if int(vn.group(2)) != int(tx.group(1)):
            raise Fail("tx %s sent but %s completed" % (tx.group(1), vn.group(2)))

        # Transmit back-pressure: the guest sends a burst as fast as its ring
        # takes frames, waiting for tx_ready whenever the ring is full; the
        # host must see every frame exactly once.
        burst = 5000
        counter = subprocess.Popen(
            nsx + [sys.executable, os.path.join(os.path.dirname(__file__),
                                                "count_frames.py"),
                   tap, "0x88b5", str(burst)],
            stdout=subprocess.PIPE, text=True)
        def tap_rx():
            r = run(nsx + ["ip", "-s", "-j", "link", "show", "dev", tap])
            return json.loads(r.stdout)[0]["stats64"]["rx"]["packets"]
        try:
            ready = counter.stdout.readline().strip()
            if not ready.startswith("ready"):
                raise Fail("frame counter did not start")
            rx0 = tap_rx()
            start = len(q.lines)
            q.send("txburst %d\n" % burst)
            _, b, _ = q.wait_for(r"txburst: done, (\d+) frames sent in (\d+) ms, "
                                 r"ring full (\d+) times, resumed (\d+) times",
                                 120, start)
            out, _ = counter.communicate(timeout=90)
            rx1 = tap_rx()
        finally:
            if counter.poll() is None:
                counter.kill()
                counter.wait()
        c = re.search(r"frames (\d+) unique (\d+)", out or "")
        log("txburst: guest %s; the TAP counted %d frames in; raw socket %s%s" %
            (b.group(0), rx1 - rx0, c.group(0) if c else out,
             " (small buffer: unprivileged)" if ready != "ready" else ""))
        # the device's counter sees every frame (the guest may also have
        # answered an ARP probe meanwhile); the raw socket proves each
        # sequence number arrived once, when its buffer could hold a burst
        if int(b.group(1)) != burst or rx1 - rx0 < burst or \
                (ready == "ready" and (not c or int(c.group(2)) != burst)):
            raise Fail("txburst: not every frame arrived exactly once")
        start = len(q.lines)
        q.send("stats\npc\n")
        _, m, _ = q.wait_for(r"leak check: .*: (\w+)$", 30, start)
        _, tx, _ = q.wait_for(r"  tx (\d+) pkts .* busy (\d+), errors (\d+)", 5, start)
        _, vn, _ = q.wait_for(r"eth0: (?:virtio-net|e1000 \S+) irqs (\d+).* tx done (\d+) "
                              r"\(watchdog (\d+)\)", 5, start)
        if int(vn.group(3)):
            log("note: the tx watchdog found completions %s times (a late or "
                "lost interrupt)" % vn.group(3))
        if m.group(1) != "ok" or int(vn.group(2)) != int(tx.group(1)):
            raise Fail("after txburst: %s, tx %s sent, %s completed" %
                       (m.group(0), tx.group(1), vn.group(2)))
        log("PASS txburst: %d/%d frames at the host, ring full %s times, every "
            "sent frame freed on completion (%s)" % (rx1 - rx0, burst,
                                                    b.group(3), m.group(0)))
        log("PASS %s: %s end to end, no leaked packets" % (args.machine,
                                                           nic_device(args.machine)))
    finally:
        q.stop()
        if ns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


# ---------------------------------------------------------------- fault


def cmd_fault(args):
    check_qemu()
    for mode, what in (("fault", "page fault"), ("ud2", "invalid opcode")):
        q = Qemu(args.image, "pc", mem="64M", append="neoboot.test=" + mode)
        try:
            q.start()
            q.wait_for(r"CPU exception \d+ \(%s\)" % what, 30)
            i, _, _ = q.wait_for(r"Call trace:", 10)
            chain = []
            for fn in ("nb_pc_fault_inner", "nb_pc_fault_outer", "nb_pc_start"):
                i, m, _ = q.wait_for(r"\] (%s)\+0x[0-9a-f]+" % fn, 10, i)
                chain.append(m.group(0)[2:])
            q.wait_for(r"RIP: .*", 1)
            log("PASS %s: symbolized trace %s" % (mode, " <- ".join(chain)))
        finally:
            q.stop()


# ---------------------------------------------------------------- idle


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields after the command: state is [0]; utime [11], stime [12]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cmd_idle(args):
    check_qemu()
    if args.app:
        return idle_app(args)
    q = Qemu(args.image, "pc", mem="64M", append="neoboot.test=idle")
    try:
        q.start()
        q.wait_for(r"boot: ready", 30)
        time.sleep(1)
        c0, t0 = cpu_seconds(q.proc.pid), time.monotonic()
        time.sleep(5)
        c1, t1 = cpu_seconds(q.proc.pid), time.monotonic()
        pct = 100 * (c1 - c0) / (t1 - t0)
        start = len(q.lines)
        q.send("stats\npc\n")
        _, m, _ = q.wait_for(r"cpu: (\d+) halts", 20, start)
        log("idle: QEMU (TCG) used %.2f%% of a CPU over %.1f s; guest halted "
            "%s times" % (pct, t1 - t0, m.group(1)))
        if int(m.group(1)) < 1:
            raise Fail("the guest never halted")
        if pct >= 5.0:
            raise Fail("idle CPU %.2f%% >= 5%%" % pct)
        log("PASS idle: %.2f%% < 5%%" % pct)
    finally:
        q.stop()


# ---------------------------------------------------------------- minmem


def boots_with(image, mem, machine="pc"):
    q = Qemu(image, machine, mem=mem, net=user_net(machine))
    try:
        q.start()
        # with too little RAM for the image QEMU may not even start it
        if q.wait_for(r"NeoBoot pc|\*\*\* PANIC", 10, fatal=False) is None:
            return False
        r = q.wait_for(r"eth0: up, MAC|\*\*\* PANIC|no Ethernet interface", 30, fatal=False)
        ok = r is not None and "eth0: up" in r[1].group(0)
        if ok:
            q.send("stats\npc\n")
            ok = q.wait_for(r"leak check: .*: ok", 20, fatal=False) is not None
        return ok
    finally:
        q.stop()


def serves_with(image, mem, machine="pc"):
    """Boots with the bundled httpd, and it answers through a forward."""
    port = free_port()
    q = Qemu(image, machine, mem=mem, cpu="max", net=user_net(machine, fwd=(port, 80)))
    try:
        q.start()
        if q.wait_for(r"NeoBoot pc|\*\*\* PANIC", 10, fatal=False) is None:
            log("-m %s: no banner within 10 s" % mem)
            return False
        # fail fast: a too-small machine panics or cannot start the app
        r = q.wait_for(r"httpd: serving on tcp port 80|\*\*\* PANIC|could not start|"
                       r"stopped after|refusing to run|no Ethernet interface", 30, fatal=False)
        if r is None or "serving" not in r[1].group(0):
            log("-m %s: %s" % (mem, r[1].group(0) if r else "no answer within 30 s"))
            return False
        body = http_get("http://127.0.0.1:%d/" % port, 20)
        return body is not None and b"Hello from NeoBoot" in body
    finally:
        q.stop()


def cmd_minmem(args):
    check_qemu()
    if args.app:
        with tempfile.TemporaryDirectory(prefix="nbpc") as tmp:
            img = httpd_image(args, tmp)
            if not serves_with(img, "64M"):
                raise Fail("does not boot and serve with -m 64M")
            log("PASS boots and serves HTTP with -m 64M")
            lo, hi = 1, 64
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if serves_with(img, "%dM" % mid):
                    hi = mid
                else:
                    lo = mid
            log("PASS smallest -m that boots and serves (pc, httpd): %d MiB" % hi)
        return
    if not boots_with(args.image, "64M"):
        raise Fail("does not boot with -m 64M")
    log("PASS boots with -m 64M")
    lo, hi = 1, 64  # lo fails (or is untested), hi boots
    if boots_with(args.image, "%dM" % lo):
        hi = lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if boots_with(args.image, "%dM" % mid):
            hi = mid
        else:
            lo = mid
    log("PASS smallest -m that boots (pc, eth0 up): %d MiB" % hi)

# ---------------------------------------------------------------- apps


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(url, timeout):
    """Body of a GET, or None; retries until timeout (the forward may not
    be up the instant the app listens)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=max(1, deadline - time.monotonic())) as r:
                return r.read()
        except Exception as e:  # noqa: BLE001 - any failure is a retry
            if time.monotonic() >= deadline:
                log("GET %s failed: %s" % (url, e))
                return None
            time.sleep(0.3)


def need_apps(args):
    if not args.neoboot or not os.path.exists(args.neoboot):
        raise Skip("the hosted neoboot was not given (--neoboot)")
    for a in ("httpd.wasm", "fetch.wasm"):
        if not os.path.exists(os.path.join(args.apps or "", a)):
            raise Skip("SDK app %s not built (NB_SDK off?)" % a)


def image_build(args, out, app, *opts, bundle=False):
    cmd = [args.neoboot, "image", "bundle" if bundle else "build",
           "--app", os.path.join(args.apps, app)] + list(opts) + ["-o", out]
    if not bundle:
        cmd += ["--base", args.image]
    r = run(cmd, check=False)
    if r.returncode != 0:
        raise Fail("image %s failed: %s" % ("bundle" if bundle else "build",
                                            r.stdout + r.stderr))
    return out


def httpd_image(args, tmp, *extra):
    need_apps(args)
    return image_build(args, os.path.join(tmp, "httpd.elf"), "httpd.wasm",
                       "--arg", "--port", "--arg", "80", "--allow-listen", "tcp:80", *extra)


OVMF = "/usr/share/ovmf/OVMF.fd"


def vga_text(q):
    """The 80x25 VGA text screen, read from guest memory, as 25 lines."""
    out = q.hmp_output("xp /4000bx 0xb8000")
    vals = [int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})\b", out)]
    if len(vals) < 4000:
        raise Fail("could not read the screen through the monitor (%d bytes)" % len(vals))
    chars = bytes(vals[0:4000:2]).decode("latin-1")
    return [chars[r * 80:(r + 1) * 80].rstrip() for r in range(25)]


def screendump_text(q, tmp):
    """The framebuffer console's text, read back from a QEMU screendump by
    matching every 8x16 cell against the font NeoBoot draws with (made by
    mkfont.py from the same GRUB font file)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "..", "src", "platform", "pc"))
    import mkfont
    glyphs = mkfont.cells("/usr/share/grub/ascii.pf2")
    by_shape = {}
    for i, g in enumerate(glyphs):
        by_shape.setdefault(tuple(g), chr(0x20 + i))
    path = os.path.join(tmp, "screen.ppm")
    q.hmp_output("screendump " + path)
    for _ in range(50):
        if os.path.exists(path) and os.path.getsize(path) > 0:
            break
        time.sleep(0.1)
    data = open(path, "rb").read()
    magic, dims, maxval, raw = data.split(b"\n", 3)
    w, h = map(int, dims.split())
    lines = []
    for row in range(h // 16):
        text = []
        for colm in range(w // 8):
            shape = []
            for y in range(16):
                bits = 0
                base = ((row * 16 + y) * w + colm * 8) * 3
                for x in range(8):
                    if any(raw[base + 3 * x: base + 3 * x + 3]):
                        bits |= 0x80 >> x
                shape.append(bits)
            text.append(by_shape.get(tuple(shape), "?"))
        lines.append("".join(text).rstrip())
    return lines


def cmd_screen(args):
    """The VGA text console and the PS/2 keyboard: a machine with a screen
    (-device VGA; SeaBIOS leaves text mode 3) shows the log and the shell,
    and keys typed on the keyboard (QEMU's sendkey) drive the shell: a
    command, Up for history, Shift, Ctrl-U; the serial console sees the same
    output."""
    check_qemu()
    mon = "/tmp/nbpc-scr-%d.sock" % os.getpid()
    q = Qemu(args.image, "pc", mem="64M", append="neoboot.app=none", monitor=mon)
    Qemu.extra = Qemu.extra + ["-device", "VGA"]
    try:
        q.start()
        q.wait_for(r"console: serial COM1, VGA text screen, PS/2 keyboard", 30)
        q.wait_for(r"the shell is ready", 30)
        time.sleep(0.5)
        screen = vga_text(q)
        if not any("the shell is ready" in line for line in screen):
            raise Fail("the log is not on the screen:\n" + "\n".join(screen))
        start = len(q.lines)
        # "junk", Ctrl-U (erase the line), "files", Enter; Up, Enter; "HELP sha256"
        keys = ["j", "u", "n", "k", "ctrl-u", "f", "i", "l", "e", "s", "ret", "up", "ret",
                "shift-h", "shift-e", "shift-l", "shift-p", "spc", "s", "h", "a", "2", "5",
                "6", "ret"]
        for k in keys:
            q.hmp_output("sendkey " + k, settle=0.05)
        q.wait_for(r"unknown command.*HELP|HELP.*unknown", 20, start)
        time.sleep(0.5)
        screen = vga_text(q)
        text = "\n".join(screen)
        ran = [line for line in screen if line.startswith("neoboot> files")]
        answers = [line for line in screen if re.match(r"\d+ files?, ", line)]
        if len(ran) != 2 or len(answers) != 2:
            raise Fail("expected 'files' twice (typed, then Up) with its answer on the "
                       "screen:\n" + text)
        if "junk" in text:
            raise Fail("Ctrl-U did not erase the line:\n" + text)
        if "HELP sha256" not in text:
            raise Fail("Shift did not give capitals:\n" + text)
        serial = "\n".join(l for _, l in q.lines[start:])
        if len(re.findall(r"\d+ files?, ", serial)) != 2:
            raise Fail("the serial console did not see the same answers")
        log("PASS the screen shows the log and the shell; keyboard input ran 'files', "
            "Up repeated it, Ctrl-U erased, Shift capitalised; serial saw the same")
    finally:
        q.stop()


def cmd_iso(args):
    """`neoboot image iso` makes a GRUB disk with the httpd image; the
    firmware (SeaBIOS, or OVMF for UEFI) boots it from the CD drive as on a
    real machine, GRUB loads NeoBoot through Multiboot2, and the app serves
    through a port forward."""
    check_qemu()
    if not shutil.which("grub-mkrescue") or not shutil.which("xorriso"):
        raise Skip("grub-mkrescue or xorriso not installed (scripts/setup.sh installs them)")
    grub_dir = "/usr/lib/grub/" + ("x86_64-efi" if args.firmware == "uefi" else "i386-pc")
    if not os.path.isdir(grub_dir):
        raise Skip("%s missing (scripts/setup.sh installs grub-%s)" %
                   (grub_dir, "efi-amd64-bin" if args.firmware == "uefi" else "pc-bin"))
    if args.firmware == "uefi" and not os.path.exists(OVMF):
        raise Skip("%s missing (scripts/setup.sh installs ovmf)" % OVMF)
    with tempfile.TemporaryDirectory(prefix="nbpc") as tmp:
        # BIOS: the app inside the image; UEFI: the base image and the app
        # as a Multiboot2 module (a bundle)
        if args.firmware == "bios":
            img, mod, source = httpd_image(args, tmp), [], "the image"
        else:
            need_apps(args)
            bundle = image_build(args, os.path.join(tmp, "httpd.bundle"), "httpd.wasm",
                                 "--arg", "--port", "--arg", "80", "--allow-listen", "tcp:80",
                                 bundle=True)
            img, mod, source = args.image, ["--module", bundle], "the boot module"
        iso = os.path.join(tmp, "neoboot.iso")
        r = run([args.neoboot, "image", "iso", img] + mod + ["--cmdline",
                 "neoboot.log=info,mm=debug neoboot.autoboot=0 x=$y;z#", "-o", iso],
                check=False)
        if r.returncode != 0 or not os.path.exists(iso):
            raise Fail("image iso: rc %d: %s%s" % (r.returncode, r.stdout, r.stderr))
        log("image iso: %s" % r.stdout.strip().splitlines()[0])
        port = free_port()
        q = Qemu(iso, args.machine, mem="128M", cpu="max", cdrom=True,
                 bios=OVMF if args.firmware == "uefi" else None,
                 net=user_net(args.machine, fwd=(port, 80)),
                 monitor=os.path.join(tmp, "mon.sock"))
        Qemu.extra = Qemu.extra + ["-device", "VGA"]  # a screen, as a real machine has
        try:
            q.start()
            _, m, t_boot = q.wait_for(r"NeoBoot pc \(x86_64\), booted by (GRUB[^(]*)", 120)
            # the command line crossed GRUB's quoting intact
            q.wait_for(r"command line: neoboot\.log=info,mm=debug neoboot\.autoboot=0 "
                       r"x=\$y;z#$", 10)
            _, mm, _ = q.wait_for(r"memory: (\d+) MiB RAM in (\d+) ranges", 10)
            if not 100 <= int(mm.group(1)) <= 128:
                raise Fail("memory: %s MiB of a 128 MiB machine" % mm.group(1))
            _, _, t_net = q.wait_for(r"network up: eth0 10\.0\.2\.15/24 .*"
                                     r"\(DHCP from 10\.0\.2\.2\)", 60)
            q.wait_for(r"httpd from %s, \d+ bytes, sha256 [0-9a-f]{64} \(verified\)" % source,
                       30)
            q.wait_for(r"httpd: serving on tcp port 80", 30)
            body = http_get("http://127.0.0.1:%d/" % port, 30)
            if body is None or b"Hello from NeoBoot" not in body:
                q.dump()
                raise Fail("httpd did not answer through the forward: %r" % body)
            # the console is on the screen too: GRUB hands over a framebuffer
            # (UEFI's GOP; VBE on BIOS), NeoBoot draws its text there
            _, sm, _ = q.wait_for(r"console: serial COM1, (framebuffer screen|VGA text screen)",
                                  5)
            time.sleep(0.5)
            screen = (screendump_text(q, tmp) if sm.group(1).startswith("framebuffer")
                      else vga_text(q))
            if not any("httpd: serving on tcp port 80" in l for l in screen):
                raise Fail("the app's output is not on the %s:\n%s" %
                           (sm.group(1), "\n".join(screen)))
            log("screen (%s) shows the console: %r" %
                (sm.group(1), [l for l in screen if "network up" in l][:1]))
            log("PASS %s firmware (%s): %s started NeoBoot %.1f s after QEMU, network up "
                "%.1f s, httpd answered curl" % (args.firmware, args.machine,
                                                 m.group(1).strip(), t_boot, t_net))
        finally:
            q.stop()


def cmd_app(args):
    """Boot with a bundled httpd: network up by DHCP, the app running, and
    curl from the host through a port forward."""
    check_qemu()
    with tempfile.TemporaryDirectory(prefix="nbpc") as tmp:
        img = httpd_image(args, tmp)
        port = free_port()
        q = Qemu(img, args.machine, mem="64M", cpu="max",
                 net=user_net(args.machine, fwd=(port, 80)))
        try:
            q.start()
            # (restricted slirp offers no router or DNS, only the lease)
            _, m, t_net = q.wait_for(r"network up: eth0 (10\.0\.2\.15)/24 .*"
                                     r"\(DHCP from 10\.0\.2\.2\)", 30)
            _, _, t_app = q.wait_for(r"run: httpd: running", 30)
            _, _, t_listen = q.wait_for(r"httpd: serving on tcp port 80", 30)
            log("%s: network up (DHCP lease from slirp) %.2f s, app running %.2f s, "
                "listening %.2f s after QEMU started (%s, -m 64M)" %
                (args.machine, t_net, t_app, t_listen, q.accel))
            t0 = time.monotonic()
            r = run(["curl", "-sS", "-m", "20", "--retry", "3", "--retry-connrefused",
                     "http://127.0.0.1:%d/" % port], check=False, timeout=90)
            if r.returncode != 0 or "Hello from NeoBoot" not in r.stdout:
                q.dump()
                raise Fail("curl: rc %d: %s%s" % (r.returncode, r.stdout, r.stderr))
            log("curl: %r in %.2f s" % (r.stdout.strip(), time.monotonic() - t0))
            t0 = time.monotonic()
            r = run(["curl", "-sS", "-m", "60", "-o", "/dev/null", "-w", "%{size_download}",
                     "http://127.0.0.1:%d/bytes/4194304" % port], check=False, timeout=90)
            dt = time.monotonic() - t0
            if r.returncode != 0 or r.stdout.strip() != "4194304":
                raise Fail("curl /bytes/4194304: rc %d, %s%s" % (r.returncode, r.stdout,
                                                                  r.stderr))
            log("curl: 4 MiB from the guest in %.2f s (%.1f MiB/s over slirp)" %
                (dt, 4 / dt))
            # the console shell answers while the app serves
            start = len(q.lines)
            q.send("app\n")
            q.wait_for(r"state: running", 20, start)
            q.send("stats\n")
            q.wait_for(r"eth0", 20, start)
            # the driver's counters, and every packet accounted for
            q.send("pc\n")
            q.wait_for(r"eth0: (virtio-net|e1000) .*irqs [1-9]", 20, start)
            q.wait_for(r"leak check: .*: ok", 20, start)
            log("PASS %s (%s): DHCP, bundled app, curl through the forward, console" %
                (args.machine, nic_device(args.machine)))
        finally:
            q.stop()


def sha256_file(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


SERVER = r"""
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
h.func.log_message = lambda *a: None
s = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), h)
print("ready", flush=True)
s.serve_forever()
"""


def start_server(prefix, addr, port, directory):
    p = subprocess.Popen(prefix + [sys.executable, "-c", SERVER, addr, str(port), directory],
                         stdout=subprocess.PIPE, text=True, start_new_session=True)
    if p.stdout.readline().strip() != "ready":
        p.kill()
        raise Fail("http.server did not start on %s:%d" % (addr, port))
    return p


def stop(p):
    if p and p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)


def cmd_fetch(args):
    """fetch inside the VM downloads 64 MiB from python's http.server on
    the host and checks its sha256; over slirp, or over a TAP device in a
    namespace this test creates (with dnsmasq for DHCP)."""
    check_qemu()
    need_apps(args)
    if args.tap:
        for tool in ("ip", "dnsmasq"):
            if not shutil.which(tool):
                raise Skip("%s not installed (iproute2, dnsmasq-base)" % tool)
        if not os.path.exists("/dev/net/tun"):
            raise Skip("/dev/net/tun missing: no TAP devices here")
        if os.geteuid() != 0:
            raise Skip("not root: cannot make a network namespace with a TAP (CI runs "
                       "as root)")
    size = args.size << 20
    with tempfile.TemporaryDirectory(prefix="nbpc") as tmp:
        data = os.path.join(tmp, "www")
        os.mkdir(data)
        blob = os.path.join(data, "blob.bin")
        with open(blob, "wb") as f:
            for _ in range(args.size):
                f.write(os.urandom(1 << 20))
        digest = sha256_file(blob)
        ns = "nbpc%d" % os.getpid() if args.tap else None
        nsx = ["ip", "netns", "exec", ns] if ns else []
        tap = "nbtap0"
        srv = dns = q = None
        try:
            if ns:
                host, port = HOST_IP, 8000
                run(["ip", "netns", "add", ns])
                run(nsx + ["ip", "link", "set", "lo", "up"])
                run(nsx + ["ip", "tuntap", "add", "dev", tap, "mode", "tap"])
                run(nsx + ["ip", "addr", "add", HOST_IP + "/24", "dev", tap])
                run(nsx + ["ip", "link", "set", tap, "up"])
                dns = subprocess.Popen(
                    nsx + ["dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                           "--interface=" + tap, "--bind-interfaces", "--port=0", "--no-ping",
                           "--dhcp-range=10.0.2.15,10.0.2.15,255.255.255.0,1h",
                           "--dhcp-option=3," + HOST_IP, "--dhcp-leasefile=" +
                           os.path.join(tmp, "leases"), "--log-facility=-"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    start_new_session=True)
                net = ["-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % tap,
                       "-device", "%s,netdev=n0" % nic_device(args.machine)]
                how = "TAP in namespace %s, DHCP from dnsmasq" % ns
            else:
                host, port = "127.0.0.1", free_port()
                net = user_net(args.machine, restrict=False)
                how = "slirp (guest 10.0.2.2 is the host's loopback)"
            srv = start_server(nsx, host, port, data)
            url = "http://%s:%d/blob.bin" % (HOST_IP, port)
            # the app and its configuration as a boot module (QEMU -initrd):
            # the SDK's fetch, body discarded (-n), sha256 and rate printed
            bundle = image_build(args, os.path.join(tmp, "fetch.bundle"), "fetch.wasm",
                                 "--args", "-n -q " + url, "--allow-connect",
                                 "tcp:%s:%d" % (HOST_IP, port), "--on-exit", "poweroff",
                                 bundle=True)
            q = Qemu(args.image, args.machine, mem="64M", cpu="max", net=net, prefix=nsx,
                     initrd=bundle)
            q.start()
            _, _, t_net = q.wait_for(r"network up: eth0 10\.0\.2\.15/24", 30)
            q.wait_for(r"fetch from the boot module", 10)
            _, h, _ = q.wait_for(r"sha256: ([0-9a-f]{64})", args.timeout)
            _, m, t = q.wait_for(r"fetch: HTTP (\d+), (\d+) bytes \([^)]*\) in ([\d.]+) s, "
                                 r"(.*)/s", 30)
            i, st, _ = q.wait_for(r"run: fetch: exited with status (\d+)", 30)
            if m.group(1) != "200" or int(m.group(2)) != size or h.group(1) != digest \
                    or st.group(1) != "0":
                q.dump()
                raise Fail("fetch: %s, sha256 %s (want %d bytes, sha256 %s)" %
                           (m.group(0), h.group(1), size, digest))
            log("network up %.2f s after QEMU started; %s" % (t_net, how))
            log("PASS fetch (%s): %d MiB in %s s of guest time (%s/s, sha256 checked by the app), "
                "sha256 matches" % (args.machine, args.size, m.group(3), m.group(4)))
            q.wait_for(r"powering off", 10, i)
        finally:
            if q:
                q.stop()
            stop(srv)
            stop(dns)
            if ns:
                subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def cmd_corrupt(args):
    """An image whose payload changed after it was built refuses to run
    the app, says why, and the console shell still answers."""
    check_qemu()
    with tempfile.TemporaryDirectory(prefix="nbpc") as tmp:
        img = httpd_image(args, tmp)
        r = run([args.neoboot, "image", "inspect", img], check=False)
        if r.returncode != 0 or "verdict: ok" not in r.stdout:
            raise Fail("inspect of a good image: %s" % r.stdout)
        with open(img, "rb") as f:
            good = f.read()
        cases = []
        # a byte of the app (the end of the file is the end of the app)
        b = bytearray(good)
        b[-100] ^= 0x01
        cases.append(("app byte", b, r"app digest mismatch"))
        # a byte of the configuration (just after the 128-byte header)
        off = good.rfind(b"NBBUNDLE")
        b = bytearray(good)
        b[off + 128 + 5] ^= 0x01
        cases.append(("configuration byte", b, r"configuration digest mismatch"))
        for what, data, why in cases:
            bad = os.path.join(tmp, "bad.elf")
            with open(bad, "wb") as f:
                f.write(data)
            r = run([args.neoboot, "image", "inspect", bad], check=False)
            if r.returncode == 0 or "would NOT run" not in r.stdout:
                raise Fail("inspect did not notice a changed %s: %s" % (what, r.stdout))
            q = Qemu(bad, "pc", mem="64M", cpu="max", net=user_net("pc"))
            try:
                q.start()
                _, m, t = q.wait_for(r"refusing to run the app from the image: (.*)", 30)
                if not re.search(why, m.group(1)):
                    raise Fail("refused for %r, expected %r" % (m.group(1), why))
                if any("httpd: running" in l for _, l in q.lines):
                    raise Fail("the app ran anyway")
                start = len(q.lines)
                q.send("app\n")
                q.wait_for(r"state: refused: .*" + why, 20, start)
                q.send("help\n")
                q.wait_for(r"stats", 20, start)
                log("PASS changed %s: refused at %.2f s (%s); the shell answers" %
                    (what, t, m.group(1)))
            finally:
                q.stop()


def idle_app(args):
    """Idle with the network up and an idle app (httpd waiting)."""
    with tempfile.TemporaryDirectory(prefix="nbpc") as tmp:
        img = httpd_image(args, tmp)
        port = free_port()
        q = Qemu(img, "pc", mem="64M", cpu="max", net=user_net("pc", fwd=(port, 80)))
        try:
            q.start()
            q.wait_for(r"network up: eth0", 30)
            q.wait_for(r"httpd: serving on tcp port 80", 30)
            if http_get("http://127.0.0.1:%d/" % port, 20) is None:
                raise Fail("httpd does not answer")
            time.sleep(2)  # let the connection's close finish (TIME-WAIT timers)
            start = len(q.lines)
            q.send("pc\n")
            _, h0, _ = q.wait_for(r"cpu: (\d+) halts", 20, start)
            c0, t0 = cpu_seconds(q.proc.pid), time.monotonic()
            time.sleep(5)
            c1, t1 = cpu_seconds(q.proc.pid), time.monotonic()
            pct = 100 * (c1 - c0) / (t1 - t0)
            start = len(q.lines)
            q.send("pc\n")
            _, h1, _ = q.wait_for(r"cpu: (\d+) halts", 20, start)
            wakes = int(h1.group(1)) - int(h0.group(1))
            log("idle with the network up and httpd waiting: QEMU (%s) used %.2f%% of a "
                "CPU over %.1f s; the guest halted %d times (%.1f wake-ups/s)" %
                (q.accel, pct, t1 - t0, wakes, wakes / (t1 - t0)))
            if pct >= 5.0:
                raise Fail("idle CPU %.2f%% >= 5%%" % pct)
            log("PASS idle with an app: %.2f%% < 5%%" % pct)
        finally:
            q.stop()


def cmd_qemu_cmd(args):
    """`neoboot qemu`: the command it prints, and a real start with the
    default accelerator choice (KVM if it can run the guest, else TCG;
    this machine's /dev/kvm cannot, so the fallback is exercised here)."""
    check_qemu()
    with tempfile.TemporaryDirectory(prefix="nbpc") as tmp:
        img = httpd_image(args, tmp)
        port = free_port()
        r = run([args.neoboot, "qemu", "--dry-run", "--machine", "microvm", "--mem", "64M",
                 "-p", "%d:80" % port, img], check=False)
        if r.returncode != 0 or "qemu-system-x86_64" not in r.stdout or \
                "hostfwd=tcp:127.0.0.1:%d-:80" % port not in r.stdout or \
                "virtio-net-device" not in r.stdout:
            raise Fail("neoboot qemu --dry-run: %s%s" % (r.stdout, r.stderr))
        log("dry run: " + r.stdout.strip().splitlines()[0])
        cmd = [args.neoboot, "qemu", "--machine", "q35", "--mem", "64M", "-p",
               "%d:80" % port, img]
        log("$ " + " ".join(cmd))
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
        lines = []
        def reader():
            for raw in iter(p.stdout.readline, b""):
                lines.append(raw.decode("utf-8", "replace").rstrip())
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            body = http_get("http://127.0.0.1:%d/" % port, 60)
            if body is None or b"Hello from NeoBoot" not in body:
                log("---- neoboot qemu's output (last 40 lines) ----")
                log("\n".join("| " + l for l in lines[-40:]))
                raise Fail("the guest did not answer through neoboot qemu's forward")
            accel = [l for l in lines if "neoboot qemu:" in l]
            log("\n".join(accel))
            log("PASS neoboot qemu: booted (%s) and served through -p" %
                ("fell back to TCG" if any("falling back" in l for l in accel) else
                 "accelerator as chosen"))
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(5)



def cmd_console(args):
    """The console with apps: stdin of a bundled app (echoed, line by line,
    Ctrl-D ends it); the shell's `run bundled`, answering while the app
    serves, `stop`, and Ctrl-C."""
    check_qemu()
    need_apps(args)
    if not args.stdin_app or not os.path.exists(args.stdin_app):
        raise Skip("stdin test program not built (tests/wasm/programs/stdin_echo.c)")
    with tempfile.TemporaryDirectory(prefix="nbpc") as tmp:
        img = image_build(args, os.path.join(tmp, "stdin.elf"), args.stdin_app,
                          "--name", "stdin_echo", "--net", "none")
        q = Qemu(img, "pc", mem="64M", cpu="max", net=user_net("pc"))
        try:
            q.start()
            q.wait_for(r"run: stdin_echo: running", 30)
            time.sleep(0.5)  # the app is blocked reading: typing goes to it
            q.send("hello world\r")
            q.wait_for(r"1: hello world +len=11 vowels=3", 20)
            q.send("abc\r\x04")
            q.wait_for(r"2: abc +len=3 vowels=1", 20)
            q.wait_for(r"total 2 lines, 16 bytes", 20)
            q.wait_for(r"stdin_echo: exited with status 2", 20)
            log("PASS stdin: two lines typed on the console reached the app, Ctrl-D ended it "
                "(exit status 2)")
        finally:
            q.stop()
        img = httpd_image(args, tmp)
        port = free_port()
        q = Qemu(img, "pc", mem="64M", cpu="max", append="neoboot.app=none",
                 net=user_net("pc", fwd=(port, 80)))
        try:
            q.start()
            q.wait_for(r"neoboot.app=none", 30)
            q.wait_for(r"shell is ready", 30)
            for how in ("stop", "\x03"):
                start = len(q.lines)
                q.send("run bundled\r")
                q.wait_for(r"httpd: serving on tcp port 80", 30, start)
                if http_get("http://127.0.0.1:%d/" % port, 20) is None:
                    raise Fail("httpd started by 'run bundled' does not answer")
                q.send("app\r")
                q.wait_for(r"state: running", 20, start)
                q.send(how + ("\r" if how == "stop" else ""))
                q.wait_for(r"run: httpd: stopped after .*interrupted", 20, start)
                log("PASS 'run bundled' served, the shell answered meanwhile, %s stopped it" %
                    ("'stop'" if how == "stop" else "Ctrl-C"))
        finally:
            q.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--nic", help="QEMU NIC model instead of virtio-net (e1000, e1000e)")
    ap.add_argument("--nic-opts", default="",
                    help="appended to the virtio-net -device, e.g. ,vectors=0")
    ap.add_argument("--qemu-arg", action="append", default=[],
                    help="extra QEMU argument (repeatable)")
    ap.add_argument("--neoboot", help="the hosted neoboot (image build)")
    ap.add_argument("--apps", help="folder with the SDK apps (httpd.wasm, fetch.wasm)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("boot", "ping", "app"):
        p = sub.add_parser(name)
        p.add_argument("--machine", default="pc")
    sub.add_parser("screen")
    p = sub.add_parser("iso")
    p.add_argument("--machine", default="pc")
    p.add_argument("--firmware", choices=("bios", "uefi"), default="bios")
    p = sub.add_parser("fetch")
    p.add_argument("--machine", default="q35")
    p.add_argument("--tap", action="store_true")
    p.add_argument("--size", type=int, default=64, help="MiB to download")
    p.add_argument("--timeout", type=int, default=240)
    for name in ("idle", "minmem"):
        p = sub.add_parser(name)
        p.add_argument("--app", action="store_true")
    for name in ("fault", "corrupt", "qemu-cmd"):
        sub.add_parser(name)
    p = sub.add_parser("console")
    p.add_argument("--stdin-app", help="a WASI program that echoes stdin (stdin_echo.wasm)")
    args = ap.parse_args()
    global NIC_OPTS, NIC_MODEL
    NIC_OPTS = args.nic_opts
    NIC_MODEL = args.nic
    Qemu.extra = list(args.qemu_arg)
    if not os.path.exists(args.image):
        print("SKIP: %s not built (NB_PC_IMAGE off?)" % args.image)
        return SKIP
    try:
        rc = globals()["cmd_" + args.cmd.replace("-", "_")](args)
        return rc or 0
    except Skip as e:
        print("SKIP: %s" % e)
        return SKIP
    except Fail as e:
        print("FAIL: %s" % e)
        return 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    sys.exit(main())
