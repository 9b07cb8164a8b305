//! A finding: what a check or an advisory concluded about one service or host, how
//! severe and how sure, in Japanese and English, with the requirement IDs it bears
//! on and the evidence records it rests on.

use std::net::IpAddr;

use kenshin_probe::ports::Protocol;
use serde::{Deserialize, Serialize};

/// Text in both report languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub ja: String,
    pub en: String,
}

impl Text {
    /// True if either language is blank.
    pub fn is_blank(&self) -> bool {
        self.ja.trim().is_empty() || self.en.trim().is_empty()
    }
}

/// How bad it is if true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

impl std::fmt::Display for Severity {
    /// The contract spelling.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure kenshin is, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Observed directly, or an exact version with no backport ambiguity.
    Confirmed,
    /// Inferred from a build date or a version family.
    Likely,
    /// A version on a platform that backports fixes, or presence only.
    Potential,
    /// The product or service is reachable; no version claim.
    Exposure,
}

impl Confidence {
    pub const ALL: [Confidence; 4] = [
        Confidence::Confirmed,
        Confidence::Likely,
        Confidence::Potential,
        Confidence::Exposure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Confirmed => "confirmed",
            Confidence::Likely => "likely",
            Confidence::Potential => "potential",
            Confidence::Exposure => "exposure",
        }
    }
}

impl std::fmt::Display for Confidence {
    /// The contract spelling.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A requirement a finding bears on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequirementRef {
    pub framework: String,
    pub id: String,
}

impl RequirementRef {
    /// Parses `framework:id`.
    pub fn parse(s: &str) -> Option<Self> {
        let (framework, id) = s.split_once(':')?;
        (!framework.is_empty() && !id.is_empty()).then(|| Self {
            framework: framework.to_owned(),
            id: id.to_owned(),
        })
    }
}

/// What an advisory finding adds: the vulnerability's identity and provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryFacts {
    pub id: String,
    pub cve: Vec<String>,
    pub cvss: Option<f32>,
    pub kev_added: Option<String>,
    pub ransomware: Option<String>,
    pub vendor_advisories: Vec<String>,
    pub references: Vec<String>,
    pub end_of_life: Option<String>,
    /// Why this confidence: the version, revision or build date compared.
    pub basis: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// `f-0001` …, in report order.
    pub id: String,
    /// The check's stable ID (`service.telnet`, `vuln.known-exploited` …).
    pub check: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub host: IpAddr,
    pub port: Option<u16>,
    pub protocol: Option<Protocol>,
    pub title: Text,
    pub rationale: Text,
    /// The observed values behind it, in words.
    pub detail: String,
    pub remediation: Text,
    pub requirements: Vec<RequirementRef>,
    pub evidence: Vec<String>,
    pub advisory: Option<AdvisoryFacts>,
}
