//! Retention: which of a scope's scans to forget, and forgetting them (the record
//! first, then the folder, so a crash in between leaves at worst an unlisted folder,
//! never a record pointing at nothing). A scan still waiting in the outbox keeps its
//! folder until it is pushed or refused.

use std::path::Path;

use time::OffsetDateTime;

use crate::config::Retention;
use crate::history::{ScanRow, Status, Store};

/// The scans to delete from `scans` (one scope's, newest first): beyond `keep_scans`,
/// or older than `keep_days`. The newest complete scan (the next scan's baseline) and
/// a running scan are always kept.
pub fn expired(scans: &[ScanRow], retention: Retention, now: OffsetDateTime) -> Vec<&ScanRow> {
    let baseline = scans
        .iter()
        .find(|s| s.status == Status::Complete)
        .map(|s| &s.id);
    let too_old = |s: &ScanRow| {
        retention.keep_days.is_some_and(|days| {
            kenshin_engine::clock::parse(&s.started_at)
                .is_some_and(|t| now - t > time::Duration::days(i64::from(days)))
        })
    };
    scans
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            let beyond = retention
                .keep_scans
                .is_some_and(|n| *i >= usize::try_from(n).unwrap_or(usize::MAX));
            (beyond || too_old(s)) && Some(&s.id) != baseline && s.status != Status::Running
        })
        .map(|(_, s)| s)
        .collect()
}

/// Applies retention to one scope; returns how many scans were forgotten.
pub fn apply(
    store: &Store,
    scope: &str,
    retention: Retention,
    reports_dir: &Path,
) -> anyhow::Result<usize> {
    if retention.keep_scans.is_none() && retention.keep_days.is_none() {
        return Ok(0);
    }
    let scans = store.scans(Some(scope), usize::MAX)?;
    let mut gone = expired(&scans, retention, OffsetDateTime::now_utc());
    let queue = store.outbox();
    if queue.exists()? {
        let mut waiting = Vec::new();
        for s in &gone {
            if queue.is_queued(&s.id)? {
                waiting.push(s.id.clone());
            }
        }
        if !waiting.is_empty() {
            tracing::info!(
                scope,
                "retention keeps {} scan(s) still waiting in the outbox",
                waiting.len()
            );
        }
        gone.retain(|s| !waiting.contains(&s.id));
    }
    for s in &gone {
        store.forget(&s.id)?;
        if let Some(dir) = &s.report_dir {
            let dir = Path::new(dir);
            // Only ever a folder the daemon made, inside its reports folder.
            if dir.starts_with(reports_dir) && dir.is_dir() {
                if let Err(e) = std::fs::remove_dir_all(dir) {
                    tracing::warn!("retention: cannot remove {}: {e}", dir.display());
                }
            }
        }
        tracing::info!(scope, scan = %s.id, "retention: forgot scan started {}", s.started_at);
    }
    Ok(gone.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, status: Status, started_at: &str) -> ScanRow {
        ScanRow {
            id: id.to_owned(),
            scope: "s".to_owned(),
            status,
            reason: None,
            started_at: started_at.to_owned(),
            finished_at: None,
            report_dir: None,
            rerun_of: None,
            previous_scan: None,
            hosts_up: None,
            open_ports: None,
            findings: None,
            critical: None,
            high: None,
        }
    }

    #[test]
    fn the_newest_scans_and_the_baseline_are_kept() {
        let scans = [
            row("e", Status::Partial, "2026-11-05T00:00:00Z"),
            row("d", Status::Interrupted, "2026-11-04T00:00:00Z"),
            row("c", Status::Complete, "2026-11-03T00:00:00Z"),
            row("b", Status::Complete, "2026-11-02T00:00:00Z"),
            row("a", Status::Failed, "2026-11-01T00:00:00Z"),
        ];
        let now = time::macros::datetime!(2026-11-06 00:00 UTC);
        let ids = |r: Retention| -> Vec<&str> {
            expired(&scans, r, now)
                .iter()
                .map(|s| s.id.as_str())
                .collect()
        };
        // Keep two: c is beyond them but is the newest complete scan.
        assert_eq!(
            ids(Retention {
                keep_scans: Some(2),
                keep_days: None
            }),
            ["b", "a"]
        );
        assert_eq!(
            ids(Retention {
                keep_scans: None,
                keep_days: Some(3)
            }),
            ["b", "a"]
        );
        assert_eq!(
            ids(Retention {
                keep_scans: Some(1),
                keep_days: None
            }),
            ["d", "b", "a"]
        );
        assert!(ids(Retention::default()).is_empty());
    }
}
