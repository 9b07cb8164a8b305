//! The daemon's uploader: sealed scans waiting in the outbox go to the fleet database
//! through kenshin-fleet's `push_bundle`. The daemon only queues and schedules; this is
//! the one place the two meet, so the daemon never depends on PostgreSQL.

use std::path::Path;
use std::sync::Arc;

use kenshin_daemon::config::FleetDb;
use kenshin_daemon::outbox::{UploadError, UploadFuture, Uploader};
use kenshin_fleet::FleetConnect;

/// Pushes one sealed folder per call; a push that the database already holds succeeds.
struct Push(FleetConnect);

impl Uploader for Push {
    fn upload<'a>(&'a self, dir: &'a Path) -> UploadFuture<'a> {
        Box::pin(async move {
            kenshin_fleet::push_bundle(&self.0, dir)
                .await
                .map(|_| ())
                .map_err(|e| UploadError {
                    retryable: e.will_retry(),
                    message: e.to_string(),
                })
        })
    }
}

/// Makes the uploader for a daemon whose configuration has `[fleet] db`.
pub(crate) fn make(db: &FleetDb) -> anyhow::Result<Arc<dyn Uploader>> {
    Ok(Arc::new(Push(FleetConnect {
        url: db.url.expose().to_owned(),
        client_cert: db.client_cert.clone(),
        client_key: db.client_key.clone(),
        ca: db.ca.clone(),
    })))
}
