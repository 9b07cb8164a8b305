//! The bench lab's ground truth and how it is drawn: the segments of each scope, which
//! addresses are live, which of them are silent, and which TCP ports each live host has
//! open, from a seeded random generator whose seed is written into the truth. The
//! proportions are a hospital's (Windows terminals, printers, modalities, servers,
//! network gear, small web devices), chosen before kenshin was ever run on the lab.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use serde::Serialize;

/// The scanner's namespace in every bench scope.
pub const SCANNER_NS: &str = "kb-scan";
/// The router of the speed scope.
pub const ROUTER_NS: &str = "kb-rtr";
/// Every namespace the bench lab may create (removed by [`crate::bench::bench_down`]).
pub const ALL_NS: [&str; 6] = [SCANNER_NS, ROUTER_NS, "kb-s1", "kb-s2", "kb-s4", "kb-big"];
/// Loss on the routed /22's link, per mille, each direction.
pub const LOSS_PER_MILLE: u32 = 5;
/// The seed used when none is given (the issue that asked for the lab).
pub const DEFAULT_SEED: u64 = 17;
/// Share of live addresses that are silent to ping and drop closed ports, per mille.
pub const SILENT_PER_MILLE: u64 = 150;
/// The scale scopes `bench-up --scale N` accepts: a /22, a /20 and a /18.
pub const SCALES: [u32; 3] = [1024, 4096, 16384];
/// Ports served by real daemons (sshd, nginx with and without TLS) in every host
/// namespace; every other open port is an accept-and-close listener.
pub const REAL_SERVICES: [(u16, &str); 4] = [
    (22, "sshd"),
    (80, "nginx"),
    (443, "nginx-tls"),
    (8080, "nginx"),
];

/// Which bench scope to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// 1,536 addresses: a /24 on the scanner's own link, a routed /24 and a routed,
    /// lossy /22.
    Speed,
    /// One directly connected segment of this many addresses.
    Scale(u32),
}

/// One segment of a scope.
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub cidr: String,
    #[serde(skip)]
    pub network: Ipv4Addr,
    pub prefix: u8,
    /// Reached through the router (every address must be probed) rather than on the
    /// scanner's own link (only addresses that answer ARP need port probes).
    pub routed: bool,
    /// Random loss on the way there and back, per mille each direction.
    pub loss_per_mille: u32,
    /// The namespace that holds every live address of the segment.
    pub namespace: &'static str,
}

impl Segment {
    fn new(network: [u8; 4], prefix: u8, routed: bool, loss: u32, ns: &'static str) -> Self {
        let network = Ipv4Addr::from(network);
        Self {
            cidr: format!("{network}/{prefix}"),
            network,
            prefix,
            routed,
            loss_per_mille: loss,
            namespace: ns,
        }
    }

    /// Number of addresses in the segment.
    pub fn size(&self) -> u32 {
        1 << (32 - u32::from(self.prefix))
    }

    /// The segment's `i`-th address.
    pub fn addr(&self, i: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) + i)
    }
}

/// One live address and what it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BenchHost {
    pub address: Ipv4Addr,
    pub segment: String,
    pub namespace: &'static str,
    /// What kind of device the port model drew (windows, printer, modality…).
    pub role: &'static str,
    pub tcp_open: Vec<u16>,
    /// Drops ICMP echo and every closed port (a host firewall); open ports still answer.
    pub silent: bool,
}

/// The whole truth of a bench scope: written by `kenshin-lab bench-up` and read by
/// bench/analyze_*.py.
#[derive(Debug, Clone, Serialize)]
pub struct BenchTruth {
    pub scope: String,
    pub seed: u64,
    pub scanner: Ipv4Addr,
    pub segments: Vec<Segment>,
    /// Addresses that must be probed for one pass: every address of a routed segment
    /// and the live addresses of a directly connected one.
    pub must_probe: u32,
    pub real_services: BTreeMap<u16, &'static str>,
    pub hosts: BTreeMap<Ipv4Addr, BenchHost>,
    /// Every address of the scope that nothing answers for.
    pub dead: Vec<Ipv4Addr>,
}

impl BenchTruth {
    /// The union of open TCP ports over the hosts of one namespace, sorted.
    pub fn ports_of(&self, ns: &str) -> Vec<u16> {
        let set: BTreeSet<u16> = self
            .hosts
            .values()
            .filter(|h| h.namespace == ns)
            .flat_map(|h| h.tcp_open.iter().copied())
            .collect();
        set.into_iter().collect()
    }

    /// The live addresses held by one namespace.
    pub fn addresses_of(&self, ns: &str) -> Vec<Ipv4Addr> {
        self.hosts
            .values()
            .filter(|h| h.namespace == ns)
            .map(|h| h.address)
            .collect()
    }

    /// Number of open (address, port) pairs.
    pub fn open_ports(&self) -> usize {
        self.hosts.values().map(|h| h.tcp_open.len()).sum()
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same lab.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// A kind of device: its share of live hosts (per mille), the ports it always has
/// open and the ports it has open with a chance (per mille).
struct Role {
    name: &'static str,
    share: u64,
    always: &'static [u16],
    maybe: &'static [(u16, u64)],
}

/// The device mix of a hospital network, by share of live hosts.
const ROLES: [Role; 9] = [
    Role {
        name: "windows",
        share: 330,
        always: &[135, 139, 445],
        maybe: &[(3389, 400), (5985, 100)],
    },
    Role {
        name: "printer",
        share: 100,
        always: &[9100],
        maybe: &[(80, 700), (443, 400), (515, 500), (631, 500)],
    },
    Role {
        name: "server",
        share: 110,
        always: &[22],
        maybe: &[
            (80, 500),
            (443, 600),
            (8080, 200),
            (5432, 100),
            (3306, 100),
            (1433, 100),
        ],
    },
    Role {
        name: "modality",
        share: 100,
        always: &[],
        maybe: &[
            (104, 600),
            (11112, 500),
            (22, 200),
            (2575, 300),
            (5900, 150),
            (80, 200),
        ],
    },
    Role {
        name: "pacs",
        share: 30,
        always: &[104, 11112],
        maybe: &[
            (2575, 600),
            (443, 500),
            (22, 500),
            (4242, 300),
            (2761, 200),
            (2762, 200),
        ],
    },
    Role {
        name: "network",
        share: 50,
        always: &[],
        maybe: &[(22, 800), (23, 300), (80, 500), (443, 500)],
    },
    Role {
        name: "device",
        share: 100,
        always: &[80],
        maybe: &[(443, 500), (8443, 200), (8000, 200), (554, 300), (21, 100)],
    },
    Role {
        name: "infra",
        share: 30,
        always: &[53],
        maybe: &[(88, 500), (389, 500), (445, 500), (25, 300)],
    },
    // Answers RST on every port and ICMP echo: a host with nothing to offer.
    Role {
        name: "closed",
        share: 150,
        always: &[],
        maybe: &[],
    },
];

/// Ports from kenshin's default list outside the common ones, one of which a few hosts
/// also have open (remote support, dashboards, brokers).
const EXTRAS: [u16; 10] = [5938, 8081, 3000, 9090, 5800, 8888, 10000, 1883, 5000, 6379];
/// Share of hosts with one extra port, per mille.
const EXTRA_PER_MILLE: u64 = 60;

/// Draws one host's role and open ports.
fn draw_ports(rng: &mut Rng) -> (&'static str, Vec<u16>) {
    let total: u64 = ROLES.iter().map(|r| r.share).sum();
    let mut pick = rng.below(total);
    let role = ROLES
        .iter()
        .find(|r| {
            if pick < r.share {
                true
            } else {
                pick -= r.share;
                false
            }
        })
        .unwrap_or(&ROLES[0]);
    let mut ports: BTreeSet<u16> = role.always.iter().copied().collect();
    for &(port, p) in role.maybe {
        if rng.chance(p) {
            ports.insert(port);
        }
    }
    // A modality speaks DICOM on one of its two ports at least.
    if role.name == "modality" && !ports.contains(&104) && !ports.contains(&11112) {
        ports.insert(104);
    }
    if role.name != "closed" && rng.chance(EXTRA_PER_MILLE) {
        ports.insert(EXTRAS[rng.below(EXTRAS.len() as u64) as usize]);
    }
    (role.name, ports.into_iter().collect())
}

/// The segments of a scope, and the scanner's address.
pub fn segments(scope: Scope) -> (Vec<Segment>, Ipv4Addr) {
    match scope {
        Scope::Speed => (
            vec![
                Segment::new([198, 19, 1, 0], 24, false, 0, "kb-s1"),
                Segment::new([198, 19, 2, 0], 24, true, 0, "kb-s2"),
                Segment::new([198, 19, 4, 0], 22, true, LOSS_PER_MILLE, "kb-s4"),
            ],
            Ipv4Addr::new(198, 19, 1, 2),
        ),
        Scope::Scale(n) => {
            let prefix = 32 - n.trailing_zeros() as u8;
            (
                vec![Segment::new([198, 19, 64, 0], prefix, false, 0, "kb-big")],
                Ipv4Addr::new(198, 19, 64, 2),
            )
        }
    }
}

/// Draws the truth of a scope from `seed`: a quarter of each segment's addresses live
/// (the network and broadcast addresses never), the scanner and the router's leg among
/// them on the scanner's segment, 15 % of live hosts silent (always with an open port:
/// a silent host with nothing open is a dead address to any scanner).
pub fn bench_truth(scope: Scope, seed: u64) -> BenchTruth {
    let (segments, scanner) = segments(scope);
    let mut rng = Rng::new(seed);
    let mut hosts = BTreeMap::new();
    let mut dead = Vec::new();
    let mut must_probe = 0;
    let router = Ipv4Addr::new(198, 19, 1, 1);
    for seg in &segments {
        let size = seg.size();
        let fixed: Vec<Ipv4Addr> = [scanner, router]
            .into_iter()
            .filter(|a| {
                (u32::from(*a) & !(size - 1)) == u32::from(seg.network)
                    && (scope == Scope::Speed || *a == scanner)
            })
            .collect();
        // Candidates: every host address but the fixed ones, shuffled by the seed.
        let mut candidates: Vec<u32> = (1..size - 1)
            .filter(|i| !fixed.contains(&seg.addr(*i)))
            .collect();
        let want = (size / 4) as usize - fixed.len();
        for i in 0..want.min(candidates.len()) {
            let j = i + rng.below((candidates.len() - i) as u64) as usize;
            candidates.swap(i, j);
        }
        let live: BTreeSet<u32> = candidates[..want.min(candidates.len())]
            .iter()
            .copied()
            .collect();
        for a in &fixed {
            let role = if *a == scanner { "scanner" } else { "router" };
            hosts.insert(
                *a,
                BenchHost {
                    address: *a,
                    segment: seg.cidr.clone(),
                    namespace: if *a == scanner { SCANNER_NS } else { ROUTER_NS },
                    role,
                    tcp_open: Vec::new(),
                    silent: false,
                },
            );
        }
        for i in 0..size {
            let address = seg.addr(i);
            if !live.contains(&i) {
                if !fixed.contains(&address) {
                    dead.push(address);
                }
                continue;
            }
            let (role, tcp_open) = draw_ports(&mut rng);
            // 15 % of all live hosts, drawn among those with an open port.
            let silent = !tcp_open.is_empty() && rng.chance(SILENT_PER_MILLE * 1000 / 850);
            hosts.insert(
                address,
                BenchHost {
                    address,
                    segment: seg.cidr.clone(),
                    namespace: seg.namespace,
                    role,
                    tcp_open,
                    silent,
                },
            );
        }
        must_probe += if seg.routed {
            size
        } else {
            (live.len() + fixed.len()) as u32
        };
    }
    BenchTruth {
        scope: match scope {
            Scope::Speed => "speed".into(),
            Scope::Scale(n) => format!("scale-{n}"),
        },
        seed,
        scanner,
        segments,
        must_probe,
        real_services: REAL_SERVICES.into_iter().collect(),
        hosts,
        dead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_lab_and_another_seed_another() {
        let a = bench_truth(Scope::Speed, 17);
        let b = bench_truth(Scope::Speed, 17);
        let c = bench_truth(Scope::Speed, 18);
        assert_eq!(a.hosts, b.hosts);
        assert_ne!(a.hosts, c.hosts);
    }

    #[test]
    fn the_speed_scope_has_a_quarter_live_and_every_address_accounted_for() {
        let t = bench_truth(Scope::Speed, DEFAULT_SEED);
        assert_eq!(t.hosts.len() + t.dead.len(), 1536);
        assert_eq!(t.hosts.len(), 64 + 64 + 256);
        // The scanner's /24 is on its link: only its 64 live addresses need probes.
        assert_eq!(t.must_probe, 256 + 1024 + 64);
        assert!(t.hosts[&Ipv4Addr::new(198, 19, 1, 1)].role == "router");
        assert!(t.dead.iter().all(|a| !t.hosts.contains_key(a)));
    }

    #[test]
    fn about_fifteen_percent_of_live_hosts_are_silent_and_each_has_an_open_port() {
        let t = bench_truth(Scope::Scale(16384), DEFAULT_SEED);
        assert_eq!(t.hosts.len(), 4096);
        let silent: Vec<_> = t.hosts.values().filter(|h| h.silent).collect();
        let share = silent.len() as f64 / t.hosts.len() as f64;
        assert!((0.12..0.18).contains(&share), "silent share {share}");
        assert!(silent.iter().all(|h| !h.tcp_open.is_empty()));
    }

    #[test]
    fn most_live_hosts_have_one_to_four_open_ports_and_some_none() {
        let t = bench_truth(Scope::Scale(16384), DEFAULT_SEED);
        let n = t.hosts.len() as f64;
        let few = t
            .hosts
            .values()
            .filter(|h| (1..=4).contains(&h.tcp_open.len()))
            .count();
        let none = t.hosts.values().filter(|h| h.tcp_open.is_empty()).count();
        assert!(
            few as f64 / n > 0.6,
            "{few} of {n} hosts have 1-4 open ports"
        );
        assert!(
            (0.10..0.25).contains(&(none as f64 / n)),
            "{none} of {n} have none open"
        );
        assert!(t.ports_of("kb-big").contains(&443) && t.ports_of("kb-big").contains(&22));
    }

    #[test]
    fn scale_scopes_are_one_connected_segment_of_the_asked_size() {
        for n in SCALES {
            let t = bench_truth(Scope::Scale(n), 1);
            assert_eq!(t.segments.len(), 1);
            assert_eq!(t.segments[0].size(), n);
            assert!(!t.segments[0].routed);
            assert_eq!(t.must_probe as usize, t.hosts.len());
        }
    }
}
