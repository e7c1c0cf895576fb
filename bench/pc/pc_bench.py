#!/usr/bin/env python3
"""NeoBoot on pc vs iPXE: time to network up, and HTTP download throughput.

    pc_bench.py --neoboot BIN --image neoboot.elf --fetch fetch.wasm
                [--runs 3] [--size-mib 256] [--machine pc] [--accel auto|tcg|kvm]

Both run in the same QEMU configuration, one after the other, several
times: the same machine, memory, CPU model and accelerator, and a
virtio-net NIC on a TAP device in a network namespace this script creates.
On the TAP side: dnsmasq (DHCP, with iPXE's no-pxedhcp option so iPXE does
not wait for ProxyDHCP offers) and an HTTP server (nginx if installed,
else python's http.server) with a file of --size-mib random MiB.

- NeoBoot: neoboot.elf with the SDK's fetch as a boot module (an -initrd
  bundle), `fetch -n -q --no-hash URL`, powering off when done. Network up = the
  host sees the guest's "network up:" line; the download is timed on the
  host from the runner's "running" line to fetch's result line (the
  guest's own figure, on its TSC, is shown too).
- iPXE: Debian's ipxe.lkrn. dnsmasq hands it a script URL as its boot
  file; the script does `echo FETCH`, `imgfetch` of the same file, `echo
  DONE`, `poweroff`. Network up = the host sees "Configuring (net0 ...) ok";
  the download is timed on the host from FETCH to DONE. Its console goes
  to the serial port through SeaBIOS (sercon), as DESIGN.md notes.

Prints a table with medians and NeoBoot/iPXE ratios, the image size and
the smallest -m NeoBoot boots and fetches with. Needs root (namespace, TAP).
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HOST_IP = "10.0.2.2"
GUEST_IP = "10.0.2.15"
PORT = 8000
IPXE = "/usr/lib/ipxe/ipxe.lkrn"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Vm:
    """QEMU with its serial console on a pipe, lines timestamped on arrival."""

    def __init__(self, cmd):
        self.lines = []
        self.cond = threading.Condition()
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", raw.decode("utf-8", "replace"))
                with self.cond:
                    self.lines.append((time.monotonic() - self.t0, line.rstrip("\r")))
                    self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait(self, pattern, timeout):
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        i = 0
        with self.cond:
            while True:
                while i < len(self.lines):
                    t, line = self.lines[i]
                    m = rx.search(line)
                    if m:
                        return t, m
                    i += 1
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and i >= len(self.lines)):
                    tail = "\n".join(l for _, l in self.lines[-15:])
                    raise RuntimeError("no %r within %ss; console tail:\n%s" %
                                       (pattern, timeout, tail))
                self.cond.wait(min(left, 0.5))

    def save(self, path):
        if path:
            with open(path, "w") as f:
                for t, line in self.lines:
                    f.write("%8.3f %s\n" % (t, line))

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def kvm_works(image, nsx):
    """Can KVM run a NeoBoot guest here? (This machine's /dev/kvm cannot.)"""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    vm = Vm(nsx + ["qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-m", "64M",
                   "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
                   "-kernel", image, "-append", "neoboot.test=idle"])
    try:
        vm.wait(r"NeoBoot pc", 10)
        return True
    except RuntimeError:
        return False
    finally:
        vm.stop()


# --- the network both benchmarks use (bench/netboot imports these) ---

def net_up(nsx, ns, tap):
    """A namespace ns with TAP tap at HOST_IP (and fd00:2::2 for IPv6)."""
    run(["ip", "netns", "add", ns])
    run(nsx + ["ip", "link", "set", "lo", "up"])
    run(nsx + ["ip", "tuntap", "add", "dev", tap, "mode", "tap"])
    run(nsx + ["ip", "addr", "add", HOST_IP + "/24", "dev", tap])
    run(nsx + ["ip", "addr", "add", "fd00:2::2/64", "dev", tap, "nodad"])
    run(nsx + ["ip", "link", "set", tap, "up"])


def start_dnsmasq(nsx, tap, tmp, boot_opts, log_to=None):
    """DHCP on tap: no ping check before offers (dnsmasq's default costs
    seconds), iPXE's no-pxedhcp (option 175.176), a range rather than one
    address (NeoBoot and iPXE identify themselves differently, and a lease
    held by one would starve the other), and router advertisements: iPXE's
    "Configuring" waits for IPv6 as well and, without a router, gives up
    only after about 15 s (slirp has one); NeoBoot does not wait for IPv6.
    boot_opts: the --dhcp-boot (and tag) options."""
    return subprocess.Popen(
        nsx + ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--interface=" + tap,
               "--bind-interfaces", "--port=0", "--no-ping",
               "--dhcp-range=%s,10.0.2.99,255.255.255.0,1h" % GUEST_IP,
               "--dhcp-authoritative", "--enable-ra",
               "--dhcp-range=::,constructor:%s,ra-only" % tap,
               "--dhcp-option=3," + HOST_IP, "--dhcp-option=encap:175,176,1b"] +
        list(boot_opts) +
        ["--dhcp-leasefile=" + os.path.join(tmp, "leases"), "--log-dhcp",
         "--log-facility=" + (log_to or "/dev/null")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def start_web(nsx, tmp, www):
    """nginx (sendfile) serving www at HOST_IP:PORT, or python's
    http.server without nginx; returns (process, name) once it answers."""
    if shutil.which("nginx"):
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("daemon off; worker_processes 1; pid %s/nginx.pid;\n"
                    "error_log %s/nginx.err;\n"
                    "events { worker_connections 64; }\n"
                    "http { access_log off; sendfile on; tcp_nopush on;\n"
                    "  client_body_temp_path %s; proxy_temp_path %s;\n"
                    "  fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;\n"
                    "  server { listen %s:%d; root %s; } }\n" %
                    (tmp, tmp, tmp, tmp, tmp, tmp, tmp, HOST_IP, PORT, www))
        proc, name = subprocess.Popen(nsx + ["nginx", "-c", conf], start_new_session=True,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL), "nginx"
    else:
        proc, name = subprocess.Popen(
            nsx + [sys.executable, "-m", "http.server", "-b", HOST_IP, "-d", www, str(PORT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True), "python http.server"
    for _ in range(50):
        r = subprocess.run(nsx + [sys.executable, "-c", "import socket; socket."
                                  "create_connection(('%s', %d), 1)" % (HOST_IP, PORT)],
                           capture_output=True)
        if r.returncode == 0:
            break
        time.sleep(0.1)
    return proc, name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--neoboot", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--fetch", required=True, help="the SDK's fetch.wasm")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--machine", default="pc")
    ap.add_argument("--mem", default="512M", help="for both (iPXE keeps the file in RAM)")
    ap.add_argument("--accel", default="auto")
    ap.add_argument("--logs", help="write each run's console (timestamped) here")
    args = ap.parse_args()
    # Skipping returns 0 so that `make bench` carries on with the others.
    if os.geteuid() != 0:
        print("bench/pc: skipped: needs root (a network namespace with a TAP device)")
        return 0
    for tool in ("qemu-system-x86_64", "dnsmasq", "ip"):
        if not shutil.which(tool):
            print("bench/pc: skipped: %s not installed (scripts/setup.sh)" % tool)
            return 0
    have_ipxe = os.path.exists(IPXE)

    ns = "nbbench%d" % os.getpid()
    nsx = ["ip", "netns", "exec", ns]
    tap = "nbbtap0"
    tmp = tempfile.mkdtemp(prefix="nbbench")
    procs = []
    try:
        net_up(nsx, ns, tap)
        www = os.path.join(tmp, "www")
        os.mkdir(www)
        size = args.size_mib << 20
        with open(os.path.join(www, "big.bin"), "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1 << 20))
        url = "http://%s:%d/big.bin" % (HOST_IP, PORT)
        with open(os.path.join(www, "bench.ipxe"), "w") as f:
            # (Debian's 2019 iPXE has no poweroff command: the bench stops QEMU)
            f.write("#!ipxe\necho FETCH\nimgfetch %s\necho DONE\nimgstat\n" % url)

        procs.append(start_dnsmasq(
            nsx, tap, tmp, ["--dhcp-boot=http://%s:%d/bench.ipxe" % (HOST_IP, PORT)],
            os.path.join(args.logs, "dnsmasq.log") if args.logs else None))
        web, server = start_web(nsx, tmp, www)
        procs.append(web)

        bundle = os.path.join(tmp, "fetch.bundle")
        run([args.neoboot, "image", "bundle", "--app", args.fetch, "--args",
             "-n -q --no-hash " + url, "--allow-connect", "tcp:%s:%d" % (HOST_IP, PORT),
             "--on-exit", "poweroff", "-o", bundle])

        accel = args.accel
        if accel == "auto":
            accel = "kvm" if kvm_works(args.image, nsx) else "tcg"
        cpu = "host" if accel == "kvm" else "max"
        dev = "virtio-net-device" if args.machine.startswith("microvm") else "virtio-net-pci"
        sercon = os.path.join(tmp, "sercon")
        with open(sercon, "wb") as f:
            f.write(b"\xf8\x03")  # SeaBIOS: copy the BIOS console to COM1 (0x3f8)

        def qemu(extra, mem=args.mem):
            return nsx + ["qemu-system-x86_64", "-accel", accel, "-M", args.machine,
                          "-cpu", cpu, "-m", mem, "-nodefaults", "-vga", "none",
                          "-display", "none", "-serial", "stdio", "-no-reboot",
                          "-fw_cfg", "name=etc/sercon-port,file=" + sercon,
                          "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % tap,
                          "-device", dev + ",netdev=n0"] + extra

        timeout = 60 + args.size_mib * (1 if accel == "kvm" else 2)
        results = {"NeoBoot": [], "iPXE": []}
        for i in range(args.runs):
            vm = Vm(qemu(["-kernel", args.image, "-initrd", bundle]))
            try:
                t_up, _ = vm.wait(r"network up: eth0 10\.0\.2\.\d+/24", 60)
                t_run, _ = vm.wait(r"run: fetch: running", 30)
                t_done, m = vm.wait(r"fetch: HTTP (\d+), (\d+) bytes \([^)]*\) in ([\d.]+) s",
                                    timeout)
                if m.group(1) != "200" or int(m.group(2)) != size:
                    raise RuntimeError("NeoBoot fetch: " + m.group(0))
                dt = t_done - t_run
                results["NeoBoot"].append((t_up, size / dt / 2**20, size / float(m.group(3)) / 2**20))
                log("NeoBoot run %d: network up %.3f s, %d MiB in %.2f s (host) / %s s (guest)"
                    % (i + 1, t_up, args.size_mib, dt, m.group(3)))
            finally:
                vm.stop()
                vm.save(args.logs and os.path.join(args.logs, "neoboot-%d.log" % (i + 1)))
            if not have_ipxe:
                continue
            vm = Vm(qemu(["-kernel", IPXE]))
            try:
                # its command-line prompt waits ~2 s before DHCP starts
                t_prompt, _ = vm.wait(r"Press Ctrl-B for the iPXE command line", 60)
                t_up, _ = vm.wait(r"Configuring \(net0 [0-9a-f:]+\)\.*\s*ok", 60)
                t_f, _ = vm.wait(r"^FETCH", 30)
                t_d, _ = vm.wait(r"^DONE", timeout)
                st = [l for _, l in vm.lines if "big.bin" in l and "size" in l.lower()]
                dt = t_d - t_f
                results["iPXE"].append((t_up, size / dt / 2**20, t_up - t_prompt))
                log("iPXE run %d: network up %.3f s (%.3f s after its prompt), %d MiB in "
                    "%.2f s (host)%s" % (i + 1, t_up, t_up - t_prompt, args.size_mib, dt,
                                         (" [%s]" % st[-1].strip()) if st else ""))
            finally:
                vm.stop()
                vm.save(args.logs and os.path.join(args.logs, "ipxe-%d.log" % (i + 1)))

        # smallest -m that boots, gets a lease and runs the fetch app
        def fetch_ok(mem):
            vm = Vm(qemu(["-kernel", args.image, "-initrd", bundle], mem="%dM" % mem))
            try:
                vm.wait(r"NeoBoot pc|\*\*\* PANIC", 10)
                vm.wait(r"fetch: HTTP 200|PANIC|could not start|stopped after|"
                        r"no Ethernet", timeout)
                return any("fetch: HTTP 200" in l for _, l in vm.lines)
            except RuntimeError:
                return False
            finally:
                vm.stop()
        lo, hi = 8, 64
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if fetch_ok(mid):
                hi = mid
            else:
                lo = mid
        minmem = hi
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    def med(name, k):
        v = [r[k] for r in results[name] if r[k] is not None]
        return statistics.median(v) if v else None

    nb_up, nb_rate, nb_grate = med("NeoBoot", 0), med("NeoBoot", 1), med("NeoBoot", 2)
    ip_up, ip_rate, ip_dhcp = med("iPXE", 0), med("iPXE", 1), med("iPXE", 2)
    print("NeoBoot (pc) vs iPXE %s: %s, %s, -m %s, virtio-net on TAP, %s serving "
          "%d MiB; medians of %d runs" % (os.path.basename(IPXE), accel.upper(), args.machine,
                                          args.mem, server, args.size_mib, args.runs))
    print("%-32s %12s %12s %10s" % ("", "NeoBoot", "iPXE", "ratio"))
    if ip_up:
        print("%-32s %11.3fs %11.3fs %9.2fx" % ("QEMU start -> network up", nb_up, ip_up,
                                                ip_up / nb_up))
        print("%-32s %10.1f/s %10.1f/s %9.2fx" % ("download MiB/s (host-timed)", nb_rate,
                                                  ip_rate, nb_rate / ip_rate))
    else:
        print("%-32s %11.3fs %12s" % ("QEMU start -> network up", nb_up, "n/a"))
        print("%-32s %10.1f/s %12s" % ("download MiB/s (host-timed)", nb_rate, "n/a"))
    print("%-32s %10.1f/s" % ("download MiB/s (guest clock)", nb_grate))
    if ip_dhcp is not None:
        print("(iPXE: %.3f s of its time to network up is after its 'Press Ctrl-B' prompt, "
              "i.e. DHCP itself)" % ip_dhcp)
    img = os.path.getsize(args.image)
    stripped = os.path.join(tempfile.gettempdir(), "nbbench-stripped.elf")
    subprocess.run(["strip", "-o", stripped, args.image], capture_output=True)
    ssize = os.path.getsize(stripped) if os.path.exists(stripped) else 0
    if os.path.exists(stripped):
        os.unlink(stripped)
    print("NeoBoot image: %d bytes (%d stripped), bundle with fetch.wasm +%d bytes; "
          "ipxe.lkrn %s bytes" % (img, ssize, os.path.getsize(args.fetch),
                                  os.path.getsize(IPXE) if have_ipxe else "n/a"))
    print("smallest -m for NeoBoot to boot, get a lease and fetch: %d MiB" % minmem)
    print("(ratio: above 1 means NeoBoot is better -- faster to network up, higher throughput)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
