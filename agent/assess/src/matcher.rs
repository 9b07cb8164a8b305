//! Conditions over fields, as rules write them: `{ field = "service", any_of = ["telnet"] }`.
//! One matcher tests one field with exactly one operator; a rule's matchers must all
//! hold. Regexes are the `regex` crate's (linear time on hostile banners).

use std::collections::BTreeMap;

use kenshin_probe::observation::{Fact, Facts};
use regex::Regex;
use serde::Deserialize;

use crate::fields::{fact_type, known_field, unknown_field};
use kenshin_probe::facts::FactType;

/// A matcher as written in a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatcher {
    pub field: String,
    /// The field's text equals this (for a list: one element does).
    #[serde(default)]
    pub equals: Option<String>,
    /// The field's text is one of these (for a list: one element is).
    #[serde(default)]
    pub any_of: Option<Vec<String>>,
    /// The field's text matches (for a list: one element does).
    #[serde(default)]
    pub regex: Option<String>,
    /// A number below this.
    #[serde(default)]
    pub below: Option<i64>,
    /// A number at least this.
    #[serde(default)]
    pub at_least: Option<i64>,
    /// A boolean field is this.
    #[serde(default)]
    pub is: Option<bool>,
    /// The field is (true) or is not (false) present; an empty list is not present.
    #[serde(default)]
    pub present: Option<bool>,
}

#[derive(Debug, Clone)]
enum Test {
    Equals(String),
    AnyOf(Vec<String>),
    Regex(Regex),
    Below(i64),
    AtLeast(i64),
    Is(bool),
    Present(bool),
}

/// A checked matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub field: String,
    test: Test,
}

impl Matcher {
    /// Checks the field name and that exactly one operator is given.
    pub fn compile(raw: &RawMatcher) -> Result<Self, String> {
        Self::compile_over(raw, |f| {
            if known_field(f) {
                Ok(())
            } else {
                Err(unknown_field(f))
            }
        })
    }

    /// Like [`Matcher::compile`], over another set of field names (`known` says why a
    /// name is not one of them).
    pub fn compile_over(
        raw: &RawMatcher,
        known: impl Fn(&str) -> Result<(), String>,
    ) -> Result<Self, String> {
        known(&raw.field)?;
        let mut tests = Vec::new();
        if let Some(v) = &raw.equals {
            tests.push(Test::Equals(v.clone()));
        }
        if let Some(v) = &raw.any_of {
            if v.is_empty() {
                return Err(format!("{}: `any_of` is empty", raw.field));
            }
            tests.push(Test::AnyOf(v.clone()));
        }
        if let Some(r) = &raw.regex {
            let re = Regex::new(r).map_err(|e| format!("{}: bad regex {r:?}: {e}", raw.field))?;
            tests.push(Test::Regex(re));
        }
        if let Some(n) = raw.below {
            tests.push(Test::Below(n));
        }
        if let Some(n) = raw.at_least {
            tests.push(Test::AtLeast(n));
        }
        if let Some(b) = raw.is {
            tests.push(Test::Is(b));
        }
        if let Some(b) = raw.present {
            tests.push(Test::Present(b));
        }
        if tests.len() != 1 {
            return Err(format!(
                "{}: give exactly one of equals, any_of, regex, below, at_least, is, present \
                 (found {})",
                raw.field,
                tests.len()
            ));
        }
        Ok(Self {
            field: raw.field.clone(),
            test: tests.remove(0),
        })
    }

    /// True if the fields satisfy this matcher. A missing field satisfies only
    /// `present = false`.
    pub fn holds(&self, fields: &Facts) -> bool {
        let value = fields
            .get(&self.field)
            .filter(|v| !matches!(v, Fact::List(l) if l.is_empty()));
        let Some(value) = value else {
            return matches!(self.test, Test::Present(false));
        };
        let texts = || -> Vec<String> {
            match value {
                Fact::List(l) => l.clone(),
                other => vec![other.as_text()],
            }
        };
        let number = || -> Option<i64> {
            match value {
                Fact::Int(i) => Some(*i),
                Fact::Text(t) => t.trim().parse().ok(),
                _ => None,
            }
        };
        match &self.test {
            Test::Equals(v) => texts().iter().any(|t| t == v),
            Test::AnyOf(vs) => texts().iter().any(|t| vs.contains(t)),
            Test::Regex(re) => texts().iter().any(|t| re.is_match(t)),
            Test::Below(n) => number().is_some_and(|x| x < *n),
            Test::AtLeast(n) => number().is_some_and(|x| x >= *n),
            Test::Is(b) => match value {
                Fact::Bool(x) => x == b,
                Fact::Text(t) => t == if *b { "true" } else { "false" },
                _ => false,
            },
            Test::Present(b) => *b,
        }
    }
}

/// Compiles a list, naming the first bad matcher.
pub fn compile_all(raw: &[RawMatcher]) -> Result<Vec<Matcher>, String> {
    raw.iter().map(Matcher::compile).collect()
}

/// Fields as an example writes them (strings, integers, booleans, lists of strings);
/// a registered fact must be written with its registered type, as a probe writes it.
pub fn example_fields(raw: &BTreeMap<String, toml::Value>) -> Result<Facts, String> {
    let mut facts = Facts::new();
    for (k, v) in raw {
        if !known_field(k) {
            return Err(format!("example field: {}", unknown_field(k)));
        }
        let fact = match v {
            toml::Value::String(s) => Fact::Text(s.clone()),
            toml::Value::Integer(i) => Fact::Int(*i),
            toml::Value::Boolean(b) => Fact::Bool(*b),
            toml::Value::Array(a) => Fact::List(
                a.iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| format!("example field {k:?}: lists hold strings"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(format!("example field {k:?}: unsupported value {other}")),
        };
        if let Some(want) = fact_type(k).filter(|t| *t != type_of(&fact)) {
            return Err(format!(
                "example field {k:?}: the probes write it as {}, not {}",
                want.as_str(),
                type_of(&fact).as_str()
            ));
        }
        facts.insert(k.clone(), fact);
    }
    Ok(facts)
}

fn type_of(fact: &Fact) -> FactType {
    match fact {
        Fact::Text(_) => FactType::Text,
        Fact::Int(_) => FactType::Int,
        Fact::Bool(_) => FactType::Bool,
        Fact::List(_) => FactType::List,
    }
}

/// Fills `${field}` in a template from the fields (lists joined with ", ", a missing
/// field as `?`).
pub fn render(template: &str, fields: &Facts) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                out.push_str(&match fields.get(name) {
                    Some(Fact::List(l)) => l.join(", "),
                    Some(f) => f.as_text(),
                    None => "?".to_owned(),
                });
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `${field}` names a template uses.
pub fn template_fields(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        names.push(&after[..end]);
        rest = &after[end + 1..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(field: &str, f: impl FnOnce(&mut RawMatcher)) -> Result<Matcher, String> {
        let mut raw = RawMatcher {
            field: field.into(),
            equals: None,
            any_of: None,
            regex: None,
            below: None,
            at_least: None,
            is: None,
            present: None,
        };
        f(&mut raw);
        Matcher::compile(&raw)
    }

    fn facts() -> Facts {
        let mut f = Facts::new();
        f.insert("service".into(), Fact::Text("telnet".into()));
        f.insert("port".into(), Fact::Int(23));
        f.insert("smb.smb1".into(), Fact::Bool(true));
        f.insert(
            "audit.legacy_versions".into(),
            Fact::List(vec!["TLSv1.0".into()]),
        );
        f.insert("audit.suite_flags".into(), Fact::List(vec![]));
        f
    }

    #[test]
    fn each_operator_tests_its_field() {
        let f = facts();
        let holds = |m: Result<Matcher, String>| m.expect("valid").holds(&f);
        assert!(holds(m("service", |r| r.equals = Some("telnet".into()))));
        assert!(holds(m("service", |r| r.any_of =
            Some(vec!["ftp".into(), "telnet".into()]))));
        assert!(holds(m("audit.legacy_versions", |r| r.equals =
            Some("TLSv1.0".into()))));
        assert!(holds(m("port", |r| r.below = Some(1024))));
        assert!(!holds(m("port", |r| r.at_least = Some(1024))));
        assert!(holds(m("smb.smb1", |r| r.is = Some(true))));
        assert!(holds(m("banner", |r| r.present = Some(false))));
        assert!(holds(m("audit.suite_flags", |r| r.present = Some(false))));
        assert!(!holds(m("banner", |r| r.regex = Some(".".into()))));
    }

    #[test]
    fn unknown_fields_and_ambiguous_matchers_are_refused() {
        assert!(m("sevrice", |r| r.equals = Some("x".into()))
            .expect_err("unknown")
            .contains("sevrice"));
        assert!(m("smb.smbv1", |r| r.is = Some(true))
            .expect_err("a fact no probe writes")
            .contains("no probe writes the fact \"smb.smbv1\""));
        assert!(m("service", |_| {})
            .expect_err("none")
            .contains("exactly one"));
        assert!(m("service", |r| {
            r.equals = Some("x".into());
            r.is = Some(true);
        })
        .expect_err("two")
        .contains("found 2"));
        assert!(m("banner", |r| r.regex = Some("(".into()))
            .expect_err("regex")
            .contains("bad regex"));
    }

    #[test]
    fn example_facts_must_have_the_type_the_probes_write() {
        let mut raw = BTreeMap::new();
        raw.insert("smb.smb1".to_owned(), toml::Value::Boolean(true));
        assert!(example_fields(&raw).is_ok());
        raw.insert("smb.smb1".to_owned(), toml::Value::String("true".into()));
        let e = example_fields(&raw).expect_err("a bool fact written as text");
        assert!(e.contains("as bool, not text"), "{e}");
        raw.clear();
        raw.insert("smb.smbv1".to_owned(), toml::Value::Boolean(true));
        let e = example_fields(&raw).expect_err("a fact no probe writes");
        assert!(e.contains("smb.smbv1"), "{e}");
    }

    #[test]
    fn templates_fill_fields_and_name_them() {
        let f = facts();
        assert_eq!(
            render(
                "${service} on ${port}: ${audit.legacy_versions} ${nope}",
                &f
            ),
            "telnet on 23: TLSv1.0 ?"
        );
        assert_eq!(template_fields("a ${x} b ${y.z}"), ["x", "y.z"]);
        assert_eq!(render("no close ${x", &f), "no close ${x");
    }
}
