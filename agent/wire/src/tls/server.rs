//! The server's first flight, read as it arrives: ServerHello (or
//! HelloRetryRequest), Certificate, ServerKeyExchange and ServerHelloDone up to
//! TLS 1.2, or an Alert.
//!
//! [`read_flight`] is called on everything received so far and says whether the
//! flight is complete. It stops at the first point where the server has said
//! all a scanner can read in clear: ServerHelloDone, a TLS 1.3 ServerHello
//! (what follows is encrypted), a HelloRetryRequest, or an alert. Records and
//! handshake messages are reassembled across record boundaries, every length is
//! checked, and the sizes are bounded.

use super::names::{AlertDescription, NamedGroup, Version};
use super::suites::{CipherSuite, KeyExchange};
use crate::reader::{DecodeError, Reader};

/// The largest record the specification allows (2^14 plus expansion).
pub const MAX_RECORD: usize = 18_432;
/// The largest handshake message kenshin reassembles.
pub const MAX_HANDSHAKE: usize = 65_536;
/// The most certificates kept from one Certificate message.
pub const MAX_CERTIFICATES: usize = 16;

/// `SHA-256("HelloRetryRequest")`: the random of a HelloRetryRequest (RFC 8446 4.1.3).
pub const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// A ServerHello, or a HelloRetryRequest (same message, special random).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The version field of the message (TLS 1.3 servers say TLS 1.2 here).
    pub legacy_version: Version,
    pub suite: CipherSuite,
    pub compression: u8,
    pub hello_retry: bool,
    /// The supported_versions extension's choice, if the server sent one.
    pub selected_version: Option<Version>,
    /// The key_share extension's group (the server's share, or the HRR's request).
    pub key_share_group: Option<NamedGroup>,
    /// Extension code points, in the order sent.
    pub extensions: Vec<u16>,
}

impl ServerHello {
    /// The version the server chose.
    pub fn version(&self) -> Version {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

/// What a ServerKeyExchange says about the key exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyExchangeParams {
    /// ECDHE over a named curve.
    NamedCurve(NamedGroup),
    /// ECDHE over explicit curve parameters (a curve type other than named).
    ExplicitCurve(u8),
    /// Finite-field DHE: the prime's size in bits.
    Dh { prime_bits: u16 },
    /// An export suite's temporary RSA key: the modulus size in bits.
    Rsa { modulus_bits: u16 },
}

/// An alert record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// 1 warning, 2 fatal.
    pub level: u8,
    pub description: AlertDescription,
}

impl Alert {
    /// The level of an alert that ends the connection (RFC 5246 7.2).
    pub const FATAL: u8 = 2;

    /// True for a fatal alert; any other level is read as a warning.
    pub fn is_fatal(&self) -> bool {
        self.level == Self::FATAL
    }
}

/// Why the flight is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlightEnd {
    /// ServerHelloDone: the whole clear-text flight up to TLS 1.2.
    HelloDone,
    /// A TLS 1.3 ServerHello: everything after it is encrypted.
    Tls13,
    HelloRetry,
    Alert,
    /// Records other than handshake, alert or ChangeCipherSpec after a ServerHello
    /// (a resumed or encrypted flight).
    Other,
}

/// The server's first flight as far as it goes in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flight {
    pub server_hello: Option<ServerHello>,
    /// The certificate chain, leaf first (TLS ≤ 1.2), as DER.
    pub certificates: Vec<Vec<u8>>,
    pub key_exchange: Option<KeyExchangeParams>,
    pub certificate_request: bool,
    pub alert: Option<Alert>,
    pub end: FlightEnd,
    /// Bytes of input the flight took.
    pub consumed: usize,
}

/// Reads a flight from everything received so far: `Ok(None)` while more bytes are
/// needed, an error if the bytes are not TLS or break the format.
pub fn read_flight(buf: &[u8]) -> Result<Option<Flight>, DecodeError> {
    let mut r = Reader::new(buf);
    let mut handshake: Vec<u8> = Vec::new();
    let mut hs_pos = 0usize;
    let mut flight = Flight {
        server_hello: None,
        certificates: Vec::new(),
        key_exchange: None,
        certificate_request: false,
        alert: None,
        end: FlightEnd::Other,
        consumed: 0,
    };
    loop {
        if r.remaining() < 5 {
            return Ok(None);
        }
        let start = r.position();
        let content_type = r.u8("TLS record type")?;
        let version = r.u16_be("TLS record version")?;
        if !(20..=23).contains(&content_type) || version >> 8 != 3 {
            return Err(DecodeError::Invalid {
                field: "TLS record header",
                reason: "not a TLS record",
            });
        }
        let len = usize::from(r.u16_be("TLS record length")?);
        if len > MAX_RECORD {
            return Err(DecodeError::TooLarge {
                field: "TLS record",
                value: len,
                limit: MAX_RECORD,
            });
        }
        if r.remaining() < len {
            return Ok(None);
        }
        let body = r.take(len, "TLS record body")?;
        let done_at = r.position();
        match content_type {
            21 => {
                let mut a = Reader::new(body);
                flight.alert = Some(Alert {
                    level: a.u8("alert level")?,
                    description: AlertDescription(a.u8("alert description")?),
                });
                flight.end = FlightEnd::Alert;
                flight.consumed = done_at;
                return Ok(Some(flight));
            }
            22 => {
                handshake.extend_from_slice(body);
                if handshake.len() > MAX_HANDSHAKE * 2 {
                    return Err(DecodeError::TooLarge {
                        field: "TLS handshake flight",
                        value: handshake.len(),
                        limit: MAX_HANDSHAKE * 2,
                    });
                }
                // Every complete message now in the buffer.
                while let Some((kind, msg, next)) = next_message(&handshake, hs_pos)? {
                    hs_pos = next;
                    if let Some(end) = take_message(&mut flight, kind, msg)? {
                        flight.end = end;
                        flight.consumed = done_at;
                        return Ok(Some(flight));
                    }
                }
            }
            20 => {} // ChangeCipherSpec: TLS 1.3 middlebox compatibility
            _ => {
                if flight.server_hello.is_some() {
                    flight.end = FlightEnd::Other;
                    flight.consumed = start;
                    return Ok(Some(flight));
                }
                return Err(DecodeError::Invalid {
                    field: "TLS record type",
                    reason: "application data before a ServerHello",
                });
            }
        }
    }
}

/// A handshake message: its type, its body, and where the next one starts.
type Message<'a> = (u8, &'a [u8], usize);

/// The next complete handshake message at `pos`.
fn next_message(buf: &[u8], pos: usize) -> Result<Option<Message<'_>>, DecodeError> {
    let rest = buf.get(pos..).unwrap_or_default();
    if rest.len() < 4 {
        return Ok(None);
    }
    let len = (usize::from(rest[1]) << 16) | (usize::from(rest[2]) << 8) | usize::from(rest[3]);
    if len > MAX_HANDSHAKE {
        return Err(DecodeError::TooLarge {
            field: "TLS handshake message",
            value: len,
            limit: MAX_HANDSHAKE,
        });
    }
    match rest.get(4..4 + len) {
        Some(body) => Ok(Some((rest[0], body, pos + 4 + len))),
        None => Ok(None),
    }
}

/// Records one message; returns the end of the flight if it ends here.
fn take_message(
    flight: &mut Flight,
    kind: u8,
    msg: &[u8],
) -> Result<Option<FlightEnd>, DecodeError> {
    match kind {
        2 => {
            let hello = decode_server_hello(msg)?;
            let end = if hello.hello_retry {
                Some(FlightEnd::HelloRetry)
            } else if hello.version() >= Version::TLS13 {
                Some(FlightEnd::Tls13)
            } else {
                None
            };
            flight.server_hello = Some(hello);
            Ok(end)
        }
        _ if flight.server_hello.is_none() => Err(DecodeError::Invalid {
            field: "TLS handshake",
            reason: "a message before the ServerHello",
        }),
        11 => {
            flight.certificates = decode_certificates(msg)?;
            Ok(None)
        }
        12 => {
            let kx = flight
                .server_hello
                .as_ref()
                .and_then(|h| h.suite.class())
                .map(|c| c.key_exchange);
            flight.key_exchange = decode_key_exchange(msg, kx)?;
            Ok(None)
        }
        13 => {
            flight.certificate_request = true;
            Ok(None)
        }
        14 => Ok(Some(FlightEnd::HelloDone)),
        _ => Ok(None), // CertificateStatus and others: not needed
    }
}

/// Decodes a ServerHello body (after the handshake header).
pub fn decode_server_hello(msg: &[u8]) -> Result<ServerHello, DecodeError> {
    let mut r = Reader::new(msg);
    let legacy_version = Version(r.u16_be("ServerHello version")?);
    let random = r.take(32, "ServerHello random")?;
    let sid_len = usize::from(r.u8("ServerHello session id length")?);
    if sid_len > 32 {
        return Err(DecodeError::Invalid {
            field: "ServerHello session id",
            reason: "longer than 32 bytes",
        });
    }
    r.take(sid_len, "ServerHello session id")?;
    let suite = CipherSuite(r.u16_be("ServerHello cipher suite")?);
    let compression = r.u8("ServerHello compression")?;
    let mut hello = ServerHello {
        legacy_version,
        suite,
        compression,
        hello_retry: random == HELLO_RETRY_RANDOM,
        selected_version: None,
        key_share_group: None,
        extensions: Vec::new(),
    };
    if r.is_empty() {
        return Ok(hello);
    }
    let len = usize::from(r.u16_be("ServerHello extensions length")?);
    let mut exts = r.sub(len, "ServerHello extensions")?;
    while !exts.is_empty() {
        let code = exts.u16_be("extension type")?;
        let len = usize::from(exts.u16_be("extension length")?);
        let mut body = exts.sub(len, "extension body")?;
        hello.extensions.push(code);
        match code {
            43 => hello.selected_version = Some(Version(body.u16_be("supported_versions")?)),
            51 => hello.key_share_group = Some(NamedGroup(body.u16_be("key_share group")?)),
            _ => {}
        }
    }
    Ok(hello)
}

/// Decodes a TLS ≤ 1.2 Certificate message into DER certificates, leaf first.
pub fn decode_certificates(msg: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut r = Reader::new(msg);
    let total = u24(&mut r, "certificate list length")?;
    let mut list = r.sub(total, "certificate list")?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let len = u24(&mut list, "certificate length")?;
        let der = list.take(len, "certificate")?;
        if out.len() < MAX_CERTIFICATES {
            out.push(der.to_vec());
        }
    }
    Ok(out)
}

/// Decodes the parameters at the start of a ServerKeyExchange, given the suite's
/// key exchange; `None` when the key exchange has no parameters kenshin reads.
pub fn decode_key_exchange(
    msg: &[u8],
    kx: Option<KeyExchange>,
) -> Result<Option<KeyExchangeParams>, DecodeError> {
    let mut r = Reader::new(msg);
    Ok(match kx {
        Some(KeyExchange::Ecdhe) => {
            let curve_type = r.u8("ECDH curve type")?;
            Some(if curve_type == 3 {
                KeyExchangeParams::NamedCurve(NamedGroup(r.u16_be("ECDH named curve")?))
            } else {
                KeyExchangeParams::ExplicitCurve(curve_type)
            })
        }
        Some(KeyExchange::Dhe) => {
            let len = usize::from(r.u16_be("DH prime length")?);
            let p = r.take(len, "DH prime")?;
            Some(KeyExchangeParams::Dh {
                prime_bits: bit_length(p),
            })
        }
        Some(KeyExchange::Rsa) => {
            let len = usize::from(r.u16_be("RSA modulus length")?);
            let m = r.take(len, "RSA modulus")?;
            Some(KeyExchangeParams::Rsa {
                modulus_bits: bit_length(m),
            })
        }
        _ => None,
    })
}

fn u24(r: &mut Reader<'_>, field: &'static str) -> Result<usize, DecodeError> {
    let b = r.take(3, field)?;
    Ok((usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
}

/// The number of significant bits in a big-endian unsigned integer.
pub fn bit_length(n: &[u8]) -> u16 {
    let Some(first) = n.iter().position(|&b| b != 0) else {
        return 0;
    };
    let bytes = n.len() - first;
    let top = 8 - n[first].leading_zeros() as usize;
    u16::try_from((bytes - 1) * 8 + top).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind, 3, 3];
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    }

    fn server_hello(
        version: u16,
        suite: u16,
        exts: &[(u16, Vec<u8>)],
        random: [u8; 32],
    ) -> Vec<u8> {
        let mut b = version.to_be_bytes().to_vec();
        b.extend_from_slice(&random);
        b.push(0);
        b.extend_from_slice(&suite.to_be_bytes());
        b.push(0);
        if !exts.is_empty() {
            let mut e = Vec::new();
            for (code, body) in exts {
                e.extend_from_slice(&code.to_be_bytes());
                e.extend_from_slice(&(body.len() as u16).to_be_bytes());
                e.extend_from_slice(body);
            }
            b.extend_from_slice(&(e.len() as u16).to_be_bytes());
            b.extend_from_slice(&e);
        }
        message(2, &b)
    }

    fn certificate(certs: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for c in certs {
            list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
            list.extend_from_slice(c);
        }
        let mut b = (list.len() as u32).to_be_bytes()[1..].to_vec();
        b.extend_from_slice(&list);
        message(11, &b)
    }

    #[test]
    fn a_tls12_flight_split_across_records_gives_hello_chain_and_curve() {
        let mut hs = server_hello(0x0303, 0xC02F, &[(0xFF01, vec![0])], [1; 32]);
        hs.extend(certificate(&[b"leaf", b"intermediate"]));
        hs.extend(message(12, &[3, 0, 23, 65, 4]));
        hs.extend(message(14, &[]));
        // Cut the handshake stream in two records at an awkward place.
        let mut wire = record(22, &hs[..7]);
        wire.extend(record(22, &hs[7..]));
        for cut in 0..wire.len() {
            assert_eq!(read_flight(&wire[..cut]), Ok(None), "cut at {cut}");
        }
        let f = read_flight(&wire).expect("decodes").expect("complete");
        assert_eq!(f.end, FlightEnd::HelloDone);
        let hello = f.server_hello.expect("hello");
        assert_eq!(hello.version(), Version::TLS12);
        assert_eq!(hello.suite, CipherSuite(0xC02F));
        assert_eq!(
            f.certificates,
            vec![b"leaf".to_vec(), b"intermediate".to_vec()]
        );
        assert_eq!(
            f.key_exchange,
            Some(KeyExchangeParams::NamedCurve(NamedGroup::SECP256R1))
        );
        assert_eq!(f.consumed, wire.len());
    }

    #[test]
    fn a_certificate_request_in_the_flight_is_noticed() {
        // The guideline asks for client-certificate authentication on HTTPS: a server
        // that asks for one says so in its first flight.
        let mut hs = server_hello(0x0303, 0xC02F, &[], [1; 32]);
        hs.extend(message(13, &[1, 1, 0, 2, 4, 1, 0, 0]));
        hs.extend(message(14, &[]));
        let f = read_flight(&record(22, &hs))
            .expect("ok")
            .expect("complete");
        assert!(f.certificate_request);
        let plain = [server_hello(0x0303, 0xC02F, &[], [1; 32]), message(14, &[])].concat();
        let f = read_flight(&record(22, &plain))
            .expect("ok")
            .expect("complete");
        assert!(!f.certificate_request);
    }

    #[test]
    fn a_dhe_key_exchange_gives_the_prime_size() {
        let mut p = vec![0x00, 0x80];
        p.extend(vec![0xFF; 255]);
        let mut ske = (p.len() as u16).to_be_bytes().to_vec();
        ske.extend(&p);
        ske.extend([0, 1, 2]);
        let mut hs = server_hello(0x0303, 0x009E, &[], [1; 32]);
        hs.extend(message(12, &ske));
        hs.extend(message(14, &[]));
        let f = read_flight(&record(22, &hs))
            .expect("ok")
            .expect("complete");
        assert_eq!(
            f.key_exchange,
            Some(KeyExchangeParams::Dh { prime_bits: 2048 })
        );
    }

    #[test]
    fn a_tls13_server_hello_ends_the_flight_before_the_encrypted_part() {
        let hs = server_hello(
            0x0303,
            0x1301,
            &[(43, vec![3, 4]), (51, vec![0, 29, 0, 32])],
            [2; 32],
        );
        let mut wire = record(22, &hs);
        wire.extend(record(20, &[1]));
        wire.extend(record(23, &[0; 40]));
        let f = read_flight(&wire).expect("ok").expect("complete");
        assert_eq!(f.end, FlightEnd::Tls13);
        let h = f.server_hello.expect("hello");
        assert_eq!(h.version(), Version::TLS13);
        assert_eq!(h.key_share_group, Some(NamedGroup::X25519));
    }

    #[test]
    fn a_hello_retry_request_names_the_group_the_server_wants() {
        let hs = server_hello(
            0x0303,
            0x1302,
            &[(43, vec![3, 4]), (51, vec![0, 24])],
            HELLO_RETRY_RANDOM,
        );
        let f = read_flight(&record(22, &hs))
            .expect("ok")
            .expect("complete");
        assert_eq!(f.end, FlightEnd::HelloRetry);
        assert_eq!(
            f.server_hello.expect("hrr").key_share_group,
            Some(NamedGroup::SECP384R1)
        );
    }

    #[test]
    fn an_alert_ends_the_flight_and_names_the_refusal() {
        let f = read_flight(&record(21, &[2, 40]))
            .expect("ok")
            .expect("complete");
        assert_eq!(f.end, FlightEnd::Alert);
        let alert = f.alert.expect("alert");
        assert_eq!(alert.description, AlertDescription::HANDSHAKE_FAILURE);
        assert!(alert.is_fatal());
        let warning = read_flight(&record(21, &[1, 90]))
            .expect("ok")
            .and_then(|f| f.alert)
            .expect("alert");
        assert!(!warning.is_fatal());
    }

    #[test]
    fn bytes_that_are_not_tls_are_rejected_at_once() {
        assert!(read_flight(b"HTTP/1.1 400 Bad Request\r\n").is_err());
        assert!(read_flight(b"SSH-2.0-OpenSSH_9.2\r\n").is_err());
    }

    #[test]
    fn oversized_lengths_are_refused_not_waited_for() {
        let mut wire = vec![22, 3, 3, 0xFF, 0xFF];
        wire.extend(vec![0; 10]);
        assert!(matches!(
            read_flight(&wire),
            Err(DecodeError::TooLarge { .. })
        ));
        let big = [2u8, 0xFF, 0xFF, 0xFF];
        assert!(matches!(
            read_flight(&record(22, &big)),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn bit_lengths_ignore_leading_zero_bytes() {
        assert_eq!(bit_length(&[0, 0, 1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0, 0x7F]), 7);
        assert_eq!(bit_length(&[]), 0);
    }
}
