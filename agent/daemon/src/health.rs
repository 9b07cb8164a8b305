//! The daemon's health file, `STATE/health.json`: whether the history can record
//! scans, for `kenshin status` (another process, which must learn it even when the
//! disk is full and `history.db` cannot be written).
//!
//! The daemon creates the file at start and fills it to [`SIZE`] bytes, so its blocks
//! are allocated while there is room. Every later write overwrites those bytes in
//! place (JSON padded with spaces to the same length) and never grows the file, so it
//! succeeds on a full disk. It holds the current recording failure (since when, which
//! scope and scan, at which stage, why) until a scan is recorded again.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The file's fixed length in bytes.
pub const SIZE: usize = 4096;

/// The document's `kind`.
pub const KIND: &str = "kenshin.health/1";

/// The health file of a state folder.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("health.json")
}

/// Why the health file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("cannot create or fill the health file {} ({SIZE} bytes)", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the health file {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Read(#[from] kenshin_files::ReadError),
    #[error("the health file {} is not a {KIND} document: {source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// When recording failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Before the first packet: the scan did not run.
    Start,
    /// When the scan ended: its sealed folder is kept and adopted later.
    Finish,
    /// When a sealed folder left by an earlier failure was being adopted.
    Adopt,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Start => "start",
            Stage::Finish => "finish",
            Stage::Adopt => "adopt",
        }
    }
}

/// The history's current failure to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingFailure {
    /// The first failure since recording last worked (RFC 3339 UTC).
    pub since: String,
    /// The latest failure.
    pub last: String,
    /// How many failures since `since`.
    pub failures: u64,
    /// The scope and scan of the latest failure.
    pub scope: String,
    pub scan: String,
    pub stage: Stage,
    pub reason: String,
}

/// The health document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthDoc {
    pub kind: String,
    /// The daemon that last wrote the file.
    pub pid: u32,
    pub updated_at: String,
    pub recording_failure: Option<RecordingFailure>,
}

/// The daemon's open health file and what it holds.
#[derive(Debug)]
pub struct Health {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    file: File,
    failure: Option<RecordingFailure>,
}

impl Health {
    /// Opens (creating if needed, `0600`) the health file and fills it to [`SIZE`]
    /// bytes. A failure recorded by an earlier run is kept until a scan is recorded.
    pub fn open(state_dir: &Path) -> Result<Health, HealthError> {
        let path = path(state_dir);
        let earlier = read(state_dir)
            .ok()
            .flatten()
            .and_then(|d| d.recording_failure);
        let create = |source| HealthError::Create {
            path: path.clone(),
            source,
        };
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(create)?;
        let health = Health {
            path: path.clone(),
            state: Mutex::new(State {
                file,
                failure: earlier,
            }),
        };
        {
            let state = health.lock();
            // Writing every byte (not set_len, which leaves a hole) allocates the blocks.
            state.write(&path).map_err(|e| match e {
                HealthError::Write { source, .. } => create(source),
                other => other,
            })?;
            state.file.set_len(SIZE as u64).map_err(create)?;
            state.file.sync_all().map_err(create)?;
        }
        if !existed {
            File::open(state_dir)
                .and_then(|d| d.sync_all())
                .map_err(create)?;
        }
        Ok(health)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves a whole state: go on with it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records that the history could not record `scan` of `scope`; returns the
    /// failure as now held (its `since` is the first failure's).
    pub fn failed(&self, scope: &str, scan: &str, stage: Stage, reason: &str) -> RecordingFailure {
        let now = kenshin_engine::clock::now_rfc3339();
        let mut state = self.lock();
        let (since, failures) = state
            .failure
            .as_ref()
            .map_or((now.clone(), 1), |f| (f.since.clone(), f.failures + 1));
        let failure = RecordingFailure {
            since,
            last: now,
            failures,
            scope: scope.to_owned(),
            scan: scan.to_owned(),
            stage,
            reason: reason.to_owned(),
        };
        state.failure = Some(failure.clone());
        if let Err(e) = state.write(&self.path) {
            tracing::error!("{e}: {}", source_text(&e));
        }
        failure
    }

    /// Records that the history recorded a scan: the failure, if any, is over.
    pub fn recorded(&self) {
        let mut state = self.lock();
        if let Some(f) = state.failure.take() {
            tracing::info!(
                "the history records scans again (it could not from {} to {})",
                f.since,
                f.last
            );
            if let Err(e) = state.write(&self.path) {
                tracing::error!("{e}: {}", source_text(&e));
            }
        }
    }

    /// The failure held now.
    pub fn current(&self) -> Option<RecordingFailure> {
        self.lock().failure.clone()
    }
}

impl State {
    /// Overwrites the whole file in place with the current document.
    fn write(&self, path: &Path) -> Result<(), HealthError> {
        let doc = HealthDoc {
            kind: KIND.to_owned(),
            pid: std::process::id(),
            updated_at: kenshin_engine::clock::now_rfc3339(),
            recording_failure: self.failure.clone(),
        };
        let bytes = encode(doc);
        let fail = |source| HealthError::Write {
            path: path.to_owned(),
            source,
        };
        self.file.write_all_at(&bytes, 0).map_err(fail)?;
        self.file.sync_data().map_err(fail)
    }
}

fn source_text(e: &HealthError) -> String {
    std::error::Error::source(e).map_or_else(String::new, ToString::to_string)
}

/// The document as exactly [`SIZE`] bytes: JSON, spaces, a newline. A reason too long
/// to fit is shortened (…).
fn encode(mut doc: HealthDoc) -> Vec<u8> {
    loop {
        let mut bytes = serde_json::to_vec(&doc).unwrap_or_default();
        if bytes.len() < SIZE {
            bytes.resize(SIZE - 1, b' ');
            bytes.push(b'\n');
            return bytes;
        }
        let Some(f) = doc.recording_failure.as_mut() else {
            // Cannot happen (the rest is short); never write more than SIZE.
            return vec![b' '; SIZE];
        };
        let longest = [&mut f.reason, &mut f.scope, &mut f.scan]
            .into_iter()
            .find(|t| t.chars().count() > 1);
        let Some(text) = longest else {
            return vec![b' '; SIZE];
        };
        // Strictly shorter each time: half of it, and an ellipsis.
        let keep = (text.chars().count() - 1) / 2;
        *text = text.chars().take(keep).chain(['…']).collect();
    }
}

/// The health file of a state folder; `None` when there is none (no daemon has run).
pub fn read(state_dir: &Path) -> Result<Option<HealthDoc>, HealthError> {
    let path = path(state_dir);
    if !path.exists() {
        return Ok(None);
    }
    let bytes = kenshin_files::read(&path, SIZE as u64, kenshin_files::Follow::No)?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| HealthError::Parse { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn the_file_is_created_full_size_private_and_healthy() {
        let dir = tempfile::tempdir().expect("dir");
        let h = Health::open(dir.path()).expect("open");
        let meta = std::fs::metadata(path(dir.path())).expect("meta");
        assert_eq!(meta.len(), SIZE as u64);
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert!(
            meta.blocks() * 512 >= SIZE as u64,
            "allocated, not a hole: {} blocks",
            meta.blocks()
        );
        let doc = read(dir.path()).expect("read").expect("doc");
        assert_eq!(doc.kind, KIND);
        assert_eq!(doc.pid, std::process::id());
        assert!(doc.recording_failure.is_none());
        assert!(h.current().is_none());
    }

    #[test]
    fn a_failure_is_written_in_place_kept_across_a_restart_and_cleared_by_a_recording() {
        let dir = tempfile::tempdir().expect("dir");
        let file = path(dir.path());
        let h = Health::open(dir.path()).expect("open");
        let (ino, blocks) = {
            let m = std::fs::metadata(&file).expect("meta");
            (m.ino(), m.blocks())
        };
        let first = h.failed(
            "servers",
            "scan-1",
            Stage::Start,
            "database or disk is full",
        );
        assert_eq!(first.failures, 1);
        let second = h.failed("servers", "scan-2", Stage::Finish, "disk I/O error");
        assert_eq!(second.since, first.since, "since the first failure");
        assert_eq!(second.failures, 2);
        let m = std::fs::metadata(&file).expect("meta");
        assert_eq!(
            (m.ino(), m.len(), m.blocks()),
            (ino, SIZE as u64, blocks),
            "the same file, the same blocks"
        );
        let doc = read(dir.path()).expect("read").expect("doc");
        assert_eq!(doc.recording_failure.as_ref(), Some(&second));
        drop(h);

        // A restart keeps the failure until a scan is recorded.
        let h = Health::open(dir.path()).expect("reopen");
        assert_eq!(h.current().as_ref(), Some(&second));
        let again = h.failed("servers", "scan-3", Stage::Start, "still full");
        assert_eq!(again.since, first.since);
        h.recorded();
        assert!(h.current().is_none());
        let doc = read(dir.path()).expect("read").expect("doc");
        assert!(doc.recording_failure.is_none());
        assert_eq!(std::fs::metadata(&file).expect("meta").len(), SIZE as u64);
    }

    #[test]
    fn a_reason_too_long_for_the_file_is_shortened_not_spilled() {
        let dir = tempfile::tempdir().expect("dir");
        let h = Health::open(dir.path()).expect("open");
        let long = "\u{1}".repeat(10 * SIZE);
        h.failed("servers", "scan-1", Stage::Finish, &long);
        assert_eq!(
            std::fs::metadata(path(dir.path())).expect("meta").len(),
            SIZE as u64
        );
        let doc = read(dir.path()).expect("read").expect("doc");
        let f = doc.recording_failure.expect("failure");
        assert!(
            f.reason.ends_with('…') && f.reason.len() < SIZE,
            "{}",
            f.reason.len()
        );
    }

    #[test]
    fn no_file_is_no_health_and_a_damaged_one_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(read(dir.path()).expect("read").is_none());
        std::fs::write(path(dir.path()), b"{not json").expect("write");
        let e = read(dir.path()).expect_err("damaged").to_string();
        assert!(e.contains("health.json") && e.contains(KIND), "{e}");
    }
}
