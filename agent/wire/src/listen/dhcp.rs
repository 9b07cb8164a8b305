//! BOOTP/DHCP messages (RFC 2131, options of RFC 2132) as a listener hears them.
//!
//! A client's DISCOVER and REQUEST are broadcast, so every host on the segment
//! hears the client's hardware address, its hostname (option 12), its vendor class
//! (option 60, e.g. `MSFT 5.0`, `udhcp 1.36.1`) and the options it asks for
//! (option 55). The order of that list differs between DHCP clients and is kept
//! as a fingerprint (`1,3,6,15,…`).

use std::net::Ipv4Addr;

use super::{mac, text};
use crate::reader::{DecodeError, Reader};

/// The server's UDP port.
pub const SERVER_PORT: u16 = 67;
/// The client's UDP port.
pub const CLIENT_PORT: u16 = 68;
/// The magic cookie before the options.
const COOKIE: u32 = 0x6382_5363;
/// The most options read from one message.
pub const MAX_OPTIONS: usize = 128;

/// One DHCP message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dhcp {
    /// 1 BOOTREQUEST (from a client), 2 BOOTREPLY.
    pub op: u8,
    /// Option 53: 1 DISCOVER, 3 REQUEST, 8 INFORM … `None` for plain BOOTP.
    pub message_type: Option<u8>,
    /// The client's hardware address, when it is an Ethernet MAC.
    pub client_mac: Option<[u8; 6]>,
    /// `ciaddr`: the address the client already has, if any.
    pub client_ip: Option<Ipv4Addr>,
    /// `yiaddr`: the address a server offers or assigns.
    pub your_ip: Option<Ipv4Addr>,
    /// Option 50: the address the client asks for.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 12.
    pub hostname: Option<String>,
    /// Option 60.
    pub vendor_class: Option<String>,
    /// Option 55, in the client's order.
    pub parameter_list: Vec<u8>,
}

impl Dhcp {
    /// True for a message a client sent (BOOTREQUEST).
    pub fn from_client(&self) -> bool {
        self.op == 1
    }

    /// The parameter-request list as text: `1,3,6,15,119,252`.
    pub fn fingerprint(&self) -> Option<String> {
        (!self.parameter_list.is_empty()).then(|| {
            self.parameter_list
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// The client's own address: `ciaddr`, else the requested address.
    pub fn client_address(&self) -> Option<Ipv4Addr> {
        self.client_ip.or(self.requested_ip)
    }
}

fn nonzero(a: Ipv4Addr) -> Option<Ipv4Addr> {
    (!a.is_unspecified()).then_some(a)
}

/// Decodes a BOOTP/DHCP message (the UDP payload).
pub fn decode(bytes: &[u8]) -> Result<Dhcp, DecodeError> {
    let mut r = Reader::new(bytes);
    let op = r.u8("dhcp op")?;
    if op != 1 && op != 2 {
        return Err(DecodeError::Invalid {
            field: "dhcp op",
            reason: "neither request nor reply",
        });
    }
    let htype = r.u8("dhcp htype")?;
    let hlen = r.u8("dhcp hlen")?;
    r.u8("dhcp hops")?;
    r.u32_be("dhcp xid")?;
    r.u16_be("dhcp secs")?;
    r.u16_be("dhcp flags")?;
    let client_ip = nonzero(Ipv4Addr::from(r.u32_be("dhcp ciaddr")?));
    let your_ip = nonzero(Ipv4Addr::from(r.u32_be("dhcp yiaddr")?));
    r.u32_be("dhcp siaddr")?;
    r.u32_be("dhcp giaddr")?;
    let mut chaddr = r.sub(16, "dhcp chaddr")?;
    let client_mac = (htype == 1 && hlen == 6)
        .then(|| mac(&mut chaddr, "dhcp chaddr"))
        .transpose()?;
    r.take(64 + 128, "dhcp sname and file")?;
    let mut msg = Dhcp {
        op,
        client_mac,
        client_ip,
        your_ip,
        ..Dhcp::default()
    };
    if r.is_empty() {
        return Ok(msg); // plain BOOTP
    }
    if r.u32_be("dhcp magic cookie")? != COOKIE {
        return Err(DecodeError::Invalid {
            field: "dhcp magic cookie",
            reason: "not 99.130.83.99",
        });
    }
    let mut count = 0;
    while let Some(code) = r.peek() {
        r.u8("dhcp option code")?;
        match code {
            0 => continue,
            255 => break,
            _ => {}
        }
        count += 1;
        if count > MAX_OPTIONS {
            return Err(DecodeError::TooLarge {
                field: "dhcp options",
                value: count,
                limit: MAX_OPTIONS,
            });
        }
        let len = usize::from(r.u8("dhcp option length")?);
        let value = r.take(len, "dhcp option value")?;
        match code {
            12 => msg.hostname = Some(text(value)),
            50 if len == 4 => {
                msg.requested_ip = nonzero(Ipv4Addr::new(value[0], value[1], value[2], value[3]));
            }
            53 if len == 1 => msg.message_type = Some(value[0]),
            55 => msg.parameter_list = value.to_vec(),
            60 => msg.vendor_class = Some(text(value)),
            _ => {}
        }
    }
    Ok(msg)
}
