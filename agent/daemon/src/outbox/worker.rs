//! The one task that empties the outbox: takes the oldest queued bundle, waits for
//! its next try, pushes it, and records the outcome before looking at the next.
//!
//! [`Worker::step`] is one look at the queue at a given time (what the tests drive);
//! [`Worker::run`] repeats it on the real clock, sleeping until the head's next try,
//! a new bundle ([`Worker::wake`]) or the daemon's stop.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::{Backoff, Entry, UploadError, Uploader};
use crate::history::Store;
use kenshin_engine::clock;

/// Longest one push may take before it counts as a failure to retry.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How often an idle worker looks at the queue even if nothing woke it.
const IDLE_LOOK: Duration = Duration::from_secs(5 * 60);

/// Takes credentials out of a message before it is stored or logged.
pub type Scrub = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// Called once for each bundle refused for good, with the (scrubbed) reason.
pub type OnRefused = Arc<dyn Fn(&Entry, &str) + Send + Sync>;

/// Pushes the outbox of one history database.
#[derive(Clone)]
pub struct Worker {
    pub history: PathBuf,
    pub uploader: Arc<dyn Uploader>,
    pub backoff: Backoff,
    /// Notified when a bundle is queued.
    pub wake: Arc<tokio::sync::Notify>,
    pub scrub: Scrub,
    pub on_refused: OnRefused,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("history", &self.history)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

/// What one look at the queue did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing queued.
    Idle,
    /// The head's next try is this far off.
    Wait(Duration),
    /// The head was pushed.
    Pushed(Entry),
    /// The head failed; it is tried again at `next_try_at` (RFC 3339).
    Retry {
        entry: Entry,
        error: String,
        next_try_at: String,
    },
    /// The head was refused for good and is out of the queue.
    Refused { entry: Entry, reason: String },
}

impl Worker {
    fn open(&self) -> anyhow::Result<Store> {
        Store::open(&self.history)
    }

    /// One look at the queue at `now`: pushes the head if its time has come.
    pub async fn step(&self, now: OffsetDateTime) -> anyhow::Result<Step> {
        let Some(head) = self.open()?.outbox().head()? else {
            return Ok(Step::Idle);
        };
        if let Some(next) = head.next_try_at.as_deref().and_then(clock::parse) {
            if next > now {
                let wait = Duration::try_from(next - now).unwrap_or_default();
                return Ok(Step::Wait(wait));
            }
        }
        // The store is not held across the push: a push may take minutes.
        let outcome = if head.report_dir.is_dir() {
            match tokio::time::timeout(UPLOAD_TIMEOUT, self.uploader.upload(&head.report_dir)).await
            {
                Ok(result) => result,
                Err(_) => Err(UploadError::retry(format!(
                    "no answer within {} s",
                    UPLOAD_TIMEOUT.as_secs()
                ))),
            }
        } else {
            Err(UploadError::refused(format!(
                "the report folder {} is gone",
                head.report_dir.display()
            )))
        };
        let store = self.open()?;
        let queue = store.outbox();
        let at = clock::rfc3339(now);
        match outcome {
            Ok(()) => {
                queue.done(head.seq, &at)?;
                tracing::info!(scope = %head.scope, scan = %head.scan_id, "pushed to the fleet database");
                Ok(Step::Pushed(head))
            }
            Err(e) if e.retryable => {
                let error = (self.scrub)(&e.message);
                let delay = self
                    .backoff
                    .delay(head.attempts.saturating_add(1), rand::random::<f64>());
                let next = clock::rfc3339(now + delay);
                let attempts = queue.retry_at(head.seq, &next, &error)?;
                tracing::warn!(
                    scope = %head.scope,
                    scan = %head.scan_id,
                    attempts,
                    "cannot push to the fleet database, trying again at {next}: {error}"
                );
                Ok(Step::Retry {
                    entry: head,
                    error,
                    next_try_at: next,
                })
            }
            Err(e) => {
                let reason = (self.scrub)(&e.message);
                queue.fail(head.seq, &at, &reason)?;
                tracing::error!(
                    scope = %head.scope,
                    scan = %head.scan_id,
                    "the fleet database refused the sealed report {}; it is not tried again: {reason}",
                    head.report_dir.display()
                );
                (self.on_refused)(&head, &reason);
                Ok(Step::Refused {
                    entry: head,
                    reason,
                })
            }
        }
    }

    /// Empties the queue until `stop`. A push in flight when the daemon stops is
    /// abandoned and made again at the next start (pushing twice files once).
    pub async fn run(self, stop: CancellationToken) {
        loop {
            let step = tokio::select! {
                () = stop.cancelled() => return,
                step = self.step(OffsetDateTime::now_utc()) => step,
            };
            let pause = match step {
                Ok(Step::Idle) => Some(IDLE_LOOK),
                Ok(Step::Wait(d)) => Some(d),
                Ok(_) => None,
                Err(e) => {
                    tracing::error!("the outbox cannot be read or updated: {e:#}");
                    Some(self.backoff.max.min(IDLE_LOOK))
                }
            };
            if let Some(pause) = pause {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(pause) => {}
                }
            } else if stop.is_cancelled() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
