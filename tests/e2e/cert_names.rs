//! Certificate names judged only against names a host is known by. Four scans of the
//! lab's TLS servers in one lab: by address only (no name: nothing judged, no finding),
//! by a hostname target (a finding where the certificate does not cover it, none where
//! it does), by the ledger's hostname column, and by the PTR record the lab resolver
//! (dnsmasq in ksl-dns) answers.

use std::sync::OnceLock;

use kenshin_lab::{SERVICES_ADDR, TLS_ADDR, TLS_NAME};
use serde_json::Value;

use crate::support::*;

const MISMATCH: &str = "tls.certificate-name-mismatch";

struct Scans {
    by_address: Value,
    by_target: Value,
    by_ledger: Value,
    by_ptr: Value,
}

fn scan(args: &[&str], out: &std::path::Path, name: &str) -> Value {
    let dir = out.join(name);
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", dir.to_str().expect("utf-8 path")]);
    let o = kenshin_in_lab(&all);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{name}: {}",
        text(&o)
    );
    let report = read_report(&dir);
    assert_valid_report(&report);
    report
}

fn scans() -> &'static Scans {
    static SCANS: OnceLock<Scans> = OnceLock::new();
    SCANS.get_or_init(|| {
        let session = lab();
        let out = out_dir();
        let root = tls_name_and_root(&session, out.path());
        let root = root.to_str().expect("utf-8 path").to_owned();
        let by_target = scan(
            &[TLS_NAME, "-p", "T:4435,4436", "--ca-file", &root],
            out.path(),
            "by-target",
        );
        // From here on the scanner's hosts file names nothing: names come only from
        // the resolver, the ledger or the target.
        session.lab.set_scanner_hosts(&[]).expect("hosts file");
        let by_address = scan(&[SERVICES_ADDR, "-p", "T:443"], out.path(), "by-address");
        let ledger = out.path().join("台帳.csv");
        std::fs::write(
            &ledger,
            format!("IPアドレス,ホスト名,種別\n{SERVICES_ADDR},pacs.lab.example,医療機器\n"),
        )
        .expect("ledger written");
        let by_ledger = scan(
            &[
                SERVICES_ADDR,
                "-p",
                "T:443",
                "--inventory",
                ledger.to_str().expect("utf-8"),
            ],
            out.path(),
            "by-ledger",
        );
        let by_ptr = scan(
            &[TLS_ADDR, "-p", "T:4435,4436", "--ca-file", &root],
            out.path(),
            "by-ptr",
        );
        Scans {
            by_address,
            by_target,
            by_ledger,
            by_ptr,
        }
    })
}

fn certificate(report: &Value, port: u64) -> &Value {
    report["hosts"]
        .as_array()
        .and_then(|h| h.first())
        .and_then(|h| h["services"].as_array())
        .and_then(|s| s.iter().find(|s| s["port"] == port))
        .map(|s| &s["tls"]["certificate"])
        .unwrap_or_else(|| panic!("no TLS service on {port}: {report:#}"))
}

fn mismatches(report: &Value, port: u64) -> Vec<&Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == MISMATCH && f["port"] == port)
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn a_host_known_only_by_its_address_is_not_judged_and_raises_no_mismatch() {
    let r = &scans().by_address;
    let c = certificate(r, 443);
    assert_eq!(c["subject_cn"], "lab-svc", "{c:#}");
    assert_eq!(c["names_checked"], Value::Array(vec![]), "{c:#}");
    assert_eq!(c["name_check"], "no-name-known");
    assert_eq!(c["hostname_match"], Value::Null);
    assert!(mismatches(r, 443).is_empty(), "{:#}", r["findings"]);
    assert_eq!(r["hosts"][0]["reverse_names"], Value::Array(vec![]));
    let tls_notes = strings(&r["hosts"][0]["services"][0]["tls"]["notes"]).join(" ");
    assert!(tls_notes.contains("no name known"), "{tls_notes}");
}

#[test]
fn a_hostname_target_the_certificate_does_not_cover_is_a_confirmed_mismatch() {
    let r = &scans().by_target;
    let c = certificate(r, 4436);
    assert_eq!(c["name_check"], "mismatch", "{c:#}");
    assert!(strings(&c["names_checked"]).contains(&TLS_NAME), "{c:#}");
    assert_eq!(strings(&c["name_sources"])[0], "target", "{c:#}");
    let f = mismatches(r, 4436);
    assert_eq!(f.len(), 1, "{:#}", r["findings"]);
    assert_eq!(f[0]["confidence"], "confirmed");
}

#[test]
fn a_hostname_target_the_certificate_covers_raises_nothing() {
    let r = &scans().by_target;
    let c = certificate(r, 4435);
    assert_eq!(c["name_check"], "match", "{c:#}");
    assert_eq!(c["hostname_match"], true);
    assert!(mismatches(r, 4435).is_empty(), "{:#}", r["findings"]);
}

#[test]
fn the_ledgers_hostname_is_a_known_name_and_its_mismatch_is_raised() {
    let r = &scans().by_ledger;
    let c = certificate(r, 443);
    assert_eq!(strings(&c["names_checked"]), ["pacs.lab.example"], "{c:#}");
    assert_eq!(strings(&c["name_sources"]), ["ledger"], "{c:#}");
    assert_eq!(c["name_check"], "mismatch");
    let f = mismatches(r, 443);
    assert_eq!(f.len(), 1, "{:#}", r["findings"]);
    assert!(
        f[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("pacs.lab.example")),
        "{:#}",
        f[0]
    );
}

#[test]
fn the_ptr_record_from_the_lab_resolver_is_a_known_name() {
    let r = &scans().by_ptr;
    let host = &r["hosts"][0];
    assert_eq!(strings(&host["reverse_names"]), [TLS_NAME], "{host:#}");
    let c = certificate(r, 4436);
    assert_eq!(strings(&c["names_checked"]), [TLS_NAME], "{c:#}");
    assert_eq!(strings(&c["name_sources"]), ["ptr"]);
    assert_eq!(mismatches(r, 4436).len(), 1, "{:#}", r["findings"]);
    // The good leaf names the address too, so the address is checked beside the PTR name.
    let good = certificate(r, 4435);
    assert_eq!(good["name_check"], "match", "{good:#}");
    assert_eq!(strings(&good["name_sources"]), ["ptr", "address"]);
    assert!(mismatches(r, 4435).is_empty());
    // The lookup itself is evidence, one for the host.
    let lookups: Vec<&Value> = r["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter(|e| e["probe"] == "dns-ptr")
        .collect();
    assert_eq!(lookups.len(), 1, "{lookups:#?}");
}
