//! The NetBIOS name service (RFC 1002) on UDP 137: Windows hosts, Samba servers and
//! many embedded devices broadcast their name registrations and queries.
//!
//! The name is encoded in the first label of the question as 32 letters, two per
//! byte (`A` + high nibble, `A` + low nibble); its sixteenth byte is the suffix
//! (0x00 workstation, 0x20 file server, 0x1d master browser …).

use std::net::Ipv4Addr;

use super::dns::{self, Data};
use crate::reader::DecodeError;

/// The name service's UDP port.
pub const PORT: u16 = 137;

/// One name-service message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Nbns {
    pub response: bool,
    /// 0 query, 5 registration, 6 release, 8 or 9 refresh.
    pub opcode: u8,
    /// The name, trailing spaces removed.
    pub name: Option<String>,
    /// The name's suffix byte.
    pub suffix: Option<u8>,
    /// The address an NB record gave for the name.
    pub address: Option<Ipv4Addr>,
}

impl Nbns {
    /// A registration, release or refresh: the sender speaks for itself.
    pub fn is_announcement(&self) -> bool {
        matches!(self.opcode, 5 | 6 | 8 | 9)
    }
}

/// Decodes a first-level encoded NetBIOS name: 15 characters and the suffix.
pub fn decode_name(label: &[u8]) -> Option<(String, u8)> {
    if label.len() != 32 {
        return None;
    }
    let mut raw = Vec::with_capacity(16);
    for pair in label.chunks(2) {
        let hi = pair.first()?.checked_sub(b'A').filter(|n| *n < 16)?;
        let lo = pair.get(1)?.checked_sub(b'A').filter(|n| *n < 16)?;
        raw.push(hi << 4 | lo);
    }
    let suffix = *raw.last()?;
    let name = super::text(&raw[..15]).trim_end().to_owned();
    Some((name, suffix))
}

/// Decodes a name-service message (the UDP payload).
pub fn decode(bytes: &[u8]) -> Result<Nbns, DecodeError> {
    let msg = dns::decode(bytes)?;
    let mut out = Nbns {
        response: msg.is_response(),
        opcode: msg.opcode(),
        ..Nbns::default()
    };
    let first = msg
        .questions
        .first()
        .map(|q| &q.name)
        .or_else(|| msg.records.first().map(|r| &r.name));
    if let Some((name, suffix)) = first.and_then(|n| n.0.first()).and_then(|l| decode_name(l)) {
        out.name = Some(name);
        out.suffix = Some(suffix);
    }
    out.address = msg.records.iter().find_map(|r| match &r.data {
        Data::NetBios(a) => a.first().copied(),
        _ => None,
    });
    Ok(out)
}
