//! Device kinds from what hosts said while kenshin listened: `rules/passive.toml`,
//! one rule per statement key and value pattern, each with its reason, examples and
//! counterexamples that [`PassiveKinds::verify`] checks.
//!
//! The statements come from `kenshin_probe::listen` ([`Said`]); the kind a rule gives
//! is a class hint known before the first probe.

use kenshin_probe::listen::Said;
use regex::Regex;
use serde::Deserialize;

use crate::kind::DeviceKind;
use crate::rulefile::{parse, table_line, ExampleCheck, Problem, Problems, Source};

/// The rules' path in the rules tree.
pub const FILE: &str = "passive.toml";

/// The shipped rules.
pub const BUILTIN: &str = include_str!("../../../rules/passive.toml");

/// Statement keys a rule may read: what `kenshin_probe::listen::census` writes.
pub const KEYS: [&str; 21] = [
    "dhcp.hostname",
    "dhcp.vendor_class",
    "dhcp.fingerprint",
    "lldp.system_name",
    "lldp.system_description",
    "lldp.capability",
    "lldp.enabled",
    "cdp.device_id",
    "cdp.platform",
    "cdp.software",
    "cdp.capability",
    "mdns.service",
    "mdns.instance",
    "mdns.hostname",
    "mdns.model",
    "mdns.hinfo",
    "ssdp.server",
    "ssdp.type",
    "ssdp.location",
    "nbns.name",
    "ndp.router",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    hint: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    kind: String,
    key: String,
    regex: String,
    why: String,
    example: Vec<String>,
    #[serde(default)]
    counterexample: Vec<String>,
}

/// One rule.
#[derive(Debug, Clone)]
pub struct PassiveRule {
    pub id: String,
    pub kind: DeviceKind,
    pub key: String,
    pub why: String,
    /// The line of its `[[hint]]` header.
    pub line: Option<usize>,
    regex: Regex,
    pub examples: Vec<String>,
    pub counterexamples: Vec<String>,
}

/// A class hint: the kind a host's statements point to, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassHint {
    pub kind: DeviceKind,
    /// The rule's id.
    pub rule: String,
    /// `lldp.enabled telephone: LLDP says … (passive.lldp-telephone)`.
    pub reason: String,
}

/// Every rule, in file order.
#[derive(Debug, Clone)]
pub struct PassiveKinds {
    pub rules: Vec<PassiveRule>,
}

impl PassiveKinds {
    /// Parses a rule file; every problem is named by its line.
    pub fn parse(text: &str) -> Result<Self, Problems> {
        let source = Source {
            path: FILE.to_owned(),
            text: text.to_owned(),
        };
        let file: File = parse(&source)?;
        let mut problems = Vec::new();
        let mut rules: Vec<PassiveRule> = Vec::new();
        for (i, r) in file.hint.into_iter().enumerate() {
            let line = table_line(text, "[[hint]]", i);
            let mut at = |m: String| {
                problems.push(Problem {
                    line,
                    ..Problem::in_rule(FILE, r.id.clone(), m)
                });
            };
            if rules.iter().any(|x| x.id == r.id) {
                at(format!("id {:?} is used twice", r.id));
            }
            if !KEYS.contains(&r.key.as_str()) {
                at(format!(
                    "unknown key {:?} (one of: {})",
                    r.key,
                    KEYS.join(", ")
                ));
            }
            let kind = DeviceKind::parse(&r.kind);
            if kind.is_none() {
                at(format!("unknown kind {:?}", r.kind));
            }
            let regex = Regex::new(&r.regex);
            if let Err(e) = &regex {
                at(format!("bad regex: {e}"));
            }
            if let (Some(kind), Ok(regex)) = (kind, regex) {
                rules.push(PassiveRule {
                    id: r.id,
                    kind,
                    key: r.key,
                    why: r.why,
                    line,
                    regex,
                    examples: r.example,
                    counterexamples: r.counterexample,
                });
            }
        }
        Problems::or_ok(problems, Self { rules })
    }

    /// The shipped rules.
    pub fn builtin() -> Result<Self, Problems> {
        Self::parse(BUILTIN)
    }

    /// The first rule, in file order, that one of `said` matches.
    pub fn hint(&self, said: &[Said]) -> Option<ClassHint> {
        self.rules.iter().find_map(|r| {
            said.iter()
                .find(|s| s.key == r.key && r.regex.is_match(&s.value))
                .map(|s| ClassHint {
                    kind: r.kind,
                    rule: r.id.clone(),
                    reason: format!("{} {}: {} ({})", s.key, s.value, r.why, r.id),
                })
        })
    }

    /// Checks every example (its rule gives its kind for it) and counterexample (its
    /// rule stays silent); returns how many were checked.
    pub fn verify(&self) -> Result<usize, Problems> {
        let mut problems = Vec::new();
        let mut n = 0;
        for r in &self.rules {
            n += ExampleCheck {
                examples: &r.examples,
                counterexamples: &r.counterexamples,
                holds: |e: &String| r.regex.is_match(e),
                missed: |_, e| format!("example {e:?} does not match"),
                matched: |_, c| format!("counterexample {c:?} matches"),
                counterexample_required: false,
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
    use kenshin_probe::observation::DiscoveryMethod;

    use super::*;

    fn said(source: DiscoveryMethod, key: &'static str, value: &str) -> Said {
        Said {
            source,
            key,
            value: value.to_owned(),
        }
    }

    #[test]
    fn the_shipped_passive_rules_hold_their_examples() {
        let k = PassiveKinds::builtin().expect("parses");
        assert!(k.verify().expect("examples hold") >= 20);
    }

    #[test]
    fn an_ipp_announcement_makes_a_printer_and_says_which_rule() {
        let k = PassiveKinds::builtin().expect("parses");
        let hint = k
            .hint(&[
                said(
                    DiscoveryMethod::Mdns,
                    "mdns.hostname",
                    "ward3-printer.local",
                ),
                said(DiscoveryMethod::Mdns, "mdns.service", "_ipp._tcp.local"),
            ])
            .expect("a hint");
        assert_eq!(hint.kind, DeviceKind::Printer);
        assert_eq!(hint.rule, "passive.mdns-printer");
        assert!(
            hint.reason.starts_with("mdns.service _ipp._tcp.local: "),
            "{}",
            hint.reason
        );
    }

    #[test]
    fn a_medical_description_outranks_a_router_capability_by_file_order() {
        let k = PassiveKinds::builtin().expect("parses");
        let hint = k
            .hint(&[
                said(DiscoveryMethod::Lldp, "lldp.enabled", "router"),
                said(
                    DiscoveryMethod::Lldp,
                    "lldp.system_description",
                    "KenshinLab infusion gateway",
                ),
            ])
            .expect("a hint");
        assert_eq!(hint.kind, DeviceKind::MedicalDevice);
    }

    #[test]
    fn a_host_that_said_nothing_telling_gets_no_hint() {
        let k = PassiveKinds::builtin().expect("parses");
        assert_eq!(
            k.hint(&[said(DiscoveryMethod::Lldp, "lldp.enabled", "station-only")]),
            None
        );
    }

    #[test]
    fn an_unknown_key_kind_and_a_failing_example_are_named_with_their_line() {
        let e = PassiveKinds::parse(
            "[[hint]]\nid = \"x\"\nkind = \"toaster\"\nkey = \"lldp.colour\"\nregex = \"^a$\"\n\
             why = \"w\"\nexample = [\"a\"]\n",
        )
        .expect_err("bad");
        assert!(e.mention("unknown kind \"toaster\""), "{e}");
        assert!(e.mention("unknown key \"lldp.colour\""), "{e}");
        let k = PassiveKinds::parse(
            "[[hint]]\nid = \"y\"\nkind = \"iot\"\nkey = \"ndp.router\"\nregex = \"^yes$\"\n\
             why = \"w\"\nexample = [\"no\"]\n",
        )
        .expect("parses");
        let e = k.verify().expect_err("the example fails");
        assert!(e.mention("passive.toml:1"), "{e}");
        assert!(e.mention("example \"no\" does not match"), "{e}");
    }
}
