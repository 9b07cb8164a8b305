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
