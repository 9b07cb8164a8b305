//! Reading an archive that may have been tampered with, bounded everywhere: the file
//! is a regular file of at most [`MAX_ARCHIVE`] bytes opened without following a
//! link, it inflates to at most [`MAX_INFLATED`] bytes, each member line is at most
//! [`MAX_MEMBER`] bytes and there are at most [`MAX_MEMBERS`] of them. Members are
//! streamed one line at a time, so memory stays at one line whatever the archive
//! holds; a bomb ends with an error that says which limit it hit.
//!
//! [`records`] resolves records into the report's evidence records (payloads put back
//! together from their chunks), in two passes so that only the chunks of the records
//! asked for are held.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use base64::Engine;
use flate2::read::MultiGzDecoder;
use kenshin_files::Follow;

use super::{
    ArchiveError, ArchivedRecord, ChunkLine, Head, MAX_ARCHIVE, MAX_INFLATED, MAX_MEMBER,
    MAX_MEMBERS,
};
use crate::model::{Evidence, Payload};

/// One member line of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The chunk or record ID.
    pub name: String,
    /// True for a record, false for a chunk.
    pub record: bool,
    /// The line's bytes, without its newline.
    pub line: Vec<u8>,
}

/// The bounds a read keeps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes inflated, all members together.
    pub inflated: u64,
    /// Bytes of one member line.
    pub member: usize,
    /// Members.
    pub members: usize,
}

impl Limits {
    /// [`MAX_INFLATED`], [`MAX_MEMBER`], [`MAX_MEMBERS`].
    pub const ARCHIVE: Limits = Limits {
        inflated: MAX_INFLATED,
        member: MAX_MEMBER,
        members: MAX_MEMBERS,
    };
}

/// The members of the archive at `path`, in order.
#[derive(Debug)]
pub struct Members {
    path: PathBuf,
    reader: BufReader<Counted<MultiGzDecoder<std::io::Take<std::fs::File>>>>,
    count: usize,
    limits: Limits,
}

/// Counts inflated bytes and stops past the limit.
#[derive(Debug)]
struct Counted<R> {
    inner: R,
    total: u64,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        if self.total > self.limit {
            return Err(std::io::Error::other(InflatedTooFar));
        }
        Ok(n)
    }
}

#[derive(Debug)]
struct InflatedTooFar;

impl std::fmt::Display for InflatedTooFar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("inflated past the limit")
    }
}

impl std::error::Error for InflatedTooFar {}

/// Opens the archive at `path` for reading member by member, within [`Limits::ARCHIVE`].
pub fn members(path: &Path) -> Result<Members, ArchiveError> {
    members_within(path, Limits::ARCHIVE)
}

/// Opens the archive at `path` for reading member by member, within `limits`.
pub fn members_within(path: &Path, limits: Limits) -> Result<Members, ArchiveError> {
    let file = kenshin_files::open_regular(path, Follow::No).map_err(ArchiveError::Open)?;
    let size = file
        .metadata()
        .map_err(|source| ArchiveError::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    if size > MAX_ARCHIVE {
        return Err(ArchiveError::NotReadable {
            path: path.to_owned(),
            reason: format!("it is larger than the limit of {MAX_ARCHIVE} bytes for an archive"),
        });
    }
    let inflate = MultiGzDecoder::new(file.take(MAX_ARCHIVE));
    Ok(Members {
        path: path.to_owned(),
        reader: BufReader::with_capacity(
            64 * 1024,
            Counted {
                inner: inflate,
                total: 0,
                limit: limits.inflated,
            },
        ),
        count: 0,
        limits,
    })
}

impl Members {
    /// The next member, or `None` at the end.
    pub fn next_member(&mut self) -> Result<Option<Member>, ArchiveError> {
        let mut line = Vec::new();
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) => return Err(self.io_error(e)),
            };
            if buf.is_empty() {
                break;
            }
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            line.extend_from_slice(&buf[..take]);
            self.reader.consume(take);
            if line.len() > self.limits.member + 1 {
                return Err(ArchiveError::MemberTooLong {
                    path: self.path.clone(),
                    line: self.count + 1,
                    limit: self.limits.member,
                });
            }
            if done {
                break;
            }
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        } else if line.is_empty() {
            return Ok(None);
        }
        self.count += 1;
        if self.count > self.limits.members {
            return Err(ArchiveError::TooManyMembers {
                path: self.path.clone(),
                limit: self.limits.members,
            });
        }
        if line.len() > self.limits.member {
            return Err(ArchiveError::MemberTooLong {
                path: self.path.clone(),
                line: self.count,
                limit: self.limits.member,
            });
        }
        let bad = |reason: String| ArchiveError::BadMember {
            path: self.path.clone(),
            line: self.count,
            reason,
        };
        let head: Head = serde_json::from_slice(&line).map_err(|e| bad(e.to_string()))?;
        let (name, record) = match (head.chunk, head.id) {
            (Some(c), None) => (c, false),
            (None, Some(id)) => (id, true),
            _ => {
                return Err(bad(
                    "a member names either a chunk or a record ID".to_owned()
                ))
            }
        };
        Ok(Some(Member { name, record, line }))
    }

    /// How many members were read so far.
    pub fn count(&self) -> usize {
        self.count
    }

    fn io_error(&self, e: std::io::Error) -> ArchiveError {
        if e.get_ref()
            .is_some_and(|inner| inner.is::<InflatedTooFar>())
        {
            ArchiveError::Inflated {
                path: self.path.clone(),
                members: self.count,
                limit: self.limits.inflated,
            }
        } else {
            ArchiveError::BadMember {
                path: self.path.clone(),
                line: self.count + 1,
                reason: format!("the compressed data cannot be read: {e}"),
            }
        }
    }
}

/// The evidence records of the archive at `path`, payloads resolved: those whose IDs
/// are in `wanted`, or every record when `wanted` is `None`; in the archive's order.
pub fn records(
    path: &Path,
    wanted: Option<&BTreeSet<String>>,
) -> Result<Vec<Evidence>, ArchiveError> {
    let bad = |line: usize, e: serde_json::Error| ArchiveError::BadMember {
        path: path.to_owned(),
        line,
        reason: e.to_string(),
    };
    let mut found = Vec::new();
    let mut needed = BTreeSet::new();
    let mut m = members(path)?;
    while let Some(member) = m.next_member()? {
        if !member.record || wanted.is_some_and(|w| !w.contains(&member.name)) {
            continue;
        }
        let r: ArchivedRecord =
            serde_json::from_slice(&member.line).map_err(|e| bad(m.count(), e))?;
        needed.extend(r.sent.iter().chain(&r.received).cloned());
        found.push(r);
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let mut chunks: HashMap<String, Vec<u8>> = HashMap::new();
    let mut m = members(path)?;
    while let Some(member) = m.next_member()? {
        if member.record || !needed.contains(&member.name) {
            continue;
        }
        let c: ChunkLine<'_> =
            serde_json::from_slice(&member.line).map_err(|e| bad(m.count(), e))?;
        let bytes = engine
            .decode(c.base64)
            .map_err(|e| ArchiveError::BadMember {
                path: path.to_owned(),
                line: m.count(),
                reason: format!("chunk {} is not base64: {e}", member.name),
            })?;
        chunks.insert(member.name, bytes);
    }
    let joined = |record: &str, ids: &[String]| -> Result<Payload, ArchiveError> {
        let mut bytes = Vec::new();
        for id in ids {
            let c = chunks.get(id).ok_or_else(|| ArchiveError::MissingChunk {
                path: path.to_owned(),
                record: record.to_owned(),
                chunk: id.clone(),
            })?;
            bytes.extend_from_slice(c);
        }
        Ok(Payload::from(bytes))
    };
    found
        .into_iter()
        .map(|r| {
            Ok(Evidence {
                sent: joined(&r.id, &r.sent)?,
                received: joined(&r.id, &r.received)?,
                id: r.id,
                host: r.host,
                port: r.port,
                protocol: r.protocol,
                probe: r.probe,
                at: r.at,
                truncated: r.truncated,
                redacted: r.redacted,
                note: r.note,
                exchange: r.exchange,
            })
        })
        .collect()
}

/// The evidence records of the report folder `dir`: from its archive, or, for a folder
/// written before contract 1.2 (no archive), from report.json's `evidence` list.
pub fn folder_records(
    dir: &Path,
    wanted: Option<&BTreeSet<String>>,
) -> Result<Vec<Evidence>, ArchiveError> {
    let archive = dir.join(super::ARCHIVE);
    if std::fs::symlink_metadata(&archive).is_ok() {
        return records(&archive, wanted);
    }
    let path = dir.join("report.json");
    let bytes = kenshin_files::read(&path, super::MAX_REPORT_JSON, Follow::No)
        .map_err(ArchiveError::Open)?;
    #[derive(serde::Deserialize)]
    struct Listed {
        #[serde(default)]
        evidence: Vec<Evidence>,
    }
    let listed: Listed = serde_json::from_slice(&bytes).map_err(|e| ArchiveError::BadMember {
        path: path.clone(),
        line: 1,
        reason: e.to_string(),
    })?;
    Ok(listed
        .evidence
        .into_iter()
        .filter(|e| wanted.is_none_or(|w| w.contains(&e.id)))
        .collect())
}
