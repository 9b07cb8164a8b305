//! Services and device kinds from port observations and the catalog's hints.

use std::collections::BTreeMap;

use kenshin_probe::observation::{HostObservation, PortState};
use kenshin_probe::ports::{PortCatalog, Protocol};

use crate::oui::OuiRegistry;

/// The report contract's device kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeviceKind {
    Server,
    NetworkDevice,
    TerminalPc,
    MedicalDevice,
    Printer,
    Iot,
    Unknown,
}

impl DeviceKind {
    /// The contract spelling (`server`, `network_device`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Server => "server",
            DeviceKind::NetworkDevice => "network_device",
            DeviceKind::TerminalPc => "terminal_pc",
            DeviceKind::MedicalDevice => "medical_device",
            DeviceKind::Printer => "printer",
            DeviceKind::Iot => "iot",
            DeviceKind::Unknown => "unknown",
        }
    }

    /// Parses the contract spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "server" => DeviceKind::Server,
            "network_device" => DeviceKind::NetworkDevice,
            "terminal_pc" => DeviceKind::TerminalPc,
            "medical_device" => DeviceKind::MedicalDevice,
            "printer" => DeviceKind::Printer,
            "iot" => DeviceKind::Iot,
            "unknown" => DeviceKind::Unknown,
            _ => return None,
        })
    }

    fn phrase(self) -> &'static str {
        match self {
            DeviceKind::Server => "a server",
            DeviceKind::NetworkDevice => "a network device",
            DeviceKind::TerminalPc => "a terminal PC",
            DeviceKind::MedicalDevice => "a medical device",
            DeviceKind::Printer => "a printer",
            DeviceKind::Iot => "an IoT device",
            DeviceKind::Unknown => "unknown",
        }
    }
}

/// One open service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub port: u16,
    pub protocol: Protocol,
    /// Lower-case IANA-style name; `unknown` for a port outside the catalog.
    pub service: String,
    pub product: Option<String>,
    pub version: Option<String>,
    /// What the service said about itself, capped (SNMP sysDescr today).
    pub banner: Option<String>,
    pub connect_only: bool,
    pub evidence: Vec<String>,
}

/// A host with its services and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessedHost {
    pub observation: HostObservation,
    /// The organisation the MAC address is registered to, when known.
    pub mac_vendor: Option<String>,
    pub kind: DeviceKind,
    pub kind_reason: String,
    pub services: Vec<Service>,
}

/// Longest banner carried into the report.
const MAX_BANNER: usize = 256;

/// Names services, MAC vendors (with a registry) and the device kind of every host.
pub fn assess(
    hosts: Vec<HostObservation>,
    catalog: &PortCatalog,
    oui: Option<&OuiRegistry>,
) -> Vec<AssessedHost> {
    hosts
        .into_iter()
        .map(|h| assess_host(h, catalog, oui))
        .collect()
}

fn assess_host(
    observation: HostObservation,
    catalog: &PortCatalog,
    oui: Option<&OuiRegistry>,
) -> AssessedHost {
    let mac_vendor = oui
        .zip(observation.mac)
        .and_then(|(reg, mac)| reg.vendor(mac))
        .map(str::to_owned);
    let services: Vec<Service> = observation
        .ports
        .iter()
        .filter(|p| p.state == PortState::Open)
        .map(|p| {
            let entry = catalog.entry(p.protocol, p.port);
            let banner = (p.protocol == Protocol::Udp && p.port == 161)
                .then(|| observation.snmp.as_ref().and_then(|s| s.sys_descr.clone()))
                .flatten()
                .map(|b| b.chars().take(MAX_BANNER).collect());
            Service {
                port: p.port,
                protocol: p.protocol,
                service: entry.map_or_else(|| "unknown".to_owned(), |e| e.service.clone()),
                product: None,
                version: None,
                banner,
                connect_only: p.connect_only,
                evidence: p.evidence.iter().cloned().collect(),
            }
        })
        .collect();
    let (kind, kind_reason) = infer_kind(&services, catalog);
    AssessedHost {
        observation,
        mac_vendor,
        kind,
        kind_reason,
        services,
    }
}

fn infer_kind(services: &[Service], catalog: &PortCatalog) -> (DeviceKind, String) {
    let mut votes: BTreeMap<DeviceKind, Vec<String>> = BTreeMap::new();
    for s in services {
        let Some(hint) = catalog
            .entry(s.protocol, s.port)
            .and_then(|e| e.hint.as_deref())
            .and_then(DeviceKind::parse)
        else {
            continue;
        };
        votes
            .entry(hint)
            .or_default()
            .push(format!("{}/{} ({})", s.protocol, s.port, s.service));
    }
    let winner = catalog
        .hint_precedence
        .iter()
        .filter_map(|k| DeviceKind::parse(k))
        .find(|k| votes.contains_key(k));
    match winner.and_then(|k| votes.get(&k).map(|ports| (k, ports))) {
        Some((kind, ports)) => (
            kind,
            format!("open ports suggest {}: {}", kind.phrase(), ports.join(", ")),
        ),
        None if services.is_empty() => (
            DeviceKind::Unknown,
            "no open port to tell the device kind from".to_owned(),
        ),
        None => (
            DeviceKind::Unknown,
            "its open ports do not indicate a device kind".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kenshin_probe::observation::{HostScanState, PortObservation};
    use std::collections::BTreeSet;

    fn host(open: &[(Protocol, u16)]) -> HostObservation {
        HostObservation {
            address: "198.18.1.10".parse().expect("addr"),
            hostnames: vec![],
            mac: None,
            discovered_by: BTreeSet::new(),
            rtt: None,
            ports: open
                .iter()
                .map(|&(protocol, port)| PortObservation {
                    port,
                    protocol,
                    state: PortState::Open,
                    reason: "syn-ack",
                    attempts: 1,
                    rtt: None,
                    connect_only: false,
                    evidence: Some("ev-000001".into()),
                })
                .collect(),
            snmp: None,
            scan_state: HostScanState::Complete,
            notes: vec![],
            probes_sent: 0,
        }
    }

    #[test]
    fn a_modality_with_rdp_open_is_a_medical_device() {
        let cat = PortCatalog::builtin().expect("catalog");
        let h = assess(
            vec![host(&[(Protocol::Tcp, 3389), (Protocol::Tcp, 104)])],
            &cat,
            None,
        )
        .remove(0);
        assert_eq!(h.kind, DeviceKind::MedicalDevice);
        assert!(
            h.kind_reason.contains("tcp/104 (dicom)"),
            "{}",
            h.kind_reason
        );
        assert_eq!(h.services.len(), 2);
        assert_eq!(h.services[0].evidence, vec!["ev-000001"]);
    }

    #[test]
    fn a_raw_print_port_makes_a_printer_and_ssh_alone_says_nothing() {
        let cat = PortCatalog::builtin().expect("catalog");
        let printer = assess(vec![host(&[(Protocol::Tcp, 9100)])], &cat, None).remove(0);
        assert_eq!(printer.kind, DeviceKind::Printer);
        let ssh = assess(vec![host(&[(Protocol::Tcp, 22)])], &cat, None).remove(0);
        assert_eq!(ssh.kind, DeviceKind::Unknown);
        assert_eq!(ssh.services[0].service, "ssh");
    }

    #[test]
    fn a_host_with_a_registered_mac_is_given_its_vendor() {
        let cat = PortCatalog::builtin().expect("catalog");
        let mut reg = OuiRegistry::default();
        reg.add_csv("h\nMA-L,00095C,Philips Medical Systems,x\n", 24);
        let mut obs = host(&[(Protocol::Tcp, 104)]);
        obs.mac = Some([0x00, 0x09, 0x5c, 1, 2, 3]);
        let h = assess(vec![obs], &cat, Some(&reg)).remove(0);
        assert_eq!(h.mac_vendor.as_deref(), Some("Philips Medical Systems"));
    }

    #[test]
    fn a_port_outside_the_catalog_is_an_unknown_service() {
        let cat = PortCatalog::builtin().expect("catalog");
        let h = assess(vec![host(&[(Protocol::Tcp, 40_000)])], &cat, None).remove(0);
        assert_eq!(h.services[0].service, "unknown");
    }

    #[test]
    fn every_catalog_hint_is_a_contract_kind() {
        let cat = PortCatalog::builtin().expect("catalog");
        for e in &cat.entries {
            if let Some(h) = &e.hint {
                assert!(DeviceKind::parse(h).is_some(), "{h}");
            }
        }
    }
}
