//! Decoders for what a listener hears on a segment without asking: broadcast and
//! multicast frames in which hosts say who they are.
//!
//! [`decode_frame`] takes one Ethernet frame (an optional 802.1Q tag included) and
//! returns what it carried when it is one of the protocols below, or
//! [`Payload::Other`]. Every decoder is bounded: a frame longer than [`MAX_FRAME`]
//! is refused, every text is cut to [`MAX_TEXT`] characters and every list to a
//! stated limit, and no input can make one panic.
//!
//! - [`arp`]: ARP requests, replies, probes and gratuitous announcements;
//! - [`dhcp`]: BOOTP/DHCP messages: hostname (option 12), vendor class (60), the
//!   parameter-request list (55) as a fingerprint, the requested address (50);
//! - [`lldp`] and [`cdp`]: system name and description, capabilities, management
//!   addresses;
//! - [`dns`]: the DNS message format shared by [`mdns`] (DNS-SD service types,
//!   instances, TXT model strings) and [`nbns`] (NetBIOS name service);
//! - [`ssdp`]: SSDP NOTIFY and search messages (the server string; the description
//!   URL is kept as text, never fetched);
//! - [`ndp`]: IPv6 router and neighbour solicitations and advertisements.

pub mod arp;
pub mod cdp;
pub mod dhcp;
pub mod dns;
pub mod lldp;
pub mod mdns;
pub mod nbns;
pub mod ndp;
pub mod ssdp;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::reader::{DecodeError, Reader};

/// The longest frame decoded: a jumbo frame. Anything longer is refused.
pub const MAX_FRAME: usize = 9216;
/// The most characters any text field keeps.
pub const MAX_TEXT: usize = 255;

/// One frame heard on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub destination: [u8; 6],
    pub source: [u8; 6],
    /// The 802.1Q VLAN ID, if the frame was tagged.
    pub vlan: Option<u16>,
    pub payload: Payload,
}

/// The sender of an IP datagram, for payloads that ride on IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpSource {
    pub address: IpAddr,
    pub port: u16,
}

/// What a frame carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Arp(arp::Arp),
    Dhcp(IpSource, dhcp::Dhcp),
    Lldp(lldp::Lldp),
    Cdp(cdp::Cdp),
    Mdns(IpSource, mdns::Mdns),
    Nbns(IpSource, nbns::Nbns),
    Ssdp(IpSource, ssdp::Ssdp),
    Ndp(Ipv6Addr, ndp::Ndp),
    /// Any other frame: ignored by the listener.
    Other,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_LLDP: u16 = 0x88cc;
const IP_UDP: u8 = 17;
const IP_ICMPV6: u8 = 58;

/// Decodes one Ethernet frame. Frames of other protocols are [`Payload::Other`];
/// a frame of a known protocol that is malformed is an error naming the field.
pub fn decode_frame(bytes: &[u8]) -> Result<Frame, DecodeError> {
    if bytes.len() > MAX_FRAME {
        return Err(DecodeError::TooLarge {
            field: "ethernet frame",
            value: bytes.len(),
            limit: MAX_FRAME,
        });
    }
    let mut r = Reader::new(bytes);
    let destination = mac(&mut r, "ethernet destination")?;
    let source = mac(&mut r, "ethernet source")?;
    let mut ethertype = r.u16_be("ethertype")?;
    let mut vlan = None;
    if ethertype == ETHERTYPE_VLAN {
        vlan = Some(r.u16_be("802.1Q tag")? & 0x0fff);
        ethertype = r.u16_be("ethertype")?;
    }
    let payload = match ethertype {
        ETHERTYPE_ARP => arp::decode(r.rest()).map(Payload::Arp)?,
        ETHERTYPE_LLDP => lldp::decode(r.rest()).map(Payload::Lldp)?,
        ETHERTYPE_IPV4 => ipv4(r.rest())?,
        ETHERTYPE_IPV6 => ipv6(r.rest())?,
        len if len <= 1500 => {
            // 802.3 with a length: CDP rides on LLC/SNAP to Cisco's multicast address.
            let body = r.rest();
            let body = body.get(..usize::from(len)).unwrap_or(body);
            if destination == cdp::MULTICAST && body.starts_with(&cdp::SNAP_HEADER) {
                cdp::decode(&body[cdp::SNAP_HEADER.len()..]).map(Payload::Cdp)?
            } else {
                Payload::Other
            }
        }
        _ => Payload::Other,
    };
    Ok(Frame {
        destination,
        source,
        vlan,
        payload,
    })
}

fn ipv4(bytes: &[u8]) -> Result<Payload, DecodeError> {
    let mut r = Reader::new(bytes);
    let first = r.u8("ipv4 version")?;
    if first >> 4 != 4 {
        return Err(DecodeError::Invalid {
            field: "ipv4 version",
            reason: "not 4",
        });
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < 20 {
        return Err(DecodeError::Invalid {
            field: "ipv4 header length",
            reason: "shorter than 20 bytes",
        });
    }
    r.u8("ipv4 tos")?;
    let total = usize::from(r.u16_be("ipv4 total length")?);
    r.u16_be("ipv4 identification")?;
    let fragment = r.u16_be("ipv4 fragment")?;
    r.u8("ipv4 ttl")?;
    let protocol = r.u8("ipv4 protocol")?;
    r.u16_be("ipv4 checksum")?;
    let src = Ipv4Addr::from(r.u32_be("ipv4 source")?);
    r.u32_be("ipv4 destination")?;
    r.take(header_len - 20, "ipv4 options")?;
    if protocol != IP_UDP || fragment & 0x3fff != 0 {
        // Not UDP, or a fragment: nothing the listener reads.
        return Ok(Payload::Other);
    }
    let body_len = total.checked_sub(header_len).ok_or(DecodeError::Invalid {
        field: "ipv4 total length",
        reason: "shorter than the header",
    })?;
    let body = r.take(body_len, "ipv4 payload")?;
    udp(IpAddr::V4(src), body)
}

fn ipv6(bytes: &[u8]) -> Result<Payload, DecodeError> {
    let mut r = Reader::new(bytes);
    let first = r.u8("ipv6 version")?;
    if first >> 4 != 6 {
        return Err(DecodeError::Invalid {
            field: "ipv6 version",
            reason: "not 6",
        });
    }
    r.take(3, "ipv6 flow label")?;
    let len = usize::from(r.u16_be("ipv6 payload length")?);
    let next = r.u8("ipv6 next header")?;
    r.u8("ipv6 hop limit")?;
    let src = Ipv6Addr::from(array16(r.take(16, "ipv6 source")?));
    r.take(16, "ipv6 destination")?;
    let body = r.take(len, "ipv6 payload")?;
    match next {
        IP_UDP => udp(IpAddr::V6(src), body),
        IP_ICMPV6 => Ok(ndp::decode(body)?.map_or(Payload::Other, |n| Payload::Ndp(src, n))),
        _ => Ok(Payload::Other),
    }
}

fn udp(src: IpAddr, bytes: &[u8]) -> Result<Payload, DecodeError> {
    let mut r = Reader::new(bytes);
    let sport = r.u16_be("udp source port")?;
    let dport = r.u16_be("udp destination port")?;
    let len = usize::from(r.u16_be("udp length")?);
    r.u16_be("udp checksum")?;
    let body_len = len.checked_sub(8).ok_or(DecodeError::Invalid {
        field: "udp length",
        reason: "shorter than the header",
    })?;
    let body = r.take(body_len, "udp payload")?;
    let from = IpSource {
        address: src,
        port: sport,
    };
    let ports = [sport, dport];
    Ok(if ports.contains(&mdns::PORT) {
        Payload::Mdns(from, mdns::decode(body)?)
    } else if dport == dhcp::SERVER_PORT || dport == dhcp::CLIENT_PORT {
        Payload::Dhcp(from, dhcp::decode(body)?)
    } else if ports.contains(&ssdp::PORT) {
        Payload::Ssdp(from, ssdp::decode(body)?)
    } else if ports.contains(&nbns::PORT) {
        Payload::Nbns(from, nbns::decode(body)?)
    } else {
        Payload::Other
    })
}

pub(crate) fn mac(r: &mut Reader<'_>, field: &'static str) -> Result<[u8; 6], DecodeError> {
    let b = r.take(6, field)?;
    Ok([b[0], b[1], b[2], b[3], b[4], b[5]])
}

pub(crate) fn array16(b: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, i) in out.iter_mut().zip(b) {
        *o = *i;
    }
    out
}

/// Text from the wire: lossy UTF-8, control characters dropped, at most
/// [`MAX_TEXT`] characters.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect()
}

/// An address carried as bytes: 4 for IPv4, 16 for IPv6, anything else none.
pub(crate) fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        16 => Some(IpAddr::V6(Ipv6Addr::from(array16(bytes)))),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
