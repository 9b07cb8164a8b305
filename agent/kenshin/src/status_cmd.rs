//! `kenshin status`: whether the daemon runs, whether its history can record scans,
//! each scope's last and next scan, and the fleet outbox (what waits to be pushed,
//! since when, the last error and the next try). It only reads (the history read-only, the
//! daemon's health file), so it works while the disk is full.

use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{Lang, StatusArgs};
use crate::say::say;
use kenshin_daemon::config::Config;
use kenshin_daemon::health::{self, RecordingFailure, Stage};
use kenshin_daemon::history::{ScanRow, Status as ScanStatus, Store};
use kenshin_daemon::outbox::Summary as OutboxSummary;
use kenshin_daemon::{lock, reconcile};
use kenshin_engine::clock;

#[derive(Debug, Serialize)]
struct Status {
    daemon_pid: Option<u32>,
    /// The history cannot record scans (from the daemon's health file); `null` when it
    /// can, or no daemon has run.
    recording_failure: Option<RecordingFailure>,
    scopes: Vec<ScopeStatus>,
    /// `[fleet]`: the site and the outbox; `null` without a `[fleet]` section.
    fleet: Option<FleetStatus>,
}

#[derive(Debug, Serialize)]
struct FleetStatus {
    site: String,
    /// The database, its password shown as `***`; `null`: reports are carried by hand.
    db: Option<String>,
    /// `null` until the daemon has created its history.
    outbox: Option<OutboxSummary>,
}

#[derive(Debug, Serialize)]
struct ScopeStatus {
    scope: String,
    last: Option<ScanRow>,
    /// RFC 3339 UTC.
    next: Option<String>,
    /// The last scan was cut off and runs again at the next opportunity.
    rerun_pending: bool,
    /// The last scan was sealed but could not be recorded; the daemon records it from
    /// its folder at its next start.
    adopt_pending: bool,
}

pub(crate) fn run(args: &StatusArgs) -> anyhow::Result<u8> {
    let config = Config::load(&args.config.config)?;
    let offset = config.daemon.utc_offset;
    let store = Store::open_read_only(&config.history_path())?;
    let now = OffsetDateTime::now_utc();
    let daemon_pid = lock::holder(&config.daemon.state_dir);
    let recording_failure = match health::read(&config.daemon.state_dir) {
        Ok(doc) => doc.and_then(|d| d.recording_failure),
        Err(e) => {
            eprintln!("kenshin: {}", kenshin_report::visible(&e.to_string()));
            None
        }
    };
    let mut scopes = Vec::new();
    for s in &config.scopes {
        let last = match &store {
            Some(st) => st.scans(Some(&s.name), 1)?.into_iter().next(),
            None => None,
        };
        // A scan recorded running is cut off only if no daemon is running it; if its
        // folder was sealed, the next start adopts it instead of running it again.
        let orphan = last
            .as_ref()
            .is_some_and(|l| l.status == ScanStatus::Running && daemon_pid.is_none());
        let adopt_pending = orphan
            && last
                .as_ref()
                .is_some_and(|l| reconcile::adoptable(l, &config.daemon.reports_dir));
        let rerun_pending = !adopt_pending
            && (orphan
                || last
                    .as_ref()
                    .is_some_and(|l| l.status == ScanStatus::Interrupted));
        let next = s
            .next_run_after(clock::local(now, offset))
            .map(|t| clock::instant(t, offset));
        scopes.push(ScopeStatus {
            scope: s.name.clone(),
            last,
            next: next.map(clock::rfc3339),
            rerun_pending,
            adopt_pending,
        });
    }
    let fleet = match &config.fleet {
        Some(f) => Some(FleetStatus {
            site: f.site.clone(),
            db: f.db.as_ref().map(|d| d.url.redacted()),
            outbox: match &store {
                Some(st) => st.outbox().summary(now)?,
                None => None,
            },
        }),
        None => None,
    };
    let status = Status {
        daemon_pid,
        recording_failure,
        scopes,
        fleet,
    };
    if args.json {
        println!("{}", crate::say::json(&status)?);
        return Ok(0);
    }
    let lang = Lang::resolve(args.lang);
    let t = |j: &'static str, e: &'static str| lang.pick(j, e);
    let show = |rfc: &str| clock::show_text(rfc, offset);
    match status.daemon_pid {
        Some(pid) => say!("{} (pid {pid})", t("デーモン: 実行中", "daemon: running")),
        None => say!("{}", t("デーモン: 停止中", "daemon: not running")),
    }
    if let Some(f) = &status.recording_failure {
        print_failure(lang, f, &show);
    }
    if status.scopes.is_empty() {
        say!(
            "{}",
            t("スコープが設定されていません", "no scopes are configured")
        );
    }
    for s in &status.scopes {
        say!("scope {:?}", s.scope);
        match &s.last {
            Some(l) => say!(
                "  {}: {} {} {} ({} {}, {} {})",
                t("前回", "last"),
                show(&l.started_at),
                l.id,
                l.status.as_str(),
                l.findings.unwrap_or(0),
                t("件の所見", "findings"),
                l.high.unwrap_or(0) + l.critical.unwrap_or(0),
                t("件が緊急・重要", "critical or high")
            ),
            None => say!("  {}: -", t("前回", "last")),
        }
        if s.rerun_pending {
            say!(
                "  {}",
                t(
                    "前回のスキャンは中断されました。次の機会に再実行します",
                    "the last scan was cut off; it runs again at the next opportunity"
                )
            );
        }
        if s.adopt_pending {
            say!(
                "  {}",
                t(
                    "前回のスキャンは封印済みですが未記録です。デーモンの次回起動時に報告書から記録します",
                    "the last scan was sealed but not recorded; the daemon records it from its report folder when it next starts"
                )
            );
        }
        match &s.next {
            Some(n) => say!("  {}: {}", t("次回", "next"), show(n)),
            None => say!("  {}: -", t("次回", "next")),
        }
    }
    if let Some(f) = &status.fleet {
        print_fleet(lang, f, &show);
    }
    Ok(0)
}

/// The site and the outbox: waiting bundles first, since they are what needs a look.
fn print_fleet(lang: Lang, f: &FleetStatus, show: &dyn Fn(&str) -> String) {
    let t = |j: &'static str, e: &'static str| lang.pick(j, e);
    match &f.db {
        Some(db) => say!(
            "{} {:?} → {db}",
            t("フリート: サイト", "fleet: site"),
            f.site
        ),
        None => say!(
            "{} {:?} ({})",
            t("フリート: サイト", "fleet: site"),
            f.site,
            t("送信先なし", "no database")
        ),
    }
    let Some(o) = &f.outbox else {
        if f.db.is_some() {
            say!("  {}: -", t("送信待ち", "outbox"));
        }
        return;
    };
    match (o.queued, o.oldest_age_s) {
        (0, _) => say!("  {}: 0", t("送信待ち", "outbox")),
        (n, age) => say!(
            "  {}: {n} {} ({} {})",
            t("送信待ち", "outbox"),
            t("件", "waiting"),
            t("最古", "oldest"),
            age.map_or_else(|| "-".to_owned(), |a| span(lang, a))
        ),
    }
    if o.queued > 0 {
        if let Some(next) = &o.next_try_at {
            say!(
                "  {}: {} ({} {})",
                t("次の再試行", "next try"),
                show(next),
                o.attempts,
                t("回失敗", "failed tries")
            );
        }
        if let Some(e) = &o.last_error {
            say!("  {}: {e}", t("最後のエラー", "last error"));
        }
    }
    if o.done > 0 {
        say!(
            "  {}: {} ({} {})",
            t("送信済み", "pushed"),
            o.done,
            t("最後", "last"),
            o.last_done_at
                .as_deref()
                .map_or_else(|| "-".to_owned(), show)
        );
    }
    if let Some(e) = &o.last_failed {
        say!(
            "  {}: {} ({} {} {}: {})",
            t("拒否（再送しません）", "refused (not retried)"),
            o.failed,
            t("最後", "last"),
            e.scan_id,
            e.report_dir.display(),
            e.last_error.as_deref().unwrap_or("-")
        );
    }
}

/// A duration in seconds as people say it: `2 d 3 h`, `5 h 12 min`, `40 s`.
fn span(lang: Lang, secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match lang {
        Lang::Ja if d > 0 => format!("{d}日{h}時間前"),
        Lang::Ja if h > 0 => format!("{h}時間{m}分前"),
        Lang::Ja if m > 0 => format!("{m}分前"),
        Lang::Ja => format!("{secs}秒前"),
        Lang::En if d > 0 => format!("{d} d {h} h ago"),
        Lang::En if h > 0 => format!("{h} h {m} min ago"),
        Lang::En if m > 0 => format!("{m} min ago"),
        Lang::En => format!("{secs} s ago"),
    }
}

/// The history's recording failure, first and plainly: scans are not being recorded.
fn print_failure(lang: Lang, f: &RecordingFailure, show: &dyn Fn(&str) -> String) {
    let stage = match f.stage {
        Stage::Start => lang.pick("スキャンは実行されませんでした", "the scan did not run"),
        Stage::Finish => lang.pick(
            "封印済みの報告書は保持され、記録できるようになった時点で記録されます",
            "its sealed report is kept and recorded once the history can record again",
        ),
        Stage::Adopt => lang.pick(
            "保持された報告書を記録できませんでした",
            "a kept report could not be recorded",
        ),
    };
    match lang {
        Lang::Ja => {
            say!(
                "履歴: 記録できません（{} から、{} 回）",
                show(&f.since),
                f.failures
            );
            say!(
                "  最後: {} スコープ {:?} スキャン {}（{stage}）",
                show(&f.last),
                f.scope,
                f.scan
            );
            say!("  理由: {}", f.reason);
        }
        Lang::En => {
            say!(
                "history: CANNOT RECORD scans since {} ({} failure(s))",
                show(&f.since),
                f.failures
            );
            say!(
                "  last: {} scope {:?} scan {} ({stage})",
                show(&f.last),
                f.scope,
                f.scan
            );
            say!("  reason: {}", f.reason);
        }
    }
}
