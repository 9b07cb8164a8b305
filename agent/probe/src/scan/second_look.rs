//! The retry policy for addresses that said nothing: which ports the second look
//! asks, and the miss probability that choice accepts.
//!
//! After the first pass, an address that answered nothing on any port is most likely
//! not there (three in four addresses of a routed hospital segment are empty). Asking
//! every such address every port a second time would double the scan. The second look
//! asks them on the few ports that the hosts this scan found *without* ping (the ones
//! that hide like a missed host would) answered on.
//!
//! How many such hosts are still hidden is estimated from those found: a host behind
//! `k` open ports is missed by the first pass only if the first attempt at each of them
//! was lost, `p^k` at loss `p`, so each one found stands for `p^k / (1 − p^k)` missed
//! ([`missed_per_found`]); a host hiding behind one port weighs a hundred times more than
//! one behind two at 1 % loss. At least one host hiding behind one port is assumed.
//! Ports are chosen greedily, the one covering the most of that expected weight first,
//! until the hosts expected to stay missed fit a quarter of what the recall target
//! allows ([`TARGET_RECALL`], [`MISS_SHARE`]), at most [`MAX_PORTS`]; when the first
//! pass alone already fits, there is no look. On a network that loses more than
//! [`LOSSY`] of probes the look asks every port, as a full retry would. If the scan
//! found hosts that answer nothing but ping, the look sends each silent address one
//! more echo too.
//!
//! What it accepts: a live host that ignores ping and filters its closed ports is
//! missed only if every first-pass probe to its open ports was lost (probability `p`
//! for one open port) and the second look missed it too (`p` again if one of its ports
//! is looked at, 1 otherwise): `p · (c·p + (1 − c))` for coverage `c`, the figure the
//! report states beside the hosts expected missed ([`Look::expected_missed`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::observation::{
    DiscoveryMethod, HostObservation, PortObservation, PortState, QuietPorts,
};
use crate::ports::Protocol;

/// The host recall kenshin aims for.
pub const TARGET_RECALL: f64 = 0.999;
/// The share of the recall target's allowance the second look may leave to chance.
pub const MISS_SHARE: f64 = 0.25;
/// At most this many ports in the second look (unless the network is lossy).
pub const MAX_PORTS: usize = 8;
/// Above this loss estimate, the second look asks every port.
pub const LOSSY: f64 = 0.05;

/// What the retry policy reads of one host found up in its first pass: taken when
/// the host's port scan ends, before its identification, so the second look can start
/// while services are still being identified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    /// TCP ports that answered (open or reset).
    answered: u64,
    /// Those of `answered` whose first attempt got no answer.
    late: u64,
    /// Found without ICMP or ARP: it hides as a missed host would.
    ping_silent: bool,
    /// Answered ping and nothing else.
    ping_only: bool,
    /// Its open TCP ports.
    open: Vec<u16>,
}

impl Sample {
    /// The sample of a finished (possibly folded) host observation.
    pub fn of(h: &HostObservation) -> Self {
        Self::from_parts(&h.discovered_by, h.ports.iter(), h.quiet)
    }

    /// The sample of a host from its discovery methods, its port observations and the
    /// counts of the ports already folded away.
    pub fn from_parts<'a>(
        discovered_by: &BTreeSet<DiscoveryMethod>,
        ports: impl Iterator<Item = &'a PortObservation>,
        quiet: QuietPorts,
    ) -> Self {
        let mut s = Self {
            answered: u64::from(quiet.tcp_closed),
            late: u64::from(quiet.tcp_closed_retried),
            ping_silent: !discovered_by.contains(&DiscoveryMethod::Icmp)
                && !discovered_by.contains(&DiscoveryMethod::Arp),
            ping_only: false,
            open: Vec::new(),
        };
        let mut any_answer = quiet.closed > 0;
        for p in ports {
            let answered = matches!(p.state, PortState::Open | PortState::Closed);
            any_answer |= answered;
            if p.protocol != Protocol::Tcp || !answered {
                continue;
            }
            s.answered += 1;
            s.late += u64::from(p.attempts > 1);
            if p.state == PortState::Open {
                s.open.push(p.port);
            }
        }
        s.ping_only = discovered_by.contains(&DiscoveryMethod::Icmp) && !any_answer;
        s.open.sort_unstable();
        s.open.dedup();
        s
    }

    /// Whether the host answered ping and nothing else: such hosts make the second
    /// look send an echo too.
    pub fn ping_only(&self) -> bool {
        self.ping_only
    }
}

/// The loss estimate: the share of answering TCP ports whose first attempt got no
/// answer, with one pseudo-observation each way so a clean small scan does not claim
/// zero loss. Returns (estimate, answering ports seen).
pub fn loss_estimate(hosts: &[Sample]) -> (f64, u64) {
    let answered: u64 = hosts.iter().map(|h| h.answered).sum();
    let late: u64 = hosts.iter().map(|h| h.late).sum();
    ((late as f64 + 1.0) / (answered as f64 + 2.0), answered)
}

/// How many hosts like one found with `open` open ports are expected to have been
/// missed for each one found: such a host is missed only if the first attempt at every
/// one of its open ports was lost (`loss^open`, the attempts independent), so each one
/// found stands for `loss^open / (1 − loss^open)` missed. A host hiding behind one open
/// port weighs `loss`; one with three, `loss³`.
pub fn missed_per_found(open: usize, loss: f64) -> f64 {
    let missed = loss.powi(i32::try_from(open).unwrap_or(i32::MAX));
    missed / (1.0 - missed).max(f64::EPSILON)
}

/// What the second look will ask, and what it leaves to chance.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    /// The ports every silent address is asked again on.
    pub ports: Vec<u16>,
    /// The share of the hosts expected missed whose open ports include one of them.
    pub coverage: f64,
    /// Live hosts the first pass is expected to have missed (at least one hiding
    /// behind one port: the loss estimate).
    pub missed_by_first_pass: f64,
    /// Live hosts expected still missed after the look: those the first pass missed,
    /// times the share the look does not cover (times the loss again for the share it
    /// does).
    pub expected_missed: f64,
}

/// The ports of the second look and the share of the expected missed hosts they cover.
/// Hosts found without ping are the model, each weighted by how likely a host like it
/// was missed ([`missed_per_found`]); if there are none, every host with an open port,
/// and one host hiding behind a single port is assumed.
pub fn choose(hosts: &[Sample], all_ports: &[u16], loss: f64) -> Look {
    let look = |ports: Vec<u16>, coverage: f64, hiding: f64| Look {
        ports,
        coverage,
        missed_by_first_pass: hiding,
        expected_missed: hiding * (coverage * loss + (1.0 - coverage)),
    };
    let open_sets = |filter: &dyn Fn(&Sample) -> bool| -> Vec<(BTreeSet<u16>, f64)> {
        hosts
            .iter()
            .filter(|h| filter(h))
            .map(|h| {
                let open: BTreeSet<u16> = h
                    .open
                    .iter()
                    .copied()
                    .filter(|p| all_ports.contains(p))
                    .collect();
                let weight = missed_per_found(open.len(), loss);
                (open, weight)
            })
            .filter(|(s, _)| !s.is_empty())
            .collect()
    };
    let mut models = open_sets(&|h| h.ping_silent);
    // Hosts like the models still hidden among the silent addresses, expected; at
    // least one hiding behind one port.
    let hiding = models.iter().map(|(_, w)| w).sum::<f64>().max(loss);
    if loss > LOSSY {
        return look(all_ports.to_vec(), 1.0, hiding);
    }
    if models.is_empty() {
        models = open_sets(&|_| true);
    }
    if models.is_empty() {
        return look(Vec::new(), 0.0, hiding);
    }
    let total: f64 = models.iter().map(|(_, w)| w).sum();
    let share = |uncovered: &[(BTreeSet<u16>, f64)]| {
        uncovered.iter().map(|(_, w)| w).sum::<f64>() / total.max(f64::MIN_POSITIVE)
    };
    let allowance = MISS_SHARE * (1.0 - TARGET_RECALL) * hosts.len() as f64;
    let mut chosen = Vec::new();
    let mut uncovered = models;
    while chosen.len() < MAX_PORTS && !uncovered.is_empty() {
        if hiding * share(&uncovered) <= allowance {
            break;
        }
        // The port that covers the most expected missed hosts not yet covered; the
        // lower port on ties.
        let mut weights: BTreeMap<u16, f64> = BTreeMap::new();
        for (s, w) in &uncovered {
            for &p in s {
                *weights.entry(p).or_default() += w;
            }
        }
        let Some((&best, _)) = weights
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
        else {
            break;
        };
        chosen.push(best);
        uncovered.retain(|(s, _)| !s.contains(&best));
    }
    let coverage = 1.0 - share(&uncovered);
    chosen.sort_unstable();
    look(chosen, coverage, hiding)
}

/// The chance a ping-silent host with one open port is missed (see the module docs).
pub fn accepted_miss_probability(loss: f64, coverage: f64) -> f64 {
    loss * (coverage * loss + (1.0 - coverage))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn host(last: u8, methods: &[DiscoveryMethod], open: &[u16], late: &[u16]) -> HostObservation {
        let addr: IpAddr = format!("198.18.9.{last}").parse().expect("addr");
        let mut h =
            HostObservation::unprobed(addr, None, methods.iter().copied().collect(), vec![]);
        for &p in open {
            h.ports.push(PortObservation {
                port: p,
                protocol: Protocol::Tcp,
                state: PortState::Open,
                reason: "syn-ack",
                attempts: if late.contains(&p) { 2 } else { 1 },
                rtt: None,
                connect_only: false,
                evidence: None,
            });
        }
        h
    }

    fn samples(hosts: &[HostObservation]) -> Vec<Sample> {
        hosts.iter().map(Sample::of).collect()
    }

    const ALL: [u16; 6] = [22, 80, 443, 445, 3389, 11112];

    #[test]
    fn folding_closed_and_silent_ports_keeps_every_count_the_scan_reads() {
        let mut h = host(7, &[DiscoveryMethod::Icmp], &[443], &[]);
        let port = |port, protocol, state, attempts, evidence: Option<&str>| PortObservation {
            port,
            protocol,
            state,
            reason: "test",
            attempts,
            rtt: None,
            connect_only: false,
            evidence: evidence.map(str::to_owned),
        };
        h.ports.extend([
            port(22, Protocol::Tcp, PortState::Closed, 1, None),
            port(23, Protocol::Tcp, PortState::Closed, 2, None),
            port(25, Protocol::Tcp, PortState::Filtered, 3, None),
            port(161, Protocol::Udp, PortState::OpenFiltered, 2, None),
            port(123, Protocol::Udp, PortState::Closed, 1, Some("ev-000009")),
        ]);
        let before = (h.closed_ports(), h.filtered_ports(), h.any_port_answered());
        let loss_before = loss_estimate(&[Sample::of(&h)]);
        h.fold_quiet_ports();
        assert_eq!(
            (h.closed_ports(), h.filtered_ports(), h.any_port_answered()),
            before
        );
        assert_eq!(before, (3, 2, true));
        assert_eq!(loss_estimate(&[Sample::of(&h)]), loss_before);
        // Kept one by one: the open port and the closed one that left evidence.
        let kept: Vec<u16> = h.ports.iter().map(|p| p.port).collect();
        assert_eq!(kept, vec![443, 123]);
    }

    #[test]
    fn the_second_look_asks_the_ports_ping_silent_hosts_answered_on() {
        use DiscoveryMethod::{Icmp, Tcp};
        let hosts = vec![
            host(1, &[Icmp, Tcp], &[22, 80], &[]),
            host(2, &[Tcp], &[3389], &[]),
            host(3, &[Tcp], &[3389, 445], &[]),
            host(4, &[Tcp], &[11112], &[]),
            host(5, &[Tcp], &[3389], &[]),
        ];
        let Look {
            ports, coverage, ..
        } = choose(&samples(&hosts), &ALL, 0.01);
        assert_eq!(
            ports,
            vec![3389, 11112],
            "the ping-answering host's ports are not the model"
        );
        assert!((coverage - 1.0).abs() < 1e-9);
    }

    #[test]
    fn without_ping_silent_hosts_every_host_is_the_model() {
        use DiscoveryMethod::Icmp;
        let hosts = vec![
            host(1, &[Icmp], &[22, 80], &[]),
            host(2, &[Icmp], &[80], &[]),
        ];
        assert_eq!(choose(&samples(&hosts), &ALL, 0.01).ports, vec![80]);
    }

    #[test]
    fn a_lossy_network_gets_every_port_again_and_a_silent_one_none() {
        let hosts = vec![host(1, &[DiscoveryMethod::Tcp], &[22], &[])];
        assert_eq!(choose(&samples(&hosts), &ALL, 0.2).ports, ALL.to_vec());
        assert!(choose(&[], &ALL, 0.01).ports.is_empty());
    }

    #[test]
    fn the_second_look_stops_at_its_port_limit() {
        let hosts: Vec<_> = (0..20u16)
            .map(|i| host(i as u8, &[DiscoveryMethod::Tcp], &[1000 + i], &[]))
            .collect();
        let all: Vec<u16> = (1000..1020).collect();
        let Look {
            ports, coverage, ..
        } = choose(&samples(&hosts), &all, 0.01);
        assert_eq!(ports.len(), MAX_PORTS);
        assert!((coverage - MAX_PORTS as f64 / 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_large_scan_with_few_hidden_hosts_looks_at_fewer_ports() {
        use DiscoveryMethod::{Icmp, Tcp};
        // 400 hosts answer ping; 10 hide, each on its own port. At 1 % loss about 0.1
        // of such hosts is expected still hidden, against an allowance of 0.1: no port
        // needs a second look. With 40 hiding, it takes ports until 75 % are covered.
        let mut hosts: Vec<_> = (0..400u16)
            .map(|i| host((i % 250) as u8, &[Icmp, Tcp], &[22], &[]))
            .collect();
        let all: Vec<u16> = (1000..1040).chain([22]).collect();
        let hidden = |n: u16| (0..n).map(|i| host(i as u8, &[Tcp], &[1000 + i % 4], &[]));
        let few: Vec<_> = hosts.iter().cloned().chain(hidden(10)).collect();
        assert!(choose(&samples(&few), &all, 0.01).ports.is_empty());
        hosts.extend(hidden(40));
        let Look {
            ports, coverage, ..
        } = choose(&samples(&hosts), &all, 0.01);
        assert_eq!(ports.len(), 3, "{ports:?}");
        assert!(coverage >= 0.75);
    }

    #[test]
    fn hidden_hosts_with_several_open_ports_are_rarely_missed_and_call_for_no_look() {
        use DiscoveryMethod::{Icmp, Tcp};
        // 400 hosts answer ping; 60 hide. At 1 % loss a host hiding behind one port is
        // missed once in a hundred, one behind two ports once in ten thousand: sixty
        // two-port hosts stand for 0.006 missed, under the allowance of 0.1; sixty
        // one-port hosts for 0.6, and the look covers them.
        let pinged: Vec<_> = (0..400u16)
            .map(|i| host((i % 250) as u8, &[Icmp, Tcp], &[22], &[]))
            .collect();
        let all: Vec<u16> = (1000..1040).chain([22]).collect();
        let hidden = |ports: u16| {
            (0..60u16).map(move |i| {
                let open: Vec<u16> = (0..ports).map(|j| 1000 + (i + j) % 4).collect();
                host(i as u8, &[Tcp], &open, &[])
            })
        };
        let two: Vec<_> = pinged.iter().cloned().chain(hidden(2)).collect();
        let look = choose(&samples(&two), &all, 0.01);
        assert!(look.ports.is_empty(), "{look:?}");
        // 60 · 0.01² ≈ 0.006, under the one host behind one port always assumed.
        assert!((look.expected_missed - 0.01).abs() < 1e-9, "{look:?}");
        let one: Vec<_> = pinged.iter().cloned().chain(hidden(1)).collect();
        let look = choose(&samples(&one), &all, 0.01);
        assert!(!look.ports.is_empty(), "{look:?}");
        let allowance = MISS_SHARE * (1.0 - TARGET_RECALL) * 460.0;
        assert!(look.expected_missed <= allowance * 1.01, "{look:?}");
    }

    #[test]
    fn one_host_found_behind_k_ports_stands_for_loss_to_the_k_missed() {
        assert!((missed_per_found(1, 0.01) - 0.01 / 0.99).abs() < 1e-12);
        assert!((missed_per_found(3, 0.1) - 0.001 / 0.999).abs() < 1e-12);
        assert!(missed_per_found(40_000, 0.5) >= 0.0);
    }

    #[test]
    fn loss_is_estimated_from_ports_that_answered_only_on_a_retry() {
        let hosts = vec![
            host(1, &[DiscoveryMethod::Icmp], &[22, 80, 443], &[80]),
            host(2, &[DiscoveryMethod::Icmp], &[22, 80, 443, 445, 3389], &[]),
        ];
        let (loss, samples) = loss_estimate(&samples(&hosts));
        assert_eq!(samples, 8);
        assert!((loss - 0.2).abs() < 1e-9, "{loss}");
    }

    #[test]
    fn the_accepted_miss_probability_falls_with_coverage() {
        let full = accepted_miss_probability(0.01, 1.0);
        let none = accepted_miss_probability(0.01, 0.0);
        assert!((full - 1e-4).abs() < 1e-12 && (none - 0.01).abs() < 1e-12);
    }
}
