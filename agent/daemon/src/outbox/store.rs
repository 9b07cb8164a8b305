//! The outbox table of the history database: sealed scans waiting to be pushed,
//! oldest first, and what became of each try. Rows are added by
//! [`crate::history::Store::finish`] (in the transaction that records the scan) and
//! only ever move `queued` → `done` or `queued` → `failed`.

use std::path::PathBuf;

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;

use crate::history::Store;
use kenshin_engine::clock;

/// Where a bundle is in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting to be pushed (perhaps after failed tries).
    Queued,
    /// Pushed; headquarters has it.
    Done,
    /// Refused for a reason retrying cannot mend; alerted, never tried again.
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Done => "done",
            State::Failed => "failed",
        }
    }

    fn parse(s: &str) -> State {
        match s {
            "done" => State::Done,
            "failed" => State::Failed,
            _ => State::Queued,
        }
    }
}

/// One sealed scan in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The order bundles go in.
    pub seq: i64,
    pub scan_id: String,
    pub scope: String,
    pub report_dir: PathBuf,
    pub state: State,
    pub queued_at: String,
    /// Tries that failed so far.
    pub attempts: u32,
    /// Not tried again before this (RFC 3339); `None`: at once.
    pub next_try_at: Option<String>,
    /// Why the last try failed (for `failed`: why it was refused).
    pub last_error: Option<String>,
    /// When it was pushed or refused.
    pub settled_at: Option<String>,
}

const COLUMNS: &str = "seq, scan_id, scope, report_dir, state, queued_at, attempts, \
     next_try_at, last_error, settled_at";

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        seq: r.get(0)?,
        scan_id: r.get(1)?,
        scope: r.get(2)?,
        report_dir: PathBuf::from(r.get::<_, String>(3)?),
        state: State::parse(&r.get::<_, String>(4)?),
        queued_at: r.get(5)?,
        attempts: u32::try_from(r.get::<_, i64>(6)?).unwrap_or(u32::MAX),
        next_try_at: r.get(7)?,
        last_error: r.get(8)?,
        settled_at: r.get(9)?,
    })
}

/// What `kenshin status` shows of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Bundles waiting.
    pub queued: u64,
    /// When the oldest waiting bundle was queued, and its age in seconds.
    pub oldest_queued_at: Option<String>,
    pub oldest_age_s: Option<i64>,
    /// The next try of the oldest waiting bundle (the one everything waits behind).
    pub next_try_at: Option<String>,
    /// Its failed tries so far, and why the last one failed.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Bundles pushed, and when the last one was.
    pub done: u64,
    pub last_done_at: Option<String>,
    /// Bundles refused for good; the latest of them.
    pub failed: u64,
    pub last_failed: Option<Entry>,
}

/// The outbox of one open history database.
#[derive(Debug)]
pub struct Queue<'a> {
    store: &'a Store,
}

impl Store {
    /// The outbox table.
    pub fn outbox(&self) -> Queue<'_> {
        Queue { store: self }
    }
}

impl Queue<'_> {
    fn conn(&self) -> &rusqlite::Connection {
        self.store.conn()
    }

    /// True if the database has the table (a database of schema version 1 opened
    /// read-only has not).
    pub fn exists(&self) -> anyhow::Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'",
                [],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The bundle everything else waits behind: the oldest still queued.
    pub fn head(&self) -> anyhow::Result<Option<Entry>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM outbox WHERE state = 'queued' ORDER BY seq LIMIT 1"
                ),
                [],
                entry,
            )
            .optional()?)
    }

    /// Every entry in `state`, oldest first.
    pub fn entries(&self, state: State) -> anyhow::Result<Vec<Entry>> {
        let mut q = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE state = ?1 ORDER BY seq"
        ))?;
        let rows = q
            .query_map(params![state.as_str()], entry)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The entry of scan `id`, if it was queued.
    pub fn of_scan(&self, id: &str) -> anyhow::Result<Option<Entry>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE scan_id = ?1"),
                params![id],
                entry,
            )
            .optional()?)
    }

    /// Records that bundle `seq` was pushed.
    pub fn done(&self, seq: i64, at: &str) -> anyhow::Result<()> {
        self.settle(seq, State::Done, at, None)
    }

    /// Records that bundle `seq` was refused for good, and why.
    pub fn fail(&self, seq: i64, at: &str, reason: &str) -> anyhow::Result<()> {
        self.settle(seq, State::Failed, at, Some(reason))
    }

    fn settle(&self, seq: i64, state: State, at: &str, reason: Option<&str>) -> anyhow::Result<()> {
        let n = self.conn().execute(
            "UPDATE outbox SET state = ?2, settled_at = ?3, next_try_at = NULL, \
             last_error = COALESCE(?4, last_error) WHERE seq = ?1 AND state = 'queued'",
            params![seq, state.as_str(), at, reason],
        )?;
        anyhow::ensure!(n == 1, "outbox entry {seq} is not queued");
        Ok(())
    }

    /// Records a failed try of bundle `seq` that may succeed later: its count, why,
    /// and when to try again.
    pub fn retry_at(&self, seq: i64, next_try_at: &str, error: &str) -> anyhow::Result<u32> {
        let attempts: i64 = self.conn().query_row(
            "UPDATE outbox SET attempts = attempts + 1, next_try_at = ?2, last_error = ?3 \
             WHERE seq = ?1 AND state = 'queued' RETURNING attempts",
            params![seq, next_try_at, error],
            |r| r.get(0),
        )?;
        Ok(u32::try_from(attempts).unwrap_or(u32::MAX))
    }

    /// True if scan `id` still waits to be pushed (retention keeps its folder).
    pub fn is_queued(&self, id: &str) -> anyhow::Result<bool> {
        Ok(self.of_scan(id)?.is_some_and(|e| e.state == State::Queued))
    }

    /// Counts, the head's state and the latest refusal; `None` when the database has
    /// no outbox yet.
    pub fn summary(&self, now: OffsetDateTime) -> anyhow::Result<Option<Summary>> {
        if !self.exists()? {
            return Ok(None);
        }
        let count = |state: State| -> anyhow::Result<u64> {
            let n: i64 = self.conn().query_row(
                "SELECT COUNT(*) FROM outbox WHERE state = ?1",
                params![state.as_str()],
                |r| r.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let head = self.head()?;
        let last = |state: State| -> anyhow::Result<Option<Entry>> {
            Ok(self
                .conn()
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM outbox WHERE state = ?1 \
                         ORDER BY settled_at DESC, seq DESC LIMIT 1"
                    ),
                    params![state.as_str()],
                    entry,
                )
                .optional()?)
        };
        Ok(Some(Summary {
            queued: count(State::Queued)?,
            oldest_age_s: head
                .as_ref()
                .and_then(|h| clock::parse(&h.queued_at))
                .map(|t| (now - t).whole_seconds().max(0)),
            oldest_queued_at: head.as_ref().map(|h| h.queued_at.clone()),
            next_try_at: head.as_ref().and_then(|h| h.next_try_at.clone()),
            attempts: head.as_ref().map_or(0, |h| h.attempts),
            last_error: head.as_ref().and_then(|h| h.last_error.clone()),
            done: count(State::Done)?,
            last_done_at: last(State::Done)?.and_then(|e| e.settled_at),
            failed: count(State::Failed)?,
            last_failed: last(State::Failed)?,
        }))
    }
}
