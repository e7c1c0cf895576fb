#!/usr/bin/env python3
"""Network boot in QEMU: NeoBoot's netboot.wasm boots Debian's own kernel.

    netboot_qemu.py --image ELF --neoboot BIN --apps DIR --kernel VMLINUZ netboot
    netboot_qemu.py ... baddigest

netboot: an image bundling netboot.wasm (connect and boot capabilities)
boots under QEMU (TCG) on slirp, whose DHCP gives the manifest's URL as the
boot file. python's http.server on the host (127.0.0.1, the guest's
10.0.2.2) serves the manifest, Debian's kernel and an initramfs made here
around busybox-static whose /init prints a marker and powers off. The
marker must appear, with the manifest's command line.

baddigest: the manifest names a wrong sha256 for the initrd: NeoBoot must
refuse to boot, say which file failed, and leave a usable console shell.
"""
import argparse
import hashlib
import json
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


def cmd_netboot(args, tmp):
    www = prepare(args, tmp)
    port = free_port()
    server = pc_qemu.start_server([], "127.0.0.1", port, www)
    q = None
    try:
        img = build_image(args, tmp, port)
        q = Qemu(img, "pc", mem="512M", net=slirp("http://10.0.2.2:%d/manifest.json" % port))
        q.start()
        _, _, t_up = q.wait_for(r"DHCP bound", 60)
        _, _, t_boot = q.wait_for(r"netboot: booting: " + CMDLINE, 120)
        _, _, t_linux = q.wait_for(r"Linux version \d", 60, fatal=False) or (0, 0, 0)
        _, _, t_marker = q.wait_for(MARKER, 120)
        q.wait_for(r"kernel command line: .*neoboot\.netboot=test", 30)
        q.proc.wait(60)  # the init powers the machine off
        log("ok: Linux init reached: network up %.2f s, booting at %.2f s, marker at %.2f s "
            "after QEMU start" % (t_up, t_boot, t_marker))
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--neoboot", required=True)
    ap.add_argument("--apps", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("test", choices=["netboot", "baddigest"])
    args = ap.parse_args()
    try:
        pc_qemu.check_qemu()
        if not os.path.exists(args.kernel):
            raise Fail("no kernel at %s: run scripts/setup.sh" % args.kernel)
        if not (shutil.which("busybox") or os.path.exists("/bin/busybox")):
            raise Skip("busybox-static is not installed (scripts/setup.sh installs it)")
        with tempfile.TemporaryDirectory(prefix="nbnetboot") as tmp:
            {"netboot": cmd_netboot, "baddigest": cmd_baddigest}[args.test](args, tmp)
    except Skip as e:
        log("SKIP: %s" % e)
        sys.exit(77)
    except (Fail, subprocess.CalledProcessError) as e:
        log("FAIL: %s" % e)
        sys.exit(1)


if __name__ == "__main__":
    main()
