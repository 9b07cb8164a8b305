//! Multicast DNS and DNS-SD (RFC 6762, RFC 6763): what a host announces about its
//! services on 224.0.0.251 / ff02::fb port 5353.
//!
//! From an announcement (a response) a listener reads the service types
//! (`_ipp._tcp.local`), the instance names (`Ward 3 printer._ipp._tcp.local`),
//! host names (`printer-3f.local` from A/AAAA records), HINFO, and TXT strings, of
//! which the model keys (`ty`, `product`, `usb_MDL`, `model`, `md`, `am`) name the
//! device. Questions are kept too: a host asking for `_ipp._tcp` is a client.

use std::net::IpAddr;

use super::dns::{self, Data};
use crate::reader::DecodeError;

/// mDNS's UDP port.
pub const PORT: u16 = 5353;
/// TXT keys that name a device's model.
pub const MODEL_KEYS: [&str; 6] = ["ty", "product", "usb_MDL", "model", "md", "am"];

/// What one mDNS message said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mdns {
    pub response: bool,
    /// Service types announced (`_ipp._tcp.local`), in order, once each.
    pub services: Vec<String>,
    /// Service instances announced (`Ward 3._ipp._tcp.local`).
    pub instances: Vec<String>,
    /// Host names with an address record (`printer-3f.local`), and the address.
    pub hosts: Vec<(String, IpAddr)>,
    /// `key=value` model strings from TXT records.
    pub models: Vec<String>,
    /// HINFO `cpu os`.
    pub host_info: Option<String>,
    /// Names asked about.
    pub questions: Vec<String>,
}

/// The most entries kept in each list.
pub const MAX_ENTRIES: usize = 32;

fn push<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if list.len() < MAX_ENTRIES && !list.contains(&value) {
        list.push(value);
    }
}

/// The service type of a name: the `_x._tcp.domain` tail of an instance name, or
/// the name itself when it starts with `_`.
fn service_type(labels: &[Vec<u8>]) -> Option<usize> {
    (0..labels.len().saturating_sub(1)).find(|&i| {
        labels[i].first() == Some(&b'_') && matches!(labels[i + 1].as_slice(), b"_tcp" | b"_udp")
    })
}

/// Decodes an mDNS message (the UDP payload).
pub fn decode(bytes: &[u8]) -> Result<Mdns, DecodeError> {
    let msg = dns::decode(bytes)?;
    let mut out = Mdns {
        response: msg.is_response(),
        ..Mdns::default()
    };
    for q in &msg.questions {
        push(&mut out.questions, q.name.dotted());
    }
    for rec in &msg.records {
        match &rec.data {
            Data::Pointer(target) => {
                let owner = &rec.name.0;
                let is_meta = owner.first().is_some_and(|l| l == b"_services");
                if is_meta {
                    push(&mut out.services, target.dotted());
                } else if service_type(owner) == Some(0) {
                    push(&mut out.services, rec.name.dotted());
                    if service_type(&target.0).is_some_and(|i| i > 0) {
                        push(&mut out.instances, target.dotted());
                    }
                }
            }
            Data::Service { .. } => {
                if service_type(&rec.name.0).is_some_and(|i| i > 0) {
                    push(&mut out.instances, rec.name.dotted());
                }
            }
            Data::Address(ip) => push(&mut out.hosts, (rec.name.dotted(), *ip)),
            Data::Text(strings) => {
                for s in strings {
                    let key = s.split('=').next().unwrap_or_default();
                    if MODEL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                        push(&mut out.models, s.clone());
                    }
                }
            }
            Data::HostInfo { cpu, os } => out.host_info = Some(format!("{cpu} {os}")),
            Data::NetBios(_) | Data::Other => {}
        }
    }
    Ok(out)
}
