//! Writing the archive and its member list from a report's evidence records.
//!
//! Records are written in the order given (the report's, by ID). A payload comes cut
//! into its chunks ([`super::chunk`], cut when the bytes were captured or read), and
//! each distinct chunk is written once, on the line before the first record that
//! needs it.

use std::collections::HashMap;
use std::io::Write;

use base64::Engine;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::{ArchiveError, ArchivedRecord, ChunkLine};
use crate::model::{Evidence, Payload};

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

/// How many members [`pack_into`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub records: usize,
    pub chunks: usize,
}

/// Writes the archive lines and the member list as it goes; holds only what it needs
/// to store each chunk and payload once (their digests and numbers).
struct Packer<'w> {
    gz: GzEncoder<&'w mut dyn Write>,
    index: &'w mut dyn Write,
    /// Chunk numbers (`c1` is 1) by the SHA-256 of the chunk's bytes.
    chunks: HashMap<[u8; 32], u32>,
    /// Chunk lists by payload already packed (records that saw the same bytes share
    /// one capture; it is held so its address is not reused by another payload).
    payloads: HashMap<*const u8, (Payload, Box<[u32]>)>,
    records: usize,
}

/// Packs `records` into an archive and its member list, in memory.
pub fn pack(records: &[Evidence]) -> Result<Packed, ArchiveError> {
    let (mut archive, mut index) = (Vec::new(), Vec::new());
    let counts = pack_into(records, &mut archive, &mut index)?;
    Ok(Packed {
        archive,
        index,
        records: counts.records,
        chunks: counts.chunks,
    })
}

/// Packs `records` into an archive written to `archive` and its member list written to
/// `index`, as each member is made: neither is held whole in memory.
pub fn pack_into(
    records: &[Evidence],
    archive: &mut dyn Write,
    index: &mut dyn Write,
) -> Result<Counts, ArchiveError> {
    let mut p = Packer {
        gz: GzEncoder::new(archive, Compression::best()),
        index,
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
            sent: sent.iter().map(|n| chunk_name(*n)).collect(),
            received: received.iter().map(|n| chunk_name(*n)).collect(),
            truncated: e.truncated,
            redacted: e.redacted.clone(),
            note: e.note.clone(),
            exchange: e.exchange.clone(),
        })?;
        p.member(&e.id, &line)?;
        p.records += 1;
    }
    let chunks = p.chunks.len();
    p.gz.try_finish().map_err(write_error)?;
    p.gz.get_mut().flush().map_err(write_error)?;
    p.index.flush().map_err(|source| ArchiveError::Io {
        path: super::INDEX.into(),
        source,
    })?;
    Ok(Counts {
        records: p.records,
        chunks,
    })
}

/// A chunk's name in the archive: `c` and its number.
fn chunk_name(n: u32) -> String {
    format!("c{n}")
}

fn write_error(source: std::io::Error) -> ArchiveError {
    ArchiveError::Io {
        path: super::ARCHIVE.into(),
        source,
    }
}

impl Packer<'_> {
    /// The chunk numbers of a payload, writing the chunks not yet written.
    fn payload(&mut self, payload: &Payload) -> Result<Box<[u32]>, ArchiveError> {
        let key = payload.chunks().as_ptr().cast::<u8>();
        if let Some((held, ids)) = self.payloads.get(&key) {
            if Payload::same_capture(held, payload) {
                return Ok(ids.clone());
            }
        }
        let engine = base64::engine::general_purpose::STANDARD;
        let mut ids = Vec::new();
        for piece in payload.chunks() {
            let digest = sha256(piece);
            let n = match self.chunks.get(&digest) {
                Some(n) => *n,
                None => {
                    let n = u32::try_from(self.chunks.len() + 1).unwrap_or(u32::MAX);
                    let id = chunk_name(n);
                    let text = engine.encode(piece);
                    let line = serde_json::to_vec(&ChunkLine {
                        chunk: &id,
                        base64: &text,
                    })?;
                    self.member(&id, &line)?;
                    self.chunks.insert(digest, n);
                    n
                }
            };
            ids.push(n);
        }
        let ids: Box<[u32]> = ids.into();
        self.payloads.insert(key, (payload.clone(), ids.clone()));
        Ok(ids)
    }

    /// Writes one member line and its entry in the member list.
    fn member(&mut self, name: &str, line: &[u8]) -> Result<(), ArchiveError> {
        self.gz.write_all(line).map_err(write_error)?;
        self.gz.write_all(b"\n").map_err(write_error)?;
        let entry = format!("{}  {name}\n", hex(&sha256(line)));
        self.index
            .write_all(entry.as_bytes())
            .map_err(|source| ArchiveError::Io {
                path: super::INDEX.into(),
                source,
            })
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
