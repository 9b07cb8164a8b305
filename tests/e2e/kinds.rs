//! Device kinds of every live host in kenshin's own lab, from one scan of its three
//! segments: the table below is the answer each host must get, with the evidence that
//! should decide it. No host the lab builds is left `unknown`: each shows some evidence
//! (a fingerprint, an operating system serving, the network's routing, the MAC vendor,
//! or at least an open port).

use std::net::Ipv4Addr;
use std::sync::OnceLock;

use kenshin_lab::{SEGMENTS, TLS_SEGMENT};
use serde_json::Value;

use crate::support::*;

/// (first address, last address, kind, the evidence that decides it).
const EXPECTED: &[(&str, &str, &str, &str)] = &[
    (
        "198.18.1.1",
        "198.18.1.1",
        "network_device",
        "the scanner's gateway in its routing table",
    ),
    (
        "198.18.1.2",
        "198.18.1.2",
        "server",
        "the scanner's own address",
    ),
    (
        "198.18.1.10",
        "198.18.1.59",
        "server",
        "web ports open, nothing else said",
    ),
    (
        "198.18.1.100",
        "198.18.1.109",
        "medical_device",
        "a medical vendor's MAC over the RDP port",
    ),
    (
        "198.18.1.110",
        "198.18.1.119",
        "medical_device",
        "a medical vendor's MAC over the print port",
    ),
    (
        "198.18.1.200",
        "198.18.1.200",
        "server",
        "a web port open before it fell silent",
    ),
    (
        "198.18.2.1",
        "198.18.2.1",
        "network_device",
        "answers an echo limited to one hop from beyond the segment",
    ),
    (
        "198.18.2.10",
        "198.18.2.10",
        "medical_device",
        "speaks DICOM (and Debian serves SSH, HTTP, FTP)",
    ),
    (
        "198.18.2.11",
        "198.18.2.11",
        "network_device",
        "the FortiGate portal's fingerprint",
    ),
    (
        "198.18.2.20",
        "198.18.2.39",
        "server",
        "web ports open, nothing else said",
    ),
    (
        "198.18.2.40",
        "198.18.2.59",
        "terminal_pc",
        "the SMB port's hint",
    ),
    (
        "198.18.2.100",
        "198.18.2.119",
        "medical_device",
        "the DICOM port's hint",
    ),
    (
        "198.18.2.120",
        "198.18.2.139",
        "terminal_pc",
        "the TeamViewer port's hint",
    ),
    (
        "198.18.3.1",
        "198.18.3.1",
        "network_device",
        "answers an echo limited to one hop from beyond the segment",
    ),
    (
        "198.18.3.10",
        "198.18.3.10",
        "server",
        "nginx, vsftpd and Postfix",
    ),
    (
        "198.18.3.20",
        "198.18.3.20",
        "network_device",
        "the Cisco IOS sysDescr",
    ),
    (
        "198.18.3.30",
        "198.18.3.30",
        "terminal_pc",
        "the RDP port's hint",
    ),
    (
        "198.18.3.53",
        "198.18.3.53",
        "server",
        "the DNS port's hint",
    ),
];

fn expected_kind(addr: Ipv4Addr) -> Option<(&'static str, &'static str)> {
    EXPECTED.iter().find_map(|(lo, hi, kind, why)| {
        let lo: Ipv4Addr = lo.parse().expect("table address");
        let hi: Ipv4Addr = hi.parse().expect("table address");
        (lo <= addr && addr <= hi).then_some((*kind, *why))
    })
}

struct KindScan {
    report: Value,
    output: String,
}

/// Both lab segments and the TLS segment, at raised rate caps (our own lab).
fn kind_scan() -> &'static KindScan {
    static SCAN: OnceLock<KindScan> = OnceLock::new();
    SCAN.get_or_init(|| {
        let _session = lab();
        let out = out_dir();
        let dir = out.path().join("report");
        let o = kenshin_in_lab(&[
            "scan",
            SEGMENTS[0],
            SEGMENTS[1],
            TLS_SEGMENT,
            "--rate",
            "4000",
            "--host-rate",
            "200",
            "--retries",
            "2",
            "-o",
            dir.to_str().expect("utf-8 path"),
        ]);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "the scan failed: {}",
            text(&o)
        );
        let report = read_report(&dir);
        assert_valid_report(&report);
        KindScan {
            report,
            output: text(&o),
        }
    })
}

#[test]
fn every_live_host_in_the_lab_gets_the_kind_its_evidence_shows() {
    let s = kind_scan();
    let hosts = hosts(&s.report);
    let mut wrong = Vec::new();
    for (addr, h) in &hosts {
        let a: Ipv4Addr = addr.parse().expect("IPv4 address");
        let Some((want, why)) = expected_kind(a) else {
            wrong.push(format!(
                "{addr}: not in the lab's table ({})",
                h["kind_reason"]
            ));
            continue;
        };
        if h["kind"] != want {
            wrong.push(format!(
                "{addr}: {} but should be {want} ({why}); reason: {}",
                h["kind"], h["kind_reason"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}\n{}", wrong.join("\n"), s.output);
}

#[test]
fn every_address_of_the_table_was_found() {
    let s = kind_scan();
    let hosts = hosts(&s.report);
    for (lo, hi, _, why) in EXPECTED {
        for addr in [lo, hi] {
            assert!(
                hosts.contains_key(*addr),
                "{addr} ({why}) not found\n{}",
                s.output
            );
        }
    }
}

#[test]
fn no_host_is_unknown_and_each_kind_has_a_confidence_and_reasons_in_both_languages() {
    let s = kind_scan();
    for h in s.report["hosts"].as_array().expect("hosts") {
        assert_ne!(h["kind"], "unknown", "{h:#}");
        assert!(
            matches!(
                h["kind_confidence"].as_str(),
                Some("confirmed" | "likely" | "potential")
            ),
            "{h:#}"
        );
        assert!(
            h["kind_reason"].as_str().is_some_and(|r| r.len() > 10),
            "{h:#}"
        );
        assert!(
            h["kind_reason_ja"].as_str().is_some_and(|r| !r.is_empty()),
            "{h:#}"
        );
    }
}

#[test]
fn the_routers_are_known_from_the_network_itself_with_confirmed_confidence() {
    let s = kind_scan();
    let hosts = hosts(&s.report);
    for (addr, route) in [
        ("198.18.1.1", "gateway"),
        ("198.18.2.1", "one_hop"),
        ("198.18.3.1", "one_hop"),
    ] {
        let h = &hosts[addr];
        assert_eq!(h["kind_confidence"], "confirmed", "{h:#}");
        let reason = h["kind_reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("network.routes-for-the-scanner") && reason.contains(route),
            "{addr}: {reason}"
        );
        assert!(h["services"].as_array().is_some_and(Vec::is_empty), "{h:#}");
    }
    // The hop probes are evidence like any other probe.
    let hops = s.report["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter(|e| e["probe"] == "icmp-hop")
        .count();
    assert!(hops >= 2, "no icmp-hop evidence");
}

#[test]
fn a_debian_host_serving_telnet_is_not_called_a_network_device_for_it() {
    let s = kind_scan();
    let h = &hosts(&s.report)[kenshin_lab::SERVICES_ADDR];
    let reason = h["kind_reason"].as_str().unwrap_or_default();
    // DICOM decides (medical_device); the general-purpose OS serving SSH, HTTP and
    // FTP is named among the likely evidence, and telnet's port hint is outweighed.
    assert_eq!(h["kind"], "medical_device", "{reason}");
    assert!(reason.contains("spoken.dicom"), "{reason}");
    assert!(
        reason.contains("outweighed")
            && reason.contains("os.general-purpose-serving")
            && reason.contains("network_device (potential: open ports tcp/23"),
        "{reason}"
    );
}
