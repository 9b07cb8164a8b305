//! One scheduled scan of one scope, start to end: recorded as running before the
//! first packet, written into a hidden `.ID.partial` folder and renamed into place
//! once sealed (so every folder under the reports folder is a whole report; the
//! rename is made durable before the history records it), recorded with its changes
//! since the scope's last complete scan, then notified.
//!
//! When the history cannot record (a full disk), that is an alert of its own
//! (`recording-failed`) and is held in the health file for `kenshin status`: before
//! the first packet the scan does not run; at the end its sealed folder is kept, and
//! adopted once the history can record again ([`crate::reconcile`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use kenshin_probe::scan::Progress;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use kenshin_engine::{clock, job, ScanSettings};

use crate::config::Retention;
use crate::health::{Health, RecordingFailure, Stage};
use crate::history::{Status, Store};
use crate::notify::{self, Event, Notification, Notify, ScanInfo};
use crate::record;

/// Everything a scan task needs, copied out of the configuration when it starts.
#[derive(Debug, Clone)]
pub struct ScanTask {
    pub scope: String,
    pub settings: ScanSettings,
    pub reports_dir: PathBuf,
    pub state_dir: PathBuf,
    pub notify: Notify,
    pub retention: Retention,
    /// When the scope's window closes; the scan stops there.
    pub window_closes: Option<(OffsetDateTime, String)>,
    /// The interrupted scan this one re-runs.
    pub rerun_of: Option<String>,
    /// With `[fleet] db`: the outbox worker's bell. The scan is queued for upload in
    /// the transaction that records it, then the worker is woken.
    pub outbox: Option<Arc<tokio::sync::Notify>>,
}

/// How a task ended, for the scheduler.
#[derive(Debug)]
pub struct TaskEnd {
    pub scope: String,
    /// Notifications still being sent.
    pub sending: Vec<tokio::task::JoinHandle<()>>,
}

/// A scan recorded as running: its ID, start time, folders and history store.
struct Started {
    id: String,
    at: String,
    partial: PathBuf,
    final_dir: PathBuf,
    store: Store,
    _live: Live,
}

/// A scan that could not be recorded, so did not run: what to announce.
struct NotStarted {
    id: String,
    at: String,
    event: Event,
}

/// The scans this daemon's tasks run now: [`crate::reconcile::adopt_sealed`] must
/// leave their `running` records to them.
static LIVE: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// A scan's place in [`LIVE`], for as long as its task holds it.
struct Live(String);

impl Live {
    fn register(id: &str) -> Live {
        live_scans().insert(id.to_owned());
        Live(id.to_owned())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        live_scans().remove(&self.0);
    }
}

fn live_scans() -> std::sync::MutexGuard<'static, BTreeSet<String>> {
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a task of this daemon runs scan `id` now.
pub fn is_live(id: &str) -> bool {
    live_scans().contains(id)
}

/// A finished scan as recorded: what to announce and how it ended.
struct Settled {
    status: Status,
    report_dir: Option<PathBuf>,
    previous: Option<String>,
    events: Vec<Event>,
}

/// Runs the scan. `health` holds the history's recording failures; `stop` is the
/// daemon's SIGTERM.
pub async fn run(task: ScanTask, health: Arc<Health>, stop: CancellationToken) -> TaskEnd {
    let mut end = TaskEnd {
        scope: task.scope.clone(),
        sending: Vec::new(),
    };
    let started = match start(&task, &health) {
        Ok(started) => started,
        Err(not) => {
            let settled = Settled {
                status: Status::Failed,
                report_dir: None,
                previous: None,
                events: vec![not.event],
            };
            end.sending = send(&task, &not.id, &not.at, settled);
            return end;
        }
    };
    let (result, stopped_why) = scan(&task, &started.id, &started.partial, &stop).await;
    let settled = settle(&task, &health, &started, result, stopped_why);
    end.sending = announce(&task, &started, settled);
    end
}

/// Records the scan as running before its first packet. If the history cannot, the
/// scan does not run, and the failure is held in `health` and returned to be sent.
fn start(task: &ScanTask, health: &Health) -> Result<Started, Box<NotStarted>> {
    let id = job::new_scan_id();
    let at = clock::now_rfc3339();
    let scope_dir = task.reports_dir.join(&task.scope);
    let partial = scope_dir.join(format!(".{id}.partial"));
    let final_dir = scope_dir.join(&id);
    let live = Live::register(&id);
    let store = Store::open(&crate::history::path(&task.state_dir)).and_then(|store| {
        let store = store.queueing(task.outbox.is_some());
        store.begin(&id, &task.scope, &at, &partial, task.rerun_of.as_deref())?;
        Ok(store)
    });
    let store = match store {
        Ok(store) => store,
        Err(e) => {
            let reason = format!("{e:#}");
            tracing::error!(scope = %task.scope, scan = %id, "cannot record the scan, so it does not run: {reason}");
            let failure = health.failed(&task.scope, &id, Stage::Start, &reason);
            return Err(Box::new(NotStarted {
                event: recording_failed(task, failure),
                id,
                at,
            }));
        }
    };
    health.recorded();
    tracing::info!(scope = %task.scope, scan = %id, rerun_of = task.rerun_of.as_deref(), "scan started");
    // Earlier scans of this scope that were sealed while the history could not
    // record them are recorded now that it can.
    if let Err(e) = crate::reconcile::adopt_sealed(&store, &task.reports_dir, &task.scope, is_live)
    {
        tracing::error!(scope = %task.scope, "cannot record an earlier sealed scan: {e:#}");
    }
    Ok(Started {
        id,
        at,
        partial,
        final_dir,
        store,
        _live: live,
    })
}

/// The `recording-failed` event for `failure`.
fn recording_failed(task: &ScanTask, failure: RecordingFailure) -> Event {
    Event::RecordingFailed {
        stage: failure.stage,
        reason: failure.reason,
        since: failure.since,
        history: crate::history::path(&task.state_dir).display().to_string(),
    }
}

/// Scans into the partial folder until done, stopped (SIGTERM) or cut off by the
/// scope's window; returns the outcome and, if it was cut short, why.
async fn scan(
    task: &ScanTask,
    id: &str,
    partial: &Path,
    stop: &CancellationToken,
) -> (anyhow::Result<job::Finished>, Option<String>) {
    let cancel = stop.child_token();
    let window_closed = Arc::new(AtomicBool::new(false));
    if let Some((closes, _)) = &task.window_closes {
        let wait = (*closes - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
        let (cancel, flag) = (cancel.clone(), window_closed.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(wait.try_into().unwrap_or_default()) => {
                    flag.store(true, Ordering::SeqCst);
                    cancel.cancel();
                }
                // The scan ended (or the daemon stops) first: nothing to do.
                () = cancel.cancelled() => {}
            }
        });
    }
    let result = scan_once(task, id, partial, cancel.clone()).await;
    cancel.cancel(); // ends the window timer
    let stopped_why = if window_closed.load(Ordering::SeqCst) {
        let at = task.window_closes.as_ref().map_or("", |(_, s)| s.as_str());
        Some(format!("the scan window closed at {at}"))
    } else if stop.is_cancelled() {
        Some("the daemon was stopped (SIGTERM)".to_owned())
    } else {
        None
    };
    (result, stopped_why)
}

/// Puts the sealed folder in place (durably), diffs it against the scope's last
/// complete scan and records the scan with its changes; a failed scan is recorded as
/// failed. A recording that fails adds a `recording-failed` event.
fn settle(
    task: &ScanTask,
    health: &Health,
    started: &Started,
    result: anyhow::Result<job::Finished>,
    stopped_why: Option<String>,
) -> Settled {
    let Started {
        id,
        partial,
        final_dir,
        store,
        ..
    } = started;
    let job::Finished {
        report, catalog, ..
    } = match result {
        Ok(finished) => finished,
        Err(e) => {
            let reason = format!("{e:#}");
            tracing::error!(scope = %task.scope, scan = %id, "scan failed: {reason}");
            let _ = std::fs::remove_dir_all(partial);
            let mut events = vec![incomplete("failed", &reason)];
            match store.fail(id, Status::Failed, &reason, &clock::now_rfc3339()) {
                Ok(()) => health.recorded(),
                Err(e) => {
                    let why = format!("{e:#}");
                    tracing::error!(scope = %task.scope, scan = %id, "cannot record the failed scan: {why}");
                    let failure = health.failed(&task.scope, id, Stage::Finish, &why);
                    events.push(recording_failed(task, failure));
                }
            }
            return Settled {
                status: Status::Failed,
                report_dir: None,
                previous: None,
                events,
            };
        }
    };
    let report_dir = match std::fs::rename(partial, final_dir) {
        Ok(()) => {
            // The rename must survive a power cut before the history says it happened.
            if let Some(Err(e)) = final_dir.parent().map(record::sync_dir) {
                tracing::warn!("{e:#}");
            }
            final_dir.clone()
        }
        Err(e) => {
            tracing::warn!(
                "cannot rename {} to {}: {e}; the report stays where it is",
                partial.display(),
                final_dir.display()
            );
            partial.clone()
        }
    };

    // Changes since the last complete scan of this scope, then the record.
    let comparison = record::compare(store, &task.scope, id, &report);
    let status = record::status_of(&report);
    let recorded = record::record(
        store,
        id,
        &report,
        &report_dir,
        &comparison,
        stopped_why.as_deref(),
    );
    let diff = comparison.diff.as_ref();
    tracing::info!(
        scope = %task.scope,
        scan = %id,
        status = status.as_str(),
        hosts = report.hosts.len(),
        findings = report.findings.len(),
        changes = diff.map_or(0, |d| d.findings_new.len() + d.ports_opened.len() + d.hosts_appeared.len()),
        "scan finished: {}",
        report_dir.display()
    );
    let mut events = notify::events(&report, diff, &catalog);
    if let Some(why) = &stopped_why {
        events.push(incomplete("partial", why));
    }
    match recorded {
        Ok(_) => {
            health.recorded();
            if let Some(bell) = &task.outbox {
                bell.notify_one();
            }
        }
        Err(e) => {
            let why = format!("{e:#}");
            tracing::error!(
                scope = %task.scope,
                scan = %id,
                "cannot record the finished scan: {why}; its sealed folder {} is kept and \
                 recorded once the history can record again (at the daemon's next start or \
                 the scope's next scan)",
                report_dir.display()
            );
            let failure = health.failed(&task.scope, id, Stage::Finish, &why);
            events.push(recording_failed(task, failure));
        }
    }
    Settled {
        status,
        report_dir: Some(report_dir),
        previous: comparison.previous,
        events,
    }
}

/// Sends the scan's events (each target in its own task) and applies retention.
fn announce(
    task: &ScanTask,
    started: &Started,
    settled: Settled,
) -> Vec<tokio::task::JoinHandle<()>> {
    let sending = send(task, &started.id, &started.at, settled);
    match crate::retention::apply(
        &started.store,
        &task.scope,
        task.retention,
        &task.reports_dir,
    ) {
        Ok(0) => {}
        Ok(n) => tracing::info!(scope = %task.scope, "retention removed {n} old scans"),
        Err(e) => tracing::warn!(scope = %task.scope, "retention failed: {e:#}"),
    }
    sending
}

fn incomplete(status: &str, reason: &str) -> Event {
    Event::ScanIncomplete {
        status: status.to_owned(),
        reason: reason.to_owned(),
    }
}

async fn scan_once(
    task: &ScanTask,
    id: &str,
    partial: &Path,
    cancel: CancellationToken,
) -> anyhow::Result<job::Finished> {
    let checked = job::check(task.settings.clone())?;
    let prepared = job::prepare(checked, id.to_owned(), partial.to_owned()).await?;
    if prepared.key().created() {
        tracing::warn!(
            "created the signing key {} (fingerprint {}); give this fingerprint to whoever verifies the reports",
            prepared.key_path().display(),
            prepared.key().public().fingerprint()
        );
    }
    let finished = job::execute(prepared, cancel, Arc::new(Progress::default())).await?;
    for w in &finished.report.scan.warnings {
        tracing::debug!(scan = %id, "scan warning: {w}");
    }
    Ok(finished)
}

fn send(task: &ScanTask, id: &str, at: &str, settled: Settled) -> Vec<tokio::task::JoinHandle<()>> {
    if settled.events.is_empty() {
        return Vec::new();
    }
    let summary = notify::summarize(&task.scope, &settled.events);
    let n = Notification {
        kind: "kenshin.notification/1",
        sent_at: clock::now_rfc3339(),
        agent: notify::agent_name(),
        scope: task.scope.clone(),
        scan: ScanInfo {
            id: id.to_owned(),
            status: settled.status.as_str().to_owned(),
            started_at: at.to_owned(),
            finished_at: Some(clock::now_rfc3339()),
            complete: settled.status == Status::Complete,
            report_dir: settled.report_dir.map(|d| d.display().to_string()),
        },
        previous_scan: settled.previous,
        events: settled.events,
        summary,
    };
    notify::dispatch(&task.notify, &n, &task.state_dir)
}
