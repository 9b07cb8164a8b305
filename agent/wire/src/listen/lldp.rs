//! LLDP (IEEE 802.1AB): what a switch, a router, a phone or a host running lldpd
//! says about itself to its neighbours every 30 seconds.
//!
//! Read: chassis ID, port ID, system name and description, the system and enabled
//! capabilities (router, bridge, telephone …) and management addresses. Other TLVs
//! (organisation-specific ones included) are skipped.

use std::net::IpAddr;

use super::{ip_from, text};
use crate::reader::{DecodeError, Reader};

/// The most TLVs read from one LLDPDU.
pub const MAX_TLVS: usize = 256;
/// The most management addresses kept.
pub const MAX_ADDRESSES: usize = 8;

/// Capability bits of the system-capabilities TLV, by name.
pub const CAPABILITIES: [(u16, &str); 11] = [
    (0x0001, "other"),
    (0x0002, "repeater"),
    (0x0004, "bridge"),
    (0x0008, "wlan-access-point"),
    (0x0010, "router"),
    (0x0020, "telephone"),
    (0x0040, "docsis-cable-device"),
    (0x0080, "station-only"),
    (0x0100, "c-vlan-component"),
    (0x0200, "s-vlan-component"),
    (0x0400, "two-port-mac-relay"),
];

/// One LLDPDU.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lldp {
    /// The chassis ID: a MAC as `aa:bb:…`, else its text.
    pub chassis_id: Option<String>,
    pub port_id: Option<String>,
    pub system_name: Option<String>,
    pub system_description: Option<String>,
    /// Capabilities the system has, by name.
    pub capabilities: Vec<&'static str>,
    /// Capabilities enabled, by name.
    pub enabled: Vec<&'static str>,
    pub management: Vec<IpAddr>,
}

/// The names of the bits set in `bits`.
pub fn capability_names(bits: u16) -> Vec<&'static str> {
    CAPABILITIES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

fn id_text(subtype: u8, value: &[u8]) -> String {
    // Subtype 4 (chassis) and 3 (port) are MAC addresses.
    if (subtype == 4 || subtype == 3) && value.len() == 6 {
        value
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    } else {
        text(value)
    }
}

/// Decodes an LLDPDU (the payload after the Ethernet header).
pub fn decode(bytes: &[u8]) -> Result<Lldp, DecodeError> {
    let mut r = Reader::new(bytes);
    let mut out = Lldp::default();
    let mut count = 0;
    while !r.is_empty() {
        let header = r.u16_be("lldp tlv header")?;
        let kind = header >> 9;
        let len = usize::from(header & 0x01ff);
        let mut value = r.sub(len, "lldp tlv value")?;
        if kind == 0 {
            break; // End of LLDPDU; the rest is padding.
        }
        count += 1;
        if count > MAX_TLVS {
            return Err(DecodeError::TooLarge {
                field: "lldp tlvs",
                value: count,
                limit: MAX_TLVS,
            });
        }
        match kind {
            1 | 2 => {
                let subtype = value.u8("lldp id subtype")?;
                let id = id_text(subtype, value.rest());
                if kind == 1 {
                    out.chassis_id = Some(id);
                } else {
                    out.port_id = Some(id);
                }
            }
            5 => out.system_name = Some(text(value.rest())),
            6 => out.system_description = Some(text(value.rest())),
            7 => {
                out.capabilities = capability_names(value.u16_be("lldp system capabilities")?);
                out.enabled = capability_names(value.u16_be("lldp enabled capabilities")?);
            }
            8 => {
                let len = usize::from(value.u8("lldp management address length")?);
                let mut addr = value.sub(len, "lldp management address")?;
                let subtype = addr.u8("lldp management address subtype")?;
                let ip = match subtype {
                    1 | 2 => ip_from(addr.rest()),
                    _ => None,
                };
                if let Some(ip) = ip {
                    if out.management.len() < MAX_ADDRESSES && !out.management.contains(&ip) {
                        out.management.push(ip);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
