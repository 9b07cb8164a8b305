//! The safety caps measured on the wire, from outside kenshin: tcpdump on the
//! scanner's interface and in each target's namespace while kenshin scans, the
//! frames counted per fixed one-second window from the captures' own timestamps.
//!
//! - both caps hold in every second: overall ≤ `--rate`, each host ≤ `--host-rate`
//!   (5 % allowed), and a host the ledger calls 医療機器 ≤ its class budget from
//!   its very first frame, and a host whose DICOM port tells its class is held to
//!   that budget from the class sweep on (the SYN to 104 comes first);
//! - printers' raw ports and HL7 get a connect and not one byte of payload, and
//!   DICOM gets A-ASSOCIATE-RQ and A-RELEASE-RQ and nothing else;
//! - a host that starts dropping everything mid-scan gets no more frames than the
//!   back-off schedule allows.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kenshin_lab::capture::{busiest_any_second, busiest_fixed_second, Capture, Carried, Frame};
use kenshin_lab::{SCANNER_ADDR, SCANNER_NS, SERVICES2_ADDR, SERVICES_ADDR, TERMINAL_ADDR};
use serde_json::Value;

use crate::support::*;

/// The rate caps of the capped scan: the per-host default, and an overall rate the
/// three hosts together would pass if it did not hold.
const HOST_RATE: usize = 40;
const RATE: usize = 60;
/// The medical-device class budget of rules/safety.toml.
const MEDICAL_RATE: usize = 10;
/// Ports that get a connect and no payload: printers' raw ports and HL7 (MLLP).
const NO_PAYLOAD: [u16; 9] = [9100, 9101, 9102, 9103, 9104, 9105, 9106, 9107, 2575];
/// The TLS host: its FTP and SMTP speak TLS after an upgrade, the chattiest audits.
const TLS_HOST: &str = kenshin_lab::TLS_ADDR;

fn scanner() -> Ipv4Addr {
    SCANNER_ADDR.parse().expect("scanner address")
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

/// Times of the frames the scanner sent to `host` (all of them when `None`).
fn sent_times(frames: &[Frame], host: Option<Ipv4Addr>) -> Vec<f64> {
    frames
        .iter()
        .filter(|f| f.from(scanner()) && host.is_none_or(|h| f.about() == Some(h)))
        .map(|f| f.at)
        .collect()
}

/// The scanner's frames to `host` in the busiest one-second interval, a line each
/// (seconds from `origin`, and what the frame was), for a failure to show.
fn busiest_window(frames: &[Frame], host: Ipv4Addr, origin: f64) -> String {
    let mine: Vec<&Frame> = frames
        .iter()
        .filter(|f| f.from(scanner()) && f.about() == Some(host))
        .collect();
    let (mut best, mut lo, mut range) = (0, 0, (0, 0));
    for hi in 0..mine.len() {
        while mine[hi].at - mine[lo].at >= 1.0 {
            lo += 1;
        }
        if hi - lo + 1 > best {
            best = hi - lo + 1;
            range = (lo, hi);
        }
    }
    mine.get(range.0..=range.1)
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let what = match &f.carried {
                Carried::Ipv4 {
                    protocol,
                    src_port,
                    dst_port,
                    tcp_flags,
                    payload_len,
                    ..
                } => format!(
                    "ip proto {protocol} {src_port:?} -> {dst_port:?} flags {tcp_flags:02x?} \
                     {payload_len} bytes"
                ),
                other => format!("{other:?}"),
            };
            format!("  {:>9.4} s  {what}", f.at - origin)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Plain TCP listeners on `ports` in namespace `ns`, ready when this returns; the
/// caller kills the child.
fn listen_in(ns: &str, ports: &str) -> std::process::Child {
    listen_with(ns, ports, Stdio::null())
}

/// [`listen_in`], with the listeners' `accepted PORT from ADDR` lines going to `stdout`.
fn listen_with(ns: &str, ports: &str, stdout: Stdio) -> std::process::Child {
    let child = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(env!("CARGO_BIN_EXE_kenshin-lab"))
        .args(["listen", ports])
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("listener");
    std::thread::sleep(Duration::from_millis(500));
    child
}

/// Stops the listeners a scan ran beside, and returns its report once the scan is
/// known to have finished (exit 0, or 1 for findings).
fn scan_report(
    o: &std::process::Output,
    listeners: &mut std::process::Child,
    dir: &std::path::Path,
) -> Value {
    let _ = listeners.kill();
    let _ = listeners.wait();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "the scan failed: {}",
        text(o)
    );
    read_report(dir)
}

/// At most `cap` plus 5 %.
fn within(count: usize, cap: usize) -> bool {
    count as f64 <= cap as f64 * 1.05
}

/// The scanner's TCP payload to `host`, per connection (source port), in order.
fn streams_to(frames: &[Frame], host: Ipv4Addr, port: u16) -> BTreeMap<u16, Vec<u8>> {
    let mut out: BTreeMap<u16, Vec<u8>> = BTreeMap::new();
    for f in frames.iter().filter(|f| f.from(scanner())) {
        if let Carried::Ipv4 {
            dst,
            protocol: 6,
            src_port: Some(sp),
            dst_port: Some(dp),
            payload,
            ..
        } = &f.carried
        {
            if *dst == host && *dp == port && !payload.is_empty() {
                out.entry(*sp).or_default().extend_from_slice(payload);
            }
        }
    }
    out
}

/// The PDU types of a DICOM upper-layer byte stream (type byte, reserved, 4-byte length).
fn pdu_types(mut stream: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    while stream.len() >= 6 {
        types.push(stream[0]);
        let len = u32::from_be_bytes([stream[2], stream[3], stream[4], stream[5]]) as usize;
        stream = stream.get(6 + len..).unwrap_or(&[]);
    }
    types
}

/// Writes the measured figures where the benchmark page's author can read them.
fn keep_figures(name: &str, figures: &Value) {
    let path = artifacts().join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(figures).expect("json")).expect("figures");
    eprintln!("{}: {figures:#}", path.display());
}

#[test]
fn frames_on_the_wire_hold_both_caps_in_every_second_and_a_ledgered_medical_device_its_budget() {
    let session = lab();
    let out = out_dir();
    let dir = out.path().join("report");
    // The ledger names the services host a medical device (医療機器).
    let ledger = out.path().join("ledger.csv");
    std::fs::write(
        &ledger,
        format!("IPアドレス,種別,設置場所\n{SERVICES_ADDR},医療機器,放射線科\n"),
    )
    .expect("ledger");
    // An HL7 listener and a printer's raw port beside the fixtures of the second
    // services host: they must get a connect and nothing else.
    let mut extra = listen_in("ksl-svc2", "2575,9100");

    // The captures stay with the other artifacts, for a person to open in Wireshark.
    let pcaps = artifacts().join("wire-caps");
    std::fs::create_dir_all(&pcaps).expect("capture folder");
    let captures: Vec<(&str, Capture)> = [SCANNER_NS, "ksl-svc", "ksl-svc2", "ksl-tls"]
        .into_iter()
        .map(|ns| {
            let c = Capture::start(ns, &pcaps.join(format!("{ns}.pcap"))).expect("capture");
            (ns, c)
        })
        .collect();
    let started = now();
    let o = kenshin_in_lab(&[
        "scan",
        SERVICES_ADDR,
        SERVICES2_ADDR,
        TLS_HOST,
        "--rate",
        &RATE.to_string(),
        "--host-rate",
        &HOST_RATE.to_string(),
        "--inventory",
        ledger.to_str().expect("utf-8"),
        "-o",
        dir.to_str().expect("utf-8"),
    ]);
    let elapsed = now() - started;
    let frames: BTreeMap<&str, Vec<Frame>> = captures
        .into_iter()
        .map(|(ns, c)| (ns, c.stop().expect("capture read")))
        .collect();
    let report = scan_report(&o, &mut extra, &dir);
    assert_valid_report(&report);

    // 1. Overall, on the scanner's interface.
    let scanner_frames = &frames[SCANNER_NS];
    let all = sent_times(scanner_frames, None);
    let origin = all.first().copied().expect("the scan sent frames");
    let (overall, overall_at) = busiest_fixed_second(&all, origin);
    let overall_any = busiest_any_second(&all);
    assert!(
        within(overall, RATE),
        "{overall} frames left the scanner in the second from {:.1} s (cap {RATE})",
        overall_at - origin
    );
    // The cap is a sliding one: no one-second interval at all may carry more.
    assert!(
        within(overall_any, RATE),
        "{overall_any} frames left the scanner within one second (cap {RATE})"
    );

    // 2. Per host, on the scanner's interface and in the host's own namespace.
    let mut per_host = serde_json::Map::new();
    for (ns, host) in [
        ("ksl-svc", SERVICES_ADDR),
        ("ksl-svc2", SERVICES2_ADDR),
        ("ksl-tls", TLS_HOST),
    ] {
        let addr: Ipv4Addr = host.parse().expect("addr");
        let cap = if host == SERVICES_ADDR {
            MEDICAL_RATE
        } else {
            HOST_RATE
        };
        let sent = sent_times(scanner_frames, Some(addr));
        let received = sent_times(&frames[ns], Some(addr));
        assert!(!received.is_empty(), "{host} received nothing");
        // Fixed windows from the host's very first frame: the class budget of a host
        // the ledger names holds from there.
        let (at_scanner, _) = busiest_fixed_second(&sent, sent[0]);
        let (at_host, worst_at) = busiest_fixed_second(&received, received[0]);
        let any_sent = busiest_any_second(&sent);
        assert!(
            within(any_sent, cap),
            "{host}: {any_sent} frames sent within one second (cap {cap}); they were:\n{}",
            busiest_window(scanner_frames, addr, sent[0])
        );
        assert!(
            within(at_scanner, cap) && within(at_host, cap),
            "{host}: {at_scanner} frames sent / {at_host} received in one second \
             (the second from {:.1} s after its first frame; cap {cap})",
            worst_at - received[0]
        );
        per_host.insert(
            host.to_owned(),
            serde_json::json!({
                "cap": cap,
                "frames_sent": sent.len(),
                "frames_received": received.len(),
                "busiest_fixed_second_sent": at_scanner,
                "busiest_fixed_second_received": at_host,
                "busiest_any_second_sent": any_sent,
            }),
        );
    }

    // 2b. The second services host's HL7 and printer ports tell its class: from the
    //     first answer on one of them, it is held to that class's budget (what went
    //     before went at the per-host rate), measured where kenshin sent the frames.
    let svc2: Ipv4Addr = SERVICES2_ADDR.parse().expect("addr");
    let told = [2575, 9100]
        .into_iter()
        .filter_map(|p| syn_ack_from(scanner_frames, svc2, p))
        .fold(f64::INFINITY, f64::min);
    assert!(told.is_finite(), "neither tcp/2575 nor tcp/9100 answered");
    let class_budget = hosts(&report)[SERVICES2_ADDR]["budget"]["frames_per_s"]
        .as_u64()
        .expect("the host's budget") as usize;
    assert!(
        class_budget < HOST_RATE,
        "the class budget is {class_budget}"
    );
    let after: Vec<f64> = sent_times(scanner_frames, Some(svc2))
        .into_iter()
        .filter(|&t| t >= told)
        .collect();
    let busiest_after_class = busiest_any_second(&after);
    assert!(
        within(busiest_after_class, class_budget),
        "{SERVICES2_ADDR}: {busiest_after_class} frames sent within one second after its \
         class was told (budget {class_budget}); they were:\n{}",
        busiest_window(scanner_frames, svc2, told)
    );
    if let Some(h) = per_host.get_mut(SERVICES2_ADDR) {
        h["class_budget"] = class_budget.into();
        h["busiest_any_second_sent_after_class"] = busiest_after_class.into();
    }

    // 3. No payload to printers' raw ports or HL7, in any capture.
    for (ns, fs) in &frames {
        for f in fs.iter().filter(|f| f.from(scanner())) {
            if let Carried::Ipv4 {
                protocol: 6,
                dst_port: Some(port),
                payload_len,
                ..
            } = &f.carried
            {
                assert!(
                    !NO_PAYLOAD.contains(port) || *payload_len == 0,
                    "{payload_len} payload bytes to tcp/{port}, seen in {ns}"
                );
            }
        }
    }
    let connects: BTreeSet<u16> = frames["ksl-svc2"]
        .iter()
        .filter_map(|f| match &f.carried {
            Carried::Ipv4 {
                dst_port: Some(p),
                tcp_flags: Some(flags),
                ..
            } if f.from(scanner()) && flags & 0x12 == 0x02 => Some(*p),
            _ => None,
        })
        .collect();
    assert!(
        connects.contains(&2575) && connects.contains(&9100),
        "the HL7 and printer ports were not even connected to: {connects:?}"
    );

    // 4. DICOM: association requests and releases, nothing else.
    let services: Ipv4Addr = SERVICES_ADDR.parse().expect("addr");
    let dicom = streams_to(&frames["ksl-svc"], services, 11112);
    assert!(!dicom.is_empty(), "no DICOM was spoken to {SERVICES_ADDR}");
    let mut types = BTreeSet::new();
    for stream in dicom.values() {
        types.extend(pdu_types(stream));
    }
    assert!(types.contains(&0x01), "no A-ASSOCIATE-RQ: {types:?}");
    assert!(
        types.iter().all(|t| [0x01, 0x05].contains(t)),
        "DICOM PDUs other than A-ASSOCIATE-RQ (1) and A-RELEASE-RQ (5): {types:?}"
    );

    // 5. The report says which budget each host got and why, and what kenshin counted.
    let hosts = hosts(&report);
    let medical = &hosts[SERVICES_ADDR]["budget"];
    assert_eq!(medical["class"], "medical_device", "{medical:#}");
    assert_eq!(medical["source"], "ledger", "{medical:#}");
    assert_eq!(medical["frames_per_s"], MEDICAL_RATE as u64, "{medical:#}");
    assert_eq!(medical["inflight"], 2, "{medical:#}");
    assert_eq!(medical["tls_audit"], "versions-and-certificate");
    assert!(
        medical["reason"]["ja"]
            .as_str()
            .is_some_and(|r| r.contains("医療機器")),
        "{medical:#}"
    );
    let stats = &report["scan"]["stats"]["frames"];
    let counted = stats["sent"].as_u64().expect("frames sent");
    let counted_peak = stats["peak_second"].as_u64().expect("peak");
    let counted_host_peak = stats["peak_second_host"].as_u64().expect("host peak");
    // The frames that went out with no room kept for them, which the cap's reserve
    // (3 of 60) is left for: among those counted, and never more in a second than all.
    let unplanned = stats["unplanned"].as_u64().expect("unplanned frames");
    let unplanned_peak = stats["unplanned_peak_second"]
        .as_u64()
        .expect("unplanned peak");
    assert!(
        unplanned <= counted && unplanned_peak <= counted_peak && unplanned_peak <= unplanned,
        "{stats:#}"
    );
    keep_figures(
        "wire-caps.json",
        &serde_json::json!({
            "command": format!(
                "kenshin scan {SERVICES_ADDR} {SERVICES2_ADDR} {TLS_HOST} --rate {RATE} \
                 --host-rate {HOST_RATE} --inventory ledger.csv (ledger: {SERVICES_ADDR} 医療機器)"
            ),
            "seconds": elapsed,
            "overall": {
                "cap": RATE,
                "frames_sent": all.len(),
                "busiest_fixed_second": overall,
                "busiest_any_second": overall_any,
                "kenshin_counted_frames": counted,
                "kenshin_counted_peak_second": counted_peak,
                "kenshin_counted_peak_second_one_host": counted_host_peak,
                "kenshin_counted_unplanned": unplanned,
                "kenshin_counted_unplanned_peak_second": unplanned_peak,
            },
            "hosts": per_host,
            "dicom_pdu_types": types,
        }),
    );
    // What kenshin counted is what the capture shows, within a few frames the kernel
    // sent after the last look at its count, and holds to the same caps.
    assert!(
        counted as f64 >= all.len() as f64 * 0.95,
        "kenshin counted {counted} frames; the scanner's interface carried {}",
        all.len()
    );
    assert!(within(counted_peak as usize, RATE), "{stats:#}");
    assert!(within(counted_host_peak as usize, HOST_RATE), "{stats:#}");
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("frames sent"), "{summary}");
    drop(session);
}

/// The back-off schedule of agent/probe/src/scan/host.rs, from the frames a host
/// that stopped answering can still get: the probes that make up the silent streak
/// that triggers the check (24) and those in flight beside them (6, `--host-conns`),
/// then the check and one re-check after each of the 2, 4 and 8 s pauses (4) — each
/// a SYN and at most one retransmission by the kernel (timeouts are at most 1.5 s;
/// Linux resends an unanswered SYN after 1 s).
const SILENCE_STREAK: usize = 24;
const HOST_CONNS: usize = 6;
const CHECKS: usize = 4;
const SYNS_PER_PROBE: usize = 2;
const BACKOFF_FRAMES: usize = (SILENCE_STREAK + HOST_CONNS + CHECKS) * SYNS_PER_PROBE;
/// The pauses before each re-check.
const PAUSES_S: f64 = 2.0 + 4.0 + 8.0;

#[test]
fn a_host_that_starts_dropping_everything_gets_no_more_than_the_back_off_schedule() {
    let session = lab();
    let out = out_dir();
    let dir = out.path().join("report");
    // An RST host: it answers every port until the switch.
    let host = "198.18.2.20";
    let addr: Ipv4Addr = host.parse().expect("addr");
    let at_host =
        Capture::start("ksl-b1", &artifacts().join("wire-backoff-b1.pcap")).expect("capture");
    let at_scanner =
        Capture::start(SCANNER_NS, &artifacts().join("wire-backoff-scan.pcap")).expect("capture");
    let scan = Command::new("ip")
        .args(["netns", "exec", SCANNER_NS])
        .arg(kenshin())
        // Two thousand ports: at 40 frames a second the scan is still going when the
        // host goes silent.
        .args(["scan", host, "--no-identify", "-p", "1-2000", "-o"])
        .arg(&dir)
        .env("LANG", "C")
        .env("KENSHIN_SIGNING_KEY", signing_key())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kenshin runs");
    // Well into the port scan (discovery takes about a second): the host has answered
    // dozens of probes by now.
    std::thread::sleep(Duration::from_secs(3));
    session
        .lab
        .drop_from_scanner("ksl-b1", host)
        .expect("drop rule");
    let switched = now();
    let o = scan.wait_with_output().expect("kenshin finishes");
    let frames = at_host.stop().expect("capture read");
    let sent = at_scanner.stop().expect("capture read");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "the scan failed: {}",
        text(&o)
    );

    let answers_before = frames
        .iter()
        .filter(|f| f.at < switched && f.from(addr))
        .count();
    assert!(
        answers_before >= 10,
        "the host had answered only {answers_before} frames before the switch"
    );
    // What the scanner sent after the switch (the host's own capture can only show
    // less: the routed link loses a frame now and then).
    let after: Vec<f64> = sent_times(&sent, Some(addr))
        .into_iter()
        .filter(|t| *t > switched)
        .collect();
    let received_after = sent_times(&frames, Some(addr))
        .into_iter()
        .filter(|t| *t > switched)
        .count();
    assert!(received_after <= after.len());
    assert!(
        after.len() <= BACKOFF_FRAMES,
        "{} frames reached the host after it went silent; the back-off schedule allows {BACKOFF_FRAMES}",
        after.len()
    );
    // It was backed off, not abandoned at once: the last re-check comes after the pauses.
    let last = after
        .last()
        .copied()
        .expect("the host was checked after going silent");
    assert!(
        last - switched >= PAUSES_S,
        "the last frame came {:.1} s after the switch, before the {PAUSES_S} s of pauses",
        last - switched
    );
    // And after that last check, nothing: the host was abandoned.
    let report = read_report(&dir);
    let h = &hosts(&report)[host];
    assert_eq!(h["scan_state"], "abandoned", "{h:#}");
    let notes = h["notes"].to_string();
    assert!(notes.contains("backed off 2 s + 4 s + 8 s"), "{notes}");

    let gaps: Vec<f64> = after.windows(2).map(|w| w[1] - w[0]).collect();
    let long_gaps = gaps.iter().filter(|g| **g >= 1.9).count();
    assert!(long_gaps >= 3, "no pauses between re-checks: {gaps:?}");
    keep_figures(
        "wire-backoff.json",
        &serde_json::json!({
            "command": format!(
                "kenshin scan {host} --no-identify -p 1-2000 (nft drop switched on 3 s in)"
            ),
            "answers_before_switch": answers_before,
            "frames_after_switch": after.len(),
            "frames_received_after_switch": received_after,
            "schedule_allows": BACKOFF_FRAMES,
            "last_frame_after_switch_s": last - switched,
        }),
    );
    drop(session);
}

/// The SYN-ACK `host` sent from `port`, if any: when the scanner learned the port is open.
fn syn_ack_from(frames: &[Frame], host: Ipv4Addr, port: u16) -> Option<f64> {
    frames.iter().find_map(|f| match &f.carried {
        Carried::Ipv4 {
            src,
            src_port: Some(p),
            tcp_flags: Some(flags),
            ..
        } if *src == host && *p == port && flags & 0x12 == 0x12 => Some(f.at),
        _ => None,
    })
}

#[test]
fn a_dicom_port_nobody_named_holds_its_host_to_the_medical_budget_from_the_class_sweep_on() {
    let session = lab();
    let out = out_dir();
    let dir = out.path().join("report");
    // A DICOM listener on 104 beside the old terminal's RDP, on the segment without
    // loss (a lost SYN would move 104 behind the other ports): nothing names the host,
    // only the open port tells its class.
    let mut extra = listen_in("ksl-term", "104");
    let capture = Capture::start("ksl-term", &artifacts().join("class-sweep-ksl-term.pcap"))
        .expect("capture");
    // Ports below 104 come first in the list's own order, as they would without the
    // sweep; 104 is the list's only port that tells a class.
    let o = kenshin_in_lab(&[
        "scan",
        TERMINAL_ADDR,
        "-p",
        "21,22,23,25,80,104,110,443,445",
        "--no-identify",
        "-o",
        dir.to_str().expect("utf-8"),
    ]);
    let frames = capture.stop().expect("capture read");
    let report = scan_report(&o, &mut extra, &dir);
    let budget = &hosts(&report)[TERMINAL_ADDR]["budget"];
    assert_eq!(budget["class"], "medical_device", "{budget:#}");
    assert_eq!(budget["source"], "open-port", "{budget:#}");

    // Measured in the host's own namespace: the SYNs it received before it answered on
    // 104 are the sweep's alone (104 itself), not the five ports listed before it.
    let host: Ipv4Addr = TERMINAL_ADDR.parse().expect("addr");
    let learned = syn_ack_from(&frames, host, 104).expect("104 answered SYN-ACK");
    let syns_before: Vec<Option<u16>> = frames
        .iter()
        .filter(|f| f.at < learned && f.from(scanner()))
        .filter_map(|f| match &f.carried {
            Carried::Ipv4 {
                dst_port,
                tcp_flags: Some(flags),
                ..
            } if flags & 0x12 == 0x02 => Some(*dst_port),
            _ => None,
        })
        .collect();
    assert_eq!(
        syns_before,
        vec![Some(104)],
        "SYNs the host received before its class was known"
    );
    // From that SYN-ACK on, no one-second interval carries more than the class budget.
    let after: Vec<f64> = sent_times(&frames, Some(host))
        .into_iter()
        .filter(|&t| t >= learned)
        .collect();
    let busiest = busiest_any_second(&after);
    assert!(
        within(busiest, MEDICAL_RATE),
        "{busiest} frames reached {TERMINAL_ADDR} within one second after tcp/104 told its \
         class (budget {MEDICAL_RATE}):\n{}",
        busiest_window(&frames, host, learned)
    );
    drop(session);
}

#[test]
fn an_open_port_costs_its_host_a_syn_and_an_rst_and_its_service_never_sees_a_connection() {
    let session = lab();
    let out = out_dir();
    let dir = out.path().join("report");
    let ports = [8081u16, 8082, 8083];
    // Listeners that say which connections their application accepted, on the segment
    // without loss (a lost frame would add a retransmission to count).
    let listeners = listen_with("ksl-term", "8081,8082,8083", Stdio::piped());
    let capture =
        Capture::start("ksl-term", &artifacts().join("half-open-ksl-term.pcap")).expect("capture");
    let o = kenshin_in_lab(&[
        "scan",
        TERMINAL_ADDR,
        "-p",
        "8081,8082,8083",
        "--no-identify",
        "-o",
        dir.to_str().expect("utf-8"),
    ]);
    let frames = capture.stop().expect("capture read");
    let mut listeners = listeners;
    let report = scan_report(&o, &mut listeners, &dir);
    let mut said = String::new();
    if let Some(mut out) = listeners.stdout.take() {
        use std::io::Read;
        out.read_to_string(&mut said).expect("listener output");
    }
    let found = open_ports(&hosts(&report)[TERMINAL_ADDR]);
    for port in ports {
        assert!(
            found.contains(&("tcp".to_owned(), port)),
            "tcp/{port} not found: {found:?}"
        );
    }

    // Measured in the host's namespace: on every connection to those ports the scanner
    // sent a SYN and then an RST, nothing else (no ACK completing the handshake, no data).
    let host: Ipv4Addr = TERMINAL_ADDR.parse().expect("addr");
    let mut conns: BTreeMap<(u16, u16), Vec<u8>> = BTreeMap::new();
    for f in frames.iter().filter(|f| f.from(scanner())) {
        if let Carried::Ipv4 {
            dst,
            src_port: Some(sp),
            dst_port: Some(dp),
            tcp_flags: Some(flags),
            ..
        } = &f.carried
        {
            if *dst == host && ports.contains(dp) {
                conns.entry((*dp, *sp)).or_default().push(*flags);
            }
        }
    }
    assert!(conns.len() >= ports.len(), "connections seen: {conns:?}");
    for ((port, from), flags) in &conns {
        let kinds: Vec<&str> = flags
            .iter()
            .map(|f| match (f & 0x02 != 0, f & 0x04 != 0) {
                (true, _) => "SYN",
                (_, true) => "RST",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            ["SYN", "RST"],
            "frames to tcp/{port} from scanner port {from} (flags {flags:02x?})"
        );
    }
    // The handshake never completed, so no application accepted a connection.
    assert!(
        !said.contains("accepted"),
        "the services accepted connections from the port scan:\n{said}"
    );
    drop(session);
}
