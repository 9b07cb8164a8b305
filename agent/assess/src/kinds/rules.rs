//! `rules/kinds.toml`: device kinds from what a host shows about itself and what the
//! network shows about it. Each rule names a kind, how sure it makes kenshin, the
//! reason in both languages, matchers over the kind fields ([`super::evidence`]), and
//! examples (field maps it must match) and counterexamples (field maps it must not:
//! other vendors', other distributions', other kinds' evidence).

use std::collections::BTreeMap;

use kenshin_probe::observation::{Fact, Facts};
use serde::Deserialize;

use super::evidence;
use crate::finding::Text;
use crate::kind::{DeviceKind, KindConfidence};
use crate::matcher::{Matcher, RawMatcher};
use crate::rulefile::{duplicate_ids, parse, table_line, ExampleCheck, Problem, Problems, Source};

/// The rules' path in the rules tree.
pub const FILE: &str = "kinds.toml";

/// The shipped rules.
pub const BUILTIN: &str = include_str!("../../../../rules/kinds.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    kind: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    kind: String,
    confidence: String,
    reason: Text,
    #[serde(rename = "match")]
    matchers: Vec<RawMatcher>,
    example: Vec<BTreeMap<String, toml::Value>>,
    #[serde(default)]
    counterexample: Vec<BTreeMap<String, toml::Value>>,
}

/// One kind rule.
#[derive(Debug, Clone)]
pub struct KindRule {
    pub id: String,
    pub kind: DeviceKind,
    pub confidence: KindConfidence,
    /// Why, in words; `${field}` is filled from the host's fields.
    pub reason: Text,
    /// The line of its `[[kind]]` header.
    pub line: Option<usize>,
    matchers: Vec<Matcher>,
    pub examples: Vec<Facts>,
    pub counterexamples: Vec<Facts>,
}

impl KindRule {
    /// True if every matcher holds.
    pub fn holds(&self, fields: &Facts) -> bool {
        self.matchers.iter().all(|m| m.holds(fields))
    }
}

/// Every kind rule, in file order.
#[derive(Debug, Clone)]
pub struct KindRules {
    pub rules: Vec<KindRule>,
}

/// An example's fields: strings, integers and lists of strings.
fn example_fields(raw: &BTreeMap<String, toml::Value>) -> Result<Facts, String> {
    let mut facts = Facts::new();
    for (k, v) in raw {
        evidence::known(k)?;
        let fact = match v {
            toml::Value::String(s) => Fact::Text(s.clone()),
            toml::Value::Integer(i) => Fact::Int(*i),
            toml::Value::Array(a) => Fact::List(
                a.iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| format!("field {k:?}: lists hold strings"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(format!("field {k:?}: unsupported value {other}")),
        };
        facts.insert(k.clone(), fact);
    }
    Ok(facts)
}

impl KindRules {
    /// Parses a rule file; every problem is named by its rule and line.
    pub fn parse(text: &str) -> Result<Self, Problems> {
        let source = Source {
            path: FILE.to_owned(),
            text: text.to_owned(),
        };
        let file: File = parse(&source)?;
        let mut problems = duplicate_ids(file.kind.iter().map(|r| (FILE, r.id.as_str())));
        let mut rules = Vec::new();
        for (i, r) in file.kind.into_iter().enumerate() {
            let line = table_line(text, "[[kind]]", i);
            let mut at = |m: String| {
                problems.push(Problem {
                    line,
                    ..Problem::in_rule(FILE, r.id.clone(), m)
                });
            };
            let kind = DeviceKind::parse(&r.kind).filter(|k| *k != DeviceKind::Unknown);
            if kind.is_none() {
                at(format!("unknown kind {:?}", r.kind));
            }
            let confidence = KindConfidence::parse(&r.confidence);
            if confidence.is_none() {
                at(format!(
                    "unknown confidence {:?} (confirmed, likely or potential)",
                    r.confidence
                ));
            }
            if r.matchers.is_empty() {
                at("match: needs at least one matcher".into());
            }
            let matchers: Result<Vec<Matcher>, String> = r
                .matchers
                .iter()
                .map(|m| Matcher::compile_over(m, evidence::known))
                .collect();
            let matchers = matchers.map_err(|e| at(format!("match: {e}"))).ok();
            for name in crate::matcher::template_fields(&r.reason.en)
                .into_iter()
                .chain(crate::matcher::template_fields(&r.reason.ja))
            {
                if let Err(e) = evidence::known(name) {
                    at(format!("reason: {e}"));
                }
            }
            let mut examples = |raw: &[BTreeMap<String, toml::Value>], what: &str| {
                raw.iter()
                    .enumerate()
                    .filter_map(|(n, e)| {
                        example_fields(e)
                            .map_err(|m| at(format!("{what} {}: {m}", n + 1)))
                            .ok()
                    })
                    .collect::<Vec<_>>()
            };
            let ex = examples(&r.example, "example");
            let counter = examples(&r.counterexample, "counterexample");
            if let (Some(kind), Some(confidence), Some(matchers)) = (kind, confidence, matchers) {
                rules.push(KindRule {
                    id: r.id,
                    kind,
                    confidence,
                    reason: r.reason,
                    line,
                    matchers,
                    examples: ex,
                    counterexamples: counter,
                });
            }
        }
        Problems::or_ok(problems, Self { rules })
    }

    /// The shipped rules.
    pub fn builtin() -> Result<Self, Problems> {
        Self::parse(BUILTIN)
    }

    /// The rules that hold for these fields.
    pub fn matching<'a>(&'a self, fields: &'a Facts) -> impl Iterator<Item = &'a KindRule> + 'a {
        self.rules.iter().filter(move |r| r.holds(fields))
    }

    /// Checks that every rule has an example, that each example matches its rule and
    /// each counterexample does not; returns the number checked.
    pub fn verify(&self) -> Result<usize, Problems> {
        let mut problems = Vec::new();
        let mut n = 0;
        for r in &self.rules {
            n += ExampleCheck {
                examples: &r.examples,
                counterexamples: &r.counterexamples,
                holds: |e| r.holds(e),
                missed: |i, _| format!("example {i} does not match"),
                matched: |i, _| format!("counterexample {i} matches"),
                counterexample_required: true,
            }
            .run(|m| {
                problems.push(Problem {
                    line: r.line,
                    ..Problem::in_rule(FILE, r.id.clone(), m)
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
    fn the_shipped_kind_rules_hold_their_examples_and_counterexamples() {
        let rules = KindRules::builtin().expect("parses");
        assert!(rules.verify().expect("examples hold") >= 30);
        assert!(rules.rules.len() >= 10);
    }

    #[test]
    fn a_bad_kind_field_confidence_and_a_failing_example_are_named() {
        let e = KindRules::parse(
            "[[kind]]\nid = \"x\"\nkind = \"toaster\"\nconfidence = \"sure\"\n\
             reason = { ja = \"j\", en = \"e\" }\nmatch = [{ field = \"host.os\", equals = \"a\" }]\n\
             example = [{ os = \"a\" }]\n",
        )
        .expect_err("bad");
        assert!(
            e.mention("kinds.toml:1: rule x: unknown kind \"toaster\""),
            "{e}"
        );
        assert!(e.mention("unknown confidence \"sure\""), "{e}");
        assert!(e.mention("unknown field \"host.os\""), "{e}");
        let rules = KindRules::parse(
            "[[kind]]\nid = \"x\"\nkind = \"server\"\nconfidence = \"likely\"\n\
             reason = { ja = \"j\", en = \"e\" }\nmatch = [{ field = \"os\", equals = \"Linux\" }]\n\
             example = [{ os = \"FreeBSD\" }]\ncounterexample = [{ os = [\"Linux\"] }]\n",
        )
        .expect("parses");
        let e = rules.verify().expect_err("fails");
        assert!(e.mention("example 1 does not match"), "{e}");
        assert!(e.mention("counterexample 1 matches"), "{e}");
    }
}
