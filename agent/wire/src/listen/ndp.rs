//! IPv6 neighbour discovery (RFC 4861): router and neighbour solicitations and
//! advertisements, which say which IPv6 addresses a MAC holds and which hosts route.
//!
//! Read: the message type, the target address of neighbour messages, the link-layer
//! address options, the router flag and advertised prefixes. Other ICMPv6 messages
//! decode to `None`.

use std::net::Ipv6Addr;

use super::{array16, mac};
use crate::reader::{DecodeError, Reader};

/// The most options, and prefixes, read from one message.
pub const MAX_OPTIONS: usize = 32;

/// Which neighbour-discovery message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    RouterSolicitation,
    RouterAdvertisement,
    NeighborSolicitation,
    NeighborAdvertisement,
}

/// One neighbour-discovery message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ndp {
    pub kind: Kind,
    /// The target of a neighbour solicitation or advertisement.
    pub target: Option<Ipv6Addr>,
    /// The source or target link-layer address option.
    pub link_address: Option<[u8; 6]>,
    /// A router advertisement, or a neighbour advertisement with the router flag.
    pub router: bool,
    /// Prefixes a router advertised, with their length.
    pub prefixes: Vec<(Ipv6Addr, u8)>,
}

/// Decodes an ICMPv6 message; `None` for types other than 133-136.
pub fn decode(bytes: &[u8]) -> Result<Option<Ndp>, DecodeError> {
    let mut r = Reader::new(bytes);
    let kind = match r.u8("icmpv6 type")? {
        133 => Kind::RouterSolicitation,
        134 => Kind::RouterAdvertisement,
        135 => Kind::NeighborSolicitation,
        136 => Kind::NeighborAdvertisement,
        _ => return Ok(None),
    };
    r.u8("icmpv6 code")?;
    r.u16_be("icmpv6 checksum")?;
    let mut out = Ndp {
        kind,
        target: None,
        link_address: None,
        router: kind == Kind::RouterAdvertisement,
        prefixes: Vec::new(),
    };
    match kind {
        Kind::RouterSolicitation => {
            r.u32_be("rs reserved")?;
        }
        Kind::RouterAdvertisement => {
            r.take(12, "ra header")?;
        }
        Kind::NeighborSolicitation | Kind::NeighborAdvertisement => {
            let flags = r.u32_be("neighbour flags")?;
            if kind == Kind::NeighborAdvertisement {
                out.router = flags & 0x8000_0000 != 0;
            }
            out.target = Some(Ipv6Addr::from(array16(r.take(16, "neighbour target")?)));
        }
    }
    let mut count = 0;
    while !r.is_empty() {
        count += 1;
        if count > MAX_OPTIONS {
            return Err(DecodeError::TooLarge {
                field: "ndp options",
                value: count,
                limit: MAX_OPTIONS,
            });
        }
        let otype = r.u8("ndp option type")?;
        let units = usize::from(r.u8("ndp option length")?);
        if units == 0 {
            return Err(DecodeError::Invalid {
                field: "ndp option length",
                reason: "zero",
            });
        }
        let mut value = r.sub(units * 8 - 2, "ndp option value")?;
        match otype {
            1 | 2 if units == 1 => out.link_address = Some(mac(&mut value, "ndp link address")?),
            3 if units == 4 => {
                let len = value.u8("prefix length")?;
                value.take(13, "prefix flags and lifetimes")?;
                let prefix = Ipv6Addr::from(array16(value.take(16, "prefix")?));
                if out.prefixes.len() < MAX_OPTIONS {
                    out.prefixes.push((prefix, len));
                }
            }
            _ => {}
        }
    }
    Ok(Some(out))
}
