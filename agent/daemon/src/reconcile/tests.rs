use std::path::PathBuf;

use kenshin_report::model::Report;
use kenshin_report::output::{Access, OutputDir};
use kenshin_report::seal::SigningKey;

use super::*;

fn lab_report() -> Report {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../report/tests/data/lab-report.json"
    );
    serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("report")
}

/// A state folder with its history and a reports folder.
struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
    key: SigningKey,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(&dir.path().join("history.db")).expect("open");
        let key = SigningKey::load_or_create(&dir.path().join("key/signing-key.pem")).expect("key");
        Fixture { dir, store, key }
    }

    fn reports(&self) -> PathBuf {
        self.dir.path().join("reports")
    }

    fn partial(&self, id: &str) -> PathBuf {
        self.reports()
            .join("servers")
            .join(format!(".{id}.partial"))
    }

    /// Records scan `id` as running, as the scan task does before its first packet.
    fn begin(&self, id: &str, day: u8) {
        self.store
            .begin(
                id,
                "servers",
                &format!("2026-11-{day}T01:00:00Z"),
                &self.partial(id),
                None,
            )
            .expect("begin");
    }

    /// Writes and seals scan `id`'s folder as `.ID.partial`, as the engine does.
    fn seal(&self, id: &str, mut report: Report) -> PathBuf {
        report.scan.id = id.to_owned();
        let out = OutputDir::prepare(&self.partial(id), Access::Private).expect("prepare");
        kenshin_report::bundle::write(&out, &mut report, kenshin_report::Lang::En, &self.key)
            .expect("seal");
        self.partial(id)
    }

    /// Seals and renames into place, as a scan that finished does.
    fn sealed_in_place(&self, id: &str, report: Report) -> PathBuf {
        let partial = self.seal(id, report);
        let done = partial.with_file_name(id);
        std::fs::rename(&partial, &done).expect("rename");
        done
    }

    fn row(&self, id: &str) -> ScanRow {
        self.store.scan(id).expect("query").expect("row")
    }
}

/// The lab report with one more host, so a diff against the lab report finds it.
fn with_a_new_host() -> Report {
    let mut r = lab_report();
    let mut extra = r.hosts[0].clone();
    extra.address = "198.18.9.99".to_owned();
    r.hosts.push(extra);
    r
}

#[test]
fn a_running_scan_whose_folder_was_sealed_is_adopted_with_its_changes_since_its_baseline() {
    let f = Fixture::new();
    f.begin("base", 20);
    let base_dir = f.sealed_in_place("base", lab_report());
    let comparison = record::compare(&f.store, "servers", "base", &lab_report());
    record::record(
        &f.store,
        "base",
        &lab_report(),
        &base_dir,
        &comparison,
        None,
    )
    .expect("record base");

    // The next scan sealed its folder and renamed it, then the history could not
    // record it: the row still says running, with the .partial path.
    f.begin("late", 21);
    let late_dir = f.sealed_in_place("late", with_a_new_host());
    assert_eq!(f.row("late").status, Status::Running);

    let settled = at_start(&f.store, &f.reports(), "2026-11-22T00:00:00Z").expect("reconcile");
    assert!(
        matches!(&settled[..], [Settled::Adopted { scan, status: Status::Complete, report_dir }]
            if scan.id == "late" && *report_dir == late_dir),
        "{settled:#?}"
    );
    let row = f.row("late");
    assert_eq!(row.status, Status::Complete);
    assert_eq!(row.report_dir.as_deref(), late_dir.to_str());
    assert_eq!(row.previous_scan.as_deref(), Some("base"));
    assert_eq!(row.hosts_up, Some(6));
    assert_eq!(row.reason.as_deref(), Some(ADOPTED));
    let changes = f.store.changes("late").expect("q").expect("changes");
    let appeared = changes["hosts_appeared"].as_array().expect("list");
    assert_eq!(appeared.len(), 1, "{changes:#}");
    assert_eq!(appeared[0]["address"], "198.18.9.99");
    // The hosts are in the history (host timeline), and it is the next baseline.
    assert_eq!(f.store.host_timeline("198.18.9.99").expect("t").len(), 1);
    assert_eq!(
        f.store
            .baseline("servers")
            .expect("q")
            .map(|b| b.id)
            .as_deref(),
        Some("late")
    );
    assert!(f.store.running(None).expect("running").is_empty());
}

#[test]
fn a_running_scan_without_a_sealed_folder_is_interrupted_and_its_partial_folder_removed() {
    let f = Fixture::new();
    // Cut off mid-scan: a partial folder with some files and no seal.
    f.begin("cut", 21);
    std::fs::create_dir_all(f.partial("cut").join("evidence")).expect("partial");
    f.begin("nothing", 22);

    let settled = at_start(&f.store, &f.reports(), "2026-11-23T00:00:00Z").expect("reconcile");
    assert_eq!(settled.len(), 2);
    assert!(settled.iter().all(|s| matches!(s, Settled::Interrupted(_))));
    for id in ["cut", "nothing"] {
        let row = f.row(id);
        assert_eq!(row.status, Status::Interrupted);
        assert_eq!(row.reason.as_deref(), Some(CUT_OFF));
        assert!(
            !f.partial(id).exists(),
            "{id}: the unsealed folder is removed"
        );
    }
}

#[test]
fn a_folder_sealed_but_not_yet_renamed_is_renamed_into_place_and_adopted() {
    let f = Fixture::new();
    f.begin("unrenamed", 22);
    f.seal("unrenamed", lab_report());
    let settled = at_start(&f.store, &f.reports(), "2026-11-23T00:00:00Z").expect("reconcile");
    assert!(
        matches!(&settled[..], [Settled::Adopted { .. }]),
        "{settled:#?}"
    );
    let done = f.reports().join("servers/unrenamed");
    assert!(done.join("manifest.sig").is_file() && !f.partial("unrenamed").exists());
    assert_eq!(f.row("unrenamed").report_dir.as_deref(), done.to_str());
}

#[test]
fn a_folder_that_is_not_the_scans_sealed_report_is_not_adopted() {
    let f = Fixture::new();
    // In place, but its manifest.sig is missing.
    f.begin("unsigned", 21);
    let dir = f.sealed_in_place("unsigned", lab_report());
    std::fs::remove_file(dir.join("manifest.sig")).expect("rm");
    // In place, sealed, but the report is another scan's.
    f.begin("other", 22);
    let partial = f.seal("impostor", lab_report());
    std::fs::rename(&partial, f.reports().join("servers/other")).expect("rename");
    // In place, its report.json not a report.
    f.begin("garbled", 23);
    let dir = f.sealed_in_place("garbled", lab_report());
    std::fs::write(dir.join("report.json"), b"{}").expect("garble");

    let e = read_sealed(&f.reports().join("servers/unsigned"), "unsigned").expect_err("unsigned");
    assert!(e.to_string().contains("manifest.sig"), "{e}");
    let e = read_sealed(&f.reports().join("servers/other"), "other").expect_err("other");
    assert!(e.to_string().contains("impostor"), "{e}");
    let settled = at_start(&f.store, &f.reports(), "2026-11-24T00:00:00Z").expect("reconcile");
    assert_eq!(settled.len(), 3);
    assert!(
        settled.iter().all(|s| matches!(s, Settled::Interrupted(_))),
        "{settled:#?}"
    );
}

#[test]
fn a_path_the_daemon_did_not_make_is_never_followed() {
    let f = Fixture::new();
    let row = |dir: &str| ScanRow {
        report_dir: Some(dir.to_owned()),
        ..f.row("x")
    };
    f.begin("x", 21);
    let reports = f.reports();
    let inside = reports.join("servers/.x.partial");
    assert_eq!(
        final_folder(&row(inside.to_str().expect("utf-8")), &reports),
        Some(reports.join("servers/x"))
    );
    assert_eq!(final_folder(&row("/etc/.x.partial"), &reports), None);
    assert_eq!(
        final_folder(
            &row(reports.join("servers/.y.partial").to_str().expect("utf-8")),
            &reports
        ),
        None
    );
}

#[test]
fn while_the_daemon_runs_only_sealed_scans_no_task_runs_are_adopted() {
    let f = Fixture::new();
    f.begin("orphan", 21);
    f.sealed_in_place("orphan", lab_report());
    f.begin("live", 22);
    f.sealed_in_place("live", lab_report());
    f.begin("unsealed", 23);
    let adopted =
        adopt_sealed(&f.store, &f.reports(), "servers", |id| id == "live").expect("adopt");
    assert_eq!(adopted.len(), 1);
    assert_eq!(f.row("orphan").status, Status::Complete);
    assert_eq!(
        f.row("live").status,
        Status::Running,
        "its own task records it"
    );
    assert_eq!(
        f.row("unsealed").status,
        Status::Running,
        "left for the next start"
    );
    assert!(adopt_sealed(&f.store, &f.reports(), "other", |_| false)
        .expect("adopt")
        .is_empty());
}
