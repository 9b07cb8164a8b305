//! Ctrl-C and SIGTERM as a cancellation, shared by `scan` and `listen`.

use tokio_util::sync::CancellationToken;

/// Ctrl-C and SIGTERM stop the scan (or the listening); what was found so far is
/// still written.
pub(crate) fn spawn_signal_watch(cancel: CancellationToken) {
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        tracing::warn!("interrupted: finishing the probes in flight and writing a partial report");
        cancel.cancel();
    });
}
