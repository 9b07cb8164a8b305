//! What a certificate says, and whether it deserves trust: subject, issuer,
//! names, validity against the scan's time, key type and size, signature
//! algorithm and hash, the name match against what was scanned, and the chain
//! checked against a trust store (the system's roots plus any CA files a
//! hospital names, such as its internal CA).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use kenshin_probe::service::subject_alt_names;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use serde::Serialize;
use thiserror::Error;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// Where Debian keeps the system's trusted roots.
pub const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// How soon an expiry counts as close.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// A trust-store file that cannot be used.
#[derive(Debug, Error)]
pub enum TrustError {
    #[error(transparent)]
    Read(#[from] kenshin_files::ReadError),
    #[error("the CA file {path} holds no PEM certificate")]
    Empty { path: PathBuf },
    #[error("the CA file {path} has a certificate that is not a usable trust anchor: {reason}")]
    Anchor { path: PathBuf, reason: String },
}

/// The largest CA file read (Debian's whole bundle is about 220 KB).
pub const CA_FILE_LIMIT: u64 = 16 << 20;

/// Trust anchors for chain checks.
#[derive(Debug, Default, Clone)]
pub struct TrustStore {
    anchors: Vec<TrustAnchor<'static>>,
    /// Where the anchors came from, for the report.
    pub sources: Vec<String>,
}

impl TrustStore {
    /// The system's roots (`$SSL_CERT_FILE`, else Debian's bundle) if readable, plus
    /// every file in `extra`, which must each hold at least one usable certificate.
    pub fn load(extra: &[PathBuf]) -> Result<Self, TrustError> {
        TrustStore::system().extended(extra)
    }

    /// The system's roots (`$SSL_CERT_FILE`, else Debian's bundle), or none if they
    /// cannot be read. Load them once and [`extended`](Self::extended) per scan.
    pub fn system() -> Self {
        let mut store = TrustStore::default();
        let system = std::env::var_os("SSL_CERT_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(SYSTEM_ROOTS));
        if let Ok(n) = store.add_file(&system, false) {
            store
                .sources
                .push(format!("{} ({n} roots)", system.display()));
        }
        store
    }

    /// These anchors plus every file in `extra`, which must each hold at least one
    /// usable certificate.
    pub fn extended(&self, extra: &[PathBuf]) -> Result<Self, TrustError> {
        let mut store = self.clone();
        for path in extra {
            let n = store.add_file(path, true)?;
            store
                .sources
                .push(format!("{} ({n} certificates)", path.display()));
        }
        Ok(store)
    }

    /// Adds every certificate of a PEM file; with `strict`, any unusable one is an error.
    fn add_file(&mut self, path: &Path, strict: bool) -> Result<usize, TrustError> {
        let bytes = kenshin_files::read(path, CA_FILE_LIMIT, kenshin_files::Follow::Yes)?;
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&bytes) {
            let cert = match cert {
                Ok(c) => c,
                Err(e) if strict => {
                    return Err(TrustError::Anchor {
                        path: path.to_owned(),
                        reason: e.to_string(),
                    })
                }
                Err(_) => continue,
            };
            match webpki::anchor_from_trusted_cert(&cert) {
                Ok(a) => {
                    self.anchors.push(a.to_owned());
                    added += 1;
                }
                Err(e) if strict => {
                    return Err(TrustError::Anchor {
                        path: path.to_owned(),
                        reason: e.to_string(),
                    })
                }
                Err(_) => {}
            }
        }
        if added == 0 {
            return Err(TrustError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(added)
    }

    /// Checks `chain` (leaf first) for server authentication at `now`.
    pub fn verify(&self, chain: &[Vec<u8>], now: OffsetDateTime) -> Result<(), String> {
        let Some(leaf) = chain.first() else {
            return Err("no certificate".into());
        };
        if self.anchors.is_empty() {
            return Err("no trust anchors are available".into());
        }
        let leaf = CertificateDer::from(leaf.as_slice());
        let ee = webpki::EndEntityCert::try_from(&leaf).map_err(|e| chain_error_words(&e))?;
        let intermediates: Vec<CertificateDer<'_>> = chain[1..]
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.anchors,
            &intermediates,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)),
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map(drop)
        .map_err(|e| chain_error_words(&e))
    }
}

/// A chain check's failure in words, with webpki's name for it.
fn chain_error_words(e: &webpki::Error) -> String {
    let words = match e {
        webpki::Error::UnknownIssuer => {
            "no trusted CA issued it (not in the system roots or any --ca-file)"
        }
        webpki::Error::CaUsedAsEndEntity => {
            "the server presents a CA certificate as its own (typical of a self-signed certificate)"
        }
        webpki::Error::CertExpired { .. } => "the certificate has expired",
        webpki::Error::CertNotValidYet { .. } => "the certificate is not valid yet",
        webpki::Error::UnsupportedCertVersion => {
            "an X.509 version 1 certificate, which cannot be checked as a server certificate"
        }
        webpki::Error::RequiredEkuNotFoundContext(_) => {
            "the certificate is not for server authentication"
        }
        webpki::Error::UnsupportedSignatureAlgorithmContext(_)
        | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "signed with an algorithm or key too weak to verify (SHA-1, or RSA below 2048 bits)"
        }
        _ => "the chain does not verify",
    };
    let name = format!("{e:?}");
    let name = name.split(['{', '(']).next().unwrap_or("").trim();
    format!("{words} ({name})")
}

/// One certificate, described.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertificateFacts {
    pub subject: String,
    pub issuer: String,
    pub subject_cn: Option<String>,
    pub sans: Vec<String>,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub expired: bool,
    pub not_yet_valid: bool,
    pub expires_within_30_days: bool,
    /// Whole days from the scan to expiry (negative once expired).
    pub days_left: i64,
    pub self_signed: bool,
    /// `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA` or the algorithm's OID.
    pub key_type: String,
    pub key_bits: Option<u32>,
    /// The named curve of an EC key (`P-256` …).
    pub curve: Option<String>,
    pub signature_algorithm: String,
    /// `MD5`, `SHA-1`, `SHA-256` … or `none` for EdDSA's built-in hash.
    pub signature_hash: Option<String>,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
}

/// Describes a DER certificate at the scan's time.
pub fn describe(der: &[u8], now: OffsetDateTime) -> Result<CertificateFacts, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("does not parse: {e}"))?;
    let validity = cert.validity();
    let (not_before, not_after) = (
        validity.not_before.to_datetime(),
        validity.not_after.to_datetime(),
    );
    let days_left = (not_after - now).whole_days();
    let subject_cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned);
    let (key_type, key_bits, curve) = key_of(&cert);
    let (signature_algorithm, signature_hash) =
        signature_of(&cert.signature_algorithm.algorithm.to_id_string());
    Ok(CertificateFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        subject_cn,
        sans: subject_alt_names(&cert),
        serial: cert.raw_serial_as_string(),
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        expired: now > not_after,
        not_yet_valid: now < not_before,
        expires_within_30_days: now <= not_after && days_left < EXPIRY_WARNING_DAYS,
        days_left,
        self_signed: cert.subject() == cert.issuer(),
        key_type,
        key_bits,
        curve,
        signature_algorithm,
        signature_hash,
        sha256: hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref()),
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key_of(cert: &X509Certificate<'_>) -> (String, Option<u32>, Option<String>) {
    let spki = cert.public_key();
    let oid = spki.algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .and_then(|o| curve_name(&o.to_id_string()));
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".into(), u32::try_from(rsa.key_size()).ok(), None),
        Ok(PublicKey::EC(ec)) => {
            let bits = curve
                .as_deref()
                .and_then(|c| c.strip_prefix("P-"))
                .and_then(|b| b.parse().ok())
                .or_else(|| u32::try_from(ec.key_size()).ok());
            ("EC".into(), bits, curve)
        }
        Ok(PublicKey::DSA(y)) => ("DSA".into(), u32::try_from(y.len() * 8).ok(), None),
        _ => match oid.as_str() {
            "1.3.101.112" => ("Ed25519".into(), Some(256), None),
            "1.3.101.113" => ("Ed448".into(), Some(456), None),
            _ => (oid, None, None),
        },
    }
}

fn curve_name(oid: &str) -> Option<String> {
    Some(
        match oid {
            "1.2.840.10045.3.1.7" => "P-256",
            "1.3.132.0.34" => "P-384",
            "1.3.132.0.35" => "P-521",
            "1.2.840.10045.3.1.1" => "P-192",
            "1.3.132.0.33" => "P-224",
            "1.3.132.0.10" => "secp256k1",
            "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
            "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
            "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
            _ => return None,
        }
        .to_owned(),
    )
}

/// The signature algorithm's name and hash, from its OID.
fn signature_of(oid: &str) -> (String, Option<String>) {
    let (name, hash) = match oid {
        "1.2.840.113549.1.1.2" => ("md2WithRSAEncryption", "MD2"),
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", "MD5"),
        "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", "SHA-1"),
        "1.2.840.113549.1.1.14" => ("sha224WithRSAEncryption", "SHA-224"),
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", "SHA-256"),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", "SHA-384"),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", "SHA-512"),
        "1.2.840.113549.1.1.10" => ("RSASSA-PSS", "from parameters"),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", "SHA-1"),
        "1.2.840.10045.4.3.1" => ("ecdsa-with-SHA224", "SHA-224"),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", "SHA-256"),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", "SHA-384"),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", "SHA-512"),
        "1.2.840.10040.4.3" => ("dsa-with-sha1", "SHA-1"),
        "2.16.840.1.101.3.4.3.2" => ("dsa-with-sha256", "SHA-256"),
        "1.3.101.112" => ("Ed25519", "none"),
        "1.3.101.113" => ("Ed448", "none"),
        other => return (other.to_owned(), None),
    };
    (name.to_owned(), Some(hash.to_owned()))
}

/// True if the certificate is valid for `name` (a DNS name or an address): DNS names
/// against DNS SANs with a wildcard only as the whole leftmost label, addresses
/// against IP SANs; the subject CN only when there are no SANs at all.
pub fn matches_name(facts: &CertificateFacts, name: &str) -> bool {
    let is_ip = name.parse::<IpAddr>().is_ok();
    let candidates: Vec<&str> = if facts.sans.is_empty() {
        facts.subject_cn.iter().map(String::as_str).collect()
    } else {
        facts.sans.iter().map(String::as_str).collect()
    };
    candidates.iter().any(|c| {
        if is_ip {
            c.parse::<IpAddr>().ok() == name.parse::<IpAddr>().ok()
        } else {
            dns_matches(c, name)
        }
    })
}

fn dns_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (
        pattern.trim_end_matches('.').to_ascii_lowercase(),
        name.trim_end_matches('.').to_ascii_lowercase(),
    );
    match pattern.strip_prefix("*.") {
        Some(rest) => name
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest && rest.contains('.')),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(cn: Option<&str>, sans: &[&str]) -> CertificateFacts {
        CertificateFacts {
            subject: String::new(),
            issuer: String::new(),
            subject_cn: cn.map(str::to_owned),
            sans: sans.iter().map(|s| (*s).to_owned()).collect(),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            expired: false,
            not_yet_valid: false,
            expires_within_30_days: false,
            days_left: 0,
            self_signed: false,
            key_type: "RSA".into(),
            key_bits: Some(2048),
            curve: None,
            signature_algorithm: String::new(),
            signature_hash: None,
            sha256: String::new(),
        }
    }

    #[test]
    fn names_match_sans_with_single_label_wildcards_only() {
        let f = facts(
            Some("ignored.example"),
            &["pacs.example.jp", "*.lab.example.jp", "198.18.2.12"],
        );
        assert!(matches_name(&f, "pacs.example.jp"));
        assert!(matches_name(&f, "PACS.Example.JP."));
        assert!(matches_name(&f, "a.lab.example.jp"));
        assert!(!matches_name(&f, "a.b.lab.example.jp"));
        assert!(!matches_name(&f, "lab.example.jp"));
        assert!(matches_name(&f, "198.18.2.12"));
        assert!(!matches_name(&f, "198.18.2.13"));
        assert!(
            !matches_name(&f, "ignored.example"),
            "the CN is not used when SANs exist"
        );
    }

    #[test]
    fn the_common_name_counts_only_without_sans() {
        assert!(matches_name(
            &facts(Some("printer.local"), &[]),
            "printer.local"
        ));
        assert!(
            !matches_name(&facts(Some("*.com"), &[]), "x.com"),
            "a wildcard needs two labels after it"
        );
    }

    #[test]
    fn signature_hashes_are_named_from_their_oids() {
        assert_eq!(
            signature_of("1.2.840.113549.1.1.5").1.as_deref(),
            Some("SHA-1")
        );
        assert_eq!(signature_of("1.2.840.10045.4.3.2").0, "ecdsa-with-SHA256");
        assert_eq!(signature_of("1.2.3.4"), ("1.2.3.4".to_owned(), None));
    }

    #[test]
    fn a_missing_ca_file_is_an_error_that_names_it() {
        let e = TrustStore::load(&[PathBuf::from("/nonexistent/hospital-ca.pem")])
            .expect_err("missing file");
        assert!(
            e.to_string().contains("/nonexistent/hospital-ca.pem"),
            "{e}"
        );
    }

    #[test]
    fn a_ca_file_without_certificates_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let e = TrustStore::load(&[path]).expect_err("empty");
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
    }
}
