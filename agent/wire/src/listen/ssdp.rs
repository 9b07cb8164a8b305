//! SSDP (UPnP device architecture 1.1 §1): NOTIFY announcements multicast to
//! 239.255.255.250:1900, searches and their unicast answers.
//!
//! Read: the start line, `SERVER` (operating system, UPnP version and product),
//! `NT`/`ST` (device or service type), `NTS` (`ssdp:alive`, `ssdp:byebye`), `USN`
//! and `LOCATION`. The location URL is kept as text only: kenshin never fetches it,
//! because fetching it would send a packet.

use super::text;
use crate::reader::DecodeError;

/// SSDP's UDP port.
pub const PORT: u16 = 1900;
/// The most header lines read.
pub const MAX_HEADERS: usize = 64;

/// What the message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    #[default]
    Notify,
    Search,
    /// `HTTP/1.1 200 OK`: an answer to a search.
    Response,
}

/// One SSDP message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ssdp {
    pub kind: Kind,
    pub server: Option<String>,
    /// `NT` of a NOTIFY, `ST` of a search or response.
    pub target: Option<String>,
    /// `NTS`: `ssdp:alive`, `ssdp:byebye`, `ssdp:update`.
    pub subtype: Option<String>,
    pub usn: Option<String>,
    /// Never fetched.
    pub location: Option<String>,
}

/// Decodes an SSDP message (the UDP payload).
pub fn decode(bytes: &[u8]) -> Result<Ssdp, DecodeError> {
    let mut lines = bytes
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let start = lines.next().unwrap_or_default();
    let kind = if start.starts_with(b"NOTIFY ") {
        Kind::Notify
    } else if start.starts_with(b"M-SEARCH ") {
        Kind::Search
    } else if start.starts_with(b"HTTP/1.") {
        Kind::Response
    } else {
        return Err(DecodeError::Invalid {
            field: "ssdp start line",
            reason: "not NOTIFY, M-SEARCH or an HTTP response",
        });
    };
    let mut out = Ssdp {
        kind,
        ..Ssdp::default()
    };
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            break;
        }
        if i >= MAX_HEADERS {
            return Err(DecodeError::TooLarge {
                field: "ssdp headers",
                value: i + 1,
                limit: MAX_HEADERS,
            });
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        let value = text(&value[1..]).trim().to_owned();
        let slot = match name.to_ascii_uppercase().as_slice() {
            b"SERVER" => &mut out.server,
            b"NT" | b"ST" => &mut out.target,
            b"NTS" => &mut out.subtype,
            b"USN" => &mut out.usn,
            b"LOCATION" => &mut out.location,
            _ => continue,
        };
        *slot = Some(value);
    }
    Ok(out)
}
