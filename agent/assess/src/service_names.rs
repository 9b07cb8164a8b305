//! Service names that are data (`rules/service-names.toml`): the report's name for a
//! protocol heard inside TLS (`http` → `https`), and how a greeting that fits several
//! protocols takes its port's catalog name. Both carry examples that
//! [`ServiceNames::verify`] runs.

use std::collections::BTreeMap;

use kenshin_probe::ports::PortCatalog;
use serde::Deserialize;

use crate::rulefile::{parse, place, Problem, Problems, Source};

/// The file's path in the rules tree.
pub const FILE: &str = "service-names.toml";

/// The shipped names.
pub const BUILTIN: &str = include_str!("../../../rules/service-names.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    inside_tls: InsideTls,
    #[serde(default)]
    ambiguous: Vec<Ambiguous>,
}

/// Names of protocols heard inside TLS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsideTls {
    /// Appended to a protocol not in `names`.
    pub suffix: String,
    /// Protocol heard → the report's name.
    pub names: BTreeMap<String, String>,
    #[serde(default)]
    pub example: Vec<TlsExample>,
}

/// A protocol heard inside TLS and the name it must get.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsExample {
    pub detected: String,
    pub service: String,
}

/// A greeting that fits several protocols.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ambiguous {
    /// The probe's name for it (`ftp-or-smtp`).
    pub detected: String,
    /// Catalog services of the port that settle it.
    pub port_names: Vec<String>,
    #[serde(default)]
    pub example: Vec<AmbiguousExample>,
}

/// The port's catalog service and the name the service must get.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmbiguousExample {
    #[serde(default)]
    pub port_name: Option<String>,
    pub service: String,
}

/// The names, checked.
#[derive(Debug, Clone)]
pub struct ServiceNames {
    pub inside_tls: InsideTls,
    pub ambiguous: Vec<Ambiguous>,
}

/// What [`ServiceNames::verify`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub names: usize,
    pub examples: usize,
}

/// True for a report service name: lower-case letters, digits and '-'.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl ServiceNames {
    /// The shipped names.
    pub fn builtin() -> Result<Self, Problems> {
        Self::parse(BUILTIN)
    }

    /// Parses and checks the file.
    pub fn parse(text: &str) -> Result<Self, Problems> {
        let source = Source {
            path: FILE.to_owned(),
            text: text.to_owned(),
        };
        let file: File = parse(&source)?;
        let mut problems = Vec::new();
        let names = file.inside_tls.names.iter().flat_map(|(k, v)| [k, v]);
        let ambiguous = file
            .ambiguous
            .iter()
            .flat_map(|a| std::iter::once(&a.detected).chain(&a.port_names));
        for name in names.chain(ambiguous) {
            if !valid_name(name) {
                problems.push(Problem::in_rule(
                    FILE,
                    name.as_str(),
                    "a service name is lower-case letters, digits and '-'",
                ));
            }
        }
        if !valid_name(file.inside_tls.suffix.trim_start_matches('-')) {
            problems.push(Problem::in_file(
                FILE,
                "inside_tls.suffix: write -tls style",
            ));
        }
        place(&mut problems, std::slice::from_ref(&source));
        Problems::or_ok(
            problems,
            Self {
                inside_tls: file.inside_tls,
                ambiguous: file.ambiguous,
            },
        )
    }

    /// The report's name for `detected` heard inside TLS.
    pub fn inside_tls(&self, detected: &str) -> String {
        self.inside_tls
            .names
            .get(detected)
            .cloned()
            .unwrap_or_else(|| format!("{detected}{}", self.inside_tls.suffix))
    }

    /// The port's catalog name, when `detected` is ambiguous and that name settles it.
    pub fn settle(&self, detected: &str, port_name: Option<&str>) -> Option<String> {
        let port_name = port_name?;
        self.ambiguous
            .iter()
            .find(|a| a.detected == detected)
            .filter(|a| a.port_names.iter().any(|n| n == port_name))
            .map(|_| port_name.to_owned())
    }

    /// Runs every example and checks that each name that settles an ambiguous greeting
    /// is a service of the port catalog.
    pub fn verify(&self, catalog: &PortCatalog) -> Result<Verified, Problems> {
        let mut problems = Vec::new();
        let mut v = Verified {
            names: self.inside_tls.names.len()
                + self
                    .ambiguous
                    .iter()
                    .map(|a| a.port_names.len())
                    .sum::<usize>(),
            examples: 0,
        };
        for x in &self.inside_tls.example {
            v.examples += 1;
            let got = self.inside_tls(&x.detected);
            if got != x.service {
                problems.push(Problem::in_file(
                    FILE,
                    format!(
                        "inside_tls: {:?} is named {got:?}, the example expects {:?}",
                        x.detected, x.service
                    ),
                ));
            }
        }
        for a in &self.ambiguous {
            let at = |m: String| Problem::in_file(FILE, format!("ambiguous {:?}: {m}", a.detected));
            for n in &a.port_names {
                if !catalog.entries.iter().any(|e| &e.service == n) {
                    problems.push(at(format!("{n:?} is no service of ports.toml")));
                }
            }
            for x in &a.example {
                v.examples += 1;
                let got = self
                    .settle(&a.detected, x.port_name.as_deref())
                    .unwrap_or_else(|| a.detected.clone());
                if got != x.service {
                    problems.push(at(format!(
                        "on a port named {:?} the service is {got:?}, the example expects {:?}",
                        x.port_name, x.service
                    )));
                }
            }
        }
        Problems::or_ok(problems, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> ServiceNames {
        ServiceNames::builtin().expect("the shipped names parse")
    }

    #[test]
    fn the_shipped_names_hold_their_examples() {
        let catalog = PortCatalog::builtin().expect("catalog");
        let v = names().verify(&catalog).expect("examples hold");
        assert!(v.examples >= 5, "{v:?}");
        assert_eq!(names().inside_tls("imap"), "imaps");
        assert_eq!(names().inside_tls("vnc"), "vnc-tls");
        assert_eq!(
            names().settle("ftp-or-smtp", Some("smtp")).as_deref(),
            Some("smtp")
        );
        assert_eq!(names().settle("ftp-or-smtp", Some("http")), None);
        assert_eq!(names().settle("ssh", Some("ssh")), None);
    }

    #[test]
    fn a_wrong_example_and_a_name_outside_the_catalog_are_named() {
        let text = BUILTIN
            .replacen(
                "{ detected = \"rdp\", service = \"rdp-tls\" }",
                "{ detected = \"rdp\", service = \"rdps\" }",
                1,
            )
            .replacen("\"submission\"]", "\"submision\"]", 1);
        let catalog = PortCatalog::builtin().expect("catalog");
        let problems = ServiceNames::parse(&text)
            .expect("parses")
            .verify(&catalog)
            .expect_err("two problems");
        assert!(
            problems.mention("\"rdp\" is named \"rdp-tls\""),
            "{problems}"
        );
        assert!(
            problems.mention("\"submision\" is no service of ports.toml"),
            "{problems}"
        );
        let problems = ServiceNames::parse(&BUILTIN.replacen("\"https\"", "\"HTTPS\"", 1))
            .expect_err("upper case");
        assert!(problems.mention("rule HTTPS"), "{problems}");
    }
}
