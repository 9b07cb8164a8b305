//! `kenshin host-check`: this machine seen from the inside, without a packet sent.
//!
//! sysinfo gives the OS, kernel, uptime and processes; /proc/net gives the listening
//! sockets ([`sockets`]). Every socket reachable from the network (not bound to
//! loopback) becomes an open port of this host and goes through the same catalog,
//! identification and checks as a network scan, so a telnet or FTP server running
//! here is the same 2-⑫ finding a scan from outside would raise.

mod sockets;

use std::collections::BTreeSet;
use std::net::IpAddr;

use kenshin_probe::observation::{HostObservation, HostScanState, PortObservation, PortState};
use serde::Serialize;
use serde_json::json;

use crate::cli::{HostCheckArgs, Lang};
use crate::clock;
use crate::scan_job::Knowledge;

/// Processes listed in the text output (all are in the JSON).
const TOP_PROCESSES: usize = 10;

#[derive(Debug, Serialize)]
struct ListenerOut {
    protocol: String,
    address: String,
    port: u16,
    service: Option<String>,
    category: Option<String>,
    pid: Option<u32>,
    process: Option<String>,
    /// Reachable from the network (not bound to loopback).
    exposed: bool,
}

#[derive(Debug, Serialize)]
struct ProcessOut {
    pid: u32,
    name: String,
    memory_bytes: u64,
}

pub(crate) fn run(args: &HostCheckArgs) -> anyhow::Result<u8> {
    let lang = Lang::resolve(args.lang);
    let Knowledge {
        catalog,
        fingerprints,
        rules,
        service_names,
        ..
    } = Knowledge::builtin()?;

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
    let listening: Vec<ListenerOut> = listeners
        .iter()
        .map(|l| {
            let entry = catalog.entry(l.protocol, l.port);
            let owner = owners.get(&l.inode);
            ListenerOut {
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
        snmp: None,
        services: Vec::new(),
        scan_state: HostScanState::Complete,
        notes: Vec::new(),
        probes_sent: 0,
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
        },
    );
    let context = kenshin_assess::subject::ScanContext::default();
    // The device inventory (2-①) is the network scan's to judge: from the inside,
    // this machine's kind is not in question.
    let findings: Vec<_> = kenshin_assess::evaluate::findings(&assessed, &rules, &context)
        .into_iter()
        .filter(|f| !f.check.starts_with("inventory."))
        .collect();

    let mut processes: Vec<ProcessOut> = sys
        .processes()
        .iter()
        .map(|(pid, p)| ProcessOut {
            pid: pid.as_u32(),
            name: p.name().to_string_lossy().into_owned(),
            memory_bytes: p.memory(),
        })
        .collect();
    processes.sort_by(|a, b| b.memory_bytes.cmp(&a.memory_bytes).then(a.pid.cmp(&b.pid)));

    let os = sysinfo::System::long_os_version().unwrap_or_default();
    let kernel = sysinfo::System::kernel_version().unwrap_or_default();
    let uptime = sysinfo::System::uptime();
    let findings_json: Vec<_> = findings
        .iter()
        .map(|f| {
            json!({
                "check": f.check,
                "severity": f.severity.as_str(),
                "port": f.port,
                "protocol": f.protocol.map(|p| p.as_str()),
                "title": {"ja": f.title.ja, "en": f.title.en},
                "remediation": {"ja": f.remediation.ja, "en": f.remediation.en},
                "requirements": f.requirements.iter().map(|r| json!({"framework": r.framework, "id": r.id})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let serious = findings
        .iter()
        .any(|f| f.severity != kenshin_assess::finding::Severity::Info);

    if args.json {
        let doc = json!({
            "kind": "kenshin.host-check/1",
            "checked_at": clock::now_rfc3339(),
            "tool": {"name": "kenshin", "version": env!("CARGO_PKG_VERSION")},
            "host": {
                "name": hostname,
                "os": os,
                "kernel": kernel,
                "uptime_s": uptime,
                "memory_bytes": sys.total_memory(),
            },
            "listening": listening,
            "processes": {"count": processes.len(), "list": processes},
            "findings": findings_json,
            "notes": notes,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(u8::from(serious));
    }

    let t = |j: &'static str, e: &'static str| lang.pick(j, e);
    println!("{} {hostname}", t("ホスト", "host"));
    println!("  OS: {os}");
    println!("  {}: {kernel}", t("カーネル", "kernel"));
    println!(
        "  {}: {}d {}h {}m",
        t("稼働時間", "uptime"),
        uptime / 86_400,
        uptime % 86_400 / 3600,
        uptime % 3600 / 60
    );
    println!(
        "{} ({})",
        t("待ち受け中のサービス", "listening services"),
        listening.len()
    );
    for l in &listening {
        println!(
            "  {:>5}/{:<3} {:<39} {:<16} {}{}",
            l.port,
            l.protocol,
            l.address,
            l.service.as_deref().unwrap_or("?"),
            l.process
                .as_ref()
                .map(|p| format!("{p} (pid {})", l.pid.unwrap_or(0)))
                .unwrap_or_else(|| "-".to_owned()),
            if l.exposed {
                ""
            } else {
                t("  [ローカルのみ]", "  [local only]")
            }
        );
    }
    println!(
        "{} ({}; {} {})",
        t("プロセス", "processes"),
        processes.len(),
        t("メモリ使用量の上位", "top by memory:"),
        TOP_PROCESSES
    );
    for p in processes.iter().take(TOP_PROCESSES) {
        println!(
            "  {:>7} {:<24} {} MiB",
            p.pid,
            p.name,
            p.memory_bytes / (1 << 20)
        );
    }
    println!("{} ({})", t("所見", "findings"), findings.len());
    for f in &findings {
        let reqs: Vec<String> = f.requirements.iter().map(|r| r.id.clone()).collect();
        println!(
            "  [{}] {}{} — {} ({})",
            f.severity.as_str(),
            f.check,
            f.port
                .map(|p| format!(" {p}/{}", f.protocol.map_or("", |x| x.as_str())))
                .unwrap_or_default(),
            lang.pick(&f.title.ja, &f.title.en),
            reqs.join(", ")
        );
    }
    for n in &notes {
        println!("{}: {n}", t("注記", "note"));
    }
    Ok(u8::from(serious))
}
