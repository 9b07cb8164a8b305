use std::net::IpAddr;
use std::path::Path;

use kenshin_probe::ports::Protocol;
use time::macros::date;

use super::*;
use crate::finding::{Confidence, Severity};
use crate::groups::{group_with, ServiceFacts};

const VALID: &str = r#"
[[exception]]
id = "EX-2026-001"
check = "service.telnet"
hosts = ["198.18.1.1", "198.18.2.0/24"]
reason = { ja = "保守端末からのみ到達可能", en = "Reachable only from the maintenance VLAN" }
approved_by = "情報システム課 山田"
approved_on = 2026-11-30
expires = 2027-03-31

[[exception]]
id = "EX-2026-002"
check = "smb.v1-enabled"
hosts = ["198.18.9.9"]
ports = [445]
reason = { ja = "更新予定", en = "Upgrade scheduled" }
approved_by = "IT"
approved_on = 2026-01-10
expires = 2026-06-30
"#;

fn known(id: &str) -> bool {
    [
        "service.telnet",
        "smb.v1-enabled",
        "vuln.known-exploited",
        "openssh-regresshion",
    ]
    .contains(&id)
}

fn register(text: &str) -> Result<Register, RegisterError> {
    parse(Path::new("/etc/kenshin/exceptions.toml"), text, &known)
}

fn refusal(text: &str) -> String {
    match register(text) {
        Ok(r) => panic!("accepted a malformed register: {r:#?}"),
        Err(e) => e.to_string(),
    }
}

fn finding(n: usize, check: &str, host: &str, port: Option<u16>) -> Finding {
    let t = Text {
        ja: "題".to_owned(),
        en: "title".to_owned(),
    };
    Finding {
        id: format!("f-{n:04}"),
        check: check.to_owned(),
        severity: Severity::High,
        confidence: Confidence::Confirmed,
        host: host.parse::<IpAddr>().expect("test address"),
        port,
        protocol: port.map(|_| Protocol::Tcp),
        title: t.clone(),
        rationale: t.clone(),
        detail: String::new(),
        remediation: t,
        requirements: Vec::new(),
        evidence: Vec::new(),
        advisory: None,
    }
}

/// Replaces `key = …` of the first exception in VALID with `line`, or removes it.
fn with(key: &str, line: Option<&str>) -> String {
    let mut done = false;
    VALID
        .lines()
        .filter_map(|l| {
            if !done && l.starts_with(&format!("{key} =")) {
                done = true;
                line.map(str::to_owned)
            } else {
                Some(l.to_owned())
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_well_formed_register_is_read_with_its_lines() {
    let r = register(VALID).expect("valid register");
    assert_eq!(r.exceptions.len(), 2);
    let ex = &r.exceptions[0];
    assert_eq!(ex.id, "EX-2026-001");
    assert_eq!(ex.line, 2);
    assert_eq!(ex.hosts.len(), 2);
    assert_eq!(ex.hosts[1].to_string(), "198.18.2.0/24");
    assert_eq!(ex.expires, date!(2027 - 03 - 31));
    assert_eq!(r.exceptions[1].ports, vec![445]);
    assert_eq!(r.exceptions[1].line, 11);
}

#[test]
fn a_missing_expiry_is_refused_naming_file_line_and_key() {
    let e = refusal(&with("expires", None));
    assert!(
        e.contains("/etc/kenshin/exceptions.toml:2: expires:"),
        "{e}"
    );
    assert!(e.contains("required"), "{e}");
}

#[test]
fn an_expiry_more_than_a_year_after_approval_is_refused() {
    let e = refusal(&with("expires", Some("expires = 2027-12-01")));
    assert!(e.contains("exceptions.toml:9: expires:"), "{e}");
    assert!(e.contains("more than one year"), "{e}");
    assert!(register(&with("expires", Some("expires = 2027-11-30"))).is_ok());
}

#[test]
fn an_expiry_before_approval_is_refused() {
    let e = refusal(&with("expires", Some("expires = 2026-11-01")));
    assert!(e.contains(":9: expires:") && e.contains("before"), "{e}");
}

#[test]
fn an_expiry_written_as_a_string_is_refused() {
    let e = refusal(&with("expires", Some("expires = \"2027-03-31\"")));
    assert!(
        e.contains(":9: expires:") && e.contains("bare TOML date"),
        "{e}"
    );
}

#[test]
fn an_unknown_check_is_refused() {
    let e = refusal(&with("check", Some("check = \"service.telnett\"")));
    assert!(
        e.contains(":4: check:") && e.contains("service.telnett"),
        "{e}"
    );
}

#[test]
fn an_advisory_id_and_a_group_id_are_accepted_as_what_to_accept() {
    assert!(register(&with("check", Some("check = \"openssh-regresshion\""))).is_ok());
    assert!(register(&with("check", Some("check = \"g-0123456789ab\""))).is_ok());
}

#[test]
fn a_bad_address_is_refused() {
    let e = refusal(&with("hosts", Some("hosts = [\"198.18.1.300\"]")));
    assert!(
        e.contains(":5: hosts:") && e.contains("198.18.1.300"),
        "{e}"
    );
    let e = refusal(&with("hosts", Some("hosts = [\"198.18.2.1/24\"]")));
    assert!(e.contains(":5: hosts:") && e.contains("host bits"), "{e}");
    let e = refusal(&with("hosts", Some("hosts = []")));
    assert!(e.contains(":5: hosts:"), "{e}");
}

#[test]
fn a_missing_reason_language_and_unknown_keys_are_refused() {
    let e = refusal(&with("reason", Some("reason = { ja = \"理由\" }")));
    assert!(e.contains(":6: reason.en:"), "{e}");
    let e = refusal(&with("approved_by", Some("approver = \"x\"")));
    assert!(e.contains("approver"), "{e}");
    let e = refusal(&with("approved_by", None));
    assert!(e.contains(":2: approved_by:"), "{e}");
}

#[test]
fn a_port_out_of_range_and_a_duplicate_id_are_refused() {
    let e = refusal(&VALID.replace("ports = [445]", "ports = [70000]"));
    assert!(e.contains(":15: ports:") && e.contains("70000"), "{e}");
    let e = refusal(&VALID.replace("EX-2026-002", "EX-2026-001"));
    assert!(e.contains(":12: id:") && e.contains("twice"), "{e}");
}

#[test]
fn a_matched_finding_is_accepted_and_others_stay_open() {
    let r = register(VALID).expect("valid register");
    let findings = vec![
        finding(1, "service.telnet", "198.18.1.1", Some(23)),
        finding(2, "service.telnet", "198.18.2.77", Some(23)),
        finding(3, "service.telnet", "198.18.3.1", Some(23)),
        finding(4, "smb.v1-enabled", "198.18.1.1", Some(445)),
    ];
    let applied = apply(&r, &findings, &[], date!(2026 - 12 - 02));
    let accepted: Vec<&str> = applied.accepted.keys().map(String::as_str).collect();
    assert_eq!(accepted, ["f-0001", "f-0002"]);
    assert_eq!(applied.outcomes[0].status, Status::Active);
    assert_eq!(applied.outcomes[0].matched, ["f-0001", "f-0002"]);
}

#[test]
fn an_expired_exception_accepts_nothing_and_is_listed_as_expired() {
    let r = register(VALID).expect("valid register");
    let findings = vec![finding(1, "smb.v1-enabled", "198.18.9.9", Some(445))];
    let applied = apply(&r, &findings, &[], date!(2026 - 12 - 02));
    assert!(applied.accepted.is_empty());
    let smb = &applied.outcomes[1];
    assert_eq!(smb.status, Status::Expired);
    assert_eq!(
        smb.matched,
        ["f-0001"],
        "the findings it would cover, open again"
    );
    let on_last_day = apply(&r, &findings, &[], date!(2026 - 06 - 30));
    assert_eq!(
        on_last_day.outcomes[1].status,
        Status::Active,
        "expires is inclusive"
    );
}

#[test]
fn an_exception_that_matched_nothing_is_unused() {
    let r = register(VALID).expect("valid register");
    let applied = apply(&r, &[], &[], date!(2026 - 12 - 02));
    assert_eq!(applied.outcomes[0].status, Status::Unused);
    assert_eq!(applied.outcomes[0].status.as_str(), "unused");
}

#[test]
fn ports_limit_what_is_accepted() {
    let r = register(
        &VALID
            .replace("2026-01-10", "2026-11-10")
            .replace("2026-06-30", "2027-06-30"),
    )
    .expect("valid register");
    let findings = vec![
        finding(1, "smb.v1-enabled", "198.18.9.9", Some(445)),
        finding(2, "smb.v1-enabled", "198.18.9.9", Some(139)),
    ];
    let applied = apply(&r, &findings, &[], date!(2026 - 12 - 02));
    assert_eq!(applied.outcomes[1].matched, ["f-0001"]);
}

#[test]
fn an_exception_can_name_a_group_or_an_advisory() {
    let mut a = finding(1, "vuln.known-exploited", "198.18.1.1", Some(22));
    a.advisory = Some(crate::finding::AdvisoryFacts {
        id: "openssh-regresshion".to_owned(),
        cve: Vec::new(),
        cvss: None,
        kev_added: None,
        ransomware: None,
        vendor_advisories: Vec::new(),
        references: Vec::new(),
        end_of_life: None,
        basis: String::new(),
    });
    let b = finding(2, "service.telnet", "198.18.1.1", Some(23));
    let findings = vec![a, b];
    let groups = group_with(&findings, |_| ServiceFacts::default());
    let telnet_group = groups
        .iter()
        .find(|g| g.check == "service.telnet")
        .map(|g| g.id.clone())
        .expect("a telnet group");
    let text = VALID
        .replace(
            "check = \"service.telnet\"",
            "check = \"openssh-regresshion\"",
        )
        .replace(
            "check = \"smb.v1-enabled\"",
            &format!("check = \"{telnet_group}\""),
        )
        .replace("198.18.9.9", "198.18.1.1")
        .replace("ports = [445]", "ports = [23]")
        .replace("2026-01-10", "2026-11-10")
        .replace("2026-06-30", "2027-06-30");
    let r = register(&text).expect("valid register");
    let applied = apply(&r, &findings, &groups, date!(2026 - 12 - 02));
    assert_eq!(applied.outcomes[0].matched, ["f-0001"]);
    assert_eq!(applied.outcomes[1].matched, ["f-0002"]);
}

#[test]
fn networks_contain_their_addresses_only() {
    let n = Net::parse("198.18.2.0/24").expect("network");
    assert!(n.contains("198.18.2.200".parse().expect("address")));
    assert!(!n.contains("198.18.3.1".parse().expect("address")));
    assert!(!n.contains("::1".parse().expect("address")));
    assert!(Net::parse("0.0.0.0/0")
        .expect("all")
        .contains("203.0.113.9".parse().expect("a")));
    assert!(Net::parse("2001:db8::/32")
        .expect("v6")
        .contains("2001:db8::1".parse().expect("a")));
    assert!(Net::parse("198.18.2.0/33").is_err());
}
