//! The properties every decoder must keep on any input, one function per fuzz
//! target. `fuzz/` runs them under libFuzzer; `tests/corpus.rs` replays the
//! committed seed corpus through the same functions on every `cargo test`.
//!
//! Each function panics only when a property is broken: a decoder that panics,
//! reports consuming more bytes than it was given, or disagrees with itself.

use crate::listen::{self, Payload, MAX_TEXT};
use crate::{dicom, greeting, line, ntlm, rdp, rfb, smb, snmp, ssh, telnet, tls};

/// A property over one input.
pub type Property = fn(&[u8]);

/// The fuzz targets, by name, as `fuzz/fuzz_targets/<name>.rs` and
/// `fuzz/corpus/<name>/` spell them.
pub const TARGETS: &[(&str, Property)] = &[
    ("snmp", snmp_message),
    ("ssh", ssh_ident),
    ("greeting", greetings),
    ("telnet", telnet_negotiation),
    ("rdp", rdp_confirm),
    ("rfb", rfb_handshake),
    ("dicom", dicom_pdu),
    ("smb", smb_responses),
    ("ntlm", ntlm_challenge),
    ("banner", banner_text),
    ("tls_flight", tls_flight),
    ("sslv2", sslv2_hello),
    ("listen", listen_frame),
];

/// SNMP: decoding never panics, and a decoded GetRequest re-encodes to the same request.
pub fn snmp_message(data: &[u8]) {
    let Ok(msg) = snmp::decode_message(data) else {
        return;
    };
    if msg.pdu_type != snmp::PduType::GET_REQUEST
        || msg.varbinds.iter().any(|v| v.value != snmp::Value::Null)
    {
        return;
    }
    let oids: Vec<&[u32]> = msg.varbinds.iter().map(|v| v.oid.as_slice()).collect();
    let Ok(id) = i32::try_from(msg.request_id) else {
        return;
    };
    if let Some(bytes) = snmp::encode_get_request(msg.version, &msg.community, id, &oids) {
        let again = snmp::decode_message(&bytes).expect("kenshin's own encoding decodes");
        assert_eq!(again.varbinds, msg.varbinds);
        assert_eq!(again.community, msg.community);
    }
}

/// SSH: a parsed identification's product and version come from its software field.
pub fn ssh_ident(data: &[u8]) {
    if let Ok(ssh::Parsed::Complete(id)) = ssh::parse(data) {
        assert!(id.software.len() <= ssh::MAX_IDENT);
        if let (Some(p), Some(v)) = (&id.product, &id.version) {
            assert!(id.software.starts_with(p.as_str()) && id.software.ends_with(v.as_str()));
        }
    }
}

/// FTP/SMTP replies, POP3 and IMAP greetings: never consume more than was given.
pub fn greetings(data: &[u8]) {
    if let Ok(greeting::Parsed::Complete { value, consumed }) = greeting::parse_reply(data) {
        assert!(consumed <= data.len());
        assert!(value.code < 1000 && value.lines.len() <= greeting::MAX_REPLY_LINES);
    }
    if let Ok(greeting::Parsed::Complete { consumed, .. }) = greeting::parse_pop3(data) {
        assert!(consumed <= data.len());
    }
    if let Ok(greeting::Parsed::Complete { value, consumed }) = greeting::parse_imap(data) {
        assert!(consumed <= data.len());
        let _ = value.capabilities();
    }
}

/// Telnet: feeding bytes in two pieces yields the same data and answers as feeding them
/// at once, and every answer is a well-formed three-byte negotiation.
pub fn telnet_negotiation(data: &[u8]) {
    let mut whole = telnet::Negotiator::default();
    let Ok(all) = whole.feed(data) else { return };
    assert!(all.consumed <= data.len());
    assert_eq!(all.reply.len() % 3, 0);
    for answer in all.reply.chunks(3) {
        assert_eq!(answer[0], telnet::IAC);
        assert!(matches!(
            answer[1],
            telnet::DO | telnet::DONT | telnet::WILL | telnet::WONT
        ));
    }
    let split = data.len() / 2;
    let mut parts = telnet::Negotiator::default();
    let Ok(first) = parts.feed(&data[..split]) else {
        return;
    };
    let rest = [&data[first.consumed..split], &data[split..]].concat();
    let Ok(second) = parts.feed(&rest) else {
        return;
    };
    // Both ways must agree on what they could decode from the whole input.
    if first.consumed + second.consumed == all.consumed {
        assert_eq!([first.data, second.data].concat(), all.data);
        assert_eq!([first.reply, second.reply].concat(), all.reply);
    }
}

/// RDP: a decoded confirm is exactly one TPKT packet.
pub fn rdp_confirm(data: &[u8]) {
    if let Ok(Some(len)) = rdp::tpkt_length(data) {
        if data.len() >= len {
            let _ = rdp::decode_connection_confirm(&data[..len]);
        }
    }
    let _ = rdp::decode_connection_confirm(data);
}

/// RFB: the version and every security-message flavour decode or fail cleanly.
pub fn rfb_handshake(data: &[u8]) {
    if let Ok(Some(v)) = rfb::parse_version(data) {
        let ours = rfb::client_version(v);
        assert!(ours <= v || v.major > 3);
        let rest = data.get(rfb::VERSION_LEN..).unwrap_or(&[]);
        let _ = rfb::parse_security(rest, ours.minor);
    }
    for minor in [3, 7, 8] {
        let _ = rfb::parse_security(data, minor);
    }
}

/// DICOM: a PDU decodes only within the length its header states.
pub fn dicom_pdu(data: &[u8]) {
    match dicom::pdu_length(data) {
        Ok(Some(len)) if data.len() >= len => {
            let _ = dicom::decode_pdu(&data[..len]);
        }
        _ => {}
    }
    let _ = dicom::decode_pdu(data);
}

/// SMB: NEGOTIATE and SESSION_SETUP responses decode or fail cleanly, and a security
/// blob never comes from outside the message.
pub fn smb_responses(data: &[u8]) {
    let _ = smb::message_length(data);
    let _ = smb::decode_response(data);
    if let Ok(setup) = smb::decode_session_setup(data) {
        assert!(setup.security_blob.len() <= data.len());
        let _ = ntlm::find_challenge(&setup.security_blob);
    }
}

/// NTLMSSP: names come only from inside the message.
pub fn ntlm_challenge(data: &[u8]) {
    if let Ok(c) = ntlm::find_challenge(data) {
        for name in [&c.netbios_computer, &c.dns_computer, &c.target_name]
            .into_iter()
            .flatten()
        {
            assert!(name.len() <= data.len() * 2);
        }
    }
}

/// Banners: no control character ever reaches report text.
pub fn banner_text(data: &[u8]) {
    let text = line::banner_text(data);
    assert!(!text.chars().any(char::is_control));
    assert!(!line::printable(data)
        .chars()
        .any(|c| c.is_control() && c != '\t'));
}

/// TLS: a server flight decodes or fails cleanly, never claims more bytes than it was
/// given or more certificates than the cap, and reads the same from any record split.
pub fn tls_flight(data: &[u8]) {
    let Ok(Some(flight)) = tls::read_flight(data) else {
        return;
    };
    assert!(flight.consumed <= data.len());
    assert!(flight.certificates.len() <= tls::MAX_CERTIFICATES);
    assert!(flight.certificates.iter().map(Vec::len).sum::<usize>() <= data.len());
    // Only what the flight consumed decides it: trailing bytes change nothing (a flight
    // cut short by an encrypted record ends before that record, so it has no such rule).
    if flight.end != tls::FlightEnd::Other {
        let again = tls::read_flight(&data[..flight.consumed]);
        assert_eq!(again, Ok(Some(flight.clone())));
    }
    if let Some(hello) = &flight.server_hello {
        let _ = hello.suite.class();
        let _ = hello.version().display();
    }
}

/// SSLv2: a SERVER-HELLO's cipher list and certificate come from inside the message.
pub fn sslv2_hello(data: &[u8]) {
    if let Ok(Some(hello)) = tls::sslv2::read_server_hello(data) {
        assert!(hello.ciphers.len() * 3 + hello.certificate.len() <= data.len());
        for c in &hello.ciphers {
            assert!(!tls::sslv2::cipher_name(*c).is_empty());
        }
    }
}

/// Listening: a frame, and the same bytes handed to each protocol decoder directly,
/// never panic; every text kept is at most [`MAX_TEXT`] characters and every list
/// within its limit.
pub fn listen_frame(data: &[u8]) {
    let short = |s: &Option<String>| s.as_ref().is_none_or(|s| s.chars().count() <= MAX_TEXT);
    if let Ok(frame) = listen::decode_frame(data) {
        match frame.payload {
            Payload::Dhcp(_, d) => assert!(short(&d.hostname) && short(&d.vendor_class)),
            Payload::Lldp(l) => {
                assert!(short(&l.system_name) && short(&l.system_description));
                assert!(l.management.len() <= listen::lldp::MAX_ADDRESSES);
            }
            Payload::Cdp(c) => assert!(short(&c.device_id) && short(&c.platform)),
            Payload::Mdns(_, m) => {
                assert!(m.services.len() <= listen::mdns::MAX_ENTRIES);
                assert!(m.instances.len() <= listen::mdns::MAX_ENTRIES);
            }
            Payload::Ssdp(_, s) => assert!(short(&s.server) && short(&s.location)),
            Payload::Nbns(_, n) => assert!(n.name.as_ref().is_none_or(|n| n.len() <= 15 * 3)),
            Payload::Ndp(_, n) => assert!(n.prefixes.len() <= listen::ndp::MAX_OPTIONS),
            Payload::Arp(_) | Payload::Other => {}
        }
    }
    let _ = listen::arp::decode(data);
    let _ = listen::dhcp::decode(data);
    let _ = listen::lldp::decode(data);
    let _ = listen::cdp::decode(data);
    if let Ok(m) = listen::dns::decode(data) {
        assert!(m.questions.len() + m.records.len() <= listen::dns::MAX_RECORDS);
    }
    let _ = listen::ssdp::decode(data);
    let _ = listen::ndp::decode(data);
}
