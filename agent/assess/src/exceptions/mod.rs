//! The accepted-risk register: exceptions a hospital has approved for findings it
//! cannot fix yet (a modality the maker has not patched, a vendor-managed appliance),
//! each with who approved it, why, and until when.
//!
//! - [`parse`]: the TOML register, checked whole before a scan sends anything; each
//!   problem names the file, the line and the key.
//! - [`apply`]: which findings each exception accepts on a given day, and each
//!   exception's status (`active`, `expired`, `unused`).
//!
//! An exception names what it accepts by check ID (`vuln.known-exploited`), advisory ID,
//! or group ID (`g-…`, see [`crate::groups`]), on hosts given as addresses or CIDRs and,
//! optionally, ports. It must expire at most one year after it was approved; once
//! expired it accepts nothing and its findings are open again.

mod parse;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use thiserror::Error;
use time::Date;

use crate::finding::{Finding, Text};
use crate::groups::Group;

pub use parse::{load, parse};

/// The largest register read.
pub const MAX_REGISTER_BYTES: u64 = 4 * 1024 * 1024;

/// Why a register cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RegisterError {
    #[error(transparent)]
    Read(kenshin_files::ReadError),
    /// A problem at a line of the file, with the key it concerns.
    #[error("exceptions {path}:{line}: {key}: {problem}", path = path.display())]
    Key {
        path: PathBuf,
        line: usize,
        key: String,
        problem: String,
    },
    /// The file is not TOML (or not the register's shape) at this line.
    #[error("exceptions {path}:{line}: {problem}", path = path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        problem: String,
    },
}

/// An address or a network, as an exception's `hosts` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub address: IpAddr,
    pub prefix: u8,
}

impl Net {
    /// `198.18.1.1`, `198.18.1.0/24`, `2001:db8::/32`; the address must be the network's
    /// first (no host bits set), so a typo does not widen what is accepted.
    pub fn parse(s: &str) -> Result<Net, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let address: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an address or a CIDR network"))?;
        let max: u8 = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        let net = Net { address, prefix };
        if net.network() != address {
            return Err(format!(
                "{s:?} has host bits set; the network is {}/{prefix}",
                net.network()
            ));
        }
        Ok(net)
    }

    fn mask(&self, bits: u32) -> u128 {
        let p = u32::from(self.prefix);
        if p == 0 {
            0
        } else {
            (u128::MAX << (128 - p)) >> (128 - bits)
        }
    }

    fn network(&self) -> IpAddr {
        match self.address {
            IpAddr::V4(a) => {
                let m = u32::try_from(self.mask(32)).unwrap_or(u32::MAX);
                IpAddr::from((u32::from(a) & m).to_be_bytes())
            }
            IpAddr::V6(a) => IpAddr::from((u128::from(a) & self.mask(128)).to_be_bytes()),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let m = u32::try_from(self.mask(32)).unwrap_or(u32::MAX);
                u32::from(n) & m == u32::from(a) & m
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let m = self.mask(128);
                u128::from(n) & m == u128::from(a) & m
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let max = if self.address.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            write!(f, "{}", self.address)
        } else {
            write!(f, "{}/{}", self.address, self.prefix)
        }
    }
}

/// One approved exception.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    pub id: String,
    /// A check ID, an advisory ID or a group ID.
    pub check: String,
    pub hosts: Vec<Net>,
    /// Empty: every port (and host-level findings).
    pub ports: Vec<u16>,
    /// The compensating control.
    pub reason: Text,
    pub approved_by: String,
    pub approved_on: Date,
    /// The last day the exception applies (in the scan's local offset).
    pub expires: Date,
    /// The line of its `[[exception]]` in the file.
    pub line: usize,
}

impl Exception {
    /// True if this exception names the finding `f` (in group `group`), whatever the date.
    pub fn covers(&self, f: &Finding, group: Option<&str>) -> bool {
        let names = self.check == f.check
            || f.advisory.as_ref().is_some_and(|a| a.id == self.check)
            || group == Some(self.check.as_str());
        let port = self.ports.is_empty() || f.port.is_some_and(|p| self.ports.contains(&p));
        names && port && self.hosts.iter().any(|n| n.contains(f.host))
    }

    /// True if the exception still applies on `today`.
    pub fn in_force(&self, today: Date) -> bool {
        today <= self.expires
    }
}

/// A parsed register.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Register {
    /// The file as given.
    pub source: String,
    pub exceptions: Vec<Exception>,
}

/// What an exception came to in one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// In force and accepted at least one finding.
    Active,
    /// Past its expiry: its findings are open again.
    Expired,
    /// In force, but no finding matched it.
    Unused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Unused => "unused",
        }
    }
}

/// One exception's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub exception: Exception,
    pub status: Status,
    /// The findings it covers: accepted when active, open again when expired.
    pub matched: Vec<String>,
}

/// The register applied to one scan's findings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Applied {
    /// The register file as given.
    pub source: String,
    /// Finding ID → the exception that accepts it.
    pub accepted: BTreeMap<String, Exception>,
    pub outcomes: Vec<Outcome>,
}

/// Applies `register` to `findings` on the day `today`. A finding two exceptions cover is
/// accepted by the first in force, in file order.
pub fn apply(register: &Register, findings: &[Finding], groups: &[Group], today: Date) -> Applied {
    let group_of: BTreeMap<&str, &str> = groups
        .iter()
        .flat_map(|g| g.findings.iter().map(|f| (f.as_str(), g.id.as_str())))
        .collect();
    let mut applied = Applied {
        source: register.source.clone(),
        ..Applied::default()
    };
    for ex in &register.exceptions {
        let matched: Vec<String> = findings
            .iter()
            .filter(|f| ex.covers(f, group_of.get(f.id.as_str()).copied()))
            .map(|f| f.id.clone())
            .collect();
        let status = if !ex.in_force(today) {
            Status::Expired
        } else if matched.is_empty() {
            Status::Unused
        } else {
            for id in &matched {
                applied
                    .accepted
                    .entry(id.clone())
                    .or_insert_with(|| ex.clone());
            }
            Status::Active
        };
        applied.outcomes.push(Outcome {
            exception: ex.clone(),
            status,
            matched,
        });
    }
    applied
}

/// True if `id` is a check ID or an advisory ID in `rules` (what an exception may name
/// besides a group ID).
pub fn known_in(rules: &crate::evaluate::Rules, id: &str) -> bool {
    rules.checks.get(id).is_some()
        || [
            "vuln.known-exploited",
            "vuln.known-vulnerability",
            "lifecycle.end-of-support",
        ]
        .contains(&id)
        || rules.advisories.advisories.iter().any(|a| a.id == id)
}

#[cfg(test)]
mod tests;
