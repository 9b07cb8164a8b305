#!/usr/bin/env python3
"""The scale section of docs/benchmarks.md (issue 17, targets 4 and 5), from what
bench/run.sh measured on the bench lab's scale scopes (kenshin-lab bench-up --scale N).

    analyze_scale.py WORK RATE DEFAULT_TCP N...

For each N, WORK holds truth-scale-N.json, scale-N-id/ (kenshin scan with defaults) and
scale-N-noid/ (--no-identify), each with .wall and .time (GNU time -v), verify-N-MODE.wall
(`kenshin verify`), and html-N-MODE.ms (bench/html_load.sh's median load time in ms, or
a note when it could not be measured). Prints the section's body (Markdown).
"""
import sys
from pathlib import Path

from bench_common import Truth, parse_ports, folder_size, kenshin_probes, kenshin_report, met, mib, num, rss_mib, wall


def html_ms(work, name):
    p = work / f"{name}.ms"
    if not p.exists():
        return None, "not measured"
    text = p.read_text().strip()
    try:
        return float(text.split()[-1]), ""
    except (ValueError, IndexError):
        return None, text[:120] or "no figure"


def main():
    work, rate = Path(sys.argv[1]), int(sys.argv[2])
    port_list = parse_ports(sys.argv[3])
    ports = len(port_list)
    sizes = [int(n) for n in sys.argv[4:]]
    rows, notes = [], []
    for n in sizes:
        t = Truth(work / f"truth-scale-{n}.json")
        for mode in ("noid", "id"):
            name = f"scale-{n}-{mode}"
            if not (work / name / "report.json").exists():
                notes.append(f"{name}: no report.json (see {name}.out)")
                continue
            hosts, found, r = kenshin_report(work / name)
            probes, frames = kenshin_probes(r)
            rec = t.recall(hosts, found, port_list)
            size, disk, files, _ = folder_size(work / name)
            ms, why = html_ms(work, f"html-{n}-{mode}")
            if why:
                notes.append(f"report.html load time: {why}")
            rc = work / f"verify-{n}-{mode}.rc"
            if rc.exists() and rc.read_text().strip() != "0":
                notes.append(f"`kenshin verify` of {name} exited {rc.read_text().strip()}: "
                             f"{(work / f'verify-{n}-{mode}.out').read_text(errors='replace')[:300]!r}")
            rows.append(dict(n=n, mode=mode, live=len(t.hosts) + 1, must=t.must_probe, wall=wall(work, name),
                             bound=t.must_probe * ports / rate, rss=rss_mib(work, name), probes=probes,
                             hosts=rec["hosts"], ports=rec["ports"], size=size, disk=disk, files=files,
                             verify=wall(work, f"verify-{n}-{mode}"), html=ms))
    lines = [f"Scale scopes (`kenshin-lab bench-up --scale N`): one segment on the scanner's own link, a quarter of "
             f"its addresses live on one namespace's interface with the speed scope's port model (15 % silent). "
             f"`kenshin scan SCOPE -q -o DIR` with defaults (identification, TLS audit) and with `--no-identify`, "
             f"once each; bound = live addresses × {ports} default TCP ports ÷ {rate}/s. Peak RSS from GNU time -v; "
             f"`kenshin verify DIR` timed; report.html load time from bench/html_load.sh (headless Chromium, "
             f"median ms to `load`).", "",
             "| addresses | live | mode | wall | bound | ÷ bound | probes | host / port recall | peak RSS | folder | files | verify | report.html load |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for x in rows:
        mode = "defaults" if x["mode"] == "id" else "--no-identify"
        html = "—" if x["html"] is None else f"{x['html'] / 1000:.2f} s"
        lines.append(f"| {x['n']:,} | {x['live']:,} | {mode} | {x['wall']:.1f} s | {x['bound']:.1f} s | "
                     f"{x['wall'] / x['bound']:.2f}× | {num(x['probes'])} | {x['hosts']:.4f} / {x['ports']:.4f} | "
                     f"{x['rss']:.0f} MiB | {mib(x['size'])} | {x['files']} | {x['verify']:.2f} s | {html} |")
    big = [x for x in rows if x["n"] == max(sizes)]
    lines += ["", f"Targets at {max(sizes):,} addresses:", ""]
    for x in big:
        if x["mode"] == "noid":
            lines.append(f"- peak RSS of the port scan ≤ 64 MiB: {x['rss']:.0f} MiB, {met(x['rss'] <= 64)}")
        else:
            lines.append(f"- peak RSS with identification ≤ 160 MiB: {x['rss']:.0f} MiB, {met(x['rss'] <= 160)}")
            lines.append(f"- `kenshin verify` ≤ 5 s: {x['verify']:.2f} s, {met(x['verify'] <= 5)}")
            if x["html"] is None:
                lines.append("- report.html load ≤ 3 s: not measured (see the notes below)")
            else:
                lines.append(f"- report.html load ≤ 3 s: {x['html'] / 1000:.2f} s, {met(x['html'] <= 3000)}")
            per_host = x["size"] / x["live"]
            lines.append(f"- report folder ≤ 40 KiB per live host and ≤ 25 files: {per_host / 1024:.0f} KiB, "
                         f"{x['files']} files, {met(per_host <= 40 * 1024 and x['files'] <= 25)}")
    lines += ["", "Cost growth (target 5): each figure divided by the one at the smallest scope, beside the growth "
              "of the work (live addresses).", "",
              "| addresses | mode | work × | wall × | RSS × | folder × |", "|---:|---|---:|---:|---:|---:|"]
    for mode in ("noid", "id"):
        base = next((x for x in rows if x["mode"] == mode), None)
        for x in (x for x in rows if x["mode"] == mode):
            lines.append(f"| {x['n']:,} | {'defaults' if mode == 'id' else '--no-identify'} | {x['live'] / base['live']:.1f} | "
                         f"{x['wall'] / base['wall']:.1f} | {x['rss'] / base['rss']:.1f} | {x['size'] / base['size']:.1f} |")
    if max(sizes) != 16384:
        lines.append(f"- (issue 17 sets these targets at 16,384 addresses; this run went up to {max(sizes):,})")
    if notes:
        lines += ["", "Notes: " + "; ".join(dict.fromkeys(notes)) + "."]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
