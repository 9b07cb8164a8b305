//! Services and device kinds from port observations and the catalog's hints.

use std::collections::BTreeMap;

use kenshin_probe::observation::{Fact, Facts, HostObservation, PortState, ServiceObservation};
use kenshin_probe::ports::{FirstProbe, PortCatalog, Protocol};

use crate::fingerprint::{FingerprintSet, Identity, Subject};
use crate::kind::DeviceKind;
use crate::oui::OuiRegistry;
use crate::segments::Segments;
use crate::service_names::ServiceNames;
use crate::tls::{TlsKnowledge, TlsReport};
use crate::vendor_kinds::VendorKinds;

/// Where a service's name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedBy {
    /// The service's own bytes (a banner, a protocol answer).
    Probe,
    /// Only the port number, from the catalog.
    Port,
}

impl NamedBy {
    /// `probe` or `port`.
    pub fn as_str(self) -> &'static str {
        match self {
            NamedBy::Probe => "probe",
            NamedBy::Port => "port",
        }
    }
}

/// One open service.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub port: u16,
    pub protocol: Protocol,
    /// Lower-case IANA-style name; `unknown` for a port outside the catalog that said
    /// nothing recognisable.
    pub service: String,
    pub named_by: NamedBy,
    /// True if the service spoke TLS.
    pub tls: bool,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    /// What the service said about itself, capped.
    pub banner: Option<String>,
    /// Protocol facts as observed.
    pub facts: Facts,
    /// What the fingerprints made of them.
    pub identity: Identity,
    pub connect_only: bool,
    pub evidence: Vec<String>,
    pub notes: Vec<String>,
    /// What the TLS audit found, judged.
    pub tls_report: Option<TlsReport>,
}

/// A host with its services and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessedHost {
    pub observation: HostObservation,
    /// The organisation the MAC address is registered to, when known.
    pub mac_vendor: Option<String>,
    pub kind: DeviceKind,
    pub kind_reason: String,
    /// The named segment the host is in, if the user named segments.
    pub segment: Option<String>,
    pub services: Vec<Service>,
}

/// Longest banner carried into the report.
const MAX_BANNER: usize = 256;

/// What assessment reads besides the observations.
#[derive(Debug, Clone, Copy)]
pub struct Knowledge<'a> {
    pub catalog: &'a PortCatalog,
    pub fingerprints: &'a FingerprintSet,
    /// Names that are data: protocols inside TLS, ambiguous greetings.
    pub service_names: &'a ServiceNames,
    pub oui: Option<&'a OuiRegistry>,
    /// Trust store, guideline profiles and time for judging TLS; `None` leaves TLS
    /// audits unjudged.
    pub tls: Option<TlsKnowledge<'a>>,
    /// Named segments, to place each host in.
    pub segments: Option<&'a Segments>,
    /// Device kinds by MAC vendor.
    pub vendor_kinds: Option<&'a VendorKinds>,
}

/// Names services (from their bytes, else their port), runs the fingerprints, names MAC
/// vendors (with a registry) and infers the device kind of every host.
pub fn assess(hosts: Vec<HostObservation>, k: Knowledge<'_>) -> Vec<AssessedHost> {
    hosts.into_iter().map(|h| assess_host(h, k)).collect()
}

fn identify_service(
    port: &kenshin_probe::observation::PortObservation,
    probed: Option<&ServiceObservation>,
    observation: &HostObservation,
    k: Knowledge<'_>,
) -> Service {
    let entry = k.catalog.entry(port.protocol, port.port);
    let by_port = entry.map(|e| e.service.clone());
    let is_snmp = port.protocol == Protocol::Udp && port.port == 161 && observation.snmp.is_some();
    let (detected, tls) = match (probed, is_snmp) {
        (_, true) => (Some("snmp".to_owned()), false),
        (Some(p), _) => (p.detected.clone(), p.tls),
        (None, _) => (None, false),
    };
    let names = k.service_names;
    let (service, named_by) = match (&detected, tls) {
        // A greeting that fits several protocols (a 220 whose words name neither FTP
        // nor SMTP): the port's catalog name may settle it.
        (Some(d), false) => (
            names
                .settle(d, by_port.as_deref())
                .unwrap_or_else(|| d.clone()),
            NamedBy::Probe,
        ),
        (Some(d), true) => (names.inside_tls(d), NamedBy::Probe),
        (None, true) => {
            let tls_port = entry.is_some_and(|e| e.probe == Some(FirstProbe::Tls));
            match (&by_port, tls_port) {
                (Some(name), true) => (name.clone(), NamedBy::Probe),
                _ => ("tls".to_owned(), NamedBy::Probe),
            }
        }
        (None, false) => (
            by_port.clone().unwrap_or_else(|| "unknown".to_owned()),
            NamedBy::Port,
        ),
    };
    let facts = if is_snmp {
        observation
            .snmp
            .as_ref()
            .map(kenshin_probe::observation::SnmpObservation::facts)
            .unwrap_or_default()
    } else {
        probed.map(|p| p.facts.clone()).unwrap_or_default()
    };
    let banner = if is_snmp {
        observation.snmp.as_ref().and_then(|s| s.sys_descr.clone())
    } else {
        probed.and_then(|p| p.banner.clone())
    }
    .map(|b| b.chars().take(MAX_BANNER).collect::<String>());
    let body = probed.and_then(|p| p.body.as_deref());
    let lookup = |field: &str| -> Option<String> {
        match field {
            "banner" => banner.clone(),
            "service" => Some(service.clone()),
            "http.body" => body.map(str::to_owned),
            f => facts.get(f).map(Fact::as_text),
        }
    };
    let identity = k.fingerprints.identify(Subject {
        service: detected.as_deref(),
        fields: &lookup,
    });
    let mut evidence: Vec<String> = port.evidence.iter().cloned().collect();
    if let Some(p) = probed {
        evidence.extend(p.evidence.iter().cloned());
    }
    Service {
        port: port.port,
        protocol: port.protocol,
        service,
        named_by,
        tls,
        vendor: identity.get("vendor").map(str::to_owned),
        product: identity.get("product").map(str::to_owned),
        version: identity.get("version").map(str::to_owned),
        banner,
        identity,
        facts,
        connect_only: port.connect_only,
        evidence,
        notes: probed.map(|p| p.notes.clone()).unwrap_or_default(),
        tls_report: probed
            .and_then(|p| p.tls_audit.as_ref())
            .zip(k.tls)
            .map(|(audit, tls)| {
                let names: Vec<String> = observation
                    .hostnames
                    .iter()
                    .cloned()
                    .chain([observation.address.to_string()])
                    .collect();
                crate::tls::judge(audit, &names, tls)
            }),
    }
}

fn assess_host(observation: HostObservation, k: Knowledge<'_>) -> AssessedHost {
    let (catalog, oui) = (k.catalog, k.oui);
    let mac_vendor = oui
        .zip(observation.mac)
        .and_then(|(reg, mac)| reg.vendor(mac))
        .map(str::to_owned);
    let services: Vec<Service> = observation
        .ports
        .iter()
        .filter(|p| p.state == PortState::Open)
        .map(|p| {
            let probed = observation
                .services
                .iter()
                .find(|s| s.port == p.port && s.protocol == p.protocol);
            identify_service(p, probed, &observation, k)
        })
        .collect();
    let mac_kind = mac_vendor
        .as_deref()
        .zip(k.vendor_kinds)
        .and_then(|(v, kinds)| kinds.kind_of(v).map(|kind| (kind, v.to_owned())));
    let (kind, kind_reason) = infer_kind(&services, catalog, mac_kind);
    let segment = k
        .segments
        .and_then(|s| s.name_of(observation.address))
        .map(str::to_owned);
    AssessedHost {
        observation,
        mac_vendor,
        kind,
        kind_reason,
        segment,
        services,
    }
}

fn infer_kind(
    services: &[Service],
    catalog: &PortCatalog,
    mac_kind: Option<(DeviceKind, String)>,
) -> (DeviceKind, String) {
    // What a service says it is beats what its port number suggests.
    let mut said: BTreeMap<DeviceKind, Vec<String>> = BTreeMap::new();
    for s in services {
        if let Some(kind) = s.identity.get("device").and_then(DeviceKind::parse) {
            let what = [
                s.identity.get("vendor"),
                s.identity.get("product").or(s.identity.get("os")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            said.entry(kind).or_default().push(format!(
                "{}/{} ({what})",
                s.protocol.as_str(),
                s.port
            ));
        }
    }
    let pick = |votes: &BTreeMap<DeviceKind, Vec<String>>| {
        catalog
            .hint_precedence
            .iter()
            .filter_map(|k| DeviceKind::parse(k))
            .find(|k| votes.contains_key(k))
            .or_else(|| votes.keys().next().copied())
    };
    if let Some(kind) = pick(&said) {
        let why = said.get(&kind).map(|v| v.join(", ")).unwrap_or_default();
        return (
            kind,
            format!("service fingerprints identify {}: {why}", kind.phrase()),
        );
    }
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
    let from_ports = !votes.is_empty();
    if let Some((kind, vendor)) = &mac_kind {
        votes
            .entry(*kind)
            .or_default()
            .push(format!("MAC vendor {vendor}"));
    }
    let winner = catalog
        .hint_precedence
        .iter()
        .filter_map(|k| DeviceKind::parse(k))
        .find(|k| votes.contains_key(k));
    match winner.and_then(|k| votes.get(&k).map(|ports| (k, ports))) {
        Some((kind, ports)) => {
            let by_mac = mac_kind.as_ref().is_some_and(|(k, _)| *k == kind);
            let by_port = ports.len() > usize::from(by_mac);
            let sources = match (by_port, by_mac, from_ports) {
                (true, true, _) => "open ports and the MAC vendor suggest",
                (false, true, true) => "the MAC vendor suggests (over the open ports' hints)",
                (false, true, false) => "the MAC vendor suggests",
                _ => "open ports suggest",
            };
            (
                kind,
                format!("{sources} {}: {}", kind.phrase(), ports.join(", ")),
            )
        }
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
    use kenshin_probe::observation::ServiceObservation;
    use kenshin_probe::observation::{HostScanState, PortObservation};
    use std::collections::BTreeSet;
    use std::sync::OnceLock;

    fn knowledge<'a>(cat: &'a PortCatalog, oui: Option<&'a OuiRegistry>) -> Knowledge<'a> {
        static FPS: OnceLock<FingerprintSet> = OnceLock::new();
        static NAMES: OnceLock<ServiceNames> = OnceLock::new();
        Knowledge {
            catalog: cat,
            fingerprints: FPS.get_or_init(|| FingerprintSet::builtin().expect("fingerprints")),
            service_names: NAMES.get_or_init(|| ServiceNames::builtin().expect("names")),
            oui,
            tls: None,
            segments: None,
            vendor_kinds: None,
        }
    }

    fn spoke(port: u16, detected: &str, facts: &[(&str, &str)]) -> ServiceObservation {
        ServiceObservation {
            port,
            protocol: Protocol::Tcp,
            detected: Some(detected.into()),
            facts: facts
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Fact::Text((*v).to_owned())))
                .collect(),
            evidence: vec!["ev-000002".into()],
            ..ServiceObservation::default()
        }
    }

    #[test]
    fn an_ssh_banner_names_product_version_and_distribution() {
        let cat = PortCatalog::builtin().expect("catalog");
        let mut obs = host(&[(Protocol::Tcp, 2222)]);
        obs.services.push(spoke(
            2222,
            "ssh",
            &[
                ("ssh.software", "OpenSSH_9.2p1"),
                ("ssh.comments", "Debian-2+deb12u3"),
            ],
        ));
        let h = assess(vec![obs], knowledge(&cat, None)).remove(0);
        let s = &h.services[0];
        assert_eq!(s.service, "ssh");
        assert_eq!(s.named_by, NamedBy::Probe);
        assert_eq!(s.product.as_deref(), Some("OpenSSH"));
        assert_eq!(s.version.as_deref(), Some("9.2p1"));
        assert_eq!(s.identity.get("package_revision"), Some("2+deb12u3"));
        assert_eq!(s.evidence, vec!["ev-000001", "ev-000002"]);
    }

    #[test]
    fn what_a_service_says_it_is_beats_its_port_hint() {
        let cat = PortCatalog::builtin().expect("catalog");
        // 3389 hints at a terminal PC, but the web UI on 80 is a Ricoh printer's.
        let mut obs = host(&[(Protocol::Tcp, 3389), (Protocol::Tcp, 80)]);
        obs.services
            .push(spoke(80, "http", &[("http.title", "Web Image Monitor")]));
        let h = assess(vec![obs], knowledge(&cat, None)).remove(0);
        assert_eq!(h.kind, DeviceKind::Printer, "{}", h.kind_reason);
        assert!(
            h.kind_reason.contains("tcp/80 (Ricoh)"),
            "{}",
            h.kind_reason
        );
    }

    #[test]
    fn https_on_an_odd_port_is_named_from_its_bytes() {
        let cat = PortCatalog::builtin().expect("catalog");
        let mut obs = host(&[(Protocol::Tcp, 40_443)]);
        let mut s = spoke(40_443, "http", &[("http.server", "nginx/1.22.1")]);
        s.tls = true;
        obs.services.push(s);
        let h = assess(vec![obs], knowledge(&cat, None)).remove(0);
        assert_eq!(h.services[0].service, "https");
        assert_eq!(h.services[0].product.as_deref(), Some("nginx"));
    }

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
            services: vec![],
            scan_state: HostScanState::Complete,
            notes: vec![],
            probes_sent: 0,
            frames: Default::default(),
            budget: None,
        }
    }

    #[test]
    fn a_modality_with_rdp_open_is_a_medical_device() {
        let cat = PortCatalog::builtin().expect("catalog");
        let h = assess(
            vec![host(&[(Protocol::Tcp, 3389), (Protocol::Tcp, 104)])],
            knowledge(&cat, None),
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
        let printer = assess(vec![host(&[(Protocol::Tcp, 9100)])], knowledge(&cat, None)).remove(0);
        assert_eq!(printer.kind, DeviceKind::Printer);
        let ssh = assess(vec![host(&[(Protocol::Tcp, 22)])], knowledge(&cat, None)).remove(0);
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
        let h = assess(vec![obs], knowledge(&cat, Some(&reg))).remove(0);
        assert_eq!(h.mac_vendor.as_deref(), Some("Philips Medical Systems"));
    }

    #[test]
    fn a_medical_vendors_mac_outvotes_an_rdp_port_and_names_itself() {
        let cat = PortCatalog::builtin().expect("catalog");
        let mut reg = OuiRegistry::default();
        reg.add_csv("h\nMA-L,00095C,Philips Medical Systems,x\n", 24);
        let kinds = VendorKinds::builtin().expect("vendor kinds");
        let mut obs = host(&[(Protocol::Tcp, 3389)]);
        obs.mac = Some([0x00, 0x09, 0x5c, 1, 2, 3]);
        let mut k = knowledge(&cat, Some(&reg));
        k.vendor_kinds = Some(&kinds);
        let h = assess(vec![obs.clone()], k).remove(0);
        assert_eq!(h.kind, DeviceKind::MedicalDevice, "{}", h.kind_reason);
        assert!(
            h.kind_reason
                .contains("the MAC vendor suggests (over the open ports' hints)"),
            "{}",
            h.kind_reason
        );
        obs.ports.clear();
        let h = assess(vec![obs], k).remove(0);
        assert_eq!(h.kind, DeviceKind::MedicalDevice, "{}", h.kind_reason);
        assert!(
            h.kind_reason.contains("MAC vendor Philips Medical Systems"),
            "{}",
            h.kind_reason
        );
    }

    #[test]
    fn a_port_outside_the_catalog_is_an_unknown_service() {
        let cat = PortCatalog::builtin().expect("catalog");
        let h = assess(
            vec![host(&[(Protocol::Tcp, 40_000)])],
            knowledge(&cat, None),
        )
        .remove(0);
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
