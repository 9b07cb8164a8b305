//! Verifying a sealed folder: every check `kenshin verify` makes, in this order
//! (docs/evidence.md lists them for inspectors):
//!
//! 1. `manifest.json` is a regular file in the folder (not a link, a FIFO or a
//!    device) of at most [`MAX_MANIFEST`] bytes, is a `kenshin.manifest/1` with an
//!    Ed25519 key whose fingerprint is the one written beside it, and lists each path
//!    once, each relative, `/`-separated, without `.`, `..` or empty parts;
//! 2. `manifest.sig` is a regular file of 64 bytes (at most [`MAX_SIGNATURE`] read)
//!    and is a valid signature of manifest.json's exact bytes by that key;
//! 3. when a key is pinned, it is that key;
//! 4. every member of the folder (by raw name, never following a link) is listed, and
//!    every listed path is there: a regular file of the listed size whose SHA-256 is
//!    the listed one (read no further than the listed size);
//! 5. report.json and report.html, when they name their signing key, name the key
//!    that signed the manifest;
//! 6. when the evidence archive changed but its sealed member list did not, each
//!    member that changed, was added or went missing is named (`members.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kenshin_files::Follow;

use super::members;
use super::walk::{self, Entry};
use super::{
    read_reason, signer, FileEntry, KeyPin, Manifest, Problem, PublicKey, SealError, Verification,
    MANIFEST, MANIFEST_CONTRACT, MAX_MANIFEST, MAX_REPORT, MAX_SIGNATURE, SIGNATURE,
};
use crate::archive;
use crate::screen::visible_bytes;

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
    let manifest_bytes = match kenshin_files::read(&dir.join(MANIFEST), MAX_MANIFEST, Follow::No) {
        Ok(b) => b,
        Err(e) => {
            out.problems.push(Problem::NoManifest {
                reason: read_reason(&e),
            });
            return Ok(out);
        }
    };
    let manifest = match parse_manifest(&manifest_bytes) {
        Ok(m) => m,
        Err(problem) => {
            out.problems.push(problem);
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
    check_signature(dir, &manifest_bytes, &key, &mut out);
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
    check_files(dir, &manifest, &key, &mut out)?;
    out.manifest = Some(manifest);
    Ok(out)
}

fn check_signature(dir: &Path, manifest: &[u8], key: &PublicKey, out: &mut Verification) {
    match kenshin_files::read(&dir.join(SIGNATURE), MAX_SIGNATURE, Follow::No) {
        Err(e) => out.problems.push(Problem::NoSignature {
            reason: read_reason(&e),
        }),
        Ok(sig) if sig.len() != 64 => out.problems.push(Problem::NoSignature {
            reason: format!("an Ed25519 signature has 64 bytes, this one {}", sig.len()),
        }),
        Ok(sig) => {
            if !key.verifies(manifest, &sig) {
                out.problems.push(Problem::BadSignature);
            }
        }
    }
}

/// Steps 4 and 5: the folder's members against the list, then the recorded signer.
fn check_files(
    dir: &Path,
    manifest: &Manifest,
    key: &PublicKey,
    out: &mut Verification,
) -> Result<(), SealError> {
    let listed: BTreeMap<&[u8], &FileEntry> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_bytes(), f))
        .collect();
    let mut seen = BTreeSet::new();
    let mut recorded = Vec::new();
    let mut index = None;
    for member in walk::walk(dir)? {
        let Some(entry) = listed.get(member.name.as_slice()) else {
            out.problems.push(Problem::Added {
                path: shown(&member.name),
            });
            continue;
        };
        seen.insert(entry.path.as_str());
        if let Some(bytes) = check_file(&member, entry, out) {
            if entry.path == archive::INDEX {
                index = Some(bytes);
            } else {
                recorded.push((entry.path.as_str(), bytes));
            }
        }
    }
    let archive_changed = out.problems.iter().any(|p| {
        matches!(p, Problem::Changed { path, .. } | Problem::Resized { path, .. }
            if path == archive::ARCHIVE)
    });
    if archive_changed {
        match index {
            Some(index) => out.problems.extend(members::compare(dir, &index)),
            None => out.problems.push(Problem::ArchiveUnreadable {
                archive: archive::ARCHIVE.to_owned(),
                reason: format!(
                    "its sealed member list {} is missing or changed too, so the members \
                     that changed cannot be named",
                    archive::INDEX
                ),
            }),
        }
    }
    for f in &manifest.files {
        if !seen.contains(f.path.as_str()) {
            out.problems.push(Problem::Missing {
                path: f.path.clone(),
            });
        }
    }
    for (file, bytes) in recorded {
        let named = match file {
            signer::REPORT_JSON => signer::in_json(&bytes),
            _ => signer::in_html(&bytes),
        };
        if let Some(named) = named.filter(|n| *n != key.fingerprint()) {
            out.problems.push(Problem::SignerDiffers {
                file: file.to_owned(),
                recorded: named,
                signer: key.fingerprint(),
            });
        }
    }
    Ok(())
}

/// Checks one listed member; returns its bytes if it is a report that names its
/// signer and matched.
fn check_file(member: &Entry, entry: &FileEntry, out: &mut Verification) -> Option<Vec<u8>> {
    let path = entry.path.clone();
    let unreadable = |e: &kenshin_files::ReadError| Problem::Unreadable {
        path: path.clone(),
        reason: read_reason(e),
    };
    let file = match walk::open(&member.path) {
        Ok(f) => f,
        Err(e) => {
            out.problems.push(unreadable(&e));
            return None;
        }
    };
    let size = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => {
            out.problems.push(Problem::Unreadable {
                path,
                reason: e.to_string(),
            });
            return None;
        }
    };
    if size != entry.bytes {
        out.problems.push(Problem::Resized {
            path,
            listed: entry.bytes,
            found: size,
        });
        return None;
    }
    let names_signer = matches!(
        entry.path.as_str(),
        signer::REPORT_JSON | signer::REPORT_HTML
    );
    let keep = if names_signer {
        MAX_REPORT
    } else if entry.path == archive::INDEX {
        archive::MAX_INDEX
    } else {
        0
    };
    let hashed = match walk::hash_open(file, &member.path, entry.bytes, keep) {
        Ok(h) => h,
        Err(e) => {
            out.problems.push(unreadable(&e));
            return None;
        }
    };
    if hashed.bytes != entry.bytes {
        out.problems.push(Problem::Resized {
            path,
            listed: entry.bytes,
            found: hashed.bytes,
        });
        return None;
    }
    if hashed.sha256 != entry.sha256 {
        out.problems.push(Problem::Changed {
            path,
            expected: entry.sha256.clone(),
            found: hashed.sha256,
        });
        return None;
    }
    out.files_ok += 1;
    if keep > 0 && hashed.kept.is_none() {
        out.problems.push(Problem::Unreadable {
            path,
            reason: if names_signer {
                format!(
                    "it is larger than the limit of {MAX_REPORT} bytes for a report, \
                     so the signing key it names cannot be compared"
                )
            } else {
                format!(
                    "it is larger than the limit of {keep} bytes for a member list, \
                     so the archive's members cannot be compared with it"
                )
            },
        });
    }
    hashed.kept
}

/// A raw name as a problem shows it: the name itself if it is UTF-8, else with each
/// invalid byte as `\xNN`.
fn shown(name: &[u8]) -> String {
    match std::str::from_utf8(name) {
        Ok(s) => s.to_owned(),
        Err(_) => visible_bytes(name),
    }
}

fn parse_manifest(bytes: &[u8]) -> Result<Manifest, Problem> {
    let bad = |reason: String| Problem::BadManifest { reason };
    let m: Manifest = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    if m.contract != MANIFEST_CONTRACT {
        return Err(bad(format!(
            "contract {:?}, expected {MANIFEST_CONTRACT:?}",
            m.contract
        )));
    }
    if m.key.algorithm != "ed25519" {
        return Err(bad(format!(
            "algorithm {:?}, expected \"ed25519\"",
            m.key.algorithm
        )));
    }
    let mut paths = BTreeSet::new();
    for f in &m.files {
        if !plain_relative(&f.path) {
            return Err(bad(format!(
                "file path {:?} leaves the folder or is not in its plain form",
                f.path
            )));
        }
        if !paths.insert(f.path.as_str()) {
            return Err(Problem::Duplicate {
                path: f.path.clone(),
            });
        }
    }
    Ok(m)
}

/// A manifest path is relative and `/`-separated, every part a name: no `..` to climb
/// out, and no empty or `.` part, so each file has one spelling and a repeated path
/// is seen as one.
fn plain_relative(path: &str) -> bool {
    path.split('/')
        .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\0'))
}
