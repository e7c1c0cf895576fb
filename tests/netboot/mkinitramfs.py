#!/usr/bin/env python3
"""Build a tiny initramfs (newc cpio, uncompressed) around Debian's
busybox-static whose /init prints a marker line and powers the machine
off, so a test can see that Linux booted all the way to userspace.

usage: mkinitramfs.py BUSYBOX MARKER OUT.cpio
"""
import os
import stat
import sys


def entry(name, mode, data=b"", rdev=(0, 0), ino=[1000]):
    ino[0] += 1
    namez = name.encode() + b"\0"
    # newc: ino mode uid gid nlink mtime filesize devmajor devminor
    #       rdevmajor rdevminor namesize check
    hdr = "070701" + "".join("%08x" % v for v in (
        ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(namez), 0))
    out = hdr.encode() + namez
    out += b"\0" * ((4 - len(out) % 4) % 4)
    out += data
    out += b"\0" * ((4 - len(data) % 4) % 4)
    return out


def main():
    busybox, marker, out = sys.argv[1:4]
    init = ("#!/bin/busybox sh\n"
            "/bin/busybox mount -t proc proc /proc 2>/dev/null\n"
            f"echo '{marker}'\n"
            "echo \"kernel command line: $(/bin/busybox cat /proc/cmdline)\"\n"
            "/bin/busybox poweroff -f\n").encode()
    cpio = b""
    for d in ("bin", "proc", "dev"):
        cpio += entry(d, stat.S_IFDIR | 0o755)
    cpio += entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    cpio += entry("bin/busybox", stat.S_IFREG | 0o755, open(busybox, "rb").read())
    cpio += entry("bin/sh", stat.S_IFLNK | 0o777, b"busybox")
    cpio += entry("init", stat.S_IFREG | 0o755, init)
    cpio += entry("TRAILER!!!", 0)
    cpio += b"\0" * ((512 - len(cpio) % 512) % 512)
    with open(out, "wb") as f:
        f.write(cpio)


if __name__ == "__main__":
    main()
