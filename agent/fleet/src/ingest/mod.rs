//! The central worker: takes each new inbox bundle (oldest first, `FOR UPDATE SKIP
//! LOCKED`, so several workers can share the inbox), judges it (`verify`) and files
//! it (`file`) or quarantines it, in one transaction per bundle: a bundle is filed
//! whole or not at all. A scan already filed for its site is not filed again.
//! Without `--once` the worker then waits on `LISTEN kenshin_fleet_inbox` (and looks
//! again every minute in case a notification was missed).

mod file;
pub(crate) mod report;
mod verify;

use std::time::Duration;

use kenshin_report::Lang;
use serde::Serialize;
use tokio_postgres::{Client, Transaction};

use crate::error::FleetError;

pub use report::SEVERITIES;

/// The notification channel the inbox trigger signals.
pub const CHANNEL: &str = "kenshin_fleet_inbox";
/// How long the worker sleeps without a notification before it looks anyway.
pub const POLL: Duration = Duration::from_secs(60);

/// One inbox row being handled.
#[derive(Debug)]
pub(crate) struct InboxItem {
    pub(crate) id: i64,
    pub(crate) site: String,
    pub(crate) scan_id: String,
    pub(crate) key: String,
    pub(crate) paths: Vec<String>,
    pub(crate) contents: Vec<Vec<u8>>,
}

/// What happened to one bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Handled {
    /// Verified and filed as run `run`.
    Filed {
        inbox_id: i64,
        site: String,
        scan_id: String,
        run: i64,
    },
    /// The scan was already filed for this site; nothing filed again.
    AlreadyFiled {
        inbox_id: i64,
        site: String,
        scan_id: String,
    },
    /// Not believed: kept aside with the reason.
    Quarantined {
        inbox_id: i64,
        site: String,
        scan_id: String,
        file: Option<String>,
        reason: String,
        reason_ja: String,
    },
}

/// Handles every new inbox bundle, then returns what happened to each.
pub async fn once(client: &mut Client, url: &str) -> Result<Vec<Handled>, FleetError> {
    let mut handled = Vec::new();
    while let Some(h) = next(client, url).await? {
        tracing::info!("{}", describe(&h));
        handled.push(h);
    }
    Ok(handled)
}

/// Handles the inbox, then waits for notifications and handles it again, until
/// `stop` resolves. `notices` carries the connection's notifications.
pub async fn watch(
    client: &mut Client,
    url: &str,
    notices: &mut tokio::sync::mpsc::UnboundedReceiver<tokio_postgres::Notification>,
    stop: impl std::future::Future<Output = ()>,
    mut each: impl FnMut(&Handled),
) -> Result<(), FleetError> {
    client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .map_err(|e| FleetError::query("listening for new bundles", url, &e))?;
    tokio::pin!(stop);
    loop {
        while let Some(h) = next(client, url).await? {
            each(&h);
        }
        tokio::select! {
            () = &mut stop => return Ok(()),
            notice = notices.recv() => {
                if notice.is_none() {
                    return Err(FleetError::Unreachable {
                        url: url.to_owned(),
                        reason: "the connection closed while waiting for new bundles".to_owned(),
                    });
                }
            }
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// One line saying what happened to a bundle.
pub fn describe(h: &Handled) -> String {
    match h {
        Handled::Filed {
            site, scan_id, run, ..
        } => format!("filed scan {scan_id} of site {site} as run {run}"),
        Handled::AlreadyFiled { site, scan_id, .. } => {
            format!("scan {scan_id} of site {site} was already filed; not filed again")
        }
        Handled::Quarantined {
            site,
            scan_id,
            file,
            reason,
            ..
        } => match file {
            Some(f) => format!("quarantined scan {scan_id} of site {site}: {f}: {reason}"),
            None => format!("quarantined scan {scan_id} of site {site}: {reason}"),
        },
    }
}

/// Takes the oldest new bundle and handles it in one transaction.
async fn next(client: &mut Client, url: &str) -> Result<Option<Handled>, FleetError> {
    let failed = |what: &str, e: tokio_postgres::Error| FleetError::query(what, url, &e);
    let tx = client
        .transaction()
        .await
        .map_err(|e| failed("starting to ingest", e))?;
    let row = tx
        .query_opt(
            "SELECT id, site, scan_id, key_fingerprint, paths, contents FROM fleet.inbox
              WHERE state = 'new' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await
        .map_err(|e| failed("reading the inbox", e))?;
    let Some(row) = row else {
        tx.commit()
            .await
            .map_err(|e| failed("reading the inbox", e))?;
        return Ok(None);
    };
    let item = InboxItem {
        id: row.get(0),
        site: row.get(1),
        scan_id: row.get(2),
        key: row.get(3),
        paths: row.get(4),
        contents: row.get(5),
    };
    let handled = match verify::judge(&tx, url, &item).await? {
        Err(rejection) => {
            let reason = rejection.reason.words(Lang::En);
            let reason_ja = rejection.reason.words(Lang::Ja);
            let file = rejection.file;
            quarantine(&tx, url, &item, file.as_deref(), &reason, &reason_ja).await?;
            Handled::Quarantined {
                inbox_id: item.id,
                site: item.site.clone(),
                scan_id: item.scan_id.clone(),
                file,
                reason,
                reason_ja,
            }
        }
        Ok(report) => {
            let filed = tx
                .query_opt(
                    "SELECT id FROM fleet.runs WHERE site = $1 AND scan_id = $2",
                    &[&item.site, &item.scan_id],
                )
                .await
                .map_err(|e| failed("looking for the run", e))?;
            if filed.is_some() {
                Handled::AlreadyFiled {
                    inbox_id: item.id,
                    site: item.site.clone(),
                    scan_id: item.scan_id.clone(),
                }
            } else {
                let run = file::file(&tx, url, &item, &report).await?;
                Handled::Filed {
                    inbox_id: item.id,
                    site: item.site.clone(),
                    scan_id: item.scan_id.clone(),
                    run,
                }
            }
        }
    };
    let state = match handled {
        Handled::Quarantined { .. } => "quarantined",
        _ => "filed",
    };
    tx.execute(
        "UPDATE fleet.inbox SET state = $2, handled_at = now() WHERE id = $1",
        &[&item.id, &state],
    )
    .await
    .map_err(|e| failed("marking the inbox row", e))?;
    tx.commit()
        .await
        .map_err(|e| failed("committing the bundle", e))?;
    Ok(Some(handled))
}

async fn quarantine(
    tx: &Transaction<'_>,
    url: &str,
    item: &InboxItem,
    file: Option<&str>,
    reason: &str,
    reason_ja: &str,
) -> Result<(), FleetError> {
    tx.execute(
        "INSERT INTO fleet.quarantine (inbox_id, site, scan_id, key_fingerprint, file, reason, reason_ja)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &item.id,
            &item.site,
            &item.scan_id,
            &item.key,
            &file,
            &reason,
            &reason_ja,
        ],
    )
    .await
    .map_err(|e| FleetError::query("quarantining the bundle", url, &e))?;
    Ok(())
}
