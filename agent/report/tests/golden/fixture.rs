//! A fixed, hand-made scan: what the probes saw and what the rules concluded, for
//! six hosts of different kinds. Every time and ID is fixed, so the report built
//! from it is the same bytes on every run.
//!
//! It covers every part of the contract the renderers read: services with TLS audits
//! (accepted and refused versions, suites, a leaf certificate and its chain), facts of
//! every type, SNMP, findings of every severity and confidence (one from an advisory),
//! checklist items in every status, a ledger comparison and evidence with exchanges.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kenshin_assess::checklist::{Entry, Status};
use kenshin_assess::finding::{AdvisoryFacts, Confidence, Finding, RequirementRef, Severity, Text};
use kenshin_assess::fingerprint::Identity;
use kenshin_assess::identify::NamedBy;
use kenshin_assess::kind::KindConfidence;
use kenshin_assess::ledger::{self, Ledger};
use kenshin_assess::segments::{Segment, Segments};
use kenshin_assess::tls::profile::{Evaluation, Violation};
use kenshin_assess::tls::{
    CertificateFacts, LeafReport, NameSource, SuiteReport, TlsEvidence, TlsReport,
};
use kenshin_assess::{AssessedHost, DeviceKind, Service};
use kenshin_probe::evidence::{Direction, Evidence, Segment as Exchange};
use kenshin_probe::governor::SafetySettings;
use kenshin_probe::observation::{
    DiscoveryDecision, DiscoveryMethod, Fact, Facts, HostObservation, HostScanState,
    PortObservation, PortState, ScanMode, ScanOutcome, SnmpObservation,
};
use kenshin_probe::ports::{parse_port_spec, PortCatalog, Protocol};
use kenshin_probe::scan::{DiscoveryMode, ScanPlan};
use kenshin_probe::scope::{AddrRange, Scope, ScopeGuard};
use kenshin_probe::service::AuditSettings;
use kenshin_report::build::{self, Conclusions, ScanRequest};
use kenshin_report::model::Report;
use time::macros::datetime;
use time::OffsetDateTime;

const STARTED: OffsetDateTime = datetime!(2026-11-22 04:51:00 UTC);
const FINISHED: OffsetDateTime = datetime!(2026-11-22 04:53:27.250 UTC);

/// A small catalog, so the golden file does not change when rules/ports.toml does.
const CATALOG: &str = r#"
version = "golden.1"
[safety]
connect_only = ["T:9100"]
[discovery]
tcp_ping = [80, 443]
[hints]
precedence = ["medical_device", "printer", "network_device", "iot", "server", "terminal_pc"]
[[category]]
name = "remote-access"
remote_entry = true
meaning = "remote shells and desktops"
[[port]]
port = 22
protocol = "tcp"
service = "ssh"
category = "remote-access"
reason = "SSH"
"#;

/// The ledger compared with the scan: one row matched, one not seen, one out of
/// scope, and a column kenshin does not read.
const LEDGER: &str = "address,mac,hostname,kind,owner,location,note,asset_no\n\
198.18.1.20,00:09:5c:4b:01:01,ct-console,medical_device,放射線科,地下1階 CT室,\"CT, 保守は A 社\",M-1\n\
198.18.1.99,,old-nas,server,情報システム課,サーバ室,廃棄予定,S-9\n\
203.0.113.5,,remote-pc,terminal_pc,医事課,分院,,T-3\n";

fn ip(s: &str) -> IpAddr {
    s.parse().expect("a fixed address")
}

fn text(ja: &str, en: &str) -> Text {
    Text {
        ja: ja.to_owned(),
        en: en.to_owned(),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// The whole report as `kenshin scan` builds it (before the bundle names its key).
pub(crate) fn report() -> Report {
    let plan = plan();
    let outcome = outcome();
    let hosts = hosts();
    let ledger = Ledger::parse(Path::new("台帳.csv"), LEDGER.as_bytes()).expect("ledger");
    let cmp = ledger::compare(&ledger, &hosts, |a| plan.guard.scope().contains(a));
    let conclusions = conclusions();
    // As the scan does: groups and the register are judged before the report takes the
    // hosts and findings over.
    let groups = kenshin_assess::groups::group(&conclusions.findings, &hosts);
    let known = |id: &str| conclusions.findings.iter().any(|f| f.check == id);
    let register =
        kenshin_assess::exceptions::parse(Path::new("exceptions.toml"), EXCEPTIONS, &known)
            .expect("the golden register");
    let day = time::macros::date!(2026 - 11 - 22);
    let applied = kenshin_assess::exceptions::apply(&register, &conclusions.findings, &groups, day);
    let mut report = build::build(&request(), &plan, outcome, hosts, conclusions);
    build::attach_inventory(&mut report, &ledger, &cmp);
    build::attach_groups(
        &mut report,
        &build::Judged {
            groups: &groups,
            register: Some(&applied),
            utc_offset: Some("+09:00".to_owned()),
        },
    );
    report
}

/// The accepted-risk register: one exception that accepts the telnet finding, one that
/// has expired, one that matches nothing.
const EXCEPTIONS: &str = r#"
[[exception]]
id = "EX-2026-001"
check = "service.telnet"
hosts = ["198.18.1.16/28"]
reason = { ja = "保守 VLAN からのみ到達可能。更新は 2027 年 3 月予定", en = "Reachable only from the maintenance VLAN; upgrade due March 2027" }
approved_by = "情報システム課 山田"
approved_on = 2026-11-01
expires = 2027-03-31

[[exception]]
id = "EX-2025-014"
check = "snmp.default-community"
hosts = ["198.18.1.30"]
reason = { ja = "旧機器", en = "Legacy device" }
approved_by = "情報システム課"
approved_on = 2025-10-01
expires = 2026-09-30

[[exception]]
id = "EX-2026-002"
check = "smb.smb1"
hosts = ["198.18.1.99"]
ports = [445]
reason = { ja = "撤去予定", en = "To be removed" }
approved_by = "情報システム課"
approved_on = 2026-11-01
expires = 2027-01-31
"#;

fn request() -> ScanRequest {
    ScanRequest {
        id: "20261122T045100Z-00abcd".to_owned(),
        targets: strings(&["198.18.1.0/24", "pacs.hospital.example"]),
        excluded: strings(&["198.18.1.1", "@excludes.txt"]),
        resolved: vec![("pacs.hospital.example".to_owned(), vec![ip("198.18.1.20")])],
        tool_version: "0.1.0".to_owned(),
        trust_sources: strings(&["/etc/ssl/certs/ca-certificates.crt"]),
        rules: kenshin_report::model::RulesUsed {
            pack: "builtin".to_owned(),
            publisher: None,
            kev_catalog: Some("2026.11.20".to_owned()),
            checklist: "mhlw-checklist-r7".to_owned(),
            checklist_newer: None,
        },
        segments: Segments {
            segments: vec![
                Segment {
                    name: "modality".to_owned(),
                    ranges: vec![AddrRange::cidr(ip("198.18.1.16"), 28)],
                },
                Segment {
                    name: "office".to_owned(),
                    ranges: vec![AddrRange::cidr(ip("198.18.1.32"), 27)],
                },
            ],
        },
        vantage: Some("office".to_owned()),
    }
}

fn plan() -> ScanPlan {
    let scope = Scope::new(
        vec![AddrRange::cidr(ip("198.18.1.0"), 24)],
        vec![AddrRange::single(ip("198.18.1.1"))],
        1 << 16,
        false,
    )
    .expect("scope");
    ScanPlan {
        guard: ScopeGuard::new(scope),
        hostnames: Default::default(),
        ports: parse_port_spec("T:22,23,104,443,445,3389,9100,U:161").expect("ports"),
        catalog: Arc::new(PortCatalog::parse(CATALOG).expect("catalog")),
        safety: SafetySettings::default(),
        retries: 1,
        discovery: DiscoveryMode::Auto,
        time_budget: Duration::from_secs(1800),
        snmp_community: Some("public".to_owned()),
        use_icmp: true,
        use_arp: true,
        identify: true,
        tls_audit: Some(AuditSettings {
            pause: Duration::from_millis(50),
            max_handshakes: 120,
            ..AuditSettings::default()
        }),
        host_parallelism: 32,
        classes: kenshin_probe::scan::ClassPlan::new(Arc::new(
            kenshin_probe::governor::SafetyRules::builtin().expect("safety rules"),
        )),
    }
}

fn outcome() -> ScanOutcome {
    ScanOutcome {
        started_at: STARTED,
        finished_at: FINISHED,
        complete: true,
        addresses: 253,
        hosts: Vec::new(),
        evidence: evidence(),
        discovery: DiscoveryDecision {
            mode: ScanMode::Direct,
            reason: "253 addresses fit the 1800 s budget".to_owned(),
            direct_probes: 2024,
            direct_seconds: 50.6,
        },
        warnings: strings(&["MAC vendors are unknown: no IEEE registry in /usr/share/ieee-data"]),
        probes_icmp: 253,
        probes_arp: 253,
        probes_tcp: 2024,
        probes_udp: 6,
        frames: kenshin_probe::governor::FrameStats {
            frames_sent: 6112,
            peak_second: 996,
            peak_second_host: 40,
            peak_host: Some(ip("198.18.1.10")),
            unplanned: 7,
            unplanned_peak_second: 2,
        },
        timing: Default::default(),
        retry: Default::default(),
    }
}

fn evidence() -> Vec<Evidence> {
    let ev = |n: u32,
              host: &str,
              port: Option<u16>,
              probe: &'static str,
              sent: &[u8],
              received: &[u8],
              note: &str| Evidence {
        id: format!("ev-{n:06}"),
        host: ip(host),
        port,
        protocol: port.map(|p| {
            if p == 161 {
                Protocol::Udp
            } else {
                Protocol::Tcp
            }
        }),
        probe,
        at: STARTED + Duration::from_millis(u64::from(n) * 125),
        sent: kenshin_probe::evidence::Payload::of(sent),
        received: kenshin_probe::evidence::Payload::of(received),
        truncated: false,
        redacted: Vec::new(),
        note: note.to_owned(),
        exchange: if sent.is_empty() && received.is_empty() {
            Vec::new()
        } else {
            vec![
                Exchange {
                    direction: Direction::Sent,
                    at_ms: 0.412,
                    bytes: sent.len(),
                },
                Exchange {
                    direction: Direction::Received,
                    at_ms: 3.0625,
                    bytes: received.len(),
                },
            ]
        },
    };
    let mut snmp = ev(
        6,
        "198.18.1.30",
        Some(161),
        "snmp-get",
        b"0\x26\x02\x01\x01\x04\x06public",
        b"0\x3a\x02\x01\x01\x04\x06public\xa2",
        "SNMP v2c GetRequest sysDescr sysName: answered",
    );
    snmp.redacted = vec!["snmp-community"];
    let mut tls = ev(
        2,
        "198.18.1.10",
        Some(443),
        "tls-handshake",
        b"\x16\x03\x01\x00\xc8\x01",
        b"\x16\x03\x03\x00\x5d\x02",
        "TLSv1.0 ClientHello: ServerHello TLS_RSA_WITH_AES_128_CBC_SHA",
    );
    tls.truncated = true;
    vec![
        ev(
            1,
            "198.18.1.10",
            Some(22),
            "tcp-banner",
            b"",
            b"SSH-2.0-OpenSSH_7.4\r\n",
            "banner read",
        ),
        tls,
        ev(
            3,
            "198.18.1.10",
            Some(445),
            "smb-negotiate",
            b"\x00\x00\x00\x85\xffSMB",
            b"\x00\x00\x00\x55\xffSMBr",
            "SMB1 NEGOTIATE accepted NT LM 0.12",
        ),
        ev(
            4,
            "198.18.1.20",
            Some(104),
            "dicom-associate",
            b"\x01\x00\x00\x00\x00\xcd",
            b"\x02\x00\x00\x00\x00\xb8",
            "A-ASSOCIATE-AC for Verification, then A-RELEASE",
        ),
        ev(
            5,
            "198.18.1.20",
            Some(23),
            "tcp-banner",
            b"",
            "\u{1b}[2J<b>login:</b> 保守用".as_bytes(),
            "banner read",
        ),
        snmp,
        ev(
            7,
            "198.18.1.30",
            Some(9100),
            "tcp-connect",
            b"",
            b"",
            "connect only: raw print port",
        ),
        ev(
            8,
            "198.18.1.40",
            Some(443),
            "tls-handshake",
            b"\x16\x03\x01\x00\xc8\x01",
            b"\x16\x03\x03\x00\x7a\x02",
            "TLSv1.3 ClientHello: ServerHello TLS_AES_256_GCM_SHA384",
        ),
        ev(
            9,
            "198.18.1.50",
            Some(3389),
            "rdp-x224",
            b"\x03\x00\x00\x13\x0e\xe0",
            b"\x03\x00\x00\x13\x0e\xd0",
            "X.224 Connection Confirm: PROTOCOL_HYBRID",
        ),
    ]
}

fn observation(addr: &str, mac: Option<[u8; 6]>, by: &[DiscoveryMethod]) -> HostObservation {
    HostObservation {
        address: ip(addr),
        hostnames: Vec::new(),
        mac,
        discovered_by: by.iter().copied().collect::<BTreeSet<_>>(),
        rtt: Some(Duration::from_micros(1234)),
        ports: Vec::new(),
        quiet: Default::default(),
        snmp: None,
        services: Vec::new(),
        scan_state: HostScanState::Complete,
        notes: Vec::new(),
        probes_sent: 24,
        path: Default::default(),
        reverse_names: Vec::new(),
        frames: Default::default(),
        budget: None,
    }
}

fn port(port: u16, protocol: Protocol, state: PortState) -> PortObservation {
    PortObservation {
        port,
        protocol,
        state,
        reason: "syn-ack",
        attempts: 1,
        rtt: None,
        connect_only: false,
        evidence: None,
    }
}

fn service(port: u16, name: &str, named_by: NamedBy) -> Service {
    Service {
        port,
        protocol: Protocol::Tcp,
        service: name.to_owned(),
        named_by,
        tls: false,
        vendor: None,
        product: None,
        version: None,
        banner: None,
        facts: Facts::new(),
        identity: Identity::default(),
        connect_only: false,
        evidence: Vec::new(),
        notes: Vec::new(),
        tls_report: None,
    }
}

fn identity(attrs: &[(&str, &str)], matched: &[&str], certainty: Option<f32>) -> Identity {
    Identity {
        attributes: attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        matched: strings(matched),
        certainty,
    }
}

fn facts(list: Vec<(&str, Fact)>) -> Facts {
    list.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn hosts() -> Vec<AssessedHost> {
    vec![
        server(),
        ct_console(),
        printer(),
        switch(),
        terminal(),
        silent(),
    ]
}

/// A Linux server: SSH, HTTPS with an old, self-signed setup, SMB1.
fn server() -> AssessedHost {
    let mut o = observation(
        "198.18.1.10",
        Some([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
        &[
            DiscoveryMethod::Arp,
            DiscoveryMethod::Icmp,
            DiscoveryMethod::Tcp,
        ],
    );
    o.hostnames = strings(&["files.hospital.example"]);
    o.ports = vec![
        port(22, Protocol::Tcp, PortState::Open),
        port(443, Protocol::Tcp, PortState::Open),
        port(445, Protocol::Tcp, PortState::Open),
        port(23, Protocol::Tcp, PortState::Closed),
        port(3389, Protocol::Tcp, PortState::Filtered),
        port(161, Protocol::Udp, PortState::OpenFiltered),
    ];
    let mut ssh = service(22, "ssh", NamedBy::Probe);
    ssh.vendor = Some("OpenBSD".to_owned());
    ssh.product = Some("OpenSSH".to_owned());
    ssh.version = Some("7.4".to_owned());
    ssh.banner = Some("SSH-2.0-OpenSSH_7.4".to_owned());
    ssh.facts = facts(vec![
        ("ssh.software", Fact::Text("OpenSSH_7.4".to_owned())),
        ("ssh.protocol", Fact::Text("2.0".to_owned())),
        (
            "ssh.kex",
            Fact::List(strings(&[
                "curve25519-sha256",
                "diffie-hellman-group1-sha1",
            ])),
        ),
    ]);
    ssh.identity = identity(
        &[
            ("os", "Linux"),
            ("distribution", "RHEL 7"),
            ("package_revision", "el7_9"),
        ],
        &["ssh.openssh", "ssh.openssh-rhel"],
        Some(0.9),
    );
    ssh.evidence = strings(&["ev-000001"]);
    let mut https = service(443, "https", NamedBy::Probe);
    https.tls = true;
    https.product = Some("Apache httpd".to_owned());
    https.version = Some("2.4.6".to_owned());
    https.facts = facts(vec![
        ("http.status", Fact::Int(200)),
        ("http.title", Fact::Text("電子カルテ <ログイン>".to_owned())),
        (
            "http.server",
            Fact::Text("Apache/2.4.6 (CentOS)".to_owned()),
        ),
    ]);
    https.identity = identity(&[("os", "Linux")], &["http.apache"], Some(0.75));
    https.evidence = strings(&["ev-000002"]);
    https.notes = strings(&["the server closed the connection after the first request"]);
    https.tls_report = Some(Box::new(legacy_tls()));
    let mut smb = service(445, "smb", NamedBy::Probe);
    smb.product = Some("Samba".to_owned());
    smb.facts = facts(vec![
        ("smb.smb1", Fact::Bool(true)),
        ("smb.signing_required", Fact::Bool(false)),
        (
            "smb.dialects",
            Fact::List(strings(&["NT LM 0.12", "2.0.2", "2.1"])),
        ),
        ("smb.max_dialect", Fact::Int(0x0210)),
    ]);
    smb.evidence = strings(&["ev-000003"]);
    AssessedHost {
        observation: o,
        mac_vendor: None,
        kind: DeviceKind::Server,
        kind_reason: "SMB and SSH open; fingerprint says Linux".to_owned(),
        kind_reason_ja: "SMB と SSH が開いている。指紋は Linux".to_owned(),
        kind_confidence: Some(KindConfidence::Likely),
        segment: None,
        services: vec![ssh, https, smb],
    }
}

fn cert(subject: &str, issuer: &str, expired: bool, days_left: i64) -> CertificateFacts {
    CertificateFacts {
        subject: subject.to_owned(),
        issuer: issuer.to_owned(),
        subject_cn: subject.strip_prefix("CN=").map(str::to_owned),
        sans: strings(&["files.hospital.example", "198.18.1.10"]),
        serial: "0a:1b:2c".to_owned(),
        not_before: "2019-04-01T00:00:00Z".to_owned(),
        not_after: if expired {
            "2024-03-31T23:59:59Z"
        } else {
            "2027-06-30T23:59:59Z"
        }
        .to_owned(),
        expired,
        not_yet_valid: false,
        expires_within_30_days: false,
        days_left,
        self_signed: subject == issuer,
        key_type: "RSA".to_owned(),
        key_bits: Some(1024),
        curve: None,
        signature_algorithm: "sha1WithRSAEncryption".to_owned(),
        signature_hash: Some("SHA-1".to_owned()),
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
    }
}

fn violation(
    kind: &'static str,
    value: &str,
    condition: &str,
    ja: &str,
    en: &str,
    unconfirmed: bool,
) -> Violation {
    Violation {
        kind,
        value: value.to_owned(),
        condition: condition.to_owned(),
        ja: ja.to_owned(),
        en: en.to_owned(),
        unconfirmed,
    }
}

#[allow(clippy::too_many_arguments)]
fn suite(
    version: &str,
    name: &str,
    code: &str,
    cipher: &str,
    bits: u16,
    mode: &'static str,
    mac: &'static str,
    flags: Vec<&'static str>,
    ev: &str,
) -> SuiteReport {
    SuiteReport {
        version: version.to_owned(),
        name: name.to_owned(),
        code: code.to_owned(),
        key_exchange: if name.contains("ECDHE") {
            "ECDHE"
        } else {
            "RSA"
        },
        authentication: "RSA",
        cipher: cipher.to_owned(),
        cipher_bits: bits,
        mode,
        mac,
        aead: mode == "GCM",
        forward_secrecy: name.contains("ECDHE"),
        flags,
        evidence: ev.to_owned(),
    }
}

/// TLS 1.0 to 1.2, CBC and 3DES suites, an expired self-signed 1024-bit certificate.
fn legacy_tls() -> TlsReport {
    let suites = vec![
        suite(
            "TLSv1.2",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "0xC02F",
            "AES",
            128,
            "GCM",
            "AEAD",
            vec![],
            "ev-000002",
        ),
        suite(
            "TLSv1.2",
            "TLS_RSA_WITH_AES_128_CBC_SHA",
            "0x002F",
            "AES",
            128,
            "CBC",
            "SHA1",
            vec!["cbc", "static-kx"],
            "ev-000002",
        ),
        suite(
            "TLSv1.0",
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            "0x000A",
            "3DES",
            112,
            "CBC",
            "SHA1",
            vec!["3des", "cbc", "static-kx"],
            "ev-000002",
        ),
    ];
    let leaf = cert(
        "CN=files.hospital.example",
        "CN=files.hospital.example",
        true,
        -966,
    );
    let mut breaks = BTreeMap::new();
    breaks.insert(
        "high".to_owned(),
        vec![
            violation(
                "version",
                "TLSv1.0",
                "versions",
                "TLS 1.0 を受け入れる",
                "accepts TLS 1.0",
                false,
            ),
            violation(
                "version",
                "TLSv1.1",
                "versions",
                "TLS 1.1 を受け入れる",
                "accepts TLS 1.1",
                false,
            ),
            violation(
                "suite",
                "TLS_RSA_WITH_AES_128_CBC_SHA",
                "cbc",
                "CBC モードの暗号スイート",
                "a CBC-mode suite",
                false,
            ),
            violation(
                "suite",
                "TLS_RSA_WITH_AES_128_CBC_SHA",
                "static-kx",
                "前方秘匿性のない鍵交換",
                "key exchange without forward secrecy",
                false,
            ),
            violation(
                "suite",
                "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
                "3des",
                "3DES",
                "3DES",
                false,
            ),
            violation(
                "certificate",
                "1024",
                "min_rsa_bits",
                "RSA 鍵が 2048 ビット未満",
                "RSA key under 2048 bits",
                false,
            ),
        ],
    );
    breaks.insert(
        "recommended".to_owned(),
        vec![
            violation(
                "version",
                "TLSv1.0",
                "versions",
                "TLS 1.0 を受け入れる",
                "accepts TLS 1.0",
                false,
            ),
            violation(
                "certificate",
                "SHA-1",
                "forbidden_signature_hashes",
                "SHA-1 署名の証明書",
                "a certificate signed with SHA-1",
                true,
            ),
        ],
    );
    breaks.insert(
        "exception".to_owned(),
        vec![violation(
            "certificate",
            "1024",
            "min_rsa_bits",
            "RSA 鍵が 2048 ビット未満",
            "RSA key under 2048 bits",
            false,
        )],
    );
    let mut cipher_suites = BTreeMap::new();
    cipher_suites.insert(
        "TLSv1.2".to_owned(),
        strings(&[
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_RSA_WITH_AES_128_CBC_SHA",
        ]),
    );
    cipher_suites.insert("TLSv1.1".to_owned(), Vec::new());
    cipher_suites.insert(
        "TLSv1.0".to_owned(),
        strings(&["TLS_RSA_WITH_3DES_EDE_CBC_SHA"]),
    );
    let mut preference = BTreeMap::new();
    preference.insert("TLSv1.2".to_owned(), "server");
    preference.insert("TLSv1.1".to_owned(), "unknown");
    preference.insert("TLSv1.0".to_owned(), "client");
    let mut evidence = TlsEvidence::default();
    evidence
        .versions
        .insert("TLSv1.2".to_owned(), "ev-000002".to_owned());
    evidence
        .versions
        .insert("TLSv1.3".to_owned(), "ev-000002".to_owned());
    evidence.certificate = Some("ev-000002".to_owned());
    evidence
        .groups
        .insert("x25519".to_owned(), "ev-000002".to_owned());
    evidence
        .dh
        .insert("1024".to_owned(), "ev-000002".to_owned());
    TlsReport {
        channel: "tls",
        starttls: None,
        versions: strings(&["TLSv1.2", "TLSv1.1", "TLSv1.0"]),
        versions_refused: strings(&["TLSv1.3", "SSLv3", "SSLv2"]),
        cipher_suites,
        preference,
        suites,
        groups: strings(&["x25519", "secp256r1"]),
        dh_bits: vec![1024],
        sslv2_ciphers: Vec::new(),
        certificate: Some(LeafReport {
            facts: leaf.clone(),
            hostname_match: Some(false),
            names_checked: strings(&["198.18.1.10", "files.hospital.example"]),
            name_sources: vec![NameSource::Address, NameSource::Target],
            chain_trusted: false,
            chain_error: Some("self-signed certificate (UnknownIssuer)".to_owned()),
            chain_length: 1,
            evidence: "ev-000002".to_owned(),
        }),
        chain: vec![leaf],
        other_certificates: Vec::new(),
        evaluation: Evaluation {
            guideline: "TLS暗号設定ガイドライン 3.1.0 (IPA TLS guidelines)".to_owned(),
            satisfies: None,
            satisfies_ja: None,
            satisfies_en: None,
            breaks,
        },
        handshakes: 57,
        duration_ms: 3120,
        complete: true,
        notes: strings(&["TLSv1.1 accepted with no suite kenshin offered"]),
        evidence,
    }
}

/// TLS 1.3 only, satisfying the high-security profile, behind STARTTLS-less HTTPS.
fn modern_tls() -> TlsReport {
    let mut leaf = cert(
        "CN=sw-core.hospital.example",
        "CN=Hospital CA,O=Example Hospital",
        false,
        24,
    );
    leaf.key_type = "EC".to_owned();
    leaf.key_bits = Some(256);
    leaf.curve = Some("P-256".to_owned());
    leaf.signature_algorithm = "ecdsa-with-SHA256".to_owned();
    leaf.signature_hash = Some("SHA-256".to_owned());
    leaf.expires_within_30_days = true;
    leaf.sans = strings(&["sw-core.hospital.example"]);
    let ca = cert(
        "CN=Hospital CA,O=Example Hospital",
        "CN=Hospital CA,O=Example Hospital",
        false,
        3000,
    );
    let mut breaks = BTreeMap::new();
    for p in ["high", "recommended", "exception"] {
        breaks.insert(p.to_owned(), Vec::new());
    }
    let mut cipher_suites = BTreeMap::new();
    cipher_suites.insert(
        "TLSv1.3".to_owned(),
        strings(&["TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"]),
    );
    let mut preference = BTreeMap::new();
    preference.insert("TLSv1.3".to_owned(), "server");
    TlsReport {
        channel: "tls",
        starttls: None,
        versions: strings(&["TLSv1.3"]),
        versions_refused: strings(&["TLSv1.2", "TLSv1.1", "TLSv1.0"]),
        cipher_suites,
        preference,
        suites: vec![
            suite(
                "TLSv1.3",
                "TLS_AES_256_GCM_SHA384",
                "0x1302",
                "AES",
                256,
                "GCM",
                "AEAD",
                vec![],
                "ev-000008",
            ),
            suite(
                "TLSv1.3",
                "TLS_AES_128_GCM_SHA256",
                "0x1301",
                "AES",
                128,
                "GCM",
                "AEAD",
                vec![],
                "ev-000008",
            ),
        ],
        groups: strings(&["x25519"]),
        dh_bits: Vec::new(),
        sslv2_ciphers: Vec::new(),
        certificate: Some(LeafReport {
            facts: leaf.clone(),
            hostname_match: None,
            names_checked: Vec::new(),
            name_sources: Vec::new(),
            chain_trusted: true,
            chain_error: None,
            chain_length: 2,
            evidence: "ev-000008".to_owned(),
        }),
        chain: vec![leaf, ca.clone()],
        other_certificates: vec![ca],
        evaluation: Evaluation {
            guideline: "TLS暗号設定ガイドライン 3.1.0 (IPA TLS guidelines)".to_owned(),
            satisfies: Some("high".to_owned()),
            satisfies_ja: Some("高セキュリティ型".to_owned()),
            satisfies_en: Some("high security".to_owned()),
            breaks,
        },
        handshakes: 12,
        duration_ms: 640,
        complete: false,
        notes: Vec::new(),
        evidence: TlsEvidence::default(),
    }
}

/// A CT console: DICOM, Telnet with a hostile banner; in the ledger and a segment.
fn ct_console() -> AssessedHost {
    let mut o = observation(
        "198.18.1.20",
        Some([0x00, 0x09, 0x5c, 0x4b, 0x01, 0x01]),
        &[DiscoveryMethod::Arp],
    );
    o.hostnames = strings(&["pacs.hospital.example"]);
    o.ports = vec![
        port(104, Protocol::Tcp, PortState::Open),
        port(23, Protocol::Tcp, PortState::Open),
    ];
    o.notes = strings(&["answered ARP only"]);
    let mut dicom = service(104, "dicom", NamedBy::Port);
    dicom.facts = facts(vec![
        ("dicom.accepted", Fact::Bool(true)),
        (
            "dicom.implementation_version",
            Fact::Text("OFFIS_DCMTK_366".to_owned()),
        ),
        ("dicom.max_pdu", Fact::Int(16384)),
    ]);
    dicom.identity = identity(
        &[("device", "medical_device"), ("model", "Somatom")],
        &["dicom.dcmtk"],
        None,
    );
    dicom.evidence = strings(&["ev-000004"]);
    let mut telnet = service(23, "telnet", NamedBy::Probe);
    telnet.banner = Some("\u{1b}[2J<b>login:</b> 保守用".to_owned());
    telnet.evidence = strings(&["ev-000005"]);
    AssessedHost {
        observation: o,
        mac_vendor: Some("Siemens Healthineers".to_owned()),
        kind: DeviceKind::MedicalDevice,
        kind_reason: "DICOM answered; fingerprint dicom.dcmtk".to_owned(),
        kind_reason_ja: "DICOM が応答。指紋 dicom.dcmtk".to_owned(),
        kind_confidence: Some(KindConfidence::Likely),
        segment: Some("modality".to_owned()),
        services: vec![dicom, telnet],
    }
}

/// A printer: SNMP with the default community, a connect-only raw port.
fn printer() -> AssessedHost {
    let mut o = observation(
        "198.18.1.30",
        None,
        &[DiscoveryMethod::Icmp, DiscoveryMethod::Udp],
    );
    o.ports = vec![
        port(9100, Protocol::Tcp, PortState::Open),
        port(161, Protocol::Udp, PortState::Open),
    ];
    o.snmp = Some(SnmpObservation {
        version: "v2c",
        community_accepted: true,
        error_status: None,
        sys_descr: Some("RICOH IM C3000 1.02 / RICOH Network Printer C model".to_owned()),
        sys_object_id: Some("1.3.6.1.4.1.367.1.1".to_owned()),
        sys_name: Some("ricoh-3f".to_owned()),
        sys_uptime_ticks: Some(123_456_789),
        evidence: "ev-000006".to_owned(),
    });
    let mut raw = service(9100, "jetdirect", NamedBy::Port);
    raw.connect_only = true;
    raw.evidence = strings(&["ev-000007"]);
    raw.notes = strings(&["connect only: nothing was sent"]);
    let mut snmp = service(161, "snmp", NamedBy::Probe);
    snmp.protocol = Protocol::Udp;
    snmp.vendor = Some("Ricoh".to_owned());
    snmp.product = Some("IM C3000".to_owned());
    snmp.facts = facts(vec![
        ("snmp.community_accepted", Fact::Bool(true)),
        ("snmp.version", Fact::Text("v2c".to_owned())),
    ]);
    snmp.identity = identity(
        &[("device", "printer"), ("model", "IM C3000")],
        &["snmp.ricoh"],
        Some(1.0),
    );
    snmp.evidence = strings(&["ev-000006"]);
    AssessedHost {
        observation: o,
        mac_vendor: None,
        kind: DeviceKind::Printer,
        kind_reason: "SNMP sysDescr names a printer".to_owned(),
        kind_reason_ja: "SNMP の sysDescr がプリンタを示す".to_owned(),
        kind_confidence: Some(KindConfidence::Likely),
        segment: None,
        services: vec![raw, snmp],
    }
}

/// A core switch with a modern HTTPS management page.
fn switch() -> AssessedHost {
    let mut o = observation(
        "198.18.1.40",
        Some([0x00, 0x1b, 0x54, 0xaa, 0xbb, 0xcc]),
        &[DiscoveryMethod::Icmp],
    );
    o.hostnames = strings(&["sw-core.hospital.example", "sw-core"]);
    o.ports = vec![port(443, Protocol::Tcp, PortState::Open)];
    let mut https = service(443, "https", NamedBy::Probe);
    https.tls = true;
    https.vendor = Some("Cisco".to_owned());
    https.product = Some("IOS XE".to_owned());
    https.version = Some("17.9.4".to_owned());
    https.identity = identity(
        &[("device", "network_device")],
        &["http.cisco-iosxe"],
        Some(0.8),
    );
    https.evidence = strings(&["ev-000008"]);
    https.tls_report = Some(Box::new(modern_tls()));
    AssessedHost {
        observation: o,
        mac_vendor: Some("Cisco Systems, Inc".to_owned()),
        kind: DeviceKind::NetworkDevice,
        kind_reason: "fingerprint http.cisco-iosxe".to_owned(),
        kind_reason_ja: "指紋 http.cisco-iosxe".to_owned(),
        kind_confidence: Some(KindConfidence::Confirmed),
        segment: None,
        services: vec![https],
    }
}

/// A terminal PC with RDP, in the office segment.
fn terminal() -> AssessedHost {
    let mut o = observation("198.18.1.50", None, &[DiscoveryMethod::Tcp]);
    o.rtt = None;
    o.ports = vec![port(3389, Protocol::Tcp, PortState::Open)];
    let mut rdp = service(3389, "rdp", NamedBy::Probe);
    rdp.facts = facts(vec![
        ("rdp.nla", Fact::Bool(true)),
        ("rdp.protocols", Fact::List(strings(&["ssl", "hybrid"]))),
    ]);
    rdp.identity = identity(&[("os", "Windows")], &["rdp.windows"], Some(0.6));
    rdp.evidence = strings(&["ev-000009"]);
    AssessedHost {
        observation: o,
        mac_vendor: None,
        kind: DeviceKind::TerminalPc,
        kind_reason: "RDP only".to_owned(),
        kind_reason_ja: "RDP のみ".to_owned(),
        kind_confidence: Some(KindConfidence::Potential),
        segment: Some("office".to_owned()),
        services: vec![rdp],
    }
}

/// A host that answered ICMP and was not port-scanned: kind unknown.
fn silent() -> AssessedHost {
    let mut o = observation("198.18.1.60", None, &[DiscoveryMethod::Icmp]);
    o.scan_state = HostScanState::Interrupted;
    o.probes_sent = 3;
    o.notes = strings(&["the scan was stopped before this host's ports were scanned"]);
    AssessedHost {
        observation: o,
        mac_vendor: None,
        kind: DeviceKind::Unknown,
        kind_reason: "no open service".to_owned(),
        kind_reason_ja: "公開サービスなし".to_owned(),
        kind_confidence: None,
        segment: Some("office".to_owned()),
        services: Vec::new(),
    }
}

fn req(framework: &str, id: &str) -> RequirementRef {
    RequirementRef {
        framework: framework.to_owned(),
        id: id.to_owned(),
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    n: u32,
    check: &str,
    severity: Severity,
    confidence: Confidence,
    host: &str,
    port: Option<u16>,
    title: Text,
    reqs: Vec<RequirementRef>,
    evidence: &[&str],
) -> Finding {
    Finding {
        id: format!("f-{n:04}"),
        check: check.to_owned(),
        severity,
        confidence,
        host: ip(host),
        port,
        protocol: port.map(|p| {
            if p == 161 {
                Protocol::Udp
            } else {
                Protocol::Tcp
            }
        }),
        title,
        rationale: text("理由の説明。", "Why it matters."),
        detail: format!("{check} seen on {host}"),
        remediation: text("対処の説明。", "What to do."),
        requirements: reqs,
        evidence: strings(evidence),
        advisory: None,
    }
}

fn conclusions() -> Conclusions {
    let r7 = "mhlw-checklist-r7";
    let mut kev = finding(
        3,
        "vuln.known-exploited",
        Severity::High,
        Confidence::Likely,
        "198.18.1.10",
        Some(22),
        text(
            "悪用が確認された脆弱性 (OpenSSH)",
            "Known exploited vulnerability (OpenSSH)",
        ),
        vec![
            req(r7, "2-⑦"),
            req("mhlw-guideline-6.0", "システム運用編 13⑪"),
        ],
        &["ev-000001"],
    );
    kev.advisory = Some(AdvisoryFacts {
        id: "openssh-regresshion".to_owned(),
        cve: strings(&["CVE-2024-6387"]),
        cvss: Some(8.1),
        kev_added: Some("2024-07-10".to_owned()),
        ransomware: Some("known".to_owned()),
        vendor_advisories: strings(&["https://access.redhat.com/security/cve/cve-2024-6387"]),
        references: strings(&["https://www.openssh.com/txt/release-9.8"]),
        end_of_life: Some("2024-06-30".to_owned()),
        basis: "RHEL 7 package revision el7_9 predates the fix".to_owned(),
    });
    let findings = vec![
        finding(
            1,
            "smb.smb1",
            Severity::Critical,
            Confidence::Confirmed,
            "198.18.1.10",
            Some(445),
            text("SMBv1 が有効", "SMBv1 is enabled"),
            vec![req(r7, "2-⑥")],
            &["ev-000003"],
        ),
        finding(
            2,
            "service.telnet",
            Severity::Critical,
            Confidence::Confirmed,
            "198.18.1.20",
            Some(23),
            text("Telnet が開いている", "Telnet is open"),
            vec![req(r7, "2-⑫"), req(r7, "2-⑥")],
            &["ev-000005"],
        ),
        kev,
        finding(
            4,
            "tls.legacy-protocol",
            Severity::High,
            Confidence::Confirmed,
            "198.18.1.10",
            Some(443),
            text("古い TLS を受け入れる", "Accepts legacy TLS"),
            vec![req(r7, "2-⑥"), req("ipa-tls-guideline", "高セキュリティ型")],
            &["ev-000002"],
        ),
        finding(
            5,
            "tls.certificate-expired",
            Severity::Medium,
            Confidence::Confirmed,
            "198.18.1.10",
            Some(443),
            text("証明書の期限切れ", "Certificate expired"),
            vec![req(r7, "2-⑥")],
            &["ev-000002"],
        ),
        finding(
            6,
            "snmp.default-community",
            Severity::Medium,
            Confidence::Potential,
            "198.18.1.30",
            Some(161),
            text("SNMP の既定コミュニティ", "SNMP default community"),
            vec![req(r7, "2-⑥")],
            &["ev-000006"],
        ),
        finding(
            7,
            "service.rdp",
            Severity::Low,
            Confidence::Exposure,
            "198.18.1.50",
            Some(3389),
            text("RDP が開いている", "RDP is open"),
            vec![req(r7, "2-⑫")],
            &["ev-000009"],
        ),
        finding(
            8,
            "inventory.unregistered",
            Severity::Info,
            Confidence::Confirmed,
            "198.18.1.40",
            None,
            text("台帳にない機器", "Device not in the ledger"),
            vec![req(r7, "2-①")],
            &[],
        ),
    ];
    let both = strings(&["医療機関確認用", "事業者確認用"]);
    let entry = |id: &str,
                 forms: &[String],
                 unconfirmed: bool,
                 status: Status,
                 ids: &[&str],
                 note: Text| Entry {
        framework: r7.to_owned(),
        id: id.to_owned(),
        forms: forms.to_vec(),
        question: text(&format!("{id} の確認事項"), &format!("Question {id}")),
        unconfirmed,
        status,
        findings: strings(ids),
        note,
    };
    let checklist = vec![
        entry(
            "1-①",
            &both[..1],
            false,
            Status::Manual,
            &[],
            text("文書で確認する", "Check the documents"),
        ),
        entry(
            "2-①",
            &both,
            false,
            Status::Findings,
            &["f-0008"],
            text("台帳にない機器がある", "A device is not in the ledger"),
        ),
        entry(
            "2-⑥",
            &both,
            false,
            Status::Findings,
            &["f-0001", "f-0002", "f-0004", "f-0005", "f-0006"],
            text("所見あり", "Findings"),
        ),
        entry(
            "2-⑦",
            &both[1..],
            false,
            Status::Findings,
            &["f-0003"],
            text("既知の脆弱性", "Known vulnerabilities"),
        ),
        entry(
            "2-⑫",
            &both,
            true,
            Status::Findings,
            &["f-0002", "f-0007"],
            text("リモート接続が開いている", "Remote access is open"),
        ),
        entry(
            "2-⑬",
            &both,
            false,
            Status::NoFindings,
            &[],
            text("検査で所見なし", "No findings from the scan"),
        ),
        entry(
            "3-①",
            &both[..1],
            true,
            Status::Manual,
            &[],
            text("=現地で確認", "+check on site"),
        ),
    ];
    let provenance = vec![(
        "rules/advisories/kev.toml".to_owned(),
        kenshin_assess::advisory::Provenance {
            kev_catalog_version: "2026.11.20".to_owned(),
            compiled: "2026-11-21".to_owned(),
            sources: strings(&["CISA KEV"]),
            note: None,
        },
    )];
    Conclusions {
        findings,
        checklist,
        provenance,
    }
}
