//! The durable outbox: sealed scans on their way to the fleet's PostgreSQL.
//!
//! When `[fleet] db` is set, the history store queues each scan it records in the
//! `outbox` table, in the transaction that records it ([`crate::history::Store::queueing`]),
//! so a scan is never recorded without being queued, whatever stops the daemon. One
//! [`worker::Worker`] pushes the queue oldest first through an [`Uploader`]:
//!
//! - pushed: the entry is `done`;
//! - a failure retrying may mend (the database unreachable, a timeout): the entry
//!   stays at the head, tried again after a back-off ([`Backoff`]: doubling, capped,
//!   jittered), and nothing behind it goes first, so headquarters receives a site's
//!   scans in the order they were made;
//! - refused for a reason retrying cannot mend (a certificate the database rejects,
//!   a folder that is not a sealed report): the entry is `failed` with the reason, an
//!   `upload-refused` alert goes out, and the queue moves on.
//!
//! The table lives in the history database, so the queue and each entry's tries and
//! next try survive restarts. The daemon crate knows nothing of PostgreSQL: the
//! binary supplies the [`Uploader`] (kenshin-fleet's push), which keeps the layers in
//! order (kenshin → kenshin-fleet → kenshin-daemon).

mod backoff;
pub mod store;
pub mod worker;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

pub use backoff::Backoff;
pub use store::{Entry, State, Summary};

/// What an upload returns.
pub type UploadFuture<'a> = Pin<Box<dyn Future<Output = Result<(), UploadError>> + Send + 'a>>;

/// Pushes one sealed report folder to the fleet database. Pushing the same folder
/// twice must file it once (the worker may repeat a push whose answer it lost).
pub trait Uploader: Send + Sync {
    fn upload<'a>(&'a self, dir: &'a Path) -> UploadFuture<'a>;
}

/// Why a push failed, and whether trying again can help. The message must hold no
/// credential; the worker scrubs the database password out of it besides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UploadError {
    /// True: the link or the database is down, try later. False: the database
    /// refused the bundle and will refuse it again.
    pub retryable: bool,
    pub message: String,
}

impl UploadError {
    /// A failure that may pass (unreachable, timed out).
    pub fn retry(message: impl Into<String>) -> UploadError {
        UploadError {
            retryable: true,
            message: message.into(),
        }
    }

    /// A refusal that retrying will not change.
    pub fn refused(message: impl Into<String>) -> UploadError {
        UploadError {
            retryable: false,
            message: message.into(),
        }
    }
}
