//! A captured payload in a report's evidence record: its bytes, held once however many
//! records saw them, and written in JSON as base64 text (the contract's form).
//!
//! The scan's evidence log already shares each distinct capture; the report keeps that
//! same allocation rather than a base64 copy a third larger (at thousands of hosts the
//! captures are the largest thing a scan holds), and the archive cuts the bytes into
//! chunks without decoding them again.

use std::sync::Arc;

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The bytes of one side of a conversation, capped when captured.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Payload(Arc<[u8]>);

impl Payload {
    /// The captured bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as the contract writes them: standard base64 with padding.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.0)
    }

    /// Reads base64 text. Text that is not base64 gives no bytes, as a record's
    /// transcript has always shown it (a folder's seal, not this, says it changed).
    pub fn from_base64(text: &str) -> Self {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .unwrap_or_default();
        Payload(bytes.into())
    }

    /// Whether two payloads are the same allocation (a shared capture).
    pub fn same_capture(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl From<Arc<[u8]>> for Payload {
    fn from(bytes: Arc<[u8]>) -> Self {
        Payload(bytes)
    }
}

impl From<&[u8]> for Payload {
    fn from(bytes: &[u8]) -> Self {
        Payload(bytes.into())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Payload(bytes.into())
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Payload({} bytes)", self.0.len())
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.base64())
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
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
        assert_eq!(back.bytes(), b"220 ready\r\n");
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
    }
}
