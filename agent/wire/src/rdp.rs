//! RDP connection negotiation (MS-RDPBCGR 2.2.1.1 and 2.2.1.2): the X.224 Connection
//! Request carrying RDP_NEG_REQ, and the server's Connection Confirm carrying
//! RDP_NEG_RSP (the selected security protocol) or RDP_NEG_FAILURE (why none fits).
//!
//! This exchange is the whole RDP probe: it tells whether the server demands Network
//! Level Authentication (CredSSP) or still accepts standard RDP security, without ever
//! reaching a login. Every message is a TPKT (RFC 1006) packet.

use crate::reader::{DecodeError, Reader};

/// Security protocols a client may request and a server may select (a bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Protocols(pub u32);

impl Protocols {
    /// Standard RDP security: no bit set.
    pub const RDP: Protocols = Protocols(0);
    pub const SSL: Protocols = Protocols(0x1);
    /// CredSSP, i.e. Network Level Authentication.
    pub const HYBRID: Protocols = Protocols(0x2);
    pub const RDSTLS: Protocols = Protocols(0x4);
    pub const HYBRID_EX: Protocols = Protocols(0x8);

    /// True if every bit of `other` is set here.
    pub fn contains(self, other: Protocols) -> bool {
        self.0 & other.0 == other.0
    }

    /// A name for a single selected protocol (`rdp`, `tls`, `credssp`, …), or `None`.
    pub fn selected_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "rdp",
            0x1 => "tls",
            0x2 => "credssp",
            0x4 => "rdstls",
            0x8 => "credssp-early-user-auth",
            _ => return None,
        })
    }
}

/// RDP_NEG_FAILURE codes; unknown codes are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCode(pub u32);

impl FailureCode {
    pub const SSL_REQUIRED_BY_SERVER: FailureCode = FailureCode(1);
    pub const SSL_NOT_ALLOWED_BY_SERVER: FailureCode = FailureCode(2);
    pub const SSL_CERT_NOT_ON_SERVER: FailureCode = FailureCode(3);
    pub const INCONSISTENT_FLAGS: FailureCode = FailureCode(4);
    pub const HYBRID_REQUIRED_BY_SERVER: FailureCode = FailureCode(5);
    pub const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: FailureCode = FailureCode(6);

    /// The specification's name, or `None` for an unknown code.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "SSL_REQUIRED_BY_SERVER",
            2 => "SSL_NOT_ALLOWED_BY_SERVER",
            3 => "SSL_CERT_NOT_ON_SERVER",
            4 => "INCONSISTENT_FLAGS",
            5 => "HYBRID_REQUIRED_BY_SERVER",
            6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
            _ => return None,
        })
    }
}

/// What the Connection Confirm says about security negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiation {
    /// No negotiation data: a server that predates it, so standard RDP security.
    Absent,
    /// RDP_NEG_RSP: the protocol the server selected, and its flags.
    Selected { protocol: Protocols, flags: u8 },
    /// RDP_NEG_FAILURE.
    Failed(FailureCode),
}

const TPKT_VERSION: u8 = 3;
const X224_CR: u8 = 0xe0;
const X224_CC: u8 = 0xd0;
const NEG_REQ: u8 = 0x01;
const NEG_RSP: u8 = 0x02;
const NEG_FAILURE: u8 = 0x03;

/// Encodes a Connection Request asking for `requested`, with no routing cookie.
pub fn encode_connection_request(requested: Protocols) -> Vec<u8> {
    let mut x224 = vec![0, X224_CR, 0, 0, 0, 0, 0];
    x224.extend([NEG_REQ, 0]);
    x224.extend(8u16.to_le_bytes());
    x224.extend(requested.0.to_le_bytes());
    // The length indicator counts the X.224 header and data after itself.
    x224[0] = (x224.len() - 1) as u8;
    let total = (4 + x224.len()) as u16;
    let mut out = vec![TPKT_VERSION, 0];
    out.extend(total.to_be_bytes());
    out.extend(x224);
    out
}

/// The length of the TPKT packet at the start of `buf`, once its header has arrived.
pub fn tpkt_length(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    let Some(header) = buf.get(..4) else {
        return Ok(None);
    };
    if header[0] != TPKT_VERSION {
        return Err(DecodeError::Invalid {
            field: "tpkt version",
            reason: "not 3: not an RDP (ISO transport) server",
        });
    }
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if len < 7 {
        return Err(DecodeError::Invalid {
            field: "tpkt length",
            reason: "shorter than a TPKT header and an X.224 header",
        });
    }
    Ok(Some(len))
}

/// Decodes a complete Connection Confirm (exactly one TPKT packet).
pub fn decode_connection_confirm(bytes: &[u8]) -> Result<Negotiation, DecodeError> {
    let len = tpkt_length(bytes)?.ok_or(DecodeError::Truncated {
        field: "tpkt header",
        needed: 4 - bytes.len().min(4),
        available: bytes.len(),
    })?;
    let mut r = Reader::new(bytes);
    let mut packet = r.sub(len, "tpkt packet")?;
    r.expect_end("tpkt packet")?;
    packet.take(4, "tpkt header")?;
    let li = usize::from(packet.u8("x224 length indicator")?);
    let mut x224 = packet.sub(li, "x224 tpdu")?;
    if (x224.u8("x224 code")? & 0xf0) != X224_CC {
        return Err(DecodeError::Invalid {
            field: "x224 code",
            reason: "not a Connection Confirm",
        });
    }
    x224.take(5, "x224 references and class")?;
    packet.expect_end("x224 tpdu")?;
    // The length indicator covers the negotiation data that follows the X.224 header.
    let mut neg = x224;
    if neg.is_empty() {
        return Ok(Negotiation::Absent);
    }
    let kind = neg.u8("rdp negotiation type")?;
    let flags = neg.u8("rdp negotiation flags")?;
    if neg.u16_le("rdp negotiation length")? != 8 {
        return Err(DecodeError::Invalid {
            field: "rdp negotiation length",
            reason: "must be 8",
        });
    }
    let value = neg.u32_le("rdp negotiation value")?;
    neg.expect_end("rdp negotiation")?;
    match kind {
        NEG_RSP => Ok(Negotiation::Selected {
            protocol: Protocols(value),
            flags,
        }),
        NEG_FAILURE => Ok(Negotiation::Failed(FailureCode(value))),
        _ => Err(DecodeError::Invalid {
            field: "rdp negotiation type",
            reason: "neither RDP_NEG_RSP nor RDP_NEG_FAILURE",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_for_tls_and_credssp_is_the_19_byte_packet_of_the_specification() {
        let req = encode_connection_request(Protocols(Protocols::SSL.0 | Protocols::HYBRID.0));
        assert_eq!(
            req,
            [
                0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x08, 0x00, 0x03, 0,
                0, 0
            ]
        );
    }

    #[test]
    fn a_server_that_selects_credssp_demands_nla() {
        // Connection Confirm with RDP_NEG_RSP, flags 0x1f, selectedProtocol HYBRID
        // (the layout of MS-RDPBCGR 4.1.2).
        let cc = [
            0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0, 0, 0x12, 0x34, 0, 0x02, 0x1f, 0x08, 0x00, 0x02,
            0, 0, 0,
        ];
        let n = decode_connection_confirm(&cc).expect("valid");
        assert_eq!(
            n,
            Negotiation::Selected {
                protocol: Protocols::HYBRID,
                flags: 0x1f
            }
        );
        if let Negotiation::Selected { protocol, .. } = n {
            assert_eq!(protocol.selected_name(), Some("credssp"));
        }
    }

    #[test]
    fn failures_and_servers_without_negotiation_are_told_apart() {
        let failure = [
            0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0, 0, 0x12, 0x34, 0, 0x03, 0x00, 0x08, 0x00, 0x05,
            0, 0, 0,
        ];
        assert_eq!(
            decode_connection_confirm(&failure),
            Ok(Negotiation::Failed(FailureCode::HYBRID_REQUIRED_BY_SERVER))
        );
        assert_eq!(FailureCode(5).name(), Some("HYBRID_REQUIRED_BY_SERVER"));
        let legacy = [0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0, 0, 0x12, 0x34, 0];
        assert_eq!(decode_connection_confirm(&legacy), Ok(Negotiation::Absent));
    }

    #[test]
    fn every_truncation_and_trailing_garbage_is_refused() {
        let cc = [
            0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0, 0, 0x12, 0x34, 0, 0x02, 0x00, 0x08, 0x00, 0x01,
            0, 0, 0,
        ];
        for n in 0..cc.len() {
            assert!(decode_connection_confirm(&cc[..n]).is_err(), "cut at {n}");
        }
        let mut long = cc.to_vec();
        long.push(0);
        assert!(decode_connection_confirm(&long).is_err());
    }

    #[test]
    fn a_non_rdp_answer_is_recognised_from_its_first_byte() {
        assert!(tpkt_length(b"HTTP/1.1 400 Bad Request\r\n").is_err());
        assert_eq!(tpkt_length(&[3, 0]), Ok(None));
        assert_eq!(tpkt_length(&[3, 0, 0, 19]), Ok(Some(19)));
    }
}
