//! `services[].tls`: what the TLS audit saw, judged against the IPA guideline.
//!
//! The section was written through a sorted map before it had a Rust type, so every
//! object in it has its keys in alphabetical order. The fields below are declared in
//! that order so the bytes stay the same; keep it when adding a field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Protocol versions older than TLS 1.2, which the guideline no longer accepts.
pub const LEGACY_VERSIONS: [&str; 4] = ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"];

/// The guideline's strictest profile (高セキュリティ型).
pub const PROFILE_HIGH: &str = "high";

/// Profiles in the order a reader is told what a service breaks: the one most
/// services should meet first.
pub const PROFILE_ORDER: [&str; 3] = ["recommended", PROFILE_HIGH, "exception"];

/// One audited TLS service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tls {
    /// The leaf certificate of the first chain, with the checks that need context.
    pub certificate: Option<Leaf>,
    /// Every certificate of the first chain, leaf first.
    pub chain: Vec<Certificate>,
    /// `tls` for TLS from the first byte; else how it was reached (`smtp-starttls` …).
    pub channel: String,
    /// Accepted suite names per version, in the server's order where it has one.
    pub cipher_suites: BTreeMap<String, Vec<String>>,
    /// False if the audit stopped before it could ask everything.
    pub complete: bool,
    /// Finite-field DHE prime sizes seen.
    pub dh_bits: Vec<u16>,
    /// How long the audit took, pauses included.
    pub duration_ms: u64,
    pub evaluation: Evaluation,
    pub evidence: TlsEvidence,
    /// Key-exchange groups, in the server's order.
    pub groups: Vec<String>,
    /// TLS handshakes made, one TCP connection each.
    pub handshakes: u32,
    pub notes: Vec<String>,
    /// Leaves of other chains the server presented (another key type).
    pub other_certificates: Vec<Certificate>,
    /// `server`, `client` or `unknown`, per version.
    pub preference: BTreeMap<String, String>,
    pub sslv2_ciphers: Vec<String>,
    /// The STARTTLS-style upgrade used, if any (`smtp`, `ftp`, `imap`, `pop3`, `rdp`).
    pub starttls: Option<String>,
    pub suites: Vec<Suite>,
    /// Accepted versions, newest first (`TLSv1.3` … `SSLv2`).
    pub versions: Vec<String>,
    /// Versions asked about and refused.
    pub versions_refused: Vec<String>,
}

impl Tls {
    /// True if the service accepts SSLv2, SSLv3, TLS 1.0 or TLS 1.1.
    pub fn accepts_legacy(&self) -> bool {
        self.versions
            .iter()
            .any(|v| LEGACY_VERSIONS.contains(&v.as_str()))
    }
}

/// One accepted suite, classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suite {
    pub aead: bool,
    pub authentication: String,
    pub cipher: String,
    pub cipher_bits: u16,
    /// `0xC02F` style.
    pub code: String,
    pub evidence: String,
    /// Weak properties: `null`, `export`, `anon`, `rc4`, `des`, `3des`, `md5`, `cbc`,
    /// `static-kx`, `psk`, `srp`.
    pub flags: Vec<String>,
    pub forward_secrecy: bool,
    pub key_exchange: String,
    pub mac: String,
    pub mode: String,
    pub name: String,
    pub version: String,
}

/// One certificate, described at the scan's time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// The named curve of an EC key (`P-256` …).
    pub curve: Option<String>,
    /// Whole days from the scan to expiry (negative once expired).
    pub days_left: i64,
    pub expired: bool,
    pub expires_within_30_days: bool,
    pub issuer: String,
    pub key_bits: Option<u32>,
    /// `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA` or the algorithm's OID.
    pub key_type: String,
    pub not_after: String,
    pub not_before: String,
    pub not_yet_valid: bool,
    pub sans: Vec<String>,
    pub self_signed: bool,
    pub serial: String,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
    pub signature_algorithm: String,
    /// `MD5`, `SHA-1`, `SHA-256` … or `none` for EdDSA's built-in hash.
    pub signature_hash: Option<String>,
    pub subject: String,
    pub subject_cn: Option<String>,
}

/// The leaf certificate: a [`Certificate`]'s fields and the checks that need context,
/// in one object (as the contract has always written it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaf {
    /// Why the chain is not trusted.
    pub chain_error: Option<String>,
    pub chain_length: u64,
    pub chain_trusted: bool,
    pub curve: Option<String>,
    pub days_left: i64,
    pub evidence: String,
    pub expired: bool,
    pub expires_within_30_days: bool,
    /// Whether the certificate is valid for a name the host is known by; `None` when
    /// no name is known (see `name_check`).
    pub hostname_match: Option<bool>,
    pub issuer: String,
    pub key_bits: Option<u32>,
    pub key_type: String,
    /// The names the host is known by (a hostname target, its PTR record, the ledger's
    /// hostname, its own HTTP redirects), and its address when the certificate names
    /// addresses; empty when no name is known.
    pub names_checked: Vec<String>,
    /// Where each of `names_checked` came from: `target`, `ptr`, `ledger`,
    /// `redirect`, `address`.
    #[serde(default)]
    pub name_sources: Vec<String>,
    /// `match`, `mismatch`, or `no-name-known` (scanned by address, known by no name,
    /// and the certificate names no address: nothing to judge, no finding).
    #[serde(default = "no_name_known")]
    pub name_check: String,
    pub not_after: String,
    pub not_before: String,
    pub not_yet_valid: bool,
    pub sans: Vec<String>,
    pub self_signed: bool,
    pub serial: String,
    pub sha256: String,
    pub signature_algorithm: String,
    pub signature_hash: Option<String>,
    pub subject: String,
    pub subject_cn: Option<String>,
}

impl Leaf {
    /// True if the certificate is expired, not yet valid, or its chain is not trusted.
    pub fn is_bad(&self) -> bool {
        self.expired || self.not_yet_valid || !self.chain_trusted
    }
}

/// The service against every profile of the guideline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Violations by profile ID.
    pub breaks: BTreeMap<String, Vec<Violation>>,
    pub guideline: String,
    /// The strictest profile with no violation (`high`, `recommended`, `exception`).
    pub satisfies: Option<String>,
    pub satisfies_en: Option<String>,
    pub satisfies_ja: Option<String>,
}

impl Evaluation {
    /// True if the service meets the guideline's strictest profile.
    pub fn satisfies_high(&self) -> bool {
        self.satisfies.as_deref() == Some(PROFILE_HIGH)
    }
}

/// One condition a service breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The profile condition (`versions`, a flag such as `cbc`, `min_dh_bits` …).
    pub condition: String,
    pub en: String,
    pub ja: String,
    /// `version`, `suite`, `group`, `dh` or `certificate`.
    pub kind: String,
    /// The condition is not confirmed in the guideline's primary text.
    pub unconfirmed: bool,
    /// The offending value (`TLSv1.0`, a suite name, `1024` …).
    pub value: String,
}

/// Evidence IDs for each fact.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TlsEvidence {
    pub certificate: Option<String>,
    pub dh: BTreeMap<String, String>,
    pub groups: BTreeMap<String, String>,
    /// The handshake that showed each version accepted or refused.
    pub versions: BTreeMap<String, String>,
}

fn no_name_known() -> String {
    "no-name-known".to_owned()
}
