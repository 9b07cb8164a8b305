//! Pushing a bundle into the inbox: one INSERT of the folder's files for the site of
//! the role that is logged in (row-level security refuses any other site), keyed by
//! site, scan ID and signing key so that pushing again changes nothing and says so.
//!
//! The daemon's outbox calls [`push_bundle`]; [`PushError`] tells it whether to keep
//! the bundle and retry ([`PushError::Unreachable`]) or to stop and say why
//! ([`PushError::Refused`]).

use std::path::Path;

use serde::Serialize;
use thiserror::Error;
use tokio_postgres::Client;

use crate::bundle::Bundle;
use crate::connect::{connect, FleetConnect};
use crate::error::FleetError;
use crate::schema;

/// What the inbox holds for a pushed bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushReceipt {
    pub inbox_id: i64,
    pub site: String,
    pub scan_id: String,
    pub key: String,
    /// The state of the inbox row: `new`, `filed` or `quarantined`.
    pub state: String,
    /// True if the inbox already held this bundle, so nothing was sent again.
    pub already_received: bool,
}

/// Why a push did not land.
#[derive(Debug, Error)]
pub enum PushError {
    /// The database could not be reached: keep the bundle and try again later.
    #[error("{0} (will retry)")]
    Unreachable(#[source] FleetError),
    /// The bundle or the credentials were refused: retrying will not help.
    #[error("{0} (will not succeed by retrying)")]
    Refused(#[source] FleetError),
}

impl PushError {
    /// True if the bundle should stay in the outbox for another try.
    pub fn will_retry(&self) -> bool {
        matches!(self, Self::Unreachable(_))
    }

    fn from_fleet(e: FleetError) -> Self {
        if e.is_transient() {
            Self::Unreachable(e)
        } else {
            Self::Refused(e)
        }
    }
}

/// Connects with `conn` and pushes the sealed folder `dir`.
pub async fn push_bundle(conn: &FleetConnect, dir: &Path) -> Result<PushReceipt, PushError> {
    let bundle = Bundle::read(dir).map_err(PushError::Refused)?;
    let client = connect(conn).await.map_err(PushError::from_fleet)?;
    let url = conn.shown();
    schema::check(&client, &url)
        .await
        .map_err(PushError::from_fleet)?;
    push(&client, &url, &bundle, None)
        .await
        .map_err(PushError::from_fleet)
}

/// Pushes `bundle` on an open connection. The site is `site` if given, else the
/// report's `scan.site`, else the site of the logged-in role.
pub async fn push(
    client: &Client,
    url: &str,
    bundle: &Bundle,
    site: Option<&str>,
) -> Result<PushReceipt, FleetError> {
    let wanted = site.or(bundle.site.as_deref());
    let site: Option<String> = client
        .query_one(
            "SELECT coalesce($1::text, fleet.current_site())",
            &[&wanted],
        )
        .await
        .map_err(|e| FleetError::query("finding the site to push for", url, &e))?
        .get(0);
    let Some(site) = site else {
        return Err(FleetError::BadSite {
            name: String::new(),
            reason: "the report names no site and this database user is no site's role; \
                     give --site NAME"
                .to_owned(),
        });
    };
    let paths: Vec<&str> = bundle.files.iter().map(|(p, _)| p.as_str()).collect();
    let contents: Vec<&[u8]> = bundle.files.iter().map(|(_, b)| b.as_slice()).collect();
    let inserted = client
        .query_opt(
            "INSERT INTO fleet.inbox (site, scan_id, key_fingerprint, paths, contents)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING
             RETURNING id, state",
            &[&site, &bundle.scan_id, &bundle.key, &paths, &contents],
        )
        .await
        .map_err(|e| refused_insert(url, &site, &e))?;
    let (row, already_received) = match inserted {
        Some(row) => (row, false),
        None => {
            let row = client
                .query_one(
                    "SELECT id, state FROM fleet.inbox
                      WHERE site = $1 AND scan_id = $2 AND key_fingerprint = $3",
                    &[&site, &bundle.scan_id, &bundle.key],
                )
                .await
                .map_err(|e| FleetError::query("reading the inbox", url, &e))?;
            (row, true)
        }
    };
    Ok(PushReceipt {
        inbox_id: row.get(0),
        site,
        scan_id: bundle.scan_id.clone(),
        key: bundle.key.clone(),
        state: row.get(1),
        already_received,
    })
}

/// A refused INSERT, saying in words when row-level security was the reason.
fn refused_insert(url: &str, site: &str, e: &tokio_postgres::Error) -> FleetError {
    let code = e.as_db_error().map(|d| d.code().code().to_owned());
    match code.as_deref() {
        Some("42501") => FleetError::Refused {
            url: url.to_owned(),
            reason: format!(
                "this database user may not push bundles for site {site:?} (a site's \
                 certificate pushes for its own site only)"
            ),
        },
        Some("23503") => FleetError::UnknownSite {
            name: site.to_owned(),
        },
        _ => FleetError::query(format!("pushing the bundle for site {site}"), url, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sealed-looking folder: push reads the manifest before it connects.
    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = kenshin_report::seal::SigningKey::load_or_create(&dir.path().join("k.pem"))
            .expect("key");
        let out = dir.path().join("r");
        std::fs::create_dir(&out).expect("folder");
        std::fs::write(out.join("report.json"), b"{}").expect("report");
        let sealed = kenshin_report::seal::seal(&out, "s1", "2026-12-01T00:00:00Z", "t", &key)
            .expect("sealed");
        std::fs::write(out.join("manifest.json"), &sealed.json).expect("manifest");
        std::fs::write(out.join("manifest.sig"), &sealed.signature).expect("sig");
        dir
    }

    #[tokio::test]
    async fn a_database_that_is_not_there_is_worth_retrying() {
        let dir = folder();
        let conn = FleetConnect::from_url(
            "postgresql://site_a@%2Fnonexistent%2Fkenshin-fleet-socket/fleet",
        );
        let err = push_bundle(&conn, &dir.path().join("r"))
            .await
            .expect_err("no database");
        assert!(err.will_retry(), "{err}");
    }

    #[tokio::test]
    async fn a_folder_that_is_not_sealed_is_not_worth_retrying() {
        let dir = tempfile::tempdir().expect("temp dir");
        let conn = FleetConnect::from_url("postgresql://site_a@%2Fnonexistent/fleet");
        let err = push_bundle(&conn, dir.path())
            .await
            .expect_err("not sealed");
        assert!(!err.will_retry(), "{err}");
        assert!(err.to_string().contains("manifest.json"), "{err}");
    }

    #[tokio::test]
    async fn a_weaker_sslmode_is_not_worth_retrying() {
        let dir = folder();
        let conn = FleetConnect::from_url("postgresql://site_a@198.18.40.10/fleet?sslmode=disable");
        let err = push_bundle(&conn, &dir.path().join("r"))
            .await
            .expect_err("refused");
        assert!(!err.will_retry(), "{err}");
    }
}
