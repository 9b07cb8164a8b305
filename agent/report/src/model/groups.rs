//! Contract 1.1 additions for people who act on findings: `groups` (one line per
//! cause), each finding's `disposition` (open, or accepted by an exception), and
//! `exceptions` (what the accepted-risk register came to in this scan).

use serde::{Deserialize, Serialize};

use super::{Severity, Text};

/// Findings that share a check and a cause. Every finding is in exactly one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// `g-` and 12 hex digits, the same for the same check and cause in every scan.
    pub id: String,
    pub check: String,
    /// What the members share, in words.
    pub cause: Text,
    /// The highest severity among the members.
    pub severity: Severity,
    /// How many findings the group holds.
    pub count: u64,
    /// How many distinct hosts they are on.
    pub hosts: u64,
    /// Member finding IDs, in report order.
    pub findings: Vec<String>,
    /// Members accepted by an exception.
    #[serde(default)]
    pub accepted: u64,
}

/// Whether a finding is open or an accepted risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DispositionStatus {
    #[default]
    Open,
    Accepted,
}

impl DispositionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DispositionStatus::Open => "open",
            DispositionStatus::Accepted => "accepted",
        }
    }
}

/// A finding's disposition: `open`, or `accepted` with the exception and its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Disposition {
    pub status: DispositionStatus,
    /// The exception's ID, when accepted.
    #[serde(default)]
    pub exception: Option<String>,
    /// The exception's last day (`YYYY-MM-DD`), when accepted.
    #[serde(default)]
    pub expires: Option<String>,
}

impl Disposition {
    pub fn is_accepted(&self) -> bool {
        self.status == DispositionStatus::Accepted
    }
}

/// What an exception came to in this scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExceptionStatus {
    /// In force and accepted at least one finding.
    Active,
    /// Past its expiry: its findings are open again.
    Expired,
    /// In force but matched no finding.
    Unused,
}

impl ExceptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionStatus::Active => "active",
            ExceptionStatus::Expired => "expired",
            ExceptionStatus::Unused => "unused",
        }
    }
}

/// One entry of the accepted-risk register, as applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionRecord {
    pub id: String,
    pub status: ExceptionStatus,
    /// The check, advisory or group ID it accepts.
    pub check: String,
    /// Addresses and networks.
    pub hosts: Vec<String>,
    /// Ports; empty for every port.
    pub ports: Vec<u16>,
    /// The compensating control.
    pub reason: Text,
    pub approved_by: String,
    /// `YYYY-MM-DD`.
    pub approved_on: String,
    /// `YYYY-MM-DD`, the last day it applies.
    pub expires: String,
    /// The findings it covers: accepted when active, open again when expired.
    pub matched: Vec<String>,
    /// The register file and the line of this entry (`exceptions.toml:12`).
    pub source: String,
}
