//! NTLMSSP ([MS-NLMP]) as far as an anonymous identification needs it: the
//! NEGOTIATE message a client opens with, wrapped in SPNEGO, and the server's
//! CHALLENGE, whose VERSION field carries the Windows build and whose target
//! information names the computer and domain. No credentials are involved:
//! kenshin stops after the CHALLENGE and never sends an AUTHENTICATE.

use crate::reader::{DecodeError, Reader};

/// `NTLMSSP\0`.
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NEGOTIATE_NTLM: u32 = 0x0000_0200;
const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
const NEGOTIATE_VERSION: u32 = 0x0200_0000;
const NEGOTIATE_128: u32 = 0x2000_0000;
const NEGOTIATE_56: u32 = 0x8000_0000;

/// The most target-information pairs read.
pub const MAX_AV_PAIRS: usize = 32;

/// An NTLMSSP NEGOTIATE message asking for the target name and version.
pub fn encode_negotiate() -> Vec<u8> {
    let flags = NEGOTIATE_UNICODE
        | REQUEST_TARGET
        | NEGOTIATE_NTLM
        | NEGOTIATE_ALWAYS_SIGN
        | NEGOTIATE_EXTENDED_SESSIONSECURITY
        | NEGOTIATE_VERSION
        | NEGOTIATE_128
        | NEGOTIATE_56;
    let mut out = Vec::with_capacity(40);
    out.extend(SIGNATURE);
    out.extend(1u32.to_le_bytes());
    out.extend(flags.to_le_bytes());
    out.extend([0u8; 8]); // domain name fields: none
    out.extend([0u8; 8]); // workstation fields: none
                          // Version is only for debugging ([MS-NLMP] 2.2.2.10); kenshin sends zeros and
                          // the current revision.
    out.extend([0, 0, 0, 0, 0, 0, 0, 0x0f]);
    out
}

fn der_len(len: usize) -> Vec<u8> {
    match len {
        0..=0x7f => vec![len as u8],
        0x80..=0xff => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}

fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(body.len()));
    out.extend(body);
    out
}

/// SPNEGO (RFC 4178) NegTokenInit offering NTLMSSP only, carrying `token`.
pub fn spnego_init(token: &[u8]) -> Vec<u8> {
    const SPNEGO_OID: [u8; 6] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
    const NTLMSSP_OID: [u8; 10] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
    let mech_types = der(0xa0, &der(0x30, &der(0x06, &NTLMSSP_OID)));
    let mech_token = der(0xa2, &der(0x04, token));
    let init = der(0xa0, &der(0x30, &[mech_types, mech_token].concat()));
    der(0x60, &[der(0x06, &SPNEGO_OID), init].concat())
}

/// What a CHALLENGE says about the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge {
    pub flags: u32,
    pub target_name: Option<String>,
    /// (major, minor, build, NTLM revision) when the server sent a VERSION.
    pub version: Option<(u8, u8, u16, u8)>,
    pub netbios_computer: Option<String>,
    pub netbios_domain: Option<String>,
    pub dns_computer: Option<String>,
    pub dns_domain: Option<String>,
    pub dns_tree: Option<String>,
    /// The server's clock (FILETIME) when it sent one.
    pub timestamp: Option<u64>,
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// The bytes a (length, max length, offset) field points to inside `msg`.
fn field<'a>(
    msg: &'a [u8],
    r: &mut Reader<'_>,
    name: &'static str,
) -> Result<&'a [u8], DecodeError> {
    let len = usize::from(r.u16_le(name)?);
    let _max = r.u16_le(name)?;
    let offset = r.u32_le(name)? as usize;
    if len == 0 {
        return Ok(&[]);
    }
    msg.get(offset..offset.saturating_add(len))
        .ok_or(DecodeError::Invalid {
            field: name,
            reason: "points outside the message",
        })
}

/// Finds an NTLMSSP message inside a security blob (SPNEGO or raw) and decodes it as a
/// CHALLENGE.
pub fn find_challenge(blob: &[u8]) -> Result<Challenge, DecodeError> {
    let at = blob
        .windows(SIGNATURE.len())
        .position(|w| w == SIGNATURE)
        .ok_or(DecodeError::Invalid {
            field: "ntlmssp",
            reason: "no NTLMSSP message in the security blob",
        })?;
    decode_challenge(&blob[at..])
}

/// Decodes a CHALLENGE message starting at its signature. Bytes after the message's
/// last field are allowed: the message has no length of its own.
pub fn decode_challenge(msg: &[u8]) -> Result<Challenge, DecodeError> {
    let mut r = Reader::new(msg);
    if r.take(8, "ntlmssp signature")? != SIGNATURE {
        return Err(DecodeError::Invalid {
            field: "ntlmssp signature",
            reason: "not NTLMSSP",
        });
    }
    if r.u32_le("ntlmssp message type")? != 2 {
        return Err(DecodeError::Invalid {
            field: "ntlmssp message type",
            reason: "not a CHALLENGE (2)",
        });
    }
    let target = field(msg, &mut r, "ntlmssp target name")?;
    let flags = r.u32_le("ntlmssp flags")?;
    r.take(8, "ntlmssp server challenge")?;
    r.take(8, "ntlmssp reserved")?;
    let mut out = Challenge {
        flags,
        ..Challenge::default()
    };
    if !target.is_empty() {
        out.target_name = Some(utf16(target));
    }
    // Target info and version follow in messages from NTLMv2-era servers.
    if r.remaining() >= 8 {
        let info = field(msg, &mut r, "ntlmssp target info")?;
        read_av_pairs(info, &mut out)?;
    }
    if flags & NEGOTIATE_VERSION != 0 && r.remaining() >= 8 {
        let v = r.take(8, "ntlmssp version")?;
        out.version = Some((v[0], v[1], u16::from_le_bytes([v[2], v[3]]), v[7]));
    }
    Ok(out)
}

fn read_av_pairs(info: &[u8], out: &mut Challenge) -> Result<(), DecodeError> {
    let mut r = Reader::new(info);
    for _ in 0..MAX_AV_PAIRS {
        if r.remaining() < 4 {
            return Ok(());
        }
        let id = r.u16_le("ntlmssp av id")?;
        let len = usize::from(r.u16_le("ntlmssp av length")?);
        let value = r.take(len, "ntlmssp av value")?;
        match id {
            0 => return Ok(()),
            1 => out.netbios_computer = Some(utf16(value)),
            2 => out.netbios_domain = Some(utf16(value)),
            3 => out.dns_computer = Some(utf16(value)),
            4 => out.dns_domain = Some(utf16(value)),
            5 => out.dns_tree = Some(utf16(value)),
            7 if len == 8 => {
                let mut t = Reader::new(value);
                out.timestamp = Some(t.u64_le("ntlmssp timestamp")?);
            }
            _ => {}
        }
    }
    Err(DecodeError::TooLarge {
        field: "ntlmssp target info",
        value: MAX_AV_PAIRS + 1,
        limit: MAX_AV_PAIRS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// A CHALLENGE laid out as [MS-NLMP] 2.2.1.2 describes, from a Windows Server 2019
    /// (10.0 build 17763) named LAB-DC in domain LAB.
    fn challenge() -> Vec<u8> {
        let target = utf16le("LAB");
        let mut info = Vec::new();
        for (id, v) in [
            (2u16, "LAB"),
            (1, "LAB-DC"),
            (4, "lab.example"),
            (3, "lab-dc.lab.example"),
        ] {
            let b = utf16le(v);
            info.extend(id.to_le_bytes());
            info.extend((b.len() as u16).to_le_bytes());
            info.extend(b);
        }
        info.extend([7, 0, 8, 0]);
        info.extend(133_000_000_000_000_000u64.to_le_bytes());
        info.extend([0, 0, 0, 0]);
        let header = 56;
        let mut m = Vec::new();
        m.extend(SIGNATURE);
        m.extend(2u32.to_le_bytes());
        m.extend((target.len() as u16).to_le_bytes());
        m.extend((target.len() as u16).to_le_bytes());
        m.extend((header as u32).to_le_bytes());
        m.extend((NEGOTIATE_UNICODE | NEGOTIATE_VERSION | 0x0080_0000).to_le_bytes());
        m.extend([0x11; 8]);
        m.extend([0; 8]);
        m.extend((info.len() as u16).to_le_bytes());
        m.extend((info.len() as u16).to_le_bytes());
        m.extend(((header + target.len()) as u32).to_le_bytes());
        m.extend([10, 0, 0x63, 0x45, 0, 0, 0, 0x0f]);
        m.extend(target);
        m.extend(info);
        m
    }

    #[test]
    fn a_windows_challenge_names_its_build_computer_and_domain() {
        let c = decode_challenge(&challenge()).expect("decodes");
        assert_eq!(c.version, Some((10, 0, 17763, 15)));
        assert_eq!(c.target_name.as_deref(), Some("LAB"));
        assert_eq!(c.netbios_computer.as_deref(), Some("LAB-DC"));
        assert_eq!(c.dns_computer.as_deref(), Some("lab-dc.lab.example"));
        assert_eq!(c.dns_domain.as_deref(), Some("lab.example"));
        assert_eq!(c.timestamp, Some(133_000_000_000_000_000));
    }

    #[test]
    fn the_challenge_is_found_inside_a_spnego_wrapper() {
        let blob = spnego_init(&challenge());
        assert_eq!(
            find_challenge(&blob)
                .expect("found")
                .netbios_computer
                .as_deref(),
            Some("LAB-DC")
        );
        assert!(find_challenge(b"no ntlm here").is_err());
    }

    #[test]
    fn the_negotiate_asks_for_target_and_version_and_is_wrapped_as_der() {
        let n = encode_negotiate();
        assert_eq!(&n[..8], SIGNATURE);
        let flags = u32::from_le_bytes([n[12], n[13], n[14], n[15]]);
        assert_ne!(flags & REQUEST_TARGET, 0);
        assert_ne!(flags & NEGOTIATE_VERSION, 0);
        let s = spnego_init(&n);
        assert_eq!(s[0], 0x60);
        assert_eq!(usize::from(s[1]), s.len() - 2);
    }

    #[test]
    fn fields_pointing_outside_the_message_are_refused() {
        let mut m = challenge();
        m[16] = 0xff; // target name offset far beyond the end
        m[17] = 0xff;
        assert!(decode_challenge(&m).is_err());
    }
}
