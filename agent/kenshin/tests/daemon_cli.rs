//! The daemon's commands through the CLI: check-config, status, history and
//! host-check. Nothing here sends a packet.

mod support;

use std::path::Path;

use support::{kenshin, stderr};

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn config(dir: &Path, body: &str) -> String {
    let p = dir.join("kenshin.toml");
    std::fs::write(
        &p,
        format!(
            "[daemon]\nstate_dir = \"{}\"\n{body}",
            dir.join("state").display()
        ),
    )
    .expect("write");
    p.to_string_lossy().into_owned()
}

#[test]
fn check_config_accepts_the_shipped_default_and_shows_each_scopes_next_runs() {
    let o = kenshin(&["check-config", &repo("packaging/kenshin.toml")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("no scopes"), "{}", stdout(&o));

    let dir = tempfile::tempdir().expect("dir");
    let cfg = config(
        dir.path(),
        "[[scope]]\nname = \"servers\"\ntargets = [\"198.18.1.0/24\"]\nschedule = \"0 2 * * *\"\nwindow = \"22:00-06:00\"\n",
    );
    let o = kenshin(&["check-config", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("scope \"servers\"") && out.contains("window 22:00-06:00"),
        "{out}"
    );
    assert!(
        out.contains("next runs:") && out.contains("02:00 +09:00"),
        "{out}"
    );
    let o = kenshin(&["check-config", "--config", &cfg, "--lang", "ja"]);
    assert!(
        stdout(&o).contains("は正しい設定です") && stdout(&o).contains("次回"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_config_refuses_an_unknown_key_with_exit_2_naming_file_line_and_key() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = config(
        dir.path(),
        "[[scope]]\nname = \"servers\"\ntargets = [\"198.18.1.0/24\"]\nschedule = \"0 2 * * *\"\nshedule = \"x\"\n",
    );
    let o = kenshin(&["check-config", &cfg]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("kenshin.toml:7:") && e.contains("`shedule`") && e.contains("[[scope]]"),
        "{e}"
    );
    let o = kenshin(&["check-config", "/nonexistent/kenshin.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/kenshin.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn status_and_history_before_any_scan_say_so() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = config(
        dir.path(),
        "[[scope]]\nname = \"servers\"\ntargets = [\"198.18.1.0/24\"]\nschedule = \"@daily\"\n",
    );
    let o = kenshin(&["status", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("daemon: not running") && out.contains("last: -") && out.contains("next: "),
        "{out}"
    );
    let o = kenshin(&["status", "--config", &cfg, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["scopes"][0]["scope"], "servers");
    assert!(v["daemon_pid"].is_null());
    let o = kenshin(&["history", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no history at"), "{}", stderr(&o));
}

#[test]
fn host_check_lists_listeners_and_judges_the_ones_the_network_can_reach() {
    // A VNC-port listener on every address, and one on loopback only.
    let exposed = std::net::TcpListener::bind("0.0.0.0:5900")
        .or_else(|_| std::net::TcpListener::bind("0.0.0.0:5901"))
        .expect("bind a VNC port");
    let port = exposed.local_addr().expect("addr").port();
    let local = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let local_port = local.local_addr().expect("addr").port();

    let o = kenshin(&["host-check", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a finding above info: {}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["kind"], "kenshin.host-check/1");
    assert!(v["host"]["kernel"].as_str().is_some_and(|k| !k.is_empty()));
    assert!(v["processes"]["count"].as_u64().is_some_and(|n| n > 1));
    let listening = v["listening"].as_array().expect("listening");
    let find = |p: u16| {
        listening
            .iter()
            .find(|l| l["port"] == p && l["protocol"] == "tcp")
    };
    let vnc = find(port).unwrap_or_else(|| panic!("port {port} not listed: {v:#}"));
    assert_eq!(vnc["exposed"], true);
    assert_eq!(vnc["service"], "vnc");
    assert_eq!(
        find(local_port).expect("loopback listener")["exposed"],
        false
    );
    let findings = v["findings"].as_array().expect("findings");
    let f = findings
        .iter()
        .find(|f| f["port"] == port)
        .unwrap_or_else(|| panic!("no finding on {port}: {v:#}"));
    assert!(
        f["requirements"].as_array().is_some_and(|r| !r.is_empty()),
        "{f:#}"
    );
    assert!(
        !findings.iter().any(|f| f["port"] == local_port),
        "a loopback-only service is not exposed"
    );
    let o = kenshin(&["host-check", "--lang", "en"]);
    let out = stdout(&o);
    assert!(
        out.contains("listening services") && out.contains("[local only]"),
        "{out}"
    );
    drop((exposed, local));
}

#[test]
fn check_config_quiet_prints_nothing_and_answers_by_exit_code() {
    let dir = tempfile::tempdir().expect("dir");
    let good = config(
        dir.path(),
        "[[scope]]\nname = \"servers\"\ntargets = [\"198.18.1.0/24\"]\nschedule = \"@daily\"\n",
    );
    let o = kenshin(&["-q", "check-config", &good]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    let bad = config(dir.path(), "[retention]\nkeep_scans = 0\n");
    let o = kenshin(&["check-config", "-q", &bad]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        o.stdout.is_empty() && stderr(&o).contains("keep_scans"),
        "{}",
        stderr(&o)
    );
}
