#!/usr/bin/env python3
"""The speed and full-scan sections of docs/benchmarks.md (issue 17, targets 1-3), from
what bench/run.sh measured on the bench lab's speed scope (kenshin-lab bench-up).

    analyze_speed.py speed WORK RUNS FULL_RUNS RATE LIST29 DEFAULT_TCP NMAP_VERSION
    analyze_speed.py fullscan WORK RATE DEFAULT_TCP

WORK holds truth-speed.json and, per round i, speed-k29-i/ and speed-n29-i.xml (the 29-port
list), speed-kfull-i/ and speed-nfull-i.xml (the default TCP list), each with .wall, .time
and .out; and fullscan/ (kenshin scan with defaults). Prints the section's body (Markdown).
"""
import json
import sys
from pathlib import Path

from bench_common import (Truth, reserve, parse_ports, folder_size, kenshin_probes, kenshin_report, kib, median, met,
                          mib, nmap_result, num, rss_mib, wall)


def describe_lab(t, rate):
    segs = ", ".join(
        f"{s['cidr']} ({'routed' if s['routed'] else 'on the scanner’s link'}"
        f"{', %.1f %% loss each way' % (s['loss_per_mille'] / 10) if s['loss_per_mille'] else ''})"
        for s in t.segments)
    silent = sum(1 for h in t.hosts.values() if h["silent"])
    return (f"Bench lab speed scope (`kenshin-lab bench-up`, seed {t.seed}): {segs}; "
            f"{len(t.hosts)} live hosts besides the scanner, {silent} of them silent to ping with "
            f"closed ports dropped, the others answering echo and resetting closed ports; dead "
            f"addresses silent. Addresses that must be probed for one pass: {t.must_probe:,} "
            f"(every address of the routed segments, the live ones of the scanner's own /24). "
            f"Rate cap {rate} packets/s for both tools.")


def rows_for(work, truth, runs, ports, k, n):
    out = {"kenshin": [], "nmap": []}
    for i in range(1, runs + 1):
        hosts, found, report = kenshin_report(work / f"{k}-{i}")
        probes, frames = kenshin_probes(report)
        rec = truth.recall(hosts, found, ports)
        out["kenshin"].append(dict(wall=wall(work, f"{k}-{i}"), probes=probes, frames=frames,
                                   rss=rss_mib(work, f"{k}-{i}"),
                                   retry=report["scan"]["stats"].get("retry") or {}, **rec))
        hosts, found, sent = nmap_result(work, f"{n}-{i}")
        rec = truth.recall(hosts, found, ports)
        out["nmap"].append(dict(wall=wall(work, f"{n}-{i}"), probes=sent, frames=sent,
                                rss=rss_mib(work, f"{n}-{i}"), **rec))
    return out


def feasibility(work, t, rate, list29, verdicts):
    """Whether ≤ 0.9× nmap can be met at all at recall ≥ 0.999 on this scope, and kenshin beside
    nmap -Pn (which, like kenshin, probes every address and so can reach the same recall)."""
    v = next((x for x in verdicts if x[0] == "29 ports"), None)
    if v is None:
        return []
    rows = v[-1]
    bound = t.must_probe * len(list29) / rate
    k_wall = median([x["wall"] for x in rows["kenshin"]])
    n_wall = median([x["wall"] for x in rows["nmap"]])
    silent = [a for a, h in t.hosts.items() if h["silent"]]
    out = ["", "**Can ≤ 0.9× nmap be met at recall ≥ 0.999?** "
           f"{len(silent)} of the {len(t.hosts)} live hosts are silent to ping and drop closed ports: each "
           "answers only on its open ports, and nothing tells a scanner in advance which address hides "
           "which port, so finding every one of them means probing every listed port of every address "
           f"that may hold one: {t.must_probe:,} addresses × {len(list29)} ports = the bound, "
           f"{bound:.1f} s at {rate} probes/s, before any retry. 0.9 × nmap's median is {0.9 * n_wall:.1f} s"]
    if 0.9 * n_wall < bound:
        out[-1] += (f", below that bound: on this scope no scanner held to the same cap can be ≤ 0.9× nmap "
                    f"and reach recall ≥ 0.999. nmap is that fast because its host discovery skips the "
                    f"live hosts it does not find (recall {median([x['hosts'] for x in rows['nmap']]):.4f}).")
    else:
        out[-1] += ", above that bound: the target is reachable on this scope."
    pn = []
    i = 1
    while (work / f"speed-p29-{i}.xml").exists():
        hosts, found, sent = nmap_result(work, f"speed-p29-{i}", answered_only=True)
        rec = t.recall(hosts, found, list29)
        pn.append(dict(wall=wall(work, f"speed-p29-{i}"), probes=sent, rss=rss_mib(work, f"speed-p29-{i}"), **rec))
        i += 1
    if pn:
        w = median([x["wall"] for x in pn])
        out += ["", f"At equal reach, `nmap -sS -Pn -T4 --max-rate {rate} -n -v -p LIST SCOPE` (no host "
                "discovery: every address port-scanned, as kenshin does; a host counts as found when a "
                "port answered, open or closed), 29 ports:", "",
                "| tool | wall (median) | probes / raw packets | peak RSS | host recall | port recall | ÷ bound | kenshin ÷ it |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
                f"| nmap -Pn | {w:.1f} s | {num(median([x['probes'] for x in pn]))} | "
                f"{median([x['rss'] for x in pn]):.0f} MiB | {min(x['hosts'] for x in pn):.4f} | "
                f"{min(x['ports'] for x in pn):.4f} | {w / bound:.2f}× | {k_wall / w:.2f}× {met(k_wall / w <= 0.9)} |",
                "",
                "Runs (wall): " + ", ".join(f"{x['wall']:.1f} s" for x in pn) + "; recall is the worst run's."]
    return out


def speed(argv):
    work, runs, full_runs, rate = Path(argv[0]), int(argv[1]), int(argv[2]), int(argv[3])
    list29 = parse_ports(argv[4])
    full = parse_ports(argv[5])
    nmap_version = argv[6]
    t = Truth(work / "truth-speed.json")
    lines = [describe_lab(t, rate), "",
             f"The 29-port list (the most common hospital ports of kenshin's default list): "
             f"`{argv[4]}`. The default list: kenshin's {len(full)} default TCP ports "
             f"(`kenshin ports --spec`, TCP part).", "",
             f"Commands, inside the scanner's namespace: `kenshin scan SCOPE --no-identify --rate {rate} "
             f"-p LIST` and `nmap -sS -T4 --max-rate {rate} -n -v -p LIST SCOPE` ({nmap_version}), "
             f"side by side in each round; {runs} round(s) for the 29-port list, {full_runs} for the "
             f"default list; medians. Host recall counts every live address but the scanner's own; "
             f"port recall every open (address, port) of the list. Bound = addresses that must be "
             f"probed × ports ÷ rate. nmap keeps its default host discovery (as root: ICMP echo and "
             f"timestamp, SYN to 443, ACK to 80), so it port-scans only the hosts that answer one of "
             f"these: a silent host without 80 or 443 open is never scanned, which is why nmap's recall "
             f"is lower and its wall time can undercut the bound.", "",
             "| list | tool | wall | probes / raw packets | frames | peak RSS | host recall | port recall | false open | bound | ÷ bound |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    verdicts = []
    for label, ports, k, n, r in [("29 ports", list29, "speed-k29", "speed-n29", runs),
                                  (f"default ({len(full)})", full, "speed-kfull", "speed-nfull", full_runs)]:
        if r == 0 or not (work / f"{k}-1").exists():
            continue
        rows = rows_for(work, t, r, ports, k, n)
        bound = t.must_probe * len(ports) / rate
        med = {tool: {key: median([x[key] for x in v]) for key in ("wall", "probes", "frames", "rss", "hosts", "ports", "false_ports")}
               for tool, v in rows.items()}
        for tool in ("kenshin", "nmap"):
            m = med[tool]
            lines.append(f"| {label} | {tool} | {m['wall']:.1f} s | {num(m['probes'])} | {num(m['frames'])} | "
                         f"{m['rss']:.0f} MiB | {m['hosts']:.4f} | {m['ports']:.4f} | {num(m['false_ports'])} | "
                         f"{bound:.1f} s | {m['wall'] / bound:.2f}× |")
        k_, n_ = med["kenshin"], med["nmap"]
        ratio = k_["wall"] / n_["wall"]
        worst_h = min(x["hosts"] for x in rows["kenshin"])
        worst_p = min(x["ports"] for x in rows["kenshin"])
        verdicts.append((label, ratio, k_["wall"] / bound, worst_h, worst_p, n_["hosts"], n_["ports"], rows))
    lines += ["", "| list | kenshin ÷ nmap (≤ 0.9×) | kenshin ÷ bound (≤ 1.3×) | kenshin recall, worst round: hosts / ports (≥ 0.999) | nmap recall (median) |",
              "|---|---:|---:|---:|---:|"]
    for label, ratio, vs_bound, wh, wp, nh, np, _ in verdicts:
        lines.append(f"| {label} | {ratio:.2f}× {met(ratio <= 0.9)} | {vs_bound:.2f}× {met(vs_bound <= 1.3)} | "
                     f"{wh:.4f} / {wp:.4f} {met(wh >= 0.999 and wp >= 0.999)} | {nh:.4f} / {np:.4f} |")
    lines += ["", "Per round (wall, kenshin / nmap): " + "; ".join(
        f"{label}: " + ", ".join(f"{a['wall']:.1f} / {b['wall']:.1f} s" for a, b in zip(rows["kenshin"], rows["nmap"]))
        for label, _, _, _, _, _, _, rows in verdicts) + "."]
    missed = sorted({(a, t.hosts[a]["role"], t.hosts[a]["silent"]) for *_, rows in verdicts for x in rows["kenshin"] for a in x["missed_hosts"]})
    if missed:
        lines.append("Live hosts kenshin missed in some round: " + ", ".join(
            f"{a} ({role}{', silent' if s else ''})" for a, role, s in missed[:20]) + ".")
    # The miss rate the retry policy accepted, measured: open ports not reported.
    for label, *_, rows in verdicts:
        misses = sum(x["missed_ports"] for x in rows["kenshin"])
        total = len(t.ports(list29 if label == "29 ports" else full)) * len(rows["kenshin"])
        lines.append(f"Measured miss rate ({label}): {misses} of {total} open ports over {len(rows['kenshin'])} round(s) "
                     f"({misses / total:.5f}).")
        missed_hosts = sum(len(x["missed_hosts"]) for x in rows["kenshin"])
        policies = "; ".join(
            f"loss {x['retry'].get('loss_estimate', 0):.4f}, second look on {x['retry'].get('second_look_ports', [])}, "
            f"{x['retry'].get('expected_missed_hosts', float('nan')):.3f} hosts expected missed, "
            f"{x['retry'].get('accepted_miss_probability', 0):.5f} for a ping-silent host behind one port"
            for x in rows["kenshin"])
        lines.append(f"Retry policy ({label}, report.json `scan.stats.retry`, each round): {policies}. "
                     f"Measured: {missed_hosts} live host(s) missed over {len(rows['kenshin'])} round(s).")
    lines += feasibility(work, t, rate, list29, verdicts)
    print("\n".join(lines))


def fullscan(argv):
    work, rate = Path(argv[0]), int(argv[1])
    full = parse_ports(argv[2])
    t = Truth(work / "truth-speed.json")
    folder = work / "fullscan"
    hosts, found, r = kenshin_report(folder)
    probes, frames = kenshin_probes(r)
    w = wall(work, "fullscan")
    bound = t.must_probe * len(full) / rate
    rec = t.recall(hosts, found, full)
    stats = r["scan"]["stats"]
    services = [s for h in r["hosts"] for s in h["services"]]
    tls = sum(1 for s in services if s.get("tls"))
    identified = sum(1 for s in services if s.get("service") and s.get("product"))
    lines = [f"`kenshin scan SCOPE -q -o DIR` with its defaults (every default port, identification and the "
             f"TLS audit, rate {rate}/s) on the bench lab's speed scope (as above): one run.", "",
             "| wall | one-pass bound | ÷ bound (≤ 1.3×) | probes | frames | peak RSS | host recall | port recall | services | identified (product named) | TLS audited | findings |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
             f"| {w:.1f} s | {bound:.1f} s | {w / bound:.2f}× {met(w / bound <= 1.3)} | {num(probes)} | {num(frames)} | "
             f"{rss_mib(work, 'fullscan'):.0f} MiB | {rec['hosts']:.4f} | {rec['ports']:.4f} | {len(services)} | {identified} | {tls} | "
             f"{len(r.get('findings', []))} |", ""]
    timing = stats.get("timing") or {}
    phases = timing.get("phases") or stats.get("phases")
    lines.append("Where the time goes (report.json `scan.stats.timing`: each phase's wall time; then each stage "
                 "of a host's scan summed over hosts, which run side by side, so those sums exceed the wall):")
    lines.append("")
    if isinstance(phases, list):
        # A list of {"phase" | "name", "ms"}: keyed by name like the dict form.
        phases = {str(p.get("phase", p.get("name", i))): p.get("ms", p.get("duration_ms", p)) if isinstance(p, dict) else p
                  for i, p in enumerate(phases)}
    if isinstance(phases, dict) and phases:
        lines += ["| phase | wall |", "|---|---:|"]
        for name, value in phases.items():
            shown = f"{value / 1000:.1f} s" if isinstance(value, (int, float)) else f"`{json.dumps(value)[:200]}`"
            lines.append(f"| {name} | {shown} |")
        lines += ["", "| host stage (summed over hosts) | time |", "|---|---:|"]
        for key, label in [("host_port_scan_ms", "TCP port scan (first pass, retries, second look)"),
                           ("host_udp_ms", "UDP (SNMP) and retries unlocked by it"),
                           ("host_identify_ms", "identification (TLS audit included)"),
                           ("host_tls_audit_ms", "of which the TLS audit"),
                           ("host_reverse_names_ms", "reverse names (PTR) of TLS hosts")]:
            if key in timing:
                lines.append(f"| {label} | {timing[key] / 1000:.1f} s |")
        retry = stats.get("retry")
        if retry:
            lines += ["", f"Retry policy (report.json `scan.stats.retry`): loss estimate {retry['loss_estimate']:.4f} over "
                      f"{retry['loss_samples']:,} answering ports; {retry['lifeless_addresses']:,} addresses silent on every "
                      f"port after the first pass got a second look on ports {retry['second_look_ports']} (coverage of the "
                      f"hosts expected missed {retry['second_look_coverage']:.2f}), {retry['found_by_second_look']} found by it; "
                      f"hosts expected still missed {retry.get('expected_missed_hosts', float('nan')):.3f}; "
                      f"accepted miss probability for a ping-silent host behind one port {retry['accepted_miss_probability']:.5f}."]
    else:
        lines.append("report.json has no `scan.stats.timing` in this build, so the breakdown is what the report "
                     "does hold: ")
    counts = stats.get("probes", {})
    lines.append("")
    lines.append(f"`scan.stats.duration_ms` {stats.get('duration_ms', 0) / 1000:.1f} s; probes by kind: "
                 + ", ".join(f"{k} {v:,}" for k, v in counts.items())
                 + f"; the port-scan part alone at the cap would take {probes / rate:.1f} s "
                 f"({probes:,} probes ÷ {rate}/s), leaving {w - probes / rate:.1f} s to identification, "
                 f"the TLS audit and waits beyond the port scan.")
    kept = reserve(rate)
    planned = rate - kept
    fr = stats.get("frames", {})
    lines.append("")
    lines.append(f"Frames, not probes, are what the cap holds: kenshin counted {num(frames)} frames "
                 f"(`scan.stats.frames.sent`: SYNs, the RST of every open port (the handshake's ACK is held, docs/safety.md), identification's "
                 f"and the TLS audit's conversations, ICMP, ARP, UDP). At the {planned} frames/s that planned "
                 f"sends may fill ({rate}/s less the {kept} kept for frames no one announced) they alone "
                 f"take {frames / planned:.1f} s, {frames / planned / bound:.2f}× the one-pass bound, before any "
                 f"wait; the run took {w / (frames / planned):.2f}× that.")
    if "unplanned" in fr:
        lines.append("")
        lines.append(f"Unannounced frames (`scan.stats.frames.unplanned`: the RST of an answer that came after "
                     f"its wait, retransmissions): {num(fr['unplanned'])} of {num(frames)}, at most "
                     f"{fr.get('unplanned_peak_second', 0)} in one second, against the {kept} a second "
                     f"the cap keeps for them.")
    lines.append("")
    size, disk, files, largest = folder_size(folder)
    live = len(t.hosts)
    per_host = size / live
    lines += ["Report folder of this run (target 3: ≤ 40 KiB per live host, ≤ 25 files; sizes as the files say, 'on disk' as du counts blocks):", "",
              "| live hosts (truth) | hosts in report | folder | on disk | per live host | files | largest |",
              "|---:|---:|---:|---:|---:|---:|---|",
              f"| {live} | {len(hosts)} | {mib(size)} | {mib(disk)} | {kib(per_host)} {met(per_host <= 40 * 1024)} | "
              f"{files} {met(files <= 25)} | " + ", ".join(f"{n} {kib(b)}" for n, b in largest) + " |"]
    print("\n".join(lines))


if __name__ == "__main__":
    {"speed": speed, "fullscan": fullscan}[sys.argv[1]](sys.argv[2:])
