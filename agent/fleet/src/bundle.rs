//! A bundle: the files of a sealed report folder, the unit that moves from a sensor
//! (or a USB stick) into the inbox, and back into a folder for verification.
//!
//! Reading takes every regular file under the folder (a link or any other kind of
//! file is refused, as verify would), bounded in count and bytes, and reads the
//! manifest for the scan ID and the signing key. It does not judge the hashes: the
//! headquarters does, and quarantines what fails. Unpacking refuses any path that is
//! not a plain relative name, so a bundle cannot write outside its folder.

use std::path::{Path, PathBuf};

use kenshin_files::Follow;
use kenshin_report::seal::{Manifest, MANIFEST, MAX_DEPTH, MAX_ENTRIES, SIGNATURE};

use crate::error::FleetError;

/// The largest bundle pushed, all files together.
pub const MAX_BUNDLE: u64 = 512 * 1024 * 1024;

/// A sealed folder's files, with what the manifest says of them.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub scan_id: String,
    pub key: String,
    /// `scan.site` of report.json, when the report names one.
    pub site: Option<String>,
    /// `/`-separated relative paths and the bytes of each file.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Bundle {
    /// Reads the folder `dir`.
    pub fn read(dir: &Path) -> Result<Self, FleetError> {
        let not_sealed = |reason: String| FleetError::NotSealed {
            path: dir.to_owned(),
            reason,
        };
        if !dir.is_dir() {
            return Err(not_sealed("it is not a folder".to_owned()));
        }
        let mut files = Vec::new();
        let mut total = 0u64;
        collect(dir, dir, 0, &mut files, &mut total)?;
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let find = |name: &str| files.iter().find(|(p, _)| p == name).map(|(_, b)| b);
        let manifest = find(MANIFEST).ok_or_else(|| {
            not_sealed(format!(
                "it has no {MANIFEST}; seal it with `kenshin scan -o DIR`"
            ))
        })?;
        if find(SIGNATURE).is_none() {
            return Err(not_sealed(format!("it has no {SIGNATURE}")));
        }
        let manifest: Manifest = serde_json::from_slice(manifest)
            .map_err(|e| not_sealed(format!("{MANIFEST} cannot be read: {e}")))?;
        let site = find("report.json").and_then(|bytes| site_of(bytes));
        Ok(Self {
            scan_id: manifest.scan_id,
            key: manifest.key.fingerprint,
            site,
            files,
        })
    }

    /// Total bytes of the files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|(_, b)| b.len() as u64).sum()
    }
}

/// `scan.site` of a report.json, if it has one.
fn site_of(report: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(report).ok()?;
    value
        .pointer("/scan/site")
        .and_then(|s| s.as_str())
        .map(str::to_owned)
}

fn collect(
    root: &Path,
    dir: &Path,
    depth: usize,
    files: &mut Vec<(String, Vec<u8>)>,
    total: &mut u64,
) -> Result<(), FleetError> {
    let io = |path: &Path, e: std::io::Error| FleetError::Io {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let not_sealed = |reason: String| FleetError::NotSealed {
        path: root.to_owned(),
        reason,
    };
    if depth > MAX_DEPTH {
        return Err(not_sealed(format!("{} is nested too deep", dir.display())));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| io(&path, e))?;
        if kind.is_dir() {
            collect(root, &path, depth + 1, files, total)?;
            continue;
        }
        if !kind.is_file() {
            return Err(not_sealed(format!(
                "{} is not a regular file (a link or a special file); a sealed folder holds \
                 only regular files",
                path.display()
            )));
        }
        let relative = path
            .strip_prefix(root)
            .ok()
            .and_then(|p| p.to_str())
            .ok_or_else(|| not_sealed(format!("{}: the name is not UTF-8", path.display())))?
            .to_owned();
        if files.len() >= MAX_ENTRIES {
            return Err(not_sealed(format!(
                "it holds more than {MAX_ENTRIES} files"
            )));
        }
        let bytes = kenshin_files::read(&path, MAX_BUNDLE - *total, Follow::No).map_err(|e| {
            FleetError::Io {
                path: path.clone(),
                reason: format!("{e} (a bundle holds at most {MAX_BUNDLE} bytes)"),
            }
        })?;
        *total += bytes.len() as u64;
        files.push((relative, bytes));
    }
    Ok(())
}

/// A path as a bundle may carry it: relative, `/`-separated, every part a name.
pub fn plain_relative(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\0'))
}

/// Writes `files` under `dir` (which must be empty); the first path that is not a
/// plain relative name is returned as the error.
pub fn unpack(dir: &Path, paths: &[String], contents: &[Vec<u8>]) -> Result<(), UnpackError> {
    if paths.len() != contents.len() {
        return Err(UnpackError::Mismatch);
    }
    for (path, bytes) in paths.iter().zip(contents) {
        if !plain_relative(path) {
            return Err(UnpackError::BadPath(path.clone()));
        }
        let target: PathBuf = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| UnpackError::Io(path.clone(), e))?;
        }
        std::fs::write(&target, bytes).map_err(|e| UnpackError::Io(path.clone(), e))?;
    }
    Ok(())
}

/// Why a bundle could not be laid out as a folder.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("the bundle lists a different number of paths and files")]
    Mismatch,
    #[error("the bundle holds a path that leaves its folder or is not plain: {0:?}")]
    BadPath(String),
    #[error("{0}: cannot be written for verification: {1}")]
    Io(String, std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacking_refuses_a_path_that_climbs_out() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = unpack(dir.path(), &["../evil".to_owned()], &[b"x".to_vec()])
            .expect_err("a climbing path");
        assert!(err.to_string().contains("../evil"), "{err}");
        assert!(!dir.path().join("../evil").exists());
    }

    #[test]
    fn a_folder_without_a_manifest_is_not_a_bundle() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("report.json"), b"{}").expect("write");
        let err = Bundle::read(dir.path()).expect_err("no manifest");
        assert!(err.to_string().contains("manifest.json"), "{err}");
    }
}
