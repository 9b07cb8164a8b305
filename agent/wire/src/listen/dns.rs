//! The DNS message format (RFC 1035) as mDNS and the NetBIOS name service use it.
//!
//! Names may be compressed; a pointer must point before the name that uses it, so a
//! loop of pointers cannot exist, and a name is at most 255 bytes. Questions and
//! records are read up to [`MAX_RECORDS`] in all. Record data kenshin reads is
//! decoded (A, AAAA, PTR, SRV, TXT, HINFO, NB); other types are kept as their number.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{array16, text};
use crate::reader::{DecodeError, Reader};

/// The most questions and records, together, read from one message.
pub const MAX_RECORDS: usize = 128;
/// The longest name, as on the wire.
pub const MAX_NAME: usize = 255;
/// The most TXT strings kept from one record.
pub const MAX_TXT: usize = 32;

pub const TYPE_A: u16 = 1;
pub const TYPE_PTR: u16 = 12;
pub const TYPE_HINFO: u16 = 13;
pub const TYPE_TXT: u16 = 16;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_NB: u16 = 32;
pub const TYPE_SRV: u16 = 33;

/// A question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub name: Name,
    pub rtype: u16,
}

/// A name as its labels, bytes kept (NetBIOS names are encoded in them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name(pub Vec<Vec<u8>>);

impl Name {
    /// The name in dotted form, labels as printable text.
    pub fn dotted(&self) -> String {
        self.0.iter().map(|l| text(l)).collect::<Vec<_>>().join(".")
    }
}

/// What a record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    Address(IpAddr),
    Pointer(Name),
    Service {
        port: u16,
        target: Name,
    },
    Text(Vec<String>),
    HostInfo {
        cpu: String,
        os: String,
    },
    /// NetBIOS NB: the owner's addresses.
    NetBios(Vec<Ipv4Addr>),
    Other,
}

/// A resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: Name,
    pub rtype: u16,
    pub data: Data,
}

/// A DNS message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub id: u16,
    pub flags: u16,
    pub questions: Vec<Question>,
    /// Answers, authority and additional records, in that order.
    pub records: Vec<Record>,
}

impl Message {
    /// True for a response (QR bit).
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// The opcode (NetBIOS: 0 query, 5 registration, 6 release, 8 refresh …).
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }
}

/// Decodes a DNS message.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Reader::new(bytes);
    let id = r.u16_be("dns id")?;
    let flags = r.u16_be("dns flags")?;
    let qd = usize::from(r.u16_be("dns question count")?);
    let rr: usize = [
        r.u16_be("dns answer count")?,
        r.u16_be("dns authority count")?,
        r.u16_be("dns additional count")?,
    ]
    .iter()
    .map(|c| usize::from(*c))
    .sum();
    if qd + rr > MAX_RECORDS {
        return Err(DecodeError::TooLarge {
            field: "dns records",
            value: qd + rr,
            limit: MAX_RECORDS,
        });
    }
    let mut msg = Message {
        id,
        flags,
        ..Message::default()
    };
    for _ in 0..qd {
        let name = name(bytes, &mut r)?;
        let rtype = r.u16_be("dns question type")?;
        r.u16_be("dns question class")?;
        msg.questions.push(Question { name, rtype });
    }
    for _ in 0..rr {
        let owner = name(bytes, &mut r)?;
        let rtype = r.u16_be("dns record type")?;
        r.u16_be("dns record class")?;
        r.u32_be("dns record ttl")?;
        let len = usize::from(r.u16_be("dns record length")?);
        let start = r.position();
        let mut rd = r.sub(len, "dns record data")?;
        let data = match rtype {
            TYPE_A if len == 4 => Data::Address(IpAddr::V4(Ipv4Addr::from(rd.u32_be("a")?))),
            TYPE_AAAA if len == 16 => {
                Data::Address(IpAddr::V6(Ipv6Addr::from(array16(rd.take(16, "aaaa")?))))
            }
            TYPE_PTR => Data::Pointer(name_at(bytes, start, "dns ptr")?),
            TYPE_SRV => {
                rd.u16_be("srv priority")?;
                rd.u16_be("srv weight")?;
                let port = rd.u16_be("srv port")?;
                Data::Service {
                    port,
                    target: name_at(bytes, start + 6, "dns srv target")?,
                }
            }
            TYPE_TXT => {
                let mut strings = Vec::new();
                while !rd.is_empty() {
                    let n = usize::from(rd.u8("txt length")?);
                    let s = rd.take(n, "txt string")?;
                    if strings.len() < MAX_TXT && !s.is_empty() {
                        strings.push(text(s));
                    }
                }
                Data::Text(strings)
            }
            TYPE_HINFO => {
                let n = usize::from(rd.u8("hinfo cpu length")?);
                let cpu = text(rd.take(n, "hinfo cpu")?);
                let n = usize::from(rd.u8("hinfo os length")?);
                let os = text(rd.take(n, "hinfo os")?);
                Data::HostInfo { cpu, os }
            }
            TYPE_NB => {
                let mut addrs = Vec::new();
                while rd.remaining() >= 6 {
                    rd.u16_be("nb flags")?;
                    let a = Ipv4Addr::from(rd.u32_be("nb address")?);
                    if addrs.len() < 8 {
                        addrs.push(a);
                    }
                }
                Data::NetBios(addrs)
            }
            _ => Data::Other,
        };
        msg.records.push(Record {
            name: owner,
            rtype,
            data,
        });
    }
    Ok(msg)
}

/// Reads the name at the reader's position and moves past it.
fn name(message: &[u8], r: &mut Reader<'_>) -> Result<Name, DecodeError> {
    let (name, end) = read_name(message, r.position(), "dns name")?;
    r.take(end - r.position(), "dns name")?;
    Ok(name)
}

/// Reads the name starting at `at` in the whole message.
fn name_at(message: &[u8], at: usize, field: &'static str) -> Result<Name, DecodeError> {
    read_name(message, at, field).map(|(n, _)| n)
}

/// The name at `at`, and where the bytes of its first part end in the message.
fn read_name(message: &[u8], at: usize, field: &'static str) -> Result<(Name, usize), DecodeError> {
    let mut labels = Vec::new();
    let mut total = 0usize;
    let mut pos = at;
    let mut end = None;
    // Every pointer must go strictly backwards, so this loop ends.
    let mut floor = at;
    loop {
        let mut r = Reader::new(message);
        r.take(pos, field)?;
        let len = r.u8(field)?;
        match len {
            0 => {
                return Ok((Name(labels), end.unwrap_or(pos + 1)));
            }
            1..=63 => {
                let label = r.take(usize::from(len), field)?;
                total += usize::from(len) + 1;
                if total > MAX_NAME {
                    return Err(DecodeError::TooLarge {
                        field,
                        value: total,
                        limit: MAX_NAME,
                    });
                }
                labels.push(label.to_vec());
                pos += 1 + usize::from(len);
            }
            0xc0..=0xff => {
                let low = r.u8(field)?;
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                if target >= floor {
                    return Err(DecodeError::Invalid {
                        field,
                        reason: "compression pointer does not point backwards",
                    });
                }
                end.get_or_insert(pos + 2);
                floor = target;
                pos = target;
            }
            _ => {
                return Err(DecodeError::Invalid {
                    field,
                    reason: "reserved label type",
                })
            }
        }
    }
}
