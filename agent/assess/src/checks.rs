//! Checks as self-testing data: `rules/checks/*.toml`.
//!
//! A check has a stable ID (`service.telnet`, `tls.legacy-protocol` …), a scope (one
//! service, or one host), a severity and a confidence, title, rationale and
//! remediation in Japanese and English, the requirement IDs it bears on
//! (`framework:id`, resolved against the registries), and a condition: matchers that
//! must all hold (`match`) and matchers none of which may (`unless`), over the fields
//! of [`crate::subject`]. Every check carries examples (fields in, the check fires)
//! and counterexamples (fields in, it stays silent); [`CheckSet::verify`] runs them
//! all, and the noise corpus ([`crate::noise`]) must trigger nothing at all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kenshin_probe::observation::Facts;
use serde::Deserialize;

use crate::finding::{Confidence, RequirementRef, Severity, Text};
use crate::matcher::{compile_all, example_fields, render, template_fields, Matcher, RawMatcher};
use crate::requirements::Registry;
use crate::rulefile::{duplicate_ids, parse_each, place, read_toml_dir, Problem, Problems, Source};
use crate::subject::{known_field, unknown_field};

/// The checks' folder in the rules tree.
pub const FOLDER: &str = "checks";

/// The shipped check files, in evaluation order.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "inventory.toml",
        include_str!("../../../rules/checks/inventory.toml"),
    ),
    (
        "remote-access.toml",
        include_str!("../../../rules/checks/remote-access.toml"),
    ),
    (
        "services.toml",
        include_str!("../../../rules/checks/services.toml"),
    ),
    ("tls.toml", include_str!("../../../rules/checks/tls.toml")),
];

/// What a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Each open service (with its host's fields).
    Service,
    /// Each host once.
    Host,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    check: Vec<RawCheck>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: String,
    scope: Scope,
    severity: Severity,
    confidence: Confidence,
    title: Text,
    rationale: Text,
    remediation: Text,
    /// What was seen, with `${field}` filled from the subject.
    detail: String,
    requirements: Vec<String>,
    #[serde(rename = "match")]
    matchers: Vec<RawMatcher>,
    #[serde(default)]
    unless: Vec<RawMatcher>,
    example: Vec<RawExample>,
    #[serde(default)]
    counterexample: Vec<RawExample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    fields: BTreeMap<String, toml::Value>,
    /// Text the rendered detail must contain.
    #[serde(default)]
    detail: Option<String>,
}

/// One example, with its fields parsed.
#[derive(Debug, Clone)]
pub struct Example {
    pub fields: Facts,
    pub detail: Option<String>,
}

/// A checked check.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub file: String,
    pub scope: Scope,
    pub severity: Severity,
    pub confidence: Confidence,
    pub title: Text,
    pub rationale: Text,
    pub remediation: Text,
    pub detail: String,
    pub requirements: Vec<RequirementRef>,
    matchers: Vec<Matcher>,
    unless: Vec<Matcher>,
    pub examples: Vec<Example>,
    pub counterexamples: Vec<Example>,
}

impl Check {
    /// True if the check fires on these fields.
    pub fn fires(&self, fields: &Facts) -> bool {
        self.matchers.iter().all(|m| m.holds(fields))
            && !self.unless.iter().any(|m| m.holds(fields))
    }

    /// The detail line for these fields.
    pub fn detail_for(&self, fields: &Facts) -> String {
        render(&self.detail, fields)
    }
}

/// Every check, in file then entry order.
#[derive(Debug, Clone)]
pub struct CheckSet {
    pub checks: Vec<Check>,
}

/// What `rules verify` reports about the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub checks: usize,
    pub files: usize,
    pub examples: usize,
    pub counterexamples: usize,
}

/// Checks a stable check ID: lower-case dotted words.
pub fn valid_id(id: &str) -> bool {
    id.contains('.')
        && id.split('.').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

fn compile(file: &str, raw: RawCheck) -> Result<Check, Vec<Problem>> {
    let mut problems = Vec::new();
    let at = |message: String| Problem::in_rule(file, raw.id.as_str(), message);
    if !valid_id(&raw.id) {
        problems.push(at("the ID must be lower-case dotted words".into()));
    }
    for (what, t) in [
        ("title", &raw.title),
        ("rationale", &raw.rationale),
        ("remediation", &raw.remediation),
    ] {
        if t.is_blank() {
            problems.push(at(format!("`{what}` needs both ja and en")));
        }
    }
    for f in template_fields(&raw.detail) {
        if !known_field(f) {
            problems.push(at(format!("detail uses ${{{f}}}: {}", unknown_field(f))));
        }
    }
    let mut requirements = Vec::new();
    for r in &raw.requirements {
        match RequirementRef::parse(r) {
            Some(x) => requirements.push(x),
            None => problems.push(at(format!("requirement {r:?} is not framework:id"))),
        }
    }
    if requirements.is_empty() {
        problems.push(at("maps to no requirement".into()));
    }
    if raw.matchers.is_empty() {
        problems.push(at("`match` is empty".into()));
    }
    let matchers = compile_all(&raw.matchers).map_err(|e| at(format!("match: {e}")));
    let unless = compile_all(&raw.unless).map_err(|e| at(format!("unless: {e}")));
    let parse = |xs: &[RawExample], what: &str, problems: &mut Vec<Problem>| -> Vec<Example> {
        xs.iter()
            .enumerate()
            .filter_map(|(i, x)| match example_fields(&x.fields) {
                Ok(fields) => Some(Example {
                    fields,
                    detail: x.detail.clone(),
                }),
                Err(e) => {
                    problems.push(at(format!("{what} {}: {e}", i + 1)));
                    None
                }
            })
            .collect()
    };
    let examples = parse(&raw.example, "example", &mut problems);
    let counterexamples = parse(&raw.counterexample, "counterexample", &mut problems);
    if raw.example.is_empty() {
        problems.push(at("needs at least one example".into()));
    }
    let (matchers, unless) = match (matchers, unless) {
        (Ok(m), Ok(u)) => (m, u),
        (m, u) => {
            problems.extend(m.err());
            problems.extend(u.err());
            return Err(problems);
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Check {
        id: raw.id,
        file: file.to_owned(),
        scope: raw.scope,
        severity: raw.severity,
        confidence: raw.confidence,
        title: raw.title,
        rationale: raw.rationale,
        remediation: raw.remediation,
        detail: raw.detail,
        requirements,
        matchers,
        unless,
        examples,
        counterexamples,
    })
}

impl CheckSet {
    /// The shipped checks.
    pub fn builtin() -> Result<Self, Problems> {
        Self::from_sources(&crate::rulefile::owned(FOLDER, BUILTIN))
    }

    /// Every `*.toml` in `dir` (the rules tree's `checks/`).
    pub fn load_dir(dir: &Path) -> Result<Self, Problems> {
        Self::from_sources(&read_toml_dir(dir, FOLDER)?)
    }

    /// Parses files in path order; every problem is named by file, line and check.
    pub fn from_sources(sources: &[Source]) -> Result<Self, Problems> {
        let mut checks: Vec<Check> = Vec::new();
        let mut problems = parse_each(sources, |source, file: File, problems| {
            for raw in file.check {
                match compile(&source.path, raw) {
                    Ok(c) => checks.push(c),
                    Err(p) => problems.extend(p),
                }
            }
        });
        problems.extend(duplicate_ids(
            checks.iter().map(|c| (c.file.as_str(), c.id.as_str())),
        ));
        place(&mut problems, sources);
        Problems::or_ok(problems, Self { checks })
    }

    /// The check with this ID.
    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Runs every example and counterexample, resolves every requirement ID, and
    /// runs the noise corpus against every check.
    pub fn verify(&self, registry: &Registry, noise: &[Facts]) -> Result<Verified, Problems> {
        let mut problems = Vec::new();
        let mut v = Verified {
            checks: self.checks.len(),
            files: self
                .checks
                .iter()
                .map(|c| c.file.as_str())
                .collect::<BTreeSet<_>>()
                .len(),
            examples: 0,
            counterexamples: 0,
        };
        for c in &self.checks {
            let mut at = |message: String| {
                problems.push(Problem::in_rule(c.file.as_str(), c.id.as_str(), message));
            };
            for r in &c.requirements {
                if registry.get(&r.framework, &r.id).is_none() {
                    at(format!(
                        "requirement \"{}:{}\" is in no registry",
                        r.framework, r.id
                    ));
                }
            }
            for (i, x) in c.examples.iter().enumerate() {
                v.examples += 1;
                if !c.fires(&x.fields) {
                    at(format!("example {} does not fire", i + 1));
                } else if let Some(want) = &x.detail {
                    let got = c.detail_for(&x.fields);
                    if !got.contains(want.as_str()) {
                        at(format!("example {}: detail {got:?} lacks {want:?}", i + 1));
                    }
                }
            }
            for (i, x) in c.counterexamples.iter().enumerate() {
                v.counterexamples += 1;
                if c.fires(&x.fields) {
                    at(format!("counterexample {} fires", i + 1));
                }
            }
            for (i, n) in noise.iter().enumerate() {
                if c.fires(n) {
                    at(format!("noise sample {} fires it", i + 1));
                }
            }
        }
        Problems::or_ok(problems, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str, text: &str) -> Result<CheckSet, Problems> {
        CheckSet::from_sources(&crate::rulefile::replacing(FOLDER, BUILTIN, name, text))
    }

    fn text_of(name: &str) -> &'static str {
        crate::rulefile::shipped_text(BUILTIN, name)
    }

    #[test]
    fn the_shipped_checks_hold_their_examples_and_ignore_the_noise() {
        let set = CheckSet::builtin().expect("checks load");
        let registry = Registry::builtin().expect("registries");
        let noise = crate::noise::builtin().expect("noise corpus");
        assert!(noise.len() >= 5);
        let v = set.verify(&registry, &noise).expect("verify");
        assert!(v.checks >= 20, "{v:?}");
        for id in [
            "remote-access.rdp-exposed",
            "tls.legacy-protocol",
            "service.telnet",
            "smb.v1-enabled",
            "snmp.default-community",
            "vpn.gateway-exposed",
            "dicom.reachable",
        ] {
            assert!(set.get(id).is_some(), "{id}");
        }
    }

    #[test]
    fn the_builtin_list_names_every_file_in_the_rules_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/checks");
        crate::rulefile::assert_lists_folder(BUILTIN, "checks");
        let loaded = CheckSet::load_dir(&dir).expect("folder");
        assert_eq!(
            loaded.checks.len(),
            CheckSet::builtin().expect("b").checks.len()
        );
    }

    #[test]
    fn an_example_that_does_not_fire_and_an_unknown_requirement_are_named() {
        let text = text_of("services.toml").replacen(
            "\"mhlw-checklist-r7:2-⑫\"",
            "\"mhlw-checklist-r7:2-⑭\"",
            1,
        );
        let set = with("services.toml", &text).expect("parses");
        let problems = set
            .verify(&Registry::builtin().expect("r"), &[])
            .expect_err("unresolved");
        assert!(problems.mention("2-⑭"), "{problems}");
        let text =
            text_of("services.toml").replacen("any_of = [\"telnet\"]", "any_of = [\"telnetx\"]", 1);
        let set = with("services.toml", &text).expect("parses");
        let problems = set
            .verify(&Registry::builtin().expect("r"), &[])
            .expect_err("example");
        assert!(
            problems.mention("rule service.telnet: example 1 does not fire"),
            "{problems}"
        );
    }

    #[test]
    fn unknown_keys_and_fields_are_refused_with_the_check_named() {
        let text = text_of("services.toml").replacen("severity =", "severty =", 1);
        let problems = with("services.toml", &text).expect_err("unknown key");
        assert!(problems.mention("severty"), "{problems}");
        let text =
            text_of("services.toml").replacen("field = \"service\"", "field = \"servcie\"", 1);
        let problems = with("services.toml", &text).expect_err("unknown field");
        assert!(problems.mention("servcie"), "{problems}");
    }

    #[test]
    fn a_fact_no_probe_writes_is_refused_with_file_line_and_fact() {
        // The rule and its own example share the typo: only the registry catches it.
        let text = text_of("services.toml").replace("\"smb.smb1\"", "\"smb.smbv1\"");
        let problems = with("services.toml", &text).expect_err("unregistered fact");
        let p = problems
            .iter()
            .find(|p| p.message.contains("smb.smbv1"))
            .unwrap_or_else(|| panic!("{problems}"));
        assert_eq!(p.file, "checks/services.toml");
        assert_eq!(p.rule.as_deref(), Some("smb.v1-enabled"));
        assert!(p.message.contains("no probe writes"), "{p}");
        let line = p.line.expect("placed on a line");
        let at = text.lines().nth(line - 1).unwrap_or_default();
        assert!(at.contains("smb.smbv1"), "line {line}: {at}");
    }
}
