use std::path::Path;

use kenshin_report::model::Report;

use super::*;

fn lab_report() -> Report {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../report/tests/data/lab-report.json"
    );
    serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("report")
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("dir");
    let s = Store::open(&dir.path().join("history.db")).expect("open");
    (dir, s)
}

#[test]
fn a_new_database_is_in_wal_mode_private_and_consistent() {
    let (dir, s) = store();
    let mode: String = s
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
    assert_eq!(s.integrity().expect("check"), "ok");
    use std::os::unix::fs::PermissionsExt;
    let perm = std::fs::metadata(dir.path().join("history.db"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(perm & 0o007, 0, "others may not read the history: {perm:o}");
}

#[test]
fn a_finished_scan_keeps_its_hosts_services_and_findings() {
    let (_d, s) = store();
    let r = lab_report();
    s.begin(
        "scan-1",
        "servers",
        "2026-11-20T13:00:00Z",
        Path::new("/r/.scan-1.partial"),
        None,
    )
    .expect("begin");
    s.finish("scan-1", &r, Path::new("/r/scan-1"), None, None, None)
        .expect("finish");
    let row = s.scan("scan-1").expect("query").expect("row");
    assert_eq!(row.status, Status::Complete);
    assert_eq!(row.report_dir.as_deref(), Some("/r/scan-1"));
    assert_eq!(row.hosts_up, Some(5));
    assert_eq!(
        row.findings,
        Some(i64::try_from(r.findings.len()).expect("small"))
    );
    assert_eq!(
        s.baseline("servers").expect("q").map(|b| b.id),
        Some("scan-1".to_owned())
    );
    let t = s.host_timeline("198.18.3.30").expect("timeline");
    assert_eq!(t.len(), 1);
    let seen = t[0].seen.as_ref().expect("seen");
    assert_eq!(seen.services, ["3389/tcp rdp"]);
}

#[test]
fn a_scan_still_running_at_start_up_is_marked_interrupted_and_nothing_else_changes() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("history.db");
    {
        let s = Store::open(&db).expect("open");
        s.begin(
            "scan-1",
            "servers",
            "2026-11-20T13:00:00Z",
            Path::new("/r/scan-1"),
            None,
        )
        .expect("begin");
        s.finish(
            "scan-1",
            &lab_report(),
            Path::new("/r/scan-1"),
            None,
            None,
            None,
        )
        .expect("finish");
        s.begin(
            "scan-2",
            "servers",
            "2026-11-21T13:00:00Z",
            Path::new("/r/.scan-2.partial"),
            None,
        )
        .expect("begin");
        // The process dies here: the connection is dropped without another word.
    }
    let s = Store::open(&db).expect("reopen");
    let cut = s.mark_interrupted("2026-11-21T13:05:00Z").expect("mark");
    assert_eq!(
        cut.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["scan-2"]
    );
    let rows = s.scans(Some("servers"), 10).expect("list");
    assert_eq!(rows[0].status, Status::Interrupted);
    assert!(rows[0]
        .reason
        .as_deref()
        .is_some_and(|r| r.contains("killed")));
    assert_eq!(rows[1].status, Status::Complete);
    assert_eq!(
        s.baseline("servers").expect("q").map(|b| b.id),
        Some("scan-1".to_owned())
    );
    assert!(s.mark_interrupted("later").expect("again").is_empty());
}

#[test]
fn forgetting_a_scan_removes_its_rows_only() {
    let (_d, s) = store();
    let r = lab_report();
    for id in ["a", "b"] {
        s.begin(
            id,
            "servers",
            &format!("2026-11-2{}T00:00:00Z", if id == "a" { 0 } else { 1 }),
            Path::new("/r"),
            None,
        )
        .expect("begin");
        s.finish(id, &r, Path::new("/r"), None, None, None)
            .expect("finish");
    }
    s.record_notification("a", "webhook http://x/", &Ok(1))
        .expect("record");
    s.forget("a").expect("forget");
    assert!(s.scan("a").expect("q").is_none());
    assert!(s.notifications("a").expect("q").is_empty());
    let n: i64 = s
        .conn
        .query_row("SELECT COUNT(*) FROM hosts WHERE scan_id = 'a'", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(n, 0);
    assert_eq!(s.scans(None, 10).expect("list").len(), 1);
    assert_eq!(s.integrity().expect("check"), "ok");
}

#[test]
fn a_database_from_a_newer_kenshin_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("history.db");
    drop(Store::open(&db).expect("open"));
    let c = Connection::open(&db).expect("raw");
    c.pragma_update(None, "user_version", 99).expect("bump");
    drop(c);
    let e = Store::open(&db).expect_err("newer").to_string();
    assert!(e.contains("schema version 99"), "{e}");
}
