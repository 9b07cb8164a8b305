//! The evidence archive: every probe transcript of a scan in one gzip-compressed JSON
//! Lines file, `evidence.jsonl.gz`, with payloads stored once however many records saw
//! them, and its sealed member list, `evidence.sha256`.
//!
//! Each line of the archive is one *member*, a JSON object of one of two kinds:
//!
//! - a chunk, `{"chunk":"c7","base64":"…"}`: at most [`chunk::MAX_CHUNK`] bytes of
//!   payload. Payloads are cut at content-defined boundaries (`kenshin_probe::chunk`), so the
//!   same certificate chain inside two different TLS handshakes, the same banner, or
//!   an empty transcript becomes the same chunks, and each distinct chunk is written
//!   once, on the line before the first record that needs it;
//! - a record, `{"id":"ev-000123","host":…,"port":…,"protocol":…,"probe":…,"at":…,
//!   "sent":["c1"],"received":["c7","c8"],"truncated":…,"redacted":[…],"note":…,
//!   "exchange":[…]}`: the fields of a report's evidence record, with `sent` and
//!   `received` as the chunks whose bytes, in order, are the payload.
//!
//! `evidence.sha256` has one line per member, in the archive's order: the SHA-256 of
//! the member's line (without its newline), two spaces, and the member's name (the
//! chunk or record ID). The manifest seals both files; when the archive's hash no
//! longer matches, verify reads it (bounded, `read.rs`) and names each record or
//! chunk that changed, appeared or went missing against this list (`seal/members.rs`).
//!
//! An inspector opens the archive with standard tools (`zcat evidence.jsonl.gz | jq`,
//! or 7-Zip on Windows) or with `kenshin evidence DIR ev-000123`, which prints the
//! record's transcript as `evidence/ev-000123.txt` held it before (docs/evidence.md).

pub use kenshin_probe::chunk;
pub mod read;
pub mod write;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::ExchangeSegment;
use crate::screen::visible_path;

/// The archive's file name in the report folder.
pub const ARCHIVE: &str = "evidence.jsonl.gz";
/// The member list's file name in the report folder.
pub const INDEX: &str = "evidence.sha256";
/// The archive's format identifier (report.json's `evidence_archive.format`).
pub const FORMAT: &str = "kenshin.evidence/1";

/// The largest archive file read (compressed bytes).
pub const MAX_ARCHIVE: u64 = 1024 * 1024 * 1024;
/// The most bytes the archive may inflate to, all members together: a
/// decompression bomb stops here with an error, never exhausting memory or time.
pub const MAX_INFLATED: u64 = 2 * 1024 * 1024 * 1024;
/// The longest member line: a record of two capped captures as chunk references,
/// 128 exchange segments and its note takes a few KiB; a chunk under 2 KiB.
pub const MAX_MEMBER: usize = 256 * 1024;
/// The most members an archive may hold.
pub const MAX_MEMBERS: usize = 4_000_000;
/// The largest report.json read for the records of a folder written before the archive.
pub const MAX_REPORT_JSON: u64 = 1024 * 1024 * 1024;
/// The largest member list read.
pub const MAX_INDEX: u64 = 512 * 1024 * 1024;

/// Why the archive could not be written or read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ArchiveError {
    #[error("{}: {source}", visible_path(path))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Open(kenshin_files::ReadError),
    #[error("{}: {reason}", visible_path(path))]
    NotReadable { path: PathBuf, reason: String },
    #[error(
        "{}: it inflates past the limit of {limit} bytes after {members} members; \
         refused as a decompression bomb",
        visible_path(path)
    )]
    Inflated {
        path: PathBuf,
        members: usize,
        limit: u64,
    },
    #[error(
        "{}: member {line} is longer than the limit of {limit} bytes",
        visible_path(path)
    )]
    MemberTooLong {
        path: PathBuf,
        line: usize,
        limit: usize,
    },
    #[error("{}: it holds more than {limit} members", visible_path(path))]
    TooManyMembers { path: PathBuf, limit: usize },
    #[error("{}: member {line}: {reason}", visible_path(path))]
    BadMember {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{}: record {record} refers to chunk {chunk}, which it does not hold",
        visible_path(path), record = crate::screen::visible(record), chunk = crate::screen::visible(chunk))]
    MissingChunk {
        path: PathBuf,
        record: String,
        chunk: String,
    },
    #[error(
        "{}: line {line} of the member list is not `SHA-256  name`",
        visible_path(path)
    )]
    BadIndex { path: PathBuf, line: usize },
    #[error("cannot write the evidence archive: {0}")]
    Json(#[from] serde_json::Error),
}

/// One line of the archive, as far as its kind and name.
#[derive(Debug, Deserialize)]
struct Head {
    chunk: Option<String>,
    id: Option<String>,
}

/// A chunk line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChunkLine<'a> {
    chunk: &'a str,
    base64: &'a str,
}

/// A record line: the report's evidence record with its payloads as chunk lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchivedRecord {
    pub id: String,
    pub host: String,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub probe: String,
    pub at: String,
    pub sent: Vec<String>,
    pub received: Vec<String>,
    pub truncated: bool,
    pub redacted: Vec<String>,
    pub note: String,
    pub exchange: Vec<ExchangeSegment>,
}
