//! Writing the archive and its member list from a report's evidence records.
//!
//! Records are written in the order given (the report's, by ID). A payload is decoded
//! from base64 once per distinct payload, cut into chunks (`chunk.rs`), and each
//! distinct chunk is written once, on the line before the first record that needs it.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use base64::Engine;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::{chunk, ArchiveError, ArchivedRecord, ChunkLine};
use crate::model::Evidence;

/// The archive and member list, ready to be written as [`super::ARCHIVE`] and
/// [`super::INDEX`].
#[derive(Debug, Clone)]
pub struct Packed {
    /// `evidence.jsonl.gz`'s bytes.
    pub archive: Vec<u8>,
    /// `evidence.sha256`'s bytes.
    pub index: Vec<u8>,
    pub records: usize,
    pub chunks: usize,
}

/// Builds the archive lines and the member list as it goes.
struct Packer {
    gz: GzEncoder<Vec<u8>>,
    index: String,
    /// Chunk IDs by the SHA-256 of the chunk's bytes.
    chunks: HashMap<[u8; 32], String>,
    /// Chunk lists by payload text already packed (payloads are shared `Arc`s).
    payloads: HashMap<*const u8, (Arc<str>, Vec<String>)>,
    records: usize,
}

/// Packs `records` into an archive and its member list.
pub fn pack(records: &[Evidence]) -> Result<Packed, ArchiveError> {
    let mut p = Packer {
        gz: GzEncoder::new(Vec::new(), Compression::best()),
        index: String::new(),
        chunks: HashMap::new(),
        payloads: HashMap::new(),
        records: 0,
    };
    for e in records {
        let sent = p.payload(&e.sent)?;
        let received = p.payload(&e.received)?;
        let line = serde_json::to_vec(&ArchivedRecord {
            id: e.id.clone(),
            host: e.host.clone(),
            port: e.port,
            protocol: e.protocol.clone(),
            probe: e.probe.clone(),
            at: e.at.clone(),
            sent,
            received,
            truncated: e.truncated,
            redacted: e.redacted.clone(),
            note: e.note.clone(),
            exchange: e.exchange.clone(),
        })?;
        p.member(&e.id, &line)?;
        p.records += 1;
    }
    let chunks = p.chunks.len();
    let archive = p.gz.finish().map_err(write_error)?;
    Ok(Packed {
        archive,
        index: p.index.into_bytes(),
        records: p.records,
        chunks,
    })
}

fn write_error(source: std::io::Error) -> ArchiveError {
    ArchiveError::Io {
        path: super::ARCHIVE.into(),
        source,
    }
}

impl Packer {
    /// The chunk IDs of a base64 payload, writing the chunks not yet written.
    fn payload(&mut self, b64: &Arc<str>) -> Result<Vec<String>, ArchiveError> {
        let key = b64.as_ptr();
        if let Some((held, ids)) = self.payloads.get(&key) {
            if Arc::ptr_eq(held, b64) {
                return Ok(ids.clone());
            }
        }
        let engine = base64::engine::general_purpose::STANDARD;
        // The report's own base64; a record that is not base64 is kept as empty bytes,
        // as its transcript always showed it.
        let bytes = engine.decode(b64.as_bytes()).unwrap_or_default();
        let mut ids = Vec::new();
        for piece in chunk::split(&bytes) {
            let digest = sha256(piece);
            let id = match self.chunks.get(&digest) {
                Some(id) => id.clone(),
                None => {
                    let id = format!("c{}", self.chunks.len() + 1);
                    let text = engine.encode(piece);
                    let line = serde_json::to_vec(&ChunkLine {
                        chunk: &id,
                        base64: &text,
                    })?;
                    self.member(&id, &line)?;
                    self.chunks.insert(digest, id.clone());
                    id
                }
            };
            ids.push(id);
        }
        self.payloads.insert(key, (Arc::clone(b64), ids.clone()));
        Ok(ids)
    }

    /// Writes one member line and its entry in the member list.
    fn member(&mut self, name: &str, line: &[u8]) -> Result<(), ArchiveError> {
        self.gz.write_all(line).map_err(write_error)?;
        self.gz.write_all(b"\n").map_err(write_error)?;
        self.index.push_str(&hex(&sha256(line)));
        self.index.push_str("  ");
        self.index.push_str(name);
        self.index.push('\n');
        Ok(())
    }
}

pub(super) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
