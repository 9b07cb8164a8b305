//! What identification says about each lab service, from the shared full scan.
//! Versions are read from the Debian packages installed on this machine, so the
//! assertions stay exact across Debian point releases.

use std::process::Command;

use kenshin_lab::{SERVICES2_ADDR, SERVICES_ADDR};
use serde_json::Value;

use crate::lab_scan::full_scan;
use crate::support::*;

/// The installed package's upstream version and Debian revision: `1:9.2p1-2+deb12u10`
/// gives (`9.2p1`, `2+deb12u10`).
fn package_version(package: &str) -> (String, String) {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", package])
        .output()
        .expect("dpkg-query runs");
    let full = String::from_utf8_lossy(&out.stdout).into_owned();
    let no_epoch = full.split_once(':').map_or(full.as_str(), |(_, v)| v);
    let (upstream, revision) = no_epoch.rsplit_once('-').unwrap_or((no_epoch, ""));
    (upstream.to_owned(), revision.to_owned())
}

fn service(addr: &str, port: u16) -> Value {
    let report = &full_scan().report;
    let host = &hosts(report)[addr];
    host["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["port"] == port && s["protocol"] == "tcp")
        .unwrap_or_else(|| panic!("no tcp/{port} on {addr}: {host}"))
        .clone()
}

fn evidence(id: &str) -> Value {
    full_scan().report["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("evidence {id} missing"))
        .clone()
}

#[test]
fn openssh_is_named_with_its_version_and_debian_revision() {
    let (upstream, revision) = package_version("openssh-server");
    let s = service(SERVICES_ADDR, 22);
    assert_eq!(s["service"], "ssh", "{s}");
    assert_eq!(s["service_from"], "probe");
    assert_eq!(s["product"], "OpenSSH");
    assert_eq!(s["version"], upstream.as_str());
    assert_eq!(s["identity"]["distribution"], "Debian");
    assert_eq!(s["identity"]["package_revision"], revision.as_str());
    assert_eq!(s["facts"]["ssh.comments"], format!("Debian-{revision}"));
}

#[test]
fn vsftpd_and_nginx_are_named_from_their_banners() {
    let ftp = service(SERVICES_ADDR, 21);
    assert_eq!(ftp["product"], "vsftpd", "{ftp}");
    assert_eq!(ftp["version"], package_version("vsftpd").0.as_str());
    let http = service(SERVICES_ADDR, 80);
    assert_eq!(http["service"], "http");
    assert_eq!(http["product"], "nginx", "{http}");
    assert_eq!(http["version"], package_version("nginx-light").0.as_str());
    assert_eq!(http["facts"]["http.status"], 200);
    assert_eq!(
        http["facts"]["http.server"],
        format!("nginx/{}", package_version("nginx-light").0)
    );
}

#[test]
fn telnet_is_negotiated_and_its_login_banner_read() {
    let s = service(SERVICES_ADDR, 23);
    assert_eq!(s["service"], "telnet", "{s}");
    assert_eq!(s["product"], "GNU inetutils telnetd");
    let banner = s["banner"].as_str().expect("banner");
    assert!(banner.ends_with("login:"), "{banner}");
    let options = s["facts"]["telnet.options"].to_string();
    assert!(options.contains("DO terminal-type"), "{options}");
    let ev = evidence(s["evidence"][1].as_str().expect("id"));
    assert!(
        ev["sent"].as_str().is_some_and(|b| !b.is_empty()),
        "kenshin answered the negotiation"
    );
    // The transcript keeps the order and time of each read and write: the server spoke
    // first, kenshin answered, the server sent its banner.
    let exchange = ev["exchange"].as_array().expect("exchange");
    assert_eq!(exchange[0]["direction"], "received", "{ev}");
    assert!(exchange.iter().any(|x| x["direction"] == "sent"), "{ev}");
    let times: Vec<f64> = exchange
        .iter()
        .filter_map(|x| x["at_ms"].as_f64())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn smb1_is_accepted_by_one_samba_and_refused_by_the_other() {
    let nt1 = service(SERVICES_ADDR, 445);
    let smb2_only = service(SERVICES2_ADDR, 445);
    for s in [&nt1, &smb2_only] {
        assert_eq!(s["service"], "smb", "{s}");
        assert_eq!(s["product"], "Samba", "{s}");
        assert_eq!(s["facts"]["smb.dialect"], "3.1.1");
        assert_eq!(s["facts"]["smb.signing_required"], false);
    }
    assert_eq!(nt1["facts"]["smb.smb1"], true);
    // Each older SMB2 dialect was offered alone; Samba accepts them all.
    let smb2 = ["2.0.2", "2.1", "3.0", "3.0.2", "3.1.1"];
    let mut with_smb1 = vec!["NT LM 0.12"];
    with_smb1.extend(smb2);
    assert_eq!(nt1["facts"]["smb.dialects"], serde_json::json!(with_smb1));
    assert_eq!(smb2_only["facts"]["smb.smb1"], false);
    assert_eq!(smb2_only["facts"]["smb.dialects"], serde_json::json!(smb2));
    assert_eq!(nt1["facts"]["smb.netbios_computer"], "KSLSVC");
}

#[test]
fn dicom_association_is_accepted_released_and_its_implementation_read() {
    let s = service(SERVICES_ADDR, 11112);
    let version = package_version("dcmtk").0;
    assert_eq!(s["service"], "dicom", "{s}");
    assert_eq!(s["facts"]["dicom.association"], "accepted");
    assert_eq!(s["facts"]["dicom.verification"], true);
    assert_eq!(
        s["facts"]["dicom.implementation_version"],
        format!("OFFIS_DCMTK_{}", version.replace('.', ""))
    );
    assert_eq!(s["product"], "DCMTK");
    assert_eq!(s["version"], version.as_str());
    let ev = evidence(s["evidence"][1].as_str().expect("id"));
    assert!(
        ev["note"]
            .as_str()
            .is_some_and(|n| n.contains("A-RELEASE-RQ sent at once and confirmed")),
        "{ev}"
    );
}

#[test]
fn vnc_without_authentication_is_seen_for_what_it_is() {
    let s = service(SERVICES_ADDR, 5901);
    assert_eq!(s["service"], "vnc", "{s}");
    assert_eq!(s["facts"]["vnc.no_auth"], true);
    assert_eq!(
        s["facts"]["vnc.security_types"],
        serde_json::json!(["none"])
    );
}

#[test]
fn rdp_negotiation_says_credssp_is_selected() {
    let s = service(SERVICES2_ADDR, 3389);
    assert_eq!(s["service"], "rdp", "{s}");
    assert_eq!(s["facts"]["rdp.selected_protocol"], "credssp");
}

#[test]
fn rdp_tls_after_the_negotiation_is_audited_with_its_certificate() {
    let s = service(SERVICES2_ADDR, 3389);
    let tls = &s["tls"];
    assert_eq!(tls["channel"], "rdp-tls", "{s}");
    assert_eq!(tls["starttls"], "rdp");
    assert_eq!(tls["versions"], serde_json::json!(["TLSv1.3", "TLSv1.2"]));
    assert_eq!(tls["certificate"]["subject_cn"], "LAB-RDP");
    assert_eq!(tls["certificate"]["self_signed"], true);
}

#[test]
fn the_https_ports_of_the_full_scan_are_audited_too() {
    for (addr, port) in [(SERVICES_ADDR, 443), (SERVICES2_ADDR, 10443)] {
        let s = service(addr, port);
        let tls = &s["tls"];
        assert_eq!(
            tls["versions"],
            serde_json::json!(["TLSv1.2"]),
            "{addr}:{port} {s}"
        );
        assert_eq!(tls["complete"], true, "{addr}:{port} {}", tls["notes"]);
        assert!(tls["evaluation"]["breaks"]["high"].is_array());
    }
}

#[test]
fn snmp_facts_identify_net_snmp_on_linux() {
    let report = &full_scan().report;
    let svc = &hosts(report)[SERVICES_ADDR];
    let snmp = svc["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["protocol"] == "udp" && s["port"] == 161)
        .expect("udp/161");
    assert_eq!(snmp["product"], "Net-SNMP", "{snmp}");
    assert_eq!(
        snmp["facts"]["snmp.sys_object_id"],
        "1.3.6.1.4.1.8072.3.2.10"
    );
}

#[test]
fn hostile_servers_cost_bounded_time_and_the_report_says_what_was_seen() {
    let s = full_scan();
    let host = &hosts(&s.report)[SERVICES2_ADDR];
    assert_eq!(host["scan_state"], "complete", "{host}");
    let notes = |port: u16| service(SERVICES2_ADDR, port)["notes"].to_string();
    // tarpit: silent to a banner wait, to TLS and to HTTP, each within its deadline
    let tarpit = notes(2323);
    assert!(
        tarpit.contains("said nothing") && tarpit.contains("TLS"),
        "{tarpit}"
    );
    // drip: one byte a second never completes the greeting
    let drip = service(SERVICES2_ADDR, 21);
    assert!(drip["notes"].to_string().contains("incomplete"), "{drip}");
    assert!(
        drip["banner"]
            .as_str()
            .is_some_and(|b| b.starts_with("220 x")),
        "{drip}"
    );
    // endless banner: stopped by the reply-size cap, the capture is cut
    let endless = service(SERVICES2_ADDR, 25);
    assert!(
        endless["notes"].to_string().contains("too large"),
        "{endless}"
    );
    // garbage: kept, escaped, never mistaken for a protocol
    let garbage = service(SERVICES2_ADDR, 110);
    assert_eq!(garbage["service_from"], "port", "{garbage}");
    assert!(
        garbage["banner"]
            .as_str()
            .is_some_and(|b| b.contains("\\x")),
        "{garbage}"
    );
    // reset mid-identification: what arrived is kept and the failure noted
    let reset = service(SERVICES2_ADDR, 22);
    assert_eq!(reset["banner"], "SSH-2.0-Open", "{reset}");
    assert!(reset["notes"].to_string().contains("reset"), "{reset}");
    for e in s.report["evidence"].as_array().expect("evidence") {
        let received = e["received"].as_str().expect("b64").len();
        assert!(
            received <= 4096 * 4 / 3 + 4,
            "evidence {} not capped",
            e["id"]
        );
    }
}

#[test]
fn connect_only_ports_get_a_connect_and_nothing_else() {
    let report = &full_scan().report;
    let mut seen = 0;
    for h in hosts(report).values() {
        for s in h["services"].as_array().expect("services") {
            if s["connect_only"] != true {
                continue;
            }
            seen += 1;
            assert_eq!(s["evidence"].as_array().map(Vec::len), Some(1), "{s}");
            let ev = evidence(s["evidence"][0].as_str().expect("id"));
            assert_eq!(ev["probe"], "tcp-connect");
            assert_eq!(ev["sent"], "");
        }
    }
    assert!(
        seen >= 10,
        "the lab's raw print ports were not seen: {seen}"
    );
}

#[test]
fn every_evidence_id_a_service_cites_is_in_the_report() {
    let report = &full_scan().report;
    let ids: std::collections::BTreeSet<&str> = report["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    for h in hosts(report).values() {
        for s in h["services"].as_array().expect("services") {
            for id in s["evidence"].as_array().expect("ids") {
                assert!(ids.contains(id.as_str().expect("str")), "{id} missing");
            }
        }
    }
}

#[test]
fn https_is_recognised_with_its_negotiated_version_and_certificate() {
    let s = service(SERVICES_ADDR, 443);
    assert_eq!(s["service"], "https", "{s}");
    assert_eq!(s["product"], "nginx");
    let f = &s["facts"];
    assert_eq!(f["tls.handshake"], true);
    assert!(
        matches!(f["tls.version"].as_str(), Some("TLSv1.2" | "TLSv1.3")),
        "{f}"
    );
    assert_eq!(f["tls.subject_cn"], "lab-svc");
    assert_eq!(f["tls.self_signed"], true);
    assert_eq!(f["http.title"], "kenshin lab");
}

#[test]
fn a_vpn_portal_is_named_from_its_page_and_certificate_not_its_web_server() {
    let s = service(SERVICES2_ADDR, 10443);
    assert_eq!(s["service"], "https", "{s}");
    assert_eq!(s["vendor"], "Fortinet");
    assert_eq!(s["product"], "FortiGate SSL-VPN");
    assert_eq!(
        s["version"],
        Value::Null,
        "the web server's version is not the portal's"
    );
    assert_eq!(s["identity"]["model"], "FGT60F");
    assert_eq!(s["identity"]["device"], "network_device");
    let host = &hosts(&full_scan().report)[SERVICES2_ADDR];
    assert_eq!(host["kind"], "network_device", "{}", host["kind_reason"]);
}
