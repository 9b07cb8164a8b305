//! The SNMP probe: one GetRequest for the system group, with the configured
//! community, first as v2c and, on a retry, as v1.
//!
//! This is the single default-credential check kenshin makes (the safety
//! policy allows exactly this read, and it can be switched off). The community
//! is redacted from the evidence.

use std::time::Duration;

use kenshin_wire::snmp::{self, oid, ErrorStatus, Value, Version};

use crate::evidence::{Direction, EvidenceLog, Segment, Transcript};
use crate::governor::Admission;
use crate::net::udp::{self, UdpOutcome};
use crate::observation::SnmpObservation;
use crate::ports::Protocol;

const OIDS: [&[u32]; 4] = [
    oid::SYS_DESCR,
    oid::SYS_OBJECT_ID,
    oid::SYS_NAME,
    oid::SYS_UPTIME,
];

/// Longest sysDescr kept in the observation.
const MAX_DESCR: usize = 512;

/// The request for attempt `attempt`: v2c first, v1 on the first retry, then alternating.
pub fn request(community: &str, attempt: u32, request_id: i32) -> Option<(Version, Vec<u8>)> {
    let version = if attempt.is_multiple_of(2) {
        Version::V2C
    } else {
        Version::V1
    };
    let bytes = snmp::encode_get_request(version, community.as_bytes(), request_id, &OIDS)?;
    Some((version, bytes))
}

/// Interprets a decoded response to our request.
pub fn interpret(msg: &snmp::Message, version: Version, evidence: String) -> SnmpObservation {
    let text = |o: &[u32]| match msg.value_of(o) {
        Some(Value::OctetString(b)) => {
            let s: String = String::from_utf8_lossy(b)
                .chars()
                .filter(|c| !c.is_control() || *c == '\n')
                .take(MAX_DESCR)
                .collect();
            Some(s)
        }
        _ => None,
    };
    let sys_object_id = match msg.value_of(oid::SYS_OBJECT_ID) {
        Some(Value::Oid(arcs)) => Some(snmp::dotted(arcs)),
        _ => None,
    };
    let sys_uptime_ticks = match msg.value_of(oid::SYS_UPTIME) {
        Some(Value::TimeTicks(t)) => Some(*t),
        _ => None,
    };
    // v1/v2c agents stay silent for a community they do not accept, so any
    // response means the community was accepted, even one carrying an error status.
    let ok = msg.error_status == ErrorStatus::NO_ERROR;
    SnmpObservation {
        version: version.name().unwrap_or("unknown"),
        community_accepted: true,
        error_status: (!ok).then(|| {
            msg.error_status
                .name()
                .map_or_else(|| format!("error {}", msg.error_status.0), str::to_owned)
        }),
        sys_descr: text(oid::SYS_DESCR),
        sys_object_id,
        sys_name: text(oid::SYS_NAME),
        sys_uptime_ticks,
        evidence,
    }
}

/// What one SNMP attempt produced.
#[derive(Debug)]
pub enum SnmpAttempt {
    Answered(Box<SnmpObservation>),
    Closed { rtt: Duration },
    Unreachable,
    NoAnswer,
    LocalError(String),
}

/// Sends one GetRequest and waits for the matching response.
pub async fn probe(
    admission: &Admission,
    port: u16,
    community: &str,
    attempt: u32,
    timeout: Duration,
    log: &EvidenceLog,
) -> SnmpAttempt {
    let request_id: i32 = rand::random::<i32>() & 0x7fff_ffff;
    let Some((version, bytes)) = request(community, attempt, request_id) else {
        return SnmpAttempt::LocalError("community longer than 255 bytes".into());
    };
    let matches = |reply: &[u8]| {
        snmp::decode_message(reply).is_ok_and(|m| i64::from(request_id) == m.request_id)
    };
    match udp::exchange(admission, port, &bytes, timeout, matches).await {
        UdpOutcome::Reply { rtt, bytes: reply } => {
            admission.observe_rtt(rtt);
            let Ok(msg) = snmp::decode_message(&reply) else {
                return SnmpAttempt::NoAnswer;
            };
            let id = log.record(Transcript {
                host: admission.addr(),
                port: Some(port),
                protocol: Some(Protocol::Udp),
                probe: "snmp-get",
                sent: &bytes,
                received: &reply,
                secrets: &[("snmp-community", community.as_bytes())],
                note: format!(
                    "SNMP {} GetRequest for sysDescr, sysObjectID, sysName, sysUpTime; answered in {:.1} ms",
                    version.name().unwrap_or("?"),
                    rtt.as_secs_f64() * 1000.0
                ),
                exchange: &[
                    Segment {
                        direction: Direction::Sent,
                        at_ms: 0.0,
                        bytes: bytes.len(),
                    },
                    Segment {
                        direction: Direction::Received,
                        at_ms: rtt.as_secs_f64() * 1000.0,
                        bytes: reply.len(),
                    },
                ],
            });
            SnmpAttempt::Answered(Box::new(interpret(&msg, version, id)))
        }
        UdpOutcome::Closed { rtt } => SnmpAttempt::Closed { rtt },
        UdpOutcome::Unreachable { .. } => SnmpAttempt::Unreachable,
        UdpOutcome::NoAnswer => SnmpAttempt::NoAnswer,
        UdpOutcome::LocalError(e) => SnmpAttempt::LocalError(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_alternate_between_v2c_and_v1() {
        let (v0, _) = request("public", 0, 1).expect("encodable");
        let (v1, b1) = request("public", 1, 1).expect("encodable");
        assert_eq!((v0, v1), (Version::V2C, Version::V1));
        let decoded = snmp::decode_message(&b1).expect("our request decodes");
        assert_eq!(decoded.varbinds.len(), 4);
    }

    #[test]
    fn a_response_with_an_error_status_still_shows_the_community_was_accepted() {
        let msg = snmp::Message {
            version: Version::V1,
            community: b"public".to_vec(),
            pdu_type: snmp::PduType::RESPONSE,
            request_id: 1,
            error_status: ErrorStatus(2),
            error_index: 1,
            varbinds: vec![],
        };
        let obs = interpret(&msg, Version::V1, "ev-000001".into());
        assert!(obs.community_accepted);
        assert_eq!(obs.error_status.as_deref(), Some("noSuchName"));
    }
}
