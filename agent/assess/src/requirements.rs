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
    pub fn builtin() -> Result<Self, Vec<String>> {
        Self::from_sources(crate::rulefile::owned(BUILTIN))
    }

    /// Every `*.toml` in `dir`.
    pub fn load_dir(dir: &Path) -> Result<Self, Vec<String>> {
        Self::from_sources(crate::rulefile::read_toml_dir(dir)?)
    }

    /// Parses and checks files given as (name, text); every problem is named by file.
    pub fn from_sources(mut sources: Vec<(String, String)>) -> Result<Self, Vec<String>> {
        sources.sort();
        let mut problems = Vec::new();
        let mut frameworks = Vec::new();
        for (name, text) in &sources {
            let file: File = match toml::from_str(text) {
                Ok(f) => f,
                Err(e) => {
                    problems.push(format!("{name}: {e}"));
                    continue;
                }
            };
            let id = &file.framework.id;
            if !crate::rulefile::valid_slug(id) {
                problems.push(format!(
                    "{name}: framework ID {id:?} must be lower-case letters, digits, '-' and '.'"
                ));
            }
            if name.strip_suffix(".toml") != Some(id.as_str()) {
                problems.push(format!("{name}: the file must be named {id}.toml"));
            }
            let mut seen = BTreeSet::new();
            for r in &file.requirement {
                let at = format!("{name}: {:?}", r.id);
                if !seen.insert(r.id.clone()) {
                    problems.push(format!("{at}: the ID is used twice"));
                }
                if r.ja.trim().is_empty() || r.en.trim().is_empty() {
                    problems.push(format!("{at}: needs both `ja` and `en`"));
                }
                if r.evidence.is_empty() {
                    problems.push(format!("{at}: `evidence` is empty"));
                }
            }
            frameworks.push((file.framework, file.requirement));
        }
        let ids: BTreeSet<(String, String)> = frameworks
            .iter()
            .flat_map(|(f, rs)| rs.iter().map(move |r| (f.id.clone(), r.id.clone())))
            .collect();
        for (f, rs) in &frameworks {
            for r in rs {
                for target in &r.maps_to {
                    let resolves = target
                        .split_once(':')
                        .is_some_and(|(fw, id)| ids.contains(&(fw.to_owned(), id.to_owned())));
                    if !resolves {
                        problems.push(format!(
                            "{}.toml: {:?} maps to {target:?}, which no registry defines \
                             (write framework:id)",
                            f.id, r.id
                        ));
                    }
                }
            }
        }
        let mut seen_frameworks = BTreeSet::new();
        for (f, _) in &frameworks {
            if !seen_frameworks.insert(f.id.clone()) {
                problems.push(format!("framework {} is defined twice", f.id));
            }
        }
        if problems.is_empty() {
            Ok(Self { frameworks })
        } else {
            Err(problems)
        }
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

    fn with(name: &str, text: &str) -> Result<Registry, Vec<String>> {
        Registry::from_sources(crate::rulefile::replacing(BUILTIN, name, text))
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
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"2-(8)\"") && p.contains("2-⑭")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_duplicate_id_an_unknown_key_and_a_misnamed_file_are_named() {
        let text =
            builtin_text("mhlw-checklist-r7.toml").replacen("id = \"2-⑦\"", "id = \"2-⑥\"", 1);
        let problems = with("mhlw-checklist-r7.toml", &text).expect_err("duplicate");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"2-⑥\": the ID is used twice")),
            "{problems:?}"
        );
        let text = builtin_text("mhlw-checklist-r7.toml").replacen(
            "\nunconfirmed = true",
            "\nunconfrimed = true",
            1,
        );
        let problems = with("mhlw-checklist-r7.toml", &text).expect_err("unknown key");
        assert!(
            problems.iter().any(|p| p.contains("unconfrimed")),
            "{problems:?}"
        );
        let problems =
            with("checklist.toml", builtin_text("mhlw-checklist-r7.toml")).expect_err("name");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("must be named mhlw-checklist-r7.toml")),
            "{problems:?}"
        );
    }
}
