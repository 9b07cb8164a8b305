//! `kenshin status` reads the daemon's health file: a recording failure is shown
//! first, in both languages and in `--json`. Nothing here needs root or sends a packet
//! (the full-disk daemon itself is tests/full_disk.rs).

mod support;

use kenshin_daemon::health::{Health, Stage};
use support::{kenshin, stderr};

#[test]
fn status_shows_the_daemons_recording_failure_until_a_scan_is_recorded() {
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state");
    std::fs::create_dir(&state).expect("state");
    let cfg = dir.path().join("kenshin.toml");
    std::fs::write(
        &cfg,
        format!(
            "[daemon]\nstate_dir = \"{}\"\n[[scope]]\nname = \"servers\"\n\
             targets = [\"198.18.1.0/24\"]\nschedule = \"@daily\"\n",
            state.display()
        ),
    )
    .expect("config");
    let cfg = cfg.to_str().expect("utf-8");
    let health = Health::open(&state).expect("health");
    health.failed(
        "servers",
        "20261123T020000Z-5d1e07",
        Stage::Finish,
        "database or disk is full",
    );

    let o = kenshin(&["status", "--config", cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[1].starts_with("history: CANNOT RECORD scans since "),
        "{out}"
    );
    assert!(
        out.contains("scope \"servers\" scan 20261123T020000Z-5d1e07 (its sealed report is kept")
            && out.contains("reason: database or disk is full"),
        "{out}"
    );
    let o = kenshin(&["status", "--config", cfg, "--lang", "ja"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("履歴: 記録できません") && out.contains("理由: database or disk is full"),
        "{out}"
    );
    let o = kenshin(&["status", "--config", cfg, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["recording_failure"]["stage"], "finish", "{v:#}");
    assert_eq!(v["recording_failure"]["failures"], 1);

    health.recorded();
    let o = kenshin(&["status", "--config", cfg, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(v["recording_failure"].is_null(), "{v:#}");
    let o = kenshin(&["status", "--config", cfg]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("CANNOT RECORD"));
}

#[test]
fn a_reason_with_terminal_controls_is_shown_escaped_in_text_and_json() {
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state");
    std::fs::create_dir(&state).expect("state");
    let cfg = dir.path().join("kenshin.toml");
    std::fs::write(
        &cfg,
        format!("[daemon]\nstate_dir = \"{}\"\n", state.display()),
    )
    .expect("config");
    let cfg = cfg.to_str().expect("utf-8");
    // An error text can quote a file name: here one that would redraw the screen.
    let hostile = "cannot write /x/\r\x1b[2K\x1b[1Ahistory: ok\u{202e}kcatta";
    Health::open(&state).expect("health").failed(
        "servers",
        "20261123T020000Z-5d1e07",
        Stage::Start,
        hostile,
    );
    for args in [
        vec!["status", "--config", cfg],
        vec!["status", "--config", cfg, "--json"],
    ] {
        let o = kenshin(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            !out.contains('\x1b') && !out.contains('\r') && !out.contains('\u{202e}'),
            "{args:?}: {out:?}"
        );
    }
    let o = kenshin(&["status", "--config", cfg]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains(r"\r\x1b[2K\x1b[1Ahistory: ok\u{202e}kcatta"),
        "{out}"
    );
}
