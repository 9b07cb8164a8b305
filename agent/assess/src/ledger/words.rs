//! The words an asset ledger may use (`rules/ledger.toml`): the header names of each
//! column kenshin reads and the words of the `kind` column, with examples that
//! [`LedgerWords::verify`] runs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::kind::DeviceKind;
use crate::rulefile::{parse, table_line, Problem, Problems, Source};

/// The file's path in the rules tree.
pub const FILE: &str = "ledger.toml";

/// The shipped words.
pub const BUILTIN: &str = include_str!("../../../../rules/ledger.toml");

/// The columns kenshin reads, in report order.
pub const COLUMNS: [&str; 7] = [
    "address", "mac", "hostname", "kind", "owner", "location", "note",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    columns: Columns,
    kinds: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    example: Vec<RawExample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Columns {
    address: Vec<String>,
    mac: Vec<String>,
    hostname: Vec<String>,
    kind: Vec<String>,
    owner: Vec<String>,
    location: Vec<String>,
    note: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    #[serde(default)]
    header: Option<String>,
    #[serde(default)]
    column: Option<String>,
    #[serde(default)]
    word: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// One example: a cell as written and what it must mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Example {
    Header { header: String, column: String },
    Kind { word: String, kind: DeviceKind },
}

/// The ledger's words, checked.
#[derive(Debug, Clone)]
pub struct LedgerWords {
    /// (column, the header names that mean it), in [`COLUMNS`] order.
    pub columns: Vec<(&'static str, Vec<String>)>,
    /// (kind, the words that mean it).
    pub kinds: Vec<(DeviceKind, Vec<String>)>,
    pub examples: Vec<(Option<usize>, Example)>,
}

/// How a cell is compared: trimmed, lower case.
fn norm(cell: &str) -> String {
    cell.trim().to_lowercase()
}

impl LedgerWords {
    /// The shipped words.
    pub fn builtin() -> Result<Self, Problems> {
        Self::parse(BUILTIN)
    }

    /// Parses and checks the file: every word in lower case and meaning one thing,
    /// every kind a report kind.
    pub fn parse(text: &str) -> Result<Self, Problems> {
        let source = Source {
            path: FILE.to_owned(),
            text: text.to_owned(),
        };
        let file: File = parse(&source)?;
        let mut problems = Vec::new();
        let c = file.columns;
        let columns: Vec<(&'static str, Vec<String>)> = COLUMNS
            .into_iter()
            .zip([
                c.address, c.mac, c.hostname, c.kind, c.owner, c.location, c.note,
            ])
            .collect();
        let mut kinds = Vec::new();
        for (k, words) in file.kinds {
            match DeviceKind::parse(&k) {
                Some(kind) => kinds.push((kind, words)),
                None => problems.push(Problem::in_file(
                    FILE,
                    format!("kinds: {k:?} is not a report kind"),
                )),
            }
        }
        let mut seen = BTreeSet::new();
        let all = columns
            .iter()
            .map(|(c, w)| (format!("columns.{c}"), w))
            .chain(
                kinds
                    .iter()
                    .map(|(k, w)| (format!("kinds.{}", k.as_str()), w)),
            );
        for (what, words) in all {
            for w in words {
                if *w != norm(w) {
                    problems.push(Problem::in_file(
                        FILE,
                        format!("{what}: write {w:?} in lower case, without spaces around"),
                    ));
                }
                let group = what.split('.').next().unwrap_or_default().to_owned();
                if !seen.insert((group, w.clone())) {
                    problems.push(Problem::in_file(
                        FILE,
                        format!("{what}: {w:?} already means something else"),
                    ));
                }
            }
        }
        let mut examples = Vec::new();
        for (i, x) in file.example.into_iter().enumerate() {
            let line = table_line(text, "[[example]]", i);
            let example = match x {
                RawExample {
                    header: Some(header),
                    column: Some(column),
                    word: None,
                    kind: None,
                } => Some(Example::Header { header, column }),
                RawExample {
                    header: None,
                    column: None,
                    word: Some(word),
                    kind: Some(kind),
                } => DeviceKind::parse(&kind).map(|kind| Example::Kind { word, kind }),
                _ => None,
            };
            match example {
                Some(e) => examples.push((line, e)),
                None => problems.push(Problem {
                    line,
                    ..Problem::in_file(
                        FILE,
                        format!(
                            "example {}: give header and column, or word and a report kind",
                            i + 1
                        ),
                    )
                }),
            }
        }
        Problems::or_ok(
            problems,
            Self {
                columns,
                kinds,
                examples,
            },
        )
    }

    /// The column a header cell means.
    pub fn column_of(&self, header: &str) -> Option<&'static str> {
        let h = norm(header);
        self.columns
            .iter()
            .find(|(_, names)| names.contains(&h))
            .map(|(c, _)| *c)
    }

    /// The kind a `kind` cell means: the report's spelling or one of its words.
    pub fn kind_of(&self, cell: &str) -> Option<DeviceKind> {
        let w = norm(cell);
        DeviceKind::parse(&w).or_else(|| {
            self.kinds
                .iter()
                .find(|(_, words)| words.contains(&w))
                .map(|(k, _)| *k)
        })
    }

    /// Every column with its header names, for an error message.
    pub fn accepted_columns(&self) -> String {
        self.columns
            .iter()
            .map(|(n, names)| format!("{n} = {}", names.join("/")))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Every kind with its first word, for an error message.
    pub fn accepted_kinds(&self) -> String {
        self.kinds
            .iter()
            .map(|(k, words)| match words.first() {
                Some(w) => format!("{}/{w}", k.as_str()),
                None => k.as_str().to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Runs every example; returns how many.
    pub fn verify(&self) -> Result<usize, Problems> {
        let mut problems = Vec::new();
        for (line, x) in &self.examples {
            let wrong = match x {
                Example::Header { header, column } => {
                    let got = self.column_of(header);
                    (got != Some(column.as_str()))
                        .then(|| format!("header {header:?} means {got:?}, not {column:?}"))
                }
                Example::Kind { word, kind } => {
                    let got = self.kind_of(word).map(DeviceKind::as_str);
                    (got != Some(kind.as_str()))
                        .then(|| format!("kind {word:?} means {got:?}, not {:?}", kind.as_str()))
                }
            };
            if let Some(m) = wrong {
                problems.push(Problem {
                    line: *line,
                    ..Problem::in_file(FILE, m)
                });
            }
        }
        Problems::or_ok(problems, self.examples.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_words_hold_their_examples() {
        let w = LedgerWords::builtin().expect("parses");
        assert!(w.verify().expect("examples hold") >= 5);
        assert_eq!(w.column_of(" IPアドレス "), Some("address"));
        assert_eq!(w.kind_of("プリンター"), Some(DeviceKind::Printer));
        assert_eq!(w.kind_of("toaster"), None);
    }

    #[test]
    fn a_word_meaning_two_things_and_a_wrong_example_are_named() {
        let text = BUILTIN.replacen("\"iot機器\"", "\"iot機器\", \"複合機\"", 1);
        let e = LedgerWords::parse(&text).expect_err("a word twice");
        assert!(
            e.mention("kinds.printer: \"複合機\" already means something else")
                || e.mention("kinds.iot: \"複合機\" already means something else"),
            "{e}"
        );
        let text = BUILTIN.replacen("kind = \"printer\"", "kind = \"iot\"", 1);
        let e = LedgerWords::parse(&text)
            .expect("parses")
            .verify()
            .expect_err("wrong example");
        assert!(
            e.mention("kind \"複合機\" means Some(\"printer\"), not \"iot\""),
            "{e}"
        );
    }
}
