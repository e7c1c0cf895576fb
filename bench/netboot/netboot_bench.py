#!/usr/bin/env python3
"""Network boot of Linux: NeoBoot's netboot.wasm vs iPXE, QEMU start to init.

    netboot_bench.py --neoboot BIN --image neoboot.elf --netboot netboot.wasm
                     --kernel vmlinuz [--runs 3] [--machine pc] [--mem 512M]

Both boot the same Debian kernel and the same busybox initramfs (whose
/init prints a marker and powers off), fetched from the same nginx (or
python's http.server) over virtio-net on a TAP device in a network
namespace this script creates, in the same QEMU configuration, alternating
run by run. dnsmasq gives each its boot file: iPXE (user class "iPXE") a
script -- `kernel URL cmdline`, `initrd URL`, `boot` (iPXE's autoboot has
done the DHCP) -- and NeoBoot the manifest URL that netboot.wasm reads
(kernel, initrd, command line and the sha256 of each, all checked).

Times are taken on the host as the serial lines arrive: network up,
handoff to the kernel (NeoBoot: "netboot: booting"; iPXE: its "ok" after
the initrd), and the init marker. iPXE's console reaches the serial port
through SeaBIOS (sercon). Debian's ipxe.lkrn waits about 2 s at its
"Press Ctrl-B" prompt before DHCP; that is part of what a user of it gets,
and the table also shows iPXE's time with that wait taken out.

Needs root (namespace, TAP). Prints medians and NeoBoot/iPXE ratios.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pc"))
from pc_bench import (HOST_IP, IPXE, PORT, Vm, kvm_works, log, net_up, run,  # noqa: E402
                      start_dnsmasq, start_web)

MARKER = "NEOBOOT-LINUX-MARKER: init reached"
CMDLINE = "console=ttyS0 quiet panic=-1"


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--neoboot", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--netboot", required=True, help="the SDK's netboot.wasm")
    ap.add_argument("--kernel", required=True, help="a bzImage (scripts/setup.sh fetches "
                    "Debian's into third_party/linux/vmlinuz)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--machine", default="pc")
    ap.add_argument("--mem", default="512M")
    ap.add_argument("--accel", default="auto")
    ap.add_argument("--logs", help="write each run's console (timestamped) here")
    args = ap.parse_args()
    # Skipping returns 0 so that `make bench` carries on with the others.
    if os.geteuid() != 0:
        print("bench/netboot: skipped: needs root (a network namespace with a TAP device)")
        return 0
    for tool in ("qemu-system-x86_64", "dnsmasq", "ip", "busybox"):
        if not shutil.which(tool):
            print("bench/netboot: skipped: %s not installed (scripts/setup.sh)" % tool)
            return 0
    for f in (args.kernel, IPXE):
        if not os.path.exists(f):
            print("bench/netboot: skipped: %s missing (scripts/setup.sh)" % f)
            return 0

    ns = "nbnb%d" % os.getpid()
    nsx = ["ip", "netns", "exec", ns]
    tap = "nbntap0"
    tmp = tempfile.mkdtemp(prefix="nbnetbench")
    procs = []
    results = {"NeoBoot": [], "iPXE": []}
    try:
        net_up(nsx, ns, tap)
        www = os.path.join(tmp, "www")
        os.mkdir(www)
        shutil.copy(args.kernel, os.path.join(www, "vmlinuz"))
        subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "tests", "netboot",
                                                     "mkinitramfs.py"),
                        shutil.which("busybox"), MARKER, os.path.join(www, "initrd.cpio")],
                       check=True)
        base = "http://%s:%d/" % (HOST_IP, PORT)
        with open(os.path.join(www, "manifest.json"), "w") as f:
            json.dump({"kernel": {"url": "vmlinuz", "sha256": sha(os.path.join(www, "vmlinuz"))},
                       "initrd": {"url": "initrd.cpio",
                                  "sha256": sha(os.path.join(www, "initrd.cpio"))},
                       "cmdline": CMDLINE}, f)
        with open(os.path.join(www, "boot.ipxe"), "w") as f:
            f.write("#!ipxe\nkernel %svmlinuz %s\ninitrd %sinitrd.cpio\necho HANDOFF\nboot\n"
                    % (base, CMDLINE, base))
        sizes = (os.path.getsize(os.path.join(www, "vmlinuz")),
                 os.path.getsize(os.path.join(www, "initrd.cpio")))

        # a boot file by client: iPXE's user class gets the script, others
        # (netboot.wasm) the manifest
        procs.append(start_dnsmasq(nsx, tap, tmp, [
            "--dhcp-userclass=set:ipxe,iPXE",
            "--dhcp-boot=tag:ipxe," + base + "boot.ipxe",
            "--dhcp-boot=tag:!ipxe," + base + "manifest.json"]))
        web, server = start_web(nsx, tmp, www)
        procs.append(web)

        img = os.path.join(tmp, "netboot.elf")
        run([args.neoboot, "image", "build", "--app", args.netboot, "--allow-connect",
             "tcp:%s:%d" % (HOST_IP, PORT), "--allow-boot", "--base", args.image, "-o", img])

        accel = args.accel
        if accel == "auto":
            accel = "kvm" if kvm_works(args.image, nsx) else "tcg"
        cpu = "host" if accel == "kvm" else "max"
        sercon = os.path.join(tmp, "sercon")
        with open(sercon, "wb") as f:
            f.write(b"\xf8\x03")  # SeaBIOS: copy the BIOS console to COM1 (0x3f8)

        def qemu(extra):
            return nsx + ["qemu-system-x86_64", "-accel", accel, "-M", args.machine,
                          "-cpu", cpu, "-m", args.mem, "-nodefaults", "-vga", "none",
                          "-display", "none", "-serial", "stdio", "-no-reboot",
                          "-fw_cfg", "name=etc/sercon-port,file=" + sercon,
                          "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % tap,
                          "-device", "virtio-net-pci,netdev=n0"] + extra

        for i in range(args.runs):
            vm = Vm(qemu(["-kernel", img]))
            try:
                t_up, _ = vm.wait(r"network up: eth0 10\.0\.2\.\d+/24", 60)
                t_hand, _ = vm.wait(r"netboot: booting: ", 120)
                t_init, _ = vm.wait(MARKER, 180)
                results["NeoBoot"].append((t_up, t_hand, t_init, t_init))
                log("NeoBoot run %d: network up %.3f s, kernel handoff %.3f s, init %.3f s"
                    % (i + 1, t_up, t_hand, t_init))
            finally:
                vm.stop()
                vm.save(args.logs and os.path.join(args.logs, "neoboot-%d.log" % (i + 1)))
            vm = Vm(qemu(["-kernel", IPXE]))
            try:
                t_prompt, _ = vm.wait(r"Press Ctrl-B for the iPXE command line", 60)
                t_up, _ = vm.wait(r"Configuring \(net0 [0-9a-f:]+\)\.*\s*ok", 60)
                # the line's end may be lost: Linux resets the terminal right
                # after it on the same serial line
                t_hand, _ = vm.wait(r"^HANDO", 120)
                t_init, _ = vm.wait(MARKER, 180)
                # the prompt's line ends when its wait does: the wait is from
                # the line before it (the feature list)
                t_feat, _ = vm.wait(r"^Features: ", 1)
                wait = t_prompt - t_feat
                results["iPXE"].append((t_up, t_hand, t_init, t_init - wait))
                log("iPXE run %d: network up %.3f s, kernel handoff %.3f s, init %.3f s "
                    "(%.3f s at its Ctrl-B prompt)" % (i + 1, t_up, t_hand, t_init, wait))
            finally:
                vm.stop()
                vm.save(args.logs and os.path.join(args.logs, "ipxe-%d.log" % (i + 1)))
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
        return statistics.median(r[k] for r in results[name])

    print("Linux netboot, QEMU start to init: NeoBoot netboot.wasm vs iPXE %s; %s, %s, -m %s, "
          "virtio-net on TAP, %s serving a %.1f MiB kernel and a %.1f MiB initramfs; medians "
          "of %d runs" % (os.path.basename(IPXE), accel.upper(), args.machine, args.mem,
                          server, sizes[0] / 2**20, sizes[1] / 2**20, args.runs))
    print("%-34s %10s %10s %8s" % ("", "NeoBoot", "iPXE", "ratio"))
    for k, what in ((0, "QEMU start -> network up"), (1, "QEMU start -> kernel handoff"),
                    (2, "QEMU start -> Linux init marker")):
        nb, ip = med("NeoBoot", k), med("iPXE", k)
        print("%-34s %9.3fs %9.3fs %7.2fx" % (what, nb, ip, ip / nb))
    nb, ip = med("NeoBoot", 3), med("iPXE", 3)
    print("%-34s %9.3fs %9.3fs %7.2fx" % ("init, without iPXE's Ctrl-B wait", nb, ip, ip / nb))
    print("(ratio: iPXE's time over NeoBoot's; above 1 means NeoBoot is faster. NeoBoot "
          "also checks both files' sha256.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
