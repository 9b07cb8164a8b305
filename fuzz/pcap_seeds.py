#!/usr/bin/env python3
"""Adds frames a listener heard to the `listen` fuzz seed corpus.

    fuzz/pcap_seeds.py CAPTURE.pcap [SOURCE]

Reads a classic pcap (tcpdump -w, Ethernet link type) and writes each distinct
frame that carries ARP, DHCP, LLDP, CDP, mDNS, SSDP, NBNS or IPv6 neighbour
discovery to fuzz/corpus/listen/<source>-<protocol>-<sha1 prefix>. The committed
`lab-*` seeds were heard in a lab namespace from lldpd 1.0.16 (LLDP, LLDP-MED and
forced CDPv1), avahi-daemon 0.8 announcing an IPP printer, the Linux kernel's
neighbour discovery, and small senders of a DHCPDISCOVER, an SSDP NOTIFY and a
NetBIOS name registration. `cargo test -p kenshin-wire` replays them
(agent/wire/tests/corpus.rs) and reads them as captured bytes (tests/captured.rs).
"""
import hashlib, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    pos = 24
    while pos + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[pos:pos + 16])
        yield data[pos + 16:pos + 16 + incl]
        pos += 16 + incl


def protocol(frame):
    if len(frame) < 14:
        return None
    dst, etype = frame[:6], struct.unpack("!H", frame[12:14])[0]
    body = frame[14:]
    if etype == 0x0806:
        return "arp"
    if etype == 0x88CC:
        return "lldp"
    if etype <= 1500 and dst == bytes.fromhex("01000ccccccc"):
        return "cdp"
    if etype == 0x0800 and len(body) >= 28 and body[9] == 17:
        ihl = (body[0] & 15) * 4
        sport, dport = struct.unpack("!HH", body[ihl:ihl + 4])
        ports = {sport, dport}
        for port, name in ((5353, "mdns"), (67, "dhcp"), (68, "dhcp"), (1900, "ssdp"), (137, "nbns")):
            if port in ports:
                return name
    if etype == 0x86DD and len(body) >= 41:
        if body[6] == 58 and body[40] in (133, 134, 135, 136):
            return "ndp"
        if body[6] == 17 and 5353 in struct.unpack("!HH", body[40:44]):
            return "mdns"
    return None


def main():
    path = sys.argv[1]
    source = sys.argv[2] if len(sys.argv) > 2 else "lab"
    out = os.path.join(HERE, "corpus", "listen")
    os.makedirs(out, exist_ok=True)
    for frame in frames(path):
        name = protocol(frame)
        if name is None:
            continue
        digest = hashlib.sha1(frame).hexdigest()[:10]
        with open(os.path.join(out, f"{source}-{name}-{digest}"), "wb") as f:
            f.write(frame)


if __name__ == "__main__":
    main()
