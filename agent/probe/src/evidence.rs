//! Evidence transcripts: what a probe sent and received, kept so that every
//! conclusion in the report can point at the bytes it came from.
//!
//! Captures are capped at [`MAX_CAPTURE`] bytes per direction and marked when
//! cut. Secrets a probe had to send (an SNMP community) are overwritten with
//! `*` in both directions before the record is stored, so they never reach any
//! output; the record lists what was redacted.
//!
//! The log holds every record until the scan ends, so payloads are interned twice
//! over: each capture is cut into content-defined chunks ([`crate::chunk`]) and each
//! distinct chunk is kept once (a server's certificate chain, repeated in every
//! handshake of its TLS audit after a server random that always differs), and each
//! distinct payload (the same banner from every printer, an empty transcript, a
//! ClientHello sent to every TLS port) is one [`Payload`] that every record shares.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::ports::Protocol;

/// Largest capture kept per direction of one probe.
pub const MAX_CAPTURE: usize = 4096;
/// Most segments kept in one exchange.
pub const MAX_SEGMENTS: usize = 128;

/// A run of a payload's bytes, shared by every payload that holds the same run.
pub type Chunk = Arc<[u8]>;

/// Bytes a probe sent or received, as their chunks in order; shared by every record
/// that holds the same bytes. Equal payloads compare equal whether shared or not.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Payload(Arc<[Chunk]>);

impl Payload {
    /// `bytes` cut into chunks of its own (shared with nothing).
    pub fn of(bytes: &[u8]) -> Self {
        Payload(
            crate::chunk::split(bytes)
                .into_iter()
                .map(Chunk::from)
                .collect(),
        )
    }

    /// The chunks, in order; none for no bytes.
    pub fn chunks(&self) -> &[Chunk] {
        &self.0
    }

    /// How many bytes.
    pub fn len(&self) -> usize {
        self.0.iter().map(|c| c.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes, whole: borrowed when they are one chunk.
    pub fn bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match &*self.0 {
            [] => std::borrow::Cow::Borrowed(&[]),
            [one] => std::borrow::Cow::Borrowed(one),
            many => std::borrow::Cow::Owned(many.concat()),
        }
    }

    /// Whether two payloads are one shared capture.
    pub fn same_capture(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Payload({} bytes in {} chunks)",
            self.len(),
            self.0.len()
        )
    }
}

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

impl Direction {
    /// `sent` or `received`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// One write or read of a conversation: which way, when (since the connection opened)
/// and how many bytes. The bytes themselves are in the record's `sent` and `received`,
/// in order, so segments say how they interleaved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub direction: Direction,
    pub at_ms: f64,
    pub bytes: usize,
}

/// One probe's transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Stable within one report: `ev-000001`, …
    pub id: String,
    pub host: IpAddr,
    pub port: Option<u16>,
    pub protocol: Option<Protocol>,
    /// What kind of probe: `tcp-connect`, `snmp-get`, `udp-empty`, `icmp-echo`, `arp`.
    pub probe: &'static str,
    pub at: OffsetDateTime,
    pub sent: Payload,
    pub received: Payload,
    /// True if either direction was cut at [`MAX_CAPTURE`].
    pub truncated: bool,
    /// Names of secrets overwritten in the captures.
    pub redacted: Vec<&'static str>,
    /// One line saying what happened, for a person reading the evidence.
    pub note: String,
    /// The conversation's reads and writes in order, at most [`MAX_SEGMENTS`].
    pub exchange: Vec<Segment>,
}

/// What a probe hands to the log.
#[derive(Debug, Clone)]
pub struct Transcript<'a> {
    pub host: IpAddr,
    pub port: Option<u16>,
    pub protocol: Option<Protocol>,
    pub probe: &'static str,
    pub sent: &'a [u8],
    pub received: &'a [u8],
    /// (name, secret bytes) pairs to overwrite wherever they appear.
    pub secrets: &'a [(&'static str, &'a [u8])],
    pub note: String,
    /// Reads and writes in order, when the probe kept them.
    pub exchange: &'a [Segment],
}

/// The scan's evidence, in the order it was recorded.
#[derive(Debug, Default)]
pub struct EvidenceLog {
    next: AtomicU64,
    records: Mutex<Vec<Evidence>>,
    /// Every distinct payload and chunk recorded so far, each held once.
    interned: Mutex<Interned>,
}

#[derive(Debug, Default)]
struct Interned {
    payloads: HashSet<Payload>,
    chunks: HashSet<Chunk>,
}

fn redact(bytes: &[u8], secret: &[u8]) -> (Vec<u8>, bool) {
    let mut out = bytes.to_vec();
    let mut hit = false;
    if secret.is_empty() || secret.len() > out.len() {
        return (out, false);
    }
    let mut i = 0;
    while i + secret.len() <= out.len() {
        if &out[i..i + secret.len()] == secret {
            out[i..i + secret.len()].fill(b'*');
            hit = true;
            i += secret.len();
        } else {
            i += 1;
        }
    }
    (out, hit)
}

fn capped(mut bytes: Vec<u8>) -> (Vec<u8>, bool) {
    let cut = bytes.len() > MAX_CAPTURE;
    bytes.truncate(MAX_CAPTURE);
    (bytes, cut)
}

impl EvidenceLog {
    /// Stores a transcript and returns its ID.
    pub fn record(&self, t: Transcript<'_>) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("ev-{n:06}");
        let (mut sent, mut received) = (t.sent.to_vec(), t.received.to_vec());
        let mut redacted = Vec::new();
        for (name, secret) in t.secrets {
            let (s, hit_s) = redact(&sent, secret);
            let (r, hit_r) = redact(&received, secret);
            sent = s;
            received = r;
            if hit_s || hit_r {
                redacted.push(*name);
            }
        }
        let (sent, cut_s) = capped(sent);
        let (received, cut_r) = capped(received);
        let (sent, received) = (self.intern(sent), self.intern(received));
        let record = Evidence {
            id: id.clone(),
            host: t.host,
            port: t.port,
            protocol: t.protocol,
            probe: t.probe,
            at: OffsetDateTime::now_utc(),
            sent,
            received,
            truncated: cut_s || cut_r,
            redacted,
            note: t.note,
            exchange: t.exchange.iter().take(MAX_SEGMENTS).copied().collect(),
        };
        if let Ok(mut records) = self.records.lock() {
            records.push(record);
        }
        id
    }

    /// The shared copy of `bytes`: the payload already held if the log has seen the
    /// same bytes, else one made of the chunks already held and the new ones, now
    /// held for the next record that sees them.
    fn intern(&self, bytes: Vec<u8>) -> Payload {
        let mut interned = match self.interned.lock() {
            Ok(i) => i,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Interned { payloads, chunks } = &mut *interned;
        let pieces: Arc<[Chunk]> = crate::chunk::split(&bytes)
            .into_iter()
            .map(|piece| match chunks.get(piece) {
                Some(held) => Arc::clone(held),
                None => {
                    let chunk = Chunk::from(piece);
                    chunks.insert(Arc::clone(&chunk));
                    chunk
                }
            })
            .collect();
        let payload = Payload(pieces);
        if let Some(held) = payloads.get(&payload) {
            return held.clone();
        }
        payloads.insert(payload.clone());
        payload
    }

    /// Takes every record so far, sorted by ID.
    pub fn take_records(&self) -> Vec<Evidence> {
        let mut v = match self.records.lock() {
            Ok(mut records) => std::mem::take(&mut *records),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        v.sort_by(|a, b| a.id.cmp(&b.id));
        match self.interned.lock() {
            Ok(mut i) => *i = Interned::default(),
            Err(poisoned) => *poisoned.into_inner() = Interned::default(),
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_record_and_big_captures_are_cut() {
        let log = EvidenceLog::default();
        let big = vec![7u8; MAX_CAPTURE + 10];
        let id = log.record(Transcript {
            host: "198.18.0.1".parse().expect("addr"),
            port: Some(161),
            protocol: Some(Protocol::Udp),
            probe: "snmp-get",
            sent: b"..public..public",
            received: &big,
            secrets: &[("snmp-community", b"public")],
            note: String::new(),
            exchange: &[],
        });
        assert_eq!(id, "ev-000001");
        let rec = log.take_records().remove(0);
        assert_eq!(&rec.sent.bytes()[..], b"..******..******");
        assert_eq!(rec.redacted, vec!["snmp-community"]);
        assert_eq!(rec.received.len(), MAX_CAPTURE);
        assert!(rec.truncated);
    }

    fn banner(log: &EvidenceLog, host: &str, received: &[u8]) -> String {
        log.record(Transcript {
            host: host.parse().expect("addr"),
            port: Some(21),
            protocol: Some(Protocol::Tcp),
            probe: "banner",
            sent: b"",
            received,
            secrets: &[],
            note: String::new(),
            exchange: &[],
        })
    }

    #[test]
    fn two_hosts_with_the_same_banner_share_one_copy_of_its_bytes() {
        let log = EvidenceLog::default();
        banner(&log, "198.18.0.1", b"220 printer ready\r\n");
        banner(&log, "198.18.0.2", b"220 printer ready\r\n");
        banner(&log, "198.18.0.3", b"220 another\r\n");
        let recs = log.take_records();
        assert!(Payload::same_capture(&recs[0].received, &recs[1].received));
        assert!(!Payload::same_capture(&recs[0].received, &recs[2].received));
        assert!(
            Payload::same_capture(&recs[0].sent, &recs[2].sent),
            "empty sent is shared"
        );
        assert_eq!(&recs[2].received.bytes()[..], b"220 another\r\n");
    }

    /// A handshake-like capture: a random of its own, then a chain every handshake
    /// of the server repeats.
    fn flight(random: u8, chain: &[u8]) -> Vec<u8> {
        let mut f: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(random) ^ random).collect();
        f.extend_from_slice(chain);
        f
    }

    #[test]
    fn a_chain_repeated_after_different_randoms_is_held_once() {
        let log = EvidenceLog::default();
        let mut s: u64 = 0x2545_f491;
        let chain: Vec<u8> = (0..3000)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect();
        banner(&log, "198.18.0.1", &flight(1, &chain));
        banner(&log, "198.18.0.1", &flight(2, &chain));
        let recs = log.take_records();
        let (a, b) = (&recs[0].received, &recs[1].received);
        assert_ne!(a, b, "the randoms differ");
        assert_eq!(a.bytes().len(), 32 + chain.len());
        let shared: usize = a
            .chunks()
            .iter()
            .filter(|c| b.chunks().iter().any(|d| Arc::ptr_eq(c, d)))
            .map(|c| c.len())
            .sum();
        assert!(
            shared + 2 * crate::chunk::MAX_CHUNK >= chain.len(),
            "only {shared} of the chain's {} bytes are one shared copy",
            chain.len()
        );
    }
}
