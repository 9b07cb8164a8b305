//! `kenshin status`: whether the daemon runs, and each scope's last and next scan.

use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{Lang, StatusArgs};
use kenshin_daemon::config::Config;
use kenshin_daemon::history::{ScanRow, Store};
use kenshin_daemon::lock;
use kenshin_engine::clock;

#[derive(Debug, Serialize)]
struct Status {
    daemon_pid: Option<u32>,
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
}

pub(crate) fn run(args: &StatusArgs) -> anyhow::Result<u8> {
    let config = Config::load(&args.config.config)?;
    let offset = config.daemon.utc_offset;
    let db = config.history_path();
    let store = if db.exists() {
        Some(Store::open(&db)?)
    } else {
        None
    };
    let now = OffsetDateTime::now_utc();
    let daemon_pid = lock::holder(&config.daemon.state_dir);
    let mut scopes = Vec::new();
    for s in &config.scopes {
        let last = match &store {
            Some(st) => st.scans(Some(&s.name), 1)?.into_iter().next(),
            None => None,
        };
        // A scan recorded running is cut off only if no daemon is running it.
        let rerun_pending = last.as_ref().is_some_and(|l| match l.status {
            kenshin_daemon::history::Status::Interrupted => true,
            kenshin_daemon::history::Status::Running => daemon_pid.is_none(),
            _ => false,
        });
        let next = s
            .next_run_after(clock::local(now, offset))
            .map(|t| clock::instant(t, offset));
        scopes.push(ScopeStatus {
            scope: s.name.clone(),
            last,
            next: next.map(clock::rfc3339),
            rerun_pending,
        });
    }
    let status = Status { daemon_pid, scopes };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(0);
    }
    let lang = Lang::resolve(args.lang);
    let t = |j: &'static str, e: &'static str| lang.pick(j, e);
    match status.daemon_pid {
        Some(pid) => println!("{} (pid {pid})", t("デーモン: 実行中", "daemon: running")),
        None => println!("{}", t("デーモン: 停止中", "daemon: not running")),
    }
    if status.scopes.is_empty() {
        println!(
            "{}",
            t("スコープが設定されていません", "no scopes are configured")
        );
    }
    let show = |rfc: &str| clock::show_text(rfc, offset);
    for s in &status.scopes {
        println!("scope {:?}", s.scope);
        match &s.last {
            Some(l) => println!(
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
            None => println!("  {}: -", t("前回", "last")),
        }
        if s.rerun_pending {
            println!(
                "  {}",
                t(
                    "前回のスキャンは中断されました。次の機会に再実行します",
                    "the last scan was cut off; it runs again at the next opportunity"
                )
            );
        }
        match &s.next {
            Some(n) => println!("  {}: {}", t("次回", "next"), show(n)),
            None => println!("  {}: -", t("次回", "next")),
        }
    }
    Ok(0)
}
