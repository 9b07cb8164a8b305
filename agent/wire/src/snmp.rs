//! SNMP v1 and v2c messages (RFC 1157, RFC 3416): GetRequest encoding and
//! response decoding.
//!
//! kenshin sends exactly one kind of SNMP message: a GetRequest for a few
//! well-known system OIDs (sysDescr, sysObjectID, sysName, sysUpTime) with the
//! configured community. The decoder accepts any PDU type and any value type,
//! keeping unknown ones as raw values, and rejects trailing bytes.

use crate::ber::{self, tag};
use crate::reader::{DecodeError, Reader};

/// Largest SNMP datagram kenshin will decode (RFC 3417 asks agents to accept 484; replies
/// are usually under 1500).
pub const MAX_MESSAGE: usize = 8192;
/// Most variable bindings decoded from one message.
pub const MAX_VARBINDS: usize = 64;

/// OIDs of the MIB-2 system group that kenshin asks for.
pub mod oid {
    pub const SYS_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 1, 0];
    pub const SYS_OBJECT_ID: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 2, 0];
    pub const SYS_UPTIME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
    pub const SYS_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 5, 0];
}

/// The message version field: 0 is SNMPv1, 1 is SNMPv2c; other values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(pub i64);

impl Version {
    pub const V1: Version = Version(0);
    pub const V2C: Version = Version(1);

    /// The conventional name, or `None` for a value kenshin does not know.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("v1"),
            1 => Some("v2c"),
            3 => Some("v3"),
            _ => None,
        }
    }
}

/// The PDU's context tag (0xa0 GetRequest, 0xa2 Response, …); unknown tags are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PduType(pub u8);

impl PduType {
    pub const GET_REQUEST: PduType = PduType(0xa0);
    pub const GET_NEXT_REQUEST: PduType = PduType(0xa1);
    pub const RESPONSE: PduType = PduType(0xa2);
    pub const SET_REQUEST: PduType = PduType(0xa3);
    pub const TRAP_V1: PduType = PduType(0xa4);
    pub const GET_BULK_REQUEST: PduType = PduType(0xa5);
    pub const REPORT: PduType = PduType(0xa8);
}

/// The PDU error-status; unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorStatus(pub i64);

impl ErrorStatus {
    pub const NO_ERROR: ErrorStatus = ErrorStatus(0);

    /// RFC 3416 name of the status, or `None` when unknown.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 19] = [
            "noError",
            "tooBig",
            "noSuchName",
            "badValue",
            "readOnly",
            "genErr",
            "noAccess",
            "wrongType",
            "wrongLength",
            "wrongEncoding",
            "wrongValue",
            "noCreation",
            "inconsistentValue",
            "resourceUnavailable",
            "commitFailed",
            "undoFailed",
            "authorizationError",
            "notWritable",
            "inconsistentName",
        ];
        usize::try_from(self.0)
            .ok()
            .and_then(|i| NAMES.get(i).copied())
    }
}

/// A variable-binding value; types kenshin does not know are kept raw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value {
    Integer(i64),
    OctetString(Vec<u8>),
    Null,
    Oid(Vec<u32>),
    IpAddress([u8; 4]),
    Counter32(u64),
    Gauge32(u64),
    TimeTicks(u64),
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
    Other { tag: u8, content: Vec<u8> },
}

impl Value {
    /// A readable rendering: text for printable octet strings, dotted OIDs, numbers.
    pub fn display(&self) -> String {
        match self {
            Value::Integer(v) => v.to_string(),
            Value::OctetString(b) | Value::Opaque(b) => String::from_utf8_lossy(b).into_owned(),
            Value::Null => "null".to_owned(),
            Value::Oid(arcs) => dotted(arcs),
            Value::IpAddress(a) => format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
            Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) | Value::Counter64(v) => {
                v.to_string()
            }
            Value::NoSuchObject => "noSuchObject".to_owned(),
            Value::NoSuchInstance => "noSuchInstance".to_owned(),
            Value::EndOfMibView => "endOfMibView".to_owned(),
            Value::Other { tag, content } => format!("tag 0x{tag:02x}, {} bytes", content.len()),
        }
    }
}

/// Renders OID arcs as `1.3.6.1…`.
pub fn dotted(arcs: &[u32]) -> String {
    arcs.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// One variable binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarBind {
    pub oid: Vec<u32>,
    pub value: Value,
}

/// A decoded SNMP v1/v2c message (any PDU type except the v1 Trap layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub version: Version,
    pub community: Vec<u8>,
    pub pdu_type: PduType,
    pub request_id: i64,
    pub error_status: ErrorStatus,
    pub error_index: i64,
    pub varbinds: Vec<VarBind>,
}

impl Message {
    /// The value bound to `oid`, if the message carries it.
    pub fn value_of(&self, oid: &[u32]) -> Option<&Value> {
        self.varbinds
            .iter()
            .find(|vb| vb.oid == oid)
            .map(|vb| &vb.value)
    }
}

/// Encodes a GetRequest for `oids`. Returns `None` when an OID cannot be encoded
/// or the community is longer than 255 bytes.
pub fn encode_get_request(
    version: Version,
    community: &[u8],
    request_id: i32,
    oids: &[&[u32]],
) -> Option<Vec<u8>> {
    if community.len() > 255 {
        return None;
    }
    let mut varbinds = Vec::new();
    for arcs in oids {
        let mut vb = Vec::new();
        ber::write_tlv(&mut vb, tag::OID, &ber::encode_oid(arcs)?);
        ber::write_tlv(&mut vb, tag::NULL, &[]);
        ber::write_tlv(&mut varbinds, tag::SEQUENCE, &vb);
    }
    let mut pdu = Vec::new();
    ber::write_tlv(
        &mut pdu,
        tag::INTEGER,
        &ber::encode_integer(request_id.into()),
    );
    ber::write_tlv(&mut pdu, tag::INTEGER, &[0]);
    ber::write_tlv(&mut pdu, tag::INTEGER, &[0]);
    ber::write_tlv(&mut pdu, tag::SEQUENCE, &varbinds);
    let mut body = Vec::new();
    ber::write_tlv(&mut body, tag::INTEGER, &ber::encode_integer(version.0));
    ber::write_tlv(&mut body, tag::OCTET_STRING, community);
    ber::write_tlv(&mut body, PduType::GET_REQUEST.0, &pdu);
    let mut out = Vec::new();
    ber::write_tlv(&mut out, tag::SEQUENCE, &body);
    Some(out)
}

/// Decodes one SNMP v1/v2c message. Trailing bytes after the message are rejected.
pub fn decode_message(bytes: &[u8]) -> Result<Message, DecodeError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(DecodeError::TooLarge {
            field: "snmp message",
            value: bytes.len(),
            limit: MAX_MESSAGE,
        });
    }
    let mut outer = Reader::new(bytes);
    let mut msg = Reader::new(ber::expect_tlv(&mut outer, tag::SEQUENCE, "snmp message")?);
    outer.expect_end("snmp message")?;

    let version = Version(ber::decode_integer(
        ber::expect_tlv(&mut msg, tag::INTEGER, "snmp version")?,
        "snmp version",
    )?);
    let community = ber::expect_tlv(&mut msg, tag::OCTET_STRING, "snmp community")?.to_vec();
    let pdu = ber::read_tlv(&mut msg, "snmp pdu")?;
    msg.expect_end("snmp message body")?;
    if pdu.tag & 0xe0 != 0xa0 || pdu.tag == PduType::TRAP_V1.0 {
        return Err(DecodeError::Invalid {
            field: "snmp pdu",
            reason: "not a request or response PDU",
        });
    }
    let mut p = Reader::new(pdu.content);
    let request_id = int_field(&mut p, "snmp request-id")?;
    let error_status = ErrorStatus(int_field(&mut p, "snmp error-status")?);
    let error_index = int_field(&mut p, "snmp error-index")?;
    let mut list = Reader::new(ber::expect_tlv(&mut p, tag::SEQUENCE, "snmp varbind list")?);
    p.expect_end("snmp pdu")?;

    let mut varbinds = Vec::new();
    while !list.is_empty() {
        if varbinds.len() == MAX_VARBINDS {
            return Err(DecodeError::TooLarge {
                field: "snmp varbind list",
                value: varbinds.len() + 1,
                limit: MAX_VARBINDS,
            });
        }
        let mut vb = Reader::new(ber::expect_tlv(&mut list, tag::SEQUENCE, "snmp varbind")?);
        let oid = ber::decode_oid(
            ber::expect_tlv(&mut vb, tag::OID, "snmp varbind name")?,
            "snmp varbind name",
        )?;
        let value = decode_value(ber::read_tlv(&mut vb, "snmp varbind value")?)?;
        vb.expect_end("snmp varbind")?;
        varbinds.push(VarBind { oid, value });
    }
    Ok(Message {
        version,
        community,
        pdu_type: PduType(pdu.tag),
        request_id,
        error_status,
        error_index,
        varbinds,
    })
}

fn int_field(r: &mut Reader<'_>, field: &'static str) -> Result<i64, DecodeError> {
    ber::decode_integer(ber::expect_tlv(r, tag::INTEGER, field)?, field)
}

fn decode_value(tlv: ber::Tlv<'_>) -> Result<Value, DecodeError> {
    const F: &str = "snmp varbind value";
    let c = tlv.content;
    Ok(match tlv.tag {
        tag::INTEGER => Value::Integer(ber::decode_integer(c, F)?),
        tag::OCTET_STRING => Value::OctetString(c.to_vec()),
        tag::NULL if c.is_empty() => Value::Null,
        tag::OID => Value::Oid(ber::decode_oid(c, F)?),
        tag::IP_ADDRESS => match <[u8; 4]>::try_from(c) {
            Ok(a) => Value::IpAddress(a),
            Err(_) => {
                return Err(DecodeError::Invalid {
                    field: F,
                    reason: "IpAddress must be 4 octets",
                })
            }
        },
        tag::COUNTER32 => Value::Counter32(ber::decode_unsigned(c, F)?),
        tag::GAUGE32 => Value::Gauge32(ber::decode_unsigned(c, F)?),
        tag::TIMETICKS => Value::TimeTicks(ber::decode_unsigned(c, F)?),
        tag::OPAQUE => Value::Opaque(c.to_vec()),
        tag::COUNTER64 => Value::Counter64(ber::decode_unsigned(c, F)?),
        tag::NO_SUCH_OBJECT if c.is_empty() => Value::NoSuchObject,
        tag::NO_SUCH_INSTANCE if c.is_empty() => Value::NoSuchInstance,
        tag::END_OF_MIB_VIEW if c.is_empty() => Value::EndOfMibView,
        other => Value::Other {
            tag: other,
            content: c.to_vec(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GetRequest for sysDescr.0 with community "public", as net-snmp's
    /// `snmpget -v2c -c public HOST 1.3.6.1.2.1.1.1.0` sends it (request-id 0x1234),
    /// followed by two stray bytes.
    const GET_SYS_DESCR: &[u8] = &[
        0x30, 0x27, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0, 0x1a,
        0x02, 0x02, 0x12, 0x34, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06,
        0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00, 0x30, 0x00,
    ];

    /// A reply from net-snmp 5.9 on Debian 12 (sysDescr shortened).
    const RESPONSE_SYS_DESCR: &[u8] = &[
        0x30, 0x39, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa2, 0x2c,
        0x02, 0x02, 0x12, 0x34, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x20, 0x30, 0x1e, 0x06,
        0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x04, 0x12, b'L', b'i', b'n', b'u',
        b'x', b' ', b'l', b'a', b'b', b'-', b's', b'n', b'm', b'p', b' ', b'6', b'.', b'1',
    ];

    #[test]
    fn get_request_for_sys_descr_is_encoded_as_net_snmp_sends_it() {
        // The constant carries a stray empty SEQUENCE after the message, so that the
        // decoder's trailing-byte check is exercised below; the request itself is the rest.
        let expected = &GET_SYS_DESCR[..GET_SYS_DESCR.len() - 2];
        let enc = encode_get_request(Version::V2C, b"public", 0x1234, &[oid::SYS_DESCR])
            .expect("encodable");
        assert_eq!(enc, expected);
    }

    #[test]
    fn a_response_is_decoded_with_its_sys_descr() {
        let msg = decode_message(RESPONSE_SYS_DESCR).expect("valid response");
        assert_eq!(msg.version, Version::V2C);
        assert_eq!(msg.community, b"public");
        assert_eq!(msg.pdu_type, PduType::RESPONSE);
        assert_eq!(msg.request_id, 0x1234);
        assert_eq!(msg.error_status, ErrorStatus::NO_ERROR);
        assert_eq!(
            msg.value_of(oid::SYS_DESCR).map(Value::display).as_deref(),
            Some("Linux lab-snmp 6.1")
        );
    }

    #[test]
    fn an_encoded_request_decodes_to_what_was_asked() {
        let enc = encode_get_request(
            Version::V1,
            b"c",
            -7,
            &[oid::SYS_DESCR, oid::SYS_NAME, oid::SYS_UPTIME],
        )
        .expect("encodable");
        let msg = decode_message(&enc).expect("round trip");
        assert_eq!(msg.pdu_type, PduType::GET_REQUEST);
        assert_eq!(msg.request_id, -7);
        assert_eq!(msg.varbinds.len(), 3);
        assert!(msg.varbinds.iter().all(|vb| vb.value == Value::Null));
    }

    #[test]
    fn every_truncation_of_a_response_is_rejected() {
        for len in 0..RESPONSE_SYS_DESCR.len() {
            assert!(
                decode_message(&RESPONSE_SYS_DESCR[..len]).is_err(),
                "a response cut to {len} bytes was accepted"
            );
        }
    }

    #[test]
    fn a_message_followed_by_stray_bytes_is_rejected() {
        assert!(decode_message(GET_SYS_DESCR).is_err());
    }

    #[test]
    fn unknown_value_types_are_kept_not_refused() {
        let mut vb = Vec::new();
        ber::write_tlv(&mut vb, tag::OID, &[0x2b, 6, 1]);
        ber::write_tlv(&mut vb, 0x47, &[1, 2, 3]);
        let mut list = Vec::new();
        ber::write_tlv(&mut list, tag::SEQUENCE, &vb);
        let mut pdu = Vec::new();
        for _ in 0..3 {
            ber::write_tlv(&mut pdu, tag::INTEGER, &[0]);
        }
        ber::write_tlv(&mut pdu, tag::SEQUENCE, &list);
        let mut body = Vec::new();
        ber::write_tlv(&mut body, tag::INTEGER, &[1]);
        ber::write_tlv(&mut body, tag::OCTET_STRING, b"x");
        ber::write_tlv(&mut body, 0xa2, &pdu);
        let mut msg = Vec::new();
        ber::write_tlv(&mut msg, tag::SEQUENCE, &body);
        let decoded = decode_message(&msg).expect("unknown value type is kept");
        assert_eq!(
            decoded.varbinds[0].value,
            Value::Other {
                tag: 0x47,
                content: vec![1, 2, 3]
            }
        );
    }

    #[test]
    fn error_status_names_follow_rfc_3416() {
        assert_eq!(ErrorStatus(2).name(), Some("noSuchName"));
        assert_eq!(ErrorStatus(99).name(), None);
        assert_eq!(ErrorStatus(-1).name(), None);
    }
}
