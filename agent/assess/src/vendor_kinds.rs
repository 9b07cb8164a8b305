//! Device kinds from MAC vendors: `rules/mac-vendors.toml`, regexes over the IEEE
//! registry's organisation name, each with examples and counterexamples that
//! [`VendorKinds::verify`] checks.

use regex::Regex;
use serde::Deserialize;

use crate::kind::DeviceKind;
use crate::rulefile::{parse, table_line, ExampleCheck, Problem, Problems, Source};

/// The rules' path in the rules tree.
pub const FILE: &str = "mac-vendors.toml";

/// The shipped rules.
pub const BUILTIN: &str = include_str!("../../../rules/mac-vendors.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    vendor: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    kind: String,
    regex: String,
    example: Vec<String>,
    #[serde(default)]
    counterexample: Vec<String>,
}

/// One vendor rule.
#[derive(Debug, Clone)]
pub struct VendorRule {
    pub kind: DeviceKind,
    /// The line of its `[[vendor]]` header.
    pub line: Option<usize>,
    regex: Regex,
    pub examples: Vec<String>,
    pub counterexamples: Vec<String>,
}

/// Every vendor rule, in file order.
#[derive(Debug, Clone)]
pub struct VendorKinds {
    pub rules: Vec<VendorRule>,
}

impl VendorKinds {
    /// Parses a rule file; every problem is named by its line.
    pub fn parse(text: &str) -> Result<Self, Problems> {
        let source = Source {
            path: FILE.to_owned(),
            text: text.to_owned(),
        };
        let file: File = parse(&source)?;
        let mut problems = Vec::new();
        let mut rules = Vec::new();
        for (i, r) in file.vendor.into_iter().enumerate() {
            let line = table_line(text, "[[vendor]]", i);
            let at = |m: String| Problem {
                line,
                ..Problem::in_file(FILE, format!("vendor rule {}: {m}", i + 1))
            };
            let kind = DeviceKind::parse(&r.kind);
            let regex = Regex::new(&r.regex);
            match (kind, regex) {
                (Some(kind), Ok(regex)) => rules.push(VendorRule {
                    kind,
                    line,
                    regex,
                    examples: r.example,
                    counterexamples: r.counterexample,
                }),
                (k, re) => {
                    if k.is_none() {
                        problems.push(at(format!("unknown kind {:?}", r.kind)));
                    }
                    if let Err(e) = re {
                        problems.push(at(format!("bad regex: {e}")));
                    }
                }
            }
        }
        Problems::or_ok(problems, Self { rules })
    }

    /// The shipped rules.
    pub fn builtin() -> Result<Self, Problems> {
        Self::parse(BUILTIN)
    }

    /// The kind a vendor name points to, if any rule matches.
    pub fn kind_of(&self, vendor: &str) -> Option<DeviceKind> {
        self.rules
            .iter()
            .find(|r| r.regex.is_match(vendor))
            .map(|r| r.kind)
    }

    /// Checks every example (gives its rule's kind) and counterexample (gives no kind
    /// of that rule); returns the number of examples checked.
    pub fn verify(&self) -> Result<usize, Problems> {
        let mut problems = Vec::new();
        let mut n = 0;
        for r in &self.rules {
            let kind = r.kind.as_str();
            n += ExampleCheck {
                examples: &r.examples,
                counterexamples: &r.counterexamples,
                holds: |e: &String| self.kind_of(e) == Some(r.kind),
                missed: |_, e| format!("{e:?} should be {kind}"),
                matched: |_, c| format!("{c:?} must not be {kind}"),
                counterexample_required: false,
            }
            .run(|m| {
                problems.push(Problem {
                    line: r.line,
                    ..Problem::in_file(FILE, format!("{kind} rule: {m}"))
                })
            });
        }
        Problems::or_ok(problems, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_vendor_rules_hold_their_examples() {
        let v = VendorKinds::builtin().expect("parses");
        assert!(v.verify().expect("examples hold") >= 20);
        assert_eq!(
            v.kind_of("Philips Medical Systems"),
            Some(DeviceKind::MedicalDevice)
        );
        assert_eq!(v.kind_of("Dell Inc."), None);
    }

    #[test]
    fn an_unknown_kind_and_a_bad_regex_are_named() {
        let e = VendorKinds::parse(
            "[[vendor]]\nkind = \"toaster\"\nregex = \"(\"\nexample = [\"x\"]\n",
        )
        .expect_err("bad");
        assert!(
            e.mention("mac-vendors.toml:1: vendor rule 1: unknown kind \"toaster\""),
            "{e}"
        );
        assert!(e.mention("bad regex"), "{e}");
    }
}
