//! The whole report folder, in the order that makes it verifiable:
//!
//! 1. `evidence.jsonl.gz`, every probe's transcript in one compressed archive with
//!    payloads stored once, and `evidence.sha256`, its member list (`archive/`);
//! 2. `report.json` (compact, naming the signing key and the archive; its `evidence`
//!    list left empty, the records being in the archive), `report.html`,
//!    `checklist.csv`, `checklist.xlsx`;
//! 3. `manifest.json` with every file's SHA-256, and `manifest.sig`, last.
//!
//! Each file is written atomically with the folder's mode, so an interrupted write
//! leaves no half file, and a folder without `manifest.sig` was never finished.

use std::path::PathBuf;

use thiserror::Error;

use crate::archive::{self, ArchiveError};
use crate::model::{EvidenceArchive, Report, Signing};
use crate::output::{OutputDir, OutputError};
use crate::seal::{self, SealError, SigningKey};
use crate::{checklist_export, html, Lang};

/// Why the folder could not be written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BundleError {
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("cannot render report.html: {0:#}")]
    Html(#[from] minijinja::Error),
    #[error("cannot write checklist.xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("cannot seal the report folder: {0}")]
    Seal(#[from] SealError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub report_json: PathBuf,
    pub report_html: PathBuf,
    /// Files listed in the manifest.
    pub files: usize,
}

/// Writes every file of the folder and seals it with `key`. The evidence records leave
/// `report` (as they leave report.json) once they are in the archive.
pub fn write(
    out: &OutputDir,
    report: &mut Report,
    html_lang: Lang,
    key: &SigningKey,
) -> Result<Written, BundleError> {
    report.signing = Some(Signing {
        algorithm: "ed25519".to_owned(),
        fingerprint: key.public().fingerprint(),
        manifest: seal::MANIFEST.to_owned(),
    });
    // The records go into the archive, written to its file (and the member list to
    // its own) as it is made, then leave memory: report.json holds none, and the page
    // only counts them.
    let records = std::mem::take(&mut report.evidence);
    let tally = html::EvidenceTally::of(&records);
    let mut packed = archive::write::Counts {
        records: 0,
        chunks: 0,
    };
    let (mut failed, mut archive_failed) = (None, None);
    let written = out.write_atomic_with(archive::INDEX, |index| {
        out.write_atomic_with(archive::ARCHIVE, |archive| {
            packed = archive::write::pack_into(&records, archive, &mut *index).map_err(|e| {
                let io = std::io::Error::other(e.to_string());
                failed = Some(e);
                io
            })?;
            Ok(())
        })
        .map(drop)
        .map_err(|e| {
            let io = std::io::Error::other(e.to_string());
            archive_failed = Some(e);
            io
        })
    });
    drop(records);
    // The first failure is the one named: packing, then the archive's file, then the
    // member list's.
    if let Some(e) = failed {
        return Err(BundleError::Archive(e));
    }
    if let Some(e) = archive_failed {
        return Err(BundleError::Output(e));
    }
    written?;
    report.evidence_archive = Some(EvidenceArchive {
        format: archive::FORMAT.to_owned(),
        file: archive::ARCHIVE.to_owned(),
        index: archive::INDEX.to_owned(),
        records: packed.records,
        chunks: packed.chunks,
    });
    let report_json = out.write_report(report)?;
    let mut failed = None;
    let report_html = out.write_atomic_with("report.html", |w| {
        html::render_into(report, html_lang, &tally, w).map_err(|e| {
            let io = std::io::Error::other(e.to_string());
            failed = Some(e);
            io
        })
    });
    if let Some(e) = failed {
        return Err(BundleError::Html(e));
    }
    let report_html = report_html?;
    out.write_atomic("checklist.csv", &checklist_export::csv(report))?;
    out.write_atomic("checklist.xlsx", &checklist_export::xlsx(report)?)?;
    let sealed = seal::seal(
        out.path(),
        &report.scan.id,
        &report.scan.finished_at,
        &format!("{} {}", report.tool.name, report.tool.version),
        key,
    )?;
    out.write_atomic(seal::MANIFEST, &sealed.json)?;
    out.write_atomic(seal::SIGNATURE, &sealed.signature)?;
    Ok(Written {
        report_json,
        report_html,
        files: sealed.manifest.files.len(),
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::html::tests::lab_report;
    use crate::output::Access;
    use crate::seal::{verify, KeyPin};

    #[test]
    fn a_written_folder_holds_every_output_is_private_and_verifies() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = SigningKey::load_or_create(&dir.path().join("key.pem")).expect("key");
        let out = OutputDir::prepare(&dir.path().join("r"), Access::Private).expect("out");
        let mut report = lab_report();
        let records = report.evidence.clone();
        let written = write(&out, &mut report, Lang::Ja, &key).expect("written");
        assert!(
            report.evidence.is_empty(),
            "the records left memory for the archive"
        );
        assert_eq!(
            written.files, 6,
            "four outputs, the archive and its member list"
        );
        let root = dir.path().join("r");
        for name in [
            "report.json",
            "report.html",
            "checklist.csv",
            "checklist.xlsx",
            "manifest.json",
            "manifest.sig",
        ] {
            let mode = std::fs::metadata(root.join(name))
                .expect(name)
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        for name in [archive::ARCHIVE, archive::INDEX] {
            let mode = std::fs::metadata(root.join(name))
                .expect(name)
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        assert!(
            !root.join("evidence").exists(),
            "no folder of loose transcripts"
        );
        let archived =
            archive::read::records(&root.join(archive::ARCHIVE), None).expect("archive reads");
        assert_eq!(archived, records, "the archive gives back every record");
        let json: Report =
            serde_json::from_slice(&std::fs::read(root.join("report.json")).expect("read"))
                .expect("parses");
        assert!(json.evidence.is_empty(), "records are only in the archive");
        assert_eq!(
            json.evidence_archive
                .as_ref()
                .map(|a| (a.file.as_str(), a.records)),
            Some((archive::ARCHIVE, records.len()))
        );
        let fp = key.public().fingerprint();
        assert_eq!(
            json.signing.as_ref().map(|s| s.fingerprint.as_str()),
            Some(fp.as_str())
        );
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join("report.json")).expect("read"))
                .expect("json");
        let schema: serde_json::Value = serde_json::from_str(crate::SCHEMA).expect("schema");
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let html = std::fs::read_to_string(root.join("report.html")).expect("html");
        assert!(html.contains(&fp));
        let v = verify(&root, Some(&KeyPin::Fingerprint(fp))).expect("verify");
        assert!(v.passed(), "{:?}", v.problems);
        assert_eq!(v.files_ok, written.files);
    }

    /// Not a check: writes into `KENSHIN_SCALE_DIR` a sealed folder of the lab report's
    /// hosts copied to `KENSHIN_SCALE_HOSTS` (4,000) hosts with 24 evidence records each,
    /// every copy's payloads made its own (another server random, another certificate),
    /// for sizing the folder and timing `kenshin verify` on it.
    #[test]
    #[ignore = "a tool, not a check: KENSHIN_SCALE_DIR=DIR cargo test -p kenshin-report --lib -- --ignored at_scale"]
    fn write_a_folder_at_scale_when_asked() {
        let Some(dir) = std::env::var_os("KENSHIN_SCALE_DIR") else {
            return;
        };
        let hosts: usize = std::env::var("KENSHIN_SCALE_HOSTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(4000);
        let lab = lab_report();
        let mut report = lab.clone();
        report.hosts.clear();
        report.evidence.clear();
        for n in 0..hosts {
            let mut h = lab.hosts[n % lab.hosts.len()].clone();
            h.address = format!("198.18.{}.{}", 4 + n / 250, 1 + n % 250);
            report.hosts.push(h);
            for k in 0..24 {
                let mut e = lab.evidence[k % lab.evidence.len()].clone();
                e.id = format!("ev-{:06}", report.evidence.len() + 1);
                e.host = report.hosts[n].address.clone();
                let own = |payload: &crate::model::Payload| -> crate::model::Payload {
                    let mut bytes = payload.bytes().to_vec();
                    // Each host its own bytes; a handshake its own first 32 (a random).
                    for (i, b) in bytes.iter_mut().enumerate() {
                        *b ^= (n as u8).wrapping_add((n >> 8) as u8)
                            ^ if i < 32 { k as u8 } else { 0 };
                    }
                    bytes.into()
                };
                e.sent = own(&e.sent);
                e.received = own(&e.received);
                report.evidence.push(e);
            }
        }
        let key_dir = tempfile::tempdir().expect("temp dir");
        let key = SigningKey::load_or_create(&key_dir.path().join("key.pem")).expect("key");
        let root = std::path::Path::new(&dir).join("folder");
        let out = OutputDir::prepare(&root, Access::Private).expect("out");
        let written = write(&out, &mut report, Lang::Ja, &key).expect("written");
        eprintln!(
            "{hosts} hosts, {} records: {} files in {}",
            report.evidence.len(),
            written.files + 2,
            root.display()
        );
    }

    #[test]
    fn the_schema_takes_a_reports_site_and_refuses_one_that_is_not_a_plain_name() {
        let schema: serde_json::Value = serde_json::from_str(crate::SCHEMA).expect("schema");
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let with_site = |site: Option<&str>| {
            let mut report = lab_report();
            report.scan.site = site.map(str::to_owned);
            serde_json::to_value(&report).expect("json")
        };
        let none = with_site(None);
        assert!(none["scan"].get("site").is_none(), "no site, no field");
        assert!(validator.is_valid(&none));
        for good in ["osaka-general", "大阪総合病院.ward_3"] {
            let v = with_site(Some(good));
            assert_eq!(v["scan"]["site"], good);
            assert!(validator.is_valid(&v), "{good}");
        }
        for bad in ["", "a b", "a/b", "-x", "tab\tname"] {
            assert!(!validator.is_valid(&with_site(Some(bad))), "{bad:?}");
        }
    }
}
