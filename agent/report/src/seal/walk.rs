//! Listing a report folder and hashing its files.
//!
//! Names are kept as the raw bytes the file system holds, so two names that differ
//! only in bytes that are not UTF-8 stay two names. Symbolic links are listed, never
//! followed (into a folder or to a file), and a member is hashed only when it is a
//! regular file by its open descriptor, read without blocking and never past a limit.
//! The tree may hold at most [`MAX_ENTRIES`] entries, [`MAX_DEPTH`] folders deep.

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use kenshin_files::{Follow, ReadError};

use super::{SealError, MANIFEST, MAX_DEPTH, MAX_ENTRIES, SIGNATURE};

/// One member of the folder: a file, a link or anything but a folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Entry {
    /// The raw name relative to the folder, `/`-separated.
    pub name: Vec<u8>,
    /// Where it is.
    pub path: PathBuf,
}

/// Every member under `dir` but the manifest and signature at its top, sorted by raw
/// name. Links and other non-regular files are listed too (hashing them fails), so
/// nothing can hide in the folder.
pub(super) fn walk(dir: &Path) -> Result<Vec<Entry>, SealError> {
    let mut out = Vec::new();
    let mut entries = 0usize;
    let mut stack: Vec<(Vec<u8>, PathBuf, usize)> = vec![(Vec::new(), dir.to_owned(), 0)];
    while let Some((prefix, folder, depth)) = stack.pop() {
        let io = |error| SealError::Io {
            path: folder.clone(),
            error,
        };
        for entry in fs::read_dir(&folder).map_err(io)? {
            let entry = entry.map_err(io)?;
            entries += 1;
            if entries > MAX_ENTRIES {
                return Err(SealError::TooManyFiles {
                    path: dir.to_owned(),
                });
            }
            let file_name = entry.file_name();
            let mut name = prefix.clone();
            if !name.is_empty() {
                name.push(b'/');
            }
            name.extend_from_slice(file_name.as_bytes());
            // The entry's own type (lstat): a link to a folder is not a folder.
            let kind = entry.file_type().map_err(|error| SealError::Io {
                path: entry.path(),
                error,
            })?;
            if kind.is_dir() {
                if depth + 1 > MAX_DEPTH {
                    return Err(SealError::TooDeep { path: entry.path() });
                }
                stack.push((name, entry.path(), depth + 1));
            } else if depth > 0 || (name != MANIFEST.as_bytes() && name != SIGNATURE.as_bytes()) {
                out.push(Entry {
                    name,
                    path: entry.path(),
                });
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A hashed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hashed {
    /// The bytes read.
    pub bytes: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// The bytes themselves, when asked for and at most `keep` of them.
    pub kept: Option<Vec<u8>>,
}

/// Opens a member of the folder: a regular file, not through a link at its end.
pub(super) fn open(path: &Path) -> Result<File, ReadError> {
    kenshin_files::open_regular(path, Follow::No)
}

/// Hashes a regular file of at most `limit` bytes (see [`hash_open`]).
pub(super) fn hash(path: &Path, limit: u64, keep: u64) -> Result<Hashed, ReadError> {
    hash_open(open(path)?, path, limit, keep)
}

/// Hashes `file` (opened from `path`), refusing it past `limit` bytes and keeping its
/// bytes when there are at most `keep` of them (`keep` 0: keep nothing).
pub(super) fn hash_open(
    file: File,
    path: &Path,
    limit: u64,
    keep: u64,
) -> Result<Hashed, ReadError> {
    let mut reader = file.take(limit.saturating_add(1));
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut kept = (keep > 0).then(Vec::new);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > limit {
            return Err(ReadError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        ctx.update(&buf[..n]);
        if total > keep {
            kept = None;
        }
        if let Some(k) = kept.as_mut() {
            k.extend_from_slice(&buf[..n]);
        }
    }
    Ok(Hashed {
        bytes: total,
        sha256: hex(ctx.finish().as_ref()),
        kept,
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
