//! `kenshin host-check`: this machine seen from the inside, without a packet sent.
//!
//! sysinfo gives the OS, kernel, uptime and processes; /proc/net gives the listening
//! sockets ([`sockets`]). Every socket reachable from the network (not bound to
//! loopback) becomes an open port of this host and goes through the same catalog,
//! identification and checks as a network scan, so a telnet or FTP server running
//! here is the same 2-⑫ finding a scan from outside would raise. [`check`] returns
//! the `kenshin.host-check/1` document; the binary prints it as JSON or text.

mod sockets;

use std::collections::BTreeSet;
use std::net::IpAddr;

use kenshin_assess::finding::{Finding, Severity};
use kenshin_probe::observation::{HostObservation, HostScanState, PortObservation, PortState};
use kenshin_report::Lang;
use serde::Serialize;

use crate::clock;
use crate::job::Knowledge;

/// One listening socket.
#[derive(Debug, Serialize)]
pub struct Listener {
    pub protocol: String,
    pub address: String,
    pub port: u16,
    pub service: Option<String>,
    pub category: Option<String>,
    pub pid: Option<u32>,
    pub process: Option<String>,
    /// Reachable from the network (not bound to loopback).
    pub exposed: bool,
}

/// One process, by memory use.
#[derive(Debug, Serialize)]
pub struct Process {
    pub pid: u32,
    pub name: String,
    pub memory_bytes: u64,
}

/// The machine itself.
#[derive(Debug, Serialize)]
pub struct HostInfo {
    pub name: String,
    pub os: String,
    pub kernel: String,
    pub uptime_s: u64,
    pub memory_bytes: u64,
}

/// Every process, largest first.
#[derive(Debug, Serialize)]
pub struct Processes {
    pub count: usize,
    pub list: Vec<Process>,
}

/// One finding, as the host-check document gives it.
#[derive(Debug, Serialize)]
pub struct HostFinding {
    pub check: String,
    pub severity: Severity,
    pub port: Option<u16>,
    pub protocol: Option<&'static str>,
    pub title: kenshin_assess::finding::Text,
    pub remediation: kenshin_assess::finding::Text,
    pub requirements: Vec<Requirement>,
}

/// A requirement a finding bears on.
#[derive(Debug, Serialize)]
pub struct Requirement {
    pub framework: String,
    pub id: String,
}

/// The `kenshin.host-check/1` document.
#[derive(Debug, Serialize)]
pub struct HostCheck {
    pub kind: &'static str,
    pub checked_at: String,
    pub tool: Tool,
    pub host: HostInfo,
    pub listening: Vec<Listener>,
    pub processes: Processes,
    pub findings: Vec<HostFinding>,
    pub notes: Vec<String>,
}

/// The program that checked.
#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl HostCheck {
    /// True if any finding is above information (the exit code's 1).
    pub fn serious(&self) -> bool {
        self.findings.iter().any(|f| f.severity != Severity::Info)
    }
}

/// Checks this machine: notes are written in `lang`.
pub fn check(lang: Lang) -> anyhow::Result<HostCheck> {
    let Knowledge {
        catalog,
        fingerprints,
        rules,
        service_names,
        ..
    } = Knowledge::load()?;

    let mut sys = sysinfo::System::new();
    sys.refresh_processes(sysinfo::ProcessesToUpdate::All, true);
    sys.refresh_memory();
    let hostname = sysinfo::System::host_name().unwrap_or_default();
    let mut notes = Vec::new();
    if !crate::privilege::is_root() {
        notes.push(
            lang.pick(
                "root ではないため、他のユーザーのプロセスが持つソケットの所有者は分かりません",
                "not run as root: the owners of other users' sockets are unknown",
            )
            .to_owned(),
        );
    }

    let listeners = sockets::listeners();
    let owners = sockets::owners();
    let listening: Vec<Listener> = listeners
        .iter()
        .map(|l| {
            let entry = catalog.entry(l.protocol, l.port);
            let owner = owners.get(&l.inode);
            Listener {
                protocol: l.protocol.as_str().to_owned(),
                address: l.address.to_string(),
                port: l.port,
                service: entry.map(|e| e.service.clone()),
                category: entry.map(|e| e.category.clone()),
                pid: owner.map(|o| o.0),
                process: owner.map(|o| o.1.clone()),
                exposed: !l.is_loopback(),
            }
        })
        .collect();

    // The exposed sockets, as a scan would have found them open.
    let exposed: BTreeSet<(kenshin_probe::ports::Protocol, u16)> = listeners
        .iter()
        .filter(|l| !l.is_loopback())
        .map(|l| (l.protocol, l.port))
        .collect();
    let here: IpAddr = IpAddr::from([127, 0, 0, 1]);
    let observation = HostObservation {
        address: here,
        hostnames: vec![hostname.clone()],
        mac: None,
        discovered_by: BTreeSet::new(),
        rtt: None,
        ports: exposed
            .iter()
            .map(|&(protocol, port)| PortObservation {
                port,
                protocol,
                state: PortState::Open,
                reason: "listening",
                attempts: 0,
                rtt: None,
                connect_only: false,
                evidence: None,
            })
            .collect(),
        quiet: Default::default(),
        snmp: None,
        services: Vec::new(),
        scan_state: HostScanState::Complete,
        notes: Vec::new(),
        probes_sent: 0,
        path: Default::default(),
        reverse_names: Vec::new(),
        frames: Default::default(),
        budget: None,
    };
    let assessed = kenshin_assess::assess(
        vec![observation],
        kenshin_assess::identify::Knowledge {
            catalog: &catalog,
            fingerprints: &fingerprints,
            service_names: &service_names,
            oui: None,
            tls: None,
            segments: None,
            vendor_kinds: None,
            kind_rules: None,
            ledger_names: None,
        },
    );
    let context = kenshin_assess::subject::ScanContext::default();
    // The device inventory (2-①) is the network scan's to judge: from the inside,
    // this machine's kind is not in question.
    let findings: Vec<_> = kenshin_assess::evaluate::findings(&assessed, &rules, &context)
        .into_iter()
        .filter(|f| !f.check.starts_with("inventory."))
        .collect();

    let mut processes: Vec<Process> = sys
        .processes()
        .iter()
        .map(|(pid, p)| Process {
            pid: pid.as_u32(),
            name: p.name().to_string_lossy().into_owned(),
            memory_bytes: p.memory(),
        })
        .collect();
    processes.sort_by(|a, b| b.memory_bytes.cmp(&a.memory_bytes).then(a.pid.cmp(&b.pid)));

    Ok(HostCheck {
        kind: "kenshin.host-check/1",
        checked_at: clock::now_rfc3339(),
        tool: Tool {
            name: "kenshin",
            version: env!("CARGO_PKG_VERSION"),
        },
        host: HostInfo {
            name: hostname,
            os: sysinfo::System::long_os_version().unwrap_or_default(),
            kernel: sysinfo::System::kernel_version().unwrap_or_default(),
            uptime_s: sysinfo::System::uptime(),
            memory_bytes: sys.total_memory(),
        },
        listening,
        processes: Processes {
            count: processes.len(),
            list: processes,
        },
        findings: findings.iter().map(host_finding).collect(),
        notes,
    })
}

fn host_finding(f: &Finding) -> HostFinding {
    HostFinding {
        check: f.check.clone(),
        severity: f.severity,
        port: f.port,
        protocol: f.protocol.map(|p| p.as_str()),
        title: f.title.clone(),
        remediation: f.remediation.clone(),
        requirements: f
            .requirements
            .iter()
            .map(|r| Requirement {
                framework: r.framework.clone(),
                id: r.id.clone(),
            })
            .collect(),
    }
}
