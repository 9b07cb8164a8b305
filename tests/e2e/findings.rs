//! Findings, device kinds and the checklist from one scan of the lab's real daemons
//! and fixtures: every expected finding is there with its requirement IDs and
//! confidence, the modern OpenSSH and the modern TLS servers raise none, every host
//! has a kind with a reason, and the checklist view covers every 令和7年度版 item.

use std::sync::OnceLock;

use kenshin_lab::{SERVICES2_ADDR, SERVICES_ADDR, SWITCH_ADDR, TERMINAL_ADDR, TLS_ADDR, TLS_NAME};
use serde_json::Value;

use crate::support::*;

pub(crate) struct Scan {
    pub report: Value,
    pub output: String,
    pub code: Option<i32>,
    /// The report folder, kept for the report-folder tests.
    pub dir: std::path::PathBuf,
    _out: tempfile::TempDir,
}

/// The asset ledger given to the scan, as a hospital's Excel would export it
/// (Shift_JIS, Japanese headers): the services hosts by address (the PACS with its
/// hostname, which its HTTPS certificate does not carry), the TLS host by name, the
/// switch; not the old terminal. One row has no address and is not on
/// the network; one lies outside the scanned scope.
pub(crate) const LEDGER: &str =
    "IPアドレス,MACアドレス,ホスト名,種別,管理者,設置場所,備考,資産番号\r\n\
198.18.2.10,,pacs.lab.example,医療機器,放射線科,CT室,PACS,A-001\r\n\
198.18.2.11,,,ネットワーク機器,情報システム課,サーバ室,VPN,A-002\r\n\
,,tls.lab.example,サーバ,情報システム課,サーバ室,,A-003\r\n\
198.18.3.20,,,ネットワーク機器,情報システム課,2階 EPS,,A-004\r\n\
,,old-fax,その他,医事課,1階受付,廃棄予定,A-005\r\n\
198.18.9.9,,,サーバ,医事課,別棟,,A-006\r\n";

/// The lab's real services, the TLS servers by name (so the name check applies), the
/// switch and the old terminal, scanned from the segment named `guest`, with the
/// asset ledger.
pub(crate) fn scan() -> &'static Scan {
    static SCAN: OnceLock<Result<Scan, String>> = OnceLock::new();
    // A failed scan is remembered, so the tests sharing it fail at once instead of
    // each scanning again.
    let outcome = SCAN.get_or_init(|| {
        std::panic::catch_unwind(run_scan).map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default()
        })
    });
    match outcome {
        Ok(s) => s,
        Err(e) => panic!("the shared findings scan failed: {e}"),
    }
}

fn run_scan() -> Scan {
    {
        let session = lab();
        let out = out_dir();
        let root = tls_name_and_root(&session, out.path());
        let ledger = out.path().join("台帳.csv");
        let (sjis, _, lossy) = encoding_rs::SHIFT_JIS.encode(LEDGER);
        assert!(!lossy, "the ledger fits Shift_JIS");
        std::fs::write(&ledger, &sjis).expect("ledger written");
        let dir = out.path().join("report");
        let o = kenshin_in_lab(&[
            "scan",
            SERVICES_ADDR,
            SERVICES2_ADDR,
            TLS_NAME,
            SWITCH_ADDR,
            TERMINAL_ADDR,
            "-p",
            "T:21-23,25,443,445,2121,3389,4431-4436,5901,10443,11112,U:161",
            "--ca-file",
            root.to_str().expect("utf-8"),
            "--segment",
            "guest=198.18.1.0/24",
            "--segment",
            "clinical=198.18.2.0/24",
            "--segment",
            "servers=198.18.3.0/24",
            "--vantage",
            "guest",
            "--inventory",
            ledger.to_str().expect("utf-8"),
            "-o",
            dir.to_str().expect("utf-8"),
        ]);
        let report = read_report(&dir);
        assert_valid_report(&report);
        Scan {
            report,
            output: text(&o),
            code: o.status.code(),
            dir,
            _out: out,
        }
    }
}

fn findings() -> &'static [Value] {
    scan().report["findings"].as_array().expect("findings")
}

/// The findings of `check` on `host:port`.
fn find(check: &str, host: &str, port: u16) -> Vec<&'static Value> {
    findings()
        .iter()
        .filter(|f| f["check"] == check && f["host"] == host && f["port"] == port)
        .collect()
}

fn r7(f: &Value) -> Vec<&str> {
    f["requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .filter(|r| r["framework"] == "mhlw-checklist-r7")
        .filter_map(|r| r["id"].as_str())
        .collect()
}

/// Asserts one finding of `check` on `host:port` with this confidence, bearing on
/// checklist item `item`; returns it.
fn expect(check: &str, host: &str, port: u16, confidence: &str, item: &str) -> &'static Value {
    let hits = find(check, host, port);
    let f = hits.first().unwrap_or_else(|| {
        let seen: Vec<String> = findings()
            .iter()
            .map(|f| format!("{} {}:{}", f["check"], f["host"], f["port"]))
            .collect();
        panic!(
            "no {check} on {host}:{port}; findings: {seen:#?}\n{}",
            scan().output
        )
    });
    assert_eq!(f["confidence"], confidence, "{f:#}");
    assert!(
        r7(f).contains(&item),
        "{check} should bear on {item}: {f:#}"
    );
    f
}

#[test]
fn the_lab_scan_exits_1_because_it_has_findings_and_prints_them_by_severity() {
    let s = scan();
    assert_eq!(s.code, Some(1), "{}", s.output);
    assert!(s.output.contains("findings: critical"), "{}", s.output);
    assert!(
        s.output.contains("checklist (R7), 19 items"),
        "{}",
        s.output
    );
}

#[test]
fn cleartext_and_unnecessary_services_bear_on_2_12() {
    expect("service.telnet", SERVICES_ADDR, 23, "exposure", "2-⑫");
    expect(
        "service.ftp-cleartext",
        SERVICES_ADDR,
        21,
        "exposure",
        "2-⑫",
    );
    let smb1 = expect("smb.v1-enabled", SERVICES_ADDR, 445, "confirmed", "2-⑫");
    assert_eq!(smb1["severity"], "high");
    let vnc = expect(
        "remote-access.vnc-no-auth",
        SERVICES_ADDR,
        5901,
        "confirmed",
        "2-⑫",
    );
    assert_eq!(vnc["severity"], "critical");
    expect(
        "remote-access.rdp-standard-security",
        TERMINAL_ADDR,
        3389,
        "confirmed",
        "2-⑫",
    );
}

#[test]
fn the_default_snmp_community_and_the_old_ios_train_are_found_on_the_switch() {
    let snmp = expect(
        "snmp.default-community",
        SWITCH_ADDR,
        161,
        "confirmed",
        "2-⑦",
    );
    assert!(r7(snmp).contains(&"2-⑧"), "{snmp:#}");
    assert!(
        !serde_json::to_string(&scan().report)
            .expect("json")
            .contains("kenshin-lab-ro"),
        "a community string leaked into the report"
    );
    let eol = expect(
        "lifecycle.end-of-support",
        SWITCH_ADDR,
        161,
        "confirmed",
        "2-⑥",
    );
    assert_eq!(eol["advisory"]["id"], "cisco-ios-12-eol", "{eol:#}");
    assert!(
        eol["detail"]
            .as_str()
            .is_some_and(|d| d.contains("12.2(55)SE7")),
        "{eol:#}"
    );
}

#[test]
fn the_fortigate_portal_with_an_old_build_date_is_likely_vulnerable_with_kev_dates() {
    expect(
        "vpn.gateway-exposed",
        SERVICES2_ADDR,
        10443,
        "exposure",
        "2-⑥",
    );
    let hits: Vec<&Value> = find("vuln.known-exploited", SERVICES2_ADDR, 10443);
    let by_id = |id: &str| {
        hits.iter()
            .find(|f| f["advisory"]["id"] == id)
            .unwrap_or_else(|| panic!("no {id}: {hits:#?}"))
    };
    let heap = by_id("fortios-cve-2022-42475");
    assert_eq!(heap["confidence"], "likely", "{heap:#}");
    assert_eq!(heap["advisory"]["kev_added"], "2022-12-13");
    assert!(r7(heap).contains(&"2-⑥"));
    assert!(
        heap["advisory"]["basis"]
            .as_str()
            .is_some_and(|b| b.contains("2018-06-12")),
        "{heap:#}"
    );
    let creds = by_id("fortios-cve-2018-13379");
    assert!(
        creds["remediation"]["en"]
            .as_str()
            .is_some_and(|r| r.contains("reset every SSL-VPN user's password")),
        "{creds:#}"
    );
    // The admin-interface flaw, too: the portal's build predates every fix.
    assert_eq!(by_id("fortios-cve-2022-40684")["confidence"], "likely");
}

#[test]
fn dicom_reachable_from_the_guest_segment_bears_on_2_13() {
    expect(
        "dicom.any-ae-accepted",
        SERVICES_ADDR,
        11112,
        "confirmed",
        "2-⑬",
    );
    let seg = expect(
        "segment.clinical-service-reachable",
        SERVICES_ADDR,
        11112,
        "confirmed",
        "2-⑬",
    );
    assert!(
        seg["detail"]
            .as_str()
            .is_some_and(|d| d.contains("segment clinical") && d.contains("guest segment")),
        "{seg:#}"
    );
    let hosts = scan().report["hosts"].as_array().expect("hosts");
    let svc = hosts
        .iter()
        .find(|h| h["address"] == SERVICES_ADDR)
        .expect("services host");
    assert_eq!(svc["segment"], "clinical");
    assert_eq!(scan().report["scan"]["vantage"], "guest");
}

#[test]
fn the_weak_tls_servers_raise_tls_findings() {
    expect("tls.legacy-protocol", TLS_ADDR, 4431, "confirmed", "2-⑥");
    for check in [
        "tls.certificate-expired",
        "tls.certificate-weak-key",
        "tls.certificate-weak-signature",
        "tls.certificate-self-signed",
    ] {
        assert_eq!(find(check, TLS_ADDR, 4434).len(), 1, "{check} on 4434");
    }
}

#[test]
fn the_modern_openssh_and_the_modern_tls_servers_raise_nothing() {
    let ssh: Vec<&Value> = findings()
        .iter()
        .filter(|f| f["host"] == SERVICES_ADDR && f["port"] == 22)
        .collect();
    assert!(ssh.is_empty(), "Debian's patched OpenSSH raised {ssh:#?}");
    for port in [4432, 4433] {
        let hits: Vec<&Value> = findings()
            .iter()
            .filter(|f| f["host"] == TLS_ADDR && f["port"] == port)
            .collect();
        assert!(hits.is_empty(), "modern TLS on {port} raised {hits:#?}");
    }
}

#[test]
fn every_finding_is_bilingual_and_maps_to_requirements_with_evidence() {
    let evidence: Vec<&str> = scan().report["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert!(findings().len() >= 20, "{}", findings().len());
    for f in findings() {
        for field in ["title", "rationale", "remediation"] {
            for lang in ["ja", "en"] {
                assert!(
                    f[field][lang]
                        .as_str()
                        .is_some_and(|t| !t.trim().is_empty()),
                    "{field}.{lang} empty: {f:#}"
                );
            }
        }
        assert!(
            f["requirements"].as_array().is_some_and(|r| !r.is_empty()),
            "{f:#}"
        );
        for id in f["evidence"].as_array().expect("evidence ids") {
            let id = id.as_str().expect("string");
            assert!(evidence.contains(&id), "{id} dangles in {f:#}");
        }
    }
}

#[test]
fn every_host_has_a_kind_with_a_reason() {
    let hosts = scan().report["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 5, "{hosts:#?}");
    for h in hosts {
        assert!(
            h["kind_reason"].as_str().is_some_and(|r| r.len() > 10),
            "{h:#}"
        );
    }
    let kind = |addr: &str| {
        hosts
            .iter()
            .find(|h| h["address"] == addr)
            .map(|h| h["kind"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    for h in hosts {
        assert!(
            matches!(
                h["kind_confidence"].as_str(),
                Some("confirmed" | "likely" | "potential")
            ),
            "{h:#}"
        );
        assert!(
            h["kind_reason_ja"].as_str().is_some_and(|r| !r.is_empty()),
            "{h:#}"
        );
    }
    assert_eq!(kind(SERVICES_ADDR), "medical_device");
    assert_eq!(kind(SERVICES2_ADDR), "network_device");
    assert_eq!(kind(SWITCH_ADDR), "network_device");
    assert_eq!(kind(TERMINAL_ADDR), "terminal_pc");
    assert_eq!(kind(TLS_ADDR), "server");
}

/// The checklist's item IDs, as rules/requirements/mhlw-checklist-r7.toml lists them.
fn r7_items() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rules/requirements/mhlw-checklist-r7.toml");
    std::fs::read_to_string(&path)
        .expect("registry")
        .split("[[requirement]]")
        .skip(1)
        .filter_map(|block| {
            block
                .lines()
                .find_map(|l| l.strip_prefix("id = \""))
                .and_then(|rest| rest.strip_suffix('"'))
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn the_checklist_covers_every_r7_item_and_links_real_findings() {
    let checklist = scan().report["checklist"].as_array().expect("checklist");
    let ids: Vec<&str> = checklist.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, r7_items(), "the view must follow the registry");
    let status = |id: &str| {
        checklist
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].as_str().unwrap_or_default())
            .unwrap_or_default()
    };
    for id in ["1-①", "2-③", "3-①"] {
        assert_eq!(status(id), "manual", "{id}");
    }
    for id in ["2-①", "2-②", "2-⑥", "2-⑦", "2-⑫", "2-⑬"] {
        assert_eq!(status(id), "findings", "{id}");
    }
    let finding_ids: Vec<&str> = findings().iter().filter_map(|f| f["id"].as_str()).collect();
    for c in checklist {
        assert_eq!(c["framework"], "mhlw-checklist-r7");
        assert!(
            c["forms"].as_array().is_some_and(|f| !f.is_empty()),
            "{c:#}"
        );
        for id in c["findings"].as_array().expect("findings") {
            assert!(finding_ids.contains(&id.as_str().expect("id")), "{c:#}");
        }
    }
}

#[test]
fn the_pacs_certificate_is_judged_against_its_ledger_hostname_not_its_address() {
    let f = find("tls.certificate-name-mismatch", SERVICES_ADDR, 443);
    assert_eq!(f.len(), 1, "{:#?}", findings());
    assert_eq!(f[0]["confidence"], "confirmed");
    assert!(
        f[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("pacs.lab.example")),
        "{:#}",
        f[0]
    );
}
