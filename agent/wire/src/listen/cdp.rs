//! CDP (Cisco Discovery Protocol, version 1 and 2): what Cisco switches, routers and
//! IP phones announce to their neighbours.
//!
//! Read: device ID, platform, software version, port ID, capabilities and the
//! addresses (CDP's address and management-address TLVs). CDP rides on 802.3
//! with LLC/SNAP to `01:00:0c:cc:cc:cc`; [`super::decode_frame`] removes that header.

use std::net::IpAddr;

use super::{ip_from, text};
use crate::reader::{DecodeError, Reader};

/// CDP's multicast destination.
pub const MULTICAST: [u8; 6] = [0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc];
/// LLC (AA AA 03) and SNAP (Cisco OUI 00 00 0C, protocol 0x2000).
pub const SNAP_HEADER: [u8; 8] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00];
/// The most TLVs read from one message.
pub const MAX_TLVS: usize = 128;
/// The most addresses kept, and read from one address TLV.
pub const MAX_ADDRESSES: usize = 8;

/// Capability bits, by name.
pub const CAPABILITIES: [(u32, &str); 10] = [
    (0x001, "router"),
    (0x002, "transparent-bridge"),
    (0x004, "source-route-bridge"),
    (0x008, "switch"),
    (0x010, "host"),
    (0x020, "igmp"),
    (0x040, "repeater"),
    (0x080, "phone"),
    (0x100, "remote"),
    (0x200, "cvta"),
];

/// One CDP message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cdp {
    pub version: u8,
    pub device_id: Option<String>,
    pub port_id: Option<String>,
    pub platform: Option<String>,
    pub software: Option<String>,
    pub capabilities: Vec<&'static str>,
    pub addresses: Vec<IpAddr>,
}

/// Decodes a CDP message (after LLC/SNAP).
pub fn decode(bytes: &[u8]) -> Result<Cdp, DecodeError> {
    let mut r = Reader::new(bytes);
    let version = r.u8("cdp version")?;
    if version != 1 && version != 2 {
        return Err(DecodeError::Invalid {
            field: "cdp version",
            reason: "not 1 or 2",
        });
    }
    r.u8("cdp ttl")?;
    r.u16_be("cdp checksum")?;
    let mut out = Cdp {
        version,
        ..Cdp::default()
    };
    let mut count = 0;
    while !r.is_empty() {
        count += 1;
        if count > MAX_TLVS {
            return Err(DecodeError::TooLarge {
                field: "cdp tlvs",
                value: count,
                limit: MAX_TLVS,
            });
        }
        let kind = r.u16_be("cdp tlv type")?;
        let len = usize::from(r.u16_be("cdp tlv length")?);
        let body = len.checked_sub(4).ok_or(DecodeError::Invalid {
            field: "cdp tlv length",
            reason: "shorter than its header",
        })?;
        let mut value = r.sub(body, "cdp tlv value")?;
        match kind {
            0x0001 => out.device_id = Some(text(value.rest())),
            0x0002 | 0x0016 => addresses(&mut value, &mut out.addresses)?,
            0x0003 => out.port_id = Some(text(value.rest())),
            0x0004 => {
                let bits = value.u32_be("cdp capabilities")?;
                out.capabilities = CAPABILITIES
                    .iter()
                    .filter(|(bit, _)| bits & bit != 0)
                    .map(|(_, n)| *n)
                    .collect();
            }
            0x0005 => out.software = Some(text(value.rest())),
            0x0006 => out.platform = Some(text(value.rest())),
            _ => {}
        }
    }
    Ok(out)
}

fn addresses(r: &mut Reader<'_>, out: &mut Vec<IpAddr>) -> Result<(), DecodeError> {
    let count = r.u32_be("cdp address count")?;
    if usize::try_from(count).map_or(true, |c| c > MAX_ADDRESSES) {
        return Err(DecodeError::TooLarge {
            field: "cdp address count",
            value: usize::try_from(count).unwrap_or(usize::MAX),
            limit: MAX_ADDRESSES,
        });
    }
    for _ in 0..count {
        r.u8("cdp address protocol type")?;
        let plen = usize::from(r.u8("cdp address protocol length")?);
        r.take(plen, "cdp address protocol")?;
        let alen = usize::from(r.u16_be("cdp address length")?);
        let addr = r.take(alen, "cdp address")?;
        if let Some(ip) = ip_from(addr) {
            if out.len() < MAX_ADDRESSES && !out.contains(&ip) {
                out.push(ip);
            }
        }
    }
    Ok(())
}
