//! ARP discovery on directly connected IPv4 segments (pnet datalink).
//!
//! A host on the scanner's own segment answers ARP whatever its firewall says,
//! so ARP finds the Windows PC that drops ICMP and the printer that answers on
//! one port only. Opening a datalink channel needs `CAP_NET_RAW`; without it the
//! caller falls back to ICMP and TCP and says so once.
//!
//! Each segment gets one channel and a receive thread that records every ARP
//! reply addressed to us (recording sends nothing). Requests are sent one at a
//! time, each under an [`Admission`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use ipnetwork::IpNetwork;
use pnet_datalink::{Channel, DataLinkSender, MacAddr, NetworkInterface};
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::Packet;

use crate::governor::Admission;

type Replies = Arc<Mutex<HashMap<Ipv4Addr, [u8; 6]>>>;

struct Segment {
    name: String,
    src_ip: Ipv4Addr,
    src_mac: MacAddr,
    prefix: ipnetwork::Ipv4Network,
    tx: Mutex<Box<dyn DataLinkSender>>,
}

/// ARP senders and listeners for every connected segment that holds a target.
pub struct ArpDiscovery {
    segments: Vec<Segment>,
    replies: Replies,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for ArpDiscovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArpDiscovery")
            .field(
                "segments",
                &self.segments.iter().map(|s| &s.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn v4_networks(iface: &NetworkInterface) -> impl Iterator<Item = ipnetwork::Ipv4Network> + '_ {
    iface.ips.iter().filter_map(|n| match n {
        IpNetwork::V4(v4) => Some(*v4),
        IpNetwork::V6(_) => None,
    })
}

impl ArpDiscovery {
    /// Opens a channel on every up, non-loopback Ethernet interface whose IPv4
    /// network contains at least one of `targets`. Returns `None` and the reasons
    /// when no channel could be opened; an empty reason list means no target is on
    /// a connected segment.
    pub fn open(targets: &[Ipv4Addr]) -> (Option<Self>, Vec<String>) {
        let mut problems = Vec::new();
        let replies: Replies = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut segments = Vec::new();
        let mut threads = Vec::new();
        for iface in pnet_datalink::interfaces() {
            if !iface.is_up() || iface.is_loopback() {
                continue;
            }
            let Some(src_mac) = iface.mac.filter(|m| *m != MacAddr::zero()) else {
                continue;
            };
            let Some(prefix) = v4_networks(&iface)
                .find(|net| net.prefix() < 32 && targets.iter().any(|t| net.contains(*t)))
            else {
                continue;
            };
            let config = pnet_datalink::Config {
                read_timeout: Some(Duration::from_millis(100)),
                ..Default::default()
            };
            let (tx, mut rx) = match pnet_datalink::channel(&iface, config) {
                Ok(Channel::Ethernet(tx, rx)) => (tx, rx),
                Ok(_) => {
                    problems.push(format!("{}: not an Ethernet channel", iface.name));
                    continue;
                }
                Err(e) => {
                    problems.push(format!("{}: {e}", iface.name));
                    continue;
                }
            };
            let (replies_t, stop_t, my_ip) = (replies.clone(), stop.clone(), prefix.ip());
            let spawned = std::thread::Builder::new()
                .name(format!("arp-{}", iface.name))
                .spawn(move || {
                    while !stop_t.load(Ordering::Relaxed) {
                        if let Ok(frame) = rx.next() {
                            if let Some((ip, mac)) = parse_reply(frame, my_ip) {
                                if let Ok(mut map) = replies_t.lock() {
                                    map.insert(ip, mac);
                                }
                            }
                        }
                    }
                });
            match spawned {
                Ok(handle) => threads.push(handle),
                Err(e) => {
                    problems.push(format!("{}: cannot start receiver: {e}", iface.name));
                    continue;
                }
            }
            segments.push(Segment {
                name: iface.name.clone(),
                src_ip: prefix.ip(),
                src_mac,
                prefix,
                tx: Mutex::new(tx),
            });
        }
        if segments.is_empty() {
            return (None, problems);
        }
        let arp = Self {
            segments,
            replies,
            stop,
            threads,
        };
        (Some(arp), problems)
    }

    /// True if `addr` lies on one of the opened segments.
    pub fn covers(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(v4) => self.segment_for(v4).is_some(),
            IpAddr::V6(_) => false,
        }
    }

    fn segment_for(&self, ip: Ipv4Addr) -> Option<&Segment> {
        self.segments
            .iter()
            .find(|s| s.prefix.contains(ip) && s.src_ip != ip)
    }

    /// Sends one who-has request for the admitted address. Returns false if the
    /// address is not on a covered segment or the frame could not be sent.
    pub fn request(&self, admission: &Admission) -> bool {
        let IpAddr::V4(target) = admission.addr() else {
            return false;
        };
        let Some(seg) = self.segment_for(target) else {
            return false;
        };
        let frame = build_request(seg.src_mac, seg.src_ip, target);
        let Ok(mut tx) = seg.tx.lock() else {
            return false;
        };
        matches!(tx.send_to(&frame, None), Some(Ok(())))
    }

    /// The MAC address that answered for `ip`, if any.
    pub fn reply_from(&self, ip: Ipv4Addr) -> Option<[u8; 6]> {
        self.replies.lock().ok()?.get(&ip).copied()
    }

    /// Stops the receive threads.
    pub fn close(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for ArpDiscovery {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

const ETHERNET_HEADER: usize = 14;
const ARP_PAYLOAD: usize = 28;

/// A broadcast Ethernet frame carrying an ARP who-has request.
fn build_request(src_mac: MacAddr, src_ip: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut buf = vec![0u8; ETHERNET_HEADER + ARP_PAYLOAD];
    if let Some(mut eth) = MutableEthernetPacket::new(&mut buf) {
        eth.set_destination(MacAddr::broadcast());
        eth.set_source(src_mac);
        eth.set_ethertype(EtherTypes::Arp);
    }
    if let Some(mut arp) = MutableArpPacket::new(&mut buf[ETHERNET_HEADER..]) {
        arp.set_hardware_type(ArpHardwareTypes::Ethernet);
        arp.set_protocol_type(EtherTypes::Ipv4);
        arp.set_hw_addr_len(6);
        arp.set_proto_addr_len(4);
        arp.set_operation(ArpOperations::Request);
        arp.set_sender_hw_addr(src_mac);
        arp.set_sender_proto_addr(src_ip);
        arp.set_target_hw_addr(MacAddr::zero());
        arp.set_target_proto_addr(target);
    }
    buf
}

/// The (sender IP, sender MAC) of an ARP reply addressed to `me`.
fn parse_reply(frame: &[u8], me: Ipv4Addr) -> Option<(Ipv4Addr, [u8; 6])> {
    let eth = EthernetPacket::new(frame)?;
    if eth.get_ethertype() != EtherTypes::Arp {
        return None;
    }
    let arp = ArpPacket::new(eth.payload())?;
    if arp.get_operation() != ArpOperations::Reply || arp.get_target_proto_addr() != me {
        return None;
    }
    let m = arp.get_sender_hw_addr();
    Some((arp.get_sender_proto_addr(), [m.0, m.1, m.2, m.3, m.4, m.5]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_a_well_formed_broadcast_who_has() {
        let mac = MacAddr::new(2, 0, 0, 0, 0, 1);
        let frame = build_request(
            mac,
            Ipv4Addr::new(198, 18, 1, 2),
            Ipv4Addr::new(198, 18, 1, 9),
        );
        let eth = EthernetPacket::new(&frame).expect("ethernet");
        assert_eq!(eth.get_destination(), MacAddr::broadcast());
        assert_eq!(eth.get_ethertype(), EtherTypes::Arp);
        let arp = ArpPacket::new(eth.payload()).expect("arp");
        assert_eq!(arp.get_operation(), ArpOperations::Request);
        assert_eq!(arp.get_target_proto_addr(), Ipv4Addr::new(198, 18, 1, 9));
        assert_eq!(arp.get_sender_hw_addr(), mac);
    }

    #[test]
    fn only_replies_to_us_are_recorded() {
        let me = Ipv4Addr::new(198, 18, 1, 2);
        let them = MacAddr::new(2, 0, 0, 0, 0, 9);
        let mut frame = build_request(them, Ipv4Addr::new(198, 18, 1, 9), me);
        {
            let mut arp =
                MutableArpPacket::new(&mut frame[ETHERNET_HEADER..]).expect("arp payload");
            arp.set_operation(ArpOperations::Reply);
        }
        assert_eq!(
            parse_reply(&frame, me),
            Some((Ipv4Addr::new(198, 18, 1, 9), [2, 0, 0, 0, 0, 9]))
        );
        assert_eq!(parse_reply(&frame, Ipv4Addr::new(198, 18, 1, 3)), None);
        assert_eq!(parse_reply(&frame[..20], me), None);
    }
}
