#!/usr/bin/env python3
"""Seed inputs for fuzz_inet (see fuzz_inet.c for the record format):
a DHCP offer and ack, DNS answers, a TCP handshake and data, ICMP, ARP,
IPv6 router advertisement and neighbour solicitation."""
import os
import struct
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def rec(kind, body):
    return struct.pack("<BH", kind, len(body)) + body


def dhcp(msgtype, extra=b""):
    d = bytearray(240)
    d[16:20] = bytes([10, 0, 0, 2])  # yiaddr
    opts = bytes([53, 1, msgtype, 54, 4, 10, 0, 0, 1, 1, 4, 255, 255, 255, 0,
                  3, 4, 10, 0, 0, 1, 6, 4, 10, 0, 0, 1, 51, 4, 0, 0, 0, 120,
                  58, 4, 0, 0, 0, 4, 59, 4, 0, 0, 0, 7]) + extra + b"\xff"
    return bytes(d) + opts


def dns_answer(qtype, rdata):
    hdr = struct.pack("!HHHHHH", 0, 0x8180, 1, 1, 0, 0)
    q = b"\x04fuzz\x04test\x00" + struct.pack("!HH", qtype, 1)
    a = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 60, len(rdata)) + rdata
    return hdr + q + a


arp = rec(5, b"\x00")
seeds = {
    "dhcp": b"\x01" + rec(1, dhcp(2)) + rec(1, dhcp(5)) + rec(1, dhcp(6)),
    "dns": b"\x00" + arp + rec(2, dns_answer(1, bytes([1, 2, 3, 4])))
           + rec(2, dns_answer(28, bytes(16))) + rec(2, struct.pack("!HHHHHH", 0, 0x8183, 1, 0, 0, 0)),
    "tcp": b"\x00" + arp
           + rec(3, struct.pack("!HHIIBBHHH", 0, 0, 1000, 0, 0x50, 0x12, 65535, 0, 0))
           + rec(3, struct.pack("!HHIIBBHHH", 0, 0, 1001, 0, 0x50, 0x18, 65535, 0, 0) + b"data")
           + rec(3, struct.pack("!HHIIBBHHH", 0, 0, 1005, 0, 0x50, 0x11, 65535, 0, 0))
           + rec(3, struct.pack("!HHIIBBHHH", 0, 0, 5000, 0, 0x50, 0x04, 0, 0, 0) + b"x"),
    "cookie": b"\x02" + arp + rec(3, struct.pack("!HHIIBBHHH", 0, 0, 7, 0, 0x60, 0x02, 65535, 0, 0)
                                + b"\x02\x04\x05\xb4" + b"x")
              + rec(3, b"\x01" + struct.pack("!HIIBBHHH", 0, 8, 0, 0x50, 0x18, 65535, 0, 0)[1:]
                    + b"hello"),
    "syn": b"\x00" + arp + rec(3, struct.pack("!HHIIBBHHH", 0, 0, 7, 0, 0x60, 0x02, 65535, 0, 0)
                               + b"\x02\x04\x05\xb4" + b"x"),
    "icmp": b"\x00" + arp + rec(4, b"\x01\x00\x00\x00\x00\x00\x00\x01" + b"payload")
            + rec(4, b"\x03\x03\x00\x00\x00\x00\x00\x00" + bytes(28)),
    "udp": b"\x00" + arp + rec(6, b"hello") + rec(6, bytes(1300)),
    "ra": b"\x00" + rec(7, b"\x3a" + bytes([134, 0, 0, 0, 64, 0x40, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0])
                        + bytes([3, 4, 64, 0xc0, 0, 0, 1, 0, 0, 0, 0, 100, 0, 0, 0, 0])
                        + bytes([0xfd, 0, 0, 0x77] + [0] * 12)),
    "ns": b"\x00" + rec(7, b"\x3a" + bytes([135, 0, 0, 0, 0, 0, 0, 0]) + bytes(16)),
    "frame": b"\x00" + rec(0, bytes(6) + bytes(6) + b"\x08\x00" + bytes(30)),
}
# Inputs that once broke things, kept as regressions:
#  - a zero window in the SYN-ACK, then a tiny one: lwIP's tcp_write asserted
#  - an ICMPv6 error with no usable source: lwIP's ip_2_ip6(NULL)
import base64
seeds["regress-tiny-window"] = base64.b64decode(
    "AAUBAAADFAAAAAAAAAAD6AAAAABQEgAA/wAA/wMYAAAAAAAAAAPpAAAAAFAYAAPoAAAAAFASAAD/AAD/AxgAAAAAAAAA"
    "YXRhAxQAAAAAAAAAADAAAQAAAAAAAAAAAAAAAAD//////wAAAAD/AAAAUBH//ycAAAA/AAAAAAB4")
seeds["regress-icmp6-null"] = base64.b64decode(
    "AAUBAAAEDwABAAAAAAAEDwAAAAAAAAAP5gEAAAAAAAABcHlhbG9hZAQkAAMDAAAAAAAACAAAAAAAAABsb2FkBCQAAAAAAA==")
for name, data in seeds.items():
    with open(os.path.join(out, "inet-" + name), "wb") as f:
        f.write(data)
