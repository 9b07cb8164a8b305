//! The sensor side of the fleet through the CLI: `check-config` shows `[fleet]` with
//! the database password redacted and refuses a malformed section by file, line and
//! key; `kenshin status` shows the outbox. Nothing here connects anywhere.

mod support;

use std::path::Path;

use kenshin_daemon::history::Store;
use support::{kenshin, stderr};

const PASSWORD: &str = "hunter2-s3cret";

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A configuration in `dir` with a `[fleet]` section `fleet`.
fn config(dir: &Path, fleet: &str) -> String {
    let p = dir.join("kenshin.toml");
    std::fs::write(
        &p,
        format!(
            "[daemon]\nstate_dir = \"{}\"\n[[scope]]\nname = \"servers\"\n\
             targets = [\"198.18.1.0/24\"]\nschedule = \"@daily\"\n{fleet}",
            dir.join("state").display()
        ),
    )
    .expect("write");
    p.to_string_lossy().into_owned()
}

fn fleet(extra: &str) -> String {
    format!(
        "[fleet]\nsite = \"osaka-general\"\n\
         db = \"postgresql://sensor:{PASSWORD}@198.18.9.1:5432/kenshin\"\n{extra}"
    )
}

#[test]
fn check_config_shows_the_site_and_the_database_with_its_password_redacted() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = dir.path().join("site.crt");
    let key = dir.path().join("site.key");
    let ca = dir.path().join("ca.crt");
    for f in [&cert, &key, &ca] {
        std::fs::write(f, "PEM").expect("write");
    }
    let cfg = config(
        dir.path(),
        &fleet(&format!(
            "client_cert = \"{}\"\nclient_key = \"{}\"\nca = \"{}\"\n",
            cert.display(),
            key.display(),
            ca.display()
        )),
    );
    let o = kenshin(&["check-config", &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("fleet site: osaka-general")
            && out.contains("pushes to: postgresql://sensor:***@198.18.9.1:5432/kenshin")
            && out.contains(&format!("client cert: {}", cert.display())),
        "{out}"
    );
    assert!(
        !out.contains(PASSWORD) && !stderr(&o).contains(PASSWORD),
        "{out}"
    );
    let o = kenshin(&["check-config", &cfg, "--lang", "ja"]);
    assert!(
        stdout(&o).contains("フリートのサイト: osaka-general"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_config_refuses_a_malformed_fleet_section_naming_file_line_and_key() {
    let dir = tempfile::tempdir().expect("dir");
    let cases = [
        // A client certificate without its key.
        (
            fleet("client_cert = \"/etc/kenshin/site.crt\"\n"),
            ":10:",
            "fleet.client_key",
        ),
        // A URL that is no PostgreSQL URL, with its password in it.
        (
            format!("[fleet]\nsite = \"osaka\"\ndb = \"https://sensor:{PASSWORD}@hq/\"\n"),
            ":9:",
            "fleet.db",
        ),
        // A key [fleet] does not know.
        (
            format!("[fleet]\nsite = \"osaka\"\npassword = \"{PASSWORD}\"\n"),
            ":9:",
            "`password`",
        ),
    ];
    for (section, line, key) in cases {
        let cfg = config(dir.path(), &section);
        let o = kenshin(&["check-config", &cfg]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{section}: {e}");
        assert!(
            e.contains(&format!("kenshin.toml{line}")) && e.contains(key),
            "{section}\n→ {e}"
        );
        assert!(!e.contains(PASSWORD), "the password is never shown: {e}");
    }
}

fn lab_report() -> kenshin_report::model::Report {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../report/tests/data/lab-report.json"
    );
    serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("report")
}

#[test]
fn status_shows_what_waits_in_the_outbox_the_last_error_and_the_next_try() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = config(dir.path(), &fleet(""));
    let state = dir.path().join("state");
    std::fs::create_dir(&state).expect("state");
    {
        // The daemon recorded two scans with [fleet] db set; the first push failed.
        let store = Store::open(&state.join("history.db"))
            .expect("open")
            .queueing(true);
        for id in ["20261123T020000Z-aaaaaa", "20261124T020000Z-bbbbbb"] {
            let folder = state.join("reports/servers").join(id);
            store
                .begin(id, "servers", "2026-11-23T02:00:00Z", &folder, None)
                .expect("begin");
            store
                .finish(id, &lab_report(), &folder, None, None, None)
                .expect("finish");
        }
        let head = store.outbox().head().expect("head").expect("queued");
        store
            .outbox()
            .retry_at(
                head.seq,
                "2030-01-01T00:00:00Z",
                "connection refused (198.18.9.1:5432)",
            )
            .expect("retry");
    }
    let o = kenshin(&["status", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "fleet: site \"osaka-general\" → postgresql://sensor:***@198.18.9.1:5432/kenshin"
        ) && out.contains("outbox: 2 waiting (oldest ")
            && out.contains("next try: 2030-01-01 09:00 +09:00 (1 failed tries)")
            && out.contains("last error: connection refused (198.18.9.1:5432)"),
        "{out}"
    );
    assert!(!out.contains(PASSWORD), "{out}");

    let o = kenshin(&["status", "--config", &cfg, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let outbox = &v["fleet"]["outbox"];
    assert_eq!(outbox["queued"], 2, "{v:#}");
    assert_eq!(outbox["attempts"], 1);
    assert_eq!(outbox["next_try_at"], "2030-01-01T00:00:00Z");
    assert!(outbox["oldest_age_s"].as_i64().is_some_and(|s| s >= 0));
    assert_eq!(v["fleet"]["site"], "osaka-general");
    assert!(!String::from_utf8_lossy(&o.stdout).contains(PASSWORD));

    let o = kenshin(&["status", "--config", &cfg, "--lang", "ja"]);
    assert!(stdout(&o).contains("送信待ち: 2 件"), "{}", stdout(&o));

    // The scan's own history says where its push stands.
    let scan = "20261123T020000Z-aaaaaa";
    let o = kenshin(&["history", "--config", &cfg, "--scan", scan]);
    assert!(
        stdout(&o).contains("fleet: waiting (1 failed tries: connection refused"),
        "{}",
        stdout(&o)
    );
    let o = kenshin(&["history", "--config", &cfg, "--scan", scan, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["upload"]["state"], "queued", "{v:#}");
    assert_eq!(v["upload"]["attempts"], 1);
}
