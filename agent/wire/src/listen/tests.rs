//! Frames built byte by byte, and every truncation of them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

const HOST_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a];

fn ethernet(dst: [u8; 6], ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&HOST_MAC);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(body);
    f
}

fn gratuitous_arp() -> Vec<u8> {
    let mut b = vec![0, 1, 8, 0, 6, 4, 0, 1];
    b.extend_from_slice(&HOST_MAC);
    b.extend_from_slice(&[198, 18, 40, 10]);
    b.extend_from_slice(&[0; 6]);
    b.extend_from_slice(&[198, 18, 40, 10]);
    ethernet([0xff; 6], 0x0806, &b)
}

fn udp_v4(src: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + payload.len();
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&u16::try_from(total).expect("small").to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 1, 17, 0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&[255, 255, 255, 255]);
    ip.extend_from_slice(&sport.to_be_bytes());
    ip.extend_from_slice(&dport.to_be_bytes());
    ip.extend_from_slice(
        &u16::try_from(8 + payload.len())
            .expect("small")
            .to_be_bytes(),
    );
    ip.extend_from_slice(&[0, 0]);
    ip.extend_from_slice(payload);
    ethernet([0xff; 6], 0x0800, &ip)
}

fn router_advertisement() -> Vec<u8> {
    let mut icmp = vec![134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&[1, 1]);
    icmp.extend_from_slice(&HOST_MAC);
    icmp.extend_from_slice(&[
        3, 4, 64, 0xc0, 0, 0, 0x0e, 0x10, 0, 0, 0x07, 0x08, 0, 0, 0, 0,
    ]);
    icmp.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0x40, 0, 0, 0, 0, 0).octets());
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(&u16::try_from(icmp.len()).expect("small").to_be_bytes());
    ip.extend_from_slice(&[58, 255]);
    ip.extend_from_slice(&Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).octets());
    ip.extend_from_slice(&Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1).octets());
    ip.extend_from_slice(&icmp);
    ethernet([0x33, 0x33, 0, 0, 0, 1], 0x86dd, &ip)
}

fn cdp_frame() -> Vec<u8> {
    let mut body = vec![2, 180, 0, 0];
    let tlv = |t: u16, v: &[u8]| {
        let mut x = t.to_be_bytes().to_vec();
        x.extend_from_slice(&u16::try_from(v.len() + 4).expect("small").to_be_bytes());
        x.extend_from_slice(v);
        x
    };
    body.extend(tlv(1, b"SEP001122334455"));
    body.extend(tlv(4, &0x90u32.to_be_bytes()));
    body.extend(tlv(6, b"Cisco IP Phone 7945"));
    body.extend(tlv(2, &[0, 0, 0, 1, 1, 1, 0xcc, 0, 4, 198, 18, 40, 30]));
    let mut llc = cdp::SNAP_HEADER.to_vec();
    llc.extend_from_slice(&body);
    let len = u16::try_from(llc.len()).expect("small");
    ethernet(cdp::MULTICAST, len, &llc)
}

#[test]
fn a_gratuitous_arp_names_its_sender() {
    let frame = decode_frame(&gratuitous_arp()).expect("decodes");
    let Payload::Arp(a) = frame.payload else {
        panic!("not ARP: {frame:?}")
    };
    assert!(a.is_gratuitous() && !a.is_probe());
    assert_eq!(
        (a.sender_mac, a.sender_ip),
        (HOST_MAC, Ipv4Addr::new(198, 18, 40, 10))
    );
}

#[test]
fn a_router_advertisement_gives_its_link_address_and_prefix() {
    let frame = decode_frame(&router_advertisement()).expect("decodes");
    let Payload::Ndp(src, n) = frame.payload else {
        panic!("not NDP: {frame:?}")
    };
    assert_eq!(src, Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
    assert!(n.router && n.kind == ndp::Kind::RouterAdvertisement);
    assert_eq!(n.link_address, Some(HOST_MAC));
    assert_eq!(
        n.prefixes,
        vec![(Ipv6Addr::new(0x2001, 0xdb8, 0x40, 0, 0, 0, 0, 0), 64)]
    );
}

#[test]
fn a_cdp_phone_says_its_platform_capabilities_and_address() {
    let frame = decode_frame(&cdp_frame()).expect("decodes");
    let Payload::Cdp(c) = frame.payload else {
        panic!("not CDP: {frame:?}")
    };
    assert_eq!(c.device_id.as_deref(), Some("SEP001122334455"));
    assert_eq!(c.platform.as_deref(), Some("Cisco IP Phone 7945"));
    assert_eq!(c.capabilities, vec!["host", "phone"]);
    assert_eq!(
        c.addresses,
        vec![IpAddr::V4(Ipv4Addr::new(198, 18, 40, 30))]
    );
}

#[test]
fn a_udp_frame_to_an_unknown_port_is_other() {
    let frame = decode_frame(&udp_v4([198, 18, 40, 10], 4000, 4001, b"hello")).expect("decodes");
    assert_eq!(frame.payload, Payload::Other);
}

#[test]
fn a_frame_longer_than_a_jumbo_frame_is_refused() {
    let mut big = gratuitous_arp();
    big.resize(MAX_FRAME + 1, 0);
    assert!(matches!(
        decode_frame(&big),
        Err(DecodeError::TooLarge {
            field: "ethernet frame",
            ..
        })
    ));
}

#[test]
fn every_truncation_of_every_built_frame_fails_cleanly_or_decodes() {
    let ssdp = udp_v4(
        [198, 18, 40, 20],
        40000,
        1900,
        b"NOTIFY * HTTP/1.1\r\nSERVER: Linux UPnP/1.0 X/1\r\n\r\n",
    );
    for frame in [gratuitous_arp(), router_advertisement(), cdp_frame(), ssdp] {
        for cut in 0..frame.len() {
            // Any result is fine; a panic is not.
            let _ = decode_frame(&frame[..cut]);
        }
        assert!(decode_frame(&frame).is_ok());
    }
}

#[test]
fn a_dns_compression_pointer_that_points_forward_or_at_itself_is_rejected() {
    // One question whose name is a pointer to offset 12: itself.
    let mut msg = vec![0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    msg.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1]);
    assert!(matches!(
        dns::decode(&msg),
        Err(DecodeError::Invalid {
            reason: "compression pointer does not point backwards",
            ..
        })
    ));
}

#[test]
fn a_chain_of_backward_pointers_ends_and_reads_the_whole_name() {
    // Three questions: "local"; "_ipp._tcp" + pointer to "local"; "Ward 3" + pointer
    // to the second. The third name follows two pointers.
    let mut msg = vec![0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0];
    msg.extend_from_slice(b"\x05local\x00\x00\x0c\x00\x01");
    let second = u8::try_from(msg.len()).expect("small");
    msg.extend_from_slice(b"\x04_ipp\x04_tcp\xc0\x0c\x00\x0c\x00\x01");
    msg.extend_from_slice(b"\x06Ward 3\xc0");
    msg.extend_from_slice(&[second, 0, 12, 0, 1]);
    let m = dns::decode(&msg).expect("decodes");
    let names: Vec<String> = m.questions.iter().map(|q| q.name.dotted()).collect();
    assert_eq!(
        names,
        ["local", "_ipp._tcp.local", "Ward 3._ipp._tcp.local"]
    );
}

#[test]
fn a_dhcp_message_with_a_runaway_option_count_is_refused() {
    let mut msg = vec![1, 1, 6, 0];
    msg.extend_from_slice(&[0; 232]);
    msg.extend_from_slice(&[0x63, 0x82, 0x53, 0x63]);
    for _ in 0..=dhcp::MAX_OPTIONS {
        msg.extend_from_slice(&[250, 0]);
    }
    assert!(matches!(
        dhcp::decode(&msg),
        Err(DecodeError::TooLarge {
            field: "dhcp options",
            ..
        })
    ));
}

#[test]
fn a_netbios_name_decodes_from_its_half_byte_letters() {
    let raw = b"WARD3-PC1      \x20";
    let label: Vec<u8> = raw
        .iter()
        .flat_map(|c| [b'A' + (c >> 4), b'A' + (c & 0x0f)])
        .collect();
    assert_eq!(
        nbns::decode_name(&label),
        Some(("WARD3-PC1".to_owned(), 0x20))
    );
    assert_eq!(nbns::decode_name(b"AB"), None);
}
