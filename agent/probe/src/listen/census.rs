//! Counting who said what: frames decoded by [`kenshin_wire::listen`] become, per
//! sending MAC, the addresses it used and the statements it made; [`Census::finish`]
//! turns them into one [`PassiveHost`] per address.
//!
//! Every frame is keyed by the MAC that sent it: the protocols read here are
//! link-local (broadcast or link-scoped multicast), so a router never forwards them
//! and the sender's MAC is the speaker's own. A host's address is the first IPv4
//! address it was heard using (ARP, the source of its datagrams, the address its
//! DHCP client holds or asks for), else one it announced (LLDP/CDP management, an
//! mDNS A record), else an IPv6 address, global before link-local. Memory is bounded:
//! at most [`MAX_SENDERS`] senders and [`MAX_SAID_PER_HOST`] statements each.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use kenshin_wire::listen::{self, Payload};

use super::{Heard, PassiveHost, Said};
use crate::observation::DiscoveryMethod;

/// The most distinct senders counted; later ones are counted as dropped.
pub const MAX_SENDERS: usize = 4096;
/// The most statements kept per host.
pub const MAX_SAID_PER_HOST: usize = 64;

/// How sure an address is: used by the sender, or only announced by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Claim {
    Used,
    Announced,
}

#[derive(Debug, Default)]
struct Sender {
    addresses: BTreeMap<IpAddr, Claim>,
    sources: BTreeSet<DiscoveryMethod>,
    said: BTreeSet<Said>,
}

/// What has been heard so far.
#[derive(Debug)]
pub struct Census {
    own_mac: Option<[u8; 6]>,
    senders: BTreeMap<[u8; 6], Sender>,
    frames: u64,
    malformed: u64,
    dropped: u64,
}

fn mac_text(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl Census {
    /// A census that ignores frames sent from `own_mac` (this machine's own).
    pub fn new(own_mac: Option<[u8; 6]>) -> Self {
        Self {
            own_mac,
            senders: BTreeMap::new(),
            frames: 0,
            malformed: 0,
            dropped: 0,
        }
    }

    /// Counts one frame.
    pub fn hear(&mut self, frame: &[u8]) {
        self.frames += 1;
        let Ok(frame) = listen::decode_frame(frame) else {
            self.malformed += 1;
            return;
        };
        if Some(frame.source) == self.own_mac || frame.payload == Payload::Other {
            return;
        }
        let mac = match &frame.payload {
            Payload::Arp(a) => a.sender_mac,
            Payload::Dhcp(_, d) => d.client_mac.unwrap_or(frame.source),
            _ => frame.source,
        };
        if mac == [0; 6] || mac[0] & 1 == 1 || Some(mac) == self.own_mac {
            return; // no sender, a group address, or ourselves
        }
        if !self.senders.contains_key(&mac) && self.senders.len() >= MAX_SENDERS {
            self.dropped += 1;
            return;
        }
        let s = self.senders.entry(mac).or_default();
        record(s, frame.payload);
    }

    /// Ends the census: one host per address heard.
    pub fn finish(self, duration: Duration) -> Heard {
        let mut hosts: BTreeMap<IpAddr, PassiveHost> = BTreeMap::new();
        let mut unaddressed = Vec::new();
        for (mac, s) in self.senders {
            let Some(address) = best_address(&s.addresses) else {
                let what: Vec<String> = s.said.iter().map(|x| x.value.clone()).collect();
                unaddressed.push(format!(
                    "{} was heard ({}) but gave no address{}",
                    mac_text(mac),
                    s.sources
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    if what.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", what.join("; "))
                    }
                ));
                continue;
            };
            let host = hosts.entry(address).or_insert_with(|| PassiveHost {
                address,
                mac: Some(mac),
                sources: BTreeSet::new(),
                said: Vec::new(),
            });
            host.sources.extend(s.sources);
            for said in s.said {
                if host.said.len() < MAX_SAID_PER_HOST && !host.said.contains(&said) {
                    host.said.push(said);
                }
            }
            host.said.sort();
        }
        if self.dropped > 0 {
            unaddressed.push(format!(
                "{} frames from senders beyond the first {MAX_SENDERS} were not counted",
                self.dropped
            ));
        }
        Heard {
            hosts: hosts.into_values().collect(),
            frames: self.frames,
            malformed: self.malformed,
            unaddressed,
            duration,
        }
    }
}

fn best_address(addresses: &BTreeMap<IpAddr, Claim>) -> Option<IpAddr> {
    let rank = |ip: &IpAddr, claim: Claim| -> (u8, Claim) {
        let family = match ip {
            IpAddr::V4(_) => 0,
            IpAddr::V6(v6) if !is_link_local(v6) => 1,
            IpAddr::V6(_) => 2,
        };
        (family, claim)
    };
    addresses
        .iter()
        .filter(|(ip, _)| usable(ip))
        .min_by_key(|(ip, claim)| rank(ip, **claim))
        .map(|(ip, _)| *ip)
}

fn is_link_local(v6: &Ipv6Addr) -> bool {
    v6.segments()[0] & 0xffc0 == 0xfe80
}

fn usable(ip: &IpAddr) -> bool {
    !(ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_loopback()
        || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast()))
}

fn address(s: &mut Sender, ip: IpAddr, claim: Claim) {
    if usable(&ip) && s.addresses.len() < 16 {
        let e = s.addresses.entry(ip).or_insert(claim);
        *e = (*e).min(claim);
    }
}

fn say(s: &mut Sender, source: DiscoveryMethod, key: &'static str, value: impl Into<String>) {
    let value = value.into();
    if !value.is_empty() && s.said.len() < MAX_SAID_PER_HOST {
        s.said.insert(Said { source, key, value });
    }
}

fn record(s: &mut Sender, payload: Payload) {
    use DiscoveryMethod as M;
    match payload {
        Payload::Arp(a) => {
            s.sources.insert(M::Arp);
            address(s, IpAddr::V4(a.sender_ip), Claim::Used);
            if a.is_probe() {
                // A probe names the address the host is about to take.
                address(s, IpAddr::V4(a.target_ip), Claim::Announced);
            }
        }
        Payload::Dhcp(from, d) => {
            if !d.from_client() {
                return; // a server's answer speaks of the client, not of the server
            }
            s.sources.insert(M::Dhcp);
            address(s, from.address, Claim::Used);
            if let Some(ip) = d.client_address() {
                address(s, IpAddr::V4(ip), Claim::Used);
            }
            if let Some(h) = &d.hostname {
                say(s, M::Dhcp, "dhcp.hostname", h.clone());
            }
            if let Some(v) = &d.vendor_class {
                say(s, M::Dhcp, "dhcp.vendor_class", v.clone());
            }
            if let Some(f) = d.fingerprint() {
                say(s, M::Dhcp, "dhcp.fingerprint", f);
            }
        }
        Payload::Lldp(l) => {
            s.sources.insert(M::Lldp);
            for ip in &l.management {
                address(s, *ip, Claim::Announced);
            }
            if let Some(v) = l.system_name {
                say(s, M::Lldp, "lldp.system_name", v);
            }
            if let Some(v) = l.system_description {
                say(s, M::Lldp, "lldp.system_description", v);
            }
            for c in l.capabilities {
                say(s, M::Lldp, "lldp.capability", c);
            }
            for c in l.enabled {
                say(s, M::Lldp, "lldp.enabled", c);
            }
        }
        Payload::Cdp(c) => {
            s.sources.insert(M::Cdp);
            for ip in &c.addresses {
                address(s, *ip, Claim::Announced);
            }
            if let Some(v) = c.device_id {
                say(s, M::Cdp, "cdp.device_id", v);
            }
            if let Some(v) = c.platform {
                say(s, M::Cdp, "cdp.platform", v);
            }
            if let Some(v) = c.software {
                say(s, M::Cdp, "cdp.software", v);
            }
            for v in c.capabilities {
                say(s, M::Cdp, "cdp.capability", v);
            }
        }
        Payload::Mdns(from, m) => {
            s.sources.insert(M::Mdns);
            address(s, from.address, Claim::Used);
            for (name, ip) in m.hosts {
                address(s, ip, Claim::Announced);
                say(s, M::Mdns, "mdns.hostname", name);
            }
            for v in m.services {
                say(s, M::Mdns, "mdns.service", v);
            }
            for v in m.instances {
                say(s, M::Mdns, "mdns.instance", v);
            }
            for v in m.models {
                say(s, M::Mdns, "mdns.model", v);
            }
            if let Some(v) = m.host_info {
                say(s, M::Mdns, "mdns.hinfo", v);
            }
        }
        Payload::Ssdp(from, p) => {
            s.sources.insert(M::Ssdp);
            address(s, from.address, Claim::Used);
            if let Some(v) = p.server {
                say(s, M::Ssdp, "ssdp.server", v);
            }
            if let Some(v) = p.target {
                say(s, M::Ssdp, "ssdp.type", v);
            }
            if let Some(v) = p.location {
                say(s, M::Ssdp, "ssdp.location", v);
            }
        }
        Payload::Nbns(from, n) => {
            s.sources.insert(M::Nbns);
            address(s, from.address, Claim::Used);
            if let Some(ip) = n.address {
                address(s, IpAddr::V4(ip), Claim::Announced);
            }
            if let (Some(name), Some(suffix)) = (n.name, n.suffix) {
                say(s, M::Nbns, "nbns.name", format!("{name}<{suffix:02x}>"));
            }
        }
        Payload::Ndp(src, n) => {
            s.sources.insert(M::Ndp);
            address(s, IpAddr::V6(src), Claim::Used);
            if n.kind == listen::ndp::Kind::NeighborAdvertisement {
                if let Some(t) = n.target {
                    address(s, IpAddr::V6(t), Claim::Used);
                }
            }
            if n.router {
                say(s, M::Ndp, "ndp.router", "yes");
            }
            for (prefix, len) in n.prefixes {
                say(s, M::Ndp, "ndp.prefix", format!("{prefix}/{len}"));
            }
        }
        Payload::Other => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/listen");
        let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .expect("fuzz/corpus/listen")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("lab-"))
            .map(|e| std::fs::read(e.path()).expect("read"))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_lab_frames_make_one_host_per_address_with_what_each_source_said() {
        let mut census = Census::new(None);
        for f in corpus() {
            census.hear(&f);
        }
        let heard = census.finish(Duration::from_secs(1));
        let host = heard
            .hosts
            .iter()
            .find(|h| h.address == "198.19.250.10".parse::<IpAddr>().expect("ip"))
            .expect("the lab host by its IPv4 address");
        let sources: Vec<&str> = host.sources.iter().map(|m| m.as_str()).collect();
        for s in ["dhcp", "mdns", "ssdp", "nbns", "ndp"] {
            assert!(sources.contains(&s), "{s} missing from {sources:?}");
        }
        let said = |k: &str| -> Vec<&str> {
            host.said
                .iter()
                .filter(|x| x.key == k)
                .map(|x| x.value.as_str())
                .collect()
        };
        assert_eq!(said("dhcp.hostname"), ["ward3-pc1"]);
        assert!(said("mdns.service").contains(&"_ipp._tcp.local"));
        assert_eq!(said("nbns.name"), ["WARD3-PC1<00>"]);
        assert!(heard
            .hosts
            .iter()
            .all(|h| h.said.len() <= MAX_SAID_PER_HOST));
    }

    #[test]
    fn frames_from_this_machine_are_not_counted() {
        let frames = corpus();
        let mut census = Census::new(None);
        for f in &frames {
            census.hear(f);
        }
        let first = census.finish(Duration::ZERO);
        let own = first.hosts[0].mac.expect("a MAC");
        let mut census = Census::new(Some(own));
        for f in &frames {
            census.hear(f);
        }
        let heard = census.finish(Duration::ZERO);
        assert!(heard.hosts.iter().all(|h| h.mac != Some(own)));
        assert_eq!(heard.frames, frames.len() as u64);
    }

    #[test]
    fn a_dhcp_server_answer_is_not_the_servers_statement() {
        let mut s = Sender::default();
        let offer = listen::dhcp::Dhcp {
            op: 2,
            hostname: Some("client".into()),
            ..Default::default()
        };
        record(
            &mut s,
            Payload::Dhcp(
                listen::IpSource {
                    address: "198.18.40.1".parse().expect("ip"),
                    port: 67,
                },
                offer,
            ),
        );
        assert!(s.sources.is_empty() && s.said.is_empty());
    }
}
