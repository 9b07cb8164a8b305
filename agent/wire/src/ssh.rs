//! The SSH identification string (RFC 4253 §4.2).
//!
//! `SSH-protoversion-softwareversion SP comments CR LF`, at most 255 bytes, possibly
//! preceded by other lines that the client must ignore. The software version is split
//! into product and version where it has the usual `Product_Version` or
//! `Product-Version` form (`OpenSSH_9.2p1`, `dropbear_2022.83`, `Cisco-1.25`); the
//! comments carry distribution package revisions (`Debian-2+deb12u3`) that decide
//! whether a backported fix is present.

use crate::line::{next_line, printable, NextLine};
use crate::reader::DecodeError;

/// RFC 4253: the identification line is at most 255 bytes including CR LF.
pub const MAX_IDENT: usize = 255;
/// Lines before the identification that kenshin will skip.
pub const MAX_PRELUDE_LINES: usize = 16;

/// A parsed identification string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    /// `2.0`, or `1.99` for servers that also speak protocol 1.
    pub proto_version: String,
    /// The whole software-version field: `OpenSSH_9.2p1`.
    pub software: String,
    /// `OpenSSH`, when the software field has a product/version separator.
    pub product: Option<String>,
    /// `9.2p1`.
    pub version: Option<String>,
    /// Everything after the first space: `Debian-2+deb12u3`.
    pub comments: Option<String>,
    /// Lines the server sent before the identification (banners), printable.
    pub prelude: Vec<String>,
}

/// Result of feeding received bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Complete(Identification),
    /// The identification line has not arrived yet.
    Incomplete,
}

/// Parses the server's first bytes.
pub fn parse(buf: &[u8]) -> Result<Parsed, DecodeError> {
    let mut rest = buf;
    let mut prelude = Vec::new();
    loop {
        let (text, consumed) = match next_line(rest, "ssh identification")? {
            NextLine::Incomplete => return Ok(Parsed::Incomplete),
            NextLine::Line { text, consumed } => (text, consumed),
        };
        if text.starts_with(b"SSH-") {
            if consumed > MAX_IDENT {
                return Err(DecodeError::TooLarge {
                    field: "ssh identification",
                    value: consumed,
                    limit: MAX_IDENT,
                });
            }
            return parse_ident(text, prelude).map(Parsed::Complete);
        }
        if prelude.len() == MAX_PRELUDE_LINES {
            return Err(DecodeError::TooLarge {
                field: "ssh lines before the identification",
                value: prelude.len() + 1,
                limit: MAX_PRELUDE_LINES,
            });
        }
        prelude.push(printable(text));
        rest = &rest[consumed..];
    }
}

fn parse_ident(line: &[u8], prelude: Vec<String>) -> Result<Identification, DecodeError> {
    let invalid = |reason| DecodeError::Invalid {
        field: "ssh identification",
        reason,
    };
    let text = std::str::from_utf8(line).map_err(|_| invalid("not US-ASCII"))?;
    if !text.is_ascii() {
        return Err(invalid("not US-ASCII"));
    }
    let body = &text[4..];
    let (proto, after) = body.split_once('-').ok_or(invalid("no software version"))?;
    if proto.is_empty() || !proto.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(invalid("protocol version is not a number"));
    }
    let (software, comments) = match after.split_once(' ') {
        Some((s, c)) => (s, Some(c.to_owned())),
        None => (after, None),
    };
    if software.is_empty() || software.chars().any(|c| c.is_ascii_control() || c == ' ') {
        return Err(invalid("empty or malformed software version"));
    }
    let split = software
        .find('_')
        .or_else(|| software.find('-'))
        .filter(|&i| i > 0 && i + 1 < software.len());
    let (product, version) = match split {
        Some(i) => (
            Some(software[..i].to_owned()),
            Some(software[i + 1..].to_owned()),
        ),
        None => (None, None),
    };
    Ok(Identification {
        proto_version: proto.to_owned(),
        software: software.to_owned(),
        product,
        version,
        comments,
        prelude,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(bytes: &[u8]) -> Identification {
        match parse(bytes) {
            Ok(Parsed::Complete(i)) => i,
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(bytes)),
        }
    }

    #[test]
    fn debian_openssh_keeps_its_package_revision() {
        // As sent by openssh-server 1:9.2p1-2+deb12u3 on Debian 12.
        let i = ident(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
        assert_eq!(i.proto_version, "2.0");
        assert_eq!(i.product.as_deref(), Some("OpenSSH"));
        assert_eq!(i.version.as_deref(), Some("9.2p1"));
        assert_eq!(i.comments.as_deref(), Some("Debian-2+deb12u3"));
    }

    #[test]
    fn other_products_split_on_their_own_separator() {
        let d = ident(b"SSH-2.0-dropbear_2022.83\r\n");
        assert_eq!(
            (d.product.as_deref(), d.version.as_deref()),
            (Some("dropbear"), Some("2022.83"))
        );
        let c = ident(b"SSH-1.99-Cisco-1.25\r\n");
        assert_eq!(c.proto_version, "1.99");
        assert_eq!(
            (c.product.as_deref(), c.version.as_deref()),
            (Some("Cisco"), Some("1.25"))
        );
        let bare = ident(b"SSH-2.0-RomSShell\n");
        assert_eq!(bare.software, "RomSShell");
        assert_eq!(bare.product, None);
    }

    #[test]
    fn banner_lines_before_the_identification_are_kept_apart() {
        let i = ident(b"Authorized use only\r\n\x1b[0m\r\nSSH-2.0-OpenSSH_8.0\r\n");
        assert_eq!(i.prelude, vec!["Authorized use only", "[0m"]);
        assert_eq!(i.version.as_deref(), Some("8.0"));
    }

    #[test]
    fn a_partial_identification_asks_for_more_and_every_truncation_is_safe() {
        let full = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
        for n in 0..full.len() {
            assert_eq!(parse(&full[..n]), Ok(Parsed::Incomplete), "cut at {n}");
        }
    }

    #[test]
    fn malformed_identifications_are_refused() {
        for bad in [
            &b"SSH-2.0\r\n"[..],
            b"SSH-x.y-OpenSSH\r\n",
            b"SSH-2.0-\r\n",
            b"SSH-2.0-Open\xffSSH\r\n",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let mut long = b"SSH-2.0-".to_vec();
        long.extend(std::iter::repeat_n(b'a', 300));
        long.extend(b"\r\n");
        assert!(parse(&long).is_err());
        let many = b"x\n".repeat(MAX_PRELUDE_LINES + 1);
        assert!(parse(&many).is_err());
    }
}
