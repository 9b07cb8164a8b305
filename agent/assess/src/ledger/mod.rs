//! The asset ledger (台帳, checklist 2-①): a CSV that hospitals keep, often exported
//! from Excel in Shift_JIS, compared with the hosts a scan saw.
//!
//! Columns (header row required, English or Japanese names, any order):
//! `address` (IPアドレス), `mac` (MACアドレス), `hostname` (ホスト名), `kind` (種別),
//! `owner` (管理者), `location` (設置場所), `note` (備考). Each row needs an address,
//! a MAC or a hostname. Other columns are ignored and named in a warning. A bad value
//! is an error naming the file, line and column.
//!
//! A host matches a row by MAC first, then address, then hostname.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::identify::AssessedHost;
use crate::kind::DeviceKind;

pub mod words;

pub use words::LedgerWords;

/// The largest ledger read.
const MAX_LEDGER_BYTES: u64 = 16 * 1024 * 1024;
/// The most rows read.
const MAX_ROWS: usize = 200_000;

/// Why a ledger cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LedgerError {
    #[error(transparent)]
    Read(kenshin_files::ReadError),
    #[error("ledger {path}: {problem}", path = path.display())]
    File { path: PathBuf, problem: String },
    #[error("ledger {path} line {line}: {problem}", path = path.display())]
    Line {
        path: PathBuf,
        line: u64,
        problem: String,
    },
    #[error("ledger {path} line {line}, column {column} ({name}): {problem}", path = path.display())]
    Cell {
        path: PathBuf,
        line: u64,
        column: usize,
        name: &'static str,
        problem: String,
    },
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Line in the file (the header is line 1).
    pub line: u64,
    pub address: Option<IpAddr>,
    pub mac: Option<[u8; 6]>,
    pub hostname: Option<String>,
    pub kind: Option<DeviceKind>,
    pub owner: Option<String>,
    pub location: Option<String>,
    pub note: Option<String>,
}

/// A ledger, read and checked.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// The path as given.
    pub source: String,
    /// `UTF-8` or `Shift_JIS`.
    pub encoding: &'static str,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub entries: Vec<Entry>,
    /// Header names that are not columns kenshin reads.
    pub ignored_columns: Vec<String>,
    /// Rows by MAC, address and lower-case hostname (the first row of each), so
    /// matching thousands of hosts against a large ledger is not hosts × rows.
    index: Index,
}

#[derive(Debug, Clone, Default)]
struct Index {
    mac: HashMap<[u8; 6], usize>,
    address: HashMap<IpAddr, usize>,
    hostname: HashMap<String, usize>,
}

impl Index {
    fn new(entries: &[Entry]) -> Self {
        let mut index = Index::default();
        for (i, e) in entries.iter().enumerate() {
            if let Some(m) = e.mac {
                index.mac.entry(m).or_insert(i);
            }
            if let Some(a) = e.address {
                index.address.entry(a).or_insert(i);
            }
            if let Some(h) = &e.hostname {
                index.hostname.entry(h.to_ascii_lowercase()).or_insert(i);
            }
        }
        index
    }
}

impl Ledger {
    /// Reads and checks the ledger at `path`, with the built-in words.
    pub fn load(path: &Path) -> Result<Self, LedgerError> {
        Self::load_with(path, &builtin_words(path)?)
    }

    /// Reads and checks the ledger at `path`, with the words of a rule pack.
    pub fn load_with(path: &Path, words: &LedgerWords) -> Result<Self, LedgerError> {
        let bytes = match kenshin_files::read(path, MAX_LEDGER_BYTES, kenshin_files::Follow::Yes) {
            Ok(b) => b,
            Err(kenshin_files::ReadError::TooLarge { .. }) => {
                let len = std::fs::metadata(path).map_or(0, |m| m.len());
                return Err(LedgerError::File {
                    path: path.to_owned(),
                    problem: format!("{len} bytes; the limit is {MAX_LEDGER_BYTES}"),
                });
            }
            Err(e) => return Err(LedgerError::Read(e)),
        };
        Self::parse_with(path, &bytes, words)
    }

    /// Reads a ledger from its bytes with the built-in words; `path` names it in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, LedgerError> {
        Self::parse_with(path, bytes, &builtin_words(path)?)
    }

    /// Reads a ledger from its bytes with `words`; `path` names it in errors.
    pub fn parse_with(path: &Path, bytes: &[u8], words: &LedgerWords) -> Result<Self, LedgerError> {
        let sha256 = ring::digest::digest(&ring::digest::SHA256, bytes)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let (text, encoding) = decode(path, bytes)?;
        let lines = LineIndex::new(&text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let file_err = |problem: String| LedgerError::File {
            path: path.to_owned(),
            problem,
        };
        let headers = reader
            .headers()
            .map_err(|e| file_err(format!("the header row cannot be read ({e})")))?
            .clone();
        let mut index: HashMap<&'static str, usize> = HashMap::new();
        let mut ignored = Vec::new();
        for (i, h) in headers.iter().enumerate() {
            match words.column_of(h) {
                Some(name) if index.contains_key(name) => {
                    return Err(file_err(format!(
                        "two header columns mean {name} (the second is column {}, {h:?})",
                        i + 1
                    )));
                }
                Some(name) => {
                    index.insert(name, i);
                }
                None if !h.trim().is_empty() => ignored.push(h.to_owned()),
                None => {}
            }
        }
        if !["address", "mac", "hostname"]
            .iter()
            .any(|c| index.contains_key(c))
        {
            return Err(file_err(format!(
                "the header row {:?} has no address, mac or hostname column (accepted names: {})",
                headers.iter().collect::<Vec<_>>().join(","),
                words.accepted_columns()
            )));
        }

        let mut entries = Vec::new();
        let mut seen_addr: HashMap<IpAddr, u64> = HashMap::new();
        let mut seen_mac: HashMap<[u8; 6], u64> = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| lines.line_at(p));
                LedgerError::Line {
                    path: path.to_owned(),
                    line,
                    problem: match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => format!(
                            "{len} columns, but the header has {expected_len} (a comma or quote out of place?)"
                        ),
                        _ => e.to_string(),
                    },
                }
            })?;
            if entries.len() >= MAX_ROWS {
                return Err(file_err(format!("more than {MAX_ROWS} rows")));
            }
            let line = record.position().map_or(0, |p| lines.line_at(p));
            if record.iter().all(str::is_empty) {
                continue;
            }
            let cell = |name: &'static str| -> Option<(usize, &str)> {
                index
                    .get(name)
                    .and_then(|&i| record.get(i).map(|v| (i + 1, v)))
                    .filter(|(_, v)| !v.is_empty())
            };
            let bad = |column: usize, name: &'static str, problem: String| LedgerError::Cell {
                path: path.to_owned(),
                line,
                column,
                name,
                problem,
            };
            let address = match cell("address") {
                Some((col, v)) => Some(v.parse::<IpAddr>().map_err(|_| {
                    bad(
                        col,
                        "address",
                        format!("{v:?} is not an IPv4 or IPv6 address"),
                    )
                })?),
                None => None,
            };
            let mac = match cell("mac") {
                Some((col, v)) => Some(parse_mac(v).ok_or_else(|| {
                    bad(
                        col,
                        "mac",
                        format!("{v:?} is not a MAC address (write 00:09:5c:4b:01:01)"),
                    )
                })?),
                None => None,
            };
            let kind = match cell("kind") {
                Some((col, v)) => Some(words.kind_of(v).ok_or_else(|| {
                    bad(
                        col,
                        "kind",
                        format!("{v:?} is not a kind (use {})", words.accepted_kinds()),
                    )
                })?),
                None => None,
            };
            let text = |name| cell(name).map(|(_, v)| v.to_owned());
            let entry = Entry {
                line,
                address,
                mac,
                hostname: text("hostname").map(|h| h.to_lowercase()),
                kind,
                owner: text("owner"),
                location: text("location"),
                note: text("note"),
            };
            if entry.address.is_none() && entry.mac.is_none() && entry.hostname.is_none() {
                return Err(LedgerError::Line {
                    path: path.to_owned(),
                    line,
                    problem: "a row needs an address, a MAC or a hostname".to_owned(),
                });
            }
            if let Some(a) = entry.address {
                if let Some(first) = seen_addr.insert(a, line) {
                    return Err(LedgerError::Line {
                        path: path.to_owned(),
                        line,
                        problem: format!("address {a} is already on line {first}"),
                    });
                }
            }
            if let Some(m) = entry.mac {
                if let Some(first) = seen_mac.insert(m, line) {
                    return Err(LedgerError::Line {
                        path: path.to_owned(),
                        line,
                        problem: format!("MAC {} is already on line {first}", mac_string(m)),
                    });
                }
            }
            entries.push(entry);
        }
        Ok(Self {
            source: path.display().to_string(),
            encoding,
            sha256,
            index: Index::new(&entries),
            entries,
            ignored_columns: ignored,
        })
    }

    /// The hostname each host's row gives it (rows without one give none), by address:
    /// the names its certificates are judged against.
    pub fn names_for(
        &self,
        hosts: &[kenshin_probe::observation::HostObservation],
    ) -> HashMap<IpAddr, String> {
        hosts
            .iter()
            .filter_map(|h| {
                let row = self.find(h.address, h.mac, &h.hostnames)?;
                Some((h.address, self.entries.get(row)?.hostname.clone()?))
            })
            .collect()
    }

    /// The row a host matches: by MAC, else address, else hostname.
    pub fn find(&self, address: IpAddr, mac: Option<[u8; 6]>, names: &[String]) -> Option<usize> {
        let by_mac = mac.and_then(|m| self.index.mac.get(&m).copied());
        by_mac
            .or_else(|| self.index.address.get(&address).copied())
            .or_else(|| {
                names
                    .iter()
                    .filter_map(|n| self.index.hostname.get(&n.to_ascii_lowercase()).copied())
                    .min()
            })
    }
}

/// The ledger against the hosts seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// (host address, row index) for every host that matched a row.
    pub matched: Vec<(IpAddr, usize)>,
    /// Hosts no row names.
    pub unregistered: Vec<IpAddr>,
    /// Rows (indexes) in scope, or with no address, that no host matched.
    pub not_seen: Vec<usize>,
    /// Rows whose address the scan did not cover.
    pub out_of_scope: usize,
}

impl Comparison {
    /// The addresses of hosts that matched a row.
    pub fn registered(&self) -> BTreeSet<IpAddr> {
        self.matched.iter().map(|(a, _)| *a).collect()
    }
}

/// Compares the ledger with the hosts seen; `in_scope` says whether an address was scanned.
pub fn compare(
    ledger: &Ledger,
    hosts: &[AssessedHost],
    in_scope: impl Fn(IpAddr) -> bool,
) -> Comparison {
    let mut out = Comparison::default();
    let mut used = vec![false; ledger.entries.len()];
    for h in hosts {
        let o = &h.observation;
        match ledger.find(o.address, o.mac, &o.hostnames) {
            Some(i) => {
                used[i] = true;
                out.matched.push((o.address, i));
            }
            None => out.unregistered.push(o.address),
        }
    }
    for (i, e) in ledger.entries.iter().enumerate() {
        if used[i] {
            continue;
        }
        match e.address {
            Some(a) if !in_scope(a) => out.out_of_scope += 1,
            _ => out.not_seen.push(i),
        }
    }
    out
}

/// Where each line of the text starts, so a record's line is found by a binary
/// search instead of counting line feeds from the start for every row (which made a
/// 160,000-row ledger take a minute).
struct LineIndex<'a> {
    bytes: &'a [u8],
    /// Byte offsets of every line feed.
    feeds: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let feeds = bytes
            .iter()
            .enumerate()
            .filter_map(|(i, &b)| (b == b'\n').then_some(i))
            .collect();
        LineIndex { bytes, feeds }
    }

    /// The 1-based line a record starts on, counted from line feeds (the csv crate's
    /// own count differs between LF and CRLF files).
    fn line_at(&self, pos: &csv::Position) -> u64 {
        let bytes = self.bytes;
        let mut end = usize::try_from(pos.byte())
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        // With CRLF, a record's position may point at the line feed before it.
        while end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
            end += 1;
        }
        // Line feeds before `end`.
        1 + self.feeds.partition_point(|&f| f < end) as u64
    }
}

fn decode(path: &Path, bytes: &[u8]) -> Result<(String, &'static str), LedgerError> {
    // Excel's "Unicode text" is UTF-16 with a byte-order mark: neither of the encodings
    // read here, and Shift_JIS decoding would turn it into nonsense without an error.
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        return Err(LedgerError::File {
            path: path.to_owned(),
            problem: "UTF-16 (Excel's \"Unicode text\"), which kenshin does not read; save it \
                      from Excel as \"CSV UTF-8\" or \"CSV\""
                .to_owned(),
        });
    }
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return Ok((s.to_owned(), "UTF-8"));
    }
    let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(body);
    if had_errors {
        let offset = std::str::from_utf8(body)
            .err()
            .map_or(0, |e| e.valid_up_to());
        return Err(LedgerError::File {
            path: path.to_owned(),
            problem: format!(
                "neither UTF-8 nor Shift_JIS (the first byte that is not UTF-8 is at offset {offset}); \
                 save it from Excel as \"CSV UTF-8\" or \"CSV\""
            ),
        });
    }
    Ok((text.into_owned(), "Shift_JIS"))
}

/// `00:09:5c:4b:01:01`, `00-09-5C-4B-01-01`, `0009.5c4b.0101` or `00095c4b0101`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 6];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `00:09:5c:4b:01:01`.
pub fn mac_string(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The built-in words, or an error naming the ledger being read.
fn builtin_words(path: &Path) -> Result<LedgerWords, LedgerError> {
    LedgerWords::builtin().map_err(|p| LedgerError::File {
        path: path.to_owned(),
        problem: format!("the built-in ledger words are invalid: {p}"),
    })
}

#[cfg(test)]
mod tests;
