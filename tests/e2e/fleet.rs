//! The fleet end to end: a real PostgreSQL in a headquarters namespace with TLS and
//! certificate authentication, two sensor namespaces that scan their own segments
//! and push outbound, ingest that verifies and files or quarantines, the rollup, the
//! refusals (another site's rows, another CA, bad input), the USB import and the
//! fleet page in Chromium.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kenshin_lab::fleet::{HQ_ADDR, HQ_NS, SITE_A_HOSTS, SITE_A_NS, SITE_B_HOSTS, SITE_B_NS};
use serde_json::Value;

use crate::browser::Browser;
use crate::support::{artifacts, fleet_lab, kenshin, out_dir, read_report, text};

/// Runs `kenshin ARGS` inside namespace `ns`.
pub(super) fn kenshin_in(ns: &str, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(kenshin())
        .args(args)
        .env("LANG", "C")
        .env_remove("KENSHIN_FLEET_DB")
        .output()
        .expect("kenshin runs")
}

pub(super) fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", text(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn refused(o: &Output, words: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "{}", text(o));
    let err = String::from_utf8_lossy(&o.stderr);
    for w in words {
        assert!(err.contains(w), "stderr lacks {w:?}: {}", text(o));
    }
}

/// A sensor's signing key, created on first use; returns (path, fingerprint).
pub(super) fn key(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(format!("{name}.pem"));
    let out = Command::new(kenshin())
        .args(["key", "--signing-key"])
        .arg(&path)
        .output()
        .expect("kenshin key runs");
    let stdout = ok(&out);
    let fp = stdout
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint:"))
        .expect("a fingerprint line")
        .trim()
        .to_owned();
    (path, fp)
}

/// A scan of a site's segment from its sensor, sealed with `key`.
fn scan(ns: &str, hosts: &[&str], key: &Path, out: &Path) -> Value {
    let key = key.to_string_lossy();
    let out_dir = out.to_string_lossy();
    let mut args = vec!["scan"];
    args.extend_from_slice(hosts);
    args.extend_from_slice(&[
        "-p",
        "22,23,3389",
        "-q",
        "--signing-key",
        &key,
        "-o",
        &out_dir,
    ]);
    let o = kenshin_in(ns, &args);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    read_report(out)
}

fn severities(report: &Value) -> std::collections::BTreeMap<String, i64> {
    let mut counts: std::collections::BTreeMap<String, i64> =
        ["critical", "high", "medium", "low", "info"]
            .iter()
            .map(|s| ((*s).to_owned(), 0))
            .collect();
    for f in report["findings"].as_array().expect("findings") {
        let accepted = f["disposition"]["status"] == "accepted";
        if !accepted {
            *counts
                .entry(f["severity"].as_str().expect("severity").to_owned())
                .or_default() += 1;
        }
    }
    counts
}

pub(super) fn ingest(admin: &str) -> Vec<Value> {
    let o = kenshin_in(
        HQ_NS,
        &["fleet", "ingest", "--db", admin, "--once", "--json"],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

pub(super) fn rollup(admin: &str) -> Value {
    let o = kenshin_in(HQ_NS, &["fleet", "report", "--db", admin, "--json"]);
    serde_json::from_str(&ok(&o)).expect("the rollup is JSON")
}

fn site<'a>(rollup: &'a Value, name: &str) -> &'a Value {
    rollup["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["site"] == name)
        .unwrap_or_else(|| panic!("no site {name} in {rollup:#}"))
}

/// A child process killed when dropped, so a failing test leaves no worker behind.
struct KillOnDrop(Option<std::process::Child>);

impl KillOnDrop {
    /// Kills the child and returns what it printed.
    fn stop(&mut self) -> Output {
        let mut child = self.0.take().expect("a running child");
        let _ = child.kill();
        child.wait_with_output().expect("the child's output")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn two_sites_push_over_tls_and_headquarters_files_only_what_verifies() {
    let lab = fleet_lab();
    let work = out_dir();
    let w = work.path();
    let admin = lab.cluster().admin_url();
    let url_a = lab.site_url("site_a", &lab.site_a);
    let url_b = lab.site_url("site_b", &lab.site_b);

    // The schema, twice: the second run changes nothing.
    assert!(ok(&kenshin_in(HQ_NS, &["fleet", "init", "--db", &admin])).contains("0 → 1"));
    assert!(ok(&kenshin_in(HQ_NS, &["fleet", "init", "--db", &admin])).contains("up to date"));

    let (key_a, fp_a) = key(w, "sensor-a");
    let (key_b, fp_b) = key(w, "sensor-b");
    let (key_rogue, _) = key(w, "rogue");
    let (key_old, fp_old) = key(w, "retired");
    for (site, fp) in [("site-a", &fp_a), ("site-b", &fp_b), ("site-a", &fp_old)] {
        ok(&kenshin_in(
            HQ_NS,
            &[
                "fleet", "sensor", "add", "--db", &admin, "--site", site, "--key", fp,
            ],
        ));
    }
    ok(&kenshin_in(
        HQ_NS,
        &[
            "fleet", "sensor", "revoke", "--db", &admin, "--site", "site-a", "--key", &fp_old,
        ],
    ));
    let listed = ok(&kenshin_in(
        HQ_NS,
        &["fleet", "sensor", "list", "--db", &admin, "--json"],
    ));
    let listed: Value = serde_json::from_str(&listed).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{listed:#}");

    // Each sensor scans its own segment and pushes outbound with its certificate.
    let dir_a = w.join("a-1");
    let dir_b = w.join("b-1");
    let report_a = scan(SITE_A_NS, &SITE_A_HOSTS, &key_a, &dir_a);
    let report_b = scan(SITE_B_NS, &SITE_B_HOSTS, &key_b, &dir_b);
    assert_eq!(
        report_a["hosts"].as_array().map(Vec::len),
        Some(2),
        "{report_a:#}"
    );
    assert_eq!(
        report_b["hosts"].as_array().map(Vec::len),
        Some(1),
        "{report_b:#}"
    );
    let pushed = ok(&kenshin_in(
        SITE_A_NS,
        &["fleet", "push", "--db", &url_a, &dir_a.to_string_lossy()],
    ));
    assert!(pushed.contains("pushed for site site-a"), "{pushed}");
    ok(&kenshin_in(
        SITE_B_NS,
        &["fleet", "push", "--db", &url_b, &dir_b.to_string_lossy()],
    ));
    // Pushing again sends nothing.
    let again = ok(&kenshin_in(
        SITE_A_NS,
        &["fleet", "push", "--db", &url_a, &dir_a.to_string_lossy()],
    ));
    assert!(again.contains("already received"), "{again}");

    let handled = ingest(&admin);
    assert_eq!(handled.len(), 2, "{handled:#?}");
    assert!(
        handled.iter().all(|h| h["outcome"] == "filed"),
        "{handled:#?}"
    );

    let r = rollup(&admin);
    for (name, report) in [("site-a", &report_a), ("site-b", &report_b)] {
        let s = site(&r, name);
        let hosts = report["hosts"].as_array().map_or(0, Vec::len) as i64;
        assert_eq!(s["last_complete_scan"]["hosts"], hosts, "{s:#}");
        assert_eq!(
            s["last_complete_scan"]["scan_id"], report["scan"]["id"],
            "{s:#}"
        );
        let by_kind: i64 = s["hosts_by_kind"]
            .as_object()
            .expect("kinds")
            .values()
            .filter_map(Value::as_i64)
            .sum();
        assert_eq!(by_kind, hosts, "{s:#}");
        let open: std::collections::BTreeMap<String, i64> =
            serde_json::from_value(s["open_by_severity"].clone()).expect("counts");
        assert_eq!(open, severities(report), "{name}: {s:#}");
        assert!(
            report["findings"].as_array().is_some_and(|f| !f.is_empty()),
            "a site with no findings would not test the counts: {report:#}"
        );
    }
    assert!(
        r["stale_sites"].as_array().is_some_and(Vec::is_empty),
        "{r:#}"
    );
    assert_eq!(
        r["checklist_matrix"]["rows"].as_array().map(Vec::len),
        Some(2),
        "{r:#}"
    );

    // A bundle edited after sealing is quarantined, naming the file.
    let dir_t = w.join("a-tampered");
    let tampered = scan(SITE_A_NS, &SITE_A_HOSTS, &key_a, &dir_t);
    let edited = std::fs::read_to_string(dir_t.join("report.json"))
        .expect("report.json")
        .replacen(
            tampered["hosts"][0]["address"].as_str().expect("address"),
            "198.18.51.99",
            1,
        );
    std::fs::write(dir_t.join("report.json"), edited).expect("edited");
    ok(&kenshin_in(
        SITE_A_NS,
        &["fleet", "push", "--db", &url_a, &dir_t.to_string_lossy()],
    ));
    // Signed by a key never enrolled, and by a revoked one.
    let dir_rogue = w.join("a-rogue");
    scan(SITE_A_NS, &SITE_A_HOSTS, &key_rogue, &dir_rogue);
    ok(&kenshin_in(
        SITE_A_NS,
        &[
            "fleet",
            "push",
            "--db",
            &url_a,
            &dir_rogue.to_string_lossy(),
        ],
    ));
    let dir_old = w.join("a-retired");
    scan(SITE_A_NS, &SITE_A_HOSTS, &key_old, &dir_old);
    ok(&kenshin_in(
        SITE_A_NS,
        &["fleet", "push", "--db", &url_a, &dir_old.to_string_lossy()],
    ));
    let handled = ingest(&admin);
    assert_eq!(handled.len(), 3, "{handled:#?}");
    assert!(
        handled.iter().all(|h| h["outcome"] == "quarantined"),
        "{handled:#?}"
    );
    assert_eq!(handled[0]["file"], "report.json", "{:#}", handled[0]);
    assert!(
        handled[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not enrolled")),
        "{:#}",
        handled[1]
    );
    assert!(
        handled[2]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("revoked")),
        "{:#}",
        handled[2]
    );
    let r = rollup(&admin);
    assert_eq!(r["quarantine"].as_array().map(Vec::len), Some(3), "{r:#}");
    assert_eq!(
        site(&r, "site-a")["last_complete_scan"]["scan_id"],
        report_a["scan"]["id"],
        "nothing quarantined was filed"
    );

    // Site A's certificate cannot push for site B, nor read B's rows or the runs.
    let dir_b2 = w.join("b-2");
    scan(SITE_B_NS, &SITE_B_HOSTS, &key_b, &dir_b2);
    let o = kenshin_in(
        SITE_A_NS,
        &[
            "fleet",
            "push",
            "--db",
            &url_a,
            "--site",
            "site-b",
            &dir_b2.to_string_lossy(),
        ],
    );
    refused(&o, &["site-b", "may not push"]);
    let psql = |sql: &str| {
        Command::new("ip")
            .args(["netns", "exec", SITE_A_NS, "psql", "-X", "-A", "-t", "-d"])
            .arg(format!(
                "host={HQ_ADDR} dbname=fleet user=site_a sslmode=verify-full sslrootcert={} sslcert={} sslkey={}",
                lab.ca.cert.display(),
                lab.site_a.cert.display(),
                lab.site_a.key.display()
            ))
            .args(["-c", sql])
            .output()
            .expect("psql runs")
    };
    let seen = psql("SELECT count(*) FROM fleet.inbox WHERE site = 'site-b'");
    assert_eq!(
        String::from_utf8_lossy(&seen.stdout).trim(),
        "0",
        "{}",
        text(&seen)
    );
    let own = psql("SELECT count(*) FROM fleet.inbox");
    assert_eq!(
        String::from_utf8_lossy(&own.stdout).trim(),
        "4",
        "{}",
        text(&own)
    );
    let runs = psql("SELECT count(*) FROM fleet.runs");
    assert!(
        String::from_utf8_lossy(&runs.stderr).contains("permission denied"),
        "{}",
        text(&runs)
    );

    // A certificate from another CA is refused, and retrying would not help.
    let url_stranger = lab.site_url("site_a", &lab.stranger);
    let o = kenshin_in(
        SITE_A_NS,
        &[
            "fleet",
            "push",
            "--db",
            &url_stranger,
            &dir_a.to_string_lossy(),
        ],
    );
    refused(
        &o,
        &[
            "refused the connection",
            "UnknownCA",
            "retrying will not help",
        ],
    );

    // Bad input: each named, exit 2, nothing sent.
    let o = kenshin_in(
        SITE_A_NS,
        &[
            "fleet",
            "push",
            "--db",
            "postgresql://site_a:hunter2@[bad/fleet",
            &dir_a.to_string_lossy(),
        ],
    );
    refused(&o, &["database URL"]);
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("hunter2"),
        "{}",
        text(&o)
    );
    let unreachable = lab
        .site_url("site_a", &lab.site_a)
        .replace(HQ_ADDR, "198.18.40.99");
    let o = kenshin_in(
        SITE_A_NS,
        &[
            "fleet",
            "push",
            "--db",
            &unreachable,
            &dir_a.to_string_lossy(),
        ],
    );
    refused(&o, &["cannot reach", "198.18.40.99", "retries later"]);
    let o = kenshin_in(
        SITE_A_NS,
        &["fleet", "push", "--db", &url_a, &w.to_string_lossy()],
    );
    refused(&o, &["not a sealed report folder", "manifest.json"]);

    // A certificate whose CN is another role is refused (pg_hba `cert`).
    let wrong_user = lab.site_url("site_b", &lab.site_a);
    let o = kenshin_in(
        SITE_A_NS,
        &[
            "fleet",
            "push",
            "--db",
            &wrong_user,
            &dir_a.to_string_lossy(),
        ],
    );
    refused(&o, &["refused the connection", "site_b"]);

    // A schema newer than this kenshin is refused by both versions, and nothing moves.
    lab.cluster()
        .psql_admin("INSERT INTO fleet.migrations (version, name) VALUES (99, 'from the future')")
        .expect("a newer schema version");
    let o = kenshin_in(HQ_NS, &["fleet", "init", "--db", &admin]);
    refused(&o, &["version 99", "(1)", "upgrade kenshin"]);
    let o = kenshin_in(
        SITE_A_NS,
        &["fleet", "push", "--db", &url_a, &dir_a.to_string_lossy()],
    );
    refused(&o, &["version 99"]);
    lab.cluster()
        .psql_admin("DELETE FROM fleet.migrations WHERE version = 99")
        .expect("back to the known schema");

    // A worker waiting for new bundles (no --once).
    let worker = Command::new("ip")
        .args(["netns", "exec", HQ_NS])
        .arg(kenshin())
        .args(["fleet", "ingest", "--db", &admin])
        .env("LANG", "C")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the ingest worker starts");
    let mut worker = KillOnDrop(Some(worker));

    // The USB case: a copy of site B's second scan, imported at the headquarters.
    let usb = w.join("usb/b-2");
    std::fs::create_dir_all(w.join("usb")).expect("usb folder");
    let cp = Command::new("cp")
        .arg("-a")
        .arg(&dir_b2)
        .arg(&usb)
        .status()
        .expect("cp");
    assert!(cp.success());
    let o = kenshin_in(
        HQ_NS,
        &[
            "fleet",
            "push",
            "--db",
            &admin,
            "--site",
            "site-b",
            &usb.to_string_lossy(),
        ],
    );
    assert!(ok(&o).contains("pushed for site site-b"));
    // The worker that was waiting on LISTEN/NOTIFY files it well before its
    // one-minute look-again.
    let filed_at = std::time::Instant::now();
    loop {
        let r = rollup(&admin);
        if site(&r, "site-b")["trend"].as_array().map(Vec::len) == Some(2) {
            break;
        }
        assert!(
            filed_at.elapsed() < std::time::Duration::from_secs(20),
            "the waiting worker did not file the USB bundle: {r:#}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let worker = worker.stop();
    let said = String::from_utf8_lossy(&worker.stdout);
    assert!(said.contains("filed scan"), "{said}");
    let r = rollup(&admin);
    assert_eq!(
        site(&r, "site-b")["trend"].as_array().map(Vec::len),
        Some(2),
        "both of site B's scans are in its trend: {r:#}"
    );

    // The fleet page: sealed, verified, rendered in Chromium without errors.
    let folder = w.join("fleet-report");
    let hq_key = w.join("hq.pem");
    ok(&kenshin_in(
        HQ_NS,
        &[
            "fleet",
            "report",
            "--db",
            &admin,
            "-o",
            &folder.to_string_lossy(),
            "--signing-key",
            &hq_key.to_string_lossy(),
        ],
    ));
    let verified = Command::new(kenshin())
        .arg("verify")
        .arg(&folder)
        .output()
        .expect("verify");
    ok(&verified);
    let html = folder.join("fleet.html");
    let page = std::fs::read_to_string(&html).expect("fleet.html");
    assert!(
        page.contains("拠点横断レポート") && page.contains("<svg"),
        "Japanese, with charts"
    );
    assert!(!page.contains("<script"), "no script");
    assert!(
        page.contains("登録されていません"),
        "the quarantine reasons in Japanese"
    );
    let mut b = Browser::start();
    b.open(&html);
    let errors = b.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert_eq!(b.eval("document.querySelectorAll('#trend svg').length"), 2);
    assert_eq!(
        b.eval("document.querySelectorAll('#quarantine tbody tr').length"),
        3
    );
    assert_eq!(
        b.eval("document.documentElement.scrollWidth <= window.innerWidth"),
        true,
        "the page fits the window's width (the matrix scrolls in its own box)"
    );
    let png = b.first_page_png();
    let shot = artifacts().join("fleet-report.png");
    std::fs::write(&shot, &png).expect("screenshot kept");
    let kept = artifacts().join("fleet.html");
    std::fs::copy(&html, &kept).expect("fleet.html kept");
    eprintln!(
        "fleet.html rendered: {} (page kept as {})",
        shot.display(),
        kept.display()
    );
}
