//! Judging what the TLS audit saw: certificate facts and trust
//! ([`certificate`]), and the IPA guideline's profiles ([`profile`]), put
//! together as the report's `services[].tls`.

pub mod certificate;
pub mod names;
pub mod profile;

use std::collections::BTreeMap;

use kenshin_probe::observation::TlsAuditObservation;
use kenshin_wire::tls::{CipherSuite, Version};
use serde::Serialize;
use time::OffsetDateTime;

pub use certificate::{CertificateFacts, TrustError, TrustStore};
pub use names::{known_names, KnownName, KnownNames, LedgerNames, NameSource};
pub use profile::{Evaluation, ProfileSet, TlsFacts};

/// What TLS judgement reads besides the observation.
#[derive(Debug, Clone, Copy)]
pub struct TlsKnowledge<'a> {
    pub trust: &'a TrustStore,
    pub profiles: &'a ProfileSet,
    /// The time certificates are judged at (the scan's end).
    pub now: OffsetDateTime,
}

/// One accepted suite, classified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteReport {
    pub version: String,
    pub name: String,
    /// `0xC02F` style.
    pub code: String,
    pub key_exchange: &'static str,
    pub authentication: &'static str,
    pub cipher: String,
    pub cipher_bits: u16,
    pub mode: &'static str,
    pub mac: &'static str,
    pub aead: bool,
    pub forward_secrecy: bool,
    /// Weak properties: `null`, `export`, `anon`, `rc4`, `des`, `3des`, `md5`, `cbc`,
    /// `static-kx`, `psk`, `srp`.
    pub flags: Vec<&'static str>,
    pub evidence: String,
}

/// The leaf certificate with the checks that need context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeafReport {
    #[serde(flatten)]
    pub facts: CertificateFacts,
    /// Whether the certificate is valid for a name the host is known by; `None` if
    /// no name is known (and the certificate names no address).
    pub hostname_match: Option<bool>,
    /// The names checked: the names the host is known by, and its address when the
    /// certificate names addresses. Empty when no name is known.
    pub names_checked: Vec<String>,
    /// Where each checked name came from, in the order of `names_checked`.
    pub name_sources: Vec<NameSource>,
    pub chain_trusted: bool,
    /// Why the chain is not trusted.
    pub chain_error: Option<String>,
    pub chain_length: usize,
    pub evidence: String,
}

/// Evidence IDs for each fact.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TlsEvidence {
    /// The handshake that showed each version accepted or refused.
    pub versions: BTreeMap<String, String>,
    pub certificate: Option<String>,
    pub groups: BTreeMap<String, String>,
    pub dh: BTreeMap<String, String>,
}

/// `services[].tls` in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsReport {
    /// `tls` for TLS from the first byte; else how it was reached (`smtp-starttls` …).
    pub channel: &'static str,
    /// The STARTTLS-style upgrade used, if any (`smtp`, `ftp`, `imap`, `pop3`).
    pub starttls: Option<&'static str>,
    /// Accepted versions, newest first.
    pub versions: Vec<String>,
    /// Versions asked about and refused.
    pub versions_refused: Vec<String>,
    /// Accepted suite names per version, in the server's order where it has one.
    pub cipher_suites: BTreeMap<String, Vec<String>>,
    /// `server`, `client` or `unknown`, per version.
    pub preference: BTreeMap<String, &'static str>,
    pub suites: Vec<SuiteReport>,
    /// Key-exchange groups, in the server's order.
    pub groups: Vec<String>,
    /// Finite-field DHE prime sizes seen.
    pub dh_bits: Vec<u16>,
    pub sslv2_ciphers: Vec<String>,
    pub certificate: Option<LeafReport>,
    /// Every certificate of the first chain, leaf first.
    pub chain: Vec<CertificateFacts>,
    /// Leaves of other chains the server presented (another key type).
    pub other_certificates: Vec<CertificateFacts>,
    pub evaluation: Evaluation,
    /// TLS handshakes made, one TCP connection each.
    pub handshakes: u32,
    /// How long the audit took, pauses included.
    pub duration_ms: u64,
    /// False if the audit stopped before it could ask everything.
    pub complete: bool,
    pub notes: Vec<String>,
    pub evidence: TlsEvidence,
}

/// Judges one audit. `known` are the names the host is known by ([`names`]).
pub fn judge(audit: &TlsAuditObservation, known: &KnownNames, k: TlsKnowledge<'_>) -> TlsReport {
    let mut versions: Vec<_> = audit.versions.iter().collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.version));
    let first = audit.chains.first();
    let describe = |der: &Vec<u8>| certificate::describe(der, k.now).ok();
    let leaf = first.and_then(|c| c.der.first()).and_then(describe);
    let accepted = versions.iter().filter(|v| v.accepted);
    let facts = TlsFacts {
        versions: accepted.clone().map(|v| v.version).collect(),
        suites: accepted
            .flat_map(|v| v.suites.iter().map(move |(s, _)| (v.version, *s)))
            .collect(),
        groups: audit.groups.iter().map(|(g, _)| *g).collect(),
        dh_bits: audit.dh_bits.iter().map(|(b, _)| *b).collect(),
        key: leaf
            .as_ref()
            .and_then(|l| l.key_bits.map(|b| (l.key_type.clone(), b))),
        signature_hash: leaf.as_ref().and_then(|l| l.signature_hash.clone()),
    };
    let mut report = TlsReport {
        channel: audit.channel,
        starttls: starttls_of(audit.channel),
        versions: Vec::new(),
        versions_refused: Vec::new(),
        cipher_suites: BTreeMap::new(),
        preference: BTreeMap::new(),
        suites: Vec::new(),
        groups: audit.groups.iter().map(|(g, _)| g.display()).collect(),
        dh_bits: facts.dh_bits.clone(),
        sslv2_ciphers: audit.sslv2_ciphers.clone(),
        certificate: None,
        chain: first.map_or_else(Vec::new, |c| c.der.iter().filter_map(describe).collect()),
        other_certificates: audit
            .chains
            .iter()
            .skip(1)
            .filter_map(|c| c.der.first().and_then(describe))
            .collect(),
        evaluation: k.profiles.evaluate(&facts),
        handshakes: audit.handshakes,
        duration_ms: u64::try_from(audit.duration.as_millis()).unwrap_or(u64::MAX),
        complete: audit.complete,
        notes: audit.notes.clone(),
        evidence: TlsEvidence::default(),
    };
    for v in versions {
        let name = v.version.display();
        if let Some(ev) = &v.evidence {
            report.evidence.versions.insert(name.clone(), ev.clone());
        }
        if !v.accepted {
            if v.complete {
                report.versions_refused.push(name);
            }
            continue;
        }
        report.versions.push(name.clone());
        if v.version != Version::SSL2 {
            report
                .preference
                .insert(name.clone(), v.preference.as_str());
            report.cipher_suites.insert(
                name.clone(),
                v.suites.iter().map(|(s, _)| s.display()).collect(),
            );
        }
        for (suite, ev) in &v.suites {
            report.suites.push(suite_report(v.version, *suite, ev));
        }
    }
    for (g, ev) in &audit.groups {
        report.evidence.groups.insert(g.display(), ev.clone());
    }
    for (b, ev) in &audit.dh_bits {
        report.evidence.dh.insert(b.to_string(), ev.clone());
    }
    if let Some(first) = first {
        report.evidence.certificate = Some(first.evidence.clone());
        match leaf {
            Some(leaf) => {
                let chain_result = k.trust.verify(&first.der, k.now);
                let names = names::check(&leaf, known);
                if names.covered.is_none() {
                    report.notes.push(
                        "no name known: the host was scanned by address, no name points to \
                         it and the certificate names no address, so its names were not \
                         judged"
                            .into(),
                    );
                }
                report.certificate = Some(LeafReport {
                    hostname_match: names.covered,
                    facts: leaf,
                    names_checked: names.checked.iter().map(|n| n.name.clone()).collect(),
                    name_sources: names.checked.iter().map(|n| n.from).collect(),
                    chain_trusted: chain_result.is_ok(),
                    chain_error: chain_result.err(),
                    chain_length: first.der.len(),
                    evidence: first.evidence.clone(),
                });
            }
            None => report
                .notes
                .push("the server's certificate does not parse as X.509".into()),
        }
    }
    report
}

fn starttls_of(channel: &str) -> Option<&'static str> {
    Some(match channel {
        "smtp-starttls" => "smtp",
        "ftp-auth-tls" => "ftp",
        "imap-starttls" => "imap",
        "pop3-stls" => "pop3",
        "rdp-tls" => "rdp",
        _ => return None,
    })
}

fn suite_report(version: Version, suite: CipherSuite, evidence: &str) -> SuiteReport {
    let class = suite.class();
    SuiteReport {
        version: version.display(),
        name: suite.display(),
        code: format!("0x{:04X}", suite.0),
        key_exchange: class
            .as_ref()
            .map_or("unknown", |c| c.key_exchange.as_str()),
        authentication: class.as_ref().map_or("unknown", |c| c.authentication),
        cipher: class
            .as_ref()
            .map_or_else(String::new, |c| c.cipher.clone()),
        cipher_bits: class.as_ref().map_or(0, |c| c.cipher_bits),
        mode: class.as_ref().map_or("unknown", |c| c.mode.as_str()),
        mac: class.as_ref().map_or("unknown", |c| c.mac),
        aead: class.as_ref().is_some_and(|c| c.aead),
        forward_secrecy: class.as_ref().is_some_and(|c| c.forward_secrecy),
        flags: profile::suite_flags(suite),
        evidence: evidence.to_owned(),
    }
}
