//! The worker against a scripted uploader: a test double for the link to
//! headquarters, so the daemon's own logic (order, retries, refusals, restarts) is
//! what is tested. The real push is kenshin-fleet's, tested against a real PostgreSQL.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kenshin_report::model::Report;

use super::*;
use crate::outbox::{State, UploadFuture};

/// Answers each push with the next scripted outcome (success once the script is
/// used up) and remembers which folders it was asked to push.
#[derive(Default)]
struct Scripted {
    script: Mutex<VecDeque<Result<(), UploadError>>>,
    asked: Mutex<Vec<PathBuf>>,
}

impl Scripted {
    fn new(script: impl IntoIterator<Item = Result<(), UploadError>>) -> Arc<Scripted> {
        Arc::new(Scripted {
            script: Mutex::new(script.into_iter().collect()),
            asked: Mutex::default(),
        })
    }

    fn asked(&self) -> Vec<String> {
        self.asked
            .lock()
            .expect("lock")
            .iter()
            .map(|p| {
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect()
    }
}

impl Uploader for Scripted {
    fn upload<'a>(&'a self, dir: &'a Path) -> UploadFuture<'a> {
        Box::pin(async move {
            self.asked.lock().expect("lock").push(dir.to_owned());
            self.script
                .lock()
                .expect("lock")
                .pop_front()
                .unwrap_or(Ok(()))
        })
    }
}

fn down() -> Result<(), UploadError> {
    Err(UploadError::retry("connection refused (198.18.9.1:5432)"))
}

fn lab_report() -> Report {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../report/tests/data/lab-report.json"
    );
    serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("report")
}

/// A state folder whose history has recorded (and so queued) the scans `ids`, each
/// with a report folder of its own.
struct Site {
    dir: tempfile::TempDir,
    refused: Arc<Mutex<Vec<(String, String)>>>,
}

impl Site {
    fn new(ids: &[&str]) -> Site {
        let site = Site {
            dir: tempfile::tempdir().expect("dir"),
            refused: Arc::default(),
        };
        site.record(ids);
        site
    }

    fn history(&self) -> PathBuf {
        self.dir.path().join("history.db")
    }

    fn record(&self, ids: &[&str]) {
        let store = Store::open(&self.history()).expect("open").queueing(true);
        let report = lab_report();
        for (i, id) in ids.iter().enumerate() {
            let folder = self.dir.path().join("reports/servers").join(id);
            std::fs::create_dir_all(&folder).expect("folder");
            let at = format!("2026-11-20T13:{i:02}:00Z");
            store
                .begin(id, "servers", &at, &folder, None)
                .expect("begin");
            store
                .finish(id, &report, &folder, None, None, None)
                .expect("finish");
        }
    }

    fn worker(&self, uploader: Arc<Scripted>) -> Worker {
        let refused = self.refused.clone();
        Worker {
            history: self.history(),
            uploader,
            backoff: Backoff {
                min: Duration::from_secs(10),
                max: Duration::from_secs(80),
            },
            wake: Arc::default(),
            scrub: Arc::new(|s: &str| s.replace("hunter2", "***")),
            on_refused: Arc::new(move |e: &Entry, why: &str| {
                refused
                    .lock()
                    .expect("lock")
                    .push((e.scan_id.clone(), why.to_owned()));
            }),
        }
    }

    fn entries(&self, state: State) -> Vec<String> {
        let store = Store::open(&self.history()).expect("open");
        let entries = store.outbox().entries(state).expect("entries");
        entries.into_iter().map(|e| e.scan_id).collect()
    }
}

fn t0() -> OffsetDateTime {
    time::macros::datetime!(2026-11-20 14:00 UTC)
}

/// Steps the worker at `now`, then at each next try it names, until the queue is
/// empty or `limit` steps were taken; returns the steps.
async fn drain(w: &Worker, mut now: OffsetDateTime, limit: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    for _ in 0..limit {
        let step = w.step(now).await.expect("step");
        match &step {
            Step::Idle => break,
            Step::Wait(d) => now += *d,
            Step::Retry { next_try_at, .. } => {
                // Look once before the next try (it must wait), then at it.
                let next = clock::parse(next_try_at).expect("rfc3339");
                assert!(matches!(
                    w.step(next - Duration::from_secs(1)).await.expect("step"),
                    Step::Wait(_)
                ));
                now = next;
            }
            Step::Pushed(_) | Step::Refused { .. } => {}
        }
        steps.push(step);
    }
    steps
}

#[tokio::test]
async fn a_bundle_that_fails_three_times_is_pushed_on_the_fourth_try_and_marked_done() {
    let site = Site::new(&["scan-a"]);
    let uploader = Scripted::new([down(), down(), down()]);
    let w = site.worker(uploader.clone());
    let steps = drain(&w, t0(), 20).await;
    let retries = steps
        .iter()
        .filter(|s| matches!(s, Step::Retry { .. }))
        .count();
    assert_eq!(retries, 3);
    assert!(matches!(steps.last(), Some(Step::Pushed(e)) if e.scan_id == "scan-a"));
    assert_eq!(uploader.asked(), ["scan-a"; 4]);
    assert_eq!(site.entries(State::Done), ["scan-a"]);
    assert!(site.entries(State::Queued).is_empty());
}

#[tokio::test]
async fn while_the_head_fails_nothing_behind_it_is_pushed_and_order_holds_when_the_link_returns() {
    let site = Site::new(&["scan-1", "scan-2", "scan-3"]);
    // The link is down for five tries, then back.
    let uploader = Scripted::new([down(), down(), down(), down(), down()]);
    let w = site.worker(uploader.clone());
    drain(&w, t0(), 30).await;
    let asked = uploader.asked();
    assert_eq!(
        &asked[..5],
        ["scan-1"; 5],
        "only the head is tried while it fails"
    );
    assert_eq!(
        &asked[5..],
        ["scan-1", "scan-2", "scan-3"],
        "then in order, once each"
    );
    assert_eq!(site.entries(State::Done), ["scan-1", "scan-2", "scan-3"]);
}

#[tokio::test]
async fn each_wait_doubles_within_the_jitter_and_never_passes_the_cap() {
    let site = Site::new(&["scan-a"]);
    let uploader = Scripted::new(std::iter::repeat_with(down).take(8));
    let w = site.worker(uploader);
    let mut now = t0();
    let mut waits = Vec::new();
    for _ in 0..8 {
        let Step::Retry { next_try_at, .. } = w.step(now).await.expect("step") else {
            panic!("the head must fail");
        };
        let next = clock::parse(&next_try_at).expect("rfc3339");
        waits.push((next - now).whole_seconds());
        now = next;
    }
    // min 10 s, max 80 s: ceilings 10, 20, 40, 80, 80 …; each wait in [ceiling/2, ceiling].
    for (n, (wait, ceiling)) in waits
        .iter()
        .zip([10, 20, 40, 80, 80, 80, 80, 80])
        .enumerate()
    {
        assert!(
            (ceiling / 2..=ceiling).contains(wait),
            "try {}: waited {wait} s, ceiling {ceiling} s ({waits:?})",
            n + 1
        );
    }
}

#[tokio::test]
async fn a_refused_bundle_is_marked_failed_alerted_once_and_the_queue_moves_on() {
    let site = Site::new(&["scan-bad", "scan-good"]);
    let uploader = Scripted::new([Err(UploadError::refused(
        "certificate for site \"kobe\" may not insert for site \"osaka\" (password hunter2)",
    ))]);
    let w = site.worker(uploader.clone());
    let steps = drain(&w, t0(), 10).await;
    assert!(matches!(&steps[0], Step::Refused { entry, .. } if entry.scan_id == "scan-bad"));
    assert_eq!(
        uploader.asked(),
        ["scan-bad", "scan-good"],
        "never tried again"
    );
    assert_eq!(site.entries(State::Failed), ["scan-bad"]);
    assert_eq!(site.entries(State::Done), ["scan-good"]);
    let refused = site.refused.lock().expect("lock").clone();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, "scan-bad");
    assert!(
        refused[0].1.contains("may not insert") && !refused[0].1.contains("hunter2"),
        "the reason is kept, the password is not: {}",
        refused[0].1
    );
    let store = Store::open(&site.history()).expect("open");
    let failed = store
        .outbox()
        .of_scan("scan-bad")
        .expect("read")
        .expect("entry");
    assert!(failed.last_error.is_some_and(|e| !e.contains("hunter2")));
}

#[tokio::test]
async fn a_folder_that_is_gone_is_refused_without_calling_the_uploader() {
    let site = Site::new(&["scan-a"]);
    std::fs::remove_dir_all(site.dir.path().join("reports/servers/scan-a")).expect("rm");
    let uploader = Scripted::new([]);
    let w = site.worker(uploader.clone());
    let step = w.step(t0()).await.expect("step");
    assert!(
        matches!(step, Step::Refused { ref reason, .. } if reason.contains("is gone")),
        "{step:?}"
    );
    assert!(uploader.asked().is_empty());
}

#[tokio::test]
async fn after_a_restart_the_queue_resumes_from_the_database_with_its_tries_and_next_try() {
    let site = Site::new(&["scan-1", "scan-2"]);
    let first = site.worker(Scripted::new([down(), down()]));
    let Step::Retry { .. } = first.step(t0()).await.expect("step") else {
        panic!("down");
    };
    let Step::Wait(_) = first.step(t0()).await.expect("step") else {
        panic!("waits for its next try");
    };
    drop(first); // the daemon stops

    // A scan recorded while the daemon was down for a moment (adopted at start).
    site.record(&["scan-3"]);
    let uploader = Scripted::new([]);
    let second = site.worker(uploader.clone());
    let store = Store::open(&site.history()).expect("open");
    let head = store.outbox().head().expect("head").expect("queued");
    assert_eq!((head.scan_id.as_str(), head.attempts), ("scan-1", 1));
    assert!(head
        .last_error
        .is_some_and(|e| e.contains("connection refused")));
    let Step::Wait(_) = second.step(t0()).await.expect("step") else {
        panic!("the back-off survives the restart");
    };
    drain(&second, t0(), 10).await;
    assert_eq!(uploader.asked(), ["scan-1", "scan-2", "scan-3"]);
    assert_eq!(site.entries(State::Done), ["scan-1", "scan-2", "scan-3"]);
}

#[tokio::test]
async fn a_store_that_does_not_queue_records_scans_without_an_outbox_entry() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("history.db")).expect("open");
    store
        .begin(
            "scan-a",
            "servers",
            "2026-11-20T13:00:00Z",
            dir.path(),
            None,
        )
        .expect("begin");
    store
        .finish("scan-a", &lab_report(), dir.path(), None, None, None)
        .expect("finish");
    assert_eq!(store.outbox().head().expect("head"), None);
    let summary = store
        .outbox()
        .summary(t0())
        .expect("summary")
        .expect("table");
    assert_eq!((summary.queued, summary.done, summary.failed), (0, 0, 0));
}

#[tokio::test]
async fn the_summary_names_the_waiting_count_the_oldest_age_the_last_error_and_next_try() {
    let site = Site::new(&["scan-1", "scan-2"]);
    let w = site.worker(Scripted::new([down()]));
    let Step::Retry { next_try_at, .. } = w.step(t0()).await.expect("step") else {
        panic!("down");
    };
    let store = Store::open(&site.history()).expect("open");
    let head = store.outbox().head().expect("head").expect("queued");
    let queued = clock::parse(&head.queued_at).expect("rfc3339");
    let later = queued + Duration::from_secs(3600);
    let s = store
        .outbox()
        .summary(later)
        .expect("summary")
        .expect("table");
    assert_eq!(s.queued, 2);
    assert_eq!(s.oldest_age_s, Some(3600));
    assert_eq!(s.attempts, 1);
    assert_eq!(s.next_try_at.as_deref(), Some(next_try_at.as_str()));
    assert!(s
        .last_error
        .is_some_and(|e| e.contains("connection refused")));
}

#[tokio::test]
async fn retention_keeps_the_folders_of_scans_still_waiting_and_forgets_them_once_pushed() {
    let site = Site::new(&["scan-1", "scan-2", "scan-3"]);
    let reports = site.dir.path().join("reports");
    let keep_one = crate::config::Retention {
        keep_scans: Some(1),
        keep_days: None,
    };
    let store = Store::open(&site.history()).expect("open");
    let forgotten = crate::retention::apply(&store, "servers", keep_one, &reports).expect("apply");
    assert_eq!(forgotten, 0, "all three wait to be pushed");
    assert!(reports.join("servers/scan-1").is_dir());

    drain(&site.worker(Scripted::new([])), t0(), 10).await;
    let forgotten = crate::retention::apply(&store, "servers", keep_one, &reports).expect("apply");
    assert_eq!(forgotten, 2);
    assert!(!reports.join("servers/scan-1").exists());
    assert!(reports.join("servers/scan-3").is_dir());
}
