//! `kenshin check-config`: loads the configuration as the daemon would and says what
//! it will do: each scope's next runs, which scopes never run at once, where alerts go,
//! and the fleet site and database (its password shown as `***`).

use time::OffsetDateTime;

use crate::cli::{CheckConfigArgs, Lang};
use crate::say::say;
use kenshin_daemon::config::Config;
use kenshin_daemon::notify::SyslogTarget;
use kenshin_engine::clock;

/// How many upcoming runs to show per scope.
const UPCOMING: usize = 3;

/// With `quiet`, only the exit code (and an error on stderr) says whether it is valid.
pub(crate) fn run(args: &CheckConfigArgs, quiet: bool) -> anyhow::Result<u8> {
    let path = args
        .file
        .clone()
        .unwrap_or_else(|| args.config.config.clone());
    let lang = Lang::resolve(args.lang);
    let t = |j: &'static str, e: &'static str| lang.pick(j, e);
    let config = Config::load(&path)?;
    if quiet {
        return Ok(0);
    }
    let d = &config.daemon;
    say!("{} {}", path.display(), t("は正しい設定です", "is valid"));
    say!(
        "  {}: {} ({}: {})",
        t("状態フォルダ", "state"),
        d.state_dir.display(),
        t("報告書", "reports"),
        d.reports_dir.display()
    );
    say!(
        "  {}: {}",
        t("署名鍵", "signing key"),
        d.signing_key.display()
    );
    let (h, m, _) = d.utc_offset.as_hms();
    say!(
        "  {}: UTC{}{:02}:{:02}; {}: {}",
        t("時刻", "times in"),
        if d.utc_offset.is_negative() { '-' } else { '+' },
        h.unsigned_abs(),
        m.unsigned_abs(),
        t("同時に実行するスキャン", "scans at once"),
        d.max_parallel_scans
    );
    let keep = match (config.retention.keep_scans, config.retention.keep_days) {
        (None, None) => t("すべて保存", "keep everything").to_owned(),
        (n, days) => [
            n.map(|n| {
                lang.pick(&format!("{n} 回分"), &format!("{n} scans"))
                    .to_owned()
            }),
            days.map(|d| {
                lang.pick(&format!("{d} 日"), &format!("{d} days"))
                    .to_owned()
            }),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", "),
    };
    say!("  {}: {keep}", t("保存期間", "retention"));
    if config.scopes.is_empty() {
        say!(
            "  {}",
            t(
                "スコープがありません（[[scope]] を追加するまで何もスキャンしません）",
                "no scopes: nothing is scanned until a [[scope]] is added"
            )
        );
    }
    let now = clock::local(OffsetDateTime::now_utc(), d.utc_offset);
    for s in &config.scopes {
        let ports = s
            .settings
            .ports
            .clone()
            .unwrap_or_else(|| t("既定のポート", "default ports").to_owned());
        say!(
            "  scope {:?}: {} {}, {ports}, schedule \"{}\"{}{}",
            s.name,
            s.settings.targets.len(),
            t("件の対象", "target(s)"),
            s.schedule,
            s.window
                .map(|w| format!(", window {w}"))
                .unwrap_or_default(),
            if s.freeze.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} {}",
                    s.freeze.len(),
                    t("件の凍結期間", "freeze period(s)")
                )
            }
        );
        let mut at = now;
        let mut next = Vec::new();
        for _ in 0..UPCOMING {
            match s.next_run_after(at) {
                Some(n) => {
                    next.push(clock::show(clock::instant(n, d.utc_offset), d.utc_offset));
                    at = n;
                }
                None => break,
            }
        }
        if next.is_empty() {
            say!(
                "      {}",
                t(
                    "警告: スケジュール・時間帯・凍結日の組み合わせでは一度も実行されません",
                    "warning: the schedule, window and freeze dates leave no time to run"
                )
            );
        } else {
            say!("      {}: {}", t("次回", "next runs"), next.join(", "));
        }
    }
    for (i, a) in config.scopes.iter().enumerate() {
        for b in &config.scopes[i + 1..] {
            if a.overlaps(b) {
                say!(
                    "  {:?} / {:?}: {}",
                    a.name,
                    b.name,
                    t(
                        "対象が重なる（または名前で指定された）ため、同時には実行しません",
                        "share addresses (or name hosts), so never run at once"
                    )
                );
            }
        }
    }
    for w in &config.notify.webhooks {
        say!(
            "  webhook {} ({}: {})",
            w.url,
            t("通知", "events"),
            w.events
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(s) = &config.notify.syslog {
        let target = match &s.target {
            SyslogTarget::Unix(p) => format!("unix:{}", p.display()),
            SyslogTarget::Udp(a) => format!("udp://{a}"),
            SyslogTarget::Tcp(a) => format!("tcp://{a}"),
        };
        say!("  syslog {target} (facility {})", s.facility);
    }
    if let Some(f) = &config.fleet {
        show_fleet(lang, f);
    }
    Ok(0)
}

/// `[fleet]`: the site, and where sealed scans go (never the database password).
fn show_fleet(lang: Lang, f: &kenshin_daemon::config::Fleet) {
    let t = |j: &'static str, e: &'static str| lang.pick(j, e);
    say!("  {}: {}", t("フリートのサイト", "fleet site"), f.site);
    let Some(db) = &f.db else {
        say!(
            "      {}",
            t(
                "送信先なし（報告書は kenshin fleet push で手で運びます）",
                "no database: reports are carried by hand (kenshin fleet push)"
            )
        );
        return;
    };
    say!("      {}: {}", t("送信先", "pushes to"), db.url);
    let path = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map_or_else(|| "-".to_owned(), |p| p.display().to_string())
    };
    say!(
        "      {}: {}, {}: {}, CA: {}",
        t("クライアント証明書", "client cert"),
        path(&db.client_cert),
        t("鍵", "key"),
        path(&db.client_key),
        path(&db.ca)
    );
    say!(
        "      {}: {} s {} {} s",
        t("再試行の間隔", "retry every"),
        f.retry.min.as_secs(),
        t("から倍々で最大", "doubling up to"),
        f.retry.max.as_secs()
    );
}
