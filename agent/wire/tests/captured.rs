//! The decoders on bytes captured from real daemons in the lab (fuzz/corpus/*/lab-*,
//! written by fuzz/seeds.py from a lab scan's evidence): Samba 4.17, DCMTK storescp,
//! TigerVNC, OpenSSH, vsftpd, inetutils telnetd and net-snmp as Debian 12 ships them.

use std::path::Path;

use kenshin_wire::{dicom, greeting, ntlm, rdp, rfb, smb, snmp, ssh, telnet};

fn captured(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("lab-"))
        .map(|e| std::fs::read(e.path()).expect("read"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no captured bytes in {}", dir.display());
    files
}

#[test]
fn samba_accepts_smb1_on_one_host_declines_it_on_the_other_and_speaks_smb_3_1_1() {
    let mut smb1 = Vec::new();
    let mut dialects = Vec::new();
    for m in captured("smb") {
        match smb::decode_response(&m) {
            Ok(smb::Response::Smb1(r)) => smb1.push(r.dialect_index),
            Ok(smb::Response::Smb2(r)) => dialects.push(r.dialect),
            _ => {}
        }
    }
    smb1.sort();
    assert_eq!(smb1, vec![None, Some(0)]);
    assert!(dialects.iter().all(|d| *d == smb::Dialect::SMB_3_1_1) && !dialects.is_empty());
}

#[test]
fn samba_reports_ntlm_version_6_1_build_0_and_its_netbios_name() {
    for m in captured("ntlm") {
        let c = ntlm::decode_challenge(&m).expect("a CHALLENGE");
        assert_eq!(c.version.map(|v| (v.0, v.1, v.2)), Some((6, 1, 0)));
        assert!(c.netbios_computer.is_some_and(|n| n.starts_with("KSLSVC")));
    }
}

#[test]
fn storescp_accepts_verification_and_names_dcmtk() {
    let pdus: Vec<dicom::Pdu> = captured("dicom")
        .iter()
        .filter_map(|m| dicom::decode_pdu(m).ok())
        .collect();
    let ac = pdus
        .iter()
        .find_map(|p| match p {
            dicom::Pdu::AssociateAccept(a) => Some(a),
            _ => None,
        })
        .expect("an A-ASSOCIATE-AC");
    assert!(ac.verification_accepted());
    assert!(ac
        .implementation_version_name
        .as_deref()
        .is_some_and(|v| v.starts_with("OFFIS_DCMTK_")));
    assert!(pdus.contains(&dicom::Pdu::ReleaseReply));
}

#[test]
fn the_remaining_daemons_decode_as_themselves() {
    let ssh_ok = captured("ssh").iter().any(|b| {
        matches!(ssh::parse(b), Ok(ssh::Parsed::Complete(id)) if id.product.as_deref() == Some("OpenSSH"))
    });
    assert!(ssh_ok);
    let vsftpd = captured("greeting").iter().any(|b| {
        matches!(greeting::parse_reply(b), Ok(greeting::Parsed::Complete { value, .. }) if value.text().contains("vsFTPd"))
    });
    assert!(vsftpd);
    for b in captured("rfb") {
        assert_eq!(
            rfb::parse_version(&b).expect("version"),
            Some(rfb::Version { major: 3, minor: 8 })
        );
    }
    for b in captured("telnet") {
        let fed = telnet::Negotiator::default().feed(&b).expect("negotiation");
        assert!(
            !fed.reply.is_empty(),
            "inetutils telnetd asks; kenshin answers"
        );
    }
    for b in captured("rdp") {
        assert!(matches!(
            rdp::decode_connection_confirm(&b),
            Ok(rdp::Negotiation::Selected {
                protocol: rdp::Protocols::HYBRID,
                ..
            })
        ));
    }
    for b in captured("snmp") {
        let m = snmp::decode_message(&b).expect("GetResponse");
        assert!(m.value_of(snmp::oid::SYS_DESCR).is_some());
    }
}

#[test]
fn nginx_and_vsftpd_flights_decode_with_their_chains_retries_and_refusals() {
    use kenshin_wire::tls::{self, FlightEnd, Version};
    let (mut chains, mut tls13, mut retries, mut refusals) = (Vec::new(), 0, 0, 0);
    for bytes in captured("tls_flight") {
        let flight = tls::read_flight(&bytes)
            .unwrap_or_else(|e| panic!("a captured flight does not decode: {e}"))
            .expect("a captured flight is complete");
        match flight.end {
            FlightEnd::HelloDone => {
                let hello = flight
                    .server_hello
                    .expect("a ServerHello before ServerHelloDone");
                assert!(hello.version() <= Version::TLS12);
                assert!(hello.suite.name().is_some(), "{:?}", hello.suite);
                chains.push(flight.certificates.len());
            }
            FlightEnd::Tls13 => tls13 += 1,
            FlightEnd::HelloRetry => {
                let hrr = flight.server_hello.expect("HelloRetryRequest");
                assert!(
                    hrr.key_share_group.is_some(),
                    "a retry names the group it wants"
                );
                retries += 1;
            }
            FlightEnd::Alert => refusals += 1,
            FlightEnd::Other => {}
        }
    }
    // Self-signed leaves alone, and the ECDSA leaf with its intermediate.
    assert!(chains.contains(&1) && chains.contains(&2), "{chains:?}");
    assert!(
        tls13 > 0 && retries > 0 && refusals > 0,
        "{tls13} {retries} {refusals}"
    );
}

/// Frames heard in a lab namespace (fuzz/corpus/listen/lab-*, fuzz/pcap_seeds.py).
fn heard(protocol: &str) -> Vec<kenshin_wire::listen::Payload> {
    captured("listen")
        .into_iter()
        .filter_map(|f| kenshin_wire::listen::decode_frame(&f).ok())
        .map(|f| f.payload)
        .filter(|p| {
            let name = match p {
                kenshin_wire::listen::Payload::Arp(_) => "arp",
                kenshin_wire::listen::Payload::Dhcp(..) => "dhcp",
                kenshin_wire::listen::Payload::Lldp(_) => "lldp",
                kenshin_wire::listen::Payload::Cdp(_) => "cdp",
                kenshin_wire::listen::Payload::Mdns(..) => "mdns",
                kenshin_wire::listen::Payload::Nbns(..) => "nbns",
                kenshin_wire::listen::Payload::Ssdp(..) => "ssdp",
                kenshin_wire::listen::Payload::Ndp(..) => "ndp",
                kenshin_wire::listen::Payload::Other => "other",
            };
            name == protocol
        })
        .collect()
}

#[test]
fn every_captured_listen_frame_decodes() {
    for frame in captured("listen") {
        let decoded = kenshin_wire::listen::decode_frame(&frame);
        assert!(
            decoded
                .as_ref()
                .is_ok_and(|f| f.payload != kenshin_wire::listen::Payload::Other),
            "{decoded:?}"
        );
    }
}

#[test]
fn lldpd_as_an_lldp_med_phone_names_its_system_telephone_capability_and_address() {
    use kenshin_wire::listen::Payload;
    let lldp: Vec<_> = heard("lldp")
        .into_iter()
        .filter_map(|p| match p {
            Payload::Lldp(l) => Some(l),
            _ => None,
        })
        .filter(|l| l.system_name.is_some())
        .collect();
    let l = lldp.first().expect("an LLDPDU with a system name");
    assert_eq!(l.system_name.as_deref(), Some("ward3-switch"));
    assert!(l
        .system_description
        .as_deref()
        .is_some_and(|d| d.starts_with("KenshinLab")));
    assert_eq!(l.enabled, vec!["telephone"]);
    assert!(l.capabilities.contains(&"router") && l.capabilities.contains(&"bridge"));
    assert_eq!(
        l.management.first(),
        Some(&"198.19.250.10".parse::<std::net::IpAddr>().expect("ip"))
    );
}

#[test]
fn lldpd_forced_cdp_v1_names_the_device_and_its_platform() {
    use kenshin_wire::listen::Payload;
    let Some(Payload::Cdp(c)) = heard("cdp").into_iter().next() else {
        panic!("no CDP frame captured")
    };
    assert_eq!(c.version, 1);
    assert_eq!(c.platform.as_deref(), Some("Linux"));
    assert!(c
        .software
        .as_deref()
        .is_some_and(|s| s.starts_with("KenshinLab")));
    assert!(c.addresses.contains(&"198.19.250.10".parse().expect("ip")));
}

#[test]
fn avahi_announces_an_ipp_printer_its_instance_host_name_and_model() {
    use kenshin_wire::listen::Payload;
    let mut services = Vec::new();
    let mut instances = Vec::new();
    let mut models = Vec::new();
    let mut hosts = Vec::new();
    for p in heard("mdns") {
        if let Payload::Mdns(_, m) = p {
            services.extend(m.services);
            instances.extend(m.instances);
            models.extend(m.models);
            hosts.extend(m.hosts.into_iter().map(|(n, _)| n));
        }
    }
    assert!(
        services.iter().any(|s| s == "_ipp._tcp.local"),
        "{services:?}"
    );
    assert!(
        services.iter().any(|s| s == "_printer._tcp.local"),
        "{services:?}"
    );
    assert!(
        instances
            .iter()
            .any(|s| s == "Ward 3 Printer._ipp._tcp.local"),
        "{instances:?}"
    );
    assert!(
        models.iter().any(|s| s == "ty=Kenshin LabJet 3000"),
        "{models:?}"
    );
    assert!(
        hosts.iter().any(|h| h == "ward3-printer.local"),
        "{hosts:?}"
    );
}

#[test]
fn a_dhcpdiscover_carries_hostname_vendor_class_and_parameter_list() {
    use kenshin_wire::listen::Payload;
    let Some(Payload::Dhcp(_, d)) = heard("dhcp").into_iter().next() else {
        panic!("no DHCP frame captured")
    };
    assert!(d.from_client() && d.message_type == Some(1));
    assert_eq!(d.hostname.as_deref(), Some("ward3-pc1"));
    assert_eq!(d.vendor_class.as_deref(), Some("MSFT 5.0"));
    assert_eq!(
        d.fingerprint().as_deref(),
        Some("1,3,6,15,31,33,43,44,46,47,119,121,249,252")
    );
    assert_eq!(
        d.client_address(),
        Some("198.19.250.10".parse().expect("ip"))
    );
}

#[test]
fn an_ssdp_notify_and_a_netbios_registration_name_their_senders() {
    use kenshin_wire::listen::Payload;
    let Some(Payload::Ssdp(_, s)) = heard("ssdp").into_iter().next() else {
        panic!("no SSDP frame captured")
    };
    assert_eq!(
        s.server.as_deref(),
        Some("Linux/6.1 UPnP/1.0 KenshinLab-DLNA/1.0")
    );
    assert_eq!(s.subtype.as_deref(), Some("ssdp:alive"));
    let Some(Payload::Nbns(_, n)) = heard("nbns").into_iter().next() else {
        panic!("no NBNS frame captured")
    };
    assert!(n.is_announcement());
    assert_eq!(n.name.as_deref(), Some("WARD3-PC1"));
    assert_eq!(n.address, Some("198.19.250.10".parse().expect("ip")));
}

#[test]
fn the_kernels_neighbour_and_router_solicitations_decode() {
    use kenshin_wire::listen::{ndp::Kind, Payload};
    let kinds: Vec<Kind> = heard("ndp")
        .into_iter()
        .filter_map(|p| match p {
            Payload::Ndp(_, n) => Some(n.kind),
            _ => None,
        })
        .collect();
    assert!(
        kinds.contains(&Kind::NeighborSolicitation) && kinds.contains(&Kind::RouterSolicitation)
    );
}
