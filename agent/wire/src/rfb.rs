//! VNC's RFB handshake up to the security types (RFC 6143 §7.1).
//!
//! The server speaks first with a 12-byte ProtocolVersion; kenshin answers with the
//! same version (capped at 3.8) and reads the security types the server offers. An
//! offer of type 1 ("None") means anyone on the network gets the screen. kenshin
//! never picks a type: it closes after reading the list.

use crate::reader::{DecodeError, Reader};

/// Length of a ProtocolVersion message: `RFB 003.008\n`.
pub const VERSION_LEN: usize = 12;
/// Longest failure reason kept.
pub const MAX_REASON: usize = 1024;

/// An RFB protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
}

/// Parses a ProtocolVersion message. Returns `None` until 12 bytes have arrived.
pub fn parse_version(buf: &[u8]) -> Result<Option<Version>, DecodeError> {
    let Some(v) = buf.get(..VERSION_LEN) else {
        return Ok(None);
    };
    let invalid = DecodeError::Invalid {
        field: "rfb protocol version",
        reason: "not \"RFB xxx.yyy\\n\"",
    };
    if &v[..4] != b"RFB " || v[7] != b'.' || v[11] != b'\n' {
        return Err(invalid);
    }
    let num = |d: &[u8]| -> Option<u16> {
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().fold(0u16, |n, c| n * 10 + u16::from(c - b'0')))
    };
    match (num(&v[4..7]), num(&v[8..11])) {
        // RFC 6143 §7.1.1: 3.3 is the oldest version; a lower one is not RFB, and a
        // client could not answer it with a version that is not higher.
        (Some(major), Some(minor)) if (major, minor) >= (3, 3) => {
            Ok(Some(Version { major, minor }))
        }
        (Some(_), Some(_)) => Err(DecodeError::Invalid {
            field: "rfb protocol version",
            reason: "below 3.3, the oldest RFB version",
        }),
        _ => Err(invalid),
    }
}

/// The version kenshin answers with: the server's, but never above 3.8 (and 3.3 for
/// anything below 3.7, as the RFC tells clients to treat unknown minors).
pub fn client_version(server: Version) -> Version {
    match (server.major, server.minor) {
        (3, m) if m >= 8 => Version { major: 3, minor: 8 },
        (3, 7) => Version { major: 3, minor: 7 },
        (m, _) if m > 3 => Version { major: 3, minor: 8 },
        _ => Version { major: 3, minor: 3 },
    }
}

/// Encodes a ProtocolVersion message.
pub fn encode_version(v: Version) -> Vec<u8> {
    format!("RFB {:03}.{:03}\n", v.major.min(999), v.minor.min(999)).into_bytes()
}

/// An RFB security type; unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecurityType(pub u32);

impl SecurityType {
    pub const NONE: SecurityType = SecurityType(1);
    pub const VNC_AUTH: SecurityType = SecurityType(2);

    /// The registered name (IANA "RFB Security Types"), or `None`.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "invalid",
            1 => "none",
            2 => "vnc-auth",
            5 => "ra2",
            6 => "ra2ne",
            16 => "tight",
            17 => "ultra",
            18 => "tls",
            19 => "vencrypt",
            20 => "sasl",
            21 => "md5",
            22 => "xvp",
            30 => "apple-remote-desktop",
            _ => return None,
        })
    }
}

/// What the server offered after the version exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// The types offered (3.7 and later: a list; 3.3: the one type the server chose).
    Offered(Vec<SecurityType>),
    /// The server refused the connection, with its reason.
    Refused(String),
}

/// Parses the server's security message for protocol `minor` (3 = 3.3, 7 or 8 = list).
/// Returns `None` until it is complete.
pub fn parse_security(buf: &[u8], minor: u16) -> Result<Option<Security>, DecodeError> {
    let mut r = Reader::new(buf);
    let refused = |r: &mut Reader<'_>| -> Result<Option<Security>, DecodeError> {
        if r.remaining() < 4 {
            return Ok(None);
        }
        let len = r.u32_be("rfb reason length")? as usize;
        if len > MAX_REASON {
            return Err(DecodeError::TooLarge {
                field: "rfb reason",
                value: len,
                limit: MAX_REASON,
            });
        }
        if r.remaining() < len {
            return Ok(None);
        }
        let text = r.take(len, "rfb reason")?;
        Ok(Some(Security::Refused(crate::line::printable(text))))
    };
    if minor < 7 {
        if r.remaining() < 4 {
            return Ok(None);
        }
        return match r.u32_be("rfb security type")? {
            0 => refused(&mut r),
            t => Ok(Some(Security::Offered(vec![SecurityType(t)]))),
        };
    }
    let Some(count) = r.peek() else {
        return Ok(None);
    };
    r.u8("rfb security type count")?;
    if count == 0 {
        return refused(&mut r);
    }
    if r.remaining() < usize::from(count) {
        return Ok(None);
    }
    let types = r
        .take(usize::from(count), "rfb security types")?
        .iter()
        .map(|&t| SecurityType(u32::from(t)))
        .collect();
    Ok(Some(Security::Offered(types)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_below_3_3_is_not_rfb() {
        // Found by the `rfb` fuzz target: kenshin would have answered 3.3 to "0.8".
        assert!(parse_version(b"RFB 000.008\n").is_err());
        assert!(parse_version(b"RFB 003.002\n").is_err());
        assert_eq!(
            parse_version(b"RFB 003.003\n"),
            Ok(Some(Version { major: 3, minor: 3 }))
        );
    }

    #[test]
    fn versions_parse_and_kenshin_answers_with_at_most_3_8() {
        let v = parse_version(b"RFB 003.008\n")
            .expect("valid")
            .expect("complete");
        assert_eq!(v, Version { major: 3, minor: 8 });
        assert_eq!(encode_version(client_version(v)), b"RFB 003.008\n");
        // Apple's servers announce 3.889; some old ones 3.5.
        let apple = parse_version(b"RFB 003.889\n")
            .expect("valid")
            .expect("complete");
        assert_eq!(client_version(apple), Version { major: 3, minor: 8 });
        assert_eq!(
            client_version(Version { major: 3, minor: 5 }),
            Version { major: 3, minor: 3 }
        );
        assert_eq!(parse_version(b"RFB 003"), Ok(None));
        assert!(parse_version(b"SSH-2.0-Open").is_err());
    }

    #[test]
    fn an_offer_of_none_is_visible_in_the_list() {
        let s = parse_security(&[2, 1, 2], 8).expect("valid");
        assert_eq!(
            s,
            Some(Security::Offered(vec![
                SecurityType::NONE,
                SecurityType::VNC_AUTH
            ]))
        );
        assert_eq!(
            parse_security(&[0, 0, 0, 2], 3),
            Ok(Some(Security::Offered(vec![SecurityType(2)])))
        );
    }

    #[test]
    fn a_refusal_carries_its_reason_and_partial_messages_wait() {
        let mut msg = vec![0, 0, 0, 0, 16];
        msg.extend(b"Too many clients");
        assert_eq!(
            parse_security(&msg, 8),
            Ok(Some(Security::Refused("Too many clients".into())))
        );
        for n in 0..msg.len() {
            assert_eq!(parse_security(&msg[..n], 8), Ok(None), "cut at {n}");
        }
        assert_eq!(parse_security(&[3, 1], 8), Ok(None));
        assert!(parse_security(&[0, 0xff, 0xff, 0xff, 0xff], 8).is_err());
    }
}
