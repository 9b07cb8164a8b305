//! Judging one inbox bundle before anything of it is believed: laid out as a folder
//! and verified with the report crate's seal verification (the signature and every
//! file's hash), the signing key checked against the site's enrolled, unrevoked
//! keys, and report.json read and matched to the manifest and the site.

use kenshin_report::labels::fleet::Quarantine;
use kenshin_report::labels::terminal::seal_problem;
use kenshin_report::seal::{self, Problem};
use kenshin_report::Lang;
use tokio_postgres::Transaction;

use super::report::Report;
use super::InboxItem;
use crate::bundle::{self, UnpackError};
use crate::error::FleetError;

/// Why a bundle is quarantined: the file it concerns, if one, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub(crate) file: Option<String>,
    pub(crate) reason: Quarantine,
}

impl Rejection {
    fn file(file: &str, reason: Quarantine) -> Self {
        Self {
            file: Some(file.to_owned()),
            reason,
        }
    }

    fn other(reason: Quarantine) -> Self {
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
                &path.clone(),
                Quarantine::BadPath { path },
            )))
        }
        Err(UnpackError::Mismatch) => return Ok(Err(Rejection::other(Quarantine::Mismatch))),
        Err(e @ UnpackError::Io(..)) => {
            return Err(FleetError::Io {
                path: dir.path().to_owned(),
                reason: e.to_string(),
            })
        }
    }
    let verification = match seal::verify(dir.path(), None) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Err(Rejection::other(Quarantine::Unverifiable {
                reason: e.to_string(),
            })))
        }
    };
    if !verification.passed() {
        let file = verification.problems.iter().find_map(problem_file);
        let words = |lang| {
            verification
                .problems
                .iter()
                .map(|p| seal_problem(lang, p))
                .collect::<Vec<_>>()
        };
        return Ok(Err(Rejection {
            file,
            reason: Quarantine::Seal {
                ja: words(Lang::Ja),
                en: words(Lang::En),
            },
        }));
    }
    let Some(manifest) = verification.manifest else {
        return Ok(Err(Rejection::file(
            seal::MANIFEST,
            Quarantine::Unverifiable {
                reason: "the manifest could not be read".to_owned(),
            },
        )));
    };
    if manifest.key.fingerprint != item.key {
        return Ok(Err(Rejection::file(
            seal::MANIFEST,
            Quarantine::PushedAs {
                what: "key",
                pushed: item.key.clone(),
                manifest: manifest.key.fingerprint.clone(),
            },
        )));
    }
    if manifest.scan_id != item.scan_id {
        return Ok(Err(Rejection::file(
            seal::MANIFEST,
            Quarantine::PushedAs {
                what: "scan",
                pushed: item.scan_id.clone(),
                manifest: manifest.scan_id.clone(),
            },
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
            return Ok(Err(Rejection::other(Quarantine::NotEnrolled {
                key: item.key.clone(),
                site: item.site.clone(),
            })))
        }
        Some(row) => {
            if let Some(when) = row.get::<_, Option<String>>(0) {
                return Ok(Err(Rejection::other(Quarantine::Revoked {
                    key: item.key.clone(),
                    site: item.site.clone(),
                    when,
                })));
            }
        }
    }
    let Some(index) = item.paths.iter().position(|p| p == "report.json") else {
        return Ok(Err(Rejection::file("report.json", Quarantine::NoReport)));
    };
    let report = match Report::parse(&item.contents[index]) {
        Ok(r) => r,
        Err(reason) => {
            return Ok(Err(Rejection::file(
                "report.json",
                Quarantine::BadReport { reason },
            )))
        }
    };
    if report.scan.id != manifest.scan_id {
        return Ok(Err(Rejection::file(
            "report.json",
            Quarantine::OtherScan {
                report: report.scan.id.clone(),
                manifest: manifest.scan_id.clone(),
            },
        )));
    }
    if let Some(site) = report.scan.site.as_deref().filter(|s| *s != item.site) {
        return Ok(Err(Rejection::file(
            "report.json",
            Quarantine::OtherSite {
                report: site.to_owned(),
                pushed: item.site.clone(),
            },
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
                    Quarantine::BadTime {
                        field: what,
                        value: v.to_owned(),
                    },
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
