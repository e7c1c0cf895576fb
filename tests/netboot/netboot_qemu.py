#!/usr/bin/env python3
"""Network boot in QEMU: NeoBoot's netboot.wasm boots Debian's own kernel.

    netboot_qemu.py --image ELF --neoboot BIN --apps DIR --kernel VMLINUZ netboot
    netboot_qemu.py ... baddigest
    netboot_qemu.py ... netboot-uefi

netboot: an image bundling netboot.wasm (connect and boot capabilities)
boots under QEMU (TCG) on slirp, whose DHCP gives the manifest's URL as the
boot file. python's http.server on the host (127.0.0.1, the guest's
10.0.2.2) serves the manifest, Debian's kernel and an initramfs made here
around busybox-static whose /init prints a marker and powers off. The
marker must appear, with the manifest's command line.

netboot-uefi: the same, as on a real UEFI machine: OVMF boots the GRUB disk
`neoboot image iso` makes, GRUB starts NeoBoot through Multiboot2, and
NeoBoot hands over to Linux with the memory map and ACPI tables it got.

baddigest: the manifest names a wrong sha256 for the initrd: NeoBoot must
refuse to boot, say which file failed, and leave a usable console shell.

shell: the serial console driven as a person would: on a TAP in a network
namespace made here (the Linux side is 10.0.2.2, dnsmasq gives the lease and
answers DNS, python's http.server serves a file), `dhcp`, `ping 10.0.2.2`,
`dns`, `wget` by name with a sha256 check, tab completion, history, `stats`.

chain: an image bundling a test app that takes memory and sleeps; `chain`
to a copy fetched with wget, 100 times; each time the new app must run, and
afterwards the heap (bytes and allocations) must equal what it was after a
single chain.
"""
import argparse
import hashlib
import json
import re
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pc"))
import pc_qemu  # noqa: E402  (the Qemu runner, servers, Fail/Skip)
from pc_qemu import Fail, Skip, Qemu, log  # noqa: E402

MARKER = "NEOBOOT-LINUX-MARKER: init reached"
CMDLINE = "console=ttyS0 quiet neoboot.netboot=test"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def prepare(args, tmp):
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    shutil.copy(args.kernel, os.path.join(www, "vmlinuz"))
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "mkinitramfs.py"),
                    shutil.which("busybox") or "/bin/busybox", MARKER,
                    os.path.join(www, "initrd.cpio")], check=True)
    k, i = sha(os.path.join(www, "vmlinuz")), sha(os.path.join(www, "initrd.cpio"))
    with open(os.path.join(www, "manifest.json"), "w") as f:
        json.dump({"kernel": {"url": "vmlinuz", "sha256": k},
                   "initrd": {"url": "initrd.cpio", "sha256": i},
                   "cmdline": CMDLINE}, f)
    with open(os.path.join(www, "bad.json"), "w") as f:
        json.dump({"kernel": {"url": "vmlinuz", "sha256": k},
                   "initrd": {"url": "initrd.cpio", "sha256": "0" * 64},
                   "cmdline": CMDLINE}, f)
    return www


def build_image(args, tmp, port, *extra):
    out = os.path.join(tmp, "netboot.elf")
    cmd = [args.neoboot, "image", "build", "--app", os.path.join(args.apps, "netboot.wasm"),
           "--allow-connect", "tcp:10.0.2.2:%d" % port, "--allow-boot",
           "--base", args.image, "-o", out] + list(extra)
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def slirp(bootfile=None):
    nd = "user,id=n0,restrict=off"
    if bootfile:
        nd += ",bootfile=" + bootfile
    return ["-netdev", nd, "-device", "virtio-net-pci,netdev=n0"]


def cmd_netboot(args, tmp, uefi=False):
    www = prepare(args, tmp)
    port = free_port()
    server = pc_qemu.start_server([], "127.0.0.1", port, www)
    q = None
    try:
        img = build_image(args, tmp, port)
        net = slirp("http://10.0.2.2:%d/manifest.json" % port)
        if uefi:
            # as on a real UEFI machine: OVMF boots the GRUB disk `image iso`
            # makes, GRUB starts NeoBoot, NeoBoot hands over to Linux (with
            # the memory map and ACPI tables it got through Multiboot2)
            if not os.path.exists(pc_qemu.OVMF) or not shutil.which("grub-mkrescue"):
                raise Skip("OVMF or grub-mkrescue missing (scripts/setup.sh installs them)")
            iso = os.path.join(tmp, "netboot.iso")
            subprocess.run([args.neoboot, "image", "iso", img, "-o", iso], check=True,
                           stdout=subprocess.DEVNULL)
            q = Qemu(iso, "q35", mem="512M", net=net, cdrom=True, bios=pc_qemu.OVMF)
            q.start()
            q.wait_for(r"booted by GRUB", 120)
        else:
            q = Qemu(img, "pc", mem="512M", net=net)
            q.start()
        _, _, t_up = q.wait_for(r"DHCP bound", 60)
        _, _, t_boot = q.wait_for(r"netboot: booting: " + CMDLINE, 120)
        _, _, t_linux = q.wait_for(r"Linux version \d", 60, fatal=False) or (0, 0, 0)
        _, _, t_marker = q.wait_for(MARKER, 120)
        q.wait_for(r"kernel command line: .*neoboot\.netboot=test", 30)
        q.proc.wait(60)  # the init powers the machine off
        log("ok: Linux init reached%s: network up %.2f s, booting at %.2f s, marker at %.2f s "
            "after QEMU start" % (" (UEFI, GRUB, Multiboot2)" if uefi else "",
                                  t_up, t_boot, t_marker))
    finally:
        if q:
            q.stop()
        pc_qemu.stop(server)


def cmd_baddigest(args, tmp):
    www = prepare(args, tmp)
    port = free_port()
    server = pc_qemu.start_server([], "127.0.0.1", port, www)
    q = None
    try:
        img = build_image(args, tmp, port, "--arg", "http://10.0.2.2:%d/bad.json" % port,
                          "--arg", "--retries", "--arg", "2")
        q = Qemu(img, "pc", mem="512M", net=slirp())
        q.start()
        q.wait_for(r"attempt 1 of 2 failed: boot: initrd sha256 mismatch", 120)
        i, _, _ = q.wait_for(r"giving up: boot: initrd sha256 mismatch", 60)
        q.wait_for(r"the shell is ready|neoboot> ", 30, start=i)
        if q.wait_for(MARKER, 1, fatal=False):
            raise Fail("Linux booted despite a wrong digest")
        time.sleep(0.5)
        n = len(q.lines)
        q.send("files\r")
        q.wait_for(r"vmlinuz|initrd|0 files", 20, start=n)
        n = len(q.lines)
        q.send("stats\r")
        q.wait_for(r"iface eth0: ethernet up", 20, start=n)
        log("ok: a wrong initrd digest is refused with the file named; the shell answers")
    finally:
        if q:
            q.stop()
        pc_qemu.stop(server)


def command(q, line, expect, timeout=30):
    """Type line on the serial console; wait for expect in what follows.
    Returns (index, match)."""
    n = len(q.lines)
    q.send(line + "\r")
    i, m, _ = q.wait_for(expect, timeout, start=n)
    return i, m


def netns_tap(tmp):
    """A namespace with a TAP whose Linux side is 10.0.2.2/24, dnsmasq
    (DHCP and DNS for bootserver.test) and http.server on port 8000.
    Returns (ns, cleanup)."""
    for tool in ("ip", "dnsmasq"):
        if not shutil.which(tool):
            raise Skip("%s not installed (iproute2, dnsmasq-base; scripts/setup.sh)" % tool)
    if not os.path.exists("/dev/net/tun"):
        raise Skip("/dev/net/tun missing: no TAP devices here")
    if os.geteuid() != 0:
        raise Skip("not root: cannot make a network namespace with a TAP (CI runs as root)")
    ns = "nbsh%d" % os.getpid()
    nsx = ["ip", "netns", "exec", ns]
    procs = []

    def cleanup():
        for p in procs:
            pc_qemu.stop(p)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    try:
        pc_qemu.run(["ip", "netns", "add", ns])
        pc_qemu.run(nsx + ["ip", "link", "set", "lo", "up"])
        pc_qemu.run(nsx + ["ip", "tuntap", "add", "dev", "nbtap0", "mode", "tap"])
        pc_qemu.run(nsx + ["ip", "addr", "add", "10.0.2.2/24", "dev", "nbtap0"])
        pc_qemu.run(nsx + ["ip", "link", "set", "nbtap0", "up"])
        procs.append(subprocess.Popen(
            nsx + ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
                   "--no-hosts", "--interface=nbtap0", "--bind-interfaces", "--no-ping",
                   "--dhcp-range=10.0.2.15,10.0.2.15,255.255.255.0,1h",
                   "--dhcp-option=3,10.0.2.2", "--dhcp-option=6,10.0.2.2",
                   "--address=/bootserver.test/10.0.2.2",
                   "--dhcp-leasefile=" + os.path.join(tmp, "leases"), "--log-facility=-"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        www = os.path.join(tmp, "www")
        os.makedirs(www, exist_ok=True)
        procs.append(pc_qemu.start_server(nsx, "10.0.2.2", 8000, www))
    except BaseException:
        cleanup()
        raise
    return ns, www, cleanup


def cmd_shell(args, tmp):
    ns, www, cleanup = netns_tap(tmp)
    q = None
    try:
        blob = os.path.join(www, "blob.bin")
        with open(blob, "wb") as f:
            f.write(os.urandom(3 << 20))
        digest = sha(blob)
        net = ["-netdev", "tap,id=n0,ifname=nbtap0,script=no,downscript=no",
               "-device", "virtio-net-pci,netdev=n0"]
        # the base image: no app, so the shell starts once the network is up
        q = Qemu(args.image, "pc", mem="64M", net=net, prefix=["ip", "netns", "exec", ns])
        q.start()
        q.wait_for(r"network up: eth0 10\.0\.2\.15/24", 60)
        q.wait_for(r"the shell is ready", 30)
        time.sleep(0.3)
        command(q, "dhcp", r"dhcp bound server 10\.0\.2\.2")
        command(q, "ifconfig", r"10\.0\.2\.15/24")
        command(q, "ping -c 3 10.0.2.2", r"3 sent, 3 received, 0% loss", 60)
        command(q, "dns bootserver.test", r"bootserver\.test has .*address 10\.0\.2\.2")
        command(q, "dns nosuchname.test", r"nosuchname\.test: not found")
        _, m = command(q, "wget http://bootserver.test:8000/blob.bin",
                       r"blob\.bin: (\d+) bytes .* in ([\d.]+) s, (.*)/s", 120)
        if int(m.group(1)) != 3 << 20:
            raise Fail("wget: %s bytes, want %d" % (m.group(1), 3 << 20))
        rate = m.group(3)
        command(q, "sha256 blob.bin " + digest, r"sha256: OK")
        command(q, "sha256 blob.bin " + "0" * 64, r"sha256: MISMATCH")
        command(q, "wget http://bootserver.test:8000/missing", r"HTTP 404")
        command(q, "boot blob.bin console=ttyS0", r"not a Linux kernel")
        # tab completes "sta" to "stats"; then Up brings the line back
        i, _ = command(q, "sta\t", r"iface eth0: ethernet up")
        q.wait_for(r"inet: lwIP", 10, start=i - 5)
        command(q, "\x1b[A", r"iface eth0: ethernet up")
        command(q, "help wget", r"wget URL")
        command(q, "nosuchcommand", r"unknown command")
        if os.environ.get("NB_DUMP"):
            q.dump(200)
        log("ok: dhcp, ping, dns, wget (3 MiB, %s/s) with sha256, tab and history over the "
            "serial console" % rate)
    finally:
        if q:
            q.stop()
        cleanup()


def heap(q):
    """(bytes used, live allocations) from the pc command's heap line."""
    _, m = command(q, "pc", r"heap: \d+ KiB total, (\d+) bytes used .* in (\d+) allocations")
    return int(m.group(1)), int(m.group(2))


def cmd_chain(args, tmp):
    if not os.path.exists(args.hold):
        raise Fail("no test app at %s (the build makes it)" % args.hold)
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    shutil.copy(args.hold, os.path.join(www, "hold.wasm"))
    port = free_port()
    server = pc_qemu.start_server([], "127.0.0.1", port, www)
    q = None
    try:
        img = os.path.join(tmp, "hold.elf")
        pc_qemu.run([args.neoboot, "image", "build", "--app", args.hold, "--name", "first",
                     "--base", args.image, "-o", img])
        # a key during neoboot.autoboot's wait: the shell, not the app
        q = Qemu(img, "pc", mem="128M", net=slirp(), append="neoboot.autoboot=30")
        q.start()
        q.wait_for(r"Press any key within 30 s for the shell", 60)
        q.send(" ")
        q.wait_for(r"a key was pressed: the shell instead of the app", 10)
        command(q, "app", r"state: not started")
        if any("hold: first running" in line for _, line in q.lines):
            raise Fail("the app started although a key was pressed")
        q.stop()
        log("ok: a key at start-up gives the shell instead of the app")
        q = Qemu(img, "pc", mem="128M", net=slirp())
        q.start()
        q.wait_for(r"hold: first running", 60)
        time.sleep(0.3)
        command(q, "wget http://10.0.2.2:%d/hold.wasm" % port, r"^sha256 [0-9a-f]{64}", 60)

        def chain_once():
            n = len(q.lines)
            q.send("chain hold.wasm\r")
            q.wait_for(r"chained: hold\.wasm starts", 30, start=n)
            q.wait_for(r"hold: \S+ running", 30, start=n)

        # warm up: the boot-time app chained once and stopped, then the
        # same from the shell; what is allocated once for good is now
        chain_once()
        command(q, "stop", r"stopped after")
        q.wait_for(r"the shell is ready", 10)
        for rounds in (1, 100):
            command(q, "run bundled", r"hold: first running")
            n = len(q.lines)
            for _ in range(rounds):
                chain_once()
            ran = sum(1 for _, line in q.lines[n:] if re.search(r"hold: \S+ running", line))
            if ran != rounds:
                raise Fail("%d chains but the app ran %d times" % (rounds, ran))
            # the measure can see a leak: a live instance holds its memory
            running = heap(q)
            command(q, "stop", r"hold\.wasm stopped after")
            time.sleep(0.3)
            used, allocs = heap(q)
            if rounds == 1:
                base = (used, allocs)
                log("after 1 chain: heap %d bytes in %d allocations" % base)
        log("after 100 chains: heap %d bytes in %d allocations (%d while the app ran)" %
            (used, allocs, running[0]))
        if running[0] < used + (1 << 20):
            raise Fail("a running app's heap (%d bytes) is not above the idle heap (%d) by "
                       "its 1 MiB: the measure is blind" % (running[0], used))
        if (used, allocs) != base:
            raise Fail("chaining leaks: heap %d bytes in %d allocations after 100 chains, "
                       "%d in %d after one" % (used, allocs, base[0], base[1]))
        log("ok: 100 chains, the new app ran each time, the heap is back to %d bytes" % used)
    finally:
        if q:
            q.stop()
        pc_qemu.stop(server)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--neoboot", required=True)
    ap.add_argument("--apps", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--hold", default="")
    ap.add_argument("test", choices=["netboot", "netboot-uefi", "baddigest", "shell", "chain"])
    args = ap.parse_args()
    try:
        pc_qemu.check_qemu()
        if not os.path.exists(args.kernel):
            raise Fail("no kernel at %s: run scripts/setup.sh" % args.kernel)
        if not (shutil.which("busybox") or os.path.exists("/bin/busybox")):
            raise Skip("busybox-static is not installed (scripts/setup.sh installs it)")
        with tempfile.TemporaryDirectory(prefix="nbnetboot") as tmp:
            {"netboot": cmd_netboot, "baddigest": cmd_baddigest, "shell": cmd_shell,
             "chain": cmd_chain,
             "netboot-uefi": lambda a, t: cmd_netboot(a, t, uefi=True)}[args.test](args, tmp)
    except Skip as e:
        log("SKIP: %s" % e)
        sys.exit(77)
    except (Fail, subprocess.CalledProcessError) as e:
        log("FAIL: %s" % e)
        sys.exit(1)


if __name__ == "__main__":
    main()
