//! `kenshin scan`: from arguments to a written report, with a progress bar, a
//! summary and Ctrl-C/SIGTERM handling around the engine's scan job.
//!
//! Everything that can be wrong with the input (targets, ports, limits, the
//! output folder) is checked before the first packet is sent.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use kenshin_engine::{job, ScanSettings, SettingError};
use kenshin_probe::scan::Progress;
use tokio_util::sync::CancellationToken;

use crate::cli::{Lang, ScanArgs};
use crate::{progress, text};

/// Exit code of an interrupted scan.
const INTERRUPTED: u8 = 130;

pub(crate) fn run(args: ScanArgs, quiet: bool) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(args, quiet))
}

async fn run_async(args: ScanArgs, quiet: bool) -> anyhow::Result<u8> {
    let lang = Lang::resolve(args.lang);
    let out = args.out.clone();
    let listen = args.listen.map(|d| (d, args.listen_interface.clone()));
    let settings = ScanSettings::from(args);
    settings.validate().map_err(flag_error)?;
    let checked = job::check(settings)?;
    let cancel = CancellationToken::new();
    crate::signals::spawn_signal_watch(cancel.clone());
    // `--listen`: hear the segment first, sending nothing, so classes are known before
    // the first probe. A capture that cannot open stops here, with nothing written.
    let heard = match listen {
        Some((duration, interface)) => Some(
            crate::listen_cmd::before_scan(interface, duration, lang, quiet, cancel.clone())
                .await?,
        ),
        None => None,
    };
    let scan_id = job::new_scan_id();
    let out = out.unwrap_or_else(|| PathBuf::from(format!("kenshin-{}", &scan_id[..16])));
    let mut prepared = job::prepare(checked, scan_id, out).await?;
    if let Some(h) = heard {
        prepared = prepared.with_heard(h);
    }
    if prepared.key().created() && !quiet {
        eprintln!(
            "kenshin: created the signing key {} (fingerprint {}); give this fingerprint to \
             whoever verifies the reports (`kenshin key` shows it again)",
            kenshin_report::screen::visible_path(&prepared.key_path()),
            prepared.key().public().fingerprint()
        );
    }

    let progress_state = Arc::new(Progress::default());
    let display =
        progress::Display::start(progress_state.clone(), !quiet, prepared.addresses(), lang);
    let finished = job::execute(prepared, cancel, progress_state).await;
    display.finish();
    let finished = finished?;
    let report = &finished.report;

    if !quiet {
        for w in &report.scan.warnings {
            eprintln!("kenshin: warning: {}", kenshin_report::visible(w));
        }
        println!("{}", text::summary(lang, report, &finished.written));
    }
    Ok(if !report.scan.complete {
        INTERRUPTED
    } else if report
        .findings
        .iter()
        .filter(|f| !f.disposition.is_accepted())
        .all(|f| f.severity == kenshin_report::model::Severity::Info)
    {
        // Informational findings (a medical device on the network …) are not faults,
        // nor are risks the register accepts.
        0
    } else {
        1
    })
}

/// A bad value, named by its flag: `--rate: 0 is out of range: 1 to 100000 packets/s`.
fn flag_error(e: SettingError) -> anyhow::Error {
    anyhow::anyhow!("{}: {e}", e.setting.flag())
}
