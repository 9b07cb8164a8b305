//! Scans the history still lists as `running` although no task runs them: at the
//! daemon's start (it was killed, or the history could not record how they ended),
//! and before a scope's next scan (the history could not record how its last one
//! ended, a full disk since freed).
//!
//! A scan whose folder was sealed and renamed into place (`reports/SCOPE/ID`, next to
//! the `.ID.partial` the history recorded) is adopted: recorded from its report as a
//! scan that just finished would be ([`crate::record`]), and not run again (a folder
//! sealed but not yet renamed is renamed first). At start, any other is marked
//! interrupted, its unsealed `.ID.partial` folder removed, and the scheduler runs its
//! scope again.

use std::path::{Path, PathBuf};

use kenshin_report::model::Report;

use crate::history::{ScanRow, Status, Store};
use crate::record;

/// Why a scan cut off by the daemon's death is marked interrupted.
pub const CUT_OFF: &str =
    "the daemon stopped during the scan (killed or crashed); no report was written";

/// Why an adopted scan was recorded late.
pub const ADOPTED: &str = "recorded later from its sealed report folder: the history could \
     not record the scan when it ended";

/// What became of a scan found `running`.
#[derive(Debug)]
pub enum Settled {
    /// Its sealed folder was recorded.
    Adopted {
        scan: ScanRow,
        status: Status,
        report_dir: PathBuf,
    },
    /// No sealed folder: marked interrupted.
    Interrupted(ScanRow),
}

/// Why a folder is not a sealed report of the scan.
#[derive(Debug, thiserror::Error)]
pub enum NotSealed {
    #[error("{} is not a folder", .0.display())]
    NotAFolder(PathBuf),
    #[error("{} has no sealed {name}: {source}", dir.display())]
    Missing {
        dir: PathBuf,
        name: &'static str,
        #[source]
        source: kenshin_files::ReadError,
    },
    #[error("{}: {source:#}", dir.display())]
    Report {
        dir: PathBuf,
        #[source]
        source: anyhow::Error,
    },
    #[error("{} holds the report of scan {found}, not of {expected}", dir.display())]
    OtherScan {
        dir: PathBuf,
        found: String,
        expected: String,
    },
}

/// Where scan `row` would have been renamed to once sealed: `reports/SCOPE/ID` next to
/// the recorded `reports/SCOPE/.ID.partial` (or the recorded folder itself if it is
/// already the final one). `None` for a path the daemon did not make.
pub fn final_folder(row: &ScanRow, reports_dir: &Path) -> Option<PathBuf> {
    let recorded = Path::new(row.report_dir.as_deref()?);
    let name = recorded.file_name()?.to_str()?;
    let dir = if name == format!(".{}.partial", row.id) {
        recorded.with_file_name(&row.id)
    } else if name == row.id {
        recorded.to_owned()
    } else {
        return None;
    };
    dir.starts_with(reports_dir).then_some(dir)
}

/// The report of `dir` if it is scan `id`'s sealed folder: a real folder (not a
/// link) holding `manifest.json` and `manifest.sig` as regular files and a
/// `report.json` that parses and names scan `id`.
pub fn read_sealed(dir: &Path, id: &str) -> Result<Report, NotSealed> {
    if !std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        return Err(NotSealed::NotAFolder(dir.to_owned()));
    }
    for name in ["manifest.json", "manifest.sig"] {
        kenshin_files::open_regular(&dir.join(name), kenshin_files::Follow::No).map_err(
            |source| NotSealed::Missing {
                dir: dir.to_owned(),
                name,
                source,
            },
        )?;
    }
    let report = record::read_report(dir).map_err(|source| NotSealed::Report {
        dir: dir.to_owned(),
        source,
    })?;
    if report.scan.id != id {
        return Err(NotSealed::OtherScan {
            dir: dir.to_owned(),
            found: report.scan.id,
            expected: id.to_owned(),
        });
    }
    Ok(report)
}

/// The scan's sealed folder (in place) and report, if it has one. A folder sealed
/// but still named `.ID.partial` (the daemon died between sealing and renaming) is
/// renamed into place first.
pub fn sealed(row: &ScanRow, reports_dir: &Path) -> Option<(PathBuf, Report)> {
    let dir = final_folder(row, reports_dir)?;
    if !dir.exists() {
        let partial = PathBuf::from(row.report_dir.as_deref()?);
        if partial != dir && read_sealed(&partial, &row.id).is_ok() {
            if let Err(e) = std::fs::rename(&partial, &dir) {
                tracing::warn!(
                    "cannot rename {} to {}: {e}",
                    partial.display(),
                    dir.display()
                );
                return None;
            }
            if let Some(parent) = dir.parent() {
                if let Err(e) = record::sync_dir(parent) {
                    tracing::warn!("{e:#}");
                }
            }
        }
    }
    match read_sealed(&dir, &row.id) {
        Ok(report) => Some((dir, report)),
        Err(e) => {
            if dir.exists() {
                tracing::warn!(scope = %row.scope, scan = %row.id, "not adopted: {e}");
            }
            None
        }
    }
}

/// Whether scan `row` would be adopted at the next start: a sealed folder in place
/// or not yet renamed. Reads only (for `kenshin status`).
pub fn adoptable(row: &ScanRow, reports_dir: &Path) -> bool {
    let Some(dir) = final_folder(row, reports_dir) else {
        return false;
    };
    read_sealed(&dir, &row.id).is_ok()
        || row
            .report_dir
            .as_deref()
            .is_some_and(|p| read_sealed(Path::new(p), &row.id).is_ok())
}

/// Records scan `row` from its sealed folder, with its changes since its baseline.
fn adopt(store: &Store, row: ScanRow, dir: PathBuf, report: &Report) -> anyhow::Result<Settled> {
    let comparison = record::compare(store, &row.scope, &row.id, report);
    let status = record::record(store, &row.id, report, &dir, &comparison, Some(ADOPTED))?;
    tracing::warn!(
        scope = %row.scope,
        scan = %row.id,
        status = status.as_str(),
        "scan {} was sealed but not recorded; recorded now from {}",
        row.id,
        dir.display()
    );
    Ok(Settled::Adopted {
        scan: row,
        status,
        report_dir: dir,
    })
}

/// At the daemon's start, before it scans: every scan still `running` is adopted
/// (sealed folder in place) or marked interrupted with [`CUT_OFF`] and its unsealed
/// folder removed. Each scan is its own transaction.
pub fn at_start(store: &Store, reports_dir: &Path, at: &str) -> anyhow::Result<Vec<Settled>> {
    let mut out = Vec::new();
    for row in store.running(None)? {
        match sealed(&row, reports_dir) {
            Some((dir, report)) => out.push(adopt(store, row, dir, &report)?),
            None => {
                store.interrupt(&row.id, at, CUT_OFF)?;
                if let Some(dir) = &row.report_dir {
                    remove_partial(Path::new(dir), reports_dir);
                }
                out.push(Settled::Interrupted(row));
            }
        }
    }
    Ok(out)
}

/// Before a scan of `scope`, with the daemon running: adopts the scope's scans still
/// `running` that have a sealed folder and for which `live` is false (no task runs
/// them). Any other is left for the next start.
pub fn adopt_sealed(
    store: &Store,
    reports_dir: &Path,
    scope: &str,
    live: impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<Settled>> {
    let mut out = Vec::new();
    for row in store.running(Some(scope))? {
        if live(&row.id) {
            continue;
        }
        if let Some((dir, report)) = sealed(&row, reports_dir) {
            out.push(adopt(store, row, dir, &report)?);
        }
    }
    Ok(out)
}

/// Removes the unsealed folder of a scan that was cut off; only a `.ID.partial`
/// folder under the reports folder.
fn remove_partial(dir: &Path, reports_dir: &Path) {
    let is_partial = dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.ends_with(".partial"));
    if is_partial && dir.starts_with(reports_dir) && dir.is_dir() {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => tracing::info!(
                "removed the unsealed folder {} of the cut-off scan",
                dir.display()
            ),
            Err(e) => tracing::warn!("cannot remove {}: {e}", dir.display()),
        }
    }
}

#[cfg(test)]
mod tests;
