//! Recording a sealed report in the history, in two steps that a scan that just
//! finished ([`crate::scan_task`]) and a sealed folder adopted later
//! ([`crate::reconcile`]) share: [`compare`] with the scope's baseline (its last
//! complete scan before this one), then [`record`] the scan with its hosts, services,
//! findings and changes in one transaction; [`sync_dir`] makes the folder's rename
//! into place durable before that.

use std::path::Path;

use anyhow::Context;
use kenshin_report::diff::Diff;
use kenshin_report::model::Report;

use crate::history::{Status, Store};

/// The largest `report.json` read back from a report folder.
const MAX_REPORT: u64 = 1024 * 1024 * 1024;

/// A scan's changes since its baseline.
#[derive(Debug, Default)]
pub struct Comparison {
    /// The baseline scan's ID; `None` for a scope's first complete scan.
    pub previous: Option<String>,
    pub diff: Option<Diff>,
}

/// Makes a rename into `dir` durable before the history records it: an fsync of the
/// folder itself.
pub fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot fsync the folder {}", dir.display()))
}

/// Reads a report folder's `report.json` (a regular file, not a link, at most
/// [`MAX_REPORT`] bytes).
pub fn read_report(dir: &Path) -> anyhow::Result<Report> {
    let path = dir.join("report.json");
    let bytes = kenshin_files::read(&path, MAX_REPORT, kenshin_files::Follow::No)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("{} is not a kenshin report: {e}", path.display()))
}

/// Compares `report` (scan `id` of `scope`) with the scope's baseline. A baseline
/// that cannot be read is logged and the scan is treated as a first scan.
pub fn compare(store: &Store, scope: &str, id: &str, report: &Report) -> Comparison {
    let baseline = store.baseline_before(scope, id).unwrap_or_else(|e| {
        tracing::warn!(scope, scan = id, "cannot look up the baseline: {e:#}");
        None
    });
    let Some((previous, dir)) = baseline.and_then(|b| Some((b.id, b.report_dir?))) else {
        return Comparison::default();
    };
    match read_report(Path::new(&dir)) {
        Ok(old) => Comparison {
            diff: Some(kenshin_report::diff::diff(&old, report)),
            previous: Some(previous),
        },
        Err(e) => {
            tracing::warn!(
                scope,
                scan = id,
                "cannot read the baseline {previous}: {e:#}"
            );
            Comparison::default()
        }
    }
}

/// How a sealed report is recorded: complete, or partial if the report says so.
pub fn status_of(report: &Report) -> Status {
    if report.scan.complete {
        Status::Complete
    } else {
        Status::Partial
    }
}

/// Records scan `id` as finished with its sealed folder `dir`, in one transaction.
pub fn record(
    store: &Store,
    id: &str,
    report: &Report,
    dir: &Path,
    comparison: &Comparison,
    reason: Option<&str>,
) -> anyhow::Result<Status> {
    let changes = comparison
        .diff
        .as_ref()
        .map(serde_json::to_value)
        .transpose()?;
    store.finish(
        id,
        report,
        dir,
        comparison.previous.as_deref(),
        changes.as_ref(),
        reason,
    )?;
    Ok(status_of(report))
}
