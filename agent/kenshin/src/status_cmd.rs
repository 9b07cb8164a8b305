//! `kenshin status`: whether the daemon runs, whether its history can record scans,
//! and each scope's last and next scan. It only reads (the history read-only, the
//! daemon's health file), so it works while the disk is full.

use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{Lang, StatusArgs};
use crate::say::say;
use kenshin_daemon::config::Config;
use kenshin_daemon::health::{self, RecordingFailure, Stage};
use kenshin_daemon::history::{ScanRow, Status as ScanStatus, Store};
use kenshin_daemon::{lock, reconcile};
use kenshin_engine::clock;

#[derive(Debug, Serialize)]
struct Status {
    daemon_pid: Option<u32>,
    /// The history cannot record scans (from the daemon's health file); `null` when it
    /// can, or no daemon has run.
    recording_failure: Option<RecordingFailure>,
    scopes: Vec<ScopeStatus>,
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
    let status = Status {
        daemon_pid,
        recording_failure,
        scopes,
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
    Ok(0)
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
