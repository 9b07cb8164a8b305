//! Services and device kinds from port observations: each open port named (from its
//! bytes, else the catalog), fingerprinted, its TLS judged against the names the host is
//! known by ([`known_names`]), and the host's kind decided from all the evidence
//! ([`crate::kinds`]).

use kenshin_probe::observation::{Fact, Facts, HostObservation, PortState, ServiceObservation};
use kenshin_probe::ports::{FirstProbe, PortCatalog, Protocol};

use crate::fingerprint::{FingerprintSet, Identity, Subject};
use crate::kind::{DeviceKind, KindConfidence};
use crate::kinds::{KindRules, ServiceView};
use crate::oui::OuiRegistry;
use crate::segments::Segments;
use crate::service_names::ServiceNames;
use crate::tls::{known_names, KnownNames, LedgerNames, TlsKnowledge, TlsReport};
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
    /// What the TLS audit found, judged (boxed: most services have none).
    pub tls_report: Option<Box<TlsReport>>,
}

// Every assessed service of a scan is held at once: the TLS report stays boxed.
const _: () = assert!(
    size_of::<Service>() <= 320,
    "an assessed Service grew past 320 bytes"
);

/// A host with its services and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessedHost {
    pub observation: HostObservation,
    /// The organisation the MAC address is registered to, when known.
    pub mac_vendor: Option<String>,
    pub kind: DeviceKind,
    pub kind_reason: String,
    /// The same reason in Japanese.
    pub kind_reason_ja: String,
    /// How sure the kind is; `None` for `unknown`.
    pub kind_confidence: Option<KindConfidence>,
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
    /// Device kinds from what hosts and the network show (`rules/kinds.toml`).
    pub kind_rules: Option<&'a KindRules>,
    /// Hostnames the asset ledger gives hosts (`Ledger::names_for`), which their
    /// certificates are judged against.
    pub ledger_names: Option<&'a LedgerNames>,
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
    known: &KnownNames,
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
            .map(|(audit, tls)| Box::new(crate::tls::judge(audit, known, tls))),
    }
}

fn assess_host(observation: HostObservation, k: Knowledge<'_>) -> AssessedHost {
    let (catalog, oui) = (k.catalog, k.oui);
    let mac_vendor = oui
        .zip(observation.mac)
        .and_then(|(reg, mac)| reg.vendor(mac))
        .map(str::to_owned);
    let known = known_names(&observation, k.ledger_names);
    let services: Vec<Service> = observation
        .ports
        .iter()
        .filter(|p| p.state == PortState::Open)
        .map(|p| {
            let probed = observation
                .services
                .iter()
                .find(|s| s.port == p.port && s.protocol == p.protocol);
            identify_service(p, probed, &observation, &known, k)
        })
        .collect();
    let mac_kind = mac_vendor
        .as_deref()
        .zip(k.vendor_kinds)
        .and_then(|(v, kinds)| kinds.kind_of(v).map(|kind| (kind, v)));
    let views: Vec<ServiceView<'_>> = services
        .iter()
        .map(|s| ServiceView {
            protocol: s.protocol,
            port: s.port,
            service: &s.service,
            spoken: s.named_by == NamedBy::Probe,
            identity: &s.identity,
        })
        .collect();
    let decision = crate::kinds::decide(
        &observation,
        &views,
        crate::kinds::Inputs {
            catalog,
            rules: k.kind_rules,
            mac_kind,
        },
    );
    let segment = k
        .segments
        .and_then(|s| s.name_of(observation.address))
        .map(str::to_owned);
    AssessedHost {
        observation,
        mac_vendor,
        kind: decision.kind,
        kind_reason: decision.reason,
        kind_reason_ja: decision.reason_ja,
        kind_confidence: decision.confidence,
        segment,
        services,
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
            kind_rules: None,
            ledger_names: None,
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
            quiet: Default::default(),
            snmp: None,
            services: vec![],
            scan_state: HostScanState::Complete,
            notes: vec![],
            probes_sent: 0,
            path: Default::default(),
            reverse_names: Vec::new(),
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

    fn with_kind_rules(cat: &PortCatalog) -> Knowledge<'_> {
        static RULES: OnceLock<KindRules> = OnceLock::new();
        Knowledge {
            kind_rules: Some(RULES.get_or_init(|| KindRules::builtin().expect("kind rules"))),
            ..knowledge(cat, None)
        }
    }

    #[test]
    fn a_debian_host_with_openssh_and_nginx_on_80_and_443_is_a_server() {
        let cat = PortCatalog::builtin().expect("catalog");
        let mut obs = host(&[
            (Protocol::Tcp, 22),
            (Protocol::Tcp, 80),
            (Protocol::Tcp, 443),
        ]);
        obs.services.push(spoke(
            22,
            "ssh",
            &[
                ("ssh.software", "OpenSSH_9.2p1"),
                ("ssh.comments", "Debian-2+deb12u3"),
            ],
        ));
        obs.services
            .push(spoke(80, "http", &[("http.server", "nginx/1.22.1")]));
        let h = assess(vec![obs], with_kind_rules(&cat)).remove(0);
        assert_eq!(h.kind, DeviceKind::Server, "{}", h.kind_reason);
        assert_eq!(h.kind_confidence, Some(KindConfidence::Likely));
        assert!(
            h.kind_reason.contains("os.general-purpose-serving"),
            "{}",
            h.kind_reason
        );
        assert!(h.kind_reason_ja.contains("サーバ"), "{}", h.kind_reason_ja);
    }

    #[test]
    fn a_unix_host_serving_vsftpd_telnet_and_nginx_is_a_server_not_a_network_device() {
        let cat = PortCatalog::builtin().expect("catalog");
        let mut obs = host(&[
            (Protocol::Tcp, 21),
            (Protocol::Tcp, 23),
            (Protocol::Tcp, 80),
        ]);
        obs.services
            .push(spoke(21, "ftp", &[("ftp.greeting", "(vsFTPd 3.0.3)")]));
        obs.services.push(spoke(23, "telnet", &[]));
        obs.services
            .push(spoke(80, "http", &[("http.server", "nginx/1.24.0")]));
        let h = assess(vec![obs], with_kind_rules(&cat)).remove(0);
        assert_eq!(h.kind, DeviceKind::Server, "{}", h.kind_reason);
        assert!(
            h.kind_reason
                .contains("outweighed: network_device (potential: open ports tcp/23"),
            "{}",
            h.kind_reason
        );
    }

    #[test]
    fn the_scanners_gateway_answering_nothing_but_icmp_is_a_router() {
        let cat = PortCatalog::builtin().expect("catalog");
        let mut obs = host(&[]);
        obs.path.route_gateway = true;
        obs.path.reply_ttl = Some(64);
        let h = assess(vec![obs], with_kind_rules(&cat)).remove(0);
        assert_eq!(h.kind, DeviceKind::NetworkDevice, "{}", h.kind_reason);
        assert_eq!(h.kind_confidence, Some(KindConfidence::Confirmed));
        assert!(h.kind_reason.contains("(gateway)"), "{}", h.kind_reason);
    }

    #[test]
    fn a_routers_far_interface_that_answers_an_echo_limited_to_one_hop_is_a_router() {
        let cat = PortCatalog::builtin().expect("catalog");
        let mut obs = host(&[]);
        obs.path.one_hop = true;
        let h = assess(vec![obs], with_kind_rules(&cat)).remove(0);
        assert_eq!(h.kind, DeviceKind::NetworkDevice, "{}", h.kind_reason);
        assert!(h.kind_reason.contains("one_hop"), "{}", h.kind_reason);
    }

    #[test]
    fn a_reply_ttl_alone_is_a_weak_hint_and_64_says_nothing() {
        let cat = PortCatalog::builtin().expect("catalog");
        let mut obs = host(&[]);
        obs.path.reply_ttl = Some(250);
        let h = assess(vec![obs.clone()], with_kind_rules(&cat)).remove(0);
        assert_eq!(h.kind, DeviceKind::NetworkDevice, "{}", h.kind_reason);
        assert_eq!(h.kind_confidence, Some(KindConfidence::Potential));
        obs.path.reply_ttl = Some(63);
        let h = assess(vec![obs], with_kind_rules(&cat)).remove(0);
        assert_eq!(h.kind, DeviceKind::Unknown, "{}", h.kind_reason);
        assert_eq!(h.kind_confidence, None);
    }

    #[test]
    fn a_fingerprinted_switch_stays_a_network_device_over_a_linux_ssh_daemon() {
        let cat = PortCatalog::builtin().expect("catalog");
        let mut obs = host(&[(Protocol::Tcp, 22), (Protocol::Tcp, 23)]);
        obs.services.push(spoke(
            23,
            "telnet",
            &[("telnet.banner", "User Access Verification Username:")],
        ));
        obs.services.push(spoke(
            22,
            "ssh",
            &[
                ("ssh.software", "OpenSSH_9.2p1"),
                ("ssh.comments", "Debian-2+deb12u3"),
            ],
        ));
        let h = assess(vec![obs], with_kind_rules(&cat)).remove(0);
        assert_eq!(h.kind, DeviceKind::NetworkDevice, "{}", h.kind_reason);
        assert_eq!(h.kind_confidence, Some(KindConfidence::Confirmed));
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
