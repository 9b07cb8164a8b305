//! Judging one inbox bundle before anything of it is believed: laid out as a folder
//! and verified with the report crate's seal verification (the signature and every
//! file's hash), the signing key checked against the site's enrolled, unrevoked
//! keys, and report.json read and matched to the manifest and the site.

use kenshin_report::labels::terminal::seal_problem;
use kenshin_report::seal::{self, Problem};
use kenshin_report::Lang;
use tokio_postgres::Transaction;

use super::report::Report;
use super::InboxItem;
use crate::bundle::{self, UnpackError};
use crate::error::FleetError;

/// Why a bundle is quarantined: the file or key it concerns, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub(crate) file: Option<String>,
    pub(crate) reason: String,
}

impl Rejection {
    fn file(file: &str, reason: String) -> Self {
        Self {
            file: Some(file.to_owned()),
            reason,
        }
    }

    fn other(reason: String) -> Self {
        Self { file: None, reason }
    }
}

/// The verified report, or why it is not believed.
pub(crate) async fn judge(
    tx: &Transaction<'_>,
    url: &str,
    item: &InboxItem,
) -> Result<Result<Report, Rejection>, FleetError> {
    let dir = tempfile::tempdir().map_err(|e| FleetError::Io {
        path: std::env::temp_dir(),
        reason: format!("cannot make a folder to verify a bundle in: {e}"),
    })?;
    match bundle::unpack(dir.path(), &item.paths, &item.contents) {
        Ok(()) => {}
        Err(UnpackError::BadPath(path)) => {
            return Ok(Err(Rejection::file(
                &path,
                format!("the bundle holds a path that leaves its folder: {path:?}"),
            )))
        }
        Err(e @ UnpackError::Mismatch) => return Ok(Err(Rejection::other(e.to_string()))),
        Err(e @ UnpackError::Io(..)) => {
            return Err(FleetError::Io {
                path: dir.path().to_owned(),
                reason: e.to_string(),
            })
        }
    }
    let verification = match seal::verify(dir.path(), None) {
        Ok(v) => v,
        Err(e) => return Ok(Err(Rejection::other(format!("cannot be verified: {e}")))),
    };
    if !verification.passed() {
        let file = verification.problems.iter().find_map(problem_file);
        let reason = verification
            .problems
            .iter()
            .map(|p| seal_problem(Lang::En, p))
            .collect::<Vec<_>>()
            .join("; ");
        return Ok(Err(Rejection {
            file,
            reason: format!("the seal does not hold: {reason}"),
        }));
    }
    let Some(manifest) = verification.manifest else {
        return Ok(Err(Rejection::file(
            seal::MANIFEST,
            "the manifest could not be read".to_owned(),
        )));
    };
    if manifest.key.fingerprint != item.key {
        return Ok(Err(Rejection::file(
            seal::MANIFEST,
            format!(
                "the bundle was pushed as signed by key {} but its manifest names {}",
                item.key, manifest.key.fingerprint
            ),
        )));
    }
    if manifest.scan_id != item.scan_id {
        return Ok(Err(Rejection::file(
            seal::MANIFEST,
            format!(
                "the bundle was pushed as scan {} but its manifest names scan {}",
                item.scan_id, manifest.scan_id
            ),
        )));
    }
    let enrolled = tx
        .query_opt(
            "SELECT to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"')
               FROM fleet.sensor_keys WHERE site = $1 AND fingerprint = $2",
            &[&item.site, &item.key],
        )
        .await
        .map_err(|e| FleetError::query("reading the enrolled keys", url, &e))?;
    match enrolled {
        None => {
            return Ok(Err(Rejection::other(format!(
                "key {} is not enrolled for site {}",
                item.key, item.site
            ))))
        }
        Some(row) => {
            if let Some(when) = row.get::<_, Option<String>>(0) {
                return Ok(Err(Rejection::other(format!(
                    "key {} was revoked for site {} on {when}",
                    item.key, item.site
                ))));
            }
        }
    }
    let Some(index) = item.paths.iter().position(|p| p == "report.json") else {
        return Ok(Err(Rejection::file(
            "report.json",
            "the bundle has no report.json".to_owned(),
        )));
    };
    let report = match Report::parse(&item.contents[index]) {
        Ok(r) => r,
        Err(reason) => {
            return Ok(Err(Rejection::file(
                "report.json",
                format!("cannot be read: {reason}"),
            )))
        }
    };
    if report.scan.id != manifest.scan_id {
        return Ok(Err(Rejection::file(
            "report.json",
            format!(
                "it is scan {} but the manifest names scan {}",
                report.scan.id, manifest.scan_id
            ),
        )));
    }
    if let Some(site) = report.scan.site.as_deref().filter(|s| *s != item.site) {
        return Ok(Err(Rejection::file(
            "report.json",
            format!(
                "the report was made for site {site} but was pushed for site {}",
                item.site
            ),
        )));
    }
    for (what, value) in [
        ("scan.finished_at", Some(report.scan.finished_at.as_str())),
        ("scan.started_at", report.scan.started_at.as_deref()),
    ] {
        if let Some(v) = value {
            if time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                .is_err()
            {
                return Ok(Err(Rejection::file(
                    "report.json",
                    format!("{what} {v:?} is not an RFC 3339 time"),
                )));
            }
        }
    }
    Ok(Ok(report))
}

/// The file a seal problem concerns, if it concerns one.
fn problem_file(p: &Problem) -> Option<String> {
    match p {
        Problem::NoManifest { .. } | Problem::BadManifest { .. } => Some(seal::MANIFEST.to_owned()),
        Problem::NoSignature { .. } | Problem::BadSignature | Problem::WrongKey { .. } => {
            Some(seal::SIGNATURE.to_owned())
        }
        Problem::Changed { path, .. }
        | Problem::Resized { path, .. }
        | Problem::Duplicate { path }
        | Problem::Missing { path }
        | Problem::Added { path }
        | Problem::Unreadable { path, .. } => Some(path.clone()),
        Problem::SignerDiffers { file, .. } => Some(file.clone()),
        _ => None,
    }
}
