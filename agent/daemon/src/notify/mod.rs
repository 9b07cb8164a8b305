//! Change alerts: what a finished scan tells the operator (new critical and high
//! findings, new devices, newly opened remote-access ports, a scan that did not
//! complete, a scan the history could not record), as the `kenshin.notification/1`
//! JSON of docs/notifications.md, sent to webhooks and syslog.
//!
//! Sending never blocks or fails a scan: each target is tried in its own task, with
//! retries and a timeout, and only its outcome is logged and recorded (when the
//! history cannot record it, the notification has still gone out).

pub mod syslog;
pub mod webhook;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use kenshin_probe::ports::{PortCatalog, Protocol};
use kenshin_report::diff::Diff;
use kenshin_report::model::{DeviceKind, Report, Severity};
use serde::Serialize;

use crate::health::Stage;

/// Where notifications go.
#[derive(Debug, Clone, Default)]
pub struct Notify {
    pub webhooks: Vec<Webhook>,
    pub syslog: Option<Syslog>,
}

/// What a notification target is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A critical or high finding the previous scan did not have.
    NewFinding,
    /// A host the previous scan did not see.
    NewHost,
    /// A remote-access or remote-maintenance port newly open.
    RemoteAccessOpened,
    /// A scan that did not complete (interrupted, window closed, failed).
    ScanIncomplete,
    /// The history could not record a scan (a full disk, say): before its first
    /// packet (so it did not run) or when it ended.
    RecordingFailed,
    /// The fleet database refused a sealed report for a reason retrying cannot mend.
    UploadRefused,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::NewFinding,
        EventKind::NewHost,
        EventKind::RemoteAccessOpened,
        EventKind::ScanIncomplete,
        EventKind::RecordingFailed,
        EventKind::UploadRefused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::NewFinding => "new-finding",
            EventKind::NewHost => "new-host",
            EventKind::RemoteAccessOpened => "remote-access-opened",
            EventKind::ScanIncomplete => "scan-incomplete",
            EventKind::RecordingFailed => "recording-failed",
            EventKind::UploadRefused => "upload-refused",
        }
    }
}

/// A webhook: the JSON body of docs/notifications.md is POSTed to it.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: url::Url,
    pub timeout: Duration,
    pub retries: u32,
    pub events: Vec<EventKind>,
    pub headers: Vec<(String, String)>,
}

/// Where syslog messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogTarget {
    /// A local datagram socket such as /dev/log.
    Unix(PathBuf),
    Udp(String),
    Tcp(String),
}

/// RFC 5424 syslog.
#[derive(Debug, Clone)]
pub struct Syslog {
    pub target: SyslogTarget,
    pub facility: u8,
    pub events: Vec<EventKind>,
}

/// The notification document.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub kind: &'static str,
    pub sent_at: String,
    /// The machine kenshin runs on.
    pub agent: String,
    pub scope: String,
    pub scan: ScanInfo,
    pub previous_scan: Option<String>,
    pub events: Vec<Event>,
    pub summary: Summary,
}

/// The scan a notification is about.
#[derive(Debug, Clone, Serialize)]
pub struct ScanInfo {
    pub id: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub complete: bool,
    pub report_dir: Option<String>,
}

/// The group a new-finding event stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupInfo {
    pub id: String,
    /// Findings in the group, and the hosts they are on.
    pub findings: u64,
    pub hosts: u64,
    pub cause_ja: String,
    pub cause_en: String,
}

/// One thing that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Event {
    NewFinding {
        severity: Severity,
        check: String,
        advisory: Option<String>,
        host: String,
        port: Option<u16>,
        title_ja: String,
        title_en: String,
        finding: String,
        /// The finding's group: one event stands for the whole group, however many
        /// hosts it holds (contract 1.1 reports; none for older ones).
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<GroupInfo>,
    },
    NewHost {
        address: String,
        kind: DeviceKind,
        hostnames: Vec<String>,
        mac: Option<String>,
        mac_vendor: Option<String>,
    },
    RemoteAccessOpened {
        host: String,
        port: u16,
        protocol: String,
        service: String,
    },
    ScanIncomplete {
        status: String,
        reason: String,
    },
    RecordingFailed {
        /// `start`: the scan did not run; `finish`: it ran and its sealed folder is
        /// kept, to be recorded at the daemon's next start.
        stage: Stage,
        reason: String,
        /// The first failure since the history last recorded a scan.
        since: String,
        /// The history database.
        history: String,
    },
    UploadRefused {
        /// The sealed folder that was refused (kept; push it again by hand once
        /// the cause is mended: `kenshin fleet push`).
        report_dir: String,
        /// Why, as the fleet database said it (no credential).
        reason: String,
    },
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::NewFinding { .. } => EventKind::NewFinding,
            Event::NewHost { .. } => EventKind::NewHost,
            Event::RemoteAccessOpened { .. } => EventKind::RemoteAccessOpened,
            Event::ScanIncomplete { .. } => EventKind::ScanIncomplete,
            Event::RecordingFailed { .. } => EventKind::RecordingFailed,
            Event::UploadRefused { .. } => EventKind::UploadRefused,
        }
    }

    /// One line for syslog and logs.
    pub fn line(&self) -> String {
        match self {
            Event::NewFinding {
                severity,
                host,
                port,
                title_en,
                check,
                group: Some(g),
                ..
            } if g.findings > 1 => {
                let place = port.map_or_else(|| host.clone(), |p| format!("{host}:{p}"));
                format!(
                    "new {severity} finding group {} {check} ({} findings, first on {place}): {}",
                    g.id, g.findings, g.cause_en
                )
            }
            Event::NewFinding {
                severity,
                host,
                port,
                title_en,
                check,
                ..
            } => {
                let place = port.map_or_else(|| host.clone(), |p| format!("{host}:{p}"));
                format!("new {severity} finding {check} on {place}: {title_en}")
            }
            Event::NewHost {
                address,
                kind,
                mac_vendor,
                ..
            } => format!(
                "new host {address} ({kind}{})",
                mac_vendor
                    .as_ref()
                    .map(|v| format!(", {v}"))
                    .unwrap_or_default()
            ),
            Event::RemoteAccessOpened {
                host,
                port,
                protocol,
                service,
            } => format!("remote access opened: {host}:{port}/{protocol} {service}"),
            Event::ScanIncomplete { status, reason } => {
                format!("scan incomplete ({status}): {reason}")
            }
            Event::RecordingFailed {
                stage,
                reason,
                since,
                history,
            } => {
                let what = match stage {
                    Stage::Start => "the scan did not run: it could not be recorded",
                    Stage::Finish => {
                        "the finished scan could not be recorded (its sealed folder is kept)"
                    }
                    Stage::Adopt => "a sealed scan could not be recorded",
                };
                format!("{what} in {history} (failing since {since}): {reason}")
            }
            Event::UploadRefused { report_dir, reason } => format!(
                "the fleet database refused the sealed report {report_dir} (not tried again): {reason}"
            ),
        }
    }
}

/// Counts in words, for chat messages and mail subjects.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub ja: String,
    pub en: String,
}

fn is_remote(catalog: &PortCatalog, protocol: &str, port: u16, service: &str) -> bool {
    let proto = if protocol == "udp" {
        Protocol::Udp
    } else {
        Protocol::Tcp
    };
    let by_port = catalog
        .entry(proto, port)
        .is_some_and(|e| catalog.is_remote_entry(&e.category));
    let by_service = catalog.entries.iter().any(|e| {
        catalog.is_remote_entry(&e.category) && e.service == service && !service.is_empty()
    });
    by_port || by_service
}

/// The events of a finished scan: against `previous` (the scope's last scan with a
/// report) when there is one. A first scan reports only its critical and high
/// findings, not every host and port as new.
pub fn events(report: &Report, previous: Option<&Diff>, catalog: &PortCatalog) -> Vec<Event> {
    let mut out = Vec::new();
    let serious = |s: Severity| matches!(s, Severity::Critical | Severity::High);
    // One event per new group of open (not accepted) critical or high findings.
    let groups: std::collections::BTreeMap<&str, &kenshin_report::model::Group> = report
        .groups
        .iter()
        .flat_map(|g| g.findings.iter().map(move |f| (f.as_str(), g)))
        .collect();
    let accepted: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.disposition.is_accepted())
        .map(|f| f.id.as_str())
        .collect();
    let mut announced: BTreeSet<&str> = BTreeSet::new();
    let mut finding = |severity: Severity,
                       check: &str,
                       advisory: Option<&str>,
                       host: &str,
                       port: Option<u16>,
                       title: &kenshin_report::model::Text,
                       id: &str|
     -> Option<Event> {
        if !serious(severity) || accepted.contains(id) {
            return None;
        }
        let group = groups.get(id).copied();
        if let Some(g) = group {
            if !announced.insert(g.id.as_str()) {
                return None;
            }
        }
        Some(Event::NewFinding {
            severity,
            check: check.to_owned(),
            advisory: advisory.map(str::to_owned),
            host: host.to_owned(),
            port,
            title_ja: title.ja.clone(),
            title_en: title.en.clone(),
            finding: id.to_owned(),
            group: group.map(|g| GroupInfo {
                id: g.id.clone(),
                findings: g.count,
                hosts: g.hosts,
                cause_ja: g.cause.ja.clone(),
                cause_en: g.cause.en.clone(),
            }),
        })
    };
    match previous {
        None => {
            for f in &report.findings {
                let advisory = f.advisory.as_ref().map(|a| a.id.as_str());
                out.extend(finding(
                    f.severity, &f.check, advisory, &f.host, f.port, &f.title, &f.id,
                ));
            }
        }
        Some(diff) => {
            for f in &diff.findings_new {
                let advisory = f.advisory.as_deref();
                out.extend(finding(
                    f.severity, &f.check, advisory, &f.host, f.port, &f.title, &f.id,
                ));
            }
            // A finding the register accepted before and that is open again (its
            // exception expired or was removed) is announced like a new one.
            for f in &diff.findings_reopened {
                let advisory = f.advisory.as_deref();
                out.extend(finding(
                    f.severity, &f.check, advisory, &f.host, f.port, &f.title, &f.id,
                ));
            }
            // Ports newly open: those of new hosts, and those opened on known ones.
            let mut opened: Vec<(&String, u16, &String, &String)> = Vec::new();
            let appeared: BTreeSet<&str> = diff
                .hosts_appeared
                .iter()
                .map(|h| h.address.as_str())
                .collect();
            for h in report
                .hosts
                .iter()
                .filter(|h| appeared.contains(h.address.as_str()))
            {
                out.push(Event::NewHost {
                    address: h.address.clone(),
                    kind: h.kind,
                    hostnames: h.hostnames.clone(),
                    mac: h.mac.clone(),
                    mac_vendor: h.mac_vendor.clone(),
                });
                opened.extend(
                    h.services
                        .iter()
                        .map(|s| (&h.address, s.port, &s.protocol, &s.service)),
                );
            }
            opened.extend(
                diff.ports_opened
                    .iter()
                    .map(|p| (&p.host, p.port, &p.protocol, &p.service)),
            );
            for (host, port, protocol, service) in opened {
                if is_remote(catalog, protocol, port, service) {
                    out.push(Event::RemoteAccessOpened {
                        host: host.clone(),
                        port,
                        protocol: protocol.clone(),
                        service: service.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Counts of each kind of event, in Japanese and English.
pub fn summarize(scope: &str, events: &[Event]) -> Summary {
    let count = |k: EventKind| events.iter().filter(|e| e.kind() == k).count();
    let (f, h, r, i) = (
        count(EventKind::NewFinding),
        count(EventKind::NewHost),
        count(EventKind::RemoteAccessOpened),
        count(EventKind::ScanIncomplete),
    );
    let not_run = events.iter().any(|e| {
        matches!(
            e,
            Event::RecordingFailed {
                stage: Stage::Start,
                ..
            }
        )
    });
    let unrecorded = count(EventKind::RecordingFailed) > 0;
    let refused = count(EventKind::UploadRefused);
    let mut ja = Vec::new();
    let mut en = Vec::new();
    if f > 0 {
        ja.push(format!("重大な新規所見 {f} 件"));
        en.push(format!("{f} new critical/high finding(s)"));
    }
    if h > 0 {
        ja.push(format!("新しい機器 {h} 台"));
        en.push(format!("{h} new host(s)"));
    }
    if r > 0 {
        ja.push(format!("新たに開いたリモートアクセスのポート {r} 件"));
        en.push(format!("{r} remote-access port(s) newly open"));
    }
    if i > 0 {
        ja.push("スキャンが完了しませんでした".to_owned());
        en.push("the scan did not complete".to_owned());
    }
    if not_run {
        ja.push("履歴に記録できないためスキャンを実行しませんでした（状態フォルダーのディスクの空きを確認してください）".to_owned());
        en.push("the scan did not run because the history cannot record it (check the free space of the state folder's disk)".to_owned());
    } else if unrecorded {
        ja.push("スキャン結果を履歴に記録できませんでした（状態フォルダーのディスクの空きを確認してください）".to_owned());
        en.push("the scan's result could not be recorded in the history (check the free space of the state folder's disk)".to_owned());
    }
    if refused > 0 {
        ja.push(format!(
            "封印済みの報告書 {refused} 件がフリートのデータベースに拒否されました（再送しません）"
        ));
        en.push(format!(
            "{refused} sealed report(s) refused by the fleet database (not retried)"
        ));
    }
    // The summary is what a chat or mail gateway shows a person: made visible.
    let visible = |s: String| kenshin_report::visible(&s).into_owned();
    Summary {
        ja: visible(format!("kenshin [{scope}]: {}", ja.join("、"))),
        en: visible(format!("kenshin [{scope}]: {}", en.join(", "))),
    }
}

/// The machine's name, for the `agent` field and syslog's HOSTNAME.
pub fn agent_name() -> String {
    sysinfo::System::host_name()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "-".to_owned())
}

/// Sends `n` to every target that wants at least one of its events, each in its own
/// task. Returns the tasks so a caller that is exiting can wait for them.
pub fn dispatch(
    config: &Notify,
    n: &Notification,
    state_dir: &std::path::Path,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for hook in &config.webhooks {
        let Some(doc) = for_target(n, &hook.events) else {
            continue;
        };
        let hook = hook.clone();
        let db = state_dir.to_owned();
        tasks.push(tokio::spawn(async move {
            let target = hook.url.as_str().to_owned();
            let result = webhook::send(&hook, &doc).await;
            record(&db, &doc, &format!("webhook {target}"), &result);
        }));
    }
    if let Some(sys) = &config.syslog {
        if let Some(doc) = for_target(n, &sys.events) {
            let sys = sys.clone();
            let db = state_dir.to_owned();
            tasks.push(tokio::spawn(async move {
                let result = tokio::task::spawn_blocking({
                    let doc = doc.clone();
                    let sys = sys.clone();
                    move || syslog::send(&sys, &doc)
                })
                .await
                .unwrap_or_else(|e| Err(format!("the syslog task failed: {e}")));
                record(
                    &db,
                    &doc,
                    &format!("syslog {:?}", sys.target),
                    &result.map(|()| 1),
                );
            }));
        }
    }
    tasks
}

/// The notification with only the events a target asked for; `None` if none is left.
fn for_target(n: &Notification, wanted: &[EventKind]) -> Option<Notification> {
    let events: Vec<Event> = n
        .events
        .iter()
        .filter(|e| wanted.contains(&e.kind()))
        .cloned()
        .collect();
    if events.is_empty() {
        return None;
    }
    let summary = summarize(&n.scope, &events);
    Some(Notification {
        events,
        summary,
        ..n.clone()
    })
}

fn record(
    state_dir: &std::path::Path,
    n: &Notification,
    target: &str,
    result: &Result<u32, String>,
) {
    match result {
        Ok(attempts) => {
            tracing::info!(scope = %n.scope, scan = %n.scan.id, %target, attempts, "notification sent")
        }
        Err(e) => {
            tracing::warn!(scope = %n.scope, scan = %n.scan.id, %target, "notification failed: {e}")
        }
    }
    let outcome = match crate::history::Store::open(&crate::history::path(state_dir)) {
        Ok(store) => store.record_notification(&n.scan.id, target, result),
        Err(e) => Err(e),
    };
    if let Err(e) = outcome {
        tracing::warn!("cannot record the notification in the history: {e:#}");
    }
}

#[cfg(test)]
mod tests;
