use std::collections::BTreeMap;
use std::net::IpAddr;

use kenshin_probe::ports::Protocol;

use super::*;
use crate::finding::{AdvisoryFacts, Confidence};

fn finding(n: usize, check: &str, host: &str, severity: Severity) -> Finding {
    Finding {
        id: format!("f-{n:04}"),
        check: check.to_owned(),
        severity,
        confidence: Confidence::Confirmed,
        host: host.parse::<IpAddr>().expect("test address"),
        port: Some(443),
        protocol: Some(Protocol::Tcp),
        title: Text {
            ja: format!("{check} の題"),
            en: format!("{check} title"),
        },
        rationale: Text {
            ja: "理由".to_owned(),
            en: "why".to_owned(),
        },
        detail: String::new(),
        remediation: Text {
            ja: "対策".to_owned(),
            en: "fix".to_owned(),
        },
        requirements: Vec::new(),
        evidence: Vec::new(),
        advisory: None,
    }
}

fn advisory(id: &str) -> AdvisoryFacts {
    AdvisoryFacts {
        id: id.to_owned(),
        cve: Vec::new(),
        cvss: None,
        kev_added: None,
        ransomware: None,
        vendor_advisories: Vec::new(),
        references: Vec::new(),
        end_of_life: None,
        basis: String::new(),
    }
}

/// Groups `findings` with the service facts keyed by finding ID.
fn grouped(findings: &[Finding], facts: &BTreeMap<String, ServiceFacts>) -> Vec<Group> {
    group_with(findings, |f| facts.get(&f.id).cloned().unwrap_or_default())
}

fn issued_by(issuer: &str) -> ServiceFacts {
    ServiceFacts {
        product: Some("nginx 1.22.1".to_owned()),
        issuer: Some(issuer.to_owned()),
    }
}

fn running(product: &str) -> ServiceFacts {
    ServiceFacts {
        product: Some(product.to_owned()),
        issuer: None,
    }
}

fn members(groups: &[Group]) -> Vec<String> {
    let mut ids: Vec<String> = groups.iter().flat_map(|g| g.findings.clone()).collect();
    ids.sort();
    ids
}

#[test]
fn a_ca_shared_by_many_hosts_is_one_untrusted_group_whose_cause_names_it() {
    let mut findings = Vec::new();
    let mut facts = BTreeMap::new();
    for n in 0..114 {
        let f = finding(
            n,
            "tls.certificate-untrusted",
            &format!("198.18.3.{}", n + 1),
            Severity::Medium,
        );
        facts.insert(
            f.id.clone(),
            issued_by("C=JP, O=Lab Hospital, CN=Lab Hospital CA"),
        );
        findings.push(f);
    }
    let groups = grouped(&findings, &facts);
    assert_eq!(groups.len(), 1, "{groups:#?}");
    let g = &groups[0];
    assert_eq!(g.count(), 114);
    assert_eq!(g.hosts, 114);
    assert_eq!(g.check, "tls.certificate-untrusted");
    assert_eq!(
        g.cause.en,
        "114 servers present certificates from 'Lab Hospital CA', which is not in the trust \
         store; if it is your internal CA, pass it with --ca-file"
    );
    assert!(g.cause.ja.contains("114 台のサーバ"), "{}", g.cause.ja);
    assert!(g.cause.ja.contains("「Lab Hospital CA」"), "{}", g.cause.ja);
    assert!(g.cause.ja.contains("--ca-file"), "{}", g.cause.ja);
}

#[test]
fn two_issuers_make_two_untrusted_groups() {
    let a = finding(
        1,
        "tls.certificate-untrusted",
        "198.18.3.1",
        Severity::Medium,
    );
    let b = finding(
        2,
        "tls.certificate-untrusted",
        "198.18.3.2",
        Severity::Medium,
    );
    let facts = BTreeMap::from([
        (a.id.clone(), issued_by("CN=Lab CA")),
        (b.id.clone(), issued_by("CN=Vendor CA")),
    ]);
    let groups = grouped(&[a, b], &facts);
    assert_eq!(groups.len(), 2);
    assert_ne!(groups[0].id, groups[1].id);
}

#[test]
fn self_signed_certificates_are_one_group_although_each_is_its_own_issuer() {
    let findings: Vec<Finding> = (0..5)
        .map(|n| {
            finding(
                n,
                "tls.certificate-self-signed",
                &format!("198.18.3.{}", n + 1),
                Severity::Low,
            )
        })
        .collect();
    let facts = findings
        .iter()
        .enumerate()
        .map(|(n, f)| {
            let facts = ServiceFacts {
                product: Some(format!("appliance {n}")),
                issuer: Some(format!("CN=host{}", f.id)),
            };
            (f.id.clone(), facts)
        })
        .collect();
    assert_eq!(grouped(&findings, &facts).len(), 1);
}

#[test]
fn the_same_product_and_version_is_one_group_and_another_version_another() {
    let findings: Vec<Finding> = (0..4)
        .map(|n| {
            finding(
                n,
                "service.telnet",
                &format!("198.18.2.{}", n + 1),
                Severity::High,
            )
        })
        .collect();
    let facts = findings
        .iter()
        .enumerate()
        .map(|(n, f)| {
            let version = if n < 3 {
                "inetutils telnetd 2.4"
            } else {
                "inetutils telnetd 2.5"
            };
            (f.id.clone(), running(version))
        })
        .collect();
    let groups = grouped(&findings, &facts);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].count(), 3, "the larger group first");
    assert_eq!(
        groups[0].cause.en,
        "service.telnet title: inetutils telnetd 2.4 on 3 hosts"
    );
    assert_eq!(
        groups[0].cause.ja,
        "service.telnet の題：inetutils telnetd 2.4、3 台"
    );
}

#[test]
fn the_same_advisory_is_one_group_whatever_the_product_strings() {
    let mut a = finding(1, "vuln.known-exploited", "198.18.1.1", Severity::High);
    let mut b = finding(2, "vuln.known-exploited", "198.18.1.2", Severity::Critical);
    a.advisory = Some(advisory("openssh-regresshion"));
    b.advisory = Some(advisory("openssh-regresshion"));
    let facts = BTreeMap::from([
        (a.id.clone(), running("OpenSSH 9.2p1")),
        (b.id.clone(), running("OpenSSH 9.2p1 Debian-2")),
    ]);
    let groups = grouped(&[a, b], &facts);
    assert_eq!(groups.len(), 1);
    assert_eq!(
        groups[0].severity,
        Severity::Critical,
        "the highest of its members"
    );
    assert!(groups[0].cause.en.contains("openssh-regresshion"));
}

#[test]
fn the_same_missing_control_on_unidentified_hosts_is_one_group() {
    let findings: Vec<Finding> = (0..7)
        .map(|n| {
            let mut f = finding(
                n,
                "inventory.unclassified-device",
                &format!("198.18.4.{}", n + 1),
                Severity::Info,
            );
            f.port = None;
            f.protocol = None;
            f
        })
        .collect();
    let groups = grouped(&findings, &BTreeMap::new());
    assert_eq!(groups.len(), 1);
    assert_eq!(
        groups[0].cause.en,
        "inventory.unclassified-device title: 7 hosts"
    );
}

#[test]
fn every_finding_is_in_exactly_one_group_and_groups_come_most_severe_first() {
    let mut findings = Vec::new();
    let mut facts = BTreeMap::new();
    let checks = [
        ("tls.certificate-untrusted", Severity::Medium),
        ("service.telnet", Severity::High),
        ("smb.v1-enabled", Severity::Critical),
        ("inventory.unclassified-device", Severity::Info),
    ];
    for n in 0..200 {
        let (check, severity) = checks[n % checks.len()];
        let f = finding(
            n,
            check,
            &format!("198.18.{}.{}", n % 3, n % 250 + 1),
            severity,
        );
        facts.insert(
            f.id.clone(),
            issued_by(if n % 2 == 0 { "CN=A" } else { "CN=B" }),
        );
        findings.push(f);
    }
    let groups = grouped(&findings, &facts);
    let mut all: Vec<String> = findings.iter().map(|f| f.id.clone()).collect();
    all.sort();
    assert_eq!(members(&groups), all, "each finding once, none left out");
    let severities: Vec<Severity> = groups.iter().map(|g| g.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort();
    assert_eq!(severities, sorted);
    assert!(groups.len() < 10, "{} groups", groups.len());
}

#[test]
fn a_group_id_is_stable_for_the_same_check_and_cause() {
    let id = group_id("tls.certificate-untrusted", "issuer:CN=Lab CA");
    assert_eq!(
        id,
        group_id("tls.certificate-untrusted", "issuer:CN=Lab CA")
    );
    assert_ne!(
        id,
        group_id("tls.certificate-untrusted", "issuer:CN=Other CA")
    );
    assert!(is_group_id(&id), "{id}");
    assert!(!is_group_id("g-XYZ"));
    assert!(!is_group_id("service.telnet"));
}

#[test]
fn the_common_name_is_read_from_a_distinguished_name() {
    assert_eq!(common_name("C=JP, O=Lab, CN=Lab CA"), "Lab CA");
    assert_eq!(common_name("O=No CN here"), "O=No CN here");
}

#[test]
fn a_product_is_named_without_repeating_its_vendor() {
    assert_eq!(product_words(Some("Samba Team"), "Samba", None), "Samba");
    assert_eq!(
        product_words(Some("Fortinet"), "FortiGate SSL-VPN", Some("7.0.12")),
        "Fortinet FortiGate SSL-VPN 7.0.12"
    );
    assert_eq!(product_words(None, "nginx", Some("1.22.1")), "nginx 1.22.1");
}
