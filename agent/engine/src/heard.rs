//! What listening heard, carried into a scan's judgement: passive sources and hosts
//! merged into the outcome, kinds from the class hints of `rules/passive.toml`, and
//! each host's statements in its report entry. Shared by `kenshin listen`
//! ([`crate::listen`]) and `kenshin scan --listen` ([`crate::job`]).

use std::collections::BTreeMap;
use std::net::IpAddr;

use kenshin_assess::identify::AssessedHost;
use kenshin_assess::kind::DeviceKind;
use kenshin_assess::passive_kinds::{ClassHint, PassiveKinds};
use kenshin_probe::listen::Heard;
use kenshin_probe::observation::{HostObservation, ScanOutcome};
use kenshin_probe::scope::ScopeGuard;
use kenshin_report::model::{HeardStatement, Report};

/// The class hint of every heard host that said something a rule recognises: what
/// feeds the governor's classes known before the scan.
pub fn class_hints(heard: &Heard, rules: &PassiveKinds) -> BTreeMap<IpAddr, ClassHint> {
    heard
        .hosts
        .iter()
        .filter_map(|h| rules.hint(&h.said).map(|hint| (h.address, hint)))
        .collect()
}

/// Adds what listening heard to a scan's outcome: passive sources on the hosts the
/// scan saw, and hosts in scope that only listening heard.
pub fn merge(outcome: &mut ScanOutcome, heard: &Heard, guard: &ScopeGuard) {
    for h in &heard.hosts {
        if !guard.scope().contains(h.address) {
            continue;
        }
        match outcome.hosts.iter_mut().find(|o| o.address == h.address) {
            Some(o) => {
                o.discovered_by.extend(h.sources.iter().copied());
                o.mac = o.mac.or(h.mac);
            }
            None => outcome.hosts.push(HostObservation::unprobed(
                h.address,
                h.mac,
                h.sources.clone(),
                vec!["heard while listening; not port-scanned".to_owned()],
            )),
        }
    }
    outcome.hosts.sort_by_key(|h| h.address);
}

/// Sets kinds from the class hints: a host whose kind the scan left unknown, or
/// that no open port spoke for, takes the hint's kind and reason; a host the ports
/// already classed otherwise keeps its kind, and its reason says what listening
/// suggested.
pub fn apply_hints(hosts: &mut [AssessedHost], heard: &Heard, rules: &PassiveKinds) {
    let hints = class_hints(heard, rules);
    for h in hosts {
        let Some(hint) = hints.get(&h.observation.address) else {
            continue;
        };
        if h.kind == hint.kind {
            h.kind_reason = format!("{}; listening: {}", h.kind_reason, hint.reason);
        } else if h.kind == DeviceKind::Unknown || h.services.is_empty() {
            h.kind = hint.kind;
            h.kind_reason = format!("listening: {}", hint.reason);
        } else {
            h.kind_reason = format!(
                "{}; listening suggested {} ({})",
                h.kind_reason,
                hint.kind.as_str(),
                hint.reason
            );
        }
    }
}

/// Puts what each host said into its report entry.
pub fn attach_heard(report: &mut Report, heard: &Heard) {
    for host in &mut report.hosts {
        let Ok(address) = host.address.parse::<IpAddr>() else {
            continue;
        };
        if let Some(h) = heard.hosts.iter().find(|h| h.address == address) {
            host.heard = h
                .said
                .iter()
                .map(|s| HeardStatement {
                    source: s.source.as_str().to_owned(),
                    key: s.key.to_owned(),
                    value: s.value.clone(),
                })
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use kenshin_probe::listen::{PassiveHost, Said};
    use kenshin_probe::observation::{DiscoveryDecision, DiscoveryMethod, ScanMode};
    use kenshin_probe::scope::{AddrRange, Scope};
    use time::OffsetDateTime;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn heard_tv_and_pc() -> Heard {
        let host = |address: &str, source, key, value: &str| PassiveHost {
            address: ip(address),
            mac: Some([2, 0, 0, 0, 0, 1]),
            sources: BTreeSet::from([source]),
            said: vec![Said {
                source,
                key,
                value: value.to_owned(),
            }],
        };
        Heard {
            hosts: vec![
                host(
                    "198.19.40.40",
                    DiscoveryMethod::Ssdp,
                    "ssdp.type",
                    "urn:schemas-upnp-org:device:MediaServer:1",
                ),
                host(
                    "198.19.40.30",
                    DiscoveryMethod::Dhcp,
                    "dhcp.vendor_class",
                    "MSFT 5.0",
                ),
            ],
            ..Heard::default()
        }
    }

    fn outcome() -> ScanOutcome {
        let now = OffsetDateTime::now_utc();
        ScanOutcome {
            started_at: now,
            finished_at: now,
            complete: true,
            addresses: 1,
            hosts: Vec::new(),
            evidence: Vec::new(),
            discovery: DiscoveryDecision {
                mode: ScanMode::Direct,
                reason: String::new(),
                direct_probes: 0,
                direct_seconds: 0.0,
            },
            warnings: Vec::new(),
            probes_icmp: 0,
            probes_arp: 0,
            probes_tcp: 0,
            probes_udp: 0,
            frames: Default::default(),
            timing: Default::default(),
            retry: Default::default(),
        }
    }

    #[test]
    fn only_hosts_heard_inside_the_scope_join_a_scan() {
        let scope = Scope::new(
            vec![AddrRange::single(ip("198.19.40.40"))],
            vec![],
            10,
            false,
        )
        .expect("a scope");
        let mut o = outcome();
        merge(&mut o, &heard_tv_and_pc(), &ScopeGuard::new(scope));
        let addresses: Vec<IpAddr> = o.hosts.iter().map(|h| h.address).collect();
        assert_eq!(addresses, [ip("198.19.40.40")]);
        assert!(o.hosts[0].discovered_by.contains(&DiscoveryMethod::Ssdp));
        assert_eq!(o.hosts[0].probes_sent, 0);
    }

    #[test]
    fn the_class_hints_name_the_rule_for_each_host_that_gave_one_away() {
        let rules = PassiveKinds::builtin().expect("the shipped rules");
        let hints = class_hints(&heard_tv_and_pc(), &rules);
        assert_eq!(hints[&ip("198.19.40.40")].kind, DeviceKind::Iot);
        assert_eq!(hints[&ip("198.19.40.40")].rule, "passive.ssdp-media");
        assert_eq!(hints[&ip("198.19.40.30")].kind, DeviceKind::TerminalPc);
    }
}
