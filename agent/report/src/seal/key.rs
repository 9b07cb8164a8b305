//! The Ed25519 signing key: where it lives, how it is created on first use, how it is
//! kept private, and how its public half is written, read and named.
//!
//! The private key is a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`) that OpenSSL
//! reads too, created `0600` in a folder created `0700`. A key file that group or
//! others may read is refused, as OpenSSH refuses one. The public key is named by its
//! fingerprint, `SHA256:` and the unpadded base64 of the SHA-256 of the 32 key bytes.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair};

use super::SealError;

/// The environment variable that names the key file.
pub const KEY_ENV: &str = "KENSHIN_SIGNING_KEY";

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4), before the 32 key bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The DER prefix of an Ed25519 PKCS#8 v1 private key (RFC 8410 §7), before the
/// 32-byte seed. OpenSSL reads and writes this form.
const PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The largest key file read.
const MAX_KEY_FILE: u64 = 16 * 1024;

/// Where the key lives unless told: `$KENSHIN_SIGNING_KEY`, else
/// `$XDG_CONFIG_HOME/kenshin/signing-key.pem`, else `/etc/kenshin/signing-key.pem` for
/// root and `~/.config/kenshin/signing-key.pem` for anyone else.
pub fn default_key_path() -> PathBuf {
    if let Some(p) = std::env::var_os(KEY_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            if is_root() {
                None
            } else {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config"))
            }
        });
    match config {
        Some(dir) => dir.join("kenshin/signing-key.pem"),
        None => PathBuf::from("/etc/kenshin/signing-key.pem"),
    }
}

fn is_root() -> bool {
    // The owner of /proc/self is the effective user.
    fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// A public key, as its 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// `SHA256:` and the unpadded base64 of the SHA-256 of the key bytes.
    pub fn fingerprint(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.0);
        format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest.as_ref())
        )
    }

    /// The SubjectPublicKeyInfo PEM that `openssl pkeyutl -verify -pubin` reads.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.0);
        pem("PUBLIC KEY", &der)
    }

    /// Reads a SubjectPublicKeyInfo PEM holding an Ed25519 key.
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let der = unpem("PUBLIC KEY", text)?;
        let key = der
            .strip_prefix(&SPKI_PREFIX[..])
            .ok_or("not an Ed25519 public key (RFC 8410 SubjectPublicKeyInfo)")?;
        let bytes: [u8; 32] = key
            .try_into()
            .map_err(|_| format!("an Ed25519 key has 32 bytes, this one {}", key.len()))?;
        Ok(Self(bytes))
    }

    /// Checks `signature` over `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

/// How a user pins the expected key: a fingerprint, or a file holding the public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPin {
    Fingerprint(String),
    Key(PublicKey),
}

impl KeyPin {
    /// Reads `SHA256:…`, or the path of a public-key PEM file.
    pub fn parse(value: &str) -> Result<Self, SealError> {
        if let Some(rest) = value.strip_prefix("SHA256:") {
            let ok = rest.len() == 43
                && base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(rest)
                    .is_ok();
            if !ok {
                return Err(SealError::BadPin {
                    value: value.to_owned(),
                });
            }
            return Ok(Self::Fingerprint(value.to_owned()));
        }
        let path = Path::new(value);
        let text = read_bounded(path)?;
        let key = PublicKey::from_pem(&text).map_err(|reason| SealError::BadKey {
            path: path.to_owned(),
            reason,
        })?;
        Ok(Self::Key(key))
    }

    /// The pinned fingerprint.
    pub fn fingerprint(&self) -> String {
        match self {
            Self::Fingerprint(f) => f.clone(),
            Self::Key(k) => k.fingerprint(),
        }
    }
}

/// The private key, loaded or created.
#[derive(Debug)]
pub struct SigningKey {
    pair: Ed25519KeyPair,
    path: PathBuf,
    created: bool,
}

impl SigningKey {
    /// Loads the key at `path`, creating it (and its folder, `0700`) if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, SealError> {
        match fs::symlink_metadata(path) {
            Ok(_) => Self::load(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(error) => Err(SealError::Io {
                path: path.to_owned(),
                error,
            }),
        }
    }

    /// Loads an existing key; refuses one that group or others may read.
    pub fn load(path: &Path) -> Result<Self, SealError> {
        let meta = fs::metadata(path).map_err(|error| SealError::Io {
            path: path.to_owned(),
            error,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SealError::KeyExposed {
                path: path.to_owned(),
                mode,
            });
        }
        let text = read_bounded(path)?;
        let der = unpem("PRIVATE KEY", &text).map_err(|reason| SealError::BadKey {
            path: path.to_owned(),
            reason,
        })?;
        let pair = match der.strip_prefix(&PKCS8_V1_PREFIX[..]) {
            Some(seed) if seed.len() == 32 => Ed25519KeyPair::from_seed_unchecked(seed),
            _ => Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der),
        }
        .map_err(|e| SealError::BadKey {
            path: path.to_owned(),
            reason: format!("not an Ed25519 PKCS#8 key ({e})"),
        })?;
        Ok(Self {
            pair,
            path: path.to_owned(),
            created: false,
        })
    }

    fn create(path: &Path) -> Result<Self, SealError> {
        let io = |error| SealError::Io {
            path: path.to_owned(),
            error,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(io)?;
            }
        }
        let mut seed = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed)
            .map_err(|_| SealError::Random)?;
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| SealError::Random)?;
        let mut pkcs8 = PKCS8_V1_PREFIX.to_vec();
        pkcs8.extend_from_slice(&seed);
        seed.fill(0);
        // Two scans starting at once (the daemon and a CLI run, two CLI runs) must end
        // with one key both use: the key is written whole to a private temporary file,
        // then linked into place. A link never overwrites, so the run that loses the
        // race loads the winner's key, which is complete by the time its name exists.
        let mut suffix = [0u8; 8];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut suffix)
            .map_err(|_| SealError::Random)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(
            ".{name}.{}.{}",
            std::process::id(),
            u64::from_le_bytes(suffix)
        ));
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| {
                f.write_all(pem("PRIVATE KEY", &pkcs8).as_bytes())?;
                f.sync_all()
            });
        pkcs8.fill(0);
        if let Err(error) = written {
            let _ = fs::remove_file(&tmp);
            return Err(SealError::Io { path: tmp, error });
        }
        let linked = fs::hard_link(&tmp, path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(Self {
                pair,
                path: path.to_owned(),
                created: true,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path),
            Err(error) => Err(io(error)),
        }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(bytes)
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    /// Where the key is kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True if this run created the key.
    pub fn created(&self) -> bool {
        self.created
    }
}

/// A key file, read as a regular file of at most [`MAX_KEY_FILE`] bytes (a FIFO or a
/// device named by `--key` is refused at once, not waited on).
fn read_bounded(path: &Path) -> Result<String, SealError> {
    let bytes = kenshin_files::read(path, MAX_KEY_FILE, kenshin_files::Follow::Yes)
        .map_err(|e| SealError::from_read(&e))?;
    String::from_utf8(bytes).map_err(|_| SealError::BadKey {
        path: path.to_owned(),
        reason: "not a PEM text file".to_owned(),
    })
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn unpem(label: &str, text: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| format!("no {begin} line"))?
        + begin.len();
    let stop = text[start..]
        .find(&end)
        .ok_or_else(|| format!("no {end} line"))?
        + start;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("the PEM body is not base64 ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_private_on_first_use_and_loaded_the_same_afterwards() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("conf/kenshin/signing-key.pem");
        let first = SigningKey::load_or_create(&path).expect("created");
        assert!(first.created());
        let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("folder")), 0o700);
        let again = SigningKey::load_or_create(&path).expect("loaded");
        assert!(!again.created());
        assert_eq!(first.public(), again.public());
        let sig = again.sign(b"manifest");
        assert!(first.public().verifies(b"manifest", &sig));
        assert!(!first.public().verifies(b"manifesT", &sig));
    }

    #[test]
    fn scans_starting_at_once_all_end_with_the_one_key_that_was_kept() {
        for round in 0..20 {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join(format!("k{round}/signing-key.pem"));
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
            let keys: Vec<_> = (0..8)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        SigningKey::load_or_create(&path).map(|k| k.public().fingerprint())
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|t| t.join().expect("thread"))
                .collect();
            let kept = SigningKey::load(&path)
                .expect("kept")
                .public()
                .fingerprint();
            for key in keys {
                assert_eq!(key.expect("every run gets a key"), kept, "round {round}");
            }
            let left: Vec<_> = fs::read_dir(path.parent().expect("dir"))
                .expect("list")
                .map(|e| e.expect("entry").file_name())
                .collect();
            assert_eq!(
                left,
                ["signing-key.pem"],
                "no temporary file is left behind"
            );
        }
    }

    #[test]
    fn the_key_file_is_the_rfc8410_form_openssl_reads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("k.pem");
        SigningKey::load_or_create(&path).expect("created");
        let text = fs::read_to_string(&path).expect("read");
        let der = unpem("PRIVATE KEY", &text).expect("pem");
        assert_eq!(der.len(), 48);
        assert!(der.starts_with(&PKCS8_V1_PREFIX));
    }

    #[test]
    fn a_key_others_may_read_is_refused_naming_its_mode() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("k.pem");
        SigningKey::load_or_create(&path).expect("created");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = SigningKey::load(&path).expect_err("exposed key");
        assert!(err.to_string().contains("0644"), "{err}");
    }

    #[test]
    fn the_public_key_round_trips_through_pem_and_pins_by_fingerprint_or_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = SigningKey::load_or_create(&dir.path().join("k.pem")).expect("key");
        let public = key.public();
        let pem = public.to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(PublicKey::from_pem(&pem), Ok(public));
        let fp = public.fingerprint();
        assert!(fp.starts_with("SHA256:") && fp.len() == 50, "{fp}");
        assert_eq!(
            KeyPin::parse(&fp).expect("pin").fingerprint(),
            public.fingerprint()
        );
        let file = dir.path().join("k.pub");
        fs::write(&file, pem).expect("write");
        let pin = KeyPin::parse(file.to_str().expect("utf-8")).expect("pin file");
        assert_eq!(pin, KeyPin::Key(public));
        assert!(matches!(
            KeyPin::parse("SHA256:short"),
            Err(SealError::BadPin { .. })
        ));
    }

    #[test]
    fn garbage_in_a_key_file_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("k.pem");
        fs::write(&path, "hello").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        let err = SigningKey::load(&path).expect_err("garbage");
        assert!(err.to_string().contains("k.pem"), "{err}");
    }
}
