//! ARP over Ethernet for IPv4 (RFC 826; probes and announcements of RFC 5227).
//!
//! A listener learns an address and its MAC from every request and reply: the
//! sender fields are the speaker's own. A probe has sender address 0.0.0.0 and
//! says only which address a host is about to take.

use std::net::Ipv4Addr;

use super::mac;
use crate::reader::{DecodeError, Reader};

/// ARP request.
pub const REQUEST: u16 = 1;
/// ARP reply.
pub const REPLY: u16 = 2;

/// One ARP message (Ethernet hardware, IPv4 protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arp {
    /// [`REQUEST`], [`REPLY`], or another operation kept as its number.
    pub operation: u16,
    pub sender_mac: [u8; 6],
    pub sender_ip: Ipv4Addr,
    pub target_mac: [u8; 6],
    pub target_ip: Ipv4Addr,
}

impl Arp {
    /// A gratuitous ARP: the sender announces its own address.
    pub fn is_gratuitous(&self) -> bool {
        !self.sender_ip.is_unspecified() && self.sender_ip == self.target_ip
    }

    /// An RFC 5227 probe: the sender has no address yet.
    pub fn is_probe(&self) -> bool {
        self.sender_ip.is_unspecified()
    }
}

/// Decodes the ARP message after the Ethernet header. Ethernet padding after the
/// message is allowed.
pub fn decode(bytes: &[u8]) -> Result<Arp, DecodeError> {
    let mut r = Reader::new(bytes);
    let htype = r.u16_be("arp hardware type")?;
    let ptype = r.u16_be("arp protocol type")?;
    let hlen = r.u8("arp hardware length")?;
    let plen = r.u8("arp protocol length")?;
    if htype != 1 || ptype != 0x0800 || hlen != 6 || plen != 4 {
        return Err(DecodeError::Invalid {
            field: "arp header",
            reason: "not Ethernet and IPv4",
        });
    }
    let operation = r.u16_be("arp operation")?;
    let sender_mac = mac(&mut r, "arp sender mac")?;
    let sender_ip = Ipv4Addr::from(r.u32_be("arp sender address")?);
    let target_mac = mac(&mut r, "arp target mac")?;
    let target_ip = Ipv4Addr::from(r.u32_be("arp target address")?);
    Ok(Arp {
        operation,
        sender_mac,
        sender_ip,
        target_mac,
        target_ip,
    })
}
