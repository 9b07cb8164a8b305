//! `kenshin fleet` refuses bad input before it connects anywhere: a malformed or
//! weakened database URL, a folder that is not a sealed report, a report with
//! nowhere to go. Each exits 2 naming the thing, and no password is ever shown.
//! (The database itself is exercised by the lab test tests/e2e/fleet.rs.)

mod support;
use support::{kenshin, stderr};

/// Runs `kenshin ARGS` and asserts it exits 2 naming `must_name`.
fn refused(args: &[&str], must_name: &str) {
    let o = kenshin(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    assert!(
        stderr(&o).contains(must_name),
        "{args:?}: the error does not name {must_name:?}: {}",
        stderr(&o)
    );
}

#[test]
fn a_malformed_database_url_is_named_without_its_password() {
    let out = kenshin(&[
        "fleet",
        "init",
        "--db",
        "postgresql://hq:hunter2@[bad/fleet",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("database URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn a_weaker_sslmode_than_verify_full_is_refused() {
    refused(
        &[
            "fleet",
            "init",
            "--db",
            "postgresql://hq:hunter2@198.18.40.10/fleet?sslmode=require",
        ],
        "sslmode=verify-full",
    );
}

#[test]
fn another_scheme_is_refused_by_name() {
    refused(
        &["fleet", "init", "--db", "mysql://hq@198.18.40.10/fleet"],
        "scheme",
    );
}

#[test]
fn a_folder_that_is_not_a_sealed_report_is_named_before_connecting() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("report.json"), b"{}").expect("write");
    let path = dir.path().to_string_lossy().into_owned();
    // The database URL points nowhere: the folder is judged first.
    let out = kenshin(&[
        "fleet",
        "push",
        "--db",
        "postgresql://site_a@198.18.40.10/fleet",
        &path,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("not a sealed report folder"), "{err}");
    assert!(err.contains("manifest.json"), "{err}");
}

#[test]
fn a_report_needs_somewhere_to_go() {
    refused(
        &[
            "fleet",
            "report",
            "--db",
            "postgresql://hq@198.18.40.10/fleet",
        ],
        "--json",
    );
}

#[test]
fn an_enrolment_key_must_be_a_fingerprint() {
    refused(
        &[
            "fleet",
            "sensor",
            "add",
            "--db",
            "postgresql://hq@%2Fnonexistent%2Fsock/fleet",
            "--site",
            "site-a",
            "--key",
            "not-a-key",
        ],
        "SHA256:",
    );
}
