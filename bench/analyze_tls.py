"""The TLS section of docs/benchmarks.md: kenshin's TLS audit beside testssl.sh.

    analyze_tls.py WORK RUNS TESTSSL_VERSION PORT...   the section, from bench/run.sh's files
    analyze_tls.py --carry PREVIOUS.md                 the section of an earlier document
    analyze_tls.py --splice DOC SECTION.md             puts SECTION.md into DOC in place
"""
import json
import re
import statistics
import sys
from pathlib import Path

BEGIN, END = "<!-- tls:begin -->", "<!-- tls:end -->"
SERVERS = {
    4431: "legacy: TLS 1.0–1.2, every suite at @SECLEVEL=0",
    4432: "TLS 1.2 only, ECDHE + AEAD, server order",
    4433: "TLS 1.3 only",
    4434: "RSA-1024 SHA-1 expired self-signed certificate",
    4435: "ECDSA chain under the lab CA, TLS 1.2–1.3",
    4436: "certificate for another name",
    21: "vsftpd, AUTH TLS",
    25: "Postfix, STARTTLS",
}
VERSIONS = {"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLS1": "TLSv1.0", "TLS1_1": "TLSv1.1",
            "TLS1_2": "TLSv1.2", "TLS1_3": "TLSv1.3"}
CIPHER = re.compile(r"cipher-(tls1_3|tls1_2|tls1_1|tls1|ssl3)_x([0-9a-f]+)$")
CIPHER_VERSION = {"tls1_3": "TLSv1.3", "tls1_2": "TLSv1.2", "tls1_1": "TLSv1.1", "tls1": "TLSv1.0",
                  "ssl3": "SSLv3"}


def section_of(text):
    if BEGIN in text and END in text:
        return text[text.index(BEGIN):text.index(END) + len(END)]
    return None


def wall(work, name):
    start, end = (float(x) for x in (work / f"{name}.wall").read_text().split())
    return end - start


def conns(work, name):
    return int((work / f"{name}.conns").read_text().strip() or 0)


def testssl_verdicts(path):
    findings = json.loads(path.read_text())
    versions = {VERSIONS[f["id"]] for f in findings
                if f["id"] in VERSIONS and f["finding"].startswith("offered")}
    suites = {}
    for f in findings:
        m = CIPHER.match(f["id"])
        if m:
            suites.setdefault(CIPHER_VERSION[m.group(1)], set()).add(int(m.group(2), 16))
    return versions, suites


def kenshin_verdicts(path, port):
    report = json.loads(path.read_text())
    for h in report["hosts"]:
        for s in h["services"]:
            if s["port"] == port and s.get("tls"):
                t = s["tls"]
                suites = {}
                for x in t["suites"]:
                    suites.setdefault(x["version"], set()).add(int(x["code"], 16))
                return set(t["versions"]), suites, t["handshakes"], t["duration_ms"] / 1000
    return set(), {}, 0, float("nan")


def section(work, runs, testssl_version, ports):
    out = [BEGIN, "## TLS audit beside testssl.sh", ""]
    out += [
        "Written by `bench/run.sh` (`SECTIONS=tls bench/run.sh` re-measures this section alone).",
        "",
        f"- Servers: the lab's TLS segment, 198.18.3.10 (real nginx with Debian's OpenSSL, vsftpd, Postfix), with no loss",
        "  on the link. Each server is measured alone: the whole `kenshin scan 198.18.3.10 -p PORT` (discovery, port",
        "  scan, identification and the TLS audit, default settings: one connection at a time, 50 ms between",
        f"  handshakes) against {testssl_version} `-p -E` (protocols, and the ciphers of each protocol: its narrowest",
        "  run that gives the same verdicts), then one default testssl.sh run per server for scale.",
        "- Connections: TCP SYNs to the server counted by nftables in the server's namespace, everything included.",
        f"- {runs} rounds; medians. \"Verdicts agree\" compares the accepted versions and the accepted suites of every",
        "  version, code point by code point, in every round.",
        "",
        "| port | server | kenshin TLS audit | kenshin whole scan | kenshin connections (handshakes) | testssl.sh -p -E | testssl.sh -p -E connections | time ratio: audit / whole scan | connection ratio | verdicts agree | testssl.sh default: wall / connections |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    tot = {"ka": 0.0, "kw": 0.0, "kc": 0, "tw": 0.0, "tc": 0, "fw": 0.0, "fc": 0}
    all_agree = True
    for port in ports:
        kw = [wall(work, f"tls-kenshin-{port}-{i}") for i in range(1, runs + 1)]
        kc = [conns(work, f"tls-kenshin-{port}-{i}") for i in range(1, runs + 1)]
        tw = [wall(work, f"tls-testssl-{port}-{i}") for i in range(1, runs + 1)]
        tc = [conns(work, f"tls-testssl-{port}-{i}") for i in range(1, runs + 1)]
        agree = 0
        handshakes, audit = [], []
        for i in range(1, runs + 1):
            kv, ks, hs, secs = kenshin_verdicts(work / f"tls-kenshin-{port}-{i}" / "report.json", port)
            tv, ts = testssl_verdicts(work / f"tls-testssl-{port}-{i}.json")
            handshakes.append(hs)
            audit.append(secs)
            agree += kv == tv and ks == ts
        all_agree &= agree == runs
        fw, fc = wall(work, f"tls-testsslfull-{port}"), conns(work, f"tls-testsslfull-{port}")
        m = {k: statistics.median(v) for k, v in (("ka", audit), ("kw", kw), ("kc", kc), ("tw", tw), ("tc", tc))}
        for k in m:
            tot[k] += m[k]
        tot["fw"] += fw
        tot["fc"] += fc
        out.append(
            f"| {port} | {SERVERS.get(int(port), '')} | {m['ka']:.1f} s | {m['kw']:.1f} s | {m['kc']:.0f} ({statistics.median(handshakes):.0f}) "
            f"| {m['tw']:.1f} s | {m['tc']:.0f} | {m['tw'] / m['ka']:.1f}× / {m['tw'] / m['kw']:.1f}× | {m['tc'] / max(m['kc'], 1):.2f}× "
            f"| {agree}/{runs} | {fw:.0f} s / {fc} |"
        )
    out.append(
        f"| all | | {tot['ka']:.1f} s | {tot['kw']:.1f} s | {tot['kc']:.0f} | {tot['tw']:.1f} s | {tot['tc']:.0f} "
        f"| {tot['tw'] / tot['ka']:.1f}× / {tot['tw'] / tot['kw']:.1f}× | {tot['tc'] / max(tot['kc'], 1):.2f}× | {'yes' if all_agree else '**no**'} "
        f"| {tot['fw']:.0f} s / {tot['fc']} |"
    )
    ok = lambda b: "met" if b else "**not met**"
    t_ratio, w_ratio, c_ratio = tot["tw"] / tot["ka"], tot["tw"] / tot["kw"], tot["tc"] / max(tot["kc"], 1)
    out += [
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| the same protocol and suite verdicts as testssl.sh | {'every server, every round' if all_agree else 'see the table'} | {ok(all_agree)} |",
        f"| ≥ 5× less time than testssl.sh (same verdicts: `-p -E`) | the TLS audit {t_ratio:.1f}× faster over the {len(ports)} servers; the whole scan, identification included, {w_ratio:.1f}× | {ok(t_ratio >= 5)} (audit) |",
        f"| ≥ 5× fewer connections than testssl.sh (same verdicts: `-p -E`) | {c_ratio:.2f}× | {ok(c_ratio >= 5)} |",
        f"| against testssl.sh's default run | {tot['fw'] / tot['ka']:.1f}× less time (audit), {tot['fw'] / tot['kw']:.1f}× (whole scan), {tot['fc'] / max(tot['kc'], 1):.1f}× fewer connections | |",
        "",
        "Reading the time figures: \"kenshin TLS audit\" is the report's `tls.duration_ms`, the audit alone, pauses",
        "included; \"whole scan\" is the `kenshin scan` command, which also port-scans and identifies the service",
        "first. These lab ports are not in kenshin's catalog, so identification listens 2.5 s for a banner before it",
        "tries TLS, as it must on an unknown port; on 443 and the other TLS ports of the catalog it starts with TLS.",
        "",
        "Reading the connection figures: a ServerHello names one suite, so knowing exactly which suites a server",
        "accepts takes at least one handshake per accepted (version, suite) pair plus one refusal per version and",
        "offer. kenshin's elimination is at that bound (plus the key-exchange groups, found the same way, SSLv2,",
        "and one reversed hello per version to tell server from client preference). testssl.sh's `-E` enumerates",
        "by elimination as well, so against it the connection target cannot be met on a server that accepts many",
        "suites; the ratio grows with what testssl.sh does beyond the enumeration (its default run).",
        END,
    ]
    return "\n".join(out) + "\n"


def main():
    if sys.argv[1] == "--carry":
        prev = Path(sys.argv[2])
        found = section_of(prev.read_text()) if prev.exists() else None
        print(found or f"{BEGIN}\n## TLS audit beside testssl.sh\n\nNot measured yet: run `SECTIONS=tls bench/run.sh`.\n{END}")
        return
    if sys.argv[1] == "--splice":
        doc, part = Path(sys.argv[2]), Path(sys.argv[3]).read_text().strip() + "\n"
        text = doc.read_text() if doc.exists() else "# Benchmarks\n"
        old = section_of(text)
        text = text.replace(old, part.strip()) if old else text.rstrip() + "\n\n" + part
        doc.write_text(text if text.endswith("\n") else text + "\n")
        return
    work, runs, version = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ports = [int(p) for p in sys.argv[4:]]
    sys.stdout.write(section(work, runs, version, ports))


if __name__ == "__main__":
    main()
