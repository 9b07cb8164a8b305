//! The ClientHello, for every version from SSLv3 to TLS 1.3, in one record.
//!
//! A hello is shaped like a mainstream client's so strict servers answer it:
//! SNI for names (never for addresses), supported groups and point formats,
//! signature algorithms from TLS 1.2 on, extended master secret, secure
//! renegotiation (the SCSV for SSLv3, which takes no extensions), and for
//! TLS 1.3 supported_versions, psk_key_exchange_modes and key_share. The
//! padding extension keeps the hello out of the 256–511-byte range that some
//! load balancers mishandle.

use super::names::{NamedGroup, SignatureScheme, Version};
use super::suites::{CipherSuite, EMPTY_RENEGOTIATION_INFO_SCSV};

/// Everything one ClientHello offers.
#[derive(Debug, Clone)]
pub struct ClientHello<'a> {
    /// The version offered, alone. TLS 1.3 is offered through supported_versions.
    pub version: Version,
    pub suites: &'a [CipherSuite],
    pub groups: &'a [NamedGroup],
    /// Key shares for TLS 1.3; empty asks the server to pick a group (a HelloRetryRequest).
    pub key_shares: &'a [(NamedGroup, Vec<u8>)],
    /// The name for SNI; `None` for an address.
    pub server_name: Option<&'a str>,
    pub random: [u8; 32],
    /// 32 bytes for TLS 1.3 (middlebox compatibility); empty otherwise.
    pub session_id: &'a [u8],
}

/// Extension code points used here.
mod ext {
    pub(super) const SERVER_NAME: u16 = 0;
    pub(super) const SUPPORTED_GROUPS: u16 = 10;
    pub(super) const EC_POINT_FORMATS: u16 = 11;
    pub(super) const SIGNATURE_ALGORITHMS: u16 = 13;
    pub(super) const PADDING: u16 = 21;
    pub(super) const EXTENDED_MASTER_SECRET: u16 = 23;
    pub(super) const SESSION_TICKET: u16 = 35;
    pub(super) const SUPPORTED_VERSIONS: u16 = 43;
    pub(super) const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    pub(super) const KEY_SHARE: u16 = 51;
    pub(super) const RENEGOTIATION_INFO: u16 = 0xFF01;
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, v: usize) {
    let v = u32::try_from(v).unwrap_or(u32::MAX).min(0xFF_FFFF);
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

/// Appends `body` with a 16-bit length prefix (bodies here are far below 64 KiB).
fn put_vec16(out: &mut Vec<u8>, body: &[u8]) {
    put_u16(out, u16::try_from(body.len()).unwrap_or(u16::MAX));
    out.extend_from_slice(body);
}

fn put_ext(out: &mut Vec<u8>, code: u16, body: &[u8]) {
    put_u16(out, code);
    put_vec16(out, body);
}

/// True if the hello's version carries extensions (SSLv3 servers may choke on them).
fn takes_extensions(v: Version) -> bool {
    v >= Version::TLS10
}

/// Encodes a ClientHello as one handshake record.
pub fn encode_client_hello(h: &ClientHello<'_>) -> Vec<u8> {
    let tls13 = h.version >= Version::TLS13;
    let client_version = if tls13 { Version::TLS12 } else { h.version };
    let mut body = Vec::with_capacity(512 + h.suites.len() * 2);
    put_u16(&mut body, client_version.0);
    body.extend_from_slice(&h.random);
    body.push(u8::try_from(h.session_id.len().min(32)).unwrap_or(32));
    body.extend_from_slice(&h.session_id[..h.session_id.len().min(32)]);
    let mut suites: Vec<u8> = h.suites.iter().flat_map(|s| s.0.to_be_bytes()).collect();
    if !takes_extensions(h.version) {
        suites.extend_from_slice(&EMPTY_RENEGOTIATION_INFO_SCSV.0.to_be_bytes());
    }
    put_vec16(&mut body, &suites);
    body.extend_from_slice(&[1, 0]); // compression: null only
    if takes_extensions(h.version) {
        let mut exts = Vec::with_capacity(256);
        if let Some(name) = h.server_name {
            let mut list = vec![0u8]; // host_name
            put_vec16(&mut list, name.as_bytes());
            let mut sni = Vec::new();
            put_vec16(&mut sni, &list);
            put_ext(&mut exts, ext::SERVER_NAME, &sni);
        }
        if !h.groups.is_empty() {
            let groups: Vec<u8> = h.groups.iter().flat_map(|g| g.0.to_be_bytes()).collect();
            let mut body = Vec::new();
            put_vec16(&mut body, &groups);
            put_ext(&mut exts, ext::SUPPORTED_GROUPS, &body);
            put_ext(&mut exts, ext::EC_POINT_FORMATS, &[1, 0]);
        }
        put_ext(&mut exts, ext::SESSION_TICKET, &[]);
        if h.version >= Version::TLS12 {
            let schemes: Vec<u8> = SignatureScheme::OFFERED
                .iter()
                .flat_map(|s| s.0.to_be_bytes())
                .collect();
            let mut body = Vec::new();
            put_vec16(&mut body, &schemes);
            put_ext(&mut exts, ext::SIGNATURE_ALGORITHMS, &body);
        }
        put_ext(&mut exts, ext::EXTENDED_MASTER_SECRET, &[]);
        put_ext(&mut exts, ext::RENEGOTIATION_INFO, &[0]);
        if tls13 {
            // One version, two bytes: TLS 1.3 alone.
            put_ext(&mut exts, ext::SUPPORTED_VERSIONS, &[2, 0x03, 0x04]);
            put_ext(&mut exts, ext::PSK_KEY_EXCHANGE_MODES, &[1, 1]); // psk_dhe_ke
            let mut shares = Vec::new();
            for (group, key) in h.key_shares {
                put_u16(&mut shares, group.0);
                put_vec16(&mut shares, key);
            }
            let mut body = Vec::new();
            put_vec16(&mut body, &shares);
            put_ext(&mut exts, ext::KEY_SHARE, &body);
        }
        // Handshake header (4) + body + extensions length (2) + extensions.
        let unpadded = 4 + body.len() + 2 + exts.len();
        if (256..512).contains(&unpadded) {
            let fill = (512 - unpadded).saturating_sub(4);
            put_ext(&mut exts, ext::PADDING, &vec![0u8; fill]);
        }
        put_vec16(&mut body, &exts);
    }
    let mut handshake = Vec::with_capacity(body.len() + 4);
    handshake.push(1); // client_hello
    put_u24(&mut handshake, body.len());
    handshake.extend_from_slice(&body);
    let mut record = Vec::with_capacity(handshake.len() + 5);
    record.push(22);
    put_u16(
        &mut record,
        if h.version == Version::SSL3 {
            Version::SSL3.0
        } else {
            Version::TLS10.0
        },
    );
    put_vec16(&mut record, &handshake);
    record
}

/// A warning `user_canceled` alert: tells the server the
/// client is leaving, sent before closing so its logs read as a client that gave up,
/// not a fault.
pub fn encode_goodbye(version: Version) -> Vec<u8> {
    let record_version = if version >= Version::TLS13 {
        Version::TLS12
    } else {
        version
    };
    let mut out = vec![21];
    put_u16(&mut out, record_version.0);
    put_u16(&mut out, 2);
    out.extend_from_slice(&[1, 90]); // warning, user_canceled
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::Reader;

    fn hello(version: Version, suites: &[CipherSuite]) -> Vec<u8> {
        encode_client_hello(&ClientHello {
            version,
            suites,
            groups: &[NamedGroup::X25519, NamedGroup::SECP256R1],
            key_shares: &[(NamedGroup::X25519, vec![9; 32])],
            server_name: Some("pacs.example"),
            random: [7; 32],
            session_id: &[],
        })
    }

    /// Walks the record and handshake headers and returns the extension codes.
    fn extension_codes(record: &[u8]) -> (u16, u16, Vec<u16>) {
        let mut r = Reader::new(record);
        assert_eq!(r.u8("type").expect("type"), 22);
        let record_version = r.u16_be("rv").expect("rv");
        let len = r.u16_be("len").expect("len") as usize;
        assert_eq!(len, r.remaining());
        assert_eq!(r.u8("hs").expect("hs"), 1);
        let body_len = r.take(3, "l").expect("l");
        let body_len = (usize::from(body_len[0]) << 16)
            | (usize::from(body_len[1]) << 8)
            | usize::from(body_len[2]);
        assert_eq!(body_len, r.remaining());
        let client_version = r.u16_be("cv").expect("cv");
        r.take(32, "random").expect("random");
        let sid = r.u8("sid").expect("sid") as usize;
        r.take(sid, "sid").expect("sid");
        let n = r.u16_be("suites").expect("suites") as usize;
        r.take(n, "suites").expect("suites");
        let n = r.u8("comp").expect("comp") as usize;
        r.take(n, "comp").expect("comp");
        let mut codes = Vec::new();
        if !r.is_empty() {
            let n = r.u16_be("exts").expect("exts") as usize;
            let mut e = r.sub(n, "exts").expect("exts");
            while !e.is_empty() {
                codes.push(e.u16_be("code").expect("code"));
                let l = e.u16_be("len").expect("len") as usize;
                e.take(l, "body").expect("body");
            }
        }
        r.expect_end("hello").expect("no trailing bytes");
        (record_version, client_version, codes)
    }

    #[test]
    fn a_tls12_hello_carries_sni_groups_and_signature_algorithms_but_no_tls13_extensions() {
        let (rv, cv, codes) = extension_codes(&hello(Version::TLS12, &[CipherSuite(0xC02F)]));
        assert_eq!((rv, cv), (0x0301, 0x0303));
        for code in [0, 10, 11, 13, 23, 0xFF01] {
            assert!(codes.contains(&code), "missing {code}");
        }
        assert!(!codes.contains(&43) && !codes.contains(&51));
    }

    #[test]
    fn a_tls13_hello_says_tls12_in_its_header_and_offers_13_in_supported_versions() {
        let (rv, cv, codes) = extension_codes(&hello(Version::TLS13, &[CipherSuite(0x1301)]));
        assert_eq!((rv, cv), (0x0301, 0x0303));
        for code in [43, 45, 51, 13] {
            assert!(codes.contains(&code), "missing {code}");
        }
    }

    #[test]
    fn an_sslv3_hello_has_no_extensions_and_signals_renegotiation_with_the_scsv() {
        let record = hello(Version::SSL3, &[CipherSuite(0x000A)]);
        let (rv, cv, codes) = extension_codes(&record);
        assert_eq!((rv, cv), (0x0300, 0x0300));
        assert!(codes.is_empty());
        assert!(record.windows(2).any(|w| w == [0x00, 0xFF]));
    }

    #[test]
    fn a_tls10_hello_has_no_signature_algorithms() {
        let (_, cv, codes) = extension_codes(&hello(Version::TLS10, &[CipherSuite(0x002F)]));
        assert_eq!(cv, 0x0301);
        assert!(!codes.contains(&13));
    }

    #[test]
    fn hellos_in_the_troublesome_size_range_are_padded_to_512_bytes() {
        for n in 1..200u16 {
            let suites: Vec<CipherSuite> = (0..n).map(CipherSuite).collect();
            let record = hello(Version::TLS12, &suites);
            let handshake = record.len() - 5;
            assert!(
                !(256..512).contains(&handshake),
                "{n} suites → {handshake} bytes"
            );
            extension_codes(&record);
        }
    }
}
