//! `kenshin daemon`: runs each scope on its schedule, inside its window, never two
//! overlapping scopes at once; records every scan in the history; alerts on changes.
//!
//! Signals: `SIGHUP` reloads the configuration (a bad one is refused and the old one
//! kept); `SIGTERM` or Ctrl-C stops the running scans after their probes in flight,
//! writes their reports marked incomplete, and exits 0. A scan cut off by `kill -9`
//! is found `running` in the history at the next start, marked `interrupted`, and
//! run again as soon as its window allows; one that was sealed but could not be
//! recorded (a full disk) is adopted instead ([`crate::reconcile`]).
//!
//! With `[fleet] db`, every recorded scan is queued in the outbox and one
//! [`crate::outbox::worker::Worker`] pushes the queue through the uploader the binary
//! makes ([`MakeUploader`]); `[fleet]` changes take effect at the next start.

use std::collections::BTreeMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use time::OffsetDateTime;
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, FleetDb, ScopeConfig};
use crate::health::Health;
use crate::history::Store;
use crate::reconcile::{self, Settled};
use crate::scan_task::{ScanTask, TaskEnd};
use kenshin_engine::clock;

/// Makes the uploader that pushes sealed scans to `[fleet] db`: the binary's, which
/// knows PostgreSQL (kenshin-fleet); the daemon only queues and schedules.
pub type MakeUploader =
    dyn Fn(&FleetDb) -> anyhow::Result<Arc<dyn crate::outbox::Uploader>> + Send + Sync;

/// Longest the scheduler sleeps between looks at the clock.
const TICK: std::time::Duration = std::time::Duration::from_secs(20);

/// Runs the daemon on the configuration at `config_path`. `uploader` makes what pushes
/// sealed scans when `[fleet] db` is set; without it they wait in the outbox.
pub fn run(config_path: &Path, uploader: Option<&MakeUploader>) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(config_path, uploader))
}

fn make_dir(path: &Path, mode: u32) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// What the scheduler knows about one scope.
#[derive(Debug, Default)]
struct ScopeState {
    next: Option<OffsetDateTime>,
    /// An interrupted scan to run again as soon as the window allows.
    rerun_of: Option<String>,
    queued: bool,
    running: bool,
}

struct Scheduler {
    config: Config,
    /// The outbox worker's bell, when sealed scans are queued for upload.
    outbox: Option<Arc<tokio::sync::Notify>>,
    states: BTreeMap<String, ScopeState>,
    /// Scopes due, in the order they fell due.
    queue: Vec<String>,
}

impl Scheduler {
    fn new(config: Config, reruns: BTreeMap<String, String>) -> Scheduler {
        let mut s = Scheduler {
            config,
            outbox: None,
            states: BTreeMap::new(),
            queue: Vec::new(),
        };
        s.plan(reruns);
        s
    }

    fn scope(&self, name: &str) -> Option<&ScopeConfig> {
        self.config.scopes.iter().find(|s| s.name == name)
    }

    /// Computes each scope's next run; keeps what is running or queued.
    fn plan(&mut self, reruns: BTreeMap<String, String>) {
        let now = OffsetDateTime::now_utc();
        let offset = self.config.daemon.utc_offset;
        let mut states = BTreeMap::new();
        for scope in &self.config.scopes {
            let mut st = self.states.remove(&scope.name).unwrap_or_default();
            st.next = scope
                .next_run_after(clock::local(now, offset))
                .map(|t| clock::instant(t, offset));
            if let Some(r) = reruns.get(&scope.name) {
                st.rerun_of = Some(r.clone());
            }
            match st.next {
                Some(t) => {
                    tracing::info!(scope = %scope.name, "next scan {}", clock::show(t, offset))
                }
                None => {
                    tracing::warn!(scope = %scope.name, "the schedule, window and freeze dates leave no time to scan")
                }
            }
            states.insert(scope.name.clone(), st);
        }
        self.queue.retain(|q| states.contains_key(q));
        self.states = states;
    }

    /// Queues the scopes that are due now.
    fn queue_due(&mut self) {
        let now = OffsetDateTime::now_utc();
        let offset = self.config.daemon.utc_offset;
        let local = clock::local(now, offset);
        for scope in &self.config.scopes {
            let Some(st) = self.states.get_mut(&scope.name) else {
                continue;
            };
            let rerun_ready = st.rerun_of.is_some() && scope.may_start(local);
            let due = st.next.is_some_and(|t| t <= now);
            if due {
                st.next = scope
                    .next_run_after(local)
                    .map(|t| clock::instant(t, offset));
            }
            if (due || rerun_ready) && !st.queued {
                if st.running {
                    tracing::warn!(scope = %scope.name, "due again while its previous scan still runs; this run is skipped");
                    continue;
                }
                st.queued = true;
                self.queue.push(scope.name.clone());
            }
        }
    }

    /// Takes from the queue the scans that may start now: within the parallel limit,
    /// overlapping no running scope, and still inside their window.
    fn startable(&mut self) -> Vec<ScanTask> {
        let mut out = Vec::new();
        let now = OffsetDateTime::now_utc();
        let offset = self.config.daemon.utc_offset;
        let local = clock::local(now, offset);
        let mut i = 0;
        while i < self.queue.len() {
            let running: Vec<&ScopeConfig> = self
                .states
                .iter()
                .filter(|(_, s)| s.running)
                .filter_map(|(n, _)| self.scope(n))
                .collect();
            if running.len() >= self.config.daemon.max_parallel_scans {
                break;
            }
            let name = self.queue[i].clone();
            let Some(scope) = self.scope(&name) else {
                self.queue.remove(i);
                continue;
            };
            if !scope.may_start(local) {
                tracing::info!(scope = %name, "not started: outside its window or on a freeze date");
                self.queue.remove(i);
                if let Some(st) = self.states.get_mut(&name) {
                    st.queued = false;
                }
                continue;
            }
            if let Some(busy) = running.iter().find(|r| r.overlaps(scope)) {
                tracing::info!(scope = %name, "waits for scope {:?}, which shares addresses with it", busy.name);
                i += 1;
                continue;
            }
            let window_closes = scope.window.map(|w| {
                let closes = w.closes_after(local);
                (
                    clock::instant(closes, offset),
                    clock::show(clock::instant(closes, offset), offset),
                )
            });
            let task = ScanTask {
                scope: name.clone(),
                settings: scope.settings.clone(),
                reports_dir: self.config.daemon.reports_dir.clone(),
                state_dir: self.config.daemon.state_dir.clone(),
                notify: self.config.notify.clone(),
                retention: self.config.retention,
                window_closes,
                rerun_of: None,
                outbox: self.outbox.clone(),
            };
            self.queue.remove(i);
            if let Some(st) = self.states.get_mut(&name) {
                st.queued = false;
                st.running = true;
                out.push(ScanTask {
                    rerun_of: st.rerun_of.take(),
                    ..task
                });
            }
        }
        out
    }

    fn finished(&mut self, scope: &str) {
        if let Some(st) = self.states.get_mut(scope) {
            st.running = false;
        }
    }

    /// When the scheduler must look again.
    fn next_wake(&self) -> std::time::Duration {
        let now = OffsetDateTime::now_utc();
        self.states
            .values()
            .filter_map(|s| s.next)
            .map(|t| (t - now).max(time::Duration::ZERO))
            .min()
            .and_then(|d| std::time::Duration::try_from(d).ok())
            .map_or(TICK, |d| d.min(TICK))
    }
}

async fn run_async(config_path: &Path, uploader: Option<&MakeUploader>) -> anyhow::Result<u8> {
    // Watch the signals before anything else, above all before the lock that tells
    // `kenshin status` the daemon runs: a SIGTERM sent as soon as status sees it must
    // stop the daemon cleanly, not kill it.
    let mut hup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let config = Config::load(config_path)?;
    let d = config.daemon.clone();
    make_dir(&d.state_dir, 0o750)?;
    make_dir(&d.reports_dir, 0o750)?;
    let _lock = crate::lock::acquire(&d.state_dir)?;
    let health = Arc::new(Health::open(&d.state_dir)?);
    let history = config.history_path();
    let fleet_db = config.fleet.as_ref().and_then(|f| f.db.clone());
    // Scans adopted below are queued too.
    let store = Store::open(&history)?.queueing(fleet_db.is_some());
    let integrity = store.integrity()?;
    if integrity != "ok" {
        anyhow::bail!(
            "the history database {} is damaged: {integrity}",
            history.display()
        );
    }
    let mut reruns = BTreeMap::new();
    for settled in reconcile::at_start(&store, &d.reports_dir, &clock::now_rfc3339())? {
        match settled {
            Settled::Adopted { .. } => health.recorded(),
            Settled::Interrupted(s) => {
                tracing::warn!(scope = %s.scope, scan = %s.id, "scan {} was cut off (the daemon was killed or crashed); it runs again as soon as its window allows", s.id);
                reruns.insert(s.scope.clone(), s.id.clone());
            }
        }
    }
    // A scope whose latest scan is interrupted (the daemon died again before the re-run).
    for scope in &config.scopes {
        if let Some(last) = store.scans(Some(&scope.name), 1)?.into_iter().next() {
            if last.status == crate::history::Status::Interrupted {
                reruns.entry(scope.name.clone()).or_insert(last.id);
            }
        }
    }
    drop(store);
    // Said only now: the history is open and reconciled, so a daemon that says it
    // started has its database (tests and operators may fill the disk after this).
    tracing::info!(
        config = %config_path.display(),
        scopes = config.scopes.len(),
        "kenshin {} daemon started (state {}, reports {})",
        env!("CARGO_PKG_VERSION"),
        d.state_dir.display(),
        d.reports_dir.display()
    );
    if !kenshin_engine::privilege::has_cap_net_raw() {
        tracing::warn!(
            "no CAP_NET_RAW: ICMP and ARP discovery are off, and hosts are found by TCP and UDP \
             probes only (grant it with AmbientCapabilities=CAP_NET_RAW, as the shipped unit does)"
        );
    }
    if config.scopes.is_empty() {
        tracing::warn!("no [[scope]] in {}: nothing will be scanned until one is added and the daemon reloaded (SIGHUP)", config_path.display());
    }

    let stop = CancellationToken::new();
    let outbox = match &fleet_db {
        Some(db) => Some(start_outbox(&config, db, uploader, &stop)?),
        None => None,
    };
    let mut sched = Scheduler::new(config, reruns);
    sched.outbox = outbox.as_ref().map(|(bell, _)| bell.clone());
    let mut tasks: JoinSet<TaskEnd> = JoinSet::new();
    let mut task_scopes: BTreeMap<tokio::task::Id, String> = BTreeMap::new();
    let mut sending: Vec<tokio::task::JoinHandle<()>> = Vec::new();

    loop {
        sched.queue_due();
        for task in sched.startable() {
            let scope = task.scope.clone();
            let handle = tasks.spawn(crate::scan_task::run(task, health.clone(), stop.clone()));
            task_scopes.insert(handle.id(), scope);
        }
        sending.retain(|h| !h.is_finished());
        let wake = sched.next_wake();
        tokio::select! {
            _ = hup.recv() => reload(&mut sched, config_path),
            _ = term.recv() => break,
            _ = int.recv() => break,
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => match done {
                Ok((id, end)) => {
                    task_scopes.remove(&id);
                    sched.finished(&end.scope);
                    sending.extend(end.sending);
                }
                Err(e) => {
                    let scope = task_scopes.remove(&e.id()).unwrap_or_default();
                    tracing::error!(%scope, "the scan task failed: {e}");
                    sched.finished(&scope);
                }
            },
            () = tokio::time::sleep(wake) => {}
        }
    }

    let running = tasks.len();
    if running > 0 {
        tracing::warn!("stopping: finishing the probes in flight of {running} scan(s) and writing partial reports");
    }
    stop.cancel();
    while let Some(done) = tasks.join_next().await {
        if let Ok(end) = done {
            sending.extend(end.sending);
        }
    }
    if let Some((_, Some(worker))) = outbox {
        // Cancelled with the rest; a push in flight is made again at the next start.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), worker).await;
    }
    // Give notifications of the last scans a little time; never wait on a dead target.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(15), async {
        for h in sending {
            let _ = h.await;
        }
    })
    .await;
    tracing::info!("kenshin daemon stopped");
    Ok(0)
}

/// Starts the outbox worker for `db`: returns its bell and its task (none when this
/// kenshin has no uploader; the scans then wait in the outbox).
fn start_outbox(
    config: &Config,
    db: &FleetDb,
    uploader: Option<&MakeUploader>,
    stop: &CancellationToken,
) -> anyhow::Result<(
    Arc<tokio::sync::Notify>,
    Option<tokio::task::JoinHandle<()>>,
)> {
    let bell = Arc::new(tokio::sync::Notify::new());
    let Some(make) = uploader else {
        tracing::error!(
            db = %db.url,
            "[fleet] db is set, but this kenshin cannot push to it; sealed scans wait in the \
             outbox (kenshin status shows them)"
        );
        return Ok((bell, None));
    };
    let url = db.url.clone();
    let uploader = make(db)
        .map_err(|e| anyhow::anyhow!("{}", url.scrub(&format!("{e:#}"))))
        .with_context(|| format!("cannot prepare the connection to [fleet] db {url}"))?;
    let history = config.history_path();
    let notify = config.notify.clone();
    let state_dir = config.daemon.state_dir.clone();
    let on_refused: crate::outbox::worker::OnRefused = Arc::new(move |entry, reason| {
        refused_alert(&notify, &state_dir, &history, entry, reason);
    });
    let worker = crate::outbox::worker::Worker {
        history: config.history_path(),
        uploader,
        backoff: config.fleet.as_ref().map(|f| f.retry).unwrap_or_default(),
        wake: bell.clone(),
        scrub: Arc::new(move |text: &str| url.scrub(text)),
        on_refused,
    };
    tracing::info!(db = %db.url, "pushing sealed scans to the fleet database");
    Ok((bell, Some(tokio::spawn(worker.run(stop.clone())))))
}

/// Sends the `upload-refused` alert for a bundle the fleet database refused.
fn refused_alert(
    notify: &crate::notify::Notify,
    state_dir: &Path,
    history: &Path,
    entry: &crate::outbox::Entry,
    reason: &str,
) {
    use crate::notify::{Event, Notification, ScanInfo};
    let row = Store::open_read_only(history)
        .ok()
        .flatten()
        .and_then(|s| s.scan(&entry.scan_id).ok().flatten());
    let events = vec![Event::UploadRefused {
        report_dir: entry.report_dir.display().to_string(),
        reason: reason.to_owned(),
    }];
    let n = Notification {
        kind: "kenshin.notification/1",
        sent_at: clock::now_rfc3339(),
        agent: crate::notify::agent_name(),
        scope: entry.scope.clone(),
        scan: ScanInfo {
            id: entry.scan_id.clone(),
            status: row
                .as_ref()
                .map_or("complete", |r| r.status.as_str())
                .to_owned(),
            started_at: row
                .as_ref()
                .map_or_else(|| entry.queued_at.clone(), |r| r.started_at.clone()),
            finished_at: row.as_ref().and_then(|r| r.finished_at.clone()),
            complete: row
                .as_ref()
                .is_none_or(|r| r.status == crate::history::Status::Complete),
            report_dir: Some(entry.report_dir.display().to_string()),
        },
        previous_scan: None,
        summary: crate::notify::summarize(&entry.scope, &events),
        events,
    };
    // Sent in their own tasks, as a scan's notifications are.
    drop(crate::notify::dispatch(notify, &n, state_dir));
}

fn reload(sched: &mut Scheduler, path: &Path) {
    match Config::load(path) {
        Ok(new) => {
            if new.daemon.state_dir != sched.config.daemon.state_dir
                || new.daemon.reports_dir != sched.config.daemon.reports_dir
            {
                tracing::error!("reload refused: state_dir and reports_dir change only at a restart; the running configuration is kept");
                return;
            }
            let db = |c: &Config| c.fleet.as_ref().and_then(|f| f.db.clone());
            if db(&new) != db(&sched.config)
                || new.fleet.as_ref().map(|f| f.retry)
                    != sched.config.fleet.as_ref().map(|f| f.retry)
            {
                tracing::warn!("[fleet] db, its credentials and retry times change only at a restart; the site changes now");
            }
            tracing::info!(
                scopes = new.scopes.len(),
                "configuration reloaded from {}",
                path.display()
            );
            sched.config = new;
            sched.plan(BTreeMap::new());
        }
        Err(e) => tracing::error!("reload refused, the running configuration is kept: {e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheduler(scopes: &str, parallel: usize) -> Scheduler {
        let text =
            format!("[daemon]\nmax_parallel_scans = {parallel}\nutc_offset = \"+00:00\"\n{scopes}");
        let config = Config::parse_with(Path::new("k.toml"), &text, crate::config::Files::Skip)
            .expect("config");
        Scheduler::new(config, BTreeMap::new())
    }

    fn scope(name: &str, target: &str) -> String {
        format!(
            "[[scope]]\nname = \"{name}\"\ntargets = [\"{target}\"]\nschedule = \"* * * * *\"\n"
        )
    }

    fn due_now(s: &mut Scheduler) {
        let past = OffsetDateTime::now_utc() - time::Duration::minutes(1);
        for st in s.states.values_mut() {
            st.next = Some(past);
        }
        s.queue_due();
    }

    #[test]
    fn scopes_that_share_addresses_never_run_at_once() {
        let mut s = scheduler(
            &(scope("a", "198.18.1.0/24") + &scope("b", "198.18.1.10")),
            4,
        );
        due_now(&mut s);
        let started: Vec<String> = s.startable().into_iter().map(|t| t.scope).collect();
        assert_eq!(started, ["a"]);
        assert!(s.startable().is_empty(), "b waits while a runs");
        s.finished("a");
        let started: Vec<String> = s.startable().into_iter().map(|t| t.scope).collect();
        assert_eq!(started, ["b"]);
    }

    #[test]
    fn disjoint_scopes_run_together_up_to_the_parallel_limit() {
        let three = scope("a", "198.18.1.0/24")
            + &scope("b", "198.18.2.0/24")
            + &scope("c", "198.18.3.0/24");
        let mut s = scheduler(&three, 2);
        due_now(&mut s);
        assert_eq!(s.startable().len(), 2);
        assert!(s.startable().is_empty());
        s.finished("a");
        assert_eq!(
            s.startable()
                .into_iter()
                .map(|t| t.scope)
                .collect::<Vec<_>>(),
            ["c"]
        );
    }

    #[test]
    fn a_scope_due_while_it_still_runs_is_not_queued_twice() {
        let mut s = scheduler(&scope("a", "198.18.1.0/24"), 1);
        due_now(&mut s);
        assert_eq!(s.startable().len(), 1);
        due_now(&mut s);
        assert!(s.queue.is_empty() && s.startable().is_empty());
    }

    #[test]
    fn an_interrupted_scan_is_rerun_at_once_and_names_what_it_reruns() {
        let text = format!(
            "[daemon]\nutc_offset = \"+00:00\"\n{}",
            scope("a", "198.18.1.0/24")
        );
        let config = Config::parse_with(Path::new("k.toml"), &text, crate::config::Files::Skip)
            .expect("config");
        let mut s = Scheduler::new(
            config,
            BTreeMap::from([("a".to_owned(), "cut-1".to_owned())]),
        );
        s.queue_due();
        let t = s.startable();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].rerun_of.as_deref(), Some("cut-1"));
    }

    #[test]
    fn a_scope_outside_its_window_is_not_started() {
        let now = OffsetDateTime::now_utc();
        // A one-hour window that ends an hour from now is open; one that opened an
        // hour from now is not.
        let hm = |t: OffsetDateTime| format!("{:02}:{:02}", t.hour(), t.minute());
        let closed = format!(
            "{}window = \"{}-{}\"\n",
            scope("a", "198.18.1.0/24"),
            hm(now + time::Duration::hours(1)),
            hm(now + time::Duration::hours(2))
        );
        let mut s = scheduler(&closed, 1);
        due_now(&mut s);
        assert!(s.startable().is_empty());
        let open = format!(
            "{}window = \"{}-{}\"\n",
            scope("a", "198.18.1.0/24"),
            hm(now - time::Duration::hours(1)),
            hm(now + time::Duration::hours(1))
        );
        let mut s = scheduler(&open, 1);
        due_now(&mut s);
        let t = s.startable();
        assert_eq!(t.len(), 1);
        assert!(t[0].window_closes.is_some());
    }
}
