//! The TLS audit against the lab's TLS segment: real nginx and vsftpd servers with
//! chosen settings are characterised exactly (versions, suites, certificate facts,
//! the guideline profile), and testssl.sh, run on the same servers, agrees on every
//! protocol version and every accepted suite.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use kenshin_lab::{tls::SERVERS, SCANNER_NS, TLS_ADDR, TLS_NAME};
use serde_json::Value;

use crate::support::*;

struct TlsScan {
    report: Value,
    /// What kenshin printed.
    output: String,
    /// testssl.sh's JSON findings per port.
    testssl: BTreeMap<u16, Vec<Value>>,
}

/// One kenshin scan of the TLS host by name (so SNI and the name check apply), with the
/// lab's root CA as an extra trust anchor; then testssl.sh on every server.
fn tls_scan() -> &'static TlsScan {
    static SCAN: OnceLock<TlsScan> = OnceLock::new();
    SCAN.get_or_init(|| {
        let session = lab();
        let out = out_dir();
        let root = tls_name_and_root(&session, out.path());
        let dir = out.path().join("report");
        let ports: Vec<String> = SERVERS.iter().map(|s| s.port.to_string()).collect();
        let o = kenshin_in_lab(&[
            "scan",
            TLS_NAME,
            "-p",
            &ports.join(","),
            "--ca-file",
            root.to_str().expect("utf-8"),
            "-o",
            dir.to_str().expect("utf-8"),
        ]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
        let report = read_report(&dir);
        assert_valid_report(&report);
        let testssl = std::thread::scope(|s| {
            let runs: Vec<_> = SERVERS
                .iter()
                .map(|server| {
                    let out = out.path();
                    s.spawn(move || (server.port, testssl(out, server.port)))
                })
                .collect();
            runs.into_iter()
                .map(|h| h.join().expect("testssl thread"))
                .collect()
        });
        TlsScan {
            report,
            output: text(&o),
            testssl,
        }
    })
}

/// testssl.sh's protocol and per-protocol cipher checks on one lab server.
fn testssl(dir: &Path, port: u16) -> Vec<Value> {
    let json = dir.join(format!("testssl-{port}.json"));
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", SCANNER_NS, "testssl"])
        .args([
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
            "--nodns",
            "none",
        ])
        .args(["-p", "-E", "--jsonfile"])
        .arg(&json);
    if let Some(protocol) = kenshin_lab::tls::starttls(port) {
        cmd.args(["--starttls", protocol]);
    }
    let o = cmd
        .arg(format!("{TLS_ADDR}:{port}"))
        .output()
        .expect("testssl runs (tests/run installs the testssl.sh package)");
    let bytes = std::fs::read(&json)
        .unwrap_or_else(|e| panic!("testssl wrote no JSON for {port}: {e}\n{}", text(&o)));
    serde_json::from_slice(&bytes).expect("testssl JSON")
}

fn tls_of(port: u16) -> Value {
    let report = &tls_scan().report;
    let host = &hosts(report)[TLS_ADDR];
    let service = host["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["port"] == port)
        .unwrap_or_else(|| panic!("no service on {port}: {host}"));
    assert!(
        service["tls"].is_object(),
        "no TLS audit on {port}: {service}"
    );
    service["tls"].clone()
}

/// The evidence record with the ID `id` holds.
fn evidence_record(id: &Value) -> Value {
    tls_scan().report["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .find(|e| &e["id"] == id)
        .unwrap_or_else(|| panic!("evidence {id} missing"))
        .clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

fn suites(tls: &Value, version: &str) -> BTreeSet<String> {
    strings(&tls["cipher_suites"][version])
        .into_iter()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// Versions testssl.sh says are offered, in the contract's spelling.
fn testssl_versions(findings: &[Value]) -> BTreeSet<String> {
    let names = [
        ("SSLv2", "SSLv2"),
        ("SSLv3", "SSLv3"),
        ("TLS1", "TLSv1.0"),
        ("TLS1_1", "TLSv1.1"),
        ("TLS1_2", "TLSv1.2"),
        ("TLS1_3", "TLSv1.3"),
    ];
    findings
        .iter()
        .filter(|f| {
            f["finding"]
                .as_str()
                .is_some_and(|t| t.starts_with("offered"))
        })
        .filter_map(|f| {
            names
                .iter()
                .find(|(id, _)| f["id"] == *id)
                .map(|(_, v)| (*v).to_owned())
        })
        .collect()
}

/// Suites testssl.sh lists per version, as code points (`cipher-tls1_2_xc02f`).
fn testssl_suites(findings: &[Value]) -> BTreeMap<String, BTreeSet<u16>> {
    let prefixes = [
        ("cipher-tls1_3_x", "TLSv1.3"),
        ("cipher-tls1_2_x", "TLSv1.2"),
        ("cipher-tls1_1_x", "TLSv1.1"),
        ("cipher-tls1_x", "TLSv1.0"),
        ("cipher-ssl3_x", "SSLv3"),
    ];
    let mut out: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for f in findings {
        let id = f["id"].as_str().unwrap_or_default();
        if let Some((code, version)) = prefixes
            .iter()
            .find_map(|(p, v)| id.strip_prefix(p).map(|c| (c, *v)))
        {
            let code = u16::from_str_radix(code, 16).expect("hex code point");
            out.entry(version.to_owned()).or_default().insert(code);
        }
    }
    out
}

fn kenshin_suites(tls: &Value) -> BTreeMap<String, BTreeSet<u16>> {
    let mut out: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for s in tls["suites"].as_array().expect("suites") {
        let code = s["code"].as_str().expect("code").trim_start_matches("0x");
        out.entry(s["version"].as_str().expect("version").to_owned())
            .or_default()
            .insert(u16::from_str_radix(code, 16).expect("hex"));
    }
    out
}

#[test]
fn kenshin_and_testssl_agree_on_every_version_and_suite_of_every_lab_server() {
    let scan = tls_scan();
    let mut disagreements = Vec::new();
    for server in SERVERS {
        let tls = tls_of(server.port);
        let theirs = &scan.testssl[&server.port];
        let (tv, kv): (BTreeSet<String>, BTreeSet<String>) = (
            testssl_versions(theirs),
            strings(&tls["versions"]).into_iter().collect(),
        );
        if tv != kv {
            disagreements.push(format!(
                "{} ({}): versions testssl {tv:?} kenshin {kv:?}",
                server.port, server.name
            ));
        }
        let (ts, ks) = (testssl_suites(theirs), kenshin_suites(&tls));
        if ts != ks {
            disagreements.push(format!(
                "{} ({}): suites testssl {ts:x?} kenshin {ks:x?}",
                server.port, server.name
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn the_legacy_server_is_found_accepting_tls10_and_tls11_and_fails_every_profile() {
    let tls = tls_of(4431);
    assert_eq!(strings(&tls["versions"]), ["TLSv1.2", "TLSv1.1", "TLSv1.0"]);
    assert_eq!(
        strings(&tls["versions_refused"]),
        ["TLSv1.3", "SSLv3", "SSLv2"]
    );
    let legacy = set(&[
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
        "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
        "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",
    ]);
    assert_eq!(suites(&tls, "TLSv1.0"), legacy);
    assert_eq!(suites(&tls, "TLSv1.1"), legacy);
    assert!(suites(&tls, "TLSv1.2").is_superset(&legacy));
    assert_eq!(
        suites(&tls, "TLSv1.2").len(),
        29,
        "{}",
        tls["cipher_suites"]
    );
    let eval = &tls["evaluation"];
    assert_eq!(eval["satisfies"], Value::Null, "{eval}");
    let high: Vec<(String, String)> = eval["breaks"]["high"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| {
            (
                v["condition"].as_str().unwrap_or("").to_owned(),
                v["value"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    for want in [
        ("versions", "TLSv1.0"),
        ("versions", "TLSv1.1"),
        ("anon", "TLS_ECDH_anon_WITH_AES_128_CBC_SHA"),
        ("static-kx", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    ] {
        assert!(
            high.iter().any(|(c, v)| c == want.0 && v == want.1),
            "{want:?} missing from {high:?}"
        );
    }
    // Every violation is worded in Japanese and English.
    for v in eval["breaks"]["exception"].as_array().expect("violations") {
        assert!(
            v["ja"].as_str().is_some_and(|t| !t.is_empty())
                && v["en"].as_str().is_some_and(|t| !t.is_empty()),
            "{v}"
        );
    }
}

#[test]
fn the_aead_only_server_satisfies_high_security_in_its_own_order() {
    let tls = tls_of(4432);
    assert_eq!(strings(&tls["versions"]), ["TLSv1.2"]);
    assert_eq!(
        strings(&tls["cipher_suites"]["TLSv1.2"]),
        [
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        ]
    );
    assert_eq!(tls["preference"]["TLSv1.2"], "server");
    assert_eq!(tls["evaluation"]["satisfies"], "high");
    assert_eq!(tls["evaluation"]["satisfies_ja"], "高セキュリティ型");
    let groups = strings(&tls["groups"]);
    assert_eq!(
        groups.first().map(String::as_str),
        Some("x25519"),
        "{groups:?}"
    );
}

#[test]
fn the_tls13_only_server_shows_its_suites_groups_and_certificate() {
    let tls = tls_of(4433);
    assert_eq!(strings(&tls["versions"]), ["TLSv1.3"]);
    assert_eq!(
        suites(&tls, "TLSv1.3"),
        set(&[
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256"
        ])
    );
    let groups = strings(&tls["groups"]);
    for g in ["x25519", "secp256r1", "secp384r1", "ffdhe2048"] {
        assert!(groups.iter().any(|x| x == g), "{g} missing from {groups:?}");
    }
    // TLS 1.3 encrypts the certificate: it comes from the rustls handshake.
    assert_eq!(tls["certificate"]["subject_cn"], TLS_NAME);
    assert_eq!(tls["evaluation"]["satisfies"], "high");
}

#[test]
fn the_weak_certificate_is_described_as_rsa_1024_sha1_expired_and_self_signed() {
    let tls = tls_of(4434);
    let cert = &tls["certificate"];
    assert_eq!(cert["key_type"], "RSA");
    assert_eq!(cert["key_bits"], 1024);
    assert_eq!(cert["signature_hash"], "SHA-1");
    assert_eq!(cert["signature_algorithm"], "sha1WithRSAEncryption");
    assert_eq!(cert["expired"], true);
    assert_eq!(cert["not_after"], "2021-01-01T00:00:00Z");
    assert_eq!(cert["self_signed"], true);
    assert_eq!(cert["chain_trusted"], false);
    assert_eq!(cert["hostname_match"], false);
    assert!(
        cert["days_left"].as_i64().is_some_and(|d| d < -365),
        "{cert}"
    );
    let exception: Vec<&str> = tls["evaluation"]["breaks"]["exception"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["condition"].as_str())
        .collect();
    assert!(
        exception.contains(&"min_rsa_bits") && exception.contains(&"forbidden_signature_hashes"),
        "{exception:?}"
    );
}

#[test]
fn an_ecdsa_chain_under_the_hospital_ca_is_trusted_and_matches_the_scanned_name() {
    let tls = tls_of(4435);
    let cert = &tls["certificate"];
    assert_eq!(cert["key_type"], "EC");
    assert_eq!(cert["curve"], "P-256");
    assert_eq!(cert["key_bits"], 256);
    assert_eq!(cert["chain_length"], 2);
    assert_eq!(cert["chain_trusted"], true, "{cert}");
    assert_eq!(cert["hostname_match"], true);
    assert_eq!(cert["issuer"], "O=kenshin lab, CN=kenshin lab issuing CA");
    assert_eq!(
        strings(
            &tls["chain"]
                .as_array()
                .expect("chain")
                .iter()
                .map(|c| c["subject_cn"].clone())
                .collect::<Value>()
        ),
        [TLS_NAME, "kenshin lab issuing CA"]
    );
    assert_eq!(strings(&tls["versions"]), ["TLSv1.3", "TLSv1.2"]);
    assert_eq!(tls["preference"]["TLSv1.2"], "server");
}

#[test]
fn a_certificate_for_another_name_is_trusted_but_does_not_match() {
    let tls = tls_of(4436);
    let cert = &tls["certificate"];
    assert_eq!(cert["chain_trusted"], true, "{cert}");
    assert_eq!(cert["hostname_match"], false);
    assert_eq!(strings(&cert["sans"]), ["other.example"]);
    assert!(strings(&cert["names_checked"])
        .iter()
        .any(|n| n == TLS_NAME));
}

#[test]
fn ftp_is_upgraded_with_auth_tls_and_audited_like_any_tls_port() {
    let tls = tls_of(21);
    assert_eq!(tls["channel"], "ftp-auth-tls");
    assert_eq!(tls["starttls"], "ftp");
    assert_eq!(strings(&tls["versions"]), ["TLSv1.3", "TLSv1.2"]);
    assert_eq!(tls["certificate"]["subject_cn"], TLS_NAME);
    // Each handshake's evidence shows the upgrade before the hello.
    let ev = &tls["evidence"]["versions"]["TLSv1.2"];
    let evidence = evidence_record(ev);
    assert_eq!(evidence["probe"], "tls-hello");
    let sent = base64_decode(evidence["sent"].as_str().expect("sent"));
    assert!(
        sent.starts_with(b"AUTH TLS\r\n"),
        "{:?}",
        String::from_utf8_lossy(&sent[..sent.len().min(40)])
    );
}

#[test]
fn every_fact_points_at_the_handshake_that_showed_it_and_the_audit_stays_small() {
    let report = &tls_scan().report;
    let ids: BTreeSet<&str> = report["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    for server in SERVERS {
        let tls = tls_of(server.port);
        assert_eq!(tls["complete"], true, "{}: {}", server.port, tls["notes"]);
        for (version, id) in tls["evidence"]["versions"].as_object().expect("versions") {
            assert!(
                ids.contains(id.as_str().unwrap_or("")),
                "{}: {version} → {id}",
                server.port
            );
        }
        for s in tls["suites"].as_array().expect("suites") {
            assert!(ids.contains(s["evidence"].as_str().unwrap_or("")), "{s}");
        }
        assert!(ids.contains(tls["certificate"]["evidence"].as_str().unwrap_or("")));
        // Elimination: one handshake per accepted suite, one refusal per offer, the
        // groups, and a few more; never one connection per known suite.
        let accepted = tls["suites"].as_array().map_or(0, Vec::len) as u64;
        let handshakes = tls["handshakes"].as_u64().expect("handshakes");
        assert!(
            handshakes <= accepted + 40,
            "{}: {handshakes} handshakes for {accepted} suites",
            server.port
        );
    }
}

#[test]
fn the_summary_counts_legacy_protocols_the_high_profile_and_bad_certificates() {
    let out = &tls_scan().output;
    // 4431 and Postfix accept TLS 1.0/1.1; 4432 and 4433 satisfy 高セキュリティ型; 4431 and 4434 are
    // self-signed (4434 also expired), so two certificates are not trusted.
    assert!(
        out.contains(
            "TLS: 8 services audited, 2 accept SSL/TLS 1.0/1.1, 2 satisfy the guideline's \
             high-security profile, 2 with an expired or untrusted certificate"
        ),
        "{out}"
    );
}

#[test]
fn smtp_is_upgraded_with_starttls_after_ehlo_on_a_real_mail_server() {
    let tls = tls_of(25);
    assert_eq!(tls["channel"], "smtp-starttls");
    assert_eq!(tls["starttls"], "smtp");
    assert!(!strings(&tls["versions"]).is_empty(), "{tls}");
    assert_eq!(tls["certificate"]["subject_cn"], TLS_NAME);
    assert_eq!(tls["certificate"]["chain_trusted"], true);
    let ev = &tls["evidence"]["certificate"];
    let evidence = evidence_record(ev);
    let sent = base64_decode(evidence["sent"].as_str().expect("sent"));
    assert!(
        sent.starts_with(b"EHLO kenshin.invalid\r\nSTARTTLS\r\n"),
        "{:?}",
        String::from_utf8_lossy(&sent[..sent.len().min(40)])
    );
}
