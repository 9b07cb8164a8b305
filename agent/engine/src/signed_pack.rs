//! The signed rule pack file (`kenshin.rulepack/1`): a rules tree carried into a closed
//! network as one file, signed with kenshin's Ed25519 key.
//!
//! The file is one JSON object:
//!
//! ```text
//! { "format": "kenshin.rulepack/1",
//!   "publisher_key": "<base64 of the 32 public key bytes>",
//!   "manifest": "<the manifest, as the exact JSON text that was signed>",
//!   "signature": "<base64 of the Ed25519 signature over the manifest text>",
//!   "files": { "ports.toml": "<text>", "advisories/servers.toml": "<text>", … } }
//! ```
//!
//! and the manifest `{ "format", "version", "date", "files": [{ "path", "sha256",
//! "bytes" }] }`. JSON rather than tar: every rule file is UTF-8 text, a map of paths
//! to texts has no links, devices or modes to refuse, and no new dependency is needed.
//!
//! [`open`] checks, in order: the format, that the embedded key is the pinned publisher
//! (by fingerprint), the signature over the manifest, that the files are exactly the
//! manifest's with its hashes, and that every path is a plain relative `.toml` path.

use std::collections::BTreeMap;

use base64::Engine;
use kenshin_report::seal::{PublicKey, SigningKey};
use serde::{Deserialize, Serialize};

/// The pack file's format name.
pub const FORMAT: &str = "kenshin.rulepack/1";

/// The largest pack file read.
pub const MAX_PACK: u64 = 64 << 20;

/// The most files a pack may hold.
const MAX_FILES: usize = 4096;

/// Why a pack was refused.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("not a kenshin rule pack: {0}")]
    Malformed(String),
    #[error(
        "signed by {found}, not by the pinned publisher {pinned} (a pack from another key \
         is refused)"
    )]
    Publisher { found: String, pinned: String },
    #[error("the signature does not verify with the publisher's key: the pack was altered")]
    Signature,
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    format: String,
    publisher_key: String,
    manifest: String,
    signature: String,
    files: BTreeMap<String, String>,
}

/// What the publisher signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    /// Dotted numbers (`2026.07.01`, `2026.07.01.2`), compared number by number.
    pub version: String,
    /// When the pack was made (RFC 3339).
    pub date: String,
    pub files: Vec<FileHash>,
}

/// One file of the pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileHash {
    pub path: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub bytes: u64,
}

/// A pack whose signature, publisher and files were checked.
#[derive(Debug)]
pub struct Opened {
    pub manifest: Manifest,
    /// The publisher key's fingerprint (`SHA256:…`).
    pub publisher: String,
    /// Path within the tree → text.
    pub files: BTreeMap<String, String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A version as the pack compares it: dotted decimal numbers.
pub fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.split('.')
            .all(|p| !p.is_empty() && p.len() <= 9 && p.chars().all(|c| c.is_ascii_digit()))
}

/// A plain relative path of a rules tree: `a/b.toml`, lower-level names of letters,
/// digits, `-`, `_` and `.` not starting with a dot, at most three deep.
pub fn valid_path(p: &str) -> bool {
    let parts: Vec<&str> = p.split('/').collect();
    p.ends_with(".toml")
        && parts.len() <= 3
        && parts.iter().all(|c| {
            !c.is_empty()
                && !c.starts_with('.')
                && c.len() <= 128
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
        })
}

/// Builds the pack file of `files` (path → text), signed with `key`.
pub fn build(
    files: &BTreeMap<String, String>,
    version: &str,
    date: &str,
    key: &SigningKey,
) -> Result<Vec<u8>, PackError> {
    if !valid_version(version) {
        return Err(PackError::Malformed(format!(
            "version {version:?} must be dotted numbers (2026.07.01)"
        )));
    }
    for path in files.keys() {
        if !valid_path(path) {
            return Err(PackError::File {
                path: path.clone(),
                reason: "not a plain relative .toml path".to_owned(),
            });
        }
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: version.to_owned(),
        date: date.to_owned(),
        files: files
            .iter()
            .map(|(path, text)| FileHash {
                path: path.clone(),
                sha256: sha256_hex(text.as_bytes()),
                bytes: text.len() as u64,
            })
            .collect(),
    };
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| PackError::Malformed(e.to_string()))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let pack = PackFile {
        format: FORMAT.to_owned(),
        publisher_key: b64.encode(key.public().0),
        signature: b64.encode(key.sign(text.as_bytes())),
        manifest: text,
        files: files.clone(),
    };
    serde_json::to_vec_pretty(&pack).map_err(|e| PackError::Malformed(e.to_string()))
}

/// Checks a pack file's bytes against the pinned publisher fingerprint.
pub fn open(bytes: &[u8], pinned: &str) -> Result<Opened, PackError> {
    let pack: PackFile =
        serde_json::from_slice(bytes).map_err(|e| PackError::Malformed(e.to_string()))?;
    if pack.format != FORMAT {
        return Err(PackError::Malformed(format!(
            "format {:?}, expected {FORMAT:?}",
            pack.format
        )));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let key_bytes: [u8; 32] = b64
        .decode(&pack.publisher_key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| PackError::Malformed("publisher_key is not 32 base64 bytes".into()))?;
    let key = PublicKey(key_bytes);
    let found = key.fingerprint();
    if found != pinned {
        return Err(PackError::Publisher {
            found,
            pinned: pinned.to_owned(),
        });
    }
    let signature = b64
        .decode(&pack.signature)
        .map_err(|_| PackError::Malformed("signature is not base64".into()))?;
    if !key.verifies(pack.manifest.as_bytes(), &signature) {
        return Err(PackError::Signature);
    }
    let manifest: Manifest = serde_json::from_str(&pack.manifest)
        .map_err(|e| PackError::Malformed(format!("manifest: {e}")))?;
    if manifest.format != FORMAT || !valid_version(&manifest.version) {
        return Err(PackError::Malformed(format!(
            "manifest format {:?} or version {:?} is not valid",
            manifest.format, manifest.version
        )));
    }
    if manifest.files.len() > MAX_FILES {
        return Err(PackError::Malformed(format!(
            "{} files, more than {MAX_FILES}",
            manifest.files.len()
        )));
    }
    let listed: BTreeMap<&str, &FileHash> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    if listed.len() != manifest.files.len() {
        return Err(PackError::Malformed(
            "the manifest lists a path twice".into(),
        ));
    }
    for path in pack.files.keys() {
        if !listed.contains_key(path.as_str()) {
            return Err(PackError::File {
                path: path.clone(),
                reason: "is in the pack but not in the signed manifest".to_owned(),
            });
        }
    }
    for f in &manifest.files {
        let bad = |reason: &str| PackError::File {
            path: f.path.clone(),
            reason: reason.to_owned(),
        };
        if !valid_path(&f.path) {
            return Err(bad("not a plain relative .toml path"));
        }
        let text = pack
            .files
            .get(&f.path)
            .ok_or_else(|| bad("is in the signed manifest but missing from the pack"))?;
        if sha256_hex(text.as_bytes()) != f.sha256 || text.len() as u64 != f.bytes {
            return Err(bad("does not match the signed manifest (altered)"));
        }
    }
    Ok(Opened {
        manifest,
        publisher: found,
        files: pack.files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(dir: &std::path::Path, name: &str) -> SigningKey {
        SigningKey::load_or_create(&dir.join(name)).expect("key")
    }

    fn files() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("ports.toml".to_owned(), "# ports\n".to_owned()),
            ("checks/a.toml".to_owned(), "# a\n".to_owned()),
        ])
    }

    #[test]
    fn a_pack_opens_only_for_its_publisher_and_unaltered() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = key(dir.path(), "a.pem");
        let other = key(dir.path(), "b.pem").public().fingerprint();
        let bytes = build(&files(), "2026.07.01", "2026-07-01T00:00:00Z", &k).expect("built");
        let pin = k.public().fingerprint();
        let opened = open(&bytes, &pin).expect("opens");
        assert_eq!(opened.manifest.version, "2026.07.01");
        assert_eq!(opened.files, files());
        assert!(matches!(
            open(&bytes, &other),
            Err(PackError::Publisher { .. })
        ));

        let text = String::from_utf8(bytes).expect("utf-8");
        let altered = text.replace("# a\\n", "# b\\n");
        assert!(matches!(
            open(altered.as_bytes(), &pin),
            Err(PackError::File { path, .. }) if path == "checks/a.toml"
        ));
        let resigned = text.replace("2026.07.01", "2026.07.02");
        assert!(matches!(
            open(resigned.as_bytes(), &pin),
            Err(PackError::Signature)
        ));
    }

    #[test]
    fn paths_and_versions_are_plain() {
        assert!(valid_path("advisories/servers.toml"));
        for bad in [
            "../x.toml",
            "/etc/x.toml",
            "a/.hidden.toml",
            "a.sh",
            "a//b.toml",
            "a/b/c/d.toml",
        ] {
            assert!(!valid_path(bad), "{bad}");
        }
        assert!(valid_version("2026.07.01.2"));
        for bad in ["", "v1", "1..2", "1.2-rc"] {
            assert!(!valid_version(bad), "{bad}");
        }
    }
}
