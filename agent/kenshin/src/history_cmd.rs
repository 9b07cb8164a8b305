//! `kenshin history`: the scans the daemon recorded, one scan's changes and
//! notifications and its push to the fleet database, or one host's timeline. It opens the history read-only.

use serde_json::json;

use crate::cli::{HistoryArgs, Lang};
use crate::say::{say, say_part};
use kenshin_daemon::config::Config;
use kenshin_daemon::history::Store;
use kenshin_engine::clock;

pub(crate) fn run(args: &HistoryArgs) -> anyhow::Result<u8> {
    let config = Config::load(&args.config.config)?;
    let db = config.history_path();
    // Read-only: this works while the daemon runs, and while its disk is full.
    let Some(store) = Store::open_read_only(&db)? else {
        anyhow::bail!(
            "no history at {}: the daemon has not run a scan with this configuration yet",
            db.display()
        );
    };
    let offset = config.daemon.utc_offset;
    let lang = Lang::resolve(args.lang);
    let t = |j: &'static str, e: &'static str| lang.pick(j, e);
    let show = |rfc: &str| clock::show_text(rfc, offset);

    if let Some(id) = &args.scan {
        let Some(scan) = store.scan(id)? else {
            anyhow::bail!("no scan {id:?} in {}", db.display());
        };
        let changes = store.changes(id)?;
        let notifications = store.notifications(id)?;
        let outbox = store.outbox();
        // Queued for the fleet database, pushed or refused; `None` without [fleet] db.
        let upload = if outbox.exists()? {
            outbox.of_scan(id)?
        } else {
            None
        };
        if args.json {
            let n: Vec<_> = notifications
                .iter()
                .map(|(target, ok, error)| json!({"target": target, "ok": ok, "error": error}))
                .collect();
            println!(
                "{}",
                crate::say::json(
                    &json!({"scan": scan, "changes": changes, "notifications": n, "upload": upload})
                )?
            );
            return Ok(0);
        }
        say!(
            "{} {} [{}] {}",
            scan.id,
            scan.scope,
            scan.status.as_str(),
            show(&scan.started_at)
        );
        if let Some(r) = &scan.reason {
            say!("  {}: {r}", t("理由", "reason"));
        }
        if let Some(d) = &scan.report_dir {
            say!("  {}: {d}", t("報告書", "report"));
        }
        match (&scan.previous_scan, &changes) {
            (Some(p), Some(c)) => {
                say!("  {} {p}:", t("前回からの変化", "changes since"));
                let diff: Option<kenshin_report::diff::Diff> =
                    serde_json::from_value(c.clone()).ok();
                match diff {
                    Some(d) => {
                        for line in crate::text::diff(lang, &d).lines() {
                            say!("    {line}");
                        }
                    }
                    None => say!("    {c}"),
                }
            }
            _ => say!(
                "  {}",
                t(
                    "比較する前回の完了スキャンはありません",
                    "no earlier complete scan to compare with"
                )
            ),
        }
        for (target, ok, error) in &notifications {
            let how = if *ok {
                t("送信済み", "sent").to_owned()
            } else {
                format!(
                    "{}: {}",
                    t("失敗", "failed"),
                    error.as_deref().unwrap_or("")
                )
            };
            say!("  {} {target}: {how}", t("通知", "notification"));
        }
        if let Some(u) = &upload {
            let state = match u.state {
                kenshin_daemon::outbox::State::Queued => format!(
                    "{} ({} {}{})",
                    t("送信待ち", "waiting"),
                    u.attempts,
                    t("回失敗", "failed tries"),
                    u.last_error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ),
                kenshin_daemon::outbox::State::Done => format!(
                    "{} {}",
                    t("送信済み", "pushed"),
                    u.settled_at.as_deref().map(show).unwrap_or_default()
                ),
                kenshin_daemon::outbox::State::Failed => format!(
                    "{}: {}",
                    t("拒否（再送しません）", "refused (not retried)"),
                    u.last_error.as_deref().unwrap_or("-")
                ),
            };
            say!("  {}: {state}", t("フリート", "fleet"));
        }
        return Ok(0);
    }

    if let Some(addr) = &args.host {
        let timeline = store.host_timeline(addr)?;
        if args.json {
            println!(
                "{}",
                crate::say::json(&json!({"host": addr, "timeline": timeline}))?
            );
            return Ok(0);
        }
        if timeline.is_empty() {
            say!(
                "{addr}: {}",
                t(
                    "どのスキャンにも記録がありません",
                    "no scan has seen this address"
                )
            );
            return Ok(0);
        }
        let mut last: Option<Vec<String>> = None;
        for at in &timeline {
            say_part!(
                "{} {} [{}] ",
                show(&at.scan.started_at),
                at.scan.id,
                at.scan.scope
            );
            match &at.seen {
                None => say!("{}", t("見えず", "not seen")),
                Some(h) => {
                    let changed = last.as_ref() != Some(&h.services);
                    say!(
                        "{} {}{}",
                        h.kind,
                        h.services.join(", "),
                        if changed && last.is_some() {
                            t("  ← 変化", "  <- changed")
                        } else {
                            ""
                        }
                    );
                    for f in &h.findings {
                        say!("    {f}");
                    }
                    last = Some(h.services.clone());
                }
            }
        }
        return Ok(0);
    }

    let scans = store.scans(args.scope.as_deref(), args.limit)?;
    if args.json {
        println!("{}", crate::say::json(&scans)?);
        return Ok(0);
    }
    if scans.is_empty() {
        say!(
            "{}",
            t("記録されたスキャンはありません", "no scans recorded")
        );
    }
    for s in &scans {
        say!(
            "{}  {:<12} {:<11} {}  {} {}, {} {}, {} {} ({} {})",
            show(&s.started_at),
            s.scope,
            s.status.as_str(),
            s.id,
            s.hosts_up.unwrap_or(0),
            t("台", "hosts"),
            s.open_ports.unwrap_or(0),
            t("ポート", "ports"),
            s.findings.unwrap_or(0),
            t("件の所見", "findings"),
            s.critical.unwrap_or(0) + s.high.unwrap_or(0),
            t("緊急・重要", "critical/high"),
        );
        if let Some(r) = &s.reason {
            say!("      {r}");
        }
    }
    Ok(0)
}
