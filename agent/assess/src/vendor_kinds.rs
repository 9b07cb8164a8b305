//! Device kinds from MAC vendors: `rules/mac-vendors.toml`, regexes over the IEEE
//! registry's organisation name, each with examples and counterexamples that
//! [`VendorKinds::verify`] checks.

use regex::Regex;
use serde::Deserialize;

use crate::kind::DeviceKind;

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
    /// Parses a rule file; every problem is named.
    pub fn parse(text: &str) -> Result<Self, Vec<String>> {
        let file: File = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        let mut problems = Vec::new();
        let mut rules = Vec::new();
        for (i, r) in file.vendor.into_iter().enumerate() {
            let at = format!("vendor rule {}", i + 1);
            let kind = DeviceKind::parse(&r.kind);
            let regex = Regex::new(&r.regex);
            match (kind, regex) {
                (Some(kind), Ok(regex)) => rules.push(VendorRule {
                    kind,
                    regex,
                    examples: r.example,
                    counterexamples: r.counterexample,
                }),
                (k, re) => {
                    if k.is_none() {
                        problems.push(format!("{at}: unknown kind {:?}", r.kind));
                    }
                    if let Err(e) = re {
                        problems.push(format!("{at}: bad regex: {e}"));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(Self { rules })
        } else {
            Err(problems)
        }
    }

    /// The shipped rules.
    pub fn builtin() -> Result<Self, Vec<String>> {
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
    pub fn verify(&self) -> Result<usize, Vec<String>> {
        let mut problems = Vec::new();
        let mut n = 0;
        for r in &self.rules {
            if r.examples.is_empty() {
                problems.push(format!("{} rule: needs an example", r.kind.as_str()));
            }
            for e in &r.examples {
                n += 1;
                if self.kind_of(e) != Some(r.kind) {
                    problems.push(format!("{:?} should be {}", e, r.kind.as_str()));
                }
            }
            for c in &r.counterexamples {
                n += 1;
                if self.kind_of(c) == Some(r.kind) {
                    problems.push(format!("{:?} must not be {}", c, r.kind.as_str()));
                }
            }
        }
        if problems.is_empty() {
            Ok(n)
        } else {
            Err(problems)
        }
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
        assert!(e.iter().any(|p| p.contains("toaster")), "{e:?}");
        assert!(e.iter().any(|p| p.contains("bad regex")), "{e:?}");
    }
}
