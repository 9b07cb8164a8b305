#!/usr/bin/env python3
"""The "Frames on the wire" section of docs/benchmarks.md, from the figures the
wire-capture lab tests (tests/e2e/wire_caps.rs) leave in their artifacts folder:
wire-caps.json and wire-backoff.json.

    frames.py ARTIFACTS_DIR     prints the section's body (markdown)
"""
import json
import sys
from pathlib import Path

from bench_common import reserve


def main():
    art = Path(sys.argv[1])
    caps = json.loads((art / "wire-caps.json").read_text())
    back = json.loads((art / "wire-backoff.json").read_text())
    o = caps["overall"]
    print("Measured from outside kenshin: `tcpdump -w` on the scanner's interface and in each target's")
    print("namespace while kenshin scans the lab's real-service hosts, frames counted in fixed one-second")
    print("windows from the captures' own timestamps (windows start at each host's first frame; the")
    print("\"any second\" column is the worst one-second interval wherever it starts). Written by")
    print("`SECTIONS=frames bench/run.sh`, which runs")
    print("`cargo test -p kenshin-lab --test e2e -- wire_caps --test-threads=1` (the test asserts every")
    print("figure below against its cap, 5 % allowed).")
    print()
    print(f"Command: `{caps['command']}`, {caps['seconds']:.0f} s.")
    print()
    print("| frames from kenshin | cap | frames | busiest fixed second | busiest any second |")
    print("|---|---:|---:|---:|---:|")
    print(f"| all hosts, scanner's interface | {o['cap']} (`--rate`) | {o['frames_sent']} "
          f"| {o['busiest_fixed_second']} | {o['busiest_any_second']} |")
    for host, h in sorted(caps["hosts"].items()):
        label = "medical device by the ledger" if h["cap"] < 40 else "`--host-rate`"
        print(f"| to {host}, in its namespace | {h['cap']} ({label}) | {h['frames_received']} "
              f"| {h['busiest_fixed_second_received']} | {h['busiest_any_second_sent']} |")
        if "class_budget" in h:
            print(f"| to {host}, from the answer on its HL7 or printer port (scanner's interface) "
                  f"| {h['class_budget']} (class budget, learned from that port) | | "
                  f"| {h['busiest_any_second_sent_after_class']} |")
    print()
    print(f"kenshin's own count (report.json `scan.stats.frames`): {o['kenshin_counted_frames']} frames, "
          f"at most {o['kenshin_counted_peak_second']} in one second overall and "
          f"{o['kenshin_counted_peak_second_one_host']} to one host; the capture shows "
          f"{o['frames_sent']} (kenshin counts ahead: a frame it made room for and the kernel "
          "did not send is still counted).", end="")
    if "kenshin_counted_unplanned" in o:
        print(f" Of kenshin's count, {o['kenshin_counted_unplanned']} went out with no room kept for them, "
              f"at most {o['kenshin_counted_unplanned_peak_second']} in one second, against the "
              f"{reserve(o['cap'])} a second the cap keeps for them.", end="")
    print()
    print()
    pdus = ", ".join({1: "A-ASSOCIATE-RQ", 5: "A-RELEASE-RQ"}.get(t, f"type {t}")
                     for t in caps["dicom_pdu_types"])
    print(f"Payload: printers' raw port 9100 and HL7 2575 received connects and 0 payload bytes; DICOM "
          f"on 11112 received {pdus} and nothing else.")
    print()
    print(f"Back-off: `{back['command']}`. The host had sent {back['answers_before_switch']} frames "
          f"before the switch; afterwards kenshin sent it {back['frames_after_switch']} frames "
          f"(the schedule allows {back['schedule_allows']}: the 24 silent probes that trigger the "
          f"check and 6 in flight, then 4 checks, each a SYN and at most one retransmission), the last "
          f"{back['last_frame_after_switch_s']:.1f} s after the switch (pauses of 2 + 4 + 8 s), then "
          "abandoned the host.")


if __name__ == "__main__":
    main()
