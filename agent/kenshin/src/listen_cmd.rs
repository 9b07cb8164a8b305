//! `kenshin listen`: listen-only discovery to a sealed report folder, and the
//! listening step of `kenshin scan --listen`.
//!
//! Every input (duration, interface, ledger, segments) is checked and the
//! receive-only capture opened before anything is written; an error there exits 2
//! with nothing on disk.

use std::path::PathBuf;

use anyhow::Context;
use kenshin_engine::job::{self, Shared};
use kenshin_engine::listen::{self, ListenSettings};
use kenshin_probe::listen::Heard;
use tokio_util::sync::CancellationToken;

use crate::cli::{Lang, ListenArgs};
use crate::text;

pub(crate) fn run(args: ListenArgs, quiet: bool) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(args, quiet))
}

async fn run_async(args: ListenArgs, quiet: bool) -> anyhow::Result<u8> {
    let lang = Lang::resolve(args.lang);
    let out = args.out.clone();
    let shared = Shared::load()?;
    let ready = listen::check(ListenSettings::from(args))?;
    let scan_id = job::new_scan_id();
    let out: PathBuf = out.unwrap_or_else(|| listen::default_out(&scan_id));
    if !quiet {
        eprintln!("{}", announce(lang, ready.interface(), ready.duration()));
    }
    let cancel = CancellationToken::new();
    crate::signals::spawn_signal_watch(cancel.clone());
    let finished = listen::run(ready, scan_id, out, cancel, &shared).await?;
    let report = &finished.report;
    if !quiet {
        for w in &report.scan.warnings {
            eprintln!("kenshin: warning: {}", kenshin_report::visible(w));
        }
        println!("{}", text::summary(lang, report, &finished.written));
    }
    Ok(if report.scan.complete { 0 } else { 130 })
}

/// Listens before a scan (`scan --listen`): returns what was heard.
pub(crate) async fn before_scan(
    interface: Option<String>,
    duration: std::time::Duration,
    lang: Lang,
    quiet: bool,
    cancel: CancellationToken,
) -> anyhow::Result<Heard> {
    let ready = listen::check(ListenSettings {
        interface,
        duration,
        ..ListenSettings::default()
    })?;
    if !quiet {
        eprintln!("{}", announce(lang, ready.interface(), ready.duration()));
    }
    let (heard, _, _) = ready.listen(cancel).await?;
    if !quiet {
        eprintln!("{}", heard_line(lang, &heard));
    }
    Ok(heard)
}

fn announce(lang: Lang, interface: &str, duration: std::time::Duration) -> String {
    let secs = duration.as_secs();
    let iface = kenshin_report::visible(interface);
    match lang {
        Lang::Ja => {
            format!("kenshin: {iface} で {secs} 秒間聴取します（フレームは一切送信しません）")
        }
        Lang::En => format!("kenshin: listening on {iface} for {secs}s (no frame is sent)"),
    }
}

fn heard_line(lang: Lang, heard: &Heard) -> String {
    let (frames, hosts) = (heard.frames, heard.hosts.len());
    match lang {
        Lang::Ja => format!("kenshin: 聴取終了: {frames} フレーム、{hosts} ホスト"),
        Lang::En => format!("kenshin: listening done: {frames} frames, {hosts} hosts heard"),
    }
}
