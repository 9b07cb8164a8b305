//! Naming what changed inside the evidence archive: when `evidence.jsonl.gz` no longer
//! has its sealed hash but `evidence.sha256` (the sealed member list) still does, each
//! member line is hashed again and compared with the list, so verify names the record
//! or chunk that changed, the member that was added and the one that went missing.
//!
//! The archive is read through [`crate::archive::read`], bounded in bytes inflated,
//! line length and member count; the list is read whole (it was checked against the
//! manifest, at most [`crate::archive::MAX_INDEX`] bytes). At most [`MAX_LISTED`]
//! members are named one by one; the rest are counted.

use std::collections::HashMap;
use std::path::Path;

use super::Problem;
use crate::archive::{self, read};

/// The most archive members named one by one.
pub(super) const MAX_LISTED: usize = 100;

/// One sealed member: its hash and whether the archive still holds it.
struct Sealed {
    sha256: String,
    seen: bool,
}

/// What differs between the archive in `dir` and its sealed member list `index`.
pub(super) fn compare(dir: &Path, index: &[u8]) -> Vec<Problem> {
    let name = archive::ARCHIVE.to_owned();
    let mut found = Found {
        archive: name.clone(),
        problems: Vec::new(),
        more: 0,
    };
    let (mut sealed, order) = match parse_index(index) {
        Ok(parsed) => parsed,
        Err(line) => {
            return vec![Problem::ArchiveUnreadable {
                archive: name,
                reason: format!(
                    "line {line} of the sealed {} is not `SHA-256  name`",
                    archive::INDEX
                ),
            }]
        }
    };
    let mut members = match read::members(&dir.join(archive::ARCHIVE)) {
        Ok(m) => m,
        Err(e) => {
            return vec![Problem::ArchiveUnreadable {
                archive: name,
                reason: e.to_string(),
            }]
        }
    };
    let mut complete = true;
    loop {
        let member = match members.next_member() {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(e) => {
                found.push(Problem::ArchiveUnreadable {
                    archive: name.clone(),
                    reason: e.to_string(),
                });
                complete = false;
                break;
            }
        };
        let hash = hex(&member.line);
        match sealed.get_mut(&member.name) {
            Some(s) if !s.seen => {
                s.seen = true;
                if s.sha256 != hash {
                    found.push(Problem::MemberChanged {
                        archive: name.clone(),
                        member: member.name,
                        record: member.record,
                    });
                }
            }
            _ => found.push(Problem::MemberAdded {
                archive: name.clone(),
                member: member.name,
            }),
        }
    }
    if complete {
        for member in order {
            if sealed.get(&member).is_some_and(|s| !s.seen) {
                found.push(Problem::MemberMissing {
                    archive: name.clone(),
                    member,
                });
            }
        }
    }
    found.finish()
}

/// Problems found so far, the first [`MAX_LISTED`] kept.
struct Found {
    archive: String,
    problems: Vec<Problem>,
    more: usize,
}

impl Found {
    fn push(&mut self, p: Problem) {
        if self.problems.len() < MAX_LISTED || matches!(p, Problem::ArchiveUnreadable { .. }) {
            self.problems.push(p);
        } else {
            self.more += 1;
        }
    }

    fn finish(mut self) -> Vec<Problem> {
        if self.more > 0 {
            self.problems.push(Problem::MoreMembers {
                archive: self.archive,
                count: self.more,
            });
        }
        self.problems
    }
}

/// The member list: hash by name, and the names in order. `Err` is the first line
/// that is not `64 hex digits, two spaces, a name`.
fn parse_index(index: &[u8]) -> Result<(HashMap<String, Sealed>, Vec<String>), usize> {
    let text = std::str::from_utf8(index).map_err(|_| 1usize)?;
    let mut sealed = HashMap::new();
    let mut order = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let (hash, name) = line.split_once("  ").ok_or(i + 1)?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || name.is_empty() {
            return Err(i + 1);
        }
        let entry = Sealed {
            sha256: hash.to_ascii_lowercase(),
            seen: false,
        };
        if sealed.insert(name.to_owned(), entry).is_some() {
            return Err(i + 1);
        }
        order.push(name.to_owned());
    }
    Ok((sealed, order))
}

fn hex(line: &[u8]) -> String {
    use std::fmt::Write;
    ring::digest::digest(&ring::digest::SHA256, line)
        .as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
