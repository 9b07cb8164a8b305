//! Services that wait to be spoken to: RDP, SMB and DICOM. Each gets the
//! smallest well-formed question that makes it state its facts, and nothing
//! after: no login, no share listing, no C-ECHO.

use kenshin_wire::{dicom, ntlm, rdp, smb, DecodeError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::conversation::{Conversation, Heard};
use super::{heard_note, set, set_text, Prober, STEP_WAIT};
use crate::net::tcp::FirstWords;
use crate::observation::{Fact, ServiceObservation};
use crate::scope::Cleared;

/// Waits for one length-prefixed message and decodes exactly it.
pub(super) async fn hear_message<S, T>(
    conv: &mut Conversation<S>,
    length: impl Fn(&[u8]) -> Result<Option<usize>, DecodeError>,
    decode: impl Fn(&[u8]) -> Result<T, DecodeError>,
) -> Heard<T>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let heard = conv
        .hear(STEP_WAIT, |b| match length(b)? {
            Some(n) if b.len() >= n => decode(&b[..n]).map(|v| Some((v, n))),
            _ => Ok(None),
        })
        .await;
    heard.map(|(v, n)| {
        conv.consume(n);
        v
    })
}

/// RDP: an X.224 Connection Request offering TLS, CredSSP and RDSTLS; the Confirm
/// says which the server selected (or why it refused). Returns true if the service
/// answered as RDP.
pub(crate) async fn rdp(
    p: &Prober<'_>,
    cleared: Cleared,
    port: u16,
    deadline: Instant,
    obs: &mut ServiceObservation,
) -> bool {
    let Some((mut conv, _admission)) = p
        .converse(cleared, port, FirstWords::Ours, deadline, obs)
        .await
    else {
        return true;
    };
    let offered = rdp::Protocols(
        rdp::Protocols::SSL.0 | rdp::Protocols::HYBRID.0 | rdp::Protocols::HYBRID_EX.0,
    );
    let heard = match conv.say(&rdp::encode_connection_request(offered)).await {
        Ok(()) => hear_message(&mut conv, rdp::tpkt_length, rdp::decode_connection_confirm).await,
        Err(e) => Heard::Failed(e),
    };
    let (recognised, note) = match heard {
        Heard::Done(neg) => {
            obs.detected = Some("rdp".into());
            match neg {
                rdp::Negotiation::Absent => {
                    set_text(obs, "rdp.selected_protocol", "rdp");
                    set(obs, "rdp.negotiation", Fact::Bool(false));
                }
                rdp::Negotiation::Selected { protocol, flags } => {
                    let name = protocol
                        .selected_name()
                        .map_or_else(|| format!("0x{:x}", protocol.0), str::to_owned);
                    set_text(obs, "rdp.selected_protocol", name);
                    set(obs, "rdp.negotiation", Fact::Bool(true));
                    set(obs, "rdp.flags", Fact::Int(flags.into()));
                }
                rdp::Negotiation::Failed(code) => {
                    let name = code
                        .name()
                        .map_or_else(|| format!("0x{:x}", code.0), str::to_owned);
                    set_text(obs, "rdp.failure", name);
                }
            }
            (
                true,
                "sent an X.224 Connection Request offering TLS and CredSSP; read the Connection \
                 Confirm; no further RDP traffic"
                    .to_owned(),
            )
        }
        other => (
            false,
            format!("RDP connection request: {}", heard_note(&other)),
        ),
    };
    p.record(
        obs,
        cleared.addr(),
        "rdp-negotiate",
        &conv.tape().snapshot(),
        note,
    );
    recognised
}

/// SMB: one connection offering only SMB1's "NT LM 0.12" (does the server still
/// accept SMB1?), then one SMB2 NEGOTIATE offering 2.0.2 to 3.1.1 (the dialect it
/// picks, whether it requires signing, its GUID and clock, and the anonymous NTLMSSP
/// challenge), then each older SMB2 dialect offered alone (which it still accepts).
/// Returns true if any answered as SMB.
pub(crate) async fn smb(
    p: &Prober<'_>,
    cleared: Cleared,
    port: u16,
    deadline: Instant,
    obs: &mut ServiceObservation,
) -> bool {
    let mut recognised = false;
    // A closed connection means "SMB1 refused" only if SMB2 then answers.
    let mut smb1_dropped = false;
    let mut dialects: Vec<String> = Vec::new();
    let mut highest: Option<smb::Dialect> = None;
    let mut older: Vec<String> = Vec::new();
    if let Some((mut conv, admission)) = p
        .converse(cleared, port, FirstWords::Ours, deadline, obs)
        .await
    {
        let heard = match conv
            .say(&smb::encode_smb1_negotiate(&[smb::NT_LM_012]))
            .await
        {
            Ok(()) => hear_message(&mut conv, smb::message_length, smb::decode_response).await,
            Err(e) => Heard::Failed(e),
        };
        let note = match heard {
            Heard::Done(smb::Response::Smb1(r)) => {
                recognised = true;
                let accepted = r.status == 0 && r.dialect_index == Some(0);
                set(obs, "smb.smb1", Fact::Bool(accepted));
                if accepted {
                    dialects.push(smb::NT_LM_012.to_owned());
                    if let Some(mode) = r.security_mode {
                        set(
                            obs,
                            "smb.smb1_signing_required",
                            Fact::Bool(mode & 0x08 != 0),
                        );
                    }
                }
                if accepted {
                    "offered only the SMB1 dialect NT LM 0.12; the server accepted it"
                } else {
                    "offered only the SMB1 dialect NT LM 0.12; the server declined every dialect"
                }
                .to_owned()
            }
            Heard::Done(_) => {
                recognised = true;
                set(obs, "smb.smb1", Fact::Bool(false));
                "offered only the SMB1 dialect NT LM 0.12; the server answered in SMB2, refusing SMB1"
                    .to_owned()
            }
            Heard::Closed | Heard::Failed(_) => {
                // Servers with SMB1 disabled drop the connection on an SMB1 NEGOTIATE.
                smb1_dropped = true;
                "offered only the SMB1 dialect NT LM 0.12; the server closed the connection"
                    .to_owned()
            }
            other => format!("SMB1 NEGOTIATE: {}", heard_note(&other)),
        };
        p.record(
            obs,
            cleared.addr(),
            "smb1-negotiate",
            &conv.tape().snapshot(),
            note,
        );
        drop(admission);
    }
    if let Some((mut conv, _admission)) = p
        .converse(cleared, port, FirstWords::Ours, deadline, obs)
        .await
    {
        let guid: [u8; 16] = rand::random();
        let salt: [u8; 32] = rand::random();
        let heard = match conv.say(&smb::encode_smb2_negotiate(guid, salt)).await {
            Ok(()) => hear_message(&mut conv, smb::message_length, smb::decode_response).await,
            Err(e) => Heard::Failed(e),
        };
        let note = match heard {
            Heard::Done(smb::Response::Smb2(r)) => {
                recognised = true;
                let name = r
                    .dialect
                    .name()
                    .map_or_else(|| format!("0x{:04x}", r.dialect.0), str::to_owned);
                dialects.push(name.clone());
                highest = Some(r.dialect);
                set_text(obs, "smb.dialect", name);
                set(obs, "smb.signing_required", Fact::Bool(r.signing_required));
                set_text(obs, "smb.server_guid", guid_text(&r.server_guid));
                if let Some(t) = r.system_time_unix() {
                    set(obs, "smb.server_time", Fact::Int(t));
                }
                let ntlm = ntlm_challenge(&mut conv, obs).await;
                format!("offered SMB 2.0.2 to 3.1.1 and read the dialect, signing and GUID; {ntlm}")
            }
            Heard::Done(smb::Response::Smb2Error { status }) => {
                recognised = true;
                format!("SMB2 NEGOTIATE answered with status 0x{status:08x}")
            }
            Heard::Done(_) => {
                recognised = true;
                "SMB2 NEGOTIATE answered in SMB1: the server speaks no SMB2".to_owned()
            }
            other => format!("SMB2 NEGOTIATE: {}", heard_note(&other)),
        };
        p.record(
            obs,
            cleared.addr(),
            "smb2-negotiate",
            &conv.tape().snapshot(),
            note,
        );
    }
    if let Some(top) = highest {
        // The server picked its highest dialect; offer each older one alone to learn
        // which of them it still accepts (one short connection each).
        for d in smb::Dialect::ALL.into_iter().filter(|d| d.0 < top.0) {
            if p.cancel.is_cancelled() || Instant::now() >= deadline {
                break;
            }
            if let Some(name) = smb_offer_one(p, cleared, port, deadline, d, obs).await {
                older.push(name);
            }
        }
        dialects.splice(
            dialects.len().saturating_sub(1)..dialects.len().saturating_sub(1),
            older,
        );
    }
    if recognised {
        if smb1_dropped {
            set(obs, "smb.smb1", Fact::Bool(false));
        }
        obs.detected = Some("smb".into());
        set(obs, "smb.dialects", Fact::List(dialects));
    }
    recognised
}

/// Offers one SMB2 dialect alone; returns its name if the server chose it.
async fn smb_offer_one(
    p: &Prober<'_>,
    cleared: Cleared,
    port: u16,
    deadline: Instant,
    dialect: smb::Dialect,
    obs: &mut ServiceObservation,
) -> Option<String> {
    let name = dialect
        .name()
        .map_or_else(|| format!("0x{:04x}", dialect.0), str::to_owned);
    let (mut conv, _admission) = p
        .converse(cleared, port, FirstWords::Ours, deadline, obs)
        .await?;
    let req = smb::encode_smb2_negotiate_offering(&[dialect], rand::random(), rand::random());
    let heard = match conv.say(&req).await {
        Ok(()) => hear_message(&mut conv, smb::message_length, smb::decode_response).await,
        Err(e) => Heard::Failed(e),
    };
    let accepted = matches!(&heard, Heard::Done(smb::Response::Smb2(r)) if r.dialect == dialect);
    let note = match &heard {
        Heard::Done(_) if accepted => format!("offered SMB {name} alone; the server accepted it"),
        Heard::Done(_) => format!("offered SMB {name} alone; the server refused it"),
        other => format!("offered SMB {name} alone: {}", heard_note(other)),
    };
    p.record(
        obs,
        cleared.addr(),
        "smb2-negotiate",
        &conv.tape().snapshot(),
        note,
    );
    accepted.then_some(name)
}

/// One anonymous NTLMSSP NEGOTIATE in an SMB2 SESSION_SETUP: the CHALLENGE names the
/// server's OS build, computer and domain. No AUTHENTICATE follows; no credentials are
/// used. Returns the evidence note's tail.
async fn ntlm_challenge<S: AsyncRead + AsyncWrite + Unpin>(
    conv: &mut Conversation<S>,
    obs: &mut ServiceObservation,
) -> String {
    let blob = ntlm::spnego_init(&ntlm::encode_negotiate());
    if let Err(e) = conv.say(&smb::encode_smb2_session_setup(&blob)).await {
        return format!("the SESSION_SETUP could not be sent: {e}");
    }
    let heard = hear_message(conv, smb::message_length, smb::decode_session_setup).await;
    let setup = match heard {
        Heard::Done(s) => s,
        other => {
            return format!(
                "SESSION_SETUP with an NTLMSSP NEGOTIATE: {}",
                heard_note(&other)
            )
        }
    };
    let c = match ntlm::find_challenge(&setup.security_blob) {
        Ok(c) => c,
        Err(e) => {
            return format!(
                "SESSION_SETUP answered with status 0x{:08x} and no NTLMSSP CHALLENGE ({e})",
                setup.status
            )
        }
    };
    if let Some((major, minor, build, _)) = c.version {
        set_text(obs, "smb.os_version", format!("{major}.{minor}.{build}"));
        set(obs, "smb.os_build", Fact::Int(build.into()));
    }
    for (name, value) in [
        ("smb.netbios_computer", &c.netbios_computer),
        ("smb.netbios_domain", &c.netbios_domain),
        ("smb.dns_computer", &c.dns_computer),
        ("smb.dns_domain", &c.dns_domain),
        ("smb.dns_tree", &c.dns_tree),
    ] {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            set_text(obs, name, v.clone());
        }
    }
    "sent an anonymous NTLMSSP NEGOTIATE and read the CHALLENGE (OS version, names); \
     no AUTHENTICATE, no credentials, no session"
        .to_owned()
}

fn guid_text(g: &[u8; 16]) -> String {
    // Microsoft's mixed-endian GUID layout.
    format!(
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        u32::from_le_bytes([g[0], g[1], g[2], g[3]]),
        u16::from_le_bytes([g[4], g[5]]),
        u16::from_le_bytes([g[6], g[7]]),
        g[8],
        g[9],
        g[10],
        g[11],
        g[12],
        g[13],
        g[14],
        g[15]
    )
}

/// DICOM on a plain connection. Returns true if the service answered as DICOM.
pub(crate) async fn dicom(
    p: &Prober<'_>,
    cleared: Cleared,
    port: u16,
    deadline: Instant,
    obs: &mut ServiceObservation,
) -> bool {
    let Some((mut conv, _admission)) = p
        .converse(cleared, port, FirstWords::Ours, deadline, obs)
        .await
    else {
        return true;
    };
    let note = dicom_over(&mut conv, obs).await;
    p.record(
        obs,
        cleared.addr(),
        "dicom-associate",
        &conv.tape().snapshot(),
        note,
    );
    obs.detected.as_deref() == Some("dicom")
}

/// A-ASSOCIATE-RQ for Verification only; on acceptance, A-RELEASE-RQ at once.
/// Returns the evidence note.
pub(crate) async fn dicom_over<S: AsyncRead + AsyncWrite + Unpin>(
    conv: &mut Conversation<S>,
    obs: &mut ServiceObservation,
) -> String {
    let rq = dicom::AssociateRequest::default();
    if let Err(e) = conv.say(&dicom::encode_associate_rq(&rq)).await {
        return format!("sending A-ASSOCIATE-RQ: {e}");
    }
    let heard = hear_message(conv, dicom::pdu_length, dicom::decode_pdu).await;
    let called = format!(
        "called AE {:?}, calling AE {:?}",
        rq.called_ae, rq.calling_ae
    );
    match heard {
        Heard::Done(dicom::Pdu::AssociateAccept(ac)) => {
            obs.detected = Some("dicom".into());
            set_text(obs, "dicom.association", "accepted");
            set(
                obs,
                "dicom.verification",
                Fact::Bool(ac.verification_accepted()),
            );
            if let Some(uid) = &ac.implementation_class_uid {
                set_text(obs, "dicom.implementation_class_uid", uid.clone());
            }
            if let Some(v) = &ac.implementation_version_name {
                set_text(obs, "dicom.implementation_version", v.clone());
                obs.banner = Some(v.clone());
            }
            if let Some(m) = ac.max_pdu_length {
                set(obs, "dicom.max_pdu", Fact::Int(m.into()));
            }
            let released = match conv.say(&dicom::encode_release_rq()).await {
                Ok(()) => matches!(
                    hear_message(conv, dicom::pdu_length, dicom::decode_pdu).await,
                    Heard::Done(dicom::Pdu::ReleaseReply)
                ),
                Err(_) => false,
            };
            format!(
                "A-ASSOCIATE-RQ for Verification ({called}) accepted; A-RELEASE-RQ sent at once{}",
                if released {
                    " and confirmed"
                } else {
                    "; no A-RELEASE-RP"
                }
            )
        }
        Heard::Done(dicom::Pdu::AssociateReject(rj)) => {
            obs.detected = Some("dicom".into());
            set_text(obs, "dicom.association", "rejected");
            set(obs, "dicom.reject_result", Fact::Int(rj.result.into()));
            set(obs, "dicom.reject_source", Fact::Int(rj.source.into()));
            set(obs, "dicom.reject_reason", Fact::Int(rj.reason.into()));
            format!("A-ASSOCIATE-RQ for Verification ({called}) rejected")
        }
        Heard::Done(dicom::Pdu::Abort { source, reason }) => {
            obs.detected = Some("dicom".into());
            set_text(obs, "dicom.association", "aborted");
            set(obs, "dicom.abort_reason", Fact::Int(reason.into()));
            format!("A-ASSOCIATE-RQ for Verification ({called}) aborted (source {source})")
        }
        Heard::Done(other) => {
            obs.detected = Some("dicom".into());
            format!("A-ASSOCIATE-RQ answered with an unexpected PDU: {other:?}")
        }
        other => format!("A-ASSOCIATE-RQ: {}", heard_note(&other)),
    }
}
