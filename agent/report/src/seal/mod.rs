//! Sealing a report folder and verifying the seal.
//!
//! `manifest.json` lists every other file of the folder with its size and SHA-256;
//! `manifest.sig` is the raw 64-byte Ed25519 signature of `manifest.json`'s exact
//! bytes. Sealing refuses a name that is not UTF-8 (a manifest path is JSON text).
//! [`verify()`] (in `verify.rs`) says exactly what is checked; `walk.rs` lists a
//! folder by raw names without following links; `signer.rs` reads the signing key
//! that report.json and report.html name. OpenSSL can check the same signature
//! (docs/evidence.md).

pub mod key;
mod members;
mod signer;
mod verify;
mod walk;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use key::{default_key_path, KeyPin, PublicKey, SigningKey};
pub use verify::verify;

use crate::screen::visible_path;

/// The manifest's contract identifier.
pub const MANIFEST_CONTRACT: &str = "kenshin.manifest/1";
/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The signature's file name.
pub const SIGNATURE: &str = "manifest.sig";
/// The largest `manifest.json` read: about 150 bytes a file, so room for far more
/// files than a scan writes.
pub const MAX_MANIFEST: u64 = 16 * 1024 * 1024;
/// The largest `manifest.sig` read: a signature is 64 bytes; anything up to this size
/// is read and refused with its length, anything larger without reading it.
pub const MAX_SIGNATURE: u64 = 1024;
/// The largest `report.json` or `report.html` read whole (by `kenshin diff`, and by
/// verify to compare the signer they name with the manifest's).
pub const MAX_REPORT: u64 = 1024 * 1024 * 1024;
/// The most entries (files and folders) a report folder may hold.
pub const MAX_ENTRIES: usize = 100_000;
/// The deepest a report folder's tree may go (kenshin writes no subfolder since contract
/// 1.2; folders of 1.1 have one level, `evidence/`).
pub const MAX_DEPTH: usize = 16;

/// Why sealing or verification could not even start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("{}: {error}", visible_path(path))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {reason}", visible_path(path))]
    NotReadable { path: PathBuf, reason: String },
    #[error(
        "signing key {path} may be read by others (mode {mode:04o}); run `chmod 600 {path}`",
        path = visible_path(path)
    )]
    KeyExposed { path: PathBuf, mode: u32 },
    #[error("signing key {path}: {reason}", path = visible_path(path))]
    BadKey { path: PathBuf, reason: String },
    #[error(
        "--key {value:?}: give SHA256:<43 base64 characters> or the path of a public-key PEM file"
    )]
    BadPin { value: String },
    #[error("the system random source failed; cannot create a signing key")]
    Random,
    #[error("{path} is not a folder", path = visible_path(path))]
    NotAFolder { path: PathBuf },
    #[error(
        "{path} holds more than {MAX_ENTRIES} files and folders, more than a report folder can",
        path = visible_path(path)
    )]
    TooManyFiles { path: PathBuf },
    #[error(
        "{path} is nested more than {MAX_DEPTH} folders deep inside the report folder; \
         a report folder is never that deep (kenshin writes at most one level, evidence/), so it is refused",
        path = visible_path(path)
    )]
    TooDeep { path: PathBuf },
    #[error(
        "{path}: the name is not UTF-8, and a manifest can only list UTF-8 names; \
         rename or remove the file",
        path = visible_path(path)
    )]
    NotUtf8Name { path: PathBuf },
    #[error("cannot serialise the manifest: {0}")]
    Json(#[from] serde_json::Error),
}

impl SealError {
    /// A file that could not be read, saying why in words that name the file once.
    pub(crate) fn from_read(e: &kenshin_files::ReadError) -> Self {
        Self::NotReadable {
            path: e.path().to_owned(),
            reason: read_reason(e),
        }
    }
}

/// Why a file could not be read, without its path (the caller names the file).
pub(crate) fn read_reason(e: &kenshin_files::ReadError) -> String {
    use kenshin_files::ReadError;
    match e {
        ReadError::Io { source, .. } => source.to_string(),
        ReadError::NotRegular { kind, .. } => {
            format!("it is a {kind}, not a regular file, and only regular files are read")
        }
        ReadError::TooLarge { limit, .. } => {
            format!("it is larger than the limit of {limit} bytes for this file")
        }
    }
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub contract: String,
    pub scan_id: String,
    pub created_at: String,
    pub tool: String,
    pub key: KeyInfo,
    pub files: Vec<FileEntry>,
}

/// The signing key, as written into the manifest and the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInfo {
    pub algorithm: String,
    pub fingerprint: String,
    pub public_key_pem: String,
}

impl KeyInfo {
    /// Describes `key`.
    pub fn of(key: &PublicKey) -> Self {
        Self {
            algorithm: "ed25519".to_owned(),
            fingerprint: key.fingerprint(),
            public_key_pem: key.to_pem(),
        }
    }
}

/// One sealed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Relative to the folder, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// A manifest and its signature, ready to be written as [`MANIFEST`] and [`SIGNATURE`]
/// (the manifest first: a folder without its signature was never finished).
#[derive(Debug, Clone)]
pub struct Sealed {
    pub manifest: Manifest,
    /// `manifest.json`'s exact bytes.
    pub json: Vec<u8>,
    /// The 64-byte Ed25519 signature of `json`.
    pub signature: Vec<u8>,
}

/// Hashes every file of `dir` but the manifest and signature, and signs the list.
pub fn seal(
    dir: &Path,
    scan_id: &str,
    created_at: &str,
    tool: &str,
    key: &SigningKey,
) -> Result<Sealed, SealError> {
    let files = walk::walk(dir)?
        .into_iter()
        .map(|entry| {
            let path = String::from_utf8(entry.name).map_err(|_| SealError::NotUtf8Name {
                path: entry.path.clone(),
            })?;
            let hashed =
                walk::hash(&entry.path, u64::MAX, 0).map_err(|e| SealError::from_read(&e))?;
            Ok(FileEntry {
                path,
                bytes: hashed.bytes,
                sha256: hashed.sha256,
            })
        })
        .collect::<Result<Vec<_>, SealError>>()?;
    let manifest = Manifest {
        contract: MANIFEST_CONTRACT.to_owned(),
        scan_id: scan_id.to_owned(),
        created_at: created_at.to_owned(),
        tool: tool.to_owned(),
        key: KeyInfo::of(&key.public()),
        files,
    };
    let mut json = serde_json::to_vec_pretty(&manifest)?;
    json.push(b'\n');
    let signature = key.sign(&json);
    Ok(Sealed {
        manifest,
        json,
        signature,
    })
}

pub use crate::verdict::Problem;

/// The result of verifying a folder.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The manifest, if it could be read.
    pub manifest: Option<Manifest>,
    /// Files whose hash matched.
    pub files_ok: usize,
    /// True if the user pinned the key and it matched.
    pub pinned: bool,
    pub problems: Vec<Problem>,
}

impl Verification {
    /// True if nothing is wrong.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

#[cfg(test)]
mod tests;
