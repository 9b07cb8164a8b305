#!/usr/bin/env python3
"""Adds the bytes a real scan received to the fuzz seed corpus.

    fuzz/seeds.py REPORT_DIR/report.json [SOURCE]

Every evidence record's received bytes are split into protocol messages and
written to fuzz/corpus/<target>/<source>-<probe>-<sha1 prefix>. The lab's
daemons (OpenSSH, vsftpd, inetutils telnetd, Samba, net-snmp, DCMTK storescp,
TigerVNC, nginx and vsftpd over TLS) are the source of the committed seeds: `cargo test` replays every
file through kenshin-wire's fuzzing properties (agent/wire/tests/corpus.rs).
"""
import base64, hashlib, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def save(target, source, probe, data):
    if not data:
        return
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = f"{source}-{probe}-{hashlib.sha1(data).hexdigest()[:10]}"
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def split(data, length_of):
    out, rest = [], data
    while rest:
        n = length_of(rest)
        if n is None or n > len(rest):
            out.append(rest)
            break
        out.append(rest[:n])
        rest = rest[n:]
    return out


def netbios_len(b):
    return 4 + (b[1] << 16 | b[2] << 8 | b[3]) if len(b) >= 4 else None


def dicom_len(b):
    return 6 + int.from_bytes(b[2:6], "big") if len(b) >= 6 else None


def main():
    report = json.load(open(sys.argv[1]))
    source = sys.argv[2] if len(sys.argv) > 2 else "lab"
    for e in report["evidence"]:
        data = base64.b64decode(e["received"])
        probe = e["probe"]
        if not data:
            continue
        if probe in ("banner", "tls-banner"):
            save("banner", source, probe, data)
            if data.startswith(b"SSH-"):
                save("ssh", source, probe, data)
            elif data.startswith(b"RFB "):
                save("rfb", source, probe, data)
            elif data[0] == 0xFF:
                save("telnet", source, probe, data)
            else:
                save("greeting", source, probe, data)
        elif probe in ("smb1-negotiate", "smb2-negotiate"):
            for m in split(data, netbios_len):
                save("smb", source, probe, m)
                at = m.find(b"NTLMSSP\0")
                if at >= 0:
                    save("ntlm", source, probe, m[at:])
        elif probe in ("dicom-associate", "tls-dicom-associate"):
            for m in split(data, dicom_len):
                save("dicom", source, probe, m)
        elif probe == "rdp-negotiate":
            save("rdp", source, probe, data)
        elif probe == "snmp-get":
            save("snmp", source, probe, data)
        elif probe in ("tls-hello", "tls-handshake"):
            # After a STARTTLS preamble, the flight starts at the first TLS record.
            at = min((i for i in (data.find(b"\x16\x03"), data.find(b"\x15\x03")) if i >= 0),
                     default=-1)
            if at >= 0:
                save("tls_flight", source, probe, data[at:])
            elif data[0] & 0x80:
                save("sslv2", source, probe, data)


if __name__ == "__main__":
    main()
