//! A captured payload in a report's evidence record: its bytes, held once however many
//! records saw them, and written in JSON as base64 text (the contract's form).
//!
//! The scan's evidence log already shares each distinct capture, and each distinct run
//! of bytes inside captures (a certificate chain in every handshake of a server's TLS
//! audit); the report keeps those same allocations rather than a base64 copy a third
//! larger (at thousands of hosts the captures are the largest thing a scan holds), and
//! the archive writes their chunks without cutting the bytes again.

use std::borrow::Cow;

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use kenshin_probe::evidence::{Chunk, Payload as Captured};

/// The bytes of one side of a conversation, capped when captured.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Payload(Captured);

impl Payload {
    /// The captured bytes, whole.
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        self.0.bytes()
    }

    /// The bytes as content-defined chunks ([`crate::archive::chunk`]), in order.
    pub fn chunks(&self) -> &[Chunk] {
        self.0.chunks()
    }

    /// The bytes as the contract writes them: standard base64 with padding.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.bytes())
    }

    /// Reads base64 text. Text that is not base64 gives no bytes, as a record's
    /// transcript has always shown it (a folder's seal, not this, says it changed).
    pub fn from_base64(text: &str) -> Self {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .unwrap_or_default();
        Self::from(bytes.as_slice())
    }

    /// Whether two payloads are one shared capture.
    pub fn same_capture(a: &Self, b: &Self) -> bool {
        Captured::same_capture(&a.0, &b.0)
    }
}

impl From<Captured> for Payload {
    fn from(captured: Captured) -> Self {
        Payload(captured)
    }
}

impl From<&[u8]> for Payload {
    fn from(bytes: &[u8]) -> Self {
        Payload(Captured::of(bytes))
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from(bytes.as_slice())
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.base64())
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(d)?;
        Ok(Payload::from_base64(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_written_as_base64_and_read_back_to_the_same_bytes() {
        let p = Payload::from(&b"220 ready\r\n"[..]);
        let json = serde_json::to_string(&p).expect("serialises");
        assert_eq!(json, "\"MjIwIHJlYWR5DQo=\"");
        let back: Payload = serde_json::from_str(&json).expect("reads");
        assert_eq!(&back.bytes()[..], b"220 ready\r\n");
        assert_eq!(back, p, "equal bytes are equal payloads");
    }

    #[test]
    fn text_that_is_not_base64_reads_as_no_bytes_and_a_non_string_is_refused() {
        let p: Payload = serde_json::from_str("\"not base64!\"").expect("reads");
        assert!(p.bytes().is_empty());
        assert!(serde_json::from_str::<Payload>("12").is_err());
    }

    #[test]
    fn clones_share_one_capture() {
        let p = Payload::from(vec![1, 2, 3]);
        assert!(Payload::same_capture(&p, &p.clone()));
        assert!(!Payload::same_capture(&p, &Payload::from(vec![1, 2, 3])));
        let long: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let p = Payload::from(long.clone());
        assert!(p.chunks().len() > 1);
        assert_eq!(p.bytes().into_owned(), long);
    }
}
