//! The daemon in the lab: scheduled scans, history, change alerts to a webhook, and
//! what a `kill -9` and a SIGTERM leave behind.

use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use kenshin_lab::{SCANNER_NS, SERVICES2_ADDR, SERVICES_ADDR};
use serde_json::Value;

use crate::support::*;

/// Where the test's webhook receiver listens, on the scanner namespace's loopback.
const WEBHOOK_PORT: u16 = 8808;

fn write_config(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("kenshin.toml");
    let toml = format!(
        "[daemon]\nstate_dir = \"{}\"\nsigning_key = \"{}\"\nmax_parallel_scans = 2\n\n\
         [[notify.webhook]]\nurl = \"http://127.0.0.1:{WEBHOOK_PORT}/kenshin\"\ntimeout = \"5s\"\n\n{body}",
        dir.join("state").display(),
        signing_key().display()
    );
    std::fs::write(&path, toml).expect("config");
    let o = kenshin_offline(&["check-config", path.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    path
}

/// Waits until `pred` holds for the scans, up to `secs`.
fn wait_for(
    config: &Path,
    daemon: &Daemon,
    secs: u64,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = daemon_history(config);
        if pred(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "waited {secs} s for {what}; scans: {s:#?}\nlog:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn count(scans: &[Value], scope: &str, status: &str) -> usize {
    scans
        .iter()
        .filter(|s| s["scope"] == scope && s["status"] == status)
        .count()
}

/// `kenshin status --json` for the scope "slow".
fn slow_status(config: &Path) -> Value {
    let o = kenshin_offline(&[
        "status",
        "--json",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("status JSON");
    v["scopes"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["scope"] == "slow"))
        .cloned()
        .unwrap_or_else(|| panic!("no scope slow: {v:#}"))
}

fn integrity(config_dir: &Path) -> String {
    let c = rusqlite::Connection::open(config_dir.join("state/history.db")).expect("open");
    c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check")
}

fn verify(dir: &str) {
    let o = kenshin_offline(&["verify", dir]);
    assert_eq!(o.status.code(), Some(0), "{dir}: {}", text(&o));
}

#[test]
fn the_daemon_scans_every_minute_and_alerts_on_a_remote_access_port_opened_between_scans() {
    let mut session = lab();
    let dir = out_dir();
    let hooks = dir.path().join("webhooks.jsonl");
    let lab_bin = PathBuf::from(env!("CARGO_BIN_EXE_kenshin-lab"));
    session
        .lab
        .start_in(
            SCANNER_NS,
            &lab_bin,
            &[
                "webhook",
                &WEBHOOK_PORT.to_string(),
                hooks.to_str().expect("utf-8"),
            ],
        )
        .expect("webhook receiver");
    session
        .lab
        .wait_listening(SCANNER_NS, WEBHOOK_PORT)
        .expect("receiver listens");
    let config = write_config(
        dir.path(),
        &format!(
            "[[scope]]\nname = \"svc2\"\ntargets = [\"{SERVICES2_ADDR}\"]\nschedule = \"* * * * *\"\n\
             [scope.settings]\nports = \"T:22,5900\"\nsnmp = false\n"
        ),
    );
    let daemon = Daemon::start(&config, dir.path().join("daemon.log"));

    let first = wait_for(&config, &daemon, 150, "a first complete scan", |s| {
        count(s, "svc2", "complete") >= 1
    });
    let first_id = first[0]["id"].as_str().expect("id").to_owned();
    // Between the scans, someone enables VNC on the host.
    session
        .lab
        .start_in("ksl-svc2", &lab_bin, &["listen", "5900"])
        .expect("listener");
    session
        .lab
        .wait_listening("ksl-svc2", 5900)
        .expect("5900 open");
    let both = wait_for(&config, &daemon, 150, "a second complete scan", |s| {
        count(s, "svc2", "complete") >= 2
    });
    assert_eq!(daemon.terminate(), Some(0));

    let second = &both[0];
    let second_id = second["id"].as_str().expect("id").to_owned();
    assert_ne!(second_id, first_id);
    assert_eq!(second["previous_scan"], first_id.as_str(), "{second:#}");
    let cfg = config.to_str().expect("utf-8");
    let o = kenshin_offline(&["history", "--scan", &second_id, "--json", "--config", cfg]);
    let detail: Value = serde_json::from_slice(&o.stdout).expect("scan JSON");
    let opened = &detail["changes"]["ports_opened"];
    assert_eq!(opened[0]["host"], SERVICES2_ADDR, "{detail:#}");
    assert_eq!(opened[0]["port"], 5900, "{detail:#}");
    let o = kenshin_offline(&["history", "--scan", &second_id, "--config", cfg]);
    eprintln!("{}", String::from_utf8_lossy(&o.stdout));

    // The webhook got the alert for the second scan, naming the port.
    let deadline = Instant::now() + Duration::from_secs(20);
    let alert = loop {
        let lines = std::fs::read_to_string(&hooks).unwrap_or_default();
        let found = lines
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|n| n["scan"]["id"] == second_id.as_str());
        if let Some(n) = found {
            break n;
        }
        assert!(
            Instant::now() < deadline,
            "no webhook for {second_id}: {lines}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("{}", serde_json::to_string_pretty(&alert).expect("json"));
    assert_eq!(alert["kind"], "kenshin.notification/1");
    assert_eq!(alert["scope"], "svc2");
    assert_eq!(alert["previous_scan"], first_id.as_str());
    let events = alert["events"].as_array().expect("events");
    assert!(
        events.iter().any(|e| e["type"] == "remote-access-opened"
            && e["port"] == 5900
            && e["host"] == SERVICES2_ADDR),
        "{alert:#}"
    );
    // Both report folders are whole and sealed.
    for s in both.iter().take(2) {
        verify(s["report_dir"].as_str().expect("report_dir"));
    }
    assert_eq!(integrity(dir.path()), "ok");
}

#[test]
fn a_daemon_killed_mid_scan_keeps_its_history_reruns_the_scan_and_stops_cleanly_on_sigterm() {
    let session = lab();
    let dir = out_dir();
    // "quick" finishes in a moment; "slow" sends one packet a second to 20 ports, so it
    // is still running when the daemon is killed. They share no address, so both run.
    let config = write_config(
        dir.path(),
        &format!(
            "[[scope]]\nname = \"quick\"\ntargets = [\"{SERVICES2_ADDR}\"]\nschedule = \"* * * * *\"\n\
             [scope.settings]\nports = \"T:22\"\nsnmp = false\n\n\
             [[scope]]\nname = \"slow\"\ntargets = [\"{SERVICES_ADDR}\"]\nschedule = \"* * * * *\"\n\
             [scope.settings]\nports = \"T:1-20\"\nsnmp = false\nhost_rate_pps = 1\nicmp = false\narp = false\n"
        ),
    );
    let log = dir.path().join("daemon.log");
    let daemon = Daemon::start(&config, log.clone());
    let s = wait_for(
        &config,
        &daemon,
        150,
        "quick complete and slow running",
        |s| count(s, "quick", "complete") >= 1 && count(s, "slow", "running") == 1,
    );
    let cut_id = s
        .iter()
        .find(|x| x["scope"] == "slow")
        .and_then(|x| x["id"].as_str())
        .expect("slow id")
        .to_owned();
    let quick = s
        .iter()
        .find(|x| x["scope"] == "quick")
        .expect("quick")
        .clone();
    std::thread::sleep(Duration::from_secs(2));
    daemon.kill_9();

    // Right after the kill: the database is consistent; the cut scan is still "running".
    assert_eq!(integrity(dir.path()), "ok");
    let after_kill = daemon_history(&config);
    assert!(after_kill
        .iter()
        .any(|x| x["id"] == cut_id.as_str() && x["status"] == "running"));
    // With no daemon holding it, `status` calls that scan cut off.
    let st = slow_status(&config);
    assert_eq!(st["rerun_pending"], true, "{st:#}");

    // Restarted, the daemon marks it interrupted and runs it again at once.
    let daemon = Daemon::start(&config, log);
    let s = wait_for(
        &config,
        &daemon,
        90,
        "the re-run of the cut scan to complete",
        |s| {
            s.iter()
                .any(|x| x["rerun_of"] == cut_id.as_str() && x["status"] == "complete")
        },
    );
    let cut = s
        .iter()
        .find(|x| x["id"] == cut_id.as_str())
        .expect("cut scan kept");
    assert_eq!(cut["status"], "interrupted", "{cut:#}");
    assert!(
        cut["reason"].as_str().is_some_and(|r| r.contains("killed")),
        "{cut:#}"
    );
    let partial = PathBuf::from(cut["report_dir"].as_str().expect("dir"));
    assert!(
        !partial.exists(),
        "the unsealed folder of the cut scan is removed: {}",
        partial.display()
    );
    // The earlier scan's record and report are untouched.
    let quick_now = s
        .iter()
        .find(|x| x["id"] == quick["id"])
        .expect("quick kept");
    assert_eq!(quick_now["status"], "complete");
    verify(quick_now["report_dir"].as_str().expect("dir"));
    let rerun = s
        .iter()
        .find(|x| x["rerun_of"] == cut_id.as_str())
        .expect("rerun");
    verify(rerun["report_dir"].as_str().expect("dir"));
    assert!(
        daemon.log().contains(&format!("scan {cut_id} was cut off")),
        "{}",
        daemon.log()
    );

    // SIGTERM during a scan: a partial report, sealed and marked incomplete; exit 0.
    let rerun_id = rerun["id"].as_str().expect("id").to_owned();
    wait_for(&config, &daemon, 90, "another slow scan running", |s| {
        s.iter().any(|x| {
            x["scope"] == "slow" && x["status"] == "running" && x["id"] != rerun_id.as_str()
        })
    });
    // A scan the running daemon is doing is not a cut-off one.
    let st = slow_status(&config);
    assert_eq!(st["rerun_pending"], false, "{st:#}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(daemon.terminate(), Some(0));
    let s = daemon_history(&config);
    let stopped = s
        .iter()
        .find(|x| x["scope"] == "slow" && x["status"] == "partial")
        .unwrap_or_else(|| panic!("no partial scan: {s:#?}"));
    assert!(
        stopped["reason"]
            .as_str()
            .is_some_and(|r| r.contains("SIGTERM")),
        "{stopped:#}"
    );
    let report_dir = stopped["report_dir"].as_str().expect("dir");
    verify(report_dir);
    let report = read_report(Path::new(report_dir));
    assert_eq!(report["scan"]["complete"], false);
    assert!(s.iter().all(|x| x["status"] != "running"), "{s:#?}");
    assert_eq!(integrity(dir.path()), "ok");
    drop(session);
}

#[test]
fn a_daemon_in_a_fleet_records_its_site_and_queues_each_sealed_scan_in_the_outbox() {
    let _session = lab();
    let dir = out_dir();
    // The database address is in the lab range and nothing answers there: the scans
    // wait in the outbox (this binary may have no uploader at all; with one, each
    // try fails and is retried).
    let config = write_config(
        dir.path(),
        &format!(
            "[fleet]\nsite = \"osaka-general\"\n\
             db = \"postgresql://sensor:hunter2-s3cret@198.18.250.250:5432/kenshin\"\n\
             retry_min = \"1s\"\nretry_max = \"2s\"\n\
             [[scope]]\nname = \"svc2\"\ntargets = [\"{SERVICES2_ADDR}\"]\nschedule = \"* * * * *\"\n\
             [scope.settings]\nports = \"T:22\"\nsnmp = false\n"
        ),
    );
    let daemon = Daemon::start(&config, dir.path().join("daemon.log"));
    let done = wait_for(&config, &daemon, 150, "a complete scan", |s| {
        count(s, "svc2", "complete") >= 1
    });
    let log = daemon.log();
    assert_eq!(daemon.terminate(), Some(0));
    assert!(
        !log.contains("hunter2-s3cret"),
        "the password is never logged:\n{log}"
    );

    let scan = &done[0];
    let report_dir = scan["report_dir"].as_str().expect("report_dir");
    verify(report_dir);
    let report: Value = serde_json::from_slice(
        &std::fs::read(Path::new(report_dir).join("report.json")).expect("report.json"),
    )
    .expect("report JSON");
    assert_eq!(report["scan"]["site"], "osaka-general");

    let cfg = config.to_str().expect("utf-8");
    let o = kenshin_offline(&["status", "--json", "--config", cfg]);
    let status: Value = serde_json::from_slice(&o.stdout).expect("status JSON");
    let outbox = &status["fleet"]["outbox"];
    assert!(
        outbox["queued"].as_u64().is_some_and(|n| n >= 1),
        "{status:#}"
    );
    assert_eq!(outbox["done"], 0, "{status:#}");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("hunter2-s3cret"));
    let id = scan["id"].as_str().expect("id");
    let o = kenshin_offline(&["history", "--scan", id, "--json", "--config", cfg]);
    let detail: Value = serde_json::from_slice(&o.stdout).expect("scan JSON");
    assert_eq!(detail["upload"]["state"], "queued", "{detail:#}");
    assert_eq!(integrity(dir.path()), "ok");
}
