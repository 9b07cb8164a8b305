//! The subset of ASN.1 BER (X.690) that SNMP v1/v2c needs.
//!
//! Decoding accepts definite lengths only (short form, or long form of at most
//! four length octets, as SNMP agents send) and bounds every element by the
//! bytes that are really there. Encoding always produces the shortest
//! definite-length form.

use crate::reader::{DecodeError, Reader};

/// Universal and SNMP application tags used by kenshin.
pub mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const SEQUENCE: u8 = 0x30;
    pub const IP_ADDRESS: u8 = 0x40;
    pub const COUNTER32: u8 = 0x41;
    pub const GAUGE32: u8 = 0x42;
    pub const TIMETICKS: u8 = 0x43;
    pub const OPAQUE: u8 = 0x44;
    pub const COUNTER64: u8 = 0x46;
    pub const NO_SUCH_OBJECT: u8 = 0x80;
    pub const NO_SUCH_INSTANCE: u8 = 0x81;
    pub const END_OF_MIB_VIEW: u8 = 0x82;
}

/// Longest element content kenshin accepts (SNMP messages are far smaller).
pub const MAX_CONTENT: usize = 65_535;
/// Most sub-identifiers accepted in one OID (RFC 2578 allows 128).
pub const MAX_OID_ARCS: usize = 128;

/// One decoded tag-length-value element; `content` borrows from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
}

/// Reads one element's tag, length and content.
pub fn read_tlv<'a>(r: &mut Reader<'a>, field: &'static str) -> Result<Tlv<'a>, DecodeError> {
    let tag = r.u8(field)?;
    if tag & 0x1f == 0x1f {
        return Err(DecodeError::Invalid {
            field,
            reason: "multi-byte tags are not used by SNMP",
        });
    }
    let len = read_length(r, field)?;
    let content = r.take(len, field)?;
    Ok(Tlv { tag, content })
}

/// Reads one element and checks its tag.
pub fn expect_tlv<'a>(
    r: &mut Reader<'a>,
    want: u8,
    field: &'static str,
) -> Result<&'a [u8], DecodeError> {
    let tlv = read_tlv(r, field)?;
    if tlv.tag != want {
        return Err(DecodeError::Invalid {
            field,
            reason: "unexpected tag",
        });
    }
    Ok(tlv.content)
}

fn read_length(r: &mut Reader<'_>, field: &'static str) -> Result<usize, DecodeError> {
    let first = r.u8(field)?;
    if first < 0x80 {
        return Ok(usize::from(first));
    }
    let octets = usize::from(first & 0x7f);
    if octets == 0 {
        return Err(DecodeError::Invalid {
            field,
            reason: "indefinite length is not allowed",
        });
    }
    if octets > 4 {
        return Err(DecodeError::TooLarge {
            field,
            value: octets,
            limit: 4,
        });
    }
    let mut len = 0usize;
    for &b in r.take(octets, field)? {
        len = (len << 8) | usize::from(b);
    }
    if len > MAX_CONTENT {
        return Err(DecodeError::TooLarge {
            field,
            value: len,
            limit: MAX_CONTENT,
        });
    }
    Ok(len)
}

/// Decodes a two's-complement INTEGER content of at most 8 bytes.
pub fn decode_integer(content: &[u8], field: &'static str) -> Result<i64, DecodeError> {
    if content.is_empty() {
        return Err(DecodeError::Invalid {
            field,
            reason: "empty integer",
        });
    }
    if content.len() > 8 {
        return Err(DecodeError::TooLarge {
            field,
            value: content.len(),
            limit: 8,
        });
    }
    let negative = content[0] & 0x80 != 0;
    let mut v: i64 = if negative { -1 } else { 0 };
    for &b in content {
        v = (v << 8) | i64::from(b);
    }
    Ok(v)
}

/// Decodes an unsigned application integer (Counter32, Gauge32, TimeTicks, Counter64).
pub fn decode_unsigned(content: &[u8], field: &'static str) -> Result<u64, DecodeError> {
    // A leading zero octet is allowed so that values with the top bit set stay positive.
    let digits = match content {
        [0, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    };
    if digits.is_empty() || digits.len() > 8 {
        return Err(DecodeError::Invalid {
            field,
            reason: "unsigned integer must have 1 to 8 value octets",
        });
    }
    Ok(digits.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
}

/// Decodes OBJECT IDENTIFIER content into its arcs.
pub fn decode_oid(content: &[u8], field: &'static str) -> Result<Vec<u32>, DecodeError> {
    if content.is_empty() {
        return Err(DecodeError::Invalid {
            field,
            reason: "empty object identifier",
        });
    }
    let mut arcs = Vec::with_capacity(content.len() + 1);
    let mut value: u32 = 0;
    let mut in_arc = false;
    for &b in content {
        if !in_arc && b == 0x80 {
            return Err(DecodeError::Invalid {
                field,
                reason: "sub-identifier has a leading 0x80 octet",
            });
        }
        if value > (u32::MAX >> 7) {
            return Err(DecodeError::Invalid {
                field,
                reason: "sub-identifier overflows 32 bits",
            });
        }
        value = (value << 7) | u32::from(b & 0x7f);
        in_arc = b & 0x80 != 0;
        if !in_arc {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
            if arcs.len() > MAX_OID_ARCS {
                return Err(DecodeError::TooLarge {
                    field,
                    value: arcs.len(),
                    limit: MAX_OID_ARCS,
                });
            }
        }
    }
    if in_arc {
        return Err(DecodeError::Truncated {
            field,
            needed: 1,
            available: 0,
        });
    }
    Ok(arcs)
}

/// Appends one element with the shortest definite length.
pub fn write_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// Encodes an INTEGER's content in the fewest two's-complement octets.
pub fn encode_integer(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        let redundant = (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes[start..].to_vec()
}

/// Encodes OBJECT IDENTIFIER content. Returns `None` for an OID BER cannot hold
/// (fewer than two arcs, first arc above 2, second arc above 39 under arc 0 or 1).
pub fn encode_oid(arcs: &[u32]) -> Option<Vec<u8>> {
    let (&a, &b) = (arcs.first()?, arcs.get(1)?);
    if a > 2 || (a < 2 && b > 39) {
        return None;
    }
    let mut out = Vec::new();
    let first = a.checked_mul(40)?.checked_add(b)?;
    for arc in std::iter::once(first).chain(arcs[2..].iter().copied()) {
        let mut groups = [0u8; 5];
        let mut n = 0;
        let mut v = arc;
        loop {
            groups[n] = (v & 0x7f) as u8;
            n += 1;
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        for i in (0..n).rev() {
            out.push(groups[i] | if i > 0 { 0x80 } else { 0 });
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_in_their_shortest_form() {
        for (v, bytes) in [
            (0i64, &[0x00][..]),
            (127, &[0x7f]),
            (128, &[0x00, 0x80]),
            (-1, &[0xff]),
            (-129, &[0xff, 0x7f]),
            (0x1234_5678, &[0x12, 0x34, 0x56, 0x78]),
        ] {
            assert_eq!(encode_integer(v), bytes, "encoding {v}");
            assert_eq!(decode_integer(bytes, "t"), Ok(v), "decoding {v}");
        }
    }

    #[test]
    fn sys_descr_oid_round_trips() {
        let arcs = [1, 3, 6, 1, 2, 1, 1, 1, 0];
        let enc = encode_oid(&arcs).expect("valid oid");
        assert_eq!(enc, [0x2b, 6, 1, 2, 1, 1, 1, 0]);
        assert_eq!(decode_oid(&enc, "t"), Ok(arcs.to_vec()));
    }

    #[test]
    fn large_arcs_use_base_128_groups() {
        let arcs = [1, 3, 6, 1, 4, 1, 311, 4_294_967_295];
        let enc = encode_oid(&arcs).expect("valid oid");
        assert_eq!(decode_oid(&enc, "t"), Ok(arcs.to_vec()));
    }

    #[test]
    fn long_form_lengths_are_read_and_indefinite_lengths_refused() {
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(b'a', 0x80));
        let tlv = read_tlv(&mut Reader::new(&long), "t").expect("valid long form");
        assert_eq!(tlv.content.len(), 0x80);
        assert!(read_tlv(&mut Reader::new(&[0x30, 0x80, 0, 0]), "t").is_err());
        assert!(read_tlv(&mut Reader::new(&[0x04, 0x85, 1, 1, 1, 1, 1]), "t").is_err());
    }

    #[test]
    fn an_oid_ending_mid_arc_is_truncated() {
        assert!(matches!(
            decode_oid(&[0x2b, 0x86], "t"),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn write_tlv_uses_long_form_past_127_bytes() {
        let mut out = Vec::new();
        write_tlv(&mut out, 0x04, &[0u8; 300]);
        assert_eq!(&out[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
