use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use super::*;

fn lab_report() -> Report {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../report/tests/data/lab-report.json"
    );
    serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("report")
}

fn catalog() -> PortCatalog {
    PortCatalog::builtin().expect("catalog")
}

fn notification(events: Vec<Event>) -> Notification {
    Notification {
        kind: "kenshin.notification/1",
        sent_at: "2026-11-22T13:00:00Z".to_owned(),
        agent: "kenshin-host".to_owned(),
        scope: "servers".to_owned(),
        scan: ScanInfo {
            id: "20261122T130000Z-abcdef".to_owned(),
            status: "complete".to_owned(),
            started_at: "2026-11-22T12:59:00Z".to_owned(),
            finished_at: Some("2026-11-22T13:00:00Z".to_owned()),
            complete: true,
            report_dir: Some("/var/lib/kenshin/reports/servers/20261122T130000Z-abcdef".to_owned()),
        },
        previous_scan: None,
        summary: summarize("servers", &events),
        events,
    }
}

#[test]
fn a_first_scan_reports_only_its_critical_and_high_findings() {
    let r = lab_report();
    let events = events(&r, None, &catalog());
    let serious = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical || f.severity == Severity::High)
        .count();
    assert!(serious > 0);
    assert_eq!(events.len(), serious, "{events:#?}");
    assert!(events.iter().all(|e| e.kind() == EventKind::NewFinding));
}

#[test]
fn a_rescan_reports_new_hosts_and_remote_access_ports_but_not_other_ports() {
    let old = lab_report();
    let mut new = old.clone();
    // An existing host opens RDP and HTTP; a new host appears with VNC.
    let mut rdp = new.hosts[3].services.first().cloned().expect("a service");
    rdp.protocol = "tcp".to_owned();
    rdp.port = 3389;
    rdp.service = "rdp".to_owned();
    let mut http = rdp.clone();
    http.port = 8081;
    http.service = "http-alt".to_owned();
    new.hosts[3].services.extend([rdp, http]);
    let mut stranger = new.hosts[4].clone();
    stranger.address = "198.18.3.99".to_owned();
    stranger.services[0].port = 5900;
    stranger.services[0].service = "vnc".to_owned();
    new.hosts.push(stranger);
    let d = kenshin_report::diff::diff(&old, &new);
    let events = events(&new, Some(&d), &catalog());
    let lines: Vec<String> = events.iter().map(Event::line).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("new host 198.18.3.99 (")),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"remote access opened: 198.18.3.20:3389/tcp rdp".to_owned()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"remote access opened: 198.18.3.99:5900/tcp vnc".to_owned()),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains("8081")), "{lines:#?}");
    assert!(
        !events.iter().any(|e| e.kind() == EventKind::NewFinding),
        "the findings did not change"
    );
}

#[test]
fn an_unchanged_rescan_has_nothing_to_say() {
    let r = lab_report();
    let d = kenshin_report::diff::diff(&r, &r);
    assert!(events(&r, Some(&d), &catalog()).is_empty());
}

#[test]
fn a_target_gets_only_the_events_it_asked_for() {
    let n = notification(vec![
        Event::NewHost {
            address: "198.18.3.99".into(),
            kind: DeviceKind::Unknown,
            hostnames: vec![],
            mac: None,
            mac_vendor: None,
        },
        Event::ScanIncomplete {
            status: "partial".into(),
            reason: "the scan window closed".into(),
        },
    ]);
    let only = for_target(&n, &[EventKind::ScanIncomplete]).expect("one event left");
    assert_eq!(only.events.len(), 1);
    assert!(only.summary.en.contains("did not complete") && !only.summary.en.contains("host"));
    assert!(for_target(&n, &[EventKind::NewFinding]).is_none());
}

#[test]
fn the_json_body_names_its_kind_and_each_event_type() {
    let n = notification(vec![Event::RemoteAccessOpened {
        host: "198.18.2.11".into(),
        port: 3389,
        protocol: "tcp".into(),
        service: "rdp".into(),
    }]);
    let v = serde_json::to_value(&n).expect("json");
    assert_eq!(v["kind"], "kenshin.notification/1");
    assert_eq!(v["events"][0]["type"], "remote-access-opened");
    assert_eq!(v["events"][0]["port"], 3389);
    assert_eq!(v["scan"]["complete"], true);
    assert!(v["summary"]["ja"]
        .as_str()
        .is_some_and(|s| s.contains("リモートアクセス")));
}

#[test]
fn syslog_messages_follow_rfc_5424_with_escaped_structured_data() {
    let n = notification(vec![Event::NewFinding {
        severity: Severity::Critical,
        check: "remote-access.vnc-no-auth".into(),
        advisory: None,
        host: "198.18.2.10".into(),
        port: Some(5901),
        title_ja: "認証なしの VNC".into(),
        title_en: "VNC \"without\" auth]".into(),
        finding: "f-0001".into(),
        group: None,
    }]);
    let m = syslog::messages(3, &n, "kenshin host", 42);
    let text = String::from_utf8(m[0].clone()).expect("utf-8");
    // daemon (3) * 8 + critical (2)
    assert!(text.starts_with("<26>1 2026-11-22T13:00:00Z kenshinhost kenshin 42 new-finding [kenshin@32473 scope=\"servers\""), "{text}");
    assert!(text.contains("port=\"5901\"]"), "{text}");
    assert!(text.contains(" \u{feff}new critical finding"), "{text}");
    assert_eq!(syslog::facility_code("local7"), Some(23));
    assert_eq!(syslog::facility_code("local8"), None);
}

#[test]
fn a_peers_controls_and_bidi_overrides_are_escaped_in_syslog_and_the_summary() {
    let hostile = "pc\r\x1b[2Kok\u{202e}gnp.exe";
    let n = notification(vec![Event::NewHost {
        address: "198.18.2.10".into(),
        kind: DeviceKind::TerminalPc,
        hostnames: vec![hostile.into()],
        mac: None,
        mac_vendor: Some(hostile.into()),
    }]);
    for m in syslog::messages(3, &n, "kenshin", 42) {
        let text = String::from_utf8(m).expect("utf-8");
        assert!(
            !text.contains('\x1b') && !text.contains('\r') && !text.contains('\u{202e}'),
            "{text:?}"
        );
        assert!(text.contains(r"\x1b[2Kok\u{202e}gnp.exe"), "{text}");
    }
    let s = summarize("servers\x1b[8m", &n.events);
    assert!(!s.ja.contains('\x1b') && !s.en.contains('\x1b'), "{s:?}");
}

#[test]
fn syslog_reaches_a_local_datagram_socket() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("log.sock");
    let receiver = std::os::unix::net::UnixDatagram::bind(&path).expect("bind");
    receiver
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let n = notification(vec![Event::ScanIncomplete {
        status: "partial".into(),
        reason: "stopped".into(),
    }]);
    let s = Syslog {
        target: SyslogTarget::Unix(path.clone()),
        facility: 16,
        events: EventKind::ALL.to_vec(),
    };
    syslog::send(&s, &n).expect("sent");
    let mut buf = [0u8; 4096];
    let len = receiver.recv(&mut buf).expect("received");
    let got = String::from_utf8_lossy(&buf[..len]);
    assert!(got.starts_with("<132>1 "), "{got}");
    assert!(got.ends_with("scan incomplete (partial): stopped"), "{got}");
}

/// A one-thread HTTP server on loopback answering each request with the next status
/// of `statuses`; returns its URL and the bodies it received.
fn receiver(statuses: Vec<u16>) -> (url::Url, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = url::Url::parse(&format!(
        "http://{}/hook",
        listener.local_addr().expect("addr")
    ))
    .expect("url");
    let handle = std::thread::spawn(move || {
        let mut bodies = Vec::new();
        for status in statuses {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream);
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("line");
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().expect("length");
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).expect("body");
            bodies.push(String::from_utf8(body).expect("utf-8"));
            let mut stream = reader.into_inner();
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .expect("answer");
        }
        bodies
    });
    (url, handle)
}

fn hook(url: url::Url, retries: u32, timeout: Duration) -> Webhook {
    Webhook {
        url,
        timeout,
        retries,
        events: EventKind::ALL.to_vec(),
        headers: vec![("X-Kenshin-Test".to_owned(), "1".to_owned())],
    }
}

#[tokio::test]
async fn a_webhook_that_fails_once_gets_the_notification_on_the_retry() {
    let (url, server) = receiver(vec![503, 200]);
    let n = notification(vec![Event::ScanIncomplete {
        status: "failed".into(),
        reason: "x".into(),
    }]);
    let attempts = webhook::send(&hook(url, 3, Duration::from_secs(5)), &n)
        .await
        .expect("delivered");
    assert_eq!(attempts, 2);
    let bodies = server.join().expect("server");
    assert_eq!(bodies.len(), 2);
    let v: serde_json::Value = serde_json::from_str(&bodies[1]).expect("json body");
    assert_eq!(v["scope"], "servers");
}

#[tokio::test]
async fn a_webhook_that_refuses_is_not_retried_and_a_silent_one_times_out() {
    let (url, server) = receiver(vec![404]);
    let n = notification(vec![]);
    let e = webhook::send(&hook(url, 3, Duration::from_secs(5)), &n)
        .await
        .expect_err("404");
    assert!(e.contains("404") && e.contains("not retried"), "{e}");
    server.join().expect("server");

    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url =
        url::Url::parse(&format!("http://{}/", silent.local_addr().expect("addr"))).expect("url");
    let started = std::time::Instant::now();
    let e = webhook::send(&hook(url, 0, Duration::from_secs(1)), &n)
        .await
        .expect_err("timeout");
    assert!(e.contains("no answer within 1 s"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(silent);
}

fn recording_failed(stage: Stage) -> Event {
    Event::RecordingFailed {
        stage,
        reason: "cannot record the scan: database or disk is full".into(),
        since: "2026-11-22T12:58:00Z".into(),
        history: "/var/lib/kenshin/history.db".into(),
    }
}

#[test]
fn a_recording_failure_is_an_event_of_its_own_with_its_stage_and_a_summary_that_says_so() {
    assert!(EventKind::ALL.contains(&EventKind::RecordingFailed));
    assert_eq!(EventKind::RecordingFailed.as_str(), "recording-failed");
    let n = notification(vec![recording_failed(Stage::Start)]);
    let v = serde_json::to_value(&n).expect("json");
    assert_eq!(
        v["events"][0],
        serde_json::json!({
            "type": "recording-failed",
            "stage": "start",
            "reason": "cannot record the scan: database or disk is full",
            "since": "2026-11-22T12:58:00Z",
            "history": "/var/lib/kenshin/history.db"
        })
    );
    assert!(
        n.summary.en.contains("did not run") && n.summary.ja.contains("実行しませんでした"),
        "{:?}",
        n.summary
    );
    let finish = summarize("servers", &[recording_failed(Stage::Finish)]);
    assert!(
        finish.en.contains("could not be recorded") && finish.ja.contains("記録できませんでした"),
        "{finish:?}"
    );
    // Only a target that asked for it gets it.
    assert!(for_target(&n, &[EventKind::ScanIncomplete]).is_none());
    assert!(for_target(&n, &[EventKind::RecordingFailed]).is_some());
    // Syslog: severity 3 (err), the stage in the structured data.
    let msgs = syslog::messages(3, &n, "kenshin-host", 1);
    let text = String::from_utf8_lossy(&msgs[0]);
    assert!(text.starts_with("<27>1 "), "{text}");
    assert!(
        text.contains(" recording-failed [kenshin@32473 ") && text.contains("stage=\"start\""),
        "{text}"
    );
    assert!(text.contains("the scan did not run"), "{text}");
}

#[tokio::test]
async fn a_notification_goes_out_even_when_the_history_cannot_record_that_it_did() {
    let (url, server) = receiver(vec![200]);
    // A "state folder" that is a file: the history cannot even be opened.
    let not_a_dir = tempfile::NamedTempFile::new().expect("file");
    let config = Notify {
        webhooks: vec![hook(url, 0, Duration::from_secs(5))],
        syslog: None,
    };
    let n = notification(vec![recording_failed(Stage::Finish)]);
    for task in dispatch(&config, &n, not_a_dir.path()) {
        task.await.expect("task");
    }
    let bodies = server.join().expect("server");
    let v: serde_json::Value = serde_json::from_str(&bodies[0]).expect("json body");
    assert_eq!(v["events"][0]["type"], "recording-failed");
    assert_eq!(v["events"][0]["stage"], "finish");
}

/// The lab report with its findings grouped by check, as a 1.1 report groups them when
/// each check has one cause.
fn grouped_by_check(mut r: Report) -> Report {
    let mut by_check: std::collections::BTreeMap<String, Vec<&kenshin_report::model::Finding>> =
        std::collections::BTreeMap::new();
    for f in &r.findings {
        by_check.entry(f.check.clone()).or_default().push(f);
    }
    r.groups = by_check
        .into_iter()
        .map(|(check, members)| kenshin_report::model::Group {
            id: kenshin_assess::groups::group_id(&check, "check"),
            cause: members[0].title.clone(),
            severity: members
                .iter()
                .map(|f| f.severity)
                .min()
                .unwrap_or(Severity::Info),
            count: members.len() as u64,
            hosts: members.len() as u64,
            findings: members.iter().map(|f| f.id.clone()).collect(),
            accepted: 0,
            check,
        })
        .collect();
    r
}

fn serious_groups(r: &Report) -> Vec<&kenshin_report::model::Group> {
    r.groups
        .iter()
        .filter(|g| matches!(g.severity, Severity::Critical | Severity::High))
        .collect()
}

#[test]
fn a_first_scan_alerts_once_per_group_not_once_per_host() {
    let r = grouped_by_check(lab_report());
    let events = events(&r, None, &catalog());
    let groups = serious_groups(&r);
    assert!(
        groups.iter().any(|g| g.count > 1),
        "the fixture has a group of several findings"
    );
    assert_eq!(events.len(), groups.len(), "{events:#?}");
    for e in &events {
        let Event::NewFinding { group: Some(g), .. } = e else {
            panic!("a new-finding event names its group: {e:?}");
        };
        assert!(groups.iter().any(|x| x.id == g.id && x.count == g.findings));
    }
}

#[test]
fn accepted_findings_raise_no_alert_and_reopened_ones_do() {
    let mut r = grouped_by_check(lab_report());
    let group = serious_groups(&r)[0].clone();
    let accept = |r: &mut Report| {
        for f in r
            .findings
            .iter_mut()
            .filter(|f| group.findings.contains(&f.id))
        {
            f.disposition = kenshin_report::model::Disposition {
                status: kenshin_report::model::DispositionStatus::Accepted,
                exception: Some("EX-2026-001".to_owned()),
                expires: Some("2027-03-31".to_owned()),
            };
        }
    };
    let open = r.clone();
    accept(&mut r);
    let first = events(&r, None, &catalog());
    assert_eq!(first.len(), serious_groups(&r).len() - 1, "{first:#?}");
    let named =
        |e: &Event| matches!(e, Event::NewFinding { group: Some(g), .. } if g.id == group.id);
    assert!(!first.iter().any(named), "no alert for the accepted group");

    // The exception expires: the same findings are open again and alert once.
    let d = kenshin_report::diff::diff(&r, &open);
    assert_eq!(d.findings_reopened.len(), group.findings.len());
    let again = events(&open, Some(&d), &catalog());
    assert_eq!(again.iter().filter(|e| named(e)).count(), 1, "{again:#?}");
}
