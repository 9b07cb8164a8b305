//! Requirement registries (`rules/requirements/*.toml`): each framework's IDs as its
//! source prints them, kenshin's own short paraphrase in Japanese and English, what
//! can evidence each item (a scan, a host check, or only documents), whether the
//! reference could confirm it, and which item of another edition it maps to.
//!
//! A framework is one file named after its ID. Editions are data: a new edition is a
//! new file whose items (or the old edition's items) say what they map to.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::rulefile::{place, Problem, Problems, Source, USED_TWICE};

/// The registries' folder in the rules tree.
pub const FOLDER: &str = "requirements";

/// The shipped registries, as (file name, text).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "ipa-tls-guideline.toml",
        include_str!("../../../rules/requirements/ipa-tls-guideline.toml"),
    ),
    (
        "mhlw-checklist-r6.toml",
        include_str!("../../../rules/requirements/mhlw-checklist-r6.toml"),
    ),
    (
        "mhlw-checklist-r7.toml",
        include_str!("../../../rules/requirements/mhlw-checklist-r7.toml"),
    ),
    (
        "mhlw-guideline-6.0.toml",
        include_str!("../../../rules/requirements/mhlw-guideline-6.0.toml"),
    ),
    (
        "mhlw-notice-2022-11-10.toml",
        include_str!("../../../rules/requirements/mhlw-notice-2022-11-10.toml"),
    ),
    (
        "mhlw-notice-2024-08-01.toml",
        include_str!("../../../rules/requirements/mhlw-notice-2024-08-01.toml"),
    ),
    (
        "provider-guideline.toml",
        include_str!("../../../rules/requirements/provider-guideline.toml"),
    ),
];

/// What can show that an item is met or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// A network scan.
    Network,
    /// A check on the host itself.
    Host,
    /// A scan gives a signal; the item is mostly process or paperwork.
    Partial,
    /// Only document review.
    Document,
}

/// A framework: one checklist, guideline or notice, in one edition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// `mhlw-checklist-r7`, `mhlw-guideline-6.0` …
    pub id: String,
    pub title_ja: String,
    pub title_en: String,
    pub edition: String,
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// One item of a framework.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// As the source prints it: `2-⑥`, `システム運用編 13⑪`.
    pub id: String,
    /// The forms that ask it (`医療機関確認用`, `事業者確認用`).
    #[serde(default)]
    pub forms: Vec<String>,
    pub ja: String,
    pub en: String,
    pub evidence: Vec<Evidence>,
    /// The reference could not confirm the number or the item in the primary text.
    #[serde(default)]
    pub unconfirmed: bool,
    /// Items of other frameworks this one corresponds to, as `framework:id`.
    #[serde(default)]
    pub maps_to: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    framework: Framework,
    requirement: Vec<Requirement>,
}

/// Every framework loaded, in file-name order.
#[derive(Debug, Clone)]
pub struct Registry {
    pub frameworks: Vec<(Framework, Vec<Requirement>)>,
}

/// What `rules verify` reports about the registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub frameworks: usize,
    pub requirements: usize,
    pub unconfirmed: usize,
    pub mappings: usize,
}

impl Registry {
    /// The shipped registries.
    pub fn builtin() -> Result<Self, Problems> {
        Self::from_sources(&crate::rulefile::owned(FOLDER, BUILTIN))
    }

    /// Every `*.toml` in `dir` (the rules tree's `requirements/`).
    pub fn load_dir(dir: &Path) -> Result<Self, Problems> {
        Self::from_sources(&crate::rulefile::read_toml_dir(dir, FOLDER)?)
    }

    /// Parses and checks files in path order; every problem is named by file, line and
    /// item.
    pub fn from_sources(sources: &[Source]) -> Result<Self, Problems> {
        let mut problems = Vec::new();
        let mut frameworks = Vec::new();
        let mut paths = Vec::new();
        let mut sorted: Vec<&Source> = sources.iter().collect();
        sorted.sort();
        for source in sorted {
            let name = source.path.as_str();
            let file: File = match crate::rulefile::parse(source) {
                Ok(f) => f,
                Err(p) => {
                    problems.push(p);
                    continue;
                }
            };
            let id = &file.framework.id;
            if !crate::rulefile::valid_slug(id) {
                problems.push(Problem::in_rule(
                    name,
                    id.as_str(),
                    "a framework ID is lower-case letters, digits, '-' and '.'",
                ));
            }
            let stem = Path::new(name).file_stem().and_then(|s| s.to_str());
            if stem != Some(id.as_str()) {
                problems.push(Problem::in_rule(
                    name,
                    id.as_str(),
                    format!("the file must be named {id}.toml"),
                ));
            }
            let mut seen = BTreeSet::new();
            for r in &file.requirement {
                let at = |m: &str| Problem::in_rule(name, r.id.as_str(), m);
                if !seen.insert(r.id.clone()) {
                    problems.push(at(USED_TWICE));
                }
                if r.ja.trim().is_empty() || r.en.trim().is_empty() {
                    problems.push(at("needs both `ja` and `en`"));
                }
                if r.evidence.is_empty() {
                    problems.push(at("`evidence` is empty"));
                }
            }
            paths.push(name.to_owned());
            frameworks.push((file.framework, file.requirement));
        }
        let ids: BTreeSet<(String, String)> = frameworks
            .iter()
            .flat_map(|(f, rs)| rs.iter().map(move |r| (f.id.clone(), r.id.clone())))
            .collect();
        for (path, (_, rs)) in paths.iter().zip(&frameworks) {
            for r in rs {
                for target in &r.maps_to {
                    let resolves = target
                        .split_once(':')
                        .is_some_and(|(fw, id)| ids.contains(&(fw.to_owned(), id.to_owned())));
                    if !resolves {
                        problems.push(Problem::in_rule(
                            path.as_str(),
                            r.id.as_str(),
                            format!(
                                "maps to {target:?}, which no registry defines (write framework:id)"
                            ),
                        ));
                    }
                }
            }
        }
        let mut seen_frameworks = BTreeSet::new();
        for (path, (f, _)) in paths.iter().zip(&frameworks) {
            if !seen_frameworks.insert(f.id.clone()) {
                problems.push(Problem::in_rule(
                    path.as_str(),
                    f.id.as_str(),
                    "the framework is defined twice",
                ));
            }
        }
        place(&mut problems, sources);
        Problems::or_ok(problems, Self { frameworks })
    }

    /// The requirement `id` of `framework`.
    pub fn get(&self, framework: &str, id: &str) -> Option<&Requirement> {
        self.frameworks
            .iter()
            .find(|(f, _)| f.id == framework)
            .and_then(|(_, rs)| rs.iter().find(|r| r.id == id))
    }

    /// Counts for `rules verify`.
    pub fn verified(&self) -> Verified {
        let all = || self.frameworks.iter().flat_map(|(_, rs)| rs);
        Verified {
            frameworks: self.frameworks.len(),
            requirements: all().count(),
            unconfirmed: all().filter(|r| r.unconfirmed).count(),
            mappings: all().map(|r| r.maps_to.len()).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str, text: &str) -> Result<Registry, Problems> {
        Registry::from_sources(&crate::rulefile::replacing(FOLDER, BUILTIN, name, text))
    }

    fn builtin_text(name: &str) -> &'static str {
        crate::rulefile::shipped_text(BUILTIN, name)
    }

    #[test]
    fn the_shipped_registries_load_and_every_mapping_resolves() {
        let r = Registry::builtin().expect("registries");
        let v = r.verified();
        assert_eq!(v.frameworks, 7);
        assert!(v.requirements >= 60 && v.mappings >= 25, "{v:?}");
        let item = r.get("mhlw-checklist-r7", "2-⑥").expect("2-⑥");
        assert_eq!(item.evidence, [Evidence::Network, Evidence::Host]);
        assert!(!item.unconfirmed);
        assert!(r
            .get("mhlw-checklist-r7", "2-⑩")
            .is_some_and(|i| i.unconfirmed));
        let old = r.get("mhlw-checklist-r6", "2-(8)").expect("2-(8)");
        assert_eq!(old.maps_to, ["mhlw-checklist-r7:2-⑬"]);
        let tls = r.get("mhlw-guideline-6.0", "TLS Q&A").expect("TLS Q&A");
        assert_eq!(tls.maps_to, ["ipa-tls-guideline:高セキュリティ型"]);
    }

    #[test]
    fn the_builtin_list_names_every_file_in_the_rules_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/requirements");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("rules/requirements")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        files.sort();
        let builtin: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        assert_eq!(files, builtin);
        let loaded = Registry::load_dir(&dir).expect("the folder loads");
        assert_eq!(
            loaded.verified(),
            Registry::builtin().expect("builtin").verified()
        );
    }

    #[test]
    fn a_mapping_to_an_item_no_registry_defines_is_named() {
        let text = builtin_text("mhlw-checklist-r6.toml").replacen(
            "mhlw-checklist-r7:2-⑬",
            "mhlw-checklist-r7:2-⑭",
            1,
        );
        let problems = with("mhlw-checklist-r6.toml", &text).expect_err("unresolved");
        let p = problems
            .iter()
            .find(|p| p.message.contains("2-⑭"))
            .unwrap_or_else(|| panic!("{problems}"));
        assert_eq!(p.rule.as_deref(), Some("2-(8)"), "{p}");
        assert_eq!(p.file, "requirements/mhlw-checklist-r6.toml", "{p}");
        let line = p.line.expect("placed");
        assert!(
            text.lines()
                .nth(line - 1)
                .is_some_and(|l| l.contains("2-⑭")),
            "{p}"
        );
    }

    #[test]
    fn a_duplicate_id_an_unknown_key_and_a_misnamed_file_are_named() {
        let text =
            builtin_text("mhlw-checklist-r7.toml").replacen("id = \"2-⑦\"", "id = \"2-⑥\"", 1);
        let problems = with("mhlw-checklist-r7.toml", &text).expect_err("duplicate");
        assert!(
            problems.mention("rule 2-⑥: the ID is used twice"),
            "{problems}"
        );
        let text = builtin_text("mhlw-checklist-r7.toml").replacen(
            "\nunconfirmed = true",
            "\nunconfrimed = true",
            1,
        );
        let problems = with("mhlw-checklist-r7.toml", &text).expect_err("unknown key");
        assert!(problems.mention("unconfrimed"), "{problems}");
        let problems =
            with("checklist.toml", builtin_text("mhlw-checklist-r7.toml")).expect_err("name");
        assert!(
            problems.mention("must be named mhlw-checklist-r7.toml"),
            "{problems}"
        );
    }
}
