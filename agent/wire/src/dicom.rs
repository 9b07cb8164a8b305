//! DICOM upper-layer PDUs (PS3.8 §9.3): the A-ASSOCIATE-RQ kenshin sends, proposing
//! only the Verification SOP Class, and the answers it can get (A-ASSOCIATE-AC,
//! A-ASSOCIATE-RJ, A-RELEASE-RP, A-ABORT).
//!
//! That, then A-RELEASE-RQ, is the whole DICOM probe the safety policy allows: it
//! shows whether a modality or PACS accepts associations from anyone (any calling AE
//! title) and what implementation it runs, and never touches an image.

use crate::reader::{DecodeError, Reader};

/// The Verification SOP Class (C-ECHO).
pub const VERIFICATION_SOP_CLASS: &str = "1.2.840.10008.1.1";
/// Implicit VR Little Endian, the transfer syntax every implementation must accept.
pub const IMPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2";
/// The DICOM application context name.
pub const APPLICATION_CONTEXT: &str = "1.2.840.10008.3.1.1.1";
/// kenshin's implementation class UID: a UUID-derived UID (PS3.5 §B.2).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.259938002275878248897615294072672422696";
/// kenshin's implementation version name (at most 16 characters).
pub const IMPLEMENTATION_VERSION_NAME: &str = "KENSHIN_0_1";
/// Largest association-phase PDU decoded.
pub const MAX_PDU: usize = 65_536;

/// PDU types (PS3.8 Table 9-11); unknown types are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PduType(pub u8);

impl PduType {
    pub const ASSOCIATE_RQ: PduType = PduType(0x01);
    pub const ASSOCIATE_AC: PduType = PduType(0x02);
    pub const ASSOCIATE_RJ: PduType = PduType(0x03);
    pub const P_DATA_TF: PduType = PduType(0x04);
    pub const RELEASE_RQ: PduType = PduType(0x05);
    pub const RELEASE_RP: PduType = PduType(0x06);
    pub const ABORT: PduType = PduType(0x07);
}

/// What kenshin proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociateRequest {
    /// The called AE title (what the device is configured to answer to; `ANY-SCP` by default).
    pub called_ae: String,
    /// kenshin's calling AE title.
    pub calling_ae: String,
    pub max_pdu_length: u32,
}

impl Default for AssociateRequest {
    fn default() -> Self {
        Self {
            called_ae: "ANY-SCP".into(),
            calling_ae: "KENSHIN".into(),
            max_pdu_length: 16_384,
        }
    }
}

fn ae_title(s: &str) -> [u8; 16] {
    let mut out = [b' '; 16];
    for (o, b) in out
        .iter_mut()
        .zip(s.bytes().filter(|b| b.is_ascii_graphic() || *b == b' '))
    {
        *o = b;
    }
    out
}

fn item(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
    out.push(kind);
    out.push(0);
    out.extend((body.len() as u16).to_be_bytes());
    out.extend(body);
}

/// Encodes an A-ASSOCIATE-RQ proposing Verification with Implicit VR Little Endian.
pub fn encode_associate_rq(req: &AssociateRequest) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(1u16.to_be_bytes()); // protocol version
    body.extend([0, 0]);
    body.extend(ae_title(&req.called_ae));
    body.extend(ae_title(&req.calling_ae));
    body.extend([0u8; 32]);
    item(&mut body, 0x10, APPLICATION_CONTEXT.as_bytes());
    let mut pc = vec![1, 0, 0, 0]; // presentation context ID 1
    item(&mut pc, 0x30, VERIFICATION_SOP_CLASS.as_bytes());
    item(&mut pc, 0x40, IMPLICIT_VR_LITTLE_ENDIAN.as_bytes());
    item(&mut body, 0x20, &pc);
    let mut user = Vec::new();
    item(&mut user, 0x51, &req.max_pdu_length.to_be_bytes());
    item(&mut user, 0x52, IMPLEMENTATION_CLASS_UID.as_bytes());
    item(&mut user, 0x55, IMPLEMENTATION_VERSION_NAME.as_bytes());
    item(&mut body, 0x50, &user);
    pdu(PduType::ASSOCIATE_RQ, &body)
}

fn pdu(kind: PduType, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind.0, 0];
    out.extend((body.len() as u32).to_be_bytes());
    out.extend(body);
    out
}

/// Encodes an A-RELEASE-RQ.
pub fn encode_release_rq() -> Vec<u8> {
    pdu(PduType::RELEASE_RQ, &[0; 4])
}

/// The total length of the PDU at the start of `buf`, once its header has arrived.
pub fn pdu_length(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    let Some(h) = buf.get(..6) else {
        return Ok(None);
    };
    if !(1..=7).contains(&h[0]) {
        return Err(DecodeError::Invalid {
            field: "dicom pdu type",
            reason: "not a DICOM upper-layer PDU type (1-7)",
        });
    }
    let len = u32::from_be_bytes([h[2], h[3], h[4], h[5]]) as usize;
    if len > MAX_PDU {
        return Err(DecodeError::TooLarge {
            field: "dicom pdu length",
            value: len,
            limit: MAX_PDU,
        });
    }
    Ok(Some(6 + len))
}

/// One presentation context of an A-ASSOCIATE-AC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedContext {
    pub id: u8,
    /// 0 acceptance, 1 user-rejection, 2 no-reason, 3 abstract syntax not supported,
    /// 4 transfer syntaxes not supported.
    pub result: u8,
    pub transfer_syntax: Option<String>,
}

/// An A-ASSOCIATE-AC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssociateAccept {
    pub called_ae: String,
    pub calling_ae: String,
    pub application_context: Option<String>,
    pub contexts: Vec<AcceptedContext>,
    pub max_pdu_length: Option<u32>,
    pub implementation_class_uid: Option<String>,
    pub implementation_version_name: Option<String>,
}

impl AssociateAccept {
    /// True if the Verification context (ID 1) was accepted.
    pub fn verification_accepted(&self) -> bool {
        self.contexts.iter().any(|c| c.id == 1 && c.result == 0)
    }
}

/// An A-ASSOCIATE-RJ (PS3.8 Table 9-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssociateReject {
    /// 1 rejected-permanent, 2 rejected-transient.
    pub result: u8,
    /// 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation).
    pub source: u8,
    /// Meaning depends on the source; with source 1, 3 is "calling AE title not
    /// recognized" and 7 "called AE title not recognized".
    pub reason: u8,
}

/// A decoded association-phase PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pdu {
    AssociateAccept(AssociateAccept),
    AssociateReject(AssociateReject),
    ReleaseRequest,
    ReleaseReply,
    /// A-ABORT: source (0 service-user, 2 service-provider) and reason.
    Abort {
        source: u8,
        reason: u8,
    },
    /// Any other PDU type, kept by type and length.
    Other {
        kind: PduType,
        length: usize,
    },
}

fn text(bytes: &[u8]) -> String {
    crate::line::printable(bytes)
        .trim_end_matches(['\0', ' '])
        .trim_start()
        .to_owned()
}

/// Decodes exactly one PDU.
pub fn decode_pdu(bytes: &[u8]) -> Result<Pdu, DecodeError> {
    let total = pdu_length(bytes)?.ok_or(DecodeError::Truncated {
        field: "dicom pdu header",
        needed: 6 - bytes.len().min(6),
        available: bytes.len(),
    })?;
    let mut r = Reader::new(bytes);
    let kind = PduType(r.u8("dicom pdu type")?);
    r.u8("dicom pdu reserved")?;
    r.u32_be("dicom pdu length")?;
    let mut body = r.sub(total - 6, "dicom pdu body")?;
    r.expect_end("dicom pdu")?;
    let four = |body: &mut Reader<'_>| -> Result<[u8; 4], DecodeError> {
        let b = body.take(4, "dicom pdu parameters")?;
        body.expect_end("dicom pdu parameters")?;
        Ok([b[0], b[1], b[2], b[3]])
    };
    Ok(match kind {
        PduType::ASSOCIATE_AC => Pdu::AssociateAccept(decode_accept(&mut body)?),
        PduType::ASSOCIATE_RJ => {
            let b = four(&mut body)?;
            Pdu::AssociateReject(AssociateReject {
                result: b[1],
                source: b[2],
                reason: b[3],
            })
        }
        PduType::RELEASE_RQ => {
            four(&mut body)?;
            Pdu::ReleaseRequest
        }
        PduType::RELEASE_RP => {
            four(&mut body)?;
            Pdu::ReleaseReply
        }
        PduType::ABORT => {
            let b = four(&mut body)?;
            Pdu::Abort {
                source: b[2],
                reason: b[3],
            }
        }
        other => Pdu::Other {
            kind: other,
            length: total - 6,
        },
    })
}

fn read_item<'a>(r: &mut Reader<'a>, field: &'static str) -> Result<(u8, Reader<'a>), DecodeError> {
    let kind = r.u8(field)?;
    r.u8(field)?;
    let len = usize::from(r.u16_be(field)?);
    Ok((kind, r.sub(len, field)?))
}

fn decode_accept(body: &mut Reader<'_>) -> Result<AssociateAccept, DecodeError> {
    let mut ac = AssociateAccept::default();
    body.u16_be("dicom protocol version")?;
    body.take(2, "dicom reserved")?;
    ac.called_ae = text(body.take(16, "dicom called ae title")?);
    ac.calling_ae = text(body.take(16, "dicom calling ae title")?);
    body.take(32, "dicom reserved")?;
    while !body.is_empty() {
        let (kind, mut it) = read_item(body, "dicom item")?;
        match kind {
            0x10 => ac.application_context = Some(text(it.rest())),
            0x21 => {
                let id = it.u8("dicom presentation context id")?;
                it.u8("dicom reserved")?;
                let result = it.u8("dicom presentation context result")?;
                it.u8("dicom reserved")?;
                let mut transfer_syntax = None;
                while !it.is_empty() {
                    let (sub, mut s) = read_item(&mut it, "dicom presentation sub-item")?;
                    if sub == 0x40 {
                        transfer_syntax = Some(text(s.rest()));
                    }
                }
                if ac.contexts.len() < 128 {
                    ac.contexts.push(AcceptedContext {
                        id,
                        result,
                        transfer_syntax,
                    });
                }
            }
            0x50 => {
                while !it.is_empty() {
                    let (sub, mut s) = read_item(&mut it, "dicom user information sub-item")?;
                    match sub {
                        0x51 => {
                            ac.max_pdu_length = Some(s.u32_be("dicom maximum length")?);
                            s.expect_end("dicom maximum length")?;
                        }
                        0x52 => ac.implementation_class_uid = Some(text(s.rest())),
                        0x55 => ac.implementation_version_name = Some(text(s.rest())),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(ac)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An A-ASSOCIATE-AC built here with the values dcmtk's storescp 3.6.7 answers with
    /// (its implementation UID and version name): Verification accepted with Implicit VR
    /// Little Endian, max PDU 16384. A capture from the lab's storescp replaces it when
    /// the DICOM probe lands.
    fn storescp_accept() -> Vec<u8> {
        let mut body = Vec::new();
        body.extend([0, 1, 0, 0]);
        body.extend(ae_title("ANY-SCP"));
        body.extend(ae_title("KENSHIN"));
        body.extend([0u8; 32]);
        item(&mut body, 0x10, APPLICATION_CONTEXT.as_bytes());
        let mut pc = vec![1, 0, 0, 0];
        item(&mut pc, 0x40, b"1.2.840.10008.1.2\0");
        item(&mut body, 0x21, &pc);
        let mut user = Vec::new();
        item(&mut user, 0x51, &16_384u32.to_be_bytes());
        item(&mut user, 0x52, b"1.2.276.0.7230010.3.0.3.6.7\0");
        item(&mut user, 0x55, b"OFFIS_DCMTK_367");
        item(&mut body, 0x50, &user);
        pdu(PduType::ASSOCIATE_AC, &body)
    }

    #[test]
    fn the_request_proposes_verification_only_and_frames_itself() {
        let rq = encode_associate_rq(&AssociateRequest::default());
        assert_eq!(rq[0], 0x01);
        assert_eq!(pdu_length(&rq), Ok(Some(rq.len())));
        let text = String::from_utf8_lossy(&rq);
        assert!(text.contains(VERIFICATION_SOP_CLASS));
        assert!(text.contains("KENSHIN         "));
        assert_eq!(
            text.matches("1.2.840.10008.5.1.4").count(),
            0,
            "no storage classes"
        );
        assert!(IMPLEMENTATION_CLASS_UID.len() <= 64);
        assert!(IMPLEMENTATION_VERSION_NAME.len() <= 16);
    }

    #[test]
    fn an_accept_tells_the_implementation_and_the_verification_result() {
        let ac = match decode_pdu(&storescp_accept()) {
            Ok(Pdu::AssociateAccept(ac)) => ac,
            other => panic!("{other:?}"),
        };
        assert!(ac.verification_accepted());
        assert_eq!(
            ac.implementation_class_uid.as_deref(),
            Some("1.2.276.0.7230010.3.0.3.6.7")
        );
        assert_eq!(
            ac.implementation_version_name.as_deref(),
            Some("OFFIS_DCMTK_367")
        );
        assert_eq!(ac.max_pdu_length, Some(16_384));
        assert_eq!(
            ac.contexts[0].transfer_syntax.as_deref(),
            Some(IMPLICIT_VR_LITTLE_ENDIAN)
        );
        assert_eq!(ac.called_ae, "ANY-SCP");
    }

    #[test]
    fn rejects_releases_and_aborts_are_decoded() {
        // Rejected permanently by the service user: called AE title not recognized.
        assert_eq!(
            decode_pdu(&[0x03, 0, 0, 0, 0, 4, 0, 1, 1, 7]),
            Ok(Pdu::AssociateReject(AssociateReject {
                result: 1,
                source: 1,
                reason: 7
            }))
        );
        assert_eq!(
            decode_pdu(&[0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0]),
            Ok(Pdu::ReleaseReply)
        );
        assert_eq!(
            decode_pdu(&[0x07, 0, 0, 0, 0, 4, 0, 0, 2, 1]),
            Ok(Pdu::Abort {
                source: 2,
                reason: 1
            })
        );
        assert_eq!(encode_release_rq(), [0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    }

    #[test]
    fn every_truncation_and_oversize_is_refused() {
        let ac = storescp_accept();
        for n in 0..ac.len() {
            assert!(decode_pdu(&ac[..n]).is_err(), "cut at {n}");
        }
        let mut long = ac.clone();
        long.push(0);
        assert!(decode_pdu(&long).is_err());
        assert!(pdu_length(&[0x02, 0, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(pdu_length(b"HTTP/1").is_err());
    }
}
