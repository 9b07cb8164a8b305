//! Sealing a report folder and verifying the seal.
//!
//! `manifest.json` lists every other file of the folder with its size and SHA-256;
//! `manifest.sig` is the raw 64-byte Ed25519 signature of `manifest.json`'s exact
//! bytes. Verification re-hashes every file, refuses any file the manifest does not
//! list and any listed file that is gone, checks the signature, and, when the user
//! pins a key, checks that this key signed it. OpenSSL can check the same signature
//! (docs/evidence.md).

pub mod key;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use key::{default_key_path, KeyPin, PublicKey, SigningKey};

/// The manifest's contract identifier.
pub const MANIFEST_CONTRACT: &str = "kenshin.manifest/1";
/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The signature's file name.
pub const SIGNATURE: &str = "manifest.sig";
/// The largest manifest read.
const MAX_MANIFEST: u64 = 16 * 1024 * 1024;
/// The most files a folder may hold.
const MAX_FILES: usize = 100_000;

/// Why sealing or verification could not even start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "signing key {path} may be read by others (mode {mode:04o}); run `chmod 600 {path}`",
        path = path.display()
    )]
    KeyExposed { path: PathBuf, mode: u32 },
    #[error("signing key {path}: {reason}", path = path.display())]
    BadKey { path: PathBuf, reason: String },
    #[error(
        "--key {value:?}: give SHA256:<43 base64 characters> or the path of a public-key PEM file"
    )]
    BadPin { value: String },
    #[error("the system random source failed; cannot create a signing key")]
    Random,
    #[error("{path} is not a folder", path = path.display())]
    NotAFolder { path: PathBuf },
    #[error("{path} holds more than {MAX_FILES} files", path = path.display())]
    TooManyFiles { path: PathBuf },
    #[error("cannot serialise the manifest: {0}")]
    Json(#[from] serde_json::Error),
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
    let files = walk(dir)?
        .into_iter()
        .map(|(path, abs)| {
            let (bytes, sha256) = hash_file(&abs)?;
            Ok(FileEntry {
                path,
                bytes,
                sha256,
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

/// What is wrong with a sealed folder, one file or fact at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// There is no manifest (or it cannot be read).
    NoManifest { reason: String },
    /// The manifest is not a kenshin manifest.
    BadManifest { reason: String },
    /// There is no signature, or it is not 64 bytes.
    NoSignature { reason: String },
    /// The signature does not match the manifest and its key.
    BadSignature,
    /// A key was pinned and another signed.
    WrongKey { expected: String, found: String },
    /// A listed file's bytes differ.
    Changed {
        path: String,
        expected: String,
        found: String,
    },
    /// A listed file is gone.
    Missing { path: String },
    /// A file the manifest does not list.
    Added { path: String },
    /// A listed file that cannot be read, or is not a regular file.
    Unreadable { path: String, reason: String },
}

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

/// Verifies the folder `dir` against its manifest and signature.
pub fn verify(dir: &Path, pin: Option<&KeyPin>) -> Result<Verification, SealError> {
    if !dir.is_dir() {
        return Err(SealError::NotAFolder {
            path: dir.to_owned(),
        });
    }
    let mut out = Verification {
        manifest: None,
        files_ok: 0,
        pinned: false,
        problems: Vec::new(),
    };
    let manifest_bytes = match read_capped(&dir.join(MANIFEST), MAX_MANIFEST) {
        Ok(b) => b,
        Err(reason) => {
            out.problems.push(Problem::NoManifest { reason });
            return Ok(out);
        }
    };
    let manifest = match parse_manifest(&manifest_bytes) {
        Ok(m) => m,
        Err(reason) => {
            out.problems.push(Problem::BadManifest { reason });
            return Ok(out);
        }
    };
    let key = match PublicKey::from_pem(&manifest.key.public_key_pem) {
        Ok(k) => k,
        Err(reason) => {
            out.problems.push(Problem::BadManifest {
                reason: format!("key: {reason}"),
            });
            return Ok(out);
        }
    };
    if key.fingerprint() != manifest.key.fingerprint {
        out.problems.push(Problem::BadManifest {
            reason: "the key's fingerprint does not match the key".to_owned(),
        });
    }
    match read_capped(&dir.join(SIGNATURE), 1024) {
        Err(reason) => out.problems.push(Problem::NoSignature { reason }),
        Ok(sig) if sig.len() != 64 => out.problems.push(Problem::NoSignature {
            reason: format!("an Ed25519 signature has 64 bytes, this one {}", sig.len()),
        }),
        Ok(sig) => {
            if !key.verifies(&manifest_bytes, &sig) {
                out.problems.push(Problem::BadSignature);
            }
        }
    }
    if let Some(pin) = pin {
        let expected = pin.fingerprint();
        if expected == key.fingerprint() {
            out.pinned = true;
        } else {
            out.problems.push(Problem::WrongKey {
                expected,
                found: key.fingerprint(),
            });
        }
    }

    let mut listed: BTreeMap<&str, &FileEntry> = BTreeMap::new();
    for f in &manifest.files {
        listed.insert(f.path.as_str(), f);
    }
    let present = walk(dir)?;
    let mut seen = std::collections::BTreeSet::new();
    for (rel, abs) in &present {
        match listed.get(rel.as_str()) {
            None => out.problems.push(Problem::Added { path: rel.clone() }),
            Some(entry) => {
                seen.insert(rel.as_str());
                match hash_file(abs) {
                    Ok((_, found)) if found == entry.sha256 => out.files_ok += 1,
                    Ok((_, found)) => out.problems.push(Problem::Changed {
                        path: rel.clone(),
                        expected: entry.sha256.clone(),
                        found,
                    }),
                    Err(e) => out.problems.push(Problem::Unreadable {
                        path: rel.clone(),
                        reason: with_cause(&e),
                    }),
                }
            }
        }
    }
    for path in listed.keys() {
        if !seen.contains(path) {
            out.problems.push(Problem::Missing {
                path: (*path).to_owned(),
            });
        }
    }
    out.manifest = Some(manifest);
    Ok(out)
}

/// An error with its causes, `a: b: c`, for a message that stands alone.
fn with_cause(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(&format!(": {c}"));
        cause = c.source();
    }
    out
}

fn parse_manifest(bytes: &[u8]) -> Result<Manifest, String> {
    let m: Manifest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if m.contract != MANIFEST_CONTRACT {
        return Err(format!(
            "contract {:?}, expected {MANIFEST_CONTRACT:?}",
            m.contract
        ));
    }
    if m.key.algorithm != "ed25519" {
        return Err(format!(
            "algorithm {:?}, expected \"ed25519\"",
            m.key.algorithm
        ));
    }
    for f in &m.files {
        if !safe_relative(&f.path) {
            return Err(format!("file path {:?} leaves the folder", f.path));
        }
    }
    Ok(m)
}

/// A manifest path is relative, `/`-separated and never climbs out.
fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let f = fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(format!("larger than {cap} bytes"));
    }
    Ok(bytes)
}

/// Every entry under `dir` but the manifest and signature, sorted by relative path.
/// Symbolic links and other non-regular files are listed too (as files to hash they
/// fail), so nothing can hide in the folder.
fn walk(dir: &Path) -> Result<Vec<(String, PathBuf)>, SealError> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), dir.to_owned())];
    while let Some((prefix, folder)) = stack.pop() {
        let entries = fs::read_dir(&folder).map_err(|source| SealError::Io {
            path: folder.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| SealError::Io {
                path: folder.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let kind = entry.file_type().map_err(|source| SealError::Io {
                path: entry.path(),
                source,
            })?;
            if kind.is_dir() {
                stack.push((rel, entry.path()));
            } else if rel != MANIFEST && rel != SIGNATURE {
                out.push((rel, entry.path()));
            }
            if out.len() > MAX_FILES {
                return Err(SealError::TooManyFiles {
                    path: dir.to_owned(),
                });
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Size and lower-case hex SHA-256 of a regular file (a link or device is refused).
fn hash_file(path: &Path) -> Result<(u64, String), SealError> {
    let io = |source| SealError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = fs::symlink_metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(SealError::Io {
            path: path.to_owned(),
            source: std::io::Error::other("not a regular file"),
        });
    }
    let mut f = fs::File::open(path).map_err(io)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        ctx.update(&buf[..n]);
    }
    Ok((total, hex(ctx.finish().as_ref())))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests;
