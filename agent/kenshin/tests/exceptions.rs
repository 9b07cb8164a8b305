//! Finding groups and the accepted-risk register through the real program, on loopback
//! only: a Telnet-like and an FTP-like service give findings; `--exceptions` accepts,
//! lets expire, or leaves unused; a malformed register is refused naming file, line and
//! key before any packet; `kenshin diff` names findings that became accepted or came
//! back; `check-config` refuses a daemon configuration whose register is malformed.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

mod support;
use support::{kenshin, refused, stderr};

/// A loopback service that greets with `greeting`, holds the connection a moment, and
/// counts the connections it was sent.
struct Listener {
    port: u16,
    connections: Arc<AtomicUsize>,
}

fn listen(greeting: &'static [u8]) -> Listener {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let _ = conn.write_all(greeting);
                std::thread::sleep(Duration::from_secs(3));
            });
        }
    });
    Listener { port, connections }
}

fn telnet() -> Listener {
    listen(b"\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01login: ")
}

fn ftp() -> Listener {
    listen(b"220 (vsFTPd 3.0.3)\r\n")
}

/// An exception entry accepting `check` on loopback, approved and expiring as given.
fn entry(id: &str, check: &str, hosts: &str, approved_on: &str, expires: &str) -> String {
    format!(
        "[[exception]]\nid = \"{id}\"\ncheck = \"{check}\"\nhosts = [\"{hosts}\"]\n\
         reason = {{ ja = \"保守 VLAN からのみ到達可能\", en = \"Reachable only from the maintenance VLAN\" }}\n\
         approved_by = \"情報システム課 山田\"\napproved_on = {approved_on}\nexpires = {expires}\n\n"
    )
}

/// A register in force on any day of the coming months.
fn in_force(id: &str, check: &str, hosts: &str) -> String {
    let today = time::OffsetDateTime::now_utc().date();
    let expires = today.saturating_add(time::Duration::days(90));
    entry(id, check, hosts, &today.to_string(), &expires.to_string())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write the register");
    p
}

struct Scanned {
    code: Option<i32>,
    summary: String,
    json: Value,
    html: String,
    csv: String,
}

/// Scans both services into `dir/name` with `extra` flags.
fn scan(dir: &Path, name: &str, telnet: &Listener, ftp: &Listener, extra: &[&str]) -> Scanned {
    let folder = dir.join(name);
    let ports = format!("{},{}", telnet.port, ftp.port);
    let mut args = vec![
        "scan",
        "127.0.0.1",
        "-p",
        &ports,
        "--no-snmp",
        "-o",
        folder.to_str().expect("utf-8"),
    ];
    args.extend(extra);
    let o = kenshin(&args);
    let read = |f: &str| std::fs::read_to_string(folder.join(f)).expect(f);
    Scanned {
        code: o.status.code(),
        summary: String::from_utf8_lossy(&o.stdout).into_owned(),
        json: serde_json::from_str(&read("report.json")).expect("report.json"),
        html: read("report.html"),
        csv: read("checklist.csv"),
    }
}

fn findings(r: &Value) -> &Vec<Value> {
    r["findings"].as_array().expect("findings")
}

fn finding<'a>(r: &'a Value, check: &str) -> &'a Value {
    findings(r)
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding in {r:#}"))
}

fn exception<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["exceptions"]
        .as_array()
        .expect("exceptions")
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no exception {id}"))
}

/// Every finding is in exactly one group, and every group member is a finding.
fn assert_grouped_once(r: &Value) {
    let mut members: Vec<&str> = r["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["findings"].as_array().expect("members"))
        .map(|f| f.as_str().expect("id"))
        .collect();
    members.sort_unstable();
    let mut ids: Vec<&str> = findings(r)
        .iter()
        .map(|f| f["id"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    assert_eq!(members, ids, "each finding in exactly one group");
}

#[test]
fn an_accepted_finding_stays_in_the_report_but_leaves_the_exit_code() {
    let (telnet, ftp) = (telnet(), ftp());
    let dir = tempfile::tempdir().expect("temp");
    let register = in_force("EX-T-001", "service.telnet", "127.0.0.0/8")
        + &in_force("EX-T-002", "service.ftp-cleartext", "127.0.0.1");
    let register = write(dir.path(), "exceptions.toml", &register);
    let open = scan(dir.path(), "open", &telnet, &ftp, &[]);
    assert_eq!(open.code, Some(1), "telnet and FTP are findings");
    assert_grouped_once(&open.json);
    assert!(
        open.summary.contains("finding groups: "),
        "{}",
        open.summary
    );

    let accepted = scan(
        dir.path(),
        "accepted",
        &telnet,
        &ftp,
        &["--exceptions", register.to_str().expect("utf-8")],
    );
    assert_eq!(
        accepted.code,
        Some(0),
        "accepted risks do not count: {}",
        accepted.summary
    );
    let r = &accepted.json;
    assert_eq!(r["contract"], "kenshin.report/1.2");
    let telnet_finding = finding(r, "service.telnet");
    assert_eq!(telnet_finding["disposition"]["status"], "accepted");
    assert_eq!(telnet_finding["disposition"]["exception"], "EX-T-001");
    assert_eq!(exception(r, "EX-T-001")["status"], "active");
    assert_eq!(
        exception(r, "EX-T-001")["matched"][0],
        telnet_finding["id"],
        "the register lists what it accepted"
    );
    assert_grouped_once(r);
    assert!(
        accepted.summary.contains("2 findings accepted as risks"),
        "{}",
        accepted.summary
    );
    // The page has its accepted-risks section; the checklist keeps いいえ and cites it.
    assert!(accepted.html.contains("受容済みリスク") && accepted.html.contains("EX-T-001"));
    let telnet_row = accepted
        .csv
        .lines()
        .find(|l| l.contains("受容: EX-T-001"))
        .unwrap_or_else(|| panic!("the checklist cites the exception: {}", accepted.csv));
    assert!(telnet_row.contains("\"いいえ\""), "{telnet_row}");
    assert!(telnet_row.contains("受容済みリスク"), "{telnet_row}");
}

#[test]
fn an_expired_exception_no_longer_applies_and_is_listed_as_expired() {
    let (telnet, ftp) = (telnet(), ftp());
    let dir = tempfile::tempdir().expect("temp");
    let register = entry(
        "EX-OLD-001",
        "service.telnet",
        "127.0.0.1",
        "2025-01-01",
        "2025-06-30",
    );
    let register = write(dir.path(), "exceptions.toml", &register);
    let s = scan(
        dir.path(),
        "expired",
        &telnet,
        &ftp,
        &["--exceptions", register.to_str().expect("utf-8")],
    );
    assert_eq!(s.code, Some(1), "the finding is open again");
    assert_eq!(
        finding(&s.json, "service.telnet")["disposition"]["status"],
        "open"
    );
    assert_eq!(exception(&s.json, "EX-OLD-001")["status"], "expired");
    assert!(s.html.contains("期限切れ"), "the page lists it as expired");
}

#[test]
fn an_exception_that_matches_nothing_is_listed_as_unused() {
    let (telnet, ftp) = (telnet(), ftp());
    let dir = tempfile::tempdir().expect("temp");
    let register = in_force("EX-NONE-001", "smb.v1-enabled", "198.18.200.0/24");
    let register = write(dir.path(), "exceptions.toml", &register);
    let s = scan(
        dir.path(),
        "unused",
        &telnet,
        &ftp,
        &["--exceptions", register.to_str().expect("utf-8")],
    );
    let ex = exception(&s.json, "EX-NONE-001");
    assert_eq!(ex["status"], "unused");
    assert_eq!(ex["matched"].as_array().map(Vec::len), Some(0));
    assert!(s.html.contains("未使用"), "the page lists it as unused");
}

#[test]
fn a_malformed_register_is_refused_naming_file_line_and_key_before_any_packet() {
    let telnet = telnet();
    let dir = tempfile::tempdir().expect("temp");
    let good = entry(
        "EX-1",
        "service.telnet",
        "127.0.0.1",
        "2026-11-30",
        "2027-03-31",
    );
    let cases = [
        (
            "missing-expires",
            good.replace("expires = 2027-03-31\n", ""),
            ":1: expires",
        ),
        (
            "too-far",
            good.replace("2027-03-31", "2028-03-31"),
            ":8: expires",
        ),
        (
            "unknown-check",
            good.replace("service.telnet", "service.telnett"),
            ":3: check",
        ),
        (
            "bad-address",
            good.replace("\"127.0.0.1\"", "\"127.0.0.300\""),
            ":4: hosts",
        ),
    ];
    let port = telnet.port.to_string();
    for (name, text, at) in cases {
        let path = write(dir.path(), &format!("{name}.toml"), &text);
        let path = path.to_str().expect("utf-8");
        refused(
            &["scan", "127.0.0.1", "-p", &port, "--exceptions", path],
            &format!("{path}{at}"),
        );
    }
    assert_eq!(
        telnet.connections.load(Ordering::SeqCst),
        0,
        "nothing was sent to the target"
    );
}

#[test]
fn diff_names_findings_that_became_accepted_and_that_came_back() {
    let (telnet, ftp) = (telnet(), ftp());
    let dir = tempfile::tempdir().expect("temp");
    let register = in_force("EX-D-001", "service.telnet", "127.0.0.1");
    let register = write(dir.path(), "exceptions.toml", &register);
    scan(dir.path(), "before", &telnet, &ftp, &[]);
    let flag = ["--exceptions", register.to_str().expect("utf-8")];
    scan(dir.path(), "after", &telnet, &ftp, &flag);
    let path = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let o = kenshin(&["diff", &path("before"), &path("after")]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("findings now accepted as risks (1)") && out.contains("Telnet"),
        "{out}{}",
        stderr(&o)
    );
    let o = kenshin(&["diff", &path("after"), &path("before")]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("findings open again (exception expired or removed) (1)"),
        "{out}{}",
        stderr(&o)
    );
}

#[test]
fn check_config_refuses_a_daemon_register_that_is_malformed() {
    let dir = tempfile::tempdir().expect("temp");
    let register = write(
        dir.path(),
        "exceptions.toml",
        &entry(
            "EX-1",
            "service.telnet",
            "198.18.1.1",
            "2026-11-30",
            "2027-12-31",
        ),
    );
    let cfg = dir.path().join("kenshin.toml");
    std::fs::write(
        &cfg,
        format!(
            "[daemon]\nstate_dir = \"{}\"\nexceptions = \"{}\"\n\n[[scope]]\nname = \"servers\"\n\
             targets = [\"198.18.1.0/24\"]\nschedule = \"@daily\"\n",
            dir.path().join("state").display(),
            register.display()
        ),
    )
    .expect("write the configuration");
    let o = kenshin(&["check-config", "--config", cfg.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("{}:8: expires", register.display())),
        "{e}"
    );
}
