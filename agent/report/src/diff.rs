//! What changed between two reports: hosts that appeared or vanished, ports opened
//! or closed on hosts seen both times, products or versions that changed, findings
//! that are new, resolved, or changed in severity.
//!
//! A finding is the same finding in both scans when its check, advisory, host, port
//! and protocol are the same; its `f-NNNN` number is not compared (it depends on
//! what else was found).
//!
//! [`read_report`] reads a folder's report.json the way every file handed to kenshin
//! is read: a regular file, not a link, at most [`MAX_REPORT`] bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::{DeviceKind, Finding, Host, Report, Service, Severity, Text};
use crate::screen::{visible, visible_path};
use crate::seal::{read_reason, MAX_REPORT};

/// Why a folder's report.json could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReadReportError {
    #[error(
        "{}: not a kenshin report folder (it has no report.json)",
        visible_path(dir)
    )]
    NotAReportFolder { dir: PathBuf },
    #[error("cannot read {}: {reason}", visible_path(path))]
    Unreadable { path: PathBuf, reason: String },
    #[error("{} is not a kenshin report: {}", visible_path(path), visible(&error.to_string()))]
    NotAReport {
        path: PathBuf,
        error: serde_json::Error,
    },
}

/// Reads `dir/report.json`: a regular file in the folder (a link, a FIFO or a device is
/// refused at once) of at most [`MAX_REPORT`] bytes.
pub fn read_report(dir: &Path) -> Result<Report, ReadReportError> {
    let path = dir.join("report.json");
    let bytes =
        kenshin_files::read(&path, MAX_REPORT, kenshin_files::Follow::No).map_err(
            |e| match &e {
                kenshin_files::ReadError::Io { source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    ReadReportError::NotAReportFolder {
                        dir: dir.to_owned(),
                    }
                }
                _ => ReadReportError::Unreadable {
                    path: path.clone(),
                    reason: read_reason(&e),
                },
            },
        )?;
    serde_json::from_slice(&bytes).map_err(|error| ReadReportError::NotAReport { path, error })
}

/// The changes, each list sorted by host and port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub old: ScanRef,
    pub new: ScanRef,
    /// The two scans did not cover the same scope, so a vanished host may just not
    /// have been looked for.
    pub scope_differs: bool,
    pub hosts_appeared: Vec<HostRef>,
    pub hosts_vanished: Vec<HostRef>,
    pub ports_opened: Vec<PortRef>,
    pub ports_closed: Vec<PortRef>,
    pub services_changed: Vec<ServiceChange>,
    pub findings_new: Vec<FindingRef>,
    pub findings_resolved: Vec<FindingRef>,
    pub severity_changed: Vec<SeverityChange>,
    /// Findings open before and accepted by an exception now.
    #[serde(default)]
    pub findings_accepted: Vec<FindingRef>,
    /// Findings accepted before and open again now (the exception expired or went).
    #[serde(default)]
    pub findings_reopened: Vec<FindingRef>,
}

impl Diff {
    /// True if nothing changed.
    pub fn is_empty(&self) -> bool {
        self.hosts_appeared.is_empty()
            && self.hosts_vanished.is_empty()
            && self.ports_opened.is_empty()
            && self.ports_closed.is_empty()
            && self.services_changed.is_empty()
            && self.findings_new.is_empty()
            && self.findings_resolved.is_empty()
            && self.severity_changed.is_empty()
            && self.findings_accepted.is_empty()
            && self.findings_reopened.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanRef {
    pub id: String,
    pub started_at: String,
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRef {
    pub address: String,
    pub kind: DeviceKind,
    pub hostnames: Vec<String>,
    /// `port/protocol service` of each open port.
    pub services: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortRef {
    pub host: String,
    pub port: u16,
    pub protocol: String,
    pub service: String,
    /// Product and version, if identified.
    pub software: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceChange {
    pub host: String,
    pub port: u16,
    pub protocol: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRef {
    /// The finding's ID in the report it comes from (new for new, old for resolved).
    pub id: String,
    pub check: String,
    pub advisory: Option<String>,
    pub severity: Severity,
    pub host: String,
    pub port: Option<u16>,
    pub title: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityChange {
    pub finding: FindingRef,
    pub old_severity: Severity,
}

fn scan_ref(r: &Report) -> ScanRef {
    ScanRef {
        id: r.scan.id.clone(),
        started_at: r.scan.started_at.clone(),
        complete: r.scan.complete,
    }
}

fn software(s: &Service) -> Option<String> {
    let parts: Vec<&str> = [s.product.as_deref(), s.version.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn host_ref(h: &Host) -> HostRef {
    HostRef {
        address: h.address.clone(),
        kind: h.kind,
        hostnames: h.hostnames.clone(),
        services: h
            .services
            .iter()
            .map(|s| format!("{}/{} {}", s.port, s.protocol, s.service))
            .collect(),
    }
}

fn port_ref(h: &Host, s: &Service) -> PortRef {
    PortRef {
        host: h.address.clone(),
        port: s.port,
        protocol: s.protocol.clone(),
        service: s.service.clone(),
        software: software(s),
    }
}

type FindingKey = (String, Option<String>, String, Option<u16>, Option<String>);

fn finding_key(f: &Finding) -> FindingKey {
    (
        f.check.clone(),
        f.advisory.as_ref().map(|a| a.id.clone()),
        f.host.clone(),
        f.port,
        f.protocol.clone(),
    )
}

fn finding_ref(f: &Finding) -> FindingRef {
    FindingRef {
        id: f.id.clone(),
        check: f.check.clone(),
        advisory: f.advisory.as_ref().map(|a| a.id.clone()),
        severity: f.severity,
        host: f.host.clone(),
        port: f.port,
        title: f.title.clone(),
    }
}

/// Compares `old` with `new`.
pub fn diff(old: &Report, new: &Report) -> Diff {
    let old_hosts: BTreeMap<&str, &Host> =
        old.hosts.iter().map(|h| (h.address.as_str(), h)).collect();
    let new_hosts: BTreeMap<&str, &Host> =
        new.hosts.iter().map(|h| (h.address.as_str(), h)).collect();
    let mut d = Diff {
        old: scan_ref(old),
        new: scan_ref(new),
        scope_differs: old.scan.scope != new.scan.scope || old.scan.ports != new.scan.ports,
        hosts_appeared: Vec::new(),
        hosts_vanished: Vec::new(),
        ports_opened: Vec::new(),
        ports_closed: Vec::new(),
        services_changed: Vec::new(),
        findings_new: Vec::new(),
        findings_resolved: Vec::new(),
        severity_changed: Vec::new(),
        findings_accepted: Vec::new(),
        findings_reopened: Vec::new(),
    };
    for (addr, h) in &new_hosts {
        if !old_hosts.contains_key(addr) {
            d.hosts_appeared.push(host_ref(h));
        }
    }
    for (addr, h) in &old_hosts {
        match new_hosts.get(addr) {
            None => d.hosts_vanished.push(host_ref(h)),
            Some(n) => compare_services(&mut d, h, n),
        }
    }

    let old_f: BTreeMap<FindingKey, &Finding> =
        old.findings.iter().map(|f| (finding_key(f), f)).collect();
    let new_f: BTreeMap<FindingKey, &Finding> =
        new.findings.iter().map(|f| (finding_key(f), f)).collect();
    for (k, f) in &new_f {
        if let Some(o) = old_f.get(k) {
            match (o.disposition.is_accepted(), f.disposition.is_accepted()) {
                (false, true) => d.findings_accepted.push(finding_ref(f)),
                (true, false) => d.findings_reopened.push(finding_ref(f)),
                _ => {}
            }
        }
        match old_f.get(k) {
            None => d.findings_new.push(finding_ref(f)),
            Some(o) if o.severity != f.severity => d.severity_changed.push(SeverityChange {
                finding: finding_ref(f),
                old_severity: o.severity,
            }),
            Some(_) => {}
        }
    }
    for (k, f) in &old_f {
        if !new_f.contains_key(k) {
            d.findings_resolved.push(finding_ref(f));
        }
    }
    d
}

fn compare_services(d: &mut Diff, old: &Host, new: &Host) {
    let key = |s: &&Service| (s.protocol.clone(), s.port);
    let olds: BTreeMap<(String, u16), &Service> =
        old.services.iter().map(|s| (key(&s), s)).collect();
    let news: BTreeMap<(String, u16), &Service> =
        new.services.iter().map(|s| (key(&s), s)).collect();
    let all: BTreeSet<&(String, u16)> = olds.keys().chain(news.keys()).collect();
    for k in all {
        match (olds.get(k), news.get(k)) {
            (None, Some(n)) => d.ports_opened.push(port_ref(new, n)),
            (Some(o), None) => d.ports_closed.push(port_ref(old, o)),
            (Some(o), Some(n)) => {
                let describe = |s: &Service| {
                    software(s)
                        .map_or_else(|| s.service.clone(), |sw| format!("{} {sw}", s.service))
                };
                let (was, now) = (describe(o), describe(n));
                if was != now {
                    d.services_changed.push(ServiceChange {
                        host: new.address.clone(),
                        port: n.port,
                        protocol: n.protocol.clone(),
                        old: was,
                        new: now,
                    });
                }
            }
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tests::lab_report;

    #[test]
    fn a_report_compared_with_itself_has_no_changes() {
        let r = lab_report();
        let d = diff(&r, &r);
        assert!(d.is_empty(), "{d:?}");
        assert!(!d.scope_differs);
    }

    #[test]
    fn an_opened_port_a_new_host_and_a_resolved_finding_are_reported() {
        let old = lab_report();
        let mut new = old.clone();
        let mut extra = new.hosts[0].services[0].clone();
        extra.port = 8081;
        extra.service = "http".to_owned();
        new.hosts[0].services.push(extra);
        let mut host = new.hosts[1].clone();
        host.address = "198.18.2.99".to_owned();
        new.hosts.push(host);
        let gone = new.findings.remove(0);
        new.findings[0].severity = Severity::Low;
        new.hosts[1].services[0].version = Some("9.9".to_owned());

        let d = diff(&old, &new);
        assert_eq!(d.ports_opened.len(), 1);
        assert_eq!(d.ports_opened[0].port, 8081);
        assert_eq!(d.ports_opened[0].host, old.hosts[0].address);
        assert_eq!(d.hosts_appeared.len(), 1);
        assert_eq!(d.hosts_appeared[0].address, "198.18.2.99");
        assert_eq!(d.findings_resolved.len(), 1);
        assert_eq!(d.findings_resolved[0].check, gone.check);
        assert_eq!(d.severity_changed.len(), 1);
        assert_eq!(d.severity_changed[0].finding.severity, Severity::Low);
        assert_eq!(d.services_changed.len(), 1);
        assert!(
            d.services_changed[0].new.ends_with("9.9"),
            "{:?}",
            d.services_changed
        );
        assert!(d.ports_closed.is_empty() && d.hosts_vanished.is_empty());
        let back = diff(&new, &old);
        assert_eq!(back.ports_closed.len(), 1);
        assert_eq!(back.hosts_vanished.len(), 1);
        assert_eq!(back.findings_new.len(), 1);
    }
}
