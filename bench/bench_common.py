"""Shared readers for the bench-lab analyses (analyze_speed.py, analyze_scale.py): the
bench lab's truth, kenshin's report.json and nmap's XML, wall time and peak RSS as
bench/run.sh recorded them, recall against the truth, and a report folder's size."""
import json
import os
import re
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path

# A report.json or an nmap XML larger than this is not one the bench wrote.
MAX_INPUT_BYTES = 512 * 1024 * 1024


def reserve(cap):
    """The frames of a one-second cap kept for unannounced ones (governor/window.rs, `reserve`)."""
    return max(min(cap // 20, 10 + cap // 100), 1 if cap > 1 else 0)


def read_bounded(path):
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise SystemExit(f"{path}: {size} bytes, more than the {MAX_INPUT_BYTES} a bench input may have")
    return path.read_bytes()


class Truth:
    """The bench lab's truth (kenshin-lab bench-up): live hosts, open ports, segments."""

    def __init__(self, path):
        t = json.loads(read_bounded(path))
        self.raw = t
        self.scanner = t["scanner"]
        # The scanner itself is not a host to find.
        self.hosts = {a: h for a, h in t["hosts"].items() if a != self.scanner}
        self.must_probe = t["must_probe"]
        self.segments = t["segments"]
        self.seed = t["seed"]

    def ports(self, port_list):
        want = set(port_list)
        return {(a, p) for a, h in self.hosts.items() for p in h["tcp_open"] if p in want}

    def recall(self, found_hosts, found_ports, port_list):
        truth_ports = self.ports(port_list)
        found_hosts = set(found_hosts) - {self.scanner}
        found_ports = {(a, p) for a, p in found_ports if a != self.scanner}
        return dict(
            hosts=len(set(self.hosts) & found_hosts) / len(self.hosts),
            ports=len(truth_ports & found_ports) / len(truth_ports) if truth_ports else 1.0,
            missed_hosts=sorted(set(self.hosts) - found_hosts),
            missed_ports=len(truth_ports - found_ports),
            false_hosts=len(found_hosts - set(self.hosts)),
            false_ports=len(found_ports - truth_ports),
        )


def wall(work, name):
    start, end = (float(x) for x in (Path(work) / f"{name}.wall").read_text().split())
    return end - start


def rss_mib(work, name):
    text = (Path(work) / f"{name}.time").read_text(errors="replace")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return int(m.group(1)) / 1024 if m else float("nan")


def kenshin_report(folder):
    r = json.loads(read_bounded(Path(folder) / "report.json"))
    hosts = {h["address"] for h in r["hosts"]}
    ports = {(h["address"], s["port"]) for h in r["hosts"] for s in h["services"] if s["protocol"] == "tcp"}
    return hosts, ports, r


def kenshin_probes(report):
    stats = report["scan"]["stats"]
    frames = (stats.get("frames") or {}).get("sent")
    return stats["probes_sent"], frames


def nmap_result(work, name, answered_only=False):
    """Hosts nmap reported up, open TCP ports, raw packets sent. With answered_only (for -Pn
    scans, where nmap reports every address up by fiat), a host counts only if some port
    answered (open or closed)."""
    root = ET.fromstring(read_bounded(Path(work) / f"{name}.xml"))
    hosts, ports = set(), set()
    for h in root.iter("host"):
        addr = h.find("address").get("addr")
        if h.find("status").get("state") != "up":
            continue
        answered = False
        for p in h.iter("port"):
            state = p.find("state").get("state")
            answered |= state in ("open", "closed")
            if p.get("protocol") == "tcp" and state == "open":
                ports.add((addr, int(p.get("portid"))))
        # nmap folds the commonest state into <extraports state=... count=...>.
        answered |= any(x.get("state") in ("open", "closed") for x in h.iter("extraports"))
        if answered or not answered_only:
            hosts.add(addr)
    out = (Path(work) / f"{name}.out").read_text(errors="replace")
    m = re.search(r"Raw packets sent: (\d+)", out)
    return hosts, ports, int(m.group(1)) if m else None


def folder_size(folder):
    """(apparent bytes, bytes on disk, number of files, the five largest as (name, bytes))."""
    total, disk, files = 0, 0, []
    for root, _, names in os.walk(folder):
        for n in names:
            st = os.lstat(os.path.join(root, n))
            total += st.st_size
            disk += st.st_blocks * 512
            files.append((os.path.relpath(os.path.join(root, n), folder), st.st_size))
    files.sort(key=lambda f: -f[1])
    return total, disk, len(files), files[:5]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def met(ok):
    return "met" if ok else "**not met**"


def mib(b):
    return f"{b / 1048576:.1f} MiB"


def kib(b):
    return f"{b / 1024:.0f} KiB"


def num(n):
    return "—" if n is None else f"{n:,.0f}"


def parse_ports(spec):
    """A TCP port list as kenshin and nmap take it ("21-23,80,T:443"), expanded and sorted."""
    ports = set()
    for item in spec.split(","):
        item = item.strip().removeprefix("T:")
        if not item:
            continue
        lo, _, hi = item.partition("-")
        lo, hi = int(lo), int(hi or lo)
        if not (0 < lo <= hi <= 65535):
            raise SystemExit(f"bad port range {item!r} in {spec!r}")
        ports.update(range(lo, hi + 1))
    return sorted(ports)
