//! What the lab contains, address by address: the ground truth the tests and the
//! benchmark compare a scan's report against. The network ([`crate::topology`])
//! gives each namespace the addresses listed here, and the daemons and listeners
//! open the ports listed here.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use crate::{ROUTER_NS, SCANNER_NS};

/// What is really there at one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostTruth {
    pub address: Ipv4Addr,
    pub namespace: &'static str,
    pub tcp_open: Vec<u16>,
    pub udp_open: Vec<u16>,
    /// Answers ICMP echo.
    pub icmp: bool,
    /// On the scanner's own segment (answers ARP).
    pub same_segment: bool,
    /// Drops everything after its first few dozen packets.
    pub stops_answering: bool,
}

/// The lab's ground truth: every live address and what it serves.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Truth {
    pub hosts: BTreeMap<Ipv4Addr, HostTruth>,
}

impl Truth {
    /// Number of (address, port) pairs that are open, TCP and UDP.
    pub fn open_ports(&self) -> usize {
        self.hosts
            .values()
            .map(|h| h.tcp_open.len() + h.udp_open.len())
            .sum()
    }

    /// Every TCP port open anywhere, sorted.
    pub fn tcp_ports(&self) -> Vec<u16> {
        let mut v: Vec<u16> = self
            .hosts
            .values()
            .flat_map(|h| h.tcp_open.clone())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn range(seg: u8, lo: u8, hi: u8) -> impl Iterator<Item = Ipv4Addr> {
    (lo..=hi).map(move |d| v4(198, 18, seg, d))
}

/// The truth the lab is built to.
pub fn truth() -> Truth {
    let mut t = Truth::default();
    let mut add = |addr, namespace, tcp: &[u16], udp: &[u16], icmp, same_segment, flaky| {
        t.hosts.insert(
            addr,
            HostTruth {
                address: addr,
                namespace,
                tcp_open: tcp.to_vec(),
                udp_open: udp.to_vec(),
                icmp,
                same_segment,
                stops_answering: flaky,
            },
        );
    };
    for a in range(1, 10, 39) {
        add(a, "ksl-a1", &[22, 80], &[], true, true, false);
    }
    for a in range(1, 40, 59) {
        add(a, "ksl-a1", &[80], &[], true, true, false); // 22 filtered here
    }
    for a in range(1, 100, 109) {
        add(a, "ksl-a2", &[3389], &[], false, true, false);
    }
    for a in range(1, 110, 119) {
        add(a, "ksl-a2", &[9100], &[], false, true, false);
    }
    add(
        v4(198, 18, 1, 200),
        "ksl-flaky",
        &[80],
        &[],
        true,
        true,
        true,
    );
    // The router's two legs and the scanner itself are live hosts too, with nothing open.
    add(v4(198, 18, 1, 1), ROUTER_NS, &[], &[], true, true, false);
    add(v4(198, 18, 2, 1), ROUTER_NS, &[], &[], true, false, false);
    add(v4(198, 18, 1, 2), SCANNER_NS, &[], &[], true, true, false);
    add(
        v4(198, 18, 2, 10),
        "ksl-svc",
        &[21, 22, 23, 80, 443, 445, 5901, 11112],
        &[161],
        true,
        false,
        false,
    );
    add(
        v4(198, 18, 2, 11),
        "ksl-svc2",
        // The hostile-banner fixture on 2121 is left out: it is outside the default
        // port list, and only the findings scan asks for it.
        &[21, 22, 25, 110, 445, 2323, 3389, 10443],
        &[],
        true,
        false,
        false,
    );
    for a in range(2, 20, 39) {
        add(a, "ksl-b1", &[443, 8080], &[], true, false, false);
    }
    for a in range(2, 40, 59) {
        add(a, "ksl-b1", &[445], &[], true, false, false);
    }
    for a in range(2, 100, 119) {
        add(a, "ksl-b2", &[11112], &[], false, false, false);
    }
    for a in range(2, 120, 139) {
        add(a, "ksl-b2", &[5938], &[], false, false, false);
    }
    t
}
