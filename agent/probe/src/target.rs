//! Target syntax: what the user may write after `kenshin scan` and `--exclude`.
//!
//! A target is one of:
//! - an IPv4 or IPv6 address: `198.18.1.10`, `2001:db8::1`;
//! - a CIDR block: `198.18.1.0/24`, `2001:db8::/120` (host bits are masked off);
//! - a range: `198.18.1.1-40` (last IPv4 octet) or `198.18.1.1-198.18.2.9`;
//! - a hostname: `pacs.example.lan`, resolved once, before any packet is sent;
//! - `@FILE`: a file of any of the above, separated by white space or new lines,
//!   with `#` starting a comment.
//!
//! Parsing never falls back silently: a token that looks numeric but is not a
//! valid address (`198.18.1.300`) is an error, not a hostname to look up, so a
//! typo can never widen the scope through DNS.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::scope::AddrRange;

/// What a target token means before hostnames are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// An address, CIDR block or range.
    Range(AddrRange),
    /// A DNS name to resolve once.
    Hostname(String),
}

/// Why a target could not be understood.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TargetError {
    #[error("target {token:?}: {reason}")]
    Invalid { token: String, reason: String },
    #[error(transparent)]
    File(#[from] kenshin_files::ReadError),
    #[error("target file {path}, line {line}: {inner}")]
    InFile {
        path: PathBuf,
        line: usize,
        inner: Box<TargetError>,
    },
    #[error("target {name:?}: the hostname did not resolve: {reason}")]
    Unresolved { name: String, reason: String },
    #[error("target file {path} nests another file ({token}); @files may not include @files")]
    Nested { path: PathBuf, token: String },
}

fn invalid(token: &str, reason: impl Into<String>) -> TargetError {
    TargetError::Invalid {
        token: token.to_owned(),
        reason: reason.into(),
    }
}

/// Parses every token, reading `@FILE` tokens from disk.
pub fn parse_targets<S: AsRef<str>>(tokens: &[S]) -> Result<Vec<TargetSpec>, TargetError> {
    let mut out = Vec::new();
    for token in tokens {
        let token = token.as_ref().trim();
        match token.strip_prefix('@') {
            Some(path) => out.extend(parse_target_file(Path::new(path))?),
            None => out.push(parse_target(token)?),
        }
    }
    Ok(out)
}

/// The largest target or exclude file read (a million addresses, one a line).
pub const TARGET_FILE_LIMIT: u64 = 32 << 20;

/// Reads a target file: tokens separated by white space, `#` comments.
pub fn parse_target_file(path: &Path) -> Result<Vec<TargetSpec>, TargetError> {
    let text = kenshin_files::read_text(path, TARGET_FILE_LIMIT, kenshin_files::Follow::Yes)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        for token in line.split_whitespace() {
            if token.starts_with('@') {
                return Err(TargetError::Nested {
                    path: path.to_owned(),
                    token: token.to_owned(),
                });
            }
            let spec = parse_target(token).map_err(|inner| TargetError::InFile {
                path: path.to_owned(),
                line: i + 1,
                inner: Box::new(inner),
            })?;
            out.push(spec);
        }
    }
    Ok(out)
}

/// Parses one token (not `@FILE`).
pub fn parse_target(token: &str) -> Result<TargetSpec, TargetError> {
    if token.is_empty() {
        return Err(invalid(token, "empty target"));
    }
    if let Some((addr, prefix)) = token.split_once('/') {
        return parse_cidr(token, addr, prefix).map(TargetSpec::Range);
    }
    if let Ok(ip) = token.parse::<IpAddr>() {
        return Ok(TargetSpec::Range(AddrRange::single(ip)));
    }
    if let Some((lo, hi)) = token.split_once('-') {
        if let Ok(start) = lo.parse::<IpAddr>() {
            return parse_range(token, start, hi).map(TargetSpec::Range);
        }
    }
    if looks_numeric(token) {
        return Err(invalid(
            token,
            "not a valid IP address, CIDR block or range (numeric targets are never looked up in DNS)",
        ));
    }
    if !is_hostname(token) {
        return Err(invalid(
            token,
            "not an IP address, CIDR block, range or hostname",
        ));
    }
    Ok(TargetSpec::Hostname(token.to_ascii_lowercase()))
}

fn parse_cidr(token: &str, addr: &str, prefix: &str) -> Result<AddrRange, TargetError> {
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| invalid(token, format!("{addr:?} is not an IP address")))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits: u32 = prefix
        .parse()
        .ok()
        .filter(|b| *b <= max)
        .ok_or_else(|| invalid(token, format!("prefix length must be 0 to {max}")))?;
    Ok(AddrRange::cidr(ip, bits))
}

fn parse_range(token: &str, start: IpAddr, hi: &str) -> Result<AddrRange, TargetError> {
    let end = match (start, hi.parse::<IpAddr>()) {
        (_, Ok(end)) => end,
        (IpAddr::V4(s), Err(_)) => {
            let last: u8 = hi.parse().map_err(|_| {
                invalid(
                    token,
                    format!("range end {hi:?} is neither an address nor a last octet 0-255"),
                )
            })?;
            let o = s.octets();
            IpAddr::from([o[0], o[1], o[2], last])
        }
        (IpAddr::V6(_), Err(_)) => {
            return Err(invalid(token, "an IPv6 range needs a full end address"))
        }
    };
    AddrRange::new(start, end).ok_or_else(|| {
        invalid(
            token,
            "range end must be the same address family and not below its start",
        )
    })
}

fn looks_numeric(token: &str) -> bool {
    token
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | ':' | '-' | '/'))
        || token.contains(':')
}

/// RFC 1123 host name syntax: labels of letters, digits and hyphens, 1–63 bytes each.
fn is_hostname(token: &str) -> bool {
    let name = token.strip_suffix('.').unwrap_or(token);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A hostname with the addresses it resolved to, once, before the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub name: String,
    pub addresses: Vec<IpAddr>,
}

/// Resolves a hostname with the system resolver, once.
pub async fn resolve(name: &str) -> Result<Resolved, TargetError> {
    let found = tokio::net::lookup_host((name, 0))
        .await
        .map_err(|e| TargetError::Unresolved {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
    let mut addresses: Vec<IpAddr> = found.map(|sa| sa.ip()).collect();
    addresses.sort();
    addresses.dedup();
    if addresses.is_empty() {
        return Err(TargetError::Unresolved {
            name: name.to_owned(),
            reason: "no addresses".to_owned(),
        });
    }
    Ok(Resolved {
        name: name.to_owned(),
        addresses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(token: &str) -> AddrRange {
        match parse_target(token) {
            Ok(TargetSpec::Range(r)) => r,
            other => panic!("{token} parsed as {other:?}"),
        }
    }

    #[test]
    fn a_last_octet_range_covers_both_ends() {
        let r = range("198.18.1.1-40");
        assert_eq!(r.len(), 40);
        assert_eq!(Some(r.first()), "198.18.1.1".parse::<IpAddr>().ok());
        assert_eq!(Some(r.last()), "198.18.1.40".parse::<IpAddr>().ok());
    }

    #[test]
    fn a_full_range_may_cross_octets() {
        assert_eq!(range("198.18.1.1-198.18.2.9").len(), 255 + 10);
    }

    #[test]
    fn cidr_host_bits_are_masked() {
        let r = range("198.18.1.77/24");
        assert_eq!(Some(r.first()), "198.18.1.0".parse::<IpAddr>().ok());
        assert_eq!(r.len(), 256);
        assert_eq!(range("2001:db8::/120").len(), 256);
    }

    #[test]
    fn a_mistyped_address_is_an_error_and_never_a_dns_name() {
        for bad in [
            "198.18.1.300",
            "198.18.1",
            "198.18.1.1-300",
            "198.18.1.0/33",
            "1:2:3",
        ] {
            let err = parse_target(bad).expect_err(bad).to_string();
            assert!(err.contains(bad), "error for {bad} does not name it: {err}");
        }
    }

    #[test]
    fn a_backwards_range_is_refused() {
        assert!(parse_target("198.18.1.40-1").is_err());
        assert!(parse_target("198.18.1.1-2001:db8::1").is_err());
    }

    #[test]
    fn names_are_hostnames_and_junk_is_refused() {
        assert_eq!(
            parse_target("PACS-01.hospital.lan").ok(),
            Some(TargetSpec::Hostname("pacs-01.hospital.lan".into()))
        );
        assert!(parse_target("pacs_01;rm").is_err());
        assert!(parse_target("-bad.example").is_err());
    }

    #[test]
    fn a_target_file_reports_the_line_of_a_bad_entry() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("targets.txt");
        std::fs::write(
            &path,
            "# lab\n198.18.1.1 198.18.1.2\n\n198.18.1.999 # typo\n",
        )
        .expect("write");
        let err = parse_targets(&[format!("@{}", path.display())])
            .expect_err("line 4 is bad")
            .to_string();
        assert!(
            err.contains("line 4") && err.contains("198.18.1.999"),
            "{err}"
        );
        std::fs::write(&path, "198.18.1.1 # one\n198.18.2.0/30\n").expect("write");
        let specs = parse_targets(&[format!("@{}", path.display())]).expect("valid file");
        assert_eq!(specs.len(), 2);
    }

    #[test]
    fn a_missing_target_file_names_its_path() {
        let err = parse_targets(&["@/nonexistent/kenshin-targets"])
            .expect_err("missing")
            .to_string();
        assert!(err.contains("/nonexistent/kenshin-targets"), "{err}");
    }
}
