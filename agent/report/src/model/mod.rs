//! The report contract `kenshin.report/1.2`, as Rust types.
//!
//! Every value a program compares is typed: severity, confidence, checklist status
//! and device kind are enums serialized in the contract spelling, the TLS section is
//! [`tls::Tls`], and facts are [`FactValue`]s. Nothing here is a `serde_json::Value`.

pub mod groups;
pub mod payload;
pub mod tls;

pub use payload::Payload;

use std::collections::BTreeMap;

pub use kenshin_assess::checklist::Status as ChecklistStatus;
pub use kenshin_assess::finding::{Confidence, Severity};
pub use kenshin_assess::kind::{DeviceKind, KindConfidence};
use serde::{Deserialize, Serialize};

pub use groups::{Disposition, DispositionStatus, ExceptionRecord, ExceptionStatus, Group};

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub contract: String,
    pub tool: Tool,
    pub scan: Scan,
    pub hosts: Vec<Host>,
    pub findings: Vec<Finding>,
    pub checklist: Vec<ChecklistItem>,
    /// The evidence records. Since contract 1.2 a sealed folder's report.json leaves
    /// this empty and the records are in the archive that `evidence_archive` names.
    pub evidence: Vec<Evidence>,
    /// The comparison with the asset ledger given by `--inventory`.
    #[serde(default)]
    pub inventory: Option<Inventory>,
    /// The key that seals the report folder (manifest.json, manifest.sig).
    #[serde(default)]
    pub signing: Option<Signing>,
    /// Findings grouped by check and cause (contract 1.1).
    #[serde(default)]
    pub groups: Vec<Group>,
    /// The accepted-risk register as applied (contract 1.1).
    #[serde(default)]
    pub exceptions: Vec<ExceptionRecord>,
    /// Where the evidence records are (contract 1.2): absent when `evidence` holds them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_archive: Option<EvidenceArchive>,
}

/// The evidence archive of a report folder (docs/evidence.md): every evidence ID the
/// report cites is a record line of `file`, and `index` lists each member's SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceArchive {
    /// `kenshin.evidence/1`.
    pub format: String,
    /// The archive's file name in the folder: `evidence.jsonl.gz`.
    pub file: String,
    /// The sealed member list's file name: `evidence.sha256`.
    pub index: String,
    /// How many evidence records the archive holds.
    pub records: usize,
    /// How many distinct payload chunks they share.
    pub chunks: usize,
}

/// The key that signs the folder's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signing {
    /// `ed25519`.
    pub algorithm: String,
    /// `SHA256:` and the unpadded base64 of the SHA-256 of the public key.
    pub fingerprint: String,
    /// The manifest file that carries the signature.
    pub manifest: String,
}

/// The asset ledger (台帳) compared with what the scan saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// The ledger file as given.
    pub source: String,
    /// `UTF-8` or `Shift_JIS`.
    pub encoding: String,
    /// SHA-256 of the ledger file, so a reader knows which ledger was used.
    pub sha256: String,
    pub entries: u64,
    /// Entries matched to a host seen.
    pub matched: u64,
    /// Entries whose address lies outside the scanned scope (not looked for).
    pub out_of_scope: u64,
    /// Addresses of hosts seen that no entry names.
    pub unregistered: Vec<String>,
    /// Entries in scope (or with no address) that no host seen matched.
    pub not_seen: Vec<LedgerEntry>,
}

/// One ledger row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The row's line number in the file (the header is line 1).
    pub line: u64,
    pub address: Option<String>,
    pub mac: Option<String>,
    pub hostname: Option<String>,
    pub kind: Option<DeviceKind>,
    pub owner: Option<String>,
    pub location: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
    pub rules_version: String,
    /// Provenance of the advisory data (KEV catalog version, compile date).
    #[serde(default)]
    pub advisories: Vec<RulesProvenance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scan {
    pub id: String,
    pub started_at: String,
    pub finished_at: String,
    pub complete: bool,
    /// Targets as given (files expanded to their entries).
    pub targets: Vec<String>,
    /// Excludes as given.
    pub excluded: Vec<String>,
    /// Hostname targets and excludes with the addresses they resolved to, once.
    pub resolved: Vec<Resolved>,
    /// The scope actually scanned: targets minus excludes, as ranges.
    pub scope: Vec<String>,
    /// Port spec in nmap syntax (`T:22,80,U:161`).
    pub ports: String,
    pub settings: Settings,
    /// Named segments, as given.
    #[serde(default)]
    pub segments: Vec<SegmentDef>,
    /// The named segment the scanner sat in.
    #[serde(default)]
    pub vantage: Option<String>,
    /// The fleet site the scan was made from (`--site`, or the daemon's `[fleet] site`);
    /// absent when none was named (contract 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    pub discovery: Discovery,
    pub stats: Stats,
    pub warnings: Vec<String>,
    /// What the scan was judged with (contract 1.1).
    #[serde(default)]
    pub rules: Option<RulesUsed>,
    /// The offset times are shown in to people (`+09:00`, JST); report.json stays RFC 3339.
    #[serde(default)]
    pub utc_offset: Option<String>,
}

/// The rule pack, KEV catalog and checklist edition a report was judged with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesUsed {
    /// `builtin`, or the version of the installed rule pack.
    pub pack: String,
    /// The installed pack's publisher key (`SHA256:…`); none for the built-in rules.
    pub publisher: Option<String>,
    /// The CISA KEV catalog version the advisories' KEV flags come from.
    pub kev_catalog: Option<String>,
    /// The checklist edition the checklist view answers (`mhlw-checklist-r7`).
    pub checklist: String,
    /// A newer edition that exists but was not used.
    pub checklist_newer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    pub name: String,
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub rate_pps: u32,
    pub host_rate_pps: u32,
    pub host_concurrency: u32,
    pub host_parallelism: u32,
    pub retries: u32,
    pub discovery_mode: String,
    pub time_budget_s: u64,
    pub icmp: bool,
    pub arp: bool,
    /// True if the SNMP read with a community was made (the community itself is never written).
    pub snmp: bool,
    pub timeout_initial_ms: u64,
    pub timeout_min_ms: u64,
    pub timeout_max_ms: u64,
    /// True if TLS services were audited (versions, suites, certificates).
    #[serde(default)]
    pub tls_audit: bool,
    /// Pause between two TLS handshakes to one port.
    #[serde(default)]
    pub tls_pause_ms: Option<u64>,
    /// Cap on TLS handshakes to one port.
    #[serde(default)]
    pub tls_max_handshakes: Option<u32>,
    /// Where certificate chains' trust anchors came from.
    #[serde(default)]
    pub tls_trust_store: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discovery {
    /// `direct` or `gated`.
    pub mode: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub addresses: u64,
    pub hosts_up: u64,
    pub open_ports: u64,
    pub probes_sent: u64,
    pub probes: ProbeCounts,
    pub duration_ms: u64,
    /// Frames on the wire, as kenshin counted them (what the rate caps hold to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<FrameCounts>,
    /// Where the time went (added in 1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// The retry policy's decisions and the miss probability it accepted (added in 1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryStats>,
}

/// Where a scan's time went: each phase's wall time in order, and each stage of a
/// host's scan summed over hosts (hosts run side by side, so these exceed the wall).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    pub phases: Vec<PhaseTime>,
    pub host_port_scan_ms: u64,
    pub host_udp_ms: u64,
    /// Identification, the TLS audit included.
    pub host_identify_ms: u64,
    pub host_tls_audit_ms: u64,
    pub host_reverse_names_ms: u64,
}

/// One phase of the scan and its wall time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseTime {
    pub phase: String,
    pub ms: u64,
}

/// What the retry policy decided: silent ports of an address that showed life are
/// retried; an address silent on every port gets a second look on a few ports only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryStats {
    /// Share of answering ports whose first probe got no answer.
    pub loss_estimate: f64,
    pub loss_samples: u64,
    pub second_look_ports: Vec<u16>,
    /// Share of the hosts expected missed (ping-silent hosts like those found, each
    /// weighted by its chance of being missed) whose open ports include one of them.
    pub second_look_coverage: f64,
    /// Live hosts expected still missed after the second look (absent in reports
    /// before it was stated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_missed_hosts: Option<f64>,
    pub lifeless_addresses: u64,
    pub found_by_second_look: u64,
    /// The second look sent an echo too (hosts that answer only ping were found).
    pub second_look_echo: bool,
    /// The chance a live host that ignores ping and filters its closed ports is missed.
    pub accepted_miss_probability: f64,
}

/// Frames kenshin caused to leave its interface, counted in fixed one-second windows
/// from the start of the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameCounts {
    /// Frames sent in all.
    pub sent: u64,
    /// The largest count in one second, all hosts together (held to `rate_pps`).
    pub peak_second: u32,
    /// The largest count in one second to any one host (held to its budget).
    pub peak_second_host: u32,
    /// The host that count went to.
    pub peak_host: Option<String>,
    /// Frames among `sent` that went out unannounced (a late answer's RST, a
    /// retransmission): what the cap's reserve is kept for. Absent in earlier 1.2
    /// reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unplanned: Option<u64>,
    /// The most of them in one fixed second, all hosts together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unplanned_peak_second: Option<u32>,
}

/// The class budget a host got, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// The device class the budget is for (`medical_device`, `printer`, `unknown` …).
    pub class: String,
    /// Frames a second the host could receive.
    pub frames_per_s: u32,
    /// Connections it could have in flight.
    pub inflight: u32,
    /// `full`, or `versions-and-certificate`.
    pub tls_audit: String,
    /// Where the class came from: `ledger`, `passive`, `mac-vendor`, `open-port`, `default`.
    pub source: String,
    /// How the class was learned, in the words of its source.
    pub learned: String,
    /// Why the class has this budget (`rules/safety.toml`).
    pub reason: Text,
    /// Frames the host was sent, and the most in one second, as kenshin counted them.
    pub frames_sent: u64,
    pub peak_second: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeCounts {
    pub icmp: u64,
    pub arp: u64,
    pub tcp: u64,
    pub udp: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub address: String,
    pub mac: Option<String>,
    pub mac_vendor: Option<String>,
    pub hostnames: Vec<String>,
    pub kind: DeviceKind,
    pub kind_reason: String,
    /// The same reason in Japanese.
    #[serde(default)]
    pub kind_reason_ja: String,
    /// How sure the kind is (`confirmed`, `likely`, `potential`); `null` for `unknown`.
    #[serde(default)]
    pub kind_confidence: Option<KindConfidence>,
    /// Names the system resolver gave for the address (a PTR lookup, made for hosts
    /// that serve TLS).
    #[serde(default)]
    pub reverse_names: Vec<String>,
    /// The named segment the host is in.
    #[serde(default)]
    pub segment: Option<String>,
    pub discovered_by: Vec<String>,
    pub rtt_ms: Option<f64>,
    /// `complete`, `unreachable`, `abandoned`, `interrupted` or `not-port-scanned`.
    pub scan_state: String,
    pub notes: Vec<String>,
    pub probes_sent: u64,
    /// Ports that answered closed, and that stayed silent, as counts.
    pub closed_ports: u64,
    pub filtered_ports: u64,
    pub services: Vec<Service>,
    pub snmp: Option<Snmp>,
    /// The ledger row that names this host, when a ledger was given.
    #[serde(default)]
    pub ledger: Option<LedgerEntry>,
    /// The class budget the host got and why, with its frame figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    /// What the host said about itself while kenshin listened (`kenshin listen`,
    /// `scan --listen`); absent when nothing was heard.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heard: Vec<HeardStatement>,
}

/// One statement a host made about itself, heard while listening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeardStatement {
    /// The passive source: `arp`, `dhcp`, `lldp`, `cdp`, `mdns`, `ssdp`, `nbns`, `ndp`.
    pub source: String,
    /// What was said: `lldp.system_name`, `mdns.service`, `dhcp.fingerprint` …
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub port: u16,
    pub protocol: String,
    pub state: String,
    pub service: String,
    /// `probe` (named from the service's bytes) or `port` (from the port number only).
    pub service_from: String,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub banner: Option<String>,
    pub identity: Identity,
    /// Protocol facts by name: `ssh.software`, `smb.dialects`, `http.title` …
    pub facts: BTreeMap<String, FactValue>,
    /// What the TLS audit found, judged.
    pub tls: Option<Box<tls::Tls>>,
    pub connect_only: bool,
    pub evidence: Vec<String>,
    pub notes: Vec<String>,
}

/// One protocol fact as a service stated it: text, a whole number, yes or no, or a
/// list of words. Written as the bare JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FactValue {
    Text(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
}

/// What the fingerprints concluded beyond vendor, product and version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub os: Option<String>,
    pub distribution: Option<String>,
    pub package_revision: Option<String>,
    pub model: Option<String>,
    /// The device kind the service itself points to.
    pub device: Option<DeviceKind>,
    pub certainty: Option<f64>,
    /// IDs of the fingerprints that matched.
    pub fingerprints: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snmp {
    pub version: String,
    pub community_accepted: bool,
    pub error_status: Option<String>,
    pub sys_descr: Option<String>,
    pub sys_object_id: Option<String>,
    pub sys_name: Option<String>,
    pub sys_uptime_ticks: Option<u64>,
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Text {
    pub ja: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequirementRef {
    pub framework: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub check: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub host: String,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub title: Text,
    /// Why it matters.
    pub rationale: Text,
    /// What was seen: values, versions, the basis of the confidence.
    pub detail: String,
    pub remediation: Text,
    pub requirements: Vec<RequirementRef>,
    pub evidence: Vec<String>,
    /// For findings from an advisory: the vulnerability or end of support.
    pub advisory: Option<AdvisoryRef>,
    /// Open, or accepted by an exception (contract 1.1).
    #[serde(default)]
    pub disposition: Disposition,
}

impl Finding {
    /// Where it was seen: `host:port/proto`, `host:port`, or the host alone.
    pub fn place(&self) -> String {
        match (self.port, &self.protocol) {
            (Some(p), Some(proto)) => format!("{}:{p}/{proto}", self.host),
            (Some(p), None) => format!("{}:{p}", self.host),
            _ => self.host.clone(),
        }
    }
}

/// The advisory behind a finding, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisoryRef {
    pub id: String,
    pub cve: Vec<String>,
    pub cvss: Option<f64>,
    /// Date CISA added it to the Known Exploited Vulnerabilities catalog.
    pub kev_added: Option<String>,
    /// `known` if KEV records ransomware use.
    pub ransomware: Option<String>,
    pub vendor_advisories: Vec<String>,
    pub references: Vec<String>,
    pub end_of_life: Option<String>,
    /// Why this confidence.
    pub basis: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub framework: String,
    pub id: String,
    /// The forms that ask it (医療機関確認用, 事業者確認用).
    pub forms: Vec<String>,
    /// kenshin's paraphrase of the item.
    pub question: Text,
    /// The item's number or wording is unconfirmed in kenshin's sources.
    pub unconfirmed: bool,
    pub status: ChecklistStatus,
    pub findings: Vec<String>,
    /// Why this status.
    pub note: Text,
}

/// Where the rule data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesProvenance {
    pub file: String,
    pub kev_catalog_version: String,
    pub compiled: String,
}

/// A named segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentDef {
    pub name: String,
    pub ranges: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub id: String,
    pub host: String,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub probe: String,
    pub at: String,
    /// The bytes sent, capped (shared by records with the same bytes); base64 in JSON.
    pub sent: Payload,
    /// The bytes received, capped (shared by records with the same bytes); base64 in JSON.
    pub received: Payload,
    pub truncated: bool,
    pub redacted: Vec<String>,
    pub note: String,
    /// The reads and writes of the conversation in order (empty for a bare connect).
    pub exchange: Vec<ExchangeSegment>,
}

/// One read or write: which way, when (ms since the connection opened), how many bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeSegment {
    pub direction: String,
    pub at_ms: f64,
    pub bytes: usize,
}

// A report holds every service of every host at once: the TLS section stays boxed.
const _: () = assert!(
    size_of::<Service>() <= 512,
    "a report Service grew past 512 bytes"
);
