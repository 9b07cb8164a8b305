use std::path::Path;

use kenshin_report::model::Report;
use time::OffsetDateTime;

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

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
}

#[test]
fn a_new_database_is_in_wal_mode_private_and_consistent() {
    let (dir, s) = store();
    let mode_of = |name: &str| mode(&dir.path().join(name));
    let journal: String = s
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("mode");
    assert_eq!(journal, "wal");
    assert_eq!(s.integrity().expect("check"), "ok");
    s.begin(
        "a",
        "servers",
        "2026-11-20T13:00:00Z",
        Path::new("/r"),
        None,
    )
    .expect("begin");
    // Only the daemon's user: not its group either (issue 20, item 7).
    for name in ["history.db", "history.db-wal", "history.db-shm"] {
        assert_eq!(mode_of(name), 0o600, "{name} is {:o}", mode_of(name));
    }
}

#[test]
fn a_database_an_earlier_kenshin_created_0640_is_made_private_when_opened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("history.db");
    drop(Store::open(&db).expect("open"));
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let s = Store::open(&db).expect("reopen");
    assert_eq!(mode(&db), 0o600);
    s.begin(
        "a",
        "servers",
        "2026-11-20T13:00:00Z",
        Path::new("/r"),
        None,
    )
    .expect("begin");
    assert_eq!(mode(&dir.path().join("history.db-wal")), 0o600);
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
    let cut = s.running(None).expect("running");
    assert_eq!(
        cut.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["scan-2"]
    );
    assert_eq!(s.running(Some("other")).expect("running").len(), 0);
    s.interrupt(
        "scan-2",
        "2026-11-21T13:05:00Z",
        "the daemon stopped during the scan (killed or crashed); no report was written",
    )
    .expect("mark");
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
    assert!(s.running(None).expect("again").is_empty());
    // A scan that is not running any more is never marked.
    s.interrupt("scan-1", "later", "no").expect("mark");
    assert_eq!(
        s.scan("scan-1").expect("q").expect("row").status,
        Status::Complete
    );
}

#[test]
fn the_baseline_of_a_scan_is_the_last_complete_scan_before_it() {
    let (_d, s) = store();
    let r = lab_report();
    for (id, day) in [("a", 20), ("late", 21), ("c", 22)] {
        s.begin(
            id,
            "servers",
            &format!("2026-11-{day}T00:00:00Z"),
            Path::new("/r"),
            None,
        )
        .expect("begin");
    }
    for id in ["a", "c"] {
        s.finish(id, &r, Path::new("/r"), None, None, None)
            .expect("finish");
    }
    // "late" is recorded after "c" (adopted at a restart): compared with "a".
    let b = |id: &str| s.baseline_before("servers", id).expect("q").map(|b| b.id);
    assert_eq!(b("late").as_deref(), Some("a"));
    assert_eq!(b("c").as_deref(), Some("a"));
    assert_eq!(b("a"), None);
    assert_eq!(b("unknown"), None);
}

#[test]
fn a_read_only_open_sees_what_a_running_writer_committed_and_writes_nothing() {
    let (dir, writer) = store();
    let db = dir.path().join("history.db");
    writer
        .begin(
            "a",
            "servers",
            "2026-11-20T13:00:00Z",
            Path::new("/r"),
            None,
        )
        .expect("begin");
    // The row is in the writer's WAL, not yet in the database file.
    let before = std::fs::read(&db).expect("db");
    let reader = Store::open_read_only(&db).expect("open").expect("a store");
    assert_eq!(
        reader.scans(None, 10).expect("list")[0].status,
        Status::Running
    );
    writer
        .finish("a", &lab_report(), Path::new("/r/a"), None, None, None)
        .expect("finish");
    assert_eq!(
        reader.scan("a").expect("q").expect("row").status,
        Status::Complete,
        "a later read sees a later commit"
    );
    let e = reader
        .conn
        .execute("DELETE FROM scans", [])
        .expect_err("a read-only store refuses writes");
    assert!(e.to_string().contains("readonly"), "{e}");
    drop(reader);
    assert_eq!(std::fs::read(&db).expect("db"), before);
}

#[test]
fn a_read_only_open_reads_with_a_shared_memory_index_it_may_not_write() {
    // What the fallback does on a full disk: the -shm is opened read-only and SQLite
    // reads the WAL itself. Here the writer has closed, so no process maintains the
    // index (the full-disk case itself is tests/full_disk.rs in agent/kenshin).
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("history.db");
    {
        let w = Store::open(&db).expect("open");
        w.begin(
            "a",
            "servers",
            "2026-11-20T13:00:00Z",
            Path::new("/r"),
            None,
        )
        .expect("begin");
    }
    let mut shm = db.as_os_str().to_owned();
    shm.push("-shm");
    std::fs::write(&shm, b"\0\0\0").expect("a left-over 3-byte index");
    let db_bytes = std::fs::read(&db).expect("db");
    let s = Store::open_read_only_with(&db, true)
        .expect("open")
        .expect("a store");
    assert_eq!(s.scans(None, 10).expect("list").len(), 1);
    drop(s);
    assert_eq!(
        std::fs::read(&shm).expect("shm"),
        b"\0\0\0",
        "the index is untouched"
    );
    assert_eq!(std::fs::read(&db).expect("db"), db_bytes);
}

#[test]
fn a_read_only_open_of_no_database_or_an_empty_one_finds_none() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("history.db");
    assert!(Store::open_read_only(&db).expect("open").is_none());
    assert!(!db.exists(), "nothing is created");
    std::fs::write(&db, b"").expect("empty file");
    assert!(Store::open_read_only(&db).expect("open").is_none());
}

#[test]
fn a_path_with_uri_characters_is_opened_as_itself() {
    let dir = tempfile::tempdir().expect("dir");
    let sub = dir.path().join("state?mode=rwc#x%41 ü");
    std::fs::create_dir(&sub).expect("dir");
    let db = sub.join("history.db");
    drop(Store::open(&db).expect("open"));
    assert!(Store::open_read_only(&db).expect("open").is_some());
    assert!(!dir.path().join("state").exists());
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

#[test]
fn a_version_1_database_gains_the_outbox_when_opened_and_reads_as_empty_until_then() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("history.db");
    {
        // A database as kenshin wrote it before the outbox: schema 1, one scan.
        let c = Connection::open(&db).expect("raw");
        c.execute_batch(SCHEMA).expect("schema 1");
        c.pragma_update(None, "user_version", 1).expect("v1");
        c.execute(
            "INSERT INTO scans (id, scope, status, started_at) VALUES ('old', 's', 'complete', '2026-11-01T00:00:00Z')",
            [],
        )
        .expect("row");
    }
    let read = Store::open_read_only(&db)
        .expect("reads")
        .expect("has schema");
    assert_eq!(
        read.outbox().summary(OffsetDateTime::now_utc()).expect("q"),
        None
    );
    drop(read);
    let s = Store::open(&db).expect("migrates");
    let version: i64 = s
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    assert!(
        s.scan("old").expect("q").is_some(),
        "the old scans are kept"
    );
    assert!(s.outbox().exists().expect("q"));
    assert_eq!(s.integrity().expect("check"), "ok");
    drop(s);
    Store::open(&db).expect("opening again changes nothing");
}
